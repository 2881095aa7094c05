"""Replay's request rewrites (src/otlp/rewrite.h) against the official Python opentelemetry-proto package.

Our rewrite (otlp_tool's `rewrite`: keep the listed services, shift every timestamp, remap trace and span
ids) is decoded by the reference and compared with what the reference says it must be:
  - every timestamp field (span start and end, event time, data point start and time, exemplar time, log
    time and observed time) moved by exactly the shift, zero (unset) ones left at zero, saturating at
    1 and 2**64-1;
  - every trace and span id replaced consistently: one original id, one new id, across spans, parents,
    links, log records, exemplars and requests; distinct ids stay distinct; empty and all-zero ids stay;
  - only the resources whose service.name is listed kept, in order; a request left empty is dropped;
  - every other field equal, and without a filter every byte outside the patched fields unchanged.
On the seeded requests of test_crosscheck and on the real files under ../shared/testdata/otlp.
"""

import random

import pytest
from google.protobuf.descriptor import FieldDescriptor as F

from test_crosscheck import (REQUEST, SEEDS, SIGNALS, TESTDATA, generate, real_files,
                             require_testdata, sources_rows, wire)

U64_MAX = 2**64 - 1
HOUR = 3_600_000_000_000
TIME_FIELDS = {"time_unix_nano", "start_time_unix_nano", "end_time_unix_nano", "observed_time_unix_nano"}
ID_KINDS = {"trace_id": "trace", "span_id": "span", "parent_span_id": "span"}
KEY = 0x5EED_0F_0E1A  # one key for all generated requests: their ids must map consistently together


def shifted(t: int, delta: int) -> int:
    return 0 if t == 0 else min(max(t + delta, 1), U64_MAX)


def messages(msg):
    """The message and every message inside it, depth first, in field-number order."""
    yield msg
    for fd, value in msg.ListFields():
        if fd.type == F.TYPE_MESSAGE:
            for v in (value if fd.is_repeated else [value]):
                yield from messages(v)


def shift_times(msg, delta: int):
    for m in messages(msg):
        for fd, value in m.ListFields():
            if fd.name in TIME_FIELDS and fd.type == F.TYPE_FIXED64:
                setattr(m, fd.name, shifted(value, delta))


def take_ids(msg) -> list[tuple[str, bytes]]:
    """Every id (kind, value), in walk order; the ids are then cleared so the rest can be compared."""
    ids = []
    for m in messages(msg):
        for fd in m.DESCRIPTOR.fields:
            if fd.name in ID_KINDS and fd.type == F.TYPE_BYTES:
                ids.append((ID_KINDS[fd.name], getattr(m, fd.name)))
                m.ClearField(fd.name)
    return ids


def service_names(resource) -> set[str]:
    return {kv.value.string_value for kv in resource.attributes
            if kv.key == "service.name" and kv.value.WhichOneof("value") == "string_value"}


def reference_filter(signal: str, req, services):
    out = REQUEST[signal]()
    entries = getattr(req, req.DESCRIPTOR.fields[0].name)
    for entry in entries:
        if entry.HasField("resource") and service_names(entry.resource) & set(services):
            getattr(out, out.DESCRIPTOR.fields[0].name).add().CopyFrom(entry)
    return out


