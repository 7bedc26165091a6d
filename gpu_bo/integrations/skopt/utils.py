"""``skopt.utils`` on gpu_bo: results (``create_result``), ``dump``/``load``, named arguments."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from gpu_bo.integrations.skopt.options import check_options
from gpu_bo.integrations.skopt.space.space import Space, check_dimension

__all__ = ["create_result", "dump", "load", "use_named_args", "point_asdict", "point_aslist",
           "normalize_dimensions", "dimensions_aslist", "check_x_in_space", "cook_estimator"]


def create_result(Xi: list, yi: list, space: Space | None = None, rng: Any = None, specs: dict | None = None,
                  models: list | None = None) -> OptimizeResult:
    """The ``OptimizeResult`` (scipy's: a dict with attribute access) of told points and values.

    Args:
        Xi: the points, in the order told.
        yi: their values (minimized).
        space: the search space.
        rng: the random state.
        specs: how the result was made (``{"args": ..., "function": ...}``).
        models: one entry per fit (gpu_bo's fit information).

    Returns:
        ``x`` (the best point), ``fun`` (its value), ``x_iters``, ``func_vals``, ``models``,
        ``space``, ``random_state``, ``specs``.
    """
    res = OptimizeResult()
    yi = np.asarray(yi, dtype=float)
    if len(yi):
        best = int(np.argmin(yi))
        res.x, res.fun = list(Xi[best]), float(yi[best])
    else:
        res.x, res.fun = None, None
    res.func_vals = yi
    res.x_iters = [list(x) for x in Xi]
    res.models = list(models or [])
    res.space = space
    res.random_state = rng
    res.specs = specs
    return res


def dump(res: OptimizeResult, filename: Any, store_objective: bool = True, **kwargs: Any) -> None:
    """Save a result with joblib (``load`` reads it back).

    Args:
        res: the result.
        filename: a path or file object.
        store_objective: keep the objective in ``specs`` (False drops it, for objectives that
            do not pickle).
        **kwargs: passed to ``joblib.dump`` (``compress=...``).
    """
    import joblib

    if not store_objective and res.get("specs") and "func" in res.specs.get("args", {}):
        res = OptimizeResult(res)
        res.specs = {**res.specs, "args": {k: v for k, v in res.specs["args"].items() if k != "func"}}
    joblib.dump(res, filename, **kwargs)


def load(filename: Any, **kwargs: Any) -> OptimizeResult:
    """Read a result saved by :func:`dump`.

    Args:
        filename: a path or file object.
        **kwargs: passed to ``joblib.load``.
    """
    import joblib

    return joblib.load(filename, **kwargs)


def dimensions_aslist(search_space: dict) -> list:
    """The dimensions of a ``{name: dimension}`` dict as a list, sorted by name (skopt's order).

    Args:
        search_space: name -> dimension.
    """
    return [search_space[k] for k in sorted(search_space)]


def point_asdict(search_space: dict, point_as_list: list) -> dict:
    """A point (list, in :func:`dimensions_aslist` order) as ``{name: value}``.

    Args:
        search_space: name -> dimension.
        point_as_list: the point.
    """
    return dict(zip(sorted(search_space), point_as_list))


def point_aslist(search_space: dict, point_as_dict: dict) -> list:
    """A ``{name: value}`` point as a list in :func:`dimensions_aslist` order.

    Args:
        search_space: name -> dimension.
        point_as_dict: the point.
    """
    return [point_as_dict[k] for k in sorted(search_space)]


def normalize_dimensions(dimensions: Any) -> Space:
    """The space with every Real and Integer ``"normalize"``-transformed (skopt's helper).

    Args:
        dimensions: dimensions or a Space.
    """
    space = Space(dimensions)
    for d in space.dimensions:
        if not hasattr(d, "categories"):
            d.set_transformer("normalize")
    return space


def check_x_in_space(x: Any, space: Space) -> None:
    """Raise a ValueError unless ``x`` (a point or a list of points) lies in ``space``.

    Args:
        x: a point or points.
        space: the space.
    """
    points = x if len(x) and isinstance(x[0], (list, tuple, np.ndarray)) else [x]
    for p in points:
        space.to_params(p)


def cook_estimator(base_estimator: Any, space: Any = None, **kwargs: Any) -> str:
    """skopt's surrogate factory: gpu_bo has one surrogate, its GP (returned as ``"GP"``).

    Args:
        base_estimator: ``"GP"``.
        space: the search space (unused).
        **kwargs: skopt's estimator options; none is supported.

    Raises:
        ValueError: any other estimator, or options.
    """
    check_options(base_estimator=base_estimator)
    if kwargs:
        raise ValueError(f"cook_estimator: got {sorted(kwargs)}; gpu_bo's GP takes no estimator options "
                         "(its hyperparameters, noise included, are fitted)")
    return "GP"


def use_named_args(dimensions: list) -> Callable:
    """Decorator: call an objective of keyword arguments with a point (a list).

    Args:
        dimensions: the named dimensions, in the point's order.

    Raises:
        ValueError: a dimension has no name.
    """
    dims = [check_dimension(d) for d in dimensions]
    if any(d.name is None for d in dims):
        raise ValueError("All dimensions must have names.")

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(x: list) -> Any:
            if len(x) != len(dims):
                raise ValueError(f"x: got {len(x)} values for {len(dims)} dimensions; expected one each")
            return func(**{d.name: v for d, v in zip(dims, x)})
        return wrapper
    return decorator
