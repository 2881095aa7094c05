#include "generate/random.h"

#include <bit>
#include <cmath>
#include <limits>

namespace otelrr::generate {
namespace {

constexpr double kLn2Hi = 6.93147180369123816490e-01;  // ln 2 split in two, so that k*ln2 is exact
constexpr double kLn2Lo = 1.90821492927058770002e-10;
constexpr double kInvLn2 = 1.44269504088896338700e+00;

constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

double DeterministicLog(double x) {
  if (!(x > 0)) return x == 0 ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  if (x == std::numeric_limits<double>::infinity()) return x;
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln x = e ln2 + ln m, ln m = 2 atanh(s), s = (m-1)/(m+1).
  uint64_t bits = std::bit_cast<uint64_t>(x);
  int e = static_cast<int>((bits >> 52) & 0x7ff);
  if (e == 0) {  // subnormal: scale into the normal range first
    x *= 0x1.0p54;
    bits = std::bit_cast<uint64_t>(x);
    e = static_cast<int>((bits >> 52) & 0x7ff) - 54;
  }
  e -= 1023;
  double m = std::bit_cast<double>((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    ++e;
  }
  double s = (m - 1) / (m + 1);
  double s2 = s * s;
  // atanh series: s + s^3/3 + s^5/5 + ...; |s| < 0.172, so 11 terms reach double precision.
  double term = s2;
  double sum = 0;
  for (int k = 3; k <= 23; k += 2) {
    sum += term / k;
    term *= s2;
  }
  double ln_m = 2 * s + 2 * s * sum;
  return e * kLn2Hi + (e * kLn2Lo + ln_m);
}

double DeterministicExp(double x) {
  if (x != x) return x;
  if (x > 709.78) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0;
  // x = k ln2 + r, |r| <= ln2/2; e^x = 2^k e^r, e^r by its Taylor series.
  double kd = x * kInvLn2;
  int k = static_cast<int>(kd < 0 ? kd - 0.5 : kd + 0.5);
  double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double term = 1;
  double sum = 1;
  for (int n = 1; n <= 20; ++n) {
    term *= r / n;
    sum += term;
  }
  // Multiply by 2^k in two steps so that neither factor overflows or underflows prematurely.
  int k1 = k / 2;
  int k2 = k - k1;
  auto pow2 = [](int p) { return std::bit_cast<double>(static_cast<uint64_t>(p + 1023) << 52); };
  return sum * pow2(k1) * pow2(k2);
}

Random::Random(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& w : s_) w = SplitMix64(state);
}

Random Random::ForStream(uint64_t seed, uint64_t index) {
  uint64_t state = seed ^ 0x6a09e667f3bcc909ull;
  uint64_t a = SplitMix64(state);
  state = a ^ (index * 0x9e3779b97f4a7c15ull);
  return Random(SplitMix64(state));
}

uint64_t Random::Next() {
  uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

int64_t Random::UniformInt(int64_t lo, int64_t hi) {
  uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  if (span == 0) return static_cast<int64_t>(Next());  // the whole 64-bit range
  // Lemire's multiply-shift with rejection: unbiased.
  uint64_t x = Next();
  __uint128_t m = static_cast<__uint128_t>(x) * span;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < span) {
    uint64_t threshold = (0 - span) % span;
    while (low < threshold) {
      x = Next();
      m = static_cast<__uint128_t>(x) * span;
      low = static_cast<uint64_t>(m);
    }
  }
  return lo + static_cast<int64_t>(m >> 64);
}

double Random::Normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2 * Uniform() - 1;
    v = 2 * Uniform() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  double f = std::sqrt(-2 * DeterministicLog(s) / s);
  spare_ = v * f;
  has_spare_ = true;
  return u * f;
}

double Random::Exponential() { return -DeterministicLog(1 - Uniform()); }

uint64_t Random::LogNormal(uint64_t median, uint64_t p99) {
  if (median == 0) return 0;
  if (p99 < median) p99 = median;
  constexpr double kZ99 = 2.3263478740408408;  // the standard normal's 99th percentile
  double sigma = DeterministicLog(static_cast<double>(p99) / static_cast<double>(median)) / kZ99;
  double v = static_cast<double>(median) * DeterministicExp(sigma * Normal());
  if (v >= 1.8e19) return UINT64_MAX / 2;
  return static_cast<uint64_t>(v + 0.5);
}

void Random::Fill(uint8_t* out, size_t n) {
  while (n >= 8) {
    uint64_t v = Next();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
    out += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t v = Next();
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}

}  // namespace otelrr::generate
