"""Trial, TrialState and Study: the record of what was tried."""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TrialState", "Trial", "Study"]


class TrialState(str, enum.Enum):
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    PRUNED = "PRUNED"


@dataclass
class Trial:
    """One evaluated (or running) configuration.

    Attributes:
        number: 0-based position in the study.
        params: parameter dict of plain Python values.
        value: the objective value (``None`` while running or when it failed).
        state: RUNNING, COMPLETE, FAILED or PRUNED.
        error: the error text of a failed trial.
        intermediate: ``{step: value}`` reported by the objective (for pruning).
    """

    number: int
    params: dict[str, Any]
    value: float | None = None
    state: TrialState = TrialState.RUNNING
    start_time: float = field(default_factory=time.time)
    end_time: float | None = None
    error: str | None = None
    intermediate: dict[int, float] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        return None if self.end_time is None else self.end_time - self.start_time

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "params": dict(self.params),
            "value": self.value,
            "state": self.state.value,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "error": self.error,
            "intermediate": {str(k): v for k, v in self.intermediate.items()},
            "user_attrs": dict(self.user_attrs),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trial:
        return cls(
            number=int(d["number"]),
            params=dict(d["params"]),
            value=d.get("value"),
            state=TrialState(d.get("state", "COMPLETE")),
            start_time=d.get("start_time") or 0.0,
            end_time=d.get("end_time"),
            error=d.get("error"),
            intermediate={int(k): v for k, v in (d.get("intermediate") or {}).items()},
            user_attrs=dict(d.get("user_attrs") or {}),
        )


def is_valid_value(value: Any) -> bool:
    """True for a finite real number (what a COMPLETE trial must have)."""
    try:
        return value is not None and not isinstance(value, bool) and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


class Study:
    """The trials of one optimization run and the best among them."""

    def __init__(self, direction: str = "minimize", trials: Iterable[Trial] = (), name: str | None = None):
        if direction not in ("minimize", "maximize"):
            raise ValueError(f"direction: got {direction!r}, expected 'minimize' or 'maximize'")
        self.direction = direction
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
        pick = max if self.direction == "maximize" else min
        return pick(done, key=lambda t: t.value)

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
        better = (lambda a, b: a > b) if self.direction == "maximize" else (lambda a, b: a < b)
        for t in self.trials:
            if t.state == TrialState.COMPLETE and (math.isnan(best) or better(t.value, best)):
                best = t.value
            out.append(best)
        return out

    def to_dataframe(self):
        """A pandas DataFrame of the trials (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("Study.to_dataframe needs pandas: pip install pandas") from e
        rows = []
        for t in self.trials:
            row = {"number": t.number, "value": t.value, "state": t.state.value,
                   "start_time": t.start_time, "end_time": t.end_time, "duration": t.duration,
                   "error": t.error}
            row.update({f"params_{k}": v for k, v in t.params.items()})
            rows.append(row)
        return pd.DataFrame(rows)
