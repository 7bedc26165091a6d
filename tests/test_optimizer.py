from __future__ import annotations

import json
import math
import warnings

import pytest
import torch

import gpu_bo as gb
from gpu_bo.optimizer import OptimizerOptions

from conftest import BRANIN_SPACE, branin


def _run(opt, f, n):
    for _ in range(n):
        p = opt.ask()
        opt.tell(p, f(p))
    return opt


def test_ask_returns_plain_values_inside_the_space():
    space = {"x": (0.0, 1.0), "n": (1, 5), "c": ["a", "b", None]}
    opt = gb.Optimizer(space, seed=0, n_initial=3)
    _run(opt, lambda p: p["x"] + p["n"], 6)
    p = opt.ask()
    assert type(p["x"]) is float and type(p["n"]) is int and p["c"] in ("a", "b", None)
    opt.space.validate(p)


def test_same_seed_same_suggestions_different_seed_different():
    def seq(seed):
        opt = gb.Optimizer(BRANIN_SPACE, seed=seed, n_initial=4)
        out = []
        for _ in range(7):
            p = opt.ask()
            out.append(p)
            opt.tell(p, branin(p))
        return out

    assert seq(3) == seq(3)
    assert seq(3) != seq(4)


def test_batch_is_distinct_and_pending_is_respected():
    opt = gb.Optimizer(BRANIN_SPACE, seed=0, n_initial=4)
    _run(opt, branin, 6)
    batch = opt.ask(n=5)
    keys = {opt.space.key(p) for p in batch}
    assert len(batch) == 5 and len(keys) == 5
    assert len(opt.pending) == 5
    more = opt.ask(n=3)  # the 5 pending ones are not suggested again
    assert not keys & {opt.space.key(p) for p in more}
    opt.tell(batch + more, [branin(p) for p in batch + more])
    assert opt.pending == []


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), None, "oops"])
def test_failed_values_are_recorded_and_never_repeated(bad):
    space = {"c": ["a", "b", "c", "d"], "n": (0, 1)}  # 8 points in all
    opt = gb.Optimizer(space, seed=0, n_initial=2)
    seen = []
    for i in range(8):
        p = opt.ask()
        seen.append(opt.space.key(p))
        opt.tell(p, bad if i % 2 == 0 else float(i))
    assert len(set(seen)) == 8  # no point suggested twice, failed ones included
    states = [t.state for t in opt.trials]
    assert states.count(gb.TrialState.FAILED) == 4 and states.count(gb.TrialState.COMPLETE) == 4
    assert all(t.error for t in opt.trials if t.state == gb.TrialState.FAILED)
    with pytest.raises(gb.GpuBoError, match="already been evaluated"):
        opt.ask()


def test_failures_everywhere_never_crash_ask():
    opt = gb.Optimizer(BRANIN_SPACE, seed=1, n_initial=3)
    for i in range(12):
        p = opt.ask()
        opt.tell(p, float("nan") if i % 3 else branin(p))
    assert opt.best is not None and math.isfinite(opt.best["value"])


def test_worst_policy_steers_away_from_failing_region():
    # the objective fails for x > 0.5; with the "worst" policy, later suggestions avoid it more
    def f(p):
        return float("nan") if p["x"] > 0.5 else -(p["x"] - 0.5) ** 2 - (p["y"] - 0.5) ** 2

    counts = {}
    for policy in ("worst", "ignore"):
        fails = 0
        for seed in range(3):
            opt = gb.Optimizer({"x": (0.0, 1.0), "y": (0.0, 1.0)}, direction="maximize", seed=seed,
                               n_initial=6, options=OptimizerOptions(failure_policy=policy))
            _run(opt, f, 6)
            for _ in range(10):
                p = opt.ask()
                fails += p["x"] > 0.5
                opt.tell(p, f(p))
        counts[policy] = fails
    assert counts["worst"] < counts["ignore"], counts


def test_tell_list_best_and_told_without_ask():
    opt = gb.Optimizer({"x": (-1.0, 1.0)}, direction="maximize")
    opt.tell([{"x": 0.1}, {"x": 0.5}], [1.0, 3.0])
    assert opt.best == {"params": {"x": 0.5}, "value": 3.0}
    with pytest.raises(ValueError, match="2 params"):
        opt.tell([{"x": 0.1}, {"x": 0.2}], [1.0])
    with pytest.raises(gb.SpaceError, match="'x'"):
        opt.tell({"x": 5.0}, 1.0)


