"""COCO/BBOB: gpu_bo against its peers on the 24 noiseless BBOB functions, in the same run.

What it measures: for each BBOB function f1-f24 (``cocoex``, the COCO platform's own
implementation), dimension d and instance, each method minimizes the function over its box
[-5, 5]^d sequentially for a budget of ``10 d + 10`` evaluations (d <= 5) or 100 (d = 10). The
precision of a run is ``f_best - f_opt`` (``f_opt`` from the suite: ``cocoex.BareProblem``'s
``best_value()``, the instance's optimum; the functions are evaluated through the same
``BareProblem``, which gives the values of ``cocoex.Suite("bbob", "instances:3-7", ...)``'s
problems without COCO's logging observers). Every run records its best-so-far precision after
each evaluation, its final precision and the optimizer's own time (ask + tell, the objective
excluded).

Methods (each with its package's defaults, all with the same number ``n_initial`` of initial
(quasi-)random points: gpu_bo's own default design size for the dimension, read from
``gb.Optimizer``): ``gpu_bo`` (``gb.Optimizer(space, direction="minimize", seed=...)`` through
benchmarks/peers.py's adapter, told the budget as ``gb.optimize(n_trials=...)`` tells it), ``optuna_gp`` (Optuna's GPSampler), ``optuna_tpe_mv`` (Optuna's
TPESampler with ``multivariate=True``), ``skopt_gp`` (scikit-optimize ``gp_minimize``'s
settings, d <= 5 only) and ``random`` (uniform random search). Every method's seed is the
instance number (instance 3 -> seed 3), so all methods of a (function, dimension, instance)
share it and a rerun repeats it.

The report (benchmarks/bbob_report.py) ranks the methods on every (function, instance) by final
precision (precisions below 1e-8, COCO's final target, tie; ties get the average rank) and gives
per dimension the mean rank, the wins, the median log10(precision + 1e-8) and the median
optimizer time; the mean rank per BBOB function group (f1-5 separable, f6-9 moderate, f10-14
ill-conditioned, f15-19 multi-modal, f20-24 weakly structured multi-modal); a per-function table
of median log10 precision; and the issue's targets as PASS/MISS lines.

Usage::

    python benchmarks/bbob.py --quick --jobs 2 --cache /tmp/bbob_cache   # d = 2, 5; instance 3
    python benchmarks/bbob.py --jobs 2 --cache /tmp/bbob_cache           # d = 2, 5, 10; inst. 3-7
    python benchmarks/bbob.py --quick --cache /tmp/bbob_cache --methods gpu_bo --fresh  # gpu_bo again
    python benchmarks/bbob.py --quick --cache /tmp/bbob_cache --report-only      # tables from cache

``--cache DIR`` keeps one JSON per (function, dimension, instance, method, seed) run; a rerun
skips the runs already there, so after changing gpu_bo rerun with ``--methods gpu_bo --fresh``
(``--fresh`` redoes the selected runs and overwrites their files): the peers' runs are reused.
The report covers every method whose runs are in the cache for the selected functions,
dimensions and instances. Outputs (``--out``,
default benchmarks/results/): ``bbob_quick.{md,json}`` and the runtime-ECDF plot
``bbob_quick_ecdf.png`` (``--quick``), or ``bbob.{md,json}`` and ``bbob_ecdf.png``.
``--jobs N`` runs the runs in N worker processes, one compute thread each.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bbob_report import markdown_report, plot_ecdf, summarize  # noqa: E402
from benchmarks.common import (  # noqa: E402
    METHOD_COST, RESULTS_DIR, parallel_map, run_header, timed_loop, write_json, write_text,
)
from benchmarks.peers import OptunaMethod, available, make_method  # noqa: E402

__all__ = ["METHODS", "budget_for", "n_initial_for", "make_space", "run_one", "run_cached",
           "cache_path", "load_cache", "main"]

METHODS = ["gpu_bo", "optuna_gp", "optuna_tpe_mv", "skopt_gp", "random"]
SKOPT_MAX_DIM = 5  # the issue runs gp_minimize at d <= 5 only
MODES = {
    "full": {"dims": [2, 5, 10], "instances": [3, 4, 5, 6, 7]},
    "quick": {"dims": [2, 5], "instances": [3]},
}
_REQUIRES = {"optuna_tpe_mv": "optuna_tpe"}  # availability as the peers.py method it wraps


def budget_for(d: int) -> int:
    """The issue's budget: 10 d + 10 evaluations for d <= 5, 100 for d = 10 (and above)."""
    return 10 * d + 10 if d <= 5 else 100


