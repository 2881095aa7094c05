// The control API of `otelrr serve`: start and stop captures and replays and manage sessions over HTTP,
// JSON in and out, without restarting the receivers.
//
//   POST   /api/captures              body: a CaptureConfig              -> 201, the session's metadata
//   POST   /api/captures/{id}/stop                                       -> 200, the final metadata
//   GET    /api/captures/{id}         live counts while active, and its limits {maxSizeMB, maxDurationMinutes} -> 200
//   GET    /api/captures              every capture session             -> 200, {"captures": [...]}
//   POST   /api/captures/{id}/phase   body: {"name", "flags"} or {"end": true}: marks the start of a phase
//                                     (ending the one before) or ends it -> 200, {"phases": [...]}
//   GET    /api/sessions[?fields=summary]  every session (summary: without the file index) -> 200, {"sessions": [...]}
//   GET    /api/sessions/{id}                                            -> 200
//   DELETE /api/sessions/{id}         not while it is being written      -> 204
//   GET    /api/sessions/{id}/annotations[?key=PREFIX]                  -> 200, {"annotations": [...]}
//   POST   /api/sessions/{id}/annotations  body: an annotation, an array of them, or {"annotations": [...]}
//                                     (docs/ANNOTATIONS.md)             -> 201, {"annotations": [as stored]}
//   GET    /api/sessions/{id}/training  the TrainingDataset: phases, labels, counts per phase (docs/TRAINING.md)
//   POST   /api/replays               body: an OrchestratorConfig        -> 201, the replay's status
//   GET    /api/replays[/{id}]        processed and total records, rate, lag, counts
//   GET    /api/replays/available     the sessions a replay can use      -> 200, {"sessions": [...]}
//   POST   /api/replays/{id}/stop     stops it at once                   -> 200, the final status
//   GET    /api/storage               objects, bytes, sessions by status and type, and the scheduled
//                                     retention's interval and last report (session/retention.h) -> 200
//   GET    /api/sessions/{id}/timeline  requests, spans, error spans, data points and log records per
//                                     interval of arrival, services, phases (training/timeline.h) -> 200
//   POST   /api/sessions/{id}/verify  the session's files checked against metadata.json -> 200, the report
//   GET    /api/sessions/{id}/export[?signals=traces,logs]  OTLP JSON Lines (application/x-ndjson, an
//                                     attachment), streamed as the session is read (chunked)
//   GET    /api/patterns              the seed patterns (as `otelrr patterns --json`) -> 200, {"patterns": [...]}
//   POST   /api/seeds                 body: a seed request (ParseSeedRequest) -> 202, the seed's status
//   GET    /api/seeds[/{id}]          the seeds this server ran or runs (generate/seed_service.h)
//   GET    /api/stats                 the receivers' counters since start (CaptureService::stats) -> 200
//   GET    /api/info                  version, whether a token is required, the store, the OTLP receivers'
//                                     addresses; needs no token
//
// Every other GET is the web UI (embedded_files.h): "/" and its files, no token needed to load them (the
// UI then asks for the token when the API answers 401).
//
// Errors are {"error": "<message>"} (refusals of the HTTP server itself too, such as 413 for a body over
// the limit) with 400 (bad body or id), 401 (token), 404, 405, 409 (a capture is active, the session
// exists or is being written), 413, 429 (too many replays), 500, 503. With a token, every request needs
// "Authorization: Bearer <token>" (the scheme in any case, the token compared in constant time).
//
// Thread-safe: the HTTP server calls Handle from its threads. Requests that wait (stopping a capture
// waits for its last batch to be written) are answered from threads the API owns and joins: destroy the
// HTTP server first, then the ControlApi, then the services.
#ifndef OTELRR_SERVER_CONTROL_API_H_
#define OTELRR_SERVER_CONTROL_API_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "annotate/annotation_service.h"
#include "capture/capture_service.h"
#include "common/task_group.h"
#include "generate/seed_service.h"
#include "net/http_server.h"
#include "replay/replay_service.h"
#include "server/embedded_files.h"
#include "session/retention.h"
#include "session/session_store.h"

namespace otelrr::server {

struct ControlApiOptions {
  std::string token = {};  // empty: no token required
  // The annotations routes answer 503 without it. Not owned.
  annotate::AnnotationService* annotations = nullptr;
  // The retention policy serve runs on a schedule, for GET /api/storage; nullptr: none. Not owned; must
  // outlive the API.
  const session::RetentionScheduler* retention = nullptr;
  // The /api/seeds routes answer 503 without it. Not owned.
  generate::SeedService* seeds = nullptr;
  bool ui = true;          // serve the web UI
  std::string ui_dir = {};  // from this directory instead of the embedded files
  std::string store = {};   // how the store is described to GET /api/info
  std::string otlp_http = {};  // the OTLP receivers' addresses, for GET /api/info ("" when none)
  std::string otlp_grpc = {};
  // The instance name (session/shared.h) of captures started with a sessionId and no "instance" of their own:
  // serve --instance. Empty: such captures are plain.
  std::string instance = {};
};

class ControlApi : public net::HttpHandler {
 public:
  ControlApi(capture::CaptureService& capture, replay::ReplayService& replays, session::SessionStore& sessions,
             ControlApiOptions options = {})
      : capture_(capture),
        replays_(replays),
        sessions_(sessions),
        options_(std::move(options)),
        ui_({.dir = options_.ui_dir}) {}

