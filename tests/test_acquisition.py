from __future__ import annotations

import pytest
import torch
from botorch.acquisition import LogExpectedImprovement, UpperConfidenceBound, qLogExpectedImprovement
from botorch.acquisition.analytic import LogProbabilityOfImprovement

from gpu_bo import acquisition as A
from gpu_bo.surrogate import GPModel, fit_gp

DT = torch.float64


@pytest.fixture(scope="module")
def gp():
    g = torch.Generator(device=torch.get_default_device()).manual_seed(0)
    X = torch.rand(25, 2, generator=g, dtype=DT)
    y = torch.sin(6 * X[:, 0]) * X[:, 1] * 10 + 3
    return fit_gp(X, y)


@pytest.mark.parametrize("name, ref", [("ei", "logei"), ("pi", "logpi"), ("ucb", "ucb")])
def test_analytic_values_equal_botorch(gp, name, ref):
    xi, kappa = 0.5, 1.7
    best = float(gp.y.max() * gp.y_std + gp.y_mean)
    acq = A.build(A.AcqSpec(name, best, xi=xi, kappa=kappa), gp)
    assert isinstance(acq, A.AnalyticAcq)
    model = GPModel(gp)
    b = (best - gp.y_mean) / gp.y_std + xi / gp.y_std
    theirs = {"logei": lambda: LogExpectedImprovement(model, best_f=b),
              "logpi": lambda: LogProbabilityOfImprovement(model, best_f=b),
              "ucb": lambda: UpperConfidenceBound(model, beta=kappa ** 2)}[ref]()
    X = torch.rand(50, 1, 2, dtype=DT)
    ours, ref_vals = acq(X), theirs(X)
    # equal up to the 1e-9 jitter BoTorch's path adds to the posterior variance, which shows
    # only deep in the log tail: with a near-interpolating GP (noise ~1e-5) points whose variance
    # is ~1e-5 have log EI ~ -8e5 and differ there by up to 5e-4 relative
    body = ref_vals > -1e3
    assert body.any()
    assert torch.allclose(ours[body], ref_vals[body], atol=1e-6, rtol=1e-4)
    assert torch.allclose(ours, ref_vals, atol=1e-6, rtol=1e-3)
    # the chunked screen gives the same values
    assert torch.allclose(acq.screen(X.squeeze(1)), acq(X), atol=1e-8)


def test_xi_makes_ei_more_exploratory(gp):
    best = float(gp.y.max() * gp.y_std + gp.y_mean)
    X = torch.rand(400, 1, 2, dtype=DT)
    m, v = gp.mean_var(X.squeeze(1))
    lo = A.build(A.AcqSpec("ei", best, xi=0.0), gp)(X)
    hi = A.build(A.AcqSpec("ei", best, xi=5.0), gp)(X)
    # with a large margin, EI favours uncertain points more than with xi = 0
    assert v[hi.argmax()] >= v[lo.argmax()]


@pytest.mark.parametrize("name", ["qei", "qpi", "qucb", "qnei", "ei", "ucb"])
def test_mc_variants_take_pending_points(gp, name):
    best = float(gp.y.max() * gp.y_std + gp.y_mean)
    pend = torch.rand(3, 2, dtype=DT)
    acq = A.build(A.AcqSpec(name, best, seed=0), gp, X_pending=pend)
    assert not isinstance(acq, A.AnalyticAcq)
    X = torch.rand(6, 1, 2, dtype=DT)
    v = acq(X)
    assert v.shape == (6,) and torch.isfinite(v).all()
    # deterministic for a fixed seed
    assert torch.allclose(v, A.build(A.AcqSpec(name, best, seed=0), gp, X_pending=pend)(X))


def test_pending_point_removes_the_gain_of_itself(gp):
    """qEI with pending p scores the union {x, p}: x = p adds nothing, a far x adds something."""
    best = float(gp.y.max() * gp.y_std + gp.y_mean)
    plain = A.build(A.AcqSpec("qei", best, seed=0), gp, q=2)
    assert isinstance(plain, A.BoTorchAcq) and isinstance(plain.botorch, qLogExpectedImprovement)
    p = torch.tensor([[0.5, 0.5]], dtype=DT)
    pend = A.build(A.AcqSpec("qei", best, seed=0), gp, X_pending=p)
    base = plain(p.unsqueeze(0))
    assert torch.allclose(pend(p.unsqueeze(0)), base, rtol=1e-3)  # MC noise only
    others = torch.rand(64, 1, 2, dtype=DT, generator=torch.Generator(device=torch.get_default_device()).manual_seed(1))
    assert pend(others).max() > base + 1e-3


def test_unknown_acquisition_is_named():
    with pytest.raises(ValueError, match="'foo'"):
        A.check_name("foo")


def test_log_ei_matches_botorch_helper_everywhere():
    from botorch.acquisition.analytic import _log_ei_helper

    from gpu_bo.kernels.reference import log_ei

    u = torch.cat([torch.linspace(-1e3, -20, 50), torch.linspace(-20, 20, 401), torch.tensor([-1.0, 30.0])]).to(DT)
    u.requires_grad_(True)
    ours, theirs = log_ei(u), _log_ei_helper(u)
    assert torch.allclose(ours, theirs, rtol=1e-9, atol=1e-9)
    g1, = torch.autograd.grad(ours.sum(), u)
    g2, = torch.autograd.grad(theirs.sum(), u)
    assert torch.isfinite(g1).all() and torch.allclose(g1, g2, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["ei", "pi", "ucb"])
