// Replays that run in the background, several at once: the OtlpReplayService and ReplayOrchestrator of
// `otelrr serve`'s /api/replays.
//
//   replay::ReplayService replays(sessions, {.max_running = 8});
//   absl::StatusOr<replay::ReplayStatus> r = replays.StartReplay({.session_id = "auto", .strategy = "latest",
//                                                                 .config = {.endpoint = "http://collector:4318"}});
//   replays.GetReplayStatus(r->replay_id);   // processed and total records, rate, lag, counts
//   replays.StopReplay(r->replay_id);        // stops at once, then reports
//
// Every replay runs on a thread the service owns: a finished replay's thread is joined at the next call
// (and by the destructor, which stops whatever still runs), so none outlives the service. At most
// max_running replays run at once (StartReplay answers ResourceExhausted beyond), and the status of the
// max_finished most recent finished ones is kept.
//
// Thread-safe: every member may be called from any thread.
#ifndef OTELRR_REPLAY_REPLAY_SERVICE_H_
#define OTELRR_REPLAY_REPLAY_SERVICE_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancel.h"
#include "common/clock.h"
#include "otlp/rewrite.h"
#include "replay/replay.h"
#include "session/session_store.h"

namespace otelrr::replay {

struct ReplayRequest {
  std::string session_id = "auto";  // or "auto" / empty: chosen by strategy and type
  std::string strategy = "latest";
  std::string session_type = {};  // seed | capture | training; empty: any
  ReplayConfig config = {};       // its session_id is set from the selection
};

enum class ReplayState { kRunning, kCompleted, kFailed, kStopped };
std::string_view ReplayStateName(ReplayState state);  // "running", "completed", "failed", "stopped"

struct ReplayStatus {
  std::string replay_id;
  std::string session_id;
  ReplayState state = ReplayState::kRunning;
  std::string error = {};    // why it failed (DeliveryStatus, or the error that ended it)
  ReplayReport report = {};  // so far while running
  double records_per_second = 0;
  // How it was asked to run (the dashboard shows them, and schedules "scheduled" by speed).
  double speed = 1;
  bool loop = false;
  Protocol protocol = Protocol::kHttpProtobuf;
  TimestampMode timestamps = TimestampMode::kRelative;
  double max_duration_seconds = 0;
};

struct ReplayServiceOptions {
  size_t max_running = 8;     // replays at once; beyond, StartReplay answers ResourceExhausted
  size_t max_finished = 100;  // finished replays whose status is kept (the oldest are forgotten)
  std::chrono::milliseconds status_interval = std::chrono::milliseconds(500);  // live report refresh
  ReplayDependencies dependencies = {};  // for every replay (tests inject a clock or an exporter)
  // The time windows of a session's named phases (ReplayConfig::phases): the replay module does not read
  // annotations, so whoever composes the service says where phases come from (serve: the training
  // reader). Without it, a request with phases is refused.
  std::function<absl::StatusOr<std::vector<otlp::TimeWindow>>(const std::string& session_id,
                                                              const std::vector<std::string>& phases)>
      phase_windows = {};
};

class ReplayService {
 public:
  explicit ReplayService(session::SessionStore& sessions, ReplayServiceOptions options = {})
      : sessions_(sessions), options_(options) {}
  // Stops every running replay and joins every thread.
  ~ReplayService();
  ReplayService(const ReplayService&) = delete;
  ReplayService& operator=(const ReplayService&) = delete;

  // Selects the session, validates the config and starts the replay on its own thread.
  // ResourceExhausted when max_running replays run already.
  absl::StatusOr<ReplayStatus> StartReplay(ReplayRequest request);
  // NotFound for an unknown (or forgotten) id.
  absl::StatusOr<ReplayStatus> GetReplayStatus(std::string_view replay_id);
  // Oldest first.
  std::vector<ReplayStatus> ListReplays();
  // Stops a running replay at once (requests on the wire are cut off) and returns its final status; a
  // finished replay is left as it is. NotFound for an unknown id.
  absl::StatusOr<ReplayStatus> StopReplay(std::string_view replay_id);
  // listAvailableReplays: the finished sessions, newest first.
  absl::StatusOr<std::vector<session::SessionMetadata>> ListAvailableReplays();
  // replayDataStream: one signal of a session, record by record in arrival order (each record one
  // Export*ServiceRequest, protobuf), for callers that send or inspect the data themselves.
  absl::StatusOr<std::unique_ptr<session::SessionReader>> ReplayDataStream(std::string_view session_id,
                                                                           otlp::Signal signal);

 private:
  struct Replay {
    ReplayStatus status;  // guarded by mu_
    Cancellation cancel;
    std::thread thread;   // joined by Reap once status.state is final
  };
  using Replays = std::list<std::unique_ptr<Replay>>;

  // Runs on the replay's thread.
  void Run(Replay* replay, ReplayConfig config);
  // Joins the threads of finished replays and forgets the oldest beyond max_finished. mu_ held.
  void Reap();
  Replays::iterator Find(std::string_view replay_id);  // mu_ held

  session::SessionStore& sessions_;
  const ReplayServiceOptions options_;
  std::mutex mu_;
  std::condition_variable finished_;  // a replay reached a final state
  Replays replays_;                   // guarded by mu_, oldest first
  uint64_t next_id_ = 1;              // guarded by mu_
};

}  // namespace otelrr::replay

#endif  // OTELRR_REPLAY_REPLAY_SERVICE_H_
