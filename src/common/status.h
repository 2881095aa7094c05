// Small helpers around absl::Status shared by every module.
//
//   return Prefixed(s, fmt::format("{} line {}", path, line));   // same code, message "path line 3: ..."
//   fmt::format("failed: {}", status.message());                  // absl::string_view formats directly
//
// Debian's abseil is built with its own absl::string_view (not std::string_view), so fmt needs to be
// told how to print it, and absl::StrCat does not take std::string_view: format messages with fmt.
#ifndef OTELRR_COMMON_STATUS_H_
#define OTELRR_COMMON_STATUS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "fmt/format.h"

template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(s.data(), s.size()), ctx);
  }
};

namespace otelrr {

// The same status with "<context>: " in front of its message. OK stays OK.
inline absl::Status Prefixed(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), fmt::format("{}: {}", context, status.message()));
}

}  // namespace otelrr

#endif  // OTELRR_COMMON_STATUS_H_
