#include "training/items.h"

#include <bit>

#include "common/json_writer.h"
#include "fmt/format.h"
#include "otlp/field_reader.h"
#include "otlp/wire.h"

namespace otelrr::training {
namespace {

using otlp::FieldReader;
using otlp::RawField;
using otlp::WireType;

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

absl::Status Malformed(std::string_view signal, std::string_view message) {
  return absl::DataLossError(fmt::format("the {} request is not well-formed protobuf: malformed bytes inside a {}",
                                         signal, message));
}

// Field numbers shared by the three signals: Resource{Spans,Metrics,Logs}.resource = 1 and
// .scope_{spans,metrics,logs} = 2; Scope{Spans,Metrics,Logs}.{spans,metrics,log_records} = 2;
// Resource.attributes = 1; KeyValue.key = 1, .value = 2.
constexpr uint32_t kResourceField = 1;
constexpr uint32_t kScopeEntriesField = 2;
constexpr uint32_t kItemsField = 2;

// Reads a KeyValue; false when malformed.
bool ReadKeyValue(std::string_view bytes, AttributeView* out) {
  FieldReader fields(bytes);
  RawField f;
  *out = {};
  while (fields.Next(&f)) {
    if (f.Is(1, WireType::kLen)) out->key = f.value;
    if (f.Is(2, WireType::kLen)) out->value = f.value;
  }
  return !fields.malformed();
}

// The service.name of the resources given (parts of one resource, merged: the last value wins).
bool ServiceName(const std::vector<std::string_view>& resources, std::string_view* out) {
  *out = {};
  for (std::string_view resource : resources) {
    FieldReader fields(resource);
    RawField f;
    while (fields.Next(&f)) {
      if (!f.Is(1, WireType::kLen)) continue;
      AttributeView kv;
      if (!ReadKeyValue(f.value, &kv)) return false;
      if (kv.key != "service.name") continue;
      std::string_view name;
      *out = AnyValueString(kv.value, &name) ? name : std::string_view();
    }
    if (fields.malformed()) return false;
  }
  return true;
}

// Reads attributes (KeyValue messages) into `out`; false when malformed.
bool AddAttribute(std::string_view bytes, std::vector<AttributeView>* out) {
  AttributeView kv;
  if (!ReadKeyValue(bytes, &kv)) return false;
  out->push_back(kv);
  return true;
}

void SetColumn(const AttributeView& a, SpanColumns* c, uint32_t* preferred) {
  // `preferred` has a bit per column that holds the newest semantic-convention name already, which an
  // older name must not overwrite.
  auto set = [&](std::string_view* column, uint32_t bit, bool newest) {
    if (newest) {
      *column = a.value;
      *preferred |= bit;
    } else if ((*preferred & bit) == 0) {
      *column = a.value;
    }
  };
  const std::string_view k = a.key;
  if (k.size() < 6) return;
  switch (k[0]) {
    case 'h':
      if (k == "http.request.method") set(&c->http_method, 1, true);
      else if (k == "http.method") set(&c->http_method, 1, false);
      else if (k == "http.route") set(&c->http_route, 2, true);
      else if (k == "http.response.status_code") set(&c->http_status_code, 4, true);
      else if (k == "http.status_code") set(&c->http_status_code, 4, false);
      break;
    case 'r':
      if (k == "rpc.system") set(&c->rpc_system, 8, true);
      else if (k == "rpc.service") set(&c->rpc_service, 16, true);
      else if (k == "rpc.method") set(&c->rpc_method, 32, true);
      else if (k == "rpc.grpc.status_code") set(&c->rpc_grpc_status_code, 64, true);
      break;
    case 'd':
      if (k == "db.system.name") set(&c->db_system, 128, true);
      else if (k == "db.system") set(&c->db_system, 128, false);
      else if (k == "db.query.text") set(&c->db_statement, 256, true);
      else if (k == "db.statement") set(&c->db_statement, 256, false);
      break;
    default:
      break;
  }
}

// The pieces of a Resource{Spans,Metrics,Logs}: its resource parts and its scope entries.
bool SplitResourceEntry(std::string_view entry, std::vector<std::string_view>* resources,
                        std::vector<std::string_view>* scopes) {
  resources->clear();
  scopes->clear();
  FieldReader fields(entry);
  RawField f;
  while (fields.Next(&f)) {
    if (f.Is(kResourceField, WireType::kLen)) resources->push_back(f.value);
    if (f.Is(kScopeEntriesField, WireType::kLen)) scopes->push_back(f.value);
  }
  return !fields.malformed();
}

void AppendBase64(std::string_view bytes, std::string* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = uint32_t{p[i]} << 16 | uint32_t{p[i + 1]} << 8 | p[i + 2];
    const char quad[4] = {kBase64Alphabet[v >> 18], kBase64Alphabet[(v >> 12) & 63], kBase64Alphabet[(v >> 6) & 63],
                          kBase64Alphabet[v & 63]};
    out->append(quad, 4);
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    const char quad[4] = {kBase64Alphabet[v >> 18], kBase64Alphabet[(v >> 12) & 63], '=', '='};
    out->append(quad, 4);
  } else if (n - i == 2) {
    const uint32_t v = uint32_t{p[i]} << 16 | uint32_t{p[i + 1]} << 8;
    const char quad[4] = {kBase64Alphabet[v >> 18], kBase64Alphabet[(v >> 12) & 63], kBase64Alphabet[(v >> 6) & 63],
                          '='};
    out->append(quad, 4);
  }
}

void AppendAnyValue(std::string_view any_value, std::string* out, int depth);

void AppendKeyValueListJson(std::string_view list, std::string* out, int depth) {
  out->push_back('{');
  bool first = true;
  FieldReader fields(list);
  RawField f;
  while (fields.Next(&f)) {
    if (!f.Is(1, WireType::kLen)) continue;
    AttributeView kv;
    if (!ReadKeyValue(f.value, &kv)) continue;
    if (!first) out->push_back(',');
    first = false;
    JsonWriter::AppendQuoted(out, kv.key);
    out->push_back(':');
    AppendAnyValue(kv.value, out, depth + 1);
  }
  out->push_back('}');
}

void AppendAnyValue(std::string_view any_value, std::string* out, int depth) {
  if (depth > otlp::kMaxNestingDepth) {
    out->append("null");
    return;
  }
  // The oneof member set last wins.
  RawField last;
  bool set = false;
  FieldReader fields(any_value);
  RawField f;
  while (fields.Next(&f)) {
    if (f.number >= 1 && f.number <= 7) {
      last = f;
      set = true;
    }
  }
  if (!set || fields.malformed()) {
    out->append("null");
    return;
  }
  switch (last.number) {
    case 1:
      if (last.wire == WireType::kLen) return JsonWriter::AppendQuoted(out, last.value);
      break;
    case 2:
      if (last.wire == WireType::kVarint) {
        out->append(last.varint != 0 ? "true" : "false");
        return;
      }
      break;
    case 3:
      if (last.wire == WireType::kVarint) {
        out->append(fmt::format_int(static_cast<int64_t>(last.varint)).c_str());
        return;
      }
      break;
    case 4:
      if (last.wire == WireType::kFixed64) return JsonWriter::AppendDouble(out, last.as_double());
      break;
    case 5:
      if (last.wire == WireType::kLen) {
        out->push_back('[');
        bool first = true;
        FieldReader values(last.value);
        RawField v;
        while (values.Next(&v)) {
          if (!v.Is(1, WireType::kLen)) continue;
          if (!first) out->push_back(',');
          first = false;
          AppendAnyValue(v.value, out, depth + 1);
        }
        out->push_back(']');
        return;
      }
      break;
    case 6:
      if (last.wire == WireType::kLen) return AppendKeyValueListJson(last.value, out, depth);
      break;
    case 7:
      if (last.wire == WireType::kLen) {
        out->push_back('"');
        AppendBase64(last.value, out);
        out->push_back('"');
        return;
      }
      break;
    default:
      break;
  }
  out->append("null");
}

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kGauge: return "gauge";
    case MetricType::kSum: return "sum";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kExponentialHistogram: return "exponential_histogram";
    case MetricType::kSummary: return "summary";
  }
  return "unknown";
}

