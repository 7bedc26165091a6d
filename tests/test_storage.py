"""Tests of what is specific to gpu_bo.storage's SQLite store and its URL registry: the file
format, its schema versions and the migration of schema 1 files, read-only files, corrupt and
foreign files, URLs, concurrency between processes.

What every storage must do is tested once for all of them in tests/test_storage_contract.py.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

import gpu_bo as gb
from gpu_bo.storage import (SCHEMA_VERSION, InMemoryStorage, SQLiteStorage, Storage, open_storage,
                            register_storage, storage_schemes)
from gpu_bo.study import TrialState

DATA = Path(__file__).resolve().parent / "data"


def _url(tmp_path, name="s.db"):
    return f"sqlite:///{tmp_path / name}"


def _v1_copy(tmp_path) -> Path:
    """A fresh copy of the schema-1 fixture (made by tests/data/make_study_v1.py)."""
    path = tmp_path / "v1.sqlite"
    shutil.copyfile(DATA / "study_v1.sqlite", path)
    return path


def _meta(path) -> dict:
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()


def _assert_v1_content(store):
    expected = json.loads((DATA / "study_v1.json").read_text())
    assert store.list_studies() == list(expected)
    for name, want in expected.items():
        s = store.load_study(name)
        assert s.direction == want["direction"]
        # written before attempts existed: a trial of then has none
        assert [t.to_dict() for t in s.trials] == [{"attempts": [], "constraints": None, **d} for d in want["trials"]]
    assert store.study_info("min").space["opt"]["choices"] == ["adam", "sgd", None]
    assert store.study_info("max").space is None and store.study_info("max").directions == ("maximize",)


def test_schema_1_file_is_migrated_in_place_and_keeps_its_trials(tmp_path):
    path = _v1_copy(tmp_path)
    assert _meta(path)["schema_version"] == "1"
    s = open_storage(f"sqlite:///{path}")
    assert _meta(path)["schema_version"] == str(SCHEMA_VERSION) == "4"
    _assert_v1_content(s)
    s.get_or_create_study("min", "minimize", s.study_info("min").space)  # same study, no mismatch
    t = s.create_trial("min", {"lr": 0.003, "layers": 2, "opt": "sgd"}, unique=True)
    assert t.number == 5
    t.value, t.state, t.end_time = 0.125, TrialState.COMPLETE, t.start_time + 1.0
    s.finish_trial("min", t)
    s.close()
    again = open_storage(f"sqlite:///{path}")  # already at schema 3: opened as it is
    assert again.load_study("min").trials[5].values == [0.125]
    assert again.load_study("min").best_value == -1.0e-3
    again.close()
    con = sqlite3.connect(path)  # plain SQL still sees the single value in `value`
    assert con.execute("SELECT value, values_json FROM trials WHERE number = 5 AND study_id = 1").fetchone() \
        == (0.125, "[0.125]")
    assert con.execute("SELECT values_json FROM trials WHERE number = 0 AND study_id = 1").fetchone() == (None,)
    con.close()


def _v2_copy(tmp_path) -> Path:
    """A schema-2 file: the schema-1 fixture taken through the 1 -> 2 step by hand (as gpu_bo
    before heartbeats left it)."""
    path = _v1_copy(tmp_path)
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE studies ADD COLUMN directions TEXT")
    con.execute("ALTER TABLE trials ADD COLUMN values_json TEXT")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    return path


def test_schema_2_file_gets_heartbeat_and_attempts_in_place(tmp_path):
    path = _v2_copy(tmp_path)
    s = open_storage(f"sqlite:///{path}")
    assert _meta(path)["schema_version"] == "4"
    _assert_v1_content(s)
    con = sqlite3.connect(path)
    cols = {r[1] for r in con.execute("PRAGMA table_info(trials)")}
    con.close()
    assert {"heartbeat", "attempts", "values_json"} <= cols
    t = s.create_trial("min", {"lr": 0.003, "layers": 2, "opt": "sgd"}, owner="h:1")
    assert s.requeue_trial("min", t.number, "h:1", "interrupted")
    assert s.claim_waiting("min", "h:2").attempts[0]["reason"] == "interrupted"
    s.close()


def test_read_only_schema_2_file_reads_trials_without_attempts(tmp_path):
    path = _v2_copy(tmp_path)
    s = SQLiteStorage(str(path), read_only=True)
    _assert_v1_content(s)
    assert s.reclaim_stale("min", 1.0) == [] and s.claim_waiting("min", "h:1") is None
    s.close()
    assert _meta(path)["schema_version"] == "2"


def test_read_only_schema_1_file_loads_without_migrating(tmp_path, monkeypatch):
    path = _v1_copy(tmp_path)
    path.chmod(0o444)
    # tests run as root, where chmod does not stop writes: make os.access say what it would say
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK else real_access(p, mode, **kw))
    s = open_storage(f"sqlite:///{path}")
    assert isinstance(s, SQLiteStorage) and s.read_only
    _assert_v1_content(s)
    assert s.trials_since("min", 0)[1] == 9 and s.fail_abandoned("min") == []
    with pytest.raises(gb.StorageError, match="read-only"):
        s.create_trial("min", {"lr": 0.003, "layers": 2, "opt": "sgd"})
    s.close()
    assert _meta(path)["schema_version"] == "1"
    assert sorted(os.listdir(tmp_path)) == ["v1.sqlite"]  # nothing written beside it


def test_read_only_wal_file_whose_folder_cannot_be_written(tmp_path, monkeypatch):
    s = open_storage(_url(tmp_path), create=True)  # a WAL file, as the runner leaves it
    s.get_or_create_study("a", "minimize", None)
    s.create_trial("a", {"x": 1})
    s.close()
    real_connect = sqlite3.connect
    uris = []

    class CannotOpen:  # what SQLite answers when it may not create the -shm beside a WAL file
        def execute(self, *args):
            raise sqlite3.OperationalError("unable to open database file")

        def close(self):
            pass

    def connect(target, *args, **kwargs):
        uris.append(target)
        return CannotOpen() if "immutable=1" not in target else real_connect(target, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    r = SQLiteStorage(str(tmp_path / "s.db"), read_only=True)
    assert [t.params for t in r.load_study("a").trials] == [{"x": 1}]
    r.close()
    assert [u.endswith("mode=ro") for u in uris] == [True, False]  # tried as is, then as immutable


def _deny_writes(monkeypatch, *denied):
    """Make ``os.access(path, W_OK)`` False for ``denied`` paths: tests run as root, where chmod
    does not stop writes (a read-only mount answers the same for everyone)."""
    real_access = os.access
    denied_set = {os.path.abspath(p) for p in denied}

    def access(p, mode, **kw):
        if mode == os.W_OK and os.path.abspath(p) in denied_set:
            return False
        return real_access(p, mode, **kw)

    monkeypatch.setattr(os, "access", access)


def test_file_in_a_folder_that_cannot_be_written_is_read_read_only(tmp_path, monkeypatch):
    # SQLite writes its journal (-wal, -shm, -journal) beside the file: a writable file in a
    # read-only folder cannot be written either, so it is read as it is, without migrating
    path = _v1_copy(tmp_path)
    _deny_writes(monkeypatch, tmp_path)
    s = open_storage(f"sqlite:///{path}")
    assert isinstance(s, SQLiteStorage) and s.read_only
    _assert_v1_content(s)
    with pytest.raises(gb.StorageError, match="read-only"):
        s.get_or_create_study("new", "minimize", None)
    s.close()
    assert _meta(path)["schema_version"] == "1"
    assert sorted(os.listdir(tmp_path)) == ["v1.sqlite"]


def test_creating_a_file_in_a_folder_that_cannot_be_written_says_read_only(tmp_path, monkeypatch):
    _deny_writes(monkeypatch, tmp_path)
    with pytest.raises(gb.StorageError, match=r"cannot create .*new\.db.*read-only") as e:
        open_storage(_url(tmp_path, "new.db"), create=True)
    assert str(tmp_path) in str(e.value)
    assert os.listdir(tmp_path) == []


class _RefusesWrites:
    """An sqlite3 connection whose writes fail as on a file SQLite may not write (e.g. a
    read-only mount that os.access does not report, such as some network file systems)."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args):
        if sql.lstrip().upper().startswith(("PRAGMA JOURNAL_MODE", "BEGIN", "INSERT", "UPDATE", "ALTER")):
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_sqlite_refusing_writes_is_read_only_not_corrupt(tmp_path, monkeypatch):
    path = _v1_copy(tmp_path)
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda target, *a, **kw: _RefusesWrites(real_connect(target, *a, **kw)))
    s = open_storage(f"sqlite:///{path}")  # the file looks writable; SQLite says it is not
    assert s.read_only
    _assert_v1_content(s)
    with pytest.raises(gb.StorageError, match="read-only") as e:
        s.create_trial("min", {"lr": 0.003, "layers": 2, "opt": "sgd"})
    assert "corrupt" not in str(e.value)
    s.close()
    with pytest.raises(gb.StorageError, match="read-only") as e:  # asked to write, it says why it cannot
        SQLiteStorage(str(path), read_only=False)
    assert "corrupt" not in str(e.value) and "not a gpu_bo storage file" not in str(e.value)
    monkeypatch.undo()
    assert _meta(path)["schema_version"] == "1"


