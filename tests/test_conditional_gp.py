"""The GP on conditional spaces (issue 17, item 2): the kernels' rule for inactive columns
(kernels/conditional.py, gpu_bo/surrogate/conditional.py) and the acquisition maximization's
valid, branch-switching suggestions (gpu_bo/maximize.py)."""

from __future__ import annotations

import math
import statistics

import pytest
import torch

import gpu_bo as gb
from gpu_bo.acquisition.analytic import AnalyticAcq
from gpu_bo.conditions import INACTIVE
from gpu_bo.kernels.conditional import ARC_ANGLE, Columns
from gpu_bo.kernels.reference import analytic_acq, kernel_matrix, matern52, sq_dist
from gpu_bo.maximize import MaximizeOptions, _neighbours, maximize
from gpu_bo.surrogate import FitOptions, fit_gp, pairwise_sq_diffs
from gpu_bo.surrogate.conditional import DEFAULT, VARIANTS, column_spec, parent_columns
from gpu_bo.surrogate.fit import _neg_log_post, _neg_log_post_grad

FAST = gb.OptimizerOptions(fit=FitOptions(restarts=2, max_iter=15),
                           maximize=MaximizeOptions(raw_samples=256, n_starts=4, steps=10, batch_raw_samples=128,
                                                    batch_steps=5, mc_raw_samples=64))


def nested_space() -> gb.Space:
    """branch -> (a: x, y; b: kind -> (lin: k; quad: v, w); c: n), a shared s."""
    return gb.Space({
        "branch": gb.Categorical(["a", "b", "c"]), "s": gb.Real(0.0, 1.0),
        "x": gb.Real(-5.0, 5.0, when={"branch": "a"}), "y": gb.Real(1e-3, 1.0, log=True, when={"branch": "a"}),
        "kind": gb.Categorical(["lin", "quad"], when={"branch": "b"}),
        "k": gb.Integer(0, 20, when={"kind": "lin"}),
        "v": gb.Real(0.0, 1.0, when={"kind": "quad"}), "w": gb.Integer(1, 9, step=2, when={"kind": "quad"}),
        "n": gb.Integer(1, 10, when={"branch": "c"}), "opt": gb.Categorical(["adam", "sgd"], when={"branch": "c"}),
    })


def nested_value(p: dict) -> float:
    """Minimum 0 in branch b / quad (v = 0.3, w = 5, s = 0.5); the other branches stay >= 0.3."""
    s = (p["s"] - 0.5) ** 2
    if p["branch"] == "a":
        return 0.5 + 0.02 * (p["x"] - 1.0) ** 2 + 0.1 * (math.log10(p["y"]) + 1.0) ** 2 + s
    if p["branch"] == "c":
        return 0.3 + 0.01 * (p["n"] - 4) ** 2 + (0.0 if p["opt"] == "adam" else 0.2) + s
    if p["kind"] == "lin":
        return 0.4 + 0.002 * (p["k"] - 15) ** 2 + s
    return 2.0 * (p["v"] - 0.3) ** 2 + 0.02 * (p["w"] - 5) ** 2 + s


def _assert_exact(space: gb.Space, params: dict) -> None:
    space.validate(params)  # missing active / inactive given / out of range -> SpaceError
    assert list(params) == space.active_names(params)


# -- the kernels' rule ---------------------------------------------------------------------------

def _brute_force(space: gb.Space, cols: Columns, X1: torch.Tensor, X2: torch.Tensor, inv_ls: torch.Tensor):
    """r^2 of the kernels/conditional.py docstring, written out column by column."""
    A1, A2 = space.active_mask(X1).double(), space.active_mask(X2).double()
    both = A1.unsqueeze(1) * A2.unsqueeze(0)
    xor = (A1.unsqueeze(1) != A2.unsqueeze(0)).double()
    diff = X1.unsqueeze(1) - X2.unsqueeze(0)
    t = diff ** 2
    for c in cols:
        t[..., c] = (diff[..., c].abs() > 1e-9).double()
    if cols.mode == "flag":
        t = t + xor
    if cols.mode == "arc":
        th = ARC_ANGLE
        for c in cols.cond:
            if c in cols:
                t[..., c] = both[..., c] * t[..., c] + 0.5 * xor[..., c]
            else:
                t[..., c] = (both[..., c] * 2 * (1 - torch.cos(th * diff[..., c])) + xor[..., c]) / th ** 2
    return (t * inv_ls ** 2).sum(-1)


