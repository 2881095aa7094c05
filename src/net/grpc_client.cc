#include "net/grpc_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/slice.h>
#include <grpcpp/support/status.h>
#include <grpcpp/support/stub_options.h>

#include <atomic>
#include <condition_variable>
#include <set>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "common/status.h"
#include "net/grpc_runtime.h"
#include "net/internal/grpc_bytes.h"
#include "otlp/field_reader.h"
#include "otlp/wire.h"

namespace otelrr::net {
namespace {

using otlp::FieldReader;
using otlp::RawField;
using otlp::WireType;

// google.protobuf.Duration {1 seconds int64, 2 nanos int32}, in milliseconds rounded up so that a
// positive delay never becomes zero.
std::chrono::milliseconds DurationMillis(std::string_view duration) {
  int64_t seconds = 0, nanos = 0;
  FieldReader fields(duration);
  RawField f;
  while (fields.Next(&f)) {
    if (f.Is(1, WireType::kVarint)) seconds = static_cast<int64_t>(f.varint);
    if (f.Is(2, WireType::kVarint)) nanos = static_cast<int32_t>(f.varint);
  }
  if (fields.malformed()) return std::chrono::milliseconds(0);
  if (seconds < 0 || nanos < 0 || seconds > int64_t{1} << 40) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(seconds * 1000 + (nanos + 999'999) / 1'000'000);
}

}  // namespace

std::string_view GrpcExportMethod(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    case otlp::Signal::kMetrics:
      return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    case otlp::Signal::kLogs:
      return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
  }
  return "";
}

// google.rpc.Status {1 code, 2 message, 3 details repeated Any {1 type_url, 2 value}};
// google.rpc.RetryInfo {1 retry_delay Duration}.
std::chrono::milliseconds RetryDelayFromStatusDetails(std::string_view details) {
  constexpr std::string_view kRetryInfo = "/google.rpc.RetryInfo";
  FieldReader fields(details);
  RawField f;
  while (fields.Next(&f)) {
    if (!f.Is(3, WireType::kLen)) continue;
    std::string_view type_url, value;
    FieldReader any(f.value);
    RawField g;
    while (any.Next(&g)) {
      if (g.Is(1, WireType::kLen)) type_url = g.value;
      if (g.Is(2, WireType::kLen)) value = g.value;
    }
    if (any.malformed() || !type_url.ends_with(kRetryInfo)) continue;
    FieldReader retry_info(value);
    while (retry_info.Next(&g)) {
      if (g.Is(1, WireType::kLen)) return DurationMillis(g.value);
    }
    return std::chrono::milliseconds(0);
  }
  return std::chrono::milliseconds(0);
}

absl::Status GrpcExportResult::status() const {
  if (ok()) return absl::OkStatus();
  return absl::Status(code, message);
}

class GrpcExporter::Impl {
 public:
  Impl(GrpcExporterOptions options, std::shared_ptr<grpc::Channel> channel)
      : options_(std::move(options)), stub_(std::move(channel)) {}

