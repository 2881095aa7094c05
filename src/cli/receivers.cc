#include "cli/receivers.h"

#include <cstdio>

#include "common/status.h"
#include "fmt/format.h"
#include "session/recover.h"

namespace otelrr::cli {

absl::Status RecoverOnStart(store::ObjectStore& store, std::string_view who) {
  absl::StatusOr<session::RecoveryReport> recovered = session::RecoverInterruptedSessions(store);
  if (!recovered.ok()) return recovered.status();
  for (const session::SessionRecovery& r : recovered->sessions) {
    if (r.outcome == session::RecoveryOutcome::kRecovered || r.outcome == session::RecoveryOutcome::kFailed) {
      std::fprintf(stderr, "otelrr %.*s: %s\n", static_cast<int>(who.size()), who.data(),
                   session::DescribeRecovery(r).c_str());
    }
  }
  return absl::OkStatus();
}

sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int WaitForStopSignal(const sigset_t& signals) {
  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  return sig;
}

void Receivers::Shutdown() {
  if (http) http->Shutdown(std::chrono::seconds(5));
  if (grpc) grpc->Shutdown(std::chrono::seconds(5));
}

uint64_t Receivers::refused() const {
  return (otlp_http ? otlp_http->rejected() : 0) + (http ? http->stats().bad_requests : 0);
}

absl::StatusOr<Receivers> StartReceivers(net::ExportHandler& handler, const std::string& http_address,
                                         const std::string& grpc_address) {
  Receivers r;
  r.otlp_http = std::make_unique<net::OtlpHttpReceiver>(handler);
  absl::StatusOr<std::unique_ptr<net::HttpServer>> http = net::HttpServer::Start({.address = http_address}, *r.otlp_http);
  if (!http.ok()) return absl::Status(http.status().code(), fmt::format("--http: {}", http.status().message()));
  r.http = std::move(*http);
  absl::StatusOr<std::unique_ptr<net::GrpcReceiver>> grpc = net::GrpcReceiver::Start({.address = grpc_address}, handler);
  if (!grpc.ok()) {
    r.http->Shutdown(std::chrono::milliseconds(0));
    return absl::Status(grpc.status().code(), fmt::format("--grpc: {}", grpc.status().message()));
  }
  r.grpc = std::move(*grpc);
  return r;
}

}  // namespace otelrr::cli
