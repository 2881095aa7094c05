"""Our OTLP codec against the official Python opentelemetry-proto package, both directions, JSON included.

Generated requests (seeded, so every run checks the same cases) cover every field kind of the three
requests; for each one:
  (a) the reference's protobuf -> our summarize: the counts, service names and time range the reference
      computes; our locate: the offsets hold exactly the reference's timestamps and ids;
  (b) the reference's protobuf -> our proto2json -> the reference's JSON parser -> the same request, and
      our JSON is the strict OTLP/JSON form (lowerCamelCase, hex ids, 64-bit integers as strings, enums
      as integers, defaults omitted);
  (c) the reference's JSON, in each form a sender may use (camelCase or snake_case keys, enums as names
      or integers, 64-bit integers as strings or numbers) -> our json2proto -> the reference's protobuf
      parser -> the same request;
  (d) proto2json(json2proto(x)) of our own output is stable.
Then the real files under ../shared/testdata/otlp (read in place, never copied).

The OTLP/JSON caveat: OTLP writes trace and span ids as hex where protobuf's generic JSON mapping uses
base64, so ids are converted on the Python side before the reference sees or compares them.
"""

import base64
import difflib
import json
import math
import os
import pathlib
import random
import re
import struct

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor as F
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1 import trace_pb2

from conftest import REPO, CodecError

SEEDS = int(os.environ.get("OTELRR_CROSSCHECK_SEEDS", "200"))
SIGNALS = ["traces", "metrics", "logs"]
REQUEST = {"traces": ExportTraceServiceRequest, "metrics": ExportMetricsServiceRequest,
           "logs": ExportLogsServiceRequest}
ID_FIELDS = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}
ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
SIXTY_FOUR_BIT = {F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_FIXED64, F.TYPE_SFIXED64, F.TYPE_SINT64}

U64_MAX = 2**64 - 1
I64_MIN, I64_MAX = -(2**63), 2**63 - 1


# ---------------------------------------------------------------------------------------------------
# A deterministic generator of reference requests.


