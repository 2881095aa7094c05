"""TLS on the receivers and the API: `otelrr capture` and `otelrr serve` with --tls-cert/--tls-key (and
--tls-client-ca for mutual TLS), reached by curl, by the OpenTelemetry Collector's otlp and otlphttp exporters
(through its TLS settings) and by otelrr's own replay over https and gRPC with TLS. Certificates are made by
the openssl command for each test module: a CA, a server certificate for 127.0.0.1 signed by it, a client
certificate signed by it, and a second CA with a client certificate of its own that the server must refuse.
Bad TLS flags are usage errors (exit 2) that name the file and what is wrong with it."""

import json
import re
import socket
import ssl
import subprocess
import time

import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from peer_binaries import free_port
from test_capture_cli import Capture, binary
from test_peers_cli import Collector, procs, show, telemetrygen_all, verify  # noqa: F401 (procs: a fixture)
from test_replay_cli import run, seed_store


def openssl(*args, cwd):
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=otelrr test {name}", cwd=d)


def make_cert(d, name, ca, extensions):
    (d / f"{name}.ext").write_text(extensions)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN=otelrr test {name}", cwd=d)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    make_ca(d, "ca")
    make_cert(d, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    make_cert(d, "client", "ca", "extendedKeyUsage=clientAuth\n")
    make_ca(d, "rogue-ca")
    make_cert(d, "rogue", "rogue-ca", "extendedKeyUsage=clientAuth\n")
    return {n: str(d / f) for n, f in {
        "ca": "ca.pem", "cert": "server.pem", "key": "server.key", "client_cert": "client.pem",
        "client_key": "client.key", "rogue_cert": "rogue.pem", "rogue_key": "rogue.key", "rogue_ca": "rogue-ca.pem",
        "dir": "."}.items()}


def one_span_request(name):
    req = trace_service_pb2.ExportTraceServiceRequest()
    span = req.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes(range(1, 17))
    span.span_id = bytes(range(1, 9))
    span.name = name
    span.start_time_unix_nano = 1_767_225_600_000_000_000
    span.end_time_unix_nano = span.start_time_unix_nano + 1000
    return req.SerializeToString()


def curl(url, body_file, *args):
    """curl POSTing a protobuf body: (exit code, HTTP status or 0)."""
    proc = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", "-X", "POST",
                           "-H", "Content-Type: application/x-protobuf", "--data-binary", f"@{body_file}", *args, url],
                          capture_output=True, timeout=60)
    return proc.returncode, int(proc.stdout.decode() or 0), proc.stderr.decode()


def tls_flags(certs, mutual=False):
    flags = ["--tls-cert", certs["cert"], "--tls-key", certs["key"]]
    return flags + (["--tls-client-ca", certs["ca"]] if mutual else [])


