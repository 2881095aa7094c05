// Crash recovery: turns sessions left "active" by a writer that died into readable, verifiable ones.
//
//   absl::StatusOr<RecoveryReport> r = RecoverInterruptedSessions(store);   // on start of a service
//   if (!r.ok()) return r.status();                  // the sessions folder could not be listed
//   for (const SessionRecovery& s : r->sessions) log(DescribeRecovery(s));
//
//   absl::StatusOr<SessionRecovery> one = RecoverSession(store, "capture-1");
//
// A writer writes metadata.json with status "active" when a session starts, and the file index and
// counts only at Close(). If it dies, metadata.json stays "active", and each raw file ends with zero or
// more complete gzip members, possibly followed by one partial member (docs/FORMAT.md, "Truncation
// guarantee"). Recovering a session, under its lock (session_lock.h), so never while a live process
// writes it:
//   1. reads each raw file member by member (FileReader, stop at damage): every complete member whose
//      records all frame correctly is kept; the file is cut (ObjectStore::Truncate) at the end of the
//      last such member, dropping the partial or corrupt tail and anything after it; a file left with
//      no record is deleted;
//   2. rebuilds the file index, counts, arrival range and total size from what is kept, exactly as
//      SessionWriter::Close would have written them for those bytes;
//   3. writes metadata.json with status "failed", statusReason "interrupted" and an endTime (the last
//      modification of the raw files, else of metadata.json), keeping every other field (type,
//      description, flags, phases, generator, createdBy, startTime).
// Each step is idempotent and metadata.json is written last, so a crash during recovery loses no
// complete member: the session is still "active" and the next recovery finishes the job.
//
// Sessions whose status is "completed" or "failed" are never touched. A session whose lock is held is
// skipped and reported as live. A session that cannot be recovered (a store error, a store without
// locks) is reported with the reason, and the others are still recovered.
#ifndef OTELRR_SESSION_RECOVER_H_
#define OTELRR_SESSION_RECOVER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "session/metadata.h"
#include "store/object_store.h"
#include "store/spool_store.h"

namespace otelrr::session {

inline constexpr std::string_view kInterruptedReason = "interrupted";

enum class RecoveryOutcome : uint8_t {
  kRecovered,  // was "active" with no live writer: now "failed" / "interrupted"
  kLive,       // "active" and its lock is held: being written, left alone
  kNotActive,  // "completed" or "failed" (perhaps closed meanwhile): left alone
  kFailed,     // could not be recovered: `error` says why; left as it was, or part-way (see above)
};
std::string_view RecoveryOutcomeName(RecoveryOutcome outcome);  // "recovered", "live", ...

struct SessionRecovery {
  std::string session_id = {};
  std::string instance = {};  // set when one instance of a shared session was recovered (shared.h)
  RecoveryOutcome outcome = RecoveryOutcome::kNotActive;
  std::string error = {};  // kFailed only
  // One line per file that was cut or deleted, or that recovery left alone because it does not
  // understand it (a name that is not a raw file name): "raw/...: cut at byte 4096 of 4170: <why>".
  std::vector<std::string> notes = {};
  uint64_t files_kept = 0;
  uint64_t files_truncated = 0;  // kept, with a tail cut off
  uint64_t files_removed = 0;    // held no complete member
  uint64_t records_kept = 0;
  uint64_t bytes_dropped = 0;  // stored bytes removed: cut tails plus removed files
  // kRecovered: the counts written to metadata.json.
  SessionCounts counts = {};
};

struct RecoveryReport {
  // Every session that was "active" when examined, sorted by id (sessions that are not are left out).
  std::vector<SessionRecovery> sessions = {};
  uint64_t sessions_examined = 0;  // session folders looked at
  // Folders that could not be examined (no or unreadable metadata.json), one line each; left alone.
  std::vector<std::string> problems = {};

  uint64_t Count(RecoveryOutcome outcome) const;
};

// Recovers one session if it is "active" and unlocked. A shared session (shared.h) is handed to
// RecoverSharedSession: its crashed instances are recovered one by one, and it is sealed once none is live. InvalidArgument for an invalid id, NotFound when
// it has no metadata.json, InvalidArgument when that does not parse; store errors (including
// Unimplemented from a store without locks or truncation) as statuses naming the session. Outcomes
// kRecovered, kLive and kNotActive are values.
absl::StatusOr<SessionRecovery> RecoverSession(store::ObjectStore& store, std::string_view session_id);

// Recovers one instance of a shared session (shared.h) whose part.json (`part`) is "active": its files as
// RecoverSession does a session's, then its part.json ("failed", "interrupted") and traces.bin. The caller
// holds the instance's lock. Touches no other instance's files.
absl::StatusOr<SessionRecovery> RecoverInstanceLocked(store::ObjectStore& store, SessionMetadata part);

// Recovers every "active", unlocked session of the store. Fails only when sessions/ cannot be listed;
// a session that fails is reported (kFailed) and the others are still recovered.
absl::StatusOr<RecoveryReport> RecoverInterruptedSessions(store::ObjectStore& store);

// Uploads what crashed writers left in the spool of `store` (store/spool_store.h) before their sessions
// are recovered: for every session with files in the spool and a free lock, each file is cut after its
// last complete gzip member (removed when it holds none) and uploaded to the remote store. Sessions whose
// lock is held (a live writer) are left alone. Returns one line per file handled, for logs; the first
// error stops the work (what is left stays in the spool for the next attempt).
absl::StatusOr<std::vector<std::string>> UploadSpoolLeftovers(store::SpoolStore& store);

// The one way to refuse to work on a session that is still "active" while nothing writes it (a copy, a
// change of its expiry): FailedPrecondition saying how to recover it.
absl::Status StillActive(std::string_view session_id);

// One line for logs: "session capture-1: recovered: kept 2 files (120 records), cut 1, removed 1,
// dropped 517 bytes".
std::string DescribeRecovery(const SessionRecovery& recovery);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_RECOVER_H_
