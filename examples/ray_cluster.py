"""The torch MLP example (examples/torch_mlp.py) with every trial running as a Ray task.

The optimizer stays in this (driver) process; each trial runs wherever Ray finds its
resources free. When the cluster has GPUs each trial asks for ``--gpus-per-trial`` of one
(0.5: two trials share a GPU) and trains on it (``trial.device`` is the GPU Ray assigned);
without GPUs each trial takes one CPU.

On one machine (a local Ray is started on demand; under a minute on a 2-core CPU):

    python examples/ray_cluster.py

On a cluster: ``ray start --head`` on one node, ``ray start --address=<head-ip>:6379`` on the
others, then run this on the head node (or pass ``--address ray://<head-ip>:10001`` from
elsewhere). ``--db`` keeps the study in SQLite: rerunning continues it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import ray
import torch

import gpu_bo as gb
from gpu_bo.pruners import MedianPruner
from gpu_bo.runner import RunOptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_mlp import SPACE, make_objective  # noqa: E402  (the same objective; shipped to workers by value)


def main(argv: list[str] | None = None) -> gb.Study:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--address", default=None, help="Ray cluster address (default: local / `ray start`)")
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2, help="trials running at once")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--gpus-per-trial", type=float, default=0.5)
    ap.add_argument("--db", default=None, help="SQLite file to keep (and resume) the study")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    if not ray.is_initialized():
        ray.init(address=args.address, include_dashboard=False)
    n_gpus = ray.cluster_resources().get("GPU", 0)
    resources = {"num_cpus": 1}
    if n_gpus > 0:
        resources["num_gpus"] = args.gpus_per_trial
    print(f"Ray cluster: {ray.cluster_resources()}; each trial gets {resources}")

    space = SPACE
    t0 = time.perf_counter()
    study = gb.optimize(
        make_objective(args.epochs, args.seed), space, args.trials, direction="maximize",
        n_workers=args.workers, backend="ray", seed=args.seed,
        storage=None if args.db is None else f"sqlite:///{args.db}", study_name="ray_mlp",
        pruner=MedianPruner(n_startup_trials=4, n_warmup_steps=3),
        options=RunOptions(n_initial=6, backend_kwargs={"resources_per_trial": resources}),
    )
    states = [t.state.value for t in study.trials]
    print(f"{len(states)} trials in {time.perf_counter() - t0:.1f} s: {states.count('COMPLETE')} complete, "
          f"{states.count('PRUNED')} pruned, {states.count('FAILED')} failed")
    print(f"best validation accuracy {study.best_value:.4f} with {study.best_params}")
    return study


if __name__ == "__main__":
    main()
