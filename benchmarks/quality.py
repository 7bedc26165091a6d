"""Optimization quality against peers: simple regret at a fixed budget, over seeds.

For each problem (benchmarks/problems.py), method (benchmarks/peers.py) and seed, run one
sequential optimization of ``budget`` evaluations (the first ``n_initial`` from each method's
own initial design) and record the best-so-far regret after every evaluation, the time spent
inside the method (ask + tell) and the time spent in the objective.

Outputs (``--out``, default benchmarks/results/): ``quality.json`` (every run), ``quality.md``
(median [IQR] of final regret and method time per problem and method, mean ranks, the issue's
targets checked) and ``quality_<problem>.png`` (best-so-far curves: median and IQR band).

``--suite highdim`` runs the high-dimensional problems instead (Hartmann6 hidden in 100
dimensions, Ackley in 100 dimensions; budget 200, 20 initial points, 5 seeds; gpu_bo, Optuna
GPSampler and TPE, random search) and writes ``quality_highdim.{json,md}`` and
``quality_highdim_<problem>.png``, leaving the main tables alone.

``--jobs N`` runs the (problem, method, seed) runs in N worker processes (one compute thread
each); the records and their order are those of the serial run (``--jobs 1``, the default).
Method times then come from single-threaded workers sharing the machine.

Usage::

    python benchmarks/quality.py --quick        # within ~5 minutes on a 2-core CPU
    python benchmarks/quality.py                # full: 10 seeds, budget 50, the five main problems
    python benchmarks/quality.py --suite highdim --jobs 14   # the 100-dimensional suite
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    METHOD_COST, RESULTS_DIR, fmt_stat, markdown_table, median_iqr, parallel_map, run_header, timed_loop,
    write_json, write_text,
)
from benchmarks.peers import QUALITY_METHODS, available, make_method  # noqa: E402
from benchmarks.problems import PROBLEMS, Problem, get_problem  # noqa: E402

__all__ = ["run_one", "run_warmed", "summarize", "main"]

MAIN_PROBLEMS = ["branin", "hartmann6", "ackley10", "svc_cancer", "hgb_cancer"]
HIGHDIM_PROBLEMS = ["hartmann6_100d", "ackley100"]

MODES = {
    "full": {"problems": MAIN_PROBLEMS, "seeds": 10, "budget": 50, "n_initial": 10},
    "quick": {"problems": ["branin", "hartmann6", "svc_cancer"], "seeds": 2, "budget": 25, "n_initial": 10},
    "tiny": {"problems": ["branin"], "seeds": 1, "budget": 5, "n_initial": 3},
}

# suites: their own problems, methods, settings per mode and result-file stem
SUITES: dict[str, dict[str, Any]] = {
    "main": {"modes": MODES, "methods": QUALITY_METHODS, "stem": "quality", "issue": 5},
    "highdim": {
        "modes": {
            "full": {"problems": HIGHDIM_PROBLEMS, "seeds": 5, "budget": 200, "n_initial": 20},
            "quick": {"problems": HIGHDIM_PROBLEMS, "seeds": 1, "budget": 60, "n_initial": 20},
            "tiny": {"problems": ["hartmann6_100d"], "seeds": 1, "budget": 5, "n_initial": 3},
        },
        "methods": ["gpu_bo", "optuna_gp", "optuna_tpe", "random"],
        "stem": "quality_highdim", "issue": 7,
    },
}


def run_one(problem: Problem, method: str, seed: int, budget: int, n_initial: int,
            device: str = "auto") -> dict[str, Any]:
    """One optimization run; never raises (an error is recorded with the partial run)."""
    rec: dict[str, Any] = {"problem": problem.name, "method": method, "seed": seed, "budget": budget,
                           "n_initial": n_initial, "values": [], "params": [], "method_seconds": [],
                           "objective_seconds": 0.0, "error": None}
    t_start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # peers' convergence chatter; errors still surface
            adapter = make_method(method, problem.space, seed=seed, n_initial=n_initial, device=device)
            timed_loop(adapter, budget, problem, rec)
    except Exception as err:  # noqa: BLE001 - one broken peer must not stop the benchmark
        rec["error"] = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=6)}"
    rec["wall_seconds"] = time.perf_counter() - t_start
    best = math.inf
    curve = []
    for v in rec["values"]:
        if v is not None and math.isfinite(v):
            best = min(best, v)
        curve.append(problem.regret(best) if math.isfinite(best) else math.nan)
    rec["best_so_far_regret"] = curve
    rec["final_regret"] = curve[-1] if curve and len(curve) == budget else math.nan
    rec["method_total_seconds"] = float(sum(rec["method_seconds"]))
    return rec


_WARMED: set[str] = set()  # methods warmed up in this process


@functools.lru_cache(maxsize=None)
def _problem(name: str) -> Problem:
    return get_problem(name)


def run_warmed(problem: Problem, method: str, seed: int, budget: int, n_initial: int, device: str,
               warm_on: Problem | None) -> dict[str, Any]:
    """:func:`run_one`, with the first run of each method in a process preceded by a short
    discarded run on ``warm_on`` (None: no warm-up), so lazy imports and first-call set-up (paid
    once per process by every method) are not charged to the first seed."""
    if warm_on is not None and method not in _WARMED:
        run_one(warm_on, method, 12345, 5, 3, device=device)
        _WARMED.add(method)
    return run_one(problem, method, seed, budget, n_initial, device=device)


def _task(task: tuple[str, str, int, int, int, str, bool]) -> dict[str, Any]:
    """One (problem, method, seed) run by names, in this process or a pool worker."""
    pname, method, seed, budget, n_initial, device, warmup = task
    return run_warmed(_problem(pname), method, seed, budget, n_initial, device,
                      _problem("branin") if warmup else None)


def _rankdata(values: Sequence[float]) -> list[float]:
    """Average ranks (1 = best) with NaN ranked last."""
    from scipy.stats import rankdata

    arr = np.asarray([v if math.isfinite(v) else np.inf for v in values], dtype=float)
    return [float(r) for r in rankdata(arr, method="average")]


def summarize(runs: list[dict[str, Any]], problems: list[str], methods: list[str]) -> dict[str, Any]:
    """Per problem and method: final regret and method time stats; mean ranks; target checks."""
    table: dict[str, dict[str, Any]] = {}
    for p in problems:
        table[p] = {}
        for m in methods:
            rs = [r for r in runs if r["problem"] == p and r["method"] == m]
            if not rs:
                continue
            reg = [r["final_regret"] for r in rs]
            table[p][m] = {
                "regret": median_iqr(reg), "regret_values": reg,
                "method_seconds": median_iqr([r["method_total_seconds"] for r in rs]),
                "wall_seconds": median_iqr([r["wall_seconds"] for r in rs]),
                "errors": sum(r["error"] is not None for r in rs), "runs": len(rs),
            }
    # mean rank (a): rank the methods' median final regret per problem, average over problems
    rank_median: dict[str, list[float]] = {m: [] for m in methods}
    # mean rank (b): rank the methods within every (problem, seed), average over all of them
    rank_seed: dict[str, list[float]] = {m: [] for m in methods}
    for p in problems:
        ms = [m for m in methods if m in table[p]]
        if not ms:
            continue
        for m, rk in zip(ms, _rankdata([table[p][m]["regret"][0] for m in ms])):
            rank_median[m].append(rk)
        seeds = sorted({r["seed"] for r in runs if r["problem"] == p})
        for s in seeds:
            by_m = {r["method"]: r["final_regret"] for r in runs if r["problem"] == p and r["seed"] == s}
            mm = [m for m in ms if m in by_m]
            for m, rk in zip(mm, _rankdata([by_m[m] for m in mm])):
                rank_seed[m].append(rk)
    ranks = {m: {"mean_rank_of_medians": float(np.mean(rank_median[m])) if rank_median[m] else math.nan,
                 "mean_rank_per_seed": float(np.mean(rank_seed[m])) if rank_seed[m] else math.nan}
             for m in methods}
    targets = _targets(table, ranks, problems)
    return {"table": table, "ranks": ranks, "targets": targets}


def _targets(table: dict, ranks: dict, problems: list[str]) -> dict[str, Any]:
    """The issues' quality targets: best mean rank; never worse than GPSampler by more than its
    IQR (issue 5); a lower median regret than every other method on each problem (issue 7)."""
    out: dict[str, Any] = {}
    if "gpu_bo" not in ranks:
        return out
    beats = {}
    for p in problems:
        row = table.get(p, {})
        if "gpu_bo" not in row:
            continue
        own = row["gpu_bo"]["regret"][0]
        # peers only: gpu_bo's own diagnostic variants (gpu_bo_tr, gpu_bo_screen) are not targets
        others = {m: c["regret"][0] for m, c in row.items() if not m.startswith("gpu_bo")}
        beats[p] = {"gpu_bo_median": own, "others_median": others,
                    "met": bool(math.isfinite(own) and all(not math.isfinite(v) or own < v
                                                           for v in others.values()))}
    out["beats_each_median"] = beats
    best_other = min((v["mean_rank_of_medians"] for m, v in ranks.items()
                      if m != "gpu_bo" and math.isfinite(v["mean_rank_of_medians"])), default=math.nan)
    own = ranks["gpu_bo"]["mean_rank_of_medians"]
    out["best_mean_rank"] = {"gpu_bo": own, "best_other": best_other,
                             "met": bool(math.isfinite(own) and (not math.isfinite(best_other) or own <= best_other))}
    per = {}
    for p in problems:
        row = table.get(p, {})
        if "gpu_bo" in row and "optuna_gp" in row:
            g_med = row["gpu_bo"]["regret"][0]
            o_med, o_lo, o_hi = row["optuna_gp"]["regret"]
            margin = g_med - o_med - (o_hi - o_lo)
            per[p] = {"gpu_bo_median": g_med, "optuna_gp_median": o_med, "optuna_gp_iqr": o_hi - o_lo,
                      "excess_over_allowed": margin, "met": bool(math.isfinite(margin) and margin <= 0)}
    out["vs_optuna_gp"] = per
    return out


def _markdown(header: Any, summary: dict[str, Any], problems: list[str], methods: list[str],
              descriptions: dict[str, str], settings: dict[str, Any], stem: str = "quality",
              issue: int = 5) -> str:
    title = "Optimization quality against peers" + (" (high-dimensional suite)" if issue == 7 else "")
    lines = [f"# {title}", "", header.markdown(), ""]
    lines.append(f"Simple regret = best value found after {settings['budget']} evaluations "
                 f"({settings['n_initial']} initial) minus the known optimum (HPO tasks: 1 - CV accuracy). "
                 f"{settings['seeds']} seeds per cell. Cells: median [25th, 75th percentile]. "
                 "Method time = seconds spent inside the method (ask + tell) over the whole run, "
                 "objective evaluations excluded.")
    lines.append("")
    for p in problems:
        lines += [f"## {p}", "", descriptions.get(p, ""), ""]
        rows = []
        for m in methods:
            c = summary["table"].get(p, {}).get(m)
            if c is None:
                continue
            err = f" ({c['errors']} errors)" if c["errors"] else ""
            rows.append([m, fmt_stat(c["regret_values"]) + err,
                         f"{c['method_seconds'][0]:.2f} [{c['method_seconds'][1]:.2f}, {c['method_seconds'][2]:.2f}]",
                         f"{c['wall_seconds'][0]:.2f}"])
        lines += [markdown_table(["method", "final regret", "method time (s)", "wall time (s)"], rows), ""]
        lines += [f"![best-so-far {p}]({stem}_{p}.png)", ""]
    lines += ["## Mean rank", "",
              "Rank of each method's median final regret per problem (1 = best), averaged over the "
              "problems; and the rank within every (problem, seed), averaged.", ""]
    ranked = sorted(methods, key=lambda m: summary["ranks"][m]["mean_rank_of_medians"])
    lines += [markdown_table(["method", "mean rank (medians)", "mean rank (per seed)"],
                             [[m, f"{summary['ranks'][m]['mean_rank_of_medians']:.2f}",
                               f"{summary['ranks'][m]['mean_rank_per_seed']:.2f}"] for m in ranked]), ""]
    t = summary["targets"]
    if t and issue == 7:
        lines += ["## Targets (issue 7)", ""]
        for p, c in t["beats_each_median"].items():
            others = ", ".join(f"{m} {v:.4g}" for m, v in c["others_median"].items())
            lines.append(f"- {p}: gpu_bo median regret {c['gpu_bo_median']:.4g} lower than every other "
                         f"method's ({others}): **{'met' if c['met'] else 'missed'}**")
        lines.append("")
    elif t:
        lines += ["## Targets (issue 5)", ""]
        b = t["best_mean_rank"]
        lines.append(f"- gpu_bo has the best mean rank: **{'met' if b['met'] else 'missed'}** "
                     f"(gpu_bo {b['gpu_bo']:.2f}, best other {b['best_other']:.2f})")
        for p, c in t["vs_optuna_gp"].items():
            lines.append(f"- {p}: gpu_bo median regret {c['gpu_bo_median']:.4g} vs Optuna GPSampler "
                         f"{c['optuna_gp_median']:.4g} (IQR {c['optuna_gp_iqr']:.4g}): "
                         f"**{'met' if c['met'] else 'missed'}**"
                         + ("" if c["met"] else f", worse than allowed by {c['excess_over_allowed']:.4g}"))
        lines.append("")
    return "\n".join(lines)


def _plot(runs: list[dict[str, Any]], problem: str, methods: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for m in methods:
        curves = [r["best_so_far_regret"] for r in runs if r["problem"] == problem and r["method"] == m
                  and r["best_so_far_regret"]]
        if not curves:
            continue
        L = min(len(c) for c in curves)
        arr = np.maximum(np.asarray([c[:L] for c in curves], dtype=float), 1e-6)  # log axis floor
        med = np.nanmedian(arr, axis=0)
        lo, hi = np.nanpercentile(arr, [25, 75], axis=0)
        x = np.arange(1, L + 1)
        ax.plot(x, med, label=m, lw=2 if m == "gpu_bo" else 1.2)
        ax.fill_between(x, lo, hi, alpha=0.15)
    ax.set_yscale("log")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best-so-far regret (median, IQR band; floor 1e-6)")
    ax.set_title(problem)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", choices=list(SUITES), default="main",
                    help="main: the five problems of quality.md; highdim: the 100-dimensional ones")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="fewer seeds and problems, smaller budget (~5 min)")
    g.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (tests)")
    ap.add_argument("--problems", nargs="+", choices=list(PROBLEMS))
    ap.add_argument("--jobs", type=int, default=1,
                    help="worker processes for the runs (one thread each; default 1: serial)")
    ap.add_argument("--methods", nargs="+", choices=[*QUALITY_METHODS, "gpu_bo_tr", "gpu_bo_screen"])
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--budget", type=int)
    ap.add_argument("--n-initial", type=int)
    ap.add_argument("--device", default="auto", help="gpu_bo / BoTorch device (default auto)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--no-warmup", action="store_true", help="skip the discarded warm-up run per method")
    ap.add_argument("--note", default="", help="free text recorded in the results (e.g. 'machine shared')")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns the JSON payload that was written."""
    args = _parse(argv)
    if args.jobs < 1:
        raise SystemExit(f"--jobs: got {args.jobs}, expected an int >= 1")
    suite = SUITES[args.suite]
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    cfg = dict(suite["modes"][mode])
    for k in ("problems", "seeds", "budget", "n_initial"):
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    if cfg["budget"] <= cfg["n_initial"]:
        raise SystemExit(f"--budget: got {cfg['budget']}, expected more than n_initial={cfg['n_initial']}")
    requested = args.methods or suite["methods"]
    methods = [m for m in requested if available(m)]
    skipped = [m for m in requested if m not in methods]
    settings = {**cfg, "suite": args.suite, "methods": methods, "skipped_missing_package": skipped,
                "device": args.device, "jobs": args.jobs}
    header = run_header("benchmarks/quality.py", mode, settings, note=args.note)
    problems = {p: get_problem(p) for p in cfg["problems"]}
    warmup = not args.no_warmup and mode != "tiny"
    # the serial order: problem, then seed, then method (the JSON keeps it whatever --jobs is)
    tasks = [(pname, m, seed, cfg["budget"], cfg["n_initial"], args.device, warmup)
             for pname in cfg["problems"] for seed in range(cfg["seeds"]) for m in methods]

    def progress(_i: int, r: dict[str, Any]) -> None:
        status = "ERROR " + r["error"].splitlines()[0] if r["error"] else f"regret {r['final_regret']:.4g}"
        print(f"[quality] {r['problem']} seed={r['seed']} {r['method']}: {status}, "
              f"method {r['method_total_seconds']:.1f} s, wall {r['wall_seconds']:.1f} s", flush=True)

    # dear methods and big problems first; results keep the serial order
    runs = parallel_map(_task, tasks, jobs=args.jobs, on_result=progress,
                        cost=lambda t: METHOD_COST.get(t[1], 1.0) * t[3] * problems[t[0]].space.d)
    header.finish()
    summary = summarize(runs, cfg["problems"], methods)
    payload = {"header": header.as_dict(), "summary": {k: v for k, v in summary.items()}, "runs": runs}
    out = Path(args.out)
    stem = suite["stem"]
    write_json(out / f"{stem}.json", payload)
    md = _markdown(header, summary, cfg["problems"], methods,
                   {p: problems[p].description for p in problems}, cfg, stem=stem, issue=suite["issue"])
    write_text(out / f"{stem}.md", md)
    if not args.no_plots:
        for p in cfg["problems"]:
            _plot(runs, p, methods, out / f"{stem}_{p}.png")
    print(md)
    return payload


if __name__ == "__main__":
    main()
