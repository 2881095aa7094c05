"""Scale-out (issue 16) end to end: a session replayed by N processes with `--shard K/N --start-at T` into one
`otelrr capture` holds, item for item, what one replay of it delivers (checked with `otelrr sessions diff`),
every trace whole from one shard; `replay-report merge` adds the shards' reports up and notices a missing
one; the shard comes from JOB_COMPLETION_INDEX with --shards N (a Kubernetes Indexed Job); bad input is a
usage error.

By hand: OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_scale_cli.py
"""

import json
import os
import shutil
import subprocess
import time

import pytest

from test_capture_cli import Capture, binary
from test_replay_cli import START, messages, run

SHARDS = 4


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = tmp_path_factory.mktemp("scale-store")
    run("seed", "--session-id", "src", "--pattern", "payment-failure", "--duration", "10", "--rate", "20",
        "--seed", "21", "--start-time", START, "--store", str(store))
    return store


def replay_args(store, capture, *extra):
    return [binary(), "replay", "--session", "src", "--speed", "0", "--endpoint", f"http://{capture.http}",
            "--store", str(store), "--json", *extra]


def trace_ids(msgs):
    return {sp.trace_id for n, m in msgs if n == "traces" for rs in m.resource_spans for ss in rs.scope_spans
            for sp in ss.spans}


