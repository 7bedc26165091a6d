"""Tests of gpu_bo.plots: each plot renders to a non-empty PNG with the Agg backend, and what a
reader relies on holds: the colorbars, one color meaning in both directions, integer and
categorical axes, the failed trials, the messages of empty studies and the parameter cap."""

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


# -- issue 15, item 13: plots a person can read ------------------------------------------------
MIXED = gb.Space({"x": gb.Real(-3.0, 3.0), "lr": gb.Real(1e-4, 1e-1, log=True), "n": gb.Integer(1, 3),
                  "width": gb.Integer(1, 64, log=True), "opt": gb.Categorical(["adam", "sgd", "rmsprop"])})


def _g(p):
    return ((p["x"] - 1.0) ** 2 + 0.5 * (math.log10(p["lr"]) + 2.0) ** 2 + 0.5 * (p["n"] - 2) ** 2
            + 0.1 * abs(math.log2(p["width"]) - 3) + {"adam": 0.0, "sgd": 1.0, "rmsprop": 2.0}[p["opt"]])


def _mixed(direction="minimize", n=20, fail=(3, 11), space=MIXED, f=_g):
    sign = 1.0 if direction == "minimize" else -1.0
    trials = []
    for i, p in enumerate(space.sample_params(n, seed=0)):
        ok = i not in fail
        trials.append(gb.Trial(number=i, params=p, value=sign * f(p) if ok else None, end_time=1.0,
                               state=gb.TrialState.COMPLETE if ok else gb.TrialState.FAILED,
                               error=None if ok else "ZeroDivisionError: division by zero"))
    return gb.Study(direction, trials)


def _colorbars(fig):
    """The Colorbar objects of a figure (each colorbar axes knows its Colorbar)."""
    return [ax._colorbar for ax in fig.axes if getattr(ax, "_colorbar", None) is not None]


def _texts(labels):
    return [t.get_text().replace("\u2212", "-") for t in labels]


def _legend_labels(fig):
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [t.get_text() for leg in legends for t in leg.get_texts()]


def _pair_mappable(ax):
    """The colored surface of a pair panel: a QuadMesh (cells) or a filled contour set."""
    from matplotlib.collections import QuadMesh
    from matplotlib.contour import ContourSet

    found = [c for c in ax.collections if isinstance(c, (QuadMesh, ContourSet))]
    assert len(found) == 1, ax.collections
    return found[0]


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_objective_colorbar_legend_and_one_color_meaning(tmp_path, direction):
    st = _mixed(direction)
    axes = plots.plot_objective(st, MIXED, n_points=10, n_samples=8)
    fig = axes[0, 0].figure
    fig.canvas.draw()
    (cb,) = _colorbars(fig)  # one colorbar for every pair panel: they share one scale
    assert "better" in cb.ax.get_ylabel()
    labels = _legend_labels(fig)
    assert "best trial" in labels and any(lab.startswith("evaluated") for lab in labels)
    # better is the same color in both directions: the best value of the surface gets the
    # colormap's top color, the worst its bottom one, and the colorbar's top end is "better"
    mesh = _pair_mappable(axes[1, 0])
    vals = np.asarray(mesh.get_array() if not hasattr(mesh, "levels") else mesh.levels, dtype=float)
    good, bad = (vals.min(), vals.max()) if direction == "minimize" else (vals.max(), vals.min())
    viridis = matplotlib.colormaps["viridis"]
    np.testing.assert_allclose(mesh.to_rgba(good), viridis(1.0), atol=0.02)  # yellow
    np.testing.assert_allclose(mesh.to_rgba(bad), viridis(0.0), atol=0.02)  # dark purple
    lo, hi = cb.ax.get_ylim()
    assert (lo > hi) == (direction == "minimize")  # minimize: the axis is flipped, low values on top
    assert cb.mappable.norm.vmin == mesh.norm.vmin and cb.mappable.norm.vmax == mesh.norm.vmax
    _check_png(fig, tmp_path / f"objective_{direction}.png")


