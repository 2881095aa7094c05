#include "session/recover.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <tuple>

#include "otlp/wire.h"
#include "session/file_reader.h"
#include "session/internal/sha256.h"
#include "session/layout.h"
#include "session/session_id.h"
#include "session/session_lock.h"
#include "session/session_store.h"
#include "session/shared.h"
#include "session/trace_id_set.h"

namespace otelrr::session {
namespace {

// Adds a store error's context without changing its code (which decides retries).
absl::Status InSession(std::string_view session_id, const absl::Status& status) {
  return absl::Status(status.code(),
                      fmt::format("recovering session {}: {}", session_id, std::string(status.message())));
}

// The running totals of a session being rebuilt.
struct SessionTotals {
  SessionCounts counts;
  TraceIdSet trace_ids;
  std::optional<uint64_t> first_arrival;
  std::optional<uint64_t> last_arrival;
};

// Reads one raw file up to its first damage, adding its records to `totals`, and brings the stored file
// in line with what was read: cut after the last complete member, or deleted when it holds no record.
// Returns the file's index entry, or nullopt when the file was deleted.
absl::StatusOr<std::optional<FileEntry>> RecoverFile(store::ObjectStore& store, const std::string& key,
                                                     const std::string& path, otlp::Signal signal,
                                                     SessionTotals& totals, SessionRecovery& out) {
  absl::StatusOr<std::unique_ptr<FileReader>> opened =
      FileReader::Open(store, key, {.stop_at_damage = true, .compute_sha256 = true});
  if (!opened.ok()) return opened.status();
  FileReader& reader = **opened;
  FileEntry entry{.path = path, .signal = signal, .compression = reader.compression()};
  uint64_t invalid_payloads = 0;
  uint64_t out_of_order = 0;
  uint64_t wrong_signal = 0;
  // Records go straight into the totals: a file that ends up deleted holds none, and any other
  // failure abandons the whole rebuild.
  SessionCounts& counts = totals.counts;
  Record rec;
  std::string walked_ids;  // each record's trace ids
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&rec);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (reader.records() == 1) entry.first_arrival_unix_nano = rec.arrival_unix_nano;
    if (reader.records() > 1 && rec.arrival_unix_nano < entry.last_arrival_unix_nano) ++out_of_order;
    entry.last_arrival_unix_nano = rec.arrival_unix_nano;
    if (rec.signal != signal) ++wrong_signal;
    walked_ids.clear();
    absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(rec.signal, rec.payload, &walked_ids);
    if (summary.ok()) {
      counts.spans += summary->spans;
      counts.data_points += summary->data_points;
      counts.log_records += summary->log_records;
      totals.trace_ids.InsertAll(walked_ids);
    } else {
      ++invalid_payloads;
    }
    switch (rec.signal) {
      case otlp::Signal::kTraces:
        ++counts.trace_requests;
        break;
      case otlp::Signal::kMetrics:
        ++counts.metric_requests;
        break;
      case otlp::Signal::kLogs:
        ++counts.log_requests;
        break;
    }
    if (!totals.first_arrival || rec.arrival_unix_nano < *totals.first_arrival) {
      totals.first_arrival = rec.arrival_unix_nano;
    }
    if (!totals.last_arrival || rec.arrival_unix_nano > *totals.last_arrival) {
      totals.last_arrival = rec.arrival_unix_nano;
    }
  }
  entry.records = reader.records();
  entry.uncompressed_bytes = reader.uncompressed_bytes();
  counts.uncompressed_bytes += reader.uncompressed_bytes();
  const std::optional<FileDamage>& damage = reader.damage();
  uint64_t stored = reader.stored_bytes_read();
  uint64_t valid = damage ? damage->valid_bytes : stored;
  std::string sha = reader.Sha256Hex();  // of all `stored` bytes

  if (entry.records == 0) {
    if (absl::Status s = store.Delete(key); !s.ok()) return s;
    ++out.files_removed;
    out.bytes_dropped += stored;
    out.notes.push_back(fmt::format("{}: removed: it holds no complete record ({} bytes{})", path, stored,
                                    damage ? fmt::format(": {}", damage->reason) : ""));
    return std::optional<FileEntry>();
  }

