"""bayes_opt 2.x/3.x's ``bayes_opt.acquisition``: the acquisition classes and what they map to.

* ``UpperConfidenceBound`` / ``ExpectedImprovement`` / ``ProbabilityOfImprovement`` select
  gpu_bo's analytic ``"ucb"``, ``"ei"``, ``"pi"`` (same ``kappa``/``xi``, same exploration decay);
  their ``base_acq(mean, std)`` computes bayes_opt's formula on given numbers.
* ``ConstantLiar(base)``: every ``suggest()`` stays *pending* in gpu_bo's optimizer until its point
  is registered, so the next suggestion is chosen with the pending points folded in (gpu_bo's
  batch machinery: the GP conditioned on them, kriging believer) instead of a constant lie.
* ``GPHedge([a, b, ...])``: a portfolio: each base acquisition proposes a point through gpu_bo,
  one is drawn by the softmax of the gains, and every gain grows by the GP's mean at its last
  proposal (Hoffman et al., 2011).
* A user's ``AcquisitionFunction`` subclass: its ``base_acq(mean, std)`` is evaluated on gpu_bo's
  posterior (user units) over a quasi-random candidate set and the best unseen candidate is
  suggested. A subclass without its own ``base_acq`` is refused (``TypeError``).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import norm

from gpu_bo.integrations.bayes_opt._convert import ensure_rng
from gpu_bo.integrations.bayes_opt.exception import (
    ConstraintNotSupportedError,
    NoValidPointRegisteredError,
    TargetSpaceEmptyError,
)

_N_CANDIDATES = 2048  # the candidate set a custom acquisition's base_acq is evaluated on

__all__ = ["AcquisitionFunction", "UpperConfidenceBound", "ExpectedImprovement", "ProbabilityOfImprovement",
           "ConstantLiar", "GPHedge", "BAYES_OPT_KAPPA"]

# bayes_opt's own UCB default (3.4's UpperConfidenceBound and BayesianOptimization; 1.x's
# UtilityFunction and maximize). The facade follows bayes_opt here, not
# gpu_bo.acquisition.DEFAULT_KAPPA, should the two ever differ.
BAYES_OPT_KAPPA = 2.576


class AcquisitionFunction:
    """bayes_opt's base class. Subclass it and define ``base_acq(mean, std)`` for your own.

    Args:
        random_state: accepted for bayes_opt's signature (gpu_bo's search is seeded by the optimizer).
    """

    kind: str | None = None  # gpu_bo's acquisition name, None for a user's subclass

    def __init__(self, random_state: Any = None) -> None:
        self.random_state = random_state
        self.i = 0  # suggestions made
        self.y_max: float | None = None

    def base_acq(self, mean: Any, std: Any) -> Any:
        """The acquisition value at posterior ``mean``/``std`` (larger is better).

        Args:
            mean: posterior means (user units).
            std: posterior standard deviations.
        """
        raise TypeError(f"{type(self).__name__}: an AcquisitionFunction subclass must define base_acq(mean, std)")

    def update_params(self) -> None:
        """Called after each suggestion (the built-in classes apply their exploration decay)."""
        self.i += 1

    def suggest(self, gp: Any = None, target_space: Any = None, n_random: int = 10_000, n_smart: int = 10,
                fit_gp: bool = True, random_state: Any = None) -> np.ndarray:
        """The next point of ``target_space`` (its float row), chosen by gpu_bo on the space's points.

        bayes_opt searches with the sklearn ``gp`` it is given; gpu_bo fits its own GP to the
        registered points, so a ``gp`` is not used (a warning says so). ``n_random`` and
        ``n_smart`` are bayes_opt's search sizes, replaced by gpu_bo's acquisition maximizer.

        Args:
            gp: bayes_opt's sklearn GP (not used).
            target_space: the ``TargetSpace`` to suggest in.
            n_random: bayes_opt's random search size (must not be 0 together with ``n_smart``).
            n_smart: bayes_opt's L-BFGS-B starts.
            fit_gp: accepted for bayes_opt's signature (the GP is always fitted).
            random_state: an int or ``RandomState``: seeds gpu_bo's search.
        """
        from gpu_bo.integrations.bayes_opt import _posterior

        if target_space is None:
            raise TypeError("target_space: got None; expected the TargetSpace to suggest in")
        if len(target_space) == 0:
            raise TargetSpaceEmptyError("Cannot suggest a point without previous samples. Use "
                                        "target_space.random_sample() to generate a point.")
        self._check_constraint(target_space)
        if target_space.constraint is not None and self.kind in ("ei", "pi") and not target_space.mask.any():
            raise NoValidPointRegisteredError(f"{type(self).__name__}: no registered point satisfies the "
                                              "constraint yet, so there is no best value to improve on")
        if n_random == 0 and n_smart == 0:
            raise ValueError("n_random, n_smart: got 0 and 0; at least one of them must be positive")
        if gp is not None:
            warnings.warn(f"suggest: gp={type(gp).__name__} is not used; gpu_bo fits its own GP to the "
                          "target space's points", stacklevel=2)
        seed = ensure_rng(random_state).randint(0, 2**31 - 1) if random_state is not None else 7919 * (self.i + 1)
        opt = _posterior.optimizer_for(target_space, seed)
        for d in getattr(self, "dummies", []):
            try:
                opt.add_pending(d)
            except ValueError:
                pass  # outside the current bounds
        return target_space.params_to_array(self._propose(opt, target_space, seed))

    def _check_constraint(self, target_space: Any) -> None:
        """Raise ``ConstraintNotSupportedError`` when this acquisition cannot take the space's constraint."""

    def _propose(self, opt: Any, target_space: Any, seed: int) -> dict[str, Any]:
        """A user's subclass: ``base_acq`` over gpu_bo's posterior on a candidate set, best unseen wins."""
        from gpu_bo.integrations.bayes_opt import _posterior

        _is_custom(self)
        self.y_max = float(np.max(target_space.target))
        if type(self).suggest is not AcquisitionFunction.suggest:  # the subclass searches itself
            row = self.suggest(gp=None, target_space=target_space, random_state=seed)
            return target_space.array_to_params(row)
        space = opt.space
        gp = _posterior.fit_inside(space, target_space, seed)
        X = _posterior.candidates(space, _N_CANDIDATES, seed + 104729 * (self.i + 1))
        mean, std = _posterior.posterior(gp, X)
        values = np.asarray(self.base_acq(mean, std), dtype=float).reshape(-1)
        if values.shape != mean.shape:
            raise ValueError(f"{type(self).__name__}.base_acq: returned shape {values.shape}, expected "
                             f"{mean.shape} (one value per candidate)")
        seen = {tuple(np.round(r, 12)) for r in target_space.params}
        for i in np.argsort(-np.nan_to_num(values, nan=-np.inf)):
            p = space.decode(X[i:i + 1])[0]
            if tuple(np.round(target_space.params_to_array(p), 12)) not in seen:
                self.update_params()
                return p
        raise NoValidPointRegisteredError(f"{type(self).__name__}: every candidate was already registered")

    def get_acquisition_params(self) -> dict[str, Any]:
        """The state to save (a custom subclass defines its own)."""
        raise NotImplementedError("Custom AcquisitionFunction subclasses must implement their own "
                                  "get_acquisition_params method.")

    def set_acquisition_params(self, params: Mapping[str, Any]) -> None:
        """Restore a saved state (a custom subclass defines its own).

        Args:
            params: what :meth:`get_acquisition_params` returned.
        """
        raise NotImplementedError("Custom AcquisitionFunction subclasses must implement their own "
                                  "set_acquisition_params method.")


