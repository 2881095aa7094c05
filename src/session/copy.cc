#include "session/copy.h"

#include <fmt/format.h>

#include <map>

#include "common/status.h"
#include "session/internal/sha256.h"
#include "session/layout.h"
#include "session/recover.h"
#include "session/session_id.h"
#include "session/session_lock.h"

namespace otelrr::session {
namespace {

// Copies one object, returning the SHA-256 and size of the bytes read.
absl::StatusOr<std::pair<std::string, uint64_t>> CopyObject(store::ObjectStore& from, store::ObjectStore& to,
                                                            const std::string& key) {
  absl::StatusOr<std::unique_ptr<store::ObjectWriter>> writer = to.Create(key);
  if (!writer.ok()) return writer.status();
  absl::StatusOr<std::pair<std::string, uint64_t>> copied =
      internal::StreamObject(from, key, [&](std::string_view chunk) { return (*writer)->Append(chunk); });
  if (!copied.ok()) return copied.status();
  if (absl::Status s = (*writer)->Close(); !s.ok()) return s;
  return copied;
}

absl::Status CopyObjects(SessionStore& from, SessionStore& to, const SessionMetadata& metadata, CopyReport& report) {
  store::ObjectStore& source = from.object_store();
  store::ObjectStore& target = to.object_store();
  const std::string prefix = SessionPrefix(metadata.session_id);
  std::map<std::string, const FileEntry*> indexed;
  for (const FileEntry& f : metadata.files) indexed[prefix + f.path] = &f;
  absl::StatusOr<std::vector<store::ObjectInfo>> objects = source.List(prefix);
  if (!objects.ok()) return objects.status();
  for (const store::ObjectInfo& o : *objects) {
    if (o.key == MetadataKey(metadata.session_id)) continue;  // last
    absl::StatusOr<std::pair<std::string, uint64_t>> copied = CopyObject(source, target, o.key);
    if (!copied.ok()) return Prefixed(copied.status(), fmt::format("copying {}", o.key));
    ++report.objects;
    report.bytes += copied->second;
    auto it = indexed.find(o.key);
    if (it == indexed.end()) continue;
    const FileEntry& entry = *it->second;
    if (copied->first != entry.sha256 || copied->second != entry.size_bytes) {
      return absl::DataLossError(fmt::format(
          "{} in {} does not match its checksum in metadata.json ({} bytes, sha256 {}; the index says {} bytes, "
          "{}): run 'otelrr sessions verify {}' on the source",
          o.key, source.Describe(), copied->second, copied->first, entry.size_bytes, entry.sha256, metadata.session_id));
    }
    absl::StatusOr<std::pair<std::string, uint64_t>> stored = internal::HashObject(target, o.key);
    if (!stored.ok()) return stored.status();
    if (*stored != *copied) {
      return absl::DataLossError(fmt::format("{} as stored in {} does not match what was sent ({} bytes, sha256 {})",
                                             o.key, target.Describe(), stored->second, stored->first));
    }
    ++report.files;
  }
  if (report.files != metadata.files.size()) {
    return absl::DataLossError(fmt::format("session {} in {} lists {} files but holds {} of them",
                                           metadata.session_id, source.Describe(), metadata.files.size(),
                                           report.files));
  }
  absl::StatusOr<std::string> json = source.ReadAll(MetadataKey(metadata.session_id));
  if (!json.ok()) return json.status();
  if (absl::Status s = target.Put(MetadataKey(metadata.session_id), *json); !s.ok()) return s;
  ++report.objects;
  report.bytes += json->size();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FinishedSession> LockFinishedSession(SessionStore& sessions, std::string_view session_id,
                                                    std::string_view verb) {
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  FinishedSession out;
  absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockSession(sessions.object_store(), session_id);
  if (IsSessionLocked(lock.status())) {
    return absl::FailedPreconditionError(
        fmt::format("session {} is being written: {} it once its writer has finished", session_id, verb));
  }
  if (lock.ok()) {
    out.lock = std::move(*lock);
  } else if (lock.status().code() != absl::StatusCode::kUnimplemented) {
    return lock.status();
  }
  absl::StatusOr<SessionMetadata> metadata = sessions.Load(session_id);
  if (!metadata.ok()) return metadata.status();
  if (metadata->status == SessionStatus::kActive) return StillActive(session_id);
  out.metadata = std::move(*metadata);
  return out;
}

absl::StatusOr<std::unique_ptr<SessionLock>> LockNewSession(SessionStore& sessions, std::string_view session_id,
                                                            std::string_view fix) {
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  std::unique_ptr<SessionLock> held;
  absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockSession(sessions.object_store(), session_id);
  if (IsSessionLocked(lock.status())) {
    return absl::AlreadyExistsError(
        fmt::format("session {} is being written in {}", session_id, sessions.object_store().Describe()));
  }
  if (lock.ok()) {
    held = std::move(*lock);
  } else if (lock.status().code() != absl::StatusCode::kUnimplemented) {
    return lock.status();
  }
  absl::StatusOr<bool> exists = sessions.Exists(session_id);
  if (!exists.ok()) return exists.status();
  if (*exists) {
    return absl::AlreadyExistsError(
        fmt::format("session {} already exists in {}: {}", session_id, sessions.object_store().Describe(), fix));
  }
  return held;
}

absl::StatusOr<CopyReport> CopySession(SessionStore& from, SessionStore& to, std::string_view session_id) {
  absl::StatusOr<FinishedSession> source = LockFinishedSession(from, session_id, "copy");
  if (!source.ok()) return source.status();
  return CopyLockedSession(from, to, source->metadata);
}

absl::StatusOr<CopyReport> CopyLockedSession(SessionStore& from, SessionStore& to, const SessionMetadata& metadata) {
  const std::string& session_id = metadata.session_id;
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  if (metadata.status == SessionStatus::kActive) return StillActive(session_id);
  absl::StatusOr<std::unique_ptr<SessionLock>> target_lock = LockNewSession(to, session_id, "delete it there first");
  if (!target_lock.ok()) return target_lock.status();
  CopyReport report;
  if (absl::Status s = CopyObjects(from, to, metadata, report); !s.ok()) {
    (void)to.object_store().DeletePrefix(SessionPrefix(session_id));  // no half copy left behind
    return s;
  }
  return report;
}

}  // namespace otelrr::session
