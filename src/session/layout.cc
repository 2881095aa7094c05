#include "session/layout.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

#include "session/time_format.h"

namespace otelrr::session {

std::string MetadataKey(std::string_view session_id) {
  return fmt::format("{}{}/{}", kSessionsPrefix, session_id, kMetadataName);
}

std::string RawPrefix(std::string_view session_id) { return fmt::format("{}{}/raw/", kSessionsPrefix, session_id); }

std::string RawFilePath(otlp::Signal signal, uint64_t first_arrival_unix_nano, std::string_view uuid,
                        Compression compression, std::string_view instance) {
  return fmt::format("raw/{}/{}-{}-{}{}{}{}", FormatPartition(first_arrival_unix_nano), otlp::SignalName(signal),
                     first_arrival_unix_nano / 1'000'000, instance, instance.empty() ? "" : "-", uuid,
                     RawFileSuffix(compression));
}

std::string InstancePrefix(std::string_view session_id, std::string_view instance) {
  return fmt::format("{}{}/{}{}/", kSessionsPrefix, session_id, kInstancesFolder, instance);
}

std::string InstancePartKey(std::string_view session_id, std::string_view instance) {
  return InstancePrefix(session_id, instance) + "part.json";
}

std::string InstanceTracesKey(std::string_view session_id, std::string_view instance) {
  return InstancePrefix(session_id, instance) + "traces.bin";
}

std::string InstanceLockName(std::string_view session_id, std::string_view instance) {
  return InstancePrefix(session_id, instance) + "writer";
}

absl::Status ValidateInstanceName(std::string_view name) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  bool ok = !name.empty() && name.size() <= kMaxInstanceNameLength && alnum(name.front()) && alnum(name.back());
  for (char c : name) ok = ok && (alnum(c) || c == '.' || c == '_' || c == '-');
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(fmt::format(
      "instance name '{}' is not valid: use 1 to {} letters, digits, '.', '_' or '-', starting and ending with a "
      "letter or digit (a pod name, a host name)",
      name, kMaxInstanceNameLength));
}

namespace {

// "8-4-4-4-12" lowercase or uppercase hex digits.
bool IsUuidText(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

bool ParseRawFilePath(std::string_view path, RawFileName* out) {
  // raw/YYYY-MM-DD/HH/{signal}-{ms}-{uuid}{.otlp.gz|.otlp.zst|.otlp}
  std::optional<Compression> compression = CompressionOfPath(path);
  if (!path.starts_with("raw/") || !compression) return false;
  path.remove_prefix(4);
  size_t slash = path.rfind('/');
  if (slash != 13 || path[10] != '/') return false;  // "YYYY-MM-DD/HH"
  std::string partition(path.substr(0, 13));
  std::string_view name = path.substr(14);
  name.remove_suffix(RawFileSuffix(*compression).size());
  size_t dash1 = name.find('-');
  if (dash1 == std::string_view::npos) return false;
  size_t dash2 = name.find('-', dash1 + 1);
  if (dash2 == std::string_view::npos) return false;
  otlp::Signal signal;
  std::string_view signal_name = name.substr(0, dash1);
  if (signal_name != "traces" && signal_name != "metrics" && signal_name != "logs") return false;
  if (!otlp::ParseSignal(signal_name, &signal)) return false;
  std::string_view ms_text = name.substr(dash1 + 1, dash2 - dash1 - 1);
  uint64_t ms = 0;
  auto [ptr, ec] = std::from_chars(ms_text.data(), ms_text.data() + ms_text.size(), ms);
  if (ms_text.empty() || ec != std::errc() || ptr != ms_text.data() + ms_text.size()) return false;
  std::string_view uuid = name.substr(dash2 + 1);
  if (uuid.empty()) return false;
  std::string_view instance;
  if (uuid.size() > 37 && uuid[uuid.size() - 37] == '-' && IsUuidText(uuid.substr(uuid.size() - 36))) {
    instance = uuid.substr(0, uuid.size() - 37);  // a shared session's file: {instance}-{uuid}
    if (!ValidateInstanceName(instance).ok()) return false;
    uuid = uuid.substr(uuid.size() - 36);
  }
  out->signal = signal;
  out->timestamp_unix_milli = ms;
  out->uuid = std::string(uuid);
  out->instance = std::string(instance);
  out->partition = std::move(partition);
  out->compression = *compression;
  return true;
}

std::string FormatUuidV4(uint64_t hi, uint64_t lo) {
  hi = (hi & ~uint64_t{0xf000}) | 0x4000;                         // version 4
  lo = (lo & ~(uint64_t{0xc} << 60)) | (uint64_t{0x8} << 60);      // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                     lo & 0xffffffffffffULL);
}

}  // namespace otelrr::session
