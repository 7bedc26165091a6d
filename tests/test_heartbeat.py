"""Heartbeats, stale trials and re-queue in the run loop (gpu_bo/heartbeat.py, issue 21), in one
process; with real processes (SIGKILL one of four) see tests/test_runner_processes.py."""

from __future__ import annotations

import math
import threading
import time

import pytest

import gpu_bo as gb
from gpu_bo.heartbeat import Liveness
from gpu_bo.progress import ProgressBar
from gpu_bo.runner import RunOptions, optimize
from gpu_bo.storage import open_storage
from gpu_bo.study import Trial, TrialState

SPACE = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
FAST = dict(n_initial=100, sync_interval=0.05)


def quad(p):
    return (p["x"] - 0.3) ** 2 + p["y"]


class Interrupt:
    """An objective that raises KeyboardInterrupt (as Ctrl-C would) on its ``at``-th call."""

    def __init__(self, at: int) -> None:
        self.at, self.calls, self.params = at, 0, None

    def __call__(self, p):
        self.calls += 1
        if self.calls == self.at:
            self.params = dict(p)
            raise KeyboardInterrupt
        return quad(p)


@pytest.mark.parametrize("kwargs, match", [
    (dict(heartbeat_interval=5.0, stale_after=5.0), "stale_after: got 5.0, expected more seconds than heartbeat_interval"),
    (dict(stale_after=math.inf), "stale_after: got inf"),
    (dict(stale_after=math.nan), "stale_after: got nan"),
    (dict(heartbeat_interval=0), "heartbeat_interval: got 0"),
    (dict(heartbeat_interval=True), "heartbeat_interval: got True"),
])
def test_run_options_check_heartbeat_and_grace(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RunOptions(**kwargs)
    with pytest.raises(TypeError, match="requeue_interrupted: got 'no'"):
        RunOptions(requeue_interrupted="no")


def test_ctrl_c_requeues_the_running_trial_and_the_next_run_reruns_it_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'ki.db'}"
    objective = Interrupt(at=3)
    with pytest.warns(gb.GpuBoWarning, match=r"interrupted by Ctrl-C; 2 finished trials are saved; trials \[2\] "
                                             "are re-queued"):
        study = optimize(objective, SPACE, 6, seed=0, progress=False, storage=url, options=RunOptions(**FAST))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2 + [TrialState.WAITING]
    stored = open_storage(url).load_study()
    waiting = stored.trials[2]
    assert waiting.state == TrialState.WAITING and waiting.params == study.trials[2].params
    assert [a["reason"] for a in waiting.attempts] == ["interrupted (KeyboardInterrupt) before it finished"]
    # the next run takes it first (same number, same params), and it counts once toward n_trials
    seen = []
    again = optimize(lambda p: seen.append(dict(p)) or quad(p), SPACE, 6, seed=0, progress=False, storage=url,
                     options=RunOptions(**FAST))
    assert seen[0] == pytest.approx(objective.params)
    assert len(again.trials) == 6 and all(t.state == TrialState.COMPLETE for t in again.trials)
    assert len(again.trials[2].attempts) == 1 and len(seen) == 4


def test_a_rerun_trial_interrupted_again_ends_failed(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    with pytest.warns(gb.GpuBoWarning, match="re-queued"):
        optimize(Interrupt(at=1), SPACE, 3, seed=0, progress=False, storage=url, options=RunOptions(**FAST))
    with pytest.warns(gb.GpuBoWarning, match="interrupted by Ctrl-C; 1 finished trials are saved$"):
        study = optimize(Interrupt(at=1), SPACE, 3, seed=0, progress=False, storage=url, options=RunOptions(**FAST))
    t = study.trials[0]
    assert t.state == TrialState.FAILED and "interrupted" in t.error and len(t.attempts) == 1


def test_requeue_interrupted_false_keeps_failing_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with pytest.warns(gb.GpuBoWarning, match="interrupted by Ctrl-C; 3 finished trials are saved$"):
        study = optimize(Interrupt(at=3), SPACE, 6, seed=0, progress=False, storage=url,
                         options=RunOptions(requeue_interrupted=False, **FAST))
    t = open_storage(url).load_study().trials[2]
    assert t.state == TrialState.FAILED and t.error == "interrupted (KeyboardInterrupt) before it finished"
    assert t.attempts == [] and study.trials[2].state == TrialState.FAILED


@pytest.mark.parametrize("requeue", [True, False])
def test_a_stale_trial_found_at_start_is_rerun_or_failed(tmp_path, requeue):
    url = f"sqlite:///{tmp_path / 'stale.db'}"
    with open_storage(url, create=True) as store:
        store.get_or_create_study("default", "minimize", gb.Space(SPACE).to_dict())
        left = store.create_trial("default", {"x": 0.25, "y": 0.5}, owner="gone-host:123")
    time.sleep(1.2)
    # stale_after well above the heartbeat interval: this run's own trials never look stale
    opts = RunOptions(heartbeat_interval=0.1, stale_after=1.0, requeue_interrupted=requeue, **FAST)
    what = "re-queued" if requeue else "marked FAILED"
    with pytest.warns(gb.GpuBoWarning, match=rf"trials \[0\] were left RUNNING with no heartbeat for 1 s.*{what}"):
        study = optimize(quad, SPACE, 3, seed=0, progress=False, storage=url, options=opts)
    t = study.trials[0]
    assert t.params == left.params and t.attempts[0]["owner"] == "gone-host:123"
    if requeue:
        assert t.state == TrialState.COMPLETE and t.value == pytest.approx(quad(left.params))
    else:
        assert t.state == TrialState.FAILED and t.error == "stale: no heartbeat for 1 s (owner gone-host:123)"
    assert len(study.trials) == 3


class Recorder:
    """A stand-in storage that records the heartbeats it gets."""

    def __init__(self) -> None:
        self.beats: list[tuple[str, list[int], str]] = []
        self.got = threading.Event()

    def heartbeat(self, study, numbers, owner):
        self.beats.append((study, list(numbers), owner))
        self.got.set()


def test_the_heartbeat_thread_beats_for_the_running_trials_and_stops():
    store = Recorder()
    live = Liveness(store, "s", "me:1", interval=0.01, stale_after=1.0, requeue=True)
    running = [3, 5]
    live.start(lambda: running)
    assert store.got.wait(30)
    live.stop()
    n = len(store.beats)
    assert store.beats[0] == ("s", [3, 5], "me:1")
    time.sleep(0.05)
    assert len(store.beats) == n  # stopped


def test_requeue_stopped_declines_when_off_or_already_rerun():
    t = Trial(0, {"x": 0.1})
    assert Liveness(None, "s", "me:1", 1.0, 2.0, requeue=False).requeue_stopped(t, "interrupted") is False
    t.attempts = [{"owner": "a:1", "start_time": 0.0, "end_time": 1.0, "reason": "interrupted"}]
    assert Liveness(None, "s", "me:1", 1.0, 2.0, requeue=True).requeue_stopped(t, "interrupted") is False
    assert t.state == TrialState.RUNNING


def test_the_progress_bar_counts_waiting_trials(capsys):
    bar = ProgressBar(3, 0, "s")
    bar.show([Trial(0, {}, state=TrialState.WAITING), Trial(1, {}, 0.5, state=TrialState.COMPLETE)], 0.5)
    bar.close()
    assert "waiting=1" in capsys.readouterr().err
