// otelrr seed: generate a deterministic session from a pattern.
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <optional>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "annotate/annotation_service.h"
#include "cli/commands.h"
#include "cli/compression_flags.h"
#include "cli/io.h"
#include "cli/otlp_target.h"
#include "cli/replay_output.h"
#include "cli/retention_flags.h"
#include "cli/seed_flags.h"
#include "cli/stop_signals.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "generate/generator.h"
#include "replay/replay.h"
#include "session/record_pipe.h"
#include "session/session_store.h"
#include "session/time_format.h"

namespace otelrr::cli {
namespace {

struct SeedFlags {
  GeneratorFlags generator;
  std::string description;
  std::string session_id;
  std::optional<int64_t> retention_days;
  bool json = false;
  bool live = false;
  bool live_only = false;
  std::vector<std::string> given;  // the flags given that are about the stored session
  OtlpTargetFlags target;  // its compression flag is --live-compression: --compression is the session's
  CompressionFlags compression;
  bool endpoint_given = false;
  bool session_id_given = false;
  ClickHouseFlag clickhouse;
};


// A progress bar on standard error, redrawn at most ten times a second.
class ProgressBar {
 public:
  void Update(uint64_t done, uint64_t total) {
    auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    constexpr int kWidth = 30;
    int filled = total == 0 ? kWidth : static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\r[%s] %3d%%  %llu/%llu traces", bar.c_str(),
                 total == 0 ? 100 : static_cast<int>(done * 100 / total), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total));
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point last_{};
};

// The generator's requests into the pipe the sender reads; Cancelled once the sender stopped reading.
class PipeSink : public generate::RecordSink {
 public:
  explicit PipeSink(session::RecordPipe& pipe) : pipe_(pipe) {}
  absl::Status Write(session::Record record, const session::RecordCounts&, bool) override {
    if (pipe_.Push(std::move(record))) return absl::OkStatus();
    return absl::CancelledError("the sender stopped");
  }

 private:
  session::RecordPipe& pipe_;
};

// The pipe as one replay iteration's records (the pipe outlives the replay).
class PipeStream : public replay::RecordStream {
 public:
  explicit PipeStream(session::RecordPipe& pipe) : pipe_(pipe) {}
  absl::StatusOr<bool> Next(session::Record* out) override { return pipe_.Next(out); }