def n_initial_for(d: int) -> int:
    """gpu_bo's default initial design size in ``d`` dimensions (every method gets as many)."""
    import gpu_bo as gb

    return gb.Optimizer(make_space(d), direction="minimize", seed=0).n_initial


def make_space(d: int) -> Any:
    """The BBOB box [-5, 5]^d as a gpu_bo Space with dimensions x0 .. x{d-1}."""
    import gpu_bo as gb

    return gb.Space({f"x{i}": gb.Real(-5.0, 5.0) for i in range(d)})


class OptunaTPEMultivariate(OptunaMethod):
    """Optuna's TPESampler with ``multivariate=True`` (peers.py's TPE is the univariate one)."""

    def __init__(self, space: Any, seed: int, n_initial: int) -> None:
        import optuna

        super().__init__(space, seed, n_initial, sampler="tpe", name="optuna_tpe_mv")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # multivariate is flagged experimental
            sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_initial, multivariate=True)
        self.study = optuna.create_study(direction="minimize", sampler=sampler)


OPTIONS_ENV = "GPU_BO_BBOB_OPTIONS"  # --gpu-bo-options, passed to worker processes through the environment


def _make(method: str, space: Any, seed: int, n_initial: int) -> Any:
    if method == "optuna_tpe_mv":
        return OptunaTPEMultivariate(space, seed, n_initial)
    adapter = make_method(method, space, seed=seed, n_initial=n_initial)
    if method == "gpu_bo" and os.environ.get(OPTIONS_ENV):  # a variant of gpu_bo (its own cache)
        import gpu_bo as gb
        from gpu_bo.optimizer import OptimizerOptions

        options = OptimizerOptions(**json.loads(os.environ[OPTIONS_ENV]))
        adapter.opt = gb.Optimizer(space, direction="minimize", n_initial=n_initial, seed=seed, options=options)
    return adapter


def _available(method: str) -> bool:
    if method not in METHODS:
        raise ValueError(f"method: got {method!r}, expected one of {METHODS}")
    return available(_REQUIRES.get(method, method))


def run_one(function: int, d: int, instance: int, method: str, seed: int | None = None,
            budget: int | None = None) -> dict[str, Any]:
    """One sequential run of ``method`` on BBOB ``function`` in ``d`` dimensions; never raises.

    Args:
        function: BBOB function number, 1 to 24.
        d: dimension.
        instance: BBOB instance number (as in ``cocoex.Suite``'s ``instances:`` option).
        method: one of ``METHODS``.
        seed: the method's seed; ``None`` uses the instance number.
        budget: evaluations; ``None`` uses :func:`budget_for`.

    Returns:
        The run's record: settings, ``f_opt``, ``values``, ``best_so_far_precision``,
        ``final_precision`` (NaN when the run stopped early), ``method_seconds`` per step and
        their total ``method_total_seconds``, ``error`` (None or the traceback).
    """
    import cocoex

    seed = instance if seed is None else seed
    budget = budget_for(d) if budget is None else budget
    problem = cocoex.BareProblem("bbob", function, d, instance)
    f_opt = float(problem.best_value())
    n_initial = min(n_initial_for(d), budget)
    rec: dict[str, Any] = {"function": function, "d": d, "instance": instance, "method": method,
                           "seed": seed, "budget": budget, "n_initial": n_initial, "f_opt": f_opt,
                           "values": [], "method_seconds": [], "error": None}
    names = [f"x{i}" for i in range(d)]
    t_start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # peers' convergence chatter; errors still surface
            adapter = _make(method, make_space(d), seed, n_initial)
            timed_loop(adapter, budget, lambda p: float(problem(np.array([float(p[n]) for n in names]))), rec)
    except Exception as err:  # noqa: BLE001 - one broken peer must not stop the benchmark
        rec["error"] = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=6)}"
    rec["wall_seconds"] = time.perf_counter() - t_start
    best, curve = math.inf, []
    for v in rec["values"]:
        if math.isfinite(v):
            best = min(best, v)
        curve.append(max(best - f_opt, 0.0) if math.isfinite(best) else math.nan)
    rec["best_so_far_precision"] = curve
    rec["final_precision"] = curve[-1] if len(curve) == budget else math.nan
    rec["method_total_seconds"] = float(sum(rec["method_seconds"]))
    return rec


