// Retention: how long a session is kept, and the store-wide policy that removes (or archives) the
// sessions whose time is up; and what a store holds.
//
//   // A session's own expiry: set when it is created (seed, capture and import take retention days) or later.
//   metadata.expires_at_unix_nano = ExpiryAfterDays(clock.WallNowUnixNano(), config.retention_days);
//   absl::StatusOr<SessionMetadata> m = SetSessionExpiry(sessions, "capture-1", kNeverExpires);
//
//   // The policy over a whole store (`otelrr sessions prune`; `otelrr serve` runs it on a schedule):
//   RetentionPolicy policy{.older_than = std::chrono::hours(24 * 30), .keep_last = 5};
//   absl::StatusOr<RetentionReport> r = ApplyRetention(sessions, policy, RealClock());
//
// The rules, for the sessions of policy.session_type (of every type when unset), in this order:
//   1. A session whose lock is held (being written, copied, or changed: session_lock.h) or that is still
//      "active" is never removed: skipped.
//   2. A session whose expiresAt has passed is removed.
//   3. A session whose expiresAt is in the future (or "never") is kept: no other rule removes it. Only an
//      explicit SessionStore::Delete does.
//   4. older_than and keep_last name the sessions to keep: those that started less than older_than ago
//      (startTime; a seed's is its simulated start), and the keep_last newest finished ones. When either is
//      set, every session that neither keeps is removed.
//   5. max_total_bytes: then, while the sessions that stay hold more than this (the sum of their
//      totalSizeBytes), the oldest of them go, except those kept by rule 3 or by keep_last.
// "Newest" and "oldest" are by startTime (then id). A removal deletes the session, or with an archive
// store moves it: copied there with CopyLockedSession (every file checked against its checksum as read and
// as stored) and then deleted. Each removal takes the session's lock and reads its metadata.json again
// under it, so a writer that started since, or an expiry set since, is respected. Nothing but the
// sessions/{id}/ of a listed session is ever removed; sessions whose metadata.json cannot be read are
// reported as problems and left alone.
#ifndef OTELRR_SESSION_RETENTION_H_
#define OTELRR_SESSION_RETENTION_H_

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cancel.h"
#include "common/clock.h"
#include "common/json_writer.h"
#include "session/metadata.h"
#include "session/session_store.h"

namespace otelrr::session {

// Retention days at creation: 1 to 36500 (a hundred years).
inline constexpr int64_t kMaxRetentionDays = 36500;
// InvalidArgument unless 1 <= days <= kMaxRetentionDays.
absl::Status ValidateRetentionDays(int64_t days);
// The expiresAt of a session kept `days` days from `now_unix_nano`, to the millisecond (as metadata.json
// keeps it); none without days (the store's policy decides).
std::optional<uint64_t> ExpiryAfterDays(uint64_t now_unix_nano, std::optional<int64_t> days);

// Sets a finished session's expiresAt (kNeverExpires: kept forever) under its lock and returns the
// metadata as saved. FailedPrecondition while its lock is held (being written) or while it is "active";
// NotFound when it does not exist.
absl::StatusOr<SessionMetadata> SetSessionExpiry(SessionStore& sessions, std::string_view session_id,
                                                 uint64_t expires_at_unix_nano);

// "30d", "12h", "90m", "45s", "500ms": a whole number and a unit, in lowercase (a day is 24 hours).
absl::StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text);
// The largest unit that is exact: "30d", "36h", "90m", "45s", "1500ms" (whole milliseconds; less reads "0s").
std::string FormatDuration(std::chrono::nanoseconds duration);
// "50GB", "500MiB", "1024": a whole number and a unit, in any case: B (or none), KB, MB, GB, TB (powers of
// 1000) or KiB, MiB, GiB, TiB (powers of 1024).
absl::StatusOr<uint64_t> ParseByteSize(std::string_view text);
// The shortest exact form: "50GB", "500MiB", "1234B".
std::string FormatByteSize(uint64_t bytes);

struct RetentionPolicy {
  // Keep the sessions that started less than this long ago. Unset: no age rule.
  std::optional<std::chrono::nanoseconds> older_than = {};
  // Keep the N newest finished sessions (expired ones aside). Unset: no count rule.
  std::optional<uint64_t> keep_last = {};
  // Remove the oldest sessions until the others hold at most this many bytes. Unset: no size rule.
  std::optional<uint64_t> max_total_bytes = {};
  // Apply the policy to the sessions of this type only. Unset: every type.
  std::optional<SessionType> session_type = {};
  // Decide and report, change nothing (not even the archive).
  bool dry_run = false;
  // Where removed sessions are moved (the archive store, for reports: "s3://cold", "/mnt/archive").
  // Empty: they are deleted. ApplyRetention needs the archive store itself, unless dry_run.
  std::string archive_to = {};
};

