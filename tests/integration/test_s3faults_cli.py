"""otelrr's S3 store when the server misbehaves: the real otelrr binary against a real S3 server (SeaweedFS,
tests/integration/s3server.py) through a fault-injecting proxy (tests/integration/s3proxy.py) that answers
503 SlowDown, resets connections in the middle of uploads and downloads, answers slowly, stays busy for good,
or is not there at all.

What must hold: a transient fault is retried inside the store and changes nothing (each one costs exactly one
more request; the session verifies, has the same objects, and exports and replays exactly as the same seed made
directly against the server); a server that stays busy fails a command in one retry budget (30 s) with a
one-line message, and leaves no session that claims to be complete; an endpoint that is down fails a command in
one retry budget with a message that names it. Every command's duration is printed (-s shows them).

ctest sets OTELRR_BIN to the otelrr binary; weed comes from OTELRR_WEED or scripts/install-peers. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q -s tests/integration/test_s3faults_cli.py
"""

import collections
import dataclasses
import hashlib
import json
import os
import subprocess
import tempfile
import threading
import time

import pytest

from s3proxy import S3Proxy, s3_proxy  # noqa: F401 (s3_proxy is a fixture)
from s3server import ACCESS_KEY, REGION, SECRET_KEY, bucket, s3_server  # noqa: F401 (fixtures)
from test_replay_cli import HttpSink
from test_seed_cli import binary

SESSION = "s1"
START = "2026-01-01T00:00:00Z"
# 120000 traces in one hour of simulated time: three raw files, traces of 22 MB and logs of 10 MB, so both go up
# as multipart uploads (parts of 5 MiB: 4 and 2 parts) and come down in several ranged GETs (of 8 MiB).
SEED = ("seed", "--session-id", SESSION, "--rate", "2000", "--duration", "60", "--seed", "11", "--start-time", START)
LEASE = ".otelrr-lock-"
RETRY_BUDGET = 30  # seconds: S3ClientOptions::retry_budget


@dataclasses.dataclass
class Run:
    returncode: int
    stdout: bytes  # or, with digest, (lines, sha256) of it
    stderr: str
    seconds: float


