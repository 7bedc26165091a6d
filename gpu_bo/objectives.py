"""Objectives: how the runner calls one, the trial handle, and ready-made objectives.

Calling convention (used by every backend):

* ``objective(params: dict) -> float`` — the plain form. ``params`` holds plain Python
  values keyed by the space's parameter names.
* ``objective(trial: TrialHandle) -> float`` — when the objective's first parameter is
  **named** ``trial`` (or annotated ``TrialHandle``) it receives a :class:`TrialHandle`
  instead: ``trial.params``, ``trial.number``, ``trial.device`` (the torch device to train
  on: the GPU when present), ``trial.report(step, value)`` for intermediate values and
  ``trial.should_prune()``; raise :class:`gpu_bo.TrialPruned` to stop early. An object can
  also opt in explicitly with a ``wants_trial = True`` attribute. ``trial.suggest_float``,
  ``suggest_int`` and ``suggest_categorical`` (Optuna's names) define the space by running
  (:mod:`gpu_bo.define_by_run`).

Outcomes: a finite number -> COMPLETE; ``None``, NaN, +-inf, a non-number or an exception
-> FAILED (the error text is kept); ``TrialPruned`` -> PRUNED with the last reported value.
Pruners live in :mod:`gpu_bo.pruners` (re-exported here for existing imports).

:func:`execute_trial` turns one call into a picklable :class:`TrialResult`; backends (serial,
threads, processes, Ray) run it wherever the trial runs.
"""

from __future__ import annotations

import inspect
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gpu_bo.define_by_run import Suggester, categorical_dist, float_dist, int_dist
from gpu_bo.exceptions import TrialPruned
from gpu_bo.outcome import Outcome, parse_outcome, short_repr
from gpu_bo.study import is_valid_value
from gpu_bo.pruners import MedianPruner, NopPruner, Pruner  # noqa: F401 - their home is gpu_bo.pruners

__all__ = [
    "TrialHandle", "TrialTask", "TrialResult", "execute_trial", "wants_trial",
    "Pruner", "MedianPruner", "NopPruner", "SklearnCV", "TrialTimeout",
]


class TrialTimeout(BaseException):
    """Raised inside a serial trial that ran past ``trial_timeout``.

    A ``BaseException`` (as ``KeyboardInterrupt``), so an objective's ``except Exception:``
    cannot swallow it; the trial is FAILED whatever the objective returns (issue 15).
    """


# --------------------------------------------------------------------------------------------
# what travels to a worker and back
# --------------------------------------------------------------------------------------------
@dataclass
class TrialTask:
    """One trial to run (picklable).

    Attributes:
        number: the trial number in the study.
        params: the parameter dict.
        device: the torch device string the trial should train on (``trial.device``).
        direction: "minimize" or "maximize" (for the pruner; the first objective's).
        pruner: the pruner, or ``None``.
        reference: intermediate values of finished trials, for ``pruner`` when ``pruning`` is
            None (a task built without the driver's service).
        pruning: the client of the driver's pruning service (:mod:`gpu_bo.pruning`):
            ``trial.report`` sends to it and ``trial.should_prune`` asks it; None: decide in the
            worker from ``pruner`` and ``reference``.
        timeout: seconds the trial may run (enforced by the runner; serial runs use it in-call).
        pass_trial: call the objective with a :class:`TrialHandle` (``None``: decide with
            :func:`wants_trial`).
        n_objectives: how many values the objective returns (one per objective).
        search: what ``trial.suggest_*`` knows of the space
            (:class:`~gpu_bo.define_by_run.SearchSpec`; None: only the params' names).
    """

    number: int
    params: dict[str, Any]
    device: str = "cpu"
    direction: str = "minimize"
    pruner: Pruner | None = None
    reference: list[dict[int, float]] = field(default_factory=list)
    timeout: float | None = None
    pass_trial: bool | None = None
    n_objectives: int = 1
    pruning: Any = None
    search: Any = None  # define-by-run (gpu_bo.define_by_run)


