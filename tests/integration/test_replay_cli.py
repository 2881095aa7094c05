"""otelrr replay end to end: a seed session replayed into a real `otelrr capture` over OTLP/HTTP (protobuf
and JSON, gzip or not) and OTLP/gRPC arrives complete, every item identical but for its timestamps, which
moved by exactly the expected delta; speed, duration and loops behave; a target that refuses with 503 for a
while still receives everything exactly once.

ctest sets OTELRR_BIN to the otelrr binary. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_replay_cli.py
"""

import collections
import json
import os
import pathlib
import signal
import socket
import subprocess
import time

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from test_capture_cli import Capture, binary, hex_ids_to_base64

REPO = pathlib.Path(__file__).resolve().parents[2]
START = "2026-01-01T00:00:00Z"
TYPES = {"resourceSpans": ("traces", trace_service_pb2.ExportTraceServiceRequest),
         "resourceMetrics": ("metrics", metrics_service_pb2.ExportMetricsServiceRequest),
         "resourceLogs": ("logs", logs_service_pb2.ExportLogsServiceRequest)}
REQUEST_TYPES = {name: cls for name, cls in TYPES.values()}


def run(*args, check=True, timeout=300):
    proc = subprocess.run([binary(), *args], capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"otelrr {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}")
    return proc


def parse_json_lines(lines):
    """OTLP JSON lines (otelrr sessions export, the Collector's file exporter) as [(signal, request)],
    decoded by the reference."""
    out = []
    for line in lines:
        doc = hex_ids_to_base64(json.loads(line))
        for key, (name, cls) in TYPES.items():
            if key in doc:
                msg = cls()
                json_format.ParseDict(doc, msg)
                out.append((name, msg))
    return out


def messages(store, session):
    return parse_json_lines(run("sessions", "export", session, "--out", "-", "--store", str(store))
                            .stdout.decode().splitlines())


def replay_into_capture(tmp_path, name, capture_flags, *replay_args, grpc=False):
    """Runs `otelrr replay *replay_args --json` into a fresh `otelrr capture --session name *capture_flags`
    and stops the capture: (the replay's report, the capture's summary, the capture's store)."""
    target = Capture(tmp_path / "target", "--session", name, *capture_flags)
    try:
        endpoint = f"grpc://{target.grpc}" if grpc else f"http://{target.http}"
        proc = run("replay", *replay_args, "--endpoint", endpoint, "--json")
        summary = target.stop()
    finally:
        if target.proc.poll() is None:
            target.proc.kill()
    return json.loads(proc.stdout), summary, target.store


def shifted(msg, delta):
    """A copy of msg with every non-zero *time_unix_nano field moved by delta."""
    copy = type(msg)()
    copy.CopyFrom(msg)

    def walk(m):
        for field, value in m.ListFields():
            if field.type == field.TYPE_MESSAGE:
                if hasattr(value, "add"):  # repeated
                    for v in value:
                        walk(v)
                else:
                    walk(value)
            elif field.name.endswith("time_unix_nano") and value != 0:
                setattr(m, field.name, value + delta)

    walk(copy)
    return copy


def seed_store(tmp_path_factory, *seed_args):
    """Seeds session s1 from START into a fresh store with `otelrr seed *seed_args`: (the store, its requests)."""
    store = tmp_path_factory.mktemp("seed-store")
    run("seed", "--session-id", "s1", *seed_args, "--start-time", START, "--store", str(store))
    return store, messages(store, "s1")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    return seed_store(tmp_path_factory, "--rate", "20", "--duration", "4", "--seed", "7")


def sorted_serialized(msgs):
    return sorted((name, m.SerializeToString(deterministic=True)) for name, m in msgs)


@pytest.mark.parametrize("protocol,compression", [("http/protobuf", "none"), ("http/json", "gzip"), ("grpc", "gzip"),
                                                  ("grpc", "none")])
def test_replay_arrives_complete_over_every_transport(seeded, tmp_path, protocol, compression):
    store, original = seeded
    report, summary, target_store = replay_into_capture(
        tmp_path, "got", (), "--session", "s1", "--speed", "0", "--timestamps", "none", "--protocol", protocol,
        "--compression", compression, "--store", str(store), grpc=protocol == "grpc")
    assert report["failedRequests"] == 0 and report["sentRequests"] == len(original)
    assert summary["requests"] == len(original)
    got = messages(target_store, "got")
    assert sorted_serialized(got) == sorted_serialized(original)
    spans = sum(len(ss.spans) for n, m in original if n == "traces" for rs in m.resource_spans for ss in rs.scope_spans)
    assert report["spans"] == spans == summary["spans"]


