"""Outcome constraints (the next capability; no code yet, the design is here).

A trial is feasible iff every constraint value is ``<= 0`` (DESIGN.md, "Contract for the next
capabilities"). Each constraint ``c_j`` gets its own GP, fitted in the same batched call as the
objective's (the optimizer's training data already carry ``Y`` as ``n x m``: objectives first,
then constraints).

What will live here:

- ``ConstrainedAnalyticAcq(Acquisition)``: log EI of the objective plus
  ``sum_j log P(c_j(x) <= 0)`` (each term a normal log CDF of the constraint GP's posterior,
  ``log_ndtr(-mu_j / sigma_j)``), with ``has_value_and_grad`` True: the gradient is the sum of
  :mod:`.analytic`'s closed form and each log CDF's (same Matern helper,
  ``kernels.reference.matern52_terms``). The incumbent is the best *feasible* observed value.
  Before any point is feasible there is no incumbent: the acquisition is the log probability of
  feasibility alone, so the search first finds the feasible region.
- Monte Carlo: BoTorch's ``qLogNoisyExpectedImprovement`` with ``constraints=[callable per
  c_j]`` (its feasibility-weighted, fat-tailed sigmoid), wrapped as a
  :class:`~gpu_bo.acquisition.base.BoTorchAcq` like :mod:`.mc`.

How it plugs in: :func:`gpu_bo.acquisition.build` dispatches here when the spec carries
constraint GPs; :mod:`gpu_bo.maximize` needs nothing new (it only asks the protocol), and
:mod:`gpu_bo.batch` believes a chosen point in every GP (objective and constraints) before the
next round of a sequential-greedy batch, and passes pending points to the Monte Carlo form.
"""

from __future__ import annotations

__all__: list[str] = []
