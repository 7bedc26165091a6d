"""Benchmark problems, all minimized: synthetic functions with a known optimum and two HPO tasks.

High-dimensional ones (benchmarks/quality.py ``--suite highdim``): ``hartmann6_100d``, Hartmann6
read from dimensions 3, 19, 37, 52, 71 and 94 of [0,1]^100 (the other 94 are ignored; optimum
-3.32237), and ``ackley100``, Ackley on [-32.768, 32.768]^100 (optimum 0 at the origin).

Synthetic functions are BoTorch's reference implementations (``botorch.test_functions``) with
their published optimal values, so regret is ``value - optimum``. The HPO tasks tune models on
datasets that ship with scikit-learn and report ``1 - cross-validated accuracy`` (their optimum
is taken as 0, so their "regret" is the error rate itself).

The second HPO task uses ``load_breast_cancer`` rather than ``load_digits``: a
HistGradientBoostingClassifier on digits (10 classes -> 10 trees per boosting round) costs
3-7 s per 3-fold evaluation on the project's 2-core CPU, which puts the full benchmark (10 seeds
x 7 methods x 50 evaluations) at several hours; on breast cancer it costs 0.1-0.8 s.

Shapes: a problem is called on one parameter dict and returns a float.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import gpu_bo as gb

__all__ = ["Problem", "PROBLEMS", "HARTMANN6_100D_ACTIVE", "get_problem", "smooth_test_function", "unit_cube_space"]


@dataclass(frozen=True)
class Problem:
    """A minimization problem.

    Attributes:
        name: short name used in result files.
        space: the gpu_bo search space (every peer adapter translates it).
        fn: parameters -> objective value (lower is better).
        optimum: the known minimum (0.0 for HPO tasks, whose value is ``1 - score``).
        kind: ``"synthetic"`` or ``"hpo"``.
        description: one line for the result tables.
    """

    name: str
    space: gb.Space
    fn: Callable[[Mapping[str, Any]], float]
    optimum: float
    kind: str
    description: str

    def __call__(self, params: Mapping[str, Any]) -> float:
        return float(self.fn(params))

    def regret(self, value: float) -> float:
        """Simple regret of a (best-found) value: ``value - optimum``."""
        return float(value) - self.optimum


def _botorch_problem(name: str, fn: Any, description: str) -> Problem:
    """Wrap a ``botorch.test_functions`` synthetic function (noise-free) as a Problem."""
    bounds = fn.bounds.to(dtype=torch.float64)
    names = [f"x{i}" for i in range(bounds.shape[1])]
    space = gb.Space({n: gb.Real(float(bounds[0, i]), float(bounds[1, i])) for i, n in enumerate(names)})

    def call(params: Mapping[str, Any]) -> float:
        x = torch.tensor([[float(params[n]) for n in names]], dtype=torch.float64, device="cpu")
        return float(fn.evaluate_true(x).item())

    return Problem(name, space, call, float(fn.optimal_value), "synthetic", description)


def branin() -> Problem:
    from botorch.test_functions import Branin

    return _botorch_problem("branin", Branin(), "Branin, d=2, [-5,10]x[0,15], optimum 0.397887")


def hartmann6() -> Problem:
    from botorch.test_functions import Hartmann

    return _botorch_problem("hartmann6", Hartmann(dim=6), "Hartmann6, d=6, [0,1]^6, optimum -3.32237")


def ackley10() -> Problem:
    from botorch.test_functions import Ackley

    return _botorch_problem("ackley10", Ackley(dim=10), "Ackley, d=10, [-32.768,32.768]^10, optimum 0")


# the 6 of hartmann6_100d's 100 dimensions that Hartmann6 reads (x_i -> Hartmann's i-th input),
# spread over the range so that no method gains from an order of the columns
HARTMANN6_100D_ACTIVE = (3, 19, 37, 52, 71, 94)


def hartmann6_100d() -> Problem:
    """Hartmann6 hidden in 100 dimensions: only ``HARTMANN6_100D_ACTIVE`` matter."""
    from botorch.test_functions import Hartmann

    fn = Hartmann(dim=6)
    names = [f"x{i}" for i in range(100)]
    space = gb.Space({n: gb.Real(0.0, 1.0) for n in names})
    active = [names[i] for i in HARTMANN6_100D_ACTIVE]

    def call(params: Mapping[str, Any]) -> float:
        x = torch.tensor([[float(params[n]) for n in active]], dtype=torch.float64, device="cpu")
        return float(fn.evaluate_true(x).item())

    dims = ", ".join(active)
    return Problem("hartmann6_100d", space, call, float(fn.optimal_value), "synthetic",
                   f"Hartmann6 on dimensions {dims} of [0,1]^100 (the other 94 ignored), optimum -3.32237")


def ackley100() -> Problem:
    from botorch.test_functions import Ackley

    return _botorch_problem("ackley100", Ackley(dim=100), "Ackley, d=100, [-32.768,32.768]^100, optimum 0")


@functools.lru_cache(maxsize=None)
def _breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return X, y


def _cv_error(model: Any, folds: int) -> float:
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X, y = _breast_cancer()
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)  # fixed folds: deterministic objective
    return 1.0 - float(np.mean(cross_val_score(model, X, y, cv=cv)))


def svc_breast_cancer() -> Problem:
    """SVC(C, gamma) on standardized breast-cancer features, 5-fold CV error."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    space = gb.Space({"C": gb.Real(1e-3, 1e3, log=True), "gamma": gb.Real(1e-5, 1e1, log=True)})

    def call(params: Mapping[str, Any]) -> float:
        model = make_pipeline(StandardScaler(), SVC(C=float(params["C"]), gamma=float(params["gamma"])))
        return _cv_error(model, folds=5)

    return Problem("svc_cancer", space, call, 0.0, "hpo",
                   "SVC C, gamma (log) on load_breast_cancer, 1 - 5-fold CV accuracy")


