"""Search spaces: dimensions, validation, encoding to the unit cube, decoding and sampling.

Glossary (shapes use BoTorch's grammar):
    d       number of dimensions of the space (one encoded column per dimension)
    n x d   a batch of encoded points, every value in [0, 1]

Encoding:
    Real         linear or log scale mapped onto [0, 1].
    Integer      k = high - low + 1 equal bins of [0, 1]; value i sits at the centre of bin i
                 (log=True: bins of equal width in log space). Decoding takes the bin, so any
                 x in [0, 1] decodes to a valid integer and the round-trip is exact.
    Categorical  the same bin scheme over the choice indices. The surrogate treats these
                 columns by equality only (no order is implied), so there is no one-hot
                 blow-up of the encoded width. The class and the values its choices may
                 be (those JSON storage gives back unchanged) live in
                 :mod:`gpu_bo.categorical`; it is re-exported here.
"""

from __future__ import annotations

import itertools
import math
import numbers
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from gpu_bo.exceptions import SpaceError
from gpu_bo.categorical import Categorical, from_json

__all__ = ["Real", "Integer", "Categorical", "Dimension", "Space", "as_space", "point_key", "row_key"]

# an Integer's bounds: every int up to 2**53 is exact in float64, the encoding's arithmetic
_MAX_INT = 2**53

# the one rounding of a point's identity: encoded values equal to 9 digits are the same point
# (far below any step a suggestion can tell apart, far above float64 round-trip noise)
_KEY_DIGITS = 9


def row_key(row: Sequence[float]) -> tuple:
    """The hashable identity of one encoded point held as ``d`` floats (see :func:`point_key`)."""
    return tuple(round(v, _KEY_DIGITS) for v in row)


def point_key(x: torch.Tensor) -> tuple:
    """The hashable identity of one encoded point ``d``: its values rounded to 9 digits.

    Every module that asks "is this the same point?" (repeated suggestions, pending points,
    telling a point back) uses this key or :meth:`Space.key`, which is the key of the encoded row.
    """
    return row_key(x.tolist())


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


