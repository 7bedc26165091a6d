"""The options of scikit-optimize's optimizers that the facade maps, and those it refuses."""

from __future__ import annotations

import numbers
from typing import Any

from sklearn.utils import check_random_state

__all__ = ["ACQ_FUNCS", "HEDGE", "check_options", "is_dummy", "seed_from"]


def seed_from(random_state: Any) -> int | None:
    """An int seed for gpu_bo's optimizer from scikit-learn's ``random_state`` conventions.

    Args:
        random_state: None, an int or a ``numpy.random.RandomState`` (drawn from, so repeated
            uses advance it, as scikit-learn does).
    """
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


# skopt's acquisition name -> gpu_bo's (LCB of a minimized objective is gpu_bo's UCB on the
# larger-is-better view: mu - kappa * sigma in the user's units)
ACQ_FUNCS = {"EI": "ei", "PI": "pi", "LCB": "ucb"}
HEDGE = ("EI", "PI", "LCB")
ACQ_OPTIMIZERS = ("auto", "sampling", "lbfgs")
INITIAL_GENERATORS = ("random", "sobol")
ESTIMATORS = ("GP", None)


def is_dummy(base_estimator: Any) -> bool:
    """skopt's ``"DUMMY"`` (any case): random search, no model.

    Args:
        base_estimator: the ``base_estimator`` argument.
    """
    return isinstance(base_estimator, str) and base_estimator.upper() == "DUMMY"


def check_options(base_estimator: Any = "GP", acq_func: str = "gp_hedge", acq_optimizer: str = "auto",
                  initial_point_generator: str = "random", noise: Any = "gaussian") -> None:
    """Refuse what the facade does not do, with skopt's error types.

    Args:
        base_estimator: ``"GP"`` (any case) or None; other surrogates are not offered.
        acq_func: ``"gp_hedge"``, ``"EI"``, ``"PI"`` or ``"LCB"``.
        acq_optimizer: ``"auto"``, ``"sampling"`` or ``"lbfgs"`` (gpu_bo's maximizer does both).
        initial_point_generator: ``"random"`` or ``"sobol"`` (both: gpu_bo's scrambled Sobol).
        noise: ``"gaussian"`` or None (the GP fits its noise level).

    Raises:
        ValueError: a value the facade does not support; the message names it.
    """
    if not (base_estimator is None or isinstance(base_estimator, str) and base_estimator.upper() == "GP"):
        raise ValueError(f"base_estimator: got {base_estimator!r}; gpu_bo's skopt facade models with its own "
                         "GP: expected 'GP' or None. Of skopt's 'RF', 'ET', 'GP', 'GBRT' or 'DUMMY', 'DUMMY' "
                         "(random search) is offered by gpu_bo.integrations.skopt's Optimizer, gp_minimize and "
                         "dummy_minimize; the tree models 'RF', 'ET', 'GBRT' (forest_minimize, gbrt_minimize) "
                         "and scikit-learn regressors are not gpu_bo's engine and are not supported")
    if acq_func != "gp_hedge" and acq_func not in ACQ_FUNCS:
        raise ValueError(f"acq_func: got {acq_func!r}; expected 'gp_hedge', 'EI', 'PI' or 'LCB' "
                         "(skopt's 'EIps', 'PIps', 'MES', 'PVRS' are not supported)")
    if acq_optimizer not in ACQ_OPTIMIZERS:
        raise ValueError(f"acq_optimizer: got {acq_optimizer!r}; expected one of {list(ACQ_OPTIMIZERS)}")
    if initial_point_generator not in INITIAL_GENERATORS:
        raise ValueError(f"initial_point_generator: got {initial_point_generator!r}; expected 'random' or "
                         "'sobol' here (both give gpu_bo's scrambled Sobol design; 'lhs', 'halton', "
                         "'hammersly' and 'grid' are offered by gpu_bo.integrations.skopt's Optimizer and "
                         "gp_minimize)")
    if noise not in ("gaussian", None):
        raise ValueError(f"noise: got {noise!r}; expected 'gaussian' or None: gpu_bo's GP always fits its "
                         "noise level (a fixed noise variance is not supported)")
