"""Alias kept for existing imports: the Ray integration now lives in two homes.

* the Ray Tune searcher: :mod:`gpu_bo.integrations.ray_tune` (``GpuBoSearch``,
  ``convert_tune_space``);
* the ``"ray"`` backend of :func:`gpu_bo.optimize`: :mod:`gpu_bo.backends.ray`
  (``RayBackend``, ``default_resources``).

New code should import from those modules.
"""

from __future__ import annotations

from gpu_bo.backends.ray import RayBackend, _run_trial, default_resources  # noqa: F401
from gpu_bo.integrations.ray_tune import GpuBoSearch, convert_tune_space

__all__ = ["GpuBoSearch", "convert_tune_space", "RayBackend", "default_resources"]
