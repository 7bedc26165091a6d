"""Best value so far (one objective) or the hypervolume so far (several) against the trial number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gpu_bo.pareto import hypervolume, infer_reference_point
from gpu_bo.plots._common import as_study, nothing_completed, plt_module
from gpu_bo.study import Direction, Study, TrialState

__all__ = ["plot_convergence"]


def plot_convergence(studies: Any, labels: Sequence[str] | None = None, ax: Any = None,
                     show_points: bool = True, ref_point: Sequence[float] | None = None) -> Any:
    """Best feasible value so far against the trial number, one line per study.

    For multi-objective studies the line is the hypervolume of the feasible completed trials so
    far (:func:`gpu_bo.pareto.hypervolume`), bounded by ``ref_point``; without one, the point is
    inferred once from every study's feasible values together
    (:func:`gpu_bo.pareto.infer_reference_point`), so the lines are comparable.

    Args:
        studies: a study or a list of studies (Study, Optimizer, ...); multi-objective studies
            are plotted together only with the same directions.
        labels: legend labels (default: each study's name, else "study i").
        ax: draw into these Axes (default: a new figure).
        show_points: also scatter every completed feasible trial's value (one objective only).
        ref_point: the hypervolume's reference point in user units, one value per objective
            (multi-objective studies only).

    Returns:
        The matplotlib Axes.

    Raises:
        ValueError: when no study has a completed trial (the message says how many failed and
            the first error), the labels do not match the studies, single- and multi-objective
            studies (or other directions) are mixed, no trial is feasible for inferring a
            reference point, or ``ref_point`` is given for one objective.
    """
    plt = plt_module()
    items = list(studies) if isinstance(studies, (list, tuple)) else [studies]
    if not items:
        raise ValueError("studies: got an empty list; expected at least one study")
    if labels is not None and len(labels) != len(items):
        raise ValueError(f"labels: got {len(labels)} labels for {len(items)} studies; expected one per study")
    parsed = [as_study(obj)[0] for obj in items]
    if not any(st.completed_trials for st in parsed):
        raise nothing_completed(parsed[0], "plot_convergence needs a completed trial")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    if any(st.is_multi_objective for st in parsed):
        return _hypervolume_lines(parsed, labels, ax, ref_point)
    if ref_point is not None:
        raise ValueError(f"ref_point: got {ref_point!r}, but the studies have one objective; a reference "
                         "point is for the hypervolume of multi-objective studies")
    directions = set()
    for i, st in enumerate(parsed):
        directions.add(Direction.parse(st.direction))
        label = labels[i] if labels is not None else (st.name or f"study {i}")
        best = np.asarray(st.best_so_far(), dtype=float)
        x = np.arange(1, len(best) + 1)
        line, = ax.plot(x, best, drawstyle="steps-post", lw=2, label=label)
        if show_points:
            done = [(t.number + 1, t.value) for t in st.feasible_trials]
            if done:
                px, py = zip(*done)
                ax.scatter(px, py, s=12, alpha=0.35, color=line.get_color())
    word = "best" if len(directions) > 1 else "max" if Direction.MAXIMIZE in directions else "min"
    return _finish(ax, f"{word} objective so far", "Convergence")


def _finish(ax: Any, ylabel: str, title: str) -> Any:
    """Integer trial ticks, labels, grid and legend."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # trial numbers are whole
    ax.set_xlabel("trial")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    return ax


def hypervolume_so_far(study: Study, ref_point: Sequence[float]) -> list[float]:
    """The hypervolume of the feasible COMPLETE trials after each trial of ``study`` (user units).

    Args:
        study: a multi-objective study.
        ref_point: the reference point, one value per objective.
    """
    out: list[float] = []
    seen: list[list[float]] = []
    hv = 0.0
    for t in study.trials:
        if t.state == TrialState.COMPLETE and t.feasible and t.values is not None:
            seen.append(list(t.values))
            hv = hypervolume(seen, study.directions, ref_point)
        out.append(hv)
    return out


def _hypervolume_lines(studies: list[Study], labels: Sequence[str] | None, ax: Any,
                       ref_point: Sequence[float] | None) -> Any:
    """The hypervolume-so-far line of each multi-objective study, against one reference point."""
    dirs = {tuple(st.directions) for st in studies}
    if len(dirs) > 1:
        raise ValueError(f"studies: got studies with directions {sorted(dirs)}; the hypervolume of "
                         "studies is compared only between studies with the same directions")
    directions = studies[0].directions
    if ref_point is None:
        feasible = [t.values for st in studies for t in st.feasible_trials]
        if not feasible:
            raise nothing_completed(studies[0], "no completed trial is feasible, so no reference point "
                                                "can be inferred; pass ref_point=[...]")
        ref_point = infer_reference_point(feasible, directions)
    elif len(ref_point) != len(directions):
        raise ValueError(f"ref_point: got {list(ref_point)!r}, expected {len(directions)} values "
                         f"(one per objective: {directions})")
    for i, st in enumerate(studies):
        label = labels[i] if labels is not None else (st.name or f"study {i}")
        hv = hypervolume_so_far(st, ref_point)
        ax.plot(range(1, len(hv) + 1), hv, drawstyle="steps-post", lw=2, label=label)
    ref = ", ".join(f"{r:.4g}" for r in ref_point)
    return _finish(ax, "hypervolume so far", f"Convergence (hypervolume, reference point ({ref}))")