@pytest.mark.parametrize("mode", VARIANTS)
def test_every_rule_matches_its_formula_in_the_distance_and_the_fit(mode):
    space = nested_space()
    cols = column_spec(space, mode)
    X1, X2 = space.sample(40, seed=1), space.sample(9, seed=2)
    inv_ls = torch.linspace(0.5, 2.0, space.d, dtype=torch.float64)
    torch.testing.assert_close(sq_dist(X1, X2, inv_ls, cols), _brute_force(space, cols, X1, X2, inv_ls))
    D = pairwise_sq_diffs(X1, cols)  # the fit's precomputed terms: the same rule
    torch.testing.assert_close((D * inv_ls ** 2).sum(-1), sq_dist(X1, X1, inv_ls, cols))
    y = torch.linspace(-1.0, 1.0, 40, dtype=torch.float64)
    raw = torch.linspace(-0.5, 0.5, 2 * (space.d + 3), dtype=torch.float64).reshape(2, -1)
    torch.testing.assert_close(_neg_log_post_grad(raw, D, y, 1e-6)[0], _neg_log_post(raw, X1, y, cols, 1e-6, None))


@pytest.mark.parametrize("mode", VARIANTS)
def test_every_rule_is_a_positive_definite_kernel(mode):
    space = nested_space()
    X = space.sample(300, seed=3)
    K = kernel_matrix(X, X, torch.full((space.d,), 3.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64),
                      column_spec(space, mode))
    assert float(torch.linalg.eigvalsh(K).min()) > -1e-9


def test_dropping_inactive_columns_outright_is_not_a_kernel():
    """Why the arc embedding: counting a column only where both points have it active makes
    the inactive points equidistant to each other and to every active one, and the Matern of
    that distance is not positive semi-definite (its Cholesky failed in the A/B)."""
    a = torch.tensor([[0.0], [1.0], [INACTIVE]], dtype=torch.float64)
    act = torch.tensor([[1.0], [1.0], [0.0]], dtype=torch.float64)
    d2 = act @ act.T * (a - a.T) ** 2 * 25.0  # lengthscale 0.2: the two active points far apart
    assert float(torch.linalg.eigvalsh(matern52(d2)).min()) < -0.1


def test_arc_inactive_values_carry_no_information():
    space = nested_space()
    cols = column_spec(space)
    assert DEFAULT == "arc" and cols.mode == "arc"
    X = space.sample(30, seed=4)
    j = space.names.index("x")  # active only in branch a
    off = ~space.active_mask(X)[:, j]
    assert bool(off.any()) and bool((~off).any())
    X_other = X.clone()
    X_other[off, j] = torch.linspace(0.0, 1.0, int(off.sum()), dtype=torch.float64)
    inv_ls = torch.full((space.d,), 2.0, dtype=torch.float64)
    # two points that differ only in an inactive column are at distance 0 ...
    d_same = sq_dist(X[off], X_other[off], inv_ls, cols).diagonal()
    assert float(d_same.abs().max()) < 1e-12
    # ... and an inactive column is equally far from every active value of it
    active_a = X[~off][:1].repeat(5, 1)
    active_a[:, j] = torch.linspace(0.0, 1.0, 5, dtype=torch.float64)
    probe = active_a[:1].clone()
    probe[0, space.names.index("branch")] = (1 + 0.5) / 3  # branch b: x inactive
    probe = space.snap(probe)
    d = sq_dist(probe, active_a, inv_ls, cols)[0]
    assert float(d.max() - d.min()) < 1e-12
    # a fitted GP does not read the values its inactive columns hold, in training or at test points
    y = torch.tensor([-nested_value(p) for p in space.decode(X)], dtype=torch.float64)
    gp1, gp2 = fit_gp(X, y, cols, seed=0), fit_gp(X_other, y, cols, seed=0)
    torch.testing.assert_close(gp1.params.lengthscale, gp2.params.lengthscale)
    Xt = space.sample(50, seed=5)
    Xt2 = Xt.clone()
    Xt2[~space.active_mask(Xt)] = 0.9
    for a, b in zip(gp1.mean_var(Xt), gp2.mean_var(Xt2)):
        torch.testing.assert_close(a, b)


def test_acquisition_gradient_is_the_autograd_one_and_zero_on_inactive_columns():
    space = nested_space()
    cols = column_spec(space)
    X = space.sample(25, seed=6)
    y = torch.tensor([-nested_value(p) for p in space.decode(X)], dtype=torch.float64)
    gp = fit_gp(X, y, cols, seed=0)
    acq = AnalyticAcq(gp, "ei", float(gp.y.max()), 0.0, 2.0)
    Xq = space.sample(6, seed=7)
    val, grad = acq.value_and_grad(Xq)
    Xg = Xq.clone().requires_grad_(True)
    with torch.enable_grad():
        m, v = gp.mean_var(Xg)
        ref = analytic_acq(m, v, "ei", float(gp.y.max()))
        g_ref = torch.autograd.grad(ref.sum(), Xg)[0]
    torch.testing.assert_close(val, ref.detach())
    torch.testing.assert_close(grad, g_ref, rtol=1e-6, atol=1e-9)
    assert float(grad[~space.active_mask(Xq)].abs().max()) == 0.0


