"""Tests of gpu_bo.integrations.sklearn.BayesSearchCV.

Runs on any scikit-learn the pyproject allows (>=1.3): the estimator checks use
``parametrize_with_checks(expected_failed_checks=...)`` where it exists (>=1.6) and mark the same
checks xfail by hand on older versions.
"""

from __future__ import annotations

import inspect
import math
import pickle

import numpy as np
import pytest
from joblib import parallel_backend
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.decomposition import PCA
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils import estimator_checks

import gpu_bo as gb
from gpu_bo import hp
from gpu_bo.integrations.sklearn import BayesSearchCV

# The failures scikit-learn itself expects of GridSearchCV / RandomizedSearchCV
# (sklearn/utils/_test_common/instance_generator.py, PER_ESTIMATOR_XFAIL_CHECKS); no others.
EXPECTED_FAILED = {
    "check_supervised_y_2d": "DataConversionWarning not caught",
    "check_requires_y_none": "Doesn't fail gracefully",
}


def _check_instances():
    # the instances scikit-learn checks its own search classes with (cv=2, Ridge and
    # LogisticRegression); one candidate for the classifier keeps the ~70 checks quick
    kw = dict(cv=2, error_score="raise", random_state=0, device="cpu")
    return [
        BayesSearchCV(Ridge(), {"alpha": (0.1, 1.0)}, n_iter=2, **kw),
        BayesSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, n_iter=1, **kw),
    ]


def _parametrize_checks(estimators):
    if "expected_failed_checks" in inspect.signature(estimator_checks.parametrize_with_checks).parameters:
        return estimator_checks.parametrize_with_checks(
            estimators, expected_failed_checks=lambda est: EXPECTED_FAILED)
    # scikit-learn < 1.6: same checks, xfail marks added by hand
    cases = []
    for est in estimators:
        for e, check in estimator_checks.check_estimator(est, generate_only=True):
            name = getattr(check, "func", check).__name__
            marks = [pytest.mark.xfail(reason=EXPECTED_FAILED[name])] if name in EXPECTED_FAILED else []
            cases.append(pytest.param(e, check, marks=marks, id=f"{type(e.estimator).__name__}-{name}"))
    return pytest.mark.parametrize("estimator, check", cases)


@pytest.mark.slow
@_parametrize_checks(_check_instances())
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_init_only_stores_and_clone_roundtrips():
    space = {"C": (1e-3, 1e3, "log-uniform")}
    s = BayesSearchCV(SVC(), space, n_iter=7, n_points=2, acquisition="qei", device="cpu",
                      optimizer_kwargs={"xi": 0.01})
    assert s.search_spaces is space
    assert not [a for a in vars(s) if a.endswith("_")]
    c = clone(s)
    assert c.get_params()["n_iter"] == 7 and c.get_params()["acquisition"] == "qei"
    assert c.get_params()["optimizer_kwargs"] == {"xi": 0.01}


def test_search_beats_a_bad_default_and_records_everything(iris):
    X, y = iris
    s = BayesSearchCV(SVC(), {"C": (1e-3, 1e3, "log-uniform"), "gamma": (1e-4, 1e1, "log-uniform")},
                      n_iter=12, cv=3, random_state=0, device="cpu")
    assert s.fit(X, y) is s
    res = s.cv_results_
    assert len(res["params"]) == 12 and len(s.optimizers_) == 1
    # the optimizer saw exactly sklearn's mean test scores
    told = [t.value for t in s.optimizers_[0].trials]
    np.testing.assert_allclose(told, res["mean_test_score"])
    assert s.best_score_ == pytest.approx(np.max(res["mean_test_score"]))
    assert s.best_params_ == res["params"][s.best_index_]
    assert s.best_score_ > 0.9
    assert s.best_estimator_.C == pytest.approx(s.best_params_["C"])
    assert s.score(X, y) > 0.9
    for p in res["params"]:
        assert 1e-3 <= p["C"] <= 1e3 and 1e-4 <= p["gamma"] <= 10


