"""otelrr replay against a target that misbehaves in every way a real backend does under trouble, in one run:
it answers 503 storms (with and without Retry-After), resets connections after reading a request, stalls
(reads the request and never answers, so the attempt times out), answers partial successes, and otherwise
accepts. Nothing may be lost silently and the report must be exact: every record of the session is accepted
by the target exactly once (retries never make a second accepted copy), the report's accepted requests,
retries and rejected items equal what the target saw and answered, and the exit code says the run had
rejections. (One exception, the HTTP client library's: libcurl re-sends a request by itself when a
kept-alive connection it reused dies before any byte of the answer; the report counts the retries it
made, so a reset on a reused connection may be one attempt fewer in `retries` than the target saw.)

The target is a fault injector (a raw HTTP/1.1 server of this file), not a real OTLP backend: the real peers
cannot be made to fail on cue. CHAOS_SECONDS=300 runs the same for five minutes (looping the session).

By hand: OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_replay_faults_cli.py
"""

import collections
import json
import os
import socket
import socketserver
import struct
import threading
import time

import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from test_replay_cli import START, run

REQUESTS = {"/v1/traces": trace_service_pb2.ExportTraceServiceRequest,
            "/v1/metrics": metrics_service_pb2.ExportMetricsServiceRequest,
            "/v1/logs": logs_service_pb2.ExportLogsServiceRequest}
RESPONSES = {"/v1/traces": (trace_service_pb2.ExportTraceServiceResponse, "rejected_spans"),
             "/v1/metrics": (metrics_service_pb2.ExportMetricsServiceResponse, "rejected_data_points"),
             "/v1/logs": (logs_service_pb2.ExportLogsServiceResponse, "rejected_log_records")}

# What the target does with its n-th request (n counted over the whole run): a cycle of 40, with a storm of
# eight 503s, resets, stalls and partial successes among accepts.
CYCLE = (["ok", "503", "ok", "reset", "ok", "partial", "ok", "stall", "ok", "ok"] +
         ["503-storm"] * 8 + ["ok", "reset", "reset", "ok", "partial", "ok", "503-no-retry-after", "ok", "ok", "stall"] +
         ["ok"] * 12)
TIMEOUT = 0.5  # replay --timeout: a stalled attempt is given up after this


def items(path, body):
    msg = REQUESTS[path]()
    msg.ParseFromString(body)
    if path == "/v1/traces":
        return sum(len(ss.spans) for rs in msg.resource_spans for ss in rs.scope_spans)
    if path == "/v1/logs":
        return sum(len(sl.log_records) for rl in msg.resource_logs for sl in rl.scope_logs)
    n = 0
    for rm in msg.resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                n += len(getattr(m, m.WhichOneof("data")).data_points)
    return n


