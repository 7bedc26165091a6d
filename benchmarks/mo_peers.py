"""Multi-objective ask/tell adapters of benchmarks/multi_objective.py, one per method.

Every adapter works on a ``benchmarks.mo_problems.MOProblem``: ``ask()`` returns one parameter
dict, ``tell(params, values, constraints)`` reports the problem's values (user units and
directions) and constraints (feasible iff every ``c <= 0``, ``None`` when unconstrained).
Each method keeps its package's defaults; every method that takes a number of initial points
gets the same ``n_initial`` (10, Optuna's own default for TPE and GPSampler).

- ``gpu_bo``          gpu_bo.Optimizer(space, directions=..., n_initial=...), constraints through
                      ``tell(..., constraints=...)``
- ``optuna_default``  the sampler ``optuna.create_study(directions=...)`` picks when given none
                      (Optuna 5: ``TPESampler``), built here as that class with its defaults and a
                      seed (plus ``constraints_func`` on a constrained problem)
- ``optuna_nsga2``    ``NSGAIISampler`` (population 50; no initial design of its own)
- ``optuna_gp``       ``GPSampler`` (log EHVI for several objectives; ``constraints_func``)
- ``botorch``         BoTorch's multi-objective tutorial loop: a ModelListGP of SingleTaskGPs
                      (one per objective and per constraint), SumMarginalLogLikelihood,
                      qLogNoisyExpectedHypervolumeImprovement (128 Sobol MC samples,
                      prune_baseline, the problem's reference point; constraints as
                      ``Z[..., j] <= 0`` callables), optimize_acqf(num_restarts=10,
                      raw_samples=512, options={"batch_limit": 5, "maxiter": 200}), on the
                      unit-cube encoding of gpu_bo's Space (integers rounded after)
- ``random``          uniform random search
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

import gpu_bo as gb
from benchmarks.mo_problems import MOProblem, to_max
from benchmarks.peers import _clean, _key, _optuna_distributions

__all__ = ["MO_METHODS", "MO_REQUIRES", "mo_available", "make_mo_method"]

Params = dict[str, Any]


def _finite(values: Sequence[float] | None) -> bool:
    return values is not None and all(v is not None and math.isfinite(v) for v in values)


class GpuBoMO:
    """gpu_bo's multi-objective / constrained Optimizer with its defaults."""

    def __init__(self, problem: MOProblem, seed: int, n_initial: int, device: str = "auto") -> None:
        self.name = "gpu_bo"
        self.opt = gb.Optimizer(problem.space, directions=list(problem.directions), n_initial=n_initial,
                                seed=seed, device=device)
        self.last_info: dict[str, Any] = {}

    def ask(self) -> Params:
        p = self.opt.ask()
        self.last_info = dict(getattr(self.opt, "last_suggestion_info", {}) or {})
        return dict(p)

    def tell(self, params: Params, values: Sequence[float] | None, constraints: Sequence[float] | None) -> None:
        kw = {} if constraints is None else {"constraints": list(constraints)}
        self.opt.tell(params, list(values) if values is not None else None, **kw)


class RandomMO:
    def __init__(self, problem: MOProblem, seed: int, n_initial: int, device: str = "auto") -> None:
        self.name = "random"
        self.space = problem.space
        self.rng = np.random.default_rng(seed)

    def ask(self) -> Params:
        X = torch.as_tensor(self.rng.random((1, self.space.d)), dtype=torch.float64)
        return self.space.decode(self.space.snap(X))[0]

    def tell(self, params: Params, values: Sequence[float] | None, constraints: Sequence[float] | None) -> None:
        pass


