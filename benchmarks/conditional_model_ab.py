"""A/B of the GP's treatment of conditional spaces (issue 17, item 2).

Variants (gpu_bo.surrogate.conditional.VARIANTS): ``impute`` (inactive columns as the constant
0.5 of the encoding), ``mask`` (a column counts only where active in both points), ``mask_xor``
(mask plus a term per column active in only one point), ``impute_flag`` (imputation plus that
indicator term); random search as the floor.

Problems (minimized; known optimum 0, so the best value found is the regret):

``three_branch``: ``branch`` in {a, b, c}, a shared ``s`` in [0, 1] (best at 0.3 everywhere)::

    a  a_x1, a_x2 in [-5, 5]          0.5 + ((a_x1 - 1)^2 + (a_x2 + 2)^2) / 25        best 0.5
    b  b_x, b_y in [0, 1], b_n in 1..20 0.2 + 2 (b_x - .7)^2 + 2 (b_y - .2)^2 + (b_n - 14)^2 / 100
                                                                                    best 0.2
    c  c_u in [-2, 2], c_k in 0..10   (c_u - .5)^2 + 0.3 (1 - cos(2 pi (c_u - .5))) + (c_k - 3)^2 / 50
                                                                                    best 0
    f = branch term + (s - 0.3)^2

``nested``: ``top`` in {p, q}; under p a sub-branch ``p_kind`` in {u, v}; a shared ``lr`` in
[1e-4, 1] (log, best 1e-2)::

    p, u  u_x1, u_x2 in [0, 1]         0.3 + 3 ((u_x1 - .25)^2 + (u_x2 - .8)^2)        best 0.3
    p, v  v_x in [1e-3, 1] log, v_n in 1..50
                                       3 (log10 v_x + 1.5)^2 / 4 + (v_n - 35)^2 / 400   best 0
    q     q_x, q_y in [-3, 3]          0.4 + 0.2 (q_x^2 + (q_y - 1)^2)                  best 0.4
    f = branch term + 0.05 (log10 lr + 2)^2

Plus the time of one suggestion at n = 100 on a 12-dimensional CASH-like space (four model
families, each with its own 1-3 parameters, one nested), the issue's target being < 0.3 s on
the CPU.

Usage::

    nice -n 5 python benchmarks/conditional_model_ab.py             # 8 seeds, 50 evaluations
    python benchmarks/conditional_model_ab.py --report              # table from the JSON only
    # the committed table: two halves in parallel on the 2 cores, then joined
    nice -n 5 python benchmarks/conditional_model_ab.py --seeds 4 --name ab_a &
    nice -n 5 python benchmarks/conditional_model_ab.py --seeds 4 --first-seed 4 --no-timing --name ab_b
    nice -n 5 python benchmarks/conditional_model_ab.py --fit-only --name ab_fit
    python benchmarks/conditional_model_ab.py --merge benchmarks/results/ab_{a,b,fit}.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gpu_bo as gb  # noqa: E402
from gpu_bo.surrogate import conditional  # noqa: E402

VARIANTS = ("impute", "flag", "arc")
OUT = Path(__file__).resolve().parent / "results"


def three_branch_space() -> gb.Space:
    return gb.Space({
        "branch": gb.Categorical(["a", "b", "c"]), "s": gb.Real(0.0, 1.0),
        "a_x1": gb.Real(-5.0, 5.0, when={"branch": "a"}), "a_x2": gb.Real(-5.0, 5.0, when={"branch": "a"}),
        "b_x": gb.Real(0.0, 1.0, when={"branch": "b"}), "b_y": gb.Real(0.0, 1.0, when={"branch": "b"}),
        "b_n": gb.Integer(1, 20, when={"branch": "b"}),
        "c_u": gb.Real(-2.0, 2.0, when={"branch": "c"}), "c_k": gb.Integer(0, 10, when={"branch": "c"}),
    })


def three_branch(p: dict) -> float:
    b = p["branch"]
    if b == "a":
        v = 0.5 + ((p["a_x1"] - 1.0) ** 2 + (p["a_x2"] + 2.0) ** 2) / 25.0
    elif b == "b":
        v = 0.2 + 2 * (p["b_x"] - 0.7) ** 2 + 2 * (p["b_y"] - 0.2) ** 2 + (p["b_n"] - 14) ** 2 / 100.0
    else:
        u = p["c_u"] - 0.5
        v = u * u + 0.3 * (1 - math.cos(2 * math.pi * u)) + (p["c_k"] - 3) ** 2 / 50.0
    return v + (p["s"] - 0.3) ** 2


def nested_space() -> gb.Space:
    return gb.Space({
        "top": gb.Categorical(["p", "q"]), "lr": gb.Real(1e-4, 1.0, log=True),
        "p_kind": gb.Categorical(["u", "v"], when={"top": "p"}),
        "u_x1": gb.Real(0.0, 1.0, when={"p_kind": "u"}), "u_x2": gb.Real(0.0, 1.0, when={"p_kind": "u"}),
        "v_x": gb.Real(1e-3, 1.0, log=True, when={"p_kind": "v"}), "v_n": gb.Integer(1, 50, when={"p_kind": "v"}),
        "q_x": gb.Real(-3.0, 3.0, when={"top": "q"}), "q_y": gb.Real(-3.0, 3.0, when={"top": "q"}),
    })


def nested(p: dict) -> float:
    if p["top"] == "q":
        v = 0.4 + 0.2 * (p["q_x"] ** 2 + (p["q_y"] - 1.0) ** 2)
    elif p["p_kind"] == "u":
        v = 0.3 + 3 * ((p["u_x1"] - 0.25) ** 2 + (p["u_x2"] - 0.8) ** 2)
    else:
        v = 3 * (math.log10(p["v_x"]) + 1.5) ** 2 / 4 + (p["v_n"] - 35) ** 2 / 400.0
    return v + 0.05 * (math.log10(p["lr"]) + 2.0) ** 2


PROBLEMS = {"three_branch": (three_branch_space, three_branch), "nested": (nested_space, nested)}


def cash_space() -> gb.Space:
    """12 dimensions: the model family and each family's own parameters (svc's gamma nested)."""
    return gb.Space({
        "model": gb.Categorical(["svc", "rf", "knn", "logreg"]),
        "svc_C": gb.Real(1e-2, 1e3, log=True, when={"model": "svc"}),
        "svc_kernel": gb.Categorical(["rbf", "linear"], when={"model": "svc"}),
        "svc_gamma": gb.Real(1e-4, 1.0, log=True, when={"svc_kernel": "rbf"}),
        "rf_n_estimators": gb.Integer(10, 200, when={"model": "rf"}),
        "rf_max_depth": gb.Integer(2, 20, when={"model": "rf"}),
        "rf_max_features": gb.Real(0.1, 1.0, when={"model": "rf"}),
        "knn_k": gb.Integer(1, 30, when={"model": "knn"}),
        "knn_weights": gb.Categorical(["uniform", "distance"], when={"model": "knn"}),
        "knn_p": gb.Integer(1, 2, when={"model": "knn"}),
        "logreg_C": gb.Real(1e-3, 1e3, log=True, when={"model": "logreg"}),
        "scale": gb.Categorical(["none", "standard"]),
    })


def cash_value(p: dict) -> float:  # a cheap stand-in for a CV error: only the timing matters
    return (hash(tuple(sorted((k, str(v)) for k, v in p.items()))) % 1000) / 1000.0


def run_one(problem: str, variant: str, seed: int, budget: int) -> dict:
    make_space, f = PROBLEMS[problem]
    space = make_space()
    t0 = time.perf_counter()
    if variant == "random":
        vals = [f(p) for p in space.sample_params(budget, seed=seed)]
    else:
        conditional.DEFAULT = variant
        opt = gb.Optimizer(space, direction="minimize", seed=seed)
        vals = []
        for _ in range(budget):
            p = opt.ask()
            space.validate(p)
            vals.append(f(p))
            opt.tell(p, vals[-1])
    best = [min(vals[: i + 1]) for i in range(len(vals))]
    return {"problem": problem, "variant": variant, "seed": seed, "regret": best[-1],
            "regret_at_half": best[len(best) // 2 - 1], "seconds": time.perf_counter() - t0}


def model_fit(problem: str, variant: str, seed: int, n: int, n_test: int = 500) -> dict:
    """The GP's own accuracy: fit on ``n`` quasi-random points, predict ``n_test`` others.

    Returns the test RMSE in units of the test values' standard deviation and the mean
    negative log predictive density (with the fitted noise), both lower-is-better.
    """
    from gpu_bo.surrogate import fit_gp

    make_space, f = PROBLEMS[problem]
    space = make_space()
    X = space.sample(n, seed=seed)
    Xt = space.sample(n_test, seed=10_000 + seed)
    y = torch.tensor([f(p) for p in space.decode(X)], dtype=torch.float64)
    yt = torch.tensor([f(p) for p in space.decode(Xt)], dtype=torch.float64)
    gp = fit_gp(X, y, conditional.column_spec(space, variant), seed=seed)
    m, v = gp.mean_var(Xt)
    mean = gp.from_std(0.0) + m * gp.y_std
    var = (v + gp.params.noise) * gp.y_std ** 2
    rmse = float(((mean - yt) ** 2).mean().sqrt() / yt.std())
    nll = float((0.5 * torch.log(2 * math.pi * var) + 0.5 * (mean - yt) ** 2 / var).mean())
    return {"problem": problem, "variant": variant, "seed": seed, "n": n, "rmse": rmse, "nll": nll}


def time_cash(variant: str, n: int = 100, repeats: int = 3, seed: int = 0) -> float:
    """Median seconds of one suggestion (tell + ask) at ``n`` observations on the CASH space."""
    conditional.DEFAULT = variant
    space = cash_space()
    opt = gb.Optimizer(space, direction="minimize", seed=seed)
    for p in space.sample_params(n, seed=seed):
        opt.tell(p, cash_value(p))
    p = opt.ask()  # the first (cold) fit
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        opt.tell(p, cash_value(p))
        p = opt.ask()
        times.append(time.perf_counter() - t0)
    space.validate(p)
    return statistics.median(times)


def _quartiles(v: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1 else [v[0]] * 3
    return q[1], q[0], q[2]


def header() -> str:
    cpu = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent).stdout.strip()
    load = open("/proc/loadavg").read().split()[:3]
    return (f"- machine: {cpu.split(':', 1)[-1].strip()}, {torch.get_num_threads()} torch threads, "
            f"{__import__('os').cpu_count()} cores, no GPU used\n- load average at start: {' '.join(load)}\n"
            f"- gpu_bo commit {commit} (plus this A/B's working tree), torch {torch.__version__}, "
            f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")


def report(data: dict) -> str:
    rows = data["runs"]
    lines = [f"# Conditional spaces: the GP's treatment of inactive columns (A/B)\n", data["header"],
             f"Budget {data['budget']} evaluations (gpu_bo's default initial design), seeds "
             f"{data['seeds']}; regret = best value found (known optimum 0). Median [IQR] over seeds; "
             "`@half` is the regret after half the budget; a regret above 0.05 means the run never "
             "settled in the best branch. The machine was shared (load average in the header), so "
             "the seconds are inflated several-fold and only comparable within one table.\n"]
    for prob in PROBLEMS:
        lines.append(f"\n## {prob}\n\n| variant | median regret [IQR] | mean regret | median @half | "
                     "seeds with regret > 0.05 | s per run (median) | seeds |\n|---|---|---|---|---|---|---|")
        for var in (*VARIANTS, "random"):
            rs = [r for r in rows if r["problem"] == prob and r["variant"] == var]
            if not rs:
                continue
            m, lo, hi = _quartiles([r["regret"] for r in rs])
            half = statistics.median(r["regret_at_half"] for r in rs)
            mean = statistics.fmean(r["regret"] for r in rs)
            stuck = sum(r["regret"] > 0.05 for r in rs)
            sec = statistics.median(r["seconds"] for r in rs)
            lines.append(f"| {var} | {m:.2g} [{lo:.2g}, {hi:.2g}] | {mean:.3f} | {half:.3f} | {stuck} | {sec:.1f} | "
                         f"{len(rs)} |")
    fits = data.get("fits", [])
    if fits:
        lines.append("\n## The GP's own accuracy (fit on n quasi-random points, 500 test points)\n\n"
                     "Test RMSE in units of the test values' standard deviation and mean negative log "
                     "predictive density; median [IQR] over seeds, lower is better.\n\n"
                     "| problem | n | variant | RMSE / sd | NLPD | seeds |\n|---|---|---|---|---|---|")
        for prob in PROBLEMS:
            for n in sorted({r["n"] for r in fits}):
                for var in VARIANTS:
                    rs = [r for r in fits if r["problem"] == prob and r["n"] == n and r["variant"] == var]
                    if rs:
                        a, b = _quartiles([r["rmse"] for r in rs]), _quartiles([r["nll"] for r in rs])
                        lines.append(f"| {prob} | {n} | {var} | {a[0]:.3f} [{a[1]:.3f}, {a[2]:.3f}] | "
                                     f"{b[0]:.2f} [{b[1]:.2f}, {b[2]:.2f}] | {len(rs)} |")
    if data.get("cash"):
        lines.append("\n## One suggestion on the 12-dimensional CASH-like space at n = 100 (CPU)\n\n"
                     "Median over 3 rounds (the variants alternate) of each round's median of 3 timed "
                     "tell + ask steps, after a first (cold-fit) suggestion.\n\n"
                     "| variant | seconds |\n|---|---|")
        for var, t in data["cash"].items():
            lines.append(f"| {var} | {t:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    ap.add_argument("--no-timing", action="store_true", help="skip the CASH suggestion timing")
    ap.add_argument("--fit-only", action="store_true", help="only the GP accuracy table (n = 30, 60; 10 seeds)")
    ap.add_argument("--report", action="store_true", help="write the table from the JSON only")
    ap.add_argument("--merge", nargs="+", type=Path, help="JSON files of parallel parts: join them into --name")
    ap.add_argument("--name", default="conditional_model_ab")
    ap.add_argument("--note", default="", help="a line for the table's header (with --merge)")
    args = ap.parse_args()
    path = OUT / f"{args.name}.json"
    if args.merge:
        parts = [json.loads(p.read_text()) for p in args.merge]
        head = dict.fromkeys(line for p in parts for line in p["header"].splitlines(keepends=True))
        note = [f"- note: {args.note}\n"] if args.note else []
        data = {"header": "".join([*head, *note]), "budget": parts[0]["budget"],
                "seeds": sum(p["seeds"] for p in parts), "runs": [r for p in parts for r in p["runs"]],
                "cash": {k: v for p in parts for k, v in p["cash"].items()},
                "fits": [r for p in parts for r in p.get("fits", [])]}
        path.write_text(json.dumps(data, indent=1))
    elif args.report:
        data = json.loads(path.read_text())
    elif args.fit_only:
        data = {"header": header(), "budget": args.budget, "seeds": 0, "runs": [], "cash": {},
                "fits": [model_fit(prob, var, seed, n) for prob in PROBLEMS for n in (30, 60)
                         for var in args.variants for seed in range(10)]}
        path.write_text(json.dumps(data, indent=1))
    else:
        data = {"header": header(), "budget": args.budget, "seeds": args.seeds, "runs": [], "cash": {}}
        times: dict[str, list[float]] = {var: [] for var in args.variants}
        for _ in range(0 if args.no_timing else 3):  # rounds alternate the variants (a shared machine)
            for var in args.variants:
                times[var].append(time_cash(var))
                print(f"cash {var}: {times[var][-1]:.3f} s", flush=True)
        data["cash"] = {var: statistics.median(t) for var, t in times.items() if t}
        for seed in range(args.first_seed, args.first_seed + args.seeds):  # seeds outermost: a cut-short run still has every variant
            for prob in PROBLEMS:
                for var in (*args.variants, "random"):
                    r = run_one(prob, var, seed, args.budget)
                    data["runs"].append(r)
                    print(json.dumps(r), flush=True)
                    path.write_text(json.dumps(data, indent=1))
        load = open("/proc/loadavg").read().split()[:3]
        data["header"] += f"- load average at the end: {' '.join(load)}\n"
        path.write_text(json.dumps(data, indent=1))
    (OUT / f"{args.name}.md").write_text(report(data))


if __name__ == "__main__":
    main()
