"""The tasks of benchmarks/multi_fidelity.py: training runs with a resource, and one synthetic
learning-curve problem with a known optimum.

Every task is maximized (a validation accuracy, or minus a loss) and offers ``space`` (a gpu_bo
space dict), ``min_resource`` / ``max_resource`` / ``eta`` (the Hyperband and successive
halving settings every pruned method uses), ``steps`` (the steps it reports at) and
``curve(params, seed)``, a generator of ``(step, value)``: a method stops a trial by no longer
asking for the next value, so the resource a trial used is its last step.

* ``synthetic``: ``value(x, r) = -(f(x) + g(x) * r ** -0.5)`` with
  ``f(x) = sum_i (x_i - 0.7) ** 2`` and ``g(x) = 0.1 + 0.5 * x_0 ** 2`` on ``[0, 1]^4``,
  ``r = 1..27``. The configurations that end best learn slowly: at ``r = 1`` the best ``x_0``
  is 0.47, at ``r = 27`` it is ``1.4 / (2 + 27 ** -0.5) = 0.6386`` (the known optimum, other
  coordinates 0.7, value ``-(0.0038 + 0.1 * 27 ** -0.5 + 0.5 * 0.6386 ** 2 * 27 ** -0.5)
  = -0.0623``), so a pruner that trusts early rungs can stop the right configurations.
  Seeded Gaussian noise of 0.002 per report.
* ``sgd``: SGDClassifier, ``partial_fit`` epochs (1..27) on load_digits, validation accuracy.
* ``hgb``: HistGradientBoostingClassifier with ``max_iter`` as resource (1..81, warm_start=True)
  on load_digits, validation accuracy.
* ``mlp``: a one-hidden-layer torch MLP on load_digits, epochs (1..27), CPU with 1 thread.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["TASKS", "Task", "get_task"]


class Task:
    """A resource-based task (see the module docstring)."""

    name = ""
    space: dict[str, Any] = {}
    min_resource, max_resource, eta = 1, 27, 3
    optimum: float | None = None  # the best value at max_resource, when known

    @property
    def steps(self) -> list[int]:
        """The steps a curve reports at (every step)."""
        return list(range(self.min_resource, self.max_resource + 1))

    def curve(self, params: dict[str, Any], seed: int) -> Iterator[tuple[int, float]]:
        """``(step, value)`` for each of :attr:`steps` (a generator: stop asking to stop)."""
        raise NotImplementedError


class Synthetic(Task):
    """The learning-curve problem of the module docstring."""

    name = "synthetic"
    space = {f"x{i}": (0.0, 1.0) for i in range(4)}
    A = 0.5  # the curve's exponent: value(x, r) = -(f + g * r ** -A)

    @classmethod
    def value(cls, x: np.ndarray, r: float) -> float:
        """The noiseless value at resource ``r``."""
        f = float(np.sum((x - 0.7) ** 2))
        g = 0.1 + 0.5 * float(x[0]) ** 2
        return -(f + g * r ** -cls.A)

    @classmethod
    def best_x(cls) -> np.ndarray:
        """The known optimum at full resource."""
        c = cls.max_resource ** -cls.A
        return np.array([1.4 / (2.0 + c), 0.7, 0.7, 0.7])

    @property
    def optimum(self) -> float:  # type: ignore[override]
        return self.value(self.best_x(), self.max_resource)

    def curve(self, params: dict[str, Any], seed: int) -> Iterator[tuple[int, float]]:
        x = np.array([params[f"x{i}"] for i in range(4)], dtype=float)
        rng = np.random.default_rng(abs(hash((seed, tuple(np.round(x, 12))))) % 2**32)
        for r in self.steps:
            yield r, self.value(x, r) + 0.002 * float(rng.standard_normal())


def _digits(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_va), y_tr, y_va


class SGD(Task):
    """SGDClassifier trained epoch by epoch with ``partial_fit``."""

    name = "sgd"
    space = {"alpha": (1e-6, 1e-1, "log-uniform"), "eta0": (1e-4, 1.0, "log-uniform"),
             "loss": ["hinge", "log_loss", "modified_huber"], "schedule": ["constant", "invscaling", "adaptive"]}

    def curve(self, params: dict[str, Any], seed: int) -> Iterator[tuple[int, float]]:
        from sklearn.linear_model import SGDClassifier

        X_tr, X_va, y_tr, y_va = _digits(seed)
        clf = SGDClassifier(alpha=params["alpha"], loss=params["loss"], learning_rate=params["schedule"],
                            eta0=params["eta0"], random_state=seed)
        rng = np.random.default_rng(seed)
        classes = np.unique(y_tr)
        for epoch in self.steps:
            order = rng.permutation(len(y_tr))
            clf.partial_fit(X_tr[order], y_tr[order], classes=classes)
            yield epoch, float(clf.score(X_va, y_va))


class HGB(Task):
    """HistGradientBoostingClassifier grown with warm_start, ``max_iter`` as resource."""

    name = "hgb"
    space = {"learning_rate": (0.01, 1.0, "log-uniform"), "max_leaf_nodes": (4, 64),
             "l2_regularization": (1e-4, 10.0, "log-uniform"), "min_samples_leaf": (2, 64)}
    max_resource = 81

    @property
    def steps(self) -> list[int]:
        """1, 3, 9, 27, 81: the rungs (growing the model at every step costs a refit per step)."""
        return [self.min_resource * self.eta ** k for k in range(5)]

    def curve(self, params: dict[str, Any], seed: int) -> Iterator[tuple[int, float]]:
        from sklearn.ensemble import HistGradientBoostingClassifier

        X_tr, X_va, y_tr, y_va = _digits(seed)
        clf = HistGradientBoostingClassifier(learning_rate=params["learning_rate"], warm_start=True,
                                             max_leaf_nodes=int(params["max_leaf_nodes"]), early_stopping=False,
                                             l2_regularization=params["l2_regularization"],
                                             min_samples_leaf=int(params["min_samples_leaf"]), random_state=seed)
        for it in self.steps:
            clf.set_params(max_iter=it)
            clf.fit(X_tr, y_tr)
            yield it, float(clf.score(X_va, y_va))


class MLP(Task):
    """A one-hidden-layer MLP in torch, full-batch-free minibatch SGD with momentum, epochs."""

    name = "mlp"
    space = {"lr": (1e-4, 1.0, "log-uniform"), "hidden": (8, 256), "weight_decay": (1e-6, 1e-1, "log-uniform"),
             "batch": (16, 256)}

    def curve(self, params: dict[str, Any], seed: int) -> Iterator[tuple[int, float]]:
        import torch

        torch.set_num_threads(1)  # a benchmark script, not library code: 1 thread per trial
        X_tr, X_va, y_tr, y_va = _digits(seed)
        g = torch.Generator().manual_seed(seed)
        Xt, yt = torch.tensor(X_tr, dtype=torch.float32), torch.tensor(y_tr)
        Xv, yv = torch.tensor(X_va, dtype=torch.float32), torch.tensor(y_va)
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(64, int(params["hidden"])), torch.nn.ReLU(),
                                  torch.nn.Linear(int(params["hidden"]), 10))
        opt = torch.optim.SGD(net.parameters(), lr=params["lr"], momentum=0.9, weight_decay=params["weight_decay"])
        bs = int(params["batch"])
        for epoch in self.steps:
            perm = torch.randperm(len(yt), generator=g)
            for i in range(0, len(yt), bs):
                idx = perm[i:i + bs]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx])
                if not torch.isfinite(loss):
                    break
                loss.backward()
                opt.step()
            with torch.no_grad():
                acc = float((net(Xv).argmax(1) == yv).float().mean())
            yield epoch, acc if math.isfinite(acc) else 0.0


TASKS: dict[str, type[Task]] = {t.name: t for t in (Synthetic, SGD, HGB, MLP)}


def get_task(name: str) -> Task:
    """The task called ``name`` (one of :data:`TASKS`)."""
    if name not in TASKS:
        raise ValueError(f"task: got {name!r}, expected one of {sorted(TASKS)}")
    return TASKS[name]()