def optuna_default_sampler_name(n_objectives: int = 2) -> str:
    """The class name of the sampler ``optuna.create_study(directions=...)`` picks by itself."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["minimize"] * n_objectives)
    return type(study.sampler).__name__


class OptunaMO:
    def __init__(self, problem: MOProblem, seed: int, n_initial: int, sampler: str) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        kw: dict[str, Any] = {"seed": seed}
        if problem.n_constraints:
            kw["constraints_func"] = _constraints_of
        if sampler == "default":  # what create_study picks without a sampler (TPESampler), seeded
            cls = getattr(optuna.samplers, optuna_default_sampler_name(problem.m))
            if cls is optuna.samplers.TPESampler:  # its default n_startup_trials is 10 = n_initial
                kw["n_startup_trials"] = n_initial
            s = cls(**kw)
        elif sampler == "nsga2":
            s = optuna.samplers.NSGAIISampler(**kw)
        elif sampler == "gp":
            s = optuna.samplers.GPSampler(n_startup_trials=n_initial, **kw)
        else:
            raise ValueError(f"sampler: got {sampler!r}, expected 'default', 'nsga2' or 'gp'")
        self.name = f"optuna_{sampler}"
        self.space = problem.space
        self.study = optuna.create_study(directions=list(problem.directions), sampler=s)
        self.dists = _optuna_distributions(problem.space)
        self._running: dict[tuple, Any] = {}

    def ask(self) -> Params:
        trial = self.study.ask(self.dists)
        p = _clean(self.space, trial.params)
        self._running[_key(p)] = trial
        return p

    def tell(self, params: Params, values: Sequence[float] | None, constraints: Sequence[float] | None) -> None:
        from optuna.trial import TrialState

        trial = self._running.pop(_key(params))
        if constraints is not None:
            trial.set_user_attr("constraints", [float(c) for c in constraints])
        if _finite(values):
            self.study.tell(trial, [float(v) for v in values])
        else:
            self.study.tell(trial, state=TrialState.FAIL)


def _constraints_of(trial: Any) -> list[float]:
    """Optuna's constraints_func: the values stored by ``OptunaMO.tell`` (feasible iff <= 0)."""
    return list(trial.user_attrs["constraints"])


class BoTorchMO:
    """The loop of BoTorch's multi-objective tutorial (see the module docstring)."""

    def __init__(self, problem: MOProblem, seed: int, n_initial: int, device: str = "auto",
                 settings: dict[str, int] | None = None) -> None:
        from gpu_bo.device import resolve_device

        self.name = "botorch"
        self.settings = settings
        self.problem = problem
        self.space = problem.space
        self.seed = seed
        self.n_initial = n_initial
        self.tkw = {"device": resolve_device(device), "dtype": torch.float64}
        self.X: list[list[float]] = []
        self.Y: list[list[float]] = []  # larger-is-better objectives, then constraints (<= 0)
        self._sobol = torch.quasirandom.SobolEngine(problem.space.d, scramble=True, seed=seed)
        self._step = 0

    def ask(self) -> Params:
        self._step += 1
        if len(self.Y) < self.n_initial:
            return self.space.decode(self.space.snap(self._sobol.draw(1, dtype=torch.float64)))[0]
        torch.manual_seed(self.seed * 100003 + self._step)
        train_X = torch.tensor(self.X, **self.tkw)
        train_Y = torch.tensor(self.Y, **self.tkw)
        cand = suggest_botorch(train_X, train_Y, self.problem.m,
                               to_max([self.problem.ref_point], self.problem.directions)[0].tolist(),
                               self.settings)
        return self.space.decode(self.space.snap(cand.detach().cpu()))[0]

    def tell(self, params: Params, values: Sequence[float] | None, constraints: Sequence[float] | None) -> None:
        if not _finite(values) or (constraints is not None and not _finite(constraints)):
            return
        self.X.append(self.space.encode(params).tolist())
        y = to_max([values], self.problem.directions)[0].tolist()
        self.Y.append(y + (list(constraints) if constraints is not None else []))


TUTORIAL = {"mc_samples": 128, "num_restarts": 10, "raw_samples": 512, "maxiter": 200}
# a seconds-long stand-in for the smoke test only (benchmarks/multi_objective.py --smoke)
SMOKE = {"mc_samples": 16, "num_restarts": 2, "raw_samples": 32, "maxiter": 10}


