"""Our OTLP schema (src/otlp/schema.cc) against the official opentelemetry-proto descriptors.

Every message, field and enum our codec is driven by must match the reference exactly: number, name,
JSON name, type, label, presence, and the message or enum it points at. And every field of every
reference message our requests can reach must be in our schema, unless it is listed in
DELIBERATE_OMISSIONS below with the reason.
"""

import pytest
from google.protobuf import descriptor as D
from google.protobuf import descriptor_pool

# Importing the generated modules registers every OTLP file in the default pool.
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2  # noqa: F401
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2  # noqa: F401
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2  # noqa: F401
from opentelemetry.proto.common.v1 import common_pb2  # noqa: F401
from opentelemetry.proto.logs.v1 import logs_pb2  # noqa: F401
from opentelemetry.proto.metrics.v1 import metrics_pb2  # noqa: F401
from opentelemetry.proto.resource.v1 import resource_pb2  # noqa: F401
from opentelemetry.proto.trace.v1 import trace_pb2  # noqa: F401

POOL = descriptor_pool.Default()
F = D.FieldDescriptor

TYPES = {
    "message": F.TYPE_MESSAGE,
    "string": F.TYPE_STRING,
    "bytes": F.TYPE_BYTES,
    "bool": F.TYPE_BOOL,
    "int32": F.TYPE_INT32,
    "int64": F.TYPE_INT64,
    "uint32": F.TYPE_UINT32,
    "uint64": F.TYPE_UINT64,
    "sint32": F.TYPE_SINT32,
    "fixed32": F.TYPE_FIXED32,
    "fixed64": F.TYPE_FIXED64,
    "sfixed64": F.TYPE_SFIXED64,
    "double": F.TYPE_DOUBLE,
    "enum": F.TYPE_ENUM,
}

# Where our schema starts: the three requests and their responses.
ROOTS = [
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
    "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
    "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse",
    "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse",
    "opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse",
]

# Reference fields (message full name, field name) our schema leaves out on purpose, with the reason.
# The codecs skip them as unknown fields on the wire and ignore them in JSON. Empty today: every field
# the requests can reach is modelled.
DELIBERATE_OMISSIONS: dict[tuple[str, str], str] = {}

# Reference messages and enums not in our schema on purpose, with the reason.
DELIBERATE_TYPE_OMISSIONS = {
    # Same layout as the Export*ServiceRequest messages (checked below): the codec reads them as requests.
    "opentelemetry.proto.trace.v1.TracesData": "read as ExportTraceServiceRequest (identical layout)",
    "opentelemetry.proto.metrics.v1.MetricsData": "read as ExportMetricsServiceRequest (identical layout)",
    "opentelemetry.proto.logs.v1.LogsData": "read as ExportLogsServiceRequest (identical layout)",
    # Flag enums name bit masks; no field has these types (flags fields are plain fixed32/uint32).
    "opentelemetry.proto.trace.v1.SpanFlags": "bit-mask constants, not a field type",
    "opentelemetry.proto.metrics.v1.DataPointFlags": "bit-mask constants, not a field type",
    "opentelemetry.proto.logs.v1.LogRecordFlags": "bit-mask constants, not a field type",
}
# Profiles (opentelemetry.proto.profiles.*, collector.profiles.*) are still "v1development" and are
# out of otelrr's scope (SEED.md: traces, metrics, logs); nothing here imports them.


@pytest.fixture(scope="module")
def ours(tool):
    return tool.schema()


def ref_message(full_name: str) -> D.Descriptor:
    try:
        return POOL.FindMessageTypeByName(full_name)
    except KeyError:
        pytest.fail(f"our schema has {full_name}, which the reference does not define")


def reachable_reference_messages() -> dict[str, D.Descriptor]:
    seen: dict[str, D.Descriptor] = {}
    todo = [POOL.FindMessageTypeByName(n) for n in ROOTS]
    while todo:
        m = todo.pop()
        if m.full_name in seen:
            continue
        seen[m.full_name] = m
        for f in m.fields:
            if f.type == F.TYPE_MESSAGE and (m.full_name, f.name) not in DELIBERATE_OMISSIONS:
                todo.append(f.message_type)
    return seen


