"""Output warping A/B (issue 23.1): gpu_bo with ``output_warp`` off vs the warps, same seeds.

Each (problem, variant, seed) is one sequential gpu_bo run of ``budget`` evaluations
(``n_initial`` from the optimizer's own design, the same for every variant of a seed); the
final simple regret and the time of every suggestion are recorded. The heavy-tailed problems
are the target, the main quality problems check that no harm is done:

- ``rosenbrock4``: Rosenbrock on [-5, 10]^4, optimum 0 (40 evaluations)
- ``bent_cigar5``: BBOB f12-like, ``z1^2 + 1e6 sum_{i>1} z_i^2`` with ``z = R (x - x_opt)``
  (a seeded rotation and optimum, no T_asy), [-5, 5]^5, optimum 0 (60 evaluations)
- ``ellipsoid5``: BBOB f2-like, ``sum 10^(6 (i-1)/(d-1)) z_i^2`` with ``z = x - x_opt`` (no
  T_osz), [-5, 5]^5, optimum 0 (60 evaluations)
- ``branin``, ``hartmann6``, ``ackley10``: benchmarks/problems.py (50 evaluations)

Outputs: ``output_warp_ab.json`` (every run) and ``output_warp_ab.md`` (median [IQR] of the
final regret and of its log10 per problem and variant, seeds where the variant beat ``off``,
median seconds per suggestion at n = 40-100); ``--timing``: ``output_warp_ab_timing.{json,md}``
(seconds per suggestion at n = 50, 200, 1000, each variant on the same data).

Usage::

    nice -n 5 python benchmarks/output_warp_ab.py --jobs 2                   # everything
    python benchmarks/output_warp_ab.py --problems rosenbrock4 --seeds 3     # a smoke run
    python benchmarks/output_warp_ab.py --timing     # time per suggestion at n = 50, 200, 1000
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gpu_bo as gb  # noqa: E402
from benchmarks.common import (  # noqa: E402
    fmt_stat,
    markdown_table,
    median_iqr,
    parallel_map,
    run_header,
    write_json,
    write_text,
)

RESULTS = Path(__file__).with_name("results")
HEAVY = ("rosenbrock4", "bent_cigar5", "ellipsoid5")
MAIN = ("branin", "hartmann6", "ackley10")
BUDGET = {"rosenbrock4": 40, "bent_cigar5": 60, "ellipsoid5": 60}
VARIANTS = ("off", "auto", "power", "log")


def _box(d: int, lo: float, hi: float) -> gb.Space:
    return gb.Space({f"x{i}": gb.Real(lo, hi) for i in range(d)})


def _vec(p: Mapping[str, Any], d: int) -> np.ndarray:
    return np.array([float(p[f"x{i}"]) for i in range(d)])


def _rosenbrock(p: Mapping[str, Any]) -> float:
    x = _vec(p, 4)
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def _bbob_frame(d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fixed optimum in [-4, 4]^d and a random rotation (the same for every run)."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return rng.uniform(-4.0, 4.0, d), q * np.sign(np.diag(r))


_CIGAR_XOPT, _CIGAR_R = _bbob_frame(5, 12)
_ELLI_XOPT, _ = _bbob_frame(5, 2)


def _bent_cigar(p: Mapping[str, Any]) -> float:
    z = _CIGAR_R @ (_vec(p, 5) - _CIGAR_XOPT)
    return float(z[0] ** 2 + 1e6 * np.sum(z[1:] ** 2))


def _ellipsoid(p: Mapping[str, Any]) -> float:
    z = _vec(p, 5) - _ELLI_XOPT
    return float(np.sum(10.0 ** (6.0 * np.arange(5) / 4.0) * z ** 2))


def get_problem(name: str) -> tuple[gb.Space, Any, float]:
    """(space, objective to minimize, optimum) of a problem name."""
    if name == "rosenbrock4":
        return _box(4, -5.0, 10.0), _rosenbrock, 0.0
    if name == "bent_cigar5":
        return _box(5, -5.0, 5.0), _bent_cigar, 0.0
    if name == "ellipsoid5":
        return _box(5, -5.0, 5.0), _ellipsoid, 0.0
    from benchmarks.problems import get_problem as main_problem

    prob = main_problem(name)
    return prob.space, prob.fn, prob.optimum


def run_one(task: tuple[str, str, int, int, int]) -> dict[str, Any]:
    """One run: ``(problem, variant, seed, budget, n_initial)`` -> its record."""
    import torch

    torch.set_num_threads(1)
    pname, variant, seed, budget, n_initial = task
    space, fn, optimum = get_problem(pname)
    opt = gb.Optimizer(space, direction="minimize", n_initial=n_initial, seed=seed, device="cpu",
                       options=gb.OptimizerOptions(output_warp=variant))
    values, ask_s, warps = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(budget):
            t0 = time.perf_counter()
            p = opt.ask()
            ask_s.append(time.perf_counter() - t0)
            info = getattr(opt, "last_suggestion_info", None) or {}
            warps.append((info.get("gp") or {}).get("output_warp"))
            v = float(fn(p))
            opt.tell(p, v)
            values.append(v)
    best = min(values)
    return {"problem": pname, "variant": variant, "seed": seed, "budget": budget, "n_initial": n_initial,
            "values": values, "ask_seconds": ask_s, "warps": warps, "final_regret": best - optimum}


def _log10(r: float) -> float:
    return math.log10(max(r, 1e-12))


def summarize(runs: list[dict[str, Any]], problems: Sequence[str], variants: Sequence[str]) -> dict[str, Any]:
    """Per problem and variant: final regret and log10 regret median [IQR], wins over ``off``, time."""
    out: dict[str, Any] = {}
    for pname in problems:
        base = {r["seed"]: r["final_regret"] for r in runs if r["problem"] == pname and r["variant"] == "off"}
        for v in variants:
            rs = [r for r in runs if r["problem"] == pname and r["variant"] == v]
            if not rs:
                continue
            times = [t for r in rs for i, t in enumerate(r["ask_seconds"]) if 40 <= i < 100 or
                     (r["budget"] <= 40 and i >= r["n_initial"])]
            wins = sum(r["final_regret"] < base[r["seed"]] for r in rs if r["seed"] in base)
            ties = sum(r["final_regret"] == base[r["seed"]] for r in rs if r["seed"] in base)
            used = [w for r in rs for w in r["warps"][r["n_initial"]:] if w]
            out[f"{pname}/{v}"] = {
                "seeds": len(rs), "regret": median_iqr([r["final_regret"] for r in rs]),
                "log10_regret": median_iqr([_log10(r["final_regret"]) for r in rs]),
                "regret_str": fmt_stat([r["final_regret"] for r in rs]),
                "log10_str": fmt_stat([_log10(r["final_regret"]) for r in rs]),
                "wins_vs_off": wins, "ties_vs_off": ties,
                "warped_share": len(used) / max(1, sum(len(r["warps"]) - r["n_initial"] for r in rs)),
                "median_ask_seconds": float(np.median(times)) if times else math.nan,
            }
    return out


def _markdown(header: Any, summary: dict[str, Any], problems: Sequence[str], variants: Sequence[str]) -> str:
    lines = ["# Output warping A/B (issue 23.1)", "", header.markdown(), "",
             "Final simple regret (best value found minus the optimum) after each problem's budget, "
             "median [IQR] over seeds; the same seeds (and initial designs) for every variant. "
             "`wins` = seeds where the variant's regret is below `off`'s (ties: equal). "
             "`warped` = share of BO suggestions whose GP was warped. Time: median seconds per "
             "suggestion at n = 40-100 (the budget's BO steps when it is 40), 1 thread.", ""]
    rows = []
    for pname in problems:
        for v in variants:
            s = summary.get(f"{pname}/{v}")
            if s is None:
                continue
            rows.append([pname, v, s["seeds"], s["regret_str"], s["log10_str"],
                         "" if v == "off" else f"{s['wins_vs_off']} ({s['ties_vs_off']} ties)",
                         f"{s['warped_share']:.2f}", f"{s['median_ask_seconds']:.3f}"])
    lines.append(markdown_table(["problem", "output_warp", "seeds", "final regret", "log10 regret",
                                 "wins vs off", "warped", "s / suggestion"], rows))
    return "\n".join(lines) + "\n"


def timing(ns: Sequence[int], variants: Sequence[str], repeats: int) -> list[dict[str, Any]]:
    """Seconds per suggestion (``tell`` one point + ``ask``) at ``n`` told points of 4-d Rosenbrock
    (uniform random points, the same for every variant), median of ``repeats``, 1 thread."""
    import torch

    torch.set_num_threads(1)
    space, fn, _ = get_problem("rosenbrock4")
    rows = []
    for n in ns:
        pts = space.sample_params(n + repeats, seed=n)
        for v in variants:
            opt = gb.Optimizer(space, direction="minimize", n_initial=1, seed=0, device="cpu",
                               options=gb.OptimizerOptions(output_warp=v))
            opt.tell(pts[:n], [fn(p) for p in pts[:n]])
            times = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for p in pts[n:]:
                    t0 = time.perf_counter()
                    opt.tell(p, fn(p))
                    opt.ask()
                    times.append(time.perf_counter() - t0)
            rows.append({"n": n, "variant": v, "seconds": times, "median": float(np.median(times)),
                         "warp": (opt.last_suggestion_info.get("gp") or {}).get("output_warp")})
    return rows


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", default=",".join(HEAVY + MAIN))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--main-variants", default="off,auto", help="variants run on the main problems")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--n-initial", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--name", default="output_warp_ab")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--timing", action="store_true",
                    help="only the time per suggestion at n = 50, 200, 1000 (writes <name>_timing.*)")
    args = ap.parse_args(argv)
    if args.timing:
        tvariants = [v for v in args.variants.split(",") if v]
        header = run_header("benchmarks/output_warp_ab.py", "timing", {"n": [50, 200, 1000],
                            "variants": tvariants, "repeats": 5})
        rows = timing([50, 200, 1000], tvariants, 5)
        header.finish()
        base = {r["n"]: r["median"] for r in rows if r["variant"] == "off"}
        table = markdown_table(["n", "output_warp", "warp used", "s / suggestion (median of 5)", "vs off"],
                               [[r["n"], r["variant"], r["warp"] or "none", f"{r['median']:.3f}",
                                 f"{r['median'] / base[r['n']]:.2f}x" if r["n"] in base else ""] for r in rows])
        text = "\n".join(["# Output warping: time per suggestion", "", header.markdown(), "",
                          "One `tell` + `ask` on 4-d Rosenbrock after n random points, 1 thread.", "", table])
        write_json(args.out / f"{args.name}_timing.json", {"header": header.as_dict(), "rows": rows})
        write_text(args.out / f"{args.name}_timing.md", text + "\n")
        print(text)
        return {"timing": rows}
    problems = [p for p in args.problems.split(",") if p]
    variants = [v for v in args.variants.split(",") if v]
    main_variants = [v for v in args.main_variants.split(",") if v]
    tasks = [(p, v, s, BUDGET.get(p, 50), args.n_initial) for p in problems
             for v in (variants if p in HEAVY else main_variants) for s in range(args.seeds)]
    header = run_header("benchmarks/output_warp_ab.py", "ab", {"problems": problems, "variants": variants,
                        "main_variants": main_variants, "seeds": args.seeds, "n_initial": args.n_initial,
                        "jobs": args.jobs})

    def progress(i: int, r: dict[str, Any]) -> None:
        print(f"[{i + 1}/{len(tasks)}] {r['problem']} {r['variant']} seed {r['seed']}: "
              f"regret {r['final_regret']:.4g}", flush=True)

    runs = parallel_map(run_one, tasks, jobs=args.jobs, on_result=progress)
    header.finish()
    summary = summarize(runs, problems, variants)
    write_json(args.out / f"{args.name}.json", {"header": header.as_dict(), "summary": summary, "runs": runs})
    write_text(args.out / f"{args.name}.md", _markdown(header, summary, problems, variants))
    print(_markdown(header, summary, problems, variants))
    return summary


if __name__ == "__main__":
    main()
