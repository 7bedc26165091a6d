"""InMemoryStorage: studies that live as long as the process (the default when ``storage=None``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from gpu_bo.direction import parse_directions
from gpu_bo.storage.base import (DuplicateParams, Storage, StudyInfo, abandoned_error, attempt, check_same,
                                 owner_is_dead, pick_name, process_owner, stale_outcome)
from gpu_bo.study import Study, Trial, TrialState

__all__ = ["InMemoryStorage"]


def _copy(t: Trial) -> Trial:
    # callers get copies, so mutating a returned trial never changes the store
    return Trial.from_dict(t.to_dict())


class InMemoryStorage(Storage):
    """A store that lives as long as the process; thread-safe, one lock for every change.

    ``open_storage("memory://")`` gives a new, empty one each time.
    """

    def __init__(self) -> None:
        self._studies: dict[str, StudyInfo] = {}
        self._trials: dict[str, list[Trial]] = {}
        self._seq: dict[str, list[int]] = {}
        self._owners: dict[str, list[str]] = {}
        self._beats: dict[str, list[float | None]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"InMemoryStorage(studies={list(self._studies)})"

    def get_or_create_study(self, name: str, direction: str | Sequence[str], space: dict | None) -> StudyInfo:
        directions = parse_directions(direction)
        with self._lock:
            if name not in self._studies:
                self._studies[name] = StudyInfo(name, directions[0], space, directions)
                self._trials[name] = []
                self._seq[name] = []
                self._owners[name] = []
                self._beats[name] = []
            info = self._studies[name]
        check_same(info, directions, space)
        return info

    def set_space(self, study: str, space: dict | None) -> StudyInfo:
        name = pick_name(study, self.list_studies(), "memory")
        with self._lock:
            info = self._studies[name] = replace(self._studies[name], space=space)
        return info

    def list_studies(self) -> list[str]:
        return list(self._studies)

    def study_info(self, name: str | None = None) -> StudyInfo:
        return self._studies[pick_name(name, self.list_studies(), "memory")]

    def load_study(self, name: str | None = None) -> Study:
        info = self.study_info(name)
        with self._lock:
            trials = [_copy(t) for t in self._trials[info.name]]
        return Study(info.direction, trials, name=info.name, directions=info.directions)

    def _trials_of(self, study: str) -> list[Trial]:
        return self._trials[pick_name(study, self.list_studies(), "memory")]

    def create_trial(self, study: str, params: dict[str, Any], *, max_trials: int | None = None,
                     owner: str | None = None, unique: bool = False) -> Trial | None:
        trials = self._trials_of(study)
        with self._lock:
            if max_trials is not None and len(trials) >= max_trials:
                return None
            if unique and any(t.params == params for t in trials):
                raise DuplicateParams(f"study {study!r} already has a trial with params {params}")
            t = Trial(number=len(trials), params=dict(params))
            trials.append(t)
            self._seq[study].append(max(self._seq[study], default=0) + 1)
            self._owners[study].append(owner or process_owner())
            self._beats[study].append(None)
            return _copy(t)

    def finish_trial(self, study: str, trial: Trial) -> None:
        trials = self._trials_of(study)
        with self._lock:
            new = _copy(trial)
            new.attempts = trials[trial.number].attempts  # the history is the store's, as in SQLite
            trials[trial.number] = new
            self._seq[study][trial.number] = max(self._seq[study], default=0) + 1

    def trials_since(self, study: str, seq: int) -> tuple[list[Trial], int]:
        trials = self._trials_of(study)
        with self._lock:
            seqs = self._seq[study]
            out = [_copy(t) for t, s in zip(trials, seqs) if s > seq]
            return out, max(seqs, default=seq)

    def fail_abandoned(self, study: str) -> list[int]:
        # Within one process the owners are alive, except those of trials recorded for a worker
        # process (the process backend) that died.
        trials = self._trials_of(study)
        marked = []
        with self._lock:
            for t, owner in zip(trials, self._owners[study]):
                if t.state == TrialState.RUNNING and owner_is_dead(owner):
                    t.state, t.end_time, t.error = TrialState.FAILED, time.time(), abandoned_error(owner)
                    self._seq[study][t.number] = max(self._seq[study]) + 1
                    marked.append(t.number)
        return marked

    def _bump(self, study: str, number: int) -> None:
        self._seq[study][number] = max(self._seq[study]) + 1

    def heartbeat(self, study: str, numbers: Sequence[int], owner: str) -> None:
        trials = self._trials_of(study)
        now = time.time()
        with self._lock:
            for n in numbers:
                if 0 <= n < len(trials) and trials[n].state == TrialState.RUNNING and self._owners[study][n] == owner:
                    self._beats[study][n] = now

    def reclaim_stale(self, study: str, grace: float, *, requeue: bool = True) -> list[int]:
        trials = self._trials_of(study)
        now = time.time()
        taken = []
        with self._lock:
            for t, owner, beat in zip(trials, self._owners[study], self._beats[study]):
                last = beat if beat is not None else t.start_time
                if t.state != TrialState.RUNNING or last >= now - grace:
                    continue
                state, end, error = stale_outcome(t.attempts, owner, t.start_time, now, grace, requeue)
                t.state = TrialState(state)
                if end is not None:
                    t.end_time, t.error = end, error
                self._bump(study, t.number)
                taken.append(t.number)
        return taken

    def requeue_trial(self, study: str, number: int, owner: str, reason: str) -> bool:
        trials = self._trials_of(study)
        with self._lock:
            if not 0 <= number < len(trials):
                return False
            t = trials[number]
            if t.state != TrialState.RUNNING or self._owners[study][number] != owner:
                return False
            t.attempts.append(attempt(owner, t.start_time, time.time(), reason))
            t.state = TrialState.WAITING
            self._bump(study, number)
            return True

    def claim_waiting(self, study: str, owner: str) -> Trial | None:
        trials = self._trials_of(study)
        with self._lock:
            t = next((t for t in trials if t.state == TrialState.WAITING), None)
            if t is None:
                return None
            now = time.time()
            t.state, t.start_time, t.end_time, t.error = TrialState.RUNNING, now, None, None
            self._owners[study][t.number] = owner
            self._beats[study][t.number] = now
            self._bump(study, t.number)
            return _copy(t)
