// The retention policy on a store in a temp dir at simulated time: exact ages, sizes and counts, the
// precedence of a session's own expiry, locks, active sessions, dry runs, archives, failures, and the
// scheduler that runs it in `otelrr serve`.
#include "session/retention.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/status.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "session/session_lock.h"
#include "session/testing/fixture.h"
#include "session/time_format.h"
#include "store/testing/forwarding_store.h"

namespace otelrr::session::testing {
namespace {

using otlp::Signal;
using std::chrono::hours;

constexpr uint64_t kDay = 24 * kNanosPerHour;
constexpr uint64_t kMs = 1'000'000;

class RetentionTest : public SessionTest {
 protected:
  uint64_t Now() { return clock_.WallNowUnixNano(); }

  // A finished session started `age` before now, whose metadata says it holds `size` bytes (the policy
  // reads totalSizeBytes only; the archive tests use real records).
  void Make(const std::string& id, uint64_t age, uint64_t size, std::optional<uint64_t> expires = {},
            SessionType type = SessionType::kCapture, SessionStatus status = SessionStatus::kCompleted) {
    absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions_->Create(
        {.session_id = id, .session_type = type, .start_time_unix_nano = Now() - age,
         .expires_at_unix_nano = expires, .created_by = "test"},
        Options());
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Close(status).ok());
    absl::StatusOr<SessionMetadata> m = sessions_->Load(id);
    ASSERT_TRUE(m.ok()) << m.status();
    m->total_size_bytes = size;
    ASSERT_TRUE(sessions_->Save(*m).ok());
  }

  // A session with real records (two files), for the archive.
  void MakeRecorded(const std::string& id, uint64_t age) {
    absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions_->Create(
        {.session_id = id, .session_type = SessionType::kCapture, .start_time_unix_nano = Now() - age,
         .created_by = "test"},
        Options());
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Append(Rec(kT0, Signal::kTraces, TraceRequest(1, 3))).ok());
    ASSERT_TRUE((*w)->Append(Rec(kT0 + 1, Signal::kLogs, LogsRequest(2, 1))).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }

  absl::StatusOr<RetentionReport> Apply(const RetentionPolicy& policy, SessionStore* archive = nullptr,
                                        Cancellation* cancel = nullptr) {
    return ApplyRetention(*sessions_, policy, clock_, archive, cancel);
  }

  // "id action reason" per session, oldest first.
  static std::vector<std::string> Lines(const RetentionReport& r) {
    std::vector<std::string> out;
    for (const RetentionDecision& d : r.sessions) {
      out.push_back(d.session_id + " " + std::string(RetentionActionName(d.action)) + " " + d.reason);
    }
    return out;
  }

  std::vector<std::string> Ids() {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<SessionMetadata>> all = sessions_->List();
    EXPECT_TRUE(all.ok()) << all.status();
    if (!all.ok()) return out;
    for (const SessionMetadata& m : *all) out.push_back(m.session_id);
    return out;
  }

  // Every file under the store's root with its bytes.
  static std::map<std::string, std::string> Files(const std::filesystem::path& root) {
    std::map<std::string, std::string> out;
    if (!std::filesystem::exists(root)) return out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      out[std::filesystem::relative(e.path(), root).string()] = bytes.str();
    }
    return out;
  }
};

