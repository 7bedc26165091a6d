"""Conditional Ray Tune param_spaces (issue 17.6): a tune.choice of dicts as a conditional Space.

The conversion tests need Ray Tune installed but no Ray runtime; one Tuner run at the end starts a
local Ray (2 CPUs), as tests/test_ray.py does.
"""

from __future__ import annotations

import pickle
import sys

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.tune")

from ray import tune  # noqa: E402

import gpu_bo as gb  # noqa: E402
from gpu_bo.integrations.ray_tune import GpuBoSearch, convert_tune_space  # noqa: E402
from gpu_bo.integrations.ray_tune_space import TuneSpace, convert  # noqa: E402

_report = getattr(tune, "report", None) or ray.train.report
_RunConfig = getattr(tune, "RunConfig", None) or ray.train.RunConfig


def cash_space() -> dict:
    return {
        "model": tune.choice([
            {"type": "svc", "C": tune.loguniform(1e-3, 1e3), "kernel": tune.choice(["rbf", "poly"])},
            {"type": "rf", "n": tune.randint(10, 500), "depth": tune.qrandint(2, 8), "bootstrap": True},
        ]),
        "lr": tune.uniform(0.0, 1.0),
        "epochs": 3,
    }


def loss(config: dict) -> float:
    m = config["model"]
    if m["type"] == "svc":
        return (config["lr"] - 0.3) ** 2 + (m["kernel"] == "poly") + abs(m["C"] - 1.0) / 1e3
    return 1.0 + (m["n"] - 100) ** 2 / 1e5 + config["lr"]


def test_choice_of_dicts_becomes_a_conditional_space():
    ts = convert(cash_space())
    d = ts.space.dims
    assert ts.space.conditional
    assert isinstance(d["model"], gb.Categorical) and d["model"].choices == ("svc", "rf")
    assert isinstance(d["model/svc/C"], gb.Real) and d["model/svc/C"].log
    assert d["model/svc/C"].when.to_dict() == {"model": ["svc"]}
    assert d["model/svc/kernel"].choices == ("rbf", "poly")
    assert (d["model/rf/n"].low, d["model/rf/n"].high) == (10, 499)  # randint: upper exclusive
    assert (d["model/rf/depth"].low, d["model/rf/depth"].high) == (2, 8)  # qrandint(q=1): inclusive
    assert d["model/rf/n"].when.to_dict() == {"model": ["rf"]} and d["lr"].when is None
    assert ts.paths["model/svc/C"] == ("model", "C")
    assert set(ts.space.active_names({"model": "rf"})) == {"model", "model/rf/n", "model/rf/depth", "lr"}
    cfg = ts.config({"model": "rf", "model/rf/n": 42, "model/rf/depth": 3, "lr": 0.5})
    assert cfg == {"model": {"type": "rf", "n": 42, "depth": 3, "bootstrap": True}, "lr": 0.5, "epochs": 3}
    # the (space, paths, constants) form of the flat conversion still holds
    space, paths, consts = convert_tune_space(cash_space())
    assert space.names == ts.space.names and paths["model/rf/n"] == ("model", "n")
    assert consts == {("epochs",): 3}


def test_options_without_a_type_key_are_indexed_and_constant_options_kept():
    ts = convert({"opt": tune.choice([{"lr": tune.loguniform(1e-4, 1e-1)},
                                      {"lr": tune.loguniform(1e-3, 1.0), "momentum": tune.uniform(0.0, 0.99)},
                                      None])})
    assert ts.space.dims["opt"].choices == (0, 1, 2)
    assert ts.space.dims["opt/1/momentum"].when.to_dict() == {"opt": [1]}
    assert ts.config({"opt": 2}) == {"opt": None}
    assert ts.config({"opt": 0, "opt/0/lr": 0.01}) == {"opt": {"lr": 0.01}}
    # duplicated "type" values cannot name the options: indices then
    dup = convert({"m": tune.choice([{"type": "a", "x": tune.uniform(0, 1)}, {"type": "a", "y": tune.uniform(0, 1)}])})
    assert dup.space.dims["m"].choices == (0, 1)


def test_nested_choices_nest_conditions():
    ts = convert({"model": tune.choice([
        {"type": "svc", "kernel": tune.choice([{"name": "rbf", "gamma": tune.loguniform(1e-4, 1.0)},
                                              {"name": "poly", "degree": tune.randint(2, 6)}])},
        {"type": "knn", "k": tune.randint(1, 30), "layers": [tune.randint(8, 64), 16]},
    ])})
    d = ts.space.dims
    assert d["model/svc/kernel"].when.to_dict() == {"model": ["svc"]}
    assert d["model/svc/kernel/poly/degree"].when.to_dict() == {"model/svc/kernel": ["poly"]}
    assert set(ts.space.active_names({"model": "svc", "model/svc/kernel": "poly"})) == {
        "model", "model/svc/kernel", "model/svc/kernel/poly/degree"}
    p = {"model": "svc", "model/svc/kernel": "poly", "model/svc/kernel/poly/degree": 3}
    assert ts.config(p) == {"model": {"type": "svc", "kernel": {"name": "poly", "degree": 3}}}
    q = {"model": "knn", "model/knn/k": 5, "model/knn/layers/0": 32}
    assert ts.config(q) == {"model": {"type": "knn", "k": 5, "layers": [32, 16]}}


