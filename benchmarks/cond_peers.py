"""The methods of benchmarks/conditional.py, each on a conditional gpu_bo Space, with its defaults.

- ``gpu_bo``      ``gb.Optimizer(space, direction="minimize", seed=...)`` over the conditional
                  Space, ask/tell
- ``optuna_tpe``  Optuna define-by-run (``trial.suggest_*`` in the order of the space, a child only
                  when its parent took the value) with ``TPESampler(multivariate=True, group=True)``
- ``optuna_gp``   the same define-by-run objective with ``GPSampler()``: on a dynamic space it
                  samples the parameters outside the intersection search space independently
- ``hyperopt``    hyperopt's ``fmin(algo=tpe.suggest)`` on nested ``hp.choice`` (the real
                  hyperopt, not gpu_bo's drop-in)
- ``smac``        SMAC3's ``HyperparameterOptimizationFacade`` (ask/tell) on a ConfigSpace with
                  ``EqualsCondition`` s
- ``random``      uniform random search (a uniform point of the cube, snapped; inactive dropped)

``run_method(method, space, evaluate, seed, budget)`` runs one optimization and returns the value
and the method time (everything but the evaluation) of each of the ``budget`` evaluations, and,
for the ask/tell methods, the time of one more suggestion after the last tell (n = budget).
"""

from __future__ import annotations

import importlib.util
import math
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

import gpu_bo as gb

__all__ = ["COND_METHODS", "cond_available", "run_method", "suggest_define_by_run", "to_hyperopt",
           "to_configspace", "flatten_hyperopt"]

Params = dict[str, Any]
Evaluate = Callable[[Mapping[str, Any]], float]

COND_METHODS = ("gpu_bo", "optuna_tpe", "hyperopt", "smac", "optuna_gp", "random")
_REQUIRES = {"optuna_tpe": "optuna", "optuna_gp": "optuna", "hyperopt": "hyperopt", "smac": "smac"}
# relative cost of one run (the process pool starts the dear ones first)
COST = {"smac": 6.0, "gpu_bo": 5.0, "optuna_gp": 3.0, "optuna_tpe": 1.0, "hyperopt": 1.0, "random": 0.5}


def cond_available(method: str) -> bool:
    """Whether ``method``'s package is installed (a missing peer is skipped, not failed)."""
    if method not in COND_METHODS:
        raise ValueError(f"method: got {method!r}, expected one of {COND_METHODS}")
    pkg = _REQUIRES.get(method)
    return pkg is None or importlib.util.find_spec(pkg) is not None


def _active(space: gb.Space, name: str, params: Mapping[str, Any]) -> bool:
    when = space.dims[name].when
    return when is None or all(p in params and params[p] in vals for p, vals in when.items())


def _one_parent(space: gb.Space, name: str) -> tuple[str, tuple] | None:
    when = space.dims[name].when
    if when is None:
        return None
    items = list(when.items())
    if len(items) != 1:  # none of the benchmark's spaces needs an AND of parents
        raise ValueError(f"{name}: when={when!r}; expected one parent")
    return items[0]


# -- Optuna define-by-run ------------------------------------------------------------------------

def suggest_define_by_run(trial: Any, space: gb.Space) -> Params:
    """Optuna's ``trial.suggest_*`` over ``space`` in its order (parents first), a conditional
    parameter only when its condition holds: the define-by-run objective a user writes."""
    p: Params = {}
    for name in space.order:
        if not _active(space, name, p):
            continue
        d = space.dims[name]
        if d.kind == "real":
            p[name] = trial.suggest_float(name, d.low, d.high, log=d.log, step=d.step)
        elif d.kind == "integer":
            p[name] = trial.suggest_int(name, d.low, d.high, log=d.log, step=d.step)
        else:
            p[name] = trial.suggest_categorical(name, list(d.choices))
    return p


# -- hyperopt: nested hp.choice ------------------------------------------------------------------

def _hp_leaf(name: str, d: Any) -> Any:
    from hyperopt import hp
    from hyperopt.pyll import scope

    if d.kind == "real":
        return hp.loguniform(name, math.log(d.low), math.log(d.high)) if d.log else hp.uniform(name, d.low, d.high)
    if d.kind == "integer":
        if d.log:
            return scope.int(hp.qloguniform(name, math.log(d.low), math.log(d.high), d.step))
        if d.step == 1:
            return hp.uniformint(name, d.low, d.high)
        return scope.int(hp.quniform(name, d.low, d.high, d.step))
    return hp.choice(name, list(d.choices))


