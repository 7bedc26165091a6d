from __future__ import annotations

import traceback

import pytest
import torch
from torch.overrides import TorchFunctionMode

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


class _ImplicitDeviceSpy(TorchFunctionMode):
    """Records tensor factories called from gpu_bo without ``device=``.

    ``torch.set_default_device("cuda")`` works through the same hook and fills in the device of
    exactly these calls: such a call then lands on the GPU next to a CPU generator or CPU data
    (the first H200 run of the core tests failed this way in surrogate._initial_raw).
    """

    FACTORIES = {torch.zeros, torch.ones, torch.empty, torch.full, torch.rand, torch.randn, torch.randint,
                 torch.randperm, torch.arange, torch.tensor, torch.linspace, torch.eye, torch.as_tensor}

    def __init__(self) -> None:
        super().__init__()
        self.bad: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.FACTORIES and kwargs.get("device") is None:
            if func is torch.as_tensor and args and isinstance(args[0], torch.Tensor):
                return func(*args, **kwargs)  # keeps its tensor's device
            caller = traceback.extract_stack(limit=3)[-2]
            if "/gpu_bo/" in caller.filename or "/kernels/" in caller.filename:
                self.bad.append(f"{caller.filename}:{caller.lineno}: {caller.line}")
        return func(*args, **kwargs)


@pytest.mark.parametrize("strategy", ["global", "trust_region"])
def test_every_tensor_gpu_bo_creates_names_its_device(strategy):
    space = {"x": (0.0, 1.0), "lr": gb.Real(1e-4, 1.0, log=True), "n": (1, 20), "c": ["a", "b", "c"]}
    opt = gb.Optimizer(space, seed=0, n_initial=4, device="cpu", strategy=strategy)
    spy = _ImplicitDeviceSpy()
    f = lambda p: (p["x"] - 0.3) ** 2 + (p["c"] == "b") + p["n"] / 20  # noqa: E731
    with spy:
        for _ in range(6):
            p = opt.ask()
            opt.tell(p, f(p))
        batch = opt.ask(n=3)
        opt.tell(batch[:2], [f(p) for p in batch[:2]])
        opt.tell(batch[2], float("nan"))
        again = gb.Optimizer(space, seed=0, device="cpu")
        again.load_state_dict(opt.state_dict())
        again.ask()
    assert not spy.bad, "tensor factories without device=:\n" + "\n".join(sorted(set(spy.bad)))
