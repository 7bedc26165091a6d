"""Tests of gpu_bo.storage: SQLite format, errors, trial numbering, change feed, abandoned trials."""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import sqlite3
import subprocess
import sys

import pytest

import gpu_bo as gb
from gpu_bo.storage import DuplicateParams, InMemoryStorage, SQLiteStorage, open_storage
from gpu_bo.study import TrialState

SPACE = {"x": {"type": "real", "low": 0.0, "high": 1.0, "log": False}}


def _url(tmp_path, name="s.db"):
    return f"sqlite:///{tmp_path / name}"


def _finish(store, study, t, value, state=TrialState.COMPLETE):
    t.value, t.state, t.end_time = value, state, t.start_time + 1.0
    store.finish_trial(study, t)


@pytest.fixture(params=["sqlite", "memory"])
def store(request, tmp_path):
    s = open_storage(_url(tmp_path), create=True) if request.param == "sqlite" else InMemoryStorage()
    yield s
    s.close()


def test_roundtrip_and_listing(store):
    store.get_or_create_study("a", "minimize", SPACE)
    store.get_or_create_study("b", "maximize", None)
    assert store.list_studies() == ["a", "b"]
    t0 = store.create_trial("a", {"x": 0.25})
    t1 = store.create_trial("a", {"x": 0.75})
    assert (t0.number, t1.number) == (0, 1) and t0.state == TrialState.RUNNING
    t0.intermediate = {0: 3.0, 1: 2.0}
    t0.error = None
    _finish(store, "a", t0, 1.5)
    t1.error = "Traceback: boom"
    _finish(store, "a", t1, None, TrialState.FAILED)
    s = store.load_study("a")
    assert s.name == "a" and s.direction == "minimize"
    assert [(t.number, t.state, t.value) for t in s.trials] == [
        (0, TrialState.COMPLETE, 1.5), (1, TrialState.FAILED, None)]
    assert s.trials[0].intermediate == {0: 3.0, 1: 2.0} and s.trials[1].error == "Traceback: boom"
    assert s.trials[0].params == {"x": 0.25} and s.best_value == 1.5


def test_load_study_name_errors(store):
    with pytest.raises(gb.StorageError, match="no study"):
        store.load_study()
    store.get_or_create_study("a", "minimize", SPACE)
    assert store.load_study().name == "a"  # the only one
    store.get_or_create_study("b", "minimize", SPACE)
    with pytest.raises(gb.StorageError, match="2 studies"):
        store.load_study()
    with pytest.raises(gb.StorageError, match="no study named 'zzz'"):
        store.load_study("zzz")


def test_study_mismatch_is_a_clear_error(store):
    store.get_or_create_study("a", "minimize", SPACE)
    with pytest.raises(gb.StorageError, match="direction"):
        store.get_or_create_study("a", "maximize", SPACE)
    other = {"x": {"type": "real", "low": 0.0, "high": 2.0, "log": False}}
    with pytest.raises(gb.StorageError, match="search space"):
        store.get_or_create_study("a", "minimize", other)


def test_max_trials_unique_and_change_feed(store):
    store.get_or_create_study("a", "minimize", SPACE)
    ts = [store.create_trial("a", {"x": i / 10}, max_trials=3) for i in range(3)]
    assert store.create_trial("a", {"x": 0.9}, max_trials=3) is None
    assert len(store.load_study("a").trials) == 3
    with pytest.raises(DuplicateParams):
        store.create_trial("a", {"x": 0.1}, unique=True)
    changed, seq = store.trials_since("a", 0)
    assert sorted(t.number for t in changed) == [0, 1, 2]
    assert store.trials_since("a", seq) == ([], seq)
    _finish(store, "a", ts[1], 0.5)
    changed, seq2 = store.trials_since("a", seq)
    assert [(t.number, t.state) for t in changed] == [(1, TrialState.COMPLETE)] and seq2 > seq


def test_missing_corrupt_foreign_and_bad_urls(tmp_path):
    with pytest.raises(gb.StorageError, match="does not exist"):
        open_storage(_url(tmp_path, "missing.db"))
    assert not (tmp_path / "missing.db").exists()  # a reader never creates files
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(gb.StorageError, match="not a gpu_bo storage file"):
        open_storage(f"sqlite:///{bad}")
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE users (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(gb.StorageError, match="another application"):
        open_storage(f"sqlite:///{foreign}", create=True)
    with pytest.raises(gb.StorageError, match="expected 'sqlite:///"):
        open_storage("postgres://host/db")
    with pytest.raises(gb.StorageError, match="directory"):
        open_storage(f"sqlite:///{tmp_path}")
    with pytest.raises(gb.StorageError, match="does not exist"):
        open_storage(f"sqlite:///{tmp_path / 'nodir' / 'x.db'}", create=True)
    with pytest.raises(TypeError, match="storage"):
        open_storage(42)


def test_newer_schema_and_wal(tmp_path):
    s = open_storage(_url(tmp_path), create=True)
    assert s._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.close()
    con = sqlite3.connect(tmp_path / "s.db")
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(gb.StorageError, match="newer gpu_bo"):
        open_storage(_url(tmp_path))


def test_url_forms(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = open_storage("sqlite:///rel.db", create=True)
    assert os.path.abspath(s.path) == str(tmp_path / "rel.db")
    s.close()
    s = open_storage(f"sqlite:///{tmp_path / 'abs.db'}", create=True)  # -> sqlite:////tmp/...
    assert s.path == str(tmp_path / "abs.db")
    assert open_storage(s) is s
    s.close()
    assert isinstance(open_storage(tmp_path / "p.db", create=True), SQLiteStorage)


def test_fail_abandoned_only_marks_dead_local_owners(tmp_path):
    s = open_storage(_url(tmp_path), create=True)
    s.get_or_create_study("a", "minimize", SPACE)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    host = socket.gethostname()
    s.create_trial("a", {"x": 0.1}, owner=f"{host}:{dead.stdout.strip()}")
    s.create_trial("a", {"x": 0.2}, owner=f"{host}:{os.getpid()}")  # alive: this process
    s.create_trial("a", {"x": 0.3}, owner="some-other-host:1")       # unknowable: left alone
    assert s.fail_abandoned("a") == [0]
    trials = s.load_study("a").trials
    assert [t.state for t in trials] == [TrialState.FAILED, TrialState.RUNNING, TrialState.RUNNING]
    assert "abandoned" in trials[0].error
    s.close()


def _create_many(url: str, n: int, tag: int) -> None:
    s = open_storage(url)
    for i in range(n):
        t = s.create_trial("a", {"x": tag + i / 1000})
        t.value, t.state = float(i), TrialState.COMPLETE
        s.finish_trial("a", t)
    s.close()


def test_two_processes_get_distinct_numbers(tmp_path):
    url = _url(tmp_path)
    s = open_storage(url, create=True)
    s.get_or_create_study("a", "minimize", None)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    procs = [ctx.Process(target=_create_many, args=(url, 25, k)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    trials = s.load_study("a").trials
    assert sorted(t.number for t in trials) == list(range(50))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    s.close()


def test_params_that_are_not_json_give_a_storage_error(tmp_path):
    s = open_storage(_url(tmp_path), create=True)
    s.get_or_create_study("a", "minimize", None)
    with pytest.raises(gb.StorageError, match="cannot be stored in SQLite as JSON"):
        s.create_trial("a", {"x": object()})
    with pytest.raises(gb.StorageError, match="cannot be stored"):
        s.create_trial("a", {"x": float("nan")})
    assert s.load_study("a").trials == []
    s.close()