TEST(RetentionUnitsTest, DurationsAndSizesParseAndFormatExactly) {
  EXPECT_EQ(*ParseDuration("30d"), hours(24 * 30));
  EXPECT_EQ(*ParseDuration("12h"), hours(12));
  EXPECT_EQ(*ParseDuration("90m"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseDuration("45s"), std::chrono::seconds(45));
  EXPECT_EQ(*ParseDuration("1500ms"), std::chrono::milliseconds(1500));
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(hours(24 * 30)), "30d");
  EXPECT_EQ(FormatDuration(hours(36)), "36h");
  EXPECT_EQ(FormatDuration(std::chrono::minutes(90)), "90m");
  EXPECT_EQ(FormatDuration(std::chrono::seconds(61)), "61s");
  for (std::string_view bad : {"", "30", "d", "30x", "-1d", "1.5d", "30D", "30M", "30 d"}) {
    absl::StatusOr<std::chrono::nanoseconds> d = ParseDuration(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().message(),
              fmt::format("\"{}\" is not a duration: use a whole number and a unit, ms, s, m, h or d (24 hours), such "
                          "as 30d, 12h, 90m or 500ms",
                          bad));
  }
  EXPECT_EQ(ParseDuration("106752d").status().message(), "\"106752d\" is too long: at most 106751d");

  EXPECT_EQ(*ParseByteSize("50GB"), 50'000'000'000u);
  EXPECT_EQ(*ParseByteSize("500MiB"), 524'288'000u);
  EXPECT_EQ(*ParseByteSize("500mib"), 524'288'000u);
  EXPECT_EQ(*ParseByteSize("2KB"), 2'000u);
  EXPECT_EQ(*ParseByteSize("2KiB"), 2'048u);
  EXPECT_EQ(*ParseByteSize("3TiB"), 3ull << 40);
  EXPECT_EQ(*ParseByteSize("1024"), 1024u);
  EXPECT_EQ(*ParseByteSize("7B"), 7u);
  EXPECT_EQ(FormatByteSize(50'000'000'000u), "50GB");
  EXPECT_EQ(FormatByteSize(524'288'000u), "500MiB");
  EXPECT_EQ(FormatByteSize(1'000u), "1KB");
  EXPECT_EQ(FormatByteSize(1'024u), "1KiB");
  EXPECT_EQ(FormatByteSize(1'234u), "1234B");
  EXPECT_EQ(FormatByteSize(0), "0B");
  for (std::string_view bad : {"", "GB", "1.5GB", "50XB", "-5MB", "5 MB"}) {
    absl::StatusOr<uint64_t> b = ParseByteSize(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.status().message(),
              fmt::format("\"{}\" is not a size: use a whole number and a unit, B, KB, MB, GB, TB (powers of 1000) "
                          "or KiB, MiB, GiB, TiB (powers of 1024), such as 50GB or 500MiB",
                          bad));
  }
  EXPECT_EQ(ParseByteSize("20000000TB").status().message(), "\"20000000TB\" is too large");
}

TEST_F(RetentionTest, RetentionDaysAndExpiry) {
  EXPECT_TRUE(ValidateRetentionDays(1).ok());
  EXPECT_TRUE(ValidateRetentionDays(36500).ok());
  for (int64_t bad : {0, -3, 36501}) {
    EXPECT_EQ(ValidateRetentionDays(bad).message(),
              fmt::format("a retention of {} days is not allowed: keep a session 1 to 36500 days", bad));
  }
  // To the millisecond, as metadata.json writes it: the expiry reads back exactly.
  EXPECT_EQ(ExpiryAfterDays(kT0 + 456'789, 30), kT0 + 30 * kDay);
  EXPECT_EQ(ExpiryAfterDays(kT0, std::nullopt), std::nullopt);
}

TEST_F(RetentionTest, AnExpiryIsChangedUnderTheLockOfAFinishedSessionOnly) {
  Make("done", kDay, 10);
  absl::StatusOr<SessionMetadata> m = SetSessionExpiry(*sessions_, "done", Now() + 7 * kDay);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(sessions_->Load("done")->expires_at_unix_nano, Now() + 7 * kDay);
  ASSERT_TRUE(SetSessionExpiry(*sessions_, "done", kNeverExpires).ok());
  EXPECT_EQ(sessions_->Load("done")->expires_at_unix_nano, kNeverExpires);
  EXPECT_NE(Files(dir_.path()).at("sessions/done/metadata.json").find("\"expiresAt\": \"never\""), std::string::npos);

  // Being written: refused, and the writer's metadata.json is left alone.
  std::unique_ptr<SessionWriter> live = NewWriter("live", Options());
  absl::StatusOr<SessionMetadata> refused = SetSessionExpiry(*sessions_, "live", Now());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "session live is being written: change its expiry once its writer has finished");
  EXPECT_EQ(sessions_->Load("live")->expires_at_unix_nano, std::nullopt);
  // Left active by a writer that died: refused until it is recovered.
  ASSERT_TRUE(sessions_->Save({.session_id = "crashed", .start_time_unix_nano = Now()}).ok());
  refused = SetSessionExpiry(*sessions_, "crashed", Now());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("session crashed is still active"), absl::string_view::npos);
  EXPECT_EQ(SetSessionExpiry(*sessions_, "nope", Now()).status().message(), "session nope does not exist");
  EXPECT_EQ(SetSessionExpiry(*sessions_, "../x", Now()).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(live->Close().ok());
}

TEST_F(RetentionTest, OlderThanRemovesWhatStartedBeforeTheLimitToTheNanosecond) {
  Make("a31", 31 * kDay, 1);
  Make("b30plus", 30 * kDay + 1, 1);
  Make("c30", 30 * kDay, 1);
  Make("d29", 29 * kDay, 1);
  absl::StatusOr<RetentionReport> r = Apply({.older_than = hours(24 * 30)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{"a31 deleted older than 30d", "b30plus deleted older than 30d",
                                                  "c30 kept within 30d", "d29 kept within 30d"}));
  EXPECT_EQ(Ids(), (std::vector<std::string>{"c30", "d29"}));
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->ran_at_unix_nano, Now());
  EXPECT_EQ(r->Summary(), "deleted 2, archived 0, kept 2, skipped 0, failed 0; freed 2 of 4 bytes");
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "sessions/a31"));
}

TEST_F(RetentionTest, AnExpiryInThePastRemovesAndOneInTheFutureProtects) {
  Make("expired-young", kDay, 100, Now() - kMs);
  Make("expires-now", kDay, 100, Now());
  Make("old-expires-later", 90 * kDay, 100, Now() + kMs);
  Make("old-forever", 80 * kDay, 100, kNeverExpires);
  Make("old", 70 * kDay, 100);
  // Neither the age nor the size limit touches what its own expiry protects.
  absl::StatusOr<RetentionReport> r = Apply({.older_than = hours(24), .max_total_bytes = 1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Lines(*r),
            (std::vector<std::string>{
                "old-expires-later kept expires at " + FormatRfc3339Millis(Now() + kMs),
                "old-forever kept kept forever (expiresAt never)", "old deleted older than 1d",
                "expired-young deleted expired at " + FormatRfc3339Millis(Now() - kMs),
                "expires-now deleted expired at " + FormatRfc3339Millis(Now())}));
  EXPECT_EQ(r->bytes_before, 500u);
  EXPECT_EQ(r->bytes_after, 200u);
  // Without any rule, only what expired goes; an explicit delete removes even a protected session.
  Make("young", 0, 1);
  clock_.Advance(std::chrono::milliseconds(1));
  r = Apply({});
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{
                           "old-expires-later deleted expired at " + FormatRfc3339Millis(Now()),
                           "old-forever kept kept forever (expiresAt never)", "young kept no rule removes it"}));
  EXPECT_TRUE(sessions_->Delete("old-forever").ok());
}

TEST_F(RetentionTest, KeepLastKeepsTheNewestFinishedSessionsAndWidensTheAgeRule) {
  for (int i = 1; i <= 5; ++i) Make(fmt::format("s{}", i), static_cast<uint64_t>(10 - i) * kDay, 1);
  // Newer, but not counted among the newest: expired, or active (a writer that died).
  Make("expired", 0, 1, Now() - 1);
  ASSERT_TRUE(sessions_->Save({.session_id = "crashed", .start_time_unix_nano = Now()}).ok());
  RetentionPolicy policy{.keep_last = 2, .dry_run = true};
  absl::StatusOr<RetentionReport> r = Apply(policy);
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string crashed =
      "crashed skipped still active, but nothing writes it: its writer died; a capture, seed or replay on this store "
      "recovers it";
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{
                           "s1 deleted not one of the 2 newest", "s2 deleted not one of the 2 newest",
                           "s3 deleted not one of the 2 newest", "s4 kept one of the 2 newest",
                           "s5 kept one of the 2 newest", crashed,
                           "expired deleted expired at " + FormatRfc3339Millis(Now() - 1)}));
  // With an age limit too, a session is kept when either rule keeps it.
  policy.older_than = hours(24 * 7);
  r = Apply(policy);
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{
                           "s1 deleted older than 7d and not one of the 2 newest",
                           "s2 deleted older than 7d and not one of the 2 newest", "s3 kept within 7d",
                           "s4 kept one of the 2 newest", "s5 kept one of the 2 newest", crashed,
                           "expired deleted expired at " + FormatRfc3339Millis(Now() - 1)}));
  // A dry run changed nothing.
  EXPECT_EQ(Ids(), (std::vector<std::string>{"crashed", "expired", "s1", "s2", "s3", "s4", "s5"}));
}

TEST_F(RetentionTest, TheSizeLimitRemovesTheOldestUnprotectedUntilTheRestFits) {
  Make("a", 50 * kDay, 100, Now() + kDay);  // protected by its expiry
  Make("b", 40 * kDay, 200);
  Make("c", 30 * kDay, 300);
  Make("d", 20 * kDay, 400);
  Make("e", 10 * kDay, 500);  // the newest: kept by keep_last
  absl::StatusOr<RetentionReport> r = Apply({.keep_last = 1, .max_total_bytes = 700, .dry_run = true});
  ASSERT_TRUE(r.ok()) << r.status();
  // keep_last removes b, c and d; what stays (a and e, 600 bytes) fits, so the size rule removes nothing more.
  EXPECT_EQ(r->Count(RetentionAction::kDeleted), 3u);
  EXPECT_EQ(r->bytes_after, 600u);
  // The size rule alone: 1500 bytes, over 1000: b (1300) and c (1000) go, and d stays.
  r = Apply({.max_total_bytes = 1000});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{
                           "a kept expires at " + FormatRfc3339Millis(Now() + kDay),
                           "b deleted over the size limit of 1KB: the oldest go first",
                           "c deleted over the size limit of 1KB: the oldest go first",
                           "d kept no rule removes it", "e kept no rule removes it"}));
  EXPECT_EQ(r->bytes_before, 1500u);
  EXPECT_EQ(r->bytes_after, 1000u);
  EXPECT_EQ(Ids(), (std::vector<std::string>{"a", "d", "e"}));
  // What the protected sessions hold alone may stay over the limit: the policy goes as far as it may.
  r = Apply({.keep_last = 1, .max_total_bytes = 100});
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{
                           "a kept expires at " + FormatRfc3339Millis(Now() + kDay),
                           "d deleted not one of the 1 newest", "e kept one of the 1 newest"}));
  EXPECT_EQ(r->bytes_after, 600u);
}

