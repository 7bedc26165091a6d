"""Conditions: when a dimension is active ("which model, then its own parameters").

A dimension built with ``when={parent: value or [values], ...}`` is active only when every parent
is active and takes one of the given values; parents are categorical or integer dimensions, and
a child may itself be a parent (conditions nest). A list or a set names several values; any
other value (a tuple too, since a categorical choice may be a tuple) is one value.

Glossary (shapes in BoTorch's grammar):
    order      the space's names, parents before children (a topological order)
    active     the names a point holds: the unconditional ones and those whose conditions hold
    ... x d    encoded points; an inactive column holds :data:`INACTIVE`, so a point's encoding
               (and its identity key) never depends on a value it does not have
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from gpu_bo.exceptions import SpaceError

__all__ = ["INACTIVE", "When", "as_when", "check_conditions", "active_names", "Plan",
           "fill_inactive", "activate", "describe"]

# the encoded value of an inactive column: the cube's centre, the nearest point to every value
INACTIVE = 0.5


class When:
    """A dimension's condition: ``parent -> the values that make the dimension active``.

    Hashable and comparable (dimensions are frozen dataclasses); reads as a mapping.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Sequence[tuple[str, tuple]]) -> None:
        self._items = tuple((p, tuple(v)) for p, v in items)

    def items(self):
        return self._items

    @property
    def parents(self) -> list[str]:
        return [p for p, _ in self._items]

    def __getitem__(self, parent: str) -> tuple:
        for p, v in self._items:
            if p == parent:
                return v
        raise KeyError(parent)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, When) and self._items == other._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return repr({p: list(v) for p, v in self._items})

    def to_dict(self) -> dict:
        """``{parent: [values]}`` (JSON-able when the values are)."""
        return {p: list(v) for p, v in self._items}


def as_when(when: Any, label: str) -> When | None:
    """Normalize a ``when=`` argument (``None``, a mapping, or a :class:`When`).

    Raises:
        SpaceError: ``when`` is not a mapping, a parent is not a str, or a value list is empty.
    """
    if when is None or isinstance(when, When):
        return when
    if not isinstance(when, Mapping):
        raise SpaceError(f"{label}: when={when!r} ({type(when).__name__}); expected a dict "
                         "{parent: value or [values]}")
    if not when:
        return None
    items = []
    for parent, values in when.items():
        if not isinstance(parent, str):
            raise SpaceError(f"{label}: when has the parent {parent!r}; expected parameter names (str)")
        vals = list(values) if isinstance(values, (list, set, frozenset)) else [values]
        if not vals:
            raise SpaceError(f"{label}: when={{{parent!r}: {values!r}}} names no value; expected at "
                             "least one value of the parent")
        items.append((parent, tuple(vals)))
    return When(items)


def check_conditions(dims: Mapping[str, Any]) -> list[str]:
    """Validate every dimension's condition and return the names parents-first.

    Raises:
        SpaceError: a parent is unknown, is a real dimension, cannot take a named value, is the
            dimension itself, or the conditions form a cycle; the message names the dimension.
    """
    for name, dim in dims.items():
        when = getattr(dim, "when", None)
        if when is None:
            continue
        for parent, values in when.items():
            if parent not in dims:
                raise SpaceError(f"parameter {name!r}: when names the parent {parent!r}, which is not in "
                                 f"the space; expected one of {[n for n in dims if n != name]}")
            if parent == name:
                raise SpaceError(f"parameter {name!r}: when names the parameter itself as its parent")
            pdim = dims[parent]
            if pdim.kind == "real":
                raise SpaceError(f"parameter {name!r}: when names the parent {parent!r}, a Real; "
                                 "expected a Categorical or Integer parent")
            for v in values:
                try:
                    pdim.encode_value(v, parent)
                except SpaceError:
                    raise SpaceError(
                        f"parameter {name!r}: when={{{parent!r}: {v!r}}}, but {parent!r} cannot take "
                        f"{v!r}; expected values of {pdim!r}") from None
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            cycle = path[path.index(n):] + [n]
            raise SpaceError(f"parameter {n!r}: its conditions form a cycle ({' -> '.join(cycle)}); "
                             "expected parents that do not depend on their children")
        state[n] = 1
        when = getattr(dims[n], "when", None)
        for p in (when.parents if when is not None else []):
            visit(p, path + [n])
        state[n] = 2
        order.append(n)

    for n in dims:
        visit(n, [])
    return order


