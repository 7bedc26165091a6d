"""The methods of benchmarks/multi_fidelity.py, each run on a task until it has used a total
resource budget; each returns its trials as ``(resource used so far, full-resource value or
None)`` in the order they finished.

A trial's resource is its last step (``Trial.resource``); the budget is counted the same way for
every method, and a run stops starting trials once the budget is used (the last trial may
overshoot it; the curves are read at the budget). Trials run one at a time (serial), so every
method sees the same sequence of information.

gpu_bo's methods are driven here by the same pieces ``gb.optimize`` composes on its serial
backend (``Optimizer.ask/tell``, the pruning board :class:`gpu_bo.pruning.LocalPruning`,
:func:`gpu_bo.multi_fidelity.attach` and ``ResourceModel.observe``, as ``run_loop.Run._tell``),
because ``gb.optimize`` stops by trial count, not by resource.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.mf_tasks import Task

__all__ = ["METHODS", "run_method"]

Events = list[tuple[float, float | None]]


def _run_trial(task: Task, params: dict[str, Any], seed: int, stop: Callable[[int, float], bool] | None
               ) -> dict[int, float]:
    """The trial's reported ``{step: value}``, stopped when ``stop(step, value)`` says so."""
    vals: dict[int, float] = {}
    for step, v in task.curve(params, seed):
        vals[step] = v
        if stop is not None and step < task.max_resource and stop(step, v):
            break
    return vals


def _gpu_bo(task: Task, seed: int, budget: float, pruner: str | None, model: bool) -> Events:
    from gpu_bo.multi_fidelity import attach
    from gpu_bo.optimizer import Optimizer
    from gpu_bo.pruners import HyperbandPruner
    from gpu_bo.pruning import LocalPruning

    opt = Optimizer(task.space, direction="maximize", seed=seed)
    hb = HyperbandPruner(task.min_resource, task.max_resource, task.eta) if pruner == "hyperband" else None
    board = LocalPruning(hb, "maximize", f"mf-{seed}") if hb is not None else None
    fidelity = attach(opt, hb) if model and hb is not None else None
    used, events, number = 0.0, [], 0
    while used < budget:
        p = opt.ask()

        def stop(step: int, v: float, _n: int = number) -> bool:
            board.report(_n, step, v)
            return board.should_prune(_n)

        vals = _run_trial(task, p, seed, stop if board is not None else None)
        last = max(vals)
        complete = last >= task.max_resource
        used += last
        if board is not None:
            board.finish(number, vals)
        if fidelity is not None:
            fidelity.observe(p, vals, _state(complete), vals[last])
        opt.tell(p, vals[last], state=None if complete else "PRUNED")
        events.append((used, vals[last] if complete else None))
        number += 1
    return events


def _state(complete: bool) -> Any:
    from gpu_bo.study import TrialState

    return TrialState.COMPLETE if complete else TrialState.PRUNED


def _optuna(task: Task, seed: int, budget: float, pruner: str) -> Events:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pr = (optuna.pruners.HyperbandPruner(task.min_resource, task.max_resource, task.eta) if pruner == "hyperband"
          else optuna.pruners.SuccessiveHalvingPruner(min_resource=task.min_resource, reduction_factor=task.eta))
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=pr)
    used, events = 0.0, []
    while used < budget:
        trial = study.ask()
        p = _optuna_params(trial, task.space)

        def stop(step: int, v: float, _t: Any = trial) -> bool:
            _t.report(v, step)
            return _t.should_prune()

        vals = _run_trial(task, p, seed, stop)
        last = max(vals)
        used += last
        if last >= task.max_resource:
            study.tell(trial, vals[last])
            events.append((used, vals[last]))
        else:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            events.append((used, None))
    return events


