"""Exceptions and warnings raised by gpu_bo.

Every error that comes from bad user input is a ``ValueError``/``TypeError`` (or a subclass
below that also derives from one of them), and its message names the parameter, the value
received and what was expected.
"""

from __future__ import annotations


class GpuBoError(Exception):
    """Base class of all gpu_bo specific errors."""


class SpaceError(GpuBoError, ValueError):
    """A search space or a point is invalid (bad bounds, unknown parameter, value outside)."""


class SpaceExhausted(GpuBoError):
    """Every point of a finite search space has been evaluated or is pending: none is left to ask."""


class StorageError(GpuBoError):
    """A storage file is missing, corrupt, foreign or locked."""


class TrialPruned(GpuBoError):
    """Raised inside an objective to stop a trial early; the trial is recorded as PRUNED."""


class GpuBoWarning(UserWarning):
    """Base class of gpu_bo warnings."""


class FitWarning(GpuBoWarning):
    """The surrogate fit fell back (more jitter, fewer restarts, default hyperparameters)."""


class DeviceWarning(GpuBoWarning):
    """The requested device could not be used (e.g. CUDA out of memory); work moved to the CPU."""
