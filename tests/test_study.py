"""Trial, TrialState, Study, Direction and is_valid_value (gpu_bo/study.py)."""

from __future__ import annotations

import builtins
import math

import pytest

import gpu_bo as gb
from gpu_bo.study import Direction, Trial, is_valid_value


@pytest.mark.parametrize("value, ok", [
    (0.25, True), (3, True), (-1e300, True), ("0.25", False), (b"1", False), (True, False),
    (None, False), (math.nan, False), (math.inf, False), ("nan", False), ([1.0], False),
])
def test_is_valid_value_takes_finite_numbers_only(value, ok):
    assert is_valid_value(value) is ok


def test_numpy_and_torch_scalars_are_valid_values():
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    assert is_valid_value(np.float32(0.5)) and is_valid_value(np.int64(2))
    assert is_valid_value(torch.tensor(0.5))


def test_to_dataframe_names_pandas_and_the_extra_that_installs_it(monkeypatch):
    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    study = gb.Study(trials=[Trial(0, {"x": 1.0}, value=2.0, state=gb.TrialState.COMPLETE)])
    with pytest.raises(ImportError) as e:
        study.to_dataframe()
    assert "pandas" in str(e.value) and "gpu-bo[dataframe]" in str(e.value)


def test_the_dataframe_extra_lists_pandas():
    tomllib = pytest.importorskip("tomllib")
    from pathlib import Path

    meta = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    extra = meta["project"]["optional-dependencies"]["dataframe"]
    assert any(req.split(">")[0].split("=")[0].strip() == "pandas" for req in extra)


def test_direction_flips_signs_in_one_place():
    assert Direction.parse("minimize").sign == -1.0 and Direction.parse("maximize").sign == 1.0
    assert Direction.MINIMIZE.best([3.0, 1.0, 2.0]) == 1.0
    with pytest.raises(ValueError, match="'up'"):
        Direction.parse("up")
