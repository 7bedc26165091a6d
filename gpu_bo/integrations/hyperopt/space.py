"""A nested hyperopt space (dicts, lists, tuples, constants and :mod:`.hp` expressions) as a
conditional ``gb.Space``, and a point of that space back as the nested sample.

Glossary:
    expr     the space as the user wrote it
    params   a point of the ``gb.Space``: ``{label: value}`` for the active labels only
    vals     hyperopt's stored form, ``{label: value}`` (a choice's value is its index)
    sample   what the objective receives: the nested structure with every expression replaced,
             built as hyperopt's pyll does: lists become tuples, dict keys come sorted

A label inside option ``i`` of ``hp.choice(c, ...)`` gets ``when={c: i}``; the one condition
on the innermost choice is enough, since gpu_bo's conditions nest (a child of an inactive parent
is inactive). An expression object used in several options of one choice is active when any
of them is chosen (``when={c: [i, j]}``), as hyperopt evaluates shared nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpu_bo.categorical import Categorical
from gpu_bo.exceptions import SpaceError
from gpu_bo.integrations.hyperopt.base import DuplicateLabel
from gpu_bo.integrations.hyperopt.hp import Cast, Choice, Expr
from gpu_bo.space import Space

__all__ = ["CompiledSpace", "compile_space", "space_eval"]

_SEQ = (list, tuple)


def _foreign(node: Any) -> Any:
    """hyperopt's ``scope.int(e)`` / ``scope.float(e)`` of one of our expressions as a :class:`Cast`;
    None for anything else that is not hyperopt's; a TypeError for the rest of pyll."""
    mod = type(node).__module__ or ""
    if not mod.startswith("hyperopt"):
        return None
    args = getattr(node, "pos_args", None) or []
    if getattr(node, "name", None) in ("int", "float") and len(args) == 1 and not getattr(node, "named_args", None):
        inner = getattr(args[0], "obj", None)
        if isinstance(inner, Expr):
            return Cast(node.name, inner)
    raise TypeError(
            f"space: got hyperopt's own expression {node!r} ({type(node).__name__}); build the space "
            "with gpu_bo.integrations.hyperopt.hp (uniform, loguniform, quniform, qloguniform, "
            "uniformint, randint, choice): pyll graphs and scope.* arithmetic (sums, products, "
            "scope.exp, ...) cannot become a gb.Space; apply them to the sample in your objective "
            "instead (scope.int and scope.float of one of our hp expressions are supported)")