bool AnyValueString(std::string_view any_value, std::string_view* out) {
  FieldReader fields(any_value);
  RawField f;
  bool is_string = false;
  while (fields.Next(&f)) {
    if (f.number < 1 || f.number > 7) continue;
    is_string = f.Is(1, WireType::kLen);
    if (is_string) *out = f.value;
  }
  return is_string && !fields.malformed();
}

void AppendAnyValueJson(std::string_view any_value, std::string* out) { AppendAnyValue(any_value, out, 0); }

void AppendAttributesJson(const std::vector<AttributeView>& attributes, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const AttributeView& a : attributes) {
    if (!first) out->push_back(',');
    first = false;
    JsonWriter::AppendQuoted(out, a.key);
    out->push_back(':');
    AppendAnyValue(a.value, out, 1);
  }
  out->push_back('}');
}

void AppendHex(std::string_view bytes, std::string* out) {
  const size_t at = out->size();
  out->resize(at + 2 * bytes.size());
  char* p = out->data() + at;
  for (unsigned char c : bytes) {
    *p++ = kHexDigits[c >> 4];
    *p++ = kHexDigits[c & 15];
  }
}

absl::Status ItemWalker::Walk(otlp::Signal signal, std::string_view request, const ItemCallbacks& callbacks) {
  switch (signal) {
    case otlp::Signal::kTraces: return WalkSpans(request, callbacks);
    case otlp::Signal::kMetrics: return WalkMetrics(request, callbacks);
    case otlp::Signal::kLogs: return WalkLogs(request, callbacks);
  }
  return absl::InvalidArgumentError("unknown signal");
}

