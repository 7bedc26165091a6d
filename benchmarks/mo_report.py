"""Tables, targets and plots of benchmarks/multi_objective.py (its runs in, markdown and PNGs out)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import fmt_seconds, fmt_stat, markdown_table, median_iqr
from benchmarks.mo_problems import MOProblem

__all__ = ["summarize", "markdown", "plot_problem", "infeasible_share"]

LAST = 10  # the constrained target looks at the last 10 evaluations (after the 20th) of each seed


def _rank(values: Sequence[float]) -> list[float]:
    """Ranks of ``values``, 1 = largest, ties averaged, NaN ranked last."""
    v = [x if math.isfinite(x) else -math.inf for x in values]
    order = sorted(range(len(v)), key=lambda i: -v[i])
    ranks = [0.0] * len(v)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def infeasible_share(run: dict[str, Any], last: int = LAST) -> float | None:
    """Share of infeasible points among the run's last ``last`` evaluations (after the 20th)."""
    feas = run["feasible"]
    tail = feas[max(20, len(feas) - last):]
    return None if not tail else 1.0 - sum(tail) / len(tail)


def _log_gap(hv: float, max_hv: float | None) -> float:
    if max_hv is None:
        return math.nan
    return math.log10(max(max_hv - hv, 1e-12))


def summarize(runs: list[dict[str, Any]], problems: list[str], methods: list[str],
              probs: dict[str, MOProblem], timing: list[dict[str, Any]]) -> dict[str, Any]:
    """Per (problem, method): final hypervolume, log10 gap to the max, step time; ranks; targets."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["problem"], r["method"]), []).append(r)
    table: dict[str, dict[str, Any]] = {p: {} for p in problems}
    for (p, m), rs in groups.items():
        if p in table and m in methods:
            ok = [r for r in rs if r["error"] is None and not r.get("cut")]
            final = [r["hv"][-1] if r["hv"] else 0.0 for r in ok]
            steps = [s for r in ok for s in r["step_s"][r["n_initial"]:]]
            cut = sum(1 for r in rs if r.get("cut"))
            cell = {"seeds": len(ok), "errors": len(rs) - len(ok) - cut, "cut": cut, "final_hv": final,
                    "hv_stat": median_iqr(final), "log_gap": [_log_gap(h, probs[p].max_hv) for h in final],
                    "step_s_median": median_iqr(steps)[0] if steps else math.nan,
                    "method_s_per_run": median_iqr([sum(r["step_s"]) for r in ok])[0],
                    "bo_step_failures": sum(int(r.get("bo_step_failures", 0)) for r in ok)}
            if probs[p].n_constraints:
                shares = [infeasible_share(r) for r in ok]
                cell["infeasible_last"] = shares
                cell["seeds_mostly_infeasible"] = sum(1 for s in shares if s is not None and s > 0.5)
                cell["feasible_share_all"] = float(np.mean([np.mean(r["feasible"]) for r in ok])) if ok else math.nan
            table[p][m] = cell
    ranks: dict[str, list[float]] = {m: [] for m in methods}
    for p in problems:
        ms = [m for m in methods if m in table[p] and table[p][m]["seeds"]]
        for m, rk in zip(ms, _rank([table[p][m]["hv_stat"][0] for m in ms])):
            ranks[m].append(rk)
    mean_rank = {m: (float(np.mean(v)) if v else math.nan) for m, v in ranks.items()}
    return {"table": table, "ranks": ranks, "mean_rank": mean_rank,
            "targets": _targets(table, mean_rank, problems, probs, timing)}


def _targets(table: dict, mean_rank: dict, problems: list[str], probs: dict[str, MOProblem],
             timing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if "gpu_bo" not in mean_rank or not math.isfinite(mean_rank["gpu_bo"]):
        return out
    others = {m: r for m, r in mean_rank.items() if m != "gpu_bo" and math.isfinite(r)}
    best_other = min(others.values()) if others else math.inf
    out.append({"target": "gpu_bo's mean rank of median final hypervolume is the best of all methods",
                "measured": f"gpu_bo {mean_rank['gpu_bo']:.2f}; best other "
                            + ", ".join(f"{m} {r:.2f}" for m, r in sorted(others.items(), key=lambda x: x[1])[:2]),
                "pass": mean_rank["gpu_bo"] <= best_other})
    gaps = []
    ok = True
    for p in problems:
        a, b = table[p].get("gpu_bo"), table[p].get("optuna_gp")
        if not a or not b:
            continue
        gap = b["hv_stat"][0] - a["hv_stat"][0]
        iqr = b["hv_stat"][2] - b["hv_stat"][1]
        ok &= not gap > iqr
        gaps.append(f"{p}: {gap:+.3g} vs IQR {iqr:.3g}")
    if gaps:
        out.append({"target": "on no problem is gpu_bo's median final hypervolume behind GPSampler's by more "
                              "than GPSampler's IQR", "measured": "; ".join(gaps), "pass": ok})
    for p in problems:
        if not probs[p].n_constraints:
            continue
        a, b = table[p].get("gpu_bo"), table[p].get("optuna_gp")
        if a and b:
            out.append({"target": f"{p}: best feasible hypervolume (median) at least GPSampler's with constraints_func",
                        "measured": f"gpu_bo {a['hv_stat'][0]:.4g}, GPSampler {b['hv_stat'][0]:.4g}",
                        "pass": a["hv_stat"][0] >= b["hv_stat"][0]})
        if a:
            out.append({"target": f"{p}: no more than half of the seeds have > 50% infeasible points in their "
                                  f"last {LAST} evaluations (after the 20th)",
                        "measured": f"{a['seeds_mostly_infeasible']} of {a['seeds']} seeds",
                        "pass": a["seeds_mostly_infeasible"] <= a["seeds"] / 2})
    cpu500 = {r["method"]: r for r in timing if r["device"] == "cpu" and r["n"] == 500}
    if "gpu_bo" in cpu500:
        g = cpu500["gpu_bo"]["seconds"]
        o = cpu500.get("optuna_gp", {}).get("seconds")
        bt = cpu500.get("botorch", {})
        bt_s = bt.get("seconds")
        bt_cut = "cut" in (bt.get("note") or "")
        okg = g is not None and (o is None and "optuna_gp" in cpu500 or o is not None and g <= o)
        okb = g is not None and (bt_s is not None and g < bt_s / 3 or bt_cut and g < bt.get("cap", 0.0) / 3)
        out.append({"target": "one multi-objective suggestion at n = 500 on the CPU: at most GPSampler's time and "
                              "under a third of the BoTorch loop's",
                    "measured": f"gpu_bo {fmt_seconds(g)}, GPSampler {fmt_seconds(o)}"
                                f"{' ' + cpu500['optuna_gp']['note'] if 'optuna_gp' in cpu500 and o is None else ''}, "
                                f"BoTorch {fmt_seconds(bt_s)}{' (' + bt['note'] + ')' if bt_s is None and bt else ''}",
                    "pass": bool(okg and okb)})
    return out


def markdown(header: Any, summary: dict[str, Any], timing: list[dict[str, Any]], cfg: dict[str, Any],
             cuda_note: str) -> str:
    """The results page: header, targets, per-problem tables, ranks, timing."""
    t = summary["table"]
    lines = ["# Multi-objective and constrained optimization (issue 16, item 6)", "", header.markdown(), "",
             f"- gpu_bo commit: `{cfg.get('gpu_bo_commit')}`",
             f"- Optuna's default multi-objective sampler (`optuna.create_study(directions=...)` without a "
             f"sampler): `{cfg.get('optuna_default_sampler', 'n/a')}`",
             f"- {cfg['budget']} evaluations per run, {cfg['n_initial']} initial points for gpu_bo, TPE, GPSampler "
             f"and the BoTorch loop (NSGA-II: its own population of 50); {cfg['seeds']} seeds, the BoTorch loop "
             f"{cfg['botorch_seeds']} seeds on {', '.join(cfg['botorch_problems'])} (its medians are over those seeds)",
             f"- Runs: {cfg.get('runs_wall_s', 'n/a')} s wall with {cfg['jobs']} worker processes of one thread each; "
             f"method time = ask + tell in those workers"
             + (f"; {cfg['runs_not_started_by_deadline']} runs not started by the --deadline of {cfg['deadline']} "
                f"min (the seeds column says how many each cell has)" if cfg.get("runs_not_started_by_deadline")
                else "")
             + (f"; a run still going {cfg['stop']} min after the start was stopped and left out of the "
                f"statistics ('+k cut' in the seeds column)" if cfg.get("stop") is not None else ""), ""]
    if summary["targets"]:
        lines += ["## Targets", "", markdown_table(["target", "measured", "result"], [
            [x["target"], x["measured"], "PASS" if x["pass"] else "MISS"] for x in summary["targets"]]), ""]
    lines += ["## Final hypervolume", "",
              "Median [25th, 75th percentile] over seeds of the hypervolume of the feasible points after the "
              "last evaluation (BoTorch's `Hypervolume`, the problem's reference point); `log10 gap` = "
              "log10(max_hv - hv) where the problem's maximal hypervolume is known (lower is better).", ""]
    methods = cfg["methods"]
    for p, cells in t.items():
        rows = []
        for m in methods:
            if m not in cells:
                continue
            c = cells[m]
            row = [m, f"{c['seeds']}" + (f" (+{c['cut']} cut)" if c.get("cut") else ""), fmt_stat(c["final_hv"]), fmt_stat(c["log_gap"]), fmt_seconds(c["step_s_median"]),
                   f"{c['method_s_per_run']:.1f} s"]
            if "infeasible_last" in c:
                row += [fmt_stat([s for s in c["infeasible_last"] if s is not None]),
                        f"{c['seeds_mostly_infeasible']}/{c['seeds']}"]
            rows.append(row)
        head = ["method", "seeds", "final hv", "log10 gap", "step (median)", "method time / run"]
        if any("infeasible_last" in c for c in cells.values()):
            head += [f"infeasible share, last {LAST}", "seeds > 50% infeasible"]
        lines += [f"### {p}", "", markdown_table(head, rows), ""]
        failed = {m: c["bo_step_failures"] for m, c in cells.items() if c.get("bo_step_failures")}
        if failed:
            lines += ["Suggestions where the method warned that its BO step failed and it fell back to "
                      "quasi-random points (all seeds): " + ", ".join(f"{m} {n}" for m, n in failed.items()), ""]
    if t:
        lines += ["## Mean rank of median final hypervolume", "",
                  markdown_table(["method", "mean rank", "problems"], [
                      [m, f"{summary['mean_rank'][m]:.2f}", len(summary["ranks"][m])] for m in methods
                      if m in summary["mean_rank"]]), ""]
    if timing:
        lines += ["## One multi-objective suggestion (DTLZ2, d = 6, two objectives, n random points)", "",
                  "Each measurement in its own process with the method's default threads, stopped at the cap (the median "
                  "of the repeats; 'all' lists them), "
                  "after one warm-up suggestion at n = 30 on other data (its time: 'first call', which "
                  "includes the process's imports and first-call costs).", "",
                  markdown_table(["method", "device", "n", "time", "all", "first call (n = 30)", "note"], [
                      [r["method"], r["device"], r["n"], fmt_seconds(r["seconds"]),
                       ", ".join(fmt_seconds(x) for x in r.get("all_seconds") or []),
                       fmt_seconds(r.get("warmup_seconds")), r["note"]] for r in timing]), ""]
    if cuda_note:
        lines += [f"CUDA: {cuda_note}.", ""]
    return "\n".join(lines) + "\n"


def plot_problem(runs: list[dict[str, Any]], problem: MOProblem, methods: list[str], path: Path) -> None:
    """Hypervolume (or its log10 gap to the maximum) against evaluations: median and IQR band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for m in methods:
        curves = [r["hv"] for r in runs if r["problem"] == problem.name and r["method"] == m
                  and r["error"] is None and r["hv"]]
        if not curves:
            continue
        n = min(len(c) for c in curves)
        arr = np.array([c[:n] for c in curves], dtype=float)
        if problem.max_hv is not None:
            arr = np.log10(np.maximum(problem.max_hv - arr, 1e-12))
        lo, med, hi = np.percentile(arr, [25, 50, 75], axis=0)
        x = np.arange(1, n + 1)
        ax.plot(x, med, label=f"{m} ({len(curves)} seeds)")
        ax.fill_between(x, lo, hi, alpha=0.15)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("log10(max hv - hv)" if problem.max_hv is not None else "hypervolume")
    ax.set_title(problem.name + (" (feasible points)" if problem.n_constraints else ""))
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
