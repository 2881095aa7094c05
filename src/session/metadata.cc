#include "session/metadata.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>

#include "common/json_writer.h"
#include "common/status.h"
#include "session/layout.h"
#include "session/time_format.h"

namespace otelrr::session {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// expiresAt of a session kept forever.
constexpr std::string_view kNever = "never";

std::string_view TypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::INT64:
    case element_type::UINT64:
      return "an integer";
    case element_type::DOUBLE:
      return "a number";
    case element_type::STRING:
      return "a string";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

// Typed access to one JSON object, with errors that name the field by its full path
// ("files[2].sha256") and say what was expected and what was found.
class ObjectView {
 public:
  ObjectView(object obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  std::string FieldPath(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }

  absl::Status Error(std::string_view key, std::string_view what) const {
    return absl::InvalidArgumentError(fmt::format("metadata.json: field \"{}\": {}", FieldPath(key), what));
  }

  // The value of `key`, or nullopt when absent or null.
  std::optional<element> Find(std::string_view key) const {
    element e;
    if (obj_.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    return e;
  }

  absl::Status Missing(std::string_view key) const { return Error(key, "is required"); }

  absl::Status Expect(std::string_view key, const element& e, element_type want, std::string_view want_name) const {
    if (e.type() == want) return absl::OkStatus();
    return Error(key, fmt::format("expected {}, found {}", want_name, TypeName(e.type())));
  }

  // Each getter leaves `out` unchanged when the key is absent; `required` makes absence an error.
  absl::Status String(std::string_view key, bool required, std::string* out) const {
    std::optional<element> e = Find(key);
    if (!e) return required ? Missing(key) : absl::OkStatus();
    if (absl::Status s = Expect(key, *e, element_type::STRING, "a string"); !s.ok()) return s;
    *out = std::string(std::string_view(*e));
    return absl::OkStatus();
  }

  absl::Status Uint(std::string_view key, bool required, uint64_t* out) const {
    std::optional<element> e = Find(key);
    if (!e) return required ? Missing(key) : absl::OkStatus();
    uint64_t v;
    if (e->get_uint64().get(v) != simdjson::SUCCESS) {
      return Error(key, fmt::format("expected a non-negative integer, found {}", TypeName(e->type())));
    }
    *out = v;
    return absl::OkStatus();
  }

  absl::Status Bool(std::string_view key, bool required, bool* out) const {
    std::optional<element> e = Find(key);
    if (!e) return required ? Missing(key) : absl::OkStatus();
    if (absl::Status s = Expect(key, *e, element_type::BOOL, "true or false"); !s.ok()) return s;
    *out = bool(*e);
    return absl::OkStatus();
  }

  // A unix-nanosecond value: a decimal string.
  absl::Status UnixNano(std::string_view key, bool required, std::optional<uint64_t>* out) const {
    std::optional<element> e = Find(key);
    if (!e) return required ? Missing(key) : absl::OkStatus();
    if (absl::Status s = Expect(key, *e, element_type::STRING, "a decimal string of unix nanoseconds"); !s.ok()) {
      return s;
    }
    std::string_view text(*e);
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
      return Error(key, fmt::format("\"{}\" is not a decimal count of unix nanoseconds", text));
    }
    *out = v;
    return absl::OkStatus();
  }

  absl::Status UnixNano(std::string_view key, uint64_t* out) const {
    std::optional<uint64_t> v;
    if (absl::Status s = UnixNano(key, true, &v); !s.ok()) return s;
    *out = *v;
    return absl::OkStatus();
  }

  absl::Status Time(std::string_view key, bool required, std::optional<uint64_t>* out) const {
    std::string text;
    if (!Find(key)) return required ? Missing(key) : absl::OkStatus();
    if (absl::Status s = String(key, true, &text); !s.ok()) return s;
    absl::StatusOr<uint64_t> t = ParseRfc3339(text);
    if (!t.ok()) return Error(key, std::string(t.status().message()));
    *out = *t;
    return absl::OkStatus();
  }

  absl::Status StringArray(std::string_view key, std::vector<std::string>* out) const {
    std::optional<element> e = Find(key);
    if (!e) return absl::OkStatus();
    if (absl::Status s = Expect(key, *e, element_type::ARRAY, "an array of strings"); !s.ok()) return s;
    out->clear();
    size_t i = 0;
    for (element item : array(*e)) {
      if (item.type() != element_type::STRING) {
        return Error(fmt::format("{}[{}]", key, i), fmt::format("expected a string, found {}", TypeName(item.type())));
      }
      out->emplace_back(std::string_view(item));
      ++i;
    }
    return absl::OkStatus();
  }

  absl::Status Object(std::string_view key, bool required, std::optional<ObjectView>* out) const {
    std::optional<element> e = Find(key);
    if (!e) return required ? Missing(key) : absl::OkStatus();
    if (absl::Status s = Expect(key, *e, element_type::OBJECT, "an object"); !s.ok()) return s;
    out->emplace(object(*e), FieldPath(key));
    return absl::OkStatus();
  }

  // Calls fn(ObjectView) for each element of an array of objects.
  template <typename Fn>
  absl::Status ObjectArray(std::string_view key, Fn&& fn) const {
    std::optional<element> e = Find(key);
    if (!e) return absl::OkStatus();
    if (absl::Status s = Expect(key, *e, element_type::ARRAY, "an array of objects"); !s.ok()) return s;
    size_t i = 0;
    for (element item : array(*e)) {
      std::string item_path = fmt::format("{}[{}]", key, i);
      if (item.type() != element_type::OBJECT) {
        return Error(item_path, fmt::format("expected an object, found {}", TypeName(item.type())));
      }
      if (absl::Status s = fn(ObjectView(object(item), FieldPath(item_path))); !s.ok()) return s;
      ++i;
    }
    return absl::OkStatus();
  }

 private:
  object obj_;
  std::string path_;
};

void WriteUnixNano(JsonWriter& w, std::string_view key, uint64_t v) {
  w.Field(key, fmt::format("{}", v));
}

absl::Status ParseCounts(const ObjectView& v, SessionCounts* c) {
  for (auto [key, field] : {std::pair{"traces", &c->traces}, std::pair{"spans", &c->spans},
                            std::pair{"dataPoints", &c->data_points}, std::pair{"logRecords", &c->log_records},
                            std::pair{"uncompressedBytes", &c->uncompressed_bytes}}) {
    if (absl::Status s = v.Uint(key, false, field); !s.ok()) return s;
  }
  std::optional<ObjectView> requests;
  if (absl::Status s = v.Object("requests", false, &requests); !s.ok()) return s;
  if (requests) {
    for (auto [key, field] : {std::pair{"traces", &c->trace_requests}, std::pair{"metrics", &c->metric_requests},
                              std::pair{"logs", &c->log_requests}}) {
      if (absl::Status s = requests->Uint(key, false, field); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ParsePhase(const ObjectView& v, Phase* p) {
  if (absl::Status s = v.String("name", true, &p->name); !s.ok()) return s;
  if (absl::Status s = v.String("annotationKey", false, &p->annotation_key); !s.ok()) return s;
  std::optional<uint64_t> start;
  if (absl::Status s = v.Time("startTime", true, &start); !s.ok()) return s;
  p->start_time_unix_nano = *start;
  if (absl::Status s = v.Time("endTime", false, &p->end_time_unix_nano); !s.ok()) return s;
  return v.StringArray("flags", &p->flags);
}

absl::Status ParseFile(const ObjectView& v, FileEntry* f) {
  if (absl::Status s = v.String("path", true, &f->path); !s.ok()) return s;
  std::string signal;
  if (absl::Status s = v.String("signal", true, &signal); !s.ok()) return s;
  if (!otlp::ParseSignal(signal, &f->signal)) {
    return v.Error("signal", fmt::format("\"{}\" is not one of traces, metrics, logs", signal));
  }
  // Absent in sessions written before there was a choice: the path's suffix says (always .otlp.gz then).
  std::optional<Compression> by_path = CompressionOfPath(f->path);
  f->compression = by_path.value_or(Compression::kGzip);
  std::string compression;
  if (absl::Status s = v.String("compression", false, &compression); !s.ok()) return s;
  if (!compression.empty()) {
    if (!ParseCompression(compression, &f->compression)) {
      return v.Error("compression", fmt::format("\"{}\" is not one of gzip, zstd, none", compression));
    }
    if (by_path && *by_path != f->compression) {
      return v.Error("compression", fmt::format("\"{}\" disagrees with the path, whose suffix {} means {}",
                                                compression, RawFileSuffix(*by_path), CompressionName(*by_path)));
    }
  }
  if (absl::Status s = v.UnixNano("firstArrivalUnixNano", &f->first_arrival_unix_nano); !s.ok()) return s;
  if (absl::Status s = v.UnixNano("lastArrivalUnixNano", &f->last_arrival_unix_nano); !s.ok()) return s;
  if (absl::Status s = v.Uint("records", true, &f->records); !s.ok()) return s;
  if (absl::Status s = v.Uint("sizeBytes", true, &f->size_bytes); !s.ok()) return s;
  if (absl::Status s = v.Uint("uncompressedBytes", false, &f->uncompressed_bytes); !s.ok()) return s;
  if (absl::Status s = v.String("sha256", true, &f->sha256); !s.ok()) return s;
  if (f->sha256.size() != 64 || f->sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return v.Error("sha256", "expected 64 lowercase hex digits");
  }
  return absl::OkStatus();
}

absl::Status ParseInstance(const ObjectView& v, InstanceSummary* i) {
  if (absl::Status s = v.String("name", true, &i->name); !s.ok()) return s;
  if (absl::Status s = ValidateInstanceName(i->name); !s.ok()) return v.Error("name", std::string(s.message()));
  std::string status;
  if (absl::Status s = v.String("status", true, &status); !s.ok()) return s;
  if (!ParseSessionStatus(status, &i->status)) {
    return v.Error("status", fmt::format("\"{}\" is not one of active, completed, failed", status));
  }
  if (absl::Status s = v.String("statusReason", false, &i->status_reason); !s.ok()) return s;
  std::optional<uint64_t> start;
  if (absl::Status s = v.Time("startTime", true, &start); !s.ok()) return s;
  auto to_millis = [](uint64_t t) { return t - t % 1'000'000; };  // as metadata.json's own times
  i->start_time_unix_nano = to_millis(*start);
  if (absl::Status s = v.Time("endTime", false, &i->end_time_unix_nano); !s.ok()) return s;
  if (i->end_time_unix_nano) i->end_time_unix_nano = to_millis(*i->end_time_unix_nano);
  for (auto [key, field] : {std::pair{"requests", &i->requests}, std::pair{"files", &i->files},
                            std::pair{"sizeBytes", &i->size_bytes}}) {
    if (absl::Status s = v.Uint(key, false, field); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view SessionTypeName(SessionType type) {
  switch (type) {
    case SessionType::kSeed:
      return "seed";
    case SessionType::kCapture:
      return "capture";
    case SessionType::kTraining:
      return "training";
  }
  return "capture";
}

bool ParseSessionType(std::string_view name, SessionType* type) {
  for (SessionType t : {SessionType::kSeed, SessionType::kCapture, SessionType::kTraining}) {
    if (name == SessionTypeName(t)) {
      *type = t;
      return true;
    }
  }
  return false;
}

std::string_view SessionStatusName(SessionStatus status) {
  switch (status) {
    case SessionStatus::kActive:
      return "active";
    case SessionStatus::kCompleted:
      return "completed";
    case SessionStatus::kFailed:
      return "failed";
  }
  return "failed";
}

bool ParseSessionStatus(std::string_view name, SessionStatus* status) {
  for (SessionStatus s : {SessionStatus::kActive, SessionStatus::kCompleted, SessionStatus::kFailed}) {
    if (name == SessionStatusName(s)) {
      *status = s;
      return true;
    }
  }
  return false;
}

void Phase::WriteJson(JsonWriter* w) const {
  w->BeginObject();
  w->Field("name", name);
  w->Field("annotationKey", annotation_key);
  w->Field("startTime", FormatRfc3339(start_time_unix_nano));
  if (end_time_unix_nano) w->Field("endTime", FormatRfc3339(*end_time_unix_nano));
  w->StringArray("flags", flags);
  w->EndObject();
}

std::string SessionPrefix(std::string_view session_id) { return fmt::format("sessions/{}/", session_id); }

std::string SessionMetadata::ToJson(bool pretty) const {
  JsonWriter w(pretty);
  WriteJson(&w);
  std::string out = w.Take();
  if (pretty) out.push_back('\n');
  return out;
}

void SessionMetadata::WriteJson(JsonWriter* writer, bool with_files) const {
  writer->BeginObject();
  WriteJsonFields(writer, with_files);
  writer->EndObject();
}

void SessionMetadata::WriteJsonFields(JsonWriter* writer, bool with_files) const {
  JsonWriter& w = *writer;
  w.Field("formatVersion", format_version);
  w.Field("sessionId", session_id);
  w.Field("sessionType", SessionTypeName(session_type));
  w.Field("startTime", FormatRfc3339Millis(start_time_unix_nano));
  if (end_time_unix_nano) w.Field("endTime", FormatRfc3339Millis(*end_time_unix_nano));
  if (expires_at_unix_nano) {
    w.Field("expiresAt", *expires_at_unix_nano == kNeverExpires ? std::string(kNever)
                                                                : FormatRfc3339Millis(*expires_at_unix_nano));
  }
  w.Field("status", SessionStatusName(status));
  if (!status_reason.empty()) w.Field("statusReason", status_reason);
  w.StringArray("enabledFlags", enabled_flags);
  w.Field("capturedTraces", captured_traces);
  w.Field("capturedMetrics", captured_metrics);
  w.Field("capturedLogs", captured_logs);
  w.Field("totalSizeBytes", total_size_bytes);
  w.Field("s3Prefix", s3_prefix);
  w.Field("createdBy", created_by);
  if (!description.empty()) w.Field("description", description);
  if (!diagnostic_session_id.empty()) w.Field("diagnosticSessionId", diagnostic_session_id);
  w.Key("counts");
  w.BeginObject();
  w.Field("traces", counts.traces);
  w.Field("spans", counts.spans);
  w.Field("dataPoints", counts.data_points);
  w.Field("logRecords", counts.log_records);
  w.Key("requests");
  w.BeginObject();
  w.Field("traces", counts.trace_requests);
  w.Field("metrics", counts.metric_requests);
  w.Field("logs", counts.log_requests);
  w.EndObject();
  w.Field("uncompressedBytes", counts.uncompressed_bytes);
  w.EndObject();
  if (first_arrival_unix_nano) {
    WriteUnixNano(w, "firstArrivalUnixNano", *first_arrival_unix_nano);
    w.Field("firstArrivalTime", FormatRfc3339Nanos(*first_arrival_unix_nano));
  }
  if (last_arrival_unix_nano) {
    WriteUnixNano(w, "lastArrivalUnixNano", *last_arrival_unix_nano);
    w.Field("lastArrivalTime", FormatRfc3339Nanos(*last_arrival_unix_nano));
  }
  w.Key("phases");
  w.BeginArray();
  for (const Phase& p : phases) p.WriteJson(&w);
  w.EndArray();
  if (!generator_json.empty()) {
    w.Key("generator");
    w.Raw(generator_json);
  }
  if (redaction) {
    w.Key("redaction");
    w.BeginObject();
    w.StringArray("rules", redaction->rules);
    w.Field("attributesDropped", redaction->attributes_dropped);
    w.Field("attributesHashed", redaction->attributes_hashed);
    w.Field("attributesReplaced", redaction->attributes_replaced);
    w.Field("bodiesMasked", redaction->bodies_masked);
    w.Field("forwardRedacted", redaction->forward_redacted);
    w.EndObject();
  }
  if (shared) w.Field("shared", true);
  if (!instance.empty()) w.Field("instance", instance);
  if (!instances.empty()) {
    w.Key("instances");
    w.BeginArray();
    for (const InstanceSummary& i : instances) {
      w.BeginObject();
      w.Field("name", i.name);
      w.Field("status", SessionStatusName(i.status));
      if (!i.status_reason.empty()) w.Field("statusReason", i.status_reason);
      w.Field("startTime", FormatRfc3339Millis(i.start_time_unix_nano));
      if (i.end_time_unix_nano) w.Field("endTime", FormatRfc3339Millis(*i.end_time_unix_nano));
      w.Field("requests", i.requests);
      w.Field("files", i.files);
      w.Field("sizeBytes", i.size_bytes);
      w.EndObject();
    }
    w.EndArray();
  }
  if (shard_of) {
    w.Key("shardOf");
    w.BeginObject();
    w.Field("sessionId", shard_of->session_id);
    w.Field("shard", static_cast<uint64_t>(shard_of->shard));
    w.Field("shards", static_cast<uint64_t>(shard_of->shards));
    w.EndObject();
  }
  if (!with_files) return;
  w.Key("files");
  w.BeginArray();
  for (const FileEntry& f : files) {
    w.BeginObject();
    w.Field("path", f.path);
    w.Field("signal", otlp::SignalName(f.signal));
    w.Field("compression", CompressionName(f.compression));
    WriteUnixNano(w, "firstArrivalUnixNano", f.first_arrival_unix_nano);
    WriteUnixNano(w, "lastArrivalUnixNano", f.last_arrival_unix_nano);
    w.Field("records", f.records);
    w.Field("sizeBytes", f.size_bytes);
    w.Field("uncompressedBytes", f.uncompressed_bytes);
    w.Field("sha256", f.sha256);
    w.EndObject();
  }
  w.EndArray();
}

absl::StatusOr<SessionMetadata> SessionMetadata::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  element root;
  simdjson::padded_string padded(json.data(), json.size());
  if (simdjson::error_code err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(fmt::format("metadata.json is not valid JSON: {}", simdjson::error_message(err)));
  }
  if (root.type() != element_type::OBJECT) {
    return absl::InvalidArgumentError(
        fmt::format("metadata.json: expected a JSON object at the top, found {}", TypeName(root.type())));
  }
  ObjectView v(object(root), "");
  SessionMetadata m;
  uint64_t version = 0;
  if (absl::Status s = v.Uint("formatVersion", true, &version); !s.ok()) return s;
  if (version != static_cast<uint64_t>(kFormatVersion)) {
    return v.Error("formatVersion",
                   fmt::format("version {} is not supported (this otelrr reads version {})", version, kFormatVersion));
  }
  m.format_version = kFormatVersion;
  if (absl::Status s = v.String("sessionId", true, &m.session_id); !s.ok()) return s;
  std::string text;
  if (absl::Status s = v.String("sessionType", true, &text); !s.ok()) return s;
  if (!ParseSessionType(text, &m.session_type)) {
    return v.Error("sessionType", fmt::format("\"{}\" is not one of seed, capture, training", text));
  }
  std::optional<uint64_t> start;
  if (absl::Status s = v.Time("startTime", true, &start); !s.ok()) return s;
  m.start_time_unix_nano = *start;
  if (absl::Status s = v.Time("endTime", false, &m.end_time_unix_nano); !s.ok()) return s;
  if (v.Find("expiresAt")) {
    if (absl::Status s = v.String("expiresAt", true, &text); !s.ok()) return s;
    if (text == kNever) {
      m.expires_at_unix_nano = kNeverExpires;
    } else if (absl::StatusOr<uint64_t> t = ParseRfc3339(text); t.ok()) {
      m.expires_at_unix_nano = *t;
    } else {
      return v.Error("expiresAt", fmt::format("{} (or \"{}\")", t.status().message(), kNever));
    }
  }
  // These three are milliseconds in metadata.json (docs/FORMAT.md): a finer fraction, which another writer may
  // have put there, is cut to the millisecond as otelrr writes them, so a document reads the same once rewritten.
  auto to_millis = [](uint64_t t) { return t - t % 1'000'000; };
  m.start_time_unix_nano = to_millis(m.start_time_unix_nano);
  if (m.end_time_unix_nano) m.end_time_unix_nano = to_millis(*m.end_time_unix_nano);
  if (m.expires_at_unix_nano && *m.expires_at_unix_nano != kNeverExpires) {
    m.expires_at_unix_nano = to_millis(*m.expires_at_unix_nano);
  }
  if (absl::Status s = v.String("status", true, &text); !s.ok()) return s;
  if (!ParseSessionStatus(text, &m.status)) {
    return v.Error("status", fmt::format("\"{}\" is not one of active, completed, failed", text));
  }
  if (absl::Status s = v.String("statusReason", false, &m.status_reason); !s.ok()) return s;
  if (absl::Status s = v.StringArray("enabledFlags", &m.enabled_flags); !s.ok()) return s;
  for (auto [key, field] : {std::pair{"capturedTraces", &m.captured_traces},
                            std::pair{"capturedMetrics", &m.captured_metrics},
                            std::pair{"capturedLogs", &m.captured_logs},
                            std::pair{"totalSizeBytes", &m.total_size_bytes}}) {
    if (absl::Status s = v.Uint(key, false, field); !s.ok()) return s;
  }
  if (absl::Status s = v.String("s3Prefix", false, &m.s3_prefix); !s.ok()) return s;
  if (absl::Status s = v.String("createdBy", false, &m.created_by); !s.ok()) return s;
  if (absl::Status s = v.String("description", false, &m.description); !s.ok()) return s;
  if (absl::Status s = v.String("diagnosticSessionId", false, &m.diagnostic_session_id); !s.ok()) return s;
  std::optional<ObjectView> counts;
  if (absl::Status s = v.Object("counts", false, &counts); !s.ok()) return s;
  if (counts) {
    if (absl::Status s = ParseCounts(*counts, &m.counts); !s.ok()) return s;
  }
  if (absl::Status s = v.UnixNano("firstArrivalUnixNano", false, &m.first_arrival_unix_nano); !s.ok()) return s;
  if (absl::Status s = v.UnixNano("lastArrivalUnixNano", false, &m.last_arrival_unix_nano); !s.ok()) return s;
  std::optional<ObjectView> redaction;
  if (absl::Status s = v.Object("redaction", false, &redaction); !s.ok()) return s;
  if (redaction) {
    RedactionSummary r;
    if (absl::Status s = redaction->StringArray("rules", &r.rules); !s.ok()) return s;
    for (auto [key, field] : {std::pair{"attributesDropped", &r.attributes_dropped},
                              std::pair{"attributesHashed", &r.attributes_hashed},
                              std::pair{"attributesReplaced", &r.attributes_replaced},
                              std::pair{"bodiesMasked", &r.bodies_masked}}) {
      if (absl::Status s = redaction->Uint(key, false, field); !s.ok()) return s;
    }
    if (absl::Status s = redaction->Bool("forwardRedacted", false, &r.forward_redacted); !s.ok()) return s;
    m.redaction = std::move(r);
  }
  if (absl::Status s = v.ObjectArray("phases",
                                     [&](const ObjectView& pv) {
                                       Phase p;
                                       absl::Status st = ParsePhase(pv, &p);
                                       if (st.ok()) m.phases.push_back(std::move(p));
                                       return st;
                                     });
      !s.ok()) {
    return s;
  }
  if (std::optional<element> gen = v.Find("generator")) {
    if (absl::Status s = v.Expect("generator", *gen, element_type::OBJECT, "an object"); !s.ok()) return s;
    m.generator_json = simdjson::minify(*gen);
  }
  if (absl::Status s = v.Bool("shared", false, &m.shared); !s.ok()) return s;
  if (absl::Status s = v.String("instance", false, &m.instance); !s.ok()) return s;
  if (!m.instance.empty()) {
    if (absl::Status s = ValidateInstanceName(m.instance); !s.ok()) return v.Error("instance", std::string(s.message()));
  }
  if (absl::Status s = v.ObjectArray("instances",
                                     [&](const ObjectView& iv) {
                                       InstanceSummary i;
                                       absl::Status st = ParseInstance(iv, &i);
                                       if (st.ok()) m.instances.push_back(std::move(i));
                                       return st;
                                     });
      !s.ok()) {
    return s;
  }
  std::optional<ObjectView> shard_of;
  if (absl::Status s = v.Object("shardOf", false, &shard_of); !s.ok()) return s;
  if (shard_of) {
    ShardOf sh;
    uint64_t shard = 0;
    uint64_t shards = 0;
    if (absl::Status s = shard_of->String("sessionId", true, &sh.session_id); !s.ok()) return s;
    if (absl::Status s = shard_of->Uint("shard", true, &shard); !s.ok()) return s;
    if (absl::Status s = shard_of->Uint("shards", true, &shards); !s.ok()) return s;
    if (shards < 2 || shards > kMaxShards || shard >= shards) {
      return shard_of->Error("shard", fmt::format("shard {} of {} is not a shard: need 0 <= shard < shards, 2 <= shards "
                                                  "<= {}", shard, shards, kMaxShards));
    }
    sh.shard = static_cast<uint32_t>(shard);
    sh.shards = static_cast<uint32_t>(shards);
    m.shard_of = std::move(sh);
  }
  if (absl::Status s = v.ObjectArray("files",
                                     [&](const ObjectView& fv) {
                                       FileEntry f;
                                       absl::Status st = ParseFile(fv, &f);
                                       if (st.ok()) m.files.push_back(std::move(f));
                                       return st;
                                     });
      !s.ok()) {
    return s;
  }
  return m;
}

}  // namespace otelrr::session
