"""Reruns the core tests on CUDA (skipped when no GPU is present).

The core test modules take their device from the ``device`` fixture, which reads
GPU_BO_TEST_DEVICE; this module runs them in a subprocess with it set to ``cuda`` and with
``torch.set_default_device("cuda")`` (DESIGN.md: every tensor has an explicit device).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
CORE = ["test_space.py", "test_surrogate.py", "test_acquisition.py", "test_maximize.py",
        "test_batch.py", "test_optimizer.py", "test_kernels.py"]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_core_suite_on_cuda():
    env = dict(os.environ, GPU_BO_TEST_DEVICE="cuda", GPU_BO_DEFAULT_DEVICE="cuda")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", *[str(ROOT / "tests" / f) for f in CORE]],
                       env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_optimizer_runs_on_cuda_end_to_end():
    import gpu_bo as gb

    opt = gb.Optimizer({"x": (0.0, 1.0), "y": (0.0, 1.0), "c": ["a", "b"]}, device="cuda", seed=0, n_initial=4)
    for _ in range(10):
        p = opt.ask()
        opt.tell(p, (p["x"] - 0.3) ** 2 + (p["y"] - 0.6) ** 2 + (p["c"] == "b"))
    assert opt.last_suggestion_info["device"].startswith("cuda")
    batch = opt.ask(n=8)
    assert len({opt.space.key(p) for p in batch}) == 8
