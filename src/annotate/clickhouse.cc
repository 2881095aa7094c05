#include "annotate/clickhouse.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "common/json_fields.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "session/time_format.h"

namespace otelrr::annotate {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

bool IsIdentifier(std::string_view s) {
  return !s.empty() && s.size() <= 128 && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_') &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// ClickHouse's exception code: the X-ClickHouse-Exception-Code header, else "Code: N." in the body.
int ExceptionCode(const HttpResponse& r) {
  std::string header = r.Header("x-clickhouse-exception-code");
  if (!header.empty()) return std::atoi(header.c_str());
  size_t at = r.body.find("Code: ");
  return at == std::string::npos ? 0 : std::atoi(r.body.c_str() + at + 6);
}

bool Retryable(const HttpResponse& r) {
  if (r.status == 502 || r.status == 503 || r.status == 504) return true;
  if (r.status < 400) return false;
  switch (ExceptionCode(r)) {
    case 159:  // TIMEOUT_EXCEEDED
    case 202:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case 209:  // SOCKET_TIMEOUT
    case 210:  // NETWORK_ERROR
    case 252:  // TOO_MANY_PARTS
    case 242:  // TABLE_IS_READ_ONLY (a replica catching up)
      return true;
    default:
      return false;
  }
}

// ClickHouse's message without the stack of "(version ...)" and trailing newlines.
std::string ServerMessage(const HttpResponse& r) {
  std::string m = r.body.substr(0, 2000);
  while (!m.empty() && (m.back() == '\n' || m.back() == '\r' || m.back() == ' ')) m.pop_back();
  return m.empty() ? fmt::format("HTTP {}", r.status) : m;
}

// A query parameter's value as ClickHouse reads it: in its escaped text form (a backslash, tab, newline,
// carriage return or NUL written as in TabSeparated), which the URL encoding then carries.
std::string EscapeParam(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// A row of the SELECT in Query(): the table's columns, times as unix nanoseconds in strings.
absl::StatusOr<Annotation> FromClickHouseRow(std::string_view line) {
  Annotation a;
  std::optional<std::string> trace_id, span_id;
  std::optional<std::string> log_ts, start, end, created, expires;
  std::optional<double> confidence;
  absl::Status s = ReadJsonObject(
      line, "a row of the annotations table",
      {{"annotation_id", StringInto(&a.annotation_id)},
       {"signal_type", StringInto(&a.signal_type)},
       {"trace_id", OptionalStringInto(&trace_id)},
       {"span_id", OptionalStringInto(&span_id)},
       {"metric_name", OptionalStringInto(&a.metric_name)},
       {"metric_labels", StringMapInto(&a.metric_labels)},
       {"log_ts", OptionalStringInto(&log_ts)},
       {"log_body_hash", OptionalStringInto(&a.log_body_hash)},
       {"start_ns", OptionalStringInto(&start)},
       {"end_ns", OptionalStringInto(&end)},
       {"service_name", OptionalStringInto(&a.service_name)},
       {"resource_attributes", StringMapInto(&a.resource_attributes)},
       {"annotation_type", StringInto(&a.annotation_type)},
       {"annotation_key", StringInto(&a.annotation_key)},
       {"annotation_value", StringInto(&a.annotation_value)},
       {"confidence", OptionalNumberInto(&confidence)},
       {"created_ns", OptionalStringInto(&created)},
       {"created_by", StringInto(&a.created_by)},
       {"session_id", OptionalStringInto(&a.session_id)},
       {"expires_ns", OptionalStringInto(&expires)},
       {"parent_annotation_id", OptionalStringInto(&a.parent_annotation_id)}});
  if (!s.ok()) return s;
  auto number = [](const std::optional<std::string>& text) -> std::optional<uint64_t> {
    if (!text || text->empty() || (*text)[0] == '-') return std::nullopt;
    return std::strtoull(text->c_str(), nullptr, 10);
  };
  a.trace_id = trace_id.value_or("");
  a.span_id = span_id.value_or("");
  a.log_timestamp_unix_nano = number(log_ts);
  a.time_range_start_unix_nano = number(start).value_or(0);
  a.time_range_end_unix_nano = number(end);
  a.created_at_unix_nano = number(created);
  a.expires_at_unix_nano = number(expires);
  if (confidence) a.confidence = static_cast<float>(*confidence);
  // The flags of a phase travel in its value (ToClickHouseRow).
  if (a.is_phase()) {
    simdjson::dom::parser parser;
    simdjson::dom::element value;
    simdjson::dom::array flags;
    if (!parser.parse(simdjson::padded_string(a.annotation_value)).get(value) && !value["flags"].get(flags)) {
      for (simdjson::dom::element f : flags) {
        std::string_view flag;
        if (!f.get(flag)) a.flags.emplace_back(flag);
      }
    }
  }
  return a;
}

constexpr std::string_view kSelectColumns =
    "annotation_id, signal_type, trace_id, span_id, metric_name, metric_labels, "
    "toString(toUnixTimestamp64Nano(log_timestamp)) AS log_ts, log_body_hash, "
    "toString(toUnixTimestamp64Nano(time_range_start)) AS start_ns, "
    "toString(toUnixTimestamp64Nano(time_range_end)) AS end_ns, service_name, resource_attributes, annotation_type, "
    "annotation_key, annotation_value, confidence, toString(toUnixTimestamp64Nano(created_at)) AS created_ns, "
    "created_by, session_id, toString(toUnixTimestamp64Nano(expires_at)) AS expires_ns, parent_annotation_id";

}  // namespace

absl::StatusOr<std::optional<ClickHouseConfig>> ClickHouseConfig::Resolve(std::string_view flag_url) {
  ClickHouseConfig c;
  c.url = std::string(flag_url);
  if (c.url.empty()) c.url = Env("CLICKHOUSE_URL");
  if (c.url.empty() && !Env("CLICKHOUSE_HOST").empty()) {
    std::string port = Env("CLICKHOUSE_PORT");
    c.url = fmt::format("http://{}:{}", Env("CLICKHOUSE_HOST"), port.empty() ? "8123" : port);
  }
  if (c.url.empty()) return std::nullopt;
  if (!Env("CLICKHOUSE_USER").empty()) c.user = Env("CLICKHOUSE_USER");
  c.password = Env("CLICKHOUSE_PASSWORD");
  if (!Env("CLICKHOUSE_DATABASE").empty()) c.database = Env("CLICKHOUSE_DATABASE");
  const size_t scheme_end = c.url.find("://");
  const std::string_view scheme = std::string_view(c.url).substr(0, scheme_end);
  if (scheme_end == std::string::npos || (scheme != "http" && scheme != "https") || c.url.size() == scheme_end + 3) {
    return absl::InvalidArgumentError(fmt::format(
        "ClickHouse URL '{}' is not http://HOST[:PORT] or https://HOST[:PORT] (ClickHouse's HTTP interface, "
        "port 8123 by default)",
        c.url));
  }
  // user:password@ in the URL, as clickhouse-client and most drivers accept it.
  std::string rest = c.url.substr(scheme_end + 3);
  const size_t path = rest.find('/');
  const size_t at = rest.substr(0, path).rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = rest.substr(0, at);
    const size_t colon = userinfo.find(':');
    c.user = userinfo.substr(0, colon);
    if (colon != std::string::npos) c.password = userinfo.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  if (path != std::string::npos && rest.find('/') != std::string::npos) {
    std::string_view tail = std::string_view(rest).substr(rest.find('/'));
    if (tail != "/") {
      return absl::InvalidArgumentError(fmt::format(
          "ClickHouse URL '{}' has a path: give http://HOST[:PORT], and the database in CLICKHOUSE_DATABASE", c.url));
    }
    rest = rest.substr(0, rest.find('/'));
  }
  c.url = fmt::format("{}://{}", scheme, rest);
  if (!IsIdentifier(c.database)) {
    return absl::InvalidArgumentError(fmt::format(
        "ClickHouse database '{}' is not a name (letters, digits and '_'; check CLICKHOUSE_DATABASE)", c.database));
  }
  return c;
}

std::string AnnotationsTableDdl(std::string_view table) {
  return fmt::format(R"(CREATE TABLE IF NOT EXISTS `{}` (
  annotation_id String DEFAULT generateUUIDv4(),
  signal_type LowCardinality(String),
  trace_id Nullable(String),
  span_id Nullable(String),
  metric_name Nullable(String),
  metric_labels Map(LowCardinality(String), String),
  log_timestamp Nullable(DateTime64(9)),
  log_body_hash Nullable(String),
  time_range_start DateTime64(9),
  time_range_end Nullable(DateTime64(9)),
  service_name Nullable(String),
  resource_attributes Map(LowCardinality(String), String),
  annotation_type LowCardinality(String),
  annotation_key String,
  annotation_value String,
  confidence Nullable(Float32),
  created_at DateTime64(3) DEFAULT now64(3),
  created_by String,
  session_id Nullable(String),
  expires_at Nullable(DateTime64(3)),
  parent_annotation_id Nullable(String),
  CONSTRAINT valid_signal_type CHECK signal_type IN ('trace', 'metric', 'log', 'any'),
  CONSTRAINT valid_annotation_type CHECK annotation_type IN ('test', 'diag', 'human', 'llm', 'meta', 'train'),
  CONSTRAINT key_has_type_prefix CHECK startsWith(annotation_key, concat(annotation_type, '.')),
  CONSTRAINT valid_confidence CHECK confidence IS NULL OR (confidence >= 0 AND confidence <= 1)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time_range_start)
ORDER BY (signal_type, annotation_type, time_range_start, annotation_id))",
                     table);
}