def all_times(msg):
    """Every non-zero *time_unix_nano value of msg, in a fixed order."""
    out = []

    def walk(m):
        for field, value in m.ListFields():
            if field.type == field.TYPE_MESSAGE:
                for v in (value if hasattr(value, "add") else [value]):
                    walk(v)
            elif field.name.endswith("time_unix_nano") and value != 0:
                out.append(value)

    walk(msg)
    return out


def test_relative_timestamps_follow_the_accelerated_schedule(seeded, tmp_path):
    """At speed 2 the session's timeline plays twice as fast, its timestamps with it: every timestamp t becomes
    W + (t - first arrival) / 2, so spans end before their requests are sent, as they did when recorded
    (the defect this guards: span end times up to 27 s after their arrival at speed 10)."""
    store, original = seeded
    first_arrival = int(json.loads(run("sessions", "show", "s1", "--store", str(store)).stdout)["firstArrivalUnixNano"])
    target = Capture(tmp_path / "target", "--session", "rel")
    try:
        t0 = time.time_ns()
        proc = run("replay", "--session", "s1", "--speed", "2", "--endpoint", f"http://{target.http}",
                   "--store", str(store), "--json")
        t1 = time.time_ns()
        report = json.loads(proc.stdout)
        target.stop()
    finally:
        if target.proc.poll() is None:
            target.proc.kill()
    # The seed's arrivals span ~4 s: at speed 2 the replay takes ~2 s.
    assert 1.5 <= report["elapsedSeconds"] <= 3.0, report
    got = messages(target.store, "rel")
    assert len(got) == len(original)
    # Pair each received request with its original (same content but for the times), then check the map.
    def key(name, msg):
        copy = type(msg)()
        copy.CopyFrom(msg)
        def clear(m):
            for field, value in m.ListFields():
                if field.type == field.TYPE_MESSAGE:
                    for v in (value if hasattr(value, "add") else [value]):
                        clear(v)
                elif field.name.endswith("time_unix_nano"):
                    m.ClearField(field.name)
        clear(copy)
        return name, copy.SerializeToString(deterministic=True)
    by_key = {key(n, m): m for n, m in original}
    assert len(by_key) == len(original)
    w2 = None  # twice where the first arrival lands on the wall clock (integers: exact to the nanosecond)
    for name, msg in got:
        orig = by_key[key(name, msg)]
        for t, t2 in zip(all_times(orig), all_times(msg)):
            if w2 is None:
                w2 = 2 * t2 - (t - first_arrival)
            assert abs(2 * t2 - (t - first_arrival) - w2) <= 2, (name, t, t2)
    assert 2 * t0 <= w2 <= 2 * t1
    # Nothing on the new timeline lies after the moment the replay ended.
    assert max(t for _, m in got for t in all_times(m)) <= t1
    assert report["maxLagMs"] < 1000


def test_loop_gives_new_ids_per_iteration_and_keeps_traces_whole(seeded, tmp_path):
    store, original = seeded
    report, _, target_store = replay_into_capture(
        tmp_path, "loop", ("--no-metrics", "--no-logs"), "--session", "s1", "--loop", "--duration", "1.5", "--speed",
        "10", "--no-metrics", "--no-logs", "--store", str(store))
    assert report["iterations"] >= 3, report
    spans_per_trace = collections.Counter()
    for n, m in original:
        if n == "traces":
            for rs in m.resource_spans:
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        spans_per_trace[s.trace_id] += 1
    got = collections.Counter()
    parents_ok = True
    span_ids = set()
    for n, m in messages(target_store, "loop"):
        for rs in m.resource_spans:
            for ss in rs.scope_spans:
                for s in ss.spans:
                    got[s.trace_id] += 1
                    span_ids.add((s.trace_id, s.span_id))
    for n, m in messages(target_store, "loop"):
        for rs in m.resource_spans:
            for ss in rs.scope_spans:
                for s in ss.spans:
                    if s.parent_span_id and (s.trace_id, s.parent_span_id) not in span_ids:
                        parents_ok = False
    # Every replayed trace id is new (no iteration reuses another's), and every complete iteration's
    # traces keep their original sizes.
    assert not set(got) & set(spans_per_trace)
    assert sorted(got.values()).count(max(spans_per_trace.values())) >= 1
    assert len(got) >= 2 * len(spans_per_trace)
    sizes = collections.Counter(spans_per_trace.values())
    got_sizes = collections.Counter(got.values())
    for size, count in sizes.items():
        assert got_sizes[size] >= 2 * count * 0.9, (size, count, got_sizes[size])
    assert parents_ok


