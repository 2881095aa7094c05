"""Sessions on S3: the operations the other suites check on the local store, again on a real S3 server
(SeaweedFS on loopback, with authentication; boto3 as the independent client that looks at what otelrr put
in the bucket): seed, verify, export, delete, auto-selection, replay into a capture recording into S3, the
serve API, import, copy to and from local disk, capture through the spool with kill -9 and recovery, the
environment families (S3_*, MINIO_*, AWS_*), and bad input that must give a one-line error and touch
nothing else in the bucket.

ctest sets OTELRR_BIN; OTELRR_WEED comes from scripts/install-peers. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_s3_cli.py
"""

import http.client
import itertools
import json
import os
import re
import signal
import subprocess
import time

import pytest

from s3server import s3_server  # noqa: F401 (a fixture)
from test_capture_cli import READY, binary, check_paused_session, full_disk_capture, trace_request

_buckets = itertools.count(1)


@pytest.fixture
def s3(s3_server, tmp_path):  # noqa: F811 (the fixture imported above)
    """A fresh bucket and an environment that reaches it with otelrr's S3_* variables."""
    bucket = s3_server.create_bucket(f"otelrr-test-{os.getpid()}-{next(_buckets)}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "MINIO_", "AWS_", "OTELRR_STORE"))}
    env.update(S3_ENDPOINT=s3_server.endpoint, S3_ACCESS_KEY_ID=s3_server.access_key,
               S3_SECRET_ACCESS_KEY=s3_server.secret_key, S3_REGION=s3_server.region,
               XDG_CACHE_HOME=str(tmp_path / "cache"))

    class Bucket:
        name = bucket
        uri = f"s3://{bucket}"
        server = s3_server
        client = s3_server.client()

        def run(self, *args, env_override=None, check=True, timeout=300):
            proc = subprocess.run([binary(), *args], capture_output=True, timeout=timeout,
                                  env={**env, **(env_override or {})})
            if check and proc.returncode != 0:
                raise AssertionError(f"otelrr {' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()}")
            return proc

        def keys(self, prefix=""):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

        def uploads(self):
            return self.client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])

        def environment(self):
            return dict(env)

    return Bucket()


def seed(s3, session, *args, store=None):
    return json.loads(s3.run("seed", "--session-id", session, "--rate", "20", "--duration", "3", "--seed", "5",
                             "--start-time", "2026-01-01T00:00:00Z", "--store", store or s3.uri, "--json",
                             *args).stdout)


