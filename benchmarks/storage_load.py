"""Load test of the shared storages (issue 21): N processes x M trials on one study.

Each of ``--procs`` processes runs ``gb.optimize(objective, space, n_trials=procs * trials,
storage=URL, study_name="load")`` on the same study, once on PostgreSQL and once on SQLite
(one file). The objective is fast (a sum of squares, no sleep) and the optimizer's
``RunOptions(n_initial=...)`` is larger than the study, so every suggestion is quasi-random:
what is measured is the storage and the run loop, not the GP.

Counted afterwards from the storage and from each process's stderr: duplicate trial numbers,
duplicate parameter sets, lost trials (asked for but not COMPLETE), "database is locked",
serialization/deadlock errors and any other error that surfaced to the user; the throughput in
trials/s (completed trials / the time from the first process's first call to the last one's
return; the start-up of the processes, mostly importing torch, is reported apart).

With no ``--url`` it starts a throwaway PostgreSQL server (``initdb``/``pg_ctl`` under a temp
dir, as the ``postgres`` or ``gpubo-pg`` user when run as root) and removes it at the end.

    python benchmarks/storage_load.py                 # 8 x 100 on each storage
    python benchmarks/storage_load.py --procs 4 --trials 25 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS_DIR, markdown_table, run_header, write_json, write_text  # noqa: E402

PG_BIN = os.environ.get("GPU_BO_PG_BIN", "/usr/local/bin")
SURFACED = {"database is locked": "database is locked", "serializ": "serialization",
            "deadlock": "deadlock", "Traceback": "traceback", "StorageError": "StorageError"}


def worker(url: str, n_total: int, seed: int, out: str) -> None:
    """One process of the load: its own gb.optimize on the shared study; writes its timings to ``out``."""
    import gpu_bo as gb
    from gpu_bo.run_options import RunOptions

    def objective(p: dict) -> float:
        return sum((p[k] - 0.3) ** 2 for k in ("x", "y", "z"))

    space = {"x": (0.0, 1.0), "y": (0.0, 1.0), "z": (0.0, 1.0)}
    t0 = time.time()
    study = gb.optimize(objective, space, n_trials=n_total, storage=url, study_name="load", seed=seed,
                        progress=False, options=RunOptions(n_initial=10 * n_total))
    t1 = time.time()
    mine = sum(1 for t in study.trials if t.state.value == "COMPLETE")
    Path(out).write_text(json.dumps({"start": t0, "end": t1, "seen_complete": mine}))


class ThrowawayPostgres:
    """A PostgreSQL server in a temp dir on a free loopback port, stopped and removed by ``stop``."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="gpu-bo-load-pg.")
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            try:
                pwd.getpwnam(self.user)
            except KeyError:
                self.user = "gpubo-pg"
                try:
                    pwd.getpwnam(self.user)
                except KeyError:
                    subprocess.run(["useradd", "--system", "--no-create-home", self.user], check=True)
            shutil.chown(self.dir, self.user)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        password = secrets.token_hex(12)
        pwfile = Path(self.dir, "pw")
        pwfile.write_text(password + "\n")
        if self.user:
            shutil.chown(pwfile, self.user)
        self.data = os.path.join(self.dir, "data")
        self._as_user([f"{PG_BIN}/initdb", "-D", self.data, "-U", "gpubo", f"--pwfile={pwfile}", "-A", "scram-sha-256"])
        pwfile.unlink()
        self._as_user([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "-o",
                       f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=100", "start"])
        self.url = f"postgresql://gpubo:{password}@127.0.0.1:{self.port}/postgres"

    def _as_user(self, cmd: list[str]) -> None:
        if self.user:
            cmd = ["su", "-s", "/bin/sh", self.user, "-c", " ".join(f"'{c}'" for c in cmd)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        try:
            self._as_user([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def fresh_pg_database(base: str, name: str) -> str:
    """Create the database ``name`` (dropped first if it exists) beside ``base``'s; its URL."""
    import urllib.parse

    import psycopg

    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlsplit(base)._replace(path="/" + name).geturl()


def run_load(label: str, url: str, procs: int, trials: int, tmp: str) -> dict:
    """Start ``procs`` workers on one study of ``url``; check the study afterwards."""
    from gpu_bo.storage import open_storage

    n_total = procs * trials
    started = time.time()
    workers = []
    for i in range(procs):
        out = os.path.join(tmp, f"{label}-{i}.json")
        err = open(os.path.join(tmp, f"{label}-{i}.err"), "w+")
        cmd = [sys.executable, __file__, "--worker", url, str(n_total), str(i), out]
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        workers.append((subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env), out, err))
    codes, timings, surfaced = [], [], Counter()
    for p, out, err in workers:
        codes.append(p.wait(timeout=1800))
        err.seek(0)
        text = err.read()
        err.close()
        for needle, name in SURFACED.items():
            surfaced[name] += text.count(needle)
        if os.path.exists(out):
            timings.append(json.loads(Path(out).read_text()))
    with open_storage(url) as store:
        study = store.load_study("load")
    numbers = [t.number for t in study.trials]
    params = [json.dumps(t.params, sort_keys=True) for t in study.trials]
    states = Counter(t.state.value for t in study.trials)
    first = min(t["start"] for t in timings) if timings else started
    last = max(t["end"] for t in timings) if timings else time.time()
    complete = states.get("COMPLETE", 0)
    return {
        "storage": label, "processes": procs, "trials_per_process": trials, "asked": n_total,
        "recorded": len(study.trials), "states": dict(states),
        "duplicate_numbers": len(numbers) - len(set(numbers)),
        "duplicate_params": len(params) - len(set(params)),
        "lost": n_total - complete, "exit_codes": codes, "surfaced": dict(surfaced),
        "run_s": last - first, "startup_s": first - started, "throughput": complete / max(last - first, 1e-9),
        "per_process_seen_complete": [t["seen_complete"] for t in timings],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a PostgreSQL URL whose role may CREATE DATABASE (default: a throwaway server)")
    ap.add_argument("--procs", type=int, default=8)
    ap.add_argument("--trials", type=int, default=100, help="trials per process")
    ap.add_argument("--storages", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"])
    ap.add_argument("--name", default="storage_load")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        url, n_total, seed, out = args.worker
        worker(url, int(n_total), int(seed), out)
        return
    settings = {"procs": args.procs, "trials_per_process": args.trials, "storages": args.storages,
                "objective": "sum of squares of 3 reals, no sleep", "optimizer": "RunOptions(n_initial=10 x n_trials): "
                "quasi-random suggestions", "url": "given" if args.url else "throwaway server (initdb + pg_ctl)"}
    record = run_header("benchmarks/storage_load.py", "full", settings,
                        note="each process: gb.optimize(n_trials=procs x trials, storage=URL, study_name='load'), "
                             "started as a separate Python process; serial backend in each")
    server = None if args.url or "postgresql" not in args.storages else ThrowawayPostgres()
    rows = []
    tmp = tempfile.mkdtemp(prefix="gpu-bo-load.")
    try:
        for label in args.storages:
            if label == "postgresql":
                url = fresh_pg_database(args.url or server.url, "gpubo_storage_load")
            else:
                url = f"sqlite:///{os.path.join(tmp, 'load.db')}"
            print(f"{label}: {args.procs} processes x {args.trials} trials ...", flush=True)
            rows.append(run_load(label, url, args.procs, args.trials, tmp))
            print(json.dumps(rows[-1]), flush=True)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    record.finish()
    table = markdown_table(
        ["storage", "processes x trials", "recorded", "COMPLETE", "duplicate numbers", "duplicate params", "lost",
         "'database is locked' / serialization / deadlock / other errors surfaced", "run time", "trials/s",
         "process start-up"],
        [[r["storage"], f"{r['processes']} x {r['trials_per_process']}", r["recorded"], r["states"].get("COMPLETE", 0),
          r["duplicate_numbers"], r["duplicate_params"], r["lost"],
          " / ".join(str(r["surfaced"].get(k, 0)) for k in ("database is locked", "serialization", "deadlock",
                                                             "traceback")),
          f"{r['run_s']:.1f} s", f"{r['throughput']:.1f}", f"{r['startup_s']:.1f} s"] for r in rows])
    text = (f"# Storage load: {args.procs} processes x {args.trials} trials on one study\n\n{record.markdown()}\n\n"
            f"{table}\n\n'other errors' counts tracebacks in the processes' stderr; every process's exit code: "
            + "; ".join(f"{r['storage']} {r['exit_codes']}" for r in rows) + ".\n")
    print(text)
    if not args.no_write:
        write_json(RESULTS_DIR / f"{args.name}.json", {"run": record.as_dict(), "rows": rows})
        write_text(RESULTS_DIR / f"{args.name}.md", text)


if __name__ == "__main__":
    main()
