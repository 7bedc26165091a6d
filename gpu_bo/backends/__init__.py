"""Trial execution backends of :func:`gpu_bo.optimize`: the interface, its options, the registry.

A backend runs trials somewhere (this thread, threads, processes, a Ray cluster) and hands
their results back; the run loop (:mod:`gpu_bo.runner`) decides what to run. Backends never
import the runner: it builds a :class:`BackendOptions` for them from ``optimize()``'s
arguments and :class:`~gpu_bo.runner.RunOptions`.

Built in: ``"serial"``, ``"thread"``, ``"process"`` (:mod:`gpu_bo.backends.local`) and
``"ray"`` (:mod:`gpu_bo.backends.ray`, imported on first use because Ray is an extra).
:func:`register_backend` adds one under a new name; ``optimize(backend=cls)`` takes a class
directly.

Every backend runs a trial with :func:`gpu_bo.objectives.execute_trial(objective, task)`,
which calls the objective with the documented calling convention and turns every outcome into
a picklable :class:`~gpu_bo.objectives.TrialResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from gpu_bo.backends.local import ProcessBackend, SerialBackend, ThreadBackend

if TYPE_CHECKING:
    from gpu_bo.objectives import TrialResult, TrialTask

__all__ = ["Backend", "BackendOptions", "SerialBackend", "ThreadBackend", "ProcessBackend", "BACKENDS",
           "register_backend", "get_backend"]

_METHODS = ("start", "free_slots", "submit", "wait", "cancel", "shutdown")


@dataclass(frozen=True)
class BackendOptions:
    """What a backend may read about how to run trials (the runner builds it).

    Attributes:
        trial_timeout: seconds a trial may run (None: no limit). The runner enforces it by
            calling :meth:`Backend.cancel`; each task also carries it as ``task.timeout``.
        start_method: multiprocessing start method of the process backend: "fork", "spawn",
            "forkserver" or None (spawn when CUDA is available, else fork where it exists).
        worker_threads: torch threads per worker process (None: 1 when forked, else
            ``cpu_count // n_workers``).
        backend_kwargs: options of one backend (e.g. the Ray address and resources; see
            :class:`gpu_bo.backends.ray.RayBackend`).
    """

    trial_timeout: float | None = None
    start_method: str | None = None
    worker_threads: int | None = None
    backend_kwargs: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """The interface the runner calls; constructed as ``cls(objective, n_workers, options)``.

    Backends satisfy it structurally (the built-in ones do not inherit from it); subclassing it
    is optional and gives the ``__init__`` below and no-op ``start``/``shutdown``. Only the
    methods are part of the protocol (so ``issubclass`` works on it).
    """

    def __init__(self, objective: Callable, n_workers: int, options: BackendOptions) -> None:
        """Store the objective, how many trials may run at once, and the options."""
        self.objective = objective
        self.n_workers = n_workers
        self.options = options

    def start(self) -> None:
        """Acquire the workers (called once, before the first :meth:`submit`)."""

    def free_slots(self) -> int:
        """How many more trials it can accept right now."""
        raise NotImplementedError

    def submit(self, task: TrialTask) -> None:
        """Start running one trial (only called while ``free_slots() > 0``)."""
        raise NotImplementedError

    def wait(self, timeout: float | None) -> list[TrialResult]:
        """Block until at least one trial finished or ``timeout`` seconds passed.

        Returns:
            The finished trials' results (possibly none). A worker that dies must come back as
            a FAILED ``TrialResult`` for the trial it ran, and the backend replaces the worker.
        """
        raise NotImplementedError

    def cancel(self, number: int) -> None:
        """Stop trial ``number`` (it passed ``trial_timeout``); its result must never be
        returned afterwards. The slot becomes free."""
        raise NotImplementedError

    def shutdown(self, kill: bool = False) -> None:
        """Release the workers; ``kill=True`` does not wait for running trials."""


BACKENDS: dict[str, type] = {"serial": SerialBackend, "thread": ThreadBackend, "process": ProcessBackend}


def register_backend(name: str, cls: type) -> None:
    """Make ``optimize(backend=name)`` use ``cls``.

    Args:
        name: the backend's name (a new one, or a built-in one to replace).
        cls: a class constructed as ``cls(objective, n_workers, options)`` with the methods of
            :class:`Backend`.

    Raises:
        ValueError: ``name`` is not a non-empty str.
        TypeError: ``cls`` lacks one of the methods the runner calls.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name: got {name!r}, expected a non-empty str")
    missing = [m for m in _METHODS if not callable(getattr(cls, m, None))]
    if missing:
        raise TypeError(f"backend {name!r}: {cls!r} lacks the method(s) {missing}; expected those of "
                        "gpu_bo.backends.Backend")
    BACKENDS[name] = cls


def get_backend(backend: str | type) -> type:
    """The backend class for a registered name (or ``backend`` itself when it is a class).

    Raises:
        ValueError: an unknown name (the message lists the known ones), or ``"ray"`` without Ray
            installed (the message says how to install it).
    """
    if isinstance(backend, type):
        return backend
    if backend == "ray" and "ray" not in BACKENDS:
        try:
            from gpu_bo.backends.ray import RayBackend
        except ImportError as e:
            raise ValueError(f"backend='ray' needs Ray: pip install 'gpu-bo[ray]' ({e})") from None
        BACKENDS["ray"] = RayBackend
    if not isinstance(backend, str) or backend not in BACKENDS:
        known = sorted({*BACKENDS, "ray"})
        raise ValueError(f"backend: got {backend!r}, expected one of {known} or a backend class")
    return BACKENDS[backend]
