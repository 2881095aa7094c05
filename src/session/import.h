// Creates a session from files of OTLP data written by other programs (see otlp/otlp_file.h for the
// formats: JSON Lines, OTLP/JSON documents, the Collector file exporter's length-prefixed protobuf,
// plain or zstd, and raw protobuf requests).
//
//   SessionStore sessions(store);
//   absl::StatusOr<ImportResult> r = ImportFiles(sessions, {"traces.jsonl", "metrics.jsonl"},
//                                                {.description = "from the staging collector"});
//
// Each message of a file becomes one record, whose arrival time is the message's own earliest timestamp
// (a message without any timestamp takes the previous message's, or the import time for the first).
// Records are sorted by arrival in chunks of sort_buffer_bytes, so a file in time order imports in one
// pass with bounded memory and an unordered one still reads back in order (the reader merges chunks).
// Import is all or nothing: when any file fails, the new session is removed and the error names the file
// and the line or message; existing sessions are never touched.
#ifndef OTELRR_SESSION_IMPORT_H_
#define OTELRR_SESSION_IMPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/schema.h"
#include "session/metadata.h"
#include "session/session_store.h"

namespace otelrr::session {

struct ImportOptions {
  std::string session_id = {};  // empty: "import-YYYYMMDD-HHMMSS-xxxxxx"
  SessionType session_type = SessionType::kCapture;
  std::optional<otlp::Signal> signal = {};  // needed only for protobuf whose signal is ambiguous
  std::string description = {};
  std::string created_by = "otelrr sessions import";
  // Expires this many days after the import (expiresAt, retention.h). Absent: the store's retention
  // policy decides.
  std::optional<int64_t> retention_days = {};
  size_t sort_buffer_bytes = size_t{64} << 20;
  WriterOptions writer = {};
};

struct ImportedFile {
  std::string path;
  std::string format;
  uint64_t messages = 0;
};

struct ImportResult {
  SessionMetadata metadata;
  std::vector<ImportedFile> files;
};

absl::StatusOr<ImportResult> ImportFiles(SessionStore& sessions, const std::vector<std::string>& paths,
                                         const ImportOptions& options);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_IMPORT_H_
