// metadata.json: the description of a session, and the index of its raw files.
//
//   SessionMetadata m{.session_id = "capture-1", .session_type = SessionType::kCapture,
//                     .start_time_unix_nano = now, .created_by = "otelrr capture"};
//   std::string json = m.ToJson();                               // pretty, stable key order
//   absl::StatusOr<SessionMetadata> back = SessionMetadata::FromJson(json);
//
// It carries every field of a SessionMetadata (sessionId ... description; docs/CONCEPTS.md) plus what replay and
// verification need: counts, arrival range, phases, the generator configuration and the file index.
// docs/FORMAT.md documents each JSON field. FromJson is strict about types (a count must be a
// non-negative integer, a time an RFC 3339 string...) and lenient about unknown keys, which it ignores,
// so newer writers can add fields. Unix-nanosecond values are decimal strings in JSON, because
// JavaScript numbers cannot hold them exactly.
#ifndef OTELRR_SESSION_METADATA_H_
#define OTELRR_SESSION_METADATA_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_writer.h"
#include "otlp/schema.h"
#include "session/compression.h"

namespace otelrr::session {

inline constexpr int kFormatVersion = 1;

// The most shards a session is split into (ShardOf, `sessions split --shards N`).
inline constexpr uint32_t kMaxShards = 1024;

// The expiresAt of a session kept forever ("never" in metadata.json): later than any time, so no
// retention rule finds it expired (retention.h).
inline constexpr uint64_t kNeverExpires = UINT64_MAX;

enum class SessionType : uint8_t { kSeed, kCapture, kTraining };
enum class SessionStatus : uint8_t { kActive, kCompleted, kFailed };

std::string_view SessionTypeName(SessionType type);  // "seed", "capture", "training"
bool ParseSessionType(std::string_view name, SessionType* type);
std::string_view SessionStatusName(SessionStatus status);  // "active", "completed", "failed"
bool ParseSessionStatus(std::string_view name, SessionStatus* status);

struct SessionCounts {
  uint64_t traces = 0;  // distinct non-empty trace ids over spans, log records and exemplars
  uint64_t spans = 0;
  uint64_t data_points = 0;
  uint64_t log_records = 0;
  // Requests (records) per signal.
  uint64_t trace_requests = 0;
  uint64_t metric_requests = 0;
  uint64_t log_requests = 0;
  // Sum of the framed record sizes (header + payload): the decompressed size of all raw files.
  uint64_t uncompressed_bytes = 0;