def metric_series(msgs):
    """{(resource, metric, kind, attributes): [points in time order]} of the cumulative sums and histograms."""
    series = collections.defaultdict(list)
    for n, m in msgs:
        if n != "metrics":
            continue
        for rm in m.resource_metrics:
            resource = rm.resource.SerializeToString(deterministic=True)
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    if kind not in ("sum", "histogram"):
                        continue
                    for p in getattr(metric, kind).data_points:
                        attrs = tuple(sorted((a.key, a.value.SerializeToString()) for a in p.attributes))
                        series[(resource, metric.name, kind, attrs)].append(p)
    for points in series.values():
        points.sort(key=lambda p: p.time_unix_nano)
    return series


def test_loop_continues_cumulative_series_across_iterations(seeded, tmp_path):
    store, original = seeded
    report, _, target_store = replay_into_capture(
        tmp_path, "counters", ("--no-traces", "--no-logs"), "--session", "s1", "--loop", "--duration", "1.5",
        "--speed", "10", "--no-traces", "--no-logs", "--store", str(store))
    assert report["iterations"] >= 3 and report["failedRequests"] == 0, report
    before = metric_series(original)
    after = metric_series(messages(target_store, "counters"))
    assert set(after) == set(before) and before
    for key, points in after.items():
        recorded = before[key]
        n = len(recorded)
        last = recorded[-1]
        assert len(points) >= 2 * n, key
        # The seed's series count from zero at the session start, so iteration k adds k times the last
        # recorded point; every point keeps the start time of the first iteration.
        for i, p in enumerate(points):
            k, r = divmod(i, n)
            o = recorded[r]
            assert p.start_time_unix_nano == points[0].start_time_unix_nano, (key, i)
            if key[2] == "sum":
                assert p.as_int == o.as_int + k * last.as_int, (key, i)
            else:
                assert p.count == o.count + k * last.count, (key, i)
                assert p.sum == o.sum + k * last.sum, (key, i)
                assert list(p.bucket_counts) == [b + k * lb for b, lb in zip(o.bucket_counts, last.bucket_counts)]
        values = [p.as_int if key[2] == "sum" else p.count for p in points]
        assert values == sorted(values), key


def test_a_target_that_refuses_for_a_while_still_gets_everything_once(seeded, tmp_path):
    store, original = seeded
    # A one-byte queue: concurrent requests are refused with 503 and Retry-After: 1 while one is written.
    report, summary, target_store = replay_into_capture(
        tmp_path, "busy", ("--queue-mb", "0.000001"), "--session", "s1", "--speed", "0", "--timestamps", "none",
        "--store", str(store))
    assert report["failedRequests"] == 0
    assert report["retries"] > 0 and summary["overloaded"] == report["retries"]
    assert sorted_serialized(messages(target_store, "busy")) == sorted_serialized(original)


def test_auto_selection_and_bad_input(seeded, tmp_path):
    store, _ = seeded
    proc = run("replay", "--filter-type", "capture", "--store", str(store), check=False)
    assert proc.returncode == 1 and "no finished capture session" in proc.stderr.decode()
    proc = run("replay", "--session", "nope", "--store", str(store), check=False)
    assert proc.returncode == 1 and "session nope does not exist" in proc.stderr.decode()
    for args, needle in ((["--speed", "-1"], "speed -1"), (["--protocol", "smoke"], "http/protobuf"),
                         (["--timestamps", "later"], "none, relative or current"),
                         (["--endpoint", "ftp://x:1"], "not supported"),
                         (["--endpoint", "http://127.0.0.1:99999"], "port 99999 is out of range (1-65535)"),
                         (["--header", "novalue"], "NAME=VALUE"),
                         (["--no-traces", "--no-metrics", "--no-logs"], "no signal")):
        proc = run("replay", "--session", "s1", "--store", str(store), *args, check=False)
        assert proc.returncode == 2, (args, proc.stderr)  # usage errors
        assert needle in proc.stderr.decode(), (args, proc.stderr.decode())
    # Nothing listens there: every request fails after its retries, and the exit code says so.
    proc = run("replay", "--session", "s1", "--speed", "0", "--endpoint", "http://127.0.0.1:9", "--store", str(store),
               "--max-retry-seconds", "1", "--json", check=False)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["failedRequests"] == report["sentRequests"] > 0 and "sending to" in report["firstError"]


