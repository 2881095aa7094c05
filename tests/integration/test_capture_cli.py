"""otelrr capture end to end: a real `otelrr capture` process on loopback ports, fed over OTLP/HTTP
(protobuf and JSON, gzip or not), OTLP/gRPC (grpcio) and the OpenTelemetry Python SDK's exporters; the
recorded session exported and decoded with the opentelemetry-proto reference, request by request. Bad input
(malformed bodies, truncated gzip, gzip bombs, wrong types, oversized bodies, stalled clients, many
connections) gets the status the OTLP specification names and leaves the session intact.

ctest sets OTELRR_BIN to the otelrr binary. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_capture_cli.py
"""

import base64
import gzip
import http.client
import json
import os
import pathlib
import re
import resource
import signal
import socket
import subprocess
import threading
import time

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

REPO = pathlib.Path(__file__).resolve().parents[2]
READY = re.compile(r"recording session (\S+); OTLP/HTTP on (\S+), OTLP/gRPC on (\S+);")
SERVICES = {
    "traces": ("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
               trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
    "metrics": ("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
                metrics_service_pb2.ExportMetricsServiceRequest, metrics_service_pb2.ExportMetricsServiceResponse),
    "logs": ("/opentelemetry.proto.collector.logs.v1.LogsService/Export",
             logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
}


def binary() -> str:
    path = os.environ.get("OTELRR_BIN", str(REPO / "build" / "otelrr"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not an executable: build otelrr first (scripts/build)")
    return path


def trace_request(n_spans=3, trace_seed=1, service="checkout"):
    req = trace_service_pb2.ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key = "service.name"
    kv.value.string_value = service
    ss = rs.scope_spans.add()
    for i in range(n_spans):
        span = ss.spans.add()
        span.trace_id = trace_seed.to_bytes(16, "big")
        span.span_id = (i + 1).to_bytes(8, "big")
        span.name = f"span-{i}"
        span.start_time_unix_nano = 1_767_225_600_000_000_000 + i
        span.end_time_unix_nano = 1_767_225_600_000_000_000 + i + 1000
    return req


def metrics_request(points=2):
    req = metrics_service_pb2.ExportMetricsServiceRequest()
    m = req.resource_metrics.add().scope_metrics.add().metrics.add()
    m.name = "requests"
    for i in range(points):
        p = m.sum.data_points.add()
        p.as_int = i
        p.time_unix_nano = 1_767_225_600_000_000_000 + i
    return req


def logs_request(records=2):
    req = logs_service_pb2.ExportLogsServiceRequest()
    sl = req.resource_logs.add().scope_logs.add()
    for i in range(records):
        r = sl.log_records.add()
        r.body.string_value = f"log {i}"
        r.time_unix_nano = 1_767_225_600_000_000_000 + i
    return req


class Capture:
    """One `otelrr capture` process with its ports, stopped with SIGTERM."""

    def __init__(self, store, *args):
        self.store = store
        self.proc = subprocess.Popen(
            [binary(), "capture", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--store", str(store), "--json",
             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.early = ""  # what it printed before it was ready (recovery reports)
        while True:
            line = self.proc.stderr.readline().decode()
            m = READY.search(line)
            if m or not line:
                break
            self.early += line
        if not m:
            self.proc.kill()
            raise AssertionError(f"capture did not start: {self.early}{self.proc.stderr.read().decode()}")
        self.session, self.http, self.grpc = m.group(1), m.group(2), m.group(3)
        self.http_port = int(self.http.rsplit(":", 1)[1])
        self.summary = None

    def post(self, path, body, content_type="application/x-protobuf", headers=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        conn.request("POST", path, body=body, headers={"Content-Type": content_type, **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
        if own:
            conn.close()
        return resp, data

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=60)
        self.stderr = err.decode()
        self.returncode = self.proc.returncode
        self.summary = json.loads(out) if out.strip() else None
        return self.summary


@pytest.fixture
def capture(tmp_path):
    started = []

    def start(*args, store="store"):
        c = Capture(tmp_path / store, *args)
        started.append(c)
        return c

    yield start
    for c in started:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()


def sessions(store, *args):
    proc = subprocess.run([binary(), "sessions", *args, "--store", str(store)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


def hex_ids_to_base64(node):
    """OTLP/JSON ids are hex; the reference's ParseDict reads bytes as base64."""
    if isinstance(node, dict):
        return {k: base64.b64encode(bytes.fromhex(v)).decode() if k in ("traceId", "spanId", "parentSpanId")
                and isinstance(v, str) else hex_ids_to_base64(v) for k, v in node.items()}
    if isinstance(node, list):
        return [hex_ids_to_base64(v) for v in node]
    return node


def exported(store, session):
    """The session's requests, decoded by the reference, in arrival order: [(signal, message)]."""
    lines = sessions(store, "export", session, "--out", "-").decode().splitlines()
    out = []
    for line in lines:
        doc = hex_ids_to_base64(json.loads(line))
        for key, signal_name in (("resourceSpans", "traces"), ("resourceMetrics", "metrics"), ("resourceLogs", "logs")):
            if key in doc:
                msg = SERVICES[signal_name][1]()
                json_format.ParseDict(doc, msg)
                out.append((signal_name, msg))
    return out


def test_http_protobuf_json_and_gzip_are_recorded_exactly(capture):
    c = capture("--session", "http-1", "--description", "checkout", "--flags", "paymentServiceFailure")
    conn = http.client.HTTPConnection("127.0.0.1", c.http_port, timeout=30)  # one kept-alive connection
    sent = []
    for i in range(5):
        req = trace_request(n_spans=i + 1, trace_seed=i + 1)
        resp, data = c.post("/v1/traces", req.SerializeToString(), conn=conn)
        assert resp.status == 200
        assert resp.getheader("Content-Type") == "application/x-protobuf"
        assert trace_service_pb2.ExportTraceServiceResponse.FromString(data) == \
            trace_service_pb2.ExportTraceServiceResponse()
        sent.append(("traces", req))
    m = metrics_request(4)
    resp, data = c.post("/v1/metrics", json_format.MessageToJson(m), content_type="application/json", conn=conn)
    assert resp.status == 200 and resp.getheader("Content-Type") == "application/json"
    assert json.loads(data) == {}
    sent.append(("metrics", m))
    lg = logs_request(3)
    resp, _ = c.post("/v1/logs", gzip.compress(lg.SerializeToString()), headers={"Content-Encoding": "gzip"}, conn=conn)
    assert resp.status == 200
    sent.append(("logs", lg))
    conn.close()

    summary = c.stop()
    assert c.returncode == 0, c.stderr
    assert summary["sessionId"] == "http-1" and summary["status"] == "completed"
    assert (summary["traces"], summary["spans"], summary["dataPoints"], summary["logRecords"]) == (5, 15, 4, 3)
    assert summary["requests"] == 7
    assert exported(c.store, "http-1") == sent
    meta = json.loads(sessions(c.store, "show", "http-1", "--json"))
    assert meta["sessionType"] == "capture" and meta["status"] == "completed"
    assert meta["enabledFlags"] == ["paymentServiceFailure"] and meta["description"] == "checkout"
    verify = subprocess.run([binary(), "sessions", "verify", "http-1", "--store", str(c.store)], capture_output=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_grpc_with_and_without_gzip(capture):
    c = capture("--session", "grpc-1")
    sent = []
    with grpc.insecure_channel(c.grpc) as channel:
        for name, req in (("traces", trace_request(4, 9)), ("metrics", metrics_request(3)), ("logs", logs_request(2))):
            path, req_type, resp_type = SERVICES[name]
            call = channel.unary_unary(path, request_serializer=req_type.SerializeToString,
                                       response_deserializer=resp_type.FromString)
            assert call(req, timeout=10) == resp_type()
            assert call(req, timeout=10, compression=grpc.Compression.Gzip) == resp_type()
            sent += [(name, req), (name, req)]
        bad = channel.unary_unary(SERVICES["traces"][0])
        with pytest.raises(grpc.RpcError) as err:
            bad(b"\x0a\x05\x0a\x03\xff", timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "not a valid OTLP traces request" in err.value.details()
    summary = c.stop()
    assert (summary["spans"], summary["dataPoints"], summary["logRecords"], summary["requests"]) == (8, 6, 4, 6)
    assert exported(c.store, "grpc-1") == sent


def test_python_sdk_exporters_over_http_and_grpc(capture):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export import SpanExportResult

    c = capture("--session", "sdk-1")
    for exporter in (HttpSpanExporter(endpoint=f"http://{c.http}/v1/traces"),
                     GrpcSpanExporter(endpoint=c.grpc, insecure=True)):
        results = []

        class Recording(SimpleSpanProcessor):
            def on_end(self, span):
                results.append(self.span_exporter.export([span]))

        provider = TracerProvider(resource=Resource.create({"service.name": "sdk-test"}))
        provider.add_span_processor(Recording(exporter))
        tracer = provider.get_tracer("test")
        for i in range(5):
            with tracer.start_as_current_span(f"parent-{i}"):
                with tracer.start_as_current_span("child"):
                    pass
        assert results == [SpanExportResult.SUCCESS] * 10
        provider.shutdown()
    summary = c.stop()
    assert summary["spans"] == 20 and summary["traces"] == 10 and summary["requests"] == 20


def test_bad_input_gets_the_specified_status_and_leaves_the_session_intact(capture):
    c = capture("--session", "bad-1")
    good = trace_request(2, 77)

    def post(*args, **kwargs):
        resp, data = c.post(*args, **kwargs)
        return resp.status, resp, data

    # Malformed protobuf: 400 with a google.rpc.Status that says why.
    status, resp, data = post("/v1/traces", b"\x0a\x05\x0a\x03\xff")
    assert status == 400 and resp.getheader("Content-Type") == "application/x-protobuf"
    st = status_pb2.Status.FromString(data)
    assert st.code == 3 and "not a valid OTLP traces request" in st.message
    # Malformed JSON: 400 with the status as JSON.
    status, resp, data = post("/v1/traces", b'{"resourceSpans": [', content_type="application/json")
    assert status == 400 and json.loads(data)["code"] == 3
    # Valid JSON of the wrong shape.
    status, _, data = post("/v1/logs", b'{"resourceLogs": 5}', content_type="application/json")
    assert status == 400
    # Truncated gzip.
    status, _, data = post("/v1/traces", gzip.compress(good.SerializeToString())[:-6], headers={"Content-Encoding": "gzip"})
    assert status == 400 and "truncated" in status_pb2.Status.FromString(data).message
    # Not gzip at all.
    status, _, _ = post("/v1/traces", b"not gzip", headers={"Content-Encoding": "gzip"})
    assert status == 400
    # A gzip bomb: 200 MB of zeros in ~200 KB; refused once 64 MiB came out.
    bomb = gzip.compress(b"\0" * (200 << 20), compresslevel=9)
    t0 = time.monotonic()
    status, _, data = post("/v1/traces", bomb, headers={"Content-Encoding": "gzip"})
    assert status == 413 and "exceeds the limit" in status_pb2.Status.FromString(data).message
    assert time.monotonic() - t0 < 10
    # Unsupported content type and encoding.
    status, _, _ = post("/v1/traces", good.SerializeToString(), content_type="text/plain")
    assert status == 415
    status, _, _ = post("/v1/traces", good.SerializeToString(), headers={"Content-Encoding": "br"})
    assert status == 415
    # Oversized body: refused before the body is read in full.
    conn = http.client.HTTPConnection("127.0.0.1", c.http_port, timeout=30)
    conn.putrequest("POST", "/v1/traces")
    conn.putheader("Content-Type", "application/x-protobuf")
    conn.putheader("Content-Length", str(65 << 20))
    conn.endheaders()
    try:
        conn.send(b"\0" * (1 << 20))
    except OSError:
        pass
    assert conn.getresponse().status == 413
    conn.close()
    # Wrong method and path.
    conn = http.client.HTTPConnection("127.0.0.1", c.http_port, timeout=30)
    conn.request("GET", "/v1/traces")
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 405 and resp.getheader("Allow") == "POST"
    conn.request("POST", "/v2/traces", body=b"", headers={"Content-Type": "application/x-protobuf"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 404
    conn.close()
    # Garbage that is not HTTP.
    with socket.create_connection(("127.0.0.1", c.http_port), timeout=10) as s:
        s.sendall(b"\x16\x03\x01 hello this is not http\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400")

    # Through all of it the capture kept serving: a good request is still recorded.
    status, _, _ = post("/v1/traces", good.SerializeToString())
    assert status == 200
    summary = c.stop()
    assert c.returncode == 0
    assert (summary["spans"], summary["requests"]) == (2, 1)
    assert summary["invalid"] == 3  # malformed protobuf and JSON, reaching the capture
    assert summary["refused"] == 9  # gzip 2, bomb, type, encoding, method, path (receiver); size, garbage (server)
    assert exported(c.store, "bad-1") == [("traces", good)]


def test_signals_not_captured_are_answered_with_partial_success(capture):
    c = capture("--session", "nologs", "--no-logs")
    resp, data = c.post("/v1/logs", logs_request(3).SerializeToString())
    assert resp.status == 200
    ps = logs_service_pb2.ExportLogsServiceResponse.FromString(data).partial_success
    assert ps.rejected_log_records == 3 and "does not record logs" in ps.error_message
    resp, data = c.post("/v1/logs", json_format.MessageToJson(logs_request(2)), content_type="application/json")
    assert json.loads(data)["partialSuccess"]["rejectedLogRecords"] == "2"
    resp, _ = c.post("/v1/traces", trace_request(1).SerializeToString())
    assert resp.status == 200
    summary = c.stop()
    assert (summary["spans"], summary["logRecords"], summary["notRecorded"]) == (1, 0, 2)


def test_stalled_clients_and_many_connections_do_not_stop_the_capture(capture):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    c = capture("--session", "many")
    # A client that sends half a request and stalls, and one that only connects.
    stalled = socket.create_connection(("127.0.0.1", c.http_port))
    stalled.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                    b"Content-Length: 1000\r\n\r\nabc")
    idle = socket.create_connection(("127.0.0.1", c.http_port))
    # 2000 open connections at once, each then sends one request.
    conns = [http.client.HTTPConnection("127.0.0.1", c.http_port, timeout=60) for _ in range(2000)]
    for conn in conns:
        conn.connect()
    body = trace_request(1, 5).SerializeToString()
    errors = []

    def send(chunk):
        for conn in chunk:
            try:
                conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    errors.append(resp.status)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

    threads = [threading.Thread(target=send, args=(conns[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for conn in conns:
        conn.close()
    stalled.close()
    idle.close()
    summary = c.stop()
    assert summary is not None and c.returncode == 0, c.stderr
    assert (summary["requests"], summary["spans"], summary["traces"]) == (2000, 2000, 1)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_concurrent_clients_are_all_recorded(capture):
    c = capture("--session", "conc")
    errors = []

    def client(k):
        conn = http.client.HTTPConnection("127.0.0.1", c.http_port, timeout=30)
        for i in range(50):
            resp, _ = c.post("/v1/traces", trace_request(2, k * 1000 + i).SerializeToString(), conn=conn)
            if resp.status != 200:
                errors.append(resp.status)
        conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    summary = c.stop()
    assert (summary["requests"], summary["spans"], summary["traces"]) == (400, 800, 400)


def test_limits_end_the_capture_by_themselves(capture):
    c = capture("--session", "short", "--max-duration-minutes", "0.01")
    assert c.proc.wait(timeout=30) == 0
    summary = c.stop()
    assert summary["status"] == "completed" and "max duration" in summary["statusReason"]
    c = capture("--session", "small", "--max-size-mb", "0.001")
    resp, _ = c.post("/v1/traces", trace_request(30, 1).SerializeToString())
    assert resp.status == 200
    assert c.proc.wait(timeout=30) == 0
    summary = c.stop()
    assert "max size" in summary["statusReason"] and summary["spans"] == 30


def test_bad_flags_fail_with_a_message_and_leave_no_session(tmp_path):
    for args, needle in ((["--max-size-mb", "-1"], "max size -1"),
                         (["--session", "../x"], "session id"),
                         (["--http", "nonsense"], "--http: address 'nonsense' is not host:port"),
                         (["--http", "127.0.0.1:99999"], "port 99999 is out of range"),
                         (["--http-timeout", "0"], "--http-timeout 0"),
                         (["--forward", "ftp://x:1"], "--forward"),
                         (["--no-traces", "--no-metrics", "--no-logs"], "records no signal")):
        proc = subprocess.run([binary(), "capture", "--store", str(tmp_path), "--grpc", "127.0.0.1:0", *args],
                              capture_output=True, timeout=30)
        assert proc.returncode == 2, (args, proc.stderr)  # usage errors
        assert needle in proc.stderr.decode(), proc.stderr.decode()
    env = dict(os.environ, CAPTURE_MAX_SIZE_MB="lots")
    proc = subprocess.run([binary(), "capture", "--store", str(tmp_path)], capture_output=True, timeout=30, env=env)
    assert proc.returncode == 2 and "CAPTURE_MAX_SIZE_MB='lots'" in proc.stderr.decode()
    # A port in use fails the start (exit 1) after the session was created: it is removed again.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for flag in ("--http", "--grpc"):
            other = "--grpc" if flag == "--http" else "--http"
            proc = subprocess.run([binary(), "capture", "--store", str(tmp_path), flag, f"127.0.0.1:{port}", other,
                                   "127.0.0.1:0", "--session", "never"], capture_output=True, timeout=30)
            assert proc.returncode == 1 and flag in proc.stderr.decode(), proc.stderr.decode()
    assert json.loads(sessions(tmp_path, "list", "--json")) == []
    assert not (tmp_path / "sessions" / "never").exists()


def test_kill_9_under_load_loses_no_acknowledged_request(capture, tmp_path):
    """Kills the capture with SIGKILL while clients are sending, many times; every request a client saw
    acknowledged is in the recovered session, which is marked failed / interrupted and verifies."""
    rounds = 8
    acked = {}
    for r in range(rounds):
        c = capture("--session", f"kill-{r}")
        ok = []
        stop = threading.Event()

        def client(k, c=c, ok=ok, stop=stop, r=r):
            conn = http.client.HTTPConnection("127.0.0.1", c.http_port, timeout=10)
            i = 0
            while not stop.is_set():
                seed = (r << 40) | (k << 20) | i
                body = trace_request(20, seed).SerializeToString()
                try:
                    resp, _ = c.post("/v1/traces", body, conn=conn)
                except OSError:
                    return
                if resp.status == 200:
                    ok.append(seed)
                i += 1

        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3 + 0.1 * (r % 4))
        c.proc.kill()  # SIGKILL, mid-load
        c.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        assert ok, "no request was acknowledged before the kill"
        acked[f"kill-{r}"] = ok
    # The next capture recovers every interrupted session on start.
    c = capture("--session", "after")
    summary = c.stop()
    assert summary["status"] == "completed"
    assert f"session kill-{rounds - 1}: recovered: " in c.early, c.early  # each start recovered the one before
    for session, seeds in acked.items():
        meta = json.loads(sessions(c.store, "show", session, "--json"))
        assert meta["status"] == "failed" and meta["statusReason"] == "interrupted", meta
        recorded = set()
        for _, msg in exported(c.store, session):
            for rs in msg.resource_spans:
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        recorded.add(int.from_bytes(span.trace_id, "big"))
        missing = set(seeds) - recorded
        assert not missing, f"{session}: {len(missing)} of {len(seeds)} acknowledged requests lost"
        assert meta["counts"]["traces"] == len(recorded)
        verify = subprocess.run([binary(), "sessions", "verify", session, "--store", str(c.store)], capture_output=True)
        assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.parametrize("scheme", ["http", "grpc"])
def test_forward_tees_every_request_and_answers_with_the_downstream(capture, tmp_path, scheme):
    down = Capture(tmp_path / "down-store", "--session", "down", "--no-logs")
    try:
        target = f"http://{down.http}" if scheme == "http" else f"grpc://{down.grpc}"
        up = capture("--session", "up", "--forward", target)
        sent = []
        for i in range(5):
            req = trace_request(3, 500 + i)
            resp, data = up.post("/v1/traces", req.SerializeToString())
            assert resp.status == 200
            assert trace_service_pb2.ExportTraceServiceResponse.FromString(data).partial_success.rejected_spans == 0
            sent.append(("traces", req))
        # The downstream does not record logs: its partial_success comes back through the tee.
        lg = logs_request(4)
        resp, data = up.post("/v1/logs", lg.SerializeToString())
        ps = logs_service_pb2.ExportLogsServiceResponse.FromString(data).partial_success
        assert resp.status == 200 and ps.rejected_log_records == 4 and "does not record logs" in ps.error_message
        # JSON in: forwarded (as protobuf) and answered in JSON.
        m = metrics_request(2)
        resp, data = up.post("/v1/metrics", json_format.MessageToJson(m), content_type="application/json")
        assert resp.status == 200 and json.loads(data) == {}
        up_summary = up.stop()
        down_summary = down.stop()
    finally:
        if down.proc.poll() is None:
            down.proc.kill()
    assert (up_summary["spans"], up_summary["logRecords"], up_summary["dataPoints"]) == (15, 4, 2)
    assert up_summary["forwarded"] == 7 and up_summary["forwardFailed"] == 0
    assert (down_summary["spans"], down_summary["logRecords"], down_summary["dataPoints"]) == (15, 0, 2)
    assert exported(up.store, "up") == sent + [("logs", lg), ("metrics", m)]
    assert exported(down.store, "down") == sent + [("metrics", m)]


def test_a_refused_forward_is_the_answer_and_only_what_the_pipeline_accepted_is_recorded(capture, tmp_path):
    """The defect this guards: with a dead downstream every client retry was recorded (12 requests became 84)."""
    with socket.socket() as s:  # a port nobody listens on, yet
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    c = capture("--session", "tee", "--forward", f"http://127.0.0.1:{dead}")
    req = trace_request(2, 9)
    for _ in range(6):  # a client retrying while the downstream is down
        resp, data = c.post("/v1/traces", req.SerializeToString())
        assert resp.status == 503
        assert "sending to" in status_pb2.Status.FromString(data).message
    # The downstream comes up on that port: the next retry gets through, and is the one recorded.
    down = subprocess.Popen([binary(), "capture", "--http", f"127.0.0.1:{dead}", "--grpc", "127.0.0.1:0", "--session",
                             "down", "--store", str(tmp_path / "down"), "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert READY.search(down.stderr.readline().decode())
        resp, _ = c.post("/v1/traces", req.SerializeToString())
        assert resp.status == 200
    finally:
        down.send_signal(signal.SIGTERM)
        down_out, _ = down.communicate(timeout=60)
    summary = c.stop()
    assert summary["spans"] == 2 and summary["requests"] == 1
    assert summary["forwarded"] == 1 and summary["forwardFailed"] == 6
    assert exported(c.store, "tee") == [("traces", req)]
    assert json.loads(down_out)["spans"] == 2


def test_overload_is_answered_with_a_retry_delay_never_buffered(capture):
    from google.rpc import error_details_pb2

    # A queue of one byte: while one request is being written, the others are refused.
    c = capture("--session", "busy", "--queue-mb", "0.000001")
    req = trace_request(400, 3)
    path, req_type, resp_type = SERVICES["traces"]
    ok, unavailable, delays = 0, 0, []
    with grpc.insecure_channel(c.grpc) as channel:
        call = channel.unary_unary(path, request_serializer=req_type.SerializeToString,
                                   response_deserializer=resp_type.FromString)
        for _ in range(5):
            futures = [call.future(req, timeout=30) for _ in range(64)]
            for fut in futures:
                try:
                    fut.result()
                    ok += 1
                except grpc.RpcError as e:
                    assert e.code() == grpc.StatusCode.UNAVAILABLE, e
                    unavailable += 1
                    details = dict(e.trailing_metadata() or ()).get("grpc-status-details-bin")
                    st = status_pb2.Status.FromString(details)
                    for any_detail in st.details:
                        info = error_details_pb2.RetryInfo()
                        if any_detail.Unpack(info):
                            delays.append(info.retry_delay.seconds)
    assert ok > 0 and unavailable > 0
    assert delays and set(delays) == {1}
    http_ok, http_busy = 0, []
    lock = threading.Lock()

    def client():
        nonlocal http_ok
        for _ in range(20):
            resp, data = c.post("/v1/traces", req.SerializeToString())
            with lock:
                if resp.status == 200:
                    http_ok += 1
                else:
                    http_busy.append((resp.status, resp.getheader("Retry-After")))

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert http_ok > 0 and http_busy and set(http_busy) == {(503, "1")}
    summary = c.stop()
    assert summary["requests"] == ok + http_ok
    assert summary["overloaded"] == unavailable + len(http_busy)
    assert summary["spans"] == 400 * (ok + http_ok)


def test_slow_and_stalled_http_clients_are_disconnected_after_their_timeouts(capture):
    c = capture("--session", "slow", "--http-timeout", "1", "--http-idle-timeout", "1.5")
    stalled = socket.create_connection(("127.0.0.1", c.http_port), timeout=10)
    stalled.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                    b"Content-Length: 1000\r\n\r\nabc")
    idle = socket.create_connection(("127.0.0.1", c.http_port), timeout=10)
    # A slowloris: one header byte every 0.4 s never finishes its header within the idle timeout.
    slow = socket.create_connection(("127.0.0.1", c.http_port), timeout=10)
    t0 = time.monotonic()
    closed_slow = None
    for b in b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n":
        try:
            slow.sendall(bytes([b]))
        except OSError:
            closed_slow = time.monotonic() - t0
            break
        time.sleep(0.4)
        if time.monotonic() - t0 > 6:
            break
    # Meanwhile everyone else is served.
    resp, _ = c.post("/v1/traces", trace_request(2, 1).SerializeToString())
    assert resp.status == 200
    assert stalled.recv(100) == b""  # closed by the server, unanswered
    assert idle.recv(100) == b""
    elapsed = time.monotonic() - t0
    assert elapsed < 5, elapsed
    if closed_slow is None:
        slow.settimeout(5)
        assert slow.recv(100) == b""
    for s in (stalled, idle, slow):
        s.close()
    summary = c.stop()
    assert summary["spans"] == 2


def test_the_text_summary_of_a_capture_without_traces_names_trace_ids_not_traces(tmp_path):
    """The defect this guards: a --no-traces capture listed "Traces: 200" (the trace ids its logs carry)."""
    proc = subprocess.Popen([binary(), "capture", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--no-traces",
                             "--session", "logs-only", "--store", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    m = READY.search(proc.stderr.readline().decode())
    assert m, proc.stderr.read()
    req = logs_request(3)
    for i, r in enumerate(req.resource_logs[0].scope_logs[0].log_records):
        r.trace_id = (i + 1).to_bytes(16, "big")
    conn = http.client.HTTPConnection(*m.group(2).rsplit(":", 1), timeout=30)
    conn.request("POST", "/v1/logs", body=req.SerializeToString(), headers={"Content-Type": "application/x-protobuf"})
    assert conn.getresponse().status == 200
    conn.close()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    text = out.decode()
    assert proc.returncode == 0
    assert "Spans: 0  Data points: 0  Log records: 3  Distinct trace ids: 3" in text, text
    assert "Traces:" not in text


def http_port_once_ready(proc, err_file):
    """The OTLP/HTTP port of a capture started in a mount namespace of its own, which writes its stderr to
    err_file, once its ready line is there (within 30 s, while it runs)."""
    deadline = time.monotonic() + 30
    while not (m := READY.search(err_file.read_text() if err_file.exists() else "")):
        assert proc.poll() is None and time.monotonic() < deadline, "capture did not start"
        time.sleep(0.05)
    return int(m.group(2).rsplit(":", 1)[1])


def full_disk_capture(tmp_path, store=None, env=None):
    """Runs `otelrr capture --session full` whose disk is a 6 MiB tmpfs, mounted in a mount namespace of the
    capture's own (`unshare -rm`: no root needed): the store itself, or with `store` (an S3 bucket) its spool. A
    client fills it until requests are refused, sends a few more (each refused, the capture still up), then the
    tmpfs is grown (as an operator frees disk) and the client goes on, retrying each refusal after its
    Retry-After, until 10 more are acknowledged; then Ctrl-C. Returns the acknowledged seeds (trace ids), the
    refusals' statuses and Retry-After, the exit code and stderr. A local store is copied to tmp_path/copy."""
    small, copy = tmp_path / "small", tmp_path / "copy"
    small.mkdir()
    target = f"--store {small}" if store is None else f"--store {store} --spool {small}"
    script = tmp_path / "run.sh"
    script.write_text(f"""set -u
mount -t tmpfs -o size=6m tmpfs {small}
{binary()} capture --http 127.0.0.1:0 --grpc 127.0.0.1:0 {target} --session full --compression none \\
  > {tmp_path}/out 2> {tmp_path}/err &
echo $! > {tmp_path}/pid
while [ ! -e {tmp_path}/grow ]; do sleep 0.05; done
mount -o remount,size=64m {small}
touch {tmp_path}/grown
wait %1
echo $? > {tmp_path}/rc
cp -a {small} {copy}
""")
    proc = subprocess.Popen(["unshare", "-rm", "bash", str(script)], env=env)

    def post(seed):
        body = trace_request(1500, seed).SerializeToString()  # ~100 KB each, stored uncompressed
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if resp.status == 200:
            assert trace_service_pb2.ExportTraceServiceResponse.FromString(data).partial_success.rejected_spans == 0
        return resp.status, resp.getheader("Retry-After")

    try:
        port = http_port_once_ready(proc, tmp_path / "err")
        acked, refusals, seed = [], [], 0
        while len(refusals) < 5:  # fill the disk, then a few more: each refused, the capture still up
            seed += 1
            assert seed < 200, "the 6 MiB never filled"
            status, retry_after = post(seed)
            if status == 200:
                acked.append(seed)
            else:
                refusals.append((status, retry_after))
        assert proc.poll() is None
        (tmp_path / "grow").touch()
        deadline = time.time() + 30
        while not (tmp_path / "grown").exists():
            assert time.time() < deadline
            time.sleep(0.05)
        # A client retrying after the delay gets through; everything after it is recorded.
        for later in range(seed + 1, seed + 11):
            for _ in range(30):
                status, retry_after = post(later)
                if status == 200:
                    acked.append(later)
                    break
                assert status == 503 and retry_after, status
                time.sleep(float(retry_after))
            else:
                raise AssertionError(f"request {later} was refused for 30 tries after the disk had space")
        os.kill(int((tmp_path / "pid").read_text()), signal.SIGINT)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    return acked, refusals, int((tmp_path / "rc").read_text()), (tmp_path / "err").read_text()


def check_paused_session(meta, spans_by_trace, acked, err):
    """What a capture paused by a full disk leaves: stderr says so, the session is completed and says it was
    paused, and it holds exactly the acknowledged requests, each once."""
    assert "otelrr: capture full: recording paused: writing the session failed: " in err, err
    assert "No space left on device" in err and "otelrr: capture full: recording resumed after " in err, err
    assert meta["status"] == "completed", meta
    assert "recording paused 1 time by storage errors" in meta["statusReason"], meta["statusReason"]
    assert sorted(set(spans_by_trace)) == sorted(acked), "the session holds exactly the acknowledged requests"
    assert len(spans_by_trace) == 1500 * len(acked), "each once"
    assert (meta["counts"]["traces"], meta["counts"]["spans"]) == (len(acked), 1500 * len(acked))


def test_a_full_disk_pauses_recording_until_there_is_space_and_keeps_exactly_what_was_acknowledged(tmp_path):
    """From the failed write on, requests are answered 503 with Retry-After while the capture keeps running (the
    failed request taken back out of the session); once there is space again recording resumes by itself and the
    client's retries get through (full_disk_capture). After Ctrl-C the session is completed, says it was paused,
    holds exactly the acknowledged requests, each once, and verifies. (A read-only remount under a running
    capture is refused by the kernel while files are open for writing, so a store turning read-only mid-capture
    is tested in capture_service_test.)"""
    acked, refusals, rc, err = full_disk_capture(tmp_path)
    assert all(s == 503 and r for s, r in refusals), refusals  # clients are asked to retry later
    assert rc == 0, err
    copy = tmp_path / "copy"
    meta = json.loads(sessions(copy, "show", "full", "--json"))
    recorded = [int.from_bytes(span.trace_id, "big") for _, msg in exported(copy, "full") for rs in msg.resource_spans
                for ss in rs.scope_spans for span in ss.spans]
    check_paused_session(meta, recorded, acked, err)
    sessions(copy, "verify", "full")


def test_a_tee_whose_disk_fills_keeps_forwarding(tmp_path):
    """`capture --forward` stands in a pipeline: when its disk fills, recording pauses but the requests still go
    downstream and the clients still get the downstream's answers, until Ctrl-C. The session then ends failed
    (exit 1): it misses what was forwarded while it could not record, and says how many. The store is a 6 MiB
    tmpfs in a mount namespace of the capture's own, as in the full-disk test above."""
    import http.server
    got = []

    class Sink(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            got.append(trace_service_pb2.ExportTraceServiceRequest.FromString(
                self.rfile.read(int(self.headers["Content-Length"]))).resource_spans[0].scope_spans[0].spans[0].trace_id)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    small = tmp_path / "small"
    small.mkdir()
    script = tmp_path / "run.sh"
    script.write_text(f"""set -u
mount -t tmpfs -o size=6m tmpfs {small}
exec {binary()} capture --http 127.0.0.1:0 --grpc 127.0.0.1:0 --store {small} --session tee --compression none \\
  --forward http://127.0.0.1:{sink.server_address[1]} > {tmp_path}/out 2> {tmp_path}/err
""")
    proc = subprocess.Popen(["unshare", "-rm", "bash", str(script)])
    try:
        port = http_port_once_ready(proc, tmp_path / "err")
        answers = []
        for seed in range(1, 151):  # ~100 KB each: the 6 MiB fill after ~60
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/v1/traces", body=trace_request(1500, seed).SerializeToString(),
                         headers={"Content-Type": "application/x-protobuf"})
            answers.append(conn.getresponse().status)
            conn.close()
        err = (tmp_path / "err").read_text()
        assert "recording paused" in err and "requests are still forwarded, not recorded" in err, err
        assert "No space left on device" in err, err
        assert proc.poll() is None  # still running, still a tee
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
        sink.shutdown()
    # Every request was answered with the downstream's 200, and every one reached the downstream once.
    assert answers == [200] * 150
    assert sorted(int.from_bytes(t, "big") for t in got) == list(range(1, 151))
    err = (tmp_path / "err").read_text()
    assert "session tee ended failed" in err, err
    missed = int(re.search(r"(\d+) requests were forwarded but not recorded", err).group(1))
    assert 0 < missed < 150, err


def test_a_second_ctrl_c_exits_at_once_and_the_next_command_recovers_the_session(capture):
    """Two SIGINTs: exit 130 at once, saying the session is left for the next command to recover; the next
    capture on the store recovers it with the acknowledged request in it."""
    c = capture("--session", "twice")
    resp, _ = c.post("/v1/traces", trace_request(5, 77).SerializeToString())
    assert resp.status == 200
    c.proc.send_signal(signal.SIGINT)
    c.proc.send_signal(signal.SIGINT)
    c.stop()
    assert c.returncode == 130, c.stderr  # the second signal lands while the first stop is still closing
    assert "the next otelrr command on this store recovers it" in c.stderr
    after = capture("--session", "after")
    assert after.stop()["status"] == "completed"
    meta = json.loads(sessions(c.store, "show", "twice", "--json"))
    assert meta["counts"]["spans"] == 5
    assert (meta["status"], meta["statusReason"]) == ("failed", "interrupted")
    sessions(c.store, "verify", "twice")
