"""How a run of :func:`gpu_bo.optimize` ends: to its end, on Ctrl-C, or on an error.

On Ctrl-C the run stops starting trials, re-queues (or marks FAILED) the trials it runs,
stops the backend and returns the study with every finished trial saved; a second Ctrl-C while
it does so is ignored. Kept out of :mod:`gpu_bo.runner` so the loop stays under 500 lines; the
run object is the runner's ``_Run`` (this module never imports the runner).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from gpu_bo.exceptions import GpuBoWarning

__all__ = ["drive", "sigint_held"]


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore further Ctrl-C while a first one is being handled (the run saves its trials and
    stops its workers), so a second Ctrl-C neither prints a traceback nor loses a trial."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back for the block, delivering it right after.

    A KeyboardInterrupt between storing a new trial as RUNNING and registering it as running
    left it RUNNING on disk, unseen by ``stop_running`` (test_ctrl_c_stops_cleanly_and_saves
    failed so under load). Blocking the signal at the OS level defers Python's handler too.
    Only the main thread receives SIGINT; elsewhere, and where ``pthread_sigmask`` is missing
    (Windows), the block runs unguarded.
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def drive(run: Any) -> None:
    """Run the loop of ``run`` (the runner's ``_Run``) to its end, again while re-queued trials
    wait; on Ctrl-C save what finished, re-queue (or fail) the running trials and stop (a second
    Ctrl-C while doing so is ignored); on any other error do the same and re-raise.

    Args:
        run: the state of one ``optimize`` call.
    """
    interrupted, requeued = False, []
    try:
        run.loop()
        while run.await_others():
            run.loop()
    except KeyboardInterrupt:
        interrupted = True
    except BaseException as e:
        run.stop_running(f"the run stopped before the trial finished: {type(e).__name__}: {e}")
        raise
    finally:
        with _sigint_ignored() if interrupted else contextlib.nullcontext():
            if interrupted:
                requeued = run.stop_running("interrupted (KeyboardInterrupt) before it finished")
            run.backend.shutdown(kill=True)
            if run.bar is not None:
                run.bar.close()
            if interrupted:
                done = sum(t.state.finished for t in run.trials.values())
                again = f"; trials {requeued} are re-queued (WAITING) to be re-run" if requeued else ""
                warnings.warn(f"study {run.name!r} interrupted by Ctrl-C; {done} finished trials are saved{again}",
                              GpuBoWarning, stacklevel=3)
