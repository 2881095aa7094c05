// otelrr seed: generate a deterministic session from a pattern.
#include <unistd.h>

#include <chrono>
#include <optional>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/otlp_target.h"
#include "cli/io.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "generate/generator.h"
#include "replay/replay.h"
#include "session/session_store.h"
#include "session/time_format.h"

namespace otelrr::cli {
namespace {

struct SeedFlags {
  std::string pattern = "basic-topology";
  std::string pattern_file;
  double duration = 60;
  double rate = 10;
  double error_rate = 0.05;
  uint64_t seed = 0;
  bool has_seed = false;
  std::string description;
  std::string session_id;
  std::string start_time;
  std::vector<std::string> signals;
  std::string preset;
  bool json = false;
  bool live = false;
  std::string endpoint;
  std::string protocol = "http/protobuf";
  std::string compression = "none";
  std::vector<std::string> headers;
  net::TlsFiles tls;
  bool duration_given = false;
  bool rate_given = false;
  bool pattern_given = false;
};

void Print(std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); }

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

int RunSeed(const StoreFlag& store_flag, const SeedFlags& f) {
  generate::SeedConfig config;
  config.pattern_name = f.pattern;
  config.duration_seconds = f.duration;
  config.traces_per_second = f.rate;
  config.error_rate = f.error_rate;
  if (!f.preset.empty()) {
    // The seed's seed:quick and seed:basic: basic-topology at 10 traces/s for 10 s or 30 s; explicit flags win.
    if (!f.duration_given) config.duration_seconds = f.preset == "quick" ? 10 : 30;
    if (!f.rate_given) config.traces_per_second = 10;
    if (!f.pattern_given) config.pattern_name = "basic-topology";
  }
  if (f.has_seed) config.seed = f.seed;
  config.description = f.description;
  config.session_id = f.session_id;
  if (!f.start_time.empty()) {
    absl::StatusOr<uint64_t> t = session::ParseRfc3339(f.start_time);
    if (!t.ok()) return Fail(fmt::format("--start-time '{}': {}", f.start_time, t.status().message()));
    config.start_time_unix_nano = *t;
  }
  if (!f.signals.empty()) {
    config.signals.clear();
    for (const std::string& name : f.signals) {
      otlp::Signal s;
      if (!otlp::ParseSignal(name, &s)) {
        return Fail(fmt::format("--signals: '{}' is not traces, metrics or logs", name));
      }
      config.signals.push_back(s);
    }
  }
  if (!f.pattern_file.empty()) {
    absl::StatusOr<std::string> text = ReadInput(f.pattern_file);
    if (!text.ok()) return Fail(text.status());
    absl::StatusOr<generate::Pattern> p = generate::ParsePattern(*text, f.pattern_file);
    if (!p.ok()) return Fail(p.status());
    config.pattern = std::move(*p);
  }
  if (absl::Status s = generate::ValidateSeedConfig(config); !s.ok()) return Fail(s);
  // --live: the session is then sent as a replay at 1x would send it (timestamps relative: the data
  // happens now), with the replay's sender.
  replay::ReplayConfig live;
  if (f.live) {
    live.endpoint = ResolveEndpoint(f.endpoint);
    absl::StatusOr<replay::Protocol> protocol = replay::ParseProtocol(f.protocol);
    if (!protocol.ok()) return Fail(fmt::format("--protocol: {}", protocol.status().message()));
    live.protocol = *protocol;
    if (f.compression != "gzip" && f.compression != "none") {
      return Fail(fmt::format("--compression '{}': use gzip or none", f.compression));
    }
    live.gzip = f.compression == "gzip";
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> headers = CollectHeaders(f.headers);
    if (!headers.ok()) return Fail(headers.status());
    live.headers = std::move(*headers);
    live.tls = net::TlsFilesFromEnvironment(f.tls);
    live.speed = 1;
    live.timestamps = replay::TimestampMode::kRelative;
    live.replay_traces = live.replay_metrics = live.replay_logs = true;
    live.max_duration_seconds = config.duration_seconds + 60;
  } else if (!f.endpoint.empty()) {
    return Fail("--endpoint is for --live: without it the seed only writes the session");
  }

  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open();
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  ProgressBar bar;
  if (isatty(STDERR_FILENO) == 1) {
    config.progress = [&bar](uint64_t done, uint64_t total) { bar.Update(done, total); };
  }
  generate::SeedGenerator generator(sessions);
  absl::StatusOr<generate::SeedResult> r = generator.GenerateSeed(config);
  if (!r.ok()) return Fail(r.status());
  std::optional<replay::ReplayReport> sent;
  if (f.live) {
    live.session_id = r->session_id;
    if (!f.json) {
      std::fprintf(stderr, "otelrr seed: sending %s live to %s over %.0f s\n", r->session_id.c_str(),
                   live.endpoint.c_str(), config.duration_seconds);
    }
    absl::StatusOr<replay::ReplayReport> report = replay::RunReplay(sessions, live);
    if (!report.ok()) return Fail(report.status());
    sent = std::move(*report);
  }
  const int exit_code = sent && sent->failed_requests() > 0 ? 1 : 0;

  if (f.json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Key("sessionId");
    w.String(r->session_id);
    w.Key("pattern");
    w.String(config.pattern ? config.pattern->name : config.pattern_name);
    w.Key("seed");
    w.Uint(r->seed);
    w.Key("traces");
    w.Uint(r->traces);
    w.Key("errorTraces");
    w.Uint(r->error_traces);
    w.Key("spans");
    w.Uint(r->spans);
    w.Key("dataPoints");
    w.Uint(r->data_points);
    w.Key("logRecords");
    w.Uint(r->log_records);
    w.Key("storage");
    w.String(r->storage);
    w.Key("durationSeconds");
    w.Double(r->duration_seconds);
    w.Key("phases");
    w.BeginArray();
    for (const generate::PhaseSummary& p : r->phases) {
      w.BeginObject();
      w.Key("name");
      w.String(p.name);
      w.Key("annotationKey");
      w.String(p.annotation_key);
      w.Key("startTime");
      w.String(session::FormatRfc3339Millis(p.start_unix_nano));
      w.Key("endTime");
      w.String(session::FormatRfc3339Millis(p.end_unix_nano));
      w.Key("durationSeconds");
      w.Double(static_cast<double>(p.end_unix_nano - p.start_unix_nano) / 1e9);
      w.Key("traces");
      w.Uint(p.traces);
      w.Key("errorTraces");
      w.Uint(p.error_traces);
      w.Key("flags");
      w.BeginArray();
      for (const std::string& flag : p.flags) w.String(flag);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    if (sent) {
      w.Key("live");
      w.BeginObject();
      w.Key("endpoint");
      w.String(sent->endpoint);
      w.Key("sentRequests");
      w.Uint(sent->sent_requests());
      w.Key("failedRequests");
      w.Uint(sent->failed_requests());
      w.Key("retries");
      w.Uint(sent->retries());
      w.Key("rejectedItems");
      w.Uint(sent->rejected_items());
      w.Key("elapsedSeconds");
      w.Double(sent->elapsed_seconds);
      w.Key("maxLagMs");
      w.Double(sent->max_lag_ms);
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
  if (sent) {
    Print(fmt::format("   Live: {} requests sent to {} ({} failed, {} retries, {} items rejected), lag max {:.2f} ms\n",
                      sent->sent_requests(), sent->endpoint, sent->failed_requests(), sent->retries(),
                      sent->rejected_items(), sent->max_lag_ms));
  }
  return exit_code;
}

}  // namespace

void AddSeedCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<SeedFlags>();
  CLI::App* cmd = app.add_subcommand("seed", "Generate a deterministic session of traces, metrics and logs from a pattern");
  cmd->add_option("--pattern", f->pattern, "built-in pattern (default: basic-topology; see 'otelrr patterns')");
  cmd->add_option("--pattern-file", f->pattern_file, "a pattern file of your own (docs/PATTERNS.md); overrides --pattern");
  cmd->add_option("--duration", f->duration, "simulated seconds the session spans (default: 60)");
  cmd->add_option("--rate", f->rate, "traces per second (default: 10); rate × duration must be a whole number");
  cmd->add_option("--error-rate", f->error_rate, "fraction of traces with an error, 0 to 1 (default: 0.05)");
  cmd->add_option("--seed", f->seed, "deterministic seed (default: random, printed and recorded)");
  cmd->add_option("--description", f->description, "human-readable session description");
  cmd->add_option("--session-id", f->session_id, "the new session's id (default: seed-<time>-<random>)");
  cmd->add_option("--start-time", f->start_time, "RFC 3339 time the data starts at (default: now)");
  cmd->add_option("--signals", f->signals, "signals to write (default: traces,metrics,logs)")->delimiter(',');
  cmd->add_option("--preset", f->preset, "quick (10 s) or basic (30 s) of basic-topology at 10 traces/s")
      ->check(CLI::IsMember({"quick", "basic"}));
  cmd->add_option("--store", store->uri, "session store: a path or file:// URI (default: $OTELRR_STORE or ./data)");
  cmd->add_flag("--json", f->json, "print the result as one JSON object");
  cmd->add_flag("--live", f->live, "also send the data to --endpoint in real time, as a 1x replay of the session");
  cmd->add_option("--endpoint", f->endpoint,
                  "with --live: the target (default: $REPLAY_DEFAULT_ENDPOINT, $OTEL_EXPORTER_OTLP_ENDPOINT or "
                  "http://localhost:4318)");
  cmd->add_option("--protocol", f->protocol, "with --live: http/protobuf|http/json|grpc (default: http/protobuf)");
  cmd->add_option("--compression", f->compression, "with --live: gzip|none (default: none)");
  cmd->add_option("--header", f->headers,
                  "with --live: extra request header NAME=VALUE (repeatable; also $OTEL_EXPORTER_OTLP_HEADERS)");
  AddTlsFlags(cmd, &f->tls);
  cmd->footer(R"(Simulated time: the session's timestamps span --duration seconds from --start-time, written as
fast as the machine allows. The same flags, --seed and --start-time give byte-identical raw files.

Examples:
  otelrr seed --preset quick
  otelrr seed --pattern payment-failure --duration 30 --description "Validation for issue #103"
  otelrr seed --seed 42 --pattern basic-topology --duration 30 --start-time 2026-01-01T00:00:00Z
  otelrr seed --pattern-file my-system.yaml --rate 100 --duration 300 --error-rate 0.02 --json)");
  cmd->callback([handler, store, f, cmd] {
    f->has_seed = cmd->count("--seed") > 0;
    f->duration_given = cmd->count("--duration") > 0;
    f->rate_given = cmd->count("--rate") > 0;
    f->pattern_given = cmd->count("--pattern") > 0;
    *handler = [store, f] { return RunSeed(*store, *f); };
  });
}

}  // namespace otelrr::cli
