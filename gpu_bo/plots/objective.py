"""The GP's partial dependence on each parameter and each pair of parameters.

The partial dependence of parameter ``i`` at value ``v`` is the GP's posterior mean averaged
over points whose other coordinates are drawn from the space (skopt's definition), computed as
one batched posterior call per panel; the GP is fitted with :func:`gpu_bo.surrogate.fit_gp`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from gpu_bo.plots import _common as c
from gpu_bo.space import Space
from gpu_bo.study import Direction, Study, Trial

__all__ = ["plot_objective"]


class Surface:
    """A study's fitted GP and the sample of the space its partial dependence averages over.

    Args:
        study: the study (its direction gives the sign of the values).
        space: the search space.
        trials: the completed trials the GP is fitted to.
        n_samples: points of the space the other coordinates are averaged over.
        seed: seeds the GP fit and the averaging sample.
        device: where the GP is fitted and evaluated.
    """

    def __init__(self, study: Study, space: Space, trials: list[Trial], n_samples: int, seed: int,
                 device: str) -> None:
        from gpu_bo.device import resolve_device
        from gpu_bo.surrogate import fit_gp
        from gpu_bo.surrogate.conditional import column_spec

        dev = resolve_device(device)
        self.space = space
        self.seed = seed
        self.X = space.encode([t.params for t in trials], device=dev, dtype=torch.float64)
        self.sign = Direction.parse(study.direction).sign
        y = torch.tensor([self.sign * t.value for t in trials], device=dev, dtype=torch.float64)
        self.gp = fit_gp(self.X, y, column_spec(space), seed=seed)
        # M x d, snapped only once the plotted columns are set (see partial)
        eng = torch.quasirandom.SobolEngine(space.d, scramble=True, seed=seed)
        self.base = eng.draw(n_samples, dtype=torch.float64).to(device=dev)

    def partial(self, columns: Sequence[tuple[int, np.ndarray]], chunk: int = 8192) -> np.ndarray:
        """Partial dependence at ``G`` points: ``columns`` pairs a column with its ``G`` encoded values.

        Args:
            columns: ``(column, values)`` pairs, every ``values`` of the same length ``G``.
            chunk: posterior rows evaluated at once (bounds memory).

        Returns:
            ``G`` values in objective units: the GP mean averaged over the base sample.
        """
        dev, d = self.X.device, self.space.d
        G = len(columns[0][1])
        Xc = self.base.unsqueeze(0).repeat(G, 1, 1)  # G x M x d
        for col, vals in columns:
            Xc[..., col] = torch.as_tensor(vals, device=dev, dtype=torch.float64).unsqueeze(-1)
        # a conditional parameter's effect is read inside its own branch: its parents are set
        # to open it (unless plotted themselves), then every point is snapped to a canonical one
        names = [self.space.names[col] for col, _ in columns]
        Xc = self.space.snap(self.space.activate(Xc, names, keep=names))
        flat = Xc.reshape(-1, d)
        outs = []
        with torch.no_grad():
            for s in range(0, flat.shape[0], chunk):
                m, _ = self.gp.mean_var(flat[s:s + chunk])
                outs.append(self.sign * self.gp.from_std(m))
        return torch.cat(outs).reshape(G, -1).mean(-1).cpu().numpy()


def importance(surface: Surface) -> dict[str, float]:
    """Each parameter's share of the variance of the surface's GP mean (:func:`gpu_bo.importance`).

    The shares are computed from the GP already fitted for the figure (no second fit): the
    total-effect Sobol indices of :func:`gpu_bo.importance.total_effects`, normalized.

    Args:
        surface: the fitted GP of the study.

    Returns:
        ``{name: share}``.
    """
    from gpu_bo.importance import shares, total_effects

    return shares(total_effects(surface.gp, surface.space, seed=surface.seed), surface.space)


def choose(space: Space, params: list[str] | None, max_params: int,
           scores: Mapping[str, float] | None) -> tuple[list[str], str | None]:
    """The parameters to draw (in space order) and the figure's note when some are left out.

    Args:
        space: the search space.
        params: the names asked for (``None``: choose).
        max_params: the most parameters drawn when choosing.
        scores: importance per parameter (``None``: keep the first ones in space order).

    Returns:
        The names and the note (``None`` when every parameter is drawn or they were asked for).
    """
    if params is not None:
        return params, None
    if space.d <= max_params:
        return space.names, None
    if scores is None:
        return space.names[:max_params], c.cap_note(max_params, space.d, "the first ones in space order")
    top = set(sorted(space.names, key=lambda n: -scores[n])[:max_params])
    return [n for n in space.names if n in top], c.cap_note(
        max_params, space.d, "the most important by gb.importance")


def _diagonal(ax: Any, dim: Any, g: np.ndarray, pd: np.ndarray, best: float | None) -> None:
    xs = c.axis_values(dim, g)
    if dim.kind == "categorical":  # one value per category: a dot and a bar across its cell
        ax.plot(xs, pd, "o", ms=5, color="C0")
        ax.hlines(pd, xs - 0.3, xs + 0.3, color="C0", lw=2.5)
    else:
        ax.plot(xs, pd, "-o" if c.is_cells(dim) else "-", ms=4, color="C0")
    if best is not None:  # None: the best trial does not use this parameter
        ax.axvline(best, color="r", ls="--", lw=1)


def plot_objective(study: Any, space: Space | Mapping[str, Any] | None = None, *, n_points: int = 40,
                   n_samples: int = 64, params: Sequence[str] | None = None,
                   max_params: int = c.DEFAULT_MAX_PARAMS, seed: int = 0, device: str = "cpu",
                   objective: int | None = None) -> np.ndarray:
    """The GP's partial dependence on each parameter (diagonal) and each pair (below it).

    Colors: one colorbar for all pair panels, yellow is better and dark is worse in either
    direction, and the colorbar's top end is the better one. Categorical axes (and integers with
    few values) are drawn as cells with one value each; integer axes get integer ticks. The
    evaluated points are black dots, the best trial a red star (a dashed line on the diagonal).

    Args:
        study: a Study or Optimizer with at least two completed trials.
        space: its search space (default: the object's, else inferred from the trials).
        n_points: grid points per axis.
        n_samples: points of the space the other coordinates are averaged over.
        params: plot only these parameters, in this order (default: all, up to ``max_params``).
        max_params: without ``params``, a space with more parameters shows only this many: those
            :func:`gpu_bo.importance` ranks highest, with a note on the figure.
        seed: seeds the GP fit and the averaging sample.
        device: where the GP is fitted and evaluated.
        objective: which objective (0-based) of a multi-objective study to draw; required there.

    Returns:
        A ``k x k`` array of Axes (``k`` parameters).

    Raises:
        ValueError: with fewer than two completed trials (the message says how many failed and
            the first error), for unknown, repeated or no ``params``, or a multi-objective study
            without a valid ``objective``.
    """
    plt = c.plt_module()
    st, sp = c.resolve(study, space)
    st = c.single_objective(st, objective, "plot_objective")
    asked = c.check_params(params, sp, max_params)
    trials = c.completed_inside(st, sp)
    if len(trials) < 2:
        raise c.nothing_completed(st, f"plot_objective needs at least 2 completed trials inside the "
                                      f"space to fit a GP, got {len(trials)}")
    surface = Surface(st, sp, trials, n_samples, seed, device)
    scores = importance(surface) if asked is None and sp.d > max_params else None
    names, note = choose(sp, asked, max_params, scores)
    direction = Direction.parse(st.direction)
    idx = {n: i for i, n in enumerate(sp.names)}
    best = direction.best([t for t in trials if t.feasible] or trials, key=lambda t: t.value)
    best_enc = sp.encode(best.params).cpu().numpy()
    X_np = surface.X.cpu().numpy()
    on, best_on = c.active(sp, X_np), c.active(sp, best_enc[None])[0]  # panels draw active values only
    rng = np.random.default_rng(seed)
    k = len(names)
    fig, axes = c.grid_figure(plt, k)

    lows, highs = [], []
    for r, name in enumerate(names):
        dim, g = sp.dims[name], c.grid(sp.dims[name], n_points)
        pd = surface.partial([(idx[name], g)])
        lows.append(pd.min())
        highs.append(pd.max())
        at = idx[name]
        _diagonal(axes[r, r], dim, g, pd, c.axis_values(dim, best_enc[at:at + 1])[0] if best_on[at] else None)
        c.style_axis(axes[r, r], dim, "x", name)
        axes[r, r].set_ylabel("partial dependence" if r == 0 else "")
    # one range for every curve: a flat curve reads as an unimportant parameter, as it is
    span = max(max(highs) - min(lows), 1e-12 * max(1.0, abs(max(highs))))
    for r in range(k):
        axes[r, r].set_ylim(min(lows) - 0.06 * span, max(highs) + 0.06 * span)

    half = max(n_points // 2, 2)
    surfaces = {}
    for r in range(k):
        for col in range(r):
            di, dj = sp.dims[names[r]], sp.dims[names[col]]
            cells = c.is_cells(di) or c.is_cells(dj)  # a few rows or columns: a finer other axis
            gi, gj = c.grid(di, n_points if cells else half), c.grid(dj, n_points if cells else half)
            A, B = np.meshgrid(gj, gi)  # columns: parameter j (x), rows: parameter i (y)
            pd = surface.partial([(idx[names[col]], A.ravel()), (idx[names[r]], B.ravel())])
            surfaces[r, col] = (gi, gj, pd.reshape(A.shape))
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    vals = np.concatenate([s[2].ravel() for s in surfaces.values()]) if surfaces else np.asarray([0.0, 1.0])
    norm = Normalize(float(vals.min()), float(vals.max()) if np.ptp(vals) > 0 else float(vals.min()) + 1.0)
    # minimize: low values are better, so the map runs the other way and low values are yellow
    cmap = plt.get_cmap(c.CMAP if direction is Direction.MAXIMIZE else c.CMAP + "_r")
    levels = np.linspace(norm.vmin, norm.vmax, 13)
    for (r, col), (gi, gj, Z) in surfaces.items():
        ax, di, dj = axes[r, col], sp.dims[names[r]], sp.dims[names[col]]
        i, j = idx[names[r]], idx[names[col]]
        xs, ys = c.axis_values(dj, gj), c.axis_values(di, gi)
        if c.is_cells(di) or c.is_cells(dj):
            xe = c.cell_edges(dj, xs) if c.is_cells(dj) else c.continuous_edges(xs, bool(dj.log))
            ye = c.cell_edges(di, ys) if c.is_cells(di) else c.continuous_edges(ys, bool(di.log))
            ax.pcolormesh(xe, ye, Z, cmap=cmap, norm=norm)
        else:
            ax.contourf(xs, ys, Z, levels=levels, cmap=cmap, norm=norm)
        both = on[:, i] & on[:, j]
        ax.scatter(c.jitter(dj, c.axis_values(dj, X_np[both, j]), rng),
                   c.jitter(di, c.axis_values(di, X_np[both, i]), rng), s=9, c="k", alpha=0.6, lw=0)
        if best_on[i] and best_on[j]:
            ax.scatter(c.axis_values(dj, best_enc[j:j + 1]), c.axis_values(di, best_enc[i:i + 1]),
                       s=130, c="r", marker="*", edgecolors="w", linewidths=0.6, zorder=3)
        c.style_pair(ax, (dj, di), (names[col], names[r]), (r == k - 1, col == 0), pad=False)

    word = "lower" if direction is Direction.MINIMIZE else "higher"
    sep = "\n" if k <= 2 else " "
    cb = c.finish_grid(fig, axes, ScalarMappable(norm=norm, cmap=cmap) if surfaces else None,
                       f"GP mean objective ({word} is better)",
                       f"Partial dependence of the objective{sep}({direction}; {len(trials)} completed trials)", note)
    if cb is not None and direction is Direction.MINIMIZE:
        cb.ax.invert_yaxis()  # the better end on top in both directions
    _legend(axes, len(trials))
    return axes


def _legend(axes: np.ndarray, n: int) -> None:
    """The best trial and the evaluated points, in the empty top-right panel (or the only one)."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", ms=4, color="k", alpha=0.6, label=f"evaluated ({n})"),
               Line2D([], [], ls="--", lw=1, marker="*", ms=11, color="r", mec="w", label="best trial")]
    c.legend(axes, handles)
