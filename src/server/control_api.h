// The control API of `otelrr serve`: start and stop captures and manage sessions over HTTP, JSON in
// and out, without restarting the receivers.
//
//   POST   /api/captures              body: the seed's CaptureConfig    -> 201, the session's metadata
//   POST   /api/captures/{id}/stop                                       -> 200, the final metadata
//   GET    /api/captures/{id}         live counts while active          -> 200
//   GET    /api/captures              every capture session             -> 200, {"captures": [...]}
//   GET    /api/sessions              every session                     -> 200, {"sessions": [...]}
//   GET    /api/sessions/{id}                                            -> 200
//   DELETE /api/sessions/{id}         not while it is being captured    -> 204
//   POST   /api/replays               body: the seed's OrchestratorConfig -> 201, the replay's status
//   GET    /api/replays[/{id}]        processed and total records, rate, lag, counts
//   POST   /api/replays/{id}/stop     finishes what is in flight         -> 200, the final status
//
// Errors are {"error": "<message>"} with 400 (bad body or id), 401 (token), 404, 405, 409 (a capture is
// active, or the session exists / is being captured), 500. With a token, every request needs
// "Authorization: Bearer <token>".
#ifndef OTELRR_SERVER_CONTROL_API_H_
#define OTELRR_SERVER_CONTROL_API_H_

#include <string>

#include "absl/status/statusor.h"
#include "capture/capture_service.h"
#include "replay/replay_service.h"
#include "net/http_server.h"
#include "session/session_store.h"

namespace otelrr::server {

class ControlApi : public net::HttpHandler {
 public:
  ControlApi(capture::CaptureService& capture, replay::ReplayService& replays, session::SessionStore& sessions,
             std::string token = "")
      : capture_(capture), replays_(replays), sessions_(sessions), token_(std::move(token)) {}

  void Handle(net::HttpRequest request, net::HttpResponder respond) override;

 private:
  net::HttpResponse Route(const net::HttpRequest& request);

  net::HttpResponse RouteReplays(const net::HttpRequest& request, const std::vector<std::string_view>& seg);

  capture::CaptureService& capture_;
  replay::ReplayService& replays_;
  session::SessionStore& sessions_;
  const std::string token_;
};

// Parses a CaptureConfig JSON object (the seed's field names). An empty body is the default config.
// InvalidArgument naming the field for unknown fields, wrong types and invalid values.
absl::StatusOr<capture::CaptureConfig> ParseCaptureConfig(std::string_view json);
// Parses the seed's OrchestratorConfig (sessionId, selectionStrategy, sessionFilter.sessionType,
// maxDuration, loopEnabled, speedMultiplier, targetEndpoint, replayTraces/Metrics/Logs,
// timestampAdjustment) plus protocol, compression, services, headers and rewriteIds.
absl::StatusOr<replay::ReplayRequest> ParseReplayRequest(std::string_view json);
// The status of a replay as the API answers it.
std::string ReplayStatusJson(const replay::ReplayStatus& status);

}  // namespace otelrr::server

#endif  // OTELRR_SERVER_CONTROL_API_H_
