"""Define-by-run objectives (issue 17.3): ``gb.optimize(objective, n_trials=...)`` with no space,
``trial.suggest_float/int/categorical`` (Optuna's names), the space and its conditions learned from
the calls, the GP's configuration sent with each trial, workers, storage and resume."""

from __future__ import annotations

import pytest

import gpu_bo as gb
from gpu_bo.define_by_run import DistributionConflict, SearchSpec, sample_value
from gpu_bo.dimensions import Real
from gpu_bo.objectives import TrialHandle, TrialTask
from gpu_bo.optimizer import Optimizer
from gpu_bo.space import Space
from gpu_bo.storage import InMemoryStorage, open_storage


def branches(trial):
    """Optuna style: the model, then its own parameters (module level: the process backend pickles it)."""
    model = trial.suggest_categorical("model", ["svc", "rf", "knn"])
    if model == "svc":
        c = trial.suggest_float("C", 1e-3, 1e3, log=True)
        kernel = trial.suggest_categorical("kernel", ["rbf", "poly"])
        if kernel == "poly":
            return abs(trial.suggest_int("degree", 2, 5) - 3) + abs(c - 1.0) / 100
        return 0.5 + abs(c - 10.0) / 100
    if model == "rf":
        return 1.0 + abs(trial.suggest_int("n_estimators", 10, 200, step=10) - 100) / 100
    return 2.0 + abs(trial.suggest_int("k", 1, 15) - 7) / 10


EXPECTED = {"svc": {"model", "C", "kernel"}, "rf": {"model", "n_estimators"}, "knn": {"model", "k"}}


def _used_exactly(trial_params: dict) -> bool:
    names = set(EXPECTED[trial_params["model"]])
    if trial_params["model"] == "svc" and trial_params["kernel"] == "poly":
        names.add("degree")
    return set(trial_params) == names


@pytest.mark.parametrize("backend,workers", [("serial", 1), ("thread", 2), ("process", 2)])
def test_conditional_branches_learned_with_each_backend(backend, workers):
    study = gb.optimize(branches, n_trials=16, direction="minimize", seed=0, progress=False,
                        backend=backend, n_workers=workers)
    assert len(study.trials) == 16
    assert all(t.state == gb.TrialState.COMPLETE for t in study.trials), [t.error for t in study.trials]
    assert all(_used_exactly(t.params) for t in study.trials), [t.params for t in study.trials]
    assert len({t.params["model"] for t in study.trials}) >= 2


def test_learned_space_has_the_conditions_and_is_stored(tmp_path):
    url = f"sqlite:///{tmp_path / 'dbr.db'}"
    gb.optimize(branches, n_trials=25, direction="minimize", seed=1, progress=False, storage=url)
    with open_storage(url) as store:
        space = Space.from_dict(store.study_info().space)
        study = store.load_study()
    assert space.dims["model"].when is None
    seen = {t.params["model"] for t in study.trials}
    for name, parent in (("C", "svc"), ("n_estimators", "rf"), ("k", "knn")):
        if parent in seen:
            assert space.dims[name].when.to_dict() == {"model": [parent]}
    assert space.dims["C"].log and space.dims["n_estimators"].step == 10
    # the stored trials hold exactly what the objective used
    assert all(_used_exactly(t.params) for t in study.trials)


class _AskLog:
    """Records what every Optimizer of the run suggested (serial runs: one ask per trial)."""

    def __init__(self, monkeypatch):
        self.points: list[dict] = []
        real = Optimizer.ask

        def ask(opt, n=None):
            out = real(opt, n)
            self.points.extend([out] if n is None else out)
            return out

        monkeypatch.setattr(Optimizer, "ask", ask)


def late_branch(trial):
    """From trial 20 on the objective opens a new branch: a solver, and the momentum of one of them."""
    x = trial.suggest_float("x", -2.0, 2.0)
    value = (x - 0.5) ** 2
    if trial.number >= 20:
        if trial.suggest_categorical("solver", ["adam", "sgd"]) == "sgd":
            value += (trial.suggest_float("momentum", 0.0, 1.0) - 0.9) ** 2 - 1.0  # the best values
    return value