def _unwritable_folder_copy(src: Path, dst: Path, monkeypatch) -> None:
    """Copy a study file and its -wal (no -shm), and make SQLite answer as in a folder it may not
    write: a WAL file then cannot be opened as it is, only as immutable (its log unread)."""
    dst.mkdir()
    for suffix in ("", "-wal"):
        shutil.copyfile(f"{src}{suffix}", f"{dst / src.name}{suffix}")
    real_connect = sqlite3.connect

    class CannotOpen:
        def execute(self, *args):
            raise sqlite3.OperationalError("unable to open database file")

        def close(self):
            pass

    monkeypatch.setattr(sqlite3, "connect", lambda target, *a, **kw: CannotOpen() if "immutable=1" not in target
                        else real_connect(target, *a, **kw))


def test_trials_only_in_an_unreadable_write_ahead_log_are_not_hidden(tmp_path, monkeypatch):
    # a writer that died leaves its last trials in s.db-wal; where no s.db-shm can be created beside
    # it, SQLite reads s.db alone: say that recorded trials are not shown instead of showing fewer
    s = open_storage(_url(tmp_path), create=True)
    s.get_or_create_study("a", "minimize", None)
    s.close()  # the study is checkpointed into s.db
    s = open_storage(_url(tmp_path))
    s.create_trial("a", {"x": 1})  # ... this trial is only in s.db-wal while s is open
    _unwritable_folder_copy(tmp_path / "s.db", tmp_path / "ro", monkeypatch)
    with pytest.warns(gb.GpuBoWarning, match=r"s\.db-wal.*not shown"):
        r = SQLiteStorage(str(tmp_path / "ro" / "s.db"), read_only=True)
    assert r.list_studies() == ["a"]
    r.close()
    s.close()


