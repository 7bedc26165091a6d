"""The GP surrogate: the fitted GP (:mod:`.gp`: posterior, conditioning, units), its
hyperparameter fit (:mod:`.fit`), the refit schedule (:mod:`.refit`) and the priors (:mod:`.prior`),
the output warps (:mod:`.output_warp`).

Every name that was importable from the former ``gpu_bo/surrogate.py`` is re-exported here.
"""

from __future__ import annotations

from gpu_bo.surrogate.fit import (
    POLISH_MAX_POINTS,
    FitOptions,
    _initial_raw,
    _loss_and_grad,
    _neg_log_post,
    _neg_log_post_grad,
    _run_adam,
    _run_lbfgs,
    fit_gp,
    pairwise_sq_diffs,
)
from gpu_bo.surrogate.gp import NOISE_FLOOR, FittedGP, GPModel, GPParams, _condition, _extend_factor, believe
from gpu_bo.surrogate.output_warp import OUTPUT_WARPS, OutputWarp, check_output_warp
from gpu_bo.surrogate.refit import RefitSchedule
from gpu_bo.surrogate.prior import LS_PRIOR_SCALE as _LS_PRIOR_SCALE
from gpu_bo.surrogate.prior import lengthscale_loc as _prior_loc

__all__ = ["NOISE_FLOOR", "POLISH_MAX_POINTS", "FitOptions", "FittedGP", "GPModel", "GPParams", "RefitSchedule",
           "OUTPUT_WARPS", "OutputWarp", "believe", "check_output_warp", "fit_gp", "pairwise_sq_diffs"]