def _check_decay(decay: Any, delay: Any) -> None:
    if decay is not None and not (isinstance(decay, numbers.Real) and 0 < decay <= 1):
        raise ValueError(f"exploration_decay: got {decay!r}; exploration_decay must be greater than 0 and "
                         "less than or equal to 1.")
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, numbers.Integral) or delay < 0):
        raise ValueError(f"exploration_decay_delay: got {delay!r}; exploration_decay_delay must be an integer "
                         "greater than or equal to 0.")


class _Acquisition(AcquisitionFunction):
    """A built-in acquisition: gpu_bo's kind, ``kappa``/``xi`` and their exploration decay."""

    kind = "ucb"

    def __init__(self, kappa: float = BAYES_OPT_KAPPA, xi: float = 0.0, exploration_decay: float | None = None,
                 exploration_decay_delay: int | None = None, random_state: Any = None) -> None:
        super().__init__(random_state)
        for label, v in (("kappa", kappa), ("xi", xi)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{label}: got {v!r}; {label} must be greater than or equal to 0.")
        _check_decay(exploration_decay, exploration_decay_delay)
        self.kappa, self.xi = float(kappa), float(xi)
        self.exploration_decay = exploration_decay
        self.exploration_decay_delay = exploration_decay_delay

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
        """Restore a state written by :meth:`get_acquisition_params` (or by bayes_opt's).

        Args:
            params: the saved state.
        """
        self.kappa = float(params.get("kappa", self.kappa))
        self.xi = float(params.get("xi", self.xi))
        self.i = int(params.get("i", 0))
        self.exploration_decay = params.get("exploration_decay", self.exploration_decay)
        self.exploration_decay_delay = params.get("exploration_decay_delay", self.exploration_decay_delay)

    def _propose(self, opt: Any, target_space: Any, seed: int) -> dict[str, Any]:
        self.y_max = float(np.max(target_space.target))
        opt.acquisition, opt.xi, opt.kappa = self.kind, self.xi, self.kappa
        p = opt.ask()
        opt.remove_pending(p)  # bayes_opt's suggest reserves nothing
        self.update_params()
        return p

    def _y_max(self) -> float:
        if self.y_max is None:
            raise ValueError("y_max is not set. If you are calling this method outside of suggest(), "
                             "set y_max (the best target so far) first.")
        return float(self.y_max)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kappa={self.kappa}, xi={self.xi})"


