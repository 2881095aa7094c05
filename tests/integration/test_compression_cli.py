"""Session compression end to end (docs/FORMAT.md, "Compression"): `otelrr seed`, `capture`, `sessions
import`, `slice` and `merge` write zstd, gzip or uncompressed raw files as --compression says, each file named
by its suffix and recorded in metadata.json; every one holds the same records (decoded by the reference from
`sessions export`, and replayed into a real capture); a session written before there was a choice (no
"compression" in metadata.json) still reads; `sessions copy --compression` recompresses a session on the
way, checked on both sides; bad choices are refused with a message and leave nothing.

ctest sets OTELRR_BIN to the otelrr binary. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_compression_cli.py
"""

import json
import os
import pathlib

import pytest

from test_replay_cli import START, messages, replay_into_capture, run

REPO = pathlib.Path(__file__).resolve().parents[2]
TESTDATA = pathlib.Path(os.environ.get("OTELRR_TESTDATA") or REPO.parent / "shared" / "testdata" / "otlp")
MAGIC = {"zstd": b"\x28\xb5\x2f\xfd", "gzip": b"\x1f\x8b\x08", "none": b"OTR1"}
SUFFIX = {"zstd": ".otlp.zst", "gzip": ".otlp.gz", "none": ".otlp"}
SEED = ("--pattern", "payment-failure", "--duration", "20", "--rate", "40", "--seed", "11", "--start-time", START)


def metadata(store, session):
    return json.loads((store / "sessions" / session / "metadata.json").read_text())


def verify(store, session):
    proc = run("sessions", "verify", session, "--json", "--store", str(store), check=False)
    report = json.loads(proc.stdout)
    assert proc.returncode == 0 and report["ok"], report
    return report


def check_files(store, session, compression):
    """Every raw file of the session is stored as `compression` says: suffix, metadata, first bytes."""
    meta = metadata(store, session)
    assert meta["files"]
    for f in meta["files"]:
        assert f["compression"] == compression, f
        assert f["path"].endswith(SUFFIX[compression]) and not f["path"].endswith(".otlp" + SUFFIX[compression])
        assert (store / "sessions" / session / f["path"]).read_bytes()[:len(MAGIC[compression])] == MAGIC[compression]
    return meta


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = tmp_path_factory.mktemp("compression-store")
    for name, flags in (("zstd", ()), ("gzip", ("--compression", "gzip")), ("none", ("--compression", "none")),
                        ("gzip-0", ("--compression", "gzip", "--compression-level", "0")),
                        ("zstd-9", ("--compression-level", "9"))):
        run("seed", *SEED, "--session-id", name, *flags, "--store", str(s))
    return s


def test_every_compression_holds_the_same_records(store):
    reference = messages(store, "zstd")
    assert len(reference) > 20
    sizes = {}
    for session, compression in (("zstd", "zstd"), ("gzip", "gzip"), ("none", "none"), ("gzip-0", "gzip"),
                                 ("zstd-9", "zstd")):
        meta = check_files(store, session, compression)
        assert messages(store, session) == reference, session
        report = verify(store, session)
        assert report["records"] == len(reference)
        sizes[session] = meta["totalSizeBytes"]
        assert sizes[session] == sum(f["sizeBytes"] for f in meta["files"])
    framed = sum(f["uncompressedBytes"] for f in metadata(store, "none")["files"])
    assert sizes["none"] == framed  # the records themselves
    assert sizes["gzip-0"] > framed  # stored deflate blocks
    # zstd 1 beats gzip 1 on OTLP; level 9 is smaller still.
    assert sizes["zstd-9"] < sizes["zstd"] < sizes["gzip"] < sizes["none"] / 4, sizes


def test_replay_from_each_compression_sends_the_same_items(store, tmp_path):
    received = {}
    for session in ("zstd", "none"):
        report, summary, target = replay_into_capture(
            tmp_path / session, f"got-{session}", ("--compression", "gzip"), "--session", session, "--speed", "0",
            "--timestamps", "none", "--store", str(store))
        assert summary["spans"] == report["spans"] > 0, (report, summary)
        check_files(target, f"got-{session}", "gzip")
        received[session] = sorted(m.SerializeToString() for _, m in messages(target, f"got-{session}"))
    assert received["zstd"] == received["none"]
    assert received["zstd"] == sorted(m.SerializeToString() for _, m in messages(store, "zstd"))


def test_a_session_written_before_the_choice_reads_as_gzip(store, tmp_path):
    old = tmp_path / "old"
    run("sessions", "copy", "gzip", "--to", str(old), "--store", str(store))
    meta_path = old / "sessions" / "gzip" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    for f in meta["files"]:
        del f["compression"]
    meta_path.write_text(json.dumps(meta, indent=2))
    verify(old, "gzip")
    assert messages(old, "gzip") == messages(store, "gzip")
    # An entry that contradicts its file's name is named, with the fix.
    meta["files"][0]["compression"] = "zstd"
    meta_path.write_text(json.dumps(meta, indent=2))
    proc = run("sessions", "verify", "gzip", "--store", str(old), check=False)
    assert proc.returncode != 0
    assert ('files[0].compression": "zstd" disagrees with the path, whose suffix .otlp.gz means gzip'
            in proc.stderr.decode()), proc.stderr.decode()


