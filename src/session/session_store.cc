#include "session/session_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "session/layout.h"
#include "session/session_id.h"
#include "session/session_lock.h"
#include "session/shared.h"

namespace otelrr::session {

absl::StatusOr<std::vector<SessionMetadata>> SessionStore::List(std::vector<std::string>* problems) {
  absl::StatusOr<std::vector<std::string>> ids = store_.ListDirectories(std::string(kSessionsPrefix));
  if (!ids.ok()) return ids.status();
  // Each session's metadata.json is one read: on a remote store a round trip, so they are read by a few
  // threads at once (a thousand sessions list in well under a second from S3).
  std::vector<std::optional<absl::StatusOr<SessionMetadata>>> loaded(ids->size());
  auto load = [&](size_t i) {
    const std::string& id = (*ids)[i];
    if (!ValidateSessionId(id).ok()) return;
    absl::StatusOr<SessionMetadata> m = Load(id);
    if (m.status().code() == absl::StatusCode::kNotFound) {
      // A folder with no object at all (only a writer's lock, as while the capture service creates
      // the session) is not a session yet: nothing to report.
      absl::StatusOr<bool> exists = Exists(id);
      if (exists.ok() && !*exists) m = absl::CancelledError("not a session");
    }
    // A shared session still recorded: its counts so far are in its instances' parts (best effort: as stored).
    if (m.ok()) (void)AddLiveInstances(store_, &*m);
    loaded[i] = std::move(m);
  };
  const size_t threads = std::min<size_t>(kListThreads, ids->size());
  std::vector<std::thread> pool;
  std::atomic<size_t> next{0};
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next.fetch_add(1); i < ids->size(); i = next.fetch_add(1)) load(i);
    });
  }
  for (std::thread& t : pool) t.join();

  std::vector<SessionMetadata> out;
  for (size_t i = 0; i < ids->size(); ++i) {
    const std::string& id = (*ids)[i];
    auto report = [&](std::string what) {
      if (problems != nullptr) problems->push_back(fmt::format("session {}: {}", id, what));
    };
    if (!loaded[i].has_value()) {
      report("skipped: the folder name is not a valid session id");
      continue;
    }
    absl::StatusOr<SessionMetadata>& m = *loaded[i];
    if (m.status().code() == absl::StatusCode::kCancelled) continue;  // not a session
    if (!m.ok()) {
      if (!store::IsRetryable(m.status()) && m.status().code() != absl::StatusCode::kNotFound &&
          m.status().code() != absl::StatusCode::kInvalidArgument && m.status().code() != absl::StatusCode::kDataLoss) {
        return m.status();  // a store failure, not a damaged session
      }
      report(std::string(m.status().message()));
      continue;
    }
    out.push_back(std::move(*m));
  }
  return out;
}

absl::StatusOr<SessionMetadata> SessionStore::Load(std::string_view session_id) {
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  absl::StatusOr<std::string> json = store_.ReadAll(MetadataKey(session_id));
  if (!json.ok()) {
    if (json.status().code() == absl::StatusCode::kNotFound) {
      absl::StatusOr<bool> exists = Exists(session_id);
      if (exists.ok() && *exists) {
        return absl::NotFoundError(fmt::format(
            "session {} has no metadata.json: it was not written completely ('otelrr sessions verify {}' says more)",
            session_id, session_id));
      }
      return NoSuchSession(session_id);
    }
    return json.status();
  }
  absl::StatusOr<SessionMetadata> m = SessionMetadata::FromJson(*json);
  if (!m.ok()) {
    return absl::InvalidArgumentError(fmt::format("session {}: {}", session_id, std::string(m.status().message())));
  }
  if (m->session_id != session_id) {
    return absl::InvalidArgumentError(fmt::format("session {}: metadata.json names session \"{}\"", session_id,
                                                  m->session_id));
  }
  return m;
}

absl::Status SessionStore::Save(const SessionMetadata& metadata) {
  if (absl::Status s = ValidateSessionId(metadata.session_id); !s.ok()) return s;
  return store_.Put(MetadataKey(metadata.session_id), metadata.ToJson());
}

absl::StatusOr<bool> SessionStore::Exists(std::string_view session_id) {
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  absl::StatusOr<store::ObjectInfo> head = store_.Head(MetadataKey(session_id));
  if (head.ok()) return true;
  if (head.status().code() != absl::StatusCode::kNotFound) return head.status();
  absl::StatusOr<std::vector<store::ObjectInfo>> objects = store_.List(SessionPrefix(session_id));
  if (!objects.ok()) return objects.status();
  return !objects->empty();
}