TEST_F(RetentionTest, TheAgeRuleKeepsWhatTheSizeRuleMayStillRemove) {
  Make("old", 40 * kDay, 100);
  Make("recent", 2 * kDay, 100);
  Make("newest", kDay, 100);
  absl::StatusOr<RetentionReport> r = Apply({.older_than = hours(24 * 30), .max_total_bytes = 150});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{"old deleted older than 30d",
                                                  "recent deleted over the size limit of 150B: the oldest go first",
                                                  "newest kept within 30d"}));
}

TEST_F(RetentionTest, SessionsBeingWrittenOrLockedAreNeverRemoved) {
  Make("old-locked", 60 * kDay, 10);
  std::unique_ptr<SessionWriter> writer = NewWriter("old-writing", Options());  // startTime kT0: 1 h ago
  ASSERT_TRUE(sessions_->Save({.session_id = "old-crashed", .start_time_unix_nano = Now() - 50 * kDay}).ok());
  absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockSession(*store_, "old-locked");
  ASSERT_TRUE(lock.ok()) << lock.status();
  for (bool dry_run : {true, false}) {
    absl::StatusOr<RetentionReport> r = Apply({.older_than = std::chrono::minutes(1), .dry_run = dry_run});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Lines(*r), (std::vector<std::string>{
                             "old-locked skipped locked: being written or changed by another process",
                             "old-crashed skipped still active, but nothing writes it: its writer died; a capture, "
                             "seed or replay on this store recovers it",
                             "old-writing skipped being written (active, its lock is held)"}));
    EXPECT_TRUE(r->ok());  // skipped is not failed
  }
  EXPECT_EQ(Ids(), (std::vector<std::string>{"old-crashed", "old-locked", "old-writing"}));
  lock->reset();
  ASSERT_TRUE(writer->Close().ok());
  writer.reset();  // the writer holds the lock until it is gone
  absl::StatusOr<RetentionReport> r = Apply({.older_than = std::chrono::minutes(1)});
  EXPECT_EQ(r->Count(RetentionAction::kDeleted), 2u);
  EXPECT_EQ(Ids(), (std::vector<std::string>{"old-crashed"}));
}

