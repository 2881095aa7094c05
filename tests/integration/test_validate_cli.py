"""otelrr validate and sessions diff end to end (issue 15): a session replayed into a target, what arrives
recorded and compared item by item with what was sent.

  1. validate against otelrr's own receiver: everything matches, the exit code is 0, the recorded session is
     deleted (kept with --keep-capture); a seed generated on the way (--pattern) is compared per phase and the
     HTML report opens offline;
  2. through the real OpenTelemetry Collector (peers/collector), clean: every item arrives as sent;
  3. through a Collector that drops spans (filter processor) and alters log records (attributes processor):
     the report names exactly what was lost (each dropped span) and what changed (the attribute, on every
     log record), exit 1; --tolerance lets a pipeline that drops on purpose pass;
  4. sessions diff: a replay's capture against its source is clean (the shift inferred), two different
     seeds differ with exact counts; bad input is a usage error.

The expected counts come from the sessions themselves, decoded with the opentelemetry-proto reference.
By hand: OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_validate_cli.py
"""

import json

import pytest

from peer_binaries import free_port
from test_peers_cli import otlp_collector
from test_replay_cli import START, messages, run

SIGNALS = ("traces", "metrics", "logs")


def items(msgs):
    """{signal: number of spans, data points, log records} of decoded requests."""
    out = dict.fromkeys(SIGNALS, 0)
    for name, m in msgs:
        if name == "traces":
            out[name] += sum(len(ss.spans) for rs in m.resource_spans for ss in rs.scope_spans)
        elif name == "logs":
            out[name] += sum(len(sl.log_records) for rl in m.resource_logs for sl in rl.scope_logs)
        else:
            for rm in m.resource_metrics:
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        data = getattr(metric, metric.WhichOneof("data"))
                        out[name] += len(data.data_points)
    return out


