"""gpu_bo.integrations.hyperopt: hyperopt scripts run with the import line changed.

Where hyperopt is installed (not in the project's extras), the nested samples, the stored
values and the trial counts are compared with hyperopt's own; those tests skip otherwise.
"""

from __future__ import annotations

import functools
import math
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gpu_bo as gb
from gpu_bo.integrations import hyperopt as gh
from gpu_bo.integrations.hyperopt import STATUS_FAIL, STATUS_OK, Trials, fmin, hp, rand, space_eval, tpe
from gpu_bo.integrations.hyperopt.space import compile_space

ROOT = Path(__file__).resolve().parents[1]


def make_space(h):
    """One nested space, written with either library's ``hp`` (dicts, lists, tuples, constants)."""
    return {
        "model": h.choice("model", [
            {"type": "svc", "C": h.loguniform("svc_C", -3, 3),
             "kernel": h.choice("kernel", ["rbf", ("poly", h.quniform("degree", 2, 5, 1))])},
            {"type": "rf", "n": h.quniform("n_est", 10, 100, 10), "depth": h.randint("depth", 2, 9),
             "feat": [h.uniform("feat", 0.1, 1.0), "sqrt"]},
            "dummy",
        ]),
        "lr": h.qloguniform("lr", -5, 0, 0.01),
        "seed": 7,
        "tags": ["a", ("b", None)],
        "k": h.randint("k", 4),
    }


def objective(s):
    m = s["model"]
    if m == "dummy":
        return 5.0
    if m["type"] == "svc":
        deg = 0.0 if m["kernel"] == "rbf" else m["kernel"][1]
        return (math.log(m["C"]) - 1.0) ** 2 + 0.1 * deg + s["k"] * 0.01
    return (m["feat"][0] - 0.3) ** 2 + m["depth"] / 10 + m["n"] / 1000


def check_sample(s):
    """``s`` has exactly the nested structure of make_space's chosen branch."""
    assert set(s) == {"model", "lr", "seed", "tags", "k"} and s["seed"] == 7 and s["tags"] == ("a", ("b", None))
    assert isinstance(s["lr"], float) and isinstance(s["k"], int) and 0 <= s["k"] < 4
    m = s["model"]
    if m == "dummy":
        return "dummy"
    if m["type"] == "svc":
        assert set(m) == {"type", "C", "kernel"} and math.exp(-3) <= m["C"] <= math.exp(3)
        assert m["kernel"] == "rbf" or (m["kernel"][0] == "poly" and m["kernel"][1] in (2.0, 3.0, 4.0, 5.0))
    else:
        assert set(m) == {"type", "n", "depth", "feat"} and isinstance(m["feat"], tuple)
        assert m["feat"][1] == "sqrt" and 0.1 <= m["feat"][0] <= 1.0 and 2 <= m["depth"] <= 8
        assert isinstance(m["n"], float) and m["n"] % 10 == 0
    return m["type"]


def test_nested_choice_becomes_a_conditional_space():
    c = compile_space(make_space(hp))
    dims = c.space.dims
    assert dims["model"].choices == (0, 1, 2) and dims["model"].when is None
    assert dims["svc_C"].when.to_dict() == {"model": [0]} and dims["feat"].when.to_dict() == {"model": [1]}
    assert dims["degree"].when.to_dict() == {"kernel": [1]} and dims["kernel"].when.to_dict() == {"model": [0]}
    assert dims["n_est"].step == 10.0 and dims["lr"].log and dims["lr"].step == 0.01
    assert c.space.order.index("kernel") < c.space.order.index("degree")
    assert gb.Space.from_dict(c.space.to_dict()).to_dict() == c.space.to_dict()


