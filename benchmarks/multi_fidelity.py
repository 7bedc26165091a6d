"""Issue 18.4: early stopping with a resource, gpu_bo against its peers at an equal resource budget.

Tasks (benchmarks/mf_tasks.py): a synthetic learning-curve problem with a known optimum whose
ranking changes with the resource, SGDClassifier ``partial_fit`` epochs, HistGradientBoosting
``max_iter`` (warm start) and a torch MLP's epochs on load_digits. Methods
(benchmarks/mf_methods.py): gpu_bo + HyperbandPruner with the model over (configuration,
resource) and without it (finished trials only), gpu_bo without pruning, Optuna TPE +
HyperbandPruner and + SuccessiveHalvingPruner, random search with ASHA (gpu_bo's
SuccessiveHalvingPruner), Ray Tune's ASHA with random search and Tune's BOHB (TuneBOHB +
HyperBandForBOHB; ``pip install hpbandster ConfigSpace``; not in --quick), random search at full
resource. Ray trials run one at a time with ``reuse_actors=True`` (without it every Tune trial
starts a new actor, which dominated the run time on the 2-core machine).

The budget is ``--budget`` full-resource trials' worth of resource (budget x max_resource steps,
the same for every method). Reported per task: the anytime curve (median over seeds of the best
full-resource value against the resource used; a PNG), median [IQR] at the budget, the resource
each method needed to reach gpu_bo-without-pruning's final value (median over seeds, per seed
the first point where the method's best reaches that seed's gpu_bo_full final value), and the
issue's targets.

    python benchmarks/multi_fidelity.py --quick            # synthetic + sgd, 3 seeds, budget 12
    python benchmarks/multi_fidelity.py                    # every task, 10 seeds (mlp 3), budget 50
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR, fmt_stat, markdown_table, median_iqr, run_header, write_json, write_text  # noqa: E402
from benchmarks.mf_methods import METHODS, run_method  # noqa: E402
from benchmarks.mf_tasks import TASKS, get_task  # noqa: E402

QUICK_METHODS = ["gpu_bo_hyperband", "gpu_bo_hyperband_nomodel", "gpu_bo_full", "optuna_tpe_hyperband",
                 "optuna_tpe_sh", "random_asha", "ray_asha", "random"]
PEERS_FOR_BEST = ("optuna_tpe_hyperband", "ray_asha", "random_asha")  # target 2's rivals


def best_curve(events: list[tuple[float, float | None]], grid: np.ndarray) -> np.ndarray:
    """The best full-resource value found with at most ``grid[i]`` resource used (NaN before
    the first complete trial)."""
    out = np.full(len(grid), np.nan)
    best, j = -math.inf, 0
    for i, g in enumerate(grid):
        while j < len(events) and events[j][0] <= g + 1e-9:
            if events[j][1] is not None:
                best = max(best, events[j][1])
            j += 1
        out[i] = best if best > -math.inf else np.nan
    return out


def resource_to_reach(events: list[tuple[float, float | None]], target: float) -> float | None:
    """The resource used when the best full-resource value first reached ``target`` (None: never)."""
    for used, v in events:
        if v is not None and v >= target - 1e-12:
            return used
    return None


def summarize(runs: dict[str, dict[str, list]], task: Any, budget: float) -> dict[str, Any]:
    """Per method: values at the budget, resource to reach gpu_bo_full's final value."""
    out: dict[str, Any] = {}
    full = {r["seed"]: best_curve(r["events"], np.array([budget]))[0] for r in runs.get("gpu_bo_full", [])}
    for m, rs in runs.items():
        finals = [float(best_curve(r["events"], np.array([budget]))[0]) for r in rs]
        reach = []
        for r in rs:
            tgt = full.get(r["seed"])
            if tgt is None or not math.isfinite(tgt):
                continue
            got = resource_to_reach([e for e in r["events"] if e[0] <= budget + 1e-9], tgt)
            reach.append(math.inf if got is None else got)
        med_reach = float(np.median(reach)) if reach else math.nan
        out[m] = {"finals": finals, "reach": reach, "median_reach": med_reach,
                  "seconds": [r["seconds"] for r in rs]}
    return out


