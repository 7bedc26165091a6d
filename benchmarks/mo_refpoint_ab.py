"""A/B of the inferred reference point of gpu_bo's hypervolume acquisition (issue 16 follow-up).

    python benchmarks/mo_refpoint_ab.py RULE PROBLEM SEED     # prints one JSON line

RULE ``front``: today's rule (BoTorch's ``infer_reference_point`` on the feasible Pareto front,
10% of its range beyond its worst point); ``nadir``: the worst value over every feasible
observation, 10% of the observed range beyond it (close to Optuna's GPSampler). The nadir rule
is swapped in by replacing ``reference_point`` for the run only. 60 evaluations, 10 initial
points; the hypervolume is the benchmark's (benchmarks/mo_problems.py, the problem's published
reference point). Results: benchmarks/results/multi_objective_refpoint_ab.md.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gpu_bo as gb  # noqa: E402
import gpu_bo.acquisition.multi_objective as mo_acq  # noqa: E402
import gpu_bo.multi_output as mo_out  # noqa: E402
from benchmarks.mo_problems import get_mo_problem, hv_curve  # noqa: E402


def _nadir(Y, feasible=None, given=None):
    """The worst feasible observed value per objective, 10% of the observed range beyond it."""
    if given is not None:
        return given.to(Y)
    rows = Y if feasible is None or not bool(feasible.any()) else Y[feasible]
    lo, hi = rows.min(0).values, rows.max(0).values
    return lo - 0.1 * (hi - lo).clamp_min(1e-9)


def run(P, seed: int, budget: int) -> tuple[list[list[float]], list[bool]]:
    """gpu_bo's defaults (10 initial points) on problem ``P``: the values and feasibility per evaluation."""
    opt = gb.Optimizer(P.space, directions=list(P.directions), seed=seed, device="cpu", n_initial=10)
    vals, feas = [], []
    for _ in range(budget):
        p = opt.ask()
        v, c = P.evaluate(p)
        opt.tell(p, v, constraints=c)
        vals.append(v)
        feas.append(c is None or all(x <= 0 for x in c))
    return vals, feas


def main(rule: str, problem: str, seed: int, budget: int = 60) -> dict:
    if rule == "nadir":
        mo_acq.reference_point = mo_out.reference_point = _nadir
    elif rule != "front":
        raise ValueError(f"rule: got {rule!r}, expected 'front' or 'nadir'")
    P = get_mo_problem(problem)
    vals, feas = run(P, seed, budget)
    hv = hv_curve(vals, feas, list(P.directions), P.ref_point)
    return {"rule": rule, "prob": problem, "seed": seed, "hv30": hv[29], "hv60": hv[-1]}


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    print(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))), flush=True)