def sharded_into(store, capture, tmp_path, prefix):
    """SHARDS replayers of "src" with one --start-at into `capture`, each exiting 0: [(report, its file)]."""
    start_at = str(time.time_ns() + 1_500_000_000)
    procs = [subprocess.Popen(replay_args(store, capture, "--shard", f"{k}/{SHARDS}", "--start-at", start_at),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for k in range(SHARDS)]
    out = []
    for k, p in enumerate(procs):
        stdout, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
        report = json.loads(stdout)
        assert report["shard"] == k and report["shards"] == SHARDS and report["startWallUnixNano"] == int(start_at)
        path = tmp_path / f"{prefix}{k}.json"
        path.write_bytes(stdout)
        out.append((report, path))
    return out


def test_shards_together_deliver_what_one_replay_does(store, tmp_path):
    # N shards from one start into one capture.
    sharded = Capture(store)
    reports = [path for _, path in sharded_into(store, sharded, tmp_path, "r")]
    sharded.stop()
    # One replay into another capture.
    single = Capture(store)
    subprocess.run(replay_args(store, single), check=True, capture_output=True, timeout=60)
    single.stop()

    diff = run("sessions", "diff", single.session, sharded.session, "--json", "--store", str(store), check=False)
    d = json.loads(diff.stdout)
    assert diff.returncode == 0 and d["identical"], d["total"]
    counts = json.loads(run("sessions", "show", "src", "--json", "--store", str(store)).stdout)["counts"]
    assert d["total"]["matched"] == counts["spans"] + counts["dataPoints"] + counts["logRecords"]

    # The merged reports: every shard once, the items of the session.
    merged = run("replay-report", "merge", *map(str, reports), "--json")
    m = json.loads(merged.stdout)
    assert m["ok"] and m["problems"] == [] and m["reports"] == SHARDS
    assert (m["spans"], m["dataPoints"], m["logRecords"]) == (counts["spans"], counts["dataPoints"], counts["logRecords"])
    foreign = tmp_path / "not-a-report.json"
    foreign.write_text("{}")
    refused = run("replay-report", "merge", str(foreign), check=False)
    assert refused.returncode == 1 and b"not a replay report" in refused.stderr
    missing = run("replay-report", "merge", *map(str, reports[:-1]), check=False)
    assert missing.returncode == 1 and f"shard {SHARDS - 1}/{SHARDS} is missing".encode() in missing.stdout


def test_each_trace_comes_whole_from_one_shard(store):
    # Each shard into a capture of its own: their traces are disjoint and together all of the session's.
    seen = set()
    src = trace_ids(messages(store, "src"))
    for k in range(SHARDS):
        cap = Capture(store)
        subprocess.run(replay_args(store, cap, "--shard", f"{k}/{SHARDS}"), check=True, capture_output=True, timeout=60)
        cap.stop()
        ids = trace_ids(messages(store, cap.session))
        assert ids and not ids & seen
        seen |= ids
    assert seen == src


def test_the_shard_from_a_kubernetes_indexed_job(store):
    cap = Capture(store)
    env = dict(os.environ, JOB_COMPLETION_INDEX="2")
    by_env = subprocess.run(replay_args(store, cap, "--shards", str(SHARDS)), env=env, capture_output=True, timeout=60)
    by_flag = subprocess.run(replay_args(store, cap, "--shard", f"2/{SHARDS}"), capture_output=True, timeout=60)
    cap.stop()
    assert by_env.returncode == 0, by_env.stderr.decode()
    a, b = json.loads(by_env.stdout), json.loads(by_flag.stdout)
    assert a["shard"] == b["shard"] == 2
    assert (a["spans"], a["dataPoints"], a["logRecords"]) == (b["spans"], b["dataPoints"], b["logRecords"])


@pytest.mark.parametrize("args,env,message", [
    (["--shard", "4/4"], {}, b"--shard '4/4' is not K/N"),
    (["--shard", "x"], {}, b"is not K/N"),
    (["--shards", "4"], {"JOB_COMPLETION_INDEX": ""}, b"JOB_COMPLETION_INDEX"),
    (["--shards", "4"], {"JOB_COMPLETION_INDEX": "7"}, b"is not below --shards 4"),
    (["--start-at", "2020-01-01T00:00:00Z"], {}, b"in the past"),
    (["--start-at", "soon"], {}, b"is not an RFC 3339 time"),
    (["--start-at", "2100-01-01T00:00:00Z"], {}, b"within the next 24 hours"),
    (["--shards", "0"], {"JOB_COMPLETION_INDEX": "0"}, b"--shards 0"),
    (["--shards", "2", "--shard", "1/2"], {"JOB_COMPLETION_INDEX": "0"}, b"not both"),
])
def test_bad_shard_flags_are_usage_errors(store, args, env, message):
    env = {k: v for k, v in dict(os.environ, **env).items() if v}
    p = subprocess.run([binary(), "replay", "--session", "src", "--store", str(store), *args], env=env,
                       capture_output=True, timeout=30)
    assert p.returncode == 2 and message in p.stderr, p.stderr.decode()


def test_a_split_session_replays_each_shard_from_its_own_session(store, tmp_path):
    split = json.loads(run("sessions", "split", "src", "--shards", str(SHARDS), "--store", str(store), "--json").stdout)
    ids = [s["sessionId"] for s in split["sessions"]]
    assert ids == [f"src.shard-{k}-of-{SHARDS}" for k in range(SHARDS)]
    counts = json.loads(run("sessions", "show", "src", "--json", "--store", str(store)).stdout)["counts"]
    for key in ("spans", "dataPoints", "logRecords"):
        assert sum(s[key] for s in split["sessions"]) == counts[key]
    for sid in ids:
        assert json.loads(run("sessions", "verify", sid, "--store", str(store), "--json").stdout)["ok"]
        meta = json.loads(run("sessions", "show", sid, "--store", str(store)).stdout)
        assert meta["shardOf"] == {"sessionId": "src", "shard": ids.index(sid), "shards": SHARDS}

    # Four shards read from their own sessions, one start: what one replay delivers, item for item.
    sharded = Capture(store)
    paths = []
    for k, (report, path) in enumerate(sharded_into(store, sharded, tmp_path, "split")):
        assert report["shardSession"] == ids[k]
        assert report["spans"] == split["sessions"][k]["spans"]
        paths.append(path)
    sharded.stop()
    merged = json.loads(run("replay-report", "merge", *map(str, paths), "--json").stdout)
    assert merged["ok"] and merged["reports"] == SHARDS and merged["spans"] == counts["spans"]
    single = Capture(store)
    subprocess.run(replay_args(store, single), check=True, capture_output=True, timeout=60)
    single.stop()
    diff = run("sessions", "diff", single.session, sharded.session, "--json", "--store", str(store), check=False)
    d = json.loads(diff.stdout)
    assert diff.returncode == 0 and d["identical"], d["total"]

    # --whole-session ignores the split and sends the same.
    whole = Capture(store)
    p = subprocess.run(replay_args(store, whole, "--shard", f"1/{SHARDS}", "--whole-session"), capture_output=True,
                       timeout=60)
    whole.stop()
    assert p.returncode == 0 and "shardSession" not in json.loads(p.stdout)
    assert json.loads(p.stdout)["spans"] == split["sessions"][1]["spans"]

    # Splitting again is refused and changes nothing; so is splitting a shard, or into one shard.
    again = run("sessions", "split", "src", "--shards", str(SHARDS), "--store", str(store), check=False)
    assert again.returncode == 1 and b"exists already" in again.stderr
    shard = run("sessions", "split", ids[0], "--shards", "2", "--store", str(store), check=False)
    assert shard.returncode == 1 and b"is a shard of src already" in shard.stderr
    assert not (store / "sessions" / f"{ids[0]}.shard-0-of-2").exists()
    one = run("sessions", "split", "src", "--shards", "1", "--store", str(store), check=False)
    assert one.returncode == 2 and b"2 to 1024 shards" in one.stderr
    # The shards are the smallest seed sessions, but `replay --session auto` never picks a part of a session.
    picked = run("replay", "--strategy", "smallest", "--filter-type", "seed", "--endpoint", "http://127.0.0.1:9",
                 "--speed", "0", "--max-retry-seconds", "0", "--json", "--store", str(store), check=False)
    assert json.loads(picked.stdout)["sessionId"] == "src"
    for sid in ids:
        run("sessions", "delete", sid, "--store", str(store))


def test_shards_of_an_earlier_session_of_the_same_id_are_refused(tmp_path):
    store = tmp_path / "store"

    def seed(start):
        run("seed", "--session-id", "re", "--duration", "3", "--rate", "10", "--seed", "4", "--start-time", start,
            "--store", str(store))

    seed("2026-01-01T00:00:00Z")
    run("sessions", "split", "re", "--shards", "2", "--store", str(store))
    # Deleting a session deletes its shards: parts of it, of no use without it.
    run("sessions", "delete", "re", "--store", str(store))
    assert not (store / "sessions").exists() or not any((store / "sessions").iterdir())
    # Shards can still outlive their session (removed by hand, say).
    seed("2026-01-01T00:00:00Z")
    run("sessions", "split", "re", "--shards", "2", "--store", str(store))
    shutil.rmtree(store / "sessions" / "re")
    seed("2026-02-01T00:00:00Z")  # the same id, another session: its old shards must not be sent for it
    cap = Capture(store)
    args = [a if a != "src" else "re" for a in replay_args(store, cap, "--shard", "0/2")]
    stale = subprocess.run(args, capture_output=True, timeout=60)
    whole = subprocess.run(args + ["--whole-session"], capture_output=True, timeout=60)
    cap.stop()
    assert stale.returncode == 1 and b"is not shard 0/2 of session re as it is now" in stale.stderr, stale.stderr
    assert whole.returncode == 0, whole.stderr.decode()
