// Tiny, valid OTLP Export*ServiceRequest protobufs for tests, written field by field.
//
//   std::string body = TraceRequest(/*trace=*/7, /*spans=*/3);   // 3 spans of trace id 7
//   std::string m = MetricsRequest(/*points=*/2);
//   std::string l = LogsRequest(/*records=*/4, /*trace=*/9);     // trace 0 = no trace id
#ifndef OTELRR_SESSION_TESTING_REQUESTS_H_
#define OTELRR_SESSION_TESTING_REQUESTS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/testing/proto_builder.h"

namespace otelrr::session::testing {

inline std::string LenField(uint32_t field, std::string_view body) {
  return otlp::testing::ProtoBuilder().Bytes(field, body).str();
}

inline std::string Fixed64Field(uint32_t field, uint64_t v) {
  return otlp::testing::ProtoBuilder().Fixed64(field, v).str();
}

// A 16-byte trace id whose last 8 bytes encode `n` (non-zero: an all-zero id is invalid OTLP).
inline std::string TraceId(uint64_t n) {
  std::string id(8, '\x01');
  for (int i = 7; i >= 0; --i) id.push_back(static_cast<char>(n >> (8 * i)));
  return id;
}

inline std::string Resource() { return LenField(1, LenField(1, LenField(1, "service.name") + LenField(2, LenField(1, "svc")))); }

inline std::string TraceRequest(uint64_t trace, int spans) {
  std::string scope_spans;
  for (int i = 0; i < spans; ++i) {
    std::string span = LenField(1, TraceId(trace)) + LenField(2, std::string(7, '\x02') + static_cast<char>(i + 1)) +
                       LenField(5, "span-" + std::to_string(i)) + Fixed64Field(7, 1'000'000'000ull * (i + 1)) +
                       Fixed64Field(8, 1'000'000'000ull * (i + 2));
    scope_spans += LenField(2, span);
  }
  return LenField(1, Resource() + LenField(2, scope_spans));
}

inline std::string MetricsRequest(int points) {
  std::string gauge;
  for (int i = 0; i < points; ++i) {
    gauge += LenField(1, Fixed64Field(3, 1'000'000'000ull * (i + 1)) + Fixed64Field(4, 0x3ff0000000000000ull));
  }
  std::string metric = LenField(1, "requests") + LenField(5, gauge);
  return LenField(1, Resource() + LenField(2, LenField(2, metric)));
}

inline std::string LogsRequest(int records, uint64_t trace = 0) {
  std::string scope_logs;
  for (int i = 0; i < records; ++i) {
    std::string log = Fixed64Field(1, 1'000'000'000ull * (i + 1)) + LenField(5, LenField(1, "hello"));
    if (trace != 0) log += LenField(9, TraceId(trace));
    scope_logs += LenField(2, log);
  }
  return LenField(1, Resource() + LenField(2, scope_logs));
}

}  // namespace otelrr::session::testing

#endif  // OTELRR_SESSION_TESTING_REQUESTS_H_
