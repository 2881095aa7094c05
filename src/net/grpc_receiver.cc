#include "net/grpc_receiver.h"

#include <grpc/compression.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/status.h"
#include "net/address.h"
#include "net/grpc_client.h"
#include "net/grpc_runtime.h"
#include "net/internal/grpc_bytes.h"

namespace otelrr::net {
namespace {

struct Counters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> unimplemented{0};
  std::atomic<uint64_t> cancelled{0};
  Clock* clock = &RealClock();  // set before the server starts
};


bool SignalOfMethod(std::string_view method, otlp::Signal* signal) {
  for (otlp::Signal s : {otlp::Signal::kTraces, otlp::Signal::kMetrics, otlp::Signal::kLogs}) {
    if (method == GrpcExportMethod(s)) {
      *signal = s;
      return true;
    }
  }
  return false;
}

// gRPC writes peers as "ipv4:127.0.0.1:5000" or "ipv6:[::1]:5000" (the brackets percent-encoded in
// some versions); the handler gets "127.0.0.1:5000" and "[::1]:5000".
std::string PeerAddress(std::string peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (std::string_view(peer).starts_with(scheme)) {
      peer.erase(0, scheme.size());
      break;
    }
  }
  for (auto [encoded, plain] : {std::pair{"%5B", '['}, std::pair{"%5D", ']'}}) {
    for (size_t at = peer.find(encoded); at != std::string::npos; at = peer.find(encoded, at)) {
      peer.replace(at, 3, 1, plain);
    }
  }
  return peer;
}

// absl::StatusCode and grpc::StatusCode share their numbers (both are the canonical codes).
grpc::Status ToGrpcStatus(const ExportResult& result) {
  int code = static_cast<int>(result.status.code());
  if (code < 0 || code > static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)) code = grpc::StatusCode::UNKNOWN;
  std::string message(result.status.message());
  bool may_retry_later = result.status.code() == absl::StatusCode::kUnavailable ||
                         result.status.code() == absl::StatusCode::kResourceExhausted;
  if (may_retry_later && result.retry_after.count() > 0) {
    return grpc::Status(static_cast<grpc::StatusCode>(code), message,
                        EncodeRpcStatus(code, message, result.retry_after));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(code), message);
}

// gRPC only logs why it could not listen; binding once more ourselves finds the reason to report.
std::string WhyNotBindable(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return fmt::format("cannot resolve '{}': {}", host, gai_strerror(rc));
  }
  std::string reason = "gRPC could not bind it (see its log)";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // as gRPC does
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
      reason = std::strerror(errno);
      close(fd);
      break;
    }
    close(fd);
  }
  freeaddrinfo(found);
  return reason;
}

// What a call's reactor and the `done` it gives the handler share: `done` may run after the call
// ended (client gone, shutdown), so it must not reach the reactor unless it is the one to finish it.
struct CallLink {
  // Set by whichever of the handler's answer and a cancellation comes first; only that one finishes
  // the call, so until it has, the reactor is alive.
  std::atomic<bool> answered{false};
};

// One Export call: reads the request message, hands it to the handler, writes the answer.
class ExportCall final : public grpc::ServerGenericBidiReactor {
 public:
  ExportCall(grpc::GenericCallbackServerContext* context, otlp::Signal signal, ExportHandler* handler,
             std::shared_ptr<Counters> counters)
      : signal_(signal),
        handler_(handler),
        counters_(std::move(counters)),
        peer_(PeerAddress(context->peer())),
        link_(std::make_shared<CallLink>()) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed without a message, or the call is already cancelled.
      if (!link_->answered.exchange(true)) {
        counters_->cancelled.fetch_add(1, std::memory_order_relaxed);
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the call carried no request message"));
      }
      return;
    }
    if (link_->answered.load()) return;  // cancelled while the message arrived
    ExportRequest request{
        .signal = signal_,
        .transport = otlp::Transport::kGrpc,
        .encoding = otlp::Encoding::kProtobuf,
        .body = internal::StringOf(request_),
        .arrival_unix_nano = counters_->clock->WallNowUnixNano(),
        .peer = peer_,
    };
    request_.Clear();
    counters_->requests.fetch_add(1, std::memory_order_relaxed);
    handler_->Export(std::move(request), [this, link = link_](ExportResult result) {
      if (link->answered.exchange(true)) return;  // the call already ended
      Answer(std::move(result));
    });
  }

  void OnCancel() override {
    if (link_->answered.exchange(true)) return;
    counters_->cancelled.fetch_add(1, std::memory_order_relaxed);
    Finish(grpc::Status::CANCELLED);
  }

  void OnDone() override { delete this; }

 private:
  void Answer(ExportResult result) {
    if (result.status.ok()) {
      counters_->ok.fetch_add(1, std::memory_order_relaxed);
      response_ = internal::ByteBufferOf(EncodeExportResponse(signal_, result.partial_success));
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    } else {
      counters_->failed.fetch_add(1, std::memory_order_relaxed);
      Finish(ToGrpcStatus(result));
    }
  }

  const otlp::Signal signal_;
  ExportHandler* const handler_;
  const std::shared_ptr<Counters> counters_;
  const std::string peer_;
  const std::shared_ptr<CallLink> link_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

