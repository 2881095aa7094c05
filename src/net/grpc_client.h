// An OTLP/gRPC client that sends Export*ServiceRequest messages as raw protobuf bytes, for forwarding
// (tee) and replay.
//
//   absl::StatusOr<std::unique_ptr<net::GrpcExporter>> e =
//       net::GrpcExporter::Create({.target = "collector:4317", .gzip = true});
//   net::GrpcExportResult r = (*e)->Export(otlp::Signal::kTraces, request_bytes);
//   if (r.code == absl::StatusCode::kUnavailable) sleep(r.retry_after) and retry ...;
//
//   (*e)->ExportAsync(otlp::Signal::kLogs, std::move(bytes), [](net::GrpcExportResult r) { ... });
//
// One exporter holds one channel (one HTTP/2 connection, reconnected by gRPC as needed) and is safe to
// use from many threads at once: calls are multiplexed on the connection. The exporter does not retry:
// it reports what happened, and the caller's retry policy decides.
#ifndef OTELRR_NET_GRPC_CLIENT_H_
#define OTELRR_NET_GRPC_CLIENT_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "otlp/schema.h"

namespace otelrr::net {

// The full gRPC method name of a signal's Export,
// "/opentelemetry.proto.collector.trace.v1.TraceService/Export" for traces.
std::string_view GrpcExportMethod(otlp::Signal signal);

struct GrpcExporterOptions {
  // host:port of the OTLP/gRPC server (a name is resolved through DNS); [::1]:port for IPv6.
  std::string target = "127.0.0.1:4317";
  // Compress requests with gzip (grpc-encoding: gzip).
  bool gzip = false;
  // Deadline of each call, from when it starts.
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  // Call metadata sent with every call (names lower case, as gRPC requires).
  std::vector<std::pair<std::string, std::string>> metadata = {};
  // TLS instead of plain text. The PEM contents (not file names): roots to trust (empty: the system's),
  // and for mutual TLS a client certificate chain and its private key.
  bool tls = false;
  std::string tls_root_certs = {};
  std::string tls_client_cert = {};
  std::string tls_client_key = {};
};

struct GrpcExportResult {
  // The call's gRPC status code; absl::StatusCode uses the same numbers. Calls that never reached a
  // server end with kUnavailable (no connection) or kDeadlineExceeded, as gRPC reports them.
  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string message;
  // The Export*ServiceResponse bytes when code is kOk (empty for a plain full success).
  std::string response;
  // The google.rpc.RetryInfo retry_delay from the error details; zero when the server sent none.
  std::chrono::milliseconds retry_after{0};

  bool ok() const { return code == absl::StatusCode::kOk; }
  absl::Status status() const;
};

class GrpcExporter {
 public:
  // InvalidArgument for an empty target. Does not connect: the first call does.
  static absl::StatusOr<std::unique_ptr<GrpcExporter>> Create(GrpcExporterOptions options);
  // Waits for the calls still in flight (each ends by its deadline at the latest).
  ~GrpcExporter();
  GrpcExporter(const GrpcExporter&) = delete;
  GrpcExporter& operator=(const GrpcExporter&) = delete;

  // Sends `request` (an Export*ServiceRequest of `signal`, protobuf) and waits for the answer.
  GrpcExportResult Export(otlp::Signal signal, std::string_view request);
  // Sends `request` and returns at once; `done` runs on a gRPC thread when the call ends and must not
  // block (queue the work elsewhere). The exporter must outlive the call: its destructor waits.
  void ExportAsync(otlp::Signal signal, std::string request, std::function<void(GrpcExportResult)> done);
  // The same without a copy of the bytes, which the caller may keep (to send again, say).
  void ExportAsync(otlp::Signal signal, std::shared_ptr<const std::string> request,
                   std::function<void(GrpcExportResult)> done);

  // Cancels every call in flight (each ends with kCancelled) and answers every later call kCancelled
  // at once, on the calling thread.
  void Cancel();

  // Like ExportAsync to an arbitrary method, for tests and diagnostics.
  void CallAsync(const std::string& method, std::string request, std::function<void(GrpcExportResult)> done);

  class Impl;

 private:
  explicit GrpcExporter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The retry delay of the first google.rpc.RetryInfo in `details`, a serialized google.rpc.Status (what
// gRPC carries in grpc-status-details-bin). Zero when there is none or the bytes are malformed.
std::chrono::milliseconds RetryDelayFromStatusDetails(std::string_view details);

}  // namespace otelrr::net

#endif  // OTELRR_NET_GRPC_CLIENT_H_
