"""``gp_minimize`` (scikit-optimize's) on gpu_bo's engine."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from joblib import Parallel, delayed
from scipy.optimize import OptimizeResult

from gpu_bo.integrations.skopt.callbacks import check_callback, eval_callbacks
from gpu_bo.integrations.skopt.optimizer import Optimizer

__all__ = ["gp_minimize", "dummy_minimize"]


def gp_minimize(func: Any, dimensions: Any, base_estimator: Any = None, n_calls: int = 100,
                n_random_starts: int | None = None, n_initial_points: int = 10,
                initial_point_generator: str = "random", acq_func: str = "gp_hedge", acq_optimizer: str = "auto",
                x0: Any = None, y0: Any = None, random_state: Any = None, verbose: bool = False,
                callback: Any = None, n_points: int = 10000, n_restarts_optimizer: int = 5, xi: float = 0.01,
                kappa: float = 1.96, noise: Any = "gaussian", n_jobs: int = 1, model_queue_size: int | None = None,
                space_constraint: Any = None, device: str = "auto") -> OptimizeResult:
    """Minimize ``func`` over ``dimensions`` with Bayesian optimization (gpu_bo's GP).

    ``x0`` is evaluated first (unless ``y0`` gives its values), then ``n_initial_points``
    space-filling points, then the GP chooses, one point per call, ``n_calls`` calls in all
    (the told ``y0`` not counted). ``n_jobs`` evaluates the initial design (``x0`` and the
    space-filling points, fixed in advance) that many at a time in parallel; the GP's points
    are chosen one after the other, so the points are the same for every ``n_jobs``.

    Args:
        func: the objective, called with a point (a list); returns a number.
        dimensions: a list of dimensions or a ``Space``.
        base_estimator: ``"GP"``, None or ``"DUMMY"`` (random search, as ``dummy_minimize``).
        n_calls: evaluations of ``func`` (``x0``'s included).
        n_random_starts: the old name of ``n_initial_points`` (it overrides it).
        n_initial_points: space-filling points before the GP.
        initial_point_generator: ``"random"`` or ``"sobol"`` (gpu_bo's scrambled Sobol),
            ``"lhs"``, ``"halton"``, ``"hammersly"``, ``"grid"`` or a generator of
            :mod:`gpu_bo.integrations.skopt.sampler`.
        acq_func: ``"gp_hedge"``, ``"EI"``, ``"PI"`` or ``"LCB"``.
        acq_optimizer: ``"auto"``, ``"sampling"`` or ``"lbfgs"`` (gpu_bo's maximizer for all).
        x0: initial point(s), a list or a list of lists.
        y0: their values (then ``x0`` is not evaluated).
        random_state: int, ``numpy.random.RandomState`` or None.
        verbose: print one line per call.
        callback: a callable or list of callables of the result; one returning True stops.
        n_points: skopt's sampling size (gpu_bo's maximizer picks its own).
        n_restarts_optimizer: skopt's restarts (gpu_bo's maximizer picks its own).
        xi: EI/PI margin in objective units.
        kappa: LCB's exploration weight.
        noise: ``"gaussian"`` or None (the GP fits its noise level).
        n_jobs: parallel evaluations of the initial design (-1: all cores).
        model_queue_size: keep at most this many ``models`` entries.
        space_constraint: not supported (must be None).
        device: where the GP runs.

    Returns:
        The ``OptimizeResult``: ``x``, ``fun``, ``x_iters``, ``func_vals``, ``models``,
        ``space``, ``random_state``, ``specs``.

    Raises:
        ValueError: an unsupported option, ``n_calls`` below the initial design, inconsistent
            ``x0``/``y0``.
    """
    specs = {"args": dict(locals()), "function": "gp_minimize"}
    return _minimize(specs, func, dimensions, base_estimator, n_calls, n_random_starts, n_initial_points,
                     initial_point_generator, acq_func, acq_optimizer, x0, y0, random_state, verbose, callback,
                     n_points, n_restarts_optimizer, xi, kappa, noise, n_jobs, model_queue_size, space_constraint,
                     device)


def dummy_minimize(func: Any, dimensions: Any, n_calls: int = 100, initial_point_generator: str = "random",
                   x0: Any = None, y0: Any = None, random_state: Any = None, verbose: bool = False,
                   callback: Any = None, model_queue_size: int | None = None) -> OptimizeResult:
    """Random search (scikit-optimize's ``dummy_minimize``): ``n_calls`` points drawn at random.

    Args:
        func: the objective, called with a point (a list); returns a number.
        dimensions: a list of dimensions or a ``Space``.
        n_calls: evaluations of ``func`` (``x0``'s included).
        initial_point_generator: how the points are drawn (as in :func:`gp_minimize`).
        x0: initial point(s), a list or a list of lists.
        y0: their values (then ``x0`` is not evaluated).
        random_state: int, ``numpy.random.RandomState`` or None.
        verbose: print one line per call.
        callback: a callable or list of callables of the result; one returning True stops.
        model_queue_size: accepted for skopt compatibility (random search keeps no models).

    Returns:
        The ``OptimizeResult`` (``models`` empty).
    """
    specs = {"args": dict(locals()), "function": "dummy_minimize"}
    n_x0 = 0 if not x0 or y0 is not None else len(x0 if isinstance(x0[0], (list, tuple)) else [x0])
    return _minimize(specs, func, dimensions, "DUMMY", n_calls, None, max(n_calls - n_x0, 0),
                     initial_point_generator, "gp_hedge", "auto", x0, y0, random_state, verbose, callback, 10000,
                     5, 0.01, 1.96, "gaussian", 1, model_queue_size, None, "cpu")


def _minimize(specs: dict, func: Any, dimensions: Any, base_estimator: Any, n_calls: int,
              n_random_starts: int | None, n_initial_points: int, initial_point_generator: Any, acq_func: str,
              acq_optimizer: str, x0: Any, y0: Any, random_state: Any, verbose: bool, callback: Any, n_points: int,
              n_restarts_optimizer: int, xi: float, kappa: float, noise: Any, n_jobs: int,
              model_queue_size: int | None, space_constraint: Any, device: str) -> OptimizeResult:
    """skopt's ``base_minimize``: ``x0``, the initial design, then the optimizer's points."""
    x0 = [] if x0 is None else x0
    if not isinstance(x0, list):
        raise ValueError(f"x0: got {type(x0).__name__}; expected a list (one point) or a list of points")
    if x0 and not isinstance(x0[0], (list, tuple)):
        x0 = [x0]
    if n_random_starts is not None:
        n_initial_points = n_random_starts
    if n_initial_points <= 0 and not x0:
        raise ValueError("Either set `n_initial_points` > 0, or provide `x0`")
    if isinstance(y0, Iterable):
        y0 = list(y0)
    elif isinstance(y0, numbers.Number):
        y0 = [y0]
    required = n_initial_points + (len(x0) if not y0 else 0)
    if n_calls < required:
        raise ValueError(f"Expected `n_calls` >= {required}, got {n_calls}")
    opt = Optimizer(dimensions, base_estimator or "GP", n_initial_points=n_initial_points + len(x0),
                    initial_point_generator=initial_point_generator, acq_func=acq_func,
                    acq_optimizer=acq_optimizer, random_state=random_state, model_queue_size=model_queue_size,
                    space_constraint=space_constraint, acq_func_kwargs={"xi": xi, "kappa": kappa},
                    acq_optimizer_kwargs={"n_points": n_points, "n_restarts_optimizer": n_restarts_optimizer},
                    device=device, noise=noise)
    if not all(len(p) == opt.space.n_dims for p in x0):
        raise RuntimeError(f"Optimization space ({opt.space}) and initial points in x0 use inconsistent dimensions.")
    callbacks = check_callback(callback)
    if verbose:
        from gpu_bo.integrations.skopt.callbacks import VerboseCallback

        callbacks.append(VerboseCallback(n_init=len(x0) if not y0 else 0, n_random=n_initial_points,
                                         n_total=n_calls))
    par = Parallel(n_jobs=n_jobs, prefer="threads") if n_jobs not in (None, 1) else None

    def evaluate(points: list) -> list:
        return list(par(delayed(func)(p) for p in points)) if par is not None and len(points) > 1 \
            else [func(p) for p in points]

    result = None
    if x0:
        if y0 is None:
            y0 = evaluate(x0)
            n_calls -= len(y0)
        if len(x0) != len(y0):
            raise ValueError("`x0` and `y0` should have the same length")
        result = opt.tell(x0, y0)
        result.specs = specs
        if eval_callbacks(callbacks, result):
            return result
    while n_calls > 0:
        # the initial design is fixed in advance: evaluate up to n_jobs of it at once
        k = max(1, min(opt._n_initial_points, n_calls, _n_workers(n_jobs))) if par is not None else 1
        points = [opt.ask() for _ in range(k)]  # initial points: each ask a new one
        values = evaluate(points)
        for x, y in zip(points, values):  # told one by one: callbacks see each call, as in skopt
            result = opt.tell(x, y)
            result.specs = specs
            n_calls -= 1
            if eval_callbacks(callbacks, result):
                return result
    return result


def _n_workers(n_jobs: int) -> int:
    import os

    return (os.cpu_count() or 1) if n_jobs < 0 else int(n_jobs)
