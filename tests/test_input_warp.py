"""Input warping (gpu_bo/surrogate/input_warp.py, gpu_bo/acquisition/warped.py): the Kumaraswamy
warp against torch's, the closed-form gradients against autograd, the joint fit, the hooks in
the Optimizer and batch selection, and the "off" path left alone."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Kumaraswamy

import gpu_bo as gb
from gpu_bo.acquisition import AcqSpec, build
from gpu_bo.acquisition.warped import WarpedAcq
from gpu_bo.surrogate import fit_gp
from gpu_bo.surrogate.input_warp import (
    EPS, InputWarp, WarpedRefit, fit_warped_gp, kumaraswamy, warp_columns, warped_neg_log_post,
)

DT = torch.float64


def _warp(la, lb, cols=(0, 1)):
    return InputWarp(tuple(cols), torch.tensor(la, dtype=DT), torch.tensor(lb, dtype=DT))


def test_kumaraswamy_is_torch_cdf_monotone_and_near_identity_at_zero():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(50, 3, generator=g, dtype=DT)
    la, lb = torch.randn(3, generator=g, dtype=DT), torch.randn(3, generator=g, dtype=DT)
    u = kumaraswamy(x, la, lb)[0]
    ref = Kumaraswamy(la.exp(), lb.exp()).cdf(EPS + (1 - 2 * EPS) * x)
    assert torch.allclose(u, ref, atol=1e-12)
    grid = torch.linspace(0, 1, 101, dtype=DT).unsqueeze(-1).expand(-1, 3)
    ug = kumaraswamy(grid, la, lb)[0]
    assert (ug.diff(dim=0) > 0).all() and ug.min() >= 0 and ug.max() <= 1
    ident = kumaraswamy(grid, torch.zeros(3, dtype=DT), torch.zeros(3, dtype=DT))[0]
    assert torch.allclose(ident, grid, atol=1e-6)


def test_kumaraswamy_derivatives_match_autograd():
    g = torch.Generator().manual_seed(1)
    x = (0.02 + 0.96 * torch.rand(7, 2, generator=g, dtype=DT)).requires_grad_(True)
    la = (0.7 * torch.randn(2, generator=g, dtype=DT)).requires_grad_(True)
    lb = (0.7 * torch.randn(2, generator=g, dtype=DT)).requires_grad_(True)
    u, d_la, d_lb, d_x = kumaraswamy(x, la, lb, need_grad=True)
    for k in range(2):
        ga, gb_, gx = torch.autograd.grad(u[:, k].sum(), (la, lb, x), retain_graph=True)
        assert torch.allclose(d_la[:, k].sum(), ga[k], rtol=1e-9)
        assert torch.allclose(d_lb[:, k].sum(), gb_[k], rtol=1e-9)
        assert torch.allclose(d_x[:, k], gx[:, k], rtol=1e-9)
    w = _warp(la.detach().tolist(), lb.detach().tolist())
    X3 = torch.cat([x.detach(), torch.rand(7, 1, generator=g, dtype=DT)], -1)
    s = w.slope(X3)
    assert torch.allclose(s[:, :2], d_x.detach()) and (s[:, 2] == 1).all()


@pytest.mark.parametrize("cat", [(), (3,)])
def test_warped_loss_gradient_matches_autograd(cat):
    g = torch.Generator().manual_seed(2)
    n, d, cols = 18, 4, (0, 2)
    X = torch.rand(n, d, generator=g, dtype=DT)
    if cat:
        X[:, 3] = (X[:, 3] > 0.5).to(DT)
    y = torch.randn(n, generator=g, dtype=DT)
    raw = 0.5 * torch.randn(3, d + 3 + 2 * len(cols), generator=g, dtype=DT)
    raw[:, d + 1] = -3.0
    val, grad = warped_neg_log_post(raw, X, y, cat, cols, 0.0)
    r = raw.clone().requires_grad_(True)
    val2, _ = warped_neg_log_post(r, X, y, cat, cols, 0.0, need_grad=False)
    (ga,) = torch.autograd.grad(val2.sum(), r)
    assert torch.allclose(val, val2)
    assert torch.allclose(grad, ga, rtol=1e-7, atol=1e-9), (grad - ga).abs().max()


def test_identity_warp_loss_equals_the_plain_fit_loss_plus_nothing():
    """At log a = log b = 0 the warp is the identity (up to EPS) and its prior is at its mode:
    the warped loss of the plain fit's hyperparameters is the plain fit's loss."""
    g = torch.Generator().manual_seed(3)
    X = torch.rand(25, 2, generator=g, dtype=DT)
    y = torch.sin(4 * X).sum(-1)
    gp = fit_gp(X, y)
    p = gp.params
    raw = torch.cat([p.lengthscale.log(), p.outputscale.log().view(1),
                     (p.noise - gb.surrogate.NOISE_FLOOR).log().view(1), p.mean_const.view(1),
                     torch.zeros(4, dtype=DT)]).unsqueeze(0)
    val, _ = warped_neg_log_post(raw, X, gp.y, (), (0, 1), gp.jitter, need_grad=False)
    assert abs(float(val[0]) - gp.info["loss"]) < 1e-4


def test_fit_learns_a_strong_warp_and_beats_the_plain_fit():
    """Data that are smooth in log x: the joint fit finds a concave warp (a < 1) and a higher
    posterior than the unwarped GP."""
    g = torch.Generator().manual_seed(4)
    X = torch.rand(40, 2, generator=g, dtype=DT)
    y = -torch.sin(3 * torch.log10(X[:, 0] + 1e-3)) + 0.1 * X[:, 1]
    plain = fit_gp(X, y)
    gp, w = fit_warped_gp(X, y, (), (0, 1))
    assert gp.info["loss"] < plain.info["loss"] - 0.1, (gp.info["loss"], plain.info["loss"])
    assert float(w.log_a[0]) < -0.3
    assert torch.allclose(gp.X, w(X))
    kept, w2 = fit_warped_gp(X, y, (), (0, 1), warm=gp.params, warm_warp=w, optimize=False)
    assert w2 is w and torch.equal(kept.params.lengthscale, gp.params.lengthscale)


def test_warped_acquisition_gradient_matches_autograd():
    g = torch.Generator().manual_seed(5)
    X = torch.rand(20, 3, generator=g, dtype=DT)
    y = torch.cos(3 * X).sum(-1)
    w = _warp([-0.8, 0.5], [0.3, -0.4], cols=(0, 2))
    gp = fit_gp(w(X), y)
    acq = WarpedAcq(build(AcqSpec("ei", float(y.max())), gp), w)
    assert acq.has_value_and_grad and not acq.is_monte_carlo
    Xc = torch.rand(6, 3, generator=g, dtype=DT)
    val, grad = acq.value_and_grad(Xc)
    xr = Xc.clone().requires_grad_(True)
    v2 = acq(xr.unsqueeze(-2))
    (ga,) = torch.autograd.grad(v2.sum(), xr)
    assert torch.allclose(val, v2.detach(), atol=1e-10)
    assert torch.allclose(grad, ga, rtol=1e-6, atol=1e-9)
    assert torch.allclose(acq.screen(Xc), val, atol=1e-8)


def test_warp_columns_are_the_real_ones_of_a_flat_space():
    sp = gb.Space({"a": (0.0, 1.0), "k": (1, 5), "c": ["x", "y"], "b": gb.Real(1e-3, 1.0, log=True)})
    assert warp_columns(sp) == (0, 3)
    cond = gb.Space({"m": ["p", "q"], "x": gb.Real(0.0, 1.0, when={"m": "p"})})
    assert warp_columns(cond) == ()


def test_mode_is_checked_and_named():
    with pytest.raises(ValueError, match="input_warp"):
        gb.OptimizerOptions(input_warp="yes")
    with pytest.raises(ValueError, match="input_warp"):
        WarpedRefit("maybe")


def _f(p):
    return (math.log10(p["x"] + 1e-3) + 2.0) ** 2 + (p["y"] - 0.3) ** 2 + (0.0 if p["c"] == "a" else 0.5)


SPACE = {"x": (0.0, 1.0), "y": (0.0, 1.0), "c": ["a", "b"]}


@pytest.mark.parametrize("mode", ["on", "auto"])
def test_optimizer_with_warp_suggests_valid_distinct_points(mode):
    opt = gb.Optimizer(SPACE, seed=0, n_initial=6, options=gb.OptimizerOptions(input_warp=mode))
    seen = set()
    for _ in range(14):
        p = opt.ask()
        key = (p["x"], p["y"], p["c"])
        assert key not in seen and 0 <= p["x"] <= 1 and 0 <= p["y"] <= 1 and p["c"] in ("a", "b")
        seen.add(key)
        opt.tell(p, _f(p))
    info = opt.last_suggestion_info["gp"]
    if mode == "on":
        assert info["input_warp"]["cols"] == [0, 1]
    else:
        assert "input_warp_gain" in info
    batch = opt.ask(n=3)  # greedy batch: pending and chosen points believed in warped units
    assert len({(b["x"], b["y"], b["c"]) for b in batch}) == 3


def test_warp_with_monte_carlo_acquisition_and_pending_points():
    opt = gb.Optimizer(SPACE, seed=1, n_initial=6, acquisition="qei", options=gb.OptimizerOptions(input_warp="on"))
    for _ in range(8):
        p = opt.ask()
        opt.tell(p, _f(p))
    opt.add_pending({"x": 0.5, "y": 0.5, "c": "a"})
    pts = opt.ask(n=2)
    assert len(pts) == 2 and all(0 <= q["x"] <= 1 for q in pts)


def test_auto_keeps_the_warp_on_strongly_warped_data():
    """A function of log10 x declared on a linear scale: the warp pays for its parameters."""
    r = WarpedRefit("auto")
    fit = r.fit_fn((0, 1), "global")
    g = torch.Generator().manual_seed(6)
    X = torch.rand(40, 2, generator=g, dtype=DT)
    y = -torch.sin(3 * torch.log10(X[:, 0] + 1e-3)) + 0.1 * X[:, 1]
    gp = fit(X, y, (), options=gb.surrogate.FitOptions(), warm=None, seed=0, optimize=True)
    assert r.used and r.current is not None and gp.info["input_warp_gain"] > 4
    assert r.fit_fn((0, 1), "trust_region") is None and WarpedRefit("off").fit_fn((0,), "global") is None


def test_off_is_the_default_and_leaves_the_gp_unwarped():
    assert gb.OptimizerOptions().input_warp == "off"
    opt = gb.Optimizer(SPACE, seed=0, n_initial=5)
    for _ in range(7):
        p = opt.ask()
        opt.tell(p, _f(p))
    assert "input_warp" not in opt.last_suggestion_info["gp"]


def test_state_dict_resumes_the_same_suggestions():
    """The warp is part of the optimizer's state: a resumed study warm-starts from it."""
    import json

    o = gb.OptimizerOptions(input_warp="on")
    a = gb.Optimizer(SPACE, seed=3, n_initial=5, options=o)
    for _ in range(9):
        p = a.ask()
        a.tell(p, _f(p))
    state = json.loads(json.dumps(a.state_dict()))
    assert state["input_warp"]["warp"]["cols"] == [0, 1]
    b = gb.Optimizer(SPACE, seed=3, n_initial=5, options=o)
    b.load_state_dict(state)
    assert a.ask() == b.ask()


