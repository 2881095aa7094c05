// otelrr serve: the OTLP receivers and the control API, so captures start and stop without a restart.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "capture/capture_service.h"
#include "cli/commands.h"
#include "cli/otlp_target.h"
#include "cli/receivers.h"
#include "cli/stop_signals.h"
#include "common/status.h"
#include "fmt/format.h"
#include "net/address.h"
#include "net/otlp_exporter.h"
#include "replay/replay_service.h"
#include "server/control_api.h"
#include "session/session_store.h"

namespace otelrr::cli {
namespace {

struct ServeFlags {
  ReceiverFlags receivers;
  std::string api = "127.0.0.1:8080";
  std::string api_token;
  std::string forward;
  ClickHouseFlag clickhouse;
};

int RunServe(const StoreFlag& store_flag, const ServeFlags& f) {
  std::string token = f.api_token;
  if (token.empty()) {
    if (const char* env = std::getenv("OTELRR_API_TOKEN"); env != nullptr) token = env;
  }
  if (absl::Status s = ValidateReceiverFlags(f.receivers); !s.ok()) return UsageError(s);
  if (absl::StatusOr<net::HostPort> a = net::ParseHostPort(f.api); !a.ok()) return UsageError(Prefixed(a.status(), "--api"));
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
  annotate::AnnotationService annotations(sessions, sink->get());
  capture::CaptureService service(sessions,
                                  {.compression_threads = 1, .forward = forward.get(), .annotations = &annotations});
  absl::StatusOr<Receivers> receivers = StartReceivers(service, f.receivers);
  if (!receivers.ok()) return Fail(receivers.status());
  replay::ReplayService replays(sessions);
  server::ControlApi api(service, replays, sessions, {.token = token, .annotations = &annotations});
  absl::StatusOr<std::unique_ptr<net::HttpServer>> api_server = net::HttpServer::Start(
      {.address = f.api, .threads = 1, .max_body_bytes = 1 << 20}, api);
  if (!api_server.ok()) {
    receivers->Shutdown();
    return Fail(Prefixed(api_server.status(), "--api"));
  }
  std::fprintf(stderr, "otelrr serve: OTLP/HTTP on %s, OTLP/gRPC on %s, control API on http://%s/api%s; Ctrl-C stops\n",
               receivers->http->address().c_str(), receivers->grpc->address().c_str(),
               (*api_server)->address().c_str(), token.empty() ? "" : " (bearer token required)");
  std::fflush(stderr);

  stop.Wait();
  (*api_server)->Shutdown(std::chrono::seconds(5));
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
  cmd->add_option("--api-token", f->api_token, "require Authorization: Bearer <token> on the API (default: $OTELRR_API_TOKEN)");
  cmd->add_option("--forward", f->forward, "tee: also send every request to this OTLP endpoint (http:// or grpc://)");
  f->clickhouse.AddTo(cmd);
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
  POST   /api/replays               start a replay; body: an OrchestratorConfig (docs/CONCEPTS.md)
  GET    /api/replays[/{id}]        replays, with processed/total records, rate and lag
  GET    /api/replays/available     the sessions a replay can use
  POST   /api/replays/{id}/stop     stop one at once

Example:
  otelrr serve &
  curl -X POST localhost:8080/api/captures -d '{"sessionId":"debug-1","captureLogs":false}'
  curl -X POST localhost:8080/api/captures/debug-1/stop)");
  cmd->callback([handler, store, f] { *handler = [store, f] { return RunServe(*store, *f); }; });
}

}  // namespace otelrr::cli
