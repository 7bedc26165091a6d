"""The refit schedule: when to re-optimize the GP's hyperparameters and from where."""

from __future__ import annotations

import time
from collections.abc import Mapping

import torch

from gpu_bo.kernels.conditional import as_cat
from gpu_bo.surrogate.fit import FitOptions, fit_gp
from gpu_bo.surrogate.gp import FittedGP, GPParams

__all__ = ["RefitSchedule"]


class RefitSchedule:
    """When to re-optimize the GP hyperparameters and from where (warm or cold).

    Every ``full_refit_every``-th optimization is cold (fresh restarts), the others start warm
    from the previous optimum. From ``refit_min_n`` training points on (global strategy only)
    the hyperparameters are re-optimized only once the data have grown by ``refit_growth``;
    in between the last ones are kept and the GP is only conditioned on the new data.

    Attributes:
        params: the last optimized hyperparameters on CPU float64 (None before the first fit).
        n_fits: hyperparameter optimizations so far.
        last_fit_n: training points at the last one.
    """

    def __init__(self, full_refit_every: int = 20, refit_min_n: int = 100, refit_growth: float = 0.02) -> None:
        self.full_refit_every = int(full_refit_every)
        self.refit_min_n = int(refit_min_n)
        self.refit_growth = float(refit_growth)
        self.params: GPParams | None = None
        self.n_fits = 0
        self.last_fit_n = 0

    def fit(self, X: torch.Tensor, y: torch.Tensor, cat: tuple[int, ...], *, options: FitOptions, seed: int,
            local: bool = False, fit_fn=None, output_warp: str = "off") -> tuple[FittedGP, dict]:
        """Fit a GP to ``n x d`` inputs and ``n`` raw targets, re-optimizing when the schedule says so.

        Args:
            X: ``n x d`` training inputs.
            y: ``n`` raw targets (larger = better).
            cat: categorical columns of ``X``.
            options: the hyperparameter fit's options.
            seed: seed of the fit's restarts and subset.
            local: the data are a trust region's local subset (they change with the region), so
                the hyperparameters are re-optimized at every call.
            fit_fn: what fits, with :func:`fit_gp`'s signature (None: ``fit_gp``; input warping's own).
            output_warp: passed to :func:`fit_gp` (not to ``fit_fn``: the two warps do not combine).

        Returns:
            The fitted GP and ``{"fit_seconds", "cold_fit", "hyperparameters_fitted"}``.
        """
        cold = self.params is None or self.n_fits % max(1, self.full_refit_every) == 0
        n = int(X.shape[0])
        optimize = (cold or local or n < self.refit_min_n
                    or n >= self.last_fit_n * (1.0 + self.refit_growth))
        t0 = time.perf_counter()
        how = {"output_warp": output_warp} if fit_fn is None else {}
        gp = (fit_fn or fit_gp)(X, y, as_cat(cat), options=options, warm=None if cold else self.params,
                                seed=seed, optimize=optimize, **how)
        t_fit = time.perf_counter() - t0
        if optimize:
            self.params = gp.params.to(torch.device("cpu"), torch.float64)
            self.n_fits += 1
            self.last_fit_n = n
        return gp, {"fit_seconds": t_fit, "cold_fit": cold and optimize, "hyperparameters_fitted": optimize}

    def state_dict(self) -> dict:
        """``{"n_fits", "last_fit_n", "gp_params"}``, JSON-serializable."""
        return {"n_fits": self.n_fits, "last_fit_n": self.last_fit_n,
                "gp_params": None if self.params is None else self.params.to_list()}

    def load_state_dict(self, state: Mapping) -> None:
        """Restore :meth:`state_dict`'s keys (missing ones take their defaults; other keys are ignored).

        Raises:
            TypeError: ``state`` is not a mapping.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state: expected a mapping from RefitSchedule.state_dict(), got {type(state).__name__}")
        self.n_fits = int(state.get("n_fits", 0))
        self.last_fit_n = int(state.get("last_fit_n", 0))
        g = state.get("gp_params")
        self.params = None if g is None else GPParams.from_list(g)
