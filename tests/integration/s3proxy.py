"""A fault-injecting HTTP/1.1 proxy in front of an S3 server (tests/integration/s3server.py), for the tests of
what otelrr's S3 store does when the server is busy, slow, or drops connections.

    with S3Proxy(s3_server.endpoint) as proxy:        # or the function-scoped fixture s3_proxy
        proxy.faults.slowdown(5)                      # the next 5 requests get 503 SlowDown
        run otelrr with S3_ENDPOINT=proxy.endpoint
        assert proxy.faults.injected["slowdown"] == 5

Requests are forwarded byte for byte: the request line and every header (Host included: otelrr signs its
requests with SigV4 for the proxy's host:port, and the server checks the signature against the Host it
receives), and the body. Connections are kept alive on both sides (one upstream connection per client
connection), bodies have a Content-Length or are chunked, and `Expect: 100-continue` (which libcurl sends with
bodies over 1 MiB, such as multipart parts) is relayed: the body is read from the client only once the server
has answered 100 Continue.

Faults (Faults; thread-safe, switched at run time; they apply in this order, one per request):
    fail_always(status, code)  every request is answered with that S3 error, not forwarded, until clear()
    slowdown(n)                the next n requests are answered 503 SlowDown, not forwarded
    reset_upload(n)            the next n PUT/POST requests with a body: part of the body is read, then the
                               connection is reset (RST), with no answer; the server never sees them
    reset_download(n)          the next n GET requests are forwarded, then the client gets the status line,
                               the headers and half the body, and the connection is reset
    lose_answer(n)             the next n requests are forwarded whole and done by the server, then the connection
                               is reset before the client gets the answer (so a retry finds the work done)
    delay(seconds)             every request waits this long before anything else (a slow server)
The counted faults and fail_always take `match`, a substring of "METHOD target", to pick the
requests they hit ("partNumber=" for multipart parts, "POST " for POSTs, "/raw/" for a session's raw files).
Faults.log lists every request received and the fault it got; Faults.seen counts them by method, Faults.injected
the faults by name.
"""

import collections
import contextlib
import socket
import struct
import threading
import time

import pytest

SLOWDOWN_MESSAGE = "Please reduce your request rate."
CHUNK = 1 << 16


class Faults:
    """What the proxy does to the next requests, and what it did (see the module's comment)."""

    # The counted faults, in the order they are tried, and which requests each can hit.
    KINDS = {
        "slowdown": lambda method, has_body: True,
        "reset_upload": lambda method, has_body: method in ("PUT", "POST") and has_body,
        "reset_download": lambda method, has_body: method == "GET",
        "lose_answer": lambda method, has_body: True,
    }

    def __init__(self):
        self._lock = threading.Lock()
        self.log = []  # (method, target, fault name or None) of every request received, in order
        self.clear()

    def clear(self):
        """No faults from now on (the log is kept)."""
        with self._lock:
            self._pending = {kind: (0, None) for kind in self.KINDS}
            self._delay = 0.0
            self._always = None  # (status, code, message) of fail_always
            self._always_match = None  # fail_always waits for a request that this matches

    def slowdown(self, n, match=None):
        self._arm("slowdown", n, match)

    def reset_upload(self, n, match=None):
        self._arm("reset_upload", n, match)

    def reset_download(self, n, match=None):
        self._arm("reset_download", n, match)

    def lose_answer(self, n, match=None):
        self._arm("lose_answer", n, match)

    def delay(self, seconds):
        with self._lock:
            self._delay = seconds

    def fail_always(self, status=503, code="SlowDown", message=SLOWDOWN_MESSAGE, match=None):
        """Every request from now on gets this error; with `match`, from the first request it matches on."""
        with self._lock:
            self._always, self._always_match = (status, code, message), match

    def _arm(self, kind, n, match):
        """The next n requests that `kind` can hit and whose "METHOD target" contains `match` (any when None) get
        it: "partNumber=" picks multipart parts, "POST " POSTs, "/raw/" a session's raw files."""
        with self._lock:
            self._pending[kind] = (n, match)

    @property
    def seen(self):
        """Requests received, by method."""
        with self._lock:
            return collections.Counter(method for method, _, _ in self.log)

    @property
    def injected(self):
        """Faults injected, by name."""
        with self._lock:
            return collections.Counter(fault for _, _, fault in self.log if fault is not None)

    def _take(self, method, target, has_body):
        """Logs the request and picks its fault: (delay in seconds, fault name or None, error or None), the error
        being the (status, code, message) to answer with."""
        line = f"{method} {target}"
        with self._lock:
            fault, error = None, None
            if self._always_match is not None and self._always_match in line:
                self._always_match = None  # from now on, every request
            if self._always is not None and self._always_match is None:
                fault, error = "fail_always", self._always
            else:
                for kind, applies in self.KINDS.items():
                    n, match = self._pending[kind]
                    if n > 0 and applies(method, has_body) and (match is None or match in line):
                        self._pending[kind] = (n - 1, match)
                        fault = kind
                        break
                if fault == "slowdown":
                    error = (503, "SlowDown", SLOWDOWN_MESSAGE)
            self.log.append((method, target, fault))
            return self._delay, fault, error


