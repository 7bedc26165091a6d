"""bayes_opt's ``bayes_opt.constraint``: ``ConstraintModel``, the constraint ``lb <= g(x) <= ub``.

``BayesianOptimization(constraint=NonlinearConstraint(g, lb, ub))`` wraps the scipy constraint in
a ``ConstraintModel``. The suggestions are made by gpu_bo's constraints machinery: every
component of ``g`` becomes one or two outcome constraints ``c <= 0`` of
:meth:`gpu_bo.Optimizer.tell` (``g - ub`` when ``ub`` is finite, ``lb - g`` when ``lb`` is), each
modelled by its own GP. ``approx`` and ``predict`` show gpu_bo GPs fitted to the registered
constraint values: the mean of ``g``, and the probability that ``lb <= g <= ub``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from scipy.stats import norm

if TYPE_CHECKING:
    from gpu_bo.integrations.bayes_opt.target_space import TargetSpace

__all__ = ["ConstraintModel"]


class ConstraintModel:
    """bayes_opt's ``ConstraintModel``: the constraint function, its limits and its GP models.

    Args:
        fun: the constraint function, called as ``fun(**params)``; None when only registered
            constraint values are used.
        lb: the lower limit(s) (``-inf`` for none).
        ub: the upper limit(s) (``inf`` for none).
        transform: not supported (bayes_opt's kernel transform); must be None.
        random_state: accepted for bayes_opt's signature; gpu_bo's fits are seeded by the optimizer.
    """

    def __init__(self, fun: Any, lb: Any, ub: Any, transform: Any = None, random_state: Any = None) -> None:
        if transform is not None:
            raise NotImplementedError("transform: gpu_bo's GPs encode the space themselves; pass None")
        self.fun = fun
        self._lb, self._ub = np.atleast_1d(np.asarray(lb, dtype=float)), np.atleast_1d(np.asarray(ub, dtype=float))
        if self._lb.shape != self._ub.shape:
            raise ValueError(f"lb, ub: got shapes {self._lb.shape} and {self._ub.shape}; expected the same shape")
        if np.any(self._lb >= self._ub):
            raise ValueError(f"lb, ub: got lb={self._lb.tolist()} and ub={self._ub.tolist()}; "
                             "Lower bounds must be less than upper bounds.")
        self._space: TargetSpace | None = None
        self._gps: list[Any] = []

    @property
    def lb(self) -> np.ndarray:
        """The lower limits."""
        return self._lb

    @property
    def ub(self) -> np.ndarray:
        """The upper limits."""
        return self._ub

    @property
    def model(self) -> list[Any]:
        """The fitted gpu_bo GPs (one per component of the constraint), empty before a fit."""
        return list(self._gps)

    def _bind(self, space: TargetSpace) -> None:
        self._space = space

    def eval(self, **kwargs: Any) -> float | np.ndarray:
        """The constraint function at ``kwargs`` (the parameters).

        Args:
            **kwargs: the parameter values.
        """
        if self.fun is None:
            raise ValueError("No constraint function was provided.")
        try:
            return self.fun(**kwargs)
        except TypeError as e:
            raise TypeError(f"Encountered TypeError when evaluating constraint function {self.fun!r} at "
                            f"{kwargs}: {e}. The constraint function takes the same arguments as the "
                            "target function (the pbounds keys).") from e

    def outcome_constraints(self, value: Any) -> list[float]:
        """``g(x)`` -> gpu_bo's outcome constraints (each feasible iff ``<= 0``).

        Args:
            value: the constraint function's value(s) at one point.
        """
        g = np.atleast_1d(np.asarray(value, dtype=float)).ravel()
        if g.size != self._lb.size:
            raise ValueError(f"constraint value: got {g.size} value(s), expected {self._lb.size}")
        out: list[float] = []
        for gi, lo, hi in zip(g, self._lb, self._ub):
            if np.isfinite(hi):
                out.append(float(gi - hi))
            if np.isfinite(lo):
                out.append(float(lo - gi))
        return out

    def allowed(self, constraint_values: Any) -> np.ndarray:
        """A boolean per row of ``constraint_values``: ``lb <= g <= ub`` in every component.

        Args:
            constraint_values: ``n x k`` (or ``n`` with one constraint) values.
        """
        v = np.asarray(constraint_values, dtype=float)
        v = v.reshape(-1, self._lb.size) if v.size else np.empty((0, self._lb.size))
        return np.all((v >= self._lb) & (v <= self._ub), axis=1)

    def fit(self, X: Any, Y: Any) -> None:
        """Fit one gpu_bo GP per constraint component.

        Args:
            X: ``n x dim`` float rows of the space.
            Y: ``n x k`` (or ``n``) constraint values.
        """
        from gpu_bo.surrogate.fit import fit_gp

        Xe = self._encode(X)
        Y = np.asarray(Y, dtype=float).reshape(len(Xe), -1)
        cat = tuple(self._space.gpu_space().cat_columns)
        self._gps = [fit_gp(Xe, torch.as_tensor(Y[:, j], dtype=torch.float64), cat) for j in range(Y.shape[1])]

    def _encode(self, X: Any):
        if self._space is None:
            raise ValueError("ConstraintModel: not attached to a TargetSpace yet (pass it to BayesianOptimization)")
        rows = np.atleast_2d(np.asarray(X, dtype=float))
        space = self._space.gpu_space()
        return space.encode([space.canonical(self._space.array_to_params(r)) for r in rows],
                            dtype=torch.float64)

    def _mean_std(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        if not self._gps:
            if self._space is None or len(self._space) == 0:
                raise ValueError("ConstraintModel: no constraint values are registered yet, nothing to model")
            self.fit(self._space.params, self._space._constraint_values)
        Xe = self._encode(X)
        means, stds = [], []
        for gp in self._gps:
            m, v = gp.mean_var(Xe)
            means.append(m.detach().cpu().numpy() * gp.y_std + gp.y_mean)
            stds.append(np.sqrt(np.clip(v.detach().cpu().numpy(), 0, None)) * gp.y_std)
        return np.stack(means, axis=-1), np.stack(stds, axis=-1)

    def approx(self, X: Any) -> np.ndarray:
        """The GP mean of the constraint function at float rows ``X`` (refitted on the data).

        Args:
            X: ``n x dim`` (or ``dim``) float rows.
        """
        self._gps = []
        mean, _ = self._mean_std(X)
        if np.ndim(X) == 1:
            mean = mean[0]
        return mean[..., 0] if self._lb.size == 1 else mean

    def predict(self, X: Any) -> np.ndarray:
        """The probability that ``lb <= g <= ub`` at float rows ``X`` (independent GPs).

        Args:
            X: ``n x dim`` (or ``dim``) float rows.
        """
        mean, std = self._mean_std(X)
        std = np.maximum(std, 1e-12)
        p = np.prod(norm.cdf((self._ub - mean) / std) - norm.cdf((self._lb - mean) / std), axis=-1)
        return p[0] if np.ndim(X) == 1 else p

