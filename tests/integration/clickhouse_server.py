"""The real ClickHouse engine behind ClickHouse's HTTP interface, for the tests of otelrr's ClickHouse client.

Debian's clickhouse-server is 18.16 (no DateTime64, Map or query parameters), so the engine comes from PyPI's
chdb-core (ClickHouse 26.x as a library) and this module puts ClickHouse's HTTP interface in front of it:

    with ClickHouseHttpServer(tmp_path, user="otelrr", password="otelrr-pass") as ch:
        ch.request("CREATE TABLE t (a String) ENGINE = MergeTree ORDER BY a")
        ch.insert("t", [{"a": "x"}])
        ch.query("SELECT * FROM t WHERE a = {a:String}", a="x")   # [{"a": "x"}]

or, in a test module, the module-scoped fixture (user otelrr, password otelrr-pass):

    from clickhouse_server import clickhouse_server  # noqa: F401 (a fixture)
    def test_something(clickhouse_server): ...

The adapter runs in a process of its own (`python clickhouse_server.py serve ...`): a threaded HTTP server on a
free 127.0.0.1 port in front of ONE chdb session whose data directory (workdir/data) persists, so tables survive
between requests and restarts. The engine is in-process and not reentrant, so every request runs under one
lock. Its own process keeps the 500 MB engine, its allocator and its threads out of pytest, lets a test measure
its memory, and ends with its parent: it exits on SIGTERM or when its stdin (a pipe from the parent) closes.

What it does as ClickHouse's HTTP interface does (src/Server/HTTPHandler.cpp and its helpers):
- `POST /` with the query in the body; `GET /?query=...` or `POST /?query=...`, where the body is appended to the
  URL's query (so `?query=INSERT INTO t FORMAT JSONEachRow` takes the rows from the body); `GET /` and `/ping` and
  `/replicas_status` answer `Ok.\\n`; any other path is 404.
- `param_<name>=<value>` for `{name:Type}` placeholders, bound by the engine's own query-parameter code: values are
  read in ClickHouse's escaped (TabSeparated) text form, so a client must write a backslash as `\\\\`, a newline
  as `\\n` and a tab as `\\t` (escape_param() below); an unescaped newline is error 457 BAD_QUERY_PARAMETER.
- `database=` (or the X-ClickHouse-Database header), `default_format=` (or X-ClickHouse-Format; TabSeparated
  when neither), a FORMAT clause in the query winning over both; any other URL parameter is a setting for
  that request only (an unknown one is error 115); `query_id=` is echoed in X-ClickHouse-Query-Id.
- Authentication by X-ClickHouse-User/X-ClickHouse-Key, HTTP Basic, or user=/password= URL parameters (no
  credentials: user `default`, no password); mixing two of them, or a wrong name or password, is error 516
  AUTHENTICATION_FAILED with HTTP 403 and ClickHouse's own text.
- GET is read-only: a query that writes is error 164 READONLY; one request is one statement: `a; b` is error 62.
- Errors: the status ClickHouse gives the code (exceptionCodeToHTTPStatus), the body
  `Code: N. DB::Exception: <message>. (<NAME>) (version V)\\n` and the X-ClickHouse-Exception-Code header; a
  successful answer carries X-ClickHouse-Summary (read/written rows and bytes), X-ClickHouse-Format,
  X-ClickHouse-Timezone and X-ClickHouse-Query-Id.

What it does not do: compressed answers (enable_http_compression is taken and ignored, so answers are plain),
ClickHouse's own compression (compress=1, decompress=1: error 48), request bodies in encodings other than gzip
and deflate, sessions (session_id is ignored: every request shares the one engine session, and temporary
tables live on; the database and the settings are set anew for every request), multipart external tables,
progress headers, HTTP/2 and TLS, format-specific Content-Types (text/plain always), and binary data anywhere but
in `?query=INSERT INTO ... FORMAT F` with the data in the body (the engine takes other query text as UTF-8).
"""

