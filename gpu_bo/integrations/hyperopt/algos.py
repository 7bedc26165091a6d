"""Which search ``fmin``'s ``algo`` asks for, and the suggester behind it.

``tpe.suggest`` (and hyperopt's own ``tpe.suggest`` / ``anneal.suggest``, recognised by their
module and name) runs gpu_bo's GP (:class:`gpu_bo.Optimizer`) over the conditional space;
``rand.suggest`` samples the space at random (so does the GP once a finite space is exhausted,
since hyperopt repeats points where gpu_bo's Optimizer would raise ``SpaceExhausted``). ``functools.partial(tpe.suggest,
n_startup_jobs=k)`` sets the number of random points before the GP takes over; TPE's other
knobs (gamma, n_EI_candidates, prior_weight, ...) have no GP counterpart and are ignored with a
warning.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from gpu_bo.exceptions import SpaceExhausted
from gpu_bo.optimizer import Optimizer
from gpu_bo.space import Space

__all__ = ["resolve_algo", "Suggester", "marker"]

_KINDS = {"tpe": "gp", "anneal": "gp", "rand": "rand"}
_MODULES = ("gpu_bo.integrations.hyperopt.", "hyperopt.")


def marker(module: str) -> Any:
    """The ``suggest`` function of ``module`` (``....tpe``): ``fmin`` reads its module and name;
    calling it directly raises a ``RuntimeError``.

    Args:
        module: the module's ``__name__``.
    """
    short = module.rsplit(".", 1)[-1]

    def suggest(*args: Any, **kwargs: Any) -> list:
        raise RuntimeError(f"{short}.suggest: pass it to fmin as algo={short}.suggest; gpu_bo runs the "
                           "search inside fmin and has no separate suggest step over hyperopt's Domain")

    suggest.__module__ = module
    suggest.__qualname__ = "suggest"
    suggest.__doc__ = f"A marker for ``fmin(algo={short}.suggest)``; calling it directly raises."
    return suggest


def resolve_algo(algo: Any) -> tuple[str, int | None]:
    """``(kind, n_startup)``: ``"gp"`` or ``"rand"``, and the random points before the GP.

    Args:
        algo: None (the default, TPE in hyperopt: the GP here), a ``suggest`` function of
            :mod:`.tpe`, :mod:`.rand`, :mod:`.anneal` or of hyperopt's modules of those names,
            or a ``functools.partial`` of one.

    Raises:
        TypeError: ``algo`` is another callable or not callable.
    """
    if algo is None:
        return "gp", None
    kw: Mapping[str, Any] = {}
    fn = algo
    if isinstance(algo, functools.partial):
        fn, kw = algo.func, algo.keywords
    mod, name = getattr(fn, "__module__", "") or "", getattr(fn, "__name__", "")
    kind = None
    for prefix in _MODULES:
        if mod.startswith(prefix) and name == "suggest":
            kind = _KINDS.get(mod[len(prefix):])
    if kind is None:
        raise TypeError(f"algo: got {algo!r}; expected tpe.suggest, rand.suggest or anneal.suggest (gpu_bo's "
                        "or hyperopt's), or a functools.partial of one (atpe, mix and custom algorithms "
                        "are not provided)")
    n_startup = kw.get("n_startup_jobs")
    if n_startup is not None and (isinstance(n_startup, bool) or not isinstance(n_startup, int) or n_startup < 1):
        raise ValueError(f"algo: n_startup_jobs={n_startup!r}; expected an int >= 1")
    ignored = sorted(k for k in kw if k != "n_startup_jobs")
    if ignored:
        warnings.warn(f"algo: {ignored} are TPE's settings, with no counterpart in gpu_bo's GP; ignored",
                      UserWarning, stacklevel=3)
    return kind, n_startup


class Suggester:
    """Points of ``space`` to evaluate next, and what came of them.

    Args:
        kind: ``"gp"`` or ``"rand"`` (see :func:`resolve_algo`).
        space: the conditional space.
        seed: the seed (drawn from fmin's ``rstate``).
        n_startup: random points before the GP (None: gpu_bo's default).
    """

    def __init__(self, kind: str, space: Space, seed: int, n_startup: int | None) -> None:
        self.kind, self.space = kind, space
        self._rng = np.random.default_rng(seed)
        self._opt = Optimizer(space, direction="minimize", seed=seed, n_initial=n_startup) if kind == "gp" else None

    def ask(self, n: int) -> list[dict[str, Any]]:
        """``n`` new points (the GP picks a batch jointly).

        Args:
            n: how many.
        """
        points: list[dict[str, Any]] = []
        if self._opt is not None:
            try:
                points = [self._opt.ask()] if n == 1 else list(self._opt.ask(n=n))
            except SpaceExhausted:  # a finite space fully seen: hyperopt repeats points, so do we
                pass
        if len(points) < n:  # random search, or what a nearly exhausted finite space lacks
            points += self.space.sample_params(n - len(points), seed=int(self._rng.integers(2**31 - 1)))
        return points

    def tell(self, params: Mapping[str, Any] | None, loss: float | None) -> None:
        """Record a point's loss (None, NaN: a failed trial the GP does not see).

        Args:
            params: the point (None: a user's point outside the space, not shown to the GP).
            loss: its loss.
        """
        if self._opt is not None and params is not None:
            self._opt.tell(dict(params), loss)
