"""The storage interface: what the runner, the cli and every study store agree on.

A store holds studies by name; a study holds its direction(s), its search space (as
``Space.to_dict()``) and its trials. Every method is one atomic step, so several runners (threads,
or processes sharing one file or server) can work on one study at once: trial numbers are handed
out by the store, never by a runner.

Glossary:
    seq: a change counter per study; it grows with every trial write, so a process sharing the
        study fetches only what changed since it last looked (:meth:`Storage.trials_since`).
    owner: ``"host:pid"`` of the process running a trial (:func:`process_owner`).
    heartbeat: the last time (``time.time()``) a trial's owner said it still runs it
        (:meth:`Storage.heartbeat`); a RUNNING trial whose heartbeat (its start time when it has
        none) is older than a grace period is stale, whichever host owned it
        (:meth:`Storage.reclaim_stale`). This replaces the PID check of
        :meth:`Storage.fail_abandoned`, which only works on the owner's host.
    attempts: the earlier runs of a re-queued trial (``Trial.attempts``); a trial is re-run once:
        one that already has an attempt and goes stale again ends FAILED.

The helpers below the classes (``check_same`` and the others) are shared by the stores of this
package; they are not part of the public API.
"""

from __future__ import annotations

import abc
import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gpu_bo.exceptions import StorageError
from gpu_bo.study import Study, Trial, TrialState

__all__ = ["Storage", "StudyInfo", "DuplicateParams", "process_owner"]


