"""Local backends: the calling thread (serial), one thread per trial, a pool of processes.

Each satisfies :class:`gpu_bo.backends.Backend` and is registered there under ``"serial"``,
``"thread"`` and ``"process"``.

Process start method: ``"fork"`` is fast and accepts lambdas and closures, but CUDA cannot be
used in a forked child and GNU OpenMP can hang in one (torch matmuls in a forked child of a
parent that used threads never returned here), so forked workers pin torch to one thread
and the default is ``"spawn"`` whenever CUDA is available (objectives must then be importable,
module-level functions and scripts need ``if __name__ == "__main__":``).

Workers never outlive the driver (issue 15: orphans kept running and held the driver's
stdout/stderr open, so a caller reading them blocked forever): on Linux each worker asks the
kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and everywhere a watchdog
thread ends it within a second of the driver's death (its parent pid changes, or, under
forkserver, the driver's pid is gone or a zombie).
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait as mp_wait
from typing import TYPE_CHECKING, Any

from gpu_bo.backends.pruning_ipc import ServedPruning
from gpu_bo.objectives import TrialResult, TrialTask, TrialTimeout, execute_trial
from gpu_bo.pruning import LocalPruning

if TYPE_CHECKING:  # gpu_bo.backends imports this module; the options type is only for hints
    from gpu_bo.backends import BackendOptions

__all__ = ["SerialBackend", "ThreadBackend", "ProcessBackend"]


class _LocalBackend:
    """What the local backends share: the constructor and no-op ``start``/``shutdown``."""

    def __init__(self, objective: Callable, n_workers: int, options: BackendOptions) -> None:
        self.objective = objective
        self.n_workers = n_workers
        self.options = options

    def start(self) -> None:
        pass

    def shutdown(self, kill: bool = False) -> None:
        pass

    def pruning_service(self, local: LocalPruning) -> Any:
        """The pruning transport (:mod:`gpu_bo.pruning`): trials run in this process, so the
        driver's board itself."""
        return local


class SerialBackend(_LocalBackend):
    """Runs each trial in the calling thread, inside :meth:`wait`.

    ``trial_timeout`` is enforced with ``SIGALRM`` when called from the main thread on POSIX
    (it interrupts Python code, not a long call inside a C extension, and repeats every second
    for an objective that catches it); elsewhere a trial that overran is marked FAILED when it
    returns. A trial that ran past its timeout is FAILED whatever it returned.
    """

    def __init__(self, objective: Callable, n_workers: int, options: BackendOptions) -> None:
        super().__init__(objective, 1, options)
        self._task: TrialTask | None = None

    def free_slots(self) -> int:
        return 0 if self._task is not None else 1

    def submit(self, task: TrialTask) -> None:
        self._task = task

    def wait(self, timeout: float | None) -> list[TrialResult]:
        task, self._task = self._task, None
        if task is None:
            if timeout:
                time.sleep(timeout)
            return []
        use_alarm = (task.timeout is not None and hasattr(signal, "setitimer")
                     and threading.current_thread() is threading.main_thread())
        t0 = time.monotonic()
        res = self._run_alarmed(task) if use_alarm else execute_trial(self.objective, task)
        took = time.monotonic() - t0
        if task.timeout is not None and took > task.timeout and not (res.error or "").startswith("trial_timeout"):
            # past its timeout the trial is FAILED whatever the objective returned (it may have
            # caught the alarm with a bare except)
            res = TrialResult(task.number, "FAILED", error=f"trial_timeout: took {took:.1f} s, more than "
                              f"{task.timeout} s", intermediate=res.intermediate)
        return [res]

    def _run_alarmed(self, task: TrialTask) -> TrialResult:
        """Run the trial with a SIGALRM that raises :class:`TrialTimeout` at its timeout, and
        again every second after it, so an objective that catches it once is still stopped."""

        def on_alarm(signum, frame):
            raise TrialTimeout()

        old = signal.signal(signal.SIGALRM, on_alarm)
        try:
            signal.setitimer(signal.ITIMER_REAL, task.timeout, 1.0)
            try:
                return execute_trial(self.objective, task)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except TrialTimeout:  # the alarm fired outside the objective (e.g. as it returned)
            return TrialResult(task.number, "FAILED", error=f"trial_timeout: stopped after {task.timeout} s")
        finally:
            signal.signal(signal.SIGALRM, old)

    def cancel(self, number: int) -> None:
        pass  # nothing runs outside wait()


