"""Tests of the Ray integration: the Tune searcher (gpu_bo.integrations.ray_tune.GpuBoSearch), the
"ray" backend (gpu_bo.backends.ray.RayBackend) and the gpu_bo.integrations.ray alias of both.

All Ray tests share one local Ray (2 CPUs), started once for this module.
"""

from __future__ import annotations

import math
import os
import sys

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("ray.tune")
torch = pytest.importorskip("torch")

from ray import tune  # noqa: E402

# Ray >= 2.41 has these under ray.tune; older versions under ray.train
_report = getattr(tune, "report", None) or ray.train.report
_RunConfig = getattr(tune, "RunConfig", None) or ray.train.RunConfig

import gpu_bo as gb  # noqa: E402
from gpu_bo.integrations.ray_tune import GpuBoSearch, convert_tune_space  # noqa: E402
from gpu_bo.study import TrialState  # noqa: E402

SPACE = {"x": (-2.0, 2.0), "y": (-2.0, 2.0)}


def quad(p: dict) -> float:
    return (p["x"] - 0.7) ** 2 + (p["y"] + 0.4) ** 2


@pytest.fixture(scope="module")
def local_ray():
    # Ray workers cannot import this test module: ship its functions by value
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    yield ray
    if started:
        ray.shutdown()


# -- space conversion (no Ray runtime needed) ---------------------------------------------------
def test_convert_tune_space_types_bounds_and_nesting():
    space, paths, consts = convert_tune_space({
        "lr": tune.loguniform(1e-4, 1e-1),
        "drop": tune.uniform(0.0, 0.5),
        "model": {"layers": tune.randint(1, 5), "act": tune.choice(["relu", "tanh"])},
        "units": tune.lograndint(8, 257),
        "k": tune.qrandint(2, 6),
        "epochs": 3,
    })
    d = space.dims
    assert isinstance(d["lr"], gb.Real) and d["lr"].log and d["lr"].low == pytest.approx(1e-4)
    assert isinstance(d["drop"], gb.Real) and not d["drop"].log
    # tune.randint / lograndint: upper bound is exclusive
    assert isinstance(d["model/layers"], gb.Integer) and (d["model/layers"].low, d["model/layers"].high) == (1, 4)
    assert d["units"].log and (d["units"].low, d["units"].high) == (8, 256)
    # qrandint(q=1): upper bound is inclusive
    assert (d["k"].low, d["k"].high) == (2, 6)
    assert d["model/act"].choices == ("relu", "tanh")
    assert paths["model/layers"] == ("model", "layers")
    assert consts == {("epochs",): 3}


@pytest.mark.parametrize("bad", [tune.grid_search([1, 2]), tune.quniform(0, 1, 0.1), tune.randn(0, 1),
                                 tune.qrandint(0, 10, 2), tune.sample_from(lambda _: 1)])
def test_convert_tune_space_rejects_unsupported_domains_naming_the_parameter(bad):
    with pytest.raises(ValueError, match="'p'"):
        convert_tune_space({"p": bad, "x": tune.uniform(0, 1)})


def test_searcher_argument_errors():
    with pytest.raises(ValueError, match="mode"):
        GpuBoSearch(SPACE, metric="loss", mode="minimize")
    with pytest.raises(ValueError, match="max_concurrent"):
        GpuBoSearch(SPACE, metric="loss", mode="min", max_concurrent=0)
    with pytest.raises(ValueError, match="direction"):
        GpuBoSearch(SPACE, metric="loss", mode="min", optimizer_options={"direction": "maximize"})
    s = GpuBoSearch(SPACE)
    with pytest.raises(RuntimeError, match="metric and mode"):
        s.suggest("t0")
    with pytest.raises(RuntimeError, match="search space"):
        GpuBoSearch(metric="loss", mode="min").suggest("t0")


# -- the searcher protocol, driven by hand -------------------------------------------------------
def test_set_search_properties_takes_what_is_missing():
    own = GpuBoSearch(SPACE)
    assert own.set_search_properties("loss", "max", {"x": tune.uniform(0, 1)}) is False  # has a space
    assert (own.metric, own.mode) == ("loss", "max")
    fresh = GpuBoSearch(metric="acc", mode="max")
    assert fresh.set_search_properties("loss", "min", {"lr": tune.loguniform(1e-4, 1e-1), "k": 1}) is True
    assert (fresh.metric, fresh.mode) == ("acc", "max")  # its own metric and mode win
    cfg = fresh.suggest("0")
    assert cfg["k"] == 1 and 1e-4 <= cfg["lr"] <= 1e-1
    assert GpuBoSearch().set_search_properties("loss", "min", {"k": 1}) is False  # nothing to search


