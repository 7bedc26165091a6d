"""The problems of benchmarks/multi_objective.py: BoTorch's multi-objective test functions and
one scikit-learn HPO task, each over a ``gb.Space`` with objective directions and constraints in
gpu_bo's conventions.

Conventions (what every method sees):

- ``evaluate(params) -> (values, constraints)``: ``values`` one float per objective in the
  problem's own units and ``directions``; ``constraints`` a list of floats, feasible iff every
  ``c <= 0`` (gpu_bo's and Optuna's convention), or ``None`` for an unconstrained problem.
- BoTorch's test problems minimize by default (``negate=False``), so their objectives are
  handed over as ``"minimize"`` unchanged; ConstrainedBraninCurrin's slack is feasible iff
  ``slack >= 0``, so its constraint is ``c = -slack``.
- ``ref_point`` and ``max_hv`` are those BoTorch publishes for the problem (``ref_point`` in the
  problem's units, i.e. for minimization); hypervolumes are computed on the larger-is-better
  view (``to_max``) against ``to_max(ref_point)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch

import gpu_bo as gb
from gpu_bo.pareto import hypervolume, to_max  # noqa: F401 - re-exported for the other benchmark modules

__all__ = ["MOProblem", "MO_PROBLEMS", "get_mo_problem", "to_max", "hypervolume", "hv_curve"]

Params = dict[str, Any]


@dataclass(frozen=True)
class MOProblem:
    """One benchmark problem (see the module docstring for its conventions)."""

    name: str
    space: gb.Space
    directions: tuple[str, ...]
    ref_point: tuple[float, ...]
    evaluate: Callable[[Mapping[str, Any]], tuple[list[float], list[float] | None]]
    n_constraints: int = 0
    max_hv: float | None = None  # the problem's known maximal hypervolume, None where unknown
    note: str = ""

    @property
    def m(self) -> int:
        return len(self.directions)


def hv_curve(values: Sequence[Sequence[float] | None], feasible: Sequence[bool],
             directions: Sequence[str], ref_point: Sequence[float]) -> list[float]:
    """Hypervolume of the feasible, finite points among the first k evaluations, k = 1..n."""
    out: list[float] = []
    kept: list[Sequence[float]] = []
    hv = 0.0
    for v, ok in zip(values, feasible):
        if ok and v is not None and all(math.isfinite(x) for x in v):
            kept.append(v)
            hv = hypervolume(kept, directions, ref_point)
        out.append(hv)
    return out


# -- BoTorch test functions ----------------------------------------------------------------------

def _botorch_problem(name: str, cls_name: str, d: int, **kw: Any) -> MOProblem:
    from botorch.test_functions import multi_objective as mo

    fn = getattr(mo, cls_name)(negate=False, **kw)  # BoTorch's minimization form
    lo, hi = fn.bounds[0].tolist(), fn.bounds[1].tolist()
    space = gb.Space({f"x{i}": gb.Real(lo[i], hi[i]) for i in range(d)})
    ncon = int(getattr(fn, "num_constraints", 0) or 0)

    def evaluate(params: Mapping[str, Any]) -> tuple[list[float], list[float] | None]:
        x = torch.tensor([[float(params[f"x{i}"]) for i in range(d)]], dtype=torch.float64)
        with torch.no_grad():
            y = fn.evaluate_true(x)[0].tolist()
            cons = (-fn.evaluate_slack_true(x)[0]).tolist() if ncon else None  # slack >= 0 -> c <= 0
        return [float(v) for v in y], cons

    max_hv = getattr(fn, "_max_hv", None)
    return MOProblem(name=name, space=space, directions=("minimize",) * fn.num_objectives,
                     ref_point=tuple(float(r) for r in fn.ref_point.tolist()), evaluate=evaluate,
                     n_constraints=ncon, max_hv=float(max_hv) if max_hv is not None else None,
                     note=f"botorch.test_functions.multi_objective.{cls_name}({kw or ''})")


# -- the HPO task --------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _cancer_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    sc = StandardScaler().fit(Xtr)
    return sc.transform(Xtr), sc.transform(Xva), ytr, yva


def _svc_size(params: Mapping[str, Any]) -> tuple[list[float], None]:
    """Validation accuracy (maximize) and log10 of the floats the model stores (minimize).

    An RBF SVC on the ``k`` best features (ANOVA F on the training split) of breast_cancer, fixed
    stratified 75/25 split: deterministic given the params, a few milliseconds per evaluation.
    The model size is ``n_support_vectors * k + n_support_vectors`` (vectors plus dual weights).
    """
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.svm import SVC

    Xtr, Xva, ytr, yva = _cancer_split()
    k = int(params["k"])
    sel = SelectKBest(f_classif, k=k).fit(Xtr, ytr)
    clf = SVC(C=float(params["C"]), gamma=float(params["gamma"])).fit(sel.transform(Xtr), ytr)
    acc = float((clf.predict(sel.transform(Xva)) == yva).mean())
    n_sv = int(clf.support_vectors_.shape[0])
    return [acc, math.log10(n_sv * (k + 1))], None


def _svc_problem() -> MOProblem:
    space = gb.Space({"C": gb.Real(1e-2, 1e3, log=True), "gamma": gb.Real(1e-4, 1.0, log=True),
                      "k": gb.Integer(1, 30)})
    # reference: accuracy 0.9 (the majority class alone scores 0.63) and the size of a model that
    # keeps every training row as a support vector on all 30 features (426 * 31 floats)
    return MOProblem(name="svc_cancer_size", space=space, directions=("maximize", "minimize"),
                     ref_point=(0.9, math.log10(426 * 31)), evaluate=_svc_size,
                     note="RBF SVC on the k best breast_cancer features: validation accuracy vs "
                          "log10(stored floats)")


MO_PROBLEMS: dict[str, Callable[[], MOProblem]] = {
    "branin_currin": lambda: _botorch_problem("branin_currin", "BraninCurrin", 2),
    "dtlz2": lambda: _botorch_problem("dtlz2", "DTLZ2", 6, dim=6, num_objectives=2),
    "zdt1": lambda: _botorch_problem("zdt1", "ZDT1", 6, dim=6),
    "c_branin_currin": lambda: _botorch_problem("c_branin_currin", "ConstrainedBraninCurrin", 2),
    "svc_cancer_size": _svc_problem,
}


def get_mo_problem(name: str) -> MOProblem:
    """The problem called ``name`` (one of ``MO_PROBLEMS``)."""
    if name not in MO_PROBLEMS:
        raise ValueError(f"problem: got {name!r}, expected one of {list(MO_PROBLEMS)}")
    return MO_PROBLEMS[name]()
