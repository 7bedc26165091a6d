"""PostgreSQL-specific behaviour of PostgresStorage (the shared contract is tests/test_storage_contract.py).

Needs a server: the ``postgres_url`` fixture (conftest.py) gives a new database per test from
GPU_BO_TEST_POSTGRES_URL, which ``.ci/run`` sets; without it these tests skip loudly (fail under CI).
A server restart needs GPU_BO_TEST_POSTGRES_DATADIR (``.ci/run`` sets it too).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pwd
import subprocess
import sys
import threading
import urllib.parse

import pytest

import gpu_bo as gb
from gpu_bo.storage import PostgresStorage, open_storage
from gpu_bo.storage.postgres import SCHEMA_VERSION, redact_url
from gpu_bo.study import TrialState

psycopg = pytest.importorskip("psycopg") if not os.environ.get("CI") else __import__("psycopg")

SPACE = {"x": {"type": "real", "low": 0.0, "high": 1.0, "log": False}}


def _password(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).password or "")


def _with(url: str, **parts: object) -> str:
    """``url`` with some of user/password/host/port replaced."""
    u = urllib.parse.urlsplit(url)
    user, password = parts.get("user", u.username), parts.get("password", u.password)
    host, port = parts.get("host", u.hostname), parts.get("port", u.port)
    return u._replace(netloc=f"{user}:{password}@{host}:{port}").geturl()


def _terminate_others(url: str) -> int:
    """Close every other connection to the database of ``url`` from the server side (what a restart does)."""
    with psycopg.connect(url, autocommit=True) as con:
        return len(con.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall())


def test_redacted_url_repr_and_errors_hide_the_password(postgres_url):
    pw = _password(postgres_url)
    assert pw, "the test URL should carry a password"
    with open_storage(postgres_url, create=True) as s:
        assert pw not in repr(s) and pw not in s.url
        assert s.url.startswith("postgresql://") and "@" in s.url
        with pytest.raises(gb.StorageError) as e:
            s.load_study("nope")
        assert pw not in str(e.value)
    assert redact_url("postgresql://u:p%40ss@h:5/db?sslmode=require") == "postgresql://u@h:5/db"
    assert redact_url("postgres://h/db") == "postgres://h/db"


def test_wrong_password_is_one_clear_line(postgres_url):
    bad = _with(postgres_url, password="not-the-password")
    with pytest.raises(gb.StorageError) as e:
        open_storage(bad, create=True)
    text = str(e.value)
    assert "\n" not in text and "not-the-password" not in text
    assert "cannot connect" in text and "password authentication failed" in text


def test_unreachable_host_is_one_clear_line(postgres_url):
    with pytest.raises(gb.StorageError) as e:
        PostgresStorage(_with(postgres_url, host="127.0.0.1", port=1), connect_timeout=2)
    text = str(e.value)
    assert "\n" not in text and _password(postgres_url) not in text
    assert "cannot connect" in text and "127.0.0.1:1" in text


def test_missing_psycopg_names_the_extra(postgres_url, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(gb.StorageError, match=r"gpu_bo\[postgres\]"):
        open_storage(postgres_url)


def test_schema_created_once_with_version_and_checked(postgres_url):
    with pytest.raises(gb.StorageError, match="holds no gpu_bo storage"):
        open_storage(postgres_url, create=False)  # readers (gpu-bo show) create nothing

    def open_one(errors: list) -> None:
        try:
            PostgresStorage(postgres_url).close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    errors: list = []
    threads = [threading.Thread(target=open_one, args=(errors,)) for _ in range(6)]  # all at once: advisory lock
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with psycopg.connect(postgres_url) as con:
        assert dict(con.execute("SELECT key, value FROM meta").fetchall()) == {
            "format": "gpu_bo", "schema_version": str(SCHEMA_VERSION)}
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(gb.StorageError, match="schema version '99'.*upgrade gpu_bo"):
        open_storage(postgres_url)


def test_another_applications_meta_table_is_refused(postgres_url):
    with psycopg.connect(postgres_url) as con:
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    with pytest.raises(gb.StorageError, match="another application"):
        open_storage(postgres_url, create=True)


def _create_many(url: str, n: int, out) -> None:
    with PostgresStorage(url) as s:
        out.put([t.number for t in (s.create_trial("a", {"x": os.getpid() + i / n}, max_trials=90)
                                    for i in range(n)) if t is not None])


def test_processes_get_unique_numbers_and_max_trials_is_exact(postgres_url):
    with PostgresStorage(postgres_url) as s:
        s.get_or_create_study("a", "minimize", SPACE)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_create_many, args=(postgres_url, 30, out)) for _ in range(4)]
    for p in procs:
        p.start()
    got = [n for _ in procs for n in out.get(timeout=120)]
    for p in procs:
        p.join(timeout=60)
    assert sorted(got) == list(range(90))  # 120 asked, 90 allowed, no number twice
    with PostgresStorage(postgres_url) as s:
        assert [t.number for t in s.load_study("a").trials] == list(range(90))


def test_connection_killed_mid_study_reconnects(postgres_url):
    with PostgresStorage(postgres_url) as s:
        s.get_or_create_study("a", "minimize", SPACE)
        t = s.create_trial("a", {"x": 0.1})
        assert _terminate_others(postgres_url) >= 1
        t.value, t.state, t.end_time = 1.0, TrialState.COMPLETE, t.start_time + 1
        s.finish_trial("a", t)  # the first statement on the dead connection: retried on a new one
        assert _terminate_others(postgres_url) >= 1
        assert s.create_trial("a", {"x": 0.2}).number == 1
        trials = s.load_study("a").trials
        assert [(x.number, x.state) for x in trials] == [(0, TrialState.COMPLETE), (1, TrialState.RUNNING)]


def test_lost_server_is_a_clear_error_after_retrying(postgres_url):
    with PostgresStorage(postgres_url, retry_for=1.0) as s:
        s.get_or_create_study("a", "minimize", SPACE)
        s._url = _with(postgres_url, host="127.0.0.1", port=1)  # the server is gone for good
        _terminate_others(postgres_url)
        with pytest.raises(gb.StorageError) as e:
            s.create_trial("a", {"x": 0.1})
    text = str(e.value)
    assert "failed after retrying for 1 s" in text and _password(postgres_url) not in text
    with PostgresStorage(postgres_url) as s:
        assert s.load_study("a").trials == []  # nothing half-written


def test_a_retry_after_a_lost_reply_writes_nothing_twice(postgres_url):
    """The commit went through but its reply was lost: the retry finds its own row (its token)."""
    with PostgresStorage(postgres_url) as s:
        s.get_or_create_study("a", "minimize", SPACE)
        real, lost = s._run, []

        def lose_first_reply(what, fn):
            def once(con):
                out = fn(con)
                if what in ("creating a trial", "claiming a waiting trial") and what not in lost:
                    lost.append(what)
                    con.close()  # committed; the caller never hears of it
                    raise psycopg.OperationalError("simulated: the connection dropped before the reply")
                return out
            return real(what, once)
        s._run = lose_first_reply
        assert s.create_trial("a", {"x": 0.1}, owner="h:1").number == 0
        assert s.requeue_trial("a", 0, "h:1", "interrupted")
        claimed = s.claim_waiting("a", "h:2")
        assert lost == ["creating a trial", "claiming a waiting trial"]
        assert claimed.number == 0 and claimed.state == TrialState.RUNNING
        trials = s.load_study("a").trials
        assert [(t.number, t.state) for t in trials] == [(0, TrialState.RUNNING)]
        assert [a["reason"] for a in trials[0].attempts] == ["interrupted"]


def _restart_server() -> None:
    datadir = os.environ.get("GPU_BO_TEST_POSTGRES_DATADIR")
    if not datadir:
        if os.environ.get("CI"):
            pytest.fail("GPU_BO_TEST_POSTGRES_DATADIR is not set under CI (.ci/run sets it)")
        pytest.skip("GPU_BO_TEST_POSTGRES_DATADIR not set: cannot restart the server")
    user = pwd.getpwuid(os.stat(datadir).st_uid).pw_name
    pg_ctl = os.environ.get("GPU_BO_TEST_PG_CTL", "/usr/local/bin/pg_ctl")
    # -l: the new server must not keep our pipes open
    cmd = [pg_ctl, "-D", datadir, "-l", os.path.join(datadir, "restart.log"), "-w", "-m", "fast", "restart"]
    if os.geteuid() == 0 and user != "root":
        cmd = ["su", "-s", "/bin/sh", user, "-c", " ".join(cmd)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def test_server_restart_mid_study_reconnects(postgres_url):
    with PostgresStorage(postgres_url) as s:
        s.get_or_create_study("a", "minimize", SPACE)
        first = s.create_trial("a", {"x": 0.1})
        _restart_server()
        assert s.create_trial("a", {"x": 0.2}).number == first.number + 1
        assert len(s.load_study("a").trials) == 2


_WORKER = """
import sys, time
import gpu_bo as gb
from gpu_bo.run_options import RunOptions
def objective(p):
    time.sleep(0.1)
    return (p["x"] - 0.3) ** 2
