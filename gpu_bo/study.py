"""Trial, TrialState and Study: the record of what was tried."""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gpu_bo.direction import Direction
from gpu_bo.pareto import pareto_mask

__all__ = ["Direction", "TrialState", "Trial", "Study", "is_valid_value", "resource_used"]


class TrialState(str, enum.Enum):
    """Where a trial stands.

    RUNNING: being evaluated; COMPLETE, FAILED, PRUNED: finished; WAITING: queued to be re-run
    with the same params and the same number (its run was interrupted or its owner stopped
    sending heartbeats); it counts toward ``n_trials`` once, and the optimizer sees it as pending.
    """

    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    PRUNED = "PRUNED"
    WAITING = "WAITING"

    @property
    def finished(self) -> bool:
        """True for COMPLETE, FAILED and PRUNED (not RUNNING, not WAITING)."""
        return self not in (TrialState.RUNNING, TrialState.WAITING)

    @classmethod
    def told(cls, state: Any) -> TrialState | None:
        """The state a finished trial is told with: COMPLETE, FAILED, PRUNED or None (by its value).

        Args:
            state: a TrialState, its name (any case) or None.

        Raises:
            ValueError: ``state`` is RUNNING or WAITING (a told trial has finished; a point still being
                evaluated is registered with ``Optimizer.add_pending``) or no state at all.
        """
        if state is None:
            return None
        try:
            st = cls(state.upper() if isinstance(state, str) else state)
        except ValueError:
            st = None
        if st is None or not st.finished:
            why = ("a told trial has finished; register a point still being evaluated with "
                   "Optimizer.add_pending" if st is not None else "no such state")
            raise ValueError(f"state: got {state!r} ({why}); expected 'COMPLETE', 'FAILED', "
                             "'PRUNED' or None (COMPLETE or FAILED by the value)")
        return st


