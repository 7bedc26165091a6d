"""hyperopt's ``early_stop.no_progress_loss``, for ``fmin(early_stop_fn=...)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["no_progress_loss"]


def no_progress_loss(iteration_stop_count: int = 20, percent_increase: float = 0.0) -> Callable:
    """Stop when the best loss has not improved by ``percent_increase`` % for
    ``iteration_stop_count`` trials.

    Args:
        iteration_stop_count: trials without progress before stopping.
        percent_increase: the relative improvement (in %) that counts as progress.
    """

    def stop_fn(trials: Any, best_loss: float | None = None, iteration_no_progress: int = 0) -> tuple:
        # hyperopt's rule as it is: the first trial counts as one without progress, and a trial
        # without a loss (a failed one) resets the count
        new = trials.trials[-1]["result"].get("loss")
        if best_loss is None:
            return False, [new, iteration_no_progress + 1]
        if new is None or new < best_loss - abs(best_loss * percent_increase / 100.0):
            best_loss, iteration_no_progress = new, 0
        else:
            iteration_no_progress += 1
        return iteration_no_progress >= iteration_stop_count, [best_loss, iteration_no_progress]

    return stop_fn
