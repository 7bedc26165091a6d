"""``skopt.space`` on gpu_bo: ``Real``, ``Integer``, ``Categorical``, ``Space``, ``check_dimension``."""

from __future__ import annotations

from gpu_bo.integrations.skopt.space.dimensions import Categorical, Dimension, Integer, Real
from gpu_bo.integrations.skopt.space.space import Space, check_dimension

__all__ = ["Real", "Integer", "Categorical", "Dimension", "Space", "check_dimension"]
