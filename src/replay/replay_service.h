// Replays that run in the background, several at once: the seed's OtlpReplayService and
// ReplayOrchestrator behind `otelrr serve`'s /api/replays.
//
//   replay::ReplayService replays(sessions);
//   absl::StatusOr<replay::ReplayStatus> r = replays.StartReplay({.session_id = "auto", .strategy = "latest",
//                                                                 .config = {.endpoint = "http://collector:4318"}});
//   replays.GetReplayStatus(r->replay_id);   // processed and total records, rate, lag, counts
//   replays.StopReplay(r->replay_id);        // finishes what is in flight, then reports
#ifndef OTELRR_REPLAY_REPLAY_SERVICE_H_
#define OTELRR_REPLAY_REPLAY_SERVICE_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
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
  std::string error = {};  // why it failed
  ReplayReport report = {};  // so far while running
  double records_per_second = 0;
};

class ReplayService {
 public:
  explicit ReplayService(session::SessionStore& sessions) : sessions_(sessions) {}
  // Stops every running replay and waits for them.
  ~ReplayService();
  ReplayService(const ReplayService&) = delete;
  ReplayService& operator=(const ReplayService&) = delete;

  // Selects the session, validates the config and starts the replay on its own thread.
  absl::StatusOr<ReplayStatus> StartReplay(ReplayRequest request);
  absl::StatusOr<ReplayStatus> GetReplayStatus(std::string_view replay_id);
  std::vector<ReplayStatus> ListReplays();
  // NotFound for an unknown id; a finished replay is left as it is.
  absl::StatusOr<ReplayStatus> StopReplay(std::string_view replay_id);
  // listAvailableReplays: the finished sessions, newest first.
  absl::StatusOr<std::vector<session::SessionMetadata>> ListAvailableReplays();
  // replayDataStream: one signal of a session, record by record in arrival order (each record one
  // Export*ServiceRequest, protobuf), for callers that send or inspect the data themselves.
  absl::StatusOr<std::unique_ptr<session::SessionReader>> ReplayDataStream(std::string_view session_id,
                                                                           otlp::Signal signal);

 private:
  struct Running {
    ReplayStatus status;  // guarded by ReplayService::mu_
    std::atomic<bool> cancel{false};
    std::once_flag joined;
    std::thread thread;
  };

  session::SessionStore& sessions_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Running>> replays_;
  uint64_t next_id_ = 1;
};

}  // namespace otelrr::replay

#endif  // OTELRR_REPLAY_REPLAY_SERVICE_H_
