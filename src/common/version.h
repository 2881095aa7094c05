// otelrr's version: `otelrr --version`, the API's GET /api/info.
#ifndef OTELRR_COMMON_VERSION_H_
#define OTELRR_COMMON_VERSION_H_

#include <string_view>

namespace otelrr {
inline constexpr std::string_view kVersion = "0.1.0";
}  // namespace otelrr

#endif  // OTELRR_COMMON_VERSION_H_
