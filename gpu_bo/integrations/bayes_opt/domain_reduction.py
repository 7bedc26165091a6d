"""bayes_opt's ``bayes_opt.domain_reduction``: the sequential domain reduction of the bounds.

``SequentialDomainReductionTransformer`` (Stander and Craig, 2002): after every suggested probe
the bounds are re-centred on the best point and shrunk by a factor that depends on whether the
best point keeps moving the same way (``gamma_osc``, ``gamma_pan``) and by ``eta``, never below
``minimum_window`` and never outside the original bounds. The facade applies the new bounds with
``set_bounds``; the GP then sees the points inside them. Written from the paper and bayes_opt's
documented parameters (no code copied).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gpu_bo.integrations.bayes_opt.target_space import TargetSpace

__all__ = ["DomainTransformer", "SequentialDomainReductionTransformer"]


class DomainTransformer:
    """bayes_opt's base class of a bounds transformer: ``initialize`` then ``transform`` per step."""

    def initialize(self, target_space: TargetSpace) -> None:
        """Set up from the space's initial bounds.

        Args:
            target_space: the optimizer's ``TargetSpace``.
        """
        raise NotImplementedError(f"{type(self).__name__}.initialize: a subclass defines it")

    def transform(self, target_space: TargetSpace) -> dict[str, np.ndarray]:
        """The new bounds ``{name: [low, high]}``.

        Args:
            target_space: the optimizer's ``TargetSpace``.
        """
        raise NotImplementedError(f"{type(self).__name__}.transform: a subclass defines it")


class SequentialDomainReductionTransformer(DomainTransformer):
    """Shrink the bounds around the best point after every suggestion.

    Args:
        gamma_osc: the shrink factor while the best point oscillates (0 < gamma_osc < 1).
        gamma_pan: the factor while it keeps moving the same way (about 1).
        eta: the zoom factor (0 < eta <= 1).
        minimum_window: the smallest width, one number, one per parameter, or ``{name: width}``.
    """

    def __init__(self, gamma_osc: float = 0.7, gamma_pan: float = 1.0, eta: float = 0.9,
                 minimum_window: float | Sequence[float] | Mapping[str, float] | None = 0.0) -> None:
        self.gamma_osc, self.gamma_pan, self.eta = float(gamma_osc), float(gamma_pan), float(eta)
        self._window_spec = minimum_window
        self.minimum_window: np.ndarray | None = None
        self.bounds: list[np.ndarray] = []

    def initialize(self, target_space: TargetSpace) -> None:
        """Read the original bounds and check the minimum windows against them.

        Args:
            target_space: the optimizer's ``TargetSpace`` (float parameters only).
        """
        kinds = [type(p).__name__ for p in target_space.params_config.values()]
        if any(k != "FloatParameter" for k in kinds):
            raise ValueError(f"SequentialDomainReductionTransformer: got parameter kinds {kinds}; domain "
                             "reduction only supports float parameters")
        self.original_bounds = np.array(target_space.bounds, dtype=float)
        self.bounds = [self.original_bounds.copy()]
        d = len(self.original_bounds)
        w = self._window_spec if self._window_spec is not None else 0.0
        if isinstance(w, Mapping):
            w = [float(w[k]) for k in target_space.keys]  # reordered as pbounds; extra keys ignored
        w = np.broadcast_to(np.asarray(w, dtype=float), (d,)).copy()
        self.minimum_window = w
        self._window_bounds_compatibility(self.original_bounds)
        self.previous_optimal = np.mean(self.original_bounds, axis=1)
        self.current_optimal = self.previous_optimal.copy()
        self.r = self.original_bounds[:, 1] - self.original_bounds[:, 0]
        self.previous_d = 2.0 * (self.current_optimal - self.previous_optimal) / self.r
        self.current_d = self.previous_d.copy()
        self.c = self.current_d * self.previous_d
        self.c_hat = np.sqrt(np.abs(self.c)) * np.sign(self.c)
        self.gamma = 0.5 * (self.gamma_pan * (1.0 + self.c_hat) + self.gamma_osc * (1.0 - self.c_hat))
        self.contraction_rate = self.eta + np.abs(self.current_d) * (self.gamma - self.eta)

    def _window_bounds_compatibility(self, bounds: np.ndarray) -> None:
        """Raise ``ValueError`` when a minimum window is wider than its bounds."""
        width = np.asarray(bounds)[:, 1] - np.asarray(bounds)[:, 0]
        too_wide = self.minimum_window > width + 1e-12
        if np.any(too_wide):
            raise ValueError(f"minimum_window: got {self.minimum_window.tolist()}, wider than the bounds' widths "
                             f"{width.tolist()}; each window must fit in its parameter's bounds")

    def _update(self, target_space: TargetSpace) -> None:
        self.previous_optimal = self.current_optimal
        self.previous_d = self.current_d
        best = target_space.max()
        if best is not None:
            self.current_optimal = target_space.params_to_array(best["params"])
        self.current_d = 2.0 * (self.current_optimal - self.previous_optimal) / self.r
        self.c = self.current_d * self.previous_d
        self.c_hat = np.sqrt(np.abs(self.c)) * np.sign(self.c)
        self.gamma = 0.5 * (self.gamma_pan * (1.0 + self.c_hat) + self.gamma_osc * (1.0 - self.c_hat))
        self.contraction_rate = self.eta + np.abs(self.current_d) * (self.gamma - self.eta)
        self.r = self.contraction_rate * self.r

    def _trim(self, new_bounds: np.ndarray, global_bounds: np.ndarray) -> np.ndarray:
        """Sort each row, keep it inside the global bounds and at least ``minimum_window`` wide."""
        b = np.sort(np.asarray(new_bounds, dtype=float), axis=1)
        g = np.asarray(global_bounds, dtype=float)
        for i in range(len(b)):
            if b[i, 0] > g[i, 1] or b[i, 1] < g[i, 0]:
                warnings.warn("A parameter's lower bound is greater than the global upper bound (or its upper "
                              "bound below the global lower bound); the bounds are reset to the global ones",
                              stacklevel=2)
                b[i] = g[i]
            b[i, 0], b[i, 1] = max(b[i, 0], g[i, 0]), min(b[i, 1], g[i, 1])
            w = self.minimum_window[i] if self.minimum_window is not None else 0.0
            if b[i, 1] - b[i, 0] < w:
                centre = 0.5 * (b[i, 0] + b[i, 1])
                lo = min(max(centre - w / 2, g[i, 0]), g[i, 1] - w)
                b[i] = (lo, lo + w)
        return b

    def transform(self, target_space: TargetSpace) -> dict[str, np.ndarray]:
        """Shrink the bounds around the best point; returns ``{name: [low, high]}``.

        Args:
            target_space: the optimizer's ``TargetSpace``.
        """
        self._update(target_space)
        new = np.stack([self.current_optimal - 0.5 * self.r, self.current_optimal + 0.5 * self.r], axis=1)
        new = self._trim(new, self.original_bounds)
        self.bounds.append(new)
        return {k: new[i] for i, k in enumerate(target_space.keys)}