absl::Status SessionStore::Delete(std::string_view session_id) {
  // Under the writer's lock, so a session being written (a capture, a seed, an import, a recovery) is
  // never deleted from under its writer.
  absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockSession(store_, session_id);
  if (IsSessionLocked(lock.status())) {
    return absl::FailedPreconditionError(fmt::format(
        "session {} is being written (a capture is recording it, or a seed or import is writing it): stop that "
        "first",
        session_id));
  }
  if (!lock.ok() && lock.status().code() != absl::StatusCode::kUnimplemented) return lock.status();
  return DeleteLocked(session_id);
}

absl::Status SessionStore::DeleteLocked(std::string_view session_id) {
  absl::StatusOr<bool> exists = Exists(session_id);
  if (!exists.ok()) return exists.status();
  if (!*exists) return NoSuchSession(session_id);
  // The instances of a shared session hold locks of their own (shared.h).
  if (absl::Status s = CheckNoLiveInstance(store_, session_id); !s.ok()) return s;
  // metadata.json first: from then on the session is gone for whoever writes into its folder without its
  // lock and checks afterwards (UndoIfDeleted), and what they wrote before goes with the folder.
  if (absl::Status s = store_.Delete(MetadataKey(session_id)); !s.ok() && !absl::IsNotFound(s)) return s;
  if (absl::Status s = store_.DeletePrefix(SessionPrefix(session_id)); !s.ok()) return s;
  return DeleteShardsOf(session_id);
}

absl::Status SessionStore::UndoIfDeleted(std::string_view session_id, std::string_view key) {
  absl::Status there = store_.Head(MetadataKey(session_id)).status();
  if (!absl::IsNotFound(there)) return there;
  if (absl::Status s = store_.Delete(key); !s.ok() && !absl::IsNotFound(s)) return s;
  return NoSuchSession(session_id);
}

absl::Status SessionStore::DeleteShardsOf(std::string_view session_id) {
  absl::StatusOr<std::vector<std::string>> ids = store_.ListDirectories(std::string(kSessionsPrefix));
  if (!ids.ok()) return ids.status();
  const std::string prefix = fmt::format("{}.shard-", session_id);
  absl::Status first;
  for (const std::string& id : *ids) {
    if (!id.starts_with(prefix)) continue;
    absl::StatusOr<SessionMetadata> shard = Load(id);
    if (!shard.ok() || !shard->shard_of || shard->shard_of->session_id != session_id) continue;
    absl::Status s = Delete(id);
    if (!s.ok() && !absl::IsNotFound(s) && first.ok()) {
      first = absl::Status(s.code(), fmt::format("session {} is deleted, but not its shard {}: {}", session_id, id,
                                                 std::string(s.message())));
    }
  }
  return first;
}

absl::StatusOr<std::unique_ptr<SessionWriter>> SessionStore::Create(SessionMetadata metadata, WriterOptions options) {
  if (absl::Status s = ValidateSessionId(metadata.session_id); !s.ok()) return s;
  if (!options.instance.empty()) return JoinSharedSession(store_, std::move(metadata), std::move(options));
  // Locked before it exists and until the writer is gone, so crash recovery (recover.h) never takes
  // a session being written for a crashed one. Stores without locks (Unimplemented) write unlocked.
  absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockSession(store_, metadata.session_id);
  if (IsSessionLocked(lock.status())) {
    return absl::AlreadyExistsError(
        fmt::format("session {} is being written by another process or writer", metadata.session_id));
  }
  if (!lock.ok() && lock.status().code() != absl::StatusCode::kUnimplemented) return lock.status();
  absl::StatusOr<bool> exists = Exists(metadata.session_id);
  if (!exists.ok()) return exists.status();
  if (*exists) {
    return absl::AlreadyExistsError(
        fmt::format("session {} already exists in {}", metadata.session_id, store_.Describe()));
  }
  absl::StatusOr<std::unique_ptr<SessionWriter>> writer = SessionWriter::Create(store_, std::move(metadata), std::move(options));
  if (writer.ok() && lock.ok()) (*writer)->HoldLock(std::move(*lock));
  return writer;
}

absl::StatusOr<std::unique_ptr<SessionReader>> SessionStore::OpenReader(std::string_view session_id,
                                                                        ReaderOptions options) {
  return SessionReader::Open(store_, session_id, std::move(options));
}

absl::StatusOr<VerifyReport> SessionStore::Verify(std::string_view session_id) {
  return VerifySession(store_, session_id);
}

}  // namespace otelrr::session