std::string ToClickHouseRow(const Annotation& a) {
  JsonWriter w;
  auto map = [&w](std::string_view key, const StringMap& m) {
    w.Key(key);
    w.BeginObject();
    for (const auto& [k, v] : m) w.Field(k, v);
    w.EndObject();
  };
  auto text = [&w](std::string_view key, const std::optional<std::string>& v) {
    if (v) w.Field(key, *v);
  };
  w.BeginObject();
  w.Field("annotation_id", a.annotation_id);
  w.Field("signal_type", a.signal_type);
  if (!a.trace_id.empty()) w.Field("trace_id", a.trace_id);
  if (!a.span_id.empty()) w.Field("span_id", a.span_id);
  text("metric_name", a.metric_name);
  map("metric_labels", a.metric_labels);
  if (a.log_timestamp_unix_nano) w.Field("log_timestamp", session::FormatRfc3339Nanos(*a.log_timestamp_unix_nano));
  text("log_body_hash", a.log_body_hash);
  w.Field("time_range_start", session::FormatRfc3339Nanos(a.time_range_start_unix_nano));
  if (a.time_range_end_unix_nano) w.Field("time_range_end", session::FormatRfc3339Nanos(*a.time_range_end_unix_nano));
  text("service_name", a.service_name);
  map("resource_attributes", a.resource_attributes);
  w.Field("annotation_type", a.annotation_type);
  w.Field("annotation_key", a.annotation_key);
  w.Field("annotation_value", a.annotation_value);
  if (a.confidence) w.Field("confidence", static_cast<double>(*a.confidence));
  if (a.created_at_unix_nano) w.Field("created_at", session::FormatRfc3339Millis(*a.created_at_unix_nano));
  w.Field("created_by", a.created_by);
  text("session_id", a.session_id);
  if (a.expires_at_unix_nano) w.Field("expires_at", session::FormatRfc3339Millis(*a.expires_at_unix_nano));
  text("parent_annotation_id", a.parent_annotation_id);
  w.EndObject();
  return w.Take();
}