def start_capture(s3, session, spool):
    """`otelrr capture --json` into the bucket through `spool`, and its ready line's match (READY)."""
    capture = subprocess.Popen([binary(), "capture", "--store", s3.uri, "--session", session, "--http", "127.0.0.1:0",
                                "--grpc", "127.0.0.1:0", "--spool", str(spool), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=s3.environment())
    m = READY.search(capture.stderr.readline().decode())
    if not m:
        capture.kill()
        raise AssertionError(f"capture did not start: {capture.stderr.read().decode()}")
    return capture, m


def export(s3, session, store):
    return s3.run("sessions", "export", session, "--store", store, "--out", "-").stdout


def test_seed_verify_export_list_delete_on_s3_match_the_local_store(s3, tmp_path):
    local = str(tmp_path / "local")
    on_s3 = seed(s3, "s1")
    on_disk = seed(s3, "s1", store=local)
    assert {k: on_s3[k] for k in ("spans", "dataPoints", "logRecords")} == \
        {k: on_disk[k] for k in ("spans", "dataPoints", "logRecords")}
    assert on_s3["storage"] == f"{s3.uri}/sessions/s1/"
    # The layout is the session format's, in the bucket.
    keys = s3.keys("sessions/s1/")
    assert "sessions/s1/metadata.json" in keys
    assert all(re.fullmatch(r"sessions/s1/(metadata\.json|annotations\.jsonl|raw/\d{4}-\d\d-\d\d/\d\d/"
                            r"(traces|metrics|logs)-\d+-[0-9a-f-]{36}\.otlp\.zst)", k) for k in keys), keys
    # Same seed, same bytes: the raw files on S3 are the local ones.
    for key in keys:
        if "/raw/" in key:
            body = s3.client.get_object(Bucket=s3.name, Key=key)["Body"].read()
            assert body == (tmp_path / "local" / key).read_bytes(), key
    verify = json.loads(s3.run("sessions", "verify", "s1", "--store", s3.uri, "--json").stdout)
    assert verify["ok"] and verify["spans"] == on_s3["spans"]
    assert export(s3, "s1", s3.uri) == export(s3, "s1", local)
    listed = json.loads(s3.run("sessions", "list", "--store", s3.uri, "--json").stdout)
    assert [m["sessionId"] for m in listed] == ["s1"] and listed[0]["status"] == "completed"
    assert s3.run("sessions", "delete", "s1", "--store", s3.uri).stdout == b"deleted session s1\n"
    assert s3.keys() == []
    missing = s3.run("sessions", "show", "s1", "--store", s3.uri, check=False)
    assert missing.returncode == 1
    assert missing.stderr.decode() == f"otelrr: session s1 does not exist (store: {s3.uri})\n"


def test_a_prefix_holds_the_sessions_and_keys_are_encoded(s3):
    # A prefix with characters that must be percent-encoded in URLs (and in the signature).
    uri = f"{s3.uri}/team a/x+y=z"
    seed(s3, "p1", store=uri)
    assert s3.keys()[0].startswith("team a/x+y=z/sessions/p1/")
    assert json.loads(s3.run("sessions", "verify", "p1", "--store", uri, "--json").stdout)["ok"]
    assert json.loads(s3.run("sessions", "list", "--store", s3.uri, "--json").stdout) == []  # not at the root


def test_replay_from_s3_into_a_capture_recording_into_s3(s3, tmp_path):
    seed(s3, "src")
    capture, m = start_capture(s3, "got", tmp_path / "spool")
    try:
        report = json.loads(s3.run("replay", "--store", s3.uri, "--session", "src", "--speed", "0", "--timestamps",
                                   "none", "--endpoint", f"http://{m.group(2)}", "--json").stdout)
        capture.send_signal(signal.SIGTERM)
        out, _ = capture.communicate(timeout=60)
    finally:
        if capture.poll() is None:
            capture.kill()
    summary = json.loads(out)
    assert report["ok"] and summary["status"] == "completed"
    assert summary["spans"] == report["spans"] and summary["requests"] == report["sentRequests"]
    # Timestamps none: the same requests (in the order the capture received them).
    assert sorted(export(s3, "got", s3.uri).splitlines()) == sorted(export(s3, "src", s3.uri).splitlines())
    assert not list((tmp_path / "spool").rglob("*.otlp.zst"))  # everything uploaded
    assert s3.uploads() == []
    # Auto-selection sees both, and picks by strategy.
    assert s3.run("replay", "--store", s3.uri, "--filter-type", "capture", "--endpoint", "http://127.0.0.1:9",
                  "--speed", "0", "--max-retry-seconds", "0", "--json", check=False).returncode == 1
    picked = s3.run("replay", "--store", s3.uri, "--strategy", "latest", "--endpoint", "http://127.0.0.1:9",
                    "--max-retry-seconds", "0", "--json", check=False)
    assert json.loads(picked.stdout)["sessionId"] == "got"


def test_a_full_spool_pauses_an_s3_capture_which_resumes_once_there_is_space(s3, tmp_path):
    """The full-disk pause of test_capture_cli.py with the store in S3: the spool is the 6 MiB tmpfs. The failed
    batch is taken back from the object the spool uploaded (the store's Truncate: the kept range copied into a
    new upload), recording resumes once the spool has space, and the session in the bucket holds exactly the
    acknowledged requests, verifies, and leaves no multipart upload behind."""
    acked, refusals, rc, err = full_disk_capture(tmp_path, s3.uri, env=s3.environment())
    assert all(s == 503 and r for s, r in refusals), refusals
    assert rc == 0, err
    meta = json.loads(s3.run("sessions", "show", "full", "--store", s3.uri, "--json").stdout)
    recorded = [int(span["traceId"], 16) for line in export(s3, "full", s3.uri).decode().splitlines()
                for rs in json.loads(line).get("resourceSpans", []) for ss in rs["scopeSpans"] for span in ss["spans"]]
    check_paused_session(meta, recorded, acked, err)
    s3.run("sessions", "verify", "full", "--store", s3.uri)
    assert s3.uploads() == []


def test_kill_9_during_a_capture_into_s3_loses_no_acknowledged_request(s3, tmp_path):
    spool = tmp_path / "spool"
    capture = subprocess.Popen([binary(), "capture", "--store", s3.uri, "--session", "crashed", "--http",
                                "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--spool", str(spool)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=s3.environment())
    m = READY.search(capture.stderr.readline().decode())
    assert m, capture.stderr.read()
    host, port = m.group(2).rsplit(":", 1)
    acknowledged = 0
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    for i in range(40):
        conn.request("POST", "/v1/traces", body=trace_request(5, 1000 + i).SerializeToString(),
                     headers={"Content-Type": "application/x-protobuf"})
        resp = conn.getresponse()
        resp.read()
        acknowledged += resp.status == 200
    conn.close()
    capture.send_signal(signal.SIGKILL)
    capture.wait()
    assert acknowledged == 40
    # Nothing of the raw data is in the bucket yet: it is in the spool, durable.
    assert not [k for k in s3.keys("sessions/crashed/") if "/raw/" in k]
    assert list(spool.rglob("*.otlp.zst"))
    # The next command that works on this store with this spool uploads it and recovers the session.
    again = subprocess.Popen([binary(), "capture", "--store", s3.uri, "--session", "next", "--http", "127.0.0.1:0",
                              "--grpc", "127.0.0.1:0", "--spool", str(spool), "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=s3.environment())
    early = ""
    while True:
        line = again.stderr.readline().decode()
        if not line or READY.search(line):
            break
        early += line
    again.send_signal(signal.SIGTERM)
    again.communicate(timeout=60)
    assert "uploaded from the spool" in early and "session crashed: recovered" in early, early
    meta = json.loads(s3.run("sessions", "show", "crashed", "--store", s3.uri).stdout)
    assert meta["status"] == "failed" and meta["statusReason"] == "interrupted"
    assert meta["counts"]["spans"] == 5 * 40 and meta["counts"]["requests"]["traces"] == 40
    assert json.loads(s3.run("sessions", "verify", "crashed", "--store", s3.uri, "--json").stdout)["ok"]
    assert not list(spool.rglob("*.otlp.zst"))
    assert s3.uploads() == []


def test_serve_api_and_import_on_s3(s3, tmp_path):
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_bytes(export(s3, seed(s3, "base")["sessionId"], s3.uri))
    imported = json.loads(s3.run("sessions", "import", str(jsonl), "--session", "imp", "--store", s3.uri,
                                 "--json").stdout)
    assert imported["records"] > 0
    # The same messages (import orders them by their own earliest timestamp).
    assert sorted(export(s3, "imp", s3.uri).splitlines()) == sorted(jsonl.read_bytes().splitlines())
    serve = subprocess.Popen([binary(), "serve", "--store", s3.uri, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
                              "--api", "127.0.0.1:0", "--spool", str(tmp_path / "spool")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=s3.environment())
    try:
        m = re.search(r"control API on http://(\S+)/api", serve.stderr.readline().decode())
        assert m
        host, port = m.group(1).rsplit(":", 1)

        def api(method, path):
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request(method, path)
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            return resp.status, json.loads(body) if body else None

        status, listed = api("GET", "/api/sessions")
        assert status == 200 and sorted(s["sessionId"] for s in listed["sessions"]) == ["base", "imp"]
        status, _ = api("DELETE", "/api/sessions/imp")
        assert status == 204
        status, available = api("GET", "/api/replays/available")
        assert [s["sessionId"] for s in available["sessions"]] == ["base"]
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=60)
    assert serve.returncode == 0
    assert not s3.keys("sessions/imp/")


def test_sessions_copy_between_local_disk_and_s3(s3, tmp_path):
    local, back = str(tmp_path / "local"), str(tmp_path / "back")
    seed(s3, "c1", store=local)
    copied = json.loads(s3.run("sessions", "copy", "c1", "--from", local, "--to", s3.uri, "--json").stdout)
    assert copied["files"] == 3 and copied["objects"] == 4  # the raw files and metadata.json
    assert json.loads(s3.run("sessions", "verify", "c1", "--store", s3.uri, "--json").stdout)["ok"]
    again = s3.run("sessions", "copy", "c1", "--from", local, "--to", s3.uri, check=False)
    assert again.returncode == 1 and f"session c1 already exists in {s3.uri}" in again.stderr.decode()
    s3.run("sessions", "copy", "c1", "--from", s3.uri, "--to", back)
    for f in (tmp_path / "local" / "sessions" / "c1").rglob("*"):
        if f.is_file() and not f.name.startswith(".otelrr"):
            assert (tmp_path / "back" / f.relative_to(tmp_path / "local")).read_bytes() == f.read_bytes(), f


def test_the_minio_and_aws_variable_families_and_which_wins(s3, tmp_path):
    seed(s3, "e1")
    base = {k: "" for k in ("S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION")}
    minio = {**base, "MINIO_ENDPOINT": s3.server.endpoint.removeprefix("http://"), "MINIO_ACCESS_KEY":
             s3.server.access_key, "MINIO_SECRET_KEY": s3.server.secret_key, "MINIO_BUCKET": s3.name}
    # MINIO_* alone, no --store: what a MinIO user expects, the sessions of MINIO_BUCKET.
    listed = s3.run("sessions", "list", "--json", env_override=minio)
    assert [m["sessionId"] for m in json.loads(listed.stdout)] == ["e1"]
    aws = {**base, "AWS_ENDPOINT_URL": s3.server.endpoint, "AWS_ACCESS_KEY_ID": s3.server.access_key,
           "AWS_SECRET_ACCESS_KEY": s3.server.secret_key, "AWS_REGION": "us-east-1"}
    assert json.loads(s3.run("sessions", "list", "--store", s3.uri, "--json", env_override=aws).stdout)
    # --store wins over the bucket variables, OTELRR_STORE too.
    local = tmp_path / "local"
    assert s3.run("sessions", "list", "--store", str(local), "--json", env_override=minio).stdout == b"[]\n"
    assert s3.run("sessions", "list", "--json", env_override={**minio, "OTELRR_STORE": str(local)}).stdout == b"[]\n"


def test_bad_configuration_and_foreign_objects_give_one_line_errors_and_touch_nothing(s3):
    seed(s3, "good")
    before = s3.keys()
    cases = [
        ({"S3_SECRET_ACCESS_KEY": "wrong"}, "s3://" + s3.name, "check S3_SECRET_ACCESS_KEY"),
        ({"S3_ACCESS_KEY_ID": "nobody"}, "s3://" + s3.name, "does not know the access key"),
        ({}, "s3://no-such-bucket", "bucket 'no-such-bucket' does not exist"),
        ({"S3_ACCESS_KEY_ID": ""}, "s3://" + s3.name, "set S3_SECRET_ACCESS_KEY (or MINIO_SECRET_KEY"),
        ({}, "s3://Bad_Bucket", "bucket name 'Bad_Bucket'"),
    ]
    for env, uri, needle in cases:
        proc = s3.run("sessions", "list", "--store", uri, env_override=env, check=False)
        err = proc.stderr.decode()
        assert proc.returncode == 1 and needle in err and err.count("\n") == 1, (env, uri, err)
    # An endpoint nobody listens on: a clear error after the retries (bounded).
    t0 = time.monotonic()
    proc = s3.run("sessions", "list", "--store", s3.uri, env_override={"S3_ENDPOINT": "http://127.0.0.1:9"},
                  check=False, timeout=120)
    assert proc.returncode == 1 and "cannot reach the S3 endpoint http://127.0.0.1:9" in proc.stderr.decode()
    assert time.monotonic() - t0 < 10
    # Foreign objects under sessions/, and a metadata.json cut short: listed as problems, never fatal.
    s3.client.put_object(Bucket=s3.name, Key="sessions/not a session!/x", Body=b"x")
    s3.client.put_object(Bucket=s3.name, Key="sessions/stray/readme.txt", Body=b"hello")
    meta = s3.client.get_object(Bucket=s3.name, Key="sessions/good/metadata.json")["Body"].read()
    s3.client.put_object(Bucket=s3.name, Key="sessions/cut/metadata.json", Body=meta[: len(meta) // 2])
    proc = s3.run("sessions", "list", "--store", s3.uri, "--json")
    assert [m["sessionId"] for m in json.loads(proc.stdout)] == ["good"]
    warnings = proc.stderr.decode()
    assert "session cut:" in warnings and "session stray:" in warnings and "not a valid session id" in warnings
    assert json.loads(s3.run("sessions", "verify", "good", "--store", s3.uri, "--json").stdout)["ok"]
    assert set(before) <= set(s3.keys())
    assert [k for k in s3.keys() if k not in before] == sorted(
        ["sessions/cut/metadata.json", "sessions/not a session!/x", "sessions/stray/readme.txt"])


class TlsTerminator:
    """https:// in front of the S3 server: accepts TLS on a loopback port and relays the plain bytes both ways
    (the Host header passes unchanged, so signatures hold)."""

    def __init__(self, upstream, cert, key):
        import socket
        import ssl
        import threading
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.threading = threading
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                tls = self.context.wrap_socket(client, server_side=True)
            except OSError:
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            for a, b in ((tls, server), (server, tls)):
                self.threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self):
        self.listener.close()


def test_https_endpoints_are_verified_against_the_given_ca(s3, tmp_path):
    from test_replay_cli import self_signed

    cert, key = self_signed(tmp_path, "s3")
    host, port = s3.server.endpoint.removeprefix("http://").rsplit(":", 1)
    tls = TlsTerminator((host, int(port)), str(cert), str(key))
    try:
        https = {"S3_ENDPOINT": f"https://127.0.0.1:{tls.port}"}
        untrusted = s3.run("sessions", "list", "--store", s3.uri, env_override=https, check=False)
        assert untrusted.returncode == 1 and "is not trusted" in untrusted.stderr.decode(), untrusted.stderr
        assert "S3_CA_FILE" in untrusted.stderr.decode()
        trusted = {**https, "S3_CA_FILE": str(cert)}
        s3.run("seed", "--preset", "quick", "--session-id", "tls", "--store", s3.uri, env_override=trusted)
        assert json.loads(s3.run("sessions", "verify", "tls", "--store", s3.uri, "--json",
                                 env_override={**https, "AWS_CA_BUNDLE": str(cert)}).stdout)["ok"]
    finally:
        tls.close()


def seed_aged(s3, session, age_days, store=None):
    """A seed that started `age_days` days ago (the retention policy goes by startTime)."""
    from test_sessions_cli import days_ago

    s3.run("seed", "--preset", "quick", "--seed", "5", "--session-id", session, "--start-time", days_ago(age_days),
           "--store", store or s3.uri)


def prune(s3, store, *args, check=True):
    proc = s3.run("sessions", "prune", *args, "--store", store, "--json", check=check)
    report = json.loads(proc.stdout)
    return proc, [(s["sessionId"], s["action"], s["reason"]) for s in report["sessions"]], report


def test_prune_on_s3_and_archives_between_s3_and_local_disk(s3, tmp_path):
    for session, age in (("older", 50), ("old", 40), ("young", 1)):
        seed_aged(s3, session, age)
    s3.run("sessions", "keep", "older", "--forever", "--store", s3.uri)
    assert json.loads(s3.run("sessions", "show", "older", "--store", s3.uri).stdout)["expiresAt"] == "never"
    before = {k: s3.client.get_object(Bucket=s3.name, Key=k)["Body"].read() for k in s3.keys()}
    exported = export(s3, "old", s3.uri)

    # A dry run changes nothing in the bucket (and leaves no lease behind).
    _, dry, _ = prune(s3, s3.uri, "--older-than", "30d", "--dry-run")
    assert dry == [("older", "kept", "kept forever (expiresAt never)"), ("old", "deleted", "older than 30d"),
                   ("young", "kept", "within 30d")]
    assert {k: s3.client.get_object(Bucket=s3.name, Key=k)["Body"].read() for k in s3.keys()} == before

    # From S3 into a local archive: moved, checked, gone from the bucket.
    local = tmp_path / "archive"
    proc, done, report = prune(s3, s3.uri, "--older-than", "30d", "--archive-to", str(local))
    assert proc.returncode == 0, proc.stderr
    assert done == [("older", "kept", "kept forever (expiresAt never)"), ("old", "archived", "older than 30d"),
                    ("young", "kept", "within 30d")]
    assert report["archived"] == 1 and report["bytesBefore"] - report["bytesAfter"] > 0
    assert s3.keys("sessions/old/") == []
    assert sorted(k.split("/")[1] for k in s3.keys()) == sorted(
        k.split("/")[1] for k in before if not k.startswith("sessions/old/"))
    assert json.loads(s3.run("sessions", "verify", "old", "--store", str(local), "--json").stdout)["ok"]
    assert export(s3, "old", str(local)) == exported
    assert (local / "sessions" / "old" / "metadata.json").read_bytes() == before["sessions/old/metadata.json"]

    # And from local disk into S3 (under a prefix): the same session goes back.
    archive = f"{s3.uri}/archive"
    proc, done, _ = prune(s3, str(local), "--older-than", "30d", "--archive-to", archive)
    assert proc.returncode == 0, proc.stderr
    assert done == [("old", "archived", "older than 30d")]
    assert not (local / "sessions" / "old").exists()
    assert json.loads(s3.run("sessions", "verify", "old", "--store", archive, "--json").stdout)["ok"]
    assert export(s3, "old", archive) == exported
    assert s3.uploads() == []


def test_prune_on_s3_skips_a_session_being_captured_and_keep_is_refused(s3, tmp_path):
    seed_aged(s3, "old", 40)
    capture, m = start_capture(s3, "live", tmp_path / "spool")
    try:
        host, port = m.group(2).rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("POST", "/v1/traces", body=trace_request(3, 1).SerializeToString(),
                     headers={"Content-Type": "application/x-protobuf"})
        assert conn.getresponse().status == 200
        conn.close()
        time.sleep(1.1)  # "live" started more than 1s ago
        proc, done, _ = prune(s3, s3.uri, "--older-than", "1s")
        assert proc.returncode == 0, proc.stderr
        assert done == [("old", "deleted", "older than 1s"),
                        ("live", "skipped", "being written (active, its lock is held)")]
        keep = s3.run("sessions", "keep", "live", "--forever", "--store", s3.uri, check=False)
        assert keep.returncode == 1
        assert keep.stderr.decode() == \
            "otelrr: session live is being written: change its expiry once its writer has finished\n"
        capture.send_signal(signal.SIGTERM)
        out, _ = capture.communicate(timeout=60)
    finally:
        if capture.poll() is None:
            capture.kill()
    assert json.loads(out)["status"] == "completed"
    assert json.loads(s3.run("sessions", "verify", "live", "--store", s3.uri, "--json").stdout)["ok"]
    _, done, _ = prune(s3, s3.uri, "--older-than", "1s")
    assert done == [("live", "deleted", "older than 1s")]
    assert s3.keys() == []


def test_four_shards_from_s3_into_a_capture_on_s3_equal_one_replay(s3, tmp_path):
    """Sharded replay (docs/SCALE.md) with the session on S3: four `replay --shard K/4 --start-at T` into one
    capture recording into S3 hold item for item what one replay delivers."""
    import time

    seed(s3, "src")

    def capture_of(session, *replays):
        capture, m = start_capture(s3, session, tmp_path / f"spool-{session}")
        try:
            procs = [subprocess.Popen([binary(), "replay", "--store", s3.uri, "--session", "src", "--speed", "0",
                                       "--endpoint", f"http://{m.group(2)}", "--json", *args],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=s3.environment())
                     for args in replays]
            reports = []
            for p in procs:
                out, err = p.communicate(timeout=120)
                assert p.returncode == 0, err.decode()
                reports.append(json.loads(out))
            capture.send_signal(signal.SIGTERM)
            capture.communicate(timeout=60)
        finally:
            if capture.poll() is None:
                capture.kill()
        return reports

    start_at = str(time.time_ns() + 2_000_000_000)
    capture_of("sharded", *[("--shard", f"{k}/4", "--start-at", start_at) for k in range(4)])
    capture_of("single", ())
    diff = s3.run("sessions", "diff", "single", "sharded", "--store", s3.uri, "--json", check=False)
    d = json.loads(diff.stdout)
    assert diff.returncode == 0 and d["identical"] and d["total"]["matched"] > 0, d["total"]

    # Split on S3: each replayer fetches only its shard's objects, and the four still deliver the same.
    s3.run("sessions", "split", "src", "--shards", "4", "--store", s3.uri)
    assert len([k for k in s3.keys("sessions/") if k.endswith("/metadata.json")]) == 3 + 4
    start_at = str(time.time_ns() + 2_000_000_000)
    reports = capture_of("split", *[("--shard", f"{k}/4", "--start-at", start_at) for k in range(4)])
    assert [r["shardSession"] for r in reports] == [f"src.shard-{k}-of-4" for k in range(4)]
    diff = s3.run("sessions", "diff", "single", "split", "--store", s3.uri, "--json", check=False)
    d = json.loads(diff.stdout)
    assert diff.returncode == 0 and d["identical"] and d["total"]["matched"] > 0, d["total"]


def test_three_capture_instances_record_one_session_on_s3(s3, tmp_path):
    """Capture scale-out on S3 (docs/SCALE.md): three instances on one spool, each fed by telemetrygen; one is
    killed with SIGKILL mid-way and the next instance's start must not touch the live ones' open spool files."""
    from peer_binaries import peer_path
    spool = tmp_path / "spool"

    def start(instance):
        p = subprocess.Popen([binary(), "capture", "--store", s3.uri, "--session", "fleet", "--instance", instance,
                              "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--spool", str(spool), "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=s3.environment())
        early = ""
        while True:
            line = p.stderr.readline().decode()
            m = READY.search(line)
            if m or not line:
                break
            early += line
        assert m, early + p.stderr.read().decode()
        return p, m.group(3), early

    def send(grpc, traces):
        subprocess.run([peer_path("OTELRR_TELEMETRYGEN"), "traces", "--traces", str(traces), "--workers", "1",
                        "--rate", "0", "--otlp-endpoint", grpc, "--otlp-insecure"], check=True, capture_output=True,
                       timeout=60)

    a, a_grpc, _ = start("a")
    b, b_grpc, _ = start("b")
    send(a_grpc, 100)
    send(b_grpc, 150)
    b.send_signal(signal.SIGKILL)
    b.wait()
    c, c_grpc, early = start("c")  # uploads b's spool leftovers and recovers b alone; a's open files stay
    assert "recovered instance b" in early, early
    send(a_grpc, 50)
    send(c_grpc, 70)
    for p in (a, c):
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    meta = json.loads(s3.run("sessions", "show", "fleet", "--store", s3.uri).stdout)
    assert meta["status"] == "failed" and meta["statusReason"] == "instance b: interrupted"
    # telemetrygen: a root and a child per trace; every acknowledged span is there, traces counted once.
    assert (meta["counts"]["spans"], meta["counts"]["traces"]) == (2 * 370, 370)
    assert json.loads(s3.run("sessions", "verify", "fleet", "--store", s3.uri, "--json").stdout)["ok"]
    assert not list(spool.rglob("*.otlp.zst"))
    assert s3.uploads() == []
    keys = s3.keys("sessions/fleet/instances/")
    assert [k for k in keys if k.endswith("part.json")] == [f"sessions/fleet/instances/{n}/part.json" for n in "abc"]
