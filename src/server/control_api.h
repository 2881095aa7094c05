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
//
// Errors are {"error": "<message>"} with 400 (bad body or id), 401 (token), 404, 405, 409 (a capture is
// active, or the session exists / is being captured), 500. With a token, every request needs
// "Authorization: Bearer <token>".
#ifndef OTELRR_SERVER_CONTROL_API_H_
#define OTELRR_SERVER_CONTROL_API_H_

#include <string>

#include "absl/status/statusor.h"
#include "capture/capture_service.h"
#include "net/http_server.h"
#include "session/session_store.h"

namespace otelrr::server {

class ControlApi : public net::HttpHandler {
 public:
  ControlApi(capture::CaptureService& capture, session::SessionStore& sessions, std::string token = "")
      : capture_(capture), sessions_(sessions), token_(std::move(token)) {}

  void Handle(net::HttpRequest request, net::HttpResponder respond) override;

 private:
  net::HttpResponse Route(const net::HttpRequest& request);

  capture::CaptureService& capture_;
  session::SessionStore& sessions_;
  const std::string token_;
};

// Parses a CaptureConfig JSON object (the seed's field names). An empty body is the default config.
// InvalidArgument naming the field for unknown fields, wrong types and invalid values.
absl::StatusOr<capture::CaptureConfig> ParseCaptureConfig(std::string_view json);

}  // namespace otelrr::server

#endif  // OTELRR_SERVER_CONTROL_API_H_
