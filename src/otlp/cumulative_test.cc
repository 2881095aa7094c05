#include "otlp/cumulative.h"

#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <utility>
#include <vector>

#include "otlp/proto_writer.h"
#include "otlp/testing/proto_builder.h"
#include "otlp/wire.h"

namespace otelrr::otlp {
namespace {

using Attrs = std::vector<std::pair<std::string, std::string>>;

void AppendString(std::string* out, uint32_t field, std::string_view s) {
  out->append(testing::ProtoBuilder().Bytes(field, s).str());
}

void AppendKeyValue(std::string* out, uint32_t field, const std::string& key, const std::string& value) {
  out->append(testing::ProtoBuilder().Msg(field, testing::Attribute(key, value)).str());
}

void AppendFixed(std::string* out, uint32_t field, uint64_t v) {
  AppendTag(out, field, WireType::kFixed64);
  AppendFixed64(out, v);
}

void AppendDouble(std::string* out, uint32_t field, double v) { AppendFixed(out, field, std::bit_cast<uint64_t>(v)); }

// A request with one resource (service.name = `service`) and scope, holding one metric whose data member
// (field `member`: 7 sum, 9 histogram, 10 exponential histogram, 11 summary, 5 gauge) has `points` (each
// the encoded contents of a data point) and the given temporality / monotonic fields (omitted when < 0).
std::string Request(const std::string& service, const std::string& name, uint32_t member,
                    const std::vector<std::string>& points, int temporality = 2, int monotonic = -1) {
  std::string out;
  AppendTag(&out, 1, WireType::kLen);
  size_t rm = BeginLengthDelimited(&out);
  AppendTag(&out, 1, WireType::kLen);
  size_t res = BeginLengthDelimited(&out);
  AppendKeyValue(&out, 1, "service.name", service);
  EndLengthDelimited(&out, res);
  AppendTag(&out, 2, WireType::kLen);
  size_t sm = BeginLengthDelimited(&out);
  AppendTag(&out, 1, WireType::kLen);
  size_t scope = BeginLengthDelimited(&out);
  AppendString(&out, 1, "test-scope");
  EndLengthDelimited(&out, scope);
  AppendTag(&out, 2, WireType::kLen);
  size_t m = BeginLengthDelimited(&out);
  AppendString(&out, 1, name);
  AppendTag(&out, member, WireType::kLen);
  size_t data = BeginLengthDelimited(&out);
  for (const std::string& p : points) {
    AppendTag(&out, 1, WireType::kLen);
    AppendVarint(&out, p.size());
    out.append(p);
  }
  if (temporality >= 0) {
    AppendTag(&out, 2, WireType::kVarint);
    AppendVarint(&out, static_cast<uint64_t>(temporality));
  }
  if (monotonic >= 0) {
    AppendTag(&out, 3, WireType::kVarint);
    AppendVarint(&out, static_cast<uint64_t>(monotonic));
  }
  EndLengthDelimited(&out, data);
  EndLengthDelimited(&out, m);
  EndLengthDelimited(&out, sm);
  EndLengthDelimited(&out, rm);
  return out;
}

std::string IntPoint(uint64_t start, uint64_t time, int64_t value, const Attrs& attrs = {{"route", "/a"}}) {
  std::string p;
  for (const auto& [k, v] : attrs) AppendKeyValue(&p, 7, k, v);
  AppendFixed(&p, 2, start);
  AppendFixed(&p, 3, time);
  AppendFixed(&p, 6, static_cast<uint64_t>(value));
  return p;
}

std::string DoublePoint(uint64_t start, uint64_t time, double value) {
  std::string p;
  AppendKeyValue(&p, 7, "route", "/a");
  AppendFixed(&p, 2, start);
  AppendFixed(&p, 3, time);
  AppendDouble(&p, 4, value);
  return p;
}

std::string HistogramPoint(uint64_t start, uint64_t time, uint64_t count, double sum,
                           const std::vector<uint64_t>& buckets, bool packed = true) {
  std::string p;
  AppendKeyValue(&p, 9, "route", "/a");
  AppendFixed(&p, 2, start);
  AppendFixed(&p, 3, time);
  AppendFixed(&p, 4, count);
  AppendDouble(&p, 5, sum);
  if (packed) {
    AppendTag(&p, 6, WireType::kLen);
    AppendVarint(&p, 8 * buckets.size());
    for (uint64_t b : buckets) AppendFixed64(&p, b);
  } else {
    for (uint64_t b : buckets) AppendFixed(&p, 6, b);
  }
  AppendTag(&p, 7, WireType::kLen);
  AppendVarint(&p, 16);
  AppendFixed64(&p, std::bit_cast<uint64_t>(0.1));
  AppendFixed64(&p, std::bit_cast<uint64_t>(1.0));
  // An exemplar and min / max: kept as they are.
  AppendTag(&p, 8, WireType::kLen);
  size_t ex = BeginLengthDelimited(&p);
  AppendFixed(&p, 2, time);
  AppendDouble(&p, 3, 0.5);
  EndLengthDelimited(&p, ex);
  AppendDouble(&p, 11, 0.01);
  AppendDouble(&p, 12, 3.5);
  return p;
}

void AppendBuckets(std::string* p, uint32_t field, int64_t offset, const std::vector<uint64_t>& counts) {
  AppendTag(p, field, WireType::kLen);
  size_t b = BeginLengthDelimited(p);
  if (offset != 0) {
    AppendTag(p, 1, WireType::kVarint);
    AppendVarint(p, (static_cast<uint64_t>(offset) << 1) ^ static_cast<uint64_t>(offset >> 63));
  }
  AppendTag(p, 2, WireType::kLen);
  size_t packed = BeginLengthDelimited(p);
  for (uint64_t c : counts) AppendVarint(p, c);
  EndLengthDelimited(p, packed);
  EndLengthDelimited(p, b);
}

std::string ExpPoint(uint64_t start, uint64_t time, uint64_t count, double sum, int32_t scale, uint64_t zero,
                     int64_t offset, const std::vector<uint64_t>& positive) {
  std::string p;
  AppendKeyValue(&p, 1, "route", "/a");
  AppendFixed(&p, 2, start);
  AppendFixed(&p, 3, time);
  AppendFixed(&p, 4, count);
  AppendDouble(&p, 5, sum);
  AppendTag(&p, 6, WireType::kVarint);
  AppendVarint(&p, (static_cast<uint64_t>(scale) << 1) ^ static_cast<uint64_t>(scale >> 31));
  AppendFixed(&p, 7, zero);
  AppendBuckets(&p, 8, offset, positive);
  return p;
}

std::string SummaryPoint(uint64_t start, uint64_t time, uint64_t count, double sum) {
  std::string p;
  AppendKeyValue(&p, 7, "route", "/a");
  AppendFixed(&p, 2, start);
  AppendFixed(&p, 3, time);
  AppendFixed(&p, 4, count);
  AppendDouble(&p, 5, sum);
  AppendTag(&p, 6, WireType::kLen);  // quantile 0.5 = 0.25
  size_t q = BeginLengthDelimited(&p);
  AppendDouble(&p, 1, 0.5);
  AppendDouble(&p, 2, 0.25);
  EndLengthDelimited(&p, q);
  return p;
}

constexpr uint64_t kStart = 1'000'000'000;
constexpr uint64_t kLength = 60'000'000'000;  // one iteration, as replay shifts it

TEST(CumulativeCarryTest, MonotonicCounterThatStartedInTheRecordingKeepsCounting) {
  CumulativeCarry carry;
  carry.Observe(Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 5)}, 2, 1), kStart);
  carry.Observe(Request("cart", "requests", 7, {IntPoint(kStart, kStart + 20, 12)}, 2, 1), kStart);
  EXPECT_EQ(carry.series(), 1u);
  EXPECT_EQ(carry.continued_series(), 1u);
  for (uint64_t k : {1u, 2u}) {
    const uint64_t shift = k * kLength;
    std::string out;
    // The series counted from zero at the start: one iteration adds its last value, 12.
    ASSERT_TRUE(carry.Continue(Request("cart", "requests", 7, {IntPoint(kStart + shift, kStart + shift + 10, 5)}, 2, 1),
                               k, &out));
    EXPECT_EQ(out, Request("cart", "requests", 7, {IntPoint(kStart, kStart + shift + 10, 5 + 12 * k)}, 2, 1));
    ASSERT_TRUE(carry.Continue(Request("cart", "requests", 7, {IntPoint(kStart + shift, kStart + shift + 20, 12)}, 2, 1),
                               k, &out));
    EXPECT_EQ(out, Request("cart", "requests", 7, {IntPoint(kStart, kStart + shift + 20, 12 + 12 * k)}, 2, 1));
  }
}

