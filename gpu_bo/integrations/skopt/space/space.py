"""scikit-optimize's ``Space`` and ``check_dimension`` on gpu_bo's dimensions.

A skopt space is an ordered *list* of dimensions (a point is a list of values); gpu_bo's is a
dict of named ones. :meth:`Space.to_gpu_bo` names each dimension (its ``name``, else ``x{i}``)
and :meth:`Space.to_params` / :meth:`Space.from_params` convert points between the two.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from gpu_bo import space as gb_space
from gpu_bo.integrations.skopt.space.dimensions import Categorical, Dimension, Integer, Real

__all__ = ["Space", "check_dimension", "Real", "Integer", "Categorical", "Dimension", "from_gpu_bo"]

_PRIORS = ("uniform", "log-uniform")


def _invalid(dimension: Any) -> ValueError:
    return ValueError(f"Invalid dimension {dimension!r}. See the documentation of check_dimension for "
                      "supported values.")


def _is_flag(v: Any) -> bool:
    return isinstance(v, (str, bool, np.bool_))


def from_gpu_bo(dim: Any) -> Dimension:
    """A gpu_bo dimension (``gb.Real/Integer/Categorical``) as the skopt-style one.

    Args:
        dim: a :mod:`gpu_bo.space` dimension.
    """
    if isinstance(dim, gb_space.Categorical):
        return Categorical(dim.choices, name=dim.name)
    cls = Real if isinstance(dim, gb_space.Real) else Integer
    return cls(dim.low, dim.high, prior="log-uniform" if dim.log else "uniform", name=dim.name)


def _foreign(dim: Any) -> Dimension | None:
    """A dimension object of a real ``skopt.space`` (duck-typed by class and attributes)."""
    kind = type(dim).__name__
    if not type(dim).__module__.startswith("skopt."):
        return None
    name = getattr(dim, "name", None)
    if kind == "Categorical":
        return Categorical(dim.categories, prior=getattr(dim, "prior", None), name=name)
    if kind in ("Real", "Integer"):
        cls = Real if kind == "Real" else Integer
        return cls(dim.low, dim.high, prior=dim.prior, base=getattr(dim, "base", 10),
                   transform=getattr(dim, "transform_", None), name=name)
    raise TypeError(f"dimension: got a {type(dim).__module__}.{kind}; expected a skopt Real, Integer or Categorical")


def check_dimension(dimension: Any, transform: str | None = None) -> Dimension:
    """A dimension object from any form scikit-optimize 0.10 accepts, read as skopt 0.10 reads it.

    - a ``Real``/``Integer``/``Categorical`` (these, a real ``skopt.space`` one, or gpu_bo's);
    - a list, tuple or array of one value: a ``Categorical`` with that one value;
    - two values: a ``Categorical`` if either is a str or bool, else ``Integer`` if both are
      integral, else ``Real`` (so ``[0.1, 0.9]`` is the range, as in skopt, not two choices);
    - ``(low, high, "uniform" | "log-uniform")`` and ``(low, high, "log-uniform", base)``;
    - any other list, tuple or array: a ``Categorical`` of its values.

    Args:
        dimension: the description.
        transform: the warped space of the dimension made (see each class).

    Raises:
        ValueError: the description is none of these (``"Invalid dimension ..."``).
    """
    if isinstance(dimension, Dimension):
        return dimension
    if isinstance(dimension, (gb_space.Real, gb_space.Integer, gb_space.Categorical)):
        return from_gpu_bo(dimension)
    foreign = _foreign(dimension)
    if foreign is not None:
        return foreign
    if not isinstance(dimension, (list, tuple, np.ndarray)):
        raise _invalid(dimension)
    dim = list(dimension)
    n = len(dim)
    if n == 1:
        return Categorical(dim, transform=transform)
    if n == 2:
        if any(_is_flag(v) for v in dim):
            return Categorical(dim, transform=transform)
        if all(isinstance(v, numbers.Integral) for v in dim):
            return Integer(*map(int, dim), transform=transform)
        if all(isinstance(v, numbers.Real) for v in dim):
            return Real(*map(float, dim), transform=transform)
        raise _invalid(dimension)
    if n in (3, 4) and isinstance(dim[2], str) and (n == 3 and dim[2] in _PRIORS or
                                                    n == 4 and dim[2] == "log-uniform" and isinstance(dim[3], int)):
        if not any(_is_flag(v) for v in dim[:2]):
            if all(isinstance(v, numbers.Integral) for v in dim[:2]):
                return Integer(*map(int, dim[:2]), *dim[2:], transform=transform)
            if all(isinstance(v, numbers.Real) for v in dim[:2]):
                return Real(*map(float, dim[:2]), *dim[2:], transform=transform)
    if n >= 3:
        return Categorical(dim, transform=transform)
    raise _invalid(dimension)


class Space:
    """An ordered list of dimensions (skopt's ``Space``).

    Args:
        dimensions: dimension objects or descriptions :func:`check_dimension` accepts, or a
            ``Space``.
        constraint: a callable of a point (a list) that is True for the points :meth:`rvs` may
            return (inherited from a ``Space`` given as ``dimensions`` when None).
    """

    def __init__(self, dimensions: Any, constraint: Callable[[list], bool] | None = None) -> None:
        if isinstance(dimensions, Space):
            constraint = constraint if constraint is not None else dimensions.constraint
            dimensions = dimensions.dimensions
        if isinstance(dimensions, (str, bytes)) or not isinstance(dimensions, Iterable):
            raise TypeError(f"dimensions: got {dimensions!r} ({type(dimensions).__name__}); expected a list of "
                            "dimensions")
        self.dimensions = [check_dimension(d) for d in dimensions]
        if not self.dimensions:
            raise ValueError("dimensions: got an empty list; expected at least one dimension")
        if constraint is not None and not callable(constraint):
            raise TypeError(f"constraint: got {constraint!r}; expected a callable of a point or None")
        self.constraint = constraint

    # -- description --------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and len(self.dimensions) == len(other.dimensions) and all(
            a == b for a, b in zip(self.dimensions, other.dimensions))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        dims = ",\n       ".join(map(repr, self.dimensions))
        return f"Space([{dims}])"

    def __iter__(self):
        return iter(self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __getitem__(self, key: Any) -> Any:
        """``(index, dimension)`` for a name or index, a list of them for several."""
        if isinstance(key, (list, tuple)):
            return [self[k] for k in key]
        if isinstance(key, numbers.Integral):
            return int(key), self.dimensions[key]
        for i, d in enumerate(self.dimensions):
            if d.name == key:
                return i, d
        raise KeyError(f"Space: no dimension is named {key!r}; the names are {self.dimension_names}")

    @property
    def n_dims(self) -> int:
        """Number of dimensions."""
        return len(self.dimensions)

    @property
    def transformed_n_dims(self) -> int:
        """Columns of a transformed point."""
        return sum(d.transformed_size for d in self.dimensions)

    @property
    def dimension_names(self) -> list:
        """Each dimension's name (None where unnamed)."""
        return [d.name for d in self.dimensions]

    @dimension_names.setter
    def dimension_names(self, names: list) -> None:
        if len(names) != len(self.dimensions):
            raise ValueError("`names` must be the same length as `self.dimensions`.")
        for d, n in zip(self.dimensions, names):
            d.name = n

    @property
    def bounds(self) -> list:
        """Each dimension's bounds (categories for a Categorical)."""
        return [d.bounds for d in self.dimensions]

    @property
    def transformed_bounds(self) -> list:
        """The bounds of each transformed column."""
        out = []
        for d in self.dimensions:
            b = d.transformed_bounds
            out.extend(b if d.transformed_size > 1 else [b])
        return out

    @property
    def is_real(self) -> bool:
        """All dimensions are Real."""
        return all(isinstance(d, Real) for d in self.dimensions)

    @property
    def is_categorical(self) -> bool:
        """All dimensions are Categorical."""
        return all(isinstance(d, Categorical) for d in self.dimensions)

    @property
    def is_partly_categorical(self) -> bool:
        """Some dimension is Categorical."""
        return any(isinstance(d, Categorical) for d in self.dimensions)

    @property
    def n_constant_dimensions(self) -> int:
        """Dimensions that hold one value only."""
        return sum(d.is_constant for d in self.dimensions)

    # -- transformers -------------------------------------------------------------------------
    def get_transformer(self) -> list:
        """Each dimension's transform."""
        return [d.transform_ for d in self.dimensions]

    def set_transformer(self, transform: str | list) -> None:
        """Set every dimension's transform (one str) or each one's (a list).

        Args:
            transform: a transform name, or one per dimension.
        """
        names = [transform] * len(self.dimensions) if isinstance(transform, str) else list(transform)
        for d, t in zip(self.dimensions, names):
            d.set_transformer(t)

    def set_transformer_by_type(self, transform: str, dim_type: type) -> None:
        """Set the transform of the dimensions of one type.

        Args:
            transform: a transform name.
            dim_type: ``Real``, ``Integer`` or ``Categorical``.
        """
        for d in self.dimensions:
            if isinstance(d, dim_type):
                d.set_transformer(transform)

    def transform(self, X: list) -> np.ndarray:
        """Points (a list of lists) -> the ``n x transformed_n_dims`` warped array.

        Args:
            X: the points.
        """
        cols = []
        for j, d in enumerate(self.dimensions):
            t = d.transform([row[j] for row in X])
            cols.append(np.asarray(t, dtype=float).reshape(len(X), -1))
        return np.hstack(cols)

    def inverse_transform(self, Xt: Any) -> list:
        """The warped array -> points (a list of lists of plain values).

        Args:
            Xt: ``n x transformed_n_dims``.
        """
        Xt = np.asarray(Xt, dtype=float)
        cols, start = [], 0
        for d in self.dimensions:
            w = d.transformed_size
            part = Xt[:, start:start + w]
            start += w
            v = d.inverse_transform(part if w > 1 else part[:, 0])
            cols.append(list(np.atleast_1d(v)) if not isinstance(v, list) else v)
        return [[_plain(c[i]) for c in cols] for i in range(Xt.shape[0])]

    # -- sampling, distance -------------------------------------------------------------------
    def rvs(self, n_samples: int = 1, random_state: Any = None) -> list:
        """Random points, each a list (rejection-sampled under ``constraint``).

        Args:
            n_samples: how many points.
            random_state: int, ``numpy.random.RandomState`` or None.

        Raises:
            RuntimeError: the constraint rejected 100 draws in a row.
        """
        rng = check_random_state(random_state)
        out: list = []
        for _ in range(100):
            cols = [d.rvs(n_samples=n_samples, random_state=rng) for d in self.dimensions]
            rows = [[_plain(np.atleast_1d(c)[i] if not isinstance(c, list) else c[i]) for c in cols]
                    for i in range(n_samples)]
            out += [r for r in rows if self.constraint is None or self.constraint(r)]
            if len(out) >= n_samples:
                return out[:n_samples]
        raise RuntimeError("Space.rvs: the constraint rejected every point drawn 100 times; is it satisfiable?")

    def distance(self, point_a: list, point_b: list) -> float:
        """Sum of the per-dimension distances.

        Args:
            point_a: a point.
            point_b: another point.
        """
        return sum(d.distance(a, b) for d, a, b in zip(self.dimensions, point_a, point_b))

    def __contains__(self, point: Any) -> bool:
        return len(point) == len(self.dimensions) and all(v in d for d, v in zip(self.dimensions, point))

    @classmethod
    def from_yaml(cls, yml_path: str, namespace: str | None = None) -> Space:
        """A space from a YAML file in skopt's format (``Space: [- Real: {low:, high:}, ...]``).

        Args:
            yml_path: the file (needs PyYAML).
            namespace: the top-level key (default ``"Space"``, case-insensitive).
        """
        import yaml

        with open(yml_path) as f:
            config = yaml.safe_load(f)
        key = next((k for k in config if k.lower() == (namespace or "space").lower()), None)
        if key is None:
            raise ValueError(f"yml_path: {yml_path!r} has no {namespace or 'Space'!r} key; got {sorted(config)}")
        kinds = {"real": Real, "integer": Integer, "categorical": Categorical}
        dims = []
        for entry in config[key]:
            (kind, kwargs), = entry.items()
            if kind.lower() not in kinds:
                raise ValueError(f"yml_path: dimension type {kind!r}; expected Real, Integer or Categorical")
            dims.append(kinds[kind.lower()](**kwargs))
        return cls(dims)

    @classmethod
    def from_df(cls, df: Any, priors: dict | None = None, bases: dict | None = None,
                transforms: dict | None = None) -> Space:
        """A space spanning a pandas DataFrame's columns: float columns -> Real, integer columns ->
        Integer (their min and max), others (bools, strings) -> Categorical of their values in
        order of appearance; the names are the columns (as str).

        Args:
            df: the DataFrame.
            priors: column -> prior of a Real or Integer.
            bases: column -> log base.
            transforms: column -> transform.

        Raises:
            ImportError: pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("from_df requires pandas: pip install pandas") from e
        priors, bases, transforms = priors or {}, bases or {}, transforms or {}
        dims: list = []
        for col in df.columns:
            s, name = df[col], str(col)
            kw = {"transform": transforms.get(col), "name": name}
            if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
                dims.append(Categorical(list(dict.fromkeys(s.tolist())), **kw))
                continue
            cls_ = Integer if pd.api.types.is_integer_dtype(s) else Real
            dims.append(cls_(s.min(), s.max(), prior=priors.get(col, "uniform"), base=bases.get(col, 10), **kw))
        return cls(dims)

    # -- gpu_bo --------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """The parameter names of :meth:`to_gpu_bo`: each dimension's name, else ``x{i}`` (all
        ``x{i}`` when names repeat)."""
        names = [d.name if d.name is not None else f"x{i}" for i, d in enumerate(self.dimensions)]
        return names if len(set(names)) == len(names) else [f"x{i}" for i in range(len(names))]

    def to_gpu_bo(self) -> gb_space.Space:
        """The same space as a :class:`gpu_bo.space.Space` (names from :attr:`names`)."""
        return gb_space.Space({n: d.to_gpu_bo() for n, d in zip(self.names, self.dimensions)})

    def to_params(self, point: Any) -> dict[str, Any]:
        """A point (list) as the gpu_bo params dict, checked against the space.

        Args:
            point: one value per dimension.

        Raises:
            ValueError: the point has the wrong length or a value outside its dimension.
        """
        point = list(point)
        if len(point) != len(self.dimensions):
            raise ValueError(f"Dimensions of point {point} and space {self} do not match")
        if point not in self:
            raise ValueError(f"Point ({point}) is not within the bounds of the space ({self.bounds}).")
        return {n: _plain(v) for n, v in zip(self.names, point)}

    def from_params(self, params: dict[str, Any]) -> list:
        """The gpu_bo params dict as a point (a list in the dimensions' order).

        Args:
            params: a point of :meth:`to_gpu_bo`.
        """
        out = []
        for n, d in zip(self.names, self.dimensions):
            v = params[n]
            if isinstance(d, Categorical):  # the user's own object, not gpu_bo's plain copy
                v = d.categories[d._index(v)]
            elif isinstance(d, Integer) and d.dtype not in (int, "int", np.int64):
                v = d.dtype(v)
            out.append(v)
        return out


def _plain(v: Any) -> Any:
    """numpy scalars as Python values (what estimators and JSON expect)."""
    return v.item() if isinstance(v, np.generic) else v
