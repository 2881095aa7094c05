#include "session/session_lock.h"

#include <fmt/format.h>

#include "session/metadata.h"
#include "session/session_id.h"

namespace otelrr::session {

std::string SessionLockName(std::string_view session_id) { return SessionPrefix(session_id) + "writer"; }

absl::StatusOr<std::unique_ptr<SessionLock>> LockSession(store::ObjectStore& store, std::string_view session_id) {
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<store::ObjectLock>> lock = store.TryLock(SessionLockName(session_id));
  if (!lock.ok()) {
    std::string message(lock.status().message());
    if (store::IsLockHeld(lock.status())) {
      return absl::FailedPreconditionError(fmt::format(
          "session {} is locked by a live writer (another process, or another handle in this one): {}", session_id,
          message));
    }
    return absl::Status(lock.status().code(), fmt::format("cannot lock session {}: {}", session_id, message));
  }
  return std::make_unique<SessionLock>(std::string(session_id), std::move(*lock));
}

}  // namespace otelrr::session