class CompiledSpace:
    """A hyperopt space with its conditional ``gb.Space``.

    Args:
        expr: the space as written (an expression, or dicts/lists/tuples holding them).

    Raises:
        DuplicateLabel: two different expressions share a label.
        SpaceError: the space holds no expression, or one expression sits under two choices.
        TypeError: the space holds hyperopt's own pyll expressions.
    """

    def __init__(self, expr: Any) -> None:
        self.expr = expr
        self.nodes: dict[str, Expr] = {}
        self._where: dict[str, tuple | None] = {}  # label -> None (always) or (choice, {indices})
        self._walk(expr, None, set())
        if not self.nodes:
            raise SpaceError(f"space: {expr!r} holds no hp expression; expected at least one "
                             "(e.g. hp.uniform('x', 0, 1))")
        dims = {}
        for label, node in self.nodes.items():
            where = self._where[label]
            when = None if where is None else {where[0]: sorted(where[1])}
            if isinstance(node, Choice):
                dims[label] = Categorical(list(range(len(node.options))), name=label, when=when)
            else:
                dims[label] = type(node.dim)(**{**_fields(node.dim), "when": when})
        self.space = Space(dims)

    # -- building --------------------------------------------------------------------------
    def _walk(self, node: Any, where: tuple | None, path: set[int]) -> None:
        node = _foreign(node) or node
        if isinstance(node, Cast):
            self._walk(node.inner, where, path)
        elif isinstance(node, Expr):
            self._register(node, where)
            if isinstance(node, Choice):
                if id(node) in path:
                    raise SpaceError(f"space: hp.choice({node.label!r}) holds itself; expected a tree")
                for i, opt in enumerate(node.options):
                    self._walk(opt, (node.label, i), path | {id(node)})
        elif isinstance(node, Mapping):
            for v in node.values():
                self._walk(v, where, path)
        elif isinstance(node, _SEQ):
            for v in node:
                self._walk(v, where, path)

    def _register(self, node: Expr, where: tuple | None) -> None:
        label = node.label
        old = self.nodes.get(label)
        if old is None:
            self.nodes[label] = node
            self._where[label] = None if where is None else (where[0], {where[1]})
            return
        if old is not node:
            raise DuplicateLabel(f"space: label {label!r} is used by two different expressions ({old!r} "
                                 f"and {node!r}); expected one label per expression (reuse the object "
                                 "itself to share it)")
        prev = self._where[label]
        if prev is None or where is None:
            self._where[label] = None
        elif prev[0] == where[0]:
            prev[1].add(where[1])
        else:
            raise SpaceError(
                f"space: expression {label!r} sits under hp.choice({prev[0]!r}) and hp.choice({where[0]!r}); "
                "a gpu_bo condition cannot say 'active under either'; expected it under one choice "
                "(or give each place its own label)")

    # -- conversions -----------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        """Every label, sorted (the key order of hyperopt's ``misc.vals``)."""
        return sorted(self.nodes)

    def vals_of(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The stored form ``{label: value}`` of a point (active labels only)."""
        return {k: self.nodes[k].stored_value(v) for k, v in params.items()}

    def params_of(self, vals: Mapping[str, Any], where: str = "vals", validate: bool = True) -> dict[str, Any]:
        """The ``gb.Space`` point of stored values (extra labels are ignored, as ``space_eval`` does).

        Args:
            vals: ``{label: value}`` or hyperopt's ``{label: [value] or []}``.
            where: what ``vals`` is, for messages.
            validate: check each value against its expression too.

        Raises:
            SpaceError: an active label is missing or (``validate``) a value is outside its expression.
        """
        flat = {}
        for k, v in vals.items():
            if isinstance(v, _SEQ):
                if not v:
                    continue
                v = v[0]
            if k in self.nodes:
                flat[k] = v
        params: dict[str, Any] = {}
        for name in self.space.order:
            if name not in self.space.active_names(params):
                continue
            if name not in flat:
                raise SpaceError(f"{where}: {dict(vals)!r} has no value for the active label {name!r}")
            try:
                params[name] = self.nodes[name].gb_value(flat[name])
            except (TypeError, ValueError):
                raise SpaceError(f"{where}: label {name!r} holds {flat[name]!r}; expected a number") from None
        if validate:
            self.space.validate(params)
        return params

    def misc_vals(self, params: Mapping[str, Any]) -> dict[str, list]:
        """hyperopt's ``misc.vals``: ``{label: [value]}`` for the active labels, ``[]`` for the rest."""
        vals = self.vals_of(params)
        return {k: ([vals[k]] if k in vals else []) for k in self.labels}

    def sample(self, vals: Mapping[str, Any]) -> Any:
        """The nested sample the objective receives, from stored values (see :meth:`params_of`)."""
        return _build(self.expr, {k: (v[0] if isinstance(v, _SEQ) and v else v) for k, v in vals.items()
                                  if not (isinstance(v, _SEQ) and not v)})


def _fields(dim: Any) -> dict:
    return {"low": dim.low, "high": dim.high, "log": dim.log, "name": dim.name, "step": dim.step}


def _build(node: Any, vals: Mapping[str, Any]) -> Any:
    node = _foreign(node) or node
    if isinstance(node, Cast):
        return node.cast(_build(node.inner, vals))
    if isinstance(node, Expr):
        if node.label not in vals:
            raise SpaceError(f"space_eval: no value for the label {node.label!r}; got {sorted(vals)}")
        v = node.sample_value(vals[node.label])
        if isinstance(node, Choice):
            if not 0 <= v < len(node.options):
                raise SpaceError(f"space_eval: hp.choice({node.label!r}) got index {v}; expected 0 to "
                                 f"{len(node.options) - 1}")
            return _build(node.options[v], vals)
        return v
    if isinstance(node, Mapping):
        try:  # pyll sorts a dict's items; keys that do not sort keep their order
            keys = sorted(node)
        except TypeError:
            keys = list(node)
        return {k: _build(node[k], vals) for k in keys}
    if isinstance(node, _SEQ):
        return tuple(_build(v, vals) for v in node)  # pyll's pos_args: a list comes back a tuple
    return node


def compile_space(expr: Any) -> CompiledSpace:
    """The :class:`CompiledSpace` of ``expr`` (itself if it already is one).

    Args:
        expr: a hyperopt space written with :mod:`.hp`.
    """
    return expr if isinstance(expr, CompiledSpace) else CompiledSpace(expr)


def space_eval(space: Any, hp_assignment: Mapping[str, Any]) -> Any:
    """The nested sample of ``space`` at ``hp_assignment`` (hyperopt's ``space_eval``).

    Args:
        space: the space given to ``fmin``.
        hp_assignment: ``{label: value}``, e.g. ``fmin``'s result (a choice's value is its index);
            labels the chosen branches do not use are ignored.

    Raises:
        SpaceError: a label the chosen branches need is missing.
    """
    return compile_space(space).sample(hp_assignment)
