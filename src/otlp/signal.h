// The three OTLP signals, a container indexed by them, and how a request reached us (transport and
// encoding): the vocabulary every module shares.
//
//   otlp::PerSignal<uint64_t> items;               // one value per signal, zero-initialised
//   items[otlp::Signal::kMetrics] += 5;
//   for (otlp::Signal s : otlp::kSignals) fmt::print("{} {}\n", otlp::SignalName(s), items[s]);
//   uint64_t all = items.Sum();
#ifndef OTELRR_OTLP_SIGNAL_H_
#define OTELRR_OTLP_SIGNAL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace otelrr::otlp {

// The three OTLP signals. The numeric values are stored in session files: never renumber.
enum class Signal : uint8_t { kTraces = 1, kMetrics = 2, kLogs = 3 };
inline constexpr std::array<Signal, 3> kSignals = {Signal::kTraces, Signal::kMetrics, Signal::kLogs};

// "traces", "metrics", "logs".
std::string_view SignalName(Signal signal);
// Parses "traces"/"metrics"/"logs" (also "trace"/"metric"/"log"); false when unknown.
bool ParseSignal(std::string_view name, Signal* signal);

// One T per signal. Value-initialised; copyable when T is.
template <typename T>
class PerSignal {
 public:
  T& operator[](Signal s) { return values_[Index(s)]; }
  const T& operator[](Signal s) const { return values_[Index(s)]; }

  // The values in kSignals order.
  auto begin() { return values_.begin(); }
  auto end() { return values_.end(); }
  auto begin() const { return values_.begin(); }
  auto end() const { return values_.end(); }

  // The sum of fn(value) over the signals (fn defaults to the value itself).
  template <typename Fn>
  auto Sum(Fn&& fn) const {
    decltype(fn(values_[0])) total{};
    for (const T& v : values_) total += fn(v);
    return total;
  }
  T Sum() const {
    return Sum([](const T& v) { return v; });
  }

  bool operator==(const PerSignal&) const = default;

 private:
  static size_t Index(Signal s) { return static_cast<size_t>(s) - 1; }
  std::array<T, 3> values_{};
};

// How a request reached otelrr. Stored in session files: never renumber.
enum class Transport : uint8_t { kUnknown = 0, kHttp = 1, kGrpc = 2, kGenerated = 3, kImported = 4 };
// The encoding the sender used. Stored in session files: never renumber.
enum class Encoding : uint8_t { kProtobuf = 0, kJson = 1 };

std::string_view TransportName(Transport transport);  // "http", "grpc", ...; "unknown" for other values
std::string_view EncodingName(Encoding encoding);     // "protobuf", "json"; "unknown" for other values

}  // namespace otelrr::otlp

#endif  // OTELRR_OTLP_SIGNAL_H_
