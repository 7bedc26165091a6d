"""Where the search went: a histogram per parameter and the order in which pairs were tried."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gpu_bo.plots import _common as c
from gpu_bo.plots.objective import Surface, choose, importance
from gpu_bo.space import Space
from gpu_bo.study import Direction, TrialState

__all__ = ["plot_evaluations"]

FAILED_COLOR = "0.25"  # dark gray crosses: apart from the viridis trial colors and the red best star


def _bins(dim: Any, bins: int) -> np.ndarray:
    """Histogram edges in axis units: one bin per category or integer value when they are few."""
    if c.is_cells(dim):
        return c.cell_edges(dim, c.axis_values(dim, c.grid(dim, bins)))
    spaced = np.geomspace if dim.log else np.linspace
    if dim.kind == "integer":  # edges between whole numbers: every bin holds at least one value
        return np.unique(np.round(spaced(dim.low, dim.high + 1, bins + 1))) - 0.5
    return spaced(dim.low, dim.high, bins + 1)


def plot_evaluations(study: Any, space: Space | Mapping[str, Any] | None = None, *, bins: int = 20,
                     params: Sequence[str] | None = None, max_params: int = c.DEFAULT_MAX_PARAMS,
                     seed: int = 0, device: str = "cpu", objective: int | None = None) -> np.ndarray:
    """Where the search went: a histogram per parameter (diagonal) and each pair of values tried.

    Below the diagonal every finished trial is a dot colored by its trial number (the colorbar
    runs from first to last), failed trials are gray crosses and the best trial a red star. The
    histograms stack completed (and pruned) trials with the failed ones, one bar per category or
    integer value when there are few. A study whose trials all failed is drawn too (the crosses
    show where), and its title says so.

    Args:
        study: a Study or Optimizer with at least one finished trial.
        space: its search space (default: the object's, else inferred from the trials).
        bins: histogram bins of a continuous parameter.
        params: plot only these parameters, in this order (default: all, up to ``max_params``).
        max_params: without ``params``, a space with more parameters shows only this many: those
            with the largest shares of :func:`gpu_bo.importance` (as :func:`plot_objective` chooses them;
            the first ones in space order with fewer than two completed trials), with a note.
        seed: seeds the GP fitted to choose parameters.
        device: where that GP is fitted.
        objective: the objective (0-based) whose best trial gets the star and whose GP chooses
            parameters, in a multi-objective study (``None`` there: no star; parameters in space
            order).

    Returns:
        A ``k x k`` array of Axes.

    Raises:
        ValueError: when no trial has finished inside the space, or for unknown, repeated or no
            ``params``.
    """
    plt = c.plt_module()
    st, sp = c.resolve(study, space)
    many = st.is_multi_objective and objective is None  # several objectives and none chosen
    st = st if many else c.single_objective(st, objective, "plot_evaluations")
    asked = c.check_params(params, sp, max_params)
    trials = [t for t in st.trials if t.state.finished and c.inside(sp, t.params)]
    if not trials:
        raise c.nothing_completed(st, "plot_evaluations needs a finished trial inside the space")
    done = c.completed_inside(st, sp)
    scores = None
    if asked is None and sp.d > max_params and len(done) >= 2 and not many:
        scores = importance(Surface(st, sp, done, 16, seed, device))
    names, note = choose(sp, asked, max_params, scores)
    ok = [t for t in trials if t.state != TrialState.FAILED]
    bad = [t for t in trials if t.state == TrialState.FAILED]
    enc_ok = sp.encode([t.params for t in ok]).numpy() if ok else np.zeros((0, sp.d))
    enc_bad = sp.encode([t.params for t in bad]).numpy() if bad else np.zeros((0, sp.d))
    number = np.asarray([t.number for t in ok], dtype=float)
    feasible = [t for t in done if t.feasible]
    best = Direction.parse(st.direction).best(feasible, key=lambda t: t.value) if feasible and not many else None
    best_enc = sp.encode(best.params).numpy() if best is not None else None
    # a conditional space: a panel draws the trials that use its parameters (others hold placeholders)
    on_ok, on_bad = c.active(sp, enc_ok), c.active(sp, enc_bad)
    best_on = c.active(sp, best_enc[None])[0] if best_enc is not None else None
    idx = {n: i for i, n in enumerate(sp.names)}
    rng = np.random.default_rng(seed)
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    first, last = min(t.number for t in trials), max(t.number for t in trials)
    norm = Normalize(first, max(last, first + 1))
    cmap = plt.get_cmap(c.CMAP)
    k = len(names)
    fig, axes = c.grid_figure(plt, k)
    for r in range(k):
        for col in range(r + 1):
            ax = axes[r, col]
            di, dj = sp.dims[names[r]], sp.dims[names[col]]
            i, j = idx[names[r]], idx[names[col]]
            if r == col:
                ax.hist([c.axis_values(di, enc_ok[on_ok[:, i], i]), c.axis_values(di, enc_bad[on_bad[:, i], i])],
                        bins=_bins(di, bins),
                        stacked=True, color=[cmap(0.35), FAILED_COLOR], rwidth=0.85 if c.is_cells(di) else None)
                c.style_axis(ax, di, "x", names[r], pad=True)
                c.integer_counts(ax)
                ax.set_ylabel("trials" if col == 0 else "")
                continue
            sel_ok, sel_bad = on_ok[:, i] & on_ok[:, j], on_bad[:, i] & on_bad[:, j]
            if ok:
                ax.scatter(c.jitter(dj, c.axis_values(dj, enc_ok[sel_ok, j]), rng),
                           c.jitter(di, c.axis_values(di, enc_ok[sel_ok, i]), rng), c=number[sel_ok], cmap=cmap,
                           norm=norm, s=14, label="evaluated")
            if bad:
                ax.scatter(c.jitter(dj, c.axis_values(dj, enc_bad[sel_bad, j]), rng),
                           c.jitter(di, c.axis_values(di, enc_bad[sel_bad, i]), rng), marker="x", s=22,
                           c=FAILED_COLOR, lw=1.2, label="failed")
            if best_enc is not None and best_on[i] and best_on[j]:
                ax.scatter(c.axis_values(dj, best_enc[j:j + 1]), c.axis_values(di, best_enc[i:i + 1]),
                           s=130, c="r", marker="*", edgecolors="k", linewidths=0.5, zorder=3, label="best trial")
            c.style_pair(ax, (dj, di), (names[col], names[r]), (r == k - 1, col == 0), pad=True)
    if ok:
        title = f"Evaluations ({len(trials)} finished trials, {len(bad)} failed)"
    else:
        first = next((c.error_summary(t.error) for t in bad if c.error_summary(t.error)), "")
        first = first if len(first) <= 80 else first[:77] + "..."  # a title line, not a log
        title = f"Evaluations: all {len(bad)} trials failed" + (f" (first error: {first})" if first else "")
    if k <= 2:
        title = title.replace(" (", "\n(", 1)
    mappable = ScalarMappable(norm=norm, cmap=cmap) if ok and k > 1 else None  # k = 1: histograms only
    cb = c.finish_grid(fig, axes, mappable, "trial number (first to last)", title, note)
    if cb is not None:
        from matplotlib.ticker import MaxNLocator

        cb.locator = MaxNLocator(integer=True)
        cb.update_ticks()
    _legend(axes, len(ok), len(bad), best is not None, cmap)
    return axes


def _legend(axes: np.ndarray, n_ok: int, n_bad: int, has_best: bool, cmap: Any) -> None:
    """Evaluated, failed and best markers, in the empty top-right panel (or the only one)."""
    from matplotlib.lines import Line2D

    handles = []
    if n_ok:
        handles.append(Line2D([], [], ls="", marker="o", ms=5, color=cmap(0.5), label=f"evaluated ({n_ok})"))
    if n_bad:
        handles.append(Line2D([], [], ls="", marker="x", ms=6, mew=1.2, color=FAILED_COLOR, label="failed"))
    if has_best:
        handles.append(Line2D([], [], ls="", marker="*", ms=11, color="r", mec="k", mew=0.5, label="best trial"))
    c.legend(axes, handles)
