"""Tests of the ``gpu-bo`` command.

The success path (run) and one case of each error class of the issue (bad module path,
bad space file, missing storage) run as real subprocesses, started together to share the import cost;
the other error variants call ``main()`` in-process (same code, no process boundary), since each
subprocess spends seconds importing torch on a small CI machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gpu_bo.cli import main
from gpu_bo.exceptions import GpuBoError, SpaceError
from gpu_bo.storage import open_storage

DATA = Path(__file__).resolve().parent / "data"

OBJECTIVE = textwrap.dedent("""
    def f(params):
        return (params["x"] - 1.0) ** 2 + (0.5 if params["k"] == "b" else 0.0)

    def always_fails(params):
        raise RuntimeError("boom")

    not_callable = 3
    space = {"x": (-3.0, 3.0), "k": ["a", "b"]}
""")


@pytest.fixture()
def work(tmp_path):
    (tmp_path / "objmod.py").write_text(OBJECTIVE)
    (tmp_path / "space.json").write_text(json.dumps({"x": {"type": "real", "low": -3.0, "high": 3.0},
                                                     "k": ["a", "b"]}))
    (tmp_path / "bad_space.json").write_text(json.dumps({"x": {"type": "real", "low": 3.0, "high": -3.0}}))
    (tmp_path / "not_json.json").write_text("{x: 1")
    return tmp_path


def _cli(*args):
    return [sys.executable, "-m", "gpu_bo.cli", *args]


def _assert_one_line_error(proc_or_err, code=None):
    rc, err = proc_or_err
    assert rc != 0 if code is None else rc == code
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gpu-bo: error:"), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.slow
def test_run_show_plot_end_to_end(work, capsys):
    db = f"sqlite:///{work / 's.db'}"
    run = subprocess.run(_cli("run", "objmod:f", "--space", "space.json", "--trials", "4", "--storage", db,
                              "--seed", "0", "--direction", "minimize"),
                         cwd=work, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "4 trials (4 complete)" in run.stdout and "best value" in run.stdout
    assert "trial/s" in run.stderr or "s/trial" in run.stderr  # the tqdm progress bar
    study = open_storage(db).load_study("default")
    assert len(study.completed_trials) == 4

    # the three error classes of the issue, as concurrent subprocesses
    procs = {
        "bad_module": _cli("run", "no_such_module:f", "--space", "space.json", "--trials", "2"),
        "bad_space": _cli("run", "objmod:f", "--space", "bad_space.json", "--trials", "2"),
        "missing_storage": _cli("show", f"sqlite:///{work / 'missing.db'}"),
    }
    running = {k: subprocess.Popen(c, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for k, c in procs.items()}
    out = {k: (p.communicate(timeout=300), p.returncode) for k, p in running.items()}

    # show and plot in-process (same entry point; each subprocess costs a torch import)
    assert main(["show", db, "--top", "3"]) == 0
    show_out = capsys.readouterr().out
    assert show_out.count("COMPLETE") == 3  # --top 3
    best = study.best_trial
    assert f"best: trial {best.number}, value {best.value:.6g}" in show_out
    assert main(["plot", db, "--out", str(work / "conv.png")]) == 0
    png = work / "conv.png"
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def err(k):
        (o, e), rc = out[k]
        return rc, e

    assert "no_such_module" in _assert_one_line_error(err("bad_module"), 2)
    assert "bad_space.json" in _assert_one_line_error(err("bad_space"), 2)
    assert "missing.db" in _assert_one_line_error(err("missing_storage"), 1)
    assert not (work / "missing.db").exists()  # show never creates a storage


def _main(capsys, *args):
    rc = main(list(args))
    cap = capsys.readouterr()
    return rc, cap.err


@pytest.mark.parametrize("args, code, needle", [
    (("run", "objmod:nope", "--space", "space.json", "--trials", "2"), 2, "no attribute 'nope'"),
    (("run", "objmod:not_callable", "--space", "space.json", "--trials", "2"), 2, "expected a callable"),
    (("run", "objmod", "--trials", "2"), 2, "MODULE:FUNCTION"),
    (("run", "missing_file.py:f", "--trials", "2"), 2, "no such file"),
    (("run", "objmod:f", "--space", "nope.json", "--trials", "2"), 2, "no such file 'nope.json'"),
    (("run", "objmod:f", "--space", "not_json.json", "--trials", "2"), 2, "not valid JSON"),
    (("run", "objmod:f", "--space", "bad_space.json", "--trials", "2"), 2, "low=3.0 must be < high=-3.0"),
    (("show", "not-a-url"), 1, "sqlite:///"),
    (("plot", "sqlite:///missing.db", "--out", "x.png"), 1, "does not exist"),
    ((), 2, "missing command"),
    (("frobnicate",), 2, "invalid choice"),
    (("run", "objmod:f", "--trials", "zero"), 2, "argument --trials: got 'zero'"),
])
def test_error_variants_print_one_line(work, monkeypatch, capsys, args, code, needle):
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    line = _assert_one_line_error(_main(capsys, *args), code)
    assert needle in line


def test_run_uses_module_space_and_reports_all_failed(work, monkeypatch, capsys):
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    rc = main(["run", "objmod:always_fails", "--trials", "2", "--no-progress"])  # space from the module
    out = capsys.readouterr().out
    assert rc == 1 and "2 failed" in out and "no trial completed" in out


def test_show_lists_every_study_and_plot_needs_one_for_objective(work, monkeypatch, capsys):
    from gpu_bo.runner import optimize

    monkeypatch.chdir(work)
    db = f"sqlite:///{work / 'two.db'}"
    space = {"x": (-3.0, 3.0)}
    for name in ("a", "b"):
        optimize(lambda p: (p["x"] - 1) ** 2, space, n_trials=3, storage=db, study_name=name, progress=False,
                 seed=1)
    rc = main(["show", db])
    out = capsys.readouterr().out
    assert rc == 0 and "study 'a'" in out and "study 'b'" in out
    line = _assert_one_line_error(_main(capsys, "plot", db, "--out", "o.png", "--kind", "objective"), 2)
    assert "--study" in line
    assert main(["plot", db, "--out", "ev.png", "--kind", "evaluations", "--study", "b"]) == 0
    assert Path("ev.png").stat().st_size > 1000
    line = _assert_one_line_error(_main(capsys, "show", db, "--study", "c"), 1)
    assert "no study named 'c'" in line


def _show_outputs(capsys, db: Path) -> str:
    out = []
    for block in (DATA / "show_v1.txt").read_text().split("$ gpu-bo ")[1:]:
        args = block.splitlines()[0].split()
        assert main([args[0], f"sqlite:///{db}", *args[1:]]) == 0
        out.append(f"$ gpu-bo {' '.join(args)}\n{capsys.readouterr().out}")
    return "".join(out)


def _without_errors(text: str) -> str:
    """``show``'s output less what it learned to print since show_v1.txt: the error column (the
    last one), the line that says why trials failed and the resource line (issue 18)."""
    out, cut = [], None
    for line in text.splitlines(keepends=True):
        if line.startswith(("failed: ", "resource used: ")):
            continue
        if line.startswith("#") or not line.strip():
            cut = line.find("  error") if line.rstrip().endswith("  error") else None
        if cut is not None and cut >= 0 and not line.startswith(("study ", "best: ")):
            line = line[:cut].rstrip() + "\n"
        out.append(line)
    return "".join(out)


def test_show_prints_what_it_printed_before_the_storage_package(tmp_path, capsys):
    # show_v1.txt was printed by the pre-refactor cli for the schema-1 fixture (tests/data/make_study_v1.py);
    # since then show has gained an error column, a line saying why trials failed and a line with
    # the resource the trials used (their last reported steps), nothing else
    db = tmp_path / "v1.sqlite"
    shutil.copyfile(DATA / "study_v1.sqlite", db)
    out = _show_outputs(capsys, db)
    assert _without_errors(out) == (DATA / "show_v1.txt").read_text()
    assert "1    FAILED       -      1.5    0.05       4   sgd  RuntimeError: boom\n" in out
    assert "2    FAILED      -      1.5  0.1  linear  objective returned nan\n" in out
    assert "failed: 1 trial: 1 RuntimeError\n" in out and "Traceback" not in out
    assert "resource used: 3 (sum of the trials' last reported steps)\n" in out


def test_show_reads_a_file_it_may_not_write(tmp_path, monkeypatch, capsys):
    db = tmp_path / "v1.sqlite"
    shutil.copyfile(DATA / "study_v1.sqlite", db)
    db.chmod(0o444)
    real_access = os.access  # tests run as root, where chmod does not stop writes
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK else real_access(p, mode, **kw))
    assert _without_errors(_show_outputs(capsys, db)) == (DATA / "show_v1.txt").read_text()
    assert sorted(os.listdir(tmp_path)) == ["v1.sqlite"]


def _deny_writes(monkeypatch, *denied: Path) -> None:
    """``os.access(p, W_OK)`` is False for ``denied`` (what a read-only mount answers, even to root)."""
    real_access = os.access
    names = {os.path.abspath(p) for p in denied}
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK and os.path.abspath(p) in names
                        else real_access(p, mode, **kw))


def test_read_only_folder_show_reads_and_run_says_read_only(work, monkeypatch, capsys):
    # a study file on a read-only mount: `show` reads it as it is, `run` (which must record) says why not
    folder = work / "ro"
    folder.mkdir()
    shutil.copyfile(DATA / "study_v1.sqlite", folder / "v1.sqlite")
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    _deny_writes(monkeypatch, folder)
    assert _without_errors(_show_outputs(capsys, folder / "v1.sqlite")) == (DATA / "show_v1.txt").read_text()
    line = _assert_one_line_error(_main(capsys, "run", "objmod:f", "--trials", "9", "--no-progress",
                                        "--storage", f"sqlite:///{folder / 'v1.sqlite'}", "--study", "min"), 1)
    assert "read-only" in line and "corrupt" not in line
    line = _assert_one_line_error(_main(capsys, "run", "objmod:f", "--trials", "2", "--no-progress",
                                        "--storage", f"sqlite:///{folder / 'new.db'}"), 1)
    assert "read-only" in line and "new.db" in line
    assert sorted(os.listdir(folder)) == ["v1.sqlite"]


def _study_with_failures(path: Path) -> str:
    """A study file whose failed trials failed in three ways (one a stored traceback)."""
    from gpu_bo.study import TrialState

    url = f"sqlite:///{path}"
    store = open_storage(url, create=True)
    store.get_or_create_study("s", "minimize", None)
    errors = [None, "the objective raised RuntimeError: RuntimeError('boom')",
              'Traceback (most recent call last):\n  File "obj.py", line 3, in f\n    check(lr)\n'
              "ValueError: lr=-1 is negative\n", "the objective raised RuntimeError: RuntimeError('bang')",
              "trial_timeout: stopped after 2.0 s"]
    for i, err in enumerate(errors):
        t = store.create_trial("s", {"x": float(i)})
        t.state, t.end_time, t.error = (TrialState.COMPLETE if err is None else TrialState.FAILED), t.start_time, err
        t.values = [float(i)] if err is None else None
        store.finish_trial("s", t)
    store.close()
    return url


def test_show_has_an_error_column_says_why_trials_failed_and_errors_prints_them(tmp_path, capsys):
    url = _study_with_failures(tmp_path / "f.db")
    assert main(["show", url]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(ln for ln in lines if ln.startswith("#"))
    assert header.split()[-1] == "error"
    row = {ln.split()[0]: ln for ln in lines if ln[:1].isdigit()}
    assert row["0"].split()[-1] == "0"  # a complete trial: nothing in the error column
    assert row["1"].endswith("the objective raised RuntimeError: RuntimeError('boom')")
    assert row["2"].endswith("ValueError: lr=-1 is negative")  # a traceback: its last line says what
    assert row["4"].endswith("trial_timeout: stopped after 2.0 s")
    assert "failed: 4 trials: 2 RuntimeError, 1 ValueError, 1 trial_timeout" in lines
    assert "Traceback" not in out and "check(lr)" not in out
    assert main(["show", url, "--errors"]) == 0
    full = capsys.readouterr().out
    assert full.startswith(out.rsplit("best: ", 1)[0])  # the same table, then every error in full
    assert '  File "obj.py", line 3, in f\n' in full and "check(lr)" in full
    assert full.count("trial 2 (FAILED):") == 1


_SLOW_OBJECTIVE = textwrap.dedent("""
    import time

    def f(params):
        time.sleep(0.3)
        return params["x"] ** 2

    space = {"x": (-3.0, 3.0)}
