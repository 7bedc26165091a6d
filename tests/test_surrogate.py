from __future__ import annotations

import math
import warnings

import pytest
import torch

import gpu_bo as gb
from gpu_bo.surrogate import FitOptions, FittedGP, GPModel, believe, fit_gp

DT = torch.float64


def _data(n, d, seed=0, device="cpu", noise=0.0):
    g = torch.Generator(device=torch.get_default_device()).manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=DT)
    y = torch.sin(5 * X).sum(-1) + noise * torch.randn(n, generator=g, dtype=DT)
    return X.to(device), y.to(device)


def test_fit_predicts_held_out_points(device):
    X, y = _data(80, 3, device=device)
    gp = fit_gp(X, y)
    Xt, yt = _data(200, 3, seed=1, device=device)
    m, v = gp.mean_var(Xt)
    pred = m * gp.y_std + gp.y_mean
    rmse = ((pred - yt) ** 2).mean().sqrt()
    assert rmse < 0.2 * yt.std(), float(rmse)
    assert (v > 0).all()
    assert gp.X.device.type == torch.device(device).type


def test_noise_prior_interpolates_smooth_data_and_keeps_real_noise():
    """Gamma(1.1, 30) noise prior (Optuna GPSampler's): a smooth deterministic objective gets a
    near-interpolating GP; a noisy one keeps its noise. Under the former LogNormal(-4, 1) prior
    the smooth case fitted noise 1.9e-4 and missed training points by 4e-3."""
    X, y = _data(40, 2)
    gp = fit_gp(X, y)
    assert float(gp.params.noise) < 1e-5
    m, _ = gp.mean_var(X)
    assert float((m * gp.y_std + gp.y_mean - y).abs().max()) < 1e-3
    Xn, yn = _data(40, 2, noise=0.3)
    noisy = fit_gp(Xn, yn)
    # the true noise variance in standardized units is 0.3^2 / std(y)^2 ~ 0.1
    assert float(noisy.params.noise) > 0.01


def test_restarts_are_one_batch_and_best_is_kept():
    X, y = _data(40, 2)
    one = fit_gp(X, y, options=FitOptions(restarts=1))
    many = fit_gp(X, y, options=FitOptions(restarts=6))
    assert many.info["restarts"] == 6
    # batched L-BFGS on the summed losses converges each restart slightly less tightly
    assert many.info["loss"] <= one.info["loss"] + 1e-4


def test_posterior_matches_botorch_single_task_gp():
    """Our hand-written posterior equals BoTorch's SingleTaskGP with the same hyperparameters."""
    from botorch.models import SingleTaskGP
    from gpytorch.kernels import MaternKernel, ScaleKernel

    X, y = _data(30, 3)
    gp = fit_gp(X, y)
    p = gp.params
    ref = SingleTaskGP(X, gp.y.unsqueeze(-1), covar_module=ScaleKernel(MaternKernel(nu=2.5, ard_num_dims=3)),
                       outcome_transform=None)
    ref.covar_module.base_kernel.lengthscale = p.lengthscale
    ref.covar_module.outputscale = p.outputscale
    ref.likelihood.noise = p.noise + gp.jitter
    ref.mean_module.constant = p.mean_const
    ref.eval()
    Xt = torch.rand(7, 4, 3, dtype=DT)
    ours = GPModel(gp).posterior(Xt)
    theirs = ref.posterior(Xt)
    assert torch.allclose(ours.mean, theirs.mean, atol=1e-6)
    assert torch.allclose(ours.variance, theirs.variance, atol=1e-6)
    m, v = gp.mean_var(Xt[:, 0])
    assert torch.allclose(m, theirs.mean[:, 0, 0], atol=1e-6)
    assert torch.allclose(v, theirs.variance[:, 0, 0], atol=1e-6)


def test_categorical_columns_use_equality():
    g = torch.Generator(device=torch.get_default_device()).manual_seed(0)
    k = 4
    cat_vals = ((torch.randint(k, (60,), generator=g) + 0.5) / k).to(DT)
    X = torch.stack([torch.rand(60, generator=g, dtype=DT), cat_vals], -1)
    y = X[:, 0] + 3.0 * (cat_vals == 2.5 / k).to(DT)
    gp = fit_gp(X, y, cat=(1,))
    Xt = torch.tensor([[0.5, 2.5 / k], [0.5, 0.5 / k]], dtype=DT)
    m, _ = gp.mean_var(Xt)
    pred = m * gp.y_std + gp.y_mean
    assert pred[0] - pred[1] > 2.0


