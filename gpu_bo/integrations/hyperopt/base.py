"""hyperopt's constants, exceptions and result rules (``hyperopt.base`` and ``hyperopt.exceptions``).

A result is what the objective returns: a number (the loss) or a dict with a ``"status"`` (one
of :data:`STATUS_STRINGS`) and, for :data:`STATUS_OK`, a ``"loss"``; every other key is kept.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from gpu_bo.integrations.hyperopt.exceptions import (AllTrialsFailed, DuplicateLabel, InvalidLoss,
                                                     InvalidResultStatus)

__all__ = ["STATUS_NEW", "STATUS_RUNNING", "STATUS_SUSPENDED", "STATUS_OK", "STATUS_FAIL", "STATUS_STRINGS",
           "JOB_STATE_NEW", "JOB_STATE_RUNNING", "JOB_STATE_DONE", "JOB_STATE_ERROR", "JOB_STATE_CANCEL",
           "JOB_STATES", "JOB_VALID_STATES", "TRIAL_KEYS", "TRIAL_MISC_KEYS", "AllTrialsFailed", "InvalidResultStatus", "InvalidLoss",
           "DuplicateLabel", "as_result"]

STATUS_NEW = "new"
STATUS_RUNNING = "running"
STATUS_SUSPENDED = "suspended"
STATUS_OK = "ok"
STATUS_FAIL = "fail"
STATUS_STRINGS = ("new", "running", "suspended", "ok", "fail")

JOB_STATE_NEW = 0
JOB_STATE_RUNNING = 1
JOB_STATE_DONE = 2
JOB_STATE_ERROR = 3
JOB_STATE_CANCEL = 4
JOB_STATES = [JOB_STATE_NEW, JOB_STATE_RUNNING, JOB_STATE_DONE, JOB_STATE_ERROR, JOB_STATE_CANCEL]
# hyperopt's Trials.trials holds these; a trial whose objective raised leaves the list
JOB_VALID_STATES = {JOB_STATE_NEW, JOB_STATE_RUNNING, JOB_STATE_DONE}
# the keys every trial document (and its "misc") must hold
TRIAL_KEYS = ["tid", "spec", "result", "misc", "state", "owner", "book_time", "refresh_time", "exp_key"]
TRIAL_MISC_KEYS = ["tid", "cmd", "idxs", "vals"]


def as_result(rval: Any) -> dict:
    """The result dict of an objective's return value, as hyperopt's ``Domain.evaluate`` builds it.

    Args:
        rval: a number (the loss) or a mapping with ``"status"`` (and ``"loss"`` when ok).

    Raises:
        InvalidResultStatus: a mapping without a known ``"status"``, or neither a number nor a
            mapping.
        InvalidLoss: status ok without a float-convertible ``"loss"``.
    """
    if isinstance(rval, numbers.Real) and not isinstance(rval, bool):
        return {"loss": float(rval), "status": STATUS_OK}
    if not isinstance(rval, Mapping):
        raise InvalidResultStatus(f"the objective returned {rval!r} ({type(rval).__name__}); expected a "
                                  "number (the loss) or a dict {'loss': float, 'status': STATUS_OK, ...}", rval)
    out = dict(rval)
    if out.get("status") not in STATUS_STRINGS:
        raise InvalidResultStatus(f"the objective returned {out!r}: status={out.get('status')!r}; expected "
                                  f"one of {STATUS_STRINGS} (STATUS_OK = 'ok', STATUS_FAIL = 'fail')", out)
    if out["status"] == STATUS_OK:
        try:
            out["loss"] = float(out["loss"])
        except (TypeError, KeyError, ValueError):
            raise InvalidLoss(f"the objective returned {out!r} with status 'ok'; expected a 'loss' key "
                              "holding a number", out) from None
    return out
