// The sessions of one ObjectStore: list, load, save, create (a writer), read (a reader), verify, delete.
//
//   absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store::OpenStore("./data");
//   SessionStore sessions(**store);
//   std::vector<std::string> problems;
//   absl::StatusOr<std::vector<SessionMetadata>> all = sessions.List(&problems);
//   absl::StatusOr<SessionMetadata> one = sessions.Load("capture-1");
//   absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions.Create({.session_id = "new"}, {});
//   absl::StatusOr<std::unique_ptr<SessionReader>> r = sessions.OpenReader("capture-1", {});
//   absl::StatusOr<VerifyReport> v = sessions.Verify("capture-1");
//
// Every entry point validates the session id first (InvalidArgument), so no id reaches outside
// sessions/. A session exists when its folder holds any object (metadata.json, or raw files of a
// writer that crashed before writing it).
#ifndef OTELRR_SESSION_SESSION_STORE_H_
#define OTELRR_SESSION_SESSION_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "session/metadata.h"
#include "session/reader.h"
#include "session/verify.h"
#include "session/writer.h"
#include "store/object_store.h"

namespace otelrr::session {

// Thread-safe as its ObjectStore is: it holds no state of its own.
class SessionStore {
 public:
  explicit SessionStore(store::ObjectStore& store) : store_(store) {}

  // The metadata of every readable session, sorted by id (read by up to kListThreads threads at once). Sessions whose metadata.json is missing or
  // unreadable are skipped, with one line each in `problems` (when given). A folder holding no object
  // (only a lock, session_lock.h) is not a session and is skipped silently.
  absl::StatusOr<std::vector<SessionMetadata>> List(std::vector<std::string>* problems = nullptr);
  // NotFound when the session has no metadata.json; InvalidArgument when it does not parse.
  absl::StatusOr<SessionMetadata> Load(std::string_view session_id);
  // Writes metadata.json atomically.
  absl::Status Save(const SessionMetadata& metadata);
  absl::StatusOr<bool> Exists(std::string_view session_id);
  // Removes everything under sessions/{id}/, and the shard sessions split from it (`sessions split`: parts of it
  // that replay refuses once it is gone). NotFound when there is nothing; FailedPrecondition while a writer
  // holds the session's lock (session_lock.h), or a shard's (that shard then stays, and the error names it).
  absl::Status Delete(std::string_view session_id);
  // The same for a caller that holds the session's lock already (LockSession; or on a store without
  // locks), so that what it decided under the lock still holds when the session goes (retention.h).
  absl::Status DeleteLocked(std::string_view session_id);
  // For a write into a session's folder by one who does not hold its lock (the timeline's cache, an
  // annotation), called after writing `key`: when the session was deleted meanwhile (it has no metadata.json
  // any more), removes `key` again and answers NotFound, so that the write does not bring the folder back as
  // a broken session. Delete removes metadata.json before the rest, so either this sees it gone or the
  // delete removes `key`.
  absl::Status UndoIfDeleted(std::string_view session_id, std::string_view key);
  // Starts a new session. AlreadyExists when the id is taken. With options.instance set, starts or joins the
  // shared session as that instance instead (shared.h: JoinSharedSession).
  absl::StatusOr<std::unique_ptr<SessionWriter>> Create(SessionMetadata metadata, WriterOptions options = {});
  absl::StatusOr<std::unique_ptr<SessionReader>> OpenReader(std::string_view session_id, ReaderOptions options = {});
  absl::StatusOr<VerifyReport> Verify(std::string_view session_id);

  store::ObjectStore& object_store() { return store_; }

 private:
  absl::Status DeleteShardsOf(std::string_view session_id);
  static constexpr size_t kListThreads = 8;  // reading metadata.json files at once in List
  store::ObjectStore& store_;
};

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_SESSION_STORE_H_
