from __future__ import annotations

import pytest
import torch

import gpu_bo as gb
from gpu_bo.device import cpu_threads, is_oom, resolve_device, resolve_dtype


def test_auto_picks_cuda_only_when_usable():
    dev = resolve_device("auto")
    assert dev.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("bad", ["tpu", "gpu0", 3.5])
def test_bad_device_is_named(bad):
    with pytest.raises(ValueError, match="device"):
        resolve_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful without a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no usable CUDA"):
        resolve_device("cuda")


def test_dtype_default_is_float64():
    assert resolve_dtype(None) is torch.float64
    assert resolve_dtype("float32") is torch.float32
    with pytest.raises(ValueError, match="dtype"):
        resolve_dtype("int8")


def test_cpu_threads_caps_and_restores():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with cpu_threads(torch.device("cpu"), n_obs=100):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with cpu_threads(torch.device("cpu"), n_obs=100_000):
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_is_oom():
    assert is_oom(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert is_oom(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert not is_oom(RuntimeError("shape mismatch"))


def test_optimizer_tensors_live_on_its_device():
    opt = gb.Optimizer({"x": (0.0, 1.0), "y": (0.0, 1.0)}, device="cpu", seed=0, n_initial=3)
    for _ in range(4):
        p = opt.ask()
        opt.tell(p, p["x"] + p["y"])
    assert opt.device.type == "cpu" and opt.last_suggestion_info["device"] == "cpu"
