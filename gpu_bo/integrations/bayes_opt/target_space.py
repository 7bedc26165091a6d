"""bayes_opt's ``bayes_opt.target_space``: ``TargetSpace``, the registered points and the bounds.

As in bayes_opt, points are kept in the float representation of :mod:`.parameter` (``params``:
``n x dim``, one-hot columns for a categorical), with their ``target`` and, with a constraint,
their ``constraint_values``. A target that is None, NaN or infinite is kept apart as a *failed*
point (``failed``): it is never in ``params``/``target`` (bayes_opt would put it in its GP) and
the facade tells it to gpu_bo as a failed trial.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gpu_bo.integrations.bayes_opt._convert import _plain, ensure_rng
from gpu_bo.integrations.bayes_opt.constraint import ConstraintModel
from gpu_bo.integrations.bayes_opt.exception import NotUniqueError
from gpu_bo.integrations.bayes_opt.parameter import BayesParameter, _parameter
from gpu_bo.space import Space
from gpu_bo.study import is_valid_value

__all__ = ["TargetSpace"]


class TargetSpace:
    """bayes_opt's ``TargetSpace``: the parameters, their bounds and every registered point.

    Args:
        target_func: the function to maximize (``f(**params)``), or None.
        pbounds: ``{name: bounds}`` (the forms of :mod:`.parameter`).
        constraint: a :class:`ConstraintModel` or None.
        random_state: an int, a numpy ``RandomState`` or None: seeds ``random_sample``.
        allow_duplicate_points: register the same point twice without ``NotUniqueError``.
    """

    def __init__(self, target_func: Callable[..., Any] | None, pbounds: Mapping[str, Any],
                 constraint: ConstraintModel | None = None, random_state: Any = None,
                 allow_duplicate_points: bool = False) -> None:
        if not isinstance(pbounds, Mapping) or not pbounds:
            raise ValueError(f"pbounds: got {pbounds!r}; expected a non-empty dict of name -> bounds")
        self.target_func = target_func
        self.random_state = ensure_rng(random_state)
        self._allow_duplicate_points = bool(allow_duplicate_points)
        self._params_config: dict[str, BayesParameter] = {k: _parameter(k, b) for k, b in pbounds.items()}
        self._keys = list(self._params_config)
        self._bounds = np.vstack([np.atleast_2d(p.bounds) for p in self._params_config.values()]).astype(float)
        self._global_bounds = self._bounds.copy()
        self._params = np.empty((0, self.dim))
        self._target = np.empty(0)
        if constraint is not None and not isinstance(constraint, ConstraintModel):
            if not all(hasattr(constraint, a) for a in ("fun", "lb", "ub")):
                raise TypeError(f"constraint: got {type(constraint).__name__}; expected a ConstraintModel or a "
                                "scipy.optimize.NonlinearConstraint")
            constraint = ConstraintModel(constraint.fun, constraint.lb, constraint.ub)
        self._constraint = constraint
        self._constraint_values: np.ndarray | None = None
        if constraint is not None:
            constraint._bind(self)
            self._constraint_values = np.empty((0, constraint.lb.size))
        self.failed: list[dict[str, Any]] = []  # {"params", "error", "index"}: the failed points
        self._log: list[tuple[dict[str, Any], float | None, Any, str | None]] = []  # every registration, in order
        self.version = 0  # bumped on every change of the data or the bounds

    # -- shape ---------------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        """The parameter names, in the order of ``pbounds``."""
        return list(self._keys)

    @property
    def params_config(self) -> dict[str, BayesParameter]:
        """``{name: parameter object}``."""
        return dict(self._params_config)

    @property
    def dim(self) -> int:
        """The number of float columns (a categorical takes one per category)."""
        return sum(p.dim for p in self._params_config.values())

    @property
    def bounds(self) -> np.ndarray:
        """``dim x 2``: the current low/high of every float column."""
        return self._bounds

    @property
    def masks(self) -> dict[str, np.ndarray]:
        """``{name: boolean column mask}``: the columns of each parameter."""
        out, start = {}, 0
        for k, p in self._params_config.items():
            m = np.zeros(self.dim, dtype=bool)
            m[start:start + p.dim] = True
            out[k], start = m, start + p.dim
        return out

    @property
    def continuous_dimensions(self) -> np.ndarray:
        """A boolean per float column: whether its parameter is continuous."""
        return np.concatenate([[p.is_continuous] * p.dim for p in self._params_config.values()])

    def gpu_space(self) -> Space:
        """The gpu_bo Space of the current bounds (what the GP and the search use)."""
        return Space({k: p.dimension() for k, p in self._params_config.items()})

    # -- data ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._target)

    def __contains__(self, x: Any) -> bool:
        row = self._as_array(x)
        return bool(np.any(np.all(np.isclose(self._params, row), axis=1))) if len(self) else False

    @property
    def empty(self) -> bool:
        """Whether no point is registered."""
        return len(self) == 0

    @property
    def params(self) -> np.ndarray:
        """``n x dim``: the registered points in the float representation."""
        return self._params

    @property
    def target(self) -> np.ndarray:
        """``n``: their targets."""
        return self._target

    @property
    def constraint(self) -> ConstraintModel | None:
        """The constraint model, or None."""
        return self._constraint

    @property
    def constraint_values(self) -> np.ndarray | None:
        """``n x k`` constraint values (``n`` with one constraint), or None without a constraint."""
        if self._constraint_values is None:
            return None
        return self._constraint_values[:, 0] if self._constraint_values.shape[1] == 1 else self._constraint_values

    @property
    def mask(self) -> np.ndarray:
        """A boolean per point: inside the current bounds (and, with a constraint, feasible)."""
        inside = np.all((self._params >= self._bounds[:, 0] - 1e-12) & (self._params <= self._bounds[:, 1] + 1e-12),
                        axis=1) if len(self) else np.zeros(0, dtype=bool)
        if self._constraint is not None and len(self):
            inside &= self._constraint.allowed(self._constraint_values)
        return inside

    def params_to_array(self, params: Mapping[str, Any]) -> np.ndarray:
        """``{name: value}`` -> the float row.

        Args:
            params: one value per parameter.
        """
        if not isinstance(params, Mapping) or set(params) != set(self._keys):
            got = sorted(params) if isinstance(params, Mapping) else type(params).__name__
            raise ValueError(f"params: got {got}, expected a dict with exactly the keys {self._keys}")
        return np.concatenate([np.atleast_1d(p.to_float(_plain(params[k]))) for k, p in self._params_config.items()])

    def array_to_params(self, x: Any) -> dict[str, Any]:
        """A float row -> ``{name: value}`` (ints as int, categories as given).

        Args:
            x: ``dim`` floats.
        """
        x = np.asarray(x, dtype=float).ravel()
        if x.size != self.dim:
            raise ValueError(f"x: got {x.size} values, expected {self.dim} (the space's float columns)")
        return {k: p.to_param(x[m]) for (k, p), m in zip(self._params_config.items(), self.masks.values())}

    def _as_array(self, x: Any) -> np.ndarray:
        if isinstance(x, Mapping):
            return self.params_to_array(x)
        arr = np.asarray(x, dtype=float).ravel()
        if arr.size != self.dim:
            raise ValueError(f"params: got {arr.size} values, expected {self.dim} (in the order {self._keys})")
        return arr

    def kernel_transform(self, value: Any) -> np.ndarray:
        """Float rows -> what the kernel sees (integers rounded, categoricals one-hot).

        Args:
            value: ``n x dim`` (or ``dim``) floats.
        """
        v = np.atleast_2d(np.asarray(value, dtype=float)).copy()
        for p, m in zip(self._params_config.values(), self.masks.values()):
            v[:, m] = np.reshape(p.kernel_transform(v[:, m] if p.dim > 1 else v[:, m][:, 0]), (len(v), -1))
        return v if np.ndim(value) > 1 else v[0]

    def register(self, params: Any, target: Any, constraint_value: Any = None, *, error: str | None = None) -> None:
        """Record a point and its target (and constraint value, when constrained).

        Args:
            params: a dict, or the float row in key order.
            target: the value; None/NaN/inf records a failed point.
            constraint_value: the constraint function's value(s) at the point.
            error: why a failed point failed (not a bayes_opt argument).
        """
        row = self.kernel_transform(self._as_array(params))
        if not self._allow_duplicate_points and row in self:
            raise NotUniqueError(f"Data point {self.array_to_params(row)} is not unique. You can set "
                                 "allow_duplicate_points=True to avoid this error")
        if self._constraint is not None and constraint_value is None and is_valid_value(target):
            raise ValueError("constraint_value: got None; this space has a constraint, so every registered "
                             "point needs its constraint value")
        outside = [k for k, m in self.masks.items() if np.any(row[m] < self._bounds[m, 0] - 1e-12)
                   or np.any(row[m] > self._bounds[m, 1] + 1e-12)]
        if outside:
            warnings.warn(f"register: the value of {outside} is outside the bounds of the parameter "
                          f"({self.array_to_params(row)}); it is kept, and shown to the GP only if the bounds grow",
                          stacklevel=3)
        if self._constraint is None and constraint_value is not None:
            warnings.warn("constraint_value: ignored, this space has no constraint", stacklevel=3)
        self.version += 1
        p = self.array_to_params(row)
        if not is_valid_value(target):
            self.failed.append({"params": p, "index": len(self), "error": error})
            self._log.append((p, None, None, error))
            return
        cv = None
        if self._constraint is not None:
            cv = np.asarray(constraint_value, dtype=float).reshape(1, -1)
            if cv.shape[1] != self._constraint_values.shape[1]:
                raise ValueError(f"constraint_value: got {cv.shape[1]} value(s), expected "
                                 f"{self._constraint_values.shape[1]} (one per constraint)")
            self._constraint_values = np.vstack([self._constraint_values, cv])
        self._params = np.vstack([self._params, row])
        self._target = np.append(self._target, float(target))
        self._log.append((p, float(target), None if cv is None else cv[0].tolist(), None))

    def probe(self, params: Any) -> float | tuple[float, Any]:
        """Evaluate the target (and the constraint) at a point and register it.

        Args:
            params: a dict, or the float row in key order.

        Returns:
            The target, or ``(target, constraint value)`` when constrained.
        """
        row = self.kernel_transform(self._as_array(params))
        p = self.array_to_params(row)
        if not self._allow_duplicate_points and row in self:  # bayes_opt: the registered value, not re-run
            i = int(np.flatnonzero(np.all(np.isclose(self._params, row), axis=1))[0])
            warnings.warn(f"probe: {p} is already registered; its target is returned, f is not called again "
                          "(allow_duplicate_points=False)", stacklevel=2)
            if self._constraint is None:
                return float(self._target[i])
            return float(self._target[i]), self._constraint_values[i]
        if self.target_func is None:
            raise ValueError("No target function has been provided. target_func is None: this space can only "
                             "register() points")
        target = self.target_func(**p)
        if self._constraint is None:
            self.register(p, target)
            return target
        cv = self._constraint.eval(**p)
        self.register(p, target, cv)
        return target, cv

    def random_sample(self, n_samples: int = 0, random_state: Any = None) -> np.ndarray:
        """Uniform random float rows within the current bounds (one row, 1-D, for ``n_samples=0``).

        Args:
            n_samples: how many rows (0: one row, returned as a 1-D array).
            random_state: an int, a ``RandomState`` or None (the space's own).
        """
        rng = self.random_state if random_state is None else ensure_rng(random_state)
        n = max(int(n_samples), 1)
        cols = []
        for p, m in zip(self._params_config.values(), self.masks.values()):
            b = self._bounds[m]
            if p.dim == 1 and p.is_continuous:
                cols.append(rng.uniform(b[0, 0], b[0, 1], n)[:, None])
            elif p.dim == 1:
                cols.append(rng.randint(int(np.ceil(b[0, 0])), int(np.floor(b[0, 1])) + 1, n)[:, None].astype(float))
            else:
                cols.append(np.reshape(p.random_sample(n, rng), (n, p.dim)))
        out = np.hstack(cols)
        return out[0] if n_samples == 0 else out

    def set_bounds(self, new_bounds: Mapping[str, Any]) -> None:
        """Change the bounds of some float/int parameters; unknown keys are ignored, as bayes_opt does.

        Args:
            new_bounds: ``{name: (low, high)}``.
        """
        for key, b in new_bounds.items():
            if key not in self._params_config:
                continue
            p = self._params_config[key]
            if p.dim != 1:
                raise ValueError(f"new_bounds[{key!r}]: got {b!r}; a {type(p).__name__} has no bounds to change")
            b = list(b) if not isinstance(b, np.ndarray) else b.ravel().tolist()
            kind = b[2] if len(b) == 3 and isinstance(b[2], type) else None
            if kind is not None and kind is not (float if p.is_continuous else int):
                raise ValueError(f"new_bounds[{key!r}]: got {tuple(b)!r}; the parameter is a {type(p).__name__}, "
                                 "its type cannot change")
            lo, hi = float(b[0]), float(b[1])
            if lo >= hi and not (lo == hi and not p.is_continuous):
                raise ValueError(f"new_bounds[{key!r}]: got {tuple(b)!r}; expected low < high")
            self._bounds[int(np.argmax(self.masks[key]))] = (lo, hi)
            p._bounds = np.asarray((int(round(lo)), int(round(hi))) if not p.is_continuous else (lo, hi),
                                   dtype=float if p.is_continuous else int)
        self.version += 1

    # -- summaries -----------------------------------------------------------------------------
    def _result(self, i: int) -> dict[str, Any]:
        out: dict[str, Any] = {"target": float(self._target[i]), "params": self.array_to_params(self._params[i])}
        if self._constraint is not None:
            cv = self._constraint_values[i]
            out["constraint"] = float(cv[0]) if cv.size == 1 else cv
            out["allowed"] = bool(self._constraint.allowed(cv.reshape(1, -1))[0])
        return out

    def max(self) -> dict[str, Any] | None:
        """The best point inside the bounds (feasible, when constrained), or None."""
        idx = np.flatnonzero(self.mask)
        if idx.size == 0:
            return None
        best = self._result(int(idx[np.argmax(self._target[idx])]))
        best.pop("allowed", None)  # bayes_opt's max has target, params (and constraint)
        return best

    def res(self) -> list[dict[str, Any]]:
        """Every registered point: ``[{"target", "params"(, "constraint", "allowed")}, ...]``."""
        return [self._result(i) for i in range(len(self))]
