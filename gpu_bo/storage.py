"""Persistence of studies: an in-memory store and SQLite (the embedded default).

``open_storage("sqlite:///path.db")`` gives a :class:`SQLiteStorage` built on the standard
library's ``sqlite3``: WAL journal, one committed transaction per trial state change, so a
process killed at any moment (even with SIGKILL) loses no finished trial, and several
processes on one machine can share one study file.

URLs follow SQLAlchemy's convention: ``sqlite:///rel/path.db`` is relative to the working
directory, ``sqlite:////abs/path.db`` (four slashes) is absolute.

Schema (version 1)::

    meta(key TEXT PRIMARY KEY, value TEXT)            -- ("format", "gpu_bo"), ("schema_version", "1")
    studies(study_id, name UNIQUE, direction, space JSON, created)
    trials(study_id, number, params JSON, value, state, start_time, end_time, error,
           intermediate JSON, user_attrs JSON, owner, seq)   PRIMARY KEY (study_id, number)

``owner`` is ``"host:pid"`` of the process running the trial (used to find trials left
RUNNING by a dead process), ``seq`` grows with every write in a study, so a process sharing
the file fetches only what changed since it last looked (:meth:`Storage.trials_since`).

Trial numbers are allocated inside ``BEGIN IMMEDIATE`` (the database write lock), which is
what keeps two processes from handing out the same number or overshooting ``n_trials``.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from gpu_bo.exceptions import StorageError
from gpu_bo.study import Study, Trial, TrialState

__all__ = ["Storage", "DuplicateParams", "InMemoryStorage", "SQLiteStorage", "StudyInfo", "open_storage", "process_owner"]

SCHEMA_VERSION = 1
FORMAT_TAG = "gpu_bo"


def process_owner() -> str:
    """``"host:pid"`` of this process: the owner recorded on the trials it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_is_dead(owner: str | None) -> bool:
    """True when ``owner`` is a process on this host that no longer exists."""
    if not owner or ":" not in owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: we cannot tell, so leave it alone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return False


class DuplicateParams(StorageError):
    """``create_trial(..., unique=True)`` found a trial with the same params (another process
    proposed the same point at the same moment)."""


@dataclass(frozen=True)
class StudyInfo:
    """What a storage knows about a study besides its trials."""

    name: str
    direction: str
    space: dict | None


class Storage:
    """Interface of a study store. Every method is one atomic step.

    Subclasses implement the ``_``-free methods below; the runner only uses these, so a new
    store (e.g. a server database) plugs in by subclassing.
    """

    def get_or_create_study(self, name: str, direction: str, space: dict | None) -> StudyInfo:
        """Return the study ``name``, creating it if needed.

        Raises:
            StorageError: the study exists with another direction or search space.
        """
        raise NotImplementedError

    def list_studies(self) -> list[str]:
        """Names of the studies in this store, oldest first."""
        raise NotImplementedError

    def load_study(self, name: str | None = None) -> Study:
        """The study ``name`` with all its trials (``name=None``: the only study in the store)."""
        raise NotImplementedError

    def create_trial(self, study: str, params: dict[str, Any], *, max_trials: int | None = None,
                     owner: str | None = None, unique: bool = False) -> Trial | None:
        """Record a new RUNNING trial and return it with its number.

        Returns ``None`` (and records nothing) when the study already has ``max_trials`` trials.

        Raises:
            DuplicateParams: ``unique`` and a trial with the same params exists.
        """
        raise NotImplementedError

    def finish_trial(self, study: str, trial: Trial) -> None:
        """Record the final state, value, error, intermediate values and end time of ``trial``."""
        raise NotImplementedError

    def trials_since(self, study: str, seq: int) -> tuple[list[Trial], int]:
        """Trials written after change counter ``seq``, and the counter to pass next time."""
        raise NotImplementedError

    def fail_abandoned(self, study: str) -> list[int]:
        """Mark FAILED the RUNNING trials whose owner process on this host is dead.

        Returns the numbers of the trials marked.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release the store's resources."""


