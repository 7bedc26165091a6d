"""Input warping: a learned monotone Kumaraswamy warp per continuous column, fitted with the GP.

The GP is fitted on ``u = W(x)``, where ``W`` applies the Kumaraswamy CDF
``1 - (1 - x'^a)^b`` (``x' = eps + (1 - 2 eps) x``, as BoTorch's ``Warp``) to each warped
column of the unit-cube encoding and is the identity on the others (integers, categoricals).
The warp is a monotone bijection of [0, 1] per column, so the search stays in ``x``: the
acquisition is evaluated at ``W(x)`` (:class:`gpu_bo.acquisition.warped.WarpedAcq`), and
exclusion, snapping and decoding are unchanged.

The warp's ``log a``, ``log b`` are fitted jointly with the hyperparameters by MAP, batched over
the restarts with :mod:`gpu_bo.surrogate.fit`'s optimizers, on a closed-form gradient (the
warp moves the inputs, so fit.py's precomputed pairwise differences no longer apply; autograd
through the ~40 small ops costs several times more per step). Priors: ``log a, log b ~ N(0,
0.75)`` on the log scale (the scale of BoTorch's ``Warp`` priors, centred on the identity).

Glossary: ``R`` restarts, ``n`` points, ``d`` columns, ``w`` warped columns.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from gpu_bo.exceptions import FitWarning
from gpu_bo.kernels.reference import MATERN52_DS, matern52_terms, sq_dist
from gpu_bo.surrogate.fit import (
    POLISH_MAX_POINTS, FitOptions, _fit_subset, _initial_raw, _run_adam, _run_lbfgs, fit_gp, standardize,
)
from gpu_bo.surrogate.gp import NOISE_FLOOR, FittedGP, GPParams
from gpu_bo.surrogate.prior import RawBlocks, add_neg_log_prior_grad, log_prior

__all__ = ["MODES", "InputWarp", "WarpedRefit", "fit_warped_gp", "kumaraswamy", "warp_columns",
           "warped_neg_log_post"]

MODES = ("off", "on", "auto")
EPS = 1e-7  # BoTorch's Warp eps: keeps x' inside (0, 1), where the CDF's derivatives are finite
WARP_PRIOR_VAR = 0.75  # variance of log a and log b (BoTorch Warp's LogNormal(0, 0.75 ** 0.5) scale)
_LOG2PI = math.log(2 * math.pi)


def kumaraswamy(x: torch.Tensor, log_a: torch.Tensor, log_b: torch.Tensor, need_grad: bool = False
                ) -> tuple[torch.Tensor, ...]:
    """The Kumaraswamy CDF of ``x`` in [0, 1] and, optionally, its derivatives.

    Written by hand (BoTorch's ``Kumaraswamy.cdf`` is the same formula; the tests compare) for
    the closed-form derivatives in ``log a``, ``log b`` and ``x`` the fit and the acquisition need.

    Args:
        x: ``... x n x w`` inputs in [0, 1].
        log_a: ``... x w`` log concentration ``a`` (broadcast over ``n``).
        log_b: ``... x w`` log concentration ``b``.
        need_grad: also return ``du/dlog a``, ``du/dlog b`` and ``du/dx``.

    Returns:
        ``u`` (the shape of ``x`` broadcast with the parameters), and with ``need_grad`` the three
        derivatives of the same shape.
    """
    a, b = log_a.exp().unsqueeze(-2), log_b.exp().unsqueeze(-2)
    xs = EPS + (1.0 - 2.0 * EPS) * x.clamp(0.0, 1.0)
    lx = torch.log(xs)
    t = torch.exp(a * lx)  # x'^a
    one_t = (1.0 - t).clamp_min(1e-300)
    l1t = torch.log(one_t)
    pw = torch.exp(b * l1t)  # (1 - t)^b
    u = 1.0 - pw
    if not need_grad:
        return (u,)
    du_dt = b * pw / one_t
    return u, du_dt * a * lx * t, -pw * l1t * b, du_dt * a * t / xs * (1.0 - 2.0 * EPS)


@dataclass
class InputWarp:
    """A fitted warp: the Kumaraswamy ``log a``, ``log b`` of each warped column.

    Attributes:
        cols: the warped columns of the encoding.
        log_a, log_b: ``w`` log concentrations (zeros: the identity up to ``EPS``).
    """

    cols: tuple[int, ...]
    log_a: torch.Tensor
    log_b: torch.Tensor

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """``... x d`` points -> their warped copy (only the warped columns change)."""
        U = X.clone()
        c = list(self.cols)
        la, lb = self.log_a.to(X), self.log_b.to(X)
        U[..., c] = kumaraswamy(X[..., c], la, lb)[0]
        return U

    def slope(self, X: torch.Tensor) -> torch.Tensor:
        """``dW/dx`` per column at ``... x d`` points (1 on the columns it leaves alone)."""
        G = torch.ones_like(X)
        c = list(self.cols)
        G[..., c] = kumaraswamy(X[..., c], self.log_a.to(X), self.log_b.to(X), need_grad=True)[3]
        return G

    def to_list(self) -> dict:
        """A JSON-serializable dict (the inverse of :meth:`from_list`)."""
        return {"cols": list(self.cols), "log_a": self.log_a.tolist(), "log_b": self.log_b.tolist()}

    @classmethod
    def from_list(cls, state: Mapping) -> InputWarp:
        """A warp from :meth:`to_list`'s dict, on CPU float64."""
        return cls(tuple(int(c) for c in state["cols"]), torch.tensor(state["log_a"], dtype=torch.float64),
                   torch.tensor(state["log_b"], dtype=torch.float64))


def warp_columns(space) -> tuple[int, ...]:
    """The columns a warp applies to: the real dimensions of a flat space (none on a conditional one)."""
    if getattr(space, "conditional", False):
        return ()
    return tuple(i for i, dim in enumerate(space.dims.values()) if dim.kind == "real")


def _split(raw: torch.Tensor, d: int, w: int) -> tuple[RawBlocks, torch.Tensor, torch.Tensor]:
    return RawBlocks.split(raw[:, :d + 3]), raw[:, d + 3:d + 3 + w], raw[:, d + 3 + w:]


def warped_neg_log_post(raw: torch.Tensor, X: torch.Tensor, y: torch.Tensor, cat: tuple[int, ...],
                        cols: tuple[int, ...], jitter: float, need_grad: bool = True
                        ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Negative log posterior per point of GP + warp, and its gradient in closed form.

    ``raw`` is ``R x (d + 3 + 2 w)``: fit.py's ``d + 3`` block, then ``log a`` and ``log b``.
    With ``P = G * dm/ds`` (``G = dNLL/dK``, as fit.py's ``_neg_log_post_grad``), the pairwise
    terms reduce to row sums: ``sum_ij P_ij (u_ik - u_jk)^2 = 2 sum_i u_ik (u_ik P_i. - (P u)_ik)``
    and ``dNLL/du_ik = 4 os / ls_k^2 (u_ik P_i. - (P u)_ik)``, then the chain rule through the
    warp; categorical columns (indicator distances) take ``sum_ij P_ij [x_ik != x_jk]``.

    Args:
        raw: ``R x (d + 3 + 2 w)`` raw parameters.
        X: ``n x d`` inputs in the unit cube.
        y: ``n`` standardized targets.
        cat: categorical columns.
        cols: the ``w`` warped columns.
        jitter: added to the diagonal.
        need_grad: whether to compute the gradient.

    Returns:
        ``R`` losses (+inf where the factorization failed) and the ``R x (d + 3 + 2 w)`` gradient.
    """
    n, d = X.shape
    w = len(cols)
    th, la, lb = _split(raw, d, w)
    c = list(cols)
    parts = kumaraswamy(X[:, c], la, lb, need_grad)
    U = X.unsqueeze(0).expand(raw.shape[0], n, d).clone()
    U[..., c] = parts[0]
    inv_ls = torch.exp(-th.log_ls)
    os_ = torch.exp(th.log_os)
    s = sq_dist(U, U, inv_ls, cat)  # R x n x n
    m, p, ex = matern52_terms(s)
    K = os_.view(-1, 1, 1) * m
    K.diagonal(dim1=-2, dim2=-1).add_((NOISE_FLOOR + torch.exp(th.log_noise) + jitter).unsqueeze(-1))
    L, info = torch.linalg.cholesky_ex(K)
    ok = info == 0
    L = torch.where(ok.view(-1, 1, 1), L, torch.eye(n, dtype=K.dtype, device=K.device))
    r = y.unsqueeze(0) - th.c.unsqueeze(-1)
    a = torch.cholesky_solve(r.unsqueeze(-1), L).squeeze(-1)
    nll = 0.5 * (r * a).sum(-1) + torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1) + 0.5 * n * _LOG2PI
    prior = log_prior(th) - (0.5 / WARP_PRIOR_VAR) * ((la * la).sum(-1) + (lb * lb).sum(-1))
    val = torch.where(ok, (nll - prior) / n, torch.full_like(nll, float("inf")))
    if not need_grad:
        return val, None
    G = 0.5 * (torch.cholesky_inverse(L) - a.unsqueeze(-1) * a.unsqueeze(-2))
    P = G * (MATERN52_DS * p * ex)  # R x n x n, symmetric
    rows = P.sum(-1, keepdim=True)  # R x n x 1
    H = U * rows - P @ U  # R x n x d: u_ik P_i. - (P u)_ik
    inv_ls2 = inv_ls * inv_ls
    S2 = 2.0 * (U * H).sum(1)  # R x d: sum_ij P_ij (u_ik - u_jk)^2
    if cat:
        ind = torch.stack([(X[:, k].unsqueeze(1) - X[:, k].unsqueeze(0)).abs() > 1e-9 for k in cat], -1)
        S2[:, list(cat)] = torch.einsum("rij,ijk->rk", P, ind.to(P.dtype))
    g_nll = RawBlocks(-2.0 * inv_ls2 * os_.unsqueeze(-1) * S2, os_ * (G * m).sum((-2, -1)),
                      torch.exp(th.log_noise) * torch.diagonal(G, dim1=-2, dim2=-1).sum(-1), -a.sum(-1))
    g_u = 4.0 * (os_.unsqueeze(-1) * inv_ls2[:, c]).unsqueeze(1) * H[..., c]  # R x n x w
    g_la = (g_u * parts[1]).sum(1) + la / WARP_PRIOR_VAR
    g_lb = (g_u * parts[2]).sum(1) + lb / WARP_PRIOR_VAR
    grad = torch.cat([add_neg_log_prior_grad(g_nll, th).cat(), g_la, g_lb], -1) / n
    return val, torch.where(ok.unsqueeze(-1), grad, torch.zeros_like(grad))


def _initial_warp(R: int, w: int, warm: InputWarp | None, gen: torch.Generator, device, dtype) -> torch.Tensor:
    """``R x 2w``: restart 0 (and the warm one when there is none) the identity, the others random."""
    raw = torch.zeros(R, 2 * w, dtype=dtype)
    if R > 2:
        raw[1:-1] = 0.5 * torch.randn(R - 2, 2 * w, generator=gen, dtype=dtype)
    raw = raw.to(device)
    if warm is not None and warm.log_a.numel() == w:
        raw[-1] = torch.cat([warm.log_a, warm.log_b]).to(device, dtype)
    return raw


def _fit_warped_params(X: torch.Tensor, ys: torch.Tensor, cat: tuple[int, ...], cols: tuple[int, ...],
                       options: FitOptions, warm: GPParams | None, warm_warp: InputWarp | None, seed: int
                       ) -> tuple[GPParams, InputWarp, dict]:
    """MAP of hyperparameters and warp on standardized targets: (params, warp, info)."""
    d, w = X.shape[1], len(cols)
    device, dtype = X.device, X.dtype
    gen = torch.Generator().manual_seed(int(seed) % (2**63))
    R = max(1, options.warm_restarts if warm is not None else options.restarts)
    raw0 = torch.cat([_initial_raw(d, R, warm, gen, device, dtype),
                      _initial_warp(R, w, warm_warp if warm is not None else None, gen, device, dtype)], -1)
    Xf, yf = _fit_subset(X, ys, options.max_fit_points, gen)
    method = options.method if options.method != "auto" else ("adam" if device.type == "cuda" else "lbfgs")
    jitter = 0.0
    for jitter in (0.0, 1e-6, 1e-4):
        def value_grad(raw, _j=jitter):
            return warped_neg_log_post(raw, Xf, yf, cat, cols, _j)

        def loss_fn(raw, _j=jitter):
            return warped_neg_log_post(raw, Xf, yf, cat, cols, _j, need_grad=False)[0]

        try:
            if method == "lbfgs":
                raw = _run_lbfgs(raw0, loss_fn, options.warm_max_iter if warm is not None else options.max_iter,
                                 value_grad)
            else:
                steps = options.adam_steps if warm is None else max(options.warm_adam_steps, 1)
                raw = _run_adam(raw0, loss_fn, steps, options.adam_lr, value_grad)
        except RuntimeError:
            continue  # more jitter
        losses = torch.nan_to_num(loss_fn(raw), nan=float("inf"))
        best = int(torch.argmin(losses))
        if method == "lbfgs" and warm is None and R > 1 and Xf.shape[0] <= POLISH_MAX_POINTS:
            # as fit.py's cold fit: the shared line search limits the best restart, polish it alone
            polished = _run_lbfgs(raw[best:best + 1], loss_fn, options.max_iter, value_grad)
            pl = loss_fn(polished)
            if bool(torch.isfinite(pl[0])) and float(pl[0]) < float(losses[best]):
                raw, losses = raw.clone(), losses.clone()
                raw[best], losses[best] = polished[0], pl[0]
        if bool(torch.isfinite(losses[best])):
            break
    else:  # every jitter failed: the default start with the identity warp ("auto" then drops it)
        warnings.warn("warped GP fit failed at every jitter level; using the default start", FitWarning,
                      stacklevel=3)
        raw, best = raw0, 0
        losses = torch.full((R,), float("inf"), dtype=dtype, device=device)
    b = raw[best]
    params = GPParams(lengthscale=b[:d].exp(), outputscale=b[d].exp(), noise=NOISE_FLOOR + b[d + 1].exp(),
                      mean_const=b[d + 2])
    warp = InputWarp(cols, b[d + 3:d + 3 + w].detach().cpu(), b[d + 3 + w:].detach().cpu())
    return params, warp, {"method": method, "restarts": R, "loss": float(losses[best]), "jitter": jitter}


def fit_warped_gp(X: torch.Tensor, y: torch.Tensor, cat: tuple[int, ...], cols: tuple[int, ...], *,
                  options: FitOptions = FitOptions(), warm: GPParams | None = None,
                  warm_warp: InputWarp | None = None, seed: int = 0, optimize: bool = True
                  ) -> tuple[FittedGP, InputWarp]:
    """Fit warp and GP jointly to ``n x d`` inputs and ``n`` raw targets (larger = better).

    Args:
        X: ``n x d`` inputs in the unit cube.
        y: ``n`` raw targets.
        cat: categorical columns (a flat space's: conditional spaces are not warped).
        cols: the columns to warp (:func:`warp_columns`).
        options: the fit's options (restarts, iterations, fit subset), as :func:`fit_gp`'s.
        warm: the previous hyperparameters (one restart starts there, with ``warm_warp``).
        warm_warp: the previous warp.
        seed: seed of the restarts and of the fit subset.
        optimize: False keeps ``warm`` and ``warm_warp`` and only conditions on the data.

    Returns:
        The GP conditioned on the warped inputs ``W(X)`` (its ``X`` is warped: query it at
        ``W(x)``) and the warp.
    """
    d = X.shape[1]
    keep = not optimize and warm is not None and warm.lengthscale.numel() == d and warm_warp is not None
    if keep:
        warp, params, info = warm_warp, warm, {"method": "kept", "restarts": 0}
    else:
        ys = standardize(y.to(torch.float64))[2]
        params, warp, info = _fit_warped_params(X.to(torch.float64), ys, tuple(cat), tuple(cols), options,
                                                warm, warm_warp, seed)
    gp = fit_gp(warp(X), y, cat, options=options, warm=params, seed=seed, optimize=False)
    gp.info = dict(info, input_warp=warp.to_list())
    return gp, warp


class WarpedRefit:
    """Input warping's state across suggestions: the mode, the last warp, and when it is used.

    ``"on"`` fits warp + GP at every fit. ``"auto"`` fits the plain GP as without warping, then
    warp + GP warm-started from it (identity warp, or the last one), and keeps the warp only when
    its log posterior beats the plain one's by more than ``AUTO_MARGIN_PER_PARAM`` nats per warp
    parameter (an AIC-like margin: two parameters per warped column must pay for themselves).

    Args:
        mode: ``"off"``, ``"on"`` or ``"auto"`` (see docs/guide/input-warping.md).

    Raises:
        ValueError: ``mode`` is not one of :data:`MODES`.
    """

    AUTO_MARGIN_PER_PARAM = 1.0

    def __init__(self, mode: str = "off") -> None:
        if mode not in MODES:
            raise ValueError(f"input_warp: got {mode!r}, expected one of {list(MODES)}")
        self.mode = mode
        self.warp: InputWarp | None = None  # the last fitted warp (warm start)
        self.used = False  # whether the last fit kept its warp ("auto")

    def fit_fn(self, cols: tuple[int, ...], strategy: str):
        """A :func:`fit_gp`-like callable for :meth:`RefitSchedule.fit`, or None where this
        suggestion does not warp (mode "off", no real column, not the global strategy).

        After it ran, :attr:`current` is the warp the GP was fitted with (None: not warped).

        Args:
            cols: the columns to warp (:func:`warp_columns`).
            strategy: the suggestion's strategy ("global" or "trust_region").
        """
        if self.mode == "off" or not cols or strategy != "global":
            return None

        def fit(X, y, cat, *, options, warm, seed, optimize):
            prev = self.warp if warm is not None else None
            if self.mode == "on" or (not optimize and self.used and prev is not None):
                gp, self.warp = fit_warped_gp(X, y, cat, cols, options=options, warm=warm, warm_warp=prev,
                                              seed=seed, optimize=optimize)
                self.used = True
                return gp
            plain = fit_gp(X, y, cat, options=options, warm=warm, seed=seed, optimize=optimize)
            if not optimize:  # "auto" keeping an unwarped fit's hyperparameters
                self.used = False
                return plain
            ident = InputWarp(cols, torch.zeros(len(cols), dtype=torch.float64),
                              torch.zeros(len(cols), dtype=torch.float64))
            gp, warp = fit_warped_gp(X, y, cat, cols, options=options, warm=plain.params,
                                     warm_warp=prev if prev is not None else ident, seed=seed)
            gain = X.shape[0] * (plain.info.get("loss", math.inf) - gp.info["loss"])
            self.used = bool(gain > self.AUTO_MARGIN_PER_PARAM * 2 * len(cols))
            self.warp = warp if self.used else None
            (gp if self.used else plain).info["input_warp_gain"] = float(gain)
            return gp if self.used else plain

        return fit

    @property
    def current(self) -> InputWarp | None:
        """The warp of the last fit's GP (None when it was not warped)."""
        return self.warp if (self.mode == "on" or self.used) else None

    def state_dict(self) -> dict:
        """``{"warp", "used"}``, JSON-serializable (the warm start a resumed study continues from)."""
        return {"warp": None if self.warp is None else self.warp.to_list(), "used": self.used}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore :meth:`state_dict`'s keys (missing ones take their defaults)."""
        w = state.get("warp")
        self.warp = None if w is None else InputWarp.from_list(w)
        self.used = bool(state.get("used", False))