def test_suggest_nests_config_and_adds_constants():
    s = GpuBoSearch({"m": {"lr": tune.loguniform(1e-3, 1.0)}, "n": tune.randint(0, 3), "epochs": 2},
                    metric="loss", mode="min", seed=1)
    cfg = s.suggest("a")
    assert set(cfg) == {"m", "n", "epochs"} and cfg["epochs"] == 2
    assert 1e-3 <= cfg["m"]["lr"] <= 1.0 and cfg["n"] in (0, 1, 2)
    s.on_trial_complete("a", {"loss": cfg["m"]["lr"]})
    assert s.optimizer.trials[0].params == {"m/lr": cfg["m"]["lr"], "n": cfg["n"]}


def test_failures_are_told_as_failed_and_never_reach_the_gp():
    s = GpuBoSearch(SPACE, metric="loss", mode="min", seed=0)
    outcomes = {"ok": {"loss": 1.5}, "nan": {"loss": float("nan")}, "missing": {"other": 1.0},
                "none": None}
    for tid in outcomes:
        s.suggest(tid)
    s.suggest("err")
    for tid, res in outcomes.items():
        s.on_trial_complete(tid, res)
    s.on_trial_complete("err", {"loss": 0.1}, error=True)
    s.on_trial_complete("unknown", {"loss": 0.0})  # not one of ours: ignored
    states = [t.state for t in s.optimizer.trials]
    assert states.count(TrialState.COMPLETE) == 1 and states.count(TrialState.FAILED) == 4
    assert s.optimizer.best["value"] == 1.5
    failed = [t for t in s.optimizer.trials if t.state == TrialState.FAILED]
    assert all(t.error for t in failed)


def test_max_concurrency_and_distinct_concurrent_suggestions():
    s = GpuBoSearch(SPACE, metric="loss", mode="max", seed=0)
    assert s.set_max_concurrency(3) is True
    cfgs = [s.suggest(str(i)) for i in range(3)]
    assert s.suggest("3") is None  # at the limit
    assert len({(c["x"], c["y"]) for c in cfgs}) == 3
    s.on_trial_complete("1", {"loss": 1.0})
    assert s.suggest("4") is not None


def test_exhausted_discrete_space_finishes_the_search():
    from ray.tune.search import Searcher

    s = GpuBoSearch({"n": (0, 2)}, metric="loss", mode="min", seed=0)
    cfgs = [s.suggest(str(i)) for i in range(3)]
    assert sorted(c["n"] for c in cfgs) == [0, 1, 2]
    assert s.suggest("3") is None  # the last points are still running
    for i, c in enumerate(cfgs):
        s.on_trial_complete(str(i), {"loss": float(c["n"])})
    assert s.suggest("4") == Searcher.FINISHED


def test_points_to_evaluate_run_first():
    first = {"x": 0.25, "y": -1.0}
    s = GpuBoSearch(SPACE, metric="loss", mode="min", points_to_evaluate=[first], seed=0)
    assert s.suggest("0") == first
    second = s.suggest("1")
    assert second != first
    s.on_trial_complete("0", {"loss": quad(first)})
    assert s.optimizer.trials and s.optimizer.best["params"] == first
    with pytest.raises(gb.SpaceError):
        GpuBoSearch(SPACE, metric="loss", mode="min", points_to_evaluate=[{"x": 9.0, "y": 0.0}])


def test_save_restore_round_trip_keeps_trials_and_running_points(tmp_path):
    s = GpuBoSearch(SPACE, metric="loss", mode="min", seed=3, max_concurrent=4)
    for i in range(6):
        c = s.suggest(str(i))
        s.on_trial_complete(str(i), {"loss": quad(c)})
    running = s.suggest("6")
    path = tmp_path / "searcher.pkl"
    s.save(str(path))

    r = GpuBoSearch()
    r.restore(str(path))
    assert (r.metric, r.mode) == ("loss", "min")
    assert r.optimizer.state_dict()["trials"] == s.optimizer.state_dict()["trials"]
    assert running in r.optimizer.pending
    nxt = r.suggest("7")  # the restored searcher never repeats the running point
    assert nxt != running
    r.on_trial_complete("6", {"loss": quad(running)})
    assert r.optimizer.trials[6].state == TrialState.COMPLETE
    assert r.optimizer.trials[6].params == running
    with pytest.raises(ValueError, match="state"):
        r.set_state({"format": "something else"})


# -- real Tune runs ---------------------------------------------------------------------------
def _trainable(config):
    # an ASHA-friendly curve: the loss decreases with the iteration towards quad(config)
    for it in range(1, 4):
        _report({"loss": quad(config) * (1.0 + 0.2 / it), "it": it})


