"""A drop-in for hyperopt: ``fmin``, ``hp``, ``Trials``, ``space_eval``, ``tpe``/``rand``/``anneal``,
``STATUS_OK``/``STATUS_FAIL``, on gpu_bo's GP over the conditional space a nested ``hp.choice``
describes. Change the import line of a hyperopt script::

    from hyperopt import fmin, hp, tpe, Trials, STATUS_OK, space_eval           # before
    from gpu_bo.integrations.hyperopt import fmin, hp, tpe, Trials, STATUS_OK, space_eval  # after

What maps and what differs: docs/guide/dropin-hyperopt.md.
"""

from __future__ import annotations

from gpu_bo.integrations.hyperopt import anneal, early_stop, exceptions, hp, rand, tpe
from gpu_bo.integrations.hyperopt.base import (JOB_STATE_DONE, JOB_STATE_ERROR, JOB_STATE_NEW, JOB_STATE_RUNNING,
                                               STATUS_FAIL, STATUS_NEW, STATUS_OK, STATUS_RUNNING, STATUS_STRINGS,
                                               STATUS_SUSPENDED, AllTrialsFailed, DuplicateLabel, InvalidLoss,
                                               InvalidResultStatus)
from gpu_bo.integrations.hyperopt.fmin import fmin
from gpu_bo.integrations.hyperopt.space import space_eval
from gpu_bo.integrations.hyperopt.trials import Trials, generate_trials_to_calculate

__all__ = ["fmin", "hp", "tpe", "rand", "anneal", "early_stop", "exceptions", "Trials", "space_eval",
           "generate_trials_to_calculate", "STATUS_OK", "STATUS_FAIL", "STATUS_NEW", "STATUS_RUNNING",
           "STATUS_SUSPENDED", "STATUS_STRINGS", "JOB_STATE_NEW", "JOB_STATE_RUNNING", "JOB_STATE_DONE",
           "JOB_STATE_ERROR", "AllTrialsFailed", "DuplicateLabel", "InvalidLoss", "InvalidResultStatus"]
