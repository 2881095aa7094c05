// UTC time as the session format writes it: RFC 3339 text for people and JSON, hour partitions for
// file paths. All times are unix nanoseconds (uint64: the format never stores times before 1970).
//
//   FormatRfc3339Millis(t)  -> "2026-11-26T11:45:44.123Z"        (metadata startTime, endTime)
//   FormatRfc3339Nanos(t)   -> "2026-11-26T11:45:44.123456789Z"  (firstArrivalTime, informational)
//   ParseRfc3339("2026-11-26T12:45:44.5+01:00") -> unix ns
//   FormatPartition(t)      -> "2026-11-26/11"                   (raw/YYYY-MM-DD/HH)
#ifndef OTELRR_SESSION_TIME_FORMAT_H_
#define OTELRR_SESSION_TIME_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace otelrr::session {

inline constexpr uint64_t kNanosPerSecond = 1'000'000'000;
inline constexpr uint64_t kNanosPerHour = 3600 * kNanosPerSecond;

std::string FormatRfc3339Millis(uint64_t unix_nano);
std::string FormatRfc3339Nanos(uint64_t unix_nano);
// The shortest of the two that loses nothing: 3, 6 or 9 fraction digits (annotation times).
std::string FormatRfc3339(uint64_t unix_nano);
// Accepts "YYYY-MM-DDTHH:MM:SS", an optional fraction of 1 to 9 digits, and "Z" or "+HH:MM"/"-HH:MM".
// InvalidArgument for anything else, or a time before 1970.
absl::StatusOr<uint64_t> ParseRfc3339(std::string_view text);
// "YYYY-MM-DD/HH", the UTC hour partition of a time.
std::string FormatPartition(uint64_t unix_nano);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_TIME_FORMAT_H_
