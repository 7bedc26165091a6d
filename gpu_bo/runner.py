"""Run trials (serially, in threads, in processes or on a Ray cluster) with failures, timeouts,
persistence, resume and progress.

:func:`optimize` is the loop: ask the :class:`~gpu_bo.optimizer.Optimizer` for as many points
as there are free workers (the running trials are pending points, so suggestions never repeat
and batch suggestions use fantasies), record each as a RUNNING trial in the storage, hand it to
a backend, and as soon as any trial finishes record it, tell the optimizer and ask again. No
worker waits for another.

Failures never stop the study: an exception, ``None``/NaN/inf, ``trial_timeout`` (the process
backend kills and replaces the stuck worker) or a dead worker process make a FAILED trial with
its error text, and a callback that raises is warned about once. Ctrl-C stops the run,
re-queues the running trials (WAITING, re-run once by the next worker of any process; FAILED
"interrupted" with ``RunOptions(requeue_interrupted=False)``), and returns the study with every
finished trial saved (a second Ctrl-C meanwhile is ignored). With a shared storage the run sends
heartbeats, re-runs other processes' stale trials (:mod:`gpu_bo.heartbeat`) and waits for their
running trials before it returns, so the study holds every trial. Failed points
are never proposed again, and with the optimizer's default ``failure_policy="worst"`` the GP
sees them as the worst value so far, steering the search away from regions that keep failing.

Backends (serial, thread, process, Ray and plug-ins) live in :mod:`gpu_bo.backends`, with their
interface (:class:`~gpu_bo.backends.Backend`) and registry; the runner imports them, never the
other way round, and hands each backend a :class:`~gpu_bo.backends.BackendOptions` built from
its own arguments. ``register_backend``, ``BACKENDS`` and the backend classes are re-exported
here for existing imports.
"""

from __future__ import annotations

import numbers
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from gpu_bo.backends import (  # noqa: F401 - re-exported: the plug-in point lives in runner's namespace too
    BACKENDS, Backend, BackendOptions, ProcessBackend, SerialBackend, ThreadBackend, get_backend,
    register_backend,
)
from gpu_bo.heartbeat import Liveness
from gpu_bo.pruners import Pruner
from gpu_bo.run_options import (  # noqa: F401 - RunOptions' documented home is this module
    MAX_TIMEOUT, RunOptions, backend_options, check_seconds, check_study_name, positive_int,
)
from gpu_bo.define_by_run import LearnedOptimizer
from gpu_bo.dimensions import Real
from gpu_bo.objectives import wants_trial
from gpu_bo.space import Space, as_space
from gpu_bo.stopping import drive
from gpu_bo.storage import InMemoryStorage, Storage, open_storage, process_owner
from gpu_bo.direction import parse_directions
from gpu_bo.run_loop import Callback, Run
from gpu_bo.study import Study

__all__ = [
    "optimize", "RunOptions", "Backend", "BackendOptions", "SerialBackend", "ThreadBackend",
    "ProcessBackend", "BACKENDS", "register_backend", "get_backend",
]

