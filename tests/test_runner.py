"""Tests of gpu_bo.runner: backends, every failure path, parallel suggestions, callbacks, pruning.

Objectives live at module level so the process backend can also start workers with "spawn"
(the default on CUDA machines). Most runs use ``n_initial >= n_trials`` (quasi-random points,
no GP fit) to stay fast; the tests that need the GP say so.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time

import pytest

import gpu_bo as gb
from gpu_bo.pruners import MedianPruner
from gpu_bo.runner import BACKENDS, RunOptions, ThreadBackend, optimize, register_backend
from gpu_bo.study import TrialState

SPACE = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
FAST = RunOptions(n_initial=100)  # every suggestion quasi-random: no GP fit in these tests
PARALLEL = ["thread", "process"]


def quad(p):
    return (p["x"] - 0.3) ** 2 + (p["y"] - 0.6) ** 2


def raise_high(p):
    if p["x"] > 0.5:
        raise ValueError(f"x too big: {p['x']}")
    return quad(p)


def bad_values(p):
    if p["x"] > 0.5:
        return [math.nan, math.inf, None][int(p["y"] * 3) % 3]
    return quad(p)


def hang_high(p):
    if p["x"] > 0.5:
        time.sleep(60)
    return quad(p)


def die_high(p):
    if p["x"] > 0.5:
        os._exit(3)
    return quad(p)


def segv_high(p):
    if p["x"] > 0.5:
        os.kill(os.getpid(), signal.SIGKILL)
    return quad(p)


def sleepy(p):
    time.sleep(0.3)
    return quad(p)


def _states(study):
    return [t.state for t in study.trials]


def _check_failed_split(study, n, err):
    """Trials with x > 0.5 failed with ``err`` in their text, the others completed."""
    assert len(study.trials) == n and sorted(t.number for t in study.trials) == list(range(n))
    for t in study.trials:
        if t.params["x"] > 0.5:
            assert t.state == TrialState.FAILED and t.value is None and err in t.error, t
        else:
            assert t.state == TrialState.COMPLETE and t.value == pytest.approx(quad(t.params)), t
        assert t.end_time is not None and t.end_time >= t.start_time
    assert any(t.state == TrialState.FAILED for t in study.trials)
    assert any(t.state == TrialState.COMPLETE for t in study.trials)


@pytest.mark.parametrize("backend", ["serial", *PARALLEL])
def test_exception_becomes_failed_trial(backend):
    n_workers = 1 if backend == "serial" else 2
    study = optimize(raise_high, SPACE, 8, backend=backend, n_workers=n_workers, seed=1,
                     progress=False, options=FAST)
    _check_failed_split(study, 8, "ValueError: x too big")
    assert study.best_value == min(t.value for t in study.completed_trials)


@pytest.mark.parametrize("backend", ["serial", "process"])
def test_nan_inf_none_become_failed(backend):
    study = optimize(bad_values, SPACE, 8, backend=backend, n_workers=1 if backend == "serial" else 2,
                     seed=2, progress=False, options=FAST)
    _check_failed_split(study, 8, "expected a finite number")


@pytest.mark.parametrize("backend", ["serial", *PARALLEL])
def test_trial_timeout(backend):
    n_workers = 1 if backend == "serial" else 2
    t0 = time.monotonic()
    study = optimize(hang_high, SPACE, 6, backend=backend, n_workers=n_workers, trial_timeout=1.0,
                     seed=1, progress=False, options=FAST)
    _check_failed_split(study, 6, "trial_timeout")
    n_hung = sum(t.params["x"] > 0.5 for t in study.trials)
    assert time.monotonic() - t0 < 20 + n_hung  # nobody waited the 60 s sleep


@pytest.mark.parametrize("objective, err", [(die_high, "exit code 3"), (segv_high, "SIGKILL")])
def test_worker_death_is_failed_and_pool_recovers(objective, err):
    study = optimize(objective, SPACE, 8, backend="process", n_workers=2, seed=1, progress=False,
                     options=FAST)
    _check_failed_split(study, 8, err)


def test_failed_points_not_proposed_again_with_gp():
    # the GP phase (n_initial=3) with a failing region: no params repeat, failures included
    study = optimize(raise_high, SPACE, 7, seed=3, progress=False, options=RunOptions(n_initial=3))
    keys = [(t.params["x"], t.params["y"]) for t in study.trials]
    assert len(set(keys)) == len(keys)
    assert any(t.state == TrialState.FAILED for t in study.trials)


@pytest.mark.slow
def test_four_workers_async_without_duplicates():
    """4 thread workers, GP suggestions with pending points: always 4 running, no duplicates."""
    lock = threading.Lock()
    running, peak, starts = [0], [0], []

    def obj(p):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            starts.append(time.monotonic())
        time.sleep(0.4 if p["x"] < 0.5 else 0.05)  # uneven durations: workers must not wait
        with lock:
            running[0] -= 1
        return quad(p)

    study = optimize(obj, SPACE, 11, backend="thread", n_workers=4, seed=0, progress=False,
                     options=RunOptions(n_initial=4))
    keys = [(round(t.params["x"], 9), round(t.params["y"], 9)) for t in study.trials]
    assert len(study.trials) == 11 and len(set(keys)) == 11
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert peak[0] == 4


def test_serial_rejects_workers_and_bad_args():
    with pytest.raises(ValueError, match="backend='serial'"):
        optimize(quad, SPACE, 3, n_workers=2, progress=False)
    with pytest.raises(ValueError, match="backend: got 'nope'"):
        optimize(quad, SPACE, 3, backend="nope", progress=False)
    with pytest.raises(ValueError, match="direction"):
        optimize(quad, SPACE, 3, direction="up", progress=False)
    with pytest.raises(ValueError, match="n_trials"):
        optimize(quad, SPACE, 0, progress=False)
    with pytest.raises(ValueError, match="trial_timeout"):
        optimize(quad, SPACE, 3, trial_timeout=-1, progress=False)
    with pytest.raises(TypeError, match="objective"):
        optimize(42, SPACE, 3, progress=False)
    with pytest.raises(TypeError, match="callbacks"):
        optimize(quad, SPACE, 3, callbacks=[1], progress=False)


def test_process_backend_lambda_under_spawn_is_a_clear_error():
    with pytest.raises(TypeError, match="module level"):
        optimize(lambda p: 0.0, SPACE, 2, backend="process", n_workers=1, progress=False,
                 options=RunOptions(n_initial=10, start_method="spawn"))


def test_callbacks_progress_and_maximize(capsys):
    seen = []
    study = optimize(quad, SPACE, 5, direction="maximize", seed=0, progress=True, options=FAST,
                     callbacks=[lambda s, t: seen.append((len(s.trials), t.number, t.state))])
    assert [n for _, n, _ in seen] == [0, 1, 2, 3, 4]
    assert all(st == TrialState.COMPLETE for _, _, st in seen)
    assert study.best_value == max(t.value for t in study.trials)
    err = capsys.readouterr().err
    assert "5/5" in err and "best=" in err and "failed=0" in err
    optimize(quad, SPACE, 2, seed=0, progress=False, options=FAST)
    assert capsys.readouterr().err == ""


def test_keyboard_interrupt_stops_cleanly(tmp_path):
    def cb(study, trial):
        if trial.number == 2:
            raise KeyboardInterrupt

    url = f"sqlite:///{tmp_path / 'ki.db'}"
    with pytest.warns(gb.GpuBoWarning, match="interrupted"):
        study = optimize(quad, SPACE, 50, seed=0, progress=False, options=FAST, callbacks=[cb], storage=url)
    assert len(study.trials) == 3 and all(t.state == TrialState.COMPLETE for t in study.trials)
    stored = gb.storage.open_storage(url).load_study()
    assert [t.state for t in stored.trials] == [TrialState.COMPLETE] * 3


def test_a_raising_callback_warns_once_and_the_study_goes_on(tmp_path):
    calls = []

    def cb(study, trial):
        calls.append(trial.number)
        raise RuntimeError("callback bug")

    url = f"sqlite:///{tmp_path / 'cb.db'}"
    with pytest.warns(gb.GpuBoWarning, match="callback bug") as record:
        study = optimize(sleepy, SPACE, 6, backend="thread", n_workers=2, seed=0, progress=False,
                         options=FAST, callbacks=[cb], storage=url)
    assert len([w for w in record if "callback" in str(w.message)]) == 1  # warned once
    assert sorted(calls) == list(range(6))  # still called for every trial
    assert _states(study) == [TrialState.COMPLETE] * 6
    assert _states(gb.storage.open_storage(url).load_study()) == [TrialState.COMPLETE] * 6


def test_timeout_stops_new_trials():
    t0 = time.monotonic()
    study = optimize(sleepy, SPACE, 100, timeout=1.0, seed=0, progress=False, options=FAST)
    assert 1 <= len(study.trials) < 10 and time.monotonic() - t0 < 5


def test_register_backend():
    class CountingBackend(ThreadBackend):
        submitted = 0

        def submit(self, task):
            type(self).submitted += 1
            super().submit(task)

    register_backend("counting", CountingBackend)
    try:
        study = optimize(quad, SPACE, 4, backend="counting", n_workers=2, seed=0, progress=False,
                         options=FAST)
        assert len(study.trials) == 4 and CountingBackend.submitted == 4
    finally:
        BACKENDS.pop("counting")
    with pytest.raises(TypeError, match="lacks"):
        register_backend("broken", object)


def test_resume_continues_to_n_trials(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    first = optimize(raise_high, SPACE, 5, storage=url, study_name="st", seed=0, progress=False,
                     options=FAST)
    second = optimize(raise_high, SPACE, 8, storage=url, study_name="st", seed=0, progress=False,
                      options=FAST)
    assert len(second.trials) == 8
    for a, b in zip(first.trials, second.trials[:5]):
        assert (a.number, a.params, a.value, a.state) == (b.number, b.params, b.value, b.state)
    keys = [tuple(t.params.values()) for t in second.trials]
    assert len(set(keys)) == 8  # resumed trials (failed ones too) are not proposed again
    again = optimize(raise_high, SPACE, 8, storage=url, study_name="st", progress=False, options=FAST)
    assert len(again.trials) == 8  # already complete: nothing runs
    df = again.to_dataframe()
    assert len(df) == 8 and set(df["state"]) == {"COMPLETE", "FAILED"}
    with pytest.raises(gb.StorageError, match="direction"):
        optimize(quad, SPACE, 9, storage=url, study_name="st", direction="maximize", progress=False)


def test_resumed_tuple_choices_come_back_as_tuples(tmp_path):
    # issue 15.3: storage keeps params as JSON, where a tuple choice is a list
    space = {"layers": gb.Categorical([(64,), (64, 32), (128, 64, 32)]), "x": (0.0, 1.0)}

    def f(p):
        return p["x"] + len(p["layers"])

    url = f"sqlite:///{tmp_path / 't.db'}"
    optimize(f, space, 4, storage=url, study_name="t", seed=0, progress=False, options=FAST)
    again = optimize(f, space, 6, storage=url, study_name="t", seed=0, progress=False, options=FAST)
    assert len(again.trials) == 6
    assert all(type(t.params["layers"]) is tuple for t in again.trials), [t.params for t in again.trials]


def _pruned_objective(trial):
    # a learning curve: value(step) = final + 1 / (step + 1); bad x -> high final value
    final = quad(trial.params) * 10
    for step in range(8):
        trial.report(step, final + 1.0 / (step + 1))
        if trial.should_prune():
            raise gb.TrialPruned()
    return final + 1.0 / 8


@pytest.mark.parametrize("backend", ["serial", "process"])
def test_median_pruner_prunes_bad_trials(backend):
    study = optimize(_pruned_objective, SPACE, 16, seed=0, progress=False, options=FAST,
                     backend=backend, n_workers=1 if backend == "serial" else 2,
                     pruner=MedianPruner(n_startup_trials=3, n_warmup_steps=1))
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert pruned and len(done) >= 3
    for t in pruned:
        assert t.value == t.intermediate[max(t.intermediate)] and max(t.intermediate) <= 7
    # the pruner compares with the trials finished when it is asked (issue 18: decided in the
    # driver), so with 2 workers a trial may first look bad at its last step; most stop earlier
    assert min(max(t.intermediate) for t in pruned) < 7
    # pruned trials are clearly worse than the median of the finished ones
    med = sorted(t.value for t in done)[len(done) // 2]
    assert min(quad(t.params) for t in pruned) * 10 > min(quad(t.params) for t in done) * 10
    assert sum(t.value > med for t in pruned) >= len(pruned) / 2
    assert study.best_trial.state == TrialState.COMPLETE


def test_trial_device_is_given():
    devices = []

    def obj(trial):
        devices.append(trial.device)
        return quad(trial.params)

    optimize(obj, SPACE, 2, seed=0, progress=False, options=FAST, device="cpu")
    assert [d.type for d in devices] == ["cpu", "cpu"]


def _sleep_long(p):
    time.sleep(1.5 if p["x"] > 0.5 else 0.0)
    return quad(p)


def test_serial_timeout_outside_main_thread_fails_late_trials():
    # no SIGALRM off the main thread: the overrun is detected when the trial returns
    box = {}
    th = threading.Thread(target=lambda: box.update(study=optimize(
        _sleep_long, SPACE, 4, trial_timeout=0.7, seed=1, progress=False, options=FAST)))
    th.start()
    th.join(60)
    study = box["study"]
    for t in study.trials:
        if t.params["x"] > 0.5:
            assert t.state == TrialState.FAILED and "trial_timeout" in t.error
        else:
            assert t.state == TrialState.COMPLETE
    assert any(t.params["x"] > 0.5 for t in study.trials)


@pytest.mark.parametrize("prefetch", [False, True])
def test_prefetch_asks_while_every_worker_is_busy(prefetch, monkeypatch):
    from gpu_bo.optimizer import Optimizer

    lock, running, seen = threading.Lock(), [0], []

    def obj(p):
        with lock:
            running[0] += 1
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return quad(p)

    orig = Optimizer.ask

    def ask(self, n=None):
        with lock:
            seen.append(running[0])
        return orig(self, n)

    monkeypatch.setattr(Optimizer, "ask", ask)
    study = optimize(obj, SPACE, 7, backend="thread", n_workers=2, seed=0, progress=False,
                     options=RunOptions(n_initial=100, prefetch=prefetch))
    keys = [tuple(t.params.values()) for t in study.trials]
    assert len(study.trials) == 7 and len(set(keys)) == 7
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert (max(seen) == 2) == prefetch  # only prefetch asks while both workers are busy


def exit_high(p):
    if p["x"] > 0.5:
        raise SystemExit(4)
    return quad(p)


@pytest.mark.parametrize("backend", PARALLEL)
def test_system_exit_in_a_worker_is_a_failed_trial(backend):
    study = optimize(exit_high, SPACE, 6, backend=backend, n_workers=2, seed=1, progress=False,
                     options=FAST)
    _check_failed_split(study, 6, "SystemExit")


def swallow_exception(p):
    try:
        time.sleep(30)
    except Exception:  # noqa: BLE001 - what a careless objective does
        pass
    return 1.0


def swallow_everything(p):
    try:
        time.sleep(30)
    except BaseException:  # noqa: BLE001 - even this cannot make an overrun trial COMPLETE
        pass
    return 1.0


@pytest.mark.parametrize("objective", [swallow_exception, swallow_everything])
def test_serial_trial_timeout_cannot_be_swallowed(objective):
    t0 = time.monotonic()
    study = optimize(objective, SPACE, 2, trial_timeout=0.3, seed=0, progress=False, options=FAST)
    assert _states(study) == [TrialState.FAILED] * 2
    assert all("trial_timeout" in t.error for t in study.trials)
    assert time.monotonic() - t0 < 20  # nobody waited the 30 s sleep


def huge_high(p):
    return 10**400 if p["x"] > 0.5 else quad(p)


def sys_exit_high(p):
    if p["x"] > 0.5:
        import sys

        sys.exit()
    return quad(p)


def str_high(p):
    return "0.25" if p["x"] > 0.5 else quad(p)  # a number printed by mistake (issue 15.9)


@pytest.mark.parametrize("backend", ["serial", *PARALLEL])
@pytest.mark.parametrize("objective, err", [(huge_high, "expected a finite number"), (sys_exit_high, "SystemExit"),
                                            (str_high, "expected a finite number")])
def test_an_oversized_int_or_sys_exit_is_one_failed_trial(backend, objective, err):
    study = optimize(objective, SPACE, 6, backend=backend, n_workers=1 if backend == "serial" else 2,
                     seed=1, progress=False, options=FAST)
    _check_failed_split(study, 6, err)


@pytest.mark.parametrize("label", ["trial_timeout", "timeout"])
@pytest.mark.parametrize("bad", [math.inf, 1e10])
def test_an_endless_or_oversized_timeout_is_refused_before_the_study_starts(tmp_path, label, bad):
    url = f"sqlite:///{tmp_path / 't.db'}"
    with pytest.raises(ValueError, match=rf"{label}: got {bad!r}.*(seconds|None)"):
        optimize(quad, SPACE, 2, progress=False, options=FAST, storage=url, **{label: bad})
    assert not (tmp_path / "t.db").exists() or not gb.storage.open_storage(url).list_studies()


def test_a_bogus_start_method_names_the_parameter_and_starts_nothing(tmp_path):
    from gpu_bo.backends import BackendOptions, ProcessBackend

    with pytest.raises(ValueError, match=r"start_method: got 'bogus'.*fork"):
        RunOptions(n_initial=10, start_method="bogus")
    with pytest.raises(ValueError, match=r"start_method: got 'bogus'.*fork"):
        ProcessBackend(quad, 1, BackendOptions(start_method="bogus"))
    url = f"sqlite:///{tmp_path / 's.db'}"
    bogus = RunOptions(n_initial=10)
    object.__setattr__(bogus, "start_method", "bogus")  # past the dataclass check: the backend's
    with pytest.raises(ValueError, match=r"start_method: got 'bogus'.*fork"):
        optimize(quad, SPACE, 2, backend="process", progress=False, storage=url, options=bogus)
    assert not (tmp_path / "s.db").exists() or not gb.storage.open_storage(url).list_studies()


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan, "1", True])
def test_a_bad_sync_interval_is_refused(bad):
    with pytest.raises(ValueError, match=r"sync_interval: got"):
        RunOptions(sync_interval=bad)


def test_numpy_integers_are_valid_counts():
    import numpy as np

    study = optimize(quad, SPACE, np.int64(3), backend="thread", n_workers=np.int32(2), seed=np.int64(0),
                     progress=False, options=FAST)
    assert len(study.trials) == 3 and all(t.state == TrialState.COMPLETE for t in study.trials)
    with pytest.raises(ValueError, match=r"n_trials: got .*0.*expected an int >= 1"):
        optimize(quad, SPACE, np.int64(0), progress=False)


def test_an_empty_study_name_is_an_error():
    with pytest.raises(ValueError, match="study_name: got ''"):
        optimize(quad, SPACE, 2, study_name="", progress=False, options=FAST)
    with pytest.raises(TypeError, match="study_name: got 3"):
        optimize(quad, SPACE, 2, study_name=3, progress=False, options=FAST)


def test_the_progress_bar_shows_the_best_value_of_the_trial_that_set_it(capsys):
    values = iter([5.0, 4.0, 3.0, 2.0])

    def improving(p):
        time.sleep(0.15)  # past tqdm's 0.1 s refresh interval: every update is drawn
        return next(values)

    optimize(improving, SPACE, 4, seed=0, progress=True, options=FAST)
    frames = [f for f in capsys.readouterr().err.replace("\n", "\r").split("\r") if "/4" in f]
    seen = {}
    for f in frames:
        done = int(f.split("/4")[0].split()[-1])
        best = f.split("best=")[1].split(",")[0].split("]")[0].strip() if "best=" in f else "-"
        seen.setdefault(done, set()).add(best)
    assert seen.get(0, {"-"}) <= {"-"}
    for done in range(1, 5):  # after trial k the bar shows the best of the first k trials
        assert seen[done] == {f"{6.0 - done:.6g}"}, (done, seen)


def test_ten_points_four_workers_evaluate_all_ten_without_a_stopping_warning():
    import warnings

    space = gb.Space({"k": gb.Integer(0, 9)})
    with warnings.catch_warnings():
        warnings.simplefilter("error", gb.GpuBoWarning)
        study = optimize(lambda p: float((p["k"] - 3) ** 2), space, 10, backend="thread", n_workers=4,
                         seed=0, progress=False, options=RunOptions(n_initial=4))
    assert sorted(t.params["k"] for t in study.trials) == list(range(10))
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


def test_an_exhausted_space_finishes_every_point_then_stops_with_one_warning():
    space = gb.Space({"k": gb.Integer(0, 9)})
    with pytest.warns(gb.GpuBoWarning, match="stopping") as record:
        study = optimize(lambda p: float((p["k"] - 3) ** 2), space, 25, backend="thread", n_workers=4,
                         seed=0, progress=False, options=RunOptions(n_initial=4))
    assert sorted(t.params["k"] for t in study.trials) == list(range(10))
    assert len([w for w in record if "stopping" in str(w.message)]) == 1
