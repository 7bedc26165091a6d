"""The SQLite file's schema, its migrations and small helpers of :mod:`gpu_bo.storage.sqlite`
(kept apart so that module stays under 500 lines; the format is described there)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from typing import Any

from gpu_bo.exceptions import StorageError

def _params_json(params: dict[str, Any]) -> str:
    try:
        return json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise StorageError(
            f"params {params!r} cannot be stored in SQLite as JSON ({e}); with a storage, "
            "categorical choices must be str, int, float, bool or None"
        ) from None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    study_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE NOT NULL,
    direction TEXT NOT NULL,
    space TEXT,
    created REAL NOT NULL,
    directions TEXT
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
    values_json TEXT,
    heartbeat REAL,
    attempts TEXT,
    constraints_json TEXT,
    PRIMARY KEY (study_id, number)
);
CREATE INDEX IF NOT EXISTS trials_seq ON trials (study_id, seq);
CREATE INDEX IF NOT EXISTS trials_params ON trials (study_id, params);
"""


def _migrate_1_to_2(con: sqlite3.Connection) -> None:
    """Schema 1 -> 2: a study's directions and a trial's vector of outputs."""
    con.execute("ALTER TABLE studies ADD COLUMN directions TEXT")
    con.execute("ALTER TABLE trials ADD COLUMN values_json TEXT")


def _migrate_2_to_3(con: sqlite3.Connection) -> None:
    """Schema 2 -> 3: a running trial's heartbeat and a re-queued trial's earlier attempts."""
    con.execute("ALTER TABLE trials ADD COLUMN heartbeat REAL")
    con.execute("ALTER TABLE trials ADD COLUMN attempts TEXT")


def _migrate_3_to_4(con: sqlite3.Connection) -> None:
    """Schema 3 -> 4: a trial's outcome constraint values."""
    con.execute("ALTER TABLE trials ADD COLUMN constraints_json TEXT")


# version v -> the step that turns schema v into v + 1 (run inside one write transaction)
_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_1_to_2, 2: _migrate_2_to_3,
                                                                 3: _migrate_3_to_4}


# SQLITE_READONLY, SQLITE_CANTOPEN (on an existing file: its journal cannot be created beside it)
_READ_ONLY_CODES = (8, 14)


def _says_read_only(e: sqlite3.Error) -> bool:
    """Whether SQLite refused ``e`` because it may not write the file (not because it is corrupt)."""
    code = getattr(e, "sqlite_errorcode", None)  # Python >= 3.11; else the message says it
    if code is not None:
        return code & 0xFF in _READ_ONLY_CODES
    text = str(e).lower()
    return "readonly" in text or "read-only" in text or "unable to open database file" in text


# SQLITE_BUSY, SQLITE_LOCKED: another connection holds a lock this one needs
_BUSY_CODES = (5, 6)


def _says_busy(e: sqlite3.Error) -> bool:
    """Whether SQLite refused ``e`` only because another connection held a lock (try again)."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    text = str(e).lower()
    return "locked" in text or "busy" in text


def _log_beside(path: str) -> str | None:
    """The write-ahead log beside ``path`` when it holds something (changes not in ``path`` yet)."""
    log = path + "-wal"
    return log if os.path.exists(log) and os.path.getsize(log) > 0 else None
