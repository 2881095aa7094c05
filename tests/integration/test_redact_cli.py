"""Redaction at capture (`otelrr capture --redact`): secrets sent over OTLP/HTTP (protobuf and JSON) and
OTLP/gRPC in every place a rule reaches (resource, scope, span, event, link, data point, exemplar and log
attributes, log bodies) never reach the disk, in raw files of any codec or in the spool; what the rules did is
counted in metadata.json; the session stays valid; the forwarded copy is untouched unless --redact-forward.
Bad rules and keys are usage errors (exit 2) that say what to write instead."""

import json
import pathlib
import subprocess

import grpc
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from test_capture_cli import SERVICES, binary, capture, sessions  # noqa: F401 (capture: a fixture)
from test_replay_cli import messages

KEY = "a secret key for the hashes, 32B"
SECRETS = ["alice@example.org", "hunter2-password", "tok-9f8e7d", "4111-1111-1111-1111", "scope-secret-v",
           "exemplar-secret"]
RULES = ["--redact", "hash:user.email", "--redact", "drop:password", "--redact", "replace:auth.*=[gone]",
         "--redact", r"body:\d{4}-\d{4}-\d{4}-\d{4}", "--redact", "drop:scope.secret", "--redact", "drop:ex.*"]


def kv(attrs, key, value):
    a = attrs.add()
    a.key = key
    a.value.string_value = value


def traces():
    req = trace_service_pb2.ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv(rs.resource.attributes, "service.name", "shop")
    kv(rs.resource.attributes, "auth.token", "tok-9f8e7d")
    ss = rs.scope_spans.add()
    ss.scope.name = "lib"
    kv(ss.scope.attributes, "scope.secret", "scope-secret-v")
    span = ss.spans.add()
    span.trace_id, span.span_id, span.name = bytes(range(1, 17)), bytes(range(1, 9)), "checkout"
    span.start_time_unix_nano, span.end_time_unix_nano = 1_767_225_600_000_000_000, 1_767_225_600_000_001_000
    kv(span.attributes, "user.email", "alice@example.org")
    kv(span.attributes, "http.route", "/checkout")
    event = span.events.add()
    event.name = "login"
    kv(event.attributes, "password", "hunter2-password")
    link = span.links.add()
    link.trace_id, link.span_id = bytes(range(2, 18)), bytes(range(2, 10))
    kv(link.attributes, "auth.header", "tok-9f8e7d")
    return req


def metrics():
    req = metrics_service_pb2.ExportMetricsServiceRequest()
    m = req.resource_metrics.add().scope_metrics.add().metrics.add()
    m.name = "orders"
    p = m.sum.data_points.add()
    p.as_int, p.time_unix_nano = 3, 1_767_225_600_000_000_000
    kv(p.attributes, "user.email", "alice@example.org")
    e = p.exemplars.add()
    e.as_int = 1
    kv(e.filtered_attributes, "ex.card", "exemplar-secret")
    return req


def logs():
    req = logs_service_pb2.ExportLogsServiceRequest()
    r = req.resource_logs.add().scope_logs.add().log_records.add()
    r.time_unix_nano = 1_767_225_600_000_000_000
    r.body.string_value = "payment with card 4111-1111-1111-1111 declined"
    kv(r.attributes, "password", "hunter2-password")
    return req


def send_all(c):
    """Each signal over OTLP/HTTP protobuf, OTLP/HTTP JSON and OTLP/gRPC, to the capture c."""
    for path, req in (("/v1/traces", traces()), ("/v1/metrics", metrics()), ("/v1/logs", logs())):
        resp, data = c.post(path, req.SerializeToString())
        assert resp.status == 200, data
        resp, data = c.post(path, json_format.MessageToJson(req).encode(), "application/json")
        assert resp.status == 200, data
    with grpc.insecure_channel(c.grpc) as channel:
        for signal, req in (("traces", traces()), ("metrics", metrics()), ("logs", logs())):
            method, request_type, response_type = SERVICES[signal]
            channel.unary_unary(method, request_serializer=lambda m: m.SerializeToString(),
                                response_deserializer=response_type.FromString)(req, timeout=30)


def all_bytes(root):
    """Every file under root, raw and, for zstd files, decompressed too."""
    out = b""
    for f in pathlib.Path(root).rglob("*"):
        if f.is_file():
            out += f.read_bytes()
            if f.name.endswith(".zst"):
                out += subprocess.run(["zstd", "-dc", str(f)], capture_output=True, check=True).stdout
    return out


