"""SQLiteStorage: studies in one SQLite file (the embedded default).

Built on the standard library's ``sqlite3``: WAL journal, one committed transaction per trial
state change, so a process killed at any moment (even with SIGKILL) loses no finished trial, and
several processes on one machine can share one study file.

Schema (version 4)::

    meta(key TEXT PRIMARY KEY, value TEXT)            -- ("format", "gpu_bo"), ("schema_version", "4")
    studies(study_id, name UNIQUE, direction, space JSON, created, directions JSON)
    trials(study_id, number, params JSON, value, state, start_time, end_time, error,
           intermediate JSON, user_attrs JSON, owner, seq, values_json JSON, heartbeat,
           attempts JSON, constraints_json JSON)
           PRIMARY KEY (study_id, number)

``direction`` is the (first) objective's; ``directions`` lists one per objective (NULL: just
``direction``). ``values_json`` is the trial's vector of outputs (``Trial.values``); ``value``
keeps the single objective's value, so readers of schema 1 and plain SQL still see it (NULL
``values_json``, as in rows written under schema 1, means ``[value]``). ``owner`` is
``"host:pid"`` of the process running the trial, ``seq`` grows with every write in a study
(see :mod:`gpu_bo.storage.base`). ``heartbeat`` is the owner's last sign of life (NULL: none
yet, its ``start_time`` counts), ``attempts`` the JSON list of a re-queued trial's earlier runs
(NULL: none), ``constraints_json`` the trial's outcome constraint values (``Trial.constraints``;
NULL: none).

Schema 1 had neither ``directions`` nor ``values_json``, schema 2 neither ``heartbeat`` nor
``attempts``, schema 3 no ``constraints_json``. Opening such a file migrates it in place in one transaction (the ``ALTER TABLE ...
ADD COLUMN`` steps from its version up, and the version bump) when it is
writable; a file that cannot be written (the file, its folder or the file system is read-only, or
it is opened with ``read_only=True``) is read as it is, and every write says "read-only".

Trial numbers are allocated inside ``BEGIN IMMEDIATE`` (the database write lock), which is
what keeps two processes from handing out the same number or overshooting ``n_trials``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import urllib.parse
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from gpu_bo.direction import parse_directions
from gpu_bo.exceptions import GpuBoWarning, StorageError
from gpu_bo.storage.base import (DuplicateParams, Storage, StudyInfo, abandoned_error, attempt, check_same,
                                 info_from_row, owner_is_dead, pick_name, process_owner,
                                 outcome_columns, stale_outcome, study_from_rows, trial_from_row)
from gpu_bo.storage.sqlite_schema import (_MIGRATIONS, _SCHEMA, _log_beside, _params_json, _says_busy,
                                          _says_read_only)
from gpu_bo.study import Study, Trial

__all__ = ["SQLiteStorage", "SCHEMA_VERSION", "FORMAT_TAG"]

SCHEMA_VERSION = 4
FORMAT_TAG = "gpu_bo"


class SQLiteStorage(Storage):
    """Studies in one SQLite file (see the module docstring for the format and guarantees).

    Args:
        path: the database file.
        create: create the file (and the schema) when missing; when ``False`` a missing file
            is a :class:`StorageError`.
        timeout: seconds to wait for another process's write lock before failing.
        read_only: open without writing anything (no migration; every write is a
            StorageError whose message says "read-only"). ``None``: read-only exactly when the
            file exists and it or its folder is not writable (a read-only file, folder or file
            system), or SQLite refuses to write it.
    """

    def __init__(self, path: str, *, create: bool = True, timeout: float = 60.0,
                 read_only: bool | None = None) -> None:
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        exists = os.path.exists(self.path)
        if not exists and not create:
            raise StorageError(f"storage file {self.path!r} does not exist")
        if exists and os.path.isdir(self.path):
            raise StorageError(f"storage path {self.path!r} is a directory, expected an SQLite file")
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise StorageError(f"storage file {self.path!r}: the directory {parent!r} does not exist")
        if read_only and not exists:
            raise StorageError(f"storage file {self.path!r} does not exist (and read_only=True)")
        if not exists and not os.access(parent, os.W_OK):
            raise StorageError(f"cannot create storage file {self.path!r}: its folder {parent!r} is read-only "
                               "(not writable)")
        # SQLite writes its journal (-wal, -shm or -journal) beside the file: writing needs the folder too
        auto = read_only is None
        self._ro_reason = "opened with read_only=True"
        if auto and exists and not (os.access(self.path, os.W_OK) and os.access(parent, os.W_OK)):
            read_only, self._ro_reason = True, "the file or its folder is not writable"
        self.read_only = bool(read_only)
        deadline, pause = time.monotonic() + timeout, 0.01
        while True:
            try:
                self._version = self._open(timeout)
                break
            except sqlite3.DatabaseError as e:
                # Another connection opening the same new file at once: SQLite refuses the switch to
                # WAL (or the schema read) at once, without waiting (its deadlock rule); try again.
                if _says_busy(e):
                    if time.monotonic() + pause > deadline:
                        raise StorageError(f"{self.path!r}: could not open it, another connection held its "
                                           f"lock for longer than timeout={timeout} s ({e})") from None
                    time.sleep(pause)
                    pause = min(2 * pause, 0.5)
                    continue
                if not _says_read_only(e):
                    raise StorageError(f"{self.path!r} is not a gpu_bo storage file (SQLite says: {e}); "
                                       "is it corrupt, or some other file?") from None
                if not auto or self.read_only:  # asked to write (or already reading): say why it cannot
                    raise StorageError(f"{self.path!r} is read-only: SQLite may not write it ({e}); read "
                                       "it with read_only=True") from None
                # os.access said writable, SQLite may not write (e.g. a read-only network mount): read it
                self.read_only, self._ro_reason = True, f"SQLite may not write it: {e}"
        # rows written under schema 1 (read as they are when read-only) lack values_json
        values = "values_json" if self._version >= 2 else "NULL"
        attempts = "attempts" if self._version >= 3 else "NULL"
        cons = "constraints_json" if self._version >= 4 else "NULL"
        self._cols = (f"number, params, value, state, start_time, end_time, error, intermediate, user_attrs, "
                      f"{values}, {attempts}, {cons}")
        self._study_cols = "study_id, name, direction, space, " + ("directions" if self._version >= 2 else "NULL")

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r}{', read_only=True' if self.read_only else ''})"

    # -- low level -----------------------------------------------------------------------------
    def _open(self, timeout: float) -> int:
        """Connect and check (create, migrate) the schema; returns its version. Closes on failure."""
        self._unread_log: str | None = None  # a -wal file read as immutable cannot be read
        self._con = self._connect(timeout)
        try:
            return self._init_schema()
        except BaseException:
            self._con.close()
            raise

    def _connect(self, timeout: float) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per change.
        try:
            if not self.read_only:
                return sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            uri = f"file:{urllib.parse.quote(os.path.abspath(self.path))}?mode=ro"
            con = sqlite3.connect(uri, timeout=timeout, isolation_level=None, check_same_thread=False, uri=True)
            try:
                con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                # A WAL file needs its -shm beside it; in a folder we may not write, read the file
                # as immutable instead (https://www.sqlite.org/wal.html#readonly).
                con.close()
                con = sqlite3.connect(uri + "&immutable=1", timeout=timeout, isolation_level=None,
                                      check_same_thread=False, uri=True)
                self._unread_log = _log_beside(self.path)
            return con
        except sqlite3.Error as e:
            raise StorageError(f"cannot open storage file {self.path!r}: {e}") from None

    def _init_schema(self) -> int:
        """Check the file, create or migrate its schema; returns the schema version it now has."""
        con = self._con
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise StorageError(
                f"{self.path!r} is an SQLite database of another application (tables "
                f"{sorted(tables)}), not a gpu_bo storage file"
            )
        if "meta" in tables:
            version = self._check_version(dict(con.execute("SELECT key, value FROM meta").fetchall()))
        elif self.read_only and self._unread_log:
            raise StorageError(f"{self.path!r} is opened read-only and its studies are in its write-ahead log "
                               f"{self._unread_log!r}, which SQLite cannot read in a folder it may not write; "
                               "copy both files to a writable folder to read them")
        elif self.read_only:
            raise StorageError(f"{self.path!r} is opened read-only but holds no gpu_bo schema yet")
        if self.read_only:
            if self._unread_log:
                warnings.warn(f"{self.path!r} is read without its write-ahead log {self._unread_log!r} (SQLite "
                              "cannot read it in a folder it may not write): the trials recorded last are not "
                              "shown; copy both files to a writable folder to read them", GpuBoWarning,
                              stacklevel=4)
            return version
        if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":  # set once, kept by the file
            con.execute("PRAGMA journal_mode=WAL")
        # FULL: every committed trial is on disk before the call returns (SIGKILL or power loss).
        con.execute("PRAGMA synchronous=FULL")
        if "meta" not in tables:
            with self._tx():
                for stmt in _SCHEMA.strip().split(";"):
                    if stmt.strip():
                        con.execute(stmt)
                con.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT_TAG,))
                con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            return SCHEMA_VERSION
        if version < SCHEMA_VERSION:
            self._migrate()
        return SCHEMA_VERSION

    def _check_version(self, meta: dict[str, str]) -> int:
        if meta.get("format") != FORMAT_TAG:
            raise StorageError(f"{self.path!r} is an SQLite database but not a gpu_bo storage file")
        text = meta.get("schema_version", "1")  # schema 1 always wrote it; be lenient on reading
        version = int(text) if text.isdigit() else -1
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path!r} was written by a newer gpu_bo (schema version {version}; this one "
                f"reads up to {SCHEMA_VERSION}); upgrade gpu_bo"
            )
        if version < SCHEMA_VERSION and version not in _MIGRATIONS:
            raise StorageError(f"{self.path!r}: unknown schema version {text!r}; expected 1 to {SCHEMA_VERSION}")
        return version

    def _migrate(self) -> None:
        """Bring the file to SCHEMA_VERSION in one transaction (all steps or none)."""
        with self._tx() as con:
            # read again under the write lock: another process may have migrated it meanwhile
            version = self._check_version(dict(con.execute("SELECT key, value FROM meta").fetchall()))
            while version < SCHEMA_VERSION:
                _MIGRATIONS[version](con)
                version += 1
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the database lock (``BEGIN IMMEDIATE``)."""
        if self.read_only:
            raise StorageError(f"{self.path!r} is opened read-only ({self._ro_reason}); "
                               "it cannot record trials or studies")
        with self._lock:
            try:
                self._con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                if _says_read_only(e):
                    raise StorageError(f"{self.path!r} is read-only: SQLite may not write it ({e})") from None
                raise StorageError(f"{self.path!r}: could not lock the database for writing: {e}") from None
            try:
                yield self._con
                self._con.execute("COMMIT")
            except BaseException as e:
                if self._con.in_transaction:
                    self._con.execute("ROLLBACK")
                if isinstance(e, sqlite3.DatabaseError):
                    what = "is read-only: SQLite may not write it" if _says_read_only(e) else "write failed:"
                    raise StorageError(f"{self.path!r}: {what} {e}") from None
                raise

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._con.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as e:
                raise StorageError(f"{self.path!r}: read failed: {e}") from None

    def _study_row(self, name: str) -> tuple | None:
        rows = self._read(f"SELECT {self._study_cols} FROM studies WHERE name = ?", (name,))
        return rows[0] if rows else None

    def _study_id(self, name: str) -> int:
        row = self._study_row(name)
        if row is None:
            raise StorageError(f"{self.path!r}: has no study named {name!r}; it holds {self.list_studies()}")
        return row[0]

    @staticmethod
    def _next_seq(con: sqlite3.Connection, sid: int) -> int:
        return con.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM trials WHERE study_id = ?", (sid,)).fetchone()[0]

    @staticmethod
    def _row_to_trial(r: tuple) -> Trial:
        return trial_from_row(r)

    @staticmethod
    def _row_to_info(row: tuple) -> StudyInfo:
        return info_from_row(*row[1:])

    # -- the Storage interface ---------------------------------------------------------------
    def get_or_create_study(self, name: str, direction: str | Sequence[str], space: dict | None) -> StudyInfo:
        directions = parse_directions(direction)
        try:
            with self._tx() as con:
                row = con.execute(f"SELECT {self._study_cols} FROM studies WHERE name = ?", (name,)).fetchone()
                if row is None:
                    con.execute(
                        "INSERT INTO studies (name, direction, space, created, directions) VALUES (?, ?, ?, ?, ?)",
                        (name, directions[0], None if space is None else json.dumps(space, default=str),
                         time.time(), None if len(directions) == 1 else json.dumps(list(directions))))
                    info = StudyInfo(name, directions[0], space, directions)
                else:
                    info = self._row_to_info(row)
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.path!r}: cannot create study {name!r}: {e}") from None
        check_same(info, directions, space)
        return info

    def set_space(self, study: str, space: dict | None) -> StudyInfo:
        sid = self._study_id(study)
        with self._tx() as con:
            con.execute("UPDATE studies SET space = ? WHERE study_id = ?",
                        (None if space is None else json.dumps(space, default=str), sid))
        return self.study_info(study)

    def list_studies(self) -> list[str]:
        return [r[0] for r in self._read("SELECT name FROM studies ORDER BY study_id")]

    def study_info(self, name: str | None = None) -> StudyInfo:
        name = pick_name(name, self.list_studies(), repr(self.path))
        return self._row_to_info(self._study_row(name))

    def load_study(self, name: str | None = None) -> Study:
        info = self.study_info(name)
        sid = self._study_id(info.name)
        rows = self._read(f"SELECT {self._cols} FROM trials WHERE study_id = ? ORDER BY number", (sid,))
        return study_from_rows(info, rows, repr(self.path))

    def create_trial(self, study: str, params: dict[str, Any], *, max_trials: int | None = None,
                     owner: str | None = None, unique: bool = False) -> Trial | None:
        sid = self._study_id(study)
        now = time.time()
        blob = _params_json(params)
        with self._tx() as con:
            count, top = con.execute(
                "SELECT COUNT(*), COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?", (sid,)
            ).fetchone()
            if max_trials is not None and count >= max_trials:
                return None
            if unique and con.execute("SELECT 1 FROM trials WHERE study_id = ? AND params = ? LIMIT 1",
                                      (sid, blob)).fetchone():
                raise DuplicateParams(f"study {study!r} already has a trial with params {params}")
            con.execute(
                "INSERT INTO trials (study_id, number, params, state, start_time, intermediate, "
                "user_attrs, owner, seq) VALUES (?, ?, ?, 'RUNNING', ?, '{}', '{}', ?, ?)",
                (sid, top, blob, now, owner or process_owner(), self._next_seq(con, sid)),
            )
        return Trial(number=top, params=dict(params), start_time=now)

    def finish_trial(self, study: str, trial: Trial) -> None:
        sid = self._study_id(study)
        single, values, cons = outcome_columns(trial)
        with self._tx() as con:
            con.execute(
                "UPDATE trials SET params = ?, value = ?, values_json = ?, constraints_json = ?, state = ?, "
                "end_time = ?, error = ?, intermediate = ?, user_attrs = ?, seq = ? WHERE study_id = ? AND number = ?",
                (_params_json(trial.params), single, values, cons, trial.state.value, trial.end_time, trial.error, json.dumps({str(k): v for k, v in trial.intermediate.items()}),
                 json.dumps(trial.user_attrs, default=str), self._next_seq(con, sid), sid, trial.number),
            )

    def trials_since(self, study: str, seq: int) -> tuple[list[Trial], int]:
        sid = self._study_id(study)
        rows = self._read(f"SELECT {self._cols}, seq FROM trials WHERE study_id = ? AND seq > ? ORDER BY seq",
                          (sid, seq))
        return [self._row_to_trial(r[:-1]) for r in rows], max([seq] + [r[-1] for r in rows])

    def fail_abandoned(self, study: str) -> list[int]:
        sid = self._study_id(study)
        if self.read_only:
            return []  # nothing can be marked in a file we may not write
        marked = []
        with self._tx() as con:
            rows = con.execute("SELECT number, owner FROM trials WHERE study_id = ? AND state = 'RUNNING'",
                               (sid,)).fetchall()
            for number, owner in rows:
                if owner_is_dead(owner):
                    con.execute(
                        "UPDATE trials SET state = 'FAILED', end_time = ?, error = ?, seq = ? "
                        "WHERE study_id = ? AND number = ?",
                        (time.time(), abandoned_error(owner), self._next_seq(con, sid), sid, number),
                    )
                    marked.append(number)
        return marked

    def heartbeat(self, study: str, numbers: Sequence[int], owner: str) -> None:
        numbers = [int(n) for n in numbers]
        if not numbers:
            return
        sid = self._study_id(study)
        marks = ", ".join("?" * len(numbers))
        with self._tx() as con:
            con.execute(f"UPDATE trials SET heartbeat = ? WHERE study_id = ? AND state = 'RUNNING' AND owner = ? "
                        f"AND number IN ({marks})", (time.time(), sid, owner, *numbers))

    def reclaim_stale(self, study: str, grace: float, *, requeue: bool = True) -> list[int]:
        sid = self._study_id(study)
        if self.read_only:
            return []
        stale = "study_id = ? AND state = 'RUNNING' AND COALESCE(heartbeat, start_time, 0) < ?"
        if not self._read(f"SELECT 1 FROM trials WHERE {stale} LIMIT 1", (sid, time.time() - grace)):
            return []  # the common case, without taking the write lock
        taken = []
        with self._tx() as con:
            now = time.time()
            rows = con.execute(f"SELECT number, owner, start_time, attempts FROM trials WHERE {stale} ORDER BY number",
                               (sid, now - grace)).fetchall()
            for number, owner, start, attempts in rows:
                history = json.loads(attempts or "[]")
                state, end, error = stale_outcome(history, owner, start, now, grace, requeue)
                con.execute("UPDATE trials SET state = ?, end_time = ?, error = ?, attempts = ?, seq = ? "
                            "WHERE study_id = ? AND number = ?",
                            (state, end, error, json.dumps(history), self._next_seq(con, sid), sid, number))
                taken.append(number)
        return taken

    def requeue_trial(self, study: str, number: int, owner: str, reason: str) -> bool:
        sid = self._study_id(study)
        with self._tx() as con:
            row = con.execute("SELECT start_time, attempts FROM trials WHERE study_id = ? AND number = ? "
                              "AND state = 'RUNNING' AND owner = ?", (sid, int(number), owner)).fetchone()
            if row is None:
                return False
            history = json.loads(row[1] or "[]") + [attempt(owner, row[0], time.time(), reason)]
            con.execute("UPDATE trials SET state = 'WAITING', attempts = ?, seq = ? WHERE study_id = ? AND number = ?",
                        (json.dumps(history), self._next_seq(con, sid), sid, int(number)))
        return True

    def claim_waiting(self, study: str, owner: str) -> Trial | None:
        sid = self._study_id(study)
        if self.read_only or not self._read("SELECT 1 FROM trials WHERE study_id = ? AND state = 'WAITING' LIMIT 1",
                                            (sid,)):
            return None  # the common case, without taking the write lock
        with self._tx() as con:  # BEGIN IMMEDIATE: no other process reads the row between our read and write
            row = con.execute("SELECT number FROM trials WHERE study_id = ? AND state = 'WAITING' ORDER BY number "
                              "LIMIT 1", (sid,)).fetchone()
            if row is None:
                return None
            now = time.time()
            con.execute("UPDATE trials SET state = 'RUNNING', owner = ?, start_time = ?, heartbeat = ?, "
                        "end_time = NULL, error = NULL, seq = ? WHERE study_id = ? AND number = ?",
                        (owner, now, now, self._next_seq(con, sid), sid, row[0]))
            got = con.execute(f"SELECT {self._cols} FROM trials WHERE study_id = ? AND number = ?",
                              (sid, row[0])).fetchone()
        return self._row_to_trial(got)

    def close(self) -> None:
        with self._lock:
            self._con.close()
