"""gpu_bo.integrations.skopt.space: scikit-optimize 0.10's dimensions and Space, checked on the
behaviours of skopt's own tests (skopt/tests/test_space.py), with no skopt installed."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_bo import space as gb_space
from gpu_bo.integrations.skopt.space import Categorical, Integer, Real, Space, check_dimension
from gpu_bo.integrations.skopt.utils import normalize_dimensions


def test_seeded_samples_are_skopts():
    # skopt draws from scipy.stats with these parameters; the same seed gives its numbers
    assert Real(1, 4).rvs(random_state=1) == pytest.approx([2.251066014107722])
    assert list(np.atleast_1d(Integer(1, 4).rvs(random_state=1))) == [2]
    assert Categorical(("a", "b", "c", "d")).rvs(random_state=1) == "b"


@pytest.mark.parametrize("arg, expected", [
    ((0, 1), Integer(0, 1)),
    ([0, 1], Integer(0, 1)),
    ([0.1, 0.9], Real(0.1, 0.9)),          # a two-number list is a range, as skopt 0.10 reads it
    ((0.0, 1), Real(0, 1)),
    ((1, 2, "log-uniform"), Integer(1, 2, "log-uniform")),
    ((1.0, 2.0, "log-uniform"), Real(1, 2, "log-uniform")),
    ((1e-3, 1e3, "log-uniform", 2), Real(1e-3, 1e3, "log-uniform", base=2)),
    ([23], Categorical([23])),
    (["a", "b"], Categorical(["a", "b"])),
    ((True, False), Categorical([True, False])),
    ([1, 2, 3], Categorical([1, 2, 3])),
    (np.array([True, False]), Categorical([True, False])),
])
def test_check_dimension_reads_forms_as_skopt(arg, expected):
    assert check_dimension(arg) == expected


@pytest.mark.parametrize("arg", ["23", (1j, 2), {"key": "value"}, 5])
def test_invalid_dimensions_raise_value_error(arg):
    with pytest.raises(ValueError, match="Invalid dimension"):
        check_dimension(arg)


@pytest.mark.parametrize("cls, bounds", [(Real, (2, 1)), (Integer, (2, 1)), (Real, (2, 2)), (Integer, (2, 2))])
def test_bounds_must_be_increasing(cls, bounds):
    with pytest.raises(ValueError, match="less than the upper bound"):
        cls(*bounds)


@pytest.mark.parametrize("cls, bounds", [(Real, (0, 1)), (Integer, (-1, 1)), (Real, (-1, 0))])
def test_log_uniform_refuses_zero(cls, bounds):
    with pytest.raises(ValueError, match="should not contain 0 when using log-uniform prior"):
        cls(*bounds, prior="log-uniform")


@pytest.mark.parametrize("name", [1, 1.0, True])
def test_names_must_be_str_or_none(name):
    with pytest.raises(ValueError, match="Dimension's name must be either string or None."):
        Real(1, 2, name=name)


def test_transform_roundtrip_and_bounds():
    space = Space([(0.0, 1.0), (-5, 5), ["a", "b", "c"], (1.0, 5.0, "log-uniform"), ["e", "f"]])
    X = space.rvs(n_samples=10, random_state=0)
    assert len(X) == 10 and all(len(x) == 5 for x in X)
    Xt = space.transform(X)
    assert Xt.shape == (10, 1 + 1 + 3 + 1 + 1)  # one-hot for three categories, one column for two
    back = space.inverse_transform(Xt)
    assert all(space.distance(a, b) < 1e-8 for a, b in zip(X, back))
    assert isinstance(back[0][1], int) and isinstance(back[0][2], str)
    assert space.bounds[1] == (-5, 5) and space.transformed_n_dims == 7
    space.set_transformer("normalize")
    assert np.all((space.transform(X) >= 0) & (space.transform(X) <= 1))
    with pytest.raises(ValueError, match="should be 'normalize' or 'identity'"):
        Real(2, 30, transform="nope")


def test_log_uniform_transform_is_log_base():
    d = Real(1e-5, 1e5, prior="log-uniform")
    v = d.rvs(n_samples=10, random_state=0)
    np.testing.assert_array_equal(d.transform(v), np.log10(v))
    np.testing.assert_allclose(d.inverse_transform(d.transform(v)), v, rtol=1e-12)
    assert all(1e-5 <= x <= 1e5 for x in v)


def test_contains_distance_constant():
    r, i, c = Real(1.0, 2.1), Integer(1, 10), Categorical(["car", "dog"])
    assert 2.1 in r and np.nextafter(2.1, 3.0) not in r
    assert i.distance(4, 9) == 5 and c.distance("car", "dog") == 1 and c.distance("dog", "dog") == 0
    with pytest.raises(RuntimeError, match="compute distance for values within"):
        i.distance(11, 10)
    space = Space([(0.0, 1.0), [1], ["a", "b"], ["e"]])
    assert space.n_constant_dimensions == 2


def test_space_equality_names_and_lookup():
    assert Space([Real(0.0, 1.0)]) == Space([(0.0, 1.0)]) == Space([(0, 1.0, "uniform")])
    assert Space([[True, False]]) == Space([np.array([True, False])])
    s = Space([Real(1, 2, name="a"), Integer(1, 100, name="b"), Categorical(["red"], name="c")])
    assert s["a"] == (0, s.dimensions[0]) and s[["a", "c"]] == [(0, s.dimensions[0]), (2, s.dimensions[2])]
    with pytest.raises(ValueError, match="same length"):
        s.dimension_names = ["d", "e"]
    assert Space(s) == s and s.is_partly_categorical and not s.is_categorical


def test_constraint_filters_samples_and_unsatisfiable_raises():
    def ok(p):
        return p[0] ** 2 + p[1] ** 2 <= 1

    space = Space([Integer(-1, 3), Real(-1, 3)], constraint=ok)
    assert all(ok(p) for p in space.rvs(200, random_state=0))
    with pytest.raises(RuntimeError, match="constraint"):
        Space([Integer(0, 1)], constraint=lambda _: False).rvs(1)


def test_to_gpu_bo_keeps_kinds_logs_names_and_points():
    space = Space([Real(1e-3, 1.0, "log-uniform", name="lr"), Integer(1, 8), Categorical(["a", "b"])])
    gb = space.to_gpu_bo()
    assert list(gb.dims) == ["lr", "x1", "x2"]
    assert gb.dims["lr"] == gb_space.Real(1e-3, 1.0, log=True) and gb.dims["x1"] == gb_space.Integer(1, 8)
    p = space.to_params([0.01, 3, "b"])
    assert space.from_params(p) == [0.01, 3, "b"]
    with pytest.raises(ValueError, match="Dimensions of point"):
        space.to_params([0.01, 3])
    with pytest.raises(ValueError, match="not within the bounds"):
        space.to_params([5.0, 3, "b"])


def test_gpu_bo_dimensions_are_accepted():
    assert check_dimension(gb_space.Real(0.1, 1.0, log=True)) == Real(0.1, 1.0, "log-uniform")
    assert check_dimension(gb_space.Categorical(["x", "y"])) == Categorical(["x", "y"])


def test_normalize_dimensions_maps_to_unit_interval():
    space = normalize_dimensions([(-999, 189000), Categorical((True, False))])
    for a in np.linspace(1e-9, 1.0, 50):
        x = space.inverse_transform([[a, a]])
        assert -999 <= x[0][0] <= 189000
        assert np.all((space.transform(x) >= 0) & (space.transform(x) <= 1))


def test_from_yaml(tmp_path):
    pytest.importorskip("yaml")
    f = tmp_path / "space.yml"
    f.write_text("Space:\n  - Real: {low: 0.0, high: 1.0}\n  - Integer: {low: -5, high: 5}\n"
                 "  - Categorical: {categories: [a, b]}\n")
    assert Space.from_yaml(str(f)) == Space([(0.0, 1.0), (-5, 5), ["a", "b"]])


def test_objects_of_a_real_skopt_are_accepted():
    skspace = pytest.importorskip("skopt.space")
    dims = [skspace.Real(1e-3, 1.0, prior="log-uniform", name="lr"), skspace.Integer(1, 5), skspace.Categorical(["a"])]
    assert Space(dims) == Space([Real(1e-3, 1.0, "log-uniform"), Integer(1, 5), Categorical(["a"])])


def test_space_from_df():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.5, 1.0, 2.0], "b": [50, 1, 100], "c": ["red", "blue", "blue"], 4: [True, False, True]})
    got = Space.from_df(df, priors={"a": "log-uniform"}, bases={"b": 2}, transforms={"b": "normalize"})
    assert got == Space([Real(1.0, 2.0, prior="log-uniform"), Integer(1, 100, base=2, transform="normalize"),
                         Categorical(["red", "blue"]), Categorical([True, False])])
    assert got.dimension_names == ["a", "b", "c", "4"]
