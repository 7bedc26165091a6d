"""Parameter importance of a study: the share of the objective's variance each parameter explains.

The answer comes from the study's fitted GP (:func:`gpu_bo.surrogate.fit_gp`, the library's own
surrogate), not from its ARD lengthscales: a short lengthscale on a parameter whose effect is
tiny still reads as "important", and lengthscales of categorical and log-scaled parameters are
not comparable with the others. Instead the GP's posterior mean ``m(x)`` is decomposed over the
space (functional ANOVA / Sobol): for each parameter ``i`` the total-effect index

    ST_i = E[Var(m | x_{~i})] / Var(m) = E[(m(A) - m(A_B^i))^2] / (2 Var(m))

(Jansen's estimator; ``A`` and ``B`` are two independent quasi-random samples of the space and
``A_B^i`` is ``A`` with its column ``i`` taken from ``B``). The samples are scrambled Sobol points
snapped to valid values as :meth:`gpu_bo.space.Space.snap` does, so log-scaled reals, integers
and categoricals are each averaged under the space's own sampling, in the encoded unit cube.

Shares are the total-effect indices normalized to sum to 1. Total effects (rather than
first-order indices) because they are nonnegative by construction, and a parameter that acts
only through interactions with others still gets a share; for an additive objective they equal
the first-order indices, so the shares are then exactly the Sobol indices.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import torch

from gpu_bo.plots import _common as c
from gpu_bo.space import Space
from gpu_bo.study import Direction, Trial

__all__ = ["importance", "shares", "total_effects"]

N_BASE = 2048  # points in each of the two Sobol samples (a power of two keeps Sobol's balance)
# the GP is fitted on at most this many completed trials (a seeded random subset): an exact GP
# costs O(n^3), and on 10,000 trials its first fit kept the dashboard's importance chart waiting
# (benchmarks/results/dashboard_load.md)
MAX_FIT_TRIALS = 1000
# effects summing below this (squared standardized units: the data's variance is 1) are a flat mean
FLAT = 1e-20


def _gp_mean(gp: Any, X: torch.Tensor) -> torch.Tensor:
    """The GP's posterior mean (standardized units) at ``N x d`` points, in memory-bounded chunks.

    Written here rather than calling ``FittedGP.mean_var`` because that also computes the
    variance, an ``n x n`` product per point that the thousands of Sobol points do not need.
    """
    from gpu_bo.kernels.reference import default_chunk, kernel_matrix

    chunk = default_chunk(gp.X.shape[0], X.device)
    outs = []
    with torch.no_grad():
        for s in range(0, X.shape[0], chunk):
            Ks = kernel_matrix(X[s:s + chunk], gp.X, gp.inv_ls, gp.params.outputscale, gp.cat)
            outs.append(Ks @ gp.alpha + gp.params.mean_const)
    return torch.cat(outs)


def total_effects(gp: Any, space: Space, *, n_base: int = N_BASE, seed: int = 0) -> torch.Tensor:
    """Total-effect Sobol indices (``d``, unnormalized) of a fitted GP's posterior mean over ``space``.

    All ``n_base * (d + 1)`` points are built as one batched tensor and evaluated in chunks.

    Args:
        gp: a :class:`gpu_bo.surrogate.FittedGP` on the encoded columns of ``space``.
        space: the search space (its sampling and snapping define the averaging).
        n_base: points in each of the two quasi-random samples ``A`` and ``B``.
        seed: scrambles the Sobol sequence.

    Returns:
        ``E[(m(A) - m(A_B^i))^2] / 2`` per parameter, in squared standardized units; divide by
        ``Var(m)`` for the indices, or by their sum for the shares. All zero when the mean is flat.
    """
    if isinstance(n_base, bool) or not isinstance(n_base, numbers.Integral) or n_base < 2:
        raise ValueError(f"n_base: got {n_base!r}, expected an int >= 2")
    d, dev, dtype = space.d, gp.X.device, gp.X.dtype
    eng = torch.quasirandom.SobolEngine(2 * d, scramble=True, seed=seed)
    AB = eng.draw(n_base, dtype=torch.float64).to(device=dev, dtype=dtype)
    A, B = AB[:, :d], AB[:, d:]
    cols = torch.arange(d, device=dev)
    mixed = A.unsqueeze(0).repeat(d, 1, 1)  # d x N x d: A with its column i from B
    mixed[cols, :, cols] = B.T
    # snapped after mixing (snap is column-wise, so a flat space gets the same points): in a
    # conditional space a parent taken from B then opens its branch with A's own child values
    m = _gp_mean(gp, space.snap(torch.cat([A, mixed.reshape(-1, d)])))
    mA, mAB = m[:n_base], m[n_base:].reshape(d, n_base)
    return 0.5 * ((mA.unsqueeze(0) - mAB) ** 2).mean(-1)


def _objective_values(trials: list[Trial], objective: Any) -> list[float]:
    """Column ``objective`` of each trial's values, or a ValueError naming what is wrong."""
    if isinstance(objective, bool) or not isinstance(objective, numbers.Integral) or objective < 0:
        raise ValueError(f"objective: got {objective!r}, expected a non-negative int (an index into trial.values)")
    out = []
    for t in trials:
        if len(t.values) <= objective:
            raise ValueError(f"objective: got {objective}, but trial {t.number} has {len(t.values)} "
                             f"value(s); expected an index below {len(t.values)}")
        out.append(float(t.values[objective]))
    return out