def test_state_dict_is_json_and_continues_identically():
    a = gb.Optimizer(BRANIN_SPACE, seed=5, n_initial=4)
    _run(a, branin, 8)
    state = json.loads(json.dumps(a.state_dict()))
    b = gb.Optimizer(BRANIN_SPACE, seed=0)
    b.load_state_dict(state)
    assert [t.params for t in b.trials] == [t.params for t in a.trials]
    assert b.ask() == a.ask()
    with pytest.raises(ValueError, match="space"):
        gb.Optimizer({"z": (0.0, 1.0)}).load_state_dict(state)


@pytest.mark.parametrize("kwargs, word", [
    ({"direction": "up"}, "direction"), ({"acquisition": "foo"}, "acquisition"),
    ({"xi": -1.0}, "xi"), ({"kappa": float("nan")}, "kappa"), ({"n_initial": 0}, "n_initial"),
    ({"device": "tpu"}, "device"), ({"seed": "x"}, "seed"),
])
def test_bad_arguments_are_named(kwargs, word):
    with pytest.raises(ValueError, match=word):
        gb.Optimizer(BRANIN_SPACE, **kwargs)


@pytest.mark.parametrize("acq", ["pi", "ucb", "qnei", "qucb", "qpi"])
def test_every_acquisition_runs(acq):
    opt = gb.Optimizer(BRANIN_SPACE, acquisition=acq, seed=0, n_initial=4)
    _run(opt, branin, 6)
    ps = opt.ask(n=2)
    assert len({opt.space.key(p) for p in ps}) == 2


def test_oom_on_cuda_retries_on_cpu(monkeypatch):
    opt = gb.Optimizer(BRANIN_SPACE, seed=0, n_initial=3)
    _run(opt, branin, 4)
    opt.device = torch.device("cuda")  # pretend
    real = opt._bo_points

    def fake(q, exclude, seed, device):
        if device.type == "cuda":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(q, exclude, seed, device)

    monkeypatch.setattr(opt, "_bo_points", fake)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    with pytest.warns(gb.DeviceWarning):
        p = opt.ask()
    opt.space.validate(p)


def test_hyperparameters_are_refitted_on_growth_past_refit_min_n():
    def run(options):
        opt = gb.Optimizer(BRANIN_SPACE, seed=0, n_initial=4, device="cpu", options=options)
        for p in opt.space.sample_params(30, seed=5):
            opt.tell(p, branin(p))
        fitted = []
        for _ in range(5):  # n = 30, 31, 32, 33, 34
            p = opt.ask()
            fitted.append(opt.last_suggestion_info["hyperparameters_fitted"])
            opt.tell(p, branin(p))
        return fitted, opt

    fitted, opt = run(OptimizerOptions(refit_min_n=20, refit_growth=0.1))
    assert fitted == [True, False, False, True, False]  # 30, then 33 >= 30 * 1.1
    state = opt.state_dict()
    assert state["last_fit_n"] == 33
    fitted, _ = run(OptimizerOptions(refit_min_n=1000))
    assert fitted == [True] * 5


def test_training_data_carry_one_column_per_output():
    """_training_data returns Y as n x m from trial.values (m = 1 for one objective), sign-flipped
    by the direction, with failed points shown as the worst value."""
    opt = gb.Optimizer(BRANIN_SPACE, direction="minimize", seed=0, device="cpu")
    ps = opt.space.sample_params(4, seed=1)
    opt.tell(ps, [3.0, 1.0, float("nan"), 2.0])
    X, Y, C = opt._training_data(torch.device("cpu"), torch.float64)
    assert X.shape == (4, 2) and Y.shape == (4, 1) and C is None
    assert Y[:, 0].tolist() == [-3.0, -1.0, -2.0, -3.0]  # completed in order, then the failed one
    assert opt.directions == ["minimize"] and opt.direction == "minimize"


def test_state_saved_before_the_refactor_loads():
    """A version-1 state with the keys Optimizer.state_dict wrote before (n_fits, last_fit_n,
    gp_params at the top level; trials with "value" only) loads and continues."""
    a = gb.Optimizer(BRANIN_SPACE, seed=5, n_initial=4, device="cpu")
    _run(a, branin, 7)
    state = json.loads(json.dumps(a.state_dict()))
    assert state["version"] == 1 and {"n_fits", "last_fit_n", "gp_params"} <= set(state)
    for t in state["trials"]:
        t.pop("values")  # trials saved before Trial.values existed
    b = gb.Optimizer(BRANIN_SPACE, seed=0, device="cpu")
    b.load_state_dict(state)
    assert b._schedule.n_fits == state["n_fits"] and b._schedule.last_fit_n == state["last_fit_n"]
    assert b._schedule.params.lengthscale.tolist() == state["gp_params"]["lengthscale"]
    assert b.ask() == a.ask()


