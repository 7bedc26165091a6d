"""The fitted GP: hyperparameters, the factors every posterior call reuses, its units,
conditioning on pending points, and a BoTorch-compatible model over it.

Model (all in the standardized output space):
    y = c + f(x) + eps,  f ~ GP(0, outputscale * matern52(r)),  eps ~ N(0, noise)

Why a hand-written GP instead of BoTorch's ``SingleTaskGP``: a GPyTorch exact MLL and posterior
pay a few milliseconds of framework overhead (LinearOperator dispatch) per call, which a
suggestion of a few hundred such calls cannot afford; the same model as a handful of batched
tensor ops costs a fraction of that (benchmarks/results/suggest_latency.md, the ``botorch``
columns). BoTorch's acquisition functions run unchanged on :class:`GPModel`, and the tests
check its posterior against ``SingleTaskGP``'s with the same hyperparameters.

Glossary: ``n`` training points, ``d`` input dimensions, ``m`` new (pending) points.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.distributions import MultivariateNormal

from gpu_bo.exceptions import FitWarning
from gpu_bo.kernels.reference import kernel_matrix
from gpu_bo.surrogate.output_warp import OutputWarp

__all__ = ["FLOAT32_NOISE_REL", "NOISE_FLOOR", "FittedGP", "GPModel", "GPParams", "believe"]

NOISE_FLOOR = 1e-6  # the noise variance's lower bound (standardized units): keeps K + noise I factorable
# float32 GPs: noise + jitter is at least this fraction of the outputscale (~16 float32 ulps of
# K's diagonal: a smaller noise would not survive rounding in a float32 K). Not more: a larger
# nugget changed the posterior more than float32 rounding does (benchmarks/results/float32.md).
FLOAT32_NOISE_REL = 1e-6


@dataclass
class GPParams:
    """Fitted hyperparameters (standardized output space), as plain tensors of one restart."""

    lengthscale: torch.Tensor  # d
    outputscale: torch.Tensor  # scalar
    noise: torch.Tensor  # scalar
    mean_const: torch.Tensor  # scalar

    def to(self, device: torch.device, dtype: torch.dtype) -> GPParams:
        """The same hyperparameters on ``device`` as ``dtype``."""
        return GPParams(*(t.to(device=device, dtype=dtype) for t in
                          (self.lengthscale, self.outputscale, self.noise, self.mean_const)))

    def to_list(self) -> dict:
        """A JSON-serializable dict of plain floats (the inverse of :meth:`from_list`)."""
        return {"lengthscale": self.lengthscale.tolist(), "outputscale": float(self.outputscale),
                "noise": float(self.noise), "mean_const": float(self.mean_const)}

    @classmethod
    def from_list(cls, state: Mapping) -> GPParams:
        """Hyperparameters from :meth:`to_list`'s dict, on CPU float64.

        Raises:
            ValueError: ``state`` lacks one of the four keys.
        """
        keys = ("lengthscale", "outputscale", "noise", "mean_const")
        missing = [k for k in keys if k not in state]
        if missing:
            raise ValueError(f"gp_params: expected the keys {list(keys)}, got {sorted(state)} "
                             f"(missing {missing})")
        return cls(*(torch.tensor(state[k], dtype=torch.float64, device="cpu") for k in keys))


@dataclass
class FittedGP:
    """A GP conditioned on its data: the factors every posterior call reuses.

    Attributes:
        X: ``n x d`` training inputs.  y: ``n`` standardized targets.
        y_mean, y_std: the standardization (raw = y * y_std + y_mean without a warp).
        warp: an output warp of the standardized values (None: none): then
            raw = warp.inverse(y) * y_std + y_mean (:mod:`gpu_bo.surrogate.output_warp`).
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
    warp: OutputWarp | None = None

    @property
    def inv_ls(self) -> torch.Tensor:
        return 1.0 / self.params.lengthscale

    # the GP's units: raw values (sign-flipped so larger is better, the user's scale) and the
    # standardized values it is fitted on; callers convert through these three, nowhere else
    def to_std(self, v: float) -> float:
        """A raw value -> standardized units: ``(v - y_mean) / y_std``, then the warp if any."""
        z = (v - self.y_mean) / self.y_std
        if not math.isfinite(z) and math.isfinite(v):  # v - y_mean overflowed (values near 1e308)
            z = v / self.y_std - self.y_mean / self.y_std
        return z if self.warp is None or not math.isfinite(z) else self.warp.forward(z)

    def from_std(self, z: float) -> float:
        """A standardized value -> raw units: the inverse warp if any, then ``* y_std + y_mean``."""
        if self.warp is not None and math.isfinite(z):
            z = self.warp.inverse(z)
        return z * self.y_std + self.y_mean

    def scale_to_std(self, dv: float) -> float:
        """A raw difference (a margin such as ``xi``) -> standardized units: ``dv / y_std``
        (with a warp, the same fraction of the warped values' spread)."""
        return dv / self.y_std

    def mean_var(self, Xc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and variance of f at ``N x d`` points (standardized units).

        float32: whitened, ``V = L^-1 k``: mean ``c + V^T L^-1 (y - c)`` and variance ``os - |V|^2``,
        which keep float32's rounding relative to ``os``; the ``K^-1`` forms cancel terms of size
        ``os / noise``.
        """
        from gpu_bo.kernels.reference import posterior_mean_var

        if self.X.dtype == torch.float32:
            p = self.params
            Ks = kernel_matrix(Xc, self.X, self.inv_ls, p.outputscale, self.cat)  # N x n
            V = torch.linalg.solve_triangular(self.L, Ks.T, upper=False)  # n x N
            beta = torch.linalg.solve_triangular(self.L, (self.y - p.mean_const).unsqueeze(-1), upper=False)
            var = p.outputscale - (V * V).sum(0)
            return (V.T @ beta).squeeze(-1) + p.mean_const, var.clamp_min(1e-12 * float(p.outputscale))

        return posterior_mean_var(Xc, self.X, self.alpha, self.Kinv, self.inv_ls,
                                  self.params.outputscale, self.params.mean_const, self.cat)


def _condition(X: torch.Tensor, y: torch.Tensor, params: GPParams, cat: tuple[int, ...],
               jitter: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """Factor ``K + noise I`` (adding jitter until it succeeds) and precompute alpha, K^-1.

    A float32 GP is factored in float64 (the one O(n^3) step, where float32's rounding is
    amplified by the condition number) with its noise raised to ``FLOAT32_NOISE_REL *
    outputscale``, and the factors are stored in float32.
    """
    if X.dtype == torch.float32:
        f64 = torch.float64
        rel = FLOAT32_NOISE_REL * float(params.outputscale) - float(params.noise)
        L, alpha, Kinv, jitter = _condition(X.to(f64), y.to(f64), params.to(X.device, f64), cat,
                                            max(float(jitter), rel))
        return L.to(X.dtype), alpha.to(X.dtype), Kinv.to(X.dtype), jitter
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


def believe(gp: FittedGP, X_new: torch.Tensor) -> FittedGP:
    """Kriging believer: condition on ``m x d`` pending points as if they returned the posterior
    mean, with the same hyperparameters.

    The mean is unchanged and the variance collapses near the pending points, so an analytic
    acquisition stops proposing them or their neighbours: sequential greedy batches and
    asynchronous workers at the cost of one Cholesky factor, instead of a Monte Carlo
    acquisition at every optimizer step.

    Args:
        gp: the GP to condition.
        X_new: ``m x d`` pending points (None or ``m = 0``: ``gp`` itself is returned).

    Returns:
        A new GP on ``n + m`` points; ``gp`` is unchanged.
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
            L, alpha, Kinv = L.to(X.dtype), alpha.to(X.dtype), Kinv.to(X.dtype)
            jitter = gp.jitter
        except torch.linalg.LinAlgError:  # a pending point on top of a training point: refactor
            L, alpha, Kinv, jitter = _condition(X, y, gp.params, gp.cat, gp.jitter)
    return FittedGP(X=X, y=y, y_mean=gp.y_mean, y_std=gp.y_std, params=gp.params, cat=gp.cat, L=L,
                    alpha=alpha, Kinv=Kinv, jitter=jitter, warp=gp.warp,
                    info=dict(gp.info, believed=int(gp.info.get("believed", 0)) + int(X_new.shape[0])))


def _extend_factor(gp: FittedGP, X_new: torch.Tensor, y: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """L, alpha and K^-1 of ``gp``'s data plus ``m`` new points, by block updates.

    Written by hand because a q-point greedy batch conditions q times: refactoring costs
    O((n+m)^3) each time, which dominated large-q suggestions at large n
    (benchmarks/results/gpu_h200/scaling_gpu_targets.md), the block update O(n^2 m). With ``B = k(X, X_new)`` and the Schur complement
    ``S = k(X_new, X_new) + noise I - B^T K^-1 B``:
    ``L' = [[L, 0], [(L^-1 B)^T, chol(S)]]`` and
    ``K'^-1 = [[K^-1 + C S^-1 C^T, -C S^-1], [-S^-1 C^T, S^-1]]`` with ``C = K^-1 B``.
    """
    if gp.X.dtype == torch.float32:  # the block update in float64, as _condition (stored float32)
        f64 = torch.float64
        gp = FittedGP(X=gp.X.to(f64), y=gp.y.to(f64), y_mean=gp.y_mean, y_std=gp.y_std,
                      params=gp.params.to(gp.X.device, f64), cat=gp.cat, L=gp.L.to(f64),
                      alpha=gp.alpha.to(f64), Kinv=gp.Kinv.to(f64), jitter=gp.jitter)
        X_new, y = X_new.to(f64), y.to(f64)
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
