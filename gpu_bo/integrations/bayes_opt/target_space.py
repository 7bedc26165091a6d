"""bayes_opt's ``bayes_opt.target_space``: the read-only view of the registered points.

bayes_opt keeps its points in a ``TargetSpace``; the facade keeps them in its own records and
in the :class:`gpu_bo.Optimizer`, and shows the parts of ``TargetSpace`` user code tends to
touch (``keys``, ``bounds``, ``params``, ``target``, ``max()``, ``res()``, ``len``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from gpu_bo.integrations.bayes_opt.bayesian_optimization import BayesianOptimization

__all__: list[str] = []


class _TargetSpaceView:
    """The read-only parts of bayes_opt's ``TargetSpace`` that user code tends to touch."""

    def __init__(self, owner: BayesianOptimization) -> None:
        self._owner = owner

    @property
    def keys(self) -> list[str]:
        return list(self._owner._space.names)

    @property
    def bounds(self) -> np.ndarray:
        """``d x 2`` low/high of each numeric parameter (categoricals: their index range)."""
        rows = []
        for dim in self._owner._space.dims.values():
            rows.append([0, len(dim.choices) - 1] if dim.kind == "categorical" else [dim.low, dim.high])
        return np.asarray(rows, dtype=float)

    @property
    def params(self) -> np.ndarray:
        """``n x d`` registered points in key order (object dtype when a parameter is categorical)."""
        rows = [[r["params"][k] for k in self.keys] for r in self._owner.res]
        cat = any(dim.kind == "categorical" for dim in self._owner._space.dims.values())
        return np.asarray(rows, dtype=object if cat else float).reshape(len(rows), len(self.keys))

    @property
    def target(self) -> np.ndarray:
        """``n`` targets of the completed points, in the order of :attr:`params`."""
        return np.asarray([r["target"] for r in self._owner.res], dtype=float)

    def __len__(self) -> int:
        return len(self._owner.res)

    @property
    def empty(self) -> bool:
        return len(self) == 0

    def max(self) -> dict[str, Any] | None:
        return self._owner.max

    def res(self) -> list[dict[str, Any]]:
        return self._owner.res
