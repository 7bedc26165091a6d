"""Conditional search spaces against peers (issue 17, item 7).

For each problem (benchmarks/cond_problems.py: a synthetic conditional function with a known
optimum, and CASH, "which scikit-learn model family, then its own hyperparameters", by 5-fold CV
error on load_breast_cancer, load_wine and load_digits), method (benchmarks/cond_peers.py: gpu_bo,
Optuna TPE define-by-run with ``multivariate=True, group=True``, hyperopt TPE on nested
``hp.choice``, SMAC3's HPO facade on ConfigSpace conditions, Optuna GPSampler define-by-run, random
search) and seed: one sequential optimization of ``budget`` evaluations, recording every value,
the method time of each step and the time of one more suggestion after the last tell.

Every run is stored as its own JSON file in ``--cache`` (a rerun resumes; runs of several
invocations, e.g. the peers first and gpu_bo later, merge), and ``--report-only`` rebuilds the
tables and plots from that folder (or from a ``conditional.json``'s runs with ``--from-json``).

Outputs (``--out``, default benchmarks/results/): ``conditional.json`` (every run),
``conditional.md`` (tables, ranks and the issue's targets) and ``conditional_<problem>.png``.

Usage::

    python benchmarks/conditional.py --quick --out /tmp/cond                 # 2 seeds, 20 evaluations
    nice -n 5 python benchmarks/conditional.py --jobs 2 --problems synthetic --methods optuna_tpe hyperopt
    python benchmarks/conditional.py --report-only --notes-file benchmarks/results/conditional_notes.md
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR, parallel_map, run_header, write_json
from benchmarks.cond_peers import COND_METHODS, COST, cond_available, run_method
from benchmarks.cond_problems import COND_PROBLEMS, get_cond_problem
from benchmarks.cond_report import markdown, plot_problem, summarize
from benchmarks.multi_objective import _git_commit

__all__ = ["MODES", "run_one", "main"]

MODES = {
    "full": {"problems": ["synthetic", "cash_breast_cancer", "cash_wine", "cash_digits"], "seeds": 10,
             "budget": 100},
    "quick": {"problems": ["synthetic", "cash_breast_cancer"], "seeds": 2, "budget": 20},
}
DEFAULT_CACHE = Path("/tmp/conditional_runs")
# relative cost of one evaluation per problem (the pool starts the dear runs first)
PROBLEM_COST = {"synthetic": 0.05, "cash_wine": 0.5, "cash_breast_cancer": 1.0, "cash_digits": 12.0}


def _peer_versions() -> dict[str, str | None]:
    """Versions of the peers benchmarks.common's record does not list."""
    from importlib import metadata

    out: dict[str, str | None] = {}
    for pkg in ("hyperopt", "smac", "ConfigSpace"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _commit() -> str:
    """gpu_bo's commit: ``$GPU_BO_COMMIT`` when set (a run from a ``git archive`` of that commit, so
    other engineers' uncommitted edits in the shared tree stay out), else the checkout's."""
    return os.environ.get("GPU_BO_COMMIT") or _git_commit()


def run_one(problem: str, method: str, seed: int, budget: int) -> dict[str, Any]:
    """One optimization run: its values, step times and errors (a failed run is recorded)."""
    prob = get_cond_problem(problem)
    rec: dict[str, Any] = {"problem": problem, "method": method, "seed": seed, "budget": budget,
                           "gpu_bo_commit": _commit(), "error": None, "values": [], "step_s": [],
                           "eval_s": [], "branches": [], "ask_at_budget_s": None}
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec.update(run_method(method, prob.space, prob.evaluate, seed, budget))
    except Exception:  # noqa: BLE001 - one broken run is recorded, the others go on
        rec["error"] = traceback.format_exc(limit=6)
    rec["wall_s"] = time.perf_counter() - t0
    rec["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    rec["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return rec


def time_cash_suggestion(n: int = 100, repeats: int = 3, seed: int = 0) -> dict[str, Any]:
    """Seconds (wall and CPU, one thread) of one gpu_bo suggestion on the CASH space after ``n``
    quasi-random configurations told with stand-in errors (a per-family base plus a smooth term
    of the encoding: the fit and the acquisition's cost do not hinge on the values, and real CV
    errors would cost minutes here)."""
    import torch

    import gpu_bo as gb
    from benchmarks.cond_problems import MODELS, cash_space

    space = cash_space()
    params = space.sample_params(n, seed=seed)
    X = space.encode(params)
    vals = [0.02 + 0.01 * MODELS.index(p["model"]) + 0.05 * float(((x - 0.3) ** 2).mean()) for p, x in zip(params, X)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    wall, cpu = [], []
    try:
        warm = gb.Optimizer(space, direction="minimize", seed=seed)
        warm.tell(params[:20], vals[:20])
        warm.ask()  # first-call costs (lazy imports, allocator) stay out of the timing
        for r in range(repeats):
            opt = gb.Optimizer(space, direction="minimize", seed=seed + r)
            opt.tell(params, vals)
            t0, c0 = time.perf_counter(), time.process_time()
            opt.ask()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    finally:
        torch.set_num_threads(threads)
    return {"n": n, "wall_s": wall, "cpu_s": cpu, "gpu_bo_commit": _commit()}


def _cache_path(cache: Path, problem: str, method: str, seed: int, budget: int) -> Path:
    return Path(cache) / f"{problem}-{method}-{seed}-{budget}.json"


def _task(task: tuple) -> dict[str, Any] | None:
    problem, method, seed, budget, cache, start_by = task
    path = _cache_path(cache, problem, method, seed, budget) if cache else None
    if path is not None and path.exists():
        return json.loads(path.read_text())
    if start_by is not None and time.time() > start_by:
        return None  # past the --deadline: not started
    rec = run_one(problem, method, seed, budget)
    if path is not None and rec["error"] is None:
        write_json(path, rec)
    return rec


def _load_cache(cache: Path, problems: Sequence[str], methods: Sequence[str], budget: int) -> list[dict[str, Any]]:
    runs = []
    for f in sorted(Path(cache).glob("*.json")) if Path(cache).is_dir() else []:
        r = json.loads(f.read_text())
        if r["problem"] in problems and r["method"] in methods and r["budget"] == budget:
            runs.append(r)
    return runs


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="synthetic + cash_breast_cancer, 2 seeds, 20 evaluations")
    ap.add_argument("--problems", nargs="+", choices=list(COND_PROBLEMS))
    ap.add_argument("--methods", nargs="+", choices=list(COND_METHODS))
    ap.add_argument("--seeds", type=int, help="seeds 0 .. seeds-1")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--budget", type=int)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (one compute thread each; at most 2 here)")
    ap.add_argument("--deadline", type=float, help="minutes after which no new run starts")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="folder of per-run JSON files (resume, merge)")
    ap.add_argument("--report-only", action="store_true", help="no runs: the report from --cache (and --from-json)")
    ap.add_argument("--from-json", type=Path, help="a conditional.json whose runs join those of --cache")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--note", default="", help="free text recorded in the header")
    ap.add_argument("--notes-file", type=Path, help="markdown put before the tables")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--timing", action="store_true", help="also time one gpu_bo suggestion on the CASH space at n = 100 "
                    "(stand-in values; the runs' own measurement needs a gpu_bo CASH run)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    mode = "quick" if args.quick else "full"
    cfg: dict[str, Any] = dict(MODES[mode])
    for key in ("problems", "seeds", "budget"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    asked = args.methods or list(COND_METHODS)
    methods = [m for m in asked if cond_available(m)]
    cfg.update(methods=methods, skipped_not_installed=[m for m in asked if m not in methods], jobs=args.jobs,
               deadline=args.deadline, gpu_bo_commit=_commit(), peer_versions=_peer_versions())
    header = run_header("benchmarks/conditional.py", "report-only" if args.report_only else mode, cfg, note=args.note)
    t_start = time.perf_counter()
    if not args.report_only:
        args.cache.mkdir(parents=True, exist_ok=True)
        start_by = time.time() + args.deadline * 60.0 if args.deadline is not None else None
        tasks = [(p, m, s, cfg["budget"], str(args.cache), start_by) for s in range(args.first_seed,
                 args.first_seed + cfg["seeds"]) for p in cfg["problems"] for m in methods]

        def progress(_i: int, r: dict[str, Any] | None) -> None:
            if r is None:
                return
            best = min(r["values"]) if r["values"] else float("nan")
            err = " ERROR " + r["error"].strip().splitlines()[-1] if r["error"] else ""
            print(f"[{time.perf_counter() - t_start:7.0f}s] {r['problem']:18s} {r['method']:10s} seed {r['seed']}: "
                  f"best {best:.4g}, method time {sum(r['step_s']):.1f} s{err}", flush=True)

        done = parallel_map(_task, tasks, jobs=args.jobs, on_result=progress,
                            cost=None if start_by is not None else  # a deadline keeps the seed-major order
                            lambda t: PROBLEM_COST.get(t[0], 1.0) * COST.get(t[1], 1.0))
        cfg["runs_not_started_by_deadline"] = sum(1 for r in done if r is None)
        cfg["runs_wall_s"] = round(time.perf_counter() - t_start, 1)
    runs = _load_cache(args.cache, cfg["problems"], methods, cfg["budget"])
    if args.from_json:
        seen = {(r["problem"], r["method"], r["seed"]) for r in runs}
        runs += [r for r in json.loads(args.from_json.read_text())["runs"]
                 if (r["problem"], r["method"], r["seed"]) not in seen and r["problem"] in cfg["problems"]
                 and r["method"] in methods and r["budget"] == cfg["budget"]]
    runs.sort(key=lambda r: (r["problem"], r["method"], r["seed"]))
    cfg["run_commits"] = sorted({f"{r['method']}: {r.get('gpu_bo_commit')}" for r in runs})
    header.finish()
    problems = [p for p in cfg["problems"] if any(r["problem"] == p for r in runs)]
    probs = {p: get_cond_problem(p) for p in problems}
    timing = None
    if args.timing and "gpu_bo" in methods:
        timing = time_cash_suggestion()
        print(f"one gpu_bo suggestion on the CASH space at n = 100: wall {timing['wall_s']}, CPU {timing['cpu_s']}")
    summary = summarize(runs, problems, methods, {p: probs[p].f_opt for p in problems}, timing)
    notes = [args.notes_file.read_text(encoding="utf-8").rstrip()] if args.notes_file else []
    out = Path(args.out)
    write_json(out / "conditional.json", {"header": header.as_dict(), "summary": summary, "timing": timing,
                                         "runs": runs})
    (out / "conditional.md").write_text(markdown(header, summary, cfg, {p: probs[p].label for p in problems}, notes),
                                        encoding="utf-8")
    if not args.no_plots:
        for p in problems:
            plot_problem(runs, p, probs[p].label, probs[p].f_opt, methods, out / f"conditional_{p}.png")
    print(f"wrote {out / 'conditional.md'} ({len(runs)} runs)", flush=True)
    return {"header": header.as_dict(), "summary": summary, "runs": runs}


if __name__ == "__main__":
    main()
