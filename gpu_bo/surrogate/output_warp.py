"""Output warping: a monotone transform of the (standardized) targets before the GP.

A GP assumes Gaussian-looking values; an objective whose values span orders of magnitude
(Rosenbrock, bent cigar, ...) gives it a few huge outliers, a long lengthscale and a flat mean
near the optimum. A warp ``z = w(u)`` of the standardized targets ``u`` (larger is better)
compresses that tail. The GP is then an ordinary GP on ``z``; :class:`gpu_bo.surrogate.FittedGP`
converts through :meth:`OutputWarp.forward` / :meth:`OutputWarp.inverse` in its units
(``to_std`` / ``from_std``), so incumbents, thresholds and ``best`` stay in the user's units.

Transforms (each fitted by maximum likelihood of an i.i.d. Gaussian on the warped values, with
the log-Jacobian, in float64 on the host: ``n`` numbers):

- ``"power"``: Yeo-Johnson with its lambda by maximum likelihood (bounded Brent, scipy).
- ``"log"``: ``-log(u_max - u + c)``, the log of the distance to the best value, its shift
  ``c`` (at least ``u_max - median(u)``) by likelihood on a grid: for heavy-tailed
  minimization objectives whose bad values span orders of magnitude.
- ``"auto"``: the likelier of the two, kept only when its log-likelihood beats the identity's
  by :data:`AUTO_MIN_GAIN` (a likelihood-ratio test at about 0.5%); otherwise no warp (the GP
  exactly as without one).

Every warp is defined on all reals and strictly increasing: inside the data's range it is the
transform, outside it continues linearly with the slope at the range's end, so a threshold, an
incumbent or a fantasy beyond the data converts both ways. The result is re-standardized.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["AUTO_MIN_GAIN", "OUTPUT_WARPS", "OutputWarp", "check_output_warp", "fit_output_warp", "warp_targets"]

OUTPUT_WARPS = ("off", "auto", "power", "log")
# "auto" keeps a warp only when it raises the Gaussian log-likelihood (summed over the points)
# by this much: Gaussian samples pass it in well under 1% of draws at n = 10-100
# (tests/test_output_warp.py), so near-Gaussian objectives keep the unwarped GP
AUTO_MIN_GAIN = 4.0
MIN_POINTS = 6  # fewer targets (or fewer distinct ones) than this: no warp, nothing to fit it on
_LOG_SHIFTS = np.geomspace(1e-3, 1.0, 13)  # the log warp's shift c, in units of the targets' std
LAMBDA_RANGE = (-3.0, 5.0)  # Yeo-Johnson's lambda is searched here (wider ones fitted outliers)


def check_output_warp(name: object) -> str:
    """``name`` if it is one of :data:`OUTPUT_WARPS`.

    Raises:
        ValueError: any other value (the message names the parameter and the choices).
    """
    if not isinstance(name, str) or name not in OUTPUT_WARPS:
        raise ValueError(f"output_warp: got {name!r}, expected one of {list(OUTPUT_WARPS)}")
    return name


# Yeo-Johnson by hand: scipy.stats' yeojohnson / yeojohnson_llf / yeojohnson_normmax took ~4 ms,
# ~5 ms and ~100 ms per call on the 2-core CPU (input checks, array-API dispatch), as much as a
# whole suggestion; the same formulas on a few dozen numbers take microseconds
# (tests/test_output_warp.py checks them against scipy's).
def _yj(u: np.ndarray, lam: float) -> np.ndarray:
    out = np.empty_like(u)
    pos = u >= 0
    up, un = u[pos], u[~pos]
    out[pos] = np.expm1(lam * np.log1p(up)) / lam if abs(lam) > 1e-12 else np.log1p(up)
    out[~pos] = (-np.expm1((2 - lam) * np.log1p(-un)) / (2 - lam) if abs(lam - 2) > 1e-12
                 else -np.log1p(-un))
    return out


def _yj_inv(w: np.ndarray, lam: float) -> np.ndarray:
    out = np.empty_like(w)
    pos = w >= 0
    wp, wn = w[pos], w[~pos]
    out[pos] = np.expm1(np.log1p(lam * wp) / lam) if abs(lam) > 1e-12 else np.expm1(wp)
    out[~pos] = (-np.expm1(np.log1p(-(2 - lam) * wn) / (2 - lam)) if abs(lam - 2) > 1e-12
                 else -np.expm1(-wn))
    return out


def _yj_slope(u: float, lam: float) -> float:
    return (u + 1) ** (lam - 1) if u >= 0 else (1 - u) ** (1 - lam)


def _yj_llf(lam: float, u: np.ndarray) -> float:
    """Yeo-Johnson's profile log-likelihood with the Jacobian (``scipy.stats.yeojohnson_llf``)."""
    return _gauss_llf(_yj(u, lam)) + (lam - 1) * float(np.sum(np.sign(u) * np.log1p(np.abs(u))))