def test_every_message_matches_the_reference(ours):
    problems = []
    checked = 0
    for msg in ours["messages"]:
        ref = ref_message(msg["full_name"])
        for f in msg["fields"]:
            checked += 1
            where = f"{msg['full_name']}.{f['name']} ({f['number']})"
            rf = ref.fields_by_number.get(f["number"])
            if rf is None:
                problems.append(f"{where}: no field with this number in the reference")
                continue
            if rf.name != f["name"]:
                problems.append(f"{where}: the reference names field {f['number']} '{rf.name}'")
            if rf.json_name != f["json_name"]:
                problems.append(f"{where}: JSON name '{f['json_name']}', reference '{rf.json_name}'")
            if TYPES.get(f["type"]) != rf.type:
                problems.append(f"{where}: type {f['type']}, reference type code {rf.type}")
            if f["repeated"] != rf.is_repeated:
                problems.append(f"{where}: repeated={f['repeated']}, reference repeated={rf.is_repeated}")
            # Presence as our codecs mean it: a zero value is still "set" and is written. That is a
            # proto3 `optional` scalar or any oneof member; a plain singular message field has presence
            # in protobuf, but OTLP/JSON treats it like any other field.
            if rf.type == F.TYPE_MESSAGE:
                want_presence = rf.containing_oneof is not None
            else:
                want_presence = rf.has_presence and not rf.is_repeated
            if f["explicit_presence"] != want_presence:
                problems.append(f"{where}: explicit_presence={f['explicit_presence']}, reference {want_presence}")
            if rf.type == F.TYPE_MESSAGE and f.get("message") != rf.message_type.full_name:
                problems.append(f"{where}: message {f.get('message')}, reference {rf.message_type.full_name}")
            if rf.type == F.TYPE_ENUM and f.get("enum") != rf.enum_type.full_name:
                problems.append(f"{where}: enum {f.get('enum')}, reference {rf.enum_type.full_name}")
    assert not problems, "schema.cc disagrees with opentelemetry-proto:\n" + "\n".join(problems)
    assert checked > 150


def test_every_enum_matches_the_reference(ours):
    problems = []
    for e in ours["enums"]:
        try:
            ref = POOL.FindEnumTypeByName(e["full_name"])
        except KeyError:
            problems.append(f"{e['full_name']}: not an enum of the reference")
            continue
        mine = {v["number"]: v["name"] for v in e["values"]}
        theirs = {v.number: v.name for v in ref.values}
        if mine != theirs:
            missing = {n: v for n, v in theirs.items() if mine.get(n) != v}
            extra = {n: v for n, v in mine.items() if theirs.get(n) != v}
            problems.append(f"{e['full_name']}: reference has {missing} that we lack; we have {extra} it lacks")
    assert not problems, "\n".join(problems)


def test_no_reference_field_is_missing(ours):
    """Every field the requests can reach is modelled, or listed as a deliberate omission."""
    by_name = {m["full_name"]: m for m in ours["messages"]}
    missing = []
    for name, ref in sorted(reachable_reference_messages().items()):
        if name not in by_name:
            missing.append(f"message {name}")
            continue
        numbers = {f["number"] for f in by_name[name]["fields"]}
        for rf in ref.fields:
            if rf.number not in numbers and (name, rf.name) not in DELIBERATE_OMISSIONS:
                missing.append(f"{name}.{rf.name} = {rf.number}")
    assert not missing, "fields of the reference our schema lacks (model them or list them in " \
                        "DELIBERATE_OMISSIONS with the reason):\n" + "\n".join(missing)


def test_omissions_are_still_real():
    """A listed omission that the reference no longer has is stale."""
    for (msg, field) in DELIBERATE_OMISSIONS:
        assert field in ref_message(msg).fields_by_name, f"stale omission {msg}.{field}"
    for name in DELIBERATE_TYPE_OMISSIONS:
        try:
            POOL.FindMessageTypeByName(name)
        except KeyError:
            POOL.FindEnumTypeByName(name)


