#include "common/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace otelrr {

void LatencyHistogram::Add(double ms) {
  ms = std::max(0.0, ms);
  max_ms_ = count_ == 0 ? ms : std::max(max_ms_, ms);
  min_ms_ = count_ == 0 ? ms : std::min(min_ms_, ms);
  size_t bucket = static_cast<size_t>(std::min(ms * kBucketsPerMs, static_cast<double>(buckets_.size() - 1)));
  ++buckets_[bucket];
  ++count_;
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      // The value is in [i, i + 1) / kBucketsPerMs: report the bucket's upper end, within [min, max].
      if (i + 1 == buckets_.size()) return max_ms_;
      return std::clamp(static_cast<double>(i + 1) / kBucketsPerMs, min_ms_, max_ms_);
    }
  }
  return max_ms_;
}

}  // namespace otelrr
