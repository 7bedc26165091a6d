"""Device and dtype policy.

``"auto"`` picks CUDA when a CUDA device is usable, else the CPU. Computation is float64 by
default (GP hyperparameter fitting and Cholesky factors are fragile in float32).

CPU threads: BO-sized torch work (n <= a few thousand) is dominated by many small ops, and on
small machines torch's default of one thread per core oversubscribes and runs several times
slower (``benchmarks/results/suggest_latency_contended.md``; Optuna saw the same, optuna#6753).
``cpu_threads`` caps the threads for the duration of one suggestion and restores them after.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator

import torch

from gpu_bo.exceptions import DeviceWarning

__all__ = ["resolve_device", "resolve_dtype", "cpu_threads", "is_oom", "DEFAULT_DTYPE"]

DEFAULT_DTYPE = torch.float64

# Up to this many observations a CPU suggestion runs on one thread: several threads win a little
# on an idle machine but collapse as soon as other processes share the cores, while one thread
# degrades gracefully (benchmarks/results/suggest_latency.md, suggest_latency_contended.md).
# Users who own an idle many-core machine can set OptimizerOptions(cpu_threads=N).
SINGLE_THREAD_MAX_N = 2000


@functools.lru_cache(maxsize=None)
def _cuda_usable() -> bool:
    if not torch.cuda.is_available():
        return False
    try:
        torch.zeros(1, device="cuda").add_(1).item()
        return True
    except Exception:  # noqa: BLE001 - a broken driver must not crash "auto"
        return False


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``"auto" | "cpu" | "cuda" | "cuda:N" | torch.device`` into a ``torch.device``."""
    if device is None or device == "auto":
        return torch.device("cuda") if _cuda_usable() else torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device: got {device!r}, expected 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from None
    if dev.type == "cuda" and not _cuda_usable():
        raise ValueError(f"device: got {device!r}, but no usable CUDA device is present; use 'auto' or 'cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device: got {device!r}, expected 'auto', 'cpu' or 'cuda'")
    return dev


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype:
    if dtype is None:
        return DEFAULT_DTYPE
    table = {"float64": torch.float64, "double": torch.float64, "float32": torch.float32,
             "float": torch.float32, torch.float64: torch.float64, torch.float32: torch.float32}
    if dtype not in table:
        raise ValueError(f"dtype: got {dtype!r}, expected 'float64' or 'float32'")
    return table[dtype]


@contextlib.contextmanager
def cpu_threads(device: torch.device, n_obs: int, threads: int | None = None) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads (default: 1 when ``n_obs`` is small).

    Does nothing on CUDA. Restores the previous setting afterwards.
    """
    if device.type != "cpu":
        yield
        return
    if threads is None:
        threads = 1 if n_obs <= SINGLE_THREAD_MAX_N else torch.get_num_threads()
    before = torch.get_num_threads()
    if threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if threads != before:
            torch.set_num_threads(before)


def is_oom(err: BaseException) -> bool:
    """True for a CUDA (or CPU allocator) out-of-memory error."""
    if isinstance(err, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(err, RuntimeError) and "out of memory" in str(err).lower()


def warn_fallback(what: str, err: BaseException) -> None:
    warnings.warn(f"{what} ran out of memory on the GPU ({type(err).__name__}); retrying on the CPU",
                  DeviceWarning, stacklevel=3)
