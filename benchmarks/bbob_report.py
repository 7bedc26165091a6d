"""The tables of benchmarks/bbob.py: ranks, wins, median log10 precision, groups, targets.

Works on run records (dicts with ``function``, ``d``, ``instance``, ``seed``, ``method``,
``final_precision`` and ``method_total_seconds``), so the aggregation can be checked on made-up
records (tests/test_benchmarks_bbob.py) without running anything.

Ranks: within one (function, instance, seed) cell of a dimension the methods are ranked by final
precision, 1 = best; precisions at or below ``FLOOR`` (1e-8, COCO's final target) count as equal,
ties get the average rank. Only complete cells (every method that ran at that dimension has a
finished run there) are ranked; the others are counted as ``incomplete_cells``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmarks.common import fmt_seconds, markdown_table, median_iqr

__all__ = ["FLOOR", "GROUPS", "FUNCTION_NAMES", "log_precision", "rank_cell", "summarize",
           "targets", "markdown_report", "ecdf", "plot_ecdf"]

FLOOR = 1e-8
# the five BBOB function groups (COCO's names)
GROUPS: dict[str, range] = {
    "f1-5 separable": range(1, 6), "f6-9 moderate": range(6, 10), "f10-14 ill-conditioned": range(10, 15),
    "f15-19 multi-modal": range(15, 20), "f20-24 weak structure": range(20, 25),
}
FUNCTION_NAMES = [
    "", "sphere", "ellipsoid (separable)", "Rastrigin (separable)", "Bueche-Rastrigin", "linear slope",
    "attractive sector", "step ellipsoid", "Rosenbrock", "Rosenbrock (rotated)", "ellipsoid", "discus",
    "bent cigar", "sharp ridge", "different powers", "Rastrigin", "Weierstrass", "Schaffer F7",
    "Schaffer F7 (ill-cond.)", "Griewank-Rosenbrock", "Schwefel", "Gallagher 101 peaks",
    "Gallagher 21 peaks", "Katsuura", "Lunacek bi-Rastrigin",
]
_ORDER = ["gpu_bo", "optuna_gp", "optuna_tpe_mv", "skopt_gp", "random"]
TARGET_METHOD, TARGET_PEER = "gpu_bo", "optuna_gp"
MAX_GROUP_LEAD = 0.5


def log_precision(p: float) -> float:
    """``log10(precision + 1e-8)``; NaN (an unfinished run) stays NaN."""
    return math.log10(p + FLOOR) if p is not None and math.isfinite(p) else math.nan


def rank_cell(precisions: Sequence[float]) -> list[float]:
    """Average ranks (1 = best) of the precisions of one cell; <= FLOOR ties, NaN ranks last."""
    from scipy.stats import rankdata

    arr = [max(p, FLOOR) if p is not None and math.isfinite(p) else math.inf for p in precisions]
    return [float(r) for r in rankdata(np.asarray(arr, dtype=float), method="average")]


def _group_of(function: int) -> str:
    for name, fs in GROUPS.items():
        if function in fs:
            return name
    raise ValueError(f"function: got {function!r}, expected a BBOB function 1 to 24")


def _mean(xs: Sequence[float]) -> float:
    return float(np.mean(xs)) if xs else math.nan


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per dimension: each method's mean rank, wins, median log10 precision and time, the mean
    rank per function group, the median log10 precision per function; then the targets."""
    present = {r["method"] for r in runs}
    methods = [m for m in _ORDER if m in present] + sorted(present - set(_ORDER))
    per_dim: dict[int, Any] = {}
    for d in sorted({r["d"] for r in runs}):
        rs = [r for r in runs if r["d"] == d]
        ms = [m for m in methods if any(r["method"] == m for r in rs)]
        cells: dict[tuple, dict[str, dict[str, Any]]] = {}
        for r in rs:
            cells.setdefault((r["function"], r["instance"], r["seed"]), {})[r["method"]] = r
        ranks: dict[str, list[float]] = {m: [] for m in ms}
        group_ranks: dict[str, dict[str, list[float]]] = {g: {m: [] for m in ms} for g in GROUPS}
        wins = {m: 0 for m in ms}
        logp: dict[str, list[float]] = {m: [] for m in ms}
        secs: dict[str, list[float]] = {m: [] for m in ms}
        per_function: dict[int, dict[str, list[float]]] = {}
        incomplete = 0
        for (f, _i, _s), by_m in sorted(cells.items()):
            if any(m not in by_m for m in ms):
                incomplete += 1
                continue
            rk = rank_cell([by_m[m]["final_precision"] for m in ms])
            for m, x in zip(ms, rk):
                ranks[m].append(x)
                group_ranks[_group_of(f)][m].append(x)
                wins[m] += x == min(rk)  # a shared first place is a win for each
                lp = log_precision(by_m[m]["final_precision"])
                logp[m].append(lp)
                secs[m].append(by_m[m]["method_total_seconds"])
                per_function.setdefault(f, {}).setdefault(m, []).append(lp)
        per_dim[d] = {
            "methods": ms, "cells": len(cells) - incomplete, "incomplete_cells": incomplete,
            "mean_rank": {m: _mean(ranks[m]) for m in ms}, "wins": wins,
            "median_log10_precision": {m: median_iqr(logp[m])[0] for m in ms},
            "median_method_seconds": {m: median_iqr(secs[m])[0] for m in ms},
            "group_mean_rank": {g: {m: _mean(v[m]) for m in ms} for g, v in group_ranks.items() if v[ms[0]]},
            "function_median_log10_precision": {
                f: {m: median_iqr(v[m])[0] for m in ms} for f, v in sorted(per_function.items())},
        }
    return {"methods": methods, "dims": per_dim, "targets": targets(per_dim)}


