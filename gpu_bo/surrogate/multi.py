"""Several outputs (objectives, then constraints): one GP per output, stacked as one batched model.

Glossary: ``n`` training points, ``d`` inputs, ``m`` outputs (objectives first, then constraint
values), ``b x q x d`` candidate sets (BoTorch's grammar).

Each output's hyperparameters are fitted by :mod:`gpu_bo.surrogate.fit` exactly as a single
objective's are (same priors, restarts, refit schedule and warm starts, one
:class:`~gpu_bo.surrogate.refit.RefitSchedule` per output). Why not one L-BFGS over all outputs'
restarts at once: the batched L-BFGS shares one line search across its batch, so the
worst-conditioned output would limit how far the others get (fit.py's note on polishing).
The fitted GPs are then stacked (:class:`MultiGP`, ``batch_shape = m``), and every posterior
call, BoTorch's included (:class:`MultiGPModel`), is one batched computation over the ``m``
outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.distributions import MultitaskMultivariateNormal, MultivariateNormal
from linear_operator.operators import BlockDiagLinearOperator, CholLinearOperator, TriangularLinearOperator

from gpu_bo.kernels.reference import kernel_matrix
from gpu_bo.surrogate.fit import FitOptions
from gpu_bo.surrogate.refit import RefitSchedule
from gpu_bo.surrogate.gp import FittedGP, believe

__all__ = ["MultiGP", "MultiFit", "MultiGPModel"]


@dataclass
class MultiGP:
    """``m`` fitted GPs on the same ``n x d`` inputs, with their factors stacked (``m x ...``).

    Attributes:
        gps: the per-output GPs (their units convert thresholds: ``gps[j].to_std``).
        X: ``n x d`` training inputs.
        inv_ls: ``m x d`` inverse lengthscales.
        outputscale: ``m`` output scales.
        mean_const: ``m`` constant means.
        noise: ``m`` noise variances (with jitter).
        L: ``m x n x n`` Cholesky factors of ``K + noise I``.
        Kinv: ``m x n x n`` their inverses.
        alpha: ``m x n`` ``K^-1 (y - c)``.
    """

    gps: list[FittedGP]
    X: torch.Tensor
    inv_ls: torch.Tensor
    outputscale: torch.Tensor
    mean_const: torch.Tensor
    noise: torch.Tensor
    L: torch.Tensor
    Kinv: torch.Tensor
    alpha: torch.Tensor

    @classmethod
    def stack(cls, gps: Sequence[FittedGP]) -> MultiGP:
        """Stack GPs fitted on the same inputs.

        Args:
            gps: one fitted GP per output, all on the same ``n x d`` inputs.

        Raises:
            ValueError: ``gps`` is empty or their inputs differ in shape.
        """
        gps = list(gps)
        if not gps or any(g.X.shape != gps[0].X.shape for g in gps):
            raise ValueError(f"gps: expected one or more GPs on the same inputs, got "
                             f"{[tuple(g.X.shape) for g in gps]}")
        p = [g.params for g in gps]
        return cls(gps=gps, X=gps[0].X, inv_ls=torch.stack([1.0 / q.lengthscale for q in p]),
                   outputscale=torch.stack([q.outputscale for q in p]),
                   mean_const=torch.stack([q.mean_const for q in p]),
                   noise=torch.stack([q.noise + g.jitter for q, g in zip(p, gps)]),
                   L=torch.stack([g.L for g in gps]), Kinv=torch.stack([g.Kinv for g in gps]),
                   alpha=torch.stack([g.alpha for g in gps]))

    @property
    def num_outputs(self) -> int:
        return len(self.gps)

    @property
    def cat(self) -> tuple[int, ...]:
        return self.gps[0].cat

    def mean_var(self, Xc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means and variances (``N x m`` each, standardized units) at ``N x d`` points."""
        Ks = kernel_matrix(Xc.unsqueeze(-3), self.X, self.inv_ls, self.outputscale, self.cat)  # m x N x n
        mean = (Ks @ self.alpha.unsqueeze(-1)).squeeze(-1) + self.mean_const.unsqueeze(-1)
        var = self.outputscale.unsqueeze(-1) - ((Ks @ self.Kinv) * Ks).sum(-1)
        var = torch.maximum(var, 1e-12 * self.outputscale.unsqueeze(-1))
        return mean.transpose(-1, -2), var.transpose(-1, -2)

    def believe(self, X_new: torch.Tensor | None) -> MultiGP:
        """Every output's GP conditioned on ``k x d`` points at its posterior mean (Kriging believer)."""
        if X_new is None or X_new.shape[0] == 0:
            return self
        return MultiGP.stack([believe(g, X_new) for g in self.gps])


