"""Importance, plots and the inferred space on conditional studies (issue 17.1)."""

from __future__ import annotations

import matplotlib
import pytest

import gpu_bo as gb
from gpu_bo.plots import _common as c

matplotlib.use("Agg")


def _space() -> gb.Space:
    return gb.Space({
        "model": gb.Categorical(["a", "b"]),
        "x": gb.Real(-2.0, 2.0, when={"model": "a"}),   # matters a lot, inside branch a only
        "z": gb.Real(-2.0, 2.0, when={"model": "b"}),   # does nothing
        "n": gb.Integer(1, 9, step=2),
    })


def _f(p: dict) -> float:
    return 3.0 * p["x"] ** 2 if p["model"] == "a" else 1.0 + 0.0 * p["z"]


@pytest.fixture(scope="module")
def study():
    sp = _space()
    opt = gb.Optimizer(sp, direction="minimize", seed=0)
    for p in sp.sample_params(24, seed=3):
        opt.tell(p, _f(p))
    return opt, sp


def test_importance_covers_conditional_parameters(study):
    opt, sp = study
    s = gb.importance(opt, space=sp)
    assert set(s) == set(sp.names) and abs(sum(s.values()) - 1.0) < 1e-9
    assert s["x"] > 5 * s["z"] and s["x"] > 5 * s["n"]


def test_inferred_space_has_the_conditions_the_trials_show(study):
    opt, sp = study
    st = gb.Study("minimize", list(opt.trials))
    inferred = c.resolve(st, None)[1]
    assert inferred.dims["x"].when.to_dict() == {"model": ["a"]}
    assert inferred.dims["z"].when.to_dict() == {"model": ["b"]}
    assert set(gb.importance(st)) == set(sp.names)


def test_plots_draw_conditional_and_stepped_parameters(study):
    opt, sp = study
    from gpu_bo import plots

    axes = plots.plot_objective(opt, sp, n_points=8, n_samples=64)
    assert axes.shape == (4, 4)
    # x's partial dependence is read inside branch a: a parabola, not a flat line
    curve = axes[1, 1].lines[0].get_ydata()
    assert max(curve) - min(curve) > 1.0
    axes = plots.plot_evaluations(opt, sp)
    assert axes.shape == (4, 4)
    assert list(c.axis_values(sp.dims["n"], c.grid(sp.dims["n"], 40))) == [1, 3, 5, 7, 9]


def test_plots_draw_only_the_trials_that_use_a_panels_parameters(study):
    opt, sp = study
    from gpu_bo import plots

    trials = list(opt.trials)
    uses = {n: sum(n in t.params for t in trials) for n in sp.names}
    assert 0 < uses["x"] < len(trials) and 0 < uses["z"] < len(trials)
    both_xn = sum("x" in t.params for t in trials)  # n is always active
    # pair panels: names in order model, x, z, n -> axes[3, 1] is (x across, n up)
    axes = plots.plot_evaluations(opt, sp)
    assert len(axes[3, 1].collections[0].get_offsets()) == both_xn
    assert len(axes[2, 1].collections) == 0 or len(axes[2, 1].collections[0].get_offsets()) == 0  # x, z: never both
    assert len(axes[3, 0].collections[0].get_offsets()) == len(trials)  # model, n: always both
    # the diagonal histogram of x counts x's trials only (not a spike of placeholders at the middle)
    assert sum(p.get_height() for p in axes[1, 1].patches) == uses["x"]
    axes = plots.plot_objective(opt, sp, n_points=8, n_samples=64)
    assert len(axes[3, 1].collections[-2].get_offsets()) == both_xn
    # the best trial is in branch a (f = 3 x^2 < 1): no star on z's panels, a line on x's diagonal
    best = min(trials, key=lambda t: t.value)
    assert best.params["model"] == "a"
    from matplotlib.collections import PathCollection

    dots = [col for col in axes[3, 2].collections if isinstance(col, PathCollection)]
    assert dots and all(len(col.get_offsets()) == 0 or col.get_sizes()[0] != 130 for col in dots)
    assert any(len(col.get_offsets()) == 1 and col.get_sizes()[0] == 130
               for col in axes[3, 1].collections if isinstance(col, PathCollection))  # x's panel has it
    assert len(axes[2, 2].lines) == 1 and len(axes[1, 1].lines) == 2