def targets(per_dim: dict[int, Any]) -> list[dict[str, Any]]:
    """The issue's BBOB targets, one entry per check: ``{"name", "ok", "text"}``; ``ok`` is None
    where gpu_bo or GPSampler has no complete cell to judge."""
    out = []
    for d, s in sorted(per_dim.items()):
        ms, rank, logp = s["methods"], s["mean_rank"], s["median_log10_precision"]
        if TARGET_METHOD not in ms or TARGET_PEER not in ms or not s["cells"]:
            out.append({"name": f"d={d}", "ok": None, "text": f"n/a at d={d}: needs {TARGET_METHOD} and "
                        f"{TARGET_PEER} on the same cells"})
            continue
        others = {m: rank[m] for m in ms if m != TARGET_METHOD}
        best_other = min(others, key=others.get)
        ok = rank[TARGET_METHOD] <= others[best_other]
        out.append({"name": f"d={d} best mean rank", "ok": ok,
                    "text": f"d={d}: gpu_bo mean rank {rank[TARGET_METHOD]:.3f} vs best other "
                            f"{best_other} {others[best_other]:.3f} (over {s['cells']} cells; a tie counts as best)"})
        ok = logp[TARGET_METHOD] <= logp[TARGET_PEER]
        out.append({"name": f"d={d} median log10 precision", "ok": ok,
                    "text": f"d={d}: gpu_bo median log10(precision + 1e-8) {logp[TARGET_METHOD]:.3f} vs "
                            f"{TARGET_PEER} {logp[TARGET_PEER]:.3f} (lower is better)"})
        for g, gr in s["group_mean_rank"].items():
            lead = gr[TARGET_METHOD] - gr[TARGET_PEER]
            out.append({"name": f"d={d} {g}", "ok": lead <= MAX_GROUP_LEAD,
                        "text": f"d={d} {g}: {TARGET_PEER} leads gpu_bo by {lead:+.2f} rank "
                                f"(gpu_bo {gr[TARGET_METHOD]:.2f}, {TARGET_PEER} {gr[TARGET_PEER]:.2f}; "
                                f"allowed {MAX_GROUP_LEAD})"})
    return out


def _f2(x: float) -> str:
    return f"{x:.2f}" if x is not None and math.isfinite(x) else "n/a"


