// otelrr replay: send a session to an OTLP endpoint on its own schedule.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "annotate/annotation_service.h"
#include "cli/commands.h"
#include "replay/report_json.h"
#include "common/json_writer.h"
#include "cli/io.h"
#include "cli/otlp_target.h"
#include "cli/replay_output.h"
#include "cli/stop_signals.h"
#include "common/status.h"
#include "fmt/format.h"
#include "replay/replay.h"
#include "session/session_id.h"
#include "session/session_store.h"
#include "session/time_format.h"
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
  std::string shard;        // --shard K/N
  uint32_t shards = 0;      // --shards N: K from $JOB_COMPLETION_INDEX
  bool shards_given = false;
  bool whole_session = false;  // --whole-session: ignore a split
  std::string start_at;     // --start-at TIME
  double log_interval = 60;
  std::string preset;
  bool json = false;
};

// A whole number from 0 to 2^32 - 1, all of `text`.
bool ParseCount(std::string_view text, uint32_t* out) {
  uint64_t v = 0;
  if (text.empty() || text.size() > 10) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

// --shard K/N, or --shards N with K from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), and
// --start-at: where every shard's schedule starts.
absl::Status ApplyShardFlags(const ReplayFlags& f, replay::ReplayConfig* config) {
  if (!f.shard.empty() && f.shards_given) {
    return absl::InvalidArgumentError("give --shard K/N or --shards N (K from JOB_COMPLETION_INDEX), not both");
  }
  if (f.shards_given && f.shards == 0) {
    return absl::InvalidArgumentError("--shards 0: give the number of shards, 1 or more");
  }
  if (!f.shard.empty()) {
    const size_t slash = f.shard.find('/');
    uint32_t k = 0, n = 0;
    if (slash == std::string::npos || !ParseCount(std::string_view(f.shard).substr(0, slash), &k) ||
        !ParseCount(std::string_view(f.shard).substr(slash + 1), &n) || n == 0 || k >= n) {
      return absl::InvalidArgumentError(fmt::format(
          "--shard '{}' is not K/N with 0 <= K < N (shards count from 0, as Kubernetes' JOB_COMPLETION_INDEX does)", f.shard));
    }
    config->shard = k;
    config->shards = n;
  } else if (f.shards > 0) {
    const char* index = std::getenv("JOB_COMPLETION_INDEX");
    uint32_t k = 0;
    if (index == nullptr || !ParseCount(index, &k)) {
      return absl::InvalidArgumentError(
          "--shards N takes this process's shard from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), which is not "
          "set to a number here: give --shard K/N instead");
    }
    if (k >= f.shards) {
      return absl::InvalidArgumentError(
          fmt::format("JOB_COMPLETION_INDEX={} is not below --shards {}: give the Job as many completions as shards", k, f.shards));
    }
    config->shard = k;
    config->shards = f.shards;
  }
  config->use_split = !f.whole_session;
  if (!f.start_at.empty()) {
    uint64_t at = 0;
    if (f.start_at.find_first_not_of("0123456789") == std::string::npos) {  // unix nanoseconds
      auto [end, ec] = std::from_chars(f.start_at.data(), f.start_at.data() + f.start_at.size(), at);
      if (ec != std::errc() || end != f.start_at.data() + f.start_at.size()) {
        return absl::InvalidArgumentError(fmt::format("--start-at {} is not a time in unix nanoseconds", f.start_at));
      }
    } else {
      absl::StatusOr<uint64_t> t = session::ParseRfc3339(f.start_at);
      if (!t.ok()) {
        return absl::InvalidArgumentError(fmt::format(
            "--start-at '{}' is not an RFC 3339 time (2026-12-06T10:00:00Z) or unix nanoseconds", f.start_at));
      }
      at = *t;
    }
    Clock& clock = RealClock();
    const uint64_t now = clock.WallNowUnixNano();
    constexpr uint64_t kMaxAhead = 24ull * 3600 * 1'000'000'000;
    if (at > now + kMaxAhead) {
      return absl::InvalidArgumentError(fmt::format(
          "--start-at {} is {:.0f} hours ahead: give a time within the next 24 hours", f.start_at,
          static_cast<double>(at - now) / 3.6e12));
    }
    if (at + 1'000'000'000 < now) {
      return absl::InvalidArgumentError(fmt::format("--start-at {} is {:.1f} s in the past: give a time to come",
                                                    f.start_at, static_cast<double>(now - at) / 1e9));
    }
    const auto ahead = std::chrono::nanoseconds(static_cast<int64_t>(at - now));
    config->start = replay::ReplayConfig::Start{.at = clock.Now() + std::chrono::duration_cast<Clock::Duration>(ahead),
                                                .wall_unix_nano = at};
  }
  return absl::OkStatus();
}

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
  if (absl::Status s = ApplyShardFlags(f, &config); !s.ok()) return s;
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
    // One start for all (--start-at's, else now): each schedule counts from it, so the sessions play side by side.
    const replay::ReplayConfig::Start start =
        base.start.value_or(replay::ReplayConfig::Start{.at = clock.Now(), .wall_unix_nano = clock.WallNowUnixNano()});
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
    std::fprintf(stderr, "otelrr replay: session %s -> %s (%s, speed %g%s%s%s%s); Ctrl-C stops\n", session.c_str(),
                 config->endpoint.c_str(), std::string(replay::ProtocolName(config->protocol)).c_str(), config->speed,
                 config->loop ? ", loop" : "", f.duration != 3600 ? fmt::format(", {} s", f.duration).c_str() : "",
                 config->shards > 1 ? fmt::format(", shard {}/{}", config->shard, config->shards).c_str() : "",
                 f.start_at.empty() ? "" : fmt::format(", starting at {}", f.start_at).c_str());
  }
  absl::StatusOr<replay::ReplayReport> r = replay::RunReplay(sessions, *config);
  if (!r.ok()) return Fail(r.status());
  return console.Finish(*r, stop.signal());
}