TEST(CumulativeCarryTest, CounterThatStartedBeforeTheRecordingAddsOnlyItsIncrease) {
  CumulativeCarry carry;
  const uint64_t process_start = kStart - 500;
  carry.Observe(Request("cart", "bytes", 7, {DoublePoint(process_start, kStart + 10, 100.5)}, 2, 1), kStart);
  carry.Observe(Request("cart", "bytes", 7, {DoublePoint(process_start, kStart + 20, 110.25)}, 2, 1), kStart);
  std::string out;
  ASSERT_TRUE(carry.Continue(
      Request("cart", "bytes", 7, {DoublePoint(process_start + kLength, kStart + kLength + 10, 100.5)}, 2, 1), 1, &out));
  EXPECT_EQ(out, Request("cart", "bytes", 7, {DoublePoint(process_start, kStart + kLength + 10, 110.25)}, 2, 1));
  ASSERT_TRUE(carry.Continue(
      Request("cart", "bytes", 7, {DoublePoint(process_start + 3 * kLength, kStart + 10, 110.25)}, 2, 1), 3, &out));
  EXPECT_EQ(out, Request("cart", "bytes", 7, {DoublePoint(process_start, kStart + 10, 110.25 + 3 * 9.75)}, 2, 1));
}

TEST(CumulativeCarryTest, UpDownCounterKeepsItsValuesAndItsStartTime) {
  CumulativeCarry carry;
  carry.Observe(Request("cart", "active", 7, {IntPoint(kStart, kStart + 10, 7)}, 2, 0), kStart);
  carry.Observe(Request("cart", "active", 7, {IntPoint(kStart, kStart + 20, 3)}, 2, 0), kStart);
  EXPECT_EQ(carry.continued_series(), 1u);  // going down is no reset for a non-monotonic sum
  std::string out;
  ASSERT_TRUE(carry.Continue(Request("cart", "active", 7, {IntPoint(kStart + kLength, kStart + kLength + 10, 7)}, 2, 0),
                             1, &out));
  EXPECT_EQ(out, Request("cart", "active", 7, {IntPoint(kStart, kStart + kLength + 10, 7)}, 2, 0));
}

