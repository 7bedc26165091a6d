from __future__ import annotations

import collections
import enum
import math

import pytest
import torch

import gpu_bo as gb
from gpu_bo.space import as_space


def mixed_space() -> gb.Space:
    return gb.Space({
        "lr": gb.Real(1e-5, 1e-1, log=True),
        "x": gb.Real(-2.0, 3.0),
        "layers": gb.Integer(1, 4),
        "units": gb.Integer(8, 512, log=True),
        "opt": gb.Categorical(["adam", "sgd", None, True, 1, 2.5]),
    })


def test_shorthand_builds_the_right_dimensions():
    s = gb.Space({"C": (0.1, 15.0), "n": (1, 8), "k": ["a", "b"], "g": (1e-3, 1e3, "log-uniform")})
    assert isinstance(s.dims["C"], gb.Real) and s.dims["C"].low == 0.1
    assert isinstance(s.dims["n"], gb.Integer) and s.dims["n"].high == 8
    assert isinstance(s.dims["k"], gb.Categorical) and s.dims["k"].choices == ("a", "b")
    assert s.dims["g"].log is True
    assert as_space(s) is s


def test_round_trip_is_exact_for_every_integer_and_category():
    s = mixed_space()
    for layers in range(1, 5):
        for units in range(8, 513):
            for opt in s.dims["opt"].choices:
                p = {"lr": 1e-3, "x": 0.5, "layers": layers, "units": units, "opt": opt}
                back = s.decode(s.encode(p))[0]
                assert back["layers"] == layers and back["units"] == units
                assert back["opt"] is opt or (back["opt"] == opt and type(back["opt"]) is type(opt))
            if units > 20:
                break


def test_round_trip_reals_and_types():
    s = mixed_space()
    p = {"lr": 3.3e-4, "x": -1.25, "layers": 3, "units": 100, "opt": True}
    back = s.decode(s.encode(p))[0]
    assert math.isclose(back["lr"], 3.3e-4, rel_tol=1e-12)
    assert math.isclose(back["x"], -1.25, rel_tol=1e-12)
    assert type(back["layers"]) is int and type(back["opt"]) is bool
    # 1 and True are distinct categories
    assert s.decode(s.encode({**p, "opt": 1}))[0]["opt"] == 1
    assert type(s.decode(s.encode({**p, "opt": 1}))[0]["opt"]) is int


def test_decode_of_any_unit_point_is_valid_and_sample_is_snapped():
    s = mixed_space()
    X = torch.rand(500, s.d, dtype=torch.float64)
    for p in s.decode(X):
        s.validate(p)
    S = s.sample(64, seed=3)
    assert S.shape == (64, s.d) and S.min() >= 0 and S.max() <= 1
    assert torch.allclose(s.snap(S), S)
    assert torch.allclose(s.encode(s.decode(S)), S, atol=1e-12)
    # same seed, same points; different seed, different points
    assert torch.equal(s.sample(8, seed=1), s.sample(8, seed=1))
    assert not torch.equal(s.sample(8, seed=1), s.sample(8, seed=2))


@pytest.mark.parametrize("make, words", [
    (lambda: gb.Real(1.0, 1.0), ["low=1.0", "high=1.0"]),
    (lambda: gb.Real(2.0, 1.0), ["low=2.0"]),
    (lambda: gb.Real(0.0, math.inf), ["high=inf", "finite"]),
    (lambda: gb.Real(float("nan"), 1.0), ["nan"]),
    (lambda: gb.Real(0.0, 1.0, log=True), ["log", "low=0.0"]),
    (lambda: gb.Integer(-1, 5, log=True), ["log", "low=-1"]),
    (lambda: gb.Integer(1.5, 5), ["1.5"]),
    (lambda: gb.Categorical([]), ["empty"]),
    (lambda: gb.Categorical(["a", "b", "a"]), ["'a'", "more than once"]),
    (lambda: gb.Space({"x": object()}), ["'x'", "object"]),
    (lambda: gb.Space({"x": (1, 2, 3)}), ["'x'", "(1, 2, 3)"]),
    (lambda: gb.Space({}), ["empty"]),
])
def test_bad_dimensions_name_the_problem(make, words):
    with pytest.raises((ValueError, TypeError)) as e:
        make()
    for w in words:
        assert w in str(e.value)


