"""Input warping A/B: gpu_bo with ``input_warp`` "off" vs "on" vs "auto", same seeds, same run.

Problems (minimized, known optimum 0 unless said):

- ``ellipsoid5``: BBOB f2-like separable ellipsoid ``sum 10^(6 (i-1)/(d-1)) z_i^2``, ``z = x - x_opt``
  on [-5, 5]^5 (``x_opt`` a fixed draw from [-4, 4]^5; BBOB's oscillation transform left out),
  60 evaluations.
- ``boundary4``: an optimum hugging the lower boundary: four learning-rate-like parameters on a
  LINEAR [0, 1] scale whose effect is logarithmic, ``sum (log10(x_i + 1e-4) - log10(x*_i + 1e-4))^2``
  with ``x* = (0.002, 0.005, 0.01, 0.02)``: the steep part of the function is squeezed into the
  first percent of each range (a log-scale parameter declared linear), 60 evaluations.
- ``bentcigar5``: BBOB f12-like bent cigar ``z_1^2 + 1e6 sum_{i>1} z_i^2``, ``z = Q (x - x_opt)``
  with a fixed random rotation ``Q`` (the asymmetric transform left out), [-5, 5]^5, 60 evaluations.
- benchmarks/problems.py's ``branin``, ``hartmann6``, ``ackley10`` at 50 evaluations (no harm).

Regret: median [IQR] over seeds; log10 of the regret for the ill-conditioned ones. Timing: one
suggestion (fit + maximization) at n = 50 and 200 random points of ``ellipsoid5`` and
``hartmann6``, cold (the first) and warm (the median of the next 3), per mode.

Usage::

    python benchmarks/input_warp_ab.py --jobs 2                 # 10 seeds, writes input_warp_ab.{md,json}
    python benchmarks/input_warp_ab.py --seeds 2 --problems branin --no-timing --out /tmp/x   # smoke
    python benchmarks/input_warp_ab.py --jobs 2 --resume --no-timing   # continue a stopped run
    python benchmarks/input_warp_ab.py --summarize                     # tables (+ timing) from the JSON
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gpu_bo as gb  # noqa: E402
from benchmarks import peers  # noqa: E402
from benchmarks.common import (  # noqa: E402
    RESULTS_DIR, fmt_stat, markdown_table, parallel_map, run_header, write_json, write_text,
)
from benchmarks.problems import Problem, get_problem  # noqa: E402
from benchmarks.quality import run_one  # noqa: E402

__all__ = ["PROBLEMS", "main"]

MODES = ("off", "on", "auto")
LOG_PROBLEMS = ("ellipsoid5", "boundary4", "bentcigar5")
BUDGET = {"ellipsoid5": 60, "boundary4": 60, "bentcigar5": 60, "branin": 50, "hartmann6": 50, "ackley10": 50}


class WarpGpuBo(peers.GpuBo):
    """benchmarks/peers.py's gpu_bo adapter with ``OptimizerOptions(input_warp=mode)``."""

    def __init__(self, space: gb.Space, seed: int, n_initial: int, device: str = "auto", mode: str = "off") -> None:
        super().__init__(space, seed, n_initial, device=device, name=f"gpu_bo_warp_{mode}")
        self.opt = gb.Optimizer(space, direction="minimize", n_initial=n_initial, seed=seed, device=device,
                                options=gb.OptimizerOptions(input_warp=mode))


for _m in MODES:  # registered so that quality.run_one (make_method) builds them
    peers.METHODS[f"warp_{_m}"] = (lambda mode: lambda space, seed, n_initial, device="auto":
                                   WarpGpuBo(space, seed, n_initial, device=device, mode=mode))(_m)
    peers.REQUIRES[f"warp_{_m}"] = "gpu_bo"


def _real_space(d: int, lo: float, hi: float) -> gb.Space:
    return gb.Space({f"x{i}": gb.Real(lo, hi) for i in range(d)})


def _vec(p: Mapping[str, Any], d: int) -> np.ndarray:
    return np.array([float(p[f"x{i}"]) for i in range(d)])


def ellipsoid5() -> Problem:
    d = 5
    x_opt = np.random.default_rng(2).uniform(-4, 4, d)
    w = 10.0 ** (6.0 * np.arange(d) / (d - 1))
    return Problem("ellipsoid5", _real_space(d, -5.0, 5.0), lambda p: float(w @ (_vec(p, d) - x_opt) ** 2), 0.0,
                   "synthetic", "BBOB f2-like separable ellipsoid, d=5, [-5,5]^5, conditioning 1e6, optimum 0")


