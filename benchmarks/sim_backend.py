"""A discrete-event backend for :func:`gpu_bo.optimize`: trial durations are virtual, the
driver's time is real (issue 18.5, used by benchmarks/scale_simulation.py and
benchmarks/driver_profile.py).

:class:`SimBackend` satisfies :class:`gpu_bo.backends.Backend`. It keeps a virtual clock. The
time the driver spends between two calls into the backend (asking, telling, storage writes,
bookkeeping: everything the run loop does) is measured with ``time.perf_counter`` (or, with
``clock="cpu"``, the process's CPU time) and advances the clock; ``wait`` jumps the clock to the
next event of a running trial. An objective runs in its own thread, one at a time, and spends
virtual time with :func:`sim_sleep` (a learning curve sleeps once per step and reports); the
backend's own work and the objective's real compute are not charged (they stand for the
workers' machines). ``charge_driver=False`` charges nothing: a zero-cost driver, for the
accounting test (utilization 100% with equal durations).

Worker utilization is ``busy worker-seconds / (n_workers x wall)``, wall being the virtual time
from ``start`` to the end of the last trial.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gpu_bo.backends import BackendOptions
from gpu_bo.objectives import TrialResult, TrialTask, execute_trial

__all__ = ["SimBackend", "sim_sleep", "SimStats", "make_backend"]

_local = threading.local()


def sim_sleep(seconds: float) -> None:
    """Spend ``seconds`` of virtual time inside a simulated trial (returns when the clock is there).

    Args:
        seconds: virtual seconds (>= 0).

    Raises:
        RuntimeError: called outside a trial run by a :class:`SimBackend`.
    """
    job = getattr(_local, "job", None)
    if job is None:
        raise RuntimeError("sim_sleep: called outside a trial run by benchmarks.sim_backend.SimBackend")
    if not seconds >= 0:
        raise ValueError(f"seconds: got {seconds!r}, expected a number >= 0")
    job.yield_for(float(seconds))


def sim_now() -> float:
    """The virtual clock inside a simulated trial."""
    return _local.job.backend.clock


@dataclass
class SimStats:
    """What a simulated run measured (virtual seconds unless said otherwise).

    Attributes:
        n_workers: workers simulated.
        wall: virtual time from ``start`` to the end of the last trial.
        busy: worker-seconds spent inside trials.
        driver_seconds: driver time charged to the clock (real seconds).
        driver_cpu_seconds: the process CPU time over the same spans (real seconds).
        submitted: trial numbers in the order they were submitted.
        finished: trial numbers in the order their results were returned.
        starts: ``(virtual start time, number)`` per trial.
        spans: virtual seconds each trial ran, by number.
    """

    n_workers: int
    wall: float = 0.0
    busy: float = 0.0
    driver_seconds: float = 0.0
    driver_cpu_seconds: float = 0.0
    submitted: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    starts: list[tuple[float, int]] = field(default_factory=list)
    spans: dict[int, float] = field(default_factory=dict)

    def zero_cost_wall(self) -> float:
        """The wall a driver of zero cost would reach with the same trials in the same order
        (each starts on the first free worker): what the tail alone costs."""
        free = [0.0] * self.n_workers
        for number in self.submitted:
            t = heapq.heappop(free)
            heapq.heappush(free, t + self.spans.get(number, 0.0))
        return max(free) if self.submitted else 0.0

    @property
    def utilization(self) -> float:
        """Busy worker-seconds over ``n_workers x wall`` (1.0 when nothing ran)."""
        return 1.0 if self.wall <= 0 else self.busy / (self.n_workers * self.wall)


class _Job:
    """One simulated trial: its thread and its hand-over with the backend (one runs at a time)."""

    def __init__(self, backend: SimBackend, task: TrialTask) -> None:
        self.backend, self.task = backend, task
        self.start = backend.clock
        self.wake_at = backend.clock
        self.result: TrialResult | None = None
        self._go = threading.Semaphore(0)
        self._back = threading.Semaphore(0)
        self.thread = threading.Thread(target=self._main, daemon=True, name=f"sim-trial-{task.number}")

    def _main(self) -> None:
        _local.job = self
        self._go.acquire()
        try:
            self.result = execute_trial(self.backend.objective, self.task)
        finally:
            self._back.release()

    def yield_for(self, seconds: float) -> None:
        self.wake_at = self.backend.clock + seconds
        self._back.release()
        self._go.acquire()

    def step(self) -> None:
        """Run the trial until it sleeps again or ends (the caller waits)."""
        self._go.release()
        self._back.acquire()


class SimBackend:
    """A simulated pool of ``n_workers`` workers on a virtual clock (see the module doc).

    Args:
        objective: the objective (``objective(trial)`` calling :func:`sim_sleep`).
        n_workers: workers.
        options: the backend options (``backend_kwargs``: ``charge_driver`` (bool, default
            True), ``clock`` ("wall" or "cpu"), ``stats`` (a :class:`SimStats` to fill, so the
            caller reads it after ``optimize`` returns), ``profile`` (a ``cProfile.Profile``
            enabled from ``start`` to ``shutdown``: the loop, not the resume before it)).
    """

    def __init__(self, objective: Callable, n_workers: int, options: BackendOptions | None = None) -> None:
        kw = dict(options.backend_kwargs) if options is not None else {}
        self.objective, self.n_workers = objective, int(n_workers)
        self.charge_driver = bool(kw.get("charge_driver", True))
        self.cpu_clock = kw.get("clock", "wall") == "cpu"
        self.stats: SimStats = kw.get("stats") or SimStats(self.n_workers)
        self.stats.n_workers = self.n_workers
        self.profile = kw.get("profile")
        self.clock = 0.0
        self._running: dict[int, _Job] = {}
        self._events: list[tuple[float, int, int]] = []  # (wake_at, seq, trial number)
        self._seq = 0
        self._mark: tuple[float, float] | None = None

    # -- the driver's time -----------------------------------------------------------------
    def _enter(self) -> None:
        if self._mark is None:
            return
        wall, cpu = time.perf_counter() - self._mark[0], time.process_time() - self._mark[1]
        self.stats.driver_seconds += wall
        self.stats.driver_cpu_seconds += cpu
        if self.charge_driver:
            self.clock += cpu if self.cpu_clock else wall

    def _leave(self) -> None:
        self._mark = (time.perf_counter(), time.process_time())

    # -- the Backend interface -------------------------------------------------------------
    def start(self) -> None:
        self.clock = 0.0
        if self.profile is not None:
            self.profile.enable()
        self._leave()

    def free_slots(self) -> int:
        self._enter()
        free = self.n_workers - len(self._running)
        self._leave()
        return free

    def submit(self, task: TrialTask) -> None:
        self._enter()
        if len(self._running) >= self.n_workers:
            raise RuntimeError(f"submit: trial {task.number} submitted with every one of {self.n_workers} "
                               "workers busy")
        if task.number in self._running or task.number in self.stats.submitted:
            raise RuntimeError(f"submit: trial {task.number} submitted twice")
        job = _Job(self, task)
        self._running[task.number] = job
        self.stats.submitted.append(task.number)
        self.stats.starts.append((self.clock, task.number))
        job.thread.start()
        self._advance(job)
        self._leave()

    def _advance(self, job: _Job) -> None:
        job.step()
        if job.result is None:
            heapq.heappush(self._events, (job.wake_at, self._seq, job.task.number))
            self._seq += 1
        else:
            heapq.heappush(self._events, (self.clock, self._seq, job.task.number))  # done now
            self._seq += 1

    def wait(self, timeout: float | None) -> list[TrialResult]:
        self._enter()
        out = self._collect(timeout)
        self._leave()
        return out

    def _collect(self, timeout: float | None) -> list[TrialResult]:
        deadline = None if timeout is None else self.clock + timeout
        out: list[TrialResult] = []
        while self._events:
            at, _, number = self._events[0]
            if out and at > self.clock:
                break
            if deadline is not None and at > deadline:
                self.clock = max(self.clock, deadline)
                break
            heapq.heappop(self._events)
            job = self._running.get(number)
            if job is None:  # cancelled
                continue
            self.clock = max(self.clock, at)
            if job.result is None:
                self._advance(job)
                continue
            self._running.pop(number)
            job.thread.join()
            self.stats.busy += self.clock - job.start
            self.stats.spans[number] = self.clock - job.start
            self.stats.wall = max(self.stats.wall, self.clock)
            self.stats.finished.append(number)
            out.append(job.result)
        return out

    def cancel(self, number: int) -> None:
        self._enter()
        self._running.pop(number, None)  # its thread stays parked (a daemon)
        self._leave()

    def shutdown(self, kill: bool = False) -> None:
        if self.profile is not None:
            self.profile.disable()
        self._running.clear()


def make_backend(stats: SimStats, profile: Any = None) -> type:
    """A :class:`SimBackend` subclass bound to ``stats`` (gb.optimize constructs backends itself).

    Args:
        stats: the :class:`SimStats` the backend fills.
        profile: a ``cProfile.Profile`` to enable during the loop, or None.
    """

    class _Bound(SimBackend):
        def __init__(self, objective: Callable, n_workers: int, options: BackendOptions | None = None) -> None:
            opts = options or BackendOptions()
            kw = {**dict(opts.backend_kwargs), "stats": stats, "profile": profile}
            super().__init__(objective, n_workers, BackendOptions(opts.trial_timeout, opts.start_method,
                                                                  opts.worker_threads, kw))

    return _Bound
