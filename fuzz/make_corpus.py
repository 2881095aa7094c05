"""Writes the seed corpus of the fuzz targets: fuzz/corpus/<target>/.

    OTELRR_TOOL=build/tests/otelrr_otlp_tool .venv/bin/python fuzz/make_corpus.py

Seeds are our own data only: requests from the reference tests' seeded generator (small ones), our own
OTLP/JSON of them (through otlp_tool), the other JSON spellings senders use, and hand-written malformed
inputs. Crash reproducers that scripts/fuzz adds (crash-*) are kept: this script only rewrites the
seeds it names (gen-*, bad-*, edge-*).
"""

import json
import pathlib
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "reference"))

from conftest import CodecError, OtlpTool, tool_path  # noqa: E402
from test_crosscheck import SIGNALS, generate, reference_json_forms, wire  # noqa: E402

CORPUS = HERE / "corpus"
PER_SIGNAL = 6
MAX_SEED_BYTES = 2500


def varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def ld(number: int, payload: bytes) -> bytes:
    return tag(number, 2) + varint(len(payload)) + payload


def small_requests():
    """(signal, index, request) for the first generated requests that are small enough to be good seeds."""
    for signal in SIGNALS:
        found = 0
        seed = 0
        while found < PER_SIGNAL and seed < 1000:
            req = generate(signal, seed)
            seed += 1
            if 0 < len(wire(req)) <= MAX_SEED_BYTES:
                yield signal, found, req
                found += 1


def malformed_protobuf() -> dict[str, bytes]:
    span = ld(1, bytes(16)) + ld(2, bytes(8)) + tag(7, 1) + struct.pack("<Q", 2**63 + 5)
    trace = ld(1, ld(2, ld(2, span)))
    nested = b""
    for _ in range(120):  # AnyValue.array_value.values... deeper than the nesting limit
        nested = ld(5, ld(1, nested))
    deep_log = ld(1, ld(2, ld(2, ld(5, nested))))
    return {
        "bad-empty": b"",
        "bad-truncated-tag": b"\x8a",
        "bad-truncated-length": trace[:3],
        "bad-length-past-end": ld(1, b"\x12\x7f\x00"),
        "bad-huge-length": tag(1, 2) + varint(2**62) + b"x",
        "bad-varint-11-bytes": tag(1, 0) + b"\xff" * 10 + b"\x01",
        "bad-group-wire-type": tag(1, 3) + tag(1, 4),
        "bad-field-number-zero": b"\x02\x00",
        "bad-wrong-wire-type": ld(1, ld(2, ld(2, tag(7, 0) + varint(5)))),
        "bad-trace-id-15-bytes": ld(1, ld(2, ld(2, ld(1, bytes(15))))),
        "bad-span-id-9-bytes": ld(1, ld(2, ld(2, ld(2, bytes(9))))),
        "bad-truncated-fixed64": ld(1, ld(2, ld(2, tag(7, 1) + b"\x01\x02"))),
        "bad-deep-anyvalue": deep_log,
        "edge-trace-u64-time": trace,
        "edge-unknown-fields": ld(1, tag(99, 0) + varint(1) + ld(100, b"zz") + ld(2, ld(2, span))) + tag(7, 5) + b"abcd",
        "edge-duplicate-resource": ld(1, ld(1, ld(1, ld(1, b"a"))) + ld(1, ld(2, b"\x0a\x01b"))),
        "edge-packed-bucket-counts": ld(1, ld(2, ld(2, ld(9, ld(1, ld(6, struct.pack("<QQ", 1, 2**64 - 1))))))),
        "edge-unpacked-bucket-counts": ld(1, ld(2, ld(2, ld(9, ld(1, tag(6, 1) + struct.pack("<Q", 3) + tag(6, 1) + struct.pack("<Q", 4)))))),
        "edge-negative-enum": ld(1, ld(2, ld(2, tag(6, 0) + varint(2**64 - 1)))),
        "edge-oneof-twice": ld(1, ld(1, ld(1, ld(2, ld(1, b"x") + tag(3, 0) + varint(7))))),
    }