class _Head:
    """A request's or response's start line and headers, as received (raw) and parsed."""

    def __init__(self, raw):
        self.raw = raw
        lines = raw.decode("latin-1").split("\r\n")
        self.start = lines[0].split(" ", 2)
        self.headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                self.headers[name.strip().lower()] = value.strip()

    def header(self, name):
        return self.headers.get(name, "")


def _read_head(stream):
    """The next head on `stream` (a binary file), or None at a clean end of the connection."""
    lines = []
    while True:
        line = stream.readline(65536)
        if not line:
            if lines:
                raise ConnectionError("the connection ended inside a head")
            return None
        if not lines and line in (b"\r\n", b"\n"):
            continue  # tolerated between messages
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            return _Head(b"".join(lines))


def _body_chunks(stream, head, until_eof):
    """The body of the message `head` as its raw bytes in pieces: Content-Length, chunked (with its framing), or
    everything up to the end of the connection when `until_eof`."""
    if "chunked" in head.header("transfer-encoding").lower():
        while True:
            size_line = stream.readline(65536)
            if not size_line:
                raise ConnectionError("the connection ended inside a chunked body")
            yield size_line
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    line = stream.readline(65536)
                    if not line:
                        raise ConnectionError("the connection ended inside chunked trailers")
                    yield line
                    if line in (b"\r\n", b"\n"):
                        return
            yield _read_exactly(stream, size + 2)
    elif head.header("content-length"):
        left = int(head.header("content-length"))
        while left > 0:
            piece = _read_exactly(stream, min(left, CHUNK))
            left -= len(piece)
            yield piece
    elif until_eof:
        while piece := stream.read1(CHUNK):
            yield piece


def _read_exactly(stream, n):
    data = stream.read(n)
    if len(data) != n:
        raise ConnectionError(f"the connection ended {n - len(data)} bytes before the end of a body")
    return data


