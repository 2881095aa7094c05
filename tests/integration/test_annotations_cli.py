"""Annotations end to end: `otelrr annotate`, `otelrr annotations init|list|sync`, a seed's phases, the phases a
client marks while capturing and the annotation routes of `otelrr serve`, kept with the session and written to the
real ClickHouse engine (chdb-core behind ClickHouse's HTTP interface, tests/integration/clickhouse_server.py), whose
table the test reads back over HTTP with its own parameterised queries.

Hostile input: session ids and values that would break SQL spliced into text (the platform's own query was
`annotation_value LIKE '%${sessionId}%'`) are sent, and must come back byte for byte and match only themselves.

ctest sets OTELRR_BIN. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q -p no:cacheprovider tests/integration/test_annotations_cli.py
"""

import concurrent.futures
import datetime
import http.client
import json
import os
import pathlib
import re
import subprocess
import time

import pytest

from clickhouse_server import PASSWORD, USER, clickhouse_server  # noqa: F401 (a fixture)

REPO = pathlib.Path(__file__).resolve().parents[2]
READY = re.compile(r"OTLP/HTTP on (\S+), OTLP/gRPC on (\S+), control API on http://(\S+)/api")


def binary():
    path = os.environ.get("OTELRR_BIN", str(REPO / "build" / "otelrr"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not an executable: build otelrr first (scripts/build)")
    return path


def run(store, *args, env=None, check=True):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKHOUSE_")}
    full_env.update(env or {})
    command = [binary(), *args] + ([] if store is None else ["--store", str(store)])
    p = subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"otelrr {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    return p


def ch_env(server, **extra):
    return {"CLICKHOUSE_URL": server.url, "CLICKHOUSE_USER": USER, "CLICKHOUSE_PASSWORD": PASSWORD, **extra}


def ns(rfc3339):
    """Unix nanoseconds of an RFC 3339 UTC time with up to nine fraction digits."""
    date, _, frac = rfc3339.rstrip("Z").partition(".")
    whole = datetime.datetime.fromisoformat(date).replace(tzinfo=datetime.timezone.utc)
    return int(whole.timestamp()) * 1_000_000_000 + int((frac + "000000000")[:9])


def seed(store, session_id, *extra, env=None):
    run(store, "seed", "--pattern", "training-phases", "--duration", "6", "--rate", "5", "--seed", "7",
        "--session-id", session_id, *extra, env=env)
    return json.loads((store / "sessions" / session_id / "metadata.json").read_text())


def listed(store, session_id, *extra, env=None):
    return json.loads(run(store, "annotations", "list", session_id, "--json", *extra, env=env).stdout)


def rows_of(server, session_id):
    return server.query(
        "SELECT annotation_id, annotation_key, annotation_type, annotation_value, signal_type, trace_id, "
        "service_name, toString(toUnixTimestamp64Nano(time_range_start)) AS start, "
        "toString(toUnixTimestamp64Nano(time_range_end)) AS end, confidence, created_by, session_id "
        "FROM annotations WHERE session_id = {sid:String} ORDER BY time_range_start, annotation_key", sid=session_id)


@pytest.fixture(scope="module")
def table(clickhouse_server):  # noqa: F811
    """The annotations table, made by `otelrr annotations init` (twice: the second finds it there)."""
    for _ in range(2):
        p = run(None, "annotations", "init", env=ch_env(clickhouse_server))
        assert p.stdout == f"the annotations table is ready in {clickhouse_server.url} (database default, table annotations)\n"
    return clickhouse_server


def test_annotations_are_kept_with_the_session_without_any_service(tmp_path):
    store = tmp_path / "store"
    meta = seed(store, "s1")
    start = ns(meta["startTime"])
    p = run(store, "annotate", "s1", "--key", "human.verdict", "--from", "+2s", "--to", "+3500ms", "--value",
            '{"cause": "db"}', "--service", "payment", "--trace-id", "0AF7651916CD43DD8448EB211C80319C",
            "--confidence", "0.75", "--label", "le=0.5", "--resource", "host.name=h1")
    assert p.stdout.startswith("annotated session s1: human.verdict ")
    every = listed(store, "s1")
    phases = [a for a in every if a["annotationKey"].startswith("test.phase.")]
    assert [a["annotationKey"] for a in phases] == ["test.phase.baseline", "test.phase.degraded", "test.phase.failure"]
    # The phases are the metadata's, to the nanosecond, with their flags in the value as the platform reads them.
    for a, phase in zip(phases, meta["phases"]):
        assert (a["timeRangeStart"], a["timeRangeEnd"]) == (phase["startTime"], phase["endTime"])
        value = json.loads(a["annotationValue"])
        assert value == {"sessionId": "s1", "phase": phase["name"], "timestamp": ns(phase["startTime"]) // 1_000_000,
                         "flags": phase["flags"]}
    [mine] = [a for a in every if a["annotationKey"] == "human.verdict"]
    assert ns(mine["timeRangeStart"]) == start + 2_000_000_000
    assert ns(mine["timeRangeEnd"]) == start + 3_500_000_000
    assert (mine["annotationType"], mine["signalType"], mine["traceId"], mine["serviceName"], mine["confidence"]) == \
        ("human", "trace", "0af7651916cd43dd8448eb211c80319c", "payment", 0.75)
    assert (mine["metricLabels"], mine["resourceAttributes"], json.loads(mine["annotationValue"])) == \
        ({"le": "0.5"}, {"host.name": "h1"}, {"cause": "db"})
    assert [a["annotationKey"] for a in listed(store, "s1", "--key", "human.")] == ["human.verdict"]
    # The file is one JSON object per line, and it travels with the session.
    lines = (store / "sessions" / "s1" / "annotations.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line)["sessionId"] == "s1" for line in lines)
    run(store, "sessions", "copy", "s1", "--from", str(store), "--to", str(tmp_path / "other"))
    assert listed(tmp_path / "other", "s1") == every


@pytest.mark.parametrize("args,message", [
    (["--key", "phase.x", "--from", "+1s"], "annotation key 'phase.x' must start with its type and a name"),
    (["--key", "human.x", "--from", "yesterday"], "--from 'yesterday' is not a time"),
    (["--key", "human.x", "--from", "+2s", "--to", "+1s"], "the time range ends"),
    (["--key", "human.x", "--from", "+1s", "--value", "slow"], "annotation value is not JSON"),
    (["--key", "human.x", "--from", "+1s", "--trace-id", "xyz"], "trace id 'xyz' must be 32 lowercase hex digits"),
    (["--key", "human.x", "--from", "+1s", "--confidence", "2"], "--confidence 2 must be between 0 and 1"),
    (["--key", "human.x", "--from", "+1s", "--label", "novalue"], "--label 'novalue' must be KEY=VALUE"),
])
def test_bad_annotations_are_usage_errors_and_store_nothing(tmp_path, args, message):
    store = tmp_path / "store"
    seed(store, "s1")
    before = (store / "sessions" / "s1" / "annotations.jsonl").read_bytes()
    p = run(store, "annotate", "s1", *args, check=False)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr
    assert (store / "sessions" / "s1" / "annotations.jsonl").read_bytes() == before


def test_missing_sessions_and_hostile_ids_are_refused(tmp_path):
    store = tmp_path / "store"
    seed(store, "s1")
    p = run(store, "annotate", "nope", "--key", "human.x", "--from", "now", check=False)
    assert (p.returncode, p.stderr) == (1, f"otelrr: session nope does not exist (store: {store})\n")
    p = run(store, "annotate", "s1' OR '1'='1", "--key", "human.x", "--from", "now", check=False)
    assert p.returncode == 2 and "session id" in p.stderr
    assert not (store / "sessions" / "s1' OR '1'='1").exists()


def test_parallel_annotators_lose_nothing(tmp_path):
    store = tmp_path / "store"
    seed(store, "s1")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: run(store, "annotate", "s1", "--key", f"train.label{i}", "--from", f"+{i}s",
                                              check=False), range(16)))
    assert [r.returncode for r in results] == [0] * 16, [r.stderr for r in results]
    keys = {a["annotationKey"] for a in listed(store, "s1")}
    assert {f"train.label{i}" for i in range(16)} <= keys


def test_seed_phases_and_annotations_reach_clickhouse_with_hostile_values_intact(tmp_path, table):
    store = tmp_path / "store"
    env = ch_env(table)
    meta = seed(store, "seed-1", "--clickhouse", table.url, env={"CLICKHOUSE_USER": USER, "CLICKHOUSE_PASSWORD": PASSWORD})
    rows = rows_of(table, "seed-1")
    assert [(r["annotation_key"], int(r["start"]), int(r["end"])) for r in rows] == \
        [(f"test.phase.{p['name']}", ns(p["startTime"]), ns(p["endTime"])) for p in meta["phases"]]
    assert all(r["created_by"] == "otelrr seed" and r["signal_type"] == "any" for r in rows)
    hostile = "'); DROP TABLE annotations; -- \\' \\\\ \t\n {sid:String} %seed-1% ü"
    key = "human.it's\"{x:String}"
    run(store, "annotate", "seed-1", "--key", key, "--from", "+1s", "--value", json.dumps({"note": hostile}),
        "--service", hostile, env=env)
    [row] = [r for r in rows_of(table, "seed-1") if r["annotation_type"] == "human"]
    assert (row["annotation_key"], json.loads(row["annotation_value"]), row["service_name"]) == \
        (key, {"note": hostile}, hostile)
    # Another session whose id contains this one's, and rows another writer put there with hostile ids: a LIKE
    # on the value would match them; otelrr's parameterised query matches only seed-1.
    seed(store, "seed-10", "--clickhouse", table.url, env={"CLICKHOUSE_USER": USER, "CLICKHOUSE_PASSWORD": PASSWORD})
    table.insert("annotations", [
        {"signal_type": "any", "time_range_start": "2026-01-01 00:00:00", "annotation_type": "human",
         "annotation_key": "human.other", "annotation_value": '{"sessionId":"seed-1"}', "created_by": "x",
         "session_id": sid} for sid in ("seed-1' OR '1'='1", "%seed-1%", "seed-1\\", "SEED-1")])
    mine = listed(store, "seed-1", env=env)
    assert sorted(a["annotationKey"] for a in mine) == sorted([key] + [f"test.phase.{p['name']}" for p in meta["phases"]])
    assert {a["sessionId"] for a in mine} == {"seed-1"}
    for sid in ("seed-1' OR '1'='1", "%seed-1%", "seed-1\\"):
        assert [r["session_id"] for r in rows_of(table, sid)] == [sid]


def test_sync_back_fills_once_and_a_failed_write_keeps_the_annotation(tmp_path, table):
    store = tmp_path / "store"
    seed(store, "sync-1")
    p = run(store, "annotate", "sync-1", "--key", "diag.slow", "--from", "+1s",
            env={"CLICKHOUSE_URL": "http://127.0.0.1:9", "CLICKHOUSE_USER": USER}, check=False)
    assert p.returncode == 1
    assert "cannot reach ClickHouse at http://127.0.0.1:9" in p.stderr
    assert "otelrr annotations sync sync-1" in p.stderr
    assert "diag.slow" in {a["annotationKey"] for a in listed(store, "sync-1")}
    assert rows_of(table, "sync-1") == []
    first = json.loads(run(store, "annotations", "sync", "sync-1", "--json", env=ch_env(table)).stdout)
    assert first == [{"sessionId": "sync-1", "kept": 4, "alreadyInClickHouse": 0, "inserted": 4}]
    again = json.loads(run(store, "annotations", "sync", "--all", "--json", env=ch_env(table)).stdout)
    assert again == [{"sessionId": "sync-1", "kept": 4, "alreadyInClickHouse": 4, "inserted": 0}]
    assert len(rows_of(table, "sync-1")) == 4
    # ClickHouse is then where the list comes from: the same annotations.
    assert listed(store, "sync-1", env=ch_env(table)) == listed(store, "sync-1")


def test_clickhouse_errors_say_what_to_check(tmp_path, table):
    store = tmp_path / "store"
    seed(store, "e1")
    p = run(store, "annotations", "list", "e1", env=ch_env(table, CLICKHOUSE_PASSWORD="wrong"), check=False)
    assert p.returncode == 1
    assert f"ClickHouse at {table.url} refused user '{USER}'" in p.stderr and "check CLICKHOUSE_USER" in p.stderr
    p = run(store, "annotations", "list", "e1", env=ch_env(table, CLICKHOUSE_DATABASE="nowhere"), check=False)
    assert p.returncode == 1 and "ClickHouse has no database 'nowhere'" in p.stderr
    table.checked("CREATE DATABASE IF NOT EXISTS empty_db")
    p = run(store, "annotations", "sync", "e1", env=ch_env(table, CLICKHOUSE_DATABASE="empty_db"), check=False)
    assert p.returncode == 1 and "run `otelrr annotations init` to create it" in p.stderr
    p = run(store, "annotations", "list", "e1", env={"CLICKHOUSE_URL": "ftp://x"}, check=False)
    assert p.returncode == 2 and "is not http://HOST[:PORT]" in p.stderr
    p = run(None, "annotations", "init", check=False)
    assert p.returncode == 2 and "no ClickHouse given" in p.stderr


class Serve:
    def __init__(self, store, env):
        self.proc = subprocess.Popen(
            [binary(), "serve", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--api", "127.0.0.1:0", "--store",
             str(store)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("CLICKHOUSE_")}, **env})
        m = READY.search(self.proc.stderr.readline().decode())
        assert m, self.proc.stderr.read().decode()
        self.otlp = m.group(1)
        self.api_port = int(m.group(3).rsplit(":", 1)[1])

    def api(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=60)
        conn.request(method, path, body=None if body is None else json.dumps(body))
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, json.loads(data) if data else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def send_spans(otlp, n):
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    req = trace_service_pb2.ExportTraceServiceRequest()
    ss = req.resource_spans.add().scope_spans.add()
    for i in range(n):
        span = ss.spans.add()
        span.trace_id = (i + 1).to_bytes(16, "big")
        span.span_id = (i + 1).to_bytes(8, "big")
        span.name = "op"
        span.start_time_unix_nano = time.time_ns()  # items are labelled by their own time
        span.end_time_unix_nano = span.start_time_unix_nano + 1000
    host, port = otlp.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("POST", "/v1/traces", req.SerializeToString(), {"Content-Type": "application/x-protobuf"})
    assert conn.getresponse().status == 200
    conn.close()
    # Phase boundaries are whole milliseconds: a phase marked in the spans' own millisecond could take them.
    time.sleep(0.003)