TEST_F(RetentionTest, ADryRunChangesNothingAtAll) {
  Make("expired", kDay, 10, Now() - 1);
  MakeRecorded("old", 60 * kDay);
  Make("kept", 0, 10);
  const std::map<std::string, std::string> before = Files(dir_.path());
  // No archive store: a dry run does not need one (it touches no store).
  absl::StatusOr<RetentionReport> r =
      Apply({.older_than = hours(24), .max_total_bytes = 1, .dry_run = true, .archive_to = "/archive"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Files(dir_.path()), before);
  EXPECT_EQ(r->Count(RetentionAction::kArchived), 3u);
  EXPECT_EQ(r->bytes_after, 0u);
  EXPECT_EQ(r->Summary(), fmt::format("dry run, nothing changed: would delete 0, archive 3; keeps 0, skips 0, fails "
                                      "0; would free {} of {} bytes",
                                      r->bytes_before, r->bytes_before));
}

TEST_F(RetentionTest, OnlyTheSessionsOfTheTypeAndNothingOutsideSessionsAreTouched) {
  Make("seed-old", 60 * kDay, 1, {}, SessionType::kSeed);
  Make("capture-old", 60 * kDay, 1, {}, SessionType::kCapture);
  Make("training-old", 60 * kDay, 1, {}, SessionType::kTraining);
  ASSERT_TRUE(store_->Put("sessions/broken/metadata.json", "{").ok());
  ASSERT_TRUE(store_->Put("other/sessions/x/metadata.json", "keep").ok());
  ASSERT_TRUE(store_->Put("sessions-old/y", "keep").ok());
  absl::StatusOr<RetentionReport> r = Apply({.older_than = hours(1), .session_type = SessionType::kSeed});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{"seed-old deleted older than 1h"}));
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_EQ(r->problems[0].substr(0, 33), "session broken: session broken: m");
  r = Apply({.older_than = hours(1)});
  EXPECT_EQ(r->Count(RetentionAction::kDeleted), 2u);
  std::map<std::string, std::string> left = Files(dir_.path());
  EXPECT_EQ(left, (std::map<std::string, std::string>{{"other/sessions/x/metadata.json", "keep"},
                                                      {"sessions-old/y", "keep"},
                                                      {"sessions/broken/metadata.json", "{"}}));
}

