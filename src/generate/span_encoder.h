// OTLP protobuf for generated spans and logs, written straight into byte buffers (DESIGN.md, "Encode
// directly"). Everything constant about an operation (span name, kind, attributes, exception event,
// log attributes) and about a service instance (its Resource and InstrumentationScope) is encoded once
// at construction; per span only ids, times, status codes and a pre-encoded variant are appended.
//
//   SpanEncoder enc(pattern, builder, seed);
//   std::string scope_spans_body = enc.scope(r);      // then, per span of resource r:
//   enc.AppendSpan(trace, span, &scope_spans_body);    // a ScopeSpans.spans field
//   enc.AppendLogs(trace, span, &scope_logs_body);     // ScopeLogs.log_records fields (0, 1 or 2)
//
// Attributes follow the OpenTelemetry semantic conventions (HTTP, RPC, database, messaging, exceptions,
// resource); docs/PATTERNS.md lists what each protocol sets.
#ifndef OTELRR_GENERATE_SPAN_ENCODER_H_
#define OTELRR_GENERATE_SPAN_ENCODER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "generate/pattern.h"
#include "generate/trace_builder.h"

namespace otelrr::generate {

// OTLP wire helpers for the generator's encoders (appending whole fields).
void AppendStringField(std::string* out, uint32_t field, std::string_view value);
// A KeyValue field `field` whose value is a string / int / double / bool AnyValue.
void AppendStringAttribute(std::string* out, uint32_t field, std::string_view key, std::string_view value);
void AppendIntAttribute(std::string* out, uint32_t field, std::string_view key, int64_t value);
void AppendBoolAttribute(std::string* out, uint32_t field, std::string_view key, bool value);

class SpanEncoder {
 public:
  SpanEncoder(const Pattern& pattern, const TraceBuilder& builder, uint64_t seed);

  // The Resource of service instance r, as field 1 (of ResourceSpans, ResourceMetrics and ResourceLogs).
  const std::string& resource(int r) const { return resources_[static_cast<size_t>(r)].resource; }
  // Its InstrumentationScope, as field 1 (of ScopeSpans, ScopeMetrics and ScopeLogs).
  const std::string& scope(int r) const { return resources_[static_cast<size_t>(r)].scope; }

  // Appends the span as a ScopeSpans.spans field (number 2).
  void AppendSpan(const GeneratedTrace& trace, const GeneratedSpan& span, std::string* out) const;
  // Appends the span's log records as ScopeLogs.log_records fields (number 2): a request log for a
  // SERVER span, an error log for the span where a failure started. Returns how many.
  int AppendLogs(const GeneratedTrace& trace, const GeneratedSpan& span, std::string* out) const;

  // The metric attributes of a SERVER span of `op` with `status` (http.request.method, http.route,
  // http.response.status_code / rpc.system, rpc.service, rpc.method, rpc.grpc.status_code), as
  // KeyValue fields numbered `field`.
  void AppendMetricAttributes(int op, int32_t status, uint32_t field, std::string* out) const;

 private:
  struct ResourceBytes {
    std::string resource;
    std::string scope;
  };
  struct Side {
    std::string fixed;                  // name, kind and constant attributes
    std::vector<std::string> variants;  // one more attribute, picked per span (url.path, url.full...)
  };
  struct OperationBytes {
    Side callee;  // SERVER / CONSUMER / INTERNAL span
    Side caller;  // CLIENT / PRODUCER span
    std::string status_key;       // "http.response.status_code" / "rpc.grpc.status_code" / empty
    std::string exception_event;  // Event body after its time: name and attributes
    std::string origin_status;    // Status field of the span where the failure started
    // logs
    std::string request_log_attributes;  // constant attributes of the request log
    std::string error_log;               // severity, body and exception attributes of the error log
    std::vector<std::string> log_targets;  // per variant: "GET /api/cart/42", "shop.v1.CartService/GetCart"
    bool http = false;
    bool grpc = false;
  };

  const Pattern& pattern_;
  std::vector<ResourceBytes> resources_;
  std::vector<OperationBytes> ops_;
};

}  // namespace otelrr::generate

#endif  // OTELRR_GENERATE_SPAN_ENCODER_H_