def session_ids(store):
    return [s["sessionId"] for s in json.loads(run("sessions", "list", "--json", "--store", str(store)).stdout)]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A payment-failure seed (phases, all three signals): (store, its items by signal, its requests)."""
    store = tmp_path_factory.mktemp("validate-store")
    run("seed", "--session-id", "src", "--pattern", "payment-failure", "--duration", "12", "--rate", "10",
        "--seed", "11", "--start-time", START, "--store", str(store))
    msgs = messages(store, "src")
    return store, items(msgs), msgs


def validate(store, *args, check=False):
    proc = run("validate", "--store", str(store), "--json", *args, check=False, timeout=240)
    if check:
        assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else None, proc.stderr.decode()


def test_validate_against_its_own_receiver_passes_and_cleans_up(source, tmp_path):
    store, counts, _ = source
    code, out, _ = validate(store, "--session", "src", "--speed", "0", "--report", str(tmp_path / "r.html"), check=True)
    assert out["pass"] is True
    cmp = out["comparison"]
    for s in SIGNALS:
        assert cmp["signals"][s]["source"] == counts[s]
        assert cmp["signals"][s]["matched"] == counts[s]
    assert cmp["total"]["missing"] == cmp["total"]["extra"] == cmp["total"]["altered"] == cmp["total"]["duplicated"] == 0
    assert cmp["time"]["check"] == "exact"
    assert [p["name"] for p in cmp["phases"]] == ["startup", "failure", "rampdown"]
    assert sum(p["source"] for p in cmp["phases"]) <= sum(counts.values())
    assert all(p["matched"] == p["source"] for p in cmp["phases"])
    assert out["captureKept"] is False and out["capture"] not in session_ids(store)
    html = (tmp_path / "r.html").read_text()
    assert "PASS" in html and "<svg" in html and "startup" in html
    assert "<script" not in html and "src=" not in html and "href=" not in html  # self-contained


def test_validate_a_fresh_seed_at_speed_keeps_the_capture_when_asked(tmp_path):
    store = tmp_path / "store"
    code, out, err = validate(store, "--pattern", "basic-topology", "--duration", "4", "--rate", "5", "--seed", "5",
                              "--speed", "8", "--keep-capture", check=True)
    assert out["pass"] and out["captureKept"]
    ids = session_ids(store)
    assert out["source"] in ids and out["capture"] in ids
    # The capture diffs clean against its source with an exact time map applied: at speed 8 durations
    # shrink, so a plain diff finds them altered (a constant shift is all diff forgives).
    diff = run("sessions", "diff", out["source"], out["capture"], "--json", "--store", str(store), check=False)
    assert diff.returncode == 1
    assert json.loads(diff.stdout)["total"]["altered"] > 0


def test_validate_through_the_collector_clean(source, tmp_path):
    store, counts, _ = source
    procs = []
    capture_grpc = f"127.0.0.1:{free_port()}"
    exporters = {"otlp": {"endpoint": capture_grpc, "tls": {"insecure": True}}}
    try:
        col, _, http_addr = otlp_collector(procs, tmp_path, exporters, {s: ["otlp"] for s in SIGNALS})
        code, out, err = validate(store, "--session", "src", "--speed", "0", "--endpoint", f"http://{http_addr}",
                                  "--capture-grpc", capture_grpc, "--capture-http", f"127.0.0.1:{free_port()}")
        assert code == 0, (out, err, col.logs())
        assert out["comparison"]["total"]["matched"] == sum(counts.values())
    finally:
        for p in procs:
            p.stop()


def test_validate_names_what_a_collector_drops_and_changes(source, tmp_path):
    store, counts, msgs = source
    dropped = sum(1 for n, m in msgs if n == "traces" for rs in m.resource_spans for ss in rs.scope_spans
                  for sp in ss.spans if sp.name == "GET /api/cart")
    assert dropped > 0
    procs = []
    capture_grpc = f"127.0.0.1:{free_port()}"
    exporters = {"otlp": {"endpoint": capture_grpc, "tls": {"insecure": True}}}
    processors = {
        "filter/cart": {"error_mode": "propagate", "traces": {"span": ['name == "GET /api/cart"']}},
        "attributes/tag": {"actions": [{"key": "pipeline", "value": "staging", "action": "insert"}]},
    }
    try:
        col, _, http_addr = otlp_collector(procs, tmp_path, exporters, {s: ["otlp"] for s in SIGNALS},
                                           processors=processors,
                                           per_signal_processors={"traces": ["filter/cart"], "logs": ["attributes/tag"]})
        args = ["--session", "src", "--speed", "0", "--endpoint", f"http://{http_addr}", "--capture-grpc", capture_grpc,
                "--capture-http", f"127.0.0.1:{free_port()}", "--max-differences", "1000", "--settle", "3"]
        code, out, err = validate(store, *args, "--report", str(tmp_path / "fail.html"))
        assert code == 1, (out, err, col.logs())
        assert out["pass"] is False and out["captureKept"] is True
        cmp = out["comparison"]
        traces, logs, metrics = cmp["signals"]["traces"], cmp["signals"]["logs"], cmp["signals"]["metrics"]
        assert traces["missing"] == dropped
        assert traces["matched"] == counts["traces"] - dropped
        assert logs["altered"] == counts["logs"] and logs["matched"] == 0
        assert metrics["matched"] == counts["metrics"]
        assert cmp["total"]["extra"] == cmp["total"]["duplicated"] == 0
        missing = [d for d in cmp["differences"] if d["kind"] == "missing"]
        assert len(missing) == dropped
        assert all('span "GET /api/cart"' in d["item"] for d in missing)
        altered = [d for d in cmp["differences"] if d["kind"] == "altered"]
        assert altered and all(d["signal"] == "logs" for d in altered)
        assert all(d["changes"] == [{"path": "attributes[pipeline]", "source": "(absent)", "received": '"staging"'}]
                   for d in altered)
        assert "FAIL" in (tmp_path / "fail.html").read_text()
        # A pipeline that drops and changes on purpose passes within a tolerance (the share that differs).
        code, out, err = validate(store, *args, "--tolerance", "1")
        assert code == 0, (out, err)
        assert "within --tolerance" in out["verdict"]
    finally:
        for p in procs:
            p.stop()


def test_sessions_diff(source, tmp_path):
    store, counts, _ = source
    code, out, _ = validate(store, "--session", "src", "--speed", "0", "--keep-capture", check=True)
    capture = out["capture"]
    diff = run("sessions", "diff", "src", capture, "--json", "--store", str(store), check=False)
    assert diff.returncode == 0, diff.stdout.decode()
    d = json.loads(diff.stdout)
    assert d["identical"] is True and d["time"]["shiftInferred"] is True
    assert d["total"]["matched"] == sum(counts.values())
    assert d["time"]["shiftNanos"] != 0  # the replay moved the data to the time it ran
    # Two seeds of other random seeds share nothing.
    run("seed", "--session-id", "other", "--pattern", "payment-failure", "--duration", "12", "--rate", "10",
        "--seed", "12", "--start-time", START, "--store", str(store))
    diff = run("sessions", "diff", "src", "other", "--json", "--store", str(store), check=False)
    assert diff.returncode == 1
    d = json.loads(diff.stdout)
    assert d["total"]["missing"] + d["total"]["altered"] == sum(counts.values())
    text = run("sessions", "diff", "src", "other", "--store", str(store), check=False).stdout.decode()
    assert "differences:" in text and "missing" in text
    # Bad input.
    bad = run("sessions", "diff", "src", capture, "--shift", "sideways", "--store", str(store), check=False)
    assert bad.returncode == 2 and b"--shift 'sideways'" in bad.stderr
    nope = run("sessions", "diff", "src", "nope", "--store", str(store), check=False)
    # 2, as diff(1): 1 would say the sessions differ.
    assert nope.returncode == 2 and b"nope" in nope.stderr and str(store).encode() in nope.stderr


def test_validate_bad_input(source, tmp_path):
    store, _, _ = source
    code, _, err = validate(store, "--session", "src", "--pattern", "basic-topology")
    assert code == 2 and "not both" in err
    code, _, err = validate(store, "--session", "missing-session", "--speed", "0")
    assert code == 1 and "missing-session" in err
    code, _, err = validate(store, "--session", "src", "--tolerance", "2")
    assert code == 2 and "--tolerance" in err
    # A target that is not there: delivery fails, the verdict says so.
    code, out, err = validate(store, "--session", "src", "--speed", "0", "--endpoint", f"http://127.0.0.1:{free_port()}",
                              "--max-retry-seconds", "1", "--capture-grpc", f"127.0.0.1:{free_port()}",
                              "--capture-http", f"127.0.0.1:{free_port()}", "--wait", "2")
    assert code == 1 and out["pass"] is False and out["verdict"].startswith("FAIL: delivery")


def test_ctrl_c_stops_validate_and_leaves_no_capture(source):
    import signal
    import subprocess
    import time
    from test_capture_cli import binary

    store, _, _ = source
    before = session_ids(store)
    proc = subprocess.Popen([binary(), "validate", "--session", "src", "--speed", "1", "--store", str(store)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err.decode()
    assert b"stopped by a signal" in err
    assert session_ids(store) == before


def test_real_recordings_arrive_as_sent_directly_and_through_the_collector(tmp_path):
    """Every OTLP recording of other projects in the shared test data (the OpenTelemetry Demo, Jaeger,
    Fluent Bit, DuckDB's edge cases: nulls, deep nesting, timestamps at the limits...) imported as one
    session, validated against otelrr's own receiver and through the Collector (which decodes and encodes
    it again): item for item the same."""
    from test_sessions_cli import TESTDATA

    files = [str(p) for folder in ("traces", "metrics", "logs") for p in sorted((TESTDATA / folder).iterdir())]
    store = tmp_path / "store"
    run("sessions", "import", *files, "--session", "real", "--store", str(store))
    code, out, err = validate(store, "--session", "real", "--speed", "0", "--timestamps", "none", check=True)
    total = out["comparison"]["total"]
    counts = json.loads(run("sessions", "show", "real", "--json", "--store", str(store)).stdout)["counts"]
    assert total["source"] == counts["spans"] + counts["dataPoints"] + counts["logRecords"] > 7000
    assert total["matched"] == total["source"]
    procs = []
    capture_grpc = f"127.0.0.1:{free_port()}"
    exporters = {"otlp": {"endpoint": capture_grpc, "tls": {"insecure": True}}}
    try:
        col, _, http_addr = otlp_collector(procs, tmp_path, exporters, {s: ["otlp"] for s in SIGNALS})
        code, out, err = validate(store, "--session", "real", "--speed", "0", "--timestamps", "none", "--endpoint",
                                  f"http://{http_addr}", "--capture-grpc", capture_grpc, "--capture-http",
                                  f"127.0.0.1:{free_port()}")
        assert code == 0, (out["verdict"], out["comparison"]["differences"][:5], err, col.logs())
        assert out["comparison"]["total"]["matched"] == total["source"]
    finally:
        for p in procs:
            p.stop()