def _execute_guarded(objective: Callable, task: TrialTask) -> TrialResult:
    """``execute_trial`` for a worker thread or process: ``SystemExit`` (and other
    ``BaseException``) from the objective becomes a FAILED result instead of silently ending
    the worker with the trial lost."""
    try:
        return execute_trial(objective, task)
    except BaseException as e:  # noqa: BLE001 - see the docstring
        return TrialResult(task.number, "FAILED", error=f"the objective raised {type(e).__name__}: {e!r}")


class ThreadBackend(_LocalBackend):
    """One daemon thread per running trial.

    Python cannot kill a thread: a trial past ``trial_timeout`` is recorded FAILED and its
    thread is abandoned (it keeps running until the objective returns; its result is dropped).
    Use the process backend for objectives that can hang.
    """

    def __init__(self, objective: Callable, n_workers: int, options: BackendOptions) -> None:
        super().__init__(objective, n_workers, options)
        self._running: set[int] = set()
        self._results: queue.Queue[TrialResult] = queue.Queue()

    def free_slots(self) -> int:
        return self.n_workers - len(self._running)

    def submit(self, task: TrialTask) -> None:
        self._running.add(task.number)
        threading.Thread(target=self._run, args=(task,), daemon=True,
                         name=f"gpu_bo-trial-{task.number}").start()

    def _run(self, task: TrialTask) -> None:
        self._results.put(_execute_guarded(self.objective, task))

    def wait(self, timeout: float | None) -> list[TrialResult]:
        out = []
        try:
            out.append(self._results.get(timeout=timeout))
            while True:
                out.append(self._results.get_nowait())
        except queue.Empty:
            pass
        kept = [r for r in out if r.number in self._running]
        for r in kept:
            self._running.discard(r.number)
        return kept

    def cancel(self, number: int) -> None:
        self._running.discard(number)


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    if os.path.isdir("/proc/self"):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                return f.read().rpartition(b")")[2].split()[0] != b"Z"
        except (OSError, IndexError):
            return False
    try:  # no /proc (macOS): a zombie counts as alive until it is reaped
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent(driver: int) -> None:
    """End this worker process when the driver that started it dies (see the module docstring).

    Args:
        driver: the pid of the process running the study. Under fork and spawn it is this
            worker's parent; under forkserver the parent is the fork server, which outlives the
            driver while workers hold its pipe, so the watchdog looks at the driver itself.
    """
    if sys.platform.startswith("linux"):
        try:  # the kernel kills us the moment our parent (thread) ends
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl (another libc): the watchdog below still works
    parent = os.getppid()

    def orphaned() -> bool:
        return os.getppid() != parent or not _pid_alive(driver)

    if orphaned():  # the driver died before we could ask
        os._exit(1)

    def watch() -> None:
        while not orphaned():
            time.sleep(0.5)
        os._exit(1)  # no atexit handlers, no flushing into a pipe nobody reads

    threading.Thread(target=watch, daemon=True, name="gpu_bo-driver-watchdog").start()


def _worker_main(conn: Any, objective: Callable, threads: int | None, driver: int) -> None:
    """Loop of one worker process: receive a task, run it, send the result back."""
    _die_with_parent(driver)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if threads:
        import torch

        torch.set_num_threads(threads)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        result = _execute_guarded(objective, task)
        try:
            conn.send(result)
        except Exception as e:  # noqa: BLE001 - e.g. an unpicklable error text; report it
            conn.send(TrialResult(task.number, "FAILED", error=f"the trial's result could not be sent back: {e!r}"))


@dataclass
class _Worker:
    process: Any
    conn: Any
    number: int | None = None  # trial it runs


