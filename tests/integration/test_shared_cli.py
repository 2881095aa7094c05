"""Capture scale-out (issue 16): several `otelrr capture --instance NAME` processes, each fed by its own load
generator (the real telemetrygen), record one shared session on one store; the last to stop seals it, and the
sealed session verifies, holds every item the generators had acknowledged, and counts distinct traces across
instances exactly. An instance killed with SIGKILL is recovered alone (the others keep recording) and named
in the sealed session's status; `sessions seal` refuses while an instance lives; serve's API captures join a
shared session too; bad input is refused before anything is written.

By hand: OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_shared_cli.py
"""

import collections
import json
import re
import signal
import subprocess
import urllib.error
import urllib.request

import pytest

from peer_binaries import peer_path
from test_capture_cli import Capture, binary
from test_replay_cli import messages, run

INSTANCES = 3


def telemetrygen(kind, count, endpoint, http=False, *extra):
    """A telemetrygen process sending `count` traces, metrics or logs unthrottled (started, not waited for)."""
    args = [peer_path("OTELRR_TELEMETRYGEN"), kind, f"--{kind}", str(count), "--workers", "1", "--rate", "0",
            "--otlp-endpoint", endpoint, "--otlp-insecure", *(["--otlp-http"] if http else []), *extra]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finished(procs):
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-3000:]


def show(store, session):
    return json.loads(run("sessions", "show", session, "--store", str(store)).stdout)


def items(store, session):
    """(spans, data points, log records, distinct trace ids) decoded from the session's records."""
    spans = points = logs = 0
    traces = set()
    for name, m in messages(store, session):
        if name == "traces":
            for rs in m.resource_spans:
                for ss in rs.scope_spans:
                    spans += len(ss.spans)
                    traces.update(s.trace_id for s in ss.spans)
        elif name == "metrics":
            points += sum(len(getattr(metric, metric.WhichOneof("data")).data_points)
                          for rm in m.resource_metrics for sm in rm.scope_metrics for metric in sm.metrics)
        else:
            for rl in m.resource_logs:
                for sl in rl.scope_logs:
                    logs += len(sl.log_records)
                    traces.update(r.trace_id for r in sl.log_records if r.trace_id and any(r.trace_id))
    return spans, points, logs, len(traces)


@pytest.fixture
def captures():
    started = []
    yield started
    for c in started:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()


def start(captures, store, session, instance, *extra):
    c = Capture(store, "--session", session, "--instance", instance, *extra)
    captures.append(c)
    return c