def process_owner() -> str:
    """``"host:pid"`` of this process: the owner recorded on the trials it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


class DuplicateParams(StorageError):
    """``create_trial(..., unique=True)`` found a trial with the same params (another process
    proposed the same point at the same moment)."""


@dataclass(frozen=True)
class StudyInfo:
    """What a storage knows about a study besides its trials.

    Attributes:
        name: the study's name, unique in its store.
        direction: the direction of the (first) objective, ``"minimize"`` or ``"maximize"``.
        space: the search space as ``Space.to_dict()``, or ``None`` when none was recorded.
        directions: one direction per objective (``(direction,)`` for a single objective,
            which is what an empty tuple given to the constructor becomes).
    """

    name: str
    direction: str
    space: dict | None
    directions: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.directions:
            object.__setattr__(self, "directions", (self.direction,))


class Storage(abc.ABC):
    """Interface of a study store. Every method is one atomic step.

    A new store (e.g. a server database) plugs in by subclassing this class, registering a URL
    scheme with :func:`gpu_bo.storage.register_storage`, and passing the contract tests of
    ``tests/test_storage_contract.py``. A store is also a context manager that closes itself.
    """

    @abc.abstractmethod
    def get_or_create_study(self, name: str, direction: str | Sequence[str], space: dict | None) -> StudyInfo:
        """Return the study ``name``, creating it if needed.

        Args:
            name: the study's name.
            direction: ``"minimize"``/``"maximize"``, or one of them per objective.
            space: the search space as ``Space.to_dict()`` (``None``: not recorded, not checked).

        Raises:
            StorageError: the study exists with other directions or another search space.
            ValueError: ``direction`` is not a direction or a non-empty sequence of them.
        """

    @abc.abstractmethod
    def list_studies(self) -> list[str]:
        """Names of the studies in this store, oldest first."""

    @abc.abstractmethod
    def study_info(self, name: str | None = None) -> StudyInfo:
        """Direction(s) and search space of the study ``name`` (``None``: the only study).

        Raises:
            StorageError: no such study; ``name=None`` and the store holds none or several.
        """

    @abc.abstractmethod
    def load_study(self, name: str | None = None) -> Study:
        """The study ``name`` with all its trials, by number (``None``: the only study).

        Raises:
            StorageError: as :meth:`study_info`.
        """

    @abc.abstractmethod
    def create_trial(self, study: str, params: dict[str, Any], *, max_trials: int | None = None,
                     owner: str | None = None, unique: bool = False) -> Trial | None:
        """Record a new RUNNING trial and return it with its number.

        Numbers start at 0 and grow by one; two callers never get the same number.

        Args:
            study: the study's name.
            params: the trial's parameters (plain JSON values).
            max_trials: return ``None`` (and record nothing) when the study already holds this
                many trials, whatever their state.
            owner: ``"host:pid"`` of the process that runs it (default: this process).
            unique: refuse params equal to those of a trial already recorded.

        Raises:
            DuplicateParams: ``unique`` and a trial with the same params exists.
            StorageError: no such study, or params the store cannot hold.
        """

    @abc.abstractmethod
    def finish_trial(self, study: str, trial: Trial) -> None:
        """Record the params, state, values, error, intermediate values, user_attrs and end time of
        ``trial`` (identified by ``trial.number``). The params change for a define-by-run trial:
        it is created with the suggested configuration and finishes with the parameters its
        objective used (:mod:`gpu_bo.define_by_run`)."""

    def set_space(self, study: str, space: dict | None) -> StudyInfo:
        """Replace the search space recorded for ``study`` (a define-by-run study's space grows
        as its objective shows new parameters and conditions, :mod:`gpu_bo.define_by_run`).

        Args:
            study: the study's name.
            space: the new space as ``Space.to_dict()`` (``None``: none recorded).

        Returns:
            The study's info with the new space.

        Raises:
            StorageError: no such study, or a store that cannot change a study's space.
        """
        raise StorageError(f"{type(self).__name__}: cannot change the search space of study {study!r} "
                           "(set_space is not implemented by this store)")

    @abc.abstractmethod
    def trials_since(self, study: str, seq: int) -> tuple[list[Trial], int]:
        """Trials written after change counter ``seq`` (0: all), and the counter to pass next time."""

    @abc.abstractmethod
    def fail_abandoned(self, study: str) -> list[int]:
        """Mark FAILED the RUNNING trials whose owner is a dead process on this host.

        Trials of live processes and of other hosts (which cannot be checked) are left alone.

        Returns:
            The numbers of the trials marked.
        """

    @abc.abstractmethod
    def heartbeat(self, study: str, numbers: Sequence[int], owner: str) -> None:
        """Set heartbeat = now on those of ``numbers`` that are RUNNING and owned by ``owner``.

        One transaction; other trials (finished, re-queued, taken over by another owner) are
        left alone. A heartbeat need not bump the change counter (no reader needs to see it).

        Args:
            study: the study's name.
            numbers: the trials the caller is running.
            owner: the caller's ``"host:pid"``.
        """

    @abc.abstractmethod
    def reclaim_stale(self, study: str, grace: float, *, requeue: bool = True) -> list[int]:
        """Take back every RUNNING trial whose heartbeat is older than ``now - grace``.

        Whoever owns it (any host): a trial with no heartbeat counts from its start time. With
        ``requeue`` the trial becomes WAITING, its run appended to ``attempts`` (reason
        ``stale_reason(grace)``); a trial that already has an attempt (it was re-run once), or
        any trial when ``requeue`` is false, becomes FAILED with the error
        ``stale_error(grace, owner)`` (and the run appended to ``attempts`` too). One
        transaction; each trial changed bumps the change counter.

        Args:
            study: the study's name.
            grace: seconds without a heartbeat after which a trial is stale.
            requeue: re-queue stale trials (True) or mark them FAILED (False).

        Returns:
            The numbers of the trials taken back.
        """

    @abc.abstractmethod
    def requeue_trial(self, study: str, number: int, owner: str, reason: str) -> bool:
        """Turn the RUNNING trial ``number`` owned by ``owner`` into WAITING, its run appended
        to ``attempts`` with ``reason``; bumps the change counter.

        Args:
            study: the study's name.
            number: the trial's number.
            owner: the ``"host:pid"`` that runs it.
            reason: why it stopped, e.g. ``"interrupted"``.

        Returns:
            False (and nothing changed) when the trial is not RUNNING or not owned by ``owner``.
        """

    @abc.abstractmethod
    def claim_waiting(self, study: str, owner: str) -> Trial | None:
        """Atomically take the lowest-numbered WAITING trial: it becomes RUNNING, owned by
        ``owner``, with start time and heartbeat now; bumps the change counter.

        No two callers (threads, processes, hosts) get the same trial.

        Args:
            study: the study's name.
            owner: the caller's ``"host:pid"``.

        Returns:
            The trial (same number, params and attempts), or None when none is waiting.
        """

    def close(self) -> None:
        """Release the store's resources (the default: nothing to release)."""

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- helpers shared by the stores -------------------------------------------------------------
def owner_is_dead(owner: str | None) -> bool:
    """True when ``owner`` is a process on this host that no longer exists."""
    if not owner or ":" not in owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: we cannot tell, so leave it alone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return False


def abandoned_error(owner: str) -> str:
    """The error text recorded on a trial whose owner died."""
    return f"abandoned: the process running it ({owner}) died before it finished"


def stale_reason(grace: float) -> str:
    """The reason recorded in ``attempts`` for a trial taken back after ``grace`` s without heartbeat."""
    return f"stale: no heartbeat for {grace:g} s"


def stale_error(grace: float, owner: str | None) -> str:
    """The error text of a stale trial marked FAILED."""
    return f"{stale_reason(grace)} (owner {owner})"


def attempt(owner: str | None, start_time: float | None, end_time: float, reason: str) -> dict[str, Any]:
    """One entry of ``Trial.attempts``."""
    return {"owner": owner or "", "start_time": float(start_time or 0.0), "end_time": float(end_time),
            "reason": reason}


