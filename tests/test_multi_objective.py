"""Several objectives and outcome constraints: the records (issue 16's semantics).

The suggestion model has its own tests (test_multi_objective_model.py, test_constraints_model.py);
these check what is recorded, what counts as feasible and best, and what storage keeps.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import gpu_bo as gb
from gpu_bo.outcome import parse_outcome
from gpu_bo.pareto import hypervolume, infer_reference_point, non_dominated, pareto_mask
from gpu_bo.study import Study, Trial, TrialState

SPACE = {"x": (0.0, 1.0), "y": (0.0, 1.0)}


def _brute_force_front(Y: np.ndarray) -> list[bool]:
    """Row i is kept unless some row is >= everywhere and > somewhere (larger is better)."""
    return [not any(np.all(Y[j] >= Y[i]) and np.any(Y[j] > Y[i]) for j in range(len(Y)) if j != i)
            for i in range(len(Y))]


@pytest.mark.parametrize("seed, m", [(0, 2), (1, 3), (2, 4), (3, 2)])
def test_non_dominated_matches_brute_force(seed, m):
    rng = np.random.default_rng(seed)
    Y = rng.integers(0, 6, size=(60, m)).astype(float)  # coarse values: ties and duplicates happen
    assert non_dominated(Y).tolist() == _brute_force_front(Y)


def test_pareto_mask_follows_directions():
    values = [[1.0, 1.0], [2.0, 2.0], [0.5, 3.0]]
    assert pareto_mask(values, ["minimize", "maximize"]) == [False, False, True]  # (0.5, 3) dominates
    assert pareto_mask(values, ["maximize", "maximize"]) == [False, True, True]
    assert pareto_mask(values, ["minimize", "minimize"]) == [True, False, True]


def test_hypervolume_of_a_known_front_and_the_reference_point_rule():
    # two points against ref (0, 0), both maximized: union of [0,2]x[0,1] and [0,1]x[0,2] = 3
    assert hypervolume([[2.0, 1.0], [1.0, 2.0]], ["maximize", "maximize"], [0.0, 0.0]) == pytest.approx(3.0)
    # minimized: the same boxes mirrored
    assert hypervolume([[-2.0, -1.0], [-1.0, -2.0]], ["minimize", "minimize"], [0.0, 0.0]) == pytest.approx(3.0)
    assert hypervolume([[1.0, 5.0]], ["maximize", "maximize"], [2.0, 0.0]) == 0.0  # not past the reference
    ref = infer_reference_point([[0.0, 10.0], [1.0, 0.0]], ["minimize", "minimize"])
    assert ref == pytest.approx([1.1, 11.0])  # worst on the front, 10% of its range further


def test_outcome_rule_for_values_and_constraints():
    assert parse_outcome(0.5).values == [0.5]
    assert parse_outcome([1, 2], n_objectives=2).values == [1.0, 2.0]
    o = parse_outcome({"value": 1.0, "constraints": [0.0, -1.0]})
    assert o.ok and o.constraints == [0.0, -1.0]
    assert not parse_outcome([1.0, math.nan], n_objectives=2).ok
    assert not parse_outcome(1.0, constraints=[math.nan]).ok  # NaN in a constraint: FAILED
    assert not parse_outcome(1.0, constraints=[None]).ok
    with pytest.raises(ValueError, match="expected a list of 2 finite numbers"):
        parse_outcome(1.0, n_objectives=2)
    with pytest.raises(ValueError, match="expected a finite number"):
        parse_outcome([1.0, 2.0])
    with pytest.raises(ValueError, match="constraints: got one value.*expected a list of 2"):
        parse_outcome(1.0, constraints=[0.1], n_constraints=2)
    with pytest.raises(ValueError, match="keys"):
        parse_outcome({"values": 1.0})


def test_feasibility_is_every_constraint_at_most_zero():
    assert Trial(0, {}, value=1.0, constraints=[0.0, -2.0]).feasible
    assert not Trial(0, {}, value=1.0, constraints=[0.0, 1e-9]).feasible
    assert Trial(0, {}, value=1.0).feasible  # no constraints


def _quiet_opt(**kw) -> gb.Optimizer:
    return gb.Optimizer(SPACE, seed=0, device="cpu", n_initial=3, **kw)


def test_best_is_the_best_feasible_trial_and_none_while_none_is():
    opt = _quiet_opt(direction="maximize")
    ps = opt.space.sample_params(4, seed=1)
    opt.tell(ps[0], 10.0, constraints=[1.0])  # best value, infeasible
    assert opt.best is None and opt.pareto == []
    opt.tell(ps[1], 3.0, constraints=[0.0])
    opt.tell(ps[2], 5.0, constraints=[-0.5])
    opt.tell(ps[3], float("nan"), constraints=[-1.0])
    assert opt.best == {"params": ps[2], "value": 5.0}
    states = [t.state for t in opt.trials]
    assert states == [TrialState.COMPLETE] * 3 + [TrialState.FAILED]
    study = Study("maximize", opt.trials)
    assert study.best_value == 5.0 and [t.number for t in study.best_trials] == [2]
    assert study.best_so_far()[:3] == [math.nan, 3.0, 5.0] or math.isnan(study.best_so_far()[0])


def test_a_nan_constraint_makes_the_trial_failed():
    opt = _quiet_opt()
    t = opt.tell(opt.space.sample_params(1, seed=2)[0], 1.0, constraints=[float("nan")])
    assert t.state == TrialState.FAILED and t.values is None and "constraints" in t.error


def test_constraint_count_is_fixed_by_the_first_tell_and_errors_name_it():
    opt = _quiet_opt()
    ps = opt.space.sample_params(4, seed=3)
    opt.tell(ps[0], 1.0, constraints=[0.1, -0.1])
    assert opt.n_constraints == 2
    with pytest.raises(ValueError, match="expected a list of 2"):
        opt.tell(ps[1], 1.0, constraints=[0.1])
    with pytest.raises(ValueError, match="expected 2 constraint values"):
        opt.tell(ps[1], 1.0)
    failed = opt.tell(ps[1], float("nan"))  # a failed value needs no constraints
    assert failed.state == TrialState.FAILED
    other = _quiet_opt()
    other.tell(ps[0], 1.0)
    with pytest.raises(ValueError, match="told without constraints"):
        other.tell(ps[1], 1.0, constraints=[0.0])


def test_list_tell_with_constraints_is_atomic():
    opt = _quiet_opt()
    ps = opt.space.sample_params(3, seed=4)
    with pytest.raises(ValueError, match="expected a list of 1"):
        opt.tell(ps, [1.0, 2.0, 3.0], constraints=[[0.0], [0.0], [0.0, 1.0]])
    assert opt.trials == [] and opt.n_constraints is None
    opt.tell(ps, [1.0, 2.0, 3.0], constraints=[[0.5], [-0.5], [0.0]])
    assert [t.feasible for t in opt.trials] == [False, True, True]


def test_mixed_single_and_multi_objective_errors_say_what_was_expected():
    opt = _quiet_opt(directions=["maximize", "minimize"])
    p = opt.space.sample_params(1, seed=5)[0]
    with pytest.raises(ValueError, match="one value.*expected a list of 2 finite numbers"):
        opt.tell(p, 0.5)
    with pytest.raises(ValueError, match="got 3 values"):
        opt.tell(p, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="opt.pareto"):
        opt.best
    single = _quiet_opt()
    with pytest.raises(ValueError, match="got 2 values.*expected a finite number"):
        single.tell(p, [0.5, 1.0])
    with pytest.raises(ValueError, match="directions"):
        gb.Optimizer(SPACE, directions=["maximize"] * 5)
    with pytest.raises(ValueError, match=r"directions\[1\]"):
        gb.Optimizer(SPACE, directions=["maximize", "up"])


def test_pareto_of_the_optimizer_matches_a_brute_force_filter():
    opt = _quiet_opt(directions=["minimize", "maximize"])
    ps = opt.space.sample_params(30, seed=6)
    rng = np.random.default_rng(6)
    vals = rng.integers(0, 5, size=(30, 2)).astype(float).tolist()
    cons = [[float(c)] for c in rng.normal(size=30)]
    opt.tell(ps, vals, constraints=cons)
    feas = [i for i in range(30) if cons[i][0] <= 0]
    Y = np.array([[-vals[i][0], vals[i][1]] for i in feas])
    want = [feas[k] for k, keep in enumerate(_brute_force_front(Y)) if keep]
    got = [t.number for t in opt.trials if any(p["params"] == t.params for p in opt.pareto)]
    assert got == want and len(opt.pareto) == len(want)
    study = Study(directions=["minimize", "maximize"], trials=opt.trials)
    assert [t.number for t in study.best_trials] == want
    with pytest.raises(ValueError, match="best_trials"):
        study.best_value


def test_multi_objective_and_constrained_studies_round_trip_through_sqlite_and_resume(tmp_path):
    url = f"sqlite:///{tmp_path / 'mo.db'}"

    def objective(p):
        return {"value": [p["x"], (p["y"] - 0.5) ** 2], "constraints": [p["x"] + p["y"] - 1.5]}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = gb.optimize(objective, SPACE, n_trials=6, directions=["maximize", "minimize"], storage=url,
                            study_name="mo", progress=False, seed=1)
        again = gb.optimize(objective, SPACE, n_trials=9, directions=["maximize", "minimize"], storage=url,
                            study_name="mo", progress=False, seed=1)
    assert len(again.trials) == 9 and again.directions == ["maximize", "minimize"]
    assert [t.to_dict() for t in again.trials[:6]] == [t.to_dict() for t in first.trials]
    loaded = gb.storage.open_storage(url).load_study("mo")
    assert loaded.is_multi_objective and loaded.directions == ["maximize", "minimize"]
    for t in loaded.trials:
        assert t.constraints == pytest.approx([t.params["x"] + t.params["y"] - 1.5])
        assert t.feasible == (t.constraints[0] <= 0)
    assert {t.number for t in loaded.best_trials} == {t.number for t in again.best_trials}
    with pytest.raises(gb.exceptions.StorageError, match="directions"):
        gb.optimize(objective, SPACE, n_trials=10, direction="maximize", storage=url, study_name="mo",
                    progress=False)


def test_optimizer_state_keeps_directions_and_constraints():
    opt = _quiet_opt(directions=["minimize", "minimize"])
    for p in opt.space.sample_params(4, seed=7):
        opt.tell(p, [p["x"], p["y"]], constraints=[p["x"] - 0.5])
    other = _quiet_opt(directions=["minimize", "minimize"])
    other.load_state_dict(opt.state_dict())
    assert other.pareto == opt.pareto and other.n_constraints == 1
    with pytest.raises(ValueError, match="directions"):
        _quiet_opt(directions=["minimize", "maximize"]).load_state_dict(opt.state_dict())


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_workers_return_values_and_constraints(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = gb.optimize(_two_objectives, SPACE, n_trials=6, directions=["minimize", "minimize"],
                            backend=backend, n_workers=2, progress=False, seed=3)
    done = study.completed_trials
    assert len(done) == 6
    for t in done:
        assert t.values == pytest.approx([t.params["x"], t.params["y"]])
        assert t.constraints == pytest.approx([t.params["x"] - 0.5])


def _two_objectives(p):
    return {"value": (p["x"], p["y"]), "constraints": [p["x"] - 0.5]}


def test_a_wrong_shape_from_the_objective_fails_the_trial_not_the_study():
    def bad(p):
        return 1.0 if p["x"] < 0.5 else (1.0, 2.0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = gb.optimize(bad, SPACE, n_trials=8, directions=["minimize", "minimize"], progress=False, seed=0)
    failed = [t for t in study.trials if t.state == TrialState.FAILED]
    assert failed and all("expected a list of 2" in t.error for t in failed)
    assert all(t.params["x"] < 0.5 for t in failed)


def test_dataframe_has_a_column_per_objective_and_constraint():
    pytest.importorskip("pandas")
    trials = [Trial(i, {"x": float(i)}, values=[i, -i], state=TrialState.COMPLETE, constraints=[i - 1.0])
              for i in range(3)]
    df = Study(directions=["minimize", "maximize"], trials=trials).to_dataframe()
    assert {"values_0", "values_1", "constraints_0", "feasible"} <= set(df.columns)
    assert df["feasible"].tolist() == [True, True, False]


def test_brute_force_front_on_every_small_grid():
    """Exhaustive check on all 3-point sets of a 3x3 grid (ties, duplicates)."""
    grid = [(a, b) for a in range(3) for b in range(3)]
    for rows in itertools.combinations_with_replacement(grid, 3):
        Y = np.array(rows, dtype=float)
        assert non_dominated(Y).tolist() == _brute_force_front(Y)
