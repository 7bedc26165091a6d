"""The bayes_opt 3.x behaviours the facade adds: TargetSpace, parameters, predict, ConstantLiar,
GPHedge, custom acquisitions, domain reduction, constraints, bayes_opt's state files, errors."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import NonlinearConstraint

from gpu_bo.integrations.bayes_opt import (
    BayesianOptimization,
    ConstraintModel,
    SequentialDomainReductionTransformer,
    acquisition,
    exception,
)
from gpu_bo.integrations.bayes_opt.parameter import CategoricalParameter, IntParameter, wrap_kernel
from gpu_bo.integrations.bayes_opt.target_space import TargetSpace
from gpu_bo.optimizer import Optimizer

DATA = Path(__file__).resolve().parent / "data"
HAS_CONSTRAINTS = "constraints" in inspect.signature(Optimizer.tell).parameters
PB = {"p1": (0, 10), "p2": (0, 10)}


def _sum(**kw):
    return sum(kw.values())


def test_target_space_float_representation():
    ts = TargetSpace(None, {"a": (0, 1), "k": (1, 5, int), "fruit": ("apple", "kiwi", "fig")})
    assert ts.dim == 5 and ts.keys == ["a", "k", "fruit"] and ts.empty
    assert ts.bounds.tolist() == [[0, 1], [1, 5], [0, 1], [0, 1], [0, 1]]
    ts.register({"a": 0.5, "k": 2, "fruit": "kiwi"}, 1.0)
    assert ts.params[0].tolist() == [0.5, 2, 0, 1, 0] and ts.target.tolist() == [1.0]
    assert ts.array_to_params(ts.params[0]) == {"a": 0.5, "k": 2, "fruit": "kiwi"}
    assert isinstance(ts.params_config["k"], IntParameter)
    assert ts.params_config["k"].kernel_transform(np.array([1.3, 3.6])).tolist() == [1.0, 4.0]
    with pytest.raises(exception.NotUniqueError):
        ts.register(np.array([0.5, 2, 0, 1, 0]), 2.0)
    row = ts.random_sample()
    assert row.shape == (5,) and 0 <= row[0] <= 1 and row[2:].sum() == 1
    with pytest.raises(ValueError):
        CategoricalParameter("c", ["a", "a"])


def test_target_space_probe_duplicates_bounds_and_constraints():
    calls = []

    def f(p1, p2):
        calls.append((p1, p2))
        return p1 + p2

    ts = TargetSpace(f, {"p1": (0, 10), "p2": (1, 100)})
    ts.register({"p1": 1, "p2": 2}, 5.0)
    with pytest.warns(UserWarning, match="already registered"):
        assert ts.probe(np.array([1, 2])) == 5.0  # the registered value; f is not called again
    assert calls == [] and ts.probe({"p1": 2, "p2": 3}) == 5 and calls == [(2.0, 3.0)]
    with pytest.warns(UserWarning, match="is outside the bounds of the parameter"):
        ts.register({"p1": 0.5, "p2": 200}, 1.0)
    with pytest.raises(ValueError, match="No target function has been provided"):
        TargetSpace(None, {"p": (0, 1)}).probe({"p": 0.5})
    with pytest.raises(ValueError):
        TargetSpace(None, {"k": (-1, 3, int)}).set_bounds({"k": (-1, 2, float)})
    cts = TargetSpace(f, {"p1": (0, 10), "p2": (1, 100)}, constraint=NonlinearConstraint(lambda p1, p2: p1 - p2, -2, 2))
    assert isinstance(cts.constraint, ConstraintModel) and cts.max() is None
    for p in ({"p1": 1, "p2": 2}, {"p1": 5, "p2": 8}, {"p1": 2, "p2": 3}, {"p1": 0, "p2": 5}):
        cts.probe(p)
    assert cts.max() == {"params": {"p1": 2.0, "p2": 3.0}, "target": 5.0, "constraint": -1.0}
    assert [r["allowed"] for r in cts.res()] == [True, False, True, False]


def test_parameter_objects_in_pbounds_and_to_string():
    a = BayesianOptimization(_sum, {"p1": (0, 1), "p3": IntParameter("p3", (-1, 3))}, verbose=0)
    b = BayesianOptimization(_sum, {"p1": (0, 1), "p3": (-1, 3, int)}, verbose=0)
    assert a.space.bounds.tolist() == b.space.bounds.tolist()
    assert a.optimizer.space.dims["p3"].kind == "integer"
    cfg = TargetSpace(None, {"p": (0, 1), "f": ("apple", "banana")}).params_config
    assert cfg["p"].to_string(np.pi, 5) == "3.141" and cfg["p"].to_string(-1.2e-15, 7) == "-1.2..."
    assert cfg["f"].to_string("banana", 5) == "ba..."


def test_set_bounds_ignores_unknown_keys_and_updates():
    opt = BayesianOptimization(_sum, {"p1": (0, 1), "p3": (0, 3), "p2": (0, 2)}, verbose=0)
    opt.set_bounds({"other": (7, 8)})
    assert opt.space.bounds[:, 1].tolist() == [1, 3, 2]
    opt.set_bounds({"p2": (1, 8)})
    assert opt.space.bounds.tolist() == [[0, 1], [0, 3], [1, 8]]
    assert opt.optimizer.space.dims["p2"].high == 8


def test_predict_shapes_and_values():
    opt = BayesianOptimization(_sum, PB, random_state=1, verbose=0)
    with pytest.raises(RuntimeError, match="zero observations"):
        opt.predict({"p1": 5, "p2": 5})
    mean, std = opt.predict({"p1": 5, "p2": 5}, fit_gp=False, return_std=True)  # the prior
    assert mean.ndim == 0 and float(mean) == 0.0 and std > 1e-2
    opt.register({"p1": 0, "p2": 0}, 0.0)
    opt.register({"p1": 10, "p2": 10}, 20.0)
    opt.register({"p1": 3, "p2": 8}, 11.0)
    means, stds = opt.predict([{"p1": 0, "p2": 0}, {"p1": 10, "p2": 10}], return_std=True)
    # gpu_bo's GP fits its noise (bayes_opt fixes alpha=1e-6), so the training points are not interpolated
    assert means.shape == (2,) and np.allclose(means, [0, 20], atol=1.0) and np.all((stds > 0) & (stds < 5))
    mean, cov = opt.predict([{"p1": 2, "p2": 3}, {"p1": 5, "p2": 6}], return_cov=True, fit_gp=False)
    assert cov.shape == (2, 2) and np.allclose(cov, cov.T) and np.all(np.diag(cov) >= 0)
    assert opt.predict(({"p1": 1, "p2": 2},), fit_gp=False).shape == (1,)
    with pytest.raises(ValueError, match="return_std and return_cov cannot both be True"):
        opt.predict({"p1": 2, "p2": 3}, return_std=True, return_cov=True)
    with pytest.raises(TypeError, match="params must be a dict or iterable of dicts"):
        opt.predict("invalid")


def test_custom_acquisition_subclass_is_called():
    calls = []

    class LowestMean(acquisition.AcquisitionFunction):
        def base_acq(self, mean, std):
            calls.append(len(mean))
            return -mean  # goes for the lowest predicted target

    opt = BayesianOptimization(_sum, PB, acquisition_function=LowestMean(), random_state=0, verbose=0)
    opt.maximize(init_points=3, n_iter=3)
    assert len(calls) == 3 and all(n > 100 for n in calls)
    assert sum(opt.res[-1]["params"].values()) < 5  # it went where the target is lowest

    class NoBaseAcq(acquisition.AcquisitionFunction):
        pass

    with pytest.raises(TypeError, match="base_acq"):
        BayesianOptimization(_sum, PB, acquisition_function=NoBaseAcq())
    with pytest.raises(NotImplementedError, match="get_acquisition_params"):
        LowestMean().get_acquisition_params()


def test_base_acq_formulas_and_errors():
    mean, std = np.array([0.0, 1.0]), np.array([1.0, 2.0])
    assert acquisition.UpperConfidenceBound(kappa=2).base_acq(mean, std).tolist() == [2.0, 5.0]
    ei = acquisition.ExpectedImprovement(xi=0.0)
    with pytest.raises(ValueError, match="y_max is not set"):
        ei.base_acq(mean, std)
    ei.y_max = 0.0
    assert ei.base_acq(mean, std)[0] == pytest.approx(1 / np.sqrt(2 * np.pi))
    with pytest.raises(ValueError, match="kappa must be greater than or equal to 0"):
        acquisition.UpperConfidenceBound(kappa=-1)
    with pytest.raises(ValueError, match="exploration_decay must be greater than 0"):
        acquisition.ExpectedImprovement(exploration_decay=1.5)
    with pytest.raises(ValueError):
        acquisition.ConstantLiar(acquisition.UpperConfidenceBound(), strategy="nope")
    with pytest.raises(TypeError, match="ambiguous"):
        acquisition.GPHedge([acquisition.UpperConfidenceBound()]).base_acq(0.0, 0.0)


def test_acquisition_suggest_on_a_target_space():
    ts = TargetSpace(None, {"x": (1, 4), "y": (0, 3)})
    ucb = acquisition.UpperConfidenceBound(kappa=1.0, exploration_decay=0.5, exploration_decay_delay=2)
    with pytest.raises(exception.TargetSpaceEmptyError, match="Cannot suggest a point without previous samples"):
        ucb.suggest(target_space=ts)
    ts.register({"x": 2.5, "y": 0.5}, 3.0)
    with pytest.warns(UserWarning, match="not used"):
        row = ucb.suggest(gp=object(), target_space=ts, random_state=0)
    assert row.shape == (2,) and 1 <= row[0] <= 4 and 0 <= row[1] <= 3
    ucb.suggest(target_space=ts)
    assert ucb.kappa == 0.5  # bayes_opt's decay after the delay
    with pytest.raises(ValueError, match="n_random"):
        ucb.suggest(target_space=ts, n_random=0, n_smart=0)
    cts = TargetSpace(None, {"x": (1, 4), "y": (0, 3)}, constraint=ConstraintModel(None, 0.0, 1.0))
    cts.register({"x": 2.5, "y": 0.5}, 3.0, constraint_value=3.0)
    with pytest.raises(exception.ConstraintNotSupportedError):
        ucb.suggest(target_space=cts)
    with pytest.raises(exception.NoValidPointRegisteredError):
        acquisition.ExpectedImprovement().suggest(target_space=cts)


def test_constant_liar_keeps_suggestions_pending_until_registered():
    liar = acquisition.ConstantLiar(acquisition.UpperConfidenceBound())
    opt = BayesianOptimization(None, PB, acquisition_function=liar, random_state=0, verbose=0)
    for p in ({"p1": 1, "p2": 2}, {"p1": 8, "p2": 3}, {"p1": 4, "p2": 9}):
        opt.register(p, _sum(**p))
    batch = [opt.suggest() for _ in range(4)]
    assert len(liar.dummies) == 4 and len(opt.optimizer.pending) == 4
    rows = np.array([[p["p1"], p["p2"]] for p in batch])
    assert min(np.linalg.norm(rows[i] - rows[j]) for i in range(4) for j in range(i)) > 1e-3
    for p in batch:
        opt.register(p, _sum(**p))
    assert liar.dummies == [] and opt.optimizer.pending == []


def test_gp_hedge_portfolio_draws_and_gains():
    hedge = acquisition.GPHedge([acquisition.UpperConfidenceBound(), acquisition.ExpectedImprovement(),
                                 acquisition.ProbabilityOfImprovement()], random_state=0)
    opt = BayesianOptimization(_sum, PB, acquisition_function=hedge, random_state=0, verbose=0)
    opt.maximize(init_points=3, n_iter=4)
    assert len(opt.space) == 7 and np.any(hedge.gains != 0) and len(hedge.previous_candidates) == 3
    assert [a.i for a in hedge.base_acquisitions] == [4, 4, 4]


def test_gp_hedge_prefers_an_unregistered_proposal_and_custom_suggest_is_called():
    class Fixed(acquisition.AcquisitionFunction):
        def __init__(self, row):
            super().__init__()
            self.row, self.calls = np.asarray(row, dtype=float), 0

        def suggest(self, *args, **kwargs):
            self.calls += 1
            return self.row

    ts = TargetSpace(None, {"x": (1, 4), "y": (0, 3)})
    ts.register(np.array([2.5, 0.5]), 3.0)
    hedge = acquisition.GPHedge([Fixed([2.5, 0.5]), Fixed([3.0, 1.0])])
    hedge.gains = np.array([100.0, 0.0])  # the duplicate's acquisition would be drawn
    assert hedge.suggest(target_space=ts).tolist() == [3.0, 1.0]
    fixed = Fixed([1.5, 2.0])
    opt = BayesianOptimization(None, {"x": (1, 4), "y": (0, 3)}, acquisition_function=fixed, verbose=0)
    opt.register({"x": 2.0, "y": 2.0}, 1.0)
    assert opt.suggest() == {"x": 1.5, "y": 2.0} and fixed.calls == 1


def test_domain_reduction_shrinks_the_bounds():
    sdr = SequentialDomainReductionTransformer(minimum_window=0.5)
    opt = BayesianOptimization(lambda x, y: -x ** 2 - (y - 1) ** 2, {"x": (-10, 10), "y": (-10, 10)},
                               random_state=1, verbose=0, bounds_transformer=sdr)
    opt.maximize(init_points=2, n_iter=6)
    widths = np.diff(opt.space.bounds, axis=1).ravel()
    assert len(opt.space) == 8 and np.all(widths < 20) and np.all(widths >= 0.5 - 1e-9)
    assert len(sdr.bounds) == 7 and opt.optimizer.space.dims["x"].high < 10
    with pytest.raises(ValueError, match="minimum_window"):
        BayesianOptimization(None, {"x": (-0.5, 0.5)}, bounds_transformer=SequentialDomainReductionTransformer(
            minimum_window=2.0))
    with pytest.raises(ValueError, match="float parameters"):
        SequentialDomainReductionTransformer().initialize(TargetSpace(None, {"z": (1, 10, int)}))


def test_loads_a_state_file_written_by_bayes_opt():
    # tests/data/bayes_opt_3_4_state.json: written by bayes_opt 3.4.0's save_state
    # (UCB, pbounds p1, p2 in (0, 10), random_state=1, maximize(init_points=2, n_iter=3))
    path = DATA / "bayes_opt_3_4_state.json"
    theirs = json.loads(path.read_text())
    opt = BayesianOptimization(_sum, PB, random_state=1, verbose=0)
    opt.load_state(path)
    assert opt.space.params.tolist() == theirs["params"] and opt.space.target.tolist() == theirs["target"]
    assert opt.max["target"] == max(theirs["target"])
    assert opt.acquisition_function.kappa == theirs["acquisition_params"]["kappa"]
    p = opt.suggest()
    assert set(p) == {"p1", "p2"} and all(0 <= v <= 10 for v in p.values())


def test_own_state_file_reproduces_the_next_suggestion(tmp_path):
    a = BayesianOptimization(_sum, PB, random_state=1, verbose=0)
    a.maximize(init_points=2, n_iter=3)
    a.save_state(tmp_path / "s.json")
    assert {"pbounds", "keys", "params", "target", "random_state", "gpu_bo"} <= set(
        json.loads((tmp_path / "s.json").read_text()))
    b = BayesianOptimization(_sum, PB, random_state=1, verbose=0)
    b.load_state(tmp_path / "s.json")
    np.testing.assert_array_equal(a.space.params, b.space.params)
    assert a.suggest() == b.suggest()


def test_not_supported_say_so():
    with pytest.raises(NotImplementedError, match="wrap_kernel"):
        wrap_kernel(None, None)
    with pytest.raises(exception.TargetSpaceEmptyError):
        acquisition.UpperConfidenceBound().suggest(gp=None, target_space=TargetSpace(None, PB))


@pytest.mark.skipif(not HAS_CONSTRAINTS, reason="gpu_bo.Optimizer.tell has no constraints= in this tree")
def test_constraint_keeps_the_maximum_feasible():
    def g(x, y):
        return np.cos(x) * np.cos(y) - np.sin(x) * np.sin(y)

    con = NonlinearConstraint(g, -0.5, 0.5)
    opt = BayesianOptimization(lambda x, y: np.cos(2 * x) * np.cos(y) + np.sin(x), {"x": (0, 6), "y": (0, 6)},
                               constraint=con, random_state=1, verbose=0)
    assert isinstance(opt.constraint, ConstraintModel) and opt.is_constrained
    assert isinstance(opt.acquisition_function, acquisition.ExpectedImprovement)
    opt.maximize(init_points=3, n_iter=8)
    assert -0.5 <= g(**opt.max["params"]) <= 0.5
    assert {"constraint", "allowed"} <= set(opt.res[0])
    trials = opt.optimizer.trials
    assert all(t.constraints is not None and len(t.constraints) == 2 for t in trials)
    xy = np.array([[r["params"]["x"], r["params"]["y"]] for r in opt.res])
    assert np.allclose(opt.constraint.approx(xy), [r["constraint"] for r in opt.res], atol=1e-2)
    with pytest.raises(ValueError, match="Lower bounds must be less than upper bounds"):
        BayesianOptimization(None, {"x": (0, 1)}, constraint=NonlinearConstraint(lambda x: x, 1.0, 0.0))


def test_constraint_function_errors():
    with pytest.raises(ValueError, match="No constraint function was provided."):
        ConstraintModel(None, np.array([0, 0]), np.array([1, 1])).eval()
    cm = ConstraintModel(lambda a, b: a + b, -np.inf, 1.0)
    with pytest.raises(TypeError, match="Encountered TypeError when evaluating"):
        cm.eval(x=1, y=2)
    assert cm.outcome_constraints(3.0) == [2.0] and cm.allowed([0.5, 2.0]).tolist() == [True, False]
    if not HAS_CONSTRAINTS:
        with pytest.raises(NotImplementedError, match="constraint"):
            BayesianOptimization(None, {"x": (0, 1)}, constraint=NonlinearConstraint(lambda x: x, 0.0, 1.0))
