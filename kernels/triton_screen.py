"""Fused screening kernel: GP posterior mean/variance and analytic acquisition in one pass (Triton).

The hot path of acquisition maximization scores ``N`` candidates (a million on a GPU) with the
fitted GP. The plain-torch reference (``reference.screen``) materializes the ``chunk x n``
cross-covariance ``Ks`` and multiplies it with the ``n x n`` ``K^-1``: memory traffic of a few
``chunk x n`` matrices per chunk and a ``chunk x n`` scratch footprint. This kernel computes the
same numbers without ever writing ``Ks`` to memory, flash-attention style: each program owns a
tile of ``BLOCK_M`` candidates, recomputes Matern-5/2 tiles of ``Ks`` on the fly and keeps only
``BLOCK_M x BLOCK_J`` accumulators in registers. Only the ``N`` results reach global memory.

Glossary (BoTorch's shape grammar, as in ``reference.py``):
    N, n, d   candidates, training observations, encoded columns
    Xc        N x d candidates;  X  n x d training inputs
    alpha     n      K^-1 (y - c)
    F         n x n  lower-triangular factor with ``F F^T = K^-1`` (Cholesky of K^-1)

Why a triangular factor instead of ``K^-1`` (the design choice the issue asks to justify):
the variance needs ``q_i = Ks_i K^-1 Ks_i^T`` per candidate row. With ``K^-1`` directly, each
output column block of ``Ks K^-1`` needs a full sweep over all ``n`` columns of ``Ks``, and the
product must then be multiplied elementwise by the matching ``Ks`` block: ``2 N n^2`` flops.
With ``K^-1 = F F^T`` and ``F`` lower triangular, ``q_i = |Ks_i F|^2``, and column block ``j``
of ``W = Ks F`` only needs the ``Ks`` columns ``k >= j`` (``F[k, j] = 0`` for ``k < j``): half the
flops, one register accumulator, and the squared norm is summed as each ``W`` block finishes
(``W`` is never stored either). The first column block sweeps all ``k``, so the mean ``Ks alpha``
is accumulated during it at no extra kernel evaluations. ``F`` costs one ``n^3/3`` Cholesky per
fitted GP (small next to screening, since N >> n), cached per ``K^-1`` tensor. The price of the
tiling is that ``Ks`` tiles are recomputed once per ``W`` column block (a ``BLOCK_D / BLOCK_J``
flop overhead, ``BLOCK_D`` = d rounded up to a power of two, plus one ``exp``/``sqrt`` per
element), the same trade flash attention makes. Numerically ``os - |Ks F|^2`` is no worse than
the reference's ``os - rowsum((Ks K^-1) * Ks)``: on ill-conditioned test GPs (candidates on top of
training points) it was the closer of the two to the triangular-solve variance
``os - |L^-1 Ks^T|^2`` (``tests/test_kernels.py`` checks such candidates).

The distance uses the reference's ``|a|^2 + |b|^2 - 2 a.b`` form (a tensor-core dot over the
continuous columns) plus a Hamming term over the categorical columns, so it agrees with
``reference.sq_dist`` to rounding.

Log EI and log PI are evaluated in the kernel with a stable ``log(phi(u) + u Phi(u))``: direct
for ``u > -2`` (where ``Phi`` from ``erf`` has full relative accuracy) and, for ``u <= -2``,
``log phi(u) + log g - log(t + g)`` with ``t = -u`` and ``g = 1/R(t) - t`` from Laplace's
continued fraction for the Mills ratio ``R``. Every term of that fraction is positive, so unlike
``1 - t R(t)`` nothing cancels, and it is accurate down to ``u ~ -1e150`` in float64. Log PI
reuses the fraction: ``log Q(t) = log phi(t) - log(t + g)`` for the tails, ``log(1 - Q)`` by a
short series for ``u >= 2``, ``log`` of the ``erf`` form in between. (Triton's
libdevice ``erfcx`` would also do, but the CPU interpreter used in CI cannot run libdevice calls.)

Block sizes are fixed per dtype and have NOT yet been tuned on a GPU (none was available when
this was written); ``triton.autotune`` is not used because its key would change with ``n`` on
every trial of a study and re-tune each time.
"""

from __future__ import annotations

import math
import os
import weakref
from contextlib import nullcontext as _nullcontext
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from gpu_bo.kernels.reference import DEFAULT_KAPPA

try:  # triton is optional: the package works (with the reference kernels) without it
    import triton
    import triton.language as tl

    HAVE_TRITON = True
