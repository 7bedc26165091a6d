"""Heartbeats, stale trials and re-queue: how a study outlives the processes that run it (issue 21).

While :func:`gpu_bo.optimize` runs trials in a shared storage, a daemon thread of
:class:`Liveness` tells the storage every ``heartbeat_interval`` seconds that this process
still runs them (:meth:`~gpu_bo.storage.Storage.heartbeat`). A RUNNING trial whose last
heartbeat is older than ``stale_after`` is stale whichever host ran it (the process was
killed, the host died or lost the network): the run loop of any process sharing the study
takes it back (:meth:`~gpu_bo.storage.Storage.reclaim_stale`) at its start and at each sync.

With ``RunOptions(requeue_interrupted=True)`` (the default) a stale trial, and each trial this
process stops itself (Ctrl-C, an error of the run), becomes WAITING: the next free worker of any
process takes it (:meth:`~gpu_bo.storage.Storage.claim_waiting`) before asking the optimizer for
a new point, and runs it again with the same params and number; ``Trial.attempts`` keeps the
earlier run. A trial is re-run once: one that already has an attempt ends FAILED. With
``requeue_interrupted=False`` they end FAILED at once, as before heartbeats.

Heartbeats replace the PID check of :meth:`~gpu_bo.storage.Storage.fail_abandoned`, which
could only see dead processes on its own host.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Sequence

from gpu_bo.exceptions import GpuBoError, GpuBoWarning
from gpu_bo.storage import Storage
from gpu_bo.storage.base import attempt
from gpu_bo.study import Trial, TrialState

__all__ = ["Liveness"]


class Liveness:
    """The heartbeat thread and the reclaiming of stale trials of one run.

    Args:
        storage: the study's store.
        study: the study's name.
        owner: this process's ``"host:pid"``.
        interval: seconds between heartbeats (``RunOptions.heartbeat_interval``).
        stale_after: the grace period in seconds (``RunOptions.stale_after``).
        requeue: re-queue stale and stopped trials (``RunOptions.requeue_interrupted``).
    """

    def __init__(self, storage: Storage, study: str, owner: str, interval: float, stale_after: float,
                 requeue: bool) -> None:
        self.storage, self.study, self.owner = storage, study, owner
        self.interval, self.stale_after, self.requeue = interval, stale_after, requeue
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_reclaim = -float("inf")

    def start(self, running: Callable[[], Sequence[int]]) -> None:
        """Start the daemon thread that sends a heartbeat for ``running()`` every interval.

        Args:
            running: returns the numbers of the trials this process runs now.
        """
        def beat() -> None:
            while not self._stop.wait(self.interval):
                try:
                    numbers = list(running())
                    if numbers:
                        self.storage.heartbeat(self.study, numbers, self.owner)
                except Exception:  # noqa: BLE001 - a missed beat is retried; stale_after spans several
                    continue

        self._thread = threading.Thread(target=beat, name=f"gpu_bo-heartbeat-{self.study}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the heartbeat thread (returns once it ended, or after one interval)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(1.0, self.interval))
            self._thread = None

    def reclaim(self, force: bool = False) -> list[int]:
        """Take back the study's stale trials (at most once per heartbeat interval unless ``force``).

        Args:
            force: reclaim now, however recently it was done.

        Returns:
            The numbers of the trials re-queued or marked FAILED.
        """
        now = time.monotonic()
        if not force and now - self._last_reclaim < self.interval:
            return []
        self._last_reclaim = now
        try:
            return self.storage.reclaim_stale(self.study, self.stale_after, requeue=self.requeue)
        except GpuBoError:
            if force:
                raise
            return []  # tried again at the next sync

    def warn_reclaimed(self, numbers: list[int], stacklevel: int = 3) -> None:
        """Say once which trials were found stale when the run started.

        Args:
            numbers: the trials :meth:`reclaim` returned.
            stacklevel: passed to ``warnings.warn``.
        """
        if numbers:
            what = ("re-queued to be re-run once (a trial already re-run once is marked FAILED)" if self.requeue
                    else "marked FAILED")
            warnings.warn(f"study {self.study!r}: trials {numbers} were left RUNNING with no heartbeat for "
                          f"{self.stale_after:g} s (their process or host died); {what}", GpuBoWarning,
                          stacklevel=stacklevel)

    def requeue_stopped(self, trial: Trial, reason: str) -> bool:
        """Re-queue ``trial``, which this process stops before it finished, when the options allow.

        Args:
            trial: one of this process's running trials (updated in place when re-queued).
            reason: why it stopped, recorded in its ``attempts``.

        Returns:
            True when it is WAITING now; False when the caller should mark it FAILED (re-queue
            off, the trial was already re-run once, or the store no longer holds it as ours).
        """
        if not self.requeue or trial.attempts:
            return False
        if not self.storage.requeue_trial(self.study, trial.number, self.owner, reason):
            return False
        trial.attempts.append(attempt(self.owner, trial.start_time, time.time(), reason))
        trial.state = TrialState.WAITING
        return True
