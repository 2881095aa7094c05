// Where a session's objects live in the store (docs/FORMAT.md, "Layout"):
//
//   sessions/{id}/metadata.json
//   sessions/{id}/raw/YYYY-MM-DD/HH/{signal}-{timestamp}-{uuid}.otlp.zst   (.otlp.gz, .otlp: compression.h)
//
//   MetadataKey("s1")                          -> "sessions/s1/metadata.json"
//   RawFilePath(Signal::kLogs, t, uuid, Compression::kZstd)
//                                              -> "raw/2026-11-26/11/logs-1795693544123-<uuid>.otlp.zst"
//   ParseRawFilePath("raw/.../logs-...otlp.zst", &name)  // recovers the signal, timestamp and compression
//
// File paths in metadata.json are relative to the session folder; keys are SessionPrefix(id) + path.
// The functions here do not validate ids: callers do (ValidateSessionId) before building keys.
#ifndef OTELRR_SESSION_LAYOUT_H_
#define OTELRR_SESSION_LAYOUT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/schema.h"
#include "session/compression.h"

namespace otelrr::session {

inline constexpr std::string_view kSessionsPrefix = "sessions/";
inline constexpr std::string_view kMetadataName = "metadata.json";

std::string MetadataKey(std::string_view session_id);
// "sessions/{id}/raw/"
std::string RawPrefix(std::string_view session_id);
// The path, relative to the session folder, of a new raw file whose first record arrived at
// `first_arrival_unix_nano`: its UTC hour partition, and the arrival in unix milliseconds.
std::string RawFilePath(otlp::Signal signal, uint64_t first_arrival_unix_nano, std::string_view uuid,
                        Compression compression);

struct RawFileName {
  otlp::Signal signal = otlp::Signal::kTraces;
  uint64_t timestamp_unix_milli = 0;
  std::string uuid;
  std::string partition;  // "YYYY-MM-DD/HH"
  Compression compression = Compression::kGzip;
};
// Parses a path relative to the session folder. False when it is not a raw file path.
bool ParseRawFilePath(std::string_view path, RawFileName* out);

// A random (version 4) UUID in its 36-character text form, from two 64-bit random values.
std::string FormatUuidV4(uint64_t hi, uint64_t lo);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_LAYOUT_H_
