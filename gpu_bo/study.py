"""Trial, TrialState and Study: the record of what was tried."""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Direction", "TrialState", "Trial", "Study", "is_valid_value"]


class Direction(str, enum.Enum):
    """Which way an objective is optimized: the one place where signs are flipped.

    Internally every objective is maximized: ``direction.sign * value`` is the value the GP and
    the acquisition see, and ``direction.sign * internal`` turns it back (the sign is its own
    inverse). Multiplying by +-1.0 is exact, so no rounding comes from it.
    """

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"

    @classmethod
    def parse(cls, value: Any, label: str = "direction") -> Direction:
        """``"minimize"``/``"maximize"`` (or a Direction) -> Direction; else a ValueError naming ``label``."""
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"{label}: got {value!r}, expected 'minimize' or 'maximize'") from None

    @property
    def sign(self) -> float:
        """+1.0 for maximize, -1.0 for minimize: ``sign * value`` is to be maximized."""
        return 1.0 if self is Direction.MAXIMIZE else -1.0

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b`` in this direction."""
        return a > b if self is Direction.MAXIMIZE else a < b

    def best(self, items: Iterable[Any], key: Any = None) -> Any:
        """The best of ``items`` (by ``key(item)`` when given): ``max`` or ``min``."""
        pick = max if self is Direction.MAXIMIZE else min
        return pick(items, key=key) if key is not None else pick(items)

    def __str__(self) -> str:
        return self.value


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

    def __init__(self, number: int, params: dict[str, Any], value: float | None = None,
                 state: TrialState = TrialState.RUNNING, start_time: float | None = None,
                 end_time: float | None = None, error: str | None = None,
                 intermediate: dict[int, float] | None = None, user_attrs: dict[str, Any] | None = None,
                 values: Sequence[float] | None = None,
                 attempts: Sequence[dict[str, Any]] | None = None) -> None:
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
    def duration(self) -> float | None:
        return None if self.end_time is None else self.end_time - self.start_time

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


class Study:
    """The trials of one optimization run and the best among them."""

    def __init__(self, direction: str = "minimize", trials: Iterable[Trial] = (), name: str | None = None):
        self.direction = Direction.parse(direction).value
        self.name = name
        self.trials: list[Trial] = list(trials)

    def __repr__(self) -> str:
        n = len(self.completed_trials)
        return f"Study(name={self.name!r}, direction={self.direction!r}, trials={len(self.trials)}, complete={n})"

    @property
    def completed_trials(self) -> list[Trial]:
        return [t for t in self.trials if t.state == TrialState.COMPLETE]

    @property
    def best_trial(self) -> Trial | None:
        done = self.completed_trials
        if not done:
            return None
        return Direction.parse(self.direction).best(done, key=lambda t: t.value)

    @property
    def best_params(self) -> dict[str, Any] | None:
        t = self.best_trial
        return None if t is None else dict(t.params)

    @property
    def best_value(self) -> float | None:
        t = self.best_trial
        return None if t is None else t.value

    def best_so_far(self) -> list[float]:
        """Best completed value after each trial (NaN until the first completes)."""
        out, best = [], math.nan
        direction = Direction.parse(self.direction)
        for t in self.trials:
            if t.state == TrialState.COMPLETE and (math.isnan(best) or direction.better(t.value, best)):
                best = t.value
            out.append(best)
        return out

    def to_dataframe(self):
        """A pandas DataFrame of the trials: one row per trial, one ``params_<name>`` column per parameter.

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
            row = {"number": t.number, "value": t.value, "state": t.state.value,
                   "start_time": t.start_time, "end_time": t.end_time, "duration": t.duration,
                   "error": t.error}
            row.update({f"params_{k}": v for k, v in t.params.items()})
            rows.append(row)
        return pd.DataFrame(rows)
