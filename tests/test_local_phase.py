"""The local exploitation phase and the escape rule (gpu_bo/local_phase.py)."""

from __future__ import annotations

import math

import pytest
import torch

import gpu_bo as gb
from gpu_bo.local_phase import LocalPhaseOptions, phase, plan, stall_count
from gpu_bo.maximize import MaximizeOptions, Region, maximize


@pytest.mark.parametrize("field,value", [("stall", -1), ("stall", 1.5), ("steps", True), ("length", 0.0),
                                         ("length", 3.0), ("late_fraction", 1.5), ("escape_distance", -0.1),
                                         ("tol", math.nan), ("escape_every", -2), ("escape_tol", "x"),
                                         ("escape", "jump"), ("escape_length", 0.0)])
def test_options_reject_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        LocalPhaseOptions(**{field: value})


def test_stall_count_counts_evaluations_since_the_last_improvement():
    assert stall_count([1.0, 2.0], 2, 1e-3) == 0  # the initial design only
    assert stall_count([1.0, 2.0, 3.0, 2.5, 2.9], 2, 1e-3) == 2
    assert stall_count([1.0, 2.0, 2.0001, 2.0002], 2, 1e-3) == 2  # too small to count
    # of the range: 0.05 of a range of 10 is not an improvement at tol 0.01, 0.2 is
    assert stall_count([-10.0, 0.0, 0.05, 0.2], 2, 0.01) == 0
    assert stall_count([-10.0, 0.0, 0.05, 0.09], 2, 0.01) == 2


def test_phase_goes_global_then_local_then_escapes_every_other_suggestion():
    assert phase([float(i) for i in range(5)] + [4.0] * 30, 5, LocalPhaseOptions()) == "global"  # no budget
    opts = LocalPhaseOptions(stall=3, escape_after=5, escape_every=2)
    improving = [float(i) for i in range(12)]
    assert phase(improving, 5, opts) == "global"
    flat = improving[:6] + [5.0] * 3
    assert phase(flat, 5, opts) == "local"  # 3 without improvement
    seq = [phase(improving[:6] + [5.0] * k, 5, opts) for k in range(5, 10)]
    assert seq == ["escape", "local", "escape", "local", "escape"]
    assert phase(improving[:6] + [5.0] * 5 + [100.0], 5, opts) == "global"  # an improvement resets it
    never = LocalPhaseOptions(stall=3, escape_every=0)
    assert phase(improving[:6] + [5.0] * 20, 5, never) == "local"


def test_late_fraction_uses_the_budget_hint_only_when_given():
    opts = LocalPhaseOptions(stall=None, escape_every=0, late_fraction=0.2)
    values = [float(i) for i in range(40)]
    assert phase(values, 10, opts) == "global"
    assert phase(values, 10, opts, budget=50) == "local"
    assert phase(values[:39], 10, opts, budget=50) == "global"


def test_plan_gives_a_small_box_with_more_steps_and_an_escape_ball():
    X = torch.tensor([[0.1, 0.1], [0.5, 0.6], [0.9, 0.2]], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64)
    base = MaximizeOptions(steps=30)
    ph, region, mo = plan(LocalPhaseOptions(stall=0, length=0.1, steps=100), X, y, 1,
                          None, base)
    assert ph == "local" and mo.steps == 100
    assert torch.allclose(region.center, X[1])
    assert torch.allclose(region.ub - region.lb, torch.full((2,), 0.1, dtype=torch.float64))
    ph, region, mo = plan(LocalPhaseOptions(escape_after=0, escape_every=1, escape_distance=0.3),
                          X, y, 1, None, base)
    assert ph == "escape" and mo is base
    assert region.min_distance == pytest.approx(0.3 * math.sqrt(2))
    assert torch.equal(region.lb, torch.zeros(2, dtype=torch.float64))
    restart = LocalPhaseOptions(escape_after=0, escape_every=1, escape_distance=0.3, escape="restart",
                                escape_length=0.2, steps=100)
    ph, region, mo = plan(restart, X, y, 1, None, base)
    assert ph == "escape" and mo.steps == 100
    assert torch.allclose(region.center, X[2])  # the best point at least 0.3 * sqrt(2) away
    assert torch.allclose(region.ub - region.lb, torch.full((2,), 0.2, dtype=torch.float64))
    explore = LocalPhaseOptions(escape_after=0, escape_every=1, escape="explore")
    ph, region, mo = plan(explore, X, y, 1, None, base)
    assert ph == "escape" and mo.steps == 0 and torch.equal(region.lb, region.ub)
    assert bool(((region.center >= 0.1) & (region.center <= 0.9)).all())
    assert float(torch.cdist(region.center[None], X).min()) > 0.3  # far from the three points
    ph, region, mo = plan(LocalPhaseOptions(stall=0), X, y, 1, None, base)
    assert ph == "local" and mo == base  # the default: the global search's steps
    ph, region, mo = plan(LocalPhaseOptions(), X, y, 1, None, base)
    assert (ph, region, mo) == ("global", None, base)


