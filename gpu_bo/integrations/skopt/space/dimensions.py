"""scikit-optimize's dimension objects (``Real``, ``Integer``, ``Categorical``) on gpu_bo.

They keep skopt's public behaviour (sampling with ``rvs``, ``transform``/``inverse_transform``
into skopt's warped spaces, ``bounds``, ``distance``, ``in``) and convert to gpu_bo's own
dimensions (:meth:`to_gpu_bo`), which the engine searches in its unit-cube encoding. Sampling
draws from ``scipy.stats.uniform`` / ``randint`` exactly as skopt does, so a seeded ``rvs``
gives skopt's numbers.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from scipy.stats import randint, rv_discrete, uniform
from sklearn.utils import check_random_state

from gpu_bo import space as gb_space

__all__ = ["Dimension", "Real", "Integer", "Categorical"]

_PRIORS = ("uniform", "log-uniform")


def _uniform_inclusive(loc: float, scale: float) -> Any:
    # skopt samples [low, high] inclusive of high: the scale is widened by one float step
    return uniform(loc=loc, scale=np.nextafter(scale, scale + 1.0))


class Dimension:
    """Base class of the skopt-style dimensions."""

    prior: str | None = None

    @property
    def name(self) -> str | None:
        """The dimension's name (a str or None)."""
        return self._name

    @name.setter
    def name(self, value: Any) -> None:
        if isinstance(value, str) or value is None:
            self._name = value
        else:
            raise ValueError("Dimension's name must be either string or None.")

    def rvs(self, n_samples: int | None = 1, random_state: Any = None) -> Any:
        """Draw random samples (skopt's streams: the same seed gives skopt's values).

        Args:
            n_samples: how many samples.
            random_state: int, ``numpy.random.RandomState`` or None.
        """
        rng = check_random_state(random_state)
        return self.inverse_transform(self._rvs.rvs(size=n_samples, random_state=rng))

    @property
    def size(self) -> int:
        """1: one value per point."""
        return 1

    @property
    def transformed_size(self) -> int:
        """Columns of the transformed value."""
        return 1


def _check_transform(transform: str | None) -> str:
    transform = "identity" if transform is None else transform
    if transform not in ("normalize", "identity"):
        raise ValueError(f"transform should be 'normalize' or 'identity' got {transform!r}")
    return transform