def test_samples_are_built_as_hyperopt_builds_them():
    c = compile_space(make_space(hp))
    kinds = set()
    for p in c.space.sample_params(64, seed=0):
        vals = c.misc_vals(p)
        assert sorted(vals) == c.labels and {k for k, v in vals.items() if v} == set(p)
        s = c.sample(vals)
        kinds.add(check_sample(s))
        assert list(s) == sorted(s)  # pyll sorts a dict's keys
        assert c.params_of(vals) == p
    assert kinds == {"svc", "rf", "dummy"}
    assert space_eval(hp.uniform("x", 0, 1), {"x": 0.25}) == 0.25  # a bare expression as the space


def test_fmin_end_to_end_on_nested_choice():
    seen = []
    trials = Trials()

    def fn(s):
        seen.append(check_sample(s))
        return objective(s)

    best = fmin(fn, make_space(hp), algo=tpe.suggest, max_evals=16, trials=trials,
                rstate=np.random.default_rng(0), show_progressbar=False)
    assert len(trials) == 16 and len(seen) == 16 and trials.tids == list(range(16))
    bt = trials.best_trial
    assert best == trials.argmin == {k: v[0] for k, v in bt["misc"]["vals"].items() if v}
    assert isinstance(best["model"], int) and best["model"] in (0, 1, 2)  # a choice: its index
    assert isinstance(best["lr"], float) and isinstance(best["k"], int)
    assert bt["result"]["loss"] == min(trials.losses()) and set(trials.statuses()) == {STATUS_OK}
    assert objective(space_eval(make_space(hp), best)) == pytest.approx(bt["result"]["loss"])
    # only the active labels of the best trial, and the space's point is valid
    c = compile_space(make_space(hp))
    assert set(best) == set(c.space.active_names(c.params_of(best)))
    doc = trials.trials[0]
    assert set(doc) >= {"state", "tid", "spec", "result", "misc", "exp_key", "owner", "version", "book_time",
                        "refresh_time"} and doc["state"] == gh.JOB_STATE_DONE
    assert set(doc["misc"]) == {"tid", "cmd", "workdir", "idxs", "vals"} and sorted(doc["misc"]["vals"]) == c.labels
    assert set(trials.vals) == set(c.labels) and sum(map(len, trials.idxs.values())) == sum(
        len([v for v in d["misc"]["vals"].values() if v]) for d in trials.trials)
    sample = fmin(fn, make_space(hp), max_evals=18, trials=trials, return_argmin=False, show_progressbar=False)
    check_sample(sample)


def test_trials_resume_counts_the_total_and_survives_pickle():
    trials = Trials()
    fmin(objective, make_space(hp), max_evals=6, trials=trials, rstate=1, show_progressbar=False)
    first = [t["misc"]["vals"] for t in trials.trials]
    fmin(objective, make_space(hp), max_evals=10, trials=trials, rstate=2, show_progressbar=False)
    assert len(trials) == 10 and [t["misc"]["vals"] for t in trials.trials[:6]] == first
    again = pickle.loads(pickle.dumps(trials))
    fmin(objective, make_space(hp), max_evals=12, trials=again, rstate=3, show_progressbar=False)
    assert len(again) == 12 and again.tids == list(range(12)) and len(trials) == 10
    fmin(objective, make_space(hp), max_evals=5, trials=again, show_progressbar=False)  # already past it
    assert len(again) == 12


def test_trials_save_file_resumes(tmp_path):
    f = str(tmp_path / "trials.pkl")
    fmin(objective, make_space(hp), max_evals=4, rstate=0, trials_save_file=f, show_progressbar=False)
    fmin(objective, make_space(hp), max_evals=7, rstate=1, trials_save_file=f, show_progressbar=False)
    with open(f, "rb") as fh:
        t = pickle.load(fh)
    assert isinstance(t, Trials) and len(t) == 7 and t.tids == list(range(7))


def test_same_rstate_same_random_search():
    runs = []
    for _ in range(2):
        t = Trials()
        fmin(objective, make_space(hp), algo=rand.suggest, max_evals=8, trials=t,
             rstate=np.random.default_rng(5), show_progressbar=False)
        runs.append([d["misc"]["vals"] for d in t.trials])
    assert runs[0] == runs[1]


