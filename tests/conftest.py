"""Shared test set-up: one torch thread (the 2-core CI machine), seeded RNGs, a PostgreSQL database."""

from __future__ import annotations

import math
import os
import urllib.parse
import uuid
import warnings

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


def _postgres_base_url() -> str:
    """GPU_BO_TEST_POSTGRES_URL (a role that may CREATE DATABASE); missing: skip loudly, or fail under CI."""
    url = os.environ.get("GPU_BO_TEST_POSTGRES_URL")
    if url:
        return url
    why = ("GPU_BO_TEST_POSTGRES_URL is not set: the PostgreSQL storage tests need a server "
           "(.ci/run starts one; set it to postgresql://user:password@host:port/dbname)")
    if os.environ.get("CI"):
        pytest.fail(why + " -- CI never skips them")
    warnings.warn("SKIPPING PostgreSQL tests: " + why, pytest.PytestWarning, stacklevel=2)
    pytest.skip("SKIPPED LOUDLY: " + why)


@pytest.fixture
def postgres_url():
    """The URL of a new, empty PostgreSQL database for this test (dropped after it)."""
    psycopg = pytest.importorskip("psycopg") if not os.environ.get("CI") else __import__("psycopg")
    base = _postgres_base_url()
    name = f"gpubo_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    yield urllib.parse.urlsplit(base)._replace(path="/" + name).geturl()
    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
