"""A constraint: maximize an SVC's validation accuracy on scikit-learn's digits while its stored
model stays under a size limit (support vectors x PCA components floats, a deterministic cost).

    python examples/constrained.py [--trials 25] [--limit 8000]

The constraint is told with each result, ``opt.tell(params, accuracy, constraints=[size - limit])``:
a trial is feasible when every constraint value is <= 0, and ``opt.best`` is the best feasible one.
"""

from __future__ import annotations

import argparse
import warnings

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

import gpu_bo as gb

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

space = gb.Space({
    "n_components": gb.Integer(2, 64, log=True),
    "C": gb.Real(1e-2, 1e3, log=True),
    "gamma": gb.Real(1e-5, 1e-1, log=True),
})


def evaluate(p: dict) -> tuple[float, int]:
    """(validation accuracy, model size in floats: support vectors x components + the PCA basis)."""
    model = make_pipeline(PCA(n_components=p["n_components"], random_state=0), SVC(C=p["C"], gamma=p["gamma"]))
    model.fit(X_train, y_train)
    svc = model[-1]
    size = svc.support_vectors_.size + model[0].components_.size
    return float(model.score(X_val, y_val)), int(size)


def main(argv: list[str] | None = None) -> dict | None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=25)
    ap.add_argument("--limit", type=int, default=8000, help="the largest allowed model size (floats)")
    args = ap.parse_args(argv)

    opt = gb.Optimizer(space, direction="maximize", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gb.GpuBoWarning)  # e.g. a fallback to quasi-random points
        for _ in range(args.trials):
            p = opt.ask()
            acc, size = evaluate(p)
            opt.tell(p, acc, constraints=[size - args.limit])
    n_feasible = sum(t.feasible for t in opt.trials)
    print(f"{n_feasible} of {len(opt.trials)} trials within the limit of {args.limit} floats")
    best = opt.best
    if best is None:
        print("opt.best: None (no trial met the limit)")
    else:
        acc, size = evaluate(best["params"])
        print(f"opt.best: accuracy {best['value']:.4f}, size {size} floats, params {best['params']}")
    return best


if __name__ == "__main__":
    main()
