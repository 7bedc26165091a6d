"""Optimization quality against peers: simple regret at a fixed budget, over seeds.

For each problem (benchmarks/problems.py), method (benchmarks/peers.py) and seed, run one
sequential optimization of ``budget`` evaluations (the first ``n_initial`` from each method's
own initial design) and record the best-so-far regret after every evaluation, the time spent
inside the method (ask + tell) and the time spent in the objective.

Outputs (``--out``, default benchmarks/results/): ``quality.json`` (every run), ``quality.md``
(median [IQR] of final regret and method time per problem and method, mean ranks, the issue's
targets checked) and ``quality_<problem>.png`` (best-so-far curves: median and IQR band).

Usage::

    python benchmarks/quality.py --quick        # within ~5 minutes on a 2-core CPU
    python benchmarks/quality.py                # full: 10 seeds, budget 50, all problems
"""

from __future__ import annotations

import argparse
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
    RESULTS_DIR, fmt_stat, markdown_table, median_iqr, run_header, write_json, write_text,
)
from benchmarks.peers import QUALITY_METHODS, available, make_method  # noqa: E402
from benchmarks.problems import PROBLEMS, Problem, get_problem  # noqa: E402

__all__ = ["run_one", "summarize", "main"]

MODES = {
    "full": {"problems": list(PROBLEMS), "seeds": 10, "budget": 50, "n_initial": 10},
    "quick": {"problems": ["branin", "hartmann6", "svc_cancer"], "seeds": 2, "budget": 25, "n_initial": 10},
    "tiny": {"problems": ["branin"], "seeds": 1, "budget": 5, "n_initial": 3},
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
            for _ in range(budget):
                t0 = time.perf_counter()
                p = adapter.ask(1)[0]
                t1 = time.perf_counter()
                v = problem(p)
                t2 = time.perf_counter()
                adapter.tell([p], [v])
                t3 = time.perf_counter()
                rec["values"].append(v)
                rec["params"].append(p)
                rec["method_seconds"].append((t1 - t0) + (t3 - t2))
                rec["objective_seconds"] += t2 - t1
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
    """The issue's quality targets: best mean rank; never worse than GPSampler by more than its IQR."""
    out: dict[str, Any] = {}
    if "gpu_bo" not in ranks:
        return out
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
              descriptions: dict[str, str], settings: dict[str, Any]) -> str:
    lines = ["# Optimization quality against peers", "", header.markdown(), ""]
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
        lines += [f"![best-so-far {p}](quality_{p}.png)", ""]
    lines += ["## Mean rank", "",
              "Rank of each method's median final regret per problem (1 = best), averaged over the "
              "problems; and the rank within every (problem, seed), averaged.", ""]
    ranked = sorted(methods, key=lambda m: summary["ranks"][m]["mean_rank_of_medians"])
    lines += [markdown_table(["method", "mean rank (medians)", "mean rank (per seed)"],
                             [[m, f"{summary['ranks'][m]['mean_rank_of_medians']:.2f}",
                               f"{summary['ranks'][m]['mean_rank_per_seed']:.2f}"] for m in ranked]), ""]
    t = summary["targets"]
    if t:
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
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="fewer seeds and problems, smaller budget (~5 min)")
    g.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (tests)")
    ap.add_argument("--problems", nargs="+", choices=list(PROBLEMS))
    ap.add_argument("--methods", nargs="+", choices=QUALITY_METHODS)
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
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    for k in ("problems", "seeds", "budget", "n_initial"):
        if getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    if cfg["budget"] <= cfg["n_initial"]:
        raise SystemExit(f"--budget: got {cfg['budget']}, expected more than n_initial={cfg['n_initial']}")
    requested = args.methods or QUALITY_METHODS
    methods = [m for m in requested if available(m)]
    skipped = [m for m in requested if m not in methods]
    settings = {**cfg, "methods": methods, "skipped_missing_package": skipped, "device": args.device}
    header = run_header("benchmarks/quality.py", mode, settings, note=args.note)
    runs = []
    problems = {p: get_problem(p) for p in cfg["problems"]}
    if not args.no_warmup and mode != "tiny":
        # one short discarded run per method first, so lazy imports and first-call set-up
        # (paid once per process by every method) are not charged to the first seed
        warm = get_problem("branin")
        for m in methods:
            run_one(warm, m, 12345, 5, 3, device=args.device)
    for pname, prob in problems.items():
        for seed in range(cfg["seeds"]):
            for m in methods:
                r = run_one(prob, m, seed, cfg["budget"], cfg["n_initial"], device=args.device)
                runs.append(r)
                status = "ERROR " + r["error"].splitlines()[0] if r["error"] else f"regret {r['final_regret']:.4g}"
                print(f"[quality] {pname} seed={seed} {m}: {status}, method {r['method_total_seconds']:.1f} s, "
                      f"wall {r['wall_seconds']:.1f} s", flush=True)
    header.finish()
    summary = summarize(runs, cfg["problems"], methods)
    payload = {"header": header.as_dict(), "summary": {k: v for k, v in summary.items()}, "runs": runs}
    out = Path(args.out)
    write_json(out / "quality.json", payload)
    md = _markdown(header, summary, cfg["problems"], methods,
                   {p: problems[p].description for p in problems}, cfg)
    write_text(out / "quality.md", md)
    if not args.no_plots:
        for p in cfg["problems"]:
            _plot(runs, p, methods, out / f"quality_{p}.png")
    print(md)
    return payload


if __name__ == "__main__":
    main()
