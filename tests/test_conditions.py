"""Conditional spaces (issue 17.1): when= validation, exactly the active parameters, round trips,
and native steps on Real and Integer."""

from __future__ import annotations

import json
import warnings

import pytest
import torch

import gpu_bo as gb
from gpu_bo.conditions import INACTIVE
from gpu_bo.exceptions import SpaceError
from gpu_bo.learned_space import infer_space


def nested_space() -> gb.Space:
    return gb.Space({
        "model": gb.Categorical(["svc", "rf", "knn"]),
        "C": gb.Real(1e-3, 1e3, log=True, when={"model": "svc"}),
        "kernel": gb.Categorical(["rbf", "poly"], when={"model": "svc"}),
        "degree": gb.Integer(2, 5, when={"kernel": "poly"}),          # nested: svc -> poly -> degree
        "n_estimators": gb.Integer(10, 500, step=10, when={"model": ["rf"]}),
        "k": gb.Integer(1, 31, step=2, when={"model": "knn"}),
        "shared": gb.Real(0.0, 1.0, step=0.25),
    })


def expected_active(p: dict) -> set[str]:
    want = {"model", "shared"}
    if p["model"] == "svc":
        want |= {"C", "kernel"} | ({"degree"} if p["kernel"] == "poly" else set())
    elif p["model"] == "rf":
        want.add("n_estimators")
    else:
        want.add("k")
    return want


@pytest.mark.parametrize("dims, words", [
    ({"a": gb.Real(0, 1, when={"b": 1})}, ["'a'", "'b'", "not in the space"]),
    ({"a": gb.Real(0, 1), "b": gb.Integer(0, 3, when={"a": 1})}, ["'b'", "'a'", "Real"]),
    ({"a": gb.Categorical(["x"], when={"b": "y"}), "b": gb.Categorical(["y"], when={"a": "x"})},
     ["cycle", "a -> b -> a"]),
    ({"a": gb.Categorical(["x", "z"]), "b": gb.Real(0, 1, when={"a": "q"})}, ["'b'", "'q'", "cannot take"]),
    ({"a": gb.Integer(0, 3), "b": gb.Real(0, 1, when={"a": 7})}, ["'b'", "7"]),
    ({"a": gb.Categorical(["x"], when={"a": "x"})}, ["'a'", "itself"]),
])
def test_bad_conditions_are_named(dims, words):
    with pytest.raises(SpaceError) as e:
        gb.Space(dims)
    for w in words:
        assert w in str(e.value)


def test_bad_when_argument_is_named():
    with pytest.raises(SpaceError, match="when=3"):
        gb.Real(0, 1, when=3)
    with pytest.raises(SpaceError, match="names no value"):
        gb.Real(0, 1, when={"a": []})


def test_validate_names_missing_and_inactive_parameters():
    sp = nested_space()
    with pytest.raises(SpaceError, match=r"missing parameter\(s\) \['n_estimators'\]"):
        sp.validate({"model": "rf", "shared": 0.5})
    with pytest.raises(SpaceError, match="'C' is inactive.*model in \\['svc'\\]"):
        sp.validate({"model": "rf", "n_estimators": 20, "C": 1.0, "shared": 0.5})
    with pytest.raises(SpaceError, match="'degree' is inactive.*kernel in \\['poly'\\]"):
        sp.validate({"model": "svc", "C": 1.0, "kernel": "rbf", "degree": 3, "shared": 0.5})
    sp.validate({"model": "svc", "C": 1.0, "kernel": "poly", "degree": 3, "shared": 0.5})


