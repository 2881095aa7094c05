"""The web UI of `otelrr serve` in a real browser: Debian's headless Chromium driven by Selenium through Debian's
chromedriver (scripts/install-deps installs both; the paths are given to Selenium, so Selenium Manager never
downloads anything), against a real `otelrr serve` on loopback ports with real sessions.

  - every page loads with seeded sessions and shows what the API holds, without a console error;
  - the sessions page sorts, filters and pages 1,000 sessions (how fast: bench/ui-bench);
  - a seed generated from the Seed page appears on the Sessions page with the seed's counts;
  - a capture started from the Capture page while telemetrygen sends: its counters move, a phase is marked
    and ended, deleting it while it records is refused with a message, the Stop button stops it and the
    session holds exactly what telemetrygen sent;
  - a replay started from the Replay page into a real `otelrr capture`: the dashboard's counters reach what
    the receiver recorded; a slow one is stopped from its dashboard; a replay to an endpoint otelrr refuses
    and a missing session show the API's message, never a blank page;
  - with --api-token the UI asks for the token (again when it is wrong), then works, exports through it.

Screenshots of every page go to the test's temporary output (pytest's basetemp, ui-screenshots*/); with
OTELRR_UI_SCREENSHOTS=DIR the session page's and the replay dashboard's are copied there as ui-session.png and
ui-replay.png (docs/images/ holds the ones the README shows). OTELRR_UI_DIR=src/server/ui serves the UI from
disk (serve --ui-dir) instead of the files built into the binary.

ctest sets OTELRR_BIN to the otelrr binary. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_ui_cli.py
"""

import http.client
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time

import pytest
from selenium import webdriver
from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from peer_binaries import peer_path
from test_capture_cli import Capture, binary

REPO = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
READY = re.compile(r"control API on http://(\S+)/api")
OTLP_READY = re.compile(r"OTLP/HTTP on (\S+), OTLP/gRPC on (\S+),")
TOKEN = "ui-s3cret"
ZONE = "Asia/Kolkata"  # UTC+05:30 all year: local times differ visibly from UTC
START = "2026-01-01T00:00:00Z"


# --- otelrr serve -------------------------------------------------------------------------------------------

class Serve:
    """One `otelrr serve` on free loopback ports, its log in a file (so a full pipe never blocks it)."""

    def __init__(self, store, workdir, token=None):
        self.store = store
        self.token = token
        self.log_path = workdir / f"serve-{time.monotonic_ns()}.log"
        args = [binary(), "serve", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--api", "127.0.0.1:0",
                "--store", str(store)]
        if os.environ.get("OTELRR_UI_DIR"):
            args += ["--ui-dir", os.environ["OTELRR_UI_DIR"]]
        if token:
            args += ["--api-token", token]
        env = {k: v for k, v in os.environ.items() if k != "OTELRR_API_TOKEN"}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, env=env)
        deadline = time.monotonic() + 30
        while True:
            text = self.log_path.read_text(errors="replace")
            m, o = READY.search(text), OTLP_READY.search(text)
            if m and o:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"otelrr serve did not start:\n{text}")
            time.sleep(0.05)
        self.api_port = int(m.group(1).rsplit(":", 1)[1])
        self.http = o.group(1)
        self.grpc = o.group(2)
        self.url = f"http://127.0.0.1:{self.api_port}/"

    def api(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=60)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        is_json = resp.getheader("Content-Type", "").startswith("application/json")
        return resp.status, (json.loads(data) if data and is_json else data)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"otelrr serve did not stop:\n{self.log_path.read_text(errors='replace')[-3000:]}")
        assert self.proc.returncode == 0, self.log_path.read_text(errors="replace")[-3000:]


