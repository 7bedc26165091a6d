"""Plot a study: convergence of two acquisition functions, the GP's partial dependence, and
where the search went. Writes four PNG files (no display needed): the partial dependence once
for every parameter and once for the two chosen with ``params=``.

    python examples/plots.py [--trials 25] [--out-dir .]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import gpu_bo as gb  # noqa: E402
from gpu_bo import plots  # noqa: E402


def branin(p: dict) -> float:
    """The Branin function (minimum 0.397887 at three points), with a categorical offset."""
    x, y = p["x"], p["y"]
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    v = (y - b * x ** 2 + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10
    return v + {"plain": 0.0, "shifted": 2.0}[p["variant"]]


def main(argv: list[str] | None = None) -> list[Path]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=25)
    ap.add_argument("--out-dir", default=".")
    args = ap.parse_args(argv)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    space = gb.Space({"x": gb.Real(-5.0, 10.0), "y": gb.Real(0.0, 15.0),
                      "variant": gb.Categorical(["plain", "shifted"])})
    studies = []
    for acq in ("ei", "ucb"):
        opt = gb.Optimizer(space, direction="minimize", acquisition=acq, seed=0)
        for _ in range(args.trials):
            p = opt.ask()
            opt.tell(p, branin(p))
        studies.append(opt)
        print(f"{acq}: best {opt.best['value']:.4f} at {opt.best['params']}")

    paths = [out / "convergence.png", out / "objective.png", out / "evaluations.png", out / "objective_xy.png"]
    plots.plot_convergence(studies, labels=["ei", "ucb"]).figure.savefig(paths[0])
    # yellow is better in every colored panel; the colorbar says "lower is better" here
    plots.plot_objective(studies[0])[0, 0].figure.savefig(paths[1])
    plots.plot_evaluations(studies[0])[0, 0].figure.savefig(paths[2])
    plots.plot_objective(studies[0], params=["x", "y"])[0, 0].figure.savefig(paths[3])
    for p in paths:
        print(f"wrote {p}")
    return paths


if __name__ == "__main__":
    main()