def test_objective_integer_ticks_and_categories_as_categories(tmp_path):
    from matplotlib.contour import ContourSet

    axes = plots.plot_objective(_mixed(), MIXED, n_points=10, n_samples=8)
    fig = axes[0, 0].figure
    fig.canvas.draw()
    names = MIXED.names
    n, w, o = names.index("n"), names.index("width"), names.index("opt")
    for ax, which in ((axes[n, n], "x"), (axes[w, w], "x"), (axes[n, 0], "y"), (axes[w, 0], "y"),
                      (axes[-1, n], "x"), (axes[-1, w], "x")):
        ticks = _texts(ax.get_xticklabels() if which == "x" else ax.get_yticklabels())
        shown = [t for t in ticks if t]
        assert len(shown) >= 3 and all(t.lstrip("-").isdigit() for t in shown), (which, ticks)
    # a categorical axis: its tick labels are the choices, its panels are cells, not contours
    assert _texts(axes[o, o].get_xticklabels()) == ["adam", "sgd", "rmsprop"]
    assert _texts(axes[o, 0].get_yticklabels()) == ["adam", "sgd", "rmsprop"]
    for c in range(o):
        assert not isinstance(_pair_mappable(axes[o, c]), ContourSet)
        lo, hi = axes[o, c].get_ylim()
        assert (lo, hi) == (-0.5, 2.5)
    # the integer n (3 values) is drawn as 3 cells too, a real pair as a contour
    mesh = _pair_mappable(axes[n, 0])
    assert not isinstance(mesh, ContourSet) and len(np.unique(mesh.get_coordinates()[:, 0, 1])) == 4
    assert isinstance(_pair_mappable(axes[1, 0]), ContourSet)
    _check_png(fig, tmp_path / "objective_mixed.png")


def test_evaluations_colorbar_and_failed_trials(tmp_path):
    st = _mixed(fail=(3, 11, 12))
    axes = plots.plot_evaluations(st, MIXED)
    fig = axes[0, 0].figure
    fig.canvas.draw()
    (cb,) = _colorbars(fig)
    assert "trial" in cb.ax.get_ylabel()
    failed = [c for c in axes[1, 0].collections if c.get_label() == "failed"]
    assert len(failed) == 1 and len(failed[0].get_offsets()) == 3
    assert "failed" in _legend_labels(fig) and "best trial" in _legend_labels(fig)
    # the histograms count trials: whole numbers on their count axis, failed ones included
    assert sum(p.get_height() for p in axes[0, 0].patches) == 20
    counts = [t for t in _texts(axes[0, 0].get_yticklabels()) if t]
    assert counts and all(t.isdigit() for t in counts)
    names = MIXED.names
    o = names.index("opt")
    assert _texts(axes[o, o].get_xticklabels()) == ["adam", "sgd", "rmsprop"]
    ticks = [t for t in _texts(axes[names.index("n"), names.index("n")].get_xticklabels()) if t]
    assert ticks and all(t.isdigit() for t in ticks)
    _check_png(fig, tmp_path / "evaluations_failed.png")


def test_all_failed_and_empty_studies_say_why(tmp_path):
    dead = _mixed(n=5, fail=range(5))
    with pytest.raises(ValueError, match=r"all 5 trials failed.*ZeroDivisionError"):
        plots.plot_objective(dead, MIXED)
    with pytest.raises(ValueError, match=r"all 5 trials failed"):
        plots.plot_convergence(dead)
    # where the failures happened is still worth seeing: drawn, and the title says so
    axes = plots.plot_evaluations(dead, MIXED)
    fig = axes[0, 0].figure
    assert "all 5 trials failed" in fig._suptitle.get_text()
    assert len([c for c in axes[1, 0].collections if c.get_label() == "failed"][0].get_offsets()) == 5
    _check_png(fig, tmp_path / "evaluations_all_failed.png")
    empty = gb.Study("minimize", [])
    for fn in (plots.plot_objective, plots.plot_evaluations):
        with pytest.raises(ValueError, match="no trial"):
            fn(empty, MIXED)
    with pytest.raises(ValueError, match="no trial"):
        plots.plot_convergence(empty)
    plt.close("all")


WIDE = gb.Space({f"p{i:02d}": gb.Real(0.0, 1.0) for i in range(40)})


def _wide_f(p):
    return 5.0 * (p["p07"] - 0.3) ** 2 + 3.0 * (p["p21"] - 0.6) ** 2 + 2.0 * (p["p33"] - 0.5) ** 2


@pytest.mark.slow  # three GP fits in 40 dimensions and two 8 x 8 figures
def test_many_parameters_draw_a_bounded_number_of_the_important_ones(tmp_path):
    st = _mixed(n=60, fail=(), space=WIDE, f=_wide_f)
    axes = plots.plot_objective(st, WIDE, n_points=8, n_samples=8)
    assert axes.shape == (8, 8)
    fig = axes[0, 0].figure
    shown = [axes[i, i].get_xlabel() for i in range(8)]
    assert {"p07", "p21", "p33"} <= set(shown)
    assert "8 of 40 parameters" in " ".join(t.get_text() for t in fig.texts)
    _check_png(fig, tmp_path / "objective_wide.png")
    axes = plots.plot_evaluations(st, WIDE)
    assert axes.shape == (8, 8)
    assert {"p07", "p21", "p33"} <= {axes[i, i].get_xlabel() for i in range(8)}
    _check_png(axes[0, 0].figure, tmp_path / "evaluations_wide.png")
    axes = plots.plot_objective(st, WIDE, n_points=8, n_samples=8, max_params=3)
    assert {axes[i, i].get_xlabel() for i in range(3)} == {"p07", "p21", "p33"}
    plt.close("all")


