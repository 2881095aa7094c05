"""otelrr seed end to end: generate a session, verify it, export it, and decode the export with the official
opentelemetry-proto reference to check what a backend would see: semantic-convention attributes, a SERVER
span in the callee for every CLIENT span to an instrumented service, children inside their parents, RED
metrics that add up to the spans, logs that point at spans. Invalid flags must fail with exit 2 (usage) and
a message naming the value; Ctrl-C stops a seed with exit 130 and leaves a consistent, failed session.

ctest sets OTELRR_BIN to the otelrr binary. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_seed_cli.py
"""

import base64
import collections
import json
import os
import pathlib
import subprocess

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

REPO = pathlib.Path(__file__).resolve().parents[2]
REQUEST = {
    "resourceSpans": trace_service_pb2.ExportTraceServiceRequest,
    "resourceMetrics": metrics_service_pb2.ExportMetricsServiceRequest,
    "resourceLogs": logs_service_pb2.ExportLogsServiceRequest,
}
ID_KEYS = {"traceId", "spanId", "parentSpanId"}
KIND = trace_pb2.Span.SpanKind
APPLICATIONS = {"frontend", "backend", "worker"}  # basic-topology's instrumented services


def binary() -> str:
    path = os.environ.get("OTELRR_BIN", str(REPO / "build" / "otelrr"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not an executable: build otelrr first (scripts/build)")
    return path


def otelrr(*args, store, check=True):
    proc = subprocess.run([binary(), *args, "--store", str(store)], capture_output=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"otelrr {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}")
    return proc


def hex_ids_to_base64(node):
    if isinstance(node, dict):
        return {k: base64.b64encode(bytes.fromhex(v)).decode() if k in ID_KEYS and isinstance(v, str)
                else hex_ids_to_base64(v) for k, v in node.items()}
    if isinstance(node, list):
        return [hex_ids_to_base64(v) for v in node]
    return node


def attrs(kvs):
    out = {}
    for kv in kvs:
        v = kv.value
        out[kv.key] = v.string_value if v.HasField("string_value") else v.int_value if v.HasField("int_value") else None
    return out


def decode_session(store, session_id):
    """The exported session decoded by the reference: (spans, metric points, logs) with their resources."""
    out = otelrr("sessions", "export", session_id, store=store).stdout
    spans, points, logs = [], [], []
    for line in out.splitlines():
        doc = json.loads(line)
        key = next(k for k in doc if k in REQUEST)
        msg = REQUEST[key]()
        json_format.ParseDict(hex_ids_to_base64(doc), msg)
        if key == "resourceSpans":
            for rs in msg.resource_spans:
                res = attrs(rs.resource.attributes)
                for ss in rs.scope_spans:
                    assert ss.scope.name
                    spans.extend((res, s) for s in ss.spans)
        elif key == "resourceMetrics":
            for rm in msg.resource_metrics:
                res = attrs(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        data = m.histogram.data_points if m.HasField("histogram") else m.sum.data_points
                        points.extend((res, m, p) for p in data)
        else:
            for rl in msg.resource_logs:
                res = attrs(rl.resource.attributes)
                for sl in rl.scope_logs:
                    logs.extend((res, r) for r in sl.log_records)
    return spans, points, logs


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


def test_quick_preset_is_valid_realistic_otlp(store):
    result = json.loads(otelrr("seed", "--preset", "quick", "--seed", "7", "--json", store=store).stdout)
    assert set(result) >= {"sessionId", "traces", "spans", "dataPoints", "logRecords", "storage", "durationSeconds",
                           "phases"}
    assert result["traces"] == 100
    assert result["durationSeconds"] == 10
    assert result["phases"] == []
    assert result["storage"].endswith(f"sessions/{result['sessionId']}/")
    sid = result["sessionId"]
    verify = json.loads(otelrr("sessions", "verify", sid, "--json", store=store).stdout)
    assert verify["ok"] and verify["traces"] == 100 and verify["spans"] == result["spans"]

    spans, points, logs = decode_session(store, sid)
    assert len(spans) == result["spans"]
    assert len(points) == result["dataPoints"]
    assert len(logs) == result["logRecords"]
    assert len({s.trace_id for _, s in spans}) == 100

    for res, _ in spans:
        for key in ("service.name", "service.version", "service.instance.id", "deployment.environment.name",
                    "host.name", "telemetry.sdk.language", "telemetry.sdk.version"):
            assert res.get(key), key
        assert res["telemetry.sdk.name"] == "opentelemetry"
        assert res["service.name"] in APPLICATIONS

    by_id = {(s.trace_id, s.span_id): (res, s) for res, s in spans}
    server_children = collections.Counter()
    for res, s in spans:
        a = attrs(s.attributes)
        assert s.start_time_unix_nano < s.end_time_unix_nano
        if s.kind == KIND.SPAN_KIND_SERVER:
            assert "http.route" in a or a.get("rpc.system") == "grpc"
            if "http.route" in a:
                assert a["http.request.method"] and a["url.path"] and a["http.response.status_code"] >= 200
            else:
                assert a["rpc.service"] and a["rpc.method"] and "rpc.grpc.status_code" in a
        if s.kind == KIND.SPAN_KIND_CLIENT and "db.system.name" in a:
            assert a["db.system.name"] in {"postgresql", "redis"}
            assert a["server.address"]
        if s.kind == KIND.SPAN_KIND_PRODUCER:
            assert a["messaging.system"] == "kafka" and a["messaging.destination.name"]
            assert a["messaging.operation.type"] == "send"
        if not s.parent_span_id:
            continue
        pres, parent = by_id[(s.trace_id, s.parent_span_id)]
        if s.kind == KIND.SPAN_KIND_CONSUMER:
            assert parent.kind == KIND.SPAN_KIND_PRODUCER and s.start_time_unix_nano >= parent.end_time_unix_nano
            continue
        assert parent.start_time_unix_nano <= s.start_time_unix_nano
        assert s.end_time_unix_nano <= parent.end_time_unix_nano
        if s.kind == KIND.SPAN_KIND_SERVER:
            assert parent.kind == KIND.SPAN_KIND_CLIENT
            assert pres["service.name"] != res["service.name"]
            server_children[(s.trace_id, s.parent_span_id)] += 1
    for res, s in spans:
        if s.kind == KIND.SPAN_KIND_CLIENT:
            a = attrs(s.attributes)
            expected = 0 if "db.system.name" in a else 1
            assert server_children[(s.trace_id, s.span_id)] == expected, s.name

    # Failures: an exception event where they start, ERROR all the way up.
    for res, s in spans:
        for e in s.events:
            assert e.name == "exception"
            ea = attrs(e.attributes)
            assert ea["exception.type"] and ea["exception.message"] and ea["exception.stacktrace"]
            assert s.status.code == trace_pb2.Status.STATUS_CODE_ERROR
            cur = s
            while cur.parent_span_id and cur.kind != KIND.SPAN_KIND_CONSUMER:
                cur = by_id[(cur.trace_id, cur.parent_span_id)][1]
                assert cur.status.code == trace_pb2.Status.STATUS_CODE_ERROR

    # RED metrics: the final cumulative counters equal the SERVER spans of each instance.
    servers = collections.Counter(res["service.instance.id"] for res, s in spans if s.kind == KIND.SPAN_KIND_SERVER)
    final = {}
    for res, m, p in points:
        assert p.start_time_unix_nano > 0 and p.time_unix_nano > p.start_time_unix_nano
        if m.name.endswith("request.count"):
            key = (res["service.instance.id"], m.name, tuple(sorted(attrs(p.attributes).items())))
            if key not in final or final[key][0] <= p.time_unix_nano:
                final[key] = (p.time_unix_nano, p.as_int)
        else:
            assert m.unit == "s" and m.name in {"http.server.request.duration", "rpc.server.call.duration"}
            assert list(p.explicit_bounds) == [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
            assert sum(p.bucket_counts) == p.count
            for ex in p.exemplars:
                assert (ex.trace_id, ex.span_id) in by_id
    totals = collections.Counter()
    for (instance, _, _), (_, value) in final.items():
        totals[instance] += value
    assert totals == servers

    for res, r in logs:
        assert (r.trace_id, r.span_id) in by_id
        assert r.severity_text in {"INFO", "ERROR"}


def test_same_seed_and_start_time_give_identical_raw_files(store):
    args = ["seed", "--preset", "quick", "--seed", "42", "--start-time", "2026-01-01T00:00:00Z", "--json"]
    a = json.loads(otelrr(*args, "--session-id", "a", store=store).stdout)
    b = json.loads(otelrr(*args, "--session-id", "b", store=store).stdout)
    assert a["spans"] == b["spans"]
    files_a = {p.relative_to(store / "sessions/a"): p.read_bytes() for p in (store / "sessions/a/raw").rglob("*.otlp*")}
    files_b = {p.relative_to(store / "sessions/b"): p.read_bytes() for p in (store / "sessions/b/raw").rglob("*.otlp*")}
    assert files_a and files_a == files_b


def test_payment_failure_phases(store):
    result = json.loads(otelrr("seed", "--pattern", "payment-failure", "--duration", "30", "--seed", "3", "--json",
                               store=store).stdout)
    assert result["traces"] == 300
    assert [p["name"] for p in result["phases"]] == ["startup", "failure", "rampdown"]
    assert [p["durationSeconds"] for p in result["phases"]] == [10, 10, 10]
    assert result["phases"][1]["flags"] == ["paymentServiceFailure"]
    assert result["phases"][0]["errorTraces"] == 0 and result["phases"][2]["errorTraces"] == 0
    meta = json.loads(otelrr("sessions", "show", result["sessionId"], store=store).stdout)
    assert meta["sessionType"] == "seed"
    assert [p["name"] for p in meta["phases"]] == ["startup", "failure", "rampdown"]
    lines = (store / "sessions" / result["sessionId"] / "annotations.jsonl").read_text().splitlines()
    keys = [json.loads(line)["annotationKey"] for line in lines]
    assert keys == ["test.phase.startup", "test.phase.failure", "test.phase.rampdown"]
    value = json.loads(json.loads(lines[1])["annotationValue"])
    assert value["sessionId"] == result["sessionId"] and value["phase"] == "failure"


@pytest.mark.parametrize("args,named", [
    (["--rate", "-1"], "rate -1"),
    (["--rate", "0"], "rate 0"),
    (["--duration", "0"], "duration 0"),
    (["--error-rate", "1.5"], "error rate 1.5"),
    (["--rate", "0.7", "--duration", "3"], "whole number"),
    (["--pattern", "no-such-pattern"], "no-such-pattern"),
    (["--start-time", "yesterday"], "yesterday"),
    # CLI11 would wrap these around to 18446744073709551615.
    (["--seed", "-1"], "--seed '-1' is not a whole number from 0 to 18446744073709551615"),
    (["--seed", "99999999999999999999999"], "--seed 99999999999999999999999 is too large"),
    (["--session-id", ""], "--session-id is empty"),
    (["--endpoint", "http://127.0.0.1:4318"], "--endpoint is for --live"),
    (["--live", "--endpoint", "http://127.0.0.1:99999"], "port 99999 is out of range"),
])
def test_invalid_flags_fail_with_a_message_naming_the_value(store, args, named):
    proc = otelrr("seed", *args, store=store, check=False)
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.decode()
    assert err.startswith("otelrr: ") and named in err, err
    assert not (store / "sessions").exists() or not any((store / "sessions").iterdir())


def test_ctrl_c_stops_a_seed_and_leaves_a_consistent_failed_session(store):
    """The defect this guards: Ctrl-C left the session "active" with files missing from its index and a stale
    lock, and a replay of it showed "65/0 records"."""
    import signal
    import time

    proc = subprocess.Popen([binary(), "seed", "--session-id", "big", "--rate", "2000", "--duration", "3600",
                             "--store", str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    meta_path = store / "sessions" / "big" / "metadata.json"
    deadline = time.time() + 30
    while not meta_path.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # well into the generation
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped by a signal" in err.decode() and "interrupted" in err.decode(), err
    meta = json.loads(meta_path.read_text())
    assert meta["status"] == "failed" and meta["statusReason"] == "interrupted"
    assert meta["counts"]["spans"] > 0 and meta["files"], meta
    # The index is complete and consistent: verify passes, and a replay knows its total.
    otelrr("sessions", "verify", "big", store=store)
    listed = json.loads(otelrr("sessions", "list", "--json", store=store).stdout)
    assert [m["status"] for m in listed] == ["failed"]
    # Nothing is locked: the session can be deleted.
    otelrr("sessions", "delete", "big", store=store)
