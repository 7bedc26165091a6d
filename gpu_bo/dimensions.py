"""Dimensions of a search space: Real and Integer (Categorical lives in :mod:`gpu_bo.categorical`),
their encoding to ``[0, 1]``, steps, conditions, and the shorthand and dict forms that build them.

Encoding (one column per dimension):
    Real         linear or log scale mapped onto [0, 1]; ``step``: the values ``low + k * step``,
                 encoded as the same continuous column and snapped to the grid.
    Integer      the values ``low, low + step, ..., high`` in equal bins of [0, 1] (log=True: bins
                 of equal width in log space); value i sits at the centre of bin i, so any x in
                 [0, 1] decodes to a valid integer and the round-trip is exact.
    Categorical  the same bin scheme over the choice indices (see :mod:`gpu_bo.categorical`).

Every dimension takes ``when={parent: value or [values]}`` (see :mod:`gpu_bo.conditions`).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from gpu_bo.categorical import Categorical, from_json
from gpu_bo.conditions import as_when
from gpu_bo.exceptions import SpaceError

__all__ = ["Real", "Integer", "Categorical", "Dimension", "dimension_from_spec", "dimension_from_dict"]

# an Integer's bounds: every int up to 2**53 is exact in float64, the encoding's arithmetic
_MAX_INT = 2**53


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _check_when(dim: Any, label: str) -> None:
    object.__setattr__(dim, "when", as_when(dim.when, f"{label}{_named(dim)}"))


def _when_dict(dim: Any, d: dict) -> dict:
    if dim.when is not None:
        d["when"] = dim.when.to_dict()
    return d


def _grid_steps(dim: Any, label: str, step: float) -> int:
    """How many steps of ``step`` fit in ``[low, high]``; moves ``high`` down onto the grid
    (with a warning, as Optuna does) when the range is not a whole number of steps."""
    span = (float(dim.high) - float(dim.low)) / step
    k = math.floor(span + 1e-9)
    if k < 1:
        raise SpaceError(f"{label}{_named(dim)}: step={step!r} is wider than the range "
                         f"[{dim.low}, {dim.high}]; expected a step that fits at least once")
    if abs(span - k) > 1e-9 * max(1.0, span):
        high = dim.low + k * step
        high = int(high) if label == "Integer" else round(high, 12)
        warnings.warn(f"{label}{_named(dim)}: [{dim.low}, {dim.high}] is not a whole number of "
                      f"steps of {step}; high becomes {high}", UserWarning, stacklevel=4)
        object.__setattr__(dim, "high", high)
    return k


@dataclass(frozen=True)
class Real:
    """A continuous parameter in ``[low, high]``, optionally on a log scale.

    Args:
        low: the lower bound (included).
        high: the upper bound (included).
        log: a log scale (``low > 0``).
        name: a label for messages.
        step: only the values ``low + k * step`` (``high`` moves down onto that grid, with a
            warning, when the range is not a whole number of steps).
        when: the condition under which the parameter is active (:mod:`gpu_bo.conditions`).
    """

    low: float
    high: float
    log: bool = False
    name: str | None = field(default=None, compare=False)
    step: float | None = None
    when: Any = None

    kind = "real"

    def __post_init__(self) -> None:
        _check_bounds(self, "Real")
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))
        _check_when(self, "Real")
        if self.step is not None:
            if not _is_number(self.step) or not math.isfinite(float(self.step)) or self.step <= 0:
                raise SpaceError(f"Real{_named(self)}: step={self.step!r}; expected a positive number or None")
            object.__setattr__(self, "step", float(self.step))
            _grid_steps(self, "Real", self.step)
            if self.log and self.low <= 0:  # pragma: no cover - _check_bounds refuses it first
                raise SpaceError(f"Real{_named(self)}: log=True needs low > 0")

    def _t(self, v: float) -> float:
        return math.log(v) if self.log else v

    def _on_grid(self, v: float) -> float:
        k = round((v - self.low) / self.step)
        return round(self.low + k * self.step, 12)

    def encode_value(self, v: Any, pname: str) -> float:
        if not _is_number(v):
            raise SpaceError(
                f"parameter {pname!r}: got {v!r} ({type(v).__name__}), expected a real number "
                f"in [{self.low}, {self.high}]"
            )
        v = float(v)
        if not math.isfinite(v) or v < self.low or v > self.high:
            raise SpaceError(
                f"parameter {pname!r}: got {v!r}, expected a value in [{self.low}, {self.high}]"
            )
        if self.step is not None and abs(self._on_grid(v) - v) > 1e-9 * max(1.0, abs(v)):
            raise SpaceError(f"parameter {pname!r}: got {v!r}, expected low + k * step = {self.low} + "
                             f"k * {self.step} in [{self.low}, {self.high}]")
        lo, hi = self._t(self.low), self._t(self.high)
        return min(max((self._t(v) - lo) / (hi - lo), 0.0), 1.0)

    def decode_value(self, x: float) -> float:
        if x <= 0.0:  # the bounds exactly, not exp(log(bound)) with a rounding error
            return self.low
        if x >= 1.0:
            return self.high
        lo, hi = self._t(self.low), self._t(self.high)
        v = lo + x * (hi - lo)
        v = math.exp(v) if self.log else v
        v = min(max(v, self.low), self.high)
        return min(max(self._on_grid(v), self.low), self.high) if self.step is not None else v

    def snap_column(self, x: torch.Tensor) -> torch.Tensor:
        """The encoded column ``x`` (``...``) moved onto the step grid (unchanged without a step)."""
        if self.step is None:
            return x
        lo, hi = self._t(self.low), self._t(self.high)
        v = lo + x * (hi - lo)
        v = torch.exp(v) if self.log else v
        n = round((self.high - self.low) / self.step)
        v = self.low + torch.round((v - self.low) / self.step).clamp(0, n) * self.step
        v = v.clamp(self.low, self.high)
        return ((torch.log(v) if self.log else v) - lo) / (hi - lo)

    def plain(self, v: Any) -> float:
        """A valid value as a plain float."""
        return float(v)

    def to_dict(self) -> dict:
        d = {"type": "real", "low": self.low, "high": self.high, "log": self.log}
        if self.step is not None:
            d["step"] = self.step
        return _when_dict(self, d)


@dataclass(frozen=True)
class Integer:
    """An integer parameter in ``[low, high]`` (both inclusive), optionally on a log scale.

    Args:
        low: the lower bound (included).
        high: the upper bound (included).
        log: a log scale (``low > 0``; with a step, ``low > step / 2``).
        name: a label for messages.
        step: only ``low, low + step, ...`` (``high`` moves down onto that grid, with a warning).
        when: the condition under which the parameter is active (:mod:`gpu_bo.conditions`).
    """

    low: int
    high: int
    log: bool = False
    name: str | None = field(default=None, compare=False)
    step: int = 1
    when: Any = None

    kind = "integer"

    def __post_init__(self) -> None:
        for b, label in ((self.low, "low"), (self.high, "high")):
            if not _is_number(b) or (isinstance(b, float) and not float(b).is_integer()):
                raise SpaceError(
                    f"Integer{_named(self)}: {label}={b!r} is not an integer; expected whole "
                    "numbers for both bounds"
                )
        _check_bounds(self, "Integer")
        for b, label in ((self.low, "low"), (self.high, "high")):
            if abs(b) > _MAX_INT:
                raise SpaceError(
                    f"Integer{_named(self)}: {label}={b!r} is beyond 2**53, past which float64 "
                    "(the encoding) skips integers; expected bounds in [-2**53, 2**53] (a Real "
                    "with log=True covers wider ranges)"
                )
        object.__setattr__(self, "low", int(self.low))
        object.__setattr__(self, "high", int(self.high))
        _check_when(self, "Integer")
        s = self.step
        if not _is_number(s) or not float(s).is_integer() or s < 1:
            raise SpaceError(f"Integer{_named(self)}: step={s!r}; expected a positive int")
        object.__setattr__(self, "step", int(s))
        if self.step != 1:
            _grid_steps(self, "Integer", self.step)
            if self.log and self.low - self.step / 2 <= 0:
                raise SpaceError(f"Integer{_named(self)}: log=True with step={self.step} needs "
                                 f"low > step / 2, got low={self.low}")

    @property
    def n_bins(self) -> int:
        return (self.high - self.low) // self.step + 1

    def _edges(self) -> tuple[float, float]:
        h = self.step / 2 if self.step != 1 else 0.5
        if self.log:
            return math.log(self.low - h), math.log(self.high + h)
        return self.low - h, self.high + h

    def encode_value(self, v: Any, pname: str) -> float:
        ok = _is_number(v) and math.isfinite(float(v)) and float(v).is_integer()
        if not ok or int(v) < self.low or int(v) > self.high or (int(v) - self.low) % self.step:
            grid = f" on the grid {self.low} + k * {self.step}" if self.step != 1 else ""
            raise SpaceError(
                f"parameter {pname!r}: got {v!r}, expected an integer in [{self.low}, {self.high}]{grid}"
            )
        lo, hi = self._edges()
        t = math.log(int(v)) if self.log else float(int(v))
        return (t - lo) / (hi - lo)

    def decode_value(self, x: float) -> int:
        lo, hi = self._edges()
        t = lo + min(max(x, 0.0), 1.0) * (hi - lo)
        v = math.exp(t) if self.log else t
        if self.step == 1:
            v = round(v)
        else:
            v = self.low + round((v - self.low) / self.step) * self.step
        return int(min(max(v, self.low), self.high))

    def values_of(self, x: torch.Tensor) -> torch.Tensor:
        """The integer values (as floats) that the encoded column ``x`` (``...``) decodes to."""
        lo, hi = self._edges()
        t = lo + x.clamp(0.0, 1.0) * (hi - lo)
        v = torch.exp(t) if self.log else t
        v = self.low + torch.round((v - self.low) / self.step) * self.step
        return v.clamp(self.low, self.high)

    def snap_column(self, x: torch.Tensor) -> torch.Tensor:
        """The encoded column ``x`` (``...``) moved to its value's bin centre."""
        if self.log:
            lo, hi = self._edges()
            if self.step == 1:
                t = torch.exp(lo + x * (hi - lo)).round().clamp(self.low, self.high)
            else:
                t = self.values_of(x)
            return (torch.log(t) - lo) / (hi - lo)
        k = self.n_bins
        idx = torch.clamp(torch.floor(x * k), 0, k - 1)
        return (idx + 0.5) / k

    def plain(self, v: Any) -> int:
        """A valid value as a plain int."""
        return int(v)

    def to_dict(self) -> dict:
        d = {"type": "integer", "low": self.low, "high": self.high, "log": self.log}
        if self.step != 1:
            d["step"] = self.step
        return _when_dict(self, d)