TEST(CumulativeCarryTest, DeltaGaugeAndUnknownSeriesAreLeftAlone) {
  CumulativeCarry carry;
  carry.Observe(Request("cart", "delta", 7, {IntPoint(kStart, kStart + 10, 5)}, 1, 1), kStart);
  carry.Observe(Request("cart", "gauge", 5, {IntPoint(0, kStart + 10, 5)}, -1, -1), kStart);
  EXPECT_EQ(carry.series(), 0u);
  carry.Observe(Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 5)}, 2, 1), kStart);
  std::string out = "untouched";
  EXPECT_FALSE(carry.Continue(Request("cart", "delta", 7, {IntPoint(kStart, kStart + 10, 5)}, 1, 1), 1, &out));
  EXPECT_FALSE(carry.Continue(Request("cart", "gauge", 5, {IntPoint(0, kStart + 10, 5)}, -1, -1), 1, &out));
  // Same metric, another service or other attributes: another series, never seen.
  EXPECT_FALSE(carry.Continue(Request("shop", "requests", 7, {IntPoint(kStart, kStart + 10, 5)}, 2, 1), 1, &out));
  EXPECT_FALSE(carry.Continue(
      Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 5, {{"route", "/b"}})}, 2, 1), 1, &out));
  EXPECT_EQ(out, "untouched");
  // Iteration 0 is never changed.
  EXPECT_FALSE(carry.Continue(Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 5)}, 2, 1), 0, &out));
}

