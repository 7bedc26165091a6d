from __future__ import annotations

import pytest
import torch

import gpu_bo as gb
from gpu_bo.maximize import MaximizeOptions, maximize, point_key

DT = torch.float64


class Quadratic:
    """A known acquisition: peak at ``centre`` (b x 1 x d -> b)."""

    def __init__(self, centre):
        self.c = torch.tensor(centre, dtype=DT, device="cpu")  # the tests maximize on the CPU

    def __call__(self, X):
        return -((X.squeeze(-2) - self.c) ** 2).sum(-1)


def test_continuous_peak_is_found():
    space = gb.Space({"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)})
    x, v = maximize(Quadratic([0.31, 0.72, 0.05]), space, options=MaximizeOptions(raw_samples=256),
                    seed=0, exclude=set(), device=torch.device("cpu"))
    assert torch.allclose(x, torch.tensor([0.31, 0.72, 0.05], dtype=DT), atol=0.02)


def test_refinement_converges_on_the_peak(monkeypatch):
    # starts 0.1 away from a quadratic's peak: torch's default Adam (fixed lr 0.03, betas
    # (0.9, 0.999)) stops about 0.01 short in 30 steps; the library's schedule must not
    space = gb.Space({"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)})
    centre = torch.tensor([0.3137, 0.7071, 0.5772], dtype=DT)
    gen = torch.Generator().manual_seed(0)
    starts = centre + 0.1 * torch.randn(8, 3, generator=gen, dtype=DT)
    # the screen sees only the perturbed starts, so the refinement must do the rest
    monkeypatch.setattr("gpu_bo.maximize._candidates", lambda *a, **k: starts.clone())

    def error(opts):
        x, _ = maximize(Quadratic(centre.tolist()), space, options=opts, seed=0, exclude=set(),
                        device=torch.device("cpu"))
        return float((x - centre).abs().max())

    default = error(MaximizeOptions(n_starts=8, steps=30))
    plain_adam = error(MaximizeOptions(n_starts=8, steps=30, lr=0.03, lr_end=0.03, betas=(0.9, 0.999)))
    assert default < 1e-3 < plain_adam


def test_maximize_options_name_bad_step_sizes():
    for kw, name in (({"lr": 0.0}, "lr"), ({"lr_end": -1e-3}, "lr_end"), ({"lr": 0.01, "lr_end": 0.02}, "lr_end"),
                     ({"lr_end": float("nan")}, "lr_end"), ({"betas": (0.9, 1.0)}, "betas")):
        with pytest.raises(ValueError, match=name):
            MaximizeOptions(**kw)


def test_mixed_peak_is_found_without_enumeration():
    space = gb.Space({"x": (0.0, 1.0), "n": (0, 99), "c": [f"v{i}" for i in range(20)],
                      "d": [f"w{i}" for i in range(20)]})
    target = space.encode({"x": 0.4, "n": 63, "c": "v13", "d": "w2"})
    x, _ = maximize(Quadratic(target.tolist()), space, options=MaximizeOptions(raw_samples=256, steps=40),
                    seed=1, exclude=set(), device=torch.device("cpu"))
    p = space.decode(x)[0]
    assert p["c"] == "v13" and p["d"] == "w2" and abs(p["n"] - 63) <= 1 and abs(p["x"] - 0.4) < 0.05


def test_excluded_points_are_never_returned():
    space = gb.Space({"c": ["a", "b", "c"]})
    acq = Quadratic(space.encode({"c": "b"}).tolist())
    excl = {point_key(space.encode({"c": "b"}))}
    x, _ = maximize(acq, space, options=MaximizeOptions(raw_samples=64), seed=0, exclude=excl,
                    device=torch.device("cpu"))
    assert space.decode(x)[0]["c"] != "b"


def test_refinement_equals_torch_adam_with_exponential_decay():
    """maximize._adam_ascent writes out torch.optim.Adam + ExponentialLR (for speed): the same
    trajectory, on a callable without a closed-form gradient (autograd path)."""
    from gpu_bo.acquisition import as_acquisition
    from gpu_bo.maximize import _adam_ascent

    opts = MaximizeOptions(steps=25)
    acq = as_acquisition(Quadratic([0.3, 0.6, 0.9]))
    gen = torch.Generator().manual_seed(0)
    starts = torch.rand(6, 3, generator=gen, dtype=DT)
    free = torch.tensor([1.0, 1.0, 0.0], dtype=DT)
    ours = _adam_ascent(acq, starts, free, 0.0, 1.0, opts)

    Xs = starts.clone().unsqueeze(-2).requires_grad_(True)
    opt = torch.optim.Adam([Xs], lr=opts.lr, betas=opts.betas)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=(opts.lr_end / opts.lr) ** (1.0 / (opts.steps - 1)))
    for _ in range(opts.steps):
        opt.zero_grad()
        (-acq(Xs).sum()).backward()
        Xs.grad.mul_(free)
        opt.step()
        sched.step()
        with torch.no_grad():
            Xs.clamp_(0.0, 1.0)
    assert torch.allclose(ours, Xs.detach().squeeze(-2), atol=1e-12)
    assert torch.equal(ours[:, 2], starts[:, 2])  # frozen column untouched
    assert (ours - starts).abs().max() > 0.05


def test_the_screening_budget_follows_the_protocol(monkeypatch):
    """A Monte Carlo acquisition (is_monte_carlo) is screened on mc_raw_samples candidates."""
    from gpu_bo.acquisition import FunctionAcq

    space = gb.Space({"a": (0.0, 1.0), "b": (0.0, 1.0)})
    seen = []
    real = __import__("gpu_bo.maximize", fromlist=["_candidates"])._candidates

    def spy(space_, n, *a, **k):
        seen.append(n)
        return real(space_, n, *a, **k)

    monkeypatch.setattr("gpu_bo.maximize._candidates", spy)
    opts = MaximizeOptions(raw_samples=256, mc_raw_samples=64, steps=2)
    quad = Quadratic([0.2, 0.8])
    for acq in (quad, FunctionAcq(quad, monte_carlo=True)):
        maximize(acq, space, options=opts, seed=0, exclude=set(), device=torch.device("cpu"))
    assert seen == [256, 64]
