"""Packaging: the wheel ships kernels/ as gpu_bo.kernels; README and .ci/run agree."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_opens_with_two_commands_and_ci_runs_the_second():
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2, block
    assert "examples/quickstart.py" in block[0] and "pytest" in block[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert block[1] in ci.splitlines()


@pytest.mark.slow
def test_built_wheel_contains_gpu_bo_kernels(tmp_path):
    pytest.importorskip("build")
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    wheel = next(tmp_path.glob("gpu_bo-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "gpu_bo/kernels/__init__.py" in names and "gpu_bo/kernels/reference.py" in names
    assert "gpu_bo/optimizer.py" in names
    assert not any(n.startswith("kernels/") for n in names)


def test_public_api_names():
    import gpu_bo as gb

    for name in ["Space", "Real", "Integer", "Categorical", "Optimizer", "optimize", "Study", "Trial",
                 "TrialState", "GpuBoError", "SpaceError"]:
        assert hasattr(gb, name), name
    import gpu_bo.kernels as k

    assert callable(k.screen)


def test_every_package_folder_is_listed_in_pyproject():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "gpu_bo").rglob("__init__.py")}
    assert found - listed == set(), f"package folders missing from pyproject.toml's packages: {found - listed}"
    assert "gpu_bo.kernels" in listed