class UpperConfidenceBound(_Acquisition):
    """bayes_opt's ``UpperConfidenceBound``: ``mean + kappa * std``.

    Args:
        kappa: the exploration weight (>= 0).
        exploration_decay: multiply ``kappa`` by this after each suggestion (in (0, 1]).
        exploration_decay_delay: start the decay after this many suggestions.
        random_state: accepted for bayes_opt's signature.
    """

    kind = "ucb"

    def __init__(self, kappa: float = BAYES_OPT_KAPPA, exploration_decay: float | None = None,
                 exploration_decay_delay: int | None = None, random_state: Any = None) -> None:
        super().__init__(kappa=kappa, exploration_decay=exploration_decay,
                         exploration_decay_delay=exploration_decay_delay, random_state=random_state)

    def base_acq(self, mean: Any, std: Any) -> Any:
        return np.asarray(mean) + self.kappa * np.asarray(std)

    def _check_constraint(self, target_space: Any) -> None:
        if target_space.constraint is not None:
            raise ConstraintNotSupportedError("Received constraints, but acquisition function "
                                              "UpperConfidenceBound does not support constrained optimization.")


class _ImprovementAcquisition(_Acquisition):
    """EI and PI: an improvement margin ``xi``."""

    def __init__(self, xi: float = 0.01, exploration_decay: float | None = None,
                 exploration_decay_delay: int | None = None, random_state: Any = None) -> None:
        super().__init__(xi=xi, exploration_decay=exploration_decay,
                         exploration_decay_delay=exploration_decay_delay, random_state=random_state)


class ExpectedImprovement(_ImprovementAcquisition):
    """bayes_opt's ``ExpectedImprovement``: ``E[max(f - y_max - xi, 0)]``.

    Args:
        xi: the improvement margin (>= 0).
        exploration_decay: multiply ``xi`` by this after each suggestion (in (0, 1]).
        exploration_decay_delay: start the decay after this many suggestions.
        random_state: accepted for bayes_opt's signature.
    """

    kind = "ei"

    def base_acq(self, mean: Any, std: Any) -> Any:
        mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
        a = mean - self._y_max() - self.xi
        with np.errstate(divide="ignore", invalid="ignore"):
            z = a / std
        return a * norm.cdf(z) + std * norm.pdf(z)


