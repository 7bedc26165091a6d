"""Issue 23's Hartmann6 trap: which knob changes how many runs end in the second basin?

Every variant runs Hartmann6 (d = 6) for 50 evaluations over seeds 10-39, as
benchmarks/quality.py does (its ``n_initial`` = 10 Sobol points unless the variant says
otherwise, the budget told to the optimizer, so the default local phase runs). A run is
"stuck" when its final regret is above 0.05 (the second basin's regret is about 0.119).

Variants (each changes one thing against ``base``, gpu_bo's defaults):

- ``ucb``, ``ucb5``: the UCB acquisition with the default kappa, and with kappa = 5;
- ``xi``: EI with the exploration margin ``xi=None`` (1% of the values' standard deviation);
- ``r16``: 16 cold and 4 warm fit restarts instead of 4 and 2;
- ``cold``: every fit cold (``full_refit_every=1``);
- ``ni6``, ``ni20``: 6 or 20 initial Sobol points (the same sequence: 20 starts with base's 10);
- ``ls_half``, ``ls_quarter``: the lengthscale prior's location shifted by log(1/2) and
  log(1/4) (shorter lengthscales a priori; patched into gpu_bo.surrogate.prior for the run).

Usage::

    python benchmarks/hartmann6_trap_ab.py --variants base ni20 ucb5 --jobs 2
    python benchmarks/hartmann6_trap_ab.py --report
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import RESULTS_DIR, markdown_table, median_iqr, run_header, write_json, write_text

SEEDS = range(10, 40)
BUDGET = 50
STUCK = 0.05
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {}, "ucb": {"kw": {"acquisition": "ucb"}}, "ucb5": {"kw": {"acquisition": "ucb", "kappa": 5.0}},
    "xi": {"kw": {"xi": None}}, "r16": {"fit": {"restarts": 16, "warm_restarts": 4}},
    "cold": {"opts": {"full_refit_every": 1}}, "ni6": {"n_initial": 6}, "ni20": {"n_initial": 20},
    "ls_half": {"ls_shift": math.log(0.5)}, "ls_quarter": {"ls_shift": math.log(0.25)},
}


def _patch_lengthscale_prior(shift: float) -> None:
    import gpu_bo.surrogate.fit as fit_mod
    import gpu_bo.surrogate.prior as prior

    base = prior.lengthscale_loc

    def loc(d: int) -> float:
        return base(d) + shift

    prior.lengthscale_loc = fit_mod.lengthscale_loc = loc  # both modules read the name


def run(task: tuple[str, int]) -> dict[str, Any]:
    """One run of ``variant`` with ``seed`` (its own process: the prior patch stays in it)."""
    variant, seed = task
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(1)
    import gpu_bo as gb
    from benchmarks.problems import get_problem
    from gpu_bo.optimizer import OptimizerOptions
    from gpu_bo.surrogate import FitOptions

    spec = VARIANTS[variant]
    if "ls_shift" in spec:
        _patch_lengthscale_prior(spec["ls_shift"])
    okw = dict(spec.get("opts", {}))
    if "fit" in spec:
        okw["fit"] = FitOptions(**spec["fit"])
    prob = get_problem("hartmann6")
    opt = gb.Optimizer(prob.space, direction="minimize", n_initial=spec.get("n_initial", 10), seed=seed,
                       device="cpu", options=OptimizerOptions(**okw) if okw else None, **spec.get("kw", {}))
    opt.budget = BUDGET  # as gb.optimize(n_trials=BUDGET) tells it
    best, t0 = math.inf, time.process_time()
    for _ in range(BUDGET):
        p = opt.ask()
        v = prob(p)
        opt.tell(p, v)
        best = min(best, v)
    return {"variant": variant, "seed": seed, "regret": prob.regret(best), "cpu_s": time.process_time() - t0}


def report(runs: list[dict[str, Any]], header: Any, out: Path) -> str:
    by: dict[str, dict[int, dict[str, Any]]] = {}
    for r in runs:
        by.setdefault(r["variant"], {})[r["seed"]] = r
    base = by.get("base", {})
    rows = []
    for v in VARIANTS:
        if v not in by:
            continue
        d = by[v]
        seeds = sorted(d)
        stuck = sorted(s for s in seeds if d[s]["regret"] > STUCK)
        base_stuck = sorted(s for s in seeds if s in base and base[s]["regret"] > STUCK)
        same = len(set(stuck) & set(base_stuck))
        med = median_iqr([d[s]["regret"] for s in seeds])
        rows.append([v, len(seeds), f"{len(stuck)} of {len(seeds)}", f"{len(base_stuck)}", f"{same}",
                     f"{med[0]:.3g} [{med[1]:.3g}, {med[2]:.3g}]",
                     f"{np.median([d[s]['cpu_s'] for s in seeds]):.1f}"])
    doc = __doc__.split("\n\n", 1)[1].split("Usage::")[0].strip()
    table = markdown_table(["variant", "seeds", "stuck (> 0.05)", "base stuck on these seeds",
                            "stuck on the same seeds as base", "final regret median [IQR]", "CPU s per run"], rows)
    return f"# Hartmann6's second basin: one knob at a time\n\n{header.markdown()}\n\n{doc}\n\n{table}\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--report", action="store_true", help="only rebuild the tables from the jsonl")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    log = args.out / "hartmann6_trap_ab.jsonl"  # a working file (resume), not committed
    runs = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    header = run_header("benchmarks/hartmann6_trap_ab.py", "report" if args.report else "full",
                        {"variants": args.variants, "seeds": [SEEDS.start, SEEDS.stop - 1], "budget": BUDGET,
                         "jobs": args.jobs}, note=args.note)
    if not args.report:
        done = {(r["variant"], r["seed"]) for r in runs}
        tasks = [(v, s) for s in SEEDS for v in args.variants if (v, s) not in done]
        # one process per run (maxtasksperchild=1): a variant's patch never reaches the next run
        with get_context("spawn").Pool(args.jobs, maxtasksperchild=1) as pool, log.open("a") as fh:
            for r in pool.imap_unordered(run, tasks):
                runs.append(r)
                fh.write(json.dumps(r) + "\n")
                fh.flush()
                print(f"{r['variant']:10s} seed {r['seed']}: regret {r['regret']:.3g}", flush=True)
    header.finish()
    write_text(args.out / "hartmann6_trap_ab.md", report(runs, header, args.out))
    write_json(args.out / "hartmann6_trap_ab.json", {"header": header.as_dict(), "runs": runs})


if __name__ == "__main__":
    main()
