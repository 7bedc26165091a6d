"""Hyperparameter fitting of the GP (batched multi-start MAP); the refit schedule is :mod:`.refit`.

The loss is the negative log posterior per point of :mod:`gpu_bo.surrogate.gp`'s model under :mod:`gpu_bo.surrogate.prior`'s
priors, on an unconstrained raw vector per restart (log lengthscales, log outputscale, log noise above the floor, constant mean).

Shapes: ``R`` restarts are fitted as one batch (``raw`` is ``R x (d + 3)``) by summing the
independent per-restart losses; the best restart is kept. ``n`` training points, ``d`` inputs.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch

from gpu_bo.exceptions import FitWarning
from gpu_bo.kernels.conditional import as_cat, is_conditional, masked_pair_diffs
from gpu_bo.kernels.reference import MATERN52_DS, kernel_matrix, matern52, matern52_terms
from gpu_bo.surrogate.gp import NOISE_FLOOR, FittedGP, GPParams, _condition
from gpu_bo.surrogate.output_warp import warp_targets
from gpu_bo.surrogate.prior import RawBlocks, add_neg_log_prior_grad, lengthscale_loc, log_prior

__all__ = ["FitOptions", "fit_gp", "pairwise_sq_diffs"]

POLISH_MAX_POINTS = 256  # cold fits on at most this many points polish their best restart (_fit_params)
# cold L-BFGS fits on more points screen their restarts on this many, then fit the best one on all (_screened)
SCREEN_POINTS = 128
_LOG2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class FitOptions:
    """Options of the hyperparameter fit.

    Attributes:
        restarts: number of random restarts fitted together as one batch (a cold L-BFGS fit on
            more than ``SCREEN_POINTS`` points fits them on a subset of that size, then the best
            one alone on all the fit points).
        max_iter: optimizer iterations (L-BFGS on CPU, Adam steps on CUDA).
        warm_max_iter: iterations when warm-started from the previous fit.
        warm_restarts: restarts when warm-started: the previous optimum, the default start and
            random ones beyond two (one alone got stuck in an early Hartmann6 ablation).
        method: "auto" (L-BFGS on CPU, fixed-step Adam on CUDA: no host sync per step),
            "lbfgs" or "adam".
        max_fit_points: hyperparameters are fitted on at most this many observations (the
            best 20% and a seeded random rest); the GP is then conditioned on all of them.
            Fitting cost grows as n^3 per step while hyperparameters settle with a few hundred
            points, so this bounds the fit time as the study grows.
        adam_steps, warm_adam_steps: Adam steps of a cold and of a warm-started fit (CUDA).
            The warm fit is short (at large n it was a large share of a GPU suggestion,
            benchmarks/results/scaling.md): it starts at the previous, slowly moving optimum.
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


class _NegMLLCore(torch.autograd.Function):
    """``0.5 r^T K^-1 r + 0.5 log|K|`` per batch element, with a hand-written backward.

    Autograd through ``cholesky`` + ``solve_triangular`` costs several n^3 triangular solves in
    backward; the closed form ``dK = 0.5 (K^-1 - a a^T)`` needs one ``cholesky_inverse``. A failed factorization gives +inf for that
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
    columns; a conditional ``cat`` applies its rule, kernels/conditional.py), or None past 256 MB.

    Precomputed once per fit: each MLL evaluation builds ``r^2 = D @ inv_ls^2`` with one GEMM.
    """
    n, d = X.shape
    if n * n * d * X.element_size() > (256 << 20):
        return None
    D = (X.unsqueeze(1) - X.unsqueeze(0)) ** 2
    for c in cat:
        D[..., c] = (D[..., c] > 1e-18).to(X.dtype)
    return masked_pair_diffs(D, X, cat) if is_conditional(cat) else D


