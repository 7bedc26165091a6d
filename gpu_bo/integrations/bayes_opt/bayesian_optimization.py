"""bayes_opt's ``bayes_opt.bayesian_optimization``: ``BayesianOptimization`` on gpu_bo's Optimizer.

See :mod:`gpu_bo.integrations.bayes_opt` for what maps to what. The facade keeps every
registered point (``res``), the queue of lazy probes and the quasi-random stream position, and
hands the points inside the current bounds to a :class:`gpu_bo.Optimizer` (always maximizing,
as bayes_opt does).
"""

from __future__ import annotations

import json
import numbers
import traceback
import warnings
from collections import deque
from collections.abc import Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from gpu_bo.exceptions import GpuBoError
from gpu_bo.integrations.bayes_opt.acquisition import (
    BAYES_OPT_KAPPA,
    ExpectedImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
    _Acquisition,
)
from gpu_bo.integrations.bayes_opt.exception import NotUniqueError
from gpu_bo.integrations.bayes_opt.logger import _ScreenLogger
from gpu_bo.integrations.bayes_opt.parameter import _dimension, _space_from_pbounds
from gpu_bo.integrations.bayes_opt.target_space import _TargetSpaceView
from gpu_bo.integrations.bayes_opt.util import UtilityFunction, _is_num, _plain, _seed
from gpu_bo.space import Space
from gpu_bo.study import is_valid_value

__all__ = ["BayesianOptimization"]

_STATE_FORMAT = "gpu_bo.bayes_opt/1"


