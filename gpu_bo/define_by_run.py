"""Define-by-run objectives: ``trial.suggest_float/int/categorical`` (Optuna's names) and the
search space learned from those calls.

Two halves, one per side of a backend:

* In the trial (any worker: thread, process, Ray), :class:`Suggester` answers the
  ``suggest_*`` calls of :class:`~gpu_bo.objectives.TrialHandle`. The driver sent the full
  configuration the GP chose (``TrialTask.params``) and the distributions it knows
  (:class:`SearchSpec`); a known parameter gets the configuration's value, a parameter the
  configuration lacks (seen for the first time, or inactive under the conditions learned so far)
  is sampled, seeded by the run's seed, the trial number and the name, and reported back with its
  distribution. The same name twice in one trial returns the same value.
* In the driver, :class:`LearnedOptimizer` stands where the :class:`~gpu_bo.optimizer.Optimizer`
  stands in a run with a space: ``ask``/``tell``/``add_pending``/``remove_pending``. It keeps the
  distributions seen (first-seen order) and every told trial's parameters in call order, learns
  the conditions with :func:`gpu_bo.learned_space.infer_space`, and rebuilds its Optimizer over the
  new space (re-telling the history, which is cheap: the GP is fitted at ``ask``) whenever the space
  changes. A parameter a trial did not use but the space holds (``unexplained`` by any condition,
  or left unused by a failed trial) is told with the value the configuration suggested for it (the
  dimension's centre when there was none), so every told point is a valid point of the space.

The same name with another distribution (type, range, log, step or choices) than an earlier
trial's or the space's (or, with a space given, a name outside it or inactive for the
configuration) is a :class:`DistributionConflict` (a ``ValueError``) raised in the trial
by ``suggest_*``; the trial is recorded FAILED with that message and :func:`gpu_bo.optimize` then
raises it, as ``study.optimize`` does in Optuna.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gpu_bo.categorical import Categorical
from gpu_bo.dimensions import Integer, Real, dimension_from_dict
from gpu_bo.exceptions import SpaceError, SpaceExhausted
from gpu_bo.learned_space import infer_space
from gpu_bo.space import Space

__all__ = ["SearchSpec", "Suggester", "LearnedOptimizer", "DistributionConflict", "float_dist", "int_dist",
           "categorical_dist", "dist_dict", "fixed_spec", "search_spec"]


class DistributionConflict(ValueError):
    """A parameter suggested with another distribution than before (or than the space's)."""


# ----------------------------------------------------------------------------------------------
# distributions: a dimension without its condition, built from the suggest_* arguments
# ----------------------------------------------------------------------------------------------
def _number(call: str, name: str, label: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
        raise TypeError(f"{call}({name!r}): {label}={v!r} ({type(v).__name__}); expected a number")


def _check_name(call: str, name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{call}: name={name!r}; expected a non-empty str")


def _range(call: str, name: str, low: Any, high: Any, log: Any) -> None:
    _number(call, name, "low", low)
    _number(call, name, "high", high)
    if not isinstance(log, bool):
        raise TypeError(f"{call}({name!r}): log={log!r}; expected True or False")
    if low > high:
        raise ValueError(f"{call}({name!r}): low={low!r} > high={high!r}; expected low < high")
    if low == high:
        raise ValueError(f"{call}({name!r}): low == high == {low!r}; expected low < high (a parameter "
                         "with one value is a constant: use it directly)")
    if log and low <= 0:
        raise ValueError(f"{call}({name!r}): log=True needs low > 0, got low={low!r}")


def _built(call: str, name: str, make: Callable[[], Any]) -> Any:
    try:
        return make()
    except SpaceError as e:  # the dimension's own check, said as the call the user wrote
        raise SpaceError(f"{call}({name!r}): {e}") from None


def float_dist(name: str, low: float, high: float, *, step: float | None = None, log: bool = False) -> Real:
    """The distribution of ``suggest_float``, checked as Optuna checks it.

    Args:
        name: the parameter.
        low: the lower bound (included).
        high: the upper bound (included).
        step: only ``low + k * step`` (not with ``log``).
        log: a log scale (``low > 0``).

    Raises:
        ValueError: ``low > high``, ``low == high``, ``log`` with ``low <= 0`` or with a step, a bad step.
        TypeError: a bound or ``log`` of the wrong type.
    """
    call = "suggest_float"
    _check_name(call, name)
    _range(call, name, low, high, log)
    if step is not None and log:
        raise ValueError(f"{call}({name!r}): step={step!r} with log=True; expected one of them (as Optuna)")
    return _built(call, name, lambda: Real(float(low), float(high), log=log, name=name, step=step))


def int_dist(name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> Integer:
    """The distribution of ``suggest_int`` (``high`` included), checked as Optuna checks it.

    Args:
        name: the parameter.
        low: the lower bound (included).
        high: the upper bound (included).
        step: only ``low, low + step, ...`` (``step != 1`` not with ``log``).
        log: a log scale (``low > 0``).

    Raises:
        ValueError: as :func:`float_dist`; non-integer bounds.
        TypeError: a bound or ``log`` of the wrong type.
    """
    call = "suggest_int"
    _check_name(call, name)
    _range(call, name, low, high, log)
    if step != 1 and log:
        raise ValueError(f"{call}({name!r}): step={step!r} with log=True; expected one of them (as Optuna)")
    return _built(call, name, lambda: Integer(low, high, log=log, name=name, step=step))


def categorical_dist(name: str, choices: Sequence[Any]) -> Categorical:
    """The distribution of ``suggest_categorical``.

    Args:
        name: the parameter.
        choices: the values (None, bool, int, float, str, or tuples of them to be storable).

    Raises:
        ValueError: no choices, repeated or unhashable choices.
    """
    call = "suggest_categorical"
    _check_name(call, name)
    if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence) or not len(choices):
        raise ValueError(f"{call}({name!r}): choices={choices!r}; expected a non-empty list of values")
    return _built(call, name, lambda: Categorical(list(choices), name=name))


def dist_dict(dim: Any) -> dict:
    """A dimension's ``to_dict()`` without its condition: its distribution, as compared and sent."""
    d = dim.to_dict()
    d.pop("when", None)
    return d


def _call_text(name: str, d: Mapping[str, Any]) -> str:
    """``suggest_float('x', 0.0, 1.0, log=False)``: a distribution as the call that makes it."""
    if d["type"] == "categorical":
        return f"suggest_categorical({name!r}, {list(d['choices'])!r})"
    fn = "suggest_float" if d["type"] == "real" else "suggest_int"
    step = f", step={d['step']!r}" if "step" in d else ""
    return f"{fn}({name!r}, {d['low']!r}, {d['high']!r}{step}, log={d['log']!r})"


def conflict_text(name: str, new: Mapping[str, Any], old: Mapping[str, Any], where: str) -> str:
    """The message of a :class:`DistributionConflict`."""
    return (f"parameter {name!r}: suggested as {_call_text(name, new)}, but {where} as "
            f"{_call_text(name, old)}; expected one distribution per parameter name (rename the "
            "parameter when it means something else)")


# ----------------------------------------------------------------------------------------------
# the trial's side
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchSpec:
    """What a trial knows of the search space (sent with its task; picklable).

    Attributes:
        dists: name -> distribution (:func:`dist_dict`) of every parameter known.
        fixed: the space was given to ``optimize``: a parameter outside it (or inactive for this
            configuration) is an error instead of a new parameter.
        seed: the run's seed, for sampling new parameters (None: unseeded).
    """

    dists: dict[str, dict] = field(default_factory=dict)
    fixed: bool = False
    seed: int | None = None


def fixed_spec(space: Space) -> SearchSpec:
    """The :class:`SearchSpec` of a space given to ``optimize``."""
    return SearchSpec({n: dist_dict(d) for n, d in space.dims.items()}, fixed=True)


def search_spec(opt: Any, space: Any) -> SearchSpec:
    """The :class:`SearchSpec` a trial is sent: the learned one, or that of the space given."""
    return opt.spec() if isinstance(opt, LearnedOptimizer) else fixed_spec(space)


def sample_value(dim: Any, seed: int | None, number: int, name: str) -> Any:
    """A value of ``dim`` drawn uniformly in its encoding (log-uniform on a log scale), seeded by
    the run's ``seed``, the trial ``number`` and the parameter ``name``."""
    rng = random.Random(f"gpu_bo:{seed}:{number}:{name}") if seed is not None else random.Random()
    return dim.plain(dim.decode_value(rng.random()))


class Suggester:
    """Answers one trial's ``suggest_*`` calls (see the module docstring).

    Args:
        number: the trial number.
        config: the configuration the driver chose (name -> value).
        spec: what the trial knows of the space (None: only the configuration's names exist).
        params: the handle's ``trial.params``; a learned (not fixed) space fills it with the
            parameters the objective used, in call order.
    """

    def __init__(self, number: int, config: Mapping[str, Any], spec: SearchSpec | None,
                 params: dict[str, Any]) -> None:
        self.number, self.config, self.spec = number, dict(config), spec
        self.learning = spec is not None and not spec.fixed
        self.params = params
        if self.learning:
            params.clear()
        self.used: dict[str, Any] = {}
        self.dists: dict[str, dict] = {}
        self.new: dict[str, dict] = {}
        self.conflict: str | None = None

    def _conflict(self, text: str) -> DistributionConflict:
        self.conflict = self.conflict or text
        return DistributionConflict(text)

    def suggest(self, name: str, dim: Any) -> Any:
        """The value of ``name`` with distribution ``dim`` (see the module docstring)."""
        d = dist_dict(dim)
        if name in self.dists:
            if self.dists[name] != d:
                raise self._conflict(conflict_text(name, d, self.dists[name], "this trial suggested it"))
            return self.used[name]
        known = None if self.spec is None else self.spec.dists.get(name)
        if known is not None and known != d:
            where = "the search space holds it" if self.spec.fixed else "earlier trials suggested it"
            raise self._conflict(conflict_text(name, d, known, where))
        if name in self.config:
            value = dim.plain(self.config[name])
        elif not self.learning:
            state = "inactive for this configuration" if known is not None else "not in the search space"
            raise self._conflict(f"trial {self.number}: parameter {name!r} is {state} given to optimize; "
                                 f"the configuration holds {sorted(self.config)}")
        else:
            value = sample_value(dim, self.spec.seed, self.number, name)
            if known is None:
                self.new[name] = d
        self.used[name], self.dists[name] = value, d
        if self.learning:
            self.params[name] = value
        return value

    def report(self) -> dict[str, Any] | None:
        """What goes back to the driver with the result (picklable): ``{"params": [(name, value),
        ...] in call order, "new": {name: distribution}, "conflict": message or None}``; None for
        a space given to optimize without a conflict."""
        if not self.learning and self.conflict is None:
            return None
        return {"params": list(self.used.items()) if self.learning else None, "new": dict(self.new),
                "conflict": self.conflict}


# ----------------------------------------------------------------------------------------------
# the driver's side
# ----------------------------------------------------------------------------------------------
@dataclass
class _Told:
    params: dict[str, Any]        # what the trial used, in call order
    config: dict[str, Any] | None  # what the driver sent (None: unknown, e.g. a stored trial)
    value: Any
    kwargs: dict[str, Any]

    @property
    def observed(self) -> bool:
        # a failed trial may have stopped half-way through its suggest_* calls: no evidence of
        # the conditions; complete and pruned trials are
        return self.kwargs.get("error") is None and (self.value is not None or self.kwargs.get("state") == "PRUNED")


class LearnedOptimizer:
    """An Optimizer over the space the trials show, rebuilt as the space grows.

    Args:
        make: ``make(space) -> Optimizer`` (the runner's arguments bound).
        seed: the run's seed (new parameters are sampled with it).
        stored: the space a storage recorded for the study (``Space.to_dict()``; resume).
        on_grow: called with ``space.to_dict()`` each time the learned space changes.
        reload: returns the storage's current space dict (another process may have grown it).
    """

    def __init__(self, make: Callable[[Space], Any], seed: int | None, stored: dict | None = None,
                 on_grow: Callable[[dict], None] | None = None, reload: Callable[[], dict | None] | None = None) -> None:
        self._make, self.seed, self._on_grow, self._reload = make, seed, on_grow, reload
        self.dims: dict[str, Any] = {}
        self.space: Space | None = None
        self.unexplained: set[str] = set()
        if stored:
            self._merge(stored)
            self.space = Space.from_dict(stored)
        self._history: list[_Told] = []
        self._pending: list[dict[str, Any]] = []
        self._opt: Any = None
        self._n_told = 0            # history entries told to the current optimizer
        self._stale = True          # the optimizer does not match the space
        self._configs: dict[int, dict[str, Any]] = {}  # id(used params) -> the config, until told

    # -- what the trials see -------------------------------------------------------------------
    def spec(self) -> SearchSpec:
        """The :class:`SearchSpec` sent with each trial."""
        return SearchSpec({n: dist_dict(d) for n, d in self.dims.items()}, fixed=False, seed=self.seed)

    def canonical(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` (e.g. read back from JSON) with each known value as its dimension's plain value."""
        out = {}
        for n, v in params.items():
            try:
                out[n] = self.dims[n].plain(v) if n in self.dims else v
            except SpaceError:
                out[n] = v
        return out

    def _merge(self, space: Mapping[str, Any]) -> None:
        for n, d in space.items():
            if n not in self.dims:
                self.dims[n] = dimension_from_dict(n, {k: v for k, v in d.items() if k != "when"})

    # -- learning --------------------------------------------------------------------------------
    def learned(self, number: int, config: Mapping[str, Any], report: Mapping[str, Any]) -> tuple[dict, str | None]:
        """Take in one finished trial's report: its new distributions (a conflict with a known one
        is returned as its message) and the params it used.

        Args:
            number: the trial number.
            config: the configuration it was sent.
            report: :meth:`Suggester.report`.

        Returns:
            ``(params, conflict)``: the parameters the objective used, in call order (the trial's
            ``params`` from now on), and the conflict message or None.
        """
        conflict = report.get("conflict")
        for name, d in (report.get("new") or {}).items():
            if name in self.dims and dist_dict(self.dims[name]) != d:
                conflict = conflict or conflict_text(name, d, dist_dict(self.dims[name]),
                                                     f"another trial (before trial {number}) suggested it")
            elif name not in self.dims:
                self.dims[name] = dimension_from_dict(name, d)
        params = dict(report.get("params") or [])
        self._configs[id(params)] = dict(config)
        return params, conflict

    def _infer(self) -> None:
        """Learn the space again; when it changed, first take in the distributions another process
        stored (so a write never drops a parameter another process learned), then store it."""
        for first in (True, False):
            if not self.dims:
                return
            space, unexplained = infer_space(self.dims, [list(t.params.items()) for t in self._history
                                                         if t.observed])
            if space == self.space:
                return
            if first and self._reload is not None and self._merged():
                continue  # new distributions from the store: learn again with them
            self.space, self.unexplained, self._stale = space, unexplained, True
            if self._on_grow is not None:
                self._on_grow(space.to_dict())
            return

    def _merged(self) -> bool:
        """Take in the stored space's distributions; True when that added one."""
        n = len(self.dims)
        self._merge(self._reload() or {})
        return len(self.dims) > n

    def _fit(self, params: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A valid point of the space: the used value, else the configuration's, else the centre;
        only the parameters active for it."""
        full = {}
        for n, dim in self.space.dims.items():
            for src in (params, config or {}):
                if n in src:
                    try:
                        dim.encode_value(dim.plain(src[n]), n)
                        full[n] = dim.plain(src[n])
                        break
                    except (SpaceError, TypeError):
                        continue
            else:
                full[n] = dim.decode_value(0.5)
        return {n: full[n] for n in self.space.active_names(full)}

    def _current(self) -> Any:
        """The optimizer over the current space, told every trial (None before any parameter)."""
        if self.space is None:
            return None
        if self._stale or self._opt is None:
            self._opt, self._n_told, self._stale = self._make(self.space), 0, False
            for p in self._pending:
                self._opt.add_pending(self._fit(p))
        for t in self._history[self._n_told:]:
            self._opt.tell(self._fit(t.params, t.config), t.value, **t.kwargs)
        self._n_told = len(self._history)
        return self._opt

    # -- the Optimizer's interface, as the run loop uses it ----------------------------------------
    @property
    def n_constraints(self) -> int | None:
        opt = self._current()
        return None if opt is None else opt.n_constraints

    def ask(self, n: int) -> list[dict[str, Any]]:
        """``n`` configurations chosen jointly by the GP over the learned space (``{}`` before the
        first trial showed a parameter)."""
        opt = self._current()
        if opt is None:
            if self._history:  # another {} would repeat a stored trial's params: nothing new to run
                failed = sum(not t.observed for t in self._history)
                raise SpaceExhausted(f"{len(self._history)} define-by-run trial(s) finished ({failed} failed) and "
                                     "none called trial.suggest_*: no search space to suggest from (a trial that "
                                     "fails before its first suggest_* call shows no parameter; see its error)")
            points = [{} for _ in range(n)]
        else:
            points = opt.ask(n=n)
        self._pending.extend(dict(p) for p in points)
        return points

    def add_pending(self, params: Mapping[str, Any]) -> None:
        """A configuration running elsewhere (another process, a resumed run)."""
        params = dict(params)
        if self._reload is not None and any(n not in self.dims for n in params) and self._merged():
            self._infer()
        params = {n: v for n, v in params.items() if n in self.dims}
        self._pending.append(params)
        if self._opt is not None and not self._stale:
            self._opt.add_pending(self._fit(params))

    def remove_pending(self, params: Mapping[str, Any]) -> None:
        """Forget a pending configuration (one that will not be told)."""
        params = {n: v for n, v in params.items() if n in self.dims}
        if params in self._pending:
            self._pending.remove(params)
            if self._opt is not None and not self._stale:
                self._opt.remove_pending(self._fit(params))

    def tell(self, params: Mapping[str, Any], value: Any, **kwargs: Any) -> None:
        """Record a finished trial (``params``: what it used, from :meth:`learned`, or a stored
        trial's); the space is learned again, the optimizer told lazily at the next ask."""
        config = self._configs.pop(id(params), None)
        self.remove_pending(config if config is not None else params)
        # every name kept: one whose distribution is not known yet (another process learned it and
        # has not stored it yet) joins the conditions once the store has it
        self._history.append(_Told(dict(params), config, value, kwargs))
        if self._reload is not None and any(n not in self.dims for t in self._history for n in t.params):
            self._merged()
        self._infer()
