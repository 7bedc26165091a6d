"""Batched multi-start acquisition maximization, all on the device.

1. Screening: score many candidates (scrambled Sobol points plus perturbations of the best
   observations) in memory-bounded chunks and keep the best as starts.
2. Local optimization: all starts at once with Adam on the continuous (and integer, relaxed)
   columns, for a fixed number of steps, clamped to the unit cube: no scipy and no host sync
   per step (on CUDA the loop is queued asynchronously). Categorical columns stay fixed here;
   on a conditional space so do each start's inactive columns and every parent.
3. Snap integer/categorical columns to valid values and search their discrete neighbours
   (each other category of one column, +-1 of one integer), batched, a few rounds: mixed
   spaces without enumerating combinations. On a conditional space a move of a parent switches
   branch (snapping activates the new branch's children at the centre, deactivates the old).
4. Return the best candidate that is not already evaluated, pending or chosen.

Why hand-written instead of ``botorch.optim.optimize_acqf``: its L-BFGS-B runs in scipy on the
host (a device round-trip per iteration) and it has no discrete-neighbour step for our
equality-kernel categoricals.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from gpu_bo.acquisition.base import Acquisition, as_acquisition, evaluate
from gpu_bo.exceptions import SpaceExhausted
from gpu_bo.space import Space, point_key, row_key  # noqa: F401 - row_key re-exported
from gpu_bo.surrogate.conditional import parent_columns

__all__ = ["MaximizeOptions", "Region", "maximize", "point_key", "row_key"]


@dataclass(frozen=True)
class MaximizeOptions:
    """Budgets of the acquisition maximization.

    Attributes:
        raw_samples: candidates screened (Sobol + local perturbations).
        n_starts: best candidates refined by gradient steps, all at once.
        steps: Adam steps of the refinement; lr its first step size in the unit cube, decayed
            geometrically to lr_end at the last step; betas Adam's moment decays. Not torch's
            defaults: with betas (0.9, 0.999) the second moment remembers the first large
            gradients and the steps shrink before a peak is reached
            (tests/test_maximize.py::test_refinement_converges_on_the_peak shows it; the
            regrets with this schedule are in benchmarks/results/quality.md).
        neighbour_rounds: rounds of discrete neighbour search for integer/categorical columns.
        mc_raw_samples: candidates screened when the acquisition is Monte Carlo (dearer per point).
        batch_raw_samples, batch_steps: the smaller budgets of the 2nd, 3rd, ... point of a
            sequential-greedy batch (``ask(n=q)`` with ei/pi/ucb). Each of those rounds maximizes
            a Kriging-believer GP that differs from the previous round's only near the points
            already chosen, so it needs far less search than the first; a q = 64 batch at full
            budget would cost 64 full maximizations (issue 5's q = 64 target; the batch
            timings are in benchmarks/results/scaling.md).
    """

    raw_samples: int = 2048
    n_starts: int = 8
    steps: int = 30
    lr: float = 0.05
    lr_end: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.9)
    neighbour_rounds: int = 2
    mc_raw_samples: int = 512
    batch_raw_samples: int = 1024
    batch_steps: int = 20

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr: got {self.lr!r}, expected a finite step size > 0")
        if not (math.isfinite(self.lr_end) and 0 < self.lr_end <= self.lr):
            raise ValueError(f"lr_end: got {self.lr_end!r}, expected 0 < lr_end <= lr ({self.lr!r})")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas: got {self.betas!r}, expected two numbers in [0, 1)")

    @classmethod
    def for_device(cls, device: torch.device) -> MaximizeOptions:
        if device.type == "cuda":
            # fewer steps than candidates suggest: the refinement of 32 starts is launch-bound
            # on a GPU, and later batch rounds mostly just need to land away from the points
            # already chosen (benchmarks/results/gpu_h200/ has the timings)
            return cls(raw_samples=65536, n_starts=32, steps=60, mc_raw_samples=8192,
                       batch_raw_samples=8192, batch_steps=10)
        return cls()

    def for_batch_round(self) -> MaximizeOptions:
        """The budgets of a later round of a sequential-greedy batch (see batch_raw_samples)."""
        return dataclasses.replace(self, raw_samples=min(self.raw_samples, self.batch_raw_samples),
                                   steps=min(self.steps, self.batch_steps))


@dataclass(frozen=True)
class Region:
    """A box of the unit cube to search in (trust region): corners ``lb``, ``ub`` and the
    ``center`` that candidates perturb (``d`` each); points closer than ``min_distance`` to the
    centre are never returned (an escape from a trap, :mod:`gpu_bo.local_phase`)."""

    lb: torch.Tensor
    ub: torch.Tensor
    center: torch.Tensor
    min_distance: float = 0.0


def _drop_close(vals: torch.Tensor, X: torch.Tensor, region: Region | None) -> torch.Tensor:
    """``vals`` (``N``) with the rows of ``X`` (``N x d``) inside the region's excluded ball at -inf."""
    if region is None or region.min_distance <= 0:
        return vals
    return vals.masked_fill((X - region.center.to(X)).norm(dim=-1) < region.min_distance, -float("inf"))


