"""The seed's production scenario, simulated (issue 18.5): N trials, 30 workers at once, each
trial of a virtual duration, the driver's own time real.

Run:
    python benchmarks/scale_simulation.py --quick          # 1,000 trials
    python benchmarks/scale_simulation.py                  # 6,000 trials (see the results page)
    python benchmarks/scale_simulation.py --trials 300 --methods gpu_bo --out /tmp/x

How: every method drives :class:`benchmarks.sim_backend.SimBackend`, a discrete-event backend:
a trial's duration passes on a virtual clock, while everything the driver does between two
calls into the backend (suggest, tell, SQLite writes, the run loop's bookkeeping) is measured
and advances the clock. gpu_bo runs through the real machinery: ``gb.optimize`` with a SQLite
storage, ``RunOptions(prefetch=True)`` and the backend class. Random search is the same call with
``n_initial = N`` (every point quasi-random). Optuna TPE runs ask/tell on an Optuna SQLite study
in a small loop over the same backend (Optuna has no backend interface to plug into).

Durations: lognormal with a mean of 60 s (sigma 0.5 of the log, so mu = ln 60 - 0.125), drawn
per trial number from the seed. The objective is Hartmann6 on [0, 1]^6 (minimum -3.32237),
returned after its duration. With ``HyperbandPruner(1, 27, 3)`` the trial is a learning curve of
27 steps of duration/27 each, ``value(r) = h6(x) + (0.5 + x0) * (exp(-4 r / 27) - exp(-4))``,
(the final value is h6(x)), reported every step; a pruned trial stops there.

Reported per method: worker utilization ``busy worker-seconds / (30 x wall)``, wall time against
the ideal ``trials x mean / 30`` and against ``busy / 30``, the driver's time (wall and CPU), the
suggestion time as n grows (gpu_bo: per ask), the best value reached, and the check that no
trial is lost or duplicated (every number submitted once, every one finished, the storage holds
N distinct finished trials).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gpu_bo as gb  # noqa: E402
from benchmarks.common import RESULTS_DIR, markdown_table, run_header, write_json, write_text  # noqa: E402
from benchmarks.sim_backend import SimBackend, SimStats, make_backend, sim_sleep  # noqa: E402
from gpu_bo.backends import BackendOptions  # noqa: E402
from gpu_bo.objectives import TrialTask  # noqa: E402
from gpu_bo.run_options import RunOptions  # noqa: E402
from gpu_bo.storage import SQLiteStorage  # noqa: E402

MEAN_S = 60.0
SIGMA = 0.5
STEPS = 27
H6_OPT = -3.32237
_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
               [17, 8, 0.05, 10, 0.1, 14]])
_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
NAMES = [f"x{i}" for i in range(6)]
METHODS = ("gpu_bo", "gpu_bo_hyperband", "random", "optuna_tpe")


def hartmann6(x: list[float]) -> float:
    """Hartmann6 on [0, 1]^6 (minimum -3.32237), in numpy (cheap beside the driver)."""
    return float(-np.sum(_ALPHA * np.exp(-np.sum(_A * (np.asarray(x) - _P) ** 2, axis=1))))


def duration(seed: int, number: int) -> float:
    """The virtual duration of trial ``number``: lognormal, mean ``MEAN_S``."""
    rng = np.random.default_rng([seed, number])
    return float(rng.lognormal(math.log(MEAN_S) - SIGMA**2 / 2, SIGMA))


def make_objective(seed: int, curve: bool, fixed: float | None = None) -> Callable:
    """The simulated objective: sleeps its duration (in steps with ``curve``) and returns h6.

    Args:
        seed: seed of the durations.
        curve: report a learning curve of ``STEPS`` steps (for a pruner).
        fixed: a constant duration instead of the lognormal one (the accounting test).
    """
    def objective(trial: Any) -> float:
        x = [float(trial.params[k]) for k in NAMES]
        d = fixed if fixed is not None else duration(seed, trial.number)
        final = hartmann6(x)
        if not curve:
            sim_sleep(d)
            return final
        for r in range(1, STEPS + 1):
            sim_sleep(d / STEPS)
            trial.report(r, final + (0.5 + x[0]) * (math.exp(-4 * r / STEPS) - math.exp(-4)))
            if r < STEPS and trial.should_prune():
                raise gb.TrialPruned(f"pruned at step {r}")
        return final

    objective.wants_trial = True
    return objective


class AskTimer:
    """Records every ``gb.Optimizer.ask``'s seconds and the trials known then (benchmark-only
    instrumentation: wraps the class method while active)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, float]] = []  # (trials known, points asked, seconds)

    def __enter__(self) -> AskTimer:
        self._orig = orig = gb.Optimizer.ask
        rows = self.rows

        def ask(opt: Any, n: int | None = None) -> Any:
            t0 = time.perf_counter()
            out = orig(opt, n)
            rows.append((len(opt.trials), 1 if n is None else int(n), time.perf_counter() - t0))
            return out

        gb.Optimizer.ask = ask
        return self

    def __exit__(self, *exc: object) -> None:
        gb.Optimizer.ask = self._orig


