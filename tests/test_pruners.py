"""Pruners (gpu_bo/pruners.py): decisions on fixed learning curves, and the old import path."""

from __future__ import annotations

import pytest

from gpu_bo.pruners import MedianPruner, NopPruner


def test_median_pruner_minimize_and_maximize():
    others = [{0: 1.0, 1: 0.5}, {0: 2.0, 1: 1.0}, {0: 3.0, 1: 2.0}]
    p = MedianPruner(n_startup_trials=3)
    assert p.should_prune({0: 5.0}, others, "minimize")          # 5 > median 2
    assert not p.should_prune({0: 1.5}, others, "minimize")
    assert not p.should_prune({0: 5.0}, others, "maximize")      # big is good
    assert p.should_prune({0: 1.5}, others, "maximize")
    # best-so-far: an early good value keeps the trial alive
    assert not p.should_prune({0: 0.1, 1: 9.0}, others, "minimize")
    # too few finished trials, warm-up and interval
    assert not MedianPruner(n_startup_trials=4).should_prune({0: 5.0}, others, "minimize")
    assert not MedianPruner(n_startup_trials=1, n_warmup_steps=1).should_prune({0: 5.0}, others, "minimize")
    assert not MedianPruner(n_startup_trials=1, interval_steps=2).should_prune({1: 5.0}, others, "minimize")
    assert not NopPruner().should_prune({0: 1e9}, others, "minimize")
    with pytest.raises(ValueError, match="interval_steps"):
        MedianPruner(interval_steps=0)


def test_pruners_keep_their_old_import_path():
    import gpu_bo.objectives as objectives
    import gpu_bo.pruners as pruners

    for name in ("Pruner", "NopPruner", "MedianPruner"):
        assert getattr(objectives, name) is getattr(pruners, name)