def _optuna_params(trial: Any, space: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            out[name] = trial.suggest_categorical(name, spec)
        elif all(isinstance(v, int) for v in spec[:2]):
            out[name] = trial.suggest_int(name, spec[0], spec[1])
        else:
            out[name] = trial.suggest_float(name, spec[0], spec[1], log=len(spec) > 2)
    return out


def _random_params(rng: np.random.Generator, space: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            out[name] = spec[int(rng.integers(len(spec)))]
        elif all(isinstance(v, int) for v in spec[:2]):
            out[name] = int(rng.integers(spec[0], spec[1] + 1))
        elif len(spec) > 2:
            out[name] = float(math.exp(rng.uniform(math.log(spec[0]), math.log(spec[1]))))
        else:
            out[name] = float(rng.uniform(spec[0], spec[1]))
    return out


def _random(task: Task, seed: int, budget: float, pruner: str | None) -> Events:
    """Random search at full resource, or with asynchronous successive halving (gpu_bo's
    ``SuccessiveHalvingPruner``, ASHA; the same decisions as Optuna's, tests/test_pruners_sh.py)."""
    from gpu_bo.pruners import SuccessiveHalvingPruner
    from gpu_bo.pruning import LocalPruning

    rng = np.random.default_rng(seed + 17)
    board = (LocalPruning(SuccessiveHalvingPruner(task.min_resource, task.eta), "maximize", f"mf-{seed}")
             if pruner == "asha" else None)
    used, events, number = 0.0, [], 0
    while used < budget:
        p = _random_params(rng, task.space)

        def stop(step: int, v: float, _n: int = number) -> bool:
            board.report(_n, step, v)
            return board.should_prune(_n)

        vals = _run_trial(task, p, seed, stop if board is not None else None)
        last = max(vals)
        used += last
        if board is not None:
            board.finish(number, vals)
        events.append((used, vals[last] if last >= task.max_resource else None))
        number += 1
    return events


def _ray_asha(task: Task, seed: int, budget: float, bohb: bool = False) -> Events:
    """Ray Tune's ASHAScheduler with random search (Tune's default searcher), or with
    ``bohb=True`` Tune's BOHB (TuneBOHB + HyperBandForBOHB, needs hpbandster and ConfigSpace),
    one trial at a time; stops every trial once the budget is used. BOHB pauses trials and resumes
    them; without checkpoints a resumed trial trains again from step 1, and the resource counted
    is still its last step (an undercount in BOHB's favour)."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.stopper import Stopper

    search = None
    if bohb:
        from ray.tune.schedulers.hb_bohb import HyperBandForBOHB
        from ray.tune.search.bohb import TuneBOHB

        search = TuneBOHB(seed=seed)

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)

    def trainable(config: dict[str, Any]) -> None:
        for step, v in task.curve(dict(config), seed):
            tune.report({"score": v, "step": step})

    class Budget(Stopper):
        def __init__(self) -> None:
            self.last: dict[str, int] = {}

        def __call__(self, trial_id: str, result: dict[str, Any]) -> bool:
            self.last[trial_id] = int(result["step"])
            return False

        def stop_all(self) -> bool:
            return sum(self.last.values()) >= budget

    space = {k: (tune.choice(v) if isinstance(v, list) else tune.randint(v[0], v[1] + 1)
                 if all(isinstance(x, int) for x in v[:2]) else tune.loguniform(v[0], v[1]) if len(v) > 2
                 else tune.uniform(v[0], v[1])) for k, v in task.space.items()}
    sched = (HyperBandForBOHB(time_attr="step", max_t=task.max_resource, reduction_factor=task.eta) if bohb else
             ASHAScheduler(time_attr="step", max_t=task.max_resource, grace_period=task.min_resource,
                           reduction_factor=task.eta))
    tuner = tune.Tuner(trainable, param_space=space,
                       tune_config=tune.TuneConfig(metric="score", mode="max", scheduler=sched, search_alg=search,
                                                   num_samples=10_000, max_concurrent_trials=1, reuse_actors=True),
                       run_config=tune.RunConfig(stop=Budget(), verbose=0))
    results = tuner.fit()
    rows = sorted((r.metrics_dataframe["step"].max(), r.metrics_dataframe.iloc[-1]["score"],
                   r.metrics.get("time_total_s", 0.0), r.metrics.get("timestamp", 0.0))
                  for r in results if r.metrics_dataframe is not None and len(r.metrics_dataframe))
    ray.shutdown()
    rows.sort(key=lambda x: x[3])
    used, events = 0.0, []
    for last, score, _, _ in rows:
        used += float(last)
        events.append((used, float(score) if last >= task.max_resource else None))
    return events


METHODS: dict[str, Callable[[Task, int, float], Events]] = {
    "gpu_bo_hyperband": lambda t, s, b: _gpu_bo(t, s, b, "hyperband", True),
    "gpu_bo_hyperband_nomodel": lambda t, s, b: _gpu_bo(t, s, b, "hyperband", False),
    "gpu_bo_full": lambda t, s, b: _gpu_bo(t, s, b, None, False),
    "optuna_tpe_hyperband": lambda t, s, b: _optuna(t, s, b, "hyperband"),
    "optuna_tpe_sh": lambda t, s, b: _optuna(t, s, b, "sh"),
    "random_asha": lambda t, s, b: _random(t, s, b, "asha"),
    "ray_asha": _ray_asha,
    "ray_bohb": lambda t, s, b: _ray_asha(t, s, b, bohb=True),
    "random": lambda t, s, b: _random(t, s, b, None),
}


def run_method(name: str, task: Task, seed: int, budget: float) -> Events:
    """Run method ``name`` (one of :data:`METHODS`) on ``task`` with ``seed`` until ``budget``."""
    if name not in METHODS:
        raise ValueError(f"method: got {name!r}, expected one of {sorted(METHODS)}")
    return METHODS[name](task, seed, budget)
