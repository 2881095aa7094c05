#include "session/time_format.h"

#include <fmt/format.h>

namespace otelrr::session {
namespace {

struct Civil {
  int64_t year;
  unsigned month, day, hour, minute, second;
  uint64_t nanos;
};

// Days since 1970-01-01 to a proleptic Gregorian date, and back (Howard Hinnant's civil algorithms).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Civil ToCivil(uint64_t unix_nano) {
  Civil c{};
  uint64_t secs = unix_nano / kNanosPerSecond;
  c.nanos = unix_nano % kNanosPerSecond;
  auto days = static_cast<int64_t>(secs / 86400);
  auto sod = static_cast<unsigned>(secs % 86400);
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = sod / 3600;
  c.minute = sod / 60 % 60;
  c.second = sod % 60;
  return c;
}

bool ParseDigits(std::string_view text, size_t pos, size_t n, unsigned* out) {
  if (pos + n > text.size()) return false;
  unsigned v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(text[i] - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::string FormatRfc3339Millis(uint64_t unix_nano) {
  Civil c = ToCivil(unix_nano);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", c.year, c.month, c.day, c.hour, c.minute, c.second,
                     c.nanos / 1'000'000);
}

std::string FormatRfc3339Nanos(uint64_t unix_nano) {
  Civil c = ToCivil(unix_nano);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", c.year, c.month, c.day, c.hour, c.minute, c.second,
                     c.nanos);
}

std::string FormatRfc3339(uint64_t unix_nano) {
  if (unix_nano % 1'000'000 == 0) return FormatRfc3339Millis(unix_nano);
  Civil c = ToCivil(unix_nano);
  if (c.nanos % 1000 == 0) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", c.year, c.month, c.day, c.hour, c.minute,
                       c.second, c.nanos / 1000);
  }
  return FormatRfc3339Nanos(unix_nano);
}

std::string FormatPartition(uint64_t unix_nano) {
  Civil c = ToCivil(unix_nano);
  return fmt::format("{:04}-{:02}-{:02}/{:02}", c.year, c.month, c.day, c.hour);
}

absl::StatusOr<uint64_t> ParseRfc3339(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("\"{}\" is not an RFC 3339 time like 2026-11-26T11:45:44.123Z: {}", text, why));
  };
  unsigned year, month, day, hour, minute, second;
  if (!ParseDigits(text, 0, 4, &year) || text.size() < 19 || text[4] != '-' || !ParseDigits(text, 5, 2, &month) ||
      text[7] != '-' || !ParseDigits(text, 8, 2, &day) || (text[10] != 'T' && text[10] != 't') ||
      !ParseDigits(text, 11, 2, &hour) || text[13] != ':' || !ParseDigits(text, 14, 2, &minute) ||
      text[16] != ':' || !ParseDigits(text, 17, 2, &second)) {
    return bad("expected YYYY-MM-DDTHH:MM:SS");
  }
  static constexpr unsigned kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return bad("month out of range");
  unsigned max_day = kDaysInMonth[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0);
  if (day < 1 || day > max_day) return bad("day out of range");
  if (hour > 23 || minute > 59 || second > 60) return bad("time of day out of range");
  if (second == 60) second = 59;  // a leap second: unix time has no slot for it
  size_t pos = 19;
  uint64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++digits > 9) return bad("more than 9 fractional digits");
      nanos = nanos * 10 + static_cast<uint64_t>(text[pos] - '0');
      ++pos;
    }
    if (digits == 0) return bad("empty fraction");
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    unsigned oh, om;
    if (!ParseDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ParseDigits(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return bad("bad time zone offset");
    }
    offset_seconds = (text[pos] == '+' ? 1 : -1) * static_cast<int64_t>(oh * 3600 + om * 60);
    pos += 6;
  } else {
    return bad("missing time zone ('Z' or an offset like +01:00)");
  }
  if (pos != text.size()) return bad("unexpected text after the time");
  int64_t secs = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  if (secs < 0) return bad("before 1970");
  if (static_cast<uint64_t>(secs) > (UINT64_MAX - nanos) / kNanosPerSecond) return bad("too far in the future");
  return static_cast<uint64_t>(secs) * kNanosPerSecond + nanos;
}

}  // namespace otelrr::session