@dataclass(eq=True)
class Trial:
    """One evaluated (or running) configuration.

    Attributes:
        number: 0-based position in the study.
        params: parameter dict of plain Python values.
        values: the outputs of the trial, one float per objective (``None`` while running or
            when it failed). Single-objective studies have one; :attr:`value` is that one.
        state: RUNNING, WAITING, COMPLETE, FAILED or PRUNED.
        error: the error text of a failed trial.
        intermediate: ``{step: value}`` reported by the objective (for pruning).
        user_attrs: free-form JSON-serializable attributes.
        constraints: the trial's outcome constraint values (feasible iff every one is ``<= 0``),
            or ``None`` when none were given.
        attempts: earlier attempts of a re-run trial, oldest first, each ``{"owner": str,
            "start_time": float, "end_time": float, "reason": str}`` (the reason e.g.
            ``"stale: no heartbeat for 30 s"`` or ``"interrupted"``); empty for a first run.
    """

    number: int
    params: dict[str, Any]
    values: list[float] | None = None
    state: TrialState = TrialState.RUNNING
    start_time: float = field(default_factory=time.time)
    end_time: float | None = None
    error: str | None = None
    intermediate: dict[int, float] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    constraints: list[float] | None = None

    def __init__(self, number: int, params: dict[str, Any], value: float | None = None,
                 state: TrialState = TrialState.RUNNING, start_time: float | None = None,
                 end_time: float | None = None, error: str | None = None,
                 intermediate: dict[int, float] | None = None, user_attrs: dict[str, Any] | None = None,
                 values: Sequence[float] | None = None,
                 attempts: Sequence[dict[str, Any]] | None = None,
                 constraints: Sequence[float] | None = None) -> None:
        if value is not None and values is not None:
            raise ValueError(f"Trial: got value={value!r} and values={values!r}; give one of them")
        self.number = number
        self.params = params
        self.values = None
        if values is not None:
            self.values = [float(v) for v in values]
        elif value is not None:
            self.value = value
        self.state = state
        self.start_time = time.time() if start_time is None else start_time
        self.end_time = end_time
        self.error = error
        self.intermediate = {} if intermediate is None else intermediate
        self.user_attrs = {} if user_attrs is None else user_attrs
        self.attempts = [] if attempts is None else [dict(a) for a in attempts]
        self.constraints = None if constraints is None else [float(c) for c in constraints]

    @property
    def value(self) -> float | None:
        """The objective value of a single-objective trial (``None`` while running or failed)."""
        if self.values is None:
            return None
        if len(self.values) != 1:
            raise ValueError(f"trial {self.number} has {len(self.values)} values; use trial.values")
        return self.values[0]

    @value.setter
    def value(self, v: float | None) -> None:
        self.values = None if v is None else [float(v)]

    @property
    def feasible(self) -> bool:
        """True when the trial has no constraints or every constraint value is ``<= 0``."""
        return self.constraints is None or all(c <= 0 for c in self.constraints)

    @property
    def duration(self) -> float | None:
        return None if self.end_time is None else self.end_time - self.start_time

    @property
    def resource(self) -> int | None:
        """The resource the trial used: its last reported step (``trial.report(step, value)``
        with ``step`` = epochs or iterations done; None when it reported nothing)."""
        return max(self.intermediate) if self.intermediate else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "params": dict(self.params),
            "value": self.values[0] if self.values is not None and len(self.values) == 1 else None,
            "values": None if self.values is None else list(self.values),
            "state": self.state.value,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "error": self.error,
            "intermediate": {str(k): v for k, v in self.intermediate.items()},
            "user_attrs": dict(self.user_attrs),
            "attempts": [dict(a) for a in self.attempts],
            "constraints": None if self.constraints is None else list(self.constraints),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trial:
        return cls(
            number=int(d["number"]),
            params=dict(d["params"]),
            value=d.get("value") if d.get("values") is None else None,
            values=d.get("values"),
            state=TrialState(d.get("state", "COMPLETE")),
            start_time=d.get("start_time") or 0.0,
            end_time=d.get("end_time"),
            error=d.get("error"),
            intermediate={int(k): v for k, v in (d.get("intermediate") or {}).items()},
            user_attrs=dict(d.get("user_attrs") or {}),
            attempts=list(d.get("attempts") or []),
            constraints=d.get("constraints"),
        )


def is_valid_value(value: Any) -> bool:
    """True for a finite real number (what a COMPLETE trial must have).

    Numbers and one-element numeric scalars (numpy, a 0-d torch tensor) count; a bool, a str
    (even ``"0.25"``: a number printed by mistake is a bug to report, not to parse) and bytes
    do not.
    """
    if value is None or isinstance(value, (bool, str, bytes, bytearray)):
        return False
    try:
        return math.isfinite(float(value))
    except Exception:  # noqa: BLE001 - TypeError, ValueError, OverflowError (10**400), a bad __float__
        return False


def resource_used(trials: Iterable[Trial]) -> int:
    """The sum of the trials' :attr:`Trial.resource` (0 for a trial that reported nothing)."""
    return sum(t.resource or 0 for t in trials)