  if (invalid_payloads > 0) {
    out.notes.push_back(fmt::format("{}: kept {} records that are not valid OTLP requests (counted as requests only)",
                                    path, invalid_payloads));
  }
  if (wrong_signal > 0) {
    out.notes.push_back(fmt::format("{}: kept {} records of another signal than the file's ({})", path, wrong_signal,
                                    otlp::SignalName(signal)));
  }
  if (out_of_order > 0) {
    out.notes.push_back(fmt::format("{}: {} records arrived before the record preceding them", path, out_of_order));
  }
  if (damage) {
    if (absl::Status s = store.Truncate(key, valid); !s.ok()) return s;
    absl::StatusOr<std::pair<std::string, uint64_t>> hashed = internal::HashObject(store, key);
    if (!hashed.ok()) return hashed.status();
    if (hashed->second != valid) {
      return absl::DataLossError(fmt::format("{} holds {} bytes after it was cut at byte {}", key, hashed->second, valid));
    }
    sha = std::move(hashed->first);
    ++out.files_truncated;
    out.bytes_dropped += damage->dropped_bytes;
    out.notes.push_back(fmt::format("{}: cut at byte {} of {} ({} bytes dropped): {}", path, valid, stored,
                                    damage->dropped_bytes, damage->reason));
  }
  entry.size_bytes = valid;
  entry.sha256 = std::move(sha);
  ++out.files_kept;
  out.records_kept += entry.records;
  return std::optional<FileEntry>(std::move(entry));
}

// Rebuilds and rewrites the metadata of a session whose lock is held and whose status is "active"; or, for
// `instance`, that instance's part of a shared session (its files only, its part.json and traces.bin), under
// the instance's lock.
absl::Status Rebuild(store::ObjectStore& store, SessionMetadata metadata, SessionRecovery& out,
                     std::string_view instance = {}) {
  const std::string& id = metadata.session_id;
  std::string prefix = SessionPrefix(id);
  absl::StatusOr<std::vector<store::ObjectInfo>> listing = store.List(RawPrefix(id));
  if (!listing.ok()) return listing.status();
  if (!instance.empty()) {
    std::erase_if(*listing, [&](const store::ObjectInfo& o) {
      RawFileName name;
      return !ParseRawFilePath(std::string_view(o.key).substr(prefix.size()), &name) || name.instance != instance;
    });
  }

  // The session ended when its writer last wrote: the latest change of a raw file as found (before
  // recovery touches it), else the creation of metadata.json.
  int64_t end_mtime = 0;
  for (const store::ObjectInfo& o : *listing) end_mtime = std::max(end_mtime, o.mtime_unix_nano);
  const std::string metadata_key = instance.empty() ? MetadataKey(id) : InstancePartKey(id, instance);
  if (listing->empty()) {
    absl::StatusOr<store::ObjectInfo> head = store.Head(metadata_key);
    if (!head.ok()) return head.status();
    end_mtime = head->mtime_unix_nano;
  }

  SessionTotals totals;
  std::vector<FileEntry> files;
  for (const store::ObjectInfo& o : *listing) {
    std::string path = o.key.substr(prefix.size());
    RawFileName name;
    if (!ParseRawFilePath(path, &name)) {
      out.notes.push_back(fmt::format(
          "{}: left alone: not a raw file name (raw/YYYY-MM-DD/HH/{{signal}}-{{timestamp}}-{{uuid}}.otlp.zst, "
          ".otlp.gz or .otlp), so it is not indexed and verify will report it",
          path));
      continue;
    }
    absl::StatusOr<std::optional<FileEntry>> entry = RecoverFile(store, o.key, path, name.signal, totals, out);
    if (!entry.ok()) return entry.status();
    if (*entry) files.push_back(std::move(**entry));
  }

  std::sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) {
    return std::tie(a.first_arrival_unix_nano, a.path) < std::tie(b.first_arrival_unix_nano, b.path);
  });
  metadata.total_size_bytes = 0;
  for (const FileEntry& f : files) metadata.total_size_bytes += f.size_bytes;
  metadata.files = std::move(files);
  metadata.counts = totals.counts;
  absl::StatusOr<uint64_t> traces =
      instance.empty() ? totals.trace_ids.Count() : WriteTraceFingerprints(store, id, instance, totals.trace_ids);
  if (!traces.ok()) return InSession(id, traces.status());
  metadata.counts.traces = *traces;
  metadata.SyncCapturedTotals();
  metadata.first_arrival_unix_nano = totals.first_arrival;
  metadata.last_arrival_unix_nano = totals.last_arrival;
  metadata.status = SessionStatus::kFailed;
  metadata.status_reason = std::string(kInterruptedReason);
  metadata.end_time_unix_nano =
      std::max(metadata.start_time_unix_nano, static_cast<uint64_t>(std::max<int64_t>(end_mtime, 0)));
  out.counts = metadata.counts;
  return store.Put(metadata_key, metadata.ToJson());
}

}  // namespace

