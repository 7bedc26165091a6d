"""Tests of gpu_bo.hp, the hyperopt-style space helpers."""

from __future__ import annotations

import math

import pytest
import torch

import gpu_bo as gb
from gpu_bo import hp


def test_uniform_and_loguniform_bounds():
    u = hp.uniform("x", -2.0, 3.0)
    assert isinstance(u, gb.Real) and (u.low, u.high, u.log) == (-2.0, 3.0, False)
    lu = hp.loguniform("C", -3, 3)  # hyperopt: low/high are logarithms
    assert lu.log and lu.low == pytest.approx(math.exp(-3)) and lu.high == pytest.approx(math.exp(3))


def test_quniform_keeps_step_and_bounds():
    dim = hp.quniform("a", 0.05, 1.0, 0.1)
    space = hp.to_space({"a": dim})
    vals = sorted({p["a"] for p in space.sample_params(64, seed=1)})
    assert len(vals) > 3
    for v in vals:
        assert isinstance(v, float)
        assert abs(v / 0.1 - round(v / 0.1)) < 1e-9, v  # on the grid
        assert 0.05 <= v <= 1.0 + 1e-12
    assert dim.low == pytest.approx(0.1) and dim.high == pytest.approx(1.0) and dim.step == 0.1


def test_quniform_whole_numbers_give_ints_and_roundtrip():
    space = hp.to_space([hp.quniform("n", 50, 500, 50), hp.choice("k", ["rbf", "lin"])])
    ps = space.sample_params(16, seed=3)
    assert all(isinstance(p["n"], int) and p["n"] % 50 == 0 and 50 <= p["n"] <= 500 for p in ps)
    assert space.decode(space.encode(ps)) == ps
    # snap (used by the maximizer on device) lands on the grid as well
    X = space.snap(torch.rand(32, space.d, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    assert all(p["n"] % 50 == 0 for p in space.decode(X))


def test_quniform_rejects_off_grid_values():
    space = hp.to_space({"n": hp.quniform("n", 0, 100, 10)})
    space.validate({"n": 30})
    with pytest.raises(gb.SpaceError, match="on the grid"):
        space.validate({"n": 35})
    with pytest.raises(gb.SpaceError, match="on the grid"):
        space.validate({"n": 110})


def test_qloguniform_on_log_grid():
    dim = hp.qloguniform("h", 0.0, 5.0, 2)
    assert dim.log and dim.low == 2 and dim.high <= math.exp(5) and dim.step == 2
    ps = hp.to_space([dim]).sample_params(32, seed=0)
    assert all(p["h"] % 2 == 0 for p in ps)


def test_randint_half_open():
    assert (hp.randint("r", 5).low, hp.randint("r", 5).high) == (0, 4)
    assert (hp.randint("r", 2, 9).low, hp.randint("r", 2, 9).high) == (2, 8)
    with pytest.raises(gb.SpaceError, match="int"):
        hp.randint("r", 2.5)


def test_choice_returns_values_and_rejects_nesting():
    c = hp.choice("k", ["a", None, 3])
    assert isinstance(c, gb.Categorical) and c.choices == ("a", None, 3)
    with pytest.raises(gb.SpaceError, match="nested"):
        hp.choice("k", [{"x": hp.uniform("x", 0, 1)}])
    with pytest.raises(gb.SpaceError, match="gpu_bo.integrations.hyperopt"):
        hp.choice("k", [{"x": hp.uniform("x", 0, 1)}])


@pytest.mark.parametrize("call, match", [
    (lambda: hp.uniform("", 0, 1), "name"),
    (lambda: hp.uniform("x", 1, 0), "low"),
    (lambda: hp.quniform("x", 0, 1, 0), "q"),
    (lambda: hp.quniform("x", 0.1, 0.7, 0.5), "fewer than two"),
    (lambda: hp.loguniform("x", "a", 1), "low"),
])
def test_bad_input_names_the_problem(call, match):
    with pytest.raises(gb.SpaceError, match=match):
        call()


def test_to_space_key_must_match_label():
    with pytest.raises(gb.SpaceError, match="label"):
        hp.to_space({"C": hp.uniform("gamma", 0, 1)})
    with pytest.raises(gb.SpaceError, match="more than once"):
        hp.to_space([hp.uniform("a", 0, 1), hp.uniform("a", 0, 2)])


def test_hp_dims_mix_with_gpu_bo_dims():
    space = gb.Space({"lr": hp.loguniform("lr", -9, -1), "layers": gb.Integer(1, 4), "k": ["a", "b"]})
    for p in space.sample_params(5, seed=0):
        space.validate(p)


def test_quniform_space_survives_optimizer_state_round_trip():
    space = {"n": hp.quniform("n", 0, 100, 10), "a": hp.quniform("a", 0, 1, 0.1)}
    opt = gb.Optimizer(space, seed=0, device="cpu")
    for _ in range(3):
        p = opt.ask()
        opt.tell(p, p["a"])
    again = gb.Optimizer(space, seed=0, device="cpu")
    again.load_state_dict(opt.state_dict())
    assert [t.params for t in again.trials] == [t.params for t in opt.trials]
    p = again.ask()
    assert p["n"] % 10 == 0 and abs(p["a"] * 10 - round(p["a"] * 10)) < 1e-9


def test_canonical_points_keep_stepped_values():
    space = hp.to_space({"q": hp.quniform("q", 0, 1, 0.1), "k": hp.quniform("k", 10, 50, 10)})
    p = space.canonical({"q": 0.30000000000000004, "k": 20.0})
    assert p == {"q": 0.30000000000000004, "k": 20} and type(p["k"]) is int


def test_quniform_is_a_native_stepped_dimension_whose_step_survives_to_dict():
    space = hp.to_space({"n": hp.quniform("n", 50, 500, 50), "a": hp.quniform("a", 0.05, 1.0, 0.1),
                         "h": hp.qloguniform("h", 0.0, 3.0, 0.5)})
    assert isinstance(space.dims["n"], gb.Integer) and space.dims["n"].step == 50
    assert isinstance(space.dims["a"], gb.Real) and space.dims["a"].step == 0.1
    d = space.to_dict()
    assert d["n"]["step"] == 50 and d["a"]["step"] == 0.1 and d["h"]["step"] == 0.5 and d["h"]["log"]
    again = gb.Space.from_dict(d)
    assert again.to_dict() == d and again.dims["a"].step == 0.1
    ps = again.sample_params(32, seed=2)
    assert all(abs(p["h"] / 0.5 - round(p["h"] / 0.5)) < 1e-9 and 1.0 <= p["h"] <= math.exp(3) for p in ps)


def test_quniform_name_stays_importable():
    from gpu_bo.hp import QUniform

    dim = QUniform(0, 10, 2.5, name="x")
    assert isinstance(dim, gb.Real) and (dim.low, dim.high, dim.step) == (0.0, 10.0, 2.5)
    assert isinstance(QUniform(0, 10, 2, as_int=True), gb.Integer)
