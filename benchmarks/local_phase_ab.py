"""Issue 23, item 3: the local exploitation phase and the escape rule against gpu_bo's default.

Every variant runs the same problems and seeds (benchmarks/quality.py's
``run_one``; the variants are gpu_bo adapters, benchmarks/peers.py's ``GpuBo`` with
``OptimizerOptions.local_phase`` set):

- ``default``: gpu_bo before issue 23 (``local_phase=None``);
- ``local``: the local phase on a stall of 5 evaluations with 100 refinement steps
  (``LocalPhaseOptions(stall=5, late_fraction=0, steps=100)``), no escape;
- ``escape``: the same and the escape rule every other suggestion after 8 evaluations without
  a significant improvement, searching far from the incumbent (``escape="far"``);
- ``restart``: the same with ``escape="restart"`` (a box around the best observed point far
  from the incumbent);
- ``explore``: the same with ``escape="explore"`` (the quasi-random point farthest from the data);
- ``late``: the local phase in the last 20% of the budget only (the budget told to the
  optimizer), no stall trigger and no escape, 100 refinement steps;
- ``late30``: the same with the global search's 30 steps: ``LocalPhaseOptions()``, the new
  default.

Problems: Hartmann6 at 50 evaluations over seeds 10-39 ("stuck": final regret > 0.05, its
second basin's regret is about 0.12), Rosenbrock 6-d at 50, a 5-d separable ellipsoid
(BBOB f2-like, ``sum 10^(6 (i-1)/(d-1)) z_i^2`` on [-5, 5]^5 with a shifted optimum) at 60,
Branin and Ackley-10 at 50; 10 seeds each where not said. Cells: median [IQR] final regret
(log10 for Rosenbrock and the ellipsoid). ``--latency`` times ``ask`` at n = 50 and 200 with
and without the phase (forced into its local and escape phases).

Every finished run is appended to ``--out``/local_phase_ab.jsonl (a working file, not
committed), so an interrupted run keeps what it did and ``--report`` rebuilds the tables from
it (or, without it, from the runs in local_phase_ab.json).

Usage::

    python benchmarks/local_phase_ab.py --jobs 2
    python benchmarks/local_phase_ab.py --problems hartmann6 --variants default escape --jobs 2
    python benchmarks/local_phase_ab.py --report
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gpu_bo as gb  # noqa: E402
from benchmarks import peers  # noqa: E402
from benchmarks.common import RESULTS_DIR, fmt_stat, markdown_table, parallel_map, run_header, write_json, write_text  # noqa: E402
from benchmarks.problems import Problem, get_problem  # noqa: E402
from benchmarks.quality import run_one  # noqa: E402
from gpu_bo.local_phase import LocalPhaseOptions  # noqa: E402

_STALL = {"stall": 5, "late_fraction": 0.0, "steps": 100}
VARIANTS: dict[str, LocalPhaseOptions | None] = {
    "default": None,  # the default before issue 23: no local phase
    "local": LocalPhaseOptions(**_STALL),
    "escape": LocalPhaseOptions(**_STALL, escape_every=2),
    "restart": LocalPhaseOptions(**_STALL, escape_every=2, escape="restart"),
    "explore": LocalPhaseOptions(**_STALL, escape_every=2, escape="explore"),
    "late": LocalPhaseOptions(steps=100),
    "late30": LocalPhaseOptions(),  # the new default: the same without extra refinement steps
}
LOG_PROBLEMS = ("rosenbrock6", "ellipsoid5")
STUCK = 0.05  # Hartmann6's second basin has regret ~0.12
# problem -> (budget, seeds)
PLAN = {"hartmann6": (50, range(10, 40)), "rosenbrock6": (50, range(10)), "ellipsoid5": (60, range(10)),
        "branin": (50, range(10)), "ackley10": (50, range(10))}


def rosenbrock6() -> Problem:
    """Rosenbrock in 6 dimensions on [-2, 2]^6 (BoTorch's, optimum 0 at the ones)."""
    from botorch.test_functions import Rosenbrock

    from benchmarks.problems import _botorch_problem

    fn = Rosenbrock(dim=6, bounds=[(-2.0, 2.0)] * 6)
    return _botorch_problem("rosenbrock6", fn, "Rosenbrock, d=6, [-2,2]^6, optimum 0")


def ellipsoid5() -> Problem:
    """BBOB f2-like separable ellipsoid, d=5 on [-5, 5]^5, optimum 0 at a shifted point."""
    d = 5
    x_opt = np.asarray([1.3, -2.1, 0.7, 3.2, -0.4])  # fixed shift (BBOB draws one per instance)
    w = 10.0 ** (6.0 * np.arange(d) / (d - 1))
    space = gb.Space({f"x{i}": gb.Real(-5.0, 5.0) for i in range(d)})

    def call(params: Mapping[str, Any]) -> float:
        z = np.asarray([float(params[f"x{i}"]) for i in range(d)]) - x_opt
        return float((w * z * z).sum())

    return Problem("ellipsoid5", space, call, 0.0, "synthetic",
                   "separable ellipsoid (BBOB f2-like), d=5, [-5,5]^5, shifted optimum 0")


def _problem(name: str) -> Problem:
    return {"rosenbrock6": rosenbrock6, "ellipsoid5": ellipsoid5}.get(name, lambda: get_problem(name))()


def _adapter(opts: LocalPhaseOptions | None, budget: int):
    class LocalPhaseGpuBo(peers.GpuBo):
        """gpu_bo with ``OptimizerOptions.local_phase = opts`` and the budget as a hint."""

        def __init__(self, space: gb.Space, seed: int, n_initial: int, device: str = "auto") -> None:
            super().__init__(space, seed, n_initial, device=device)
            self.opt.options = dataclasses.replace(self.opt.options, local_phase=opts)
            self.opt.budget = budget

    return LocalPhaseGpuBo


def _task(task: tuple[str, str, int, int]) -> dict[str, Any]:
    pname, variant, seed, budget = task
    name = f"lp_{variant}_{budget}"
    peers.METHODS[name] = _adapter(VARIANTS[variant], budget)  # run_one builds methods by name
    rec = run_one(_problem(pname), name, seed, budget, 10, device="cpu")
    rec["method"] = variant
    rec.pop("params", None)
    return rec


def _latency(n_values: Sequence[int], repeats: int) -> list[dict[str, Any]]:
    """Seconds per ``ask`` (median of ``repeats``) on Hartmann6 data of n points, per phase."""
    import torch

    prob = get_problem("hartmann6")
    out = []
    for n in n_values:
        X = torch.quasirandom.SobolEngine(6, scramble=True, seed=n).draw(n, dtype=torch.float64)
        pts = prob.space.decode(X)
        vals = [prob(p) for p in pts]
        for label, opts in (("default", None), ("local, 30 steps", LocalPhaseOptions(stall=0)),
                            ("local, 100 steps", LocalPhaseOptions(stall=0, steps=100)),
                            ("escape far", LocalPhaseOptions(stall=0, escape_after=0, escape_every=1))):
            times = []
            for r in range(repeats):
                opt = gb.Optimizer(prob.space, seed=r, device="cpu",
                                   options=gb.OptimizerOptions(local_phase=opts))
                opt.tell(pts, vals)
                opt.ask()  # warm-up (first fit)
                t0 = time.perf_counter()
                opt.ask()
                times.append(time.perf_counter() - t0)
            out.append({"n": n, "variant": label, "seconds": float(np.median(times)),
                        "phase": opt.last_suggestion_info.get("phase")})
    return out


def _cell(values: list[float], log: bool) -> str:
    if log:
        values = [math.log10(max(v, 1e-12)) for v in values if v is not None and math.isfinite(v)]
    return fmt_stat(values)


def report(runs: list[dict[str, Any]], latency: list[dict[str, Any]] | None, header: Any = None) -> str:
    lines = ["# Local phase and escape rule (issue 23, item 3)", ""]
    if header is not None:
        lines += [header.markdown(), ""]
    lines += ["\n\n".join(__doc__.split("\n\n")[1:4]), "",
              "Cells: median [25th, 75th percentile] of the final regret (log10 for "
              f"{', '.join(LOG_PROBLEMS)}); runs = finished runs. The verdict and the notes: "
              "[local_phase_ab_notes.md](local_phase_ab_notes.md).", ""]
    variants = [v for v in VARIANTS if any(r["method"] == v for r in runs)]
    rows = []
    for p in PLAN:
        base = {r["seed"]: r["final_regret"] for r in runs if r["problem"] == p and r["method"] == "default"}
        for v in variants:
            rs = [r for r in runs if r["problem"] == p and r["method"] == v and r["error"] is None]
            if not rs:
                continue
            fin = [r["final_regret"] for r in rs]
            stuck = ""
            if p == "hartmann6":
                free = [f for f in fin if f <= STUCK]
                stuck = f"{len(fin) - len(free)} of {len(fin)}; the others {_cell(free, False)}"
            paired = [(r["final_regret"], base[r["seed"]]) for r in rs if r["seed"] in base]
            wins = "" if v == "default" else (f"{sum(a < b for a, b in paired)}/{sum(a == b for a, b in paired)}/"
                                             f"{sum(a > b for a, b in paired)}")
            t = np.median([r["method_total_seconds"] for r in rs])
            rows.append([p, v, len(rs), _cell(fin, p in LOG_PROBLEMS), wins, stuck, f"{t:.1f}"])
    lines += ["Wins/ties/losses: seeds on which the variant's final regret is lower / equal / higher "
              "than the default's on the same seed.", ""]
    lines += [markdown_table(["problem", "variant", "runs", "final regret", "vs default (w/t/l)",
                              "Hartmann6 stuck (> 0.05); regret of the others", "method s (median)"], rows), ""]
    errs = [r for r in runs if r["error"] is not None]
    if errs:
        lines += [f"{len(errs)} runs failed: " + "; ".join(f"{r['problem']}/{r['method']}/{r['seed']}" for r in errs), ""]
    if latency:
        lines += ["## Suggestion time", "", "Seconds of one `ask` (median of repeats) on Hartmann6 data, CPU.", ""]
        lines += [markdown_table(["n", "variant", "phase", "seconds"],
                                 [[r["n"], r["variant"], r["phase"], f"{r['seconds']:.3f}"] for r in latency]), ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", nargs="+", choices=list(PLAN), default=list(PLAN))
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    ap.add_argument("--seeds", type=int, help="at most this many seeds per problem")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--latency", action="store_true", help="also time ask at n = 50 and 200")
    ap.add_argument("--report", action="store_true", help="only rebuild the tables from the jsonl")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--note", default="")
    args = ap.parse_args(argv)
    jsonl = args.out / "local_phase_ab.jsonl"
    header = run_header("benchmarks/local_phase_ab.py", "full", vars(args) | {"out": str(args.out)}, note=args.note)
    if not args.report:
        done = set()
        if jsonl.exists():
            done = {(r["problem"], r["method"], r["seed"]) for r in map(json.loads, jsonl.read_text().splitlines())}
        tasks = [(p, v, s, PLAN[p][0]) for p in args.problems for s in list(PLAN[p][1])[:args.seeds]
                 for v in args.variants if (p, v, s) not in done]

        def keep(_i: int, r: dict[str, Any]) -> None:
            with jsonl.open("a") as f:
                f.write(json.dumps(r) + "\n")
            print(f"[local_phase_ab] {r['problem']} {r['method']} seed={r['seed']}: "
                  f"regret {r['final_regret']:.4g}, {r['method_total_seconds']:.1f} s", flush=True)

        parallel_map(_task, tasks, jobs=args.jobs, on_result=keep)
    latency = _latency([50, 200], 3) if args.latency else None
    lat_path = args.out / "local_phase_ab_latency.json"
    if latency is None and lat_path.exists():
        latency = json.loads(lat_path.read_text())
    elif latency is not None:
        write_json(lat_path, latency)
    header.finish()
    if jsonl.exists():
        runs = [json.loads(line) for line in jsonl.read_text().splitlines()]
    else:  # a clean clone: the runs of the committed JSON (the jsonl is a working file)
        old = args.out / "local_phase_ab.json"
        runs = json.loads(old.read_text())["runs"] if old.exists() else []
    md = report(runs, latency, header)
    write_json(args.out / "local_phase_ab.json", {"header": header.as_dict(), "latency": latency,
                                                  "runs": runs})
    write_text(args.out / "local_phase_ab.md", md)
    print(md)


if __name__ == "__main__":
    main()