def run(*args):
    proc = subprocess.run([binary(), *args], capture_output=True, timeout=300)
    assert proc.returncode == 0, f"otelrr {' '.join(args)}: {proc.stderr.decode()}"
    return proc.stdout


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Two seed sessions: pay (payment-failure, 10 s at 10 traces/s, three phases) and train (training-phases)."""
    path = tmp_path_factory.mktemp("ui-store")
    seeds = {}
    for sid, pattern in (("pay", "payment-failure"), ("train", "training-phases")):
        seeds[sid] = json.loads(run("seed", "--session-id", sid, "--pattern", pattern, "--duration", "10", "--rate",
                                    "10", "--seed", "42", "--start-time", START, "--store", str(path), "--json"))
    return path, seeds


@pytest.fixture(scope="module")
def serve(store, tmp_path_factory):
    s = Serve(store[0], tmp_path_factory.mktemp("ui-serve"))
    yield s
    s.stop()


# --- the browser --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("ui-screenshots")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            pytest.fail(f"{path} is missing: run scripts/install-deps (Debian's chromium and chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never look for a browser or a driver online
    work = tmp_path_factory.mktemp("ui-browser")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--window-size=1280,900", "--disable-dev-shm-usage", "--lang=en-US",
                "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-default-apps", f"--user-data-dir={work / 'profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, log_output=str(work / "chromedriver.log"),
                      env=dict(os.environ, TZ=ZONE))
    driver = webdriver.Chrome(service=service, options=options)
    driver.downloads = work / "downloads"
    driver.downloads.mkdir()
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(driver.downloads)})
    yield driver
    driver.quit()


def wait(driver, condition, timeout=20, what="the page"):
    """Polls condition() (StaleElementReference counts as not yet) until it is truthy; returns its value."""
    def check(_):
        try:
            return condition()
        except StaleElementReferenceException:
            return False
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(check)
    except Exception as e:
        body = driver.find_element(By.TAG_NAME, "body").text[-2000:]
        raise AssertionError(f"waited {timeout} s for {what}; the page shows:\n{body}") from e


def css(root, selector):
    return root.find_element(By.CSS_SELECTOR, selector)


def all_css(root, selector):
    return root.find_elements(By.CSS_SELECTOR, selector)


def click(driver, element):
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    try:
        element.click()
    except ElementClickInterceptedException:
        time.sleep(0.3)
        element.click()


def button(root, text):
    for _ in range(5):
        try:
            for b in all_css(root, "button, a.button"):
                if b.text.strip() == text and b.is_displayed():
                    return b
            break
        except StaleElementReferenceException:  # a part of the page redrawn meanwhile
            continue
    raise AssertionError(f"no button {text!r}")


def fill(driver, form, name, value):
    field = css(form, f"[name='{name}']")
    field.clear()
    if value:
        field.send_keys(str(value))


LOADS = iter(range(1 << 30))


def open_page(driver, serve, fragment, ready=None):
    """Loads the UI at #fragment, a fresh page load (the query differs each time, so it is not a mere change of
    the hash), and waits until `ready` (a CSS selector) shows."""
    driver.get(f"{serve.url}?load={next(LOADS)}#{fragment}")
    wait(driver, lambda: driver.execute_script("return document.readyState") == "complete")
    if ready:
        wait(driver, lambda: all_css(driver, ready), what=ready)


def console_errors(driver):
    """SEVERE entries of the browser's log, but the network's report of the API answers a test provoked (a 4xx
    is a message on the page; Chromium also logs it)."""
    out = []
    for entry in driver.get_log("browser"):
        if entry["level"] != "SEVERE":
            continue
        if entry.get("source") == "network" and "/api/" in entry["message"]:
            continue
        out.append(entry["message"])
    return out


def screenshot(driver, shots, name, publish=None):
    if publish:  # the README's pictures without the messages of the test's earlier steps
        driver.execute_script("document.querySelectorAll('#notices .notice').forEach((n) => n.remove())")
    path = shots / f"{name}.png"
    driver.save_screenshot(str(path))
    out = os.environ.get("OTELRR_UI_SCREENSHOTS")
    if out and publish:
        pathlib.Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, pathlib.Path(out) / publish)
    return path


def fresh_download(driver, name):
    """Empties the browser's download directory; returns a function that gives the lines of `name` once it is
    completely downloaded (None before)."""
    for f in driver.downloads.iterdir():
        f.unlink()
    path = driver.downloads / name

    def lines():
        if not path.exists() or any(f.suffix == ".crdownload" for f in driver.downloads.iterdir()):
            return None
        text = path.read_text()
        return text.splitlines() if text.endswith("\n") else None
    return lines


def notices(driver):
    return [n.text for n in all_css(driver, "#notices .notice")]


def number(text):
    """'1,234' -> 1234"""
    return int(text.replace(",", "").strip())


def tile(root, label):
    """The exact value of a tile: its title when it holds one ('1,234' behind '1.2 k'), else its text."""
    for t in all_css(root, ".tile"):
        if css(t, ".tile-label").text.strip() == label:
            v = css(t, ".tile-value")
            title = v.get_attribute("title") or ""
            m = re.match(r"^([\d,]+)", title)
            return number(m.group(1)) if m else number(v.text)
    raise AssertionError(f"no tile {label!r}")


# --- the pages ----------------------------------------------------------------------------------------------

def test_every_page_loads_and_shows_the_api(serve, store, browser, shots):
    _, seeds = store
    pay = seeds["pay"]

    open_page(browser, serve, "/sessions", "table.sessions-table tbody tr")
    rows = {r.get_attribute("data-session"): r for r in all_css(browser, "tbody tr[data-session]")}
    assert set(rows) >= {"pay", "train"}
    cells = [c.text for c in all_css(rows["pay"], "td")]
    assert cells[1] == "seed" and cells[2] == "completed"
    assert "startup, failure, rampdown" in rows["pay"].find_element(By.XPATH, "./td[10]").get_attribute("title")
    assert cells[4] == "10 s"
    # Times are the browser's local time (UTC+05:30 here), UTC on hover.
    start = css(rows["pay"], "time")
    assert start.text == "2026-01-01 05:30" and "2026-01-01 00:00:00.000 UTC" in start.get_attribute("title")
    assert browser.title == "Sessions · otelrr"
    screenshot(browser, shots, "sessions")
    assert console_errors(browser) == []

    open_page(browser, serve, "/sessions/pay", ".chart canvas")
    assert css(browser, "h1").text == "pay"
    summary = {d.find_element(By.TAG_NAME, "dt").text: d.find_element(By.TAG_NAME, "dd").text
               for d in all_css(browser, "dl.summary > div")}
    assert number(summary["Spans"]) == pay["spans"] and number(summary["Log records"]) == pay["logRecords"]
    assert number(summary["Data points"]) == pay["dataPoints"] and number(summary["Traces"]) == pay["traces"]
    # The chart: the signals and the error rate in the legend, the phases as bands, the canvas painted.
    wait(browser, lambda: len(all_css(browser, ".chart-legend .legend-item")) >= 4)
    legend = [b.text for b in all_css(browser, ".chart-legend .legend-item")]
    assert legend[:3] == ["Spans/s", "Data points/s", "Log records/s"] and "Span error rate" in legend
    assert [b.text for b in all_css(browser, ".chart-legend .legend-band")] == ["startup", "failure", "rampdown"]
    painted = browser.execute_script("""
        const c = document.querySelector('.chart canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;""")
    assert painted > 10000
    # The read-out: focus the chart, arrow keys move through the buckets.
    canvas = css(browser, ".chart canvas")
    canvas.send_keys(Keys.HOME)
    tip = css(browser, ".chart-tip")
    wait(browser, tip.is_displayed)
    assert "Spans/s:" in tip.text and "phase: startup" in tip.text
    canvas.send_keys(Keys.END)  # the last second: the metrics' request, after the last phase
    wait(browser, lambda: f"Data points/s: {pay['dataPoints']}" in tip.text and "phase" not in tip.text)
    canvas.send_keys(Keys.ARROW_LEFT)
    wait(browser, lambda: "phase: rampdown" in tip.text)
    # Services from the timeline, with span counts adding up to the session's.
    services = [[c.text for c in all_css(r, "td")] for r in all_css(browser, "section[aria-label='Services'] tbody tr")]
    assert {"frontend", "payment", "checkout"} <= {s[0] for s in services}
    assert sum(number(s[1]) for s in services) == pay["spans"]
    phases = [r.find_element(By.TAG_NAME, "td").text for r in all_css(browser, "section[aria-label='Phases'] tbody tr")]
    assert phases == ["startup", "failure", "rampdown"]
    wait(browser, lambda: len(all_css(browser, "section[aria-label='Annotations'] tbody tr")) == 3, what="annotations")
    files = all_css(browser, "section[aria-label='Files'] tbody tr")
    assert sorted(f.find_element(By.XPATH, "./td[2]").text for f in files) == ["logs", "metrics", "traces"]
    css(browser, "section[aria-label='Metadata'] summary").click()
    assert json.loads(css(browser, "pre.json").text)["sessionId"] == "pay"
    # The message lasts 2.5 s: record every notice as it appears, so that a slow poll on a busy machine
    # cannot miss it.
    browser.execute_script(
        "window.__notices = []; new MutationObserver(() => document.querySelectorAll('#notices .notice')"
        ".forEach((n) => window.__notices.push(n.textContent))).observe(document.getElementById('notices'),"
        " {childList: true, subtree: true, characterData: true});")
    click(browser, button(browser, "Copy id"))
    wait(browser, lambda: any("Copied session id pay" in t for t in browser.execute_script("return window.__notices")),
         what="the id copied")
    browser.execute_script("window.scrollTo(0, 0)")
    screenshot(browser, shots, "session", publish="ui-session.png")
    # The Replay… button opens the form with the session filled in.
    click(browser, button(browser, "Replay…"))
    wait(browser, lambda: browser.current_url.endswith("#/replay?session=pay"))
    wait(browser, lambda: css(browser, "input[name='sessionId']").get_attribute("value") == "pay")
    # Its phases are offered.
    offered = lambda: [b.text for b in all_css(browser, "button[aria-label^='Add phase']")]
    wait(browser, lambda: offered() == ["startup", "failure", "rampdown"], what="the session's phases offered")
    assert "No replays yet" in css(browser, ".replays").text
    screenshot(browser, shots, "replay-form")
    assert console_errors(browser) == []

    open_page(browser, serve, "/capture", "form[aria-label='Start a capture']")
    assert "No capture sessions yet" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, shots, "capture")

    open_page(browser, serve, "/seed", ".pattern-option")
    status, patterns = serve.api("GET", "/api/patterns")
    assert status == 200
    names = [o.text.split("\n")[0] for o in all_css(browser, ".pattern-option")]
    assert names == [p["name"] for p in patterns["patterns"]]
    click(browser, css(browser, "input[name='pattern'][value='payment-failure']"))
    wait(browser, lambda: css(browser, "[data-pattern-name]").text == "payment-failure")
    chips = {c.text.split(" (")[0] for c in all_css(browser, ".chips .chip")}
    assert {"frontend", "payment", "postgres"} <= chips
    screenshot(browser, shots, "seed")
    assert console_errors(browser) == []

    open_page(browser, serve, "/nowhere", "h1")
    assert css(browser, "h1").text == "Page not found"
    assert console_errors(browser) == []