def plot(task: str, runs: dict[str, list], budget: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(0, budget, 101)[1:]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m, rs in runs.items():
        curves = np.array([best_curve(r["events"], grid) for r in rs])
        with np.errstate(all="ignore"):
            med = np.nanmedian(curves, axis=0) if len(curves) else grid * np.nan
        ax.plot(grid, med, label=m, lw=2 if m.startswith("gpu_bo_hyperband") and "nomodel" not in m else 1)
    ax.set_xlabel("resource used (steps)")
    ax.set_ylabel("best full-resource value (median over seeds)")
    ax.set_title(f"{task}: anytime, budget {budget:g} steps")
    lo = [np.nanmin(best_curve(r["events"], grid[-1:])) for rs in runs.values() for r in rs]
    lo = [v for v in lo if math.isfinite(v)]
    if lo:
        hi = max(v for v in lo)
        ax.set_ylim(min(lo) - 0.05 * (hi - min(lo) + 1e-9), hi + 0.05 * (hi - min(lo) + 1e-9))
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def targets(summary: dict[str, dict[str, Any]], budgets: dict[str, float]) -> list[str]:
    """The issue's targets: PASS / MISS with the numbers, or NOT MEASURED with why."""
    lines = []
    real = [t for t in ("sgd", "hgb", "mlp") if t in summary]
    hits, parts = 0, []
    for t in real:
        s = summary[t].get("gpu_bo_hyperband")
        if s is None:
            continue
        frac = s["median_reach"] / budgets[t]
        hits += frac <= 1 / 3
        parts.append(f"{t}: {frac:.2f} of the budget" if math.isfinite(frac) else f"{t}: not reached")
    missing = [t for t in ("sgd", "hgb", "mlp") if t not in summary]
    verdict = "PASS" if hits >= 2 else ("NOT MEASURED" if missing and hits + len(missing) >= 2 else "MISS")
    lines.append(f"- Target 1 (gpu_bo + Hyperband reaches gpu_bo-without-pruning's final value with <= 1/3 "
                 f"of the resource on >= 2 of 3 real tasks): **{verdict}** ({'; '.join(parts) or 'none run'}"
                 + (f"; not run: {', '.join(missing)}" if missing else "") + ")")
    best_tasks, parts = 0, []
    for t in list(real) + (["synthetic"] if "synthetic" in summary else []):
        s = summary[t]
        if "gpu_bo_hyperband" not in s:
            continue
        ours = median_iqr(s["gpu_bo_hyperband"]["finals"])[0]
        rivals = {m: median_iqr(s[m]["finals"])[0] for m in PEERS_FOR_BEST if m in s}
        win = all(ours >= v for v in rivals.values() if math.isfinite(v))
        best_tasks += win and t != "synthetic"
        parts.append(f"{t}: {ours:.4g} vs " + ", ".join(f"{m} {v:.4g}" for m, v in rivals.items())
                     + (" (best)" if win else " (not best)"))
    syn_ok = "synthetic" not in summary or all(
        median_iqr(summary["synthetic"]["gpu_bo_hyperband"]["finals"])[0] >= median_iqr(summary["synthetic"][m]["finals"])[0]
        for m in PEERS_FOR_BEST if m in summary["synthetic"])
    verdict = "PASS" if best_tasks >= 2 and syn_ok and "synthetic" in summary else (
        "NOT MEASURED" if missing and syn_ok else "MISS")
    lines.append(f"- Target 2 (best median at the budget on >= 2 real tasks and the synthetic one, against "
                 f"Optuna TPE + Hyperband and ASHA): **{verdict}** ({'; '.join(parts)})")
    lines.append("- Target 3 (the 6,000-trial simulation): NOT MEASURED here (benchmarks/scale_simulation.py).")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="synthetic + sgd, 3 seeds, budget 12")
    ap.add_argument("--tasks", default=None, help="comma-separated, of " + ",".join(TASKS))
    ap.add_argument("--methods", default=None, help="comma-separated, of " + ",".join(METHODS))
    ap.add_argument("--seeds", type=int, default=None)
    ap.add_argument("--budget", type=float, default=None, help="full-resource trials' worth of resource")
    ap.add_argument("--name", default=None, help="result file stem (default multi_fidelity[_quick])")
    ap.add_argument("--out", default=str(RESULTS_DIR))
    ap.add_argument("--note", default="")
    args = ap.parse_args(argv)
    tasks = (args.tasks or ("synthetic,sgd" if args.quick else "synthetic,sgd,hgb,mlp")).split(",")
    methods = (args.methods or ",".join(QUICK_METHODS if args.quick else METHODS)).split(",")
    n_seeds = args.seeds or (3 if args.quick else 10)
    budget_trials = args.budget or (12 if args.quick else 50)
    name = args.name or ("multi_fidelity_quick" if args.quick else "multi_fidelity")
    settings = {"tasks": tasks, "methods": methods, "seeds": n_seeds, "budget_full_trials": budget_trials,
                "mlp_seeds": min(n_seeds, 3)}
    header = run_header("benchmarks/multi_fidelity.py", "quick" if args.quick else "full", settings, note=args.note)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    all_runs: dict[str, dict[str, list]] = {}
    summary: dict[str, dict[str, Any]] = {}
    budgets: dict[str, float] = {}
    for tname in tasks:
        task = get_task(tname)
        budget = budget_trials * task.max_resource
        budgets[tname] = budget
        seeds = range(min(n_seeds, 3) if tname == "mlp" else n_seeds)
        runs: dict[str, list] = {}
        for m in methods:
            for s in seeds:
                t0 = time.process_time()
                try:
                    events = run_method(m, task, s, budget)
                except ImportError as e:  # an optional peer not installed
                    print(f"{tname} {m}: skipped ({e})", flush=True)
                    break
                runs.setdefault(m, []).append({"seed": s, "events": events, "seconds": time.process_time() - t0})
                print(f"{tname} {m} seed {s}: {best_curve(events, np.array([budget]))[0]:.4f} "
                      f"({len(events)} trials, {time.process_time() - t0:.1f} s CPU)", flush=True)
        all_runs[tname] = runs
        summary[tname] = summarize(runs, task, budget)
        plot(tname, runs, budget, out / f"{name}_{tname}.png")
    header.finish()
    write_json(out / f"{name}.json", {"header": header.as_dict(), "runs": all_runs,
                                      "summary": {t: {m: {k: v for k, v in s.items()} for m, s in ss.items()}
                                                  for t, ss in summary.items()}})
    write_text(out / f"{name}.md", report(header, summary, budgets, tasks, args.quick, name))
    return 0


