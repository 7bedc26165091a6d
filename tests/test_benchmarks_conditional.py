"""Keep benchmarks/conditional.py working: the problems' known optimum, the peers' translations of
a conditional Space (define-by-run, nested hp.choice, ConfigSpace conditions) give valid
configurations, the targets' logic, and an end-to-end run of the script's --quick mode cut short.

Peers whose package is missing are skipped, not failed. Timings are not asserted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import cond_peers, cond_problems, cond_report, conditional  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")


def test_synthetic_optimum_is_zero_in_the_nested_branch_and_every_other_branch_is_worse():
    f = cond_problems.synthetic
    assert f({"branch": "c", "c_u": 0.7, "c_kind": "quad", "c_v": 10 ** 0.8}) == pytest.approx(0.0)
    assert f({"branch": "c", "c_u": -0.5, "c_kind": "lin", "c_k": 13}) == pytest.approx(0.2)
    assert f({"branch": "b", "b_x1": 0.2, "b_x2": 0.7, "b_x3": 0.45, "b_n": 7}) == pytest.approx(0.3)
    assert f({"branch": "d", "d_x": 0.2, "d_m": 12}) == pytest.approx(0.4)
    assert f({"branch": "a", "a_x1": 1.5, "a_x2": -2.0}) == pytest.approx(0.6)
    space = cond_problems.synthetic_space()
    vals = [f(p) for p in space.sample_params(500, seed=0)]
    assert min(vals) > 0.0
    with pytest.raises(ValueError, match="nope"):
        cond_problems.get_cond_problem("nope")


def test_cash_space_nests_gamma_under_the_rbf_kernel_and_builds_every_family():
    space = cond_problems.cash_space()
    assert space.active_names({"model": "svc", "svc_kernel": "linear"}) == ["model", "svc_C", "svc_kernel"]
    seen = set()
    for p in space.sample_params(40, seed=1):
        space.validate(p)
        seen.add(type(cond_problems.make_model(p)).__name__)
    assert len(seen) == 5
    err = cond_problems.cash_error("wine", {"model": "knn", "knn_n_neighbors": 5, "knn_weights": "uniform",
                                            "knn_p": 2})
    assert 0.0 <= err < 0.15


@pytest.mark.parametrize("method", ["optuna_tpe", "hyperopt", "smac", "optuna_gp", "random", "gpu_bo"])
def test_every_method_suggests_only_valid_configurations(method):
    if not cond_peers.cond_available(method):
        pytest.skip(f"{method} not installed")
    space = cond_problems.synthetic_space()
    seen = []

    def evaluate(p):
        space.validate(p)  # exactly the active parameters, each a value it can take
        seen.append(dict(p))
        return cond_problems.synthetic(p)

    rec = cond_peers.run_method(method, space, evaluate, seed=0, budget=12)
    assert len(rec["values"]) == len(rec["step_s"]) == len(rec["step_cpu_s"]) == 12 == len(seen)
    assert rec["branches"] == [p["branch"] for p in seen]


def test_hyperopt_space_is_nested_and_flattens_back_to_the_active_parameters():
    pytest.importorskip("hyperopt")
    from hyperopt.pyll.stochastic import sample

    space = cond_problems.synthetic_space()
    hp_space = cond_peers.to_hyperopt(space)
    assert list(hp_space) == ["branch"]
    kinds = set()
    for i in range(60):
        import numpy as np

        nested = sample(hp_space, rng=np.random.default_rng(i))
        p = cond_peers.flatten_hyperopt(nested)
        space.validate(p)
        if p["branch"] == "c":
            kinds.add(p["c_kind"])
            assert isinstance(nested["branch"]["c_kind"], dict)  # the sub-branch is a nested choice
    assert kinds == {"lin", "quad"}


def test_configspace_has_one_condition_per_conditional_dimension():
    pytest.importorskip("ConfigSpace")
    space = cond_problems.cash_space()
    cs = cond_peers.to_configspace(space, seed=0)
    assert len(cs.conditions) == sum(1 for d in space.dims.values() if d.when is not None)
    for config in cs.sample_configuration(20):
        space.validate(cond_peers._from_config(space, config))


def _run(problem, method, seed, best):
    return {"problem": problem, "method": method, "seed": seed, "error": None, "values": [1.0, best],
            "step_s": [0.01, 0.02], "eval_s": [0.0, 0.0], "branches": ["a", "c"], "ask_at_budget_s": 0.1}


def test_targets_pass_when_gpu_bo_leads_by_more_than_the_iqr_and_miss_otherwise():
    runs = []
    for s in range(4):
        runs += [_run("synthetic", "gpu_bo", s, 0.01 + 0.001 * s), _run("synthetic", "optuna_tpe", s, 0.2 + 0.01 * s),
                 _run("synthetic", "hyperopt", s, 0.3 + 0.01 * s), _run("cash_wine", "gpu_bo", s, 0.02),
                 _run("cash_wine", "optuna_tpe", s, 0.03), _run("cash_wine", "hyperopt", s, 0.04)]
    methods = ["gpu_bo", "optuna_tpe", "hyperopt"]
    summ = cond_report.summarize(runs, ["synthetic", "cash_wine"], methods, {"synthetic": 0.0, "cash_wine": 0.0})
    assert summ["mean_rank"] == {"gpu_bo": 1.0, "optuna_tpe": 2.0, "hyperopt": 3.0}
    assert [t["pass"] for t in summ["targets"]] == [True, True, True]
    wide = [dict(r, values=[1.0, 0.01 + 0.5 * r["seed"]]) if r["method"] == "gpu_bo" and r["problem"] == "synthetic"
            else r for r in runs]  # gpu_bo's IQR now spans TPE's median
    summ = cond_report.summarize(wide, ["synthetic", "cash_wine"], methods, {"synthetic": 0.0, "cash_wine": 0.0})
    assert summ["targets"][1]["pass"] is False
    assert cond_report.best_so_far([3.0, float("nan"), 1.0, 2.0], 0.5) == [2.5, 2.5, 0.5, 0.5]


def test_quick_mode_end_to_end_and_report_only_rebuilds_it(tmp_path):
    # --quick cut to one seed of 4 evaluations on the synthetic problem: CV evaluations take
    # seconds each on the shared 2-core machine (the CASH path is checked above)
    argv = ["--quick", "--seeds", "1", "--budget", "4", "--problems", "synthetic", "--cache", str(tmp_path / "c"),
            "--out", str(tmp_path / "o")]
    out = conditional.main(argv)
    installed = [m for m in cond_peers.COND_METHODS if cond_peers.cond_available(m)]
    assert sorted(r["method"] for r in out["runs"]) == sorted(installed)
    assert all(r["error"] is None and len(r["values"]) == 4 for r in out["runs"])
    md = (tmp_path / "o" / "conditional.md").read_text()
    assert "## Targets" in md and "### synthetic" in md
    assert (tmp_path / "o" / "conditional_synthetic.png").stat().st_size > 0
    (tmp_path / "o" / "conditional.md").unlink()
    again = conditional.main(argv + ["--report-only", "--no-plots"])
    assert len(again["runs"]) == len(out["runs"])
    assert json.loads((tmp_path / "o" / "conditional.json").read_text())["runs"][0]["budget"] == 4
    assert (tmp_path / "o" / "conditional.md").exists()