def test_the_sessions_page_sorts_filters_and_pages_a_thousand_sessions(browser, tmp_path, shots):
    path = tmp_path / "store"
    run("seed", "--preset", "quick", "--seed", "3", "--session-id", "base", "--start-time", START, "--store", str(path))
    base = json.loads((path / "sessions" / "base" / "metadata.json").read_text())
    # 1,000 more sessions: metadata.json alone is what the list reads.
    for i in range(1000):
        sid = f"bulk-{i:04d}"
        m = dict(base, sessionId=sid, s3Prefix=f"sessions/{sid}/", sessionType="capture" if i % 4 == 0 else "seed",
                 counts=dict(base["counts"], spans=(i * 7919) % 100_000), description=f"bulk session number {i}")
        (path / "sessions" / sid).mkdir()
        (path / "sessions" / sid / "metadata.json").write_text(json.dumps(m))
    s = Serve(path, tmp_path)
    try:
        open_page(browser, s, "/sessions", "table.sessions-table tbody tr")
        rendered = browser.execute_script("const m = performance.getEntriesByName('otelrr:sessions-rendered');"
                                          "return m.length ? m[0].startTime : null")
        # How long it takes is bench/ui-bench's to measure (docs/BENCHMARKS.md), not a test's: here it is rendered.
        assert rendered is not None, "the page did not mark its 1,001 sessions rendered"
        assert "1,001 sessions" in css(browser, ".page-head").text
        assert len(all_css(browser, "tbody tr")) == 50
        assert "1–50 of 1,001" in css(browser, ".pager").text
        # Sorted by spans, largest first, then smallest first.
        click(browser, css(browser, "th[data-col='spans'] button"))
        assert css(browser, "th[data-col='spans']").get_attribute("aria-sort") == "descending"
        spans = lambda: [number(r.find_element(By.XPATH, "./td[6]").get_attribute("title"))
                         for r in all_css(browser, "tbody tr")]
        top = spans()
        assert top == sorted(top, reverse=True) and top[0] == max((i * 7919) % 100_000 for i in range(1000))
        click(browser, css(browser, "th[data-col='spans'] button"))
        assert css(browser, "th[data-col='spans']").get_attribute("aria-sort") == "ascending"
        assert spans() == sorted(spans())
        # Pages.
        click(browser, button(browser, "Next ›"))
        assert "51–100 of 1,001" in css(browser, ".pager").text
        # Filters: type, then free text (across id and description).
        Select(css(browser, "select[name='type']")).select_by_value("capture")
        wait(browser, lambda: "250 of 1,001 sessions match" in css(browser, ".page-head").text)
        assert {r.find_element(By.XPATH, "./td[2]").text for r in all_css(browser, "tbody tr")} == {"capture"}
        search = css(browser, "input[name='q']")
        search.send_keys("Number 124")  # every word, in any case
        wait(browser, lambda: "1 of 1,001 sessions match" in css(browser, ".page-head").text)
        assert [r.get_attribute("data-session") for r in all_css(browser, "tbody tr")] == ["bulk-0124"]
        search.clear()
        search.send_keys("no such thing")
        wait(browser, lambda: "No session matches these filters" in css(browser, "main").text)
        click(browser, button(browser, "Clear the filters"))
        wait(browser, lambda: "1,001 sessions" in css(browser, ".page-head").text)
        screenshot(browser, shots, "sessions-1001")
        assert console_errors(browser) == []
    finally:
        s.stop()