absl::Status ItemWalker::WalkSpans(std::string_view request, const ItemCallbacks& cb) {
  std::vector<std::string_view> resources, scopes;
  FieldReader entries(request);
  RawField entry;
  while (entries.Next(&entry)) {
    if (!entry.Is(1, WireType::kLen)) continue;  // ExportTraceServiceRequest.resource_spans
    if (!SplitResourceEntry(entry.value, &resources, &scopes)) return Malformed("traces", "ResourceSpans");
    SpanView span;
    if (!cb.times_only && !ServiceName(resources, &span.service_name)) return Malformed("traces", "Resource");
    const std::string_view service = span.service_name;
    for (std::string_view scope : scopes) {
      FieldReader items(scope);
      RawField item;
      while (items.Next(&item)) {
        if (!item.Is(kItemsField, WireType::kLen)) continue;
        span = SpanView{.service_name = service};
        attributes_.clear();
        uint32_t preferred = 0;
        FieldReader fields(item.value);
        RawField f;
        while (fields.Next(&f)) {
          switch (f.number) {
            case 7:
              if (f.wire == WireType::kFixed64) span.start_time_unix_nano = f.fixed64();
              break;
            case 8:
              if (f.wire == WireType::kFixed64) span.end_time_unix_nano = f.fixed64();
              break;
            default:
              break;
          }
          if (cb.times_only) continue;
          switch (f.number) {
            case 1:
              if (f.wire == WireType::kLen) span.trace_id = f.value;
              break;
            case 2:
              if (f.wire == WireType::kLen) span.span_id = f.value;
              break;
            case 4:
              if (f.wire == WireType::kLen) span.parent_span_id = f.value;
              break;
            case 5:
              if (f.wire == WireType::kLen) span.name = f.value;
              break;
            case 6:
              if (f.wire == WireType::kVarint) span.kind = static_cast<int32_t>(f.varint);
              break;
            case 9:
              if (f.wire == WireType::kLen) {
                if (!AddAttribute(f.value, &attributes_)) return Malformed("traces", "span attribute");
                SetColumn(attributes_.back(), &span.columns, &preferred);
              }
              break;
            case 15:
              if (f.wire == WireType::kLen) {
                FieldReader status(f.value);
                RawField s;
                while (status.Next(&s)) {
                  if (s.Is(2, WireType::kLen)) span.status_message = s.value;
                  if (s.Is(3, WireType::kVarint)) span.status_code = static_cast<int32_t>(s.varint);
                }
                if (status.malformed()) return Malformed("traces", "span status");
              }
              break;
            default:
              break;
          }
        }
        if (fields.malformed()) return Malformed("traces", "Span");
        span.attributes = &attributes_;
        if (cb.span) cb.span(span);
      }
      if (items.malformed()) return Malformed("traces", "ScopeSpans");
    }
  }
  if (entries.malformed()) return Malformed("traces", "ExportTraceServiceRequest");
  return absl::OkStatus();
}

