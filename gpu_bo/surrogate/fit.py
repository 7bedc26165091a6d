"""The GP surrogate: batched multi-start hyperparameter fitting and a BoTorch-compatible model.

Why a hand-written GP instead of BoTorch's ``SingleTaskGP`` + ``fit_gpytorch_mll``: measured on
this project's 2-core CPU at n=200, d=5, one forward+backward of a GPyTorch exact MLL and one
posterior call cost 3-6 ms of framework overhead (LinearOperator dispatch), so a suggestion of
~200 optimizer steps could not get under Optuna GPSampler's ~0.2 s. The same model written as a
handful of batched tensor ops costs a fraction of that. We keep BoTorch for what it does well:
the acquisition functions (analytic and Monte Carlo) run unchanged on :class:`GPModel`, a
``botorch.models.model.Model``; and the test-suite checks our posterior against
``SingleTaskGP``'s with the same hyperparameters.

Model (all in the standardized output space):
    y = c + f(x) + eps,  f ~ GP(0, outputscale * matern52(r)),  eps ~ N(0, noise)
Priors (MAP fitting): lengthscale ~ LogNormal(sqrt(2) + log(d)/2, sqrt(3)) as a density over the
lengthscale (the dimension-scaled prior of Hvarfner et al. 2024, BoTorch's default, which keeps
the GP sane in high dimensions; mode 0.5 sqrt(d)); noise - floor ~ Gamma(1.1, 30) as a density
over the value (Optuna GPSampler's prior: small noise is cheap, so smooth objectives are
nearly interpolated); on the log-value: outputscale ~ N(0, 1).

Shapes: ``R`` restarts are fitted as one batch (``R x d`` lengthscales ...) by summing the
independent per-restart losses; the best restart is kept.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.distributions import MultivariateNormal

from gpu_bo.exceptions import FitWarning
from gpu_bo.kernels.reference import MATERN52_DS, kernel_matrix, matern52, matern52_terms

__all__ = ["FitOptions", "GPParams", "FittedGP", "GPModel", "RefitSchedule", "fit_gp", "believe"]

NOISE_FLOOR = 1e-6
POLISH_MAX_POINTS = 256  # cold fits on at most this many points polish their best restart (_fit_params)
_LOG2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class FitOptions:
    """Options of the hyperparameter fit.

    Attributes:
        restarts: number of random restarts fitted together as one batch.
        max_iter: optimizer iterations (L-BFGS on CPU, Adam steps on CUDA).
        warm_max_iter: iterations when warm-started from the previous fit.
        warm_restarts: restarts when warm-started: the previous optimum plus the default start
            (and random ones beyond two). One alone got stuck in poor hyperparameters: on
            Hartmann6 with 40 evaluations the median regret over 5 seeds was 0.93 with one,
            0.21 with two (measured before the lengthscale-prior fix; not re-measured since).
        method: "auto" (L-BFGS on CPU, fixed-step Adam on CUDA: no host sync per step),
            "lbfgs" or "adam".
        max_fit_points: hyperparameters are fitted on at most this many observations (the
            best 20% and a seeded random rest); the GP is then conditioned on all of them.
            Fitting cost grows as n^3 per step while hyperparameters settle with a few hundred
            points, so this bounds the fit time as the study grows.
        adam_steps, warm_adam_steps: Adam steps of a cold and of a warm-started fit (CUDA).
            On an H200 the warm fit at its old 75 steps was 0.7 s of a 1.3 s suggestion at
            n = 5,000 (benchmarks/results/scaling.md); a warm start begins at the previous
            optimum, which moves little between two suggestions, and every
            ``full_refit_every``-th fit is cold again.
    """

    restarts: int = 4
    warm_restarts: int = 2
    max_iter: int = 30
    warm_max_iter: int = 15
    method: str = "auto"
    adam_lr: float = 0.05
    adam_steps: int = 150
    warm_adam_steps: int = 30
    max_fit_points: int | None = 512

    @classmethod
    def for_device(cls, device: torch.device) -> FitOptions:
        """Defaults per device: on CUDA more restarts cost almost nothing (one batched op)."""
        if device.type == "cuda":
            return cls(restarts=16, warm_restarts=4, max_fit_points=1024)
        return cls()


@dataclass
class GPParams:
    """Fitted hyperparameters (standardized output space), as plain tensors of one restart."""

    lengthscale: torch.Tensor  # d
    outputscale: torch.Tensor  # scalar
    noise: torch.Tensor  # scalar
    mean_const: torch.Tensor  # scalar

    def to(self, device: torch.device, dtype: torch.dtype) -> GPParams:
        return GPParams(*(t.to(device=device, dtype=dtype) for t in
                          (self.lengthscale, self.outputscale, self.noise, self.mean_const)))

    def to_list(self) -> dict:
        return {"lengthscale": self.lengthscale.tolist(), "outputscale": float(self.outputscale),
                "noise": float(self.noise), "mean_const": float(self.mean_const)}


@dataclass
class FittedGP:
    """A GP conditioned on its data: the factors every posterior call reuses.

    Attributes:
        X: ``n x d`` training inputs.  y: ``n`` standardized targets.
        y_mean, y_std: the standardization (raw = y * y_std + y_mean).
        L: ``n x n`` lower Cholesky factor of ``K + noise I``; alpha: ``K^-1 (y - c)``;
        Kinv: ``(K + noise I)^-1``.
    """

    X: torch.Tensor
    y: torch.Tensor
    y_mean: float
    y_std: float
    params: GPParams
    cat: tuple[int, ...]
    L: torch.Tensor
    alpha: torch.Tensor
    Kinv: torch.Tensor
    jitter: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def inv_ls(self) -> torch.Tensor:
        return 1.0 / self.params.lengthscale

    # the GP's units: raw values (sign-flipped so larger is better, the user's scale) and the
    # standardized values it is fitted on; callers convert through these three, nowhere else
    def to_std(self, v: float) -> float:
        """A raw value -> standardized units: ``(v - y_mean) / y_std``."""
        return (v - self.y_mean) / self.y_std

    def from_std(self, z: float) -> float:
        """A standardized value -> raw units: ``z * y_std + y_mean``."""
        return z * self.y_std + self.y_mean

    def scale_to_std(self, dv: float) -> float:
        """A raw difference (a margin such as ``xi``) -> standardized units: ``dv / y_std``."""
        return dv / self.y_std

    def mean_var(self, Xc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and variance of f at ``N x d`` points (standardized units)."""
        from gpu_bo.kernels.reference import posterior_mean_var

        return posterior_mean_var(Xc, self.X, self.alpha, self.Kinv, self.inv_ls,
                                  self.params.outputscale, self.params.mean_const, self.cat)


