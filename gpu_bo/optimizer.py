"""The ask/tell Optimizer: records, initial design, state; it composes the suggestion pieces.

One suggestion (see DESIGN.md): params -> Space.encode -> training data X (n x d), Y (n x m) ->
strategy and region (:mod:`gpu_bo.trust_region`) -> GP fit on the device
(:class:`gpu_bo.surrogate.RefitSchedule`) -> acquisition spec (:mod:`gpu_bo.acquisition`) ->
q points (:mod:`gpu_bo.batch`, which maximizes with :mod:`gpu_bo.maximize`) -> Space.decode.
Only the chosen candidates cross to the host. Signs go through :class:`gpu_bo.study.Direction`.
"""

from __future__ import annotations

import logging
import math
import numbers
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch

from gpu_bo import acquisition as acq_mod
from gpu_bo import batch
from gpu_bo.direction import parse_directions
from gpu_bo.device import cpu_threads, is_oom, resolve_device, resolve_dtype, warn_fallback
from gpu_bo.exceptions import GpuBoError, GpuBoWarning, SpaceError, SpaceExhausted
from gpu_bo.initial_design import initial_points, unseen_or_raise
from gpu_bo.local_phase import plan as local_plan
from gpu_bo.maximize import MaximizeOptions, Region
from gpu_bo.optimizer_options import OptimizerOptions
from gpu_bo.multi_output import MultiOutputData, MultiOutputSuggester, SuggestContext
from gpu_bo.records import Records
from gpu_bo.space import Space, as_space
from gpu_bo.study import Direction, Trial, TrialState, is_valid_value
from gpu_bo.surrogate import FitOptions, FittedGP, RefitSchedule
from gpu_bo.surrogate.conditional import column_spec
from gpu_bo.surrogate.input_warp import WarpedRefit, warp_columns
from gpu_bo.trust_region import local_data

__all__ = ["Optimizer", "OptimizerOptions"]

_STATE_VERSION = 1
MAX_ASK = 1024  # points one ask may choose: a bound on the pending points an ask adds, and on its time
_SEED_LIMIT = 2**62  # |seed|, so that every seed derived from it fits torch's 64-bit generators
_STRATEGIES = ("auto", "global", "trust_region")
logger = logging.getLogger("gpu_bo")


