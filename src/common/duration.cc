#include "common/duration.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>

namespace otelrr {

absl::StatusOr<uint64_t> ParseDuration(std::string_view text) {
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"d", 86400e9}};
  const absl::Status bad = absl::InvalidArgumentError(fmt::format(
      "'{}' is not a duration: give a number and a unit (ns, us, ms, s, m, h, d), e.g. 30s, 1h30m, 7d", text));
  std::string_view rest = text;
  double total = 0;
  if (rest.empty()) return bad;
  while (!rest.empty()) {
    size_t n = 0;
    bool dot = false;
    while (n < rest.size() && ((rest[n] >= '0' && rest[n] <= '9') || (rest[n] == '.' && !dot))) {
      dot |= rest[n] == '.';
      ++n;
    }
    if (n == 0 || (n == 1 && dot)) return bad;
    const double value = std::stod(std::string(rest.substr(0, n)));
    rest.remove_prefix(n);
    size_t u = 0;
    while (u < rest.size() && rest[u] >= 'a' && rest[u] <= 'z') ++u;
    const std::string_view unit = rest.substr(0, u);
    rest.remove_prefix(u);
    double scale = 0;
    for (const auto& [name, factor] : kUnits) {
      if (name == unit) scale = factor;
    }
    if (scale == 0) return bad;
    total += value * scale;
  }
  if (!(total < 9.2e18)) return bad;
  return static_cast<uint64_t>(std::llround(total));
}

}  // namespace otelrr