def check_rewrite(tool, signal: str, data: bytes, shift: int, key: int, services, mapping: dict) -> str | None:
    """Rewrites `data` with our tool and compares with the reference; a description of the first problem.
    `mapping` collects (kind, original id) -> new id across calls with the same key."""
    ours = tool.rewrite(signal, data, shift, key, services)
    want = REQUEST[signal]()
    want.ParseFromString(data)
    if services is not None:
        want = reference_filter(signal, want, services)
        if not getattr(want, want.DESCRIPTOR.fields[0].name):
            return None if ours is None else "the filter left no listed service, but the request was not dropped"
        if ours is None:
            return "the request was dropped, but listed services were left"
    elif ours is None:
        return "dropped without a filter"
    got = REQUEST[signal]()
    got.ParseFromString(ours)
    shift_times(want, shift)

    # Ids: the same places, consistently mapped.
    want_ids, got_ids = take_ids(want), take_ids(got)
    if len(want_ids) != len(got_ids):
        return f"{len(got_ids)} ids where the reference has {len(want_ids)}"
    inverse = {}
    for (kind, before), (got_kind, after) in zip(want_ids, got_ids):
        if kind != got_kind:
            return "ids in different places"
        if not before.strip(b"\0") or key == 0:
            if after != before:
                return f"{kind} id {before.hex()!r} became {after.hex()!r} (must stay as it is)"
            continue
        if len(after) != len(before) or not after.strip(b"\0"):
            return f"{kind} id {before.hex()} became {after.hex()!r}"
        if after == before:
            return f"{kind} id {before.hex()} was left in place"
        if mapping.setdefault((kind, before), after) != after:
            return f"{kind} id {before.hex()} mapped to both {mapping[(kind, before)].hex()} and {after.hex()}"
        if inverse.setdefault((kind, after), before) != before:
            return f"{kind} ids {before.hex()} and {inverse[(kind, after)].hex()} both became {after.hex()}"

    # Everything else: exactly the reference's expectation.
    if wire(got) != wire(want):
        return f"the rewritten request differs from the reference:\n{want}\n---\n{got}"

    if services is None:
        # Byte for byte: only the located values changed.
        loc = tool.locate(signal, data)
        mask = bytearray(len(data))
        for offsets, width in ((loc["timestamps"], 8), (loc["trace_ids"], 16), (loc["span_ids"], 8)):
            for o in offsets:
                mask[o:o + width] = b"\1" * width
        if len(ours) != len(data):
            return "the size changed"
        for i, (a, b) in enumerate(zip(data, ours)):
            if a != b and not mask[i]:
                return f"byte {i} changed outside every located field"
    return None


def seeded_cases(signal: str):
    for seed in range(SEEDS):
        r = random.Random(seed * 7 + SIGNALS.index(signal))
        shift = r.choice([1, -1, HOUR, -HOUR, 10**18, -(10**18), 2**63 - 1, -(2**63)])
        key = 0 if seed % 7 == 0 else KEY
        services = None
        if seed % 3 == 0:
            services = r.sample(["checkout", "frontend", "", "ünïcode-svc", "cart", "nope"], r.randint(0, 3))
        yield seed, generate(signal, seed), shift, key, services


@pytest.mark.parametrize("signal", SIGNALS)
def test_seeded_requests(tool, signal):
    mapping = {}
    failures = []
    for seed, req, shift, key, services in seeded_cases(signal):
        problem = check_rewrite(tool, signal, wire(req), shift, key, services, mapping)
        if problem:
            failures.append((seed, problem))
    assert not failures, (f"{len(failures)}/{SEEDS} {signal} cases disagree with the reference. "
                          f"First, seed {failures[0][0]}: {failures[0][1]}")
    assert len(mapping) > 100  # the ids were exercised


def test_keys_give_different_ids(tool):
    """Two loop iterations (two keys) never share a trace or span id; the same key always gives the same."""
    first, second, again = {}, {}, {}
    for seed in range(min(SEEDS, 50)):
        data = wire(generate("traces", seed))
        for key, mapping in ((1, first), (2, second), (1, again)):
            assert check_rewrite(tool, "traces", data, 0, key, None, mapping) is None
    assert first == again
    assert len(first) > 50
    assert not set(first.values()) & set(second.values())
    assert not set(first.values()) & {before for _, before in first}


def real_documents(tool, name: str) -> list[bytes]:
    """The protobuf requests of a real file (JSON converted with our codec, which test_crosscheck checks)."""
    signal = name.split("/")[0]
    path = TESTDATA / name
    if path.suffix == ".pb":
        return [path.read_bytes()]
    text = path.read_text()
    if sources_rows()[name][0].startswith("OTLP/JSON lines"):
        docs = [line for line in text.splitlines() if line.strip()]
    else:
        docs = [text]
    return [tool.json2proto(signal, d) for d in docs]


@pytest.mark.parametrize("name", real_files({".pb", ".json", ".jsonl"}))
def test_real_file(tool, name):
    require_testdata()
    signal = name.split("/")[0]
    mapping = {}
    for i, data in enumerate(real_documents(tool, name)):
        summary = tool.summarize(signal, data)
        shift = -HOUR if summary["max_time_unix_nano"] > U64_MAX - HOUR else HOUR
        cases = [(shift, 7, None), (-shift, 0, None)]
        if summary["service_names"]:
            cases.append((shift, 7, summary["service_names"][:1]))
        cases.append((shift, 7, ["no such service"]))
        for shift_, key, services in cases:
            problem = check_rewrite(tool, signal, data, shift_, key, services, mapping)
            assert problem is None, f"{name} document {i}, shift {shift_}, key {key}, services {services}: {problem}"