def test_a_seed_generated_from_the_ui_appears_in_the_sessions(serve, browser, shots):
    open_page(browser, serve, "/seed", ".pattern-option")
    click(browser, css(browser, "input[name='pattern'][value='training-phases']"))
    form = css(browser, "form[aria-label='Generate a seed session']")
    wait(browser, lambda: css(form, "[data-pattern-name]").text == "training-phases")
    fill(browser, form, "durationSeconds", 20)
    fill(browser, form, "tracesPerSecond", 5)
    fill(browser, form, "errorRate", 0.1)
    fill(browser, form, "seed", 18446744073709551615)  # 2^64 - 1 is a seed too: sent exactly
    fill(browser, form, "sessionId", "ui-seed")
    fill(browser, form, "description", "made in the browser")
    assert "100 traces over 20 s" in form.text
    click(browser, button(form, "Generate"))
    done = wait(browser, lambda: all_css(browser, "[data-seed='ui-seed'].ok-box"), timeout=60, what="the seed")
    assert "completed" in done[0].text
    status, meta = serve.api("GET", "/api/sessions/ui-seed")
    assert status == 200 and meta["description"] == "made in the browser"
    assert meta["generator"]["seed"] == 18446744073709551615
    assert f"{meta['counts']['spans']:,} spans" in done[0].text
    screenshot(browser, shots, "seed-done")
    click(browser, css(done[0], "a[href='#/sessions/ui-seed']"))
    # The heading shows while the page loads; the summary once the session is read.
    wait(browser, lambda: css(browser, "h1").text == "ui-seed" and all_css(browser, "dl.summary"), what="the session")
    # Every digit of a seed beyond 2^53, in the summary and in metadata.json.
    assert "random seed 18446744073709551615" in css(browser, "dl.summary").text
    metadata = browser.execute_script("return document.querySelector('pre.json').textContent")
    assert '"seed": 18446744073709551615' in metadata
    click(browser, css(browser, "nav a[data-nav='sessions']"))
    wait(browser, lambda: all_css(browser, "tbody tr[data-session='ui-seed']"), what="ui-seed in the sessions")
    row = css(browser, "tbody tr[data-session='ui-seed']")
    assert number(row.find_element(By.XPATH, "./td[6]").get_attribute("title")) == meta["counts"]["spans"]
    # A seed the server refuses says why.
    open_page(browser, serve, "/seed", "form[aria-label='Generate a seed session']")
    form = css(browser, "form[aria-label='Generate a seed session']")
    fill(browser, form, "durationSeconds", 3)
    fill(browser, form, "tracesPerSecond", 0.5)
    click(browser, button(form, "Generate"))
    err = wait(browser, lambda: all_css(form, ".error-box"), what="the refusal")
    assert "The seed did not start" in err[0].text and "400" in err[0].text
    assert console_errors(browser) == []