class InMemoryStorage(Storage):
    """A store that lives as long as the process (the default when ``storage=None``)."""

    def __init__(self) -> None:
        self._studies: dict[str, StudyInfo] = {}
        self._trials: dict[str, list[Trial]] = {}
        self._seq: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def get_or_create_study(self, name: str, direction: str, space: dict | None) -> StudyInfo:
        with self._lock:
            if name not in self._studies:
                self._studies[name] = StudyInfo(name, direction, space)
                self._trials[name] = []
                self._seq[name] = []
            info = self._studies[name]
        _check_same(info, direction, space)
        return info

    def list_studies(self) -> list[str]:
        return list(self._studies)

    def load_study(self, name: str | None = None) -> Study:
        name = _pick_name(name, self.list_studies(), "memory")
        info = self._studies[name]
        trials = [Trial.from_dict(t.to_dict()) for t in self._trials[name]]
        return Study(info.direction, trials, name=name)

    def create_trial(self, study: str, params: dict[str, Any], *, max_trials: int | None = None,
                     owner: str | None = None, unique: bool = False) -> Trial | None:
        with self._lock:
            trials = self._trials[study]
            if max_trials is not None and len(trials) >= max_trials:
                return None
            if unique and any(t.params == params for t in trials):
                raise DuplicateParams(f"study {study!r} already has a trial with params {params}")
            t = Trial(number=len(trials), params=dict(params))
            trials.append(t)
            self._seq[study].append(len(self._seq[study]) + 1)
            return Trial.from_dict(t.to_dict())

    def finish_trial(self, study: str, trial: Trial) -> None:
        with self._lock:
            self._trials[study][trial.number] = Trial.from_dict(trial.to_dict())
            self._seq[study][trial.number] = max(self._seq[study], default=0) + 1

    def trials_since(self, study: str, seq: int) -> tuple[list[Trial], int]:
        with self._lock:
            seqs = self._seq[study]
            out = [Trial.from_dict(t.to_dict()) for t, s in zip(self._trials[study], seqs) if s > seq]
            return out, max(seqs, default=seq)

    def fail_abandoned(self, study: str) -> list[int]:
        return []  # a process's memory dies with it: nothing can be left behind


def _check_same(info: StudyInfo, direction: str, space: dict | None) -> None:
    if info.direction != direction:
        raise StorageError(
            f"study {info.name!r} is stored with direction={info.direction!r}, but "
            f"direction={direction!r} was requested; use another study_name or the same direction"
        )
    if space is not None and info.space is not None and _canon(info.space) != _canon(space):
        raise StorageError(
            f"study {info.name!r} is stored with search space {info.space}, which differs from "
            f"the requested {space}; use another study_name to search a different space"
        )


def _params_json(params: dict[str, Any]) -> str:
    try:
        return json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise StorageError(
            f"params {params!r} cannot be stored in SQLite as JSON ({e}); with a storage, "
            "categorical choices must be str, int, float, bool or None"
        ) from None


def _canon(d: Any) -> str:
    return json.dumps(d, sort_keys=True, default=str)


