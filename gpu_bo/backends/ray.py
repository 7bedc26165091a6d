"""The ``"ray"`` backend of :func:`gpu_bo.optimize`: each trial runs as one Ray task.

The optimizer stays in the driver process; Ray's scheduler places the trials on the cluster
(nothing here is home-made cluster code). Registered in :mod:`gpu_bo.backends` under
``"ray"`` and imported on first use, since Ray is an extra (``pip install 'gpu-bo[ray]'``).
The Ray Tune searcher is :mod:`gpu_bo.integrations.ray_tune`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import sysconfig
import time
import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

try:
    import ray
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError("gpu_bo.backends.ray needs Ray: pip install 'gpu-bo[ray]' (or 'ray')") from e

from gpu_bo.exceptions import GpuBoWarning
from gpu_bo.objectives import TrialResult, TrialTask, execute_trial
from gpu_bo.pruning import LocalPruning

if TYPE_CHECKING:  # gpu_bo.backends imports this module; the options type is only for hints
    from gpu_bo.backends import BackendOptions

__all__ = ["RayBackend", "RayPruning", "RayPruningClient", "default_resources", "modules_to_ship"]

_RESOURCE_KEYS = ("num_cpus", "num_gpus", "memory", "resources", "accelerator_type")
_BACKEND_KEYS = ("resources_per_trial", "address", "init_kwargs")


def _run_trial(objective: Callable, task: TrialTask) -> TrialResult:
    """Body of one Ray task: run the trial on the device Ray assigned, return a TrialResult."""
    # Ray sets CUDA_VISIBLE_DEVICES to the GPU(s) it gave this task, so "cuda" is that GPU. A
    # task given no GPU trains on the CPU even on a GPU node: Ray leaves every GPU visible to
    # it, and using one would bypass Ray's accounting (and crowd the trials that own it).
    device = "cuda" if ray.get_gpu_ids() else "cpu"
    return execute_trial(objective, dataclasses.replace(task, device=device))


def _installed(top: str, module: ModuleType) -> bool:
    """Whether top-level module ``top`` is one every Ray worker can import by name: the
    standard library, or code of an installed distribution (editable installs included)."""
    import importlib.metadata

    if top in sys.builtin_module_names or top in getattr(sys, "stdlib_module_names", ()):
        return True
    if top in importlib.metadata.packages_distributions():
        return True
    origin = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", ())), None)
    if origin is None:
        return True  # built into the interpreter
    roots = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    origin = os.path.realpath(origin)
    return any(origin.startswith(os.path.realpath(r) + os.sep) for r in roots)


def modules_to_ship(objective: Callable) -> list[ModuleType]:
    """The top-level modules of ``objective`` (a function, a callable object, a
    ``functools.partial``, a bound method) that Ray workers may be unable to import: neither
    the standard library nor an installed distribution, e.g. a test file, a notebook's helper
    module, or a file next to the script that only the driver has on ``sys.path``. gpu_bo itself
    and ``__main__`` (which cloudpickle always ships by value) are never among them.

    Args:
        objective: the objective given to ``optimize``.

    Returns:
        The modules to register with cloudpickle's ``register_pickle_by_value``.
    """
    inner = [objective, type(objective), getattr(objective, "func", None), getattr(objective, "__func__", None)]
    out: dict[str, ModuleType] = {}
    for obj in inner:
        name = getattr(obj, "__module__", None)
        if not isinstance(name, str):
            continue
        top = name.partition(".")[0]
        module = sys.modules.get(top)
        if top in ("__main__", "gpu_bo", "builtins") or module is None or top in out:
            continue
        if not _installed(top, module):
            out[top] = module
    return list(out.values())


def default_resources(cluster: Mapping[str, float], n_workers: int) -> dict[str, Any]:
    """Per-trial resources when none are given: one CPU, and a fair share of the cluster's
    GPUs when it has any (``min(1, GPUs / n_workers)``: 8 workers on 4 GPUs -> 0.5 each)."""
    out: dict[str, Any] = {"num_cpus": 1}
    gpus = float(cluster.get("GPU", 0) or 0)
    if gpus > 0:
        share = min(1.0, gpus / n_workers)
        # Ray accepts fractions down to 1e-4; round down to keep n_workers shares within a GPU
        out["num_gpus"] = 1 if share >= 1.0 else math.floor(share * 1e4) / 1e4
    return out


def _check_resources(resources: Any) -> dict[str, Any]:
    if not isinstance(resources, Mapping):
        raise TypeError(
            f"resources_per_trial: got {type(resources).__name__}; expected a dict such as "
            "{'num_cpus': 1, 'num_gpus': 0.5}"
        )
    unknown = [k for k in resources if k not in _RESOURCE_KEYS]
    if unknown:
        raise ValueError(
            f"resources_per_trial: got the key(s) {unknown}; expected some of {list(_RESOURCE_KEYS)}"
        )
    for k in ("num_cpus", "num_gpus", "memory"):
        v = resources.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
            raise ValueError(f"resources_per_trial[{k!r}]: got {v!r}, expected a number >= 0")
    return dict(resources)


class _PruningActor:
    """The study's board in a Ray actor: its calls run one at a time (Ray's default for a
    synchronous actor), which is the lock."""

    def __init__(self, local: LocalPruning) -> None:
        self.local = local

    def report(self, number: int, step: int, value: float) -> None:
        self.local.report(number, step, value)

    def should_prune(self, number: int) -> bool:
        return self.local.should_prune(number)

    def finish(self, number: int, intermediate: Mapping[int, float]) -> None:
        self.local.finish(number, intermediate)


class RayPruningClient:
    """A trial's side of :class:`RayPruning` (the actor handle travels with the task).

    Args:
        actor: the handle of the board's actor.
    """

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def report(self, number: int, step: int, value: float) -> None:
        """Send one report; not awaited (Ray runs one caller's calls to an actor in order, so a
        later :meth:`should_prune` of this trial sees it)."""
        self.actor.report.remote(number, step, value)

    def should_prune(self, number: int) -> bool:
        """The actor's decision for trial ``number``."""
        return bool(ray.get(self.actor.should_prune.remote(number)))


