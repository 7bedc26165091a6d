"""Compute kernels of gpu_bo's hot paths (installed as ``gpu_bo.kernels``).

``reference`` holds plain-torch implementations that run on every device and serve as the
test oracles; fused Triton versions (CUDA) live beside them (``triton_screen``) and are
dispatched only where measured faster (``FUSED_MIN_WORK``, ``FUSED_MAX_N``;
``benchmarks/results/kernel_screening.md``).

``screen`` here is the dispatcher (same signature as ``reference.screen``):

* backend: ``GPU_BO_KERNELS=reference|triton|auto`` (environment variable, default ``auto``).
  ``auto`` takes the fused Triton kernel only for CUDA tensors, when triton imports, and when
  ``N * n >= FUSED_MIN_WORK`` with ``n <= FUSED_MAX_N``; everything else runs the reference. If the fused kernel fails for
  any reason other than memory (e.g. it does not compile on this GPU) under ``auto``, a warning is
  issued once and the reference is used from then on (a ``K^-1`` whose Cholesky factor fails
  sends only that call to the reference). Before its first use per device and dtype, ``auto``
  also checks the fused posterior against the reference on a few candidates (the kernel was
  developed on Triton's CPU interpreter; a GPU miscompile must not silently steer the search).
  ``triton`` forces the fused kernel (CUDA, or the CPU interpreter under ``TRITON_INTERPRET=1``),
  skips the self-check and lets its errors propagate.
* precision: ``GPU_BO_SCREEN_PRECISION=float32`` screens float64 inputs in float32 (opt-in; see
  ``PRECISION_ENV``); the values come back as float64.
* memory: candidates are processed in chunks sized to a memory budget (``chunk_size``); when a
  chunk still runs out of memory the chunk is halved and retried (down to ``MIN_CHUNK``), so a
  large screen degrades in speed instead of crashing the study. Below ``MIN_CHUNK`` the error
  propagates and the caller (the optimizer) can fall back to the CPU.

triton is imported lazily (only when the fused path is taken), so ``import gpu_bo`` never pays
for it and ``TRITON_INTERPRET`` can still be set after ``import gpu_bo``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence

import torch

from gpu_bo.device import is_oom
from gpu_bo.exceptions import DeviceWarning
from gpu_bo.kernels import reference
from gpu_bo.kernels.conditional import as_cat, is_conditional
from gpu_bo.kernels.reference import (  # noqa: F401
    DEFAULT_KAPPA,
    analytic_acq,
    kernel_matrix,
    matern52,
    posterior_mean_var,
    sq_dist,
)

__all__ = ["analytic_acq", "kernel_matrix", "matern52", "posterior_mean_var", "screen", "sq_dist",
           "select_backend", "chunk_size", "BACKEND_ENV", "PRECISION_ENV", "FUSED_MIN_WORK", "FUSED_MAX_N",
           "MIN_CHUNK"]

BACKEND_ENV = "GPU_BO_KERNELS"
_BACKENDS = ("auto", "reference", "triton")
# Opt-in: screen float64 problems in float32 (``GPU_BO_SCREEN_PRECISION=float32``). Screening
# only ranks candidates to pick the starts of the float64 local refinement, and float32 keeps
# that ranking (benchmarks/kernel_screening.py reports the top-32 overlap) while float32 tensor
# cores run several times faster than float64 ones. Off by default until measured on a GPU.
PRECISION_ENV = "GPU_BO_SCREEN_PRECISION"
_PRECISIONS = ("native", "float32")

# Where ``auto`` takes the fused kernel: N * n >= FUSED_MIN_WORK and n <= FUSED_MAX_N, the region
# where it beat the reference on a GPU; past FUSED_MAX_N the reference's one big cuBLAS GEMM
# (Ks @ K^-1) wins (benchmarks/results/kernel_screening.md). The fused kernel's memory advantage
# holds at every size; the reference bounds its memory by chunking instead.
FUSED_MIN_WORK = 10**6
FUSED_MAX_N = 500

# Chunks are never halved below this many candidates; then the out-of-memory error propagates.
MIN_CHUNK = 64

# Live ``chunk x n`` temporaries of ``reference.posterior_mean_var`` at its peak (distance
# terms, Matern factors, Ks, Ks @ Kinv, their product), counted generously.
_LIVE_MATRICES = 8
# Candidates per launch of the fused kernel: it only writes N values, so this bounds the
# output and the time between OOM checks, not a scratch matrix.
_FUSED_CHUNK = 1 << 22

_fused_broken: list[str] = []  # set once when the fused kernel failed under "auto"


def _triton_importable() -> bool:
    try:
        from gpu_bo.kernels import triton_screen
    except Exception:  # noqa: BLE001 - a broken install means "not available"
        return False
    return triton_screen.HAVE_TRITON


def select_backend(Xc: torch.Tensor, X: torch.Tensor) -> str:
    """``"triton"`` or ``"reference"`` for screening ``Xc`` (``N x d``) against ``X`` (``n x d``).

    Raises:
        ValueError: ``GPU_BO_KERNELS`` holds an unknown value.
    """
    choice = os.environ.get(BACKEND_ENV, "auto").strip().lower() or "auto"
    if choice not in _BACKENDS:
        raise ValueError(f"{BACKEND_ENV}: got {choice!r}, expected one of {', '.join(_BACKENDS)}")
    if choice != "auto":
        return choice
    if Xc.device.type != "cuda" or _fused_broken or Xc.dim() != 2 or X.shape[0] == 0:
        return "reference"
    if Xc.dtype not in (torch.float32, torch.float64):
        return "reference"
    if Xc.shape[0] * X.shape[0] < FUSED_MIN_WORK or X.shape[0] > FUSED_MAX_N:
        return "reference"
    return "triton" if _triton_importable() else "reference"


def chunk_size(n: int, device: torch.device, dtype: torch.dtype = torch.float64) -> int:
    """Candidates per reference chunk: within ``reference.default_chunk``'s budget and, on CUDA,
    within half of the GPU memory that is free right now."""
    chunk = reference.default_chunk(n, device)
    if device.type == "cuda":
        try:
            free, _ = torch.cuda.mem_get_info(device)
        except Exception:  # noqa: BLE001 - no info: keep the static budget
            return chunk
        itemsize = dtype.itemsize
        chunk = min(chunk, int(free // 2 // (_LIVE_MATRICES * itemsize * max(n, 1))))
    return max(MIN_CHUNK, chunk)


def _run_chunked(fn: Callable[[int, int], torch.Tensor], N: int, chunk: int, out: torch.Tensor) -> None:
    """``out[s:e] = fn(s, e)`` over chunks; on out-of-memory halve the chunk and retry."""
    chunk = max(1, min(chunk, N))  # halving a chunk larger than N would retry the same work
    s = 0
    while s < N:
        e = min(N, s + chunk)
        try:
            out[s:e] = fn(s, e)
        except Exception as err:  # noqa: BLE001 - only OOM is handled, the rest re-raised
            if not is_oom(err) or chunk <= MIN_CHUNK:
                raise
            chunk = max(MIN_CHUNK, chunk // 2)
            if out.device.type == "cuda":
                torch.cuda.empty_cache()
            warnings.warn(f"screening ran out of memory; retrying with {chunk} candidates per chunk",
                          DeviceWarning, stacklevel=3)
            continue
        s = e


def _screen_reference(Xc, X, alpha, Kinv, inv_ls, outputscale, mean_const, cat, acq, s, e) -> torch.Tensor:
    kind, best_f, xi, kappa = acq
    m, v = reference.posterior_mean_var(Xc[s:e], X, alpha, Kinv, inv_ls, outputscale, mean_const, cat)
    return reference.analytic_acq(m, v, kind, best_f, xi, kappa)


class FusedMismatch(RuntimeError):
    """The compiled fused kernel disagreed with the reference in its one-time self-check."""


_SELF_CHECK_ROWS = 256
_fused_checked: set[tuple[str, torch.dtype]] = set()


def _fused_mean_var(Xc, X, alpha, Kinv, inv_ls, outputscale, mean_const, cat):
    from gpu_bo.kernels.triton_screen import posterior_mean_var_fused

    return posterior_mean_var_fused(Xc, X, alpha, Kinv, inv_ls, outputscale, mean_const, cat)


def _self_check(Xc, X, alpha, Kinv, inv_ls, outputscale, mean_const, cat) -> None:
    """Once per device and dtype, compare the fused posterior with the reference on a few rows.

    The fused kernel was written and tested through Triton's interpreter; a miscompile on some
    GPU would otherwise go unnoticed and silently steer the search. Tolerances are loose (a
    broken kernel is off by O(1)); ill-conditioned GPs legitimately differ by ~1e-10.
    """
    key = (str(Xc.device), Xc.dtype)
    if key in _fused_checked:
        return
    rows = Xc[:_SELF_CHECK_ROWS]
    m, v = _fused_mean_var(rows, X, alpha, Kinv, inv_ls, outputscale, mean_const, cat)
    m0, v0 = reference.posterior_mean_var(rows, X, alpha, Kinv, inv_ls, outputscale, mean_const, cat)
    tol = 1e-6 if Xc.dtype == torch.float64 else 1e-2
    scale = float(outputscale)
    dm = float((m - m0).abs().max()) if rows.numel() else 0.0
    dv = float((v - v0).abs().max()) if rows.numel() else 0.0
    if not (dm <= tol * (scale ** 0.5 + float(m0.abs().max())) and dv <= tol * scale):  # NaN fails too
        raise FusedMismatch(f"fused kernel disagrees with the reference on {Xc.device} {Xc.dtype}: "
                            f"max |mean diff| {dm:.3g}, max |var diff| {dv:.3g}")
    _fused_checked.add(key)


def _screen_fused(Xc, X, alpha, Kinv, inv_ls, outputscale, mean_const, cat, acq, s, e) -> torch.Tensor:
    from gpu_bo.kernels.triton_screen import screen_fused

    kind, best_f, xi, kappa = acq
    return screen_fused(Xc[s:e], X, alpha, Kinv, inv_ls, outputscale, mean_const, cat, kind, best_f, xi, kappa)


def screen(Xc: torch.Tensor, X: torch.Tensor, alpha: torch.Tensor, Kinv: torch.Tensor,
           inv_ls: torch.Tensor, outputscale: torch.Tensor, mean_const: torch.Tensor,
           cat: Sequence[int], kind: str, best_f: float, xi: float = 0.0, kappa: float = DEFAULT_KAPPA,
           chunk: int | None = None) -> torch.Tensor:
    """Acquisition value of every one of ``N x d`` candidates (larger is better).

    Same contract as ``reference.screen`` (``kind``: ``"ei"`` -> log EI, ``"pi"`` -> log PI,
    ``"ucb"``); the backend is picked by ``select_backend`` and the work runs in memory-bounded
    chunks that shrink on out-of-memory errors (see the module docstring).

    Args:
        Xc: ``N x d`` candidates. X: ``n x d`` training inputs. alpha: ``n``, ``K^-1 (y - c)``.
        Kinv: ``n x n``, ``K^-1``. inv_ls: ``d``. outputscale, mean_const: scalars.
        cat: categorical column indices. kind, best_f, xi, kappa: the acquisition.
        chunk: candidates per chunk; from the memory budget (``chunk_size``) when None.

    Returns:
        ``N`` values on ``Xc``'s device and dtype.
    """
    if kind not in ("ei", "pi", "ucb"):
        raise ValueError(f"kind: got {kind!r}, expected 'ei', 'pi' or 'ucb'")
    if chunk is not None and (not isinstance(chunk, int) or chunk < 1):
        raise ValueError(f"chunk: got {chunk!r}, expected a positive int or None")
    precision = os.environ.get(PRECISION_ENV, "native").strip().lower() or "native"
    if precision not in _PRECISIONS:
        raise ValueError(f"{PRECISION_ENV}: got {precision!r}, expected one of {', '.join(_PRECISIONS)}")
    if precision == "float32" and Xc.dtype == torch.float64:
        low = [t.to(torch.float32) for t in (Xc, X, alpha, Kinv, inv_ls, outputscale, mean_const)]
        return screen(*low, cat, kind, best_f, xi, kappa, chunk).to(torch.float64)
    # a conditional space's column rule (kernels/conditional.py) exists in the reference only
    backend = "reference" if is_conditional(cat) else select_backend(Xc, X)
    N = Xc.shape[0]
    out = torch.empty(N, dtype=Xc.dtype, device=Xc.device)
    acq = (kind, float(best_f), float(xi), float(kappa))
    args = (Xc, X, alpha, Kinv, inv_ls, outputscale, mean_const, as_cat(cat), acq)
    with torch.no_grad():
        if backend == "triton":
            forced = os.environ.get(BACKEND_ENV, "auto").strip().lower() == "triton"
            try:
                if not forced:
                    _self_check(*args[:-1])
                _run_chunked(lambda s, e: _screen_fused(*args, s, e), N, chunk or _FUSED_CHUNK, out)
                return out
            except (torch.linalg.LinAlgError, ValueError):  # K^-1 not numerically PD, or inputs the
                if forced:                                    # fused kernel does not take: this call only
                    raise
            except Exception as err:  # noqa: BLE001 - auto mode falls back, forced mode re-raises
                if forced or is_oom(err):
                    raise
                _fused_broken.append(f"{type(err).__name__}: {err}")
                warnings.warn(f"fused screening kernel failed ({type(err).__name__}: {err}); "
                              "using the reference kernels from now on", DeviceWarning, stacklevel=2)
        if chunk is None:
            chunk = chunk_size(X.shape[0], Xc.device, Xc.dtype)
        _run_chunked(lambda s, e: _screen_reference(*args, s, e), N, chunk, out)
    return out
