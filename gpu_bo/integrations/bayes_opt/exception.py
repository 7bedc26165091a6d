"""bayes_opt's ``bayes_opt.exception``: the errors the facade raises, under bayes_opt's names.

The classes keep bayes_opt 3.x's hierarchy (every one a ``BayesianOptimizationError``), so an
``except`` written for bayes_opt catches the facade's errors; they are also
:class:`gpu_bo.exceptions.GpuBoError` subclasses.
"""

from __future__ import annotations

from gpu_bo.exceptions import GpuBoError

__all__ = ["BayesianOptimizationError", "ConstraintNotSupportedError", "NoValidPointRegisteredError",
           "NotUniqueError", "TargetSpaceEmptyError"]


class BayesianOptimizationError(GpuBoError):
    """The base class of the facade's own errors (bayes_opt's name)."""


class NotUniqueError(BayesianOptimizationError):
    """A point was registered twice while ``allow_duplicate_points=False``."""


class ConstraintNotSupportedError(BayesianOptimizationError):
    """An acquisition function that cannot take constraints was used on a constrained problem."""


class NoValidPointRegisteredError(BayesianOptimizationError):
    """An acquisition function needs a registered (feasible) point and none exists."""


class TargetSpaceEmptyError(BayesianOptimizationError):
    """The target space holds no point yet."""
