#!/usr/bin/env python3
"""The reference peer for the codec benchmarks: the official protobuf runtime (as the project's venv
installs it, with the upb C backend) on the very same request bytes that the Google Benchmarks use.

    build-bench/bench/otelrr_dump_corpus /tmp/corpus     # {traces,metrics,logs}.{pb,jsonl}
    .venv/bin/python bench/peer_python_protobuf.py /tmp/corpus --out peer.json

Each measurement has a counterpart in src/otlp/*_benchmark.cc, with the same input and the same bytes/s
definition (input bytes per CPU second):
  parse_count   ParseFromString + count spans / data points / log records    vs Summarize
  to_json       ParseFromString + json_format.MessageToJson (one line)        vs ProtoToJson
  from_json     json_format.Parse + SerializeToString                         vs JsonToProto
  shift         ParseFromString + add 1 s to every timestamp + Serialize      vs ShiftTimestamps
The JSON is our OTLP/JSON. json_format reads its hex trace and span ids as base64 (it does not know the
OTLP exception), which is no error and costs the same, so from_json times a complete parse.

Timing: CPU time (time.process_time), like Google Benchmark's rates. Each measurement runs enough passes
over the corpus to take at least --min-time seconds, --repetitions times; the median pass is reported.
"""
import argparse
import json
import pathlib
import platform
import statistics
import struct
import sys
import time

from google.protobuf import __version__ as protobuf_version
from google.protobuf import json_format
from google.protobuf.internal import api_implementation
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

REQUEST_TYPES = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
}
SHIFT = 1_000_000_000


def read_length_prefixed(path):
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        out.append(data[pos + 4 : pos + 4 + n])
        pos += 4 + n
    return out


def metric_points(metric):
    kind = metric.WhichOneof("data")
    return getattr(metric, kind).data_points if kind else ()


def count_items(signal, request):
    if signal == "traces":
        return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
    if signal == "metrics":
        return sum(
            len(metric_points(m)) for rm in request.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
        )
    return sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)


def shift_nonzero(message, field):
    value = getattr(message, field)
    if value:
        setattr(message, field, value + SHIFT)


def shift_timestamps(signal, request):
    """Every timestamp field that otlp::Locate lists, shifted by SHIFT when non-zero."""
    if signal == "traces":
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    shift_nonzero(span, "start_time_unix_nano")
                    shift_nonzero(span, "end_time_unix_nano")
                    for event in span.events:
                        shift_nonzero(event, "time_unix_nano")
    elif signal == "metrics":
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    for p in metric_points(m):
                        shift_nonzero(p, "start_time_unix_nano")
                        shift_nonzero(p, "time_unix_nano")
                        for e in getattr(p, "exemplars", ()):
                            shift_nonzero(e, "time_unix_nano")
    else:
        for rl in request.resource_logs:
            for sl in rl.scope_logs:
                for r in sl.log_records:
                    shift_nonzero(r, "time_unix_nano")
                    shift_nonzero(r, "observed_time_unix_nano")


def measure(fn, min_time, repetitions):
    """Median CPU seconds of one call of fn, over `repetitions` runs of at least min_time each."""
    fn()  # warm-up
    passes = 1
    while True:
        start = time.process_time()
        for _ in range(passes):
            fn()
        elapsed = time.process_time() - start
        if elapsed >= min_time:
            break
        passes = max(passes * 2, int(passes * min_time / max(elapsed, 1e-6) * 1.2))
    samples = [elapsed / passes]
    for _ in range(repetitions - 1):
        start = time.process_time()
        for _ in range(passes):
            fn()
        samples.append((time.process_time() - start) / passes)
    return statistics.median(samples), passes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=pathlib.Path, help="directory written by otelrr_dump_corpus")
    parser.add_argument("--out", type=pathlib.Path, help="write the results as JSON here")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.5)
    args = parser.parse_args()

    backend = api_implementation.Type()
    print(f"protobuf {protobuf_version}, backend {backend}, Python {platform.python_version()}")
    results = {"protobuf_version": protobuf_version, "backend": backend, "python": platform.python_version(),
               "repetitions": args.repetitions, "benchmarks": {}}
    for signal, request_type in REQUEST_TYPES.items():
        payloads = read_length_prefixed(args.corpus / f"{signal}.pb")
        jsons = (args.corpus / f"{signal}.jsonl").read_text().splitlines()
        proto_bytes = sum(map(len, payloads))
        json_bytes = sum(len(j.encode()) for j in jsons)
        items = 0
        for p in payloads:
            r = request_type()
            r.ParseFromString(p)
            items += count_items(signal, r)

        def parse_count():
            n = 0
            for p in payloads:
                r = request_type()
                r.ParseFromString(p)
                n += count_items(signal, r)
            return n

        def to_json():
            for p in payloads:
                r = request_type()
                r.ParseFromString(p)
                json_format.MessageToJson(r, indent=None)

        def from_json():
            for j in jsons:
                json_format.Parse(j, request_type()).SerializeToString()

        def shift():
            for p in payloads:
                r = request_type()
                r.ParseFromString(p)
                shift_timestamps(signal, r)
                r.SerializeToString()

        for name, fn, input_bytes in (("parse_count", parse_count, proto_bytes), ("to_json", to_json, proto_bytes),
                                      ("from_json", from_json, json_bytes), ("shift", shift, proto_bytes)):
            seconds, passes = measure(fn, args.min_time, args.repetitions)
            key = f"{name}/{signal}"
            results["benchmarks"][key] = {
                "seconds_per_pass": seconds, "passes": passes, "bytes": input_bytes, "items": items,
                "bytes_per_second": input_bytes / seconds, "items_per_second": items / seconds,
            }
            print(f"{key:22s} {input_bytes / seconds / 1e6:10.1f} MB/s {items / seconds / 1e6:8.3f} M items/s"
                  f"  ({passes} passes x {args.repetitions})", flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
