// Replay: sends a session to an OTLP endpoint on the session's own schedule.
//
//   replay::ReplayConfig config{.session_id = "seed-1", .endpoint = "http://127.0.0.1:4318", .speed = 2};
//   absl::StatusOr<replay::ReplayReport> r = replay::RunReplay(sessions, config);   // blocks until done
//
// Timing (schedule.h): the record that arrived at `a` is sent at start + (a - origin + k × length) /
// speed, where origin is the first arrival among the replayed signals and k the loop iteration; speed 0
// sends as fast as the window allows. The schedule is absolute, so errors never accumulate, and the lag
// of every request behind it is measured. Traces, metrics and logs are one merged time order (the session
// reader's). `max_duration_seconds` is wall time: the replay stops sending when it is up (a schedule that
// goes on, a loop, waits for it), gives requests still unanswered `drain_grace` more, and ends.
//
// Each record is rewritten on the way (record_transform.h): only the listed services kept, timestamps
// moved (none | relative | current), trace and span ids remapped per loop iteration (and with
// rewrite_ids), cumulative metric series continued across iterations (otlp/cumulative.h).
//
// Delivery (sender.h): at most `window` requests (and `window_bytes`) in flight; a request that gets a
// retryable answer (HTTP 429, 502, 503, 504; gRPC UNAVAILABLE, RESOURCE_EXHAUSTED with RetryInfo,
// ABORTED, DEADLINE_EXCEEDED...) is sent again after the server's Retry-After / RetryInfo, else an
// exponential backoff with jitter, within max_attempts and max_retry_elapsed; 400, 413 and partial
// successes are never retried (rejections are counted). Nothing is dropped silently: a request is
// accepted, failed, or abandoned because the replay stopped (cancel, or the end of the duration) while it
// waited for a retry or an answer, and the report counts each.
//
// Cancel (ReplayConfig::cancel) takes effect at once: nothing more is sent or retried, and requests on
// the wire are cut off (their connection attempts too).
#ifndef OTELRR_REPLAY_REPLAY_H_
#define OTELRR_REPLAY_REPLAY_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancel.h"
#include "common/clock.h"
#include "net/otlp_exporter.h"
#include "otlp/rewrite.h"
#include "otlp/signal.h"
#include "session/record_pipe.h"
#include "session/session_store.h"

