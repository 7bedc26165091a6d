"""Several objectives: the batched multi-output GP, the qLogNEHVI / qLogNParEGO rule, the
reference point, batches and pending points, and studies through gpu_bo.Optimizer."""

from __future__ import annotations

import json
import statistics

import pytest
import torch

import gpu_bo as gb
from gpu_bo.acquisition.multi_objective import NEHVI, PAREGO, choose, reference_point
from gpu_bo.batch import Search
from gpu_bo.maximize import MaximizeOptions
from gpu_bo.multi_output import MultiOutputData, MultiOutputSuggester, SuggestContext, local_scores
from gpu_bo.optimizer_options import OptimizerOptions
from gpu_bo.pareto import hypervolume, infer_reference_point
from gpu_bo.space import point_key
from gpu_bo.surrogate import FitOptions, GPModel
from gpu_bo.surrogate.multi import MultiFit, MultiGPModel

DT = torch.float64
CPU = torch.device("cpu")
FAST_FIT = FitOptions(restarts=2, max_iter=15)
FAST_MAX = MaximizeOptions(raw_samples=256, mc_raw_samples=128, n_starts=4, steps=10)


def _data(n: int = 24, d: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=DT)
    Y = torch.stack([-(X - 0.2).pow(2).sum(-1), -(X - 0.8).pow(2).sum(-1)], -1)  # larger is better
    return X, Y


def _ctx(space: gb.Space, X: torch.Tensor, seed: int = 0, acquisition: str = "ei",
         pending: torch.Tensor | None = None, exclude: set | None = None) -> SuggestContext:
    opts = OptimizerOptions(fit=FAST_FIT, maximize=FAST_MAX, mc_samples=32)
    return SuggestContext(acquisition, None, 2.0, opts, Search(space, FAST_MAX, CPU, DT, X, None, None), seed,
                          set() if exclude is None else exclude, pending, CPU, DT)


def _space(d: int = 3) -> gb.Space:
    return gb.Space({f"x{i}": gb.Real(0.0, 1.0) for i in range(d)})


def test_choice_rule_nehvi_up_to_three_objectives_parego_beyond():
    assert [choose(m) for m in (2, 3, 4)] == [NEHVI, NEHVI, PAREGO]
    with pytest.raises(ValueError, match="n_objectives: got 1"):
        choose(1)


def test_batched_posterior_matches_each_single_gp_and_the_prefix_cache():
    X, Y = _data()
    mgp, _ = MultiFit().fit(X, Y, (), options=FAST_FIT, seed=0)
    model = MultiGPModel(mgp)
    Xt = torch.rand(5, 3, 3, dtype=DT, generator=torch.Generator().manual_seed(1))
    post = model.posterior(Xt)
    assert post.mean.shape == (5, 3, 2)
    cov = post.distribution.lazy_covariance_matrix.to_dense()
    for j in range(2):
        single = GPModel(mgp.gps[j]).posterior(Xt)
        torch.testing.assert_close(post.mean[..., j], single.mean.squeeze(-1), atol=1e-8, rtol=0)
        torch.testing.assert_close(cov[..., 3 * j:3 * j + 3, 3 * j:3 * j + 3],
                                   single.distribution.covariance_matrix, atol=1e-6, rtol=0)
    P = X[:6]
    Xf = torch.cat([P.expand(5, 6, 3), Xt], -2)
    plain = model.posterior(Xf)
    model.cache_prefix(P)
    cached = model.posterior(Xf)
    torch.testing.assert_close(cached.mean, plain.mean, atol=1e-8, rtol=0)
    torch.testing.assert_close(cached.variance, plain.variance, atol=1e-6, rtol=0)


def test_inferred_reference_point_is_the_pareto_module_rule():
    X, Y = _data()
    values = (-Y).tolist()  # user units, both minimized
    ref_user = infer_reference_point(values, ["minimize", "minimize"])
    ref = reference_point(Y)
    torch.testing.assert_close(ref, -torch.tensor(ref_user, dtype=DT))
    given = torch.tensor([-1.0, -2.0], dtype=DT)
    assert torch.equal(reference_point(Y, given=given), given)


def test_a_constrained_reference_point_is_the_feasible_nadir():
    Y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.6], [0.2, 0.1], [-5.0, -5.0]], dtype=DT)
    feasible = torch.tensor([True, True, True, True, False])
    ref = reference_point(Y, feasible, constrained=True)
    # the worst feasible value per objective (0.0 and 0.0, the dominated [0.2, 0.1] included),
    # 10% of the feasible range (1.0) beyond it; the infeasible row plays no part
    torch.testing.assert_close(ref, torch.tensor([-0.1, -0.1], dtype=DT))
    front_rule = reference_point(Y, feasible)
    torch.testing.assert_close(front_rule, torch.tensor([-0.1, -0.1], dtype=DT))
    Y2 = torch.tensor([[1.0, 0.5], [0.5, 1.0], [0.0, 0.0]], dtype=DT)  # a dominated feasible row sets the nadir
    torch.testing.assert_close(reference_point(Y2, torch.ones(3, dtype=torch.bool), constrained=True),
                               torch.tensor([-0.1, -0.1], dtype=DT))
    torch.testing.assert_close(reference_point(Y2, torch.ones(3, dtype=torch.bool)),
                               torch.tensor([0.45, 0.45], dtype=DT))  # the front's worst minus 10% of its range