struct ReportMergeFlags {
  std::vector<std::string> files;
  bool json = false;
};

// otelrr replay-report merge: the reports of the shards of one replay (or of any replays) as one total.
int RunReportMerge(const ReportMergeFlags& f) {
  std::vector<replay::ReplayReport> reports;
  for (const std::string& file : f.files) {
    absl::StatusOr<std::string> text = ReadInput(file);
    if (!text.ok()) return Fail(text.status());
    absl::StatusOr<replay::ReplayReport> r = replay::ParseReplayReportJson(*text);
    if (!r.ok()) return Fail(fmt::format("{}: {}", file, r.status().message()));
    reports.push_back(*std::move(r));
  }
  // Every shard of a sharded replay once: a missing or doubled report would make the total lie.
  std::vector<std::string> problems;
  std::map<std::string, std::vector<const replay::ReplayReport*>> by_session;
  for (const replay::ReplayReport& r : reports) by_session[r.session_id].push_back(&r);
  std::vector<std::string> ids;
  for (const auto& [id, group] : by_session) {
    ids.push_back(id);
    const uint32_t n = group.front()->shards;
    std::vector<int> seen(n, 0);
    for (const replay::ReplayReport* r : group) {
      if (r->shards != n) {
        problems.push_back(fmt::format("session {}: reports of {} and of {} shards", id, n, r->shards));
        continue;
      }
      seen[r->shard]++;
    }
    for (uint32_t k = 0; k < n && n > 1; ++k) {
      if (seen[k] == 0) problems.push_back(fmt::format("session {}: the report of shard {}/{} is missing", id, k, n));
      if (seen[k] > 1) problems.push_back(fmt::format("session {}: shard {}/{} is reported {} times", id, k, n, seen[k]));
    }
    if (n <= 1 && group.size() > 1) {
      problems.push_back(fmt::format("session {}: {} reports of an unsharded replay (each sent everything)", id, group.size()));
    }
  }
  const replay::ReplayReport total = replay::SumReports(reports);
  const absl::Status delivered = replay::DeliveryStatus(total);
  const bool ok = delivered.ok() && problems.empty();
  // How far apart the reports' first requests left: the start skew of shards given one --start-at.
  uint64_t first = UINT64_MAX, last = 0;
  for (const replay::ReplayReport& r : reports) {
    if (r.first_send_unix_nano == 0) continue;
    first = std::min(first, r.first_send_unix_nano);
    last = std::max(last, r.first_send_unix_nano);
  }
  const double skew_ms = last >= first ? static_cast<double>(last - first) / 1e6 : 0;
  if (f.json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Field("ok", ok);
    if (!delivered.ok()) w.Field("error", delivered.message());
    w.Field("reports", static_cast<uint64_t>(reports.size()));
    w.StringArray("problems", problems);
    w.Field("startSkewMs", skew_ms);
    replay::WriteReplayTotalFields(total, ids, &w);
    w.EndObject();
    Print(w.str());
    Print("\n");
  } else {
    Print(fmt::format("{} {} {} of {}\n", ok ? "✅" : "❌", reports.size(), reports.size() == 1 ? "report" : "reports",
                      fmt::join(ids, ", ")));
    Print(ReplayConsole::Details(total));
    Print(fmt::format("   First requests of the reports: {:.3f} ms apart\n", skew_ms));
    for (const std::string& p : problems) Print(fmt::format("   Problem: {}\n", p));
    if (!delivered.ok()) Print(fmt::format("   Problem: {}\n", delivered.message()));
  }
  return ok ? 0 : kExitFailed;
}

}  // namespace

void AddReplayReportCommand(CLI::App& app, Handler* handler) {
  auto f = std::make_shared<ReportMergeFlags>();
  CLI::App* cmd = app.add_subcommand("replay-report", "Work with the JSON reports of replays");
  cmd->require_subcommand(1);
  CLI::App* merge = cmd->add_subcommand("merge", "Add up the reports of the shards of one replay (or of several replays)");
  merge->add_option("FILE", f->files, "reports as `otelrr replay --json` printed them ('-': standard input)")->required();
  merge->add_flag("--json", f->json, "print the total as one JSON object");
  merge->footer(R"(Checks that every shard of a sharded replay is there once (0 to N-1); exits 0 only when it is and
every request of every report was delivered.

Example:
  for k in 0 1 2 3; do otelrr replay --session S --shard $k/4 --start-at $T --json > r$k.json & done; wait
  otelrr replay-report merge r0.json r1.json r2.json r3.json)");
  merge->callback([handler, f] { *handler = [f] { return RunReportMerge(*f); }; });
}

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
  cmd->add_option("--shard", f->shard,
                  "K/N: send only shard K (0 to N-1) of the session: N replayers send every item once, each trace "
                  "whole from one of them (docs/SCALE.md)");
  cmd->add_option("--shards", f->shards, "N shards, this one's K from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)");
  cmd->add_flag("--whole-session", f->whole_session,
                "with --shard: read the whole session and filter it, even when 'sessions split' made the shard's "
                "own session (which is read by default)");
  cmd->add_option("--start-at", f->start_at,
                  "begin the schedule at this wall-clock time (RFC 3339 or unix ns), e.g. the same for every shard");
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
    f->shards_given = cmd->count("--shards") > 0;
    *handler = [store, f, clickhouse] { return RunReplayCommand(*store, *clickhouse, *f); };
  });
}

}  // namespace otelrr::cli
