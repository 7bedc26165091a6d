"""A ``bayes_opt``-compatible facade over :class:`gpu_bo.Optimizer`.

Code written for the ``bayesian-optimization`` package (``bayes_opt`` 1.x to 3.x) runs with its
import line changed::

    # from bayes_opt import BayesianOptimization
    from gpu_bo.integrations.bayes_opt import BayesianOptimization

    optimizer = BayesianOptimization(f=black_box, pbounds={"C": [0.1, 15]}, random_state=7)
    optimizer.maximize(init_points=5, n_iter=25)
    optimizer.max   # {"target": 0.99, "params": {"C": 3.1}}

What maps to what:

* ``pbounds`` follows bayes_opt 3.x: two numbers (a tuple *or a list*) are float bounds,
  ``(low, high, int)`` an integer, ``(low, high, float)`` a float, any other sequence a set of
  categories. gpu_bo dimensions (``gb.Real`` ...) are accepted as well.
* ``UtilityFunction(kind="ucb"|"ei"|"poi", kappa, xi)`` (bayes_opt 1.x) and
  ``acquisition.UpperConfidenceBound / ExpectedImprovement / ProbabilityOfImprovement``
  (bayes_opt 2.x/3.x, ``exploration_decay`` included) select gpu_bo's ``"ucb"``, ``"ei"``,
  ``"pi"`` with the same ``kappa``/``xi`` meaning. The default is UCB with kappa=2.576, as in
  bayes_opt.
* ``maximize(init_points, n_iter)`` probes the queued points, then ``init_points`` quasi-random
  points, then ``n_iter`` points suggested by the GP.
* A target that is None, NaN or infinite (or an exception raised by ``f`` inside
  ``maximize``) is recorded as a failed trial of the underlying optimizer and never reaches the
  GP; ``res`` and ``max`` list completed points only (bayes_opt would corrupt its GP instead).
* ``suggest()`` does not reserve the point (as in bayes_opt): call ``register`` with its target.
* ``set_bounds`` rebuilds the optimizer on the new bounds; registered points that fall outside
  them stay in ``res`` but are not shown to the GP.
* ``save_state``/``load_state`` write and read JSON (gpu_bo's own format, not bayes_opt's).
* Not provided: constraints, ``bounds_transformer`` (domain reduction), ``set_gp_params``
  settings (accepted and ignored with a warning: gpu_bo fits its own GP), loggers/events.

The parameter order used by ``probe([...])`` with a list is the order of ``pbounds``' keys.
"""

from __future__ import annotations

import json
import math
import numbers
import sys
import traceback
import types
import warnings
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from gpu_bo.exceptions import GpuBoError
from gpu_bo.space import Categorical, Integer, Real, Space
from gpu_bo.study import is_valid_value

__all__ = ["BayesianOptimization", "UtilityFunction", "NotUniqueError", "acquisition",
           "UpperConfidenceBound", "ExpectedImprovement", "ProbabilityOfImprovement"]

_STATE_FORMAT = "gpu_bo.bayes_opt/1"


class NotUniqueError(GpuBoError):
    """A point was registered twice while ``allow_duplicate_points=False`` (as in bayes_opt)."""


# -- acquisition functions ---------------------------------------------------------------------
class _Acquisition:
    """What gpu_bo needs of a bayes_opt acquisition: its kind, kappa/xi and their decay."""

    kind = "ucb"

    def __init__(self, kappa: float = 2.576, xi: float = 0.0, exploration_decay: float | None = None,
                 exploration_decay_delay: int | None = None) -> None:
        for label, v in (("kappa", kappa), ("xi", xi)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{label}: got {v!r}, expected a finite number >= 0")
        if exploration_decay is not None and not 0 < exploration_decay <= 1:
            raise ValueError(f"exploration_decay: got {exploration_decay!r}, expected a number in (0, 1]")
        if exploration_decay_delay is not None and (not isinstance(exploration_decay_delay, int)
                                                    or exploration_decay_delay < 0):
            raise ValueError(f"exploration_decay_delay: got {exploration_decay_delay!r}, expected an int >= 0")
        self.kappa, self.xi = float(kappa), float(xi)
        self.exploration_decay = exploration_decay
        self.exploration_decay_delay = exploration_decay_delay
        self.i = 0  # suggestions made (bayes_opt's counter for the decay)

    def update_params(self) -> None:
        """Apply the exploration decay after a suggestion (bayes_opt semantics)."""
        self.i += 1
        if self.exploration_decay is not None and (
                self.exploration_decay_delay is None or self.exploration_decay_delay <= self.i):
            self.kappa *= self.exploration_decay
            self.xi *= self.exploration_decay

    def get_acquisition_params(self) -> dict[str, Any]:
        return {"kind": self.kind, "kappa": self.kappa, "xi": self.xi, "i": self.i,
                "exploration_decay": self.exploration_decay,
                "exploration_decay_delay": self.exploration_decay_delay}

    def set_acquisition_params(self, params: Mapping[str, Any]) -> None:
        self.kappa, self.xi, self.i = float(params["kappa"]), float(params["xi"]), int(params.get("i", 0))
        self.exploration_decay = params.get("exploration_decay")
        self.exploration_decay_delay = params.get("exploration_decay_delay")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kappa={self.kappa}, xi={self.xi})"