@pytest.mark.parametrize("compression", ["none", "zstd"])
def test_no_redacted_value_reaches_disk(tmp_path, capture, compression, monkeypatch):
    monkeypatch.setenv("OTELRR_REDACT_KEY", KEY)
    c = capture("--session", "red", "--compression", compression, *RULES)
    send_all(c)
    summary = c.stop()
    assert c.returncode == 0, c.stderr
    assert (summary["spans"], summary["dataPoints"], summary["logRecords"]) == (3, 3, 3)
    stored = all_bytes(tmp_path / "store")
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
    meta = json.loads((tmp_path / "store" / "sessions" / "red" / "metadata.json").read_text())
    # Per request: traces hash 1, drop 2 (scope.secret, the event's password), replace 2 (auth.token,
    # auth.header); metrics hash 1, drop 1 (ex.card); logs drop 1 (password), 1 body. Three of each request.
    assert meta["redaction"] == {"rules": [r for r in RULES if r != "--redact"], "attributesDropped": 12,
                                 "attributesHashed": 6, "attributesReplaced": 6, "bodiesMasked": 3,
                                 "forwardRedacted": False}
    sessions(tmp_path / "store", "verify", "red")
    got = messages(tmp_path / "store", "red")
    spans = [s for name, m in got if name == "traces" for rs in m.resource_spans for ss in rs.scope_spans
             for s in ss.spans]
    assert {a.key: a.value.string_value for a in spans[0].attributes}["http.route"] == "/checkout"
    hashed = {a.value.string_value for s in spans for a in s.attributes if a.key == "user.email"}
    assert len(hashed) == 1 and next(iter(hashed)).startswith("hmac:")  # one value, one hash, over every transport
    bodies = {r.body.string_value for name, m in got if name == "logs" for rl in m.resource_logs
              for sl in rl.scope_logs for r in sl.log_records}
    assert bodies == {"payment with card **** declined"}


@pytest.mark.parametrize("redact_forward", [False, True])
def test_forwarded_copy_is_untouched_unless_redact_forward(tmp_path, capture, redact_forward):
    downstream = capture("--session", "down", store="down")
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    tee = capture("--session", "tee", "--forward", f"http://{downstream.http}", "--redact-key-file", str(key_file),
                  *RULES, *(["--redact-forward"] if redact_forward else []), store="tee")
    send_all(tee)
    assert tee.stop()["spans"] == 3 and tee.returncode == 0, tee.stderr
    assert downstream.stop()["spans"] == 3
    for secret in SECRETS:
        assert secret.encode() not in all_bytes(tmp_path / "tee"), secret
    down = b"".join(m.SerializeToString() for _, m in messages(tmp_path / "down", "down"))
    for secret in SECRETS:
        assert (secret.encode() in down) == (not redact_forward), secret
    meta = json.loads((tmp_path / "tee" / "sessions" / "tee" / "metadata.json").read_text())
    assert meta["redaction"]["forwardRedacted"] == redact_forward


@pytest.mark.parametrize("args,message", [
    (["--redact", "erase:x"], "unknown action 'erase'"),
    (["--redact", "replace:token"], "replace needs KEY=VALUE"),
    (["--redact", "body:("], "does not compile"),
    (["--redact", "hash:user.*"], "hash: rules need a key"),
    (["--redact-forward"], "--redact-forward needs --redact"),
    (["--redact", "drop:x", "--redact-forward"], "--redact-forward needs --forward"),
    (["--redact", "hash:x", "--redact-key-file", "/nonexistent/key"], "--redact-key-file /nonexistent/key: cannot open"),
    (["--redact", "hash:x", "--redact-key-file", "/tmp"], "--redact-key-file /tmp: read error: Is a directory"),
])
def test_bad_redaction_flags_are_usage_errors(tmp_path, args, message, monkeypatch):
    monkeypatch.delenv("OTELRR_REDACT_KEY", raising=False)
    proc = subprocess.run([binary(), "capture", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--store",
                           str(tmp_path / "s"), *args], capture_output=True, timeout=60)
    assert proc.returncode == 2, proc.stderr.decode()
    assert message in proc.stderr.decode()
    assert not (tmp_path / "s" / "sessions").exists()
