"""The ClickHouse otelrr writes annotations into, as its HTTP client will see it: the real ClickHouse engine
(chdb-core, ClickHouse 26.x) behind ClickHouse's HTTP interface (tests/integration/clickhouse_server.py), spoken to
over plain HTTP (urllib) only, never through chdb.

Checked: the otel-ai platform's `annotations` table (migration 20250924000001) is created, filled with
`INSERT ... FORMAT JSONEachRow` and read back with `{name:Type}` parameters exactly (DateTime64(9) with all nine
digits, Map, NULL); hostile values round-trip and match only themselves, in a parameter and in a row; and the
answers to a wrong password and to SQL errors are ClickHouse's: status, `Code: N. DB::Exception: ...` text and the
X-ClickHouse-Exception-Code header. Each test asserts what the engine answers, so a chdb-core upgrade that
changes an answer fails here first.

By hand: .venv/bin/python -m pytest -q -s -p no:cacheprovider tests/integration/test_clickhouse_cli.py
"""

import concurrent.futures
import gzip
import json
import os
import re
import time

import pytest

from clickhouse_server import (PASSWORD, USER, ClickHouseError, ClickHouseHttpServer, clickhouse_server,  # noqa: F401
                               escape_param)

# The platform's migration 20250924000001, as the issue gives it. In the platform's repository trace_id and
# span_id are Nullable(String) too; its file also has DEFAULT map() on the two Maps (the same as no default),
# skip indexes and SETTINGS index_granularity = 8192, and one revision adds `TTL expires_at`, which ClickHouse
# 26.9 refuses: a TTL may not be Nullable (test_platform_ttl_on_a_nullable_column_is_refused).
ANNOTATIONS = """
CREATE TABLE IF NOT EXISTS annotations (
  annotation_id String DEFAULT generateUUIDv4(),
  signal_type LowCardinality(String),
  trace_id Nullable(String), span_id Nullable(String),
  metric_name Nullable(String), metric_labels Map(LowCardinality(String), String),
  log_timestamp Nullable(DateTime64(9)), log_body_hash Nullable(String),
  time_range_start DateTime64(9), time_range_end Nullable(DateTime64(9)),
  service_name Nullable(String), resource_attributes Map(LowCardinality(String), String),
  annotation_type LowCardinality(String), annotation_key String, annotation_value String,
  confidence Nullable(Float32), created_at DateTime64(3) DEFAULT now64(3), created_by String,
  session_id Nullable(String), expires_at Nullable(DateTime64(3)), parent_annotation_id Nullable(String)
) ENGINE = MergeTree PARTITION BY toYYYYMM(time_range_start)
  ORDER BY (signal_type, annotation_type, time_range_start, annotation_id)
"""

# Every column but the two with defaults, as otelrr will write them: DateTime64 as text with all their digits.
FULL_ROW = {
    "signal_type": "trace",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "span_id": "00f067aa0ba902b7",
    "metric_name": None,
    "metric_labels": {"http.method": "GET", "le": "0.5"},
    "log_timestamp": "2025-09-24 12:34:56.123456789",
    "log_body_hash": None,
    "time_range_start": "2025-09-24 12:00:00.000000001",
    "time_range_end": "2025-09-24 12:59:59.999999999",
    "service_name": "checkout",
    "resource_attributes": {"service.name": "checkout", "k8s.pod.name": "checkout-7f9c"},
    "annotation_type": "test",
    "annotation_key": "test.flag.payment_failure",
    "annotation_value": '{"injected": true}',
    "confidence": 0.75,
    "created_by": "otelrr",
    "session_id": "session-full",
    "expires_at": "2025-10-24 12:00:00.123",
    "parent_annotation_id": None,
}
# Only what has neither a default nor NULL; the rest is filled in by the table.
MINIMAL_ROW = {"signal_type": "any", "time_range_start": "2025-09-24 00:00:00.000000000", "annotation_type": "meta",
               "annotation_key": "meta.minimal", "annotation_value": "", "created_by": "otelrr",
               "session_id": "session-minimal"}
NULLS = {"trace_id": None, "span_id": None, "metric_name": None, "metric_labels": {}, "log_timestamp": None,
         "log_body_hash": None, "time_range_end": None, "service_name": None, "resource_attributes": {},
         "confidence": None, "expires_at": None, "parent_annotation_id": None}
