"""scikit-optimize users: change the imports, keep the code.

Before::

    from skopt import BayesSearchCV, gp_minimize
    from skopt.space import Real, Integer, Categorical

After (this file): the same calls on gpu_bo's engine. Run: python examples/skopt_dropin.py
"""

from __future__ import annotations

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from gpu_bo.integrations.skopt import BayesSearchCV, gp_minimize
from gpu_bo.integrations.skopt.space import Categorical, Integer, Real

X, y = load_digits(return_X_y=True)
X, y = X[:600], y[:600]
pipe = Pipeline([("scale", StandardScaler()), ("pca", PCA()), ("clf", LogisticRegression(max_iter=300))])

search = BayesSearchCV(
    pipe,
    {
        "pca__n_components": Integer(5, 40),                  # or the tuple form (5, 40)
        "clf__C": Real(1e-3, 1e2, prior="log-uniform"),       # or (1e-3, 1e2, "log-uniform")
        "clf__fit_intercept": Categorical([True, False]),
        "pca__whiten": [False, True],                         # a list of choices
    },
    n_iter=10,
    cv=3,
    random_state=0,
    device="cpu",
)
search.fit(X, y)
print(f"best score {search.best_score_:.3f} with {search.best_params_}")
print(f"skopt-style result: x={search.optimizer_results_[0].x}, fun={search.optimizer_results_[0].fun:.3f}")

# gp_minimize, as in skopt: minimize a function of a list
res = gp_minimize(lambda x: (x[0] - 0.3) ** 2 + 0.1 * x[1], [(-1.0, 1.0), (0, 5)], n_calls=12,
                  n_initial_points=6, random_state=0, device="cpu")
print(f"gp_minimize: x={res.x}, fun={res.fun:.4f}")
