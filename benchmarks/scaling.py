"""Time and peak memory of one suggestion as the work grows, CPU vs CUDA, gpu_bo vs peers.

Three sweeps from a base cell, one axis at a time (same protocol and data as
``suggest_latency.py``: ``tell(newest) + ask(q)`` steps after ``n`` pre-loaded observations):

- ``n`` (observations) at d=20, q=1
- ``d`` (dimensions) at n=1000, q=1
- ``q`` (batch size) at n=1000, d=20, plus the GPU target cells at n=5000, d=20

Methods: gpu_bo on the CPU (its own thread policy) and on CUDA when present; Optuna's
GPSampler (CPU only) and the textbook BoTorch loop (CPU, and CUDA when present) where they
finish within the time cap: a method over the cap is not run at the larger cells of that sweep.
Peak memory: ``torch.cuda.max_memory_allocated`` on CUDA, the process's peak RSS on the CPU
(sampled every 5 ms; "delta" = rise above the RSS before the step).

Outputs (``--out``, default benchmarks/results/): ``scaling.json`` and ``scaling.md`` (one table
per sweep, the n where the GPU starts to beat the CPU, the issue's GPU targets).

Usage::

    python benchmarks/scaling.py --quick   # small grid, 20 s cap (~5 min on a 2-core CPU)
    python benchmarks/scaling.py           # n up to 10,000, d up to 100, q up to 64
    python benchmarks/scaling.py --gpu --out DIR --name scaling_gpu   # on a GPU machine: CUDA only
    python benchmarks/scaling.py --merge benchmarks/results/scaling_cpu.json DIR/scaling_gpu.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    RunRecord, add_timing_args, fmt_seconds, markdown_table, run_header, write_json, write_text,
)
from benchmarks.peers import available  # noqa: E402
from benchmarks.suggest_latency import MethodSpec, measure_cell, warm_up  # noqa: E402

__all__ = ["sweep_cells", "run_sweeps", "crossover", "main"]

MODES = {
    "full": {"n": [50, 200, 500, 1000, 2000, 5000, 10000], "d": [5, 10, 20, 50, 100], "q": [1, 4, 16, 64],
             "base_n": 1000, "base_d": 20, "target_n": 5000, "repeats": 3, "cap": 120.0},
    "quick": {"n": [50, 500, 2000], "d": [5, 50], "q": [1, 16],
              "base_n": 500, "base_d": 20, "target_n": None, "repeats": 2, "cap": 20.0},
    # the GPU machine's run (CUDA methods only; the CPU rows come from a run on the 2-core CPU and
    # are joined with --merge): n up to 10,000 for issue 7's target, small caps to fit a short lease
    "gpu": {"n": [200, 1000, 2000, 5000, 10000], "d": [5, 20, 50, 100], "q": [1, 4, 16, 64],
            "base_n": 1000, "base_d": 20, "target_n": 5000, "repeats": 3, "cap": 20.0},
    "tiny": {"n": [8, 16], "d": [2], "q": [1, 2],
             "base_n": 8, "base_d": 2, "target_n": None, "repeats": 1, "cap": 60.0},
}


def default_methods(include_cuda: bool | None = None, include_cpu: bool = True) -> list[MethodSpec]:
    """gpu_bo (strategy "auto", and "global": the exact GP at every n, so the CPU and the GPU time
    the same suggestion), Optuna's GPSampler and the BoTorch loop, on the CPU and/or CUDA."""
    specs = []
    if include_cpu:
        specs += [MethodSpec("gpu_bo cpu", "gpu_bo", "cpu"), MethodSpec("gpu_bo global cpu", "gpu_bo_global", "cpu"),
                  MethodSpec("optuna_gp cpu", "optuna_gp", "cpu"), MethodSpec("botorch cpu", "botorch", "cpu")]
    if include_cuda is None:
        include_cuda = torch.cuda.is_available()
    if include_cuda:
        specs += [MethodSpec("gpu_bo cuda", "gpu_bo", "cuda"), MethodSpec("gpu_bo global cuda", "gpu_bo_global", "cuda"),
                  MethodSpec("botorch cuda", "botorch", "cuda")]
    return [s for s in specs if available(s.method)]


def sweep_cells(cfg: dict[str, Any]) -> dict[str, list[tuple[int, int, int]]]:
    """The ``(n, d, q)`` cells of each sweep, in increasing order of work."""
    n0, d0 = cfg["base_n"], cfg["base_d"]
    sweeps = {
        "n": [(n, d0, 1) for n in sorted(cfg["n"])],
        "d": [(n0, d, 1) for d in sorted(cfg["d"])],
        "q": [(n0, d0, q) for q in sorted(cfg["q"])],
    }
    if cfg.get("target_n"):
        sweeps["q_at_target_n"] = [(cfg["target_n"], d0, q) for q in (1, 64)]
    return sweeps


