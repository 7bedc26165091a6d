"""Drop-ins for other libraries' APIs, each on :class:`gpu_bo.Optimizer`.

* :mod:`gpu_bo.integrations.sklearn`: ``BayesSearchCV`` on scikit-learn's search machinery.
* :mod:`gpu_bo.integrations.bayes_opt`: ``BayesianOptimization`` and its acquisition classes,
  laid out as the ``bayes_opt`` package is.
* :mod:`gpu_bo.integrations.ray_tune`: a Ray Tune searcher (:mod:`gpu_bo.integrations.ray` is
  its old name, kept as an alias).

Nothing is imported here: each integration pulls in its own library only when it is used.
"""

from __future__ import annotations
