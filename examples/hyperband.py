"""Hyperband pruning of an SGDClassifier trained epoch by epoch on scikit-learn's digits.

The resource is the number of epochs (``partial_fit`` passes over the training split, up to
27). The objective reports the validation accuracy after every epoch as
``trial.report(epochs_done, accuracy)`` and stops when the pruner says so
(``trial.should_prune()`` -> ``raise gb.TrialPruned``). ``HyperbandPruner`` runs successive
halving brackets asynchronously in the driver: each decision uses the rungs as they are,
including the reports of trials still running in the other workers. The script prints the best
configuration and how much of the full budget (every trial trained for 27 epochs) was used.
Under a minute on a 2-core CPU.

    python examples/hyperband.py [--trials 40] [--workers 2] [--backend thread] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import gpu_bo as gb
from gpu_bo.pruners import HyperbandPruner

MAX_EPOCHS = 27


class DigitsSGD:
    """Validation accuracy of an SGDClassifier after up to ``MAX_EPOCHS`` epochs (picklable, so
    it runs on the process and Ray backends too)."""

    wants_trial = True
    direction = "maximize"

    def __init__(self, seed: int) -> None:
        X, y = load_digits(return_X_y=True)
        X_tr, X_va, self.y_tr, self.y_va = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
        scaler = StandardScaler().fit(X_tr)
        self.X_tr, self.X_va = scaler.transform(X_tr), scaler.transform(X_va)
        self.classes = np.unique(y)
        self.seed = seed

    def __call__(self, trial) -> float:
        clf = SGDClassifier(alpha=trial["alpha"], loss=trial["loss"], learning_rate=trial["schedule"],
                            eta0=trial["eta0"], random_state=self.seed + trial.number)
        rng = np.random.default_rng(self.seed + trial.number)
        acc = 0.0
        for epoch in range(1, MAX_EPOCHS + 1):
            order = rng.permutation(len(self.y_tr))
            clf.partial_fit(self.X_tr[order], self.y_tr[order], classes=self.classes)
            acc = float(clf.score(self.X_va, self.y_va))
            trial.report(epoch, acc)  # step = epochs done: the resource used so far
            if trial.should_prune():
                raise gb.TrialPruned()
        return acc


SPACE = gb.Space({
    "alpha": gb.Real(1e-6, 1e-1, log=True),
    "eta0": gb.Real(1e-4, 1.0, log=True),
    "loss": gb.Categorical(["hinge", "log_loss", "modified_huber"]),
    "schedule": gb.Categorical(["constant", "invscaling", "adaptive"]),
})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", default="thread", choices=["serial", "thread", "process", "ray"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    workers = 1 if args.backend == "serial" else args.workers
    t0 = time.perf_counter()
    study = gb.optimize(DigitsSGD(args.seed), SPACE, n_trials=args.trials, n_workers=workers,
                        backend=args.backend, seed=args.seed, progress=False,
                        pruner=HyperbandPruner(min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=3))
    pruned = sum(t.state == gb.TrialState.PRUNED for t in study.trials)
    full = args.trials * MAX_EPOCHS
    print(f"best validation accuracy {study.best_value:.4f} with {study.best_params}")
    print(f"{pruned} of {len(study.trials)} trials pruned; resource used {study.resource_used} epochs of "
          f"{full} without pruning ({study.resource_used / full:.0%}); {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
