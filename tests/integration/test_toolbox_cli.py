"""The session toolbox end to end: `otelrr sessions slice` (a phase, a window) and `sessions merge` (of
colliding and non-colliding seeds) make sessions that verify, hold exactly the expected items (decoded by
the reference from `sessions export`) and unique ids; `otelrr replay --session a,b` into a real capture
reports each session and their total.

ctest sets OTELRR_BIN to the otelrr binary. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_toolbox_cli.py
"""

import json

import pytest

from test_replay_cli import START, messages, replay_into_capture, run

START_NANOS = 1767225600 * 10**9  # START as unix nanoseconds
SECOND = 10**9


def items(msgs):
    """Every span, data point and log record of [(signal, request)]: (signal, its own time, trace id, span id)."""
    out = []
    for signal, msg in msgs:
        if signal == "traces":
            for rs in msg.resource_spans:
                for ss in rs.scope_spans:
                    out += [("traces", s.start_time_unix_nano, s.trace_id, s.span_id) for s in ss.spans]
        elif signal == "logs":
            for rl in msg.resource_logs:
                for sl in rl.scope_logs:
                    out += [("logs", r.time_unix_nano or r.observed_time_unix_nano, r.trace_id, r.span_id)
                            for r in sl.log_records]
        else:
            for rm in msg.resource_metrics:
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        kind = m.WhichOneof("data")
                        points = getattr(m, kind).data_points
                        out += [("metrics", p.time_unix_nano, b"", b"") for p in points]
    return out


def show(store, session):
    return json.loads(run("sessions", "show", session, "--json", "--store", str(store)).stdout)


def verify(store, session):
    proc = run("sessions", "verify", session, "--json", "--store", str(store), check=False)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["ok"], report
    return report


def session_ids(store):
    return sorted(m["sessionId"] for m in json.loads(run("sessions", "list", "--json", "--store", str(store)).stdout))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """pf-a and pf-b: the payment-failure seed (startup, failure, rampdown of 10 s) with the same --seed,
    so the same trace ids, pf-b starting 60 s later; pf-c another --seed."""
    s = tmp_path_factory.mktemp("toolbox-store")
    for name, seed, start in (("pf-a", "7", START), ("pf-b", "7", "2026-01-01T00:01:00Z"), ("pf-c", "8", START)):
        run("seed", "--pattern", "payment-failure", "--session-id", name, "--duration", "30", "--rate", "20",
            "--seed", seed, "--start-time", start, "--store", str(s))
    return s


def test_a_sliced_phase_holds_exactly_the_phases_items(store):
    dataset = json.loads(run("training", "show", "pf-a", "--json", "--store", str(store)).stdout)
    failure = next(p for p in dataset["phases"] if p["name"] == "failure")
    proc = run("sessions", "slice", "pf-a", "--phases", "failure", "--to-session", "pf-a-failure", "--json",
               "--store", str(store))
    result = json.loads(proc.stdout)
    meta = show(store, "pf-a-failure")
    for key in ("spans", "dataPoints", "logRecords"):
        assert result[key] == meta["counts"][key] == failure["counts"][key] > 0, key
    report = verify(store, "pf-a-failure")
    assert report["spans"] == failure["counts"]["spans"]
    assert meta["sessionType"] == "seed" and meta["createdBy"] == "otelrr sessions slice"
    assert meta["description"].startswith("sliced from session pf-a: ") and "phases failure" in meta["description"]
    assert [(p["name"], p["startTime"], p["endTime"]) for p in meta["phases"]] == [
        ("failure", failure["start"], failure["end"])]
    lo, hi = int(failure["startUnixNano"]), int(failure["endUnixNano"])
    got = items(messages(store, "pf-a-failure"))
    assert len(got) == sum(failure["counts"].values())
    assert all(lo <= t < hi for _, t, _, _ in got)
    # The same spans as the source's failure phase, ids and all.
    source = items(messages(store, "pf-a"))
    assert sorted(i for i in got if i[0] == "traces") == sorted(
        i for i in source if i[0] == "traces" and lo <= i[1] < hi)


def test_a_window_by_offset_rfc3339_or_nanos_is_the_same_slice(store):
    counts = []
    for i, (frm, to) in enumerate((("5s", "+15s"), ("2026-01-01T00:00:05Z", "2026-01-01T00:00:15Z"),
                                   (str(START_NANOS + 5 * SECOND), str(START_NANOS + 15 * SECOND)))):
        name = f"pf-a-window-{i}"
        run("sessions", "slice", "pf-a", "--from", frm, "--to", to, "--to-session", name, "--store", str(store))
        verify(store, name)
        meta = show(store, name)
        assert START_NANOS + 5 * SECOND <= int(meta["firstArrivalUnixNano"])
        assert int(meta["lastArrivalUnixNano"]) < START_NANOS + 15 * SECOND
        assert meta["startTime"] == "2026-01-01T00:00:05.000Z"
        # The startup phase ends at 10 s, failure begins there: both clipped to the window.
        assert [(p["name"], p["startTime"], p["endTime"]) for p in meta["phases"]] == [
            ("startup", "2026-01-01T00:00:05.000Z", "2026-01-01T00:00:10.000Z"),
            ("failure", "2026-01-01T00:00:10.000Z", "2026-01-01T00:00:15.000Z")]
        got = items(messages(store, name))
        assert all(START_NANOS + 5 * SECOND <= t < START_NANOS + 15 * SECOND for _, t, _, _ in got)
        counts.append(meta["counts"])
    assert counts[0] == counts[1] == counts[2] and counts[0]["spans"] > 0


