// An annotation: a label on a stretch of a session's telemetry (a test phase, a diagnosis, a human's
// verdict, a training label), shaped like a row of the otel-ai platform's `annotations` table
// (docs/ANNOTATIONS.md lists the columns).
//
//   Annotation a{.annotation_key = "human.verdict", .annotation_value = R"({"ok":false})",
//                .time_range_start_unix_nano = t0, .time_range_end_unix_nano = t1, .session_id = "seed-1"};
//   absl::Status s = Complete(&a, now, "otelrr annotate");  // type from the key, id, signal type, createdAt
//   std::string line = ToJsonLine(a);                          // one line of annotations.jsonl
//   absl::StatusOr<Annotation> back = FromJsonLine(line);
//
// Validate() checks what the platform's table and its readers rely on: the key starts with its type
// ("test.", "diag.", "human.", "llm.", "meta.", "train."), the value is JSON, the confidence is in
// [0, 1], ids are lowercase hex of the right length, the range does not end before it starts, and
// every text is valid UTF-8 without control characters where a name is expected.
#ifndef OTELRR_ANNOTATE_ANNOTATION_H_
#define OTELRR_ANNOTATE_ANNOTATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json_writer.h"

namespace otelrr::annotate {

// The annotation types of the platform, which are also the prefixes of their keys.
inline constexpr std::string_view kAnnotationTypes[] = {"test", "diag", "human", "llm", "meta", "train"};
// The signal types of the platform's signal_type column.
inline constexpr std::string_view kSignalTypes[] = {"trace", "metric", "log", "any"};
// The key prefix of phase annotations: "test.phase.<name>".
inline constexpr std::string_view kPhaseKeyPrefix = "test.phase.";

using StringMap = std::vector<std::pair<std::string, std::string>>;  // sorted by key, keys unique

struct Annotation {
  std::string annotation_id = {};  // a UUID; Complete() makes one when empty
  std::string signal_type = {};    // "trace", "metric", "log" or "any"; Complete() infers it when empty
  std::string trace_id = {};       // 32 lowercase hex digits, or empty
  std::string span_id = {};        // 16 lowercase hex digits, or empty
  std::optional<std::string> metric_name = {};
  StringMap metric_labels = {};
  std::optional<uint64_t> log_timestamp_unix_nano = {};
  std::optional<std::string> log_body_hash = {};
  uint64_t time_range_start_unix_nano = 0;
  std::optional<uint64_t> time_range_end_unix_nano = {};
  std::optional<std::string> service_name = {};
  StringMap resource_attributes = {};
  std::string annotation_type = {};  // the key's first segment; Complete() sets it
  std::string annotation_key = {};
  std::string annotation_value = "{}";  // JSON text
  std::optional<float> confidence = {};
  std::optional<uint64_t> created_at_unix_nano = {};  // millisecond precision in ClickHouse
  std::string created_by = {};
  std::optional<std::string> session_id = {};
  std::optional<uint64_t> expires_at_unix_nano = {};
  std::optional<std::string> parent_annotation_id = {};
  // Feature flags a phase turns on (not a column of the platform's table: ClickHouse gets them inside
  // annotation_value, as {"flags": [...]}, for test.phase.* annotations).
  std::vector<std::string> flags = {};

  bool is_phase() const { return annotation_key.starts_with(kPhaseKeyPrefix); }
  // "failure" for "test.phase.failure"; "" when not a phase.
  std::string_view phase_name() const {
    return is_phase() ? std::string_view(annotation_key).substr(kPhaseKeyPrefix.size()) : std::string_view();
  }
  bool operator==(const Annotation&) const = default;
};

// The annotation_type a key implies ("human" for "human.verdict"), or an error naming the valid prefixes.
absl::StatusOr<std::string> TypeOfKey(std::string_view key);

// Checks everything in the header comment. The message names the field and what it must be.
absl::Status Validate(const Annotation& a);

// Fills what a new annotation may leave out, then validates it: annotation_type from the key, a random
// annotation_id, signal_type ("trace" with a trace id, "metric" with a metric name, "log" with a log
// timestamp, else "any"), created_at = now, created_by when empty; created_at and expires_at are cut to
// milliseconds, as the table keeps them.
absl::Status Complete(Annotation* a, uint64_t now_unix_nano, std::string_view created_by);

// A UUID (version 4 layout) derived from `name`: the same name always gives the same id, so phases
// written again (a seed regenerated, a sync repeated) keep their ids.
std::string StableAnnotationId(std::string_view name);

// One line of annotations.jsonl (no newline): camelCase keys, optional fields only when set, times as
// RFC 3339 UTC (docs/FORMAT.md, "Annotations").
std::string ToJsonLine(const Annotation& a);
void WriteJson(const Annotation& a, JsonWriter* w);
// Reads one line (or one JSON object of an API body) as written by ToJsonLine; unknown keys are refused
// with the list of known ones. Does not validate (callers do, after filling defaults).
absl::StatusOr<Annotation> FromJsonLine(std::string_view line);

// The phases of the platform's seed annotations: "test.phase.X" with value {"sessionId", "phase",
// "timestamp", "flags"} (docs/FORMAT.md).
Annotation PhaseAnnotation(std::string_view session_id, std::string_view name, std::string_view key,
                           uint64_t start_unix_nano, std::optional<uint64_t> end_unix_nano,
                           std::vector<std::string> flags, std::string_view created_by);

}  // namespace otelrr::annotate

#endif  // OTELRR_ANNOTATE_ANNOTATION_H_
