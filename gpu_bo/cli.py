"""The ``gpu-bo`` command: run a study, show its trials, plot it.

::

    gpu-bo run mypkg.objectives:train --space space.json --trials 50 --workers 4 \\
        --storage sqlite:///s.db --direction minimize
    gpu-bo show sqlite:///s.db [--study NAME] [--top 10] [--errors]
    gpu-bo plot sqlite:///s.db --out conv.png [--kind convergence|objective|evaluations|importance|pareto]
        [--params A B] [--objective I]
    gpu-bo dashboard sqlite:///s.db [--host 127.0.0.1] [--port 8080]

``MODULE`` is a dotted module name importable from the current directory, or a path to a
``.py`` file. ``--space`` is a JSON file read by :meth:`gpu_bo.space.Space.from_dict` (its
``Space.to_dict()`` form, ``{"lr": {"type": "real", "low": 1e-5, "high": 0.1, "log": true}}``, or
the shorthand that ``from_dict`` documents); without ``--space`` the module's ``space``
attribute is used, as :func:`gpu_bo.space.as_space` reads it. The CLI adds no rule of its own.

Every error (bad module path, bad space file, missing storage, ...) prints one line to stderr
and exits non-zero (2: bad command line or input files, 1: the run or the storage failed); no
traceback unless ``--traceback`` is given. Warnings print as one line (``gpu-bo: warning: ...``),
each distinct one once. Ctrl-C stops a run (the finished trials stay saved) and exits 130; a
further Ctrl-C while it shuts down is ignored.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from gpu_bo.cli_commands import (CLIError, _one_line, _Parser, cmd_dashboard, cmd_plot, cmd_run, cmd_show,
                                 load_objective, load_space)

__all__ = ["main", "CLIError", "load_objective", "load_space"]


# -- the parser -------------------------------------------------------------------------------
def _positive_int(s: str) -> int:
    # argparse prefixes the message with "argument --name:"
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {s!r}, expected a positive integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"got {s!r}, expected a positive integer")
    return v


def _positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {s!r}, expected a number of seconds") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"got {s!r}, expected a number of seconds > 0")
    return v


def build_parser() -> argparse.ArgumentParser:
    from gpu_bo import __version__
    from gpu_bo.study import Direction

    p = _Parser(prog="gpu-bo", description="Bayesian hyperparameter optimization on the GPU (CPU fallback).")
    p.add_argument("--version", action="version", version=f"gpu-bo {__version__}")
    p.add_argument("--traceback", action="store_true", help="show the full traceback of an error")
    sub = p.add_subparsers(dest="command", metavar="{run,show,plot,dashboard}", parser_class=_Parser)

    r = sub.add_parser("run", help="run (or resume) a study")
    r.add_argument("objective", help="MODULE:FUNCTION or path/to/file.py:FUNCTION; FUNCTION(params) -> float")
    r.add_argument("--space", help="JSON file of the search space, as Space.from_dict reads it "
                   "(default: the module's 'space')")
    r.add_argument("--trials", type=_positive_int, required=True, help="total trials of the study")
    r.add_argument("--workers", type=_positive_int, default=1, help="trials run at once")
    r.add_argument("--backend", choices=["serial", "thread", "process", "ray"],
                   help="default: serial for one worker, process for several")
    r.add_argument("--storage", help="sqlite:///study.db, or another registered storage URL "
                   "(rerunning with the same storage and study resumes)")
    r.add_argument("--study", help="study name inside the storage (default 'default')")
    r.add_argument("--direction", choices=[d.value for d in Direction],
                   help="default: the objective's 'direction' attribute, else minimize")
    r.add_argument("--acquisition", default="ei", choices=["ei", "pi", "ucb", "qei", "qpi", "qucb", "qnei"])
    r.add_argument("--seed", type=int)
    r.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    r.add_argument("--timeout", type=_positive_float, help="seconds after which no new trial starts")
    r.add_argument("--trial-timeout", type=_positive_float, help="seconds a trial may run")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("show", help="print the trials of a study and the best one")
    s.add_argument("storage", help="sqlite:///study.db")
    s.add_argument("--study", help="study name (default: every study in the storage)")
    s.add_argument("--top", type=_positive_int, help="only the N best completed trials (feasible ones first; "
                   "a multi-objective study: the first N of its Pareto set)")
    s.add_argument("--errors", action="store_true", help="also print the full error of every trial that has one")
    s.set_defaults(func=cmd_show)

    pl = sub.add_parser("plot", help="plot a study to an image file")
    pl.add_argument("storage", help="sqlite:///study.db")
    pl.add_argument("--out", required=True, help="image file (.png, .pdf, .svg)")
    pl.add_argument("--study", action="append", help="study name; repeat to overlay several convergence curves")
    pl.add_argument("--kind", default="convergence",
                    choices=["convergence", "objective", "evaluations", "importance", "pareto"],
                    help="convergence (the hypervolume for several objectives), pareto (the Pareto front of "
                    "2 or 3 objectives), objective, evaluations or importance")
    pl.add_argument("--objective", type=int, metavar="I",
                    help="the objective (0-based) of a multi-objective study that objective, evaluations "
                    "and importance draw")
    pl.add_argument("--params", nargs="+", metavar="NAME",
                    help="the parameters to draw (objective, evaluations; default: all, or the most important "
                    "ones of many)")
    pl.set_defaults(func=cmd_plot)

    d = sub.add_parser("dashboard", help="serve a live web page of the studies in a storage")
    d.add_argument("storage", help="sqlite:///study.db")
    d.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only; "
                   "another one warns, the page has no login)")
    d.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    d.set_defaults(func=cmd_dashboard)
    return p


class _CtrlC:
    """SIGINT while a command runs: the first raises KeyboardInterrupt (the run stops and saves what
    it finished); later ones are ignored, also after the command, so that saving and shutting down
    (worker pools, exit handlers) are never cut into a traceback."""

    def __init__(self) -> None:
        self.pressed = False
        self._old: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if not self.pressed:
            self.pressed = True
            raise KeyboardInterrupt

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():  # only it may set signal handlers
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN if self.pressed else self._old)


def _warning_printer() -> Callable[..., None]:
    """A ``warnings.showwarning``: ``gpu-bo: warning: ...`` in one line, no source line, each once."""
    seen: set[tuple[type, str]] = set()

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        text = _one_line(message)
        if (category, text) in seen:
            return
        seen.add((category, text))
        kind = "" if issubclass(category, UserWarning) else f"{category.__name__}: "
        try:
            print(f"gpu-bo: warning: {kind}{text}", file=file or sys.stderr)
        except (OSError, ValueError):  # stderr closed: as the default showwarning, say nothing
            pass

    return show


def _interrupted(args: argparse.Namespace | None) -> str:
    where = getattr(args, "storage", None)
    saved = f"; the finished trials are saved in {where}" if where else ""
    return f"gpu-bo: interrupted (Ctrl-C){saved}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``gpu-bo``; returns the exit status (130 after Ctrl-C)."""
    from gpu_bo.exceptions import GpuBoError

    argv = list(sys.argv[1:] if argv is None else argv)
    show_tb = "--traceback" in argv
    ctrl_c, args = _CtrlC(), None
    try:
        with warnings.catch_warnings(), ctrl_c:
            warnings.showwarning = _warning_printer()
            args = build_parser().parse_args(argv)
            if getattr(args, "func", None) is None:
                raise CLIError("missing command: expected one of run, show, plot, dashboard (see 'gpu-bo --help')")
            code = int(args.func(args) or 0)
        if ctrl_c.pressed:  # the runner saved what finished and returned
            print(_interrupted(args), file=sys.stderr)
            return 130
        return code
    except CLIError as e:
        if show_tb:
            raise
        print(f"gpu-bo: error: {_one_line(e)}", file=sys.stderr)
        return 130 if ctrl_c.pressed else e.code
    except (GpuBoError, ValueError, TypeError, OSError) as e:
        if show_tb:
            raise
        print(f"gpu-bo: error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", file=sys.stderr)
        return 130 if ctrl_c.pressed else 1
    except KeyboardInterrupt:
        print(_interrupted(args), file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
