"""The otelrr session commands end to end, on real OTLP data written by other projects.

Every valid file under ../shared/testdata/otlp/{traces,metrics,logs} is imported, verified and exported,
and the export must hold exactly the imported data: compared message by message after decoding both
sides with the official opentelemetry-proto reference. Invalid input must be refused with a message
naming the problem, exit 1 (2 for invalid flags and arguments), and leave the store as it was.

ctest sets OTELRR_BIN to build/otelrr. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration
"""

import base64
import collections
import datetime
import fcntl
import gzip
import json
import os
import pathlib
import re
import struct
import subprocess
import time

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

REPO = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = pathlib.Path(os.environ.get("OTELRR_TESTDATA") or REPO.parent / "shared" / "testdata" / "otlp")
REQUEST = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
}
TOP_KEY = {
    "resourceSpans": "traces", "resource_spans": "traces",
    "resourceMetrics": "metrics", "resource_metrics": "metrics",
    "resourceLogs": "logs", "resource_logs": "logs",
}
ID_KEYS = {"traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id"}
HEX_ID = re.compile(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}")
# Files using the pre-1.0 instrumentationLibrary* names, which the reference no longer knows: compared by
# counts (from SOURCES.md) instead of message by message.
LEGACY = {"contrib-testbed_k8s-metrics_legacy.json"}


