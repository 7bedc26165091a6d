"""gpu_bo.integrations.skopt: initial point generators, "DUMMY" / dummy_minimize and
expected_minimum, checked on the public behaviours of scikit-optimize 0.10's test_sampler.py,
test_optimizer.py, test_dummy_opt.py and test_utils.py."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_bo.integrations.skopt import (Optimizer, dummy_minimize, expected_minimum,
                                       expected_minimum_random_sampling, gp_minimize)
from gpu_bo.integrations.skopt.sampler import Grid, Halton, Hammersly, Lhs, Sobol
from gpu_bo.integrations.skopt.space import Categorical, Integer, Real
from gpu_bo.integrations.skopt.utils import cook_estimator

KW = dict(device="cpu")
GENERATORS = ["lhs", "halton", "hammersly", "grid"]


def quad(x):
    return (x[0] - 0.3) ** 2


@pytest.mark.parametrize("gen", [Lhs(), Lhs(lhs_type="centered", criterion=None), Lhs(criterion="correlation"),
                                 Lhs(criterion="ratio", iterations=20), Halton(), Hammersly(), Grid(),
                                 Grid(border="include"), Sobol()])
def test_generators_fill_the_space_reproducibly(gen):
    dims = [Real(-2.0, 2.0), Integer(0, 9), Categorical(["a", "b", "c"])]
    a = gen.generate(dims, 9, random_state=3)
    assert len(a) == 9 and all(len(p) == 3 for p in a)
    assert all(-2.0 <= p[0] <= 2.0 and p[1] in range(10) and p[2] in "abc" for p in a)
    assert gen.generate(dims, 9, random_state=3) == a
    assert len({p[0] for p in a}) >= 3  # spread, not one repeated point


def test_lhs_puts_one_point_in_each_stratum():
    for seed in range(5):
        pts = np.array(Lhs().generate([Real(0.0, 1.0), Real(0.0, 1.0)], 8, random_state=seed))
        for col in pts.T:
            assert sorted(np.floor(col * 8).astype(int)) == list(range(8))
    centred = np.array(Lhs(lhs_type="centered", criterion=None).generate([Real(0.0, 1.0)], 4, random_state=0))
    np.testing.assert_allclose(sorted(centred[:, 0]), [0.125, 0.375, 0.625, 0.875])


def test_lhs_maximin_spreads_more_than_one_draw():
    from scipy.spatial.distance import pdist

    dims = [Real(0.0, 1.0), Real(0.0, 1.0)]
    best = [pdist(np.array(Lhs(criterion="maximin", iterations=200).generate(dims, 10, random_state=s))).min()
            for s in range(10)]
    plain = [pdist(np.array(Lhs(criterion=None).generate(dims, 10, random_state=s))).min() for s in range(10)]
    assert np.mean(best) > np.mean(plain)


def test_hammersly_first_dimension_is_i_over_n_and_grid_levels():
    pts = np.array(Hammersly().generate([Real(0.0, 1.0), Real(0.0, 1.0)], 5, random_state=0))
    np.testing.assert_allclose(pts[:, 0], np.arange(5) / 5)
    g = np.array(Grid().generate([Real(0.0, 1.0), Real(0.0, 1.0)], 9, random_state=0))
    assert sorted(set(np.round(g[:, 0], 9))) == pytest.approx([1 / 6, 0.5, 5 / 6])
    assert len({tuple(p) for p in g}) == 9
    gi = np.array(Grid(border="include").generate([Real(0.0, 1.0)], 3, random_state=0))
    np.testing.assert_allclose(sorted(gi[:, 0]), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(initial_point_generator="nope"), "initial_point_generator"),
    (dict(initial_point_generator=object()), "initial_point_generator"),
])
def test_unknown_generator_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Optimizer([(-2.0, 2.0)], **kwargs, **KW)


@pytest.mark.parametrize("make, match", [
    (lambda: Lhs(lhs_type="nope"), "lhs_type"), (lambda: Lhs(criterion="nope"), "criterion"),
    (lambda: Halton(primes=[2]), "primes"), (lambda: Halton(min_skip=3, max_skip=1), "min_skip"),
    (lambda: Grid(border="only"), "border"), (lambda: Grid(use_full_layout=False), "use_full_layout"),
])
def test_generator_options_refused_by_name(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("gen", GENERATORS)
def test_optimizer_asks_the_generators_design_first(gen):
    opt = Optimizer([(0.0, 1.0)], n_initial_points=4, initial_point_generator=gen, acq_func="EI",
                    random_state=2, **KW)
    assert opt.ask() == opt.ask()  # the design's next point stays until a tell
    batch = opt.ask(n_points=3)
    first = []
    for _ in range(4):
        x = opt.ask()
        first.append(x[0])
        r = opt.tell(x, quad(x))
    assert batch == [[v] for v in first[:3]]
    if gen == "lhs":
        assert sorted(np.floor(np.array(first) * 4).astype(int)) == [0, 1, 2, 3]
    assert len(r.models) == 1  # then the GP decides


@pytest.mark.parametrize("gen", GENERATORS)
def test_gp_minimize_with_each_generator(gen):
    res = gp_minimize(quad, [(-2.0, 2.0), Integer(0, 3)], n_calls=6, n_initial_points=5, acq_func="EI",
                      initial_point_generator=gen, random_state=0, **KW)
    assert len(res.x_iters) == 6 and len(res.models) == 2  # fitted after the 5th and the 6th tell
    again = gp_minimize(quad, [(-2.0, 2.0), Integer(0, 3)], n_calls=5, n_initial_points=5, acq_func="EI",
                        initial_point_generator=gen, random_state=0, **KW)
    assert again.x_iters == res.x_iters[:5]


@pytest.mark.parametrize("name", ["dummy", "DUMMY", "Dummy"])
def test_dummy_is_random_search(name):
    opt = Optimizer([(-2.0, 2.0)], name, n_initial_points=2, random_state=1, **KW)
    for _ in range(3):
        x = opt.ask()
        r = opt.tell(x, quad(x))
    x3, x4 = opt.ask(), opt.ask()
    assert x3 != x4  # no model: each ask a new random point
    assert r.models == [] and len(opt.ask(n_points=4)) == 4
    assert cook_estimator(name) is None


def test_dummy_minimize():
    res = dummy_minimize(quad, [(-2.0, 2.0)], n_calls=12, random_state=4)
    assert len(res.x_iters) == 12 and res.models == [] and res.specs["function"] == "dummy_minimize"
    assert res.fun == min(res.func_vals)
    assert dummy_minimize(quad, [(-2.0, 2.0)], n_calls=12, random_state=4).x_iters == res.x_iters
    with_x0 = dummy_minimize(quad, [(-2.0, 2.0)], n_calls=5, x0=[[0.1], [0.2]], random_state=0)
    assert len(with_x0.x_iters) == 5 and with_x0.x_iters[:2] == [[0.1], [0.2]]
    told = dummy_minimize(quad, [(-2.0, 2.0)], n_calls=3, x0=[0.1], y0=[9.0], random_state=0)
    assert len(told.x_iters) == 4 and told.func_vals[0] == 9.0
    lhs = dummy_minimize(quad, [(0.0, 1.0)], n_calls=5, initial_point_generator="lhs", random_state=0)
    assert sorted(np.floor(np.array(lhs.x_iters)[:, 0] * 5).astype(int)) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("name", ["RF", "ET", "GBRT", "gbrt"])
def test_tree_estimators_stay_refused(name):
    with pytest.raises(ValueError, match="base_estimator.*not gpu_bo's engine"):
        Optimizer([(-2.0, 2.0)], name, **KW)


def test_bayes_search_cv_refuses_dummy_and_generators():
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    from gpu_bo.integrations.skopt import BayesSearchCV

    X, y = load_iris(return_X_y=True)
    for kw in ({"base_estimator": "DUMMY"}, {"initial_point_generator": "lhs"}):
        with pytest.raises(ValueError):
            BayesSearchCV(SVC(), {"C": (0.1, 10.0)}, n_iter=2, optimizer_kwargs=kw).fit(X, y)


@pytest.fixture(scope="module")
def quad_result():
    return gp_minimize(quad, [(-2.0, 2.0)], n_calls=8, n_initial_points=4, acq_func="EI", random_state=1, **KW)


def test_expected_minimum_minimizes_the_posterior_mean(quad_result):
    x, f = expected_minimum(quad_result, random_state=1)
    assert (x, f) == expected_minimum(quad_result, random_state=1)
    assert -2.0 <= x[0] <= 2.0 and abs(x[0] - 0.3) < 0.3
    assert f <= max(quad_result.func_vals) and f < 0.1
    xr, fr = expected_minimum_random_sampling(quad_result, n_random_starts=2000, random_state=1)
    assert (xr, fr) == expected_minimum_random_sampling(quad_result, n_random_starts=2000, random_state=1)
    assert f <= fr + 1e-6  # the gradient search is at least as good as the random points


def test_expected_minimum_with_categoricals_and_without_a_model():
    res = gp_minimize(lambda x: quad(x) + (x[1] == "b"), [(-2.0, 2.0), Categorical(["a", "b"])], n_calls=7,
                      n_initial_points=5, acq_func="EI", random_state=0, **KW)
    x, f = expected_minimum(res, random_state=0)
    assert x[1] in ("a", "b") and np.isfinite(f)
    with pytest.raises(ValueError, match="res: has no fitted model"):
        expected_minimum(dummy_minimize(quad, [(-2.0, 2.0)], n_calls=4, random_state=0))


def test_plot_gaussian_process_draws_the_fit_and_refuses_what_it_cannot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gpu_bo.integrations.skopt.plots import plot_gaussian_process

    res = gp_minimize(quad, [(-2.0, 2.0)], n_calls=5, n_initial_points=3, acq_func="EI", random_state=0, **KW)
    fig, ax = plt.subplots()
    out = plot_gaussian_process(res, ax=ax, n_calls=0, objective=quad, noise_level=0.1)
    assert out is ax and "3 points" in ax.get_title()  # models[0] was fitted on the first 3 points
    mean = ax.lines[1].get_ydata()
    assert np.min(mean) < max(res.func_vals[:3])
    assert len(ax.lines[2].get_xdata()) == 3  # the observations of that fit
    with pytest.raises(TypeError, match="show_acq_func"):
        plot_gaussian_process(res, show_acq_func=True)
    with pytest.raises(ValueError, match="one Real or Integer"):
        plot_gaussian_process(gp_minimize(lambda x: quad(x), [(-2.0, 2.0), (0, 3)], n_calls=3, n_initial_points=2,
                                          acq_func="EI", random_state=0, **KW))
    with pytest.raises(ValueError, match="no fitted model"):
        plot_gaussian_process(dummy_minimize(quad, [(-2.0, 2.0)], n_calls=3, random_state=0))
    plt.close("all")