def test_samples_and_snapped_points_hold_exactly_the_active_parameters():
    sp = nested_space()
    seen = set()
    for seed in range(20):
        for p in sp.sample_params(16, seed=seed):
            assert set(p) == expected_active(p), p
            sp.validate(p)
            seen.add((p["model"], p.get("kernel")))
    assert len(seen) == 4  # every branch and sub-branch turns up
    # any point of the cube snaps to a canonical one: inactive columns at INACTIVE, decode valid
    X = sp.snap(torch.rand(200, sp.d, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    mask = sp.active_mask(X)
    assert torch.all(X[~mask] == INACTIVE)
    for p, x in zip(sp.decode(X), X):
        assert set(p) == expected_active(p)
        assert torch.allclose(sp.encode(p), x)


def test_optimizer_suggestions_hold_exactly_the_active_parameters():
    sp = nested_space()

    def f(p):
        return {"svc": 0.0, "rf": 1.0, "knn": 2.0}[p["model"]] + p["shared"] + p.get("degree", 0) * 0.1

    for seed in range(3):
        opt = gb.Optimizer(sp, direction="minimize", seed=seed)
        for _ in range(12):
            p = opt.ask()
            assert set(p) == expected_active(p), p
            opt.tell(p, f(p))
        for p in opt.ask(n=3):
            assert set(p) == expected_active(p), p
        with pytest.raises(SpaceError, match="inactive"):
            opt.tell({"model": "rf", "n_estimators": 20, "k": 3, "shared": 0.5}, 1.0)


def test_identity_ignores_inactive_values():
    sp = nested_space()
    a = {"model": "rf", "n_estimators": 20, "shared": 0.5}
    assert sp.key(a) == sp.key(dict(a))
    assert sp.encode(a)[sp.names.index("C")].item() == INACTIVE


def test_round_trips_to_dict_json_state_dict_and_sqlite(tmp_path):
    sp = nested_space()
    d = json.loads(json.dumps(sp.to_dict()))
    assert d["degree"]["when"] == {"kernel": ["poly"]} and d["n_estimators"]["step"] == 10
    assert gb.Space.from_dict(d) == sp and gb.Space.from_dict(d).to_dict() == sp.to_dict()

    opt = gb.Optimizer(sp, direction="minimize", seed=0)
    for _ in range(6):
        p = opt.ask()
        opt.tell(p, float(len(p)))
    state = json.loads(json.dumps(opt.state_dict()))
    again = gb.Optimizer(sp, direction="minimize", seed=0)
    again.load_state_dict(state)
    assert [t.params for t in again.trials] == [t.params for t in opt.trials]

    url = f"sqlite:///{tmp_path / 'c.db'}"
    study = gb.optimize(lambda p: float(len(p)), sp, n_trials=6, storage=url, seed=0, progress=False)
    resumed = gb.optimize(lambda p: float(len(p)), sp, n_trials=9, storage=url, seed=0, progress=False)
    assert len(resumed.trials) == 9
    for t in resumed.trials:
        assert set(t.params) == expected_active(t.params)
    assert [t.params for t in resumed.trials[:6]] == [t.params for t in study.trials]


def test_tuple_choices_as_parents_and_list_means_several_values():
    sp = gb.Space({"shape": gb.Categorical([(1, 2), (3, 4)]),
                   "x": gb.Real(0, 1, when={"shape": (1, 2)}),
                   "y": gb.Real(0, 1, when={"shape": [(1, 2), (3, 4)]})})
    assert sp.active_names({"shape": (1, 2)}) == ["shape", "x", "y"]
    assert sp.active_names({"shape": (3, 4)}) == ["shape", "y"]
    assert gb.Space.from_dict(json.loads(json.dumps(sp.to_dict()))) == sp


def test_finite_conditional_space_counts_distinct_points():
    sp = gb.Space({"a": gb.Categorical([1, 2]), "b": gb.Integer(0, 3, when={"a": 1})})
    assert sp.n_points == 5
    rows = sp.unseen(set(), q=10)
    assert len(rows) == 5 and len({tuple(r) for r in rows.tolist()}) == 5


# -- steps --------------------------------------------------------------------------------------
def test_real_step_grid_encode_decode_snap():
    dim = gb.Real(0.0, 1.0, step=0.25)
    sp = gb.Space({"x": dim})
    vals = {p["x"] for p in sp.sample_params(64, seed=1)}
    assert vals <= {0.0, 0.25, 0.5, 0.75, 1.0} and len(vals) == 5
    with pytest.raises(SpaceError, match="low \\+ k \\* step"):
        sp.validate({"x": 0.3})
    x = torch.tensor([[0.3], [0.62], [0.99]], dtype=torch.float64)
    assert sp.decode(sp.snap(x)) == [{"x": 0.25}, {"x": 0.5}, {"x": 1.0}]


def test_steps_with_log_scales_and_integer_grids():
    lg = gb.Space({"x": gb.Real(1.0, 1000.0, log=True, step=1.0), "n": gb.Integer(10, 500, log=True, step=10)})
    for p in lg.sample_params(50, seed=2):
        assert float(p["x"]).is_integer() and p["n"] % 10 == 0 and 10 <= p["n"] <= 500
        assert lg.decode(lg.encode(p)) == [p]
    assert gb.Integer(1, 9, step=2).n_bins == 5
    with pytest.raises(SpaceError, match="step=0"):
        gb.Integer(0, 10, step=0)
    with pytest.raises(SpaceError, match="step=-1"):
        gb.Real(0, 1, step=-1)
    with pytest.raises(SpaceError, match="low > step / 2"):
        gb.Integer(1, 101, log=True, step=10)


def test_step_that_does_not_divide_the_range_moves_high_with_a_warning():
    with pytest.warns(UserWarning, match="high becomes 9"):
        dim = gb.Integer(1, 10, step=2)
    assert dim.high == 9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gb.Integer(0, 10, step=2).high == 10  # no warning when it divides


# -- learned spaces ---------------------------------------------------------------------------
def test_infer_space_learns_nested_conditions_and_reports_unexplained():
    dims = {"model": gb.Categorical(["svc", "rf"]), "C": gb.Real(1e-3, 1e3, log=True),
            "kernel": gb.Categorical(["rbf", "poly"]), "degree": gb.Integer(2, 5),
            "n": gb.Integer(10, 500), "x": gb.Real(0, 1), "y": gb.Real(0, 1)}
    obs = [[("model", "svc"), ("C", 1.0), ("kernel", "rbf"), ("x", 0.2)],
           [("model", "svc"), ("C", 2.0), ("kernel", "poly"), ("degree", 3), ("x", 0.7), ("y", 0.1)],
           [("model", "rf"), ("n", 100), ("x", 0.9), ("y", 0.5)]]
    sp, unexplained = infer_space(dims, obs)
    assert sp.dims["C"].when.to_dict() == {"model": ["svc"]}
    assert sp.dims["degree"].when.to_dict() == {"kernel": ["poly"]}
    assert sp.dims["n"].when.to_dict() == {"model": ["rf"]}
    assert sp.dims["x"].when is None and unexplained == {"y"}
    for o in obs:  # every observation is a valid point of the learned space, but for y
        sp.validate({k: v for k, v in o if k != "y"} | ({"y": 0.5}))


def test_infer_space_prefers_the_branch_over_a_co_active_sibling():
    # n and lr live in branch c; n is set first, so it precedes lr in every trial, yet it
    # explains nothing: lr must hang on model, not on the values of n seen so far
    dims = {"model": gb.Categorical(["a", "c"]), "x": gb.Real(0, 1),
            "n": gb.Integer(1, 9), "lr": gb.Real(1e-4, 1e-1, log=True)}
    obs = [[("model", "a"), ("x", 0.1)], [("model", "c"), ("n", 7), ("lr", 0.01)],
           [("model", "c"), ("n", 1), ("lr", 0.02)], [("model", "a"), ("x", 0.4)]]
    sp, unexplained = infer_space(dims, obs)
    assert sp.dims["lr"].when.to_dict() == {"model": ["c"]}
    assert sp.dims["n"].when.to_dict() == {"model": ["c"]} and not unexplained
    sp.validate({"model": "c", "n": 3, "lr": 0.05})  # a new n keeps lr active
