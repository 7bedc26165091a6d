"""Conditional problems of benchmarks/conditional.py (issue 17, item 7).

Every problem is a conditional :class:`gpu_bo.Space` (dimensions with ``when=``) and a function
of the *active* parameters only, to be minimized; ``f_opt`` is its known minimum (0 for the CASH
problems, whose value is the 5-fold CV error ``1 - accuracy``: the regret is then the error).

``synthetic`` (known optimum ``f_opt = 0``), four branches with different best values, one of
them holding a nested sub-branch where the global optimum lives::

    branch = "a"  a_x1, a_x2 in [-5, 5]
                  f = 0.6 + 0.1 ((a_x1 - 1.5)^2 + (a_x2 + 2)^2)                       best 0.6
    branch = "b"  b_x1, b_x2, b_x3 in [0, 1], b_n in {1..10}
                  f = 0.3 + 2 sum_i (b_xi - c_i)^2 + 0.05 (b_n - 7)^2, c = (.2, .7, .45)  best 0.3
    branch = "c"  c_u in [-2, 2], c_kind in {"lin", "quad"}
        c_kind = "lin"   c_k in {0..20}
                  f = 0.2 + 0.5 |c_u + 0.5| + 0.01 (c_k - 13)^2                        best 0.2
        c_kind = "quad"  c_v in [0.01, 100] (log scale)
                  f = 2 (c_u - 0.7)^2 + 0.1 (1 - cos(3 pi (c_u - 0.7)))
                      + 0.2 (log10 c_v - 0.8)^2                                        best 0 (global)
    branch = "d"  d_x in [-1, 1], d_m in {0..30} (step 3)
                  f = 0.4 + (d_x - 0.2)^2 + 0.002 (d_m - 12)^2                          best 0.4

So finding the best branch (and the nested sub-branch) *and* its optimum matters: every other
branch leaves a regret of at least 0.2, and the global branch is multimodal in ``c_u``.

CASH (``cash_<dataset>``, dataset in breast_cancer, wine, digits): choose a scikit-learn model
family and its own hyperparameters; 5-fold stratified CV error (``1 - mean accuracy``,
``n_jobs=1``, fixed ``random_state``) on the standardized features::

    model = "svc"     svc_C in [1e-2, 1e3] log, svc_kernel in {rbf, linear},
                      svc_gamma in [1e-4, 1] log when svc_kernel = rbf (nested)
    model = "rf"      rf_n_estimators in {10..200}, rf_max_depth in {2..20}, rf_max_features in [0.1, 1]
    model = "hgb"     hgb_max_iter in {10..150}, hgb_learning_rate in [0.01, 0.5] log,
                      hgb_max_leaf_nodes in {4..64}
    model = "knn"     knn_n_neighbors in {1..30}, knn_weights in {uniform, distance}, knn_p in {1, 2}
    model = "logreg"  logreg_C in [1e-3, 1e3] log
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import gpu_bo as gb

__all__ = ["CondProblem", "COND_PROBLEMS", "get_cond_problem", "synthetic_space", "cash_space",
           "synthetic", "DATASETS"]

Params = dict[str, Any]
DATASETS = ("breast_cancer", "wine", "digits")


@dataclass(frozen=True)
class CondProblem:
    """A conditional minimization problem: ``evaluate(params) -> float`` on ``space``."""

    name: str
    space: gb.Space
    evaluate: Callable[[Mapping[str, Any]], float]
    f_opt: float
    label: str


def synthetic_space() -> gb.Space:
    """The synthetic problem's space (see the module docstring)."""
    a, b, c, d = ({"branch": v} for v in "abcd")
    return gb.Space({
        "branch": gb.Categorical(["a", "b", "c", "d"]),
        "a_x1": gb.Real(-5, 5, when=a), "a_x2": gb.Real(-5, 5, when=a),
        "b_x1": gb.Real(0, 1, when=b), "b_x2": gb.Real(0, 1, when=b), "b_x3": gb.Real(0, 1, when=b),
        "b_n": gb.Integer(1, 10, when=b),
        "c_u": gb.Real(-2, 2, when=c), "c_kind": gb.Categorical(["lin", "quad"], when=c),
        "c_k": gb.Integer(0, 20, when={"c_kind": "lin"}),
        "c_v": gb.Real(0.01, 100, log=True, when={"c_kind": "quad"}),
        "d_x": gb.Real(-1, 1, when=d), "d_m": gb.Integer(0, 30, step=3, when=d),
    })


def synthetic(p: Mapping[str, Any]) -> float:
    """The synthetic conditional function (minimum 0 at branch c, c_kind quad, c_u 0.7, c_v 10^0.8)."""
    br = p["branch"]
    if br == "a":
        return 0.6 + 0.1 * ((p["a_x1"] - 1.5) ** 2 + (p["a_x2"] + 2) ** 2)
    if br == "b":
        c = (0.2, 0.7, 0.45)
        return 0.3 + 2 * sum((p[f"b_x{i + 1}"] - c[i]) ** 2 for i in range(3)) + 0.05 * (p["b_n"] - 7) ** 2
    if br == "c":
        u = p["c_u"]
        if p["c_kind"] == "lin":
            return 0.2 + 0.5 * abs(u + 0.5) + 0.01 * (p["c_k"] - 13) ** 2
        return (2 * (u - 0.7) ** 2 + 0.1 * (1 - math.cos(3 * math.pi * (u - 0.7)))
                + 0.2 * (math.log10(p["c_v"]) - 0.8) ** 2)
    if br == "d":
        return 0.4 + (p["d_x"] - 0.2) ** 2 + 0.002 * (p["d_m"] - 12) ** 2
    raise ValueError(f"branch: got {br!r}, expected one of 'a', 'b', 'c', 'd'")


