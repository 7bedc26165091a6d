"""gpu_bo: Bayesian hyperparameter optimization on the GPU (CPU fallback).

The public API, re-exported; nothing else lives here.
"""

from gpu_bo.exceptions import (  # noqa: F401
    DeviceWarning,
    FitWarning,
    GpuBoError,
    GpuBoWarning,
    SpaceError,
    SpaceExhausted,
    StorageError,
    TrialPruned,
)
from gpu_bo.importance import importance  # noqa: F401
from gpu_bo.optimizer import Optimizer, OptimizerOptions  # noqa: F401
from gpu_bo.pruners import HyperbandPruner, MedianPruner, SuccessiveHalvingPruner  # noqa: F401
from gpu_bo.runner import optimize  # noqa: F401
from gpu_bo.space import Categorical, Integer, Real, Space  # noqa: F401
from gpu_bo.study import Study, Trial, TrialState  # noqa: F401

from gpu_bo import hp  # noqa: F401

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy: BayesSearchCV pulls in sklearn's search machinery, plots needs matplotlib (an extra).
    if name == "BayesSearchCV":
        from gpu_bo.integrations.sklearn import BayesSearchCV

        return BayesSearchCV
    if name == "plots":
        import importlib

        return importlib.import_module("gpu_bo.plots")
    raise AttributeError(f"module 'gpu_bo' has no attribute {name!r}")
