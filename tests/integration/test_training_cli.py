"""otelrr training end to end: a training-phases seed exported as CSV and JSON Lines and read back with pandas
has one row per span, data point and log record of the session; dataset.json's count of every phase and
signal is the number of rows labelled with that phase; and no row's own time lies outside its labelled
phase's [start, end) (points exactly at a phase's start belong to it, at the last phase's end to no phase).
replay --phases failure into `otelrr capture` delivers exactly the failure phase's items. A user's
test.phase.* annotation on a capture session defines its phases. Bad flags are usage errors (exit 2);
Ctrl-C stops an export with exit 130 and leaves no file.

With --clickhouse, the phases come from ClickHouse (the real engine, tests/integration/clickhouse_server.py).

ctest sets OTELRR_BIN to the otelrr binary. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_training_cli.py
"""

import json
import os
import signal
import subprocess
import time

import pandas as pd
import pytest

from clickhouse_server import PASSWORD, USER, clickhouse_server  # noqa: F401 (a fixture)
from test_capture_cli import binary
from test_replay_cli import replay_into_capture

START = "2026-01-01T00:00:00Z"
START_NS = 1767225600 * 10**9
SECOND = 10**9
SIGNALS = {"spans": ("spans", "start_time_unix_nano"), "metrics": ("dataPoints", "time_unix_nano"),
           "logs": ("logRecords", "label_time_unix_nano")}
# Read as text: ids (hex, some all digits) and labels ("" for unlabelled).
TEXT = {c: str for c in ("trace_id", "span_id", "parent_span_id", "phase", "anomaly")}


def run(*args, check=True, timeout=120):
    proc = subprocess.run([binary(), *args], capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"otelrr {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}")
    return proc


def read_rows(path):
    if path.suffix == ".csv":
        df = pd.read_csv(path, dtype=TEXT)
    else:
        df = pd.read_json(path, lines=True, dtype=TEXT)
    df["phase"] = df["phase"].fillna("")  # unlabelled: an empty field (CSV), "" (JSON Lines)
    return df


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A training-phases seed (30 s: baseline, degraded, failure of 10 s each) and its metadata."""
    store = tmp_path_factory.mktemp("training-store")
    run("seed", "--pattern", "training-phases", "--session-id", "tp", "--duration", "30", "--rate", "100",
        "--seed", "3", "--start-time", START, "--store", str(store))
    meta = json.loads(run("sessions", "show", "tp", "--json", "--store", str(store)).stdout)
    return store, meta


@pytest.fixture(scope="module")
def exported(seeded, tmp_path_factory):
    """The seed exported in both formats: {format: (dir, one-line summary)}."""
    store, _ = seeded
    out = {}
    for fmt in ("csv", "jsonl"):
        d = tmp_path_factory.mktemp(f"export-{fmt}")
        proc = run("training", "export", "tp", "--out", str(d), "--format", fmt, "--store", str(store))
        out[fmt] = (d, proc.stdout.decode())
    return out


def phase_of(phases, t):
    """The phase a time falls in, by the half-open rule; '' outside all (the seed's phases do not overlap)."""
    for p in phases:
        if int(p["startUnixNano"]) <= t < int(p["endUnixNano"]):
            return p["name"]
    return ""


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_rows_are_the_sessions_items_and_counts_match_the_dataset(seeded, exported, fmt):
    _, meta = seeded
    out_dir, summary = exported[fmt]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        ["dataset.json", f"spans.{fmt}", f"metrics.{fmt}", f"logs.{fmt}"])
    dataset = json.loads((out_dir / "dataset.json").read_text())
    assert dataset["sessionId"] == "tp" and dataset["annotationsFrom"] == "session"
    assert [p["name"] for p in dataset["phases"]] == ["baseline", "degraded", "failure"]
    assert [p["labels"]["anomaly"] for p in dataset["phases"]] == ["normal", "inventorySlowdown", "inventoryFailure"]
    assert [(t["name"], t["phases"]) for t in dataset["anomalyTypes"]] == [
        ("inventoryFailure", ["failure"]), ("inventorySlowdown", ["degraded"])]
    for stem, (count_key, _) in SIGNALS.items():
        rows = read_rows(out_dir / f"{stem}.{fmt}")
        assert len(rows) == meta["counts"][count_key] == dataset["counts"][count_key], stem
        assert f"{stem}.{fmt} {len(rows)} rows" in summary
        labelled = rows.groupby("phase").size().to_dict()
        for p in dataset["phases"]:
            assert p["counts"][count_key] == labelled.get(p["name"], 0), (stem, p["name"])
            assert p["counts"][count_key] > 0, (stem, p["name"])
        assert dataset["unlabelled"]["counts"][count_key] == labelled.get("", 0), stem


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_no_row_lies_outside_its_labelled_phase(exported, fmt):
    out_dir, _ = exported[fmt]
    dataset = json.loads((out_dir / "dataset.json").read_text())
    phases = dataset["phases"]
    anomaly = {p["name"]: p["labels"]["anomaly"] for p in phases} | {"": "unlabelled"}
    for stem, (_, time_column) in SIGNALS.items():
        rows = read_rows(out_dir / f"{stem}.{fmt}")
        expected = [phase_of(phases, int(t)) for t in rows[time_column]]
        assert rows["phase"].tolist() == expected, stem
        assert rows["anomaly"].tolist() == [anomaly[p] for p in expected], stem
    # The edges, with the seed's metric points every 5 s: a point exactly at the degraded phase's start is
    # degraded's (a file named by the time it arrived would have said baseline for some), and the points
    # exactly at the failure phase's end are unlabelled.
    points = read_rows(out_dir / f"metrics.{fmt}")
    degraded, failure = phases[1], phases[2]
    at_start = points[points["time_unix_nano"] == int(degraded["startUnixNano"])]
    at_end = points[points["time_unix_nano"] == int(failure["endUnixNano"])]
    assert len(at_start) > 0 and set(at_start["phase"]) == {"degraded"}
    assert len(at_end) > 0 and set(at_end["phase"]) == {""}


