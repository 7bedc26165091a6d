"""A 30-parameter mixed search space: suggestion time and regret, gpu_bo vs Optuna and random search.

The problem ("mixed30", minimized, deterministic, known optimum 0):

- Parameters: ``c0 .. c9`` categoricals with 5, 6, 7, 8, 10, 12, 14, 16, 18 and 20 choices
  (``"v0" .. "v{k-1}"``); ``i0 .. i9`` integers in ``[0, H_k]`` with H = 3, 5, 8, 10, 12, 15,
  20, 25, 30, 50; ``r0 .. r9`` reals in ``[-5, 5]``.
- Every table below is drawn once from ``numpy.random.default_rng(MIXED_SEED)``, so the
  function is fixed; ``tables()`` holds them and ``optimal_params()`` the optimum.

      f = sum_j T_j[c_j]                                  (categorical main effects)
        + sum_p P_p[c_2p, c_2p+1]                         (categorical pairs (0,1), (2,3), ... (8,9))
        + z^T A z + 0.2 * sum_k (1 - cos(3 pi z_k))       (smooth, rotated, multimodal part)

  with ``z = (z_r, z_i)`` (20 values): ``z_r_j = (r_j - M_j[c_j]) / 10`` and
  ``z_i_k = (i_k - i*_k) / H_k``. ``T_j[c]`` is uniform in [0.2, 1] except 0 at the optimal
  category ``c*_j``; ``P_p`` is uniform in [0, 0.5] except 0 at ``(c*_2p, c*_2p+1)``;
  ``M_j[c]`` (uniform in [-4, 4]) is where real ``r_j`` is best *given* category ``c_j``, so the
  best reals move with the categories (categorical x real interactions); ``A = Q diag(lambda) Q^T``
  with a random rotation ``Q`` and ``lambda`` from 0.5 to 5 (geometric) couples every real and
  integer with every other (not separable, ill-conditioned); the cosine term adds local minima.
- Every term is >= 0 and all are exactly 0 at ``c = c*, i = i*, r_j = M_j[c*_j]``: the optimum
  value is 0 (``OPTIMUM``) and the regret of a run is its best value. A uniformly random point
  scores about 17 (median; 10 is the best of 2,000).

What the script reports (issue 7):

(a) the median time of one gpu_bo suggestion at n = 100 observations on the CPU (target < 5 s),
    and on CUDA when present, also with ``raw_samples=1_000_000`` (``OptimizerOptions(maximize=
    MaximizeOptions(raw_samples=...))``) to show million-candidate screening;
(b) simple regret after 100 evaluations (10 initial) over seeds, gpu_bo vs Optuna TPE (target:
    lower median) and random search, and Optuna GPSampler in the full mode.

Outputs (``--out``, default benchmarks/results/): ``mixed_space.json``, ``mixed_space.md`` and
``mixed_space.png`` (best-so-far curves).

Usage::

    python benchmarks/mixed_space.py --quick           # ~3 min on a 2-core CPU: 5 seeds, no GPSampler
    python benchmarks/mixed_space.py --jobs 14         # full: 10 seeds, with Optuna GPSampler
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gpu_bo as gb  # noqa: E402
from benchmarks.common import (  # noqa: E402
    METHOD_COST, RESULTS_DIR, fmt_stat, markdown_table, median_iqr, parallel_map, run_header, write_json,
    write_text,
)
from benchmarks.peers import available  # noqa: E402
from benchmarks.problems import Problem  # noqa: E402
from benchmarks.quality import _plot, run_warmed  # noqa: E402

__all__ = ["MIXED_SEED", "OPTIMUM", "tables", "mixed_space", "objective", "optimal_params", "mixed_problem",
           "suggest_times", "main"]

MIXED_SEED = 20240607
CAT_SIZES = (5, 6, 7, 8, 10, 12, 14, 16, 18, 20)
INT_HIGHS = (3, 5, 8, 10, 12, 15, 20, 25, 30, 50)
REAL_LOW, REAL_HIGH = -5.0, 5.0
OPTIMUM = 0.0
COS_WEIGHT, COS_FREQ = 0.2, 3.0 * math.pi

MODES = {
    "full": {"seeds": 10, "budget": 100, "n_initial": 10, "methods": ["gpu_bo", "optuna_tpe", "optuna_gp", "random"],
             "timing_n": 100, "timing_repeats": 10},
    "quick": {"seeds": 5, "budget": 100, "n_initial": 10, "methods": ["gpu_bo", "optuna_tpe", "random"],
              "timing_n": 100, "timing_repeats": 5},
    "tiny": {"seeds": 1, "budget": 6, "n_initial": 3, "methods": ["gpu_bo", "optuna_tpe", "random"],
             "timing_n": 12, "timing_repeats": 1},
}
TARGET_SECONDS = 5.0


@dataclass(frozen=True)
class MixedTables:
    """The fixed random parts of the objective (see the module docstring)."""

    T: tuple[np.ndarray, ...]  # 10 arrays, T_j[c] >= 0
    P: tuple[np.ndarray, ...]  # 5 matrices over the pairs (c0,c1), (c2,c3), ...
    M: tuple[np.ndarray, ...]  # 10 arrays: best r_j given category c_j
    cat_opt: tuple[int, ...]  # c*_j (indices)
    int_opt: tuple[int, ...]  # i*_k
    A: np.ndarray  # 20 x 20, positive definite


@functools.lru_cache(maxsize=None)
def tables() -> MixedTables:
    rng = np.random.default_rng(MIXED_SEED)
    cat_opt = tuple(int(rng.integers(k)) for k in CAT_SIZES)
    T = []
    for k, c in zip(CAT_SIZES, cat_opt):
        t = rng.uniform(0.2, 1.0, size=k)
        t[c] = 0.0
        T.append(t)
    P = []
    for p in range(5):
        a, b = 2 * p, 2 * p + 1
        m = rng.uniform(0.0, 0.5, size=(CAT_SIZES[a], CAT_SIZES[b]))
        m[cat_opt[a], cat_opt[b]] = 0.0
        P.append(m)
    M = tuple(rng.uniform(-4.0, 4.0, size=CAT_SIZES[j]) for j in range(10))
    int_opt = tuple(int(rng.integers(h + 1)) for h in INT_HIGHS)
    Q, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    lam = np.geomspace(0.5, 5.0, 20)
    A = (Q * lam) @ Q.T
    return MixedTables(tuple(T), tuple(P), M, cat_opt, int_opt, (A + A.T) / 2)


def mixed_space() -> gb.Space:
    dims: dict[str, Any] = {}
    for j, k in enumerate(CAT_SIZES):
        dims[f"c{j}"] = gb.Categorical([f"v{i}" for i in range(k)])
    for j, h in enumerate(INT_HIGHS):
        dims[f"i{j}"] = gb.Integer(0, h)
    for j in range(10):
        dims[f"r{j}"] = gb.Real(REAL_LOW, REAL_HIGH)
    return gb.Space(dims)


def objective(params: Mapping[str, Any]) -> float:
    """The mixed30 function (minimized; 0 at :func:`optimal_params`)."""
    tb = tables()
    c = [int(str(params[f"c{j}"])[1:]) for j in range(10)]
    f = sum(float(tb.T[j][c[j]]) for j in range(10))
    f += sum(float(tb.P[p][c[2 * p], c[2 * p + 1]]) for p in range(5))
    z = np.empty(20)
    for j in range(10):
        z[j] = (float(params[f"r{j}"]) - tb.M[j][c[j]]) / (REAL_HIGH - REAL_LOW)
        z[10 + j] = (int(params[f"i{j}"]) - tb.int_opt[j]) / INT_HIGHS[j]
    f += float(z @ tb.A @ z) + COS_WEIGHT * float(np.sum(1.0 - np.cos(COS_FREQ * z)))
    return f


def optimal_params() -> dict[str, Any]:
    """The documented optimum: ``objective(optimal_params()) == OPTIMUM``."""
    tb = tables()
    p: dict[str, Any] = {f"c{j}": f"v{tb.cat_opt[j]}" for j in range(10)}
    p.update({f"i{j}": tb.int_opt[j] for j in range(10)})
    p.update({f"r{j}": float(tb.M[j][tb.cat_opt[j]]) for j in range(10)})
    return p


@functools.lru_cache(maxsize=None)
def mixed_problem() -> Problem:
    return Problem("mixed30", mixed_space(), objective, OPTIMUM, "synthetic",
                   "10 categoricals (5-20 choices), 10 integers, 10 reals; optimum 0 (see the module docstring)")


# -- (a) suggestion time ------------------------------------------------------------------------

def suggest_times(device: str, n: int, repeats: int, raw_samples: int | None = None,
                  seed: int = 0) -> dict[str, Any]:
    """Time ``repeats`` gpu_bo suggestions after ``n`` random observations (one discarded warm-up).

    Each timed ``ask`` is told its value, so the data grows to ``n + repeats``.
    """
    from gpu_bo.maximize import MaximizeOptions
    from gpu_bo.optimizer import OptimizerOptions

    rec: dict[str, Any] = {"device": device, "n": n, "raw_samples": raw_samples, "times": [],
                           "fit_seconds": [], "peak_mb": None, "error": None}
    try:
        import torch

        dev = torch.device(device)
        options = None
        if raw_samples is not None:
            options = OptimizerOptions(maximize=dataclasses.replace(MaximizeOptions.for_device(dev),
                                                                    raw_samples=raw_samples))
        rec["raw_samples_used"] = raw_samples or MaximizeOptions.for_device(dev).raw_samples
        space = mixed_space()
        opt = gb.Optimizer(space, direction="minimize", seed=seed, device=device, options=options)
        X = space.sample_params(n, seed=seed + 1)
        opt.tell(X, [objective(p) for p in X])
        for i in range(repeats + 1):
            if dev.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats(dev)
            t0 = time.perf_counter()
            p = opt.ask()
            if dev.type == "cuda":
                torch.cuda.synchronize()
                if i > 0:
                    rec["peak_mb"] = max(rec["peak_mb"] or 0.0, torch.cuda.max_memory_allocated(dev) / 2**20)
            dt = time.perf_counter() - t0
            opt.tell(p, objective(p))
            if i > 0:  # the first call pays one-time set-up (lazy imports, CUDA context, kernels)
                rec["times"].append(dt)
                rec["fit_seconds"].append(float(opt.last_suggestion_info.get("fit_seconds", math.nan)))
    except Exception as err:  # noqa: BLE001 - record, don't stop the benchmark
        rec["error"] = f"{type(err).__name__}: {err}"
    rec["median"] = median_iqr(rec["times"])[0]
    return rec


# -- (b) regret -----------------------------------------------------------------------------------

def _task(task: tuple[str, int, int, int, str, bool]) -> dict[str, Any]:
    """One (method, seed) run on mixed30, in this process or a pool worker."""
    method, seed, budget, n_initial, device, warmup = task
    problem = mixed_problem()
    return run_warmed(problem, method, seed, budget, n_initial, device, problem if warmup else None)


def _markdown(header: Any, timing: list[dict[str, Any]], runs: list[dict[str, Any]], methods: list[str],
              cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    lines = ["# Mixed search space: 10 categoricals, 10 integers, 10 reals", "", header.markdown(), "",
             "Problem `mixed30` (benchmarks/mixed_space.py's docstring defines it): categorical main "
             "effects and pair interactions from fixed lookup tables, category-dependent optima of the "
             "reals, a rotated ill-conditioned quadratic plus a cosine ripple over the reals and integers. "
             "Known optimum 0, so regret = best value found. A uniformly random point scores about 17 (median).", "",
             f"## (a) Time of one gpu_bo suggestion at n = {cfg['timing_n']} observations", ""]
    rows = []
    targets: dict[str, Any] = {}
    for r in timing:
        med, lo, hi = median_iqr(r["times"])
        status = f"error: {r['error']}" if r["error"] else ""
        rows.append([r["device"], f"{r.get('raw_samples_used', r['raw_samples'])}",
                     "n/a" if not math.isfinite(med) else f"{med:.3f} [{lo:.3f}, {hi:.3f}]",
                     fmt_stat(r["fit_seconds"]), "n/a" if r.get("peak_mb") is None else f"{r['peak_mb']:.0f}",
                     len(r["times"]), status])
    lines += [markdown_table(["device", "raw samples screened", "suggestion (s), median [IQR]",
                              "of which GP fit (s)", "peak GPU MB", "repeats", ""], rows), ""]
    cpu = next((r for r in timing if r["device"] == "cpu" and r["raw_samples"] is None), None)
    if cpu is not None:
        met = bool(math.isfinite(cpu["median"]) and cpu["median"] < TARGET_SECONDS)
        targets["cpu_suggestion_under_5s"] = {"median": cpu["median"], "met": met}
    if not any(r["device"].startswith("cuda") for r in timing):
        lines += ["CUDA: not measured on a GPU (none present on this machine).", ""]
    lines += [f"## (b) Regret after {cfg['budget']} evaluations ({cfg['n_initial']} initial), "
              f"{cfg['seeds']} seeds", "",
              "Cells: median [25th, 75th percentile]. Method time = seconds inside the method (ask + tell) "
              "over the whole run.", ""]
    rows = []
    med_of: dict[str, float] = {}
    for m in methods:
        rs = [r for r in runs if r["method"] == m]
        reg = [r["final_regret"] for r in rs]
        med_of[m] = median_iqr(reg)[0]
        errs = sum(r["error"] is not None for r in rs)
        rows.append([m, fmt_stat(reg) + (f" ({errs} errors)" if errs else ""),
                     fmt_stat([r["method_total_seconds"] for r in rs]),
                     ", ".join(f"{v:.3g}" for v in reg)])
    lines += [markdown_table(["method", "final regret", "method time (s)", "per seed"], rows), "",
              "![best-so-far mixed30](mixed_space.png)", ""]
    if "gpu_bo" in med_of:
        for other in ("optuna_tpe", "random", "optuna_gp"):
            if other in med_of:
                met = bool(math.isfinite(med_of["gpu_bo"]) and med_of["gpu_bo"] < med_of[other])
                targets[f"regret_below_{other}"] = {"gpu_bo": med_of["gpu_bo"], other: med_of[other], "met": met}
    lines += ["## Targets (issue 7)", ""]
    if "cpu_suggestion_under_5s" in targets:
        t = targets["cpu_suggestion_under_5s"]
        lines.append(f"- one CPU suggestion at n = {cfg['timing_n']} under {TARGET_SECONDS:.0f} s: "
                     f"**{'met' if t['met'] else 'missed'}** (median {t['median']:.2f} s)")
    for key, t in targets.items():
        if key.startswith("regret_below_"):
            other = key[len("regret_below_"):]
            lines.append(f"- gpu_bo median regret below {other}'s: **{'met' if t['met'] else 'missed'}** "
                         f"({t['gpu_bo']:.3g} vs {t[other]:.3g})")
    lines.append("")
    return "\n".join(lines), targets


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="5 seeds, no GPSampler (~3 min on 2 cores)")
    g.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (tests)")
    ap.add_argument("--methods", nargs="+",
                    choices=["gpu_bo", "gpu_bo_screen", "gpu_bo_tr", "optuna_tpe", "optuna_gp", "random"])
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--budget", type=int)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes for the regret runs (one thread each)")
    ap.add_argument("--device", default="cpu", help="device of gpu_bo's regret runs (default cpu)")
    ap.add_argument("--no-cuda", action="store_true", help="skip the CUDA timings even when a GPU is present")
    ap.add_argument("--raw-samples", type=int, default=1_000_000, help="the large screening of the CUDA timing")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--note", default="")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the JSON payload that was written."""
    args = _parse(argv)
    if args.jobs < 1:
        raise SystemExit(f"--jobs: got {args.jobs}, expected an int >= 1")
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    for k in ("methods", "seeds", "budget"):
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    if cfg["budget"] <= cfg["n_initial"]:
        raise SystemExit(f"--budget: got {cfg['budget']}, expected more than n_initial={cfg['n_initial']}")
    methods = [m for m in cfg["methods"] if available(m)]
    settings = {**cfg, "methods": methods, "device": args.device, "jobs": args.jobs, "optimum": OPTIMUM,
                "mixed_seed": MIXED_SEED}
    header = run_header("benchmarks/mixed_space.py", mode, settings, note=args.note)

    import torch

    # (a) first, in this process alone (before any pool shares the cores)
    timing = [suggest_times("cpu", cfg["timing_n"], cfg["timing_repeats"])]
    if torch.cuda.is_available() and not args.no_cuda:
        timing.append(suggest_times("cuda", cfg["timing_n"], cfg["timing_repeats"]))
        timing.append(suggest_times("cuda", cfg["timing_n"], cfg["timing_repeats"], raw_samples=args.raw_samples))
    for r in timing:
        print(f"[mixed_space] suggestion on {r['device']} (raw_samples {r.get('raw_samples_used')}): "
              f"median {r['median']:.3f} s" + (f" ERROR {r['error']}" if r["error"] else ""), flush=True)

    # (b) regret runs, serial order method-within-seed (the JSON keeps it whatever --jobs is)
    warmup = mode != "tiny"
    tasks = [(m, seed, cfg["budget"], cfg["n_initial"], args.device, warmup)
             for seed in range(cfg["seeds"]) for m in methods]

    def progress(_i: int, r: dict[str, Any]) -> None:
        status = "ERROR " + r["error"].splitlines()[0] if r["error"] else f"regret {r['final_regret']:.4g}"
        print(f"[mixed_space] seed={r['seed']} {r['method']}: {status}, method {r['method_total_seconds']:.1f} s",
              flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = parallel_map(_task, tasks, jobs=args.jobs, on_result=progress,
                            cost=lambda t: METHOD_COST.get(t[0], 1.0))
    header.finish()
    md, targets = _markdown(header, timing, runs, methods, cfg)
    payload = {"header": header.as_dict(), "optimal_params": optimal_params(), "timing": timing,
               "targets": targets, "runs": runs}
    out = Path(args.out)
    write_json(out / "mixed_space.json", payload)
    write_text(out / "mixed_space.md", md)
    if not args.no_plots:
        _plot(runs, "mixed30", methods, out / "mixed_space.png")
    print(md)
    return payload


if __name__ == "__main__":
    main()
