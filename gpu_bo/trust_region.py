"""Trust-region strategy (TuRBO-style) for high dimensions and large studies.

A global GP over a 100-dimensional cube spreads its samples too thin, and an exact GP over
tens of thousands of points does not fit the time budget. A trust region keeps the search
local: a box around the best point, whose side grows after successes and shrinks after
failures (Eriksson et al., 2019, "Scalable Global Optimization via Local Bayesian
Optimization"). The GP is fitted only to the points near the box (at most ``max_points``), so
the cost of a suggestion stays bounded however long the study runs.

The state (side length, success and failure counts) is recomputed from the trial history at
every suggestion, so it needs no saving and survives ``state_dict`` round-trips and resumes.

Glossary: ``d`` dimensions; ``n x d`` encoded points; ``L`` the box side in the unit cube
(scaled per dimension by the GP lengthscales, as TuRBO does).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gpu_bo.maximize import Region

__all__ = ["TrustRegionOptions", "TrustRegionState", "region_state", "select_local", "box", "local_data"]


@dataclass(frozen=True)
class TrustRegionOptions:
    """Knobs of the trust region.

    Attributes:
        length_init, length_min, length_max: box side in the unit cube; below ``length_min``
            the region restarts at ``length_init`` around the best point.
        success_tol: consecutive improvements that double the side.
        failure_tol: consecutive non-improvements that halve it (None: ``clamp(d // 5, 3, 10)``;
            TuRBO's ``d`` is too slow to react at budgets of a few hundred evaluations).
        max_points: the local GP sees at most this many points nearest the centre.
        min_points: ... and at least this many (taken by distance when the box holds fewer).
    """

    length_init: float = 0.8
    length_min: float = 0.5 ** 7
    length_max: float = 1.6
    success_tol: int = 3
    failure_tol: int | None = None
    max_points: int = 1024
    min_points: int = 20


@dataclass
class TrustRegionState:
    length: float
    n_success: int
    n_failure: int
    restarts: int


def region_state(values: list[float], n_initial: int, d: int, opts: TrustRegionOptions) -> TrustRegionState:
    """Replay the completed values (larger is better, in order) to get the current region."""
    fail_tol = opts.failure_tol or min(max(d // 5, 3), 10)
    st = TrustRegionState(opts.length_init, 0, 0, 0)
    if not values:
        return st
    best = max(values[:n_initial]) if n_initial > 0 else values[0]
    for v in values[n_initial:]:
        if v > best + 1e-3 * abs(best):
            st.n_success, st.n_failure = st.n_success + 1, 0
        else:
            st.n_success, st.n_failure = 0, st.n_failure + 1
        best = max(best, v)
        if st.n_success >= opts.success_tol:
            st.length, st.n_success = min(2.0 * st.length, opts.length_max), 0
        elif st.n_failure >= fail_tol:
            st.length, st.n_failure = st.length / 2.0, 0
        if st.length < opts.length_min:
            st.length, st.restarts = opts.length_init, st.restarts + 1
    return st


def box(center: torch.Tensor, length: float, lengthscale: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper corners (``d`` each) of the region around ``center`` (``d``)."""
    if lengthscale is None:
        w = torch.ones_like(center)
    else:
        w = lengthscale.to(center) / torch.exp(torch.log(lengthscale.to(center)).mean())
        w = w.clamp(0.1, 10.0)
    half = 0.5 * length * w
    return (center - half).clamp(0.0, 1.0), (center + half).clamp(0.0, 1.0)


def select_local(X: torch.Tensor, center: torch.Tensor, lb: torch.Tensor, ub: torch.Tensor,
                 opts: TrustRegionOptions) -> torch.Tensor:
    """Indices of the points the local GP is fitted on: those in the box, topped up (or cut)
    by distance to the centre to ``[min_points, max_points]``."""
    n = X.shape[0]
    inside = ((X >= lb) & (X <= ub)).all(-1)
    dist = ((X - center) ** 2).sum(-1)
    dist = torch.where(inside, dist - (X.shape[-1] + 1.0), dist)  # inside first, then the nearest
    k = min(n, max(opts.min_points, min(int(inside.sum()), opts.max_points)))
    return torch.topk(-dist, k).indices


def local_data(X: torch.Tensor, y: torch.Tensor, values: list[float], *, n_initial: int,
               lengthscale: torch.Tensor | None, opts: TrustRegionOptions
               ) -> tuple[torch.Tensor, torch.Tensor, Region, float]:
    """The current region and the training points the local GP sees.

    Args:
        X: ``n x d`` training inputs whose first ``len(values)`` rows are the completed trials
            (failed ones, shown as the worst value, follow).
        y: their ``n`` values, larger is better.
        values: the completed trials' values in order, larger is better (already multiplied by
            :attr:`gpu_bo.study.Direction.sign`), replayed by :func:`region_state`.
        n_initial: the trials of the initial design (the replay starts after them).
        lengthscale: the last fitted GP's ``d`` lengthscales (scale the box), or None.
        opts: the trust region's options.

    Returns:
        The local ``X`` and ``y``, the :class:`~gpu_bo.maximize.Region` around the best
        completed point, and the box side ``L``.
    """
    n_done, d = len(values), X.shape[-1]
    st = region_state(values, n_initial, d, opts)
    center = X[:n_done][torch.argmax(y[:n_done])]
    if lengthscale is not None and lengthscale.numel() != d:
        lengthscale = None
    lb, ub = box(center, st.length, lengthscale)
    idx = select_local(X, center, lb, ub, opts)
    return X[idx], y[idx], Region(lb, ub, center), st.length