@dataclass(frozen=True)
class OutputWarp:
    """A fitted strictly increasing warp of standardized targets, ``u -> z``, on all reals.

    Attributes:
        kind: ``"power"`` (Yeo-Johnson, ``param`` = lambda) or ``"log"`` (``-log(top - u)``,
            ``param`` = ``top``: the best target plus the shift).
        param: the transform's parameter (above).
        lo, hi: the data's range in ``u``; outside it the warp continues linearly.
        mean, std: the warped data's mean and standard deviation (``z = (w(u) - mean) / std``).
        gain: the log-likelihood gain over no warp (summed over the points), as fitted.
    """

    kind: str
    param: float
    lo: float
    hi: float
    mean: float = 0.0
    std: float = 1.0
    gain: float = 0.0

    def __post_init__(self) -> None:  # the linear tails' knots, once
        w_lo, w_hi = (float(w) for w in self._core(np.array([self.lo, self.hi])))
        object.__setattr__(self, "_knots", (w_lo, w_hi, self._slope(self.lo), self._slope(self.hi)))

    def _core(self, u: np.ndarray) -> np.ndarray:
        if self.kind == "power":
            return _yj(u, self.param)
        return -np.log(self.param - u)

    def _core_inv(self, w: np.ndarray) -> np.ndarray:
        if self.kind == "power":
            return _yj_inv(w, self.param)
        return self.param - np.exp(-w)

    def _slope(self, u: float) -> float:
        return _yj_slope(u, self.param) if self.kind == "power" else 1.0 / (self.param - u)

    def _raw_forward(self, u: np.ndarray) -> np.ndarray:
        w_lo, w_hi, s_lo, s_hi = self._knots
        w = self._core(np.clip(u, self.lo, self.hi))
        w = np.where(u > self.hi, w_hi + s_hi * (u - self.hi), w)
        return np.where(u < self.lo, w_lo + s_lo * (u - self.lo), w)

    def forward(self, u):
        """Standardized targets ``u`` (a float or an array) -> the GP's values ``z``."""
        z = (self._raw_forward(np.atleast_1d(np.asarray(u, dtype=np.float64))) - self.mean) / self.std
        return float(z[0]) if np.ndim(u) == 0 else z

    def inverse(self, z):
        """The GP's values ``z`` (a float or an array) -> standardized targets ``u``."""
        w_lo, w_hi, s_lo, s_hi = self._knots
        w = np.atleast_1d(np.asarray(z, dtype=np.float64) * self.std + self.mean)
        u = self._core_inv(np.clip(w, w_lo, w_hi))
        u = np.where(w > w_hi, self.hi + (w - w_hi) / s_hi, u)
        u = np.where(w < w_lo, self.lo + (w - w_lo) / s_lo, u)
        return float(u[0]) if np.ndim(z) == 0 else u