def _prior_loc(d: int) -> float:
    return math.sqrt(2.0) + 0.5 * math.log(max(d, 1))


class _NegMLLCore(torch.autograd.Function):
    """``0.5 r^T K^-1 r + 0.5 log|K|`` per batch element, with a hand-written backward.

    Autograd through ``cholesky`` + ``solve_triangular`` costs several n^3 triangular solves in
    backward; the closed form ``dK = 0.5 (K^-1 - a a^T)`` needs one ``cholesky_inverse``
    (measured ~3x faster at n=200..1000 on CPU). A failed factorization gives +inf for that
    batch element and a zero gradient, so one bad restart cannot poison the others.
    """

    @staticmethod
    def forward(ctx, K: torch.Tensor, r: torch.Tensor) -> torch.Tensor:  # K: R x n x n, r: R x n
        L, info = torch.linalg.cholesky_ex(K)
        ok = info == 0
        eye = torch.eye(K.shape[-1], dtype=K.dtype, device=K.device)
        L = torch.where(ok.view(-1, 1, 1), L, eye)  # placeholder factor for failed elements
        a = torch.cholesky_solve(r.unsqueeze(-1), L).squeeze(-1)
        val = 0.5 * (r * a).sum(-1) + torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1)
        val = torch.where(ok, val, torch.full_like(val, float("inf")))
        ctx.save_for_backward(L, a, ok)
        return val

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        L, a, ok = ctx.saved_tensors
        g = torch.where(ok, g, torch.zeros_like(g))
        Kinv = torch.cholesky_inverse(L)
        dK = 0.5 * g.view(-1, 1, 1) * (Kinv - a.unsqueeze(-1) * a.unsqueeze(-2))
        dr = g.unsqueeze(-1) * a
        return dK, dr


def pairwise_sq_diffs(X: torch.Tensor, cat: tuple[int, ...]) -> torch.Tensor | None:
    """``n x n x d`` per-column squared differences (indicator of inequality for categorical
    columns), or None when that would exceed 256 MB.

    Precomputed once per fit so each MLL evaluation builds ``r^2 = D @ inv_ls^2`` with one GEMM
    instead of recomputing distances for every lengthscale trial.
    """
    n, d = X.shape
    if n * n * d * X.element_size() > (256 << 20):
        return None
    D = (X.unsqueeze(1) - X.unsqueeze(0)) ** 2
    for c in cat:
        D[..., c] = (D[..., c] > 1e-18).to(X.dtype)
    return D


_LS_PRIOR_SCALE = math.sqrt(3.0)  # the lengthscale prior's sigma (log scale)