Dimension = Real | Integer | Categorical


def _named(dim: Any) -> str:
    return _named_str(getattr(dim, "name", None))


def _named_str(name: str | None) -> str:
    return f" {name!r}" if name else ""


def _check_bounds(dim: Any, label: str) -> None:
    for b, which in ((dim.low, "low"), (dim.high, "high")):
        if not _is_number(b):
            raise SpaceError(f"{label}{_named(dim)}: {which}={b!r} is not a number")
        try:
            finite = math.isfinite(float(b))
        except OverflowError:  # an int past the float64 range
            finite = False
        if not finite:
            raise SpaceError(f"{label}{_named(dim)}: {which}={b!r} is not finite (or past the float64 "
                             "range); expected a finite bound")
    if not dim.low < dim.high:
        raise SpaceError(
            f"{label}{_named(dim)}: low={dim.low!r} must be < high={dim.high!r}"
        )
    if type(dim.log).__module__ == "numpy" and type(dim.log).__name__ in ("bool_", "bool"):
        object.__setattr__(dim, "log", bool(dim.log))
    if not isinstance(dim.log, bool):
        raise SpaceError(f"{label}{_named(dim)}: log={dim.log!r} ({type(dim.log).__name__}); "
                         "expected a bool (True or False)")
    if dim.log and dim.low <= 0:
        raise SpaceError(
            f"{label}{_named(dim)}: log=True needs low > 0, got low={dim.low!r}"
        )
    if label == "Real" and not math.isfinite(float(dim.high) - float(dim.low)):
        raise SpaceError(
            f"Real{_named(dim)}: low={dim.low!r}, high={dim.high!r}: the width high - low overflows "
            "float64, so no point can be encoded; expected a finite width (a Real with log=True "
            "covers wide positive ranges)"
        )


