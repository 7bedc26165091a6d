"""hyperopt users: change the import line, keep the script.

This is a typical hyperopt script (CASH: which model family, then its own parameters, as a
nested ``hp.choice``). The hyperopt version differs in one line only; it reads::

    from hyperopt import STATUS_OK, Trials, fmin, hp, space_eval, tpe

Here the same calls run on gpu_bo's GP over the conditional space the nested choice describes.
Run: python examples/hyperopt_dropin.py [max_evals]
"""

from __future__ import annotations

import sys
import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC

from gpu_bo.integrations.hyperopt import STATUS_OK, Trials, fmin, hp, space_eval, tpe

MAX_EVALS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
X, y = load_breast_cancer(return_X_y=True)

space = {
    "model": hp.choice("model", [
        {"type": "svc",
         "C": hp.loguniform("svc_C", np.log(1e-2), np.log(1e3)),
         "gamma": hp.loguniform("svc_gamma", np.log(1e-4), np.log(1e0)),
         "kernel": hp.choice("svc_kernel", ["rbf", "sigmoid"])},
        {"type": "rf",
         "n_estimators": hp.quniform("rf_n_estimators", 10, 100, 10),
         "max_depth": hp.choice("rf_max_depth", [None, hp.quniform("rf_depth", 2, 12, 1)]),
         "max_features": hp.uniform("rf_max_features", 0.1, 1.0)},
        {"type": "logreg",
         "C": hp.loguniform("lr_C", np.log(1e-3), np.log(1e2))},
    ]),
    "scaler": hp.choice("scaler", [StandardScaler, MinMaxScaler]),
}


def build(model):
    if model["type"] == "svc":
        return SVC(C=model["C"], gamma=model["gamma"], kernel=model["kernel"])
    if model["type"] == "rf":
        depth = None if model["max_depth"] is None else int(model["max_depth"])
        return RandomForestClassifier(n_estimators=int(model["n_estimators"]), max_depth=depth,
                                      max_features=model["max_features"], n_jobs=1, random_state=0)
    return LogisticRegression(C=model["C"], max_iter=2000)


def objective(params):
    clf = make_pipeline(params["scaler"](), build(params["model"]))
    acc = cross_val_score(clf, X, y, cv=3).mean()
    return {"loss": 1.0 - acc, "status": STATUS_OK, "accuracy": acc}


trials = Trials()
start = time.time()
best = fmin(objective, space, algo=tpe.suggest, max_evals=MAX_EVALS, trials=trials,
            rstate=np.random.default_rng(0), show_progressbar=False)
print("best (labels -> values, choices as indices):", best)
print("best configuration:", space_eval(space, best))
print(f"best cross-validated accuracy: {trials.best_trial['result']['accuracy']:.4f} "
      f"after {len(trials)} trials in {time.time() - start:.1f} s")