 private:
  session::RecordPipe& pipe_;
};

// seed --live-only: the generator runs on a thread of its own and hands each request to the sender
// through a bounded pipe, so it runs only as far ahead as the schedule lets the sender go: no session is
// written or read back, and memory stays bounded however long the seed. The replay schedules by the seed's
// own timeline (its start time and duration), as a replay of the stored seed would.
int RunLiveOnly(const SeedFlags& f, generate::SeedConfig config, replay::ReplayConfig live) {
  StopSignals stop;
  if (!config.start_time_unix_nano) {
    // The data happens now: generated with its real times, and the schedule starts at the seed's start, so
    // nothing needs moving on the way (as --timestamps relative would: a walk of every request).
    const Clock::TimePoint at = RealClock().Now();
    const uint64_t wall = RealClock().WallNowUnixNano();
    const uint64_t start = wall / 1'000'000 * 1'000'000;
    config.start_time_unix_nano = start;
    live.start = replay::ReplayConfig::Start{.at = at - std::chrono::nanoseconds(wall - start), .wall_unix_nano = start};
    live.timestamps = replay::TimestampMode::kNone;
  }
  const uint64_t start = *config.start_time_unix_nano;
  session::SessionMetadata metadata{.session_id = "live",
                                    .session_type = session::SessionType::kSeed,
                                    .start_time_unix_nano = start,
                                    .created_by = "otelrr seed --live-only"};
  metadata.first_arrival_unix_nano = start;
  metadata.last_arrival_unix_nano = start + static_cast<uint64_t>(std::llround(config.duration_seconds * 1e9));
  // A request is ~0.5-1 MB at most: a few are enough to keep the sender busy at any rate.
  session::RecordPipe pipe({.max_records = 64, .max_bytes = 16u << 20});
  absl::StatusOr<generate::SeedResult> generated = absl::UnknownError("not run");
  std::thread producer([&] {
    PipeSink sink(pipe);
    generated = generate::GenerateStream(config, sink);
    pipe.Finish(generated.ok() ? absl::OkStatus() : generated.status());
  });
  live.session_id = "live";
  live.cancel = &stop.cancellation();
  ReplayConsole console("seed", f.json);
  console.Attach(&live);
  if (!f.json) {
    std::fprintf(stderr, "otelrr seed: generating and sending live to %s over %.0f s, nothing stored; Ctrl-C stops\n",
                 live.endpoint.c_str(), config.duration_seconds);
  }
  absl::StatusOr<replay::ReplayReport> report = replay::RunReplayOfRecords(
      live,
      {.metadata = &metadata,
       .open_records = [&pipe]() -> absl::StatusOr<std::unique_ptr<replay::RecordStream>> {
         return std::unique_ptr<replay::RecordStream>(std::make_unique<PipeStream>(pipe));
       }});
  pipe.Close();  // the generator stops at its next request if the replay ended first
  producer.join();
  if (!report.ok()) return Fail(report.status());
  if (!generated.ok() && !absl::IsCancelled(generated.status())) {
    return Fail(Prefixed(generated.status(), "generating the seed"));
  }
  const int exit_code = ReplayConsole::ExitCode(*report, stop.signal());
  if (f.json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Field("pattern", config.pattern ? config.pattern->name : config.pattern_name);
    if (generated.ok()) generate::WriteSeedResultFields(*generated, &w);
    w.Key("live");
    w.BeginObject();
    ReplayConsole::WriteJson(*report, stop.signal(), &w);
    w.EndObject();
    w.EndObject();
    Print(w.str());
    Print("\n");
    return exit_code;
  }
  absl::Status delivered = replay::DeliveryStatus(*report);
  if (stop.signal() != 0) {
    Print(fmt::format("⏹ Live seed stopped by a signal after {} records\n", report->records_processed));
  } else {
    Print(delivered.ok() ? "✅ Live seed sent (nothing stored)\n" : "❌ Live seed failed\n");
  }
  if (generated.ok()) {
    Print(fmt::format("   Pattern: {} (seed {})\n", config.pattern ? config.pattern->name : config.pattern_name,
                      generated->seed));
    Print(fmt::format("   Traces: {} ({} with errors)\n", generated->traces, generated->error_traces));
  }
  Print(ReplayConsole::Details(*report));
  if (!delivered.ok()) Print(fmt::format("   Problem: {}\n", delivered.message()));
  return exit_code;
}

int RunSeed(const StoreFlag& store_flag, const SeedFlags& f) {
  absl::StatusOr<generate::SeedConfig> generated = GeneratorConfig(f.generator);
  if (!generated.ok()) {
    return absl::IsInvalidArgument(generated.status()) ? UsageError(generated.status()) : Fail(generated.status());
  }
  generate::SeedConfig config = *std::move(generated);
  config.description = f.description;
  if (f.session_id_given && f.session_id.empty()) {
    return UsageError("--session-id is empty: give the new session's id, or leave the flag out for a generated one");
  }
  config.session_id = f.session_id;
  config.retention_days = f.retention_days;
  if (absl::Status s = ApplyCompressionFlags(f.compression, &config.writer); !s.ok()) return UsageError(s);
  if (absl::Status s = generate::ValidateSeedConfig(config); !s.ok()) return UsageError(s);
  // --live: the session is then sent as a replay at 1x would send it (timestamps relative: the data
  // happens now), with the replay's sender.
  replay::ReplayConfig live;
  if (f.live_only) {
    // Nothing is stored: the flags that shape the stored session would silently do nothing.
    if (!f.given.empty()) {
      return UsageError(fmt::format("{} is about the stored session, and --live-only stores none: leave it out, or "
                                    "use --live to keep the session",
                                    f.given.front()));
    }
  }
  if (f.live || f.live_only) {
    if (absl::Status s = ApplyTargetFlags(f.target, &live); !s.ok()) return UsageError(s);
    live.speed = 1;
    live.timestamps = replay::TimestampMode::kRelative;
    live.replay_traces = live.replay_metrics = live.replay_logs = true;
    live.max_duration_seconds = config.duration_seconds + 60;
    if (absl::Status s = replay::ValidateReplayConfig(live); !s.ok()) return UsageError(s);
  } else if (f.endpoint_given) {
    return UsageError("--endpoint is for --live: without it the seed only writes the session");
  }
  if (f.live_only) return RunLiveOnly(f, std::move(config), std::move(live));

  absl::StatusOr<std::unique_ptr<annotate::ClickHouseSink>> sink = f.clickhouse.Open();
  if (!sink.ok()) return UsageError(sink.status());

  StopSignals stop;
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kWrite, "seed");
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  ProgressBar bar;
  if (isatty(STDERR_FILENO) == 1) {
    config.progress = [&bar](uint64_t done, uint64_t total) { bar.Update(done, total); };
  }
  config.cancel = &stop.cancellation();
  generate::SeedGenerator generator(sessions);
  absl::StatusOr<generate::SeedResult> r = generator.GenerateSeed(config);
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kCancelled) {
      std::fprintf(stderr, "\notelrr seed: stopped by a signal: %s; the session is kept as failed (interrupted)\n",
                   std::string(r.status().message()).c_str());
      return kExitInterrupted;
    }
    return Fail(r.status());
  }
  // The phase annotations also go to ClickHouse when it is configured (they are kept with the session either way).
  std::optional<annotate::SyncReport> synced;
  if (*sink != nullptr) {
    absl::StatusOr<annotate::SyncReport> sync = annotate::AnnotationService(sessions, sink->get()).Sync(r->session_id);
    if (!sync.ok()) {
      return Fail(fmt::format("session {} is complete, but its annotations could not be written to ClickHouse: {} "
                              "(they are kept with the session: `otelrr annotations sync {}` sends them later)",
                              r->session_id, sync.status().message(), r->session_id));
    }
    synced = *sync;
  }
  std::optional<replay::ReplayReport> sent;
  ReplayConsole console("seed", f.json);
  if (f.live) {
    live.session_id = r->session_id;
    live.cancel = &stop.cancellation();
    console.Attach(&live);
    if (!f.json) {
      std::fprintf(stderr, "otelrr seed: sending %s live to %s over %.0f s; Ctrl-C stops\n", r->session_id.c_str(),
                   live.endpoint.c_str(), config.duration_seconds);
    }
    absl::StatusOr<replay::ReplayReport> report = replay::RunReplay(sessions, live);
    if (!report.ok()) return Fail(report.status());
    sent = std::move(*report);
  }
  const int exit_code = sent ? ReplayConsole::ExitCode(*sent, stop.signal()) : 0;

  if (f.json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Field("sessionId", r->session_id);
    w.Field("pattern", config.pattern ? config.pattern->name : config.pattern_name);
    generate::WriteSeedResultFields(*r, &w);
    if (synced) w.Field("annotationsInClickHouse", synced->kept);
    if (sent) {
      w.Key("live");
      w.BeginObject();
      ReplayConsole::WriteJson(*sent, stop.signal(), &w);
      w.EndObject();
    }
    w.EndObject();
    Print(w.str());
    Print("\n");
    return exit_code;
  }
  Print("✅ Seed generation complete!\n");
  Print(fmt::format("   Session ID: {}\n", r->session_id));
  Print(fmt::format("   Pattern: {} (seed {})\n", config.pattern ? config.pattern->name : config.pattern_name, r->seed));
  Print(fmt::format("   Traces: {} ({} with errors)\n", r->traces, r->error_traces));
  Print(fmt::format("   Spans: {}  Data points: {}  Log records: {}\n", r->spans, r->data_points, r->log_records));
  for (const generate::PhaseSummary& p : r->phases) {
    Print(fmt::format("   Phase {}: {:.1f}s, {} traces ({} with errors){}{}\n", p.name,
                      static_cast<double>(p.end_unix_nano - p.start_unix_nano) / 1e9, p.traces, p.error_traces,
                      p.flags.empty() ? "" : ", flags: ", fmt::join(p.flags, ", ")));
  }
  Print(fmt::format("   Storage: {}\n", r->storage));
  if (synced) Print(fmt::format("   Annotations: {} in ClickHouse {}\n", synced->kept, (*sink)->Describe()));
  if (sent) {
    absl::Status delivered = replay::DeliveryStatus(*sent);
    if (stop.signal() != 0) {
      Print(fmt::format("⏹ Live send stopped by a signal after {} of {} records\n", sent->records_processed,
                        sent->records_total));
    } else {
      Print(delivered.ok() ? "✅ Live send complete\n" : "❌ Live send failed\n");
    }
    Print(ReplayConsole::Details(*sent));
    if (!delivered.ok()) Print(fmt::format("   Problem: {}\n", delivered.message()));
  }
  return exit_code;
}

}  // namespace

void AddSeedCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<SeedFlags>();
  CLI::App* cmd = app.add_subcommand("seed", "Generate a deterministic session of traces, metrics and logs from a pattern");
  AddGeneratorFlags(cmd, &f->generator);
  cmd->add_option("--description", f->description, "human-readable session description");
  cmd->add_option("--session-id", f->session_id, "the new session's id (default: seed-<time>-<random>)");
  AddRetentionDaysFlag(cmd, &f->retention_days);
  AddCompressionFlags(cmd, &f->compression);
  f->clickhouse.AddTo(cmd);
  AddStoreOption(cmd, store);
  cmd->add_flag("--json", f->json, "print the result as one JSON object");
  cmd->add_flag("--live", f->live, "also send the data to --endpoint in real time, as a 1x replay of the session");
  cmd->add_flag("--live-only", f->live_only,
                "send the data to --endpoint in real time without storing it: the generator feeds the sender "
                "directly, nothing is written (for load that need not be kept)");
  f->target.compression_flag = "--live-compression";
  AddTargetFlags(cmd, &f->target, "with --live: ");
  cmd->footer(R"(Simulated time: the session's timestamps span --duration seconds from --start-time, written as
fast as the machine allows. The same flags, --seed and --start-time give byte-identical raw files.

Examples:
  otelrr seed --preset quick
  otelrr seed --pattern payment-failure --duration 30 --description "Validation for issue #103"
  otelrr seed --seed 42 --pattern basic-topology --duration 30 --start-time 2026-01-01T00:00:00Z
  otelrr seed --pattern-file my-system.yaml --rate 100 --duration 300 --error-rate 0.02 --json)");
  cmd->callback([handler, store, f, cmd] {
    MarkGiven(*cmd, &f->generator);
    f->endpoint_given = cmd->count("--endpoint") > 0;
    f->session_id_given = cmd->count("--session-id") > 0;
    f->given.clear();
    for (const char* flag : {"--session-id", "--compression", "--compression-level", "--retention-days",
                             "--description", "--clickhouse", "--store"}) {
      if (cmd->count(flag) > 0) f->given.push_back(flag);
    }
    *handler = [store, f] { return RunSeed(*store, *f); };
  });
}

}  // namespace otelrr::cli
