"""Run trials: serial, threads or processes (Ray via a plug-in), with failures, timeouts,
persistence, resume and progress.

:func:`optimize` is the loop: ask the :class:`~gpu_bo.optimizer.Optimizer` for as many points
as there are free workers (the running trials are pending points, so suggestions never repeat
and batch suggestions use fantasies), record each as a RUNNING trial in the storage, hand it to
a backend, and as soon as any trial finishes record it, tell the optimizer and ask again. No
worker waits for another.

Failures never stop the study: an exception, ``None``/NaN/inf, ``trial_timeout`` (the process
backend kills and replaces the stuck worker) or a dead worker process make a FAILED trial with
its error text; Ctrl-C stops the run, marks the running trials FAILED ("interrupted"), and
returns the study with every finished trial saved. Failed points are never proposed again,
and with the optimizer's default ``failure_policy="worst"`` the GP sees them as the worst
value so far, steering the search away from regions that keep failing.

Backends
--------
``BACKENDS`` maps a name to a class; :func:`register_backend` adds one (the ``"ray"`` backend
of :mod:`gpu_bo.integrations.ray` registers itself there). A backend is constructed as
``cls(objective, n_workers, options)`` and implements:

``start() -> None``
    Acquire the workers.
``free_slots() -> int``
    How many more trials it can accept right now.
``submit(task: TrialTask) -> None``
    Start running one trial (only called while ``free_slots() > 0``).
``wait(timeout: float | None) -> list[TrialResult]``
    Block until at least one trial finished or ``timeout`` seconds passed; return the
    finished ones (possibly none). A worker that dies must come back as a FAILED
    ``TrialResult`` for the trial it ran, and the backend replaces the worker.
``cancel(number: int) -> None``
    Stop a running trial (called when it passed ``trial_timeout``); its result must never be
    returned afterwards. The slot becomes free.
``shutdown(kill: bool) -> None``
    Release the workers; ``kill=True`` does not wait for running trials.

Every backend runs a trial with :func:`gpu_bo.objectives.execute_trial(objective, task)`,
which calls the objective with the documented calling convention and turns every outcome into
a picklable :class:`~gpu_bo.objectives.TrialResult`.

Process start method: ``"fork"`` is fast and accepts lambdas and closures, but CUDA cannot be
used in a forked child and GNU OpenMP hangs in one (measured here: torch matmuls in a forked
child of a parent that used threads never return), so forked workers pin torch to one thread
and the default is ``"spawn"`` whenever CUDA is available (objectives must then be importable,
module-level functions and scripts need ``if __name__ == "__main__":``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import wait as mp_wait
from typing import Any

from gpu_bo.exceptions import GpuBoError, GpuBoWarning
from gpu_bo.objectives import (
    Pruner, TrialResult, TrialTask, TrialTimeout, execute_trial, wants_trial,
)
from gpu_bo.space import Space, as_space
from gpu_bo.storage import DuplicateParams, InMemoryStorage, Storage, open_storage, process_owner
from gpu_bo.study import Study, Trial, TrialState

__all__ = [
    "optimize", "RunOptions", "Backend", "SerialBackend", "ThreadBackend", "ProcessBackend",
    "BACKENDS", "register_backend",
]

Callback = Callable[[Study, Trial], None]


@dataclass(frozen=True)
class RunOptions:
    """Rarely changed knobs of :func:`optimize`.

    Attributes:
        n_initial: quasi-random trials before the GP takes over (None: the optimizer's default).
        xi: EI/PI exploration margin. kappa: UCB exploration weight.
        optimizer_options: :class:`gpu_bo.optimizer.OptimizerOptions` (e.g.
            ``failure_policy="ignore"``).
        start_method: multiprocessing start method of the process backend: "fork", "spawn",
            "forkserver" or None (spawn when CUDA is available, else fork where it exists).
        worker_threads: torch threads per worker process (None: 1 when forked, else
            ``cpu_count // n_workers``).
        sync_interval: seconds between looks at a shared storage for other processes' trials.
        prefetch: while every worker is busy, suggest the next point ahead of time, so a freed
            worker starts at once. Raises worker utilization when a trial takes longer than a
            suggestion (see benchmarks/results/parallel_throughput.md), at the price of one
            suggestion made without the result of the trial that frees the worker. Ignored by
            the serial backend.
        backend_kwargs: passed to a plug-in backend (e.g. a Ray address).
    """

    n_initial: int | None = None
    xi: float = 0.0
    kappa: float = 2.576
    optimizer_options: Any = None
    start_method: str | None = None
    worker_threads: int | None = None
    sync_interval: float = 1.0
    prefetch: bool = False
    backend_kwargs: Mapping[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------
# backends
# ----------------------------------------------------------------------------------------------
class Backend:
    """Base class documenting the interface (see the module docstring); subclassing is optional."""

    def __init__(self, objective: Callable, n_workers: int, options: RunOptions) -> None:
        self.objective = objective
        self.n_workers = n_workers
        self.options = options

    def start(self) -> None:
        pass

    def free_slots(self) -> int:
        raise NotImplementedError

    def submit(self, task: TrialTask) -> None:
        raise NotImplementedError

    def wait(self, timeout: float | None) -> list[TrialResult]:
        raise NotImplementedError

    def cancel(self, number: int) -> None:
        raise NotImplementedError

    def shutdown(self, kill: bool = False) -> None:
        pass


class SerialBackend(Backend):
    """Runs each trial in the calling thread, inside :meth:`wait`.

    ``trial_timeout`` is enforced with ``SIGALRM`` when called from the main thread on POSIX
    (it interrupts Python code, not a long call inside a C extension); elsewhere a trial that
    overran is marked FAILED when it returns.
    """

    def __init__(self, objective: Callable, n_workers: int, options: RunOptions) -> None:
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
        if not use_alarm:
            t0 = time.monotonic()
            res = execute_trial(self.objective, task)
            if task.timeout is not None and time.monotonic() - t0 > task.timeout:
                res = TrialResult(task.number, "FAILED", error=f"trial_timeout: took "
                                  f"{time.monotonic() - t0:.1f} s, more than {task.timeout} s",
                                  intermediate=res.intermediate)
            return [res]

        def on_alarm(signum, frame):
            raise TrialTimeout()

        old = signal.signal(signal.SIGALRM, on_alarm)
        try:
            signal.setitimer(signal.ITIMER_REAL, task.timeout)
            try:
                return [execute_trial(self.objective, task)]
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except TrialTimeout:  # the alarm fired between the objective's return and the reset
            return [TrialResult(task.number, "FAILED", error=f"trial_timeout: stopped after {task.timeout} s")]
        finally:
            signal.signal(signal.SIGALRM, old)

    def cancel(self, number: int) -> None:
        pass  # nothing runs outside wait()


class ThreadBackend(Backend):
    """One daemon thread per running trial.

    Python cannot kill a thread: a trial past ``trial_timeout`` is recorded FAILED and its
    thread is abandoned (it keeps running until the objective returns; its result is dropped).
    Use the process backend for objectives that can hang.
    """

    def __init__(self, objective: Callable, n_workers: int, options: RunOptions) -> None:
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
        self._results.put(execute_trial(self.objective, task))

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


def _worker_main(conn: Any, objective: Callable, threads: int | None) -> None:
    """Loop of one worker process: receive a task, run it, send the result back."""
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
        result = execute_trial(objective, task)
        try:
            conn.send(result)
        except Exception as e:  # noqa: BLE001 - e.g. an unpicklable error text; report it
            conn.send(TrialResult(task.number, "FAILED", error=f"the trial's result could not be sent back: {e!r}"))


@dataclass
class _Worker:
    process: Any
    conn: Any
    number: int | None = None  # trial it runs


class ProcessBackend(Backend):
    """A pool of worker processes that survives its workers.

    Each worker has its own pipe; the parent waits on every pipe and every process sentinel at
    once, so a result, a crash (segfault, ``os._exit``, OOM kill) or a timeout is seen at once.
    A dead or killed worker is replaced by a fresh one. ``concurrent.futures``'s pool is not
    used because one dead worker breaks the whole pool and a stuck task cannot be killed.
    """

    def __init__(self, objective: Callable, n_workers: int, options: RunOptions) -> None:
        super().__init__(objective, n_workers, options)
        method = options.start_method or _default_start_method()
        self._ctx = mp.get_context(method)
        if options.worker_threads is not None:
            self._threads: int | None = options.worker_threads
        else:
            self._threads = 1 if method == "fork" else max(1, (os.cpu_count() or 1) // n_workers)
        self._workers: list[_Worker] = []

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        p = self._ctx.Process(target=_worker_main, args=(child, self.objective, self._threads),
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


BACKENDS: dict[str, type] = {"serial": SerialBackend, "thread": ThreadBackend, "process": ProcessBackend}


def register_backend(name: str, cls: type) -> None:
    """Make ``backend=name`` use ``cls`` (see the module docstring for the interface)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name: got {name!r}, expected a non-empty str")
    missing = [m for m in ("free_slots", "submit", "wait", "cancel", "shutdown") if not hasattr(cls, m)]
    if missing:
        raise TypeError(f"backend {name!r}: {cls!r} lacks the method(s) {missing}")
    BACKENDS[name] = cls


def _get_backend(backend: str | type) -> type:
    if isinstance(backend, type):
        return backend
    if backend == "ray" and "ray" not in BACKENDS:
        try:  # the Ray integration registers its backend on import
            import gpu_bo.integrations.ray  # noqa: F401
        except ImportError as e:
            raise ValueError(f"backend='ray' needs Ray: pip install 'gpu-bo[ray]' ({e})") from None
    if backend not in BACKENDS:
        raise ValueError(f"backend: got {backend!r}, expected one of {sorted(BACKENDS)} or a backend class")
    return BACKENDS[backend]


# ----------------------------------------------------------------------------------------------
# the loop
# ----------------------------------------------------------------------------------------------
class _Run:
    """State of one :func:`optimize` call (kept in one place so each step stays small)."""

    def __init__(self, objective: Callable, space: Space, n_trials: int, direction: str,
                 storage: Storage, name: str, opt: Any, backend: Backend, cfg: dict[str, Any]) -> None:
        self.objective, self.space, self.n_trials = objective, space, n_trials
        self.direction, self.storage, self.name, self.opt = direction, storage, name, opt
        self.backend, self.cfg = backend, cfg
        self.study = Study(direction, [], name=name)
        self.trials: dict[int, Trial] = {}
        self.running: dict[int, Trial] = {}      # ours
        self.deadline: dict[int, float] = {}
        self.external: set[int] = set()         # other processes' running trials, pending in opt
        self.told: set[int] = set()
        self.seq = 0
        self.owner = process_owner()
        self.stop_new = False
        self.queue: list[dict[str, Any]] = []   # prefetched points, pending in opt, not stored yet
        self.pass_trial = wants_trial(objective)
        self.bar = None

    # -- bookkeeping -------------------------------------------------------------------------
    def _publish(self) -> None:
        self.study.trials = [self.trials[k] for k in sorted(self.trials)]

    def _tell(self, t: Trial) -> None:
        if t.state == TrialState.COMPLETE:
            self.opt.tell(t.params, t.value)
        elif t.state == TrialState.PRUNED:
            self.opt.tell(t.params, t.value, state="PRUNED")
        else:
            self.opt.tell(t.params, None, error=t.error or "failed")
        self.told.add(t.number)

    def sync(self) -> None:
        """Take in trials written by other processes (and, on start, by earlier runs)."""
        changed, self.seq = self.storage.trials_since(self.name, self.seq)
        for t in changed:
            if t.number in self.running:
                continue
            if t.number not in self.trials or t.number not in self.told:
                self.trials[t.number] = t
            if t.number in self.told:
                continue
            if t.state == TrialState.RUNNING:
                if t.number not in self.external:
                    self.opt.add_pending(t.params)
                    self.external.add(t.number)
            else:
                self.external.discard(t.number)  # tell() removes its pending entry
                self._tell(t)
                self._publish()
                self._progress()
        self._publish()

    # -- submitting --------------------------------------------------------------------------
    def _ask(self, k: int) -> list[dict[str, Any]]:
        try:
            return self.opt.ask(n=k)
        except GpuBoError as e:  # e.g. every point of a small discrete space was tried
            warnings.warn(f"study {self.name!r}: no new suggestion ({e}); stopping", GpuBoWarning, stacklevel=4)
            self.stop_new = True
            return []

    def _drop_queue(self, points: list[dict[str, Any]] | None = None) -> None:
        for q in self.queue if points is None else points:
            self.opt.remove_pending(q)
        if points is None:
            self.queue = []

    def fill(self) -> None:
        """Ask for as many points as there are free workers and start them."""
        for _ in range(3):  # a retry only after another process took the same point
            free = self.backend.free_slots()
            if self.stop_new:
                self._drop_queue()
                return
            if free <= 0:
                self._prefetch()
                return
            take, self.queue = self.queue[:free], self.queue[free:]
            points = take + (self._ask(free - len(take)) if free > len(take) else [])
            if not points:
                return
            retry = False
            for i, p in enumerate(points):
                try:
                    t = self.storage.create_trial(self.name, p, max_trials=self.n_trials,
                                                  owner=self.owner, unique=True)
                except DuplicateParams:
                    self.opt.remove_pending(p)
                    retry = True
                    continue
                if t is None:  # the study reached n_trials (maybe with other processes' help)
                    self._drop_queue(points[i:])
                    self._drop_queue()
                    self.stop_new = True
                    return
                self._start(t)
            if not retry:
                self._prefetch()
                return
            self.sync()

    def _prefetch(self) -> None:
        """With ``RunOptions(prefetch=True)``: while every worker is busy, suggest the next point
        now (the running trials pending), so the next free worker starts without waiting."""
        if (self.cfg["prefetch"] and not self.queue and self.running and self.backend.free_slots() <= 0
                and len(self.trials) < self.n_trials and not isinstance(self.backend, SerialBackend)):
            self.queue = self._ask(1)

    def _start(self, t: Trial) -> None:
        self.trials[t.number] = t
        self.running[t.number] = t
        timeout = self.cfg["trial_timeout"]
        if timeout is not None:
            self.deadline[t.number] = time.monotonic() + timeout
        reference = [dict(x.intermediate) for x in self.trials.values()
                     if x.state in (TrialState.COMPLETE, TrialState.PRUNED) and x.intermediate]
        task = TrialTask(t.number, dict(t.params), device=self._trial_device(t.number),
                         direction=self.direction, pruner=self.cfg["pruner"], reference=reference,
                         timeout=timeout, pass_trial=self.pass_trial)
        self.backend.submit(task)
        self._publish()

    def _trial_device(self, number: int) -> str:
        dev = self.cfg["device"]
        if dev.type == "cuda" and dev.index is None:
            import torch

            n = torch.cuda.device_count()
            return f"cuda:{number % n}" if n > 1 else "cuda"
        return str(dev)

    # -- finishing ---------------------------------------------------------------------------
    def finish(self, number: int, state: TrialState, value: float | None, error: str | None,
               intermediate: Mapping[int, float] | None = None) -> None:
        t = self.running.get(number)
        if t is None:
            return
        t.state, t.value, t.error, t.end_time = state, value, error, time.time()
        if intermediate:
            t.intermediate = dict(intermediate)
        self.storage.finish_trial(self.name, t)  # first on disk, then forgotten as running
        self.running.pop(number)
        self.deadline.pop(number, None)
        self._tell(t)
        self._publish()
        self._progress()
        for cb in self.cfg["callbacks"]:
            cb(self.study, t)

    def on_result(self, r: TrialResult) -> None:
        self.finish(r.number, TrialState(r.state), r.value, r.error, r.intermediate)

    def check_timeouts(self) -> None:
        now = time.monotonic()
        for number, dl in list(self.deadline.items()):
            if now >= dl and number in self.running:
                self.backend.cancel(number)
                self.finish(number, TrialState.FAILED, None,
                            f"trial_timeout: still running after {self.cfg['trial_timeout']} s; stopped")

    def fail_running(self, why: str) -> None:
        for number in list(self.running):
            try:
                self.finish(number, TrialState.FAILED, None, why)
            except Exception:  # noqa: BLE001 - best effort while stopping
                pass

    # -- progress ----------------------------------------------------------------------------
    def open_progress(self, enabled: bool) -> None:
        if not enabled:
            return
        from tqdm.auto import tqdm

        done = sum(t.state != TrialState.RUNNING for t in self.trials.values())
        self.bar = tqdm(total=self.n_trials, initial=min(done, self.n_trials), desc=self.name,
                        unit="trial", dynamic_ncols=True)
        self._progress(advance=False)

    def _progress(self, advance: bool = True) -> None:
        if self.bar is None:
            return
        failed = sum(t.state == TrialState.FAILED for t in self.trials.values())
        pruned = sum(t.state == TrialState.PRUNED for t in self.trials.values())
        best = self.study.best_value
        if advance:
            self.bar.update(1)
        post = {"best": "-" if best is None else f"{best:.6g}", "failed": failed}
        if pruned:
            post["pruned"] = pruned
        self.bar.set_postfix(post, refresh=False)

    # -- main ----------------------------------------------------------------------------------
    def wait_timeout(self) -> float | None:
        cands = []
        now = time.monotonic()
        if self.deadline:
            cands.append(min(self.deadline.values()) - now)
        if not self.stop_new and self.cfg["end"] is not None:
            cands.append(self.cfg["end"] - now)
        if self.cfg["shared"]:
            cands.append(self.cfg["sync_interval"])
        return None if not cands else max(0.0, min(cands))

    def loop(self) -> None:
        while True:
            if self.cfg["end"] is not None and time.monotonic() >= self.cfg["end"]:
                self.stop_new = True
            self.fill()
            if not self.running:
                if self.stop_new or self.backend.free_slots() <= 0:
                    return
                continue
            for r in self.backend.wait(self.wait_timeout()):
                if r.number in self.running:
                    self.on_result(r)
            self.check_timeouts()
            if self.cfg["shared"]:
                self.sync()


def optimize(
    objective: Callable,
    space: Space | Mapping[str, Any],
    n_trials: int,
    direction: str | None = None,
    n_workers: int = 1,
    backend: str | type = "serial",
    storage: str | Storage | None = None,
    study_name: str | None = None,
    timeout: float | None = None,
    trial_timeout: float | None = None,
    callbacks: Iterable[Callback] = (),
    progress: bool = True,
    seed: int | None = None,
    acquisition: str = "ei",
    device: str = "auto",
    pruner: Pruner | None = None,
    options: RunOptions | None = None,
) -> Study:
    """Optimize ``objective`` over ``space`` and return the :class:`~gpu_bo.study.Study`.

    Args:
        objective: ``objective(params) -> float``, or ``objective(trial) -> float`` when its
            parameter is named ``trial`` (a :class:`~gpu_bo.objectives.TrialHandle` with
            ``params``, ``device``, ``report``, ``should_prune``).
        space: a :class:`~gpu_bo.space.Space` or the shorthand dict.
        n_trials: total trials of the study, in any state, counting trials of earlier
            (resumed) runs and of other processes sharing the storage.
        direction: "minimize" or "maximize"; None: the objective's ``direction`` attribute
            (``SklearnCV`` maximizes) or "minimize".
        n_workers: trials run at once.
        backend: "serial", "thread", "process", a registered name (e.g. "ray") or a class.
        storage: None (in memory), "sqlite:///path.db" or a :class:`~gpu_bo.storage.Storage`.
        study_name: the study inside the storage (default "default"); rerunning with the same
            storage and name resumes it.
        timeout: seconds after which no new trial starts (running ones finish).
        trial_timeout: seconds a trial may run before it is stopped and recorded FAILED.
        callbacks: called as ``cb(study, trial)`` after each trial of this run finishes.
        progress: show a tqdm bar (trials done, failures, best value so far).
        seed: seed of the optimizer.
        acquisition: "ei", "pi", "ucb", "qei", "qpi", "qucb" or "qnei".
        device: where the optimizer computes and ``trial.device`` points: "auto", "cpu", "cuda".
        pruner: e.g. :class:`~gpu_bo.objectives.MedianPruner` for objectives that report.
        options: :class:`RunOptions` for the rarer knobs.

    Returns:
        The study with every trial (including resumed ones): ``best_params``,
        ``best_value``, ``best_trial``, ``trials``, ``to_dataframe()``.
    """
    from gpu_bo.device import resolve_device
    from gpu_bo.optimizer import Optimizer

    options = options or RunOptions()
    if not callable(objective):
        raise TypeError(f"objective: got {type(objective).__name__}, expected a callable")
    space = as_space(space)
    _check_positive_int("n_trials", n_trials)
    _check_positive_int("n_workers", n_workers)
    if direction is None:
        direction = getattr(objective, "direction", None) or "minimize"
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction: got {direction!r}, expected 'minimize' or 'maximize'")
    for label, v in (("timeout", timeout), ("trial_timeout", trial_timeout)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0):
            raise ValueError(f"{label}: got {v!r}, expected None or a number of seconds > 0")
    backend_cls = _get_backend(backend)
    if backend_cls is SerialBackend and n_workers > 1:
        raise ValueError(f"n_workers: got {n_workers} with backend='serial'; use backend='thread' or "
                         "'process' to run trials in parallel")
    if pruner is not None and not hasattr(pruner, "should_prune"):
        raise TypeError(f"pruner: got {type(pruner).__name__}, expected a gpu_bo.objectives.Pruner")
    callbacks = tuple(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks: got {cb!r}, expected callables cb(study, trial)")
    dev = resolve_device(device)
    opt = Optimizer(space, direction=direction, acquisition=acquisition, xi=options.xi, kappa=options.kappa,
                    n_initial=options.n_initial, seed=seed, device=dev, options=options.optimizer_options)

    owns_storage = not isinstance(storage, Storage)
    store = InMemoryStorage() if storage is None else open_storage(storage, create=True)
    name = study_name or "default"
    try:
        store.get_or_create_study(name, direction, space.to_dict())
        abandoned = store.fail_abandoned(name)
        if abandoned:
            warnings.warn(f"study {name!r}: trials {abandoned} were left RUNNING by a process that died; "
                          "they are marked FAILED", GpuBoWarning, stacklevel=2)
        be = backend_cls(objective, n_workers, options)
        cfg = {"trial_timeout": trial_timeout, "pruner": pruner, "device": dev, "callbacks": callbacks,
               "end": None if timeout is None else time.monotonic() + timeout,
               "shared": not isinstance(store, InMemoryStorage), "sync_interval": options.sync_interval,
               "prefetch": options.prefetch}
        run = _Run(objective, space, n_trials, direction, store, name, opt, be, cfg)
        run.sync()
        be.start()
        run.open_progress(progress)
        try:
            run.loop()
        except KeyboardInterrupt:
            run.fail_running("interrupted (KeyboardInterrupt) before it finished")
            done = sum(t.state != TrialState.RUNNING for t in run.trials.values())
            warnings.warn(f"study {name!r} interrupted by Ctrl-C; {done} finished trials are saved",
                          GpuBoWarning, stacklevel=2)
        except BaseException as e:
            run.fail_running(f"the run stopped before the trial finished: {type(e).__name__}: {e}")
            raise
        finally:
            be.shutdown(kill=True)
            if run.bar is not None:
                run.bar.close()
        return run.study
    finally:
        if owns_storage:
            store.close()


def _check_positive_int(label: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{label}: got {v!r}, expected an int >= 1")

