"""The op-count budget of the CUDA-bound loops (issue 22.2): aten ops that are not views, each at
least one kernel launch on CUDA, per Adam step of the GP fit and per refinement step of the
acquisition's maximization, counted on the CPU (benchmarks/op_count.py; numbers in
benchmarks/results/op_count.md). A change that adds ops to either loop fails here."""

from __future__ import annotations

import pytest

from benchmarks.op_count import count_ops, fit_ops_per_step, refine_ops_per_step

# counted (benchmarks/results/op_count.md) and the margin allowed above them
FIT_KERNEL_OPS = 100
REFINE_KERNEL_OPS = 97
MARGIN = 1.1


def test_counter_counts_ops_and_views():
    import torch

    x = torch.ones(3, 4)
    c = count_ops(lambda: (x + 1).unsqueeze(0).sum())
    assert c.counts["add"] == 1 and c.counts["sum"] == 1
    assert c.views == 1 and c.kernels == c.total - 1


@pytest.mark.parametrize("n", [16, 40])
def test_fit_adam_step_within_op_budget(n):
    per, by = fit_ops_per_step(n=n)
    assert per["kernels"] > 0.5 * FIT_KERNEL_OPS, per  # the counter really saw the step
    assert per["kernels"] <= FIT_KERNEL_OPS * MARGIN, (per, by.most_common(10))
    assert by["_fused_adam_"] == 1 or by["lerp_"] >= 1  # fused Adam, or its fallback


def test_refinement_step_within_op_budget():
    per, by = refine_ops_per_step(n=16)
    assert per["kernels"] > 0.5 * REFINE_KERNEL_OPS, per
    assert per["kernels"] <= REFINE_KERNEL_OPS * MARGIN, (per, by.most_common(10))
