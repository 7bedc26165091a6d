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
  categories. bayes_opt's ``FloatParameter``/``IntParameter``/``CategoricalParameter`` objects and
  gpu_bo dimensions (``gb.Real`` ...) are accepted as well.
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
* ``set_bounds`` ignores unknown keys (as bayes_opt); registered points that fall outside the
  new bounds stay in ``res`` but are not shown to the GP that makes the suggestions.
* ``save_state``/``load_state`` write bayes_opt's JSON layout (plus gpu_bo's part) and read files
  written by bayes_opt's ``save_state`` too.
* ``constraint=NonlinearConstraint(g, lb, ub)``: each limit becomes an outcome constraint of
  gpu_bo's ``Optimizer.tell(..., constraints=...)`` (``g - ub <= 0``, ``lb - g <= 0``), modelled by GPs.
* ``predict``, ``acquisition.ConstantLiar`` (pending points), ``acquisition.GPHedge`` (a portfolio),
  your own ``AcquisitionFunction`` subclasses (``base_acq`` on gpu_bo's posterior) and
  ``bounds_transformer=SequentialDomainReductionTransformer(...)`` are supported.
* Not provided, each an error: ``set_gp_params`` and ``wrap_kernel`` (gpu_bo fits its own GP), a
  custom ``BayesParameter`` subclass in ``pbounds``, ``acquisition.*.suggest(gp=...)`` with an
  sklearn GP. See docs/guide/dropin-bayes_opt.md.

The modules follow bayes_opt's own layout: ``acquisition``, ``bayesian_optimization``,
``constraint``, ``domain_reduction``, ``exception``, ``logger``, ``parameter``, ``target_space``
and ``util``.
"""

from __future__ import annotations

from gpu_bo.integrations.bayes_opt import acquisition
from gpu_bo.integrations.bayes_opt.acquisition import (
    ConstantLiar,
    ExpectedImprovement,
    GPHedge,
    ProbabilityOfImprovement,
    UpperConfidenceBound,
)
from gpu_bo.integrations.bayes_opt.bayesian_optimization import BayesianOptimization
from gpu_bo.integrations.bayes_opt.constraint import ConstraintModel
from gpu_bo.integrations.bayes_opt.domain_reduction import (
    DomainTransformer,
    SequentialDomainReductionTransformer,
)
from gpu_bo.integrations.bayes_opt.exception import NotUniqueError
from gpu_bo.integrations.bayes_opt.logger import ScreenLogger
from gpu_bo.integrations.bayes_opt.target_space import TargetSpace
from gpu_bo.integrations.bayes_opt.util import UtilityFunction

# the private helpers stay importable from here, where they lived before the split
from gpu_bo.integrations.bayes_opt.acquisition import _Acquisition  # noqa: F401
from gpu_bo.integrations.bayes_opt.parameter import _dimension, _space_from_pbounds  # noqa: F401
from gpu_bo.integrations.bayes_opt.util import _is_num, _plain, _seed  # noqa: F401

__all__ = ["BayesianOptimization", "UtilityFunction", "NotUniqueError", "acquisition", "ConstraintModel",
           "SequentialDomainReductionTransformer", "DomainTransformer", "ScreenLogger", "TargetSpace",
           "UpperConfidenceBound", "ExpectedImprovement", "ProbabilityOfImprovement", "ConstantLiar", "GPHedge"]