def test_three_captures_fed_by_three_generators_write_one_session(tmp_path, captures):
    store = tmp_path / "store"
    caps = [start(captures, store, "fleet", f"capture-{k}") for k in range(INSTANCES)]
    # Each generator to its own instance, at once; gRPC and HTTP both.
    gens = []
    for k, c in enumerate(caps):
        http = k == 1
        endpoint = c.http if http else c.grpc
        gens.append(telemetrygen("traces", 300 + 100 * k, endpoint, http, "--child-spans", "2"))
        gens.append(telemetrygen("metrics", 200, endpoint, http))
        gens.append(telemetrygen("logs", 150, endpoint, http))
    finished(gens)  # every generator exited 0: all it sent was acknowledged

    # The first two to stop leave the session active, and say so.
    for c in caps[:2]:
        summary = c.stop(signal.SIGINT)
        assert c.returncode == 0, c.stderr
        assert summary["instance"] == c.proc.args[c.proc.args.index("--instance") + 1]
        assert "other instances are still recording" in c.stderr
        assert show(store, "fleet")["status"] == "active"
    # While capture-2 records, `sessions show` sums what the instances' parts hold so far: at least the two
    # that stopped, all three named.
    live = show(store, "fleet")
    assert [i["name"] for i in live["instances"]] == ["capture-0", "capture-1", "capture-2"]
    assert [i["status"] for i in live["instances"]] == ["completed", "completed", "active"]
    assert live["counts"]["spans"] >= 3 * (300 + 400)
    waiting = run("sessions", "seal", "fleet", "--store", str(store), check=False)
    assert waiting.returncode == 1 and b"instance capture-2 still recording" in waiting.stdout
    caps[2].stop(signal.SIGINT)
    assert caps[2].returncode == 0, caps[2].stderr
    assert re.search(r"shared session fleet sealed \(completed\): 3 instances", caps[2].stderr), caps[2].stderr

    meta = show(store, "fleet")
    assert meta["status"] == "completed" and meta["shared"] is True
    assert [i["name"] for i in meta["instances"]] == ["capture-0", "capture-1", "capture-2"]
    assert all(i["status"] == "completed" for i in meta["instances"])
    # The sum of what the generators sent: traces of a root and two children, one point or record each.
    sent_traces = 300 + 400 + 500
    expected = (3 * sent_traces, 3 * 200, 3 * 150)
    c = meta["counts"]
    assert (c["spans"], c["dataPoints"], c["logRecords"]) == expected
    assert c["traces"] == sent_traces  # distinct across instances
    assert sum(i["requests"] for i in meta["instances"]) == sum(c["requests"].values())
    assert items(store, "fleet") == (*expected, sent_traces)
    verified = run("sessions", "verify", "fleet", "--store", str(store), "--json")
    assert json.loads(verified.stdout)["ok"]
    # Every raw file names the instance that wrote it; the list shows one session.
    names = collections.Counter(re.search(r"-(capture-\d)-", f["path"]).group(1) for f in meta["files"])
    assert set(names) == {"capture-0", "capture-1", "capture-2"}
    listed = json.loads(run("sessions", "list", "--json", "--store", str(store)).stdout)
    assert [s["sessionId"] for s in listed] == ["fleet"]
    again = run("sessions", "seal", "fleet", "--store", str(store), "--json")
    assert json.loads(again.stdout)["outcome"] == "already sealed"


def test_a_killed_instance_is_recovered_alone_and_named(tmp_path, captures):
    store = tmp_path / "store"
    a = start(captures, store, "crash", "a")
    b = start(captures, store, "crash", "b")
    finished([telemetrygen("traces", 100, a.grpc), telemetrygen("traces", 150, b.grpc)])
    b.proc.kill()  # SIGKILL: its part stays "active", its files unindexed
    b.proc.wait()
    assert show(store, "crash")["status"] == "active"
    # a new command on the store recovers b alone: a is live, so the session stays open
    listed = run("sessions", "list", "--store", str(store))
    assert b"crash" in listed.stdout
    c = start(captures, store, "crash", "c")  # a third instance joins meanwhile
    assert "recovered instance b" in c.early, c.early
    assert show(store, "crash")["status"] == "active"
    finished([telemetrygen("traces", 50, a.grpc), telemetrygen("logs", 40, c.grpc)])
    a.stop(signal.SIGINT)
    assert a.returncode == 0, a.stderr
    c.stop(signal.SIGINT)
    assert c.returncode == 0, c.stderr  # c recorded all it was sent; the session's failure is b's
    meta = show(store, "crash")
    assert meta["status"] == "failed" and meta["statusReason"] == "instance b: interrupted"
    assert {i["name"]: i["status"] for i in meta["instances"]} == {"a": "completed", "b": "failed", "c": "completed"}
    # Every span b acknowledged before it died is kept (telemetrygen exited 0 before the kill: all answered);
    # a telemetrygen trace is a root and one child.
    assert (meta["counts"]["spans"], meta["counts"]["logRecords"], meta["counts"]["traces"]) == (600, 40, 300)
    assert json.loads(run("sessions", "verify", "crash", "--store", str(store), "--json").stdout)["ok"]