def _from_shorthand(name: str, spec: Any) -> Dimension:
    if isinstance(spec, (Real, Integer, Categorical)):
        return spec
    if isinstance(spec, list):
        return Categorical(spec, name=name)
    if isinstance(spec, tuple):
        if len(spec) == 3 and isinstance(spec[2], str):
            # skopt style: (low, high, "log-uniform" | "uniform")
            prior = spec[2].lower()
            if prior not in ("uniform", "log-uniform", "loguniform"):
                raise SpaceError(
                    f"parameter {name!r}: prior {spec[2]!r} is unknown; expected 'uniform' or 'log-uniform'"
                )
            spec, log = spec[:2], prior != "uniform"
        else:
            log = False
        if len(spec) != 2:
            raise SpaceError(
                f"parameter {name!r}: got the tuple {spec!r}; expected (low, high)"
            )
        lo, hi = spec
        if all(_is_number(v) and isinstance(v, numbers.Integral) for v in (lo, hi)):
            return Integer(lo, hi, log=log, name=name)
        if all(_is_number(v) for v in (lo, hi)):
            return Real(lo, hi, log=log, name=name)
        raise SpaceError(f"parameter {name!r}: bounds {spec!r} are not numbers")
    raise SpaceError(
        f"parameter {name!r}: got {spec!r} ({type(spec).__name__}); expected Real, Integer, "
        "Categorical, a (low, high) tuple or a list of choices"
    )