import base64
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from peer_binaries import ServerProcess

USER = "otelrr"
PASSWORD = "otelrr-pass"
# The adapter's password comes in its environment (none there: the user needs no password).
PASSWORD_VARIABLE = "CHDB_ADAPTER_PASSWORD"

# The HTTP status ClickHouse answers an error code with (exceptionCodeToHTTPStatus); any other code is 500.
# Codes are named here and numbered by the engine itself (errorCodeToName), so the table cannot drift.
STATUS_BY_ERROR = {
    401: ("REQUIRED_PASSWORD",),
    403: ("UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE", "ACCESS_DENIED"),
    400: ("BAD_ARGUMENTS", "CANNOT_COMPILE_REGEXP", "CANNOT_PARSE_TEXT", "CANNOT_PARSE_ESCAPE_SEQUENCE",
          "CANNOT_PARSE_QUOTED_STRING", "CANNOT_PARSE_DATE", "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_NUMBER",
          "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", "CANNOT_PARSE_IPV4", "CANNOT_PARSE_IPV6",
          "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "CANNOT_PARSE_UUID", "DUPLICATE_COLUMN", "ILLEGAL_COLUMN",
          "UNKNOWN_ELEMENT_IN_AST", "UNKNOWN_TYPE_OF_AST_NODE", "THERE_IS_NO_COLUMN", "TOO_DEEP_AST", "TOO_BIG_AST",
          "UNEXPECTED_AST_STRUCTURE", "SYNTAX_ERROR", "INCORRECT_DATA", "TYPE_MISMATCH",
          "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"),
    404: ("UNKNOWN_TABLE", "UNKNOWN_FUNCTION", "UNKNOWN_IDENTIFIER", "UNKNOWN_TYPE", "UNKNOWN_STORAGE",
          "UNKNOWN_DATABASE", "UNKNOWN_SETTING", "UNKNOWN_DIRECTION_OF_SORTING", "UNKNOWN_AGGREGATE_FUNCTION",
          "UNKNOWN_FORMAT", "UNKNOWN_DATABASE_ENGINE", "UNKNOWN_TYPE_OF_QUERY", "UNKNOWN_ROLE"),
    413: ("QUERY_IS_TOO_LARGE",),
    501: ("NOT_IMPLEMENTED",),
    503: ("SOCKET_TIMEOUT", "CANNOT_OPEN_FILE", "CANNOT_SCHEDULE_TASK"),
    411: ("HTTP_LENGTH_REQUIRED",),
    408: ("TIMEOUT_EXCEEDED",),
    415: ("UNSUPPORTED_MEDIA_TYPE",),
}

# URL parameters that are not settings (HTTPHandler's reserved names, plus the ones it reads itself).
NOT_SETTINGS = {"query", "database", "default_format", "compress", "decompress", "user", "password", "quota_key",
                "query_id", "stacktrace", "buffer_size", "wait_end_of_query", "session_id", "session_timeout",
                "session_check", "client_protocol_version", "close_session", "role"}

# Settings whose clickhouse-local value differs from a server's default, set back to the server's.
LOCAL_ONLY_SETTINGS = {"implicit_select": 0, "allow_introspection_functions": 0}