TEST(CumulativeCarryTest, AttributeOrderDoesNotSplitASeries) {
  CumulativeCarry carry;
  Attrs ab = {{"a", "1"}, {"b", "2"}}, ba = {{"b", "2"}, {"a", "1"}};
  carry.Observe(Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 4, ab)}, 2, 1), kStart);
  carry.Observe(Request("cart", "requests", 7, {IntPoint(kStart, kStart + 20, 9, ba)}, 2, 1), kStart);
  EXPECT_EQ(carry.series(), 1u);
  std::string out;
  ASSERT_TRUE(carry.Continue(Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 4, ab)}, 2, 1), 1, &out));
  EXPECT_EQ(out, Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 13, ab)}, 2, 1));
}

TEST(CumulativeCarryTest, SeriesThatResetInTheRecordingAreReplayedAsRecorded) {
  CumulativeCarry carry;
  // A new start time: the process restarted during the recording.
  carry.Observe(Request("cart", "restarted", 7, {IntPoint(kStart, kStart + 10, 5)}, 2, 1), kStart);
  carry.Observe(Request("cart", "restarted", 7, {IntPoint(kStart + 15, kStart + 20, 1)}, 2, 1), kStart);
  // A monotonic value that fell.
  carry.Observe(Request("cart", "fell", 7, {IntPoint(kStart, kStart + 10, 5)}, 2, 1), kStart);
  carry.Observe(Request("cart", "fell", 7, {IntPoint(kStart, kStart + 20, 4)}, 2, 1), kStart);
  EXPECT_EQ(carry.series(), 2u);
  EXPECT_EQ(carry.continued_series(), 0u);
  std::string out;
  EXPECT_FALSE(carry.Continue(Request("cart", "restarted", 7, {IntPoint(kStart, kStart + 10, 5)}, 2, 1), 1, &out));
  EXPECT_FALSE(carry.Continue(Request("cart", "fell", 7, {IntPoint(kStart, kStart + 10, 5)}, 2, 1), 1, &out));
}

TEST(CumulativeCarryTest, HistogramCountsSumAndBucketsKeepGrowing) {
  CumulativeCarry carry;
  carry.Observe(Request("cart", "latency", 9, {HistogramPoint(kStart, kStart + 10, 3, 1.5, {1, 2, 0})}), kStart);
  // Unpacked bucket counts are the same values to a protobuf reader.
  carry.Observe(Request("cart", "latency", 9, {HistogramPoint(kStart, kStart + 20, 6, 4.0, {2, 3, 1}, false)}),
                kStart);
  EXPECT_EQ(carry.continued_series(), 1u);
  std::string out;
  ASSERT_TRUE(carry.Continue(
      Request("cart", "latency", 9, {HistogramPoint(kStart + kLength, kStart + kLength + 10, 3, 1.5, {1, 2, 0})}), 2,
      &out));
  EXPECT_EQ(out,
            Request("cart", "latency", 9, {HistogramPoint(kStart, kStart + kLength + 10, 15, 9.5, {5, 8, 2})}));
}

TEST(CumulativeCarryTest, HistogramWhoseBoundsChangedIsLeftAlone) {
  CumulativeCarry carry;
  std::string other_bounds = HistogramPoint(kStart, kStart + 20, 6, 4.0, {2, 3, 1});
  other_bounds[other_bounds.find(std::string("\x3a\x10", 2)) + 2] ^= 1;  // a bit of the first bound
  carry.Observe(Request("cart", "latency", 9, {HistogramPoint(kStart, kStart + 10, 3, 1.5, {1, 2, 0})}), kStart);
  carry.Observe(Request("cart", "latency", 9, {other_bounds}), kStart);
  EXPECT_EQ(carry.continued_series(), 0u);
}

