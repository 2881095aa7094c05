// The lock that tells a live session writer from a crashed one.
//
//   absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockSession(store, "capture-1");
//   if (IsSessionLocked(lock.status())) ...     // another process (or handle) is writing capture-1
//   if (!lock.ok()) return lock.status();
//   ... SessionStore::Create, Append, Close ...  // hold *lock for as long as the session is written
//   lock->reset();                               // or let it go out of scope
//
// Whoever writes a session holds its lock from before SessionStore::Create until after Close: crash
// recovery (recover.h) takes the same lock before it touches a session left "active", so it never
// recovers a session that a live process is still writing, and two recoveries never race. The
// operating system drops the lock when its holder dies, even by kill -9.
//
// The lock is ObjectStore::TryLock(SessionLockName(id)) = "sessions/{id}/writer"; on a local store that
// is the file sessions/{id}/.otelrr-lock-writer (docs/FORMAT.md), which no listing shows: it does not
// make a session exist, nor appear in `sessions list`, verify or export. Locking a session that does
// not exist yet is fine (the capture service locks, then creates).
#ifndef OTELRR_SESSION_SESSION_LOCK_H_
#define OTELRR_SESSION_SESSION_LOCK_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/object_store.h"

namespace otelrr::session {

// The name of a session's lock in its store: "sessions/{id}/writer".
std::string SessionLockName(std::string_view session_id);

// Held for as long as the object lives. Immutable, so thread-safe.
class SessionLock {
 public:
  SessionLock(std::string session_id, std::unique_ptr<store::ObjectLock> lock)
      : session_id_(std::move(session_id)), lock_(std::move(lock)) {}

  const std::string& session_id() const { return session_id_; }

 private:
  std::string session_id_;
  std::unique_ptr<store::ObjectLock> lock_;
};

// Takes the lock of `session_id` without waiting. FailedPrecondition (IsSessionLocked) when another
// process or another SessionLock of this process holds it; InvalidArgument for an invalid id;
// Unimplemented when the store has no locks; other store errors as the store reports them.
absl::StatusOr<std::unique_ptr<SessionLock>> LockSession(store::ObjectStore& store, std::string_view session_id);

// Whether LockSession failed because the session's lock is held (and not for any other reason).
inline bool IsSessionLocked(const absl::Status& status) { return store::IsLockHeld(status); }

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_SESSION_LOCK_H_
