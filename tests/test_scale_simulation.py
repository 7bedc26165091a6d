"""The scale simulation's accounting (issue 18.5): benchmarks/sim_backend.py and
benchmarks/scale_simulation.py on tiny runs."""

from __future__ import annotations

import pytest

import gpu_bo as gb
from benchmarks import scale_simulation as sim
from benchmarks.sim_backend import SimBackend, SimStats, sim_sleep
from gpu_bo.backends import BackendOptions
from gpu_bo.objectives import TrialTask


def test_zero_cost_driver_gives_full_utilization_and_the_ideal_wall(tmp_path):
    # 12 trials of exactly 60 s on 3 workers, a driver that costs nothing: 4 rounds of 60 s
    r = sim.run_gpu_bo(12, 3, 0, tmp_path, random=True, charge_driver=False, fixed=60.0)
    assert r["utilization"] == pytest.approx(1.0, abs=1e-12)
    assert r["wall"] == pytest.approx(240.0, abs=1e-9)
    assert r["wall"] == pytest.approx(r["ideal_wall"], abs=1e-9)
    assert r["busy"] == pytest.approx(12 * 60.0, abs=1e-9)
    assert r["no_lost_or_duplicate"], r["check"]
    assert r["check"]["stored"] == r["check"]["distinct_numbers"] == r["check"]["distinct_params"] == 12


def test_busy_time_is_the_sum_of_the_drawn_durations(tmp_path):
    r = sim.run_gpu_bo(10, 4, 3, tmp_path, random=True, charge_driver=False)
    assert r["busy"] == pytest.approx(sum(sim.duration(3, k) for k in range(10)), rel=1e-12)
    assert r["wall"] >= r["busy"] / 4 - 1e-9  # a zero-cost driver can only lose the tail
    assert r["utilization"] <= 1.0 + 1e-12
    assert r["no_lost_or_duplicate"]


def test_a_charged_driver_never_raises_utilization_above_one(tmp_path):
    r = sim.run_gpu_bo(8, 2, 0, tmp_path, fixed=60.0)
    assert 0.0 < r["utilization"] <= 1.0
    assert r["wall"] >= 240.0  # 4 rounds of 60 s plus whatever the driver took
    assert r["driver_seconds"] > 0.0
    assert r["no_lost_or_duplicate"]


def test_pruned_trials_are_counted_once_and_stop_early(tmp_path):
    r = sim.run_gpu_bo(12, 3, 1, tmp_path, random=True, charge_driver=False, fixed=27.0,
                       pruner=gb.HyperbandPruner(min_resource=1, max_resource=sim.STEPS, reduction_factor=3))
    assert r["no_lost_or_duplicate"], r["check"]
    assert r["busy"] < 12 * 27.0  # some trial was pruned before its 27 steps
    assert r["busy"] == pytest.approx(round(r["busy"]), abs=1e-6)  # whole steps of 1 s each


def test_optuna_peer_runs_in_the_same_simulator(tmp_path):
    pytest.importorskip("optuna")
    r = sim.run_optuna(9, 3, 0, tmp_path, charge_driver=False)
    assert r["no_lost_or_duplicate"], r["check"]
    assert r["busy"] == pytest.approx(sum(sim.duration(0, k) for k in range(9)), rel=1e-12)


def test_backend_refuses_a_trial_submitted_twice_or_past_its_workers():
    def objective(trial):
        sim_sleep(5.0)
        return 1.0

    objective.wants_trial = True
    be = SimBackend(objective, 1, BackendOptions(backend_kwargs={"charge_driver": False, "stats": SimStats(1)}))
    be.start()
    be.submit(TrialTask(0, {}, pass_trial=True))
    with pytest.raises(RuntimeError, match="every one of 1 workers busy"):
        be.submit(TrialTask(1, {}, pass_trial=True))
    assert be.wait(1.0) == [] and be.clock == pytest.approx(1.0)  # the timeout passes virtually
    (res,) = be.wait(None)
    assert res.number == 0 and res.state == "COMPLETE" and be.clock == pytest.approx(5.0)
    with pytest.raises(RuntimeError, match="submitted twice"):
        be.submit(TrialTask(0, {}, pass_trial=True))


