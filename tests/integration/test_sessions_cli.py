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
import gzip
import json
import os
import pathlib
import re
import struct
import subprocess

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

REPO = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = REPO.parent / "shared" / "testdata" / "otlp"
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
    raw = next((store / "sessions" / "d" / "raw").rglob("*.otlp.gz"))
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
