"""The run loop of :func:`gpu_bo.optimize` (:mod:`gpu_bo.runner`): ask, store, submit, collect,
tell, with failures, timeouts, shared storages and progress; one :class:`Run` per call.

The runner checks the arguments and builds the pieces; this module holds the state of one run
(kept in one place so each step stays small) and is driven by :func:`gpu_bo.stopping.drive`.
"""

from __future__ import annotations

import contextlib
import itertools
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from gpu_bo.backends import Backend, SerialBackend
from gpu_bo.define_by_run import DistributionConflict, LearnedOptimizer, search_spec
from gpu_bo.exceptions import GpuBoError, GpuBoWarning, SpaceExhausted
from gpu_bo.heartbeat import Liveness
from gpu_bo.multi_fidelity import attach
from gpu_bo.objectives import TrialResult, TrialTask, wants_trial
from gpu_bo.progress import ProgressBar
from gpu_bo.pruning import LocalPruning
from gpu_bo.space import Space
from gpu_bo.stopping import sigint_held
from gpu_bo.run_options import MAX_TIMEOUT
from gpu_bo.storage import DuplicateParams, Storage, process_owner
from gpu_bo.study import Study, Trial, TrialState

__all__ = ["Run", "Callback"]

Callback = Callable[[Study, Trial], None]