def test_status_fail_and_extra_keys_are_kept():
    def fn(s):
        if s["model"] == "dummy" or s["k"] == 0:
            return {"status": STATUS_FAIL, "why": "skipped"}
        return {"loss": objective(s), "status": STATUS_OK, "extra": [1, 2], "attachments": {"log": "text"}}

    trials = Trials()
    fmin(fn, make_space(hp), algo=rand.suggest, max_evals=20, trials=trials, rstate=0, show_progressbar=False)
    st = trials.statuses()
    assert len(trials) == 20 and STATUS_FAIL in st and STATUS_OK in st
    for r, loss in zip(trials.results, trials.losses()):
        assert (r["why"] == "skipped" and loss is None) if r["status"] == STATUS_FAIL else r["extra"] == [1, 2]
    assert trials.best_trial["result"]["status"] == STATUS_OK
    assert "attachments" not in trials.best_trial["result"]  # moved to Trials, as hyperopt does
    assert trials.trial_attachments(trials.best_trial) == {"log": "text"}
    with pytest.raises(gh.AllTrialsFailed):
        fmin(lambda s: {"status": STATUS_FAIL}, make_space(hp), max_evals=3, show_progressbar=False)
    with pytest.raises(gh.InvalidLoss):
        fmin(lambda s: {"status": STATUS_OK}, make_space(hp), max_evals=3, show_progressbar=False)
    with pytest.raises(gh.InvalidResultStatus):
        fmin(lambda s: {"loss": 1.0}, make_space(hp), max_evals=3, show_progressbar=False)


def _raises_on_rf(s):
    if s["model"] != "dummy" and s["model"]["type"] == "rf":
        raise RuntimeError("rf broke")
    return objective(s)


def test_exceptions_reraise_by_default_and_are_caught_on_request():
    trials = Trials()
    with pytest.raises(RuntimeError, match="rf broke"):
        fmin(_raises_on_rf, make_space(hp), algo=rand.suggest, max_evals=40, trials=trials, rstate=0,
             show_progressbar=False)
    n_before = len(trials)
    assert n_before < 40 and all(d["state"] == gh.JOB_STATE_DONE for d in trials.trials)  # the raising one left
    trials = Trials()
    fmin(_raises_on_rf, make_space(hp), algo=rand.suggest, max_evals=30, trials=trials, rstate=0,
         catch_eval_exceptions=True, show_progressbar=False)
    errors = [d for d in trials._dynamic_trials if d["state"] == gh.JOB_STATE_ERROR]
    assert errors and len(trials) + len(errors) == 30  # as hyperopt: error trials count, but leave .trials
    assert errors[0]["misc"]["error"][1] == "rf broke"


def test_points_to_evaluate_thresholds_and_early_stop():
    pts = [{"model": 2, "lr": 0.05, "k": 1}, {"model": 0, "svc_C": 2.0, "kernel": 0, "lr": 0.1, "k": 0}]
    trials_seen = []
    best = fmin(lambda s: trials_seen.append(s) or objective(s), make_space(hp), points_to_evaluate=pts,
                max_evals=4, show_progressbar=False)
    assert trials_seen[0]["model"] == "dummy" and trials_seen[1]["model"]["C"] == 2.0 and len(trials_seen) == 4
    assert isinstance(best, dict)
    with pytest.raises(gb.SpaceError, match="svc_C"):
        fmin(objective, make_space(hp), points_to_evaluate=[{"model": 0, "lr": 0.1, "k": 0}], max_evals=2,
             show_progressbar=False)
    t = Trials()
    fmin(lambda s: -1.0, make_space(hp), max_evals=50, trials=t, loss_threshold=0.0, show_progressbar=False)
    assert len(t) == 1
    t = Trials()
    fmin(lambda s: 1.0, make_space(hp), algo=rand.suggest, max_evals=50, trials=t,
         early_stop_fn=gh.early_stop.no_progress_loss(3), show_progressbar=False)
    assert len(t) == 3  # hyperopt's count: the first trial is one without progress
    t = Trials()
    fmin(lambda s: 1.0, make_space(hp), algo=rand.suggest, max_evals=10_000, trials=t, timeout=1,
         show_progressbar=False)
    assert 1 <= len(t) < 10_000


