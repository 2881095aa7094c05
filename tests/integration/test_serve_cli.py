"""otelrr serve end to end: the OTLP receivers and the control API in one real process on loopback ports.
Captures start and stop over the API without a restart; the API answers JSON, errors included, and
requires the bearer token when one is set.

ctest sets OTELRR_BIN to the otelrr binary. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_serve_cli.py
"""

import datetime
import http.client
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import time
import zlib

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

REPO = pathlib.Path(__file__).resolve().parents[2]
READY = re.compile(r"OTLP/HTTP on (\S+), OTLP/gRPC on (\S+), control API on http://(\S+)/api")
TOKEN = "s3cret-token"


def binary() -> str:
    path = os.environ.get("OTELRR_BIN", str(REPO / "build" / "otelrr"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not an executable: build otelrr first (scripts/build)")
    return path


def trace_request(n_spans, trace_seed):
    req = trace_service_pb2.ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i in range(n_spans):
        span = ss.spans.add()
        span.trace_id = trace_seed.to_bytes(16, "big")
        span.span_id = (i + 1).to_bytes(8, "big")
        span.name = "op"
    return req.SerializeToString()


def api_port_of(proc):
    """(the API port a starting `otelrr serve` prints on its ready line, what it printed before that line: recovery
    and retention reports). An exit before the ready line fails with everything it printed."""
    lines = []
    while not (m := READY.search(line := proc.stderr.readline().decode())):
        assert line, "".join(lines) + proc.stderr.read().decode()
        lines.append(line)
    return int(m.group(3).rsplit(":", 1)[1]), lines


@pytest.fixture
def serve(tmp_path):
    proc = subprocess.Popen([binary(), "serve", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--api", "127.0.0.1:0",
                             "--store", str(tmp_path / "store")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, OTELRR_API_TOKEN=TOKEN))
    m = READY.search(proc.stderr.readline().decode())
    assert m, proc.stderr.read().decode()

    class Serve:
        otlp_port = int(m.group(1).rsplit(":", 1)[1])
        api_port = int(m.group(3).rsplit(":", 1)[1])
        store = tmp_path / "store"

        def api(self, method, path, body=None, token=TOKEN):
            conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=30)
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            conn.request(method, path, body=json.dumps(body) if isinstance(body, dict) else body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            return resp.status, (json.loads(data) if data else None)

        def get(self, path, token=TOKEN, headers=None):
            """GET path: (status, headers, body bytes as sent), for answers that are not JSON."""
            conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=30)
            conn.request("GET", path, headers={**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})})
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            return resp.status, resp.headers, data

        def otlp(self, body):
            conn = http.client.HTTPConnection("127.0.0.1", self.otlp_port, timeout=30)
            conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            return resp.status, trace_service_pb2.ExportTraceServiceResponse.FromString(data)

    yield Serve()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode == 0