def test_sim_sleep_outside_a_simulated_trial_says_so():
    with pytest.raises(RuntimeError, match="outside a trial"):
        sim_sleep(1.0)


def test_publish_keeps_the_study_in_number_order_without_resorting_each_event():
    from gpu_bo.run_loop import Run
    from gpu_bo.study import Study, Trial

    run = Run.__new__(Run)  # only the bookkeeping _publish reads
    run.trials, run._n_published, run.study = {}, 0, Study(directions=("minimize",))
    for k in (0, 1, 2):
        run.trials[k] = Trial(number=k, params={})
    run._publish()
    assert [t.number for t in run.study.trials] == [0, 1, 2]
    run.trials[5] = Trial(number=5, params={})
    run.trials[3] = Trial(number=3, params={})  # another process's trial, seen late
    run._publish()
    assert [t.number for t in run.study.trials] == [0, 1, 2, 3, 5]
    newer = Trial(number=1, params={"x": 1})
    run.trials[1] = newer  # a synced copy replaces the old object
    run.trials[6] = Trial(number=6, params={})
    before = run.study.trials
    run._publish()
    assert [t.number for t in run.study.trials] == [0, 1, 2, 3, 5, 6]
    assert run.study.trials[1] is newer and before is not run.study.trials  # a new list each time


def test_prefetch_with_many_workers_loses_and_repeats_nothing(tmp_path):
    # 8 workers finishing together: the queue runs dry, the prefetch depth grows, every trial once
    r = sim.run_gpu_bo(40, 8, 2, tmp_path, random=True, charge_driver=False, fixed=10.0)
    assert r["no_lost_or_duplicate"], r["check"]
    assert r["utilization"] == pytest.approx(1.0, abs=1e-12) and r["wall"] == pytest.approx(50.0)
    qs = [q for _, q, _ in r["asks"]]
    assert sum(qs) == 40
    assert 2 in qs  # one point per prefetch (8, 1, 7, 1, 7, ...) left workers waiting: it asks 2 now


def test_zero_cost_wall_is_the_makespan_of_the_same_trials():
    st = SimStats(2, submitted=[0, 1, 2, 3], spans={0: 10.0, 1: 4.0, 2: 3.0, 3: 5.0})
    # worker A: 0 (0-10); worker B: 1 (0-4), 2 (4-7), 3 (7-12)
    assert st.zero_cost_wall() == pytest.approx(12.0)


def test_records_indexes_answer_as_the_scans_they_replace():
    # the driver's O(1) bookkeeping (issue 18.3): same trial picked, same pending order
    from gpu_bo.optimizer import Optimizer
    from gpu_bo.study import TrialState

    opt = Optimizer({"x": (0.0, 1.0)}, seed=0)
    rec = opt._records
    a, b, c = rec.add_running({"x": 0.5}), rec.add_running({"x": 0.25}), rec.add_running({"x": 0.5})
    opt.add_pending({"x": 0.75})
    assert opt.pending == [{"x": 0.5}, {"x": 0.25}, {"x": 0.5}, {"x": 0.75}]
    t = opt.tell({"x": 0.5}, 1.0)
    assert t is a and a.state == TrialState.COMPLETE and c.state == TrialState.RUNNING  # the first one
    opt.tell({"x": 0.75}, 2.0)  # the external pending point becomes a new trial
    assert opt.pending == [{"x": 0.25}, {"x": 0.5}]
    opt.remove_pending({"x": 0.5})
    assert [x.number for x in opt.trials] == [a.number, b.number, 3] and opt.pending == [{"x": 0.25}]
    opt.tell({"x": 0.25}, 0.5)
    assert [x.number for x in rec.completed()] == [0, 1, 3]  # by number, not by finishing order
    opt.load_state_dict(opt.state_dict())
    assert [x.number for x in opt._records.completed()] == [0, 1, 3] and opt.pending == []
