"""bayes_opt 2.x/3.x's ``bayes_opt.acquisition``: which gpu_bo acquisition a bayes_opt one selects.

``from gpu_bo.integrations.bayes_opt.acquisition import UpperConfidenceBound`` works as
``from bayes_opt.acquisition import UpperConfidenceBound`` does. The objects do not compute
anything: they carry the kind (``"ucb"``, ``"ei"``, ``"pi"``), ``kappa``/``xi`` and their
exploration decay to the :class:`gpu_bo.Optimizer` behind the facade.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

__all__ = ["AcquisitionFunction", "UpperConfidenceBound", "ExpectedImprovement", "ProbabilityOfImprovement",
           "BAYES_OPT_KAPPA"]

# bayes_opt's own UCB default (3.4's UpperConfidenceBound and BayesianOptimization; 1.x's
# UtilityFunction and maximize). The facade follows bayes_opt here, not
# gpu_bo.acquisition.DEFAULT_KAPPA, should the two ever differ.
BAYES_OPT_KAPPA = 2.576


class _Acquisition:
    """What gpu_bo needs of a bayes_opt acquisition: its kind, kappa/xi and their decay."""

    kind = "ucb"

    def __init__(self, kappa: float = BAYES_OPT_KAPPA, xi: float = 0.0, exploration_decay: float | None = None,
                 exploration_decay_delay: int | None = None) -> None:
        for label, v in (("kappa", kappa), ("xi", xi)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{label}: got {v!r}, expected a finite number >= 0")
        if exploration_decay is not None and not 0 < exploration_decay <= 1:
            raise ValueError(f"exploration_decay: got {exploration_decay!r}, expected a number in (0, 1]")
        if exploration_decay_delay is not None and (not isinstance(exploration_decay_delay, int)
                                                    or exploration_decay_delay < 0):
            raise ValueError(f"exploration_decay_delay: got {exploration_decay_delay!r}, expected an int >= 0")
        self.kappa, self.xi = float(kappa), float(xi)
        self.exploration_decay = exploration_decay
        self.exploration_decay_delay = exploration_decay_delay
        self.i = 0  # suggestions made (bayes_opt's counter for the decay)

    def update_params(self) -> None:
        """Apply the exploration decay after a suggestion (bayes_opt semantics)."""
        self.i += 1
        if self.exploration_decay is not None and (
                self.exploration_decay_delay is None or self.exploration_decay_delay <= self.i):
            self.kappa *= self.exploration_decay
            self.xi *= self.exploration_decay

    def get_acquisition_params(self) -> dict[str, Any]:
        """The state to save: kind, kappa, xi, the suggestion counter and the decay settings."""
        return {"kind": self.kind, "kappa": self.kappa, "xi": self.xi, "i": self.i,
                "exploration_decay": self.exploration_decay,
                "exploration_decay_delay": self.exploration_decay_delay}

    def set_acquisition_params(self, params: Mapping[str, Any]) -> None:
        """Restore a state written by :meth:`get_acquisition_params`."""
        self.kappa, self.xi, self.i = float(params["kappa"]), float(params["xi"]), int(params.get("i", 0))
        self.exploration_decay = params.get("exploration_decay")
        self.exploration_decay_delay = params.get("exploration_decay_delay")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kappa={self.kappa}, xi={self.xi})"


# bayes_opt's name for the base class
AcquisitionFunction = _Acquisition


class UpperConfidenceBound(_Acquisition):
    """bayes_opt 2.x/3.x ``acquisition.UpperConfidenceBound``: ``mu + kappa * sigma``."""

    kind = "ucb"

    def __init__(self, kappa: float = BAYES_OPT_KAPPA, exploration_decay: float | None = None,
                 exploration_decay_delay: int | None = None, random_state: Any = None) -> None:
        super().__init__(kappa=kappa, exploration_decay=exploration_decay,
                         exploration_decay_delay=exploration_decay_delay)


class _ImprovementAcquisition(_Acquisition):
    """EI and PI: an improvement margin ``xi`` (bayes_opt's own classes ask for it; 0.01 here)."""

    def __init__(self, xi: float = 0.01, exploration_decay: float | None = None,
                 exploration_decay_delay: int | None = None, random_state: Any = None) -> None:
        super().__init__(xi=xi, exploration_decay=exploration_decay,
                         exploration_decay_delay=exploration_decay_delay)


class ExpectedImprovement(_ImprovementAcquisition):
    """bayes_opt 2.x/3.x ``acquisition.ExpectedImprovement``: ``E[max(f - f* - xi, 0)]``."""

    kind = "ei"


class ProbabilityOfImprovement(_ImprovementAcquisition):
    """bayes_opt 2.x/3.x ``acquisition.ProbabilityOfImprovement``: ``P(f > f* + xi)``."""

    kind = "pi"