@pytest.mark.parametrize("case", ["duplicates", "constant", "two", "noisy", "huge", "tiny", "integer"])
def test_robust_fits_never_raise(case):
    g = torch.Generator(device=torch.get_default_device()).manual_seed(0)
    X = torch.rand(30, 2, generator=g, dtype=DT)
    y = torch.sin(6 * X[:, 0]) + X[:, 1]
    if case == "duplicates":
        X = torch.cat([X, X, X]); y = torch.cat([y, y, y + 1e-9])
    elif case == "constant":
        y = torch.full_like(y, 3.0)
    elif case == "two":
        X, y = X[:2], y[:2]
    elif case == "noisy":
        y = y + 2.0 * torch.randn(30, generator=g, dtype=DT)
    elif case == "huge":
        y = y * 1e12
    elif case == "tiny":
        y = y * 1e-12
    elif case == "integer":
        X = ((torch.floor(X * 3) + 0.5) / 3)
    gp = fit_gp(X, y)
    m, v = gp.mean_var(torch.rand(10, 2, dtype=DT))
    assert torch.isfinite(m).all() and torch.isfinite(v).all() and (v > 0).all()
    if case in ("huge", "tiny"):
        # the scale is carried by the standardization, so predictions are on the right scale
        pred = gp.mean_var(X)[0] * gp.y_std + gp.y_mean
        assert ((pred - y).abs().max() / y.abs().max()) < 0.5


def test_failed_factorization_falls_back_with_a_warning(monkeypatch):
    import gpu_bo.surrogate.fit as S

    X, y = _data(20, 2)

    def broken(*a, **k):
        raise RuntimeError("simulated numerical failure")

    monkeypatch.setattr(S, "_run_lbfgs", broken)
    with pytest.warns(gb.FitWarning):
        gp = fit_gp(X, y)
    assert gp.info.get("fallback") == "default"
    assert torch.isfinite(gp.mean_var(X)[0]).all()


def test_warm_start_is_used_and_subset_bounds_fit_size():
    X, y = _data(300, 2)
    cold = fit_gp(X, y, options=FitOptions(max_fit_points=100))
    warm = fit_gp(X, y, options=FitOptions(max_fit_points=100), warm=cold.params)
    assert warm.info["restarts"] == 2
    # conditioned on all 300 points even though fitted on 100
    assert warm.X.shape[0] == 300 and warm.alpha.shape[0] == 300
    rel = (warm.params.lengthscale / cold.params.lengthscale).log().abs().max()
    assert rel < 1.0


def test_believer_keeps_the_mean_and_collapses_variance_at_pending_points():
    from gpu_bo.surrogate import believe

    X, y = _data(30, 2)
    gp = fit_gp(X, y)
    Xp = torch.tensor([[0.31, 0.77], [0.9, 0.1]], dtype=DT)
    m0, v0 = gp.mean_var(Xp)
    b = believe(gp, Xp)
    m1, v1 = b.mean_var(Xp)
    assert torch.allclose(m0, m1, atol=1e-6)
    assert (v1 < 0.2 * v0).all() or (v1 <= gp.params.noise * 2).all()
    far = torch.tensor([[0.05, 0.95]], dtype=DT)
    assert torch.allclose(b.mean_var(far)[1], gp.mean_var(far)[1], rtol=0.5)
    assert b.X.shape[0] == 32 and gp.X.shape[0] == 30


def test_believer_block_update_equals_a_full_refactor(device):
    from gpu_bo.surrogate import _condition

    X, y = _data(120, 4, device=device)
    gp = fit_gp(X, y)
    X_new = _data(3, 4, seed=9, device=device)[0]
    b = believe(believe(gp, X_new[:1]), X_new[1:])  # one point, then two more
    m, _ = gp.mean_var(X_new)
    L, alpha, Kinv, _ = _condition(torch.cat([gp.X, X_new]), torch.cat([gp.y, m]), gp.params, gp.cat, gp.jitter)
    torch.testing.assert_close(b.L, L, rtol=1e-8, atol=1e-9)
    torch.testing.assert_close(b.Kinv, Kinv, rtol=1e-5, atol=1e-5 * float(Kinv.abs().max()))
    Xt = _data(40, 4, seed=11, device=device)[0]
    for got, want in zip(b.mean_var(Xt), FittedGP(**{**b.__dict__, "L": L, "alpha": alpha, "Kinv": Kinv}).mean_var(Xt)):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-8)
    # a pending point exactly on a training point (no noise to separate them) still conditions
    dup = believe(gp, gp.X[:1])
    assert torch.isfinite(dup.Kinv).all() and dup.X.shape[0] == gp.X.shape[0] + 1