def test_round_trips_over_many_samples():
    ts = convert(cash_space())
    assert gb.Space.from_dict(ts.space.to_dict()).to_dict() == ts.space.to_dict()
    seen = set()
    for params in ts.space.sample_params(64, seed=0):
        ts.space.validate(params)  # exactly the active parameters
        cfg = ts.config(params)
        m = cfg["model"]
        seen.add(m["type"])
        if m["type"] == "svc":
            assert set(m) == {"type", "C", "kernel"} and 1e-3 <= m["C"] <= 1e3
        else:
            assert set(m) == {"type", "n", "depth", "bootstrap"} and 10 <= m["n"] <= 499
        assert 0.0 <= cfg["lr"] <= 1.0 and cfg["epochs"] == 3
    assert seen == {"svc", "rf"}
    state = pickle.loads(pickle.dumps(ts))
    assert isinstance(state, TuneSpace) and state.config({"model": "svc", "model/svc/C": 1.0,
                                                         "model/svc/kernel": "rbf", "lr": 0.1})["model"]["C"] == 1.0


@pytest.mark.parametrize("bad, key", [
    ({"m": tune.choice([{"type": "a", "x": tune.sample_from(lambda _: 1)}, {"type": "b"}])}, "m/a/x"),
    ({"m": tune.choice([{"type": "a", "x": tune.grid_search([1, 2])}, {"type": "b"}])}, "m/a/x"),
    ({"m": tune.choice([{"type": "a", "x": tune.randn(0, 1)}, {"type": "b"}])}, "m/a/x"),
    ({"m": tune.choice([{"type": "a", "f": lambda c: c}, {"type": "b"}])}, "m/a/f"),
    ({"m": tune.choice([{"type": "a", "x": {"eval": "1 + 1"}}, {"type": "b"}])}, "m/a/x"),
    ({"m": tune.grid_search([{"x": tune.uniform(0, 1)}, {"y": tune.uniform(0, 1)}])}, "m"),
    ({"m": tune.sample_from(lambda _: 1), "x": tune.uniform(0, 1)}, "m"),
])
def test_unsupported_entries_name_their_key(bad, key):
    with pytest.raises(ValueError, match=f"param_space\\[{key!r}\\]"):
        convert(bad)


def test_searcher_hands_tune_the_nested_config_and_learns():
    s = GpuBoSearch(cash_space(), metric="loss", mode="min", seed=0)
    types = set()
    for i in range(16):
        cfg = s.suggest(str(i))
        types.add(cfg["model"]["type"])
        assert cfg["epochs"] == 3 and ("C" in cfg["model"]) == (cfg["model"]["type"] == "svc")
        s.on_trial_complete(str(i), {"loss": loss(cfg)})
    assert types == {"svc", "rf"}
    for t in s.optimizer.trials:
        s.optimizer.space.validate(t.params)
    # a checkpoint round trip continues with the same nested configs
    again = GpuBoSearch(metric="loss", mode="min")
    again.set_state(pickle.loads(pickle.dumps(s.get_state())))
    cfg = again.suggest("next")
    assert set(cfg) == {"model", "lr", "epochs"} and cfg["model"]["type"] in ("svc", "rf")


def test_points_to_evaluate_use_the_parameter_names():
    point = {"model": "rf", "model/rf/n": 100, "model/rf/depth": 3, "lr": 0.1}
    s = GpuBoSearch(cash_space(), metric="loss", mode="min", seed=0, points_to_evaluate=[point])
    assert s.suggest("a") == {"model": {"type": "rf", "n": 100, "depth": 3, "bootstrap": True}, "lr": 0.1,
                              "epochs": 3}
    with pytest.raises(gb.SpaceError, match="missing parameter.*model/rf/depth"):
        GpuBoSearch(cash_space(), metric="loss", mode="min", points_to_evaluate=[{"model": "rf", "lr": 0.1}])


def test_a_state_saved_before_conditional_spaces_restores():
    s = GpuBoSearch({"m": {"lr": tune.loguniform(1e-3, 1.0)}, "epochs": 2}, metric="loss", mode="min", seed=1)
    s.on_trial_complete("x", None)
    state = s.get_state()
    del state["template"]
    state.update(paths={"m/lr": ("m", "lr")}, constants={("epochs",): 2})
    old = GpuBoSearch()
    old.set_state(state)
    cfg = old.suggest("a")
    assert cfg["epochs"] == 2 and 1e-3 <= cfg["m"]["lr"] <= 1.0


@pytest.fixture(scope="module")
def local_ray():
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this module
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    if started:
        ray.shutdown()


def test_tuner_runs_a_conditional_param_space(local_ray, tmp_path):
    def trainable(config):
        _report({"loss": loss(config), "type": config["model"]["type"]})

    tuner = tune.Tuner(
        trainable, param_space=cash_space(),
        tune_config=tune.TuneConfig(search_alg=GpuBoSearch(metric="loss", mode="min", seed=0), num_samples=6,
                                    max_concurrent_trials=2),
        run_config=_RunConfig(storage_path=str(tmp_path), verbose=0),
    )
    results = tuner.fit()
    assert len(results) == 6 and not results.errors
    for r in results:
        m = r.config["model"]
        assert m["type"] == r.metrics["type"]
        assert set(m) == ({"type", "C", "kernel"} if m["type"] == "svc" else {"type", "n", "depth", "bootstrap"})