_WARMED: set[str] = set()  # methods warmed up in this process


def run_cached(task: tuple[int, int, int, str, int, int | None, bool]) -> dict[str, Any]:
    """:func:`run_one` by a picklable task ``(function, d, instance, method, seed, budget, warm)``;
    with ``warm`` the first run of each method in a process follows a short discarded run (f1,
    d = 2, 8 evaluations: a few past the initial design), so imports and first-call set-up are
    not charged to a real run."""
    function, d, instance, method, seed, budget, warm = task
    if warm and method not in _WARMED:
        run_one(1, 2, 1, method, seed=12345, budget=8)
        _WARMED.add(method)
    return run_one(function, d, instance, method, seed=seed, budget=budget)


def cache_path(cache: Path, function: int, d: int, instance: int, method: str, seed: int) -> Path:
    """The cache file of one run."""
    return Path(cache) / f"f{function:02d}_d{d:02d}_i{instance:02d}_{method}_s{seed}.json"


def load_cache(cache: Path | None, functions: list[int], dims: list[int], instances: list[int],
               methods: list[str] | None = None) -> list[dict[str, Any]]:
    """The finished, error-free runs in ``cache`` of the selected grid (any method if ``methods``
    is None), in a stable order."""
    if cache is None or not Path(cache).is_dir():
        return []
    runs = []
    for path in sorted(Path(cache).glob("f*_d*_i*_*_s*.json")):
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a half-written file (a killed run) is simply redone
        if (rec.get("error") is None and rec.get("function") in functions and rec.get("d") in dims
                and rec.get("instance") in instances and (methods is None or rec.get("method") in methods)):
            runs.append(rec)
    return runs


def _save(cache: Path, rec: dict[str, Any]) -> None:
    path = cache_path(cache, rec["function"], rec["d"], rec["instance"], rec["method"], rec["seed"])
    tmp = path.with_suffix(".tmp")
    write_json(tmp, rec)
    os.replace(tmp, path)  # atomic: a killed run never leaves a half-written record behind


