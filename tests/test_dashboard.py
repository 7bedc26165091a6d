"""Tests of the dashboard's data views and server, without a browser (tests/test_dashboard_browser.py
drives the page in Chromium).

The server is exercised through Starlette's TestClient, and through a real uvicorn server on a
loopback port where the raw request path matters (``../`` in a static path: a client library
would normalize it away before sending).
"""

from __future__ import annotations

import http.client
import json
import math
import socket
import threading
import time
from pathlib import Path

import pytest

import gpu_bo as gb
from gpu_bo.dashboard import data
from gpu_bo.storage import open_storage
from gpu_bo.study import TrialState

starlette = pytest.importorskip("starlette", reason="the dashboard extra (starlette) is not installed")
from starlette.testclient import TestClient  # noqa: E402

from gpu_bo.dashboard import create_app, is_loopback, serve  # noqa: E402
from gpu_bo.dashboard.server import STATIC  # noqa: E402

XSS_CHOICE = "<script>window.__xss = 1</script>"
XSS_ERROR = "ValueError: <img src=x onerror=\"window.__xss = 2\"><script>window.__xss = 3</script>"
SPACE = gb.Space({"lr": gb.Real(1e-4, 1e-1, log=True), "layers": gb.Integer(1, 4),
                  "opt": gb.Categorical(["adam", XSS_CHOICE])})


def add_trial(store, study, params, state="COMPLETE", values=None, error=None, intermediate=None):
    """Record one finished trial in ``store`` (as a runner would) and return it."""
    t = store.create_trial(study, params)
    t.state = TrialState(state)
    t.values = values
    t.error = error
    t.intermediate = intermediate or {}
    t.end_time = t.start_time + 0.25
    store.finish_trial(study, t)
    return t


def write_demo(path: Path, n: int = 30) -> dict:
    """A storage file with a single-objective study ``demo`` (complete, pruned with intermediate values,
    failed trials; a categorical choice and an error that hold markup) and a two-objective study ``mo``.

    Returns:
        The counts the page should show: {"complete", "pruned", "failed", "intermediate", "mo_complete"}.
    """
    store = open_storage(f"sqlite:///{path}", create=True)
    store.get_or_create_study("demo", "minimize", SPACE.to_dict())
    params = SPACE.decode(SPACE.sample(n, seed=0))
    counts = {"complete": 0, "pruned": 0, "failed": 0, "intermediate": 0}
    for i, p in enumerate(params):
        if i % 7 == 3:
            add_trial(store, "demo", p, "FAILED", error="Traceback (most recent call last):\n" + XSS_ERROR)
            counts["failed"] += 1
        elif i % 5 == 4:
            add_trial(store, "demo", p, "PRUNED", intermediate={s: 2.0 - 0.1 * s for s in range(3)})
            counts["pruned"] += 1
            counts["intermediate"] += 1
        else:
            v = (math.log10(p["lr"]) + 2.5) ** 2 + 0.1 * p["layers"] + (0.3 if p["opt"] == "adam" else 0.0)
            add_trial(store, "demo", p, values=[v], intermediate={0: v + 1.0, 1: v + 0.5} if i % 10 == 0 else None)
            counts["complete"] += 1
            counts["intermediate"] += i % 10 == 0
    store.get_or_create_study("mo", ["minimize", "maximize"], SPACE.to_dict())
    for i, p in enumerate(params[:12]):
        add_trial(store, "mo", p, values=[float(i % 4), float(i % 3)])
    counts["mo_complete"] = 12
    store.close()
    return counts


@pytest.fixture()
def demo(tmp_path):
    path = tmp_path / "study.db"
    counts = write_demo(path)
    store = open_storage(f"sqlite:///{path}")
    yield store, counts, path
    store.close()


def test_study_list_counts_states_best_and_directions(demo):
    store, counts, _ = demo
    rows = {r["name"]: r for r in data.study_list(store)}
    assert list(rows) == ["demo", "mo"]
    d = rows["demo"]
    assert d["directions"] == ["minimize"] and d["n_trials"] == 30
    assert d["states"] == {"RUNNING": 0, "COMPLETE": counts["complete"], "FAILED": counts["failed"],
                           "PRUNED": counts["pruned"], "WAITING": 0}
    best = min(t.value for t in store.load_study("demo").completed_trials)
    assert d["best"] == pytest.approx(best)
    assert d["last_update"] >= max(t.start_time for t in store.load_study("demo").trials)
    assert rows["mo"]["directions"] == ["minimize", "maximize"] and rows["mo"]["best"] is None


