"""The protocol every acquisition follows, and the names and spec shared by all of them.

Glossary (BoTorch's shape grammar):
    b x q x d   ``b`` candidate sets of ``q`` encoded points each (``q = 1`` for one suggestion)
    N x d       ``N`` candidate points, flat (screening, gradient refinement)
    larger is better: every objective has been turned into one to maximize (``Direction.sign``)

An acquisition answers four questions, and :mod:`gpu_bo.maximize` and :mod:`gpu_bo.batch` ask
only these (no attribute probing):

    ``acq(X)``                  ``b x 1 x d -> b``: its value, differentiable by autograd
    ``acq.has_value_and_grad``  whether ``acq.value_and_grad(X)`` (``N x d -> (N, N x d)``, a
                                closed-form gradient, no autograd) exists
    ``acq.screen(X)``           ``N x d -> N``: a cheap value for screening many candidates
                                (default: the value, in memory-bounded chunks)
    ``acq.is_monte_carlo``      whether values are Monte Carlo estimates (dearer per point: the
                                maximizer screens fewer candidates)

Composition over inheritance: BoTorch's Monte Carlo acquisitions are wrapped
(:class:`BoTorchAcq`), not subclassed, and any plain callable becomes one with
:func:`as_acquisition`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch

from gpu_bo.kernels.reference import DEFAULT_KAPPA as _KERNEL_DEFAULT_KAPPA

__all__ = ["ANALYTIC", "MONTE_CARLO", "ACQUISITIONS", "DEFAULT_KAPPA", "AcqSpec", "Acquisition",
           "BoTorchAcq", "FunctionAcq", "as_acquisition", "check_name", "evaluate"]

ANALYTIC = ("ei", "pi", "ucb")
MONTE_CARLO = ("qei", "qpi", "qucb", "qnei")
ACQUISITIONS = ANALYTIC + MONTE_CARLO
Q_OF = {"ei": "qei", "pi": "qpi", "ucb": "qucb"}  # the Monte Carlo counterpart of an analytic name

# UCB's exploration weight when none is given (defined once, in the kernels' reference module)
DEFAULT_KAPPA = _KERNEL_DEFAULT_KAPPA

SCREEN_CHUNK = 4096  # candidates per call when screening by value (bounds the memory of one call)


def check_name(name: str) -> str:
    """Lower-cased acquisition name; a ValueError naming the value when it is not known."""
    if not isinstance(name, str) or name.lower() not in ACQUISITIONS:
        raise ValueError(f"acquisition: got {name!r}, expected one of {list(ACQUISITIONS)}")
    return name.lower()


@dataclass(frozen=True)
class AcqSpec:
    """What to build.

    Attributes:
        name: one of :data:`ACQUISITIONS`.
        best_f: the incumbent, in the GP's raw units (sign-flipped so larger is better, not
            standardized).
        xi: the improvement margin of EI/PI, in objective units.
        kappa: UCB's exploration weight (``mu + kappa * sigma``).
        mc_samples: quasi-Monte Carlo samples of the q-variants.
        seed: seed of their Sobol sampler.
    """

    name: str
    best_f: float
    xi: float = 0.0
    kappa: float = DEFAULT_KAPPA
    mc_samples: int = 128
    seed: int = 0


def evaluate(acq: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, chunk: int = SCREEN_CHUNK) -> torch.Tensor:
    """Values of ``acq`` at ``N x d`` points (``N``), without gradients, ``chunk`` points per call."""
    with torch.no_grad():
        return torch.cat([acq(X[s:s + chunk].unsqueeze(-2)) for s in range(0, X.shape[0], chunk)])


class Acquisition(abc.ABC):
    """The protocol of an acquisition function (see the module docstring); larger is better."""

    is_monte_carlo: ClassVar[bool] = False
    has_value_and_grad: ClassVar[bool] = False

    @abc.abstractmethod
    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """``b x q x d -> b``: the value of each candidate set, differentiable by autograd."""

    def value_and_grad(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``N x d`` -> values ``N`` and gradients ``N x d`` in closed form.

        Only where :attr:`has_value_and_grad` is True; callers check that flag first.
        """
        raise NotImplementedError(f"{type(self).__name__}.value_and_grad: this acquisition has no "
                                  "closed-form gradient (has_value_and_grad is False); use autograd")

    def screen(self, X: torch.Tensor) -> torch.Tensor:
        """``N x d -> N``: cheap values for candidate screening (default: the value, chunked)."""
        return evaluate(self, X)


class BoTorchAcq(Acquisition):
    """A BoTorch Monte Carlo acquisition (``qLogExpectedImprovement``, ...) behind the protocol.

    Attributes:
        botorch: the wrapped BoTorch acquisition module.
    """

    is_monte_carlo = True

    def __init__(self, botorch: torch.nn.Module) -> None:
        self.botorch = botorch

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return self.botorch(X)


class FunctionAcq(Acquisition):
    """A plain callable ``b x 1 x d -> b`` behind the protocol (autograd gradients)."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], monte_carlo: bool = False) -> None:
        self.fn = fn
        self.monte_carlo = bool(monte_carlo)

    @property
    def is_monte_carlo(self) -> bool:  # type: ignore[override] - per instance for a callable
        return self.monte_carlo

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return self.fn(X)


def as_acquisition(acq: Acquisition | Callable[[torch.Tensor], torch.Tensor]) -> Acquisition:
    """``acq`` itself when it follows the protocol, else a :class:`FunctionAcq` around it.

    Raises:
        TypeError: ``acq`` is not callable.
    """
    if isinstance(acq, Acquisition):
        return acq
    if not callable(acq):
        raise TypeError(f"acq: got {type(acq).__name__}, expected an Acquisition or a callable "
                        "b x 1 x d -> b")
    return FunctionAcq(acq)
