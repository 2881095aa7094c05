#include "net/export_handler.h"

#include "common/json_writer.h"
#include "otlp/proto_writer.h"

namespace otelrr::net {
namespace {

// The JSON name of Export*PartialSuccess's field 1, by signal.
std::string_view RejectedKey(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return "rejectedSpans";
    case otlp::Signal::kMetrics:
      return "rejectedDataPoints";
    case otlp::Signal::kLogs:
      return "rejectedLogRecords";
  }
  return "rejected";
}

void AppendString(std::string* out, uint32_t field, std::string_view value) {
  otlp::AppendTag(out, field, otlp::WireType::kLen);
  otlp::AppendVarint(out, value.size());
  out->append(value);
}

}  // namespace

// Export{Trace,Metrics,Logs}ServiceResponse: 1 partial_success {1 rejected_* int64, 2 error_message}.
std::string EncodeExportResponse(otlp::Signal /*signal*/, const PartialSuccess& partial) {
  std::string out;
  if (partial.empty()) return out;
  otlp::AppendTag(&out, 1, otlp::WireType::kLen);
  size_t msg = otlp::BeginLengthDelimited(&out);
  if (partial.rejected != 0) {
    otlp::AppendTag(&out, 1, otlp::WireType::kVarint);
    otlp::AppendVarint(&out, static_cast<uint64_t>(partial.rejected));
  }
  if (!partial.error_message.empty()) AppendString(&out, 2, partial.error_message);
  otlp::EndLengthDelimited(&out, msg);
  return out;
}

std::string EncodeExportResponseJson(otlp::Signal signal, const PartialSuccess& partial) {
  JsonWriter w;
  w.BeginObject();
  if (!partial.empty()) {
    w.Key("partialSuccess");
    w.BeginObject();
    if (partial.rejected != 0) {
      w.Key(RejectedKey(signal));
      w.String(std::to_string(partial.rejected));  // int64 is a string in OTLP/JSON
    }
    if (!partial.error_message.empty()) {
      w.Field("errorMessage", partial.error_message);
    }
    w.EndObject();
  }
  w.EndObject();
  return w.Take();
}

// google.rpc.Status: 1 code int32, 2 message, 3 details repeated google.protobuf.Any {1 type_url, 2 value}.
// google.rpc.RetryInfo: 1 retry_delay google.protobuf.Duration {1 seconds int64, 2 nanos int32}.
std::string EncodeRpcStatus(int code, std::string_view message, std::chrono::milliseconds retry_after) {
  std::string out;
  if (code != 0) {
    otlp::AppendTag(&out, 1, otlp::WireType::kVarint);
    otlp::AppendVarint(&out, static_cast<uint64_t>(static_cast<int64_t>(code)));
  }
  if (!message.empty()) AppendString(&out, 2, message);
  if (retry_after.count() > 0) {
    otlp::AppendTag(&out, 3, otlp::WireType::kLen);
    size_t any = otlp::BeginLengthDelimited(&out);
    AppendString(&out, 1, "type.googleapis.com/google.rpc.RetryInfo");
    otlp::AppendTag(&out, 2, otlp::WireType::kLen);
    size_t info = otlp::BeginLengthDelimited(&out);
    otlp::AppendTag(&out, 1, otlp::WireType::kLen);
    size_t duration = otlp::BeginLengthDelimited(&out);
    int64_t seconds = retry_after.count() / 1000;
    int64_t nanos = (retry_after.count() % 1000) * 1'000'000;
    if (seconds != 0) {
      otlp::AppendTag(&out, 1, otlp::WireType::kVarint);
      otlp::AppendVarint(&out, static_cast<uint64_t>(seconds));
    }
    if (nanos != 0) {
      otlp::AppendTag(&out, 2, otlp::WireType::kVarint);
      otlp::AppendVarint(&out, static_cast<uint64_t>(nanos));
    }
    otlp::EndLengthDelimited(&out, duration);
    otlp::EndLengthDelimited(&out, info);
    otlp::EndLengthDelimited(&out, any);
  }
  return out;
}

std::string EncodeRpcStatusJson(int code, std::string_view message) {
  JsonWriter w;
  w.BeginObject();
  w.Field("code", code);
  w.Field("message", message);
  w.EndObject();
  return w.Take();
}

}  // namespace otelrr::net