def stale_outcome(history: list[dict[str, Any]], owner: str | None, start_time: float | None, now: float,
                  grace: float, requeue: bool) -> tuple[str, float | None, str | None]:
    """What becomes of a stale trial, the rule every store applies: re-run once.

    Appends the stale attempt to ``history`` and returns ``(state, end_time, error)``: WAITING
    (``None, None``) the first time when ``requeue``, else FAILED now with :func:`stale_error`.

    Args:
        history: the trial's earlier attempts (appended to).
        owner: who ran it.
        start_time: when that attempt started.
        now: the store's clock now.
        grace: the grace period it overran, in seconds.
        requeue: re-run stale trials (else fail them at once).
    """
    again = bool(history)  # re-run once: a second stale run ends it
    history.append(attempt(owner, start_time, now, stale_reason(grace)))
    if requeue and not again:
        return "WAITING", None, None
    return "FAILED", now, stale_error(grace, owner)


def check_same(info: StudyInfo, directions: tuple[str, ...], space: dict | None) -> None:
    """Raise a StorageError when a stored study differs from the one requested."""
    if info.directions != directions:
        if len(directions) == 1 and len(info.directions) == 1:
            raise StorageError(
                f"study {info.name!r} is stored with direction={info.direction!r}, but "
                f"direction={directions[0]!r} was requested; use another study_name or the same direction"
            )
        raise StorageError(
            f"study {info.name!r} is stored with directions {list(info.directions)}, but "
            f"{list(directions)} were requested; use another study_name or the same directions"
        )
    if space is not None and info.space is not None and canon(info.space) != canon(space):
        raise StorageError(
            f"study {info.name!r} is stored with search space {info.space}, which differs from "
            f"the requested {space}; use another study_name to search a different space"
        )


def canon(d: Any) -> str:
    """A canonical JSON text of ``d`` (sorted keys), for comparing search spaces."""
    return json.dumps(d, sort_keys=True, default=str)


def pick_name(name: str | None, names: list[str], where: str) -> str:
    """``name`` checked against ``names``; ``None`` picks the only one."""
    if name is None:
        if len(names) == 1:
            return names[0]
        if not names:
            raise StorageError(f"{where}: holds no study yet")
        raise StorageError(f"{where}: holds {len(names)} studies {names}; pass study_name to pick one")
    if name not in names:
        raise StorageError(f"{where}: has no study named {name!r}; it holds {names}")
    return name


# -- the rows of the SQL stores (sqlite.py, postgres.py): one trial/study layout, read in one place
TRIAL_COLUMNS = ("number, params, value, state, start_time, end_time, error, intermediate, user_attrs, "
                 "values_json, attempts, constraints_json")


def trial_from_row(r: Sequence) -> Trial:
    """A Trial from a row of :data:`TRIAL_COLUMNS` (JSON text columns decoded; ``values_json``
    falls back to the single ``value`` of rows written before it existed)."""
    number, params, value, state, start, end, error, inter, attrs, values, attempts, cons = r[:12]
    vals = json.loads(values) if values is not None else (None if value is None else [value])
    return Trial(number=number, params=json.loads(params), values=vals, state=TrialState(state),
                 start_time=start if start is not None else 0.0, end_time=end, error=error,
                 intermediate={int(k): v for k, v in json.loads(inter or "{}").items()},
                 user_attrs=json.loads(attrs or "{}"), attempts=json.loads(attempts or "[]"),
                 constraints=None if cons is None else json.loads(cons))


def outcome_columns(trial: Trial) -> tuple[float | None, str | None, str | None]:
    """``value`` (the single objective's, else NULL), ``values_json`` and ``constraints_json``
    of a finished trial, as the SQL stores write them."""
    values = trial.values
    single = values[0] if values is not None and len(values) == 1 else None
    return (single, None if values is None else json.dumps(list(values)),
            None if trial.constraints is None else json.dumps(list(trial.constraints)))


def info_from_row(name: str, direction: str, space: str | None, directions: str | None) -> StudyInfo:
    """A StudyInfo from a study row's name, direction and JSON space / directions columns."""
    return StudyInfo(name, direction, None if space is None else json.loads(space),
                     tuple(json.loads(directions)) if directions is not None else ())


def study_from_rows(info: StudyInfo, rows: Sequence[Sequence], where: str) -> Study:
    """The Study of ``info`` with the trials of ``rows``; a StorageError naming ``where`` and the
    study when a row is malformed."""
    try:
        trials = [trial_from_row(r) for r in rows]
    except (ValueError, TypeError) as e:
        raise StorageError(f"{where}: study {info.name!r} holds a malformed trial: {e}") from None
    return Study(info.direction, trials, name=info.name, directions=info.directions)

