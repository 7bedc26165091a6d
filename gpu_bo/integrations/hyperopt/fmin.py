"""hyperopt's ``fmin`` on gpu_bo: the loop that asks, evaluates the objective on the nested
sample, and records each trial in a :class:`~gpu_bo.integrations.hyperopt.trials.Trials`.

It follows hyperopt's serial ``FMinIter``: trials already in ``Trials`` count towards
``max_evals`` (so passing the same ``Trials`` again resumes), NEW trials (``points_to_evaluate``)
are evaluated first, an exception in the objective removes its trial from ``Trials.trials`` and
is re-raised unless ``catch_eval_exceptions=True``, and the result is ``Trials.argmin`` (a
choice's value is its index) or, with ``return_argmin=False``, the nested sample at it.
"""

from __future__ import annotations

import inspect
import logging
import math
import numbers
import os
import pickle
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from gpu_bo.exceptions import SpaceError
from gpu_bo.integrations.hyperopt.algos import Suggester, resolve_algo
from gpu_bo.integrations.hyperopt.base import (JOB_STATE_DONE, JOB_STATE_ERROR, JOB_STATE_NEW, JOB_STATE_RUNNING,
                                               STATUS_NEW, STATUS_OK, as_result)
from gpu_bo.integrations.hyperopt.exceptions import InvalidAnnotatedParameter
from gpu_bo.integrations.hyperopt.hp import Expr
from gpu_bo.integrations.hyperopt.space import CompiledSpace, compile_space, space_eval
from gpu_bo.integrations.hyperopt.trials import Trials, generate_trials_to_calculate, now

__all__ = ["fmin"]

logger = logging.getLogger("gpu_bo.integrations.hyperopt")


def _seed_of(rstate: Any) -> int:
    """One seed from hyperopt's ``rstate`` (a numpy Generator, a RandomState, an int or None)."""
    if rstate is None:
        env = os.environ.get("HYPEROPT_FMIN_SEED", "")
        rstate = np.random.default_rng(int(env)) if env else np.random.default_rng()
    if isinstance(rstate, numbers.Integral) and not isinstance(rstate, bool):
        rstate = np.random.default_rng(int(rstate))
    if isinstance(rstate, np.random.Generator):
        return int(rstate.integers(2**31 - 1))
    if isinstance(rstate, np.random.RandomState):
        return int(rstate.randint(2**31 - 1))
    raise TypeError(f"rstate: got {rstate!r} ({type(rstate).__name__}); expected a numpy.random.Generator "
                    "(np.random.default_rng(seed)), an int seed or None")


def _check_args(fn: Any, max_evals: Any, timeout: Any, loss_threshold: Any, max_queue_len: Any) -> int:
    if not callable(fn):
        raise TypeError(f"fn: got {fn!r} ({type(fn).__name__}); expected a callable objective")
    if max_evals is None:
        max_evals = sys.maxsize
    if isinstance(max_evals, bool) or not isinstance(max_evals, numbers.Integral) or max_evals < 0:
        raise ValueError(f"max_evals: got {max_evals!r}; expected an int >= 0 or None")
    # hyperopt's own wording (its tests compare it), which names the argument and the value
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or timeout <= 0):
        raise Exception(f"The timeout argument should be None or a positive value. Given value: {timeout}")
    if loss_threshold is not None and (isinstance(loss_threshold, bool) or not isinstance(loss_threshold, numbers.Real)):
        raise Exception(f"The loss_threshold argument should be None or a numeric value. Given value: {loss_threshold}")
    if isinstance(max_queue_len, bool) or not isinstance(max_queue_len, numbers.Integral) or max_queue_len < 1:
        raise ValueError(f"max_queue_len: got {max_queue_len!r}; expected an int >= 1")
    return int(max_evals)


def _annotated(fn: Callable) -> tuple[Callable, dict]:
    """hyperopt's ``space="annotated"``: the space from ``fn``'s annotations, ``fn`` called with keywords."""
    try:  # string annotations (from __future__ import annotations) evaluated in fn's module
        space = dict(inspect.get_annotations(fn, eval_str=True))
    except Exception:  # noqa: BLE001 - an annotation that does not evaluate: report what is there
        space = dict(inspect.getfullargspec(fn).annotations)
    space.pop("return", None)
    bad = [k for k, v in space.items() if not isinstance(v, Expr)]
    if bad or not space:
        raise InvalidAnnotatedParameter(f"space='annotated': the arguments {bad or list(space)} of {fn!r} are not "
                                        "annotated with hp expressions; expected e.g. def fn(x: hp.uniform('x', -1, 1))")
    return (lambda kwargs: fn(**kwargs)), space


@contextmanager
def _progress(show: Any, initial: int, total: int | None):
    """hyperopt's progress callback protocol: a context with ``postfix`` and ``update(n)``."""
    if callable(show):
        with show(initial=initial, total=total) as ctx:
            yield ctx
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=initial, disable=not show, dynamic_ncols=True, unit="trial")
    try:
        yield bar
    finally:
        bar.close()


