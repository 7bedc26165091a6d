"""Ray Tune integration: ``GpuBoSearch``, a Tune search algorithm backed by gpu_bo's optimizer.

It plugs gpu_bo's GP optimizer into Ray Tune, so Tune's trial execution, checkpointing and
schedulers (ASHA, ...) work as usual::

    from ray import tune
    from gpu_bo.integrations.ray_tune import GpuBoSearch

    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=GpuBoSearch(space, metric="loss", mode="min"),
                                    num_samples=50),
    )

Several objectives, as Tune's own multi-objective searchers (``OptunaSearch``) take them: a list of
metrics with a list of modes, ``GpuBoSearch(space, metric=["acc", "latency"], mode=["max", "min"])``
(a ``gb.Optimizer(directions=...)`` underneath); ``constraints=["mem_over"]`` names result keys
that must be ``<= 0`` for a trial to be feasible.

:func:`convert_tune_space` (:mod:`gpu_bo.integrations.ray_tune_space`) turns a Tune ``param_space``
into a gpu_bo ``Space``, conditional entries (a ``tune.choice`` of dicts of search domains)
included; the searcher hands Tune the nested config back. The other way
to use a Ray cluster, ``gb.optimize(..., backend="ray")`` (each trial of a gpu_bo study as a
Ray task), is :mod:`gpu_bo.backends.ray`.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from typing import Any

try:
    from ray.tune.search import Searcher
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "gpu_bo.integrations.ray_tune needs Ray Tune: pip install 'gpu-bo[ray]' (or 'ray[tune]')"
    ) from e

from gpu_bo.exceptions import GpuBoError
from gpu_bo.integrations.ray_tune_space import TuneSpace, convert, convert_tune_space, has_tune_domains
from gpu_bo.space import Space, as_space
from gpu_bo.study import is_valid_value

__all__ = ["GpuBoSearch", "convert_tune_space"]

_MODES = {"min": "minimize", "max": "maximize"}
MAX_OBJECTIVES = 4  # what gb.Optimizer(directions=...) takes


# -- the Tune searcher -------------------------------------------------------------------------
class GpuBoSearch(Searcher):
    """A Ray Tune search algorithm backed by gpu_bo's GP optimizer.

    Each ``suggest`` asks the optimizer for one point; points of running trials are pending,
    so concurrent suggestions are spread out (no duplicates). A completed trial is told with
    ``result[metric]``; a trial that errored, or whose last result lacks the metric or holds
    NaN/inf, is told as FAILED and never reaches the GP. With an early-stopping scheduler
    (ASHA) the last reported value of a stopped trial is told, as Ray's other searchers do.

    Args:
        space: a ``gb.Space``, the shorthand dict, or a Tune ``param_space`` dict (converted
            with :func:`convert_tune_space`). ``None``: taken from the Tuner's ``param_space``
            through ``set_search_properties``.
        metric: the result key to optimize (or set through ``TuneConfig(metric=...)``), or a list
            of 2-4 keys for a multi-objective search.
        mode: ``"min"`` or ``"max"`` (or set through ``TuneConfig(mode=...)``), or a list with one
            mode per metric.
        constraints: result keys of outcome constraints: a trial is feasible when every one is
            ``<= 0`` (``Optimizer.tell(constraints=...)``); a missing or non-finite one fails it.
        points_to_evaluate: configurations (flat dicts, parameter name -> value) to run first.
        max_concurrent: at most this many trials running at once (``None``: no limit; Tune's
            ``max_concurrent_trials`` sets it too).
        seed: seed of the optimizer.
        optimizer_options: further keyword arguments of ``gb.Optimizer`` (``acquisition``,
            ``n_initial``, ``xi``, ``kappa``, ``device``).
    """

    def __init__(
        self,
        space: Space | Mapping[str, Any] | None = None,
        metric: str | Sequence[str] | None = None,
        mode: str | Sequence[str] | None = None,
        *,
        constraints: Sequence[str] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        max_concurrent: int | None = None,
        seed: int | None = None,
        optimizer_options: Mapping[str, Any] | None = None,
    ) -> None:
        metric, mode = _check_metric(metric), _check_mode(mode)
        if metric is not None and mode is not None and isinstance(metric, list) != isinstance(mode, list):
            raise ValueError(f"mode: got {mode!r} for metric {metric!r}; expected a list of modes with a list "
                             "of metrics (one per metric), a str with a str")
        if isinstance(metric, list) and isinstance(mode, list) and len(metric) != len(mode):
            raise ValueError(f"mode: got {len(mode)} modes {mode!r} for {len(metric)} metrics {metric!r}; "
                             "expected one mode per metric")
        if constraints is not None and (isinstance(constraints, str) or not isinstance(constraints, Sequence)
                                        or not constraints or not all(isinstance(k, str) for k in constraints)):
            raise TypeError(f"constraints: got {constraints!r}, expected a non-empty list of result keys (str)")
        super().__init__(metric=metric, mode=mode)
        self._constraints = None if constraints is None else list(constraints)
        self._check_max_concurrent(max_concurrent)
        self._space: Space | None = None
        self._tune: TuneSpace | None = None  # how a suggestion becomes the nested config
        if space is not None:
            self._set_space(space)
        self._points = [dict(p) for p in (points_to_evaluate or [])]
        if self._space is not None:
            for p in self._points:
                self._space.validate(p)
        self._max_concurrent = max_concurrent
        self._seed = seed
        self._options = dict(optimizer_options or {})
        for bad in ("space", "direction", "directions", "seed"):
            if bad in self._options:
                raise ValueError(
                    f"optimizer_options: got the key {bad!r}; pass it as GpuBoSearch's own argument"
                )
        self._opt = None  # gb.Optimizer, built on the first suggest (metric/mode may come late)
        self._live: dict[str, dict[str, Any]] = {}  # trial_id -> flat params of running trials

    # -- configuration ------------------------------------------------------------------------
    @staticmethod
    def _check_max_concurrent(max_concurrent: Any) -> None:
        if max_concurrent is not None and (
            not isinstance(max_concurrent, int) or isinstance(max_concurrent, bool) or max_concurrent < 1
        ):
            raise ValueError(f"max_concurrent: got {max_concurrent!r}, expected None or an int >= 1")

    def _set_space(self, space: Space | Mapping[str, Any]) -> None:
        self._tune = convert(space) if not isinstance(space, Space) and has_tune_domains(space) \
            else TuneSpace.flat(as_space(space))
        self._space = self._tune.space

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        """Take metric, mode and (if no space was given) the search space from the Tuner.

        Returns ``False`` when this searcher already has a space (Tune then refuses a
        ``param_space`` that still holds search domains), ``True`` otherwise.
        """
        if self._opt is not None:
            return False
        if metric and not self._metric:
            self._metric = _check_metric(metric)
        if mode and not self._mode:
            self._mode = _check_mode(mode)
        if self._space is not None:
            return False
        if not config or not has_tune_domains(config):
            return False
        self._set_space(config)
        for p in self._points:
            self._space.validate(p)
        return True

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        """Called by Tune's ``ConcurrencyLimiter``; this searcher limits concurrency itself."""
        self._check_max_concurrent(max_concurrent)
        self._max_concurrent = max_concurrent
        return True

    @property
    def optimizer(self):
        """The underlying ``gb.Optimizer`` (``None`` before the first suggestion)."""
        return self._opt

    def _ensure_optimizer(self):
        if self._opt is not None:
            return self._opt
        if self._space is None:
            raise RuntimeError(
                "GpuBoSearch has no search space: pass space=... or a Tuner param_space with "
                "tune.uniform / loguniform / randint / choice domains"
            )
        if not self._metric or not self._mode:
            raise RuntimeError(
                f"GpuBoSearch needs metric and mode (got metric={self._metric!r}, "
                f"mode={self._mode!r}); pass them here or in tune.TuneConfig"
            )
        from gpu_bo.optimizer import Optimizer

        metrics, modes = self._metrics(), self._modes()
        if len(metrics) != len(modes):
            raise ValueError(f"mode: got {self._mode!r} for metric {self._metric!r}; expected one mode per metric")
        how = {"direction": _MODES[modes[0]]} if len(modes) == 1 else {"directions": [_MODES[m] for m in modes]}
        self._opt = Optimizer(self._space, seed=self._seed, **how, **self._options)
        return self._opt

    def _metrics(self) -> list[str]:
        """The metric keys, as a list (one for a single objective)."""
        return list(self._metric) if isinstance(self._metric, (list, tuple)) else [self._metric]

    def _modes(self) -> list[str]:
        """The modes, as a list (one for a single objective)."""
        return list(self._mode) if isinstance(self._mode, (list, tuple)) else [self._mode]

    # -- the Searcher protocol ----------------------------------------------------------------
    def suggest(self, trial_id: str) -> dict | None:
        """A new configuration for ``trial_id``; ``None`` while at the concurrency limit (or
        while the running trials hold the last untried points of a discrete space);
        ``Searcher.FINISHED`` once every point of a discrete space has been tried."""
        opt = self._ensure_optimizer()
        if self._max_concurrent is not None and len(self._live) >= self._max_concurrent:
            return None
        if self._points:
            params = self._points.pop(0)
            opt.add_pending(params)
        else:
            try:
                params = opt.ask()
            except GpuBoError:  # every point of a discrete space was tried or is running
                return None if self._live else Searcher.FINISHED
        self._live[trial_id] = dict(params)
        return self._tune.config(params)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        """Tell the optimizer the trial's final ``result[metric]`` (each metric's; or a failure),
        with its constraint values when the searcher has ``constraints``."""
        params = self._live.pop(trial_id, None)
        if params is None or self._opt is None:
            return  # not one of ours (e.g. added by another search algorithm)
        if error:
            self._opt.tell(params, None, error=f"Ray Tune trial {trial_id} errored")
            return
        keys = self._metrics() + (self._constraints or [])
        got = [None if result is None else _flat_get(result, k) for k in keys]
        bad = next((k for k, v in zip(keys, got) if not is_valid_value(v)), None)
        if bad is not None:
            self._opt.tell(params, None, error=f"Ray Tune trial {trial_id}: result[{bad!r}] = "
                                               f"{got[keys.index(bad)]!r} is missing or not a finite number")
            return
        m = len(self._metrics())
        values = [float(v) for v in got[:m]]
        constraints = None if self._constraints is None else [float(v) for v in got[m:]]
        self._opt.tell(params, values if m > 1 else values[0], constraints=constraints)

    # -- checkpointing ------------------------------------------------------------------------
    def get_state(self) -> dict:
        """A picklable dict of everything needed to continue (see ``set_state``)."""
        return {
            "format": "gpu_bo.GpuBoSearch/1",
            "space": None if self._space is None else self._space.to_dict(),
            "template": None if self._tune is None else self._tune,
            "metric": self._metric,
            "mode": self._mode,
            "constraints": self._constraints,
            "points": list(self._points),
            "max_concurrent": self._max_concurrent,
            "seed": self._seed,
            "options": dict(self._options),
            "optimizer": None if self._opt is None else self._opt.state_dict(),
            "live": dict(self._live),
        }

    def set_state(self, state: dict) -> None:
        """Restore what ``get_state`` returned; running trials stay pending in the optimizer."""
        if not isinstance(state, Mapping) or state.get("format") != "gpu_bo.GpuBoSearch/1":
            raise ValueError(
                f"state: got {type(state).__name__} without format 'gpu_bo.GpuBoSearch/1'; "
                "expected what GpuBoSearch.get_state/save produced"
            )
        self._space = None if state["space"] is None else Space.from_dict(state["space"])
        self._tune = state.get("template")
        if self._tune is None and self._space is not None:  # a state saved before conditional spaces
            self._tune = TuneSpace.from_paths(self._space, {k: tuple(v) for k, v in state["paths"].items()},
                                              dict(state["constants"]))
        self._metric, self._mode = state["metric"], state["mode"]
        self._constraints = state.get("constraints")  # absent in states saved before constraints
        self._points = [dict(p) for p in state["points"]]
        self._max_concurrent, self._seed = state["max_concurrent"], state["seed"]
        self._options = dict(state["options"])
        self._live = {k: dict(v) for k, v in state["live"].items()}
        self._opt = None
        if state["optimizer"] is not None:
            opt = self._ensure_optimizer()
            opt.load_state_dict(state["optimizer"])
            _repend(opt, self._space, list(self._live.values()))

    def save(self, checkpoint_path: str) -> None:
        """Pickle the searcher's state to ``checkpoint_path`` (Tune calls this during ``fit``)."""
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path: str) -> None:
        """Load the state written by :meth:`save`."""
        with open(checkpoint_path, "rb") as f:
            self.set_state(pickle.load(f))


