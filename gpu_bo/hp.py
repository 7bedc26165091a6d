"""Hyperopt-style helpers that build gpu_bo search-space dimensions.

Many users (and many tutorials) write spaces the hyperopt way::

    from gpu_bo import hp
    space = hp.to_space({
        "C": hp.loguniform("C", -3, 3),          # exp(U(-3, 3)), as in hyperopt
        "n_estimators": hp.quniform("n_estimators", 50, 500, 50),
        "kernel": hp.choice("kernel", ["rbf", "linear"]),
    })

Each helper returns a plain :class:`~gpu_bo.space.Real`, :class:`~gpu_bo.space.Integer` or
:class:`~gpu_bo.space.Categorical` (stepped values: a native ``Real(step=q)`` or
``Integer(step=q)``, so the step survives ``to_dict``, storage and ``--space`` files), and the
result can be put straight into a ``gb.Space`` dict, next to gpu_bo's own dimensions.

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
  not its index. Options must be hashable: a flat dict of dimensions has no place for nested
  sub-spaces; :mod:`gpu_bo.integrations.hyperopt` takes hyperopt's nested ``hp.choice`` spaces
  (with ``fmin``) and builds the conditional ``gb.Space`` from them.

Unbounded distributions (``hp.normal``, ``hp.lognormal``) have no bounded counterpart for a GP
on the unit cube and are not provided.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from gpu_bo.exceptions import SpaceError
from gpu_bo.space import Categorical, Integer, Real, Space

__all__ = ["uniform", "loguniform", "quniform", "qloguniform", "randint", "choice",
           "QUniform", "stepped", "to_space"]


def check_name(name: Any, fn: str) -> str:
    """``name`` if it is a non-empty str, else a SpaceError naming ``hp.<fn>``."""
    if not isinstance(name, str) or not name:
        raise SpaceError(f"hp.{fn}: name={name!r}; expected a non-empty str label")
    return name


def check_number(v: Any, what: str, fn: str, name: str) -> float:
    """``float(v)`` if ``v`` is a finite real number (not a bool), else a SpaceError naming it."""
    if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(float(v)):
        raise SpaceError(f"hp.{fn}({name!r}): {what}={v!r}; expected a finite number")
    return float(v)


def _is_whole(v: float) -> bool:
    return float(v).is_integer()


def QUniform(low: float, high: float, q: float, log: bool = False, name: str | None = None,
             as_int: bool = False) -> Real | Integer:
    """The multiples ``k * q`` in ``[low, high]`` as a native stepped dimension (the old class's name).

    Earlier versions had a ``QUniform`` class over the step index, whose ``to_dict`` dropped the
    step; ``Real(step=...)`` / ``Integer(step=...)`` now keep it through ``to_dict``, storage and
    ``--space`` files, so this is a thin builder kept for old imports.

    Args:
        low: the lowest value allowed (the first multiple of ``q`` at or above it is the bound).
        high: the highest value allowed (the last multiple of ``q`` at or below it is the bound).
        q: the step (positive).
        log: a log scale.
        name: a label for messages.
        as_int: an :class:`~gpu_bo.space.Integer` (whole ``q``) instead of a
            :class:`~gpu_bo.space.Real`.
    """
    return stepped(name or "QUniform", low, high, q, log=log, as_int=as_int)


def uniform(name: str, low: float, high: float) -> Real:
    """A real value drawn uniformly from ``[low, high]``."""
    check_name(name, "uniform")
    return Real(check_number(low, "low", "uniform", name), check_number(high, "high", "uniform", name),
                name=name)


def loguniform(name: str, low: float, high: float) -> Real:
    """``exp(uniform(low, high))``: a log-scale real in ``[exp(low), exp(high)]``.

    As in hyperopt, ``low`` and ``high`` are the *logarithms* of the bounds
    (``loguniform("C", -3, 3)`` spans ``[0.0498, 20.09]``).
    """
    check_name(name, "loguniform")
    lo = check_number(low, "low", "loguniform", name)
    hi = check_number(high, "high", "loguniform", name)
    return Real(math.exp(lo), math.exp(hi), log=True, name=name)


def stepped(name: str, low: float, high: float, q: Any, *, log: bool = False, as_int: bool = False,
            fn: str = "quniform") -> Real | Integer:
    """The multiples ``k * q`` with ``low <= k * q <= high``: a ``Real`` (or, with ``as_int``, an
    ``Integer``) with ``step=q`` and the first and last multiple as its bounds.

    The one home of hyperopt's ``q*`` mapping (:mod:`gpu_bo.integrations.hyperopt` builds its
    stepped leaves here too).

    Args:
        name: the label.
        low: the value bound below (not in log space).
        high: the value bound above (not in log space).
        q: the step.
        log: a log scale (multiples from ``q`` up: ``k >= 1``).
        as_int: an ``Integer`` (``q``, ``low`` and ``high`` whole) rather than a ``Real``.
        fn: the hp function's name, for messages.

    Raises:
        SpaceError: ``q`` is not positive or fewer than two multiples fit.
    """
    qv = check_number(q, "q", fn, name)
    if qv <= 0:
        raise SpaceError(f"hp.{fn}({name!r}): q={q!r}; expected a positive step")
    k_lo = math.ceil(low / qv - 1e-9)
    k_hi = math.floor(high / qv + 1e-9)
    if log:
        k_lo = max(k_lo, 1)
    if k_hi <= k_lo:
        raise SpaceError(
            f"hp.{fn}({name!r}): [{low}, {high}] holds fewer than two multiples of q={q}; "
            "expected a wider range or a smaller q"
        )
    if as_int:
        qi = int(round(qv))
        return Integer(k_lo * qi, k_hi * qi, log=log, name=name, step=qi)
    # round away binary noise such as 3 * 0.1 = 0.30000000000000004
    return Real(round(k_lo * qv, 12), round(k_hi * qv, 12), log=log, name=name, step=qv)


def quniform(name: str, low: float, high: float, q: float) -> Real | Integer:
    """``k * q`` for whole ``k`` with ``low <= k * q <= high``: a native stepped dimension.

    Args:
        name: the label.
        low: the lowest value allowed.
        high: the highest value allowed.
        q: the step.

    Returns:
        an ``Integer(step=q)`` when ``low``, ``high`` and ``q`` are all whole numbers (values are
        ``int``), else a ``Real(step=q)`` (values are ``float``).
    """
    check_name(name, "quniform")
    lo = check_number(low, "low", "quniform", name)
    hi = check_number(high, "high", "quniform", name)
    if not lo < hi:
        raise SpaceError(f"hp.quniform({name!r}): low={low!r} must be < high={high!r}")
    whole = all(_is_whole(check_number(v, w, "quniform", name)) for v, w in ((low, "low"), (high, "high"), (q, "q")))
    return stepped(name, lo, hi, q, as_int=whole, fn="quniform")


def qloguniform(name: str, low: float, high: float, q: float) -> Real | Integer:
    """``k * q`` on a log scale within ``[exp(low), exp(high)]`` (``low``/``high`` in log space).

    Args:
        name: the label.
        low: the log of the lowest value.
        high: the log of the highest value.
        q: the step (a whole ``q`` gives an ``Integer``, values ``int``).
    """
    check_name(name, "qloguniform")
    lo = check_number(low, "low", "qloguniform", name)
    hi = check_number(high, "high", "qloguniform", name)
    if not lo < hi:
        raise SpaceError(f"hp.qloguniform({name!r}): low={low!r} must be < high={high!r}")
    whole = _is_whole(check_number(q, "q", "qloguniform", name))
    return stepped(name, math.exp(lo), math.exp(hi), q, log=True, as_int=whole, fn="qloguniform")


def randint(name: str, low: int, high: int | None = None) -> Integer:
    """An integer from ``[0, upper)`` (``randint(name, upper)``) or ``[low, high)``."""
    check_name(name, "randint")
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
    check_name(name, "choice")
    if isinstance(options, (str, bytes)) or not isinstance(options, Iterable):
        raise SpaceError(f"hp.choice({name!r}): options={options!r}; expected a list of values")
    options = list(options)
    for o in options:
        if isinstance(o, (Real, Integer, Categorical, Mapping)):
            raise SpaceError(
                f"hp.choice({name!r}): option {o!r} is a nested space; gpu_bo.hp builds flat "
                "dimensions only: expected plain values (str, int, float, bool, None); for nested "
                "sub-spaces use gpu_bo.integrations.hyperopt (its hp and fmin)"
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