ClickHouseSink::ClickHouseSink(ClickHouseConfig config, HttpClientOptions options)
    : config_(std::move(config)), client_([&] {
        if (options.trace_env.empty()) options.trace_env = "OTELRR_CLICKHOUSE_TRACE";
        if (options.ca_file.empty()) options.ca_file = Env("CLICKHOUSE_CA_FILE");
        return options;
      }()) {}

std::string ClickHouseSink::Describe() const {
  return fmt::format("{} (database {}, table {})", config_.url, config_.database, config_.table);
}

absl::Status ClickHouseSink::ErrorOf(const HttpResponse& r) const {
  const int code = ExceptionCode(r);
  const std::string message = ServerMessage(r);
  if (r.status == 401 || r.status == 403 || code == 516 || code == 192 || code == 193 || code == 497) {
    return absl::PermissionDeniedError(fmt::format(
        "ClickHouse at {} refused user '{}': {} (check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD, and the user's "
        "grants)",
        config_.url, config_.user, message));
  }
  if (code == 60) {
    return absl::FailedPreconditionError(fmt::format(
        "ClickHouse has no table {}.{}: run `otelrr annotations init` to create it ({})", config_.database,
        config_.table, message));
  }
  if (code == 81) {
    return absl::FailedPreconditionError(fmt::format(
        "ClickHouse has no database '{}': create it, or check CLICKHOUSE_DATABASE ({})", config_.database,
        message));
  }
  if (Retryable(r)) {
    return absl::UnavailableError(fmt::format("ClickHouse at {} stayed busy: {}", config_.url, message));
  }
  if (code == 469 || code == 27 || code == 26 || code == 6 || code == 72 || code == 41 || code == 117 || code == 53) {
    return absl::InvalidArgumentError(fmt::format("ClickHouse refused the rows: {}", message));
  }
  return absl::InternalError(fmt::format("ClickHouse at {} answered: {}", config_.url, message));
}

