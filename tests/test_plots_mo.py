"""Tests of gpu_bo.plots on multi-objective and constrained studies: the Pareto front plot (2 and 3
objectives; front, dominated and infeasible trials apart), the hypervolume convergence, as_study
keeping an Optimizer's directions, and the per-objective view of the other plots."""

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
from gpu_bo.pareto import hypervolume, non_dominated, to_max  # noqa: E402
from gpu_bo.plots._common import as_study, single_objective  # noqa: E402
from gpu_bo.plots.convergence import hypervolume_so_far  # noqa: E402

SPACE = gb.Space({"x": gb.Real(0.0, 1.0), "y": gb.Real(0.0, 1.0)})
DIRS = ["minimize", "maximize"]


def _values(p):
    return [p["x"] + 0.1 * p["y"], p["y"] * (1.2 - p["x"])]


def _study(n=24, seed=0, constrained=True, fail=(2,), dirs=DIRS):
    trials = []
    for i, p in enumerate(SPACE.sample_params(n, seed=seed)):
        vals = (_values(p) + [p["x"] * p["y"]])[: len(dirs)]
        ok = i not in fail
        trials.append(gb.Trial(number=i, params=p, values=vals if ok else None,
                               state=gb.TrialState.COMPLETE if ok else gb.TrialState.FAILED, end_time=1.0,
                               constraints=[p["x"] - 0.7] if constrained else None))
    return gb.Study(trials=trials, name="mo", directions=dirs)


def _png(fig, path):
    fig.savefig(path)
    img = mpimg.imread(path)
    assert img.shape[0] > 100 and img.std() > 0.01  # not blank
    plt.close(fig)


def _collection_points(ax, label_start):
    for coll in ax.collections:
        if coll.get_label().startswith(label_start):
            return np.asarray(coll.get_offsets())
    return np.zeros((0, 2))


def test_pareto_front_marks_front_dominated_and_infeasible(tmp_path):
    st = _study()
    ax = plots.plot_pareto_front(st)
    feas = [t for t in st.completed_trials if t.feasible]
    infeas = [t for t in st.completed_trials if not t.feasible]
    assert feas and infeas
    front = _collection_points(ax, "Pareto front")
    # brute force: a feasible point no other feasible point dominates
    Y = to_max([t.values for t in feas], DIRS)
    brute = [i for i in range(len(Y)) if not any(np.all(Y[j] >= Y[i]) and np.any(Y[j] > Y[i])
                                                   for j in range(len(Y)))]
    assert sorted(map(tuple, front.tolist())) == sorted(tuple(feas[i].values) for i in brute)
    assert np.array_equal(non_dominated(Y).nonzero()[0], np.asarray(brute))
    crosses = _collection_points(ax, "infeasible")
    assert sorted(map(tuple, crosses.tolist())) == sorted(tuple(t.values) for t in infeas)
    dominated = _collection_points(ax, "dominated")
    assert len(dominated) + len(front) == len(feas)
    assert "infeasible" in ax.get_title() and "(minimize)" in ax.get_xlabel()
    _png(ax.figure, tmp_path / "front.png")


def test_pareto_front_hides_infeasible_and_takes_names(tmp_path):
    ax = plots.plot_pareto_front(_study(), show_infeasible=False, names=["error", "speed"])
    assert len(_collection_points(ax, "infeasible")) == 0
    assert ax.get_xlabel() == "error" and ax.get_ylabel() == "speed"
    _png(ax.figure, tmp_path / "front.png")


def test_pareto_front_three_objectives_and_a_choice_of_two(tmp_path):
    st = _study(dirs=["minimize", "maximize", "minimize"], constrained=False)
    ax = plots.plot_pareto_front(st)
    assert ax.name == "3d"
    _png(ax.figure, tmp_path / "front3.png")
    ax2 = plots.plot_pareto_front(st, objectives=[0, 2])
    assert ax2.name != "3d" and "objective 2" in ax2.get_ylabel()
    _png(ax2.figure, tmp_path / "front02.png")


def test_pareto_front_errors_name_the_problem():
    single = gb.Study("minimize", [gb.Trial(0, {"x": 0.1, "y": 0.2}, value=1.0, state=gb.TrialState.COMPLETE)])
    with pytest.raises(ValueError, match="one objective"):
        plots.plot_pareto_front(single)
    with pytest.raises(ValueError, match=r"objectives: got \[0, 0\]"):
        plots.plot_pareto_front(_study(), objectives=[0, 0])
    with pytest.raises(ValueError, match="names: got 1 names"):
        plots.plot_pareto_front(_study(), names=["a"])
    with pytest.raises(ValueError, match="no trial yet"):
        plots.plot_pareto_front(gb.Study(directions=DIRS))
    four = _study(dirs=["minimize"] * 3, constrained=False)
    four.directions.append("minimize")  # a 4-objective study needs a choice of objectives
    with pytest.raises(ValueError, match="pass objectives"):
        plots.plot_pareto_front(four)