TEST_F(RetentionTest, AnArchiveMovesTheSessionCheckedAndTheSourceGoes) {
  MakeRecorded("old", 60 * kDay);
  MakeRecorded("young", 0);
  store::testing::TempDir archive_dir;
  absl::StatusOr<std::unique_ptr<store::LocalStore>> archive_store =
      store::LocalStore::Open({.root = archive_dir.path()});
  ASSERT_TRUE(archive_store.ok());
  SessionStore archive(**archive_store);
  const std::map<std::string, std::string> before = Files(dir_.path() / "sessions/old");
  absl::StatusOr<RetentionReport> r = Apply({.older_than = hours(24), .archive_to = "the archive"}, &archive);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{"old archived older than 1d", "young kept within 1d"}));
  EXPECT_EQ(Ids(), (std::vector<std::string>{"young"}));
  absl::StatusOr<VerifyReport> v = archive.Verify("old");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems[0]);
  EXPECT_EQ(Files(archive_dir.path() / "sessions/old"), before);  // byte for byte, metadata.json too

  // The archive holds it already (a session of that id): not removed here, and said so.
  MakeRecorded("old", 60 * kDay);
  r = Apply({.older_than = hours(24), .archive_to = "the archive"}, &archive);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(Lines(*r)[0], fmt::format("old failed not archived to the archive (older than 1d): session old already "
                                      "exists in {}: delete it there first",
                                      archive_dir.path().string()));
  EXPECT_EQ(Ids(), (std::vector<std::string>{"old", "young"}));

  // The archive is another store, and must be given when the policy names one.
  EXPECT_EQ(Apply({.archive_to = "x"}, sessions_.get()).status().message(),
            fmt::format("the archive {} is the store itself: archive into another store", dir_.path().string()));
  EXPECT_EQ(Apply({.archive_to = "x"}).status().message(),
            "the retention policy archives to x, but that store was not opened");
}

// A store whose deletes fail, and which can run something when a session's lock is taken.
class FaultyStore : public store::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::Status DeletePrefix(std::string_view prefix) override {
    if (fail_deletes) return absl::PermissionDeniedError(fmt::format("cannot delete {}: permission denied", prefix));
    return ForwardingStore::DeletePrefix(prefix);
  }
  absl::StatusOr<std::unique_ptr<store::ObjectLock>> TryLock(std::string_view name) override {
    if (on_lock) on_lock(name);
    return ForwardingStore::TryLock(name);
  }
  bool fail_deletes = false;
  std::function<void(std::string_view)> on_lock;
};

