"""A maintained successor of scikit-optimize's public API on gpu_bo's engine.

Change ``skopt`` to ``gpu_bo.integrations.skopt`` in the imports::

    from gpu_bo.integrations.skopt import gp_minimize, dummy_minimize, Optimizer, BayesSearchCV, dump, load
    from gpu_bo.integrations.skopt import expected_minimum
    from gpu_bo.integrations.skopt.space import Real, Integer, Categorical

What is supported, what differs on purpose and what raises: docs/guide/dropin-skopt.md.
"""

from __future__ import annotations

from gpu_bo.integrations.skopt import callbacks, sampler, space, utils  # noqa: F401
from gpu_bo.integrations.skopt.minimize import dummy_minimize, gp_minimize
from gpu_bo.integrations.skopt.optimizer import Optimizer
from gpu_bo.integrations.skopt.space import Space
from gpu_bo.integrations.skopt.utils import dump, expected_minimum, expected_minimum_random_sampling, load

__all__ = ["gp_minimize", "dummy_minimize", "Optimizer", "BayesSearchCV", "Space", "dump", "load",
           "expected_minimum", "expected_minimum_random_sampling", "callbacks", "sampler", "space", "utils"]


def __getattr__(name: str):
    # lazy: gpu_bo.integrations.sklearn (BayesSearchCV's home) imports this package's space
    if name == "BayesSearchCV":
        from gpu_bo.integrations.sklearn import BayesSearchCV

        return BayesSearchCV
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
