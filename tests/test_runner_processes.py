"""End-to-end runner tests with real processes: SIGKILL then resume, SIGKILL one of four
processes sharing a study on SQLite and on PostgreSQL (its trial is re-run by another after the
grace period), Ctrl-C, two processes on one study file, and workers started with "spawn"."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

import gpu_bo as gb
from gpu_bo.runner import RunOptions, optimize
from gpu_bo.storage import open_storage
from gpu_bo.study import TrialState

SPACE = {"x": (0.0, 1.0), "y": (0.0, 1.0)}

SCRIPT = textwrap.dedent("""
    import sys, time
    import torch
    torch.set_num_threads(1)
    from gpu_bo.runner import RunOptions, optimize

    def objective(p):
        time.sleep({sleep})
        return (p["x"] - 0.3) ** 2 + p["y"]

    if __name__ == "__main__":
        url, n_trials, backend, n_workers, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        study = optimize(objective, {{"x": (0.0, 1.0), "y": (0.0, 1.0)}}, n_trials, storage=url,
                         study_name="shared", backend=backend, n_workers=n_workers, seed=seed,
                         progress=False, options=RunOptions(n_initial={n_initial}, sync_interval=0.2{extra}))
        states = [t.state.value for t in study.trials]
        print("DONE", len(study.trials), states.count("COMPLETE"), states.count("RUNNING"), flush=True)
""")


def _script(tmp_path, sleep: float, n_initial: int = 100, extra: str = ""):
    path = tmp_path / "run_study.py"
    path.write_text(SCRIPT.format(sleep=sleep, n_initial=n_initial, extra=extra))
    return path


def _launch(script, url, n_trials, backend="serial", n_workers=1, seed=0):
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, str(script), url, str(n_trials), backend, str(n_workers), str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _count(db, state):
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM trials WHERE state = ?", (state,)).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _wait_for(pred, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_sigkill_then_resume_loses_nothing(tmp_path):
    db = tmp_path / "kill.db"
    url = f"sqlite:///{db}"
    proc = _launch(_script(tmp_path, 0.3), url, 40, backend="process", n_workers=2)
    try:
        assert _wait_for(lambda: _count(db, "COMPLETE") >= 4), proc.stderr.read() if proc.poll() is not None else ""
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    before = open_storage(url).load_study("shared")
    done_before = {t.number: (t.params, t.value) for t in before.trials if t.state == TrialState.COMPLETE}
    assert len(done_before) >= 4
    assert any(t.state == TrialState.RUNNING for t in before.trials)  # killed mid-trial
    killed = {t.number: t.params for t in before.trials if t.state == TrialState.RUNNING}
    n_total = len(before.trials) + 3
    time.sleep(1.2)  # the killed process's trials go stale (stale_after=1.0 below)
    with pytest.warns(gb.GpuBoWarning, match="left RUNNING with no heartbeat for 1 s.*re-queued"):
        after = optimize(lambda p: (p["x"] - 0.3) ** 2 + p["y"], SPACE, n_total, storage=url,
                         study_name="shared", progress=False,
                         options=RunOptions(n_initial=100, heartbeat_interval=0.2, stale_after=1.0))
    assert len(after.trials) == n_total  # the re-run trials count once
    for number, (params, value) in done_before.items():
        t = after.trials[number]
        assert (t.params, t.value, t.state) == (params, value, TrialState.COMPLETE)
    for number, params in killed.items():  # re-run with the same params and number, history kept
        t = after.trials[number]
        assert t.state == TrialState.COMPLETE and t.params == params
        assert [a["owner"] for a in t.attempts] == [f"{socket.gethostname()}:{proc.pid}"]
    assert [t.state for t in after.trials] == [TrialState.COMPLETE] * n_total


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_saves(tmp_path):
    db = tmp_path / "int.db"
    url = f"sqlite:///{db}"
    proc = _launch(_script(tmp_path, 0.3), url, 200, backend="process", n_workers=2)
    try:
        assert _wait_for(lambda: _count(db, "COMPLETE") >= 3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "interrupted" in err and out.startswith("DONE")
    stored = open_storage(url).load_study("shared")
    states = [t.state for t in stored.trials]
    assert TrialState.RUNNING not in states and states.count(TrialState.COMPLETE) >= 3
    assert int(out.split()[1]) == len(stored.trials) < 200


@pytest.mark.slow
def test_two_processes_share_one_study(tmp_path):
    db = tmp_path / "two.db"
    url = f"sqlite:///{db}"
    open_storage(url, create=True).close()  # both start from an existing (empty) file
    script = _script(tmp_path, 0.1)
    # the same seed on purpose: both optimizers start from the same quasi-random sequence, so
    # they must learn each other's running trials to avoid proposing the same points
    procs = [_launch(script, url, 12, seed=0), _launch(script, url, 12, seed=0)]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        # each process returns the whole study: every trial the other one finished, none RUNNING
        assert out.split() == ["DONE", "12", "12", "0"], (out, err)
    stored = open_storage(url).load_study("shared")
    assert sorted(t.number for t in stored.trials) == list(range(12))
    assert all(t.state == TrialState.COMPLETE for t in stored.trials)
    keys = {tuple(t.params.values()) for t in stored.trials}
    assert len(keys) == 12
    con = sqlite3.connect(db)
    owners = {r[0] for r in con.execute("SELECT owner FROM trials")}
    con.close()
    assert len(owners) == 2  # both processes did work


def raise_high(p):
    if p["x"] > 0.5:
        raise ValueError("too big")
    return p["x"] + p["y"]


@pytest.mark.slow
def test_process_backend_with_spawn():
    study = optimize(raise_high, SPACE, 4, backend="process", n_workers=1, seed=1, progress=False,
                     options=RunOptions(n_initial=100, start_method="spawn"))
    assert len(study.trials) == 4
    for t in study.trials:
        assert (t.state == TrialState.FAILED) == (t.params["x"] > 0.5)


ORPHAN = textwrap.dedent("""
    import os, sys, time
    import gpu_bo as gb
    from gpu_bo.runner import RunOptions

    def objective(p):
        with open(os.path.join(sys.argv[1], f"{os.getpid()}.pid"), "w") as f:
            f.write("started")
        time.sleep(120)
        return p["x"]

    if __name__ == "__main__":
        print("driver", os.getpid(), flush=True)
        gb.optimize(objective, {"x": (0.0, 1.0)}, 10, backend="process", n_workers=2, progress=False,
                    options=RunOptions(n_initial=100, start_method=sys.argv[2]))
