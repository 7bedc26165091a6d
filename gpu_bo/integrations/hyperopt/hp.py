"""hyperopt's ``hp`` module without pyll: each function returns a small expression object.

The objects mirror hyperopt's stochastic expressions by label; :mod:`.space` turns a nested
structure of them (dicts, lists, tuples, constants) into a conditional ``gb.Space`` and a sample
back into the nested structure. Each leaf carries the gpu_bo dimension it becomes, built by
:mod:`gpu_bo.hp` (one home of the bounds and step rules), so a bad leaf fails where it is written.

What maps (hyperopt -> gpu_bo):
    uniform(l, a, b)           Real(a, b)
    loguniform(l, a, b)        Real(exp(a), exp(b), log=True)
    quniform(l, a, b, q)       Real(step=q) over the multiples of q in [a, b] (values are floats)
    qloguniform(l, a, b, q)    the same on a log scale within [exp(a), exp(b)]
    uniformint(l, a, b, q=1)   Integer(a, b, step=q)
    randint(l, upper)          Integer(0, upper - 1); randint(l, a, b): Integer(a, b - 1)
    choice(l, options)         Categorical over the option indices; the labels inside option i
                               get when={l: i}
The unbounded ones (normal, qnormal, lognormal, qlognormal) and pchoice raise
``NotImplementedError`` saying why. ``scope.int(e)`` / ``scope.float(e)`` (of :mod:`.pyll`, or
hyperopt's own ``scope`` applied to these expressions) convert the value the objective sees.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from gpu_bo import hp as flat
from gpu_bo.categorical import Categorical
from gpu_bo.dimensions import Integer, Real
from gpu_bo.exceptions import SpaceError

__all__ = ["Expr", "Param", "Choice", "Cast", "uniform", "loguniform", "quniform", "qloguniform", "uniformint",
           "randint", "choice", "pchoice", "normal", "qnormal", "lognormal", "qlognormal"]


class Expr:
    """A labelled hyperopt expression (compared by identity, as pyll nodes are)."""

    label: str

    def __repr__(self) -> str:
        return f"hp.{self.fn}({self.label!r}, ...)"  # type: ignore[attr-defined]


class Param(Expr):
    """A leaf: one labelled distribution.

    Args:
        fn: the hp function's name (``"uniform"``, ``"quniform"``, ...).
        label: the label (the parameter's name in the space).
        dim: the gpu_bo dimension it becomes (without a condition).
        kind: how its value reads: ``"float"`` or ``"int"``; hyperopt stores uniformint's value as
            a float in ``Trials`` (``"int_from_float"``).
    """

    def __init__(self, fn: str, label: str, dim: Real | Integer, kind: str) -> None:
        self.fn, self.label, self.dim, self.kind = fn, label, dim, kind

    def sample_value(self, v: Any) -> Any:
        """The value the objective sees for the stored value ``v``."""
        return float(v) if self.kind == "float" else int(round(float(v)))

    def stored_value(self, v: Any) -> Any:
        """The value ``Trials`` (``misc.vals``, ``argmin``) holds for the gpu_bo value ``v``."""
        return int(v) if self.kind == "int" else float(v)

    def gb_value(self, v: Any) -> Any:
        """The gpu_bo value of the stored value ``v``."""
        return float(v) if self.kind == "float" else int(round(float(v)))


class Choice(Expr):
    """``hp.choice``: one of ``options`` (each a constant or a nested sub-space).

    Args:
        label: the label.
        options: the options, in order (the stored value is the chosen index).
    """

    fn = "choice"

    def __init__(self, label: str, options: tuple) -> None:
        self.label, self.options = label, options
        self.dim = Categorical(list(range(len(options))), name=label)

    def sample_value(self, v: Any) -> int:
        """The chosen index."""
        return int(v)

    stored_value = gb_value = sample_value


class Cast(Expr):
    """``scope.int(expr)`` / ``scope.float(expr)``: the value of ``expr`` converted (pyll's one
    conversion that a ``gb.Space`` can hold: the space is ``expr``'s, the objective sees the cast).

    Args:
        fn: ``"int"`` or ``"float"``.
        inner: the expression (or constant structure) converted.
    """

    def __init__(self, fn: str, inner: Any) -> None:
        if fn not in ("int", "float"):
            raise TypeError(f"scope.{fn}: only scope.int and scope.float can become a gb.Space; apply "
                            f"{fn} to the sample in your objective instead")
        self.fn, self.inner = fn, inner
        self.label = getattr(inner, "label", "")

    def cast(self, v: Any) -> Any:
        """``int(v)`` or ``float(v)``."""
        return int(v) if self.fn == "int" else float(v)


def _label(label: Any, fn: str) -> str:
    return flat.check_name(label, fn)


_num = flat.check_number


def _bounds(label: Any, low: Any, high: Any, fn: str) -> tuple[float, float]:
    _label(label, fn)
    lo, hi = _num(low, "low", fn, label), _num(high, "high", fn, label)
    if not lo < hi:
        raise SpaceError(f"hp.{fn}({label!r}): low={low!r} must be < high={high!r}")
    return lo, hi


def uniform(label: str, low: float, high: float) -> Param:
    """A float drawn uniformly from ``[low, high]``.

    Args:
        label: the label.
        low: the lower bound.
        high: the upper bound.
    """
    return Param("uniform", _label(label, "uniform"), flat.uniform(label, low, high), "float")


def loguniform(label: str, low: float, high: float) -> Param:
    """``exp(uniform(low, high))``: ``low`` and ``high`` are logarithms, as in hyperopt.

    Args:
        label: the label.
        low: the log of the lower bound.
        high: the log of the upper bound.
    """
    return Param("loguniform", _label(label, "loguniform"), flat.loguniform(label, low, high), "float")


def quniform(label: str, low: float, high: float, q: float) -> Param:
    """A multiple of ``q`` in ``[low, high]``, as a float (hyperopt's ``round(uniform / q) * q``,
    kept inside the bounds).

    Args:
        label: the label.
        low: the lower bound.
        high: the upper bound.
        q: the step.
    """
    lo, hi = _bounds(label, low, high, "quniform")
    return Param("quniform", label, flat.stepped(label, lo, hi, q, fn="quniform"), "float")


def qloguniform(label: str, low: float, high: float, q: float) -> Param:
    """A multiple of ``q`` within ``[exp(low), exp(high)]`` on a log scale, as a float.

    Args:
        label: the label.
        low: the log of the lower bound.
        high: the log of the upper bound.
        q: the step.
    """
    lo, hi = _bounds(label, low, high, "qloguniform")
    dim = flat.stepped(label, math.exp(lo), math.exp(hi), q, log=True, fn="qloguniform")
    return Param("qloguniform", label, dim, "float")


def uniformint(label: str, low: int, high: int, q: int = 1) -> Param:
    """An int in ``[low, high]`` on the grid of ``q`` (hyperopt's ``int(quniform(...))``).

    Args:
        label: the label.
        low: the lower bound.
        high: the upper bound.
        q: the step.
    """
    lo, hi = _bounds(label, low, high, "uniformint")
    whole = all(float(v).is_integer() for v in (lo, hi, _num(q, "q", "uniformint", label)))
    if not whole:
        raise SpaceError(f"hp.uniformint({label!r}): low={low!r}, high={high!r}, q={q!r}; expected whole numbers")
    return Param("uniformint", label, flat.stepped(label, lo, hi, q, as_int=True, fn="uniformint"),
                 "int_from_float")


def randint(label: str, low: int, high: int | None = None) -> Param:
    """An int from ``[0, low)`` (``randint(label, upper)``) or from ``[low, high)``.

    Args:
        label: the label.
        low: the upper bound (excluded) when ``high`` is None, else the lower bound.
        high: the upper bound (excluded).
    """
    return Param("randint", _label(label, "randint"), flat.randint(label, low, high), "int")


def choice(label: str, options: Iterable[Any]) -> Choice:
    """One of ``options``: constants or nested sub-spaces (dicts, lists, tuples of expressions).

    Args:
        label: the label; ``Trials`` and ``fmin``'s result hold the chosen index.
        options: the options.
    """
    _label(label, "choice")
    if isinstance(options, (str, bytes, dict)) or not isinstance(options, Iterable):
        raise SpaceError(f"hp.choice({label!r}): options={options!r}; expected a list of options")
    opts = tuple(options)
    if not opts:
        raise SpaceError(f"hp.choice({label!r}): options=[] is empty; expected at least one option")
    return Choice(label, opts)


def pchoice(label: str, p_options: Iterable[Any]) -> Choice:
    """Not provided: a choice with prior probabilities.

    Args:
        label: the label.
        p_options: ``[(probability, option), ...]``.

    Raises:
        NotImplementedError: always (see the message).
    """
    raise NotImplementedError(
        f"hp.pchoice({label!r}): the probabilities are a prior that hyperopt's TPE samples from; "
        "gpu_bo's GP has no prior over choices, so they would be silently ignored. Use "
        "hp.choice(label, [option for _, option in p_options]) instead")


def _refused(fn: str, form: str) -> Any:
    """hp.<fn>, which raises: an unbounded distribution has no place in the GP's bounded cube."""

    def refused(label: str, *args: float) -> Param:
        raise NotImplementedError(
            f"hp.{fn}({label!r}): an unbounded distribution has no place in the bounded cube the GP "
            "models; write the range you would search instead, e.g. hp.uniform(label, mu - 3 * sigma, "
            "mu + 3 * sigma) (hp.loguniform for lognormal, hp.quniform / hp.qloguniform for the q* forms)")

    refused.__name__ = refused.__qualname__ = fn
    refused.__doc__ = (f"Not provided: hyperopt's ``{form}`` is unbounded; raises ``NotImplementedError`` "
                       "suggesting bounds.")
    return refused


normal = _refused("normal", "normal(label, mu, sigma)")
qnormal = _refused("qnormal", "qnormal(label, mu, sigma, q)")
lognormal = _refused("lognormal", "lognormal(label, mu, sigma)")
qlognormal = _refused("qlognormal", "qlognormal(label, mu, sigma, q)")
