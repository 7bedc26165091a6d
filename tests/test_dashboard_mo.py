"""The dashboard on a constrained two-objective study: its JSON (constraints and feasibility per
trial, no NaN) and, in the browser, the Pareto front of the feasible trials, the infeasible ones
marked in the chart and in the table."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("starlette")

import gpu_bo as gb  # noqa: E402
from gpu_bo.dashboard.data import study_list, study_view  # noqa: E402
from gpu_bo.storage import open_storage  # noqa: E402
from gpu_bo.study import TrialState  # noqa: E402
# the browser fixtures (a skip with a loud reason without Chromium, a failure in CI)
from test_dashboard_browser import READY, browser, dashboard_of, page  # noqa: E402, F401

SPACE = gb.Space({"x": gb.Real(0.0, 1.0)})
# (values, constraints): trial 1 dominates everything but is infeasible; of the feasible ones
# trials 0 and 2 are the front, 3 is dominated by 0
TRIALS = [([1.0, 3.0], [-1.0]), ([0.0, 5.0], [2.0]), ([2.0, 4.0], [0.0]), ([1.5, 2.0], [-0.5])]


def _write(path):
    store = open_storage(f"sqlite:///{path}", create=True)
    store.get_or_create_study("mo", ["minimize", "maximize"], SPACE.to_dict())
    for i, (vals, cons) in enumerate(TRIALS):
        t = store.create_trial("mo", {"x": i / 10})
        t.state, t.values, t.constraints, t.end_time = TrialState.COMPLETE, vals, cons, t.start_time + 0.1
        store.finish_trial("mo", t)
    t = store.create_trial("mo", {"x": 0.9})
    t.state, t.constraints, t.end_time = TrialState.FAILED, [float("nan")], t.start_time + 0.1
    t.error = "constraint 0 is nan"
    store.finish_trial("mo", t)
    return store


def test_json_has_constraints_and_feasibility_and_no_nan(tmp_path):
    store = _write(tmp_path / "s.db")
    view = study_view(store, "mo")
    text = json.dumps(view, allow_nan=False)  # raises on NaN
    assert json.loads(text)["directions"] == ["minimize", "maximize"]
    got = [(t["v"], t["c"], t["f"]) for t in view["trials"][:4]]
    assert got == [(v, c, c[0] <= 0) for v, c in TRIALS]
    assert view["trials"][4]["c"] == [None]
    summary = study_list(store)[0]
    assert summary["best"] is None and summary["states"]["COMPLETE"] == 4
    store.close()


def test_page_marks_infeasible_trials_and_fronts_only_feasible_ones(tmp_path, page):  # noqa: F811
    path = tmp_path / "s.db"
    _write(path).close()
    with dashboard_of(path) as base:
        page.goto(base + "/study/mo")
        page.wait_for_function(READY)
        assert page.get_attribute("#chart-pareto", "data-front") == "2"
        assert page.get_attribute("#chart-pareto", "data-infeasible") == "1"
        assert page.get_attribute("#chart-pareto", "data-points") == "4"
        heads = page.locator("#trials th").all_text_contents()
        assert heads[2:5] == ["value 1", "value 2", "feasible"]
        infeasible = page.locator("#trials tr.trial.infeasible").evaluate_all("rows => rows.map(r => r.dataset.number)")
        assert sorted(infeasible) == ["1", "4"]
        assert not page.page_errors, page.page_errors