def otelrr(endpoint, bucket, *args, digest=False, check=True, timeout=300):
    """Runs `otelrr *args --store s3://bucket` with S3_ENDPOINT=endpoint and the test credentials (no other S3,
    MinIO or AWS variable). With digest, stdout is kept as (lines, sha256) only (an export is 460 MB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "MINIO_", "AWS_", "OTELRR_STORE"))}
    env.update(S3_ENDPOINT=endpoint, S3_ACCESS_KEY_ID=ACCESS_KEY, S3_SECRET_ACCESS_KEY=SECRET_KEY, S3_REGION=REGION)
    started = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([binary(), *args, "--store", f"s3://{bucket}"], stdout=subprocess.PIPE, stderr=err,
                                env=env)
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            sha, lines, out = hashlib.sha256(), 0, []
            for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):
                if digest:
                    sha.update(chunk)
                    lines += chunk.count(b"\n")
                else:
                    out.append(chunk)
            proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        run = Run(proc.returncode, (lines, sha.hexdigest()) if digest else b"".join(out), err.read().decode(),
                  time.monotonic() - started)
    print(f"\n    otelrr {' '.join(args)}: exit {run.returncode} after {run.seconds:.2f} s")
    assert run.returncode != -9, f"otelrr {' '.join(args)} did not finish within {timeout} s"
    if check and run.returncode != 0:
        raise AssertionError(f"otelrr {' '.join(args)} failed ({run.returncode}): {run.stderr}")
    return run


def raw_objects(s3_server, bucket):
    """{key: (size, ETag)} of the session's objects but metadata.json and its lease, listed by the reference client.
    Same bytes in the same parts give the same ETags."""
    listing = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=f"sessions/{SESSION}/")
    return {o["Key"]: (o["Size"], o["ETag"]) for o in listing.get("Contents", [])
            if not o["Key"].endswith("/metadata.json") and LEASE not in o["Key"]}


def unfinished_uploads(s3_server, bucket):
    """The keys of the multipart uploads started in the bucket and never completed or aborted."""
    return [u["Key"] for u in s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def requests_but_leases(entries):
    """Requests by method, leaving out those of lease objects (renewed every 10 s, so their number depends on time)."""
    return collections.Counter(method for method, target, *_ in entries if LEASE not in target)


@dataclasses.dataclass
class Reference:
    objects: dict  # raw_objects of the session
    export: tuple  # (lines, sha256) of `sessions export`
    requests: collections.Counter  # what a seed without faults sends through the proxy (requests_but_leases)


@pytest.fixture(scope="module")
def reference(s3_server):
    """The session seeded directly against the server, and the requests the same seed makes through a proxy that
    injects nothing (which must not change a byte of it)."""
    direct = s3_server.create_bucket("reference")
    otelrr(s3_server.endpoint, direct, *SEED)
    objects = raw_objects(s3_server, direct)
    # Multipart objects have an ETag "<md5 of the parts' md5s>-<parts>".
    multipart = sorted((key.split("/")[-1].split("-")[0], size > (16 << 20), etag.strip('"').split("-")[1])
                       for key, (size, etag) in objects.items() if "-" in etag)
    assert multipart == [("logs", False, "2"), ("traces", True, "4")], objects
    export = otelrr(s3_server.endpoint, direct, "sessions", "export", SESSION, digest=True).stdout
    with S3Proxy(s3_server.endpoint) as proxy:
        via = s3_server.create_bucket("reference-via-proxy")
        otelrr(proxy.endpoint, via, *SEED)
    assert raw_objects(s3_server, via) == objects
    assert proxy.faults.injected == {}
    return Reference(objects, export, requests_but_leases(proxy.faults.log))


def assert_same_session(s3_server, bucket, reference, orphans=(), via=None, export=True):
    """The bucket's session is complete and the same as the reference: it verifies, has the same objects, exports the
    same lines (unless not `export`: the same objects hold the same bytes), and no upload is left unfinished but those
    of the keys `orphans`. Verified and exported through the endpoint `via` (default: the server's)."""
    via = via or s3_server.endpoint
    otelrr(via, bucket, "sessions", "verify", SESSION)
    meta = json.loads(s3_server.client().get_object(Bucket=bucket, Key=f"sessions/{SESSION}/metadata.json")["Body"]
                      .read())
    assert meta["status"] == "completed"
    assert raw_objects(s3_server, bucket) == reference.objects
    if export:
        assert otelrr(via, bucket, "sessions", "export", SESSION, digest=True).stdout == reference.export
    assert unfinished_uploads(s3_server, bucket) == list(orphans)


def assert_retried_once_each(proxy, reference, injected):
    """Exactly the faults `injected` ({name: count}) were injected, and each cost exactly one more request."""
    assert proxy.faults.injected == injected
    faulted = requests_but_leases(entry for entry in proxy.faults.log if entry[2] is not None)
    assert requests_but_leases(proxy.faults.log) == reference.requests + faulted


@pytest.mark.parametrize("match", [None, "partNumber=", "POST "], ids=["first-requests", "parts", "posts"])
def test_slowdown_storm_during_seed_is_retried(s3_server, s3_proxy, bucket, reference, match):
    """Five 503 SlowDown answers: to the first requests (opening the store, the lock, metadata.json), to the
    multipart parts (answered before their 5 MiB body is sent: Expect: 100-continue), or to the POSTs that start and
    complete the multipart uploads."""
    s3_proxy.faults.slowdown(5, match=match)
    otelrr(s3_proxy.endpoint, bucket, *SEED)
    assert_retried_once_each(s3_proxy, reference, {"slowdown": 5})
    assert_same_session(s3_server, bucket, reference)


def test_slowdown_storm_during_reads_is_retried(s3_server, s3_proxy, bucket, reference):
    """Five 503 SlowDown answers to the first requests of `sessions list`, `verify` and `export`: each prints what it
    prints without them."""
    otelrr(s3_server.endpoint, bucket, *SEED)
    for n, command in enumerate((("list", "--json"), ("verify", SESSION, "--json")), 1):
        s3_proxy.faults.slowdown(5)
        via_proxy = otelrr(s3_proxy.endpoint, bucket, "sessions", *command)
        assert s3_proxy.faults.injected == {"slowdown": 5 * n}
        assert via_proxy.stdout == otelrr(s3_server.endpoint, bucket, "sessions", *command).stdout
    s3_proxy.faults.slowdown(5)
    assert otelrr(s3_proxy.endpoint, bucket, "sessions", "export", SESSION, digest=True).stdout == reference.export
    assert s3_proxy.faults.injected == {"slowdown": 15}


@pytest.mark.parametrize("match", ["partNumber=", "PUT "], ids=["parts", "puts"])
def test_connection_resets_mid_upload_are_retried(s3_server, s3_proxy, bucket, reference, match):
    """Three uploads cut off half-way through their body by a connection reset, never answered: multipart parts, or
    any PUT (the lock, metadata.json, the small metrics file, parts)."""
    s3_proxy.faults.reset_upload(3, match=match)
    otelrr(s3_proxy.endpoint, bucket, *SEED)
    assert_retried_once_each(s3_proxy, reference, {"reset_upload": 3})
    assert_same_session(s3_server, bucket, reference)


@pytest.mark.parametrize("match", [LEASE, "partNumber=", "?uploadId=", "?uploads"],
                         ids=["lease", "part", "complete", "initiate"])
def test_a_lost_answer_is_retried(s3_server, s3_proxy, bucket, reference, match):
    """The server does what a request asks, but its answer is lost (the connection is reset instead) and the store
    sends the request again: for the lease's conditional PUT (the retry is refused, 412, by the lease the first
    attempt created: the store must recognise it as its own), a multipart part, the completion of an upload (done
    twice), or the start of one.

    That last one would leave an orphan: the retry starts a second upload of the traces file, which is completed,
    and the first, which otelrr never learnt of, stays unfinished (its parts stored): the writer's close aborts
    the uploads left open under the session's raw/, so none is left."""
    s3_proxy.faults.lose_answer(1, match=match)
    otelrr(s3_proxy.endpoint, bucket, *SEED)
    assert s3_proxy.faults.injected == {"lose_answer": 1}
    assert_same_session(s3_server, bucket, reference, orphans=(), export=False)


def replayed(endpoint, bucket):
    """The requests `otelrr replay` sends of the session (at full speed, timestamps as recorded), as a sorted list of
    (signal, sha256 of the body)."""
    sink = HttpSink()
    try:
        run = otelrr(endpoint, bucket, "replay", "--session", SESSION, "--speed", "0", "--timestamps", "none",
                     "--endpoint", sink.url, "--json")
    finally:
        sink.close()
    report = json.loads(run.stdout)
    assert (report["ok"], report["failedRequests"], report["sentRequests"]) == (True, 0, len(sink.got))
    return sorted((signal, hashlib.sha256(body).hexdigest()) for signal, body in sink.got)


def test_connection_resets_mid_download_are_retried(s3_server, s3_proxy, bucket, reference):
    """Three ranged GETs of raw files cut off half-way through their body, during an export and during a replay."""
    otelrr(s3_server.endpoint, bucket, *SEED)
    s3_proxy.faults.reset_download(3, match="/raw/")
    assert otelrr(s3_proxy.endpoint, bucket, "sessions", "export", SESSION, digest=True).stdout == reference.export
    assert s3_proxy.faults.injected == {"reset_download": 3}
    direct = replayed(s3_server.endpoint, bucket)
    s3_proxy.faults.reset_download(3, match="/raw/")
    assert replayed(s3_proxy.endpoint, bucket) == direct
    assert s3_proxy.faults.injected == {"reset_download": 6}
    assert len(direct) == reference.export[0]  # one request per exported line


def test_a_slow_server_is_waited_for(s3_server, s3_proxy, bucket, reference):
    """Every request waits 0.2 s before it is forwarded: seed, verify and export."""
    s3_proxy.faults.delay(0.2)
    otelrr(s3_proxy.endpoint, bucket, *SEED)
    assert_same_session(s3_server, bucket, reference, via=s3_proxy.endpoint)
    assert s3_proxy.faults.injected == {}


def test_a_server_that_stays_busy_fails_the_command_in_one_retry_budget(s3_server, s3_proxy, bucket):
    """From the first multipart part on, every request is answered 503 SlowDown. The seed fails after one retry
    budget (each later request, such as the abort of the upload, metadata.json marked failed and the lease's
    release, is then sent once, not retried for another budget), with one line that says to try again later.

    It leaves metadata.json "active" (the write of "failed" was refused too), no raw file, and one orphan: the
    multipart upload of the traces file, started before the server turned busy, whose abort was refused. The
    next command that recovers the session (here a seed) marks it failed / interrupted and aborts that upload,
    so no parts stay stored."""
    s3_proxy.faults.fail_always(503, "SlowDown", match="partNumber=")
    run = otelrr(s3_proxy.endpoint, bucket, *SEED, check=False)
    assert run.returncode == 1
    assert RETRY_BUDGET - 5 < run.seconds < RETRY_BUDGET + 10
    assert run.stderr.count("\n") == 1 and run.stderr.startswith(f"otelrr: session {SESSION}: "), run.stderr
    assert "the S3 server stayed busy (SlowDown: Please reduce your request rate.); try again later" in run.stderr
    s3_proxy.faults.clear()

    client = s3_server.client()
    meta_key = f"sessions/{SESSION}/metadata.json"
    assert json.loads(client.get_object(Bucket=bucket, Key=meta_key)["Body"].read())["status"] == "active"
    assert raw_objects(s3_server, bucket) == {}
    orphans = unfinished_uploads(s3_server, bucket)
    assert len(orphans) == 1 and orphans[0].startswith(f"sessions/{SESSION}/raw/") and "/traces-" in orphans[0]

    # Recovery needs the lease to have expired (30 s after it was taken, at the seed's start).
    lease = json.loads(client.get_object(Bucket=bucket, Key=f"sessions/{SESSION}/{LEASE}writer")["Body"].read())
    time.sleep(max(0.0, int(lease["expiresUnixNano"]) / 1e9 - time.time() + 0.5))
    recovered = otelrr(s3_server.endpoint, bucket, "seed", "--session-id", "s2", "--rate", "1", "--duration", "1")
    assert f"otelrr seed: session {SESSION}: recovered: kept 0 files (0 records)" in recovered.stderr, recovered.stderr
    meta = json.loads(client.get_object(Bucket=bucket, Key=meta_key)["Body"].read())
    assert (meta["status"], meta["statusReason"], meta["files"]) == ("failed", "interrupted", [])
    otelrr(s3_server.endpoint, bucket, "sessions", "verify", SESSION)
    assert unfinished_uploads(s3_server, bucket) == []


def test_an_endpoint_that_is_down_fails_in_one_retry_budget_naming_it(s3_proxy, bucket):
    s3_proxy.stop()  # the port is closed: connections are refused
    run = otelrr(s3_proxy.endpoint, bucket, "sessions", "list", check=False)
    assert run.returncode == 1
    assert run.seconds < RETRY_BUDGET + 10
    assert run.stderr == (f"otelrr: cannot reach the S3 endpoint {s3_proxy.endpoint}: Couldn't connect to server "
                          "(check S3_ENDPOINT or MINIO_ENDPOINT, and that the server runs)\n")
