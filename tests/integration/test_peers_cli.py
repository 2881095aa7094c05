"""otelrr among real OTLP software (issue 6): the OpenTelemetry Collector (peers/collector), telemetrygen and
the OpenTelemetry Python SDK, each a real process or client on loopback ports, sending to or receiving from
real otelrr processes; what arrives is decoded with the opentelemetry-proto reference and compared item by
item with what was sent.

  1. a seed session replayed into the Collector (otlp receiver -> file exporter) over OTLP/HTTP protobuf,
     OTLP/HTTP JSON and OTLP/gRPC: the same requests, timestamps untouched or moved by one exact delta;
  2. telemetrygen traces, metrics and logs over gRPC and HTTP into `otelrr capture`: the session holds
     exactly what telemetrygen sent and `sessions verify` passes;
  3. the Python SDK's metric and log exporters (HTTP and gRPC) into `otelrr capture` (its span exporters
     are in test_capture_cli.py);
  4. telemetrygen -> Collector A (otlp exporter, or otlphttp with protobuf or JSON) -> `otelrr capture
     --forward` (HTTP or gRPC) -> Collector B -> file: every item reaches the end and is in the session;
  5. the Collector file exporter's JSON Lines and length-prefixed protobuf output (plain and zstd) imported,
     replayed and received intact; `sessions export` read back by the Collector's JSON-lines file receiver
     (peers/collector/otlpjsonlinesreceiver, our stand-in for contrib's otlpjsonfile receiver).

The peers come from scripts/install-peers (built once, cached outside the repository): OTELRR_COLLECTOR and
OTELRR_TELEMETRYGEN when set, else this file asks `scripts/install-peers --print-env`, which builds them
when missing. ctest sets OTELRR_BIN to the otelrr binary. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_peers_cli.py
"""

import collections
import json
import signal
import socket
import struct
import subprocess
import time

import pytest

from peer_binaries import free_port, peer_path
from test_capture_cli import Capture
from test_replay_cli import REQUEST_TYPES, messages, parse_json_lines, run, seed_store, shifted, sorted_serialized

START_NS = 1_767_225_600_000_000_000
SIGNALS = ("traces", "metrics", "logs")


def peers():
    """{"collector": path, "telemetrygen": path}: from the environment, else from scripts/install-peers."""
    return {"collector": peer_path("OTELRR_COLLECTOR"), "telemetrygen": peer_path("OTELRR_TELEMETRYGEN")}


# --- the Collector -------------------------------------------------------------------------------------------

def otlp_receiver():
    """An otlp receiver on free loopback ports: (config, grpc address, http address)."""
    grpc_addr, http_addr = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    return {"otlp": {"protocols": {"grpc": {"endpoint": grpc_addr}, "http": {"endpoint": http_addr}}}}, grpc_addr, \
        http_addr


def file_exporters(directory, formats=("json",)):
    """One file exporter per signal and format, writing <signal>.<format> under directory, flushed often.
    A format "json.zst" or "proto.zst" is that format with the exporter's zstd compression."""
    directory.mkdir(parents=True, exist_ok=True)
    exporters, per_signal = {}, {s: [] for s in SIGNALS}
    for fmt in formats:
        for s in SIGNALS:
            name = f"file/{s}_{fmt.replace('.', '_')}"
            exporters[name] = {"path": str(directory / f"{s}.{fmt}"), "format": fmt.split(".")[0],
                               "flush_interval": "50ms"}
            if fmt.endswith(".zst"):
                exporters[name]["compression"] = "zstd"
            per_signal[s].append(name)
    return exporters, per_signal


class PortTaken(AssertionError):
    """The Collector could not listen: another process took the free port between our look and its bind."""


