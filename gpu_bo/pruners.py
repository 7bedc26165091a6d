"""Pruners: decide from a running trial's intermediate values whether it should stop early.

An objective that takes ``trial`` reports with ``trial.report(step, value)`` and asks
``trial.should_prune()``; the pruner given to :func:`gpu_bo.optimize` answers, in the driver,
from every trial's reports so far (:mod:`gpu_bo.pruning`: the board and the service that
carries reports and decisions between workers and driver, for every backend). Pruners are
plain, picklable settings; values are in the study's own direction
(:class:`gpu_bo.study.Direction` says which way is better).

* :class:`MedianPruner`: the median stopping rule against the finished trials so far.
* :class:`SuccessiveHalvingPruner`: asynchronous successive halving (ASHA).
* :class:`HyperbandPruner`: several ASHA brackets, trials spread over them by number.
"""

from __future__ import annotations

import binascii
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gpu_bo.pruning import Board
from gpu_bo.study import Direction

__all__ = ["Pruner", "NopPruner", "MedianPruner", "SuccessiveHalvingPruner", "HyperbandPruner"]


class Pruner:
    """Decides from intermediate values whether a running trial should stop.

    The driver calls :meth:`observe` for every report and :meth:`decide` for every
    ``trial.should_prune()``, both with the study's :class:`~gpu_bo.pruning.Board`. By default
    :meth:`decide` asks :meth:`should_prune` with the trial's values and the values of the
    study's trials finished so far, so a subclass may implement only :meth:`should_prune`.
    Pruners must be picklable: they travel to worker processes with the trial.
    """

    def observe(self, board: Board, number: int, step: int, value: float) -> None:
        """Take in one report (the board already holds it); the default keeps nothing more.

        Args:
            board: the study's board.
            number: the reporting trial.
            step: its step.
            value: its value at ``step``.
        """

    def decide(self, board: Board, number: int) -> bool:
        """True when trial ``number`` should stop now.

        Args:
            board: the study's board (every trial's reports so far).
            number: the asking trial.
        """
        return self.should_prune(board.values.get(number, {}), board.finished_values(number), board.direction)

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
    other trials' best values up to that same step. The other trials are the study's finished
    ones at the moment of ``trial.should_prune()`` (not those finished when the trial started).

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