def _reset(sock):
    """Closes `sock` with a TCP reset (SO_LINGER 0), as a crashed server or a dropped connection would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _error_response(status, code, message, close):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"</Error>").encode()
    reason = {500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/xml", f"Content-Length: {len(body)}",
            "Server: otelrr-s3proxy"] + (["Connection: close"] if close else [])
    return "".join(line + "\r\n" for line in head + [""]).encode() + body


class _Reset(Exception):
    """The connection to the client was reset on purpose."""


class S3Proxy:
    """The proxy: listening on a free loopback port from start() to stop(), forwarding to `upstream`
    ("http://127.0.0.1:PORT")."""

    def __init__(self, upstream):
        host, port = upstream.removeprefix("http://").rstrip("/").rsplit(":", 1)
        self.upstream = (host, int(port))
        self.faults = Faults()
        self.endpoint = None
        self._listener = None
        self._acceptor = None
        self._threads = []
        self._sockets = set()
        self._lock = threading.Lock()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()
        return self

    def stop(self):
        """Closes the port and every connection (a server that went away), and waits for the threads."""
        if self._listener is None:
            return
        listener, self._listener = self._listener, None
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        self._acceptor.join()  # no new connection from here on
        with self._lock:
            sockets = list(self._sockets)
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        for t in self._threads:
            t.join(timeout=10)
        assert not any(t.is_alive() for t in self._threads), "s3proxy threads did not stop"

    def _track(self, sock, add):
        with self._lock:
            (self._sockets.add if add else self._sockets.discard)(sock)

    def _accept_loop(self):
        listener = self._listener
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self._track(client, True)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, client):
        """One client connection: requests one after another, until either side closes."""
        upstream = None
        stream = client.makefile("rb")
        try:
            while True:
                head = _read_head(stream)
                if head is None:
                    return
                keep, upstream = self._handle(client, stream, head, upstream)
                if not keep:
                    return
        except _Reset:
            client = None  # already reset
        except (OSError, ConnectionError, ValueError):
            pass
        finally:
            if upstream is not None:
                self._close_upstream(upstream)
            if client is not None:
                self._track(client, False)
                with contextlib.suppress(OSError):
                    client.close()

    def _connect_upstream(self):
        sock = socket.create_connection(self.upstream, timeout=120)
        self._track(sock, True)
        return sock, sock.makefile("rb")

    def _close_upstream(self, upstream):
        self._track(upstream[0], False)
        with contextlib.suppress(OSError):
            upstream[0].close()

    def _handle(self, client, stream, head, upstream):
        """Answers one request; returns (whether the client connection stays open, the upstream connection)."""
        method, target = head.start[0], head.start[1] if len(head.start) > 1 else ""
        has_body = bool(head.header("transfer-encoding")) or int(head.header("content-length") or 0) > 0
        expects = head.header("expect").lower() == "100-continue" and has_body
        delay, fault, error = self.faults._take(method, target, has_body)
        if delay:
            time.sleep(delay)
        if error is not None:
            # With Expect: 100-continue the client has not sent the body (and will not, after a final answer):
            # answer and close, as a server that does not want the body does. Else skip the body and keep on.
            if not expects:
                for _ in _body_chunks(stream, head, until_eof=False):
                    pass
            client.sendall(_error_response(*error, close=expects))
            return not expects, upstream
        if fault == "reset_upload":
            if expects:
                client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            length = int(head.header("content-length") or 0)
            stream.read(max(1, length // 2) if length else CHUNK)
            self._reset_client(client)
        if upstream is None:
            upstream = self._connect_upstream()
        up_sock, up_stream = upstream
        up_sock.sendall(head.raw)
        response = None
        if expects:
            response = _read_head(up_stream)
            if response is None:
                raise ConnectionError("the server closed the connection")
            if response.start[1] == "100":
                client.sendall(response.raw)
                response = None
            else:  # a final answer before the body: the client will not send it, the server will not read it
                self._relay_response(client, upstream, method, response, fault)
                self._close_upstream(upstream)
                return False, None
        if has_body:
            for piece in _body_chunks(stream, head, until_eof=False):
                up_sock.sendall(piece)
        while response is None or response.start[1].startswith("1"):
            if response is not None:  # another interim answer: pass it on
                client.sendall(response.raw)
            response = _read_head(up_stream)
            if response is None:
                raise ConnectionError("the server closed the connection")
        keep = self._relay_response(client, upstream, method, response, fault)
        if not keep:
            self._close_upstream(upstream)
            return False, None
        return "close" not in head.header("connection").lower(), upstream

    def _relay_response(self, client, upstream, method, response, fault):
        """Sends the server's answer to the client: the whole of it; for reset_download the head and half the body,
        then a reset; for lose_answer only the reset. Returns whether the upstream connection can be used again."""
        no_body = method == "HEAD" or response.start[1] in ("204", "304")
        framed = bool(response.header("content-length") or response.header("transfer-encoding"))
        pieces = [] if no_body else _body_chunks(upstream[1], response, until_eof=not framed)
        if fault == "reset_download":
            body = b"".join(pieces)
            client.sendall(response.raw + body[:len(body) // 2])
            self._reset_client(client)
        if fault == "lose_answer":
            for _ in pieces:
                pass
            self._reset_client(client)
        client.sendall(response.raw)
        for piece in pieces:
            client.sendall(piece)
        return (no_body or framed) and "close" not in response.header("connection").lower()

    def _reset_client(self, client):
        self._track(client, False)
        _reset(client)
        raise _Reset()


@pytest.fixture
def s3_proxy(s3_server):
    """An S3Proxy in front of the module's s3_server for one test, stopped after it."""
    with S3Proxy(s3_server.endpoint) as proxy:
        yield proxy