namespace otelrr::replay {

enum class TimestampMode { kNone, kRelative, kCurrent };
enum class Protocol { kHttpProtobuf, kHttpJson, kGrpc };

absl::StatusOr<TimestampMode> ParseTimestampMode(std::string_view s);  // none | relative | current
std::string_view TimestampModeName(TimestampMode mode);
absl::StatusOr<Protocol> ParseProtocol(std::string_view s);            // http/protobuf | http/json | grpc
std::string_view ProtocolName(Protocol protocol);

struct ReplayReport;

struct ReplayConfig {
  std::string session_id;
  // http(s)://host:port[/prefix]; for Protocol::kGrpc http:// or grpc:// (plain text), https:// or grpcs:// (TLS).
  std::string endpoint = "http://localhost:4318";
  Protocol protocol = Protocol::kHttpProtobuf;
  TimestampMode timestamps = TimestampMode::kRelative;
  double speed = 1.0;                  // 0: as fast as the target accepts
  double max_duration_seconds = 3600;  // wall time; the replay stops sending when it is up
  bool loop = false;
  bool rewrite_ids = false;
  bool replay_traces = true;
  bool replay_metrics = true;
  bool replay_logs = true;
  std::vector<std::string> services = {};  // keep only these service.name values; empty keeps all
  // Replay only the items of these phases (replay --phases): their names, and the time windows whose
  // items they label (training/dataset.h, PhaseLabeler::Windows, resolves them: the replay module does
  // not read annotations). Each request keeps the spans, data points and log records whose own time lies
  // in a window (otlp::KeepItemsInWindows); a request left empty is not sent. The schedule then runs from
  // the first window's start (or the first arrival, when later) to the last window's end (or the last
  // arrival, when earlier): a record is due at its arrival's offset from the phase's start, and
  // --timestamps relative puts the phase's start at the replay's start. Empty names: no phase filter.
  std::vector<std::string> phases = {};
  std::vector<otlp::TimeWindow> phase_windows = {};  // sorted by start, disjoint, each start < end
  // Send only shard `shard` of `shards` of every request (replay --shard K/N; otlp::KeepItemsOfShard):
  // N replayers with the same session and start send every item once between them, each trace whole
  // from one of them. A request with nothing of the shard is not sent (it counts as filtered).
  uint32_t shard = 0;
  uint32_t shards = 1;
  // With shards > 1: read the shard's own session when the session was split (`sessions split`, slice.h:
  // ShardSessionId) instead of reading the whole session and filtering it; the schedule and timestamps are
  // the whole session's either way. False: always filter the whole session.
  bool use_split = true;
  // Set by RunReplay (not by callers) when it reads the split's shard session of that name.
  std::string shard_session = {};
  std::vector<std::pair<std::string, std::string>> headers = {};
  net::TlsFiles tls = {};  // for https:// endpoints (gRPC too)
  bool gzip = false;
  size_t window = 64;             // requests in flight ...
  size_t window_bytes = 8 << 20;  // ... and their bytes (one request is always let through), so memory
                                  // stays bounded whatever the requests' size
  // A request is retried until it was tried this many times (0: no limit) or until retrying would end
  // later than max_retry_elapsed after its first attempt (as the Collector's retry_on_failure does).
  int max_attempts = 0;
  std::chrono::milliseconds max_retry_elapsed = std::chrono::seconds(60);
  std::chrono::milliseconds initial_backoff = std::chrono::milliseconds(100);
  std::chrono::milliseconds max_backoff = std::chrono::seconds(5);
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  // Once the duration is up, requests on the wire get this long to be answered; then they are abandoned.
  std::chrono::milliseconds drain_grace = std::chrono::seconds(2);
  std::chrono::milliseconds log_interval = std::chrono::seconds(60);
  // Called every log_interval, whatever happens (a dead endpoint too), with the report so far; on the
  // replay's thread.
  std::function<void(const ReplayReport&)> progress = nullptr;
  // Called when an attempt fails (it may be retried), with the failure's message; on the replay's thread.
  std::function<void(const std::string&)> on_error = nullptr;
  // Stops the replay at once (see above). Not owned.
  Cancellation* cancel = nullptr;
  // Where the schedule starts (schedule.h: the instant the first record is due, and the wall time it
  // stands for); unset: when RunReplay begins. Replays given the same start run side by side on one
  // timeline (`otelrr replay --session a,b`), each on its own schedule. The duration counts from it too.
  struct Start {
    Clock::TimePoint at;
    uint64_t wall_unix_nano = 0;
  };
  std::optional<Start> start = std::nullopt;
};

// Checks a config: speed >= 0 and finite, duration > 0, a signal selected, a valid endpoint URL, window
// > 0, attempts >= 0, phase windows sorted and disjoint. Errors name the setting and say what is allowed.
absl::Status ValidateReplayConfig(const ReplayConfig& config);

struct SignalReport {
  uint64_t sent_requests = 0;       // requests sent (first attempts)
  uint64_t accepted_requests = 0;   // answered success (possibly partial)
  uint64_t failed_requests = 0;     // given up: not retryable, or out of attempts
  uint64_t abandoned_requests = 0;  // unanswered or waiting for a retry when the replay stopped
  uint64_t retries = 0;             // extra attempts
  uint64_t items = 0;               // spans, data points or log records in accepted requests
  uint64_t rejected_items = 0;      // partial_success rejections
  uint64_t filtered_requests = 0;   // dropped by the service filter (nothing left)
};

// Why a replay stopped sending.
enum class ReplayEnd { kFinished, kDuration, kCancelled };
std::string_view ReplayEndName(ReplayEnd end);  // "finished", "duration", "cancelled"

struct ReplayReport {
  std::string session_id;
  std::string endpoint;
  uint64_t iterations = 0;         // iterations that sent at least one record
  uint64_t records_processed = 0;  // records taken from the session (all iterations)
  uint64_t records_total = 0;      // in one iteration (selected signals)
  otlp::PerSignal<SignalReport> signals = {};
  double elapsed_seconds = 0;
  // How late requests left, behind their schedule (speed > 0): one percentile method (LatencyHistogram).
  double p50_lag_ms = 0;
  double p99_lag_ms = 0;
  double max_lag_ms = 0;
  std::string first_error;  // the first failure's message, if any
  std::string last_error;   // the latest one
  uint64_t in_flight = 0;   // now: requests on the wire ...
  uint64_t retrying = 0;    // ... and waiting for a retry
  ReplayEnd end = ReplayEnd::kFinished;
  // The service.name values of records the service filter dropped (at most 16), to say why nothing
  // was sent when the filter matched nothing.
  std::vector<std::string> filtered_services;
  // The phases replayed (ReplayConfig::phases); records without an item in them count as filtered.
  std::vector<std::string> phases;
  // Answers by the target's status (Sender::status_codes): {"200": 118, "503": 2}, {"OK": 120}.
  std::map<std::string, uint64_t> status_codes;
  // Where the replay is in the session: the arrival time of the latest record taken from it (0 before
  // the first), on the session's timeline [timeline_start, timeline_end) that the schedule runs over
  // (the first arrival to the last plus one mean gap; narrowed to the phases replayed).
  uint64_t position_unix_nano = 0;
  uint64_t timeline_start_unix_nano = 0;
  uint64_t timeline_end_unix_nano = 0;
  // Where timeline_start landed on the wall clock: --timestamps relative maps the session's time t to
  // start_wall + (t - timeline_start) / speed (speed 0: as at 1) in the first iteration (schedule.h).
  uint64_t start_wall_unix_nano = 0;
  // When the first request left (wall clock; 0: none did): with --start-at, its distance from
  // start_wall_unix_nano is how late this process started sending (the shards' start skew).
  uint64_t first_send_unix_nano = 0;
  uint32_t shard = 0;   // ReplayConfig::shard and shards
  uint32_t shards = 1;
  std::string shard_session = {};  // the split's shard session read instead of the whole session, if any

