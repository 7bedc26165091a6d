"""Tests of GpuBoSearch with several metrics (one mode each) and outcome constraints: the argument
checks, what is told to the optimizer, the state round-trip, and one small Tuner run."""

from __future__ import annotations

import sys

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.tune")
pytest.importorskip("torch")

from ray import tune  # noqa: E402

_report = getattr(tune, "report", None) or ray.train.report
_RunConfig = getattr(tune, "RunConfig", None) or ray.train.RunConfig

from gpu_bo.integrations.ray_tune import GpuBoSearch  # noqa: E402
from gpu_bo.study import TrialState  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::gpu_bo.exceptions.GpuBoWarning")

SPACE = {"x": (0.0, 1.0), "y": (0.0, 1.0)}


def _result(p):
    return {"acc": 1.0 - (p["x"] - 0.6) ** 2, "latency": 0.1 + p["x"] + 0.2 * p["y"], "mem_over": p["y"] - 0.8}


def test_several_metrics_map_to_directions_and_constraints_are_told():
    s = GpuBoSearch(SPACE, metric=["acc", "latency"], mode=["max", "min"], constraints=["mem_over"], seed=0)
    for i in range(6):
        cfg = s.suggest(str(i))
        s.on_trial_complete(str(i), _result(cfg))
    opt = s.optimizer
    assert opt.directions == ["maximize", "minimize"] and opt.n_constraints == 1
    for t in opt.trials:
        r = _result(t.params)
        assert t.state == TrialState.COMPLETE
        assert t.values == pytest.approx([r["acc"], r["latency"]])
        assert t.constraints == pytest.approx([r["mem_over"]])
    assert opt.pareto and all(p["constraints"][0] <= 0 for p in opt.pareto)


def test_a_missing_or_nan_metric_or_constraint_fails_the_trial_naming_the_key():
    s = GpuBoSearch(SPACE, metric=["acc", "latency"], mode=["max", "min"], constraints=["mem_over"], seed=0)
    results = {"a": {"acc": 0.9, "mem_over": -1.0}, "b": {"acc": 0.9, "latency": float("nan"), "mem_over": -1.0},
               "c": {"acc": 0.9, "latency": 0.2}, "d": {"acc": 0.9, "latency": 0.2, "mem_over": 0.5}}
    for tid in results:
        s.suggest(tid)
    for tid, r in results.items():
        s.on_trial_complete(tid, r)
    a, b, c, d = s.optimizer.trials
    assert a.state == b.state == c.state == TrialState.FAILED
    assert "result['latency']" in a.error and "result['latency']" in b.error and "result['mem_over']" in c.error
    assert d.state == TrialState.COMPLETE and not d.feasible


def test_metric_and_mode_errors():
    with pytest.raises(ValueError, match="one mode per metric"):
        GpuBoSearch(SPACE, metric=["acc", "latency"], mode=["max"])
    with pytest.raises(ValueError, match="a list of modes with a list of metrics"):
        GpuBoSearch(SPACE, metric=["acc", "latency"], mode="max")
    with pytest.raises(ValueError, match="mode: got"):
        GpuBoSearch(SPACE, metric=["acc", "latency"], mode=["max", "down"])
    with pytest.raises(ValueError, match="distinct"):
        GpuBoSearch(SPACE, metric=["acc", "acc"], mode=["max", "max"])
    with pytest.raises(TypeError, match="constraints: got"):
        GpuBoSearch(SPACE, metric="acc", mode="max", constraints="mem_over")
    with pytest.raises(ValueError, match="directions"):
        GpuBoSearch(SPACE, metric="acc", mode="max", optimizer_options={"directions": ["minimize"]})


def test_state_round_trip_keeps_metrics_and_constraints():
    s = GpuBoSearch(SPACE, metric=["acc", "latency"], mode=["max", "min"], constraints=["mem_over"], seed=0)
    for i in range(3):
        s.on_trial_complete(str(i), _result(s.suggest(str(i))))
    fresh = GpuBoSearch()
    fresh.set_state(s.get_state())
    assert fresh.optimizer.directions == ["maximize", "minimize"] and fresh.optimizer.n_constraints == 1
    fresh.on_trial_complete("3", _result(fresh.suggest("3")))
    assert len(fresh.optimizer.trials) == 4 and fresh.optimizer.trials[-1].constraints is not None


def _trainable(config):
    _report(_result(config))


def test_tuner_runs_a_multi_objective_search(tmp_path):
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        searcher = GpuBoSearch(metric=["acc", "latency"], mode=["max", "min"], constraints=["mem_over"], seed=0)
        tuner = tune.Tuner(
            _trainable,
            param_space={"x": tune.uniform(0.0, 1.0), "y": tune.uniform(0.0, 1.0)},
            tune_config=tune.TuneConfig(search_alg=searcher, num_samples=6, max_concurrent_trials=2),
            run_config=_RunConfig(storage_path=str(tmp_path), name="mo", verbose=0),
        )
        results = tuner.fit()
    finally:
        if started:
            ray.shutdown()
    assert len(results) == 6 and not results.errors
    trials = searcher.optimizer.trials
    assert len(trials) == 6 and all(t.state == TrialState.COMPLETE and len(t.values) == 2 for t in trials)
    assert searcher.optimizer.pareto
