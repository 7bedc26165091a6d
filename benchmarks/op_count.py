"""Tensor ops (aten dispatches) per Adam step of the GP fit and per refinement step (issue 22.2).

On CUDA each aten op is at least one kernel launch, and small GP work is bound by launches,
not flops, so the op count per step is the CPU-measurable proxy for a GPU step's cost. Counted
with a ``TorchDispatchMode`` (no CUDA needed): the ops of ``k`` steps minus those of one step,
divided by ``k - 1``, so setup ops (the optimizer's state, the starts) are left out.

Usage::

    python benchmarks/op_count.py             # writes benchmarks/results/op_count.{md,json}
    python benchmarks/op_count.py --smoke     # tiny sizes (tests, gpu_run.sh's dry run)
"""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR, markdown_table, run_header, write_json, write_text  # noqa: E402

__all__ = ["OpCounter", "count_ops", "fit_ops_per_step", "refine_ops_per_step", "main"]


class OpCounter(TorchDispatchMode):
    """Counts every aten op dispatched inside the ``with`` block, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: collections.Counter[str] = collections.Counter()
        self.views = 0  # ops that only make a view (unsqueeze, permute, ...): no kernel launch

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.counts[str(func.overloadpacket.__name__)] += 1
        self.views += bool(getattr(func, "is_view", False))
        return func(*args, **(kwargs or {}))

    @property
    def total(self) -> int:
        """Every op counted, views included."""
        return sum(self.counts.values())

    @property
    def kernels(self) -> int:
        """The ops that are not views (each at least one kernel launch on CUDA)."""
        return self.total - self.views


def count_ops(fn: Callable[[], Any]) -> OpCounter:
    """Run ``fn()`` under an :class:`OpCounter` and return the counter.

    Args:
        fn: the work to count.
    """
    with OpCounter() as c:
        fn()
    return c


def _per_step(run: Callable[[int], Any], k: int = 4) -> tuple[dict[str, float], collections.Counter[str]]:
    one, many = count_ops(lambda: run(1)), count_ops(lambda: run(k))
    diff = collections.Counter({op: (many.counts[op] - one.counts[op]) / (k - 1) for op in many.counts})
    return {"ops": (many.total - one.total) / (k - 1), "kernels": (many.kernels - one.kernels) / (k - 1)}, +diff


def _data(n: int, d: int, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    X = torch.rand(n, d, generator=g, dtype=dtype)
    return X, (torch.sin(6 * X).sum(-1) + X.square().sum(-1)).to(dtype)


def fit_ops_per_step(n: int = 64, d: int = 6, restarts: int = 4) -> tuple[dict[str, float], collections.Counter[str]]:
    """Aten ops per Adam step of the hyperparameter fit (closed-form gradient, as on CUDA).

    Args:
        n: training points.
        d: input dimensions.
        restarts: restarts fitted as one batch.

    Returns:
        ``{"ops", "kernels"}`` per step (all ops; those that are not views) and the breakdown by op.
    """
    from gpu_bo.surrogate import fit as F
    from gpu_bo.surrogate.fit import pairwise_sq_diffs, standardize

    X, y = _data(n, d)
    ys = standardize(y)[2]
    D = pairwise_sq_diffs(X, ())
    raw0 = F._initial_raw(d, restarts, None, torch.Generator().manual_seed(0), X.device, X.dtype)

    def run(steps: int) -> None:
        F._run_adam(raw0, None, steps, 0.05, lambda r: F._neg_log_post_grad(r, D, ys, 0.0))

    return _per_step(run)


def refine_ops_per_step(n: int = 64, d: int = 6, starts: int = 8) -> tuple[dict[str, float], collections.Counter[str]]:
    """Aten ops per Adam step of the acquisition's refinement (log EI, closed-form gradient).

    Args:
        n: training points of the GP.
        d: input dimensions.
        starts: starts refined at once.

    Returns:
        ``{"ops", "kernels"}`` per step (all ops; those that are not views) and the breakdown by op.
    """
    import dataclasses

    from gpu_bo.acquisition.analytic import AnalyticAcq
    from gpu_bo.maximize import MaximizeOptions, _adam_ascent
    from gpu_bo.surrogate import fit_gp

    X, y = _data(n, d)
    gp = fit_gp(X, y)
    acq = AnalyticAcq(gp, "ei", float(gp.y.max()), 0.0, 2.0)
    x0 = torch.rand(starts, d, generator=torch.Generator().manual_seed(1), dtype=X.dtype)
    free = torch.ones(d, dtype=X.dtype)

    def run(steps: int) -> None:
        _adam_ascent(acq, x0, free, 0.0, 1.0, dataclasses.replace(MaximizeOptions(), steps=steps))

    return _per_step(run)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Count and write ``op_count.{json,md}`` to ``--out``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes only")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--note", default="")
    a = ap.parse_args(argv)
    sizes = [16] if a.smoke else [64, 256]
    header = run_header("benchmarks/op_count.py", "smoke" if a.smoke else "full", {"sizes": sizes}, note=a.note)
    res: dict[str, Any] = {"fit": {}, "refine": {}}
    rows = []
    for n in sizes:
        for part, fn in (("fit", fit_ops_per_step), ("refine", refine_ops_per_step)):
            per, by = fn(n=n)
            res[part][str(n)] = {"ops_per_step": per["ops"], "kernel_ops_per_step": per["kernels"], "by_op": dict(by)}
            top = ", ".join(f"{op} {c:g}" for op, c in by.most_common(6))
            rows.append([part, n, f"{per['ops']:g}", f"{per['kernels']:g}", top])
    header.finish()
    write_json(a.out / "op_count.json", {"header": header.as_dict(), "results": res})
    text = ["# Tensor ops per step (issue 22.2)", "", header.markdown(), "",
            "Aten ops dispatched per Adam step of the GP fit (4 restarts, d = 6, closed-form gradient, the "
            "CUDA fit's path) and per refinement step of the acquisition's maximization (log EI, 8 starts, "
            "d = 6). On CUDA each is at least one kernel launch; the count does not depend on n.", "",
            markdown_table(["loop", "n", "ops per step", "non-view ops (launches)", "largest shares"], rows)]
    write_text(a.out / "op_count.md", "\n".join(text) + "\n")
    print("\n".join(text[4:]))
    return res


if __name__ == "__main__":
    main()
