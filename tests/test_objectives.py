"""Tests of gpu_bo.objectives (calling convention, outcomes, trial handle, SklearnCV) and gpu_bo.pruners."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gpu_bo as gb
from gpu_bo.objectives import SklearnCV, TrialHandle, TrialTask, execute_trial, wants_trial
from gpu_bo.pruners import MedianPruner


def _plain(params):
    return params["x"]


def _with_trial(trial):
    return trial.params["x"]


def _annotated(t: TrialHandle):
    return t.params["x"]


class _Explicit:
    wants_trial = True

    def __call__(self, anything):
        return anything.params["x"]


def test_wants_trial_detects_the_calling_convention():
    assert not wants_trial(_plain)
    assert wants_trial(_with_trial)
    assert wants_trial(_annotated)
    assert wants_trial(lambda trial: 0.0)
    assert not wants_trial(lambda p: 0.0)
    assert wants_trial(_Explicit())
    assert not wants_trial(SklearnCV(_est(), np.zeros((4, 2)), np.array([0, 1, 0, 1])))


@pytest.mark.parametrize("objective", [_plain, _with_trial, _annotated, _Explicit()])
def test_execute_trial_passes_params_or_handle(objective):
    r = execute_trial(objective, TrialTask(3, {"x": 0.25}))
    assert (r.number, r.state, r.value) == (3, "COMPLETE", 0.25)


@pytest.mark.parametrize("raw, ok", [
    (1.5, True), (np.float32(2.0), True), (torch.tensor(0.5, dtype=torch.float64), True), (3, True),
    (None, False), (math.nan, False), (math.inf, False), (-math.inf, False), ("abc", False),
    (True, False), (torch.ones(3), False),
])
def test_execute_trial_values(raw, ok):
    r = execute_trial(lambda p: raw, TrialTask(0, {"x": 0.0}))
    if ok:
        assert r.state == "COMPLETE" and r.value == pytest.approx(float(raw))
    else:
        assert r.state == "FAILED" and r.value is None
        assert "expected a finite number" in r.error


def test_execute_trial_exception_keeps_traceback():
    def boom(p):
        raise RuntimeError("kaboom 42")

    r = execute_trial(boom, TrialTask(0, {"x": 0.0}))
    assert r.state == "FAILED" and "RuntimeError: kaboom 42" in r.error and "Traceback" in r.error


def test_execute_trial_pruned_keeps_last_value():
    def obj(trial):
        trial.report(0, 5.0)
        trial.report(2, 3.0)
        trial.report(1, 4.0)
        raise gb.TrialPruned()

    r = execute_trial(obj, TrialTask(0, {"x": 0.0}))
    assert r.state == "PRUNED" and r.value == 3.0 and r.intermediate == {0: 5.0, 1: 4.0, 2: 3.0}


def test_keyboard_interrupt_propagates():
    def obj(p):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        execute_trial(obj, TrialTask(0, {"x": 0.0}))


def test_handle_device_and_report_validation():
    h = TrialHandle(TrialTask(1, {"x": 0.5}, device="cpu"))
    assert h.device == torch.device("cpu") and h["x"] == 0.5 and h.number == 1
    with pytest.raises(ValueError, match="step"):
        h.report(-1, 1.0)
    with pytest.raises(TypeError, match="value"):
        h.report(0, "bad")
    assert not h.should_prune()  # no pruner


def test_handle_should_prune_uses_reference():
    refs = [{0: 1.0}, {0: 1.0}]
    h = TrialHandle(TrialTask(0, {"x": 0.0}, pruner=MedianPruner(n_startup_trials=2), reference=refs))
    h.report(0, 0.5)
    assert not h.should_prune()
    h.report(0, 2.0)
    assert h.should_prune()


# -- SklearnCV ----------------------------------------------------------------------------------
def _est():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=200)


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    idx = rng.choice(len(y), 200, replace=False)
    X = (X - X.mean(0)) / X.std(0)  # scaled so LogisticRegression converges fast
    return X[idx], y[idx]


def test_sklearn_cv_pipeline_nested_params_and_scorer(cancer):
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    X, y = cancer
    pipe = make_pipeline(StandardScaler(), SVC())
    obj = SklearnCV(pipe, X, y, cv=3, scoring="roc_auc")
    assert obj.direction == "maximize"
    got = obj({"svc__C": 2.0, "svc__gamma": 0.01})
    expected = cross_val_score(make_pipeline(StandardScaler(), SVC(C=2.0, gamma=0.01)), X, y, cv=3,
                               scoring="roc_auc").mean()
    assert got == pytest.approx(expected)
    # the params really reach the estimator: a tiny C scores differently
    assert obj({"svc__C": 1e-4, "svc__gamma": 10.0}) != pytest.approx(got)
    assert pipe.get_params()["svc__C"] == 1.0  # the user's estimator is never modified


def test_sklearn_cv_unknown_param_and_bad_estimator(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="not parameters of LogisticRegression"):
        SklearnCV(_est(), X, y, cv=3)({"svc__C": 1.0})
    with pytest.raises(TypeError, match="estimator"):
        SklearnCV(object(), X, y)


def test_sklearn_cv_regressor_with_neg_scorer():
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    X, y = load_diabetes(return_X_y=True)
    obj = SklearnCV(Ridge(), X[:150], y[:150], cv=3, scoring="neg_mean_squared_error")
    small, huge = obj({"alpha": 0.01}), obj({"alpha": 1e4})
    assert small < 0 and huge < small  # heavy regularisation is worse (more negative)


def test_sklearn_cv_in_optimize_maximizes_by_default(cancer):
    from gpu_bo.runner import RunOptions, optimize

    X, y = cancer
    obj = SklearnCV(_est(), X, y, cv=3, scoring="accuracy")
    study = optimize(obj, {"C": gb.Real(1e-4, 10.0, log=True)}, 5, progress=False, seed=0,
                     options=RunOptions(n_initial=5))
    assert study.direction == "maximize"
    assert study.best_value == max(t.value for t in study.trials)


def test_the_trial_timeout_is_not_an_ordinary_exception():
    # an objective's `except Exception:` must not swallow the serial backend's timeout (issue 15.6)
    from gpu_bo.objectives import TrialTimeout

    assert issubclass(TrialTimeout, BaseException) and not issubclass(TrialTimeout, Exception)


def test_an_int_too_large_for_a_float_is_one_failed_trial():
    r = execute_trial(lambda p: 10**400, TrialTask(0, {"x": 0.0}))
    assert r.state == "FAILED" and r.value is None and "expected a finite number" in r.error
    assert len(r.error) < 400  # the 401-digit value is shortened in the message


def test_sys_exit_in_the_objective_is_one_failed_trial():
    def obj(p):
        raise SystemExit(3)

    r = execute_trial(obj, TrialTask(0, {"x": 0.0}))
    assert r.state == "FAILED" and r.value is None and "SystemExit" in r.error and "3" in r.error