def test_tuner_with_asha_improves_on_its_initial_points(local_ray, tmp_path):
    n_initial = 4
    # metric, mode and the space all reach the searcher from the Tuner (set_search_properties)
    searcher = GpuBoSearch(seed=0, optimizer_options={"n_initial": n_initial})
    tuner = tune.Tuner(
        _trainable,
        param_space={"x": tune.uniform(-2.0, 2.0), "y": tune.uniform(-2.0, 2.0)},
        tune_config=tune.TuneConfig(
            search_alg=searcher, metric="loss", mode="min", num_samples=16, max_concurrent_trials=2,
            reuse_actors=True,
            scheduler=tune.schedulers.ASHAScheduler(max_t=3, grace_period=1, reduction_factor=2),
        ),
        run_config=_RunConfig(storage_path=str(tmp_path), name="gpubo", verbose=0),
    )
    results = tuner.fit()
    assert len(results) == 16 and not results.errors
    trials = searcher.optimizer.trials
    assert len(trials) == 16 and all(t.state == TrialState.COMPLETE for t in trials)
    keys = {(t.params["x"], t.params["y"]) for t in trials}
    assert len(keys) == 16  # no duplicate suggestions
    initial = min(quad(t.params) for t in trials[:n_initial])
    guided = min(quad(t.params) for t in trials[n_initial:])
    assert guided < initial
    # Tune saved the searcher during fit; its checkpoint restores into a fresh searcher
    restored = GpuBoSearch()
    restored.restore_from_dir(os.path.join(str(tmp_path), "gpubo"))
    assert len(restored.optimizer.trials) >= n_initial
    assert math.isfinite(restored.optimizer.best["value"])


# -- the "ray" runner backend ------------------------------------------------------------------
def _objective_on_cpu(trial):
    assert trial.device.type == "cpu"  # no GPU was requested (and there is none here)
    return quad(trial.params)


def _troubled(trial):
    """Trial 0 raises, 1 returns NaN, 2 hangs past the timeout, 3 kills its worker."""
    import time as _time

    if trial.number == 0:
        raise RuntimeError("boom in trial 0")
    if trial.number == 1:
        return float("nan")
    if trial.number == 2:
        _time.sleep(300)
    if trial.number == 3:
        os._exit(3)
    return quad(trial.params)


def test_backend_options_are_checked():
    from gpu_bo.backends import BackendOptions
    from gpu_bo.backends.ray import RayBackend

    def make(**kw):
        return RayBackend(quad, 2, BackendOptions(backend_kwargs=kw))

    assert make().resources is None  # decided at start() from the cluster's resources
    assert make(resources_per_trial={"num_cpus": 1, "num_gpus": 0.5}).resources["num_gpus"] == 0.5
    with pytest.raises(ValueError, match="adress"):
        make(adress="auto")
    with pytest.raises(ValueError, match="num_gpu"):
        make(resources_per_trial={"num_gpu": 1})
    with pytest.raises(ValueError, match="num_cpus"):
        make(resources_per_trial={"num_cpus": -1})
    with pytest.raises(TypeError, match="resources_per_trial"):
        make(resources_per_trial=1)


def test_ray_study_of_20_trials_two_at_a_time_with_sqlite_resume(local_ray, tmp_path):
    db = f"sqlite:///{tmp_path / 'study.db'}"
    kw = dict(direction="minimize", n_workers=2, backend="ray", storage=db, seed=0, progress=False)
    first = gb.optimize(_objective_on_cpu, SPACE, n_trials=12, **kw)
    assert len(first.trials) == 12
    study = gb.optimize(_objective_on_cpu, SPACE, n_trials=20, **kw)  # resumes the same study
    assert len(study.trials) == 20
    assert [t.params for t in study.trials[:12]] == [t.params for t in first.trials]
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert len({(t.params["x"], t.params["y"]) for t in study.trials}) == 20  # no duplicates
    assert study.best_value == pytest.approx(min(quad(t.params) for t in study.trials))


def test_ray_failures_exception_nan_timeout_and_dead_worker(local_ray):
    from gpu_bo.runner import optimize

    # trial_timeout counts from the submission, so a Ray worker's start (or restart after trial 3
    # kills one) counts too: 25 s was passed by trials 0 and 4-6 on a CPU loaded 3x over
    study = optimize(_troubled, SPACE, n_trials=7, n_workers=2, backend="ray", trial_timeout=60,
                     seed=1, progress=False)
    by_number = {t.number: t for t in study.trials}
    assert len(by_number) == 7
    for n in range(4):
        assert by_number[n].state == TrialState.FAILED, (n, by_number[n])
    assert "boom in trial 0" in by_number[0].error
    assert "nan" in by_number[1].error.lower()
    assert "timeout" in by_number[2].error
    assert "died" in by_number[3].error
    # the study went on after every failure
    assert all(by_number[n].state == TrialState.COMPLETE for n in range(4, 7))
    assert study.best_value is not None and math.isfinite(study.best_value)


