#include "session/retention.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <memory>
#include <set>
#include <span>
#include <tuple>
#include <utility>

#include "common/status.h"
#include "session/copy.h"
#include "session/layout.h"
#include "session/recover.h"
#include "session/session_id.h"
#include "session/session_lock.h"
#include "session/time_format.h"

namespace otelrr::session {
namespace {

constexpr uint64_t kNanosPerDay = 24 * kNanosPerHour;

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// Largest first, so that FormatDuration finds the largest exact one.
constexpr std::array<Unit, 5> kDurationUnits = {{{"d", kNanosPerDay},
                                                 {"h", kNanosPerHour},
                                                 {"m", 60 * kNanosPerSecond},
                                                 {"s", kNanosPerSecond},
                                                 {"ms", 1'000'000}}};
constexpr std::array<Unit, 9> kSizeUnits = {{{"B", 1},
                                             {"KB", 1'000},
                                             {"MB", 1'000'000},
                                             {"GB", 1'000'000'000},
                                             {"TB", 1'000'000'000'000},
                                             {"KiB", uint64_t{1} << 10},
                                             {"MiB", uint64_t{1} << 20},
                                             {"GiB", uint64_t{1} << 30},
                                             {"TiB", uint64_t{1} << 40}}};

bool EqualIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// "30d" -> 30 times the factor of "d". `bare`: the factor of a number without a unit (0: a unit is required).
// Sizes take their unit in any case; durations do not, so that "30M" is never read as thirty minutes.
absl::StatusOr<uint64_t> ParseWithUnit(std::string_view text, std::span<const Unit> units, bool ignore_case,
                                       uint64_t bare, std::string_view what, std::string_view how) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  uint64_t factor = unit.empty() ? bare : 0;
  for (const Unit& u : units) {
    if (ignore_case ? EqualIgnoringCase(u.name, unit) : u.name == unit) factor = u.factor;
  }
  if (end == text.data() || ec == std::errc::invalid_argument || factor == 0) {
    return absl::InvalidArgumentError(fmt::format("\"{}\" is not {}: {}", text, what, how));
  }
  if (ec == std::errc::result_out_of_range || value > std::numeric_limits<uint64_t>::max() / factor) {
    return absl::InvalidArgumentError(fmt::format("\"{}\" is too large", text));
  }
  return value * factor;
}

absl::StatusOr<std::unique_ptr<SessionLock>> TryLockSession(SessionStore& sessions, std::string_view session_id) {
  absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockSession(sessions.object_store(), session_id);
  if (lock.status().code() == absl::StatusCode::kUnimplemented) return std::unique_ptr<SessionLock>();  // no locks
  return lock;
}

bool Expired(const SessionMetadata& m, uint64_t now) {
  return m.expires_at_unix_nano && *m.expires_at_unix_nano <= now;
}
bool ExpiresLater(const SessionMetadata& m, uint64_t now) {
  return m.expires_at_unix_nano && *m.expires_at_unix_nano > now;
}

std::string ExpiryReason(const SessionMetadata& m) {
  if (*m.expires_at_unix_nano == kNeverExpires) return "kept forever (expiresAt never)";
  return fmt::format("expires at {}", FormatRfc3339Millis(*m.expires_at_unix_nano));
}

constexpr std::string_view kLockedReason = "locked: being written or changed by another process";
constexpr std::string_view kCrashedReason =
    "still active, but nothing writes it: its writer died; a capture, seed or replay on this store recovers it";

// One run of the policy over the sessions of its type.
class Pruner {
 public:
  Pruner(SessionStore& sessions, const RetentionPolicy& policy, SessionStore* archive, Cancellation* cancel,
         RetentionReport& report)
      : sessions_(sessions), policy_(policy), archive_(archive), cancel_(cancel), report_(report),
        now_(report.ran_at_unix_nano) {}

  // `selected`: oldest first.
  void Run(std::vector<SessionMetadata> selected) {
    const std::set<std::string> newest = Newest(selected);
    std::vector<Plan> plans;
    for (SessionMetadata& m : selected) {
      plans.push_back(Decide(m, newest.contains(m.session_id)));
      plans.back().metadata = std::move(m);
    }
    for (Plan& p : plans) {
      if (p.remove) Remove(p);
    }
    uint64_t total = 0;
    for (const Plan& p : plans) {
      report_.bytes_before += p.decision.size_bytes;
      if (!Removed(p.decision)) total += p.decision.size_bytes;
    }
    if (policy_.max_total_bytes) {
      for (Plan& p : plans) {
        if (total <= *policy_.max_total_bytes) break;
        if (!p.may_go_for_size) continue;
        p.decision.reason = fmt::format("over the size limit of {}: the oldest go first",
                                        FormatByteSize(*policy_.max_total_bytes));
        Remove(p);
        if (Removed(p.decision)) total -= p.decision.size_bytes;
      }
    }
    report_.bytes_after = total;
    for (Plan& p : plans) report_.sessions.push_back(std::move(p.decision));
  }

 private:
  struct Plan {
    RetentionDecision decision = {};
    SessionMetadata metadata = {};
    bool remove = false;
    bool may_go_for_size = false;  // kept by no rule that also holds against the size limit
  };

  static bool Removed(const RetentionDecision& d) {
    return d.action == RetentionAction::kDeleted || d.action == RetentionAction::kArchived;
  }

  // The keep_last newest finished sessions that have not expired.
  std::set<std::string> Newest(const std::vector<SessionMetadata>& oldest_first) const {
    std::set<std::string> out;
    if (!policy_.keep_last) return out;
    for (auto it = oldest_first.rbegin(); it != oldest_first.rend() && out.size() < *policy_.keep_last; ++it) {
      if (it->status != SessionStatus::kActive && !Expired(*it, now_)) out.insert(it->session_id);
    }
    return out;
  }

  Plan Decide(const SessionMetadata& m, bool newest) {
    Plan p{.decision = {.session_id = m.session_id,
                        .action = RetentionAction::kKept,
                        .start_time_unix_nano = m.start_time_unix_nano,
                        .size_bytes = m.total_size_bytes}};
    RetentionDecision& d = p.decision;
    if (m.status == SessionStatus::kActive) {
      d.action = RetentionAction::kSkipped;
      d.reason = ActiveReason(m.session_id);
      return p;
    }
    if (Expired(m, now_)) {
      p.remove = true;
      d.reason = fmt::format("expired at {}", FormatRfc3339Millis(*m.expires_at_unix_nano));
      return p;
    }
    if (ExpiresLater(m, now_)) {
      d.reason = ExpiryReason(m);
      return p;
    }
    if (newest) {
      d.reason = fmt::format("one of the {} newest", *policy_.keep_last);
      return p;
    }
    const bool old = policy_.older_than && now_ > m.start_time_unix_nano &&
                     now_ - m.start_time_unix_nano > static_cast<uint64_t>(policy_.older_than->count());
    if (policy_.older_than && !old) {
      p.may_go_for_size = true;
      d.reason = fmt::format("within {}", FormatDuration(*policy_.older_than));
      return p;
    }
    if (!policy_.older_than && !policy_.keep_last) {
      p.may_go_for_size = true;
      d.reason = "no rule removes it";
      return p;
    }
    p.remove = true;
    std::vector<std::string> why;
    if (policy_.older_than) why.push_back(fmt::format("older than {}", FormatDuration(*policy_.older_than)));
    if (policy_.keep_last) why.push_back(fmt::format("not one of the {} newest", *policy_.keep_last));
    d.reason = fmt::format("{}", fmt::join(why, " and "));
    return p;
  }

  // Why an active session is skipped: its lock says whether something writes it.
  std::string ActiveReason(std::string_view session_id) {
    absl::StatusOr<std::unique_ptr<SessionLock>> lock = TryLockSession(sessions_, session_id);
    if (IsSessionLocked(lock.status())) return "being written (active, its lock is held)";
    return std::string(kCrashedReason);
  }

  // Removes the session of `p` (or with dry_run, checks that it could), setting the decision's action.
  void Remove(Plan& p) {
    RetentionDecision& d = p.decision;
    auto fail = [&d](std::string_view what, const absl::Status& s) {
      d.action = RetentionAction::kFailed;
      d.reason = fmt::format("{} ({}): {}", what, d.reason, s.message());
    };
    if (cancel_ != nullptr && cancel_->cancelled()) {
      d.action = RetentionAction::kSkipped;
      d.reason = fmt::format("the run was stopped before this session ({}) was removed", d.reason);
      return;
    }
    const RetentionAction removed = policy_.archive_to.empty() ? RetentionAction::kDeleted : RetentionAction::kArchived;
    // Held until the session is gone, so nothing writes or changes it between the decision and the delete.
    absl::StatusOr<std::unique_ptr<SessionLock>> lock = TryLockSession(sessions_, d.session_id);
    if (IsSessionLocked(lock.status())) {
      d.action = RetentionAction::kSkipped;
      d.reason = std::string(kLockedReason);
      return;
    }
    if (!lock.ok()) return fail("cannot lock it", lock.status());
    if (policy_.dry_run) {
      d.action = removed;
      return;
    }
    // What was listed may have changed before the lock was taken: decide again on what is there now.
    absl::StatusOr<SessionMetadata> now = sessions_.Load(d.session_id);
    if (now.status().code() == absl::StatusCode::kNotFound) {
      d.action = RetentionAction::kSkipped;
      d.reason = "removed by someone else meanwhile";
      return;
    }
    if (!now.ok()) return fail("cannot read it again", now.status());
    if (now->status == SessionStatus::kActive) {  // and not written: the lock is ours
      d.action = RetentionAction::kSkipped;
      d.reason = std::string(kCrashedReason);
      return;
    }
    if (ExpiresLater(*now, now_)) {
      d.action = RetentionAction::kKept;
      d.reason = ExpiryReason(*now) + " (set after the policy listed it)";
      return;
    }
    if (archive_ != nullptr && !policy_.archive_to.empty()) {
      absl::StatusOr<CopyReport> copied = CopyLockedSession(sessions_, *archive_, *now);
      if (!copied.ok()) return fail(fmt::format("not archived to {}", policy_.archive_to), copied.status());
    }
    if (absl::Status s = sessions_.DeleteLocked(d.session_id); !s.ok()) {
      return fail(removed == RetentionAction::kArchived
                      ? fmt::format("archived to {}, but not deleted here: delete it by hand", policy_.archive_to)
                      : std::string("not deleted"),
                  s);
    }
    d.action = removed;
  }

  SessionStore& sessions_;
  const RetentionPolicy& policy_;
  SessionStore* const archive_;
  Cancellation* const cancel_;
  RetentionReport& report_;
  const uint64_t now_;
};

}  // namespace

absl::Status ValidateRetentionDays(int64_t days) {
  if (days >= 1 && days <= kMaxRetentionDays) return absl::OkStatus();
  return absl::InvalidArgumentError(fmt::format(
      "a retention of {} days is not allowed: keep a session 1 to {} days", days, kMaxRetentionDays));
}

std::optional<uint64_t> ExpiryAfterDays(uint64_t now_unix_nano, std::optional<int64_t> days) {
  if (!days) return std::nullopt;
  return now_unix_nano / 1'000'000 * 1'000'000 + static_cast<uint64_t>(*days) * kNanosPerDay;
}

absl::StatusOr<SessionMetadata> SetSessionExpiry(SessionStore& sessions, std::string_view session_id,
                                                 uint64_t expires_at_unix_nano) {
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<SessionLock>> lock = TryLockSession(sessions, session_id);
  if (IsSessionLocked(lock.status())) {
    return absl::FailedPreconditionError(
        fmt::format("session {} is being written: change its expiry once its writer has finished", session_id));
  }
  if (!lock.ok()) return lock.status();
  absl::StatusOr<SessionMetadata> m = sessions.Load(session_id);
  if (!m.ok()) return m.status();
  if (m->status == SessionStatus::kActive) return StillActive(session_id);
  m->expires_at_unix_nano = expires_at_unix_nano;
  if (absl::Status s = sessions.Save(*m); !s.ok()) return s;
  return m;
}

absl::StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  absl::StatusOr<uint64_t> ns =
      ParseWithUnit(text, kDurationUnits, /*ignore_case=*/false, /*bare=*/0, "a duration",
                    "use a whole number and a unit, ms, s, m, h or d (24 hours), such as 30d, 12h, 90m or 500ms");
  if (!ns.ok()) return ns.status();
  if (*ns > static_cast<uint64_t>(std::chrono::nanoseconds::max().count())) {
    return absl::InvalidArgumentError(fmt::format("\"{}\" is too long: at most 106751d", text));
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(*ns));
}

std::string FormatDuration(std::chrono::nanoseconds duration) {
  const uint64_t ns = duration.count() > 0 ? static_cast<uint64_t>(duration.count()) : 0;
  for (const Unit& u : kDurationUnits) {
    if (ns != 0 && ns % u.factor == 0) return fmt::format("{}{}", ns / u.factor, u.name);
  }
  return fmt::format("{}s", ns / kNanosPerSecond);
}

absl::StatusOr<uint64_t> ParseByteSize(std::string_view text) {
  return ParseWithUnit(text, kSizeUnits, /*ignore_case=*/true, /*bare=*/1, "a size",
                       "use a whole number and a unit, B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB "
                       "(powers of 1024), such as 50GB or 500MiB");
}

std::string FormatByteSize(uint64_t bytes) {
  const Unit* best = &kSizeUnits[0];  // bytes
  for (const Unit& u : kSizeUnits) {
    if (bytes != 0 && bytes % u.factor == 0 && bytes / u.factor < bytes / best->factor) best = &u;
  }
  return fmt::format("{}{}", bytes / best->factor, best->name);
}

absl::Status ValidateRetentionPolicy(const RetentionPolicy& policy) {
  if (policy.older_than && policy.older_than->count() <= 0) {
    return absl::InvalidArgumentError(
        "the retention policy's age limit must be positive: an age of 0 would remove every session");
  }
  if (policy.keep_last && *policy.keep_last == 0) {
    return absl::InvalidArgumentError(
        "the retention policy must keep at least 1 newest session: keeping 0 would remove every session");
  }
  if (policy.max_total_bytes && *policy.max_total_bytes == 0) {
    return absl::InvalidArgumentError(
        "the retention policy's size limit must be positive: a limit of 0 bytes would remove every session");
  }
  return absl::OkStatus();
}

std::string_view RetentionActionName(RetentionAction action) {
  switch (action) {
    case RetentionAction::kDeleted:
      return "deleted";
    case RetentionAction::kArchived:
      return "archived";
    case RetentionAction::kKept:
      return "kept";
    case RetentionAction::kSkipped:
      return "skipped";
    case RetentionAction::kFailed:
      return "failed";
  }
  return "failed";
}

size_t RetentionReport::Count(RetentionAction action) const {
  return static_cast<size_t>(std::count_if(sessions.begin(), sessions.end(),
                                           [action](const RetentionDecision& d) { return d.action == action; }));
}

std::string RetentionReport::Summary() const {
  const uint64_t freed = bytes_before - bytes_after;
  if (policy.dry_run) {
    return fmt::format("dry run, nothing changed: would delete {}, archive {}; keeps {}, skips {}, fails {}; would "
                       "free {} of {} bytes",
                       Count(RetentionAction::kDeleted), Count(RetentionAction::kArchived),
                       Count(RetentionAction::kKept), Count(RetentionAction::kSkipped),
                       Count(RetentionAction::kFailed), freed, bytes_before);
  }
  return fmt::format("deleted {}, archived {}, kept {}, skipped {}, failed {}; freed {} of {} bytes",
                     Count(RetentionAction::kDeleted), Count(RetentionAction::kArchived), Count(RetentionAction::kKept),
                     Count(RetentionAction::kSkipped), Count(RetentionAction::kFailed), freed, bytes_before);
}

void RetentionReport::WriteJson(JsonWriter* writer) const {
  JsonWriter& w = *writer;
  w.BeginObject();
  w.Field("ranAt", FormatRfc3339Millis(ran_at_unix_nano));
  w.Field("dryRun", policy.dry_run);
  w.Key("policy");
  w.BeginObject();
  if (policy.older_than) w.Field("olderThan", FormatDuration(*policy.older_than));
  if (policy.keep_last) w.Field("keepLast", *policy.keep_last);
  if (policy.max_total_bytes) w.Field("maxTotalSize", FormatByteSize(*policy.max_total_bytes));
  if (policy.session_type) w.Field("type", SessionTypeName(*policy.session_type));
  if (!policy.archive_to.empty()) w.Field("archiveTo", policy.archive_to);
  w.EndObject();
  for (RetentionAction a : {RetentionAction::kDeleted, RetentionAction::kArchived, RetentionAction::kKept,
                            RetentionAction::kSkipped, RetentionAction::kFailed}) {
    w.Field(RetentionActionName(a), Count(a));
  }
  w.Field("bytesBefore", bytes_before);
  w.Field("bytesAfter", bytes_after);
  w.Key("sessions");
  w.BeginArray();
  for (const RetentionDecision& d : sessions) {
    w.BeginObject();
    w.Field("sessionId", d.session_id);
    w.Field("action", RetentionActionName(d.action));
    w.Field("reason", d.reason);
    w.EndObject();
  }
  w.EndArray();
  w.StringArray("problems", problems);
  w.EndObject();
}

absl::StatusOr<RetentionReport> ApplyRetention(SessionStore& sessions, const RetentionPolicy& policy, Clock& clock,
                                               SessionStore* archive, Cancellation* cancel) {
  if (absl::Status s = ValidateRetentionPolicy(policy); !s.ok()) return s;
  if (!policy.archive_to.empty() && archive == nullptr && !policy.dry_run) {
    return absl::InvalidArgumentError(
        fmt::format("the retention policy archives to {}, but that store was not opened", policy.archive_to));
  }
  if (archive != nullptr && archive->object_store().Describe() == sessions.object_store().Describe()) {
    return absl::InvalidArgumentError(fmt::format("the archive {} is the store itself: archive into another store",
                                                  archive->object_store().Describe()));
  }
  RetentionReport report{.ran_at_unix_nano = clock.WallNowUnixNano(), .policy = policy};
  absl::StatusOr<std::vector<SessionMetadata>> listed = sessions.List(&report.problems);
  if (!listed.ok()) return listed.status();
  std::vector<SessionMetadata> selected;
  for (SessionMetadata& m : *listed) {
    if (!policy.session_type || m.session_type == *policy.session_type) selected.push_back(std::move(m));
  }
  std::sort(selected.begin(), selected.end(), [](const SessionMetadata& a, const SessionMetadata& b) {
    return std::tie(a.start_time_unix_nano, a.session_id) < std::tie(b.start_time_unix_nano, b.session_id);
  });
  Pruner(sessions, policy, archive, cancel, report).Run(std::move(selected));
  return report;
}

void StorageMetrics::WriteJsonFields(JsonWriter* writer) const {
  JsonWriter& w = *writer;
  w.Field("objects", objects);
  w.Field("bytes", bytes);
  w.Field("sessions", sessions);
  w.Field("sessionBytes", session_bytes);
  w.Field("unreadableSessions", unreadable);
  auto counts = [&w](std::string_view key, const std::array<uint64_t, 3>& n, auto name_of) {
    w.Key(key);
    w.BeginObject();
    for (size_t i = 0; i < n.size(); ++i) w.Field(name_of(i), n[i]);
    w.EndObject();
  };
  counts("sessionsByStatus", by_status, [](size_t i) { return SessionStatusName(static_cast<SessionStatus>(i)); });
  counts("sessionsByType", by_type, [](size_t i) { return SessionTypeName(static_cast<SessionType>(i)); });
}

absl::StatusOr<StorageMetrics> MeasureStorage(SessionStore& sessions) {
  StorageMetrics out;
  absl::StatusOr<std::vector<store::ObjectInfo>> objects = sessions.object_store().List(std::string(kSessionsPrefix));
  if (!objects.ok()) return objects.status();
  for (const store::ObjectInfo& o : *objects) {
    ++out.objects;
    out.bytes += o.size;
  }
  std::vector<std::string> problems;
  absl::StatusOr<std::vector<SessionMetadata>> listed = sessions.List(&problems);
  if (!listed.ok()) return listed.status();
  out.unreadable = problems.size();
  for (const SessionMetadata& m : *listed) {
    ++out.sessions;
    out.session_bytes += m.total_size_bytes;
    ++out.by_status[static_cast<size_t>(m.status)];
    ++out.by_type[static_cast<size_t>(m.session_type)];
  }
  return out;
}

RetentionScheduler::RetentionScheduler(SessionStore& sessions, Options options)
    : sessions_(sessions),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock()),
      thread_([this] { Loop(); }) {}

RetentionScheduler::~RetentionScheduler() { Stop(); }

void RetentionScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  cancel_.Cancel();
  std::lock_guard<std::mutex> lock(join_mu_);
  if (thread_.joinable()) thread_.join();
}

std::optional<absl::StatusOr<RetentionReport>> RetentionScheduler::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

void RetentionScheduler::Loop() {
  Clock::TimePoint next = clock_.Now();
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (clock_.WaitUntil(lock, wake_, next, [this] { return stop_; })) return;
    }
    const Clock::TimePoint started = clock_.Now();
    absl::StatusOr<RetentionReport> report =
        ApplyRetention(sessions_, options_.policy, clock_, options_.archive, &cancel_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = report;
    }
    if (options_.on_run) options_.on_run(report);
    // Every interval from the previous start; from its end when a run took longer than that.
    next = started + options_.interval;
    if (const Clock::TimePoint now = clock_.Now(); next <= now) next = now + options_.interval;
  }
}

}  // namespace otelrr::session
