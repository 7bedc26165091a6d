"""Acquisition functions behind one protocol: analytic EI/PI/UCB and Monte Carlo qEI/qPI/qUCB/qNEI.

Its modules:

- ``base.py``: the protocol (``Acquisition``), the names, ``AcqSpec``
- ``analytic.py``: EI/PI/UCB on the GP factors, closed-form gradient
- ``mc.py``: BoTorch's q-variants, wrapped
- ``constrained.py``: outcome constraints (constrained EI/PI, constrained qLogNEI)
- ``multi_objective.py``: several objectives (qLogNEHVI, qLogNParEGO)

The last two are built by :mod:`gpu_bo.multi_output` (several outputs), not by :func:`build`.

Everything maximizes: the optimizer flips the sign of minimized objectives
(:class:`gpu_bo.study.Direction`) before the GP sees them. :func:`build` is the one entry.
"""

from __future__ import annotations

import torch

from gpu_bo.acquisition.analytic import AnalyticAcq
from gpu_bo.acquisition.base import (
    ACQUISITIONS,
    ANALYTIC,
    DEFAULT_KAPPA,
    MONTE_CARLO,
    Q_OF,
    AcqSpec,
    Acquisition,
    BoTorchAcq,
    FunctionAcq,
    as_acquisition,
    check_name,
    evaluate,
)
from gpu_bo.acquisition.mc import build_mc
from gpu_bo.surrogate import FittedGP

__all__ = ["ANALYTIC", "MONTE_CARLO", "ACQUISITIONS", "DEFAULT_KAPPA", "AcqSpec", "Acquisition",
           "AnalyticAcq", "BoTorchAcq", "FunctionAcq", "as_acquisition", "build", "check_name", "evaluate"]


def build(spec: AcqSpec, gp: FittedGP, X_pending: torch.Tensor | None = None, q: int = 1) -> Acquisition:
    """Build the acquisition ``b x q x d -> b`` (larger is better) that ``spec`` names.

    Analytic names without pending points and with ``q == 1`` give an :class:`AnalyticAcq`;
    otherwise the name's Monte Carlo counterpart (``ei`` -> ``qei``, ...) on the GP, with the
    pending points folded in.

    Args:
        spec: name, incumbent (raw units), margins, samples and seed.
        gp: the fitted GP; its units convert the incumbent and ``xi``.
        X_pending: ``m x d`` points being evaluated, or None.
        q: points scored jointly per candidate set.

    Raises:
        ValueError: the name is not one of :data:`ACQUISITIONS`.
    """
    name = check_name(spec.name)
    best_f_std = gp.to_std(spec.best_f)
    xi_std = gp.scale_to_std(spec.xi)
    has_pending = X_pending is not None and X_pending.numel() > 0
    if name in ANALYTIC and not has_pending and q == 1:
        return AnalyticAcq(gp, name, best_f_std, xi_std, spec.kappa)
    return build_mc(Q_OF.get(name, name), spec, gp, best_f_std, xi_std, X_pending if has_pending else None)