def test_finite_space_repeats_points_and_outside_points_are_evaluated():
    t = Trials()  # 3 x 2 points, 10 trials: hyperopt repeats points where gb.Optimizer would run out
    fmin(lambda s: s["a"] + s["b"], {"a": hp.randint("a", 3), "b": hp.choice("b", [0, 1])}, max_evals=10,
         trials=t, rstate=0, show_progressbar=False)
    assert len(t) == 10 and len({(d["misc"]["vals"]["a"][0], d["misc"]["vals"]["b"][0]) for d in t.trials}) == 6
    t = Trials()  # a batch larger than what is left of the space
    fmin(lambda s: s["a"], {"a": hp.randint("a", 3)}, max_evals=7, max_queue_len=2, trials=t, rstate=0,
         show_progressbar=False)
    assert len(t) == 7 and t.tids == list(range(7)) and {d["misc"]["vals"]["a"][0] for d in t.trials} == {0, 1, 2}
    t = gh.generate_trials_to_calculate([{"x": -100.0}])  # outside the space, as hyperopt's own tests do
    with pytest.warns(UserWarning, match="GP does not see it"):
        fmin(lambda x: x, hp.uniform("x", -5, 5), max_evals=4, trials=t, rstate=0, show_progressbar=False)
    assert len(t) == 4 and t.argmin == {"x": -100.0}


def test_max_queue_len_and_annotated_space():
    t = Trials()
    fmin(objective, make_space(hp), max_evals=12, trials=t, max_queue_len=3, rstate=0, show_progressbar=False)
    assert len(t) == 12

    def fn(x: hp.uniform("x", -2, 2), n: hp.randint("n", 3)):  # noqa: F821 - hyperopt's annotated form
        return (x - 1) ** 2 + n

    best = fmin(fn, "annotated", algo=rand.suggest, max_evals=10, rstate=0, show_progressbar=False)
    assert set(best) == {"x", "n"}


def test_algo_and_keyword_errors():
    with pytest.raises(TypeError, match="unexpected keyword"):
        fmin(objective, make_space(hp), max_evals=2, n_jobs=2)
    with pytest.raises(TypeError, match="algo"):
        fmin(objective, make_space(hp), algo=lambda *a: [], max_evals=2)
    with pytest.raises(TypeError, match="rstate"):
        fmin(objective, make_space(hp), max_evals=2, rstate="seed")
    with pytest.raises(ValueError, match="max_evals"):
        fmin(objective, make_space(hp), max_evals=-1)
    with pytest.raises(RuntimeError, match="algo=tpe.suggest"):
        tpe.suggest([0], None, None, 0)
    with pytest.warns(UserWarning, match="gamma"):
        t = Trials()
        fmin(objective, make_space(hp), algo=functools.partial(tpe.suggest, n_startup_jobs=3, gamma=0.2),
             max_evals=4, trials=t, show_progressbar=False)
    assert len(t) == 4


@pytest.mark.parametrize("call, match", [
    (lambda: hp.normal("x", 0, 1), "unbounded"),
    (lambda: hp.lognormal("x", 0, 1), "unbounded"),
    (lambda: hp.qnormal("x", 0, 1, 1), "unbounded"),
    (lambda: hp.qlognormal("x", 0, 1, 1), "unbounded"),
    (lambda: hp.pchoice("x", [(0.5, "a"), (0.5, "b")]), "prior"),
])
def test_unsupported_expressions_say_why(call, match):
    with pytest.raises(NotImplementedError, match=match):
        call()