def optimize(
    objective: Callable,
    space: Space | Mapping[str, Any] | None = None,
    n_trials: int | None = None,
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
    directions: Sequence[str] | None = None,
) -> Study:
    """Optimize ``objective`` over ``space`` and return the :class:`~gpu_bo.study.Study`.

    Args:
        objective: ``objective(params) -> float``, or ``objective(trial) -> float`` when its
            parameter is named ``trial``; with several objectives it returns one value per
            objective, and it may return ``{"value": ..., "constraints": [c1, ...]}`` (feasible
            iff every ``c <= 0``). Its parameter named ``trial`` (a :class:`~gpu_bo.objectives.TrialHandle` with
            ``params``, ``device``, ``report``, ``should_prune`` and ``suggest_float``,
            ``suggest_int``, ``suggest_categorical``).
        space: a :class:`~gpu_bo.space.Space` or the shorthand dict; None: a define-by-run
            objective (``objective(trial)`` calling ``trial.suggest_float/int/categorical``), whose
            space, conditions included, is learned from those calls (:mod:`gpu_bo.define_by_run`).
        n_trials: (required) total trials of the study, in any state, counting trials of earlier
            (resumed) runs and of other processes sharing the storage. A finite space stops
            the run early (with a warning) once every point of it is evaluated.
        direction: "minimize" or "maximize"; None: the objective's ``direction`` attribute
            (``SklearnCV`` maximizes) or "minimize".
        n_workers: trials run at once.
        backend: "serial", "thread", "process", a registered name (e.g. "ray") or a class.
        storage: None (in memory), "sqlite:///path.db" or a :class:`~gpu_bo.storage.Storage`.
        study_name: the study inside the storage (default "default"); rerunning with the same
            storage and name resumes it.
        timeout: seconds after which no new trial starts (running ones finish); None or
            ``0 < timeout <= MAX_TIMEOUT``.
        trial_timeout: seconds a trial may run before it is stopped and recorded FAILED; None
            or ``0 < trial_timeout <= MAX_TIMEOUT``.
        callbacks: called as ``cb(study, trial)`` after each trial of this run finishes; one
            that raises is reported once with a ``GpuBoWarning`` and the study goes on.
        progress: show a tqdm bar (trials done, failures, best value so far).
        seed: seed of the optimizer.
        acquisition: "ei", "pi", "ucb", "qei", "qpi", "qucb" or "qnei".
        device: where the optimizer computes and ``trial.device`` points: "auto", "cpu", "cuda".
        pruner: e.g. :class:`~gpu_bo.pruners.MedianPruner` for objectives that report.
        options: :class:`RunOptions` for the rarer knobs.
        directions: one direction per objective for a multi-objective study (overrides
            ``direction``); ``study.best_trials`` is then its Pareto set.

    Returns:
        The study with every trial (including resumed ones): ``best_params``,
        ``best_value``, ``best_trial``, ``trials``, ``to_dataframe()``.
    """
    from gpu_bo.device import resolve_device
    from gpu_bo.optimizer import Optimizer

    options = options or RunOptions()
    if not callable(objective):
        raise TypeError(f"objective: got {type(objective).__name__}, expected a callable")
    learn = space is None
    if learn and not wants_trial(objective):
        raise TypeError("space: got None with an objective(params); expected a space, or an objective whose "
                        "parameter is named `trial` and calls trial.suggest_float/int/categorical (define-by-run)")
    space = None if learn else as_space(space)
    if n_trials is None:
        raise TypeError("n_trials: missing; expected the number of trials of the study (a positive int)")
    n_trials = positive_int("n_trials", n_trials)
    n_workers = positive_int("n_workers", n_workers)
    if direction is None:
        direction = getattr(objective, "direction", None) or "minimize"
    dirs = parse_directions(direction if directions is None else directions,
                            "direction" if directions is None else "directions", 4)
    for label, v in (("timeout", timeout), ("trial_timeout", trial_timeout)):
        check_seconds(label, v)
    name = check_study_name(study_name)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        seed = int(seed)  # numpy integers
    backend_cls = get_backend(backend)
    if backend_cls is SerialBackend and n_workers > 1:
        raise ValueError(f"n_workers: got {n_workers} with backend='serial'; use backend='thread' or "
                         "'process' to run trials in parallel")
    if pruner is not None and not hasattr(pruner, "should_prune"):
        raise TypeError(f"pruner: got {type(pruner).__name__}, expected a gpu_bo.pruners.Pruner")
    callbacks = tuple(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks: got {cb!r}, expected callables cb(study, trial)")
    dev = resolve_device(device)
    if learn and seed is None:  # one seed for every optimizer the learned space rebuilds
        seed = random.randrange(2**31 - 1)

    def make(sp: Space) -> Optimizer:
        return Optimizer(sp, directions=dirs, acquisition=acquisition, xi=options.xi, kappa=options.kappa,
                         n_initial=options.n_initial, seed=seed, device=dev, options=options.optimizer_options,
                         strategy=options.strategy)

    opt = make(Space({"_": Real(0.0, 1.0)}) if learn else space)  # checks the optimizer's arguments now
    be = backend_cls(objective, n_workers, backend_options(options, trial_timeout))  # checks its options

    owns_storage = not isinstance(storage, Storage)
    store = InMemoryStorage() if storage is None else open_storage(storage, create=True)
    try:
        info = store.get_or_create_study(name, dirs, None if learn else space.to_dict())
        if learn:  # the learned space stands for both (it canonicalizes stored params too)
            space = opt = LearnedOptimizer(make, seed, info.space, on_grow=lambda d: store.set_space(name, d),
                                           reload=lambda: store.study_info(name).space)
        live = Liveness(store, name, process_owner(), options.heartbeat_interval, options.stale_after,
                        options.requeue_interrupted)
        live.warn_reclaimed(live.reclaim(force=True))
        cfg = {"live": live, "trial_timeout": trial_timeout, "pruner": pruner, "device": dev, "callbacks": callbacks,
               "end": None if timeout is None else time.monotonic() + timeout,
               "shared": not isinstance(store, InMemoryStorage), "sync_interval": options.sync_interval,
               "prefetch": options.prefetch}
        run = Run(objective, space, n_trials, dirs, store, name, opt, be, cfg)
        run.sync()
        be.start()
        if cfg["shared"]:
            live.start(lambda: list(run.running))
        run.open_progress(progress)
        try:
            drive(run)
        finally:
            live.stop()
        return run.study
    finally:
        if owns_storage:
            store.close()
