// otelrr replay: send a session to an OTLP endpoint on its own schedule.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "annotate/annotation_service.h"
#include "cli/commands.h"
#include "cli/otlp_target.h"
#include "cli/replay_output.h"
#include "cli/stop_signals.h"
#include "common/status.h"
#include "fmt/format.h"
#include "replay/replay.h"
#include "session/session_id.h"
#include "session/session_store.h"
#include "training/dataset.h"

namespace otelrr::cli {
namespace {

struct ReplayFlags {
  std::string session = "auto";
  std::string strategy = "latest";
  std::string filter_type;
  double duration = 3600;
  bool loop = false;
  double speed = 1.0;
  bool speed_given = false;
  OtlpTargetFlags target;
  std::string timestamps = "relative";
  bool traces = true;
  bool metrics = true;
  bool logs = true;
  std::vector<std::string> services;
  std::vector<std::string> phases;
  bool rewrite_ids = false;
  bool sequential = false;
  double log_interval = 60;
  std::string preset;
  bool json = false;
};

// The replay the flags describe, without its session. Errors are usage errors.
absl::StatusOr<replay::ReplayConfig> ConfigFromFlags(const ReplayFlags& f) {
  replay::ReplayConfig config;
  config.speed = f.speed;
  if (!f.speed_given) {
    if (const char* v = std::getenv("REPLAY_DEFAULT_SPEED"); v != nullptr && *v != '\0') {
      char* end = nullptr;
      config.speed = std::strtod(v, &end);
      if (end == v || *end != '\0') {
        return absl::InvalidArgumentError(fmt::format("REPLAY_DEFAULT_SPEED='{}' is not a number", v));
      }
    }
  }
  config.loop = f.loop;
  if (f.preset == "heavy") {  // replay:heavy: 2x, looped
    if (!f.speed_given) config.speed = 2.0;
    config.loop = true;
  }
  absl::StatusOr<replay::TimestampMode> ts = replay::ParseTimestampMode(f.timestamps);
  if (!ts.ok()) return Prefixed(ts.status(), "--timestamps");
  config.timestamps = *ts;
  if (absl::Status s = ApplyTargetFlags(f.target, &config); !s.ok()) return s;
  config.max_duration_seconds = f.duration;
  config.replay_traces = f.traces;
  config.replay_metrics = f.metrics;
  config.replay_logs = f.logs;
  config.services = f.services;
  config.rewrite_ids = f.rewrite_ids;
  if (!(f.log_interval > 0) || !std::isfinite(f.log_interval)) {
    return absl::InvalidArgumentError(fmt::format("--log-interval {} must be a positive number of seconds", f.log_interval));
  }
  config.log_interval = std::chrono::milliseconds(static_cast<int64_t>(f.log_interval * 1000));
  if (absl::Status s = replay::ValidateReplayConfig(config); !s.ok()) return s;
  return config;
}

// The windows of the named phases of `session` (replay --phases): its annotations (ClickHouse's when configured).
absl::StatusOr<std::vector<otlp::TimeWindow>> PhaseWindowsOf(session::SessionStore& sessions,
                                                             const ClickHouseFlag& clickhouse,
                                                             const std::string& session,
                                                             const std::vector<std::string>& phases) {
  absl::StatusOr<std::unique_ptr<annotate::ClickHouseSink>> sink = clickhouse.Open();
  if (!sink.ok()) return sink.status();
  annotate::AnnotationService annotations(sessions, sink->get());
  return training::ResolvePhaseWindows(sessions, annotations, session, phases);
}

// --session a,b,c: every session on its own schedule, all from one start (or one after another with
// --sequential), each with its own report, then their total.
int RunSeveralReplays(session::SessionStore& sessions, const ClickHouseFlag& clickhouse, const ReplayFlags& f,
                      const replay::ReplayConfig& base, const std::vector<std::string>& ids, StopSignals& stop) {
  std::vector<replay::ReplayConfig> configs;
  for (const std::string& id : ids) {
    if (id == "auto") return UsageError("--session: auto picks one session; list the sessions to replay together");
    if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return UsageError(Prefixed(s, "--session"));
    if (absl::StatusOr<session::SessionMetadata> m = sessions.Load(id); !m.ok()) return Fail(m.status());
    replay::ReplayConfig config = base;
    config.session_id = id;
    if (!f.phases.empty()) {
      absl::StatusOr<std::vector<otlp::TimeWindow>> windows = PhaseWindowsOf(sessions, clickhouse, id, f.phases);
      if (absl::IsInvalidArgument(windows.status())) {
        return UsageError(Prefixed(windows.status(), fmt::format("--phases (session {})", id)));
      }
      if (!windows.ok()) return Fail(windows.status());
      config.phases = f.phases;
      config.phase_windows = *std::move(windows);
    }
    config.cancel = &stop.cancellation();
    configs.push_back(std::move(config));
  }
  std::vector<std::unique_ptr<ReplayConsole>> consoles;
  for (replay::ReplayConfig& config : configs) {
    consoles.push_back(std::make_unique<ReplayConsole>("replay " + config.session_id, f.json));
    consoles.back()->Attach(&config);
  }
  if (!f.json) {
    std::fprintf(stderr, "otelrr replay: sessions %s -> %s (%s, speed %g%s%s, %s); Ctrl-C stops\n", f.session.c_str(),
                 base.endpoint.c_str(), std::string(replay::ProtocolName(base.protocol)).c_str(), base.speed,
                 base.loop ? ", loop" : "", f.duration != 3600 ? fmt::format(", {} s", f.duration).c_str() : "",
                 f.sequential ? "one after another" : "together");
  }
  std::vector<absl::StatusOr<replay::ReplayReport>> results(configs.size(), absl::CancelledError("not started"));
  Clock& clock = RealClock();
  const Clock::TimePoint started = clock.Now();
  if (f.sequential) {
    for (size_t i = 0; i < configs.size() && stop.signal() == 0; ++i) results[i] = replay::RunReplay(sessions, configs[i]);
  } else {
    // One start for all: each schedule counts from it, so the sessions play side by side.
    const replay::ReplayConfig::Start start{.at = clock.Now(), .wall_unix_nano = clock.WallNowUnixNano()};
    std::vector<std::thread> threads;
    for (size_t i = 0; i < configs.size(); ++i) {
      configs[i].start = start;
      threads.emplace_back([&, i] { results[i] = replay::RunReplay(sessions, configs[i]); });
    }
    for (std::thread& t : threads) t.join();
  }
  const double elapsed = std::chrono::duration<double>(clock.Now() - started).count();
  std::vector<replay::ReplayReport> reports;
  bool failed = false;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok()) {
      reports.push_back(*std::move(results[i]));
    } else if (!absl::IsCancelled(results[i].status()) || stop.signal() == 0) {
      std::fprintf(stderr, "otelrr replay: session %s: %s\n", configs[i].session_id.c_str(),
                   std::string(results[i].status().message()).c_str());
      failed = true;
    }
  }
  const int code = ReplayConsole::FinishSeveral(reports, elapsed, f.sequential, stop.signal(), f.json);
  return code == 0 && failed ? kExitFailed : code;
}

