#include "cli/receivers.h"

#include <cmath>
#include <cstdio>

#include "common/status.h"
#include "fmt/format.h"
#include "net/address.h"

namespace otelrr::cli {

void Receivers::Shutdown() {
  if (http) http->Shutdown(std::chrono::seconds(5));
  if (grpc) grpc->Shutdown(std::chrono::seconds(5));
}

uint64_t Receivers::refused() const {
  return (otlp_http ? otlp_http->rejected() : 0) + (http ? http->stats().bad_requests : 0);
}

void AddReceiverFlags(CLI::App* cmd, ReceiverFlags* f) {
  cmd->add_option("--http", f->http, "OTLP/HTTP listen address (default: 127.0.0.1:4318; port 0 picks one)");
  cmd->add_option("--grpc", f->grpc, "OTLP/gRPC listen address (default: 127.0.0.1:4317; port 0 picks one)");
  cmd->add_option("--http-timeout", f->http_timeout_seconds,
                  "seconds an HTTP client has to send a whole request once it started (default: 30)");
  cmd->add_option("--http-idle-timeout", f->http_idle_timeout_seconds,
                  "seconds a kept-alive HTTP connection may sit without a request (default: 120)");
  cmd->add_option("--tls-cert", f->tls.cert_file,
                  "serve TLS (https:// and gRPC over TLS) with this PEM certificate chain, on both receivers and, "
                  "for serve, the API; needs --tls-key");
  cmd->add_option("--tls-key", f->tls.key_file, "the PEM private key of --tls-cert (unencrypted)");
  cmd->add_option("--tls-client-ca", f->tls.client_ca_file,
                  "mutual TLS: clients must present a certificate signed by a CA of this PEM file");
}

const char* TlsNote(const net::TlsServerOptions& tls) {
  if (!tls.enabled()) return "";
  return tls.client_ca_file.empty() ? "TLS; " : "mutual TLS (client certificates required); ";
}

namespace {

absl::Status CheckAddressesAndTimeouts(const ReceiverFlags& flags) {
  for (auto [name, value] : {std::pair{"--http-timeout", flags.http_timeout_seconds},
                             std::pair{"--http-idle-timeout", flags.http_idle_timeout_seconds}}) {
    if (!(value > 0) || !std::isfinite(value)) {
      return absl::InvalidArgumentError(fmt::format("{} {} is not allowed: use a positive number of seconds", name, value));
    }
  }
  for (auto [name, value] : {std::pair{"--http", &flags.http}, std::pair{"--grpc", &flags.grpc}}) {
    if (absl::StatusOr<net::HostPort> a = net::ParseHostPort(*value); !a.ok()) return Prefixed(a.status(), name);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<net::TlsServerFiles> CheckReceiverFlags(const ReceiverFlags& flags) {
  if (absl::Status s = CheckAddressesAndTimeouts(flags); !s.ok()) return s;
  return net::LoadTlsServerFiles(flags.tls);
}

absl::StatusOr<Receivers> StartReceivers(net::ExportHandler& handler, const ReceiverFlags& flags,
                                         const net::TlsServerFiles& tls) {
  if (absl::Status s = CheckAddressesAndTimeouts(flags); !s.ok()) return s;
  auto millis = [](double s) { return std::chrono::milliseconds(static_cast<int64_t>(s * 1000)); };
  Receivers r;
  r.otlp_http = std::make_unique<net::OtlpHttpReceiver>(handler);
  absl::StatusOr<std::unique_ptr<net::HttpServer>> http = net::HttpServer::Start(
      {.address = flags.http,
       .request_timeout = millis(flags.http_timeout_seconds),
       .idle_timeout = millis(flags.http_idle_timeout_seconds),
       .tls = tls},
      *r.otlp_http);
  if (!http.ok()) return absl::Status(http.status().code(), fmt::format("--http: {}", http.status().message()));
  r.http = std::move(*http);
  absl::StatusOr<std::unique_ptr<net::GrpcReceiver>> grpc = net::GrpcReceiver::Start({.address = flags.grpc, .tls = tls}, handler);
  if (!grpc.ok()) {
    r.http->Shutdown(std::chrono::milliseconds(0));
    return absl::Status(grpc.status().code(), fmt::format("--grpc: {}", grpc.status().message()));
  }
  r.grpc = std::move(*grpc);
  return r;
}

}  // namespace otelrr::cli
