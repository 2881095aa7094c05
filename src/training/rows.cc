#include "training/rows.h"

#include <array>

#include "common/json_writer.h"
#include "fmt/format.h"

namespace otelrr::training {
namespace {

constexpr std::string_view kSpanColumns[] = {
    "trace_id",        "span_id",        "parent_span_id",  "service_name",         "span_name",
    "span_kind",       "start_time_unix_nano", "end_time_unix_nano", "duration_ns", "status_code",
    "status_message",  "http_method",    "http_route",      "http_status_code",     "rpc_system",
    "rpc_service",     "rpc_method",     "rpc_grpc_status_code", "db_system",       "db_statement",
    "error",           "attributes",     "phase",           "anomaly",
};
constexpr std::string_view kPointColumns[] = {
    "metric_name", "metric_type", "unit",  "service_name", "start_time_unix_nano", "time_unix_nano", "value",
    "count",       "sum",         "temporality", "monotonic", "attributes", "phase", "anomaly",
};
constexpr std::string_view kLogColumns[] = {
    "label_time_unix_nano", "time_unix_nano", "observed_time_unix_nano", "severity_number", "severity_text", "body",
    "service_name", "trace_id", "span_id", "attributes", "phase", "anomaly",
};

std::string_view SpanKindName(int32_t kind) {
  switch (kind) {
    case 0: return "unspecified";
    case 1: return "internal";
    case 2: return "server";
    case 3: return "client";
    case 4: return "producer";
    case 5: return "consumer";
    default: return {};
  }
}

std::string_view StatusCodeName(int32_t code) {
  switch (code) {
    case 0: return "unset";
    case 1: return "ok";
    case 2: return "error";
    default: return {};
  }
}

std::string_view TemporalityName(int32_t t) {
  switch (t) {
    case 1: return "delta";
    case 2: return "cumulative";
    default: return {};
  }
}

// What a byte asks of a CSV field: quoting (a comma, CR, LF), quoting and doubling (the quote), or a
// check of its UTF-8 (bytes from 0x80).
enum CsvByte : uint8_t { kPlainByte = 0, kQuoteField = 1, kDoubleQuote = 2, kNonAscii = 4 };
constexpr std::array<uint8_t, 256> kCsvBytes = [] {
  std::array<uint8_t, 256> t{};
  t[','] = t['\r'] = t['\n'] = kQuoteField;
  t['"'] = kQuoteField | kDoubleQuote;
  for (size_t c = 0x80; c < 256; ++c) t[c] = kNonAscii;
  return t;
}();

}  // namespace

absl::StatusOr<Format> ParseFormat(std::string_view name) {
  if (name == "jsonl") return Format::kJsonl;
  if (name == "csv") return Format::kCsv;
  return absl::InvalidArgumentError(fmt::format("format '{}': use jsonl (JSON Lines) or csv", name));
}

std::string_view FormatName(Format format) { return format == Format::kCsv ? "csv" : "jsonl"; }

std::string_view RowFileStem(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces: return "spans";
    case otlp::Signal::kMetrics: return "metrics";
    case otlp::Signal::kLogs: return "logs";
  }
  return "unknown";
}

std::span<const std::string_view> SpanColumnNames() { return kSpanColumns; }
std::span<const std::string_view> PointColumnNames() { return kPointColumns; }
std::span<const std::string_view> LogColumnNames() { return kLogColumns; }
std::span<const std::string_view> ColumnNames(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces: return kSpanColumns;
    case otlp::Signal::kMetrics: return kPointColumns;
    case otlp::Signal::kLogs: return kLogColumns;
  }
  return {};
}