def run_sweeps(specs: Sequence[MethodSpec], cfg: dict[str, Any],
               only: Sequence[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every method over every sweep (or the sweeps named in ``only``); over the cap -> the rest of
    that sweep is skipped for that method."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, cells in sweep_cells(cfg).items():
        if only and name not in only:
            continue
        out[name] = []
        capped: set[str] = set()
        for n, d, q in cells:
            for spec in specs:
                if spec.label in capped:
                    rec = {"method": spec.label, "n": n, "d": d, "q": q, "device": spec.device, "times": [],
                           "status": "skipped_over_cap", "median": math.nan, "peak_mb": None, "delta_mb": None}
                else:
                    rec = measure_cell(spec, n, d, q, cfg["repeats"], cfg["cap"])
                    if rec["status"] == "over_cap":
                        capped.add(spec.label)
                rec["cap"] = cfg["cap"]
                out[name].append(rec)
                print(f"[scaling] {name}: n={n} d={d} q={q} {spec.label}: {_cell(rec, cfg['cap'])}", flush=True)
    return out


def _cell(rec: dict[str, Any], cap: float) -> str:
    st = rec["status"]
    if st in ("over_cap", "skipped_over_cap"):
        return f"> {rec.get('cap', cap):g} s"
    if st in ("error", "unsupported"):
        return st
    tag = " TR" if rec.get("strategy") == "trust_region" else ""
    mem = ""
    if rec.get("peak_mb") is not None:
        mem = f" ({rec['peak_mb']:.0f} MB"
        mem += f", +{rec['delta_mb']:.0f})" if rec.get("delta_mb") is not None else ")"
    return fmt_seconds(rec["median"]) + tag + mem


def _cpu_gpu_pairs(labels: Sequence[str]) -> list[tuple[str, str]]:
    """The (CPU, GPU) columns compared for the crossover, among ``labels``: gpu_bo's automatic
    strategy on both, and the exact GP on both ("gpu_bo cuda" stands in for "gpu_bo global
    cuda" when that column is absent: below 10,000 trials the automatic strategy on CUDA is the
    global GP, and cells where it was not are marked TR)."""
    pairs = [("gpu_bo cpu", "gpu_bo cuda"),
             ("gpu_bo global cpu", "gpu_bo global cuda" if "gpu_bo global cuda" in labels else "gpu_bo cuda")]
    return [(c, g) for c, g in pairs if c in labels and g in labels]


def _get(recs: list[dict[str, Any]], label: str, n: int, d: int, q: int) -> dict[str, Any] | None:
    return next((r for r in recs if r["method"] == label and (r["n"], r["d"], r["q"]) == (n, d, q)), None)


def crossover(recs: list[dict[str, Any]], axis: str, cpu: str = "gpu_bo cpu",
              gpu: str = "gpu_bo cuda") -> int | None:
    """The smallest value of ``axis`` from which on the GPU is faster than the CPU (None: never/unmeasured).

    A CPU cell over the cap counts as slower than any finished GPU cell.
    """
    values = sorted({r[axis] for r in recs})
    first = None
    for v in values:
        c = next((r for r in recs if r["method"] == cpu and r[axis] == v), None)
        g = next((r for r in recs if r["method"] == gpu and r[axis] == v), None)
        if not c or not g or g["status"] != "ok":
            first = None
            continue
        c_t = c["median"] if c["status"] == "ok" else math.inf
        if g["median"] < c_t:
            first = v if first is None else first
        else:
            first = None
    return first


def gpu_targets(sweeps: dict[str, list[dict[str, Any]]], target_n: int | None, d: int) -> dict[str, Any]:
    """Issue 5's GPU targets at ``n = target_n`` plus issue 7's n = 10,000 targets (when measured).

    "10x faster than the same suggestion on the CPU" compares the exact global GP on both
    ("gpu_bo global"), since on the CPU the automatic switch would time a different algorithm.
    """
    recs = sweeps.get("q_at_target_n", [])
    if not target_n or not recs:
        return {}
    g1, g64 = _get(recs, "gpu_bo cuda", target_n, d, 1), _get(recs, "gpu_bo cuda", target_n, d, 64)
    c1 = _get(recs, "gpu_bo global cpu", target_n, d, 1) or _get(recs, "gpu_bo cpu", target_n, d, 1)
    same = g1  # the GPU run of the same suggestion as c1
    if c1 is not None and c1["method"].startswith("gpu_bo global"):
        same = _get(recs, "gpu_bo global cuda", target_n, d, 1) or g1
    big = 10_000
    nrecs = sweeps.get("n", [])
    g10k, c10k = _get(nrecs, "gpu_bo cuda", big, d, 1), _get(nrecs, "gpu_bo cpu", big, d, 1)
    if not g1:
        return {"measured": False}
    ok = lambda r: r is not None and r["status"] == "ok"  # noqa: E731
    out: dict[str, Any] = {"measured": True}
    out["q1_under_1s"] = {"seconds": g1["median"] if ok(g1) else None, "met": ok(g1) and g1["median"] < 1.0}
    out["q64_under_5s"] = {"seconds": g64["median"] if ok(g64) else None, "met": ok(g64) and g64["median"] < 5.0}
    if ok(same) and c1 is not None:
        c_t = c1["median"] if ok(c1) else math.inf
        out["10x_vs_cpu"] = {"speedup": c_t / same["median"], "met": c_t / same["median"] >= 10,
                             "cpu": c1["method"], "cpu_seconds": c1["median"] if ok(c1) else None,
                             "gpu": same["method"], "gpu_seconds": same["median"]}
    if g10k is not None:
        out["n10k_gpu_under_2s"] = {"seconds": g10k["median"] if ok(g10k) else None,
                                    "met": ok(g10k) and g10k["median"] < 2.0, "strategy": g10k.get("strategy")}
    if c10k is not None:
        out["n10k_cpu_under_10s"] = {"seconds": c10k["median"] if ok(c10k) else None,
                                     "met": ok(c10k) and c10k["median"] < 10.0, "strategy": c10k.get("strategy")}
    return out


def markdown(headers: Sequence[Any], sweeps: dict[str, list[dict[str, Any]]], labels: list[str],
             cfg: dict[str, Any], cuda_measured: bool, tgt: dict[str, Any]) -> str:
    """The tables; ``headers``: one RunRecord per run whose cells are shown (--merge joins runs)."""
    lines = ["# Scaling of one suggestion: time (peak memory)", ""]
    for h in headers:
        if len(headers) > 1:
            lines += [f"Run `{h.mode}`:", ""]
        lines += [h.markdown(), ""]
    lines.append("Cells: median time of one `tell + ask(q)` step, then (peak MB, +rise during the step): "
                 "`torch.cuda.max_memory_allocated` on CUDA, process peak RSS on the CPU. "
                 f"`> {cfg['cap']:g} s`: over the time cap (larger cells of that sweep not attempted). "
                 "`TR`: gpu_bo's automatic switch chose the trust-region strategy at that cell; "
                 "`gpu_bo global` forces the exact global GP at every n.")
    if not cuda_measured:
        lines += ["", "**CUDA: not measured on a GPU** (no GPU on this machine); the CPU/GPU crossover "
                      "and the GPU targets are therefore not measured."]
    elif len(headers) > 1:
        lines += ["", "The CPU columns and the CUDA columns come from the runs named above (different "
                      "machines where their headers say so); peers are compared with gpu_bo on the same "
                      "machine, the CPU/GPU crossover across the two."]
    for name, recs in sweeps.items():
        axis = {"n": "n", "d": "d", "q": "q", "q_at_target_n": "q"}[name]
        lines += ["", f"## Sweep over {name}", ""]
        keys = sorted({(r["n"], r["d"], r["q"]) for r in recs}, key=lambda k: (k[1], k[2], k[0]))
        present = [lab for lab in labels if any(r["method"] == lab for r in recs)]
        rows = [[n, d, q, *[_cell(r, cfg["cap"]) if (r := _get(recs, lab, n, d, q)) else "" for lab in present]]
                for n, d, q in keys]
        lines.append(markdown_table(["n", "d", "q", *present], rows))
        if cuda_measured and name in ("n", "d", "q"):
            for cpu, gpu in _cpu_gpu_pairs(present):
                c = crossover(recs, axis, cpu, gpu)
                lines += ["", f"`{gpu}` faster than `{cpu}` from {axis} = {c}" if c is not None
                          else f"`{gpu}` not faster than `{cpu}` from any {axis} on in this sweep"]
    if tgt:
        lines += ["", "## GPU targets", ""]
        if not tgt.get("measured"):
            lines.append("- not measured on a GPU")
        else:
            t = tgt["q1_under_1s"]
            lines.append(f"- issue 5: n={cfg['target_n']}, d={cfg['base_d']}, q=1 under 1 s: "
                         f"**{'met' if t['met'] else 'missed'}** ({fmt_seconds(t['seconds'])})")
            t = tgt["q64_under_5s"]
            lines.append(f"- issue 5: q=64 under 5 s: **{'met' if t['met'] else 'missed'}** ({fmt_seconds(t['seconds'])})")
            if "10x_vs_cpu" in tgt:
                t = tgt["10x_vs_cpu"]
                lines.append(f"- issue 5: 10x faster than the same suggestion on the CPU: "
                             f"**{'met' if t['met'] else 'missed'}** ({t['speedup']:.1f}x: `{t['gpu']}` "
                             f"{fmt_seconds(t['gpu_seconds'])} against `{t['cpu']}` "
                             f"{fmt_seconds(t['cpu_seconds']) if t['cpu_seconds'] else 'over its cap'})")
        for key, what in (("n10k_gpu_under_2s", "n=10,000, d=20 on the GPU under 2 s"),
                          ("n10k_cpu_under_10s", "n=10,000, d=20 on the CPU under 10 s (automatic switch)")):
            if key in tgt:
                t = tgt[key]
                lines.append(f"- issue 7: {what}: **{'met' if t['met'] else 'missed'}** "
                             f"({fmt_seconds(t['seconds'])}, strategy {t['strategy']})")
    lines.append("")
    return "\n".join(lines)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small grid and a 20 s cap (~5 min)")
    g.add_argument("--gpu", action="store_true", help="the GPU machine's grid, CUDA methods only (n to 10,000)")
    g.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (tests)")
    g.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                   help="join the cells of earlier runs' JSON files (e.g. a CPU run and a --gpu run) into one table")
    ap.add_argument("--sweeps", nargs="+", choices=["n", "d", "q", "q_at_target_n"], help="run only these sweeps")
    ap.add_argument("--name", default="scaling", help="output file stem (default scaling -> scaling.json/.md)")
    add_timing_args(ap)
    return ap.parse_args(argv)


def _finish(headers: list[Any], sweeps: dict[str, list[dict[str, Any]]], labels: list[str], cfg: dict[str, Any],
            out: Path, name: str) -> dict[str, Any]:
    cuda_measured = any(r["device"].startswith("cuda") and r["status"] == "ok" for rs in sweeps.values() for r in rs)
    tgt = gpu_targets(sweeps, cfg.get("target_n"), cfg["base_d"])
    cross = {ax: {f"{c} -> {g}": crossover(sweeps[ax], ax, c, g)
                  for c, g in _cpu_gpu_pairs({r["method"] for r in sweeps[ax]})}
             for ax in ("n", "d", "q") if ax in sweeps} if cuda_measured else None
    payload = {"header": headers[0].as_dict() if len(headers) == 1 else [h.as_dict() for h in headers],
               "settings": cfg, "cuda_measured": cuda_measured, "crossover": cross, "gpu_targets": tgt,
               "sweeps": sweeps}
    write_json(out / f"{name}.json", payload)
    md = markdown(headers, sweeps, labels, cfg, cuda_measured, tgt)
    write_text(out / f"{name}.md", md)
    print(md)
    return payload


def merge(paths: Sequence[Path], out: Path, name: str) -> dict[str, Any]:
    """One table from several runs: their sweeps' cells side by side, each run's header kept."""
    headers, sweeps, labels, cfg = [], {}, [], None
    for path in paths:
        payload = json.loads(Path(path).read_text())
        hs = payload["header"] if isinstance(payload["header"], list) else [payload["header"]]
        headers += [RunRecord(**h) for h in hs]
        run_cfg = payload.get("settings") or hs[0]["settings"]
        if cfg is None or (run_cfg.get("target_n") and not cfg.get("target_n")):
            cfg = {**(cfg or {}), **run_cfg}
        for sweep, recs in payload["sweeps"].items():
            for r in recs:
                sweeps.setdefault(sweep, []).append(r)
                if r["method"] not in labels:
                    labels.append(r["method"])
    assert cfg is not None
    return _finish(headers, sweeps, labels, cfg, out, name)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the scaling benchmark; returns the JSON payload that was written."""
    args = _parse(argv)
    out = Path(args.out)
    if args.merge:
        return merge(args.merge, out, args.name)
    mode = "tiny" if args.tiny else "quick" if args.quick else "gpu" if args.gpu else "full"
    cfg = dict(MODES[mode])
    for k in ("repeats", "cap"):
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    specs = default_methods(include_cuda=False if args.no_cuda else None, include_cpu=mode != "gpu")
    if args.methods:
        specs = [s for s in specs if s.label in args.methods or s.method in args.methods]
    cuda_run = any(s.device.startswith("cuda") for s in specs)
    if cuda_run and mode == "quick":
        cfg["target_n"] = 5000  # the GPU targets' cells (the CPU ones stop at the cap)
    header = run_header("benchmarks/scaling.py", mode, {**cfg, "methods": [s.label for s in specs]}, note=args.note)
    if not args.no_warmup and mode != "tiny":
        warm_up(specs)
    sweeps = run_sweeps(specs, cfg, only=args.sweeps)
    header.finish()
    return _finish([header], sweeps, [s.label for s in specs], cfg, out, args.name)


if __name__ == "__main__":
    main()