def plain_http_is_refused(address):
    """A plaintext HTTP request to a TLS port gets no HTTP answer: the server closes the connection."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        s.settimeout(10)
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""
    return not data.startswith(b"HTTP/")


def collector_to(procs, workdir, capture, tls):
    """A Collector whose otlp receiver (plaintext, for telemetrygen) forwards traces through its otlp (gRPC)
    exporter and metrics and logs through its otlphttp exporter to the capture, both with `tls` settings."""
    grpc_in, http_in = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    receivers = {"otlp": {"protocols": {"grpc": {"endpoint": grpc_in}, "http": {"endpoint": http_in}}}}
    retry = {"enabled": True, "initial_interval": "100ms", "max_interval": "1s", "max_elapsed_time": "20s"}
    exporters = {"otlp": {"endpoint": capture.grpc, "tls": tls, "retry_on_failure": retry},
                 "otlphttp": {"endpoint": f"https://{capture.http}", "tls": tls, "retry_on_failure": retry}}
    per_signal = {"traces": ["otlp"], "metrics": ["otlphttp"], "logs": ["otlphttp"]}
    col = Collector(workdir, receivers, exporters, per_signal, wait_for=(grpc_in, http_in))
    procs.append(col)
    return col, grpc_in


@pytest.fixture(scope="module")
def seeded_traces(tmp_path_factory):
    """A small traces-only seed session s1: its store."""
    return seed_store(tmp_path_factory, "--duration", "1", "--rate", "10", "--seed", "3", "--signals", "traces")[0]


def test_capture_over_tls_records_what_curl_the_collector_and_replay_send(tmp_path, certs, procs, seeded_traces):
    capture = Capture(tmp_path / "store", "--session", "tls", *tls_flags(certs))
    procs.append(capture)
    body = tmp_path / "span.bin"
    body.write_bytes(one_span_request("from curl"))
    # curl trusting our CA: accepted. Without it (the system's CAs only) the handshake fails and nothing is sent.
    assert curl(f"https://{capture.http}/v1/traces", body, "--cacert", certs["ca"])[:2] == (0, 200)
    code, status, err = curl(f"https://{capture.http}/v1/traces", body)
    assert (code, status) == (60, 0), err  # 60: the peer certificate cannot be authenticated
    assert plain_http_is_refused(capture.http)
    # The Collector's exporters with its TLS settings (ca_file), gRPC for traces and HTTP for the rest.
    col, grpc_in = collector_to(procs, tmp_path / "col", capture, {"ca_file": certs["ca"]})
    telemetrygen_all(grpc_in, False, traces=5, child_spans=2, metrics=7, logs=6)
    time.sleep(1)
    col.stop()
    # otelrr's own replay over https and over gRPC with TLS.
    store = seeded_traces
    seeded = json.loads(run("sessions", "show", "s1", "--store", str(store)).stdout)["counts"]["spans"]
    for protocol in ("http/protobuf", "grpc"):
        report = json.loads(run("replay", "--session", "s1", "--speed", "0", "--store", str(store), "--json",
                                "--endpoint", f"https://{capture.http if protocol != 'grpc' else capture.grpc}",
                                "--protocol", protocol, "--certificate", certs["ca"]).stdout)
        assert report["failedRequests"] == 0 and report["spans"] == seeded, report
    summary = capture.stop()
    assert capture.returncode == 0, capture.stderr
    # 1 span from curl; telemetrygen's 5 traces of 3 spans, 7 points, 6 log records; the seed replayed twice.
    assert (summary["spans"], summary["dataPoints"], summary["logRecords"]) == (1 + 15 + 2 * seeded, 7, 6)
    verify(capture.store, "tls")


def test_mutual_tls_takes_only_clients_with_a_certificate_of_the_ca(tmp_path, certs, procs, seeded_traces):
    capture = Capture(tmp_path / "store", "--session", "mtls", *tls_flags(certs, mutual=True))
    procs.append(capture)
    body = tmp_path / "span.bin"
    body.write_bytes(one_span_request("mutual"))
    url = f"https://{capture.http}/v1/traces"
    assert curl(url, body, "--cacert", certs["ca"], "--cert", certs["client_cert"], "--key",
                certs["client_key"])[:2] == (0, 200)
    # No client certificate, or one from another CA: the handshake fails, no HTTP status comes back.
    assert curl(url, body, "--cacert", certs["ca"])[1] == 0
    assert curl(url, body, "--cacert", certs["ca"], "--cert", certs["rogue_cert"], "--key", certs["rogue_key"])[1] == 0
    # Python's ssl module without a client certificate: refused by the server during the handshake.
    ctx = ssl.create_default_context(cafile=certs["ca"])
    host, port = capture.http.rsplit(":", 1)
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                if not s.recv(100):
                    raise ConnectionResetError("closed")
    # The Collector with a client certificate (cert_file, key_file) over gRPC and HTTP.
    col, grpc_in = collector_to(procs, tmp_path / "col", capture, {
        "ca_file": certs["ca"], "cert_file": certs["client_cert"], "key_file": certs["client_key"]})
    telemetrygen_all(grpc_in, False, traces=4, child_spans=1, metrics=3, logs=2)
    time.sleep(1)
    col.stop()
    # otelrr replay over gRPC with TLS: refused without a client certificate, accepted with one.
    store = seeded_traces
    args = ["replay", "--session", "s1", "--speed", "0", "--store", str(store), "--json", "--protocol", "grpc",
            "--endpoint", f"https://{capture.grpc}", "--certificate", certs["ca"], "--max-retry-seconds", "1"]
    refused = subprocess.run([binary(), *args], capture_output=True, timeout=120)
    assert refused.returncode == 1, refused.stderr.decode()
    assert json.loads(refused.stdout)["failedRequests"] > 0
    report = json.loads(run(*args, "--client-certificate", certs["client_cert"], "--client-key",
                            certs["client_key"]).stdout)
    assert report["failedRequests"] == 0
    summary = capture.stop()
    assert capture.returncode == 0, capture.stderr
    assert (summary["spans"], summary["dataPoints"], summary["logRecords"]) == (1 + 8 + report["spans"], 3, 2)
    assert show(capture.store, "mtls")["counts"]["spans"] == summary["spans"]


def test_serve_api_and_ui_over_tls(tmp_path, certs):
    api_port = free_port()
    proc = subprocess.Popen([binary(), "serve", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--api",
                             f"127.0.0.1:{api_port}", "--store", str(tmp_path / "store"), *tls_flags(certs)],
                            stderr=subprocess.PIPE)
    try:
        line = proc.stderr.readline().decode()
        m = re.search(r"control API on https://(\S+)/api", line)
        assert m and "TLS; " in line, line
        out = subprocess.run(["curl", "-sS", "--cacert", certs["ca"], f"https://{m.group(1)}/api/info"],
                             capture_output=True, timeout=30)
        assert out.returncode == 0 and "tokenRequired" in json.loads(out.stdout), out.stderr
        page = subprocess.run(["curl", "-sS", "--cacert", certs["ca"], f"https://{m.group(1)}/"], capture_output=True,
                              timeout=30)
        assert page.returncode == 0 and b"<html" in page.stdout.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0


@pytest.mark.parametrize("flags,message", [
    (lambda c: ["--tls-cert", c["cert"]], "TLS needs both --tls-cert"),
    (lambda c: ["--tls-key", c["key"]], "TLS needs both --tls-cert"),
    (lambda c: ["--tls-cert", c["cert"], "--tls-key", "/nonexistent/key.pem"], "--tls-key /nonexistent/key.pem: cannot read"),
    (lambda c: ["--tls-cert", c["dir"], "--tls-key", c["key"]], "cannot read the file: Is a directory"),
    (lambda c: ["--tls-cert", c["key"], "--tls-key", c["key"]], "not a PEM certificate"),
    (lambda c: ["--tls-cert", c["cert"], "--tls-key", c["cert"]], "not an unencrypted PEM private key"),
    (lambda c: ["--tls-cert", c["cert"], "--tls-key", c["client_key"]], "is not the private key of the certificate"),
    (lambda c: ["--tls-cert", c["cert"], "--tls-key", c["key"], "--tls-client-ca", c["key"]], "holds no PEM certificate"),
], ids=["cert-alone", "key-alone", "missing-key", "directory-as-cert", "key-as-cert", "cert-as-key", "wrong-key", "bad-client-ca"])
@pytest.mark.parametrize("command", ["capture", "serve"])
def test_bad_tls_flags_are_usage_errors_that_name_the_file(tmp_path, certs, command, flags, message):
    proc = subprocess.run([binary(), command, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
                           *(["--api", "127.0.0.1:0"] if command == "serve" else []), "--store", str(tmp_path / "s"),
                           *flags(certs)], capture_output=True, timeout=60)
    assert proc.returncode == 2, proc.stderr.decode()
    assert message in proc.stderr.decode()
    assert not (tmp_path / "s" / "sessions").exists() or not any((tmp_path / "s" / "sessions").iterdir())