class Study:
    """The trials of one optimization run and the best among them.

    Args:
        direction: ``"minimize"`` or ``"maximize"`` (of a single objective).
        trials: the trials, by number.
        name: the study's name in its storage.
        directions: one direction per objective (overrides ``direction``; a one-entry list is
            the same as ``direction``).
    """

    def __init__(self, direction: str = "minimize", trials: Iterable[Trial] = (), name: str | None = None,
                 directions: Sequence[str] | None = None):
        if directions is not None:
            if isinstance(directions, str) or not isinstance(directions, Sequence) or not directions:
                raise ValueError(f"directions: got {directions!r}, expected a non-empty list of "
                                 "'minimize'/'maximize' (one per objective)")
            self.directions = [Direction.parse(d, f"directions[{i}]").value for i, d in enumerate(directions)]
        else:
            self.directions = [Direction.parse(direction).value]
        self.direction = self.directions[0]
        self.name = name
        self.trials: list[Trial] = list(trials)

    def __repr__(self) -> str:
        n = len(self.completed_trials)
        how = f"direction={self.direction!r}" if not self.is_multi_objective else f"directions={self.directions!r}"
        return f"Study(name={self.name!r}, {how}, trials={len(self.trials)}, complete={n})"

    @property
    def is_multi_objective(self) -> bool:
        """True when the study has more than one objective."""
        return len(self.directions) > 1

    @property
    def completed_trials(self) -> list[Trial]:
        return [t for t in self.trials if t.state == TrialState.COMPLETE]

    @property
    def feasible_trials(self) -> list[Trial]:
        """The COMPLETE trials that satisfy their constraints (all of them without constraints)."""
        return [t for t in self.trials if t.state == TrialState.COMPLETE and t.feasible]

    def _single(self, what: str) -> Direction:
        if self.is_multi_objective:
            raise ValueError(f"study.{what}: the study has {len(self.directions)} objectives "
                             f"({self.directions}), so there is no single best; use study.best_trials "
                             "(the Pareto-optimal feasible trials)")
        return Direction.parse(self.direction)

    @property
    def best_trial(self) -> Trial | None:
        """The best feasible COMPLETE trial (None while there is none).

        Raises:
            ValueError: the study is multi-objective (use :attr:`best_trials`).
        """
        direction = self._single("best_trial")
        done = self.feasible_trials
        return direction.best(done, key=lambda t: t.value) if done else None

    @property
    def best_trials(self) -> list[Trial]:
        """The COMPLETE, feasible, non-dominated trials, by number (one objective: the best ones)."""
        done = self.feasible_trials
        if not done:
            return []
        mask = pareto_mask([t.values for t in done], self.directions)
        return [t for t, keep in zip(done, mask) if keep]

    @property
    def best_params(self) -> dict[str, Any] | None:
        self._single("best_params")
        t = self.best_trial
        return None if t is None else dict(t.params)

    @property
    def best_value(self) -> float | None:
        self._single("best_value")
        t = self.best_trial
        return None if t is None else t.value

    @property
    def resource_used(self) -> int:
        """The resource used by all trials: the sum of :attr:`Trial.resource` (a trial that
        reported nothing counts 0)."""
        return resource_used(self.trials)

    def best_so_far(self) -> list[float]:
        """Best feasible completed value after each trial (NaN until the first).

        Raises:
            ValueError: the study is multi-objective (its progress is a hypervolume:
                :func:`gpu_bo.pareto.hypervolume`).
        """
        direction = self._single("best_so_far()")
        out, best = [], math.nan
        for t in self.trials:
            if t.state == TrialState.COMPLETE and t.feasible and (math.isnan(best) or direction.better(t.value, best)):
                best = t.value
            out.append(best)
        return out

    def to_dataframe(self):
        """A pandas DataFrame of the trials: one row per trial, one ``params_<name>`` column per parameter.

        Multi-objective studies get ``values_0``, ``values_1``, ... instead of ``value``; studies
        with constraints get ``constraints_0``, ... and ``feasible``.

        Raises:
            ImportError: pandas is not installed (``pip install 'gpu-bo[dataframe]'`` installs it).
        """
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Study.to_dataframe needs pandas, which is not installed: "
                              "pip install 'gpu-bo[dataframe]' (or pip install pandas)") from e
        rows = []
        for t in self.trials:
            row: dict[str, Any] = {"number": t.number}
            if self.is_multi_objective:
                row.update({f"values_{i}": (None if t.values is None else t.values[i])
                            for i in range(len(self.directions))})
            else:
                row["value"] = t.value
            row.update({"state": t.state.value, "start_time": t.start_time, "end_time": t.end_time,
                        "duration": t.duration, "error": t.error})
            if t.constraints is not None:
                row.update({f"constraints_{i}": c for i, c in enumerate(t.constraints)})
                row["feasible"] = t.feasible
            row.update({f"params_{k}": v for k, v in t.params.items()})
            rows.append(row)
        return pd.DataFrame(rows)
