// Seeds generated in the background, for `otelrr serve`'s API (POST /api/seeds): each seed on a thread of
// its own, its progress and result kept for GET /api/seeds/{id}.
//
//   SeedService seeds(sessions, {.after = [&](const SeedResult& r) { return annotations.Sync(...); }});
//   absl::StatusOr<SeedStatus> s = seeds.Start(config);   // at once: s->session_id, state kRunning
//   seeds.Get(s->session_id)->traces_done;                 // while it runs
//
// A seed is known by its session id (given, or chosen by Start so that the caller has it at once). At
// most max_running run at once (ResourceExhausted beyond); the latest max_finished finished seeds are
// kept. Destroying the service cancels the seeds still running (their sessions are closed as failed,
// "interrupted", as GenerateSeed does on a cancel) and joins their threads.
//
// Thread-safe.
#ifndef OTELRR_GENERATE_SEED_SERVICE_H_
#define OTELRR_GENERATE_SEED_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancel.h"
#include "common/json_writer.h"
#include "common/task_group.h"
#include "generate/generator.h"

namespace otelrr::generate {

enum class SeedState { kRunning, kCompleted, kFailed };
std::string_view SeedStateName(SeedState state);  // "running", "completed", "failed"

struct SeedStatus {
  std::string session_id;
  std::string pattern;
  SeedState state = SeedState::kRunning;
  std::string error = {};  // why it failed
  uint64_t traces_done = 0;
  uint64_t traces_total = 0;
  std::optional<SeedResult> result = {};  // when completed
};

// The status as the API answers it: sessionId, pattern, status, error, tracesDone, tracesTotal, and when
// completed result {seed, traces, errorTraces, spans, dataPoints, logRecords, durationSeconds, phases}.
void WriteJson(const SeedStatus& status, JsonWriter* w);

struct SeedServiceOptions {
  size_t max_running = 2;
  size_t max_finished = 100;
  // Run after a seed's session is complete (serve: send its phases to ClickHouse); an error fails the seed
  // (the session stays: the message should say so).
  std::function<absl::Status(const SeedResult&)> after = nullptr;
  Clock* clock = nullptr;  // the chosen session ids' time; default RealClock()
};

class SeedService {
 public:
  SeedService(session::SessionStore& sessions, SeedServiceOptions options = {});
  ~SeedService();
  SeedService(const SeedService&) = delete;
  SeedService& operator=(const SeedService&) = delete;

  // Validates the config (ValidateSeedConfig), chooses the session id when it has none, and starts the
  // seed. InvalidArgument for a bad config, AlreadyExists when the session exists or is being seeded,
  // ResourceExhausted when max_running seeds run already.
  absl::StatusOr<SeedStatus> Start(SeedConfig config);
  // NotFound for an id this service did not seed (or has forgotten).
  absl::StatusOr<SeedStatus> Get(std::string_view session_id);
  // Oldest first.
  std::vector<SeedStatus> List();

 private:
  struct Seed {
    SeedStatus status;             // guarded by mu_
    std::atomic<uint64_t> done{0};
    Cancellation cancel;
  };
  void Run(const std::shared_ptr<Seed>& seed, SeedConfig config);
  SeedStatus Snapshot(const Seed& seed) const;  // mu_ held

  session::SessionStore& sessions_;
  const SeedServiceOptions options_;
  Clock& clock_;
  std::mutex mu_;
  std::deque<std::shared_ptr<Seed>> seeds_;  // guarded by mu_; oldest first
  TaskGroup tasks_;                          // last: joined first
};

}  // namespace otelrr::generate

#endif  // OTELRR_GENERATE_SEED_SERVICE_H_
