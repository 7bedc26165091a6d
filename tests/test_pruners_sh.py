"""Successive halving (ASHA) and Hyperband (gpu_bo/pruners.py), the driver-side pruning service
(gpu_bo/pruning.py and its transports in gpu_bo/backends/), and the resource accounting."""

from __future__ import annotations

import math
import pickle
import random
import time
from pathlib import Path

import pytest

import gpu_bo as gb
from gpu_bo.exceptions import TrialPruned
from gpu_bo.progress import ProgressBar
from gpu_bo.pruners import HyperbandPruner, MedianPruner, SuccessiveHalvingPruner
from gpu_bo.pruning import LocalPruning
from gpu_bo.study import Study, Trial, TrialState

# -- decisions against hand-computed rungs ----------------------------------------------------
# SH(min_resource=1, eta=3): rungs at steps 1, 3, 9. Each line: (trial, step, value, stops?).
# rung 0 (step 1): 0.5 alone -> continues; 0.7 vs {0.5} -> rank 1 of 2, fewer than eta values:
# only the best continues -> stops; 0.3 best of 3 (top 1/3 = rank 0) -> continues; 0.4 of 4
# (top 1) -> stops; 0.35 of 5 (top 1) -> stops; 0.2 of 6 (top 2: 0.2, 0.3) -> continues.
# rung 1 (step 3): 0.45 alone -> continues, before rung 0 has more than 4 values (never waits
# for a full rung); 0.25 vs {0.45} best -> continues; 0.3 vs {0.45, 0.25} -> stops.
SH_SEQUENCE = [(0, 1, 0.5, False), (1, 1, 0.7, True), (2, 1, 0.3, False), (3, 1, 0.4, True),
               (0, 3, 0.45, False), (4, 1, 0.35, True), (5, 1, 0.2, False), (2, 3, 0.25, False),
               (5, 3, 0.3, True)]


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_successive_halving_decisions_on_fixed_curves(direction):
    sign = 1.0 if direction == "minimize" else -1.0  # maximize: the same curves, negated
    svc = LocalPruning(SuccessiveHalvingPruner(min_resource=1, reduction_factor=3), direction)
    for number, step, value, stops in SH_SEQUENCE:
        svc.report(number, step, sign * value)
        assert svc.should_prune(number) is stops, (number, step, value)
    rungs = svc.board.rungs
    assert sorted(rungs[(0, 0)]) == [0, 1, 2, 3, 4, 5] and sorted(rungs[(0, 1)]) == [0, 2, 5]
    svc.report(2, 9, sign * 0.1)  # rung 2 (step 9): alone -> continues
    assert not svc.should_prune(2) and rungs[(0, 2)] == {2: sign * 0.1}
    svc.report(1, 3, sign * 0.01)  # a stopped trial that goes on stays stopped
    assert svc.should_prune(1)


def test_asynchronous_promotion_never_waits_for_a_full_rung():
    # eta = 3: a synchronous rung of 9 would decide only when 9 trials reported; ASHA lets the
    # first trial through each rung at once, alone, while the others have not reported yet
    svc = LocalPruning(SuccessiveHalvingPruner(1, 3), "minimize")
    for step in (1, 3, 9, 27):
        svc.report(0, step, 1.0 / step)
        assert not svc.should_prune(0)
    assert all(len(r) == 1 for r in svc.board.rungs.values()) and len(svc.board.rungs) == 4
    svc.report(1, 1, 2.0)  # a later, worse trial is stopped by the one value at rung 0
    assert svc.should_prune(1)


def test_top_third_of_a_rung_continues_and_steps_between_rungs_decide_nothing():
    svc = LocalPruning(SuccessiveHalvingPruner(min_resource=2, reduction_factor=3), "minimize")
    svc.report(0, 1, 99.0)  # step 1 < first rung (2): nothing recorded, nothing decided
    assert not svc.should_prune(0) and not svc.board.rungs
    values = [5.0, 4.0, 3.0, 2.0, 1.0, 6.0, 7.0, 8.0, 9.0]  # arrival order at rung 0 (step 2)
    stops = []
    for i, v in enumerate(values):
        svc.report(i, 2, v)
        stops.append(svc.should_prune(i))
    # 5 alone; 4 best of 2; 3 best of 3; 2 best of 4 (top 1); 1 best of 5; 6 (6 values: top 2
    # = 1, 2) stops; 7 stops; 8 stops; 9 (9 values: top 3) stops
    assert stops == [False, False, False, False, False, True, True, True, True]
    svc.report(9, 2, 3.0)  # 10 values, top 3 = {1, 2, 3}: a tie with the third continues
    assert not svc.should_prune(9)