def _pick_name(name: str | None, names: list[str], where: str) -> str:
    if name is None:
        if len(names) == 1:
            return names[0]
        if not names:
            raise StorageError(f"{where}: holds no study yet")
        raise StorageError(f"{where}: holds {len(names)} studies {names}; pass study_name to pick one")
    if name not in names:
        raise StorageError(f"{where}: has no study named {name!r}; it holds {names}")
    return name


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    study_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    direction TEXT NOT NULL,
    space TEXT,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    study_id INTEGER NOT NULL REFERENCES studies(study_id),
    number INTEGER NOT NULL,
    params TEXT NOT NULL,
    value REAL,
    state TEXT NOT NULL,
    start_time REAL,
    end_time REAL,
    error TEXT,
    intermediate TEXT,
    user_attrs TEXT,
    owner TEXT,
    seq INTEGER NOT NULL,
    PRIMARY KEY (study_id, number)
);
CREATE INDEX IF NOT EXISTS trials_seq ON trials (study_id, seq);
CREATE INDEX IF NOT EXISTS trials_params ON trials (study_id, params);
"""


class SQLiteStorage(Storage):
    """Studies in one SQLite file (see the module docstring for the format and guarantees).

    Args:
        path: the database file.
        create: create the file (and the schema) when missing; when ``False`` a missing file
            is a :class:`StorageError`.
        timeout: seconds to wait for another process's write lock before failing.
    """

    def __init__(self, path: str, *, create: bool = True, timeout: float = 60.0) -> None:
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
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per change.
            self._con = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                        check_same_thread=False)
        except sqlite3.Error as e:
            raise StorageError(f"cannot open storage file {self.path!r}: {e}") from None
        try:
            self._init_schema()
        except StorageError:
            self._con.close()
            raise
        except sqlite3.DatabaseError as e:
            self._con.close()
            raise StorageError(
                f"{self.path!r} is not a gpu_bo storage file (SQLite says: {e}); "
                "is it corrupt, or some other file?"
            ) from None

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r})"

    # -- low level -----------------------------------------------------------------------------
    def _init_schema(self) -> None:
        con = self._con
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise StorageError(
                f"{self.path!r} is an SQLite database of another application (tables "
                f"{sorted(tables)}), not a gpu_bo storage file"
            )
        if "meta" in tables:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != FORMAT_TAG:
                raise StorageError(f"{self.path!r} is an SQLite database but not a gpu_bo storage file")
            version = int(meta.get("schema_version", "0"))
            if version > SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path!r} was written by a newer gpu_bo (schema {version}; this one reads "
                    f"up to {SCHEMA_VERSION}); upgrade gpu_bo"
                )
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

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the database lock (``BEGIN IMMEDIATE``)."""
        with self._lock:
            try:
                self._con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                raise StorageError(f"{self.path!r}: could not lock the database for writing: {e}") from None
            try:
                yield self._con
                self._con.execute("COMMIT")
            except BaseException as e:
                if self._con.in_transaction:
                    self._con.execute("ROLLBACK")
                if isinstance(e, sqlite3.DatabaseError):
                    raise StorageError(f"{self.path!r}: write failed: {e}") from None
                raise

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._con.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as e:
                raise StorageError(f"{self.path!r}: read failed: {e}") from None

    def _study_row(self, name: str) -> tuple | None:
        rows = self._read("SELECT study_id, name, direction, space FROM studies WHERE name = ?", (name,))
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
        number, params, value, state, start, end, error, inter, attrs = r
        return Trial(
            number=number, params=json.loads(params), value=value, state=TrialState(state),
            start_time=start if start is not None else 0.0, end_time=end, error=error,
            intermediate={int(k): v for k, v in json.loads(inter or "{}").items()},
            user_attrs=json.loads(attrs or "{}"),
        )

    _COLS = "number, params, value, state, start_time, end_time, error, intermediate, user_attrs"

    # -- the Storage interface ---------------------------------------------------------------
    def get_or_create_study(self, name: str, direction: str, space: dict | None) -> StudyInfo:
        try:
            with self._tx() as con:
                row = con.execute("SELECT direction, space FROM studies WHERE name = ?", (name,)).fetchone()
                if row is None:
                    con.execute("INSERT INTO studies (name, direction, space, created) VALUES (?, ?, ?, ?)",
                                (name, direction, None if space is None else json.dumps(space, default=str), time.time()))
                    info = StudyInfo(name, direction, space)
                else:
                    info = StudyInfo(name, row[0], None if row[1] is None else json.loads(row[1]))
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.path!r}: cannot create study {name!r}: {e}") from None
        _check_same(info, direction, space)
        return info

    def list_studies(self) -> list[str]:
        return [r[0] for r in self._read("SELECT name FROM studies ORDER BY study_id")]

    def study_info(self, name: str | None = None) -> StudyInfo:
        """Direction and search space of a study (``name=None``: the only one)."""
        name = _pick_name(name, self.list_studies(), repr(self.path))
        _, _, direction, space = self._study_row(name)
        return StudyInfo(name, direction, None if space is None else json.loads(space))

    def load_study(self, name: str | None = None) -> Study:
        info = self.study_info(name)
        sid = self._study_id(info.name)
        rows = self._read(f"SELECT {self._COLS} FROM trials WHERE study_id = ? ORDER BY number", (sid,))
        try:
            trials = [self._row_to_trial(r) for r in rows]
        except (ValueError, TypeError) as e:
            raise StorageError(f"{self.path!r}: study {info.name!r} holds a malformed trial: {e}") from None
        return Study(info.direction, trials, name=info.name)

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
        with self._tx() as con:
            con.execute(
                "UPDATE trials SET value = ?, state = ?, end_time = ?, error = ?, intermediate = ?, "
                "user_attrs = ?, seq = ? WHERE study_id = ? AND number = ?",
                (trial.value, trial.state.value, trial.end_time, trial.error,
                 json.dumps({str(k): v for k, v in trial.intermediate.items()}),
                 json.dumps(trial.user_attrs, default=str), self._next_seq(con, sid), sid, trial.number),
            )

    def trials_since(self, study: str, seq: int) -> tuple[list[Trial], int]:
        sid = self._study_id(study)
        rows = self._read(f"SELECT {self._COLS}, seq FROM trials WHERE study_id = ? AND seq > ? ORDER BY seq",
                          (sid, seq))
        return [self._row_to_trial(r[:-1]) for r in rows], max([seq] + [r[-1] for r in rows])

    def fail_abandoned(self, study: str) -> list[int]:
        sid = self._study_id(study)
        marked = []
        with self._tx() as con:
            rows = con.execute("SELECT number, owner FROM trials WHERE study_id = ? AND state = 'RUNNING'",
                               (sid,)).fetchall()
            for number, owner in rows:
                if _owner_is_dead(owner):
                    con.execute(
                        "UPDATE trials SET state = 'FAILED', end_time = ?, error = ?, seq = ? "
                        "WHERE study_id = ? AND number = ?",
                        (time.time(), f"abandoned: the process running it ({owner}) died before it finished",
                         self._next_seq(con, sid), sid, number),
                    )
                    marked.append(number)
        return marked

    def close(self) -> None:
        with self._lock:
            self._con.close()


