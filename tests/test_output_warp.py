"""Output warping (gpu_bo/surrogate/output_warp.py): each transform is strictly increasing and
invertible on all reals, the automatic choice leaves Gaussian-looking values alone, the GP's
units go through the warp (incumbent and ``best`` in the user's units), failures never reach
it, multi-output studies are never warped, and it lowers the median regret on Rosenbrock."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gpu_bo as gb
from gpu_bo.surrogate import believe, fit_gp
from gpu_bo.surrogate.output_warp import (
    AUTO_MIN_GAIN,
    MIN_POINTS,
    OUTPUT_WARPS,
    OutputWarp,
    check_output_warp,
    fit_output_warp,
    warp_targets,
)


def _rosenbrock_u(n: int, seed: int) -> np.ndarray:
    """Standardized larger-is-better values of 4-d Rosenbrock at random points (heavy tail)."""
    x = np.random.default_rng(seed).uniform(-5.0, 10.0, (n, 4))
    y = -np.sum(100.0 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1.0 - x[:, :-1]) ** 2, axis=1)
    return (y - y.mean()) / y.std(ddof=1)


def _rosenbrock(p):
    x = np.array([p[f"x{i}"] for i in range(4)])
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


ROSEN_SPACE = {f"x{i}": (-5.0, 10.0) for i in range(4)}


@pytest.mark.parametrize("kind", ["power", "log"])
def test_each_transform_is_strictly_increasing_and_invertible_on_all_reals(kind):
    u = _rosenbrock_u(30, 0)
    warp = fit_output_warp(u, kind)
    assert isinstance(warp, OutputWarp) and warp.kind == kind
    t = np.concatenate([np.linspace(-1e4, 1e4, 2001), np.linspace(u.min() - 1, u.max() + 1, 2001), u])
    t.sort()
    z = warp.forward(t)
    assert np.all(np.isfinite(z)) and np.all(np.diff(z) >= 0)
    assert np.all(np.diff(z)[np.diff(t) > 1e-9] > 0)  # strictly where the inputs differ
    np.testing.assert_allclose(warp.inverse(z), t, rtol=1e-9, atol=1e-9)
    # scalars round-trip too, far outside the data (thresholds, incumbents, fantasies)
    for v in (-1e6, u.min() - 3.0, 0.0, u.max() + 0.5, 1e6):
        assert isinstance(warp.forward(v), float)
        assert warp.inverse(warp.forward(v)) == pytest.approx(v, rel=1e-9, abs=1e-9)
    # the warped data are re-standardized
    zu = warp.forward(u)
    assert np.mean(zu) == pytest.approx(0.0, abs=1e-9) and np.std(zu, ddof=1) == pytest.approx(1.0)


def test_hand_written_yeo_johnson_matches_scipy():
    from scipy import stats

    from gpu_bo.surrogate.output_warp import _fit_power, _yj, _yj_llf

    u = 2.0 * np.random.default_rng(0).standard_normal(60)
    for lam in (-1.5, 0.0, 0.5, 1.0, 2.0, 3.2):
        np.testing.assert_allclose(_yj(u, lam), stats.yeojohnson(u, lmbda=lam), rtol=1e-12, atol=1e-12)
        assert _yj_llf(lam, u) == pytest.approx(float(stats.yeojohnson_llf(lam, u)), rel=1e-10)
    for uu in (u, _rosenbrock_u(40, 2)):
        assert _fit_power(uu)[0] == pytest.approx(float(stats.yeojohnson_normmax(uu)), abs=1e-3)


def test_the_log_warp_compresses_the_bad_tail():
    u = _rosenbrock_u(40, 1)
    z = fit_output_warp(u, "log").forward(u)
    # the gap between the two worst values shrinks relative to the gap between the two best
    us, zs = np.sort(u), np.sort(z)
    assert (zs[1] - zs[0]) / (zs[-1] - zs[-2]) < (us[1] - us[0]) / (us[-1] - us[-2])


def test_auto_leaves_gaussian_values_alone_and_warps_heavy_tails():
    # Gaussian values: the identity for (nearly) every seed, at small and larger n
    for n in (10, 40, 100):
        kept = [fit_output_warp(np.random.default_rng(s).standard_normal(n), "auto") for s in range(50)]
        assert sum(w is not None for w in kept) <= 2
    # heavy-tailed values: a warp with at least the threshold's gain, for every seed
    for s in range(10):
        w = fit_output_warp(_rosenbrock_u(60, s), "auto")
        assert w is not None and w.gain >= AUTO_MIN_GAIN


@pytest.mark.parametrize("name", ["auto", "power", "log"])
def test_constant_near_constant_few_and_non_finite_values_give_no_warp(name):
    assert fit_output_warp(np.zeros(30), name) is None
    assert fit_output_warp(np.r_[np.zeros(29), 1e-300], name) is None  # 2 distinct values
    assert fit_output_warp(np.arange(MIN_POINTS - 1, dtype=float), name) is None
    u = _rosenbrock_u(30, 0)
    u[3] = math.nan
    assert fit_output_warp(u, name) is None
    u[3] = math.inf
    assert fit_output_warp(u, name) is None
    # near-constant but distinct: whatever is chosen stays finite and invertible
    v = 1e-12 * np.random.default_rng(0).standard_normal(30)
    w = fit_output_warp(v, name)
    if w is not None:
        assert np.all(np.isfinite(w.forward(v)))
        np.testing.assert_allclose(w.inverse(w.forward(v)), v, atol=1e-15)


def test_off_gives_no_warp_and_bad_names_are_rejected():
    assert fit_output_warp(_rosenbrock_u(30, 0), "off") is None
    assert set(OUTPUT_WARPS) == {"off", "auto", "power", "log"}
    for bad in ("box-cox", None, 1):
        with pytest.raises(ValueError, match="output_warp: got .* expected one of"):
            check_output_warp(bad)
    with pytest.raises(ValueError, match="output_warp: got 'boxcox'"):
        gb.OptimizerOptions(output_warp="boxcox")
    with pytest.raises(ValueError, match="output_warp"):
        fit_gp(torch.rand(8, 2, dtype=torch.float64), torch.rand(8, dtype=torch.float64), output_warp="x")


def test_warp_targets_keeps_the_tensor_untouched_without_a_warp():
    ys = torch.randn(20, dtype=torch.float64)
    warp, out = warp_targets(ys, "off")
    assert warp is None and out is ys
    warp, out = warp_targets(torch.as_tensor(_rosenbrock_u(20, 0)), "log")
    assert warp is not None and out.dtype == torch.float64 and torch.isfinite(out).all()


def _fit_rosen(output_warp: str, n: int = 25, seed: int = 0):
    X = torch.rand(n, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    y = -torch.tensor([_rosenbrock({f"x{i}": float(-5 + 15 * x[i]) for i in range(4)}) for x in X],
                      dtype=torch.float64)
    return X, y, fit_gp(X, y, output_warp=output_warp, seed=seed)


def test_fitted_gp_units_go_through_the_warp():
    X, y, gp = _fit_rosen("log")
    assert gp.warp is not None and gp.info["output_warp"] == "log"
    for v in (float(y.min()) - 1e5, float(y.min()), float(y.median()), float(y.max()), float(y.max()) + 10.0, 0.0):
        assert gp.from_std(gp.to_std(v)) == pytest.approx(v, rel=1e-9, abs=1e-6)
    # the GP's targets are the warped, re-standardized values; raw ones come back through from_std
    raw = torch.tensor([gp.from_std(float(z)) for z in gp.y], dtype=torch.float64)
    torch.testing.assert_close(raw, y, rtol=1e-9, atol=1e-6)
    assert float(gp.y.mean()) == pytest.approx(0.0, abs=1e-9)
    # order is kept: to_std is increasing in raw units
    vs = sorted(float(v) for v in y)
    zs = [gp.to_std(v) for v in vs]
    assert all(b >= a for a, b in zip(zs, zs[1:]))
    # a margin converts as without a warp: the same fraction of the (warped) spread
    assert gp.scale_to_std(2.0 * gp.y_std) == pytest.approx(2.0)
    # the believer keeps the warp
    assert believe(gp, X[:2] * 0.5 + 0.25).warp is gp.warp


def test_off_is_exactly_the_unwarped_gp():
    X, y, gp_off = _fit_rosen("off")
    assert gp_off.warp is None and gp_off.info["output_warp"] is None
    z = (y - gp_off.y_mean) / gp_off.y_std
    torch.testing.assert_close(gp_off.y, z, rtol=0, atol=0)
    assert gp_off.from_std(1.5) == 1.5 * gp_off.y_std + gp_off.y_mean


def _opt(output_warp: str, seed: int = 0, **kw) -> gb.Optimizer:
    return gb.Optimizer(ROSEN_SPACE, direction="minimize", n_initial=8, seed=seed, device="cpu",
                        options=gb.OptimizerOptions(output_warp=output_warp), **kw)


def test_incumbent_and_best_are_in_user_units_with_a_warp():
    opt = _opt("log")
    for _ in range(14):
        p = opt.ask()
        opt.tell(p, _rosenbrock(p))
    assert opt.last_suggestion_info["gp"]["output_warp"] == "log"
    values = [t.value for t in opt.trials if t.value is not None]
    assert opt.best["value"] == min(values)
    assert opt.best["value"] == pytest.approx(_rosenbrock(opt.best["params"]))
    X, Y, _ = opt._training_data(torch.device("cpu"), torch.float64)
    gp = fit_gp(X, Y[:, 0], output_warp="log")
    inc = opt._incumbent(gp, X)
    # larger-is-better units of the user's values: at least the best one, and not far above it
    assert inc >= -min(values)
    assert inc <= -min(values) + 0.5 * (max(values) - min(values))


def test_failed_trials_never_reach_the_warp():
    opt = _opt("power", seed=1)
    for i in range(14):
        p = opt.ask()
        opt.tell(p, float("nan") if i % 4 == 1 else _rosenbrock(p))
    gp_info = opt.last_suggestion_info["gp"]
    assert gp_info["output_warp"] == "power"
    X, Y, _ = opt._training_data(torch.device("cpu"), torch.float64)
    assert torch.isfinite(Y).all()  # failures are shown as the worst value, never as NaN


def _mo_points(output_warp: str, constrained: bool) -> list[dict]:
    kw = dict(direction="minimize") if constrained else dict(directions=["minimize", "minimize"])
    opt = gb.Optimizer(ROSEN_SPACE, n_initial=6, seed=3, device="cpu",
                       options=gb.OptimizerOptions(output_warp=output_warp), **kw)
    out = []
    for _ in range(8):  # two BO suggestions after the initial design
        p = opt.ask()
        f = _rosenbrock(p)
        if constrained:
            opt.tell(p, f, constraints=[p["x0"] - 2.0])
        else:
            opt.tell(p, [f, (p["x1"] - 1.0) ** 4 * 1e3])
        out.append(p)
    return out


@pytest.mark.parametrize("constrained", [False, True])
def test_multi_objective_and_constrained_studies_are_never_warped(constrained):
    # the reference point and the threshold 0 stay in the user's units: the same suggestions
    assert _mo_points("power", constrained) == _mo_points("off", constrained)


@pytest.mark.slow
def test_output_warp_lowers_the_median_regret_on_rosenbrock_4d():
    """The issue's check: 4-d Rosenbrock, 40 evaluations, 10 seeds, auto against off."""
    def final(output_warp: str, seed: int) -> float:
        opt = _opt(output_warp, seed=seed)
        best = math.inf
        for _ in range(40):
            p = opt.ask()
            v = _rosenbrock(p)
            opt.tell(p, v)
            best = min(best, v)
        return best

    off = [final("off", s) for s in range(10)]
    auto = [final("auto", s) for s in range(10)]
    assert np.median(auto) < np.median(off)
    assert sum(a < o for a, o in zip(auto, off)) >= 7


def test_benchmark_problems_have_their_optimum_and_the_summary_compares_seeds():
    from benchmarks import output_warp_ab as ab

    for name in ab.HEAVY:
        space, fn, optimum = ab.get_problem(name)
        xopt = {"rosenbrock4": np.ones(4), "bent_cigar5": ab._CIGAR_XOPT, "ellipsoid5": ab._ELLI_XOPT}[name]
        assert fn({f"x{i}": float(v) for i, v in enumerate(xopt)}) == pytest.approx(optimum, abs=1e-12)
        assert fn(space.sample_params(1, seed=0)[0]) > optimum
    runs = [{"problem": "p", "variant": v, "seed": s, "budget": 12, "n_initial": 10, "final_regret": r,
             "ask_seconds": [0.1] * 12, "warps": [None] * 10 + ["log", "log"]}
            for v, rs in (("off", [3.0, 1.0]), ("auto", [2.0, 1.0])) for s, r in enumerate(rs)]
    summary = ab.summarize(runs, ["p"], ["off", "auto"])
    assert summary["p/auto"]["wins_vs_off"] == 1 and summary["p/auto"]["ties_vs_off"] == 1
    assert summary["p/auto"]["warped_share"] == 1.0 and summary["p/off"]["regret"][0] == 2.0