def to_hyperopt(space: gb.Space, parent: tuple[str, Any] | None = None) -> dict[str, Any]:
    """The nested hyperopt space of ``space``: a categorical parent becomes ``hp.choice`` over
    one dict per choice holding that choice and the children it activates (recursively)."""
    from hyperopt import hp

    out: dict[str, Any] = {}
    for name in space.order:
        cond = _one_parent(space, name)
        if (cond is None and parent is not None) or (cond is not None and (parent is None or cond[0] != parent[0]
                                                                           or parent[1] not in cond[1])):
            continue
        d = space.dims[name]
        kids = [n for n in space.order if (c := _one_parent(space, n)) is not None and c[0] == name]
        if not kids:
            out[name] = _hp_leaf(name, d)
            continue
        if d.kind != "categorical":
            raise ValueError(f"{name}: a parent of {kids}; to_hyperopt expects categorical parents")
        out[name] = hp.choice(name, [{name: v, **to_hyperopt(space, (name, v))} for v in d.choices])
    return out


def flatten_hyperopt(sample: Mapping[str, Any]) -> Params:
    """hyperopt's nested sample -> the flat parameters (nested dicts merged, ints plain)."""
    flat: Params = {}
    for k, v in sample.items():
        if isinstance(v, Mapping):
            flat.update(flatten_hyperopt(v))
        else:
            flat[k] = v.item() if isinstance(v, np.generic) else v
    return flat


def _run_hyperopt(space: gb.Space, evaluate: Evaluate, seed: int, budget: int, rec: dict[str, Any]) -> None:
    from hyperopt import STATUS_OK, Trials, fmin, tpe

    last = [_clocks()]

    def fn(sample: Mapping[str, Any]) -> dict[str, Any]:  # method time: from the last return to this call
        _since(rec, "step_s", last[0])
        p = space.canonical(flatten_hyperopt(sample))
        v = _evaluate(evaluate, p, rec)
        last[0] = _clocks()
        return {"loss": v, "status": STATUS_OK}

    fmin(fn, to_hyperopt(space), algo=tpe.suggest, max_evals=budget, trials=Trials(),
         rstate=np.random.default_rng(seed), show_progressbar=False)


# -- SMAC3 ---------------------------------------------------------------------------------------