def run_gpu_bo(n_trials: int, n_workers: int, seed: int, workdir: Path, *, pruner: Any = None,
               random: bool = False, charge_driver: bool = True, clock: str = "wall",
               fixed: float | None = None) -> dict[str, Any]:
    """One study through ``gb.optimize`` on the simulated backend with a SQLite storage."""
    stats = SimStats(n_workers)
    space = gb.Space({k: gb.Real(0.0, 1.0) for k in NAMES})
    url = f"sqlite:///{workdir / f'gb_{seed}_{time.time_ns()}.db'}"
    opts = RunOptions(prefetch=True, n_initial=n_trials if random else None,
                         backend_kwargs={"charge_driver": charge_driver, "clock": clock})
    t0 = time.perf_counter()
    with AskTimer() as timer:
        study = gb.optimize(make_objective(seed, pruner is not None, fixed), space, n_trials=n_trials,
                            n_workers=n_workers, backend=make_backend(stats), storage=url, progress=False,
                            seed=seed, pruner=pruner, options=opts, direction="minimize")
    real = time.perf_counter() - t0
    stored = SQLiteStorage(url.removeprefix("sqlite:///")).load_study()
    return summarize(stats, study.trials, stored.trials, n_trials, real, timer.rows)


def run_optuna(n_trials: int, n_workers: int, seed: int, workdir: Path, *, charge_driver: bool = True,
               clock: str = "wall") -> dict[str, Any]:
    """Optuna TPE ask/tell on an Optuna SQLite study over the same simulated backend."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    stats = SimStats(n_workers)
    be = SimBackend(make_objective(seed, False), n_workers,
                    BackendOptions(backend_kwargs={"charge_driver": charge_driver, "clock": clock, "stats": stats}))
    url = f"sqlite:///{workdir / f'optuna_{seed}_{time.time_ns()}.db'}"
    study = optuna.create_study(storage=url, sampler=optuna.samplers.TPESampler(seed=seed), direction="minimize")
    dists = {k: optuna.distributions.FloatDistribution(0.0, 1.0) for k in NAMES}
    live: dict[int, Any] = {}
    asks: list[tuple[int, int, float]] = []
    started = 0
    t0 = time.perf_counter()
    be.start()
    while started < n_trials or live:
        while started < n_trials and be.free_slots() > 0:
            a0 = time.perf_counter()
            t = study.ask(dists)
            asks.append((started, 1, time.perf_counter() - a0))
            live[t.number] = t
            be.submit(TrialTask(t.number, dict(t.params), pass_trial=True))
            started += 1
        for r in be.wait(None):
            study.tell(live.pop(r.number), r.value if r.state == "COMPLETE" else None,
                       state=None if r.state == "COMPLETE" else optuna.trial.TrialState.FAIL)
    real = time.perf_counter() - t0
    be.shutdown()
    trials = [_Row(t.number, dict(t.params), t.state.name, t.value) for t in study.trials]
    return summarize(stats, trials, trials, n_trials, real, asks)


class _Row:
    """A trial of a peer, in the shape :func:`summarize` reads."""

    def __init__(self, number: int, params: dict, state: str, value: float | None) -> None:
        self.number, self.params, self.value = number, params, value
        self.state = type("S", (), {"name": state, "finished": state != "RUNNING"})()


def summarize(stats: SimStats, trials: list[Any], stored: list[Any], n_trials: int, real: float,
              asks: list[tuple[int, int, float]]) -> dict[str, Any]:
    """Utilization, wall against the ideal, suggestion times, quality and the lost/duplicate check."""
    numbers = [t.number for t in stored]
    keys = [tuple(round(float(t.params[k]), 12) for k in NAMES) for t in stored]
    complete = [t.value for t in trials if t.state.name == "COMPLETE" and t.value is not None]
    check = {
        "submitted": len(stats.submitted), "distinct_submitted": len(set(stats.submitted)),
        "finished": len(stats.finished), "distinct_finished": len(set(stats.finished)),
        "stored": len(stored), "distinct_numbers": len(set(numbers)), "distinct_params": len(set(keys)),
        "unfinished_stored": sum(not t.state.finished for t in stored),
    }
    ok = (len(stats.submitted) == len(set(stats.submitted)) == n_trials
          and set(stats.finished) == set(stats.submitted) and len(stats.finished) == n_trials
          and len(set(numbers)) == len(stored) == n_trials and check["unfinished_stored"] == 0)
    return {
        "n_trials": n_trials, "n_workers": stats.n_workers, "utilization": stats.utilization,
        "wall": stats.wall, "busy": stats.busy, "ideal_wall": n_trials * MEAN_S / stats.n_workers,
        "busy_over_workers": stats.busy / stats.n_workers, "zero_cost_wall": stats.zero_cost_wall(),
        "zero_cost_utilization": stats.busy / (stats.n_workers * stats.zero_cost_wall()) if stats.busy else 1.0,
        "driver_seconds": stats.driver_seconds,
        "driver_cpu_seconds": stats.driver_cpu_seconds, "real_seconds": real,
        "best": min(complete) if complete else None, "n_complete": len(complete),
        "check": check, "no_lost_or_duplicate": bool(ok), "asks": asks,
        "n_distinct_params": len(set(keys)),
    }


def ask_table(asks: list[tuple[int, int, float]], n_trials: int) -> list[list[Any]]:
    """Median / max suggestion seconds by bins of trials known."""
    edges = [0, 100, 250, 500, 1000, 2000, 3000, 4000, 5000, 6000, 10**9]
    rows = []
    for lo, hi in zip(edges, edges[1:]):
        sec = [s / q for n, q, s in asks if lo <= n < hi]
        if sec and lo < n_trials:
            rows.append([f"{lo}-{min(hi, n_trials)}", len(sec), f"{statistics.median(sec):.3f}", f"{max(sec):.3f}"])
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1,000 trials")
    ap.add_argument("--trials", type=int, default=None)
    ap.add_argument("--workers", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="what driver time advances the virtual clock: wall (perf_counter) or process CPU time")
    ap.add_argument("--out", type=Path, default=None, help="result path stem (default benchmarks/results/...)")
    ap.add_argument("--merge", default=None,
                    help="comma-separated JSON files of earlier runs (one method each) to write as one page")
    args = ap.parse_args(argv)
    if args.merge:
        return merge([Path(p) for p in args.merge.split(",")], args.out)
    n = args.trials or (1000 if args.quick else 6000)
    mode = "quick" if args.quick else "full"
    stem = args.out or RESULTS_DIR / ("scale_simulation_quick" if args.quick else "scale_simulation")
    import subprocess

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    rec = run_header("benchmarks/scale_simulation.py", mode,
                     {"trials": n, "workers": args.workers, "seed": args.seed, "clock": args.clock,
                      "durations": f"lognormal mean {MEAN_S} s, sigma {SIGMA}", "commit": commit})
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for m in args.methods.split(","):
            print(f"[scale_simulation] {m}: {n} trials, {args.workers} workers", flush=True)
            kw = {"clock": args.clock}
            if m == "gpu_bo":
                results[m] = run_gpu_bo(n, args.workers, args.seed, work, **kw)
            elif m == "gpu_bo_hyperband":
                results[m] = run_gpu_bo(n, args.workers, args.seed, work, **kw,
                                        pruner=gb.HyperbandPruner(min_resource=1, max_resource=STEPS, reduction_factor=3))
            elif m == "random":
                results[m] = run_gpu_bo(n, args.workers, args.seed, work, random=True, **kw)
            elif m == "optuna_tpe":
                results[m] = run_optuna(n, args.workers, args.seed, work, **kw)
            else:
                raise SystemExit(f"--methods: unknown method {m!r}, expected some of {METHODS}")
            r = results[m]
            print(f"  utilization {r['utilization']:.4f}, wall {r['wall']:.0f} s (ideal {r['ideal_wall']:.0f} s), "
                  f"best {r['best']}, driver {r['driver_seconds']:.1f} s, ok {r['no_lost_or_duplicate']}", flush=True)
    rec.finish()
    write_json(Path(f"{stem}.json"), {"record": rec.as_dict(), "results": results})
    write_text(Path(f"{stem}.md"), report(rec, results, n, args.workers))
    print(f"wrote {stem}.md")


def merge(paths: list[Path], out: Path | None) -> None:
    """One page from runs of one method each (run side by side as separate processes)."""
    import json

    from benchmarks.common import RunRecord

    docs = [json.loads(p.read_text()) for p in paths]
    results = {m: r for d in docs for m, r in d["results"].items()}
    first = docs[0]["record"]
    rec = RunRecord(**{**first, "finished": max(d["record"]["finished"] for d in docs),
                       "loadavg_end": docs[-1]["record"]["loadavg_end"],
                       "note": f"methods run as {len(docs)} processes side by side on this machine; " + "; ".join(
                           f"{', '.join(d['results'])}: {d['record']['settings']['trials']} trials, commit "
                           f"{d['record']['settings'].get('commit')}, {d['record']['started']} to {d['record']['finished']}"
                           for d in docs)})
    for m, r in results.items():  # runs made before spans were recorded: from the durations
        if "zero_cost_wall" not in r and m != "gpu_bo_hyperband":
            st = SimStats(r["n_workers"], submitted=list(range(r["n_trials"])),
                          spans={k: duration(first["settings"]["seed"], k) for k in range(r["n_trials"])})
            r["zero_cost_wall"] = st.zero_cost_wall()
    r0 = next(iter(results.values()))
    stem = out or RESULTS_DIR / "scale_simulation_quick"
    write_json(Path(f"{stem}.json"), {"record": rec.as_dict(), "runs": [d["record"] for d in docs], "results": results})
    write_text(Path(f"{stem}.md"), report(rec, results, r0["n_trials"], r0["n_workers"]))
    print(f"wrote {stem}.md")


def report(rec: Any, results: dict[str, Any], n: int, workers: int) -> str:
    """The markdown page of one run."""
    rows = []
    for m, r in results.items():
        m = f"{m} ({r['n_trials']} trials)" if r["n_trials"] != n else m
        zc = r.get("zero_cost_wall")
        rows.append([m, f"{100 * r['utilization']:.2f}%", f"{r['wall']:.0f}", f"{r['ideal_wall']:.0f}",
                     f"{r['busy_over_workers']:.0f}", "-" if zc is None else f"{zc:.0f}",
                     "-" if zc is None else f"{100 * r['busy'] / (r['n_workers'] * zc):.2f}%", f"{r['driver_seconds']:.1f}", f"{r['driver_cpu_seconds']:.1f}",
                     "-" if r["best"] is None else f"{r['best']:.4f}", f"{r['best'] - H6_OPT:.4f}" if r["best"] else "-",
                     "yes" if r["no_lost_or_duplicate"] else "NO"])
    sizes = sorted({r["n_trials"] for r in results.values()})
    lines = [f"# Scale simulation: {'/'.join(map(str, sizes))} trials, {workers} workers, mean duration "
             f"{MEAN_S:.0f} s", "",
             rec.markdown(), "",
             "Virtual trial durations, real driver time (benchmarks/scale_simulation.py's docstring says how).",
             "Utilization = busy worker-seconds / (workers x wall); ideal wall = trials x 60 s / workers;",
             "busy/workers = the wall with these durations and neither driver cost nor tail; zero-cost wall =",
             "the same trials in the same order with a driver of zero cost (the tail alone) and its utilization.",
             "",
             markdown_table(["method", "utilization", "wall (s)", "ideal wall (s)", "busy/workers (s)",
                             "zero-cost wall (s)", "zero-cost util.",
                             "driver wall (s)", "driver CPU (s)", "best h6", "regret", "no lost/dup"], rows), ""]
    for m, r in results.items():
        lines += [f"## Suggestion time as n grows: {m}", "",
                  "Wall seconds of each ask divided by the points it returned (this machine's load included).", "",
                  markdown_table(["trials known", "asks", "median s/point", "max s/point"],
                                 ask_table(r["asks"], r["n_trials"])),
                  "", f"Check: `{r['check']}`", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