def _holds(pdim: Any, value: Any, values: tuple) -> bool:
    try:
        i = pdim.encode_value(value, "")
        return any(pdim.encode_value(v, "") == i for v in values)
    except SpaceError:
        return False


def active_names(dims: Mapping[str, Any], order: Sequence[str], params: Mapping[str, Any]) -> set[str]:
    """The names active for ``params`` (parents' values read from ``params``).

    A parent missing from ``params`` (or inactive) makes its children inactive.
    """
    active: set[str] = set()
    for n in order:
        when = getattr(dims[n], "when", None)
        if when is None or all(p in active and p in params and _holds(dims[p], params[p], vals)
                               for p, vals in when.items()):
            active.add(n)
    return active


def describe(dims: Mapping[str, Any], name: str) -> str:
    """``"model in ['svc']"``: the condition of ``name`` in words, for error messages."""
    when = dims[name].when
    return " and ".join(f"{p} in {list(v)!r}" for p, v in when.items())


def _column_values(dim: Any, x: torch.Tensor) -> torch.Tensor:
    """The encoded column ``x`` (``...``) of a categorical (-> choice index) or integer (-> value)."""
    if dim.kind == "categorical":
        k = dim.n_bins
        return torch.clamp(torch.floor(x * k), 0, k - 1)
    return dim.values_of(x)


class Plan:
    """A space's conditions compiled for tensors: which columns, parents and target codes.

    Built once per space (the parents' target codes cached per device and dtype), so
    :meth:`mask` is a handful of tensor ops: each parent's codes are computed once however many
    children it has.
    """

    def __init__(self, dims: Mapping[str, Any], order: Sequence[str]) -> None:
        names = list(dims)
        col = {n: i for i, n in enumerate(names)}
        self.d = len(names)
        self.parents = sorted({col[p] for n in names if getattr(dims[n], "when", None) is not None
                               for p in dims[n].when.parents})
        self._pdims = {i: dims[names[i]] for i in self.parents}
        # children in parents-first order: (column, [(parent column, target codes)])
        self.rules = [(col[n], [(col[p], [_target(dims[p], v) for v in vals]) for p, vals in dims[n].when.items()])
                      for n in order if getattr(dims[n], "when", None) is not None]
        self._targets: dict[tuple, list] = {}

    def _want(self, device: torch.device, dtype: torch.dtype) -> list:
        key = (device, dtype)
        if key not in self._targets:
            self._targets[key] = [[(p, torch.tensor(t, dtype=dtype, device=device)) for p, t in conds]
                                  for _, conds in self.rules]
        return self._targets[key]

    def mask(self, X: torch.Tensor) -> torch.Tensor:
        """``... x d`` bool: which encoded columns of ``X`` are active (on X's device)."""
        codes = {i: _column_values(self._pdims[i], X[..., i]) for i in self.parents}
        out = torch.ones(X.shape, dtype=torch.bool, device=X.device)
        for (c, _), conds in zip(self.rules, self._want(X.device, X.dtype)):
            m = None
            for p, want in conds:
                hit = out[..., p] & (codes[p].unsqueeze(-1) == want).any(-1)
                m = hit if m is None else m & hit
            out[..., c] = m
        return out


def _target(pdim: Any, v: Any) -> float:
    # what _column_values gives for the value v: the choice index, or the integer itself
    return float(pdim.index(v, "")) if pdim.kind == "categorical" else float(v)


def fill_inactive(mask: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """``X`` with every column inactive by ``mask`` (``... x d`` bool) set to :data:`INACTIVE`."""
    return torch.where(mask, X, torch.full_like(X, INACTIVE))


def activate(dims: Mapping[str, Any], X: torch.Tensor, names: Sequence[str],
             keep: Sequence[str] = ()) -> torch.Tensor:
    """``X`` (``... x d``, a new tensor) with the ancestors of ``names`` set so that they are active.

    Each parent on the way up is set to the first value its child's condition names, unless it
    is in ``keep`` (a column the caller varies itself). Used to read a conditional parameter's
    effect inside its own branch (partial dependence, importance).
    """
    col = {n: i for i, n in enumerate(dims)}
    X = X.clone()
    todo, done = list(names), set(keep)
    while todo:
        n = todo.pop()
        when = getattr(dims[n], "when", None)
        for p, vals in (when.items() if when is not None else ()):
            if p not in done:
                X[..., col[p]] = dims[p].encode_value(vals[0], p)
                done.add(p)
                todo.append(p)
    return X
