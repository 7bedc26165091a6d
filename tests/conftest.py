"""Shared test set-up: one torch thread (the 2-core CI machine) and seeded RNGs."""

from __future__ import annotations

import math
import os

import pytest
import torch

torch.set_num_threads(1)
if os.environ.get("GPU_BO_DEFAULT_DEVICE"):  # test_cuda.py reruns the core with everything on CUDA
    torch.set_default_device(os.environ["GPU_BO_DEFAULT_DEVICE"])


def branin(p: dict) -> float:
    x1, x2 = p["x1"], p["x2"]
    return (x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2 + 10 * (
        1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


BRANIN_SPACE = {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}
BRANIN_MIN = 0.397887


@pytest.fixture
def device() -> torch.device:
    """The device core tests run on: CPU, or CUDA when GPU_BO_TEST_DEVICE=cuda (test_cuda.py)."""
    return torch.device(os.environ.get("GPU_BO_TEST_DEVICE", "cpu"))