  uint64_t requests() const { return trace_requests + metric_requests + log_requests; }
  bool operator==(const SessionCounts&) const = default;
};

// A named interval of a session (a seed pattern's phase, an incident window...).
struct Phase {
  std::string name = {};
  std::string annotation_key = {};
  uint64_t start_time_unix_nano = 0;
  std::optional<uint64_t> end_time_unix_nano = {};
  std::vector<std::string> flags = {};
  // Its object in metadata.json (times exact: 3, 6 or 9 fraction digits).
  void WriteJson(JsonWriter* w) const;
  bool operator==(const Phase&) const = default;
};

// One raw file, as the writer closed it.
struct FileEntry {
  std::string path = {};  // relative to the session folder: "raw/2026-11-26/11/traces-...-uuid.otlp.zst"
  otlp::Signal signal = otlp::Signal::kTraces;
  Compression compression = Compression::kGzip;  // as the path's suffix says (JSON "compression")
  uint64_t first_arrival_unix_nano = 0;
  uint64_t last_arrival_unix_nano = 0;
  uint64_t records = 0;
  uint64_t size_bytes = 0;          // as stored (compressed)
  uint64_t uncompressed_bytes = 0;  // framed records
  std::string sha256 = {};               // lowercase hex of the stored bytes
  bool operator==(const FileEntry&) const = default;
};

// What redaction at capture did to a session (capture --redact): the rules as given and what they changed.
struct RedactionSummary {
  std::vector<std::string> rules = {};
  uint64_t attributes_dropped = 0;
  uint64_t attributes_hashed = 0;
  uint64_t attributes_replaced = 0;
  uint64_t bodies_masked = 0;
  bool forward_redacted = false;  // the forwarded copy was redacted too (--redact-forward)
  bool operator==(const RedactionSummary&) const = default;
};

// One instance of a shared session (shared.h), as metadata.json lists it once the session is sealed.
struct InstanceSummary {
  std::string name = {};
  SessionStatus status = SessionStatus::kActive;
  std::string status_reason = {};
  uint64_t start_time_unix_nano = 0;  // JSON: millisecond precision
  std::optional<uint64_t> end_time_unix_nano = {};
  uint64_t requests = 0;  // records it wrote
  uint64_t files = 0;
  uint64_t size_bytes = 0;
  bool operator==(const InstanceSummary&) const = default;
};

// A session that holds one shard of another (`otelrr sessions split`, slice.h): replay --shard K/N of the
// parent reads it instead of the whole parent, on the parent's timeline.
struct ShardOf {
  std::string session_id = {};
  uint32_t shard = 0;
  uint32_t shards = 0;
  bool operator==(const ShardOf&) const = default;
};

struct SessionMetadata {
  int format_version = kFormatVersion;
  std::string session_id = {};
  SessionType session_type = SessionType::kCapture;
  uint64_t start_time_unix_nano = 0;  // JSON: millisecond precision
  std::optional<uint64_t> end_time_unix_nano = {};
  // When the retention policy removes the session (retention.h): absent, the store's policy decides;
  // kNeverExpires, never. JSON: millisecond precision, or "never".
  std::optional<uint64_t> expires_at_unix_nano = {};
  SessionStatus status = SessionStatus::kActive;
  std::string status_reason = {};  // optional: "interrupted", an error message...
  std::vector<std::string> enabled_flags = {};
  // The SessionMetadata totals: capturedTraces = counts.traces, capturedMetrics = counts.data_points,
  // capturedLogs = counts.log_records. Kept as fields so a file written elsewhere round-trips exactly.
  uint64_t captured_traces = 0;
  uint64_t captured_metrics = 0;
  uint64_t captured_logs = 0;
  uint64_t total_size_bytes = 0;  // sum of the raw files' stored sizes
  std::string s3_prefix = {};          // "sessions/{id}/"
  std::string created_by = {};
  std::string description = {};  // optional
  std::string diagnostic_session_id = {};  // optional: CaptureConfig.diagnosticSessionId
  SessionCounts counts = {};
  std::optional<uint64_t> first_arrival_unix_nano = {};  // absent when the session holds no record
  std::optional<uint64_t> last_arrival_unix_nano = {};
  std::vector<Phase> phases = {};
  // The generator configuration of a seed session: a JSON object kept verbatim (minified); empty = none.
  std::string generator_json = {};
  std::optional<RedactionSummary> redaction = {};  // "redaction": set when capture redacted what it stored
  std::vector<FileEntry> files = {};  // sorted by (first arrival, path)
  // A shared session: several instances (capture --instance) record it, each into its own part (shared.h).
  bool shared = false;
  // In an instance's part.json: the instance's name. Empty in metadata.json.
  std::string instance = {};
  // In a sealed shared session's metadata.json: every instance, by name.
  std::vector<InstanceSummary> instances = {};
  // "shardOf": set in a shard of a split session.
  std::optional<ShardOf> shard_of = {};

  // Sets captured_* from counts (writers call it after updating counts).
  void SyncCapturedTotals() {
    captured_traces = counts.traces;
    captured_metrics = counts.data_points;
    captured_logs = counts.log_records;
  }

  // metadata.json: pretty (one field per line, a final newline) or compact (one line).
  std::string ToJson(bool pretty = true) const;
  // The same object into a writer (lists of sessions, API answers).
  // Without `files` (the index), the summary a list of many sessions needs.
  void WriteJson(JsonWriter* writer, bool with_files = true) const;
  // The same members into the object `writer` has open (an answer that adds members of its own).
  void WriteJsonFields(JsonWriter* writer, bool with_files = true) const;
  static absl::StatusOr<SessionMetadata> FromJson(std::string_view json);

  bool operator==(const SessionMetadata&) const = default;
};

// The conventional s3Prefix value of a session: "sessions/{id}/".
std::string SessionPrefix(std::string_view session_id);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_METADATA_H_