# ----------------------------------------------------------------------------------------------
# the loop
# ----------------------------------------------------------------------------------------------
class Run:
    """State of one :func:`optimize` call (kept in one place so each step stays small)."""

    def __init__(self, objective: Callable, space: Space, n_trials: int, directions: tuple[str, ...],
                 storage: Storage, name: str, opt: Any, backend: Backend, cfg: dict[str, Any]) -> None:
        self.objective, self.space, self.n_trials = objective, space, n_trials
        self.direction, self.storage, self.name, self.opt = directions[0], storage, name, opt
        self.backend, self.cfg = backend, cfg
        self.study = Study(directions=directions, name=name)
        self.trials: dict[int, Trial] = {}
        self.running: dict[int, Trial] = {}      # ours
        self.deadline: dict[int, float] = {}
        self.external: set[int] = set()         # other processes' running trials, pending in opt
        self.told: set[int] = set()
        self.seq = 0
        self.owner = process_owner()
        self.stop_new = False
        self.queue: list[dict[str, Any]] = []   # prefetched points, pending in opt, not stored yet
        self.prefetch_depth = 1  # points asked per prefetch, adapted by fill (issue 18.3)
        self._n_published = 0    # len(self.trials) at the last _publish
        self._prefetched = self._short = False  # a prefetch happened / a worker waited since
        self.pass_trial = wants_trial(objective)
        self.bar: ProgressBar | None = None
        self.callback_failed = False
        # other processes' trials seen starting during this run, by sync (not by comparing clocks:
        # a store may stamp start_time with its server's clock, PostgreSQL does)
        self.started_here: set[int] = set()
        self.synced = False
        self.timed_out = False
        self.live: Liveness = cfg["live"]
        self.pruning: Any = None  # the pruning service (gpu_bo.pruning), made at the first start
        self.fidelity = attach(opt, cfg["pruner"])  # learns from every rung (gpu_bo.multi_fidelity)
        if getattr(opt, "budget", 0) is None:  # the hint OptimizerOptions.local_phase's late_fraction uses
            opt.budget = n_trials

    # -- bookkeeping -------------------------------------------------------------------------
    def _publish(self) -> None:
        # self.trials is kept in number order (a dict keeps insertion order): only the numbers
        # added since the last publish are checked, instead of sorting every trial at every
        # event (issue 18.3); a number arriving out of order (another process's) re-sorts once
        new = len(self.trials) - self._n_published
        if new > 0:
            tail = list(itertools.islice(reversed(self.trials), new + 1))[::-1]
            if any(a > b for a, b in zip(tail, tail[1:])):
                self.trials = {k: self.trials[k] for k in sorted(self.trials)}
        self._n_published = len(self.trials)
        self.study.trials = list(self.trials.values())

    def _tell(self, t: Trial) -> None:
        if self.fidelity is not None:
            self.fidelity.observe(t.params, t.intermediate, t.state, t.value)
        if t.state == TrialState.COMPLETE:
            self.opt.tell(t.params, t.values if len(t.values) > 1 else t.values[0], constraints=t.constraints)
        elif t.state == TrialState.PRUNED:
            self.opt.tell(t.params, t.value, state="PRUNED")
        else:
            self.opt.tell(t.params, None, error=t.error or "failed")
        self.told.add(t.number)

    def sync(self) -> None:
        """Take in trials written by other processes (and, on start, by earlier runs)."""
        changed, self.seq = self.storage.trials_since(self.name, self.seq)
        for t in changed:
            with contextlib.suppress(GpuBoError):  # stored JSON -> the space's own values (tuples)
                t.params = self.space.canonical(t.params)
            if t.number in self.running:
                continue
            if self.synced and t.state == TrialState.RUNNING:
                self.started_here.add(t.number)
            if t.number not in self.trials or t.number not in self.told:
                self.trials[t.number] = t
            if t.number in self.told:
                continue
            if not t.state.finished:  # RUNNING or WAITING: pending, never suggested again
                if t.number not in self.external:
                    self.opt.add_pending(t.params)
                    self.external.add(t.number)
            else:
                self.external.discard(t.number)  # tell() removes its pending entry
                self._pruning_saw(t)
                self._tell(t)
                self._publish()
                self._progress()
        self._publish()
        self.synced = True

    # -- submitting --------------------------------------------------------------------------
    def _ask(self, k: int, reserved: int = 0) -> list[dict[str, Any]]:
        """Up to ``k`` new points, never more than the trials left to ``n_trials`` (``reserved``:
        points already taken from the queue); fewer when a finite space has fewer unseen points
        left, none (and no new trial from then on) when it has none."""
        if len(self.trials) >= self.n_trials:  # the study is full (others' trials count too)
            self.stop_new = True
            return []
        k = min(k, self.n_trials - len(self.trials) - len(self.queue) - reserved)
        if k <= 0:
            return []
        try:
            return self.opt.ask(n=k)
        except SpaceExhausted as e:
            return self._exhausted(e)
        except GpuBoError as e:
            if k == 1:
                return self._exhausted(e)
        points: list[dict[str, Any]] = []  # fewer than k unseen points left: take them one by one
        for _ in range(k):
            try:
                points.append(self.opt.ask(n=1)[0])
            except GpuBoError as e:
                return points or self._exhausted(e)
        return points

    def _exhausted(self, e: GpuBoError) -> list[dict[str, Any]]:
        """No unseen point is left: run what runs, start nothing new, and say so once."""
        self.stop_new = True
        warnings.warn(f"study {self.name!r}: no new suggestion after {len(self.trials)} of n_trials="
                      f"{self.n_trials} trials ({e}); stopping", GpuBoWarning, stacklevel=7)
        return []

    def _drop_queue(self, points: list[dict[str, Any]] | None = None) -> None:
        for q in self.queue if points is None else points:
            self.opt.remove_pending(q)
        if points is None:
            self.queue = []

    def fill(self) -> None:
        """Ask for as many points as there are free workers and start them."""
        for _ in range(3):  # a retry only after another process took the same point
            if not self.timed_out:
                self._claim_waiting()
            free = self.backend.free_slots()
            if self.stop_new:
                self._drop_queue()
                return
            if free <= 0:
                self._prefetch()
                return
            take, self.queue = self.queue[:free], self.queue[free:]
            if self.cfg["prefetch"] and self._prefetched and free > len(take):  # a worker waits
                self._short = True
                self.prefetch_depth = min(2 * self.prefetch_depth, max(1, (len(self.running) + free) // 4))
            points = take + (self._ask(free - len(take), len(take)) if free > len(take) else [])
            if not points:
                return
            retry = False
            for i, p in enumerate(points):
                with sigint_held():  # stored as RUNNING and known as running: both or neither
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

    def _claim_waiting(self) -> None:
        """Start re-queued (WAITING) trials on free workers, before any new point is asked for."""
        while self.backend.free_slots() > 0:
            with sigint_held():  # RUNNING in the store and known as ours: both or neither
                t = self.storage.claim_waiting(self.name, self.owner)
                if t is None:
                    return
                with contextlib.suppress(GpuBoError):
                    t.params = self.space.canonical(t.params)
                if t.number in self.external:
                    self.external.discard(t.number)  # pending in opt already; tell() removes it
                else:
                    self.opt.add_pending(t.params)
                self._start(t)

    def _prefetch(self) -> None:
        """With ``RunOptions(prefetch=True)``: while every worker is busy, suggest the next
        points now (the running trials pending), so the next free workers start without waiting.
        How many: ``prefetch_depth``, doubled (up to a quarter of the workers) when a worker had
        to wait for a suggestion, one less after a batch that lasted; one ask of several points
        fits the GP once (issue 18.3)."""
        if (self.cfg["prefetch"] and not self.queue and self.running and self.backend.free_slots() <= 0
                and len(self.trials) < self.n_trials and not isinstance(self.backend, SerialBackend)):
            if self._prefetched and not self._short:
                self.prefetch_depth = max(1, self.prefetch_depth - 1)
            self._prefetched, self._short = True, False
            self.queue = self._ask(self.prefetch_depth)

    def _start(self, t: Trial) -> None:
        self.trials[t.number] = t
        self.running[t.number] = t
        timeout = self.cfg["trial_timeout"]
        if timeout is not None:
            self.deadline[t.number] = time.monotonic() + timeout
        task = TrialTask(t.number, dict(t.params), device=self._trial_device(t.number),
                         direction=self.direction, pruner=self.cfg["pruner"], pruning=self._pruning_client(),
                         timeout=timeout, pass_trial=self.pass_trial, n_objectives=len(self.study.directions))
        task.search = search_spec(self.opt, self.space)  # what trial.suggest_* knows (define-by-run)
        self.backend.submit(task)
        self._publish()

    # -- pruning: the driver's board, reached by the backend's transport (gpu_bo.pruning) --------
    def _pruning_client(self) -> Any:
        """The pruning client a task carries (None without a pruner); the service is made at the
        first start (after ``backend.start()``) with every finished trial known so far."""
        if self.cfg["pruner"] is None:
            return None
        if self.pruning is None:
            local = LocalPruning(self.cfg["pruner"], self.direction, self.name)
            for x in self.trials.values():
                if x.state.finished:
                    local.finish(x.number, x.intermediate)
            make = getattr(self.backend, "pruning_service", None)
            self.pruning = make(local) if callable(make) else local
        return self.pruning.client()

    def _pruning_saw(self, t: Trial) -> None:
        """Tell the pruning service that trial ``t`` finished (ours, another process's)."""
        if self.pruning is not None:
            self.pruning.finish(t.number, t.intermediate)

    def _trial_device(self, number: int) -> str:
        dev = self.cfg["device"]
        if dev.type == "cuda" and dev.index is None:
            import torch

            n = torch.cuda.device_count()
            return f"cuda:{number % n}" if n > 1 else "cuda"
        return str(dev)

    # -- finishing ---------------------------------------------------------------------------
    def finish(self, number: int, state: TrialState, value: float | None, error: str | None,
               intermediate: Mapping[int, float] | None = None, result: TrialResult | None = None) -> None:
        t = self.running.get(number)
        if t is None:
            return
        t.state, t.value, t.error, t.end_time = state, value, error, time.time()
        if result is not None and state == TrialState.COMPLETE:
            t.values, t.constraints = result.values, result.constraints
            k = self.opt.n_constraints
            if t.constraints is not None and k is not None and len(t.constraints) != k:
                t.state, t.values, t.constraints = TrialState.FAILED, None, None
                t.error = (f"objective returned {len(result.constraints)} constraint values; expected {k} "
                           "(as the study's earlier trials)")
        conflict = self._learn(t, result)
        if intermediate:
            t.intermediate = dict(intermediate)
        self.storage.finish_trial(self.name, t)  # first on disk, then forgotten as running
        self.running.pop(number)
        self.deadline.pop(number, None)
        self._pruning_saw(t)
        self._tell(t)
        self._publish()
        self._progress()
        for cb in self.cfg["callbacks"]:
            self._call(cb, t)
        if conflict is not None:  # recorded FAILED; the run stops as Optuna's does (define_by_run)
            raise DistributionConflict(conflict)

    def _learn(self, t: Trial, result: TrialResult | None) -> str | None:
        """Define-by-run (:mod:`gpu_bo.define_by_run`): the trial's params become those its
        objective used and the optimizer takes in the new distributions; a distribution conflict
        makes the trial FAILED and is returned."""
        report = None if result is None else result.suggested
        if report is None:
            return None
        conflict = report.get("conflict")
        if isinstance(self.opt, LearnedOptimizer):
            t.params, conflict = self.opt.learned(t.number, t.params, report)
        if conflict is not None:
            t.state, t.value, t.values, t.constraints, t.error = TrialState.FAILED, None, None, None, conflict
        return conflict

    def _call(self, cb: Callback, t: Trial) -> None:
        """Run one callback; its error (not Ctrl-C) is warned about once and the study goes on."""
        try:
            cb(self.study, t)
        except Exception as e:  # noqa: BLE001 - a callback bug must not stop the study
            if not self.callback_failed:
                self.callback_failed = True
                warnings.warn(f"study {self.name!r}: callback {cb!r} raised {type(e).__name__}: {e} after "
                              f"trial {t.number}; the study goes on (later callback errors are not "
                              "reported)", GpuBoWarning, stacklevel=7)

    def on_result(self, r: TrialResult) -> None:
        self.finish(r.number, TrialState(r.state), r.value, r.error, r.intermediate, result=r)

    def check_timeouts(self) -> None:
        now = time.monotonic()
        for number, dl in list(self.deadline.items()):
            if now >= dl and number in self.running:
                self.backend.cancel(number)
                self.finish(number, TrialState.FAILED, None,
                            f"trial_timeout: still running after {self.cfg['trial_timeout']} s; stopped")

    def stop_running(self, why: str) -> list[int]:
        """Re-queue (or, when that is off or done once, mark FAILED) the trials this run stops;
        returns the numbers re-queued."""
        requeued = []
        for number in list(self.running):
            t = self.running[number]
            try:
                if self.live.requeue_stopped(t, why):
                    self.running.pop(number)
                    self.deadline.pop(number, None)
                    requeued.append(number)
                    self._publish()
                else:
                    self.finish(number, TrialState.FAILED, None, why)
            except Exception:  # noqa: BLE001 - best effort while stopping
                pass
        return requeued

    # -- progress ----------------------------------------------------------------------------
    def open_progress(self, enabled: bool) -> None:
        if enabled:
            done = sum(t.state.finished for t in self.trials.values())
            self.bar = ProgressBar(self.n_trials, done, self.name)
            self._progress(advance=False)

    def _progress(self, advance: bool = True) -> None:
        if self.bar is not None:
            self.bar.show_study(self.study, self.trials.values(), advance=advance)

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
        return None if not cands else min(MAX_TIMEOUT, max(0.0, min(cands)))

    def loop(self) -> None:
        while True:
            if self.cfg["end"] is not None and time.monotonic() >= self.cfg["end"]:
                self.stop_new = self.timed_out = True
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
                self.live.reclaim()
                self.sync()

    def await_others(self) -> bool:
        """Wait until other processes finish the trials of this study they started during this
        run (or go stale, or ``timeout``, or one ``trial_timeout`` after this run's last trial),
        so the study returned holds every trial they finished. Trials left RUNNING from before
        this run are not waited for. Returns True when a trial is WAITING to be re-run (the
        caller runs the loop again), False when done."""
        limit = self.cfg["trial_timeout"]
        give_up = None if limit is None else time.monotonic() + limit
        while self.cfg["shared"]:
            self.live.reclaim()  # a dead process's trials go back to the queue (or end FAILED)
            self.sync()
            if not self.timed_out and any(t.state == TrialState.WAITING for t in self.trials.values()):
                return True
            if not any(t.state == TrialState.RUNNING and t.number in self.started_here
                       for t in self.trials.values()):
                return False
            now = time.monotonic()
            if any(x is not None and now >= x for x in (self.cfg["end"], give_up)):
                return False
            time.sleep(self.cfg["sync_interval"])
        return False