class UpperConfidenceBound(_Acquisition):
    """bayes_opt 2.x/3.x ``acquisition.UpperConfidenceBound``: ``mu + kappa * sigma``."""

    kind = "ucb"

    def __init__(self, kappa: float = 2.576, exploration_decay: float | None = None,
                 exploration_decay_delay: int | None = None, random_state: Any = None) -> None:
        super().__init__(kappa=kappa, exploration_decay=exploration_decay,
                         exploration_decay_delay=exploration_decay_delay)


class ExpectedImprovement(_Acquisition):
    """bayes_opt 2.x/3.x ``acquisition.ExpectedImprovement``: ``E[max(f - f* - xi, 0)]``."""

    kind = "ei"

    def __init__(self, xi: float = 0.01, exploration_decay: float | None = None,
                 exploration_decay_delay: int | None = None, random_state: Any = None) -> None:
        super().__init__(xi=xi, exploration_decay=exploration_decay,
                         exploration_decay_delay=exploration_decay_delay)


class ProbabilityOfImprovement(_Acquisition):
    """bayes_opt 2.x/3.x ``acquisition.ProbabilityOfImprovement``: ``P(f > f* + xi)``."""

    kind = "pi"

    def __init__(self, xi: float = 0.01, exploration_decay: float | None = None,
                 exploration_decay_delay: int | None = None, random_state: Any = None) -> None:
        super().__init__(xi=xi, exploration_decay=exploration_decay,
                         exploration_decay_delay=exploration_decay_delay)


class UtilityFunction(_Acquisition):
    """bayes_opt 1.x ``UtilityFunction(kind="ucb"|"ei"|"poi", kappa, xi, kappa_decay, kappa_decay_delay)``."""

    _KINDS = {"ucb": "ucb", "ei": "ei", "poi": "pi", "pi": "pi"}

    def __init__(self, kind: str = "ucb", kappa: float = 2.576, xi: float = 0.0, kappa_decay: float = 1.0,
                 kappa_decay_delay: int = 0) -> None:
        if not isinstance(kind, str) or kind.lower() not in self._KINDS:
            raise ValueError(f"kind: got {kind!r}, expected 'ucb', 'ei' or 'poi'")
        super().__init__(kappa=kappa, xi=xi, exploration_decay=None if kappa_decay == 1 else kappa_decay,
                         exploration_decay_delay=kappa_decay_delay)
        self.kind = self._KINDS[kind.lower()]

    def update_params(self) -> None:
        # bayes_opt 1.x decays kappa only
        xi = self.xi
        super().update_params()
        self.xi = xi


# ``from gpu_bo.integrations.bayes_opt import acquisition`` and
# ``from gpu_bo.integrations.bayes_opt.acquisition import ExpectedImprovement`` both work, as
# with ``bayes_opt.acquisition``.
acquisition = types.ModuleType(__name__ + ".acquisition", "bayes_opt 3.x acquisition classes")
for _cls in (UpperConfidenceBound, ExpectedImprovement, ProbabilityOfImprovement):
    setattr(acquisition, _cls.__name__, _cls)
acquisition.AcquisitionFunction = _Acquisition
sys.modules[acquisition.__name__] = acquisition


# -- pbounds -----------------------------------------------------------------------------------
def _is_num(v: Any) -> bool:
    return isinstance(v, (numbers.Real, np.number)) and not isinstance(v, (bool, np.bool_))


def _dimension(key: str, bound: Any) -> Real | Integer | Categorical:
    """One pbounds entry -> a gpu_bo dimension, with bayes_opt 3.x's rules."""
    if isinstance(bound, (Real, Integer, Categorical)):
        return bound
    if isinstance(bound, (str, bytes)) or not isinstance(bound, (Sequence, np.ndarray)):
        raise ValueError(
            f"pbounds[{key!r}]: got {bound!r}; expected (low, high), (low, high, int), "
            "(low, high, float) or a sequence of categories"
        )
    b = list(bound)
    if len(b) == 2 and _is_num(b[0]) and _is_num(b[1]) or len(b) == 3 and b[-1] is float:
        if not (_is_num(b[0]) and _is_num(b[1])):
            raise ValueError(f"pbounds[{key!r}]: got {bound!r}; expected numeric bounds")
        lo, hi = float(b[0]), float(b[1])
        if lo == hi:
            raise ValueError(f"pbounds[{key!r}]: got equal bounds {bound!r}; expected low < high")
        return Real(min(lo, hi), max(lo, hi), name=key)
    if len(b) == 3 and b[-1] is int:
        return Integer(int(b[0]), int(b[1]), name=key)
    if len(b) < 2:
        raise ValueError(f"pbounds[{key!r}]: got {bound!r}; expected at least two categories")
    return Categorical([v.item() if isinstance(v, np.generic) else v for v in b], name=key)


