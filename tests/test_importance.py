"""Tests of gb.importance: shares >= 0 summing to 1 in the space's order, determinism, the errors,
log/integer/categorical spaces, multi-objective columns, and issue 20's statistical check (the
ranking and the dominant share on a function with known Sobol indices, over 10 seeds)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

import gpu_bo as gb  # noqa: E402
from benchmarks import importance as bench  # noqa: E402

MIXED = gb.Space({"lr": gb.Real(1e-5, 1e-1, log=True), "n": gb.Integer(1, 64, log=True),
                  "opt": gb.Categorical(["adam", "sgd", "rmsprop"]), "unused": gb.Real(0.0, 1.0)})


def _mixed_f(p):
    # lr dominates (on its log scale), n is second (log scale), opt has a small effect
    return ((math.log10(p["lr"]) + 3.0) ** 2 + 0.5 * math.log2(p["n"])
            + {"adam": 0.0, "sgd": 0.4, "rmsprop": 0.2}[p["opt"]])


def _study(space, f, n, seed=0, direction="minimize"):
    trials = [gb.Trial(i, p, value=f(p), state=gb.TrialState.COMPLETE, end_time=1.0)
              for i, p in enumerate(space.sample_params(n, seed=seed))]
    return gb.Study(direction, trials)


def test_shares_are_nonnegative_sum_to_one_in_space_order_and_rank_a_mixed_space():
    st = _study(MIXED, _mixed_f, 40)
    s = gb.importance(st, space=MIXED)
    assert list(s) == MIXED.names
    assert all(v >= 0.0 for v in s.values())
    assert sum(s.values()) == pytest.approx(1.0, abs=1e-12)
    assert [k for k in sorted(s, key=lambda k: -s[k])] == ["lr", "n", "opt", "unused"]
    assert s["unused"] < 0.02


def test_deterministic_for_a_seed_and_the_seed_matters_little():
    st = _study(MIXED, _mixed_f, 30)
    a, b = gb.importance(st, space=MIXED, seed=3), gb.importance(st, space=MIXED, seed=3)
    assert a == b
    c = gb.importance(st, space=MIXED, seed=4)
    assert max(abs(a[k] - c[k]) for k in a) < 0.05


def test_maximize_gives_the_same_shares_as_minimizing_the_negation():
    lo = gb.importance(_study(MIXED, _mixed_f, 30), space=MIXED)
    hi = gb.importance(_study(MIXED, lambda p: -_mixed_f(p), 30, direction="maximize"), space=MIXED)
    assert max(abs(lo[k] - hi[k]) for k in lo) < 1e-6


def test_space_from_the_optimizer_or_inferred_from_the_trials():
    opt = gb.Optimizer(MIXED, direction="minimize", seed=0)
    for p in MIXED.sample_params(20, seed=1):
        opt.tell(p, _mixed_f(p))
    s = gb.importance(opt)
    assert list(s) == MIXED.names and max(s, key=s.get) == "lr"
    plain = gb.Study("minimize", [gb.Trial(t.number, t.params, value=t.value, state=t.state) for t in opt.trials])
    inferred = gb.importance(plain)  # no space: bounds from the observed values
    assert set(inferred) == set(MIXED.names) and sum(inferred.values()) == pytest.approx(1.0)


def test_multi_objective_picks_the_column():
    sp = gb.Space({"a": gb.Real(0.0, 1.0), "b": gb.Real(0.0, 1.0)})
    trials = [gb.Trial(i, p, values=[3.0 * p["a"] + 0.1 * p["b"], 0.1 * p["a"] + 3.0 * p["b"]],
                       state=gb.TrialState.COMPLETE) for i, p in enumerate(sp.sample_params(20, seed=0))]
    st = gb.Study("minimize", trials)
    first, second = gb.importance(st, space=sp, objective=0), gb.importance(st, space=sp, objective=1)
    assert first["a"] > 0.9 and second["b"] > 0.9
    with pytest.raises(ValueError, match="objective: got 2.*2 value"):
        gb.importance(st, space=sp, objective=2)
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(ValueError, match="objective"):
            gb.importance(st, space=sp, objective=bad)


def test_a_flat_objective_shares_equally():
    s = gb.importance(_study(MIXED, lambda p: 1.0, 12), space=MIXED)
    assert s == {n: 0.25 for n in MIXED.names}


def test_too_few_trials_and_no_trials_raise_naming_why():
    st = _study(MIXED, _mixed_f, 3)
    for t in st.trials[1:]:
        t.state, t.values, t.error = gb.TrialState.FAILED, None, "ValueError: boom"
    with pytest.raises(ValueError, match="at least 2 completed trials.*got 1"):
        gb.importance(st, space=MIXED)
    for t in st.trials:
        t.state, t.values = gb.TrialState.FAILED, None
    with pytest.raises(ValueError, match="all 3 trials failed.*boom"):
        gb.importance(st, space=MIXED)
    with pytest.raises(ValueError, match="no trial"):
        gb.importance(gb.Study("minimize"))
    with pytest.raises(ValueError, match="no trial"):
        gb.importance(gb.Study("minimize"), space=MIXED)
    with pytest.raises(TypeError, match="study"):
        gb.importance(object())


def test_the_benchmark_truth_matches_a_large_monte_carlo_sample():
    rng = np.random.default_rng(0)
    n = 400_000
    x = rng.uniform(-1.0, 1.0, size=(n, 4))
    cat = rng.choice(np.asarray(list(bench.EFFECT.values())), size=n)
    terms = {"x1": 10 * x[:, 0] ** 2, "x2": 2 * x[:, 1], "x3": 0.1 * x[:, 2], "x4": 0 * x[:, 3], "cat": cat}
    total = np.var(sum(terms.values()))
    for k, v in terms.items():  # additive: each term's variance over the total is its Sobol index
        assert np.var(v) / total == pytest.approx(bench.TRUE_SHARES[k], abs=3e-3)
    assert bench.TRUE_RANKING == ["x1", "cat", "x2", "x3", "x4"]


def test_issue_20_ranking_and_dominant_share_over_ten_seeds():
    # 60 quasi-random evaluations per seed (importance is about the model of the evaluated points)
    right, dominant = 0, []
    for seed in range(10):
        s = gb.importance(bench.make_study(seed), space=bench.SPACE, seed=seed)
        right += bench.ranking(s) == bench.TRUE_RANKING
        dominant.append(abs(s["x1"] - bench.TRUE_SHARES["x1"]))
    assert right >= 9, f"ranking right in {right} of 10 seeds"
    assert max(dominant) < 0.1, dominant


def test_a_large_study_is_fitted_on_a_seeded_subset(monkeypatch):
    import gpu_bo.surrogate as surrogate

    sizes = []
    real_fit = surrogate.fit_gp

    def counting_fit(X, y, *args, **kwargs):
        sizes.append(X.shape[0])
        return real_fit(X, y, *args, **kwargs)

    monkeypatch.setattr(surrogate, "fit_gp", counting_fit)
    st = _study(MIXED, _mixed_f, 120)
    a = gb.importance(st, space=MIXED, max_trials=60)
    b = gb.importance(st, space=MIXED, max_trials=60)
    full = gb.importance(st, space=MIXED, max_trials=None)
    assert sizes == [60, 60, 120]
    assert a == b and max(a, key=a.get) == max(full, key=full.get) == "lr"
    with pytest.raises(ValueError, match="max_trials"):
        gb.importance(st, space=MIXED, max_trials=1)
