#include "session/copy.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "common/status.h"
#include "session/file_reader.h"
#include "session/internal/members.h"
#include "session/internal/sha256.h"
#include "session/layout.h"
#include "session/record.h"
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

// Reads one raw file (checked against its index entry) and writes its records again in `compression`
// under the new suffix; updates `entry` (path, compression, size, checksum) to the new file.
absl::Status Recompress(store::ObjectStore& source, store::ObjectStore& target, const std::string& prefix,
                        Compression compression, int level, FileEntry& entry) {
  const std::string from_key = prefix + entry.path;
  absl::StatusOr<std::unique_ptr<FileReader>> reader = FileReader::Open(source, from_key, {.compute_sha256 = true});
  if (!reader.ok()) return reader.status();
  std::string path = entry.path;
  path.resize(path.size() - RawFileSuffix(entry.compression).size());
  path += RawFileSuffix(compression);
  absl::StatusOr<std::unique_ptr<store::ObjectWriter>> writer = target.Create(prefix + path);
  if (!writer.ok()) return writer.status();
  constexpr size_t kMemberBytes = 1 << 20;  // as the session writer's default member
  internal::MemberCompressor compressor(compression, level);
  internal::Sha256 sha;
  uint64_t stored = 0;
  std::string records, member;
  auto flush = [&]() -> absl::Status {
    member.clear();
    if (absl::Status s = compressor.Compress(records, &member); !s.ok()) return s;
    records.clear();
    sha.Update(member);
    stored += member.size();
    return (*writer)->Append(member);
  };
  Record record;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&record);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (absl::Status s = AppendRecord(record, &records); !s.ok()) return s;
    if (records.size() >= kMemberBytes) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
  }
  if (!records.empty()) {
    if (absl::Status s = flush(); !s.ok()) return s;
  }
  const std::string read_sha = (*reader)->Sha256Hex();
  if (read_sha != entry.sha256 || (*reader)->stored_bytes_read() != entry.size_bytes ||
      (*reader)->records() != entry.records) {
    return absl::DataLossError(fmt::format(
        "{} in {} does not match metadata.json ({} bytes, {} records, sha256 {}; the index says {} bytes, {} "
        "records, {})",
        from_key, source.Describe(), (*reader)->stored_bytes_read(), (*reader)->records(), read_sha,
        entry.size_bytes, entry.records, entry.sha256));
  }
  if (absl::Status s = (*writer)->Close(); !s.ok()) return s;
  entry.path = std::move(path);
  entry.compression = compression;
  entry.size_bytes = stored;
  entry.sha256 = sha.HexDigest();
  absl::StatusOr<std::pair<std::string, uint64_t>> as_stored = internal::HashObject(target, prefix + entry.path);
  if (!as_stored.ok()) return as_stored.status();
  if (as_stored->first != entry.sha256 || as_stored->second != entry.size_bytes) {
    return absl::DataLossError(fmt::format("{} as stored in {} does not match what was sent ({} bytes, sha256 {})",
                                           prefix + entry.path, target.Describe(), as_stored->second,
                                           as_stored->first));
  }
  return absl::OkStatus();
}

absl::Status CopyObjects(SessionStore& from, SessionStore& to, const SessionMetadata& metadata,
                         const CopyOptions& options, CopyReport& report) {
  store::ObjectStore& source = from.object_store();
  store::ObjectStore& target = to.object_store();
  const std::string prefix = SessionPrefix(metadata.session_id);
  SessionMetadata copied_metadata = metadata;  // with the recompressed files' new entries
  std::map<std::string, FileEntry*> indexed;
  for (FileEntry& f : copied_metadata.files) indexed[prefix + f.path] = &f;
  absl::StatusOr<std::vector<store::ObjectInfo>> objects = source.List(prefix);
  if (!objects.ok()) return objects.status();
  for (const store::ObjectInfo& o : *objects) {
    if (o.key == MetadataKey(metadata.session_id)) continue;  // last
    auto indexed_file = indexed.find(o.key);
    if (options.compression && indexed_file != indexed.end() &&
        indexed_file->second->compression != *options.compression) {
      FileEntry& entry = *indexed_file->second;
      int level = options.compression_level.value_or(DefaultCompressionLevel(*options.compression));
      if (absl::Status s = Recompress(source, target, prefix, *options.compression, level, entry); !s.ok()) {
        return Prefixed(s, fmt::format("recompressing {}", o.key));
      }
      ++report.objects;
      ++report.files;
      ++report.recompressed;
      report.bytes += entry.size_bytes;
      continue;
    }
    absl::StatusOr<std::pair<std::string, uint64_t>> copied = CopyObject(source, target, o.key);
    if (!copied.ok()) return Prefixed(copied.status(), fmt::format("copying {}", o.key));
    ++report.objects;
    report.bytes += copied->second;
    if (indexed_file == indexed.end()) continue;
    const FileEntry& entry = *indexed_file->second;
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
  // As it is, byte for byte, unless files were recompressed: then with their new entries.
  absl::StatusOr<std::string> json = source.ReadAll(MetadataKey(metadata.session_id));
  if (!json.ok()) return json.status();
  if (report.recompressed > 0) {
    copied_metadata.total_size_bytes = 0;
    for (const FileEntry& f : copied_metadata.files) copied_metadata.total_size_bytes += f.size_bytes;
    std::sort(copied_metadata.files.begin(), copied_metadata.files.end(), [](const FileEntry& a, const FileEntry& b) {
      return std::tie(a.first_arrival_unix_nano, a.path) < std::tie(b.first_arrival_unix_nano, b.path);
    });
    *json = copied_metadata.ToJson();
  }
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

absl::StatusOr<CopyReport> CopySession(SessionStore& from, SessionStore& to, std::string_view session_id,
                                       const CopyOptions& options) {
  if (options.compression && options.compression_level) {
    if (absl::Status s = ValidateCompressionLevel(*options.compression, *options.compression_level); !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<FinishedSession> source = LockFinishedSession(from, session_id, "copy");
  if (!source.ok()) return source.status();
  return CopyLockedSession(from, to, source->metadata, options);
}

absl::StatusOr<CopyReport> CopyLockedSession(SessionStore& from, SessionStore& to, const SessionMetadata& metadata,
                                             const CopyOptions& options) {
  const std::string& session_id = metadata.session_id;
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  if (metadata.status == SessionStatus::kActive) return StillActive(session_id);
  absl::StatusOr<std::unique_ptr<SessionLock>> target_lock = LockNewSession(to, session_id, "delete it there first");
  if (!target_lock.ok()) return target_lock.status();
  CopyReport report;
  if (absl::Status s = CopyObjects(from, to, metadata, options, report); !s.ok()) {
    (void)to.object_store().DeletePrefix(SessionPrefix(session_id));  // no half copy left behind
    return s;
  }
  return report;
}

}  // namespace otelrr::session
