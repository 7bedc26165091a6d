"""A/B of the feasibility temperature of gpu_bo's constrained hypervolume acquisition (issue 16).

    python benchmarks/mo_constraint_eta_ab.py ETA PROBLEM SEED [BUDGET]    # prints one JSON line

ETA: the sigmoid temperature of qLogNEHVI's (and its qLogEHVI screen's) feasibility weights, in the
constraint GPs' standardized units, set for the run through
``gpu_bo.acquisition.multi_objective.CONSTRAINT_ETA`` (today 1e-5; BoTorch's default is 1e-3, 1e-2
for qLogEHVI). 60 evaluations unless BUDGET, 10 initial points; the hypervolume is the
benchmark's (benchmarks/mo_problems.py, the problem's published reference point); the infeasible
share is over the last 10 evaluations, as in issue 16's target. Results:
benchmarks/results/multi_objective_constrained_eta_ab.md.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

import gpu_bo.acquisition.multi_objective as mo_acq  # noqa: E402
from benchmarks.mo_problems import get_mo_problem, hv_curve  # noqa: E402
from benchmarks.mo_refpoint_ab import run  # noqa: E402


def main(eta: float, problem: str, seed: int, budget: int = 60) -> dict:
    if not eta > 0:
        raise ValueError(f"eta: got {eta!r}, expected a positive number")
    mo_acq.CONSTRAINT_ETA = eta
    torch.set_num_threads(1)
    P = get_mo_problem(problem)
    t0 = time.process_time()
    vals, feas = run(P, seed, budget)
    hv = hv_curve(vals, feas, list(P.directions), P.ref_point)
    return {"eta": eta, "prob": problem, "seed": seed, "budget": budget, "hv": hv[-1],
            "infeasible_last10": sum(not f for f in feas[-10:]) / 10, "cpu_s": time.process_time() - t0}


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    args = sys.argv[1:]
    print(json.dumps(main(float(args[0]), args[1], int(args[2]), *(int(a) for a in args[3:4]))), flush=True)