class RayPruning:
    """The Ray backend's pruning transport (:mod:`gpu_bo.pruning`): the board moves into a small
    actor (no CPU reserved, so it takes no trial's place) that trials and the driver call.

    Args:
        local: the study's board and pruner as the driver built it (finished trials included).
    """

    def __init__(self, local: LocalPruning) -> None:
        self.actor = ray.remote(_PruningActor).options(num_cpus=0).remote(local)

    def client(self) -> RayPruningClient:
        """The client each trial's task carries."""
        return RayPruningClient(self.actor)

    def finish(self, number: int, intermediate: Mapping[int, float]) -> None:
        """See :meth:`gpu_bo.pruning.PruningService.finish` (not awaited)."""
        self.actor.finish.remote(number, dict(intermediate))

    def close(self) -> None:
        """End the actor."""
        try:
            ray.kill(self.actor)
        except Exception:  # noqa: BLE001 - Ray already shut down
            pass


class RayBackend:
    """``backend="ray"`` of :func:`gpu_bo.optimize`: each trial is one Ray task.

    The optimizer stays in the driver; up to ``n_workers`` tasks run at once wherever Ray's
    scheduler finds ``resources_per_trial`` free on the cluster. Ray sets
    ``CUDA_VISIBLE_DEVICES`` for a task that asked for GPUs, so ``trial.device`` is ``"cuda"``
    there (a fractional ``num_gpus`` shares one GPU between trials).

    Tasks run with ``max_retries=0``: an exception, a NaN, a timeout (the task is cancelled with
    ``ray.cancel(force=True)``, which kills its worker) or a worker/node that dies
    (``os._exit``, a segfault, an OOM kill, a lost node) each make one FAILED trial and the study
    goes on.

    GPUs: a trial that was given GPUs trains on them (``trial.device == "cuda"``); a trial
    given none trains on the CPU (``trial.device == "cpu"``), even on a GPU node.

    Options, through ``RunOptions(backend_kwargs={...})`` (they reach the backend as
    ``BackendOptions.backend_kwargs``):
        resources_per_trial: Ray resources of one trial, e.g. ``{"num_cpus": 2, "num_gpus":
            0.5}``. Default: one CPU, plus ``min(1, GPUs / n_workers)`` of a GPU when the
            cluster has GPUs (see :func:`default_resources`).
        address: passed to ``ray.init`` when Ray is not initialized yet (``None``: connect to a
            cluster started on this machine with ``ray start``, or ``RAY_ADDRESS``, else start a
            local Ray; ``"ray://host:10001"``: a remote cluster).
        init_kwargs: more ``ray.init`` arguments (e.g. ``{"runtime_env": {"working_dir": "."}}``
            so that workers on other nodes can import the modules the objective imports).

    The objective's own module is shipped by value when it is neither the standard library nor
    an installed distribution (see :func:`modules_to_ship`), so an objective defined in a test
    file, a notebook's module or a file that only the driver has on ``sys.path`` runs on the
    workers (with the rest of its top-level package); other packages it imports must still be
    importable there.
    """

    def __init__(self, objective: Callable, n_workers: int, options: BackendOptions) -> None:
        self.objective = objective
        self.n_workers = n_workers
        self.options = options
        kw = dict(getattr(options, "backend_kwargs", None) or {})
        unknown = [k for k in kw if k not in _BACKEND_KEYS]
        if unknown:
            raise ValueError(
                f"backend_kwargs: got the key(s) {unknown} for backend='ray'; expected some of "
                f"{list(_BACKEND_KEYS)}"
            )
        given = kw.get("resources_per_trial")
        self.resources = None if given is None else _check_resources(given)
        self.address = kw.get("address")
        self.init_kwargs = dict(kw.get("init_kwargs") or {})
        self._running: dict[Any, int] = {}  # ObjectRef -> trial number
        self._remote = None
        self._objective_ref = None
        self._by_value: list[ModuleType] = []  # registered with cloudpickle by this backend
        self._pruning: RayPruning | None = None

    def start(self) -> None:
        """Connect to (or start) Ray and ship the objective to the object store once."""
        if not ray.is_initialized():
            ray.init(address=self.address, **self.init_kwargs)
        if self.resources is None:
            self.resources = default_resources(ray.cluster_resources(), self.n_workers)
        self._warn_if_infeasible()
        self._ship_by_value()
        try:
            self._objective_ref = ray.put(self.objective)
        except Exception as e:  # noqa: BLE001 - cloudpickle raises many kinds
            raise TypeError(
                f"objective: {self.objective!r} cannot be sent to Ray workers ({type(e).__name__}: "
                f"{e}); it must be picklable by cloudpickle"
            ) from e
        self._remote = ray.remote(_run_trial).options(
            max_retries=0, retry_exceptions=False, name="gpu_bo-trial", **self.resources
        )

    def _ship_by_value(self) -> None:
        """Pickle the objective's own modules by value when workers may not import them (issue 15:
        every trial of an objective defined in a test file or a notebook's module failed with
        ModuleNotFoundError). Until :meth:`shutdown`, for the objective and each trial's task."""
        from ray import cloudpickle

        known = set(cloudpickle.list_registry_pickle_by_value())
        for module in modules_to_ship(self.objective):
            if module.__name__ not in known:
                cloudpickle.register_pickle_by_value(module)
                self._by_value.append(module)

    def _warn_if_infeasible(self) -> None:
        """Warn when the cluster has less of a resource than one trial asks for (the tasks
        would wait until such a node joins, e.g. through the autoscaler)."""
        have = ray.cluster_resources()
        res = self.resources or {}
        want = {"CPU": res.get("num_cpus") or 0, "GPU": res.get("num_gpus") or 0}
        want.update(res.get("resources") or {})
        short = {k: v for k, v in want.items() if v and have.get(k, 0) < v}
        if short:
            warnings.warn(
                f"resources_per_trial asks for {short} but the Ray cluster has "
                f"{ {k: have.get(k, 0) for k in short} }; trials wait until a node with them joins",
                GpuBoWarning, stacklevel=3,
            )

    def free_slots(self) -> int:
        return self.n_workers - len(self._running)

    def pruning_service(self, local: LocalPruning) -> RayPruning:
        """The pruning transport: the board in a Ray actor (:class:`RayPruning`)."""
        self._pruning = RayPruning(local)
        return self._pruning

    def submit(self, task: TrialTask) -> None:
        ref = self._remote.remote(self._objective_ref, task)
        self._running[ref] = task.number

    def wait(self, timeout: float | None) -> list[TrialResult]:
        """Block until a trial finished (or ``timeout`` s); return the finished trials' results."""
        if not self._running:
            if timeout:
                time.sleep(timeout)
            return []
        refs = list(self._running)
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:  # take every other trial that is done too
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        out = []
        for ref in ready:
            number = self._running.pop(ref)
            try:
                res = ray.get(ref)
            except ray.exceptions.TaskCancelledError:
                continue
            except ray.exceptions.RayTaskError as e:  # not raised by the objective (that is caught)
                res = TrialResult(number, "FAILED", error=f"the Ray task failed: {e}")
            except ray.exceptions.RayError as e:  # a worker or node died, an object was lost
                res = TrialResult(
                    number, "FAILED",
                    error=f"the Ray worker running the trial died ({type(e).__name__}): {e}",
                )
            out.append(res)
        return out

    def cancel(self, number: int) -> None:
        """Stop a trial past its timeout: ``ray.cancel(force=True)`` kills its worker."""
        for ref, n in list(self._running.items()):
            if n == number:
                del self._running[ref]
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - already finished or gone
                    pass

    def shutdown(self, kill: bool = False) -> None:
        """Wait for (``kill=False``) or cancel (``kill=True``) what still runs.

        Ray itself stays up (as after a Tune run), so a next study reuses its workers.
        """
        if not kill and self._running:
            ray.wait(list(self._running), num_returns=len(self._running), timeout=None)
        for ref in list(self._running):
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - best effort
                pass
        self._running.clear()
        self._objective_ref = None
        if self._pruning is not None:
            self._pruning.close()
            self._pruning = None
        from ray import cloudpickle

        for module in self._by_value:
            cloudpickle.unregister_pickle_by_value(module)
        self._by_value = []