def binary() -> str:
    path = os.environ.get("OTELRR_BIN", str(REPO / "build" / "otelrr"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not an executable: build otelrr first (scripts/build)")
    return path


def otelrr(*args, store, check=True, stdin=None):
    proc = subprocess.run([binary(), *args, "--store", str(store)], capture_output=True, input=stdin, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"otelrr {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}")
    return proc


def hex_ids_to_base64(node):
    """OTLP/JSON writes ids as hex; protobuf's generic JSON parser expects base64 (which some files have)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in ID_KEYS and isinstance(v, str) and HEX_ID.fullmatch(v):
                out[k] = base64.b64encode(bytes.fromhex(v)).decode()
            else:
                out[k] = hex_ids_to_base64(v)
        return out
    if isinstance(node, list):
        return [hex_ids_to_base64(v) for v in node]
    return node


def reference_messages_from_json_documents(docs):
    """Decodes OTLP/JSON documents with the reference: (signal, canonical bytes) per document."""
    out = []
    for doc in docs:
        signal = next(TOP_KEY[k] for k in doc if k in TOP_KEY)
        msg = REQUEST[signal]()
        json_format.ParseDict(hex_ids_to_base64(doc), msg, ignore_unknown_fields=True)
        out.append((signal, msg.SerializeToString(deterministic=True)))
    return out


def json_documents(path: pathlib.Path):
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def canonical_from_pb(path: pathlib.Path):
    raw = path.read_bytes()
    for signal, cls in REQUEST.items():
        msg = cls()
        try:
            msg.ParseFromString(raw)
        except Exception:
            continue
        msg.DiscardUnknownFields()
        if signal in path.parent.name:
            return [(signal, msg.SerializeToString(deterministic=True))]
    raise AssertionError(f"reference cannot decode {path}")


def exported_messages(jsonl: bytes):
    return reference_messages_from_json_documents(json.loads(line) for line in jsonl.splitlines() if line.strip())


def valid_files():
    return [path for folder in ("traces", "metrics", "logs") for path in sorted((TESTDATA / folder).iterdir())]


def counts_from_sources():
    """spans=/data_points=/log_records= of each file, from SOURCES.md."""
    counts = {}
    for line in (TESTDATA / "SOURCES.md").read_text().splitlines():
        m = re.match(r"\| `([^`]+)` \|", line)
        if not m:
            continue
        name = m.group(1)  # folder/file: the same file name appears under logs/ and metrics/
        found = dict(re.findall(r"\b(spans|data_points|log_records)=(\d+)", line))
        counts[name] = {k: int(v) for k, v in found.items()}
    return counts


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


@pytest.mark.parametrize("path", valid_files(), ids=lambda p: p.name)
def test_import_verify_export_gives_back_the_same_data(path, store, tmp_path):
    imported = json.loads(otelrr("sessions", "import", str(path), "--session", "s", "--json", store=store).stdout)
    expected_counts = counts_from_sources()[f"{path.parent.name}/{path.name}"]
    assert imported["spans"] == expected_counts.get("spans", 0)
    assert imported["dataPoints"] == expected_counts.get("data_points", 0)
    assert imported["logRecords"] == expected_counts.get("log_records", 0)

    verify = otelrr("sessions", "verify", "s", store=store)
    assert b"is intact" in verify.stdout

    out = tmp_path / "export.jsonl"
    otelrr("sessions", "export", "s", "--out", str(out), store=store)
    exported = exported_messages(out.read_bytes())
    assert len(exported) == imported["records"]

    if path.name in LEGACY:
        return  # counts checked above; the reference cannot read the legacy names
    if path.suffix == ".pb":
        original = canonical_from_pb(path)
    else:
        original = reference_messages_from_json_documents(json_documents(path))
    # Records come back in arrival order, which may differ from file order: compare as multisets.
    assert collections.Counter(exported) == collections.Counter(original)

    # The export imports again to the same counts: the round trip is closed.
    again = json.loads(otelrr("sessions", "import", str(out), "--session", "s2", "--json", store=store).stdout)
    for key in ("records", "traces", "spans", "dataPoints", "logRecords"):
        assert again[key] == imported[key], key


def test_base64_ids_are_imported_and_exported_as_hex(store, tmp_path):
    """protobuf's generic JSON mapping writes ids in base64, where OTLP/JSON has hex: both are read."""
    path = TESTDATA / "traces" / "otlp2parquet_traces.jsonl"

    def span_ids(docs, decode):
        return sorted((span["name"], span["startTimeUnixNano"],
                       *(decode(span[k]) if k in span else None for k in ("traceId", "spanId", "parentSpanId")))
                      for doc in docs for rs in doc["resourceSpans"] for ss in rs["scopeSpans"] for span in ss["spans"])

    expected = span_ids(json_documents(path), lambda v: base64.b64decode(v, validate=True).hex())
    assert len(expected) == 19 and all(len(s[2]) == 32 and len(s[3]) == 16 for s in expected)
    assert sum(s[4] is not None for s in expected) == 13

    imported = json.loads(otelrr("sessions", "import", str(path), "--session", "b64", "--json", store=store).stdout)
    assert imported["spans"] == 19
    out = tmp_path / "export.jsonl"
    otelrr("sessions", "export", "b64", "--out", str(out), store=store)
    exported = span_ids(json_documents(out), lambda v: v)
    # Span by span (sorted: the export is in arrival order), the ids are the input's decoded bytes, in hex.
    assert exported == expected


def test_invalid_files_are_refused_and_leave_no_session(store, tmp_path):
    good = (TESTDATA / "traces" / "otlp2parquet_traces.jsonl").read_text().splitlines()[0]
    # The base64 of 15 bytes, where a trace id is 16: the error is on the second line, after one good one.
    bad = good.replace(json.loads(good)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"],
                       base64.b64encode(bytes(15)).decode())
    path = tmp_path / "bad.jsonl"
    path.write_text(good + "\n" + bad + "\n")
    proc = otelrr("sessions", "import", str(path), "--session", "bad", store=store, check=False)
    assert proc.returncode == 1
    message = proc.stderr.decode()
    assert message.startswith("otelrr: ") and message.count("\n") == 1, message
    assert "line 2" in message and "traceId: expected 32 hex digits or the base64 of 16 bytes" in message, message
    listed = otelrr("sessions", "list", "--json", store=store)
    assert json.loads(listed.stdout) == []


def test_collector_file_exporter_length_prefixed_plain_and_zstd(store, tmp_path):
    trace = (TESTDATA / "traces" / "fluent-bit_ctraces_sample_trace.pb").read_bytes()
    metrics = (TESTDATA / "metrics" / "otlp2parquet_metrics_sum.pb").read_bytes()
    logs = (TESTDATA / "logs" / "otlp2parquet_logs.pb").read_bytes()
    plain = tmp_path / "plain.pb"
    plain.write_bytes(b"".join(struct.pack(">I", len(m)) + m for m in (trace, metrics, logs)))
    zstd = tmp_path / "zstd.pb"
    frames = []
    for m in (trace, metrics, logs):
        frames.append(subprocess.run(["zstd", "-q", "-c"], input=m, capture_output=True, check=True).stdout)
    zstd.write_bytes(b"".join(struct.pack(">I", len(f)) + f for f in frames))

    for i, path in enumerate((plain, zstd)):
        result = json.loads(otelrr("sessions", "import", str(path), "--session", f"lp{i}", "--json", store=store).stdout)
        assert result["files"][0]["format"] == "Collector file exporter (length-prefixed)"
        assert result["files"][0]["messages"] == 3
        assert (result["spans"], result["dataPoints"], result["logRecords"]) == (2, 4, 81)
        otelrr("sessions", "verify", f"lp{i}", store=store)


def test_gzip_compressed_json_lines_and_raw_protobuf(store, tmp_path):
    src = TESTDATA / "metrics" / "otel-demo_elastic-loadgen.jsonl"
    gz = tmp_path / "demo.jsonl.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    result = json.loads(otelrr("sessions", "import", str(gz), "--session", "gz", "--json", store=store).stdout)
    assert result["files"][0]["format"] == "OTLP JSON Lines"
    assert (result["records"], result["dataPoints"]) == (82, 4651)

    raw = TESTDATA / "logs" / "otlp2parquet_logs.pb"
    detected = json.loads(otelrr("sessions", "import", str(raw), "--session", "raw", "--json", store=store).stdout)
    assert detected["logRecords"] == 81
    # Naming the wrong signal is refused with the wire-level problem, and creates nothing.
    wrong = otelrr("sessions", "import", str(raw), "--session", "raw2", "--signal", "traces", store=store, check=False)
    assert wrong.returncode == 1 and b"malformed OTLP protobuf" in wrong.stderr
    assert otelrr("sessions", "show", "raw2", store=store, check=False).returncode == 1


def test_cut_or_corrupt_gzip_is_refused_and_leaves_no_session(store, tmp_path):
    src = TESTDATA / "logs" / "otel-demo_elastic-loadgen.jsonl"
    whole = gzip.compress(src.read_bytes())
    crc = bytearray(whole)
    crc[-8] ^= 0x01
    broken = {
        "mid-stream": (whole[: len(whole) // 2], "the gzip data is truncated"),
        "trailer-cut": (whole[:-8], "the gzip data is truncated"),  # all of CRC32 and ISIZE gone
        "trailer-part": (whole[:-3], "the gzip data is truncated"),
        "crc-flipped": (bytes(crc), "gzip CRC mismatch"),
    }
    for name, (data, problem) in broken.items():
        path = tmp_path / f"{name}.jsonl.gz"
        path.write_bytes(data)
        # Alone, and after a valid file: the whole import fails either way.
        for files in ([path], [TESTDATA / "traces" / "highlight_nextjs.json", path]):
            proc = otelrr("sessions", "import", *map(str, files), "--session", "cut", store=store, check=False)
            assert proc.returncode == 1, (name, proc.stdout)
            message = proc.stderr.decode()
            assert message.startswith(f"otelrr: {path}: {problem}") and message.count("\n") == 1, message
            if "truncated" in problem:
                assert message.endswith("the file is incomplete; copy it again\n"), message
            assert json.loads(otelrr("sessions", "list", "--json", store=store).stdout) == []
            # Nothing on disk either: no metadata, raw file, lock file or empty folder of the failed session.
            assert not store.exists() or list(store.rglob("*")) == []

    # The intact file imports to exactly what the uncompressed one does.
    intact = tmp_path / "intact.jsonl.gz"
    intact.write_bytes(whole)
    keys = ("records", "traces", "spans", "dataPoints", "logRecords")
    plain = json.loads(otelrr("sessions", "import", str(src), "--session", "plain", "--json", store=store).stdout)
    gz = json.loads(otelrr("sessions", "import", str(intact), "--session", "gz", "--json", store=store).stdout)
    assert [gz[k] for k in keys] == [plain[k] for k in keys]
    assert (gz["records"], gz["logRecords"]) == (617, 1443)  # SOURCES.md
    assert gz["files"][0]["messages"] == 617


def test_arrival_order_and_signal_filter_on_export(store, tmp_path):
    files = [str(TESTDATA / "traces" / "highlight_nextjs.json"), str(TESTDATA / "logs" / "otlp-proto_example_logs.json"),
             str(TESTDATA / "metrics" / "otlp-proto_example_metrics.json")]
    otelrr("sessions", "import", *files, "--session", "mix", store=store)
    lines = otelrr("sessions", "export", "mix", store=store).stdout.splitlines()
    assert len(lines) == 3
    # Each record's arrival is its own earliest timestamp: the export is ordered by it.
    def earliest(doc):
        times = [int(v) for v in re.findall(rb'"(?:startTimeUnixNano|timeUnixNano|observedTimeUnixNano)":"(\d+)"', doc)]
        return min(t for t in times if t > 0)
    assert [earliest(l) for l in lines] == sorted(earliest(l) for l in lines)
    only_logs = otelrr("sessions", "export", "mix", "--signals", "logs", store=store).stdout.splitlines()
    assert len(only_logs) == 1 and only_logs[0].startswith(b'{"resourceLogs"')


def test_list_show_delete_and_errors(store, tmp_path):
    nextjs = str(TESTDATA / "traces" / "highlight_nextjs.json")
    otelrr("sessions", "import", nextjs, "--session", "one", "--type", "seed", "--description", "first", store=store)
    otelrr("sessions", "import", nextjs, "--session", "two", store=store)
    listed = {m["sessionId"]: m for m in json.loads(otelrr("sessions", "list", "--json", store=store).stdout)}
    assert set(listed) == {"one", "two"}
    assert listed["one"]["sessionType"] == "seed" and listed["one"]["description"] == "first"
    assert listed["one"]["status"] == "completed" and listed["one"]["capturedTraces"] == 1
    seeds = json.loads(otelrr("sessions", "list", "--type", "seed", "--json", store=store).stdout)
    assert [m["sessionId"] for m in seeds] == ["one"]
    shown = json.loads(otelrr("sessions", "show", "one", store=store).stdout)
    assert shown == listed["one"]

    # Taking an existing id is refused and the existing session stays intact.
    dup = otelrr("sessions", "import", nextjs, "--session", "one", store=store, check=False)
    assert dup.returncode == 1 and b"already exists" in dup.stderr.lower()
    otelrr("sessions", "verify", "one", store=store)

    for bad in ("../x", "a/b", ".."):
        proc = otelrr("sessions", "show", bad, store=store, check=False)
        assert proc.returncode == 2 and b"session id" in proc.stderr.lower(), proc.stderr
    missing = otelrr("sessions", "show", "nope", store=store, check=False)
    assert missing.returncode == 1 and b"nope" in missing.stderr

    assert otelrr("sessions", "delete", "two", store=store).stdout == b"deleted session two\n"
    otelrr("sessions", "import", nextjs, "--session", "three", store=store)
    assert json.loads(otelrr("sessions", "delete", "three", "--json", store=store).stdout) == {
        "sessionId": "three", "deleted": True}
    assert [m["sessionId"] for m in json.loads(otelrr("sessions", "list", "--json", store=store).stdout)] == ["one"]
    assert otelrr("sessions", "delete", "two", store=store, check=False).returncode == 1


def test_verify_names_a_damaged_file(store):
    otelrr("sessions", "import", str(TESTDATA / "traces" / "highlight_backend-go.json"), "--session", "d", store=store)
    raw = next((store / "sessions" / "d" / "raw").rglob("*.otlp.zst"))
    data = bytearray(raw.read_bytes())
    data[len(data) // 2] ^= 0xFF
    raw.write_bytes(bytes(data))
    proc = otelrr("sessions", "verify", "d", store=store, check=False)
    assert proc.returncode == 1
    assert raw.name in proc.stderr.decode()


def test_convert_between_encodings(tmp_path):
    src = TESTDATA / "traces" / "fluent-bit_ctraces_sample_trace.pb"
    as_json = subprocess.run([binary(), "convert", "--signal", "traces", "--from", "protobuf", "--to", "json", str(src)],
                             capture_output=True, check=True).stdout
    back = subprocess.run([binary(), "convert", "--signal", "traces", "--from", "json", "--to", "protobuf"],
                          input=as_json, capture_output=True, check=True).stdout
    ref = trace_service_pb2.ExportTraceServiceRequest()
    ref.ParseFromString(src.read_bytes())
    ours = trace_service_pb2.ExportTraceServiceRequest()
    ours.ParseFromString(back)
    assert ours == ref
    bad = subprocess.run([binary(), "convert", "--signal", "traces", "--from", "json", "--to", "protobuf"],
                         input=b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}', capture_output=True)
    assert bad.returncode == 1
    assert bad.stderr.decode() == (
        "otelrr: standard input: resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits or the "
        'base64 of 16 bytes, got "xyz"\n')


def test_usage_errors_are_one_line_and_exit_2(store):
    for args in (["sessions"], ["sessions", "show"], ["sessions", "list", "--type", "nonsense"],
                 ["convert", "--signal", "traces", "--from", "json", "--to", "xml"]):
        proc = subprocess.run([binary(), *args], capture_output=True, timeout=30)
        assert proc.returncode == 2, (args, proc.returncode)
        err = proc.stderr.decode()
        assert err.startswith("otelrr: ") and err.endswith("(run with --help for usage)\n") and err.count("\n") == 1, err
    for args in ([], ["sessions"], ["sessions", "import"], ["sessions", "export"], ["convert"]):
        proc = subprocess.run([binary(), *args, "--help"], capture_output=True, timeout=30)
        assert proc.returncode == 0 and b"Usage:" in proc.stdout, args
    assert b"Examples:" in subprocess.run([binary(), "sessions", "import", "--help"], capture_output=True).stdout


def test_export_to_a_device_writes_through_it(store, tmp_path):
    """--out /dev/null must not replace the device (a temp file renamed over it would)."""
    otelrr("sessions", "import", str(TESTDATA / "traces" / "highlight_nextjs.json"), "--session", "n", store=store)
    before = os.stat("/dev/null")
    otelrr("sessions", "export", "n", "--out", "/dev/null", store=store)
    after = os.stat("/dev/null")
    assert (after.st_mode, after.st_rdev) == (before.st_mode, before.st_rdev)
    assert not os.path.exists("/dev/null.tmp")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    otelrr("sessions", "export", "n", "--out", str(fifo), store=store)
    assert reader.communicate(timeout=30)[0].startswith(b'{"resourceSpans"')
    assert fifo.is_fifo()


def test_a_missing_session_is_said_the_same_way_by_every_command(store):
    otelrr("sessions", "import", str(TESTDATA / "traces" / "highlight_backend-go.json"), "--session", "x", store=store)
    for args in (["show", "nope"], ["verify", "nope"], ["delete", "nope"], ["export", "nope"]):
        proc = otelrr("sessions", *args, store=store, check=False)
        assert proc.returncode == 1, args
        assert proc.stderr.decode() == f"otelrr: session nope does not exist (store: {store})\n", args
    # verify --json answers in JSON whatever happens.
    proc = otelrr("sessions", "verify", "nope", "--json", store=store, check=False)
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {"sessionId": "nope", "ok": False, "error": "session nope does not exist"}
    assert json.loads(otelrr("sessions", "verify", "x", "--json", store=store).stdout)["ok"] is True


def test_reading_a_store_that_does_not_exist_does_not_create_it(tmp_path):
    missing = tmp_path / "new" / "path"
    proc = otelrr("sessions", "list", store=missing)
    assert proc.stdout.decode() == f"no sessions in {missing} (the store does not exist yet)\n"
    assert json.loads(otelrr("sessions", "list", "--json", store=missing).stdout) == []
    assert otelrr("sessions", "show", "x", store=missing, check=False).returncode == 1
    assert not (tmp_path / "new").exists()


def test_long_ids_keep_the_list_in_columns_and_counts_are_worded_right(store):
    long_id = "incident-" + "x" * 90
    one = str(TESTDATA / "traces" / "highlight_backend-go.json")
    out = otelrr("sessions", "import", one, "--session", long_id, store=store).stdout.decode()
    assert "Imported 1 file as session" in out and ": OTLP/JSON document, 1 message\n" in out, out
    otelrr("sessions", "import", one, "--session", "short", store=store)
    lines = otelrr("sessions", "list", store=store).stdout.decode().splitlines()
    assert len(lines) == 3
    columns = {line.index(" capture ") if "capture" in line else line.index(" TYPE ") for line in lines}
    assert len(columns) == 1, lines  # TYPE starts at the same place on every line


def test_unknown_commands_and_help_are_plain(tmp_path):
    proc = subprocess.run([binary(), "bogus"], capture_output=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("otelrr: unknown command 'bogus': the commands are sessions, seed, capture")
    help_text = subprocess.run([binary(), "replay", "--help"], capture_output=True, timeout=30).stdout.decode()
    assert "{false}" not in help_text and "--traces,--no-traces" not in help_text, help_text
    assert "--no-traces" in help_text and "the seed's" not in help_text


def test_convert_refuses_a_request_of_another_signal(tmp_path):
    """The defect this guards: converting a traces request as metrics wrote 0 bytes and exited 0."""
    src = TESTDATA / "traces" / "fluent-bit_ctraces_sample_trace.pb"
    for args, data in ((["--from", "protobuf", "--to", "json", str(src)], None),
                       (["--from", "json", "--to", "protobuf"],
                        subprocess.run([binary(), "convert", "--signal", "traces", "--from", "protobuf", "--to", "json",
                                        str(src)], capture_output=True, check=True).stdout)):
        out = tmp_path / "out"
        proc = subprocess.run([binary(), "convert", "--signal", "metrics", *args, *([] if data else [str(out)])],
                              input=data, capture_output=True, timeout=30)
        assert proc.returncode == 1, proc.stderr
        assert "the input is a traces request, not metrics: use --signal traces" in proc.stderr.decode()
        assert not out.exists()


def test_a_session_being_captured_cannot_be_deleted(store):
    """The defect this guards: `sessions delete` removed a session a capture was recording (exit 0), and the
    capture's acknowledged data was gone."""
    from test_capture_cli import Capture, trace_request

    capture = Capture(store, "--session", "live")
    try:
        resp, _ = capture.post("/v1/traces", trace_request(3, 1).SerializeToString())
        assert resp.status == 200
        proc = otelrr("sessions", "delete", "live", store=store, check=False)
        assert proc.returncode == 1
        assert "session live is being written" in proc.stderr.decode(), proc.stderr
        resp, _ = capture.post("/v1/traces", trace_request(3, 2).SerializeToString())
        assert resp.status == 200
        summary = capture.stop()
    finally:
        if capture.proc.poll() is None:
            capture.proc.kill()
    assert summary["status"] == "completed" and summary["spans"] == 6
    otelrr("sessions", "verify", "live", store=store)
    otelrr("sessions", "delete", "live", store=store)


# Retention: expiresAt, `sessions keep` and `sessions prune` (session/retention.h; docs/CONCEPTS.md).

def utc(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def days_ago(days):
    """An RFC 3339 time `days` days before now, to the second."""
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_session(store, session, age_days, *args):
    otelrr("seed", "--preset", "quick", "--seed", "5", "--session-id", session, "--start-time", days_ago(age_days),
           *args, store=store)


def metadata(store, session):
    return json.loads(otelrr("sessions", "show", session, store=store).stdout)


def edit_metadata(store, session, **fields):
    """Changes fields of a session's metadata.json as another program could (the format is documented)."""
    path = store / "sessions" / session / "metadata.json"
    m = json.loads(path.read_text())
    m.update(fields)
    # Atomically, as otelrr writes it: a scheduled retention may read it at any moment (test_serve_cli).
    tmp = path.with_name(".edit-metadata.json")
    tmp.write_text(json.dumps(m, indent=2) + "\n")
    os.replace(tmp, path)


def snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def prune(store, *args, check=True):
    proc = otelrr("sessions", "prune", *args, "--json", store=store, check=check)
    return proc, json.loads(proc.stdout)


def actions(report):
    return [(s["sessionId"], s["action"], s["reason"]) for s in report["sessions"]]


def byte_size(n):
    """FormatByteSize: the shortest exact form, decimal units before binary ones."""
    units = [("B", 1), ("KB", 10**3), ("MB", 10**6), ("GB", 10**9), ("TB", 10**12), ("KiB", 2**10), ("MiB", 2**20),
             ("GiB", 2**30), ("TiB", 2**40)]
    best = units[0]
    for unit in units:
        if n and n % unit[1] == 0 and n // unit[1] < n // best[1]:
            best = unit
    return f"{n // best[1]}{best[0]}"


def test_retention_days_at_creation_and_keep_change_expires_at(store):
    nextjs = str(TESTDATA / "traces" / "highlight_nextjs.json")
    otelrr("sessions", "import", nextjs, "--session", "imp", "--retention-days", "30", store=store)
    m = metadata(store, "imp")
    assert utc(m["expiresAt"]) - utc(m["startTime"]) == datetime.timedelta(days=30)
    # A seed counts from when it is made, not from its simulated start.
    otelrr("seed", "--preset", "quick", "--session-id", "sd", "--retention-days", "7", store=store)
    m = metadata(store, "sd")
    assert utc(m["expiresAt"]) - utc(m["startTime"]) == datetime.timedelta(days=7)
    seed_session(store, "old-seed", 400, "--retention-days", "1")
    assert utc(metadata(store, "old-seed")["expiresAt"]) > datetime.datetime.now(datetime.timezone.utc)
    seed_session(store, "plain", 1)
    assert "expiresAt" not in metadata(store, "plain")
    from test_capture_cli import Capture
    capture = Capture(store, "--session", "cap", "--retention-days", "2")
    assert capture.stop()["status"] == "completed"
    m = metadata(store, "cap")
    assert utc(m["expiresAt"]) - utc(m["startTime"]) == datetime.timedelta(days=2)

    keep = otelrr("sessions", "keep", "imp", "--forever", store=store)
    assert keep.stdout.decode() == \
        "session imp is kept forever: no retention policy removes it ('otelrr sessions delete' still does)\n"
    assert metadata(store, "imp")["expiresAt"] == "never"
    before = datetime.datetime.now(datetime.timezone.utc)
    kept = json.loads(otelrr("sessions", "keep", "imp", "--days", "3", "--json", store=store).stdout)
    after = datetime.datetime.now(datetime.timezone.utc)
    assert set(kept) == {"sessionId", "expiresAt"} and kept["sessionId"] == "imp"
    expires = utc(kept["expiresAt"])
    assert before + datetime.timedelta(days=3, milliseconds=-1) <= expires <= after + datetime.timedelta(days=3)
    assert metadata(store, "imp")["expiresAt"] == kept["expiresAt"]
    plain = metadata(store, "plain")
    text = otelrr("sessions", "keep", "plain", "--days", "1", store=store).stdout.decode()
    assert re.fullmatch(r"session plain expires at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(1 day from now\)\n", text)
    # The rest of metadata.json is untouched, and the session is still intact.
    assert {k: v for k, v in metadata(store, "plain").items() if k != "expiresAt"} == plain
    otelrr("sessions", "verify", "plain", store=store)

    for args, code, message in (
            (["keep", "imp"], 2, "otelrr: give either --days N (the session expires N days from now) or --forever (it "
                                 "never expires) (run with --help for usage)\n"),
            (["keep", "imp", "--days", "2", "--forever"], 2, None),
            (["keep", "imp", "--days", "0"], 2, "otelrr: --days: Value 0 not in range 1 to 36500 (run with --help for "
                                                "usage)\n"),
            (["keep", "nope", "--forever"], 1, f"otelrr: session nope does not exist (store: {store})\n"),
            (["import", nextjs, "--session", "x", "--retention-days", "36501"], 2, None)):
        proc = otelrr("sessions", *args, store=store, check=False)
        assert proc.returncode == code, (args, proc.stderr)
        if message:
            assert proc.stderr.decode() == message, args
    assert otelrr("sessions", "show", "x", store=store, check=False).returncode == 1


def test_prune_removes_what_expired_and_what_the_age_and_count_rules_do_not_keep(store):
    for session, age in (("a", 60), ("b", 45), ("c", 40), ("d", 20), ("e", 10), ("f", 1)):
        seed_session(store, session, age)
    otelrr("sessions", "keep", "b", "--forever", store=store)
    otelrr("sessions", "keep", "e", "--days", "5", store=store)
    expired = days_ago(1).replace("Z", ".000Z")
    edit_metadata(store, "e", expiresAt=expired)  # as if five days had passed
    before = snapshot(store)

    expected = [("a", "deleted", "older than 30d and not one of the 2 newest"),
                ("b", "kept", "kept forever (expiresAt never)"),
                ("c", "deleted", "older than 30d and not one of the 2 newest"),
                ("d", "kept", "one of the 2 newest"),
                ("e", "deleted", f"expired at {expired}"),
                ("f", "kept", "one of the 2 newest")]
    _, dry = prune(store, "--older-than", "30d", "--keep-last", "2", "--dry-run")
    assert dry["dryRun"] is True and actions(dry) == expected
    assert dry["policy"] == {"olderThan": "30d", "keepLast": 2}
    assert snapshot(store) == before  # a dry run changes nothing
    text = otelrr("sessions", "prune", "--older-than", "30d", "--keep-last", "2", "--dry-run", store=store)
    lines = text.stdout.decode().splitlines()
    assert lines[0].split() == ["SESSION", "STARTED", "(UTC)", "SIZE", "ACTION", "REASON"]
    assert [" ".join(line.split()[:1] + line.split()[5:7]) for line in lines[1:7]] == [
        "a would delete", "b kept kept", "c would delete", "d kept one", "e would delete", "f kept one"]
    assert lines[7].startswith("dry run, nothing changed: would delete 3, archive 0; keeps 3, skips 0, fails 0;")
    assert snapshot(store) == before

    proc, report = prune(store, "--older-than", "30d", "--keep-last", "2")
    assert proc.returncode == 0 and report["dryRun"] is False and actions(report) == expected
    assert [report[k] for k in ("deleted", "archived", "kept", "skipped", "failed")] == [3, 0, 3, 0, 0]
    sizes = {s: metadata(store, s)["totalSizeBytes"] for s in ("b", "d", "f")}
    assert report["bytesAfter"] == sum(sizes.values())
    assert [m["sessionId"] for m in json.loads(otelrr("sessions", "list", "--json", store=store).stdout)] == \
        ["b", "d", "f"]
    assert not (store / "sessions" / "a").exists()
    # Without a rule, only what expired goes; an explicit delete removes a session kept forever.
    _, report = prune(store)
    assert actions(report) == [("b", "kept", "kept forever (expiresAt never)"), ("d", "kept", "no rule removes it"),
                                ("f", "kept", "no rule removes it")]
    otelrr("sessions", "delete", "b", store=store)


def test_prune_to_a_total_size_removes_the_oldest_first(store):
    for session, age in (("a", 4), ("b", 3), ("c", 2), ("d", 1)):
        seed_session(store, session, age)
    sizes = {m["sessionId"]: m["totalSizeBytes"] for m in json.loads(otelrr("sessions", "list", "--json",
                                                                             store=store).stdout)}
    _, report = prune(store, "--max-total-size", "1GiB")
    assert report["deleted"] == 0 and report["bytesBefore"] == report["bytesAfter"] == sum(sizes.values())
    otelrr("sessions", "keep", "a", "--days", "1", store=store)  # protected: it stays, and counts
    limit = sizes["a"] + sizes["d"]
    reason = f"over the size limit of {byte_size(limit)}: the oldest go first"
    _, report = prune(store, "--max-total-size", f"{limit}B")
    assert actions(report)[1:] == [("b", "deleted", reason), ("c", "deleted", reason),
                                   ("d", "kept", "no rule removes it")]
    assert actions(report)[0][:2] == ("a", "kept")
    assert report["policy"] == {"maxTotalSize": byte_size(limit)}
    assert (report["bytesBefore"], report["bytesAfter"]) == (sum(sizes.values()), limit)
    # --type: only seeds are looked at; an import (a capture) is not even listed.
    otelrr("sessions", "import", str(TESTDATA / "traces" / "highlight_nextjs.json"), "--session", "imp", store=store)
    _, report = prune(store, "--max-total-size", "1B", "--type", "seed")
    assert [s["sessionId"] for s in report["sessions"]] == ["a", "d"]
    assert actions(report)[1] == ("d", "deleted", "over the size limit of 1B: the oldest go first")
    assert [m["sessionId"] for m in json.loads(otelrr("sessions", "list", "--json", store=store).stdout)] == \
        ["a", "imp"]


def test_prune_never_touches_a_session_being_written_locked_or_active_nor_anything_outside_sessions(store, tmp_path):
    from test_capture_cli import Capture, trace_request

    capture = Capture(store, "--session", "live")
    try:
        resp, _ = capture.post("/v1/traces", trace_request(3, 1).SerializeToString())
        assert resp.status == 200
        seed_session(store, "old-locked", 60)
        seed_session(store, "old-active", 50)
        edit_metadata(store, "old-active", status="active")  # its writer died; nothing recovered it yet
        for path, body in (("notes.txt", b"mine"), ("sessions-old/x/metadata.json", b"{}"),
                           ("sessions/stray/readme.txt", b"not a session")):
            (store / path).parent.mkdir(parents=True, exist_ok=True)
            (store / path).write_bytes(body)
        outside = {k: v for k, v in snapshot(store).items() if not k.startswith("sessions/") or "stray" in k}
        # Another process holds old-locked's lock (docs/FORMAT.md: a flock on this file).
        lock_file = open(store / "sessions" / "old-locked" / ".otelrr-lock-writer", "w")
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        time.sleep(1.1)  # so that "live" started more than 1s ago

        proc, report = prune(store, "--older-than", "1s")
        assert proc.returncode == 0, proc.stderr
        assert actions(report) == [
            ("old-locked", "skipped", "locked: being written or changed by another process"),
            ("old-active", "skipped", "still active, but nothing writes it: its writer died; a capture, seed or "
                                      "replay on this store recovers it"),
            ("live", "skipped", "being written (active, its lock is held)")]
        assert len(report["problems"]) == 1 and report["problems"][0].startswith("session stray: ")
        assert "otelrr: warning: session stray: " in proc.stderr.decode()
        keep = otelrr("sessions", "keep", "live", "--days", "1", store=store, check=False)
        assert keep.returncode == 1
        assert keep.stderr.decode() == \
            "otelrr: session live is being written: change its expiry once its writer has finished\n"
        keep = otelrr("sessions", "keep", "old-active", "--days", "1", store=store, check=False)
        assert keep.returncode == 1 and "session old-active is still active" in keep.stderr.decode()
        resp, _ = capture.post("/v1/traces", trace_request(3, 2).SerializeToString())
        assert resp.status == 200  # the capture goes on
        summary = capture.stop()
    finally:
        if capture.proc.poll() is None:
            capture.proc.kill()
    assert summary["status"] == "completed" and summary["spans"] == 6
    assert metadata(store, "old-active")["status"] == "active"  # prune recovers nothing
    fcntl.flock(lock_file, fcntl.LOCK_UN)
    lock_file.close()
    _, report = prune(store, "--older-than", "1s")
    assert [(s, a) for s, a, _ in actions(report)] == [("old-locked", "deleted"), ("old-active", "skipped"),
                                                      ("live", "deleted")]
    assert {k: v for k, v in snapshot(store).items() if k in outside} == outside


def test_prune_archive_moves_sessions_into_another_store(store, tmp_path):
    archive = tmp_path / "archive"
    seed_session(store, "old", 40)
    seed_session(store, "young", 1)
    exported = otelrr("sessions", "export", "old", store=store).stdout
    files = {k: v for k, v in snapshot(store / "sessions" / "old").items() if not k.startswith(".otelrr")}
    # A dry run does not create the archive.
    _, report = prune(store, "--older-than", "30d", "--archive-to", str(archive), "--dry-run")
    assert actions(report) == [("old", "archived", "older than 30d"), ("young", "kept", "within 30d")]
    assert not archive.exists()

    proc, report = prune(store, "--older-than", "30d", "--archive-to", str(archive))
    assert proc.returncode == 0, proc.stderr
    assert actions(report) == [("old", "archived", "older than 30d"), ("young", "kept", "within 30d")]
    assert report["policy"] == {"olderThan": "30d", "archiveTo": str(archive)}
    assert not (store / "sessions" / "old").exists()
    assert snapshot(archive / "sessions" / "old") == files  # byte for byte, metadata.json too
    assert json.loads(otelrr("sessions", "verify", "old", "--json", store=archive).stdout)["ok"]
    assert otelrr("sessions", "export", "old", store=archive).stdout == exported

    # The archive holds that id already: the removal fails (exit 1), and the session stays here.
    seed_session(store, "old", 40)
    proc, report = prune(store, "--older-than", "30d", "--archive-to", str(archive), check=False)
    assert proc.returncode == 1 and report["failed"] == 1
    reason = (f"not archived to {archive} (older than 30d): session old already exists in {archive}: delete it "
              f"there first")
    assert actions(report)[0] == ("old", "failed", reason)
    assert proc.stderr.decode() == f"otelrr: session old: {reason}\n"
    assert metadata(store, "old")["status"] == "completed"
    same = otelrr("sessions", "prune", "--archive-to", str(store), store=store, check=False)
    assert same.returncode == 2
    assert same.stderr.decode() == \
        "otelrr: --archive-to is the store itself: archive into another store (run with --help for usage)\n"


def test_prune_usage_errors_and_a_store_that_does_not_exist(tmp_path):
    missing = tmp_path / "none"
    proc = otelrr("sessions", "prune", "--older-than", "30d", store=missing)
    assert proc.stdout.decode() == f"no sessions in {missing} (the store does not exist yet)\n"
    _, report = prune(missing)
    assert report["sessions"] == [] and report["deleted"] == 0
    assert not missing.exists()
    for args, message in (
            (["--older-than", "30x"], '--older-than: "30x" is not a duration: use a whole number and a unit, ms, s, '
                                      'm, h or d (24 hours), such as 30d, 12h, 90m or 500ms'),
            (["--older-than", "0d"], "--older-than 0 would remove every session: give a positive age"),
            (["--keep-last", "0"], "--keep-last '0' is not allowed: give how many of the newest sessions to keep, at "
                                   "least 1"),
            (["--max-total-size", "5XB"], '--max-total-size: "5XB" is not a size: use a whole number and a unit, B, '
                                          'KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), '
                                          'such as 50GB or 500MiB')):
        proc = otelrr("sessions", "prune", *args, store=missing, check=False)
        assert proc.returncode == 2, args
        assert proc.stderr.decode() == f"otelrr: {message} (run with --help for usage)\n", args
    help_text = subprocess.run([binary(), "sessions", "prune", "--help"], capture_output=True).stdout.decode()
    for needle in ("expiresAt has passed is removed", "powers of 1000", "powers of 1024", "--archive-to",
                   "Exits 0 when the policy ran"):
        assert needle in help_text, needle
