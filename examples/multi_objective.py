"""Two objectives: tune a random forest on scikit-learn's digits for validation accuracy against
model size (the forest's total number of tree nodes, a deterministic cost), then save the Pareto
front plot.

    python examples/multi_objective.py [--trials 30] [--out-dir .]

Every trial is a point (accuracy, nodes); the Pareto set is the trials no other beats on both.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import gpu_bo as gb  # noqa: E402
from gpu_bo import plots  # noqa: E402

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

space = gb.Space({
    "n_estimators": gb.Integer(1, 40, log=True),
    "max_depth": gb.Integer(2, 12),
    "max_features": gb.Real(0.05, 1.0, log=True),
})


def objective(p: dict) -> list[float]:
    """[validation accuracy (maximized), total tree nodes (minimized)] of one forest."""
    model = RandomForestClassifier(n_estimators=p["n_estimators"], max_depth=p["max_depth"],
                                   max_features=p["max_features"], random_state=0, n_jobs=1)
    model.fit(X_train, y_train)
    nodes = sum(est.tree_.node_count for est in model.estimators_)
    return [float(model.score(X_val, y_val)), float(nodes)]


def main(argv: list[str] | None = None) -> gb.Study:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--out-dir", default=".")
    args = ap.parse_args(argv)
    path = Path(args.out_dir) / "pareto_front.png"
    path.parent.mkdir(parents=True, exist_ok=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gb.GpuBoWarning)  # e.g. a fallback to quasi-random points
        study = gb.optimize(objective, space, n_trials=args.trials, directions=["maximize", "minimize"],
                            seed=0, progress=False)
    front = sorted(study.best_trials, key=lambda t: t.values[1])
    print(f"Pareto set: {len(front)} of {len(study.trials)} trials (accuracy up, nodes down)")
    for t in front:
        print(f"  accuracy {t.values[0]:.4f}  nodes {int(t.values[1]):6d}  {t.params}")
    ax = plots.plot_pareto_front(study, names=["validation accuracy", "tree nodes"])
    ax.set_yscale("log")
    ax.figure.savefig(path)
    print(f"wrote {path}")
    return study


if __name__ == "__main__":
    main()