absl::Status ItemWalker::WalkMetrics(std::string_view request, const ItemCallbacks& cb) {
  std::vector<std::string_view> resources, scopes;
  FieldReader entries(request);
  RawField entry;
  while (entries.Next(&entry)) {
    if (!entry.Is(1, WireType::kLen)) continue;  // ExportMetricsServiceRequest.resource_metrics
    if (!SplitResourceEntry(entry.value, &resources, &scopes)) return Malformed("metrics", "ResourceMetrics");
    std::string_view service;
    if (!cb.times_only && !ServiceName(resources, &service)) return Malformed("metrics", "Resource");
    for (std::string_view scope : scopes) {
      FieldReader metrics(scope);
      RawField metric;
      while (metrics.Next(&metric)) {
        if (!metric.Is(kItemsField, WireType::kLen)) continue;
        // Metric: 1 name, 3 unit; its data (5 gauge, 7 sum, 9 histogram, 10 exponential histogram, 11 summary)
        // may come before or after them on the wire.
        PointView base{.service_name = service};
        metric_data_.clear();
        FieldReader fields(metric.value);
        RawField f;
        while (fields.Next(&f)) {
          if (f.wire != WireType::kLen) continue;
          MetricType type;
          switch (f.number) {
            case 1: base.metric_name = f.value; continue;
            case 3: base.unit = f.value; continue;
            case 5: type = MetricType::kGauge; break;
            case 7: type = MetricType::kSum; break;
            case 9: type = MetricType::kHistogram; break;
            case 10: type = MetricType::kExponentialHistogram; break;
            case 11: type = MetricType::kSummary; break;
            default: continue;
          }
          // One data field is valid OTLP (a oneof); the points of every one given are rows, as they are
          // items when the session counts them.
          metric_data_.push_back({type, f.value});
        }
        if (fields.malformed()) return Malformed("metrics", "Metric");
        for (const MetricData& data : metric_data_) {
          const MetricType type = data.type;
          PointView kind = base;
          kind.type = type;
          // The container: 1 data_points; sums 2 aggregation_temporality, 3 is_monotonic; histograms 2.
          FieldReader container(data.bytes);
          RawField c;
          while (container.Next(&c)) {
            if (c.Is(2, WireType::kVarint) && type != MetricType::kGauge && type != MetricType::kSummary) {
              kind.temporality = static_cast<int32_t>(c.varint);
            }
            if (c.Is(3, WireType::kVarint) && type == MetricType::kSum) kind.monotonic = c.varint != 0;
          }
          if (container.malformed()) return Malformed("metrics", "metric's data");
          // Data point fields: 2 start, 3 time everywhere; attributes 7 (number, summary), 9 (histogram),
          // 1 (exponential histogram); number values 4 as_double, 6 as_int; others 4 count, 5 sum.
          const uint32_t attributes_field = type == MetricType::kHistogram              ? 9
                                            : type == MetricType::kExponentialHistogram ? 1
                                                                                        : 7;
          const bool number = type == MetricType::kGauge || type == MetricType::kSum;
          FieldReader points(data.bytes);
          RawField point;
          while (points.Next(&point)) {
            if (!point.Is(1, WireType::kLen)) continue;
            PointView p = kind;
            attributes_.clear();
            FieldReader pf(point.value);
            RawField v;
            while (pf.Next(&v)) {
              if (v.wire == WireType::kFixed64) {
                switch (v.number) {
                  case 2: p.start_time_unix_nano = v.fixed64(); break;
                  case 3: p.time_unix_nano = v.fixed64(); break;
                  case 4:
                    if (number) {
                      p.has_double = true;
                      p.has_int = false;
                      p.as_double = v.as_double();
                    } else {
                      p.count = v.fixed64();
                    }
                    break;
                  case 5:
                    if (!number) {
                      p.has_sum = true;
                      p.sum = v.as_double();
                    }
                    break;
                  case 6:
                    if (number) {
                      p.has_int = true;
                      p.has_double = false;
                      p.as_int = static_cast<int64_t>(v.fixed64());
                    }
                    break;
                  default: break;
                }
              } else if (!cb.times_only && v.Is(attributes_field, WireType::kLen)) {
                if (!AddAttribute(v.value, &attributes_)) return Malformed("metrics", "data point attribute");
              }
            }
            if (pf.malformed()) return Malformed("metrics", "data point");
            p.attributes = &attributes_;
            if (cb.point) cb.point(p);
          }
          if (points.malformed()) return Malformed("metrics", "metric's data");
        }
      }
      if (metrics.malformed()) return Malformed("metrics", "ScopeMetrics");
    }
  }
  if (entries.malformed()) return Malformed("metrics", "ExportMetricsServiceRequest");
  return absl::OkStatus();
}

