// otelrr replay: send a session to an OTLP endpoint on its own schedule.
#include <signal.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/otlp_target.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "replay/replay.h"
#include "session/session_store.h"

namespace otelrr::cli {
namespace {

std::atomic<bool> g_cancel{false};
void OnStopSignal(int) { g_cancel.store(true); }

struct ReplayFlags {
  std::string session = "auto";
  std::string strategy = "latest";
  std::string filter_type;
  double duration = 3600;
  bool loop = false;
  double speed = 1.0;
  bool speed_given = false;
  std::string endpoint;
  std::string protocol = "http/protobuf";
  std::string timestamps = "relative";
  bool traces = true;
  bool metrics = true;
  bool logs = true;
  std::vector<std::string> services;
  std::vector<std::string> headers;
  net::TlsFiles tls;
  std::string compression = "none";
  bool rewrite_ids = false;
  double log_interval = 60;
  double max_retry_seconds = 60;
  std::string preset;
  bool json = false;
};

void Print(std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); }

void PrintProgress(const replay::ReplayReport& r) {
  uint64_t sent = r.sent_requests();
  std::fprintf(stderr, "otelrr replay: %llu/%llu records (iteration %llu), %llu sent, %llu failed, %.1f s, lag p99 %.2f ms\n",
               static_cast<unsigned long long>(r.records_processed),
               static_cast<unsigned long long>(r.records_total), static_cast<unsigned long long>(r.iterations + 1),
               static_cast<unsigned long long>(sent), static_cast<unsigned long long>(r.failed_requests()),
               r.elapsed_seconds, r.p99_lag_ms);
}

int RunReplayCommand(const StoreFlag& store_flag, const ReplayFlags& f) {
  replay::ReplayConfig config;
  std::string session = f.session, strategy = f.strategy, filter_type = f.filter_type;
  config.speed = f.speed;
  if (!f.speed_given) {
    if (const char* v = std::getenv("REPLAY_DEFAULT_SPEED"); v != nullptr && *v != '\0') {
      char* end = nullptr;
      config.speed = std::strtod(v, &end);
      if (end == v || *end != '\0') return Fail(fmt::format("REPLAY_DEFAULT_SPEED='{}' is not a number", v));
    }
  }
  config.loop = f.loop;
  if (f.preset == "seed") {  // the seed's replay:seed: the latest seed session
    if (session == "auto") filter_type = "seed";
  } else if (f.preset == "heavy") {  // replay:heavy: 2x, looped
    if (!f.speed_given) config.speed = 2.0;
    config.loop = true;
  }
  absl::StatusOr<replay::TimestampMode> ts = replay::ParseTimestampMode(f.timestamps);
  if (!ts.ok()) return Fail(fmt::format("--timestamps: {}", ts.status().message()));
  config.timestamps = *ts;
  absl::StatusOr<replay::Protocol> protocol = replay::ParseProtocol(f.protocol);
  if (!protocol.ok()) return Fail(fmt::format("--protocol: {}", protocol.status().message()));
  config.protocol = *protocol;
  if (f.compression != "gzip" && f.compression != "none") {
    return Fail(fmt::format("--compression '{}': use gzip or none", f.compression));
  }
  config.gzip = f.compression == "gzip";
  config.endpoint = ResolveEndpoint(f.endpoint);
  config.max_duration_seconds = f.duration;
  config.replay_traces = f.traces;
  config.replay_metrics = f.metrics;
  config.replay_logs = f.logs;
  config.services = f.services;
  config.rewrite_ids = f.rewrite_ids;
  if (!(f.max_retry_seconds >= 0) || !std::isfinite(f.max_retry_seconds)) {
    return Fail(fmt::format("--max-retry-seconds {} must be 0 or more", f.max_retry_seconds));
  }
  config.max_retry_elapsed = std::chrono::milliseconds(static_cast<int64_t>(f.max_retry_seconds * 1000));
  if (!(f.log_interval > 0)) return Fail(fmt::format("--log-interval {} must be positive", f.log_interval));
  config.log_interval = std::chrono::milliseconds(static_cast<int64_t>(f.log_interval * 1000));
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> headers = CollectHeaders(f.headers);
  if (!headers.ok()) return Fail(headers.status());
  config.headers = std::move(*headers);
  config.tls = net::TlsFilesFromEnvironment(f.tls);
  if (absl::Status s = replay::ValidateReplayConfig(config); !s.ok()) return Fail(s);

  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open();
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  if (session == "auto") {
    absl::StatusOr<std::string> picked = replay::SelectSession(sessions, strategy, filter_type);
    if (!picked.ok()) return Fail(picked.status());
    session = *picked;
  }
  config.session_id = session;
  config.cancel = &g_cancel;
  config.progress = PrintProgress;
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (!f.json) {
    std::fprintf(stderr, "otelrr replay: session %s -> %s (%s, speed %g%s)\n", session.c_str(), config.endpoint.c_str(),
                 f.protocol.c_str(), config.speed, config.loop ? ", loop" : "");
  }
  absl::StatusOr<replay::ReplayReport> r = replay::RunReplay(sessions, config);
  if (!r.ok()) return Fail(r.status());
  const auto& t = r->signals[0];
  const auto& m = r->signals[1];
  const auto& l = r->signals[2];
  if (f.json) {
    JsonWriter w(true);
    w.BeginObject();
    w.Key("sessionId");
    w.String(r->session_id);
    w.Key("endpoint");
    w.String(r->endpoint);
    w.Key("iterations");
    w.Uint(r->iterations);
    w.Key("sentRequests");
    w.Uint(r->sent_requests());
    w.Key("failedRequests");
    w.Uint(r->failed_requests());
    w.Key("retries");
    w.Uint(r->retries());
    w.Key("spans");
    w.Uint(t.items);
    w.Key("dataPoints");
    w.Uint(m.items);
    w.Key("logRecords");
    w.Uint(l.items);
    w.Key("rejectedItems");
    w.Uint(r->rejected_items());
    w.Key("elapsedSeconds");
    w.Double(r->elapsed_seconds);
    w.Key("maxLagMs");
    w.Double(r->max_lag_ms);
    w.Key("p99LagMs");
    w.Double(r->p99_lag_ms);
    if (!r->first_error.empty()) {
      w.Key("firstError");
      w.String(r->first_error);
    }
    w.EndObject();
    Print(w.str());
    Print("\n");
  } else {
    Print(fmt::format("{} Replay {}: {}\n", r->failed_requests() == 0 ? "✅" : "❌",
                      r->failed_requests() == 0 ? "complete" : "finished with failures", r->session_id));
    Print(fmt::format("   Endpoint: {}  Iterations: {}  Elapsed: {:.2f} s\n", r->endpoint, r->iterations,
                      r->elapsed_seconds));
    Print(fmt::format("   Requests: {} sent, {} failed, {} retries\n", r->sent_requests(), r->failed_requests(),
                      r->retries()));
    Print(fmt::format("   Accepted: {} spans, {} data points, {} log records; {} items rejected\n", t.items, m.items,
                      l.items, r->rejected_items()));
    Print(fmt::format("   Lag behind schedule: p99 {:.2f} ms, max {:.2f} ms\n", r->p99_lag_ms, r->max_lag_ms));
    if (!r->first_error.empty()) Print(fmt::format("   First error: {}\n", r->first_error));
  }
  return r->failed_requests() == 0 ? 0 : 1;
}

}  // namespace

void AddReplayCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<ReplayFlags>();
  CLI::App* cmd = app.add_subcommand("replay", "Send a session to an OTLP endpoint on its own schedule");
  cmd->add_option("--session", f->session, "session id, or auto (default: auto: chosen by --strategy)");
  cmd->add_option("--strategy", f->strategy, "auto selection: latest|random|largest|smallest (default: latest)")
      ->check(CLI::IsMember({"latest", "random", "largest", "smallest"}));
  cmd->add_option("--filter-type", f->filter_type, "auto selection among seed|capture|training sessions")
      ->check(CLI::IsMember({"seed", "capture", "training"}));
  cmd->add_option("--duration", f->duration, "stop after this many seconds (default: 3600)");
  cmd->add_flag("--loop", f->loop, "replay again until --duration ends, with new trace and span ids each time");
  cmd->add_option("--speed", f->speed, "speed multiplier, 1 = real time, 0 = as fast as the target accepts (default: 1)");
  cmd->add_option("--endpoint", f->endpoint,
                  "target (default: $REPLAY_DEFAULT_ENDPOINT, $OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4318)");
  cmd->add_option("--protocol", f->protocol, "http/protobuf|http/json|grpc (default: http/protobuf)");
  cmd->add_option("--timestamps", f->timestamps, "none|relative|current (default: relative)");
  cmd->add_flag("--traces,!--no-traces", f->traces, "replay traces (default: yes)");
  cmd->add_flag("--metrics,!--no-metrics", f->metrics, "replay metrics (default: yes)");
  cmd->add_flag("--logs,!--no-logs", f->logs, "replay logs (default: yes)");
  cmd->add_option("--services", f->services, "keep only these service.name values")->delimiter(',');
  cmd->add_option("--header", f->headers, "extra request header NAME=VALUE (repeatable; also $OTEL_EXPORTER_OTLP_HEADERS)");
  AddTlsFlags(cmd, &f->tls);
  cmd->add_option("--compression", f->compression, "gzip|none (default: none)");
  cmd->add_flag("--rewrite-ids", f->rewrite_ids, "give trace and span ids new values (as a loop iteration does)");
  cmd->add_option("--max-retry-seconds", f->max_retry_seconds,
                  "retry a refused request (429, 502-504, UNAVAILABLE...) for at most this long (default: 60)");
  cmd->add_option("--log-interval", f->log_interval, "progress line every this many seconds (default: 60)");
  cmd->add_option("--preset", f->preset, "seed (the latest seed session) or heavy (2x speed, loop)")
      ->check(CLI::IsMember({"seed", "heavy"}));
  cmd->add_option("--store", store->uri, "session store: a path or file:// URI (default: $OTELRR_STORE or ./data)");
  cmd->add_flag("--json", f->json, "print the final report as one JSON object");
  cmd->footer(R"(Each request is sent at replay start + (its arrival - the session's first arrival) / speed. Exit 1
when any request failed (after retries of what is retryable).

Examples:
  otelrr replay --preset seed --endpoint http://localhost:4318
  otelrr replay --session seed-1 --speed 2 --timestamps current --protocol grpc --endpoint grpc://localhost:4317
  otelrr replay --protocol grpc --endpoint https://collector:4317 --certificate ca.pem
  otelrr replay --strategy largest --filter-type capture --loop --duration 300 --speed 0 --json)");
  cmd->callback([handler, store, f, cmd] {
    f->speed_given = cmd->count("--speed") > 0;
    *handler = [store, f] { return RunReplayCommand(*store, *f); };
  });
}

}  // namespace otelrr::cli
