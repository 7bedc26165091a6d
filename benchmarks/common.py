"""Shared helpers of the benchmark scripts: machine record, statistics, timing, result files.

Every result file carries the machine it ran on (CPU model, cores, GPU or none), the package
versions, the date and the load average before and after the run (so a table taken while other
processes shared the CPU says so).
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import math
import os
import platform
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RESULTS_DIR", "machine_info", "versions", "run_header", "median_iqr", "fmt_stat",
    "write_json", "write_text", "PeakMemory", "markdown_table", "fmt_seconds", "parallel_map",
    "METHOD_COST", "timed_loop",
]

RESULTS_DIR = Path(__file__).resolve().parent / "results"

_PACKAGES = ("gpu_bo", "torch", "botorch", "gpytorch", "optuna", "skopt", "bayes_opt",
             "sklearn", "numpy", "scipy", "greenlet")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """CPU model, logical/physical cores, memory, GPU (or ``"none"``), OS and Python."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        import psutil

        info["physical_cores"] = psutil.cpu_count(logical=False)
        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # psutil is a bench extra; the record just gets shorter without it
        pass
    try:
        import torch

        info["torch_threads_default"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["cuda"] = torch.version.cuda
        else:
            info["gpu"] = "none"
    except ImportError:
        info["gpu"] = "unknown (torch missing)"
    return info


def versions() -> dict[str, str | None]:
    """Installed versions of gpu_bo and its peers (``None`` where not installed)."""
    out: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            mod = importlib.import_module(name)
            out[name] = str(getattr(mod, "__version__", "?"))
        except Exception:  # noqa: BLE001 - a broken optional peer must not stop the record
            out[name] = None
    return out


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


@dataclass
class RunRecord:
    """What every result file starts with; ``finish()`` stamps the end."""

    script: str
    mode: str
    settings: dict[str, Any]
    started: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    machine: dict[str, Any] = field(default_factory=machine_info)
    versions: dict[str, str | None] = field(default_factory=versions)
    loadavg_start: list[float] | None = field(default_factory=_loadavg)
    finished: str | None = None
    loadavg_end: list[float] | None = None
    note: str = ""

    def finish(self) -> None:
        self.finished = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        self.loadavg_end = _loadavg()

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def markdown(self) -> str:
        """A short header block for the markdown tables."""
        m = self.machine
        cores = f"{m.get('logical_cores')} logical"
        if m.get("physical_cores"):
            cores += f" / {m['physical_cores']} physical"
        vers = ", ".join(f"{k} {v}" for k, v in self.versions.items() if v is not None)
        lines = [
            f"- Run: `{self.script}` mode `{self.mode}`, started {self.started}, finished {self.finished}",
            f"- Machine: {m.get('cpu')} ({cores} cores, {m.get('memory_gb', '?')} GB); GPU: {m.get('gpu')}",
            f"- Load average (1/5/15 min) at start {self.loadavg_start}, at end {self.loadavg_end}",
            f"- Versions: Python {m.get('python')}, {vers}",
            f"- Settings: `{json.dumps(self.settings, default=str)}`",
        ]
        if self.note:
            lines.append(f"- Note: {self.note}")
        return "\n".join(lines)


def run_header(script: str, mode: str, settings: dict[str, Any], note: str = "") -> RunRecord:
    """Start the record of one benchmark run."""
    return RunRecord(script=script, mode=mode, settings=settings, note=note)


def median_iqr(values: Sequence[float]) -> tuple[float, float, float]:
    """Median, 25th and 75th percentile of the finite ``values`` (NaNs when there are none)."""
    arr = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if arr.size == 0:
        return math.nan, math.nan, math.nan
    q25, med, q75 = np.percentile(arr, [25, 50, 75])
    return float(med), float(q25), float(q75)


def _fmt_num(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 1000 or ax < 1e-3:
        return f"{x:.2e}"
    if ax >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def fmt_stat(values: Sequence[float]) -> str:
    """``median [q25, q75]`` of the values, compactly formatted."""
    med, lo, hi = median_iqr(values)
    if not math.isfinite(med):
        return "n/a"
    return f"{_fmt_num(med)} [{_fmt_num(lo)}, {_fmt_num(hi)}]"


def fmt_seconds(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if x < 1:
        return f"{x * 1000:.0f} ms"
    return f"{x:.2f} s"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    return x


def write_json(path: Path, payload: Any) -> Path:
    """Write ``payload`` as strict JSON (NaN -> null) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(payload), indent=1, default=str) + "\n", encoding="utf-8")
    return path


def write_text(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


class PeakMemory:
    """Peak memory of a block: ``torch.cuda.max_memory_allocated`` on CUDA, peak RSS on the CPU.

    The CPU peak is sampled by a background thread every ``interval`` seconds (psutil), so very
    short spikes can be missed; ``peak_mb`` is the absolute peak RSS of the process and
    ``delta_mb`` its rise above the RSS at the start of the block.
    """

    def __init__(self, cuda: bool = False, interval: float = 0.005) -> None:
        self.cuda = cuda
        self.interval = interval
        self.peak_mb: float | None = None
        self.delta_mb: float | None = None
        self._stop = threading.Event()

    @contextmanager
    def measure(self) -> Iterator[PeakMemory]:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            try:
                yield self
            finally:
                torch.cuda.synchronize()
                peak = torch.cuda.max_memory_allocated()
                self.peak_mb = peak / 2**20
                self.delta_mb = (peak - base) / 2**20
            return
        try:
            import psutil
        except ImportError:
            yield self
            return
        proc = psutil.Process()
        base = proc.memory_info().rss
        peak = [base]
        self._stop.clear()

        def sample() -> None:
            while not self._stop.is_set():
                peak[0] = max(peak[0], proc.memory_info().rss)
                self._stop.wait(self.interval)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        try:
            yield self
        finally:
            self._stop.set()
            t.join()
            peak[0] = max(peak[0], proc.memory_info().rss)
            self.peak_mb = peak[0] / 2**20
            self.delta_mb = (peak[0] - base) / 2**20


def add_timing_args(ap: Any) -> None:
    """The flags scaling.py and suggest_latency.py share (after their own grid flags)."""
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--cap", type=float, help="seconds; a slower step stops the method at this cell")
    ap.add_argument("--methods", nargs="+", help="labels or method names to keep")
    ap.add_argument("--no-cuda", action="store_true")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--note", default="")


# thread-count variables of the BLAS/OpenMP runtimes torch and numpy load; a spawned worker
# reads them when it first imports torch, so they are set in the parent before it spawns
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _one_thread_worker() -> None:
    """Pool initializer: one compute thread per worker (N workers share N cores)."""
    for k in _THREAD_ENV:
        os.environ[k] = "1"
    import torch

    torch.set_num_threads(1)


def parallel_map(fn: Callable[[Any], Any], items: Sequence[Any], jobs: int = 1,
                 on_result: Callable[[int, Any], None] | None = None,
                 cost: Callable[[Any], float] | None = None) -> list[Any]:
    """``[fn(x) for x in items]``, in ``jobs`` worker processes when ``jobs > 1``.

    Workers are started with the ``spawn`` context (no forked torch/OpenMP state) and run one
    compute thread each. ``fn`` must be a module-level function and ``items`` picklable.
    The results come back in the order of ``items`` whatever order they finish in;
    ``on_result(index, result)`` is called as each one finishes (progress lines). ``cost``
    (an estimate per item) makes the pool start the dearest items first, so one slow item
    started last does not set the wall time.
    """
    items = list(items)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: got {jobs!r}, expected an int >= 1")
    if jobs == 1 or len(items) <= 1:
        out = []
        for i, x in enumerate(items):
            out.append(fn(x))
            if on_result is not None:
                on_result(i, out[-1])
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    saved = {k: os.environ.get(k) for k in _THREAD_ENV}
    os.environ.update({k: "1" for k in _THREAD_ENV})  # inherited by the spawned workers
    results: list[Any] = [None] * len(items)
    try:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=ctx,
                                 initializer=_one_thread_worker) as ex:
            order = list(range(len(items)))
            if cost is not None:
                order.sort(key=lambda i: -cost(items[i]))  # stable: ties keep the serial order
            futures = {ex.submit(fn, items[i]): i for i in order}
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                if on_result is not None:
                    on_result(i, results[i])
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return results


# rough relative cost of one run per method (start the slow ones first in a pool)
METHOD_COST = {"optuna_gp": 10.0, "botorch": 8.0, "skopt_gp": 6.0, "bayes_opt": 4.0, "gpu_bo": 3.0,
               "gpu_bo_tr": 3.0, "gpu_bo_screen": 2.0, "optuna_tpe": 1.0, "random": 0.1}


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``fn`` and return its result and wall time in seconds."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def timed_loop(adapter: Any, budget: int, evaluate: Callable[[dict[str, Any]], float], rec: dict[str, Any]) -> None:
    """``budget`` sequential ask / evaluate / tell steps of a benchmark adapter, recorded in ``rec``:
    ``values`` and ``method_seconds`` (ask + tell) always, ``params`` and ``objective_seconds``
    when ``rec`` has them. The adapter's optimizer is told the budget first, as
    ``gb.optimize(n_trials=budget)`` tells it (its local phase)."""
    if hasattr(getattr(adapter, "opt", None), "budget"):
        adapter.opt.budget = budget
    for _ in range(budget):
        t0 = time.perf_counter()
        p = adapter.ask(1)[0]
        t1 = time.perf_counter()
        v = evaluate(p)
        t2 = time.perf_counter()
        adapter.tell([p], [v])
        t3 = time.perf_counter()
        rec["values"].append(v)
        rec["method_seconds"].append((t1 - t0) + (t3 - t2))
        if "params" in rec:
            rec["params"].append(p)
        if "objective_seconds" in rec:
            rec["objective_seconds"] += t2 - t1