# Statements a read-only request may run (the first word of the statement as the engine formats it).
READ_ONLY_KINDS = {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN", "SET", "USE", "CHECK"}

# The text AccessControl::authenticate adds for the user `default` (or no name) after a failed login.
DEFAULT_USER_HINT = ("\n\nIf you have installed ClickHouse and forgot password you can reset it in the configuration "
                     "file.\nThe password for default user is typically located at "
                     "/etc/clickhouse-server/users.d/default-password.xml\nand deleting this file will reset the "
                     "password.\nSee also /etc/clickhouse-server/users.xml on the server where ClickHouse is "
                     "installed.\n\n")

# The engine's error text: `Code: N. DB::Exception: message. (NAME)`, sometimes with ` (version V)` after it and
# sometimes wrapped in another such text (or in chdb's own `Streaming insert ... failed: `).
ERROR_HEAD = re.compile(r"Code: (\d+)\. DB::Exception: ")
ERROR_TAIL = re.compile(r"\.? \([A-Z0-9_]+\)(?: \(version [^()]*(?:\([^()]*\))?\))?$")
# A query in the URL that is an INSERT whose data is the body: that data goes to the engine as bytes.
INSERT_WITH_DATA = re.compile(r"\s*INSERT\s+INTO\s+(?P<target>.+?)\s+FORMAT\s+(?P<format>\w+)\s*", re.I | re.S)
# The output format named at the end of a statement as the engine formats it (FORMAT comes before SETTINGS).
FORMAT_CLAUSE = re.compile(r"\sFORMAT (\w+)(?: SETTINGS .*)?$")
SETTING_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_CHECKED_QUERY = 1 << 20


class ClickHouseException(Exception):
    """An error to answer as ClickHouse would: its code and its message (without `Code:` and NAME)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def escape_param(value):
    """A value for param_<name>= as ClickHouse reads it (escaped TabSeparated text): None is \\N; in a string a
    backslash, tab, newline and carriage return are escaped, everything else goes as it is."""
    if value is None:
        return "\\N"
    if not isinstance(value, str):
        return str(value)
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def quote_literal(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_identifier(name):
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


# --- the adapter (in its own process) ----------------------------------------------------------------------


class Engine:
    """One chdb session (data under data_dir) behind a lock, answering parsed HTTP requests as ClickHouse does."""

    def __init__(self, data_dir, user, password):
        started = time.monotonic()
        import chdb  # noqa: F401 (loads the engine: its import is the engine's start)
        from chdb import session
        imported = time.monotonic()
        self.session = session.Session(str(data_dir))
        self.lock = threading.Lock()
        self.user = user
        self.password = password
        self.version = self._text("SELECT version()").strip()
        self.timezone = self._text("SELECT timezone()").strip()
        names = self._text("SELECT number, errorCodeToName(number) FROM numbers(5000) "
                           "WHERE errorCodeToName(number) != ''")
        self.error_names = {int(code): name for code, name in (line.split("\t") for line in names.splitlines())}
        codes = {name: code for code, name in self.error_names.items()}
        self.status_by_code = {codes[name]: status for status, names in STATUS_BY_ERROR.items()
                               for name in names if name in codes}
        # clickhouse-local (which chdb is) turns these on; a server has them off, so a query relying on them
        # would pass here and fail there.
        self._query("SET " + ", ".join(f"{name} = {value}" for name, value in LOCAL_ONLY_SETTINGS.items()))
        self.baseline_settings = self._changed_settings()
        self.timings = {"import_s": imported - started, "session_s": time.monotonic() - imported}

    def close(self):
        with self.lock:
            self.session.close()

    # --- engine calls ---

    def _text(self, sql, fmt="TabSeparated", params=None):
        return self._query(sql, fmt, params).bytes().decode()

    def _query(self, sql, fmt="TabSeparated", params=None):
        try:
            return self.session.query(sql, fmt, params=params or {})
        except RuntimeError as e:
            raise self.engine_error(e) from None

    def engine_error(self, error):
        """The ClickHouseException in a chdb error's text (code 1001 STD_EXCEPTION when it has none)."""
        text = str(error)
        head = ERROR_HEAD.search(text)
        if head is None:
            return ClickHouseException(self.code_of("STD_EXCEPTION"), text)
        message = text[head.end():]
        while True:
            message = ERROR_TAIL.sub("", message.rstrip())
            inner = ERROR_HEAD.match(message)
            if inner is None:
                return ClickHouseException(int(head.group(1)), message)
            message = message[inner.end():]

    def code_of(self, name):
        return next((code for code, known in self.error_names.items() if known == name), 1001)

    def error_text(self, error):
        """ClickHouse's text for an exception (getCurrentExceptionMessage): a period unless the message ends with
        one, the code's name and the version."""
        message = error.message if error.message.endswith(".") else error.message + "."
        return (f"Code: {error.code}. DB::Exception: {message} ({self.error_names.get(error.code, 'UNKNOWN')}) "
                f"(version {self.version})\n")

    def status_of(self, code):
        return self.status_by_code.get(code, 500)

    def _changed_settings(self):
        text = self._text("SELECT name, value FROM system.settings WHERE changed AND name != 'database'")
        return dict(line.split("\t", 1) for line in text.splitlines())

    def _restore_settings(self):
        """Puts every setting back as it was when the engine started (a request's settings are its own)."""
        now = self._changed_settings()
        changes = [f"{name} = DEFAULT" for name in now if name not in self.baseline_settings]
        changes += [f"{name} = {quote_literal(value)}" for name, value in self.baseline_settings.items()
                    if now.get(name) != value]
        if changes:
            self._query("SET " + ", ".join(changes))

    # --- authentication (authenticateUserByHTTP and AccessControl::authenticate) ---

    def authenticate(self, headers, params):
        """The user name, or ClickHouseException 516 as ClickHouse raises it."""
        failed = self.code_of("AUTHENTICATION_FAILED")
        user = headers.get("X-ClickHouse-User", "")
        password = headers.get("X-ClickHouse-Key", "")
        authorization = headers.get("Authorization")
        in_params = "user" in params or "password" in params

        def mixed(first, second):
            return ClickHouseException(failed, f"Invalid authentication: it is not allowed to use {first} and "
                                               f"{second} simultaneously")

        if user or password:
            if not user:
                raise ClickHouseException(failed, "Got an empty user name from X-ClickHouse HTTP headers")
            if authorization is not None:
                raise mixed("X-ClickHouse HTTP headers", "Authorization HTTP header")
            if in_params:
                raise mixed("X-ClickHouse HTTP headers", "authentication via parameters")
        elif authorization is not None:
            if in_params:
                raise mixed("Authorization HTTP header", "authentication via parameters")
            scheme, _, info = authorization.strip().partition(" ")
            if scheme.lower() != "basic":
                raise ClickHouseException(failed, f"Invalid authentication: '{scheme}' HTTP Authorization scheme "
                                                  f"is not supported")
            try:
                user, _, password = base64.b64decode(info.strip(), validate=True).decode().partition(":")
            except ValueError:
                raise ClickHouseException(failed, "Invalid authentication: cannot decode the Basic credentials") \
                    from None
            if not user:
                raise ClickHouseException(failed, "Got an empty user name from Authorization HTTP header")
        else:
            user = params.get("user", "default")
            password = params.get("password", "")
            if not user:
                raise ClickHouseException(failed, "Got an empty user name from authentication via parameters")
        if user != self.user or (self.password is not None and password != self.password):
            message = f"{user}: Authentication failed: password is incorrect, or there is no user with such name."
            raise ClickHouseException(failed, message + (DEFAULT_USER_HINT if user == "default" else ""))
        return user

    # --- one request ---

    def handle(self, method, headers, params, body):
        """(status, headers, body) for a request to `/`."""
        query_id = params.get("query_id") or headers.get("X-ClickHouse-Query-Id") or str(uuid.uuid4())
        answer = {"X-ClickHouse-Query-Id": query_id, "X-ClickHouse-Timezone": self.timezone}
        try:
            user = self.authenticate(headers, params)
            if params.get("compress", "0") not in ("0", "") or params.get("decompress", "0") not in ("0", ""):
                raise ClickHouseException(self.code_of("NOT_IMPLEMENTED"),
                                          "ClickHouse's own compression (compress=1, decompress=1) is not "
                                          "supported by the chdb adapter")
            body = self._decode_body(headers, body)
            with self.lock:
                fmt, summary = self._run(method, user, headers, params, body)
        except Exception as e:  # an adapter bug is answered too, as ClickHouse answers a std::exception
            if not isinstance(e, ClickHouseException):
                e = ClickHouseException(self.code_of("STD_EXCEPTION"), f"chdb adapter: {e!r}")
            answer["X-ClickHouse-Exception-Code"] = str(e.code)
            return self.status_of(e.code), answer, self.error_text(e).encode()
        result, written = summary
        answer["X-ClickHouse-Format"] = fmt
        answer["X-ClickHouse-Summary"] = json.dumps({key: str(value) for key, value in written.items()})
        return 200, answer, result

    def _decode_body(self, headers, body):
        encoding = headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity", "none"):
            return body
        if encoding in ("gzip", "deflate"):
            try:
                return zlib.decompress(body, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
            except zlib.error as e:
                raise ClickHouseException(self.code_of("CANNOT_DECOMPRESS"), f"{encoding} body: {e}") from None
        raise ClickHouseException(self.code_of("NOT_IMPLEMENTED"),
                                  f"Content-Encoding '{encoding}' is not supported by the chdb adapter "
                                  f"(gzip and deflate are)")

    def _run(self, method, user, headers, params, body):
        database = headers.get("X-ClickHouse-Database") or params.get("database") or "default"
        fmt = headers.get("X-ClickHouse-Format") or params.get("default_format") or "TabSeparated"
        settings = {key: value for key, value in params.items()
                    if key not in NOT_SETTINGS and not key.startswith("param_") and key}
        readonly = settings.pop("readonly", "0") not in ("0", "") or method == "GET"
        query_params = {key[len("param_"):]: value for key, value in params.items() if key.startswith("param_")}
        url_query = params.get("query", "")
        insert = INSERT_WITH_DATA.fullmatch(url_query) if body else None
        if insert:
            text, checked = None, url_query
        else:
            try:
                text = url_query + body.decode()
            except UnicodeDecodeError:
                raise ClickHouseException(self.code_of("BAD_ARGUMENTS"),
                                          "the chdb adapter takes query text as UTF-8, and this body is not: "
                                          "send binary data as ?query=INSERT INTO ... FORMAT F with the data "
                                          "in the body") from None
            checked = text
        self._query(f"USE {quote_identifier(database)}")
        kind = None
        try:
            kind, fmt = self._check(checked, fmt, user, readonly, method)
            for name, value in settings.items():
                if not SETTING_NAME.fullmatch(name):
                    raise ClickHouseException(self.code_of("UNKNOWN_SETTING"), f"Unknown setting '{name}'")
                self._query(f"SET {name} = {quote_literal(value)}")
            if insert:
                return fmt, self._insert(insert, body)
            result = self._query(text, fmt, query_params)
            return fmt, (result.bytes(), {"read_rows": result.rows_read(), "read_bytes": result.bytes_read(),
                                          "written_rows": result.rows_written(),
                                          "written_bytes": result.bytes_written(),
                                          "elapsed_ns": int(result.elapsed() * 1e9)})
        finally:
            if settings or kind == "SET":
                self._restore_settings()

    def _check(self, text, fmt, user, readonly, method):
        """The statement's kind (its first word) and output format, as the engine parses it: one statement only,
        and in a read-only request one that does not write."""
        try:
            formatted = self._text("SELECT formatQuerySingleLine({q:String})", "TabSeparatedRaw",
                                   {"q": escape_param(text[:MAX_CHECKED_QUERY])}).strip()
        except ClickHouseException as e:
            e.message = re.sub(r":? In scope SELECT formatQuerySingleLine\(.*$", "", e.message, flags=re.S).rstrip()
            raise
        kind = formatted.split(" ", 1)[0].upper()
        if readonly and kind not in READ_ONLY_KINDS:
            why = (" For queries over HTTP, method GET implies readonly. You should use method POST for modifying "
                   "queries") if method == "GET" else ""
            raise ClickHouseException(self.code_of("READONLY"), f"{user}: Cannot execute query in readonly mode.{why}")
        if kind == "SET" and re.search(r"\breadonly\b", formatted, re.I):
            raise ClickHouseException(self.code_of("NOT_IMPLEMENTED"),
                                      "the chdb adapter cannot undo SET readonly in its one session; send "
                                      "readonly=1 as a URL parameter instead")
        clause = FORMAT_CLAUSE.search(formatted) if kind != "INSERT" else None
        return kind, clause.group(1) if clause else fmt

    def _insert(self, insert, data):
        """INSERT INTO <target> FORMAT <format> with the body as its data, streamed to the engine as bytes."""
        try:
            inserter = self.session.send_insert(f"INSERT INTO {insert['target']}", insert["format"])
        except RuntimeError as e:
            raise self.engine_error(e) from None
        try:
            inserter.append(data)
            done = inserter.finish()
        except RuntimeError as e:
            with contextlib.suppress(RuntimeError):
                inserter.cancel()  # a no-op once finish() has begun
            raise self.engine_error(e) from None
        return b"", {"read_rows": 0, "read_bytes": 0, "written_rows": done.rows_written,
                     "written_bytes": done.bytes_written, "elapsed_ns": int(done.elapsed * 1e9)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as libcurl and clickhouse-connect use it
    server_version = "chdb-adapter"
    engine = None  # set by serve()

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def _answer(self, method):
        url = urllib.parse.urlsplit(self.path)
        body = self._body()
        params = {}
        for key, value in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
            params.setdefault(key, value)  # the first of a repeated name, as Poco's HTMLForm::get
        if url.path in ("/ping", "/replicas_status") or (url.path == "/" and method == "GET" and "query" not in params):
            return self._send(200, {}, b"Ok.\n")
        if url.path != "/":
            return self._send(404, {}, f"There is no handle {self.path}\n\nUse / or /ping for health checks.\n"
                                       f"Send queries from your program with POST method or GET /?query=...\n".encode())
        self._send(*self.engine.handle(method, self.headers, params, body))

    def _body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status, headers, body):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("X-ClickHouse-Server-Display-Name", "chdb-adapter")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        sys.stderr.write(f"{self.log_date_time_string()} {format % args}\n")


def serve(data_dir, user, password):
    """Runs the adapter until SIGTERM or until stdin closes; its first line on stdout is JSON with the port, the
    engine's version and how long the engine took to start."""
    engine = Engine(data_dir, user, password)
    Handler.engine = engine
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop.set()), daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_address[1], "version": engine.version, **engine.timings}), flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    engine.close()


