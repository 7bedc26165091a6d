"""Acquisition functions: analytic EI/PI/UCB and Monte Carlo qEI/qPI/qUCB/qNEI (BoTorch).

Everything here maximizes: the optimizer flips the sign of minimized objectives before the GP
sees them, and works in the GP's standardized output space, so ``xi`` (given in the units of
the objective, as in the seed tutorial's formulas) is divided by the outcome scale.

Formulas (f* = best observed value, mu/sigma the posterior mean/std):
    ei   E[max(f - f* - xi, 0)]       (computed as log EI: BoTorch's LogExpectedImprovement math)
    pi   P(f > f* + xi)               (log PI)
    ucb  mu + kappa * sigma           (BoTorch's UCB with beta = kappa^2)
    qei / qpi / qucb / qnei: BoTorch's qLogExpectedImprovement, qProbabilityOfImprovement,
    qUpperConfidenceBound, qLogNoisyExpectedImprovement, over a q-batch jointly, with pending
    points folded in (X_pending).
The optimizer handles pending points and batches of the analytic names by sequential greedy
selection with Kriging-believer fantasies (``surrogate.believe``: one Cholesky factor per
point, measured ~5x cheaper per suggestion than a Monte Carlo acquisition); ``build`` itself
switches an analytic name to its q-counterpart when given pending points or q > 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from botorch.acquisition import (
    qLogExpectedImprovement,
    qLogNoisyExpectedImprovement,
    qProbabilityOfImprovement,
    qUpperConfidenceBound,
)
from botorch.sampling import SobolQMCNormalSampler

from gpu_bo.kernels.reference import analytic_acq
from gpu_bo.surrogate import FittedGP, GPModel

__all__ = ["ANALYTIC", "MONTE_CARLO", "ACQUISITIONS", "AcqSpec", "check_name", "build"]

ANALYTIC = ("ei", "pi", "ucb")
MONTE_CARLO = ("qei", "qpi", "qucb", "qnei")
ACQUISITIONS = ANALYTIC + MONTE_CARLO
_Q_OF = {"ei": "qei", "pi": "qpi", "ucb": "qucb"}


def check_name(name: str) -> str:
    if not isinstance(name, str) or name.lower() not in ACQUISITIONS:
        raise ValueError(f"acquisition: got {name!r}, expected one of {list(ACQUISITIONS)}")
    return name.lower()


@dataclass(frozen=True)
class AcqSpec:
    """What to build. ``xi`` is in objective units; ``best_f`` in the GP's raw (sign-flipped,
    unstandardized) units."""

    name: str
    best_f: float
    xi: float = 0.0
    kappa: float = 2.576
    mc_samples: int = 128
    seed: int = 0


class AnalyticAcq:
    """Analytic EI/PI/UCB over ``b x 1 x d`` (or ``N x d``) points, straight on the GP factors.

    Same math as BoTorch's LogExpectedImprovement / LogProbabilityOfImprovement /
    UpperConfidenceBound (the test-suite checks the values agree) but without building a
    GPyTorch posterior object per call, which dominated the cost of small problems.
    """

    def __init__(self, gp: FittedGP, kind: str, best_f_std: float, xi_std: float, kappa: float):
        self.gp, self.kind, self.best_f, self.xi, self.kappa = gp, kind, best_f_std, xi_std, kappa

    def values(self, X: torch.Tensor) -> torch.Tensor:
        """``N x d`` -> ``N``."""
        m, v = self.gp.mean_var(X)
        return analytic_acq(m, v, self.kind, self.best_f, self.xi, self.kappa)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """``b x 1 x d`` -> ``b``."""
        return self.values(X.squeeze(-2))

    def screen(self, X: torch.Tensor) -> torch.Tensor:
        from gpu_bo import kernels

        g = self.gp
        return kernels.screen(X, g.X, g.alpha, g.Kinv, g.inv_ls, g.params.outputscale, g.params.mean_const,
                              g.cat, self.kind, self.best_f, self.xi, self.kappa)


def build(spec: AcqSpec, gp: FittedGP, X_pending: torch.Tensor | None = None, q: int = 1) -> Callable:
    """Build the acquisition callable ``b x q x d -> b`` (larger is better).

    Analytic kinds without pending points and q == 1 give an :class:`AnalyticAcq` (which also
    has a fast ``screen`` for ``N x d`` candidates); otherwise a BoTorch MC acquisition on a
    :class:`GPModel`.
    """
    name = check_name(spec.name)
    best_f_std = (spec.best_f - gp.y_mean) / gp.y_std
    xi_std = spec.xi / gp.y_std
    has_pending = X_pending is not None and X_pending.numel() > 0
    if name in ANALYTIC and not has_pending and q == 1:
        return AnalyticAcq(gp, name, best_f_std, xi_std, spec.kappa)
    name = _Q_OF.get(name, name)
    model = GPModel(gp)
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([spec.mc_samples]), seed=spec.seed)
    pend = X_pending if has_pending else None
    if name == "qei":
        return qLogExpectedImprovement(model, best_f=best_f_std + xi_std, sampler=sampler, X_pending=pend)
    if name == "qpi":
        return qProbabilityOfImprovement(model, best_f=best_f_std + xi_std, sampler=sampler, X_pending=pend)
    if name == "qucb":
        return qUpperConfidenceBound(model, beta=spec.kappa ** 2, sampler=sampler, X_pending=pend)
    return qLogNoisyExpectedImprovement(model, X_baseline=gp.X, sampler=sampler, X_pending=pend,
                                        prune_baseline=gp.X.shape[0] > 64)