def _parse_list(text: str, name: str) -> list[int]:
    """``"1-5,8"`` -> [1, 2, 3, 4, 5, 8]."""
    out: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            out += list(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise SystemExit(f"{name}: got {text!r}, expected numbers and ranges such as '1-5,8'") from None
    return out


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="d = 2 and 5, instance 3")
    ap.add_argument("--dims", help="e.g. '2,5' (default: the mode's)")
    ap.add_argument("--functions", default="1-24", help="e.g. '1-5,8' (default 1-24)")
    ap.add_argument("--instances", help="e.g. '3-7' (default: the mode's)")
    ap.add_argument("--methods", nargs="+", choices=METHODS, help=f"default: all of {METHODS}")
    ap.add_argument("--budget", type=int, help="override the issue's budget (tests, smoke runs)")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes, one thread each")
    ap.add_argument("--cache", type=Path, help="one JSON per run; a rerun skips finished runs")
    ap.add_argument("--report-only", action="store_true", help="tables from --cache, no runs")
    ap.add_argument("--fresh", action="store_true",
                    help="redo the selected runs even where --cache has them (overwrites them)")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--note", default="")
    ap.add_argument("--gpu-bo-options", default="",
                    help="JSON of OptimizerOptions fields for gpu_bo, e.g. '{\"output_warp\": \"auto\"}' "
                         "(a variant: give it its own copy of the cache and --methods gpu_bo --fresh)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run (or, with ``--report-only``, only report) the benchmark; returns the summary."""
    args = _parse(argv)
    mode = "quick" if args.quick else "full"
    dims = _parse_list(args.dims, "--dims") if args.dims else MODES[mode]["dims"]
    instances = _parse_list(args.instances, "--instances") if args.instances else MODES[mode]["instances"]
    functions = _parse_list(args.functions, "--functions")
    if bad := [f for f in functions if not 1 <= f <= 24]:
        raise SystemExit(f"--functions: got {bad}, expected BBOB functions 1 to 24")
    if args.report_only and args.cache is None:
        raise SystemExit("--report-only: needs --cache DIR (the runs to report)")
    methods = [m for m in (args.methods or METHODS) if _available(m)]
    settings = {"dims": dims, "functions": functions, "instances": instances, "methods": methods,
                "budget": {d: args.budget or budget_for(d) for d in dims}, "jobs": args.jobs,
                "seed": "instance number", "skopt_max_dim": SKOPT_MAX_DIM}
    if args.gpu_bo_options:
        json.loads(args.gpu_bo_options)  # fail here, not in every run
        os.environ[OPTIONS_ENV] = args.gpu_bo_options
        settings["gpu_bo_options"] = args.gpu_bo_options
    header = run_header("benchmarks/bbob.py", mode, settings, note=args.note)
    runs: list[dict[str, Any]] = []
    if not args.report_only:
        done = {(r["function"], r["d"], r["instance"], r["method"], r["seed"])
                for r in ([] if args.fresh else load_cache(args.cache, functions, dims, instances))
                if r.get("budget") == (args.budget or budget_for(r["d"]))}
        tasks = [(f, d, i, m, i, args.budget, not args.no_warmup)
                 for d in dims for f in functions for i in instances for m in methods
                 if not (m == "skopt_gp" and d > SKOPT_MAX_DIM) and (f, d, i, m, i) not in done]
        print(f"bbob: {len(tasks)} runs to do ({len(done)} already in the cache)", flush=True)

        def on_result(k: int, rec: dict[str, Any]) -> None:
            if args.cache is not None and rec["error"] is None:
                _save(args.cache, rec)
            err = f" ERROR {rec['error'].splitlines()[0]}" if rec["error"] else ""
            print(f"  [{k + 1}/{len(tasks)}] f{rec['function']} d={rec['d']} i={rec['instance']} "
                  f"{rec['method']}: precision {rec['final_precision']:.3g}, "
                  f"method {rec['method_total_seconds']:.1f} s{err}", flush=True)

        runs = parallel_map(run_cached, tasks, jobs=args.jobs, on_result=on_result,
                            cost=lambda t: METHOD_COST.get(t[3], 1.0) * budget_for(t[1]) ** 2)
    if args.cache is not None:  # the report covers every finished run of the grid in the cache
        runs = load_cache(args.cache, functions, dims, instances)
    runs = [r for r in runs if r["error"] is None and r["budget"] == (args.budget or budget_for(r["d"]))]
    header.finish()
    summary = summarize(runs)
    stem = "bbob_quick" if args.quick else "bbob"
    write_json(args.out / f"{stem}.json", {"header": header.as_dict(), "summary": summary, "runs": runs})
    md = markdown_report(header.markdown(), summary)
    if runs and importlib.util.find_spec("matplotlib") is not None:
        plot_ecdf(runs, args.out / f"{stem}_ecdf.png")
        md += f"\nRuntime ECDF per dimension (COCO's view of the same runs): {stem}_ecdf.png\n"
    write_text(args.out / f"{stem}.md", md)
    print(md)
    return summary


if __name__ == "__main__":
    main()
