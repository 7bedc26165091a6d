"""``BayesSearchCV``: Bayesian hyperparameter search with scikit-learn's search machinery.

A maintained drop-in for scikit-optimize's archived ``BayesSearchCV``. It plugs into
scikit-learn's documented extension point, ``BaseSearchCV._run_search``: scikit-learn does the
cross-validation, the parallelism (``n_jobs``), the scoring (single or multi-metric), the
``cv_results_`` table and the refit; this class only decides *which* candidates to evaluate,
by asking a :class:`gpu_bo.Optimizer` and telling it back each candidate's mean test score.

Example::

    from gpu_bo import BayesSearchCV            # or gpu_bo.integrations.sklearn
    search = BayesSearchCV(SVC(), {"C": (1e-3, 1e3, "log-uniform"), "kernel": ["rbf", "linear"]},
                           n_iter=30, cv=3, random_state=0)
    search.fit(X, y)
    search.best_params_, search.best_score_
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from gpu_bo.acquisition import ACQUISITIONS
from gpu_bo.space import Space, as_space

__all__ = ["BayesSearchCV"]


def _seed_from(random_state: Any) -> int | None:
    """An int seed for the optimizer from sklearn's ``random_state`` conventions."""
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    # a RandomState instance: draw from it, so repeated fits advance it as sklearn does
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def _capacity(space: Space) -> int | float:
    """How many distinct points a space holds (inf when it has a real dimension)."""
    if any(dim.kind == "real" for dim in space.dims.values()):
        return math.inf
    return math.prod(space.n_bins)


