"""bayes_opt's ``bayes_opt.bayesian_optimization``: ``BayesianOptimization`` on gpu_bo's Optimizer.

The points live in a :class:`~gpu_bo.integrations.bayes_opt.target_space.TargetSpace` (bayes_opt's
float representation); the suggestions come from a :class:`gpu_bo.Optimizer` (always maximizing)
that is told the points inside the current bounds, rebuilt when the bounds change. See
:mod:`gpu_bo.integrations.bayes_opt` for what maps to what.
"""

from __future__ import annotations

import inspect
import json
import numbers
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from gpu_bo.exceptions import GpuBoError
from gpu_bo.integrations.bayes_opt import _posterior
from gpu_bo.integrations.bayes_opt._convert import _seed, ensure_rng
from gpu_bo.integrations.bayes_opt.acquisition import (
    BAYES_OPT_KAPPA,
    AcquisitionFunction,
    ConstantLiar,
    ExpectedImprovement,
    UpperConfidenceBound,
    _is_custom,
)
from gpu_bo.integrations.bayes_opt.constraint import ConstraintModel
from gpu_bo.integrations.bayes_opt.domain_reduction import DomainTransformer
from gpu_bo.integrations.bayes_opt.logger import ScreenLogger
from gpu_bo.integrations.bayes_opt.persistence import load_into, state_of
from gpu_bo.integrations.bayes_opt.target_space import TargetSpace
from gpu_bo.integrations.bayes_opt.util import UtilityFunction
from gpu_bo.space import SpaceError

__all__ = ["BayesianOptimization"]