  void Handle(net::HttpRequest request, net::HttpResponder respond) override;
  net::HttpResponse Refusal(int status, std::string message) override;

 private:
  // One route: METHOD and a path pattern whose "{id}" segment matches any one segment.
  struct Route {
    std::string_view method;
    std::string_view pattern;
    net::HttpResponse (ControlApi::*handle)(const net::HttpRequest& request, std::string_view id);
    bool waits = false;  // answered from a thread of the API's own
  };
  static const std::vector<Route>& Routes();

  net::HttpResponse ListCaptures(const net::HttpRequest&, std::string_view);
  net::HttpResponse StartCapture(const net::HttpRequest& request, std::string_view);
  net::HttpResponse GetCapture(const net::HttpRequest&, std::string_view id);
  net::HttpResponse StopCapture(const net::HttpRequest&, std::string_view id);
  net::HttpResponse ListSessions(const net::HttpRequest& request, std::string_view);
  net::HttpResponse GetSession(const net::HttpRequest&, std::string_view id);
  net::HttpResponse DeleteSession(const net::HttpRequest&, std::string_view id);
  net::HttpResponse MarkPhase(const net::HttpRequest& request, std::string_view id);
  net::HttpResponse ListAnnotations(const net::HttpRequest& request, std::string_view id);
  net::HttpResponse AddAnnotations(const net::HttpRequest& request, std::string_view id);
  net::HttpResponse GetTraining(const net::HttpRequest&, std::string_view id);
  net::HttpResponse ListReplays(const net::HttpRequest&, std::string_view);
  net::HttpResponse StartReplay(const net::HttpRequest& request, std::string_view);
  net::HttpResponse ListAvailable(const net::HttpRequest&, std::string_view);
  net::HttpResponse GetReplay(const net::HttpRequest&, std::string_view id);
  net::HttpResponse StopReplay(const net::HttpRequest&, std::string_view id);
  net::HttpResponse GetStorage(const net::HttpRequest&, std::string_view);
  net::HttpResponse GetTimeline(const net::HttpRequest&, std::string_view id);
  net::HttpResponse VerifySession(const net::HttpRequest&, std::string_view id);
  net::HttpResponse SealSession(const net::HttpRequest&, std::string_view id);
  net::HttpResponse ExportSession(const net::HttpRequest& request, std::string_view id);
  net::HttpResponse ListPatterns(const net::HttpRequest&, std::string_view);
  net::HttpResponse StartSeed(const net::HttpRequest& request, std::string_view);
  net::HttpResponse ListSeeds(const net::HttpRequest&, std::string_view);
  net::HttpResponse GetSeed(const net::HttpRequest&, std::string_view id);
  net::HttpResponse GetStats(const net::HttpRequest&, std::string_view);
  net::HttpResponse GetInfo(const net::HttpRequest&, std::string_view);

  capture::CaptureService& capture_;
  replay::ReplayService& replays_;
  session::SessionStore& sessions_;
  const ControlApiOptions options_;
  const UiFiles ui_;
  TaskGroup waiting_;  // last: joined before anything its tasks use goes away
};

// Parses a CaptureConfig JSON object (sessionId, diagnosticSessionId, description, enabledFlags,
// captureTraces/Metrics/Logs, compressionEnabled, compression, compressionLevel, maxSizeMB, maxDurationMinutes, fsync, retentionDays). An empty body
// is the default config. InvalidArgument naming the field for unknown fields, wrong types and invalid
// values.
absl::StatusOr<capture::CaptureConfig> ParseCaptureConfig(std::string_view json);
// Parses an OrchestratorConfig (sessionId, selectionStrategy, sessionFilter.sessionType, maxDuration,
// loopEnabled, speedMultiplier, targetEndpoint, replayTraces/Metrics/Logs, timestampAdjustment) plus
// protocol, compression, services (or filterServices), headers, rewriteIds and phases (replay only those
// phases' items, ReplayService resolves them); targetEndpoint is required
// and must be an OTLP URL.
absl::StatusOr<replay::ReplayRequest> ParseReplayRequest(std::string_view json);
// Parses a seed request: pattern, durationSeconds, tracesPerSecond, errorRate, seed, sessionId,
// description, startTime (RFC 3339), signals (["traces", "metrics", "logs"]), retentionDays. An empty
// body seeds the defaults of `otelrr seed`. Values are checked by SeedService::Start (ValidateSeedConfig).
absl::StatusOr<generate::SeedConfig> ParseSeedRequest(std::string_view json);
// Parses the body of POST /api/sessions/{id}/annotations: one annotation object (annotation.h's JSON
// form), a JSON array of them, or {"annotations": [...]}; at most kMaxAnnotationsPerRequest.
inline constexpr size_t kMaxAnnotationsPerRequest = 10'000;
absl::StatusOr<std::vector<annotate::Annotation>> ParseAnnotations(std::string_view json);
// The status of a replay as the API answers it: replayId, status, error, recordsPerSecond and the
// report's fields (replay/report_json.h).
std::string ReplayStatusJson(const replay::ReplayStatus& status);

}  // namespace otelrr::server

#endif  // OTELRR_SERVER_CONTROL_API_H_