@pytest.mark.parametrize("far", [False, True])
def test_closed_form_gradient_equals_autograd(name, far):
    """AnalyticAcq.value_and_grad (used by the refinement) against autograd through the reference
    posterior and log EI, with a categorical column (no gradient there) and, with ``far``, an
    incumbent 30 standard deviations above the data (log EI deep in its tail)."""
    from gpu_bo.kernels.reference import analytic_acq

    g = torch.Generator().manual_seed(2)
    X = torch.rand(30, 4, generator=g, dtype=DT)
    X[:, 2] = (torch.randint(3, (30,), generator=g) + 0.5) / 3
    y = torch.sin(5 * X[:, 0]) + X[:, 1] + (X[:, 2] > 0.5).to(DT)
    gp = fit_gp(X, y, (2,))
    best = float(gp.y.max()) + (30.0 if far else 0.0)
    acq = A.AnalyticAcq(gp, name, best, 0.1, 1.7)
    Xc = torch.rand(40, 4, generator=g, dtype=DT)
    Xc[:3] = X[:3]  # at observed points: variance at its floor
    Xr = Xc.clone().requires_grad_(True)
    m, v = gp.mean_var(Xr)
    ref = analytic_acq(m, v, name, best, 0.1, 1.7)
    ref.sum().backward()
    val, grad = acq.value_and_grad(Xc)
    assert torch.isfinite(val).all() and torch.isfinite(grad).all()
    assert torch.allclose(val, ref.detach(), rtol=1e-10, atol=1e-10)
    assert (grad[:, 2] == 0).all()
    assert Xr.grad[3:].abs().max() > 1e-3
    # deep in the tail (u ~ -80) the two forms of d log EI / du agree to ~1e-5 relative
    rtol = 1e-4 if far and name != "ucb" else 1e-6
    assert torch.allclose(grad[3:], Xr.grad[3:], rtol=rtol, atol=1e-9 * float(Xr.grad[3:].abs().max()))
    # at observed points sigma is ~1e-3 of the prior's and the gradient ~1e8: both paths lose
    # digits to cancellation in os - k K^-1 k there, in different orders
    assert torch.allclose(grad[:3], Xr.grad[:3], rtol=1e-3, atol=1e-6 * float(Xr.grad[:3].abs().max()))
    # the same gradient through autograd (acq(X) with requires_grad goes through the closed form)
    Xa = Xc.clone().unsqueeze(-2).requires_grad_(True)
    (acq(Xa) * 2.0).sum().backward()
    assert torch.allclose(Xa.grad.squeeze(-2), 2.0 * grad)


@pytest.mark.parametrize("name, mc, closed_form", [("ei", False, True), ("pi", False, True), ("ucb", False, True),
                                                   ("qei", True, False), ("qnei", True, False)])
def test_every_acquisition_follows_the_protocol(gp, name, mc, closed_form):
    """What maximize and batch ask (value, value_and_grad flag, screen, is_monte_carlo) is declared."""
    best = float(gp.y.max() * gp.y_std + gp.y_mean)
    acq = A.build(A.AcqSpec(name, best, seed=0), gp)
    assert isinstance(acq, A.Acquisition)
    assert acq.is_monte_carlo is mc and acq.has_value_and_grad is closed_form
    X = torch.rand(7, 2, dtype=DT)
    v = acq(X.unsqueeze(-2))
    assert v.shape == (7,)
    assert torch.allclose(acq.screen(X), v, atol=1e-8)
    if closed_form:
        val, grad = acq.value_and_grad(X)
        assert torch.allclose(val, v) and grad.shape == (7, 2)
    else:
        with pytest.raises(NotImplementedError, match="has_value_and_grad"):
            acq.value_and_grad(X)


def test_default_screen_is_the_chunked_value():
    calls = []

    class Counting(A.Acquisition):
        def __call__(self, X):
            calls.append(X.shape[0])
            return -(X.squeeze(-2) ** 2).sum(-1)

    X = torch.rand(5000, 3, dtype=DT)
    vals = Counting().screen(X)
    assert torch.equal(vals, -(X ** 2).sum(-1)) and calls == [4096, 904]


def test_as_acquisition_wraps_callables_and_names_bad_input():
    acq = A.as_acquisition(lambda X: X.sum((-1, -2)))
    assert isinstance(acq, A.FunctionAcq) and not acq.is_monte_carlo and not acq.has_value_and_grad
    assert A.as_acquisition(acq) is acq
    with pytest.raises(TypeError, match="acq: got int"):
        A.as_acquisition(3)


def test_one_default_kappa():
    import inspect

    from gpu_bo.optimizer import Optimizer

    assert A.AcqSpec("ucb", 0.0).kappa == A.DEFAULT_KAPPA == 2.576
    assert inspect.signature(Optimizer).parameters["kappa"].default == A.DEFAULT_KAPPA