def test_a_capture_from_the_ui_while_telemetrygen_sends(serve, browser, shots):
    telemetrygen = peer_path("OTELRR_TELEMETRYGEN")
    open_page(browser, serve, "/capture", "form[aria-label='Start a capture']")
    form = css(browser, "form[aria-label='Start a capture']")
    fill(browser, form, "sessionId", "ui-capture")
    fill(browser, form, "description", "telemetrygen through the UI")
    fill(browser, form, "enabledFlags", "newCheckout, darkLaunch")
    fill(browser, form, "maxDurationMinutes", 10)
    fill(browser, form, "maxSizeMB", 500)
    Select(css(form, "select[name='compression']")).select_by_value("gzip")
    click(browser, button(form, "Start capture"))
    live = wait(browser, lambda: all_css(browser, "[data-capture='ui-capture']"), what="the live capture")[0]
    assert "Capturing ui-capture" in live.text and "Flags: newCheckout, darkLaunch" in live.text
    assert "Size limit: 0 B of 500 MB" in live.text and "left of 10 m 00 s" in live.text
    # 300 traces of 2 spans at 50 traces/s: about 6 s of load.
    sender = subprocess.Popen([telemetrygen, "traces", "--traces", "300", "--rate", "50", "--workers", "1",
                               "--child-spans", "1", "--otlp-endpoint", serve.http, "--otlp-insecure", "--otlp-http"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first = wait(browser, lambda: tile(live, "spans") or None, what="spans arriving")
        wait(browser, lambda: tile(live, "spans") > first, what="the spans counter moving")
        wait(browser, lambda: css(live, "[data-tile='itemRate'] .tile-value").text not in ("—", "0"), what="items/s")
        assert css(live, "[data-tile='reqRate'] .tile-value").text != "—"
        # A phase, marked while it records, and ended.
        fill(browser, live, "phase", "degraded")
        fill(browser, live, "phaseFlags", "slowPayments")
        click(browser, button(live, "Start phase"))
        open_phase = lambda: [b.text for b in all_css(live, "table td .badge")] == ["open"]
        wait(browser, lambda: "degraded" in css(live, "table").text and open_phase(), what="the phase started")
        time.sleep(1)
        screenshot(browser, shots, "capture-live")
        end = button(live, "End the current phase")
        wait(browser, end.is_enabled)
        click(browser, end)
        wait(browser, lambda: not open_phase(), what="the phase ended")
        # Deleting the session it records is refused, with the server's reason.
        open_page(browser, serve, "/sessions", "tbody tr[data-session='ui-capture']")
        click(browser, css(browser, "button[aria-label='Delete session ui-capture']"))
        dialog = wait(browser, lambda: all_css(browser, "dialog[open]"))[0]
        assert "Delete session ui-capture?" in dialog.text
        click(browser, css(dialog, "button.danger"))
        wait(browser, lambda: any("being captured" in n for n in notices(browser)), what="the 409")
        assert all_css(browser, "tbody tr[data-session='ui-capture']")
        # Back on the Capture page the live view is there again (the state is the server's).
        assert sender.wait(timeout=60) == 0, sender.stderr.read().decode()[-2000:]
        open_page(browser, serve, "/capture", "[data-capture='ui-capture']")
        live = css(browser, "[data-capture='ui-capture']")
        wait(browser, lambda: tile(live, "spans") == 600, what="all 600 spans")
        assert tile(live, "traces") == 300
        click(browser, button(live, "Stop capture"))
        final = wait(browser, lambda: all_css(browser, "[data-finished='ui-capture']"), what="the stopped capture")[0]
    finally:
        if sender.poll() is None:
            sender.kill()
    assert "600 spans" in final.text and "finished" in final.text
    status, meta = serve.api("GET", "/api/sessions/ui-capture")
    assert status == 200 and meta["status"] == "completed" and meta["counts"]["spans"] == 600
    assert meta["enabledFlags"] == ["newCheckout", "darkLaunch"]
    assert meta["files"] and all(f["compression"] == "gzip" and f["path"].endswith(".otlp.gz") for f in meta["files"])
    phases = [(p["name"], p["flags"]) for p in meta["phases"]]
    assert phases == [("degraded", ["newCheckout", "darkLaunch", "slowPayments"])]
    assert all_css(browser, "form[aria-label='Start a capture']")  # ready for the next one
    assert console_errors(browser) == []


def test_a_replay_dashboard_reaches_the_receivers_count(serve, store, browser, shots, tmp_path):
    _, seeds = store
    pay = seeds["pay"]
    items = pay["spans"] + pay["dataPoints"] + pay["logRecords"]
    target = Capture(tmp_path / "target", "--session", "received")
    try:
        open_page(browser, serve, "/replay?session=pay", "form[aria-label='Start a replay']")
        form = css(browser, "form[aria-label='Start a replay']")
        fill(browser, form, "targetEndpoint", f"http://{target.http}")
        fill(browser, form, "speedMultiplier", 2)  # the 10 s session in 5 s
        click(browser, button(form, "Start replay"))
        card = wait(browser, lambda: all_css(browser, ".replay-card.running"), what="a running replay")[0]
        replay_id = card.get_attribute("data-replay")
        assert "session pay" in card.text and f"http://{target.http}" in card.text and "×2" in card.text
        # While it runs: a rate, the position on the timeline and the phase it is in.
        wait(browser, lambda: css(card, "[data-tile='sent'] .tile-value").text not in ("—", ""), what="items/s sent")
        wait(browser, lambda: re.search(r"phase: (startup|failure|rampdown)", card.text), what="the current phase")
        assert re.search(r"at \d\d:\d\d:\d\d of the session", card.text)
        assert css(card, "[data-tile='scheduled'] .tile-value").text != "—"
        time.sleep(1.2)
        browser.execute_script("arguments[0].scrollIntoView({block: 'start'}); window.scrollBy(0, -60)", card)
        screenshot(browser, shots, "replay", publish="ui-replay.png")
        wait(browser, lambda: "completed" in css(card, "header").text, timeout=60, what="the replay to complete")
        # The dashboard's counters are the receiver's.
        summary = target.stop()
        received = (summary["spans"], summary["dataPoints"], summary["logRecords"])
        assert received == (pay["spans"], pay["dataPoints"], pay["logRecords"])
        wait(browser, lambda: (tile(card, "spans"), tile(card, "data points"), tile(card, "log records")) == received,
             what="the dashboard's counters to reach the receiver's")
        assert tile(card, "requests sent") == summary["requests"]
        assert css(card, ".codes [data-code='200']").text == f"200 × {summary['requests']}"
        assert f"{summary['requests']} of {summary['requests']} requests (100%)" in card.text
        assert tile(card, "failed requests") == 0 and tile(card, "abandoned") == 0
        status, st = serve.api("GET", f"/api/replays/{replay_id}")
        assert st["spans"] + st["dataPoints"] + st["logRecords"] == items
    finally:
        if target.proc.poll() is None:
            target.proc.kill()
    # A slow one, stopped from its dashboard; the dashboards survive a reload.
    status, slow = serve.api("POST", "/api/replays", {"sessionId": "train", "targetEndpoint": "http://127.0.0.1:9",
                                                      "speedMultiplier": 0.05})
    assert status == 201
    open_page(browser, serve, "/replay", f"[data-replay='{slow['replayId']}']")
    card = css(browser, f"[data-replay='{slow['replayId']}']")
    assert "running" in css(card, "header").text
    wait(browser, lambda: "Last error" in card.text and "127.0.0.1:9" in card.text, what="the last error")
    click(browser, css(card, "button[aria-label='Stop replay " + slow["replayId"] + "']"))
    wait(browser, lambda: "stopped" in css(card, "header").text, what="the replay stopped")
    assert not css(card, "button[aria-label^='Stop replay']").is_displayed()
    assert all_css(browser, f"[data-replay='{replay_id}']")  # the finished one is still shown
    assert console_errors(browser) == []


def test_api_errors_show_as_messages(serve, store, browser):
    # A replay to an endpoint otelrr refuses: the server's 400 under the form.
    open_page(browser, serve, "/replay?session=pay", "form[aria-label='Start a replay']")
    form = css(browser, "form[aria-label='Start a replay']")
    fill(browser, form, "targetEndpoint", "ftp://example.invalid")
    click(browser, button(form, "Start replay"))
    err = wait(browser, lambda: all_css(form, ".error-box"), what="the refusal")[0]
    assert "The replay did not start" in err.text and "scheme ftp is not supported" in err.text
    assert "POST /api/replays answered 400 Bad Request" in err.text
    # A session that does not exist.
    open_page(browser, serve, "/sessions/missing", ".error-box")
    assert "session missing does not exist" in css(browser, ".error-box").text
    assert "answered 404" in css(browser, ".error-box").text
    # Deleting a session that went away meanwhile: the 404 as a message; a real delete then works.
    run("seed", "--preset", "quick", "--seed", "9", "--session-id", "doomed", "--store", str(serve.store))
    # Loaded (its summary shown) before the session goes: read after, the page would be the 404.
    open_page(browser, serve, "/sessions/doomed", "dl.summary")
    assert css(browser, "h1").text == "doomed"
    status, _ = serve.api("DELETE", "/api/sessions/doomed")
    assert status == 204
    click(browser, button(browser, "Delete…"))
    click(browser, css(wait(browser, lambda: all_css(browser, "dialog[open]"))[0], "button.danger"))
    wait(browser, lambda: any("session doomed does not exist" in n for n in notices(browser)), what="the 404 message")
    run("seed", "--preset", "quick", "--seed", "9", "--session-id", "doomed", "--store", str(serve.store))
    open_page(browser, serve, "/sessions", "tbody tr[data-session='doomed']")
    click(browser, css(browser, "button[aria-label='Delete session doomed']"))
    click(browser, css(wait(browser, lambda: all_css(browser, "dialog[open]"))[0], "button.danger"))
    wait(browser, lambda: not all_css(browser, "tbody tr[data-session='doomed']"), what="the row gone")
    assert serve.api("GET", "/api/sessions/doomed")[0] == 404
    # Verify and export from the list (without a token, export is a plain download link).
    click(browser, css(browser, "button[aria-label='Verify session pay']"))
    wait(browser, lambda: any("Session pay verified: intact" in n for n in notices(browser)), what="the verification")
    downloaded = fresh_download(browser, "pay.jsonl")
    click(browser, css(browser, "a[aria-label='Export session pay as JSON Lines']"))
    lines = wait(browser, downloaded, what="the download")
    assert len(lines) == sum(serve.api("GET", "/api/sessions/pay")[1]["counts"]["requests"].values())
    assert all(set(json.loads(line)) & {"resourceSpans", "resourceMetrics", "resourceLogs"} for line in lines)
    assert console_errors(browser) == []


def test_the_ui_asks_for_the_api_token(store, browser, tmp_path, shots):
    s = Serve(store[0], tmp_path, token=TOKEN)
    try:
        open_page(browser, s, "/sessions")
        dialog = wait(browser, lambda: all_css(browser, "#token-dialog[open]"), what="the token dialog")[0]
        screenshot(browser, shots, "token")
        css(dialog, "#token-input").send_keys("wrong")
        click(browser, button(dialog, "Use token"))
        asked_again = lambda: css(browser, "#token-dialog").get_attribute("open") is not None
        wait(browser, lambda: "refused" in css(browser, "#token-reason").text and asked_again(), what="the token again")
        css(dialog, "#token-input").send_keys(TOKEN)
        click(browser, button(dialog, "Use token"))
        wait(browser, lambda: all_css(browser, "tbody tr[data-session='pay']"), what="the sessions with the token")
        assert css(browser, "#token-button").text == "Forget token"
        # Kept for the tab: a reload does not ask again.
        open_page(browser, s, "/sessions/pay", ".chart canvas")
        assert not all_css(browser, "#token-dialog[open]")
        # An export through the token (fetched, saved as a file).
        downloaded = fresh_download(browser, "pay.jsonl")
        click(browser, button(browser, "Export JSON Lines"))
        lines = wait(browser, downloaded, what="the download")
        meta = s.api("GET", "/api/sessions/pay")[1]
        assert len(lines) == sum(meta["counts"]["requests"].values())
        assert console_errors(browser) == []
        # Forgotten: the next request asks again; cancelling shows what to do instead of a blank page.
        click(browser, css(browser, "#token-button"))
        open_page(browser, s, "/sessions")
        wait(browser, lambda: all_css(browser, "#token-dialog[open]"))
        click(browser, css(browser, "#token-cancel"))
        err = wait(browser, lambda: all_css(browser, "main .error-box"), what="the 401 message")[0]
        assert "requires an API token" in err.text
        browser.execute_script("sessionStorage.clear()")
    finally:
        s.stop()
