"""Multi-objective and constrained optimization against peers (issue 16, item 6).

For each problem (benchmarks/mo_problems.py: BraninCurrin, DTLZ2 (d=6, 2 objectives), ZDT1
(d=6), ConstrainedBraninCurrin, an SVC on breast_cancer: validation accuracy vs model size),
method (benchmarks/mo_peers.py: gpu_bo, Optuna's default sampler, NSGAIISampler, GPSampler, the
textbook BoTorch qLogNEHVI loop, random search) and seed, run one sequential optimization of
``budget`` evaluations and record every value, constraint and the time of each ask + tell.
The hypervolume after each evaluation is that of the feasible points so far, computed with
BoTorch's ``Hypervolume`` against the problem's published reference point.

Then, unless ``--no-timing``: the time of one multi-objective suggestion (DTLZ2, d=6, two
objectives, n random points, each method with its default threads) at n in {100, 500, 2000} on
the CPU for gpu_bo, GPSampler and the BoTorch loop, after one warm-up suggestion at n = 30 on
other data in the same process (so first-call costs such as imports are left out for every
method; the warm-up's time is reported beside it), each in its own process stopped at
``--cap`` seconds (a cut measurement skips that method's larger n), and on CUDA (gpu_bo and
the BoTorch loop) when a GPU is present.

Outputs (``--out``, default benchmarks/results/): ``multi_objective.json`` (every run),
``multi_objective.md`` (tables and the issue's targets) and ``multi_objective_<problem>.png``.

Usage::

    python benchmarks/multi_objective.py --smoke --out /tmp/mo     # seconds (tests)
    python benchmarks/multi_objective.py --quick --jobs 2          # a few minutes
    python benchmarks/multi_objective.py --jobs 2 --cache /tmp/mo_cache   # the committed run
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import subprocess
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
    _THREAD_ENV, RESULTS_DIR, _one_thread_worker, fmt_seconds, parallel_map, run_header, write_json,
)
from benchmarks.mo_peers import MO_METHODS, make_mo_method, mo_available, optuna_default_sampler_name  # noqa: E402
from benchmarks.mo_problems import MO_PROBLEMS, get_mo_problem, hv_curve  # noqa: E402
from benchmarks.mo_report import markdown, plot_problem, summarize  # noqa: E402

__all__ = ["run_one", "time_suggestion", "main"]

MODES: dict[str, dict[str, Any]] = {
    "full": {"problems": list(MO_PROBLEMS), "seeds": 10, "budget": 100, "n_initial": 10,
             "botorch_seeds": 2, "timing_n": [100, 500, 2000], "cap": 120.0, "timing_repeats": 3},
    "quick": {"problems": ["branin_currin", "c_branin_currin"], "seeds": 2, "budget": 30, "n_initial": 10,
              "botorch_seeds": 1, "timing_n": [100], "cap": 60.0, "timing_repeats": 1},
    "smoke": {"problems": ["c_branin_currin", "svc_cancer_size"], "seeds": 1, "budget": 4, "n_initial": 3,
              "botorch_seeds": 1, "timing_n": [12], "cap": 60.0, "timing_repeats": 1},
}
TIMING_METHODS = ["gpu_bo", "optuna_gp", "botorch"]
COST = {"botorch": 40.0, "optuna_gp": 4.0, "gpu_bo": 6.0, "optuna_default": 0.3, "optuna_nsga2": 0.2, "random": 0.1}


def run_one(problem_name: str, method: str, seed: int, budget: int, n_initial: int,
            device: str = "cpu", smoke: bool = False, stop_at: float | None = None) -> dict[str, Any]:
    """One sequential run: values, constraints, feasibility, hypervolume curve and step times.

    ``stop_at`` (a ``time.time()``): no evaluation starts after it; the run is then marked
    ``cut`` (fewer than ``budget`` evaluations) and left out of the statistics.
    """
    warnings.filterwarnings("ignore")
    prob = get_mo_problem(problem_name)
    rec: dict[str, Any] = {"problem": problem_name, "method": method, "seed": seed, "budget": budget,
                           "n_initial": n_initial, "values": [], "constraints": [], "feasible": [],
                           "step_s": [], "eval_s": [], "error": None, "cut": False}
    caught: list[warnings.WarningMessage] = []
    try:
        ad = make_mo_method(method, prob, seed, n_initial, device=device, smoke=smoke)
        with warnings.catch_warnings(record=True) as caught:  # e.g. gpu_bo's "the BO step failed"
            warnings.simplefilter("always")
            _loop(ad, prob, budget, rec, stop_at)
    except Exception:  # noqa: BLE001 - one broken run is recorded, the others go on
        rec["error"] = traceback.format_exc(limit=6)
    counts: dict[str, int] = {}
    for w in caught:
        msg = str(w.message)[:160]
        counts[msg] = counts.get(msg, 0) + 1
    rec["warnings"] = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:5])
    rec["bo_step_failures"] = sum(c for msg, c in counts.items() if "BO step failed" in msg)
    rec["hv"] = hv_curve(rec["values"], rec["feasible"], prob.directions, prob.ref_point)
    return rec


def _loop(ad: Any, prob: Any, budget: int, rec: dict[str, Any], stop_at: float | None) -> None:
    """``budget`` ask / evaluate / tell steps, appended to ``rec`` (until ``stop_at``)."""
    for _ in range(budget):
        if stop_at is not None and time.time() > stop_at:
            rec["cut"] = True
            return
        t0 = time.perf_counter()
        params = ad.ask()
        t_ask = time.perf_counter() - t0
        t0 = time.perf_counter()
        values, cons = prob.evaluate(params)
        rec["eval_s"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ad.tell(params, values, cons)
        rec["step_s"].append(t_ask + time.perf_counter() - t0)
        rec["values"].append(values)
        rec["constraints"].append(cons)
        rec["feasible"].append(cons is None or all(c <= 0 for c in cons))


def _order(cfg: dict[str, Any], methods: list[str]) -> list[tuple[str, str, int]]:
    """(problem, method, seed) in the order they run: the first BoTorch run (it holds one worker
    longest), then the cheap methods over every seed, then seed-major for the rest (problem by
    problem in the order given, the dearest method first), so a deadline leaves every cell with
    about as many seeds and the first problems with every method."""
    bt = [(p, "botorch", s) for s in range(cfg["botorch_seeds"]) for p in cfg["botorch_problems"]
          if "botorch" in methods and p in cfg["problems"]]
    cheap = [m for m in methods if m != "botorch" and COST.get(m, 1.0) < 1.0]
    dear = sorted((m for m in methods if m != "botorch" and m not in cheap), key=lambda m: -COST.get(m, 1.0))
    out = bt[:1] + [(p, m, s) for m in cheap for s in range(cfg["seeds"]) for p in cfg["problems"]]
    for s in range(cfg["seeds"]):
        out += [(p, m, s) for p in cfg["problems"] for m in dear]
        out += [t for t in bt[1:] if t[2] == s]
    return out


def _task(task: tuple) -> dict[str, Any]:
    problem_name, method, seed, budget, n_initial, device, cache, smoke, stop_at = task
    path = None
    if cache:
        path = Path(cache) / f"{problem_name}-{method}-{seed}-{budget}-{n_initial}.json"
        if path.exists():
            return json.loads(path.read_text())
    rec = run_one(problem_name, method, seed, budget, n_initial, device, smoke, stop_at)
    if path is not None and rec["error"] is None and not rec["cut"]:
        write_json(path, rec)
    return rec


def _until(tasks: list[tuple], jobs: int, deadline_s: float, on_result: Any) -> list[dict[str, Any]]:
    """Run ``tasks`` in order in ``jobs`` one-thread processes, starting none after ``deadline_s``
    seconds (the runs already started finish). ``parallel_map`` cannot stop early, hence this loop."""
    import os
    from unittest import mock

    done: list[dict[str, Any]] = []
    # one thread per spawned worker (they inherit the variables); restored for the timing after
    with mock.patch.dict(os.environ, {k: "1" for k in _THREAD_ENV}):
        _until_loop(tasks, jobs, deadline_s, on_result, done, time.perf_counter())
    return done


def _until_loop(tasks: list[tuple], jobs: int, deadline_s: float, on_result: Any, done: list, t0: float) -> None:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_one_thread_worker) as ex:
        todo, running = list(tasks), set()
        while todo or running:
            while todo and len(running) < jobs and time.perf_counter() - t0 < deadline_s:
                running.add(ex.submit(_task, todo.pop(0)))
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                done.append(fut.result())
                on_result(len(done) - 1, done[-1])


# -- the timing of one suggestion ----------------------------------------------------------------

WARMUP_N = 30  # the warm-up suggestion's points (other data: seed 1)


def _timing_child(method: str, n: int, device: str, smoke: bool, queue: Any) -> None:
    # One warm-up suggestion first, for every method: the timed one then excludes what a process
    # pays once (imports, torch's lazy dynamo import on the first torch.optim optimizer, GPSampler's
    # lazy torch import, CUDA context). The warm-up's own time is reported as the cold time.
    try:
        cold = time_suggestion(method, WARMUP_N, device, seed=1, smoke=smoke)
        queue.put(("ok", (time_suggestion(method, n, device, smoke=smoke), cold)))
    except Exception:  # noqa: BLE001 - reported to the parent
        queue.put(("error", traceback.format_exc(limit=4)))


def time_suggestion(method: str, n: int, device: str = "cpu", seed: int = 0, smoke: bool = False) -> float:
    """Seconds of one suggestion (fit + acquisition) of ``method`` after ``n`` random DTLZ2 points
    (``smoke``: the BoTorch loop with its seconds-long smoke settings)."""
    warnings.filterwarnings("ignore")
    import torch

    prob = get_mo_problem("dtlz2")
    params = prob.space.sample_params(n, seed=seed)
    vals = [prob.evaluate(p)[0] for p in params]
    if method == "botorch":
        from benchmarks.mo_peers import SMOKE, suggest_botorch
        from benchmarks.mo_problems import to_max

        tkw = {"dtype": torch.float64, "device": torch.device(device)}
        X = torch.stack([prob.space.encode(p) for p in params]).to(**tkw)
        Y = torch.as_tensor(to_max(vals, prob.directions), **tkw)
        ref = to_max([prob.ref_point], prob.directions)[0].tolist()
        torch.manual_seed(seed)
        t0 = time.perf_counter()
        suggest_botorch(X, Y, prob.m, ref, SMOKE if smoke else None)
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0
    ad = make_mo_method(method, prob, seed, n_initial=min(10, n), device=device)
    if method == "gpu_bo":
        ad.opt.tell(params, vals)
        t0 = time.perf_counter()
        ad.ask()
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0
    import optuna

    ad.study.add_trials([optuna.trial.create_trial(params=p, distributions=ad.dists, values=v)
                         for p, v in zip(params, vals)])
    t0 = time.perf_counter()
    ad.ask()
    return time.perf_counter() - t0


def _timing_once(method: str, n: int, device: str, cap: float, smoke: bool) -> tuple[Any, Any, str]:
    """(seconds, warm-up seconds, note) of one measurement in its own process."""
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_timing_child, args=(method, n, device, smoke, q))
    proc.start()
    proc.join(cap)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return None, None, f"cut at the cap of {cap:.0f} s"
    status, out = q.get() if not q.empty() else ("error", "no result")
    if status == "ok":
        return out[0], out[1], ""
    return None, None, "error: " + str(out).strip().splitlines()[-1]


def _timing(ns: Sequence[int], methods: Sequence[str], cap: float, devices: Sequence[str],
            smoke: bool = False, repeats: int = 1) -> list[dict[str, Any]]:
    """One row per (device, method, n): the median of ``repeats`` measurements, each in its own
    process (methods alternate within a repeat, so a load drift reaches all of them)."""
    rows: dict[tuple, dict[str, Any]] = {}
    cut_at: dict[tuple[str, str], int] = {}  # (device, method) -> the n cut at the cap
    for rep in range(max(1, repeats)):
        for device in devices:
            for method in methods:
                if device == "cuda" and method == "optuna_gp":
                    continue  # GPSampler runs on the CPU only
                for n in ns:
                    row = rows.setdefault((device, method, n), {"method": method, "device": device, "n": n,
                                                                "seconds": None, "note": "", "cap": cap,
                                                                "all_seconds": [], "warmup_seconds": None})
                    if row["note"]:  # cut, failed or skipped before: later repeats are skipped too
                        continue
                    if n > cut_at.get((device, method), n):
                        row["note"] = "skipped: a smaller n was cut at the cap"
                        continue
                    sec, warm, note = _timing_once(method, n, device, cap, smoke)
                    row["note"] = note
                    if note.startswith("cut"):
                        cut_at[(device, method)] = n
                    if sec is not None:
                        row["all_seconds"].append(sec)
                        row["seconds"] = float(np.median(row["all_seconds"]))
                        row["warmup_seconds"] = warm if row["warmup_seconds"] is None else row["warmup_seconds"]
                    print(f"timing {method} {device} n={n} (repeat {rep + 1}): {fmt_seconds(sec)} {note}", flush=True)
    return list(rows.values())


# -- main ----------------------------------------------------------------------------------------

def _git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "gpu_bo"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
        return sha + (" (gpu_bo/ has uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="2 problems, 2 seeds, 30 evaluations")
    g.add_argument("--smoke", action="store_true", help="a seconds-long run of every installed method (tests)")
    ap.add_argument("--problems", nargs="+", choices=list(MO_PROBLEMS))
    ap.add_argument("--methods", nargs="+", choices=list(MO_METHODS))
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--botorch-seeds", type=int, help="seeds of the (slow) BoTorch loop, at most --seeds")
    ap.add_argument("--botorch-problems", nargs="+", choices=list(MO_PROBLEMS),
                    help="problems the BoTorch loop runs on (default: all)")
    ap.add_argument("--budget", type=int)
    ap.add_argument("--n-initial", type=int)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (one compute thread each)")
    ap.add_argument("--deadline", type=float, help="minutes after which no new run starts (runs go cheap "
                    "methods first, then seed-major, so every cell keeps about as many seeds)")
    ap.add_argument("--stop", type=float, help="minutes after which a run still going stops and is left out "
                    "of the statistics (counted as cut)")
    ap.add_argument("--cache", type=Path, help="a folder of per-run results: a rerun after a crash resumes")
    ap.add_argument("--device", default="cpu", help="gpu_bo / BoTorch device of the runs (default cpu)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--note", default="", help="free text recorded in the results")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--no-timing", action="store_true", help="skip the timing of one suggestion")
    ap.add_argument("--timing-only", action="store_true", help="only the timing of one suggestion")
    ap.add_argument("--cap", type=float, help="seconds per timing measurement")
    ap.add_argument("--timing-repeats", type=int, help="measurements per timing cell (their median is shown)")
    ap.add_argument("--timing-n", type=int, nargs="+", help="the n of the timing (default 100 500 2000)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = _parse(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    for key in ("problems", "seeds", "budget", "n_initial", "botorch_seeds", "cap", "timing_repeats", "timing_n"):
        if getattr(args, key, None) is not None:
            cfg[key] = getattr(args, key)
    cfg["botorch_seeds"] = min(cfg["botorch_seeds"], cfg["seeds"])
    cfg["botorch_problems"] = args.botorch_problems or cfg["problems"]
    methods = [m for m in (args.methods or list(MO_METHODS)) if mo_available(m)]
    skipped = [m for m in (args.methods or list(MO_METHODS)) if m not in methods]
    cfg.update(methods=methods, skipped_not_installed=skipped, jobs=args.jobs, device=args.device, deadline=args.deadline,
               stop=args.stop,
               gpu_bo_commit=_git_commit())
    if "optuna_default" in methods:
        cfg["optuna_default_sampler"] = optuna_default_sampler_name()
    header = run_header("benchmarks/multi_objective.py", mode, cfg, note=args.note)
    tasks = []
    if not args.timing_only:
        if args.cache:
            args.cache.mkdir(parents=True, exist_ok=True)
        stop_at = time.time() + args.stop * 60.0 if args.stop is not None else None
        tasks = [(prob, method, s, cfg["budget"], cfg["n_initial"], args.device,
                  str(args.cache) if args.cache else None, mode == "smoke", stop_at)
                 for prob, method, s in _order(cfg, methods)]
    t_start = time.perf_counter()

    def progress(_i: int, r: dict[str, Any]) -> None:
        hv = r["hv"][-1] if r["hv"] else math.nan
        err = " ERROR " + r["error"].strip().splitlines()[-1] if r["error"] else ""
        print(f"[{time.perf_counter() - t_start:7.0f}s] {r['problem']:16s} {r['method']:15s} seed {r['seed']}: "
              f"hv {hv:.4g}, method time {sum(r['step_s']):.1f} s{err}", flush=True)

    if args.deadline is not None and tasks:
        runs = _until(tasks, args.jobs, args.deadline * 60.0, progress)
        cfg["runs_not_started_by_deadline"] = len(tasks) - len(runs)
    else:
        runs = parallel_map(_task, tasks, jobs=args.jobs, on_result=progress) if tasks else []
    cfg["runs_wall_s"] = round(time.perf_counter() - t_start, 1)
    timing: list[dict[str, Any]] = []
    cuda_note = ""
    if not args.no_timing:
        import torch

        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        if not torch.cuda.is_available():
            cuda_note = "no GPU on this machine: the CUDA timing was not run"
        t0 = time.perf_counter()
        timing = _timing(cfg["timing_n"], [m for m in TIMING_METHODS if m in methods], cfg["cap"], devices,
                         smoke=mode == "smoke", repeats=cfg["timing_repeats"])
        cfg["timing_wall_s"] = round(time.perf_counter() - t0, 1)
    header.finish()
    problems = [p for p in cfg["problems"] if not args.timing_only]
    summary = summarize(runs, problems, methods, {p: get_mo_problem(p) for p in problems}, timing)
    payload = {"header": header.as_dict(), "summary": summary, "timing": timing, "cuda_note": cuda_note,
               "runs": runs}
    out = Path(args.out)
    write_json(out / "multi_objective.json", payload)
    (out / "multi_objective.md").write_text(markdown(header, summary, timing, cfg, cuda_note), encoding="utf-8")
    if not args.no_plots:
        for prob in problems:
            plot_problem(runs, get_mo_problem(prob), methods, out / f"multi_objective_{prob}.png")
    print(f"wrote {out / 'multi_objective.md'}", flush=True)
    return payload


if __name__ == "__main__":
    main()
