"""One small ask/tell adapter per optimization method, all minimizing over a ``gb.Space``.

Methods (each with its package's defaults, except that every method starts with the same number
of initial random/quasi-random points, ``n_initial``):

- ``gpu_bo``      gpu_bo.Optimizer (EI); ``gpu_bo_1t`` / ``gpu_bo_defthreads`` pin its CPU threads;
                  ``gpu_bo_tr`` forces its trust-region strategy (``strategy="trust_region"``);
                  ``gpu_bo_screen`` skips the gradient refinement of the acquisition's maximization
                  (``MaximizeOptions(steps=0)``: screening and discrete neighbours only), a
                  diagnostic variant for high-dimensional and mixed spaces (results/README.md)
- ``random``      uniform random search
- ``optuna_tpe``  optuna.samplers.TPESampler
- ``optuna_gp``   optuna.samplers.GPSampler (uses greenlet's batched L-BFGS when installed)
- ``skopt_gp``    scikit-optimize ``gp_minimize``'s settings, through ``skopt.Optimizer`` so it can
                  be driven ask/tell (gp_minimize is ``base_minimize`` over that same Optimizer)
- ``bayes_opt``   bayes_opt.BayesianOptimization (its default UCB acquisition)
- ``botorch``     the textbook BoTorch loop: SingleTaskGP + fit_gpytorch_mll + LogEI (qLogEI for
                  q > 1) + optimize_acqf(num_restarts=10, raw_samples=512) on the unit-cube
                  encoding of gpu_bo's Space, integers/categories rounded after optimization

Protocol of an adapter (``Adapter``):
    ``add_observations(params_list, values)`` pre-populates data without suggesting;
    ``ask(q)`` returns ``q`` parameter dicts; ``tell(params_list, values)`` reports results.
For a fair latency comparison time ``tell`` + ``ask`` together: scikit-optimize fits its GP
and optimizes the acquisition inside ``tell``, the others inside ``ask``.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import torch

import gpu_bo as gb
from gpu_bo.device import resolve_device

__all__ = ["Adapter", "METHODS", "REQUIRES", "available", "make_method", "method_names"]

Params = dict[str, Any]


class Adapter(Protocol):
    name: str
    supports_batch: bool

    def add_observations(self, params_list: Sequence[Params], values: Sequence[float]) -> None: ...

    def ask(self, q: int = 1) -> list[Params]: ...

    def tell(self, params_list: Sequence[Params], values: Sequence[float]) -> None: ...


def _key(params: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


def _clean(space: gb.Space, params: Mapping[str, Any]) -> Params:
    """Coerce a peer's values (numpy scalars, floats for ints) to plain Python values of the space."""
    out: Params = {}
    for name, dim in space.dims.items():
        v = params[name]
        if dim.kind == "real":
            v = min(max(float(v), dim.low), dim.high)
        elif dim.kind == "integer":
            v = int(min(max(round(float(v)), dim.low), dim.high))
        else:
            v = v.item() if isinstance(v, np.generic) else v
        out[name] = v
    return out


# -- gpu_bo ---------------------------------------------------------------------------------