absl::StatusOr<std::string> ClickHouseSink::Execute(std::string_view sql,
                                                    std::span<const std::pair<std::string, std::string>> params,
                                                    std::string_view body) {
  // The statement: in the body when there is no data, else in the URL (the body is the data).
  std::string url = fmt::format("{}/?database={}&date_time_input_format=best_effort&output_format_json_quote_64bit_integers=1",
                                config_.url, UrlEncode(config_.database));
  for (const auto& [name, value] : params) url += fmt::format("&param_{}={}", UrlEncode(name), UrlEncode(EscapeParam(value)));
  std::string statement;
  if (body.empty()) {
    statement = std::string(sql);
    body = statement;
  } else {
    url += fmt::format("&query={}", UrlEncode(sql));
  }
  HttpRequest request{.method = "POST",
                      .url = url,
                      .headers = {{"Content-Type", "text/plain; charset=utf-8"}},
                      .body = body,
                      .user = config_.user,
                      .password = config_.password};
  absl::StatusOr<HttpResponse> r = client_.Send(request, Retryable);
  if (absl::IsFailedPrecondition(r.status())) {
    return absl::FailedPreconditionError(fmt::format(
        "ClickHouse at {} is not trusted: {} (give its CA certificate in CLICKHOUSE_CA_FILE)", config_.url,
        r.status().message()));
  }
  if (!r.ok()) {
    return absl::UnavailableError(fmt::format(
        "cannot reach ClickHouse at {}: {} (check --clickhouse or CLICKHOUSE_URL, and that the server runs)",
        config_.url, r.status().message()));
  }
  if (r->status != 200) return ErrorOf(*r);
  return std::move(r->body);
}

absl::Status ClickHouseSink::Init() {
  absl::StatusOr<std::string> r = Execute(AnnotationsTableDdl(config_.table));
  return Prefixed(r.status(), "creating the annotations table");
}

absl::Status ClickHouseSink::Insert(std::span<const Annotation> annotations) {
  const std::string sql = fmt::format("INSERT INTO `{}` FORMAT JSONEachRow", config_.table);
  for (size_t begin = 0; begin < annotations.size(); begin += kBatchRows) {
    std::string rows;
    for (size_t i = begin; i < std::min(annotations.size(), begin + kBatchRows); ++i) {
      rows += ToClickHouseRow(annotations[i]);
      rows += '\n';
    }
    if (absl::StatusOr<std::string> r = Execute(sql, {}, rows); !r.ok()) {
      return Prefixed(r.status(), fmt::format("writing {} annotations to ClickHouse", annotations.size()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Annotation>> ClickHouseSink::Query(std::string_view session_id, std::string_view key_prefix) {
  const std::pair<std::string, std::string> params[] = {{"sid", std::string(session_id)},
                                                        {"prefix", std::string(key_prefix)}};
  absl::StatusOr<std::string> body = Execute(
      fmt::format("SELECT {} FROM `{}` WHERE session_id = {{sid:String}} AND startsWith(annotation_key, "
                  "{{prefix:String}}) ORDER BY time_range_start, annotation_id FORMAT JSONEachRow",
                  kSelectColumns, config_.table),
      params);
  if (!body.ok()) return Prefixed(body.status(), fmt::format("reading the annotations of session {}", session_id));
  std::vector<Annotation> out;
  std::string_view text = *body;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.empty()) continue;
    absl::StatusOr<Annotation> a = FromClickHouseRow(line);
    if (!a.ok()) return Prefixed(a.status(), "ClickHouse's answer");
    out.push_back(*std::move(a));
  }
  return out;
}

absl::StatusOr<absl::flat_hash_set<std::string>> ClickHouseSink::Ids(std::string_view session_id) {
  const std::pair<std::string, std::string> params[] = {{"sid", std::string(session_id)}};
  absl::StatusOr<std::string> body = Execute(
      fmt::format("SELECT annotation_id FROM `{}` WHERE session_id = {{sid:String}} FORMAT TabSeparatedRaw",
                  config_.table),
      params);
  if (!body.ok()) return Prefixed(body.status(), fmt::format("reading the annotation ids of session {}", session_id));
  absl::flat_hash_set<std::string> ids;
  std::string_view text = *body;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    if (end > 0) ids.emplace(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return ids;
}

}  // namespace otelrr::annotate