def test_branch_that_appears_after_20_trials_joins_the_space_and_the_suggestions(monkeypatch, tmp_path):
    log = _AskLog(monkeypatch)
    url = f"sqlite:///{tmp_path / 'late.db'}"
    study = gb.optimize(late_branch, n_trials=40, direction="minimize", seed=3, progress=False, storage=url)
    with open_storage(url) as store:
        space = Space.from_dict(store.study_info().space)
    assert space.dims["solver"].when is None  # used by no trial before 20: unconditional (unexplained)
    assert space.dims["momentum"].when.to_dict() == {"solver": ["sgd"]}
    assert all(set(t.params) == {"x"} for t in study.trials[:20])
    assert all(set(t.params) == ({"x", "solver", "momentum"} if t.params["solver"] == "sgd" else {"x", "solver"})
               for t in study.trials[20:])
    config = {k: log.points[k - 1] for k in range(1, 40)}  # trial 0 ran before any parameter was known
    assert all("solver" not in config[k] for k in range(1, 21))
    assert all("solver" in config[k] for k in range(21, 40))  # the GP suggests the new parameter
    first_m = min(t.number for t in study.trials if "momentum" in t.params)
    assert all(("momentum" in config[k]) == (config[k]["solver"] == "sgd") for k in range(first_m + 1, 40))
    assert any("momentum" in config[k] for k in range(first_m + 1, 40))
    assert study.best_params["solver"] == "sgd" and study.best_value < -0.5  # found the new branch


def test_the_configuration_is_the_optimizers(monkeypatch):
    log = _AskLog(monkeypatch)
    got: list[dict] = []
    bo = []
    real_bo = Optimizer._bo_points

    def bo_points(opt, *args, **kwargs):
        bo.append(len(opt.trials))
        return real_bo(opt, *args, **kwargs)

    monkeypatch.setattr(Optimizer, "_bo_points", bo_points)

    def objective(trial):
        model = trial.suggest_categorical("model", ["a", "b"])
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_int("y", 0, 10) if model == "b" else 0
        got.append(dict(trial.params))
        return (x - 0.3) ** 2 + y / 10

    study = gb.optimize(objective, n_trials=15, direction="minimize", seed=5, progress=False)
    assert len(log.points) == len(study.trials) - 1  # trial 0 ran before any parameter was known
    for number, params in enumerate(got[1:], start=1):
        asked = log.points[number - 1]
        for name, value in params.items():
            if name in asked:  # a known parameter: the configuration's value
                assert value == asked[name], (number, name)
            else:  # a parameter the configuration lacked: sampled, seeded by the run and the trial
                assert name == "y" and value == sample_value(gb.Integer(0, 10), 5, number, name)
    assert all("x" in p for p in log.points)  # the GP chooses every known parameter
    assert len(bo) >= 5  # after the initial design, the configurations are the GP's acquisition maxima


def test_same_name_other_distribution_stops_the_run_with_a_value_error():
    def objective(trial):
        high = 1.0 if trial.number < 3 else 2.0
        return trial.suggest_float("lr", 0.0, high)

    storage = InMemoryStorage()
    with pytest.raises(ValueError, match=r"parameter 'lr'.*suggest_float\('lr', 0.0, 2.0.*suggest_float\('lr', 0.0, 1.0"):
        gb.optimize(objective, n_trials=10, direction="minimize", seed=0, progress=False, storage=storage)
    study = storage.load_study()
    bad = study.trials[3]
    assert bad.state == gb.TrialState.FAILED and "'lr'" in bad.error and "1.0" in bad.error
    assert all(t.state == gb.TrialState.COMPLETE for t in study.trials[:3])


def test_same_name_twice_in_a_trial():
    handle = TrialHandle(TrialTask(0, {}, search=SearchSpec(seed=0)))
    a = handle.suggest_int("n", 1, 5)
    assert handle.suggest_int("n", 1, 5) == a and handle.params == {"n": a}
    with pytest.raises(DistributionConflict, match="'n'"):
        handle.suggest_categorical("n", [1, 2])
    assert isinstance(handle.suggest_float("f", 0.0, 1.0, step=0.25), float)
    assert handle.suggest_categorical("c", [(1, 2), None]) in ((1, 2), None)


