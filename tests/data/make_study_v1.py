"""Write ``study_v1.sqlite``: a study file in storage schema version 1, made by the old code.

Not run by the tests: it was run once, before the storage package replaced ``gpu_bo/storage.py``,
and its output is committed next to it. ``tests/test_storage.py`` opens that file with today's
code to check that the migration to the current schema keeps every trial as it was.

It runs on the package as it was at commit ``OLD_COMMIT`` (whose ``gpu_bo/storage.py`` writes
schema version 1): ``git archive`` extracts that commit's ``gpu_bo/`` and ``kernels/`` into a
temporary folder put first on ``sys.path``, so it can be rerun later whatever the working tree
holds. It writes:

- ``study_v1.sqlite``: two studies, ``"min"`` (minimize, real + integer + categorical params)
  and ``"max"`` (maximize, with ``space=None``), holding COMPLETE, FAILED, PRUNED (with
  intermediate values) and RUNNING trials, categorical params and user_attrs;
- ``study_v1.json``: what the old code's ``load_study`` read back from that file
  (``{name: {"direction": ..., "trials": [Trial.to_dict(), ...]}}``), the expected content;
- ``show_v1.txt``: what the old ``gpu-bo show`` printed for it (the commands in ``SHOW_COMMANDS``,
  each output after a ``$ gpu-bo ...`` line), which ``tests/test_cli.py`` compares with today's.

Usage (from the repository root)::

    python tests/data/make_study_v1.py
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import shutil
import tempfile
from pathlib import Path

OLD_COMMIT = "a28ed73"  # HEAD when the fixture was made; gpu_bo/storage.py there is schema 1
HERE = Path(__file__).resolve().parent
SHOW_COMMANDS = (["show"], ["show", "--study", "min", "--top", "2"], ["show", "--study", "max", "--top", "1"])
SPACE = {
    "lr": {"type": "real", "low": 1e-5, "high": 0.1, "log": True},
    "layers": {"type": "integer", "low": 1, "high": 4},
    "opt": {"type": "categorical", "choices": ["adam", "sgd", None]},
}


def _old_package():
    """(storage module, TrialState) of the package at ``OLD_COMMIT``."""
    tar = subprocess.run(["git", "archive", OLD_COMMIT, "gpu_bo", "kernels"], cwd=HERE.parents[1], check=True,
                         capture_output=True).stdout
    root = tempfile.mkdtemp()
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        tf.extractall(root, filter="data")
    os.rename(os.path.join(root, "kernels"), os.path.join(root, "gpu_bo", "kernels"))  # as pyproject maps it
    sys.path.insert(0, root)
    storage = importlib.import_module("gpu_bo.storage")
    study = importlib.import_module("gpu_bo.study")
    kernels = importlib.import_module("gpu_bo.kernels")
    assert all(m.__file__.startswith(root) for m in (storage, study, kernels)), (storage, kernels)
    assert storage.SCHEMA_VERSION == 1, storage.SCHEMA_VERSION
    return storage, study.TrialState


def _show_outputs(db: Path) -> str:
    """The old ``gpu-bo show`` outputs for ``db`` (run on a copy: the old code sets WAL mode)."""
    cli = importlib.import_module("gpu_bo.cli")
    copy = Path(tempfile.mkdtemp()) / db.name
    shutil.copyfile(db, copy)
    out = []
    for args in SHOW_COMMANDS:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert cli.main([args[0], f"sqlite:///{copy}", *args[1:]]) == 0
        out.append(f"$ gpu-bo {' '.join(args)}\n{buf.getvalue()}")
    return "".join(out)


def _finish(store, study, t, *, state, value=None, error=None, intermediate=None, attrs=None):
    t.value, t.state, t.error = value, state, error
    t.end_time = t.start_time + 1.5
    t.intermediate = intermediate or {}
    t.user_attrs = attrs or {}
    store.finish_trial(study, t)


def main() -> None:
    old, TrialState = _old_package()  # noqa: N806 - the old code's class
    db, expected = HERE / "study_v1.sqlite", HERE / "study_v1.json"
    db.unlink(missing_ok=True)
    store = old.SQLiteStorage(str(db), create=True)

    store.get_or_create_study("min", "minimize", SPACE)
    t = store.create_trial("min", {"lr": 0.001, "layers": 2, "opt": "adam"})
    _finish(store, "min", t, state=TrialState.COMPLETE, value=0.25, attrs={"fold_scores": [0.2, 0.3]})
    t = store.create_trial("min", {"lr": 0.05, "layers": 4, "opt": "sgd"})
    _finish(store, "min", t, state=TrialState.FAILED, error="Traceback (most recent call last):\nRuntimeError: boom")
    t = store.create_trial("min", {"lr": 1e-4, "layers": 1, "opt": None})
    _finish(store, "min", t, state=TrialState.PRUNED, value=0.9, intermediate={0: 1.5, 1: 1.1, 3: 0.9})
    t = store.create_trial("min", {"lr": 0.002, "layers": 3, "opt": "adam"})
    _finish(store, "min", t, state=TrialState.COMPLETE, value=-1.0e-3, intermediate={0: 0.5},
            attrs={"note": "best", "epochs": 7})
    store.create_trial("min", {"lr": 0.01, "layers": 2, "opt": "sgd"}, owner="other-host:4242")  # RUNNING

    store.get_or_create_study("max", "maximize", None)
    t = store.create_trial("max", {"C": 1.5, "kernel": "rbf"})
    _finish(store, "max", t, state=TrialState.COMPLETE, value=0.93)
    t = store.create_trial("max", {"C": 10.0, "kernel": "poly"})
    _finish(store, "max", t, state=TrialState.PRUNED, intermediate={0: 0.4})
    t = store.create_trial("max", {"C": 0.1, "kernel": "linear"})
    _finish(store, "max", t, state=TrialState.FAILED, error="objective returned nan")
    store.create_trial("max", {"C": 3.0, "kernel": "rbf"}, owner="other-host:4243")  # RUNNING

    out = {}
    for name in store.list_studies():
        s = store.load_study(name)
        out[name] = {"direction": s.direction, "trials": [tr.to_dict() for tr in s.trials]}
    store.close()
    # one file, no -wal/-shm beside it: fold the WAL back into the database
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    expected.write_text(json.dumps(out, indent=1) + "\n")
    (HERE / "show_v1.txt").write_text(_show_outputs(db))
    print(f"wrote {db}, {expected} and show_v1.txt", file=sys.stderr)


if __name__ == "__main__":
    main()
