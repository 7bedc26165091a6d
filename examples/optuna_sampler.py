"""An Optuna study with gpu_bo's GP as its sampler: "which model, then its own parameters".

The objective is plain Optuna define-by-run code (a conditional space: each model family asks for
its own hyperparameters); only the sampler changes. The study lives in SQLite, so Optuna's
dashboard (``optuna-dashboard sqlite:///...``) and ``optuna.load_study`` work as usual.

Run:  python examples/optuna_sampler.py [--trials 30]   (under a minute on a laptop CPU, every example's budget)
"""

from __future__ import annotations

import argparse
import os
import tempfile

import optuna
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from gpu_bo.integrations.optuna import GpuBoSampler

X, y = load_breast_cancer(return_X_y=True)


def objective(trial: optuna.Trial) -> float:
    model = trial.suggest_categorical("model", ["svc", "knn", "logreg"])
    if model == "svc":
        clf = SVC(C=trial.suggest_float("svc_C", 1e-2, 1e3, log=True),
                  gamma=trial.suggest_float("svc_gamma", 1e-5, 1e-1, log=True))
    elif model == "knn":
        clf = KNeighborsClassifier(n_neighbors=trial.suggest_int("knn_k", 1, 31, step=2),
                                   weights=trial.suggest_categorical("knn_weights", ["uniform", "distance"]))
    else:
        clf = LogisticRegression(C=trial.suggest_float("logreg_C", 1e-3, 1e2, log=True), max_iter=500)
    return cross_val_score(make_pipeline(StandardScaler(), clf), X, y, cv=3).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30, help="number of trials (default 30)")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        storage = f"sqlite:///{os.path.join(tmp, 'study.db')}"
        sampler = GpuBoSampler(seed=0, n_startup_trials=8)
        study = optuna.create_study(study_name="cash", storage=storage, direction="maximize", sampler=sampler)
        study.optimize(objective, n_trials=args.trials)
        print(f"best accuracy {study.best_value:.4f} with {study.best_params}")
        if sampler.last_space is not None:  # None while every trial was a start-up trial
            print("the conditional space the GP modelled:")
            for name, dim in sampler.last_space.dims.items():
                print(f"  {name}: {dim.to_dict()}")
        counts = {m: sum(t.params["model"] == m for t in study.trials) for m in ("svc", "knn", "logreg")}
        print(f"trials per model: {counts}")


if __name__ == "__main__":
    main()
