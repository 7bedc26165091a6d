"""Pareto fronts, reference points and hypervolumes of a multi-objective study (user units).

Glossary: ``values`` is one list of objective values per trial (``n x m``), in the user's units;
``directions`` says per objective whether it is minimized or maximized. Internally everything is
turned into "larger is better" (:func:`to_max`, the sign flip of :class:`gpu_bo.study.Direction`).

The non-dominated filter is numpy (written here because BoTorch's ``is_non_dominated`` needs
torch, and the study, CLI and plots use this module without torch); the hypervolume is
BoTorch's (imported lazily).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gpu_bo.direction import Direction

__all__ = ["non_dominated", "pareto_mask", "to_max", "infer_reference_point", "hypervolume"]

REF_POINT_SCALE = 0.1  # the inferred reference point: worst value moved 10% of the range further


def to_max(values: Sequence[Sequence[float]], directions: Sequence[str]) -> np.ndarray:
    """``values`` (``n x m``) with each column turned larger-is-better (minimized ones negated).

    Raises:
        ValueError: a row's length differs from the number of directions.
    """
    signs = np.array([Direction.parse(d, f"directions[{i}]").sign for i, d in enumerate(directions)])
    Y = np.asarray(values, dtype=float).reshape(-1, len(signs)) if len(values) else np.zeros((0, len(signs)))
    if len(values) and any(len(v) != len(signs) for v in values):
        raise ValueError(f"values: expected {len(signs)} values per row (one per direction), got rows of "
                         f"lengths {sorted({len(v) for v in values})}")
    return Y * signs


def non_dominated(Y: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """A boolean mask of the rows of ``Y`` (``n x m``, larger is better) that no row dominates.

    A row dominates another when it is at least as good in every column and better in one; exact
    duplicates of a non-dominated row are all kept. O(n x front size) numpy work.
    """
    Y = np.asarray(Y, dtype=float)
    n = Y.shape[0]
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    # visit rows best-first on the sum (a dominator always has a larger sum, so it comes first)
    order = np.argsort(-Y.sum(axis=1), kind="stable")
    front: list[int] = []
    for i in order:
        if front:
            F = Y[front]
            if np.any(np.all(F >= Y[i], axis=1) & np.any(F > Y[i], axis=1)):
                continue
        front.append(int(i))
    mask[front] = True
    return mask


def pareto_mask(values: Sequence[Sequence[float]], directions: Sequence[str]) -> list[bool]:
    """Per row of ``values`` (user units), whether it is on the Pareto front for ``directions``."""
    return non_dominated(to_max(values, directions)).tolist()


def infer_reference_point(values: Sequence[Sequence[float]], directions: Sequence[str]) -> list[float]:
    """A reference point in user units, inferred from observed ``values``.

    Per objective: the worst value among the Pareto-optimal rows, moved a further
    ``REF_POINT_SCALE`` (10%) of the front's range toward worse (a range of 0 counts as 1 when
    the value is 0, else as ``|value|``). This is BoTorch's ``infer_reference_point`` rule, which
    the hypervolume acquisition uses (:mod:`gpu_bo.acquisition.multi_objective`), except where a
    range is 0: BoTorch then clamps it to 1e-9 (or uses ``|value|`` for a single point).

    Raises:
        ValueError: ``values`` is empty.
    """
    Y = to_max(values, directions)
    if Y.shape[0] == 0:
        raise ValueError("values: got no rows; a reference point is inferred from at least one point")
    front = Y[non_dominated(Y)]
    lo, hi = front.min(axis=0), front.max(axis=0)
    span = hi - lo
    span = np.where(span > 0, span, np.where(lo != 0, np.abs(lo), 1.0))
    ref_max = lo - REF_POINT_SCALE * span
    signs = np.array([Direction.parse(d).sign for d in directions])
    return (ref_max * signs).tolist()


def hypervolume(values: Sequence[Sequence[float]], directions: Sequence[str],
                ref_point: Sequence[float]) -> float:
    """The hypervolume dominated by ``values`` and bounded by ``ref_point`` (all in user units).

    Points not strictly better than ``ref_point`` in every objective add nothing. Computed by
    BoTorch's ``Hypervolume`` on the larger-is-better view of the Pareto-optimal rows.

    Raises:
        ValueError: ``ref_point`` does not have one entry per direction.
    """
    if len(ref_point) != len(directions):
        raise ValueError(f"ref_point: got {list(ref_point)!r}, expected {len(directions)} values "
                         "(one per objective)")
    Y = to_max(values, directions)
    ref = to_max([list(ref_point)], directions)[0]
    Y = Y[np.all(Y > ref, axis=1)]
    if Y.shape[0] == 0:
        return 0.0
    Y = Y[non_dominated(Y)]
    if Y.shape[1] == 1:
        return float(Y.max() - ref[0])
    import torch
    from botorch.utils.multi_objective.hypervolume import Hypervolume

    hv = Hypervolume(ref_point=torch.tensor(ref, dtype=torch.float64, device="cpu"))
    return float(hv.compute(torch.tensor(Y, dtype=torch.float64, device="cpu")))
