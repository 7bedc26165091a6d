from __future__ import annotations

import logging

import pytest
import torch

import gpu_bo as gb
from gpu_bo.optimizer import OptimizerOptions
from gpu_bo.trust_region import TrustRegionOptions, box, region_state, select_local

DT = torch.float64


def test_region_grows_after_successes_and_shrinks_after_failures():
    o = TrustRegionOptions(success_tol=3, failure_tol=2, length_init=0.8)
    up = region_state([0.0, 1.0, 2.0, 3.0], n_initial=1, d=5, opts=o)
    assert up.length == pytest.approx(1.6)
    down = region_state([5.0, 1.0, 1.0, 1.0, 1.0], n_initial=1, d=5, opts=o)
    assert down.length == pytest.approx(0.2)
    many = region_state([5.0] + [0.0] * 40, n_initial=1, d=5, opts=o)
    assert many.restarts >= 1 and o.length_min <= many.length <= o.length_init


def test_box_scales_with_lengthscales_and_stays_in_the_cube():
    c = torch.tensor([0.5, 0.95], dtype=DT)
    lb, ub = box(c, 0.4, torch.tensor([1.0, 4.0], dtype=DT))
    assert (lb >= 0).all() and (ub <= 1).all()
    assert (ub - lb)[0] < (ub - lb)[1] or ub[1] == 1.0
    assert ub[1] == 1.0  # clipped at the cube's face


def test_local_selection_prefers_the_box_and_caps_the_count():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(500, 3, generator=g, dtype=DT)
    c = torch.full((3,), 0.5, dtype=DT)
    lb, ub = c - 0.1, c + 0.1
    idx = select_local(X, c, lb, ub, TrustRegionOptions(max_points=1000, min_points=5))
    inside = ((X >= lb) & (X <= ub)).all(-1)
    assert set(idx.tolist()) == set(torch.nonzero(inside).flatten().tolist()) or idx.numel() == 5
    few = select_local(X, c, lb, ub, TrustRegionOptions(max_points=3, min_points=3))
    assert few.numel() == 3
    dist = ((X - c) ** 2).sum(-1)
    rest = torch.ones(500, dtype=torch.bool)
    rest[few] = False
    if int(inside.sum()) >= 3:  # all three inside the box, and nearer than the other inside ones
        assert inside[few].all() and dist[few].max() <= dist[inside & rest].min()
    else:  # every inside point, topped up by the nearest outside ones
        assert inside[few].sum() == inside.sum() and dist[few].max() <= dist[rest].min()


def test_auto_switches_by_dimension_when_asked_and_logs_it(caplog):
    with caplog.at_level(logging.INFO, logger="gpu_bo"):
        opt = gb.Optimizer({f"x{i}": (0.0, 1.0) for i in range(25)}, seed=0, n_initial=5,
                           options=OptimizerOptions(auto_tr_min_dim=20))
        for _ in range(7):
            p = opt.ask()
            opt.tell(p, sum((v - 0.3) ** 2 for v in p.values()))
    assert opt.last_suggestion_info["strategy"] == "trust_region"
    assert any("trust_region" in r.getMessage() for r in caplog.records)
    low = gb.Optimizer({"x": (0.0, 1.0)}, seed=0, n_initial=3)
    for _ in range(4):
        p = low.ask()
        low.tell(p, p["x"])
    assert low.last_suggestion_info["strategy"] == "global"


def test_auto_switches_by_study_size():
    opt = gb.Optimizer({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=0, n_initial=3, device="cpu",
                       options=OptimizerOptions(auto_tr_min_n_cpu=12))
    for i in range(14):
        p = opt.ask()
        opt.tell(p, (p["x"] - 0.2) ** 2 + p["y"])
        if i == 5:
            assert opt.last_suggestion_info["strategy"] == "global"
    assert opt.last_suggestion_info["strategy"] == "trust_region"


def test_bad_strategy_is_named():
    with pytest.raises(ValueError, match="strategy"):
        gb.Optimizer({"x": (0.0, 1.0)}, strategy="local")


@pytest.mark.slow
def test_trust_region_beats_random_in_30_dimensions():
    d = 30
    space = {f"x{i}": (0.0, 1.0) for i in range(d)}

    def f(p):  # a shifted sphere: easy for local search, hard for random sampling in 30-D
        return sum((p[f"x{i}"] - 0.2 - 0.02 * i) ** 2 for i in range(d))

    wins = 0
    for seed in range(5):
        opt = gb.Optimizer(space, seed=seed, n_initial=10, strategy="trust_region")
        for _ in range(40):
            p = opt.ask()
            opt.tell(p, f(p))
        rnd = gb.Space(space).decode(torch.rand(40, d, generator=torch.Generator().manual_seed(seed), dtype=DT))
        wins += opt.best["value"] < min(f(p) for p in rnd)
    assert wins >= 4


def test_local_data_centres_on_the_best_completed_point():
    """local_data: the centre is the best of the completed rows (not a failed row shown after
    them), the box is replayed from the values, and the local points include the centre."""
    from gpu_bo.trust_region import local_data

    g = torch.Generator().manual_seed(1)
    X = torch.rand(40, 3, generator=g, dtype=DT)
    y = -((X - 0.6) ** 2).sum(-1)
    y[35:] = y.max() + 1.0  # rows past the completed ones (failed points) never become the centre
    values = y[:35].tolist()
    o = TrustRegionOptions(min_points=5, max_points=20)
    Xl, yl, region, length = local_data(X, y, values, n_initial=5, lengthscale=None, opts=o)
    best = int(torch.argmax(y[:35]))
    assert torch.equal(region.center, X[best])
    assert length == region_state(values, 5, 3, o).length
    idx = select_local(X, X[best], region.lb, region.ub, o)
    assert torch.equal(Xl, X[idx]) and torch.equal(yl, y[idx]) and 5 <= idx.numel() <= 20
    # lengthscales of another width (a GP of another space) are ignored, not broadcast
    _, _, r2, _ = local_data(X, y, values, n_initial=5, lengthscale=torch.ones(7, dtype=DT), opts=o)
    assert torch.equal(r2.lb, region.lb)


def test_trust_region_maximizes_when_asked():
    """The trust region follows the direction: maximizing -f finds the same basin as minimizing f."""
    f = lambda p: sum((v - 0.3) ** 2 for v in p.values())  # noqa: E731
    best = {}
    for direction, sign in (("minimize", 1.0), ("maximize", -1.0)):
        opt = gb.Optimizer({f"x{i}": (0.0, 1.0) for i in range(4)}, direction=direction, seed=0,
                           n_initial=5, strategy="trust_region", device="cpu")
        for _ in range(12):
            p = opt.ask()
            opt.tell(p, sign * f(p))
        best[direction] = sign * opt.best["value"]
    assert best["minimize"] == best["maximize"] < 0.2