def test_serve_marks_capture_phases_and_takes_annotations(tmp_path, table):
    store = tmp_path / "store"
    serve = Serve(store, ch_env(table))
    try:
        assert serve.api("POST", "/api/captures", {"sessionId": "cap-1", "enabledFlags": ["chaos"]})[0] == 201
        status, body = serve.api("POST", "/api/captures/cap-1/phase", {"name": "baseline"})
        assert status == 200 and [p["name"] for p in body["phases"]] == ["baseline"]
        send_spans(serve.otlp, 3)
        status, body = serve.api("POST", "/api/captures/cap-1/phase", {"name": "failure", "flags": ["paymentDown"]})
        assert [(p["name"], p["flags"], "endTime" in p) for p in body["phases"]] == \
            [("baseline", ["chaos"], True), ("failure", ["chaos", "paymentDown"], False)]
        assert serve.api("POST", "/api/captures/cap-1/phase", {"name": "baseline"}) == \
            (400, {"error": "capture 'cap-1' already had the phase 'baseline': give each phase of a capture its own name"})
        assert serve.api("POST", "/api/captures/cap-1/phase", {"name": "a b"})[0] == 400
        assert serve.api("POST", "/api/captures/cap-1/phase", {})[0] == 400
        assert serve.api("POST", "/api/captures/other/phase", {"name": "x"})[0] == 404
        send_spans(serve.otlp, 2)
        status, final = serve.api("POST", "/api/captures/cap-1/stop")
        assert status == 200
        phases = final["phases"]
        assert [p["name"] for p in phases] == ["baseline", "failure"]
        assert phases[0]["endTime"] == phases[1]["startTime"] and "endTime" in phases[1]
        # Each phase is an annotation, kept and in ClickHouse, with the same bounds.
        status, body = serve.api("GET", "/api/sessions/cap-1/annotations?key=test.phase.")
        assert status == 200
        assert [(a["annotationKey"], a["timeRangeStart"], a["timeRangeEnd"]) for a in body["annotations"]] == \
            [(f"test.phase.{p['name']}", p["startTime"], p["endTime"]) for p in phases]
        assert [r["annotation_key"] for r in rows_of(table, "cap-1")] == ["test.phase.baseline", "test.phase.failure"]
        kept = [json.loads(line) for line in (store / "sessions" / "cap-1" / "annotations.jsonl").read_text().splitlines()]
        assert [a["annotationKey"] for a in kept] == ["test.phase.baseline", "test.phase.failure"]

        # POST one annotation, then an array; bad bodies name what is wrong and store nothing.
        start = phases[0]["startTime"]
        status, body = serve.api("POST", "/api/sessions/cap-1/annotations",
                                 {"annotationKey": "human.verdict", "annotationValue": {"ok": False},
                                  "timeRangeStart": start})
        assert status == 201 and body["annotations"][0]["createdBy"] == "otelrr serve"
        status, body = serve.api("POST", "/api/sessions/cap-1/annotations",
                                 [{"annotationKey": "llm.summary", "timeRangeStart": start, "confidence": 0.5},
                                  {"annotationKey": "train.label", "timeRangeStart": start}])
        assert status == 201 and [a["annotationKey"] for a in body["annotations"]] == ["llm.summary", "train.label"]
        assert serve.api("POST", "/api/sessions/cap-1/annotations",
                         [{"annotationKey": "human.ok", "timeRangeStart": start},
                          {"annotationKey": "nothing", "timeRangeStart": start}]) == \
            (400, {"error": "annotation 1: annotation key 'nothing' must start with its type and a name: test.*, "
                            "diag.*, human.*, llm.*, meta.* or train.* (e.g. test.phase.failure, human.verdict)"})
        assert serve.api("POST", "/api/sessions/cap-1/annotations", {"annotationKey": "human.x", "colour": 1})[0] == 400
        assert serve.api("POST", "/api/sessions/nope/annotations",
                         {"annotationKey": "human.x", "timeRangeStart": start})[0] == 404
        keys = [a["annotationKey"] for a in serve.api("GET", "/api/sessions/cap-1/annotations")[1]["annotations"]]
        assert sorted(keys) == ["human.verdict", "llm.summary", "test.phase.baseline", "test.phase.failure", "train.label"]

        # The training view of the capture: its marked phases, their labels, and the spans sent in each.
        status, dataset = serve.api("GET", "/api/sessions/cap-1/training")
        assert status == 200, dataset
        assert [(p["labels"], p["anomalyTypes"], p["counts"]["spans"]) for p in dataset["phases"]] == \
            [({"phase": "baseline", "anomaly": "chaos"}, ["chaos"], 3),
             ({"phase": "failure", "anomaly": "chaos|paymentDown"}, ["chaos", "paymentDown"], 2)]
        assert serve.api("GET", "/api/sessions/nope/training")[0] == 404
        # A replay of phases the session does not have is refused, naming those it has.
        status, body = serve.api("POST", "/api/replays", {"sessionId": "cap-1", "phases": ["nothing"],
                                                          "targetEndpoint": "http://127.0.0.1:9"})
        assert status == 400 and "baseline" in body["error"] and "failure" in body["error"], body
    finally:
        serve.stop()