def test_random_state_makes_fit_reproducible(iris):
    X, y = iris
    kw = dict(n_iter=7, cv=3, random_state=3, device="cpu")  # 7 > n_initial: the GP is used
    space = {"C": (1e-2, 1e2, "log-uniform"), "kernel": ["rbf", "linear"]}
    a = BayesSearchCV(SVC(), space, **kw).fit(X, y).cv_results_["params"]
    b = BayesSearchCV(SVC(), space, **kw).fit(X, y).cv_results_["params"]
    assert a == b


def test_pipeline_search_with_hp_space():
    X, y = make_classification(120, 6, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("pca", PCA()), ("clf", LogisticRegression())])
    space = {"clf__C": hp.loguniform("clf__C", -4, 4), "pca__n_components": hp.quniform("pca__n_components", 2, 6, 2)}
    s = BayesSearchCV(pipe, space, n_iter=6, cv=3, random_state=0, device="cpu").fit(X, y)
    for p in s.cv_results_["params"]:
        assert p["pca__n_components"] in (2, 4, 6)
    assert s.best_estimator_.named_steps["pca"].n_components == s.best_params_["pca__n_components"]
    assert s.best_estimator_.named_steps["clf"].C == pytest.approx(s.best_params_["clf__C"])


def test_multimetric_refit_by_name_and_train_scores(iris):
    X, y = iris
    s = BayesSearchCV(LogisticRegression(max_iter=200), {"C": (1e-3, 1e2, "log-uniform")}, n_iter=3, cv=2,
                      scoring={"acc": "accuracy", "f1": "f1_macro"}, refit="f1", return_train_score=True,
                      random_state=0, device="cpu").fit(X, y)
    res = s.cv_results_
    for key in ("mean_test_acc", "mean_test_f1", "mean_train_acc", "rank_test_f1"):
        assert len(res[key]) == 3
    # the optimizer maximized the refit metric
    np.testing.assert_allclose([t.value for t in s.optimizers_[0].trials], res["mean_test_f1"])
    assert s.best_score_ == pytest.approx(res["mean_test_f1"][s.best_index_])
    assert s.multimetric_


def test_multimetric_without_refit_optimizes_first_metric(iris):
    X, y = iris
    s = BayesSearchCV(LogisticRegression(max_iter=200), {"C": (1e-3, 1e2, "log-uniform")}, n_iter=3, cv=2,
                      scoring=["accuracy", "f1_macro"], refit=False, random_state=0, device="cpu").fit(X, y)
    np.testing.assert_allclose([t.value for t in s.optimizers_[0].trials], s.cv_results_["mean_test_accuracy"])
    assert not hasattr(s, "best_estimator_")


def test_n_points_batches_and_parallel_jobs():
    X, y = make_regression(80, 4, noise=1.0, random_state=0)
    s = BayesSearchCV(Ridge(), {"alpha": (1e-3, 1e2, "log-uniform")}, n_iter=9, n_points=4, cv=KFold(3),
                      n_jobs=2, random_state=0, device="cpu")
    # joblib threads: the same n_jobs code path, without starting worker processes in CI
    with parallel_backend("threading"):
        s.fit(X, y)
    res = s.cv_results_
    assert len(res["params"]) == 9  # 4 + 4 + 1
    alphas = [p["alpha"] for p in res["params"]]
    assert len(set(alphas)) == 9  # a q-batch never repeats a point


def test_list_of_subspaces_with_own_n_iter(iris):
    X, y = iris
    spaces = [({"C": (0.1, 10.0), "kernel": ["linear"]}, 3),
              {"C": (0.1, 10.0), "gamma": (1e-3, 1.0, "log-uniform"), "kernel": ["rbf"]}]
    s = BayesSearchCV(SVC(), spaces, n_iter=4, cv=2, random_state=0, device="cpu")
    assert s.total_iterations == 7
    s.fit(X, y)
    kernels = [p["kernel"] for p in s.cv_results_["params"]]
    assert kernels == ["linear"] * 3 + ["rbf"] * 4 and len(s.optimizers_) == 2
    # a parameter absent from a sub-space is masked in cv_results_
    assert np.ma.is_masked(s.cv_results_["param_gamma"][0])


