"""The priors of the GP's MAP fit: each one's log density and gradient, written once.

Both loss paths of :mod:`gpu_bo.surrogate.fit` (the closed-form value + gradient and the
autograd graph, its test oracle) take the priors from here. Everything is on the fit's raw,
unconstrained parametrization, one row per restart:

Glossary (``R`` restarts, ``d`` input dimensions):
    log_ls: ``R x d`` log lengthscales.  log_os: ``R`` log outputscale.
    log_noise: ``R`` log of the noise variance above ``NOISE_FLOOR`` (noise = floor + exp).
    c: ``R`` constant mean (standardized units).

Priors:
    lengthscale ~ LogNormal(sqrt(2) + log(d)/2, sqrt(3)) as a density over the lengthscale
        itself, as GPyTorch evaluates BoTorch's ``LogNormalPrior`` (the dimension-scaled prior of
        Hvarfner et al. 2024, BoTorch's default). On the log-parametrization that adds the
        Jacobian ``-log ls``, which puts the mode at ``exp(loc - 3) = 0.5 sqrt(d)`` instead of
        ``exp(loc)``: without it dimensions that look flat after a few points drift to long
        lengthscales and the search ignores them (benchmarks/results/quality.md,
        quality_highdim.md hold the runs with it).
    log outputscale ~ N(0, 1).
    noise - floor ~ Gamma(1.1, 30) as a density over the value (Optuna GPSampler's prior): its
        log density ``0.1 log(noise) - 30 noise`` barely penalizes small noise, so a smooth
        deterministic objective gets a near-interpolating GP, where BoTorch's LogNormal(-4, 1)
        held the noise high enough to blur the last digits of an optimum
        (benchmarks/results/quality.md, mixed_space.md hold the runs with it).
    constant mean ~ N(0, 2^2).

The functions below add the terms in a fixed order, one prior after the other: the fit's
rounding, and so the suggestions pinned by tests/test_golden.py, depend on it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

__all__ = ["LS_PRIOR_SCALE", "RawBlocks", "add_neg_log_prior_grad", "lengthscale_loc", "log_prior"]

LS_PRIOR_SCALE = math.sqrt(3.0)  # the lengthscale prior's sigma (log scale)
_NOISE_LOG_COEF = 0.1  # Gamma concentration - 1 (written as 0.1: 1.1 - 1.0 rounds differently)
_NOISE_RATE = 30.0  # Gamma rate
_MEAN_SCALE = 2.0  # the constant mean's prior sigma


def lengthscale_loc(d: int) -> float:
    """The lengthscale prior's log-scale location for ``d`` input dimensions: ``sqrt(2) + log(d)/2``."""
    return math.sqrt(2.0) + 0.5 * math.log(max(d, 1))


class RawBlocks(NamedTuple):
    """The fit's raw ``R x (d + 3)`` vector split per parameter (or a gradient split alike)."""

    log_ls: torch.Tensor  # R x d
    log_os: torch.Tensor  # R
    log_noise: torch.Tensor  # R
    c: torch.Tensor  # R

    @classmethod
    def split(cls, raw: torch.Tensor) -> RawBlocks:
        """Views of ``raw`` (``R x (d + 3)``): lengthscales, outputscale, noise, mean."""
        d = raw.shape[-1] - 3
        return cls(raw[:, :d], raw[:, d], raw[:, d + 1], raw[:, d + 2])

    def cat(self) -> torch.Tensor:
        """The blocks joined back into one ``R x (d + 3)`` tensor."""
        return torch.cat([self.log_ls, self.log_os.unsqueeze(-1), self.log_noise.unsqueeze(-1),
                          self.c.unsqueeze(-1)], -1)


def log_prior(p: RawBlocks) -> torch.Tensor:
    """Sum of the four log prior densities per restart (``R``), up to constants.

    Args:
        p: the raw parameters, split.

    Returns:
        ``R`` log prior densities.
    """
    z = (p.log_ls - lengthscale_loc(p.log_ls.shape[-1])) / LS_PRIOR_SCALE
    lp = (-0.5 * z * z - p.log_ls).sum(-1)  # lengthscale: log-normal density over ls (Jacobian -log ls)
    lp = lp - 0.5 * p.log_os ** 2  # log outputscale: standard normal
    lp = lp + _NOISE_LOG_COEF * p.log_noise - _NOISE_RATE * torch.exp(p.log_noise)  # noise: Gamma
    return lp - 0.5 * (p.c / _MEAN_SCALE) ** 2  # constant mean: normal


def add_neg_log_prior_grad(g: RawBlocks, p: RawBlocks) -> RawBlocks:
    """``g`` plus the gradient of the negative log prior with respect to the raw parameters.

    Args:
        g: a gradient (the negative log likelihood's), split like ``p``; each block gets the
            prior's terms added after it, in a fixed order.
        p: the raw parameters, split.

    Returns:
        The summed gradient, split.
    """
    z = (p.log_ls - lengthscale_loc(p.log_ls.shape[-1])) / LS_PRIOR_SCALE
    return RawBlocks(
        g.log_ls + z / LS_PRIOR_SCALE + 1.0,
        g.log_os + p.log_os,
        g.log_noise - _NOISE_LOG_COEF + _NOISE_RATE * torch.exp(p.log_noise),
        g.c + p.c / (_MEAN_SCALE * _MEAN_SCALE),
    )
