"""Tests of gpu_bo.plots: each plot renders to a non-empty PNG with the Agg backend."""

from __future__ import annotations

import math

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import gpu_bo as gb  # noqa: E402
from gpu_bo import plots  # noqa: E402

SPACE = gb.Space({"x": gb.Real(-3.0, 3.0), "lr": gb.Real(1e-4, 1e-1, log=True), "k": gb.Categorical(["a", "b"])})


def _f(p):
    return (p["x"] - 1.0) ** 2 + 0.5 * (math.log10(p["lr"]) + 2.0) ** 2 + (0.0 if p["k"] == "a" else 1.0)


def _study(n=16, seed=0, direction="minimize", name=None, fail=(3,)):
    trials = []
    for i, p in enumerate(SPACE.sample_params(n, seed=seed)):
        ok = i not in fail
        v = _f(p) if direction == "minimize" else -_f(p)
        trials.append(gb.Trial(number=i, params=p, value=v if ok else None,
                               state=gb.TrialState.COMPLETE if ok else gb.TrialState.FAILED, end_time=1.0))
    st = gb.Study(direction, trials, name=name)
    return st


def _check_png(fig, path):
    fig.savefig(path)
    img = mpimg.imread(path)
    assert path.stat().st_size > 1000
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert float(np.ptp(img[..., :3])) > 0.1  # not a blank canvas
    plt.close(fig)


def test_plot_convergence_overlays_studies_with_labels(tmp_path):
    a, b = _study(seed=0, name="sobol-0"), _study(seed=1)
    ax = plots.plot_convergence([a, b], labels=["first", "second"])
    assert isinstance(ax, matplotlib.axes.Axes)
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["first", "second"]
    np.testing.assert_allclose(lines[0].get_ydata(), a.best_so_far())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["first", "second"]
    _check_png(ax.figure, tmp_path / "conv.png")
    # one study, default label = its name; a failed first trial leaves a gap (NaN), not a crash
    ax = plots.plot_convergence(_study(name="solo", fail=(0,)))
    assert ax.get_lines()[0].get_label() == "solo" and math.isnan(ax.get_lines()[0].get_ydata()[0])
    plt.close(ax.figure)


def test_plot_convergence_accepts_an_optimizer(tmp_path):
    opt = gb.Optimizer(SPACE, direction="maximize", seed=0, device="cpu")
    for _ in range(4):
        p = opt.ask()
        opt.tell(p, -_f(p))
    ax = plots.plot_convergence(opt)
    assert len(ax.get_lines()[0].get_ydata()) == 4 and "max" in ax.get_ylabel()
    _check_png(ax.figure, tmp_path / "opt.png")


def test_plot_objective_partial_dependence(tmp_path):
    st = _study(n=20)
    axes = plots.plot_objective(st, SPACE, n_points=16, n_samples=16)
    assert axes.shape == (3, 3)
    assert not axes[0, 1].axison  # the upper triangle is off
    # diagonal for x: the GP's partial dependence is lowest near the true optimum x = 1
    xs, pd = axes[0, 0].get_lines()[0].get_data()
    assert abs(xs[np.argmin(pd)] - 1.0) < 1.0
    assert pd[0] > pd.min() + 1.0  # x = -3 is clearly worse (true gap: 16)
    # the categorical panel has one tick per choice
    assert [t.get_text() for t in axes[2, 2].get_xticklabels()] == ["a", "b"]
    _check_png(axes[0, 0].figure, tmp_path / "objective.png")


def test_plot_objective_maximize_infers_space_and_subsets(tmp_path):
    st = _study(n=12, direction="maximize", fail=())
    axes = plots.plot_objective(st, n_points=8, n_samples=8, params=["x", "k"])  # space inferred
    assert axes.shape == (2, 2)
    xs, pd = axes[0, 0].get_lines()[0].get_data()
    assert abs(xs[np.argmax(pd)] - 1.0) < 1.5
    _check_png(axes[0, 0].figure, tmp_path / "objective_max.png")


def test_plot_evaluations(tmp_path):
    st = _study(n=15)
    axes = plots.plot_evaluations(st, SPACE)
    assert axes.shape == (3, 3)
    # histogram of x counts every finished trial (failed ones too: they were evaluated)
    assert sum(p.get_height() for p in axes[0, 0].patches) == 15
    assert axes[1, 1].get_xscale() == "log"
    _check_png(axes[0, 0].figure, tmp_path / "evaluations.png")


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="empty"):
        plots.plot_convergence([])
    with pytest.raises(ValueError, match="labels"):
        plots.plot_convergence([_study()], labels=["a", "b"])
    with pytest.raises(TypeError, match="study"):
        plots.plot_convergence(42)
    with pytest.raises(ValueError, match="at least 2"):
        plots.plot_objective(_study(n=2, fail=(0,)), SPACE)
    with pytest.raises(ValueError, match="unknown"):
        plots.plot_evaluations(_study(), SPACE, params=["nope"])
    plt.close("all")


def test_convergence_label_and_duck_typed_directions():
    from types import SimpleNamespace

    from gpu_bo.study import Direction

    words = {}
    for key, studies in {"min": [_study()], "max": [_study(direction="maximize")],
                         "best": [_study(), _study(direction="maximize")]}.items():
        words[key] = plots.plot_convergence(studies).get_ylabel().split()[0]
    assert words == {"min": "min", "max": "max", "best": "best"}
    # anything with trials and a direction (a Direction member too) is a study; another word is not
    duck = SimpleNamespace(trials=_study().trials, direction=Direction.MINIMIZE)
    assert plots.plot_convergence(duck).get_ylabel().startswith("min")
    with pytest.raises(TypeError, match="study"):
        plots.plot_convergence(SimpleNamespace(trials=[], direction="up"))
    plt.close("all")