@dataclass
class TrialResult:
    """The outcome of one trial (picklable). ``state`` is "COMPLETE", "FAILED" or "PRUNED".

    ``value`` is the single objective's value (``values[0]``); ``values`` has one per objective,
    ``constraints`` the outcome constraint values the objective returned (None: none).
    """

    number: int
    state: str
    value: float | None = None
    error: str | None = None
    intermediate: dict[int, float] = field(default_factory=dict)
    end_time: float = field(default_factory=time.time)
    values: list[float] | None = None
    constraints: list[float] | None = None
    suggested: dict[str, Any] | None = None  # define-by-run: Suggester.report() (gpu_bo.define_by_run)

    def __post_init__(self) -> None:
        if self.values is None and self.value is not None:
            self.values = [float(self.value)]


class TrialHandle:
    """What an objective whose parameter is named ``trial`` receives.

    Attributes:
        number: the trial number.
        params: the parameter dict (also reachable as ``trial["name"]``).
        device: ``torch.device`` to train on (the GPU when present).
    """

    def __init__(self, task: TrialTask) -> None:
        self._task = task
        self.number = task.number
        self.params = dict(task.params)
        self.intermediate: dict[int, float] = {}
        self._dbr = Suggester(task.number, task.params, task.search, self.params)  # define-by-run

    def __getitem__(self, name: str) -> Any:
        return self.params[name]

    def __repr__(self) -> str:
        return f"TrialHandle(number={self.number}, params={self.params}, device={self._task.device!r})"

    @property
    def device(self):  # -> torch.device; imported lazily so plain objectives need no torch
        import torch

        return torch.device(self._task.device)

    # -- define-by-run (Optuna's names): the logic is gpu_bo.define_by_run's ----------------------
    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        """The value of the real parameter ``name`` in ``[low, high]`` (see :mod:`gpu_bo.define_by_run`).

        Args:
            name: the parameter (the same name twice in a trial: the same value).
            low: the lower bound (included).
            high: the upper bound (included).
            step: only ``low + k * step`` (not with ``log``).
            log: a log scale (``low > 0``).
        """
        return self._dbr.suggest(name, float_dist(name, low, high, step=step, log=log))

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        """The value of the integer parameter ``name`` in ``[low, high]``, ``high`` included.

        Args:
            name: the parameter (the same name twice in a trial: the same value).
            low: the lower bound (included).
            high: the upper bound (included).
            step: only ``low, low + step, ...`` (``step != 1`` not with ``log``).
            log: a log scale (``low > 0``).
        """
        return self._dbr.suggest(name, int_dist(name, low, high, step=step, log=log))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices`` for the parameter ``name``.

        Args:
            name: the parameter (the same name twice in a trial: the same value).
            choices: the values (str, int, float, bool, None, tuples of them).
        """
        return self._dbr.suggest(name, categorical_dist(name, choices))

    def report(self, step: int, value: float) -> None:
        """Record an intermediate ``value`` (e.g. validation loss after epoch ``step``)."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"report step: got {step!r}, expected a non-negative int")
        try:
            self.intermediate[step] = v = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"report value: got {value!r} ({type(value).__name__}), expected a number") from None
        if self._task.pruning is not None:  # to the driver's board (gpu_bo.pruning)
            self._task.pruning.report(self.number, step, v)

    def should_prune(self) -> bool:
        """True when the pruner judges this trial clearly worse than the others so far (the
        driver's decision from every trial's reports so far, see :mod:`gpu_bo.pruning`)."""
        if self._task.pruning is not None:
            return bool(self._task.pruning.should_prune(self.number))
        p = self._task.pruner
        return bool(p and p.should_prune(self.intermediate, self._task.reference, self._task.direction))