class Optimizer:
    """Bayesian optimization with an ask/tell interface.

    Args:
        space: a :class:`~gpu_bo.space.Space` or the shorthand dict.
        direction: "minimize" or "maximize".
        directions: one direction per objective for a multi-objective study (2-4 entries;
            overrides ``direction``): ``tell`` then takes one value per objective, and
            :attr:`pareto` holds the feasible non-dominated trials.
        acquisition: "ei", "pi", "ucb" (analytic) or "qei", "qpi", "qucb", "qnei" (Monte Carlo).
        xi: exploration margin of EI/PI, in objective units (EI of f - f* - xi); default 0.
            None: 1% of the observed values' standard deviation, as scikit-optimize's xi=0.01
            on standardized values (the earlier default). Why 0: a positive margin stops the
            last refinement near an optimum (benchmarks/results/quality.md has the regrets).
            The old reason for a margin, EI re-sampling a boundary point a smooth GP
            extrapolated to, is handled by the incumbent (it includes the GP's best mean at an
            observed point) and by never suggesting an observed point again.
        kappa: exploration weight of UCB (mu + kappa * sigma; default
            :data:`gpu_bo.acquisition.DEFAULT_KAPPA`).
        n_initial: quasi-random (Sobol) points before the GP takes over
            (default ``min(10, max(5, d + 1))``).
        seed: makes the sequence of suggestions reproducible (same seed, same device, same tells).
        device: "auto" (CUDA when usable), "cpu", "cuda" or "cuda:N".
        options: :class:`OptimizerOptions`.
        strategy: "global" (one GP over the whole space), "trust_region" (TuRBO-style local
            search with a GP on the points near the best one; for very long studies and
            high-dimensional problems that reward local search) or "auto" (the trust region
            from the device's ``options.auto_tr_min_n_*`` completed trials; the switch is
            logged to the ``gpu_bo`` logger and shown in ``last_suggestion_info["strategy"]``).

    Example:
        >>> opt = Optimizer({"x": (-5.0, 5.0)}, direction="minimize", seed=0)
        >>> for _ in range(20):
        ...     p = opt.ask()
        ...     opt.tell(p, (p["x"] - 1.0) ** 2)

    Outcome constraints: ``opt.tell(p, value, constraints=[c1, ...])``, feasible iff every
    ``c <= 0``; :attr:`best` is then the best feasible trial (docs/guide/multi-objective.md).
    """

    def __init__(self, space: Space | Mapping[str, Any], direction: str = "minimize", acquisition: str = "ei",
                 xi: float | None = 0.0, kappa: float = acq_mod.DEFAULT_KAPPA, n_initial: int | None = None, seed: int | None = None,
                 device: str | torch.device = "auto", options: OptimizerOptions | None = None,
                 strategy: str = "auto", directions: Sequence[str] | None = None) -> None:
        self.space = as_space(space)
        self._directions = [Direction(d) for d in parse_directions(
            direction if directions is None else directions, "direction" if directions is None else "directions", 4)]
        self.acquisition = acq_mod.check_name(acquisition)
        for label, v in (("xi", 0.0 if xi is None else xi), ("kappa", kappa)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{label}: got {v!r}, expected a finite number >= 0 (xi may be None)")
        self.xi, self.kappa = (None if xi is None else float(xi)), float(kappa)
        if n_initial is None:
            n_initial = min(10, max(5, self.space.d + 1))
        if not _is_int(n_initial) or n_initial < 1:
            raise ValueError(f"n_initial: got {n_initial!r}, expected an int >= 1")
        self.n_initial = int(n_initial)
        if seed is not None and (not _is_int(seed) or abs(seed) > _SEED_LIMIT):
            raise ValueError(f"seed: got {seed!r}, expected an int in [-2**62, 2**62] or None")
        self.seed = int(seed) if seed is not None else int(torch.randint(0, 2**31 - 1, (1,), device="cpu").item())
        self.device = resolve_device(device)
        if options is not None and not isinstance(options, OptimizerOptions):
            raise TypeError(f"options: got {options!r} ({type(options).__name__}); expected an "
                            "OptimizerOptions (gpu_bo.optimizer.OptimizerOptions(**fields)) or None")
        self.options = options or OptimizerOptions()
        if self.options.failure_policy not in ("worst", "ignore"):
            raise ValueError(f"options.failure_policy: got {self.options.failure_policy!r}, "
                             "expected 'worst' or 'ignore'")
        self.dtype = resolve_dtype(self.options.dtype)
        if strategy not in _STRATEGIES:
            raise ValueError(f"strategy: got {strategy!r}, expected one of {list(_STRATEGIES)}")
        self.strategy = strategy
        self._last_strategy: str | None = None
        self._records = Records(self.space, self._directions)
        self._n_asks = 0
        o = self.options
        if o.ref_point is not None and len(o.ref_point) != len(self._directions):
            raise ValueError(f"options.ref_point: got {o.ref_point!r}, expected {len(self._directions)} values "
                             "(one per objective, in the objectives' units)")
        self._schedule = RefitSchedule(o.full_refit_every, o.refit_min_n, o.refit_growth)
        self._multi = MultiOutputSuggester(o)  # several objectives or constraints
        self._iwarp = WarpedRefit(o.input_warp)  # input warping: its mode and last warp
        self.last_suggestion_info: dict[str, Any] = {}
        self.fidelity: Any = None  # a gpu_bo.multi_fidelity.ResourceModel, asked first when set
        self.budget: int | None = None  # the study's n_trials when known: a hint for options.local_phase

    # -- records -------------------------------------------------------------------------------
    @property
    def direction(self) -> str:
        """``"minimize"`` or ``"maximize"``: the (first) objective's (signs go through a
        :class:`~gpu_bo.study.Direction`)."""
        return self._directions[0].value

    @direction.setter
    def direction(self, value: str) -> None:
        if len(self._directions) > 1:
            raise ValueError(f"direction: this optimizer has {len(self._directions)} objectives; its "
                             "directions are fixed when it is made")
        self._directions[0] = Direction.parse(value)

    @property
    def directions(self) -> list[str]:
        """One direction per objective."""
        return [d.value for d in self._directions]

    @property
    def n_constraints(self) -> int | None:
        """How many constraint values each tell gives (None until one gives them)."""
        return self._records.n_constraints

    @property
    def trials(self) -> list[Trial]:
        return list(self._records.trials)

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Asked-but-not-told points plus those registered with :meth:`add_pending`."""
        return self._records.pending()

    @property
    def best(self) -> dict[str, Any] | None:
        """The best feasible COMPLETE trial, ``{"params", "value"}`` (None while there is none).

        Raises:
            ValueError: the optimizer is multi-objective (use :attr:`pareto`).
        """
        return self._records.best()

    @property
    def pareto(self) -> list[dict[str, Any]]:
        """The feasible, non-dominated COMPLETE trials, by number: ``{"params", "values",
        "constraints"}`` each (one objective: the trials with the best value)."""
        return self._records.pareto()

    def add_pending(self, params: Mapping[str, Any]) -> None:
        """Mark a point as being evaluated elsewhere (another process, a resumed run)."""
        self._records.external_pending.append(self.space.canonical(params))

    def remove_pending(self, params: Mapping[str, Any]) -> None:
        """Forget a pending point (an external one, or an asked one that will not be told)."""
        self._records.remove_pending(params)

    # -- tell ----------------------------------------------------------------------------------
    def tell(self, params: Mapping[str, Any] | Sequence[Mapping[str, Any]], value: Any,
             error: str | None = None, state: TrialState | str | None = None,
             constraints: Sequence[float] | Sequence[Sequence[float]] | None = None) -> Trial | list[Trial]:
        """Record the outcome of one point, or of a list of points with a list of values.

        A value that is None, NaN, infinite or not a number (a str such as ``"0.25"`` included)
        makes the trial FAILED (the error text, when given, is stored); it never reaches the GP.
        The same holds for each value of a multi-objective trial and each constraint value.
        A list is told atomically: every point and value is checked first, and one bad entry
        records none of them.

        Args:
            params: a point (dict), or a list of points.
            value: its value (a list of one value per objective when multi-objective, or a
                mapping ``{"value": ..., "constraints": [...]}``), or a list of values (one
                per point).
            error: the error text of a failed trial.
            state: None (COMPLETE or FAILED by the value), ``"COMPLETE"`` (the value must be a
                finite number), ``"FAILED"`` (recorded FAILED whatever the value; the GP never
                sees it) or ``"PRUNED"`` (a pruned trial with its last value). ``"RUNNING"``
                is refused: a point still being evaluated is registered with :meth:`add_pending`.
            constraints: the outcome constraint values of the point (feasible iff every one
                is ``<= 0``), or a list of such lists (one per point); None: no constraints.
                The first tell that gives constraints fixes how many there are.

        Returns:
            The recorded trial, or the list of them.

        Raises:
            TypeError: ``params`` is neither a dict nor a list of dicts.
            ValueError: a point is outside the space (a SpaceError), the lengths differ, the
                state is unknown or RUNNING, ``state="COMPLETE"`` comes with a non-number, or
                the value / constraints do not have the study's shape (the message says what
                was expected).
        """
        st = TrialState.told(state)
        rec = self._records
        if isinstance(params, Mapping):
            canon, outcome = self._checked(params, value, constraints, st)
            return rec.record(canon, outcome, st, error)
        if isinstance(params, (str, bytes)) or not isinstance(params, Iterable):
            raise TypeError(f"params: got {params!r} ({type(params).__name__}); expected a dict of "
                            "parameter name -> value, or a list of such dicts with a list of values")
        plist = list(params)
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(f"value: a list of {len(plist)} params needs a list of values, got {value!r}")
        if len(plist) != len(value):
            raise ValueError(f"value: got {len(value)} values for {len(plist)} params; expected equal lengths")
        cons = [None] * len(plist) if constraints is None else list(constraints)
        if len(cons) != len(plist):
            raise ValueError(f"constraints: got {len(cons)} constraint lists for {len(plist)} params; "
                             "expected one list per point")
        checked = []  # all, before recording any
        n_before = rec.n_constraints
        try:
            for p, v, c in zip(plist, value, cons):
                checked.append(self._checked(p, v, c, st))
                rec.commit(checked[-1][1])  # later entries must match the first one's constraints
        finally:
            rec.n_constraints = n_before
        return [rec.record(canon, outcome, st, error) for canon, outcome in checked]

    def _checked(self, params: Any, value: Any, constraints: Any, st: TrialState | None) -> tuple:
        """``params`` as the space's plain values and the parsed outcome, once both are known to
        be recordable."""
        canon = self.space.canonical(params)
        outcome = self._records.parse(value, constraints, st)
        if st == TrialState.COMPLETE and not outcome.ok:
            raise ValueError(f"value: got {value!r} with state='COMPLETE'; expected a finite number "
                             "(state=None records a non-number as FAILED)")
        return canon, outcome

    # -- ask -----------------------------------------------------------------------------------
    def ask(self, n: int | None = None) -> dict[str, Any] | list[dict[str, Any]]:
        """Suggest one point (``n=None``: a dict) or ``n`` distinct points chosen jointly (a list).

        The returned points are pending until told. Never repeats an evaluated or pending point:
        on a finite space (integers and categoricals only) with fewer than ``n`` unseen points
        left, the list holds those that remain.

        Args:
            n: None for one point, else how many (an int in ``[1, MAX_ASK]``, 1024).

        Returns:
            A dict, or a list of at most ``n`` dicts.

        Raises:
            ValueError: ``n`` is not None or an int in ``[1, MAX_ASK]``.
            SpaceExhausted: every point of a finite space has been evaluated or is pending.
        """
        if n is not None and (not _is_int(n) or not 1 <= n <= MAX_ASK):
            raise ValueError(f"n: got {n!r}, expected None or an int in [1, {MAX_ASK}] (one ask chooses "
                             f"at most {MAX_ASK} points; ask again for more)")
        q = 1 if n is None else int(n)
        t0 = time.perf_counter()
        points = self._suggest(q, n)
        self._n_asks += 1
        out = []
        for p in points:
            self._records.add_running(p)
            out.append(dict(p))
        self.last_suggestion_info["seconds"] = time.perf_counter() - t0
        return out[0] if n is None else out

    def _suggest(self, q: int, n: int | None) -> list[dict[str, Any]]:
        done = self._records.completed()
        seed = (self.seed * 1_000_003 + self._n_asks) % (2**31 - 1)
        exclude = self._records.exclude_keys()
        size = self.space.n_points
        if size is not None:  # a finite space: what is left of it bounds q
            left = size - len(exclude)
            if left <= 0:
                raise SpaceExhausted(f"ask(n={n}): every one of the {size} points of the search space "
                                     "has already been evaluated or is pending")
            if left <= q and size <= 2**16:  # all that is left: no search needed
                return self.space.decode(self.space.unseen(exclude, q, seed))
            q = min(q, left)
        if self.fidelity is not None:  # model-based multi-fidelity (gpu_bo.multi_fidelity)
            points = self.fidelity.suggest(self, q, exclude, seed)
            if points is not None:
                return points
        n_issued = len(self._records.trials)
        if len(done) < max(self.n_initial, 2) or n_issued < self.n_initial:
            return self._initial_points(q, exclude)
        try:
            return self._bo_points(q, exclude, seed, self.device)
        except Exception as err:  # noqa: BLE001 - ask() must not lose the study
            if self.device.type == "cuda" and is_oom(err):
                warn_fallback("A suggestion", err)
                torch.cuda.empty_cache()
                return self._bo_points(q, exclude, seed, torch.device("cpu"))
            if isinstance(err, SpaceExhausted):  # the search missed the few points left
                return unseen_or_raise(self.space, q, exclude, seed, err)
            if isinstance(err, GpuBoError):
                raise
            warnings.warn(f"the BO step failed ({type(err).__name__}: {err}); suggesting quasi-random "
                          "points instead", GpuBoWarning, stacklevel=3)
            return self._initial_points(q, exclude)

    def _initial_points(self, q: int, exclude: set) -> list[dict[str, Any]]:
        return initial_points(self.space, q, exclude, self.seed, len(self._records.trials), self._n_asks)

    def _training_data(self, device: torch.device, dtype: torch.dtype
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``X`` (``n x d``), ``Y`` (``n x m``, larger is better), ``C`` (``n x k`` or None):
        :meth:`gpu_bo.records.Records.training_data`."""
        return self._records.training_data(device, dtype, self.options.failure_policy)

    def _pick_strategy(self, n_done: int, device: torch.device) -> str:
        if self.strategy != "auto":
            strategy = self.strategy
        else:
            o = self.options
            min_n = o.auto_tr_min_n_cuda if device.type == "cuda" else o.auto_tr_min_n_cpu
            by_dim = o.auto_tr_min_dim is not None and self.space.d >= o.auto_tr_min_dim
            strategy = "trust_region" if by_dim or n_done >= min_n else "global"
        if strategy != self._last_strategy:
            logger.info("gpu_bo: using the %s strategy (d=%d, %d completed trials, %s)", strategy,
                        self.space.d, n_done, device)
            self._last_strategy = strategy
        return strategy

    def _incumbent(self, gp: FittedGP, X_obs: torch.Tensor) -> float:
        """The best observed value, or the GP's best mean at an observed point when higher (raw
        units). Why the mean: a smoothing GP otherwise sees "improvement" at points it already
        sampled, and EI kept proposing the same boundary point on flat objectives."""
        best_f = max(self._directions[0].sign * t.value for t in self._records.completed())
        with torch.no_grad():
            return max(best_f, gp.from_std(float(gp.mean_var(X_obs)[0].max())))

    def _acq_spec(self, gp: FittedGP, X_obs: torch.Tensor) -> acq_mod.AcqSpec:
        xi = 0.01 * gp.y_std if self.xi is None else self.xi
        return acq_mod.AcqSpec(self.acquisition, self._incumbent(gp, X_obs), xi, self.kappa,
                               self.options.mc_samples)

    def _region(self, X: torch.Tensor, y: torch.Tensor, strategy: str
                ) -> tuple[torch.Tensor, torch.Tensor, Region | None, float | None]:
        """The data the GP is fitted on and the box searched: all of it and the whole cube
        (global), or the trust region's box and the points near it."""
        if strategy != "trust_region":
            return X, y, None, None
        ls = None if self._schedule.params is None else self._schedule.params.lengthscale
        values = [self._directions[0].sign * t.value for t in self._records.completed()]
        return local_data(X, y, values, n_initial=self.n_initial, lengthscale=ls, opts=self.options.trust_region)

    def _pending_rows(self, device: torch.device) -> torch.Tensor | None:
        pending = self.pending
        return self.space.encode(pending, device=device, dtype=self.dtype) if pending else None

    def _bo_points(self, q: int, exclude: set, seed: int, device: torch.device) -> list[dict[str, Any]]:
        """One BO suggestion of ``q`` points: training data -> strategy and region -> fit ->
        acquisition spec (incumbent) -> batch selection -> decode."""
        X, Y, C = self._training_data(device, self.dtype)
        n_done = len(self._records.completed())
        if Y.shape[1] > 1 or C is not None:
            return self._multi_points(X, Y, C, n_done, q, exclude, seed, device)
        X_obs, y_obs = X[:n_done], Y[:n_done, 0]  # one objective: its column
        strategy = self._pick_strategy(n_done, device)
        X_fit, y_fit, region, tr_length = self._region(X, Y[:, 0], strategy)
        with cpu_threads(device, X_fit.shape[0], self.options.cpu_threads):
            fit_fn = self._iwarp.fit_fn(warp_columns(self.space), strategy)
            gp, fit_info = self._schedule.fit(X_fit, y_fit, column_spec(self.space), seed=seed,
                                              options=self.options.fit or FitOptions.for_device(device),
                                              local=strategy != "global", fit_fn=fit_fn,
                                              output_warp=self.options.output_warp)
            warp = None if fit_fn is None else self._iwarp.current
            spec = self._acq_spec(gp, X_obs if warp is None else warp(X_obs))
            mopts, phase = self.options.maximize or MaximizeOptions.for_device(device), "global"
            if self.options.local_phase is not None and strategy == "global":  # gpu_bo/local_phase.py
                phase, region, mopts = local_plan(self.options.local_phase, X_obs, y_obs, self.n_initial,
                                                  gp.params.lengthscale, mopts, self.budget)
            search = batch.Search(self.space, mopts, device, self.dtype, X_obs, y_obs, region)
            chosen = batch.select(spec, gp, q, search=search, seed=seed, exclude=exclude,
                                  X_pending=self._pending_rows(device), warp=warp)
        self.last_suggestion_info = {**fit_info, "n": int(X_fit.shape[0]), "device": str(device), "gp": gp.info,
                                     "strategy": strategy, "region_length": tr_length, "phase": phase}
        return self.space.decode(chosen)

    def _multi_points(self, X: torch.Tensor, Y: torch.Tensor, C: torch.Tensor | None, n_done: int, q: int,
                      exclude: set, seed: int, device: torch.device) -> list[dict[str, Any]]:
        """Several objectives or constraints: :class:`gpu_bo.multi_output.MultiOutputSuggester`
        (over the whole space: the trust region is single-objective)."""
        ref = self.options.ref_point
        ref_t = None if ref is None else torch.tensor([d.sign * float(r) for d, r in zip(self._directions, ref)],
                                                      device=device, dtype=self.dtype)
        data = MultiOutputData(X=X, Y=Y, C=C, n_complete=n_done, ref_point=ref_t,
                               cat_columns=column_spec(self.space))
        search = batch.Search(self.space, self.options.maximize or MaximizeOptions.for_device(device),
                              device, self.dtype, X[:n_done], None, None)
        ctx = SuggestContext(acquisition=self.acquisition, xi=self.xi, kappa=self.kappa, options=self.options,
                             search=search, seed=seed, exclude=exclude, X_pending=self._pending_rows(device),
                             device=device, dtype=self.dtype)
        with cpu_threads(device, X.shape[0], self.options.cpu_threads):
            chosen, info = self._multi.select(data, q, ctx)
        self.last_suggestion_info = {"n": int(X.shape[0]), "device": str(device), "strategy": "global", **info}
        return self.space.decode(chosen)

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A JSON-serializable snapshot: config, every trial and the fit's warm start."""
        return {
            "version": _STATE_VERSION,
            "space": self.space.to_dict(),
            "direction": self.direction,
            "directions": self.directions,
            "acquisition": self.acquisition,
            "strategy": self.strategy,
            "xi": self.xi,
            "kappa": self.kappa,
            "n_initial": self.n_initial,
            "seed": self.seed,
            "n_asks": self._n_asks,
            **self._schedule.state_dict(),  # n_fits, last_fit_n, gp_params
            "multi_output": self._multi.state_dict(),
            "input_warp": self._iwarp.state_dict(),
            "trials": [t.to_dict() for t in self._records.trials],
            "external_pending": [dict(p) for p in self._records.external_pending],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a snapshot made by :meth:`state_dict` (the space must be the same)."""
        if not isinstance(state, Mapping) or state.get("version") != _STATE_VERSION:
            raise ValueError(f"state: expected a dict from Optimizer.state_dict() with version "
                             f"{_STATE_VERSION}, got {type(state).__name__} version "
                             f"{state.get('version') if isinstance(state, Mapping) else None!r}")
        other = Space.from_dict(state["space"])
        if other.to_dict() != self.space.to_dict():
            raise ValueError(f"state: its space {state['space']!r} differs from this optimizer's "
                             f"{self.space.to_dict()!r}")
        trials = [self._loaded_trial(t) for t in state["trials"]]  # all checked before any is kept
        external = [self._loaded_point(p, "an external pending point") for p in state.get("external_pending", [])]
        directions = state.get("directions") or [state["direction"]]
        if list(directions) != self.directions:
            raise ValueError(f"state: its directions {list(directions)} differ from this optimizer's "
                             f"{self.directions}")
        self.acquisition = acq_mod.check_name(state["acquisition"])
        self.strategy = state.get("strategy", self.strategy)
        self.xi = None if state["xi"] is None else float(state["xi"])
        self.kappa = float(state["kappa"])
        self.n_initial, self.seed = int(state["n_initial"]), int(state["seed"])
        self._n_asks = int(state["n_asks"])
        self._schedule.load_state_dict(state)
        self._records.reset(trials, external)
        self._multi.load_state_dict(state.get("multi_output") or {})
        self._iwarp.load_state_dict(state.get("input_warp") or {})

    def _loaded_trial(self, d: Mapping[str, Any]) -> Trial:
        trial = Trial.from_dict(d)
        trial.params = self._loaded_point(trial.params, f"trial {trial.number}")
        m = len(self._directions)
        if trial.state == TrialState.COMPLETE and not (trial.values and len(trial.values) == m
                                                       and all(map(is_valid_value, trial.values))):
            raise ValueError(f"state: trial {trial.number} is COMPLETE with the values {trial.values!r}; "
                             f"expected {m} finite number(s)")
        return trial

    def _loaded_point(self, params: Any, what: str) -> dict[str, Any]:
        """A point of a state as the space's plain values (tuple choices back from JSON lists)."""
        try:
            return self.space.canonical(params)
        except SpaceError as e:
            raise SpaceError(f"state: {what} is outside this optimizer's space ({e}); the state does "
                             "not belong to this space") from None

def _is_int(v: Any) -> bool:
    """An int, a numpy integer or another ``numbers.Integral``, but not a bool."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)