def _gauss_llf(w: np.ndarray) -> float:
    """Profile log-likelihood of an i.i.d. Gaussian fitted to ``w`` (constants dropped)."""
    var = float(np.var(w))
    return -0.5 * w.size * math.log(var) if var > 0 and math.isfinite(var) else -math.inf


def _fit_power(u: np.ndarray) -> tuple[float, float]:
    """(lambda, log-likelihood with the Jacobian) of Yeo-Johnson by maximum likelihood."""
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda lam: -_yj_llf(lam, u), bounds=LAMBDA_RANGE, method="bounded",
                          options={"xatol": 1e-4})
    lam = float(res.x)
    return lam, _yj_llf(lam, u)


def _fit_log(u: np.ndarray) -> tuple[float, float]:
    """(top, log-likelihood with the Jacobian) of ``-log(top - u)``, the shift on a grid.

    The shift is at least the distance from the best target to the median: a smaller one
    stretches the few best values apart (the best an outlier above the rest), which cost a
    bent cigar ~20x in regret in a 4-seed trial while Rosenbrock kept its gain.
    """
    best = (math.nan, -math.inf)
    for c in np.maximum(_LOG_SHIFTS * float(np.std(u)), u.max() - float(np.median(u))):
        t = u.max() + c - u
        llf = _gauss_llf(np.log(t)) - float(np.log(t).sum())  # |dw/du| = 1 / t
        if llf > best[1]:
            best = (float(u.max() + c), llf)
    return best


def fit_output_warp(u, name: str = "auto") -> OutputWarp | None:
    """Fit the warp ``name`` to ``n`` standardized finite targets ``u`` (larger is better).

    Args:
        u: ``n`` standardized targets (an array or a tensor, any device).
        name: one of :data:`OUTPUT_WARPS`.

    Returns:
        The fitted warp, or None (no warp): ``"off"``, fewer than :data:`MIN_POINTS` distinct
        targets, non-finite targets, or ``"auto"`` without a gain of :data:`AUTO_MIN_GAIN`.

    Raises:
        ValueError: ``name`` is not one of :data:`OUTPUT_WARPS`.
    """
    check_output_warp(name)
    if name == "off":
        return None
    if hasattr(u, "detach"):
        u = u.detach().cpu().double().numpy()
    u = np.asarray(u, dtype=np.float64).ravel()
    if u.size < MIN_POINTS or not np.isfinite(u).all() or np.unique(u).size < MIN_POINTS:
        return None
    base = _gauss_llf(u)
    fits = {}
    if name in ("auto", "power"):
        fits["power"] = _fit_power(u)
    if name in ("auto", "log"):
        fits["log"] = _fit_log(u)
    kind = max(fits, key=lambda k: fits[k][1])
    param, llf = fits[kind]
    gain = llf - base
    if not math.isfinite(llf) or (name == "auto" and gain < AUTO_MIN_GAIN):
        return None
    warp = OutputWarp(kind, param, float(u.min()), float(u.max()), gain=gain)
    w = warp._raw_forward(u)
    sd = float(np.std(w, ddof=1))
    if not (math.isfinite(sd) and sd > 0):
        return None
    return OutputWarp(kind, param, warp.lo, warp.hi, float(np.mean(w)), sd, gain)


def warp_targets(ys, name: str = "off"):
    """(warp, warped ``ys``): :func:`fit_output_warp` applied to a tensor of standardized targets.

    Args:
        ys: ``n`` standardized finite targets (a float64 tensor, any device).
        name: one of :data:`OUTPUT_WARPS`.

    Returns:
        ``(None, ys)`` when no warp is fitted, else the warp and ``warp.forward(ys)`` as a
        tensor like ``ys``.
    """
    warp = fit_output_warp(ys, name)
    if warp is None:
        return None, ys
    import torch

    return warp, torch.as_tensor(warp.forward(ys.detach().cpu().double().numpy()), dtype=ys.dtype,
                                 device=ys.device)
