"""``skopt.callbacks`` on gpu_bo: callables of the ``OptimizeResult`` so far; True stops."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["check_callback", "eval_callbacks", "VerboseCallback", "TimerCallback", "EarlyStopper",
           "DeltaXStopper", "DeltaYStopper", "DeadlineStopper", "ThresholdStopper", "CheckpointSaver",
           "HollowIterationsStopper", "StdStopper"]


def check_callback(callback: Any) -> list[Callable]:
    """``callback`` as a list of callables (None: empty).

    Args:
        callback: None, a callable or a list of callables.

    Raises:
        ValueError: something else.
    """
    if callback is None:
        return []
    if callable(callback):
        return [callback]
    if isinstance(callback, (list, tuple)) and all(callable(c) for c in callback):
        return list(callback)
    raise ValueError(f"callback: got {callback!r}; expected a callable or a list of callables")


def eval_callbacks(callbacks: list[Callable], result: Any) -> bool:
    """Call each callback with ``result``; True when one asks to stop (all are called).

    Args:
        callbacks: the callables.
        result: the ``OptimizeResult`` so far.
    """
    stop = False
    for c in callbacks:
        stop = bool(c(result)) or stop
    return stop


class VerboseCallback:
    """Print the iteration, its time and the best value so far.

    Args:
        n_total: the iterations planned.
        n_init: points of ``x0`` evaluated.
        n_random: initial design points.
    """

    def __init__(self, n_total: int, n_init: int = 0, n_random: int = 0) -> None:
        self.n_total, self.n_init, self.n_random = n_total, n_init, n_random
        self.iter_no = 1
        self._start = time.time()

    def __call__(self, res: Any) -> None:
        now = time.time()
        print(f"Iteration No: {self.iter_no} ended. Evaluation done at provided point."
              if self.iter_no <= self.n_init else f"Iteration No: {self.iter_no} ended.")
        print(f"Time taken: {now - self._start:.4f}")
        print(f"Function value obtained: {res.func_vals[-1]:.4f}")
        print(f"Current minimum: {res.fun:.4f}")
        self._start = now
        self.iter_no += 1


class TimerCallback:
    """Record the seconds between calls in ``iter_time``."""

    def __init__(self) -> None:
        self._time = time.time()
        self.iter_time: list[float] = []

    def __call__(self, res: Any) -> None:
        now = time.time()
        self.iter_time.append(now - self._time)
        self._time = now


class EarlyStopper:
    """Base class of the stoppers: ``_criterion(result)`` True stops."""

    def __call__(self, result: Any) -> Any:
        return self._criterion(result)

    def _criterion(self, result: Any) -> Any:
        raise NotImplementedError("_criterion should be implemented in subclasses of EarlyStopper")


class DeltaXStopper(EarlyStopper):
    """Stop when the two best points are closer than ``delta`` (the space's distance).

    Args:
        delta: the distance.
    """

    def __init__(self, delta: float) -> None:
        self.delta = delta

    def _criterion(self, result: Any) -> bool | None:
        if len(result.x_iters) < 2:
            return None
        i, j = np.argsort(result.func_vals)[:2]
        return result.space.distance(result.x_iters[i], result.x_iters[j]) < self.delta


class DeltaYStopper(EarlyStopper):
    """Stop when the ``n_best`` best values lie within ``delta`` of each other.

    Args:
        delta: the spread.
        n_best: how many of the best values.
    """

    def __init__(self, delta: float, n_best: int = 5) -> None:
        self.delta, self.n_best = delta, n_best

    def _criterion(self, result: Any) -> bool | None:
        if len(result.func_vals) < self.n_best:
            return None
        best = np.sort(result.func_vals)[:self.n_best]
        return bool(best[-1] - best[0] <= self.delta)


class HollowIterationsStopper(EarlyStopper):
    """Stop when the last ``n_iterations`` improved the best value by less than ``threshold``.

    Args:
        n_iterations: the window.
        threshold: the improvement needed.
    """

    def __init__(self, n_iterations: int, threshold: float = 0) -> None:
        self.n_iterations, self.threshold = n_iterations, abs(threshold)

    def _criterion(self, result: Any) -> bool:
        if len(result.func_vals) <= self.n_iterations:
            return False
        cummin = np.minimum.accumulate(result.func_vals)
        return bool(cummin[-self.n_iterations - 1] - cummin[-1] <= self.threshold)


class ThresholdStopper(EarlyStopper):
    """Stop once a value at or below ``threshold`` is found.

    Args:
        threshold: the value.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def _criterion(self, result: Any) -> bool:
        return bool(np.any(np.asarray(result.func_vals) <= self.threshold))


class StdStopper(EarlyStopper):
    """Stop once a fit's training values have a standard deviation at or below ``threshold``.

    skopt reads its GP's ``y_train_std_``; each entry of ``result.models`` here records the
    same number as ``"y_train_std"`` (the standard deviation of the values told at that fit).

    Args:
        threshold: the standard deviation.
        log_interval: accepted for skopt compatibility (nothing is logged).
    """

    def __init__(self, threshold: float, log_interval: int = 10) -> None:
        self.threshold, self.log_interval = threshold, log_interval

    def _criterion(self, result: Any) -> bool:
        stds = [m["y_train_std"] for m in getattr(result, "models", []) if isinstance(m, dict) and "y_train_std" in m]
        return bool(stds) and min(stds) <= self.threshold


class DeadlineStopper(EarlyStopper):
    """Stop when the next call would likely pass ``total_time`` seconds since the first call.

    Args:
        total_time: the budget in seconds.
    """

    def __init__(self, total_time: float) -> None:
        self.total_time = total_time
        self._timer = TimerCallback()

    @property
    def iter_time(self) -> list[float]:
        """Seconds of each call so far."""
        return self._timer.iter_time

    def _criterion(self, result: Any) -> bool | None:
        self._timer(result)
        times = self._timer.iter_time
        if len(times) < 2:
            return None
        return bool(self.total_time - sum(times) < max(times))


class CheckpointSaver:
    """Save the result with :func:`gpu_bo.integrations.skopt.utils.dump` after every call.

    Args:
        checkpoint_path: the file.
        **dump_options: passed to ``dump`` (``store_objective=False``, ``compress=...``).
    """

    def __init__(self, checkpoint_path: str, **dump_options: Any) -> None:
        self.checkpoint_path, self.dump_options = checkpoint_path, dump_options

    def __call__(self, res: Any) -> None:
        from gpu_bo.integrations.skopt.utils import dump

        dump(res, self.checkpoint_path, **self.dump_options)