def test_span_rows_carry_the_columns(exported):
    csv = read_rows(exported["csv"][0] / "spans.csv")
    jsonl = read_rows(exported["jsonl"][0] / "spans.jsonl")
    assert list(csv.columns) == list(jsonl.columns)
    assert csv["span_id"].tolist() == jsonl["span_id"].tolist()
    assert (csv["trace_id"].str.len() == 32).all() and (csv["span_id"].str.len() == 16).all()
    assert (csv["duration_ns"] == csv["end_time_unix_nano"] - csv["start_time_unix_nano"]).all()
    assert (csv["error"] == (csv["status_code"] == "error")).all()
    assert set(csv["span_kind"]) <= {"server", "client", "internal", "producer", "consumer"}
    server_http = csv[(csv["service_name"] == "storefront") & (csv["span_kind"] == "server")]
    assert len(server_http) > 0 and server_http["http_method"].isin(["GET", "POST"]).all()
    assert server_http["http_route"].isin(["/products/{sku}", "/cart/items", "/orders"]).all()
    assert server_http["http_status_code"].notna().all()
    grpc = csv[csv["rpc_system"] == "grpc"]
    assert len(grpc) > 0 and set(grpc["rpc_method"]) >= {"CheckStock"}
    db = csv[csv["db_system"] == "postgresql"]
    assert len(db) > 0 and db["db_statement"].str.startswith(("SELECT", "UPDATE")).all()
    # The failure phase makes inventory fail: its error share is far above the baseline's.
    inventory = csv[csv["service_name"] == "inventory"]
    rate = inventory.groupby("phase")["error"].mean()
    assert rate["failure"] > 0.2 > rate["baseline"]
    # The attributes column is JSON, and agrees with the columns taken from it.
    first = server_http.iloc[0]
    assert json.loads(first["attributes"])["http.request.method"] == first["http_method"]


