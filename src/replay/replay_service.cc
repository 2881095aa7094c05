#include "replay/replay_service.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/status.h"
#include "session/session_id.h"

namespace otelrr::replay {
namespace {

double RecordsPerSecond(const ReplayReport& r) {
  return r.elapsed_seconds > 0 ? static_cast<double>(r.records_processed) / r.elapsed_seconds : 0;
}

}  // namespace

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
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& r : replays_) r->cancel.Cancel();
  finished_.wait(lock, [&] {
    return std::none_of(replays_.begin(), replays_.end(),
                        [](const auto& r) { return r->status.state == ReplayState::kRunning; });
  });
  for (auto& r : replays_) {
    if (r->thread.joinable()) r->thread.join();
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
  if (!config.phases.empty()) {
    if (!options_.phase_windows) return absl::UnimplementedError("this server cannot replay by phases");
    absl::StatusOr<std::vector<otlp::TimeWindow>> windows = options_.phase_windows(session, config.phases);
    if (!windows.ok()) return windows.status();
    config.phase_windows = *std::move(windows);
  }
  if (absl::Status s = ValidateReplayConfig(config); !s.ok()) return s;

  std::lock_guard<std::mutex> lock(mu_);
  Reap();
  const size_t running = static_cast<size_t>(std::count_if(
      replays_.begin(), replays_.end(), [](const auto& r) { return r->status.state == ReplayState::kRunning; }));
  if (running >= options_.max_running) {
    return absl::ResourceExhaustedError(fmt::format(
        "{} replays are running, the most this server runs at once: stop one or wait for one to finish", running));
  }
  auto replay = std::make_unique<Replay>();
  Replay* r = replay.get();
  r->status = {.replay_id = fmt::format("replay-{}", next_id_++),
               .session_id = session,
               .speed = config.speed,
               .loop = config.loop,
               .protocol = config.protocol,
               .timestamps = config.timestamps,
               .max_duration_seconds = config.max_duration_seconds};
  r->status.report.session_id = session;
  r->status.report.endpoint = config.endpoint;
  config.cancel = &r->cancel;
  config.log_interval = options_.status_interval;
  config.progress = [this, r](const ReplayReport& report) {
    std::lock_guard<std::mutex> guard(mu_);
    r->status.report = report;
    r->status.records_per_second = RecordsPerSecond(report);
  };
  replays_.push_back(std::move(replay));
  r->thread = std::thread([this, r, config = std::move(config)]() mutable { Run(r, std::move(config)); });
  return r->status;
}

void ReplayService::Run(Replay* replay, ReplayConfig config) {
  absl::StatusOr<ReplayReport> report = RunReplay(sessions_, config, options_.dependencies);
  std::lock_guard<std::mutex> lock(mu_);
  ReplayStatus& status = replay->status;
  if (!report.ok()) {
    status.state = ReplayState::kFailed;
    status.error = std::string(report.status().message());
  } else {
    status.report = *report;
    status.records_per_second = RecordsPerSecond(*report);
    absl::Status delivered = DeliveryStatus(*report);
    if (report->end == ReplayEnd::kCancelled) {
      status.state = ReplayState::kStopped;
    } else if (!delivered.ok()) {
      status.state = ReplayState::kFailed;
      status.error = std::string(delivered.message());
    } else {
      status.state = ReplayState::kCompleted;
    }
  }
  finished_.notify_all();
}

void ReplayService::Reap() {
  size_t finished = 0;
  for (auto& r : replays_) {
    if (r->status.state == ReplayState::kRunning) continue;
    ++finished;
    // Its thread has nothing left to do but return: joining it does not wait.
    if (r->thread.joinable()) r->thread.join();
  }
  for (auto it = replays_.begin(); it != replays_.end() && finished > options_.max_finished;) {
    if ((*it)->status.state != ReplayState::kRunning) {
      it = replays_.erase(it);
      --finished;
    } else {
      ++it;
    }
  }
}

ReplayService::Replays::iterator ReplayService::Find(std::string_view replay_id) {
  return std::find_if(replays_.begin(), replays_.end(),
                      [&](const auto& r) { return r->status.replay_id == replay_id; });
}

absl::StatusOr<ReplayStatus> ReplayService::GetReplayStatus(std::string_view replay_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Reap();
  auto it = Find(replay_id);
  if (it == replays_.end()) return absl::NotFoundError(fmt::format("no replay '{}'", replay_id));
  return (*it)->status;
}

std::vector<ReplayStatus> ReplayService::ListReplays() {
  std::lock_guard<std::mutex> lock(mu_);
  Reap();
  std::vector<ReplayStatus> out;
  for (const auto& r : replays_) out.push_back(r->status);
  return out;
}

absl::StatusOr<ReplayStatus> ReplayService::StopReplay(std::string_view replay_id) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = Find(replay_id);
  if (it == replays_.end()) return absl::NotFoundError(fmt::format("no replay '{}'", replay_id));
  Replay* r = it->get();
  r->cancel.Cancel();
  // A cancelled replay cuts off what is on the wire and ends at once.
  finished_.wait(lock, [&] { return r->status.state != ReplayState::kRunning; });
  ReplayStatus status = r->status;
  Reap();
  return status;
}

absl::StatusOr<std::vector<session::SessionMetadata>> ReplayService::ListAvailableReplays() {
  absl::StatusOr<std::vector<session::SessionMetadata>> all = sessions_.List();
  if (!all.ok()) return all.status();
  std::vector<session::SessionMetadata> out;
  for (session::SessionMetadata& m : *all) {
    if (m.status != session::SessionStatus::kActive) out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.start_time_unix_nano > b.start_time_unix_nano; });
  return out;
}

absl::StatusOr<std::unique_ptr<session::SessionReader>> ReplayService::ReplayDataStream(std::string_view session_id,
                                                                                      otlp::Signal signal) {
  return sessions_.OpenReader(std::string(session_id), {.signals = {signal}});
}

}  // namespace otelrr::replay
