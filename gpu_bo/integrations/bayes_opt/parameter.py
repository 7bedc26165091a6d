"""bayes_opt 3.x's ``bayes_opt.parameter``: the parameter objects of ``pbounds``.

bayes_opt's rules for a ``pbounds`` entry: two numbers (a tuple *or a list*) are float bounds,
``(low, high, int)`` an integer, ``(low, high, float)`` a float, any other sequence a set of
categories; a ``FloatParameter`` / ``IntParameter`` / ``CategoricalParameter`` object and a gpu_bo
dimension (``gb.Real`` ...) are accepted as they are.

Each parameter has bayes_opt's float representation (``to_float`` / ``to_param``: one column for
a float or an int, one-hot columns for a categorical), which is what ``TargetSpace.params`` and
``bounds`` show; the GP and the acquisition search run on the matching gpu_bo dimension
(:meth:`BayesParameter.dimension`). A user's own ``BayesParameter`` subclass has no gpu_bo
dimension: it is refused with ``NotImplementedError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gpu_bo.integrations.bayes_opt._convert import _is_num, ensure_rng
from gpu_bo.space import Categorical, Integer, Real, Space

__all__ = ["BayesParameter", "FloatParameter", "IntParameter", "CategoricalParameter", "wrap_kernel"]


def _clip_text(text: str, str_len: int, dots: bool) -> str:
    """``text`` padded to ``str_len``, or cut to it (ending in ``...`` when ``dots``)."""
    if len(text) <= str_len:
        return text.ljust(str_len)
    return text[:max(str_len - 3, 0)] + "..." if dots else text[:str_len]


class BayesParameter:
    """bayes_opt's base class of a parameter: a name, float bounds and the float representation.

    Args:
        name: the parameter's name (the key of ``pbounds``).
        bounds: its float bounds (``[low, high]``, or ``k x 2`` for a multi-column parameter).
    """

    def __init__(self, name: str, bounds: Any) -> None:
        self.name = name
        self._bounds = np.asarray(bounds, dtype=float)

    @property
    def bounds(self) -> np.ndarray:
        """The float bounds (``[low, high]``, or one row per column)."""
        return self._bounds

    @property
    def is_continuous(self) -> bool:
        """Whether every value between the bounds is allowed."""
        raise NotImplementedError(f"{type(self).__name__}.is_continuous: a subclass defines it")

    @property
    def dim(self) -> int:
        """How many float columns the parameter takes."""
        return 1

    def random_sample(self, n_samples: int, random_state: Any) -> np.ndarray:
        """``n_samples`` uniform float values between the bounds.

        Args:
            n_samples: how many values.
            random_state: an int, a numpy ``RandomState`` or None.
        """
        rng = ensure_rng(random_state)
        return rng.uniform(self.bounds[0], self.bounds[1], n_samples)

    def to_float(self, value: Any) -> float | np.ndarray:
        """A value -> its float representation.

        Args:
            value: the parameter's value.
        """
        return float(value)

    def to_param(self, value: Any) -> Any:
        """A float representation -> the parameter's value.

        Args:
            value: a float (or a one-element array).
        """
        return float(np.asarray(value, dtype=float).ravel()[0])

    def kernel_transform(self, value: Any) -> Any:
        """The float value the GP's kernel sees (integers rounded, categoricals one-hot).

        Args:
            value: float representation(s).
        """
        return value

    def to_string(self, value: Any, str_len: int) -> str:
        """The value as a table cell of ``str_len`` characters (bayes_opt's ``ScreenLogger``).

        Args:
            value: the parameter's value.
            str_len: the cell's width.
        """
        text = str(value)
        return _clip_text(text, str_len, dots="e" in text)

    def dimension(self) -> Real | Integer | Categorical:
        """The gpu_bo dimension the GP and the acquisition search use for this parameter."""
        raise NotImplementedError(
            f"pbounds[{self.name!r}]: got a {type(self).__name__}, a custom BayesParameter subclass; gpu_bo's "
            "GP models FloatParameter, IntParameter and CategoricalParameter (or gpu_bo dimensions) only")


class FloatParameter(BayesParameter):
    """A float parameter between ``bounds[0]`` and ``bounds[1]``.

    Args:
        name: the parameter's name.
        bounds: ``(low, high)``.
        dim: a gpu_bo ``Real`` to use instead of a uniform one (keeps ``log=True``).
    """

    def __init__(self, name: str, bounds: Any, dim: Real | None = None) -> None:
        super().__init__(name, bounds)
        self._dim = dim

    @property
    def is_continuous(self) -> bool:
        return True

    def dimension(self) -> Real:
        lo, hi = float(self.bounds[0]), float(self.bounds[1])
        if self._dim is not None and (self._dim.low, self._dim.high) == (lo, hi):
            return self._dim
        return Real(lo, hi, name=self.name)


class IntParameter(BayesParameter):
    """An integer parameter between ``bounds[0]`` and ``bounds[1]`` (both included).

    Args:
        name: the parameter's name.
        bounds: ``(low, high)``, integers.
    """

    def __init__(self, name: str, bounds: Any) -> None:
        super().__init__(name, np.asarray(bounds, dtype=int))

    @property
    def is_continuous(self) -> bool:
        return False

    def random_sample(self, n_samples: int, random_state: Any) -> np.ndarray:
        rng = ensure_rng(random_state)
        return rng.randint(int(self.bounds[0]), int(self.bounds[1]) + 1, n_samples).astype(float)

    def to_param(self, value: Any) -> int:
        return int(np.round(np.asarray(value, dtype=float).ravel()[0]))

    def kernel_transform(self, value: Any) -> Any:
        return np.round(value)

    def to_string(self, value: Any, str_len: int) -> str:
        return _clip_text(str(value), str_len, dots=True)

    def dimension(self) -> Integer:
        return Integer(int(self.bounds[0]), int(self.bounds[1]), name=self.name)


class CategoricalParameter(BayesParameter):
    """A categorical parameter: one-hot float columns, one per category.

    Args:
        name: the parameter's name.
        categories: the distinct categories (at least two).
    """

    def __init__(self, name: str, categories: Sequence[Any]) -> None:
        cats = [v.item() if isinstance(v, np.generic) else v for v in categories]
        if len(cats) < 2:
            raise ValueError(f"pbounds[{name!r}]: got {tuple(cats)!r}; expected at least two categories")
        if len(set(map(repr, cats))) != len(cats):
            raise ValueError(f"pbounds[{name!r}]: got {tuple(cats)!r}; expected distinct categories")
        self.categories = tuple(cats)
        super().__init__(name, np.tile([0.0, 1.0], (len(cats), 1)))

    @property
    def is_continuous(self) -> bool:
        return False

    @property
    def dim(self) -> int:
        return len(self.categories)

    def random_sample(self, n_samples: int, random_state: Any) -> np.ndarray:
        rng = ensure_rng(random_state)
        return np.eye(self.dim)[rng.randint(0, self.dim, n_samples)]

    def to_float(self, value: Any) -> np.ndarray:
        if value not in self.categories:
            raise ValueError(f"{self.name}: got {value!r}, expected one of {self.categories}")
        return np.eye(self.dim)[self.categories.index(value)]

    def to_param(self, value: Any) -> Any:
        return self.categories[int(np.argmax(np.asarray(value, dtype=float)))]

    def kernel_transform(self, value: Any) -> np.ndarray:
        v = np.atleast_2d(np.asarray(value, dtype=float))
        out = np.eye(self.dim)[np.argmax(v, axis=-1)]
        return out if np.ndim(value) > 1 else out[0]

    def to_string(self, value: Any, str_len: int) -> str:
        return _clip_text(str(value), str_len, dots=True)

    def dimension(self) -> Categorical:
        return Categorical(list(self.categories), name=self.name)


def wrap_kernel(kernel: Any, transform: Any) -> Any:
    """bayes_opt's sklearn-kernel wrapper; not provided: gpu_bo fits its own GP, not sklearn's.

    Args:
        kernel: an sklearn kernel.
        transform: the space's ``kernel_transform``.
    """
    raise NotImplementedError("wrap_kernel: gpu_bo's bayes_opt facade fits gpu_bo's own GP (a Matern-5/2 "
                              "kernel with fitted hyperparameters); sklearn kernels are not used")


def _parameter(key: str, bound: Any) -> BayesParameter:
    """One pbounds entry -> its parameter object, with bayes_opt 3.x's rules."""
    if isinstance(bound, BayesParameter):
        return bound
    if isinstance(bound, Real):
        return FloatParameter(key, (bound.low, bound.high), dim=bound)
    if isinstance(bound, Integer):
        return IntParameter(key, (bound.low, bound.high))
    if isinstance(bound, Categorical):
        return CategoricalParameter(key, bound.choices)
    if isinstance(bound, (str, bytes)) or not isinstance(bound, (Sequence, np.ndarray)):
        raise ValueError(
            f"pbounds[{key!r}]: got {bound!r}; expected (low, high), (low, high, int), "
            "(low, high, float) or a sequence of categories")
    b = list(bound)
    if len(b) == 2 and _is_num(b[0]) and _is_num(b[1]) or len(b) == 3 and b[-1] is float:
        if not (_is_num(b[0]) and _is_num(b[1])):
            raise ValueError(f"pbounds[{key!r}]: got {bound!r}; expected numeric bounds")
        lo, hi = float(b[0]), float(b[1])
        if lo == hi:
            raise ValueError(f"pbounds[{key!r}]: got equal bounds {bound!r}; expected low < high")
        return FloatParameter(key, (min(lo, hi), max(lo, hi)))
    if len(b) == 3 and b[-1] is int:
        if int(b[0]) > int(b[1]):
            raise ValueError(f"pbounds[{key!r}]: got {bound!r}; expected low <= high")
        return IntParameter(key, (int(b[0]), int(b[1])))
    return CategoricalParameter(key, b)


def _dimension(key: str, bound: Any) -> Real | Integer | Categorical:
    """One pbounds entry -> a gpu_bo dimension, with bayes_opt 3.x's rules."""
    return _parameter(key, bound).dimension()


def _space_from_pbounds(pbounds: Mapping[str, Any]) -> Space:
    """``{name: bounds}`` -> the gpu_bo Space, parameters in the order of the keys."""
    if not isinstance(pbounds, Mapping) or not pbounds:
        raise ValueError(f"pbounds: got {pbounds!r}; expected a non-empty dict of name -> bounds")
    return Space({key: _dimension(key, b) for key, b in pbounds.items()})