def test_params_selects_in_the_given_order_and_is_checked(tmp_path):
    st = _mixed()
    axes = plots.plot_objective(st, MIXED, n_points=8, n_samples=8, params=["opt", "x"])
    assert axes.shape == (2, 2) and axes[1, 1].get_xlabel() == "x" and axes[1, 0].get_ylabel() == "x"
    _check_png(axes[0, 0].figure, tmp_path / "objective_params.png")
    axes = plots.plot_evaluations(st, MIXED, params=["n"])
    assert axes.shape == (1, 1) and axes[0, 0].get_xlabel() == "n"
    assert not _colorbars(axes[0, 0].figure)  # histograms only: no color to explain
    _check_png(axes[0, 0].figure, tmp_path / "evaluations_params.png")
    for bad, match in ((["x", "x"], "twice"), ([], "empty"), ("x", "list"), (["nope"], "unknown")):
        for fn in (plots.plot_objective, plots.plot_evaluations):
            with pytest.raises((ValueError, TypeError), match=match):
                fn(st, MIXED, params=bad)
    for bad in (0, 2.5, True):
        with pytest.raises((ValueError, TypeError), match="max_params"):
            plots.plot_objective(st, MIXED, max_params=bad)
    plt.close("all")


def test_integer_grids_are_distinct_whole_numbers():
    from gpu_bo.plots._common import axis_values, grid, log_integer_ticks

    for dim in (gb.Integer(1, 100, log=True), gb.Integer(0, 500), gb.Integer(1, 8, log=True)):
        vals = axis_values(dim, grid(dim, 20))
        assert np.all(np.diff(vals) > 0) and np.all(vals == np.round(vals)), (dim, vals)
        assert vals[0] == dim.low and vals[-1] == dim.high
    assert log_integer_ticks(1, 8) == [1, 2, 5] and log_integer_ticks(1, 1024) == [1, 10, 100, 1000]


def test_the_message_of_failed_trials_names_the_exception_not_the_traceback_header(tmp_path):
    tb = ('Traceback (most recent call last):\n  File "obj.py", line 3, in f\n    return 1 / 0\n'
          "ZeroDivisionError: division by zero\n")
    dead = gb.Study("minimize", [gb.Trial(number=i, params={"x": 0.1 * i}, state=gb.TrialState.FAILED,
                                          error=tb, end_time=1.0) for i in range(3)])
    space = {"x": (0.0, 1.0)}
    with pytest.raises(ValueError, match="all 3 trials failed") as info:
        plots.plot_objective(dead, space)
    assert "ZeroDivisionError: division by zero" in str(info.value) and "Traceback" not in str(info.value)
    fig = plots.plot_evaluations(dead, space)[0, 0].figure
    title = fig._suptitle.get_text()
    assert "ZeroDivisionError: division by zero" in title and "Traceback" not in title
    _check_png(fig, tmp_path / "evaluations_tb.png")


# -- issue 20, item 1: plot_importance ----------------------------------------------------------
def test_plot_importance_bars_sorted_and_labelled_with_the_shares(tmp_path):
    st = _mixed(n=30)
    shares = gb.importance(st, space=MIXED, seed=1)
    ax = plots.plot_importance(st, space=MIXED, seed=1)
    widths = [b.get_width() for b in ax.patches]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert len(widths) == MIXED.d and set(names) == set(MIXED.names)
    assert widths == sorted(widths) and names[-1] == max(shares, key=shares.get)  # largest on top
    assert widths == pytest.approx([shares[n] for n in names])
    labels = [t.get_text() for t in ax.texts]
    assert labels == [f"{100 * shares[n]:.1f}%" for n in names]
    assert "28 completed trials" in ax.get_title()
    _check_png(ax.figure, tmp_path / "importance.png")
    fig, given = plt.subplots()
    assert plots.plot_importance(st, space=MIXED, seed=1, ax=given) is given
    plt.close("all")


def test_plot_importance_needs_two_completed_trials():
    st = _mixed(n=4, fail=(0, 1, 2))
    with pytest.raises(ValueError, match="at least 2 completed trials"):
        plots.plot_importance(st, space=MIXED)
    plt.close("all")


def test_waiting_and_running_trials_are_not_counted_as_finished():
    st = _study(n=10, fail=())
    st.trials[-1].state, st.trials[-1].value = gb.TrialState.WAITING, None  # queued to be re-run
    st.trials[-2].state, st.trials[-2].value = gb.TrialState.RUNNING, None
    fig = plots.plot_evaluations(st, SPACE)[0, 0].figure
    assert "(8 finished trials, 0 failed)" in fig._suptitle.get_text()
