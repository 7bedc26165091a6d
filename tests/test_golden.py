"""Golden suggestions: seeded studies whose every suggestion was recorded before the house
refactor (issue 14) and must stay identical after it, to the last bit.

A deliberate change of the suggestion engine re-records them with
``GPU_BO_RECORD_GOLDEN=1 python -m pytest tests/test_golden.py`` and says why in its commit.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

import gpu_bo as gb

GOLDEN = Path(__file__).with_name("golden_suggestions.json")
RECORD = os.environ.get("GPU_BO_RECORD_GOLDEN") == "1"


def _branin(p):
    x1, x2 = p["x1"], p["x2"]
    return (x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2 + 10 * (
        1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


_BRANIN = {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}
_MIXED = {
    "lr": gb.Real(1e-4, 1e-1, log=True),
    "x": gb.Real(-2.0, 2.0),
    "layers": gb.Integer(1, 6),
    "opt": gb.Categorical(["adam", "sgd", "rms"]),
}


def _mixed(p):
    pen = {"adam": 0.0, "sgd": 0.4, "rms": 0.9}[p["opt"]]
    return (math.log10(p["lr"]) + 2.2) ** 2 + (p["x"] - 0.3) ** 2 + 0.2 * abs(p["layers"] - 3) + pen


def _failing_branin(p):
    return float("nan") if p["x1"] > 7.5 else _branin(p)


def _sphere6(p):
    return sum((p[f"x{i}"] - 0.1 * i) ** 2 for i in range(6))


_SPHERE6 = {f"x{i}": (-1.0, 1.0) for i in range(6)}

# name -> (space, objective, Optimizer kwargs, batch size per ask, number of asks)
STUDIES = {
    "continuous_ei": (_BRANIN, _branin, dict(direction="minimize", acquisition="ei", n_initial=5), None, 16),
    "continuous_ucb_max": (_BRANIN, lambda p: -_branin(p), dict(direction="maximize", acquisition="ucb",
                                                                n_initial=5), None, 12),
    "mixed_ei": (_MIXED, _mixed, dict(direction="minimize", acquisition="ei", n_initial=6), None, 16),
    "batch_ei": (_BRANIN, _branin, dict(direction="minimize", acquisition="ei", n_initial=5), 4, 5),
    "batch_qei": (_BRANIN, _branin, dict(direction="minimize", acquisition="qei", n_initial=5), 3, 4),
    "failures_pi": (_BRANIN, _failing_branin, dict(direction="minimize", acquisition="pi", n_initial=5), None, 12),
    "trust_region": (_SPHERE6, _sphere6, dict(direction="minimize", acquisition="ei", n_initial=7,
                                              strategy="trust_region"), None, 16),
}


def _run(name: str) -> list:
    space, f, kwargs, q, n_asks = STUDIES[name]
    opt = gb.Optimizer(space, seed=7, device="cpu", **kwargs)
    out = []
    for _ in range(n_asks):
        ps = opt.ask() if q is None else opt.ask(n=q)
        ps = [ps] if q is None else ps
        opt.tell(ps, [f(p) for p in ps])
        out.append(ps)
    return out


@pytest.fixture(scope="module")
def golden() -> dict:
    if RECORD:
        data = {name: _run(name) for name in STUDIES}
        GOLDEN.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_suggestions_identical_to_the_recording(golden, name):
    got = json.loads(json.dumps(_run(name)))  # the recording went through JSON too (exact for floats)
    assert name in golden, f"no recording for {name}: re-record with GPU_BO_RECORD_GOLDEN=1"
    want = golden[name]
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"{name}: ask {i} differs: got {g}, recorded {w}"
    assert len(got) == len(want)