def test_local_scores_put_the_feasible_front_first():
    Y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.2, 0.2], [2.0, 2.0]], dtype=DT)
    C = torch.tensor([[-1.0], [-1.0], [-1.0], [3.0]], dtype=DT)  # the dominating row is infeasible
    s = local_scores(Y, C)
    assert s[3] < s[2] < min(s[0], s[1])


def test_batch_and_pending_points_are_distinct_and_new():
    X, Y = _data()
    space = _space()
    pending = torch.tensor([[0.5, 0.5, 0.5]], dtype=DT)
    exclude = {point_key(x) for x in X} | {point_key(pending[0])}
    sugg = MultiOutputSuggester(_ctx(space, X).options)
    chosen, info = sugg.select(MultiOutputData(X, Y, None, X.shape[0], None, ()), 3,
                               _ctx(space, X, pending=pending, exclude=exclude))
    assert chosen.shape == (3, 3) and info["acquisition"] == NEHVI
    keys = [point_key(x) for x in chosen]
    assert len(set(keys)) == 3
    assert not set(keys) & ({point_key(x) for x in X} | {point_key(pending[0])})
    assert {"seconds_fit", "n", "device", "gp", "acquisition"} <= set(info)


def test_four_objectives_use_parego_and_state_round_trips_through_json():
    X, Y = _data()
    Y4 = torch.cat([Y, -Y.flip(-1) * 0.5], -1)
    space = _space()
    sugg = MultiOutputSuggester(_ctx(space, X).options)
    chosen, info = sugg.select(MultiOutputData(X, Y4, None, X.shape[0], None, ()), 2, _ctx(space, X))
    assert info["acquisition"] == PAREGO and chosen.shape == (2, 3)
    assert len({point_key(x) for x in chosen}) == 2
    state = json.loads(json.dumps(sugg.state_dict()))
    other = MultiOutputSuggester(_ctx(space, X).options)
    other.load_state_dict(state)
    assert other.state_dict() == sugg.state_dict() and len(state["outputs"]) == 4
    other.load_state_dict({})
    assert other.state_dict() == {"outputs": []}


def _branin_currin(x0: float, x1: float) -> list[float]:
    from botorch.test_functions.multi_objective import BraninCurrin

    return BraninCurrin()(torch.tensor([[x0, x1]], dtype=DT))[0].tolist()


def test_two_objective_study_through_the_optimizer_with_a_categorical():
    space = gb.Space({"x0": gb.Real(0.0, 1.0), "x1": gb.Real(0.0, 1.0), "k": gb.Categorical(["a", "b"])})
    opts = OptimizerOptions(fit=FAST_FIT, maximize=FAST_MAX, mc_samples=32)
    opt = gb.Optimizer(space, directions=["minimize", "minimize"], seed=0, n_initial=6, options=opts)
    for _ in range(10):
        p = opt.ask()
        v = _branin_currin(p["x0"], p["x1"])
        opt.tell(p, [v[0] + (5.0 if p["k"] == "b" else 0.0), v[1]])
    info = opt.last_suggestion_info
    assert info["acquisition"] == NEHVI and info["n_objectives"] == 2
    assert opt.pareto and all(r["params"]["k"] in ("a", "b") for r in opt.pareto)
    batch = opt.ask(n=3)
    assert len({(b["x0"], b["x1"], b["k"]) for b in batch}) == 3


def _bc_run(seed: int, bo: bool, n: int = 30) -> float:
    space = gb.Space({"x0": gb.Real(0.0, 1.0), "x1": gb.Real(0.0, 1.0)})
    if bo:  # small budgets keep 5 x 24 suggestions to seconds on 2 cores
        cheap = MaximizeOptions(raw_samples=128, mc_raw_samples=64, n_starts=2, steps=5)
        opts = OptimizerOptions(fit=FitOptions(restarts=2, warm_restarts=1, max_iter=10, warm_max_iter=8),
                                maximize=cheap, mc_samples=16)
        opt = gb.Optimizer(space, directions=["minimize", "minimize"], seed=seed, n_initial=6, options=opts)
        for _ in range(n):
            p = opt.ask()
            opt.tell(p, _branin_currin(p["x0"], p["x1"]))
        values = [r["values"] for r in opt.pareto]
    else:
        X = torch.rand(n, 2, dtype=DT, generator=torch.Generator().manual_seed(1000 + seed))
        values = [_branin_currin(float(a), float(b)) for a, b in X]
    return hypervolume(values, ["minimize", "minimize"], [18.0, 6.0])


def test_hypervolume_beats_random_search_on_branin_currin():
    # statistical: medians over 5 seeds at 30 evaluations (reference point (18, 6)); when this
    # was written every BO seed (44.8 to 56.8) beat every random seed (0.1 to 31.9)
    bo = [_bc_run(s, True) for s in range(5)]
    rnd = [_bc_run(s, False) for s in range(5)]
    assert statistics.median(bo) > statistics.median(rnd), (bo, rnd)