# -- issue 15: exhausted spaces, atomic tells, states, bad inputs, resumes --------------------
GRID_100 = {"a": (0, 9), "b": (0, 9)}  # two integers: 100 points


def test_ask_returns_the_remaining_points_then_raises_space_exhausted():
    opt = gb.Optimizer(GRID_100, seed=0, n_initial=4)
    seen = set()
    for _ in range(12):  # 96 points in rounds of 8: no ask fails
        batch = opt.ask(n=8)
        assert len(batch) == 8
        seen |= {opt.space.key(p) for p in batch}
        opt.tell(batch, [float(p["a"] * 10 + p["b"]) for p in batch])
    last = opt.ask(n=8)  # 4 unseen points are left: all of them, not an error
    assert len(last) == 4 and not seen & {opt.space.key(p) for p in last}
    opt.tell(last, [1.0] * 4)
    with pytest.raises(gb.SpaceExhausted, match="n=8"):
        opt.ask(n=8)
    with pytest.raises(gb.SpaceExhausted):
        opt.ask()


def test_ask_on_a_tiny_space_counts_pending_points_as_taken():
    opt = gb.Optimizer({"c": ["a", "b", "c"]}, seed=0)
    assert len(opt.ask(n=2)) == 2
    assert len(opt.ask(n=5)) == 1  # the 2 pending ones are taken
    with pytest.raises(gb.SpaceExhausted):
        opt.ask()


def test_tell_list_is_atomic():
    opt = gb.Optimizer({"x": (-1.0, 1.0)}, seed=0)
    batch = opt.ask(n=3)
    with pytest.raises(gb.SpaceError, match="'x'"):
        opt.tell([batch[0], batch[1], {"x": 5.0}], [1.0, 2.0, 3.0])
    assert [t.state for t in opt.trials] == [gb.TrialState.RUNNING] * 3  # nothing recorded
    with pytest.raises(ValueError, match="state"):
        opt.tell(batch[:2], [1.0, 2.0], state="RUNNING")
    assert [t.state for t in opt.trials] == [gb.TrialState.RUNNING] * 3
    opt.tell(batch, [1.0, 2.0, 3.0])
    assert [t.value for t in opt.trials] == [1.0, 2.0, 3.0]


def test_tell_honours_failed_and_rejects_running_and_unknown_states():
    opt = gb.Optimizer({"x": (-1.0, 1.0)}, seed=0)
    t = opt.tell({"x": 0.5}, 0.25, state="FAILED")
    assert t.state == gb.TrialState.FAILED and t.value is None and "0.25" in t.error
    assert opt.best is None  # the GP and best never see a FAILED trial's value
    t = opt.tell({"x": 0.1}, 0.3, state=gb.TrialState.COMPLETE)
    assert t.state == gb.TrialState.COMPLETE and t.value == 0.3
    assert opt.tell({"x": 0.2}, 0.4, state="PRUNED").state == gb.TrialState.PRUNED
    for bad, words in [("RUNNING", ["state", "RUNNING", "add_pending"]), ("bogus", ["state", "bogus"])]:
        with pytest.raises(ValueError) as e:
            opt.tell({"x": 0.3}, 1.0, state=bad)
        assert all(w in str(e.value) for w in words), str(e.value)
    with pytest.raises(ValueError, match="value"):
        opt.tell({"x": 0.3}, float("nan"), state="COMPLETE")
    assert len(opt.trials) == 3


def test_numeric_strings_are_not_complete_values():
    opt = gb.Optimizer({"x": (-1.0, 1.0)}, seed=0)
    t = opt.tell({"x": 0.5}, "0.25")
    assert t.state == gb.TrialState.FAILED and "str" in t.error