def open_storage(url: str | os.PathLike | Storage, *, create: bool = False) -> Storage:
    """Open a store from a URL.

    Args:
        url: ``"sqlite:///relative.db"``, ``"sqlite:////absolute.db"``, a path ending in
            ``.db``/``.sqlite``/``.sqlite3``, or a :class:`Storage` (returned as is).
        create: create the file when it does not exist (the runner does; readers such as
            ``gpu-bo show`` do not, so a mistyped path is an error instead of a new empty file).

    Raises:
        StorageError: unknown URL scheme; missing file (with ``create=False``); a corrupt
            file or one that is not a gpu_bo storage file.
    """
    if isinstance(url, Storage):
        return url
    if isinstance(url, os.PathLike):
        return SQLiteStorage(os.fspath(url), create=create)
    if not isinstance(url, str):
        raise TypeError(f"storage: got {type(url).__name__}, expected a URL such as 'sqlite:///study.db'")
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise StorageError(f"storage: got {url!r}, expected 'sqlite:///path/to/file.db'")
        return SQLiteStorage(path, create=create)
    if "://" not in url and url.endswith((".db", ".sqlite", ".sqlite3")):
        return SQLiteStorage(url, create=create)
    raise StorageError(
        f"storage: got {url!r}, expected 'sqlite:///relative/path.db' or 'sqlite:////absolute/path.db'"
    )