def test_a_study_only_in_an_unreadable_write_ahead_log_says_so(tmp_path, monkeypatch):
    s = open_storage(_url(tmp_path), create=True)
    s.get_or_create_study("a", "minimize", None)  # never checkpointed: s.db holds no table yet
    _unwritable_folder_copy(tmp_path / "s.db", tmp_path / "ro", monkeypatch)
    with pytest.raises(gb.StorageError, match=r"s\.db-wal") as e:
        SQLiteStorage(str(tmp_path / "ro" / "s.db"), read_only=True)
    assert "writable" in str(e.value)
    s.close()


def test_explicit_read_only_flag(tmp_path):
    path = _v1_copy(tmp_path)
    s = SQLiteStorage(str(path), read_only=True)
    _assert_v1_content(s)
    with pytest.raises(gb.StorageError, match="read-only"):
        s.get_or_create_study("new", "minimize", None)
    s.close()
    assert _meta(path)["schema_version"] == "1"
    with pytest.raises(gb.StorageError, match="does not exist"):
        SQLiteStorage(str(tmp_path / "none.db"), read_only=True)


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    from gpu_bo.storage import sqlite as sqlite_mod

    path = _v1_copy(tmp_path)

    def half_then_fail(con):
        con.execute("ALTER TABLE studies ADD COLUMN directions TEXT")
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    monkeypatch.setitem(sqlite_mod._MIGRATIONS, 1, half_then_fail)
    with pytest.raises(gb.StorageError, match="simulated"):
        open_storage(f"sqlite:///{path}")
    assert _meta(path)["schema_version"] == "1"
    con = sqlite3.connect(path)
    assert "directions" not in [r[1] for r in con.execute("PRAGMA table_info(studies)")]
    con.close()
    monkeypatch.undo()
    _assert_v1_content(open_storage(f"sqlite:///{path}"))  # and the next open migrates it