_KEYS = {"real": ("low", "high"), "integer": ("low", "high"), "categorical": ("choices",)}


def _dim_from_dict(name: str, s: Any) -> Dimension:
    """One dimension of :meth:`Space.from_dict`'s format."""
    if isinstance(s, list):
        if len(s) == 2 and all(_is_number(v) for v in s):
            lo, hi = s
            kind = "integer" if all(isinstance(v, numbers.Integral) for v in s) else "real"
            raise SpaceError(
                f"parameter {name!r}: the list {s!r} is ambiguous: a list is a list of choices "
                f"(as in gb.Space), but earlier gpu_bo versions read a two-number list here as a range; "
                f'write {{"type": "{kind}", "low": {lo!r}, "high": {hi!r}}} for the range or '
                f'{{"type": "categorical", "choices": {s!r}}} for two choices'
            )
        return Categorical([from_json(c) for c in s], name=name)
    if not isinstance(s, Mapping):
        return _from_shorthand(name, s)
    t = s.get("type")
    if t not in _KEYS:
        raise SpaceError(f"parameter {name!r}: type {t!r} is unknown; expected 'real', 'integer' or "
                         f"'categorical' (got the keys {sorted(s)})")
    missing = [k for k in _KEYS[t] if k not in s]
    if missing:
        raise SpaceError(f"parameter {name!r}: a {t!r} dimension needs the key {missing[0]!r}; got the "
                         f"keys {sorted(s)}")
    when = s.get("when")
    if when is not None:
        if not isinstance(when, Mapping):
            raise SpaceError(f"parameter {name!r}: when={when!r}; expected a dict {{parent: [values]}}")
        when = {p: [from_json(v) for v in vals] if isinstance(vals, list) else from_json(vals)
                for p, vals in when.items()}
    if t == "categorical":
        if not isinstance(s["choices"], (list, tuple)):
            raise SpaceError(f"parameter {name!r}: choices={s['choices']!r}; expected a list of values")
        return Categorical([from_json(c) for c in s["choices"]], name=name, when=when)
    log = s.get("log", False)
    if not isinstance(log, bool):
        raise SpaceError(f"parameter {name!r}: log={log!r} ({type(log).__name__}); expected true or false")
    step = s.get("step", None if t == "real" else 1)
    return (Real if t == "real" else Integer)(s["low"], s["high"], log=log, name=name, step=step, when=when)


dimension_from_spec = _from_shorthand
dimension_from_dict = _dim_from_dict
