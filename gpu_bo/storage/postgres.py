"""PostgresStorage: studies in a PostgreSQL database, shared by processes on many hosts.

``storage="postgresql://user:password@host:port/dbname"`` (or ``postgres://``; any libpq URI
parameter such as ``?sslmode=require`` passes through). Needs psycopg 3: ``pip install
"gpu_bo[postgres]"``; gpu_bo imports it only when such a URL is opened.

Schema (version 3, the same columns as SQLite's plus what a server needs)::

    meta(key TEXT PRIMARY KEY, value TEXT)              -- ("format", "gpu_bo"), ("schema_version", "3")
    studies(study_id, name UNIQUE, direction, space JSON, created, directions JSON, seq)
    trials(study_id, number, params JSON, value, state, start_time, end_time, error,
           intermediate JSON, user_attrs JSON, owner, seq, values_json JSON,
           heartbeat, attempts JSON, token, constraints_json JSON)  PRIMARY KEY (study_id, number)

Version 2 had no ``constraints_json``: opening such a database adds the column (one
transaction, under the schema lock).

The schema is created on first use in one transaction under an advisory lock, so processes that
start at once do not race. Every write is one transaction that first locks the study's row
(``SELECT ... FOR UPDATE``): that serializes the writers of one study, which is what keeps trial
numbers unique and ``max_trials`` exact, and it hands out the study's change counter
(``studies.seq``) in commit order, so :meth:`trials_since` never skips a change. Timestamps the
store sets itself (start time, heartbeat, staleness) come from the server's clock, one clock for
every host.

A lost connection (server restart, failover, network) is retried with backoff for about
``retry_for`` seconds, then it is a :class:`StorageError`. A transaction is all or nothing, and
the writes that are not idempotent (new trial, claimed trial) carry a token, so a retry after a
commit whose acknowledgement was lost finds its own row instead of writing a second one.
The password is never shown: errors and ``repr`` name ``user@host:port/dbname`` only.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from gpu_bo.direction import parse_directions
from gpu_bo.exceptions import StorageError
from gpu_bo.storage.base import (DuplicateParams, Storage, StudyInfo, abandoned_error, attempt, check_same,
                                 info_from_row, owner_is_dead, pick_name, process_owner,
                                 outcome_columns, stale_outcome, study_from_rows, trial_from_row, TRIAL_COLUMNS)
from gpu_bo.study import Study, Trial

__all__ = ["PostgresStorage", "SCHEMA_VERSION", "redact_url"]

SCHEMA_VERSION = 3
FORMAT_TAG = "gpu_bo"
_LOCK_KEY = 0x6770755F626F  # "gpu_bo": the advisory lock held while the schema is created
_NOW = "EXTRACT(EPOCH FROM clock_timestamp())::double precision"
_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    study_id BIGSERIAL PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    direction TEXT NOT NULL,
    space TEXT,
    created DOUBLE PRECISION NOT NULL,
    directions TEXT,
    seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS trials (
    study_id BIGINT NOT NULL REFERENCES studies(study_id),
    number INTEGER NOT NULL,
    params TEXT NOT NULL,
    value DOUBLE PRECISION,
    state TEXT NOT NULL,
    start_time DOUBLE PRECISION,
    end_time DOUBLE PRECISION,
    error TEXT,
    intermediate TEXT,
    user_attrs TEXT,
    owner TEXT,
    seq BIGINT NOT NULL,
    values_json TEXT,
    heartbeat DOUBLE PRECISION,
    attempts TEXT,
    token TEXT UNIQUE,
    constraints_json TEXT,
    PRIMARY KEY (study_id, number)
);
CREATE INDEX IF NOT EXISTS trials_seq ON trials (study_id, seq);
CREATE INDEX IF NOT EXISTS trials_params ON trials (study_id, md5(params));
CREATE INDEX IF NOT EXISTS trials_state ON trials (study_id, state)
"""

_COLS = TRIAL_COLUMNS


