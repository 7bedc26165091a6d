"""Tests of ``gpu-bo show`` and ``gpu-bo plot`` on multi-objective and constrained studies: the
values per objective, the Pareto set, infeasible trials marked, --top, and the pareto plot kind."""

from __future__ import annotations

import re

import pytest

import gpu_bo as gb
from gpu_bo.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::gpu_bo.exceptions.GpuBoWarning")

SPACE = {"x": (0.0, 1.0), "y": (0.0, 1.0)}


def _mo(p):
    return {"value": [p["x"] + 0.1 * p["y"], p["y"] * (1.2 - p["x"])], "constraints": [p["x"] - 0.7]}


def _so(p):
    return {"value": (p["x"] - 0.3) ** 2 + p["y"], "constraints": [0.5 - p["y"]]}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('cli_mo') / 's.db'}"
    gb.optimize(_mo, SPACE, n_trials=14, directions=["minimize", "maximize"], storage=url, study_name="mo",
                seed=0, progress=False)
    gb.optimize(_so, SPACE, n_trials=8, direction="minimize", storage=url, study_name="so", seed=0,
                progress=False)
    return url


def _rows(out, header_start="#"):
    lines = out.splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.split() and ln.split()[0] == header_start)
    header = lines[i].split()
    rows = []
    for ln in lines[i + 1:]:
        if not ln.strip() or not ln.split()[0].isdigit():
            break
        rows.append(ln.split())
    return header, rows


def test_show_prints_values_per_objective_the_pareto_set_and_infeasible_trials(db, capsys):
    assert main(["show", db, "--study", "mo"]) == 0
    out = capsys.readouterr().out
    study = gb.storage.open_storage(db).load_study("mo")
    n_inf = sum(not t.feasible for t in study.completed_trials)
    assert n_inf > 0
    assert f"(minimize, maximize): 14 trials, 14 complete, {n_inf} infeasible" in out
    header, rows = _rows(out)
    assert header[:8] == ["#", "state", "value", "0", "value", "1", "pareto", "feasible"]
    by_number = {int(r[0]): r for r in rows}
    assert len(by_number) == 14
    front = {t.number for t in study.best_trials}
    for t in study.trials:
        r = by_number[t.number]
        assert float(r[2]) == pytest.approx(t.values[0], rel=1e-5)
        assert float(r[3]) == pytest.approx(t.values[1], rel=1e-5)
        assert ("*" in r) == (t.number in front)
        assert ("NO" in r) == (not t.feasible) and ("yes" in r) == t.feasible
    listed = [int(m) for m in re.findall(r"^  trial (\d+): values \[", out, flags=re.M)]
    assert listed == sorted(front) and f"pareto set: {len(front)} trial" in out
    assert all(study.trials[n].feasible for n in listed)


def test_show_top_of_a_multi_objective_study_is_its_pareto_set(db, capsys):
    assert main(["show", db, "--study", "mo", "--top", "2"]) == 0
    _, rows = _rows(capsys.readouterr().out)
    front = [t.number for t in gb.storage.open_storage(db).load_study("mo").best_trials]
    assert [int(r[0]) for r in rows] == front[:2]


def test_show_single_objective_with_constraints_marks_infeasible_and_best_is_feasible(db, capsys):
    assert main(["show", db, "--study", "so", "--top", "8"]) == 0
    out = capsys.readouterr().out
    study = gb.storage.open_storage(db).load_study("so")
    header, rows = _rows(out)
    assert header[:4] == ["#", "state", "value", "feasible"]
    marks = [r[3] for r in rows]
    assert "NO" in marks and "yes" in marks
    assert marks == sorted(marks, key=lambda m: m != "yes")  # feasible ones first
    best = study.best_trial
    assert best.feasible and f"best: trial {best.number}," in out


def test_show_says_when_no_trial_is_feasible(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'n.db'}"
    gb.optimize(lambda p: {"value": p["x"], "constraints": [1.0]}, SPACE, n_trials=3, storage=url,
                study_name="none", seed=0, progress=False)
    assert main(["show", url]) == 0
    assert "best: none (no feasible trial: all 3 completed trials break a constraint)" in capsys.readouterr().out


def test_plot_pareto_and_hypervolume_convergence(db, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    for kind in ("pareto", "convergence"):
        out = tmp_path / f"{kind}.png"
        assert main(["plot", db, "--study", "mo", "--kind", kind, "--out", str(out)]) == 0
        assert out.stat().st_size > 1000
    out = tmp_path / "ev.png"
    assert main(["plot", db, "--study", "mo", "--kind", "evaluations", "--objective", "1", "--out", str(out)]) == 0
    assert out.stat().st_size > 1000
    capsys.readouterr()
    assert main(["plot", db, "--study", "mo", "--kind", "pareto", "--objective", "1", "--out", str(out)]) == 2
    assert "--objective: got 1, but --kind pareto draws every objective" in capsys.readouterr().err
    assert main(["plot", db, "--study", "mo", "--kind", "objective", "--out", str(out)]) == 1
    assert "pass objective=0..1" in capsys.readouterr().err