def test_sessions_seal_recovers_when_no_instance_stopped_last(tmp_path, captures):
    store = tmp_path / "store"
    a = start(captures, store, "orphan", "a")
    b = start(captures, store, "orphan", "b")
    finished([telemetrygen("metrics", 30, a.http, True), telemetrygen("metrics", 20, b.http, True)])
    a.stop(signal.SIGINT)
    live = run("sessions", "seal", "orphan", "--store", str(store), "--json", check=False)
    out = json.loads(live.stdout)
    assert live.returncode == 1 and out["liveInstances"] == ["b"] and out["sealed"] is False
    # Deleting a session an instance records is refused, and loses nothing.
    refused = run("sessions", "delete", "orphan", "--store", str(store), check=False)
    assert refused.returncode == 1 and b"being recorded by instance 'b'" in refused.stderr
    b.proc.kill()
    b.proc.wait()
    sealed = run("sessions", "seal", "orphan", "--store", str(store), "--json")
    out = json.loads(sealed.stdout)
    assert out["outcome"] == "sealed" and out["recoveredInstances"] == ["b"]
    assert out["metadata"]["counts"]["dataPoints"] == 50
    assert json.loads(run("sessions", "verify", "orphan", "--store", str(store), "--json").stdout)["ok"]


def test_serve_instances_join_a_session_through_the_api(tmp_path):
    store = tmp_path / "store"
    serves = []
    try:
        for k in range(2):
            p = subprocess.Popen([binary(), "serve", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--api",
                                  "127.0.0.1:0", "--store", str(store), "--instance", f"pod-{k}"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            serves.append(p)
        apis, grpcs = [], []
        for p in serves:
            while True:
                line = p.stderr.readline().decode()
                assert line, "serve did not start"
                m = re.search(r"OTLP/gRPC on (\S+), control API on http://(\S+)/api", line)
                if m:
                    grpcs.append(m.group(1))
                    apis.append(m.group(2))
                    break

        def call(api, method, path, body=None):
            req = urllib.request.Request(f"http://{api}{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())

        for api in apis:
            started = call(api, "POST", "/api/captures", {"sessionId": "api-fleet"})
            assert started["shared"] is True and started["instance"] == f"pod-{apis.index(api)}"
        finished([telemetrygen("traces", 40, grpcs[0]), telemetrygen("traces", 60, grpcs[1])])
        first = call(apis[0], "POST", "/api/captures/api-fleet/stop", {})
        assert first["instance"] == "pod-0" and first["counts"]["spans"] == 80
        assert call(apis[0], "GET", "/api/sessions/api-fleet")["status"] == "active"
        with pytest.raises(urllib.error.HTTPError) as waiting:
            call(apis[0], "POST", "/api/sessions/api-fleet/seal", {})
        assert waiting.value.code == 409 and json.loads(waiting.value.read())["liveInstances"] == ["pod-1"]
        call(apis[1], "POST", "/api/captures/api-fleet/stop", {})
        meta = call(apis[1], "GET", "/api/sessions/api-fleet")
        assert meta["status"] == "completed" and meta["counts"]["spans"] == 200 and meta["counts"]["traces"] == 100
    finally:
        for p in serves:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)


def test_bad_instances_are_refused_and_nothing_is_written(tmp_path, captures):
    store = tmp_path / "store"
    no_session = run("capture", "--instance", "a", "--store", str(store), check=False)
    assert no_session.returncode == 2 and b"needs a session id" in no_session.stderr
    bad_name = run("capture", "--session", "s", "--instance", "a/b", "--store", str(store), check=False)
    assert bad_name.returncode == 2 and b"instance name 'a/b' is not valid" in bad_name.stderr
    assert not (store / "sessions" / "s").exists()

    a = start(captures, store, "s", "a")
    twice = run("capture", "--session", "s", "--instance", "a", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
                "--store", str(store), check=False)
    assert twice.returncode == 1 and b"give every instance its own --instance name" in twice.stderr
    a.stop(signal.SIGINT)
    sealed = run("capture", "--session", "s", "--instance", "b", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
                 "--store", str(store), check=False)
    assert sealed.returncode == 1 and b"is sealed" in sealed.stderr

    plain = Capture(store, "--session", "plain")
    captures.append(plain)
    plain.stop(signal.SIGINT)
    mixed = run("capture", "--session", "plain", "--instance", "x", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
                "--store", str(store), check=False)
    assert mixed.returncode == 1 and b"is not shared" in mixed.stderr
    assert json.loads(run("sessions", "verify", "plain", "--store", str(store), "--json").stdout)["ok"]
