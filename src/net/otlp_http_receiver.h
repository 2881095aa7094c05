// OTLP/HTTP: POST /v1/traces, /v1/metrics and /v1/logs, as the OTLP specification defines them, in
// front of an ExportHandler.
//
//   net::OtlpHttpReceiver otlp(handler, {.max_request_bytes = 64 << 20});
//   auto server = net::HttpServer::Start({.address = "127.0.0.1:4318"}, otlp);
//
// Content-Type application/x-protobuf or application/json (parameters such as charset ignored), else
// 415. Content-Encoding gzip (decompressed here, the limit enforced while inflating, so a gzip bomb
// costs at most max_request_bytes) or identity, else 415. Other paths 404, other methods 405 with
// Allow: POST. A body that is not valid gzip, or exceeds the limit once decompressed: 400 / 413. The
// handler's result is answered in the request's encoding (handler docs: net/export_handler.h).
// Thread-safe: the HTTP server calls Handle from all its threads.
#ifndef OTELRR_NET_OTLP_HTTP_RECEIVER_H_
#define OTELRR_NET_OTLP_HTTP_RECEIVER_H_

#include <atomic>
#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "common/clock.h"
#include "net/export_handler.h"
#include "net/http_server.h"

namespace otelrr::net {

struct OtlpHttpReceiverOptions {
  // The largest request accepted once decompressed. Also give the HttpServer this as max_body_bytes.
  size_t max_request_bytes = 64u << 20;
  Clock* clock = nullptr;  // stamps arrival times; default RealClock()
};

class OtlpHttpReceiver : public HttpHandler {
 public:
  OtlpHttpReceiver(ExportHandler& handler, OtlpHttpReceiverOptions options = {})
      : handler_(handler), options_(options), clock_(options.clock != nullptr ? *options.clock : RealClock()) {}

  void Handle(HttpRequest request, HttpResponder respond) override;

  uint64_t requests() const { return requests_.load(); }
  uint64_t rejected() const { return rejected_.load(); }  // answered 4xx before reaching the handler

 private:
  ExportHandler& handler_;
  OtlpHttpReceiverOptions options_;
  Clock& clock_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> rejected_{0};
};

// Inflates a gzip body (one or more members) into `out`. InvalidArgument when it is not valid or
// complete gzip; ResourceExhausted as soon as the output would exceed `limit`.
absl::Status GunzipBounded(std::string_view in, size_t limit, std::string* out);

}  // namespace otelrr::net

#endif  // OTELRR_NET_OTLP_HTTP_RECEIVER_H_
