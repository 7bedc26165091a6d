"""The BO step of a study with several objectives or with outcome constraints.

Glossary: ``n x d`` encoded rows, ``m`` objectives (larger is better), ``k`` constraints
(feasible iff ``<= 0``, user units), ``q`` points to choose, ``p x d`` pending points.

One suggestion: one GP per output (objectives, then constraints), stacked as one batched model
(:mod:`gpu_bo.surrogate.multi`) -> the acquisition (:func:`acquisition_name` says which) ->
:func:`gpu_bo.maximize.maximize` per point, sequential greedy: analytic acquisitions believe the
chosen points in every GP (Kriging believer), Monte Carlo ones take them as ``X_pending``.

Which acquisition (the ``"acquisition"`` key of ``last_suggestion_info``):

    constraints, nothing feasible yet        "feasibility": sum_j log P(c_j <= 0)
    one objective, ei / pi / ucb, with k     "ei+feasibility" ("pi+feasibility"): analytic,
                                             log EI (log PI) + sum_j log P(c_j <= 0); ucb uses EI's
    one objective, qei/qpi/qucb/qnei, with k "qlognei+constraints": BoTorch's constrained qLogNEI
    2-3 objectives                           "qlognehvi"  (constrained when k > 0)
    4 objectives                             "qlognparego" (constrained when k > 0)
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from gpu_bo.acquisition.base import ANALYTIC, Acquisition
from gpu_bo.acquisition.constrained import (
    ConstrainedAnalyticAcq,
    build_constrained_mc,
    feasibility_callables,
    thresholds,
)
from gpu_bo.acquisition.multi_objective import build_multi_objective, choose, reference_point
from gpu_bo.pareto import non_dominated
from gpu_bo.batch import Search
from gpu_bo.kernels.conditional import as_cat
from gpu_bo.maximize import maximize
from gpu_bo.space import point_key
from gpu_bo.surrogate import FitOptions
from gpu_bo.surrogate.multi import MultiFit, MultiGP, MultiGPModel

if TYPE_CHECKING:  # the options module imports nothing of this one; a type only
    from gpu_bo.optimizer_options import OptimizerOptions

__all__ = ["MultiOutputData", "SuggestContext", "MultiOutputSuggester", "acquisition_name"]

FEASIBILITY = "feasibility"


@dataclass(frozen=True)
class MultiOutputData:
    """The training data of a multi-output suggestion.

    Attributes:
        X: ``n x d`` encoded rows: the COMPLETE trials, then (failure policy "worst") the FAILED.
        Y: ``n x m`` objective values, larger is better (minimized objectives sign-flipped).
        C: ``n x k`` constraint values in the user's units (feasible iff ``<= 0``), or None.
        n_complete: the first ``n_complete`` rows are COMPLETE trials; the rest are failed
            trials shown as the worst value per objective and as infeasible.
        ref_point: ``m`` reference point in the larger-is-better units, or None (inferred).
        cat_columns: the encoded columns of categorical dimensions (on a conditional space the
            kernels' ``Columns``, :func:`gpu_bo.surrogate.conditional.column_spec`).
    """

    X: torch.Tensor
    Y: torch.Tensor
    C: torch.Tensor | None
    n_complete: int
    ref_point: torch.Tensor | None
    cat_columns: tuple[int, ...]


@dataclass(frozen=True)
class SuggestContext:
    """How a multi-output suggestion is made.

    Attributes:
        acquisition: the optimizer's acquisition name (``"ei"``, ``"qnei"``, ...).
        xi: EI/PI's margin in objective units (None: 1% of the values' standard deviation).
        kappa: UCB's exploration weight.
        options: the optimizer's options.
        search: the space, budgets and region of the acquisition's maximization.
        seed: the suggestion's seed.
        exclude: point keys never to return (evaluated, pending); chosen keys are added.
        X_pending: ``p x d`` pending points, or None.
        device: where the suggestion runs.
        dtype: the dtype of the fit and the search.
    """

    acquisition: str
    xi: float | None
    kappa: float
    options: OptimizerOptions
    search: Search
    seed: int
    exclude: set
    X_pending: torch.Tensor | None
    device: torch.device
    dtype: torch.dtype


def acquisition_name(n_objectives: int, n_constraints: int, acquisition: str, any_feasible: bool) -> str:
    """The acquisition a suggestion uses (the table of the module docstring).

    Args:
        n_objectives: ``m`` (1 to 4).
        n_constraints: ``k`` (0 or more).
        acquisition: the optimizer's acquisition name.
        any_feasible: whether a COMPLETE trial is feasible.
    """
    if n_constraints and not any_feasible:
        return FEASIBILITY
    if n_objectives > 1:
        return choose(n_objectives)
    if acquisition in ANALYTIC:
        return ("pi" if acquisition == "pi" else "ei") + "+feasibility"
    return "qlognei+constraints"


def local_scores(Y: Tensor, C: Tensor | None) -> Tensor:
    """A score per observed row (larger is better) whose top rows seed the maximizer's local candidates.

    Feasible rows first: with one objective by its value, with several the non-dominated ones
    (``1 +`` a small tie-break by the sum of min-max scaled objectives) above the dominated;
    infeasible rows below every feasible one, the least violating first.

    Args:
        Y: ``n x m`` objectives, larger is better.
        C: ``n x k`` constraint values, or None.
    """
    span = (Y.max(0).values - Y.min(0).values).clamp_min(1e-12)
    Z = (Y - Y.min(0).values) / span
    feasible = torch.ones(Y.shape[0], dtype=torch.bool, device=Y.device) if C is None else (C <= 0).all(-1)
    if Y.shape[-1] == 1:
        score = Z[:, 0]
    else:
        score = Z.mean(-1) * 0.5
        if bool(feasible.any()):
            front = torch.zeros_like(feasible)
            idx = feasible.nonzero().squeeze(-1)
            front[idx] = torch.as_tensor(non_dominated(Y[idx].cpu().tolist()), device=Y.device)
            score = score + front.to(Y.dtype)
    if C is not None:
        violation = C.clamp_min(0.0) / (C.max(0).values - C.min(0).values).clamp_min(1e-12)
        score = torch.where(feasible, score + 2.0, -violation.sum(-1))
    return score


class MultiOutputSuggester:
    """Chooses the points of a multi-objective or constrained suggestion (see the module docstring).

    Args:
        options: the optimizer's options (refit schedule, fit and Monte Carlo samples).
    """

    def __init__(self, options: OptimizerOptions) -> None:
        self.options = options
        self._fit = MultiFit(options.full_refit_every, options.refit_min_n, options.refit_growth)

    def select(self, data: MultiOutputData, q: int, ctx: SuggestContext) -> tuple[Tensor, dict]:
        """Choose ``q`` distinct points.

        Args:
            data: the training data.
            q: how many points.
            ctx: acquisition name, budgets, seed, excluded and pending points.

        Returns:
            ``q x d`` rows in the unit-cube encoding, and the info for ``last_suggestion_info``.

        Raises:
            ValueError: ``q`` is not an int >= 1, or the rows of ``X``, ``Y`` and ``C`` differ.
        """
        if isinstance(q, bool) or not isinstance(q, int) or q < 1:
            raise ValueError(f"q: got {q!r}, expected an int >= 1")
        dev, dt = ctx.device, ctx.dtype
        X, Y = data.X.to(dev, dt), data.Y.to(dev, dt)
        C = None if data.C is None else data.C.to(dev, dt)
        n, m, k = X.shape[0], Y.shape[-1], 0 if C is None else C.shape[-1]
        if Y.shape[0] != n or (C is not None and C.shape[0] != n):
            raise ValueError(f"data: X, Y and C must have the same rows, got {n}, {Y.shape[0]} and "
                             f"{None if C is None else C.shape[0]}")
        nc = int(data.n_complete)
        feasible = torch.ones(nc, dtype=torch.bool, device=dev) if C is None else (C[:nc] <= 0).all(-1)
        name = acquisition_name(m, k, ctx.acquisition, bool(feasible.any()))
        t0 = time.perf_counter()
        mgp, fit_info = self._fit.fit(X, Y if C is None else torch.cat([Y, C], -1), as_cat(data.cat_columns),
                                      options=self.options.fit or FitOptions.for_device(dev), seed=ctx.seed)
        t_fit = time.perf_counter() - t0
        s = dataclasses.replace(ctx.search, y_obs=local_scores(Y[:nc], None if C is None else C[:nc]))
        chosen: list[Tensor] = []
        analytic = name == FEASIBILITY or name.endswith("+feasibility")
        believed = mgp.believe(ctx.X_pending) if analytic else mgp
        for j in range(q):
            if analytic:
                if j > 0:
                    believed = believed.believe(chosen[-1].unsqueeze(0))
                acq = self._analytic(name, believed, Y[:nc], feasible, ctx)
            else:
                parts = [t for t in (ctx.X_pending, torch.stack(chosen) if chosen else None) if t is not None]
                acq = self._monte_carlo(name, mgp, X[:nc], Y[:nc], feasible, data.ref_point, m,
                                        torch.cat(parts).to(dev, dt) if parts else None, ctx.seed + j)
            options = s.options.for_batch_round() if analytic and j > 0 else s.options
            x, _ = maximize(acq, s.space, options=options, seed=ctx.seed + 31 * j, exclude=ctx.exclude,
                            X_obs=s.X_obs, y_obs=s.y_obs, device=dev, dtype=dt, region=s.region)
            ctx.exclude.add(point_key(x))
            chosen.append(x)
        info = {**fit_info, "seconds_fit": t_fit, "seconds_acquisition": time.perf_counter() - t0 - t_fit,
                "n": n, "device": str(dev), "acquisition": name, "n_objectives": m, "n_constraints": k,
                "n_feasible": int(feasible.sum()), "gp": [g.info for g in mgp.gps]}
        return torch.stack(chosen), info

    def _analytic(self, name: str, mgp: MultiGP, Y: Tensor, feasible: Tensor, ctx: SuggestContext) -> Acquisition:
        """Constrained EI/PI on the (believed) GPs, or the feasibility term alone."""
        gp0 = mgp.gps[0]
        xi_std = 0.01 if ctx.xi is None else gp0.scale_to_std(ctx.xi)
        if name == FEASIBILITY:
            return ConstrainedAnalyticAcq(mgp, "ei", None, 0.0)
        best = float(Y[feasible, 0].max())
        return ConstrainedAnalyticAcq(mgp, name.split("+")[0], gp0.to_std(best), xi_std)

    def _monte_carlo(self, name: str, mgp: MultiGP, X: Tensor, Y: Tensor, feasible: Tensor,
                     ref_point: Tensor | None, m: int, X_pending: Tensor | None, seed: int) -> Acquisition:
        """Constrained qLogNEI (one objective) or qLogNEHVI / qLogNParEGO on the GPs."""
        model = MultiGPModel(mgp)
        mc = self.options.mc_samples
        if m == 1:
            return build_constrained_mc(model, X_baseline=X, X_pending=X_pending, mc_samples=mc, seed=seed)
        k = mgp.num_outputs - m
        cons = feasibility_callables(m, thresholds(mgp, m)) if k else None
        ref = reference_point(Y, feasible, ref_point, constrained=k > 0)
        ref_std = torch.stack([(ref[j] - g.y_mean) / g.y_std for j, g in enumerate(mgp.gps[:m])])
        return build_multi_objective(name, model, n_objectives=m, ref_point_std=ref_std, X_baseline=X,
                                     constraints=cons, X_pending=X_pending, mc_samples=mc, seed=seed)

    def state_dict(self) -> dict:
        """The fits' warm starts (``{"outputs": [...]}`` per output), JSON-serializable."""
        return self._fit.state_dict()

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s warm starts (an empty dict: none, fits start cold)."""
        if not state:
            self._fit = MultiFit(*self._fit._args)
            return
        self._fit.load_state_dict(state)