def test_seed_live_sends_the_generated_data_in_real_time(tmp_path):
    target = Capture(tmp_path / "target", "--session", "live-got")
    try:
        t0 = time.time()
        proc = run("seed", "--live", "--endpoint", f"grpc://{target.grpc}", "--protocol", "grpc", "--rate", "10",
                   "--duration", "2", "--session-id", "live", "--store", str(tmp_path / "seeds"), "--json")
        wall = time.time() - t0
        result = json.loads(proc.stdout)
        summary = target.stop()
    finally:
        if target.proc.poll() is None:
            target.proc.kill()
    assert result["live"]["failedRequests"] == 0 and result["live"]["sentRequests"] > 0
    assert 1.0 <= wall <= 8, wall  # sent over the seed's 2 simulated seconds
    assert (summary["spans"], summary["dataPoints"], summary["logRecords"]) == \
        (result["spans"], result["dataPoints"], result["logRecords"])
    # The data happens now: every span ends within a few seconds of when it was received.
    for name, msg in messages(target.store, "live-got"):
        if name == "traces":
            for rs in msg.resource_spans:
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        assert abs(s.end_time_unix_nano / 1e9 - t0) < 15
    proc = run("seed", "--endpoint", "http://x:1", "--store", str(tmp_path / "seeds"), check=False)
    assert proc.returncode == 2 and "--live" in proc.stderr.decode()
    # A dead endpoint: the seed is generated, the live send fails, and both are said (exit 1).
    proc = run("seed", "--live", "--endpoint", "http://127.0.0.1:9", "--rate", "10", "--duration", "1",
               "--max-retry-seconds", "0.5", "--session-id", "live-dead", "--store", str(tmp_path / "seeds"),
               check=False, timeout=120)
    out = proc.stdout.decode()
    assert proc.returncode == 1, out
    assert "✅ Seed generation complete!" in out and "❌ Live send failed" in out and "Problem:" in out, out


def span_keys(store, session):
    """The spans of a session by identity (trace id, span id, name), and its data point and log record counts."""
    spans, points, logs = [], 0, 0
    for name, msg in messages(store, session):
        if name == "traces":
            spans += [(s.trace_id, s.span_id, s.name) for rs in msg.resource_spans for ss in rs.scope_spans
                      for s in ss.spans]
        elif name == "metrics":
            points += sum(len(getattr(m, m.WhichOneof("data")).data_points) for rm in msg.resource_metrics
                          for sm in rm.scope_metrics for m in sm.metrics)
        else:
            logs += sum(len(sl.log_records) for rl in msg.resource_logs for sl in rl.scope_logs)
    return sorted(spans), points, logs