def test_multi_objective_study_record(tmp_path):
    s = open_storage(_url(tmp_path), create=True)
    s.get_or_create_study("mo", ["maximize", "minimize"], None)
    s.close()
    con = sqlite3.connect(tmp_path / "s.db")
    assert con.execute("SELECT direction, directions FROM studies").fetchone() == \
        ("maximize", '["maximize", "minimize"]')
    con.close()


def test_registry(tmp_path):
    assert storage_schemes()[:2] == ["sqlite", "memory"]
    assert isinstance(open_storage("memory://"), InMemoryStorage)
    assert open_storage("memory://") is not open_storage("memory://")
    with pytest.raises(gb.StorageError, match="expected 'memory://'"):
        open_storage("memory://name")
    opened = []

    def factory(url, create):
        opened.append((url, create))
        return InMemoryStorage()

    register_storage("test-scheme", factory)
    try:
        assert isinstance(open_storage("test-scheme://host/db", create=True), Storage)
        assert opened == [("test-scheme://host/db", True)]
        assert "test-scheme" in storage_schemes()
    finally:
        from gpu_bo.storage import _EXAMPLES, _FACTORIES

        _FACTORIES.pop("test-scheme")
        _EXAMPLES.pop("test-scheme")
    with pytest.raises(ValueError, match="scheme: got 'a b'"):
        register_storage("a b", factory)
    with pytest.raises(TypeError, match="factory: got int"):
        register_storage("x", 3)


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
    with pytest.raises(gb.StorageError, match=r"unknown scheme 'mongodb'.*known scheme: sqlite .*memory"):
        open_storage("mongodb://host/db")
    with pytest.raises(gb.StorageError, match="no scheme"):
        open_storage("study.txt")
    with pytest.raises(gb.StorageError, match="expected 'sqlite:///"):
        open_storage("sqlite://host/x.db")
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
    with pytest.raises(gb.StorageError, match="newer gpu_bo .schema version 99"):
        open_storage(_url(tmp_path))
    con = sqlite3.connect(tmp_path / "s.db")
    con.execute("UPDATE meta SET value = 'x' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(gb.StorageError, match="unknown schema version 'x'"):
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


def test_printed_storage_urls_never_show_a_password():
    from gpu_bo.storage import display_url, open_storage

    assert display_url("postgresql://me:s3cret@db.example:5432/hpo") == "postgresql://me@db.example:5432/hpo"
    for plain in ("sqlite:///study.db", "study.db", "memory://", "postgres://me@host/db"):
        assert display_url(plain) == plain
    with pytest.raises(gb.StorageError) as e:  # a typo in the scheme must not echo the password
        open_storage("postgresq://me:s3cret@host/db")
    assert "s3cret" not in str(e.value) and "postgresq://me@host/db" in str(e.value)


def _hold_write_lock(path):
    """Another connection holding ``path``'s write lock on a new (rollback-journal) file."""
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("BEGIN IMMEDIATE")
    con.execute("SELECT 1").fetchall()
    return con


def test_opening_a_new_file_while_another_connection_holds_its_lock_waits(tmp_path):
    # Two runs opening one new file at once: SQLite refuses the switch to WAL at once (no busy
    # wait, its deadlock rule); the store must wait for the other connection, not call it corrupt.
    import threading
    import time

    path = str(tmp_path / "s.db")
    other = _hold_write_lock(path)
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    t0 = time.monotonic()
    store = SQLiteStorage(path)
    release.join()
    assert time.monotonic() - t0 >= 0.25
    store.get_or_create_study("s", "minimize", None)
    assert store.list_studies() == ["s"]
    other.close()


def test_a_lock_held_past_the_timeout_names_the_timeout(tmp_path):
    path = str(tmp_path / "s.db")
    other = _hold_write_lock(path)
    try:
        with pytest.raises(gb.StorageError, match=r"timeout=0.2 s") as e:
            SQLiteStorage(path, timeout=0.2)
        assert "corrupt" not in str(e.value)
    finally:
        other.close()