# --- the test side ------------------------------------------------------------------------------------------


class ClickHouseServerError(AssertionError):
    """The adapter did not come up or did not stop; the message ends with its log."""


class ClickHouseError(AssertionError):
    """A query answered with an error: the HTTP status, ClickHouse's code and its text."""

    def __init__(self, status, code, text):
        super().__init__(f"HTTP {status}, code {code}: {text}")
        self.status = status
        self.code = code
        self.text = text


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode()

    @property
    def code(self):
        """X-ClickHouse-Exception-Code as an int, or None."""
        value = self.headers.get("X-ClickHouse-Exception-Code")
        return None if value is None else int(value)

    def json_rows(self):
        return [json.loads(line) for line in self.text.splitlines() if line]


class ClickHouseHttpServer(ServerProcess):
    """The adapter in a child process, its data in workdir/data (kept across restarts on the same workdir), its
    log in workdir/adapter-N.log; with user and password, only those credentials are let in."""

    def __init__(self, workdir, user="default", password=None, startup_timeout=120):
        super().__init__(workdir, startup_timeout)
        self.user = user
        self.password = password
        self.url = None
        # The adapter's first line: port, version, import_s (the engine's import: its start), session_s (opening
        # the session and reading the engine's version, time zone and error codes).
        self.info = None

    error = ClickHouseServerError
    stop_timeout = 30

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        n = sum(1 for _ in self.workdir.glob("adapter-*.log"))
        self.log_path = self.workdir / f"adapter-{n}.log"
        args = [sys.executable, os.path.abspath(__file__), "serve", str(self.workdir / "data"), self.user]
        env = {**os.environ, "TZ": "UTC"}
        env.pop(PASSWORD_VARIABLE, None)
        if self.password is not None:
            env[PASSWORD_VARIABLE] = self.password  # not in the command line, which `ps` shows
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            # TZ=UTC as in ClickHouse's server images, so DateTime values without a zone read the same anywhere.
            self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                         env=env, start_new_session=True)
        ready = []
        reader = threading.Thread(target=lambda: ready.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        if not ready or not ready[0]:
            self.stop()
            raise ClickHouseServerError(f"the chdb adapter did not start within {self.startup_timeout} s:\n"
                                        f"{self.logs()}")
        self.info = json.loads(ready[0])
        self.url = f"http://127.0.0.1:{self.info['port']}"
        self.started_in = time.monotonic() - started
        return self

    def stop(self):
        """Closes the adapter's stdin, then SIGTERM (it closes the engine and exits), SIGKILL after 30 s."""
        if self.proc is not None:
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        super().stop()

    @property
    def version(self):
        return self.info["version"]

    def memory(self):
        """The adapter process's memory from /proc (kB): VmRSS, RssAnon, RssFile, VmHWM."""
        fields = {}
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                    fields[name] = int(value.split()[0])
        return fields

    # --- clients ---

    def request(self, sql=None, body=b"", method="POST", params=None, headers=None, auth=True, path="/"):
        """One HTTP request: sql goes in ?query= when body is given or the method is GET, else in the body;
        params are URL parameters (param_* values as they are: see escape_param); auth=True sends the server's
        credentials as HTTP Basic. Returns a Response whatever the status."""
        url_params = dict(params or {})
        if isinstance(body, str):
            body = body.encode()
        if sql is not None and (body or method == "GET"):
            url_params["query"] = sql
        elif sql is not None:
            body = sql.encode()
        headers = dict(headers or {})
        if auth:
            token = base64.b64encode(f"{self.user}:{self.password or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        url = self.url + path + ("?" + urllib.parse.urlencode(url_params) if url_params else "")
        request = urllib.request.Request(url, data=body if method == "POST" else None, headers=headers,
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return Response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as e:
            with e:
                return Response(e.code, e.headers, e.read())

    def checked(self, *args, **kwargs):
        """request(), raising ClickHouseError unless the answer is 200."""
        answer = self.request(*args, **kwargs)
        if answer.status != 200:
            raise ClickHouseError(answer.status, answer.code, answer.text)
        return answer

    def query(self, sql, **params):
        """The rows of a SELECT as dicts (JSONEachRow); params bind {name:Type} placeholders (escape_param)."""
        return self.checked(sql, params={"default_format": "JSONEachRow",
                                         **{f"param_{k}": escape_param(v) for k, v in params.items()}}).json_rows()

    def insert(self, table, rows, **params):
        """INSERT INTO table FORMAT JSONEachRow with the rows in the body; returns the Response."""
        body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        return self.checked(f"INSERT INTO {table} FORMAT JSONEachRow", body=body, params=params)


@pytest.fixture(scope="module")
def clickhouse_server(tmp_path_factory):
    """One ClickHouseHttpServer (user otelrr, password otelrr-pass) for the test module that imports it."""
    with ClickHouseHttpServer(tmp_path_factory.mktemp("clickhouse"), user=USER, password=PASSWORD) as server:
        print(f"\nchdb adapter (ClickHouse {server.version}) answered {server.url} after {server.started_in:.2f} s "
              f"(engine import {server.info['import_s']:.2f} s, session {server.info['session_s']:.2f} s)")
        yield server


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "serve":
    serve(sys.argv[2], sys.argv[3], os.environ.get(PASSWORD_VARIABLE))
elif __name__ == "__main__":
    sys.exit(f"usage: [{PASSWORD_VARIABLE}=...] clickhouse_server.py serve DATA_DIR USER")
