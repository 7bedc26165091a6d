"""Tune a small PyTorch MLP on scikit-learn's digits, on the GPU when present, with pruning.

Searched: learning rate (log scale), hidden width, dropout and weight decay. The objective
takes ``trial`` (its parameter is named so), trains on ``trial.device``, reports the
validation accuracy after every epoch with ``trial.report``, and stops early when the
median-stopping pruner says the trial is clearly worse than the others
(``trial.should_prune()`` -> ``raise gb.TrialPruned``). Pruned trials are recorded as
PRUNED with their last value. Under a minute on a 2-core CPU.

    python examples/torch_mlp.py [--trials 16] [--epochs 15] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

import gpu_bo as gb
from gpu_bo.pruners import MedianPruner
from gpu_bo.runner import RunOptions, optimize


def make_objective(epochs: int, seed: int):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)

    def objective(trial) -> float:
        p, dev = trial.params, trial.device
        torch.manual_seed(seed)
        xt = torch.as_tensor(X_tr, dtype=torch.float32, device=dev)
        yt = torch.as_tensor(y_tr, dtype=torch.long, device=dev)
        xv = torch.as_tensor(X_va, dtype=torch.float32, device=dev)
        yv = torch.as_tensor(y_va, dtype=torch.long, device=dev)
        model = nn.Sequential(nn.Linear(64, p["width"]), nn.ReLU(), nn.Dropout(p["dropout"]),
                              nn.Linear(p["width"], 10)).to(dev)
        opt = torch.optim.AdamW(model.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
        loss_fn = nn.CrossEntropyLoss()
        acc = 0.0
        for epoch in range(epochs):
            model.train()
            for idx in torch.randperm(len(xt), device=dev).split(64):
                opt.zero_grad()
                loss_fn(model(xt[idx]), yt[idx]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                acc = (model(xv).argmax(1) == yv).float().mean().item()
            trial.report(epoch, acc)
            if trial.should_prune():
                raise gb.TrialPruned()
        return acc

    return objective


SPACE = gb.Space({
    "lr": gb.Real(1e-4, 3e-1, log=True),
    "width": gb.Integer(16, 256, log=True),
    "dropout": gb.Real(0.0, 0.6),
    "weight_decay": gb.Real(1e-6, 1e-1, log=True),
})


def main(argv: list[str] | None = None) -> gb.Study:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # tiny model: more threads only add overhead on small CPUs

    space = SPACE
    t0 = time.perf_counter()
    study = optimize(make_objective(args.epochs, args.seed), space, args.trials, direction="maximize",
                     seed=args.seed, pruner=MedianPruner(n_startup_trials=4, n_warmup_steps=3),
                     options=RunOptions(n_initial=6))
    states = [t.state.value for t in study.trials]
    epochs_run = sum(len(t.intermediate) for t in study.trials)
    print(f"{args.trials} trials in {time.perf_counter() - t0:.1f} s: {states.count('COMPLETE')} complete, "
          f"{states.count('PRUNED')} pruned, {epochs_run}/{args.trials * args.epochs} epochs trained")
    print(f"best validation accuracy {study.best_value:.4f} with {study.best_params}")
    return study


if __name__ == "__main__":
    main()