@pytest.mark.parametrize("call, exc, words", [
    (lambda o: o.ask(n=10**6), ValueError, ["n", "1000000"]),
    (lambda o: o.tell(0.5, 1.0), TypeError, ["params", "0.5"]),
    (lambda o: o.tell("x", 1.0), TypeError, ["params", "'x'"]),
])
def test_bad_ask_and_tell_arguments_are_named(call, exc, words):
    opt = gb.Optimizer({"x": (-1.0, 1.0)}, seed=0)
    with pytest.raises(exc) as e:
        call(opt)
    assert all(w in str(e.value) for w in words), str(e.value)
    assert opt.trials == []


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"seed": 2**70}, ValueError, ["seed", str(2**70)]),
    ({"options": {"dtype": "float32"}}, TypeError, ["options", "OptimizerOptions", "dict"]),
])
def test_bad_seed_and_options_are_named(kwargs, exc, words):
    with pytest.raises(exc) as e:
        gb.Optimizer({"x": (-1.0, 1.0)}, **kwargs)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_numpy_integers_are_valid_seed_n_and_n_initial():
    np = pytest.importorskip("numpy")
    a = gb.Optimizer(BRANIN_SPACE, seed=np.int64(3), n_initial=np.int32(4))
    b = gb.Optimizer(BRANIN_SPACE, seed=3, n_initial=4)
    assert a.ask(n=np.int64(2)) == b.ask(n=2)
    assert type(a.seed) is int and json.dumps(a.state_dict())


def test_load_state_dict_rejects_trials_outside_the_space():
    opt = gb.Optimizer({"x": (-1.0, 1.0)}, seed=0)
    opt.tell({"x": 0.5}, 1.0)
    state = json.loads(json.dumps(opt.state_dict()))
    state["trials"][0]["params"] = {"x": 7.0}
    fresh = gb.Optimizer({"x": (-1.0, 1.0)}, seed=0)
    with pytest.raises(ValueError) as e:
        fresh.load_state_dict(state)
    assert "trial 0" in str(e.value) and "'x'" in str(e.value) and "7.0" in str(e.value)
    assert fresh.trials == []  # nothing half-loaded
    state["trials"][0].update(params={"x": 0.5}, value=None, values=None)
    with pytest.raises(ValueError, match="trial 0 is COMPLETE"):
        fresh.load_state_dict(state)


def test_tuple_choices_and_every_storable_choice_survive_a_json_state_round_trip():
    space = {"h": gb.Categorical([(64,), (64, 32), ((1, 2), None), None, True, 1, 1.0, "s", (True,), (1.0,)]),
             "x": (0.0, 1.0)}
    a = gb.Optimizer(space, seed=0, n_initial=3)
    for _ in range(12):
        p = a.ask()
        a.tell(p, p["x"])
    for c in space["h"].choices:  # every choice told once
        a.tell({"h": c, "x": 0.5}, 0.0)
    b = gb.Optimizer(space, seed=0, n_initial=3)
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    for ta, tb in zip(a.trials, b.trials):
        assert ta.params == tb.params and type(ta.params["h"]) is type(tb.params["h"])
        if isinstance(ta.params["h"], tuple):
            assert [type(v) for v in ta.params["h"]] == [type(v) for v in tb.params["h"]]
    assert b.ask() == a.ask()


def test_when_the_search_misses_the_points_left_they_are_enumerated(monkeypatch):
    import gpu_bo.batch

    opt = gb.Optimizer(GRID_100, seed=0, n_initial=4)
    first = opt.ask(n=6)
    opt.tell(first, [float(p["a"] + p["b"]) for p in first])

    def missed(*args, **kwargs):
        raise gb.SpaceExhausted("every point of the search space has already been evaluated or is pending")

    monkeypatch.setattr(gpu_bo.batch, "maximize", missed)
    more = opt.ask(n=5)
    keys = {opt.space.key(p) for p in first}
    assert len(more) == 5 and not keys & {opt.space.key(p) for p in more}
    assert len({opt.space.key(p) for p in more}) == 5

    def broken(*args, **kwargs):
        raise gb.GpuBoError("something else went wrong")

    monkeypatch.setattr(gpu_bo.batch, "maximize", broken)
    with pytest.raises(gb.GpuBoError, match="something else"):
        opt.ask()


def test_a_pending_point_read_back_from_json_keeps_its_tuple_choice():
    opt = gb.Optimizer({"h": gb.Categorical([(64,), (64, 32)]), "x": (0.0, 1.0)}, seed=0)
    opt.add_pending(json.loads(json.dumps({"h": (64, 32), "x": 0.5})))
    assert opt.pending == [{"h": (64, 32), "x": 0.5}]
    t = opt.tell(json.loads(json.dumps({"h": (64,), "x": 0.25})), 1.0)
    assert t.params == {"h": (64,), "x": 0.25} and type(t.params["h"]) is tuple
