#include "annotate/annotation.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/json_fields.h"
#include "common/status.h"
#include "session/layout.h"
#include "session/session_id.h"
#include "session/time_format.h"

namespace otelrr::annotate {
namespace {

constexpr size_t kMaxKeyLength = 256;
constexpr size_t kMaxValueLength = 1 << 20;
constexpr size_t kMaxTextLength = 4096;

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

absl::Status CheckText(std::string_view field, std::string_view text) {
  if (text.size() > kMaxTextLength) {
    return absl::InvalidArgumentError(fmt::format("{} is {} bytes long: at most {}", field, text.size(), kMaxTextLength));
  }
  if (!simdjson::validate_utf8(text.data(), text.size())) {
    return absl::InvalidArgumentError(fmt::format("{} is not valid UTF-8", field));
  }
  return absl::OkStatus();
}

absl::Status CheckMap(std::string_view field, const StringMap& map) {
  for (size_t i = 0; i < map.size(); ++i) {
    if (map[i].first.empty()) return absl::InvalidArgumentError(fmt::format("{} has an empty key", field));
    if (i > 0 && map[i - 1].first >= map[i].first) {
      return absl::InvalidArgumentError(fmt::format("{} has the key '{}' twice (or is not sorted)", field, map[i].first));
    }
    if (absl::Status s = CheckText(field, map[i].first); !s.ok()) return s;
    if (absl::Status s = CheckText(field, map[i].second); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckId(std::string_view field, std::string_view id) {
  if (id.empty() || id.size() > 64 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; })) {
    return absl::InvalidArgumentError(
        fmt::format("{} '{}' is not an id: 1 to 64 letters, digits and '-' (a UUID)", field, id));
  }
  return absl::OkStatus();
}

std::string FormatUuid(const unsigned char bytes[16]) {
  uint64_t hi = 0;
  uint64_t lo = 0;
  for (int i = 0; i < 8; ++i) hi = hi << 8 | bytes[i];
  for (int i = 8; i < 16; ++i) lo = lo << 8 | bytes[i];
  return session::FormatUuidV4(hi, lo);
}

void SortMap(StringMap* map) {
  std::stable_sort(map->begin(), map->end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

FieldReader TimeInto(uint64_t* out) {
  return ParsedString([out](std::string_view s) -> absl::Status {
    absl::StatusOr<uint64_t> t = session::ParseRfc3339(s);
    if (!t.ok()) return t.status();
    *out = *t;
    return absl::OkStatus();
  });
}

FieldReader OptionalTimeInto(std::optional<uint64_t>* out) {
  return [out](std::string_view key, simdjson::dom::element v) -> absl::Status {
    if (v.is_null()) {
      out->reset();
      return absl::OkStatus();
    }
    uint64_t t = 0;
    if (absl::Status s = TimeInto(&t)(key, v); !s.ok()) return s;
    *out = t;
    return absl::OkStatus();
  };
}

// annotationValue: a string holding JSON (the file's form), or, for people writing API bodies, the JSON
// itself (kept minified).
FieldReader ValueInto(std::string* out) {
  return [out](std::string_view, simdjson::dom::element v) {
    std::string_view s;
    *out = v.get(s) ? simdjson::minify(v) : std::string(s);
    return absl::OkStatus();
  };
}

}  // namespace

absl::StatusOr<std::string> TypeOfKey(std::string_view key) {
  const size_t dot = key.find('.');
  const std::string_view type = key.substr(0, dot);
  if (dot == std::string_view::npos || dot + 1 == key.size() ||
      std::find(std::begin(kAnnotationTypes), std::end(kAnnotationTypes), type) == std::end(kAnnotationTypes)) {
    return absl::InvalidArgumentError(fmt::format(
        "annotation key '{}' must start with its type and a name: test.*, diag.*, human.*, llm.*, meta.* or train.* "
        "(e.g. test.phase.failure, human.verdict)",
        key));
  }
  return std::string(type);
}

absl::Status Validate(const Annotation& a) {
  if (a.annotation_key.size() > kMaxKeyLength) {
    return absl::InvalidArgumentError(fmt::format("annotation key is {} bytes long: at most {}", a.annotation_key.size(), kMaxKeyLength));
  }
  for (char c : a.annotation_key) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return absl::InvalidArgumentError(
          fmt::format("annotation key '{}' holds a space or a control character", a.annotation_key));
    }
  }
  if (absl::Status s = CheckText("annotation key", a.annotation_key); !s.ok()) return s;
  absl::StatusOr<std::string> type = TypeOfKey(a.annotation_key);
  if (!type.ok()) return type.status();
  if (a.annotation_type != *type) {
    return absl::InvalidArgumentError(fmt::format("annotation type '{}' does not match the key '{}' (type '{}')",
                                                  a.annotation_type, a.annotation_key, *type));
  }
  if (a.annotation_value.size() > kMaxValueLength) {
    return absl::InvalidArgumentError(fmt::format("annotation value is {} bytes long: at most {}", a.annotation_value.size(), kMaxValueLength));
  }
  {
    simdjson::dom::parser parser;
    simdjson::dom::element ignored;
    if (auto err = parser.parse(simdjson::padded_string(a.annotation_value)).get(ignored); err) {
      return absl::InvalidArgumentError(fmt::format(
          "annotation value is not JSON ({}): quote text as a JSON string, e.g. --value '\"slow checkout\"'",
          simdjson::error_message(err)));
    }
  }
  if (std::find(std::begin(kSignalTypes), std::end(kSignalTypes), a.signal_type) == std::end(kSignalTypes)) {
    return absl::InvalidArgumentError(
        fmt::format("signal type '{}' is not one of {}", a.signal_type, fmt::join(kSignalTypes, ", ")));
  }
  if (!a.trace_id.empty() && (a.trace_id.size() != 32 || !IsLowerHex(a.trace_id))) {
    return absl::InvalidArgumentError(fmt::format("trace id '{}' must be 32 lowercase hex digits", a.trace_id));
  }
  if (!a.span_id.empty() && (a.span_id.size() != 16 || !IsLowerHex(a.span_id))) {
    return absl::InvalidArgumentError(fmt::format("span id '{}' must be 16 lowercase hex digits", a.span_id));
  }
  if (!a.span_id.empty() && a.trace_id.empty()) {
    return absl::InvalidArgumentError("a span id needs the trace id of its span");
  }
  if (a.time_range_start_unix_nano == 0) {
    return absl::InvalidArgumentError("the start of the time range is missing");
  }
  if (a.time_range_end_unix_nano && *a.time_range_end_unix_nano < a.time_range_start_unix_nano) {
    return absl::InvalidArgumentError(fmt::format("the time range ends ({}) before it starts ({})",
                                                  session::FormatRfc3339(*a.time_range_end_unix_nano),
                                                  session::FormatRfc3339(a.time_range_start_unix_nano)));
  }
  if (a.confidence && !(std::isfinite(*a.confidence) && *a.confidence >= 0 && *a.confidence <= 1)) {
    return absl::InvalidArgumentError(fmt::format("confidence {} must be between 0 and 1", *a.confidence));
  }
  if (absl::Status s = CheckId("annotation id", a.annotation_id); !s.ok()) return s;
  if (a.parent_annotation_id) {
    if (absl::Status s = CheckId("parent annotation id", *a.parent_annotation_id); !s.ok()) return s;
  }
  if (a.session_id) {
    if (absl::Status s = session::ValidateSessionId(*a.session_id); !s.ok()) return s;
  }
  for (const auto& [field, text] : {std::pair<std::string_view, const std::optional<std::string>*>{"service name", &a.service_name},
                                    {"metric name", &a.metric_name},
                                    {"log body hash", &a.log_body_hash}}) {
    if (*text) {
      if (absl::Status s = CheckText(field, **text); !s.ok()) return s;
    }
  }
  if (absl::Status s = CheckText("created by", a.created_by); !s.ok()) return s;
  if (absl::Status s = CheckMap("metric labels", a.metric_labels); !s.ok()) return s;
  if (absl::Status s = CheckMap("resource attributes", a.resource_attributes); !s.ok()) return s;
  for (const std::string& flag : a.flags) {
    if (flag.empty()) return absl::InvalidArgumentError("a flag is empty");
    if (absl::Status s = CheckText("flag", flag); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Complete(Annotation* a, uint64_t now_unix_nano, std::string_view created_by) {
  absl::StatusOr<std::string> type = TypeOfKey(a->annotation_key);
  if (!type.ok()) return type.status();
  if (a->annotation_type.empty()) a->annotation_type = *type;
  if (a->annotation_id.empty()) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    a->annotation_id = session::FormatUuidV4(rng(), rng());
  }
  if (a->signal_type.empty()) {
    a->signal_type = !a->trace_id.empty()           ? "trace"
                     : a->metric_name.has_value()   ? "metric"
                     : a->log_timestamp_unix_nano   ? "log"
                                                    : "any";
  }
  // Millisecond precision, as the table keeps both (DateTime64(3)): the kept copy reads the same as ClickHouse's.
  if (!a->created_at_unix_nano) a->created_at_unix_nano = now_unix_nano;
  *a->created_at_unix_nano = *a->created_at_unix_nano / 1'000'000 * 1'000'000;
  if (a->expires_at_unix_nano) *a->expires_at_unix_nano = *a->expires_at_unix_nano / 1'000'000 * 1'000'000;
  if (a->created_by.empty()) a->created_by = std::string(created_by);
  SortMap(&a->metric_labels);
  SortMap(&a->resource_attributes);
  return Validate(*a);
}

std::string StableAnnotationId(std::string_view name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(name.data(), name.size(), digest, &len, EVP_sha256(), nullptr);
  return FormatUuid(digest);
}

void WriteJson(const Annotation& a, JsonWriter* w) {
  auto map = [w](std::string_view key, const StringMap& m) {
    if (m.empty()) return;
    w->Key(key);
    w->BeginObject();
    for (const auto& [k, v] : m) w->Field(k, v);
    w->EndObject();
  };
  auto optional_text = [w](std::string_view key, const std::optional<std::string>& v) {
    if (v) w->Field(key, *v);
  };
  auto optional_time = [w](std::string_view key, const std::optional<uint64_t>& t) {
    if (t) w->Field(key, session::FormatRfc3339(*t));
  };
  w->BeginObject();
  w->Field("annotationId", a.annotation_id);
  w->Field("annotationType", a.annotation_type);
  w->Field("annotationKey", a.annotation_key);
  w->Field("annotationValue", a.annotation_value);
  w->Field("signalType", a.signal_type);
  if (!a.trace_id.empty()) w->Field("traceId", a.trace_id);
  if (!a.span_id.empty()) w->Field("spanId", a.span_id);
  optional_text("metricName", a.metric_name);
  map("metricLabels", a.metric_labels);
  optional_time("logTimestamp", a.log_timestamp_unix_nano);
  optional_text("logBodyHash", a.log_body_hash);
  w->Field("timeRangeStart", session::FormatRfc3339(a.time_range_start_unix_nano));
  optional_time("timeRangeEnd", a.time_range_end_unix_nano);
  optional_text("serviceName", a.service_name);
  map("resourceAttributes", a.resource_attributes);
  if (a.confidence) w->Field("confidence", static_cast<double>(*a.confidence));
  optional_time("createdAt", a.created_at_unix_nano);
  if (!a.created_by.empty()) w->Field("createdBy", a.created_by);
  optional_text("sessionId", a.session_id);
  optional_time("expiresAt", a.expires_at_unix_nano);
  optional_text("parentAnnotationId", a.parent_annotation_id);
  if (!a.flags.empty() || a.is_phase()) {
    w->StringArray("flags", a.flags);
  }
  w->EndObject();
}

std::string ToJsonLine(const Annotation& a) {
  JsonWriter w;
  WriteJson(a, &w);
  return w.Take();
}

absl::StatusOr<Annotation> FromJsonLine(std::string_view line) {
  Annotation a;
  a.annotation_value.clear();
  std::optional<double> confidence;
  uint64_t log_timestamp = 0;
  bool has_log_timestamp = false;
  absl::Status s = ReadJsonObject(
      line, "an annotation",
      {{"annotationId", StringInto(&a.annotation_id)},
       {"annotationType", StringInto(&a.annotation_type)},
       {"annotationKey", StringInto(&a.annotation_key)},
       {"annotationValue", ValueInto(&a.annotation_value)},
       {"signalType", StringInto(&a.signal_type)},
       {"traceId", StringInto(&a.trace_id)},
       {"spanId", StringInto(&a.span_id)},
       {"metricName", OptionalStringInto(&a.metric_name)},
       {"metricLabels", StringMapInto(&a.metric_labels)},
       {"logTimestamp",
        [&](std::string_view key, simdjson::dom::element v) {
          has_log_timestamp = !v.is_null();
          return has_log_timestamp ? TimeInto(&log_timestamp)(key, v) : absl::OkStatus();
        }},
       {"logBodyHash", OptionalStringInto(&a.log_body_hash)},
       {"timeRangeStart", TimeInto(&a.time_range_start_unix_nano)},
       {"timeRangeEnd", OptionalTimeInto(&a.time_range_end_unix_nano)},
       {"serviceName", OptionalStringInto(&a.service_name)},
       {"resourceAttributes", StringMapInto(&a.resource_attributes)},
       {"confidence", OptionalNumberInto(&confidence)},
       {"createdAt", OptionalTimeInto(&a.created_at_unix_nano)},
       {"createdBy", StringInto(&a.created_by)},
       {"sessionId", OptionalStringInto(&a.session_id)},
       {"expiresAt", OptionalTimeInto(&a.expires_at_unix_nano)},
       {"parentAnnotationId", OptionalStringInto(&a.parent_annotation_id)},
       {"flags", StringsInto(&a.flags)}});
  if (!s.ok()) return s;
  if (a.annotation_key.empty()) return absl::InvalidArgumentError("annotationKey is missing");
  if (a.annotation_value.empty()) a.annotation_value = "{}";
  if (has_log_timestamp) a.log_timestamp_unix_nano = log_timestamp;
  if (confidence) a.confidence = static_cast<float>(*confidence);
  SortMap(&a.metric_labels);
  SortMap(&a.resource_attributes);
  return a;
}

Annotation PhaseAnnotation(std::string_view session_id, std::string_view name, std::string_view key,
                           uint64_t start_unix_nano, std::optional<uint64_t> end_unix_nano,
                           std::vector<std::string> flags, std::string_view created_by) {
  JsonWriter value;
  value.BeginObject();
  value.Field("sessionId", session_id);
  value.Field("phase", name);
  value.Field("timestamp", start_unix_nano / 1'000'000);
  value.StringArray("flags", flags);
  value.EndObject();
  Annotation a;
  a.annotation_id = StableAnnotationId(fmt::format("{}\n{}\n{}", session_id, key, start_unix_nano));
  a.signal_type = "any";
  a.time_range_start_unix_nano = start_unix_nano;
  a.time_range_end_unix_nano = end_unix_nano;
  a.annotation_type = TypeOfKey(key).value_or("test");
  a.annotation_key = std::string(key);
  a.annotation_value = value.Take();
  a.created_by = std::string(created_by);
  a.session_id = std::string(session_id);
  a.flags = std::move(flags);
  return a;
}

}  // namespace otelrr::annotate