class _Numeric(Dimension):
    """What Real and Integer share: bounds, prior, base, the warped space."""

    _label = ""

    def __init__(self, low: Any, high: Any, prior: str = "uniform", base: int = 10, transform: str | None = None,
                 name: str | None = None, dtype: Any = float) -> None:
        for v, which in ((low, "low"), (high, "high")):
            if not isinstance(v, numbers.Real) or isinstance(v, bool):
                raise ValueError(f"{self._label}: {which}={v!r} is not a number")
        if high <= low:
            raise ValueError(f"{self._label}: the lower bound {low} has to be less than the upper bound {high}")
        if prior not in _PRIORS:
            raise ValueError(f"{self._label}: prior={prior!r}; expected 'uniform' or 'log-uniform'")
        if prior == "log-uniform" and (low <= 0 or high <= 0):
            raise ValueError(f"{self._label}: low={low}, high={high}: search space should not contain 0 when "
                             "using log-uniform prior (expected low > 0)")
        self.low, self.high, self.prior, self.base = low, high, prior, base
        self.log_base = np.log10(base)
        self.name = name
        self.dtype = dtype
        self.set_transformer(transform)

    def _log(self, v: Any) -> Any:
        return np.log10(v) / self.log_base

    def set_transformer(self, transform: str | None = "identity") -> None:
        """Choose the warped space: ``"identity"`` (log-base values for a log-uniform prior) or
        ``"normalize"`` ([0, 1]).

        Args:
            transform: ``"identity"`` or ``"normalize"``.
        """
        self.transform_ = _check_transform(transform)
        lo, hi = self._warp_bounds()
        self._rvs = self._sampler(lo, hi)

    def _warp_bounds(self) -> tuple[float, float]:
        if self.prior == "log-uniform":
            return self._log(self.low), self._log(self.high)
        return self.low, self.high

    def _warp(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        t = self._log(X) if self.prior == "log-uniform" else X
        if self.transform_ == "normalize":
            lo, hi = self._warp_bounds()
            t = (t - lo) / (hi - lo)
        return t

    def _unwarp(self, Xt: Any) -> np.ndarray:
        t = np.asarray(Xt, dtype=float)
        if self.transform_ == "normalize":
            lo, hi = self._warp_bounds()
            t = np.clip(t, 0.0, 1.0) * (hi - lo) + lo
        return self.base ** t if self.prior == "log-uniform" else t

    def transform(self, X: Any) -> Any:
        """Values -> the warped space.

        Args:
            X: a value or an array of values.
        """
        return self._warp(X)

    @property
    def bounds(self) -> tuple:
        """``(low, high)``."""
        return (self.low, self.high)

    @property
    def is_constant(self) -> bool:
        """Whether the dimension holds one value only (never: low < high)."""
        return self.low == self.high

    @property
    def transformed_bounds(self) -> tuple:
        """The bounds in the warped space."""
        if self.transform_ == "normalize":
            return 0.0, 1.0
        if self.prior == "uniform":
            return self.low, self.high
        return np.log10(self.low), np.log10(self.high)

    def __contains__(self, point: Any) -> bool:
        if isinstance(point, list):
            point = np.array(point)
        return bool(np.all(self.low <= point) and np.all(point <= self.high))

    def distance(self, a: Any, b: Any) -> Any:
        """``|a - b|`` for two values inside the dimension.

        Args:
            a: a value.
            b: another value.

        Raises:
            RuntimeError: a value lies outside the dimension.
        """
        if not (a in self and b in self):
            raise RuntimeError(f"Can only compute distance for values within the space, not {a} and {b}.")
        return abs(a - b)

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and np.allclose([self.low], [other.low])
                and np.allclose([self.high], [other.high]) and self.prior == other.prior
                and self.transform_ == other.transform_)

    __hash__ = None  # type: ignore[assignment]  # mutable (set_transformer), as skopt's

    def _gb_kwargs(self) -> dict:
        return {"log": self.prior == "log-uniform", "name": self.name}


class Real(_Numeric):
    """A continuous dimension ``[low, high]``.

    Args:
        low: lower bound (inclusive).
        high: upper bound (inclusive).
        prior: ``"uniform"`` or ``"log-uniform"``.
        base: the log base of a log-uniform prior (it shapes ``transform`` only: gpu_bo's
            encoding of a log scale is the same in every base).
        transform: ``"identity"`` or ``"normalize"``.
        name: the dimension's name.
        dtype: the type of the values returned (float).
    """

    _label = "Real"

    def __init__(self, low: Any, high: Any, prior: str = "uniform", base: int = 10, transform: str | None = None,
                 name: str | None = None, dtype: Any = float) -> None:
        super().__init__(low, high, prior, base, transform, name, dtype)
        self.low, self.high = float(low), float(high)

    def _sampler(self, lo: float, hi: float) -> Any:
        if self.transform_ == "normalize":
            return _uniform_inclusive(0.0, 1.0)
        return _uniform_inclusive(lo, hi - lo)

    def inverse_transform(self, Xt: Any) -> Any:
        """Warped values -> values, clipped to the bounds.

        Args:
            Xt: a value or an array of values in the warped space.
        """
        out = np.clip(self._unwarp(Xt), self.low, self.high).astype(self.dtype)
        return out.tolist() if self.dtype in (float, "float") else out

    def __repr__(self) -> str:
        return f"Real(low={self.low}, high={self.high}, prior='{self.prior}', transform='{self.transform_}')"

    def to_gpu_bo(self) -> gb_space.Real:
        """The same dimension as a :class:`gpu_bo.space.Real`."""
        return gb_space.Real(self.low, self.high, **self._gb_kwargs())