class GpuBo:
    supports_batch = True

    def __init__(self, space: gb.Space, seed: int, n_initial: int, device: str = "auto",
                 threads: str = "auto", name: str = "gpu_bo", strategy: str = "auto", refine: bool = True) -> None:
        self.name = name
        self.space = space
        self.threads = threads
        # threads: "auto" = the library's own policy (1 thread for n <= 2000 on the CPU);
        # "1" / "default" pin one thread / torch's default thread count for every suggestion
        from gpu_bo.optimizer import OptimizerOptions

        kw: dict[str, Any] = {}
        if threads != "auto":
            kw["cpu_threads"] = torch.get_num_threads() if threads == "default" else int(threads)
        if not refine:
            import dataclasses

            from gpu_bo.maximize import MaximizeOptions

            kw["maximize"] = dataclasses.replace(MaximizeOptions.for_device(resolve_device(device)), steps=0)
        options = OptimizerOptions(**kw) if kw else None
        self.opt = gb.Optimizer(space, direction="minimize", n_initial=n_initial, seed=seed, device=device,
                                options=options, strategy=strategy)
        self.last_info: dict[str, Any] = {}

    def add_observations(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        self.opt.tell(list(params_list), list(values))

    def ask(self, q: int = 1) -> list[Params]:
        out = self.opt.ask(n=q) if q > 1 else [self.opt.ask()]
        self.last_info = dict(getattr(self.opt, "last_suggestion_info", {}) or {})
        return [dict(p) for p in out]

    def tell(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        self.opt.tell(list(params_list), list(values))


# -- random search ---------------------------------------------------------------------------

class RandomSearch:
    supports_batch = True

    def __init__(self, space: gb.Space, seed: int, n_initial: int, name: str = "random") -> None:
        self.name = name
        self.space = space
        self.rng = np.random.default_rng(seed)

    def add_observations(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        pass

    def ask(self, q: int = 1) -> list[Params]:
        X = torch.as_tensor(self.rng.random((q, self.space.d)), dtype=torch.float64, device="cpu")
        return self.space.decode(self.space.snap(X))

    def tell(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        pass


# -- Optuna ------------------------------------------------------------------------------------

def _optuna_distributions(space: gb.Space) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for name, dim in space.dims.items():
        if dim.kind == "real":
            out[name] = FloatDistribution(dim.low, dim.high, log=dim.log)
        elif dim.kind == "integer":
            out[name] = IntDistribution(dim.low, dim.high, log=dim.log)
        else:
            out[name] = CategoricalDistribution(list(dim.choices))
    return out


class OptunaMethod:
    supports_batch = True

    def __init__(self, space: gb.Space, seed: int, n_initial: int, sampler: str = "tpe",
                 name: str | None = None) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if sampler == "tpe":
            s = optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_initial)
        elif sampler == "gp":
            s = optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_initial)
        else:
            raise ValueError(f"sampler: got {sampler!r}, expected 'tpe' or 'gp'")
        self.name = name or f"optuna_{sampler}"
        self.space = space
        self.study = optuna.create_study(direction="minimize", sampler=s)
        self.dists = _optuna_distributions(space)
        self._running: dict[tuple, list[Any]] = {}

    def add_observations(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        import optuna

        self.study.add_trials([
            optuna.trial.create_trial(params=dict(p), distributions=self.dists, value=float(v))
            for p, v in zip(params_list, values)
        ])

    def ask(self, q: int = 1) -> list[Params]:
        out = []
        for _ in range(q):  # Optuna's batch: successive asks with the earlier ones still running
            trial = self.study.ask(self.dists)
            p = _clean(self.space, trial.params)
            self._running.setdefault(_key(p), []).append(trial)
            out.append(p)
        return out

    def tell(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        for p, v in zip(params_list, values):
            trials = self._running.get(_key(p))
            if not trials:
                self.add_observations([p], [v])
                continue
            trial = trials.pop(0)
            ok = v is not None and math.isfinite(v)
            self.study.tell(trial, float(v) if ok else None,
                            state=None if ok else __import__("optuna").trial.TrialState.FAIL)


# -- scikit-optimize ----------------------------------------------------------------------------

class SkoptGP:
    """``gp_minimize``'s defaults (GP with gaussian noise, gp_hedge, lbfgs, 5 restarts, 10000 points)."""

    supports_batch = True

    def __init__(self, space: gb.Space, seed: int, n_initial: int, name: str = "skopt_gp") -> None:
        from skopt import Optimizer
        from skopt.space import Categorical, Integer, Real
        from skopt.utils import cook_estimator, normalize_dimensions

        self.name = name
        self.space = space
        dims = []
        for pname, dim in space.dims.items():
            if dim.kind == "real":
                dims.append(Real(dim.low, dim.high, prior="log-uniform" if dim.log else "uniform", name=pname))
            elif dim.kind == "integer":
                dims.append(Integer(dim.low, dim.high, prior="log-uniform" if dim.log else "uniform", name=pname))
            else:
                dims.append(Categorical(list(dim.choices), name=pname))
        rng = np.random.RandomState(seed)
        sk_space = normalize_dimensions(dims)
        est = cook_estimator("GP", space=sk_space, random_state=rng.randint(0, np.iinfo(np.int32).max),
                             noise="gaussian")
        self.opt = Optimizer(
            sk_space, est, n_initial_points=n_initial, initial_point_generator="random",
            acq_func="gp_hedge", acq_optimizer="auto", random_state=rng,
            acq_optimizer_kwargs={"n_points": 10000, "n_restarts_optimizer": 5, "n_jobs": 1},
            acq_func_kwargs={"xi": 0.01, "kappa": 1.96},
        )
        self.names = list(space.names)

    def _to_x(self, p: Mapping[str, Any]) -> list[Any]:
        return [p[n] for n in self.names]

    def add_observations(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        self.opt.tell([self._to_x(p) for p in params_list], [float(v) for v in values], fit=False)

    def ask(self, q: int = 1) -> list[Params]:
        xs = self.opt.ask(n_points=q) if q > 1 else [self.opt.ask()]
        return [_clean(self.space, dict(zip(self.names, x))) for x in xs]

    def tell(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        # skopt fits its GP and maximizes the acquisition here, in tell()
        ys = [float(v) if v is not None and math.isfinite(v) else 1e10 for v in values]
        self.opt.tell([self._to_x(p) for p in params_list], ys)


# -- bayes_opt --------------------------------------------------------------------------------

class BayesOpt:
    """bayes_opt with its defaults. It has no log scale: log-scaled reals are searched over
    ``log10`` of the value (what its documentation advises), mapped back in the adapter."""

    supports_batch = False

    def __init__(self, space: gb.Space, seed: int, n_initial: int, name: str = "bayes_opt") -> None:
        from bayes_opt import BayesianOptimization

        self.name = name
        self.space = space
        pbounds: dict[str, Any] = {}
        for pname, dim in space.dims.items():
            if dim.kind == "real":
                pbounds[pname] = (math.log10(dim.low), math.log10(dim.high)) if dim.log else (dim.low, dim.high)
            elif dim.kind == "integer":
                pbounds[pname] = (dim.low, dim.high, int)
            else:
                pbounds[pname] = list(range(len(dim.choices)))  # categories by index
        self.bo = BayesianOptimization(f=None, pbounds=pbounds, random_state=seed, verbose=0,
                                       allow_duplicate_points=True)
        self._initial = list(self.bo.random_sample(n_initial)) if n_initial > 0 else []

    def _from_bo(self, p: Mapping[str, Any]) -> Params:
        out = {}
        for name, dim in self.space.dims.items():
            v = p[name]
            if dim.kind == "real" and dim.log:
                v = 10.0 ** float(v)
            elif dim.kind == "categorical":
                v = dim.choices[int(round(float(v)))]
            out[name] = v
        return _clean(self.space, out)

    def _to_bo(self, p: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, dim in self.space.dims.items():
            v = p[name]
            if dim.kind == "real" and dim.log:
                v = math.log10(v)
            elif dim.kind == "categorical":
                v = list(dim.choices).index(v)
            out[name] = v
        return out

    def add_observations(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        self.tell(params_list, values)

    def ask(self, q: int = 1) -> list[Params]:
        if q != 1:
            raise NotImplementedError("bayes_opt suggests one point at a time")
        raw = self._initial.pop(0) if self._initial else self.bo.suggest()
        return [self._from_bo(raw)]

    def tell(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        for p, v in zip(params_list, values):
            if v is None or not math.isfinite(v):
                continue
            self.bo.register(params=self._to_bo(p), target=-float(v))  # bayes_opt maximizes


# -- the textbook BoTorch loop ------------------------------------------------------------------

class BoTorchLoop:
    """SingleTaskGP + fit_gpytorch_mll + (q)LogEI + optimize_acqf(10 restarts, 512 raw samples)."""

    supports_batch = True

    def __init__(self, space: gb.Space, seed: int, n_initial: int, device: str = "auto",
                 name: str = "botorch") -> None:
        self.name = name
        self.space = space
        self.seed = seed
        self.n_initial = n_initial
        self.device = resolve_device(device)
        self.dtype = torch.float64
        self.X: list[list[float]] = []
        self.Y: list[float] = []
        self._sobol = torch.quasirandom.SobolEngine(space.d, scramble=True, seed=seed)
        self._step = 0

    def add_observations(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        self.tell(params_list, values)

    def ask(self, q: int = 1) -> list[Params]:
        from botorch.acquisition import LogExpectedImprovement, qLogExpectedImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.optim import optimize_acqf
        from gpytorch.mlls import ExactMarginalLogLikelihood

        self._step += 1
        if len(self.Y) < self.n_initial:
            X = self._sobol.draw(q, dtype=torch.float64)
            return self.space.decode(self.space.snap(X))
        torch.manual_seed(self.seed * 100003 + self._step)
        tkw = {"device": self.device, "dtype": self.dtype}
        train_X = torch.tensor(self.X, **tkw)
        train_Y = -torch.tensor(self.Y, **tkw).unsqueeze(-1)  # BoTorch maximizes
        model = SingleTaskGP(train_X, train_Y)  # Standardize outcome transform by default
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        if q == 1:
            acqf = LogExpectedImprovement(model, best_f=train_Y.max())
        else:
            acqf = qLogExpectedImprovement(model, best_f=train_Y.max())
        bounds = torch.stack([torch.zeros(self.space.d, **tkw), torch.ones(self.space.d, **tkw)])
        cand, _ = optimize_acqf(acqf, bounds=bounds, q=q, num_restarts=10, raw_samples=512)
        return self.space.decode(self.space.snap(cand.detach()))

    def tell(self, params_list: Sequence[Params], values: Sequence[float]) -> None:
        for p, v in zip(params_list, values):
            if v is None or not math.isfinite(v):
                continue
            self.X.append(self.space.encode(p).tolist())
            self.Y.append(float(v))


# -- registry -----------------------------------------------------------------------------------

METHODS: dict[str, Callable[..., Adapter]] = {
    "gpu_bo": lambda space, seed, n_initial, device="auto": GpuBo(space, seed, n_initial, device),
    "gpu_bo_1t": lambda space, seed, n_initial, device="auto": GpuBo(
        space, seed, n_initial, device, threads="1", name="gpu_bo_1t"),
    "gpu_bo_defthreads": lambda space, seed, n_initial, device="auto": GpuBo(
        space, seed, n_initial, device, threads="default", name="gpu_bo_defthreads"),
    # the exact global GP whatever n is (scaling.py: the CPU/GPU comparison of the same suggestion)
    "gpu_bo_global": lambda space, seed, n_initial, device="auto": GpuBo(
        space, seed, n_initial, device, name="gpu_bo_global", strategy="global"),
    "gpu_bo_tr": lambda space, seed, n_initial, device="auto": GpuBo(
        space, seed, n_initial, device, name="gpu_bo_tr", strategy="trust_region"),
    "gpu_bo_screen": lambda space, seed, n_initial, device="auto": GpuBo(
        space, seed, n_initial, device, name="gpu_bo_screen", refine=False),
    "random": lambda space, seed, n_initial, device="auto": RandomSearch(space, seed, n_initial),
    "optuna_tpe": lambda space, seed, n_initial, device="auto": OptunaMethod(space, seed, n_initial, "tpe"),
    "optuna_gp": lambda space, seed, n_initial, device="auto": OptunaMethod(space, seed, n_initial, "gp"),
    "skopt_gp": lambda space, seed, n_initial, device="auto": SkoptGP(space, seed, n_initial),
    "bayes_opt": lambda space, seed, n_initial, device="auto": BayesOpt(space, seed, n_initial),
    "botorch": lambda space, seed, n_initial, device="auto": BoTorchLoop(space, seed, n_initial, device),
}

# the import each method needs (a method whose package is missing is skipped, not failed)
REQUIRES: dict[str, str] = {
    "gpu_bo": "gpu_bo", "gpu_bo_1t": "gpu_bo", "gpu_bo_defthreads": "gpu_bo", "gpu_bo_global": "gpu_bo",
    "gpu_bo_tr": "gpu_bo", "gpu_bo_screen": "gpu_bo", "random": "gpu_bo",
    "optuna_tpe": "optuna", "optuna_gp": "optuna", "skopt_gp": "skopt", "bayes_opt": "bayes_opt",
    "botorch": "botorch",
}

QUALITY_METHODS = ["gpu_bo", "random", "optuna_tpe", "optuna_gp", "skopt_gp", "bayes_opt", "botorch"]


def method_names() -> list[str]:
    return list(METHODS)


def available(name: str) -> bool:
    """True when the method's package is importable (and, for gpu_bo, its Optimizer exists)."""
    if name not in REQUIRES:
        raise ValueError(f"method: got {name!r}, expected one of {method_names()}")
    mod = REQUIRES[name]
    if importlib.util.find_spec(mod) is None:
        return False
    if mod == "gpu_bo":
        return hasattr(gb, "Optimizer")
    if name == "optuna_gp":
        import optuna

        return hasattr(optuna.samplers, "GPSampler")
    return True


def make_method(name: str, space: gb.Space, seed: int, n_initial: int, device: str = "auto") -> Adapter:
    """Build the adapter of method ``name`` (see ``METHODS``)."""
    if name not in METHODS:
        raise ValueError(f"method: got {name!r}, expected one of {method_names()}")
    return METHODS[name](space, seed, n_initial, device=device)
