"""Search spaces: dimensions, validation, encoding to the unit cube, decoding and sampling.

Glossary (shapes use BoTorch's grammar):
    d       number of dimensions of the space (one encoded column per dimension)
    n x d   a batch of encoded points, every value in [0, 1]

Encoding: one column per dimension (:mod:`gpu_bo.dimensions`). Categorical columns are compared
by equality only (no order is implied), so there is no one-hot blow-up of the encoded width.
Conditional dimensions (``when=``, :mod:`gpu_bo.conditions`): a point holds only its active
parameters, and an inactive column is encoded as ``conditions.INACTIVE``.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from gpu_bo import conditions as cond
from gpu_bo.categorical import Categorical
from gpu_bo.dimensions import Dimension, Integer, Real, dimension_from_dict, dimension_from_spec
from gpu_bo.exceptions import SpaceError

__all__ = ["Real", "Integer", "Categorical", "Dimension", "Space", "as_space", "point_key", "row_key"]

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
            self.dims[name] = dimension_from_spec(name, spec)
        self.names: list[str] = list(self.dims)
        #: the names parents-first (validates every condition: unknown parent, bad value, cycle)
        self.order: list[str] = cond.check_conditions(self.dims)
        self.conditional: bool = any(dim.when is not None for dim in self.dims.values())
        self._plan = cond.Plan(self.dims, self.order) if self.conditional else None

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
        n = math.prod(dim.n_bins for dim in self.dims.values())
        if self.conditional and n <= 2**16:  # inactive columns collapse: count the distinct points
            n = len(self._enumerate())
        return n

    def _enumerate(self) -> list[tuple]:
        # every distinct encoded point of a finite space, as encode() computes them (keys match)
        cols = [[dim.encode_value(i, name) for i in range(dim.low, dim.high + 1, dim.step)]
                if dim.kind == "integer" else [(i + 0.5) / dim.n_bins for i in range(dim.n_bins)]
                for name, dim in self.dims.items()]
        rows = list(itertools.product(*cols))
        if self.conditional:
            X = self.fill_inactive(torch.tensor(rows, dtype=torch.float64).reshape(-1, self.d))
            rows = list(dict.fromkeys(row_key(r) for r in X.tolist()))
        return rows

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
        rows = [r for r in self._enumerate() if row_key(r) not in exclude]
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
        return cls({name: dimension_from_dict(name, s) for name, s in spec.items()})

    # -- validation ----------------------------------------------------------------------------
    def active_names(self, params: Mapping[str, Any]) -> list[str]:
        """The parameters a point with these parent values holds, in the space's order."""
        act = cond.active_names(self.dims, self.order, params) if self.conditional else set(self.names)
        return [n for n in self.names if n in act]

    def validate(self, params: Mapping[str, Any]) -> None:
        """Raise a ``SpaceError`` if ``params`` is missing an active parameter, holds an unknown
        or an inactive one, or holds a value outside the space."""
        self._checked_active(params)

    def _checked_active(self, params: Mapping[str, Any]) -> list[str]:
        # validate's checks; returns the active names so canonical need not resolve them again
        if not isinstance(params, Mapping):
            raise SpaceError(f"params: got {type(params).__name__}; expected a dict of name -> value")
        extra = [n for n in params if n not in self.dims]
        if extra:
            raise SpaceError(
                f"params {dict(params)!r} has unknown parameter(s) {extra}; the space has {self.names}"
            )
        active = self.active_names(params)
        missing = [n for n in active if n not in params]
        if missing:
            raise SpaceError(f"params {dict(params)!r} is missing parameter(s) {missing}")
        for name in active:
            self.dims[name].encode_value(params[name], name)
        inactive = [n for n in params if n not in active]
        if inactive:
            n = inactive[0]
            raise SpaceError(
                f"params {dict(params)!r}: parameter {n!r} is inactive for this point (it needs "
                f"{cond.describe(self.dims, n)}); expected it left out"
            )
        return active

    def canonical(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A valid point as plain Python values in the space's order: floats, ints, and each
        categorical value as its choice itself (a JSON list back as its tuple); only its
        active parameters.

        Args:
            params: a point, e.g. read back from JSON.

        Raises:
            SpaceError: as :meth:`validate`.
        """
        return {name: self.dims[name].plain(params[name]) for name in self._checked_active(params)}

    # -- encode / decode -----------------------------------------------------------------------
    def encode(self, params: Mapping[str, Any] | Sequence[Mapping[str, Any]], *,
               device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """Encode one point (-> ``d``) or a list of points (-> ``n x d``) into the unit cube."""
        single = isinstance(params, Mapping)
        rows = [params] if single else list(params)
        out = []
        for p in rows:
            self.validate(p)
            out.append([dim.encode_value(p[name], name) if name in p else cond.INACTIVE
                        for name, dim in self.dims.items()])
        t = torch.tensor(out, device=device, dtype=dtype).reshape(len(rows), self.d)
        return t[0] if single else t

    def decode(self, X: torch.Tensor) -> list[dict[str, Any]]:
        """Decode ``n x d`` (or ``d``) unit-cube points to parameter dicts of plain Python values."""
        if X.dim() == 1:
            X = X.unsqueeze(0)
        if X.shape[-1] != self.d:
            raise ValueError(f"X: expected shape n x {self.d}, got {tuple(X.shape)}")
        rows = X.detach().to(device="cpu", dtype=torch.float64).tolist()
        out = [{name: dim.decode_value(x) for (name, dim), x in zip(self.dims.items(), r)} for r in rows]
        if self.conditional:
            out = [{n: p[n] for n in self.active_names(p)} for p in out]
        return out

    def snap(self, X: torch.Tensor) -> torch.Tensor:
        """Move the columns of ``... x d`` onto valid values, on device: integers and categoricals
        to their bin centres, stepped reals onto their grid, inactive columns to
        ``conditions.INACTIVE``. ``snap(X)`` equals ``encode(decode(X))`` up to rounding."""
        X = X.clamp(0.0, 1.0)
        cols = [X[..., i] if dim.kind == "real" and dim.step is None else dim.snap_column(X[..., i])
                for i, dim in enumerate(self.dims.values())]
        X = torch.stack(cols, dim=-1)
        return self.fill_inactive(X) if self.conditional else X

    def active_mask(self, X: torch.Tensor) -> torch.Tensor:
        """``... x d`` bool, on X's device: which encoded columns of (snapped) ``X`` are active."""
        if not self.conditional:
            return torch.ones(X.shape, dtype=torch.bool, device=X.device)
        return self._plan.mask(X)

    def activate(self, X: torch.Tensor, names: Sequence[str], keep: Sequence[str] = ()) -> torch.Tensor:
        """``X`` with the parents of ``names`` set so that they are active (not those in ``keep``);
        see :func:`gpu_bo.conditions.activate`. Snap the result to make it canonical."""
        return cond.activate(self.dims, X, names, keep) if self.conditional else X

    def fill_inactive(self, X: torch.Tensor) -> torch.Tensor:
        """``X`` (``... x d``) with its inactive columns set to ``conditions.INACTIVE``."""
        return cond.fill_inactive(self._plan.mask(X), X) if self.conditional else X

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
