// Durations as people type them: "90s", "1h30m", "500ms", "2d", "1.5h". Units: ns, us, ms, s, m, h, d
// (a day is 24 h); parts of several units add up; a bare number is refused (say which unit).
//
//   absl::StatusOr<uint64_t> ns = ParseDuration("1h30m");   // 5'400'000'000'000
#ifndef OTELRR_COMMON_DURATION_H_
#define OTELRR_COMMON_DURATION_H_

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace otelrr {

// Nanoseconds. InvalidArgument (naming the text and the units) for anything else, or more than ~292 years.
absl::StatusOr<uint64_t> ParseDuration(std::string_view text);

}  // namespace otelrr

#endif  // OTELRR_COMMON_DURATION_H_
