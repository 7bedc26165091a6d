"""Drop-ins for other libraries' APIs, each on :class:`gpu_bo.Optimizer`.

* :mod:`gpu_bo.integrations.sklearn`: ``BayesSearchCV`` on scikit-learn's search machinery.
* :mod:`gpu_bo.integrations.bayes_opt`: ``BayesianOptimization`` and its acquisition classes,
  laid out as the ``bayes_opt`` package is.
* :mod:`gpu_bo.integrations.skopt`: scikit-optimize's API (``gp_minimize``, ``Optimizer``,
  ``BayesSearchCV``, spaces), laid out as the ``skopt`` package is.
* :mod:`gpu_bo.integrations.hyperopt`: ``fmin``, ``hp`` (nested ``hp.choice`` as a conditional
  space), ``Trials``, ``space_eval``, ``tpe``/``rand``.
* :mod:`gpu_bo.integrations.optuna`: ``GpuBoSampler``, an Optuna sampler on gpu_bo's GP.
* :mod:`gpu_bo.integrations.ray_tune`: a Ray Tune searcher (:mod:`gpu_bo.integrations.ray` is
  its old name, kept as an alias).

Nothing is imported here: each integration pulls in its own library only when it is used.
"""

from __future__ import annotations
