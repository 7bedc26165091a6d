"""The records of an Optimizer: its trials, pending points, told outcomes and training data.

:class:`Records` is what :class:`gpu_bo.optimizer.Optimizer` composes for everything it knows
(it keeps only the suggestion logic): trial numbers, the running and externally pending points,
the encoded row and point key of each trial (cached), recording an outcome
(:func:`gpu_bo.outcome.parse_outcome` decides what a value means), the best trial / the Pareto
set, and the training data ``X`` (``n x d``), ``Y`` (``n x m``, larger is better) and ``C``
(``n x k`` constraint values) the GPs are fitted on.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from gpu_bo.direction import Direction
from gpu_bo.outcome import Outcome, parse_outcome
from gpu_bo.space import Space, point_key, row_key
from gpu_bo.study import Study, Trial, TrialState, is_valid_value

__all__ = ["Records"]


class Records:
    """The trials of one optimizer and what is derived from them.

    Args:
        space: the search space.
        directions: one :class:`~gpu_bo.direction.Direction` per objective.
    """

    def __init__(self, space: Space, directions: Sequence[Direction]) -> None:
        self.space = space
        self.directions = list(directions)
        self.trials: list[Trial] = []
        self.external_pending: list[dict[str, Any]] = []
        self.n_constraints: int | None = None  # fixed by the first outcome that has constraints
        self._enc_cache: dict[int, list[float]] = {}  # trial number -> encoded row
        self._key_cache: dict[int, tuple] = {}  # trial number -> point_key of its row
        # indexes kept beside ``trials`` so a tell, a pending lookup and ``completed`` never scan
        # every trial (issue 18.3: with thousands of trials the scans dominated a tell)
        self._running: dict[int, Trial] = {}  # number -> RUNNING trial, in ask order
        self._running_by_key: dict[tuple, list[int]] = {}  # space.key(params) -> their numbers
        self._done: list[Trial] = []  # COMPLETE trials by number
        self._ext_keys: list[tuple] = []  # space.key of external_pending[i] (appended lazily)

    @property
    def n_objectives(self) -> int:
        return len(self.directions)

    @property
    def has_constraints(self) -> bool:
        return self.n_constraints is not None

    def reset(self, trials: list[Trial], external: list[dict[str, Any]]) -> None:
        """Replace every record (a loaded state); ``n_constraints`` is read from the trials."""
        self.trials = trials
        self.external_pending = external
        self._enc_cache, self._key_cache = {}, {}
        self._running, self._running_by_key, self._ext_keys = {}, {}, []
        for t in trials:
            if t.state == TrialState.RUNNING:
                self._add_running_index(t)
        self._done = sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.number)
        ks = {len(t.constraints) for t in trials if t.constraints is not None}
        if len(ks) > 1:
            raise ValueError(f"state: trials have constraint lists of different lengths {sorted(ks)}")
        self.n_constraints = ks.pop() if ks else None

    # -- lookups ---------------------------------------------------------------------------
    def completed(self) -> list[Trial]:
        """The COMPLETE trials by number (a copy of the kept index)."""
        return list(self._done)

    def pending(self) -> list[dict[str, Any]]:
        return [dict(t.params) for t in self._running.values()] + [dict(p) for p in self.external_pending]

    def new_number(self) -> int:
        # unique even after remove_pending() dropped a trial (the encoding cache is keyed by it)
        return self.trials[-1].number + 1 if self.trials else 0

    def add_running(self, params: dict[str, Any]) -> Trial:
        trial = Trial(number=self.new_number(), params=params)
        self.trials.append(trial)
        self._add_running_index(trial)
        return trial

    def _add_running_index(self, trial: Trial) -> None:
        self._running[trial.number] = trial
        self._running_by_key.setdefault(self.space.key(trial.params), []).append(trial.number)

    def _pop_running(self, key: tuple) -> Trial | None:
        """The first (lowest-numbered) RUNNING trial whose params have ``key``, out of the index."""
        numbers = self._running_by_key.get(key)
        if not numbers:
            return None
        number = min(numbers)  # the first in trial order, as the scan this replaces found
        numbers.remove(number)
        if not numbers:
            del self._running_by_key[key]
        return self._running.pop(number)

    def _external_keys(self) -> list[tuple]:
        """``space.key`` of each external pending point (add_pending appends to the list)."""
        keys = self._ext_keys
        if len(keys) > len(self.external_pending):  # the list was replaced from outside
            keys.clear()
        keys.extend(self.space.key(p) for p in self.external_pending[len(keys):])
        return keys

    def _drop_external(self, key: tuple) -> bool:
        keys = self._external_keys()
        for i, k in enumerate(keys):
            if k == key:
                del self.external_pending[i], keys[i]
                return True
        return False

    def row(self, trial: Trial) -> list[float]:
        """The encoded point of a trial, cached (encoding is Python work per value)."""
        row = self._enc_cache.get(trial.number)
        if row is None:
            row = self._enc_cache[trial.number] = self.space.encode(trial.params).tolist()
        return row

    def key(self, trial: Trial) -> tuple:
        """``point_key`` of a trial's encoded row, cached: rebuilding every key from tensors at
        every ask made long studies slow (benchmarks/results/scaling.md, large n)."""
        key = self._key_cache.get(trial.number)
        if key is None:
            key = self._key_cache[trial.number] = row_key(self.row(trial))
        return key

    def exclude_keys(self) -> set[tuple]:
        """Keys of every point never to suggest again: evaluated, running, pending elsewhere."""
        exclude = {self.key(t) for t in self.trials}
        exclude |= {point_key(self.space.encode(p)) for p in self.external_pending}
        return exclude

    def remove_pending(self, params: Mapping[str, Any]) -> None:
        key = self.space.key(params)
        if self._drop_external(key):
            return
        t = self._pop_running(key)
        if t is not None:
            # trials are kept by number: find it by bisection instead of a scan
            i = bisect.bisect_left(self.trials, t.number, key=lambda x: x.number)
            if i < len(self.trials) and self.trials[i] is t:
                del self.trials[i]
            else:
                self.trials.remove(t)
            self._enc_cache.pop(t.number, None)
            self._key_cache.pop(t.number, None)

    # -- outcomes --------------------------------------------------------------------------
    def parse(self, value: Any, constraints: Any, st: TrialState | None) -> Outcome:
        """The outcome of a tell, checked against the study's shape (raises ValueError when it
        does not fit: wrong number of values or constraints, constraints after trials without)."""
        if st == TrialState.FAILED:
            return Outcome(None, None, f"told state=FAILED with the value {value!r}")
        if st == TrialState.PRUNED:  # a pruned trial keeps its last value when it is one
            vals = [float(value)] if self.n_objectives == 1 and is_valid_value(value) else None
            return Outcome(vals, None)
        out = parse_outcome(value, constraints, self.n_objectives, self.n_constraints)
        if out.constraints is not None and self.n_constraints is None:
            unconstrained = [t.number for t in self.completed() if t.constraints is None]
            if unconstrained:
                raise ValueError(f"constraints: got {len(out.constraints)} constraint values, but "
                                 f"{len(unconstrained)} COMPLETE trials were told without constraints "
                                 "(e.g. trial {}); give constraints from the first tell on".format(unconstrained[0]))
        return out

    def commit(self, outcome: Outcome) -> None:
        """Fix ``n_constraints`` once an outcome with constraints is recorded."""
        if outcome.constraints is not None and self.n_constraints is None:
            self.n_constraints = len(outcome.constraints)

    def record(self, params: dict[str, Any], outcome: Outcome, st: TrialState | None,
               error: str | None) -> Trial:
        """Record ``outcome`` on the running trial of ``params`` (or a new trial) and return it."""
        key = self.space.key(params)
        trial = self._pop_running(key)
        self._drop_external(key)
        if trial is None:
            trial = Trial(number=self.new_number(), params=params)
            self.trials.append(trial)
        trial.end_time = time.time()
        trial.values, trial.constraints, trial.error = outcome.values, outcome.constraints, outcome.error
        if st == TrialState.PRUNED:
            trial.state, trial.error = TrialState.PRUNED, None
        else:
            trial.state = TrialState.COMPLETE if outcome.ok else TrialState.FAILED
        if error is not None:
            trial.error = error
        if trial.state == TrialState.COMPLETE:
            if not self._done or self._done[-1].number < trial.number:
                self._done.append(trial)
            else:
                bisect.insort(self._done, trial, key=lambda x: x.number)
        self.commit(outcome)
        return trial

    # -- the best --------------------------------------------------------------------------
    def _study(self) -> Study:
        return Study(directions=[d.value for d in self.directions], trials=self.trials)

    def best(self) -> dict[str, Any] | None:
        """The best feasible COMPLETE trial of a single objective as ``{"params", "value"}``
        (:attr:`gpu_bo.study.Study.best_trial`)."""
        if self.n_objectives > 1:
            raise ValueError(f"best: the study has {self.n_objectives} objectives, so there is no single "
                             "best; use opt.pareto (the feasible non-dominated trials)")
        t = self._study().best_trial
        return None if t is None else {"params": dict(t.params), "value": t.value}

    def pareto(self) -> list[dict[str, Any]]:
        """The feasible non-dominated COMPLETE trials, by number (:attr:`gpu_bo.study.Study.best_trials`)."""
        return [{"params": dict(t.params), "values": list(t.values),
                 "constraints": None if t.constraints is None else list(t.constraints)}
                for t in self._study().best_trials]

    # -- training data ---------------------------------------------------------------------
    def training_data(self, device: torch.device, dtype: torch.dtype, failure_policy: str
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``X`` (``n x d``), ``Y`` (``n x m``, one column per objective, larger is better) and
        ``C`` (``n x k`` constraint values, None without constraints).

        Rows: the completed trials in order, then (failure policy "worst") the failed ones,
        shown as the worst value seen per objective column and, for the constraints, as
        infeasible: the largest constraint value seen (at least 0) plus the column's range (1
        when it has none), so no failed point looks feasible.
        """
        done = self.completed()
        signs = [d.sign for d in self.directions]
        rows = [self.row(t) for t in done]
        values = [[s * v for s, v in zip(signs, t.values)] for t in done]
        m = len(values[0]) if values else self.n_objectives
        cons = [list(t.constraints) for t in done] if self.has_constraints else None
        if failure_policy == "worst":
            failed = [self.row(t) for t in self.trials if t.state == TrialState.FAILED]
            if failed:
                worst = [min(col) for col in zip(*values)]
                rows += failed
                values += [list(worst) for _ in failed]
                if cons is not None:
                    bad = [max(max(col), 0.0) + ((max(col) - min(col)) or 1.0) for col in zip(*cons)]
                    cons += [list(bad) for _ in failed]
        X = torch.tensor(rows, device=device, dtype=dtype).reshape(len(rows), self.space.d)
        Y = torch.tensor(values, device=device, dtype=dtype).reshape(len(values), m)
        C = None
        if cons is not None:
            C = torch.tensor(cons, device=device, dtype=dtype).reshape(len(cons), self.n_constraints)
        return X, Y, C