def report(header: Any, summary: dict, budgets: dict, tasks: list[str], quick: bool, name: str) -> str:
    parts = [f"# Multi-fidelity: early stopping at an equal resource budget (issue 18.4)\n\n{header.markdown()}\n"]
    if quick:
        parts.append("**Quick mode: few seeds and a small budget on a shared, loaded 2-core CPU. NOT CONCLUSIVE.** "
                     "The full run: `python benchmarks/multi_fidelity.py` (every task, 10 seeds, 3 for mlp, "
                     "budget 50 full-resource trials).\n")
    parts.append("Values are maximized (accuracy; minus the loss on the synthetic problem). 'at budget': the best "
                 "full-resource value after the budget, median [IQR] over seeds. 'resource to reach gpu_bo_full': "
                 "median over seeds of the resource a method used until its best reached that seed's gpu_bo "
                 "without pruning final value (inf: never within the budget), as a share of the budget. "
                 "CPU seconds are per run (the objective's training included).\n")
    for t in tasks:
        task = get_task(t)
        rows = []
        for m, s in summary[t].items():
            frac = s["median_reach"] / budgets[t] if math.isfinite(s["median_reach"]) else s["median_reach"]
            rows.append([m, fmt_stat(s["finals"]), f"{frac:.2f}" if math.isfinite(frac) else str(frac),
                         f"{np.median(s['seconds']):.1f}", len(s["finals"])])
        extra = f", known optimum {task.optimum:.4f}" if task.optimum is not None else ""
        parts.append(f"## {t} (budget {budgets[t]:g} steps = {budgets[t] / task.max_resource:g} full trials{extra})\n\n"
                     + markdown_table(["method", "at budget", "resource to reach gpu_bo_full", "CPU s", "seeds"], rows)
                     + f"\n\n![{t}]({name}_{t}.png)\n")
    parts.append("## Targets\n\n" + "\n".join(targets(summary, budgets)) + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
