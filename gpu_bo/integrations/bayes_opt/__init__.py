"""A ``bayes_opt``-compatible facade over :class:`gpu_bo.Optimizer`.

Code written for the ``bayesian-optimization`` package (``bayes_opt`` 1.x to 3.x) runs with its
import line changed::

    # from bayes_opt import BayesianOptimization
    from gpu_bo.integrations.bayes_opt import BayesianOptimization

    optimizer = BayesianOptimization(f=black_box, pbounds={"C": [0.1, 15]}, random_state=7)
    optimizer.maximize(init_points=5, n_iter=25)
    optimizer.max   # {"target": 0.99, "params": {"C": 3.1}}

What maps to what:

* ``pbounds`` follows bayes_opt 3.x: two numbers (a tuple *or a list*) are float bounds,
  ``(low, high, int)`` an integer, ``(low, high, float)`` a float, any other sequence a set of
  categories. gpu_bo dimensions (``gb.Real`` ...) are accepted as well.
* ``UtilityFunction(kind="ucb"|"ei"|"poi", kappa, xi)`` (bayes_opt 1.x) and
  ``acquisition.UpperConfidenceBound / ExpectedImprovement / ProbabilityOfImprovement``
  (bayes_opt 2.x/3.x, ``exploration_decay`` included) select gpu_bo's ``"ucb"``, ``"ei"``,
  ``"pi"`` with the same ``kappa``/``xi`` meaning. The default is bayes_opt's: UCB with
  ``kappa=acquisition.BAYES_OPT_KAPPA`` (2.576).
* ``maximize(init_points, n_iter)`` probes the queued points, then ``init_points`` quasi-random
  points, then ``n_iter`` points suggested by the GP.
* A target that is None, NaN or infinite (or an exception raised by ``f`` inside
  ``maximize``) is recorded as a failed trial of the underlying optimizer and never reaches the
  GP; ``res`` and ``max`` list completed points only (bayes_opt would corrupt its GP instead).
* ``suggest()`` does not reserve the point (as in bayes_opt): call ``register`` with its target.
* ``set_bounds`` rebuilds the optimizer on the new bounds; registered points that fall outside
  them stay in ``res`` but are not shown to the GP.
* ``save_state``/``load_state`` write and read JSON (gpu_bo's own format, not bayes_opt's).
* Not provided: constraints, ``bounds_transformer`` (domain reduction), ``set_gp_params``
  settings (accepted and ignored with a warning: gpu_bo fits its own GP), loggers/events.

The parameter order used by ``probe([...])`` with a list is the order of ``pbounds``' keys.

The modules follow bayes_opt's own layout: ``acquisition`` (the acquisition classes),
``bayesian_optimization`` (the facade), ``util`` (1.x's ``UtilityFunction``), ``exception``,
``parameter`` (``pbounds`` rules), ``target_space`` (the ``space`` view) and ``logger`` (the
printed table).
"""

from __future__ import annotations

from gpu_bo.integrations.bayes_opt import acquisition
from gpu_bo.integrations.bayes_opt.acquisition import (
    ExpectedImprovement,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
)
from gpu_bo.integrations.bayes_opt.bayesian_optimization import BayesianOptimization
from gpu_bo.integrations.bayes_opt.exception import NotUniqueError
from gpu_bo.integrations.bayes_opt.util import UtilityFunction

# the private helpers stay importable from here, where they lived before the split
from gpu_bo.integrations.bayes_opt.acquisition import _Acquisition  # noqa: F401
from gpu_bo.integrations.bayes_opt.bayesian_optimization import _STATE_FORMAT  # noqa: F401
from gpu_bo.integrations.bayes_opt.parameter import _dimension, _space_from_pbounds  # noqa: F401
from gpu_bo.integrations.bayes_opt.target_space import _TargetSpaceView  # noqa: F401
from gpu_bo.integrations.bayes_opt.util import _is_num, _plain, _seed  # noqa: F401

__all__ = ["BayesianOptimization", "UtilityFunction", "NotUniqueError", "acquisition",
           "UpperConfidenceBound", "ExpectedImprovement", "ProbabilityOfImprovement"]
