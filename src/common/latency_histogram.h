// Latencies in milliseconds, their quantiles and their maximum, in constant memory.
//
//   LatencyHistogram lags;
//   lags.Add(0.42);
//   double p99 = lags.Quantile(0.99), worst = lags.max_ms();
//
// One method for every percentile otelrr reports: the nearest rank (the smallest recorded value with at
// least q of the values at or below it), known to 10 µs up to 100 ms and exactly beyond, never above
// the maximum and never below the minimum. Thread-compatible.
#ifndef OTELRR_COMMON_LATENCY_HISTOGRAM_H_
#define OTELRR_COMMON_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstdint>

namespace otelrr {

class LatencyHistogram {
 public:
  void Add(double ms);
  // q in [0, 1]; 0 when nothing was added.
  double Quantile(double q) const;
  double max_ms() const { return count_ == 0 ? 0 : max_ms_; }
  double min_ms() const { return count_ == 0 ? 0 : min_ms_; }
  uint64_t count() const { return count_; }

 private:
  static constexpr double kBucketsPerMs = 100;  // 10 µs
  std::array<uint64_t, 10000> buckets_ = {};    // [i / 100 ms, (i + 1) / 100 ms); the last one is open
  uint64_t count_ = 0;
  double max_ms_ = 0;
  double min_ms_ = 0;
};

}  // namespace otelrr

#endif  // OTELRR_COMMON_LATENCY_HISTOGRAM_H_