class ProcessBackend(_LocalBackend):
    """A pool of worker processes that survives its workers.

    Each worker has its own pipe; the parent waits on every pipe and every process sentinel at
    once, so a result, a crash (segfault, ``os._exit``, OOM kill) or a timeout is seen at once.
    A dead or killed worker is replaced by a fresh one. ``concurrent.futures``'s pool is not
    used because one dead worker breaks the whole pool and a stuck task cannot be killed.
    """

    def __init__(self, objective: Callable, n_workers: int, options: BackendOptions) -> None:
        super().__init__(objective, n_workers, options)
        check_start_method(options.start_method)
        method = options.start_method or _default_start_method()
        self._ctx = mp.get_context(method)
        if options.worker_threads is not None:
            self._threads: int | None = options.worker_threads
        else:
            self._threads = 1 if method == "fork" else max(1, (os.cpu_count() or 1) // n_workers)
        self._workers: list[_Worker] = []
        self._pruning: ServedPruning | None = None

    def pruning_service(self, local: LocalPruning) -> ServedPruning:
        """The driver's board served to the workers over a socket (:mod:`gpu_bo.backends.pruning_ipc`)."""
        self._pruning = ServedPruning(local)
        return self._pruning

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        p = self._ctx.Process(target=_worker_main, args=(child, self.objective, self._threads, os.getpid()),
                              daemon=True, name="gpu_bo-worker")
        try:
            p.start()
        except Exception as e:  # noqa: BLE001 - typically pickling the objective for spawn
            parent.close()
            child.close()
            raise TypeError(
                f"objective: {self.objective!r} cannot be sent to a worker process started with "
                f"{self._ctx.get_start_method()!r} ({type(e).__name__}: {e}); define it at module "
                "level (not a lambda or closure), or use backend='thread'"
            ) from e
        child.close()
        return _Worker(p, parent)

    def start(self) -> None:
        self._workers = [self._spawn() for _ in range(self.n_workers)]

    def free_slots(self) -> int:
        return sum(w.number is None for w in self._workers)

    def submit(self, task: TrialTask) -> None:
        w = next(w for w in self._workers if w.number is None)
        w.number = task.number
        try:
            w.conn.send(task)
        except (OSError, ValueError):  # the idle worker died; wait() reports the trial FAILED
            pass

    def _replace(self, w: _Worker) -> None:
        if w.process.is_alive():
            w.process.kill()
        w.process.join(5)
        w.conn.close()
        self._workers[self._workers.index(w)] = self._spawn()

    def wait(self, timeout: float | None) -> list[TrialResult]:
        busy = {w.conn: w for w in self._workers if w.number is not None}
        if not busy and timeout is None:
            return []  # nothing can finish: never block forever
        sentinels = {w.process.sentinel: w for w in self._workers}
        ready = set(mp_wait(list(busy) + list(sentinels), timeout))
        out: list[TrialResult] = []
        for conn, w in busy.items():
            if conn in ready or w.process.sentinel in ready:
                res = self._receive(w)
                if res is not None:
                    out.append(res)
                    w.number = None
        for sent, w in sentinels.items():
            if sent in ready or not w.process.is_alive():
                w.process.join(1)
                if w.number is not None:
                    out.append(TrialResult(w.number, "FAILED", error=_death_text(w.process.exitcode)))
                self._replace(w)
        return out

    @staticmethod
    def _receive(w: _Worker) -> TrialResult | None:
        try:
            if w.conn.poll():
                res = w.conn.recv()
                if isinstance(res, TrialResult) and res.number == w.number:
                    return res
        except (EOFError, OSError):
            pass
        return None

    def cancel(self, number: int) -> None:
        for w in self._workers:
            if w.number == number:
                w.number = None
                self._replace(w)
                return

    def shutdown(self, kill: bool = False) -> None:
        for w in self._workers:
            if not kill and w.number is None:
                try:
                    w.conn.send(None)
                except (OSError, ValueError):
                    pass
        deadline = time.monotonic() + (0 if kill else 5)
        for w in self._workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(5)
            w.conn.close()
        self._workers = []
        if self._pruning is not None:
            self._pruning.close()
            self._pruning = None


def check_start_method(method: Any) -> None:
    """Refuse a multiprocessing start method this platform does not have.

    Args:
        method: the ``start_method`` given (None: the default, see :class:`ProcessBackend`).

    Raises:
        ValueError: ``method`` is not None nor one of ``multiprocessing.get_all_start_methods()``.
    """
    methods = mp.get_all_start_methods()
    if method is not None and method not in methods:
        raise ValueError(f"start_method: got {method!r}, expected one of {methods} or None (spawn when "
                         "CUDA is available, else fork)")


def _default_start_method() -> str:
    import torch

    if torch.cuda.is_available() or "fork" not in mp.get_all_start_methods():
        return "spawn"
    return "fork"


def _death_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = str(-code)
        return f"worker process died (killed by signal {sig}) while running the trial"
    return f"worker process died (exit code {code}) while running the trial"