@pytest.mark.parametrize("n, d, cat", [(40, 6, ()), (30, 5, (1, 3))])
def test_closed_form_loss_gradient_equals_autograd(n, d, cat):
    """The fit's hand-written value + gradient (surrogate._neg_log_post_grad) against autograd
    through the reference graph, including a restart whose factorization fails."""
    import gpu_bo.surrogate.fit as S

    g = torch.Generator().manual_seed(1)
    X = torch.rand(n, d, generator=g, dtype=DT)
    for c in cat:
        X[:, c] = (torch.randint(4, (n,), generator=g) + 0.5) / 4
    X[1] = X[0]  # a duplicate point: r = 0 off the diagonal
    y = torch.sin(4 * X).sum(-1) + 0.1 * torch.randn(n, generator=g, dtype=DT)
    y = (y - y.mean()) / y.std()
    D = S.pairwise_sq_diffs(X, cat)
    raw = S._initial_raw(d, 4, None, g, "cpu", DT)
    raw[2, :d], raw[2, d] = 5.0, 80.0  # outputscale e^80 on a noise floor of 1e-6: Cholesky fails
    weights = torch.tensor([1.0, 2.0, 3.0, 0.5], dtype=DT)

    def value_grad(closed_form):
        r = raw.clone().requires_grad_(True)
        losses = S._neg_log_post(r, X, y, cat, 1e-6, D, closed_form=closed_form)
        (torch.where(torch.isfinite(losses), losses, torch.zeros_like(losses)) * weights).sum().backward()
        return losses.detach(), r.grad

    ref_val, ref_grad = value_grad(False)
    val, grad = value_grad(True)
    assert torch.isinf(ref_val[2]) and torch.isinf(val[2])
    assert torch.allclose(val[[0, 1, 3]], ref_val[[0, 1, 3]], rtol=1e-10, atol=1e-10)
    assert grad[2].abs().max() == 0 and ref_grad[2].abs().max() == 0
    assert ref_grad.abs().max() > 1.0  # away from an optimum: a real comparison
    assert torch.allclose(grad, ref_grad, rtol=1e-8, atol=1e-8)


def test_fit_uses_the_closed_form_gradient_and_reaches_the_autograd_optimum(monkeypatch):
    import gpu_bo.surrogate.fit as S

    X, y = _data(40, 4, noise=0.05)
    calls = []
    real = S._neg_log_post_grad
    monkeypatch.setattr(S, "_neg_log_post_grad", lambda *a, **k: calls.append(1) or real(*a, **k))
    fast = fit_gp(X, y, seed=3)
    assert len(calls) > 5
    monkeypatch.setattr(S, "pairwise_sq_diffs", lambda X, cat: None)  # no D: the autograd path
    calls.clear()
    slow = fit_gp(X, y, seed=3)
    assert not calls
    assert abs(fast.info["loss"] - slow.info["loss"]) < 1e-6


def _recording_fit(monkeypatch):
    """Replace fit_gp inside the schedule by a recorder that returns a GP-like object."""
    import types

    import gpu_bo.surrogate.fit as S
    import gpu_bo.surrogate.refit as R

    calls = []

    def fake(X, y, cat, *, options, warm, seed, optimize, output_warp="off"):
        calls.append({"warm": warm, "optimize": optimize, "n": int(X.shape[0]), "seed": seed})
        k = len(calls)  # hyperparameters that differ per call, to see which ones are recorded
        params = S.GPParams(torch.full((X.shape[1],), 0.1 * k, dtype=torch.float32),
                            torch.tensor(float(k), dtype=torch.float32), torch.tensor(1e-3, dtype=torch.float32),
                            torch.tensor(0.0, dtype=torch.float32))
        return types.SimpleNamespace(params=params)

    monkeypatch.setattr(R, "fit_gp", fake)
    return calls


