"""``skopt.utils`` on gpu_bo: results (``create_result``), ``dump``/``load``, named arguments."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult

from gpu_bo.integrations.skopt.options import check_options, is_dummy
from gpu_bo.integrations.skopt.space.space import Space, check_dimension

__all__ = ["create_result", "dump", "load", "use_named_args", "point_asdict", "point_aslist",
           "normalize_dimensions", "dimensions_aslist", "check_x_in_space", "cook_estimator", "posterior_gp",
           "expected_minimum", "expected_minimum_random_sampling", "check_list_types", "check_dimension_names",
           "has_gradients"]


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


def cook_estimator(base_estimator: Any, space: Any = None, **kwargs: Any) -> str | None:
    """skopt's surrogate factory: gpu_bo has one surrogate, its GP (returned as ``"GP"``).

    Args:
        base_estimator: ``"GP"``, or ``"DUMMY"`` (None: no model, as skopt's).
        space: the search space (unused).
        **kwargs: skopt's estimator options; none is supported.

    Raises:
        ValueError: any other estimator, or options.
    """
    if is_dummy(base_estimator):
        return None  # skopt's "DUMMY": no model (random search)
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


def check_list_types(x: list, types: Any) -> None:
    """Raise unless every element of ``x`` is an instance of ``types`` (skopt's check).

    Args:
        x: the list.
        types: a type or a tuple of types.

    Raises:
        ValueError: an element of another type.
    """
    bad = [v for v in x if not isinstance(v, types)]
    if bad:
        raise ValueError(f"x: got the elements {bad!r}; all elements in list must be instances of {types}")


def check_dimension_names(dimensions: list) -> None:
    """Raise unless every dimension has a name (skopt's check, e.g. for ``use_named_args``).

    Args:
        dimensions: a list of dimension objects.

    Raises:
        ValueError: a dimension without a name, or an element that is not a dimension.
    """
    from gpu_bo.integrations.skopt.space.dimensions import Dimension

    check_list_types(dimensions, Dimension)
    unnamed = [d for d in dimensions if d.name is None]
    if unnamed:
        raise ValueError(f"dimensions: got {unnamed!r} without a name; all dimensions must have names")


def has_gradients(estimator: Any) -> bool:
    """Whether the acquisition is maximized with gradients: gpu_bo's GP (``"GP"``) yes, none (random
    search, ``None``) no.

    Args:
        estimator: what :func:`cook_estimator` returned.
    """
    return estimator == "GP"


def posterior_gp(space: Space, Xi: list, yi: list, warm: Any = None) -> Any:
    """gpu_bo's GP of ``-y`` (larger is better) on the told points, on the host.

    Args:
        space: the facade's space.
        Xi: the points (lists).
        yi: their values (minimized).
        warm: the engine's last hyperparameters (kept, only conditioned on the data), or None
            (fitted here).
    """
    import torch

    from gpu_bo.surrogate import fit_gp

    gb = space.to_gpu_bo()
    X = gb.encode([space.to_params(p) for p in Xi])
    warm = None if warm is None else warm.to(X.device, X.dtype)  # the engine may fit on CUDA
    return fit_gp(X, -torch.tensor([float(v) for v in yi], dtype=X.dtype), tuple(gb.cat_columns), seed=len(yi),
                  warm=warm, optimize=warm is None)


def _result_gp(res: OptimizeResult) -> Any:
    models = getattr(res, "models", None) or []
    if not models or not isinstance(models[-1], dict) or "gp_params" not in models[-1]:
        raise ValueError("res: has no fitted model (res.models is empty: random search, or fewer points than "
                         "n_initial_points); expected_minimum needs a result of gp_minimize or Optimizer")
    return posterior_gp(res.space, res.x_iters, res.func_vals, models[-1]["gp_params"])


def _mean(gp: Any, X: Any) -> Any:
    """The GP's posterior mean of the minimized objective (user units) at unit-cube rows."""
    mu, _ = gp.mean_var(X)
    return -(mu * gp.y_std + gp.y_mean)


def expected_minimum_random_sampling(res: OptimizeResult, n_random_starts: int = 100000,
                                     random_state: Any = None) -> tuple[list, float]:
    """The point of smallest posterior mean among ``n_random_starts`` random points (skopt's).

    Args:
        res: a result of ``gp_minimize`` or ``Optimizer`` (its last GP is used).
        n_random_starts: random points evaluated.
        random_state: int, ``numpy.random.RandomState`` or None.

    Returns:
        ``(x, fun)``: the point (a list) and the posterior mean there.

    Raises:
        ValueError: the result has no model.
    """
    import torch

    gp = _result_gp(res)
    points = res.space.rvs(n_samples=int(n_random_starts), random_state=random_state)
    with torch.no_grad():
        m = _mean(gp, res.space.to_gpu_bo().encode([res.space.to_params(p) for p in points]))
    i = int(torch.argmin(m))
    return list(points[i]), float(m[i])


def expected_minimum(res: OptimizeResult, n_random_starts: int = 20, random_state: Any = None) -> tuple[list, float]:
    """The minimum of the GP's posterior mean over the space (scikit-optimize's ``expected_minimum``).

    L-BFGS-B on gpu_bo's encoding from ``res.x`` and ``n_random_starts`` random points, integer
    values rounded at the end; a space with categoricals is searched by
    :func:`expected_minimum_random_sampling` (100000 points), as skopt does.

    Args:
        res: a result of ``gp_minimize`` or ``Optimizer`` (its last GP is used).
        n_random_starts: random starts besides ``res.x``.
        random_state: int, ``numpy.random.RandomState`` or None.

    Returns:
        ``(x, fun)``: the point (a list) and the posterior mean there.

    Raises:
        ValueError: the result has no model.
    """
    import torch
    from scipy.optimize import minimize

    space = res.space
    if space.is_partly_categorical:
        return expected_minimum_random_sampling(res, n_random_starts=100000, random_state=random_state)
    gp, gb = _result_gp(res), space.to_gpu_bo()
    starts = [list(res.x)] + (space.rvs(n_samples=n_random_starts, random_state=random_state)
                              if n_random_starts > 0 else [])

    def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
        t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        v = _mean(gp, t.unsqueeze(0))[0]
        v.backward()
        return float(v.detach()), t.grad.numpy()

    best_x, best_f = None, np.inf
    for x0 in starts:
        r = minimize(fun, gb.encode(space.to_params(x0)).numpy(), jac=True, method="L-BFGS-B",
                     bounds=[(0.0, 1.0)] * gb.d)
        x = space.from_params(gb.decode(torch.tensor(r.x, dtype=torch.float64))[0])
        with torch.no_grad():
            f = float(_mean(gp, gb.encode(space.to_params(x)).unsqueeze(0))[0])
        if f < best_f:
            best_x, best_f = x, f
    return best_x, best_f
