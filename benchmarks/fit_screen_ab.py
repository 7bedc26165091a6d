"""Cold GP fits on more points than the screen: all restarts at full size against screened restarts.

``before``: the cold L-BFGS fit runs its 4 restarts as one batch on all the fit points (up to
``FitOptions.max_fit_points`` = 512). ``after`` (the default since this file): the 4 restarts run
on a ``--screen-points`` subset (128, :data:`gpu_bo.surrogate.fit.SCREEN_POINTS`; the best 20% and
a random rest), and the best one alone is then fitted on all the fit points for the warm fit's 15
iterations. fit_screen_ab_256.md holds the first measurement, with a 256-point screen.

Data: uniform random inputs, ``n`` in {200, 300, 500, 1000}, on DTLZ2 (d = 6, both objectives, as the
multi-objective timing's data), Hartmann6, Ackley-10 and Rosenbrock-6 (log of 1 + f). Cells: the
process CPU seconds of one cold fit, the final negative log posterior per point on the fit set
(lower is better; both variants evaluated the same way) and the RMSE of the posterior mean on
500 held-out points, standardized (median [IQR] over seeds).

Usage::

    python benchmarks/fit_screen_ab.py --seeds 5
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import gpu_bo.surrogate.fit as fit_mod
from benchmarks.common import RESULTS_DIR, fmt_stat, markdown_table, median_iqr, run_header, write_json, write_text


def _hartmann6(x: np.ndarray) -> np.ndarray:
    a = np.array([1.0, 1.2, 3.0, 3.2])
    A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
    P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
    return -(a * np.exp(-((x[:, None, :] - P) ** 2 * A).sum(-1))).sum(-1)


def _ackley(x: np.ndarray) -> np.ndarray:
    z = 65.536 * x - 32.768
    d = z.shape[1]
    return (-20 * np.exp(-0.2 * np.sqrt((z ** 2).sum(1) / d)) - np.exp(np.cos(2 * np.pi * z).sum(1) / d)
            + 20 + math.e)


def _rosenbrock(x: np.ndarray) -> np.ndarray:
    z = 15 * x - 5
    return np.log1p((100 * (z[:, 1:] - z[:, :-1] ** 2) ** 2 + (1 - z[:, :-1]) ** 2).sum(1))


def _dtlz2(x: np.ndarray, k: int) -> np.ndarray:
    g = ((x[:, 1:] - 0.5) ** 2).sum(1)
    return (1 + g) * (np.cos(0.5 * np.pi * x[:, 0]) if k == 0 else np.sin(0.5 * np.pi * x[:, 0]))


PROBLEMS: dict[str, tuple[int, Callable[[np.ndarray], np.ndarray]]] = {
    "dtlz2_f1": (6, lambda x: _dtlz2(x, 0)), "dtlz2_f2": (6, lambda x: _dtlz2(x, 1)),
    "hartmann6": (6, _hartmann6), "ackley10": (10, _ackley), "rosenbrock6": (6, _rosenbrock),
}


def one(problem: str, n: int, seed: int, screen: bool, screen_points: int = 128) -> dict[str, float]:
    d, f = PROBLEMS[problem]
    rng = np.random.default_rng(seed)
    X, Xt = rng.random((n, d)), rng.random((500, d))
    y, yt = -f(X), -f(Xt)  # larger is better, as the optimizer's training data
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    saved = fit_mod.SCREEN_POINTS
    fit_mod.SCREEN_POINTS = screen_points if screen else 10**9
    try:
        t0 = time.process_time()
        gp = fit_mod.fit_gp(X_t, y_t, seed=seed)
        cpu = time.process_time() - t0
    finally:
        fit_mod.SCREEN_POINTS = saved
    ys = float(y.std())
    ystd = (y_t - gp.y_mean) / gp.y_std
    p = gp.params
    raw = torch.cat([p.lengthscale.log(), p.outputscale.log().reshape(1),
                     (p.noise - fit_mod.NOISE_FLOOR).clamp_min(1e-30).log().reshape(1), p.mean_const.reshape(1)])
    Xf, yf = fit_mod._fit_subset(X_t, ystd, fit_mod.FitOptions().max_fit_points, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        loss = float(fit_mod._neg_log_post(raw.unsqueeze(0), Xf, yf, (), gp.jitter, None)[0])
        mu = gp.from_std(gp.mean_var(torch.as_tensor(Xt))[0]).numpy()
    rmse = float(np.sqrt(np.mean((mu - yt) ** 2)) / (ys if ys > 0 else 1.0))
    return {"cpu_s": cpu, "loss": loss, "rmse": rmse}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--ns", type=int, nargs="+", default=[200, 300, 500, 1000])
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    ap.add_argument("--screen-points", type=int, default=128, help="the after variant's subset size")
    ap.add_argument("--name", default="fit_screen_ab", help="the result files' name")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = ap.parse_args()
    torch.set_num_threads(1)
    header = run_header("benchmarks/fit_screen_ab.py", "full", {"seeds": args.seeds, "ns": args.ns,
                                                                 "problems": args.problems, "threads": 1,
                                                                 "screen_points": args.screen_points})
    rows, runs = [], []
    for prob in args.problems:
        for n in args.ns:
            cells: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
            for seed in range(args.seeds):
                for variant in ("before", "after"):  # alternate, so load drifts hit both
                    r = one(prob, n, seed, variant == "after", args.screen_points)
                    runs.append({"problem": prob, "n": n, "seed": seed, "variant": variant, **r})
                    for k, v in r.items():
                        cells[variant].setdefault(k, []).append(v)
            b, a = cells["before"], cells["after"]
            ratio = median_iqr([x / y for x, y in zip(a["cpu_s"], b["cpu_s"])])[0]
            wins = sum(x <= y + 1e-9 for x, y in zip(a["loss"], b["loss"]))
            rows.append([prob, n, fmt_stat(b["cpu_s"]), fmt_stat(a["cpu_s"]),
                         f"{ratio:.2f}", fmt_stat(b["loss"]), fmt_stat(a["loss"]),
                         f"{wins}/{args.seeds}", fmt_stat(b["rmse"]), fmt_stat(a["rmse"])])
            print(" | ".join(str(c) for c in rows[-1]), flush=True)
    header.finish()
    table = markdown_table(["problem", "n", "CPU s before", "CPU s after", "after/before", "loss before",
                            "loss after", "after <= before", "RMSE before", "RMSE after"], rows)
    text = (f"# Cold GP fits: restarts screened on {args.screen_points} points (benchmarks/fit_screen_ab.py)\n\n{header.markdown()}\n\n"
            f"{__doc__.split(chr(10) + chr(10), 1)[1].split('Usage::')[0].strip()}\n\n{table}\n")
    write_text(args.out / f"{args.name}.md", text)
    write_json(args.out / f"{args.name}.json", {"header": header.as_dict(), "runs": runs})


if __name__ == "__main__":
    main()
