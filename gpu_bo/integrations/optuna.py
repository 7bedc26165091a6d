"""Optuna drop-in: ``GpuBoSampler``, an Optuna sampler whose suggestions come from gpu_bo's GP.

Optuna users keep their studies, storages, pruners and dashboard and swap the sampler::

    import optuna
    from gpu_bo.integrations.optuna import GpuBoSampler

    study = optuna.create_study(sampler=GpuBoSampler(seed=0), storage="sqlite:///study.db")
    study.optimize(objective, n_trials=100, n_jobs=2)

Relative (joint) sampling runs over the parameters the finished trials show, conditional ones
included: the trials' parameters and distributions become a conditional :class:`gpu_bo.Space`
(:func:`gpu_bo.learned_space.infer_space` learns the ``when=`` conditions from which trials used
which parameter), a :class:`gpu_bo.Optimizer` is told the trials and asked for one point, and the
point's active parameters are the trial's relative parameters. Everything else (the first
``n_startup_trials``, a parameter seen in fewer than two trials, one whose distribution changed,
one no condition explains, a branch the GP's point does not take) goes to the independent
sampler (Optuna's ``RandomSampler`` with the same seed). docs/guide/dropin-optuna.md has the
details and how it differs from Optuna's ``GPSampler``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

try:
    import optuna
    from optuna.distributions import (BaseDistribution, CategoricalDistribution, FloatDistribution,
                                      IntDistribution)
    from optuna.samplers import BaseSampler, RandomSampler
    from optuna.study import StudyDirection
    from optuna.trial import FrozenTrial, TrialState
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("gpu_bo.integrations.optuna needs Optuna: pip install 'optuna>=4'") from e

from gpu_bo.categorical import Categorical
from gpu_bo.dimensions import Integer, Real
from gpu_bo.exceptions import GpuBoError
from gpu_bo.learned_space import infer_space
from gpu_bo.space import Space

__all__ = ["GpuBoSampler", "to_dimension", "to_distribution"]

logger = logging.getLogger("gpu_bo")

# the relative parameters of a running trial, shared through the storage (other processes see
# them as pending points); chunked since RDB storages hold at most 2045 characters per attribute
_RELATIVE_KEY = "gpu_bo:relative_params"
_CHUNK = 2045
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
_OWN_OPTIONS = ("space", "direction", "directions", "seed")


def to_dimension(name: str, dist: BaseDistribution) -> Real | Integer | Categorical:
    """One Optuna distribution as a gpu_bo dimension (same bounds, log scale and step).

    Args:
        name: the parameter's name.
        dist: a ``FloatDistribution``, ``IntDistribution`` or ``CategoricalDistribution``.

    Raises:
        TypeError: another distribution type.
    """
    if isinstance(dist, FloatDistribution):
        return Real(dist.low, dist.high, log=dist.log, name=name, step=dist.step)
    if isinstance(dist, IntDistribution):
        return Integer(dist.low, dist.high, log=dist.log, name=name, step=dist.step)
    if isinstance(dist, CategoricalDistribution):
        return Categorical(list(dist.choices), name=name)
    raise TypeError(f"parameter {name!r}: got the distribution {dist!r} ({type(dist).__name__}); "
                    "expected a FloatDistribution, IntDistribution or CategoricalDistribution")


def to_distribution(dim: Real | Integer | Categorical) -> BaseDistribution:
    """A gpu_bo dimension as the Optuna distribution :func:`to_dimension` reads back.

    Args:
        dim: a ``Real``, ``Integer`` or ``Categorical`` (its condition is not part of it).

    Raises:
        TypeError: another type.
    """
    if isinstance(dim, Real):
        return FloatDistribution(dim.low, dim.high, log=dim.log, step=dim.step)
    if isinstance(dim, Integer):
        return IntDistribution(int(dim.low), int(dim.high), log=dim.log, step=int(dim.step))
    if isinstance(dim, Categorical):
        return CategoricalDistribution(list(dim.choices))
    raise TypeError(f"dim: got {dim!r} ({type(dim).__name__}); expected a Real, Integer or Categorical")


def _to_value(dist: BaseDistribution, value: Any) -> Any:
    """A gpu_bo value as ``dist`` holds it (a float / int inside its bounds, a choice)."""
    if isinstance(dist, FloatDistribution):
        return min(max(float(value), dist.low), dist.high)
    if isinstance(dist, IntDistribution):
        return min(max(int(value), dist.low), dist.high)
    return value


def _objective_values(t: FrozenTrial, n_obj: int) -> Any:
    return t.values[0] if n_obj == 1 else list(t.values)


class GpuBoSampler(BaseSampler):
    """An Optuna sampler backed by gpu_bo's GP optimizer (conditional parameters included).

    Trials the optimizer is told: COMPLETE ones with their values (and their constraints when
    the study sets them with ``trial.set_constraint``; a COMPLETE trial without them is then left
    out), FAILED ones as failed (``OptimizerOptions.failure_policy``: the worst value seen, by
    default), PRUNED ones as pruned (never proposed again, not shown to the GP, as Optuna's
    ``GPSampler`` leaves them out). Running trials' relative parameters are pending points, so
    ``n_jobs=2`` or several processes on one RDB storage do not suggest the same point.

    Args:
        seed: seeds the optimizer (each trial's suggestion from the seed and the trial's number)
            and the independent sampler. None: a random seed.
        n_startup_trials: until this many trials are COMPLETE or PRUNED (and at least 2
            COMPLETE), every parameter is sampled by the independent sampler (10 by default, as
            ``GPSampler``'s; pruned trials count as for ``TPESampler``, so an eager pruner does
            not keep the study random).
        independent_sampler: samples the parameters outside the relative search space (None:
            ``optuna.samplers.RandomSampler(seed=seed)``).
        optimizer_options: further keyword arguments of :class:`gpu_bo.Optimizer`
            (``acquisition``, ``device``, ``options``, ``n_initial``, ...; not ``space``,
            ``direction(s)`` or ``seed``, which come from the study and ``seed``).

    Raises:
        ValueError: a bad ``seed``, ``n_startup_trials`` or ``optimizer_options`` key.
        TypeError: ``independent_sampler`` is not an Optuna sampler, or ``optimizer_options``
            is not a mapping.
    """

    def __init__(self, *, seed: int | None = None, n_startup_trials: int = 10,
                 independent_sampler: BaseSampler | None = None,
                 optimizer_options: Mapping[str, Any] | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed: got {seed!r}, expected None or an int >= 0")
        if isinstance(n_startup_trials, bool) or not isinstance(n_startup_trials, int) or n_startup_trials < 0:
            raise ValueError(f"n_startup_trials: got {n_startup_trials!r}, expected an int >= 0")
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise TypeError(f"independent_sampler: got {independent_sampler!r} "
                            f"({type(independent_sampler).__name__}); expected an optuna.samplers sampler or None")
        if optimizer_options is not None and not isinstance(optimizer_options, Mapping):
            raise TypeError(f"optimizer_options: got {optimizer_options!r} "
                            f"({type(optimizer_options).__name__}); expected a dict of gb.Optimizer arguments")
        self._options = dict(optimizer_options or {})
        for bad in _OWN_OPTIONS:
            if bad in self._options:
                raise ValueError(f"optimizer_options: got the key {bad!r}; the study gives the space and "
                                 "directions, and seed is GpuBoSampler's own argument")
        self._seed = seed
        self._base_seed = seed if seed is not None else int.from_bytes(os.urandom(4), "little")
        self._n_startup = n_startup_trials
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._lock = threading.Lock()
        self._learned_cache: tuple | None = None  # (finished trial numbers, space, distributions)
        self._cache: _Cache | None = None
        self.last_space: Space | None = None  # the conditional space of the last relative sample

    def reseed_rng(self) -> None:
        """Called by Optuna for ``n_jobs > 1``: the independent sampler gets a new seed."""
        self._independent.reseed_rng()

    # -- the relative search space ----------------------------------------------------------
    def _learned(self, study: optuna.Study, snapshot: list[FrozenTrial] | None = None
                 ) -> tuple[Space | None, dict[str, BaseDistribution], list[FrozenTrial]]:
        """The conditional space of the finished trials (None: no parameter qualifies), its
        distributions and the trials (those of ``snapshot``, all the study's trials, when given)."""
        if snapshot is None:
            snapshot = study.get_trials(deepcopy=False, states=_FINISHED)
        trials = [t for t in snapshot if t.state in _FINISHED]
        key = (study.study_name, tuple(t.number for t in trials))  # a finished trial never changes
        cached = self._learned_cache
        if cached is not None and cached[0] == key:  # asked twice per trial: the search space, then the sample
            return cached[1], cached[2], trials
        space, dists = self._infer(trials)
        self._learned_cache = (key, space, dists)
        return space, dists, trials

    def _infer(self, trials: list[FrozenTrial]) -> tuple[Space | None, dict[str, BaseDistribution]]:
        dists: dict[str, BaseDistribution] = {}
        uses: dict[str, int] = {}
        mixed: set[str] = set()
        for t in trials:
            for name, dist in t.distributions.items():
                if name in dists and dists[name] != dist:
                    mixed.add(name)  # a changed range or type: Optuna's intersection drops it too
                dists.setdefault(name, dist)
                uses[name] = uses.get(name, 0) + 1
        keep = {n: d for n, d in dists.items() if n not in mixed and uses[n] >= 2 and not d.single()}
        dims = {}
        for n in list(keep):
            try:
                dims[n] = to_dimension(n, keep[n])
            except (TypeError, GpuBoError) as e:  # a distribution gpu_bo cannot hold: sampled independently
                logger.warning("GpuBoSampler: parameter %r is sampled independently (%s)", n, e)
                del keep[n]
        observations = [[(n, v) for n, v in t.params.items() if n in dims] for t in trials]
        while True:  # leave out what no condition explains (and the children hanging on it)
            if not dims:
                return None, {}
            space, unexplained = infer_space(dims, observations)
            if not unexplained:
                return space, {n: keep[n] for n in space.names}
            dims = {n: d for n, d in dims.items() if n not in unexplained}
            observations = [[(n, v) for n, v in obs if n in dims] for obs in observations]

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        """The distributions of the parameters the GP models: used by two or more finished
        trials with one distribution, not single-valued, and explained by a condition when some
        trials did not use them (:func:`gpu_bo.learned_space.infer_space`)."""
        if self._starting(study):
            return {}  # the start-up: every parameter is sampled independently
        return self._learned(study)[1]

    def _starting(self, study: optuna.Study) -> bool:
        """Whether the start-up is still on: fewer than ``n_startup_trials`` COMPLETE or PRUNED
        trials (pruned ones count, as for Optuna's TPE: with an eager pruner most random start-up
        trials are pruned, and counting COMPLETE ones only could keep a study random for ever),
        or fewer than 2 COMPLETE ones (the least a GP is fitted to)."""
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        n_complete = sum(t.state == TrialState.COMPLETE for t in done)
        return len(done) < max(self._n_startup, 1) or n_complete < 2

    # -- relative sampling -----------------------------------------------------------------
    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        """The active parameters of the GP's point for this trial ({} during the start-up)."""
        if not search_space:  # infer_relative_search_space gave {} in the start-up, which never comes back
            return {}
        with self._lock:
            # one read of the storage for the finished and the running trials: with two reads, a
            # trial finishing in between would be neither told nor pending (and could be suggested again)
            snapshot = study.get_trials(deepcopy=False)
            space, dists, trials = self._learned(study, snapshot)
            if space is None:
                return {}
            names = [n for n in space.names if n in search_space]
            if not names:
                return {}
            if len(names) < len(space.names):  # trials finished since the search space was inferred
                space, unexplained = infer_space({n: space.dims[n] for n in names},
                                                 [[(n, v) for n, v in t.params.items() if n in names] for t in trials])
                if unexplained:
                    return {}
            running = [_running_params(t) for t in snapshot
                       if t.state == TrialState.RUNNING and t.number != trial.number]
            params = self._ask(study, trial, space, trials, running)
            self.last_space = space
            if not params:
                return {}
            out = {n: _to_value(dists[n], v) for n, v in params.items()}
            # shared before the lock is released: the next thread's pending points include it
            text = json.dumps(out)
            for i in range(0, len(text), _CHUNK):
                study._storage.set_trial_system_attr(trial._trial_id, f"{_RELATIVE_KEY}:{i // _CHUNK}",
                                                     text[i:i + _CHUNK])
        return out

    def _ask(self, study: optuna.Study, trial: FrozenTrial, space: Space, trials: list[FrozenTrial],
             running: list[dict[str, Any]]) -> dict[str, Any]:
        """Tell the (cached) optimizer the new finished trials and ask it for one point."""
        keys = sorted({k for t in trials if t.state == TrialState.COMPLETE for k in t.constraints})
        directions = ["maximize" if d == StudyDirection.MAXIMIZE else "minimize" for d in study.directions]
        sig = (id(study._storage), study._study_id, json.dumps(space.to_dict(), sort_keys=True, default=repr),
               tuple(directions), tuple(keys))
        if self._cache is None or self._cache.sig != sig:
            self._cache = _Cache(sig, self._optimizer(space, directions))
        cache, opt = self._cache, self._cache.opt
        for t in trials:
            if t._trial_id not in cache.told:
                cache.told.add(t._trial_id)
                _tell(opt, space, t, keys, len(directions))
        for p in cache.pending:
            opt.remove_pending(p)
        cache.pending = []
        for p in running:
            p = _in_space(space, p)
            if p is not None:
                opt.add_pending(p)
                cache.pending.append(p)
        opt.seed = (self._base_seed * 1_000_003 + trial.number) % (2**31 - 1)
        try:
            point = opt.ask()
        except GpuBoError as e:  # e.g. every point of a finite space is taken: Optuna samples
            logger.warning("GpuBoSampler: no relative sample for trial %d (%s); sampling independently",
                           trial.number, e)
            return {}
        opt.remove_pending(point)  # the study's running trial stands for it from now on
        return point

    def _optimizer(self, space: Space, directions: list[str]) -> Any:
        from gpu_bo.optimizer import Optimizer

        how = {"direction": directions[0]} if len(directions) == 1 else {"directions": directions}
        # the start-up is the sampler's (_starting): the optimizer's GP runs from its first ask
        options = {"n_initial": 2, **self._options}
        return Optimizer(space, seed=self._base_seed, **how, **options)

    # -- independent sampling --------------------------------------------------------------
    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        """A parameter outside the relative sample, from the independent sampler."""
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        """Passed on to the independent sampler."""
        self._independent.before_trial(study, trial)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        """Passed on to the independent sampler."""
        self._independent.after_trial(study, trial, state, values)


class _Cache:
    """The optimizer of one (study, space, directions, constraints) and the trials it was told.

    Finished trials never change, so a new call only tells the ones it has not seen (another
    process's included: they are read from the storage each time); a new space rebuilds it.
    """

    def __init__(self, sig: tuple, opt: Any) -> None:
        self.sig, self.opt = sig, opt
        self.told: set[int] = set()
        self.pending: list[dict[str, Any]] = []


def _running_params(t: FrozenTrial) -> dict[str, Any]:
    """A running trial's parameters: those set so far and the relative ones shared through the
    storage by :meth:`GpuBoSampler.sample_relative`."""
    chunks, i = [], 0
    while (chunk := t.system_attrs.get(f"{_RELATIVE_KEY}:{i}")) is not None:
        chunks.append(chunk)
        i += 1
    params = json.loads("".join(chunks)) if chunks else {}
    params.update(t.params)
    return params


def _in_space(space: Space, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """``params`` cut to the space's active parameters (None when one is missing or invalid)."""
    sub = {n: params[n] for n in space.names if n in params}
    try:
        return space.canonical(sub)  # a finished trial's own parameters: exactly the active ones
    except GpuBoError:
        pass
    try:  # a running trial may hold more (its relative sample of an older space)
        return space.canonical({n: sub[n] for n in space.active_names(sub) if n in sub})
    except GpuBoError:
        return None


def _tell(opt: Any, space: Space, t: FrozenTrial, keys: list[str], n_obj: int) -> None:
    """Tell the optimizer one finished Optuna trial (see :class:`GpuBoSampler`)."""
    params = _in_space(space, t.params)
    if params is None:
        return
    if t.state == TrialState.FAIL:
        opt.tell(params, None, error=f"optuna trial {t.number} failed")
    elif t.state == TrialState.PRUNED:
        opt.tell(params, None, state="PRUNED")
    elif keys:
        if set(t.constraints) == set(keys):
            opt.tell(params, _objective_values(t, n_obj), constraints=[float(t.constraints[k]) for k in keys])
    else:
        opt.tell(params, _objective_values(t, n_obj))