class ProbabilityOfImprovement(_ImprovementAcquisition):
    """bayes_opt's ``ProbabilityOfImprovement``: ``P(f > y_max + xi)``.

    Args:
        xi: the improvement margin (>= 0).
        exploration_decay: multiply ``xi`` by this after each suggestion (in (0, 1]).
        exploration_decay_delay: start the decay after this many suggestions.
        random_state: accepted for bayes_opt's signature.
    """

    kind = "pi"

    def base_acq(self, mean: Any, std: Any) -> Any:
        mean, std = np.asarray(mean, dtype=float), np.asarray(std, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return norm.cdf((mean - self._y_max() - self.xi) / std)


class ConstantLiar(AcquisitionFunction):
    """bayes_opt's ``ConstantLiar``: parallel suggestions; here gpu_bo's pending points.

    Each ``suggest()`` stays pending (``dummies``) until its point is registered (matched within
    ``atol``/``rtol``); suggestions are chosen with the pending points folded in by gpu_bo's batch
    machinery, which conditions the GP on them (its own fantasy rule, not ``strategy``'s
    constant: a ``strategy`` other than ``"max"`` is accepted with a warning saying so).

    Args:
        base_acquisition: the acquisition that ranks the points (a built-in one).
        strategy: bayes_opt's lie: ``"min"``, ``"mean"``, ``"max"`` or a number.
        random_state: accepted for bayes_opt's signature.
        atol: absolute tolerance matching a registered point to a pending one.
        rtol: relative tolerance of that match.
    """

    def __init__(self, base_acquisition: AcquisitionFunction, strategy: Any = "max", random_state: Any = None,
                 atol: float = 1e-5, rtol: float = 1e-8) -> None:
        super().__init__(random_state)
        if not (strategy in ("min", "mean", "max") or isinstance(strategy, numbers.Real)
                and not isinstance(strategy, bool)):
            raise ValueError(f"strategy: got {strategy!r}, expected 'min', 'mean', 'max' or a number")
        if not isinstance(base_acquisition, _Acquisition):
            raise TypeError(f"base_acquisition: got {base_acquisition!r}; expected UpperConfidenceBound, "
                            "ExpectedImprovement or ProbabilityOfImprovement (an instance)")
        if strategy != "max":
            warnings.warn(f"ConstantLiar(strategy={strategy!r}): gpu_bo conditions its GP on the pending points "
                          "with its own fantasy rule (the posterior mean), not a constant lie", stacklevel=2)
        self.base_acquisition = base_acquisition
        self.strategy, self.atol, self.rtol = strategy, float(atol), float(rtol)
        self.dummies: list[dict[str, Any]] = []

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.base_acquisition.kind

    def base_acq(self, mean: Any, std: Any) -> Any:
        return self.base_acquisition.base_acq(mean, std)

    def update_params(self) -> None:
        super().update_params()
        self.base_acquisition.update_params()

    def get_acquisition_params(self) -> dict[str, Any]:
        """The state to save: the base acquisition's, the pending points and the settings."""
        return {"kind": "constant_liar", "base": self.base_acquisition.get_acquisition_params(),
                "dummies": [dict(d) for d in self.dummies], "strategy": self.strategy, "i": self.i,
                "atol": self.atol, "rtol": self.rtol}

    def set_acquisition_params(self, params: Mapping[str, Any]) -> None:
        """Restore a saved state.

        Args:
            params: what :meth:`get_acquisition_params` returned.
        """
        self.base_acquisition.set_acquisition_params(params.get("base", {}))
        self.dummies = [dict(d) for d in params.get("dummies", [])]
        self.i = int(params.get("i", 0))

    def _check_constraint(self, target_space: Any) -> None:
        if target_space.constraint is not None:
            raise ConstraintNotSupportedError("Received constraints, but acquisition function ConstantLiar "
                                              "does not support constrained optimization.")

    def forget(self, target_space: Any) -> None:
        """Drop the pending points that have been registered since (matched within atol/rtol).

        Args:
            target_space: the ``TargetSpace`` holding the registered points.
        """
        if not len(target_space):
            return
        rows = target_space.params
        self.dummies = [d for d in self.dummies if not np.any(np.all(np.isclose(
            rows, target_space.params_to_array(d), atol=self.atol, rtol=self.rtol), axis=1))]

    def _propose(self, opt: Any, target_space: Any, seed: int) -> dict[str, Any]:
        self.forget(target_space)
        pending = {tuple(sorted(map(str, p.items()))) for p in opt.pending}
        for d in self.dummies:
            if tuple(sorted(map(str, d.items()))) not in pending:
                try:
                    opt.add_pending(d)
                except ValueError:
                    pass  # outside the current bounds
        base = self.base_acquisition
        base.y_max = self.y_max = float(np.max(target_space.target))
        opt.acquisition, opt.xi, opt.kappa = base.kind, base.xi, base.kappa
        p = opt.ask()  # stays pending until registered
        self.dummies.append(dict(p))
        self.update_params()
        return p


class GPHedge(AcquisitionFunction):
    """bayes_opt's ``GPHedge``: a portfolio of acquisitions, one drawn per suggestion.

    Args:
        base_acquisitions: the built-in acquisitions of the portfolio.
        random_state: an int, a numpy ``RandomState`` or None: the softmax draws.
    """

    kind = "hedge"

    def __init__(self, base_acquisitions: Sequence[AcquisitionFunction], random_state: Any = None) -> None:
        super().__init__(random_state)
        self.base_acquisitions = list(base_acquisitions)
        bad = [a for a in self.base_acquisitions if not isinstance(a, AcquisitionFunction)
               or isinstance(a, (GPHedge, ConstantLiar))]
        if not self.base_acquisitions or bad:
            raise TypeError(f"base_acquisitions: got {bad or base_acquisitions!r}; expected a non-empty list of "
                            "AcquisitionFunction instances (not GPHedge or ConstantLiar)")
        for a in self.base_acquisitions:
            _is_custom(a)
        self.n_acq = len(self.base_acquisitions)
        self.gains = np.zeros(self.n_acq)
        self.previous_candidates: list[dict[str, Any]] | None = None
        self._rng = ensure_rng(random_state)

    def base_acq(self, mean: Any, std: Any) -> Any:
        raise TypeError("GPHedge base acquisition function is ambiguous. You may use self.base_acquisitions[i]"
                        ".base_acq(mean, std) to get the base acquisition function for the i-th acquisition.")

    def update_gains(self, means: Sequence[float]) -> None:
        """Add the GP's mean at each base acquisition's last proposal to its gain.

        Args:
            means: one posterior mean per base acquisition.
        """
        self.gains = self.gains + np.asarray(means, dtype=float)

    def sample_index(self) -> int:
        """Draw a base acquisition by the softmax of the gains."""
        g = self.gains - np.max(self.gains)
        p = np.exp(g) / np.sum(np.exp(g))
        return int(self._rng.choice(self.n_acq, p=p))

    def _propose(self, opt: Any, target_space: Any, seed: int) -> dict[str, Any]:
        from gpu_bo.integrations.bayes_opt import _posterior

        self.y_max = float(np.max(target_space.target))
        if self.previous_candidates:  # gains: the GP's mean at each base acquisition's last proposal
            space = opt.space
            gp = _posterior.fit_inside(space, target_space, seed)
            ok = []
            for c in self.previous_candidates:
                try:
                    ok.append(space.canonical(c))
                except ValueError:
                    ok.append(None)
            X = space.encode([c for c in ok if c is not None], dtype=_posterior._DTYPE) if any(ok) else None
            means = iter(_posterior.posterior(gp, X)[0]) if X is not None else iter(())
            self.update_gains([next(means) if c is not None else 0.0 for c in ok])
        props = [base._propose(opt, target_space, seed) for base in self.base_acquisitions]
        self.previous_candidates = [dict(p) for p in props]
        self.i += 1
        idx = self.sample_index()
        seen = [len(target_space) > 0 and target_space.params_to_array(p) in target_space for p in props]
        if seen[idx] and not all(seen):  # an already registered proposal loses to a new one
            idx = max((j for j in range(self.n_acq) if not seen[j]), key=lambda j: self.gains[j])
        return dict(props[idx])

    def get_acquisition_params(self) -> dict[str, Any]:
        """The state to save: every base acquisition's, the gains and the draw generator."""
        st = self._rng.get_state()
        return {"kind": "gp_hedge", "base": [a.get_acquisition_params() for a in self.base_acquisitions],
                "gains": self.gains.tolist(), "i": self.i,
                "rng": [st[0], st[1].tolist(), int(st[2]), int(st[3]), float(st[4])]}

    def set_acquisition_params(self, params: Mapping[str, Any]) -> None:
        """Restore a saved state.

        Args:
            params: what :meth:`get_acquisition_params` returned.
        """
        for a, p in zip(self.base_acquisitions, params.get("base", [])):
            a.set_acquisition_params(p)
        self.gains = np.asarray(params.get("gains", self.gains), dtype=float)
        self.i = int(params.get("i", 0))
        if params.get("rng"):
            r = params["rng"]
            self._rng.set_state((r[0], np.asarray(r[1], dtype=np.uint32), r[2], r[3], r[4]))


def _is_custom(acq: AcquisitionFunction) -> bool:
    """A user's subclass (no gpu_bo kind): it must define its own ``base_acq``."""
    if isinstance(acq, (_Acquisition, ConstantLiar, GPHedge)):
        return False
    if type(acq).base_acq is AcquisitionFunction.base_acq and type(acq).suggest is AcquisitionFunction.suggest:
        raise TypeError(f"acquisition_function: {type(acq).__name__} defines no base_acq(mean, std) (nor its own "
                        "suggest); gpu_bo evaluates a custom AcquisitionFunction through its base_acq")
    return True