def test_small_discrete_space_stops_when_exhausted(iris):
    X, y = iris
    # (a two-number list [1.0, 10.0] is a range, as scikit-optimize reads it: three choices here)
    s = BayesSearchCV(SVC(), {"kernel": ["rbf", "linear"], "C": [1.0, 10.0, 100.0]}, n_iter=10, cv=2,
                      random_state=0, device="cpu").fit(X, y)
    ps = s.cv_results_["params"]
    assert len(ps) == 6 and len({(p["kernel"], p["C"]) for p in ps}) == 6


def test_failed_fits_become_failed_trials():
    X, y = make_classification(60, 4, random_state=0)
    # liblinear cannot fit elasticnet: every fit of those candidates fails; the search goes on
    s = BayesSearchCV(LogisticRegression(solver="liblinear"),
                      {"penalty": ["l1", "l2", "elasticnet"], "C": (0.1, 10.0)}, n_iter=8, cv=2,
                      random_state=0, device="cpu", error_score=np.nan)
    with pytest.warns(FitFailedWarning):
        s.fit(X, y)
    trials = s.optimizers_[0].trials
    failed = [t for t in trials if t.state == gb.TrialState.FAILED]
    assert len(trials) == 8
    assert failed and all(t.params["penalty"] == "elasticnet" for t in failed)
    assert len(s.cv_results_["params"]) == 8 - len(failed)
    assert math.isfinite(s.best_score_) and s.best_params_["penalty"] != "elasticnet"


def test_all_candidates_failing_raises():
    X, y = make_classification(40, 4, random_state=0)
    s = BayesSearchCV(LogisticRegression(solver="liblinear", penalty="elasticnet"), {"C": (0.1, 10.0)},
                      n_iter=2, cv=2, device="cpu", error_score=np.nan)
    with pytest.warns(FitFailedWarning), pytest.raises(ValueError, match="fits failed"):
        s.fit(X, y)


def test_fitted_search_pickles(iris):
    X, y = iris
    s = BayesSearchCV(SVC(), {"C": (0.1, 10.0)}, n_iter=3, cv=2, random_state=0, device="cpu").fit(X, y)
    s2 = pickle.loads(pickle.dumps(s))
    np.testing.assert_array_equal(s2.predict(X), s.predict(X))


@pytest.mark.parametrize("kwargs, match", [
    (dict(search_spaces=[]), "search_spaces"),
    (dict(search_spaces=[({"C": (0.1, 1.0)}, 0)]), "n_iter"),
    (dict(search_spaces={"C": (1.0, 0.1)}), "low"),
    (dict(n_iter=0), "n_iter"),
    (dict(acquisition="nope"), "acquisition"),
    (dict(optimizer_kwargs={"direction": "minimize"}), "direction"),
])
def test_bad_arguments_raise_on_fit(iris, kwargs, match):
    X, y = iris
    args = dict(search_spaces={"C": (0.1, 10.0)}, n_iter=2, cv=2, device="cpu")
    args.update(kwargs)
    s = BayesSearchCV(SVC(), **args)  # __init__ never validates
    with pytest.raises(ValueError, match=match):
        s.fit(X, y)


def test_a_list_entry_that_is_not_a_dict_is_a_type_error(iris):
    X, y = iris
    s = BayesSearchCV(SVC(), ["C"], n_iter=2, cv=2, device="cpu")  # as scikit-optimize: TypeError
    with pytest.raises(TypeError, match="search_spaces"):
        s.fit(X, y)


def test_sklearn_version_is_allowed():
    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    assert (major, minor) >= (1, 3)