def test_bad_spaces_are_refused_clearly():
    with pytest.raises(gh.DuplicateLabel, match="'x'"):
        compile_space({"a": hp.uniform("x", 0, 1), "b": hp.uniform("x", 0, 2)})
    shared = hp.uniform("s", 0, 1)
    c = compile_space(hp.choice("c", [{"s": shared}, {"s": shared, "t": 1}, "none"]))
    assert c.space.dims["s"].when.to_dict() == {"c": [0, 1]}  # one node in two options: either
    with pytest.raises(gb.SpaceError, match="under hp.choice"):
        compile_space({"a": hp.choice("a", [shared, 1]), "b": hp.choice("b", [shared, 2])})
    with pytest.raises(gb.SpaceError, match="no hp expression"):
        compile_space({"a": 1})
    with pytest.raises(gb.SpaceError, match="fewer than two"):
        hp.quniform("q", 0.1, 0.7, 0.5)


def test_hyperopt_expressions_are_refused_with_a_pointer():
    hopt = pytest.importorskip("hyperopt")
    from hyperopt.pyll import scope

    for bad in ({"x": hopt.hp.uniform("x", 0, 1)}, {"n": scope.int(hopt.hp.quniform("n", 1, 9, 1))}):
        with pytest.raises(TypeError, match="gpu_bo.integrations.hyperopt.hp"):
            compile_space(bad)


def _scope_space(scope):
    return {"n": scope.int(hp.quniform("n", 10, 50, 10)), "c": hp.choice("c", [scope.float(hp.randint("r", 5)), "x"])}


def _check_scope_space(scope):
    seen = []
    best = fmin(lambda s: seen.append(s) or s["n"], _scope_space(scope), max_evals=6, rstate=0, show_progressbar=False)
    assert all(type(s["n"]) is int and (s["c"] == "x" or type(s["c"]) is float) for s in seen)
    assert isinstance(best["n"], float)  # stored as quniform's float, as hyperopt stores it
    assert type(space_eval(_scope_space(scope), best)["n"]) is int


def test_scope_int_and_float_convert_the_sample():
    from gpu_bo.integrations.hyperopt.pyll import scope

    _check_scope_space(scope)
    with pytest.raises(TypeError, match="scope.exp"):
        scope.exp(hp.uniform("x", 0, 1))


def test_hyperopts_own_scope_int_of_our_expressions_works():
    pytest.importorskip("hyperopt")
    from hyperopt.pyll import scope

    _check_scope_space(scope)


def test_samples_and_stored_values_agree_with_hyperopt():
    hopt = pytest.importorskip("hyperopt")
    ours, theirs = compile_space(make_space(hp)), make_space(hopt.hp)
    for p in ours.space.sample_params(48, seed=3):  # hyperopt's space_eval of our stored values
        vals = {k: v[0] for k, v in ours.misc_vals(p).items() if v}
        assert hopt.space_eval(theirs, vals) == ours.sample(vals)
    got, trials = [], hopt.Trials()  # hyperopt's own samples and stored values, read by us
    hopt.fmin(lambda s: got.append(s) or objective(s), theirs, algo=hopt.rand.suggest, max_evals=40,
              trials=trials, rstate=np.random.default_rng(0), show_progressbar=False)
    for s, doc in zip(got, trials.trials):
        vals = doc["misc"]["vals"]
        params = ours.params_of(vals)
        assert set(params) == {k for k, v in vals.items() if v} and sorted(vals) == ours.labels
        assert ours.sample(vals) == s
    best = hopt.fmin(objective, theirs, algo=hopt.rand.suggest, max_evals=10, rstate=np.random.default_rng(1),
                     show_progressbar=False)
    assert space_eval(make_space(hp), best) == hopt.space_eval(theirs, best)


