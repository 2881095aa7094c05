"""`kill -9` of `otelrr serve` in a loop, under load: 20 times, serve records a capture started over its API
while two clients send OTLP/HTTP to it, a replay started over the API sends a seed session to a sink, and a
seed is generated over the API; then serve is killed with SIGKILL at a random moment and started again on the
same store. After every restart: the killed capture is recovered (status failed, "interrupted"), it holds every
request serve acknowledged before it died (each request carries its own trace id), it verifies, nothing in the
store is left active, and the next capture starts on the same store at once (no session left locked).

By hand: OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_serve_kill_cli.py
"""

import http.client
import http.server
import json
import os
import random
import signal
import subprocess
import threading
import time

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from test_replay_cli import messages, run
from test_serve_cli import READY, binary, trace_request

KILLS = int(os.environ.get("KILLS", "20"))


class Sink:
    """An OTLP/HTTP target that accepts everything (where the replays go)."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Serve:
    def __init__(self, store):
        self.proc = subprocess.Popen([binary(), "serve", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--api",
                                      "127.0.0.1:0", "--store", str(store)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.early = []
        while not (m := READY.search(line := self.proc.stderr.readline().decode())):
            assert line, "".join(self.early) + self.proc.stderr.read().decode()
            self.early.append(line)
        self.otlp_port = int(m.group(1).rsplit(":", 1)[1])
        self.api_port = int(m.group(3).rsplit(":", 1)[1])
        # Drain stderr so serve never blocks on a full pipe.
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()

    def api(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=30)
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, (json.loads(data) if data else None)


def sender(port, first_id, acked, stop):
    """Sends one-span requests, trace ids first_id, first_id + 2, ...; appends each id serve answered 200."""
    trace_id = first_id
    conn = None
    while not stop.is_set():
        try:
            conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/v1/traces", body=trace_request(1, trace_id),
                         headers={"Content-Type": "application/x-protobuf"})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 200 and not trace_service_pb2.ExportTraceServiceResponse.FromString(body) \
                    .partial_success.rejected_spans:
                acked.append(trace_id)
        except (OSError, http.client.HTTPException):
            conn = None  # serve died: what was not answered was not acknowledged
            if stop.wait(0.01):
                break
        trace_id += 2


def test_kill_9_of_serve_under_load_loses_nothing_acknowledged(tmp_path):
    store = tmp_path / "store"
    run("seed", "--session-id", "seed", "--duration", "30", "--rate", "50", "--seed", "9", "--store", str(store))
    sink = Sink()
    rng = random.Random(16)
    serve = Serve(store)
    try:
        for k in range(KILLS):
            session = f"k{k:02d}"
            status, started = serve.api("POST", "/api/captures", {"sessionId": session})
            assert status == 201, started
            status, replay = serve.api("POST", "/api/replays", {"sessionId": "seed", "targetEndpoint": sink.url,
                                                                "speedMultiplier": 5, "maxDuration": 60})
            assert status == 201, replay
            status, seeded = serve.api("POST", "/api/seeds", {"pattern": "basic-topology", "durationSeconds": 600, "tracesPerSecond": 200,
                                                              "sessionId": f"g{k:02d}"})
            assert status in (201, 202), seeded
            acked, stop = [], threading.Event()
            senders = [threading.Thread(target=sender, args=(serve.otlp_port, 1 + j + 1000_000 * k, acked, stop))
                       for j in range(2)]
            for t in senders:
                t.start()
            time.sleep(rng.uniform(0.3, 1.2))
            serve.proc.send_signal(signal.SIGKILL)
            serve.proc.wait()
            stop.set()
            for t in senders:
                t.join()
            assert acked, "serve acknowledged nothing before it was killed"

            serve = Serve(store)  # recovers what the killed one left
            recovered = "".join(serve.early)
            assert f"session {session}: recovered" in recovered, recovered
            meta = json.loads(run("sessions", "show", session, "--store", str(store)).stdout)
            assert meta["status"] == "failed" and meta["statusReason"] == "interrupted", meta
            ids = {int.from_bytes(sp.trace_id, "big") for name, m in messages(store, session) if name == "traces"
                   for rs in m.resource_spans for ss in rs.scope_spans for sp in ss.spans}
            missing = set(acked) - ids
            assert not missing, f"kill {k}: {len(missing)} acknowledged requests lost: {sorted(missing)[:5]}"
            assert json.loads(run("sessions", "verify", session, "--store", str(store), "--json").stdout)["ok"]
            listed = json.loads(run("sessions", "list", "--json", "--store", str(store)).stdout)
            assert not [s["sessionId"] for s in listed if s["status"] == "active"], listed
    finally:
        serve.proc.kill()
        serve.proc.wait()
        sink.close()
