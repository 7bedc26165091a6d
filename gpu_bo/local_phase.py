"""A local exploitation phase and an escape rule for single-objective studies (issue 23, item 3).

A global GP with EI converges on an optimum to a few digits, then spends its evaluations around
it without the precision of a local optimizer; and once it has settled in a local optimum (the
second basin of Hartmann6) it rarely leaves. This module decides, from the completed values
alone, what the next suggestion searches:

- ``"global"``: the whole space, as without this module;
- ``"local"``: after ``stall`` evaluations without improvement (or in the last
  ``late_fraction`` of a known budget), the acquisition is maximized in a small box around the
  incumbent (the trust region's :func:`gpu_bo.trust_region.box`, scaled by the lengthscales),
  optionally with more refinement steps, for final precision;
- ``"escape"``: after ``escape_after`` evaluations without a significant improvement, every
  ``escape_every``-th suggestion searches away from the incumbent: anywhere at least
  ``escape_distance * sqrt(d)`` from it (a :class:`gpu_bo.maximize.Region` with
  ``min_distance``, ``escape="far"``), or in a box around the best observed point that far
  from it (``escape="restart"``). An improvement anywhere resets the count.

The state is replayed from the history at every suggestion (as the trust region's), so it
needs no saving. Whether it helps, and which variant: benchmarks/results/local_phase_ab.md.

Glossary: ``d`` dimensions; ``n x d`` encoded observed points; ``s`` the stall count.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from gpu_bo.maximize import MaximizeOptions, Region
from gpu_bo.trust_region import box

__all__ = ["LocalPhaseOptions", "stall_count", "phase", "plan"]

PHASES = ("global", "local", "escape")
ESCAPES = ("far", "restart", "explore")


@dataclass(frozen=True)
class LocalPhaseOptions:
    """Knobs of the local phase and the escape rule.

    Attributes:
        stall: completed evaluations after the initial design without an improvement (more
            than ``tol`` times the range of the values seen) that start the local phase (None:
            never by stall; the default, see benchmarks/results/local_phase_ab.md).
        length: side of the local box in the unit cube (scaled per dimension by the
            lengthscales, as the trust region's box).
        steps: gradient steps of the refinement in the local phase, when more than the
            global search's ``MaximizeOptions.steps`` (0, the default: the same steps; more
            cost time and gained nothing measurable, benchmarks/results/local_phase_ab.md).
        late_fraction: the last share of a known budget (``Optimizer.budget``, which
            :func:`gpu_bo.optimize` sets to ``n_trials``) searched locally (0: never by budget).
        escape_after: completed evaluations without a significant improvement (more than
            ``escape_tol`` times the range of the values seen) after which the escape rule
            applies: the next suggestion escapes, and then every ``escape_every``-th one (the
            others stay local). Why a second, coarser count: inside a trap the search keeps
            finding small improvements that reset the fine one.
        escape_every: see ``escape_after`` (0: never escape; the default).
        escape_distance: an escape searches points at least ``escape_distance * sqrt(d)``
            from the incumbent in the unit cube.
        escape: how: ``"far"`` maximizes the acquisition over the whole space outside that
            ball; ``"restart"`` in a box of side ``escape_length`` around the best observed
            point outside it (a second region, restarted from the data's next-best basin);
            ``"explore"`` suggests the quasi-random point of ``[0.1, 0.9]^d`` farthest from
            every observed point (the GP is not asked: in a trap it sees nothing elsewhere).
        escape_length: the side of the ``"restart"`` box (lengthscale-scaled as ``length``).
        tol: the share of the values' range that counts as an improvement for ``stall``.
        escape_tol: the share of the values' range that counts for ``escape_after``.
    """

    stall: int | None = None
    length: float = 0.1
    steps: int = 0
    late_fraction: float = 0.2
    escape_after: int = 8
    escape_every: int = 0
    escape_distance: float = 0.2
    escape: str = "far"
    escape_length: float = 0.4
    tol: float = 1e-3
    escape_tol: float = 0.01

    def __post_init__(self) -> None:
        for name in ("stall", "steps", "escape_after", "escape_every"):
            v = getattr(self, name)
            if name == "stall" and v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name}: got {v!r}, expected an int >= 0")
        for name, lo, hi in (("length", 0.0, 2.0), ("escape_length", 0.0, 2.0), ("late_fraction", 0.0, 1.0), ("escape_distance", 0.0, 1.0),
                             ("tol", 0.0, 1.0), ("escape_tol", 0.0, 1.0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and lo <= v <= hi):
                raise ValueError(f"{name}: got {v!r}, expected a number in [{lo}, {hi}]")
        for name in ("length", "escape_length"):
            if getattr(self, name) == 0.0:
                raise ValueError(f"{name}: got 0.0, expected a box side in (0, 2]")
        if self.escape not in ESCAPES:
            raise ValueError(f"escape: got {self.escape!r}, expected one of {list(ESCAPES)}")


def stall_count(values: list[float], n_initial: int, tol: float) -> int:
    """Completed evaluations since the last improvement (larger is better, in order), counting
    only those after the initial design. An improvement is more than ``tol`` times the range of
    the values seen so far (not of the incumbent's magnitude, which is arbitrary: near 0 on
    problems whose optimum is 0)."""
    if len(values) <= n_initial:
        return 0
    seen = values[:n_initial] if n_initial > 0 else values[:1]
    best, worst = max(seen), min(seen)
    s = 0
    for v in values[max(n_initial, 1):]:
        s = 0 if v > best + tol * (best - worst) else s + 1
        best, worst = max(best, v), min(worst, v)
    return s


def phase(values: list[float], n_initial: int, opts: LocalPhaseOptions, budget: int | None = None) -> str:
    """``"global"``, ``"local"`` or ``"escape"`` for the next suggestion (see the module doc).

    Args:
        values: the completed values in order, larger is better.
        n_initial: the trials of the initial design.
        opts: the options.
        budget: the study's total number of trials when known (a hint), else None.
    """
    if opts.escape_every > 0:
        past = stall_count(values, n_initial, opts.escape_tol) - opts.escape_after
        if past >= 0 and past % opts.escape_every == 0:
            return "escape"
    late = budget is not None and opts.late_fraction > 0 and len(values) >= (1.0 - opts.late_fraction) * budget
    stalled = opts.stall is not None and stall_count(values, n_initial, opts.tol) >= opts.stall
    return "local" if late or stalled else "global"


def plan(opts: LocalPhaseOptions, X_obs: torch.Tensor, y_obs: torch.Tensor, n_initial: int,
         lengthscale: torch.Tensor | None, maximize: MaximizeOptions, budget: int | None = None
         ) -> tuple[str, Region | None, MaximizeOptions]:
    """The phase of the next suggestion, the region it searches and the budgets of the search.

    Args:
        opts: the options.
        X_obs: ``n x d`` the completed points (encoded), in the order they completed.
        y_obs: their ``n`` values (larger is better).
        n_initial: the trials of the initial design.
        lengthscale: the fitted GP's ``d`` lengthscales (scale the local box), or None.
        maximize: the global search's budgets.
        budget: the study's total number of trials when known, else None.

    Returns:
        ``(phase, region, options)``: region None and ``maximize`` unchanged for ``"global"``.
    """
    values = y_obs.tolist()
    ph = phase(values, n_initial, opts, budget)
    if ph == "global" or X_obs.shape[0] == 0:
        return "global", None, maximize
    center = X_obs[torch.argmax(y_obs)]
    if lengthscale is not None and lengthscale.numel() != center.numel():
        lengthscale = None
    if ph == "escape":
        radius = opts.escape_distance * math.sqrt(center.shape[-1])
        if opts.escape == "explore":
            far = _most_isolated(X_obs, len(values))
            return ph, Region(far, far, far), dataclasses.replace(maximize, steps=0)
        if opts.escape == "far":
            return ph, Region(torch.zeros_like(center), torch.ones_like(center), center, min_distance=radius), maximize
        far = (X_obs - center).norm(dim=-1) >= radius
        if not bool(far.any()):
            return "local", *_local(center, opts.length, lengthscale, opts, maximize)
        second = X_obs[far][torch.argmax(y_obs[far])]
        return ph, *_local(second, opts.escape_length, lengthscale, opts, maximize)
    return ph, *_local(center, opts.length, lengthscale, opts, maximize)


def _local(center: torch.Tensor, length: float, lengthscale: torch.Tensor | None, opts: LocalPhaseOptions,
           maximize: MaximizeOptions) -> tuple[Region, MaximizeOptions]:
    """The box of side ``length`` around ``center`` and the budgets of its refinement."""
    lb, ub = box(center, length, lengthscale)
    return Region(lb, ub, center), dataclasses.replace(maximize, steps=max(maximize.steps, opts.steps))


def _most_isolated(X_obs: torch.Tensor, seed: int, n: int = 2048) -> torch.Tensor:
    """The Sobol point of ``[0.1, 0.9]^d`` whose nearest observed point is farthest (``d``)."""
    sob = torch.quasirandom.SobolEngine(X_obs.shape[-1], scramble=True, seed=seed).draw(n, dtype=torch.float64)
    cand = 0.1 + 0.8 * sob.to(device=X_obs.device, dtype=X_obs.dtype)
    return cand[torch.cdist(cand, X_obs).min(dim=-1).values.argmax()]