def test_benchmark_problems_have_their_documented_optimum():
    """benchmarks/input_warp_ab.py's problems: zero at the stated optimum, positive elsewhere."""
    import numpy as np

    from benchmarks import input_warp_ab as ab

    e, b, c = ab.ellipsoid5(), ab.boundary4(), ab.bentcigar5()
    x_e = np.random.default_rng(2).uniform(-4, 4, 5)
    x_c = np.random.default_rng(3).uniform(-4, 4, 5)
    assert e({f"x{i}": x_e[i] for i in range(5)}) == 0.0
    assert c({f"x{i}": x_c[i] for i in range(5)}) < 1e-18
    assert b({"x0": 0.002, "x1": 0.005, "x2": 0.01, "x3": 0.02}) == 0.0
    assert min(p({f"x{i}": 0.5 for i in range(5)}) for p in (e, b, c)) > 0.1


def test_adam_path_and_float32_study():
    """The CUDA default (fixed-step Adam) on the warped loss, and a float32 study with the warp."""
    g = torch.Generator().manual_seed(7)
    X = torch.rand(30, 2, generator=g, dtype=DT)
    y = -torch.sin(3 * torch.log10(X[:, 0] + 1e-3)) + 0.1 * X[:, 1]
    opts = gb.surrogate.FitOptions(method="adam", adam_steps=120)
    gp, w = fit_warped_gp(X, y, (), (0, 1), options=opts)
    assert gp.info["method"] == "adam" and math.isfinite(gp.info["loss"])
    assert gp.info["loss"] < fit_gp(X, y, options=opts).info["loss"]
    opt = gb.Optimizer(SPACE, seed=2, n_initial=5, options=gb.OptimizerOptions(input_warp="on", dtype="float32"))
    for _ in range(8):
        p = opt.ask()
        opt.tell(p, _f(p))
    assert opt.last_suggestion_info["gp"]["input_warp"]["cols"] == [0, 1]


def test_a_fit_that_fails_everywhere_warns_and_keeps_the_identity(monkeypatch):
    import gpu_bo.surrogate.input_warp as iw

    def boom(*args, **kwargs):
        raise RuntimeError("cholesky")

    monkeypatch.setattr(iw, "_run_lbfgs", boom)
    X = torch.rand(12, 2, generator=torch.Generator().manual_seed(8), dtype=DT)
    with pytest.warns(gb.exceptions.FitWarning, match="warped GP fit failed"):
        gp, w = fit_warped_gp(X, X.sum(-1), (), (0, 1))
    assert torch.equal(w.log_a, torch.zeros(2, dtype=DT)) and gp.info["loss"] == math.inf
    r = WarpedRefit("auto")  # the plain fit (fit.py's optimizer, not patched) still works: auto drops the warp
    with pytest.warns(gb.exceptions.FitWarning):
        plain = r.fit_fn((0, 1), "global")(X, X.sum(-1), (), options=gb.surrogate.FitOptions(), warm=None,
                                               seed=0, optimize=True)
    assert not r.used and r.current is None and math.isfinite(plain.info["loss"])