# What must never reach SQL as SQL: quotes, an injection, backslashes and escapes, %, newlines, a tab,
# braces and a placeholder of its own, non-ASCII.
HOSTILE = "x' OR '1'='1 -- \"q\" back\\slash \\n \\' 100% \n line\ttab {sid:String} { } é ✓"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def annotations(clickhouse_server):
    """The annotations table, created the way otelrr will: CREATE TABLE IF NOT EXISTS, twice."""
    for _ in range(2):
        assert clickhouse_server.checked(ANNOTATIONS).body == b""
    return clickhouse_server


def rows_of(server, session_id, fmt="JSONEachRow"):
    """The annotations of one session through a parameter, without the two columns the table fills in."""
    answer = server.checked("SELECT * EXCEPT (annotation_id, created_at) FROM annotations "
                            "WHERE session_id = {sid:Nullable(String)} ORDER BY annotation_key",
                            params={"param_sid": escape_param(session_id), "default_format": fmt})
    return answer.json_rows() if fmt == "JSONEachRow" else answer.text


def error_text(server, code, message, name):
    return f"Code: {code}. DB::Exception: {message} ({name}) (version {server.version})\n"


def test_ping_and_select_one(clickhouse_server):
    ch = clickhouse_server
    for path in ("/ping", "/"):
        answer = ch.request(method="GET", path=path, auth=False)  # health checks need no credentials
        assert (answer.status, answer.text) == (200, "Ok.\n")
    assert ch.checked("SELECT 1", method="GET").text == "1\n"  # GET /?query=SELECT 1
    assert ch.checked("SELECT 1").text == "1\n"  # POST / with the query as the body
    assert ch.checked("SELECT", body=" 2").text == "2\n"  # the start in ?query=, the rest in the body
    answer = ch.checked("SELECT version(), timezone()")
    assert answer.text == f"{ch.version}\tUTC\n"
    assert ch.version.startswith("26.")
    assert answer.headers["X-ClickHouse-Format"] == "TabSeparated"  # the HTTP interface's default
    assert UUID.fullmatch(answer.headers["X-ClickHouse-Query-Id"])
    assert ch.request("SELECT 1", method="GET", path="/nowhere").status == 404


