"""Plain-torch reference implementations of the hot paths.

These run on any device (CPU and CUDA) and are the test oracles of the fused Triton kernels.

Glossary (BoTorch's shape grammar):
    n       number of training observations
    d       number of encoded input columns
    N       number of candidates being screened
    X       n x d training inputs in the unit cube
    Xc      N x d candidates
    inv_ls  d inverse lengthscales
    cat     list of column indices compared by equality (categorical parameters); for a
            conditional space a ``conditional.Columns``, which also masks inactive columns

The GP kernel is ``outputscale * matern52(r)`` with ``r^2 = sum_cont ((x - x') / ls)^2 +
sum_cat [x != x'] / ls^2``: one ARD Matern-5/2 over continuous (and integer) columns and a
Hamming distance over categorical columns, so categories need no one-hot columns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from gpu_bo.kernels.conditional import Columns, arc_sq_dist, xor_term

__all__ = ["sq_dist", "matern52", "matern52_terms", "MATERN52_DS", "kernel_matrix", "posterior_mean_var", "log_ei", "analytic_acq", "screen",
           "DEFAULT_KAPPA"]

_SQRT5 = math.sqrt(5.0)
# UCB's exploration weight when none is given (mu + kappa * sigma): the two-sided 99% normal
# quantile, the seed tutorial's default. The one constant: gpu_bo.acquisition re-exports it
# (it lives here, the lowest layer, because the kernels take it as a default too).
DEFAULT_KAPPA = 2.576


def sq_dist(X1: torch.Tensor, X2: torch.Tensor, inv_ls: torch.Tensor, cat: Sequence[int] = ()) -> torch.Tensor:
    """Scaled squared distance ``... x n1 x n2`` between ``... x n1 x d`` and ``... x n2 x d``.

    ``inv_ls`` is ``... x d`` (batch of hyperparameters broadcasts against the inputs). ``cat``
    is the categorical columns, or a :class:`gpu_bo.kernels.conditional.Columns` of a
    conditional space (its rule for inactive columns).
    """
    if isinstance(cat, Columns):
        if cat.mode == "arc":
            return arc_sq_dist(X1, X2, inv_ls, cat)
        d2 = sq_dist(X1, X2, inv_ls, tuple(cat))
        return d2 + xor_term(X1, X2, inv_ls, cat) if cat.mode == "flag" else d2
    inv_ls = inv_ls.unsqueeze(-2)  # ... x 1 x d
    if cat:
        cont_mask = torch.ones(X1.shape[-1], dtype=torch.bool, device=X1.device)
        cont_mask[list(cat)] = False
        w = inv_ls * cont_mask.to(inv_ls.dtype)
    else:
        w = inv_ls
    A, B = X1 * w, X2 * w
    # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b : a GEMM instead of an n1 x n2 x d tensor
    d2 = (A * A).sum(-1, keepdim=True) + (B * B).sum(-1).unsqueeze(-2) - 2.0 * A @ B.transpose(-1, -2)
    d2 = d2.clamp_min(0.0)
    for c in cat:
        w_c = inv_ls[..., c].unsqueeze(-1) ** 2  # ... x 1 x 1
        diff = (X1[..., :, c].unsqueeze(-1) - X2[..., :, c].unsqueeze(-2)).abs() > 1e-9
        d2 = d2 + diff.to(d2.dtype) * w_c
    return d2


MATERN52_DS = -5.0 / 6.0  # dm/ds = MATERN52_DS * p * e (see matern52_terms)


def matern52_terms(s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Matern-5/2 correlation of a squared distance ``s >= 0`` and the pieces of its derivative.

    Returns ``(m, p, e)`` with ``r = sqrt(s)``, ``p = 1 + sqrt5 r``, ``e = exp(-sqrt5 r)``,
    ``m = (p + 5/3 s) e``; the derivative is ``dm/ds = MATERN52_DS * p * e`` (finite at
    ``s = 0``). The one home of this kernel's value and derivative: the GP fit's closed-form
    gradient and the acquisition's both use it, each multiplying the pieces in its own order
    (the order fixes the rounding, which tests/test_golden.py pins).
    """
    r = torch.sqrt(s.clamp_min(1e-30))
    e = torch.exp(-_SQRT5 * r)
    p = 1.0 + _SQRT5 * r
    return (p + (5.0 / 3.0) * s) * e, p, e


def matern52(d2: torch.Tensor) -> torch.Tensor:
    """Matern-5/2 correlation of a squared distance (``d2 >= 0``)."""
    return matern52_terms(d2)[0]


def kernel_matrix(X1: torch.Tensor, X2: torch.Tensor, inv_ls: torch.Tensor, outputscale: torch.Tensor,
                  cat: Sequence[int] = ()) -> torch.Tensor:
    """``outputscale * matern52`` between ``... x n1 x d`` and ``... x n2 x d``."""
    return outputscale.unsqueeze(-1).unsqueeze(-1) * matern52(sq_dist(X1, X2, inv_ls, cat))


