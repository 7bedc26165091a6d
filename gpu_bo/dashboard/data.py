"""JSON views of the studies in a storage: what the dashboard's endpoints return.

Every view is a plain dict of JSON values (no NaN: a missing number is ``null``), built from the
:class:`~gpu_bo.storage.Storage` interface only, so any registered store can be shown. Nothing
here writes to the store.

A trial is sent in a compact form, one short key per field, since a study of many thousand
trials is sent whole when its page opens:
``{"n": number, "s": state, "v": values or null, "p": params, "t0": start, "t1": end or null,
"e": error or null, "i": [[step, value], ...], "c": constraints or null, "f": feasible}``
(``c`` is ``trial.constraints``, else a ``"constraints"`` user attribute; ``f`` is false only for a
trial with a constraint value ``> 0``).
"""

from __future__ import annotations

import math
from typing import Any

from gpu_bo.storage import Storage
from gpu_bo.study import Direction, Study, Trial, TrialState

__all__ = ["trial_json", "study_list", "study_view", "updates_view", "importance_view", "importance_of"]


def _num(x: Any) -> float | None:
    """A finite float, else None (JSON has no NaN or infinity)."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _plain(v: Any) -> Any:
    """A parameter value as JSON: numbers, str, bool, None; anything else (a tuple choice) as its str."""
    if v is None or isinstance(v, (bool, str, int)):
        return v
    if isinstance(v, float):
        return _num(v)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return str(v)


def trial_json(t: Trial) -> dict[str, Any]:
    """The compact JSON form of one trial (see the module docstring)."""
    constraints = t.constraints
    if constraints is None and isinstance(t.user_attrs, dict):
        constraints = t.user_attrs.get("constraints")
    return {
        "n": t.number,
        "s": t.state.value,
        "v": None if t.values is None else [_num(v) for v in t.values],
        "p": {k: _plain(v) for k, v in t.params.items()},
        "t0": _num(t.start_time),
        "t1": _num(t.end_time),
        "e": t.error,
        "i": sorted([int(k), _num(v)] for k, v in t.intermediate.items()),
        "c": None if constraints is None else [_num(c) for c in constraints],
        "f": t.feasible,
    }


def _best(trials: list[Trial], directions: tuple[str, ...]) -> float | None:
    """The best first-objective value of the feasible completed trials (None when there is none)."""
    d = Direction.parse(directions[0])
    vals = [t.values[0] for t in trials if t.state == TrialState.COMPLETE and t.values and t.feasible]
    vals = [v for v in vals if _num(v) is not None]
    return None if not vals else d.best(vals)


def study_list(store: Storage) -> list[dict[str, Any]]:
    """One summary per study: name, directions, trial counts by state, best value, last update."""
    out = []
    for name in store.list_studies():
        info = store.study_info(name)
        trials = store.load_study(name).trials
        states = {s.value: 0 for s in TrialState}
        for t in trials:
            states[t.state.value] += 1
        times = [x for t in trials for x in (t.start_time, t.end_time) if _num(x) is not None]
        out.append({
            "name": name,
            "directions": list(info.directions),
            "states": states,
            "n_trials": len(trials),
            "best": None if len(info.directions) > 1 else _num(_best(trials, info.directions)),
            "last_update": max(times) if times else None,
        })
    return out


def study_view(store: Storage, name: str) -> dict[str, Any]:
    """The whole study: directions, space, every trial (compact form) and the change counter.

    Raises:
        StorageError: no study ``name`` in ``store``.
    """
    info = store.study_info(name)
    trials, seq = store.trials_since(name, 0)
    return {
        "name": name,
        "directions": list(info.directions),
        "space": info.space,
        "params": _param_names(info.space, trials),
        "trials": [trial_json(t) for t in sorted(trials, key=lambda t: t.number)],
        "seq": seq,
    }


def _param_names(space: dict | None, trials: list[Trial]) -> list[str]:
    """The space's parameter order, else the order they first appear in the trials."""
    if space:
        return list(space)
    names: list[str] = []
    for t in trials:
        names += [k for k in t.params if k not in names]
    return names


def updates_view(store: Storage, name: str, seq: int) -> dict[str, Any]:
    """The trials written since change counter ``seq``, and the counter to ask with next."""
    trials, new_seq = store.trials_since(name, seq)
    return {"trials": [trial_json(t) for t in sorted(trials, key=lambda t: t.number)], "seq": new_seq}


def importance_view(store: Storage, name: str, objective: int = 0) -> dict[str, Any]:
    """:func:`importance_of` the study ``name`` of ``store``."""
    info = store.study_info(name)
    return importance_of(store.load_study(name), info.space, objective)


def importance_of(study: Study, space_spec: dict | None, objective: int = 0) -> dict[str, Any]:
    """``{"available": bool, "shares": {param: share} | None, "reason": str | None}``.

    When the importance cannot be computed (e.g. too few completed trials) the chart says why.

    Args:
        study: the study (its trials).
        space_spec: its search space as ``Space.to_dict()`` (``None``: inferred from the trials).
        objective: which objective (0-based) of a multi-objective study.
    """
    from gpu_bo.importance import importance
    from gpu_bo.space import Space

    space = None if space_spec is None else Space.from_dict(space_spec)
    try:
        shares = importance(study, space=space, objective=objective, seed=0)
    except (ValueError, RuntimeError) as e:  # too few completed trials, or a fit that failed
        return {"available": False, "shares": None, "reason": str(e).splitlines()[0] if str(e) else type(e).__name__}
    return {"available": True, "shares": {k: _num(v) for k, v in shares.items()}, "reason": None}
