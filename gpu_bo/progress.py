"""The progress bar of :func:`gpu_bo.optimize`: trials done, failures, prunings, re-queued
trials waiting to be re-run, the resource used (reported steps), best value so far.

A thin layer over tqdm, kept out of :mod:`gpu_bo.runner` so the run loop stays one screen of
bookkeeping. The bar's figures are set before it advances, so the frame drawn after a trial
already shows the best value that trial set (issue 15: it showed it one trial late).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gpu_bo.study import TrialState, resource_used

__all__ = ["ProgressBar"]


class ProgressBar:
    """A tqdm bar of a study's trials (total: ``n_trials``).

    Args:
        total: the study's ``n_trials``.
        done: trials already finished when the run starts (a resumed study).
        desc: the label in front of the bar (the study's name).
    """

    def __init__(self, total: int, done: int, desc: str) -> None:
        from tqdm.auto import tqdm

        self._bar: Any = tqdm(total=total, initial=min(done, total), desc=desc, unit="trial",
                              dynamic_ncols=True)

    def show(self, trials: Iterable[Any], best: float | int | None, advance: bool = True,
             label: str = "best") -> None:
        """Set the figures from ``trials`` and ``best``, then advance by one trial (or redraw).

        Args:
            trials: every trial of the study (any state).
            best: the study's best feasible value so far (None while there is none), or, with
                ``label="pareto"``, how many trials are on the Pareto front.
            advance: count one more finished trial; False only redraws.
            label: the name ``best`` is shown under ("best" or "pareto").
        """
        trials = list(trials)
        states = [t.state for t in trials]
        shown = "-" if best is None else (str(best) if label == "pareto" else f"{best:.6g}")
        post: dict[str, Any] = {label: shown, "failed": states.count(TrialState.FAILED)}
        if n := sum(t.state == TrialState.COMPLETE and not t.feasible for t in trials):
            post["infeasible"] = n
        for label, state in (("pruned", TrialState.PRUNED), ("waiting", TrialState.WAITING)):
            if n := states.count(state):
                post[label] = n  # waiting: re-queued trials, to be re-run (gpu_bo.heartbeat)
        if used := resource_used(trials):
            post["resource"] = used  # the finished trials' last reported steps (Trial.resource)
        self._bar.set_postfix(post, refresh=not advance)
        if advance:
            self._bar.update(1)  # draws the frame, with the figures just set

    def show_study(self, study: Any, trials: Iterable[Any], advance: bool = True) -> None:
        """:meth:`show` with the study's best value, or its Pareto set's size when it is
        multi-objective."""
        if study.is_multi_objective:
            self.show(trials, len(study.best_trials), advance=advance, label="pareto")
        else:
            self.show(trials, study.best_value, advance=advance)

    def close(self) -> None:
        """Draw the last frame and release the terminal line."""
        self._bar.close()
