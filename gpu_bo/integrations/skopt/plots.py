"""``skopt.plots`` on gpu_bo's plots: the same figures from an ``OptimizeResult``.

Each function turns the result into a gpu_bo study (its ``x_iters`` and ``func_vals``) and
draws it with :mod:`gpu_bo.plots`; the options of skopt's functions that gpu_bo's figures do
not have raise a TypeError naming them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_convergence", "plot_objective", "plot_evaluations", "plot_gaussian_process", "as_study"]


def as_study(result: Any) -> Any:
    """A gpu_bo :class:`~gpu_bo.study.Study` of a result's evaluations, and its gpu_bo space.

    Args:
        result: an ``OptimizeResult`` of this package (or skopt's with ``space`` from it).
    """
    from gpu_bo.study import Study, Trial, TrialState

    space = result.space
    trials = [Trial(number=i, params=space.to_params(x), value=float(y), state=TrialState.COMPLETE)
              for i, (x, y) in enumerate(zip(result.x_iters, result.func_vals))]
    study = Study("minimize", trials)
    study.space = space.to_gpu_bo()
    return study


def _refuse(fn: str, kwargs: dict) -> None:
    if kwargs:
        raise TypeError(f"{fn}: got the option(s) {sorted(kwargs)}, which gpu_bo's plots do not have; "
                        "see docs/guide/dropin-skopt.md")


def plot_convergence(*args: Any, ax: Any = None, true_minimum: float | None = None, yscale: str | None = None,
                     **kwargs: Any) -> Any:
    """The best value so far against the number of calls, one line per result.

    Args:
        *args: results, lists of results, or ``(label, result)`` pairs.
        ax: draw into these Axes.
        true_minimum: draw this value as a horizontal line.
        yscale: ``"log"`` or ``"linear"``.
        **kwargs: none is supported (a TypeError names them).
    """
    from gpu_bo.plots import plot_convergence as gb_plot

    _refuse("plot_convergence", kwargs)
    labels, studies = [], []
    for i, a in enumerate(args):
        label, res = a if isinstance(a, tuple) else (None, a)
        for r in (res if isinstance(res, list) else [res]):
            studies.append(as_study(r))
            labels.append(label or f"result {i}")
    ax = gb_plot(studies, labels=labels, ax=ax)
    if true_minimum is not None:
        ax.axhline(true_minimum, linestyle="--", color="r", lw=1, label="True minimum")
    if yscale is not None:
        ax.set_yscale(yscale)
    return ax


def plot_evaluations(result: Any, bins: int = 20, dimensions: list | None = None, plot_dims: list | None = None,
                     **kwargs: Any) -> np.ndarray:
    """Where the search went: histograms and pairwise scatter of the points evaluated.

    Args:
        result: the result.
        bins: histogram bins.
        dimensions: labels of the dimensions (in place of their names).
        plot_dims: the dimensions to draw (names or indices).
        **kwargs: none is supported (a TypeError names them).
    """
    from gpu_bo.plots import plot_evaluations as gb_plot

    _refuse("plot_evaluations", kwargs)
    study = as_study(result)
    return _relabel(gb_plot(study, study.space, bins=bins, params=_params(result, plot_dims)), result, dimensions)


def plot_objective(result: Any, n_points: int = 40, n_samples: int = 250,
                   dimensions: list | None = None, plot_dims: list | None = None, **kwargs: Any) -> np.ndarray:
    """The GP's partial dependence on each dimension and each pair (gpu_bo's GP, refitted on the
    result's evaluations).

    Args:
        result: the result (at least two evaluations).
        n_points: grid points per dimension.
        n_samples: points averaged over for the partial dependence.
        dimensions: labels of the dimensions.
        plot_dims: the dimensions to draw (names or indices).
        **kwargs: none is supported (a TypeError names them).
    """
    from gpu_bo.plots import plot_objective as gb_plot

    _refuse("plot_objective", kwargs)
    study = as_study(result)
    axes = gb_plot(study, study.space, n_points=n_points, n_samples=n_samples, params=_params(result, plot_dims))
    return _relabel(axes, result, dimensions)


def _params(result: Any, plot_dims: list | None) -> list[str] | None:
    if plot_dims is None:
        return None
    names = result.space.names
    return [names[d] if isinstance(d, int) else names[result.space.dimension_names.index(d)]
            if d in result.space.dimension_names else d for d in plot_dims]


def _relabel(axes: Any, result: Any, dimensions: list | None) -> Any:
    if dimensions is None:
        return axes
    if len(dimensions) != result.space.n_dims:
        raise ValueError(f"dimensions: got {len(dimensions)} labels for {result.space.n_dims} dimensions")
    mapping = dict(zip(result.space.names, dimensions))
    for ax in np.atleast_1d(axes).ravel():
        for get, set_ in ((ax.get_xlabel, ax.set_xlabel), (ax.get_ylabel, ax.set_ylabel)):
            if get() in mapping:
                set_(mapping[get()])
    return axes


def plot_gaussian_process(res: Any, ax: Any = None, n_calls: int = -1, objective: Any = None, n_points: int = 1000,
                          noise_level: float = 0, show_legend: bool = True, show_title: bool = True,
                          show_observations: bool = True, show_mu: bool = True, **kwargs: Any) -> Any:
    """A 1-D result's GP: posterior mean and 95% band, the observations and, if given, the objective.

    Drawn by hand with matplotlib: gpu_bo's plots have no 1-D posterior figure. The GP is the one
    fitted at ``res.models[n_calls]`` (the engine's hyperparameters on the points told then).

    Args:
        res: a result of ``gp_minimize`` or ``Optimizer`` on one non-categorical dimension.
        ax: draw into these Axes.
        n_calls: which fit (an index of ``res.models``; -1: the last).
        objective: the true objective, drawn as a dashed line (called with a point).
        n_points: grid points (an Integer dimension draws each of its values, at most this many).
        noise_level: the objective's noise standard deviation, drawn as a band around it.
        show_legend: draw the legend.
        show_title: title with the number of points.
        show_observations: draw the evaluated points.
        show_mu: draw the posterior mean and its band.
        **kwargs: skopt's ``show_acq_func``/``show_next_point`` and others are not supported
            (a TypeError names them).

    Raises:
        ValueError: not one non-categorical dimension, or no fitted model.
    """
    import matplotlib.pyplot as plt
    import torch

    from gpu_bo.integrations.skopt.utils import posterior_gp

    _refuse("plot_gaussian_process", kwargs)
    space = res.space
    if space.n_dims != 1 or space.is_partly_categorical:
        raise ValueError(f"res: its space has {space.n_dims} dimension(s) ({space}); plot_gaussian_process "
                         "draws one Real or Integer dimension")
    models = [m for m in (getattr(res, "models", None) or []) if isinstance(m, dict) and "gp_params" in m]
    if not models:
        raise ValueError("res: has no fitted model (res.models is empty); expected a result of gp_minimize or "
                         "Optimizer past its initial design")
    model = models[n_calls]
    n = int(model.get("n", len(res.x_iters)))
    gp = posterior_gp(space, res.x_iters[:n], res.func_vals[:n], model["gp_params"])
    (low, high), = space.bounds
    if isinstance(low, (int, np.integer)) and isinstance(high, (int, np.integer)):
        grid = np.unique(np.linspace(low, high, min(n_points, high - low + 1)).round().astype(int)).tolist()
    else:
        grid = np.linspace(low, high, n_points).tolist()
    gb = space.to_gpu_bo()
    with torch.no_grad():
        mu, var = gp.mean_var(gb.encode([space.to_params([v]) for v in grid]))
    mean = -(mu.numpy() * gp.y_std + gp.y_mean)
    std = np.sqrt(np.clip(var.numpy(), 0.0, None)) * gp.y_std
    ax = ax if ax is not None else plt.gca()
    if objective is not None:
        fx = np.array([objective([v]) for v in grid], dtype=float)
        ax.plot(grid, fx, "r--", label="True (unknown)")
        if noise_level:
            ax.fill_between(grid, fx - 1.96 * noise_level, fx + 1.96 * noise_level, alpha=0.2, fc="r", ec="None")
    if show_mu:
        ax.plot(grid, mean, "g--", label=r"$\mu_{GP}(x)$")
        ax.fill_between(grid, mean - 1.96 * std, mean + 1.96 * std, alpha=0.2, fc="g", ec="None")
    if show_observations:
        ax.plot([x[0] for x in res.x_iters[:n]], res.func_vals[:n], "r.", markersize=8, label="Observations")
    if show_title:
        ax.set_title(f"x* = {res.x[0]:.4f}, f(x*) = {res.fun:.4f} ({n} points)")
    if show_legend:
        ax.legend(loc="best")
    ax.grid(True)
    return ax