def test_study_view_and_updates_send_every_trial_then_only_new_ones(demo):
    store, counts, _ = demo
    v = data.study_view(store, "demo")
    assert v["params"] == ["lr", "layers", "opt"] and v["directions"] == ["minimize"]
    assert [t["n"] for t in v["trials"]] == list(range(30))
    failed = next(t for t in v["trials"] if t["s"] == "FAILED")
    assert XSS_ERROR in failed["e"] and failed["v"] is None
    pruned = next(t for t in v["trials"] if t["s"] == "PRUNED")
    assert pruned["i"] == [[0, 2.0], [1, 1.9], [2, 1.8]]
    assert data.updates_view(store, "demo", v["seq"])["trials"] == []
    add_trial(store, "demo", {"lr": 0.01, "layers": 2, "opt": "adam"}, values=[1.5])
    up = data.updates_view(store, "demo", v["seq"])
    assert [t["n"] for t in up["trials"]] == [30] and up["seq"] > v["seq"]
    json.dumps(v, allow_nan=False)  # strict JSON: no NaN anywhere


def test_trial_json_turns_non_finite_numbers_and_odd_values_into_json():
    t = gb.Trial(3, {"x": float("nan"), "k": ("a", 1), "o": object()}, values=[float("inf"), 2.0],
                 state=TrialState.COMPLETE, user_attrs={"constraints": [0.5, float("nan")]})
    j = data.trial_json(t)
    assert j["v"] == [None, 2.0] and j["p"]["x"] is None and j["p"]["k"] == ["a", 1]
    assert isinstance(j["p"]["o"], str) and j["c"] == [0.5, None]
    json.dumps(j, allow_nan=False)


def test_importance_view_is_shares_or_a_reason(demo):
    store, _, _ = demo
    imp = data.importance_view(store, "demo")
    if imp["available"]:
        assert list(imp["shares"]) == ["lr", "layers", "opt"]
        assert sum(imp["shares"].values()) == pytest.approx(1.0)
    else:
        assert imp["reason"]
    store.get_or_create_study("empty", "minimize", SPACE.to_dict())
    none = data.importance_view(store, "empty")
    assert none["available"] is False and none["reason"]


@pytest.fixture()
def client(demo):
    return TestClient(create_app(demo[0]))


def test_endpoints_answer_get_and_refuse_every_writing_method(client):
    assert client.get("/api/studies").json()[0]["name"] == "demo"
    v = client.get("/api/studies/demo").json()
    assert len(v["trials"]) == 30
    assert client.get(f"/api/studies/demo/updates?seq={v['seq']}").json()["trials"] == []
    assert client.get("/api/studies/demo/importance").status_code == 200
    for url in ("/", "/study/demo"):
        r = client.get(url)
        assert r.status_code == 200 and "<script src=\"/static/app.js\">" in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]
    for method in ("post", "put", "delete", "patch"):
        for url in ("/api/studies", "/api/studies/demo", "/api/studies/demo/updates", "/", "/static/app.js"):
            assert getattr(client, method)(url).status_code in (404, 405), (method, url)


def test_unknown_study_and_bad_query_are_errors_not_crashes(client):
    r = client.get("/api/studies/nope")
    assert r.status_code == 404 and "nope" in r.json()["error"]
    assert client.get("/api/studies/demo/updates?seq=abc").status_code == 400
    assert client.get("/api/studies/demo/updates?seq=-1").status_code == 400


def test_page_references_only_its_own_shipped_assets():
    html = (STATIC / "index.html").read_text()
    assert "http://" not in html and "https://" not in html
    for name in ("app.js", "charts.js", "style.css"):
        assert f"/static/{name}" in html and (STATIC / name).is_file()
    js = (STATIC / "app.js").read_text() + (STATIC / "charts.js").read_text()
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js
    # package-data "static/*" ships the folder: nothing may sit in a subfolder it would miss
    assert all(p.is_file() for p in STATIC.iterdir())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def live_server(demo):
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(demo[0]), host="127.0.0.1", port=port, log_level="error"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield port
    server.should_exit = True
    th.join(10)


@pytest.mark.parametrize("path", ["/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2fserver.py",
                                  "/static/%2e%2e%2f%2e%2e%2fstudy.py", "/static//etc/passwd",
                                  "/static/..\\server.py"])
def test_static_files_cannot_be_read_outside_the_asset_folder(live_server, path):
    con = http.client.HTTPConnection("127.0.0.1", live_server, timeout=10)
    con.request("GET", path)  # sent as written: http.client does not normalize the path
    r = con.getresponse()
    body = r.read()
    assert r.status == 404, (path, r.status)
    assert b"import" not in body and b"root:" not in body
    con.request("GET", "/static/app.js")
    assert con.getresponse().status == 200


@pytest.mark.parametrize("host,loop", [("127.0.0.1", True), ("127.5.0.1", True), ("::1", True),
                                       ("localhost", True), ("0.0.0.0", False), ("192.168.1.4", False),
                                       ("example.org", False)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


def test_serve_warns_when_the_host_is_not_loopback(demo, monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    with pytest.warns(UserWarning, match="0.0.0.0.*no login"):
        serve(demo[0], host="0.0.0.0", port=1234)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        serve(demo[0])
    assert calls == [{"host": "0.0.0.0", "port": 1234, "log_level": "warning"},
                     {"host": "127.0.0.1", "port": 8080, "log_level": "warning"}]