def _neg_log_post_grad(raw: torch.Tensor, D: torch.Tensor, y: torch.Tensor, jitter: float,
                       need_grad: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`_neg_log_post` on precomputed pairwise differences ``D``: (value, gradient).

    Why by hand: at the sizes of a short study (n <= a few hundred) one forward + backward
    through ~40 small autograd ops cost ~3 ms on the 2-core CPU (n = 50, d = 20, 2 restarts),
    almost all of it per-op dispatch, and a suggestion's fit makes 15-60 of them. The closed
    form below needs one Cholesky inverse and two contractions with ``D`` and ran 2.1x faster
    there (1.5x at n = 200, d = 5); tests/test_surrogate.py checks value and gradient against
    the autograd path.

    With ``G = dNLL/dK = 0.5 (K^-1 - a a^T)``, ``a = K^-1 r`` and the Matern-5/2 correlation
    ``m(s)`` of the squared scaled distance ``s = sum_k D_k / ls_k^2`` (``dm/ds = -5/6 (1 +
    sqrt5 r) exp(-sqrt5 r)``, finite at ``r = 0``):
        d/dlog ls_k = -2 / ls_k^2 * sum_ij G_ij os m'(s_ij) D_ijk,   d/dlog os = os sum(G * m),
        d/dlog noise' = noise' tr(G),   d/dc = -sum(a),   plus the priors' gradients.
    A failed factorization gives +inf for that restart and a zero gradient (the closures
    zero non-finite restarts anyway), so one bad restart cannot poison the others.
    """
    n, _, d = D.shape
    log_ls, log_os, log_noise, c = raw[:, :d], raw[:, d], raw[:, d + 1], raw[:, d + 2]
    inv_ls2 = torch.exp(-2.0 * log_ls)  # R x d
    os_ = torch.exp(log_os)
    e_noise = torch.exp(log_noise)
    s = torch.einsum("ijk,rk->rij", D, inv_ls2)  # R x n x n
    m, p, ex = matern52_terms(s)
    K = os_.view(-1, 1, 1) * m
    K.diagonal(dim1=-2, dim2=-1).add_((NOISE_FLOOR + e_noise + jitter).unsqueeze(-1))
    L, info = torch.linalg.cholesky_ex(K)
    ok = info == 0
    eye = torch.eye(n, dtype=K.dtype, device=K.device)
    L = torch.where(ok.view(-1, 1, 1), L, eye)  # placeholder factor for failed restarts
    r = y.unsqueeze(0) - c.unsqueeze(-1)  # R x n
    a = torch.cholesky_solve(r.unsqueeze(-1), L).squeeze(-1)
    nll = 0.5 * (r * a).sum(-1) + torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1) + 0.5 * n * _LOG2PI
    z = (log_ls - _prior_loc(d)) / _LS_PRIOR_SCALE
    lp = ((-0.5 * z * z - log_ls).sum(-1) - 0.5 * log_os ** 2 + 0.1 * log_noise - 30.0 * e_noise
          - 0.5 * (c / 2.0) ** 2)
    val = torch.where(ok, (nll - lp) / n, torch.full_like(nll, float("inf")))
    if not need_grad:
        return val, None
    G = 0.5 * (torch.cholesky_inverse(L) - a.unsqueeze(-1) * a.unsqueeze(-2))  # R x n x n
    P = G * (MATERN52_DS * p * ex)  # G * dm/ds
    g_ls = -2.0 * inv_ls2 * os_.unsqueeze(-1) * torch.einsum("rij,ijk->rk", P, D) + z / _LS_PRIOR_SCALE + 1.0
    g_os = os_ * (G * m).sum((-2, -1)) + log_os
    g_noise = e_noise * torch.diagonal(G, dim1=-2, dim2=-1).sum(-1) - 0.1 + 30.0 * e_noise
    g_c = -a.sum(-1) + c / 4.0
    grad = torch.cat([g_ls, g_os.unsqueeze(-1), g_noise.unsqueeze(-1), g_c.unsqueeze(-1)], -1) / n
    return val, torch.where(ok.unsqueeze(-1), grad, torch.zeros_like(grad))


class _NegLogPostD(torch.autograd.Function):
    """:func:`_neg_log_post_grad` as an autograd function (gradient computed in forward)."""

    @staticmethod
    def forward(ctx, raw: torch.Tensor, D: torch.Tensor, y: torch.Tensor, jitter: float) -> torch.Tensor:
        val, grad = _neg_log_post_grad(raw, D, y, jitter, need_grad=ctx.needs_input_grad[0])
        if grad is not None:
            ctx.save_for_backward(grad)
        return val

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        (grad,) = ctx.saved_tensors
        return g.unsqueeze(-1) * grad, None, None, None


def _neg_log_post(raw: torch.Tensor, X: torch.Tensor, y: torch.Tensor, cat: tuple[int, ...],
                  jitter: float, D: torch.Tensor | None = None, *, closed_form: bool = True) -> torch.Tensor:
    """Per-restart negative log posterior / n; ``raw`` is ``R x (d + 3)`` unconstrained.

    With ``D`` (:func:`pairwise_sq_diffs`) and ``closed_form``, value and gradient come from
    :class:`_NegLogPostD`; otherwise from the autograd graph below (its test oracle, and the
    path for data too large for ``D``).
    """
    if D is not None and closed_form:
        return _NegLogPostD.apply(raw, D, y, float(jitter))
    n, d = X.shape
    log_ls, log_os, log_noise, c = raw[:, :d], raw[:, d], raw[:, d + 1], raw[:, d + 2]
    inv_ls = torch.exp(-log_ls)
    os_ = torch.exp(log_os)
    noise = NOISE_FLOOR + torch.exp(log_noise)
    if D is not None:
        d2 = torch.einsum("ijk,rk->rij", D, inv_ls * inv_ls)  # R x n x n
        K = os_.view(-1, 1, 1) * matern52(d2)
    else:
        K = kernel_matrix(X.unsqueeze(0), X.unsqueeze(0), inv_ls, os_, cat)  # R x n x n
    K = K + torch.diag_embed((noise + jitter).unsqueeze(-1).expand(-1, n))
    r = y.unsqueeze(0) - c.unsqueeze(-1)  # R x n
    mll = -_NegMLLCore.apply(K, r) - 0.5 * n * _LOG2PI
    loc, scale = _prior_loc(d), _LS_PRIOR_SCALE
    # The lengthscale prior is a density over the lengthscale itself, as GPyTorch evaluates
    # BoTorch's LogNormalPrior: on our log-parametrization that adds the Jacobian -log(ls), which
    # puts the mode at exp(loc - 3) = 0.5 sqrt(d) instead of exp(loc) (~10 at d=6). Without it
    # dimensions that looked flat after 10-25 points drifted to lengthscales ~10 and the search
    # ignored them: budget 25 (10 initial), 10 seeds, median regret Hartmann6 1.52 -> 0.43,
    # Branin 0.052 -> 0.038 (Optuna GPSampler: 0.52, 0.040); Hartmann6 in 50 dims, 80 evaluations,
    # 3 seeds: 0.89 -> 0.012; Ackley-10 and SVC unchanged.
    lp = (-0.5 * ((log_ls - loc) / scale) ** 2 - log_ls).sum(-1)
    # Noise: Gamma(1.1, 30) as a density over the noise variance above the floor (Optuna
    # GPSampler's prior). Its log-density 0.1 log(noise) - 30 noise barely penalizes small
    # noise, so a smooth deterministic objective gets a near-interpolating GP; the former
    # LogNormal(-4, 1) (BoTorch's) cost ~48 nats at the 1e-6 floor and held the noise near
    # 1e-3-1e-2 of the standardized variance, which blurred the last digits of an optimum.
    # Measured over 10 seeds at 50 evaluations: Branin 1.8e-4 -> 6.3e-5 (GPSampler 3.6e-5),
    # Hartmann6 8.6e-4 -> 7.7e-4..1.6e-3, Ackley-10 14.6 -> 14.3..16 (seed noise spans 11-16);
    # the full benchmark with the polished cold fit below: Branin 1.0e-4, Hartmann6 7.2e-4,
    # Ackley-10 13.8, mixed 30-parameter space 6.23 -> 5.68 (benchmarks/results/).
    lp = lp - 0.5 * log_os ** 2 + 0.1 * log_noise - 30.0 * torch.exp(log_noise) - 0.5 * (c / 2.0) ** 2
    return -(mll + lp) / n


def _initial_raw(d: int, R: int, warm: GPParams | None, gen: torch.Generator, device, dtype) -> torch.Tensor:
    loc = _prior_loc(d)
    raw = torch.zeros(R, d + 3, dtype=dtype, device="cpu")  # drawn on the CPU generator, then moved
    # restart 0: a sensible deterministic start (lengthscale ~ 0.5 sqrt(d), the prior's bulk)
    raw[0, :d] = math.log(0.5 * math.sqrt(d))
    raw[0, d + 1] = -4.0
    if R > 1:
        z = torch.randn(R - 1, d + 3, generator=gen, dtype=dtype, device="cpu")
        raw[1:, :d] = (loc - 1.5 + 0.8 * z[:, :d]).clamp(math.log(0.02), math.log(50.0))
        raw[1:, d] = 0.3 * z[:, d]
        raw[1:, d + 1] = -5.0 + 1.5 * z[:, d + 1]
        raw[1:, d + 2] = 0.0
    raw = raw.to(device)
    if warm is not None and warm.lengthscale.numel() == d:
        w = warm.to(device, dtype)
        raw[-1, :d] = w.lengthscale.log()
        raw[-1, d] = w.outputscale.log()
        raw[-1, d + 1] = (w.noise - NOISE_FLOOR).clamp_min(1e-12).log()
        raw[-1, d + 2] = w.mean_const
    return raw


def _loss_and_grad(raw: torch.Tensor, closure_loss, value_grad) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum of the finite per-restart losses and its gradient (zero rows for the others)."""
    if value_grad is not None:  # closed form: no autograd graph
        losses, grad = value_grad(raw.detach())
        fin = torch.isfinite(losses)
        total = torch.where(fin, losses, torch.zeros_like(losses)).sum()
        return total, torch.where(fin.unsqueeze(-1), grad, torch.zeros_like(grad)).nan_to_num_(0.0, 0.0, 0.0)
    with torch.enable_grad():
        r = raw.detach().requires_grad_(True)
        losses = closure_loss(r)
        total = torch.where(torch.isfinite(losses), losses, torch.zeros_like(losses)).sum()
        (grad,) = torch.autograd.grad(total, r)
    return total.detach(), grad.nan_to_num_(0.0, 0.0, 0.0)


def _run_lbfgs(raw: torch.Tensor, closure_loss, max_iter: int, value_grad=None) -> torch.Tensor:
    raw = raw.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([raw], lr=1.0, max_iter=max_iter, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-6, tolerance_change=1e-10)

    def closure():
        total, raw.grad = _loss_and_grad(raw, closure_loss, value_grad)
        return total

    try:
        opt.step(closure)
    except RuntimeError:
        pass  # keep what was reached; the caller re-evaluates every restart
    return raw.detach()


def _run_adam(raw: torch.Tensor, closure_loss, steps: int, lr: float, value_grad=None) -> torch.Tensor:
    # Fixed step count and no .item(): on CUDA the whole loop is queued without a host sync.
    raw = raw.clone().requires_grad_(True)
    opt = torch.optim.Adam([raw], lr=lr)
    for _ in range(steps):
        _, raw.grad = _loss_and_grad(raw, closure_loss, value_grad)
        opt.step()
    return raw.detach()


def _condition(X: torch.Tensor, y: torch.Tensor, params: GPParams, cat: tuple[int, ...],
               jitter: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """Factor ``K + noise I`` (adding jitter until it succeeds) and precompute alpha, K^-1."""
    n = X.shape[0]
    K = kernel_matrix(X, X, 1.0 / params.lengthscale, params.outputscale, cat)
    eye = torch.eye(n, dtype=X.dtype, device=X.device)
    for extra in (0.0, 1e-8, 1e-6, 1e-4, 1e-2):
        L, info = torch.linalg.cholesky_ex(K + (params.noise + jitter + extra) * eye)
        if int(info) == 0:
            break
    else:  # pragma: no cover - noise floor makes this practically unreachable
        raise torch.linalg.LinAlgError("Cholesky failed even with jitter 1e-2")
    if extra > 0:
        warnings.warn(f"GP covariance not positive definite; added jitter {extra:g}", FitWarning, stacklevel=3)
    r = (y - params.mean_const).unsqueeze(-1)
    alpha = torch.cholesky_solve(r, L).squeeze(-1)
    Kinv = torch.cholesky_inverse(L)
    return L, alpha, Kinv, jitter + extra


def _fit_subset(X: torch.Tensor, y: torch.Tensor, m: int | None,
                gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n = X.shape[0]
    if m is None or n <= m:
        return X, y
    n_top = m // 5
    order = torch.argsort(y, descending=True)
    rest = order[n_top:]
    pick = torch.randperm(rest.numel(), generator=gen, device="cpu")[: m - n_top].to(rest.device)
    idx = torch.cat([order[:n_top], rest[pick]])
    return X[idx], y[idx]


def _fit_params(X: torch.Tensor, ys: torch.Tensor, cat: tuple[int, ...], options: FitOptions,
                warm: GPParams | None, seed: int) -> tuple[GPParams, float, dict]:
    """Optimize the hyperparameters on standardized targets: (params, jitter, info)."""
    d = X.shape[1]
    device, dtype = X.device, X.dtype
    gen = torch.Generator().manual_seed(int(seed) % (2**63))
    R = max(1, options.warm_restarts if warm is not None else options.restarts)
    raw0 = _initial_raw(d, R, warm, gen, device, dtype)
    Xf, yf = _fit_subset(X, ys, options.max_fit_points, gen)
    method = options.method
    if method == "auto":
        method = "adam" if device.type == "cuda" else "lbfgs"

    info: dict = {"method": method, "restarts": R}
    params: GPParams | None = None
    D = pairwise_sq_diffs(Xf, tuple(cat))
    for jitter in (0.0, 1e-6, 1e-4):
        def loss_fn(raw, _j=jitter):
            return _neg_log_post(raw, Xf, yf, cat, _j, D)

        value_grad = None if D is None else (lambda raw, _j=jitter: _neg_log_post_grad(raw, D, yf, _j))

        try:
            if method == "lbfgs":
                iters = options.warm_max_iter if warm is not None else options.max_iter
                raw = _run_lbfgs(raw0, loss_fn, iters, value_grad)
            else:
                steps = options.adam_steps if warm is None else max(options.warm_adam_steps, 1)
                raw = _run_adam(raw0, loss_fn, steps, options.adam_lr, value_grad)
            with torch.no_grad():
                losses = loss_fn(raw)
            best = int(torch.argmin(torch.nan_to_num(losses, nan=float("inf"))))
            if not torch.isfinite(losses[best]):
                raise FloatingPointError("no restart reached a finite loss")
            if method == "lbfgs" and warm is None and raw.shape[0] > 1 and Xf.shape[0] <= POLISH_MAX_POINTS:
                # The batched L-BFGS shares one line search across restarts, so the worst-
                # conditioned restart limits how far the best one gets: with a near-interpolating
                # GP (noise at its floor) 6 restarts ended 1.9e-3 above one restart's optimum
                # (loss per point, n = 40). A cold fit (first and every full_refit_every-th)
                # therefore polishes the best restart alone; warm fits start at the previous
                # optimum and skip this. Only on small fit sets, where it costs tens of ms: at
                # 512 points it added ~2.5 s to an 8 s cold fit on the 2-core CPU, and with many
                # points the restarts' optima are better determined.
                polished = _run_lbfgs(raw[best:best + 1], loss_fn, options.max_iter, value_grad)
                with torch.no_grad():
                    pl = loss_fn(polished)
                if bool(torch.isfinite(pl[0])) and float(pl[0]) < float(losses[best]):
                    raw = raw.clone()
                    raw[best] = polished[0]
                    losses = losses.clone()
                    losses[best] = pl[0]
        except (RuntimeError, FloatingPointError) as err:
            warnings.warn(f"GP fit failed with jitter {jitter:g} ({err}); retrying with more jitter and "
                          "fewer restarts", FitWarning, stacklevel=3)
            R = max(1, R // 2)
            raw0 = raw0[:R] if warm is None else torch.cat([raw0[:R - 1], raw0[-1:]])[:R]
            continue
        b = raw[best]
        params = GPParams(lengthscale=b[:d].exp(), outputscale=b[d].exp(),
                          noise=NOISE_FLOOR + b[d + 1].exp(), mean_const=b[d + 2])
        info.update(loss=float(losses[best]), jitter=jitter)
        break
    if params is None:
        warnings.warn("GP fit failed at every jitter level; using default hyperparameters", FitWarning,
                      stacklevel=3)
        params = GPParams(lengthscale=torch.full((d,), 0.5 * math.sqrt(d), dtype=dtype, device=device),
                          outputscale=torch.tensor(1.0, dtype=dtype, device=device),
                          noise=torch.tensor(1e-2, dtype=dtype, device=device),
                          mean_const=torch.tensor(0.0, dtype=dtype, device=device))
        jitter = 1e-4
        info["fallback"] = "default"
    return params, jitter, info


def fit_gp(X: torch.Tensor, y: torch.Tensor, cat: tuple[int, ...] = (), *, options: FitOptions = FitOptions(),
           warm: GPParams | None = None, seed: int = 0, optimize: bool = True) -> FittedGP:
    """Fit a GP to ``n x d`` inputs and ``n`` raw targets (larger = better, finite).

    Several restarts are optimized together as one batched problem. Never raises on numerical
    trouble: it falls back to more jitter, then to default hyperparameters, with a FitWarning.
    ``optimize=False`` with ``warm`` given keeps those hyperparameters and only conditions on
    the data.
    """
    n, d = X.shape
    device, dtype = X.device, X.dtype
    y_mean = float(y.mean())
    y_std = float(y.std()) if n > 1 else 1.0
    if not math.isfinite(y_std) or y_std == 0.0 or y_std <= 1e-10 * abs(y_mean):
        y_std = 1.0  # a constant objective: nothing to standardize
    ys = (y - y_mean) / y_std
    if not optimize and warm is not None and warm.lengthscale.numel() == d:
        # keep the last hyperparameters: no restarts, no fit subset, only the conditioning below
        params, jitter, info = warm.to(device, dtype), 0.0, {"method": "kept", "restarts": 0}
    else:
        params, jitter, info = _fit_params(X, ys, tuple(cat), options, warm, seed)
    L, alpha, Kinv, jitter = _condition(X, ys, params, cat, jitter)
    return FittedGP(X=X, y=ys, y_mean=y_mean, y_std=y_std, params=params, cat=tuple(cat), L=L,
                    alpha=alpha, Kinv=Kinv, jitter=jitter, info=info)


def believe(gp: FittedGP, X_new: torch.Tensor) -> FittedGP:
    """Kriging believer: condition on ``m x d`` pending points as if they returned the posterior
    mean, with the same hyperparameters.

    The mean is unchanged and the variance collapses near the pending points, so an analytic
    acquisition stops proposing them or their neighbours: sequential greedy batches and
    asynchronous workers at the cost of one Cholesky factor, instead of a Monte Carlo
    acquisition at every optimizer step.
    """
    if X_new is None or X_new.shape[0] == 0:
        return gp
    with torch.no_grad():
        X_new = X_new.to(gp.X)
        m, _ = gp.mean_var(X_new)
        X = torch.cat([gp.X, X_new])
        y = torch.cat([gp.y, m])
        try:
            L, alpha, Kinv = _extend_factor(gp, X_new, y)
            jitter = gp.jitter
        except torch.linalg.LinAlgError:  # a pending point on top of a training point: refactor
            L, alpha, Kinv, jitter = _condition(X, y, gp.params, gp.cat, gp.jitter)
    return FittedGP(X=X, y=y, y_mean=gp.y_mean, y_std=gp.y_std, params=gp.params, cat=gp.cat, L=L,
                    alpha=alpha, Kinv=Kinv, jitter=jitter,
                    info=dict(gp.info, believed=int(gp.info.get("believed", 0)) + int(X_new.shape[0])))


def _extend_factor(gp: FittedGP, X_new: torch.Tensor, y: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """L, alpha and K^-1 of ``gp``'s data plus ``m`` new points, by block updates.

    Written by hand because a q-point greedy batch conditions q times: refactoring costs
    O((n+m)^3) each time (q = 64 at n = 5,000 on an H200 spent most of its 8.4 s there and in
    the refinement), the block update O(n^2 m). With ``B = k(X, X_new)`` and the Schur complement
    ``S = k(X_new, X_new) + noise I - B^T K^-1 B``:
    ``L' = [[L, 0], [(L^-1 B)^T, chol(S)]]`` and
    ``K'^-1 = [[K^-1 + C S^-1 C^T, -C S^-1], [-S^-1 C^T, S^-1]]`` with ``C = K^-1 B``.
    """
    p, n, m = gp.params, gp.X.shape[0], X_new.shape[0]
    inv_ls = 1.0 / p.lengthscale
    B = kernel_matrix(gp.X, X_new, inv_ls, p.outputscale, gp.cat)
    K22 = kernel_matrix(X_new, X_new, inv_ls, p.outputscale, gp.cat)
    K22 = K22 + (p.noise + gp.jitter) * torch.eye(m, dtype=B.dtype, device=B.device)
    W = torch.linalg.solve_triangular(gp.L, B, upper=False)  # L^-1 B, n x m
    S = K22 - W.T @ W
    L22, info = torch.linalg.cholesky_ex(S)
    if int(info) != 0:
        raise torch.linalg.LinAlgError("Schur complement not positive definite")
    L = torch.zeros(n + m, n + m, dtype=B.dtype, device=B.device)
    L[:n, :n] = gp.L
    L[n:, :n] = W.T
    L[n:, n:] = L22
    C = gp.Kinv @ B
    S_inv = torch.cholesky_inverse(L22)
    CS = C @ S_inv
    Kinv = torch.empty_like(L)
    Kinv[:n, :n] = gp.Kinv + CS @ C.T
    Kinv[:n, n:] = -CS
    Kinv[n:, :n] = -CS.T
    Kinv[n:, n:] = S_inv
    alpha = Kinv @ (y - p.mean_const)
    return L, alpha, Kinv


class GPModel(Model):
    """A BoTorch ``Model`` over a :class:`FittedGP`, so BoTorch's acquisition functions run on it.

    Posteriors are in the standardized output space (acquisition thresholds such as ``best_f``
    must be given in that space too).
    """

    _num_outputs = 1

    def __init__(self, gp: FittedGP) -> None:
        super().__init__()
        self.gp = gp

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size([])

    def posterior(self, X: torch.Tensor, output_indices=None, observation_noise=False,
                  posterior_transform=None, **kwargs) -> GPyTorchPosterior:
        """Joint posterior over ``batch_shape x q x d`` -> mean ``batch_shape x q``."""
        gp = self.gp
        p = gp.params
        inv_ls = 1.0 / p.lengthscale
        Ks = kernel_matrix(X, gp.X, inv_ls, p.outputscale, gp.cat)  # b x q x n
        mean = Ks @ gp.alpha + p.mean_const
        Kqq = kernel_matrix(X, X, inv_ls, p.outputscale, gp.cat)  # b x q x q
        V = torch.linalg.solve_triangular(gp.L, Ks.transpose(-1, -2), upper=False)  # b x n x q
        cov = Kqq - V.transpose(-1, -2) @ V
        q = X.shape[-2]
        eye = torch.eye(q, dtype=X.dtype, device=X.device)
        extra = p.noise if observation_noise is True else 0.0
        cov = cov + (1e-9 * p.outputscale + extra) * eye
        post = GPyTorchPosterior(MultivariateNormal(mean, cov))
        if posterior_transform is not None:
            return posterior_transform(post)
        return post

    def forward(self, X):  # pragma: no cover - not used by BoTorch's acquisition functions
        raise NotImplementedError


class RefitSchedule:
    """When to re-optimize the GP hyperparameters and from where (warm or cold).

    Every ``full_refit_every``-th optimization is cold (fresh restarts), the others start warm
    from the previous optimum. From ``refit_min_n`` training points on (global strategy only)
    the hyperparameters are re-optimized only once the data have grown by ``refit_growth``;
    in between the last ones are kept and the GP is only conditioned on the new data.

    Attributes:
        params: the last optimized hyperparameters on CPU float64 (None before the first fit).
        n_fits: hyperparameter optimizations so far.
        last_fit_n: training points at the last one.
    """

    def __init__(self, full_refit_every: int = 20, refit_min_n: int = 100, refit_growth: float = 0.02) -> None:
        self.full_refit_every = int(full_refit_every)
        self.refit_min_n = int(refit_min_n)
        self.refit_growth = float(refit_growth)
        self.params: GPParams | None = None
        self.n_fits = 0
        self.last_fit_n = 0

    def fit(self, X: torch.Tensor, y: torch.Tensor, cat: tuple[int, ...], *, options: FitOptions, seed: int,
            local: bool = False) -> tuple[FittedGP, dict]:
        """Fit a GP to ``n x d`` inputs and ``n`` raw targets, re-optimizing when the schedule says so.

        Args:
            X: ``n x d`` training inputs.
            y: ``n`` raw targets (larger = better).
            cat: categorical columns of ``X``.
            options: the hyperparameter fit's options.
            seed: seed of the fit's restarts and subset.
            local: the data are a trust region's local subset (they change with the region), so
                the hyperparameters are re-optimized at every call.

        Returns:
            The fitted GP and ``{"fit_seconds", "cold_fit", "hyperparameters_fitted"}``.
        """
        cold = self.params is None or self.n_fits % max(1, self.full_refit_every) == 0
        n = int(X.shape[0])
        optimize = (cold or local or n < self.refit_min_n
                    or n >= self.last_fit_n * (1.0 + self.refit_growth))
        t0 = time.perf_counter()
        gp = fit_gp(X, y, tuple(cat), options=options, warm=None if cold else self.params, seed=seed,
                    optimize=optimize)
        t_fit = time.perf_counter() - t0
        if optimize:
            self.params = gp.params.to(torch.device("cpu"), torch.float64)
            self.n_fits += 1
            self.last_fit_n = n
        return gp, {"fit_seconds": t_fit, "cold_fit": cold and optimize, "hyperparameters_fitted": optimize}

    def state_dict(self) -> dict:
        """``{"n_fits", "last_fit_n", "gp_params"}``, JSON-serializable."""
        return {"n_fits": self.n_fits, "last_fit_n": self.last_fit_n,
                "gp_params": None if self.params is None else self.params.to_list()}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore :meth:`state_dict`'s keys (missing ones take their defaults; other keys are ignored).

        Raises:
            TypeError: ``state`` is not a mapping.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state: expected a mapping from RefitSchedule.state_dict(), got {type(state).__name__}")
        self.n_fits = int(state.get("n_fits", 0))
        self.last_fit_n = int(state.get("last_fit_n", 0))
        g = state.get("gp_params")
        self.params = None if g is None else GPParams(
            *(torch.tensor(g[k], dtype=torch.float64, device="cpu")
              for k in ("lengthscale", "outputscale", "noise", "mean_const")))
