"""Tests of gpu_bo.backends: the registry, the Backend protocol, and the options a backend receives.

The backends' behaviour under failures (exceptions, NaN, timeouts, dead workers) is tested
through the run loop in test_runner.py and test_runner_processes.py; the Ray backend in
test_ray.py.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest

import gpu_bo as gb
from gpu_bo.backends import BACKENDS, Backend, BackendOptions, get_backend, register_backend
from gpu_bo.backends.local import ProcessBackend, SerialBackend, ThreadBackend
from gpu_bo.objectives import execute_trial
from gpu_bo.runner import RunOptions

SPACE = {"x": (0.0, 1.0), "y": (0.0, 1.0)}
FAST = RunOptions(n_initial=100)  # quasi-random suggestions only: no GP fit


def quad(p):
    return (p["x"] - 0.3) ** 2 + (p["y"] - 0.6) ** 2


class ListBackend:
    """A minimal custom backend, not inheriting from anything: runs each trial in ``wait``."""

    made: list[ListBackend] = []

    def __init__(self, objective, n_workers, options):
        self.objective, self.n_workers, self.options = objective, n_workers, options
        self.tasks, self.started, self.stopped = [], False, None
        type(self).made.append(self)

    def start(self):
        self.started = True

    def free_slots(self):
        return self.n_workers - len(self.tasks)

    def submit(self, task):
        self.tasks.append(task)

    def wait(self, timeout):
        done, self.tasks = self.tasks, []
        return [execute_trial(self.objective, t) for t in done]

    def cancel(self, number):
        self.tasks = [t for t in self.tasks if t.number != number]

    def shutdown(self, kill=False):
        self.stopped = kill


@pytest.fixture
def listed():
    ListBackend.made = []
    register_backend("listed", ListBackend)
    yield ListBackend
    BACKENDS.pop("listed", None)


def test_a_registered_backend_runs_a_study_by_name(listed):
    study = gb.optimize(quad, SPACE, 6, backend="listed", n_workers=3, seed=0, progress=False, options=FAST)
    assert len(study.trials) == 6 and all(t.state == gb.TrialState.COMPLETE for t in study.trials)
    (be,) = listed.made
    assert be.started and be.stopped is True and be.n_workers == 3
    assert get_backend("listed") is ListBackend
    assert isinstance(be, Backend)  # the protocol is structural: no inheritance needed


def test_a_backend_class_can_be_passed_directly():
    ListBackend.made = []
    study = gb.optimize(quad, SPACE, 3, backend=ListBackend, seed=0, progress=False, options=FAST)
    assert len(study.trials) == 3 and len(ListBackend.made) == 1
    assert "ListBackend" not in BACKENDS


def test_the_backend_receives_backend_options_built_from_the_run(listed):
    opts = RunOptions(n_initial=100, start_method="spawn", worker_threads=3,
                      backend_kwargs={"address": "ray://nowhere:1"})
    gb.optimize(quad, SPACE, 2, backend="listed", n_workers=2, trial_timeout=7.5, seed=0, progress=False,
                options=opts)
    got = listed.made[0].options
    assert type(got) is BackendOptions
    assert got == BackendOptions(trial_timeout=7.5, start_method="spawn", worker_threads=3,
                                 backend_kwargs={"address": "ray://nowhere:1"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.trial_timeout = 1.0  # frozen: a backend cannot change the run's options


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="backend: got 'nope'") as info:
        get_backend("nope")
    for name in ("serial", "thread", "process", "ray"):
        assert repr(name) in str(info.value)
    with pytest.raises(ValueError, match="backend: got 'nope'"):
        gb.optimize(quad, SPACE, 2, backend="nope", progress=False)
    with pytest.raises(ValueError, match="backend: got 3"):
        get_backend(3)


def test_built_in_names_and_their_classes():
    assert get_backend("serial") is SerialBackend
    assert get_backend("thread") is ThreadBackend
    assert get_backend("process") is ProcessBackend
    for cls in (SerialBackend, ThreadBackend, ProcessBackend):
        assert issubclass(cls, Backend)


def test_register_backend_checks_its_arguments():
    with pytest.raises(TypeError, match="lacks the method"):
        register_backend("broken", object)

    class NoStart:
        def free_slots(self): ...
        def submit(self, task): ...
        def wait(self, timeout): ...
        def cancel(self, number): ...
        def shutdown(self, kill=False): ...

    with pytest.raises(TypeError, match=r"\['start'\]"):
        register_backend("nostart", NoStart)
    with pytest.raises(ValueError, match="name: got ''"):
        register_backend("", ListBackend)
    assert "broken" not in BACKENDS and "nostart" not in BACKENDS


def test_subclassing_the_protocol_gives_the_constructor_and_no_op_lifecycle():
    class Mine(Backend):
        def free_slots(self):
            return 1

    be = Mine(quad, 2, BackendOptions())
    assert (be.objective, be.n_workers, be.options) == (quad, 2, BackendOptions())
    assert be.start() is None and be.shutdown(kill=True) is None
    with pytest.raises(NotImplementedError):
        be.submit(None)


def test_ray_is_resolved_lazily_and_a_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.delitem(BACKENDS, "ray", raising=False)
    monkeypatch.delitem(sys.modules, "gpu_bo.backends.ray", raising=False)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ValueError, match=r"pip install 'gpu-bo\[ray\]'"):
        get_backend("ray")
    assert "ray" not in BACKENDS


def _imported(path):
    """Every gpu_bo module a file imports (module level or lazily), read with ast."""
    out = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return {m for m in out if m.startswith("gpu_bo")}


@pytest.mark.parametrize("file", ["__init__.py", "local.py", "ray.py"])
def test_backends_never_import_the_runner_or_integrations(file):
    path = Path(importlib.util.find_spec("gpu_bo.backends").origin).with_name(file)  # Ray not imported
    bad = {m for m in _imported(path) if m.startswith(("gpu_bo.runner", "gpu_bo.integrations"))}
    assert not bad, f"gpu_bo/backends/{file} imports {bad}"