class MultiFit:
    """Fits of ``m`` outputs with one refit schedule (and warm start) per output.

    Args:
        full_refit_every: as :class:`~gpu_bo.surrogate.refit.RefitSchedule`'s.
        refit_min_n: as :class:`~gpu_bo.surrogate.refit.RefitSchedule`'s.
        refit_growth: as :class:`~gpu_bo.surrogate.refit.RefitSchedule`'s.
    """

    def __init__(self, full_refit_every: int = 20, refit_min_n: int = 100, refit_growth: float = 0.02) -> None:
        self._args = (full_refit_every, refit_min_n, refit_growth)
        self.schedules: list[RefitSchedule] = []

    def fit(self, X: torch.Tensor, Y: torch.Tensor, cat: tuple[int, ...], *, options: FitOptions,
            seed: int) -> tuple[MultiGP, dict]:
        """Fit one GP per column of ``Y`` (``n x m`` raw targets) on ``n x d`` inputs ``X``.

        Args:
            X: ``n x d`` training inputs.
            Y: ``n x m`` raw targets, one column per output.
            cat: categorical columns of ``X``.
            options: the hyperparameter fit's options.
            seed: seed of the fits (output ``j`` uses ``seed + j``).

        Returns:
            The stacked GPs and ``{"fit_seconds", "cold_fit", "hyperparameters_fitted"}`` (sums
            and any-of over the outputs).
        """
        m = int(Y.shape[-1])
        if len(self.schedules) != m:  # a first fit, or the outputs changed: fresh schedules
            self.schedules = [RefitSchedule(*self._args) for _ in range(m)]
        gps, infos = [], []
        for j, sched in enumerate(self.schedules):
            gp, info = sched.fit(X, Y[:, j].contiguous(), cat, options=options, seed=seed + j)
            gps.append(gp)
            infos.append(info)
        info = {"fit_seconds": sum(i["fit_seconds"] for i in infos),
                "cold_fit": any(i["cold_fit"] for i in infos),
                "hyperparameters_fitted": any(i["hyperparameters_fitted"] for i in infos)}
        return MultiGP.stack(gps), info

    def state_dict(self) -> dict:
        """``{"outputs": [RefitSchedule.state_dict() per output]}``, JSON-serializable."""
        return {"outputs": [s.state_dict() for s in self.schedules]}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore :meth:`state_dict`'s warm starts.

        Raises:
            TypeError: ``state`` is not a mapping with a list under ``"outputs"``.
        """
        outs = state.get("outputs") if isinstance(state, Mapping) else None
        if not isinstance(outs, list):
            raise TypeError(f"state: expected a mapping from MultiFit.state_dict() with an 'outputs' list, "
                            f"got {state!r:.80}")
        self.schedules = []
        for s in outs:
            sched = RefitSchedule(*self._args)
            sched.load_state_dict(s)
            self.schedules.append(sched)


def _robust_cholesky(cov: torch.Tensor, scale: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
    """Lower Cholesky factors of ``batch x m x q x q`` covariances plus ``extra`` (``m``) on the diagonal.

    Jitter of ``1e-9`` times each output's scale, grown tenfold until every factor succeeds (the
    posterior covariance of near-duplicate observed points is numerically singular). Why by hand:
    GPyTorch falls back to an eigendecomposition of the whole batch when one factor fails,
    which dominated qLogNEHVI's time.
    """
    eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    for rel in (1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4):
        diag = (rel * scale + extra).unsqueeze(-1).unsqueeze(-1)
        L, info = torch.linalg.cholesky_ex(cov + diag * eye)
        if not bool((info > 0).any()):
            return L
    return torch.linalg.cholesky(cov + (1e-3 * scale + extra).unsqueeze(-1).unsqueeze(-1) * eye)


def _whiten(L: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """``L^-1 K^T`` per output: ``m x n x n`` factors, ``batch x m x r x n`` -> ``batch x m x n x r``.

    One triangular solve per output with all ``batch x r`` right-hand sides: ``torch``'s
    broadcasting would copy ``L`` per batch element (gigabytes at n = 500). Triangular solves,
    not ``K^-1``: the posterior covariance of observed points (qLogNEHVI's baseline) is nearly
    singular, and ``k K^-1 k`` loses its positive definiteness to rounding there.
    """
    m, n = K.shape[-3], K.shape[-1]
    batch, r = K.shape[:-3], K.shape[-2]
    rhs = K.reshape(-1, m, r, n).permute(1, 3, 0, 2).reshape(m, n, -1)  # m x n x (batch r)
    V = torch.linalg.solve_triangular(L, rhs, upper=False)
    return V.reshape(m, n, -1, r).permute(2, 0, 1, 3).reshape(*batch, m, n, r)


class MultiGPModel(Model):
    """A BoTorch ``Model`` with ``m`` independent outputs over a :class:`MultiGP`.

    Posteriors are in each output's standardized units. A fixed prefix of points (the baseline
    of qLogNEHVI / qLogNParEGO, which they prepend to every candidate set) can be registered with
    :meth:`cache_prefix`: its posterior covariance and ``K^-1 k(X, prefix)`` are then computed
    once, and each call only adds the candidates' rows. Written here because BoTorch's own
    ``cache_root`` needs a GPyTorch model: without it every call costs a triangular solve of
    ``n x n`` against all prefix points per candidate set.

    Args:
        mgp: the stacked GPs.
    """

    def __init__(self, mgp: MultiGP) -> None:
        super().__init__()
        self.mgp = mgp
        self._prefix: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # P, L^-1 k(X, P), cov, mean

    @property
    def num_outputs(self) -> int:
        return self.mgp.num_outputs

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size([])

    def cache_prefix(self, P: torch.Tensor | None) -> None:
        """Precompute the posterior of ``p x d`` prefix points (None: drop the cache)."""
        if P is None or P.shape[0] == 0:
            self._prefix = None
            return
        g = self.mgp
        with torch.no_grad():
            P = P.detach()
            Kpx = kernel_matrix(P, g.X, g.inv_ls, g.outputscale, g.cat)  # m x p x n
            W = _whiten(g.L, Kpx)  # m x n x p
            cov = kernel_matrix(P, P, g.inv_ls, g.outputscale, g.cat) - W.transpose(-1, -2) @ W
            mean = (Kpx * g.alpha.unsqueeze(-2)).sum(-1) + g.mean_const.unsqueeze(-1)
        self._prefix = (P, W, cov, mean)

    def _joint(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean ``batch x m x q`` and covariance ``batch x m x q x q`` at ``batch x q x d``."""
        g = self.mgp
        pre = self._prefix
        p = 0 if pre is None else pre[0].shape[0]
        use_prefix = pre is not None and X.shape[-2] > p and bool((X[..., :p, :] == pre[0]).all())
        if not use_prefix:
            Xe = X.unsqueeze(-3)  # batch x 1 x q x d
            Ks = kernel_matrix(Xe, g.X, g.inv_ls, g.outputscale, g.cat)  # batch x m x q x n
            mean = (Ks * g.alpha.unsqueeze(-2)).sum(-1) + g.mean_const.unsqueeze(-1)
            V = _whiten(g.L, Ks)
            cov = kernel_matrix(Xe, Xe, g.inv_ls, g.outputscale, g.cat) - V.transpose(-1, -2) @ V
            return mean, cov
        P, W, cov_pp, mean_p = pre
        Xn = X[..., p:, :].unsqueeze(-3)  # batch x 1 x r x d (the new rows)
        Kn = kernel_matrix(Xn, g.X, g.inv_ls, g.outputscale, g.cat)  # batch x m x r x n
        mean_n = (Kn * g.alpha.unsqueeze(-2)).sum(-1) + g.mean_const.unsqueeze(-1)
        Vn = _whiten(g.L, Kn).transpose(-1, -2)  # batch x m x r x n
        cov_np = kernel_matrix(Xn, P, g.inv_ls, g.outputscale, g.cat) - Vn @ W  # batch x m x r x p
        cov_nn = kernel_matrix(Xn, Xn, g.inv_ls, g.outputscale, g.cat) - Vn @ Vn.transpose(-1, -2)
        batch = cov_np.shape[:-3]
        top = torch.cat([cov_pp.expand(*batch, *cov_pp.shape), cov_np.transpose(-1, -2)], dim=-1)
        bottom = torch.cat([cov_np, cov_nn], dim=-1)
        mean = torch.cat([mean_p.expand(*batch, *mean_p.shape), mean_n], dim=-1)
        return mean, torch.cat([top, bottom], dim=-2)

    def posterior(self, X: torch.Tensor, output_indices=None, observation_noise=False,
                  posterior_transform=None, **kwargs) -> GPyTorchPosterior:
        """Joint posterior over ``batch x q x d`` -> mean ``batch x q x m`` (outputs independent)."""
        g = self.mgp
        mean, cov = self._joint(X)
        if output_indices is not None:
            idx = list(output_indices)
            mean, cov = mean[..., idx, :], cov[..., idx, :, :]
            noise, scale = g.noise[idx], g.outputscale[idx]
        else:
            noise, scale = g.noise, g.outputscale
        extra = noise if observation_noise is True else torch.zeros_like(noise)
        L = _robust_cholesky(cov, scale, extra)
        if mean.shape[-2] == 1:
            post = GPyTorchPosterior(MultivariateNormal(mean.squeeze(-2), CholLinearOperator(
                TriangularLinearOperator(L.squeeze(-3)))))
        else:
            cov_op = BlockDiagLinearOperator(CholLinearOperator(TriangularLinearOperator(L)), block_dim=-3)
            post = GPyTorchPosterior(MultitaskMultivariateNormal(mean.transpose(-1, -2).contiguous(), cov_op,
                                                                 interleaved=False))
        if posterior_transform is not None:
            return posterior_transform(post)
        return post

    def forward(self, X):  # pragma: no cover - not used by BoTorch's acquisition functions
        raise NotImplementedError
