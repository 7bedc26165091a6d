"""Outcome constraints: feasible iff every constraint value is ``<= 0`` (user units).

Glossary: the model (:class:`gpu_bo.surrogate.multi.MultiGP`) has the ``m`` objectives' outputs
first, then one per constraint ``c_j``; each output is in its GP's standardized units, so the
user's threshold 0 becomes ``t_j = gps[m + j].to_std(0.0)`` (:func:`thresholds`).

- :class:`ConstrainedAnalyticAcq` (one objective, ``acquisition="ei"``/``"pi"``/``"ucb"``):
  ``log EI(x) + sum_j log P(c_j(x) <= 0)`` (``"pi"``: log PI instead of log EI), each
  feasibility term ``log_ndtr((t_j - mu_j) / sigma_j)`` of the constraint GP's posterior, all
  in log space (no underflow far from the feasible region). The incumbent is the best
  *feasible* observed value. Before any point is feasible there is no incumbent: the value is
  the log probability of feasibility alone, so the search first finds the feasible region.
  Gradients by autograd (a closed form would only pay at the sizes where
  :mod:`.analytic`'s does; constrained studies are short).
- :func:`build_constrained_mc` (the Monte Carlo names, and ``q > 1`` / pending points):
  BoTorch's ``qLogNoisyExpectedImprovement`` with ``constraints=`` (its fat-tailed sigmoid
  feasibility weighting), whose noisy incumbent is already the best feasible one.
- :func:`feasibility_callables`: those BoTorch constraint callables, shared with
  :mod:`.multi_objective` (constrained qLogNEHVI / qLogNParEGO).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from botorch.acquisition import qLogNoisyExpectedImprovement
from botorch.acquisition.objective import GenericMCObjective
from botorch.acquisition.utils import prune_inferior_points
from botorch.sampling import SobolQMCNormalSampler

from gpu_bo.acquisition.base import Acquisition, BoTorchAcq
from gpu_bo.kernels.reference import log_ei
from gpu_bo.surrogate.multi import MultiGP, MultiGPModel

__all__ = ["ConstrainedAnalyticAcq", "build_constrained_mc", "feasibility_callables", "log_feasibility",
           "thresholds"]

PRUNE_MIN_BASELINE = 16  # qLogNEI prunes its baseline to likely incumbents once it is this long


def thresholds(mgp: MultiGP, n_objectives: int) -> torch.Tensor:
    """``k`` thresholds: the user's 0 of each constraint in its GP's standardized units."""
    gps = mgp.gps[n_objectives:]
    return torch.tensor([g.to_std(0.0) for g in gps], dtype=mgp.X.dtype, device=mgp.X.device)


def log_feasibility(mean: torch.Tensor, var: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``sum_j log P(c_j <= t_j)`` for Gaussian ``c_j``: ``N x k`` means/variances -> ``N``."""
    return torch.special.log_ndtr((t - mean) / var.sqrt()).sum(-1)


class ConstrainedAnalyticAcq(Acquisition):
    """Constrained log EI / log PI (or the log probability of feasibility alone), analytic.

    Args:
        mgp: output 0 the objective's GP, outputs ``1..k`` the constraints'.
        kind: "ei" or "pi".
        best_f_std: the best feasible observed value in the objective GP's standardized units,
            or None when no point is feasible (then only the feasibility term is maximized).
        xi_std: EI/PI's margin in standardized units.
    """

    def __init__(self, mgp: MultiGP, kind: str, best_f_std: float | None, xi_std: float) -> None:
        if kind not in ("ei", "pi"):
            raise ValueError(f"kind: got {kind!r}, expected 'ei' or 'pi'")
        self.mgp, self.kind, self.best_f, self.xi = mgp, kind, best_f_std, xi_std
        self.t = thresholds(mgp, 1)

    def values(self, X: torch.Tensor) -> torch.Tensor:
        """``N x d`` -> ``N``."""
        mean, var = self.mgp.mean_var(X)
        val = log_feasibility(mean[:, 1:], var[:, 1:], self.t)
        if self.best_f is None:
            return val
        sigma = var[:, 0].sqrt()
        u = (mean[:, 0] - (self.best_f + self.xi)) / sigma
        obj = log_ei(u) + sigma.log() if self.kind == "ei" else torch.special.log_ndtr(u)
        return obj + val

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """``b x 1 x d`` -> ``b``."""
        return self.values(X.squeeze(-2))


def feasibility_callables(n_objectives: int, t: torch.Tensor) -> list[Callable[[torch.Tensor], torch.Tensor]]:
    """BoTorch constraint callables ``samples ... x q x (m + k) -> ... x q`` (``<= 0``: feasible)."""
    return [lambda Z, _i=n_objectives + j, _t=t[j]: Z[..., _i] - _t for j in range(t.shape[0])]


def build_constrained_mc(model: MultiGPModel, *, X_baseline: torch.Tensor, X_pending: torch.Tensor | None,
                         mc_samples: int, seed: int, outputs: Sequence[int] = (0,)) -> BoTorchAcq:
    """Constrained qLogNEI of output 0 (constraints: outputs ``1..k``) on ``model``.

    Args:
        model: the objective's and the constraints' GPs.
        X_baseline: ``n x d`` observed points (the noisy incumbents, infeasible ones included:
            their feasibility is weighted by the constraint GPs).
        X_pending: ``p x d`` pending points, or None.
        mc_samples: quasi-Monte Carlo samples.
        seed: the sampler's seed.
        outputs: the objective's output index (one objective).
    """
    (obj,) = tuple(outputs)
    t = thresholds(model.mgp, 1)
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed)
    objective = GenericMCObjective(lambda Z, X=None: Z[..., obj])
    constraints = feasibility_callables(1, t)
    if X_baseline.shape[0] >= PRUNE_MIN_BASELINE:  # BoTorch's pruning with our sample count, as in .multi_objective
        X_baseline = prune_inferior_points(model, X_baseline, objective=objective, constraints=constraints,
                                           num_samples=mc_samples)
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=X_baseline, sampler=sampler, objective=objective,
                                        constraints=constraints, X_pending=X_pending, prune_baseline=False,
                                        cache_root=False)
    model.cache_prefix(acqf.X_baseline)
    return BoTorchAcq(acqf)
