"""``BayesSearchCV``: Bayesian hyperparameter search with scikit-learn's search machinery.

A maintained drop-in for scikit-optimize's archived ``BayesSearchCV`` (it is also
``gpu_bo.integrations.skopt.BayesSearchCV``: search spaces are read as skopt 0.10 reads them). It plugs into
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
from sklearn.utils._param_validation import Interval, StrOptions

from gpu_bo.acquisition import ACQUISITIONS
from gpu_bo.integrations.skopt.options import check_options
from gpu_bo.integrations.skopt.options import seed_from as _seed_from
from gpu_bo.integrations.skopt.space.space import Space as SkoptSpace
from gpu_bo.integrations.skopt.space.space import check_dimension
from gpu_bo.space import Categorical, Integer, Real, Space

__all__ = ["BayesSearchCV"]


def _dimension(name: str, dim: Any) -> Any:
    """One search-space entry as a gpu_bo dimension, read as scikit-optimize 0.10 reads it."""
    if isinstance(dim, (Real, Integer, Categorical)):
        return dim
    try:
        d = check_dimension(dim)
    except ValueError as err:
        raise ValueError(f"search_spaces: parameter {name!r}: {err}") from None
    return d.to_gpu_bo()


def _as_gb_space(item: Mapping[str, Any] | Space, where: str) -> Space:
    if isinstance(item, Space):
        return item
    if not item:
        raise ValueError(f"{where}: got an empty dict; expected at least one parameter -> dimension")
    return Space({name: _dimension(name, dim) for name, dim in item.items()})


# skopt's optimizer_kwargs -> what they become here (the rest are gb.Optimizer's own)
_SKOPT_ACQ = {"EI": "ei", "PI": "pi", "LCB": "ucb"}


def _translate_kwargs(kwargs: Mapping[str, Any] | None) -> tuple[dict, str | None]:
    """scikit-optimize's ``optimizer_kwargs`` mapped to gb.Optimizer's (or refused)."""
    extra = dict(kwargs or {})
    skopt_keys = {k: extra.pop(k) for k in ("base_estimator", "acq_optimizer", "initial_point_generator",
                                            "noise", "n_jobs", "acq_optimizer_kwargs", "model_queue_size")
                  if k in extra}
    check_options(base_estimator=skopt_keys.get("base_estimator", "GP"),
                  acq_optimizer=skopt_keys.get("acq_optimizer", "auto"),
                  initial_point_generator=skopt_keys.get("initial_point_generator", "random"),
                  noise=skopt_keys.get("noise", "gaussian"))
    acquisition = None
    if "acq_func" in extra:
        acq = extra.pop("acq_func")
        if acq not in _SKOPT_ACQ:
            raise ValueError(f"optimizer_kwargs: acq_func={acq!r}; BayesSearchCV takes 'EI', 'PI' or 'LCB' here "
                             "(or its own acquisition=...); 'gp_hedge' is offered by gpu_bo.integrations.skopt's "
                             "Optimizer and gp_minimize")
        acquisition = _SKOPT_ACQ[acq]
    if "n_initial_points" in extra:
        extra["n_initial"] = extra.pop("n_initial_points")
    extra.update(extra.pop("acq_func_kwargs", None) or {})
    if "random_state" in extra:
        raise ValueError("optimizer_kwargs: got the key 'random_state'; set BayesSearchCV's own random_state")
    return extra, acquisition


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
            optimizer and ``n_iter`` (``self.n_iter`` where not given). Entries that are not
            gpu_bo dimensions are read as scikit-optimize 0.10 reads them
            (:func:`gpu_bo.integrations.skopt.space.check_dimension`): a two-number list or
            tuple is a range (ints -> Integer), a longer list a set of choices, and skopt's
            ``Real``/``Integer``/``Categorical`` objects are accepted.
        n_iter: candidates evaluated per sub-space.
        scoring: as in ``GridSearchCV``. With multi-metric ``scoring`` the optimizer maximizes
            the metric named by ``refit`` (the first metric when ``refit`` is False or callable).
        n_jobs: as in ``GridSearchCV``.
        refit: as in ``GridSearchCV``.
        cv: as in ``GridSearchCV``.
        verbose: as in ``GridSearchCV``.
        pre_dispatch: as in ``GridSearchCV``.
        error_score: as in ``GridSearchCV``; ``"raise"`` by default, as scikit-optimize's.
        return_train_score: as in ``GridSearchCV``.
        n_points: candidates proposed jointly per iteration (a q-batch) and cross-validated in
            parallel under ``n_jobs``.
        random_state: seeds the optimizer (int, ``RandomState`` or None).
        acquisition: ``"ei"``, ``"pi"``, ``"ucb"``, ``"qei"``, ``"qpi"``, ``"qucb"`` or ``"qnei"``.
        device: where the GP and the acquisition run: ``"auto"``, ``"cpu"``, ``"cuda"``.
        optimizer_kwargs: further ``gb.Optimizer`` options (``xi``, ``kappa``, ``n_initial``),
            or scikit-optimize's (``n_initial_points``, ``acq_func`` "EI"/"PI"/"LCB",
            ``acq_func_kwargs``, ``base_estimator`` "GP", ``acq_optimizer``,
            ``initial_point_generator`` "random"/"sobol"); anything else raises.
        fit_params: keyword arguments passed to the estimator's ``fit`` (skopt's parameter;
            those given to :meth:`fit` are added to them).

    The fitted attributes ``cv_results_``, ``best_estimator_``, ``best_score_``,
    ``best_params_``, ``best_index_``, ``scorer_``, ``n_splits_``, ``refit_time_`` and
    ``multimetric_`` are as in ``GridSearchCV``.

    Attributes:
        optimizers_: the fitted ``gb.Optimizer`` of each sub-space (their ``trials`` hold the
            scores the optimizer saw).
        optimizer_results_: one scikit-optimize ``OptimizeResult`` per sub-space, as skopt's:
            points are lists in the sorted order of the parameter names, and ``func_vals``
            the negated scores (skopt minimizes).
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
        "fit_params": [dict, None],
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
        error_score="raise",
        return_train_score=False,
        acquisition="ei",
        device="auto",
        optimizer_kwargs=None,
        fit_params=None,
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
        self.fit_params = fit_params

    # -- search spaces ----------------------------------------------------------------------------
    def _spaces(self) -> list[tuple[Space, int]]:
        """``search_spaces`` as a list of ``(Space, n_iter)``; raises as scikit-optimize does
        (ValueError for an empty or invalid space, TypeError for a list entry of the wrong type)."""
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
                raise TypeError(
                    f"search_spaces[{i}]: got {type(item).__name__} {item!r}; expected a dict of "
                    "parameter name -> dimension (or a (dict, n_iter) pair)"
                )
            out.append((_as_gb_space(item, f"search_spaces[{i}]"), int(n_iter)))
        return out

    @property
    def total_iterations(self) -> int:
        """Candidates evaluated by one ``fit`` over all sub-spaces."""
        return sum(n for _, n in self._spaces())

    # -- the search -------------------------------------------------------------------------------
    def fit(self, X, y=None, *, groups=None, callback=None, **fit_params):
        """Run the search, then refit the best candidate (as ``GridSearchCV.fit``).

        Args:
            X: the training data.
            y: the targets.
            groups: group labels for the cv splitter.
            callback: scikit-optimize style: a callable (or list) called with each sub-space's
                ``OptimizeResult`` after every step; one returning True ends that sub-space's search.
            **fit_params: passed to the estimator's ``fit`` (with ``self.fit_params``).

        Returns:
            self.
        """
        from gpu_bo.integrations.skopt.callbacks import check_callback

        self._callbacks = check_callback(callback)
        try:
            super().fit(X, y, groups=groups, **{**(self.fit_params or {}), **fit_params})
        finally:
            del self._callbacks
        self._add_train_ranks()
        return self

    def _add_train_ranks(self) -> None:
        """``rank_train_<metric>`` in ``cv_results_``, as scikit-optimize adds them."""
        from scipy.stats import rankdata

        res = self.cv_results_
        for key in [k for k in res if k.startswith("mean_train_")]:
            scores = np.asarray(res[key], dtype=float)
            filled = np.where(np.isnan(scores), -np.inf, scores)
            res["rank_train_" + key[len("mean_train_"):]] = np.asarray(rankdata(-filled, method="min"), dtype=np.int32)

    def _score_key(self, results: Mapping[str, Any]) -> str:
        if "mean_test_score" in results:
            return "mean_test_score"
        if isinstance(self.refit, str) and f"mean_test_{self.refit}" in results:
            return f"mean_test_{self.refit}"
        keys = [k for k in results if k.startswith("mean_test_")]
        return keys[0]

    def _result_of(self, opt: Any) -> Any:
        """A sub-space's search as scikit-optimize's ``OptimizeResult`` (sorted-name lists, minus scores)."""
        from gpu_bo.integrations.skopt.space.space import from_gpu_bo
        from gpu_bo.integrations.skopt.utils import create_result
        from gpu_bo.study import TrialState

        names = sorted(opt.space.names)
        space = SkoptSpace([from_gpu_bo(opt.space.dims[n]) for n in names])
        space.dimension_names = names
        done = [t for t in opt.trials if t.state == TrialState.COMPLETE]
        return create_result([[t.params[n] for n in names] for t in done], [-t.value for t in done], space,
                             self.random_state)

    def _run_search(self, evaluate_candidates):
        """Ask the optimizer for candidates, cross-validate them, tell it the mean test scores."""
        from gpu_bo.integrations.skopt.callbacks import eval_callbacks
        from gpu_bo.optimizer import Optimizer  # imported here: the core may be mid-import

        spaces = self._spaces()
        seed = _seed_from(self.random_state)
        extra, acquisition = _translate_kwargs(self.optimizer_kwargs)
        for reserved in ("direction", "acquisition", "seed", "device"):
            if reserved in extra:
                raise ValueError(
                    f"optimizer_kwargs: got the key {reserved!r}; set it through BayesSearchCV's own "
                    "parameter (direction is always 'maximize': scikit-learn scores are greater-is-better)"
                )
        callbacks = getattr(self, "_callbacks", [])
        self.optimizers_, self.optimizer_results_ = [], []
        n_recorded, last_error = 0, None
        for i, (space, n_iter) in enumerate(spaces):
            opt = Optimizer(space, direction="maximize", acquisition=acquisition or self.acquisition,
                            seed=None if seed is None else seed + i, device=self.device, **extra)
            self.optimizers_.append(opt)
            self.optimizer_results_.append(self._result_of(opt))
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
                self.optimizer_results_[i] = self._result_of(opt)
                if eval_callbacks(callbacks, self.optimizer_results_[i]):
                    break
        if n_recorded == 0 and last_error is not None:
            raise last_error