def suggest_botorch(train_X: torch.Tensor, train_Y: torch.Tensor, m: int, ref_point: list[float],
                    settings: dict[str, int] | None = None) -> torch.Tensor:
    """One suggestion of the tutorial loop: columns ``:m`` of ``train_Y`` are larger-is-better
    objectives, the rest constraints feasible iff ``<= 0``; returns a ``1 x d`` unit-cube row.
    ``settings`` (MC samples, restarts, raw samples, iterations): ``TUTORIAL`` when None."""
    cfg = {**TUTORIAL, **(settings or {})}
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from botorch.optim import optimize_acqf
    from botorch.sampling import SobolQMCNormalSampler
    from gpytorch.mlls import SumMarginalLogLikelihood

    models = [SingleTaskGP(train_X, train_Y[:, j:j + 1], outcome_transform=Standardize(m=1))
              for j in range(train_Y.shape[-1])]
    model = ModelListGP(*models)
    fit_gpytorch_mll(SumMarginalLogLikelihood(model.likelihood, model))
    k = train_Y.shape[-1] - m
    extra: dict[str, Any] = {}
    if k:  # the constrained tutorial: objectives are outputs 0..m-1, constraint j is Z[..., m + j] <= 0
        extra["objective"] = IdentityMCMultiOutputObjective(outcomes=list(range(m)))
        extra["constraints"] = [(lambda Z, j=j: Z[..., m + j]) for j in range(k)]
    acqf = qLogNoisyExpectedHypervolumeImprovement(
        model=model, ref_point=ref_point, X_baseline=train_X, prune_baseline=True,
        sampler=SobolQMCNormalSampler(sample_shape=torch.Size([cfg["mc_samples"]])), **extra)
    d = train_X.shape[-1]
    bounds = torch.stack([torch.zeros(d, dtype=train_X.dtype, device=train_X.device),
                          torch.ones(d, dtype=train_X.dtype, device=train_X.device)])
    cand, _ = optimize_acqf(acqf, bounds=bounds, q=1, num_restarts=cfg["num_restarts"],
                            raw_samples=cfg["raw_samples"], options={"batch_limit": 5, "maxiter": cfg["maxiter"]},
                            sequential=True)
    return cand


MO_METHODS: dict[str, Callable[..., Any]] = {
    "gpu_bo": GpuBoMO,
    "optuna_default": lambda problem, seed, n_initial, device="auto": OptunaMO(problem, seed, n_initial, "default"),
    "optuna_nsga2": lambda problem, seed, n_initial, device="auto": OptunaMO(problem, seed, n_initial, "nsga2"),
    "optuna_gp": lambda problem, seed, n_initial, device="auto": OptunaMO(problem, seed, n_initial, "gp"),
    "botorch": BoTorchMO,
    "random": RandomMO,
}

MO_REQUIRES = {"gpu_bo": "gpu_bo", "optuna_default": "optuna", "optuna_nsga2": "optuna",
               "optuna_gp": "optuna", "botorch": "botorch", "random": "gpu_bo"}


def mo_available(name: str) -> bool:
    """True when the method's package is importable (gpu_bo: when its Optimizer takes directions)."""
    if name not in MO_REQUIRES:
        raise ValueError(f"method: got {name!r}, expected one of {list(MO_METHODS)}")
    if importlib.util.find_spec(MO_REQUIRES[name]) is None:
        return False
    if name == "gpu_bo":
        import inspect

        return "directions" in inspect.signature(gb.Optimizer).parameters
    return True


def make_mo_method(name: str, problem: MOProblem, seed: int, n_initial: int, device: str = "auto",
                   smoke: bool = False) -> Any:
    """The adapter of method ``name`` (one of ``MO_METHODS``) on ``problem``; ``smoke`` gives the
    BoTorch loop the ``SMOKE`` settings (the other methods are unchanged)."""
    if name not in MO_METHODS:
        raise ValueError(f"method: got {name!r}, expected one of {list(MO_METHODS)}")
    if name == "botorch" and smoke:
        return BoTorchMO(problem, seed, n_initial, device=device, settings=SMOKE)
    return MO_METHODS[name](problem, seed, n_initial, device=device)
