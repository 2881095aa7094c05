#include "generate/seed_service.h"

#include <cmath>

#include "fmt/format.h"
#include "session/session_id.h"

namespace otelrr::generate {

std::string_view SeedStateName(SeedState state) {
  switch (state) {
    case SeedState::kRunning:
      return "running";
    case SeedState::kCompleted:
      return "completed";
    case SeedState::kFailed:
      return "failed";
  }
  return "unknown";
}

void WriteJson(const SeedStatus& s, JsonWriter* w) {
  w->BeginObject();
  w->Field("sessionId", s.session_id);
  w->Field("pattern", s.pattern);
  w->Field("status", SeedStateName(s.state));
  if (!s.error.empty()) w->Field("error", s.error);
  w->Field("tracesDone", s.traces_done);
  w->Field("tracesTotal", s.traces_total);
  if (s.result) {
    w->Key("result");
    w->BeginObject();
    WriteSeedResultFields(*s.result, w);
    w->EndObject();
  }
  w->EndObject();
}

SeedService::SeedService(session::SessionStore& sessions, SeedServiceOptions options)
    : sessions_(sessions), options_(std::move(options)), clock_(options_.clock ? *options_.clock : RealClock()) {}

SeedService::~SeedService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::shared_ptr<Seed>& seed : seeds_) seed->cancel.Cancel();
  }
  // tasks_, destroyed first, joins the seeds' threads.
}

SeedStatus SeedService::Snapshot(const Seed& seed) const {
  SeedStatus s = seed.status;
  if (s.state == SeedState::kRunning) s.traces_done = seed.done.load(std::memory_order_relaxed);
  return s;
}

absl::StatusOr<SeedStatus> SeedService::Start(SeedConfig config) {
  if (config.session_id.empty()) config.session_id = session::NewSessionId("seed", clock_.WallNowUnixNano());
  if (absl::Status s = ValidateSeedConfig(config); !s.ok()) return s;
  absl::StatusOr<bool> exists = sessions_.Exists(config.session_id);
  if (!exists.ok()) return exists.status();
  if (*exists) {
    return absl::AlreadyExistsError(
        fmt::format("session {} exists already: give another session id, or none to have one chosen", config.session_id));
  }
  auto seed = std::make_shared<Seed>();
  seed->status.session_id = config.session_id;
  seed->status.pattern = config.pattern ? config.pattern->name : config.pattern_name;
  seed->status.traces_total = static_cast<uint64_t>(std::llround(config.traces_per_second * config.duration_seconds));
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t running = 0;
    for (const std::shared_ptr<Seed>& s : seeds_) {
      if (s->status.state != SeedState::kRunning) continue;
      ++running;
      if (s->status.session_id == config.session_id) {
        return absl::AlreadyExistsError(fmt::format("session {} is being seeded already", config.session_id));
      }
    }
    if (running >= options_.max_running) {
      return absl::ResourceExhaustedError(
          fmt::format("{} seeds are running already (at most {} at once): wait for one to finish", running,
                      options_.max_running));
    }
    seeds_.push_back(seed);
    // Forget the oldest finished seeds beyond max_finished.
    size_t finished = seeds_.size() - running - 1;
    for (auto it = seeds_.begin(); finished > options_.max_finished && it != seeds_.end();) {
      if ((*it)->status.state == SeedState::kRunning) {
        ++it;
      } else {
        it = seeds_.erase(it);
        --finished;
      }
    }
  }
  SeedStatus started = seed->status;
  tasks_.Run([this, seed, config = std::move(config)]() mutable { Run(seed, std::move(config)); });
  return started;
}

void SeedService::Run(const std::shared_ptr<Seed>& seed, SeedConfig config) {
  config.cancel = &seed->cancel;
  config.progress = [seed](uint64_t done, uint64_t) { seed->done.store(done, std::memory_order_relaxed); };
  SeedGenerator generator(sessions_);
  absl::StatusOr<SeedResult> r = generator.GenerateSeed(config);
  absl::Status after = absl::OkStatus();
  if (r.ok() && options_.after) after = options_.after(*r);
  std::lock_guard<std::mutex> lock(mu_);
  SeedStatus& s = seed->status;
  if (!r.ok()) {
    s.state = SeedState::kFailed;
    s.error = std::string(r.status().message());
    s.traces_done = seed->done.load();
    return;
  }
  s.traces_done = r->traces;
  s.result = std::move(*r);
  if (!after.ok()) {
    s.state = SeedState::kFailed;
    s.error = std::string(after.message());
    return;
  }
  s.state = SeedState::kCompleted;
}

absl::StatusOr<SeedStatus> SeedService::Get(std::string_view session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::shared_ptr<Seed>& s : seeds_) {
    if (s->status.session_id == session_id) return Snapshot(*s);
  }
  return absl::NotFoundError(fmt::format("no seed of session {} on this server", session_id));
}

std::vector<SeedStatus> SeedService::List() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SeedStatus> out;
  for (const std::shared_ptr<Seed>& s : seeds_) out.push_back(Snapshot(*s));
  return out;
}

}  // namespace otelrr::generate
