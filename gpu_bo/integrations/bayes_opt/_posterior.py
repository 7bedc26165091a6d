"""The facade's bridge to gpu_bo's GP: fit on the registered points, posterior in user units.

Used by ``BayesianOptimization.predict``, by a user's ``AcquisitionFunction`` subclass (its
``base_acq`` evaluated over a candidate set) and by ``GPHedge``'s gains. Not bayes_opt API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from gpu_bo.space import Space, SpaceError
from gpu_bo.surrogate.fit import fit_gp
from gpu_bo.surrogate.gp import FittedGP, GPModel

__all__: list[str] = []

_DTYPE = torch.float64


def fit(space: Space, points: Sequence[Mapping[str, Any]], targets: Sequence[float], seed: int) -> FittedGP:
    """A gpu_bo GP fitted to ``points`` (gpu_bo Space values) and their ``targets`` (larger is better)."""
    X = space.encode([space.canonical(p) for p in points], dtype=_DTYPE)
    y = torch.as_tensor(np.asarray(targets, dtype=float), dtype=_DTYPE)
    return fit_gp(X, y, tuple(space.cat_columns), seed=int(seed) % (2**31 - 1))


def posterior(gp: FittedGP | None, X: torch.Tensor, full_cov: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std (or covariance) at encoded rows ``X``, in user units; the prior when ``gp`` is None."""
    n = X.shape[0]
    if gp is None:  # bayes_opt's unfitted GP: mean 0, unit variance
        return np.zeros(n), (np.eye(n) if full_cov else np.ones(n))
    if full_cov:
        post = GPModel(gp).posterior(X)
        mean = post.mean.detach().reshape(-1).cpu().numpy()
        cov = post.distribution.covariance_matrix.detach().cpu().numpy()
        return mean * gp.y_std + gp.y_mean, cov * gp.y_std ** 2
    m, v = gp.mean_var(X)
    mean = m.detach().reshape(-1).cpu().numpy()
    std = np.sqrt(np.clip(v.detach().reshape(-1).cpu().numpy(), 0.0, None))
    return mean * gp.y_std + gp.y_mean, std * gp.y_std


def candidates(space: Space, n: int, seed: int) -> torch.Tensor:
    """``n`` quasi-random encoded candidates of the space (snapped to its valid values)."""
    return space.sample(n, seed=int(seed) % (2**31 - 1), dtype=_DTYPE)


def inside(space: Space, ts: Any) -> tuple[list[dict[str, Any]], list[float], list[Any]]:
    """The completed points of TargetSpace ``ts`` inside ``space``: params, targets, constraint rows."""
    pts, ys, cvs = [], [], []
    cons = ts._constraint_values
    for i, (row, y) in enumerate(zip(ts.params, ts.target)):
        p = ts.array_to_params(row)
        try:
            space.validate(p)
        except (SpaceError, ValueError):
            continue
        pts.append(p)
        ys.append(float(y))
        cvs.append(None if cons is None else cons[i].tolist())
    return pts, ys, cvs


def fit_inside(space: Space, ts: Any, seed: int) -> FittedGP | None:
    """A gpu_bo GP on ``ts``'s completed points inside ``space`` (None without any)."""
    pts, ys, _ = inside(space, ts)
    return fit(space, pts, ys, seed) if pts else None


def optimizer_for(ts: Any, seed: int, device: str = "auto") -> Any:
    """A fresh maximizing gpu_bo Optimizer of ``ts``'s current bounds, told its points (and failures)."""
    from gpu_bo.optimizer import Optimizer

    opt = Optimizer(ts.gpu_space(), direction="maximize", acquisition="ucb", n_initial=1,
                    seed=int(seed) % (2**31 - 1), device=device)
    tell_log(opt, ts, ts._log)
    return opt


def tell_log(opt: Any, ts: Any, log: Sequence[tuple]) -> None:
    """Tell ``opt`` the registrations ``log`` of ``ts`` that lie inside its space."""
    for p, target, cv, err in log:
        try:
            opt.space.validate(p)
        except (SpaceError, ValueError):
            continue  # outside the current bounds: not shown to the GP
        kw = {} if cv is None or target is None else {"constraints": ts.constraint.outcome_constraints(cv)}
        opt.tell(p, target, error=err, **kw)
