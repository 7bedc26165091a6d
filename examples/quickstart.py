"""The main job: tune an SVM pipeline on scikit-learn's breast-cancer data with gpu_bo.

Three hyperparameters (C and gamma on log scales, the kernel as a category) are tuned for
5-fold cross-validated ROC AUC; the held-out test score of the best configuration is printed.
Runs in under a minute on a laptop CPU, every example's budget (and on the GPU when one is
present).

    python examples/quickstart.py [--trials 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import gpu_bo as gb


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

    space = gb.Space({
        "C": gb.Real(1e-3, 1e3, log=True),
        "gamma": gb.Real(1e-5, 1e1, log=True),
        "kernel": gb.Categorical(["rbf", "sigmoid"]),
    })

    def objective(p: dict) -> float:
        model = make_pipeline(StandardScaler(), SVC(C=p["C"], gamma=p["gamma"], kernel=p["kernel"]))
        return cross_val_score(model, X_train, y_train, cv=5, scoring="roc_auc").mean()

    opt = gb.Optimizer(space, direction="maximize", acquisition="ei", seed=args.seed)
    t0 = time.perf_counter()
    for i in range(args.trials):
        params = opt.ask()
        score = objective(params)
        opt.tell(params, score)
        best = opt.best
        print(f"trial {i + 1:3d}  cv_auc={score:.4f}  best={best['value']:.4f}  {params}")
    best = opt.best
    model = make_pipeline(StandardScaler(), SVC(**best["params"])).fit(X_train, y_train)
    from sklearn.metrics import roc_auc_score

    test_auc = roc_auc_score(y_test, model.decision_function(X_test))
    print(f"\nbest parameters: {best['params']}")
    print(f"best cross-validated ROC AUC: {best['value']:.4f}")
    print(f"held-out test ROC AUC of the best configuration: {test_auc:.4f}")
    print(f"({args.trials} trials in {time.perf_counter() - t0:.1f} s on {opt.device})")
    return {"best": best, "test_auc": test_auc}


if __name__ == "__main__":
    main()