def to_configspace(space: gb.Space, seed: int) -> Any:
    """The ConfigSpace of ``space``: one hyperparameter per dimension, an ``EqualsCondition``
    (``InCondition`` for several values) per ``when=``. A stepped integer becomes its grid index."""
    from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, InCondition, Integer

    cs = ConfigurationSpace(seed=seed)
    hps = {}
    for name in space.order:
        d = space.dims[name]
        if d.kind == "real":
            if d.step is not None:
                raise ValueError(f"{name}: a stepped Real; to_configspace has no use for it here")
            hps[name] = Float(name, (d.low, d.high), log=d.log)
        elif d.kind == "integer":
            if d.step != 1 and d.log:
                raise ValueError(f"{name}: a stepped log Integer; to_configspace has no use for it here")
            hps[name] = Integer(name, (0, (d.high - d.low) // d.step) if d.step != 1 else (d.low, d.high), log=d.log)
        else:
            hps[name] = Categorical(name, list(d.choices))
    cs.add(list(hps.values()))
    for name in space.order:
        cond = _one_parent(space, name)
        if cond is not None:
            par, vals = cond
            cs.add(EqualsCondition(hps[name], hps[par], vals[0]) if len(vals) == 1
                   else InCondition(hps[name], hps[par], list(vals)))
    return cs


def _from_config(space: gb.Space, config: Mapping[str, Any]) -> Params:
    p: Params = {}
    for k, v in dict(config).items():
        v = v.item() if isinstance(v, np.generic) else v
        d = space.dims[k]
        if d.kind == "integer" and d.step != 1:
            v = d.low + int(v) * d.step
        p[k] = v
    return space.canonical(p)


def _run_smac(space: gb.Space, evaluate: Evaluate, seed: int, budget: int, rec: dict[str, Any]) -> None:
    from smac import HyperparameterOptimizationFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    with tempfile.TemporaryDirectory(prefix="cond_smac_") as tmp:
        sc = Scenario(to_configspace(space, seed), deterministic=True, n_trials=budget, seed=seed,
                      output_directory=tmp)
        smac = HyperparameterOptimizationFacade(sc, lambda config, seed=0: 0.0, overwrite=True, logging_level=40)
        for _ in range(budget):
            t0 = _clocks()
            info = smac.ask()
            w, c = _clocks()
            v = _evaluate(evaluate, _from_config(space, info.config), rec)
            t1 = _clocks()
            smac.tell(info, TrialValue(cost=v))
            _since(rec, "step_s", t1, (w - t0[0], c - t0[1]))
        _ask_at_budget(smac.ask, rec)


# -- the ask/tell methods ------------------------------------------------------------------------

class _Optuna:
    def __init__(self, space: gb.Space, seed: int, sampler: str) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)  # GPSampler warns at every fallback
        s = (optuna.samplers.TPESampler(multivariate=True, group=True, seed=seed) if sampler == "tpe"
             else optuna.samplers.GPSampler(seed=seed))
        self.space, self.study, self._trial = space, optuna.create_study(direction="minimize", sampler=s), None

    def ask(self) -> Params:
        self._trial = self.study.ask()
        return suggest_define_by_run(self._trial, self.space)

    def tell(self, params: Params, value: float) -> None:
        self.study.tell(self._trial, value)


class _GpuBo:
    def __init__(self, space: gb.Space, seed: int) -> None:
        self.opt = gb.Optimizer(space, direction="minimize", seed=seed)

    def ask(self) -> Params:
        return dict(self.opt.ask())

    def tell(self, params: Params, value: float) -> None:
        self.opt.tell(params, value)


class _Random:
    def __init__(self, space: gb.Space, seed: int) -> None:
        self.space, self.rng = space, np.random.default_rng(seed)

    def ask(self) -> Params:
        X = torch.as_tensor(self.rng.random((1, self.space.d)), dtype=torch.float64)
        return self.space.decode(self.space.snap(X))[0]

    def tell(self, params: Params, value: float) -> None:
        pass


def _evaluate(evaluate: Evaluate, p: Params, rec: dict[str, Any]) -> float:
    t0 = time.perf_counter()
    v = float(evaluate(p))
    rec["eval_s"].append(time.perf_counter() - t0)
    rec["values"].append(v)
    rec["branches"].append(str(p[next(iter(p))]))  # the first name of a space is its top-level choice
    return v


def _clocks() -> tuple[float, float]:
    """Wall and process CPU time: on the shared machine the CPU time is the method's own cost."""
    return time.perf_counter(), time.process_time()


def _since(rec: dict[str, Any], key: str, t0: tuple[float, float], extra: tuple[float, float] = (0.0, 0.0)) -> None:
    w, c = _clocks()
    rec[key].append(w - t0[0] + extra[0])
    rec[key.replace("_s", "_cpu_s")].append(c - t0[1] + extra[1])


def _ask_at_budget(ask: Callable[[], Any], rec: dict[str, Any]) -> None:
    """One more suggestion on all `budget` points (not evaluated): wall and CPU seconds."""
    t0 = _clocks()
    ask()
    w, c = _clocks()
    rec["ask_at_budget_s"], rec["ask_at_budget_cpu_s"] = w - t0[0], c - t0[1]


def _ask_tell(ad: Any, evaluate: Evaluate, budget: int, rec: dict[str, Any]) -> None:
    for _ in range(budget):
        t0 = _clocks()
        p = ad.ask()
        w, c = _clocks()
        v = _evaluate(evaluate, p, rec)
        t1 = _clocks()
        ad.tell(p, v)
        _since(rec, "step_s", t1, (w - t0[0], c - t0[1]))
    _ask_at_budget(ad.ask, rec)


def run_method(method: str, space: gb.Space, evaluate: Evaluate, seed: int, budget: int) -> dict[str, Any]:
    """One run: ``values`` (each evaluation), ``step_s`` / ``step_cpu_s`` (method wall / CPU time of
    each), ``eval_s``, ``branches`` (the top-level choice of each) and ``ask_at_budget_s`` /
    ``ask_at_budget_cpu_s`` (one more suggestion after the last tell; None for hyperopt's fmin)."""
    if not cond_available(method):
        raise ImportError(f"method {method!r}: its package {_REQUIRES[method]!r} is not installed")
    rec: dict[str, Any] = {"values": [], "step_s": [], "step_cpu_s": [], "eval_s": [], "branches": [],
                           "ask_at_budget_s": None, "ask_at_budget_cpu_s": None}
    if method == "hyperopt":
        _run_hyperopt(space, evaluate, seed, budget, rec)
    elif method == "smac":
        _run_smac(space, evaluate, seed, budget, rec)
    else:
        ad = {"gpu_bo": lambda: _GpuBo(space, seed), "random": lambda: _Random(space, seed),
              "optuna_tpe": lambda: _Optuna(space, seed, "tpe"), "optuna_gp": lambda: _Optuna(space, seed, "gp")}[method]()
        _ask_tell(ad, evaluate, budget, rec)
    return rec
