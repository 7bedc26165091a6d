"""The small conversions the facade's modules share (bayes_opt's ``ensure_rng`` among them)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["ensure_rng"]


def ensure_rng(random_state: Any = None) -> np.random.RandomState:
    """bayes_opt's ``ensure_rng``: an int or None -> a numpy ``RandomState``; a ``RandomState`` as it is.

    Args:
        random_state: an int seed, a numpy ``RandomState`` or None (unseeded).
    """
    if random_state is None:
        return np.random.RandomState()
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        return np.random.RandomState(int(random_state))
    raise ValueError(f"random_state: got {random_state!r}, expected an int, a numpy RandomState or None")


def _is_num(v: Any) -> bool:
    """A real number (Python or numpy), not a bool."""
    return isinstance(v, (numbers.Real, np.number)) and not isinstance(v, (bool, np.bool_))


def _seed(random_state: Any) -> int | None:
    """bayes_opt's ``random_state`` (int, numpy ``RandomState`` or None) -> the optimizer's int seed."""
    if random_state is None:
        return None
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise ValueError(f"random_state: got {random_state!r}, expected an int, a numpy RandomState or None")


def _plain(v: Any) -> Any:
    """A numpy scalar -> the Python value; anything else unchanged."""
    return v.item() if isinstance(v, np.generic) else v
