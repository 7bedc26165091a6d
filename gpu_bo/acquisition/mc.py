"""Monte Carlo acquisitions: BoTorch's qLogEI, qPI, qUCB and qLogNEI behind the protocol.

They score a q-batch jointly by quasi-Monte Carlo samples of the GP posterior (through
:class:`gpu_bo.surrogate.GPModel`, BoTorch's view of our fitted GP), with pending points folded
in as ``X_pending``. BoTorch already does this well, so it is used as is and only wrapped
(:class:`~gpu_bo.acquisition.base.BoTorchAcq`: ``is_monte_carlo`` True, autograd gradients).

    qei   qLogExpectedImprovement(best_f = f* + xi)
    qpi   qProbabilityOfImprovement(best_f = f* + xi)
    qucb  qUpperConfidenceBound(beta = kappa^2)
    qnei  qLogNoisyExpectedImprovement over the training inputs (baseline pruned past 64 points)
"""

from __future__ import annotations

import torch
from botorch.acquisition import (
    qLogExpectedImprovement,
    qLogNoisyExpectedImprovement,
    qProbabilityOfImprovement,
    qUpperConfidenceBound,
)
from botorch.sampling import SobolQMCNormalSampler

from gpu_bo.acquisition.base import MONTE_CARLO, AcqSpec, BoTorchAcq
from gpu_bo.surrogate import FittedGP, GPModel

__all__ = ["build_mc"]


def build_mc(name: str, spec: AcqSpec, gp: FittedGP, best_f_std: float, xi_std: float,
             X_pending: torch.Tensor | None) -> BoTorchAcq:
    """The Monte Carlo acquisition ``name`` on ``gp``.

    Args:
        name: one of :data:`~gpu_bo.acquisition.base.MONTE_CARLO`.
        spec: the spec (``kappa``, ``mc_samples`` and ``seed`` are read here).
        gp: the fitted GP.
        best_f_std: the incumbent in the GP's standardized units.
        xi_std: EI/PI's margin in the GP's standardized units.
        X_pending: ``m x d`` pending points, or None.

    Raises:
        ValueError: ``name`` is not a Monte Carlo name.
    """
    if name not in MONTE_CARLO:
        raise ValueError(f"name: got {name!r}, expected one of {list(MONTE_CARLO)}")
    model = GPModel(gp)
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([spec.mc_samples]), seed=spec.seed)
    if name == "qei":
        acqf = qLogExpectedImprovement(model, best_f=best_f_std + xi_std, sampler=sampler, X_pending=X_pending)
    elif name == "qpi":
        acqf = qProbabilityOfImprovement(model, best_f=best_f_std + xi_std, sampler=sampler, X_pending=X_pending)
    elif name == "qucb":
        acqf = qUpperConfidenceBound(model, beta=spec.kappa ** 2, sampler=sampler, X_pending=X_pending)
    else:
        acqf = qLogNoisyExpectedImprovement(model, X_baseline=gp.X, sampler=sampler, X_pending=X_pending,
                                            prune_baseline=gp.X.shape[0] > 64)
    return BoTorchAcq(acqf)
