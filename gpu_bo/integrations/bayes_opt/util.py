"""bayes_opt 1.x's ``bayes_opt.util``: ``UtilityFunction``, and the small conversions the facade shares.

``UtilityFunction`` lived in ``bayes_opt.util`` (re-exported by ``bayes_opt``) until bayes_opt 2.0
replaced it by the classes of :mod:`gpu_bo.integrations.bayes_opt.acquisition`; both are accepted.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from gpu_bo.integrations.bayes_opt.acquisition import BAYES_OPT_KAPPA, _Acquisition

__all__ = ["UtilityFunction"]


class UtilityFunction(_Acquisition):
    """bayes_opt 1.x ``UtilityFunction(kind="ucb"|"ei"|"poi", kappa, xi, kappa_decay, kappa_decay_delay)``."""

    _KINDS = {"ucb": "ucb", "ei": "ei", "poi": "pi", "pi": "pi"}

    def __init__(self, kind: str = "ucb", kappa: float = BAYES_OPT_KAPPA, xi: float = 0.0,
                 kappa_decay: float = 1.0, kappa_decay_delay: int = 0) -> None:
        if not isinstance(kind, str) or kind.lower() not in self._KINDS:
            raise ValueError(f"kind: got {kind!r}, expected 'ucb', 'ei' or 'poi'")
        super().__init__(kappa=kappa, xi=xi, exploration_decay=None if kappa_decay == 1 else kappa_decay,
                         exploration_decay_delay=kappa_decay_delay)
        self.kind = self._KINDS[kind.lower()]

    def update_params(self) -> None:
        """Apply the decay after a suggestion: bayes_opt 1.x decays ``kappa`` only."""
        xi = self.xi
        super().update_params()
        self.xi = xi


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
