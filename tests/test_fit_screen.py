"""Cold L-BFGS fits on more than SCREEN_POINTS points screen their restarts on a subset."""

from __future__ import annotations

import math

import torch

import gpu_bo.surrogate.fit as fit_mod


def _data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 4, generator=g, dtype=torch.float64)
    y = torch.sin(6 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2] + 0.01 * torch.randn(n, generator=g, dtype=torch.float64)
    return X, y


def test_a_cold_fit_on_many_points_is_screened_and_as_good(monkeypatch):
    X, y = _data(400)
    screened = fit_mod.fit_gp(X, y, seed=3)
    assert screened.info.get("screened_on") == fit_mod.SCREEN_POINTS
    monkeypatch.setattr(fit_mod, "SCREEN_POINTS", 10**9)
    full = fit_mod.fit_gp(X, y, seed=3)
    assert "screened_on" not in full.info
    # the same basin: the loss per point within 0.02 and the lengthscales of the informative inputs close
    assert screened.info["loss"] <= full.info["loss"] + 0.02
    for j in (0, 1):
        ratio = float(screened.params.lengthscale[j] / full.params.lengthscale[j])
        assert 0.7 < ratio < 1.4, (j, ratio)


def test_small_and_warm_fits_are_not_screened():
    X, y = _data(fit_mod.SCREEN_POINTS)
    gp = fit_mod.fit_gp(X, y, seed=0)
    assert "screened_on" not in gp.info
    Xb, yb = _data(400, seed=1)
    warm = fit_mod.fit_gp(Xb, yb, seed=0, warm=gp.params)
    assert "screened_on" not in warm.info
    assert math.isfinite(warm.info["loss"])