void AppendCsvField(std::string_view text, std::string* out) {
  uint8_t kinds = kPlainByte;
  for (char c : text) kinds |= kCsvBytes[static_cast<unsigned char>(c)];
  if (kinds == kPlainByte) {
    out->append(text);
    return;
  }
  const bool quote = (kinds & kQuoteField) != 0;
  if (quote) out->push_back('"');
  if ((kinds & kNonAscii) == 0) {
    // ASCII: copy between the quotes, each doubled.
    size_t i = 0;
    while (true) {
      const size_t q = (kinds & kDoubleQuote) != 0 ? text.find('"', i) : std::string_view::npos;
      if (q == std::string_view::npos) {
        out->append(text.data() + i, text.size() - i);
        break;
      }
      out->append(text.data() + i, q + 1 - i);
      out->push_back('"');
      i = q + 1;
    }
  } else {
    size_t i = 0;
    while (i < text.size()) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x80) {
        if (c == '"') out->push_back('"');
        out->push_back(static_cast<char>(c));
        ++i;
        continue;
      }
      const size_t len = JsonWriter::Utf8SequenceLength(text, i);
      if (len == 0) {
        out->append("\xef\xbf\xbd");  // U+FFFD
        ++i;
      } else {
        out->append(text.data() + i, len);
        i += len;
      }
    }
  }
  if (quote) out->push_back('"');
}

void RowFormatter::Header(otlp::Signal signal, std::string* out) const {
  if (format_ != Format::kCsv) return;
  bool first = true;
  for (std::string_view name : ColumnNames(signal)) {
    if (!first) out->push_back(',');
    first = false;
    out->append(name);
  }
  out->push_back('\n');
}

RowFormatter::RowFormatter(Format format) : format_(format) {
  for (otlp::Signal signal : otlp::kSignals) {
    bool first = true;
    for (std::string_view name : ColumnNames(signal)) {
      std::string prefix = first ? "" : ",";
      if (format_ == Format::kJsonl) prefix += fmt::format("\"{}\":", name);  // column names are plain ASCII
      prefixes_[signal].push_back(std::move(prefix));
      first = false;
    }
  }
}

void RowFormatter::Begin(otlp::Signal signal, std::string* out) {
  out_ = out;
  row_prefixes_ = &prefixes_[signal];
  column_ = 0;
  if (format_ == Format::kJsonl) out_->push_back('{');
}

void RowFormatter::End() {
  out_->append(format_ == Format::kJsonl ? "}\n" : "\n");
}

void RowFormatter::Name(std::string_view) { out_->append((*row_prefixes_)[column_++]); }

void RowFormatter::Text(std::string_view name, std::string_view value) {
  Name(name);
  if (format_ == Format::kJsonl) {
    JsonWriter::AppendQuoted(out_, value);
  } else {
    AppendCsvField(value, out_);
  }
}

void RowFormatter::Hex(std::string_view name, std::string_view bytes) {
  if (bytes.empty()) return Null(name);
  Name(name);
  if (format_ == Format::kJsonl) out_->push_back('"');
  AppendHex(bytes, out_);
  if (format_ == Format::kJsonl) out_->push_back('"');
}

void RowFormatter::Uint(std::string_view name, uint64_t value) {
  Name(name);
  const fmt::format_int text(value);
  out_->append(text.data(), text.size());
}

void RowFormatter::Int(std::string_view name, int64_t value) {
  Name(name);
  const fmt::format_int text(value);
  out_->append(text.data(), text.size());
}

void RowFormatter::Double(std::string_view name, double value) {
  Name(name);
  // JSON Lines: NaN and infinities as the strings "NaN", "Infinity", "-Infinity" (valid JSON); CSV: the
  // same text unquoted, which pandas and polars read as floats.
  scratch_.clear();
  JsonWriter::AppendDouble(&scratch_, value);
  if (format_ == Format::kCsv && scratch_.front() == '"') {
    out_->append(scratch_, 1, scratch_.size() - 2);
  } else {
    out_->append(scratch_);
  }
}

void RowFormatter::Bool(std::string_view name, bool value) {
  Name(name);
  out_->append(value ? "true" : "false");
}

void RowFormatter::Null(std::string_view name) {
  Name(name);
  if (format_ == Format::kJsonl) out_->append("null");
}

void RowFormatter::Any(std::string_view name, std::string_view any_value) {
  if (any_value.empty()) return Null(name);
  std::string_view text;
  if (AnyValueString(any_value, &text)) return Text(name, text);
  scratch_.clear();
  AppendAnyValueJson(any_value, &scratch_);
  Json(name, scratch_);
}

void RowFormatter::Json(std::string_view name, std::string_view json) {
  if (format_ == Format::kJsonl) {
    Name(name);
    out_->append(json);
  } else if (json == "null") {
    Null(name);
  } else {
    Text(name, json);
  }
}