class BayesSearchCV(BaseSearchCV):
    """Bayesian optimization over hyperparameters, scored by cross-validation.

    Parameters are flat keyword arguments, as every scikit-learn estimator's must be (so that
    ``clone``, ``get_params`` and nested ``set_params`` work); ``__init__`` only stores them.

    Args:
        estimator: the estimator (or Pipeline) to tune; it must implement ``fit``.
        search_spaces: the space, as a dict ``{param: dimension}`` where a dimension is a
            ``gb.Real/Integer/Categorical``, an ``hp`` helper's result, a ``(low, high)`` tuple
            (ints -> Integer, floats -> Real), a scikit-optimize style
            ``(low, high, "log-uniform")`` tuple, or a list of choices (Categorical; note that
            unlike scikit-optimize a two-number *list* is a set of choices, as in
            scikit-learn's ``param_grid``). It may also be a list of such dicts or of
            ``(dict, n_iter)`` pairs; each sub-space is then searched in turn with its own
            optimizer and ``n_iter`` (``self.n_iter`` where not given).
        n_iter: candidates evaluated per sub-space.
        scoring: as in ``GridSearchCV``. With multi-metric ``scoring`` the optimizer maximizes
            the metric named by ``refit`` (the first metric when ``refit`` is False or callable).
        n_jobs: as in ``GridSearchCV``.
        refit: as in ``GridSearchCV``.
        cv: as in ``GridSearchCV``.
        verbose: as in ``GridSearchCV``.
        pre_dispatch: as in ``GridSearchCV``.
        error_score: as in ``GridSearchCV``.
        return_train_score: as in ``GridSearchCV``.
        n_points: candidates proposed jointly per iteration (a q-batch) and cross-validated in
            parallel under ``n_jobs``.
        random_state: seeds the optimizer (int, ``RandomState`` or None).
        acquisition: ``"ei"``, ``"pi"``, ``"ucb"``, ``"qei"``, ``"qpi"``, ``"qucb"`` or ``"qnei"``.
        device: where the GP and the acquisition run: ``"auto"``, ``"cpu"``, ``"cuda"``.
        optimizer_kwargs: further ``gb.Optimizer`` options (``xi``, ``kappa``, ``n_initial``).

    The fitted attributes ``cv_results_``, ``best_estimator_``, ``best_score_``,
    ``best_params_``, ``best_index_``, ``scorer_``, ``n_splits_``, ``refit_time_`` and
    ``multimetric_`` are as in ``GridSearchCV``.

    Attributes:
        optimizers_: the fitted ``gb.Optimizer`` of each sub-space (their ``trials`` hold the
            scores the optimizer saw).
    """

    # as GridSearchCV declares (scikit-learn < 1.6 common tests read it)
    _required_parameters = ["estimator", "search_spaces"]

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "search_spaces": [dict, list, Space],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_points": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "acquisition": [StrOptions(set(ACQUISITIONS))],
        "device": "no_validation",  # str or torch.device; resolved by the optimizer
        "optimizer_kwargs": [dict, None],
    }

    def __init__(
        self,
        estimator,
        search_spaces,
        *,
        n_iter=50,
        scoring=None,
        n_jobs=None,
        n_points=1,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        acquisition="ei",
        device="auto",
        optimizer_kwargs=None,
    ):
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.search_spaces = search_spaces
        self.n_iter = n_iter
        self.n_points = n_points
        self.random_state = random_state
        self.acquisition = acquisition
        self.device = device
        self.optimizer_kwargs = optimizer_kwargs

    # -- search spaces ----------------------------------------------------------------------------
    def _spaces(self) -> list[tuple[Space, int]]:
        """``search_spaces`` as a list of ``(Space, n_iter)``; raises ValueError on bad input."""
        ss = self.search_spaces
        items = list(ss) if isinstance(ss, list) else [ss]
        if not items:
            raise ValueError("search_spaces: got an empty list; expected a dict or a list of dicts")
        out = []
        for i, item in enumerate(items):
            n_iter = self.n_iter
            if isinstance(item, tuple):
                if len(item) != 2 or not isinstance(item[1], numbers.Integral) or isinstance(item[1], bool) \
                        or item[1] < 1:
                    raise ValueError(
                        f"search_spaces[{i}]: got {item!r}; expected a dict or a (dict, n_iter) pair "
                        "with a positive int n_iter"
                    )
                item, n_iter = item
            if not isinstance(item, (Mapping, Space)):
                raise ValueError(
                    f"search_spaces[{i}]: got {type(item).__name__}; expected a dict of "
                    "parameter name -> dimension"
                )
            out.append((as_space(dict(item) if isinstance(item, Mapping) else item), int(n_iter)))
        return out

    @property
    def total_iterations(self) -> int:
        """Candidates evaluated by one ``fit`` over all sub-spaces."""
        return sum(n for _, n in self._spaces())

    # -- the search -------------------------------------------------------------------------------
    def _score_key(self, results: Mapping[str, Any]) -> str:
        if "mean_test_score" in results:
            return "mean_test_score"
        if isinstance(self.refit, str) and f"mean_test_{self.refit}" in results:
            return f"mean_test_{self.refit}"
        keys = [k for k in results if k.startswith("mean_test_")]
        return keys[0]

    def _run_search(self, evaluate_candidates):
        """Ask the optimizer for candidates, cross-validate them, tell it the mean test scores."""
        from gpu_bo.optimizer import Optimizer  # imported here: the core may be mid-import

        spaces = self._spaces()
        seed = _seed_from(self.random_state)
        extra = dict(self.optimizer_kwargs or {})
        for reserved in ("direction", "acquisition", "seed", "device"):
            if reserved in extra:
                raise ValueError(
                    f"optimizer_kwargs: got the key {reserved!r}; set it through BayesSearchCV's own "
                    "parameter (direction is always 'maximize': scikit-learn scores are greater-is-better)"
                )
        self.optimizers_ = []
        n_recorded, last_error = 0, None
        for i, (space, n_iter) in enumerate(spaces):
            opt = Optimizer(space, direction="maximize", acquisition=self.acquisition,
                            seed=None if seed is None else seed + i, device=self.device, **extra)
            self.optimizers_.append(opt)
            # a fully discrete space holds finitely many distinct points; never ask past them
            n_iter = min(n_iter, _capacity(space))
            done = 0
            while done < n_iter:
                k = min(self.n_points, n_iter - done)
                params = opt.ask(n=k) if k > 1 else [opt.ask()]
                done += k
                try:
                    # sklearn keeps these dicts in cv_results_["params"]; give it its own copies
                    results = evaluate_candidates([dict(p) for p in params])
                except ValueError as err:
                    # sklearn raises when every fit of one call failed (with error_score=nan);
                    # for a sequential search that is one bad candidate, not a failed search
                    if "fits failed" not in str(err):
                        raise
                    warnings.warn(f"BayesSearchCV: every fit of the candidate(s) {params} failed; they are "
                                  "recorded as failed trials of the optimizer and left out of cv_results_. "
                                  f"sklearn said: {err}", FitFailedWarning, stacklevel=2)
                    opt.tell(params, [None] * k, error=str(err))
                    last_error = err
                    continue
                n_recorded += k
                scores = np.asarray(results[self._score_key(results)], dtype=float)[-k:]
                # a NaN mean (some fits failed, error_score=nan) becomes a FAILED trial
                opt.tell(params, [float(s) if math.isfinite(s) else None for s in scores])
        if n_recorded == 0 and last_error is not None:
            raise last_error
