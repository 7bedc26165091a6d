"""hyperopt's exceptions (``hyperopt.exceptions``), with messages that say what was expected."""

from __future__ import annotations

from typing import Any

from gpu_bo.exceptions import SpaceError

__all__ = ["BadSearchSpace", "DuplicateLabel", "InvalidTrial", "InvalidResultStatus", "InvalidLoss",
           "AllTrialsFailed", "InvalidAnnotatedParameter"]


class BadSearchSpace(SpaceError):
    """Something is wrong in the description of the search space (a gpu_bo SpaceError too)."""


class DuplicateLabel(BadSearchSpace):
    """Two different hp expressions of one space share a label."""


class InvalidTrial(ValueError):
    """A trial document that is not in hyperopt's layout.

    Args:
        msg: what is wrong.
        obj: the document.
    """

    def __init__(self, msg: str, obj: Any) -> None:
        super().__init__(f"{msg} {obj}")
        self.obj = obj


class _WithResult(ValueError):
    def __init__(self, msg: str, result: Any = None) -> None:
        super().__init__(msg)
        self.result = result


class InvalidResultStatus(_WithResult):
    """The objective returned a dict whose ``"status"`` is missing or not in STATUS_STRINGS."""


class InvalidLoss(_WithResult):
    """The objective returned status ``"ok"`` without a loss that converts to float."""


class AllTrialsFailed(Exception):
    """No trial has status ``"ok"`` and a loss that is not NaN (``Trials.best_trial``)."""


class InvalidAnnotatedParameter(_WithResult):
    """``space="annotated"`` and an argument of ``fn`` is not annotated with an hp expression."""
