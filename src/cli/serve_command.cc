// otelrr serve: the OTLP receivers and the control API, so captures start and stop without a restart; and
// the retention policy on a schedule.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "capture/capture_service.h"
#include "cli/commands.h"
#include "cli/otlp_target.h"
#include "cli/receivers.h"
#include "cli/redact_flags.h"
#include "cli/retention_flags.h"
#include "cli/stop_signals.h"
#include "common/status.h"
#include "fmt/format.h"
#include "generate/seed_service.h"
#include "net/address.h"
#include "net/otlp_exporter.h"
#include "replay/replay_service.h"
#include "server/control_api.h"
#include "training/dataset.h"
#include "session/session_store.h"

namespace otelrr::cli {
namespace {

struct ServeFlags {
  ReceiverFlags receivers;
  RedactFlags redact;
  std::string api = "127.0.0.1:8080";
  std::string api_token;
  std::string instance;
  std::string forward;
  ClickHouseFlag clickhouse;
  std::string retention_interval;
  RetentionFlags retention;
  std::string ui_dir;
  bool no_ui = false;
  bool insecure_api = false;
};

// Whether only this machine can reach an address the API listens on: 127.0.0.0/8, ::1 or localhost.
bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

// One line per scheduled retention run, and one per session it could not remove.
void ReportRetention(const absl::StatusOr<session::RetentionReport>& r) {
  if (!r.ok()) {
    std::fprintf(stderr, "otelrr serve: retention did not run: %s\n", std::string(r.status().message()).c_str());
    return;
  }
  std::fprintf(stderr, "otelrr serve: retention: %s\n", r->Summary().c_str());
  for (const session::RetentionDecision& d : r->sessions) {
    if (d.action == session::RetentionAction::kFailed) {
      std::fprintf(stderr, "otelrr serve: retention: session %s: %s\n", d.session_id.c_str(), d.reason.c_str());
    }
  }
  std::fflush(stderr);
}

int RunServe(const StoreFlag& store_flag, const ServeFlags& f) {
  std::string token = f.api_token;
  if (token.empty()) {
    if (const char* env = std::getenv("OTELRR_API_TOKEN"); env != nullptr) token = env;
  }
  absl::StatusOr<net::TlsServerFiles> tls = CheckReceiverFlags(f.receivers);  // the API's TLS too
  if (!tls.ok()) return UsageError(tls.status());
  absl::StatusOr<net::HostPort> api_address = net::ParseHostPort(f.api);
  if (!api_address.ok()) return UsageError(Prefixed(api_address.status(), "--api"));
  // The API starts captures, replays to any endpoint and deletes sessions: reachable from other machines, it
  // needs a token unless the operator says otherwise.
  if (token.empty() && !f.insecure_api && !IsLoopbackHost(api_address->host)) {
    return UsageError(fmt::format("--api {} can be reached from other machines, and the API has no token: give "
                                  "--api-token (or $OTELRR_API_TOKEN), or --insecure-api to serve it without one",
                                  f.api));
  }
  std::optional<std::chrono::nanoseconds> interval;
  if (!f.retention_interval.empty()) {
    absl::StatusOr<std::chrono::nanoseconds> d = session::ParseDuration(f.retention_interval);
    if (!d.ok()) return UsageError(Prefixed(d.status(), "--retention-interval"));
    if (d->count() == 0) return UsageError("--retention-interval must be positive: the policy runs every interval");
    interval = *d;
  } else if (f.retention.any()) {
    return UsageError("the retention flags need --retention-interval: how often the policy runs");
  }
  absl::StatusOr<session::RetentionPolicy> policy = RetentionPolicyOf(f.retention);
  if (!policy.ok()) return UsageError(policy.status());
  absl::StatusOr<std::unique_ptr<otlp::Redactor>> redactor = OpenRedactor(f.redact, !f.forward.empty());
  if (!redactor.ok()) return UsageError(redactor.status());
  // Before any thread starts (the forward exporter has threads): they all inherit the blocked signals.
  StopSignals stop;
  absl::StatusOr<std::unique_ptr<net::OtlpExporter>> opened = OpenForward(f.forward);
  if (!opened.ok()) return UsageError(opened.status());
  std::unique_ptr<net::OtlpExporter> forward = std::move(*opened);
  absl::StatusOr<std::unique_ptr<annotate::ClickHouseSink>> sink = f.clickhouse.Open();
  if (!sink.ok()) return UsageError(sink.status());

  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kCapture, "serve");
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  std::unique_ptr<store::ObjectStore> archive_store;
  if (interval && !f.retention.archive_to.empty()) {
    absl::StatusOr<std::unique_ptr<store::ObjectStore>> archive_opened = OpenArchive(f.retention, store_flag);
    if (!archive_opened.ok()) {
      const absl::Status& s = archive_opened.status();
      return s.code() == absl::StatusCode::kInvalidArgument ? UsageError(s) : Fail(s);
    }
    archive_store = std::move(*archive_opened);
  }
  std::optional<session::SessionStore> archive;
  if (archive_store != nullptr) archive.emplace(*archive_store);
  // Runs at once, then every interval, on its own thread; declared before the API, which reads its reports.
  std::optional<session::RetentionScheduler> retention;
  if (interval) {
    retention.emplace(sessions, session::RetentionScheduler::Options{.policy = *policy,
                                                                     .interval = *interval,
                                                                     .archive = archive ? &*archive : nullptr,
                                                                     .on_run = ReportRetention});
  }
  annotate::AnnotationService annotations(sessions, sink->get());
  capture::CaptureService service(sessions,
                                  {.compression_threads = 1,
                                   .forward = forward.get(),
                                   .annotations = &annotations,
                                   .redactor = redactor->get(),
                                   .redact_forward = f.redact.forward});
  absl::StatusOr<Receivers> receivers = StartReceivers(service, f.receivers, *tls);
  if (!receivers.ok()) return Fail(receivers.status());
  replay::ReplayService replays(
      sessions, {.phase_windows = [&](const std::string& session_id, const std::vector<std::string>& phases) {
        return training::ResolvePhaseWindows(sessions, annotations, session_id, phases);
      }});
  // Seeds from the API; their phases go to ClickHouse as `otelrr seed --clickhouse` sends them.
  generate::SeedService seeds(sessions, {.after = [&](const generate::SeedResult& r) -> absl::Status {
                                if (*sink == nullptr) return absl::OkStatus();
                                absl::StatusOr<annotate::SyncReport> synced = annotations.Sync(r.session_id);
                                if (synced.ok()) return absl::OkStatus();
                                return absl::UnavailableError(fmt::format(
                                    "session {} is complete, but its annotations could not be written to ClickHouse: "
                                    "{} (`otelrr annotations sync {}` sends them later)",
                                    r.session_id, synced.status().message(), r.session_id));
                              }});
  server::ControlApi api(service, replays, sessions,
                         {.token = token,
                          .annotations = &annotations,
                          .retention = retention ? &*retention : nullptr,
                          .seeds = &seeds,
                          .ui = !f.no_ui,
                          .ui_dir = f.ui_dir,
                          .store = (*store)->Describe(),
                          .otlp_http = receivers->http->address(),
                          .otlp_grpc = receivers->grpc->address(),
                          .instance = f.instance});
  absl::StatusOr<std::unique_ptr<net::HttpServer>> api_server = net::HttpServer::Start(
      {.address = f.api, .threads = 2, .max_body_bytes = 1 << 20, .tls = *tls}, api);
  if (!api_server.ok()) {
    receivers->Shutdown();
    return Fail(Prefixed(api_server.status(), "--api"));
  }
  const char* scheme = tls->enabled() ? "https" : "http";
  std::fprintf(stderr, "otelrr serve: OTLP/HTTP on %s, OTLP/gRPC on %s, control API on %s://%s/api%s%s; %sCtrl-C stops\n",
               receivers->http->address().c_str(), receivers->grpc->address().c_str(), scheme,
               (*api_server)->address().c_str(), token.empty() ? "" : " (bearer token required)",
               f.no_ui ? "" : fmt::format(", web UI on {}://{}/", scheme, (*api_server)->address()).c_str(),
               TlsNote(f.receivers.tls));
  std::fflush(stderr);

