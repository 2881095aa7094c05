// What the fuzz targets share: how an oracle failure is reported.
#ifndef OTELRR_FUZZ_ORACLE_H_
#define OTELRR_FUZZ_ORACLE_H_

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "otlp/schema.h"

namespace otelrr::fuzz {

// An oracle failure is a bug: say which property broke, then crash so libFuzzer saves the input and
// the replay test fails.
[[noreturn]] inline void OracleFailed(std::string_view target, std::string_view what) {
  std::fprintf(stderr, "%.*s: oracle failed: %.*s\n", static_cast<int>(target.size()), target.data(),
               static_cast<int>(what.size()), what.data());
  std::abort();
}

inline constexpr otlp::Signal kSignals[] = {otlp::Signal::kTraces, otlp::Signal::kMetrics, otlp::Signal::kLogs};

}  // namespace otelrr::fuzz

#endif  // OTELRR_FUZZ_ORACLE_H_