  ~Impl() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return in_flight_ == 0; });
  }

  void Call(const std::string& method, grpc::ByteBuffer request, std::function<void(GrpcExportResult)> done) {
    if (cancelled_.load()) {
      GrpcExportResult cancelled;
      cancelled.code = absl::StatusCode::kCancelled;
      cancelled.message = "cancelled";
      done(std::move(cancelled));
      return;
    }
    // The call's state lives until gRPC reports the end of the call.
    auto call = std::make_unique<PendingCall>();
    call->request = std::move(request);
    call->context.set_deadline(std::chrono::system_clock::now() + options_.timeout);
    if (options_.gzip) call->context.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    for (const auto& [name, value] : options_.metadata) call->context.AddMetadata(name, value);
    call->done = std::move(done);
    PendingCall* raw = call.release();
    {
      std::lock_guard lock(mu_);
      ++in_flight_;
      calls_.insert(raw);
      if (cancelled_.load()) raw->context.TryCancel();
    }
    stub_.UnaryCall(&raw->context, method, grpc::StubOptions(), &raw->request, &raw->response,
                    [this, raw](grpc::Status status) { Finished(std::unique_ptr<PendingCall>(raw), status); });
  }

  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_.store(true);
    for (PendingCall* call : calls_) call->context.TryCancel();
  }

 private:
  struct PendingCall {
    grpc::ClientContext context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    std::function<void(GrpcExportResult)> done;
  };


  void Finished(std::unique_ptr<PendingCall> call, const grpc::Status& status) {
    {
      std::lock_guard lock(mu_);
      calls_.erase(call.get());
    }
    GrpcExportResult result;
    result.code = static_cast<absl::StatusCode>(status.error_code());
    result.message = status.error_message();
    if (status.ok()) {
      result.response = internal::StringOf(call->response);
    } else {
      result.retry_after = RetryDelayFromStatusDetails(status.error_details());
    }
    std::function<void(GrpcExportResult)> done = std::move(call->done);
    call.reset();
    done(std::move(result));
    // Last: the destructor may run as soon as in_flight_ reaches zero.
    std::lock_guard lock(mu_);
    if (--in_flight_ == 0) idle_.notify_all();
  }

  const GrpcExporterOptions options_;
  grpc::GenericStub stub_;
  std::mutex mu_;
  std::condition_variable idle_;
  int64_t in_flight_ = 0;
  std::set<PendingCall*> calls_;  // in flight, for Cancel
  std::atomic<bool> cancelled_{false};
};

absl::StatusOr<std::unique_ptr<GrpcExporter>> GrpcExporter::Create(GrpcExporterOptions options) {
  if (options.target.empty()) return absl::InvalidArgumentError("gRPC exporter: empty target address");
  if (options.timeout <= std::chrono::milliseconds(0)) {
    return absl::InvalidArgumentError(
        fmt::format("gRPC exporter for {}: the call timeout must be positive", options.target));
  }
  NoteGrpcInUse();
  grpc::ChannelArguments args;
  // Export calls are independent: never retried by gRPC itself (the caller's retry policy decides).
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  // Responses are small, but a server may add a long partial_success message: no limit of our own.
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_certs;
    ssl.pem_cert_chain = options.tls_client_cert;
    ssl.pem_private_key = options.tls_client_key;
    credentials = grpc::SslCredentials(ssl);
  }
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(options.target, credentials, args);
  if (channel == nullptr) {
    return absl::InvalidArgumentError(fmt::format("gRPC exporter: cannot create a channel to {}", options.target));
  }
  return std::unique_ptr<GrpcExporter>(
      new GrpcExporter(std::make_unique<Impl>(std::move(options), std::move(channel))));
}

GrpcExporter::GrpcExporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GrpcExporter::~GrpcExporter() = default;

void GrpcExporter::CallAsync(const std::string& method, std::string request,
                             std::function<void(GrpcExportResult)> done) {
  impl_->Call(method, internal::ByteBufferOf(std::move(request)), std::move(done));
}

void GrpcExporter::ExportAsync(otlp::Signal signal, std::string request,
                               std::function<void(GrpcExportResult)> done) {
  CallAsync(std::string(GrpcExportMethod(signal)), std::move(request), std::move(done));
}

void GrpcExporter::ExportAsync(otlp::Signal signal, std::shared_ptr<const std::string> request,
                               std::function<void(GrpcExportResult)> done) {
  impl_->Call(std::string(GrpcExportMethod(signal)), internal::ByteBufferOf(std::move(request)), std::move(done));
}

void GrpcExporter::Cancel() { impl_->Cancel(); }

GrpcExportResult GrpcExporter::Export(otlp::Signal signal, std::string_view request) {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  GrpcExportResult result;
  ExportAsync(signal, std::string(request), [&](GrpcExportResult r) {
    std::lock_guard lock(mu);
    result = std::move(r);
    finished = true;
    cv.notify_one();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return finished; });
  return result;
}

}  // namespace otelrr::net