except Exception:  # noqa: BLE001 - any import failure (missing, broken CUDA toolchain) means "no triton"
    triton = None
    tl = None
    HAVE_TRITON = False

__all__ = ["HAVE_TRITON", "UnsupportedInput", "BlockConfig", "interpreting", "kinv_factor", "screen_fused",
           "posterior_mean_var_fused", "log_ei_fused", "KINDS"]

KINDS = {"ei": 0, "pi": 1, "ucb": 2}
_KIND_MEAN_VAR = 3
# Laplace continued-fraction terms for the Mills ratio at t >= 2: enough for float64 accuracy there,
# since the error is largest at t = 2 and falls quickly as t grows (tests/test_kernels.py checks log EI
# against botorch down to u = -1e100).
CF_TERMS = 100


class UnsupportedInput(ValueError):
    """The inputs are valid for the reference but not for the fused kernel (shapes, dtypes, devices)."""


def interpreting() -> bool:
    """True when Triton runs kernels through its CPU interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


@dataclass(frozen=True)
class BlockConfig:
    """Tile sizes of the fused kernel (each a power of two, at least 16 for ``tl.dot``).

    Attributes:
        block_m: candidates per program.
        block_j: columns of ``W = Ks F`` accumulated in registers at once.
        block_k: training points per inner step (``block_j`` must be a multiple of it).
        block_d: encoded columns per step of the distance dot product.
        num_warps: warps per program on the GPU (ignored by the interpreter).
        fp32_precision: ``tl.dot`` input precision for float32 inputs. ``"tf32x3"`` (three TF32
            tensor-core products, about float32 accuracy) by default; ``"ieee"`` is exact float32
            on CUDA cores; plain ``"tf32"`` (10-bit mantissa) is too coarse for the variance's
            cancellation. float64 always uses ``"ieee"`` (fp64 tensor cores on sm_80+).
    """

    block_m: int = 64
    block_j: int = 64
    block_k: int = 32
    block_d: int = 32
    num_warps: int = 8
    fp32_precision: str = "tf32x3"

    def __post_init__(self) -> None:
        for name in ("block_m", "block_j", "block_k", "block_d"):
            v = getattr(self, name)
            if v < 16 or v & (v - 1):
                raise ValueError(f"BlockConfig.{name}: got {v}, expected a power of two >= 16")
        if self.fp32_precision not in ("ieee", "tf32x3", "tf32"):
            raise ValueError(f"BlockConfig.fp32_precision: got {self.fp32_precision!r}, expected 'ieee', "
                             "'tf32x3' or 'tf32'")
        if self.block_j % self.block_k:
            raise ValueError(f"BlockConfig.block_j: got {self.block_j}, expected a multiple of "
                             f"block_k={self.block_k}")


# Not yet timed on a GPU (see module docstring). Chosen from ptxas resource usage of an sm_90
# cross-compile (no GPU needed), taking the widest W block (fewest Ks recomputations) that does
# not spill: float64 64/64/32/32 with 8 warps takes 175 registers (128-wide tiles hit the
# 255-register cap and spill); float32 (3xTF32) 64/128/32/32 takes 191.
DEFAULT_CONFIGS = {
    torch.float64: BlockConfig(64, 64, 32, 32, 8),
    torch.float32: BlockConfig(64, 128, 32, 32, 8),
}


if HAVE_TRITON:
    _SQRT5: tl.constexpr = tl.constexpr(math.sqrt(5.0))
    _INV_SQRT2: tl.constexpr = tl.constexpr(1.0 / math.sqrt(2.0))
    _LOG_SQRT_2PI: tl.constexpr = tl.constexpr(0.5 * math.log(2.0 * math.pi))

    @triton.jit
    def _log_phi(u):
        """log of the standard normal density."""
        return -0.5 * u * u - _LOG_SQRT_2PI

    @triton.jit
    def _mills_g(t, N_TERMS: tl.constexpr):
        """``g(t) = 1 / R(t) - t`` for ``t >= 2`` (R: Mills ratio) by Laplace's continued fraction.

        ``1/R(t) = t + 1/(t + 2/(t + 3/(t + ...)))``, evaluated backwards from ``N_TERMS``.
        """
        v = tl.zeros_like(t)
        for i in tl.static_range(N_TERMS - 1):
            v = (N_TERMS - i) / (t + v)
        return 1.0 / (t + v)

    @triton.jit
    def _log1m(q):
        """``log(1 - q)`` for ``0 <= q <= 1/2``, accurate for tiny ``q`` (no libdevice log1p).

        Below 0.01 the Taylor series to ``q^8`` (truncation < 1e-16 relative), above it the
        plain log (its absolute error 1e-16 is then below 1e-14 relative).
        """
        series = -q * (1.0 + q * (1.0 / 2.0 + q * (1.0 / 3.0 + q * (1.0 / 4.0 + q * (
            1.0 / 5.0 + q * (1.0 / 6.0 + q * (1.0 / 7.0 + q * (1.0 / 8.0))))))))
        return tl.where(q < 0.01, series, tl.log(1.0 - q))

    @triton.jit
    def _log_ei_log_pi(u, N_TERMS: tl.constexpr):
        """``(log(phi(u) + u Phi(u)), log Phi(u))``, both stable for very negative ``u``."""
        # direct branch, full accuracy for u > -2
        ud = tl.maximum(u, -2.0)
        Phi = 0.5 * (1.0 + tl.erf(ud * _INV_SQRT2))
        log_ei_direct = tl.log(tl.exp(_log_phi(ud)) + ud * Phi)
        log_pi_direct = tl.log(Phi)
        # tail branch, |u| >= 2: phi(u) + u Phi(u) = phi(u) * g / (t + g) with t = -u, and the
        # normal tail Q(t) = phi(t) / (t + g(t)); one continued fraction serves both signs.
        t = tl.maximum(tl.abs(u), 2.0)
        g = _mills_g(t, N_TERMS)
        log_tail = _log_phi(t) - tl.log(t + g)  # log Q(|u|)
        log_ei_tail = _log_phi(t) + tl.log(g) - tl.log(t + g)
        log_ei = tl.where(u > -2.0, log_ei_direct, log_ei_tail)
        log_pi = tl.where(u <= -2.0, log_tail,
                          tl.where(u >= 2.0, _log1m(tl.exp(log_tail)), log_pi_direct))
        return log_ei, log_pi

    @triton.jit
    def _log_ei_kernel(u_ptr, ei_ptr, pi_ptr, N, BLOCK: tl.constexpr, N_TERMS: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < N
        u = tl.load(u_ptr + offs, mask=mask, other=0.0)
        log_ei, log_pi = _log_ei_log_pi(u, N_TERMS)
        tl.store(ei_ptr + offs, log_ei, mask=mask)
        tl.store(pi_ptr + offs, log_pi, mask=mask)

    @triton.jit
    def _screen_kernel(Xc_ptr, X_ptr, Xw_ptr, xn_ptr, F_ptr, alpha_ptr, wc_ptr, cat_ptr, wcat2_ptr, scal_ptr,
                       out_ptr, var_ptr, N, n, d, n_cat,
                       KIND: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_J: tl.constexpr,
                       BLOCK_K: tl.constexpr, BLOCK_D: tl.constexpr, ONE_D: tl.constexpr,
                       N_TERMS: tl.constexpr, PRECISION: tl.constexpr):
        """One program scores ``BLOCK_M`` candidates; see the module docstring for the scheme.

        ``Xw = X * wc`` and ``xn = |Xw_k|^2`` are precomputed (``n x d``, ``n``); ``wc`` holds the
        inverse lengthscales with categorical columns zeroed (``d``); ``X`` is read only for the
        categorical columns; ``cat``/``wcat2`` the categorical column indices and
        their squared inverse lengthscales; ``scal`` = [outputscale, mean_const, best_f + xi,
        kappa, variance floor] as a device tensor (Python floats would be passed as float32).
        """
        dtype = Xc_ptr.dtype.element_ty
        pid = tl.program_id(0)
        offs_m = pid * BLOCK_M + tl.arange(0, BLOCK_M)
        m_mask = offs_m < N
        row_m = offs_m.to(tl.int64) * d  # int64: N * d can pass 2^31 for big screens
        outputscale = tl.load(scal_ptr)
        mean_const = tl.load(scal_ptr + 1)

        # squared norms of the scaled candidates, |Xc_i * wc|^2
        an = tl.zeros([BLOCK_M], dtype=dtype)
        for d0 in range(0, d, BLOCK_D):
            offs_d = d0 + tl.arange(0, BLOCK_D)
            d_mask = offs_d < d
            w = tl.load(wc_ptr + offs_d, mask=d_mask, other=0.0)
            a = tl.load(Xc_ptr + row_m[:, None] + offs_d[None, :],
                        mask=m_mask[:, None] & d_mask[None, :], other=0.0) * w[None, :]
            an += tl.sum(a * a, 1)
        if ONE_D:  # d <= BLOCK_D: the scaled candidate tile stays in registers for the whole program
            offs_d = tl.arange(0, BLOCK_D)
            w = tl.load(wc_ptr + offs_d, mask=offs_d < d, other=0.0)
            a_all = tl.load(Xc_ptr + row_m[:, None] + offs_d[None, :],
                            mask=m_mask[:, None] & (offs_d < d)[None, :], other=0.0) * w[None, :]

        mean = tl.zeros([BLOCK_M], dtype=dtype)
        quad = tl.zeros([BLOCK_M], dtype=dtype)  # Ks K^-1 Ks^T = |Ks F|^2
        for j0 in range(0, n, BLOCK_J):
            offs_j = j0 + tl.arange(0, BLOCK_J)
            j_mask = offs_j < n
            acc = tl.zeros([BLOCK_M, BLOCK_J], dtype=dtype)
            for k0 in range(j0, n, BLOCK_K):  # F[k, j] == 0 for k < j
                offs_k = k0 + tl.arange(0, BLOCK_K)
                k_mask = offs_k < n
                row_k = offs_k.to(tl.int64) * d
                # continuous part of the squared distance: |a|^2 + |b|^2 - 2 a.b
                if ONE_D:
                    offs_d = tl.arange(0, BLOCK_D)
                    b = tl.load(Xw_ptr + row_k[:, None] + offs_d[None, :],
                                mask=k_mask[:, None] & (offs_d < d)[None, :], other=0.0)
                    ab = tl.dot(a_all, tl.trans(b), input_precision=PRECISION, out_dtype=dtype)
                else:
                    ab = tl.zeros([BLOCK_M, BLOCK_K], dtype=dtype)
                    for d0 in range(0, d, BLOCK_D):
                        offs_d = d0 + tl.arange(0, BLOCK_D)
                        d_mask = offs_d < d
                        w = tl.load(wc_ptr + offs_d, mask=d_mask, other=0.0)
                        a = tl.load(Xc_ptr + row_m[:, None] + offs_d[None, :],
                                    mask=m_mask[:, None] & d_mask[None, :], other=0.0) * w[None, :]
                        b = tl.load(Xw_ptr + row_k[:, None] + offs_d[None, :],
                                    mask=k_mask[:, None] & d_mask[None, :], other=0.0)
                        ab = tl.dot(a, tl.trans(b), ab, input_precision=PRECISION, out_dtype=dtype)
                bn = tl.load(xn_ptr + offs_k, mask=k_mask, other=0.0)
                d2 = tl.maximum(an[:, None] + bn[None, :] - 2.0 * ab, 0.0)
                # categorical columns: Hamming distance weighted by 1 / ls^2
                for ci in range(n_cat):
                    col = tl.load(cat_ptr + ci)
                    w2 = tl.load(wcat2_ptr + ci)
                    xc = tl.load(Xc_ptr + row_m + col, mask=m_mask, other=0.0)
                    xt = tl.load(X_ptr + row_k + col, mask=k_mask, other=0.0)
                    d2 += tl.where(tl.abs(xc[:, None] - xt[None, :]) > 1e-9, w2, 0.0)
                r = tl.sqrt(tl.maximum(d2, 1e-30))
                ks = outputscale * (1.0 + r * _SQRT5 + d2 * (5.0 / 3.0)) * tl.exp(r * (-_SQRT5))
                ks = tl.where(k_mask[None, :], ks, 0.0)
                if j0 == 0:  # the first column block sweeps every k: accumulate the mean here
                    al = tl.load(alpha_ptr + offs_k, mask=k_mask, other=0.0)
                    mean += tl.sum(ks * al[None, :], 1)
                f = tl.load(F_ptr + offs_k.to(tl.int64)[:, None] * n + offs_j[None, :],
                            mask=k_mask[:, None] & j_mask[None, :], other=0.0)
                acc = tl.dot(ks, f, acc, input_precision=PRECISION, out_dtype=dtype)
            quad += tl.sum(acc * acc, 1)

        mean = mean + mean_const
        var = tl.maximum(outputscale - quad, tl.load(scal_ptr + 4))
        if KIND == 3:
            tl.store(out_ptr + offs_m, mean, mask=m_mask)
            tl.store(var_ptr + offs_m, var, mask=m_mask)
        else:
            sigma = tl.sqrt(var)
            if KIND == 2:
                val = mean + tl.load(scal_ptr + 3) * sigma
            else:
                u = (mean - tl.load(scal_ptr + 2)) / sigma
                log_ei, log_pi = _log_ei_log_pi(u, N_TERMS)
                if KIND == 0:
                    val = log_ei + tl.log(sigma)
                else:
                    val = log_pi
            tl.store(out_ptr + offs_m, val, mask=m_mask)


def _require_triton() -> None:
    if not HAVE_TRITON:
        raise ImportError("the fused screening kernel needs triton (pip install 'gpu-bo[triton]')")


def _check_runnable(t: torch.Tensor, name: str) -> None:
    if t.device.type != "cuda" and not interpreting():
        raise ValueError(f"{name}: got a tensor on {t.device}, expected a CUDA tensor (or set "
                         "TRITON_INTERPRET=1 before importing triton to run on the CPU interpreter)")


# One cached factor, for the latest K^-1 tensor: (weak reference, tensor version, F). A weak
# reference (not the address) so that a new tensor at a reused address never hits; one tuple
# swapped atomically so that concurrent suggestions in threads never see half an entry.
_FACTOR_CACHE: list[tuple | None] = [None]


def kinv_factor(Kinv: torch.Tensor) -> torch.Tensor:
    """Lower-triangular ``F`` with ``F F^T = Kinv`` (``n x n``), cached per tensor and version.

    Raises:
        torch.linalg.LinAlgError: ``Kinv`` is not numerically positive definite.
    """
    entry = _FACTOR_CACHE[0]
    if entry is not None and entry[0]() is Kinv and entry[1] == Kinv._version:
        return entry[2]
    F = torch.linalg.cholesky(Kinv)
    _FACTOR_CACHE[0] = (weakref.ref(Kinv), Kinv._version, F)
    return F


def _validate(Xc: torch.Tensor, X: torch.Tensor, alpha: torch.Tensor, Kinv: torch.Tensor,
              inv_ls: torch.Tensor) -> None:
    if Xc.dim() != 2:
        raise UnsupportedInput(f"Xc: got shape {tuple(Xc.shape)}, expected N x d")
    N, d = Xc.shape
    n = X.shape[0]
    expected = {"X": (X, (n, d)), "alpha": (alpha, (n,)), "Kinv": (Kinv, (n, n)), "inv_ls": (inv_ls, (d,))}
    for name, (t, shape) in expected.items():
        if tuple(t.shape) != shape:
            raise UnsupportedInput(f"{name}: got shape {tuple(t.shape)}, expected {shape} (N={N}, n={n}, d={d})")
        if t.dtype != Xc.dtype or t.device != Xc.device:
            raise UnsupportedInput(f"{name}: got {t.dtype} on {t.device}, expected {Xc.dtype} on {Xc.device} like Xc")
    if Xc.dtype not in DEFAULT_CONFIGS:
        raise UnsupportedInput(f"Xc: got dtype {Xc.dtype}, expected torch.float64 or torch.float32")


def _launch(kind_code: int, Xc: torch.Tensor, X: torch.Tensor, alpha: torch.Tensor, Kinv: torch.Tensor,
            inv_ls: torch.Tensor, outputscale: torch.Tensor, mean_const: torch.Tensor, cat: Sequence[int],
            extras: tuple[float, float], factor: torch.Tensor | None,
            config: BlockConfig | None) -> tuple[torch.Tensor, torch.Tensor]:
    _require_triton()
    _validate(Xc, X, alpha, Kinv, inv_ls)
    _check_runnable(Xc, "Xc")
    dev, dt = Xc.device, Xc.dtype
    N, d = Xc.shape
    n = X.shape[0]
    cfg = config or DEFAULT_CONFIGS[dt]
    F = (factor if factor is not None else kinv_factor(Kinv)).to(device=dev, dtype=dt).contiguous()
    cat_idx = torch.as_tensor(sorted({int(c) for c in cat}), dtype=torch.int64, device=dev)
    if cat_idx.numel() and (int(cat_idx.min()) < 0 or int(cat_idx.max()) >= d):
        raise UnsupportedInput(f"cat: got {list(cat)}, expected column indices in [0, {d})")
    wc = inv_ls.clone()
    wc[cat_idx] = 0.0
    Xw = (X * wc).contiguous()
    xn = (Xw * Xw).sum(-1).contiguous()
    # one d block (the candidate tile then stays in registers) unless the caller fixed block_d
    block_d = cfg.block_d if config is not None or d > 64 else max(16, triton.next_power_of_2(d))
    wcat2 = (inv_ls[cat_idx] ** 2).contiguous()
    os_ = outputscale.reshape(()).to(device=dev, dtype=dt)
    scal = torch.stack([os_, mean_const.reshape(()).to(device=dev, dtype=dt),
                        torch.tensor(extras[0], dtype=dt, device=dev),
                        torch.tensor(extras[1], dtype=dt, device=dev), 1e-12 * os_])
    out = torch.empty(N, dtype=dt, device=dev)
    var = torch.empty(N if kind_code == _KIND_MEAN_VAR else 1, dtype=dt, device=dev)
    if N == 0:
        return out, var
    grid = (triton.cdiv(N, cfg.block_m),)
    with torch.cuda.device(dev) if dev.type == "cuda" else _nullcontext():  # launch on Xc's GPU
        _screen_kernel[grid](
            Xc.contiguous(), X.contiguous(), Xw, xn, F, alpha.contiguous(), wc.contiguous(), cat_idx, wcat2,
            scal, out, var, N, n, d, int(cat_idx.numel()),
            KIND=kind_code, BLOCK_M=cfg.block_m, BLOCK_J=cfg.block_j, BLOCK_K=cfg.block_k,
            BLOCK_D=block_d, ONE_D=d <= block_d, N_TERMS=CF_TERMS,
            PRECISION="ieee" if dt == torch.float64 else cfg.fp32_precision, num_warps=cfg.num_warps)
    return out, var


def screen_fused(Xc: torch.Tensor, X: torch.Tensor, alpha: torch.Tensor, Kinv: torch.Tensor,
                 inv_ls: torch.Tensor, outputscale: torch.Tensor, mean_const: torch.Tensor,
                 cat: Sequence[int], kind: str, best_f: float, xi: float = 0.0, kappa: float = DEFAULT_KAPPA, *,
                 factor: torch.Tensor | None = None, config: BlockConfig | None = None) -> torch.Tensor:
    """Fused ``reference.screen``: ``N`` acquisition values of ``N x d`` candidates, one pass.

    ``Xc``, ``X``, ``alpha``, ``Kinv``, ``inv_ls``, ``outputscale``, ``mean_const``, ``cat``,
    ``kind``, ``best_f``, ``xi`` and ``kappa`` are as in ``reference.screen`` (``kind`` in
    ``"ei"`` -> log EI, ``"pi"`` -> log PI, ``"ucb"``).

    Args:
        factor: optional lower-triangular ``F`` with ``F F^T = Kinv``; computed (and cached) if None.
        config: tile sizes; ``DEFAULT_CONFIGS[dtype]`` if None.

    Returns:
        ``N`` values on ``Xc``'s device and dtype.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: got {kind!r}, expected 'ei', 'pi' or 'ucb'")
    out, _ = _launch(KINDS[kind], Xc, X, alpha, Kinv, inv_ls, outputscale, mean_const, cat,
                     (float(best_f) + float(xi), float(kappa)), factor, config)
    return out


