// What the OTLP receivers (HTTP and gRPC) hand to the service behind them, and what they get back.
//
//   class Recorder : public net::ExportHandler {
//     void Export(net::ExportRequest request, net::ExportDone done) override {
//       ... validate, record ...
//       done({});                                          // 200 / OK, empty Export*ServiceResponse
//     }
//   };
//
// A receiver decodes the transport (HTTP framing or gRPC, Content-Encoding or grpc-encoding gzip, size
// limits) and nothing else: the body it passes on is the request message exactly as the client encoded
// it (protobuf or OTLP/JSON). The handler decides what the answer is and calls `done` exactly once, on
// any thread, possibly after Export returned (capture acknowledges only once a record is durable).
// Receivers map the result onto their protocol as the OTLP specification says:
//
//   result.status           OTLP/HTTP                        OTLP/gRPC
//   OK                      200 + Export*ServiceResponse     OK + Export*ServiceResponse
//   InvalidArgument         400 + google.rpc.Status          INVALID_ARGUMENT
//   Unavailable             503 + Retry-After                UNAVAILABLE + google.rpc.RetryInfo
//   ResourceExhausted       429 + Retry-After                RESOURCE_EXHAUSTED + RetryInfo
//   other                   HttpStatusOf (404, 409, 500...)  that code
//                           + google.rpc.Status
//
// The response message is built from partial_success (rejected items and a message; all zero means
// full success), in the request's encoding.
#ifndef OTELRR_NET_EXPORT_HANDLER_H_
#define OTELRR_NET_EXPORT_HANDLER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "otlp/schema.h"

namespace otelrr::net {

struct ExportRequest {
  otlp::Signal signal = otlp::Signal::kTraces;
  otlp::Transport transport = otlp::Transport::kHttp;
  otlp::Encoding encoding = otlp::Encoding::kProtobuf;
  // The decompressed request body: an Export*ServiceRequest in `encoding`.
  std::string body = {};
  // When the receiver had the whole request (before any queueing), unix nanoseconds.
  uint64_t arrival_unix_nano = 0;
  // The client, "ip:port", for logs.
  std::string peer = {};
};

struct PartialSuccess {
  // rejected_spans, rejected_data_points or rejected_log_records, by the request's signal.
  int64_t rejected = 0;
  std::string error_message;

  bool empty() const { return rejected == 0 && error_message.empty(); }
};

struct ExportResult {
  absl::Status status = {};
  PartialSuccess partial_success = {};
  // For Unavailable and ResourceExhausted: when the client may retry.
  std::chrono::milliseconds retry_after = std::chrono::milliseconds(0);
  // The HTTP status the target answered (OTLP/HTTP exporters); 0 for gRPC, and when no answer came.
  int http_status = 0;
};

using ExportDone = std::function<void(ExportResult)>;

// Implementations are thread-safe: every receiver thread calls Export at once.
class ExportHandler {
 public:
  virtual ~ExportHandler() = default;
  // Called on a receiver thread. Must not block for long: queue the work and call `done` later.
  virtual void Export(ExportRequest request, ExportDone done) = 0;
};

// The Export*ServiceResponse of `signal` holding `partial` (empty when partial.empty()), in protobuf.
std::string EncodeExportResponse(otlp::Signal signal, const PartialSuccess& partial);
// The same in OTLP/JSON ("{}" when partial.empty()).
std::string EncodeExportResponseJson(otlp::Signal signal, const PartialSuccess& partial);
// A google.rpc.Status {code, message, details} in protobuf; with retry_after > 0 its details hold one
// google.rpc.RetryInfo {retry_delay}. `code` is the gRPC/absl status code number.
std::string EncodeRpcStatus(int code, std::string_view message, std::chrono::milliseconds retry_after);
// The same as JSON: {"code": N, "message": "..."} (details omitted).
std::string EncodeRpcStatusJson(int code, std::string_view message);

}  // namespace otelrr::net

#endif  // OTELRR_NET_EXPORT_HANDLER_H_
