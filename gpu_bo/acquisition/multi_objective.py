"""Several objectives (the next capability; no code yet, the design is here).

``Optimizer(space, directions=[...])`` and ``tell(p, [v1, v2, ...])`` (DESIGN.md, "Contract for
the next capabilities"): each objective is turned into one to maximize by its own
:class:`gpu_bo.study.Direction`, and the training data's ``Y`` (``n x m``, already built per
trial from ``trial.values``) goes to one batched GP per objective (``batch_shape = m``).

What will live here:

- ``hypervolume_acq(...)``: BoTorch's ``qLogNoisyExpectedHypervolumeImprovement`` (qLogNEHVI)
  over the ``m`` GPs, for 2-3 objectives, wrapped as a
  :class:`~gpu_bo.acquisition.base.BoTorchAcq` (``is_monte_carlo`` True). Its box
  decompositions grow fast with the number of objectives, so from 4 objectives on it is
  ``qLogNParEGO`` (random Chebyshev scalarizations, one per point of a batch).
- The reference point: given by the user, or inferred from the data as BoTorch's
  ``infer_reference_point`` does (slightly worse than the worst observed value per objective).
- ``pareto_mask(Y)``: the feasible non-dominated rows, for ``Optimizer.pareto`` and the plots.

How it plugs in: :func:`gpu_bo.acquisition.build` dispatches here when the spec has more than
one objective; :mod:`gpu_bo.maximize` needs nothing new (it asks the protocol: Monte Carlo, no
closed-form gradient, value screening); :mod:`gpu_bo.batch` takes its Monte Carlo path (one
acquisition per point with the pending and already chosen points as ``X_pending``). Outcome
constraints combine with it through :mod:`.constrained`'s feasibility terms.
"""

from __future__ import annotations

__all__: list[str] = []