def posterior_mean_var_fused(Xc: torch.Tensor, X: torch.Tensor, alpha: torch.Tensor, Kinv: torch.Tensor,
                             inv_ls: torch.Tensor, outputscale: torch.Tensor, mean_const: torch.Tensor,
                             cat: Sequence[int] = (), *, factor: torch.Tensor | None = None,
                             config: BlockConfig | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fused ``reference.posterior_mean_var``: posterior mean and variance (``N`` each)."""
    return _launch(_KIND_MEAN_VAR, Xc, X, alpha, Kinv, inv_ls, outputscale, mean_const, cat,
                   (0.0, 0.0), factor, config)


def log_ei_fused(u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The kernel's ``(log(phi(u) + u Phi(u)), log Phi(u))`` on a 1-d tensor (for testing)."""
    _require_triton()
    _check_runnable(u, "u")
    if u.dim() != 1 or u.dtype not in DEFAULT_CONFIGS:
        raise ValueError(f"u: got shape {tuple(u.shape)} dtype {u.dtype}, expected a 1-d float32/float64 tensor")
    u = u.contiguous()
    ei, pi = torch.empty_like(u), torch.empty_like(u)
    if u.numel():
        block = 128
        _log_ei_kernel[(triton.cdiv(u.numel(), block),)](u, ei, pi, u.numel(), BLOCK=block, N_TERMS=CF_TERMS)
    return ei, pi