gb.optimize(objective, {"x": (0.0, 1.0)}, n_trials=40, storage=sys.argv[1], study_name="w", seed=int(sys.argv[2]),
            progress=False, options=RunOptions(n_initial=1000))
"""


def test_workers_survive_a_server_restart_and_complete_the_study(postgres_url, tmp_path):
    _restart_server()  # skips (or fails under CI) before starting anything when it cannot
    with PostgresStorage(postgres_url) as s:
        s.get_or_create_study("w", "minimize", None)
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, postgres_url, str(i)], stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    with PostgresStorage(postgres_url) as s:
        while len(s.load_study("w").trials) < 8 and all(p.poll() is None for p in procs):
            threading.Event().wait(0.1)
        assert all(p.poll() is None for p in procs), "the workers ended before the restart"
        _restart_server()  # mid-study
        errs = [p.communicate(timeout=240)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], errs
        trials = s.load_study("w").trials
    assert [t.number for t in trials] == list(range(40))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert _password(postgres_url) not in "".join(errs)


def test_optimize_and_gpu_bo_show_on_postgres(postgres_url, capsys):
    from gpu_bo.cli import main

    study = gb.optimize(lambda p: (p["x"] - 0.3) ** 2, {"x": (0.0, 1.0)}, n_trials=5, storage=postgres_url,
                        study_name="pg", seed=0, progress=False)
    assert len(study.trials) == 5
    assert main(["show", postgres_url]) == 0
    out = capsys.readouterr()
    assert "pg" in out.out and _password(postgres_url) not in out.out + out.err
    with PostgresStorage(postgres_url) as s:
        assert [t.state for t in s.load_study("pg").trials] == [TrialState.COMPLETE] * 5


def test_schema_2_database_gets_the_constraints_column_in_place(postgres_url):
    """A database written before constraints existed (schema 2) opens, gains constraints_json
    and keeps its trials; constrained trials then round-trip."""
    with open_storage(postgres_url, create=True) as s:
        s.get_or_create_study("old", "minimize", SPACE)
        t = s.create_trial("old", {"x": 0.5})
        t.state, t.value = TrialState.COMPLETE, 1.0
        s.finish_trial("old", t)
    with psycopg.connect(postgres_url, autocommit=True) as con:  # back to what schema 2 wrote
        con.execute("ALTER TABLE trials DROP COLUMN constraints_json")
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with open_storage(postgres_url) as s:
        assert [x.value for x in s.load_study("old").trials] == [1.0]
        s.get_or_create_study("new", ["minimize", "maximize"], SPACE)
        t = s.create_trial("new", {"x": 0.25})
        t.state, t.values, t.constraints = TrialState.COMPLETE, [1.0, 2.0], [-0.5]
        s.finish_trial("new", t)
        got = s.load_study("new")
        assert got.directions == ["minimize", "maximize"]
        assert got.trials[0].values == [1.0, 2.0] and got.trials[0].constraints == [-0.5]
    with psycopg.connect(postgres_url, autocommit=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
