"""bayes_opt 3.x's ``bayes_opt.parameter``: one ``pbounds`` entry -> a gpu_bo dimension.

bayes_opt 3.x's rules: two numbers (a tuple *or a list*) are float bounds, ``(low, high, int)``
an integer, ``(low, high, float)`` a float, any other sequence a set of categories. gpu_bo
dimensions (``gb.Real`` ...) are accepted as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gpu_bo.integrations.bayes_opt.util import _is_num
from gpu_bo.space import Categorical, Integer, Real, Space

__all__: list[str] = []


def _dimension(key: str, bound: Any) -> Real | Integer | Categorical:
    """One pbounds entry -> a gpu_bo dimension, with bayes_opt 3.x's rules."""
    if isinstance(bound, (Real, Integer, Categorical)):
        return bound
    if isinstance(bound, (str, bytes)) or not isinstance(bound, (Sequence, np.ndarray)):
        raise ValueError(
            f"pbounds[{key!r}]: got {bound!r}; expected (low, high), (low, high, int), "
            "(low, high, float) or a sequence of categories"
        )
    b = list(bound)
    if len(b) == 2 and _is_num(b[0]) and _is_num(b[1]) or len(b) == 3 and b[-1] is float:
        if not (_is_num(b[0]) and _is_num(b[1])):
            raise ValueError(f"pbounds[{key!r}]: got {bound!r}; expected numeric bounds")
        lo, hi = float(b[0]), float(b[1])
        if lo == hi:
            raise ValueError(f"pbounds[{key!r}]: got equal bounds {bound!r}; expected low < high")
        return Real(min(lo, hi), max(lo, hi), name=key)
    if len(b) == 3 and b[-1] is int:
        return Integer(int(b[0]), int(b[1]), name=key)
    if len(b) < 2:
        raise ValueError(f"pbounds[{key!r}]: got {bound!r}; expected at least two categories")
    return Categorical([v.item() if isinstance(v, np.generic) else v for v in b], name=key)


def _space_from_pbounds(pbounds: Mapping[str, Any]) -> Space:
    """``{name: bounds}`` -> the gpu_bo Space, parameters in the order of the keys."""
    if not isinstance(pbounds, Mapping) or not pbounds:
        raise ValueError(f"pbounds: got {pbounds!r}; expected a non-empty dict of name -> bounds")
    return Space({key: _dimension(key, b) for key, b in pbounds.items()})