def test_default_resources_share_the_gpus_between_workers():
    from gpu_bo.backends.ray import default_resources

    assert default_resources({"CPU": 2.0}, 4) == {"num_cpus": 1}
    assert default_resources({"CPU": 64.0, "GPU": 30.0}, 30) == {"num_cpus": 1, "num_gpus": 1}
    assert default_resources({"CPU": 64.0, "GPU": 8.0}, 4) == {"num_cpus": 1, "num_gpus": 1}
    assert default_resources({"CPU": 8.0, "GPU": 1.0}, 3)["num_gpus"] * 3 <= 1.0
    assert default_resources({"CPU": 8.0, "GPU": 1.0}, 2)["num_gpus"] == 0.5


def _device_type(trial):
    return 1.0 if trial.device.type == "cpu" else 0.0


def test_trial_without_a_gpu_runs_on_the_cpu_whatever_the_driver_says(local_ray):
    from gpu_bo.backends.ray import _run_trial
    from gpu_bo.objectives import TrialTask

    task = TrialTask(0, {"x": 0.0, "y": 0.0}, device="cuda", pass_trial=True)
    res = ray.get(ray.remote(_run_trial).options(num_cpus=1, max_retries=0).remote(_device_type, task))
    assert res.state == "COMPLETE" and res.value == 1.0


def test_unpicklable_objective_is_a_clear_error(local_ray):
    import threading

    from gpu_bo.backends import BackendOptions
    from gpu_bo.backends.ray import RayBackend

    lock = threading.Lock()

    def objective(p):
        with lock:
            return quad(p)

    be = RayBackend(objective, 1, BackendOptions())
    with pytest.raises(TypeError, match="objective"):
        be.start()


def test_the_old_module_is_an_alias_of_both_homes():
    import gpu_bo.backends.ray as backend
    import gpu_bo.integrations.ray as alias
    import gpu_bo.integrations.ray_tune as ray_tune
    from gpu_bo.backends import get_backend

    assert alias.GpuBoSearch is ray_tune.GpuBoSearch and alias.convert_tune_space is ray_tune.convert_tune_space
    assert alias.RayBackend is backend.RayBackend and alias.default_resources is backend.default_resources
    assert get_backend("ray") is backend.RayBackend


def test_an_objective_whose_module_the_workers_cannot_import_runs(local_ray, tmp_path, monkeypatch):
    # a package under a temp folder that only the driver has on sys.path (as a notebook's module,
    # or a file next to a script): Ray workers cannot import it, so it must travel by value
    pkg = tmp_path / "gpu_bo_driver_only_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("def shift():\n    return 0.7\n")
    (pkg / "objective.py").write_text(
        "from gpu_bo_driver_only_pkg.helpers import shift\n\n"
        "def objective(p):\n    return (p['x'] - shift()) ** 2 + (p['y'] + 0.4) ** 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from gpu_bo_driver_only_pkg.objective import objective

    try:
        study = gb.optimize(objective, SPACE, n_trials=3, n_workers=2, backend="ray", seed=0, progress=False,
                            options=gb.runner.RunOptions(n_initial=10))
    finally:
        for name in [m for m in sys.modules if m.startswith("gpu_bo_driver_only_pkg")]:
            del sys.modules[name]
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3, [t.error for t in study.trials]
    assert all(t.value == pytest.approx(quad(t.params)) for t in study.trials)


def test_modules_to_ship_are_the_objectives_own_not_installed_ones(tmp_path, monkeypatch):
    import functools

    from gpu_bo.backends.ray import modules_to_ship
    from gpu_bo.objectives import SklearnCV

    (tmp_path / "gpu_bo_driver_only_mod.py").write_text("def f(p, k=1):\n    return k\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import gpu_bo_driver_only_mod as mod

    try:
        assert modules_to_ship(mod.f) == [mod]
        assert modules_to_ship(functools.partial(mod.f, k=2)) == [mod]
        assert modules_to_ship(math.sqrt) == [] and modules_to_ship(torch.nn.Linear(1, 1)) == []
        assert modules_to_ship(SklearnCV.__call__) == []  # gpu_bo is installed wherever trials run
    finally:
        del sys.modules["gpu_bo_driver_only_mod"]