class Generator:
    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def string(self) -> str:
        r = self.r
        pool = ["", "a", "service.name", "GET /api/v1/users/{id}", "héllo wörld", "日本語のテキスト",
                "emoji 😀🚀", "quote \" backslash \\ slash /", "ctl \n\t\r\b\f \x01 \x1f \x7f",
                "null \x00 inside", "€ and 𝄞", "<script>&amp;</script>", "\u2028\u2029"]
        if r.random() < 0.6:
            return r.choice(pool)
        alphabet = "abcxyz_.-/ 0123456789é中😀\"\\\n"
        return "".join(r.choice(alphabet) for _ in range(r.randint(0, 24)))

    def bytes_(self, n=None) -> bytes:
        n = self.r.randint(0, 20) if n is None else n
        return bytes(self.r.randrange(256) for _ in range(n))

    def u64(self) -> int:
        return self.r.choice([0, 1, 1_700_000_000_123_456_789, I64_MAX, 2**63, U64_MAX,
                              self.r.randrange(2**63, 2**64), self.r.randrange(0, 2**64)])

    def time(self) -> int:
        r = self.r.random()
        if r < 0.15:
            return 0
        if r < 0.3:
            return self.r.choice([1, I64_MAX, 2**63, 2**63 + 12345, U64_MAX])
        return 1_700_000_000_000_000_000 + self.r.randrange(10**15)

    def i64(self) -> int:
        return self.r.choice([0, 1, -1, 42, -123456789012, I64_MIN, I64_MAX, self.r.randrange(I64_MIN, I64_MAX)])

    def u32(self) -> int:
        return self.r.choice([0, 1, 7, 2**31, 2**32 - 1, self.r.randrange(2**32)])

    def sint32(self) -> int:
        return self.r.choice([0, 1, -1, -10, 20, -(2**31), 2**31 - 1])

    def double(self) -> float:
        # 2**64 and 2.678140082510949e20 print as integers wider than 64 bits ("18446744073709551616"),
        # which a JSON reader must still take as a double.
        return self.r.choice([0.0, -0.0, 1.0, -2.5, 0.1, 1e300, -1e-300, 5e-324, 2**53 + 1.0, math.pi,
                              float(2**64), -2.678140082510949e20, float("nan"), float("inf"), float("-inf"),
                              self.r.uniform(-1e6, 1e6)])

    def enum(self, top: int) -> int:
        # Mostly known values; sometimes one the schema does not name (proto3 enums are open).
        return self.r.randint(0, top) if self.r.random() < 0.9 else self.r.choice([top + 1, 99, 2**31 - 1])

    def trace_id(self) -> bytes:
        return b"" if self.chance(0.15) else self.bytes_(16)

    def span_id(self) -> bytes:
        return b"" if self.chance(0.15) else self.bytes_(8)

    def any_value(self, av, depth: int):
        kinds = ["string", "bool", "int", "double", "bytes", "empty", "array", "kvlist", "strindex"]
        weights = [5, 2, 3, 2, 2, 1, 2 if depth < 4 else 0, 2 if depth < 4 else 0, 1]
        kind = self.r.choices(kinds, weights)[0]
        if kind == "string":
            av.string_value = self.string()
        elif kind == "bool":
            av.bool_value = self.chance(0.5)
        elif kind == "int":
            av.int_value = self.i64()
        elif kind == "double":
            av.double_value = self.double()
        elif kind == "bytes":
            av.bytes_value = self.bytes_()
        elif kind == "array":
            av.array_value.SetInParent()
            for _ in range(self.r.randint(0, 3)):
                self.any_value(av.array_value.values.add(), depth + 1)
        elif kind == "kvlist":
            av.kvlist_value.SetInParent()
            self.attributes(av.kvlist_value.values, depth + 1)
        elif kind == "strindex":
            av.string_value_strindex = self.r.choice([0, 3, -1, 2**31 - 1])
        # "empty": an AnyValue with nothing set.

    def attributes(self, kvs, depth: int = 0, n=None):
        for _ in range(self.r.randint(0, 3) if n is None else n):
            kv = kvs.add()
            kv.key = self.string()
            if self.chance(0.92):
                self.any_value(kv.value, depth)
            if self.chance(0.05):
                kv.key_strindex = self.r.choice([1, -5])

    def resource(self, holder):
        if self.chance(0.15):
            return  # no resource at all
        res = holder.resource
        res.SetInParent()
        if self.chance(0.8):
            kv = res.attributes.add()
            kv.key = "service.name"
            if self.chance(0.9):
                kv.value.string_value = self.r.choice(["checkout", "frontend", "", "ünïcode-svc", "cart"])
            else:
                kv.value.int_value = 7  # not a string: not a service name
        self.attributes(res.attributes)
        res.dropped_attributes_count = self.u32() if self.chance(0.3) else 0
        for _ in range(self.r.choice([0, 0, 1, 2])):
            ref = res.entity_refs.add()
            ref.schema_url = self.string()
            ref.type = self.r.choice(["service", "host", ""])
            ref.id_keys.extend(self.string() for _ in range(self.r.randint(0, 2)))
            ref.description_keys.extend(self.string() for _ in range(self.r.randint(0, 2)))
        if self.chance(0.5):
            holder.schema_url = self.string()

    def scope(self, holder):
        if self.chance(0.2):
            return
        sc = holder.scope
        sc.SetInParent()
        sc.name = self.string()
        sc.version = self.r.choice(["", "1.2.3"])
        self.attributes(sc.attributes)
        sc.dropped_attributes_count = self.u32() if self.chance(0.2) else 0
        if self.chance(0.4):
            holder.schema_url = self.string()

    # ---- traces ----
    def span(self, s):
        s.trace_id = self.trace_id()
        s.span_id = self.span_id()
        if self.chance(0.3):
            s.trace_state = self.r.choice(["", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", self.string()])
        if self.chance(0.6):
            s.parent_span_id = self.span_id()
        s.flags = self.u32() if self.chance(0.5) else 0
        s.name = self.string()
        s.kind = self.enum(5)
        s.start_time_unix_nano = self.time()
        s.end_time_unix_nano = self.time()
        self.attributes(s.attributes)
        s.dropped_attributes_count = self.u32() if self.chance(0.2) else 0
        for _ in range(self.r.randint(0, 2)):
            e = s.events.add()
            e.time_unix_nano = self.time()
            e.name = self.string()
            self.attributes(e.attributes)
            e.dropped_attributes_count = self.u32() if self.chance(0.2) else 0
        s.dropped_events_count = self.u32() if self.chance(0.2) else 0
        for _ in range(self.r.randint(0, 2)):
            link = s.links.add()
            link.trace_id = self.trace_id()
            link.span_id = self.span_id()
            link.trace_state = self.r.choice(["", "k=v"])
            self.attributes(link.attributes)
            link.dropped_attributes_count = self.u32() if self.chance(0.2) else 0
            link.flags = self.u32() if self.chance(0.5) else 0
        s.dropped_links_count = self.u32() if self.chance(0.2) else 0
        if self.chance(0.6):
            s.status.SetInParent()
            s.status.message = self.r.choice(["", "boom", self.string()])
            s.status.code = self.enum(2)

    def traces(self) -> ExportTraceServiceRequest:
        req = ExportTraceServiceRequest()
        for _ in range(self.r.randint(0, 3)):
            rs = req.resource_spans.add()
            self.resource(rs)
            for _ in range(self.r.randint(0, 3)):
                ss = rs.scope_spans.add()
                self.scope(ss)
                for _ in range(self.r.randint(0, 4)):
                    self.span(ss.spans.add())
        return req

    # ---- metrics ----
    def exemplars(self, out):
        for _ in range(self.r.choice([0, 0, 1, 2])):
            ex = out.add()
            self.attributes(ex.filtered_attributes)
            ex.time_unix_nano = self.time()
            which = self.r.choice(["double", "int", "none"])
            if which == "double":
                ex.as_double = self.double()
            elif which == "int":
                ex.as_int = self.i64()
            if self.chance(0.7):
                ex.span_id = self.span_id()
                ex.trace_id = self.trace_id()

    def point_common(self, p):
        self.attributes(p.attributes)
        p.start_time_unix_nano = self.time()
        p.time_unix_nano = self.time()
        p.flags = self.r.choice([0, 0, 1, self.u32()])

    def number_point(self, p):
        self.point_common(p)
        which = self.r.choice(["double", "int", "int", "none"])
        if which == "double":
            p.as_double = self.double()
        elif which == "int":
            p.as_int = self.i64()
        self.exemplars(p.exemplars)

    def optional_double(self, p, name):
        # Absent, present with zero, or present with a value: explicit presence keeps them apart.
        c = self.r.random()
        if c < 0.3:
            return
        setattr(p, name, 0.0 if c < 0.5 else self.double())

    def histogram_point(self, p):
        self.point_common(p)
        p.count = self.u64()
        self.optional_double(p, "sum")
        n = self.r.randint(0, 5)
        p.bucket_counts.extend(self.u64() for _ in range(n))
        p.explicit_bounds.extend(self.double() for _ in range(max(0, n - 1)))
        self.exemplars(p.exemplars)
        self.optional_double(p, "min")
        self.optional_double(p, "max")

    def exp_histogram_point(self, p):
        self.point_common(p)
        p.count = self.u64()
        self.optional_double(p, "sum")
        p.scale = self.sint32()
        p.zero_count = self.u64() if self.chance(0.5) else 0
        for name in ("positive", "negative"):
            if self.chance(0.7):
                b = getattr(p, name)
                b.SetInParent()
                b.offset = self.sint32()
                b.bucket_counts.extend(self.u64() for _ in range(self.r.randint(0, 5)))
        self.exemplars(p.exemplars)
        self.optional_double(p, "min")
        self.optional_double(p, "max")
        p.zero_threshold = self.double() if self.chance(0.4) else 0.0

    def summary_point(self, p):
        self.point_common(p)
        p.count = self.u64()
        p.sum = self.double() if self.chance(0.7) else 0.0
        for _ in range(self.r.randint(0, 3)):
            q = p.quantile_values.add()
            q.quantile = self.r.choice([0.0, 0.5, 0.99, 1.0])
            q.value = self.double()

    def metric(self, m):
        m.name = self.string()
        m.description = self.r.choice(["", "how long things take"])
        m.unit = self.r.choice(["", "ms", "By", "{request}"])
        kind = self.r.choice(["gauge", "sum", "histogram", "exponential_histogram", "summary", "none"])
        points = self.r.randint(0, 3)
        if kind == "gauge":
            m.gauge.SetInParent()
            for _ in range(points):
                self.number_point(m.gauge.data_points.add())
        elif kind == "sum":
            m.sum.SetInParent()
            for _ in range(points):
                self.number_point(m.sum.data_points.add())
            m.sum.aggregation_temporality = self.enum(2)
            m.sum.is_monotonic = self.chance(0.5)
        elif kind == "histogram":
            m.histogram.SetInParent()
            for _ in range(points):
                self.histogram_point(m.histogram.data_points.add())
            m.histogram.aggregation_temporality = self.enum(2)
        elif kind == "exponential_histogram":
            m.exponential_histogram.SetInParent()
            for _ in range(points):
                self.exp_histogram_point(m.exponential_histogram.data_points.add())
            m.exponential_histogram.aggregation_temporality = self.enum(2)
        elif kind == "summary":
            m.summary.SetInParent()
            for _ in range(points):
                self.summary_point(m.summary.data_points.add())
        if self.chance(0.2):
            self.attributes(m.metadata)

    def metrics(self) -> ExportMetricsServiceRequest:
        req = ExportMetricsServiceRequest()
        for _ in range(self.r.randint(0, 3)):
            rm = req.resource_metrics.add()
            self.resource(rm)
            for _ in range(self.r.randint(0, 3)):
                sm = rm.scope_metrics.add()
                self.scope(sm)
                for _ in range(self.r.randint(0, 4)):
                    self.metric(sm.metrics.add())
        return req

    # ---- logs ----
    def log_record(self, lr):
        lr.time_unix_nano = self.time()
        lr.observed_time_unix_nano = self.time()
        lr.severity_number = self.enum(24)
        lr.severity_text = self.r.choice(["", "INFO", "ERROR", self.string()])
        if self.chance(0.85):
            self.any_value(lr.body, 0)
        self.attributes(lr.attributes)
        lr.dropped_attributes_count = self.u32() if self.chance(0.2) else 0
        lr.flags = self.r.choice([0, 1, self.u32()])
        lr.trace_id = self.trace_id()
        lr.span_id = self.span_id()
        if self.chance(0.3):
            lr.event_name = self.string()

    def logs(self) -> ExportLogsServiceRequest:
        req = ExportLogsServiceRequest()
        for _ in range(self.r.randint(0, 3)):
            rl = req.resource_logs.add()
            self.resource(rl)
            for _ in range(self.r.randint(0, 3)):
                sl = rl.scope_logs.add()
                self.scope(sl)
                for _ in range(self.r.randint(0, 4)):
                    self.log_record(sl.log_records.add())
        return req


def generate(signal: str, seed: int):
    # Distinct streams per signal, stable across runs and Python versions.
    g = Generator(seed * 3 + SIGNALS.index(signal))
    return getattr(g, signal)()


def wire(msg) -> bytes:
    return msg.SerializeToString(deterministic=True)


# ---------------------------------------------------------------------------------------------------
# What the reference says a request holds.


def walk(msg, visit):
    for fd, value in msg.ListFields():
        values = value if fd.is_repeated else [value]
        for v in values:
            visit(fd, v)
            if fd.type == F.TYPE_MESSAGE:
                walk(v, visit)


def reference_summary(signal: str, req) -> dict:
    out = {"resources": 0, "spans": 0, "data_points": 0, "log_records": 0, "service_names": []}
    times = []

    def visit(fd, v):
        if fd.name.endswith("time_unix_nano") and v != 0:
            times.append(v)

    walk(req, visit)
    top = {"traces": req.resource_spans if signal == "traces" else None,
           "metrics": req.resource_metrics if signal == "metrics" else None,
           "logs": req.resource_logs if signal == "logs" else None}[signal]
    for rx in top:
        if rx.HasField("resource"):
            out["resources"] += 1
            for kv in rx.resource.attributes:
                if kv.key == "service.name" and kv.value.WhichOneof("value") == "string_value":
                    if kv.value.string_value not in out["service_names"]:
                        out["service_names"].append(kv.value.string_value)
        scopes = {"traces": "scope_spans", "metrics": "scope_metrics", "logs": "scope_logs"}[signal]
        for sx in getattr(rx, scopes):
            if signal == "traces":
                out["spans"] += len(sx.spans)
            elif signal == "logs":
                out["log_records"] += len(sx.log_records)
            else:
                for m in sx.metrics:
                    which = m.WhichOneof("data")
                    if which:
                        out["data_points"] += len(getattr(m, which).data_points)
    out["min_time_unix_nano"] = min(times) if times else 0
    out["max_time_unix_nano"] = max(times) if times else 0
    return out


def reference_locations(req) -> dict:
    found = {"timestamps": [], "trace_ids": [], "span_ids": []}

    def visit(fd, v):
        if fd.name.endswith("time_unix_nano"):
            found["timestamps"].append(v)
        elif fd.name == "trace_id" and v:
            found["trace_ids"].append(v)
        elif fd.name in ("span_id", "parent_span_id") and v:
            found["span_ids"].append(v)

    walk(req, visit)
    return {k: sorted(v) for k, v in found.items()}


def located_values(data: bytes, loc: dict) -> dict:
    for key, width in (("timestamps", 8), ("trace_ids", 16), ("span_ids", 8)):
        for off in loc[key]:
            assert 0 <= off and off + width <= len(data), f"{key} offset {off} out of range"
    return {
        "timestamps": sorted(struct.unpack_from("<Q", data, o)[0] for o in loc["timestamps"]),
        "trace_ids": sorted(data[o:o + 16] for o in loc["trace_ids"]),
        "span_ids": sorted(data[o:o + 8] for o in loc["span_ids"]),
    }


# ---------------------------------------------------------------------------------------------------
# OTLP/JSON <-> protobuf's generic JSON mapping: only the ids differ.


def convert_ids(node, to_hex: bool):
    if isinstance(node, list):
        for v in node:
            convert_ids(v, to_hex)
    elif isinstance(node, dict):
        for k, v in node.items():
            if k in ID_KEYS and isinstance(v, str):
                node[k] = base64.b64decode(v).hex() if to_hex else base64.b64encode(bytes.fromhex(v)).decode()
            else:
                convert_ids(v, to_hex)
    return node


def load_json(text: str):
    # Python's json reads the JSON number -0 as the integer 0; as a double it is -0.0.
    return json.loads(text, parse_int=lambda s: -0.0 if s == "-0" else int(s))


def parse_otlp_json(text: str, cls, ignore_unknown=False):
    """An OTLP/JSON document, parsed by the reference (after turning hex ids into base64)."""
    msg = cls()
    json_format.Parse(json.dumps(convert_ids(load_json(text), to_hex=False)), msg,
                      ignore_unknown_fields=ignore_unknown)
    return msg


def reference_json_forms(req) -> dict[str, str]:
    """The request as a sender might write it in OTLP/JSON."""
    forms = {
        "camel_enum_names": json_format.MessageToDict(req),
        "snake_enum_ints": json_format.MessageToDict(req, preserving_proto_field_name=True,
                                                     use_integers_for_enums=True),
        "camel_ints_unquoted": json_format.MessageToDict(req, use_integers_for_enums=True,
                                                         unquote_int64_if_possible=True),
        "snake_names_with_defaults": json_format.MessageToDict(req, preserving_proto_field_name=True,
                                                               always_print_fields_with_no_presence=True),
    }
    out = {}
    for name, d in forms.items():
        # Pretty for one form, compact for the others: whitespace is the decoder's business too.
        out[name] = json.dumps(convert_ids(d, to_hex=True), indent=2 if name.startswith("snake_enum") else None,
                               ensure_ascii=name.endswith("defaults"))
    return out


HEX = re.compile(r"^[0-9a-f]*$")
INT_STRING = re.compile(r"^-?[0-9]+$")


def is_default(fd, value) -> bool:
    if fd.type == F.TYPE_MESSAGE:
        return False
    if fd.type in SIXTY_FOUR_BIT:
        return value == "0"
    if fd.type == F.TYPE_DOUBLE:  # -0.0 is not the default: its sign is data
        return isinstance(value, (int, float)) and value == 0 and math.copysign(1.0, value) > 0
    return value in ("", False, 0) and type(value) in (str, bool, int)


def strict_form_problems(node, descriptor, path="$") -> list[str]:
    """Where our JSON is not the strict OTLP/JSON the specification defines."""
    problems = []
    by_json = {f.json_name: f for f in descriptor.fields}
    for key, value in node.items():
        fd = by_json.get(key)
        where = f"{path}.{key}"
        if fd is None:
            problems.append(f"{where}: not a lowerCamelCase field name of {descriptor.name}")
            continue
        values = value if fd.is_repeated else [value]
        if fd.is_repeated and (not isinstance(value, list) or not value):
            problems.append(f"{where}: repeated field written as {value!r}")
            continue
        if not fd.is_repeated and not fd.has_presence and is_default(fd, value):
            problems.append(f"{where}: default value {value!r} written")
        for v in values:
            if fd.type == F.TYPE_MESSAGE:
                if not isinstance(v, dict):
                    problems.append(f"{where}: not an object")
                else:
                    problems.extend(strict_form_problems(v, fd.message_type, where))
            elif fd.type == F.TYPE_ENUM:
                if not isinstance(v, int) or isinstance(v, bool):
                    problems.append(f"{where}: enum written as {v!r}, not an integer")
            elif fd.type in SIXTY_FOUR_BIT:
                if not isinstance(v, str) or not INT_STRING.match(v):
                    problems.append(f"{where}: 64-bit integer written as {v!r}, not a decimal string")
            elif fd.type == F.TYPE_BYTES and fd.name in ID_FIELDS:
                if not isinstance(v, str) or not HEX.match(v) or len(v) not in (0, 2 * ID_FIELDS[fd.name]):
                    problems.append(f"{where}: id written as {v!r}, not lowercase hex")
            elif fd.type == F.TYPE_DOUBLE:
                if not (isinstance(v, (int, float)) and not isinstance(v, bool)) and \
                        v not in ("NaN", "Infinity", "-Infinity"):
                    problems.append(f"{where}: double written as {v!r}")
    return problems


def diff(want, got) -> str:
    """The lines where two requests differ, in text format."""
    lines = difflib.unified_diff(str(want).splitlines(), str(got).splitlines(), "reference", "ours", n=2,
                                 lineterm="")
    return "\n".join(list(lines)[:60])


def run_cases(check, signal: str):
    failures = []
    for seed in range(SEEDS):
        req = generate(signal, seed)
        try:
            problem = check(req)
        except CodecError as e:
            problem = f"our codec refused it: {e}"
        if problem:
            failures.append((seed, problem, req))
    if failures:
        seed, problem, req = failures[0]
        others = ", ".join(str(s) for s, _, _ in failures[1:20])
        pytest.fail(f"{len(failures)}/{SEEDS} {signal} cases disagree with the reference. "
                    f"First, seed {seed}: {problem}\nother seeds: {others}")


# ---------------------------------------------------------------------------------------------------
# Generated requests.


def test_generator_covers_every_field(tool):
    """The generated cases together set every field of every message the requests reach."""
    seen = set()

    def visit(fd, v):
        seen.add(fd.full_name)

    for signal in SIGNALS:
        for seed in range(SEEDS):
            walk(generate(signal, seed), visit)
    expected = set()
    todo = [cls.DESCRIPTOR for cls in REQUEST.values()]
    done = set()
    while todo:
        d = todo.pop()
        if d.full_name in done:
            continue
        done.add(d.full_name)
        for fd in d.fields:
            expected.add(fd.full_name)
            if fd.type == F.TYPE_MESSAGE:
                todo.append(fd.message_type)
    assert expected - seen == set()


@pytest.mark.parametrize("signal", SIGNALS)
def test_reference_proto_summarize_and_locate(tool, signal):
    def check(req):
        data = wire(req)
        ours = tool.summarize(signal, data)
        theirs = reference_summary(signal, req)
        if ours != theirs:
            return f"summary {ours} != reference {theirs}"
        got = located_values(data, tool.locate(signal, data))
        want = reference_locations(req)
        if got != want:
            return f"locate found {got} != reference {want}"
        return None

    run_cases(check, signal)


@pytest.mark.parametrize("signal", SIGNALS)
def test_reference_proto_to_our_json(tool, signal):
    def check(req):
        text = tool.proto2json(signal, wire(req))
        doc = load_json(text)
        problems = strict_form_problems(doc, req.DESCRIPTOR)
        if problems:
            return "not strict OTLP/JSON: " + "; ".join(problems[:5]) + f"\nours: {text[:2000]}"
        back = parse_otlp_json(text, REQUEST[signal])
        if wire(back) != wire(req):
            return f"the reference reads our JSON as a different request:\n{diff(req, back)}\nours: {text[:2000]}"
        return None

    run_cases(check, signal)


@pytest.mark.parametrize("signal", SIGNALS)
def test_reference_json_to_our_proto(tool, signal):
    def check(req):
        for form, text in reference_json_forms(req).items():
            ours = tool.json2proto(signal, text)
            back = REQUEST[signal]()
            back.ParseFromString(ours)
            if wire(back) != wire(req):
                return f"form {form}: our protobuf differs:\n{diff(req, back)}\nfrom JSON: {text[:2000]}"
        return None

    run_cases(check, signal)


@pytest.mark.parametrize("signal", SIGNALS)
def test_our_json_round_trip_is_stable(tool, signal):
    def check(req):
        data = wire(req)
        first = tool.proto2json(signal, data)
        proto = tool.json2proto(signal, first)
        second = tool.proto2json(signal, proto)
        if second != first:
            at = next(i for i in range(min(len(first), len(second)) + 1) if first[i:i + 1] != second[i:i + 1])
            return (f"proto2json(json2proto(j)) != j from byte {at}:\n first: ...{first[max(0, at - 300):at + 200]}"
                    f"\nsecond: ...{second[max(0, at - 300):at + 200]}")
        back = REQUEST[signal]()
        back.ParseFromString(proto)
        if wire(back) != wire(req):
            return f"json2proto(proto2json(p)) is not p:\n{diff(req, back)}"
        return None

    run_cases(check, signal)


def test_special_values_spelled_as_the_spec_says(tool):
    """Hand-picked values whose JSON spelling the specification fixes."""
    req = ExportMetricsServiceRequest()
    m = req.resource_metrics.add().scope_metrics.add().metrics.add()
    p = m.gauge.data_points.add()
    p.as_double = float("nan")
    p.time_unix_nano = U64_MAX
    q = m.gauge.data_points.add()
    q.as_int = I64_MIN
    q.exemplars.add(as_double=float("-inf"), span_id=bytes.fromhex("00ff00ff00ff00ff"))
    doc = json.loads(tool.proto2json("metrics", wire(req)))
    points = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["gauge"]["dataPoints"]
    assert points[0] == {"asDouble": "NaN", "timeUnixNano": "18446744073709551615"}
    assert points[1] == {"asInt": "-9223372036854775808",
                         "exemplars": [{"asDouble": "-Infinity", "spanId": "00ff00ff00ff00ff"}]}

    span_req = ExportTraceServiceRequest()
    span = span_req.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes(range(16))
    span.kind = trace_pb2.Span.SPAN_KIND_SERVER
    span.status.code = trace_pb2.Status.STATUS_CODE_ERROR
    doc = json.loads(tool.proto2json("traces", wire(span_req)))
    assert doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0] == {
        "traceId": "000102030405060708090a0b0c0d0e0f", "kind": 2, "status": {"code": 2}}


def test_optional_zero_is_kept(tool):
    """Explicit presence: a sum of 0 is written, and an absent sum stays absent."""
    req = ExportMetricsServiceRequest()
    m = req.resource_metrics.add().scope_metrics.add().metrics.add()
    p = m.histogram.data_points.add()
    p.sum = 0.0
    m.histogram.data_points.add(count=3)
    doc = json.loads(tool.proto2json("metrics", wire(req)))
    points = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["histogram"]["dataPoints"]
    assert points == [{"sum": 0}, {"count": "3"}] or points == [{"sum": 0.0}, {"count": "3"}]
    back = ExportMetricsServiceRequest()
    back.ParseFromString(tool.json2proto("metrics", json.dumps(doc)))
    assert back.resource_metrics[0].scope_metrics[0].metrics[0].histogram.data_points[0].HasField("sum")
    assert not back.resource_metrics[0].scope_metrics[0].metrics[0].histogram.data_points[1].HasField("sum")


# ---------------------------------------------------------------------------------------------------
# Real data from other projects, read in place.

TESTDATA = pathlib.Path(os.environ.get("OTELRR_TESTDATA", REPO.parent / "shared" / "testdata" / "otlp"))


def sources_rows() -> dict[str, tuple[str, dict[str, int]]]:
    """Per file, the Format column of SOURCES.md and its Items: {'spans': 178, 'resources': 1, ...}."""
    rows = {}
    for line in (TESTDATA / "SOURCES.md").read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 6 or not cells[1].startswith("`"):
            continue
        items = {}
        for part in cells[5].split(","):
            m = re.match(r"\s*(\w+)=(\d+)\s*$", part)
            if m:
                items[m.group(1)] = int(m.group(2))
        rows[cells[1].strip("`")] = (cells[4], items)
    return rows


def sources_counts() -> dict[str, dict[str, int]]:
    return {name: items for name, (_, items) in sources_rows().items()}


def real_files(suffixes):
    if not TESTDATA.is_dir():
        return []
    return sorted(str(p.relative_to(TESTDATA)) for sub in SIGNALS for p in (TESTDATA / sub).iterdir()
                  if p.suffix in suffixes)


def require_testdata():
    if not (TESTDATA / "SOURCES.md").exists():
        pytest.fail(f"no real OTLP test data at {TESTDATA} (set OTELRR_TESTDATA to the shared testdata/otlp)")


COUNT_KEYS = ("resources", "spans", "data_points", "log_records")


def expected_counts(name: str) -> dict:
    items = sources_counts()[name]
    return {k: items[k] for k in COUNT_KEYS if k in items}


def add_counts(total: dict, summary: dict, ref):
    """SOURCES.md counts resources as ResourceSpans/Metrics/Logs entries, with or without a Resource."""
    for k in COUNT_KEYS:
        total[k] = total.get(k, 0) + summary[k]
    total["resources"] += len(getattr(ref, ref.DESCRIPTOR.fields[0].name)) - summary["resources"]


@pytest.mark.parametrize("name", real_files({".pb"}))
def test_real_protobuf_file(tool, name):
    require_testdata()
    signal = name.split("/")[0]
    data = (TESTDATA / name).read_bytes()
    ref = REQUEST[signal]()
    ref.ParseFromString(data)
    ours = tool.summarize(signal, data)
    assert ours == reference_summary(signal, ref)
    want = expected_counts(name)
    total = {}
    add_counts(total, ours, ref)
    assert {k: total[k] for k in want} == want, f"counts differ from SOURCES.md for {name}"
    assert located_values(data, tool.locate(signal, data)) == reference_locations(ref)
    # Our JSON of it is the same request to the reference, unknown (removed) fields aside.
    back = parse_otlp_json(tool.proto2json(signal, data), REQUEST[signal])
    ref.DiscardUnknownFields()
    assert wire(back) == wire(ref)


@pytest.mark.parametrize("name", real_files({".json", ".jsonl"}))
def test_real_json_file(tool, name):
    require_testdata()
    signal = name.split("/")[0]
    text = (TESTDATA / name).read_text()
    # Some ".jsonl" files hold one pretty-printed document: the Format column says which is which.
    if sources_rows()[name][0].startswith("OTLP/JSON lines"):
        documents = [line for line in text.splitlines() if line.strip()]
    else:
        documents = [text]
    total = {}
    for doc in documents:
        proto = tool.json2proto(signal, doc)
        ref = REQUEST[signal]()
        ref.ParseFromString(proto)  # what we wrote is valid protobuf to the reference
        summary = tool.summarize(signal, proto)
        assert summary == reference_summary(signal, ref)
        add_counts(total, summary, ref)
        # Where the reference can read the document itself (standard keys, no unknown fields), both
        # readings must be the same request.
        try:
            theirs = parse_otlp_json(doc, REQUEST[signal])
        except (json_format.ParseError, ValueError):
            continue
        assert wire(ref) == wire(theirs), f"{name}: we read the document differently from the reference"
    want = expected_counts(name)
    assert {k: total[k] for k in want} == want, f"counts differ from SOURCES.md for {name}"


def test_real_data_is_all_covered():
    require_testdata()
    listed = {n for n in sources_counts() if n.split("/")[0] in SIGNALS}
    present = set(real_files({".pb", ".json", ".jsonl"}))
    assert present <= listed, f"files without a SOURCES.md row: {present - listed}"
    assert len(present) >= 50