def test_captures_start_and_stop_over_the_api(serve):
    # No capture yet: answered, not recorded.
    status, resp = serve.otlp(trace_request(2, 1))
    assert status == 200 and resp.partial_success.rejected_spans == 2
    status, body = serve.api("POST", "/api/captures", {"sessionId": "api-1", "description": "via API",
                                                     "enabledFlags": ["paymentServiceFailure"], "captureLogs": False})
    assert status == 201, body
    assert body["sessionId"] == "api-1" and body["status"] == "active" and body["sessionType"] == "capture"
    assert body["enabledFlags"] == ["paymentServiceFailure"] and body["createdBy"] == "otelrr serve"
    for i in range(10):
        status, resp = serve.otlp(trace_request(3, 100 + i))
        assert status == 200 and resp.partial_success.rejected_spans == 0
    status, live = serve.api("GET", "/api/captures/api-1")
    assert status == 200 and live["status"] == "active"
    assert (live["counts"]["spans"], live["capturedTraces"]) == (30, 10)
    status, body = serve.api("POST", "/api/captures", {"sessionId": "api-2"})
    assert status == 409 and "api-1" in body["error"]
    status, body = serve.api("DELETE", "/api/sessions/api-1")
    assert status == 409 and "being captured" in body["error"]
    status, final = serve.api("POST", "/api/captures/api-1/stop")
    assert status == 200 and final["status"] == "completed" and final["counts"]["spans"] == 30
    status, body = serve.api("POST", "/api/captures/api-1/stop")
    assert status == 404
    # A second capture in the same process.
    status, body = serve.api("POST", "/api/captures", {"sessionId": "api-2"})
    assert status == 201
    serve.otlp(trace_request(1, 7))
    status, listed = serve.api("GET", "/api/captures")
    assert status == 200
    by_id = {c["sessionId"]: c for c in listed["captures"]}
    assert by_id["api-1"]["status"] == "completed" and by_id["api-2"]["status"] == "active"
    assert by_id["api-2"]["counts"]["spans"] == 1
    status, _ = serve.api("POST", "/api/captures/api-2/stop")
    assert status == 200
    status, listed = serve.api("GET", "/api/sessions")
    assert sorted(s["sessionId"] for s in listed["sessions"]) == ["api-1", "api-2"]
    status, one = serve.api("GET", "/api/sessions/api-1")
    assert status == 200 and one["description"] == "via API"
    status, _ = serve.api("DELETE", "/api/sessions/api-1")
    assert status == 204
    status, body = serve.api("GET", "/api/sessions/api-1")
    assert status == 404 and "error" in body
    assert not (serve.store / "sessions" / "api-1").exists()


def test_api_errors_are_json_with_a_message(serve):
    status, body = serve.api("GET", "/api/sessions", token=None)
    assert status == 401 and "token" in body["error"]
    status, body = serve.api("GET", "/api/sessions", token="wrong")
    assert status == 401
    for payload, needle in (("{", "not valid JSON"), ("[1]", "JSON object"),
                            ({"sessionId": 5}, "sessionId must be a string"),
                            ({"bogus": 1}, "unknown field 'bogus'"),
                            ({"sessionId": "../etc"}, "session id"),
                            ({"maxSizeMB": -3}, "max size -3"),
                            ({"captureTraces": False, "captureMetrics": False, "captureLogs": False}, "no signal")):
        status, body = serve.api("POST", "/api/captures", payload)
        assert status == 400 and needle in body["error"], (payload, body)
    status, body = serve.api("GET", "/api/sessions/..")
    assert status in (400, 404)
    status, body = serve.api("GET", "/api/sessions/bad%20id")
    assert status == 400
    status, body = serve.api("GET", "/api/nothing")
    assert status == 404 and "error" in body
    status, body = serve.api("PUT", "/api/captures")
    assert status == 405
    status, body = serve.api("GET", "/api/captures/missing")
    assert status == 404
    # The server's own refusal of a body over the API's 1 MiB limit is JSON too, and the token's scheme is
    # case-insensitive.
    # (Only a little more than the limit is sent, so that the server's early answer never breaks our write.)
    with socket.create_connection(("127.0.0.1", serve.api_port), timeout=30) as raw:
        raw.sendall(f"POST /api/captures HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {2 << 20}\r\n\r\n".encode() +
                    b"x" * ((1 << 20) + 1024))
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ") and b"application/json" in head, head
    assert json.loads(payload) == {"error": "request body exceeds the limit of 1048576 bytes"}
    conn = http.client.HTTPConnection("127.0.0.1", serve.api_port, timeout=30)
    conn.request("GET", "/api/sessions", headers={"Authorization": f"bearer {TOKEN}"})
    assert conn.getresponse().status == 200
    conn.close()
    # A missing session is named without the store's path.
    status, body = serve.api("GET", "/api/sessions/missing")
    assert status == 404 and body == {"error": "session missing does not exist"}
    # Nothing above created a session.
    status, listed = serve.api("GET", "/api/sessions")
    assert listed == {"sessions": []}