def _check_int(owner: str, name: str, v: Any, low: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise ValueError(f"{owner} {name}: got {v!r}, expected an int >= {low}")


def _replay(pruner: Pruner, values: Mapping[int, float], others: Sequence[Mapping[int, float]],
            direction: str) -> bool:
    """A decision from a snapshot (``should_prune``'s form): replay the finished trials, then the
    trial itself, on a fresh board, in step order."""
    board = Board(direction)
    curves = [*others, values]
    for number, curve in enumerate(curves):
        for step in sorted(curve):
            board.values.setdefault(number, {})[step] = float(curve[step])
            pruner.observe(board, number, step, float(curve[step]))
    return pruner.decide(board, len(curves) - 1)


@dataclass(frozen=True)
class SuccessiveHalvingPruner(Pruner):
    """Asynchronous successive halving (ASHA; Li et al., 2020, arXiv:1810.05934).

    Rung ``k`` is at step ``min_resource * reduction_factor ** (k + min_early_stopping_rate)``.
    When a trial first reports at or past a rung's step, the value of that report is recorded at
    the rung, and the trial continues iff it is in the top ``1 / reduction_factor`` of the values
    recorded at that rung so far (counting itself; ties continue). Nothing waits for a rung to
    fill: each decision uses the rung as it is at that moment, with the reports of running
    trials in it. A trial stopped at a rung stays stopped; a non-finite value at a rung stops it.

    Steps are resources: report ``step`` as the resource used so far (epochs done, from 1).

    Args:
        min_resource: the step of the first rung (``r`` in the paper).
        reduction_factor: ``eta``: the top ``1/eta`` of a rung continues.
        min_early_stopping_rate: ``s``: skip the first ``s`` rungs (Hyperband's bracket index).
    """

    min_resource: int = 1
    reduction_factor: int = 3
    min_early_stopping_rate: int = 0

    def __post_init__(self) -> None:
        _check_int("SuccessiveHalvingPruner", "min_resource", self.min_resource, 1)
        _check_int("SuccessiveHalvingPruner", "reduction_factor", self.reduction_factor, 2)
        _check_int("SuccessiveHalvingPruner", "min_early_stopping_rate", self.min_early_stopping_rate, 0)

    def rung_step(self, k: int) -> int:
        """The step of rung ``k`` (0-based)."""
        return self.min_resource * self.reduction_factor ** (k + self.min_early_stopping_rate)

    def observe(self, board: Board, number: int, step: int, value: float) -> None:
        self._observe_in(board, 0, number, step, value)

    def _observe_in(self, board: Board, bracket: int, number: int, step: int, value: float) -> None:
        """Record ``value`` at the rungs of ``bracket`` that ``step`` newly reaches, lowest
        first, deciding at each, up to the first that stops the trial."""
        k = board.levels.get(number, 0)
        sign = Direction.parse(board.direction).sign
        while step >= self.rung_step(k):
            if not _finite(value):
                board.stopped.add(number)  # as Optuna: a NaN at a rung stops the trial, recorded nowhere
                return
            rung = board.rungs.setdefault((bracket, k), {})
            rung[number] = value
            k += 1
            board.levels[number] = k
            if not _promotable(-sign * value, [-sign * v for v in rung.values()], self.reduction_factor):
                board.stopped.add(number)
                return  # as Optuna: the higher rungs of a jump are recorded by the next report only

    def decide(self, board: Board, number: int) -> bool:
        return number in board.stopped

    def should_prune(self, values: Mapping[int, float], others: Sequence[Mapping[int, float]],
                     direction: str) -> bool:
        """The decision from a snapshot: the finished trials' curves replayed, then this trial's."""
        return _replay(self, values, others, direction)


def _promotable(loss: float, rung: list[float], eta: int) -> bool:
    """Whether ``loss`` (smaller is better, one of ``rung``) is in the top ``1/eta`` of ``rung``.

    With fewer than ``eta`` values the top ``1/eta`` is empty; the paper's ASHA would leave the
    trial paused until more arrive, which a running trial cannot be. As Optuna's
    ``_is_trial_promotable_to_next_rung``, such a trial continues only while it is the best
    at the rung (rank 0); from ``eta`` values on, iff its rank is below ``len(rung) // eta``.
    """
    idx = max(len(rung) // eta - 1, 0)
    return loss <= sorted(rung)[idx]


@dataclass(frozen=True)
class HyperbandPruner(Pruner):
    """Hyperband (Li et al., 2018) as asynchronous successive halving brackets.

    Bracket ``b`` (``0 <= b < n_brackets``, ``n_brackets = 1 + max s with min_resource *
    reduction_factor ** s <= max_resource``) is a :class:`SuccessiveHalvingPruner` with
    ``min_early_stopping_rate=b``; it compares only its own trials. A trial's bracket depends
    only on the study's name and the trial's number (a CRC32 hash, as Optuna's
    ``HyperbandPruner``), so workers, resumed runs and other processes agree; bracket ``b``
    takes ``ceil(n_brackets * eta ** s / (s + 1))`` (``s = n_brackets - 1 - b``) of every
    ``sum`` of those numbers, Optuna's share (Hyperband's ``n`` per bracket, as a ratio).

    ``max_resource="auto"`` is not offered: the brackets must be known at a trial's first rung,
    before any trial has finished to show the maximum.

    Args:
        min_resource: the step of the first rung of bracket 0.
        max_resource: the largest step a trial reports (its full training).
        reduction_factor: ``eta`` of every bracket.
    """

    min_resource: int = 1
    max_resource: int = 81
    reduction_factor: int = 3

    def __post_init__(self) -> None:
        _check_int("HyperbandPruner", "min_resource", self.min_resource, 1)
        _check_int("HyperbandPruner", "max_resource", self.max_resource, self.min_resource)
        _check_int("HyperbandPruner", "reduction_factor", self.reduction_factor, 2)

    @property
    def n_brackets(self) -> int:
        """How many brackets (integer arithmetic: Optuna's ``floor(log(max / min, eta)) + 1``,
        without float rounding at exact powers)."""
        s = 0
        while self.min_resource * self.reduction_factor ** (s + 1) <= self.max_resource:
            s += 1
        return s + 1

    @property
    def budgets(self) -> list[int]:
        """The share of trials of each bracket, bracket 0 first."""
        n = self.n_brackets
        return [math.ceil(n * self.reduction_factor ** (n - 1 - b) / (n - b)) for b in range(n)]

    def bracket(self, study_name: str, number: int) -> int:
        """The bracket of trial ``number`` of the study named ``study_name``."""
        budgets = self.budgets
        left = binascii.crc32(f"{study_name}_{number}".encode()) % sum(budgets)
        for b, share in enumerate(budgets):
            left -= share
            if left < 0:
                return b
        raise AssertionError("unreachable: the shares sum to the modulus")

    def bracket_pruner(self, b: int) -> SuccessiveHalvingPruner:
        """The successive halving rule of bracket ``b``."""
        return SuccessiveHalvingPruner(self.min_resource, self.reduction_factor, b)

    def observe(self, board: Board, number: int, step: int, value: float) -> None:
        b = self.bracket(board.study_name, number)
        self.bracket_pruner(b)._observe_in(board, b, number, step, value)

    def decide(self, board: Board, number: int) -> bool:
        return number in board.stopped

    def should_prune(self, values: Mapping[int, float], others: Sequence[Mapping[int, float]],
                     direction: str) -> bool:
        """The decision from a snapshot (trials numbered by position, the study unnamed)."""
        return _replay(self, values, others, direction)


def _finite(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False