def test_bad_points_name_parameter_and_value():
    s = mixed_space()
    ok = {"lr": 1e-3, "x": 0.0, "layers": 2, "units": 16, "opt": "sgd"}
    s.validate(ok)
    cases = [
        ({**ok, "x": 7.0}, ["'x'", "7.0"]),
        ({**ok, "layers": 9}, ["'layers'", "9"]),
        ({**ok, "layers": 2.5}, ["'layers'", "2.5"]),
        ({**ok, "opt": "rmsprop"}, ["'opt'", "rmsprop"]),
        ({k: v for k, v in ok.items() if k != "lr"}, ["missing", "lr"]),
        ({**ok, "extra": 1}, ["unknown", "extra"]),
        ({**ok, "x": float("nan")}, ["'x'", "nan"]),
    ]
    for p, words in cases:
        with pytest.raises(gb.SpaceError) as e:
            s.validate(p)
        for w in words:
            assert w in str(e.value), (p, str(e.value))


def test_numpy_scalars_are_accepted():
    np = pytest.importorskip("numpy")
    s = gb.Space({"n": (1, 8), "c": [1, 2, 3], "x": (0.0, 1.0)})
    p = {"n": np.int64(3), "c": np.int64(2), "x": np.float32(0.5)}
    assert s.decode(s.encode(p))[0] == {"n": 3, "c": 2, "x": 0.5}


def test_bounds_decode_exactly():
    s = gb.Space({"C": gb.Real(1e-3, 1e3, log=True), "x": gb.Real(0.1, 15.0)})
    lo, hi = s.decode(torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64))
    assert lo == {"C": 1e-3, "x": 0.1} and hi == {"C": 1e3, "x": 15.0}


def test_to_dict_round_trip():
    s = mixed_space()
    assert gb.Space.from_dict(s.to_dict()) == s


def test_one_identity_key_for_a_point():
    """Space.key(params), point_key(tensor) and row_key(list) are one key with one rounding."""
    from gpu_bo.space import point_key, row_key

    space = mixed_space()
    p = {"lr": 3e-3, "x": 0.25, "layers": 2, "units": 64, "opt": None}
    x = space.encode(p)
    assert space.key(p) == point_key(x) == row_key(x.tolist())
    # a decode/encode round trip (the path of a suggestion told back) keeps the key
    assert space.key(space.decode(x)[0]) == point_key(x)
    # values closer than the rounding are the same point; a visible step is another
    nudged = x.clone()
    nudged[1] += 1e-12
    assert point_key(nudged) == point_key(x)
    nudged[1] += 1e-6
    assert point_key(nudged) != point_key(x)


# -- issue 15 --------------------------------------------------------------------------------
class _Color(str, enum.Enum):
    RED = "red"


class _Size(enum.IntEnum):
    S = 1


_Pair = collections.namedtuple("_Pair", "a b")


@pytest.mark.parametrize("make, words", [
    (lambda: gb.Real(-1e308, 1e308), ["-1e+308", "1e+308", "width"]),
    (lambda: gb.Integer(0, 10**30), ["high=" + str(10**30), "2**53"]),
    (lambda: gb.Integer(0, 10**400), ["high=1000", "float64 range"]),
    (lambda: gb.Real(0, 10**400), ["high=1000", "float64 range"]),
    (lambda: gb.Real(0.1, 1.0, log="yes"), ["log='yes'", "bool"]),
    (lambda: gb.Integer(1, 5, log=1), ["log=1", "bool"]),
    (lambda: gb.Categorical([_Color.RED]), ["_Color", "plain str", "str, int, float, bool, None"]),
    (lambda: gb.Categorical([_Size.S]), ["_Size", "plain int"]),
    (lambda: gb.Categorical([_Pair(1, 2)]), ["_Pair", "plain tuple"]),
    (lambda: gb.Categorical([(1, _Color.RED)]), ["_Color", "plain str"]),
    (lambda: gb.Categorical([(1, float("nan"))]), ["nan"]),
    (lambda: gb.Categorical([(1, [2])]), ["[2]", "hashable"]),
])
def test_dimensions_that_cannot_work_or_be_stored_are_refused(make, words):
    with pytest.raises(gb.SpaceError) as e:
        make()
    for w in words:
        assert w in str(e.value), str(e.value)