""")


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (an orphan's zombie may never be reaped here)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("method, sig", [("fork", signal.SIGKILL), ("spawn", signal.SIGKILL),
                                         ("forkserver", signal.SIGKILL), ("fork", signal.SIGTERM),
                                         ("spawn", signal.SIGTERM)])
def test_workers_exit_and_pipes_close_when_the_driver_is_killed(tmp_path, method, sig):
    script, pids = tmp_path / "orphan.py", tmp_path / "pids"
    script.write_text(ORPHAN)
    pids.mkdir()
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(script), str(pids), method], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    workers: list[int] = []
    try:
        assert _wait_for(lambda: len(list(pids.iterdir())) >= 2 or proc.poll() is not None), "no worker started"
        assert proc.poll() is None, proc.communicate()
        workers = [int(f.stem) for f in pids.iterdir()]
        proc.send_signal(sig)
        t0 = time.monotonic()
        proc.wait(5)
        proc.communicate(timeout=5)  # returns only once every holder of the pipes is gone
        assert _wait_for(lambda: not any(_alive(pid) for pid in workers), timeout=max(0.1, 5 - (time.monotonic() - t0)))
        assert time.monotonic() - t0 < 5
    finally:
        for pid in workers:  # never leave an orphan behind, even when the test failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


SECOND_CTRL_C = textwrap.dedent("""
    import os, sys, time
    import gpu_bo as gb
    from gpu_bo.runner import RunOptions

    def objective(p):
        open(sys.argv[2], "w").close()
        time.sleep(0.2)
        return p["x"]

    def slow_goodbye(study, trial):
        if trial.error and "interrupted" in trial.error:  # called while the run cleans up
            open(sys.argv[1], "w").close()
            time.sleep(3)

    if __name__ == "__main__":
        study = gb.optimize(objective, {"x": (0.0, 1.0)}, 200, backend="thread", n_workers=2, progress=False,
                            callbacks=[slow_goodbye],
                            options=RunOptions(n_initial=1000, requeue_interrupted=False))
        print("DONE", len(study.trials), flush=True)
