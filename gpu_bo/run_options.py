"""The rarer knobs of :func:`gpu_bo.optimize` (:class:`RunOptions`) and the checks of its
arguments, kept out of :mod:`gpu_bo.runner` so the run loop stays readable.

``RunOptions`` is re-exported by :mod:`gpu_bo.runner`, its documented home.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gpu_bo.acquisition import DEFAULT_KAPPA
from gpu_bo.backends import BackendOptions
from gpu_bo.backends.local import check_start_method

__all__ = ["RunOptions", "MAX_TIMEOUT", "positive_int", "check_seconds", "check_study_name", "backend_options"]

# The longest timeout (seconds) every wait accepts: poll() and select() take it in milliseconds
# as a C int, and setitimer() refuses far larger values (about 24.8 days).
MAX_TIMEOUT = (2**31 - 1) // 1000


@dataclass(frozen=True)
class RunOptions:
    """Rarely changed knobs of :func:`optimize`.

    Attributes:
        n_initial: quasi-random trials before the GP takes over (None: the optimizer's default).
        xi: EI/PI exploration margin, default 0 (None: 1% of the values' spread).
        kappa: UCB weight (default: gpu_bo.acquisition.DEFAULT_KAPPA, as the optimizer).
        strategy: the optimizer's "auto", "global" or "trust_region" (see gpu_bo.optimizer).
        optimizer_options: :class:`gpu_bo.optimizer.OptimizerOptions` (e.g.
            ``failure_policy="ignore"``).
        start_method: multiprocessing start method of the process backend (passed on in
            :class:`~gpu_bo.backends.BackendOptions`, which says more).
        worker_threads: torch threads per worker process (passed on likewise).
        sync_interval: seconds between looks at a shared storage for other processes' trials.
        prefetch: while every worker is busy, suggest a small batch ahead of time (one point at
            first; it doubles, up to a quarter of the workers, when a freed worker had to wait),
            so a freed worker starts at once. Raises worker utilization when a trial takes
            longer than a suggestion (see benchmarks/results/parallel_throughput.md), at the
            price of suggestions made without the results of the trials that free the workers.
            Ignored by the serial backend.
        backend_kwargs: options of one backend (e.g. the Ray address and resources, see
            :class:`gpu_bo.backends.ray.RayBackend`), passed on in ``BackendOptions``.
        heartbeat_interval: seconds between two heartbeats of this process's running trials in
            a shared storage (a daemon thread sends them; see :mod:`gpu_bo.heartbeat`).
        stale_after: seconds without a heartbeat after which a RUNNING trial is stale, whichever
            host runs it (its process died, its host went away); finite and greater than
            ``heartbeat_interval`` (a few intervals leave room for a busy database).
        requeue_interrupted: re-queue stale trials and the trials this run stops (Ctrl-C, an
            error of the run) as WAITING, to be re-run once with the same params and number by
            the next free worker of any process sharing the study. False: mark them FAILED (the
            behaviour before heartbeats).
    """

    n_initial: int | None = None
    xi: float | None = 0.0
    kappa: float = DEFAULT_KAPPA
    strategy: str = "auto"
    optimizer_options: Any = None
    start_method: str | None = None
    worker_threads: int | None = None
    sync_interval: float = 1.0
    prefetch: bool = False
    backend_kwargs: Mapping[str, Any] = field(default_factory=dict)
    heartbeat_interval: float = 5.0
    stale_after: float = 60.0
    requeue_interrupted: bool = True

    def __post_init__(self) -> None:
        check_start_method(self.start_method)
        for label in ("sync_interval", "heartbeat_interval", "stale_after"):
            v = getattr(self, label)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v <= MAX_TIMEOUT:
                raise ValueError(f"{label}: got {v!r}, expected a number of seconds > 0 and <= {MAX_TIMEOUT}")
        if not self.stale_after > self.heartbeat_interval:
            raise ValueError(f"stale_after: got {self.stale_after!r}, expected more seconds than "
                             f"heartbeat_interval={self.heartbeat_interval!r} (a live trial sends a heartbeat "
                             "every heartbeat_interval; a few of them should fit in stale_after)")
        if not isinstance(self.requeue_interrupted, bool):
            raise TypeError(f"requeue_interrupted: got {self.requeue_interrupted!r}, expected True or False")


def positive_int(label: str, v: Any) -> int:
    """``v`` as an int >= 1 (numpy integers included).

    Args:
        label: the parameter's name, for the error.
        v: the value received.

    Raises:
        ValueError: ``v`` is not an integer >= 1 (bools are refused).
    """
    try:
        n = operator.index(v)
    except TypeError:
        n = None
    if isinstance(v, bool) or n is None or n < 1:
        raise ValueError(f"{label}: got {v!r}, expected an int >= 1")
    return n


def check_seconds(label: str, v: Any) -> None:
    """Refuse a timeout that is not None or a number of seconds in (0, MAX_TIMEOUT].

    Args:
        label: the parameter's name, for the error.
        v: the value received.

    Raises:
        ValueError: ``v`` is not a number, not positive, infinite, NaN or over ``MAX_TIMEOUT``.
    """
    if v is None:
        return
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v <= MAX_TIMEOUT:
        why = " (use None for no limit)" if isinstance(v, numbers.Real) and math.isinf(v) else ""
        raise ValueError(f"{label}: got {v!r}, expected None or a number of seconds > 0 and <= {MAX_TIMEOUT} "
                         f"(about 24.8 days, the longest wait poll() and setitimer() accept){why}")


def check_study_name(study_name: Any) -> str:
    """The study's name: ``study_name``, or "default" for None.

    Args:
        study_name: the value given to ``optimize``.

    Raises:
        TypeError: not a str.
        ValueError: the empty string.
    """
    if study_name is None:
        return "default"
    if not isinstance(study_name, str):
        raise TypeError(f"study_name: got {study_name!r} ({type(study_name).__name__}), expected a str or None")
    if not study_name:
        raise ValueError("study_name: got '', expected a non-empty str (or None for 'default')")
    return study_name


def backend_options(options: RunOptions, trial_timeout: float | None) -> BackendOptions:
    """What the backend reads, taken from ``optimize()``'s arguments and ``RunOptions``.

    Args:
        options: the run's options.
        trial_timeout: ``optimize``'s ``trial_timeout``.
    """
    return BackendOptions(trial_timeout=trial_timeout, start_method=options.start_method,
                          worker_threads=options.worker_threads, backend_kwargs=dict(options.backend_kwargs))