def test_wide_but_finite_ranges_still_work():
    s = gb.Space({"x": gb.Real(-1e307, 1e307), "n": gb.Integer(0, 2**53)})
    p = s.decode(s.sample(16, seed=0))
    for q in p:
        s.validate(q)


@pytest.mark.parametrize("spec, words", [
    ({"x": {"type": "real", "high": 1.0}}, ["'x'", "'low'"]),
    ({"n": {"type": "integer", "low": 1}}, ["'n'", "'high'"]),
    ({"c": {"type": "categorical"}}, ["'c'", "'choices'"]),
    ({"x": {"type": "real", "low": 0.1, "high": 1.0, "log": "false"}}, ["'x'", "log", "'false'"]),
    ({"C": [0.1, 15]}, ["'C'", "[0.1, 15]", "choices", "\"type\": \"real\""]),
])
def test_from_dict_errors_name_the_dimension_and_key(spec, words):
    with pytest.raises(gb.SpaceError) as e:
        gb.Space.from_dict(spec)
    for w in words:
        assert w in str(e.value), str(e.value)


def test_one_list_rule_lists_are_choices_in_space_and_from_dict():
    a = gb.Space({"k": ["a", "b", "c"], "C": (0.1, 15.0)})
    b = gb.Space.from_dict({"k": ["a", "b", "c"], "C": {"type": "real", "low": 0.1, "high": 15.0}})
    assert a == b and isinstance(b.dims["k"], gb.Categorical)


def test_tuple_choices_round_trip_through_json_with_their_types():
    import json

    choices = [(64,), (64, 32), ((1, 2), None), (True,), (1,), (1.0,), None, True, 1, 1.0, "s"]
    s = gb.Space({"h": gb.Categorical(choices)})
    back = gb.Space.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s
    for c, d in zip(s.dims["h"].choices, back.dims["h"].choices):
        assert repr(c) == repr(d)  # same values, same types, nested ones included
    for c in choices:  # a point read back from JSON (tuples became lists) is the same choice
        stored = json.loads(json.dumps({"h": c}))
        assert s.canonical(stored)["h"] == c and repr(s.canonical(stored)["h"]) == repr(c)
        assert s.key(stored) == s.key({"h": c})


def test_other_hashable_choices_work_in_memory_and_inf_round_trips():
    import json

    obj = object()
    s = gb.Space({"k": gb.Categorical([obj, frozenset({1}), float("inf")])})
    assert s.canonical({"k": obj})["k"] is obj
    back = gb.Space.from_dict(json.loads(json.dumps(gb.Space({"k": [float("inf"), 1]}).to_dict())))
    assert back.dims["k"].choices == (float("inf"), 1)


def test_numpy_scalar_choices_become_plain_values():
    np = pytest.importorskip("numpy")
    c = gb.Categorical([np.int64(1), np.float64(2.5), np.str_("a")])
    assert [type(v) for v in c.choices] == [int, float, str]


def test_n_points_and_unseen_enumerate_a_finite_space_with_the_encoding_keys():
    s = gb.Space({"n": gb.Integer(1, 40, log=True), "k": ["a", (1, 2), None]})
    assert s.n_points == 120 and gb.Space({"x": (0.0, 1.0)}).n_points is None
    every = {s.key({"n": n, "k": k}) for n in range(1, 41) for k in s.dims["k"].choices}
    taken = set(list(every)[:100])
    left = s.unseen(taken, 50, seed=1)
    assert left.shape == (20, 2)
    assert {s.key(p) for p in s.decode(left)} == every - taken
    assert s.unseen(every, 5).shape == (0, 2)
    with pytest.raises(ValueError, match="points"):
        gb.Space({"x": (0.0, 1.0)}).unseen(set(), 1)
