"""An acquisition over warped inputs: ``x -> acq(W(x))``, so the search stays in the encoding.

With input warping (:mod:`gpu_bo.surrogate.input_warp`) the GP is fitted on ``u = W(x)``. The
maximizer, the exclusion of seen points, snapping and decoding all work on ``x``; this wrapper
maps each candidate through ``W`` before the inner acquisition (built on the warped GP) scores
it, and the closed-form gradient through the chain rule ``dacq/dx = dacq/du * W'(x)``.
"""

from __future__ import annotations

import torch

from gpu_bo.acquisition.base import Acquisition
from gpu_bo.surrogate.input_warp import InputWarp

__all__ = ["WarpedAcq"]


class WarpedAcq(Acquisition):
    """``inner`` evaluated at warped inputs.

    Args:
        inner: an acquisition built on a GP fitted on warped inputs.
        warp: the warp that GP was fitted with.
    """

    def __init__(self, inner: Acquisition, warp: InputWarp) -> None:
        self.inner = inner
        self.warp = warp

    @property
    def is_monte_carlo(self) -> bool:  # type: ignore[override] - the inner one's
        return self.inner.is_monte_carlo

    @property
    def has_value_and_grad(self) -> bool:  # type: ignore[override] - the inner one's
        return self.inner.has_value_and_grad

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return self.inner(self.warp(X))

    def value_and_grad(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        val, grad = self.inner.value_and_grad(self.warp(X))
        return val, grad * self.warp.slope(X)

    def screen(self, X: torch.Tensor) -> torch.Tensor:
        return self.inner.screen(self.warp(X))
