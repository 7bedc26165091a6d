"""Pruners: decide from a running trial's intermediate values whether it should stop early.

An objective that takes ``trial`` reports with ``trial.report(step, value)`` and asks
``trial.should_prune()``; the pruner given to :func:`gpu_bo.optimize` answers. Pruners are
picklable (they travel to worker processes with the trial) and see values in the study's own
direction; :class:`gpu_bo.study.Direction` says which way is better.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gpu_bo.study import Direction

__all__ = ["Pruner", "NopPruner", "MedianPruner"]


class Pruner:
    """Decides from intermediate values whether a running trial should stop.

    ``should_prune`` sees the running trial's reported values and the intermediate values of
    the study's finished (COMPLETE or PRUNED) trials as they were when the trial started.
    Pruners must be picklable: they travel to worker processes with the trial.
    """

    def should_prune(self, values: Mapping[int, float], others: Sequence[Mapping[int, float]],
                     direction: str) -> bool:
        """True when the trial with ``values`` ({step: value}) should stop.

        Args:
            values: the running trial's reported values.
            others: the finished trials' reported values.
            direction: "minimize" or "maximize".
        """
        raise NotImplementedError


class NopPruner(Pruner):
    """Never prunes."""

    def should_prune(self, values: Mapping[int, float], others: Sequence[Mapping[int, float]],
                     direction: str) -> bool:
        return False


@dataclass(frozen=True)
class MedianPruner(Pruner):
    """Median stopping rule (Golovin et al., 2017, Google Vizier).

    Prune when the trial's best value up to its latest step is worse than the median of the
    other trials' best values up to that same step.

    Args:
        n_startup_trials: never prune until this many finished trials reported values.
        n_warmup_steps: never prune before a trial reached this step.
        interval_steps: only check every ``interval_steps`` steps.
    """

    n_startup_trials: int = 5
    n_warmup_steps: int = 0
    interval_steps: int = 1

    def __post_init__(self) -> None:
        for name in ("n_startup_trials", "n_warmup_steps", "interval_steps"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < (1 if name == "interval_steps" else 0):
                raise ValueError(f"MedianPruner {name}: got {v!r}, expected a "
                                 f"{'positive' if name == 'interval_steps' else 'non-negative'} int")

    def should_prune(self, values: Mapping[int, float], others: Sequence[Mapping[int, float]],
                     direction: str) -> bool:
        if not values:
            return False
        step = max(values)
        if step < self.n_warmup_steps or (step - self.n_warmup_steps) % self.interval_steps:
            return False
        way = Direction.parse(direction, "direction")

        def best_upto(vals: Mapping[int, float]) -> float | None:
            seen = [v for s, v in vals.items() if s <= step and _finite(v)]
            return way.best(seen) if seen else None

        refs = [b for b in (best_upto(o) for o in others if o) if b is not None]
        if len(refs) < max(self.n_startup_trials, 1):
            return False
        mine = best_upto(values)
        if mine is None:
            return True  # only NaN/inf so far: clearly bad
        med = statistics.median(refs)
        return way.better(med, mine)


def _finite(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False