MODELS = ("svc", "rf", "hgb", "knn", "logreg")


def cash_space() -> gb.Space:
    """The CASH space (see the module docstring)."""
    def on(m: str) -> dict[str, str]:
        return {"model": m}

    return gb.Space({
        "model": gb.Categorical(list(MODELS)),
        "svc_C": gb.Real(1e-2, 1e3, log=True, when=on("svc")),
        "svc_kernel": gb.Categorical(["rbf", "linear"], when=on("svc")),
        "svc_gamma": gb.Real(1e-4, 1.0, log=True, when={"svc_kernel": "rbf"}),
        "rf_n_estimators": gb.Integer(10, 200, when=on("rf")),
        "rf_max_depth": gb.Integer(2, 20, when=on("rf")),
        "rf_max_features": gb.Real(0.1, 1.0, when=on("rf")),
        "hgb_max_iter": gb.Integer(10, 150, when=on("hgb")),
        "hgb_learning_rate": gb.Real(0.01, 0.5, log=True, when=on("hgb")),
        "hgb_max_leaf_nodes": gb.Integer(4, 64, when=on("hgb")),
        "knn_n_neighbors": gb.Integer(1, 30, when=on("knn")),
        "knn_weights": gb.Categorical(["uniform", "distance"], when=on("knn")),
        "knn_p": gb.Integer(1, 2, when=on("knn")),
        "logreg_C": gb.Real(1e-3, 1e3, log=True, when=on("logreg")),
    })


def make_model(p: Mapping[str, Any]) -> Any:
    """The scikit-learn estimator of one CASH configuration (fixed seeds, one thread)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    m = p["model"]
    if m == "svc":
        kw = {"gamma": p["svc_gamma"]} if p["svc_kernel"] == "rbf" else {}
        return SVC(C=p["svc_C"], kernel=p["svc_kernel"], max_iter=100_000, **kw)
    if m == "rf":
        return RandomForestClassifier(n_estimators=int(p["rf_n_estimators"]), max_depth=int(p["rf_max_depth"]),
                                      max_features=float(p["rf_max_features"]), random_state=0, n_jobs=1)
    if m == "hgb":
        return HistGradientBoostingClassifier(max_iter=int(p["hgb_max_iter"]), learning_rate=p["hgb_learning_rate"],
                                              max_leaf_nodes=int(p["hgb_max_leaf_nodes"]),
                                              early_stopping=False, random_state=0)
    if m == "knn":
        return KNeighborsClassifier(n_neighbors=int(p["knn_n_neighbors"]), weights=p["knn_weights"],
                                    p=int(p["knn_p"]), n_jobs=1)
    if m == "logreg":
        return LogisticRegression(C=p["logreg_C"], max_iter=500)
    raise ValueError(f"model: got {m!r}, expected one of {MODELS}")


@lru_cache(maxsize=None)
def _data(dataset: str) -> tuple[Any, Any]:
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    loaders = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
               "digits": datasets.load_digits}
    if dataset not in loaders:
        raise ValueError(f"dataset: got {dataset!r}, expected one of {DATASETS}")
    X, y = loaders[dataset](return_X_y=True)
    # scaling once on all rows (not per fold) keeps an evaluation cheap; every method sees the same
    return StandardScaler().fit_transform(X), y


def cash_error(dataset: str, p: Mapping[str, Any]) -> float:
    """5-fold stratified CV error (``1 - mean accuracy``) of configuration ``p`` on ``dataset``."""
    import warnings

    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X, y = _data(dataset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of SVC / LogisticRegression at extreme C
        scores = cross_val_score(make_model(p), X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0), n_jobs=1)
    return float(1.0 - scores.mean())


def _cash(dataset: str) -> CondProblem:
    return CondProblem(f"cash_{dataset}", cash_space(), lambda p: cash_error(dataset, p), 0.0,
                       f"CASH on load_{dataset} (5-fold CV error)")


COND_PROBLEMS: dict[str, Callable[[], CondProblem]] = {
    "synthetic": lambda: CondProblem("synthetic", synthetic_space(), synthetic, 0.0,
                                     "synthetic conditional function (regret f - 0)"),
    **{f"cash_{d}": (lambda d=d: _cash(d)) for d in DATASETS},
}


def get_cond_problem(name: str) -> CondProblem:
    """The problem called ``name`` (a key of :data:`COND_PROBLEMS`)."""
    if name not in COND_PROBLEMS:
        raise ValueError(f"problem: got {name!r}, expected one of {sorted(COND_PROBLEMS)}")
    return COND_PROBLEMS[name]()
