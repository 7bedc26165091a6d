"""bayes_opt's ``bayes_opt.exception``: the errors the facade raises under bayes_opt's names."""

from __future__ import annotations

from gpu_bo.exceptions import GpuBoError

__all__ = ["NotUniqueError"]


class NotUniqueError(GpuBoError):
    """A point was registered twice while ``allow_duplicate_points=False`` (as in bayes_opt)."""
