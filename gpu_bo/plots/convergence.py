"""Best value so far against the trial number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gpu_bo.plots._common import as_study, nothing_completed, plt_module
from gpu_bo.study import Direction, TrialState

__all__ = ["plot_convergence"]


def plot_convergence(studies: Any, labels: Sequence[str] | None = None, ax: Any = None,
                     show_points: bool = True) -> Any:
    """Best value so far against the trial number, one line per study.

    Args:
        studies: a study or a list of studies (Study, Optimizer, ...).
        labels: legend labels (default: each study's name, else "study i").
        ax: draw into these Axes (default: a new figure).
        show_points: also scatter every completed trial's value.

    Returns:
        The matplotlib Axes.

    Raises:
        ValueError: when no study has a completed trial (the message says how many failed and
            the first error), or the labels do not match the studies.
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
    directions = set()
    for i, st in enumerate(parsed):
        directions.add(Direction.parse(st.direction))
        label = labels[i] if labels is not None else (st.name or f"study {i}")
        best = np.asarray(st.best_so_far(), dtype=float)
        x = np.arange(1, len(best) + 1)
        line, = ax.plot(x, best, drawstyle="steps-post", lw=2, label=label)
        if show_points:
            done = [(t.number + 1, t.value) for t in st.trials if t.state == TrialState.COMPLETE]
            if done:
                px, py = zip(*done)
                ax.scatter(px, py, s=12, alpha=0.35, color=line.get_color())
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # trial numbers are whole
    ax.set_xlabel("trial")
    word = "best" if len(directions) > 1 else "max" if Direction.MAXIMIZE in directions else "min"
    ax.set_ylabel(f"{word} objective so far")
    ax.set_title("Convergence")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    return ax
