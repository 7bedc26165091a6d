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
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gpu_bo.cli import main
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
    (tmp_path / "space.json").write_text(json.dumps({"x": [-3.0, 3.0], "k": ["a", "b"]}))
    (tmp_path / "bad_space.json").write_text(json.dumps({"x": [3.0, -3.0]}))
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


def test_show_prints_what_it_printed_before_the_storage_package(tmp_path, capsys):
    # show_v1.txt was printed by the pre-refactor cli for the schema-1 fixture (tests/data/make_study_v1.py)
    db = tmp_path / "v1.sqlite"
    shutil.copyfile(DATA / "study_v1.sqlite", db)
    assert _show_outputs(capsys, db) == (DATA / "show_v1.txt").read_text()


def test_show_reads_a_file_it_may_not_write(tmp_path, monkeypatch, capsys):
    db = tmp_path / "v1.sqlite"
    shutil.copyfile(DATA / "study_v1.sqlite", db)
    db.chmod(0o444)
    real_access = os.access  # tests run as root, where chmod does not stop writes
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK else real_access(p, mode, **kw))
    assert _show_outputs(capsys, db) == (DATA / "show_v1.txt").read_text()
    assert sorted(os.listdir(tmp_path)) == ["v1.sqlite"]