def hgb_breast_cancer() -> Problem:
    """HistGradientBoostingClassifier, 6 mixed hyperparameters, 3-fold CV error."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    space = gb.Space({
        "learning_rate": gb.Real(1e-2, 1.0, log=True),
        "max_iter": gb.Integer(10, 100),
        "max_leaf_nodes": gb.Integer(4, 64),
        "min_samples_leaf": gb.Integer(2, 64),
        "l2_regularization": gb.Real(1e-6, 10.0, log=True),
        "interactions": gb.Categorical(["any", "none"]),  # "none" -> an additive model
    })

    def call(params: Mapping[str, Any]) -> float:
        model = HistGradientBoostingClassifier(
            learning_rate=float(params["learning_rate"]),
            max_iter=int(params["max_iter"]),
            max_leaf_nodes=int(params["max_leaf_nodes"]),
            min_samples_leaf=int(params["min_samples_leaf"]),
            l2_regularization=float(params["l2_regularization"]),
            interaction_cst="no_interactions" if params["interactions"] == "none" else None,
            early_stopping=False,
            random_state=0,
        )
        return _cv_error(model, folds=3)

    return Problem("hgb_cancer", space, call, 0.0, "hpo",
                   "HistGradientBoosting, 6 mixed hyperparameters on load_breast_cancer, 1 - 3-fold CV accuracy")


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "branin": branin,
    "hartmann6": hartmann6,
    "ackley10": ackley10,
    "svc_cancer": svc_breast_cancer,
    "hgb_cancer": hgb_breast_cancer,
    "hartmann6_100d": hartmann6_100d,
    "ackley100": ackley100,
}


def get_problem(name: str) -> Problem:
    """Build a problem by name (one of ``PROBLEMS``)."""
    if name not in PROBLEMS:
        raise ValueError(f"problem: got {name!r}, expected one of {sorted(PROBLEMS)}")
    return PROBLEMS[name]()


# -- synthetic data for the latency and scaling benchmarks -------------------------------------

def unit_cube_space(d: int) -> gb.Space:
    """``d`` real parameters ``x0 .. x{d-1}`` in [0, 1]."""
    if not isinstance(d, int) or d < 1:
        raise ValueError(f"d: got {d!r}, expected a positive int")
    return gb.Space({f"x{i}": gb.Real(0.0, 1.0) for i in range(d)})


def smooth_test_function(params: Mapping[str, Any]) -> float:
    """A smooth, multi-modal function on the unit cube of any dimension (cheap; for timing only).

    ``f(x) = mean((x - 0.37)^2) + 0.1 * mean(sin(7 x))``.
    """
    x = np.asarray([float(v) for v in params.values()], dtype=float)
    return float(np.mean((x - 0.37) ** 2) + 0.1 * np.mean(np.sin(7.0 * x)))