def test_flat_spaces_keep_plain_tuples():
    flat = gb.Space({"a": gb.Real(0.0, 1.0), "c": gb.Categorical(["x", "y"])})
    assert type(column_spec(flat)) is tuple and column_spec(flat) == (1,)
    with pytest.raises(ValueError, match="kind"):
        column_spec(nested_space(), "nope")
    assert parent_columns(nested_space()) == [0, 4]  # branch, kind


# -- suggestions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_suggestions_hold_exactly_the_active_parameters(seed):
    space = nested_space()
    opt = gb.Optimizer(space, direction="minimize", seed=seed, n_initial=6, options=FAST)
    for _ in range(10):
        p = opt.ask()
        _assert_exact(space, p)
        opt.tell(p, nested_value(p))
    batch = opt.ask(n=4)  # jointly, the later ones with the earlier ones pending
    for p in batch:
        _assert_exact(space, p)
    more = opt.ask(n=2)  # with four pending points
    for p in more:
        _assert_exact(space, p)
    keys = {space.key(p) for p in batch + more}
    assert len(keys) == 6
    for p in batch + more:
        opt.tell(p, nested_value(p))
    q = gb.Optimizer(space, direction="minimize", seed=seed, n_initial=6, acquisition="qei", options=FAST)
    for p in space.sample_params(8, seed=seed):
        q.tell(p, nested_value(p))
    for p in q.ask(n=3):
        _assert_exact(space, p)


def test_multi_output_suggestions_on_a_conditional_space():
    space = nested_space()
    opt = gb.Optimizer(space, directions=["minimize", "minimize"], seed=0, n_initial=6, options=FAST)
    for _ in range(9):
        p = opt.ask()
        _assert_exact(space, p)
        opt.tell(p, [nested_value(p), float(len(p))])
    for p in opt.ask(n=2):
        _assert_exact(space, p)
    assert opt.pareto


def test_neighbours_switch_branch_and_stay_valid():
    space = nested_space()
    x = space.encode({"branch": "a", "s": 0.2, "x": 1.0, "y": 0.1}).unsqueeze(0)
    nb = _neighbours(space, x)
    params = space.decode(nb)
    for p in params:
        _assert_exact(space, p)
    assert {p["branch"] for p in params} == {"a", "b", "c"}
    torch.testing.assert_close(space.snap(nb), nb)  # neighbours are canonical (inactive columns at INACTIVE)


def test_refinement_moves_only_active_non_parent_columns():
    space = nested_space()
    X = space.sample(20, seed=8)
    y = torch.tensor([-nested_value(p) for p in space.decode(X)], dtype=torch.float64)
    gp = fit_gp(X, y, column_spec(space), seed=0)
    seen = []

    class Spy(AnalyticAcq):
        def value_and_grad(self, Xc):
            seen.append(Xc.clone())
            return super().value_and_grad(Xc)

    acq = Spy(gp, "ei", float(gp.y.max()), 0.0, 2.0)
    x, _ = maximize(acq, space, options=MaximizeOptions(raw_samples=128, n_starts=4, steps=6), seed=0,
                    exclude=set(), device=torch.device("cpu"))
    _assert_exact(space, space.decode(x)[0])
    start, end = seen[0], seen[-1]
    frozen = ~space.active_mask(start)
    frozen[:, parent_columns(space)] = True
    frozen[:, space.cat_columns] = True
    assert torch.equal(start[frozen], end[frozen])
    assert bool((start != end).any())


def test_bo_reaches_a_branch_no_initial_point_had():
    """Told only points of branches a and c, the optimizer proposes branch b (the best) by
    itself, and then finds its sub-branch's optimum region."""
    space = nested_space()
    told = [p for p in space.sample_params(64, seed=9) if p["branch"] != "b"][:12]
    found = 0
    for seed in range(3):
        opt = gb.Optimizer(space, direction="minimize", seed=seed, n_initial=1, options=FAST)
        for p in told:
            opt.tell(p, nested_value(p))
        for _ in range(8):
            p = opt.ask()
            _assert_exact(space, p)
            opt.tell(p, nested_value(p))
        found += any(t.params["branch"] == "b" for t in opt.trials)
    assert found == 3


def test_bo_beats_random_search_on_a_conditional_problem():
    """40 evaluations, 8 seeds (the test's smaller search budgets): mean regret of BO under half
    random search's (the known optimum is 0, so the regret is the best value)."""
    space = nested_space()
    bo, rnd = [], []
    for seed in range(8):
        opt = gb.Optimizer(space, direction="minimize", seed=seed, options=FAST)
        for _ in range(40):
            p = opt.ask()
            opt.tell(p, nested_value(p))
        bo.append(opt.best["value"])
        rnd.append(min(nested_value(p) for p in space.sample_params(40, seed=100 + seed)))
    assert statistics.fmean(bo) < 0.5 * statistics.fmean(rnd), (bo, rnd)
