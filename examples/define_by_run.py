"""Define-by-run: choose a scikit-learn model family and its own parameters, Optuna style.

No search space is written: the objective asks for its parameters with ``trial.suggest_*``
inside ``if`` branches, and gpu_bo learns the conditional space from those calls (the GP chooses
the whole configuration before each trial runs). Cross-validated accuracy on scikit-learn's wine
data; runs in well under a minute on a laptop CPU.

    python examples/define_by_run.py
"""

from __future__ import annotations

from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import gpu_bo as gb

X, y = load_wine(return_X_y=True)


def objective(trial) -> float:
    model = trial.suggest_categorical("model", ["svc", "random_forest", "knn", "logistic"])
    if model == "svc":
        est = SVC(C=trial.suggest_float("svc_C", 1e-2, 1e3, log=True),
                  gamma=trial.suggest_float("svc_gamma", 1e-4, 1.0, log=True))
    elif model == "random_forest":
        est = RandomForestClassifier(n_estimators=trial.suggest_int("rf_n_estimators", 10, 200, step=10),
                                     max_depth=trial.suggest_int("rf_max_depth", 2, 12), random_state=0)
    elif model == "knn":
        est = KNeighborsClassifier(n_neighbors=trial.suggest_int("knn_k", 1, 30),
                                   weights=trial.suggest_categorical("knn_weights", ["uniform", "distance"]))
    else:
        est = LogisticRegression(C=trial.suggest_float("logistic_C", 1e-3, 1e2, log=True), max_iter=2000)
    return cross_val_score(make_pipeline(StandardScaler(), est), X, y, cv=3).mean()


if __name__ == "__main__":
    study = gb.optimize(objective, n_trials=30, direction="maximize", seed=0)
    print(f"best cross-validated accuracy {study.best_value:.4f} with {study.best_params}")
    by_model: dict[str, float] = {}
    for t in study.trials:
        if t.value is not None:
            m = t.params["model"]
            by_model[m] = max(by_model.get(m, 0.0), t.value)
    print("best per model family:", {m: round(v, 4) for m, v in sorted(by_model.items())})
