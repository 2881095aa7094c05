#include "session/shared.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>
#include <tuple>
#include <utility>

#include "common/json_writer.h"
#include "session/layout.h"
#include "session/session_id.h"
#include "session/session_lock.h"

namespace otelrr::session {
namespace {

static_assert(std::endian::native == std::endian::little, "traces.bin is little-endian");

std::string InstancesPrefix(std::string_view session_id) {
  return fmt::format("{}{}", SessionPrefix(session_id), kInstancesFolder);
}

// NotFound when the object is missing; InvalidArgument (naming it) when it does not parse as metadata.
absl::StatusOr<SessionMetadata> LoadObject(store::ObjectStore& store, const std::string& key) {
  absl::StatusOr<std::string> text = store.ReadAll(key);
  if (!text.ok()) return text.status();
  absl::StatusOr<SessionMetadata> m = SessionMetadata::FromJson(*text);
  if (!m.ok()) return absl::DataLossError(fmt::format("{}: {}", key, std::string(m.status().message())));
  return m;
}

// The instance's lock; nullptr (and OK) when a live writer holds it.
absl::StatusOr<std::unique_ptr<store::ObjectLock>> TryInstanceLock(store::ObjectStore& store, std::string_view id,
                                                                   std::string_view instance) {
  absl::StatusOr<std::unique_ptr<store::ObjectLock>> lock = store.TryLock(InstanceLockName(id, instance));
  if (store::IsLockHeld(lock.status())) return std::unique_ptr<store::ObjectLock>();
  return lock;
}

// Reads traces.bin of one instance: ascending fingerprints after the magic.
class FingerprintFile {
 public:
  static absl::StatusOr<FingerprintSource> Open(store::ObjectStore& store, std::string key) {
    absl::StatusOr<std::unique_ptr<store::ObjectReader>> reader = store.Get(key);
    if (!reader.ok()) return reader.status();
    auto file = std::make_shared<FingerprintFile>(std::move(*reader), std::move(key));
    char magic[kTraceFingerprintsMagic.size()];
    absl::StatusOr<size_t> got = file->ReadFull(magic, sizeof magic);
    if (!got.ok()) return got.status();
    if (*got != sizeof magic || std::string_view(magic, sizeof magic) != kTraceFingerprintsMagic) {
      return absl::DataLossError(fmt::format("{} is not a trace fingerprint file (it does not start with {:?})",
                                             file->key_, kTraceFingerprintsMagic));
    }
    return [file](uint64_t* out, size_t max) { return file->Next(out, max); };
  }

  FingerprintFile(std::unique_ptr<store::ObjectReader> reader, std::string key)
      : reader_(std::move(reader)), key_(std::move(key)) {}

 private:
  absl::StatusOr<size_t> ReadFull(char* buf, size_t n) {
    size_t got = 0;
    while (got < n) {
      absl::StatusOr<size_t> r = reader_->Read(buf + got, n - got);
      if (!r.ok()) return r.status();
      if (*r == 0) break;
      got += *r;
    }
    return got;
  }

  absl::StatusOr<size_t> Next(uint64_t* out, size_t max) {
    absl::StatusOr<size_t> got = ReadFull(reinterpret_cast<char*>(out), max * sizeof(uint64_t));
    if (!got.ok()) return got.status();
    if (*got % sizeof(uint64_t) != 0) {
      return absl::DataLossError(fmt::format("{} is cut short: it ends inside a fingerprint", key_));
    }
    size_t n = *got / sizeof(uint64_t);
    for (size_t i = 0; i < n; ++i) {
      if (any_ && out[i] <= last_) {
        return absl::DataLossError(fmt::format("{} is damaged: its fingerprints are not in ascending order", key_));
      }
      any_ = true;
      last_ = out[i];
    }
    return n;
  }

