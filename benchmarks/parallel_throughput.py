"""Parallel throughput of the trial runner: a 0.2 s objective, 50 trials, 1, 2 and 4 workers.

For each worker count the study runs with the process backend (and the serial backend as the
1-worker reference) and reports the wall time, the speed-up over one worker, the ideal wall
time (50 x 0.2 s / workers), the worker utilization (busy time / (workers x wall)) and the
optimizer's overhead per trial: the time the driver spends in ``Optimizer.ask`` (GP fit and
acquisition maximization) plus the rest of its bookkeeping, per trial.

With one worker every suggestion sits on the critical path (wall = trials x (0.2 s +
overhead)); with several workers a suggestion overlaps the other workers' trials, until the
driver itself becomes the bottleneck (overhead per trial > 0.2 s / workers).

    python benchmarks/parallel_throughput.py [--trials 50] [--sleep 0.2] [--workers 1 2 4]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR, markdown_table, run_header, write_json, write_text  # noqa: E402
from gpu_bo.optimizer import Optimizer  # noqa: E402
from gpu_bo.runner import RunOptions, optimize  # noqa: E402

class SleepyBranin:
    """Branin after a fixed sleep (a picklable instance, so workers started with "spawn" get
    the same sleep)."""

    def __init__(self, sleep: float) -> None:
        self.sleep = sleep

    def __call__(self, p: dict) -> float:
        time.sleep(self.sleep)
        x1, x2 = p["x1"], p["x2"]
        return (x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2 + 10 * (
            1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


SPACE = {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}


class _AskTimer:
    """Wraps ``Optimizer.ask`` to add up the time the driver spends suggesting."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._orig = Optimizer.ask

    def __enter__(self) -> _AskTimer:
        timer, orig = self, self._orig

        def ask(opt, n=None):
            t0 = time.perf_counter()
            try:
                return orig(opt, n)
            finally:
                timer.seconds += time.perf_counter() - t0
                timer.calls += 1

        Optimizer.ask = ask
        return self

    def __exit__(self, *exc) -> None:
        Optimizer.ask = self._orig


def run_one(backend: str, n_workers: int, n_trials: int, sleep: float, seed: int,
            prefetch: bool = False) -> dict:
    with _AskTimer() as timer:
        t0 = time.perf_counter()
        study = optimize(SleepyBranin(sleep), SPACE, n_trials, backend=backend, n_workers=n_workers,
                         seed=seed, progress=False, options=RunOptions(prefetch=prefetch))
        wall = time.perf_counter() - t0
    busy = sum(t.duration for t in study.trials if t.duration is not None)
    return {
        "sleep_s": sleep, "backend": backend + (" + prefetch" if prefetch else ""), "workers": n_workers, "trials": len(study.trials),
        "wall_s": wall, "ideal_s": n_trials * sleep / n_workers, "utilization": busy / (n_workers * wall),
        "ask_calls": timer.calls, "ask_s_per_trial": timer.seconds / n_trials,
        "excess_s_per_trial": (wall - n_trials * sleep / n_workers) / n_trials,
        "best_value": study.best_value,
    }


def _table(rows: list[dict]) -> str:
    base = rows[0]["wall_s"]
    return markdown_table(
        ["backend", "workers", "wall", "ideal (trials x sleep / workers)", "speed-up vs serial",
         "worker utilization", "ask() per trial", "(wall - ideal) / trials"],
        [[r["backend"], r["workers"], f"{r['wall_s']:.1f} s", f"{r['ideal_s']:.1f} s",
          f"{base / r['wall_s']:.2f}x", f"{100 * r['utilization']:.0f}%",
          f"{1000 * r['ask_s_per_trial']:.0f} ms", f"{1000 * r['excess_s_per_trial']:.0f} ms"]
         for r in rows])


def _scenario(n_trials: int, sleep: float, workers: list[int], seed: int) -> list[dict]:
    rows = [run_one("serial", 1, n_trials, sleep, seed)]
    print(rows[-1], flush=True)
    for w in workers:
        rows.append(run_one("process", w, n_trials, sleep, seed))
        print(rows[-1], flush=True)
    for w in workers:
        if w > 1:
            rows.append(run_one("process", w, n_trials, sleep, seed, prefetch=True))
            print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> dict[str, list[dict]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--sleep", type=float, default=0.2)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--long-trials", type=int, default=20, help="second scenario (0 to skip)")
    ap.add_argument("--long-sleep", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="parallel_throughput")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    record = run_header("benchmarks/parallel_throughput.py", "full",
                        {"trials": args.trials, "sleep_s": args.sleep, "workers": args.workers,
                         "long_trials": args.long_trials, "long_sleep_s": args.long_sleep,
                         "seed": args.seed, "acquisition": "ei", "device": "auto"},
                        note="process backend with its default start method; the driver's torch "
                             "runs on one thread; one run per row")
    run_one("serial", 1, 8, args.sleep, args.seed + 1)  # warm-up: lazy imports and first-call costs
    results = {"main": _scenario(args.trials, args.sleep, args.workers, args.seed)}
    if args.long_trials:
        results["long"] = _scenario(args.long_trials, args.long_sleep, args.workers, args.seed)
    record.finish()

    serial = results["main"][0]
    overhead = (serial["wall_s"] - serial["trials"] * args.sleep) / serial["trials"]
    parts = [
        "# Parallel throughput of the trial runner", "",
        record.markdown(), "",
        f"## {args.trials} trials of a {args.sleep} s objective", "",
        "Branin after a sleep, EI, default n_initial, in-memory storage.", "",
        _table(results["main"]), "",
        f"Optimizer overhead per trial (serial: wall / trials - {args.sleep} s): "
        f"{1000 * overhead:.0f} ms, of which {1000 * serial['ask_s_per_trial']:.0f} ms in `Optimizer.ask`.",
        "",
    ]
    if "long" in results:
        parts += [f"## {args.long_trials} trials of a {args.long_sleep} s objective", "",
                  _table(results["long"]), ""]
    parts += [
        "## Reading", "",
        "The runner keeps every worker busy as long as the driver can suggest points faster "
        "than the workers finish them: wall ~ max(trials x sleep / workers, trials x ask time). "
        "With EI a suggestion with pending points conditions the GP on them (Kriging believer, "
        "one Cholesky factor each), so it costs about as much as a sequential one; when a "
        "suggestion takes longer than trials x sleep / workers the driver, not the workers, "
        "sets the pace (the q-acquisitions, e.g. qei, are Monte Carlo and cost more per "
        "suggestion). With an objective that takes longer than a suggestion the speed-up "
        "follows the worker count; the worker that just finished still "
        "waits for its next suggestion, which `RunOptions(prefetch=True)` removes by suggesting "
        "one point ahead while every worker is busy. A GPU shortens `ask()` "
        "(see suggest_latency.md).", "",
    ]
    text = "\n".join(parts)
    out = RESULTS_DIR / args.out
    write_text(out.with_suffix(".md"), text)
    write_json(out.with_suffix(".json"), {"record": record.as_dict(), "results": results})
    print(text)
    return results


if __name__ == "__main__":
    main()