// A call to any other method.
class UnimplementedCall final : public grpc::ServerGenericBidiReactor {
 public:
  explicit UnimplementedCall(const std::string& method) {
    Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        fmt::format("unknown method '{}': this OTLP receiver serves only the trace, "
                                    "metrics and logs Export methods",
                                    method)));
  }
  void OnDone() override { delete this; }
};

class ExportService final : public grpc::CallbackGenericService {
 public:
  ExportService(ExportHandler* handler, std::shared_ptr<Counters> counters)
      : handler_(handler), counters_(std::move(counters)) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
    otlp::Signal signal;
    if (!SignalOfMethod(context->method(), &signal)) {
      counters_->unimplemented.fetch_add(1, std::memory_order_relaxed);
      return new UnimplementedCall(context->method());
    }
    // Both reactors delete themselves in OnDone, as gRPC's callback API expects.
    return new ExportCall(context, signal, handler_, counters_);
  }

 private:
  ExportHandler* const handler_;
  const std::shared_ptr<Counters> counters_;
};

// Plaintext, or TLS with the server's key pair (and, with a client CA, client certificates required).
std::shared_ptr<grpc::ServerCredentials> Credentials(const TlsServerFiles& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(tls.client_ca_pem.empty()
                                            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.client_ca_pem;
  ssl.pem_key_cert_pairs.push_back({.private_key = tls.key_pem, .cert_chain = tls.cert_chain_pem});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

class GrpcReceiver::Impl {
 public:
  Impl(ExportHandler* handler, std::string host) : service_(handler, counters_), host_(std::move(host)) {}

  absl::Status Start(const GrpcReceiverOptions& options, int requested_port) {
    if (options.clock != nullptr) counters_->clock = options.clock;
    NoteGrpcInUse();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.address, Credentials(options.tls), &port_);
    // Without this, Linux lets a second server bind the same port (SO_REUSEPORT) and the two would
    // share its connections silently.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.SetMaxReceiveMessageSize(
        static_cast<int>(std::min<size_t>(options.max_receive_message_bytes, INT_MAX)));
    builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, true);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      server_.reset();
      return absl::UnavailableError(fmt::format("cannot listen for OTLP/gRPC on {}: {}", options.address,
                                                WhyNotBindable(host_, requested_port)));
    }
    return absl::OkStatus();
  }

  void Shutdown(std::chrono::milliseconds grace) {
    std::lock_guard lock(shutdown_mu_);
    if (server_ == nullptr) return;
    // Stops listening at once; cancels the calls still open at the deadline; returns when every call
    // has ended (each reactor's OnDone ran).
    server_->Shutdown(std::chrono::system_clock::now() + grace);
    server_->Wait();
    server_.reset();
  }

  int port() const { return port_; }
  std::string address() const {
    if (host_.find(':') != std::string::npos) return fmt::format("[{}]:{}", host_, port_);  // IPv6
    return fmt::format("{}:{}", host_, port_);
  }
  GrpcReceiverStats stats() const {
    return {
        .requests = counters_->requests.load(std::memory_order_relaxed),
        .ok = counters_->ok.load(std::memory_order_relaxed),
        .failed = counters_->failed.load(std::memory_order_relaxed),
        .unimplemented = counters_->unimplemented.load(std::memory_order_relaxed),
        .cancelled = counters_->cancelled.load(std::memory_order_relaxed),
    };
  }

 private:
  const std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
  ExportService service_;
  const std::string host_;
  int port_ = 0;
  std::mutex shutdown_mu_;
  std::unique_ptr<grpc::Server> server_;
};

absl::StatusOr<std::unique_ptr<GrpcReceiver>> GrpcReceiver::Start(GrpcReceiverOptions options,
                                                                  ExportHandler& handler) {
  absl::StatusOr<HostPort> address = ParseHostPort(options.address);
  if (!address.ok()) return Prefixed(address.status(), "gRPC listen address");
  if (options.max_receive_message_bytes == 0) {
    return absl::InvalidArgumentError("gRPC receiver: max_receive_message_bytes must be positive");
  }
  auto impl = std::make_unique<Impl>(&handler, std::move(address->host));
  if (absl::Status s = impl->Start(options, address->port); !s.ok()) return s;
  return std::unique_ptr<GrpcReceiver>(new GrpcReceiver(std::move(impl)));
}

GrpcReceiver::GrpcReceiver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcReceiver::~GrpcReceiver() { impl_->Shutdown(std::chrono::milliseconds(0)); }

int GrpcReceiver::port() const { return impl_->port(); }
std::string GrpcReceiver::address() const { return impl_->address(); }
GrpcReceiverStats GrpcReceiver::stats() const { return impl_->stats(); }
void GrpcReceiver::Shutdown(std::chrono::milliseconds grace) { impl_->Shutdown(grace); }

}  // namespace otelrr::net