def _sign(study: Any, st_direction: str, objective: int) -> float:
    """The sign of objective ``objective``: from ``study.directions`` when it has them."""
    directions = getattr(study, "directions", None)
    if directions is not None and not isinstance(directions, str) and len(directions) > objective:
        return Direction.parse(directions[objective], "directions").sign
    return Direction.parse(st_direction).sign


def importance(study: Any, *, space: Space | Mapping[str, Any] | None = None, objective: int = 0,
               seed: int = 0, max_trials: int | None = MAX_FIT_TRIALS) -> dict[str, float]:
    """The share of the objective's variance each parameter explains, from the study's fitted GP.

    The GP is fitted to the completed trials inside the space (on the CPU), and its posterior
    mean is decomposed into total-effect Sobol indices over the space (see the module
    docstring); the shares are those indices divided by their sum. When the fitted mean is flat
    (e.g. every value is the same) no parameter explains anything and each gets ``1 / d``.

    Args:
        study: a Study or Optimizer (anything with ``trials`` and ``direction``).
        space: its search space (default: the object's ``space``, else inferred from the trials'
            values like :mod:`gpu_bo.plots` does).
        objective: which column of ``trial.values`` to explain (multi-objective studies).
        seed: seeds the GP fit, the Sobol samples and the subset of trials; the same seed gives
            the same shares.
        max_trials: fit the GP on a seeded random subset of this many completed trials when there
            are more (None: all of them, however slow).

    Returns:
        ``{param: share}`` in the space's parameter order, every share >= 0, summing to 1.

    Raises:
        ValueError: fewer than 2 completed trials inside the space (the message says how many
            failed and the first error), no space can be had, or ``objective`` is out of range.
        TypeError: ``study`` has no trials or direction.
    """
    from gpu_bo.surrogate import fit_gp
    from gpu_bo.surrogate.conditional import column_spec

    st, sp = c.resolve(study, space)
    trials = c.completed_inside(st, sp)
    if len(trials) < 2:
        raise c.nothing_completed(st, f"importance needs at least 2 completed trials inside the space "
                                      f"to fit a GP, got {len(trials)}")
    if max_trials is not None:
        if isinstance(max_trials, bool) or not isinstance(max_trials, numbers.Integral) or max_trials < 2:
            raise ValueError(f"max_trials: got {max_trials!r}, expected an int >= 2 or None")
        if len(trials) > max_trials:
            keep = torch.randperm(len(trials), generator=torch.Generator().manual_seed(seed))[:max_trials]
            trials = [trials[i] for i in sorted(keep.tolist())]
    values = _objective_values(trials, objective)
    sign = _sign(study, st.direction, objective)
    X = sp.encode([t.params for t in trials], dtype=torch.float64)
    y = torch.tensor([sign * v for v in values], dtype=torch.float64)
    gp = fit_gp(X, y, column_spec(sp), seed=seed)
    return shares(total_effects(gp, sp, seed=seed), sp)


def shares(effects: torch.Tensor, space: Space) -> dict[str, float]:
    """``{param: share}`` from unnormalized effects: each divided by their sum (``1 / d`` if all zero).

    Args:
        effects: one nonnegative effect per parameter, in the space's order.
        space: the search space (its names, in order).
    """
    e = effects.clamp_min(0.0).double().cpu()
    total = float(e.sum())
    if not total > FLAT:
        return {n: 1.0 / space.d for n in space.names}
    return {n: float(v) for n, v in zip(space.names, (e / total).tolist())}
