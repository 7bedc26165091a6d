"""BayesSearchCV as scikit-optimize's (skopt/tests/test_searchcv.py's public behaviours), and the
skopt drop-in example run as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import load_iris, make_classification
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

import gpu_bo as gb
from gpu_bo.integrations.skopt import BayesSearchCV
from gpu_bo.integrations.skopt.space import Categorical, Integer, Real

ROOT = Path(__file__).resolve().parents[1]
KW = dict(device="cpu", cv=2)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_same_class_as_gb():
    assert BayesSearchCV is gb.BayesSearchCV


def test_two_number_lists_are_ranges_and_types_are_plain():
    class TypeCheck(BaseEstimator):
        def __init__(self, float_param=0.0, int_param=0, str_param=""):
            self.float_param, self.int_param, self.str_param = float_param, int_param, str_param

        def fit(self, X, y):
            assert type(self.float_param) is float and type(self.int_param) is int
            assert type(self.str_param) is str
            return self

        def score(self, X, y):
            return -abs(self.float_param - 0.37)

    X, y = make_classification(20, 4, random_state=0)
    s = BayesSearchCV(TypeCheck(), {"float_param": [0.0, 1.0], "int_param": [0, 10],
                                    "str_param": ["one", "two", "three"]}, n_iter=8, random_state=0, **KW)
    s.fit(X, y)
    floats = {p["float_param"] for p in s.cv_results_["params"]}
    assert len(floats) == 8 and not floats <= {0.0, 1.0}  # searched the range, not two choices
    assert {p["int_param"] for p in s.cv_results_["params"]} - {0, 10}


def test_subspaces_optimizer_results_and_estimator_choices(iris):
    X, y = iris
    lin = {"model": Categorical([LinearSVC()]), "model__C": Real(1e-6, 1e6, prior="log-uniform")}
    dtc = {"model": Categorical([DecisionTreeClassifier()]), "model__max_depth": Integer(1, 32)}
    svc = {"model": Categorical([SVC()]), "model__C": Real(1e-6, 1e6, prior="log-uniform"),
           "model__kernel": Categorical(["linear", "rbf"])}
    s = BayesSearchCV(Pipeline([("model", SVC())]), [(lin, 1), (dtc, 1), svc], n_iter=2, **KW)
    assert s.total_iterations == 4
    s.fit(X, y)
    assert len(s.cv_results_["mean_test_score"]) == 4 and len(s.optimizer_results_) == 3
    for res, cls in zip(s.optimizer_results_, (LinearSVC, DecisionTreeClassifier, SVC)):
        assert isinstance(res.x[0], cls)  # lists in sorted parameter-name order, as skopt's
    best = s.optimizer_results_[2]
    assert best.fun == pytest.approx(-max(s.cv_results_["mean_test_score"][2:]))


def test_results_follow_sorted_names_and_best_estimator(iris):
    X, y = iris
    space = {"C": Real(1e-3, 1e3, prior="log-uniform"), "gamma": Real(1e-4, 1e1, prior="log-uniform"),
             "degree": Integer(1, 4), "kernel": Categorical(["linear", "poly", "rbf"])}
    s = BayesSearchCV(SVC(), space, n_iter=6, random_state=0, return_train_score=True, **KW).fit(X, y)
    x = s.optimizer_results_[0].x  # C, degree, gamma, kernel
    assert [x[0], x[2], x[1], x[3]] == [s.best_params_[k] for k in ("C", "gamma", "degree", "kernel")]
    from scipy.stats import rankdata
    res = s.cv_results_
    np.testing.assert_array_equal(res["rank_train_score"], rankdata(-np.asarray(res["mean_train_score"]), "min"))


def test_callback_stops_the_search(iris):
    X, y = iris
    calls = []

    def cb(res):
        calls.append(len(res.x_iters))
        return len(calls) > 2

    s = BayesSearchCV(DecisionTreeClassifier(), {"max_depth": [3], "min_samples_split": Real(0.1, 0.9)},
                      n_iter=5, **KW)
    s.fit(X, y, callback=cb)
    assert calls == [1, 2, 3] and len(s.cv_results_["params"]) == 3
    s.score(X, y)


def test_error_score_defaults_to_raise_as_skopt():
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(40, 4, random_state=0)
    s = BayesSearchCV(LogisticRegression(solver="liblinear", penalty="elasticnet"), {"C": (0.1, 10.0)},
                      n_iter=2, **KW)
    assert s.error_score == "raise"
    with pytest.raises(ValueError):
        s.fit(X, y)


def test_fit_params_reach_the_estimator(iris):
    X, y = iris
    seen = []

    class Rec(DecisionTreeClassifier):
        def fit(self, X, y, sample_weight=None, check_input=True, note=None):
            seen.append(note)
            return super().fit(X, y, sample_weight=sample_weight)

    BayesSearchCV(Rec(), {"max_depth": (1, 4)}, n_iter=2, fit_params={"note": "a"}, **KW).fit(X, y)
    assert seen and set(seen) == {"a"}


@pytest.mark.parametrize("spaces, exc, match", [
    ({}, ValueError, "empty"),
    ({"C": "1 ... 100.0"}, ValueError, "Invalid dimension"),
    (["C", (1.0, 1)], TypeError, "search_spaces"),
    ({"C": (1j, 2)}, ValueError, "Invalid dimension"),
])
def test_invalid_spaces_raise_as_skopt(iris, spaces, exc, match):
    X, y = iris
    with pytest.raises(exc, match=match):
        BayesSearchCV(SVC(), spaces, n_iter=2, **KW).fit(X, y)


@pytest.mark.parametrize("kwargs, match", [
    ({"base_estimator": "RF"}, "base_estimator"),
    ({"acq_func": "gp_hedge"}, "gp_hedge"),
    ({"acq_func": "EIps"}, "acq_func"),
    ({"initial_point_generator": "lhs"}, "initial_point_generator"),
    ({"random_state": 0}, "random_state"),
])
def test_unsupported_optimizer_kwargs_raise(iris, kwargs, match):
    X, y = iris
    with pytest.raises(ValueError, match=match):
        BayesSearchCV(SVC(), {"C": (0.1, 10.0)}, n_iter=2, optimizer_kwargs=kwargs, **KW).fit(X, y)


def test_skopt_optimizer_kwargs_are_mapped(iris):
    X, y = iris
    s = BayesSearchCV(SVC(), {"C": (0.1, 10.0)}, n_iter=3, random_state=0, **KW,
                      optimizer_kwargs={"base_estimator": "GP", "n_initial_points": 2, "acq_func": "LCB",
                                        "acq_func_kwargs": {"kappa": 2.5}, "acq_optimizer": "lbfgs"})
    s.fit(X, y)
    opt = s.optimizers_[0]
    assert (opt.acquisition, opt.n_initial, opt.kappa) == ("ucb", 2, 2.5)


def test_skopt_dropin_example_runs():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "skopt_dropin.py")], capture_output=True,
                         text=True, timeout=240, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "best score" in out.stdout
