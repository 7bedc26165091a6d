"""``tpe.suggest``: pass it to ``fmin`` as ``algo=`` (see :mod:`gpu_bo.integrations.hyperopt.algos`)."""

from __future__ import annotations

from gpu_bo.integrations.hyperopt.algos import marker

__all__ = ["suggest"]

suggest = marker(__name__)
