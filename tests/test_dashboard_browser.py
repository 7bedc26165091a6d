"""The dashboard in a real headless browser: Debian's Chromium (``/usr/bin/chromium``) driven by
Playwright (no browser download: ``executable_path`` points at the system one).

Each test starts ``gpu-bo dashboard`` as a subprocess on a free loopback port (the real command)
over a storage file written by ``test_dashboard.write_demo``, opens pages and reads what was
drawn from ``window.gbDashboard`` and the charts' ``data-points`` attributes.

Without Chromium or Playwright the tests skip with a loud reason, except when the environment
variable ``CI`` is set (``.ci/run``), where they fail: CI never skips them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import warnings

import pytest

from test_dashboard import XSS_CHOICE, XSS_ERROR, write_demo

CHROMIUM = os.environ.get("GPU_BO_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
READY = "() => window.gbDashboard && window.gbDashboard.ready"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install -y --no-install-recommends chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    why = _missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"BROWSER TESTS CANNOT RUN IN CI: {why}")
        warnings.warn(f"SKIPPING THE DASHBOARD BROWSER TESTS: {why}", stacklevel=1)
        pytest.skip(f"!!! DASHBOARD BROWSER TESTS SKIPPED: {why} !!!")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def dashboard_of(path):
    """The base URL of a ``gpu-bo dashboard`` subprocess serving the storage file ``path``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "gpu_bo.cli", "dashboard", f"sqlite:///{path}", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/api/studies", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"gpu-bo dashboard did not start: {proc.communicate()[0]}")
            time.sleep(0.1)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(60)  # a loaded machine may take a while to shut uvicorn down
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(20)


@pytest.fixture()
def served(tmp_path):
    """(base URL, demo counts, storage path) of a ``gpu-bo dashboard`` subprocess."""
    path = tmp_path / "study.db"
    counts = write_demo(path)
    with dashboard_of(path) as base:
        yield base, counts, path


@pytest.fixture()
def page(browser):
    p = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.page_errors = errors
    yield p
    p.close()


def _open(page, url: str) -> None:
    """Go to ``url`` and wait until the page has drawn."""
    page.goto(url)
    page.wait_for_function(READY)


def _column(page, n: int) -> list[str]:
    """The texts of column ``n`` (1-based) of the trial table."""
    return page.locator(f"#trials tr.trial td:nth-child({n})").all_text_contents()


def _points(page, chart: str) -> int:
    return int(page.get_attribute(f"#chart-{chart}", "data-points"))


def test_study_list_then_study_page_charts_and_a_trial(served, page, tmp_path):
    base, counts, _ = served
    _open(page, base + "/")
    names = page.locator("#studies a").all_text_contents()
    assert names == ["demo", "mo"]
    assert "minimize, maximize" in page.locator("#studies tr.study").nth(1).text_content()
    page.click("#studies a >> text=demo")
    page.wait_for_url("**/study/demo")
    page.wait_for_function(READY)
    # importance is computed after the first render; wait for its answer
    page.wait_for_function("() => document.querySelector('#chart-importance').dataset.state !== 'pending'", timeout=60000)
    c = counts["complete"]
    assert _points(page, "history") == c
    assert _points(page, "parallel") == c
    assert _points(page, "slices") == 3 * c  # one point per completed trial in each of the 3 slices
    assert page.locator("#chart-slices .slice").count() == 3
    assert _points(page, "intermediate") == counts["intermediate"]
    assert int(page.get_attribute("#chart-intermediate", "data-pruned")) == counts["pruned"]
    state = page.get_attribute("#chart-importance", "data-state")
    if state == "available":
        assert _points(page, "importance") == 3
    else:
        assert "not available" in page.locator("#chart-importance").text_content()
    assert page.locator("#chart-pareto").count() == 0  # one objective: no Pareto front
    assert page.locator("#trials tr.trial").count() == 30
    page.click("#trials tr.trial[data-number='7']")
    details = page.locator("#details")
    assert details.is_visible() and details.get_attribute("data-number") == "7"
    text = details.text_content()
    assert text.startswith("trial 7:") and "lr = " in text and "layers = " in text
    assert page.url.endswith("#trial-7")
    page.screenshot(path=str(tmp_path / "study.png"), full_page=True)
    assert (tmp_path / "study.png").stat().st_size > 10_000
    assert page.page_errors == []


def test_table_filters_by_state_and_sorts_by_a_column(served, page):
    base, counts, _ = served
    _open(page, base + "/study/demo")
    page.select_option("#state-filter", "FAILED")
    states = _column(page, 2)
    assert states == ["FAILED"] * counts["failed"]
    page.select_option("#state-filter", "COMPLETE")
    page.click("#trials th[data-col='value']")
    vals = [float(v) for v in _column(page, 3)]
    assert len(vals) == counts["complete"] and vals == sorted(vals)
    page.click("#trials th[data-col='value']")
    vals = [float(v) for v in _column(page, 3)]
    assert vals == sorted(vals, reverse=True)


def test_markup_in_choices_and_errors_renders_as_text(served, page):
    base, _, _ = served
    _open(page, base + "/study/demo")
    page.select_option("#state-filter", "ALL")
    cells = page.locator("#trials td").all_text_contents()
    assert XSS_CHOICE in cells
    assert any("<script>window.__xss = 3</script>" in c for c in cells)
    failed = page.locator("#trials tr.trial td:nth-child(2):text-is('FAILED')").first
    failed.click()
    assert XSS_ERROR in page.locator("#details").text_content()
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("main script, main img").count() == 0  # the markup never became elements
    assert page.page_errors == []


WRITER = textwrap.dedent("""
    import sys
    from gpu_bo.storage import open_storage
    store = open_storage("sqlite:///" + sys.argv[1])
    t = store.create_trial("demo", {"lr": 0.003, "layers": 2, "opt": "adam"})
    t.state = t.state.COMPLETE
    t.value = -5.0
    store.finish_trial("demo", t)
    store.close()
""")


def test_a_trial_written_by_another_process_appears_without_a_reload(served, page):
    base, counts, path = served
    _open(page, base + "/study/demo")
    page.evaluate("() => { window.__sameDocument = true; }")
    subprocess.run([sys.executable, "-c", WRITER, str(path)], check=True, timeout=120)
    page.wait_for_function("() => window.gbDashboard.counts.trials === 31", timeout=15000)
    assert page.evaluate("() => window.__sameDocument") is True  # no reload happened
    assert _points(page, "history") == counts["complete"] + 1
    assert page.locator("#trials tr.trial[data-number='30']").count() == 1


def test_two_objectives_show_the_pareto_front_and_hypervolume(served, page):
    base, _, _ = served
    _open(page, base + "/study/mo")
    assert "hypervolume" in page.locator("#chart-history").locator("xpath=..").text_content()
    assert _points(page, "pareto") == 12
    # values (i % 4 minimized, i % 3 maximized), i < 12: trial 8's (0, 2) dominates every other one
    assert int(page.get_attribute("#chart-pareto", "data-front")) == 1
    assert [h for h in page.locator("#trials th").all_text_contents()][2:4] == ["value 1", "value 2"]
