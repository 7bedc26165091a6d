"""Batch selection (gpu_bo/batch.py): distinct points, pending points avoided, the analytic
(believer) and Monte Carlo paths, and the believer extending one factor round by round."""

from __future__ import annotations

import pytest
import torch

import gpu_bo as gb
from gpu_bo import batch
from gpu_bo.acquisition import AcqSpec, AnalyticAcq, BoTorchAcq
from gpu_bo.maximize import MaximizeOptions
from gpu_bo.space import point_key
from gpu_bo.surrogate import fit_gp

from conftest import BRANIN_SPACE, branin

DT = torch.float64
SMALL = MaximizeOptions(raw_samples=256, n_starts=4, steps=5, mc_raw_samples=64, batch_raw_samples=128,
                        batch_steps=3)


@pytest.fixture(scope="module")
def data():
    space = gb.Space(BRANIN_SPACE)
    params = space.sample_params(12, seed=3)
    X = space.encode(params)
    y = -torch.tensor([branin(p) for p in params], dtype=DT, device="cpu")
    return space, X, y, fit_gp(X, y)


def _search(space, X, y, options=SMALL):
    return batch.Search(space, options, torch.device("cpu"), DT, X, y)


def _spy(monkeypatch):
    """Record (acquisition, options, seed, keys excluded) of every maximize call of batch."""
    seen = []
    real = batch.maximize

    def spy(acq, space, *, options, seed, exclude, **kw):
        seen.append((acq, options, seed, set(exclude)))
        return real(acq, space, options=options, seed=seed, exclude=exclude, **kw)

    monkeypatch.setattr(batch, "maximize", spy)
    return seen


def _select_with_pending(data, monkeypatch, name):
    """Three points for ``name`` with two pending ones, every maximize call recorded."""
    space, X, y, gp = data
    seen = _spy(monkeypatch)
    pend = space.sample(2, seed=11)
    out = batch.select(AcqSpec(name, float(y.max())), gp, 3, search=_search(space, X, y), seed=5,
                       exclude=set(), X_pending=pend)
    return X, pend, out, seen


@pytest.mark.parametrize("name", ["ei", "ucb", "qei", "qnei"])
def test_points_are_distinct_and_avoid_the_excluded_and_pending(data, name):
    space, X, y, gp = data
    pend = space.sample(3, seed=11)
    exclude = {point_key(x) for x in torch.cat([X, pend])}
    before = set(exclude)
    out = batch.select(AcqSpec(name, float(y.max()), seed=0), gp, 4, search=_search(space, X, y), seed=5,
                       exclude=exclude, X_pending=pend)
    keys = [point_key(x) for x in out]
    assert out.shape == (4, 2) and len(set(keys)) == 4
    assert not set(keys) & before  # never an observed or pending point
    assert exclude == before | set(keys)  # the chosen ones are excluded from then on


def test_analytic_path_believes_pending_then_each_chosen_point(data, monkeypatch):
    """ei: one closed-form acquisition per round on a believed GP that grows by one point per
    round (the previous round's factor extended), the later rounds on the smaller budget."""
    X, pend, out, seen = _select_with_pending(data, monkeypatch, "ei")
    acqs = [s[0] for s in seen]
    assert all(isinstance(a, AnalyticAcq) for a in acqs)
    n = X.shape[0]
    assert [a.gp.X.shape[0] for a in acqs] == [n + 2, n + 3, n + 4]
    for j in (1, 2):  # round j's GP holds round j-1's points plus the point it chose
        prev, cur = acqs[j - 1].gp, acqs[j].gp
        assert torch.equal(cur.X[:-1], prev.X) and torch.equal(cur.X[-1], out[j - 1])
        assert torch.equal(cur.L[:-1, :-1], prev.L)  # the factor is extended, not recomputed
    assert acqs[0].gp.info["believed"] == 2 and acqs[2].gp.info["believed"] == 4
    assert [s[1] for s in seen] == [SMALL, SMALL.for_batch_round(), SMALL.for_batch_round()]
    assert [s[2] for s in seen] == [5, 36, 67]  # seed + 31 * j


def test_mc_path_passes_pending_and_chosen_points(data, monkeypatch):
    """qei: one Monte Carlo acquisition per point, at the full budget, with the pending points and
    the ones already chosen as X_pending, seeded seed + j."""
    X, pend, out, seen = _select_with_pending(data, monkeypatch, "qei")
    acqs = [s[0] for s in seen]
    assert all(isinstance(a, BoTorchAcq) and a.is_monte_carlo for a in acqs)
    for j, a in enumerate(acqs):
        assert torch.equal(a.botorch.X_pending, torch.cat([pend, out[:j]]))
        assert a.botorch.sampler.seed == 5 + j
    assert [s[1] for s in seen] == [SMALL] * 3


def test_mc_path_without_pending_starts_plain(data, monkeypatch):
    space, X, y, gp = data
    seen = _spy(monkeypatch)
    batch.select(AcqSpec("qucb", float(y.max())), gp, 2, search=_search(space, X, y), seed=0, exclude=set())
    assert seen[0][0].botorch.X_pending is None and seen[1][0].botorch.X_pending.shape == (1, 2)


def test_same_seed_same_batch(data):
    space, X, y, gp = data
    run = [batch.select(AcqSpec("ei", float(y.max())), gp, 3, search=_search(space, X, y), seed=9,
                        exclude=set()) for _ in range(2)]
    assert torch.equal(run[0], run[1])


@pytest.mark.parametrize("q", [0, -1, 1.5, True])
def test_bad_q_is_named(data, q):
    space, X, y, gp = data
    with pytest.raises(ValueError, match="q: got"):
        batch.select(AcqSpec("ei", 0.0), gp, q, search=_search(space, X, y), seed=0, exclude=set())


def test_optimizer_batches_use_the_smaller_round_budget(monkeypatch):
    """Through Optimizer.ask(n=4): the first point at the full budget, the others at the batch one."""
    seen = _spy(monkeypatch)
    opt = gb.Optimizer(BRANIN_SPACE, seed=0, n_initial=4, device="cpu")
    for p in opt.space.sample_params(6, seed=3):
        opt.tell(p, branin(p))
    full = MaximizeOptions()
    out = opt.ask(n=4)
    assert len({opt.space.key(p) for p in out}) == 4
    assert [(s[1].raw_samples, s[1].steps) for s in seen] == (
        [(full.raw_samples, full.steps)] + [(full.batch_raw_samples, full.batch_steps)] * 3)
    assert full.batch_raw_samples < full.raw_samples and full.batch_steps < full.steps
