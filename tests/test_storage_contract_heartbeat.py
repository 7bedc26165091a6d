"""The storage contract, part two: heartbeats, stale trials, re-queue and claim (issue 21).

Runs on every registered storage through the ``store`` fixture of
``tests/test_storage_contract.py`` (one URL per scheme lives there). Kept in its own file so the
two halves of the contract can change without touching each other.
"""

from __future__ import annotations

import threading
import time

from test_storage_contract import store  # noqa: F401 - the fixture: one store per registered scheme

from gpu_bo.study import TrialState

SPACE = {"x": {"type": "real", "low": 0.0, "high": 1.0, "log": False}}
A, B = "host-a:1", "host-b:2"


def _study(store, n=3, owner=A):
    store.get_or_create_study("s", "minimize", SPACE)
    return [store.create_trial("s", {"x": i / 10}, owner=owner) for i in range(n)]


def _trial(store, number):
    return store.load_study("s").trials[number]


def test_reclaim_stale_requeues_trials_without_a_recent_heartbeat(store):
    t0, t1, _ = _study(store)
    _, seq = store.trials_since("s", 0)
    time.sleep(0.7)
    # t1 alive; t0 and t2 counted from their start (the margin, 0.5 s between this heartbeat and
    # the reclaim, is there so a loaded machine cannot make t1 look stale)
    store.heartbeat("s", [t1.number], A)
    assert sorted(store.reclaim_stale("s", 0.5)) == [0, 2]
    changed, _ = store.trials_since("s", seq)
    assert sorted(t.number for t in changed) == [0, 2]  # the change counter moved
    t = _trial(store, 0)
    assert t.state == TrialState.WAITING and t.params == {"x": 0.0}
    assert len(t.attempts) == 1
    a = t.attempts[0]
    assert a["owner"] == A and a["reason"] == "stale: no heartbeat for 0.5 s"
    assert a["start_time"] == t0.start_time and a["end_time"] >= a["start_time"]
    assert _trial(store, 1).state == TrialState.RUNNING
    assert store.reclaim_stale("s", 0.5) == []  # WAITING trials are not taken twice


def test_reclaim_stale_without_requeue_fails_them_naming_the_owner(store):
    _study(store, 1, owner=B)
    time.sleep(0.2)
    assert store.reclaim_stale("s", 0.1, requeue=False) == [0]
    t = _trial(store, 0)
    assert t.state == TrialState.FAILED and t.end_time is not None
    assert t.error == f"stale: no heartbeat for 0.1 s (owner {B})"


def test_heartbeat_only_touches_the_owners_running_trials(store):
    _study(store, 2)
    time.sleep(0.3)
    store.heartbeat("s", [0, 1, 7], B)  # not B's trials (and 7 does not exist): nothing changes
    assert sorted(store.reclaim_stale("s", 0.2)) == [0, 1]
    store.heartbeat("s", [0, 1], A)  # WAITING now: a heartbeat does not bring them back
    assert [t.state for t in store.load_study("s").trials] == [TrialState.WAITING] * 2
    store.heartbeat("s", [], A)


def test_claim_waiting_takes_the_lowest_then_none(store):
    _study(store, 3)
    assert store.claim_waiting("s", B) is None
    assert store.requeue_trial("s", 2, A, "interrupted")
    assert store.requeue_trial("s", 0, A, "interrupted")
    _, seq = store.trials_since("s", 0)
    got = store.claim_waiting("s", B)
    assert (got.number, got.params, got.state) == (0, {"x": 0.0}, TrialState.RUNNING)
    assert [a["reason"] for a in got.attempts] == ["interrupted"] and got.attempts[0]["owner"] == A
    assert [t.number for t in store.trials_since("s", seq)[0]] == [0]
    assert store.claim_waiting("s", B).number == 2
    assert store.claim_waiting("s", B) is None
    stored = _trial(store, 0)
    assert stored.state == TrialState.RUNNING and stored.start_time >= got.attempts[0]["end_time"]
    # the new owner's heartbeat keeps it; the old owner's does not
    time.sleep(0.7)
    store.heartbeat("s", [0], B)
    store.heartbeat("s", [2], A)
    assert sorted(store.reclaim_stale("s", 0.5)) == [1, 2]  # 1: A never sent one


def test_requeue_trial_refuses_other_owners_and_finished_trials(store):
    t0, t1, _ = _study(store, 3)
    assert store.requeue_trial("s", 0, B, "interrupted") is False
    t1.value, t1.state, t1.end_time = 1.0, TrialState.COMPLETE, time.time()
    store.finish_trial("s", t1)
    assert store.requeue_trial("s", 1, A, "interrupted") is False
    assert store.requeue_trial("s", 9, A, "interrupted") is False
    assert [t.state for t in store.load_study("s").trials] == [TrialState.RUNNING, TrialState.COMPLETE,
                                                               TrialState.RUNNING]
    assert store.requeue_trial("s", 0, A, "interrupted") is True
    assert store.requeue_trial("s", 0, A, "interrupted") is False  # WAITING now
    assert _trial(store, 0).state == TrialState.WAITING


def test_a_rerun_trial_that_goes_stale_again_fails_with_both_attempts(store):
    _study(store, 1)
    time.sleep(0.2)
    assert store.reclaim_stale("s", 0.1) == [0]
    assert store.claim_waiting("s", B).number == 0
    time.sleep(0.2)
    assert store.reclaim_stale("s", 0.1) == [0]
    t = _trial(store, 0)
    assert t.state == TrialState.FAILED and t.error == f"stale: no heartbeat for 0.1 s (owner {B})"
    assert [a["owner"] for a in t.attempts] == [A, B]
    assert store.claim_waiting("s", A) is None


def test_finishing_a_rerun_trial_keeps_its_history_and_counts_once(store):
    _study(store, 2)
    assert store.requeue_trial("s", 1, A, "interrupted")
    t = store.claim_waiting("s", B)
    t.value, t.state, t.end_time = 0.5, TrialState.COMPLETE, time.time()
    store.finish_trial("s", t)
    done = _trial(store, 1)
    assert done.state == TrialState.COMPLETE and done.value == 0.5 and len(done.attempts) == 1
    assert store.create_trial("s", {"x": 0.9}, max_trials=2, owner=A) is None  # still 2 trials
    assert len(store.load_study("s").trials) == 2


def test_no_two_threads_claim_the_same_trial(store):
    _study(store, 6)
    for n in range(6):
        assert store.requeue_trial("s", n, A, "interrupted")
    got: list[int] = []
    lock = threading.Lock()

    def worker(i):
        while (t := store.claim_waiting("s", f"host:{i}")) is not None:
            with lock:
                got.append(t.number)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(got) == list(range(6))