TEST_F(RetentionTest, AFailedDeletionIsReportedAndTheOthersStillGo) {
  Make("a", 60 * kDay, 1);
  Make("b", 50 * kDay, 1);
  FaultyStore faulty(*store_);
  SessionStore sessions(faulty);
  faulty.fail_deletes = true;
  absl::StatusOr<RetentionReport> r = ApplyRetention(sessions, {.older_than = hours(24)}, clock_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{
                           "a failed not deleted (older than 1d): cannot delete sessions/a/: permission denied",
                           "b failed not deleted (older than 1d): cannot delete sessions/b/: permission denied"}));
  EXPECT_EQ(r->bytes_after, 2u);
  faulty.fail_deletes = false;
  EXPECT_TRUE(ApplyRetention(sessions, {.older_than = hours(24)}, clock_)->ok());
  EXPECT_EQ(Ids(), std::vector<std::string>{});
}

TEST_F(RetentionTest, TheDecisionIsTakenAgainUnderTheLock) {
  Make("extended", 60 * kDay, 1);
  Make("written", 50 * kDay, 1);
  FaultyStore racing(*store_);
  SessionStore sessions(racing);
  // Between the listing and the removal, someone keeps "extended" for a day and starts writing "written"
  // again (as a recovery would find it: active).
  racing.on_lock = [&](std::string_view name) {
    if (name == "sessions/extended/writer") {
      SessionMetadata m = *sessions_->Load("extended");
      m.expires_at_unix_nano = Now() + kDay;
      ASSERT_TRUE(sessions_->Save(m).ok());
    } else if (name == "sessions/written/writer") {
      SessionMetadata m = *sessions_->Load("written");
      m.status = SessionStatus::kActive;
      ASSERT_TRUE(sessions_->Save(m).ok());
    }
  };
  absl::StatusOr<RetentionReport> r = ApplyRetention(sessions, {.older_than = hours(24)}, clock_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Lines(*r)[0], "extended kept expires at " + FormatRfc3339Millis(Now() + kDay) +
                              " (set after the policy listed it)");
  EXPECT_EQ(Lines(*r)[1].substr(0, 39), "written skipped still active, but nothi");
  EXPECT_EQ(Ids(), (std::vector<std::string>{"extended", "written"}));
}

TEST_F(RetentionTest, AStoppedRunRemovesNothingMore) {
  Make("a", 60 * kDay, 1);
  Cancellation cancel;
  cancel.Cancel();
  absl::StatusOr<RetentionReport> r = Apply({.older_than = hours(24)}, nullptr, &cancel);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Lines(*r), (std::vector<std::string>{
                           "a skipped the run was stopped before this session (older than 1d) was removed"}));
  EXPECT_EQ(Ids(), (std::vector<std::string>{"a"}));
}

TEST_F(RetentionTest, PoliciesThatWouldRemoveEverythingAreRefused) {
  EXPECT_EQ(Apply({.older_than = std::chrono::nanoseconds(0)}).status().message(),
            "the retention policy's age limit must be positive: an age of 0 would remove every session");
  EXPECT_EQ(Apply({.keep_last = 0}).status().message(),
            "the retention policy must keep at least 1 newest session: keeping 0 would remove every session");
  EXPECT_EQ(Apply({.max_total_bytes = 0}).status().message(),
            "the retention policy's size limit must be positive: a limit of 0 bytes would remove every session");
}

TEST_F(RetentionTest, TheReportAsJson) {
  Make("old", 60 * kDay, 5);
  absl::StatusOr<RetentionReport> r =
      Apply({.older_than = hours(24 * 30), .keep_last = 3, .max_total_bytes = 50'000'000'000,
             .session_type = SessionType::kCapture, .dry_run = true});
  ASSERT_TRUE(r.ok()) << r.status();
  JsonWriter w;
  r->WriteJson(&w);
  EXPECT_EQ(w.Take(), fmt::format(R"({{"ranAt":"{}","dryRun":true,"policy":{{"olderThan":"30d","keepLast":3,)"
                                  R"("maxTotalSize":"50GB","type":"capture"}},"deleted":0,"archived":0,"kept":1,)"
                                  R"("skipped":0,"failed":0,"bytesBefore":5,"bytesAfter":5,"sessions":[{{)"
                                  R"("sessionId":"old","action":"kept","reason":"one of the 3 newest"}}],)"
                                  R"("problems":[]}})",
                                  FormatRfc3339Millis(Now())));
}

