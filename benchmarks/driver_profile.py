"""Where the driver's time goes with many trials and 30 pending points (issue 18.3).

Run:
    python benchmarks/driver_profile.py --n 1000,3000 --events 60
    PYTHONPATH=/tmp/before python benchmarks/driver_profile.py ... --label before   # another tree

For each history size n: a SQLite study is filled with n finished quasi-random trials of
Hartmann6 (through the storage API, not timed), then ``gb.optimize`` resumes it on the simulated
backend (benchmarks/sim_backend.py: 30 workers, virtual durations, so 30 points stay pending)
for ``events`` more trials with ``RunOptions(prefetch=True)``, under cProfile enabled only for
the loop (the resume's first sync is not in it). The table splits the loop's driver time per
finished trial into: GP fit, acquisition maximization (batch selection incl. pending
fantasies), the rest of ask (training data, exclusion keys, decoding), tell, storage writes
(create/finish), the run loop's sync (trials_since) and _publish, heartbeat/reclaim, other.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gpu_bo as gb  # noqa: E402
from benchmarks.common import RESULTS_DIR, markdown_table, run_header, write_json, write_text  # noqa: E402
from benchmarks.scale_simulation import NAMES, hartmann6, make_objective  # noqa: E402
from benchmarks.sim_backend import SimStats, make_backend  # noqa: E402
from gpu_bo.run_options import RunOptions  # noqa: E402
from gpu_bo.storage import SQLiteStorage  # noqa: E402

# component -> (module path part, function name) whose cumulative time it is
COMPONENTS = {
    "fit": [("surrogate/fit.py", "fit")],
    "maximize": [("gpu_bo/batch.py", "select")],
    "ask (all)": [("gpu_bo/optimizer.py", "ask")],
    "tell": [("gpu_bo/optimizer.py", "tell")],
    "storage create": [("storage/sqlite.py", "create_trial")],
    "storage finish": [("storage/sqlite.py", "finish_trial")],
    "sync": [("gpu_bo/run_loop.py", "sync")],
    "publish": [("gpu_bo/run_loop.py", "_publish")],
    "reclaim": [("gpu_bo/heartbeat.py", "reclaim")],
}


def seed_study(path: Path, n: int, seed: int) -> None:
    """A SQLite study of ``n`` finished Sobol trials of Hartmann6 (the history to resume)."""
    space = gb.Space({k: gb.Real(0.0, 1.0) for k in NAMES})
    store = SQLiteStorage(str(path))
    store.get_or_create_study("default", ("minimize",), space.to_dict())
    for p in space.sample_params(n, seed=seed):
        t = store.create_trial("default", p)
        t.values = [hartmann6([p[k] for k in NAMES])]
        t.state, t.end_time = gb.TrialState.COMPLETE, time.time()
        store.finish_trial("default", t)
    store.close()


def cumulative(stats: pstats.Stats) -> tuple[dict[str, float], dict[str, int]]:
    """Seconds and calls per component (cumulative times of the functions of ``COMPONENTS``)."""
    out, calls = dict.fromkeys(COMPONENTS, 0.0), dict.fromkeys(COMPONENTS, 0)
    for (file, _, func), (_, nc, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        for comp, keys in COMPONENTS.items():
            if any(part in file and func == name for part, name in keys):
                out[comp] += ct
                calls[comp] += nc
    return out, calls


def profile_one(n: int, events: int, workers: int, seed: int, work: Path) -> dict[str, Any]:
    """Resume a study of ``n`` trials for ``events`` more on the simulated backend, profiled."""
    db = work / f"hist_{n}.db"
    t0 = time.perf_counter()
    seed_study(db, n, seed)
    print(f"  seeded {n} trials in {time.perf_counter() - t0:.1f} s", flush=True)
    stats, prof = SimStats(workers), cProfile.Profile(time.process_time)  # CPU: the machine is shared
    space = gb.Space({k: gb.Real(0.0, 1.0) for k in NAMES})
    t0 = time.perf_counter()
    gb.optimize(make_objective(seed, False), space, n_trials=n + events, n_workers=workers,
                backend=make_backend(stats, prof), storage=f"sqlite:///{db}", progress=False, seed=seed,
                options=RunOptions(prefetch=True), direction="minimize")
    real = time.perf_counter() - t0
    comp, calls = cumulative(pstats.Stats(prof))
    done = len(stats.finished)
    comp["ask other"] = comp["ask (all)"] - comp["fit"] - comp["maximize"]
    comp["other"] = stats.driver_cpu_seconds - sum(comp[k] for k in ("ask (all)", "tell", "storage create",
                                                                  "storage finish", "sync", "reclaim"))
    return {"n": n, "finished": done, "driver_seconds": stats.driver_seconds,
            "driver_cpu_seconds": stats.driver_cpu_seconds, "real_seconds": real,
            "per_trial": {k: v / max(done, 1) for k, v in comp.items()}, "calls": calls}


def micro(n: int, cycles: int, seed: int) -> dict[str, float]:
    """Milliseconds per tell / per (ask-free) bookkeeping of an Optimizer holding ``n`` finished
    trials and 30 running ones: tell one running point, register a new running one (records
    only: no GP), and ``opt.pending``."""
    from gpu_bo.optimizer import Optimizer

    space = gb.Space({k: gb.Real(0.0, 1.0) for k in NAMES})
    pts = space.sample_params(n + 30 + cycles, seed=seed)
    opt = Optimizer(space, seed=seed)
    opt.tell(pts[:n], [hartmann6([p[k] for k in NAMES]) for p in pts[:n]])
    rec = opt._records  # benchmark-only: the records' bookkeeping without a suggestion
    running = [rec.add_running(dict(p)) for p in pts[n:n + 30]]
    t_tell = t_pend = 0.0
    for i in range(cycles):
        t = running.pop(0)
        t0 = time.perf_counter()
        opt.tell(t.params, 0.0)
        t1 = time.perf_counter()
        opt.pending  # noqa: B018 - timed
        t_pend += time.perf_counter() - t1
        t_tell += t1 - t0
        running.append(rec.add_running(dict(pts[n + 30 + i])))
    return {"n": n, "tell_ms": 1000 * t_tell / cycles, "pending_ms": 1000 * t_pend / cycles}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", default="1000,3000,6000", help="history sizes, comma-separated")
    ap.add_argument("--events", type=int, default=60, help="trials run after the resume (besides 30 in flight)")
    ap.add_argument("--workers", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--label", default="after", help="a name for this tree (before/after)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR / "driver_profile")
    ap.add_argument("--micro", action="store_true", help="only the records' tell/pending cost per n (no GP)")
    args = ap.parse_args(argv)
    if args.micro:
        rows = [micro(int(x), 200, args.seed) for x in args.n.split(",")]
        print(rows)
        write_json(Path(f"{args.out}_micro_{args.label}.json"), rows)
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    rec = run_header("benchmarks/driver_profile.py", args.label,
                     {"n": args.n, "events": args.events, "workers": args.workers, "commit": commit,
                      "gpu_bo": str(Path(gb.__file__).parent)})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.n.split(",")):
            print(f"[driver_profile:{args.label}] n={n}", flush=True)
            rows.append(profile_one(n, args.events, args.workers, args.seed, Path(tmp)))
            print(f"  {rows[-1]['per_trial']}", flush=True)
    rec.finish()
    stem = Path(f"{args.out}_{args.label}")
    write_json(stem.with_suffix(".json"), {"record": rec.as_dict(), "rows": rows})
    keys = ["fit", "maximize", "ask other", "tell", "storage create", "storage finish", "sync", "publish",
            "reclaim", "other"]
    table = [[r["n"], r["finished"]] + [f"{1000 * r['per_trial'][k]:.1f}" for k in keys]
             + [f"{1000 * r['driver_cpu_seconds'] / max(r['finished'], 1):.0f}",
                f"{1000 * r['driver_seconds'] / max(r['finished'], 1):.0f}", r["calls"]["ask (all)"],
                r["calls"]["fit"]] for r in rows]
    write_text(stem.with_suffix(".md"), "\n".join([
        f"# Driver profile ({args.label})", "", rec.markdown(), "",
        "Milliseconds of driver CPU time (process time, all threads) per finished trial (cProfile cumulative times with a CPU timer; publish is inside its callers); total wall = the driver's wall time per trial on this shared machine.", "",
        markdown_table(["n", "trials"] + keys + ["total CPU", "total wall", "asks", "fits"], table), ""]))
    print(f"wrote {stem}.md")


if __name__ == "__main__":
    main()
