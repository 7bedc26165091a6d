"""The Pareto front of a multi-objective study: 2 or 3 objectives, feasible and infeasible trials."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from gpu_bo.pareto import pareto_mask
from gpu_bo.plots._common import as_study, nothing_completed, plt_module
from gpu_bo.study import Direction

__all__ = ["plot_pareto_front"]

FRONT_COLOR = "#d62728"  # red: the Pareto-optimal trials and the front line
DOMINATED_COLOR = "#7f9fbf"  # muted blue: feasible trials some other trial dominates
INFEASIBLE_COLOR = "0.45"  # gray crosses: trials that break a constraint


def _objectives(objectives: Sequence[int] | None, m: int) -> list[int]:
    """The objective indices to draw (default: all of 2 or 3), checked."""
    if objectives is None:
        if m not in (2, 3):
            raise ValueError(f"objectives: the study has {m} objective(s); plot_pareto_front draws 2 or 3, "
                             "so pass objectives=[i, j] or [i, j, k]" if m > 3 else
                             "study: plot_pareto_front needs a multi-objective study (2 or 3 objectives); "
                             "this one has one objective (use plot_convergence)")
        return list(range(m))
    if isinstance(objectives, str) or not isinstance(objectives, Sequence):
        raise TypeError(f"objectives: got {objectives!r}, expected a list of 2 or 3 objective indices")
    picked = list(objectives)
    bad = [i for i in picked if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < m]
    if len(picked) not in (2, 3) or bad or len(set(picked)) != len(picked):
        raise ValueError(f"objectives: got {picked!r}, expected 2 or 3 distinct indices in 0..{m - 1}")
    return [int(i) for i in picked]


def plot_pareto_front(study: Any, objectives: Sequence[int] | None = None, *,
                      names: Sequence[str] | None = None, show_infeasible: bool = True,
                      ax: Any = None) -> Any:
    """The trials of a multi-objective study in objective space, the Pareto front highlighted.

    Feasible trials are dots: the Pareto-optimal ones (non-dominated among the feasible completed
    trials, in the objectives drawn) red, the dominated ones blue; with two objectives the front
    is joined by a staircase toward the dominated side. Trials that break a constraint are gray
    crosses. Failed and running trials have no values and are not drawn.

    Args:
        study: a multi-objective Study or Optimizer (2 or 3 objectives, or more with ``objectives``).
        objectives: which objectives (0-based, 2 or 3 of them) to draw; default: all of them.
        names: axis labels, one per drawn objective (default: "objective i (direction)").
        show_infeasible: also draw the infeasible trials.
        ax: the Axes to draw on (a 3-D one for 3 objectives; default: a new figure).

    Returns:
        The Axes.

    Raises:
        ValueError: the study has one objective, a wrong ``objectives`` or ``names``, or no
            completed trial.
    """
    plt = plt_module()
    st, _ = as_study(study)
    cols = _objectives(objectives, len(st.directions))
    if names is not None and len(names) != len(cols):
        raise ValueError(f"names: got {len(names)} names for {len(cols)} objectives; expected one per objective")
    done = [t for t in st.completed_trials if t.values is not None]
    if not done:
        raise nothing_completed(st, "plot_pareto_front needs a completed trial")
    dirs = [st.directions[i] for i in cols]
    feas = np.asarray([[t.values[i] for i in cols] for t in done if t.feasible], dtype=float).reshape(-1, len(cols))
    infeas = np.asarray([[t.values[i] for i in cols] for t in done if not t.feasible],
                        dtype=float).reshape(-1, len(cols))
    front = np.asarray(pareto_mask(feas.tolist(), dirs), dtype=bool) if len(feas) else np.zeros(0, bool)
    three = len(cols) == 3
    if ax is None:
        fig = plt.figure(figsize=(6.5, 5.5) if three else (6.5, 4.8))
        ax = fig.add_subplot(projection="3d") if three else fig.add_subplot()
    labels = list(names) if names is not None else [f"objective {i} ({st.directions[i]})" for i in cols]

    def scatter(P: np.ndarray, **kw: Any) -> None:
        if len(P):
            ax.scatter(*(P[:, k] for k in range(len(cols))), **kw)

    scatter(feas[~front], s=22, color=DOMINATED_COLOR, alpha=0.7, label=f"dominated ({int((~front).sum())})")
    if show_infeasible:
        scatter(infeas, s=26, color=INFEASIBLE_COLOR, marker="x", label=f"infeasible ({len(infeas)})")
    scatter(feas[front], s=46, color=FRONT_COLOR, edgecolors="k", linewidths=0.5, zorder=3,
            label=f"Pareto front ({int(front.sum())})")
    if not three and front.sum() > 1:
        _staircase(ax, feas[front], dirs)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if three:
        ax.set_zlabel(labels[2])
    n_inf = len(infeas)
    extra = f", {n_inf} infeasible" if n_inf else ""
    ax.set_title(f"Pareto front ({len(done)} completed trials{extra})")
    if not three:
        ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return ax


def _staircase(ax: Any, P: np.ndarray, dirs: Sequence[str]) -> None:
    """Join the 2-D front ``P`` by the steps that bound the region it dominates."""
    signs = np.asarray([Direction.parse(d).sign for d in dirs])
    Q = P * signs  # larger is better in both
    Q = Q[np.argsort(-Q[:, 0])]  # best first objective first: the second then rises along the front
    xs, ys = [Q[0, 0]], [Q[0, 1]]
    for a, b in Q[1:]:
        xs += [a, a]
        ys += [ys[-1], b]
    ax.plot(np.asarray(xs) * signs[0], np.asarray(ys) * signs[1], color=FRONT_COLOR, lw=1.2, alpha=0.8,
            zorder=2)
