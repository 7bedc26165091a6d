"""benchmarks/bbob.py and bbob_report.py: ranking and aggregation on made-up records, and one
real tiny run through the cache and the report (when cocoex is installed)."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks import bbob, bbob_report
from benchmarks.bbob_report import log_precision, rank_cell, summarize


def _rec(method: str, function: int, precision: float, d: int = 2, instance: int = 3,
         seconds: float = 1.0) -> dict:
    return {"method": method, "function": function, "d": d, "instance": instance, "seed": instance,
            "final_precision": precision, "method_total_seconds": seconds, "error": None}


def test_rank_cell_ties_floor_and_nan():
    # 1e-9 and 0 are both below COCO's final target 1e-8: a tie; NaN (unfinished) ranks last
    assert rank_cell([1e-9, 0.0, 0.5, math.nan]) == [1.5, 1.5, 3.0, 4.0]
    assert rank_cell([2.0, 2.0, 1.0]) == [2.5, 2.5, 1.0]
    assert log_precision(0.0) == pytest.approx(-8.0)
    assert math.isnan(log_precision(math.nan))


def test_summarize_ranks_wins_groups_and_incomplete_cells():
    runs = [
        _rec("gpu_bo", 1, 0.0), _rec("optuna_gp", 1, 0.0), _rec("random", 1, 1.0),   # f1: a tie
        _rec("gpu_bo", 6, 3.0), _rec("optuna_gp", 6, 1.0), _rec("random", 6, 2.0),   # f6
        _rec("gpu_bo", 10, 0.1), _rec("random", 10, 0.2),                            # incomplete
    ]
    s = summarize(runs)["dims"][2]
    assert s["methods"] == ["gpu_bo", "optuna_gp", "random"]
    assert s["cells"] == 2 and s["incomplete_cells"] == 1
    assert s["mean_rank"] == {"gpu_bo": pytest.approx(2.25), "optuna_gp": pytest.approx(1.25),
                              "random": pytest.approx(2.5)}
    assert s["wins"] == {"gpu_bo": 1, "optuna_gp": 2, "random": 0}  # a shared first place counts
    assert s["group_mean_rank"]["f1-5 separable"]["gpu_bo"] == pytest.approx(1.5)
    assert s["group_mean_rank"]["f6-9 moderate"]["optuna_gp"] == pytest.approx(1.0)
    assert "f10-14 ill-conditioned" not in s["group_mean_rank"]  # its only cell is incomplete
    assert s["median_log10_precision"]["random"] == pytest.approx(
        (log_precision(1.0) + log_precision(2.0)) / 2)
    assert s["function_median_log10_precision"][6]["gpu_bo"] == pytest.approx(math.log10(3.0 + 1e-8))


def _targets(runs):
    return {t["name"]: t["ok"] for t in summarize(runs)["targets"]}


def test_targets_pass_and_miss():
    fs = [1, 2, 6, 7, 10, 11, 15, 16, 20, 21]
    good = [r for f in fs for r in (_rec("gpu_bo", f, 0.01), _rec("optuna_gp", f, 0.1), _rec("random", f, 1.0))]
    t = _targets(good)
    assert t and all(t.values()), t
    # GPSampler wins both multi-modal functions by far: gpu_bo stays best overall, but the group
    # lead (rank 2 vs 1 = 1.0 > 0.5) misses
    bad = [r for r in good if not (r["function"] in (15, 16) and r["method"] != "random")]
    bad += [_rec("gpu_bo", 15, 0.5), _rec("optuna_gp", 15, 1e-9), _rec("gpu_bo", 16, 0.5), _rec("optuna_gp", 16, 1e-9)]
    t = _targets(bad)
    assert t["d=2 best mean rank"] is True
    assert t["d=2 f15-19 multi-modal"] is False
    assert t["d=2 f1-5 separable"] is True
    # gpu_bo last on every function: both overall targets miss
    worse = [dict(r, final_precision=10.0) if r["method"] == "gpu_bo" else r for r in good]
    t = _targets(worse)
    assert t["d=2 best mean rank"] is False and t["d=2 median log10 precision"] is False
    # without GPSampler the targets cannot be judged
    assert [x["ok"] for x in summarize([r for r in good if r["method"] != "optuna_gp"])["targets"]] == [None]
    md = bbob_report.markdown_report("header", summarize(bad))
    assert "MISS: d=2 f15-19 multi-modal" in md and "PASS: d=2: gpu_bo mean rank" in md


def test_ecdf_counts_targets_reached():
    run = {"best_so_far_precision": [1e3, 1.0, 1e-9]}
    short = {"best_so_far_precision": [1e-9]}  # a run shorter than the budget keeps its best
    assert bbob_report.ecdf([run], 3).tolist() == pytest.approx([0.0, 11 / 51, 1.0])
    assert bbob_report.ecdf([run, short], 3).tolist() == pytest.approx([0.5, 62 / 102, 1.0])
    assert bbob_report.ecdf([{"best_so_far_precision": []}], 2).tolist() == [0.0, 0.0]


def test_budget_and_lists():
    assert [bbob.budget_for(d) for d in (2, 5, 10)] == [30, 60, 100]
    assert bbob._parse_list("1-3,8", "--functions") == [1, 2, 3, 8]
    with pytest.raises(SystemExit, match="--functions"):
        bbob._parse_list("a-b", "--functions")
    with pytest.raises(SystemExit, match="--functions"):
        bbob.main(["--functions", "25", "--report-only", "--cache", "x"])


def test_tiny_real_run_through_cache_and_report(tmp_path, capsys):
    pytest.importorskip("cocoex")
    cache, out = tmp_path / "cache", tmp_path / "out"
    argv = ["--quick", "--functions", "1", "--dims", "2", "--budget", "6", "--methods", "gpu_bo", "random",
            "--cache", str(cache), "--out", str(out), "--no-warmup"]
    summary = bbob.main(argv)
    files = sorted(p.name for p in cache.iterdir())
    assert files == ["f01_d02_i03_gpu_bo_s3.json", "f01_d02_i03_random_s3.json"]
    rec = json.loads((cache / files[0]).read_text())
    assert rec["seed"] == 3 and rec["budget"] == 6 and len(rec["values"]) == 6
    curve = rec["best_so_far_precision"]
    assert curve == sorted(curve, reverse=True) and curve[-1] == rec["final_precision"] >= 0
    assert curve[-1] == pytest.approx(min(rec["values"]) - rec["f_opt"])
    assert summary["dims"][2]["cells"] == 1
    assert json.loads((out / "bbob_quick.json").read_text())["summary"]["methods"] == ["gpu_bo", "random"]
    assert "## d = 2" in (out / "bbob_quick.md").read_text()
    capsys.readouterr()
    bbob.main(argv)  # resumable: the rerun finds both runs in the cache
    assert "0 runs to do (2 already in the cache)" in capsys.readouterr().out
    assert json.loads((cache / files[0]).read_text()) == rec
    bbob.main(argv[:8] + ["random"] + argv[10:] + ["--fresh"])  # --fresh redoes the selected runs
    assert "1 runs to do (0 already in the cache)" in capsys.readouterr().out
    again = bbob.main(argv[:-5] + ["--cache", str(cache), "--out", str(out), "--report-only"])
    assert again["dims"][2]["mean_rank"] == summary["dims"][2]["mean_rank"]
