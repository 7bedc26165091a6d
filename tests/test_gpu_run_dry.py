"""benchmarks/gpu_run.sh's dry run (issue 22.4): on a CPU every CUDA step is skipped with a message
and its command is checked (each benchmark script's --help, the CUDA tests collected), so the
prepared GPU run cannot fail on a syntax error, a renamed script or a broken import when a device
is lent."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_run.sh"
STEPS = ["cuda_tests", "scaling_gpu", "mixed_cuda", "kernel_screening", "float32_cuda", "mo_timing",
         "latency_cuda", "scaling_gpu_peers"]


def _dry(tmp_path: pathlib.Path, **env: str) -> tuple[subprocess.CompletedProcess, str]:
    out = tmp_path / "out"
    e = dict(os.environ, DRY_RUN="1", OUT=str(out), PYTHON=sys.executable)
    e.update(env)
    r = subprocess.run(["bash", str(SCRIPT)], env=e, capture_output=True, text=True, timeout=300)
    return r, (out / "log.txt").read_text()


@pytest.mark.skipif(sys.platform == "win32", reason="bash script")
def test_dry_run_checks_every_step(tmp_path):
    links_before = (ROOT / "gpu_bo" / "kernels").exists()
    r, log = _dry(tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:] + log[-3000:]
    for name in STEPS:
        assert f"== {name}: CUDA step skipped (dry run)" in log, name
        assert f"== {name}: check of " in log and f"{name}: check of" in log
        assert "rc=1" not in log
    assert "failed: none" in log
    assert (tmp_path / "out" / "gpu_results.tgz").exists()
    assert (ROOT / "gpu_bo" / "kernels").exists() == links_before  # no link left in the checkout


@pytest.mark.skipif(sys.platform == "win32", reason="bash script")
def test_dry_run_fails_when_a_step_command_is_broken(tmp_path):
    # a Python that cannot run the scripts: the checks fail and the dry run says so
    fake = tmp_path / "py"
    fake.write_text(f"#!/bin/sh\ncase \"$1\" in -) exit 3;; esac\nexec {sys.executable} \"$@\"\n")
    fake.chmod(0o755)
    r, log = _dry(tmp_path, PYTHON=str(fake), ONLY="float32_cuda")
    assert r.returncode == 1, log[-2000:]
    assert "dry_checks" in log and "float32_cuda: CUDA step skipped" in log
    assert "scaling_gpu" not in log.split("dry run (DRY_RUN")[-1]  # ONLY filters the steps