class ChaosTarget:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.outcomes = collections.Counter()
        self.accepted = []  # (path, body) answered 200
        self.rejected = 0   # items declared rejected in partial successes
        self.rejected_by_path = collections.Counter()
        self.reused_resets = 0  # resets of a request that was not the first on its connection
        target = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                f = self.request.makefile("rb")
                self.served = 0
                while True:
                    line = f.readline()
                    if not line:
                        return
                    path = line.split()[1].decode()
                    length = 0
                    while True:
                        h = f.readline()
                        if h in (b"\r\n", b"\n", b""):
                            break
                        name, _, value = h.decode().partition(":")
                        if name.strip().lower() == "content-length":
                            length = int(value.strip())
                    body = f.read(length)
                    with target.lock:
                        what = CYCLE[target.count % len(CYCLE)]
                        target.count += 1
                        target.outcomes[what] += 1
                        target.reused_resets += what == "reset" and self.served > 0
                    self.served += 1
                    if not self.answer(what, path, body):
                        return

            def answer(self, what, path, body):
                sock = self.request
                if what == "reset":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()  # RST: the client sees its request cut off
                    return False
                if what == "stall":
                    time.sleep(TIMEOUT * 3)  # the client gives up first; then the connection goes
                    return False
                if what.startswith("503"):
                    extra = "" if what == "503-no-retry-after" else "Retry-After: 0\r\n"
                    sock.sendall(f"HTTP/1.1 503 Service Unavailable\r\n{extra}Content-Length: 0\r\n\r\n".encode())
                    return True
                response_type, field = RESPONSES[path]
                response = response_type()
                n = items(path, body)
                rejected = 0
                if what == "partial" and n > 0:
                    rejected = (n + 1) // 2
                    setattr(response.partial_success, field, rejected)
                    response.partial_success.error_message = "half of these are refused on purpose"
                payload = response.SerializeToString()
                with target.lock:
                    target.accepted.append((path, body))
                    target.rejected += rejected
                    target.rejected_by_path[path] += rejected
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: " +
                             str(len(payload)).encode() + b"\r\n\r\n" + payload)
                return True

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    store = tmp_path_factory.mktemp("chaos-store")
    run("seed", "--session-id", "s", "--duration", "20", "--rate", "10", "--seed", "3", "--start-time", START,
        "--store", str(store))
    exported = run("sessions", "export", "s", "--out", "-", "--store", str(store)).stdout.decode().splitlines()
    return store, len(exported)


def test_a_misbehaving_target_gets_every_record_once_and_the_report_is_exact(session):
    store, records = session
    seconds = float(os.environ.get("CHAOS_SECONDS", "0"))
    target = ChaosTarget()
    try:
        args = ["replay", "--session", "s", "--speed", "1" if seconds else "0", "--timestamps", "none", "--endpoint",
                target.url, "--timeout", str(TIMEOUT), "--max-retry-seconds", "30", "--store", str(store), "--json"]
        if seconds:
            args += ["--loop", "--duration", str(seconds)]
        proc = run(*args, check=False, timeout=seconds + 300)
    finally:
        target.close()
    report = json.loads(proc.stdout)
    faults = sum(n for what, n in target.outcomes.items() if what not in ("ok", "partial"))
    assert target.outcomes["reset"] > 0 and target.outcomes["stall"] > 0 and target.outcomes["503-storm"] > 0
    # Every attempt the target saw is one the report counts: accepted ones, and retries of the others.
    assert report["failedRequests"] == 0 and report["abandonedRequests"] == 0, report
    assert report["acceptedRequests"] == len(target.accepted)
    # libcurl sends a request once more, at once and on its own, when a kept-alive connection it reused dies
    # before any byte of the answer (a reset of a request that was not the first on its connection); the
    # target sees that attempt, the report cannot. Every other failed attempt is a retry in the report.
    assert faults - target.reused_resets <= report["retries"] <= faults, (report["retries"], target.outcomes,
                                                                            target.reused_resets)
    assert report["sentRequests"] == len(target.accepted)
    assert report["rejectedItems"] == target.rejected > 0
    # The report's items are those the target kept: accepted minus what partial successes rejected.
    kept = collections.Counter()
    for path, body in target.accepted:
        kept[path] += items(path, body)
    kept.subtract(target.rejected_by_path)
    assert (report["spans"], report["dataPoints"], report["logRecords"]) == (
        kept["/v1/traces"], kept["/v1/metrics"], kept["/v1/logs"])
    # Rejections are failures the user must see: exit 1, and the report says why.
    assert proc.returncode == 1 and not report["ok"] and "rejected" in report["error"], report
    if not seconds:
        # Each record of the session was accepted exactly once: no loss, no duplicate from a retry.
        assert len(target.accepted) == records
        assert len(set(target.accepted)) == records
        assert report["statusCodes"].get("200") == records and report["statusCodes"].get("503") == \
            target.outcomes["503"] + target.outcomes["503-storm"] + target.outcomes["503-no-retry-after"], \
            report["statusCodes"]
