"""Parameter importance as horizontal bars: the shares of :func:`gpu_bo.importance`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpu_bo.plots import _common as c
from gpu_bo.space import Space

__all__ = ["plot_importance"]


def plot_importance(study: Any, *, space: Space | Mapping[str, Any] | None = None, objective: int = 0,
                    seed: int = 0, ax: Any = None) -> Any:
    """The share of the objective's variance each parameter explains, largest on top.

    Each bar is labelled with its share in percent; the shares are those of
    :func:`gpu_bo.importance.importance` (total-effect Sobol indices of the fitted GP's mean,
    normalized to sum to 1).

    Args:
        study: a Study or Optimizer with at least two completed trials.
        space: its search space (default: the object's, else inferred from the trials).
        objective: which column of ``trial.values`` to explain (multi-objective studies).
        seed: seeds the GP fit and the Sobol samples.
        ax: the Axes to draw on (default: a new figure).

    Returns:
        The Axes.

    Raises:
        ValueError: as :func:`gpu_bo.importance.importance` (fewer than two completed trials,
            no space, ``objective`` out of range).
    """
    from gpu_bo.importance import importance

    plt = c.plt_module()
    shares = importance(study, space=space, objective=objective, seed=seed)
    st, sp = c.resolve(study, space)
    n_done = len(c.completed_inside(st, sp))
    names = sorted(shares, key=lambda k: -shares[k])[::-1]  # barh draws bottom-up: largest on top
    values = [shares[n] for n in names]
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 1.2 + 0.38 * len(names)))
    bars = ax.barh(range(len(names)), values, color="C0")
    ax.set_yticks(range(len(names)), names)
    ax.bar_label(bars, labels=[f"{100 * v:.1f}%" for v in values], padding=3, fontsize=9)
    ax.set_xlim(0.0, min(1.0, max(values) * 1.18 + 0.02))
    ax.set_xlabel("share of the objective's variance (GP mean, total-effect Sobol index)")
    what = f"objective {objective}" if objective else "objective"
    ax.set_title(f"Parameter importance ({what}; {n_done} completed trials)")
    ax.figure.tight_layout()
    return ax