def test_refit_schedule_is_cold_every_full_refit_every_th_optimization_and_warm_between(monkeypatch):
    from gpu_bo.surrogate import RefitSchedule

    calls = _recording_fit(monkeypatch)
    sched = RefitSchedule(full_refit_every=3, refit_min_n=1000)
    X, y = _data(10, 2)
    colds = []
    for i in range(7):
        gp, info = sched.fit(X, y, (), options=FitOptions(), seed=i)
        colds.append(info["cold_fit"])
        assert info["hyperparameters_fitted"] and info["fit_seconds"] >= 0.0
        # warm fits start from the previous call's optimum, recorded on CPU float64
        if not colds[-1]:
            assert float(calls[-1]["warm"].outputscale) == float(i)
    assert colds == [True, False, False, True, False, False, True]
    assert [c["warm"] is None for c in calls] == colds
    assert sched.n_fits == 7 and sched.last_fit_n == 10 and [c["seed"] for c in calls] == list(range(7))
    assert sched.params.outputscale.dtype == torch.float64 and float(sched.params.outputscale) == 7.0


def test_refit_schedule_keeps_hyperparameters_until_the_data_grow_past_refit_min_n(monkeypatch):
    from gpu_bo.surrogate import RefitSchedule

    calls = _recording_fit(monkeypatch)
    sched = RefitSchedule(full_refit_every=100, refit_min_n=50, refit_growth=0.1)
    X, y = _data(130, 2)
    fitted = []
    for n in (40, 49, 60, 61, 65, 66, 72, 73, 73):
        fitted.append(sched.fit(X[:n], y[:n], (), options=FitOptions(), seed=0)[1]["hyperparameters_fitted"])
    # below 50 always; 60 >= 49 * 1.1; 61, 65 < 66 = 60 * 1.1; 66 refits; 72 < 72.6; 73 refits, then 73 < 80.3
    assert fitted == [True, True, True, False, False, True, False, True, False]
    assert sched.n_fits == 5 and sched.last_fit_n == 73
    kept = [c for c in calls if not c["optimize"]]
    assert all(c["warm"] is not None for c in kept)  # kept hyperparameters are the last optimum
    # a trust region's local data refit every time, whatever their size
    assert sched.fit(X[:74], y[:74], (), options=FitOptions(), seed=0, local=True)[1]["hyperparameters_fitted"]


def test_refit_schedule_state_round_trip_and_old_state_files(monkeypatch):
    from gpu_bo.surrogate import RefitSchedule

    X, y = _data(30, 2)
    a = RefitSchedule(full_refit_every=2)
    a.fit(X, y, (), options=FitOptions(restarts=2, max_iter=5), seed=0)
    a.fit(X, y, (), options=FitOptions(restarts=2, max_iter=5), seed=1)
    state = a.state_dict()
    assert state["n_fits"] == 2 and state["last_fit_n"] == 30 and len(state["gp_params"]["lengthscale"]) == 2
    import json

    b = RefitSchedule(full_refit_every=2)
    b.load_state_dict(json.loads(json.dumps(state)))
    assert b.state_dict() == state
    # the restored schedule decides as the original would: the third optimization is cold
    calls = _recording_fit(monkeypatch)
    assert b.fit(X, y, (), options=FitOptions(), seed=2)[1]["cold_fit"] and calls[-1]["warm"] is None
    # an Optimizer's whole (older) state dict: the same keys at the top level, others ignored
    c = RefitSchedule()
    c.load_state_dict({"version": 1, "trials": [], **state})
    assert c.state_dict() == state
    c.load_state_dict({})
    assert c.state_dict() == {"n_fits": 0, "last_fit_n": 0, "gp_params": None}
    with pytest.raises(TypeError, match="state"):
        c.load_state_dict([1, 2])


