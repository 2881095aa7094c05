// Where a session's objects live in the store (docs/FORMAT.md, "Layout"):
//
//   sessions/{id}/metadata.json
//   sessions/{id}/raw/YYYY-MM-DD/HH/{signal}-{timestamp}-{uuid}.otlp.zst   (.otlp.gz, .otlp: compression.h)
//   sessions/{id}/raw/YYYY-MM-DD/HH/{signal}-{timestamp}-{instance}-{uuid}.otlp.zst   (a shared session, shared.h)
//   sessions/{id}/instances/{instance}/part.json, traces.bin, and its lock "writer"    (a shared session)
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

#include "absl/status/status.h"
#include "otlp/schema.h"
#include "session/compression.h"

namespace otelrr::session {

inline constexpr std::string_view kSessionsPrefix = "sessions/";
inline constexpr std::string_view kMetadataName = "metadata.json";

std::string MetadataKey(std::string_view session_id);
// "sessions/{id}/raw/"
std::string RawPrefix(std::string_view session_id);
// The path, relative to the session folder, of a new raw file whose first record arrived at
// `first_arrival_unix_nano`: its UTC hour partition, and the arrival in unix milliseconds. A file of one
// instance of a shared session names the instance before its uuid.
std::string RawFilePath(otlp::Signal signal, uint64_t first_arrival_unix_nano, std::string_view uuid,
                        Compression compression, std::string_view instance = {});

// The objects of one instance of a shared session (shared.h): "sessions/{id}/instances/{instance}/", its
// part of the metadata ("part.json"), its distinct trace fingerprints ("traces.bin") and its lock name.
inline constexpr std::string_view kInstancesFolder = "instances/";
inline constexpr size_t kMaxInstanceNameLength = 63;
std::string InstancePrefix(std::string_view session_id, std::string_view instance);
std::string InstancePartKey(std::string_view session_id, std::string_view instance);
std::string InstanceTracesKey(std::string_view session_id, std::string_view instance);
std::string InstanceLockName(std::string_view session_id, std::string_view instance);
// 1 to 63 letters, digits, '.', '_', '-', starting and ending with a letter or digit; InvalidArgument
// saying so otherwise.
absl::Status ValidateInstanceName(std::string_view name);

struct RawFileName {
  otlp::Signal signal = otlp::Signal::kTraces;
  uint64_t timestamp_unix_milli = 0;
  std::string uuid;
  std::string instance;  // empty, or the instance of a shared session that wrote the file
  std::string partition;  // "YYYY-MM-DD/HH"
  Compression compression = Compression::kGzip;
};
// Parses a path relative to the session folder. False when it is not a raw file path.
bool ParseRawFilePath(std::string_view path, RawFileName* out);

// A random (version 4) UUID in its 36-character text form, from two 64-bit random values.
std::string FormatUuidV4(uint64_t hi, uint64_t lo);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_LAYOUT_H_
