"""The GP surrogate: the fitted GP (:mod:`.gp`), its hyperparameter fit and refit schedule
(:mod:`.fit`) and the priors (:mod:`.prior`).

Everything that was importable from the former ``gpu_bo/surrogate.py`` is re-exported here.
"""

from __future__ import annotations

from gpu_bo.surrogate.fit import (
    NOISE_FLOOR,
    POLISH_MAX_POINTS,
    FitOptions,
    FittedGP,
    GPModel,
    GPParams,
    RefitSchedule,
    _condition,
    _extend_factor,
    _initial_raw,
    _loss_and_grad,
    _neg_log_post,
    _neg_log_post_grad,
    _prior_loc,
    _run_adam,
    _run_lbfgs,
    believe,
    fit_gp,
    pairwise_sq_diffs,
)

__all__ = ["NOISE_FLOOR", "FitOptions", "FittedGP", "GPModel", "GPParams", "RefitSchedule", "believe",
           "fit_gp", "pairwise_sq_diffs"]
