"""Tests of the bayes_opt-compatible facade (gpu_bo.integrations.bayes_opt)."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gpu_bo as gb
from gpu_bo.integrations import bayes_opt as bo
from gpu_bo.integrations.bayes_opt import (
    BayesianOptimization,
    NotUniqueError,
    UtilityFunction,
    acquisition,
)

ROOT = Path(__file__).resolve().parents[1]


def _quad(x):
    return -((x - 2.0) ** 2)


@pytest.mark.slow
def test_seed_tutorial_runs_with_only_the_import_changed():
    src = (ROOT / "examples" / "bayes_opt_dropin.py").read_text()
    # the example is the tutorial: the only gpu_bo line is the import
    assert [ln for ln in src.splitlines() if "gpu_bo" in ln and not ln.lstrip().startswith(("#", '"'))] == [
        "from gpu_bo.integrations.bayes_opt import BayesianOptimization"]
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "bayes_opt_dropin.py")], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    m = re.search(r"Best result: \{'C': ([0-9.e-]+)\}; f\(x\) = ([0-9.]+)\.", out.stdout)
    assert m, out.stdout[-2000:]
    c, auc = float(m.group(1)), float(m.group(2))
    assert 0.1 <= c <= 15 and auc >= 0.99
    # verbose=2 prints one table row per probe: 5 initial + 25 iterations
    assert len(re.findall(r"^\| \d+ ", out.stdout, flags=re.M)) == 30


@pytest.mark.parametrize("bound, kind, expect", [
    ([0.1, 15], "real", (0.1, 15.0)),          # a LIST of two numbers is bounds, not categories
    ((1, 5), "real", (1.0, 5.0)),              # bayes_opt: two ints are float bounds too
    ((1, 5, int), "integer", (1, 5)),
    ((1, 5, float), "real", (1.0, 5.0)),
    (["a", "b"], "categorical", ("a", "b")),
    ((1, 2, 3), "categorical", (1, 2, 3)),
])
def test_pbounds_follow_bayes_opt_rules(bound, kind, expect):
    dim = bo._dimension("p", bound)
    assert dim.kind == kind
    assert (tuple(dim.choices) if kind == "categorical" else (dim.low, dim.high)) == expect


def test_pbounds_agree_with_installed_bayes_opt():
    real = pytest.importorskip("bayes_opt")
    pb = {"a": [0.1, 15], "b": (1, 5, int), "c": ("x", "y", "z"), "d": (0, 1)}
    ts = real.BayesianOptimization(f=None, pbounds=pb, verbose=0).space
    kinds = {"FloatParameter": "real", "IntParameter": "integer", "CategoricalParameter": "categorical"}
    theirs = {k: kinds[type(p).__name__] for k, p in ts._params_config.items()}
    ours = BayesianOptimization(f=None, pbounds=pb, verbose=0)
    assert {k: d.kind for k, d in ours._space.dims.items()} == theirs
    assert ours.space.keys == list(ts.keys)


def test_default_kappa_is_bayes_opts():
    # the facade follows bayes_opt's UCB default, not gpu_bo's
    import inspect

    real = pytest.importorskip("bayes_opt")
    theirs = inspect.signature(real.acquisition.UpperConfidenceBound).parameters["kappa"].default
    assert acquisition.BAYES_OPT_KAPPA == theirs
    assert BayesianOptimization(f=None, pbounds={"x": (0, 1)}, verbose=0).acquisition_function.kappa == theirs


def test_modules_follow_bayes_opts_layout():
    # each name lives where bayes_opt keeps it, and the package re-exports it
    from gpu_bo.integrations.bayes_opt.bayesian_optimization import BayesianOptimization as B
    from gpu_bo.integrations.bayes_opt.exception import NotUniqueError as E
    from gpu_bo.integrations.bayes_opt.util import UtilityFunction as U

    assert (B, E, U) == (BayesianOptimization, NotUniqueError, UtilityFunction)
    assert issubclass(bo._Acquisition, acquisition.AcquisitionFunction)
    assert issubclass(acquisition.ExpectedImprovement, acquisition.AcquisitionFunction)


@pytest.mark.parametrize("pbounds, match", [
    ({}, "pbounds"),
    ({"x": 3.0}, "pbounds"),
    ({"x": (1.0, 1.0)}, "low < high"),
    ({"x": ["only"]}, "two categories"),
])
def test_bad_pbounds(pbounds, match):
    with pytest.raises(ValueError, match=match):
        BayesianOptimization(f=None, pbounds=pbounds)


def test_maximize_finds_the_peak_and_records_res(capsys):
    opt = BayesianOptimization(f=_quad, pbounds={"x": (0, 5)}, random_state=1, verbose=0)
    opt.maximize(init_points=3, n_iter=8)
    assert len(opt.res) == 11 and capsys.readouterr().out == ""
    assert all(set(r) == {"target", "params"} for r in opt.res)
    assert opt.max["target"] == max(r["target"] for r in opt.res)
    assert abs(opt.max["params"]["x"] - 2.0) < 0.3
    assert opt.space.params.shape == (11, 1) and len(opt.space) == 11


def test_random_state_reproducible():
    runs = []
    for _ in range(2):
        opt = BayesianOptimization(f=_quad, pbounds={"x": (0, 5)}, random_state=7, verbose=0)
        opt.maximize(init_points=2, n_iter=3)
        runs.append([r["params"]["x"] for r in opt.res])
    assert runs[0] == runs[1]


def test_probe_lazy_and_now_register_and_duplicates():
    opt = BayesianOptimization(f=_quad, pbounds={"x": (0, 5)}, random_state=0, verbose=0)
    opt.probe({"x": 1.0}, lazy=True)
    assert opt.res == []
    opt.probe([4.0], lazy=False)  # a list in key order
    assert opt.res == [{"target": -4.0, "params": {"x": 4.0}}]
    opt.register(params={"x": 2.5}, target=_quad(2.5))
    with pytest.raises(NotUniqueError, match="not unique"):
        opt.register(params={"x": 2.5}, target=0.0)
    opt.maximize(init_points=0, n_iter=0)  # evaluates the queued lazy probe only
    assert [r["params"]["x"] for r in opt.res] == [4.0, 2.5, 1.0]
    dup = BayesianOptimization(f=None, pbounds={"x": (0, 5)}, allow_duplicate_points=True, verbose=0)
    dup.register({"x": 1.0}, 1.0)
    dup.register({"x": 1.0}, 1.5)
    assert len(dup.res) == 2 and dup.max["target"] == 1.5


def test_suggest_register_loop_with_utility_and_acquisition_objects():
    opt = BayesianOptimization(f=None, pbounds={"x": (0, 5), "k": (1, 3, int)}, random_state=0, verbose=0)
    utility = UtilityFunction(kind="ei", xi=0.0)
    for _ in range(8):
        p = opt.suggest(utility)
        assert isinstance(p["k"], int) and 0 <= p["x"] <= 5
        opt.register(params=p, target=_quad(p["x"]) - (p["k"] - 2) ** 2)
    assert opt.optimizer.acquisition == "ei"
    # suggest reserves nothing: no running trial is left behind
    p = opt.suggest()
    assert all(t.state != gb.TrialState.RUNNING for t in opt.optimizer.trials)
    assert len(opt.optimizer.trials) == 8
    opt2 = BayesianOptimization(f=None, pbounds={"x": (0, 5)}, verbose=0,
                                acquisition_function=acquisition.ProbabilityOfImprovement(xi=0.01))
    opt2.register({"x": 1.0}, 1.0)
    opt2.register({"x": 2.0}, 2.0)
    opt2.suggest()
    assert opt2.optimizer.acquisition == "pi" and opt2.optimizer.xi == pytest.approx(0.01)


def test_acquisition_submodule_and_decay():
    from gpu_bo.integrations.bayes_opt.acquisition import UpperConfidenceBound

    ucb = UpperConfidenceBound(kappa=4.0, exploration_decay=0.5, exploration_decay_delay=1)
    opt = BayesianOptimization(f=_quad, pbounds={"x": (0, 5)}, acquisition_function=ucb, random_state=0,
                               verbose=0)
    opt.maximize(init_points=2, n_iter=3)
    assert ucb.i == 3 and ucb.kappa == pytest.approx(4.0 * 0.5 ** 3)
    assert UtilityFunction(kind="poi").kind == "pi"
    with pytest.raises(ValueError, match="kind"):
        UtilityFunction(kind="nope")
    with pytest.raises(ValueError, match="kappa"):
        acquisition.UpperConfidenceBound(kappa=-1)


def test_legacy_maximize_keywords_select_the_acquisition():
    opt = BayesianOptimization(f=_quad, pbounds={"x": (0, 5)}, random_state=0, verbose=0)
    with pytest.warns(UserWarning, match="alpha"):
        opt.maximize(init_points=2, n_iter=1, acq="ei", xi=0.1, alpha=1e-3)
    assert opt.optimizer.acquisition == "ei" and opt.optimizer.xi == pytest.approx(0.1)


def test_failing_objective_becomes_failed_trial():
    def f(x):
        if x > 4.0:
            raise RuntimeError("diverged")
        return float("nan") if x < 0.5 else _quad(x)

    opt = BayesianOptimization(f=f, pbounds={"x": (0, 5)}, random_state=0, verbose=0)
    opt.probe({"x": 0.1}, lazy=False)
    with pytest.warns(RuntimeWarning, match="diverged"):
        opt.probe({"x": 4.5}, lazy=False)
    opt.probe({"x": 2.2}, lazy=False)
    assert [r["params"]["x"] for r in opt.res] == [2.2]
    states = [t.state for t in opt.optimizer.trials]
    assert states.count(gb.TrialState.FAILED) == 2
    assert "diverged" in next(t.error for t in opt.optimizer.trials if t.error and "diverged" in t.error)
    opt.maximize(init_points=0, n_iter=3)
    assert all(math.isfinite(r["target"]) for r in opt.res)


def test_set_bounds_keeps_history_and_moves_the_search():
    opt = BayesianOptimization(f=_quad, pbounds={"x": (0, 5)}, random_state=0, verbose=0)
    opt.maximize(init_points=4, n_iter=0)
    before = len(opt.res)
    opt.set_bounds({"x": (1.5, 2.5)})
    opt.maximize(init_points=0, n_iter=3)
    assert len(opt.res) == before + 3
    assert all(1.5 <= r["params"]["x"] <= 2.5 for r in opt.res[before:])
    assert 1.5 <= opt.max["params"]["x"] <= 2.5  # max counts points inside the current bounds
    opt.set_bounds({"y": (0, 1)})  # unknown keys are ignored, as bayes_opt does
    assert opt.space.keys == ["x"] and opt.space.bounds.tolist() == [[1.5, 2.5]]


def test_save_and_load_state_round_trip(tmp_path):
    path = tmp_path / "state.json"
    a = BayesianOptimization(f=_quad, pbounds={"x": (0, 5)}, random_state=3, verbose=0,
                             acquisition_function=acquisition.ExpectedImprovement(xi=0.05))
    a.maximize(init_points=3, n_iter=2)
    a.probe({"x": 1.25})
    a.save_state(path)
    json.loads(path.read_text())  # plain JSON
    b = BayesianOptimization(f=_quad, pbounds={"x": (0, 5)}, random_state=3, verbose=0)
    b.load_state(path)
    assert b.res == a.res and b.max == a.max
    assert b.acquisition_function.kind == "ei" and b.acquisition_function.xi == pytest.approx(0.05)
    assert len(b.optimizer.trials) == len(a.optimizer.trials)
    b.maximize(init_points=0, n_iter=1)  # the queued probe, then one suggestion
    assert len(b.res) == len(a.res) + 2 and b.res[len(a.res)]["params"] == {"x": 1.25}
    other = BayesianOptimization(f=_quad, pbounds={"x": (0, 6)}, verbose=0)
    with pytest.raises(ValueError, match="pbounds"):
        other.load_state(path)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        other.load_state(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError, match="no state file"):
        other.load_state(tmp_path / "missing.json")


def test_unsupported_arguments_say_so():
    with pytest.raises((NotImplementedError, TypeError), match="constraint"):
        BayesianOptimization(f=_quad, pbounds={"x": (0, 1)}, constraint=object())
    with pytest.raises(NotImplementedError, match="set_gp_params"):
        BayesianOptimization(f=_quad, pbounds={"x": (0, 1)}).set_gp_params(alpha=1e-3)
    with pytest.raises(TypeError, match="bounds_transformer"):
        BayesianOptimization(f=_quad, pbounds={"x": (0, 1)}, bounds_transformer=3)
    with pytest.raises(TypeError, match="acquisition_function"):
        BayesianOptimization(f=_quad, pbounds={"x": (0, 1)}, acquisition_function="ucb")
    with pytest.raises(ValueError, match="f is None"):
        BayesianOptimization(f=None, pbounds={"x": (0, 1)}, verbose=0).maximize(1, 0)
    opt = BayesianOptimization(f=None, pbounds={"x": (0, 1)}, verbose=0)
    with pytest.raises(ValueError, match="keys"):
        opt.register({"y": 0.5}, 1.0)
    with pytest.raises(ValueError, match="values"):
        opt.register(np.array([0.1, 0.2]), 1.0)
