// RED metrics (rate, errors, duration) of generated SERVER spans, as an SDK's cumulative instruments
// would export them: per service instance and per attribute set (operation, status code), a monotonic
// request counter and a duration histogram with the semantic-convention default buckets.
//
//   RedMetrics red(pattern, encoder, session_start);
//   red.Add({.resource = r, .operation = op, .status = 200, .duration_ns = d, ...});   // every SERVER span
//   uint64_t points = red.Encode(t, &request);   // an ExportMetricsServiceRequest at time t
//
// Names (docs/PATTERNS.md): http operations: http.server.request.count ({request}) and
// http.server.request.duration (s); grpc operations: rpc.server.request.count ({request}) and
// rpc.server.call.duration (s). Each histogram point carries one exemplar: a span of its series that
// ended since the previous export.
#ifndef OTELRR_GENERATE_RED_METRICS_H_
#define OTELRR_GENERATE_RED_METRICS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "generate/pattern.h"
#include "generate/span_encoder.h"

namespace otelrr::generate {

// The semantic conventions' default bucket boundaries for http.server.request.duration, in seconds.
inline constexpr std::array<double, 14> kDurationBounds = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                           0.5,   0.75, 1,     2.5,  5,     7.5, 10};

struct ServerSample {
  int32_t resource = 0;
  int32_t operation = 0;
  int32_t status = 0;
  uint64_t duration_ns = 0;
  uint64_t end_unix_nano = 0;
  uint8_t trace_id[16] = {};
  uint8_t span_id[8] = {};
};

class RedMetrics {
 public:
  RedMetrics(const Pattern& pattern, const SpanEncoder& encoder, int resources, uint64_t start_unix_nano);

  void Add(const ServerSample& sample);
  // True when something was added since the last Encode.
  bool changed() const { return changed_; }
  bool empty() const { return series_.empty(); }
  // Writes the cumulative state at `time_unix_nano` as a request into `out` (replacing it); returns the
  // number of data points.
  uint64_t Encode(uint64_t time_unix_nano, std::string* out);

 private:
  struct Series {
    int32_t resource;
    int32_t operation;
    int32_t status;
    uint64_t count = 0;
    double sum = 0;
    std::array<uint64_t, kDurationBounds.size() + 1> buckets = {};
    bool has_exemplar = false;
    ServerSample exemplar;
  };
  // Opens a data point of `s` (field 1 of its metric's data) and writes what every point of ours has:
  // the attributes (field `attributes_field`), start time and time. Returns the mark EndLengthDelimited closes.
  size_t BeginPoint(const Series& s, uint32_t attributes_field, uint64_t time, std::string* out) const;

  const Pattern& pattern_;
  const SpanEncoder& encoder_;
  uint64_t start_unix_nano_;
  std::vector<Series> series_;
  absl::flat_hash_map<uint64_t, uint32_t> index_;
  std::vector<std::vector<uint32_t>> by_resource_;  // series of each resource, in creation order
  bool changed_ = false;
};

}  // namespace otelrr::generate

#endif  // OTELRR_GENERATE_RED_METRICS_H_