def boundary4() -> Problem:
    d = 4
    x_star = np.array([0.002, 0.005, 0.01, 0.02])
    target = np.log10(x_star + 1e-4)
    return Problem("boundary4", _real_space(d, 0.0, 1.0),
                   lambda p: float(((np.log10(_vec(p, d) + 1e-4) - target) ** 2).sum()), 0.0, "synthetic",
                   "log-effect parameters on a linear [0,1] scale, optimum at x* <= 0.02 (hugs the boundary)")


def bentcigar5() -> Problem:
    d = 5
    rng = np.random.default_rng(3)
    x_opt = rng.uniform(-4, 4, d)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    w = np.array([1.0] + [1e6] * (d - 1))
    return Problem("bentcigar5", _real_space(d, -5.0, 5.0),
                   lambda p: float(w @ (Q @ (_vec(p, d) - x_opt)) ** 2), 0.0, "synthetic",
                   "BBOB f12-like rotated bent cigar, d=5, [-5,5]^5, optimum 0")


PROBLEMS = {"ellipsoid5": ellipsoid5, "boundary4": boundary4, "bentcigar5": bentcigar5}


def _problem(name: str) -> Problem:
    return PROBLEMS[name]() if name in PROBLEMS else get_problem(name)


def _run(item: tuple[str, str, int]) -> dict[str, Any]:
    name, mode, seed = item
    torch.set_num_threads(1)
    rec = run_one(_problem(name), f"warp_{mode}", seed, BUDGET[name], 10, device="cpu")
    rec.pop("params", None)
    return rec


def _timing(name: str, n: int, mode: str, seed: int = 0) -> dict[str, Any]:
    """Seconds of one cold and three warm suggestions after ``n`` random points."""
    prob = _problem(name)
    opt = gb.Optimizer(prob.space, direction="minimize", seed=seed, device="cpu",
                       options=gb.OptimizerOptions(input_warp=mode))
    pts = prob.space.decode(prob.space.sample(n, seed=seed))
    opt.tell(pts, [prob(p) for p in pts])
    secs, fits = [], []
    for _ in range(4):
        t0 = time.perf_counter()
        p = opt.ask()
        secs.append(time.perf_counter() - t0)
        fits.append(float(opt.last_suggestion_info.get("fit_seconds", math.nan)))
        opt.tell(p, prob(p))
    return {"problem": name, "n": n, "mode": mode, "cold_seconds": secs[0], "cold_fit_seconds": fits[0],
            "warm_seconds": statistics.median(secs[1:]), "warm_fit_seconds": statistics.median(fits[1:])}


def _summary(runs: list[dict[str, Any]], problems: list[str]) -> str:
    rows = []
    for name in problems:
        by = {m: [r for r in runs if r["problem"] == name and r["method"] == f"warp_{m}"] for m in MODES}
        log = name in LOG_PROBLEMS
        cells = [name, str(BUDGET[name])]
        for m in MODES:
            vals = [r["final_regret"] for r in by[m]]
            vals = [math.log10(max(v, 1e-300)) for v in vals] if log else vals
            cells.append(f"{fmt_stat(vals)} ({len(vals)})")
        # paired by seed: on vs off, auto vs off (lower regret wins)
        for m in ("on", "auto"):
            off = {r["seed"]: r["final_regret"] for r in by["off"]}
            pairs = [(r["final_regret"], off[r["seed"]]) for r in by[m] if r["seed"] in off]
            wins = sum(a < b for a, b in pairs)
            losses = sum(a > b for a, b in pairs)
            cells.append(f"{wins}/{losses}")
        rows.append(cells)
    head = ["problem", "budget", "off", "on", "auto", "on vs off (wins/losses)", "auto vs off"]
    return markdown_table(head, rows)


