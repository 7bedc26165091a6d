"""The ``gpu-bo`` command: run a study, show its trials, plot it.

::

    gpu-bo run mypkg.objectives:train --space space.json --trials 50 --workers 4 \\
        --storage sqlite:///s.db --direction minimize
    gpu-bo show sqlite:///s.db [--study NAME] [--top 10] [--errors]
    gpu-bo plot sqlite:///s.db --out conv.png [--kind convergence|objective|evaluations] [--params A B]

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
import importlib
import json
import math
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from gpu_bo.space import Space
    from gpu_bo.storage import Storage
    from gpu_bo.study import Study

__all__ = ["main"]


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status ``code``."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _one_line(text: object) -> str:
    """``text`` with its lines joined by spaces: an error or a warning printed as one line."""
    return " ".join(ln.strip() for ln in str(text).splitlines() if ln.strip())


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        raise CLIError(f"{message} (see '{self.prog} --help')", 2)


# -- loading the objective and the space -------------------------------------------------------
def load_objective(spec: str) -> tuple[Callable, Any]:
    """``"module:function"`` or ``"path/file.py:function"`` -> (the callable, its module)."""
    if ":" not in spec:
        raise CLIError(f"objective: got {spec!r}, expected MODULE:FUNCTION (e.g. mypkg.train:objective)")
    mod_name, _, attr = spec.rpartition(":")
    if not mod_name or not attr:
        raise CLIError(f"objective: got {spec!r}, expected MODULE:FUNCTION (e.g. mypkg.train:objective)")
    if mod_name.endswith(".py") or os.sep in mod_name or "/" in mod_name:
        path = Path(mod_name)
        if not path.is_file():
            raise CLIError(f"objective: no such file {mod_name!r}")
        # imported by name from its folder, so that spawned worker processes can import it too
        sys.path.insert(0, str(path.resolve().parent))
        mod_name = path.stem
    elif "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: modules of the current directory
    try:
        module = importlib.import_module(mod_name)
    except ImportError as e:
        raise CLIError(f"objective: cannot import module {mod_name!r} ({e})") from None
    except Exception as e:  # noqa: BLE001 - the user's module failed while importing
        raise CLIError(f"objective: importing {mod_name!r} raised {type(e).__name__}: {e}") from None
    try:
        fn = getattr(module, attr)
    except AttributeError:
        raise CLIError(f"objective: module {mod_name!r} has no attribute {attr!r}") from None
    if not callable(fn):
        raise CLIError(f"objective: {spec!r} is a {type(fn).__name__}, expected a callable")
    return fn, module


def load_space(path: str | None, module: Any = None) -> Space:
    """The search space from a JSON file (:meth:`Space.from_dict`), or the module's ``space``
    attribute (:func:`as_space`): any error of theirs is a :class:`CLIError` (exit status 2)."""
    from gpu_bo.exceptions import GpuBoError
    from gpu_bo.space import Space, as_space

    if path is None:
        sp = getattr(module, "space", None)
        if sp is None:
            raise CLIError("--space: not given and the objective's module defines no 'space'; "
                           "pass --space space.json")
        try:
            return as_space(sp)
        except (GpuBoError, ValueError, TypeError, KeyError) as e:
            raise CLIError(f"space: the module's 'space' is invalid: {_one_line(e)}") from None
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"--space: no such file {path!r}")
    try:
        spec = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CLIError(f"--space: {path!r} is not valid JSON ({e})") from None
    if not isinstance(spec, dict) or not spec:
        raise CLIError(f"--space: {path!r} holds {type(spec).__name__}; expected a JSON object of "
                       "parameter name -> dimension")
    try:
        return Space.from_dict(spec)
    except (GpuBoError, ValueError, TypeError, KeyError) as e:
        raise CLIError(f"--space: {path!r} is not a valid search space: {_one_line(e)}") from None


def _open(url: str) -> Storage:
    from gpu_bo.storage import open_storage

    return open_storage(url, create=False)


def _study_names(store: Storage, wanted: Sequence[str] | None) -> list[str]:
    names = store.list_studies()
    if not names:
        raise CLIError(f"storage {store!r} holds no study", 1)
    if wanted:
        missing = [w for w in wanted if w not in names]
        if missing:
            raise CLIError(f"--study: no study named {missing[0]!r}; the storage holds {names}", 1)
        return list(wanted)
    return names


def _space_of(store: Storage, name: str) -> Space | None:
    from gpu_bo.space import Space

    spec = store.study_info(name).space
    return None if spec is None else Space.from_dict(spec)


# -- commands ---------------------------------------------------------------------------------
def _fmt(v: Any, width: int = 12) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    s = str(v)
    return s if len(s) <= width else s[: width - 1] + "~"


def cmd_run(args: argparse.Namespace) -> int:
    from gpu_bo.runner import optimize

    fn, module = load_objective(args.objective)
    space = load_space(args.space, module)
    backend = args.backend or ("process" if args.workers > 1 else "serial")
    study = optimize(fn, space, n_trials=args.trials, direction=args.direction, n_workers=args.workers,
                     backend=backend, storage=args.storage, study_name=args.study, timeout=args.timeout,
                     trial_timeout=args.trial_timeout, progress=not args.no_progress, seed=args.seed,
                     acquisition=args.acquisition, device=args.device)
    states: dict[str, int] = {}
    for t in study.trials:
        states[t.state.value] = states.get(t.state.value, 0) + 1
    counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(states.items()))
    print(f"study {study.name or args.study or 'default'!r}: {len(study.trials)} trials ({counts})")
    if study.best_trial is None:
        print("no trial completed")
        return 1
    print(f"best value: {study.best_value:.6g} (trial {study.best_trial.number})")
    print(f"best params: {json.dumps(study.best_params, default=str)}")
    if args.storage:
        print(f"saved in {args.storage}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    store = _open(args.storage)
    try:
        names = _study_names(store, [args.study] if args.study else None)
        if len(names) > 1:
            print(f"{len(names)} studies: {', '.join(names)} (showing each; pick one with --study)")
        for name in names:
            study = store.load_study(name)
            _print_study(study, args.top, args.errors)
    finally:
        store.close()
    return 0


_ERROR_WIDTH = 60
# the exception class an error text names (``the objective raised ValueError: ...``)
_EXCEPTION_NAME = re.compile(r"\b([A-Z][A-Za-z0-9_]*(?:Error|Exception|Exit|Interrupt))\b")


def _headline(error: str) -> str:
    """An error in one line: its first line, or for a Python traceback its last (the exception)."""
    lines = [ln.strip() for ln in error.splitlines() if ln.strip()]
    if not lines:
        return ""
    return lines[-1] if lines[0].startswith("Traceback (most recent call last)") else lines[0]


def _error_kind(error: str | None) -> str:
    """What kind of failure an error is: the exception class it names, else its words before a colon."""
    head = _headline(error or "")
    if not head:
        return "no error recorded"
    m = _EXCEPTION_NAME.search(head)
    kind = m.group(1) if m else head.split(":", 1)[0]
    return _fmt(kind, 30)


def _failure_line(study: Study) -> str | None:
    """``failed: 3 trials: 2 RuntimeError, 1 trial_timeout`` (the most frequent kind first), or None."""
    from gpu_bo.study import TrialState

    kinds: dict[str, int] = {}
    for t in study.trials:
        if t.state == TrialState.FAILED:
            kind = _error_kind(t.error)
            kinds[kind] = kinds.get(kind, 0) + 1
    n = sum(kinds.values())
    if not n:
        return None
    counts = ", ".join(f"{c} {k}" for k, c in sorted(kinds.items(), key=lambda kc: -kc[1]))
    return f"failed: {n} trial{'s' if n > 1 else ''}: {counts}"


def _print_study(study: Study, top: int | None, errors: bool = False) -> None:
    from gpu_bo.study import Direction

    trials = list(study.trials)
    print(f"\nstudy {study.name!r} ({study.direction}): {len(trials)} trials, "
          f"{len(study.completed_trials)} complete")
    if top is not None:
        sign = Direction.parse(study.direction).sign  # +1 maximize: the best first is the largest sign * value
        trials = sorted(study.completed_trials, key=lambda t: -sign * t.value)[:top]
    pnames: list[str] = []
    for t in trials:
        pnames += [k for k in t.params if k not in pnames]
    header = ["#", "state", "value", "seconds"] + pnames
    rows = [[str(t.number), t.state.value, _fmt(t.value),
             _fmt(None if t.duration is None else round(t.duration, 3))] + [_fmt(t.params.get(k)) for k in pnames]
            for t in trials]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    # the error column comes last, left-aligned, only when a row has an error: the rest is unchanged
    error_col = [_fmt(_headline(t.error), _ERROR_WIDTH) if t.error else "" for t in trials]
    tail = ["error"] if any(error_col) else []
    print("  ".join([h.rjust(w) for h, w in zip(header, widths)] + tail))
    for r, e in zip(rows, error_col):
        print("  ".join([c.rjust(w) for c, w in zip(r, widths)] + ([e] if tail else [])).rstrip())
    failures = _failure_line(study)
    if failures:
        print(failures)
    if errors:
        for t in study.trials:
            if t.error:
                print(f"trial {t.number} ({t.state.value}):")
                print("\n".join("    " + ln for ln in t.error.rstrip().splitlines()))
    best = study.best_trial
    if best is None:
        print("best: none (no trial completed)")
    else:
        print(f"best: trial {best.number}, value {best.value:.6g}, params {json.dumps(best.params, default=str)}")


def _plot_params(params: list[str], kind: str, space: Space | None) -> list[str]:
    """``--params``, checked against the study's space (when it was stored)."""
    if kind == "convergence":
        raise CLIError(f"--params: got {params}, but --kind convergence draws no parameter; use it with "
                       "--kind objective or evaluations")
    unknown = [p for p in params if space is not None and p not in space.names]
    if unknown:
        raise CLIError(f"--params: got {unknown[0]!r}, expected parameters of the study: {space.names}")
    return params


