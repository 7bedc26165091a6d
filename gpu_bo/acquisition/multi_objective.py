"""Several objectives: BoTorch's qLogNEHVI (2-3 objectives) or qLogNParEGO (4+), on our GPs.

Glossary (BoTorch's grammar): ``m`` objectives, ``k`` constraints; the model's outputs are the
``m`` objectives (larger is better, each in its GP's standardized units) then the ``k``
constraint values (feasible iff ``<= 0`` in the user's units, i.e. ``<=`` the threshold
:func:`gpu_bo.acquisition.constrained.thresholds` gives in standardized units).

Standardized units change each objective by a positive affine map, so the hypervolume they see is
the user-unit hypervolume times a constant: the argmax is the same. The reference point is
converted the same way (``ref_point_std``).

The rule between the two acquisitions (:func:`choose`): qLogNEHVI (the noisy expected
hypervolume improvement, Daulton et al. 2021, with its log/fat-tailed smoothing) for 2 and 3
objectives; qLogNParEGO (random augmented Chebyshev scalarizations inside qLogNEI, one weight
vector per point) from 4 objectives on, where the box decompositions of qLogNEHVI grow
exponentially with ``m`` and dominate the suggestion's time
(benchmarks/results/multi_objective.md has the measurement behind the rule).

Both are :class:`~gpu_bo.acquisition.base.BoTorchAcq` (``is_monte_carlo`` True, autograd
gradients), maximized by :mod:`gpu_bo.maximize`; a batch is chosen sequential-greedy with the
pending and already chosen points as ``X_pending`` (:mod:`gpu_bo.multi_output`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from botorch.acquisition.multi_objective.logei import (
    qLogExpectedHypervolumeImprovement,
    qLogNoisyExpectedHypervolumeImprovement,
)
from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
from botorch.acquisition.multi_objective.parego import qLogNParEGO
from botorch.acquisition.multi_objective.utils import prune_inferior_points_multi_objective
from botorch.sampling import SobolQMCNormalSampler
from botorch.utils.multi_objective.box_decompositions.non_dominated import FastNondominatedPartitioning
from botorch.utils.multi_objective.hypervolume import infer_reference_point
from botorch.utils.multi_objective.pareto import is_non_dominated
from botorch.utils.sampling import sample_simplex

from gpu_bo.acquisition.base import BoTorchAcq, evaluate
from gpu_bo.surrogate.multi import MultiGPModel

__all__ = ["NEHVI", "PAREGO", "MAX_NEHVI_OBJECTIVES", "ScreenedAcq", "choose", "reference_point",
           "build_multi_objective"]

NEHVI = "qlognehvi"
PAREGO = "qlognparego"
MAX_NEHVI_OBJECTIVES = 3  # from 4 objectives on: ParEGO (see the module docstring)
PRUNE_MIN_BASELINE = 16  # prune the baseline to likely-Pareto points once it is this long
SCREEN_MC_SAMPLES = 32  # samples of the cheap screening acquisition (ScreenedAcq)
# The feasibility sigmoid's temperature, in the constraint GPs' standardized units. BoTorch's
# default (1e-3; 1e-2 for qLogEHVI), with its fat (polynomial) tail, let a large hypervolume gain
# outweigh a point known to lie just past a limit: on ConstrainedBraninCurrin half of the last 10
# suggestions were infeasible by 0.1-3.5 user units (0.003-0.09 standardized); 1e-5 gave 0 and a
# higher hypervolume on every seed (benchmarks/results/multi_objective_constrained_eta_ab.md).
CONSTRAINT_ETA = 1e-5


class ScreenedAcq(BoTorchAcq):
    """qLogNEHVI for the gradient refinement, screened by qLogEHVI over the posterior-mean front.

    Why: screening scores hundreds of candidates, and each qLogNEHVI value needs the joint
    posterior of the candidate with the whole baseline for every sample; qLogEHVI against the
    fixed front of the baseline's posterior means needs the candidate's posterior alone
    (benchmarks/results/multi_objective.md has the time per suggestion with it). The starts it
    picks are then refined, and the final choice made, on qLogNEHVI itself.

    Args:
        botorch: the qLogNEHVI module.
        screener: the qLogEHVI module used by :meth:`screen`.
    """

    def __init__(self, botorch: torch.nn.Module, screener: torch.nn.Module) -> None:
        super().__init__(botorch)
        self.screener = screener

    def screen(self, X: torch.Tensor) -> torch.Tensor:
        """``N x d -> N``: qLogEHVI values, in memory-bounded chunks."""
        return evaluate(self.screener, X)


def choose(n_objectives: int) -> str:
    """The acquisition for ``n_objectives`` objectives: :data:`NEHVI` up to 3, :data:`PAREGO` beyond.

    Args:
        n_objectives: the number of objectives (2 or more).

    Raises:
        ValueError: ``n_objectives`` is not an int >= 2.
    """
    if isinstance(n_objectives, bool) or not isinstance(n_objectives, int) or n_objectives < 2:
        raise ValueError(f"n_objectives: got {n_objectives!r}, expected an int >= 2")
    return NEHVI if n_objectives <= MAX_NEHVI_OBJECTIVES else PAREGO


def reference_point(Y: torch.Tensor, feasible: torch.Tensor | None = None,
                    given: torch.Tensor | None = None, constrained: bool = False) -> torch.Tensor:
    """The reference point (larger-is-better units of ``Y``): ``given``, else inferred.

    Inferred without constraints by BoTorch's ``infer_reference_point`` rule (the rule
    :func:`gpu_bo.pareto.infer_reference_point` documents): per objective the worst value of the
    Pareto front, moved 10% of the front's range further toward worse. With constraints, per
    objective the worst value of every feasible row (the feasible nadir), moved 10% of their
    range toward worse: the few feasible points' front made the first rule's point so tight that
    the front stopped growing toward its ends (ConstrainedBraninCurrin, 10 seeds:
    benchmarks/results/multi_objective_refpoint_ab.md). Without any feasible row, all rows are used.

    Args:
        Y: ``n x m`` observed objectives, larger is better.
        feasible: ``n`` booleans, or None (all feasible).
        given: ``m`` user reference point in the same units, or None.
        constrained: whether the study has outcome constraints (the feasible-nadir rule).
    """
    if given is not None:
        return given.to(Y)
    rows = Y if feasible is None or not bool(feasible.any()) else Y[feasible]
    if constrained:
        lo, hi = rows.min(0).values, rows.max(0).values
        return lo - 0.1 * (hi - lo).clamp_min(1e-9)
    front = rows[is_non_dominated(rows)]
    return infer_reference_point(front, scale=0.1)


def build_multi_objective(method: str, model: MultiGPModel, *, n_objectives: int, ref_point_std: torch.Tensor,
                          X_baseline: torch.Tensor, constraints: list[Callable[[torch.Tensor], torch.Tensor]] | None,
                          X_pending: torch.Tensor | None, mc_samples: int, seed: int) -> BoTorchAcq:
    """qLogNEHVI or qLogNParEGO on ``model``'s first ``n_objectives`` outputs.

    Args:
        method: :data:`NEHVI` or :data:`PAREGO`.
        model: the objectives' (then the constraints') GPs.
        n_objectives: how many of the model's outputs are objectives.
        ref_point_std: ``n_objectives`` reference point in the GPs' standardized units (NEHVI).
        X_baseline: ``n x d`` observed points (the noisy incumbents).
        constraints: BoTorch constraint callables (samples -> ``<= 0`` feasible), or None.
        X_pending: ``p x d`` pending points, or None.
        mc_samples: quasi-Monte Carlo samples.
        seed: the sampler's seed (and ParEGO's weights').

    Raises:
        ValueError: ``method`` is not one of the two names.
    """
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([mc_samples]), seed=seed)
    objective = IdentityMCMultiOutputObjective(outcomes=list(range(n_objectives)))
    if X_baseline.shape[0] >= PRUNE_MIN_BASELINE:
        # BoTorch's pruning, with the acquisition's sample count instead of its default 2048:
        # its per-sample non-dominated filter over all n points was most of the suggestion's
        # time at n = 500 (benchmarks/results/multi_objective.md)
        X_baseline = prune_inferior_points_multi_objective(
            model, X_baseline, ref_point_std, objective=objective, constraints=constraints,
            num_samples=mc_samples)
    if method == NEHVI:
        acqf = qLogNoisyExpectedHypervolumeImprovement(
            model, ref_point=ref_point_std, X_baseline=X_baseline, sampler=sampler, objective=objective,
            constraints=constraints, eta=CONSTRAINT_ETA, X_pending=X_pending, prune_baseline=False,
            cache_root=False)
        model.cache_prefix(acqf.X_baseline)
        return ScreenedAcq(acqf, _screener(model, acqf.X_baseline, n_objectives, ref_point_std, constraints, seed))
    elif method == PAREGO:
        gen = torch.Generator(device="cpu").manual_seed(seed)
        w = sample_simplex(n_objectives, n=1, qmc=False, seed=int(torch.randint(2**31 - 1, (1,), generator=gen)),
                           dtype=X_baseline.dtype).squeeze(0).to(X_baseline.device)
        acqf = qLogNParEGO(model, X_baseline=X_baseline, scalarization_weights=w, sampler=sampler,
                           objective=objective, constraints=constraints, eta=CONSTRAINT_ETA, X_pending=X_pending,
                           prune_baseline=False, cache_root=False)
    else:
        raise ValueError(f"method: got {method!r}, expected {NEHVI!r} or {PAREGO!r}")
    model.cache_prefix(acqf.X_baseline)
    return BoTorchAcq(acqf)


def _screener(model: MultiGPModel, X_baseline: torch.Tensor, n_objectives: int, ref_point_std: torch.Tensor,
              constraints: list[Callable[[torch.Tensor], torch.Tensor]] | None, seed: int) -> torch.nn.Module:
    """qLogEHVI against the front of the posterior means of the baseline (pending points included)."""
    with torch.no_grad():
        mean = model.mgp.mean_var(X_baseline)[0]
    Y = mean[:, :n_objectives]
    if constraints:
        feasible = torch.stack([c(mean) <= 0 for c in constraints]).all(0)
        Y = Y[feasible] if bool(feasible.any()) else Y[:0]
    partitioning = FastNondominatedPartitioning(ref_point=ref_point_std, Y=Y)
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([SCREEN_MC_SAMPLES]), seed=seed)
    return qLogExpectedHypervolumeImprovement(
        model, ref_point=ref_point_std, partitioning=partitioning, sampler=sampler,
        objective=IdentityMCMultiOutputObjective(outcomes=list(range(n_objectives))), constraints=constraints,
        eta=CONSTRAINT_ETA)
