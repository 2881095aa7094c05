#include "replay/replay_service.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/status.h"
#include "session/session_id.h"

namespace otelrr::replay {

std::string_view ReplayStateName(ReplayState state) {
  switch (state) {
    case ReplayState::kRunning:
      return "running";
    case ReplayState::kCompleted:
      return "completed";
    case ReplayState::kFailed:
      return "failed";
    case ReplayState::kStopped:
      return "stopped";
  }
  return "unknown";
}

ReplayService::~ReplayService() {
  std::vector<Running*> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, r] : replays_) {
      r->cancel.store(true);
      all.push_back(r.get());
    }
  }
  for (Running* r : all) {
    std::call_once(r->joined, [r] { r->thread.join(); });
  }
}

absl::StatusOr<ReplayStatus> ReplayService::StartReplay(ReplayRequest request) {
  std::string session = request.session_id;
  if (session.empty() || session == "auto") {
    absl::StatusOr<std::string> picked = SelectSession(sessions_, request.strategy, request.session_type);
    if (!picked.ok()) return picked.status();
    session = *picked;
  } else {
    if (absl::Status s = session::ValidateSessionId(session); !s.ok()) return s;
    absl::StatusOr<session::SessionMetadata> m = sessions_.Load(session);
    if (!m.ok()) return m.status();
  }
  ReplayConfig config = std::move(request.config);
  config.session_id = session;
  if (absl::Status s = ValidateReplayConfig(config); !s.ok()) return s;

  std::lock_guard<std::mutex> lock(mu_);
  std::string id = fmt::format("replay-{}", next_id_++);
  auto running = std::make_unique<Running>();
  Running* r = running.get();
  r->status = {.replay_id = id, .session_id = session};
  r->status.report.session_id = session;
  r->status.report.endpoint = config.endpoint;
  config.cancel = &r->cancel;
  config.log_interval = std::min(config.log_interval, std::chrono::milliseconds(500));
  config.progress = [this, r](const ReplayReport& report) {
    std::lock_guard<std::mutex> guard(mu_);
    r->status.report = report;
    r->status.records_per_second =
        report.elapsed_seconds > 0 ? static_cast<double>(report.records_processed) / report.elapsed_seconds : 0;
  };
  ReplayStatus started = r->status;
  replays_[id] = std::move(running);
  r->thread = std::thread([this, r, config = std::move(config)] {
    absl::StatusOr<ReplayReport> report = RunReplay(sessions_, config);
    std::lock_guard<std::mutex> guard(mu_);
    if (!report.ok()) {
      r->status.state = ReplayState::kFailed;
      r->status.error = std::string(report.status().message());
      return;
    }
    r->status.report = *report;
    r->status.records_per_second =
        report->elapsed_seconds > 0 ? static_cast<double>(report->records_processed) / report->elapsed_seconds : 0;
    if (r->cancel.load()) {
      r->status.state = ReplayState::kStopped;
    } else if (report->failed_requests() > 0) {
      r->status.state = ReplayState::kFailed;
      r->status.error = report->first_error;
    } else {
      r->status.state = ReplayState::kCompleted;
    }
  });
  return started;
}

absl::StatusOr<ReplayStatus> ReplayService::GetReplayStatus(std::string_view replay_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = replays_.find(std::string(replay_id));
  if (it == replays_.end()) return absl::NotFoundError(fmt::format("no replay '{}'", replay_id));
  return it->second->status;
}

std::vector<ReplayStatus> ReplayService::ListReplays() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ReplayStatus> out;
  for (auto& [id, r] : replays_) out.push_back(r->status);
  return out;
}

absl::StatusOr<ReplayStatus> ReplayService::StopReplay(std::string_view replay_id) {
  Running* r = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = replays_.find(std::string(replay_id));
    if (it == replays_.end()) return absl::NotFoundError(fmt::format("no replay '{}'", replay_id));
    r = it->second.get();
    r->cancel.store(true);
  }
  // The thread ends within one request's send (the window drains); the entry stays for its status.
  std::call_once(r->joined, [r] { r->thread.join(); });
  return GetReplayStatus(replay_id);
}

absl::StatusOr<std::vector<session::SessionMetadata>> ReplayService::ListAvailableReplays() {
  absl::StatusOr<std::vector<session::SessionMetadata>> all = sessions_.List();
  if (!all.ok()) return all.status();
  std::vector<session::SessionMetadata> out;
  for (session::SessionMetadata& m : *all) {
    if (m.status != session::SessionStatus::kActive) out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.start_time_unix_nano > b.start_time_unix_nano; });
  return out;
}

absl::StatusOr<std::unique_ptr<session::SessionReader>> ReplayService::ReplayDataStream(std::string_view session_id,
                                                                                      otlp::Signal signal) {
  return sessions_.OpenReader(std::string(session_id), {.signals = {signal}});
}

}  // namespace otelrr::replay