def _timing_table(times: list[dict[str, Any]]) -> str:
    rows = [[t["problem"], t["n"], t["mode"], f"{t['cold_seconds']:.3f}", f"{t['cold_fit_seconds']:.3f}",
             f"{t['warm_seconds']:.3f}", f"{t['warm_fit_seconds']:.3f}"] for t in times]
    return markdown_table(["problem", "n", "input_warp", "cold ask s", "cold fit s", "warm ask s", "warm fit s"], rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--problems", default=",".join(BUDGET))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("--resume", action="store_true", help="skip the runs the JSON already holds")
    ap.add_argument("--summarize", action="store_true", help="no runs: the tables from the JSON (and timing)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--name", default="input_warp_ab")
    ap.add_argument("--note", default="", help="a line for the table's header")
    args = ap.parse_args(argv)
    problems = [p for p in args.problems.split(",") if p]
    modes = [m for m in args.modes.split(",") if m]
    header = run_header("benchmarks/input_warp_ab.py", "full" if args.seeds >= 10 else "partial",
                        {"seeds": args.seeds, "problems": problems, "modes": modes, "budget": BUDGET,
                         "n_initial": 10, "device": "cpu", "jobs": args.jobs}, note=args.note)
    # the ill-conditioned problems first, seed by seed; then the no-harm ones interleaved, so that a
    # run stopped early (--resume continues it, --summarize writes the tables) has them all equally
    first = [p for p in problems if p in LOG_PROBLEMS]
    rest = [p for p in problems if p not in LOG_PROBLEMS]
    items = ([(p, m, s) for p in first for s in range(args.seeds) for m in modes]
             + [(p, m, s) for s in range(args.seeds) for p in rest for m in modes])
    out_json = args.out / f"{args.name}.json"
    runs: list[dict[str, Any]] = []
    times: list[dict[str, Any]] = []
    prior: list[dict[str, Any]] = []
    if (args.resume or args.summarize) and out_json.exists():
        import json

        old = json.loads(out_json.read_text())
        runs, times = old["runs"], old.get("timing", [])
        prior = old.get("prior_headers", []) + [old["header"]]  # the runs' own machine/load records
        done = {(r["problem"], r["method"], r["seed"]) for r in runs}
        items = [it for it in items if (it[0], f"warp_{it[1]}", it[2]) not in done]
    if args.summarize:
        items = []

    def progress(i: int, rec: dict[str, Any]) -> None:
        runs.append(rec)
        print(f"[{len(runs)}/{len(items)}] {rec['problem']} {rec['method']} seed {rec['seed']}: "
              f"regret {rec['final_regret']:.4g} ({rec['wall_seconds']:.1f} s){' ERROR' if rec['error'] else ''}",
              flush=True)
        write_json(out_json, {"header": header.as_dict(), "prior_headers": prior, "runs": runs, "timing": times})

    parallel_map(_run, items, jobs=args.jobs, on_result=progress)
    if not args.no_timing and not (args.summarize and times):
        torch.set_num_threads(1)
        _timing("branin", 20, modes[0])  # warm-up: the first suggestion of a process pays one-off costs
        cells = [(name, n, m) for name in ("ellipsoid5", "hartmann6") for n in (50, 200) for m in modes]
        reps = [[_timing(*c, seed=r) for c in cells] for r in range(3)]  # interleaved: load hits all alike
        times = [{**reps[0][i], **{k: statistics.median(rep[i][k] for rep in reps) for k in
                                   ("cold_seconds", "cold_fit_seconds", "warm_seconds", "warm_fit_seconds")},
                  "repeats": len(reps)} for i in range(len(cells))]
    header.finish()
    write_json(out_json, {"header": header.as_dict(), "prior_headers": prior, "runs": runs, "timing": times})
    errors = [r for r in runs if r["error"]]
    earlier = [f"- Earlier part of this run: started {h['started']}, finished {h.get('finished')}, load average "
               f"at start {h.get('loadavg_start')}, at end {h.get('loadavg_end')}" for h in prior]
    md = [f"# Input warping A/B ({args.name})", "", header.markdown(), *earlier, "",
          "Final simple regret, median [IQR] (seeds); log10 of the regret for " + ", ".join(LOG_PROBLEMS) + ".",
          "", _summary(runs, problems), ""]
    if times:
        md += ["One suggestion (1 CPU thread) after n random points: the first (cold fit) and the median of the "
               "next three (warm fits; from n = 100 the schedule refits only as the data grow by 2%, so most warm "
               "asks there only condition the GP); each cell the median of 3 repetitions (seeds 0-2, the cells "
               "interleaved).", "",
               _timing_table(times), ""]
    if errors:
        md += [f"{len(errors)} runs raised; their errors are in the JSON.", ""]
    write_text(args.out / f"{args.name}.md", "\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