def test_show_prints_the_phases_and_the_same_dataset(seeded, exported):
    store, _ = seeded
    table = run("training", "show", "tp", "--store", str(store)).stdout.decode()
    lines = table.splitlines()
    assert lines[1].split()[:4] == ["PHASE", "START", "(UTC)", "END"]
    assert lines[2].split()[:4] == ["baseline", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:10.000Z", "normal"]
    assert lines[4].split()[0] == "failure" and lines[4].split()[3] == "inventoryFailure"
    shown = json.loads(run("training", "show", "tp", "--json", "--store", str(store)).stdout)
    written = json.loads((exported["csv"][0] / "dataset.json").read_text())
    assert shown == written
    assert lines[2].split()[4:7] == [str(written["phases"][0]["counts"][k]) for k in ("spans", "dataPoints",
                                                                                        "logRecords")]


def test_export_of_some_phases_and_signals(seeded, exported, tmp_path):
    store, _ = seeded
    out = tmp_path / "failure"
    proc = run("training", "export", "tp", "--out", str(out), "--phases", "failure,degraded", "--signals", "traces,logs",
               "--format", "csv", "--store", str(store))
    dataset = json.loads((out / "dataset.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json", "logs.csv", "spans.csv"]
    assert dataset["countedSignals"] == ["traces", "logs"]
    spans = read_rows(out / "spans.csv")
    counts = {p["name"]: p["counts"]["spans"] for p in dataset["phases"]}
    assert spans.groupby("phase").size().to_dict() == {"degraded": counts["degraded"], "failure": counts["failure"]}
    full = read_rows(exported["csv"][0] / "spans.csv")
    assert spans["span_id"].tolist() == full[full["phase"].isin(["degraded", "failure"])]["span_id"].tolist()
    assert f"failure {counts['failure']}/0/" in proc.stdout.decode()


def test_replay_of_the_failure_phase_delivers_exactly_its_items(seeded, exported, tmp_path):
    store, _ = seeded
    dataset = json.loads((exported["jsonl"][0] / "dataset.json").read_text())
    failure = next(p for p in dataset["phases"] if p["name"] == "failure")
    report, summary, target_store = replay_into_capture(
        tmp_path, "got", (), "--session", "tp", "--phases", "failure", "--speed", "0", "--timestamps", "none",
        "--store", str(store))
    assert report["failedRequests"] == 0 and report["phases"] == ["failure"]
    assert report["filteredRequests"] > 0  # the other phases' requests
    assert report["spans"] == failure["counts"]["spans"] == summary["spans"]
    assert report["dataPoints"] == failure["counts"]["dataPoints"]
    assert report["logRecords"] == failure["counts"]["logRecords"]
    out = tmp_path / "got-export"
    run("training", "export", "got", "--out", str(out), "--store", str(target_store))
    lo, hi = int(failure["startUnixNano"]), int(failure["endUnixNano"])
    for stem, (count_key, time_column) in SIGNALS.items():
        rows = read_rows(out / f"{stem}.jsonl")
        assert len(rows) == failure["counts"][count_key], stem
        assert rows[time_column].between(lo, hi - 1).all(), stem
    # The same spans, ids and all.
    full = read_rows(exported["jsonl"][0] / "spans.jsonl")
    got = read_rows(out / "spans.jsonl")
    assert sorted(got["span_id"]) == sorted(full[full["phase"] == "failure"]["span_id"])


def test_a_user_annotation_defines_the_phases_of_a_capture(seeded, exported, tmp_path):
    store, _ = seeded
    _, _, target_store = replay_into_capture(
        tmp_path, "cap", (), "--session", "tp", "--speed", "0", "--timestamps", "none", "--store", str(store))
    empty = json.loads(run("training", "show", "cap", "--json", "--store", str(target_store)).stdout)
    assert empty["phases"] == [] and empty["sessionType"] == "capture"
    run("annotate", "cap", "--key", "test.phase.custom", "--from", "2026-01-01T00:00:05Z", "--to",
        "2026-01-01T00:00:12.5Z", "--value", '{"flags":["cpuSpike"]}', "--store", str(target_store))
    shown = json.loads(run("training", "show", "cap", "--json", "--store", str(target_store)).stdout)
    assert [(p["name"], p["annotationKey"], p["labels"]["anomaly"]) for p in shown["phases"]] == [
        ("custom", "test.phase.custom", "cpuSpike")]
    lo, hi = START_NS + 5 * SECOND, START_NS + 12_500_000_000
    assert (shown["phases"][0]["startUnixNano"], shown["phases"][0]["endUnixNano"]) == (str(lo), str(hi))
    for stem, (count_key, time_column) in SIGNALS.items():
        rows = read_rows(exported["jsonl"][0] / f"{stem}.jsonl")
        inside = int(rows[time_column].between(lo, hi - 1).sum())
        assert shown["phases"][0]["counts"][count_key] == inside > 0, stem
        assert shown["unlabelled"]["counts"][count_key] == len(rows) - inside, stem
    table = run("training", "show", "cap", "--store", str(target_store)).stdout.decode()
    assert any(line.split()[:1] == ["custom"] and "cpuSpike" in line for line in table.splitlines()), table


def test_phases_from_clickhouse(seeded, exported, clickhouse_server):  # noqa: F811 (the fixture)
    store, _ = seeded
    url = clickhouse_server.url.replace("http://", f"http://{USER}:{PASSWORD}@")
    run("annotations", "init", "--clickhouse", url)
    run("annotations", "sync", "tp", "--clickhouse", url, "--store", str(store))
    # A phase only ClickHouse knows, inside the failure phase: its items are its own (it started last).
    clickhouse_server.insert("annotations", [{
        "signal_type": "any", "time_range_start": "2026-01-01 00:00:25.000000000",
        "time_range_end": "2026-01-01 00:00:27.000000000", "annotation_type": "test",
        "annotation_key": "test.phase.spike", "annotation_value": '{"flags":["cpuSpike"]}', "created_by": "test",
        "session_id": "tp"}])
    shown = json.loads(run("training", "show", "tp", "--json", "--clickhouse", url, "--store", str(store)).stdout)
    assert shown["annotationsFrom"] == "clickhouse"
    assert [(p["name"], p["labels"]["anomaly"]) for p in shown["phases"]] == [
        ("baseline", "normal"), ("degraded", "inventorySlowdown"), ("failure", "inventoryFailure"),
        ("spike", "cpuSpike")]
    spike = (START_NS + 25 * SECOND, START_NS + 27 * SECOND)
    failure = (START_NS + 20 * SECOND, START_NS + 30 * SECOND)
    for stem, (count_key, time_column) in SIGNALS.items():
        times = read_rows(exported["jsonl"][0] / f"{stem}.jsonl")[time_column]
        in_spike = int(times.between(spike[0], spike[1] - 1).sum())
        in_failure = int(times.between(failure[0], failure[1] - 1).sum())
        assert shown["phases"][3]["counts"][count_key] == in_spike, stem
        assert shown["phases"][2]["counts"][count_key] == in_failure - in_spike, stem
    assert shown["phases"][3]["counts"]["spans"] > 0
    # Without ClickHouse, the session's own annotations: no spike.
    local = json.loads(run("training", "show", "tp", "--json", "--store", str(store)).stdout)
    assert [p["name"] for p in local["phases"]] == ["baseline", "degraded", "failure"]


def test_bad_flags_are_usage_errors(seeded, tmp_path):
    store, _ = seeded
    proc = run("training", "export", "tp", "--out", str(tmp_path / "x"), "--phases", "failur", "--store", str(store),
               check=False)
    assert proc.returncode == 2
    assert "phase 'failur' is not a phase of session tp: its phases are baseline, degraded, failure" in \
        proc.stderr.decode()
    proc = run("training", "export", "tp", "--out", str(tmp_path / "x"), "--format", "parquet", "--store", str(store),
               check=False)
    assert proc.returncode == 2 and "format 'parquet': use jsonl (JSON Lines) or csv" in proc.stderr.decode()
    (tmp_path / "file").write_text("x")
    proc = run("training", "export", "tp", "--out", str(tmp_path / "file"), "--store", str(store), check=False)
    assert proc.returncode == 2 and "exists and is not a directory" in proc.stderr.decode()
    proc = run("training", "export", "tp", "--out", str(tmp_path / "x"), "--signals", "spans", "--store", str(store),
               check=False)
    assert proc.returncode == 2 and "'spans' is not traces, metrics or logs" in proc.stderr.decode()
    proc = run("replay", "--session", "tp", "--phases", "nope", "--endpoint", "http://127.0.0.1:9", "--store",
               str(store), check=False)
    assert proc.returncode == 2 and "--phases: phase 'nope' is not a phase of session tp" in proc.stderr.decode()
    proc = run("training", "show", "nosuch", "--store", str(store), check=False)
    assert proc.returncode == 1 and "nosuch" in proc.stderr.decode()
    assert not (tmp_path / "x").exists()


def test_ctrl_c_stops_an_export_and_leaves_no_file(tmp_path):
    store = tmp_path / "store"
    run("seed", "--pattern", "training-phases", "--session-id", "big", "--duration", "60", "--rate", "1500",
        "--seed", "1", "--start-time", START, "--signals", "traces", "--store", str(store))
    out = tmp_path / "out"
    proc = subprocess.Popen([binary(), "training", "export", "big", "--out", str(out), "--format", "csv", "--store",
                             str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while not (out / "spans.csv.tmp").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.005)
    assert (out / "spans.csv.tmp").exists(), "the export did not start writing"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped by a signal; nothing was written" in err.decode()
    assert list(out.iterdir()) == []
