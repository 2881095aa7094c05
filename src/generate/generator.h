// The SeedGenerator service: deterministic synthetic traces, metrics and logs from a pattern, written
// as a session (generateSeed, listPatterns, getPattern; docs/CONCEPTS.md).
//
//   session::SessionStore sessions(store);
//   SeedGenerator generator(sessions);
//   absl::StatusOr<SeedResult> r = generator.GenerateSeed({
//       .pattern_name = "payment-failure", .duration_seconds = 30, .traces_per_second = 10,
//       .error_rate = 0.05, .seed = 42, .description = "Validation for issue #103"});
//   // r->session_id, r->traces == 300, r->spans, r->data_points, r->log_records
//
// Simulated time: the session's timestamps span duration_seconds from start_time, but it is written as
// fast as the machine allows. The same config (seed and start time included) gives byte-identical raw
// files, whatever the thread count.
#ifndef OTELRR_GENERATE_GENERATOR_H_
#define OTELRR_GENERATE_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_writer.h"
#include "common/cancel.h"
#include "common/clock.h"
#include "generate/pattern.h"
#include "otlp/schema.h"
#include "session/session_store.h"

namespace otelrr::generate {

// At most this many traces per session (rate × duration).
inline constexpr uint64_t kMaxSeedTraces = 1'000'000'000;

// SeedConfig (docs/CONCEPTS.md), plus what the command line adds.
struct SeedConfig {
  std::string pattern_name = "basic-topology";
  std::optional<Pattern> pattern = {};  // a parsed --pattern-file; overrides pattern_name
  double duration_seconds = 60;
  double traces_per_second = 10;
  double error_rate = 0.05;
  std::optional<uint64_t> seed = {};           // absent: drawn at random, and recorded in the metadata
  std::string description = {};
  std::string created_by = "otelrr seed";
  std::string session_id = {};                 // empty: "seed-<time>-<random>"
  std::optional<uint64_t> start_time_unix_nano = {};  // absent: now
  // Expires this many days after it was generated (expiresAt, session/retention.h). Absent: the store's
  // retention policy decides.
  std::optional<int64_t> retention_days = {};
  std::vector<otlp::Signal> signals = {otlp::Signal::kTraces, otlp::Signal::kMetrics, otlp::Signal::kLogs};
  // Members are compressed on a thread per core beside the encoder by default (the same bytes as inline).
  session::WriterOptions writer = {.compression_threads = session::CompressionThreadsPerCore()};
  // Called now and then with (traces generated, traces total), for progress bars.
  std::function<void(uint64_t, uint64_t)> progress = nullptr;
  // Stops the generation: the session is closed as failed, reason "interrupted", with what was written
  // (GenerateSeed then returns Cancelled). Not owned.
  Cancellation* cancel = nullptr;
  Clock* clock = nullptr;  // for the default start time and id; default RealClock()
};

struct PhaseSummary {
  std::string name;
  std::string annotation_key;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  uint64_t traces = 0;
  uint64_t error_traces = 0;
  std::vector<std::string> flags;
};

struct SeedResult {
  std::string session_id;
  uint64_t seed = 0;
  uint64_t traces = 0;
  uint64_t error_traces = 0;
  uint64_t spans = 0;
  uint64_t data_points = 0;
  uint64_t log_records = 0;
  std::string storage;  // where the session is: "<store>/sessions/<id>/"
  double duration_seconds = 0;
  std::vector<PhaseSummary> phases = {};
};

// The result's members, as `otelrr seed --json` and GET /api/seeds/{id} give them: seed, traces,
// errorTraces, spans, dataPoints, logRecords, storage, durationSeconds, phases [{name, annotationKey,
// startTime, endTime, durationSeconds, traces, errorTraces, flags}].
void WriteSeedResultFields(const SeedResult& result, JsonWriter* w);

// Checks a config: rate > 0 and finite, duration > 0, error rate in [0, 1], rate × duration a whole
// number of traces no larger than a sane bound, a known pattern, retention days in range. The message
// names the value and what is allowed.
absl::Status ValidateSeedConfig(const SeedConfig& config);

// Where a seed's requests go, in arrival order: a session's writer (GenerateSeed), or a consumer of the
// caller's (GenerateStream: `seed --live-only` hands them straight to the sender).
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // `counts`: the request's spans, data points and log records, and (when `counted`) its trace ids not
  // seen before; a request of metrics alone is not counted (a session's writer walks it instead). An error
  // stops the generation and is returned.
  virtual absl::Status Write(session::Record record, const session::RecordCounts& counts, bool counted) = 0;
};

// The seed `config` describes, generated into `sink` instead of a session: nothing is stored (no
// metadata.json, no annotations; config.session_id, writer and retention_days are not used). The records
// are exactly those GenerateSeed would write for the same config. config.start_time_unix_nano must be set
// (the caller schedules by it). The result has no session id and no storage; its counts are what was
// written. Cancelled when config.cancel was cancelled; the sink's own errors as they came.
absl::StatusOr<SeedResult> GenerateStream(const SeedConfig& config, RecordSink& sink);

// Thread-compatible; GenerateSeed uses threads of its own (compression) and joins them before it returns.
class SeedGenerator {
 public:
  explicit SeedGenerator(session::SessionStore& sessions) : sessions_(sessions) {}

  absl::StatusOr<SeedResult> GenerateSeed(const SeedConfig& config);
  std::vector<std::string_view> ListPatterns() const { return BuiltinPatternNames(); }
  absl::StatusOr<Pattern> GetPattern(std::string_view name) const { return BuiltinPattern(name); }

 private:
  session::SessionStore& sessions_;
};

}  // namespace otelrr::generate

#endif  // OTELRR_GENERATE_GENERATOR_H_
