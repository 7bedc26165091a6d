"""gpu_bo.integrations.skopt: Optimizer, gp_minimize, callbacks, dump/load, plots, checked on the
public behaviours of scikit-optimize 0.10's own tests (test_optimizer.py, test_gp_opt.py,
test_callbacks.py, test_utils.py, test_plots.py), with no skopt installed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import OptimizeResult

from gpu_bo.integrations.skopt import Optimizer, dump, gp_minimize, load
from gpu_bo.integrations.skopt.callbacks import CheckpointSaver, DeadlineStopper, DeltaYStopper
from gpu_bo.integrations.skopt.space import Categorical, Integer, Real, Space
from gpu_bo.integrations.skopt.utils import use_named_args

KW = dict(device="cpu")


def quad(x):
    return (x[0] - 0.3) ** 2


def test_ask_without_tell_repeats_once_the_gp_decides():
    opt = Optimizer([(-2.0, 2.0)], n_initial_points=2, acq_func="EI", random_state=1, **KW)
    x0, x1 = opt.ask(), opt.ask()
    assert x0 != x1  # the initial design: a new point per ask
    r1 = opt.tell(x1, 3.0)
    assert len(r1.models) == 0
    x2 = opt.ask()
    assert x2 != x1
    r2 = opt.tell(x2, 4.0)
    assert len(r2.models) == 1  # the model is fitted on tell, as in skopt
    x3, x4 = opt.ask(), opt.ask()
    assert x3 == x4 and x3 != x2
    assert len(opt.tell(x3, 1.0).models) == 2


def test_tell_returns_a_scipy_result():
    opt = Optimizer([(-2.0, 2.0)], n_initial_points=1, acq_func="EI", **KW)
    res = opt.tell([1.5], 2.0)
    assert isinstance(res, OptimizeResult) and len(res.x_iters) == len(res.func_vals) == 1
    assert res.fun == np.min(res.func_vals) and res.x == [1.5]


@pytest.mark.parametrize("x, y, match", [
    ([1.0], [1.0, 1.0], "single point"),
    ([[1.0], [2.0]], [1.0, None], "finite number"),
    ([2.5], 2.0, "not within the bounds"),
    ([[2.5], [1.0]], [2.0, 3.0], "not within the bounds"),
    ([1.0, 1.0], 2.0, "Dimensions of point"),
    ([[1.0, 1.0], [1.0]], [2.0, 3.0], "dimensions as the space"),
])
def test_invalid_tells_raise_value_error(x, y, match):
    opt = Optimizer([(-2.0, 2.0)], n_initial_points=1, acq_func="EI", **KW)
    with pytest.raises(ValueError, match=match):
        opt.tell(x, y)
    assert opt.Xi == []  # nothing was recorded


@pytest.mark.parametrize("kwargs, match", [
    (dict(base_estimator="RF"), "base_estimator"),
    (dict(base_estimator=object()), "base_estimator"),
    (dict(acq_func="EIps"), "acq_func"),
    (dict(acq_func="nope"), "acq_func"),
    (dict(acq_optimizer="cobyla"), "acq_optimizer"),
    (dict(initial_point_generator="nope"), "initial_point_generator"),
    (dict(base_estimator="GBRT"), "base_estimator"),
    (dict(noise=1e-10), "noise"),
    (dict(space_constraint=lambda p: True), "space_constraint"),
    (dict(acq_func_kwargs={"eta": 1}), "acq_func_kwargs"),
    (dict(avoid_duplicates=False), "avoid_duplicates"),
])
def test_unsupported_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Optimizer([(-2.0, 2.0)], **kwargs)


def test_gp_string_estimators_are_accepted():
    for est in ("GP", "gp", None):
        Optimizer([(-2.0, 2.0)], base_estimator=est, **KW)


def test_batches_are_distinct_points():
    opt = Optimizer([Categorical(list(range(2, 12))), Categorical(list(range(2, 12)))], acq_func="EI", **KW)
    for n in range(12):
        opt.tell(opt.ask(), 12.0 * n)
    pts = opt.ask(n_points=4)
    assert len(pts) == 4 and len({tuple(p) for p in pts}) == 4


def test_gp_minimize_finds_the_minimum_with_each_acquisition():
    for acq in ("EI", "LCB", "PI"):
        r = gp_minimize(quad, [(-2.0, 2.0)], n_calls=12, n_initial_points=5, acq_func=acq, random_state=1, **KW)
        assert r.fun < 0.05, acq
        assert len(r.x_iters) == 12 and r.specs["function"] == "gp_minimize"


def test_gp_hedge_runs_a_portfolio_and_updates_its_gains():
    r = gp_minimize(quad, [(-2.0, 2.0)], n_calls=9, n_initial_points=5, random_state=0, **KW)
    assert r.fun < 0.1
    opt = Optimizer([(-2.0, 2.0)], n_initial_points=3, random_state=0, **KW)
    opt.run(quad, n_iter=6)
    assert np.any(opt.gains_ != 0)  # each acquisition's proposal was scored by the GP


def test_mixed_categorical_space_is_minimized():
    space = Space([Categorical(["1", "2", "3"], name="x"), Categorical([4, 5, 6], name="y"),
                   Real(1.0, 5.0, name="z")])
    r = gp_minimize(lambda p: int(p[0]) + p[1] * p[2], space, n_calls=16, acq_func="EI", random_state=1, **KW)
    assert r.x[1] == 4 and r.x[2] < 1.3


def test_finite_space_is_re_evaluated_with_a_warning():
    with pytest.warns(UserWarning, match="every point"):
        r = gp_minimize(lambda p: 1.0, [[1]], n_calls=2, n_initial_points=2, random_state=1, **KW)
    assert r.x_iters == [[1], [1]]


def test_x0_y0_and_n_calls_accounting():
    calls = []

    def f(x):
        calls.append(x)
        return quad(x)

    r = gp_minimize(f, [(-2.0, 2.0)], x0=[[0.0], [1.0]], n_calls=6, n_initial_points=2, acq_func="EI",
                    random_state=0, **KW)
    assert calls[:2] == [[0.0], [1.0]] and len(calls) == 6 and len(r.x_iters) == 6
    calls.clear()
    r = gp_minimize(f, [(-2.0, 2.0)], x0=[[0.0]], y0=[0.09], n_calls=4, n_initial_points=2, acq_func="EI",
                    random_state=0, **KW)
    assert len(calls) == 4 and len(r.x_iters) == 5 and r.x_iters[0] == [0.0]
    with pytest.raises(ValueError, match="n_calls"):
        gp_minimize(f, [(-2.0, 2.0)], n_calls=3, n_initial_points=5)
    with pytest.raises(ValueError, match="x0"):
        gp_minimize(f, [(-2.0, 2.0)], x0=[[0.0]], y0=[1.0, 2.0], n_calls=5, n_initial_points=1)


def test_n_jobs_evaluates_in_parallel_with_the_same_points():
    kw = dict(n_calls=7, n_initial_points=4, acq_func="EI", random_state=1, **KW)
    assert gp_minimize(quad, [(-2.0, 2.0)], n_jobs=2, **kw).x_iters == gp_minimize(quad, [(-2.0, 2.0)], **kw).x_iters


def test_random_state_int_and_randomstate_reproduce():
    kw = dict(n_calls=7, n_initial_points=4, acq_func="EI", **KW)
    a = gp_minimize(quad, [(-2.0, 2.0)], random_state=3, **kw).x_iters
    assert a == gp_minimize(quad, [(-2.0, 2.0)], random_state=3, **kw).x_iters
    b = gp_minimize(quad, [(-2.0, 2.0)], random_state=np.random.RandomState(3), **kw).x_iters
    assert b == gp_minimize(quad, [(-2.0, 2.0)], random_state=np.random.RandomState(3), **kw).x_iters


def test_callbacks_stop_and_stoppers(tmp_path):
    seen = []
    r = gp_minimize(quad, [(-2.0, 2.0)], n_calls=10, n_initial_points=5, callback=lambda res: seen.append(1) or
                    len(seen) >= 3, random_state=0, **KW)
    assert len(r.x_iters) == 3
    r = gp_minimize(lambda x: 1.0, [(-2.0, 2.0)], n_calls=10, n_initial_points=5,
                    callback=DeltaYStopper(0.01, n_best=3), random_state=0, **KW)
    assert len(r.x_iters) == 3
    stopper = DeadlineStopper(total_time=0.0)
    r = gp_minimize(quad, [(-2.0, 2.0)], n_calls=10, n_initial_points=5, callback=stopper, random_state=0, **KW)
    assert len(r.x_iters) == 2 and len(stopper.iter_time) == 2
    path = tmp_path / "ckpt.pkl"
    r = gp_minimize(quad, [(-2.0, 2.0)], n_calls=3, n_initial_points=3,
                    callback=CheckpointSaver(str(path), store_objective=False), random_state=0, **KW)
    assert load(str(path)).x_iters == r.x_iters
    with pytest.raises(ValueError, match="callback"):
        gp_minimize(quad, [(-2.0, 2.0)], n_calls=3, n_initial_points=3, callback=5)


def test_dump_load_roundtrip(tmp_path):
    r = gp_minimize(quad, [Real(-2.0, 2.0, name="x"), Integer(1, 3), Categorical(["a", "b"])], n_calls=4,
                    n_initial_points=4, random_state=0, **KW)
    dump(r, str(tmp_path / "r.pkl"))
    back = load(str(tmp_path / "r.pkl"))
    assert back.x == r.x and back.fun == r.fun and back.space == r.space
    np.testing.assert_array_equal(back.func_vals, r.func_vals)
    assert back.specs["args"]["n_calls"] == 4 and back.specs["args"]["func"] is quad
    dump(r, str(tmp_path / "r2.pkl"), store_objective=False)
    assert "func" not in load(str(tmp_path / "r2.pkl")).specs["args"]


def test_use_named_args():
    dims = [Real(0, 1, name="a"), Integer(1, 5, name="b")]

    @use_named_args(dims)
    def f(a, b):
        return a + b

    assert f([0.5, 2]) == 2.5
    with pytest.raises(ValueError, match="names"):
        use_named_args([Real(0, 1)])


def test_plots_draw_results():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from gpu_bo.integrations.skopt import plots

    r = gp_minimize(lambda x: quad(x) + x[1], [(-2.0, 2.0), (0, 3)], n_calls=6, n_initial_points=6,
                    random_state=0, **KW)
    assert plots.plot_convergence(r, ("other", r), true_minimum=0.0) is not None
    assert plots.plot_evaluations(r).shape == (2, 2)
    assert plots.plot_objective(r, n_points=10, n_samples=16).shape == (2, 2)
    for option in ("sample_source", "levels"):
        with pytest.raises(TypeError, match=option):
            plots.plot_objective(r, **{option: 10})


def test_std_stopper_reads_each_fits_training_std():
    from gpu_bo.integrations.skopt.callbacks import StdStopper

    res = gp_minimize(quad, [(-2.0, 2.0)], n_calls=8, n_initial_points=3, acq_func="EI", random_state=0, **KW)
    stds = [m["y_train_std"] for m in res.models]
    assert stds[0] == pytest.approx(np.std(res.func_vals[:3]))
    assert StdStopper(max(stds) + 1.0)(res) is True and StdStopper(min(stds) / 2)(res) is False
    stopped = gp_minimize(quad, [(-2.0, 2.0)], n_calls=8, n_initial_points=3, acq_func="EI", random_state=0,
                          callback=StdStopper(1e9), **KW)
    assert len(stopped.x_iters) == 3  # stopped at the first fit


def test_list_and_name_checks_and_has_gradients():
    from gpu_bo.integrations.skopt.space import Dimension
    from gpu_bo.integrations.skopt.utils import (check_dimension_names, check_list_types, cook_estimator,
                                                 has_gradients)

    named = [Real(0.0, 1.0, name="a"), Integer(1, 3, name="b")]
    check_dimension_names(named)
    check_list_types(named, Dimension)
    with pytest.raises(ValueError, match="must have names"):
        check_dimension_names(named + [Real(0.0, 1.0)])
    with pytest.raises(ValueError, match="instances of"):
        check_list_types(named + ["x"], Dimension)
    assert has_gradients(cook_estimator("GP")) and not has_gradients(cook_estimator("DUMMY"))
