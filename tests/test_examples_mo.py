"""The multi-objective and constrained examples run (small budgets, each in a subprocess) and print
what they promise: the Pareto set and its plot, and the best feasible trial."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=600)


def test_examples_run_with_small_budgets(tmp_path):
    procs = [subprocess.Popen([sys.executable, str(EXAMPLES / "multi_objective.py"), "--trials", "6",
                               "--out-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
             subprocess.Popen([sys.executable, str(EXAMPLES / "constrained.py"), "--trials", "6", "--limit", "6000"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    (mo_out, mo_err), (c_out, c_err) = (p.communicate(timeout=600) for p in procs)
    assert procs[0].returncode == 0, mo_err
    assert procs[1].returncode == 0, c_err
    m = re.search(r"Pareto set: (\d+) of 6 trials", mo_out)
    assert m and 1 <= int(m.group(1)) <= 6
    rows = re.findall(r"accuracy (0\.\d+)\s+nodes\s+(\d+)", mo_out)
    assert len(rows) == int(m.group(1))
    nodes = [int(n) for _, n in rows]
    accs = [float(a) for a, _ in rows]
    assert nodes == sorted(nodes) and accs == sorted(accs)  # along the front: bigger and better
    png = tmp_path / "pareto_front.png"
    assert png.stat().st_size > 5000
    assert re.search(r"\d+ of 6 trials within the limit of 6000 floats", c_out)
    best = re.search(r"opt.best: accuracy (0\.\d+), size (\d+) floats", c_out)
    if best is None:
        assert "opt.best: None (no trial met the limit)" in c_out
    else:
        assert int(best.group(2)) <= 6000
