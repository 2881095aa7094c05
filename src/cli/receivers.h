// What `otelrr capture` and `otelrr serve` share: the OTLP receivers in front of a capture service.
#ifndef OTELRR_CLI_RECEIVERS_H_
#define OTELRR_CLI_RECEIVERS_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "capture/capture_service.h"
#include "net/grpc_receiver.h"
#include "net/http_server.h"
#include "net/otlp_http_receiver.h"
#include "net/tls.h"

namespace otelrr::cli {

struct Receivers {
  std::unique_ptr<net::OtlpHttpReceiver> otlp_http;
  std::unique_ptr<net::HttpServer> http;
  std::unique_ptr<net::GrpcReceiver> grpc;

  // Stops taking requests; those in flight are answered first.
  void Shutdown();
  // Requests the receivers answered themselves (bad HTTP, path, method, type, encoding, size, gzip).
  uint64_t refused() const;
};

// The receivers' flags, shared by capture and serve.
struct ReceiverFlags {
  std::string http = "127.0.0.1:4318";
  std::string grpc = "127.0.0.1:4317";
  double http_timeout_seconds = 30;        // a whole request (after its first byte), and writing the answer
  double http_idle_timeout_seconds = 120;  // a kept-alive connection with no request
  net::TlsServerOptions tls = {};          // --tls-cert, --tls-key, --tls-client-ca: both receivers (and serve's API)
};
void AddReceiverFlags(CLI::App* cmd, ReceiverFlags* flags);

// Checks the flags that can be checked without binding (timeouts, address syntax, the TLS files). Errors name
// the flag.
absl::Status ValidateReceiverFlags(const ReceiverFlags& flags);
// "TLS; ", "mutual TLS; " or "": for the line a server prints when it is ready.
const char* TlsNote(const net::TlsServerOptions& tls);
// The TLS files of the flags, checked (net::LoadTlsServerFiles); empty without TLS flags.
absl::StatusOr<net::TlsServerFiles> ReceiverTls(const ReceiverFlags& flags);
// Starts OTLP/HTTP and OTLP/gRPC as `flags` say, both handing requests to `handler`. Errors name the
// flag (--http / --grpc / --http-timeout...) and the value.
absl::StatusOr<Receivers> StartReceivers(net::ExportHandler& handler, const ReceiverFlags& flags);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_RECEIVERS_H_