def posterior_mean_var(Xc: torch.Tensor, X: torch.Tensor, alpha: torch.Tensor, Kinv: torch.Tensor,
                       inv_ls: torch.Tensor, outputscale: torch.Tensor, mean_const: torch.Tensor,
                       cat: Sequence[int] = ()) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean and variance (``N`` each) of a fitted GP at ``N x d`` candidates.

    ``alpha = K^-1 (y - c)`` (``n``) and ``Kinv = K^-1`` (``n x n``) are precomputed once per fit;
    the variance then is one GEMM, ``os - rowsum((Ks Kinv) * Ks)``, which runs far faster on a
    GPU than a triangular solve with N right-hand sides.
    """
    Ks = kernel_matrix(Xc, X, inv_ls, outputscale, cat)  # N x n
    mean = Ks @ alpha + mean_const
    var = outputscale - ((Ks @ Kinv) * Ks).sum(-1)
    return mean, var.clamp_min(1e-12 * float(outputscale))


_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_SQRT_PI_2 = math.sqrt(math.pi / 2)
_INV_SQRT2 = 1 / math.sqrt(2)


def log_ei(u: torch.Tensor) -> torch.Tensor:
    """Stable ``log(phi(u) + u * Phi(u))`` for any ``u`` (the standardized improvement).

    The same quantity as BoTorch's ``_log_ei_helper`` (tests check they agree) in fewer tensor
    ops: it runs at every gradient step of the acquisition refinement, where BoTorch's version
    was the largest single cost on small problems. For ``u < -1`` it uses
    ``log phi(u) + log1p(u * Phi(u) / phi(u))`` with ``Phi(u) / phi(u) = sqrt(pi/2) erfcx(-u/sqrt2)``,
    which keeps full precision deep in the tail.
    """
    log_phi = -0.5 * u * u - _LOG_SQRT_2PI
    # upper branch: direct; evaluated on clamped u so the unused branch stays finite (no NaN grads)
    uh = u.clamp_min(-1.0)
    upper = torch.log(torch.exp(-0.5 * uh * uh - _LOG_SQRT_2PI) + uh * torch.special.ndtr(uh))
    ul = u.clamp_max(-1.0)
    lower = log_phi + torch.log1p(ul * _SQRT_PI_2 * torch.special.erfcx(-ul * _INV_SQRT2))
    return torch.where(u > -1.0, upper, lower)


def analytic_acq(mean: torch.Tensor, var: torch.Tensor, kind: str, best_f: float, xi: float = 0.0,
                 kappa: float = DEFAULT_KAPPA) -> torch.Tensor:
    """Analytic acquisition values (larger is better) from posterior mean and variance.

    ``ei`` -> log EI with improvement threshold ``best_f + xi``; ``pi`` -> log PI; ``ucb`` ->
    ``mean + kappa * sigma``. The log forms are the numerically stable ones BoTorch uses
    (``log_ei`` here; ``log_ndtr``).
    """
    sigma = var.sqrt()
    if kind == "ucb":
        return mean + kappa * sigma
    u = (mean - (best_f + xi)) / sigma
    if kind == "ei":
        return log_ei(u) + sigma.log()
    if kind == "pi":
        return torch.special.log_ndtr(u)
    raise ValueError(f"kind: got {kind!r}, expected 'ei', 'pi' or 'ucb'")


def default_chunk(n: int, device: torch.device, budget_bytes: int | None = None) -> int:
    """Candidates per chunk so that a few ``chunk x n`` float64 matrices fit the budget."""
    if budget_bytes is None:
        budget_bytes = (1 << 30) if device.type == "cuda" else (128 << 20)
    return max(256, int(budget_bytes // (8 * 4 * max(n, 1))))


def screen(Xc: torch.Tensor, X: torch.Tensor, alpha: torch.Tensor, Kinv: torch.Tensor,
           inv_ls: torch.Tensor, outputscale: torch.Tensor, mean_const: torch.Tensor,
           cat: Sequence[int], kind: str, best_f: float, xi: float = 0.0, kappa: float = DEFAULT_KAPPA,
           chunk: int | None = None) -> torch.Tensor:
    """Acquisition value of every one of ``N x d`` candidates, in memory-bounded chunks.

    Returns ``N`` values on the candidates' device. Never materializes more than
    ``chunk x n`` of the cross-covariance at once.
    """
    if chunk is None:
        chunk = default_chunk(X.shape[0], Xc.device)
    out = torch.empty(Xc.shape[0], dtype=Xc.dtype, device=Xc.device)
    with torch.no_grad():
        for s in range(0, Xc.shape[0], chunk):
            m, v = posterior_mean_var(Xc[s:s + chunk], X, alpha, Kinv, inv_ls, outputscale, mean_const, cat)
            out[s:s + chunk] = analytic_acq(m, v, kind, best_f, xi, kappa)
    return out