class Collector:
    """One otelrr-collector process. The configuration is JSON (a YAML subset); internal metrics are off so
    no fixed port (8888) is taken. Ready once every listed address accepts connections."""

    def __init__(self, workdir, receivers, exporters, per_signal, wait_for=(), processors=None,
                 per_signal_processors=None):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        pipelines = {s: {"receivers": list(receivers), "exporters": per_signal[s]} for s in SIGNALS}
        for s, names in (per_signal_processors or {}).items():
            pipelines[s]["processors"] = names
        config = {
            "receivers": receivers,
            "exporters": exporters,
            "service": {
                "telemetry": {"metrics": {"level": "none"}, "logs": {"level": "info"}},
                "pipelines": pipelines,
            },
        }
        if processors:
            config["processors"] = processors
        self.config = workdir / "collector.yaml"
        self.config.write_text(json.dumps(config, indent=1))
        self.log_path = workdir / "collector.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([peers()["collector"], "--config", f"file:{self.config}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        for addr in wait_for:
            host, port = addr.rsplit(":", 1)
            while True:
                if self.proc.poll() is not None:
                    self.log.close()
                    error = PortTaken if "address already in use" in self.logs() else AssertionError
                    raise error(f"the Collector exited ({self.proc.returncode}): {self.logs()}")
                try:
                    socket.create_connection((host, int(port)), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"the Collector is not listening on {addr}: {self.logs()}")
                    time.sleep(0.05)

    def logs(self):
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_for_log(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while text not in self.log_path.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the Collector never logged {text!r}: {self.logs()}")
            time.sleep(0.05)

    def stop(self):
        """SIGTERM: a graceful shutdown that flushes the file exporters; it must exit 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.log.close()
        assert self.proc.returncode == 0, self.logs()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def otlp_collector(procs, workdir, exporters, per_signal, **processors):
    """A Collector with an otlp receiver on free loopback ports, ready: (collector, grpc address, http
    address). A port taken by someone else in between is tried again with new ones. `processors`: the
    Collector's processors= and per_signal_processors=."""
    for attempt in range(3):
        receivers, grpc_addr, http_addr = otlp_receiver()
        try:
            col = Collector(workdir / f"try{attempt}", receivers, exporters, per_signal,
                            wait_for=(grpc_addr, http_addr), **processors)
        except PortTaken:
            if attempt == 2:
                raise
            continue
        procs.append(col)
        return col, grpc_addr, http_addr


def read_json_lines(path):
    """A file of OTLP JSON lines (the file exporter's `format: json`) as [(signal, request)] by the reference."""
    return parse_json_lines(path.read_text().splitlines())


def read_length_prefixed(path, signal_name):
    """The file exporter's `format: proto`: each message a 4-byte big-endian length and the protobuf bytes."""
    data, out, pos = path.read_bytes(), [], 0
    while pos < len(data):
        (size,) = struct.unpack_from(">I", data, pos)
        out.append((signal_name, REQUEST_TYPES[signal_name].FromString(data[pos + 4:pos + 4 + size])))
        pos += 4 + size
    assert pos == len(data)
    return out


def canonical(msgs):
    """Copies of the requests with each empty span status cleared: pdata (so the Collector) always writes a
    span's status, `"status":{}` when it is unset, where the sender may leave the field out; both mean the
    same (an unset status), so this is the one difference the comparisons forgive."""
    out = []
    for n, m in msgs:
        copy = type(m)()
        copy.CopyFrom(m)
        if n == "traces":
            for rs in copy.resource_spans:
                for ss in rs.scope_spans:
                    for sp in ss.spans:
                        if sp.HasField("status") and not sp.status.ListFields():
                            sp.ClearField("status")
        out.append((n, copy))
    return out


def collector_output(directory, fmt="json"):
    out = []
    for s in SIGNALS:
        path = directory / f"{s}.{fmt}"
        if path.exists():
            out += read_json_lines(path) if fmt == "json" else read_length_prefixed(path, s)
    return out


# --- counting ----------------------------------------------------------------------------------------------

def spans_of(msgs):
    return [sp for n, m in msgs if n == "traces" for rs in m.resource_spans for ss in rs.scope_spans
            for sp in ss.spans]


def points_of(msgs):
    out = []
    for n, m in msgs:
        if n != "metrics":
            continue
        for rm in m.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    out += [(metric.name, p) for p in getattr(metric, kind).data_points]
    return out


def records_of(msgs):
    return [r for n, m in msgs if n == "logs" for rl in m.resource_logs for sl in rl.scope_logs
            for r in sl.log_records]


def counts(msgs):
    return {"spans": len(spans_of(msgs)), "dataPoints": len(points_of(msgs)), "logRecords": len(records_of(msgs))}


def show(store, session):
    return json.loads(run("sessions", "show", session, "--json", "--store", str(store)).stdout)


def verify(store, session):
    proc = run("sessions", "verify", session, "--store", str(store), check=False)
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()


def telemetrygen(kind, count, endpoint, http, *extra):
    """telemetrygen sending `count` traces, metrics or logs with one worker, unthrottled; it must exit 0."""
    args = [peers()["telemetrygen"], kind, f"--{kind}", str(count), "--workers", "1", "--rate", "0",
            "--otlp-endpoint", endpoint, "--otlp-insecure", *(["--otlp-http"] if http else []), *extra]
    proc = subprocess.run(args, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]


def telemetrygen_all(endpoint, http, traces, child_spans, metrics, logs):
    telemetrygen("traces", traces, endpoint, http, "--child-spans", str(child_spans))
    telemetrygen("metrics", metrics, endpoint, http)
    telemetrygen("logs", logs, endpoint, http)


def stopped(capture):
    summary = capture.stop()
    assert capture.returncode == 0, capture.stderr
    return summary


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A small seed session (traces, metrics, logs): its store and its requests."""
    return seed_store(tmp_path_factory, "--duration", "3", "--rate", "10", "--seed", "1")


@pytest.fixture
def procs():
    """Whatever a test starts; killed at the end if still running."""
    started = []
    yield started
    for p in started:
        if isinstance(p, Collector):
            p.kill()
        elif p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()


# --- 1. replay into the Collector ---------------------------------------------------------------------------

@pytest.mark.parametrize("protocol,timestamps,compression", [("http/protobuf", "relative", "none"),
                                                             ("http/json", "none", "gzip"),
                                                             ("grpc", "relative", "gzip")])
def test_seed_replayed_into_the_collector_arrives_item_by_item(seeded, tmp_path, procs, protocol, timestamps,
                                                               compression):
    store, original = seeded
    col, grpc_addr, http_addr = otlp_collector(procs, tmp_path / "col", *file_exporters(tmp_path / "out"))
    endpoint = f"http://{http_addr}" if protocol.startswith("http") else f"grpc://{grpc_addr}"
    before = time.time_ns()
    report = json.loads(run("replay", "--session", "s1", "--speed", "0", "--timestamps", timestamps, "--endpoint",
                            endpoint, "--protocol", protocol, "--compression", compression, "--store", str(store),
                            "--json").stdout)
    after = time.time_ns()
    col.stop()
    assert report["failedRequests"] == 0 and report["sentRequests"] == len(original)
    got = collector_output(tmp_path / "out")
    assert len(got) == len(original)
    assert counts(got) == counts(original) == {k: report[k] for k in ("spans", "dataPoints", "logRecords")}
    if timestamps == "none":
        assert sorted_serialized(canonical(got)) == sorted_serialized(original)
        return
    # relative at speed 0: one delta for every timestamp, the replay's start minus the session's first
    # arrival, which lies between the wall clock before and after the replay.
    first_arrival = int(json.loads(run("sessions", "show", "s1", "--store", str(store)).stdout)["firstArrivalUnixNano"])
    first = spans_of(original)[0]
    delta = next(s for s in spans_of(got) if s.span_id == first.span_id).start_time_unix_nano - \
        first.start_time_unix_nano
    assert before - first_arrival <= delta <= after - first_arrival
    assert sorted_serialized(canonical(got)) == sorted_serialized([(n, shifted(m, delta)) for n, m in original])


# --- 2. telemetrygen into otelrr capture ---------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_telemetrygen_into_capture_is_recorded_exactly(tmp_path, procs, transport):
    capture = Capture(tmp_path / "store", "--session", "tg")
    procs.append(capture)
    endpoint = capture.grpc if transport == "grpc" else capture.http
    telemetrygen_all(endpoint, transport == "http", traces=5, child_spans=2, metrics=7, logs=6)
    summary = stopped(capture)
    # 5 traces of a root and 2 children each; 7 gauge points; 6 log records.
    assert (summary["traces"], summary["spans"], summary["dataPoints"], summary["logRecords"]) == (5, 15, 7, 6)
    meta = show(capture.store, "tg")
    assert (meta["capturedTraces"], meta["capturedMetrics"], meta["capturedLogs"]) == (5, 7, 6)
    assert (meta["counts"]["spans"], meta["counts"]["dataPoints"], meta["counts"]["logRecords"]) == (15, 7, 6)
    verify(capture.store, "tg")
    got = messages(capture.store, "tg")
    by_trace = collections.defaultdict(list)
    for s in spans_of(got):
        by_trace[s.trace_id].append(s)
    assert len(by_trace) == 5
    for spans in by_trace.values():
        roots = [s for s in spans if not s.parent_span_id]
        assert len(roots) == 1 and len(spans) == 3
        assert all(s.parent_span_id == roots[0].span_id for s in spans if s is not roots[0])
    assert {name for name, _ in points_of(got)} == {"gen"}
    assert [r.body.string_value for r in records_of(got)] == ["the message"] * 6
    services = {kv.value.string_value for _, m in got for r in getattr(m, {"traces": "resource_spans",
                "metrics": "resource_metrics", "logs": "resource_logs"}[_]) for kv in r.resource.attributes
                if kv.key == "service.name"}
    assert services == {"telemetrygen"}


# --- 3. the Python SDK's metric and log exporters ------------------------------------------------------------

def test_python_sdk_metrics_and_logs_into_capture_over_http_and_grpc(tmp_path, procs):
    from opentelemetry._logs import SeverityNumber
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetricExporter
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpMetricExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, LogRecordExportResult
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
    from opentelemetry.sdk.resources import Resource

    capture = Capture(tmp_path / "store", "--session", "sdk")
    procs.append(capture)
    transports = {
        "http": (HttpMetricExporter(endpoint=f"http://{capture.http}/v1/metrics"),
                 HttpLogExporter(endpoint=f"http://{capture.http}/v1/logs")),
        "grpc": (GrpcMetricExporter(endpoint=capture.grpc, insecure=True),
                 GrpcLogExporter(endpoint=capture.grpc, insecure=True)),
    }
    for transport, (metric_exporter, log_exporter) in transports.items():
        resource = Resource.create({"service.name": f"sdk-{transport}"})
        reader = InMemoryMetricReader()
        meter = MeterProvider(resource=resource, metric_readers=[reader]).get_meter("peers-test")
        counter = meter.create_counter("orders")
        histogram = meter.create_histogram("latency_ms")
        for i in range(4):
            counter.add(i + 1, {"shop": "a" if i % 2 else "b"})
            histogram.record(10.0 * (i + 1))
        assert metric_exporter.export(reader.get_metrics_data()) == MetricExportResult.SUCCESS

        memory = InMemoryLogRecordExporter()
        provider = LoggerProvider(resource=resource)
        provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
        logger = provider.get_logger("peers-test")
        for i in range(3):
            logger.emit(timestamp=START_NS + i, severity_number=SeverityNumber.WARN, severity_text="WARN",
                        body=f"{transport} log {i}", attributes={"i": i})
        assert log_exporter.export(memory.get_finished_logs()) == LogRecordExportResult.SUCCESS
        metric_exporter.shutdown()
        log_exporter.shutdown()

    summary = stopped(capture)
    # Per transport: 2 counter series (shop a: 2+4, shop b: 1+3) and 1 histogram point; 3 log records.
    assert (summary["dataPoints"], summary["logRecords"], summary["requests"]) == (6, 6, 4)
    verify(capture.store, "sdk")
    got = messages(capture.store, "sdk")
    assert [n for n, _ in got] == ["metrics", "logs", "metrics", "logs"]
    for (_, metrics), (_, logs), transport in ((got[0], got[1], "http"), (got[2], got[3], "grpc")):
        service = metrics.resource_metrics[0].resource.attributes
        assert {kv.key: kv.value.string_value for kv in service}["service.name"] == f"sdk-{transport}"
        sums = {p.attributes[0].value.string_value: p.as_int for name, p in points_of([("metrics", metrics)])
                if name == "orders"}
        assert sums == {"a": 6, "b": 4}
        (hist,) = [p for name, p in points_of([("metrics", metrics)]) if name == "latency_ms"]
        assert (hist.count, hist.sum, hist.min, hist.max) == (4, 100.0, 10.0, 40.0)
        records = records_of([("logs", logs)])
        assert [(r.body.string_value, r.time_unix_nano, r.severity_number, r.severity_text,
                 r.attributes[0].value.int_value) for r in records] == \
            [(f"{transport} log {i}", START_NS + i, 13, "WARN", i) for i in range(3)]


# --- 4. a chain through otelrr capture --forward --------------------------------------------------------------

@pytest.mark.parametrize("a_exporter,forward", [("otlp", "http"), ("otlphttp", "grpc"), ("otlphttp/json", "http")])
def test_chain_through_capture_forward_delivers_everything(tmp_path, procs, a_exporter, forward):
    # Collector B: the end of the chain, writing files.
    b, b_grpc, b_http = otlp_collector(procs, tmp_path / "b", *file_exporters(tmp_path / "out"))
    # otelrr capture, forwarding every request to B and answering with B's answer.
    capture = Capture(tmp_path / "store", "--session", "chain", "--forward",
                      f"http://{b_http}" if forward == "http" else f"grpc://{b_grpc}")
    procs.append(capture)
    # Collector A: telemetrygen's target, exporting to the capture. No sending queue: A answers telemetrygen
    # only once the capture (and so B) has taken the data, so nothing is still in flight when it returns.
    exporter = {"endpoint": capture.grpc, "tls": {"insecure": True}} if a_exporter == "otlp" else \
        {"endpoint": f"http://{capture.http}"}
    if a_exporter == "otlphttp/json":
        exporter["encoding"] = "json"  # OTLP/HTTP JSON, gzip (the exporter's default compression)
    exporter["sending_queue"] = {"enabled": False}
    a, a_grpc, _ = otlp_collector(procs, tmp_path / "a", {a_exporter: exporter}, {s: [a_exporter] for s in SIGNALS})

    telemetrygen_all(a_grpc, False, traces=10, child_spans=1, metrics=5, logs=4)
    a.stop()
    summary = stopped(capture)
    b.stop()

    assert (summary["traces"], summary["spans"], summary["dataPoints"], summary["logRecords"]) == (10, 20, 5, 4)
    recorded = messages(capture.store, "chain")
    arrived = collector_output(tmp_path / "out")
    assert counts(arrived) == counts(recorded) == {"spans": 20, "dataPoints": 5, "logRecords": 4}
    ids = lambda msgs: sorted((s.trace_id, s.span_id) for s in spans_of(msgs))  # noqa: E731
    assert len(set(ids(arrived))) == 20 and ids(arrived) == ids(recorded)
    assert sorted_serialized(arrived) == sorted_serialized(recorded)
    verify(capture.store, "chain")


# --- 5. the Collector's files into otelrr, and otelrr's export into the Collector ------------------------------

def test_collector_file_exporter_output_imports_replays_and_arrives_intact(tmp_path, procs):
    # A Collector writes what telemetrygen sends in every file format at once: JSON Lines, length-prefixed
    # protobuf, and both of them zstd-compressed (length-prefixed zstd frames).
    formats = ("json", "proto", "json.zst", "proto.zst")
    col, _, http_addr = otlp_collector(procs, tmp_path / "col", *file_exporters(tmp_path / "files", formats))
    telemetrygen_all(http_addr, True, traces=6, child_spans=2, metrics=4, logs=5)
    col.stop()
    written = collector_output(tmp_path / "files", "json")
    assert counts(written) == {"spans": 18, "dataPoints": 4, "logRecords": 5}
    assert sorted_serialized(collector_output(tmp_path / "files", "proto")) == sorted_serialized(written)

    store = tmp_path / "store"
    for fmt in formats:
        session = f"imported-{fmt.replace('.', '-')}"
        files = [str(tmp_path / "files" / f"{s}.{fmt}") for s in SIGNALS]
        result = json.loads(run("sessions", "import", *files, "--session", session, "--json", "--store",
                                str(store)).stdout)
        assert (result["spans"], result["dataPoints"], result["logRecords"]) == (18, 4, 5), result
        verify(store, session)
        assert sorted_serialized(messages(store, session)) == sorted_serialized(written)

        target = Capture(tmp_path / f"target-{fmt}", "--session", "got")
        procs.append(target)
        report = json.loads(run("replay", "--session", session, "--speed", "0", "--timestamps", "none",
                                "--endpoint", f"grpc://{target.grpc}", "--protocol", "grpc", "--store", str(store),
                                "--json").stdout)
        assert report["failedRequests"] == 0 and report["sentRequests"] == len(written)
        stopped(target)
        assert sorted_serialized(messages(target.store, "got")) == sorted_serialized(written)


def test_sessions_export_is_read_back_by_the_collector(seeded, tmp_path, procs):
    store, original = seeded
    exported = tmp_path / "s1.jsonl"
    run("sessions", "export", "s1", "--out", str(exported), "--store", str(store))
    exporters, per_signal = file_exporters(tmp_path / "out")
    col = Collector(tmp_path / "col", {"otlpjsonlines": {"include": [str(exported)]}}, exporters, per_signal)
    procs.append(col)
    col.wait_for_log("otlpjsonlines: done")
    col.stop()
    c = counts(original)
    assert f'"lines": {len(original)}, "spans": {c["spans"]}, "data_points": {c["dataPoints"]}, ' \
           f'"log_records": {c["logRecords"]}' in col.logs()
    got = collector_output(tmp_path / "out")
    assert sorted_serialized(canonical(got)) == sorted_serialized(original)