MALFORMED_JSON = {
    "bad-empty": "",
    "bad-not-json": "resourceSpans",
    "bad-truncated": '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a"',
    "bad-top-array": "[]",
    "bad-top-string": '"x"',
    "bad-spans-not-array": '{"resourceSpans":[{"scopeSpans":[{"spans":{}}]}]}',
    "bad-trace-id-odd": '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abc"}]}]}]}',
    "bad-span-id-base64-unused-bits": '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"AAECAwQFBgd"}]}]}]}',
    "bad-span-id-nonhex": '{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"zzzzzzzzzzzzzzzz"}]}]}]}',
    "bad-time-overflow": '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"18446744073709551616"}]}]}]}',
    "bad-time-negative": '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":-1}]}]}]}',
    "bad-time-fraction": '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1.5}]}]}]}',
    "bad-enum-name": '{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_NOPE"}]}]}]}',
    "bad-bool-as-string": '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"isMonotonic":"true"}}]}]}]}',
    "bad-base64": '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"bytesValue":"!!!"}}]}]}]}',
    "bad-invalid-utf8": b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"\xff\xfe"}}]}]}]}',
    "bad-deep-arrays": '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":' + '{"arrayValue":{"values":[' * 150
                       + "{}" + "]}}" * 150 + "}]}]}]}",
    "bad-deep-brackets": "[" * 5000,
    "bad-trailing-garbage": '{"resourceSpans":[]} x',
    "edge-null-values": '{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":null,"spans":[{"name":null}]}]}]}',
    "edge-unknown-keys": '{"resourceSpans":[{"foo":{"bar":[1,2,{"baz":null}]},"scopeSpans":[{"spans":[{"x":1}]}]}]}',
    "edge-legacy-names": '{"resourceMetrics":[{"instrumentationLibraryMetrics":[{"instrumentationLibrary":{"name":"l"},'
                         '"metrics":[{"name":"m","gauge":{"dataPoints":[{"asInt":5}]}}]}]}]}',
    "edge-snake-case": '{"resource_logs":[{"scope_logs":[{"log_records":[{"time_unix_nano":"5","severity_number":'
                       '"SEVERITY_NUMBER_WARN","body":{"string_value":"w"}}]}]}]}',
    "edge-int64-forms": '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"count":3,'
                        '"bucketCounts":["1",2],"sum":-0.0,"explicitBounds":[1e308,"Infinity"]}]}}]}]}]}',
    "edge-duplicate-keys": '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","name":"b","kind":1,"kind":2}]}]}]}',
    "edge-escapes": '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"\\u00e9\\ud83d\\ude00\\u0000\\n"}}]}]}]}',
    "edge-lone-surrogate": '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"\\ud800"}}]}]}]}',
    "edge-empty-ids": '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"","spanId":""}]}]}]}',
    "edge-trace-id-base64": '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AAECAwQFBgcICQoLDA0ODw=="}]}]}]}',
    "edge-uppercase-hex": '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0123456789ABCDEF0123456789ABCDEF"}]}]}]}',
    "edge-bom-whitespace": "\ufeff {\"resourceSpans\" : [ ] }\n",
    "edge-big-numbers": '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asDouble":1e400,'
                        '"asInt":"-9223372036854775809"}]}}]}]}]}',
}


def http_streams(signal: str, proto: bytes) -> dict[str, bytes]:
    """Connection byte streams for fuzz_http_framing: one request of each kind the receiver answers differently,
    pipelined requests, chunked bodies, and framing errors."""
    import gzip
    path = f"/v1/{signal}"

    def post(body, content_type="application/x-protobuf", extra="", target=path, method="POST"):
        return (f"{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n{extra}"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    zipped = gzip.compress(proto, mtime=0)
    chunked = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
               "Transfer-Encoding: chunked\r\n\r\n").encode()
    chunked += f"{len(proto[:10]):x}\r\n".encode() + proto[:10] + b"\r\n"
    chunked += f"{len(proto[10:]):x}\r\n".encode() + proto[10:] + b"\r\n0\r\n\r\n"
    return {
        "proto": post(proto),
        "json": post(b"{}", "application/json; charset=utf-8"),
        "gzip": post(zipped, extra="Content-Encoding: gzip\r\n"),
        "gzip-bad": post(zipped[:-4], extra="Content-Encoding: gzip\r\n"),
        "pipelined": post(proto) + post(b"", "application/json") + post(proto, extra="Connection: close\r\n"),
        "chunked": chunked,
        "unknown-path": post(proto, target="/v1/other?x=1"),
        "get": post(b"", method="GET"),
        "text": post(proto, "text/plain"),
        "brotli": post(proto, extra="Content-Encoding: br\r\n"),
        "long-header": post(proto, extra="X-Pad: " + "a" * 5000 + "\r\n"),
        "bad-length": f"POST {path} HTTP/1.1\r\nContent-Length: 12x\r\n\r\n".encode(),
        "half": post(proto)[: len(post(proto)) // 2],
    }


def write(target: str, name: str, data: bytes):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def main():
    tool = OtlpTool(tool_path())
    for target in ("fuzz_wire_summarize", "fuzz_redact", "fuzz_json_to_proto", "fuzz_proto_to_json", "fuzz_http_framing"):
        for old in (CORPUS / target).glob("*"):
            if old.name.startswith(("gen-", "bad-", "edge-")):
                old.unlink()
    for signal, i, req in small_requests():
        proto = wire(req)
        prefix = bytes([SIGNALS.index(signal)])
        write("fuzz_proto_to_json", f"gen-{signal}-{i}.pb", proto)
        write("fuzz_wire_summarize", f"gen-{signal}-{i}.bin", prefix + proto)
        write("fuzz_redact", f"gen-{signal}-{i}.bin", prefix + proto)  # the same form: signal byte, request
        write("fuzz_json_to_proto", f"gen-{signal}-{i}.json", tool.proto2json(signal, proto).encode())
        if i < 2:
            for form, text in reference_json_forms(req).items():
                write("fuzz_json_to_proto", f"gen-{signal}-{i}-{form}.json", text.encode())
    for name, data in malformed_protobuf().items():
        write("fuzz_proto_to_json", name + ".pb", data)
        for s in range(3):
            write("fuzz_wire_summarize", f"{name}-{SIGNALS[s]}.bin", bytes([s]) + data)
            write("fuzz_redact", f"{name}-{SIGNALS[s]}.bin", bytes([s]) + data)
    for signal, i, req in small_requests():
        if i == 0:
            for name, data in http_streams(signal, wire(req)).items():
                write("fuzz_http_framing", f"gen-{signal}-{name}.http", data)
    for name, text in MALFORMED_JSON.items():
        write("fuzz_json_to_proto", name + ".json", text if isinstance(text, bytes) else text.encode())
    tool.close()
    for target in sorted(p.name for p in CORPUS.iterdir()):
        print(target, len(list((CORPUS / target).iterdir())), "files")


if __name__ == "__main__":
    try:
        main()
    except CodecError as e:
        sys.exit(f"make_corpus: otlp_tool refused a generated request: {e}")