def redact_url(url: str) -> str:
    """``url`` without its password: ``postgresql://user@host:port/dbname`` (query dropped)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return f"{url.partition('://')[0]}://<unparsable URL>"
    user = f"{urllib.parse.unquote(parts.username)}@" if parts.username else ""
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StorageError("a postgresql:// storage needs psycopg 3, which is not installed: "
                           "pip install 'gpu_bo[postgres]'") from None
    return psycopg


def _one_line(e: BaseException, secret: str | None) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text.replace(secret, "***") if secret else text


def _dumps(d: Any) -> str:
    return json.dumps(d, default=str)


def _params_blob(params: dict[str, Any]) -> str:
    try:
        return json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise StorageError(f"params {params!r} cannot be stored as JSON ({e}); with a storage, categorical "
                           "choices must be str, int, float, bool or None") from None


class PostgresStorage(Storage):
    """Studies in a PostgreSQL database (see the module docstring for the schema and guarantees).

    Args:
        url: ``"postgresql://user:password@host:port/dbname"`` (libpq URI parameters allowed).
        create: create the schema when the database holds none; when ``False`` (readers such
            as ``gpu-bo show``) an empty database is a :class:`StorageError`.
        retry_for: seconds to keep retrying an operation whose connection was lost (backoff
            0.5 s, doubling, at most 8 s apart) before it is a :class:`StorageError`.
        connect_timeout: seconds one connection attempt may take.

    Raises:
        StorageError: psycopg is missing; the server cannot be reached or refuses the login
            (one line, without the password); the database holds another application's
            ``meta`` table or a newer schema.
    """

    def __init__(self, url: str, *, create: bool = True, retry_for: float = 30.0,
                 connect_timeout: float = 10.0) -> None:
        if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
            raise StorageError(f"url: got {url!r}, expected 'postgresql://user:password@host:port/dbname'")
        if retry_for < 0:
            raise ValueError(f"retry_for: got {retry_for!r}, expected seconds >= 0")
        self._pg = _psycopg()
        self._url = url
        self.url = redact_url(url)
        try:
            self._secret = urllib.parse.unquote(urllib.parse.urlsplit(url).password or "") or None
        except ValueError:
            self._secret = None
        self.retry_for = float(retry_for)
        self.connect_timeout = connect_timeout
        self._lock = threading.RLock()
        self._con: Any = None
        self._con = self._connect()  # the first connection is not retried: a typo is one clear error
        try:
            self._init_schema(create)
        except BaseException:
            self._con.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStorage({self.url!r})"

    # -- connection, retries -----------------------------------------------------------------
    def _connect(self) -> Any:
        try:
            return self._pg.connect(self._url, autocommit=True, connect_timeout=max(1, int(self.connect_timeout)),
                                    application_name="gpu_bo")
        except self._pg.Error as e:
            raise StorageError(f"storage {self.url}: cannot connect: {_one_line(e, self._secret)}") from None

    def _run(self, what: str, fn: Callable[[Any], _T]) -> _T:
        """``fn(connection)`` (one transaction or one read), retried with backoff on a lost connection."""
        pg = self._pg
        with self._lock:
            deadline, delay = time.monotonic() + self.retry_for, 0.5
            while True:
                try:
                    if self._con is None or self._con.closed:
                        self._con = self._connect()
                    return fn(self._con)
                except (pg.OperationalError, StorageError) as e:
                    if isinstance(e, StorageError) and "cannot connect" not in str(e):
                        raise
                    if isinstance(e, pg.OperationalError) and not self._con.closed and not self._con.broken \
                            and not isinstance(e, pg.errors.TransactionRollback):
                        raise StorageError(f"storage {self.url}: {what} failed: {_one_line(e, self._secret)}") \
                            from None
                    if time.monotonic() + delay > deadline:
                        raise StorageError(f"storage {self.url}: {what} failed after retrying for "
                                           f"{self.retry_for:g} s: {_one_line(e, self._secret)}") from None
                    if self._con is not None and (self._con.closed or self._con.broken):
                        self._con.close()
                        self._con = None
                    time.sleep(delay)
                    delay = min(delay * 2, 8.0)
                except pg.Error as e:
                    raise StorageError(f"storage {self.url}: {what} failed: {_one_line(e, self._secret)}") from None

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        return self._run("read", lambda con: con.execute(sql, args).fetchall())

    def _write(self, what: str, study: str, fn: Callable[[Any, int, Callable[[], int]], _T]) -> _T:
        """``fn(con, study_id, next_seq)`` in one transaction holding the study's row lock."""
        def tx(con: Any) -> _T:
            with con.transaction():
                row = con.execute("SELECT study_id FROM studies WHERE name = %s FOR UPDATE", (study,)).fetchone()
                if row is None:
                    raise StorageError(f"storage {self.url}: has no study named {study!r}; it holds "
                                       f"{[r[0] for r in con.execute('SELECT name FROM studies ORDER BY study_id')]}")

                def next_seq() -> int:
                    return con.execute("UPDATE studies SET seq = seq + 1 WHERE study_id = %s RETURNING seq",
                                       (row[0],)).fetchone()[0]
                return fn(con, row[0], next_seq)
        return self._run(what, tx)

    def _init_schema(self, create: bool) -> None:
        def tx(con: Any) -> None:
            with con.transaction():
                con.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                has_meta = con.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]
                if has_meta:
                    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
                    if meta.get("format") == FORMAT_TAG and meta.get("schema_version") == "2":  # 2 -> 3
                        con.execute("ALTER TABLE trials ADD COLUMN IF NOT EXISTS constraints_json TEXT")
                        con.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
                        meta["schema_version"] = str(SCHEMA_VERSION)
                    self._check_version(meta)
                    return
                if not create:
                    raise StorageError(f"storage {self.url}: the database holds no gpu_bo storage yet")
                for stmt in _SCHEMA.split(";"):
                    con.execute(stmt)
                con.execute("INSERT INTO meta VALUES ('format', %s), ('schema_version', %s) ON CONFLICT DO NOTHING",
                            (FORMAT_TAG, str(SCHEMA_VERSION)))
        self._run("creating the schema", tx)

    def _check_version(self, meta: dict[str, str]) -> None:
        if meta.get("format") != FORMAT_TAG:
            raise StorageError(f"storage {self.url}: the database has a 'meta' table of another application, "
                               "not a gpu_bo storage; use another database")
        text = meta.get("schema_version", "")
        if text != str(SCHEMA_VERSION):
            raise StorageError(f"storage {self.url}: schema version {text!r}, this gpu_bo reads version "
                               f"{SCHEMA_VERSION}" + ("; upgrade gpu_bo" if text.isdigit() and int(text) > SCHEMA_VERSION
                                                      else ""))

    # -- rows ----------------------------------------------------------------------------------
    @staticmethod
    def _row_to_trial(r: Sequence) -> Trial:
        return trial_from_row(r)

    @staticmethod
    def _row_to_info(row: Sequence) -> StudyInfo:
        return info_from_row(*row)

    def _trial(self, con: Any, sid: int, number: int) -> Trial:
        return self._row_to_trial(con.execute(f"SELECT {_COLS} FROM trials WHERE study_id = %s AND number = %s",
                                              (sid, number)).fetchone())

    # -- the Storage interface ---------------------------------------------------------------
    def get_or_create_study(self, name: str, direction: str | Sequence[str], space: dict | None) -> StudyInfo:
        directions = parse_directions(direction)

        def tx(con: Any) -> tuple:
            with con.transaction():
                con.execute(
                    "INSERT INTO studies (name, direction, space, created, directions) "
                    f"VALUES (%s, %s, %s, {_NOW}, %s) ON CONFLICT (name) DO NOTHING",
                    (name, directions[0], None if space is None else _dumps(space),
                     None if len(directions) == 1 else json.dumps(list(directions))))
                return con.execute("SELECT name, direction, space, directions FROM studies WHERE name = %s",
                                   (name,)).fetchone()
        info = self._row_to_info(self._run(f"creating study {name!r}", tx))
        check_same(info, directions, space)
        return info

    def set_space(self, study: str, space: dict | None) -> StudyInfo:
        def fn(con: Any, sid: int, next_seq: Callable[[], int]) -> None:
            con.execute("UPDATE studies SET space = %s WHERE study_id = %s",
                        (None if space is None else _dumps(space), sid))
        self._write(f"setting the space of study {study!r}", study, fn)
        return self.study_info(study)

    def list_studies(self) -> list[str]:
        return [r[0] for r in self._read("SELECT name FROM studies ORDER BY study_id")]

    def study_info(self, name: str | None = None) -> StudyInfo:
        name = pick_name(name, self.list_studies(), f"storage {self.url}")
        return self._row_to_info(self._read("SELECT name, direction, space, directions FROM studies WHERE name = %s",
                                            (name,))[0])

    def load_study(self, name: str | None = None) -> Study:
        info = self.study_info(name)
        rows = self._read(f"SELECT {_COLS} FROM trials JOIN studies USING (study_id) WHERE name = %s "
                          "ORDER BY number", (info.name,))
        return study_from_rows(info, rows, f"storage {self.url}")

    def create_trial(self, study: str, params: dict[str, Any], *, max_trials: int | None = None,
                     owner: str | None = None, unique: bool = False) -> Trial | None:
        blob = _params_blob(params)
        token, owner = uuid.uuid4().hex, owner or process_owner()

        def fn(con: Any, sid: int, next_seq: Callable[[], int]) -> Trial | None:
            mine = con.execute("SELECT number, start_time FROM trials WHERE token = %s", (token,)).fetchone()
            if mine is not None:  # a retry after a commit whose reply was lost
                return Trial(number=mine[0], params=dict(params), start_time=mine[1])
            count, top = con.execute("SELECT COUNT(*), COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = %s",
                                     (sid,)).fetchone()
            if max_trials is not None and count >= max_trials:
                return None
            if unique and con.execute("SELECT 1 FROM trials WHERE study_id = %s AND md5(params) = md5(%s) "
                                      "AND params = %s LIMIT 1", (sid, blob, blob)).fetchone():
                raise DuplicateParams(f"study {study!r} already has a trial with params {params}")
            start = con.execute(
                "INSERT INTO trials (study_id, number, params, state, start_time, heartbeat, intermediate, "
                f"user_attrs, owner, seq, attempts, token) VALUES (%s, %s, %s, 'RUNNING', {_NOW}, {_NOW}, '{{}}', "
                "'{}', %s, %s, '[]', %s) RETURNING start_time",
                (sid, top, blob, owner, next_seq(), token)).fetchone()[0]
            return Trial(number=top, params=dict(params), start_time=start)
        return self._write("creating a trial", study, fn)

    def finish_trial(self, study: str, trial: Trial) -> None:
        single, values, cons = outcome_columns(trial)

        def fn(con: Any, sid: int, next_seq: Callable[[], int]) -> None:
            con.execute(
                "UPDATE trials SET params = %s, value = %s, values_json = %s, constraints_json = %s, state = %s, "
                "end_time = %s, error = %s, intermediate = %s, user_attrs = %s, seq = %s "
                "WHERE study_id = %s AND number = %s",
                (_params_blob(trial.params), single, values, cons, trial.state.value, trial.end_time, trial.error, json.dumps({str(k): v for k, v in trial.intermediate.items()}),
                 _dumps(trial.user_attrs), next_seq(), sid, trial.number))
        self._write(f"finishing trial {trial.number}", study, fn)

    def trials_since(self, study: str, seq: int) -> tuple[list[Trial], int]:
        def read(con: Any) -> list[tuple]:
            rows = con.execute(f"SELECT {_COLS}, trials.seq FROM trials JOIN studies USING (study_id) "
                               "WHERE name = %s AND trials.seq > %s ORDER BY trials.seq", (study, seq)).fetchall()
            if not rows and con.execute("SELECT 1 FROM studies WHERE name = %s", (study,)).fetchone() is None:
                raise StorageError(f"storage {self.url}: has no study named {study!r}")
            return rows
        rows = self._run("read", read)
        return [self._row_to_trial(r) for r in rows], max([seq] + [r[-1] for r in rows])

    def fail_abandoned(self, study: str) -> list[int]:
        def fn(con: Any, sid: int, next_seq: Callable[[], int]) -> list[int]:
            rows = con.execute("SELECT number, owner FROM trials WHERE study_id = %s AND state = 'RUNNING' "
                               "ORDER BY number", (sid,)).fetchall()
            marked = [(n, o) for n, o in rows if owner_is_dead(o)]
            for number, owner in marked:
                con.execute(f"UPDATE trials SET state = 'FAILED', end_time = {_NOW}, error = %s, seq = %s "
                            "WHERE study_id = %s AND number = %s", (abandoned_error(owner), next_seq(), sid, number))
            return [n for n, _ in marked]
        return self._write("marking abandoned trials", study, fn)

    # -- heartbeats and re-runs (documented on Storage) ---------------------------------------
    def heartbeat(self, study: str, numbers: Sequence[int], owner: str) -> None:
        nums = [int(n) for n in numbers]
        if not nums:
            return
        # no study lock, no change counter: readers need not see it, and it is the most frequent write
        self._run("recording a heartbeat", lambda con: con.execute(
            f"UPDATE trials SET heartbeat = {_NOW} FROM studies WHERE studies.study_id = trials.study_id "
            "AND name = %s AND state = 'RUNNING' AND owner = %s AND number = ANY(%s)", (study, owner, nums)))

    def _any(self, study: str, where: str, args: tuple) -> bool:
        """Whether some trial of ``study`` matches ``where`` (a read without the study lock)."""
        return bool(self._read(f"SELECT 1 FROM trials JOIN studies USING (study_id) WHERE name = %s AND {where} "
                               "LIMIT 1", (study, *args)))

    def reclaim_stale(self, study: str, grace: float, *, requeue: bool = True) -> list[int]:
        stale = f"state = 'RUNNING' AND COALESCE(heartbeat, start_time, 0) < {_NOW} - %s"
        if not self._any(study, stale, (float(grace),)):
            self.study_info(study)  # no such study: its error
            return []  # the common case, without taking the study lock

        def fn(con: Any, sid: int, next_seq: Callable[[], int]) -> list[int]:
            now = con.execute(f"SELECT {_NOW}").fetchone()[0]
            rows = con.execute("SELECT number, owner, start_time, attempts FROM trials WHERE study_id = %s AND "
                               f"{stale.replace(_NOW, '%s')} ORDER BY number FOR UPDATE",
                               (sid, now, float(grace))).fetchall()
            for number, owner, start, attempts in rows:
                history = json.loads(attempts or "[]")
                state, end, error = stale_outcome(history, owner, start, now, grace, requeue)
                con.execute("UPDATE trials SET state = %s, end_time = %s, error = %s, attempts = %s, seq = %s "
                            "WHERE study_id = %s AND number = %s",
                            (state, end, error, json.dumps(history), next_seq(), sid, number))
            return [r[0] for r in rows]
        return self._write("reclaiming stale trials", study, fn)

    def requeue_trial(self, study: str, number: int, owner: str, reason: str) -> bool:
        def fn(con: Any, sid: int, next_seq: Callable[[], int]) -> bool:
            row = con.execute(f"SELECT start_time, attempts, {_NOW} FROM trials WHERE study_id = %s AND number = %s "
                              "AND state = 'RUNNING' AND owner = %s FOR UPDATE", (sid, int(number), owner)).fetchone()
            if row is None:
                return False
            history = json.loads(row[1] or "[]") + [attempt(owner, row[0], row[2], reason)]
            con.execute("UPDATE trials SET state = 'WAITING', attempts = %s, seq = %s WHERE study_id = %s "
                        "AND number = %s", (json.dumps(history), next_seq(), sid, int(number)))
            return True
        return self._write(f"re-queueing trial {number}", study, fn)

    def claim_waiting(self, study: str, owner: str) -> Trial | None:
        if not self._any(study, "state = 'WAITING'", ()):
            self.study_info(study)  # no such study: its error
            return None  # the common case, without taking the study lock
        token = uuid.uuid4().hex

        def fn(con: Any, sid: int, next_seq: Callable[[], int]) -> Trial | None:
            row = con.execute("SELECT number FROM trials WHERE study_id = %s AND token = %s", (sid, token)).fetchone()
            if row is None:  # (else: a retry after a commit whose reply was lost)
                row = con.execute("SELECT number FROM trials WHERE study_id = %s AND state = 'WAITING' "
                                  "ORDER BY number LIMIT 1", (sid,)).fetchone()
                if row is None:
                    return None
                con.execute(f"UPDATE trials SET state = 'RUNNING', owner = %s, start_time = {_NOW}, "
                            f"heartbeat = {_NOW}, end_time = NULL, error = NULL, token = %s, seq = %s "
                            "WHERE study_id = %s AND number = %s", (owner, token, next_seq(), sid, row[0]))
            return self._trial(con, sid, row[0])
        return self._write("claiming a waiting trial", study, fn)

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