""")


def _completed(db: Path) -> int:
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:  # not created yet
        return 0


@pytest.mark.slow
def test_ctrl_c_exits_130_once_or_twice_without_a_traceback(tmp_path):
    (tmp_path / "slowobj.py").write_text(_SLOW_OBJECTIVE)
    cases = {"once": ("1", 1), "twice, process workers": ("2", 2)}
    procs = {}
    for k, (workers, _) in cases.items():
        db = tmp_path / f"{workers}.db"
        cmd = _cli("run", "slowobj:f", "--trials", "500", "--workers", workers, "--storage", f"sqlite:///{db}",
                   "--seed", "0", "--no-progress")
        procs[k] = (subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True), db)
    deadline = time.monotonic() + 240
    waiting = dict(procs)
    while waiting and time.monotonic() < deadline:
        for k, (p, db) in list(waiting.items()):
            assert p.poll() is None, p.communicate()
            if _completed(db) >= 1:  # a first trial is recorded: press Ctrl-C (twice: the second while stopping)
                for i in range(cases[k][1]):
                    p.send_signal(signal.SIGINT)
                    time.sleep(0.05)
                del waiting[k]
        time.sleep(0.05)
    assert not waiting, "no trial was recorded in time"
    for k, (p, db) in procs.items():
        out, err = p.communicate(timeout=120)
        assert p.returncode == 130, (k, out, err)
        assert "Traceback" not in err, (k, err)
        assert "gpu-bo: interrupted" in err, (k, err)
        assert "warnings.warn(" not in err and ".py:" not in err, (k, err)  # warnings are one line, no source
        assert [ln for ln in err.splitlines() if "warning" in ln.lower()] == \
            [ln for ln in err.splitlines() if ln.startswith("gpu-bo: warning: ")], (k, err)
        assert _completed(db) >= 1 and "trials (" in out  # the summary of what was saved


def test_warnings_print_as_one_line_without_source(work, monkeypatch, capsys):
    (work / "warnobj.py").write_text(textwrap.dedent("""
        import warnings

        def f(params):
            warnings.warn("the learning rate is high\\nconsider a smaller one")
            return params["x"] ** 2

        space = {"x": (-3.0, 3.0)}
    """))
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert main(["run", "warnobj:f", "--trials", "2", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == ["gpu-bo: warning: the learning rate is high consider a smaller one"], err


def test_space_file_missing_low_names_the_dimension(work, monkeypatch, capsys):
    (work / "no_low.json").write_text(json.dumps({"lr": {"type": "real", "high": 0.1, "log": True}}))
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    line = _assert_one_line_error(_main(capsys, "run", "objmod:f", "--space", "no_low.json", "--trials", "2"), 2)
    assert "no_low.json" in line and "'lr'" in line and "low" in line


@pytest.mark.parametrize("error", [SpaceError("parameter 'x': bad bounds\nexpected low < high"),
                                   GpuBoError("parameter 'x': cannot be used\nsee the docs")])
@pytest.mark.parametrize("source", ["file", "module"])
def test_any_error_loading_the_space_is_one_line_and_exit_2(work, monkeypatch, capsys, error, source):
    import gpu_bo.space

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(gpu_bo.space.Space, "from_dict", classmethod(refuse))
    monkeypatch.setattr(gpu_bo.space.Space, "__init__", refuse)
    args = ["--space", "space.json"] if source == "file" else []
    line = _assert_one_line_error(_main(capsys, "run", "objmod:f", *args, "--trials", "2"), 2)
    assert "parameter 'x'" in line and ("expected low < high" in line or "see the docs" in line)


def _outcome(load, *args):
    """("space", the Space) or ("error", the message) of ``load(*args)``."""
    from gpu_bo.cli import CLIError

    try:
        return "space", load(*args)
    except (CLIError, ValueError, TypeError, GpuBoError) as e:
        return "error", str(e)


@pytest.mark.parametrize("spec", [
    {"C": [0.1, 15.0]}, {"n": [1, 8]}, {"k": ["rbf", "linear"]}, {"g": [0.5, 1.0, 2.0]},
    {"C": {"type": "real", "low": 0.1, "high": 15.0, "log": True}, "k": ["rbf", "linear"]},
])
def test_space_file_and_module_space_follow_the_space_functions(work, spec):
    # one list-vs-range rule, kept by Space.from_dict (files) and as_space (Python): the CLI adds none
    from gpu_bo.cli import load_space
    from gpu_bo.space import Space, as_space

    (work / "spec.json").write_text(json.dumps(spec))
    module = type(sys)("spec_module")
    module.space = spec
    want_file, want_module = _outcome(Space.from_dict, spec), _outcome(as_space, spec)
    got_file, got_module = _outcome(load_space, str(work / "spec.json")), _outcome(load_space, None, module)
    for got, want in ((got_file, want_file), (got_module, want_module)):
        assert got[0] == want[0], (got, want)
        assert got[1] == want[1] if got[0] == "space" else " ".join(want[1].split()) in got[1]


@pytest.mark.parametrize("runner_after_ctrl_c", ["returns the study", "raises KeyboardInterrupt"])
def test_ctrl_c_in_process_either_runner_behaviour_exits_130(work, monkeypatch, capsys, runner_after_ctrl_c):
    # the runner saves what finished, then returns the study or re-raises: both exit 130, one line,
    # and a second Ctrl-C while it saves does not interrupt the saving
    import gpu_bo.runner
    from gpu_bo.study import Study

    saved = []

    def fake_optimize(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C during the run
            time.sleep(5)
            raise AssertionError("the first Ctrl-C did not stop the run")
        except KeyboardInterrupt:
            os.kill(os.getpid(), signal.SIGINT)  # a second one while saving: ignored
            time.sleep(0.05)
            saved.append(True)
            if runner_after_ctrl_c == "raises KeyboardInterrupt":
                raise
        return Study("minimize", [])

    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(gpu_bo.runner, "optimize", fake_optimize)
    before = signal.getsignal(signal.SIGINT)
    try:
        rc = main(["run", "objmod:f", "--trials", "2", "--no-progress", "--storage", "sqlite:///s.db"])
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN  # and stays ignored while the process exits
    finally:
        signal.signal(signal.SIGINT, before)
    err = capsys.readouterr().err
    assert rc == 130 and saved == [True]
    assert err.splitlines() == ["gpu-bo: interrupted (Ctrl-C); the finished trials are saved in sqlite:///s.db"]


def test_plot_params_selects_the_parameters(work, monkeypatch, capsys):
    import gpu_bo.plots
    from gpu_bo.runner import optimize

    monkeypatch.chdir(work)
    db = f"sqlite:///{work / 'three.db'}"
    optimize(lambda p: p["x"] ** 2 + p["y"] + p["z"], {"x": (-1.0, 1.0), "y": (0.0, 1.0), "z": (0.0, 1.0)},
             n_trials=4, storage=db, progress=False, seed=0)
    asked = []
    real = gpu_bo.plots.plot_evaluations

    def spy(study, space=None, **kwargs):
        asked.append(kwargs.get("params"))
        return real(study, space, **kwargs)

    monkeypatch.setattr(gpu_bo.plots, "plot_evaluations", spy)
    assert main(["plot", db, "--kind", "evaluations", "--params", "z", "x", "--out", "ev.png"]) == 0
    assert asked == [["z", "x"]] and Path("ev.png").stat().st_size > 1000
    line = _assert_one_line_error(_main(capsys, "plot", db, "--kind", "evaluations", "--params", "x", "w",
                                        "--out", "ev.png"), 2)
    assert "--params" in line and "'w'" in line and "['x', 'y', 'z']" in line
    line = _assert_one_line_error(_main(capsys, "plot", db, "--params", "x", "--out", "c.png"), 2)
    assert "--params" in line and "convergence" in line


# -- gpu-bo dashboard and plot --kind importance (issue 20) ------------------------------------
def _demo_storage(tmp_path):
    store = open_storage(f"sqlite:///{tmp_path / 'd.db'}", create=True)
    space = {"x": {"type": "real", "low": -3.0, "high": 3.0, "log": False},
             "k": {"type": "categorical", "choices": ["a", "b"]}}
    store.get_or_create_study("default", "minimize", space)
    for i in range(8):
        t = store.create_trial("default", {"x": -3.0 + 0.8 * i, "k": "ab"[i % 2]})
        t.value = (-3.0 + 0.8 * i) ** 2 + 0.5 * (i % 2)
        t.state = t.state.COMPLETE
        store.finish_trial("default", t)
    store.close()
    return f"sqlite:///{tmp_path / 'd.db'}"


def test_dashboard_missing_or_corrupt_storage_is_one_line_exit_1(tmp_path, capsys):
    (tmp_path / "corrupt.db").write_bytes(b"this is not an sqlite file" * 50)
    for url in (f"sqlite:///{tmp_path / 'missing.db'}", f"sqlite:///{tmp_path / 'corrupt.db'}"):
        code = main(["dashboard", url])
        _assert_one_line_error((code, capsys.readouterr().err), 1)


def test_dashboard_serves_loopback_by_default_and_warns_for_another_host(tmp_path, monkeypatch, capsys):
    pytest.importorskip("uvicorn", reason="the dashboard extra is not installed")
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    url = _demo_storage(tmp_path)
    assert main(["dashboard", url]) == 0
    out, err = capsys.readouterr()
    assert "http://127.0.0.1:8080/" in out and "warning" not in err
    assert main(["dashboard", url, "--host", "0.0.0.0", "--port", "9001"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("gpu-bo: warning: --host 0.0.0.0") and len(err.strip().splitlines()) == 1
    assert [(c["host"], c["port"]) for c in calls] == [("127.0.0.1", 8080), ("0.0.0.0", 9001)]


def test_dashboard_without_its_extra_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "starlette", None)  # import starlette -> ImportError
    code = main(["dashboard", _demo_storage(tmp_path)])
    err = capsys.readouterr().err
    _assert_one_line_error((code, err), 1)
    assert "pip install 'gpu-bo[dashboard]'" in err


def test_plot_kind_importance_writes_the_bar_chart(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from gpu_bo import plots

    if not hasattr(plots, "plot_importance"):
        pytest.fail("gpu_bo.plots.plot_importance is missing: plot --kind importance cannot work")
    out = tmp_path / "imp.png"
    assert main(["plot", _demo_storage(tmp_path), "--out", str(out), "--kind", "importance"]) == 0, capsys.readouterr()
    assert out.stat().st_size > 1000 and "wrote" in capsys.readouterr().out
    code = main(["plot", _demo_storage(tmp_path), "--out", str(out), "--kind", "importance", "--params", "x"])
    _assert_one_line_error((code, capsys.readouterr().err), 2)