@pytest.mark.parametrize("call,match", [
    (lambda t: t.suggest_float("lr", 1.0, 0.1), r"suggest_float\('lr'\): low=1.0 > high=0.1"),
    (lambda t: t.suggest_float("lr", 0.0, 1.0, log=True), r"suggest_float\('lr'\): log=True needs low > 0"),
    (lambda t: t.suggest_float("lr", 1e-3, 1.0, log=True, step=0.1), r"'lr'.*step=0.1 with log=True"),
    (lambda t: t.suggest_int("depth", 5, 2), r"suggest_int\('depth'\): low=5 > high=2"),
    (lambda t: t.suggest_int("depth", 0, 8, log=True), r"suggest_int\('depth'\): log=True needs low > 0"),
    (lambda t: t.suggest_int("depth", 1, 8, step=0), r"suggest_int\('depth'\).*step=0"),
    (lambda t: t.suggest_categorical("opt", []), r"suggest_categorical\('opt'\): choices=\[\]"),
    (lambda t: t.suggest_categorical("opt", ["a", "a"]), r"suggest_categorical\('opt'\).*more than once"),
])
def test_suggest_argument_errors_name_the_parameter(call, match):
    handle = TrialHandle(TrialTask(0, {}, search=SearchSpec(seed=0)))
    with pytest.raises(ValueError, match=match):
        call(handle)


@pytest.mark.parametrize("scheme", ["sqlite", "postgresql"])
def test_resume_continues_the_study_with_the_learned_space(scheme, monkeypatch, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'resume.db'}" if scheme == "sqlite" else request.getfixturevalue("postgres_url")
    first = gb.optimize(branches, n_trials=12, direction="minimize", seed=2, progress=False, storage=url,
                        study_name="s")
    with open_storage(url) as store:
        stored = store.study_info("s").space
    log = _AskLog(monkeypatch)
    second = gb.optimize(branches, n_trials=20, direction="minimize", seed=2, progress=False, storage=url,
                         study_name="s")
    assert len(second.trials) == 20
    assert [t.params for t in second.trials[:12]] == [t.params for t in first.trials]
    assert all(_used_exactly(t.params) for t in second.trials)
    # the resumed run's first configuration is the GP's over the stored space, not an empty one
    assert len(log.points) == 8 and set(stored) >= set(log.points[0])
    with open_storage(url) as store:
        assert store.list_studies() == ["s"] and len(store.load_study("s").trials) == 20


def unexplained(trial):
    x = trial.suggest_float("x", -1.0, 1.0)
    if x > 0:  # a condition on a real value: no parent explains y
        return x + trial.suggest_float("y", 0.0, 1.0)
    return -x


def test_unexplained_parameter_still_reaches_the_gp(monkeypatch):
    log = _AskLog(monkeypatch)
    study = gb.optimize(unexplained, n_trials=14, direction="minimize", seed=0, progress=False)
    assert all(set(t.params) == ({"x", "y"} if t.params["x"] > 0 else {"x"}) for t in study.trials)
    if any("y" in t.params for t in study.trials):
        first_y = min(t.number for t in study.trials if "y" in t.params)
        assert all("y" in p for p in log.points[first_y:])  # unconditional in the learned space


def test_suggest_with_a_space_given_checks_against_it():
    space = {"x": gb.Real(0.0, 1.0), "k": gb.Categorical(["a", "b"])}

    def objective(trial):
        return trial.suggest_float("x", 0.0, 1.0) + (trial.suggest_categorical("k", ["a", "b"]) == "b")

    study = gb.optimize(objective, space, n_trials=6, direction="minimize", seed=0, progress=False)
    assert all(t.state == gb.TrialState.COMPLETE and set(t.params) == {"x", "k"} for t in study.trials)

    def other(trial):
        return trial.suggest_float("x", 0.0, 2.0)

    with pytest.raises(ValueError, match=r"'x'.*the search space holds it"):
        gb.optimize(other, space, n_trials=3, direction="minimize", seed=0, progress=False)

    def unknown(trial):
        return trial.suggest_float("x", 0.0, 1.0) + trial.suggest_float("z", 0.0, 1.0)

    with pytest.raises(ValueError, match=r"parameter 'z' is not in the search space given to optimize"):
        gb.optimize(unknown, space, n_trials=3, direction="minimize", seed=0, progress=False)


