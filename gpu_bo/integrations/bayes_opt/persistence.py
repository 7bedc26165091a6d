"""``save_state`` / ``load_state`` of the facade: bayes_opt's JSON layout, plus gpu_bo's own part.

The file has bayes_opt 3.x's keys (``pbounds``, ``keys``, ``params``, ``target``,
``constraint_values``, ``random_state``, ``acquisition_params``, ...), so a file written by
bayes_opt's ``save_state`` loads here: its points are registered in order, its acquisition
parameters and its numpy random state restored. A file written here adds ``"gpu_bo"``: the failed
points, the queue and the :class:`gpu_bo.Optimizer` state, which a load restores as they were (the
next suggestion is the same). bayes_opt's ``gp_params`` are written for its reader and ignored here
(gpu_bo fits its own GP). Not bayes_opt API.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from gpu_bo.integrations.bayes_opt import acquisition

if TYPE_CHECKING:
    from gpu_bo.integrations.bayes_opt.bayesian_optimization import BayesianOptimization

__all__: list[str] = []

_FORMAT = "gpu_bo.bayes_opt/2"
_BUILTIN = {"ucb": acquisition.UpperConfidenceBound, "ei": acquisition.ExpectedImprovement,
            "pi": acquisition.ProbabilityOfImprovement}


def _rng_state(rng: np.random.RandomState) -> dict[str, Any]:
    st = rng.get_state(legacy=False)
    return {"bit_generator": st["bit_generator"], "state": st["state"]["key"].tolist(), "pos": st["state"]["pos"],
            "has_gauss": st["has_gauss"], "cached_gaussian": st["gauss"]}


def _set_rng(rng: np.random.RandomState, st: dict[str, Any]) -> None:
    rng.set_state((st["bit_generator"], np.asarray(st["state"], dtype=np.uint32), st["pos"], st["has_gauss"],
                   st["cached_gaussian"]))


def state_of(bo: BayesianOptimization) -> dict[str, Any]:
    """The JSON-serializable state of a facade optimizer."""
    sp = bo._space
    acq = bo._acq.get_acquisition_params()
    opt = bo._optimizer()
    return {
        "pbounds": {k: np.asarray(sp._global_bounds[m]).ravel().tolist() for k, m in sp.masks.items()},
        "transformed_bounds": sp.bounds.tolist() if bo._bounds_transformer is not None else None,
        "keys": sp.keys,
        "params": sp.params.tolist(),
        "target": sp.target.tolist(),
        "constraint_values": None if sp._constraint_values is None else sp._constraint_values.tolist(),
        "gp_params": {"kernel": {"length_scale": 1.0, "length_scale_bounds": [1e-05, 100000.0], "nu": 2.5},
                      "alpha": 1e-06, "normalize_y": True, "n_restarts_optimizer": 5},
        "allow_duplicate_points": bo._allow_duplicate_points,
        "verbose": bo._verbose,
        "random_state": _rng_state(bo._random_state),
        "acquisition_params": acq,
        "gpu_bo": {
            "format": _FORMAT,
            "log": [[p, t, c, e] for p, t, c, e in sp._log],
            "queue": [q if isinstance(q, dict) else np.asarray(q, dtype=float).tolist() for q in bo._queue],
            "bounds": sp.bounds.tolist(),
            "optimizer": opt.state_dict(),
            "n_builds": bo._n_builds,
        },
    }


def load_into(bo: BayesianOptimization, state: Any, where: str) -> None:
    """Restore ``state`` (bayes_opt's or this facade's) into ``bo``, built with the same pbounds."""
    if not isinstance(state, dict) or not {"keys", "params", "target"} <= set(state):
        raise ValueError(f"load_state: {where!r} is not a state written by save_state (bayes_opt's or gpu_bo's): "
                         "expected the keys 'keys', 'params' and 'target'")
    sp = bo._space
    if list(state["keys"]) != sp.keys:
        raise ValueError(f"load_state: the saved keys {state['keys']} differ from this optimizer's {sp.keys}")
    own = state.get("gpu_bo")
    if own is not None and own.get("format") != _FORMAT:
        raise ValueError(f"load_state: {where!r} has gpu_bo format {own.get('format')!r}, expected {_FORMAT!r}")
    saved = np.asarray(state.get("pbounds") and [state["pbounds"][k] for k in sp.keys], dtype=object)
    mine = [np.asarray(sp._global_bounds[m]).ravel().tolist() for m in sp.masks.values()]
    if state.get("pbounds") and [list(map(float, b)) for b in saved] != [list(map(float, b)) for b in mine]:
        raise ValueError(f"load_state: the saved pbounds {state['pbounds']} differ from this optimizer's "
                         f"{dict(zip(sp.keys, mine))}")
    verbose = bo.logger.verbose
    bo.logger.verbose = 0
    try:
        if own is not None:
            for p, t, c, e in own["log"]:
                sp.register(p, t, c, error=e)
            bo._queue = deque(own["queue"])
        else:  # bayes_opt's file: its points in order
            cvs = state.get("constraint_values")
            for i, row in enumerate(state["params"]):
                sp.register(np.asarray(row, dtype=float), state["target"][i], None if cvs is None else cvs[i])
    finally:
        bo.logger.verbose = verbose
    a = state.get("acquisition_params")
    if a:
        if a.get("kind") in _BUILTIN and a["kind"] != getattr(bo._acq, "kind", None) and bo._acq.kind in _BUILTIN:
            bo._acq = _BUILTIN[a["kind"]]()  # a built-in acquisition is restored as the one saved
        bo._acq.set_acquisition_params(a)
    bounds = (own or {}).get("bounds") or state.get("transformed_bounds")
    if bounds is not None and not np.array_equal(np.asarray(bounds), sp.bounds):
        sp.set_bounds({k: np.asarray(bounds)[np.argmax(m)] for k, m in sp.masks.items() if m.sum() == 1})
        if bo._bounds_transformer is not None:
            bo._bounds_transformer.initialize(sp)
    if state.get("random_state"):
        _set_rng(bo._random_state, state["random_state"])
    if own is not None:
        bo._n_builds = int(own["n_builds"]) - 1
        bo._opt = None
        opt = bo._optimizer()
        opt.load_state_dict(own["optimizer"])
        bo._n_told = len(sp._log)
