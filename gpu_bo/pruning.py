"""Driver-side pruning: the board every pruner decides from, and the service in front of it.

``trial.report(step, value)`` in a worker reaches the driver's :class:`Board` and
``trial.should_prune()`` answers from the board as it is now (every trial's reports so far,
running trials included), whichever backend runs the trial. One interface, one implementation
per transport:

* :class:`LocalPruning` (this module): the board behind a lock, called directly by the serial
  and thread backends and by the driver itself (finished and resumed trials).
* the process backend serves a :class:`LocalPruning` of the driver to its worker processes over
  a ``multiprocessing.connection`` socket (:mod:`gpu_bo.backends.pruning_ipc`).
* the Ray backend moves one into a small Ray actor (:mod:`gpu_bo.backends.ray`).

A backend offers its transport with an optional method ``pruning_service(local) -> service``;
one without it gets ``local`` itself, which pickles as a copy (decisions then come from the
board as it was when the trial started, plus the trial's own reports).

What a service offers the driver (:meth:`LocalPruning.client`, :meth:`LocalPruning.finish`,
:meth:`LocalPruning.close`) and what its client offers a worker (``report``, ``should_prune``)
are the two halves of :class:`PruningService` and :class:`PruningClient`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

from gpu_bo.direction import Direction

__all__ = ["Board", "PruningClient", "PruningService", "LocalPruning", "decide"]


class Board:
    """What pruners decide from: every trial's reported values and which trials have finished.

    Pruners that keep rungs (successive halving, Hyperband) keep them here too, so the pruner
    objects stay plain, picklable settings and one board holds the whole state of a study.

    Args:
        direction: "minimize" or "maximize" (the study's first objective).
        study_name: the study's name (Hyperband assigns brackets by it and the trial number).

    Attributes:
        values: ``{number: {step: value}}`` of every trial that reported.
        finished: numbers of the finished trials (COMPLETE, PRUNED or FAILED).
        rungs: ``{(bracket, level): {number: value}}``, the values recorded at each rung.
        levels: ``{number: next level}``, the first rung level a trial has not reached yet.
        stopped: trials a rung decided to stop (a decision that stays).
    """

    def __init__(self, direction: str, study_name: str | None = None) -> None:
        self.direction = Direction.parse(direction).value
        self.study_name = study_name or ""
        self.values: dict[int, dict[int, float]] = {}
        self.finished: set[int] = set()
        self.rungs: dict[tuple[int, int], dict[int, float]] = {}
        self.levels: dict[int, int] = {}
        self.stopped: set[int] = set()

    def finished_values(self, exclude: int | None = None) -> list[dict[int, float]]:
        """The reported values of the finished trials (other than ``exclude``), by number."""
        return [self.values[n] for n in sorted(self.finished) if n != exclude and self.values.get(n)]


def decide(pruner: Any, board: Board, number: int) -> bool:
    """Whether trial ``number`` should stop, by ``pruner`` from ``board``.

    Pruners with a ``decide(board, number)`` method (every :class:`gpu_bo.pruners.Pruner`) use
    it; a duck-typed one with only ``should_prune(values, others, direction)`` is asked with
    the finished trials' values.
    """
    own = getattr(pruner, "decide", None)
    if callable(own):
        return bool(own(board, number))
    return bool(pruner.should_prune(board.values.get(number, {}), board.finished_values(number),
                                    board.direction))


class PruningClient(Protocol):
    """What a running trial calls (it travels to the worker inside the trial's task)."""

    def report(self, number: int, step: int, value: float) -> None:
        """Record ``value`` at ``step`` of trial ``number`` (may return before it is recorded:
        a later :meth:`should_prune` of the same trial sees it)."""

    def should_prune(self, number: int) -> bool:
        """The driver's current decision for trial ``number``."""


class PruningService(Protocol):
    """What the driver holds: the clients to send with trials, and the finished trials."""

    def client(self) -> PruningClient:
        """The picklable client that travels with each trial's task."""

    def finish(self, number: int, intermediate: Mapping[int, float]) -> None:
        """Trial ``number`` finished with these reported values (those not yet reported are
        replayed in step order: a resumed study or another process's trial)."""

    def close(self) -> None:
        """Release the transport (a socket, an actor); nothing is asked of it afterwards."""


class LocalPruning:
    """A :class:`Board` and its pruner behind one lock: the in-process service and client.

    Args:
        pruner: the study's pruner.
        direction: "minimize" or "maximize".
        study_name: the study's name (see :class:`Board`).
    """

    def __init__(self, pruner: Any, direction: str, study_name: str | None = None) -> None:
        self.pruner = pruner
        self.board = Board(direction, study_name)
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:  # a copy for another process: the lock stays here
        with self._lock:
            return {"pruner": self.pruner, "board": self.board}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.pruner, self.board = state["pruner"], state["board"]
        self._lock = threading.Lock()

    def _observe(self, number: int, step: int, value: float) -> None:
        self.board.values.setdefault(number, {})[step] = value
        observe = getattr(self.pruner, "observe", None)
        if callable(observe):
            observe(self.board, number, step, value)

    def report(self, number: int, step: int, value: float) -> None:
        """Record one report of a running trial (see :class:`PruningClient`)."""
        with self._lock:
            self._observe(int(number), int(step), float(value))

    def should_prune(self, number: int) -> bool:
        """The decision for trial ``number`` from the board as it is now."""
        with self._lock:
            return decide(self.pruner, self.board, int(number))

    def finish(self, number: int, intermediate: Mapping[int, float]) -> None:
        """See :meth:`PruningService.finish`."""
        with self._lock:
            known = self.board.values.get(number, {})
            for step in sorted(intermediate):
                if step not in known:
                    self._observe(int(number), int(step), float(intermediate[step]))
            self.board.finished.add(int(number))

    def client(self) -> LocalPruning:
        """Itself (serial and thread backends call it in this process)."""
        return self

    def close(self) -> None:
        """Nothing to release."""