def _space_from_pbounds(pbounds: Mapping[str, Any]) -> Space:
    if not isinstance(pbounds, Mapping) or not pbounds:
        raise ValueError(f"pbounds: got {pbounds!r}; expected a non-empty dict of name -> bounds")
    return Space({key: _dimension(key, b) for key, b in pbounds.items()})


def _seed(random_state: Any) -> int | None:
    if random_state is None:
        return None
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise ValueError(f"random_state: got {random_state!r}, expected an int, a numpy RandomState or None")


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


# -- the facade --------------------------------------------------------------------------------
class _TargetSpaceView:
    """The read-only parts of bayes_opt's ``TargetSpace`` that user code tends to touch."""

    def __init__(self, owner: BayesianOptimization) -> None:
        self._owner = owner

    @property
    def keys(self) -> list[str]:
        return list(self._owner._space.names)

    @property
    def bounds(self) -> np.ndarray:
        """``d x 2`` low/high of each numeric parameter (categoricals: their index range)."""
        rows = []
        for dim in self._owner._space.dims.values():
            rows.append([0, len(dim.choices) - 1] if dim.kind == "categorical" else [dim.low, dim.high])
        return np.asarray(rows, dtype=float)

    @property
    def params(self) -> np.ndarray:
        """``n x d`` registered points in key order (object dtype when a parameter is categorical)."""
        rows = [[r["params"][k] for k in self.keys] for r in self._owner.res]
        cat = any(dim.kind == "categorical" for dim in self._owner._space.dims.values())
        return np.asarray(rows, dtype=object if cat else float).reshape(len(rows), len(self.keys))

    @property
    def target(self) -> np.ndarray:
        return np.asarray([r["target"] for r in self._owner.res], dtype=float)

    def __len__(self) -> int:
        return len(self._owner.res)

    @property
    def empty(self) -> bool:
        return len(self) == 0

    def max(self) -> dict[str, Any] | None:
        return self._owner.max

    def res(self) -> list[dict[str, Any]]:
        return self._owner.res


class BayesianOptimization:
    """bayes_opt's ``BayesianOptimization``, running on gpu_bo's GP and acquisition maximizer.

    Args:
        f: the function to maximize, called as ``f(**params)``; None when only
            ``suggest``/``register`` are used.
        pbounds: ``{name: bounds}`` (see the module docstring for the accepted forms).
        acquisition_function: an ``acquisition.*`` object or a ``UtilityFunction``
            (default ``UpperConfidenceBound(kappa=2.576)``).
        constraint, bounds_transformer: not supported; must be None.
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
        self._acq = acquisition_function or UpperConfidenceBound(kappa=2.576)
        self._seed = _seed(random_state)
        self._verbose = int(verbose)
        self._allow_duplicate_points = bool(allow_duplicate_points)
        self._device = device
        self._queue: deque[dict[str, Any]] = deque()
        self._records: list[dict[str, Any]] = []  # every registered point, in order
        self._n_random = 0  # random points drawn so far (the Sobol stream position)
        self._printed_header = False
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
        self._log(rec)

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
                kind=legacy.pop("acq", "ucb"), kappa=legacy.pop("kappa", 2.576), xi=legacy.pop("xi", 0.0))
        legacy = {k: v for k, v in legacy.items() if k not in ("acq", "kappa", "xi")}
        if legacy:
            warnings.warn(f"maximize: ignoring {sorted(legacy)}: gpu_bo fits its own GP", stacklevel=2)
        if not self._queue and not self._records:
            init_points = max(init_points, 1)
        self._queue.extend(self.random_sample(init_points) if init_points else [])
        self._print_header()
        while self._queue:
            self._evaluate(self._queue.popleft())
        for _ in range(n_iter):
            self._evaluate_suggestion()
        self._print_footer()

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

    # -- printing (bayes_opt's ScreenLogger layout) ------------------------------------------------
    def _print_header(self) -> None:
        if self._verbose <= 0:
            return
        cells = ["iter", "target"] + self._space.names
        line = "| " + " | ".join(f"{c[:9]:^9}" for c in cells) + " |"
        print(line)
        print("-" * len(line))
        self._printed_header = True

    def _print_footer(self) -> None:
        if self._verbose > 0:
            cells = 2 + len(self._space.names)
            print("=" * (cells * 12 + 1))

    def _log(self, rec: Mapping[str, Any]) -> None:
        if self._verbose <= 0:
            return
        done = [r["target"] for r in self._records[:-1] if r["target"] is not None]
        new_max = rec["target"] is not None and (not done or rec["target"] > max(done))
        if self._verbose == 1 and not new_max:
            return

        def fmt(v: Any) -> str:
            if isinstance(v, float):
                return f"{v:<9.4g}"
            return f"{str(v)[:9]:<9}"

        cells = [str(len(self._records)), "failed" if rec["target"] is None else rec["target"]]
        cells += [rec["params"][k] for k in self._space.names]
        print("| " + " | ".join(fmt(c) for c in cells) + " |" + (" *" if new_max else ""))