def test_replays_run_in_the_background_and_stop_over_the_api(serve):
    proc = subprocess.run([binary(), "seed", "--session-id", "s", "--rate", "20", "--duration", "3", "--seed", "1",
                           "--store", str(serve.store), "--json"], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seed = json.loads(proc.stdout)
    status, body = serve.api("POST", "/api/captures", {"sessionId": "into-self"})
    assert status == 201
    target = f"http://127.0.0.1:{serve.otlp_port}"
    status, started = serve.api("POST", "/api/replays", {
        "sessionId": "auto", "selectionStrategy": "latest", "sessionFilter": {"sessionType": "seed"},
        "targetEndpoint": target, "speedMultiplier": 0, "timestampAdjustment": "none", "maxDuration": 60})
    assert status == 201, started
    assert started["sessionId"] == "s" and started["status"] == "running"
    # A second one at once, slow, stopped over the API.
    status, slow = serve.api("POST", "/api/replays", {"sessionId": "s", "targetEndpoint": target,
                                                     "speedMultiplier": 0.01, "replayMetrics": False})
    assert status == 201
    deadline = time.time() + 60
    while True:
        status, st = serve.api("GET", f"/api/replays/{started['replayId']}")
        assert status == 200
        if st["status"] != "running" or time.time() > deadline:
            break
        time.sleep(0.1)
    assert st["status"] == "completed", st
    assert (st["spans"], st["dataPoints"], st["logRecords"]) == (seed["spans"], seed["dataPoints"], seed["logRecords"])
    assert st["recordsProcessed"] == st["recordsTotal"] == st["sentRequests"] and st["failedRequests"] == 0
    # What the dashboard draws: every answer the target gave by status, where the replay is on the
    # session's timeline (its last record's arrival, at the end), how it was asked to run.
    assert st["statusCodes"] == {"200": st["sentRequests"]}, st
    status, meta = serve.api("GET", "/api/sessions/s")
    assert st["timelineStartUnixNano"] == int(meta["firstArrivalUnixNano"])
    assert st["positionUnixNano"] == int(meta["lastArrivalUnixNano"])
    assert st["timelineEndUnixNano"] > st["positionUnixNano"]
    assert (st["speed"], st["loop"], st["protocol"], st["timestamps"]) == (0, False, "http/protobuf", "none")
    status, stopped = serve.api("POST", f"/api/replays/{slow['replayId']}/stop")
    assert status == 200 and stopped["status"] == "stopped"
    status, listed = serve.api("GET", "/api/replays")
    assert {r["replayId"] for r in listed["replays"]} == {started["replayId"], slow["replayId"]}
    status, final = serve.api("POST", "/api/captures/into-self/stop")
    assert final["counts"]["spans"] >= seed["spans"]
    status, body = serve.api("GET", "/api/replays/replay-999")
    assert status == 404
    # listAvailableReplays: the finished sessions, newest first (the capture above is finished now too).
    status, available = serve.api("GET", "/api/replays/available")
    assert status == 200 and [m["sessionId"] for m in available["sessions"]] == ["into-self", "s"]
    for payload, needle in (({"sessionId": "s"}, "targetEndpoint is required"),
                            ({"targetEndpoint": target, "speedMultiplier": -2}, "speed -2"),
                            ({"targetEndpoint": target, "sessionFilter": {"sessionType": "training"},
                              "selectionStrategy": "largest"}, "no finished training session"),
                            ({"targetEndpoint": target, "timestampAdjustment": "later"}, "none, relative or current"),
                            ({"targetEndpoint": "not a url"}, "is not a URL"),
                            ({"targetEndpoint": "ftp://x"}, "scheme ftp is not supported"),
                            ({"targetEndpoint": target, "sessionId": "missing"}, "missing")):
        status, body = serve.api("POST", "/api/replays", payload)
        assert status in (400, 404) and needle in body["error"], (payload, body)
    # A replay to a target that does not exist retries; stopping it does not wait for the retries (the
    # defect this guards: the stop blocked for 63 s).
    status, dead = serve.api("POST", "/api/replays", {"sessionId": "s", "targetEndpoint": "http://127.0.0.1:9",
                                                     "speedMultiplier": 0})
    assert status == 201
    time.sleep(1)
    t0 = time.monotonic()
    status, stopped = serve.api("POST", f"/api/replays/{dead['replayId']}/stop")
    assert time.monotonic() - t0 < 2
    assert status == 200 and stopped["status"] == "stopped", stopped
    assert stopped["abandonedRequests"] > 0 and stopped["acceptedRequests"] == 0, stopped
    assert "sending to http://127.0.0.1:9" in stopped["lastError"], stopped
    assert set(stopped["statusCodes"]) == {"no answer"} and stopped["statusCodes"]["no answer"] > 0, stopped


def test_a_sessions_timeline_verification_and_export_over_the_api(serve):
    proc = subprocess.run([binary(), "seed", "--session-id", "s", "--pattern", "payment-failure", "--rate", "50",
                           "--duration", "12", "--seed", "3", "--store", str(serve.store), "--json"],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    seed = json.loads(proc.stdout)
    status, t = serve.api("GET", "/api/sessions/s/timeline")
    assert status == 200, t
    # Every item counted once, in the second its request arrived; the pattern's phases on the same axis.
    assert (sum(t["spans"]), sum(t["dataPoints"]), sum(t["logRecords"])) == (
        seed["spans"], seed["dataPoints"], seed["logRecords"])
    assert t["bucketSeconds"] == 1 and 12 <= t["buckets"] <= 13
    assert 0 < sum(t["errorSpans"]) < seed["spans"]
    assert sum(s["spans"] for s in t["services"]) == seed["spans"]
    assert [p["name"] for p in t["phases"]] == [p["name"] for p in seed["phases"]]
    assert (serve.store / "sessions" / "s" / "timeline.json").exists()
    status, again = serve.api("GET", "/api/sessions/s/timeline")
    assert again == t
    status, v = serve.api("POST", "/api/sessions/s/verify")
    assert status == 200 and v["ok"] and v["problems"] == [] and v["spans"] == seed["spans"], v
    status, headers, body = serve.get("/api/sessions/s/export?signals=traces")
    assert status == 200 and headers["Content-Type"] == "application/x-ndjson"
    assert 'filename="s.jsonl"' in headers["Content-Disposition"]
    # Streamed as the session is read, byte for byte what the command line exports.
    assert headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in headers
    cli = subprocess.run([binary(), "sessions", "export", "s", "--signals", "traces", "--store", str(serve.store)],
                         capture_output=True, timeout=120, check=True)
    assert body == cli.stdout and len(body) > 1 << 20
    # Gzipped for a client that takes it: one member, the same lines inflated, in a fifth of the bytes or less.
    status, headers, zipped = serve.get("/api/sessions/s/export?signals=traces", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and headers["Vary"] == "Accept-Encoding"
    one = zlib.decompressobj(wbits=31)
    assert one.decompress(zipped) == body and one.eof and one.unused_data == b"" and len(zipped) < len(body) / 5
    lines = body.decode().splitlines()
    spans = sum(len(ss["spans"]) for line in lines for rs in json.loads(line)["resourceSpans"]
                for ss in rs["scopeSpans"])
    assert spans == seed["spans"]
    # The web UI is the same server's root, loaded without the token (it asks for it).
    status, headers, body = serve.get("/", token=None)
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"<html" in body
    assert serve.get("/api/sessions", token=None)[0] == 401


def test_serve_runs_the_retention_policy_on_a_schedule_and_reports_storage(tmp_path):
    from test_sessions_cli import days_ago, edit_metadata, snapshot

    store = tmp_path / "store"
    for session, age in (("old", 40), ("young", 1)):
        subprocess.run([binary(), "seed", "--preset", "quick", "--seed", "5", "--session-id", session, "--start-time",
                        days_ago(age), "--store", str(store)], check=True, capture_output=True)
    proc = subprocess.Popen([binary(), "serve", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--api",
                             "127.0.0.1:0", "--store", str(store), "--retention-interval", "1s", "--older-than", "30d"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port, lines = api_port_of(proc)

        def storage():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/storage")
            resp = conn.getresponse()
            body = json.loads(resp.read())
            conn.close()
            assert resp.status == 200
            return body

        def wait_for(done):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                body = storage()
                if done(body):
                    return body
                time.sleep(0.1)
            raise AssertionError(f"not reached: {body}")

        # The first run, at once: "old" goes.
        body = wait_for(lambda b: b["retention"]["lastRun"] is not None and b["sessions"] == 1)
        files = {k: v for k, v in snapshot(store / "sessions").items() if ".otelrr-" not in k}
        assert (body["objects"], body["bytes"]) == (len(files), sum(map(len, files.values())))
        assert body["sessionsByStatus"] == {"active": 0, "completed": 1, "failed": 0}
        assert body["sessionsByType"] == {"seed": 1, "capture": 0, "training": 0}
        assert body["retention"]["interval"] == "1s"
        assert body["retention"]["lastRun"]["policy"] == {"olderThan": "30d"}
        assert not (store / "sessions" / "old").exists()
        # Runs go on every second: a session whose expiresAt passes is removed by a later one.
        soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)
        expires = soon.strftime("%Y-%m-%dT%H:%M:%S.") + f"{soon.microsecond // 1000:03d}Z"
        edit_metadata(store, "young", expiresAt=expires)
        # The run that deletes it publishes its report when it ends, a moment after the session is gone.
        deleted = [("young", "deleted", f"expired at {expires}")]
        body = wait_for(lambda b: b["sessions"] == 0 and b["retention"]["lastRun"] is not None and
                        [(s["sessionId"], s["action"], s["reason"])
                         for s in b["retention"]["lastRun"].get("sessions", [])] == deleted)
        assert [(s["sessionId"], s["action"], s["reason"]) for s in body["retention"]["lastRun"]["sessions"]] == deleted
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = "".join(lines) + err.decode()
    assert "otelrr serve: retention: deleted 1, archived 0, kept 1, skipped 0, failed 0; freed " in log, log

    # The policy's flags need the interval, and are checked before anything starts.
    for args, message in ((["--older-than", "30d"], "the retention flags need --retention-interval: how often the "
                                                     "policy runs"),
                          (["--retention-interval", "0s"], "--retention-interval must be positive: the policy runs "
                                                           "every interval"),
                          (["--retention-interval", "1h", "--keep-last", "x"],
                           "--keep-last 'x' is not allowed: give how many of the newest sessions to keep, at least 1")):
        bad = subprocess.run([binary(), "serve", "--store", str(store), *args], capture_output=True, timeout=30)
        assert bad.returncode == 2, args
        assert bad.stderr.decode() == f"otelrr: {message} (run with --help for usage)\n", args
    help_text = subprocess.run([binary(), "serve", "--help"], capture_output=True).stdout.decode()
    assert "GET    /api/storage" in help_text and "--retention-interval" in help_text


def test_an_api_other_machines_can_reach_needs_a_token_or_insecure_api(tmp_path):
    """The API starts captures, replays anywhere and deletes sessions: on a non-loopback address serve
    refuses to run it without a token, unless --insecure-api says so."""
    base = [binary(), "serve", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--store", str(tmp_path / "s")]
    env = {k: v for k, v in os.environ.items() if k != "OTELRR_API_TOKEN"}
    for api in ("0.0.0.0:0", "[::]:0"):
        proc = subprocess.run(base + ["--api", api], capture_output=True, timeout=30, env=env)
        assert proc.returncode == 2, proc.stderr.decode()
        assert (f"--api {api} can be reached from other machines, and the API has no token: give --api-token "
                "(or $OTELRR_API_TOKEN), or --insecure-api") in proc.stderr.decode()
    assert not (tmp_path / "s").exists()
    # With a token (here from the environment), or --insecure-api, it starts; traffic stays on loopback.
    for extra, extra_env in ((["--insecure-api"], {}), ([], {"OTELRR_API_TOKEN": TOKEN})):
        proc = subprocess.Popen(base + ["--api", "0.0.0.0:0", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**env, **extra_env})
        try:
            port, _ = api_port_of(proc)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/captures")
            status = conn.getresponse().status
            conn.close()
            assert status == (200 if extra else 401)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