class BayesianOptimization:
    """bayes_opt's ``BayesianOptimization``, running on gpu_bo's GP and acquisition maximizer.

    Args:
        f: the function to maximize, called as ``f(**params)``; None when only
            ``suggest``/``register`` are used.
        pbounds: ``{name: bounds}`` (the forms of :mod:`gpu_bo.integrations.bayes_opt.parameter`).
        acquisition_function: an ``acquisition.*`` object, a ``UtilityFunction`` or your own
            ``AcquisitionFunction`` subclass (default UCB with ``kappa=2.576``; EI with
            ``xi=0.01`` when constrained, as bayes_opt).
        constraint: a scipy ``NonlinearConstraint`` (or a ``ConstraintModel``): points are
            feasible iff ``lb <= constraint.fun(**params) <= ub``.
        random_state: int, numpy ``RandomState`` or None: seeds the random points and gpu_bo.
        verbose: 0 silent, 1 prints new maxima, 2 prints every probe.
        bounds_transformer: a ``DomainTransformer`` such as ``SequentialDomainReductionTransformer``.
        allow_duplicate_points: register the same point more than once without an error.
        device: where gpu_bo fits the GP: "auto", "cpu", "cuda" (not a bayes_opt argument).
    """

    def __init__(self, f: Callable[..., float] | None, pbounds: Mapping[str, Any],
                 acquisition_function: AcquisitionFunction | None = None, constraint: Any = None,
                 random_state: Any = None, verbose: int = 2, bounds_transformer: DomainTransformer | None = None,
                 allow_duplicate_points: bool = False, device: str = "auto") -> None:
        if f is not None and not callable(f):
            raise TypeError(f"f: got {type(f).__name__}, expected a callable or None")
        if acquisition_function is not None and not isinstance(acquisition_function, AcquisitionFunction):
            raise TypeError(
                f"acquisition_function: got {type(acquisition_function).__name__}; expected an "
                "acquisition.AcquisitionFunction (UpperConfidenceBound, ExpectedImprovement, ..., or your subclass)")
        if acquisition_function is not None:
            _is_custom(acquisition_function)  # a subclass without base_acq is refused now, not ignored
        model = self._constraint_model(constraint)
        self.is_constrained = model is not None
        self._random_state = ensure_rng(random_state)
        self._seed = _seed(self._random_state.randint(0, 2**31 - 1))
        self._acq = acquisition_function or (ExpectedImprovement(xi=0.01) if model is not None
                                             else UpperConfidenceBound(kappa=BAYES_OPT_KAPPA))
        self.f = f
        self._allow_duplicate_points = bool(allow_duplicate_points)
        self._space = TargetSpace(f, pbounds, constraint=model, random_state=self._random_state,
                                  allow_duplicate_points=allow_duplicate_points)
        self._global_space = self._space.gpu_space()  # refuses a custom BayesParameter subclass
        if isinstance(self._acq, ConstantLiar):
            self._acq._check_constraint(self._space)
        self._device = device
        self._verbose = verbose
        self._queue: deque[Any] = deque()
        self._opt = None
        self._opt_key: bytes | None = None
        self._n_told = 0
        self._n_builds = 0
        self._gp = None  # the last gpu_bo GP predict() fitted
        if bounds_transformer is not None and not isinstance(bounds_transformer, DomainTransformer):
            raise TypeError(f"bounds_transformer: got {type(bounds_transformer).__name__}; The transformer must "
                            "be an instance of DomainTransformer")
        self._bounds_transformer = bounds_transformer
        if bounds_transformer is not None:
            bounds_transformer.initialize(self._space)
        self.logger = ScreenLogger(verbose=verbose, is_constrained=self.is_constrained)

    @staticmethod
    def _constraint_model(constraint: Any) -> ConstraintModel | None:
        if constraint is None:
            return None
        from gpu_bo.optimizer import Optimizer

        if "constraints" not in inspect.signature(Optimizer.tell).parameters:
            raise NotImplementedError("constraint: this gpu_bo has no outcome constraints in Optimizer.tell yet")
        if isinstance(constraint, ConstraintModel):
            return constraint
        if all(hasattr(constraint, a) for a in ("fun", "lb", "ub")):
            return ConstraintModel(constraint.fun, constraint.lb, constraint.ub)
        raise TypeError(f"constraint: got {type(constraint).__name__}; expected a scipy.optimize.NonlinearConstraint")

    # -- the gpu_bo optimizer ----------------------------------------------------------------------
    def _optimizer(self):
        """The gpu_bo Optimizer of the current bounds, told every point registered since the last call."""
        from gpu_bo.optimizer import Optimizer

        key = self._space.bounds.tobytes()
        log = self._space._log
        if self._opt is None or key != self._opt_key or self._n_told > len(log):
            kind = self._acq.kind if self._acq.kind in ("ucb", "ei", "pi") else "ucb"
            self._opt = Optimizer(self._space.gpu_space(), direction="maximize", acquisition=kind, n_initial=1,
                                  seed=(self._seed or 0) + 7919 * self._n_builds, device=self._device)
            self._opt_key, self._n_told = key, 0
            self._n_builds += 1
            for d in getattr(self._acq, "dummies", []):
                self._tell_pending(d)
        _posterior.tell_log(self._opt, self._space, log[self._n_told:])
        self._n_told = len(log)
        return self._opt

    def _tell_pending(self, p: Mapping[str, Any]) -> None:
        try:
            self._opt.add_pending(p)
        except (SpaceError, ValueError):
            pass  # a pending point outside the current bounds has no place in the search

    # -- bayes_opt API -----------------------------------------------------------------------------
    @property
    def space(self) -> TargetSpace:
        """The ``TargetSpace`` holding the bounds and every registered point."""
        return self._space

    @property
    def acquisition_function(self) -> AcquisitionFunction:
        """The acquisition function in use."""
        return self._acq

    @property
    def constraint(self) -> ConstraintModel | None:
        """The constraint model, or None."""
        return self._space.constraint

    @property
    def optimizer(self):
        """The underlying :class:`gpu_bo.Optimizer` (not part of bayes_opt's API)."""
        return self._optimizer()

    @property
    def res(self) -> list[dict[str, Any]]:
        """Every registered point: ``[{"target", "params"(, "constraint", "allowed")}, ...]``."""
        return self._space.res()

    @property
    def max(self) -> dict[str, Any] | None:
        """The best (feasible) point inside the current bounds, or None."""
        return self._space.max()

    def register(self, params: Any, target: float, constraint_value: Any = None) -> None:
        """Record an observation made elsewhere.

        Args:
            params: a dict, or the values in the order of ``pbounds``.
            target: its value (None/NaN/inf: a failed point).
            constraint_value: the constraint function's value at the point (constrained only).
        """
        self._register(params, target, constraint_value)

    def _register(self, params: Any, target: Any, cv: Any, error: str | None = None) -> None:
        self._space.register(params, target, cv, error=error)
        self._forget_dummy(self._space._log[-1][0])
        last = self._space._log[-1]
        shown = self._space.res()[-1] if last[1] is not None else {"target": None, "params": last[0]}
        self.logger.log_optimization_step(self._space.keys, shown, self._space.params_config, self.max)

    def _forget_dummy(self, p: Mapping[str, Any]) -> None:
        dummies = getattr(self._acq, "dummies", None)
        if not dummies:
            return
        row = self._space.params_to_array(p)
        for d in list(dummies):
            if np.allclose(self._space.params_to_array(d), row, atol=self._acq.atol, rtol=self._acq.rtol):
                dummies.remove(d)
                if self._opt is not None:
                    self._opt.remove_pending(d) if d in self._opt.pending else None
                break

    def probe(self, params: Any, lazy: bool = True) -> None:
        """Evaluate ``f`` at ``params`` now (``lazy=False``) or at the start of the next ``maximize``.

        Args:
            params: a dict, or the values in the order of ``pbounds``.
            lazy: queue the point instead of evaluating it now.
        """
        if lazy:
            self._queue.append(params)
            return
        self._evaluate(params)

    def _evaluate(self, params: Any) -> None:
        if self.f is None:
            raise ValueError("f is None: this optimizer can only suggest() and register(); pass a function")
        row = self._space.kernel_transform(self._space._as_array(params))
        p = self._space.array_to_params(row)
        if not self._allow_duplicate_points and row in self._space:
            warnings.warn(f"point {p} was already probed; skipped (allow_duplicate_points=False)", stacklevel=3)
            return
        try:
            target, err = self.f(**p), None
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # noqa: BLE001 - a failing objective becomes a failed trial
            target, err = None, traceback.format_exc()
            warnings.warn(f"f raised {type(e).__name__}: {e} at {p}; recorded as a failed trial",
                          RuntimeWarning, stacklevel=3)
        cv = self._space.constraint.eval(**p) if self.is_constrained and err is None else None
        self._register(p, target, cv, error=err)

    def random_sample(self, n: int = 1) -> list[dict[str, Any]]:
        """``n`` uniform random points of the current bounds (bayes_opt's RandomState stream).

        Args:
            n: how many points.
        """
        return [self._space.array_to_params(self._space.random_sample(random_state=self._random_state))
                for _ in range(n)]

    def suggest(self, utility_function: AcquisitionFunction | None = None) -> dict[str, Any]:
        """The next point to probe.

        Args:
            utility_function: bayes_opt 1.x's per-call acquisition (replaces the current one).
        """
        if utility_function is not None:
            if not isinstance(utility_function, AcquisitionFunction):
                raise TypeError(f"utility_function: got {type(utility_function).__name__}, expected a "
                                "UtilityFunction or an acquisition.* object")
            _is_custom(utility_function)
            self._acq = utility_function
        if len(self._space) == 0:
            return self.random_sample(1)[0]
        self._acq._check_constraint(self._space)
        opt = self._optimizer()
        return self._acq._propose(opt, self._space, (self._seed or 0) + 7919 * (self._acq.i + 1))

    def _fit_gp(self):
        """A gpu_bo GP on the completed points inside the original pbounds (what predict shows)."""
        self._gp = _posterior.fit_inside(self._global_space, self._space, self._seed or 0)
        return self._gp

    def predict(self, params: Mapping[str, Any] | Iterable[Mapping[str, Any]], return_std: bool = False,
                return_cov: bool = False, fit_gp: bool = True) -> Any:
        """gpu_bo's GP prediction of the target at ``params`` (bayes_opt's shapes: a dict -> scalars).

        Args:
            params: a dict, or an iterable of dicts.
            return_std: also return the posterior standard deviation(s).
            return_cov: also return the posterior covariance matrix.
            fit_gp: refit the GP on the registered points first (else the last fit, or the prior).
        """
        if isinstance(params, Mapping):
            points, single = [params], True
        elif isinstance(params, Iterable) and not isinstance(params, (str, bytes)):
            points, single = list(params), False
        else:
            raise TypeError(f"params must be a dict or iterable of dicts, got {type(params).__name__}")
        if return_std and return_cov:
            raise ValueError("return_std and return_cov cannot both be True")
        if fit_gp:
            if len(self._space) == 0:
                raise RuntimeError("The Gaussian Process model cannot be fitted with zero observations. To use "
                                   "predict() without fitting the GP, set fit_gp=False (the GP prior is used).")
            self._fit_gp()
        gs = self._global_space
        rows = [self._space.array_to_params(self._space.params_to_array(p)) for p in points]
        X = gs.encode([gs.canonical(p) for p in rows], dtype=_posterior._DTYPE)
        mean, spread = _posterior.posterior(self._gp, X, full_cov=return_cov)
        if single:
            mean = np.asarray(mean[0])
            spread = spread if return_cov else np.asarray(spread[0])
        return (mean, spread) if (return_std or return_cov) else mean

    def _prime_queue(self, init_points: int) -> None:
        if not self._queue and self._space.empty:
            init_points = max(init_points, 1)
        self._queue.extend(self.random_sample(init_points))

    def maximize(self, init_points: int = 5, n_iter: int = 25, acquisition_function: Any = None,
                 **legacy: Any) -> None:
        """Probe the queue, ``init_points`` random points, then ``n_iter`` suggested points.

        Args:
            init_points: random points to probe first.
            n_iter: suggested points to probe after them.
            acquisition_function: bayes_opt 1.x: the acquisition for this and later calls.
            **legacy: bayes_opt 1.x's ``acq``, ``kappa``, ``xi`` (others are refused).
        """
        for label, v in (("init_points", init_points), ("n_iter", n_iter)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
                raise ValueError(f"{label}: got {v!r}, expected an int >= 0")
        if acquisition_function is not None or {"acq", "kappa", "xi"} & set(legacy):
            self._acq = acquisition_function or UtilityFunction(
                kind=legacy.pop("acq", "ucb"), kappa=legacy.pop("kappa", BAYES_OPT_KAPPA), xi=legacy.pop("xi", 0.0))
        legacy = {k: v for k, v in legacy.items() if k not in ("acq", "kappa", "xi")}
        if legacy:
            warnings.warn(f"maximize: ignoring {sorted(legacy)}: gpu_bo fits its own GP", stacklevel=2)
        self.logger.log_optimization_start(self._space.keys)
        self._prime_queue(init_points)
        iteration = 0
        while self._queue or iteration < n_iter:
            if self._queue:
                x = self._queue.popleft()
            else:
                try:
                    x = self.suggest()
                except GpuBoError as err:  # e.g. every point of a small discrete space was evaluated
                    warnings.warn(f"maximize: stopping early: {err}", stacklevel=2)
                    break
                iteration += 1
            self.probe(x, lazy=False)
            if self._bounds_transformer is not None and iteration > 0:
                self.set_bounds(self._bounds_transformer.transform(self._space))
        self.logger.log_optimization_end()

    def set_bounds(self, new_bounds: Mapping[str, Any]) -> None:
        """Change the bounds of some parameters (unknown keys ignored, as bayes_opt does).

        Args:
            new_bounds: ``{name: (low, high)}``.
        """
        self._space.set_bounds(new_bounds)

    def set_gp_params(self, **params: Any) -> None:
        """Not provided: gpu_bo fits its own GP (Matern-5/2 with fitted hyperparameters).

        Args:
            **params: sklearn ``GaussianProcessRegressor`` settings.
        """
        raise NotImplementedError(f"set_gp_params({', '.join(sorted(params))}): gpu_bo's facade fits gpu_bo's "
                                  "own GP, not sklearn's; its settings are gpu_bo.OptimizerOptions")

    # -- persistence -------------------------------------------------------------------------------
    def save_state(self, path: str | PathLike[str]) -> None:
        """Write the state as JSON in bayes_opt's layout, plus gpu_bo's own under ``"gpu_bo"``.

        Args:
            path: the file to write.
        """
        with Path(path).open("w") as fh:
            json.dump(state_of(self), fh, indent=1)

    def load_state(self, path: str | PathLike[str]) -> None:
        """Restore a state saved by this facade's or by bayes_opt's ``save_state``.

        Args:
            path: the JSON file.
        """
        try:
            with Path(path).open() as fh:
                state = json.load(fh)
        except FileNotFoundError:
            raise FileNotFoundError(f"load_state: no state file at {str(path)!r}") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"load_state: {str(path)!r} is not JSON ({err})") from None
        load_into(self, state, str(path))