def test_priors_are_the_documented_densities_and_their_gradient_matches_autograd():
    """prior.log_prior: LogNormal over the lengthscale, N(0, 1) on log outputscale, Gamma(1.1, 30)
    over the noise above the floor, N(0, 2^2) on the mean, up to one constant; its gradient
    (add_neg_log_prior_grad on a zero likelihood gradient) against autograd."""
    from torch.distributions import Gamma, LogNormal, Normal

    from gpu_bo.surrogate.prior import LS_PRIOR_SCALE, RawBlocks, add_neg_log_prior_grad, lengthscale_loc, log_prior

    d = 3
    g = torch.Generator().manual_seed(4)
    raw = torch.randn(5, d + 3, generator=g, dtype=DT)
    p = RawBlocks.split(raw)

    def reference(p):
        ls, os_, noise = p.log_ls.exp(), p.log_os.exp(), p.log_noise.exp()
        t = lambda v: torch.tensor(v, dtype=DT)  # noqa: E731 - float64 parameters, not the default dtype
        return (LogNormal(t(lengthscale_loc(d)), t(LS_PRIOR_SCALE)).log_prob(ls).sum(-1)
                + Normal(t(0.0), t(1.0)).log_prob(os_.log()) + Gamma(t(1.1), t(30.0)).log_prob(noise)
                + Normal(t(0.0), t(2.0)).log_prob(p.c))

    diff = log_prior(p) - reference(p)
    torch.testing.assert_close(diff, diff[:1].expand(5), rtol=0, atol=1e-10)  # the same constant for all
    assert lengthscale_loc(1) == math.sqrt(2.0) and lengthscale_loc(0) == lengthscale_loc(1)

    r = raw.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(-log_prior(RawBlocks.split(r)).sum(), r)
    zero = RawBlocks.split(torch.zeros_like(raw))
    torch.testing.assert_close(add_neg_log_prior_grad(zero, p).cat(), auto, rtol=1e-12, atol=1e-12)
    assert torch.equal(RawBlocks.split(raw).cat(), raw)


def test_gp_params_round_trip_through_a_dict_and_a_clear_error():
    from gpu_bo.surrogate import GPParams

    p = GPParams(torch.tensor([0.3, 2.0]), torch.tensor(1.5), torch.tensor(1e-3), torch.tensor(-0.25))
    q = GPParams.from_list(p.to_list())
    assert q.lengthscale.dtype == torch.float64 and q.to_list() == p.to_list()
    with pytest.raises(ValueError, match="noise"):
        GPParams.from_list({"lengthscale": [1.0], "outputscale": 1.0, "mean_const": 0.0})


@pytest.mark.parametrize("scale, shift", [(1e300, 0.0), (1e307, 0.0), (1e300, 1.7e308)])
def test_standardization_of_values_near_the_float_limit_does_not_overflow(scale, shift):
    """Issue 15: ``y.std()`` of 1e300-sized values squares them past the float64 range."""
    X, y0 = _data(20, 2)
    y = y0 * scale + shift
    if shift:
        y = y.clamp(max=1.79e308)
    assert torch.isfinite(y).all()
    gp = fit_gp(X, y)
    assert math.isfinite(gp.y_mean) and math.isfinite(gp.y_std) and gp.y_std > 0
    assert torch.isfinite(gp.y).all() and gp.y.abs().max() < 10
    ref = fit_gp(X, y0)
    if not shift:  # the same standardized targets as the unscaled data
        assert torch.allclose(gp.y, ref.y, atol=1e-9)
    z = float(gp.y.max())
    assert math.isfinite(gp.from_std(z)) and math.isfinite(gp.to_std(float(y.max())))
    # (shifted: the spread is 1e-8 of the values, so only about 8 digits of it exist in float64)
    assert math.isclose(gp.to_std(float(y.max())), z, rel_tol=1e-6 if shift else 1e-9)


def test_optimizer_suggests_with_the_gp_on_1e300_sized_objectives():
    opt = gb.Optimizer({"x": (-2.0, 2.0), "y": (-2.0, 2.0)}, seed=0, n_initial=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gb.GpuBoWarning)  # no "the BO step failed" fallback
        for _ in range(8):
            p = opt.ask()
            opt.tell(p, 1e300 * ((p["x"] - 0.5) ** 2 + p["y"] ** 2))
    assert opt.last_suggestion_info.get("gp") is not None


def test_to_std_of_a_value_far_from_the_mean_does_not_overflow():
    X, y0 = _data(20, 2)
    gp = fit_gp(X, y0 * 1e306 + 1.5e308)  # a mean near the float limit: v - y_mean overflows
    assert math.isfinite(gp.to_std(-1.7e308)) and gp.to_std(-1.7e308) < gp.to_std(1.7e308)
