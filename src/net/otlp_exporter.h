// Sends OTLP requests to a downstream endpoint over OTLP/HTTP (protobuf) or OTLP/gRPC, and reports the
// downstream's answer as an ExportResult (net/export_handler.h), so a receiver can hand it on as is.
//
//   absl::StatusOr<std::unique_ptr<net::OtlpExporter>> e = net::CreateOtlpExporter("http://collector:4318", {});
//   (*e)->Export(otlp::Signal::kTraces, std::make_shared<const std::string>(request_bytes),
//                [](net::ExportResult r) { ... });
//
// URLs: http://host:port[/prefix] sends POST {prefix}/v1/traces|metrics|logs (application/x-protobuf);
// grpc://host:port sends the Export calls of OTLP/gRPC; https:// and grpcs:// do the same over TLS,
// verifying the server against the system's roots or OtlpExporterOptions::tls.ca_file, with a client
// certificate for mutual TLS when one is given. The downstream's answer maps back as:
//   HTTP 200 / gRPC OK                   -> OK, with its partial_success
//   HTTP 400 / INVALID_ARGUMENT          -> InvalidArgument, with its message
//   HTTP 429 / RESOURCE_EXHAUSTED        -> ResourceExhausted, with Retry-After / RetryInfo
//   HTTP 502, 503, 504 / UNAVAILABLE     -> Unavailable, with the retry delay
//   no connection, timeout               -> Unavailable "sending to <url> failed: ..."
//   anything else                        -> that code (Internal for other HTTP statuses)
// Export never blocks on the network: `done` runs later on an exporter thread (and must not block).
// Thread-safe: Export and Cancel may be called from any thread.
// There are no retries here: the answer goes back to whoever sent the request, whose retry policy
// decides (as the OTLP specification wants of a pass-through).
#ifndef OTELRR_NET_OTLP_EXPORTER_H_
#define OTELRR_NET_OTLP_EXPORTER_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "net/export_handler.h"
#include "otlp/schema.h"

namespace otelrr::net {

// PEM files for TLS (https://, grpcs://), as OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE and
// _CLIENT_KEY name them. Empty: not used.
struct TlsFiles {
  std::string ca_file;           // roots to trust instead of the system's
  std::string client_cert_file;  // mutual TLS: the client's certificate (chain) ...
  std::string client_key_file;   // ... and its private key
};

// `given` with every empty file taken from $OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE and
// _CLIENT_KEY, as the OTLP exporter specification names them (flags first, then the environment).
TlsFiles TlsFilesFromEnvironment(TlsFiles given = {});

struct OtlpExporterOptions {
  std::chrono::milliseconds timeout = std::chrono::seconds(10);
  bool gzip = false;
  // HTTP: requests in flight at once (one connection each, kept alive).
  int http_connections = 8;
  // HTTP: send OTLP/JSON bodies (application/json) instead of protobuf; responses are read either way.
  bool json = false;
  // Extra request headers (HTTP) or call metadata (gRPC), e.g. from OTEL_EXPORTER_OTLP_HEADERS.
  std::vector<std::pair<std::string, std::string>> headers = {};
  TlsFiles tls = {};
};

class OtlpExporter {
 public:
  virtual ~OtlpExporter() = default;
  // The exporter keeps a reference to `request` until `done` runs, and never changes it: a caller that
  // may send it again (a retry) keeps its own reference instead of a copy.
  virtual void Export(otlp::Signal signal, std::shared_ptr<const std::string> request, ExportDone done) = 0;
  virtual const std::string& url() const = 0;
  // Ends every request at once, queued or on the wire (connection attempts included): each `done` gets
  // Cancelled, for queued requests on the calling thread (call it without holding a lock that `done`
  // takes). Every later Export is answered Cancelled at once. For stopping without waiting for timeouts.
  virtual void Cancel() = 0;
};

// InvalidArgument naming the URL when it is not http://, https://, grpc:// or grpcs:// with a host and
// port, or naming the file when a TLS file cannot be read (or only one of the client pair is given).
absl::StatusOr<std::unique_ptr<OtlpExporter>> CreateOtlpExporter(std::string_view url, OtlpExporterOptions options = {});

// The partial_success of an Export*ServiceResponse (protobuf); empty when absent or unreadable.
PartialSuccess DecodePartialSuccess(std::string_view response);

}  // namespace otelrr::net

#endif  // OTELRR_NET_OTLP_EXPORTER_H_