std::string_view RecoveryOutcomeName(RecoveryOutcome outcome) {
  switch (outcome) {
    case RecoveryOutcome::kRecovered:
      return "recovered";
    case RecoveryOutcome::kLive:
      return "live";
    case RecoveryOutcome::kNotActive:
      return "not active";
    case RecoveryOutcome::kFailed:
      return "failed";
  }
  return "unknown";
}

uint64_t RecoveryReport::Count(RecoveryOutcome outcome) const {
  return static_cast<uint64_t>(std::count_if(sessions.begin(), sessions.end(),
                                             [&](const SessionRecovery& s) { return s.outcome == outcome; }));
}

absl::StatusOr<SessionRecovery> RecoverInstanceLocked(store::ObjectStore& store, SessionMetadata part) {
  std::string id = part.session_id;
  std::string instance = part.instance;
  SessionRecovery out{.session_id = id, .instance = instance};
  if (absl::Status s = Rebuild(store, std::move(part), out, instance); !s.ok()) return InSession(id, s);
  out.outcome = RecoveryOutcome::kRecovered;
  return out;
}

absl::StatusOr<SessionRecovery> RecoverSession(store::ObjectStore& store, std::string_view session_id) {
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  SessionStore sessions(store);
  SessionRecovery out{.session_id = std::string(session_id)};
  absl::StatusOr<SessionMetadata> before = sessions.Load(session_id);
  if (!before.ok()) return before.status();
  if (before->status != SessionStatus::kActive) return out;
  if (before->shared) return RecoverSharedSession(store, session_id);

  absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockSession(store, session_id);
  if (IsSessionLocked(lock.status())) {
    out.outcome = RecoveryOutcome::kLive;
    return out;
  }
  if (!lock.ok()) return lock.status();
  // The writer may have closed the session between the first look and the lock.
  absl::StatusOr<SessionMetadata> metadata = sessions.Load(session_id);
  if (!metadata.ok()) return metadata.status();
  if (metadata->status != SessionStatus::kActive) return out;

  if (absl::Status s = Rebuild(store, std::move(*metadata), out); !s.ok()) return InSession(session_id, s);
  // The dead writer's unfinished uploads (S3), whose parts would otherwise stay stored: under the lock, so
  // none is a live writer's. Best effort: the session is recovered either way.
  (void)store.AbortIncompleteWrites(RawPrefix(session_id));
  out.outcome = RecoveryOutcome::kRecovered;
  return out;
}

absl::StatusOr<RecoveryReport> RecoverInterruptedSessions(store::ObjectStore& store) {
  absl::StatusOr<std::vector<std::string>> ids = store.ListDirectories(std::string(kSessionsPrefix));
  if (!ids.ok()) return ids.status();
  SessionStore sessions(store);
  RecoveryReport report;
  for (const std::string& id : *ids) {
    ++report.sessions_examined;
    if (!ValidateSessionId(id).ok()) {
      report.problems.push_back(fmt::format("session {}: skipped: the folder name is not a valid session id", id));
      continue;
    }
    absl::StatusOr<SessionMetadata> metadata = sessions.Load(id);
    if (!metadata.ok()) {
      absl::StatusCode code = metadata.status().code();
      if (code == absl::StatusCode::kNotFound || code == absl::StatusCode::kInvalidArgument ||
          code == absl::StatusCode::kDataLoss) {
        report.problems.push_back(fmt::format("session {}: skipped: {}", id, std::string(metadata.status().message())));
      } else {
        report.sessions.push_back({.session_id = id,
                                   .outcome = RecoveryOutcome::kFailed,
                                   .error = std::string(metadata.status().message())});
      }
      continue;
    }
    if (metadata->status != SessionStatus::kActive) continue;
    absl::StatusOr<SessionRecovery> recovered = RecoverSession(store, id);
    if (!recovered.ok()) {
      report.sessions.push_back(
          {.session_id = id, .outcome = RecoveryOutcome::kFailed, .error = std::string(recovered.status().message())});
      continue;
    }
    if (recovered->outcome != RecoveryOutcome::kNotActive) report.sessions.push_back(std::move(*recovered));
  }
  return report;
}

