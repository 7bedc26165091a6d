"""float32 against float64 (issue 22.1): posterior accuracy, optimization quality, suggestion time.

Three parts, each optional:

* ``posterior``: one GP (hyperparameters fitted in float64 on 300 points of a smooth 6-d
  function) conditioned on ``n`` points in float64 and in float32; the largest error of the
  float32 posterior mean (in prior standard deviations) and variance (in prior variances) over
  2,000 test points, half of them within 1e-3 of training points. Two variance paths: the GP's
  ``mean_var`` (``os - |L^-1 k|^2``) and the ``K^-1`` form the acquisitions' closed-form
  gradients and the screening kernel use.
* ``regret``: simple regret of ``gpu_bo.Optimizer`` (EI, defaults) with ``dtype="float32"`` and
  ``"float64"`` on quality.py's synthetic problems (branin, hartmann6, ackley10; the
  cross-validated sklearn problems are left out for compute), same seeds and budgets; a
  problem is "within the noise" when the float32 median lies inside float64's IQR.
* ``timing``: one suggestion (tell + ask) of the global GP at ``n`` observations, d = 20, per
  dtype, on ``--device`` (``--timing-only --device cuda`` is gpu_run.sh's step).

Usage::

    nice -n 10 python benchmarks/float32.py             # posterior + regret (10 seeds), CPU
    python benchmarks/float32.py --timing-only --device cuda --timing-n 5000 10000
    python benchmarks/float32.py --smoke                # seconds: tests and gpu_run.sh's dry run
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    RESULTS_DIR, fmt_stat, markdown_table, median_iqr, run_header, write_json, write_text,
)
from benchmarks.problems import get_problem  # noqa: E402

__all__ = ["posterior_errors", "regret_runs", "suggestion_time", "main"]

PROBLEMS = ["branin", "hartmann6", "ackley10"]


def _smooth(X: torch.Tensor) -> torch.Tensor:
    return torch.sin(6 * X).sum(-1) + (X ** 2).sum(-1)


def posterior_errors(n: int, d: int = 6, n_test: int = 2000) -> dict[str, Any]:
    """float32 vs float64 posterior errors of one GP conditioned on ``n`` points.

    Args:
        n: training points.
        d: input dimensions.
        n_test: test points (half uniform, half next to training points).

    Returns:
        ``{"n", "outputscale", "noise", "mean_err", "var_err", "var_err_kinv", "jitter32"}``.
    """
    from gpu_bo.kernels.reference import posterior_mean_var
    from gpu_bo.surrogate import fit_gp

    g = torch.Generator().manual_seed(n)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    y = _smooth(X)
    k = min(n, n_test // 2)
    Xt = torch.cat([torch.rand(n_test - k, d, generator=g, dtype=torch.float64),
                    (X[:k] + 1e-3 * torch.randn(k, d, generator=g, dtype=torch.float64)).clamp(0, 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = fit_gp(X[:300], y[:300]).params
        gp64 = fit_gp(X, y, warm=p, optimize=False)
        gp32 = fit_gp(X.float(), y.float(), warm=p, optimize=False)
    m64, v64 = gp64.mean_var(Xt)
    m32, v32 = gp32.mean_var(Xt.float())
    _, vk = posterior_mean_var(Xt.float(), gp32.X, gp32.alpha, gp32.Kinv, gp32.inv_ls,
                               gp32.params.outputscale, gp32.params.mean_const)
    os_ = float(p.outputscale)
    return {"n": n, "outputscale": os_, "noise": float(p.noise), "jitter32": gp32.jitter,
            "mean_err": float((m32.double() - m64).abs().max()) / math.sqrt(os_),
            "var_err": float((v32.double() - v64).abs().max()) / os_,
            "var_err_kinv": float((vk.double() - v64).abs().max()) / os_}


def _one_run(problem: str, dtype: str, seed: int, budget: int, n_initial: int) -> dict[str, Any]:
    import gpu_bo as gb

    prob = get_problem(problem)
    opt = gb.Optimizer(prob.space, direction="minimize", n_initial=n_initial, seed=seed, device="cpu",
                       options=gb.OptimizerOptions(dtype=dtype))
    best, t_method = math.inf, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(budget):
            t0 = time.perf_counter()
            x = opt.ask()
            t_method += time.perf_counter() - t0
            v = prob(x)
            t0 = time.perf_counter()
            opt.tell(x, v)
            t_method += time.perf_counter() - t0
            if v is not None and math.isfinite(v):
                best = min(best, v)
    return {"problem": problem, "dtype": dtype, "seed": seed, "final_regret": prob.regret(best),
            "method_seconds": t_method}


def regret_runs(problems: Sequence[str], seeds: int, budget: int, n_initial: int) -> list[dict[str, Any]]:
    """Every (problem, dtype, seed) run of :func:`_one_run`, float64 and float32 interleaved.

    Args:
        problems: names from benchmarks/problems.py.
        seeds: seeds 0 .. seeds-1.
        budget: evaluations per run.
        n_initial: of which from the initial design.

    Returns:
        One record per run.
    """
    runs = []
    for pname in problems:
        for seed in range(seeds):
            for dtype in ("float64", "float32"):
                r = _one_run(pname, dtype, seed, budget, n_initial)
                print(f"{pname} {dtype} seed {seed}: regret {r['final_regret']:.3g} "
                      f"({r['method_seconds']:.1f} s)", flush=True)
                runs.append(r)
    return runs


def suggestion_time(n: int, dtype: str, device: str, d: int = 20, steps: int = 3) -> float:
    """Median seconds of one tell + ask of the global GP at ``n`` observations.

    Args:
        n: observations told before the timed steps.
        dtype: "float64" or "float32".
        device: "cpu" or "cuda".
        d: dimensions.
        steps: timed consecutive steps (after one untimed warm-up step).

    Returns:
        The median over ``steps`` of the seconds of one tell + ask.
    """
    import gpu_bo as gb

    space = {f"x{i}": (0.0, 1.0) for i in range(d)}
    opt = gb.Optimizer(space, seed=0, n_initial=10, device=device, strategy="global",
                       options=gb.OptimizerOptions(dtype=dtype))
    g = torch.Generator().manual_seed(1)
    Xr = torch.rand(n, d, generator=g, dtype=torch.float64).tolist()
    pts = [{f"x{i}": v for i, v in enumerate(row)} for row in Xr]
    opt.tell(pts, [float(_smooth(torch.tensor(r[:6]))) for r in Xr])

    def step() -> float:
        t0 = time.perf_counter()
        p = opt.ask()
        opt.tell(p, float(_smooth(torch.tensor([p[f"x{i}"] for i in range(6)]))))
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step()
        times = sorted(step() for _ in range(steps))
    return times[len(times) // 2]


def _regret_table(runs: list[dict[str, Any]], problems: Sequence[str]) -> tuple[list[list[Any]], dict]:
    rows, verdict = [], {}
    for pname in problems:
        by = {dt: [r["final_regret"] for r in runs if r["problem"] == pname and r["dtype"] == dt]
              for dt in ("float64", "float32")}
        t = {dt: [r["method_seconds"] for r in runs if r["problem"] == pname and r["dtype"] == dt]
             for dt in ("float64", "float32")}
        med32 = median_iqr(by["float32"])[0]
        _, lo, hi = median_iqr(by["float64"])
        verdict[pname] = "within" if lo <= med32 <= hi else "outside"
        rows.append([pname, fmt_stat(by["float64"]), fmt_stat(by["float32"]), verdict[pname],
                     fmt_stat(t["float64"]), fmt_stat(t["float32"])])
    return rows, verdict


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the parts asked for and write ``float32.{json,md}`` (or ``float32_timing.*``) to ``--out``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 2000, 5000])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--n-initial", type=int, default=10)
    ap.add_argument("--problems", nargs="+", default=PROBLEMS)
    ap.add_argument("--no-regret", action="store_true", help="skip the regret part")
    ap.add_argument("--timing-only", action="store_true", help="only the suggestion timing")
    ap.add_argument("--timing-n", type=int, nargs="+", default=[5000, 10000])
    ap.add_argument("--device", default="cpu", help="device of the timing part")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, seconds (tests, dry runs)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    ap.add_argument("--note", default="")
    a = ap.parse_args(argv)
    if a.smoke:
        a.sizes, a.seeds, a.budget, a.n_initial, a.problems, a.timing_n = [50], 1, 6, 4, ["branin"], [40]
    stem = "float32_timing" if a.timing_only else "float32"
    header = run_header("benchmarks/float32.py", "smoke" if a.smoke else "full", dict(vars(a), out=str(a.out)),
                        note=a.note)
    out: dict[str, Any] = {}
    lines = [f"# float32 vs float64 ({'smoke' if a.smoke else 'issue 22.1'})", ""]
    if a.timing_only:
        rows = []
        for n in a.timing_n:
            t = {dt: suggestion_time(n, dt, a.device) for dt in ("float64", "float32")}
            out[str(n)] = t
            rows.append([n, f"{t['float64']:.3f}", f"{t['float32']:.3f}", f"{t['float64'] / t['float32']:.2f}x"])
            print(rows[-1], flush=True)
        lines += [f"One suggestion (tell + ask), global GP, d = 20, device {a.device}, median of 3 steps.", "",
                  markdown_table(["n", "float64 s", "float32 s", "speed-up"], rows)]
    else:
        post = [posterior_errors(n) for n in a.sizes]
        out["posterior"] = post
        lines += ["## Posterior error of float32 against float64 (fixed data)", "",
                  "Largest error over 2,000 test points (half within 1e-3 of a training point): mean in "
                  "prior standard deviations, variance in prior variances. `mean_var` is the GP's own "
                  "posterior (variance as os - |L^-1 k|^2); `K^-1 form` is os - k^T K^-1 k, which the "
                  "acquisitions' closed-form gradients and the screening kernel use.", "",
                  markdown_table(["n", "outputscale", "fitted noise", "float32 jitter", "mean error",
                                  "variance error (mean_var)", "variance error (K^-1 form)"],
                                 [[p["n"], f"{p['outputscale']:.3g}", f"{p['noise']:.2g}", f"{p['jitter32']:.2g}",
                                   f"{p['mean_err']:.2e}", f"{p['var_err']:.2e}", f"{p['var_err_kinv']:.2e}"]
                                  for p in post]), ""]
        if not a.no_regret:
            runs = regret_runs(a.problems, a.seeds, a.budget, a.n_initial)
            rows, verdict = _regret_table(runs, a.problems)
            out["regret"], out["verdict"] = runs, verdict
            lines += ["## Simple regret, float32 vs float64", "",
                      f"gpu_bo.Optimizer defaults (EI), CPU, {a.seeds} seeds, budget {a.budget} "
                      f"({a.n_initial} initial). Median [IQR]; 'within' when the float32 median lies in "
                      "float64's IQR. svc_cancer / hgb_cancer (cross-validated sklearn) left out for compute.", "",
                      markdown_table(["problem", "float64 regret", "float32 regret", "float32 median",
                                      "float64 method s", "float32 method s"], rows)]
    header.finish()
    write_json(a.out / f"{stem}.json", {"header": header.as_dict(), "results": out})
    write_text(a.out / f"{stem}.md", "\n".join([lines[0], "", header.markdown(), ""] + lines[1:]) + "\n")
    return out


if __name__ == "__main__":
    main()