class Integer(_Numeric):
    """An integer dimension ``[low, high]`` (both inclusive).

    Args:
        low: lower bound.
        high: upper bound.
        prior: ``"uniform"`` or ``"log-uniform"``.
        base: the log base of a log-uniform prior.
        transform: ``"identity"`` or ``"normalize"``.
        name: the dimension's name.
        dtype: the integer type of the values returned (``int`` or a numpy integer type).
    """

    _label = "Integer"

    def __init__(self, low: Any, high: Any, prior: str = "uniform", base: int = 10, transform: str | None = None,
                 name: str | None = None, dtype: Any = np.int64) -> None:
        super().__init__(low, high, prior, base, transform, name, dtype)
        self.low, self.high = int(np.round(low)), int(np.round(high))

    def _sampler(self, lo: float, hi: float) -> Any:
        if self.transform_ == "normalize" or self.prior == "log-uniform":
            return _uniform_inclusive(0.0, 1.0) if self.transform_ == "normalize" else _uniform_inclusive(lo, hi - lo)
        return randint(self.low, self.high + 1)

    def transform(self, X: Any) -> Any:
        """Values -> the warped space (integers stay integers under ``"identity"``).

        Args:
            X: a value or an array of values.
        """
        if self.transform_ == "identity" and self.prior == "uniform":
            return np.asarray(X)
        if self.transform_ == "normalize" and self.prior == "uniform":
            return (np.asarray(X, dtype=float) - self.low) / (self.high - self.low)
        return self._warp(X)

    def inverse_transform(self, Xt: Any) -> Any:
        """Warped values -> integers, rounded and clipped to the bounds.

        Args:
            Xt: a value or an array of values in the warped space.
        """
        if self.transform_ == "normalize" and self.prior == "uniform":
            t = np.clip(np.asarray(Xt, dtype=float), 0.0, 1.0) * (self.high - self.low) + self.low
        else:
            t = self._unwarp(Xt)
        dtype = np.dtype(self.dtype).type if isinstance(self.dtype, str) and self.dtype != "int" else self.dtype
        out = np.clip(np.round(t), self.low, self.high).astype(dtype)
        if dtype in (int, "int"):
            return out.tolist()
        return out if out.ndim else dtype(out)

    def __repr__(self) -> str:
        return f"Integer(low={self.low}, high={self.high}, prior='{self.prior}', transform='{self.transform_}')"

    def to_gpu_bo(self) -> gb_space.Integer:
        """The same dimension as a :class:`gpu_bo.space.Integer`."""
        return gb_space.Integer(self.low, self.high, **self._gb_kwargs())


_CAT_TRANSFORMS = ("onehot", "label", "string", "identity", "normalize")


