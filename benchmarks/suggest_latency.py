"""Latency of ONE suggestion (GP fit + acquisition maximization), gpu_bo vs peers on the same data.

Protocol, for every cell ``(n, d, q)`` of the grid and every method:

1. ``n`` observations of a smooth test function at uniform random points of ``[0, 1]^d`` (the
   same points and values for every method) are given to the method without suggesting.
2. ``repeats`` consecutive suggestions of ``q`` points are timed. Each timed step is
   ``tell(the newest observations) + ask(q)``: scikit-optimize-style peers do their work in
   ``tell``, the others in ``ask``; after the first step the newest observations are the
   previous step's suggestions, evaluated, so warm starts apply to every method alike.
3. The cell reports the median (and IQR) of the steps. A method whose step exceeds the time
   cap stops there and is recorded as ``> cap``; larger ``n`` at the same ``(d, q)`` are then
   not attempted (also ``> cap``).

Methods: gpu_bo with 1 CPU thread (its own policy for n <= 2000) and with torch's default thread
count; Optuna's GPSampler (CPU only; it pins torch to 1 thread itself during its fit and
optimization, optuna/_gp/thread_limiting.py; q > 1 = q successive asks with the earlier ones
running); the textbook BoTorch loop (SingleTaskGP + LogEI/qLogEI + optimize_acqf, 10 restarts,
512 raw samples) with torch's default threads and with 1 thread. With CUDA present, gpu_bo and
the BoTorch loop also run on the GPU.

Outputs (``--out``, default benchmarks/results/): ``suggest_latency.json`` and
``suggest_latency.md``.

Usage::

    python benchmarks/suggest_latency.py --quick   # issue 2's grid, 3 steps per cell, ~5-6 min
    python benchmarks/suggest_latency.py           # the same grid, 7 steps per cell
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    PeakMemory, add_timing_args, fmt_seconds, markdown_table, median_iqr, run_header,
    write_json, write_text,
)
from benchmarks.peers import available, make_method  # noqa: E402
from benchmarks.problems import smooth_test_function, unit_cube_space  # noqa: E402

__all__ = ["MethodSpec", "default_methods", "measure_cell", "run_grid", "main"]


@dataclass(frozen=True)
class MethodSpec:
    """A method as timed: a column label, the peers.py method name, the device and the torch
    CPU threads during each timed step (None: leave torch's setting alone)."""

    label: str
    method: str
    device: str = "cpu"
    threads: int | None = None


def default_methods(include_cuda: bool | None = None) -> list[MethodSpec]:
    """The timed methods whose packages are installed; CUDA variants when a GPU is usable."""
    specs = [MethodSpec("gpu_bo (1 thread)", "gpu_bo_1t"),
             MethodSpec("gpu_bo (default threads)", "gpu_bo_defthreads"),
             MethodSpec("optuna_gp", "optuna_gp"),
             MethodSpec("botorch", "botorch"),
             MethodSpec("botorch (1 thread)", "botorch", threads=1)]
    if include_cuda is None:
        include_cuda = torch.cuda.is_available()
    if include_cuda:
        specs += [MethodSpec("gpu_bo cuda", "gpu_bo", "cuda"), MethodSpec("botorch cuda", "botorch", "cuda")]
    return [s for s in specs if available(s.method)]


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads (None: unchanged); restores the setting."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def make_data(n: int, d: int, seed: int = 0) -> tuple[list[dict[str, Any]], list[float]]:
    """``n`` uniform random points of the unit cube and their smooth test-function values."""
    space = unit_cube_space(d)
    rng = np.random.default_rng(seed * 7919 + 31 * d + n)
    X = torch.as_tensor(rng.random((n, d)), dtype=torch.float64, device="cpu")
    params = space.decode(X)
    return params, [smooth_test_function(p) for p in params]


def measure_cell(spec: MethodSpec, n: int, d: int, q: int, repeats: int, cap_s: float,
                 seed: int = 0) -> dict[str, Any]:
    """Time ``repeats`` consecutive suggestions of ``spec`` at ``(n, d, q)``; never raises."""
    rec: dict[str, Any] = {"method": spec.label, "n": n, "d": d, "q": q, "device": spec.device,
                           "times": [], "peak_mb": None, "delta_mb": None, "status": "ok", "error": None,
                           "gpu_bo_fit_seconds": []}
    space = unit_cube_space(d)
    params, values = make_data(n, d, seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adapter = make_method(spec.method, space, seed=seed, n_initial=min(10, max(2, n // 2)),
                                  device=spec.device)
            if q > 1 and not adapter.supports_batch:
                rec["status"] = "unsupported"
                return rec
            adapter.add_observations(params[:-1], values[:-1])
            newest = ([params[-1]], [values[-1]])
            peak = PeakMemory(cuda=spec.device.startswith("cuda"))
            for _ in range(repeats):
                with peak.measure(), torch_threads(spec.threads):
                    t0 = time.perf_counter()
                    adapter.tell(*newest)
                    asked = adapter.ask(q)
                    if spec.device.startswith("cuda"):
                        torch.cuda.synchronize()
                    dt = time.perf_counter() - t0
                rec["times"].append(dt)
                if peak.peak_mb is not None:
                    rec["peak_mb"] = max(rec["peak_mb"] or 0.0, peak.peak_mb)
                    rec["delta_mb"] = max(rec["delta_mb"] or 0.0, peak.delta_mb)
                info = getattr(adapter, "last_info", None)
                if info and "fit_seconds" in info:
                    rec["gpu_bo_fit_seconds"].append(info["fit_seconds"])
                if info and info.get("strategy"):
                    rec["strategy"] = info["strategy"]
                if info and "hyperparameters_fitted" in info:
                    rec.setdefault("hyper_fitted", []).append(bool(info["hyperparameters_fitted"]))
                if len({tuple(sorted(p.items())) for p in asked}) != len(asked):
                    rec["duplicates_in_batch"] = True
                if dt > cap_s:
                    rec["status"] = "over_cap"
                    break
                newest = (asked, [smooth_test_function(p) for p in asked])
    except Exception as err:  # noqa: BLE001 - record and go on with the other cells
        rec["status"] = "error"
        rec["error"] = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=6)}"
    med, lo, hi = median_iqr(rec["times"])
    rec.update(median=med, q25=lo, q75=hi)
    return rec


def run_grid(specs: Sequence[MethodSpec], ns: Sequence[int], ds: Sequence[int], qs: Sequence[int],
             repeats: int, cap_s: float, log_prefix: str = "[latency]") -> list[dict[str, Any]]:
    """Every method on every ``(n, d, q)``, smallest work first.

    A method over the cap at ``(n, d, q)`` is not run at any cell with at least as many
    observations, dimensions and batch points (recorded as ``skipped_over_cap``): a step cannot
    be interrupted, so this is what keeps the grid's run time bounded.
    """
    out = []
    capped: dict[str, list[tuple[int, int, int]]] = {}
    for d in sorted(ds):
        for q in sorted(qs):
            for n in sorted(ns):
                for spec in specs:
                    if any(n >= n0 and d >= d0 and q >= q0 for n0, d0, q0 in capped.get(spec.label, [])):
                        rec = {"method": spec.label, "n": n, "d": d, "q": q, "device": spec.device, "times": [],
                               "status": "skipped_over_cap", "median": math.nan, "q25": math.nan, "q75": math.nan}
                    else:
                        rec = measure_cell(spec, n, d, q, repeats, cap_s)
                        if rec["status"] == "over_cap":
                            capped.setdefault(spec.label, []).append((n, d, q))
                    out.append(rec)
                    print(f"{log_prefix} n={n} d={d} q={q} {spec.label}: {_cell(rec, cap_s)}", flush=True)
    return out


def _cell(rec: dict[str, Any], cap_s: float) -> str:
    st = rec["status"]
    if st in ("over_cap", "skipped_over_cap"):
        return f"> {cap_s:g} s"
    if st == "error":
        return "error"
    if st == "unsupported":
        return "n/a"
    return fmt_seconds(rec["median"])


def _lookup(records: list[dict[str, Any]], label: str, n: int, d: int, q: int) -> dict[str, Any] | None:
    for r in records:
        if r["method"] == label and r["n"] == n and r["d"] == d and r["q"] == q:
            return r
    return None


BOTORCH_LABELS = ("botorch", "botorch (1 thread)")


def _fastest(records: list[dict[str, Any]], labels: Sequence[str], n: int, d: int, q: int) -> dict[str, Any] | None:
    """The record of the fastest of ``labels`` at the cell (an over-cap one if none finished)."""
    recs = [r for lab in labels if (r := _lookup(records, lab, n, d, q)) is not None]
    ok = [r for r in recs if r["status"] == "ok"]
    if ok:
        return min(ok, key=lambda r: r["median"])
    return recs[0] if recs else None


def targets(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue 2's CPU target at n=200, d=5, q=1 and issue 5's n <= 500, d <= 20, q = 1 target."""
    out: dict[str, Any] = {}
    g = _lookup(records, "gpu_bo (1 thread)", 200, 5, 1)
    o = _lookup(records, "optuna_gp", 200, 5, 1)
    b = _fastest(records, BOTORCH_LABELS, 200, 5, 1)
    if g and o and g["status"] == "ok" and o["status"] == "ok":
        out["n200_d5_q1_vs_optuna"] = {"gpu_bo": g["median"], "optuna_gp": o["median"],
                                       "ratio": g["median"] / o["median"], "met": g["median"] <= o["median"]}
    if g and b and g["status"] == "ok":
        bt = b["median"] if b["status"] == "ok" else math.inf
        out["n200_d5_q1_vs_botorch"] = {"gpu_bo": g["median"], "botorch_fastest": bt, "botorch_variant": b["method"],
                                        "speedup": bt / g["median"], "met": bt / g["median"] >= 3}
    cells = []
    for r in records:
        if r["method"] == "gpu_bo (1 thread)" and r["q"] == 1 and r["n"] <= 500 and r["d"] <= 20:
            o = _lookup(records, "optuna_gp", r["n"], r["d"], 1)
            if o and r["status"] == "ok" and o["status"] == "ok":
                cells.append({"n": r["n"], "d": r["d"], "gpu_bo": r["median"], "optuna_gp": o["median"],
                              "met": r["median"] <= o["median"]})
    out["q1_small_vs_optuna"] = cells
    return out


def markdown(header: Any, records: list[dict[str, Any]], labels: list[str], cap_s: float,
             tgt: dict[str, Any], cuda_measured: bool) -> str:
    lines = ["# Suggestion latency: one suggestion (fit + maximize)", "", header.markdown(), ""]
    lines.append("Each cell: median wall time of consecutive `tell(newest) + ask(q)` steps on the same "
                 f"data for every method (IQR in the JSON). `> {cap_s:g} s`: the method exceeded the time "
                 "cap (cells with at least as large n, d and q not attempted). gpu_bo's library default is one CPU thread for "
                 "n <= 2000 (`gpu_bo.device.SINGLE_THREAD_MAX_N`); Optuna's GPSampler pins itself to one "
                 "thread too; the BoTorch loop runs with torch's default threads and with 1 thread.")
    if not cuda_measured:
        lines.append("")
        lines.append("**CUDA: not measured on a GPU** (no GPU on this machine).")
    lines.append("")
    keys = sorted({(r["d"], r["q"], r["n"]) for r in records})
    rows = []
    for d, q, n in keys:
        row: list[Any] = [n, d, q]
        for lab in labels:
            r = _lookup(records, lab, n, d, q)
            row.append(_cell(r, cap_s) if r else "")
        g = _lookup(records, "gpu_bo (1 thread)", n, d, q)
        o = _lookup(records, "optuna_gp", n, d, q)
        b = _fastest(records, BOTORCH_LABELS, n, d, q)
        row.append(f"{o['median'] / g['median']:.2f}x" if g and o and g["status"] == o["status"] == "ok" else "")
        row.append(f"{b['median'] / g['median']:.2f}x" if g and b and g["status"] == b["status"] == "ok" else "")
        rows.append(row)
    lines.append(markdown_table(["n", "d", "q", *labels, "optuna_gp / gpu_bo", "botorch / gpu_bo"], rows))
    lines += ["", "Ratios > 1: gpu_bo (1 thread, its default) is faster; the BoTorch ratio uses the "
                  "faster of its two thread settings.", ""]
    lines += ["### First step of each cell (cold start: no warm start from a previous fit)", ""]
    rows = []
    for d, q, n in keys:
        row = [n, d, q]
        for lab in labels:
            r = _lookup(records, lab, n, d, q)
            row.append(fmt_seconds(r["times"][0]) if r and r.get("times") else (_cell(r, cap_s) if r else ""))
        rows.append(row)
    lines += [markdown_table(["n", "d", "q", *labels], rows), ""]
    gl = [lab for lab in labels if lab.startswith("gpu_bo")]
    if any(r.get("hyper_fitted") for r in records):
        from gpu_bo.optimizer import OptimizerOptions

        o = OptimizerOptions()
        lines += ["### gpu_bo: median of the steps that re-optimized the hyperparameters", "",
                  f"From {o.refit_min_n} observations on gpu_bo re-optimizes its GP hyperparameters only "
                  f"when the data grew {o.refit_growth:.0%} since the last fit "
                  "(`OptimizerOptions.refit_growth`) and conditions on all data in between, so most steps "
                  "above reuse them. This table times only the steps that re-optimized "
                  "(k/m: k of the m timed steps).", ""]
        rows = []
        for d, q, n in keys:
            row = [n, d, q]
            for lab in gl:
                r = _lookup(records, lab, n, d, q)
                fl = (r or {}).get("hyper_fitted") or []
                ts = [t for t, f in zip(r["times"], fl) if f] if r else []
                row.append(f"{fmt_seconds(median_iqr(ts)[0])} ({len(ts)}/{len(fl)})" if ts else "-")
            rows.append(row)
        lines += [markdown_table(["n", "d", "q", *gl], rows), ""]
    lines += ["## Targets", ""]
    t = tgt.get("n200_d5_q1_vs_optuna")
    if t:
        lines.append(f"- Issue 2, n=200 d=5 q=1, gpu_bo <= Optuna GPSampler: **{'met' if t['met'] else 'missed'}** "
                     f"({fmt_seconds(t['gpu_bo'])} vs {fmt_seconds(t['optuna_gp'])}, ratio {t['ratio']:.2f})")
    t = tgt.get("n200_d5_q1_vs_botorch")
    if t:
        lines.append(f"- Issue 2, n=200 d=5 q=1, at least 3x faster than the BoTorch loop: "
                     f"**{'met' if t['met'] else 'missed'}** (speed-up {t['speedup']:.2f}x over `{t['botorch_variant']}`, "
                     "the faster BoTorch variant)")
    cells = tgt.get("q1_small_vs_optuna") or []
    if cells:
        met = all(c["met"] for c in cells)
        worst = max(cells, key=lambda c: c["gpu_bo"] / c["optuna_gp"])
        lines.append(f"- Issue 5, n <= 500, d <= 20, q = 1, gpu_bo <= Optuna GPSampler in every cell: "
                     f"**{'met' if met else 'missed'}** (worst cell n={worst['n']} d={worst['d']}: "
                     f"{fmt_seconds(worst['gpu_bo'])} vs {fmt_seconds(worst['optuna_gp'])})")
    lines.append("")
    return "\n".join(lines)


MODES = {
    "full": {"n": [50, 200, 1000], "d": [5, 20], "q": [1, 8], "repeats": 7, "cap": 120.0},
    "quick": {"n": [50, 200, 1000], "d": [5, 20], "q": [1, 8], "repeats": 3, "cap": 10.0},
    "tiny": {"n": [12], "d": [2], "q": [1, 2], "repeats": 2, "cap": 60.0},
}


def warm_up(specs: Sequence[MethodSpec]) -> None:
    """One small discarded cell per method: lazy imports and first-call set-up are paid here."""
    for spec in specs:
        measure_cell(spec, 12, 2, 1, 2, math.inf, seed=99)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="3 steps per cell and a 10 s cap (~5-6 min)")
    g.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (tests)")
    ap.add_argument("--n", nargs="+", type=int)
    ap.add_argument("--d", nargs="+", type=int)
    ap.add_argument("--q", nargs="+", type=int)
    add_timing_args(ap)
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the latency benchmark; returns the JSON payload that was written."""
    args = _parse(argv)
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    for k in ("n", "d", "q", "repeats", "cap"):
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    specs = default_methods(include_cuda=False if args.no_cuda else None)
    if args.methods:
        specs = [s for s in specs if s.label in args.methods or s.method in args.methods]
    cuda_measured = any(s.device.startswith("cuda") for s in specs)
    settings = {**cfg, "methods": [s.label for s in specs], "torch_default_threads": torch.get_num_threads()}
    header = run_header("benchmarks/suggest_latency.py", mode, settings, note=args.note)
    if not args.no_warmup and mode != "tiny":
        warm_up(specs)
    records = run_grid(specs, cfg["n"], cfg["d"], cfg["q"], cfg["repeats"], cfg["cap"])
    header.finish()
    tgt = targets(records)
    labels = [s.label for s in specs]
    payload = {"header": header.as_dict(), "targets": tgt, "cuda_measured": cuda_measured, "records": records}
    out = Path(args.out)
    write_json(out / "suggest_latency.json", payload)
    md = markdown(header, records, labels, cfg["cap"], tgt, cuda_measured)
    write_text(out / "suggest_latency.md", md)
    print(md)
    return payload


if __name__ == "__main__":
    main()
