// Replay: sends a session to an OTLP endpoint on the session's own schedule.
//
//   replay::ReplayConfig config{.session_id = "seed-1", .endpoint = "http://127.0.0.1:4318", .speed = 2};
//   absl::StatusOr<replay::ReplayReport> r = replay::RunReplay(sessions, config);   // blocks until done
//
// Timing: the record that arrived at `a` is sent at start + (a - session start + iteration × length) /
// speed, on an absolute schedule (errors never accumulate); speed 0 sends as fast as the window allows.
// Traces, metrics and logs are one merged time order (the session reader's). Lag behind the schedule is
// measured per request. Timestamps are patched in place (none | relative | current); loops shift each
// iteration by the session's length and remap trace and span ids per iteration (so does rewrite_ids),
// and continue cumulative metric series, which keep their start time and keep increasing from one
// iteration to the next (otlp/cumulative.h).
//
// Delivery: at most `window` requests (and `window_bytes`) in flight; a request that gets a retryable answer (HTTP 429, 502,
// 503, 504; gRPC UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED, DEADLINE_EXCEEDED...) is sent again after the
// server's Retry-After / RetryInfo, else an exponential backoff with jitter, up to max_attempts; 400, 413
// and partial successes are never retried (rejections are counted). Nothing is dropped silently.
#ifndef OTELRR_REPLAY_REPLAY_H_
#define OTELRR_REPLAY_REPLAY_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "net/otlp_exporter.h"
#include "otlp/schema.h"
#include "session/session_store.h"

namespace otelrr::replay {

enum class TimestampMode { kNone, kRelative, kCurrent };
enum class Protocol { kHttpProtobuf, kHttpJson, kGrpc };

absl::StatusOr<TimestampMode> ParseTimestampMode(std::string_view s);  // none | relative | current
absl::StatusOr<Protocol> ParseProtocol(std::string_view s);            // http/protobuf | http/json | grpc

struct ReplayConfig {
  std::string session_id;
  // http(s)://host:port[/prefix]; for Protocol::kGrpc http:// or grpc:// (plain text), https:// or grpcs:// (TLS).
  std::string endpoint = "http://localhost:4318";
  Protocol protocol = Protocol::kHttpProtobuf;
  TimestampMode timestamps = TimestampMode::kRelative;
  double speed = 1.0;                  // 0: as fast as the target accepts
  double max_duration_seconds = 3600;  // the replay stops after this long (wall time)
  bool loop = false;
  bool rewrite_ids = false;
  bool replay_traces = true;
  bool replay_metrics = true;
  bool replay_logs = true;
  std::vector<std::string> services = {};  // keep only these service.name values; empty keeps all
  std::vector<std::pair<std::string, std::string>> headers = {};
  net::TlsFiles tls = {};  // for https:// endpoints (gRPC too)
  bool gzip = false;
  size_t window = 64;  // requests in flight ...
  size_t window_bytes = 8 << 20;  // ... and their bytes (one request is always let through), so memory
                                  // stays bounded whatever the requests' size
  // A request is retried until it was tried this many times (0: no limit) or until retrying would end
  // later than max_retry_elapsed after its first attempt (as the Collector's retry_on_failure does).
  int max_attempts = 0;
  std::chrono::milliseconds max_retry_elapsed = std::chrono::seconds(60);
  std::chrono::milliseconds initial_backoff = std::chrono::milliseconds(100);
  std::chrono::milliseconds max_backoff = std::chrono::seconds(5);
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  std::chrono::milliseconds log_interval = std::chrono::seconds(60);
  // Called every log_interval with the report so far (progress lines).
  std::function<void(const struct ReplayReport&)> progress = nullptr;
  // Set to stop early (the replay finishes what is in flight and reports).
  const std::atomic<bool>* cancel = nullptr;
};

// Checks a config: speed >= 0 and finite, duration > 0, a signal selected, window > 0, attempts >= 0.
absl::Status ValidateReplayConfig(const ReplayConfig& config);

struct SignalReport {
  uint64_t sent_requests = 0;      // requests sent (first attempts)
  uint64_t accepted_requests = 0;  // answered success (possibly partial)
  uint64_t failed_requests = 0;    // gave up: not retryable, or out of attempts
  uint64_t retries = 0;            // extra attempts
  uint64_t items = 0;              // spans, data points or log records in accepted requests
  uint64_t rejected_items = 0;     // partial_success rejections
  uint64_t filtered_requests = 0;  // dropped by the service filter (nothing left)
};

struct ReplayReport {
  std::string session_id;
  std::string endpoint;
  uint64_t iterations = 0;
  uint64_t records_processed = 0;  // records taken from the session (all iterations)
  uint64_t records_total = 0;      // in one iteration (selected signals)
  std::array<SignalReport, 3> signals = {};
  double elapsed_seconds = 0;
  double max_lag_ms = 0;  // how late a request left, behind its schedule, at worst
  double p99_lag_ms = 0;
  std::string first_error;  // the first failure's message, if any

  uint64_t failed_requests() const;
  uint64_t sent_requests() const;
  uint64_t retries() const;
  uint64_t rejected_items() const;
};

// Runs a replay to the end (or until cancel / duration). Errors: the session cannot be read, the
// endpoint is not a valid URL. Delivery failures are in the report, not an error.
absl::StatusOr<ReplayReport> RunReplay(session::SessionStore& sessions, const ReplayConfig& config);

// The orchestrator's selectSession: the session matching `type` (any when empty) chosen by `strategy`
// (latest | random | largest | smallest). NotFound with a clear message when none matches.
absl::StatusOr<std::string> SelectSession(session::SessionStore& sessions, std::string_view strategy,
                                          std::string_view type);

}  // namespace otelrr::replay

#endif  // OTELRR_REPLAY_REPLAY_H_