class BayesianOptimization:
    """bayes_opt's ``BayesianOptimization``, running on gpu_bo's GP and acquisition maximizer.

    Args:
        f: the function to maximize, called as ``f(**params)``; None when only
            ``suggest``/``register`` are used.
        pbounds: ``{name: bounds}`` (the accepted forms: :mod:`gpu_bo.integrations.bayes_opt.parameter`).
        acquisition_function: an ``acquisition.*`` object or a ``UtilityFunction``
            (default ``UpperConfidenceBound(kappa=BAYES_OPT_KAPPA)``, bayes_opt's default).
        constraint: not supported; must be None.
        bounds_transformer: not supported; must be None.
        random_state: int, numpy ``RandomState`` or None: seeds the optimizer.
        verbose: 0 silent, 1 prints new maxima, 2 prints every probe.
        allow_duplicate_points: register the same point more than once without an error.
        device: where gpu_bo fits the GP: "auto", "cpu", "cuda" (not a bayes_opt argument).
    """

    def __init__(self, f: Callable[..., float] | None, pbounds: Mapping[str, Any],
                 acquisition_function: _Acquisition | None = None, constraint: Any = None,
                 random_state: Any = None, verbose: int = 2, bounds_transformer: Any = None,
                 allow_duplicate_points: bool = False, device: str = "auto") -> None:
        if f is not None and not callable(f):
            raise TypeError(f"f: got {type(f).__name__}, expected a callable or None")
        if constraint is not None:
            raise NotImplementedError("constraint: gpu_bo's bayes_opt facade does not support constraints; "
                                      "return a failed value (None/NaN) from f for infeasible points instead")
        if bounds_transformer is not None:
            raise NotImplementedError("bounds_transformer: domain reduction is not supported by gpu_bo's facade")
        if acquisition_function is not None and not isinstance(acquisition_function, _Acquisition):
            raise TypeError(
                f"acquisition_function: got {type(acquisition_function).__name__}; expected one of "
                "acquisition.UpperConfidenceBound/ExpectedImprovement/ProbabilityOfImprovement or a "
                "UtilityFunction from gpu_bo.integrations.bayes_opt"
            )
        self.f = f
        self._space = _space_from_pbounds(pbounds)
        self._acq = acquisition_function or UpperConfidenceBound(kappa=BAYES_OPT_KAPPA)
        self._seed = _seed(random_state)
        self._logger = _ScreenLogger(verbose)
        self._allow_duplicate_points = bool(allow_duplicate_points)
        self._device = device
        self._queue: deque[dict[str, Any]] = deque()
        self._records: list[dict[str, Any]] = []  # every registered point, in order
        self._n_random = 0  # random points drawn so far (the Sobol stream position)
        self._opt = self._new_optimizer(self._space)

    # -- internals -------------------------------------------------------------------------------
    def _new_optimizer(self, space: Space):
        from gpu_bo.optimizer import Optimizer

        # n_initial=1: the quasi-random phase is driven by maximize(init_points=...), as in bayes_opt
        return Optimizer(space, direction="maximize", acquisition=self._acq.kind, xi=self._acq.xi,
                         kappa=self._acq.kappa, n_initial=1, seed=self._seed, device=self._device)

    def _as_params(self, params: Any) -> dict[str, Any]:
        keys = self._space.names
        if isinstance(params, Mapping):
            if set(params) != set(keys):
                raise ValueError(f"params: got keys {sorted(params)}, expected exactly {sorted(keys)}")
            p = {k: _plain(params[k]) for k in keys}
        else:
            vals = list(np.asarray(params, dtype=object).ravel()) if not isinstance(params, list) else params
            if len(vals) != len(keys):
                raise ValueError(f"params: got {len(vals)} values, expected {len(keys)} (in the order {keys})")
            p = {k: _plain(v) for k, v in zip(keys, vals)}
        for k, dim in self._space.dims.items():  # bayes_opt rounds int parameters given as floats
            if dim.kind == "integer" and _is_num(p[k]) and float(p[k]).is_integer():
                p[k] = int(p[k])
            elif dim.kind == "real" and _is_num(p[k]):
                p[k] = float(p[k])
        return p

    def _seen(self, p: Mapping[str, Any]) -> bool:
        return any(r["params"] == p for r in self._records)

    def _sync_acquisition(self) -> None:
        self._opt.acquisition, self._opt.xi, self._opt.kappa = self._acq.kind, self._acq.xi, self._acq.kappa

    def _record(self, p: dict[str, Any], target: Any, error: str | None = None) -> None:
        ok = is_valid_value(target)
        rec = {"target": float(target) if ok else None, "params": dict(p)}
        if error:
            rec["error"] = error
        self._records.append(rec)
        if self._inside(p):
            self._opt.tell(p, float(target) if ok else None, error=error)
        self._logger.log(self._records, self._space.names)

    def _inside(self, p: Mapping[str, Any]) -> bool:
        try:
            self._space.validate(p)
            return True
        except ValueError:
            return False

    # -- bayes_opt API ---------------------------------------------------------------------------
    @property
    def space(self) -> _TargetSpaceView:
        return _TargetSpaceView(self)

    @property
    def acquisition_function(self) -> _Acquisition:
        return self._acq

    @property
    def optimizer(self):
        """The underlying :class:`gpu_bo.Optimizer` (not part of bayes_opt's API)."""
        return self._opt

    @property
    def res(self) -> list[dict[str, Any]]:
        """Every completed probe/registration: ``[{"target": float, "params": {...}}, ...]``."""
        return [{"target": r["target"], "params": dict(r["params"])} for r in self._records
                if r["target"] is not None]

    @property
    def max(self) -> dict[str, Any] | None:
        """``{"target": best value, "params": its parameters}``, or None before any success."""
        done = [r for r in self._records if r["target"] is not None and self._inside(r["params"])]
        if not done:
            return None
        best = max(done, key=lambda r: r["target"])
        return {"target": best["target"], "params": dict(best["params"])}

    def register(self, params: Any, target: float, constraint_value: Any = None) -> None:
        """Record an observation made elsewhere."""
        if constraint_value is not None:
            raise NotImplementedError("constraint_value: constraints are not supported")
        p = self._as_params(params)
        if not self._allow_duplicate_points and self._seen(p):
            raise NotUniqueError(f"Data point {p} is not unique. You can set "
                                 "allow_duplicate_points=True to avoid this error")
        self._record(p, target)

    def probe(self, params: Any, lazy: bool = True) -> None:
        """Evaluate ``f`` at ``params`` now (``lazy=False``) or at the start of the next ``maximize``."""
        p = self._as_params(params)
        if lazy:
            self._queue.append(p)
            return
        self._evaluate(p)

    def _evaluate(self, p: dict[str, Any]) -> None:
        if self.f is None:
            raise ValueError("f is None: this optimizer can only suggest() and register(); "
                             "pass a function to evaluate")
        if not self._allow_duplicate_points and self._seen(p):
            warnings.warn(f"point {p} was already probed; skipped (allow_duplicate_points=False)",
                          stacklevel=3)
            return
        try:
            target, err = self.f(**p), None
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # noqa: BLE001 - a failing objective becomes a failed trial
            target, err = None, traceback.format_exc()
            warnings.warn(f"f raised {type(e).__name__}: {e} at {p}; recorded as a failed trial",
                          RuntimeWarning, stacklevel=3)
        self._record(p, target, err)

    def random_sample(self, n: int = 1) -> list[dict[str, Any]]:
        """``n`` quasi-random points of the space (a scrambled Sobol stream of this seed)."""
        seed = None if self._seed is None else self._seed + 7919 * (self._n_random + 1)
        self._n_random += n
        return self._space.sample_params(n, seed=seed)

    def suggest(self, utility_function: _Acquisition | None = None) -> dict[str, Any]:
        """The next point to probe (``utility_function``: bayes_opt 1.x's per-call acquisition)."""
        if utility_function is not None:
            if not isinstance(utility_function, _Acquisition):
                raise TypeError(f"utility_function: got {type(utility_function).__name__}, expected a "
                                "UtilityFunction or an acquisition.* object")
            self._acq = utility_function
        if not self.res:
            return self.random_sample(1)[0]
        self._sync_acquisition()
        p = self._opt.ask()
        self._opt.remove_pending(p)  # bayes_opt's suggest reserves nothing
        self._acq.update_params()
        return p

    def maximize(self, init_points: int = 5, n_iter: int = 25, acquisition_function: _Acquisition | None = None,
                 **legacy: Any) -> None:
        """Probe the queue, ``init_points`` random points, then ``n_iter`` suggested points.

        ``acquisition_function`` and the 1.x keywords ``acq``, ``kappa``, ``xi`` select the
        acquisition for this and later calls; other keywords (GP settings) are ignored.
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
        if not self._queue and not self._records:
            init_points = max(init_points, 1)
        self._queue.extend(self.random_sample(init_points) if init_points else [])
        self._logger.header(self._space.names)
        while self._queue:
            self._evaluate(self._queue.popleft())
        for _ in range(n_iter):
            self._evaluate_suggestion()
        self._logger.footer(self._space.names)

    def _evaluate_suggestion(self) -> None:
        if not self.res:  # nothing succeeded yet: keep exploring at random
            self._evaluate(self.random_sample(1)[0])
            return
        self._sync_acquisition()
        try:
            p = self._opt.ask()
        except GpuBoError as err:  # e.g. every point of a small discrete space was evaluated
            warnings.warn(f"maximize: stopping early: {err}", stacklevel=3)
            return
        self._acq.update_params()
        self._opt.remove_pending(p)
        self._evaluate(p)

    def set_bounds(self, new_bounds: Mapping[str, Any]) -> None:
        """Change the bounds of some parameters; the GP keeps the points that are still inside."""
        unknown = [k for k in new_bounds if k not in self._space.dims]
        if unknown:
            raise ValueError(f"new_bounds: unknown parameter(s) {unknown}; the space has {self._space.names}")
        dims = dict(self._space.dims)
        dims.update({k: _dimension(k, b) for k, b in new_bounds.items()})
        self._space = Space(dims)
        self._opt = self._new_optimizer(self._space)
        for r in self._records:
            if self._inside(r["params"]):
                self._opt.tell(r["params"], r["target"], error=r.get("error"))

    def set_gp_params(self, **params: Any) -> None:
        """Accepted for compatibility; gpu_bo fits its own GP hyperparameters."""
        warnings.warn(f"set_gp_params: ignoring {sorted(params)}: gpu_bo fits its own GP", stacklevel=2)

    # -- persistence -----------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "format": _STATE_FORMAT,
            "space": self._space.to_dict(),
            "records": self._records,
            "queue": list(self._queue),
            "n_random": self._n_random,
            "seed": self._seed,
            "acquisition": self._acq.get_acquisition_params(),
            "optimizer": self._opt.state_dict(),
        }

    def save_state(self, path: str | PathLike[str]) -> None:
        """Write every registered point, the queue and the optimizer state to a JSON file."""
        with Path(path).open("w") as fh:
            json.dump(self._state(), fh, indent=1)

    def load_state(self, path: str | PathLike[str]) -> None:
        """Restore a state written by :meth:`save_state` into an optimizer built with the same pbounds."""
        try:
            with Path(path).open() as fh:
                state = json.load(fh)
        except FileNotFoundError:
            raise FileNotFoundError(f"load_state: no state file at {str(path)!r}") from None
        except json.JSONDecodeError as err:
            raise ValueError(f"load_state: {str(path)!r} is not JSON ({err})") from None
        if not isinstance(state, dict) or state.get("format") != _STATE_FORMAT:
            raise ValueError(f"load_state: {str(path)!r} is not a state saved by gpu_bo's BayesianOptimization "
                             f"(expected format {_STATE_FORMAT!r})")
        if state["space"] != self._space.to_dict():
            raise ValueError(f"load_state: the saved pbounds {state['space']} differ from this optimizer's "
                             f"{self._space.to_dict()}")
        self._records = [dict(r) for r in state["records"]]
        self._queue = deque(dict(p) for p in state["queue"])
        self._n_random = int(state["n_random"])
        a = state["acquisition"]
        if a.get("kind") != self._acq.kind:
            self._acq = {"ucb": UpperConfidenceBound, "ei": ExpectedImprovement,
                         "pi": ProbabilityOfImprovement}[a["kind"]]()
        self._acq.set_acquisition_params(a)
        self._opt.load_state_dict(state["optimizer"])