def _region_candidates(space: Space, n: int, region: Region, seed: int, device, dtype) -> torch.Tensor:
    # TuRBO's candidates: Sobol points of the box, each changing only a random subset of the
    # centre's coordinates (about 20 of them), which keeps high-dimensional search local.
    sob = torch.quasirandom.SobolEngine(space.d, scramble=True, seed=seed).draw(n, dtype=torch.float64)
    sob = sob.to(device=device, dtype=dtype)
    lb, ub, c = region.lb.to(device, dtype), region.ub.to(device, dtype), region.center.to(device, dtype)
    pts = lb + (ub - lb) * sob
    gen = torch.Generator(device="cpu").manual_seed(seed + 3)
    prob = min(1.0, 20.0 / space.d)
    mask = torch.rand(n, space.d, generator=gen, device="cpu") < prob
    mask[torch.arange(n, device="cpu"), torch.randint(space.d, (n,), generator=gen, device="cpu")] = True
    pts = torch.where(mask.to(device), pts, c)
    return space.snap(pts)


def _candidates(space: Space, n: int, X_obs: torch.Tensor | None, y_obs: torch.Tensor | None,
                seed: int, device, dtype) -> torch.Tensor:
    n_local = n // 4 if X_obs is not None and X_obs.shape[0] > 0 else 0
    sob = space.sample(n - n_local, seed=seed, device=device, dtype=dtype)
    if n_local == 0:
        return sob
    gen = torch.Generator(device="cpu").manual_seed(seed + 1)
    k = min(5, X_obs.shape[0])
    top = X_obs[torch.topk(y_obs, k).indices]
    centres = top[torch.randint(k, (n_local,), generator=gen, device="cpu").to(top.device)].to(device)
    scale = torch.tensor([0.02, 0.1], dtype=dtype, device="cpu")[torch.randint(2, (n_local, 1), generator=gen, device="cpu")]
    noise = torch.randn(n_local, space.d, generator=gen, dtype=dtype, device="cpu") * scale
    local = centres + noise.to(device)
    # categoricals: keep the centre's category mostly, resample one column now and then
    for c in space.cat_columns:
        flip = torch.rand(n_local, generator=gen, device="cpu") < 0.2
        local[flip.to(device), c] = torch.rand(int(flip.sum()), generator=gen, dtype=dtype, device="cpu").to(device)
    return torch.cat([sob, space.snap(local)])


def _neighbours(space: Space, X: torch.Tensor) -> torch.Tensor:
    """All one-column discrete moves of ``m x d`` snapped points -> ``M x d``."""
    out = []
    bins = space.n_bins
    for c in space.cat_columns:
        k = bins[c]
        for j in range(k):
            Y = X.clone()
            Y[:, c] = (j + 0.5) / k
            out.append(Y)
    for c in space.int_columns:
        dim = list(space.dims.values())[c]
        if dim.log:
            step = 1.0 / 64
        else:
            step = 1.0 / bins[c]
        for s in (-step, step):
            Y = X.clone()
            Y[:, c] = (Y[:, c] + s).clamp(0.0, 1.0)
            out.append(Y)
    if not out:
        return X[:0]
    return space.snap(torch.cat(out))


def _adam_ascent(acq: Acquisition, starts: torch.Tensor, free: torch.Tensor, lo, hi,
                 options: MaximizeOptions) -> torch.Tensor:
    """``options.steps`` Adam steps uphill on ``acq`` from all ``k x d`` starts at once.

    The same update as ``torch.optim.Adam`` (eps 1e-8) with an ``ExponentialLR`` decay from
    ``lr`` to ``lr_end``, written out because the two spend more Python per step than the
    handful of tensor ops they run (benchmarks/results/suggest_latency.md, small n). The
    gradient comes from ``acq.value_and_grad`` (closed form, analytic EI/PI/UCB) when the
    protocol says there is one, else from autograd (BoTorch's Monte Carlo acquisitions).
    """
    closed_form = acq.has_value_and_grad
    b1, b2 = options.betas
    gamma = (options.lr_end / options.lr) ** (1.0 / max(1, options.steps - 1))
    X = starts.clone()
    m1 = torch.zeros_like(X)
    m2 = torch.zeros_like(X)
    frozen = bool((free == 0).any())  # no categorical column: skip the mask (one op per step)
    for t in range(1, options.steps + 1):
        if closed_form:
            grad = acq.value_and_grad(X)[1]
        else:
            with torch.enable_grad():
                Xg = X.unsqueeze(-2).requires_grad_(True)
                grad = torch.autograd.grad(acq(Xg).sum(), Xg)[0].squeeze(-2)
        grad = (grad.mul_(free) if frozen else grad).nan_to_num_(0.0, 0.0, 0.0)
        m1.lerp_(grad, 1.0 - b1)
        m2.mul_(b2).addcmul_(grad, grad, value=1.0 - b2)
        denom = (m2.sqrt() / math.sqrt(1.0 - b2 ** t)).add_(1e-8)
        X.addcdiv_(m1, denom, value=options.lr * gamma ** (t - 1) / (1.0 - b1 ** t))  # ascent
        X.clamp_(lo, hi)
    return X