void RowFormatter::Attributes(const std::vector<AttributeView>* attributes) {
  scratch_.clear();
  if (attributes != nullptr) {
    AppendAttributesJson(*attributes, &scratch_);
  } else {
    scratch_ = "{}";
  }
  Json("attributes", scratch_);
}

void RowFormatter::Span(const SpanView& s, const Labels& labels, std::string* out) {
  Begin(otlp::Signal::kTraces, out);
  Hex("trace_id", s.trace_id);
  Hex("span_id", s.span_id);
  Hex("parent_span_id", s.parent_span_id);
  Text("service_name", s.service_name);
  Text("span_name", s.name);
  if (std::string_view kind = SpanKindName(s.kind); !kind.empty()) {
    Text("span_kind", kind);
  } else {
    Text("span_kind", fmt::format_int(s.kind).c_str());
  }
  Uint("start_time_unix_nano", s.start_time_unix_nano);
  Uint("end_time_unix_nano", s.end_time_unix_nano);
  if (s.start_time_unix_nano != 0 && s.end_time_unix_nano != 0) {
    Int("duration_ns", static_cast<int64_t>(s.end_time_unix_nano - s.start_time_unix_nano));
  } else {
    Null("duration_ns");
  }
  if (std::string_view code = StatusCodeName(s.status_code); !code.empty()) {
    Text("status_code", code);
  } else {
    Text("status_code", fmt::format_int(s.status_code).c_str());
  }
  Text("status_message", s.status_message);
  const SpanColumns& c = s.columns;
  Any("http_method", c.http_method);
  Any("http_route", c.http_route);
  Any("http_status_code", c.http_status_code);
  Any("rpc_system", c.rpc_system);
  Any("rpc_service", c.rpc_service);
  Any("rpc_method", c.rpc_method);
  Any("rpc_grpc_status_code", c.rpc_grpc_status_code);
  Any("db_system", c.db_system);
  Any("db_statement", c.db_statement);
  Bool("error", s.status_code == 2);
  Attributes(s.attributes);
  Text("phase", labels.phase);
  Text("anomaly", labels.anomaly);
  End();
}

void RowFormatter::Point(const PointView& p, const Labels& labels, std::string* out) {
  Begin(otlp::Signal::kMetrics, out);
  Text("metric_name", p.metric_name);
  Text("metric_type", MetricTypeName(p.type));
  Text("unit", p.unit);
  Text("service_name", p.service_name);
  Uint("start_time_unix_nano", p.start_time_unix_nano);
  Uint("time_unix_nano", p.time_unix_nano);
  if (p.has_int) {
    Int("value", p.as_int);
  } else if (p.has_double) {
    Double("value", p.as_double);
  } else {
    Null("value");
  }
  const bool counted = p.type != MetricType::kGauge && p.type != MetricType::kSum;
  if (counted) {
    Uint("count", p.count);
  } else {
    Null("count");
  }
  if (counted && p.has_sum) {
    Double("sum", p.sum);
  } else {
    Null("sum");
  }
  if (std::string_view t = TemporalityName(p.temporality); !t.empty()) {
    Text("temporality", t);
  } else {
    Null("temporality");
  }
  if (p.type == MetricType::kSum) {
    Bool("monotonic", p.monotonic);
  } else {
    Null("monotonic");
  }
  Attributes(p.attributes);
  Text("phase", labels.phase);
  Text("anomaly", labels.anomaly);
  End();
}

void RowFormatter::Log(const LogView& l, const Labels& labels, std::string* out) {
  Begin(otlp::Signal::kLogs, out);
  Uint("label_time_unix_nano", ItemTime(l));
  Uint("time_unix_nano", l.time_unix_nano);
  Uint("observed_time_unix_nano", l.observed_time_unix_nano);
  Int("severity_number", l.severity_number);
  Text("severity_text", l.severity_text);
  Any("body", l.body);
  Text("service_name", l.service_name);
  Hex("trace_id", l.trace_id);
  Hex("span_id", l.span_id);
  Attributes(l.attributes);
  Text("phase", labels.phase);
  Text("anomaly", labels.anomaly);
  End();
}

}  // namespace otelrr::training