class Categorical(Dimension):
    """A dimension that takes one of ``categories`` (no order is implied).

    Args:
        categories: the values.
        prior: sampling probabilities of the categories (None: uniform).
        transform: ``"onehot"`` (default), ``"label"``, ``"string"``, ``"identity"`` or
            ``"normalize"``: the warped space of :meth:`transform` (the engine always encodes
            categories by equality, whatever is chosen here).
        name: the dimension's name.
    """

    def __init__(self, categories: Any, prior: Any = None, transform: str | None = None,
                 name: str | None = None) -> None:
        # numpy scalars (an array of categories) as Python values: what estimators and JSON expect
        self.categories = tuple(c.item() if isinstance(c, np.generic) else c for c in categories)
        if not self.categories:
            raise ValueError("Categorical: categories is empty; expected at least one value")
        self.name = name
        if prior is not None and (len(prior) != len(self.categories) or not np.isclose(sum(prior), 1.0)):
            raise ValueError(f"Categorical: prior={prior!r}; expected {len(self.categories)} probabilities summing to 1")
        self.prior = prior
        self.set_transformer(transform)

    def set_transformer(self, transform: str | None = "onehot") -> None:
        """Choose the warped space of :meth:`transform`.

        Args:
            transform: ``"onehot"``, ``"label"``, ``"string"``, ``"identity"`` or ``"normalize"``.
        """
        transform = "onehot" if transform is None else transform
        if transform not in _CAT_TRANSFORMS:
            raise ValueError(f"Categorical: transform={transform!r}; expected one of {list(_CAT_TRANSFORMS)}")
        self.transform_ = transform
        k = len(self.categories)
        self._rvs = rv_discrete(values=(range(k), self.prior if self.prior is not None else [1.0 / k] * k))

    def _index(self, v: Any) -> int:
        for i, c in enumerate(self.categories):
            if c is v or (isinstance(c, bool) == isinstance(v, (bool, np.bool_)) and _same(c, v)):
                return i
        raise ValueError(f"Categorical: got {v!r}; expected one of {list(self.categories)!r}")

    def transform(self, X: Any) -> Any:
        """Categories -> the warped space.

        Args:
            X: a list of categories.
        """
        X = list(X) if isinstance(X, (list, tuple, np.ndarray)) else [X]
        idx = np.array([self._index(v) for v in X], dtype=int)
        k = len(self.categories)
        t = self.transform_
        if t == "onehot":
            if k == 2:
                return idx.reshape(-1, 1).astype(float)
            return np.eye(k)[idx] if k > 1 else idx.reshape(-1, 1).astype(float)
        if t == "label":
            return idx.tolist()
        if t == "string":
            return [str(self.categories[i]) for i in idx]
        if t == "normalize":
            return (idx / max(k - 1, 1)).astype(float).tolist()
        return list(X)

    def inverse_transform(self, Xt: Any) -> list:
        """The warped space -> categories.

        Args:
            Xt: values in the warped space.
        """
        k, t = len(self.categories), self.transform_
        if t == "onehot":
            arr = np.asarray(Xt, dtype=float)
            if k <= 2 or arr.ndim == 1:
                idx = np.round(arr.reshape(-1)).astype(int) if arr.ndim <= 1 or arr.shape[-1] == 1 else arr.argmax(-1)
            else:
                idx = arr.argmax(axis=-1)
            return [self.categories[min(max(i, 0), k - 1)] for i in np.atleast_1d(idx)]
        if t == "label":
            return [self.categories[int(np.round(i))] for i in np.atleast_1d(Xt)]
        if t == "string":
            lookup = {str(c): c for c in self.categories}
            return [lookup[s] for s in np.atleast_1d(Xt)]
        if t == "normalize":
            return [self.categories[int(np.round(np.clip(v, 0, 1) * (k - 1)))] for v in np.atleast_1d(Xt)]
        return list(np.atleast_1d(np.asarray(Xt, dtype=object)))

    def rvs(self, n_samples: int | None = None, random_state: Any = None) -> Any:
        """Draw categories (a single one when ``n_samples`` is None).

        Args:
            n_samples: how many (None: one, not in a list).
            random_state: int, ``numpy.random.RandomState`` or None.
        """
        idx = self._rvs.rvs(size=n_samples, random_state=check_random_state(random_state))
        if n_samples is None:  # one category; skopt gives a list of one under "normalize"
            return [self.categories[int(idx)]] if self.transform_ == "normalize" else self.categories[int(idx)]
        return [self.categories[i] for i in np.atleast_1d(idx)]

    @property
    def transformed_size(self) -> int:
        """Columns of the transformed value (one-hot: one per category, 1 for two)."""
        k = len(self.categories)
        return k if self.transform_ == "onehot" and k > 2 else 1

    @property
    def bounds(self) -> tuple:
        """The categories."""
        return self.categories

    @property
    def is_constant(self) -> bool:
        """True for a single category."""
        return len(self.categories) <= 1

    @property
    def transformed_bounds(self) -> Any:
        """The bounds of each warped column."""
        if self.transformed_size == 1:
            return (0.0, 1.0) if self.transform_ != "label" else (0, len(self.categories) - 1)
        return [(0.0, 1.0) for _ in self.categories]

    def __contains__(self, point: Any) -> bool:
        try:
            self._index(point)
            return True
        except ValueError:
            return False

    def distance(self, a: Any, b: Any) -> int:
        """0 for the same category, else 1.

        Args:
            a: a category.
            b: another category.
        """
        if not (a in self and b in self):
            raise RuntimeError(f"Can only compute distance for values within the space, not {a} and {b}.")
        return 1 if self._index(a) != self._index(b) else 0

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and len(self.categories) == len(other.categories)
                and all(_same(a, b) and type(a) is type(b) for a, b in zip(self.categories, other.categories))
                and np.allclose(self.prior or [0], other.prior or [0]))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        cats = self.categories
        shown = ", ".join(map(repr, cats)) if len(cats) <= 7 else \
            ", ".join(map(repr, cats[:3])) + ", ..., " + ", ".join(map(repr, cats[-3:]))
        return f"Categorical(categories=({shown}), prior={self.prior})"

    def to_gpu_bo(self) -> gb_space.Categorical:
        """The same dimension as a :class:`gpu_bo.space.Categorical` (numpy bools and scalars
        become Python values)."""
        return gb_space.Categorical(self.categories, name=self.name)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an exotic __eq__ (arrays): identity only
        return a is b