  uint64_t sent_requests() const;
  uint64_t accepted_requests() const;
  uint64_t failed_requests() const;
  uint64_t abandoned_requests() const;
  uint64_t retries() const;
  uint64_t rejected_items() const;
  uint64_t filtered_requests() const;
  // Every request that was sent was accepted whole.
  bool delivered_everything() const { return failed_requests() + abandoned_requests() + rejected_items() == 0; }
};

// OK when something was sent and every request sent was accepted whole. Otherwise FailedPrecondition
// (or Unavailable when requests failed or were abandoned) saying what went wrong, each problem once:
// "3 of 60 requests failed (first error: ...)", "12 requests were abandoned when the replay stopped",
// "the target rejected 753 items (partial success: ...)", "nothing was sent: no record is of a listed
// service (the session's services include: cart, checkout)".
absl::Status DeliveryStatus(const ReplayReport& report);

// The reports of replays run as one (`otelrr replay --session a,b`) added up: session_id "a,b", the
// endpoint of the first, iterations, records and every signal's counts and status codes summed,
// elapsed_seconds and max_lag_ms the largest, the first error of the first report that has one and the
// last of the last, end the most abrupt (cancelled, else duration, else finished), filtered services
// and phases gathered. Percentiles do not add up: p50_lag_ms and p99_lag_ms stay 0 (report_json.h
// leaves them out of a total), and the position and timeline are left unset. DeliveryStatus of the sum
// is OK exactly when it is OK for every report that sent something.
ReplayReport SumReports(const std::vector<ReplayReport>& reports);

// Records in arrival order (session/record_pipe.h).
using session::RecordStream;
// Opens the records of one iteration of a replay.
using RecordsOpener = std::function<absl::StatusOr<std::unique_ptr<RecordStream>>()>;

// What RunReplay uses besides the config; tests inject their own.
struct ReplayDependencies {
  Clock* clock = nullptr;                 // default: RealClock()
  net::OtlpExporter* exporter = nullptr;  // default: one made from the config's endpoint
  // RunReplayOfRecords only: the records' metadata, whose timeline, counts and phases the replay schedules
  // and reports by (config.session_id is then only a name; not owned), and the opener of each iteration's
  // records.
  const session::SessionMetadata* metadata = nullptr;
  RecordsOpener open_records = nullptr;
};

// Runs a replay to the end (or until cancel / duration). Errors: the session cannot be read, the
// endpoint is not a valid URL. Delivery failures are in the report, not an error.
absl::StatusOr<ReplayReport> RunReplay(session::SessionStore& sessions, const ReplayConfig& config,
                                       const ReplayDependencies& dependencies = {});
// The same for records that are not a stored session (seed --live-only): dependencies.metadata and
// open_records are required.
absl::StatusOr<ReplayReport> RunReplayOfRecords(const ReplayConfig& config, const ReplayDependencies& dependencies);

// The orchestrator's selectSession: the session matching `type` (any when empty) chosen by `strategy`
// (latest | random | largest | smallest). NotFound with a clear message when none matches.
absl::StatusOr<std::string> SelectSession(session::SessionStore& sessions, std::string_view strategy,
                                          std::string_view type);

}  // namespace otelrr::replay

#endif  // OTELRR_REPLAY_REPLAY_H_