class _Loop:
    """One fmin call's state (hyperopt's FMinIter, serial)."""

    def __init__(self, fn: Callable, space: CompiledSpace, trials: Trials, suggester: Suggester,
                 catch: bool) -> None:
        self.fn, self.space, self.trials, self.sugg, self.catch = fn, space, trials, suggester, catch
        self._points: dict[int, dict] = {}  # tid -> params of the NEW trials, checked by replay

    def replay(self) -> None:
        """Tell the suggester every finished trial already in ``trials`` (a resumed run)."""
        for doc in self.trials.trials:
            params = self._checked(doc)
            if doc["state"] == JOB_STATE_DONE:
                self.sugg.tell(params, _gp_loss(doc["result"]))
            elif doc["state"] == JOB_STATE_NEW:
                self._points[doc["tid"]] = params  # checked now: a bad point fails before anything runs

    def _checked(self, doc: dict) -> dict | None:
        """The point of a trial given by the user; None (with a warning) when a value lies outside
        the space: hyperopt evaluates such points, gpu_bo's GP cannot encode them."""
        where = f"trials (tid {doc['tid']})"
        params = self.space.params_of(doc["misc"]["vals"], where=where, validate=False)  # a missing label raises
        try:
            self.space.space.validate(params)
        except SpaceError as e:
            warnings.warn(f"{where}: {e}; the trial is evaluated and kept, but the GP does not see it",
                          UserWarning, stacklevel=4)
            return None
        return params

    def queue(self, n: int) -> list[dict]:
        """``n`` new trial documents from the suggester."""
        tids = self.trials.new_trial_ids(n)
        points = self.sugg.ask(n)
        miscs = []
        for tid, p in zip(tids, points):
            vals = self.space.misc_vals(p)
            miscs.append({"tid": tid, "cmd": ("domain_attachment", "FMinIter_Domain"), "workdir": None,
                          "idxs": {k: ([tid] if v else []) for k, v in vals.items()}, "vals": vals})
        docs = self.trials.new_trial_docs(tids, [None] * n, [{"status": STATUS_NEW} for _ in tids], miscs)
        self.trials.insert_trial_docs(docs)
        self.trials.refresh()
        self._points.update(zip(tids, points))
        return self.trials._dynamic_trials[-n:]

    def evaluate(self, doc: dict) -> None:
        """Run the objective on one NEW document and record its result."""
        params = self._points.pop(doc["tid"])
        doc["state"], doc["book_time"] = JOB_STATE_RUNNING, now()
        doc["refresh_time"] = doc["book_time"]
        try:
            result = as_result(self.fn(self.space.sample(doc["misc"]["vals"])))
        except Exception as e:
            logger.error("job exception: %s", e)
            doc["state"], doc["refresh_time"] = JOB_STATE_ERROR, now()
            doc["misc"]["error"] = (str(type(e)), str(e))
            self.sugg.tell(params, None)
            if not self.catch:
                self.trials.refresh()
                raise
        else:
            for key, val in result.pop("attachments", {}).items():  # hyperopt moves them to Trials
                self.trials.attachments[self.trials.aname(doc, key)] = val
            doc["state"], doc["result"], doc["refresh_time"] = JOB_STATE_DONE, result, now()
            self.sugg.tell(params, _gp_loss(result))
        self.trials.refresh()


def _gp_loss(result: Mapping) -> float | None:
    return float(result["loss"]) if result.get("status") == STATUS_OK else None


def _best_loss(trials: Trials) -> float:
    losses = [v for v in trials.losses() if v is not None and not math.isnan(v)]
    return min(losses) if losses else math.inf


