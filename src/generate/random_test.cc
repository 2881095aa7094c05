#include "generate/random.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace otelrr::generate {
namespace {

TEST(DeterministicMathTest, LogAndExpAgreeWithLibmToAFewUlps) {
  for (double x : {1e-300, 1e-10, 0.001, 0.5, 0.7071, 1.0, 1.0000001, 2.0, 3.14159, 10.0, 12345.678, 1e300}) {
    EXPECT_NEAR(DeterministicLog(x), std::log(x), std::fabs(std::log(x)) * 4e-16 + 1e-300) << x;
  }
  for (double x : {-700.0, -20.0, -1.0, -1e-9, 0.0, 1e-9, 0.5, 1.0, 2.302585, 10.0, 100.0, 700.0}) {
    EXPECT_NEAR(DeterministicExp(x), std::exp(x), std::exp(x) * 8e-16) << x;  // within 4 ulps
  }
  EXPECT_EQ(DeterministicExp(0), 1.0);
  EXPECT_EQ(DeterministicLog(1), 0.0);
  EXPECT_EQ(DeterministicExp(-800), 0.0);
  EXPECT_TRUE(std::isinf(DeterministicExp(800)));
}

// The first outputs of seed 42 are fixed: if this changes, every seed session changes.
TEST(RandomTest, SequenceIsFixedForASeed) {
  Random a(42);
  Random b(42);
  std::vector<uint64_t> first;
  for (int i = 0; i < 4; ++i) {
    uint64_t v = a.Next();
    EXPECT_EQ(v, b.Next());
    first.push_back(v);
  }
  // Pinned outputs: a change here changes every seed session ever generated.
  EXPECT_EQ(first, (std::vector<uint64_t>{1546998764402558742ull, 6990951692964543102ull, 12544586762248559009ull,
                                          17057574109182124193ull}));
  EXPECT_EQ(Random::ForStream(7, 1000).Next(), 18445373837135728688ull);
  Random d(9);
  EXPECT_EQ(d.LogNormal(10'000'000, 80'000'000), 5691341u);
  Random c(43);
  EXPECT_NE(c.Next(), first[0]);
  // Streams are independent of the order they are created in.
  EXPECT_EQ(Random::ForStream(7, 1000).Next(), Random::ForStream(7, 1000).Next());
  EXPECT_NE(Random::ForStream(7, 1000).Next(), Random::ForStream(7, 1001).Next());
}

TEST(RandomTest, UniformIntIsInRangeAndCoversIt) {
  Random r(1);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 7000; ++i) {
    int64_t v = r.UniformInt(3, 9);
    ASSERT_GE(v, 3);
    ASSERT_LE(v, 9);
    ++seen[v - 3];
  }
  for (int count : seen) EXPECT_GT(count, 800);
}

TEST(RandomTest, LogNormalHasTheRequestedMedianAndP99) {
  Random r(2024);
  std::vector<uint64_t> v;
  for (int i = 0; i < 200000; ++i) v.push_back(r.LogNormal(10'000'000, 80'000'000));
  std::sort(v.begin(), v.end());
  double median = static_cast<double>(v[v.size() / 2]);
  double p99 = static_cast<double>(v[v.size() * 99 / 100]);
  EXPECT_NEAR(median / 10'000'000, 1.0, 0.02);
  EXPECT_NEAR(p99 / 80'000'000, 1.0, 0.05);
}

TEST(RandomTest, BernoulliRateWithinSamplingNoise) {
  Random r(5);
  int hits = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) hits += r.Bernoulli(0.05);
  // 5 standard deviations of a binomial(100000, 0.05) is about 345.
  EXPECT_NEAR(hits, 5000, 345);
}

}  // namespace
}  // namespace otelrr::generate