  stop.Wait();
  (*api_server)->Shutdown(std::chrono::seconds(5));
  if (retention) retention->Stop();  // a run in progress stops between two sessions
  receivers->Shutdown();
  if (std::optional<std::string> active = service.ActiveCapture()) {
    absl::StatusOr<session::SessionMetadata> m = service.StopCapture(*active);
    if (m.ok()) {
      std::fprintf(stderr, "otelrr serve: stopped capture %s (%llu spans, %llu data points, %llu log records)\n",
                   active->c_str(), static_cast<unsigned long long>(m->counts.spans),
                   static_cast<unsigned long long>(m->counts.data_points),
                   static_cast<unsigned long long>(m->counts.log_records));
    }
  }
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the OTLP receivers and a control API that starts and stops captures");
  AddReceiverFlags(cmd, &f->receivers);
  cmd->add_option("--api", f->api, "control API listen address (default: 127.0.0.1:8080; port 0 picks one)");
  cmd->add_option("--ui-dir", f->ui_dir, "serve the web UI from this directory instead of the files built in (development)")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--no-ui", f->no_ui, "do not serve the web UI (the API alone)");
  cmd->add_option("--api-token", f->api_token,
                  "require Authorization: Bearer <token> on the API (default: $OTELRR_API_TOKEN); needed when --api "
                  "is not a loopback address");
  cmd->add_option("--instance", f->instance,
                  "this serve's name as an instance of shared sessions: a capture started through the API with a "
                  "sessionId and no \"instance\" records as this instance, so several serves behind a load "
                  "balancer write one session (default: $OTELRR_INSTANCE)")
      ->envname("OTELRR_INSTANCE");
  cmd->add_flag("--insecure-api", f->insecure_api,
                "serve the API on a non-loopback --api address without a token (anyone who reaches it controls "
                "captures, replays and sessions)");
  cmd->add_option("--forward", f->forward, "tee: also send every request to this OTLP endpoint (http:// or grpc://)");
  AddRedactFlags(cmd, &f->redact);
  f->clickhouse.AddTo(cmd);
  cmd->add_option("--retention-interval", f->retention_interval,
                  "run the retention policy (the flags below, as 'otelrr sessions prune' takes them) at start and "
                  "then every interval: 1h, 30m, 1d");
  AddRetentionFlags(cmd, &f->retention, "with --retention-interval: ");
  AddStoreOption(cmd, store);
  cmd->add_option("--spool", store->spool,
                  "with an s3:// store: the local directory files are written to (and synced) before they are "
                  "uploaded, so an acknowledged request survives a crash (default: ~/.cache/otelrr/spool/<bucket>)");
  cmd->footer(R"(Control API (JSON in and out; errors as {"error": "..."}):
  POST   /api/captures              start a capture; body: a CaptureConfig (docs/CONCEPTS.md)
  POST   /api/captures/{id}/stop    stop it; returns the final metadata
  GET    /api/captures[/{id}]       captures, with live counts while active
  POST   /api/captures/{id}/phase   {"name": "failure", "flags": [...]} starts a phase now (ending the
                                    one before); {"end": true} ends it
  GET    /api/sessions[/{id}]       sessions
  DELETE /api/sessions/{id}         delete a session (not while it is captured)
  GET    /api/sessions/{id}/annotations[?key=PREFIX]
  POST   /api/sessions/{id}/annotations   an annotation, or an array (docs/ANNOTATIONS.md)
  POST   /api/replays               start a replay; body: an OrchestratorConfig (docs/CONCEPTS.md), "phases":
                                    ["failure"] replays only those phases' items
  GET    /api/sessions/{id}/training  the session as training data (docs/TRAINING.md)
  GET    /api/replays[/{id}]        replays, with processed/total records, rate and lag
  GET    /api/replays/available     the sessions a replay can use
  POST   /api/replays/{id}/stop     stop one at once
  GET    /api/storage               objects, bytes, sessions by status and type, the last retention run

Retention: with --retention-interval, the policy of 'otelrr sessions prune' runs at start and then every
interval, on a thread of serve's own, and each run is a line on standard error. A session being captured
is never removed (its lock is held).
)" + std::string(kRetentionRules) + R"(

Examples:
  otelrr serve &
  curl -X POST localhost:8080/api/captures -d '{"sessionId":"debug-1","captureLogs":false,"retentionDays":30}'
  curl -X POST localhost:8080/api/captures/debug-1/stop
  otelrr serve --retention-interval 1h --older-than 30d --keep-last 10 --max-total-size 50GB)");
  cmd->callback([handler, store, f] { *handler = [store, f] { return RunServe(*store, *f); }; });
}

}  // namespace otelrr::cli