def test_annotations_round_trip_with_parameters(annotations):
    ch = annotations
    answer = ch.insert("annotations", [FULL_ROW, MINIMAL_ROW])
    assert json.loads(answer.headers["X-ClickHouse-Summary"])["written_rows"] == "2"
    assert rows_of(ch, "session-full") == [FULL_ROW]
    assert rows_of(ch, "session-minimal") == [{**NULLS, **MINIMAL_ROW}]
    assert rows_of(ch, "no-such-session") == []

    # The two columns the table fills in.
    (filled,) = ch.query("SELECT annotation_id, created_at, now64(3) - created_at < 60 AS recent FROM annotations "
                         "WHERE session_id = {sid:String}", sid="session-full")
    assert UUID.fullmatch(filled["annotation_id"]) and filled["recent"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", filled["created_at"])

    # DateTime64(9) keeps its nanoseconds, as text and as numbers, and compares with a DateTime64 parameter.
    (times,) = ch.query("SELECT toUnixTimestamp64Nano(log_timestamp) AS log_ns, time_range_end AS end, "
                        "time_range_start = {start:DateTime64(9)} AS same_start FROM annotations "
                        "WHERE session_id = {sid:String}", sid="session-full", start="2025-09-24 12:00:00.000000001")
    assert times == {"log_ns": 1758717296123456789, "end": "2025-09-24 12:59:59.999999999", "same_start": 1}

    # A Map value and a Nullable one by their own parameters.
    found = ch.query("SELECT annotation_key FROM annotations WHERE metric_labels[{label:String}] = {value:String} "
                     "AND trace_id = {trace:Nullable(String)}", label="le", value="0.5", trace=FULL_ROW["trace_id"])
    assert found == [{"annotation_key": "test.flag.payment_failure"}]

    # The same row in the other formats a client asks for.
    meta = json.loads(ch.checked("SELECT * FROM annotations WHERE session_id = {sid:String}",
                                 params={"param_sid": "session-full", "default_format": "JSON"}).text)
    types = {column["name"]: column["type"] for column in meta["meta"]}
    assert types["time_range_start"] == "DateTime64(9)" and types["log_timestamp"] == "Nullable(DateTime64(9))"
    assert types["metric_labels"] == "Map(LowCardinality(String), String)"
    assert types["signal_type"] == "LowCardinality(String)" and types["confidence"] == "Nullable(Float32)"
    assert meta["rows"] == 1 and meta["data"][0]["metric_labels"] == FULL_ROW["metric_labels"]
    assert rows_of(ch, "session-minimal", fmt="TabSeparated") == \
        "any\t\\N\t\\N\t\\N\t{}\t\\N\t\\N\t2025-09-24 00:00:00.000000000\t\\N\t\\N\t{}\tmeta\tmeta.minimal\t\t" \
        "\\N\totelrr\tsession-minimal\t\\N\t\\N\n"
    # A FORMAT clause in the query wins over default_format.
    assert ch.checked("SELECT annotation_key FROM annotations WHERE session_id = 'session-full' FORMAT JSONEachRow",
                      params={"default_format": "CSV"}).text == '{"annotation_key":"test.flag.payment_failure"}\n'


def test_insert_in_the_body_or_with_the_query_in_the_url(annotations):
    ch = annotations
    row = {**MINIMAL_ROW, "session_id": "session-body", "annotation_key": "meta.in-body"}
    # Query and rows in the body ...
    ch.checked("INSERT INTO annotations FORMAT JSONEachRow\n" + json.dumps(row) + "\n")
    # ... or the query in ?query= and the rows in the body (what otelrr sends); a database= parameter.
    ch.checked("INSERT INTO annotations FORMAT JSONEachRow", body=json.dumps({**row, "annotation_key": "meta.in-url"}),
               params={"database": "default"})
    assert [r["annotation_key"] for r in rows_of(ch, "session-body")] == ["meta.in-body", "meta.in-url"]
    # A gzip body, as a client that compresses sends it.
    ch.checked("INSERT INTO annotations FORMAT JSONEachRow", headers={"Content-Encoding": "gzip"},
               body=gzip.compress(json.dumps({**row, "annotation_key": "meta.gzip"}).encode()))
    assert len(rows_of(ch, "session-body")) == 3


def test_database_by_parameter_or_header(annotations):
    """The platform's tables are in the database `otel`: database= (or X-ClickHouse-Database) picks it for one
    request; the next request without it is in `default` again."""
    ch = annotations
    ch.checked("CREATE DATABASE IF NOT EXISTS otel")
    ch.checked(ANNOTATIONS, params={"database": "otel"})
    ch.insert("annotations", [{**MINIMAL_ROW, "session_id": "session-otel"}], database="otel")
    answer = ch.checked("SELECT currentDatabase(), count() FROM annotations WHERE session_id = 'session-otel'",
                        headers={"X-ClickHouse-Database": "otel"})
    assert answer.text == "otel\t1\n"
    assert ch.checked("SELECT currentDatabase(), count() FROM annotations WHERE session_id = 'session-otel'").text \
        == "default\t0\n"


def test_rfc_3339_timestamps_need_best_effort_parsing_before_26_5(annotations):
    """DateTime64 text `YYYY-MM-DD hh:mm:ss.fffffffff` is read by every version; an RFC 3339 `...T...Z` only with
    date_time_input_format=best_effort, the default since ClickHouse 26.5 (the platform runs 25.7, where the
    default is basic)."""
    ch = annotations
    row = {**MINIMAL_ROW, "session_id": "session-rfc3339", "time_range_start": "2025-09-24T12:00:00.123456789Z"}
    with pytest.raises(ClickHouseError) as refused:
        ch.insert("annotations", [row], date_time_input_format="basic")
    assert (refused.value.status, refused.value.code) == (400, 27)  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
    assert "Cannot parse input: expected '\"' before: 'Z\"" in refused.value.text
    assert ch.query("SELECT getSetting('date_time_input_format') AS s") == [{"s": "best_effort"}]  # that request's
    ch.insert("annotations", [row])
    assert ch.query("SELECT time_range_start FROM annotations WHERE session_id = 'session-rfc3339'") == \
        [{"time_range_start": "2025-09-24 12:00:00.123456789"}]


def test_hostile_values_round_trip_and_match_only_themselves(annotations):
    ch = annotations
    rows = [{**MINIMAL_ROW, "session_id": HOSTILE, "annotation_key": "hostile", "annotation_value": HOSTILE,
             "metric_labels": {HOSTILE: HOSTILE}},
            {**MINIMAL_ROW, "session_id": "x", "annotation_key": "decoy"}]
    ch.insert("annotations", rows)
    # In a row: stored exactly; in a parameter (escaped as ClickHouse reads parameters): matches only itself.
    (found,) = ch.query("SELECT annotation_key, session_id, annotation_value, metric_labels FROM annotations "
                        "WHERE session_id = {sid:String}", sid=HOSTILE)
    assert found == {"annotation_key": "hostile", "session_id": HOSTILE, "annotation_value": HOSTILE,
                     "metric_labels": {HOSTILE: HOSTILE}}
    assert ch.query("SELECT count() AS n FROM annotations WHERE annotation_value = {v:String} "
                    "AND metric_labels[{v:String}] = {v:String}", v=HOSTILE) == [{"n": 1}]
    # Classic injections are values, never SQL: they match nothing although the table has rows.
    total = ch.query("SELECT count() AS n FROM annotations")[0]["n"]
    assert total > 2
    for attack in ("' OR 1=1 --", "x' OR '1'='1", "x') OR ('1'='1", "'; DROP TABLE annotations; --"):
        assert ch.query("SELECT count() AS n FROM annotations WHERE session_id = {sid:String}", sid=attack) == \
            [{"n": 0}], attack
    assert ch.query("SELECT count() AS n FROM annotations")[0]["n"] == total
    # A parameter value is read in escaped text form: unescaped, a newline ends it and a trailing backslash
    # starts an escape, and ClickHouse refuses the value (so a client must escape_param() its strings).
    answer = ch.request("SELECT {v:String}", params={"param_v": "two\nlines"})
    assert (answer.status, answer.code) == (500, 457)
    assert answer.text == error_text(
        ch, 457, "Value two\nlines cannot be parsed as String for query parameter 'v' because it isn't parsed "
                 "completely: only 3 of 9 bytes was parsed: two.", "BAD_QUERY_PARAMETER")
    answer = ch.request("SELECT {v:String}", params={"param_v": "ends\\"})
    assert (answer.status, answer.code) == (400, 25)  # CANNOT_PARSE_ESCAPE_SEQUENCE
    # Unescaped but harmless, the backslash sequences are read as escapes: \n is a newline.
    assert ch.query("SELECT {v:String} AS v", v=None) == [{"v": ""}]  # \N is an empty String ...
    assert ch.query("SELECT {v:Nullable(String)} AS v", v=None) == [{"v": None}]  # ... and a Nullable NULL
    assert ch.checked("SELECT {v:String} AS v FORMAT JSONEachRow", params={"param_v": "a\\nb"}).json_rows() == \
        [{"v": "a\nb"}]


def test_wrong_password_is_refused_as_clickhouse_refuses_it(clickhouse_server):
    """HTTP 403, X-ClickHouse-Exception-Code 516 and AccessControl::authenticate's text, the same for a wrong
    password and an unknown user, whichever way the credentials come (ClickHouse's exceptionCodeToHTTPStatus maps
    AUTHENTICATION_FAILED to 403; a real 24.10 server answers this text, a real 22.3 the same status and header)."""
    ch = clickhouse_server

    def refused_text(user):
        return error_text(ch, 516, f"{user}: Authentication failed: password is incorrect, or there is no user "
                                   f"with such name.", "AUTHENTICATION_FAILED")

    assert ch.checked("SELECT currentUser() = 'default'").text == "1\n"  # the engine's own user, whoever logs in
    for name, request in {
        "Basic, wrong password": dict(auth=False, headers={"Authorization": "Basic b3RlbHJyOndyb25n"}),
        "X-ClickHouse headers, wrong key": dict(auth=False, headers={"X-ClickHouse-User": USER,
                                                                     "X-ClickHouse-Key": "wrong"}),
        "URL parameters, wrong password": dict(auth=False, params={"user": USER, "password": "wrong"}),
        "URL parameters, no password": dict(auth=False, params={"user": USER}),
    }.items():
        answer = ch.request("SELECT 1", **request)
        assert (answer.status, answer.code, answer.text) == (403, 516, refused_text(USER)), name
    answer = ch.request("SELECT 1", auth=False, headers={"X-ClickHouse-User": "mallory", "X-ClickHouse-Key": PASSWORD})
    assert (answer.status, answer.text) == (403, refused_text("mallory"))
    # No credentials at all: the user `default`, with the hint ClickHouse gives for it.
    answer = ch.request("SELECT 1", auth=False)
    assert (answer.status, answer.code) == (403, 516)
    assert answer.text.startswith("Code: 516. DB::Exception: default: Authentication failed: password is incorrect, "
                                  "or there is no user with such name.\n\nIf you have installed ClickHouse and forgot "
                                  "password you can reset it in the configuration file.\n")
    # Two ways at once is refused even with the right credentials.
    answer = ch.request("SELECT 1", headers={"X-ClickHouse-User": USER, "X-ClickHouse-Key": PASSWORD})
    assert (answer.status, answer.text) == (403, error_text(
        ch, 516, "Invalid authentication: it is not allowed to use X-ClickHouse HTTP headers and Authorization HTTP "
                 "header simultaneously.", "AUTHENTICATION_FAILED"))
    # The right credentials, each way.
    assert ch.checked("SELECT 1", auth=False, headers={"X-ClickHouse-User": USER, "X-ClickHouse-Key": PASSWORD}).text \
        == "1\n"
    assert ch.checked("SELECT 1", auth=False, params={"user": USER, "password": PASSWORD}).text == "1\n"
    assert ch.checked("SELECT 1").text == "1\n"


def test_sql_errors_are_answered_as_clickhouse_answers_them(annotations):
    ch = annotations
    cases = [
        # (request, status, code, a part of the message)
        (dict(sql="SELECT * FROM no_such_table"), 404, 60, "Unknown table expression identifier 'no_such_table'."),
        (dict(sql="INSERT INTO no_such_table FORMAT JSONEachRow", body="{}"), 404, 60,
         "Table default.no_such_table does not exist."),
        (dict(sql="SELEC 1"), 400, 62, "Syntax error: failed at position 1 (SELEC)"),
        (dict(sql="SELECT no_such_column FROM annotations"), 404, 47, "Unknown expression identifier"),
        # One statement a request (a migration's file of several statements must be sent one by one).
        (dict(sql=ANNOTATIONS + ";\nSELECT 1"), 400, 62, "Syntax error (Multi-statements are not allowed)"),
        # GET is read-only.
        (dict(sql=ANNOTATIONS, method="GET"), 500, 164,
         f"{USER}: Cannot execute query in readonly mode. For queries over HTTP, method GET implies readonly. "
         f"You should use method POST for modifying queries."),
        (dict(sql="SELECT 1", params={"database": "no_such_database"}), 404, 81,
         "Database no_such_database does not exist."),
        (dict(sql="SELECT 1", params={"no_such_setting": "1"}), 404, 115, "Unknown setting 'no_such_setting'."),
        (dict(sql="SELECT 1", params={"default_format": "NoSuchFormat"}), 404, 73, "Unknown format NoSuchFormat."),
        (dict(sql="SELECT {sid:String}"), 500, 456, "Substitution `sid` is not set."),
        # clickhouse-local's implicit SELECT is off, as on a server.
        (dict(sql="1 + 1"), 400, 62, "Syntax error"),
        # A row that is not JSON, and one whose value does not fit its column.
        (dict(sql="INSERT INTO annotations FORMAT JSONEachRow", body='{"signal_type": trace}\n'), 400, 27,
         "(at row 1)"),
        (dict(sql="INSERT INTO annotations FORMAT JSONEachRow", body='{"time_range_start": "yesterday"}\n'), 400, 41,
         "Cannot read DateTime: unexpected word: (while reading the value of key time_range_start)"),
    ]
    before = ch.query("SELECT count() AS n FROM annotations")
    for case, status, code, part in cases:
        answer = ch.request(**case)
        text = answer.text
        assert (answer.status, answer.code) == (status, code), (case, text)
        assert text.startswith(f"Code: {code}. DB::Exception: ") and part in text, (case, text)
        assert re.search(rf"\. \([A-Z_]+\) \(version {re.escape(ch.version)}\)\n$", text), (case, text)
    assert ch.query("SELECT count() AS n FROM annotations") == before  # nothing landed


def test_concurrent_requests_share_one_engine(annotations):
    ch = annotations

    def insert(n):
        ch.insert("annotations", [{**MINIMAL_ROW, "session_id": "session-concurrent", "annotation_key": f"k{n}.{i}"}
                                  for i in range(25)])
        return ch.query("SELECT count() AS n FROM annotations WHERE annotation_key = {k:String}", k=f"k{n}.0")

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert list(pool.map(insert, range(8))) == [[{"n": 1}]] * 8
    assert ch.query("SELECT count() AS n FROM annotations WHERE session_id = 'session-concurrent'") == [{"n": 200}]


def test_tables_survive_a_restart_and_nothing_is_left_running(tmp_path):
    with ClickHouseHttpServer(tmp_path, user=USER, password=PASSWORD) as ch:
        ch.checked(ANNOTATIONS)
        ch.insert("annotations", [FULL_ROW])
        first = ch.proc.pid
    with pytest.raises(ProcessLookupError):
        os.killpg(first, 0)
    with ClickHouseHttpServer(tmp_path, user=USER, password=PASSWORD) as ch:
        assert rows_of(ch, "session-full") == [FULL_ROW]
        second = ch.proc.pid
    with pytest.raises(ProcessLookupError):
        os.killpg(second, 0)


def test_platform_ttl_on_a_nullable_column_is_refused(clickhouse_server):
    """One revision of the platform's migration ends with `TTL expires_at`; ClickHouse 26.9 refuses a Nullable
    TTL, so that revision cannot be applied there (ttl_ok shows the form that is taken)."""
    ch = clickhouse_server
    ddl = ("CREATE TABLE ttl_{} (expires_at Nullable(DateTime64(3)), t DateTime64(9)) ENGINE = MergeTree "
           "ORDER BY t TTL {}")
    answer = ch.request(ddl.format("nullable", "expires_at"))
    assert (answer.status, answer.code) == (500, 450)
    assert answer.text.startswith("Code: 450. DB::Exception: TTL expression result column should have Date, Date32, "
                                  "DateTime or DateTime64 type, but has Nullable(DateTime64(3)).")
    ch.checked(ddl.format("ok", "assumeNotNull(expires_at)"))


def test_measurements(annotations):
    """How long the engine takes to start, the adapter's memory, one INSERT of 1,000 rows and one SELECT."""
    ch = annotations
    rows = [{**FULL_ROW, "session_id": "session-1000", "annotation_key": f"test.bulk.{i:04}",
             "time_range_start": f"2025-09-24 12:{i // 60 % 60:02}:{i % 60:02}.{i:09}"} for i in range(1000)]
    body = "".join(json.dumps(row) + "\n" for row in rows)
    started = time.perf_counter()
    answer = ch.checked("INSERT INTO annotations FORMAT JSONEachRow", body=body)
    insert_s = time.perf_counter() - started
    assert json.loads(answer.headers["X-ClickHouse-Summary"])["written_rows"] == "1000"
    started = time.perf_counter()
    selected = ch.query("SELECT * FROM annotations WHERE session_id = {sid:String} ORDER BY annotation_key",
                        sid="session-1000")
    select_s = time.perf_counter() - started
    assert len(selected) == 1000 and selected[999]["time_range_start"] == "2025-09-24 12:16:39.000000999"
    memory = ch.memory()
    print(f"\nchdb-core {ch.version}: engine import {ch.info['import_s']:.2f} s, session open "
          f"{ch.info['session_s']:.2f} s, adapter answering after {ch.started_in:.2f} s"
          f"\nadapter process memory: RSS {memory['VmRSS'] / 1024:.0f} MiB (anonymous "
          f"{memory['RssAnon'] / 1024:.0f} MiB, file-backed {memory['RssFile'] / 1024:.0f} MiB), peak "
          f"{memory['VmHWM'] / 1024:.0f} MiB"
          f"\nINSERT of 1,000 rows ({len(body) / 1024:.0f} KiB of JSONEachRow) {insert_s * 1000:.1f} ms; "
          f"SELECT of them (JSONEachRow, one parameter) {select_s * 1000:.1f} ms")