absl::StatusOr<std::vector<std::string>> UploadSpoolLeftovers(store::SpoolStore& store) {
  std::vector<std::string> log;
  absl::StatusOr<std::vector<std::string>> ids = store.spool().ListDirectories(std::string(kSessionsPrefix));
  if (!ids.ok()) return ids.status();
  for (const std::string& id : *ids) {
    if (!ValidateSessionId(id).ok()) continue;
    absl::StatusOr<std::vector<store::ObjectInfo>> files = store.spool().List(SessionPrefix(id));
    if (!files.ok()) return files.status();
    if (files->empty()) continue;
    // A file of a shared session's instance belongs to that instance's writer, under its own lock (shared.h);
    // any other file to the session's writer. Each lock is taken once, and files whose writer lives are skipped.
    std::map<std::string, std::unique_ptr<store::ObjectLock>> locks;  // by instance ("": the session)
    std::map<std::string, bool> live;
    const std::string prefix = SessionPrefix(id);
    for (const store::ObjectInfo& file : *files) {
      // Whose file: a raw file names its instance (none: the session's writer); an instance's traces.bin is in
      // its folder. Anything else is not the spool's: left alone.
      std::string_view relative = std::string_view(file.key).substr(prefix.size());
      RawFileName name;
      const bool raw = ParseRawFilePath(relative, &name);
      std::string instance = name.instance;
      if (!raw) {
        std::string_view folder = relative;
        if (!folder.starts_with(kInstancesFolder) || !folder.ends_with("/traces.bin")) continue;
        folder.remove_prefix(kInstancesFolder.size());
        instance = std::string(folder.substr(0, folder.size() - std::string_view("/traces.bin").size()));
        if (!ValidateInstanceName(instance).ok()) continue;
      }
      if (!live.contains(instance)) {
        absl::StatusOr<std::unique_ptr<store::ObjectLock>> lock =
            store.TryLock(instance.empty() ? SessionLockName(id) : InstanceLockName(id, instance));
        live[instance] = store::IsLockHeld(lock.status());  // its writer lives: the files are its open ones
        if (!lock.ok() && !live[instance]) return lock.status();
        if (lock.ok()) locks[instance] = std::move(*lock);
      }
      if (live[instance]) continue;
      if (!raw) {
        // traces.bin cut short by its instance's death: recovering the instance writes it again.
        if (absl::Status s = store.spool().Delete(file.key); !s.ok()) return s;
        log.push_back(fmt::format("{}: removed from the spool: unfinished (recovery writes it again)", file.key));
        continue;
      }
      absl::StatusOr<std::unique_ptr<FileReader>> reader = FileReader::Open(store.spool(), file.key, {.stop_at_damage = true});
      if (!reader.ok()) return reader.status();
      Record rec;
      while (true) {
        absl::StatusOr<bool> more = (*reader)->Next(&rec);
        if (!more.ok()) return more.status();
        if (!*more) break;
      }
      if ((*reader)->records() == 0) {
        if (absl::Status s = store.spool().Delete(file.key); !s.ok()) return s;
        log.push_back(fmt::format("{}: removed from the spool: no complete record", file.key));
        continue;
      }
      if (const std::optional<FileDamage>& damage = (*reader)->damage()) {
        if (absl::Status s = store.spool().Truncate(file.key, damage->valid_bytes); !s.ok()) return s;
      }
      if (absl::Status s = store.Upload(file.key); !s.ok()) return s;
      log.push_back(fmt::format("{}: uploaded from the spool ({} records)", file.key, (*reader)->records()));
    }
  }
  return log;
}

absl::Status StillActive(std::string_view session_id) {
  return absl::FailedPreconditionError(fmt::format(
      "session {} is still active (a writer that died?): recover it first by running a capture, seed or replay "
      "on its store",
      session_id));
}

std::string DescribeRecovery(const SessionRecovery& r) {
  switch (r.outcome) {
    case RecoveryOutcome::kRecovered:
      return fmt::format("session {}: recovered{}: kept {} files ({} records), cut {}, removed {}, dropped {} bytes",
                         r.session_id, r.instance.empty() ? "" : fmt::format(" instance {}", r.instance),
                         r.files_kept, r.records_kept, r.files_truncated, r.files_removed, r.bytes_dropped);
    case RecoveryOutcome::kLive:
      if (!r.instance.empty()) {
        return fmt::format("session {}: recovered instance {}: kept {} files ({} records), cut {}, removed {}, dropped "
                           "{} bytes; the session stays active: another instance still records it",
                           r.session_id, r.instance, r.files_kept, r.records_kept, r.files_truncated, r.files_removed,
                           r.bytes_dropped);
      }
      return fmt::format("session {}: left alone: a live writer holds its lock", r.session_id);
    case RecoveryOutcome::kNotActive:
      return fmt::format("session {}: left alone: not active", r.session_id);
    case RecoveryOutcome::kFailed:
      return fmt::format("session {}: not recovered: {}", r.session_id, r.error);
  }
  return fmt::format("session {}", r.session_id);
}

}  // namespace otelrr::session