@dataclass(frozen=True)
class Real:
    """A continuous parameter in ``[low, high]``, optionally on a log scale."""

    low: float
    high: float
    log: bool = False
    name: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _check_bounds(self, "Real")
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))

    kind = "real"

    def _t(self, v: float) -> float:
        return math.log(v) if self.log else v

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
        return min(max(v, self.low), self.high)

    def plain(self, v: Any) -> float:
        """A valid value as a plain float."""
        return float(v)

    def to_dict(self) -> dict:
        return {"type": "real", "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class Integer:
    """An integer parameter in ``[low, high]`` (both inclusive), optionally on a log scale."""

    low: int
    high: int
    log: bool = False
    name: str | None = field(default=None, compare=False)

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

    @property
    def n_bins(self) -> int:
        return self.high - self.low + 1

    def _edges(self) -> tuple[float, float]:
        if self.log:
            return math.log(self.low - 0.5), math.log(self.high + 0.5)
        return self.low - 0.5, self.high + 0.5

    def encode_value(self, v: Any, pname: str) -> float:
        ok = _is_number(v) and math.isfinite(float(v)) and float(v).is_integer()
        if not ok or int(v) < self.low or int(v) > self.high:
            raise SpaceError(
                f"parameter {pname!r}: got {v!r}, expected an integer in [{self.low}, {self.high}]"
            )
        lo, hi = self._edges()
        t = math.log(int(v)) if self.log else float(int(v))
        return (t - lo) / (hi - lo)

    def decode_value(self, x: float) -> int:
        lo, hi = self._edges()
        t = lo + min(max(x, 0.0), 1.0) * (hi - lo)
        v = round(math.exp(t)) if self.log else round(t)
        return int(min(max(v, self.low), self.high))

    def plain(self, v: Any) -> int:
        """A valid value as a plain int."""
        return int(v)

    def to_dict(self) -> dict:
        return {"type": "integer", "low": self.low, "high": self.high, "log": self.log}


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
    if t == "categorical":
        if not isinstance(s["choices"], (list, tuple)):
            raise SpaceError(f"parameter {name!r}: choices={s['choices']!r}; expected a list of values")
        return Categorical([from_json(c) for c in s["choices"]], name=name)
    log = s.get("log", False)
    if not isinstance(log, bool):
        raise SpaceError(f"parameter {name!r}: log={log!r} ({type(log).__name__}); expected true or false")
    return (Real if t == "real" else Integer)(s["low"], s["high"], log=log, name=name)


class Space:
    """An ordered set of named dimensions.

    Args:
        dims: mapping of parameter name to a dimension (``Real``, ``Integer``,
            ``Categorical``) or to the shorthand: a float tuple -> Real, an int tuple ->
            Integer, a list -> Categorical (the bayes_opt ``pbounds`` style).
    """

    def __init__(self, dims: Mapping[str, Any]) -> None:
        if isinstance(dims, Space):
            dims = dims.dims
        if not isinstance(dims, Mapping):
            raise SpaceError(
                f"Space: got {type(dims).__name__}; expected a dict of parameter name -> dimension"
            )
        if not dims:
            raise SpaceError("Space: got an empty dict; expected at least one parameter")
        self.dims: dict[str, Dimension] = {}
        for name, spec in dims.items():
            if not isinstance(name, str):
                raise SpaceError(f"Space: parameter name {name!r} is not a str")
            self.dims[name] = _from_shorthand(name, spec)
        self.names: list[str] = list(self.dims)

    # -- description ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.dims)

    def __repr__(self) -> str:
        return f"Space({self.dims!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self.dims == other.dims

    @property
    def d(self) -> int:
        return len(self.dims)

    @property
    def cat_columns(self) -> list[int]:
        """Encoded columns compared by equality (categoricals)."""
        return [i for i, dim in enumerate(self.dims.values()) if dim.kind == "categorical"]

    @property
    def int_columns(self) -> list[int]:
        return [i for i, dim in enumerate(self.dims.values()) if dim.kind == "integer"]

    @property
    def n_bins(self) -> list[int]:
        """Number of bins per column (0 for real columns)."""
        return [getattr(dim, "n_bins", 0) if dim.kind != "real" else 0 for dim in self.dims.values()]

    @property
    def n_points(self) -> int | None:
        """How many distinct points a finite space (integers and categoricals only) holds;
        None when a dimension is real."""
        if any(dim.kind == "real" for dim in self.dims.values()):
            return None
        return math.prod(dim.n_bins for dim in self.dims.values())

    def unseen(self, exclude: set[tuple], q: int, seed: int = 0) -> torch.Tensor:
        """Up to ``q`` encoded points (``q' x d``) of a finite space whose :func:`point_key` is not
        in ``exclude``, found by enumerating every point (so only for spaces of at most
        ``2**16`` points), in an order shuffled by ``seed``.

        Args:
            exclude: keys of the points taken (evaluated, pending).
            q: the most points to return.
            seed: the shuffle's seed.

        Raises:
            ValueError: the space is not finite or holds more than ``2**16`` points.
        """
        n = self.n_points
        if n is None or n > 2**16:
            raise ValueError(f"space: holds {n or 'infinitely many'} points; unseen() enumerates at most 2**16")
        # each column's encoded bin centres, as encode() computes them (so the keys match)
        cols = [[Integer.encode_value(dim, i, name) for i in range(dim.low, dim.high + 1)]
                if dim.kind == "integer" else [(i + 0.5) / dim.n_bins for i in range(dim.n_bins)]
                for name, dim in self.dims.items()]
        rows = [r for r in itertools.product(*cols) if row_key(r) not in exclude]
        random.Random(seed).shuffle(rows)
        return torch.tensor(rows[:q], dtype=torch.float64, device="cpu").reshape(-1, self.d)

    def to_dict(self) -> dict:
        return {name: dim.to_dict() for name, dim in self.dims.items()}

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Space:
        """Inverse of :meth:`to_dict`; also the format of ``--space`` files in the CLI.

        Each parameter is ``{"type": "real" | "integer", "low": ..., "high": ..., "log": false}``
        or ``{"type": "categorical", "choices": [...]}``; JSON lists inside choices are tuples.
        The shorthand follows :class:`Space`'s one rule (a list is a list of choices, a tuple a
        range) except that a list of exactly two numbers is refused: files written for
        versions that read it as a range would otherwise silently become two choices.

        Args:
            spec: parameter name -> dimension dict (or shorthand).

        Raises:
            SpaceError: a dimension misses a key, has an unknown type, a non-bool ``log`` or is
                an ambiguous two-number list; the message names the parameter and the key.
        """
        if not isinstance(spec, Mapping):
            raise SpaceError(f"space: got {type(spec).__name__}; expected a dict of parameter name -> dimension")
        return cls({name: _dim_from_dict(name, s) for name, s in spec.items()})

    # -- validation ----------------------------------------------------------------------------
    def validate(self, params: Mapping[str, Any]) -> None:
        """Raise a ``SpaceError`` if ``params`` is missing a parameter, has an unknown one, or
        holds a value outside the space."""
        if not isinstance(params, Mapping):
            raise SpaceError(f"params: got {type(params).__name__}; expected a dict of name -> value")
        missing = [n for n in self.names if n not in params]
        if missing:
            raise SpaceError(f"params {dict(params)!r} is missing parameter(s) {missing}")
        extra = [n for n in params if n not in self.dims]
        if extra:
            raise SpaceError(
                f"params {dict(params)!r} has unknown parameter(s) {extra}; the space has {self.names}"
            )
        for name, dim in self.dims.items():
            dim.encode_value(params[name], name)

    def canonical(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A valid point as plain Python values in the space's order: floats, ints, and each
        categorical value as its choice itself (a JSON list back as its tuple).

        Args:
            params: a point, e.g. read back from JSON.

        Raises:
            SpaceError: as :meth:`validate`.
        """
        self.validate(params)
        return {name: dim.plain(params[name]) for name, dim in self.dims.items()}

    # -- encode / decode -----------------------------------------------------------------------
    def encode(self, params: Mapping[str, Any] | Sequence[Mapping[str, Any]], *,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """Encode one point (-> ``d``) or a list of points (-> ``n x d``) into the unit cube."""
        single = isinstance(params, Mapping)
        rows = [params] if single else list(params)
        out = []
        for p in rows:
            self.validate(p)
            out.append([dim.encode_value(p[name], name) for name, dim in self.dims.items()])
        t = torch.tensor(out, device=device, dtype=dtype).reshape(len(rows), self.d)
        return t[0] if single else t

    def decode(self, X: torch.Tensor) -> list[dict[str, Any]]:
        """Decode ``n x d`` (or ``d``) unit-cube points to parameter dicts of plain Python values."""
        if X.dim() == 1:
            X = X.unsqueeze(0)
        if X.shape[-1] != self.d:
            raise ValueError(f"X: expected shape n x {self.d}, got {tuple(X.shape)}")
        rows = X.detach().to(device="cpu", dtype=torch.float64).tolist()
        return [{name: dim.decode_value(x) for (name, dim), x in zip(self.dims.items(), r)} for r in rows]

    def snap(self, X: torch.Tensor) -> torch.Tensor:
        """Move integer and categorical columns of ``... x d`` to their bin centres (on device).

        ``snap(X)`` equals ``encode(decode(X))`` for linear integers and categoricals; log
        integers are snapped through decode/encode on the host only for those columns.
        """
        X = X.clamp(0.0, 1.0)
        cols = []
        for i, dim in enumerate(self.dims.values()):
            if dim.kind == "real":
                cols.append(X[..., i])
            elif dim.kind == "integer" and dim.log:
                lo, hi = dim._edges()
                t = torch.exp(lo + X[..., i] * (hi - lo)).round().clamp(dim.low, dim.high)
                cols.append((torch.log(t) - lo) / (hi - lo))
            else:
                k = dim.n_bins
                idx = torch.clamp(torch.floor(X[..., i] * k), 0, k - 1)
                cols.append((idx + 0.5) / k)
        return torch.stack(cols, dim=-1)

    def sample(self, n: int, seed: int | None = None, *, device: torch.device | str = "cpu",
               dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """Scrambled Sobol points, snapped to valid values: ``n x d`` in the unit cube."""
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n: got {n!r}, expected a non-negative int")
        eng = torch.quasirandom.SobolEngine(self.d, scramble=True, seed=seed)
        X = eng.draw(n, dtype=torch.float64).to(device=device, dtype=dtype)
        return self.snap(X)

    def sample_params(self, n: int, seed: int | None = None) -> list[dict[str, Any]]:
        """``n`` valid parameter dicts from a scrambled Sobol sequence."""
        return self.decode(self.sample(n, seed))

    def key(self, params: Mapping[str, Any]) -> tuple:
        """The hashable identity of a point: :func:`point_key` of its encoded row."""
        return row_key(self.encode(params).tolist())


def as_space(space: Space | Mapping[str, Any]) -> Space:
    """Accept a ``Space`` or the shorthand dict wherever a space is expected."""
    return space if isinstance(space, Space) else Space(space)