def test_copy_recompresses_every_file_and_checks_both_sides(store, tmp_path):
    target = tmp_path / "target"
    out = json.loads(run("sessions", "copy", "gzip", "--to", str(target), "--compression", "zstd", "--json",
                         "--store", str(store)).stdout)
    source_meta = metadata(store, "gzip")
    assert out["files"] == out["recompressed"] == len(source_meta["files"])
    meta = check_files(target, "gzip", "zstd")
    assert meta["totalSizeBytes"] < source_meta["totalSizeBytes"]
    for before, after in zip(source_meta["files"], meta["files"]):
        assert after["path"] == before["path"][:-len(".otlp.gz")] + ".otlp.zst"
        for key in ("records", "uncompressedBytes", "firstArrivalUnixNano", "lastArrivalUnixNano", "signal"):
            assert after[key] == before[key], key
    verify(target, "gzip")
    assert messages(target, "gzip") == messages(store, "gzip")
    # Files already in that compression are copied byte for byte.
    same = json.loads(run("sessions", "copy", "zstd", "--to", str(target), "--compression", "zstd", "--json",
                          "--store", str(store)).stdout)
    assert same["recompressed"] == 0
    assert metadata(target, "zstd") == metadata(store, "zstd")
    # A damaged source file is refused and leaves no copy.
    damaged = tmp_path / "damaged"
    run("sessions", "copy", "gzip", "--to", str(damaged), "--store", str(store))
    raw = damaged / "sessions" / "gzip" / metadata(damaged, "gzip")["files"][0]["path"]
    data = bytearray(raw.read_bytes())
    data[len(data) // 2] ^= 0x55
    raw.write_bytes(bytes(data))
    proc = run("sessions", "copy", "gzip", "--from", str(damaged), "--to", str(tmp_path / "never"),
               "--compression", "none", check=False)
    assert proc.returncode != 0 and "recompressing" in proc.stderr.decode(), proc.stderr.decode()
    assert not (tmp_path / "never" / "sessions" / "gzip").exists()


def test_capture_import_slice_and_merge_take_the_compression(store, tmp_path):
    _, summary, target = replay_into_capture(tmp_path / "c1", "cap-gzip", ("--compression", "gzip"),
                                             "--session", "zstd", "--speed", "0", "--store", str(store))
    check_files(target, "cap-gzip", "gzip")
    _, summary, target = replay_into_capture(tmp_path / "c2", "cap-plain", ("--no-compression",),
                                             "--session", "zstd", "--speed", "0", "--store", str(store))
    check_files(target, "cap-plain", "none")
    verify(target, "cap-plain")

    imported = tmp_path / "imported"
    run("sessions", "import", str(TESTDATA / "traces" / "highlight_backend-go.json"), "--session", "imp",
        "--compression", "none", "--store", str(imported))
    check_files(imported, "imp", "none")
    verify(imported, "imp")

    run("sessions", "slice", "zstd", "--phases", "failure", "--to-session", "zstd-failure", "--compression", "gzip",
        "--store", str(store))
    check_files(store, "zstd-failure", "gzip")
    verify(store, "zstd-failure")
    run("sessions", "merge", "zstd", "none", "--to-session", "merged", "--compression", "none", "--store", str(store))
    check_files(store, "merged", "none")
    verify(store, "merged")


@pytest.mark.parametrize("args,message", [
    (("seed", "--preset", "quick", "--compression", "lz4"), "--compression 'lz4': use zstd, gzip or none"),
    (("seed", "--preset", "quick", "--compression-level", "0"),
     "--compression-level: zstd level 0 is out of range: use 1 to 19"),
    (("seed", "--preset", "quick", "--compression", "gzip", "--compression-level", "13"),
     "--compression-level: gzip level 13 is out of range: use 0 (stored, no compression) to 12"),
    (("seed", "--preset", "quick", "--compression", "none", "--compression-level", "3"),
     "compression none takes no level (got 3)"),
    (("capture", "--no-compression", "--compression", "zstd"),
     "--no-compression contradicts --compression and --compression-level"),
    (("sessions", "import", str(TESTDATA / "traces" / "highlight_backend-go.json"), "--compression", "brotli"),
     "--compression 'brotli'"),
])
def test_a_bad_choice_is_refused_and_writes_nothing(tmp_path, args, message):
    proc = run(*args, "--store", str(tmp_path / "s"), check=False)
    assert proc.returncode == 2, proc.stderr.decode()
    assert message in proc.stderr.decode(), proc.stderr.decode()
    assert not list((tmp_path / "s").rglob("metadata.json"))