def test_hyperopt_algorithms_are_accepted_by_name_and_counts_match():
    hopt = pytest.importorskip("hyperopt")
    for algo in (hopt.tpe.suggest, hopt.rand.suggest, hopt.anneal.suggest):
        t = Trials()
        fmin(objective, make_space(hp), algo=algo, max_evals=3, trials=t, rstate=0, show_progressbar=False)
        assert len(t) == 3
    counts = []
    for lib, h in ((hopt, hopt.hp), (gh, hp)):  # catch_eval_exceptions: the same bookkeeping
        t = lib.Trials()
        lib.fmin(_raises_on_rf, make_space(h), algo=lib.rand.suggest, max_evals=25, trials=t,
                 rstate=np.random.default_rng(0), catch_eval_exceptions=True, show_progressbar=False)
        counts.append(len(t) + t.count_by_state_unsynced(lib.JOB_STATE_ERROR))
    assert counts == [25, 25]


SCRIPT = '''
import numpy as np
from gpu_bo.integrations.hyperopt import STATUS_OK, Trials, fmin, hp, space_eval, tpe

space = hp.choice("opt", [
    {"name": "sgd", "lr": hp.loguniform("sgd_lr", -7, 0), "momentum": hp.uniform("momentum", 0, 0.99)},
    {"name": "adam", "lr": hp.loguniform("adam_lr", -9, -2),
     "betas": (hp.uniform("b1", 0.8, 0.95), 0.999)},
])

def loss(p):
    if p["name"] == "sgd":
        return {"loss": (np.log(p["lr"]) + 3) ** 2 + (p["momentum"] - 0.9) ** 2, "status": STATUS_OK}
    return {"loss": (np.log(p["lr"]) + 6) ** 2 + abs(p["betas"][0] - 0.9) + 0.5, "status": STATUS_OK}

trials = Trials()
best = fmin(loss, space, algo=tpe.suggest, max_evals=12, trials=trials, rstate=np.random.default_rng(0))
print("BEST", best)
print("EVAL", space_eval(space, best))
print("N", len(trials), min(trials.losses()))
'''


def test_hyperopt_style_script_in_a_subprocess(tmp_path):
    f = tmp_path / "tune.py"
    f.write_text(textwrap.dedent(SCRIPT))
    r = subprocess.run([sys.executable, str(f)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    out = dict(line.split(" ", 1) for line in r.stdout.splitlines() if line[:4] in ("BEST", "EVAL", "N 12"))
    best = eval(out["BEST"])  # noqa: S307 - our own subprocess's print of a dict of numbers
    assert best["opt"] in (0, 1) and set(best) == ({"opt", "sgd_lr", "momentum"} if best["opt"] == 0
                                                    else {"opt", "adam_lr", "b1"})
    assert eval(out["EVAL"])["name"] == ("sgd", "adam")[best["opt"]]  # noqa: S307
    assert "N" in out


@pytest.mark.slow
def test_example_script_runs():
    pytest.importorskip("sklearn")
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "hyperopt_dropin.py"), "6"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "best configuration: {'model': {" in r.stdout and "after 6 trials" in r.stdout


def test_trials_documents_follow_hyperopts_rules():
    t = Trials()
    doc = {"tid": 0, "spec": None, "result": {"status": STATUS_OK, "loss": 2.0}, "state": gh.JOB_STATE_DONE,
           "misc": {"tid": 0, "cmd": None, "idxs": {"x": [0]}, "vals": {"x": [0.5]}}, "owner": None,
           "book_time": None, "refresh_time": None, "exp_key": None}
    t.insert_trial_doc(doc)
    assert len(t) == 0  # as in hyperopt: seen after refresh
    t.refresh()
    assert len(t) == 1 and t.argmin == {"x": 0.5} and t.average_best_error() == 2.0
    for key in gh.base.TRIAL_KEYS:
        with pytest.raises(gh.exceptions.InvalidTrial, match=key):
            t.insert_trial_doc({k: v for k, v in doc.items() if k != key})
    with pytest.raises(gh.exceptions.InvalidTrial, match="misc.vals"):
        t.insert_trial_doc({**doc, "misc": {"tid": 0, "cmd": None, "idxs": {}}})
    fmin(lambda x: (x - 0.2) ** 2, hp.uniform("x", 0, 1), max_evals=3, trials=t, rstate=0, show_progressbar=False)
    assert len(t) == 3 and t.tids == [0, 1, 2]
