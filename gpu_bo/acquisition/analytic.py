"""Analytic EI/PI/UCB straight on the GP factors, with their gradient in closed form.

Everything here maximizes, in the GP's standardized output space (the spec's ``best_f`` and
``xi`` are converted by the GP's own units, :meth:`FittedGP.to_std` / :meth:`FittedGP.scale_to_std`).

Formulas (f* = the incumbent, mu/sigma the posterior mean/std, u = (mu - f* - xi) / sigma):
    ei   log E[max(f - f* - xi, 0)]   BoTorch's LogExpectedImprovement math
    pi   log P(f > f* + xi)           BoTorch's LogProbabilityOfImprovement
    ucb  mu + kappa * sigma           BoTorch's UpperConfidenceBound with beta = kappa^2

Pending points and batches of these names are handled by :mod:`gpu_bo.batch` (sequential greedy
selection with Kriging-believer fantasies: one Cholesky factor per point, cheaper than a Monte
Carlo acquisition; benchmarks/results/scaling.md has the batch timings).
"""

from __future__ import annotations

import torch

from gpu_bo.acquisition.base import Acquisition
from gpu_bo.kernels.conditional import is_conditional, masked_dist_grad
from gpu_bo.kernels.reference import _LOG_SQRT_2PI, MATERN52_DS, analytic_acq, log_ei, matern52_terms, sq_dist
from gpu_bo.surrogate import FittedGP

__all__ = ["AnalyticAcq"]


class AnalyticAcq(Acquisition):
    """Analytic EI/PI/UCB over ``b x 1 x d`` (or ``N x d``) points, straight on the GP factors.

    Same math as BoTorch's LogExpectedImprovement / LogProbabilityOfImprovement /
    UpperConfidenceBound (the test-suite checks the values agree) but without building a
    GPyTorch posterior object per call, which dominated the cost of small problems.

    Args:
        gp: the fitted GP (its factors are used as they are).
        kind: "ei", "pi" or "ucb".
        best_f_std: the incumbent in the GP's standardized units.
        xi_std: EI/PI's margin in standardized units.
        kappa: UCB's exploration weight.
    """

    has_value_and_grad = True

    def __init__(self, gp: FittedGP, kind: str, best_f_std: float, xi_std: float, kappa: float) -> None:
        self.gp, self.kind, self.best_f, self.xi, self.kappa = gp, kind, best_f_std, xi_std, kappa

    def values(self, X: torch.Tensor) -> torch.Tensor:
        """``N x d`` -> ``N``; with a closed-form gradient when ``X`` requires one."""
        if X.requires_grad and torch.is_grad_enabled():
            return _AnalyticAcqFn.apply(X, self)
        m, v = self.gp.mean_var(X)
        return analytic_acq(m, v, self.kind, self.best_f, self.xi, self.kappa)

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """``b x 1 x d`` -> ``b``."""
        return self.values(X.squeeze(-2))

    def value_and_grad(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``N x d`` -> values ``N`` and their gradients ``N x d`` (closed form, no autograd)."""
        return _analytic_value_grad(self, X)

    def screen(self, X: torch.Tensor) -> torch.Tensor:
        """``N x d -> N`` through the fused screening kernel (Triton on CUDA, torch elsewhere)."""
        from gpu_bo import kernels

        g = self.gp
        return kernels.screen(X, g.X, g.alpha, g.Kinv, g.inv_ls, g.params.outputscale, g.params.mean_const,
                              g.cat, self.kind, self.best_f, self.xi, self.kappa)


def _analytic_value_grad(acq: AnalyticAcq, X: torch.Tensor, need_grad: bool = True
                         ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """EI/PI/UCB at ``N x d`` points and its gradient in closed form: (``N``, ``N x d``).

    Why by hand: the refinement takes a gradient step per iteration on small tensors, where
    autograd through the ~30 ops of kernel, posterior and log EI is mostly per-op dispatch; the
    closed form costs two small GEMMs more than the forward pass (benchmarks/results/
    suggest_latency.md, rerun with it). tests/test_acquisition.py checks it against autograd.

    With ``k_i = os m(s_i)`` (``s_i = sum_k w_k^2 (x_k - X_ik)^2`` over continuous columns plus
    the categorical mismatch terms, which have no gradient), ``mean = k . alpha + c`` and
    ``var = os - k K^-1 k``: ``dA/dk = A_mean alpha - 2 A_var K^-1 k`` and
    ``dA/dx_k = 2 w_k^2 sum_i (dA/dk_i) os m'(s_i) (x_k - X_ik)``. For log EI,
    ``d log EI(u) / du = Phi(u) / EI(u) = exp(log Phi(u) - log EI(u))``, stable in the tail.
    """
    gp = acq.gp
    os_ = gp.params.outputscale
    inv_ls = gp.inv_ls
    s = sq_dist(X, gp.X, inv_ls, gp.cat)  # N x n
    m, p, ex = matern52_terms(s)
    Ks = os_ * m
    KsKinv = Ks @ gp.Kinv
    mean = Ks @ gp.alpha + gp.params.mean_const
    var_raw = os_ - (KsKinv * Ks).sum(-1)
    floor = 1e-12 * os_  # a tensor: no host sync per refinement step on CUDA
    sigma = torch.maximum(var_raw, floor).sqrt()
    if acq.kind == "ucb":
        val = mean + acq.kappa * sigma
        if not need_grad:
            return val, None
        g_mean = torch.ones_like(mean)
        g_sigma = torch.full_like(sigma, acq.kappa)
    else:
        u = (mean - (acq.best_f + acq.xi)) / sigma
        if acq.kind == "ei":
            lei = log_ei(u)
            val = lei + sigma.log()
            if not need_grad:
                return val, None
            h = torch.exp(torch.special.log_ndtr(u) - lei)
            g_sigma = (1.0 - h * u) / sigma
        else:  # pi
            val = torch.special.log_ndtr(u)
            if not need_grad:
                return val, None
            h = torch.exp(-0.5 * u * u - _LOG_SQRT_2PI - val)
            g_sigma = -h * u / sigma
        g_mean = h / sigma
    g_var = torch.where(var_raw > floor, g_sigma / (2.0 * sigma), torch.zeros_like(sigma))
    dK = g_mean.unsqueeze(-1) * gp.alpha - 2.0 * g_var.unsqueeze(-1) * KsKinv  # N x n
    P = dK * (os_ * MATERN52_DS) * p * ex  # dA/ds
    w2 = inv_ls * inv_ls
    if gp.cat:
        w2 = w2.clone()
        w2[list(gp.cat)] = 0.0
    if is_conditional(gp.cat):  # a conditional space's rule for inactive columns (kernels/conditional.py)
        return val, masked_dist_grad(X, gp.X, P, w2, gp.cat)
    return val, 2.0 * w2 * (X * P.sum(-1, keepdim=True) - P @ gp.X)


class _AnalyticAcqFn(torch.autograd.Function):
    """:func:`_analytic_value_grad` as an autograd function (gradient computed in forward)."""

    @staticmethod
    def forward(ctx, X: torch.Tensor, acq: AnalyticAcq) -> torch.Tensor:
        val, grad = _analytic_value_grad(acq, X)
        ctx.save_for_backward(grad)
        return val

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        (grad,) = ctx.saved_tensors
        return g.unsqueeze(-1) * grad, None
