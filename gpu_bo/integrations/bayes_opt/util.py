"""bayes_opt's ``bayes_opt.util``: ``ensure_rng``, and 1.x's ``UtilityFunction``.

``UtilityFunction`` lived in ``bayes_opt.util`` (re-exported by ``bayes_opt``) until bayes_opt 2.0
replaced it by the classes of :mod:`gpu_bo.integrations.bayes_opt.acquisition`; both are accepted.
"""

from __future__ import annotations


from gpu_bo.integrations.bayes_opt._convert import _is_num, _plain, _seed, ensure_rng  # noqa: F401
from gpu_bo.integrations.bayes_opt.acquisition import BAYES_OPT_KAPPA, _Acquisition

__all__ = ["UtilityFunction", "ensure_rng"]


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