def test_every_reference_enum_used_or_omitted(ours):
    modelled = {e["full_name"] for e in ours["enums"]}
    files = {m.file for m in reachable_reference_messages().values()}
    unexplained = []
    for fd in files:
        enums = list(fd.enum_types_by_name.values())
        for m in fd.message_types_by_name.values():
            enums.extend(m.enum_types)
        for e in enums:
            if e.full_name not in modelled and e.full_name not in DELIBERATE_TYPE_OMISSIONS:
                unexplained.append(e.full_name)
    assert not unexplained, f"reference enums neither modelled nor listed as omissions: {unexplained}"


def test_data_messages_share_the_request_layout():
    pairs = [
        ("opentelemetry.proto.trace.v1.TracesData", ROOTS[0]),
        ("opentelemetry.proto.metrics.v1.MetricsData", ROOTS[1]),
        ("opentelemetry.proto.logs.v1.LogsData", ROOTS[2]),
    ]
    for data, request in pairs:
        a = [(f.number, f.name, f.type, f.is_repeated, f.message_type.full_name) for f in ref_message(data).fields]
        b = [(f.number, f.name, f.type, f.is_repeated, f.message_type.full_name)
             for f in ref_message(request).fields]
        assert a == b, f"{data} and {request} differ: the JSON codec reads one as the other"


def test_closure_and_roles(ours):
    """Our tables point only at types they list, and the roles sit on the right fields."""
    names = {m["full_name"] for m in ours["messages"]}
    enums = {e["full_name"] for e in ours["enums"]}
    for root in ROOTS:
        assert root in names
    for m in ours["messages"]:
        for f in m["fields"]:
            if "message" in f:
                assert f["message"] in names, f"{m['full_name']}.{f['name']} points at an unlisted message"
            if "enum" in f:
                assert f["enum"] in enums
            # Every timestamp is a fixed64 *time_unix_nano field, and every such field is a timestamp.
            is_time = f["name"].endswith("time_unix_nano")
            assert (f["role"] == "timestamp") == is_time, f"{m['full_name']}.{f['name']} role {f['role']}"
            if is_time:
                assert f["type"] == "fixed64"
            if f["name"] == "trace_id":
                assert f["role"] == "trace_id" and f["type"] == "bytes"
            elif f["name"] in ("span_id", "parent_span_id"):
                assert f["role"] == "span_id" and f["type"] == "bytes"
            else:
                assert f["role"] in ("none", "timestamp"), f"{m['full_name']}.{f['name']}"


def test_item_kinds(ours):
    items = {m["full_name"].rsplit(".", 1)[1]: m["item"] for m in ours["messages"] if m["item"] != "none"}
    assert items == {
        "Resource": "resource",
        "Span": "span",
        "LogRecord": "log_record",
        "NumberDataPoint": "data_point",
        "HistogramDataPoint": "data_point",
        "ExponentialHistogramDataPoint": "data_point",
        "SummaryDataPoint": "data_point",
    }


def test_legacy_json_names(ours):
    """The pre-1.0 instrumentationLibrary* names sit on the fields that replaced them."""
    legacy = {(m["full_name"].rsplit(".", 1)[1], f["name"]): f["legacy_json_name"]
              for m in ours["messages"] for f in m["fields"] if "legacy_json_name" in f}
    assert legacy == {
        ("ResourceSpans", "scope_spans"): "instrumentationLibrarySpans",
        ("ResourceMetrics", "scope_metrics"): "instrumentationLibraryMetrics",
        ("ResourceLogs", "scope_logs"): "instrumentationLibraryLogs",
        ("ScopeSpans", "scope"): "instrumentationLibrary",
        ("ScopeMetrics", "scope"): "instrumentationLibrary",
        ("ScopeLogs", "scope"): "instrumentationLibrary",
    }