int RunReplayCommand(const StoreFlag& store_flag, const ClickHouseFlag& clickhouse, const ReplayFlags& f) {
  absl::StatusOr<replay::ReplayConfig> config = ConfigFromFlags(f);
  if (!config.ok()) return UsageError(config.status());
  StopSignals stop;
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kRead, "replay");
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  if (f.session.find(',') != std::string::npos) {
    std::vector<std::string> ids;
    for (size_t from = 0;;) {
      const size_t comma = f.session.find(',', from);
      ids.push_back(f.session.substr(from, comma == std::string::npos ? std::string::npos : comma - from));
      if (comma == std::string::npos) break;
      from = comma + 1;
    }
    return RunSeveralReplays(sessions, clickhouse, f, *config, ids, stop);
  }
  std::string session = f.session;
  if (session == "auto") {
    // --preset seed (the replay:seed of the original tool) is the latest seed session.
    const std::string type = f.preset == "seed" && f.filter_type.empty() ? "seed" : f.filter_type;
    absl::StatusOr<std::string> picked = replay::SelectSession(sessions, f.strategy, type);
    if (!picked.ok()) return Fail(picked.status());
    session = *picked;
  }
  config->session_id = session;
  if (!f.phases.empty()) {
    // The windows the named phases label, from the session's annotations (ClickHouse's when configured).
    absl::StatusOr<std::unique_ptr<annotate::ClickHouseSink>> sink = clickhouse.Open();
    if (!sink.ok()) return UsageError(sink.status());
    annotate::AnnotationService annotations(sessions, sink->get());
    absl::StatusOr<std::vector<otlp::TimeWindow>> windows =
        training::ResolvePhaseWindows(sessions, annotations, session, f.phases);
    if (absl::IsInvalidArgument(windows.status())) return UsageError(Prefixed(windows.status(), "--phases"));
    if (!windows.ok()) return Fail(windows.status());
    config->phases = f.phases;
    config->phase_windows = *std::move(windows);
  }
  config->cancel = &stop.cancellation();
  ReplayConsole console("replay", f.json);
  console.Attach(&*config);
  if (!f.json) {
    std::fprintf(stderr, "otelrr replay: session %s -> %s (%s, speed %g%s%s); Ctrl-C stops\n", session.c_str(),
                 config->endpoint.c_str(), std::string(replay::ProtocolName(config->protocol)).c_str(), config->speed,
                 config->loop ? ", loop" : "",
                 f.duration != 3600 ? fmt::format(", {} s", f.duration).c_str() : "");
  }
  absl::StatusOr<replay::ReplayReport> r = replay::RunReplay(sessions, *config);
  if (!r.ok()) return Fail(r.status());
  return console.Finish(*r, stop.signal());
}

}  // namespace

void AddReplayCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<ReplayFlags>();
  auto clickhouse = std::make_shared<ClickHouseFlag>();
  CLI::App* cmd = app.add_subcommand("replay", "Send a session to an OTLP endpoint on its own schedule");
  cmd->add_option("--session", f->session,
                  "session id, or auto (default: auto: chosen by --strategy); several ids a,b,c replay those "
                  "sessions together, each on its own schedule from one start");
  cmd->add_flag("--sequential", f->sequential, "with several sessions: replay them one after another instead");
  cmd->add_option("--strategy", f->strategy, "auto selection: latest|random|largest|smallest (default: latest)")
      ->check(CLI::IsMember({"latest", "random", "largest", "smallest"}));
  cmd->add_option("--filter-type", f->filter_type, "auto selection among seed|capture|training sessions")
      ->check(CLI::IsMember({"seed", "capture", "training"}));
  cmd->add_option("--duration", f->duration,
                  "stop after this many seconds of wall time (default: 3600); a longer schedule or a loop ends then");
  cmd->add_flag("--loop", f->loop, "replay again until --duration ends, with new trace and span ids each time");
  cmd->add_option("--speed", f->speed, "speed multiplier, 1 = real time, 0 = as fast as the target accepts (default: 1)");
  AddTargetFlags(cmd, &f->target);
  cmd->add_option("--timestamps", f->timestamps,
                  "none (as recorded), relative (the session's timeline moved to now, at --speed) or current (each "
                  "request's latest time becomes its send time) (default: relative)");
  AddSignalFlags(cmd, &f->traces, &f->metrics, &f->logs, "replay");
  cmd->add_option("--services", f->services, "keep only these service.name values")->delimiter(',');
  cmd->add_option("--phases", f->phases,
                  "replay only the items (spans, points, logs) of these phases, by each item's own time; the "
                  "schedule starts at the first phase's start")
      ->delimiter(',');
  clickhouse->AddTo(cmd);
  cmd->add_flag("--rewrite-ids", f->rewrite_ids, "give trace and span ids new values (as a loop iteration does)");
  cmd->add_option("--log-interval", f->log_interval,
                  "a progress line every this many seconds, whatever happens (default: 60)");
  cmd->add_option("--preset", f->preset, "seed (the latest seed session) or heavy (2x speed, loop)")
      ->check(CLI::IsMember({"seed", "heavy"}));
  AddStoreOption(cmd, store);
  cmd->add_flag("--json", f->json, "print the final report as one JSON object");
  cmd->footer(R"(Each request is sent at replay start + (its arrival - the first arrival) / speed; with
--timestamps relative its timestamps move with it (at speed 2 the session's timeline plays twice as fast,
durations included). Failed attempts are reported as they happen and a progress line comes every
--log-interval. Ctrl-C (or SIGTERM) stops at once and reports; a second Ctrl-C exits at once.
Exit 0 when everything sent was accepted, 1 when a request failed, was abandoned or had items rejected,
or nothing was sent, 130 when stopped by a signal.

Examples:
  otelrr replay --preset seed --endpoint http://localhost:4318
  otelrr replay --session seed-1 --speed 2 --timestamps current --protocol grpc --endpoint grpc://localhost:4317
  otelrr replay --protocol grpc --endpoint https://collector:4317 --certificate ca.pem
  otelrr replay --strategy largest --filter-type capture --loop --duration 300 --speed 0 --json
  otelrr replay --session seed-1 --phases failure --speed 0 --endpoint http://localhost:4318
  otelrr replay --session seed-a,seed-b --endpoint http://localhost:4318          both at once
  otelrr replay --session seed-a,seed-b --sequential --json

Several sessions (--session a,b,c): each is replayed with the same flags on its own schedule, all from
one common start (or each when the one before it ended, --sequential); --duration applies to each. The
report has one part per session and their total (with --json: {"ok", "mode", "sessions": [...],
"total": {...}}); the exit code is 1 when any of them went wrong.)");
  cmd->callback([handler, store, f, clickhouse, cmd] {
    f->speed_given = cmd->count("--speed") > 0;
    *handler = [store, f, clickhouse] { return RunReplayCommand(*store, *clickhouse, *f); };
  });
}

}  // namespace otelrr::cli