def wants_trial(objective: Callable) -> bool:
    """True when ``objective`` should be called with a :class:`TrialHandle` (see module doc)."""
    flag = getattr(objective, "wants_trial", None)
    if flag is not None:
        return bool(flag)
    try:
        sig = inspect.signature(objective)
    except (TypeError, ValueError):
        return False
    params = [p for p in sig.parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not params:
        return False
    first = params[0]
    ann = first.annotation
    return first.name == "trial" or ann is TrialHandle or ann == "TrialHandle"


def _as_value(raw: Any) -> float | None:
    # the one rule of what a COMPLETE value is (a str such as "0.25" is not); numpy scalars and
    # 0-d tensors (on any device) convert
    return float(raw) if is_valid_value(raw) else None


def _last(intermediate: Mapping[int, float]) -> float | None:
    return intermediate[max(intermediate)] if intermediate else None


def execute_trial(objective: Callable, task: TrialTask) -> TrialResult:
    """Call ``objective`` for ``task`` and turn every outcome into a :class:`TrialResult`.

    Never raises for objective errors (they become FAILED results), ``sys.exit()`` inside the
    objective included; ``KeyboardInterrupt`` propagates (Ctrl-C stops the run). The result
    carries what a define-by-run objective suggested (``suggested``).
    """
    handle = TrialHandle(task)
    result = _execute(objective, task, handle)
    result.suggested = handle._dbr.report()
    return result


def _execute(objective: Callable, task: TrialTask, handle: TrialHandle) -> TrialResult:
    pass_trial = task.pass_trial
    if pass_trial is None:
        pass_trial = wants_trial(objective)
    try:
        raw = objective(handle if pass_trial else dict(task.params))
    except TrialPruned:
        return TrialResult(task.number, "PRUNED", _as_value(_last(handle.intermediate)),
                           intermediate=handle.intermediate)
    except TrialTimeout:
        return TrialResult(task.number, "FAILED", None,
                           error=f"trial_timeout: stopped after {task.timeout} s",
                           intermediate=handle.intermediate)
    except (Exception, SystemExit):  # noqa: BLE001 - any objective error becomes a FAILED trial
        return TrialResult(task.number, "FAILED", None, error=traceback.format_exc(),
                           intermediate=handle.intermediate)
    try:  # the one rule of what a value is (gpu_bo.outcome): a wrong shape is a FAILED trial here
        out = parse_outcome(raw, n_objectives=task.n_objectives)
    except ValueError as e:
        out = Outcome(None, None, f"objective returned {short_repr(raw)}: {e}")
    if not out.ok:
        return TrialResult(task.number, "FAILED", None, error=out.error, intermediate=handle.intermediate)
    return TrialResult(task.number, "COMPLETE", out.values[0] if len(out.values) == 1 else None,
                       intermediate=handle.intermediate, values=out.values, constraints=out.constraints)


# --------------------------------------------------------------------------------------------
# ready-made objectives
# --------------------------------------------------------------------------------------------
class SklearnCV:
    """Mean cross-validated score of an sklearn estimator for a parameter dict.

    Uses ``sklearn.model_selection.cross_val_score`` on a ``clone`` of the estimator with the
    params set through ``set_params``, so nested ``step__param`` names of Pipelines work.
    sklearn scores are "greater is better", so the objective carries ``direction =
    "maximize"`` and :func:`gpu_bo.runner.optimize` uses it when no direction is given.

    Args:
        estimator: any sklearn estimator or Pipeline.
        X: the features.
        y: the targets.
        cv: folds or a CV splitter (as in ``cross_val_score``).
        scoring: a scorer name (``"roc_auc"``, ``"neg_log_loss"``, ...) or callable;
            ``None`` uses the estimator's ``score``.
        n_jobs: parallel folds (as in ``cross_val_score``).
        fixed_params: params set on every trial (not searched).
    """

    direction = "maximize"
    wants_trial = False

    def __init__(self, estimator: Any, X: Any, y: Any = None, *, cv: Any = 5, scoring: Any = None,
                 n_jobs: int | None = None, fixed_params: Mapping[str, Any] | None = None) -> None:
        if not hasattr(estimator, "get_params") or not hasattr(estimator, "fit"):
            raise TypeError(f"estimator: got {type(estimator).__name__}, expected an sklearn estimator "
                            "(with fit and get_params)")
        self.estimator = estimator
        self.X = X
        self.y = y
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.fixed_params = dict(fixed_params or {})

    def __repr__(self) -> str:
        return f"SklearnCV({self.estimator!r}, cv={self.cv!r}, scoring={self.scoring!r})"

    def __call__(self, params: Mapping[str, Any]) -> float:
        from sklearn.base import clone
        from sklearn.model_selection import cross_val_score

        valid = self.estimator.get_params(deep=True)
        unknown = [k for k in params if k not in valid]
        if unknown:
            raise ValueError(
                f"params {sorted(unknown)} are not parameters of {type(self.estimator).__name__}; "
                f"valid names include {sorted(valid)[:20]}"
            )
        est = clone(self.estimator).set_params(**{**self.fixed_params, **params})
        scores = cross_val_score(est, self.X, self.y, cv=self.cv, scoring=self.scoring,
                                 n_jobs=self.n_jobs, error_score="raise")
        return float(scores.mean())
