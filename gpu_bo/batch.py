"""Choosing q points at once: sequential greedy with Kriging-believer fantasies, or Monte Carlo.

Glossary: ``q`` points to choose; ``m x d`` pending points (asked elsewhere, not told yet);
``q x d`` the chosen points, in the order chosen.

Two ways, by the acquisition's name:

- analytic (``ei``, ``pi``, ``ucb``): sequential greedy. The GP first believes the pending
  points (:func:`gpu_bo.surrogate.believe`: conditioned on them as if they returned the
  posterior mean), then each chosen point in turn, each round extending the previous round's
  Cholesky factor by one point; the closed-form acquisition is maximized on the believed GP.
  Rounds after the first search with the smaller budgets of
  :meth:`MaximizeOptions.for_batch_round` (the believed GP differs from the previous round's
  only near the point just chosen).
- Monte Carlo (``qei``, ``qpi``, ``qucb``, ``qnei``): one BoTorch acquisition per point, with
  the pending and the already chosen points folded in as ``X_pending``, at the full budget.

Point ``j`` (from 0) builds its acquisition with seed ``seed + j`` and searches with seed
``seed + 31 * j``, so a batch is reproducible and its points differ.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from gpu_bo.acquisition import ANALYTIC, AcqSpec, build, check_name
from gpu_bo.acquisition.warped import WarpedAcq
from gpu_bo.maximize import MaximizeOptions, Region, maximize
from gpu_bo.space import Space, point_key
from gpu_bo.surrogate import FittedGP, believe
from gpu_bo.surrogate.input_warp import InputWarp

__all__ = ["Search", "select"]


@dataclass(frozen=True)
class Search:
    """Where and how each point of a batch is searched (what :func:`gpu_bo.maximize.maximize` takes).

    Attributes:
        space: the search space.
        options: the budgets of the first point (later analytic rounds use ``for_batch_round``).
        X_obs, y_obs: ``n x d`` observed points and their ``n`` values (larger is better), or None.
        device, dtype: where the search runs.
        region: a trust-region box, or None for the whole unit cube.
    """

    space: Space
    options: MaximizeOptions
    device: torch.device
    dtype: torch.dtype = torch.float64
    X_obs: torch.Tensor | None = None
    y_obs: torch.Tensor | None = None
    region: Region | None = None


def _point(acq, search: Search, options: MaximizeOptions, seed: int, exclude: set[tuple]) -> torch.Tensor:
    x, _ = maximize(acq, search.space, options=options, seed=seed, exclude=exclude, X_obs=search.X_obs,
                    y_obs=search.y_obs, device=search.device, dtype=search.dtype, region=search.region)
    exclude.add(point_key(x))
    return x


def select(spec: AcqSpec, gp: FittedGP, q: int, *, search: Search, seed: int, exclude: set[tuple],
           X_pending: torch.Tensor | None = None, warp: InputWarp | None = None) -> torch.Tensor:
    """Choose ``q`` distinct points (``q x d``) for the acquisition ``spec`` on ``gp``.

    Args:
        spec: the acquisition (its ``seed`` is replaced by ``seed + j`` for point ``j``).
        gp: the fitted GP.
        q: how many points.
        search: the space, budgets and region of the search.
        seed: the suggestion's seed.
        exclude: :func:`gpu_bo.space.point_key` of points never to return (evaluated, pending);
            the key of each chosen point is added to it.
        X_pending: ``m x d`` pending points, or None.
        warp: the input warp ``gp`` was fitted with (its ``X`` is ``W(x)``), or None: pending and
            chosen points are warped before the GP sees them, candidates through
            :class:`gpu_bo.acquisition.warped.WarpedAcq`; the search stays in ``x``.

    Raises:
        ValueError: ``q`` is not an int >= 1, or the acquisition name is unknown.
    """
    if isinstance(q, bool) or not isinstance(q, int) or q < 1:
        raise ValueError(f"q: got {q!r}, expected an int >= 1")
    analytic = check_name(spec.name) in ANALYTIC
    chosen: list[torch.Tensor] = []
    believed = None
    to_gp = (lambda t: t) if warp is None else (lambda t: None if t is None else warp(t))
    X_pending = to_gp(X_pending)
    for j in range(q):
        spec_j = dataclasses.replace(spec, seed=seed + j)
        if analytic:
            # each round extends the previous round's factor by the point it chose
            believed = believe(gp, X_pending) if j == 0 else believe(believed, to_gp(chosen[-1].unsqueeze(0)))
            acq = build(spec_j, believed)
        else:
            parts = [t for t in (X_pending, to_gp(torch.stack(chosen)) if chosen else None) if t is not None]
            acq = build(spec_j, gp, torch.cat(parts) if parts else None, q=1)
        acq = acq if warp is None else WarpedAcq(acq, warp)
        options = search.options.for_batch_round() if analytic and j > 0 else search.options
        chosen.append(_point(acq, search, options, seed + 31 * j, exclude))
    return torch.stack(chosen)
