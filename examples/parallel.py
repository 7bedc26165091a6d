"""Four worker processes and an SQLite study file; run it twice to see the resume.

Tunes an RBF SVC (C and gamma, log scales) for 3-fold cross-validated accuracy on
scikit-learn's digits with ``backend="process"`` and ``n_workers=4``: as soon as one trial
finishes the next point is suggested with the three still running as pending points, so no
worker waits. Every trial is committed to ``parallel_study.db`` when it starts and when it
ends.

Each run adds ``--per-run`` trials to the study, up to ``--total``: the second run loads the
first run's trials from the file and continues from there. Interrupting a run (Ctrl-C, or
even ``kill -9``) and rerunning the same command also continues; nothing finished is lost.
Delete the .db file to start over. Under a minute per run on a 2-core CPU.

    python examples/parallel.py            # first run: trials 0-11
    python examples/parallel.py            # second run: loads 12, runs 12 more
"""

from __future__ import annotations

import argparse
import os
import time

from sklearn.datasets import load_digits
from sklearn.svm import SVC

import gpu_bo as gb
from gpu_bo.objectives import SklearnCV
from gpu_bo.runner import optimize
from gpu_bo.storage import open_storage


def main(argv: list[str] | None = None) -> gb.Study:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="parallel_study.db")
    ap.add_argument("--per-run", type=int, default=12)
    ap.add_argument("--total", type=int, default=36)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args(argv)
    url = f"sqlite:///{args.db}"

    before = 0
    if os.path.exists(args.db):
        before = len(open_storage(url).load_study("svc-digits").trials)
    n_trials = min(args.total, before + args.per_run)
    print(f"{args.db}: {before} trials stored; this run goes to {n_trials}")

    X, y = load_digits(return_X_y=True)
    objective = SklearnCV(SVC(), X[::2], y[::2], cv=3)  # module-level data, picklable for "spawn"
    space = {"C": gb.Real(1e-2, 1e3, log=True), "gamma": gb.Real(1e-5, 1e0, log=True)}
    t0 = time.perf_counter()
    study = optimize(objective, space, n_trials, n_workers=args.workers, backend="process",
                     storage=url, study_name="svc-digits", seed=0)
    done = [t for t in study.trials if t.number >= before]
    print(f"ran {len(done)} trials in {time.perf_counter() - t0:.1f} s with {args.workers} workers; "
          f"the study has {len(study.trials)}")
    print(f"best CV accuracy {study.best_value:.4f} (trial {study.best_trial.number}) with {study.best_params}")
    return study


if __name__ == "__main__":
    main()