def _neg_log_post_grad(raw: torch.Tensor, D: torch.Tensor, y: torch.Tensor, jitter: float,
                       need_grad: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`_neg_log_post` on precomputed pairwise differences ``D``: (value, gradient).

    Why by hand: at the sizes of a short study (n <= a few hundred) a forward + backward
    through ~40 small autograd ops is almost all per-op dispatch, and a suggestion's fit makes
    dozens of them; the closed form below needs one Cholesky inverse and two contractions with
    ``D`` (benchmarks/results/suggest_latency.md was rerun with it). tests/test_surrogate.py
    checks value and gradient against the autograd path.

    With ``G = dNLL/dK = 0.5 (K^-1 - a a^T)``, ``a = K^-1 r`` and the Matern-5/2 correlation
    ``m(s)`` of the squared scaled distance ``s = sum_k D_k / ls_k^2`` (``dm/ds = -5/6 (1 +
    sqrt5 r) exp(-sqrt5 r)``, finite at ``r = 0``):
        d/dlog ls_k = -2 / ls_k^2 * sum_ij G_ij os m'(s_ij) D_ijk,   d/dlog os = os sum(G * m),
        d/dlog noise' = noise' tr(G),   d/dc = -sum(a),   plus the priors' gradients
    (:func:`gpu_bo.surrogate.prior.add_neg_log_prior_grad`).
    A failed factorization gives +inf for that restart and a zero gradient (the closures
    zero non-finite restarts anyway), so one bad restart cannot poison the others.
    """
    n = D.shape[0]
    th = RawBlocks.split(raw)
    inv_ls2 = torch.exp(-2.0 * th.log_ls)  # R x d
    os_ = torch.exp(th.log_os)
    e_noise = torch.exp(th.log_noise)
    s = torch.einsum("ijk,rk->rij", D, inv_ls2)  # R x n x n
    m, p, ex = matern52_terms(s)
    K = os_.view(-1, 1, 1) * m
    K.diagonal(dim1=-2, dim2=-1).add_((NOISE_FLOOR + e_noise + jitter).unsqueeze(-1))
    L, info = torch.linalg.cholesky_ex(K)
    ok = info == 0
    eye = torch.eye(n, dtype=K.dtype, device=K.device)
    L = torch.where(ok.view(-1, 1, 1), L, eye)  # placeholder factor for failed restarts
    r = y.unsqueeze(0) - th.c.unsqueeze(-1)  # R x n
    a = torch.cholesky_solve(r.unsqueeze(-1), L).squeeze(-1)
    nll = 0.5 * (r * a).sum(-1) + torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1) + 0.5 * n * _LOG2PI
    val = torch.where(ok, (nll - log_prior(th)) / n, torch.full_like(nll, float("inf")))
    if not need_grad:
        return val, None
    G = 0.5 * (torch.cholesky_inverse(L) - a.unsqueeze(-1) * a.unsqueeze(-2))  # R x n x n
    P = G * (MATERN52_DS * p * ex)  # G * dm/ds
    g_nll = RawBlocks(-2.0 * inv_ls2 * os_.unsqueeze(-1) * torch.einsum("rij,ijk->rk", P, D),
                      os_ * (G * m).sum((-2, -1)), e_noise * torch.diagonal(G, dim1=-2, dim2=-1).sum(-1),
                      -a.sum(-1))
    grad = add_neg_log_prior_grad(g_nll, th).cat() / n
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
    n = X.shape[0]
    th = RawBlocks.split(raw)
    inv_ls = torch.exp(-th.log_ls)
    os_ = torch.exp(th.log_os)
    noise = NOISE_FLOOR + torch.exp(th.log_noise)
    if D is not None:
        d2 = torch.einsum("ijk,rk->rij", D, inv_ls * inv_ls)  # R x n x n
        K = os_.view(-1, 1, 1) * matern52(d2)
    else:
        K = kernel_matrix(X.unsqueeze(0), X.unsqueeze(0), inv_ls, os_, cat)  # R x n x n
    K = K + torch.diag_embed((noise + jitter).unsqueeze(-1).expand(-1, n))
    r = y.unsqueeze(0) - th.c.unsqueeze(-1)  # R x n
    mll = -_NegMLLCore.apply(K, r) - 0.5 * n * _LOG2PI
    return -(mll + log_prior(th)) / n


def _initial_raw(d: int, R: int, warm: GPParams | None, gen: torch.Generator, device, dtype) -> torch.Tensor:
    loc = lengthscale_loc(d)
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
    # Fixed step count and no .item(): on CUDA the whole loop is queued without a host sync. The
    # fused Adam is one kernel per step instead of ~10 (benchmarks/results/op_count.md).
    raw = raw.clone().requires_grad_(True)
    try:  # fused Adam may not be built for this device/dtype
        opt = torch.optim.Adam([raw], lr=lr, fused=True)
    except (RuntimeError, ValueError):
        opt = torch.optim.Adam([raw], lr=lr)
    for _ in range(steps):
        if value_grad is not None:  # the loss itself is not needed: zero the failed restarts' rows only
            losses, grad = value_grad(raw.detach())
            raw.grad = grad.masked_fill_(~torch.isfinite(losses).unsqueeze(-1), 0.0).nan_to_num_(0.0, 0.0, 0.0)
        else:
            _, raw.grad = _loss_and_grad(raw, closure_loss, None)
        opt.step()
    return raw.detach()


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


def _objective(X: torch.Tensor, y: torch.Tensor, cat: tuple[int, ...], jitter: float, D: torch.Tensor | None):
    """The fit's ``(loss_fn, value_grad)`` on ``X``, ``y``: the loss per restart, and its closed-form
    value and gradient where the pairwise differences ``D`` fit in memory (else None: autograd)."""
    def loss_fn(raw: torch.Tensor) -> torch.Tensor:
        return _neg_log_post(raw, X, y, cat, jitter, D)

    value_grad = None if D is None else (lambda raw: _neg_log_post_grad(raw, D, y, jitter))
    return loss_fn, value_grad


def _screened(raw0: torch.Tensor, X: torch.Tensor, ys: torch.Tensor, cat: tuple[int, ...], max_iter: int,
              gen: torch.Generator) -> torch.Tensor | None:
    """The best of ``raw0``'s restarts fitted on a :data:`SCREEN_POINTS` subset (``1 x p``), or None
    when that fails. Why: R restarts at n points cost R n^3 per step; on 128 points they
    pick the same basin for a fraction of it (benchmarks/results/fit_screen_ab.md), and the one
    full-size fit that follows is a polish (the batched line search no longer holds it back)."""
    Xs, yss = _fit_subset(X, ys, SCREEN_POINTS, gen)
    loss_fn, value_grad = _objective(Xs, yss, cat, 0.0, pairwise_sq_diffs(Xs, cat))
    try:
        raw = _run_lbfgs(raw0, loss_fn, max_iter, value_grad)
        with torch.no_grad():
            losses = torch.nan_to_num(loss_fn(raw), nan=float("inf"))
    except (RuntimeError, FloatingPointError):
        return None
    best = int(torch.argmin(losses))
    return raw[best:best + 1] if bool(torch.isfinite(losses[best])) else None


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
    screened = None
    if method == "lbfgs" and warm is None and R > 1 and Xf.shape[0] > SCREEN_POINTS:
        screened = _screened(raw0, Xf, yf, cat, options.max_iter, gen)
    if screened is not None:  # the full-size fit then starts near its optimum: a warm fit's iterations
        raw0 = screened
        info["screened_on"] = SCREEN_POINTS
    D = pairwise_sq_diffs(Xf, cat)
    for jitter in (0.0, 1e-6, 1e-4):
        loss_fn, value_grad = _objective(Xf, yf, cat, jitter, D)
        try:
            if method == "lbfgs":
                iters = options.warm_max_iter if warm is not None or screened is not None else options.max_iter
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
                # The batched L-BFGS shares one line search across restarts, so the worst-conditioned
                # restart limits the best one (worst with noise at its floor): a cold fit polishes
                # the best restart alone. Warm fits start at the previous optimum; large fit sets
                # skip it (a large share of a cold fit there, benchmarks/results/scaling.md).
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


# past this magnitude the squares inside a standard deviation overflow float64 (1e154 squared)
_HUGE = 1e150


def standardize(y: torch.Tensor) -> tuple[float, float, torch.Tensor]:
    """``(y_mean, y_std, (y - y_mean) / y_std)`` of ``n`` finite raw targets.

    A constant objective keeps ``y_std = 1`` (nothing to standardize). Targets past ``_HUGE``
    (objectives of 1e300 and the like) are first divided by their largest magnitude, so that
    neither the variance nor ``y - y_mean`` overflows; smaller ones take the direct path.

    Args:
        y: ``n`` raw targets.

    Returns:
        The mean and standard deviation (raw units, finite) and the ``n`` standardized targets.
    """
    n = y.shape[0]
    scale = float(y.abs().max()) if n else 0.0
    if scale <= _HUGE:
        y_mean = float(y.mean())
        y_std = float(y.std()) if n > 1 else 1.0
        if not math.isfinite(y_std) or y_std == 0.0 or y_std <= 1e-10 * abs(y_mean):
            y_std = 1.0  # a constant objective: nothing to standardize
        return y_mean, y_std, (y - y_mean) / y_std
    z = y / scale  # in [-1, 1]: its moments cannot overflow, nor can they once scaled back
    m = float(z.mean())
    sd = float(z.std()) if n > 1 else 0.0
    if sd == 0.0 or sd <= 1e-10 * abs(m):
        sd = 1.0  # constant (to within rounding) at this scale: the differences stay tiny
    return m * scale, sd * scale, (z - m) / sd


def fit_gp(X: torch.Tensor, y: torch.Tensor, cat: tuple[int, ...] = (), *, options: FitOptions = FitOptions(),
           warm: GPParams | None = None, seed: int = 0, optimize: bool = True,
           output_warp: str = "off") -> FittedGP:
    """Fit a GP to ``n x d`` inputs and ``n`` raw targets (larger = better, finite).

    Several restarts are optimized together as one batched problem. Never raises on numerical
    trouble: it falls back to more jitter, then to default hyperparameters, with a FitWarning.
    ``optimize=False`` with ``warm`` keeps those hyperparameters and only conditions on the data.

    Args:
        X: ``n x d`` training inputs in the unit cube.
        y: ``n`` raw targets; the GP standardizes them (see :class:`FittedGP`'s units).
        cat: categorical columns of ``X`` (a ``kernels.conditional.Columns`` on a conditional space).
        options: the fit's options (:meth:`FitOptions.for_device` gives the defaults).
        warm: the previous optimum, used as one restart (or kept, with ``optimize=False``).
        seed: seed of the random restarts and of the fit subset.
        optimize: whether to optimize the hyperparameters at all.
        output_warp: the warp of the standardized targets (:mod:`gpu_bo.surrogate.output_warp`).

    Returns:
        The GP on all ``n`` points (float32 data: fitted in float64, stored in float32, ``_condition``).
    """
    d, device, dtype = X.shape[1], X.device, X.dtype
    y_mean, y_std, ys = standardize(y.to(torch.float64))  # then warp and fit in float64 (fragile in float32)
    warp, ys = warp_targets(ys, output_warp)
    if not optimize and warm is not None and warm.lengthscale.numel() == d:
        # keep the last hyperparameters: no restarts, no fit subset, only the conditioning below
        params, jitter, info = warm.to(device, dtype), 0.0, {"method": "kept", "restarts": 0}
    else:
        params, jitter, info = _fit_params(X.to(torch.float64), ys, as_cat(cat), options, warm, seed)
        params = params.to(device, dtype)
    ys = ys.to(dtype)
    L, alpha, Kinv, jitter = _condition(X, ys, params, cat, jitter)
    return FittedGP(X=X, y=ys, y_mean=y_mean, y_std=y_std, params=params, cat=as_cat(cat), L=L,
                    alpha=alpha, Kinv=Kinv, jitter=jitter, info={**info, "output_warp": warp and warp.kind}, warp=warp)

