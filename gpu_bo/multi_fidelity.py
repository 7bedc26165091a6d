"""Model-based multi-fidelity: one GP over (configuration, resource), maximized at full resource.

With a resource-based pruner (:class:`~gpu_bo.pruners.SuccessiveHalvingPruner`,
:class:`~gpu_bo.pruners.HyperbandPruner`) most trials stop at a low rung, so an optimizer that
learns only from finished trials sees few values. :class:`ResourceModel` learns from every
reported value instead: each (params, step, value) of a finished trial (PRUNED ones included,
their rungs being most of the data) is one training row whose last input column is the resource,
``log(step / min_resource) / log(max_resource / min_resource)`` in ``[0, 1]``; a COMPLETE
trial's returned value is its row at resource 1. New configurations are chosen by the
optimizer's acquisition with that column fixed at 1 (a search box with ``lb = ub = 1`` on it),
the incumbent being the best value observed, or predicted at an observed configuration, at
full resource; pending and running trials are fantasized at resource 1, as without the model.
BO chooses what to start, the pruner what to continue (MOBSTER-style, Klein et al. 2020).

It plugs into :class:`gpu_bo.optimizer.Optimizer` through its ``fidelity`` attribute (the
optimizer asks :meth:`ResourceModel.suggest` first and falls back to its own path when it
returns None); :func:`attach` makes one for a run whose pruner is resource-based
(docs/guide/running.md, "Model-based multi-fidelity").
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch

from gpu_bo import acquisition as acq_mod
from gpu_bo import batch
from gpu_bo.device import cpu_threads
from gpu_bo.dimensions import Real
from gpu_bo.exceptions import GpuBoError, GpuBoWarning
from gpu_bo.maximize import MaximizeOptions, Region
from gpu_bo.space import Space, row_key
from gpu_bo.study import TrialState
from gpu_bo.surrogate import FitOptions, RefitSchedule

if TYPE_CHECKING:
    from gpu_bo.optimizer import Optimizer

__all__ = ["RESOURCE", "ResourceModel", "attach", "resource_bounds"]

RESOURCE = "__resource__"  # the name of the resource column in the augmented space


def resource_bounds(pruner: Any) -> tuple[int, int | None] | None:
    """``(min_resource, max_resource)`` of a resource-based pruner (max None: learned from the
    COMPLETE trials, as for a :class:`~gpu_bo.pruners.SuccessiveHalvingPruner`), or None when
    the pruner has no resource (no pruner, :class:`~gpu_bo.pruners.MedianPruner`)."""
    from gpu_bo.pruners import HyperbandPruner, SuccessiveHalvingPruner

    if isinstance(pruner, HyperbandPruner):
        return int(pruner.min_resource), int(pruner.max_resource)
    if isinstance(pruner, SuccessiveHalvingPruner):
        return int(pruner.min_resource), None
    return None


def attach(opt: Any, pruner: Any) -> ResourceModel | None:
    """Give ``opt`` a :class:`ResourceModel` when ``pruner`` is resource-based and the optimizer
    is a plain single-study :class:`~gpu_bo.optimizer.Optimizer` whose
    ``options.multi_fidelity`` is on; returns the model (None: nothing attached)."""
    from gpu_bo.optimizer import Optimizer

    bounds = resource_bounds(pruner)
    if bounds is None or type(opt) is not Optimizer or not getattr(opt.options, "multi_fidelity", True):
        return None
    opt.fidelity = ResourceModel(*bounds)
    return opt.fidelity


class ResourceModel:
    """The training rows of every report and the suggestion at full resource.

    Args:
        min_resource: the smallest step (resource 0).
        max_resource: the full training's step (resource 1); None: the largest last step of a
            COMPLETE trial so far (the largest step seen while none has completed).
        steps_per_trial: at most this many reports of one trial become rows (its last one and
            log-spaced ones before it), so a trial reporting every epoch does not dominate the
            fit; fewer (down to 2) when the rows would exceed ``max_rows``.
        max_rows: the most training rows of one fit (past it, the newest trials' rows).
    """

    def __init__(self, min_resource: int = 1, max_resource: int | None = None, steps_per_trial: int = 5,
                 max_rows: int = 1000) -> None:
        for label, v, low in (("min_resource", min_resource, 1), ("steps_per_trial", steps_per_trial, 1),
                              ("max_rows", max_rows, 2)):
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{label}: got {v!r}, expected an int >= {low}")
        if max_resource is not None and (isinstance(max_resource, bool) or not isinstance(max_resource, int)
                                         or max_resource < min_resource):
            raise ValueError(f"max_resource: got {max_resource!r}, expected None or an int >= "
                             f"min_resource ({min_resource})")
        self.min_resource, self.max_resource = min_resource, max_resource
        self.steps_per_trial, self.max_rows = steps_per_trial, max_rows
        #: (params, {step: value}, state, final value) of every finished trial, in study direction
        self.reports: list[tuple[dict[str, Any], dict[int, float], TrialState, float | None]] = []
        self._schedule: RefitSchedule | None = None
        self.last_rows = 0

    def observe(self, params: Mapping[str, Any], intermediate: Mapping[int, float], state: TrialState,
                value: float | None) -> None:
        """Take in one finished trial: its reported values and, when COMPLETE, its value.

        Args:
            params: the trial's configuration.
            intermediate: ``{step: value}`` it reported.
            state: its state (FAILED trials give no rows).
            value: its returned value (COMPLETE) or last value (PRUNED).
        """
        vals = {int(s): float(v) for s, v in (intermediate or {}).items() if math.isfinite(float(v))}
        final = float(value) if value is not None and math.isfinite(float(value)) else None
        if state in (TrialState.COMPLETE, TrialState.PRUNED):
            self.reports.append((dict(params), vals, state, final))

    # -- training rows ---------------------------------------------------------------------------
    def full_resource(self) -> int:
        """The step taken as resource 1 (see ``max_resource``)."""
        if self.max_resource is not None:
            return self.max_resource
        done = [max(v) for _, v, st, _ in self.reports if st == TrialState.COMPLETE and v]
        seen = [max(v) for _, v, _, _ in self.reports if v]
        return max(done or seen or [self.min_resource])

    def resource(self, step: float) -> float:
        """``step`` on the ``[0, 1]`` log scale (``min_resource`` at 0, the full resource at 1)."""
        top = self.full_resource()
        if top <= self.min_resource:
            return 1.0
        r = math.log(max(step, self.min_resource) / self.min_resource) / math.log(top / self.min_resource)
        return min(1.0, max(0.0, r))

    def _kept_steps(self, steps: list[int], k: int) -> list[int]:
        """The last step and up to ``k - 1`` log-spaced earlier ones."""
        steps = sorted(steps)
        if len(steps) <= k:
            return steps
        logs = [math.log(max(s, 1)) for s in steps]
        picks = {len(steps) - 1}
        for j in range(k - 1):
            target = logs[0] + (logs[-1] - logs[0]) * j / max(1, k - 1)
            picks.add(min(range(len(steps)), key=lambda i: abs(logs[i] - target)))
        return [steps[i] for i in sorted(picks)]

    def rows(self, sign: float) -> tuple[list[dict[str, Any]], list[float], list[float]]:
        """The training rows: configurations, resources and values (``sign`` times the study's
        values, larger is better)."""
        top = self.full_resource()
        k = self.steps_per_trial
        while k > 2 and sum(min(len(v), k) + 1 for _, v, _, _ in self.reports) > self.max_rows:
            k -= 1
        chunks: list[list[tuple[dict[str, Any], float, float]]] = []
        n = 0
        for p, vals, st, final in reversed(self.reports):  # the newest trials first, up to max_rows
            at_full = st == TrialState.COMPLETE and final is not None
            steps = self._kept_steps([s for s in vals if not (at_full and s >= top)], k)
            chunk = [(p, self.resource(s), sign * vals[s]) for s in steps] + ([(p, 1.0, sign * final)] if at_full else [])
            if chunks and n + len(chunk) > self.max_rows:
                break
            chunks.append(chunk)
            n += len(chunk)
        rows = [r for chunk in reversed(chunks) for r in chunk]  # in the order the trials finished
        params, res, ys = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
        return params, res, ys

    # -- the suggestion --------------------------------------------------------------------------
    def suggest(self, opt: Optimizer, q: int, exclude: set, seed: int) -> list[dict[str, Any]] | None:
        """``q`` configurations chosen at full resource, or None (the optimizer's own path):
        several objectives or constraints, fewer than ``opt.n_initial`` configurations with a
        report, or a failed step (warned about).

        Args:
            opt: the optimizer (its space, acquisition, options, trials and pending points).
            q: how many points.
            exclude: keys of the optimizer's points never to suggest (unused: the model keeps
                its own keys of the augmented rows).
            seed: the suggestion's seed.
        """
        if len(opt.directions) > 1 or opt.n_constraints is not None:
            return None
        # each finished trial is a configuration of its own (the optimizer never repeats a point)
        if len(self.reports) < max(opt.n_initial, 2) or len(opt.trials) < opt.n_initial:
            return None
        try:
            with cpu_threads(opt.device, len(self.reports) * 2, opt.options.cpu_threads):
                return self._points(opt, q, seed, opt.device)
        except GpuBoError:
            raise
        except Exception as err:  # noqa: BLE001 - ask() must not lose the study
            warnings.warn(f"the multi-fidelity step failed ({type(err).__name__}: {err}); using the "
                          "finished trials only for this suggestion", GpuBoWarning, stacklevel=4)
            return None

    def _points(self, opt: Optimizer, q: int, seed: int, device: torch.device) -> list[dict[str, Any]]:
        space, dtype = opt.space, opt.dtype
        if RESOURCE in space.dims:
            raise ValueError(f"space: a parameter is named {RESOURCE!r}, the multi-fidelity model's "
                             "resource column; rename it or set OptimizerOptions(multi_fidelity=False)")
        aug = Space({**space.dims, RESOURCE: Real(0.0, 1.0)})
        sign = float(opt._directions[0].sign)
        params, res, ys = self.rows(sign)
        X = torch.cat([space.encode(params, device=device, dtype=dtype),
                       torch.tensor(res, device=device, dtype=dtype).unsqueeze(1)], dim=1)
        y = torch.tensor(ys, device=device, dtype=dtype)
        if self._schedule is None:
            o = opt.options
            self._schedule = RefitSchedule(o.full_refit_every, o.refit_min_n, o.refit_growth)
        gp, fit_info = self._schedule.fit(X, y, tuple(aug.cat_columns), seed=seed,
                                          options=opt.options.fit or FitOptions.for_device(device))
        configs = {row_key(r): r for r in X[:, :-1].tolist()}  # every configuration seen, at resource 1
        X_obs = torch.tensor([r + [1.0] for r in configs.values()], device=device, dtype=dtype)
        with torch.no_grad():
            mean = gp.mean_var(X_obs)[0]
        observed = [v for r, v in zip(res, ys) if r >= 1.0]
        best_f = max(observed + [gp.from_std(float(mean.max()))])
        xi = 0.01 * gp.y_std if opt.xi is None else opt.xi
        spec = acq_mod.AcqSpec(opt.acquisition, best_f, xi, opt.kappa, opt.options.mc_samples)
        lb = torch.zeros(aug.d, device=device, dtype=dtype)
        lb[-1] = 1.0
        region = Region(lb, torch.ones_like(lb), X_obs[int(torch.argmax(mean))])
        search = batch.Search(aug, opt.options.maximize or MaximizeOptions.for_device(device), device, dtype,
                              X_obs, mean, region)
        full = [t.params for t in opt.trials] + opt.pending
        aug_exclude = {row_key(space.encode(p).tolist() + [1.0]) for p in full}
        pending = opt.pending
        X_pending = None
        if pending:
            enc = space.encode(pending, device=device, dtype=dtype)
            X_pending = torch.cat([enc, torch.ones(enc.shape[0], 1, device=device, dtype=dtype)], dim=1)
        chosen = batch.select(spec, gp, q, search=search, seed=seed, exclude=aug_exclude, X_pending=X_pending)
        self.last_rows = int(X.shape[0])
        opt.last_suggestion_info = {**fit_info, "n": self.last_rows, "device": str(device), "gp": gp.info,
                                    "strategy": "multi_fidelity", "region_length": None,
                                    "full_resource": self.full_resource()}
        return [{k: v for k, v in p.items() if k != RESOURCE} for p in aug.decode(chosen)]
