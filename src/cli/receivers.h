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

// Checks what can be checked without binding (timeouts, address syntax) and reads the TLS files once
// (net::LoadTlsServerFiles: empty without TLS flags), for StartReceivers and any other listener of the
// command. Errors name the flag or the file.
absl::StatusOr<net::TlsServerFiles> CheckReceiverFlags(const ReceiverFlags& flags);
// "TLS; ", "mutual TLS; " or "": for the line a server prints when it is ready.
const char* TlsNote(const net::TlsServerOptions& tls);
// Starts OTLP/HTTP and OTLP/gRPC as `flags` say, with `tls` from CheckReceiverFlags, both handing requests to
// `handler`. Errors name the flag (--http / --grpc / --http-timeout...) and the value.
absl::StatusOr<Receivers> StartReceivers(net::ExportHandler& handler, const ReceiverFlags& flags,
                                         const net::TlsServerFiles& tls);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_RECEIVERS_H_
