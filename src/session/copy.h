// Copies a session from one store to another (a local session pushed to S3, one pulled back), checked
// by checksums on both sides.
//
//   SessionStore from(local), to(s3);
//   absl::StatusOr<CopyReport> r = CopySession(from, to, "capture-1");
//
// Every object of the session is copied: its raw files (each hashed as it is read, and the hash
// compared with the file index of metadata.json; then hashed again as the target stores it), the other
// objects (annotations.jsonl), and metadata.json last, so the copy exists only once it is whole.
// Refused when the session is being written (its lock is held) or is still "active", and when the
// target already has it. With options.compression, raw files stored otherwise are recompressed on the way
// (read and checked against the index, every record written again unchanged, in members of 1 MiB of
// records), under the new suffix, and metadata.json indexes the new files; files already in that
// compression are copied as they are. The target session is locked while it is copied; on any failure it is
// deleted again, and the source is never changed.
#ifndef OTELRR_SESSION_COPY_H_
#define OTELRR_SESSION_COPY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "session/compression.h"
#include "session/session_lock.h"
#include "session/session_store.h"

namespace otelrr::session {

struct CopyOptions {
  std::optional<Compression> compression = {};  // unset: every file as it is
  std::optional<int> compression_level = {};    // unset: the compression's default
};

struct CopyReport {
  uint64_t files = 0;  // raw files
  uint64_t recompressed = 0;  // of them, recompressed
  uint64_t objects = 0;  // every object, metadata.json included
  uint64_t bytes = 0;
};

// DataLoss when a file's bytes do not match its checksum (in the source, or as stored in the target).
absl::StatusOr<CopyReport> CopySession(SessionStore& from, SessionStore& to, std::string_view session_id,
                                       const CopyOptions& options = {});
// The same for a caller that holds the source session's lock already (LockSession; or on a store without
// locks) and has loaded its metadata, which must not be "active" (retention.h moves sessions this way).
absl::StatusOr<CopyReport> CopyLockedSession(SessionStore& from, SessionStore& to, const SessionMetadata& metadata,
                                             const CopyOptions& options = {});

// What every command that reads a whole session out of a store (copy, pack) does first: takes the session's
// lock (FailedPrecondition naming `verb` when a writer holds it: "session x is being written: pack it once its
// writer has finished") and loads its metadata, refused while "active". `lock` is null on a store without locks.
struct FinishedSession {
  std::unique_ptr<SessionLock> lock;
  SessionMetadata metadata;
};
absl::StatusOr<FinishedSession> LockFinishedSession(SessionStore& sessions, std::string_view session_id,
                                                    std::string_view verb);

// What every command that writes a whole session into a store (copy, unpack) does first: takes the new
// session's lock and checks that the id is free: AlreadyExists "session x already exists in <store>: <fix>" (the
// fix that fits the caller's command), or "session x is being written in <store>". Null on a store without locks.
absl::StatusOr<std::unique_ptr<SessionLock>> LockNewSession(SessionStore& sessions, std::string_view session_id,
                                                            std::string_view fix);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_COPY_H_
