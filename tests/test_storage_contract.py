"""The storage contract: every registered storage behaves the same through the Storage interface.

The ``store`` fixture runs each test once per registered URL scheme (``storage_schemes()``);
a new storage (e.g. PostgreSQL) registers its scheme and adds one entry to ``URLS`` below (every
test fails for a registered scheme without one). Storage-specific behaviour
(SQLite's file format, WAL, concurrency between processes, corrupt files) is tested in
``tests/test_storage.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

import gpu_bo as gb
from gpu_bo.storage import DuplicateParams, Storage, StudyInfo, open_storage, storage_schemes
from gpu_bo.study import Trial, TrialState

SPACE = {"x": {"type": "real", "low": 0.0, "high": 1.0, "log": False}}

# scheme -> (tmp_path, request -> the URL of a new, empty store); PostgreSQL: a new database per
# test (the postgres_url fixture of conftest.py, from GPU_BO_TEST_POSTGRES_URL)
URLS = {
    "memory": lambda tmp, req: "memory://",
    "sqlite": lambda tmp, req: f"sqlite:///{tmp / 'contract.db'}",
    "postgresql": lambda tmp, req: req.getfixturevalue("postgres_url"),
    "postgres": lambda tmp, req: "postgres://" + req.getfixturevalue("postgres_url").partition("://")[2],
}


@pytest.fixture(params=storage_schemes())
def store(request, tmp_path):
    if request.param not in URLS:
        pytest.fail(f"storage scheme {request.param!r} is registered but has no URL in URLS: add one")
    s = open_storage(URLS[request.param](tmp_path, request), create=True)
    assert isinstance(s, Storage)
    yield s
    s.close()


def _finish(store, study, t, value, state=TrialState.COMPLETE, **fields):
    t.value, t.state, t.end_time = value, state, t.start_time + 1.0
    for k, v in fields.items():
        setattr(t, k, v)
    store.finish_trial(study, t)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_create_get_study_and_info(store):
    info = store.get_or_create_study("a", "minimize", SPACE)
    assert info == StudyInfo("a", "minimize", SPACE) and info.directions == ("minimize",)
    assert store.get_or_create_study("a", "minimize", SPACE) == info  # get: same record
    assert store.get_or_create_study("a", "minimize", None) == info   # no space given: not checked
    store.get_or_create_study("b", "maximize", None)
    mo = store.get_or_create_study("mo", ["maximize", "minimize"], SPACE)
    assert mo.direction == "maximize" and mo.directions == ("maximize", "minimize")
    assert store.list_studies() == ["a", "b", "mo"]
    assert store.study_info("a") == info
    assert store.study_info("b") == StudyInfo("b", "maximize", None)
    assert store.study_info("mo") == mo


def test_study_mismatch_is_a_clear_error(store):
    store.get_or_create_study("a", "minimize", SPACE)
    with pytest.raises(gb.StorageError, match="direction='minimize', but direction='maximize'"):
        store.get_or_create_study("a", "maximize", SPACE)
    with pytest.raises(gb.StorageError, match="directions"):
        store.get_or_create_study("a", ["minimize", "minimize"], SPACE)
    other = {"x": {"type": "real", "low": 0.0, "high": 2.0, "log": False}}
    with pytest.raises(gb.StorageError, match="search space"):
        store.get_or_create_study("a", "minimize", other)
    with pytest.raises(ValueError, match=r"direction\[1\]: got 'up'"):
        store.get_or_create_study("c", ["minimize", "up"], None)
    assert store.list_studies() == ["a"]


def test_study_name_errors(store):
    for call in (store.load_study, store.study_info):
        with pytest.raises(gb.StorageError, match="no study"):
            call()
    store.get_or_create_study("a", "minimize", SPACE)
    assert store.load_study().name == "a" and store.study_info().name == "a"  # the only one
    store.get_or_create_study("b", "minimize", SPACE)
    with pytest.raises(gb.StorageError, match="2 studies"):
        store.load_study()
    with pytest.raises(gb.StorageError, match="no study named 'zzz'"):
        store.load_study("zzz")
    with pytest.raises(gb.StorageError, match="no study named 'zzz'"):
        store.create_trial("zzz", {"x": 0.5})


def test_trial_numbers_unique_increasing_and_max_trials(store):
    store.get_or_create_study("a", "minimize", SPACE)
    store.get_or_create_study("b", "minimize", SPACE)
    ts = [store.create_trial("a", {"x": i / 10}, max_trials=3) for i in range(3)]
    assert [t.number for t in ts] == [0, 1, 2]
    assert all(t.state == TrialState.RUNNING and t.values is None for t in ts)
    assert store.create_trial("a", {"x": 0.9}, max_trials=3) is None
    _finish(store, "a", ts[0], 1.0)  # finished trials count too
    assert store.create_trial("a", {"x": 0.9}, max_trials=3) is None
    assert len(store.load_study("a").trials) == 3
    assert store.create_trial("a", {"x": 0.9}).number == 3  # no limit
    assert store.create_trial("b", {"x": 0.9}).number == 0  # numbers are per study


def test_duplicate_params_refused_only_when_unique(store):
    store.get_or_create_study("a", "minimize", SPACE)
    store.create_trial("a", {"x": 0.1})
    with pytest.raises(DuplicateParams, match="already has a trial"):
        store.create_trial("a", {"x": 0.1}, unique=True)
    assert isinstance(DuplicateParams("m"), gb.StorageError)
    assert store.create_trial("a", {"x": 0.2}, unique=True).number == 1
    assert store.create_trial("a", {"x": 0.1}).number == 2  # allowed without unique
    assert len(store.load_study("a").trials) == 3


def test_finish_trial_persists_everything(store):
    store.get_or_create_study("a", "minimize", SPACE)
    t0, t1, t2, t3 = (store.create_trial("a", {"x": x, "k": k}) for x, k in
                      ((0.25, "adam"), (0.5, "sgd"), (0.75, None), (1.0, "adam")))
    _finish(store, "a", t0, 1.5, intermediate={0: 3.0, 1: 2.0}, user_attrs={"fold": [1, 2], "note": "ok"})
    _finish(store, "a", t1, None, TrialState.FAILED, error="Traceback: boom")
    _finish(store, "a", t2, 2.5, TrialState.PRUNED, intermediate={0: 4.0, 2: 2.5})
    s = store.load_study("a")
    assert s.name == "a" and s.direction == "minimize"
    got = [(t.number, t.state, t.values, t.error, t.intermediate, t.user_attrs, t.params) for t in s.trials]
    assert got == [
        (0, TrialState.COMPLETE, [1.5], None, {0: 3.0, 1: 2.0}, {"fold": [1, 2], "note": "ok"},
         {"x": 0.25, "k": "adam"}),
        (1, TrialState.FAILED, None, "Traceback: boom", {}, {}, {"x": 0.5, "k": "sgd"}),
        (2, TrialState.PRUNED, [2.5], None, {0: 4.0, 2: 2.5}, {}, {"x": 0.75, "k": None}),
        (3, TrialState.RUNNING, None, None, {}, {}, {"x": 1.0, "k": "adam"}),
    ]
    assert s.trials[0].end_time == t0.end_time and s.trials[0].start_time == t0.start_time
    assert s.trials[3].end_time is None
    assert s.best_value == 1.5 and s.best_params == {"x": 0.25, "k": "adam"}


def test_vector_of_outputs_round_trips(store):
    store.get_or_create_study("mo", ["maximize", "minimize"], SPACE)
    t = store.create_trial("mo", {"x": 0.5})
    t.values, t.state, t.end_time = [0.93, 12.5], TrialState.COMPLETE, t.start_time + 1.0
    store.finish_trial("mo", t)
    assert store.load_study("mo").trials[0].values == [0.93, 12.5]
    assert store.trials_since("mo", 0)[0][0].values == [0.93, 12.5]


def test_trials_since_returns_only_what_changed(store):
    store.get_or_create_study("a", "minimize", SPACE)
    assert store.trials_since("a", 0) == ([], 0)
    ts = [store.create_trial("a", {"x": i / 10}) for i in range(3)]
    changed, seq = store.trials_since("a", 0)
    assert sorted(t.number for t in changed) == [0, 1, 2] and seq > 0
    assert store.trials_since("a", seq) == ([], seq)
    _finish(store, "a", ts[1], 0.5)
    changed, seq2 = store.trials_since("a", seq)
    assert [(t.number, t.state, t.value) for t in changed] == [(1, TrialState.COMPLETE, 0.5)] and seq2 > seq
    new = store.create_trial("a", {"x": 0.9})
    changed, seq3 = store.trials_since("a", seq2)
    assert [(t.number, t.state) for t in changed] == [(new.number, TrialState.RUNNING)] and seq3 > seq2
    _finish(store, "a", ts[0], 0.1)
    _finish(store, "a", ts[2], 0.2)
    changed, _ = store.trials_since("a", seq3)
    assert sorted(t.number for t in changed) == [0, 2]


def test_returned_trials_are_copies(store):
    store.get_or_create_study("a", "minimize", SPACE)
    t = store.create_trial("a", {"x": 0.1})
    t.params["x"] = 0.9
    t.user_attrs["k"] = 1
    loaded = store.load_study("a").trials[0]
    assert loaded.params == {"x": 0.1} and loaded.user_attrs == {}
    loaded.state = TrialState.COMPLETE
    assert store.load_study("a").trials[0].state == TrialState.RUNNING


def test_fail_abandoned_only_marks_dead_local_owners(store):
    store.get_or_create_study("a", "minimize", SPACE)
    host = socket.gethostname()
    store.create_trial("a", {"x": 0.1}, owner=f"{host}:{_dead_pid()}")
    store.create_trial("a", {"x": 0.2}, owner=f"{host}:{os.getpid()}")  # alive: this process
    store.create_trial("a", {"x": 0.3}, owner="some-other-host:1")       # unknowable: left alone
    done = store.create_trial("a", {"x": 0.4}, owner=f"{host}:{_dead_pid()}")
    _finish(store, "a", done, 0.4)                                       # finished: left alone
    _, seq = store.trials_since("a", 0)
    assert store.fail_abandoned("a") == [0]
    trials = store.load_study("a").trials
    assert [t.state for t in trials] == [TrialState.FAILED, TrialState.RUNNING, TrialState.RUNNING,
                                         TrialState.COMPLETE]
    assert "abandoned" in trials[0].error and trials[0].end_time is not None
    assert [t.number for t in store.trials_since("a", seq)[0]] == [0]  # the change is fed
    assert store.fail_abandoned("a") == []


def test_load_study_round_trip(store):
    store.get_or_create_study("a", "maximize", SPACE)
    for i in range(4):
        t = store.create_trial("a", {"x": i / 4})
        _finish(store, "a", t, float(i) if i != 2 else None, TrialState.COMPLETE if i != 2 else TrialState.FAILED,
                error=None if i != 2 else "nan")
    first = store.load_study("a")
    assert first.direction == "maximize" and first.best_value == 3.0
    assert [t.to_dict() for t in store.load_study("a").trials] == [t.to_dict() for t in first.trials]
    copy = open_storage("memory://")  # what a study exported into another store looks like
    copy.get_or_create_study("a", first.direction, SPACE)
    for t in first.trials:
        c = copy.create_trial("a", t.params)
        c.values, c.state, c.error, c.end_time = t.values, t.state, t.error, t.end_time
        copy.finish_trial("a", c)
    assert [t.values for t in copy.load_study("a").trials] == [t.values for t in first.trials]


def test_context_manager_and_trial_type(store):
    store.get_or_create_study("a", "minimize", None)
    with store as s:
        assert s is store
        assert isinstance(s.create_trial("a", {"x": 1}), Trial)


def test_set_space_replaces_the_stored_space_and_finish_records_params(store):
    # define-by-run (gpu_bo.define_by_run): the space grows, a trial finishes with the params it used
    store.get_or_create_study("a", "minimize", None)
    grown = {"m": {"type": "categorical", "choices": ["a", "b"]},
             "x": {"type": "real", "low": 0.0, "high": 1.0, "log": False, "when": {"m": ["a"]}}}
    info = store.set_space("a", grown)
    assert info.space == grown and store.study_info("a").space == grown
    assert store.get_or_create_study("a", "minimize", grown).space == grown  # the same space: no error
    with pytest.raises(gb.StorageError, match="search space"):
        store.get_or_create_study("a", "minimize", SPACE)
    t = store.create_trial("a", {"m": "a", "x": 0.5})
    t.params = {"m": "b"}
    _finish(store, "a", t, 1.0)
    assert store.load_study("a").trials[0].params == {"m": "b"}
    assert store.set_space("a", None).space is None
    with pytest.raises(gb.StorageError):
        store.set_space("nope", grown)