def markdown_report(header: str, summary: dict[str, Any]) -> str:
    """The markdown page: header, the targets, then per dimension the tables."""
    lines = ["# COCO/BBOB: gpu_bo and its peers", "", header, "",
             "Precision = f_best - f_opt after the budget (10 d + 10 evaluations for d <= 5, 100 for "
             "d = 10). Ranks per (function, instance): 1 = best, precisions <= 1e-8 tie, ties averaged. "
             "log10 columns: median of log10(precision + 1e-8) (lower is better; -8 = solved). "
             "Optimizer time: median over runs of the method's own ask + tell time for the whole run.",
             "", "## Targets", ""]
    for t in summary["targets"]:
        tag = "n/a" if t["ok"] is None else ("PASS" if t["ok"] else "MISS")
        lines.append(f"- {tag}: {t['text']}")
    for d, s in summary["dims"].items():
        ms = s["methods"]
        lines += ["", f"## d = {d}", "",
                  f"{s['cells']} (function, instance) cells ranked"
                  + (f"; {s['incomplete_cells']} incomplete cells left out" if s["incomplete_cells"] else "")
                  + ".", ""]
        lines.append(markdown_table(
            ["method", "mean rank", "wins", "median log10 precision", "optimizer time"],
            [[m, _f2(s["mean_rank"][m]), s["wins"][m], _f2(s["median_log10_precision"][m]),
              fmt_seconds(s["median_method_seconds"][m])] for m in ms]))
        lines += ["", "Mean rank per function group:", ""]
        groups = list(s["group_mean_rank"])
        lines.append(markdown_table(["method"] + groups,
                                    [[m] + [_f2(s["group_mean_rank"][g][m]) for g in groups] for m in ms]))
        lines += ["", "Median log10(precision + 1e-8) per function:", ""]
        rows = []
        for f, by_m in s["function_median_log10_precision"].items():
            best = min(v for v in by_m.values() if math.isfinite(v)) if any(
                math.isfinite(v) for v in by_m.values()) else math.nan
            rows.append([f"f{f} {FUNCTION_NAMES[int(f)]}"]
                        + [f"**{_f2(by_m[m])}**" if by_m[m] == best else _f2(by_m[m]) for m in ms])
        lines.append(markdown_table(["function"] + ms, rows))
    return "\n".join(lines) + "\n"


def ecdf(runs: Sequence[dict[str, Any]], budget: int) -> np.ndarray:
    """COCO's runtime ECDF: after each evaluation 1..budget, the fraction of (run, target) pairs
    whose best-so-far precision reached the target, over the targets 10^2 .. 10^-8 (51 of them,
    log-spaced as in COCO's plots)."""
    tgt = np.logspace(2, -8, 51)
    hit = np.zeros(budget)
    for r in runs:
        c = np.nan_to_num(np.asarray(r["best_so_far_precision"][:budget], dtype=float), nan=np.inf)
        c = np.concatenate([c, np.full(budget - len(c), c[-1] if len(c) else np.inf)])  # a short run keeps its best
        hit += (c[:, None] <= tgt[None, :]).sum(axis=1)
    return hit / (max(len(runs), 1) * len(tgt))


def plot_ecdf(runs: Sequence[dict[str, Any]], path: Any) -> None:
    """One panel per dimension: each method's runtime ECDF (:func:`ecdf`) over its runs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = sorted({r["d"] for r in runs})
    present = {r["method"] for r in runs}
    methods = [m for m in _ORDER if m in present] + sorted(present - set(_ORDER))
    fig, axes = plt.subplots(1, len(dims), figsize=(5 * len(dims), 4), squeeze=False)
    for ax, d in zip(axes[0], dims):
        for m in methods:
            rs = [r for r in runs if r["d"] == d and r["method"] == m]
            if rs:
                budget = max(r["budget"] for r in rs)
                ax.plot(np.arange(1, budget + 1), ecdf(rs, budget), label=f"{m} ({len(rs)} runs)",
                        lw=2 if m == TARGET_METHOD else 1.2)
        ax.set_xlabel("evaluations")
        ax.set_ylabel("fraction of (function, target) pairs reached")
        ax.set_title(f"BBOB d = {d}, targets 1e2 .. 1e-8")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