def test_optimize_argument_errors():
    with pytest.raises(TypeError, match="n_trials: missing"):
        gb.optimize(branches, direction="minimize")
    with pytest.raises(TypeError, match="space: got None"):
        gb.optimize(lambda params: 0.0, n_trials=3)
    # an objective that never suggests anything: one trial, then a warning and the run stops
    with pytest.warns(gb.GpuBoWarning, match="none called trial.suggest"):
        study = gb.optimize(lambda trial: 1.0, n_trials=3, progress=False)
    assert len(study.trials) == 1 and study.trials[0].params == {}


def test_learned_optimizer_spec_pickles():
    import pickle

    from gpu_bo.define_by_run import LearnedOptimizer

    lo = LearnedOptimizer(lambda sp: Optimizer(sp, seed=0), 0, {"x": Real(0.0, 1.0).to_dict()})
    spec = pickle.loads(pickle.dumps(lo.spec()))
    assert spec.dists == {"x": {"type": "real", "low": 0.0, "high": 1.0, "log": False}} and not spec.fixed


def test_two_runs_sharing_a_sqlite_study_learn_one_space(tmp_path):
    import threading

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    errors: list[BaseException] = []

    def run(seed):
        try:
            gb.optimize(branches, n_trials=16, direction="minimize", seed=seed, progress=False, storage=url)
        except BaseException as e:  # noqa: BLE001 - reported by the assert below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with open_storage(url) as store:
        study = store.load_study()
        stored = store.study_info().space
    assert len(study.trials) == 16 and all(_used_exactly(t.params) for t in study.trials)
    # no process's write dropped a parameter another one learned
    assert set(stored) == {n for t in study.trials for n in t.params}


def test_trial_params_are_the_ones_used_so_far():
    seen = []

    def objective(trial):
        seen.append(dict(trial.params))
        trial.suggest_float("a", 0.0, 1.0)
        seen.append(dict(trial.params))
        trial.suggest_int("b", 0, 3)
        seen.append(dict(trial.params))
        return trial.params["a"]

    study = gb.optimize(objective, n_trials=3, seed=0, progress=False)
    assert seen[0] == {} and set(seen[1]) == {"a"} and set(seen[2]) == {"a", "b"}
    assert all(set(t.params) == {"a", "b"} for t in study.trials)


def layers(trial):
    """Optuna's classic: the number of layers, then one width per layer (an integer parent)."""
    n = trial.suggest_int("n_layers", 1, 3)
    widths = sum((trial.suggest_int(f"units_{i}", 4, 128, log=True) - 32) ** 2 / 1000 for i in range(n))
    return widths + n + (trial.suggest_float("lr", 1e-4, 1e-1, log=True) - 0.01) ** 2


def test_integer_parent_conditions():
    store = InMemoryStorage()
    study = gb.optimize(layers, n_trials=20, seed=0, progress=False, storage=store)
    space = Space.from_dict(store.study_info().space)
    n_seen = {t.params["n_layers"] for t in study.trials}
    assert space.dims["units_0"].when is None and space.dims["lr"].when is None
    if {2, 3} <= n_seen:
        assert {k: sorted(v) for k, v in space.dims["units_1"].when.to_dict().items()} == {"n_layers": [2, 3]}
        assert space.dims["units_2"].when.to_dict() == {"n_layers": [3]}
    assert all(set(t.params) == {"n_layers", "lr"} | {f"units_{i}" for i in range(t.params["n_layers"])}
               for t in study.trials)


def test_first_trial_failing_before_any_suggest_stops_with_a_warning():
    def objective(trial):
        raise RuntimeError("data not found")

    with pytest.warns(gb.GpuBoWarning, match=r"1 failed.*none called trial.suggest"):
        study = gb.optimize(objective, n_trials=3, progress=False)
    assert len(study.trials) == 1 and "data not found" in study.trials[0].error