def test_what_cannot_be_sliced_or_merged_is_refused_and_leaves_nothing(store):
    before = session_ids(store)
    cases = [
        (["sessions", "slice", "pf-a", "--from", "10m", "--to-session", "x"], 1, "lies outside session pf-a"),
        (["sessions", "slice", "pf-a", "--services", "nope", "--to-session", "x"], 1, "no item of service nope"),
        (["sessions", "slice", "pf-a", "--phases", "nope", "--to-session", "x"], 2, "not a phase of session pf-a"),
        (["sessions", "slice", "pf-a", "--from", "yesterday", "--to-session", "x"], 2, "is not a time"),
        (["sessions", "slice", "pf-a", "--to-session", "pf-b"], 1, "already exists"),
        (["sessions", "slice", "nope", "--to-session", "x"], 1, "nope"),
        (["sessions", "merge", "pf-a", "nope", "--to-session", "x"], 1, "nope"),
        (["sessions", "merge", "pf-a", "pf-c", "--to-session", "pf-b"], 1, "already exists"),
    ]
    for args, code, message in cases:
        proc = run(*args, "--store", str(store), check=False)
        err = proc.stderr.decode()
        assert proc.returncode == code, (args, err)
        assert message in err and err.count("\n") == 1, (args, err)
    assert session_ids(store) == before


def test_merging_colliding_seeds_remaps_ids_and_adds_up(store):
    a, b = show(store, "pf-a"), show(store, "pf-b")
    result = json.loads(run("sessions", "merge", "pf-a", "pf-b", "--to-session", "ab", "--json",
                            "--store", str(store)).stdout)
    assert [(s["sessionId"], s["idsRemapped"], s["shiftNanos"]) for s in result["sources"]] == [
        ("pf-a", False, 0), ("pf-b", True, -60 * SECOND)]
    meta = show(store, "ab")
    verify(store, "ab")
    for key in ("traces", "spans", "dataPoints", "logRecords", "uncompressedBytes"):
        assert meta["counts"][key] == a["counts"][key] + b["counts"][key], key
    for signal in ("traces", "metrics", "logs"):
        assert meta["counts"]["requests"][signal] == a["counts"]["requests"][signal] + b["counts"]["requests"][signal]
    got = items(messages(store, "ab"))
    spans = [i for i in got if i[0] == "traces"]
    assert len({t for _, _, t, _ in spans}) == meta["counts"]["traces"]  # no trace id shared between a and b
    assert len({(t, s) for _, _, t, s in spans}) == len(spans)
    # Aligned on pf-a's start: both copies' items lie in pf-a's 30 s.
    assert all(START_NANOS - 5 * SECOND <= t < START_NANOS + 35 * SECOND for _, t, _, _ in got)
    assert meta["startTime"] == a["startTime"]
    assert [p["name"] for p in meta["phases"]] == ["startup", "failure", "rampdown"]  # the same once aligned


def test_merging_with_keep_leaves_times_and_distinct_ids(store):
    result = json.loads(run("sessions", "merge", "pf-a", "pf-c", "--align", "keep", "--to-session", "ac", "--json",
                            "--store", str(store)).stdout)
    assert [s["idsRemapped"] for s in result["sources"]] == [False, False]
    verify(store, "ac")
    a, c, ac = show(store, "pf-a"), show(store, "pf-c"), show(store, "ac")
    assert ac["counts"]["spans"] == a["counts"]["spans"] + c["counts"]["spans"]
    assert ac["firstArrivalUnixNano"] == min(a["firstArrivalUnixNano"], c["firstArrivalUnixNano"])


@pytest.mark.parametrize("mode", ["together", "sequential"])
def test_replay_of_two_sessions_reports_each_and_the_total(store, tmp_path, mode):
    a, c = show(store, "pf-a"), show(store, "pf-c")
    extra = ("--sequential",) if mode == "sequential" else ()
    report, summary, _ = replay_into_capture(
        tmp_path, "both", (), "--session", "pf-a,pf-c", *extra, "--speed", "0", "--timestamps", "none",
        "--store", str(store))
    assert report["ok"] and report["mode"] == mode
    assert [s["sessionId"] for s in report["sessions"]] == ["pf-a", "pf-c"]
    for part, meta in zip(report["sessions"], (a, c)):
        assert part["ok"] and part["failedRequests"] == 0
        assert part["sentRequests"] == part["acceptedRequests"] == meta["counts"]["requests"]["traces"] + \
            meta["counts"]["requests"]["metrics"] + meta["counts"]["requests"]["logs"]
        for key in ("spans", "dataPoints", "logRecords"):
            assert part[key] == meta["counts"][key], key
    total = report["total"]
    assert total["sessions"] == ["pf-a", "pf-c"]
    for key in ("sentRequests", "acceptedRequests", "spans", "dataPoints", "logRecords"):
        assert total[key] == sum(part[key] for part in report["sessions"]), key
    assert summary["spans"] == total["spans"] and summary["logRecords"] == total["logRecords"]


def test_replay_of_two_sessions_in_text(store, tmp_path):
    proc = run("replay", "--session", "pf-a,pf-c", "--speed", "0", "--timestamps", "none",
               "--endpoint", "http://127.0.0.1:9", "--duration", "1", "--store", str(store), check=False)
    out = proc.stdout.decode()
    assert proc.returncode == 1  # nothing listens on port 9
    assert "Replay failed: pf-a" in out and "Replay failed: pf-c" in out
    assert "Total of 2 sessions (together, from one start): pf-a,pf-c" in out