def _check_metric(metric: Any) -> str | list[str] | None:
    """``metric`` checked: None, a str, or a list of 2-4 distinct str."""
    if metric is None or isinstance(metric, str):
        return metric
    if not isinstance(metric, Sequence) or not all(isinstance(k, str) for k in metric):
        raise TypeError(f"metric: got {metric!r} ({type(metric).__name__}), expected a str or a list of str")
    keys = list(metric)
    if not 1 <= len(keys) <= MAX_OBJECTIVES or len(set(keys)) != len(keys):
        raise ValueError(f"metric: got {keys!r}, expected 1-{MAX_OBJECTIVES} distinct result keys")
    return keys


def _check_mode(mode: Any) -> str | list[str] | None:
    """``mode`` checked: None, ``"min"``/``"max"``, or a list of them."""
    if mode is None:
        return None
    modes = [mode] if isinstance(mode, str) else list(mode) if isinstance(mode, Sequence) else None
    if modes is None or not modes or any(m not in _MODES for m in modes):
        raise ValueError(f"mode: got {mode!r}, expected 'min' or 'max' (or a list of them, one per metric)")
    return mode if isinstance(mode, str) else modes


def _flat_get(result: Mapping[str, Any], key: str | None) -> Any:
    """``result[key]``, also for ``"a/b"`` keys into nested results (Tune's convention)."""
    if key is None:
        return None
    if key in result:
        return result[key]
    node: Any = result
    for part in key.split("/"):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _repend(opt: Any, space: Space | None, params_list: list[dict[str, Any]]) -> None:
    """Make sure the running trials' points are pending after a state round-trip."""
    pending = getattr(opt, "pending", None)
    have = set()
    if space is not None and pending is not None:
        try:
            have = {space.key(p) for p in pending}
        except Exception:  # noqa: BLE001 - unknown pending representation: re-add all
            have = set()
    for p in params_list:
        if space is None or space.key(p) not in have:
            opt.add_pending(p)
