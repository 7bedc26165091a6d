"""Which distance the GP uses on a conditional space (issue 17, item 2), chosen by measurement.

Every variant is a :class:`gpu_bo.kernels.conditional.Columns` passed where the kernels take
the categorical columns (``cat``), so the fit, the posterior, the screening and the acquisition
gradient all read the one rule (kernels/conditional.py has the formulas):

    impute       the encoding as it is: inactive columns hold conditions.INACTIVE (0.5)
    flag         impute, plus one squared lengthscale per column active in only one point
                 (imputation plus an activity indicator)
    arc          the arc kernel's embedding: an inactive column is equally far from every
                 active value, two inactive ones coincide

``DEFAULT`` is the one that won benchmarks/results/conditional_model_ab.md.
"""

from __future__ import annotations

from typing import Any

from gpu_bo.kernels.conditional import MODES, Columns

__all__ = ["DEFAULT", "VARIANTS", "column_spec", "parent_columns"]

VARIANTS = MODES
DEFAULT = "arc"


def column_spec(space: Any, kind: str | None = None) -> tuple[int, ...]:
    """The kernels' column spec of ``space``: its categorical columns, and on a conditional
    space the rule ``kind`` (``DEFAULT`` when None) for inactive columns.

    Args:
        space: a :class:`gpu_bo.Space` (its ``cat_columns``, ``conditional``, ``active_mask``).
        kind: one of ``VARIANTS``, or None for ``DEFAULT``.

    Returns:
        A plain tuple for a flat space (the kernels' unchanged path), else a ``Columns``.

    Raises:
        ValueError: ``kind`` is not one of ``VARIANTS``.
    """
    kind = DEFAULT if kind is None else kind
    if kind not in VARIANTS:
        raise ValueError(f"kind: got {kind!r}, expected one of {sorted(VARIANTS)}")
    cat = tuple(space.cat_columns)
    if not space.conditional:
        return cat
    dims = list(space.dims.values())
    cond = [i for i, dim in enumerate(dims) if dim.when is not None]
    return Columns(cat, space.active_mask, cond, parent_columns(space), space.n_bins, mode=kind)


def parent_columns(space: Any) -> list[int]:
    """The encoded columns of ``space``'s parents (dimensions some ``when`` names), in order."""
    names = {p for dim in space.dims.values() if dim.when is not None for p in dim.when.parents}
    return [i for i, name in enumerate(space.names) if name in names]
