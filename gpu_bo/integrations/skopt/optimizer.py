"""scikit-optimize's ask/tell ``Optimizer`` on :class:`gpu_bo.Optimizer`.

skopt semantics kept: a point is a list, ``ask()`` without a ``tell()`` in between returns the
same point (the next point is chosen when the data change), ``tell`` returns an
``OptimizeResult``, the first ``n_initial_points`` are space-filling, then the GP decides.
The GP, its fit and the acquisition's maximization are gpu_bo's (see docs/guide/dropin-skopt.md).
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult
from sklearn.utils import check_random_state

from gpu_bo.exceptions import SpaceExhausted
from gpu_bo.integrations.skopt.options import ACQ_FUNCS, HEDGE, check_options, is_dummy, seed_from
from gpu_bo.integrations.skopt.sampler import cook_initial_point_generator
from gpu_bo.integrations.skopt.space.space import Space
from gpu_bo.integrations.skopt.utils import create_result, posterior_gp

__all__ = ["Optimizer"]

def _is_point_list(x: Any) -> bool:
    return isinstance(x, (list, tuple, np.ndarray)) and len(x) > 0 and isinstance(x[0], (list, tuple, np.ndarray))


def _check_y(y: Any, where: str) -> float:
    if isinstance(y, bool) or not isinstance(y, numbers.Real) or not math.isfinite(float(y)):
        raise ValueError(f"{where}: got {y!r}; expected a finite number (the objective's value)")
    return float(y)


class Optimizer:
    """Ask/tell Bayesian optimization with scikit-optimize's interface (minimizes).

    Args:
        dimensions: a list of dimensions (see :func:`~gpu_bo.integrations.skopt.space.check_dimension`)
            or a ``Space``.
        base_estimator: ``"GP"`` or None (gpu_bo's GP), or ``"DUMMY"``: random search (every
            point drawn by ``space.rvs`` after the initial design, no model), as skopt's.
        n_random_starts: the old name of ``n_initial_points`` (it overrides it).
        n_initial_points: points told before the GP chooses (space-filling points).
        initial_point_generator: ``"random"`` or ``"sobol"`` (gpu_bo's scrambled Sobol design),
            ``"lhs"``, ``"halton"``, ``"hammersly"``, ``"grid"`` or a generator of
            :mod:`gpu_bo.integrations.skopt.sampler` (drawn once, seeded by ``random_state``).
        n_jobs: accepted for skopt compatibility (gpu_bo threads its own work).
        acq_func: ``"gp_hedge"`` (a portfolio of EI, PI and LCB chosen by their gains, as
            skopt's), ``"EI"``, ``"PI"`` or ``"LCB"``.
        acq_optimizer: ``"auto"``, ``"sampling"`` or ``"lbfgs"``; gpu_bo's maximizer (random
            and Sobol candidates, then gradient steps from the best) serves all three.
        random_state: int, ``numpy.random.RandomState`` or None.
        model_queue_size: keep at most this many entries in ``models`` (None: all).
        space_constraint: a callable of a point: only points it accepts are sampled by
            ``space.rvs``; the optimizer refuses it (not supported).
        acq_func_kwargs: ``{"xi": 0.01, "kappa": 1.96}`` as in skopt (xi in objective units).
        acq_optimizer_kwargs: skopt's ``n_points``, ``n_restarts_optimizer``, ``n_jobs`` are
            accepted and left to gpu_bo's maximizer.
        avoid_duplicates: True (gpu_bo never proposes an evaluated point again; False raises).
        device: where gpu_bo's GP runs (``"auto"``, ``"cpu"``, ``"cuda"``).
        noise: ``"gaussian"`` or None.
    """

    def __init__(self, dimensions: Any, base_estimator: Any = "gp", n_random_starts: int | None = None,
                 n_initial_points: int = 10, initial_point_generator: str = "random", n_jobs: int = 1,
                 acq_func: str = "gp_hedge", acq_optimizer: str = "auto", random_state: Any = None,
                 model_queue_size: int | None = None, space_constraint: Any = None,
                 acq_func_kwargs: dict | None = None, acq_optimizer_kwargs: dict | None = None,
                 avoid_duplicates: bool = True, device: str = "auto", noise: Any = "gaussian") -> None:
        from gpu_bo.optimizer import Optimizer as Engine  # imported here: the core may be mid-import

        self._dummy = is_dummy(base_estimator)
        check_options(None if self._dummy else base_estimator, acq_func, acq_optimizer, noise=noise)
        generator = cook_initial_point_generator(initial_point_generator)
        if space_constraint is not None:
            raise ValueError("space_constraint: constrained search spaces are not supported by gpu_bo's skopt "
                             "facade (a Space's constraint is honoured by Space.rvs only); expected None")
        if avoid_duplicates is not True:
            raise ValueError(f"avoid_duplicates: got {avoid_duplicates!r}; gpu_bo never proposes an evaluated "
                             "point again (expected True)")
        if n_random_starts is not None:
            n_initial_points = n_random_starts
        if isinstance(n_initial_points, bool) or not isinstance(n_initial_points, numbers.Integral) \
                or n_initial_points < 0:
            raise ValueError(f"n_initial_points: got {n_initial_points!r}; expected an int >= 0")
        self.space = dimensions if isinstance(dimensions, Space) else Space(dimensions)
        self._gb_space = self.space.to_gpu_bo()
        self.rng = check_random_state(random_state)
        self._initial_samples = None if generator is None else generator.generate(
            self.space, int(n_initial_points), random_state=int(self.rng.randint(0, np.iinfo(np.int32).max)))
        kw = dict(acq_func_kwargs or {})
        unknown = set(kw) - {"xi", "kappa"}
        if unknown:
            raise ValueError(f"acq_func_kwargs: got the keys {sorted(unknown)}; expected 'xi' and/or 'kappa'")
        self.acq_func, self.acq_optimizer = acq_func, acq_optimizer
        self.acq_func_kwargs, self.acq_optimizer_kwargs = kw, dict(acq_optimizer_kwargs or {})
        self.n_initial_points_ = int(n_initial_points)
        self._n_initial_points = int(n_initial_points)
        self.base_estimator, self.n_jobs = base_estimator, n_jobs
        self.max_model_queue_size = model_queue_size
        self._engine = Engine(self._gb_space, direction="minimize",
                              acquisition=ACQ_FUNCS.get(acq_func, "ei"), xi=float(kw.get("xi", 0.01)),
                              kappa=float(kw.get("kappa", 1.96)), n_initial=max(int(n_initial_points), 1),
                              seed=seed_from(self.rng), device=device)
        self.gains_ = np.zeros(len(HEDGE))
        self.eta = 1.0
        self.Xi: list = []
        self.yi: list = []
        self.models: list = []
        self._next_x: list | None = None
        self._next_xs: list = []  # gp_hedge: the candidate of each acquisition at the last fit
        self._asked: list[dict] = []  # engine points asked and not told (pending in the engine)
        self._specs = {"args": {"dimensions": dimensions, "acq_func": acq_func,
                                "n_initial_points": n_initial_points}, "function": "Optimizer"}

    # -- ask -----------------------------------------------------------------------------------
    def _drop_asked(self) -> None:
        for p in self._asked:
            self._engine.remove_pending(p)
        self._asked = []

    def _engine_ask(self, n: int | None = None) -> Any:
        out = self._engine.ask(n)
        self._asked += [out] if n is None else list(out)
        return out

    def ask(self, n_points: int | None = None, strategy: str = "cl_min") -> list:
        """The next point to evaluate (a list), or ``n_points`` distinct points (a list of lists).

        ``ask()`` twice without a ``tell()`` returns the same point. ``n_points`` points are
        chosen jointly by gpu_bo's batch acquisition (each point conditioned on the others as
        pending), which plays the part of skopt's constant-liar ``strategy``.

        Args:
            n_points: None for one point, else how many.
            strategy: ``"cl_min"``, ``"cl_mean"`` or ``"cl_max"`` (skopt's liars; gpu_bo's
                joint batch selection replaces all three).

        Raises:
            ValueError: ``n_points`` is not a positive int or ``strategy`` is unknown.
        """
        if strategy not in ("cl_min", "cl_mean", "cl_max"):
            raise ValueError(f"strategy: got {strategy!r}; expected 'cl_min', 'cl_mean' or 'cl_max'")
        if n_points is None:
            if self._next_x is not None:
                return list(self._next_x)
            x = self._suggest()
            if not self._in_initial() and not self._dummy:  # a fitted model's next point stays until a tell
                self._next_x = x
            return list(x)
        if isinstance(n_points, bool) or not isinstance(n_points, numbers.Integral) or n_points < 1:
            raise ValueError(f"n_points: got {n_points!r}; expected None or an int >= 1")
        self._drop_asked()
        self._next_x = None
        n = int(n_points)
        if self._dummy and not self._in_samples():
            return self.space.rvs(n, random_state=self.rng)
        head = []
        if self._in_samples():  # the generator's points first, then the engine's (or random) ones
            i = len(self._initial_samples) - self._n_initial_points
            head = [list(p) for p in self._initial_samples[i:i + n]]
            if len(head) == n or self._dummy:
                return head + (self.space.rvs(n - len(head), random_state=self.rng) if n > len(head) else [])
            for p in head:
                self._engine.add_pending(self.space.to_params(p))
                self._asked.append(self.space.to_params(p))
        return head + [self.space.from_params(p) for p in self._engine_ask(n - len(head))]

    def _in_samples(self) -> bool:
        """Points of ``initial_point_generator``'s design are left to ask."""
        return self._initial_samples is not None and self._n_initial_points > 0

    def _in_initial(self) -> bool:
        """Still in the initial design (skopt: each ask draws a new initial point)."""
        return self._n_initial_points > 0 or len(self.yi) < 2

    def _suggest(self) -> list:
        """One new point: the engine's choice, or gp_hedge's pick among EI, PI and LCB.

        gpu_bo never proposes an evaluated point again; once every point of a finite space has
        been evaluated, a random one is proposed again with a warning (skopt re-evaluates too).
        """
        try:
            return self._choose()
        except SpaceExhausted:
            warnings.warn("every point of this finite search space has been evaluated; proposing a random "
                          "one again (as scikit-optimize re-evaluates points)", UserWarning, stacklevel=3)
            self._engine.acquisition = ACQ_FUNCS.get(self.acq_func, self._engine.acquisition)
            return self.space.rvs(random_state=self.rng)[0]

    def _choose(self) -> list:
        if self._in_samples():
            return list(self._initial_samples[len(self._initial_samples) - self._n_initial_points])
        if self._dummy:  # skopt's "DUMMY": random search
            return self.space.rvs(random_state=self.rng)[0]
        if self.acq_func != "gp_hedge" or self._in_initial():
            return self.space.from_params(self._engine_ask())
        # GP-Hedge (Hoffman et al. 2011, as skopt): each acquisition proposes a point; the one
        # used is drawn with probability softmax(eta * gains); gains grow by -mu(proposal)
        proposals = []
        for name in HEDGE:
            self._engine.acquisition = ACQ_FUNCS[name]
            proposals.append(self._engine_ask())
            self._drop_asked_last()
        self._next_xs = proposals
        logits = self.eta * (self.gains_ - self.gains_.max())
        probs = np.exp(logits) / np.exp(logits).sum()
        pick = int(self.rng.choice(len(HEDGE), p=probs))
        self._engine.acquisition = ACQ_FUNCS[HEDGE[pick]]
        chosen = proposals[pick]
        self._engine.add_pending(chosen)
        self._asked.append(chosen)
        return self.space.from_params(chosen)

    def _drop_asked_last(self) -> None:
        self._engine.remove_pending(self._asked.pop())

    # -- tell ----------------------------------------------------------------------------------
    def tell(self, x: Any, y: Any, fit: bool = True) -> OptimizeResult:
        """Record the value ``y`` of the point ``x`` (or lists of both) and choose the next point.

        Args:
            x: a point (a list), or a list of points.
            y: its value, or a list of values.
            fit: choose the next point now (skopt fits its model here); False defers it to ``ask``.

        Returns:
            The ``OptimizeResult`` so far.

        Raises:
            ValueError: a point is outside the space or has the wrong number of dimensions, a
                value is not a finite number, or the lengths do not match.
        """
        if _is_point_list(x):
            points = [list(p) for p in x]
            if not all(len(p) == self.space.n_dims for p in points):
                raise ValueError("Not all points have the same dimensions as the space.")
            if isinstance(y, (str, bytes)) or not hasattr(y, "__len__") or len(y) != len(points):
                raise ValueError(f"y: got {y!r}; expected a list of {len(points)} values, one per point")
            values = [_check_y(v, "y") for v in y]
        else:
            points = [list(x)]
            if hasattr(y, "__len__") and not isinstance(y, str):
                raise ValueError(f"y: got {y!r} for a single point; expected a number "
                                 "(multi-output 'ps' acquisitions are not supported)")
            values = [_check_y(y, "y")]
        params = [self.space.to_params(p) for p in points]  # all checked before any is told
        told = {self._gb_space.key(p) for p in params}
        for p in list(self._asked):  # an asked point that is told now completes its pending trial
            if self._gb_space.key(p) in told:
                self._asked.remove(p)
        self._drop_asked()
        self._engine.tell(params, values)
        self.Xi += points
        self.yi += values
        self._n_initial_points -= len(points)
        self._next_x = None
        if fit and not self._in_initial() and not self._dummy:
            self._update_gains()
            self._next_x = self._suggest()
            gp_params = getattr(getattr(self._engine, "_schedule", None), "params", None)
            self.models.append({**self._engine.last_suggestion_info, "gp_params": gp_params,
                                "y_train_std": float(np.std(self.yi))})
            if self.max_model_queue_size is not None:
                del self.models[:-self.max_model_queue_size]
        return self.get_result()

    def _update_gains(self) -> None:
        """gp_hedge: each acquisition's gain grows by minus the GP's mean at its last proposal."""
        if self.acq_func != "gp_hedge" or not self._next_xs:
            return
        warm = getattr(getattr(self._engine, "_schedule", None), "params", None)
        gp = posterior_gp(self.space, self.Xi, self.yi, warm)
        mu, _ = gp.mean_var(self._gb_space.encode(self._next_xs))
        # gp models -y (larger is better), so -mu(x) in minimized units is +mean here
        self.gains_ += np.array([gp.from_std(float(m)) for m in mu])
        self._next_xs = []

    def run(self, func: Any, n_iter: int = 1) -> OptimizeResult:
        """Ask, evaluate ``func`` and tell, ``n_iter`` times.

        Args:
            func: the objective, called with a point (a list).
            n_iter: iterations.
        """
        for _ in range(n_iter):
            x = self.ask()
            self.tell(x, func(x))
        return self.get_result()

    def get_result(self) -> OptimizeResult:
        """The ``OptimizeResult`` of the points told so far."""
        res = create_result(self.Xi, self.yi, self.space, self.rng, models=self.models)
        res.specs = self._specs
        return res

    def copy(self, random_state: Any = None) -> Optimizer:
        """An independent copy (the same data and state).

        Args:
            random_state: a new random state for the copy (None: a copy of this one's).
        """
        other = copy.deepcopy(self)
        if random_state is not None:
            other.rng = check_random_state(random_state)
        return other

    def update_next(self) -> None:
        """Choose the next point again (after a change skopt makes without a tell)."""
        if self._next_x is not None:
            self._next_x = None
