// Deterministic randomness for the seed generator: the same seed gives the same numbers on every
// machine, compiler and thread count. Our own generator (xoshiro256**, seeded through SplitMix64) and
// distributions built only from IEEE-754 basic operations (+ - * / sqrt, which are exactly rounded
// everywhere) and our own logarithm and exponential: the standard library's distributions and libm's
// transcendental functions differ between implementations, so neither is used.
//
//   Random rng = Random::ForStream(seed, trace_index);   // an independent stream per trace
//   double u = rng.Uniform();                            // [0, 1)
//   uint64_t d = rng.LogNormal(median_ns, p99_ns);        // latency
//   bool fail = rng.Bernoulli(0.05);
#ifndef OTELRR_GENERATE_RANDOM_H_
#define OTELRR_GENERATE_RANDOM_H_

#include <array>
#include <cstddef>
#include <cstdint>

namespace otelrr::generate {

// SplitMix64: a good 64-bit mixer, used to seed and to derive stream seeds.
constexpr uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// ln(x) for x > 0, to within a few ulps, deterministically (no libm).
double DeterministicLog(double x);
// e^x, to within a few ulps, deterministically (no libm). Saturates to 0 / +inf outside [-745, 709].
double DeterministicExp(double x);

class Random {
 public:
  explicit Random(uint64_t seed);
  // An independent stream for item `index` of a run seeded `seed`: a trace can be generated from its
  // index alone, in any order and on any thread, with the same result.
  static Random ForStream(uint64_t seed, uint64_t index);

  uint64_t Next();
  // Uniform in [0, 1), 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [lo, hi] (inclusive); lo <= hi.
  int64_t UniformInt(int64_t lo, int64_t hi);
  bool Bernoulli(double p) { return Uniform() < p; }
  // Standard normal (Marsaglia's polar method).
  double Normal();
  // Exponential with mean 1.
  double Exponential();
  // Log-normal with the given median and 99th percentile (p99 >= median), rounded to an integer.
  uint64_t LogNormal(uint64_t median, uint64_t p99);
  // Fills `out` with random bytes (ids).
  void Fill(uint8_t* out, std::size_t n);

 private:
  std::array<uint64_t, 4> s_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace otelrr::generate

#endif  // OTELRR_GENERATE_RANDOM_H_
