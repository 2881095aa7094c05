// TLS for the servers: the OTLP receivers (HTTP and gRPC) and the control API.
//
//   net::TlsServerOptions tls{.cert_file = "server.pem", .key_file = "server-key.pem"};
//   absl::StatusOr<net::TlsServerFiles> files = net::LoadTlsServerFiles(tls);   // checked once, at start
//   HttpServer::Start({.address = ..., .tls = *files}, handler);
//
// Without client_ca_file the server authenticates itself only (HTTPS as a browser knows it). With it, every
// client must present a certificate that chains to one of the file's CAs (mutual TLS), or the handshake
// fails. TLS 1.2 and 1.3 only. The files are read when the server starts: replacing them takes a restart.
#ifndef OTELRR_NET_TLS_H_
#define OTELRR_NET_TLS_H_

#include <string>

#include "absl/status/statusor.h"

namespace otelrr::net {

struct TlsServerOptions {
  std::string cert_file = {};       // PEM: the server's certificate, then any intermediates
  std::string key_file = {};        // PEM: its private key (unencrypted)
  std::string client_ca_file = {};  // PEM: CAs that sign client certificates; set: clients must have one
  bool enabled() const { return !cert_file.empty() || !key_file.empty() || !client_ca_file.empty(); }
};

// The files' contents, checked.
struct TlsServerFiles {
  std::string cert_chain_pem;
  std::string key_pem;
  std::string client_ca_pem;  // empty: no client certificates asked for
  bool enabled() const { return !cert_chain_pem.empty(); }
};

// Reads and checks the files: a certificate and a key are both given, readable and PEM, the key belongs to
// the certificate, the client CA file holds at least one certificate. InvalidArgument naming the file and
// what is wrong with it. Options that are not enabled give empty TlsServerFiles.
absl::StatusOr<TlsServerFiles> LoadTlsServerFiles(const TlsServerOptions& options);

}  // namespace otelrr::net

#endif  // OTELRR_NET_TLS_H_
