"""End-to-end runner tests with real processes: SIGKILL then resume, Ctrl-C, two processes on
one study file, and workers started with "spawn"."""

from __future__ import annotations

import os
import signal
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
                         progress=False, options=RunOptions(n_initial={n_initial}, sync_interval=0.2))
        print("DONE", len(study.trials), flush=True)
""")


def _script(tmp_path, sleep: float, n_initial: int = 100):
    path = tmp_path / "run_study.py"
    path.write_text(SCRIPT.format(sleep=sleep, n_initial=n_initial))
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
    n_total = len(before.trials) + 3
    with pytest.warns(gb.GpuBoWarning, match="left RUNNING"):
        after = optimize(lambda p: (p["x"] - 0.3) ** 2 + p["y"], SPACE, n_total, storage=url,
                         study_name="shared", progress=False, options=RunOptions(n_initial=100))
    assert len(after.trials) == n_total
    for number, (params, value) in done_before.items():
        t = after.trials[number]
        assert (t.params, t.value, t.state) == (params, value, TrialState.COMPLETE)
    abandoned = [t for t in after.trials if t.error and "abandoned" in t.error]
    assert abandoned and all(t.state == TrialState.FAILED for t in abandoned)
    assert TrialState.RUNNING not in [t.state for t in after.trials]


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
        assert out.startswith("DONE 12")
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