def cmd_plot(args: argparse.Namespace) -> int:
    try:
        import matplotlib
    except ImportError:
        raise CLIError("plot needs matplotlib: pip install 'gpu-bo[plot]'", 1) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gpu_bo import plots

    out = Path(args.out)
    if not out.parent.exists():
        raise CLIError(f"--out: folder {str(out.parent)!r} does not exist")
    store = _open(args.storage)
    try:
        names = _study_names(store, args.study)
        if args.kind != "convergence" and len(names) > 1:
            raise CLIError(f"--kind {args.kind} plots one study; the storage holds {names}: pick one with --study")
        studies = [store.load_study(n) for n in names]
        space = _space_of(store, names[0]) if args.kind != "convergence" else None
    finally:
        store.close()
    chosen = {} if args.params is None else {"params": _plot_params(args.params, args.kind, space)}
    if args.kind == "convergence":
        ax = plots.plot_convergence(studies, labels=names)
        fig = ax.figure
    elif args.kind == "objective":
        fig = plots.plot_objective(studies[0], space, **chosen)[0, 0].figure
    else:
        fig = plots.plot_evaluations(studies[0], space, **chosen)[0, 0].figure
    try:
        fig.savefig(out)
    except ValueError as e:  # e.g. an unknown file extension
        raise CLIError(f"--out: cannot write {str(out)!r}: {e}") from None
    plt.close(fig)
    print(f"wrote {out}")
    return 0


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
    sub = p.add_subparsers(dest="command", metavar="{run,show,plot}", parser_class=_Parser)

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
    s.add_argument("--top", type=_positive_int, help="only the N best completed trials")
    s.add_argument("--errors", action="store_true", help="also print the full error of every trial that has one")
    s.set_defaults(func=cmd_show)

    pl = sub.add_parser("plot", help="plot a study to an image file")
    pl.add_argument("storage", help="sqlite:///study.db")
    pl.add_argument("--out", required=True, help="image file (.png, .pdf, .svg)")
    pl.add_argument("--study", action="append", help="study name; repeat to overlay several convergence curves")
    pl.add_argument("--kind", default="convergence", choices=["convergence", "objective", "evaluations"])
    pl.add_argument("--params", nargs="+", metavar="NAME",
                    help="the parameters to draw (objective, evaluations; default: all, or the most important "
                    "ones of many)")
    pl.set_defaults(func=cmd_plot)
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
                raise CLIError("missing command: expected one of run, show, plot (see 'gpu-bo --help')")
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