def fmin(fn: Callable[[Any], Any], space: Any, algo: Any = None, max_evals: int | None = None,
         timeout: float | None = None, loss_threshold: float | None = None, trials: Trials | None = None,
         rstate: Any = None, allow_trials_fmin: bool = True, pass_expr_memo_ctrl: Any = None,
         catch_eval_exceptions: bool = False, verbose: bool = True, return_argmin: bool = True,
         points_to_evaluate: list[dict] | None = None, max_queue_len: int = 1, show_progressbar: Any = True,
         early_stop_fn: Callable | None = None, trials_save_file: str = "") -> Any:
    """Minimize ``fn`` over ``space`` (hyperopt's ``fmin``, on gpu_bo's GP).

    Args:
        fn: the objective: takes the nested sample, returns a loss or a dict with ``"status"``
            (and ``"loss"`` when ok; other keys are kept in ``Trials``).
        space: a space written with :mod:`gpu_bo.integrations.hyperopt.hp`, or ``"annotated"``
            (the space from ``fn``'s argument annotations).
        algo: ``tpe.suggest`` (the GP; also None), ``rand.suggest``, ``anneal.suggest`` (the GP),
            hyperopt's functions of those names, or a ``functools.partial`` of one.
        max_evals: the total number of trials, those already in ``trials`` included.
        timeout: stop starting trials after this many seconds.
        loss_threshold: stop once the best loss is below this.
        trials: the ``Trials`` to record in (and to resume from).
        rstate: a ``numpy.random.Generator``, an int seed or None (``$HYPEROPT_FMIN_SEED``).
        allow_trials_fmin: hyperopt's hook for SparkTrials/MongoTrials; those are not supported.
        pass_expr_memo_ctrl: not supported (must be None or False).
        catch_eval_exceptions: record an objective's exception as an error trial and go on.
        verbose: log the default-algorithm note.
        return_argmin: return ``Trials.argmin``; False: the nested sample at it.
        points_to_evaluate: ``[{label: value}]`` to evaluate first (when ``trials`` is None).
        max_queue_len: trials asked for at once (the GP picks them jointly).
        show_progressbar: a tqdm bar (True), none (False), or hyperopt's progress callback.
        early_stop_fn: ``(trials, *args) -> (stop, args)``, called after each round.
        trials_save_file: pickle ``trials`` here after each round; read it when ``trials`` is None.

    Returns:
        ``Trials.argmin`` (or the nested sample at it, or None if no trial ran).

    Raises:
        TypeError: a bad ``fn``, ``space``, ``algo``, ``rstate`` or ``trials``.
        ValueError: a bad ``max_evals`` or ``max_queue_len``.
        Exception: a bad ``timeout`` or ``loss_threshold`` (hyperopt's type and wording).
        AllTrialsFailed: ``return_argmin`` and no trial succeeded.
    """
    max_evals = _check_args(fn, max_evals, timeout, loss_threshold, max_queue_len)
    if pass_expr_memo_ctrl:
        raise ValueError(f"pass_expr_memo_ctrl: got {pass_expr_memo_ctrl!r}; gpu_bo evaluates no pyll graph, "
                         "expected None or False")
    if trials is not None and not isinstance(trials, Trials):
        raise TypeError(f"trials: got {type(trials).__name__}; expected gpu_bo.integrations.hyperopt.Trials or "
                        "None (SparkTrials and MongoTrials are not supported)")
    if isinstance(space, str) and space == "annotated":
        fn, space = _annotated(fn)
    compiled = compile_space(space)
    kind, n_startup = resolve_algo(algo)
    if algo is None and verbose:
        logger.info("gpu_bo's GP (tpe.suggest) is being used as the default algorithm.")
    if trials is None:
        if trials_save_file and os.path.exists(trials_save_file):
            with open(trials_save_file, "rb") as f:
                trials = pickle.load(f)
        elif points_to_evaluate is not None:
            trials = generate_trials_to_calculate(points_to_evaluate)
        else:
            trials = Trials()
    loop = _Loop(fn, compiled, trials, Suggester(kind, compiled.space, _seed_of(rstate), n_startup),
                 catch_eval_exceptions)
    trials.refresh()
    loop.replay()
    _run(loop, max_evals, timeout, loss_threshold, max_queue_len, show_progressbar, early_stop_fn, trials_save_file)
    if return_argmin:
        if not trials.trials:
            raise Exception("There are no evaluation tasks, cannot return argmin of task losses.")
        return trials.argmin
    return space_eval(compiled, trials.argmin) if len(trials) else None


def _run(loop: _Loop, max_evals: int, timeout: float | None, loss_threshold: float | None, max_queue_len: int,
         show: Any, early_stop_fn: Callable | None, save_file: str) -> None:
    trials, start = loop.trials, time.perf_counter()
    n_todo = max_evals - len(trials)
    n_done = trials.count_by_state_unsynced(JOB_STATE_DONE)
    early_args: Any = []
    with _progress(show, n_done, None if max_evals == sys.maxsize else max_evals) as bar:
        n_queued, best, stop = 0, _best_loss(trials), False
        while not stop and (timeout is None or time.perf_counter() - start < timeout) \
                and (loss_threshold is None or best >= loss_threshold):
            docs = [d for d in trials.trials if d["state"] == JOB_STATE_NEW]
            if not docs:
                if n_queued >= n_todo:
                    break
                n = min(max_queue_len, n_todo - n_queued)
                docs = loop.queue(n)
                n_queued += n
            for doc in docs:
                loop.evaluate(doc)
            if save_file:
                with open(save_file, "wb") as f:
                    pickle.dump(trials, f)
            if early_stop_fn is not None:
                stop, early_args = early_stop_fn(trials, *early_args)
                if stop:
                    logger.info("Early stop triggered. Stopping iterations as condition is reach.")
            best = _best_loss(trials)
            if best < math.inf:
                bar.postfix = f"best loss: {best}"
            done = trials.count_by_state_unsynced(JOB_STATE_DONE)
            if done > n_done:
                bar.update(done - n_done)
            n_done = done
