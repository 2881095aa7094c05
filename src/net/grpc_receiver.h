// The OTLP/gRPC receiver: serves TraceService, MetricsService and LogsService Export and hands every
// request to an ExportHandler.
//
//   class Recorder : public net::ExportHandler { ... };
//   Recorder recorder;
//   absl::StatusOr<std::unique_ptr<net::GrpcReceiver>> r =
//       net::GrpcReceiver::Start({.address = "127.0.0.1:0"}, recorder);
//   if (!r.ok()) return r.status();   // "cannot listen on 127.0.0.1:4317: Address already in use"
//   (*r)->port();                     // the bound port
//   ...
//   (*r)->Shutdown(std::chrono::seconds(5));
//
// The receiver works on raw bytes, without generated protobuf code: the request message reaches the
// handler exactly as the client encoded it (after gRPC's own gzip decompression), and the response is
// the bytes EncodeExportResponse builds. Each call carries one request message. The handler's result
// becomes the call's status as export_handler.h lists it; Unavailable and ResourceExhausted with a
// retry_after also carry a google.rpc.RetryInfo in the status details (grpc-status-details-bin), which
// is where OTLP clients look for the retry delay.
//
// What gRPC enforces before a handler sees anything: a message larger than max_receive_message_bytes
// (after decompression) fails with RESOURCE_EXHAUSTED; a method other than the three Exports fails
// with UNIMPLEMENTED; an unsupported grpc-encoding fails with UNIMPLEMENTED.
//
// Threads: the handler runs on gRPC's callback threads (gRPC sizes that pool itself). `done` may be
// called on any thread, at any time, also after the call was cancelled (it is then ignored).
#ifndef OTELRR_NET_GRPC_RECEIVER_H_
#define OTELRR_NET_GRPC_RECEIVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "net/export_handler.h"
#include "net/tls.h"

namespace otelrr::net {

struct GrpcReceiverOptions {
  // host:port; port 0 picks a free one (see GrpcReceiver::port()); [::1]:port for IPv6.
  std::string address = "127.0.0.1:4317";
  // The largest request message accepted, after decompression.
  size_t max_receive_message_bytes = 64u << 20;
  Clock* clock = nullptr;  // stamps arrival times; default RealClock()
  // Set (LoadTlsServerFiles): gRPC over TLS only; with a client CA, clients must present a certificate it signed.
  TlsServerFiles tls = {};
};

struct GrpcReceiverStats {
  uint64_t requests = 0;      // Export calls whose message reached the handler
  uint64_t ok = 0;            // answered OK
  uint64_t failed = 0;        // answered with the handler's error status
  uint64_t unimplemented = 0; // calls to a method other than the three Exports
  uint64_t cancelled = 0;     // calls that ended unanswered: client gone, shutdown, or no message
};

class GrpcReceiver {
 public:
  // Binds and starts serving. InvalidArgument for an address that does not parse, Unavailable when it
  // cannot be bound (in use, not a local address), each naming the address. `handler` must outlive
  // the receiver.
  static absl::StatusOr<std::unique_ptr<GrpcReceiver>> Start(GrpcReceiverOptions options,
                                                             ExportHandler& handler);
  // Shuts down with no grace: calls still waiting for their handler are cancelled.
  ~GrpcReceiver();
  GrpcReceiver(const GrpcReceiver&) = delete;
  GrpcReceiver& operator=(const GrpcReceiver&) = delete;

  int port() const;
  std::string address() const;  // "127.0.0.1:4317", with the bound port
  GrpcReceiverStats stats() const;

  // Stops accepting calls, waits up to `grace` for the calls in flight to be answered by their
  // handlers, cancels those still open after that, and returns once every call has ended. Once it
  // returns the handler is no longer called. Calling it again does nothing.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5));

  class Impl;

 private:
  explicit GrpcReceiver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace otelrr::net

#endif  // OTELRR_NET_GRPC_RECEIVER_H_