def test_as_study_keeps_an_optimizers_directions():
    opt = gb.Optimizer(SPACE, directions=DIRS, seed=0)
    opt.tell({"x": 0.2, "y": 0.3}, [0.5, 0.1], constraints=[-1.0])
    st, sp = as_study(opt)
    assert st.directions == DIRS and st.is_multi_objective and sp is opt.space
    assert st.trials[0].constraints == [-1.0]


def test_convergence_draws_the_hypervolume_so_far(tmp_path):
    st = _study()
    ref = [1.5, -0.1]
    ax = plots.plot_convergence(st, ref_point=ref)
    line = ax.get_lines()[0]
    hv = np.asarray(line.get_ydata())
    assert len(hv) == len(st.trials) and np.all(np.diff(hv) >= -1e-12) and hv[-1] > 0
    feas = [t.values for t in st.feasible_trials]
    assert hv[-1] == pytest.approx(hypervolume(feas, DIRS, ref))
    # an infeasible trial never raises it
    for i, t in enumerate(st.trials):
        if i and not t.feasible:
            assert hv[i] == hv[i - 1]
    assert "hypervolume" in ax.get_ylabel()
    _png(ax.figure, tmp_path / "hv.png")


def test_convergence_infers_one_reference_point_for_all_studies():
    a, b = _study(seed=0), _study(seed=1)
    ax = plots.plot_convergence([a, b], labels=["a", "b"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    from gpu_bo.pareto import infer_reference_point

    ref = infer_reference_point([t.values for st in (a, b) for t in st.feasible_trials], DIRS)
    assert ax.get_lines()[1].get_ydata()[-1] == pytest.approx(hypervolume_so_far(b, ref)[-1])
    plt.close(ax.figure)


def test_convergence_refuses_mixed_studies_and_bad_ref_points():
    single = gb.Study("minimize", [gb.Trial(0, {"x": 0.1, "y": 0.2}, value=1.0, state=gb.TrialState.COMPLETE)])
    with pytest.raises(ValueError, match="same directions"):
        plots.plot_convergence([_study(), single])
    with pytest.raises(ValueError, match="ref_point: got"):
        plots.plot_convergence(_study(), ref_point=[1.0])
    with pytest.raises(ValueError, match="ref_point: got"):
        plots.plot_convergence(single, ref_point=[1.0])
    none_feasible = _study()
    for t in none_feasible.trials:
        t.constraints = [1.0]
    with pytest.raises(ValueError, match="feasible"):
        plots.plot_convergence(none_feasible)
    plt.close("all")


def test_single_objective_view_and_its_errors():
    st = _study()
    view = single_objective(st, 1, "plot_objective")
    assert view.directions == ["maximize"]
    assert [t.values for t in view.trials] == [None if t.values is None else [t.values[1]] for t in st.trials]
    assert view.best_trial.constraints[0] <= 0  # the best is a feasible one
    with pytest.raises(ValueError, match="pass objective=0..1"):
        single_objective(st, None, "plot_objective")
    with pytest.raises(ValueError, match="objective: got 2"):
        single_objective(st, 2, "plot_objective")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_objective_and_evaluations_plots_take_an_objective(tmp_path):
    st = _study(n=14)
    with pytest.raises(ValueError, match="plot_objective draws one objective"):
        plots.plot_objective(st)
    axes = plots.plot_objective(st, SPACE, objective=1, n_points=8, n_samples=8)
    _png(axes[0, 0].figure, tmp_path / "obj.png")
    axes = plots.plot_evaluations(st, SPACE)  # no objective: drawn without a best star
    assert not any(c.get_label() == "best trial" for ax in axes.ravel() for c in ax.collections)
    _png(axes[0, 0].figure, tmp_path / "ev.png")
    axes = plots.plot_evaluations(st, SPACE, objective=0)
    assert any(c.get_label() == "best trial" for ax in axes.ravel() for c in ax.collections)
    _png(axes[0, 0].figure, tmp_path / "ev0.png")
    ax = plots.plot_importance(st, space=SPACE, objective=1)
    assert "objective 1" in ax.get_title()
    plt.close("all")
    assert math.isfinite(hypervolume_so_far(st, [2.0, -1.0])[-1])