// InvalidArgument for a zero or negative limit (a policy that would remove every session is a typo: a
// store is emptied with explicit deletes).
absl::Status ValidateRetentionPolicy(const RetentionPolicy& policy);

enum class RetentionAction : uint8_t { kDeleted, kArchived, kKept, kSkipped, kFailed };
std::string_view RetentionActionName(RetentionAction action);  // "deleted", "archived", "kept", "skipped", "failed"

// What the policy did with one session (with dry_run: what it would do), and why.
struct RetentionDecision {
  std::string session_id = {};
  RetentionAction action = RetentionAction::kKept;
  std::string reason = {};
  uint64_t start_time_unix_nano = 0;
  uint64_t size_bytes = 0;  // totalSizeBytes
  bool operator==(const RetentionDecision&) const = default;
};

struct RetentionReport {
  uint64_t ran_at_unix_nano = 0;
  RetentionPolicy policy = {};
  // The sessions of the policy's type, oldest first.
  std::vector<RetentionDecision> sessions = {};
  // Sessions whose metadata.json could not be read (left alone), one line each.
  std::vector<std::string> problems = {};
  // The sum of the sessions' totalSizeBytes, before and after.
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;

  size_t Count(RetentionAction action) const;
  // No removal failed.
  bool ok() const { return Count(RetentionAction::kFailed) == 0; }
  // "deleted 2, archived 0, kept 3, skipped 1, failed 0; 1.2 GB freed" (one line, for logs).
  std::string Summary() const;
  // {"ranAt", "dryRun", "policy": {...}, "deleted"..."failed", "bytesBefore", "bytesAfter",
  //  "sessions": [{"sessionId", "action", "reason"}], "problems"}.
  void WriteJson(JsonWriter* writer) const;
};

// Applies `policy` to the sessions of `sessions` at `clock`'s wall time. `archive`: the store archive_to
// names (required unless dry_run). `cancel`: stops between sessions; the sessions not reached are
// reported skipped. Failed removals are in the report (ok() is false); an error is returned only when the
// policy could not run at all (invalid, the store cannot be listed).
absl::StatusOr<RetentionReport> ApplyRetention(SessionStore& sessions, const RetentionPolicy& policy, Clock& clock,
                                               SessionStore* archive = nullptr, Cancellation* cancel = nullptr);

// What a store holds: every object under sessions/ and the sessions by status and type.
struct StorageMetrics {
  uint64_t objects = 0;  // stored objects under sessions/ (locks aside)
  uint64_t bytes = 0;    // their sizes
  uint64_t sessions = 0;
  std::array<uint64_t, 3> by_status = {};  // indexed by SessionStatus
  std::array<uint64_t, 3> by_type = {};    // indexed by SessionType
  uint64_t session_bytes = 0;  // the sum of the sessions' totalSizeBytes
  uint64_t unreadable = 0;     // sessions whose metadata.json could not be read

  // The members "objects", "bytes", "sessions", "sessionBytes", "unreadableSessions",
  // "sessionsByStatus": {"active", "completed", "failed"} and "sessionsByType": {"seed", "capture",
  // "training"}, into an object the caller opened (and may add to).
  void WriteJsonFields(JsonWriter* writer) const;
};

absl::StatusOr<StorageMetrics> MeasureStorage(SessionStore& sessions);

// Runs ApplyRetention every `interval` on a thread of its own: at once when constructed, then each
// interval after the previous run started (or ended, when a run took longer). Stop() (or the destructor)
// cancels a run in progress between two sessions and joins the thread.
// Thread-safe.
class RetentionScheduler {
 public:
  struct Options {
    RetentionPolicy policy = {};
    std::chrono::nanoseconds interval = std::chrono::hours(1);
    SessionStore* archive = nullptr;  // as ApplyRetention; not owned
    Clock* clock = nullptr;           // default RealClock()
    // Called on the scheduler's thread after each run (for a log line). Must not call Stop().
    std::function<void(const absl::StatusOr<RetentionReport>&)> on_run = nullptr;
  };

  RetentionScheduler(SessionStore& sessions, Options options);
  ~RetentionScheduler();
  RetentionScheduler(const RetentionScheduler&) = delete;
  RetentionScheduler& operator=(const RetentionScheduler&) = delete;

  void Stop();
  // The last run's report (or its error); nullopt before the first run has finished.
  std::optional<absl::StatusOr<RetentionReport>> last() const;
  const Options& options() const { return options_; }

 private:
  void Loop();

  SessionStore& sessions_;
  const Options options_;
  Clock& clock_;
  Cancellation cancel_;
  mutable std::mutex mu_;
  std::condition_variable wake_;                         // stop_ was set
  bool stop_ = false;                                    // guarded by mu_
  std::optional<absl::StatusOr<RetentionReport>> last_;  // guarded by mu_
  std::mutex join_mu_;                                   // one Stop() joins, the others wait for it
  std::thread thread_;  // last: started once everything it uses is ready
};

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_RETENTION_H_
