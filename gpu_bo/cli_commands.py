"""The commands of ``gpu-bo`` (run, show, plot, dashboard) and the helpers they share.

:mod:`gpu_bo.cli` builds the parser and runs them; every user-facing error is a :class:`CLIError`
(one line, an exit status).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from gpu_bo.space import Space
    from gpu_bo.storage import Storage
    from gpu_bo.study import Study

__all__ = ["CLIError", "load_objective", "load_space", "cmd_run", "cmd_show", "cmd_plot", "cmd_dashboard"]


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status ``code``."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _shown(url: str) -> str:
    """A storage URL as it may be printed (no password): :func:`gpu_bo.storage.display_url`."""
    from gpu_bo.storage import display_url

    return display_url(url)

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
        print(f"saved in {_shown(args.storage)}")
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
    from gpu_bo.plots._common import error_summary

    return error_summary(error)


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
    multi = study.is_multi_objective
    constrained = any(t.constraints is not None for t in trials)
    infeasible = sum(1 for t in study.completed_trials if not t.feasible)
    how = ", ".join(study.directions)
    print(f"\nstudy {study.name!r} ({how}): {len(trials)} trials, {len(study.completed_trials)} complete"
          + (f", {infeasible} infeasible" if constrained else ""))
    front = {t.number for t in study.best_trials} if multi else set()
    if top is not None and multi:  # the Pareto set is the best: its first N trials
        trials = [t for t in study.best_trials][:top]
    elif top is not None:
        sign = Direction.parse(study.direction).sign  # +1 maximize: the best first is the largest sign * value
        # feasible trials first, each group best first
        trials = sorted(study.completed_trials, key=lambda t: (not t.feasible, -sign * t.value))[:top]
    pnames: list[str] = []
    for t in trials:
        pnames += [k for k in t.params if k not in pnames]
    vnames = [f"value {i}" for i in range(len(study.directions))] if multi else ["value"]
    header = ["#", "state", *vnames] + (["pareto"] if multi else []) + (["feasible"] if constrained else [])
    header += ["seconds"] + pnames
    rows = [[str(t.number), t.state.value, *_value_cells(t, len(vnames))]
            + (["*" if t.number in front else ""] if multi else []) + ([_feasible_cell(t)] if constrained else [])
            + [_fmt(None if t.duration is None else round(t.duration, 3))] + [_fmt(t.params.get(k)) for k in pnames]
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
    if used := study.resource_used:  # trials that report steps (pruning); Trial.resource
        print(f"resource used: {used} (sum of the trials' last reported steps)")
    if errors:
        for t in study.trials:
            if t.error:
                print(f"trial {t.number} ({t.state.value}):")
                print("\n".join("    " + ln for ln in t.error.rstrip().splitlines()))
    if multi:
        _print_pareto(study)
        return
    best = study.best_trial
    if best is None:
        why = (f"no feasible trial: all {len(study.completed_trials)} completed trials break a constraint"
               if study.completed_trials else "no trial completed")
        print(f"best: none ({why})")
    else:
        print(f"best: trial {best.number}, value {best.value:.6g}, params {json.dumps(best.params, default=str)}")


def _value_cells(t: Any, m: int) -> list[str]:
    """The ``m`` value cells of a trial's row (``-`` while it has none)."""
    return [_fmt(None if t.values is None else t.values[i]) for i in range(m)]


def _feasible_cell(t: Any) -> str:
    """``yes``/``NO`` for a completed trial with constraints, ``-`` otherwise."""
    from gpu_bo.study import TrialState

    if t.state != TrialState.COMPLETE or t.constraints is None:
        return "-"
    return "yes" if t.feasible else "NO"


def _print_pareto(study: Study) -> None:
    """The Pareto set of a multi-objective study: each trial's values (per objective) and params."""
    front = study.best_trials
    if not front:
        why = "no feasible trial" if study.completed_trials else "no trial completed"
        print(f"pareto set: none ({why})")
        return
    names = ", ".join(f"{i}: {d}" for i, d in enumerate(study.directions))
    print(f"pareto set: {len(front)} trial{'s' if len(front) > 1 else ''} (objectives {names})")
    for t in front:
        vals = ", ".join(f"{v:.6g}" for v in t.values)
        print(f"  trial {t.number}: values [{vals}], params {json.dumps(t.params, default=str)}")


def _plot_params(params: list[str], kind: str, space: Space | None) -> list[str]:
    """``--params``, checked against the study's space (when it was stored)."""
    if kind in ("convergence", "importance", "pareto"):
        raise CLIError(f"--params: got {params}, but --kind {kind} draws every parameter; use it with "
                       "--kind objective or evaluations")
    unknown = [p for p in params if space is not None and p not in space.names]
    if unknown:
        raise CLIError(f"--params: got {unknown[0]!r}, expected parameters of the study: {space.names}")
    return params


def _plot_objective(objective: int, kind: str) -> int:
    """``--objective``, refused by the kinds that draw every objective."""
    if kind in ("convergence", "pareto"):
        raise CLIError(f"--objective: got {objective}, but --kind {kind} draws every objective; use it "
                       "with --kind objective, evaluations or importance")
    return objective


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
    which = {} if args.objective is None else {"objective": _plot_objective(args.objective, args.kind)}
    if args.kind == "convergence":
        ax = plots.plot_convergence(studies, labels=names)
        fig = ax.figure
    elif args.kind == "pareto":
        fig = plots.plot_pareto_front(studies[0]).figure
    elif args.kind == "importance":
        fig = plots.plot_importance(studies[0], space=space, **which).figure
    elif args.kind == "objective":
        fig = plots.plot_objective(studies[0], space, **chosen, **which)[0, 0].figure
    else:
        fig = plots.plot_evaluations(studies[0], space, **chosen, **which)[0, 0].figure
    try:
        fig.savefig(out)
    except ValueError as e:  # e.g. an unknown file extension
        raise CLIError(f"--out: cannot write {str(out)!r}: {e}") from None
    plt.close(fig)
    print(f"wrote {out}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the live dashboard of a storage until Ctrl-C."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise CLIError("dashboard needs starlette and uvicorn: pip install 'gpu-bo[dashboard]'", 1) from None
    from gpu_bo.dashboard import serve

    store = _open(args.storage)  # a missing or corrupt file is one StorageError line, exit 1
    try:
        names = store.list_studies()
        print(f"gpu-bo dashboard: {len(names)} stud{'y' if len(names) == 1 else 'ies'} in {_shown(args.storage)}; "
              f"open http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}/ "
              "(Ctrl-C stops it)", flush=True)
        serve(store, host=args.host, port=args.port)
    finally:
        store.close()
    return 0