  std::unique_ptr<store::ObjectReader> reader_;
  std::string key_;
  bool any_ = false;
  uint64_t last_ = 0;
};

// One instance as a seal finds it.
struct Found {
  std::string name = {};
  std::optional<SessionMetadata> part = {};  // absent: joining (lock held, no part yet)
  bool live = false;
};

// Every instance of the session: live ones (lock held), finished ones, and died ones recovered on the way.
absl::StatusOr<std::vector<Found>> FindInstances(store::ObjectStore& store, std::string_view id,
                                                 std::vector<SessionRecovery>* recovered) {
  absl::StatusOr<std::vector<std::string>> names = store.ListDirectories(InstancesPrefix(id));
  if (!names.ok()) return names.status();
  std::vector<Found> out;
  for (const std::string& name : *names) {
    if (!ValidateInstanceName(name).ok()) continue;  // not ours: verify reports stray objects
    Found f{.name = name};
    absl::StatusOr<SessionMetadata> part = LoadObject(store, InstancePartKey(id, name));
    if (!part.ok() && part.status().code() != absl::StatusCode::kNotFound) return part.status();
    bool finished = part.ok() && part->status != SessionStatus::kActive;
    if (!finished) {
      absl::StatusOr<std::unique_ptr<store::ObjectLock>> lock = TryInstanceLock(store, id, name);
      if (!lock.ok()) return lock.status();
      if (*lock == nullptr) {
        f.live = true;
      } else if (part.ok()) {
        // Died while recording: recover it alone, under its lock.
        part->session_id = std::string(id);
        part->instance = name;
        absl::StatusOr<SessionRecovery> r = RecoverInstanceLocked(store, *part);
        if (!r.ok()) return r.status();
        recovered->push_back(std::move(*r));
        part = LoadObject(store, InstancePartKey(id, name));
        if (!part.ok()) return part.status();
      } else {
        continue;  // a folder with no part and no live writer: a join that gave up
      }
    }
    if (part.ok()) {
      if (part->instance != name || part->session_id != id) {
        return absl::DataLossError(fmt::format("{} describes instance '{}' of session '{}', not {} of {}",
                                               InstancePartKey(id, name), part->instance, part->session_id, name, id));
      }
      f.part = std::move(*part);
    }
    out.push_back(std::move(f));
  }
  return out;
}

// Adds an instance's phases to the others'. The same phase marked on every instance (one API call per pod,
// milliseconds apart) is one phase of the session: the k-th phase of a name on one instance is the k-th of that
// name on the others, merged from the earliest start to the latest end (open while one of them is), with every
// flag. A name marked again later (failure, recovery, failure again) stays as many phases.
void AddPhases(std::vector<Phase>& merged, const std::vector<Phase>& part) {
  std::map<std::string_view, size_t> seen;  // phases of each name met in `part` so far
  for (const Phase& p : part) {
    size_t skip = seen[p.name]++;
    Phase* same = nullptr;
    for (Phase& q : merged) {
      if (q.name != p.name) continue;
      if (skip == 0) {
        same = &q;
        break;
      }
      --skip;
    }
    if (same == nullptr) {
      merged.push_back(p);
      continue;
    }
    same->start_time_unix_nano = std::min(same->start_time_unix_nano, p.start_time_unix_nano);
    if (!same->end_time_unix_nano || !p.end_time_unix_nano) {
      same->end_time_unix_nano.reset();
    } else {
      same->end_time_unix_nano = std::max(*same->end_time_unix_nano, *p.end_time_unix_nano);
    }
    for (const std::string& flag : p.flags) {
      if (std::find(same->flags.begin(), same->flags.end(), flag) == same->flags.end()) same->flags.push_back(flag);
    }
  }
}

// The merged files in arrival order, the phases by start.
void SortMerged(SessionMetadata& m) {
  std::sort(m.files.begin(), m.files.end(), [](const FileEntry& a, const FileEntry& b) {
    return std::tie(a.first_arrival_unix_nano, a.path) < std::tie(b.first_arrival_unix_nano, b.path);
  });
  std::stable_sort(m.phases.begin(), m.phases.end(), [](const Phase& a, const Phase& b) {
    return std::tie(a.start_time_unix_nano, a.name) < std::tie(b.start_time_unix_nano, b.name);
  });
}

// What the parts make of a shared session: cleared here, then added part by part (AddPart).
void ClearMerged(SessionMetadata& m) {
  m.instance.clear();
  m.instances.clear();
  m.files.clear();
  m.phases.clear();
  m.counts = {};
  m.total_size_bytes = 0;
  m.first_arrival_unix_nano.reset();
  m.last_arrival_unix_nano.reset();
  m.end_time_unix_nano.reset();
}

// Adds instance `name`'s part: its times, counts (distinct traces excepted: they need the fingerprints),
// sizes, files, phases and redaction, and its line in `instances`.
void AddPart(SessionMetadata& m, const std::string& name, const SessionMetadata& p) {
  m.start_time_unix_nano = std::min(m.start_time_unix_nano, p.start_time_unix_nano);
  if (p.end_time_unix_nano) m.end_time_unix_nano = std::max(m.end_time_unix_nano.value_or(0), *p.end_time_unix_nano);
  if (p.first_arrival_unix_nano) {
    m.first_arrival_unix_nano = std::min(m.first_arrival_unix_nano.value_or(UINT64_MAX), *p.first_arrival_unix_nano);
  }
  if (p.last_arrival_unix_nano) {
    m.last_arrival_unix_nano = std::max(m.last_arrival_unix_nano.value_or(0), *p.last_arrival_unix_nano);
  }
  const SessionCounts& c = p.counts;
  m.counts.spans += c.spans;
  m.counts.data_points += c.data_points;
  m.counts.log_records += c.log_records;
  m.counts.trace_requests += c.trace_requests;
  m.counts.metric_requests += c.metric_requests;
  m.counts.log_requests += c.log_requests;
  m.counts.uncompressed_bytes += c.uncompressed_bytes;
  m.total_size_bytes += p.total_size_bytes;
  m.files.insert(m.files.end(), p.files.begin(), p.files.end());
  AddPhases(m.phases, p.phases);
  if (p.redaction) {
    if (!m.redaction) m.redaction = RedactionSummary{.rules = p.redaction->rules};
    m.redaction->attributes_dropped += p.redaction->attributes_dropped;
    m.redaction->attributes_hashed += p.redaction->attributes_hashed;
    m.redaction->attributes_replaced += p.redaction->attributes_replaced;
    m.redaction->bodies_masked += p.redaction->bodies_masked;
    m.redaction->forward_redacted = m.redaction->forward_redacted || p.redaction->forward_redacted;
  }
  m.instances.push_back({.name = name,
                         .status = p.status,
                         .status_reason = p.status_reason,
                         .start_time_unix_nano = p.start_time_unix_nano,
                         .end_time_unix_nano = p.end_time_unix_nano,
                         .requests = c.requests(),
                         .files = p.files.size(),
                         .size_bytes = p.total_size_bytes});
}

// metadata.json of the sealed session: `base` (the session as started) with the parts merged.
absl::StatusOr<SessionMetadata> Merge(store::ObjectStore& store, SessionMetadata base, const std::vector<Found>& found) {
  SessionMetadata m = std::move(base);
  ClearMerged(m);
  std::vector<std::string> failed;
  std::vector<FingerprintSource> sources;
  for (const Found& f : found) {
    const SessionMetadata& p = *f.part;
    AddPart(m, f.name, p);
    if (p.status != SessionStatus::kCompleted) {
      failed.push_back(fmt::format("instance {}: {}", f.name, p.status_reason.empty() ? "failed" : p.status_reason));
    }
    if (p.counts.traces > 0) {
      absl::StatusOr<FingerprintSource> source = FingerprintFile::Open(store, InstanceTracesKey(m.session_id, f.name));
      if (!source.ok()) return source.status();
      sources.push_back(std::move(*source));
    }
  }
  absl::StatusOr<uint64_t> traces = MergeSortedFingerprints(std::move(sources), nullptr);
  if (!traces.ok()) return traces.status();
  m.counts.traces = *traces;
  m.SyncCapturedTotals();
  SortMerged(m);
  if (!m.end_time_unix_nano) m.end_time_unix_nano = m.start_time_unix_nano;
  m.status = failed.empty() ? SessionStatus::kCompleted : SessionStatus::kFailed;
  m.status_reason.clear();
  for (const std::string& f : failed) m.status_reason += (m.status_reason.empty() ? "" : "; ") + f;
  return m;
}

// The session-wide lock that keeps seals, recoveries and deletes of the session apart. Waits a little for
// another seal (two instances that stop together both try). Null when the store has no locks.
absl::StatusOr<std::unique_ptr<SessionLock>> LockForSeal(store::ObjectStore& store, std::string_view id) {
  constexpr int kAttempts = 100;
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockSession(store, id);
    if (lock.ok()) return lock;
    if (lock.status().code() == absl::StatusCode::kUnimplemented) return std::unique_ptr<SessionLock>();
    if (!IsSessionLocked(lock.status()) || attempt + 1 == kAttempts) return lock.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

absl::StatusOr<uint64_t> WriteTraceFingerprints(store::ObjectStore& store, std::string_view session_id,
                                                std::string_view instance, TraceIdSet& ids) {
  absl::StatusOr<std::unique_ptr<store::ObjectWriter>> out = store.Create(InstanceTracesKey(session_id, instance));
  if (!out.ok()) return out.status();
  if (absl::Status s = (*out)->Append(kTraceFingerprintsMagic); !s.ok()) return s;
  absl::StatusOr<uint64_t> n = ids.WriteSorted([&](const uint64_t* fingerprints, size_t count) {
    return (*out)->Append(std::string_view(reinterpret_cast<const char*>(fingerprints), count * sizeof(uint64_t)));
  });
  if (!n.ok()) return n.status();
  if (absl::Status s = (*out)->Close(); !s.ok()) return s;
  return n;
}

absl::StatusOr<std::unique_ptr<SessionWriter>> JoinSharedSession(store::ObjectStore& store, SessionMetadata metadata,
                                                                 WriterOptions options) {
  const std::string id = metadata.session_id;
  const std::string instance = options.instance;
  if (absl::Status s = ValidateSessionId(id); !s.ok()) return s;
  if (absl::Status s = ValidateInstanceName(instance); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<store::ObjectLock>> lock = store.TryLock(InstanceLockName(id, instance));
  if (store::IsLockHeld(lock.status())) {
    return absl::AlreadyExistsError(fmt::format(
        "instance '{}' of session {} is being written by another process: give every instance its own --instance "
        "name",
        instance, id));
  }
  if (!lock.ok()) return lock.status();

  auto sealed = [&](const SessionMetadata& m) {
    return absl::FailedPreconditionError(fmt::format(
        "session {} is sealed (status {}): all its instances stopped; record into a new session", id,
        SessionStatusName(m.status)));
  };
  absl::StatusOr<SessionMetadata> existing = LoadObject(store, MetadataKey(id));
  if (existing.ok()) {
    if (!existing->shared) {
      return absl::AlreadyExistsError(fmt::format(
          "session {} already exists in {} and is not shared (it was not started with --instance): choose another "
          "session id",
          id, store.Describe()));
    }
    if (existing->status != SessionStatus::kActive) return sealed(*existing);
    if (existing->session_type != metadata.session_type) {
      return absl::FailedPreconditionError(fmt::format("session {} is a {} session, not a {} one", id,
                                                       SessionTypeName(existing->session_type),
                                                       SessionTypeName(metadata.session_type)));
    }
  } else if (existing.status().code() != absl::StatusCode::kNotFound) {
    return existing.status();
  }

  absl::StatusOr<SessionMetadata> part = LoadObject(store, InstancePartKey(id, instance));
  if (part.ok()) {
    return absl::AlreadyExistsError(fmt::format(
        "instance '{}' already recorded into session {} (its part is {}{}): give this instance another name",
        instance, id, SessionStatusName(part->status),
        part->status == SessionStatus::kActive ? ", from a process that died: sealing the session recovers it" : ""));
  }
  if (part.status().code() != absl::StatusCode::kNotFound) return part.status();

  if (existing.status().code() == absl::StatusCode::kNotFound) {
    // The first instance starts the session. Two that start together both write it, alike but for the start
    // time, which the seal takes from the parts.
    SessionMetadata session = metadata;
    session.shared = true;
    session.status = SessionStatus::kActive;
    session.s3_prefix = SessionPrefix(id);
    session.instance.clear();
    session.counts = {};
    session.files.clear();
    session.SyncCapturedTotals();
    if (absl::Status s = store.Put(MetadataKey(id), session.ToJson()); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<SessionWriter>> writer = SessionWriter::Create(store, std::move(metadata), options);
  if (!writer.ok()) return writer.status();
  // A seal may have run between the first look and the part: withdraw then.
  absl::StatusOr<SessionMetadata> now = LoadObject(store, MetadataKey(id));
  if (!now.ok() || now->status != SessionStatus::kActive) {
    (*writer)->Close(SessionStatus::kFailed, "withdrawn: the session was sealed while this instance joined").IgnoreError();
    (void)store.DeletePrefix(InstancePrefix(id, instance));
    if (!now.ok()) return now.status();
    return sealed(*now);
  }
  (*writer)->HoldLock(std::make_unique<SessionLock>(id, std::move(*lock)));
  return writer;
}

absl::StatusOr<SealResult> SealSession(store::ObjectStore& store, std::string_view session_id, SealOptions options) {
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  const std::string id(session_id);
  absl::StatusOr<SessionMetadata> base = LoadObject(store, MetadataKey(id));
  if (base.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(fmt::format("session {} does not exist in {}", id, store.Describe()));
  }
  if (!base.ok()) return base.status();
  if (!base->shared) {
    return absl::FailedPreconditionError(
        fmt::format("session {} is not shared (it was not recorded with --instance): there is nothing to seal", id));
  }
  SealResult result;
  if (base->status != SessionStatus::kActive) {
    result.outcome = SealOutcome::kAlreadySealed;
    result.metadata = std::move(*base);
    return result;
  }
  absl::StatusOr<std::unique_ptr<SessionLock>> session_lock = LockForSeal(store, id);
  if (!session_lock.ok()) return session_lock.status();
  base = LoadObject(store, MetadataKey(id));  // another seal may have finished meanwhile
  if (!base.ok()) return base.status();
  if (base->status != SessionStatus::kActive) {
    result.outcome = SealOutcome::kAlreadySealed;
    result.metadata = std::move(*base);
    return result;
  }

  absl::StatusOr<std::vector<Found>> found = FindInstances(store, id, &result.recovered);
  if (!found.ok()) return found.status();
  for (const Found& f : *found) {
    if (f.live) result.live.push_back(f.name);
  }
  if (!result.live.empty() || (found->empty() && !options.seal_empty)) {
    result.metadata = std::move(*base);
    return result;
  }
  const SessionMetadata started = *base;
  absl::StatusOr<SessionMetadata> merged = Merge(store, std::move(*base), *found);
  if (!merged.ok()) return merged.status();
  if (absl::Status s = store.Put(MetadataKey(id), merged->ToJson()); !s.ok()) return s;

  // An instance that joined while this merged (after FindInstances listed): reopen the session for it.
  absl::StatusOr<std::vector<std::string>> names = store.ListDirectories(InstancesPrefix(id));
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    bool merged_it = std::any_of(found->begin(), found->end(), [&](const Found& f) { return f.name == name; });
    if (merged_it || !ValidateInstanceName(name).ok()) continue;
    absl::StatusOr<std::unique_ptr<store::ObjectLock>> lock = TryInstanceLock(store, id, name);
    if (!lock.ok()) return lock.status();
    if (*lock != nullptr) continue;  // not live: it saw the seal and withdrew
    if (absl::Status s = store.Put(MetadataKey(id), started.ToJson()); !s.ok()) return s;
    result.live.push_back(name);
    result.metadata = started;
    return result;
  }
  // Every instance is done: an upload still open under raw/ is an orphan (as SessionWriter::Close does).
  (void)store.AbortIncompleteWrites(RawPrefix(id));
  result.outcome = SealOutcome::kSealed;
  result.metadata = std::move(*merged);
  return result;
}

absl::StatusOr<SessionRecovery> RecoverSharedSession(store::ObjectStore& store, std::string_view session_id) {
  absl::StatusOr<SealResult> sealed = SealSession(store, session_id, {.seal_empty = false});
  if (!sealed.ok()) return sealed.status();
  SessionRecovery out{.session_id = std::string(session_id)};
  for (const SessionRecovery& r : sealed->recovered) {
    out.files_kept += r.files_kept;
    out.files_truncated += r.files_truncated;
    out.files_removed += r.files_removed;
    out.records_kept += r.records_kept;
    out.bytes_dropped += r.bytes_dropped;
    out.notes.insert(out.notes.end(), r.notes.begin(), r.notes.end());
    out.instance += (out.instance.empty() ? "" : ", ") + r.instance;
  }
  out.counts = sealed->metadata.counts;
  switch (sealed->outcome) {
    case SealOutcome::kSealed:
      out.outcome = RecoveryOutcome::kRecovered;
      break;
    case SealOutcome::kAlreadySealed:
      out.outcome = RecoveryOutcome::kNotActive;
      break;
    case SealOutcome::kWaiting:
      out.outcome = RecoveryOutcome::kLive;
      break;
  }
  return out;
}

absl::Status AddLiveInstances(store::ObjectStore& store, SessionMetadata* metadata) {
  if (!metadata->shared || metadata->status != SessionStatus::kActive) return absl::OkStatus();
  const std::string& id = metadata->session_id;
  absl::StatusOr<std::vector<std::string>> names = store.ListDirectories(InstancesPrefix(id));
  if (!names.ok()) return names.status();
  SessionMetadata m = *metadata;
  ClearMerged(m);
  for (const std::string& name : *names) {
    if (!ValidateInstanceName(name).ok()) continue;
    absl::StatusOr<SessionMetadata> part = LoadObject(store, InstancePartKey(id, name));
    if (part.status().code() == absl::StatusCode::kNotFound) continue;  // joining: no part yet
    if (!part.ok()) return part.status();
    AddPart(m, name, *part);
    m.counts.traces += part->counts.traces;  // an upper bound: a trace may have reached several instances
  }
  SortMerged(m);
  m.status = SessionStatus::kActive;
  m.end_time_unix_nano.reset();
  m.SyncCapturedTotals();
  *metadata = std::move(m);
  return absl::OkStatus();
}

absl::Status CheckNoLiveInstance(store::ObjectStore& store, std::string_view session_id) {
  absl::StatusOr<std::vector<std::string>> names = store.ListDirectories(InstancesPrefix(session_id));
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (!ValidateInstanceName(name).ok()) continue;
    absl::StatusOr<std::unique_ptr<store::ObjectLock>> lock = TryInstanceLock(store, session_id, name);
    if (!lock.ok() && lock.status().code() != absl::StatusCode::kUnimplemented) return lock.status();
    if (lock.ok() && *lock == nullptr) {
      return absl::FailedPreconditionError(
          fmt::format("session {} is being recorded by instance '{}': stop it first", session_id, name));
    }
  }
  return absl::OkStatus();
}

void WriteSealResultFields(const SealResult& r, JsonWriter* w) {
  w->Field("sessionId", r.metadata.session_id);
  w->Field("sealed", r.outcome != SealOutcome::kWaiting);
  w->Field("outcome", r.outcome == SealOutcome::kSealed          ? "sealed"
                      : r.outcome == SealOutcome::kAlreadySealed ? "already sealed"
                                                                 : "waiting");
  w->StringArray("liveInstances", r.live);
  std::vector<std::string> recovered;
  for (const SessionRecovery& rec : r.recovered) recovered.push_back(rec.instance);
  w->StringArray("recoveredInstances", recovered);
  w->Key("metadata");
  r.metadata.WriteJson(w, /*with_files=*/false);
}

std::string DescribeSeal(const SealResult& r) {
  std::vector<std::string> names;
  for (const InstanceSummary& i : r.metadata.instances) names.push_back(i.name);
  std::string recovered;
  for (const SessionRecovery& s : r.recovered) {
    recovered += fmt::format("; recovered instance {} ({} records kept, {} bytes dropped)", s.instance, s.records_kept,
                             s.bytes_dropped);
  }
  switch (r.outcome) {
    case SealOutcome::kSealed:
      return fmt::format("session {} sealed ({}): {} instance{} ({}), {} requests, {} spans, {} data points, {} log "
                         "records, {} traces{}",
                         r.metadata.session_id, SessionStatusName(r.metadata.status), names.size(),
                         names.size() == 1 ? "" : "s",
                         fmt::join(names, ", "), r.metadata.counts.requests(), r.metadata.counts.spans,
                         r.metadata.counts.data_points, r.metadata.counts.log_records, r.metadata.counts.traces,
                         recovered);
    case SealOutcome::kAlreadySealed:
      return fmt::format("session {} was already sealed ({})", r.metadata.session_id,
                         SessionStatusName(r.metadata.status));
    case SealOutcome::kWaiting:
      if (r.live.empty()) {
        return fmt::format("session {} has no instance yet: not sealed{}", r.metadata.session_id, recovered);
      }
      return fmt::format("session {} not sealed: instance{} {} still recording{}", r.metadata.session_id,
                         r.live.size() == 1 ? "" : "s", fmt::join(r.live, ", "), recovered);
  }
  return "";
}

}  // namespace otelrr::session
