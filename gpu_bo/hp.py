"""Hyperopt-style helpers that build gpu_bo search-space dimensions.

Many users (and many tutorials) write spaces the hyperopt way::

    from gpu_bo import hp
    space = hp.to_space({
        "C": hp.loguniform("C", -3, 3),          # exp(U(-3, 3)), as in hyperopt
        "n_estimators": hp.quniform("n_estimators", 50, 500, 50),
        "kernel": hp.choice("kernel", ["rbf", "linear"]),
    })

Each helper returns a plain :class:`~gpu_bo.space.Real`, :class:`~gpu_bo.space.Integer` or
:class:`~gpu_bo.space.Categorical` (or :class:`QUniform` for stepped values), so the result can
be put straight into a ``gb.Space`` dict, next to gpu_bo's own dimensions.

Semantics follow hyperopt where that is well defined:

* ``loguniform(name, low, high)`` takes ``low``/``high`` in **log space** (the value is
  ``exp(uniform(low, high))``), exactly as hyperopt does.
* ``quniform(name, low, high, q)`` keeps its step: values are ``k * q`` for integers ``k``.
  Unlike hyperopt, whose ``round(U(low, high) / q) * q`` may step just outside ``[low, high]``,
  the values here stay inside the bounds (``k`` runs from ``ceil(low / q)`` to
  ``floor(high / q)``). When ``low``, ``high`` and ``q`` are all whole numbers the values are
  returned as ``int`` (handy for ``n_estimators``); otherwise as ``float``.
* ``randint(name, upper)`` or ``randint(name, low, high)`` draws from ``[low, high)``
  (hyperopt's half-open convention).
* ``choice(name, options)`` yields the chosen option itself (hyperopt's ``space_eval`` view),
  not its index. Options must be hashable; nested sub-spaces are not supported.

Unbounded distributions (``hp.normal``, ``hp.lognormal``) have no bounded counterpart for a GP
on the unit cube and are not provided.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gpu_bo.exceptions import SpaceError
from gpu_bo.space import Categorical, Integer, Real, Space

__all__ = ["uniform", "loguniform", "quniform", "qloguniform", "randint", "choice",
           "QUniform", "to_space"]


def _check_name(name: Any, fn: str) -> str:
    if not isinstance(name, str) or not name:
        raise SpaceError(f"hp.{fn}: name={name!r}; expected a non-empty str label")
    return name


def _check_number(v: Any, what: str, fn: str, name: str) -> float:
    if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(float(v)):
        raise SpaceError(f"hp.{fn}({name!r}): {what}={v!r}; expected a finite number")
    return float(v)


def _is_whole(v: float) -> bool:
    return float(v).is_integer()


@dataclass(frozen=True)
class QUniform(Integer):
    """Values ``k * q`` for whole ``k`` in ``[low, high]``: an :class:`Integer` over the step index.

    The surrogate and the maximizer see an integer column (the index ``k``), so the GP keeps
    the order of the values and every suggestion is on the grid. ``low``/``high`` of the
    underlying Integer are the index bounds; ``value_low``/``value_high`` are the values.

    Build it with :func:`quniform` / :func:`qloguniform` rather than directly.
    """

    q: float = 1.0
    as_int: bool = False

    kind = "integer"

    def __post_init__(self) -> None:
        if not (isinstance(self.q, numbers.Real) and math.isfinite(self.q) and self.q > 0):
            raise SpaceError(f"QUniform{_label(self)}: q={self.q!r}; expected a positive number")
        super().__post_init__()

    @property
    def value_low(self) -> float | int:
        return self._value(self.low)

    @property
    def value_high(self) -> float | int:
        return self._value(self.high)

    def _value(self, k: int) -> float | int:
        v = k * self.q
        # round away binary noise such as 3 * 0.1 = 0.30000000000000004
        return int(round(v)) if self.as_int else round(v, 12)

    def encode_value(self, v: Any, pname: str) -> float:
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))
        k = round(float(v) / self.q) if ok else None
        if not ok or abs(k * self.q - float(v)) > 1e-9 * max(1.0, abs(float(v))) \
                or not self.low <= k <= self.high:
            raise SpaceError(
                f"parameter {pname!r}: got {v!r}, expected a multiple of q={self.q} in "
                f"[{self.value_low}, {self.value_high}]"
            )
        return super().encode_value(int(k), pname)

    def decode_value(self, x: float) -> float | int:
        return self._value(super().decode_value(x))

    def plain(self, v: Any) -> float | int:
        """A valid value as a plain int (whole steps) or float, unchanged otherwise."""
        return int(round(float(v))) if self.as_int else float(v)

    def to_dict(self) -> dict:
        # The plain Real/Integer form over the same value range, without the step: Space.from_dict
        # does not know steps, and Optimizer.load_state_dict / storage resume compare
        # ``from_dict(d).to_dict()`` with this dict, so an extra "q" key would make them refuse
        # the state. The step itself lives in the QUniform object the user builds.
        return {"type": "integer" if self.as_int else "real", "low": self.value_low,
                "high": self.value_high, "log": self.log}

    def __repr__(self) -> str:
        return (f"QUniform(low={self.value_low}, high={self.value_high}, q={self.q}, "
                f"log={self.log})")


def _label(dim: Any) -> str:
    return f" {dim.name!r}" if getattr(dim, "name", None) else ""


def uniform(name: str, low: float, high: float) -> Real:
    """A real value drawn uniformly from ``[low, high]``."""
    _check_name(name, "uniform")
    return Real(_check_number(low, "low", "uniform", name), _check_number(high, "high", "uniform", name),
                name=name)


def loguniform(name: str, low: float, high: float) -> Real:
    """``exp(uniform(low, high))``: a log-scale real in ``[exp(low), exp(high)]``.

    As in hyperopt, ``low`` and ``high`` are the *logarithms* of the bounds
    (``loguniform("C", -3, 3)`` spans ``[0.0498, 20.09]``).
    """
    _check_name(name, "loguniform")
    lo = _check_number(low, "low", "loguniform", name)
    hi = _check_number(high, "high", "loguniform", name)
    return Real(math.exp(lo), math.exp(hi), log=True, name=name)


def _stepped(name: str, lo_v: float, hi_v: float, q: Any, log: bool, fn: str, whole: bool) -> QUniform:
    qv = _check_number(q, "q", fn, name)
    if qv <= 0:
        raise SpaceError(f"hp.{fn}({name!r}): q={q!r}; expected a positive step")
    k_lo = math.ceil(lo_v / qv - 1e-9)
    k_hi = math.floor(hi_v / qv + 1e-9)
    if log:
        k_lo = max(k_lo, 1)
    if k_hi <= k_lo:
        raise SpaceError(
            f"hp.{fn}({name!r}): [{lo_v}, {hi_v}] holds fewer than two multiples of q={q}; "
            "expected a wider range or a smaller q"
        )
    return QUniform(k_lo, k_hi, log=log, name=name, q=qv, as_int=whole)


def quniform(name: str, low: float, high: float, q: float) -> QUniform:
    """``k * q`` for whole ``k`` with ``low <= k * q <= high`` (the step ``q`` is kept).

    Values are ``int`` when ``low``, ``high`` and ``q`` are all whole numbers, else ``float``.
    """
    _check_name(name, "quniform")
    lo = _check_number(low, "low", "quniform", name)
    hi = _check_number(high, "high", "quniform", name)
    if not lo < hi:
        raise SpaceError(f"hp.quniform({name!r}): low={low!r} must be < high={high!r}")
    whole = all(_is_whole(_check_number(v, w, "quniform", name)) for v, w in ((low, "low"), (high, "high"), (q, "q")))
    return _stepped(name, lo, hi, q, False, "quniform", whole)


def qloguniform(name: str, low: float, high: float, q: float) -> QUniform:
    """``k * q`` on a log scale within ``[exp(low), exp(high)]`` (``low``/``high`` in log space)."""
    _check_name(name, "qloguniform")
    lo = _check_number(low, "low", "qloguniform", name)
    hi = _check_number(high, "high", "qloguniform", name)
    if not lo < hi:
        raise SpaceError(f"hp.qloguniform({name!r}): low={low!r} must be < high={high!r}")
    whole = _is_whole(_check_number(q, "q", "qloguniform", name))
    return _stepped(name, math.exp(lo), math.exp(hi), q, True, "qloguniform", whole)


def randint(name: str, low: int, high: int | None = None) -> Integer:
    """An integer from ``[0, upper)`` (``randint(name, upper)``) or ``[low, high)``."""
    _check_name(name, "randint")
    if high is None:
        low, high = 0, low
    for v, w in ((low, "low"), (high, "high")):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise SpaceError(f"hp.randint({name!r}): {w}={v!r}; expected an int")
    if high - low < 2:
        raise SpaceError(
            f"hp.randint({name!r}): [{low}, {high}) holds fewer than two integers; expected high >= low + 2"
        )
    return Integer(int(low), int(high) - 1, name=name)


def choice(name: str, options: Sequence[Hashable]) -> Categorical:
    """One of ``options`` (the option itself is returned, not its index)."""
    _check_name(name, "choice")
    if isinstance(options, (str, bytes)) or not isinstance(options, Iterable):
        raise SpaceError(f"hp.choice({name!r}): options={options!r}; expected a list of values")
    options = list(options)
    for o in options:
        if isinstance(o, (Real, Integer, Categorical, Mapping)):
            raise SpaceError(
                f"hp.choice({name!r}): option {o!r} is a nested space; gpu_bo supports flat spaces "
                "only: expected plain values (str, int, float, bool, None)"
            )
    return Categorical(options, name=name)


def to_space(spec: Mapping[str, Any] | Iterable[Any]) -> Space:
    """Build a :class:`~gpu_bo.space.Space` from hp dimensions.

    Args:
        spec: a dict ``{name: dimension}`` (its keys must match the hp labels) or a list of
            labelled hp dimensions (their labels become the names).

    Raises:
        SpaceError: a key differs from its dimension's label, a label is missing or repeated.
    """
    if isinstance(spec, Space):
        return spec
    if isinstance(spec, Mapping):
        for key, dim in spec.items():
            label = getattr(dim, "name", None)
            if label is not None and label != key:
                raise SpaceError(
                    f"to_space: key {key!r} holds a dimension labelled {label!r}; expected the key "
                    "and the hp label to be the same"
                )
        return Space(dict(spec))
    if isinstance(spec, (str, bytes)) or not isinstance(spec, Iterable):
        raise SpaceError(f"to_space: got {type(spec).__name__}; expected a dict or a list of hp dimensions")
    dims: dict[str, Any] = {}
    for dim in spec:
        label = getattr(dim, "name", None)
        if not label:
            raise SpaceError(f"to_space: dimension {dim!r} has no label; build it with an hp helper")
        if label in dims:
            raise SpaceError(f"to_space: label {label!r} appears more than once; expected distinct labels")
        dims[label] = dim
    return Space(dims)
