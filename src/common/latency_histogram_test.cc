#include "common/latency_histogram.h"

#include <gtest/gtest.h>

namespace otelrr {
namespace {

TEST(LatencyHistogramTest, QuantilesAreNearestRanksNeverAboveTheMaximum) {
  LatencyHistogram h;
  EXPECT_EQ(h.Quantile(0.99), 0);
  EXPECT_EQ(h.max_ms(), 0);
  // The defect this guards: a p99 of 0.45 ms reported with a maximum of 0.44 ms.
  for (int i = 0; i < 99; ++i) h.Add(0.1);
  h.Add(0.4428);
  EXPECT_DOUBLE_EQ(h.max_ms(), 0.4428);
  EXPECT_DOUBLE_EQ(h.Quantile(1.0), 0.4428);
  EXPECT_LE(h.Quantile(0.999), h.max_ms());
  EXPECT_DOUBLE_EQ(h.Quantile(0.99), 0.11);  // the 99th of 100 values is 0.1, known to 10 µs
  EXPECT_DOUBLE_EQ(h.Quantile(0.5), 0.11);
}

TEST(LatencyHistogramTest, OneValueIsEveryQuantileExactly) {
  LatencyHistogram h;
  h.Add(0.2428);
  for (double q : {0.0, 0.5, 0.99, 1.0}) EXPECT_DOUBLE_EQ(h.Quantile(q), 0.2428) << q;
  EXPECT_DOUBLE_EQ(h.min_ms(), 0.2428);
}

TEST(LatencyHistogramTest, ValuesBeyondTheBucketsAreKeptExactly) {
  LatencyHistogram h;
  h.Add(5);
  h.Add(250);
  h.Add(-3);  // clock noise: counted as 0
  EXPECT_DOUBLE_EQ(h.Quantile(1.0), 250);
  EXPECT_DOUBLE_EQ(h.Quantile(0.6), 5.01);  // 5, known to 10 µs
  EXPECT_DOUBLE_EQ(h.Quantile(0.3), 0.01);  // 0, known to 10 µs
  EXPECT_EQ(h.count(), 3u);
}

}  // namespace
}  // namespace otelrr
