"""hyperopt's in-memory ``Trials``: the documents of every trial, in hyperopt's dict layout.

A document is ``{"state", "tid", "spec", "result", "misc": {"tid", "cmd", "workdir", "idxs",
"vals"}, "exp_key", "owner", "version", "book_time", "refresh_time"}``, with
``misc["vals"] = {label: [value] or []}`` (``[]``: inactive). Only plain data is kept, so a
``Trials`` pickles; passing it to ``fmin`` again continues the run (``max_evals`` counts them all).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from gpu_bo.integrations.hyperopt.base import (JOB_STATE_NEW, JOB_VALID_STATES, STATUS_NEW, STATUS_OK,
                                               TRIAL_KEYS, TRIAL_MISC_KEYS, AllTrialsFailed)
from gpu_bo.integrations.hyperopt.exceptions import InvalidTrial

__all__ = ["Trials", "now", "generate_trials_to_calculate"]


def now() -> datetime.datetime:
    """hyperopt's ``coarse_utcnow``: UTC now to the millisecond, without a time zone."""
    t = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


class Trials:
    """The trials of one or more ``fmin`` runs.

    Args:
        exp_key: keep only the documents with this ``exp_key`` in :attr:`trials`.
        refresh: build :attr:`trials` now (hyperopt's flag; documents added by ``fmin`` are
            always visible).
    """

    asynchronous = False

    def __init__(self, exp_key: str | None = None, refresh: bool = True) -> None:
        self._exp_key = exp_key
        self._dynamic_trials: list[dict] = []
        self._ids: set[int] = set()
        self.attachments: dict = {}
        self._trials: list[dict] = []
        if refresh:
            self.refresh()

    # -- hyperopt's bookkeeping -------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild :attr:`trials`: the documents in a valid state (not those whose objective raised)."""
        self._trials = [t for t in self._dynamic_trials if t["state"] in JOB_VALID_STATES
                        and (self._exp_key is None or t["exp_key"] == self._exp_key)]
        self._ids.update(t["tid"] for t in self._trials)

    def new_trial_ids(self, n: int) -> list[int]:
        """``n`` fresh trial ids.

        Args:
            n: how many.
        """
        start = len(self._ids)
        ids = list(range(start, start + n))
        self._ids.update(ids)
        return ids

    def new_trial_docs(self, tids: Sequence[int], specs: Sequence[Any], results: Sequence[dict],
                       miscs: Sequence[dict]) -> list[dict]:
        """New documents (state NEW), as hyperopt builds them.

        Args:
            tids: their ids.
            specs: their specs (None).
            results: their results (``{"status": "new"}``).
            miscs: their ``misc`` dicts.
        """
        return [{"state": JOB_STATE_NEW, "tid": t, "spec": s, "result": r, "misc": m, "exp_key": self._exp_key,
                 "owner": None, "version": 0, "book_time": None, "refresh_time": None}
                for t, s, r, m in zip(tids, specs, results, miscs)]

    def assert_valid_trial(self, trial: Any) -> Mapping:
        """``trial`` if it is a document in hyperopt's layout.

        Args:
            trial: the document.

        Raises:
            InvalidTrial: not a mapping, a key of TRIAL_KEYS / TRIAL_MISC_KEYS missing, the ``tid``
                of the root and of ``misc`` differ, or another ``exp_key``.
        """
        if not isinstance(trial, Mapping):
            raise InvalidTrial("a trial document should be a dict; got", trial)
        missing = [k for k in TRIAL_KEYS if k not in trial]
        missing += [f"misc.{k}" for k in TRIAL_MISC_KEYS if k not in trial.get("misc", {})]
        if missing:
            raise InvalidTrial(f"the trial document lacks {missing}; expected hyperopt's layout:", trial)
        if trial["tid"] != trial["misc"]["tid"]:
            raise InvalidTrial("the tid of the document and of its misc differ:", trial)
        if trial["exp_key"] != self._exp_key:
            raise InvalidTrial(f"exp_key {trial['exp_key']!r} differs from this Trials' {self._exp_key!r}:", trial)
        return trial

    def insert_trial_doc(self, doc: Mapping) -> int:
        """Add one document (seen in :attr:`trials` after :meth:`refresh`, as in hyperopt).

        Args:
            doc: a document in hyperopt's layout.
        """
        return self.insert_trial_docs([doc])[0]

    def insert_trial_docs(self, docs: Sequence[Mapping]) -> list[int]:
        """Add documents (seen in :attr:`trials` after :meth:`refresh`, as in hyperopt); returns their ids.

        Args:
            docs: documents in hyperopt's layout.
        """
        docs = [dict(self.assert_valid_trial(d)) for d in docs]
        self._dynamic_trials.extend(docs)
        return [d["tid"] for d in docs]

    def delete_all(self) -> None:
        """Forget every trial."""
        self._dynamic_trials, self.attachments = [], {}
        self.refresh()

    def count_by_state_unsynced(self, arg: int | Sequence[int]) -> int:
        """How many documents are in the state(s) ``arg``.

        Args:
            arg: one JOB_STATE_* or a list of them.
        """
        states = {arg} if isinstance(arg, int) else set(arg)
        return sum(t["state"] in states for t in self._dynamic_trials
                   if self._exp_key is None or t["exp_key"] == self._exp_key)

    count_by_state_synced = count_by_state_unsynced

    def aname(self, trial: Mapping, name: str) -> str:
        """The key of a trial's attachment ``name`` in :attr:`attachments`.

        Args:
            trial: the trial document.
            name: the attachment's name.
        """
        return f"ATTACH::{trial['tid']}::{name}"

    def trial_attachments(self, trial: Mapping) -> dict[str, Any]:
        """``{name: value}`` of what the objective returned under ``result["attachments"]``.

        Args:
            trial: the trial document.
        """
        prefix = self.aname(trial, "")
        return {k[len(prefix):]: v for k, v in self.attachments.items() if k.startswith(prefix)}

    # -- views ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[dict]:
        return iter(self._trials)

    def __len__(self) -> int:
        return len(self._trials)

    @property
    def trials(self) -> list[dict]:
        """The documents, in the order they were added."""
        return self._trials

    @property
    def tids(self) -> list[int]:
        """The trial ids."""
        return [t["tid"] for t in self._trials]

    @property
    def specs(self) -> list[Any]:
        """The specs (None each, as in hyperopt's serial fmin)."""
        return [t["spec"] for t in self._trials]

    @property
    def results(self) -> list[dict]:
        """The result dicts (the objective's dict, extra keys kept)."""
        return [t["result"] for t in self._trials]

    @property
    def miscs(self) -> list[dict]:
        """The ``misc`` dicts."""
        return [t["misc"] for t in self._trials]

    @property
    def idxs_vals(self) -> tuple[dict, dict]:
        """``({label: [tid, ...]}, {label: [value, ...]})`` over the trials that use each label."""
        idxs: dict[str, list] = {}
        vals: dict[str, list] = {}
        for m in self.miscs:
            for k, v in m["vals"].items():
                idxs.setdefault(k, [])
                vals.setdefault(k, [])
                if v:
                    idxs[k].append(m["tid"])
                    vals[k].append(v[0])
        return idxs, vals

    @property
    def idxs(self) -> dict:
        """``{label: [tid, ...]}``."""
        return self.idxs_vals[0]

    @property
    def vals(self) -> dict:
        """``{label: [value, ...]}``."""
        return self.idxs_vals[1]

    def losses(self, bandit: Any = None) -> list[float | None]:
        """Each trial's ``result["loss"]`` (None where there is none, e.g. a failed trial).

        Args:
            bandit: hyperopt's old bandit argument; must be None.
        """
        return self._field("loss", bandit)

    def statuses(self, bandit: Any = None) -> list[str | None]:
        """Each trial's ``result["status"]``.

        Args:
            bandit: hyperopt's old bandit argument; must be None.
        """
        return self._field("status", bandit)

    def _field(self, key: str, bandit: Any) -> list:
        if bandit is not None:
            raise TypeError(f"bandit: got {bandit!r}; gpu_bo's Trials supports only bandit=None")
        return [r.get(key) for r in self.results]

    @property
    def best_trial(self) -> dict:
        """The trial with status ok and the lowest loss that is not NaN.

        Raises:
            AllTrialsFailed: there is none.
        """
        ok = [t for t in self._trials if t["result"].get("status") == STATUS_OK
              and not math.isnan(float(t["result"]["loss"]))]
        if not ok:
            raise AllTrialsFailed(f"none of the {len(self._trials)} trials has status 'ok' and a loss")
        return min(ok, key=lambda t: float(t["result"]["loss"]))

    @property
    def argmin(self) -> dict:
        """The best trial's ``{label: value}``, active labels only (a choice: its index)."""
        return {k: v[0] for k, v in self.best_trial["misc"]["vals"].items() if v}

    def average_best_error(self, bandit: Any = None) -> float:
        """The best ok loss (``result["true_loss"]`` when given), for losses without a variance.

        Args:
            bandit: hyperopt's old bandit argument; must be None.
        """
        self._field("loss", bandit)
        r = self.best_trial["result"]
        return float(r.get("true_loss", r["loss"]))


def generate_trials_to_calculate(points: Sequence[Mapping[str, Any]]) -> Trials:
    """A ``Trials`` holding ``points`` (``{label: value}``, a choice's value is its index) as NEW
    trials that ``fmin`` evaluates first.

    Args:
        points: the points to evaluate.
    """
    if not isinstance(points, Sequence) or isinstance(points, (str, bytes)) \
            or not all(isinstance(p, Mapping) for p in points):
        raise TypeError(f"points_to_evaluate: got {points!r}; expected a list of dicts {{label: value}}")
    trials = Trials()
    tids = trials.new_trial_ids(len(points))
    miscs = [{"tid": t, "cmd": ("domain_attachment", "FMinIter_Domain"), "workdir": None,
              "idxs": {k: [t] for k in p}, "vals": {k: [v] for k, v in p.items()}} for t, p in zip(tids, points)]
    trials.insert_trial_docs(trials.new_trial_docs(tids, [None] * len(tids), [{"status": STATUS_NEW} for _ in tids],
                                                   miscs))
    trials.refresh()
    return trials
