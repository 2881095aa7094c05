"""Session packs and batch operations end to end with the real binary: seed -> pack -> pack again (the same
bytes) -> unpack under a new id (locally and into S3) -> verify -> replay; damaged, foreign and hostile packs
refused with one line and nothing left in the store; `sessions import` recognising a pack by its content;
verify, delete, export and pack of several sessions by ids or by filters, as text and JSON.

Packs are read back with Python's tarfile, an independent tar reader.

ctest sets OTELRR_BIN to build/otelrr. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_pack_cli.py
"""

import fcntl
import hashlib
import io
import json
import pathlib
import shutil
import tarfile

import pytest

from s3server import s3_server  # noqa: F401 (a fixture, for the s3 fixture)
from test_replay_cli import HttpSink, decoded, messages, run, sorted_serialized
from test_s3_cli import s3  # noqa: F401 (a fixture)

START = "2026-11-26T11:45:44Z"
END_UNIX = 1795693544 + 4  # the seed's endTime, to the second: the members' mtime


def files(store):
    """Every file under a store, relative path -> bytes (locks excluded: they are not session objects)."""
    root = pathlib.Path(store)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".otelrr-lock")}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A store with session s1 (basic-topology, 4 s) and its pack: (store, pack path, the session's requests)."""
    store = tmp_path_factory.mktemp("store")
    run("seed", "--session-id", "s1", "--rate", "20", "--duration", "4", "--seed", "7", "--start-time", START,
        "--store", str(store))
    pack = tmp_path_factory.mktemp("packs") / "s1.otelrr"
    out = json.loads(run("sessions", "pack", "s1", "--out", str(pack), "--json", "--store", str(store)).stdout)
    assert out["sessionId"] == "s1" and out["packBytes"] == pack.stat().st_size
    return store, pack, messages(store, "s1")


def test_a_pack_is_a_deterministic_tar_of_the_sessions_bytes(seeded, tmp_path):
    store, pack, _ = seeded
    again = tmp_path / "again.otelrr"
    run("sessions", "pack", "s1", "--out", str(again), "--store", str(store))
    assert again.read_bytes() == pack.read_bytes()

    metadata = json.loads((store / "sessions/s1/metadata.json").read_bytes())
    with tarfile.open(pack, "r:") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names == ["otelrr-pack.json", "metadata.json"] + [f["path"] for f in metadata["files"]]
        for m in members:
            assert (m.isreg(), m.mode, m.uid, m.gid, m.uname, m.gname, m.mtime) == (True, 0o644, 0, 0, "", "",
                                                                                   END_UNIX), m.name
        manifest = json.loads(tar.extractfile("otelrr-pack.json").read())
        assert manifest["packFormatVersion"] == 1 and manifest["sessionId"] == "s1"
        assert [f["path"] for f in manifest["files"]] == names[1:]
        for f in manifest["files"]:
            data = tar.extractfile(f["path"]).read()
            assert data == (store / "sessions/s1" / f["path"]).read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (f["sizeBytes"], f["sha256"])


def test_unpack_under_a_new_id_verifies_and_replays_the_same_data(seeded, tmp_path):
    store, pack, original = seeded
    target = tmp_path / "ci-store"
    out = json.loads(run("sessions", "unpack", str(pack), "--session", "s1-ci", "--json", "--store", str(target))
                     .stdout)
    assert (out["sessionId"], out["packedSessionId"], out["files"]) == ("s1-ci", "s1", 3)
    report = json.loads(run("sessions", "verify", "s1-ci", "--json", "--store", str(target)).stdout)
    assert report["ok"] and report["problems"] == []
    metadata = json.loads((target / "sessions/s1-ci/metadata.json").read_bytes())
    assert (metadata["sessionId"], metadata["s3Prefix"]) == ("s1-ci", "sessions/s1-ci/")
    # The raw files are byte for byte the original's.
    assert {k.split("/", 2)[2]: v for k, v in files(target).items() if "/raw/" in k} == \
        {k.split("/", 2)[2]: v for k, v in files(store).items() if k.startswith("sessions/s1/raw/")}

    sink = HttpSink()
    try:
        result = json.loads(run("replay", "--session", "s1-ci", "--speed", "0", "--timestamps", "none",
                                "--endpoint", sink.url, "--json", "--store", str(target)).stdout)
    finally:
        sink.close()
    assert result["failedRequests"] == 0
    assert sorted_serialized(decoded(sink.got)) == sorted_serialized(original)

    # Under its own id, the store's files are the original's exactly (metadata.json included).
    same = tmp_path / "same-store"
    run("sessions", "unpack", str(pack), "--store", str(same))
    assert files(same) == {k: v for k, v in files(store).items() if k.startswith("sessions/s1/")}


def test_import_recognises_a_pack_by_its_content(seeded, tmp_path):
    store, pack, _ = seeded
    renamed = tmp_path / "dataset.bin"
    shutil.copy(pack, renamed)
    target = tmp_path / "store"
    proc = run("sessions", "import", str(renamed), "--session", "imported", "--store", str(target))
    assert b"unpacked session imported (packed as s1)" in proc.stdout
    assert json.loads(run("sessions", "verify", "imported", "--json", "--store", str(target)).stdout)["ok"]
    proc = run("sessions", "import", str(renamed), "--type", "seed", "--store", str(target), check=False)
    assert proc.returncode == 2 and b"only --session applies" in proc.stderr


def one_line_error(proc):
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert err.startswith("otelrr: ") and err.count("\n") == 1, err
    return err


def tar_of(members):
    """A tar made by Python's tarfile: (name, bytes) in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def members_of(pack):
    with tarfile.open(pack, "r:") as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]


def manifest_for(members):
    return json.dumps({"packFormatVersion": 1, "sessionId": "s1", "files": [
        {"path": n, "sizeBytes": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in members]}).encode()


def test_bad_packs_are_refused_and_leave_nothing(seeded, tmp_path):
    store, pack, _ = seeded
    before = files(store)
    proc = run("sessions", "unpack", str(pack), "--store", str(store), check=False)
    assert "already exists" in one_line_error(proc) and "--session NEW" in proc.stderr.decode()
    assert files(store) == before

    data = pack.read_bytes()
    body = members_of(pack)[1:]
    flipped = bytearray(data)
    flipped[len(data) - 10240 - 2000] ^= 0x04  # inside the last raw file
    evil = body + [("../../escaped", b"x")]
    cases = {
        "truncated in a raw file": (data[: len(data) // 2], "cut short"),
        "truncated at a member boundary": (data[:1536], "cut short"),
        "bit flip": (bytes(flipped), "does not match its checksum"),
        "foreign tar": (tar_of([("README", b"hello\n")]), "not an otelrr pack"),
        "not a tar": (b"{\"resourceSpans\": []}\n" * 50, "not a tar file"),
        "path traversal": (tar_of([("otelrr-pack.json", manifest_for(evil))] + evil), "outside the session"),
        "member not in the manifest": (tar_of([("otelrr-pack.json", manifest_for(body))] + body + [("x.txt", b"x")]),
                                       "which its manifest does not list"),
    }
    target = tmp_path / "target"
    for name, (content, message) in cases.items():
        bad = tmp_path / "bad.otelrr"
        bad.write_bytes(content)
        proc = run("sessions", "unpack", str(bad), "--session", "new", "--store", str(target), check=False)
        assert message in one_line_error(proc), name
        assert [k for k in files(target) if k.startswith("sessions/")] == [], name
    assert not (tmp_path.parent / "escaped").exists()


def test_pack_refuses_a_session_being_written(seeded, tmp_path):
    store, _, _ = seeded
    with open(store / "sessions/s1/.otelrr-lock-writer", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = run("sessions", "pack", "s1", "--out", str(tmp_path / "x.otelrr"), "--store", str(store), check=False)
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert "session s1 is being written: pack it once its writer has finished" in one_line_error(proc)
    assert not (tmp_path / "x.otelrr").exists()


@pytest.fixture
def several(seeded, tmp_path):
    """A store with seed sessions a and b (basic-topology, described "nightly") and pf (payment-failure, flag
    paymentServiceFailure, described "incident drill")."""
    _, pack, _ = seeded
    store = tmp_path / "several"
    for id in ("a", "b"):
        run("sessions", "unpack", str(pack), "--session", id, "--store", str(store))
    run("seed", "--session-id", "pf", "--pattern", "payment-failure", "--rate", "5", "--duration", "3", "--seed", "1",
        "--description", "incident drill", "--store", str(store))
    return store


def test_batch_verify_by_ids_and_by_filters(several):
    store = several
    proc = run("sessions", "verify", "a", "b", "nope", "--store", str(store), check=False)
    assert proc.returncode == 1
    lines = proc.stdout.decode().splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [["a", "intact"], ["b", "intact"], ["nope", "failed"]]
    assert lines[3] == "verified 3 sessions: 2 intact, 1 damaged or unreadable"

    def verified(*args):
        out = json.loads(run("sessions", "verify", *args, "--json", "--store", str(store)).stdout)
        assert out["command"] == "verify" and out["failed"] == 0 and out["total"] == len(out["sessions"])
        assert all(s["ok"] and s["result"] == "intact" and s["problems"] == [] for s in out["sessions"])
        return [s["sessionId"] for s in out["sessions"]]

    assert verified("--type", "seed") == ["a", "b", "pf"]
    assert verified("--flag", "paymentServiceFailure") == ["pf"]
    # A flag that was on in one phase only (a capture's phase marked with flags) matches too.
    meta_path = store / "sessions" / "b" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["phases"] = [{"name": "canary", "startTime": meta["startTime"], "flags": ["canaryRollout"]}]
    meta_path.write_text(json.dumps(meta))
    assert verified("--flag", "canaryRollout") == ["b"]
    assert verified("--description-match", "^incident") == ["pf"]
    assert verified("--older-than", "1d") == ["a", "b"]  # seeded in 2026-11; pf starts now
    assert verified("--type", "capture") == []

    proc = run("sessions", "verify", "a", "--type", "seed", "--store", str(store), check=False)
    assert proc.returncode == 2 and b"not both" in proc.stderr
    proc = run("sessions", "verify", "--description-match", "(", "--store", str(store), check=False)
    assert proc.returncode == 2 and b"not a valid regular expression" in proc.stderr


def test_batch_delete_asks_for_yes_and_dry_run_changes_nothing(several):
    store = several
    before = files(store)
    proc = run("sessions", "delete", "--older-than", "1d", "--store", str(store), check=False)
    assert proc.returncode == 2 and b"--yes" in proc.stderr
    out = json.loads(run("sessions", "delete", "--older-than", "1d", "--dry-run", "--json", "--store", str(store))
                     .stdout)
    assert out["dryRun"] and [(s["sessionId"], s["result"]) for s in out["sessions"]] == [("a", "would delete"),
                                                                                           ("b", "would delete")]
    assert files(store) == before
    proc = run("sessions", "delete", "--older-than", "1d", "--yes", "--store", str(store))
    assert proc.stdout.decode().splitlines()[-1] == "deleted 2 of 2 sessions"
    assert sorted(p.name for p in (store / "sessions").iterdir() if any(p.iterdir())) == ["pf"]


def test_batch_export_and_pack_write_one_file_per_session(several, seeded, tmp_path):
    store = several
    out = tmp_path / "exports"
    run("sessions", "export", "a", "pf", "--out", str(out), "--store", str(store))
    assert sorted(p.name for p in out.iterdir()) == ["a.jsonl", "pf.jsonl"]
    single = run("sessions", "export", "pf", "--store", str(store)).stdout
    assert (out / "pf.jsonl").read_bytes() == single

    packs = tmp_path / "packs"
    result = json.loads(run("sessions", "pack", "--type", "seed", "--out", str(packs), "--json", "--store", str(store))
                        .stdout)
    assert (result["total"], result["ok"]) == (3, 3)
    assert sorted(p.name for p in packs.iterdir()) == ["a.otelrr", "b.otelrr", "pf.otelrr"]
    # a was unpacked from s1 under another id: its pack differs from s1's only by that id.
    assert members_of(packs / "a.otelrr")[2:] == members_of(seeded[1])[2:]
    proc = run("sessions", "pack", "a", "b", "--store", str(store), check=False)
    assert proc.returncode == 2 and b"--out DIR is required" in proc.stderr


def test_unpack_into_s3(seeded, s3):  # noqa: F811 (the fixture imported above)
    _, pack, _ = seeded
    s3.run("sessions", "unpack", str(pack), "--session", "s1-s3", "--store", s3.uri)
    report = json.loads(s3.run("sessions", "verify", "s1-s3", "--json", "--store", s3.uri).stdout)
    assert report["ok"] and report["files"] == 3
    keys = s3.keys("sessions/s1-s3/")
    assert "sessions/s1-s3/metadata.json" in keys and len(keys) == 4
    # A damaged pack leaves nothing in the bucket.
    bad = pack.parent / "bad-for-s3.otelrr"
    bad.write_bytes(pack.read_bytes()[: pack.stat().st_size - 10240 - 100])
    proc = s3.run("sessions", "unpack", str(bad), "--session", "broken", "--store", s3.uri, check=False)
    assert proc.returncode == 1 and b"cut short" in proc.stderr
    assert s3.keys("sessions/broken/") == []
    # And a pack of the S3 session equals the local one's but for the id.
    again = pack.parent / "from-s3.otelrr"
    s3.run("sessions", "pack", "s1-s3", "--out", str(again), "--store", s3.uri)
    assert members_of(again)[2:] == members_of(pack)[2:]


def test_a_renamed_sessions_annotations_name_its_new_id(tmp_path):
    """A seed's phases are annotations (annotations.jsonl); unpacked under another id, they name that id."""
    store, target = tmp_path / "store", tmp_path / "target"
    run("seed", "--session-id", "pf", "--pattern", "payment-failure", "--duration", "6", "--rate", "5", "--seed", "3",
        "--start-time", START, "--store", str(store))
    before = json.loads(run("annotations", "list", "pf", "--json", "--store", str(store)).stdout)
    assert before and {a["sessionId"] for a in before} == {"pf"}
    pack = tmp_path / "pf.otelrr"
    run("sessions", "pack", "pf", "--out", str(pack), "--store", str(store))
    run("sessions", "unpack", str(pack), "--session", "pf-copy", "--store", str(target))
    after = json.loads(run("annotations", "list", "pf-copy", "--json", "--store", str(target)).stdout)
    assert {a["sessionId"] for a in after} == {"pf-copy"}
    spans = lambda items: sorted((a["annotationKey"], a["timeRangeStart"], a["timeRangeEnd"]) for a in items)  # noqa: E731
    assert spans(after) == spans(before)
    lines = (target / "sessions/pf-copy/annotations.jsonl").read_text().splitlines()
    assert lines and all(json.loads(line)["sessionId"] == "pf-copy" for line in lines)
    assert json.loads(run("sessions", "verify", "pf-copy", "--json", "--store", str(target)).stdout)["ok"]
