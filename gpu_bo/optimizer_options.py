"""OptimizerOptions: the rarely changed knobs of :class:`gpu_bo.optimizer.Optimizer`.

Its own module so that optimizer.py holds ask/tell/state only; ``gpu_bo.optimizer`` and
``gpu_bo`` re-export it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gpu_bo.local_phase import LocalPhaseOptions
from gpu_bo.maximize import MaximizeOptions
from gpu_bo.surrogate import FitOptions, check_output_warp
from gpu_bo.surrogate.input_warp import MODES as _WARP_MODES
from gpu_bo.trust_region import TrustRegionOptions

__all__ = ["OptimizerOptions"]


@dataclass(frozen=True)
class OptimizerOptions:
    """Rarely changed knobs of :class:`Optimizer`.

    Attributes:
        failure_policy: ``"worst"``: a failed point is shown to the GP as the worst value seen
            so far (the NaN itself never is), so the search steers away from regions that keep
            failing; ``"ignore"``: failed points only are never proposed again.
        full_refit_every: fit hyperparameters from several fresh restarts every this many
            suggestions; in between, warm-start from the previous fit (cheaper).
        refit_min_n, refit_growth: from ``refit_min_n`` observations on (global strategy), the
            hyperparameters are re-optimized only once the data have grown by ``refit_growth``
            (2%: every 4th suggestion at n = 200, every 100th at n = 5,000); in between the GP
            is conditioned on all the data with the last hyperparameters (one Cholesky factor).
            Why: with hundreds of points one more barely moves them, while their fit dominates
            a suggestion's time there (benchmarks/results/scaling.md). Studies below
            ``refit_min_n`` (the quality benchmarks' budgets) refit at every ask.
        fit: options of the GP fit (None: per-device defaults).
        maximize: options of the acquisition maximization (None: per-device defaults).
        dtype: "float64" (default) or "float32".
        cpu_threads: torch threads during a CPU suggestion (None: 1 for n <= 2000, see device.py).
        trust_region: options of the trust-region strategy (gpu_bo/trust_region.py).
        auto_tr_min_dim, auto_tr_min_n_cpu, auto_tr_min_n_cuda: ``strategy="auto"`` uses the
            trust region from this many dimensions (None: never by dimension), or from this
            many completed trials on each device, past which an exact global GP costs more than
            its suggestions are worth there (benchmarks/results/scaling.md: the global GP's and
            the trust region's time per suggestion against n, CPU and H200).
            Not by dimension by default: with the dimension-scaled lengthscale prior the global
            GP had the lowest regret at d = 100 (benchmarks/results/quality_highdim.md).
        ref_point: a multi-objective study's reference point for the hypervolume, in the
            objectives' own units, one value per objective (each slightly worse than the worst
            value worth having); None: inferred from the data (:mod:`gpu_bo.multi_output`).
        multi_fidelity: with a resource-based pruner (successive halving, Hyperband),
            :func:`gpu_bo.optimize` learns from every reported value with a GP over
            (configuration, resource) and suggests at full resource (:mod:`gpu_bo.multi_fidelity`);
            False: only finished trials' values, as without a pruner.
        input_warp: ``"off"``, ``"on"`` or ``"auto"``: fit a Kumaraswamy warp of each real
            column with the GP (single objective, global strategy, flat spaces;
            :mod:`gpu_bo.surrogate.input_warp`, docs/guide/input-warping.md).
        output_warp: a monotone transform of a single-objective study's values before the GP
            (:mod:`gpu_bo.surrogate.output_warp`): ``"off"`` (the default), ``"auto"`` (a warp
            only where the likelihood says it fits much better; docs/guide/output-warping.md),
            ``"power"`` (Yeo-Johnson) or ``"log"``. Studies with several objectives or
            constraints are never warped.
        local_phase: the local exploitation phase and escape rule of a single-objective study
            with the global strategy (:mod:`gpu_bo.local_phase`, docs/guide/local-phase.md).
            The default searches the last 20% of a known budget (``Optimizer.budget``, set by
            :func:`gpu_bo.optimize`) locally and does nothing without one; None: off.
    """

    failure_policy: str = "worst"
    full_refit_every: int = 20
    refit_min_n: int = 100
    refit_growth: float = 0.02
    fit: FitOptions | None = None
    maximize: MaximizeOptions | None = None
    dtype: str = "float64"
    cpu_threads: int | None = None
    mc_samples: int = 128
    trust_region: TrustRegionOptions = field(default_factory=TrustRegionOptions)
    auto_tr_min_dim: int | None = None
    auto_tr_min_n_cpu: int = 1500
    auto_tr_min_n_cuda: int = 10000
    ref_point: tuple[float, ...] | None = None
    multi_fidelity: bool = True
    input_warp: str = "off"
    output_warp: str = "off"
    local_phase: LocalPhaseOptions | None = field(default_factory=LocalPhaseOptions)

    def __post_init__(self) -> None:
        if self.input_warp not in _WARP_MODES:
            raise ValueError(f"input_warp: got {self.input_warp!r}, expected one of {list(_WARP_MODES)}")
        check_output_warp(self.output_warp)
        if self.ref_point is not None:
            try:
                ref = tuple(float(r) for r in self.ref_point)
            except (TypeError, ValueError):
                ref = ()
            if not ref or not all(map(math.isfinite, ref)):
                raise ValueError(f"ref_point: got {self.ref_point!r}, expected a list of finite numbers "
                                 "(one per objective) or None")
            object.__setattr__(self, "ref_point", ref)
