// Tiny, valid OTLP Export*ServiceRequest protobufs for tests, written field by field.
//
//   std::string body = TraceRequest(/*trace=*/7, /*spans=*/3);   // 3 spans of trace id 7
//   std::string m = MetricsRequest(/*points=*/2);
//   std::string l = LogsRequest(/*records=*/4, /*trace=*/9);     // trace 0 = no trace id
#ifndef OTELRR_OTLP_TESTING_REQUESTS_H_
#define OTELRR_OTLP_TESTING_REQUESTS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/testing/proto_builder.h"

namespace otelrr::otlp::testing {

inline std::string LenField(uint32_t field, std::string_view body) {
  return ProtoBuilder().Bytes(field, body).str();
}

inline std::string Fixed64Field(uint32_t field, uint64_t v) {
  return ProtoBuilder().Fixed64(field, v).str();
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

// One span of trace `trace` from `start` to `end` (unix ns).
inline std::string SpanRequest(uint64_t trace, uint64_t start, uint64_t end) {
  std::string span = LenField(1, TraceId(trace)) + LenField(2, std::string(7, '\x02') + '\x01') + LenField(5, "op") +
                     Fixed64Field(7, start) + Fixed64Field(8, end);
  return LenField(1, Resource() + LenField(2, LenField(2, span)));
}

// One point of a monotonic cumulative sum "requests" (as_int `value`) that started at `start`.
inline std::string CumulativeSumRequest(uint64_t start, uint64_t time, int64_t value) {
  std::string point = Fixed64Field(2, start) + Fixed64Field(3, time) + Fixed64Field(6, static_cast<uint64_t>(value));
  std::string sum = LenField(1, point) + ProtoBuilder().Varint(2, 2).Varint(3, 1).str();  // cumulative, monotonic
  std::string metric = LenField(1, "requests") + LenField(7, sum);
  return LenField(1, Resource() + LenField(2, LenField(2, metric)));
}

}  // namespace otelrr::otlp::testing

#endif  // OTELRR_OTLP_TESTING_REQUESTS_H_
