"""One suggestion in a large mixed space while screening up to a million candidates (issue 7, part 3).

The space: 30 parameters, 10 categoricals of 5 to 20 choices, 10 integers and 10 reals (the
issue's mixed-space shape); ``n`` observations of a fixed random function of them. For each
``raw_samples`` (candidates screened before the local search over discrete neighbours) it
times ``tell + ask()`` steps like suggest_latency.py and reports the peak GPU memory. The
regret side of the mixed-space target is benchmarks/mixed_space.py's.

    python benchmarks/million_candidates.py                       # CUDA: 65,536 and 1,000,000
    python benchmarks/million_candidates.py --device cpu --raw-samples 2048 65536
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gpu_bo as gb  # noqa: E402
from benchmarks.common import markdown_table, run_header, write_json, write_text  # noqa: E402
from gpu_bo.maximize import MaximizeOptions  # noqa: E402
from gpu_bo.optimizer import OptimizerOptions  # noqa: E402


def mixed_space() -> gb.Space:
    dims: dict = {}
    for i in range(10):
        dims[f"c{i}"] = gb.Categorical([f"v{j}" for j in range(5 + (15 * i) // 9)])  # 5 .. 20 choices
    for i in range(10):
        dims[f"i{i}"] = gb.Integer(0, 10 + 10 * i)
    for i in range(10):
        dims[f"r{i}"] = gb.Real(1e-3, 1.0, log=i % 2 == 0)
    return gb.Space(dims)


def objective(space: gb.Space, seed: int = 0):
    """A fixed random function of the encoded point (timing only: its optimum is not needed)."""
    g = np.random.default_rng(seed)
    w = g.normal(size=space.d)
    c = g.random(space.d)

    def f(p: dict) -> float:
        x = space.encode([p])[0].cpu().numpy()
        return float(np.sum(w * np.cos(3 * (x - c))) + 0.1 * np.sum((x - c) ** 2))
    return f


def measure(raw: int, n: int, device: str, repeats: int) -> dict:
    space = mixed_space()
    f = objective(space)
    # the device's default budgets with only the number of screened candidates changed
    mopts = dataclasses.replace(MaximizeOptions.for_device(torch.device(device)), raw_samples=raw)
    opt = gb.Optimizer(space, seed=0, n_initial=10, device=device, options=OptimizerOptions(maximize=mopts))
    pts = space.sample_params(n, seed=1)
    opt.tell(pts, [f(p) for p in pts])
    times, peak = [], None
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        p = opt.ask()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
            peak = max(peak or 0, torch.cuda.max_memory_allocated() / 2**20)
        times.append(time.perf_counter() - t0)
        opt.tell(p, f(p))
    return {"raw_samples": raw, "n": n, "device": device, "times": times, "median": statistics.median(times),
            "peak_mb": peak, "fit_seconds": (opt.last_suggestion_info or {}).get("fit_seconds")}


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--raw-samples", type=int, nargs="+", default=None)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    raws = a.raw_samples or ([65536, 1_000_000] if a.device.startswith("cuda") else [2048, 65536])
    header = run_header("benchmarks/million_candidates.py", a.device, vars(a) | {"raw_samples": raws})
    measure(raws[0], 20, a.device, 1)  # warm-up: imports, CUDA context, first-call compilation
    rows = []
    for raw in raws:
        r = measure(raw, a.n, a.device, a.repeats)
        rows.append(r)
        print(f"[million] raw_samples={raw:,} n={a.n} {a.device}: {r['median']:.3f} s, peak {r['peak_mb']} MB",
              flush=True)
    header.finish()
    md = ["# One suggestion in a 30-parameter mixed space, by candidates screened", "", header.markdown(), "",
          markdown_table(["raw_samples", "n", "device", "median s", "steps (s)", "peak GPU MB"],
                         [[f"{r['raw_samples']:,}", r["n"], r["device"], f"{r['median']:.3f}",
                           ", ".join(f"{t:.3f}" for t in r["times"]),
                           "n/a (CPU)" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"] for r in rows]), ""]
    if a.out:
        write_json(a.out / "million_candidates.json", {"header": header.as_dict(), "rows": rows})
        write_text(a.out / "million_candidates.md", "\n".join(md))
    print("\n".join(md))
    return rows


if __name__ == "__main__":
    main()