""")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_second_ctrl_c_while_stopping_prints_no_traceback(tmp_path):
    script, cleaning, running = tmp_path / "twice.py", tmp_path / "cleaning", tmp_path / "running"
    script.write_text(SECOND_CTRL_C)
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(script), str(cleaning), str(running)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert _wait_for(lambda: running.exists() or proc.poll() is not None)
        proc.send_signal(signal.SIGINT)
        assert _wait_for(lambda: cleaning.exists() or proc.poll() is not None, timeout=30)
        proc.send_signal(signal.SIGINT)  # the second Ctrl-C, while the first one is handled
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "interrupted" in err and out.startswith("DONE")


def _rows(url, sql, args=()):
    """Rows of a plain SQL query on the study's database (SQLite or PostgreSQL; ``?`` placeholders)."""
    if url.startswith("sqlite:///"):
        try:
            con = sqlite3.connect(f"file:{url[len('sqlite:///'):]}?mode=ro", uri=True, timeout=5)
            try:
                return con.execute(sql, args).fetchall()
            finally:
                con.close()
        except sqlite3.Error:
            return []
    import psycopg

    try:
        with psycopg.connect(url) as con:
            return con.execute(sql.replace("?", "%s"), args).fetchall()
    except psycopg.Error:
        return []


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["sqlite", "postgresql"])
def test_sigkill_one_of_four_processes_its_trial_is_rerun_by_another(tmp_path, request, scheme):
    url = f"sqlite:///{tmp_path / 'four.db'}" if scheme == "sqlite" else request.getfixturevalue("postgres_url")
    open_storage(url, create=True).close()
    n = 40  # enough that the victim still runs trials once the last process started
    script = _script(tmp_path, 0.4, extra=", heartbeat_interval=0.2, stale_after=1.5")
    procs = [_launch(script, url, n, seed=i) for i in range(4)]
    victim, host = procs[0], socket.gethostname()
    owner = f"{host}:{victim.pid}"
    try:
        # every process has started trials (so each waits for the others' trials at its end) ...
        assert _wait_for(lambda: len(_rows(url, "SELECT DISTINCT owner FROM trials")) == 4), "not all started"
        seen = time.time()
        # ... then the victim is killed in the middle of a trial started after that
        assert _wait_for(lambda: _rows(url, "SELECT number FROM trials WHERE owner = ? AND state = 'RUNNING' "
                                           "AND start_time > ?", (owner, seen)))
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
        number = _rows(url, "SELECT number FROM trials WHERE owner = ? AND state = 'RUNNING'", (owner,))[0][0]
        outs = [p.communicate(timeout=240) for p in procs[1:]]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (out, err) in zip(procs[1:], outs):
        assert p.returncode == 0, err
        assert out.split() == ["DONE", str(n), str(n), "0"], (out, err)
    stored = open_storage(url).load_study("shared")
    assert sorted(t.number for t in stored.trials) == list(range(n))
    assert [t.state for t in stored.trials] == [TrialState.COMPLETE] * n  # exactly n finished, none lost
    assert len({tuple(t.params.values()) for t in stored.trials}) == n
    rerun = stored.trials[number]
    assert [(a["owner"], a["reason"]) for a in rerun.attempts] == [(owner, "stale: no heartbeat for 1.5 s")]
    (final_owner, attempts), = _rows(url, "SELECT owner, attempts FROM trials WHERE number = ?", (number,))
    assert final_owner != owner and json.loads(attempts)[0]["owner"] == owner  # re-run by another process
    assert [t.number for t in stored.trials if t.attempts] == [number]