TEST_F(RetentionTest, StorageMetricsCountObjectsBytesAndSessions) {
  MakeRecorded("rec", 0);
  Make("seed", 0, 7, {}, SessionType::kSeed, SessionStatus::kFailed);
  ASSERT_TRUE(sessions_->Save({.session_id = "crashed", .session_type = SessionType::kTraining}).ok());
  ASSERT_TRUE(store_->Put("sessions/broken/metadata.json", "{").ok());
  absl::StatusOr<StorageMetrics> m = MeasureStorage(*sessions_);
  ASSERT_TRUE(m.ok()) << m.status();
  uint64_t bytes = 0;
  for (const auto& [path, content] : Files(dir_.path())) {
    if (path.find(".otelrr-") == std::string::npos) bytes += content.size();
  }
  const SessionMetadata rec = *sessions_->Load("rec");
  EXPECT_EQ(m->objects, 4u + rec.files.size());  // three metadata.json, broken's, the raw files
  EXPECT_EQ(m->bytes, bytes);
  EXPECT_EQ(m->sessions, 3u);
  EXPECT_EQ(m->session_bytes, rec.total_size_bytes + 7);
  EXPECT_EQ(m->unreadable, 1u);
  EXPECT_EQ(m->by_status, (std::array<uint64_t, 3>{1, 1, 1}));  // active, completed, failed
  EXPECT_EQ(m->by_type, (std::array<uint64_t, 3>{1, 1, 1}));    // seed, capture, training
  JsonWriter w;
  w.BeginObject();
  m->WriteJsonFields(&w);
  w.EndObject();
  EXPECT_EQ(w.Take(), fmt::format(R"({{"objects":{},"bytes":{},"sessions":3,"sessionBytes":{},"unreadableSessions":1,)"
                                  R"("sessionsByStatus":{{"active":1,"completed":1,"failed":1}},)"
                                  R"("sessionsByType":{{"seed":1,"capture":1,"training":1}}}})",
                                  m->objects, bytes, rec.total_size_bytes + 7));
}

TEST_F(RetentionTest, TheSchedulerRunsAtOnceThenEveryIntervalAndStopsAtOnce) {
  Make("expires-in-30-minutes", kDay, 1, Now() + 30 * 60 * kNanosPerSecond);
  std::mutex mu;
  std::condition_variable ran;
  std::vector<std::string> runs;
  RetentionScheduler scheduler(*sessions_, {.policy = {},
                                            .interval = hours(1),
                                            .clock = &clock_,
                                            .on_run = [&](const absl::StatusOr<RetentionReport>& r) {
                                              std::lock_guard<std::mutex> lock(mu);
                                              runs.push_back(r.ok() ? r->Summary() : std::string(r.status().message()));
                                              ran.notify_all();
                                            }});
  auto wait_for_runs = [&](size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    ran.wait(lock, [&] { return runs.size() >= n; });
  };
  wait_for_runs(1);
  EXPECT_EQ(runs[0], "deleted 0, archived 0, kept 1, skipped 0, failed 0; freed 0 of 1 bytes");
  clock_.WaitForWaiters(1);  // the next run is an hour away
  ASSERT_TRUE(scheduler.last().has_value());
  EXPECT_EQ(scheduler.last()->value().Count(RetentionAction::kKept), 1u);
  clock_.Advance(hours(1) - std::chrono::nanoseconds(1));
  clock_.WaitForWaiters(1);
  EXPECT_EQ(runs.size(), 1u);
  clock_.Advance(std::chrono::nanoseconds(1));
  wait_for_runs(2);
  EXPECT_EQ(runs[1], "deleted 1, archived 0, kept 0, skipped 0, failed 0; freed 1 of 1 bytes");
  EXPECT_EQ(Ids(), std::vector<std::string>{});
  // Stopping does not wait for the next run, an hour of (simulated) time away.
  scheduler.Stop();
  scheduler.Stop();
  EXPECT_EQ(runs.size(), 2u);
}

}  // namespace
}  // namespace otelrr::session::testing