def test_min_early_stopping_rate_nan_and_a_jump_past_several_rungs():
    sh = SuccessiveHalvingPruner(min_resource=1, reduction_factor=2, min_early_stopping_rate=1)
    assert [sh.rung_step(k) for k in range(3)] == [2, 4, 8]
    svc = LocalPruning(sh, "minimize")
    svc.report(0, 1, 0.0)
    assert not svc.board.rungs  # the rung at step 1 is skipped
    svc.report(0, 8, 0.5)  # first report past three rungs: recorded at each
    assert {k for k, r in svc.board.rungs.items() if 0 in r} == {(0, 0), (0, 1), (0, 2)}
    svc.report(1, 2, math.nan)
    assert svc.should_prune(1) and 1 not in svc.board.rungs[(0, 0)]
    svc.report(2, 8, 0.9)  # a jump that is stopped at the first rung: recorded there only
    assert svc.should_prune(2) and {k for k, r in svc.board.rungs.items() if 2 in r} == {(0, 0)}
    svc.report(2, 9, 0.8)  # it went on anyway: the next report goes one rung further (0.8 > 0.5)
    assert {k for k, r in svc.board.rungs.items() if 2 in r} == {(0, 0), (0, 1)}
    for bad in ({"min_resource": 0}, {"reduction_factor": 1}, {"min_early_stopping_rate": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            SuccessiveHalvingPruner(**bad)


def test_hyperband_brackets_and_budgets():
    hb = HyperbandPruner(min_resource=1, max_resource=81, reduction_factor=3)
    # floor(log3(81)) + 1 = 5 brackets; budget ceil(5 * 3**s / (s + 1)), s = 4 - b
    assert hb.n_brackets == 5 and hb.budgets == [81, 34, 15, 8, 5]
    assert HyperbandPruner(1, 9, 3).budgets == [9, 5, 3]
    assert HyperbandPruner(2, 17, 2).n_brackets == 4  # 2, 4, 8, 16 <= 17 < 32
    assert [hb.bracket_pruner(b).rung_step(0) for b in range(5)] == [1, 3, 9, 27, 81]
    counts = [0] * 5
    for n in range(14300):
        counts[hb.bracket("study", n)] += 1
    for b, share in enumerate(hb.budgets):  # a hash of the number: shares near the budgets
        assert abs(counts[b] / 14300 - share / 143) < 0.02, (b, counts)
    assert [hb.bracket("s", n) for n in range(50)] == [hb.bracket("s", n) for n in range(50)]
    assert [hb.bracket("s", n) for n in range(50)] != [hb.bracket("t", n) for n in range(50)]
    with pytest.raises(ValueError, match="max_resource"):
        HyperbandPruner(min_resource=4, max_resource=3)


def test_hyperband_compares_each_bracket_only_with_itself():
    hb = HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3)
    by = {b: [n for n in range(200) if hb.bracket("hb", n) == b][:3] for b in range(3)}
    a0, c0, _ = by[0]
    b1, d1, _ = by[1]
    svc = LocalPruning(hb, "minimize", "hb")
    svc.report(a0, 1, 0.1)  # bracket 0's first rung is at step 1
    svc.report(b1, 1, 0.9)  # bracket 1's first rung is at step 3: nothing recorded yet
    assert not svc.should_prune(a0) and not svc.should_prune(b1)
    svc.report(c0, 1, 0.5)  # worse than a0 in its own bracket
    assert svc.should_prune(c0)
    svc.report(b1, 3, 0.9)  # alone in bracket 1's rung: continues although worse than a0
    assert not svc.should_prune(b1)
    svc.report(d1, 3, 0.95)
    assert svc.should_prune(d1)
    assert set(svc.board.rungs) == {(0, 0), (1, 0)}


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_same_decisions_as_optuna_on_random_interleaved_curves(direction):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = random.Random(0 if direction == "minimize" else 1)
    for ours, theirs in [(SuccessiveHalvingPruner(1, 3, 0), optuna.pruners.SuccessiveHalvingPruner(1, 3, 0)),
                         (SuccessiveHalvingPruner(2, 2, 1), optuna.pruners.SuccessiveHalvingPruner(2, 2, 1)),
                         (HyperbandPruner(1, 27, 3), optuna.pruners.HyperbandPruner(1, 27, 3))]:
        study = optuna.create_study(study_name="cmp", pruner=theirs, direction=direction)
        svc = LocalPruning(ours, direction, "cmp")
        trials = [study.ask() for _ in range(40)]
        steps = dict.fromkeys(range(40), 0)
        live = list(range(40))
        while live:  # report in a random interleaved order; a pruned trial stops reporting
            n = rng.choice(live)
            steps[n] += rng.choice([1, 1, 2, 5])  # 5: a jump past rungs
            v = rng.random() / steps[n]
            trials[n].report(v, steps[n])
            svc.report(n, steps[n], v)
            theirs_says = trials[n].should_prune()
            assert svc.should_prune(n) == theirs_says, (type(ours).__name__, n, steps[n])
            if theirs_says or steps[n] >= 27:
                live.remove(n)


def test_snapshot_form_replays_the_finished_trials():
    sh = SuccessiveHalvingPruner(1, 3)
    others = [{1: 0.1}, {1: 0.2}]
    assert sh.should_prune({1: 0.5}, others, "minimize")
    assert not sh.should_prune({1: 0.05}, others, "minimize")
    assert not sh.should_prune({1: 0.5}, others, "maximize")


def test_median_pruner_through_the_service_uses_the_finished_trials_so_far():
    svc = LocalPruning(MedianPruner(n_startup_trials=2), "minimize")
    for n, v in enumerate([1.0, 2.0]):
        svc.report(n, 0, v)
    svc.report(2, 0, 5.0)
    assert not svc.should_prune(2)  # 0 and 1 still run: no finished trial yet
    svc.finish(0, {0: 1.0})
    svc.finish(1, {0: 2.0})
    assert svc.should_prune(2)  # median 1.5 < 5
    copy = pickle.loads(pickle.dumps(svc))  # a backend without a transport gets a working copy
    assert copy.should_prune(2) and copy.board.values == svc.board.values


def test_finish_replays_a_resumed_trials_values_in_step_order():
    svc = LocalPruning(SuccessiveHalvingPruner(1, 3), "minimize")
    svc.finish(0, {3: 0.2, 1: 0.4})  # from storage: never reported to this board
    assert svc.board.rungs == {(0, 0): {0: 0.4}, (0, 1): {0: 0.2}} and 0 in svc.board.finished
    svc.report(1, 1, 0.5)
    assert svc.should_prune(1)


# -- through the backends: a running trial's report decides another trial -------------------
class TwoTrials:
    """Trial 0 reports a good value at rung 0 and keeps running until trial 1 has asked; trial
    1 reports a worse value and is stopped only if trial 0's report, still running, counts.
    A third trial (a resumed run) reports a middling value. Files synchronize the trials, so it
    works in threads, processes and Ray workers alike."""

    wants_trial = True

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def _wait(self, name: str) -> None:
        end = time.monotonic() + 60
        while not (self.folder / name).exists():
            if time.monotonic() > end:
                raise TimeoutError(name)
            time.sleep(0.02)

    def __call__(self, trial) -> float:
        if trial.number == 0:
            trial.report(1, 0.1)
            trial.should_prune()  # a barrier: a report may arrive late, a later should_prune sees it
            (self.folder / "a").touch()
            self._wait("b")
            trial.report(3, 0.05)
            return 0.05
        if trial.number == 1:
            self._wait("a")
        trial.report(1, 0.9 if trial.number == 1 else 0.5)
        stop = trial.should_prune()
        (self.folder / "b").touch()
        if stop:
            raise TrialPruned()
        trial.report(3, 0.4)
        return 0.4


SPACE = {"x": (0.0, 1.0)}


def _check_two(study: Study, total: int = 4) -> None:
    t0, t1 = study.trials[:2]
    assert (t0.state, t0.value, t0.intermediate) == (TrialState.COMPLETE, 0.05, {1: 0.1, 3: 0.05})
    assert (t1.state, t1.value, t1.intermediate) == (TrialState.PRUNED, 0.9, {1: 0.9})
    assert (t0.resource, t1.resource) == (3, 1) and study.resource_used == total


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_pruning_reaches_the_driver_from_running_trials(tmp_path, backend):
    study = gb.optimize(TwoTrials(str(tmp_path)), SPACE, n_trials=2, n_workers=2, backend=backend,
                        pruner=SuccessiveHalvingPruner(1, 3), seed=0, progress=False)
    _check_two(study)


def test_pruned_trial_is_stored_in_sqlite_and_the_board_resumes(tmp_path):
    from gpu_bo.storage import open_storage

    url = f"sqlite:///{tmp_path / 'study.db'}"
    args = dict(n_workers=2, backend="thread", pruner=SuccessiveHalvingPruner(1, 3), seed=0,
                progress=False, storage=url, study_name="sh")
    gb.optimize(TwoTrials(str(tmp_path)), SPACE, n_trials=2, **args)
    store = open_storage(url)
    try:
        _check_two(store.load_study("sh"))
    finally:
        store.close()
    # resumed: trial 2's 0.5 at rung 0 meets the stored 0.1 and 0.9 -> rank 1 of 3 -> stopped
    study = gb.optimize(TwoTrials(str(tmp_path)), SPACE, n_trials=3, **args)
    _check_two(study, total=5)
    t2 = study.trials[2]
    assert (t2.state, t2.value, t2.intermediate, t2.resource) == (TrialState.PRUNED, 0.5, {1: 0.5}, 1)


@pytest.mark.slow  # starts a local Ray (as tests/test_ray.py, skipped without Ray)
def test_ray_backend_prunes_from_the_driver_board(tmp_path):
    ray = pytest.importorskip("ray")
    pytest.importorskip("gpu_bo.backends.ray")
    import sys

    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this file
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        study = gb.optimize(TwoTrials(str(tmp_path)), SPACE, n_trials=2, n_workers=2, backend="ray",
                            pruner=SuccessiveHalvingPruner(1, 3), seed=0, progress=False)
        _check_two(study)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        if started:
            ray.shutdown()


# -- resource accounting ----------------------------------------------------------------------
def test_resource_per_trial_and_in_total_in_study_bar_and_show(tmp_path, capsys):
    trials = [Trial(0, {"x": 1}, 0.3, TrialState.COMPLETE, intermediate={1: 0.5, 9: 0.3}),
              Trial(1, {"x": 2}, 0.6, TrialState.PRUNED, intermediate={1: 0.7, 3: 0.6}),
              Trial(2, {"x": 3}, 0.2, TrialState.COMPLETE)]  # reported nothing: no resource
    study = Study("minimize", trials, name="r")
    assert [t.resource for t in trials] == [9, 3, None] and study.resource_used == 12
    bar = ProgressBar(3, 0, "r")
    bar.show_study(study, trials)
    assert bar._bar.postfix and "resource=12" in bar._bar.postfix
    bar.close()
    from gpu_bo.cli import main
    from gpu_bo.storage import open_storage

    url = f"sqlite:///{tmp_path / 'r.db'}"
    gb.optimize(TwoTrials(str(tmp_path)), SPACE, n_trials=2, n_workers=2, backend="thread",
                pruner=SuccessiveHalvingPruner(1, 3), seed=0, progress=False, storage=url, study_name="r")
    capsys.readouterr()
    assert main(["show", url]) == 0
    assert "resource used: 4" in capsys.readouterr().out
    open_storage(url).close()