TEST(CumulativeCarryTest, SummaryCountAndSumGrowQuantilesStay) {
  CumulativeCarry carry;
  carry.Observe(Request("cart", "gc", 11, {SummaryPoint(kStart, kStart + 10, 4, 2.0)}, -1), kStart);
  carry.Observe(Request("cart", "gc", 11, {SummaryPoint(kStart, kStart + 20, 10, 5.0)}, -1), kStart);
  std::string out;
  ASSERT_TRUE(carry.Continue(Request("cart", "gc", 11, {SummaryPoint(kStart, kStart + 20, 10, 5.0)}, -1), 1, &out));
  EXPECT_EQ(out, Request("cart", "gc", 11, {SummaryPoint(kStart, kStart + 20, 20, 10.0)}, -1));
}

TEST(CumulativeCarryTest, ExponentialHistogramAddsBucketsAtTheCoarserScale) {
  CumulativeCarry carry;
  // First point at scale 1: buckets 2, 3 hold 1 and 2. Last at scale 0 (the histogram downscaled):
  // buckets 1 and 2 hold 4 and 1, zero count 1.
  carry.Observe(Request("cart", "size", 10, {ExpPoint(kStart, kStart + 10, 3, 3.0, 1, 0, 2, {1, 2})}), kStart);
  carry.Observe(Request("cart", "size", 10, {ExpPoint(kStart, kStart + 20, 6, 8.0, 0, 1, 1, {4, 1})}), kStart);
  EXPECT_EQ(carry.continued_series(), 1u);
  // The series started in the recording, so D is the last point: count 6, sum 8, zero 1, buckets {1: 4, 2: 1}
  // at scale 0. Iteration 1's first point (scale 1, buckets {2: 1, 3: 2}) at scale 0 is {1: 3}; plus D:
  // {1: 7, 2: 1}.
  std::string out;
  ASSERT_TRUE(carry.Continue(Request("cart", "size", 10, {ExpPoint(kStart, kStart + 10, 3, 3.0, 1, 0, 2, {1, 2})}), 1,
                             &out));
  EXPECT_EQ(out, Request("cart", "size", 10, {ExpPoint(kStart, kStart + 10, 9, 11.0, 0, 1, 1, {7, 1})}));
}

TEST(CumulativeCarryTest, PointsWithoutARecordedValueAreLeftAlone) {
  CumulativeCarry carry;
  carry.Observe(Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 5)}, 2, 1), kStart);
  std::string flagged = IntPoint(kStart, kStart + 20, 0);
  AppendTag(&flagged, 8, WireType::kVarint);
  AppendVarint(&flagged, 1);
  carry.Observe(Request("cart", "requests", 7, {flagged}, 2, 1), kStart);
  EXPECT_EQ(carry.continued_series(), 1u);  // the empty point is no reset
  std::string out;
  ASSERT_TRUE(carry.Continue(
      Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 5), flagged}, 2, 1), 1, &out));
  EXPECT_EQ(out, Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 10), flagged}, 2, 1));
}

TEST(CumulativeCarryTest, MalformedBytesAreNotRewritten) {
  CumulativeCarry carry;
  std::string good = Request("cart", "requests", 7, {IntPoint(kStart, kStart + 10, 5)}, 2, 1);
  carry.Observe(good, kStart);
  std::string truncated = good.substr(0, good.size() - 3);
  carry.Observe(truncated, kStart);  // skipped, no crash
  std::string out = "untouched";
  EXPECT_FALSE(carry.Continue(truncated, 1, &out));
  EXPECT_EQ(out, "untouched");
}

}  // namespace
}  // namespace otelrr::otlp
