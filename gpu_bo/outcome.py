"""What a told value (or an objective's return value) means: the one rule, for every caller.

A value is a number (one objective), a sequence of numbers (one per objective) or a mapping
``{"value": number | [numbers], "constraints": [numbers]}`` (DESIGN.md, "Contract for the next
capabilities"). A trial is COMPLETE when every value and every constraint value is a finite
number (:func:`gpu_bo.study.is_valid_value`), else FAILED; it is feasible iff every constraint
value is ``<= 0``. A value of the wrong shape (two numbers for one objective, a constraint list
of another length than before) is a usage error: :func:`parse_outcome` raises a ValueError that
says what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gpu_bo.study import is_valid_value

__all__ = ["Outcome", "parse_outcome", "short_repr"]

_KEYS = ("value", "constraints")


@dataclass(frozen=True)
class Outcome:
    """A parsed value.

    Attributes:
        values: one float per objective, or None when the trial FAILED.
        constraints: one float per constraint (None: none given, or the trial FAILED).
        error: why the trial FAILED (None when COMPLETE).
    """

    values: list[float] | None
    constraints: list[float] | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True for a COMPLETE outcome."""
        return self.values is not None


def short_repr(raw: Any, limit: int = 200) -> str:
    """``repr(raw)`` cut to ``limit`` characters (and never raising)."""
    try:
        text = repr(raw)
    except Exception as e:  # noqa: BLE001 - a broken __repr__ (or an int past Python's digit limit)
        text = f"<{type(raw).__name__}: repr failed: {e}>"
    return text if len(text) <= limit else f"{text[:limit]}... ({type(raw).__name__}, {len(text)} chars)"


def _is_seq(x: Any) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, (str, bytes, bytearray)) or (
        hasattr(x, "tolist") and getattr(x, "ndim", 0) == 1)


def _numbers(raw: Any, n: int | None, label: str) -> tuple[list[Any], bool]:
    """``raw`` as a list of ``n`` entries (``n`` None: any length >= 1), and whether it was a scalar."""
    if _is_seq(raw):
        items = list(raw.tolist() if hasattr(raw, "tolist") else raw)
        scalar = False
    else:
        items, scalar = [raw], True
    if n is not None and len(items) != n:
        got = "one value" if scalar or len(items) == 1 else f"{len(items)} values"
        if label == "constraints":
            want = f"a list of {n} numbers (one per constraint, as in the earlier tells)"
        else:
            want = "a finite number" if n == 1 else f"a list of {n} finite numbers"
        raise ValueError(f"{label}: got {got} ({short_repr(raw)}); expected {want}"
                         + (" (one per objective)" if label == "value" and n > 1 else ""))
    if not items:
        raise ValueError(f"{label}: got an empty list {raw!r}; expected at least one number")
    return items, scalar


def parse_outcome(raw: Any, constraints: Any = None, n_objectives: int = 1,
                  n_constraints: int | None = None) -> Outcome:
    """Turn a told value (and its constraints) into an :class:`Outcome`.

    Args:
        raw: a number, a sequence of ``n_objectives`` numbers, or a mapping with ``"value"``
            and optionally ``"constraints"``. None, NaN, infinities and non-numbers (a str
            included) make the outcome FAILED.
        constraints: the constraint values, when not inside ``raw``'s mapping (None: none).
        n_objectives: how many values a COMPLETE outcome has.
        n_constraints: how many constraint values are expected (None: any number; fixed by
            the caller after the first outcome that has some).

    Raises:
        ValueError: the value or the constraints have the wrong shape, a mapping has other
            keys than ``"value"`` and ``"constraints"``, or constraints come twice.
    """
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in _KEYS]
        if unknown or "value" not in raw:
            raise ValueError(f"value: got a mapping with keys {list(raw)}; expected {{'value': number or "
                             "[numbers], 'constraints': [numbers]}} ('constraints' optional)")
        if constraints is not None and raw.get("constraints") is not None:
            raise ValueError("constraints: given both inside the value's mapping and as constraints=; give them once")
        constraints = raw.get("constraints", constraints)
        raw = raw["value"]
    if raw is None:  # FAILED by the caller's word, whatever its shape
        return Outcome(None, None, "objective returned None (NoneType); expected a finite number"
                       + ("" if n_objectives == 1 else f" per objective ({n_objectives})"))
    items, _ = _numbers(raw, n_objectives, "value")
    cons = None
    bad = [v for v in items if not is_valid_value(v)]
    if constraints is not None:
        cons, _ = _numbers(constraints, n_constraints, "constraints")
    elif n_constraints is not None and not bad:  # a failed value needs no constraints
        raise ValueError(f"constraints: got none; expected {n_constraints} constraint values (the study's "
                         "earlier trials had them)")
    if bad:
        if n_objectives == 1:
            return Outcome(None, None, f"objective returned {short_repr(raw)} ({type(raw).__name__}); "
                                       "expected a finite number")
        return Outcome(None, None, f"objective returned {short_repr(raw)}: {short_repr(bad[0])} "
                                   f"({type(bad[0]).__name__}) is not a finite number; expected {n_objectives} "
                                   "finite numbers")
    if cons is not None and not all(map(is_valid_value, cons)):
        return Outcome(None, None, f"constraints {short_repr(constraints)} contain a value that is not a finite "
                                   "number; the trial is FAILED")
    return Outcome([float(v) for v in items], None if cons is None else [float(c) for c in cons])
