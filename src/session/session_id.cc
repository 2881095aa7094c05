#include "session/session_id.h"

#include <fmt/format.h>

#include <random>
#include <string>

#include "session/time_format.h"

namespace otelrr::session {
namespace {

bool IsAllowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// The id as it can be shown in a message: control characters and non-ASCII escaped, long ids cut.
std::string Printable(std::string_view id) {
  std::string out;
  for (char c : id.substr(0, 64)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  if (id.size() > 64) out += "...";
  return out;
}

}  // namespace

absl::Status ValidateSessionId(std::string_view id) {
  constexpr std::string_view kAllowed =
      "a session id is 1 to 128 characters of letters, digits, '.', '_' and '-', and not \".\" or \"..\"";
  if (id.empty()) return absl::InvalidArgumentError(fmt::format("invalid session id: it is empty; {}", kAllowed));
  if (id.size() > kMaxSessionIdLength) {
    return absl::InvalidArgumentError(
        fmt::format("invalid session id \"{}\": it has {} characters; {}", Printable(id), id.size(), kAllowed));
  }
  if (id == "." || id == "..") {
    return absl::InvalidArgumentError(fmt::format("invalid session id \"{}\": {}", id, kAllowed));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (!IsAllowed(id[i])) {
      return absl::InvalidArgumentError(fmt::format("invalid session id \"{}\": character {} ('{}') is not allowed; {}",
                                                    Printable(id), i + 1, Printable(id.substr(i, 1)), kAllowed));
    }
  }
  return absl::OkStatus();
}

absl::Status NoSuchSession(std::string_view id) {
  return absl::NotFoundError(fmt::format("session {} does not exist", id));
}

std::string NewSessionId(std::string_view prefix, uint64_t now_unix_nano) {
  std::string t = FormatRfc3339Millis(now_unix_nano);  // 2026-11-26T11:45:44.123Z
  std::string compact;
  for (char c : t.substr(0, 19)) {
    if (c != '-' && c != ':') compact += c == 'T' ? '-' : c;
  }
  std::random_device rd;
  return fmt::format("{}-{}-{:06x}", prefix, compact, rd() & 0xffffff);
}

}  // namespace otelrr::session
