"""A conditional :class:`~gpu_bo.space.Space` learned from the parameters trials actually used.

Define-by-run objectives (``trial.suggest_float(...)`` inside ``if model == "svc":``) and Optuna
studies never state their conditions; they show them: a parameter appears in some trials and not
in others. :func:`infer_space` turns those observations into ``when=`` conditions:

* a parameter used by every trial is unconditional;
* otherwise its parent is a categorical or integer parameter that every trial using it had set
  *before* it (call order, so no cycle can arise), and whose values in those trials make it
  appear every time the parent takes them; of several such parents one that tells something wins
  over a co-active one (a sibling that appears exactly when the parameter does: the parameter then
  shares the sibling's own condition), a categorical over an integer, and then the nearest (latest
  set), so ``model -> kernel -> degree`` nests;
* a parameter no parent explains (it hangs on a real value, or on luck) stays unconditional and is
  reported in ``unexplained``: callers fill it in when a trial did not use it.

A parent value never seen with the child leaves the child inactive for it; the first trial that
takes that value and uses the child shows the condition, and the next inference includes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from gpu_bo.categorical import Categorical
from gpu_bo.space import Space

__all__ = ["infer_space"]

Observation = Sequence[tuple[str, Any]]  # (name, value) in the order the trial set them


def _with_when(dim: Any, when: dict | None) -> Any:
    if isinstance(dim, Categorical):
        return Categorical(dim.choices, name=dim.name, when=when)
    return replace(dim, when=when)


def _same(dim: Any, a: Any, b: Any) -> bool:
    return dim.encode_value(a, "") == dim.encode_value(b, "")


def infer_space(dims: Mapping[str, Any], observations: Sequence[Observation]) -> tuple[Space, set[str]]:
    """The conditional space the observations show, and the names no condition explains.

    Args:
        dims: name -> dimension (without conditions), in the order the names were first seen.
        observations: per trial, its ``(name, value)`` pairs in the order the trial set them
            (every value valid for its dimension).

    Returns:
        ``(space, unexplained)``: the space with a ``when=`` on every parameter some trials did
        not use and a parent explains; ``unexplained`` holds the others (unconditional here).
    """
    rows = [dict(obs) for obs in observations]
    pos = [{n: i for i, (n, _) in enumerate(obs)} for obs in observations]
    out: dict[str, Any] = {}
    unexplained: set[str] = set()
    for name, dim in dims.items():
        users = [t for t, r in enumerate(rows) if name in r]
        if len(users) == len(rows) or not users:
            out[name] = _with_when(dim, None)
            if not users:
                unexplained.add(name)
            continue
        # (rank, parent, values): rank prefers a parent that tells something (not co-active,
        # see below), then a categorical one, then the nearest (latest set)
        best: tuple[tuple, str, list] | None = None
        for parent, pdim in dims.items():
            if parent == name or pdim.kind == "real":
                continue
            if not all(parent in rows[t] and pos[t][parent] < pos[t][name] for t in users):
                continue
            values: list = []
            for t in users:
                v = rows[t][parent]
                if not any(_same(pdim, v, w) for w in values):
                    values.append(v)
            # the child appears every time the parent takes one of these values
            if any(parent in r and name not in r and any(_same(pdim, r[parent], w) for w in values)
                   for r in rows):
                continue
            # co-active: the child appears whenever the parent does (a sibling in the same branch,
            # e.g. an integer set just before it): its values say nothing, the child shares the
            # parent's own condition instead
            coactive = all(name in r for r in rows if parent in r)
            rank = (not coactive, pdim.kind == "categorical", min(pos[t][parent] for t in users))
            if best is None or rank > best[0]:
                best = (rank, parent, values)
        if best is None:
            out[name] = _with_when(dim, None)
            unexplained.add(name)
        elif not best[0][0] and best[1] in out:  # co-active only: inherit the parent's condition
            parent_when = out[best[1]].when
            out[name] = _with_when(dim, None if parent_when is None else parent_when.to_dict())
            if parent_when is None:
                unexplained.add(name)
        else:
            out[name] = _with_when(dim, {best[1]: list(best[2])})
    return Space(out), unexplained
