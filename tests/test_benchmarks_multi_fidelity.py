"""benchmarks/multi_fidelity.py (issue 18.4): the quick path on a tiny budget, and its accounting."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import mf_tasks, multi_fidelity  # noqa: E402
from benchmarks.mf_methods import run_method  # noqa: E402


def test_best_curve_and_resource_to_reach():
    events = [(3.0, None), (30.0, 0.5), (33.0, None), (60.0, 0.7), (61.0, 0.6)]
    curve = multi_fidelity.best_curve(events, np.array([10.0, 30.0, 59.0, 60.0, 100.0]))
    assert math.isnan(curve[0]) and list(curve[1:]) == [0.5, 0.5, 0.7, 0.7]
    assert multi_fidelity.resource_to_reach(events, 0.6) == 60.0
    assert multi_fidelity.resource_to_reach(events, 0.8) is None


def test_synthetic_optimum_is_the_known_one():
    task = mf_tasks.get_task("synthetic")
    x = task.best_x()
    best = task.value(x, task.max_resource)
    rng = np.random.default_rng(0)
    others = [task.value(np.clip(x + rng.normal(0, 0.05, 4), 0, 1), task.max_resource) for _ in range(200)]
    assert best == pytest.approx(-0.06226, abs=1e-4) and max(others) <= best
    # the ranking changes with the resource: at r = 1 a smaller x0 is better
    low = np.array([0.47, 0.7, 0.7, 0.7])
    assert task.value(low, 1) > task.value(x, 1) and task.value(low, 27) < task.value(x, 27)


@pytest.mark.parametrize("method", ["gpu_bo_hyperband", "optuna_tpe_sh", "random_asha", "random"])
def test_every_method_stops_at_the_budget(method):
    task = mf_tasks.get_task("synthetic")
    events = run_method(method, task, 0, 60)
    used = [u for u, _ in events]
    assert used == sorted(used) and used[-2] < 60 <= used[-1] < 60 + task.max_resource


def test_quick_path_writes_tables_curves_and_targets(tmp_path):
    methods = "gpu_bo_hyperband,gpu_bo_hyperband_nomodel,gpu_bo_full,optuna_tpe_hyperband,random_asha,random"
    assert multi_fidelity.main(["--quick", "--tasks", "synthetic,sgd", "--seeds", "1", "--budget", "2",
                                "--methods", methods, "--out", str(tmp_path), "--name", "mf"]) == 0
    md = (tmp_path / "mf.md").read_text()
    assert "NOT CONCLUSIVE" in md and "## Targets" in md and "Target 1" in md and "Target 2" in md
    assert (tmp_path / "mf_synthetic.png").stat().st_size > 0 and (tmp_path / "mf_sgd.png").stat().st_size > 0
    data = json.loads((tmp_path / "mf.json").read_text())
    assert set(data["runs"]["sgd"]) == set(methods.split(","))
    assert data["summary"]["synthetic"]["gpu_bo_full"]["median_reach"] <= 2 * 27