absl::Status ItemWalker::WalkLogs(std::string_view request, const ItemCallbacks& cb) {
  std::vector<std::string_view> resources, scopes;
  FieldReader entries(request);
  RawField entry;
  while (entries.Next(&entry)) {
    if (!entry.Is(1, WireType::kLen)) continue;  // ExportLogsServiceRequest.resource_logs
    if (!SplitResourceEntry(entry.value, &resources, &scopes)) return Malformed("logs", "ResourceLogs");
    std::string_view service;
    if (!cb.times_only && !ServiceName(resources, &service)) return Malformed("logs", "Resource");
    for (std::string_view scope : scopes) {
      FieldReader items(scope);
      RawField item;
      while (items.Next(&item)) {
        if (!item.Is(kItemsField, WireType::kLen)) continue;
        LogView log{.service_name = service};
        attributes_.clear();
        FieldReader fields(item.value);
        RawField f;
        while (fields.Next(&f)) {
          if (f.wire == WireType::kFixed64) {
            if (f.number == 1) log.time_unix_nano = f.fixed64();
            if (f.number == 11) log.observed_time_unix_nano = f.fixed64();
            continue;
          }
          if (cb.times_only) continue;
          if (f.wire == WireType::kVarint) {
            if (f.number == 2) log.severity_number = static_cast<int32_t>(f.varint);
            continue;
          }
          if (f.wire != WireType::kLen) continue;
          switch (f.number) {
            case 3: log.severity_text = f.value; break;
            case 5: log.body = f.value; break;
            case 6:
              if (!AddAttribute(f.value, &attributes_)) return Malformed("logs", "log record attribute");
              break;
            case 9: log.trace_id = f.value; break;
            case 10: log.span_id = f.value; break;
            default: break;
          }
        }
        if (fields.malformed()) return Malformed("logs", "LogRecord");
        log.attributes = &attributes_;
        if (cb.log) cb.log(log);
      }
      if (items.malformed()) return Malformed("logs", "ScopeLogs");
    }
  }
  if (entries.malformed()) return Malformed("logs", "ExportLogsServiceRequest");
  return absl::OkStatus();
}

}  // namespace otelrr::training