def maximize(acq: Acquisition | Callable[[torch.Tensor], torch.Tensor], space: Space, *,
             options: MaximizeOptions, seed: int, exclude: set[tuple], X_obs: torch.Tensor | None = None,
             y_obs: torch.Tensor | None = None, device: torch.device, dtype: torch.dtype = torch.float64,
             region: Region | None = None) -> tuple[torch.Tensor, float]:
    """Maximize ``acq`` (``b x 1 x d -> b``) over the space; return (snapped ``d`` point, value).

    What it needs of ``acq`` it asks the protocol (:class:`gpu_bo.acquisition.base.Acquisition`):
    ``is_monte_carlo`` (fewer screened candidates), ``screen``, ``has_value_and_grad``. A plain
    callable is taken as a non-Monte-Carlo acquisition with autograd gradients.

    Args:
        acq: the acquisition.
        space: the search space (snapping, neighbours, sampling).
        options: the budgets.
        seed: seed of the candidates.
        exclude: :func:`gpu_bo.space.point_key` of points that must not be returned (evaluated,
            pending or already chosen). When every good candidate is excluded a fresh Sobol
            point is returned.
        X_obs: ``n x d`` observed points; the best ones seed local candidates.
        y_obs: their ``n`` values (larger is better).
        device: where the search runs.
        dtype: the floating-point type of the search.
        region: restricts candidates and gradient steps to a trust-region box.

    Raises:
        SpaceExhausted: no candidate it scored or sampled is outside ``exclude`` (on a finite
            space, the optimizer then enumerates the points left).
    """
    acq = as_acquisition(acq)
    n_raw = options.mc_raw_samples if acq.is_monte_carlo else options.raw_samples
    if region is None:
        cand = _candidates(space, n_raw, X_obs, y_obs, seed, device, dtype)
        lo, hi = 0.0, 1.0
    else:
        cand = _region_candidates(space, n_raw, region, seed, device, dtype)
        lo, hi = region.lb.to(device, dtype), region.ub.to(device, dtype)
    with torch.no_grad():
        vals = acq.screen(cand)
    vals = torch.nan_to_num(vals, nan=-float("inf"))
    vals = _drop_close(vals, cand, region)
    k = min(options.n_starts, cand.shape[0])
    starts = cand[torch.topk(vals, k).indices]

    # batched gradient refinement of all starts at once (categorical and inactive columns frozen)
    free = torch.ones(space.d, dtype=dtype, device=device)
    if space.cat_columns:
        free[space.cat_columns] = 0.0
    if space.conditional:  # each start moves only its active columns (k x d) and never a parent:
        free[parent_columns(space)] = 0.0  # switching branch is the neighbour search's move
        free = free * space.active_mask(starts).to(dtype)
    if options.steps > 0 and bool(free.any()):
        refined = space.snap(_adam_ascent(acq, starts, free, lo, hi, options))
        pool = torch.cat([refined, starts])
    else:
        pool = starts
    pool_vals = torch.nan_to_num(evaluate(acq, pool), nan=-float("inf"))
    pool_vals = _drop_close(pool_vals, pool, region)

    # discrete neighbour search for integer / categorical columns
    if space.cat_columns or space.int_columns:
        for _ in range(options.neighbour_rounds):
            top = pool[torch.topk(pool_vals, min(4, pool.shape[0])).indices]
            nb = _neighbours(space, top)
            if nb.shape[0] == 0:
                break
            nb_vals = torch.nan_to_num(evaluate(acq, nb), nan=-float("inf"))
            nb_vals = _drop_close(nb_vals, nb, region)
            improved = float(nb_vals.max()) > float(pool_vals.max())
            pool, pool_vals = torch.cat([pool, nb]), torch.cat([pool_vals, nb_vals])
            if not improved:
                break

    # best candidate not excluded (a host sync here, once per suggestion)
    all_vals = torch.cat([pool_vals, vals])
    allc = torch.cat([pool, cand])
    for i in torch.argsort(all_vals, descending=True).tolist():
        x = allc[i]
        if point_key(x) not in exclude:
            return x, float(all_vals[i])
    # everything scored is taken: draw fresh Sobol points until one is new
    for attempt in range(10):
        extra = space.sample(256, seed=seed + 7919 * (attempt + 1), device=device, dtype=dtype)
        for x in extra:
            if point_key(x) not in exclude:
                return x, float("nan")
    raise SpaceExhausted("every point of the search space has already been evaluated or is pending")