def test_maximize_never_returns_a_point_inside_the_escape_ball():
    space = gb.Space({"a": gb.Real(0.0, 1.0), "b": gb.Real(0.0, 1.0)})
    center = torch.tensor([0.4, 0.5], dtype=torch.float64)

    def acq(X):  # peaked at the centre: the search must settle on the ball's edge
        return -((X.squeeze(-2) - center) ** 2).sum(-1)

    one = torch.ones(2, dtype=torch.float64)
    region = Region(0 * one, one, center, min_distance=0.3)
    for seed in range(5):
        x, _ = maximize(acq, space, options=MaximizeOptions(raw_samples=256), seed=seed, exclude=set(),
                        device=torch.device("cpu"), region=region)
        dist = float((x - center).norm())
        assert 0.3 <= dist < 0.4


def _run(opts, n=22, seed=0):
    space = gb.Space({"a": gb.Real(-1.0, 1.0), "b": gb.Real(-1.0, 1.0)})
    opt = gb.Optimizer(space, seed=seed, n_initial=5, device="cpu", options=gb.OptimizerOptions(local_phase=opts))
    phases = []
    for _ in range(n):
        p = opt.ask()
        phases.append(opt.last_suggestion_info.get("phase"))
        opt.tell(p, (p["a"] - 0.3) ** 2 + 4 * (p["b"] + 0.2) ** 2)
    return opt, phases


def test_optimizer_is_unchanged_without_local_phase_or_a_budget():
    opt, phases = _run(None, n=8)
    assert set(phases[5:]) == {"global"}
    assert opt.options.local_phase is None
    assert gb.OptimizerOptions().local_phase == LocalPhaseOptions()  # on by default, but it needs a budget
    _, phases = _run(LocalPhaseOptions(), n=12)
    assert set(phases[5:]) == {"global"}


def test_default_searches_the_last_fifth_of_a_budget_locally():
    space = gb.Space({"a": gb.Real(-1.0, 1.0), "b": gb.Real(-1.0, 1.0)})
    opt = gb.Optimizer(space, seed=0, n_initial=5, device="cpu")
    opt.budget = 15
    phases = []
    for _ in range(15):
        p = opt.ask()
        phases.append(opt.last_suggestion_info.get("phase"))
        opt.tell(p, (p["a"] - 0.3) ** 2 + 4 * (p["b"] + 0.2) ** 2)
    assert phases[5:12] == ["global"] * 7 and phases[12:] == ["local"] * 3  # 12 of 15 told: the last 20%


def test_optimizer_local_suggestions_stay_in_the_box_and_escapes_leave_the_ball():
    opts = LocalPhaseOptions(stall=0, escape_after=0, escape_every=3, length=0.1, escape_distance=0.3)
    opt, phases = _run(opts)
    assert {"local", "escape"} <= set(phases)
    enc = opt.space.encode([t.params for t in opt.trials], device="cpu", dtype=torch.float64)
    vals = [t.value for t in opt.trials]
    for i, ph in enumerate(phases):
        if ph not in ("local", "escape"):
            continue
        best = enc[min(range(i), key=lambda j: vals[j])]
        dist = float((enc[i] - best).abs().max()) if ph == "local" else float((enc[i] - best).norm())
        if ph == "local":
            assert dist <= 0.5 * 0.1 * 10.0 + 1e-9  # half the side, lengthscale-scaled (at most 10x)
        else:
            assert dist >= 0.3 * math.sqrt(2) - 1e-9


def test_optimize_tells_the_optimizer_its_budget(monkeypatch):
    import gpu_bo.local_phase as lp

    budgets = []
    real = lp.phase

    def spy(values, n_initial, opts, budget=None):
        budgets.append(budget)
        return real(values, n_initial, opts, budget)

    monkeypatch.setattr(lp, "phase", spy)
    from gpu_bo.run_options import RunOptions

    opts = gb.OptimizerOptions(local_phase=LocalPhaseOptions(late_fraction=0.5))
    gb.optimize(lambda p: (p["a"] - 0.2) ** 2, {"a": (0.0, 1.0)}, n_trials=6, progress=False,
                options=RunOptions(optimizer_options=opts, n_initial=3))
    assert budgets and set(budgets) == {6}