def test_seed_live_only_sends_what_live_sends_and_stores_nothing(tmp_path):
    seed = ("--pattern", "payment-failure", "--rate", "20", "--duration", "3", "--seed", "9",
            "--start-time", "2026-01-01T00:00:00Z")
    got = {}
    for mode, extra in (("live", ("--session-id", "kept", "--store", str(tmp_path / "seeds"))), ("live-only", ())):
        target = Capture(tmp_path / f"target-{mode}", "--session", "got")
        try:
            t0 = time.time()
            proc = subprocess.run([binary(), "seed", f"--{mode}", "--endpoint", f"http://{target.http}", *seed, *extra,
                                   "--json"], capture_output=True, timeout=120, cwd=tmp_path)
            wall = time.time() - t0
            summary = target.stop()
        finally:
            if target.proc.poll() is None:
                target.proc.kill()
        assert proc.returncode == 0, proc.stderr.decode()
        result = json.loads(proc.stdout)
        assert result["live"]["ok"] and result["live"]["failedRequests"] == 0, result
        assert (summary["spans"], summary["dataPoints"], summary["logRecords"]) == \
            (result["spans"], result["dataPoints"], result["logRecords"]) != (0, 0, 0)
        assert 2.0 <= wall <= 15, wall  # in real time: the seed's 3 simulated seconds
        got[mode] = span_keys(target.store, "got")
    assert got["live-only"] == got["live"]
    assert not (tmp_path / "data").exists()  # the default store was never touched
    # Without --start-time the data is generated with the times it is sent at (nothing is moved on the way).
    target = Capture(tmp_path / "target-now", "--session", "now")
    try:
        t0 = time.time()
        run("seed", "--live-only", "--endpoint", f"grpc://{target.grpc}", "--protocol", "grpc", "--rate", "10",
            "--duration", "2")
        t1 = time.time()
        target.stop()
    finally:
        if target.proc.poll() is None:
            target.proc.kill()
    ends = [s.end_time_unix_nano / 1e9 for name, msg in messages(target.store, "now") if name == "traces"
            for rs in msg.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert ends and all(t0 - 1 <= end <= t1 + 1 for end in ends), (t0, t1, min(ends), max(ends))
    # Flags about a stored session are refused with --live-only.
    proc = run("seed", "--live-only", "--session-id", "x", check=False)
    assert proc.returncode == 2 and "--session-id is about the stored session" in proc.stderr.decode()
    # Ctrl-C stops the generator and the sender at once: exit 130.
    target = Capture(tmp_path / "target-stop", "--session", "stopped")
    try:
        gen = subprocess.Popen([binary(), "seed", "--live-only", "--endpoint", f"http://{target.http}", "--rate", "50",
                                "--duration", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
        time.sleep(2)
        gen.send_signal(signal.SIGINT)
        out, _ = gen.communicate(timeout=10)
        summary = target.stop()
    finally:
        for p in (gen, target.proc):
            if p.poll() is None:
                p.kill()
    assert gen.returncode == 130, out.decode()
    assert "stopped by a signal" in out.decode()
    assert 0 < summary["spans"] < 50 * 60 * 4


def test_progress_lines_come_every_log_interval(seeded, tmp_path):
    store, original = seeded
    target = Capture(tmp_path / "target", "--session", "prog")
    try:
        proc = run("replay", "--session", "s1", "--speed", "1", "--log-interval", "0.5", "--endpoint",
                   f"http://{target.http}", "--store", str(store))
        target.stop()
    finally:
        if target.proc.poll() is None:
            target.proc.kill()
    lines = [l for l in proc.stderr.decode().splitlines() if "records (iteration" in l]
    assert 4 <= len(lines) <= 12, lines  # ~4 s of replay at one line per 0.5 s
    processed = [int(l.split("otelrr replay: ")[1].split("/")[0]) for l in lines]
    assert processed == sorted(processed) and processed[-1] <= len(original)
    assert "✅ Replay complete" in proc.stdout.decode()


def test_services_filter_keeps_only_the_listed_services(seeded, tmp_path):
    store, original = seeded

    def service(resource):
        return next((kv.value.string_value for kv in resource.attributes if kv.key == "service.name"), None)

    expected = []
    for name, msg in original:
        kept = type(msg)()
        for field in ("resource_spans", "resource_metrics", "resource_logs"):
            if hasattr(msg, field):
                for entry in getattr(msg, field):
                    if service(entry.resource) == "frontend":
                        getattr(kept, field).add().CopyFrom(entry)
        if kept.ByteSize():
            expected.append((name, kept))
    resources = lambda msgs: sum(len(getattr(m, f)) for _, m in msgs for f in
                                 ("resource_spans", "resource_metrics", "resource_logs") if hasattr(m, f))
    assert 0 < resources(expected) < resources(original)
    report, _, target_store = replay_into_capture(
        tmp_path, "filtered", (), "--session", "s1", "--speed", "0", "--timestamps", "none", "--services", "frontend",
        "--store", str(store))
    assert report["sentRequests"] == len(expected) and report["failedRequests"] == 0
    assert sorted_serialized(messages(target_store, "filtered")) == sorted_serialized(expected)
    # A service nobody has: every request is left empty and dropped, none sent, and that is a failure that
    # names the services there are.
    proc = run("replay", "--session", "s1", "--speed", "0", "--services", "nobody", "--endpoint", "http://127.0.0.1:9",
               "--store", str(store), "--json", check=False)
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["sentRequests"] == 0 and report["failedRequests"] == 0 and not report["ok"]
    assert report["error"].startswith("nothing was sent: no record is of a listed service"), report
    assert "frontend" in report["error"]


# ---- TLS: https:// and gRPC over TLS, into TLS servers of the Python standard library and grpcio ----

EXPORT_PATHS = {"/v1/traces": "traces", "/v1/metrics": "metrics", "/v1/logs": "logs",
                "/opentelemetry.proto.collector.trace.v1.TraceService/Export": "traces",
                "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export": "metrics",
                "/opentelemetry.proto.collector.logs.v1.LogsService/Export": "logs"}


def self_signed(directory, name):
    """A self-signed certificate for 127.0.0.1 and localhost (it is its own CA): (cert, key) paths."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


class HttpSink:
    """An OTLP/HTTP receiver that keeps every request body: over TLS with cert and key (client_ca makes it require a
    client certificate signed by that CA), plain HTTP without."""

    def __init__(self, cert=None, key=None, client_ca=None):
        import http.server
        import ssl
        import threading
        self.got = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sink.got.append((EXPORT_PATHS[self.path], body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert), str(key))
            if client_ca is not None:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(str(client_ca))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if cert is not None else 'http'}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class GrpcTlsSink:
    """An OTLP/gRPC receiver over TLS (grpcio) that keeps every request."""

    def __init__(self, cert, key):
        import concurrent.futures
        import grpc
        self.got = []
        sink = self

        def handler(method):
            def export(request, context):
                sink.got.append((EXPORT_PATHS[method], request))
                return b""
            return grpc.unary_unary_rpc_method_handler(export)

        class Services(grpc.GenericRpcHandler):
            def service(self, details):
                return handler(details.method) if details.method in EXPORT_PATHS else None

        self.server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((Services(),))
        credentials = grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
        self.url = f"https://127.0.0.1:{self.server.add_secure_port('127.0.0.1:0', credentials)}"
        self.server.start()

    def close(self):
        self.server.stop(None)


def decoded(got):
    out = []
    for name, body in got:
        msg = REQUEST_TYPES[name]()
        msg.ParseFromString(body)
        out.append((name, msg))
    return out


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_https_endpoints_are_verified_and_receive_everything(seeded, tmp_path, protocol):
    store, original = seeded
    cert, key = self_signed(tmp_path, "server")
    sink = HttpSink(cert, key) if protocol != "grpc" else GrpcTlsSink(cert, key)
    try:
        proc = run("replay", "--session", "s1", "--speed", "0", "--timestamps", "none", "--protocol", protocol,
                   "--endpoint", sink.url, "--certificate", str(cert), "--store", str(store), "--json")
        report = json.loads(proc.stdout)
    finally:
        sink.close()
    assert report["failedRequests"] == 0 and report["sentRequests"] == len(original)
    assert sorted_serialized(decoded(sink.got)) == sorted_serialized(original)


def test_https_refuses_an_untrusted_server_and_supports_mutual_tls(seeded, tmp_path):
    store, original = seeded
    cert, key = self_signed(tmp_path, "server")
    client_cert, client_key = self_signed(tmp_path, "client")
    # Not trusted (no --certificate): every request fails at once, not retried, with a hint; exit 1.
    sink = HttpSink(cert, key)
    try:
        proc = run("replay", "--session", "s1", "--speed", "0", "--endpoint", sink.url, "--store", str(store),
                   "--json", check=False)
    finally:
        sink.close()
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and report["failedRequests"] == len(original) and report["retries"] == 0
    assert "OTEL_EXPORTER_OTLP_CERTIFICATE" in report["firstError"] and not sink.got
    # A server that wants a client certificate: given through the environment, as OTLP exporters take it.
    sink = HttpSink(cert, key, client_ca=client_cert)
    env = dict(os.environ, OTEL_EXPORTER_OTLP_CERTIFICATE=str(cert), OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=str(client_cert),
               OTEL_EXPORTER_OTLP_CLIENT_KEY=str(client_key))
    try:
        # Without the client certificate the server refuses the handshake.
        refused = run("replay", "--session", "s1", "--speed", "0", "--endpoint", sink.url, "--certificate", str(cert),
                      "--max-retry-seconds", "0", "--store", str(store), "--json", check=False)
        assert refused.returncode == 1 and json.loads(refused.stdout)["failedRequests"] == len(original)
        assert not sink.got
        proc = subprocess.run([binary(), "replay", "--session", "s1", "--speed", "0", "--timestamps", "none",
                               "--endpoint", sink.url, "--store", str(store), "--json"], capture_output=True, env=env,
                              timeout=120)
    finally:
        sink.close()
    assert proc.returncode == 0, proc.stderr.decode()
    assert sorted_serialized(decoded(sink.got)) == sorted_serialized(original)
    # Bad TLS settings are refused before anything is sent, naming the file.
    proc = run("replay", "--session", "s1", "--endpoint", sink.url, "--certificate", str(tmp_path / "missing.pem"),
               "--store", str(store), check=False)
    assert proc.returncode != 0 and b"missing.pem" in proc.stderr
    proc = run("replay", "--session", "s1", "--endpoint", sink.url, "--client-certificate", str(client_cert),
               "--store", str(store), check=False)
    assert proc.returncode != 0 and b"client certificate and its key" in proc.stderr


# ---- stopping and telling the truth ----

def stalled_listener():
    """A socket that accepts TCP connections (the kernel completes them) but never reads or answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_replay_to_an_unreachable_target_at_once(seeded, sig):
    """The defect this guards: a replay to a dead endpoint ignored Ctrl-C, a second one and SIGTERM for ~61 s."""
    store, original = seeded
    with stalled_listener() as stalled:
        for endpoint in (f"http://127.0.0.1:{stalled.getsockname()[1]}", "http://127.0.0.1:9"):
            proc = subprocess.Popen([binary(), "replay", "--session", "s1", "--speed", "0", "--endpoint", endpoint,
                                     "--store", str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(1.5)
            t0 = time.monotonic()
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30)
            took = time.monotonic() - t0
            assert took < 2, (endpoint, took, err)
            assert proc.returncode == 130, (endpoint, err)
            name = "SIGINT" if sig == signal.SIGINT else "SIGTERM"
            assert f"⏹ Replay stopped by {name} after" in out.decode(), out
            assert "✅" not in out.decode()


def test_failures_are_reported_as_they_happen_with_progress_every_interval(seeded):
    """The defect this guards: nothing was printed for ~63 s while the endpoint was unreachable."""
    store, _ = seeded
    t0 = time.monotonic()
    proc = subprocess.Popen([binary(), "replay", "--session", "s1", "--speed", "0", "--endpoint", "http://127.0.0.1:9",
                             "--log-interval", "0.5", "--max-retry-seconds", "2.5", "--store", str(store)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stderr.readline().decode()  # the start line
    assert "otelrr replay: session s1" in first
    failure = proc.stderr.readline().decode()
    assert time.monotonic() - t0 < 1.5, failure  # said at once, not after the retries
    assert "sending to http://127.0.0.1:9/v1/" in failure and "failed" in failure, failure
    out, err = proc.communicate(timeout=60)
    progress = [l for l in err.decode().splitlines() if "records (iteration" in l]
    assert len(progress) >= 4, err.decode()  # every 0.5 s over the ~2.5 s of retries
    assert any("waiting to retry" in l for l in progress), progress
    assert proc.returncode == 1
    assert "❌ Replay failed" in out.decode() and "requests failed" in out.decode()


def test_items_the_target_rejects_fail_the_replay(seeded, tmp_path):
    """The defect this guards: 753 items rejected by the target, and exit 0."""
    store, original = seeded
    target = Capture(tmp_path / "target", "--session", "nologs", "--no-logs")
    try:
        proc = run("replay", "--session", "s1", "--speed", "0", "--endpoint", f"http://{target.http}",
                   "--store", str(store), "--json", check=False)
        target.stop()
    finally:
        if target.proc.poll() is None:
            target.proc.kill()
    report = json.loads(proc.stdout)
    logs = sum(len(sl.log_records) for n, m in original if n == "logs" for rl in m.resource_logs
               for sl in rl.scope_logs)
    assert proc.returncode == 1
    assert report["rejectedItems"] == logs > 0 and report["failedRequests"] == 0 and not report["ok"]
    assert report["error"].startswith(f"the target rejected {logs} items"), report
