#include "session/recover.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "gtest/gtest.h"
#include "session/export.h"
#include "session/internal/members.h"
#include "session/layout.h"
#include "session/session_lock.h"
#include "session/testing/fixture.h"
#include "session/time_format.h"
#include "store/testing/forwarding_store.h"
#include "store/testing/string_reader.h"

// In session::testing, so the fixture's names (kT0, TraceRequest...) need no using-declarations.
namespace otelrr::session::testing {
namespace {

namespace fs = std::filesystem;
using otlp::Signal;

// The record stream both the crashed and the closed sessions are written from.
std::vector<Record> Records(int n, bool traces_only = false) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    Signal signal = traces_only ? Signal::kTraces : static_cast<Signal>(1 + i % 3);
    std::string body = signal == Signal::kTraces    ? TraceRequest(static_cast<uint64_t>(i % 5) + 1, 2)
                       : signal == Signal::kMetrics ? MetricsRequest(3)
                                                    : LogsRequest(2, 9);
    out.push_back(Record{.arrival_unix_nano = kT0 + static_cast<uint64_t>(i) * 1000,
                         .signal = signal,
                         .transport = Transport::kHttp,
                         .payload = std::move(body)});
  }
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Every file under `root` (lock files included) with its bytes.
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[e.path().lexically_relative(root).generic_string()] = ReadFile(e.path());
  }
  return out;
}

struct MemberEnd {
  uint64_t offset;   // where the member ends in the file
  uint64_t records;  // records in the file up to there
};

// The members of an intact raw file: where a cut file still reads whole. An uncompressed file reads whole
// up to any record's end.
std::vector<MemberEnd> Members(const std::string& bytes, Compression compression) {
  internal::MemberReader reader(std::make_unique<store::testing::StringReader>(bytes), {.compression = compression});
  std::vector<MemberEnd> out;
  uint64_t records = 0;
  std::string member;
  while (true) {
    absl::StatusOr<internal::MemberStatus> st = reader.NextMember(&member);
    EXPECT_TRUE(st.ok());
    if (!st.ok() || *st != internal::MemberStatus::kMember) {
      EXPECT_EQ(*st, internal::MemberStatus::kEnd);
      break;
    }
    std::string_view rest = member;
    Record rec;
    while (!rest.empty()) {
      absl::StatusOr<size_t> used = DecodeRecord(rest, &rec);
      EXPECT_TRUE(used.ok());
      if (!used.ok()) break;
      rest.remove_prefix(*used);
      ++records;
      if (compression == Compression::kNone) out.push_back({reader.valid_bytes() - rest.size(), records});
    }
    if (compression != Compression::kNone) out.push_back({reader.valid_bytes(), records});
  }
  return out;
}

class RecoverTest : public testing::SessionTest {
 protected:
  WriterOptions SmallMembers(size_t member_bytes = 256) {
    WriterOptions o = Options();
    o.member_bytes = member_bytes;
    return o;
  }

  // Writes `records` and then either closes the session or drops the writer as a crash would
  // (the destructor writes pending members and closes the files, leaving metadata.json "active").
  void Write(const std::string& id, const std::vector<Record>& records, bool close, WriterOptions options) {
    // Only what metadata.json holds when the session starts can survive a crash.
    absl::StatusOr<std::unique_ptr<SessionWriter>> created = sessions_->Create(
        {.session_id = id, .session_type = SessionType::kCapture, .start_time_unix_nano = kT0,
         .expires_at_unix_nano = kT0 + 3600 * kNanosPerSecond, .enabled_flags = {"flagA"}, .created_by = "test",
         .description = "kept across recovery"},
        std::move(options));
    ASSERT_TRUE(created.ok()) << created.status();
    std::unique_ptr<SessionWriter> w = std::move(*created);
    for (const Record& r : records) ASSERT_TRUE(w->Append(r).ok());
    if (close) {
      ASSERT_TRUE(w->Close().ok());
    }
  }
  void Crash(const std::string& id, const std::vector<Record>& records, WriterOptions options) {
    Write(id, records, false, std::move(options));
  }

  SessionRecovery Recover(const std::string& id) {
    absl::StatusOr<SessionRecovery> r = RecoverSession(*store_, id);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : SessionRecovery{};
  }

  void ExpectVerifies(const std::string& id) {
    absl::StatusOr<VerifyReport> v = sessions_->Verify(id);
    ASSERT_TRUE(v.ok()) << v.status();
    std::string problems;
    for (const std::string& p : v->problems) problems += p + "\n";
    EXPECT_TRUE(v->ok) << problems;
  }

  std::vector<std::string> RawFiles(const std::string& id) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<store::ObjectInfo>> listing = store_->List(RawPrefix(id));
    EXPECT_TRUE(listing.ok()) << listing.status();
    if (!listing.ok()) return out;
    for (const store::ObjectInfo& o : *listing) out.push_back(o.key.substr(SessionPrefix(id).size()));
    return out;
  }

  // Expects what `want` says recovery did to the raw files: files kept, truncated and removed, records
  // kept and bytes dropped.
  static void ExpectFileTallies(const SessionRecovery& got, const SessionRecovery& want) {
    EXPECT_EQ(got.files_kept, want.files_kept);
    EXPECT_EQ(got.files_truncated, want.files_truncated);
    EXPECT_EQ(got.files_removed, want.files_removed);
    EXPECT_EQ(got.records_kept, want.records_kept);
    EXPECT_EQ(got.bytes_dropped, want.bytes_dropped);
  }

  // The records read back, with the sequence the writer gave them.
  static void ExpectRecords(const std::vector<Record>& got, const std::vector<Record>& want, size_t n) {
    ASSERT_EQ(got.size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(got[i].sequence, i);
      EXPECT_EQ(got[i].arrival_unix_nano, want[i].arrival_unix_nano);
      EXPECT_EQ(got[i].signal, want[i].signal);
      EXPECT_EQ(got[i].payload, want[i].payload);
    }
  }
};

TEST_F(RecoverTest, CleanTailRecoversWhatCloseWouldHaveWritten) {
  std::vector<Record> records = Records(30);
  Crash("crashed", records, SmallMembers());
  Write("closed", records, true, SmallMembers());
  ASSERT_EQ(sessions_->Load("crashed")->status, SessionStatus::kActive);
  ASSERT_TRUE(sessions_->Load("crashed")->files.empty());

  SessionRecovery r = Recover("crashed");
  EXPECT_EQ(r.outcome, RecoveryOutcome::kRecovered) << r.error;
  ExpectFileTallies(
      r, {.files_kept = 3, .files_truncated = 0, .files_removed = 0, .records_kept = 30, .bytes_dropped = 0});
  EXPECT_TRUE(r.notes.empty());
  EXPECT_EQ(DescribeRecovery(r),
            "session crashed: recovered: kept 3 files (30 records), cut 0, removed 0, dropped 0 bytes");

  SessionMetadata got = *sessions_->Load("crashed");
  SessionMetadata want = *sessions_->Load("closed");
  EXPECT_EQ(got.status, SessionStatus::kFailed);
  EXPECT_EQ(got.status_reason, "interrupted");
  ASSERT_TRUE(got.end_time_unix_nano.has_value());
  EXPECT_GE(*got.end_time_unix_nano, got.start_time_unix_nano);
  EXPECT_EQ(r.counts, want.counts);
  EXPECT_EQ(want.counts.traces, 6u);  // trace ids 1..5 and the logs' 9
  // The same records with the same seed give the same files, byte for byte: the index must match
  // exactly (paths, arrivals, records, sizes, SHA-256), and so must everything but the id and ending.
  EXPECT_EQ(got.files, want.files);
  got.session_id = want.session_id;
  got.s3_prefix = want.s3_prefix;
  got.status = want.status;
  got.status_reason = want.status_reason;
  got.end_time_unix_nano = want.end_time_unix_nano;
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.description, "kept across recovery");
  EXPECT_EQ(got.enabled_flags, std::vector<std::string>{"flagA"});
  EXPECT_EQ(got.expires_at_unix_nano, kT0 + 3600 * kNanosPerSecond);  // a retention set at creation survives

  ExpectVerifies("crashed");
  ExpectRecords(ReadAll("crashed"), records, records.size());
  // Recovered once, it is not active any more: a second run leaves it alone.
  EXPECT_EQ(Recover("crashed").outcome, RecoveryOutcome::kNotActive);
}

TEST_F(RecoverTest, KeepsExactlyTheCompleteMembersBeforeACut) {
  std::vector<Record> records = Records(8, /*traces_only=*/true);
  for (Compression compression : kCompressions) {
    const std::string id = fmt::format("s-{}", CompressionName(compression));
    SCOPED_TRACE(id);
    WriterOptions options = SmallMembers(100);  // about one record per member
    options.compression = compression;
    Crash(id, records, options);
    std::vector<std::string> files = RawFiles(id);
    ASSERT_EQ(files.size(), 1u);
    const fs::path raw = FileOf(id, files[0]);
    const fs::path meta = FileOf(id, "metadata.json");
    const std::string pristine = ReadFile(raw);
    const std::string active_json = ReadFile(meta);
    std::vector<MemberEnd> members = Members(pristine, compression);
    ASSERT_GE(members.size(), 4u);
    ASSERT_GT(members[0].offset, 24u);
    ASSERT_EQ(members.back().offset, pristine.size());
    ASSERT_EQ(members.back().records, records.size());

    // Every cut in the first member's header and the start of its data, then a stride through it;
    // cuts at and around every member boundary (in the next member's header); a stride through the
    // rest. (Each recovery syncs to disk: every byte would be slow for little more.)
    std::vector<uint64_t> cuts;
    for (uint64_t c = 0; c <= 24; ++c) cuts.push_back(c);
    for (uint64_t c = 24; c <= members[0].offset; c += 9) cuts.push_back(c);
    for (const MemberEnd& m : members) {
      for (uint64_t d : {0, 1, 2, 3, 9}) {
        if (m.offset >= d) cuts.push_back(m.offset - d);
        if (m.offset + d <= pristine.size()) cuts.push_back(m.offset + d);
      }
    }
    for (uint64_t c = 0; c <= pristine.size(); c += 41) cuts.push_back(c);
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

    for (uint64_t cut : cuts) {
      SCOPED_TRACE(fmt::format("cut at byte {} of {}", cut, pristine.size()));
      WriteFile(meta, active_json);
      WriteFile(raw, std::string_view(pristine).substr(0, cut));
      uint64_t kept_bytes = 0, kept_records = 0;
      for (const MemberEnd& m : members) {
        if (m.offset <= cut) kept_bytes = m.offset, kept_records = m.records;
      }
      SessionRecovery r = Recover(id);
      ASSERT_EQ(r.outcome, RecoveryOutcome::kRecovered) << r.error;
      EXPECT_EQ(r.records_kept, kept_records);
      EXPECT_EQ(r.bytes_dropped, cut - kept_bytes);
      if (kept_records == 0) {
        EXPECT_EQ(r.files_removed, 1u);
        EXPECT_FALSE(fs::exists(raw));
        EXPECT_EQ(r.counts, SessionCounts{});
      } else {
        EXPECT_EQ(r.files_kept, 1u);
        EXPECT_EQ(r.files_truncated, cut != kept_bytes ? 1u : 0u);
        EXPECT_EQ(fs::file_size(raw), kept_bytes);
        EXPECT_EQ(r.counts.trace_requests, kept_records);
      }
      ExpectVerifies(id);
      ExpectRecords(ReadAll(id), records, kept_records);
      if (HasFailure()) break;  // one cut's story is enough
    }
  }
}

TEST_F(RecoverTest, DropsGarbageAndUndecodableMembersAfterTheLastGoodMember) {
  std::vector<Record> records = Records(9);
  Crash("s", records, SmallMembers());
  std::vector<std::string> files = RawFiles("s");
  ASSERT_EQ(files.size(), 3u);
  // Garbage after one file, and a valid member that does not hold records after another.
  const fs::path garbage_file = FileOf("s", files[0]);
  const fs::path bad_member_file = FileOf("s", files[1]);
  uint64_t garbage_size = fs::file_size(garbage_file);
  uint64_t bad_member_size = fs::file_size(bad_member_file);
  {
    std::ofstream out(garbage_file, std::ios::binary | std::ios::app);
    out << "this is not a member at all";
  }
  std::string member;
  internal::MemberCompressor compressor(kDefaultCompression, 1);
  ASSERT_TRUE(compressor.Compress("OTR1 but not a record", &member).ok());
  {
    std::ofstream out(bad_member_file, std::ios::binary | std::ios::app);
    out << member;
  }

  SessionRecovery r = Recover("s");
  ASSERT_EQ(r.outcome, RecoveryOutcome::kRecovered) << r.error;
  ExpectFileTallies(r, {.files_kept = 3, .files_truncated = 2, .files_removed = 0, .records_kept = 9,
                        .bytes_dropped = 27 + member.size()});
  EXPECT_EQ(fs::file_size(garbage_file), garbage_size);
  EXPECT_EQ(fs::file_size(bad_member_file), bad_member_size);
  ASSERT_EQ(r.notes.size(), 2u);
  EXPECT_NE(r.notes[0].find(fmt::format("{}: cut at byte {} of {}", files[0], garbage_size, garbage_size + 27)),
            std::string::npos)
      << r.notes[0];
  EXPECT_NE(r.notes[1].find("bad record"), std::string::npos) << r.notes[1];
  ExpectVerifies("s");
  ExpectRecords(ReadAll("s"), records, records.size());
}

TEST_F(RecoverTest, AFileWithoutACompleteMemberIsRemovedAndTheRestKept) {
  std::vector<Record> records = Records(6);
  Crash("s", records, SmallMembers());
  std::vector<std::string> files = RawFiles("s");
  ASSERT_EQ(files.size(), 3u);
  // The metrics file: cut inside its first member's header.
  auto metrics = std::find_if(files.begin(), files.end(), [](const std::string& f) { return f.find("/metrics-") != std::string::npos; });
  ASSERT_NE(metrics, files.end());
  fs::resize_file(FileOf("s", *metrics), 5);
  // An empty file, as a writer that died right after creating one leaves.
  std::string empty = RawFilePath(Signal::kLogs, kT0 + 5'000'000'000ull, FormatUuidV4(1, 2), kDefaultCompression);
  WriteFile(FileOf("s", empty), "");

  SessionRecovery r = Recover("s");
  ASSERT_EQ(r.outcome, RecoveryOutcome::kRecovered) << r.error;
  ExpectFileTallies(
      r, {.files_kept = 2, .files_truncated = 0, .files_removed = 2, .records_kept = 4, .bytes_dropped = 5});
  EXPECT_EQ(r.counts.metric_requests, 0u);
  EXPECT_EQ(r.counts.data_points, 0u);
  EXPECT_FALSE(fs::exists(FileOf("s", *metrics)));
  EXPECT_FALSE(fs::exists(FileOf("s", empty)));
  ExpectVerifies("s");
  EXPECT_EQ(ReadAll("s").size(), 4u);
}

TEST_F(RecoverTest, ALockedSessionIsLeftAloneAndRecoveredOnceTheLockIsFree) {
  Crash("s", Records(6), SmallMembers());
  absl::StatusOr<std::unique_ptr<SessionLock>> lock = LockSession(*store_, "s");
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_EQ((*lock)->session_id(), "s");
  // A second holder in the same process is refused, with a message naming the session.
  absl::StatusOr<std::unique_ptr<SessionLock>> second = LockSession(*store_, "s");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(IsSessionLocked(second.status())) << second.status();
  EXPECT_NE(second.status().message().find("session s is locked by a live writer"), std::string_view::npos)
      << second.status();

  std::map<std::string, std::string> before = Snapshot(dir_.path());
  absl::StatusOr<RecoveryReport> report = RecoverInterruptedSessions(*store_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->sessions.size(), 1u);
  EXPECT_EQ(report->sessions[0].outcome, RecoveryOutcome::kLive);
  EXPECT_EQ(report->Count(RecoveryOutcome::kLive), 1u);
  EXPECT_EQ(DescribeRecovery(report->sessions[0]), "session s: left alone: a live writer holds its lock");
  EXPECT_EQ(Recover("s").outcome, RecoveryOutcome::kLive);
  EXPECT_EQ(Snapshot(dir_.path()), before);

  lock->reset();
  absl::StatusOr<std::unique_ptr<SessionLock>> relocked = LockSession(*store_, "s");
  ASSERT_TRUE(relocked.ok()) << relocked.status();
  relocked->reset();
  report = RecoverInterruptedSessions(*store_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->sessions.size(), 1u);
  EXPECT_EQ(report->sessions[0].outcome, RecoveryOutcome::kRecovered);
  EXPECT_EQ(report->sessions[0].records_kept, 6u);
  ExpectVerifies("s");
  // Recovery released its lock, and left no lock file behind.
  EXPECT_FALSE(fs::exists(FileOf("s", ".otelrr-lock-writer")));
  EXPECT_TRUE(LockSession(*store_, "s").ok());
}

TEST_F(RecoverTest, CompletedAndFailedSessionsAreNeverTouched) {
  Write("done", Records(5), true, SmallMembers());
  {
    std::unique_ptr<SessionWriter> w = NewWriter("broken", SmallMembers());
    for (const Record& rec : Records(4)) ASSERT_TRUE(w->Append(rec).ok());
    ASSERT_TRUE(w->Close(SessionStatus::kFailed, "disk full").ok());
  }
  // Damage "done" so that recovery would have something to do if it looked.
  std::string first = RawFiles("done")[0];
  {
    std::ofstream out(FileOf("done", first), std::ios::binary | std::ios::app);
    out << "tail";
  }
  std::map<std::string, std::string> before = Snapshot(dir_.path());
  absl::StatusOr<RecoveryReport> report = RecoverInterruptedSessions(*store_);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->sessions.empty());
  EXPECT_EQ(report->sessions_examined, 2u);
  EXPECT_TRUE(report->problems.empty());
  EXPECT_EQ(Recover("done").outcome, RecoveryOutcome::kNotActive);
  EXPECT_EQ(Recover("broken").outcome, RecoveryOutcome::kNotActive);
  EXPECT_EQ(Snapshot(dir_.path()), before);
  EXPECT_EQ(sessions_->Load("broken")->status_reason, "disk full");
}

TEST_F(RecoverTest, ASessionWithoutRawFilesRecoversToZeroCounts) {
  Crash("empty", {}, Options());
  ASSERT_TRUE(RawFiles("empty").empty());
  SessionRecovery r = Recover("empty");
  ASSERT_EQ(r.outcome, RecoveryOutcome::kRecovered) << r.error;
  EXPECT_EQ(r.records_kept, 0u);
  SessionMetadata m = *sessions_->Load("empty");
  EXPECT_EQ(m.status, SessionStatus::kFailed);
  EXPECT_EQ(m.status_reason, "interrupted");
  EXPECT_EQ(m.counts, SessionCounts{});
  EXPECT_TRUE(m.files.empty());
  EXPECT_EQ(m.total_size_bytes, 0u);
  EXPECT_FALSE(m.first_arrival_unix_nano.has_value());
  EXPECT_FALSE(m.last_arrival_unix_nano.has_value());
  ASSERT_TRUE(m.end_time_unix_nano.has_value());
  EXPECT_GE(*m.end_time_unix_nano, m.start_time_unix_nano);
  ExpectVerifies("empty");
}

// Fails Truncate for one session, or has no locks at all.
class FaultyStore : public store::testing::ForwardingStore {
 public:
  FaultyStore(store::ObjectStore& base, std::string failing) : ForwardingStore(base), failing_(std::move(failing)) {}
  absl::Status Truncate(std::string_view k, uint64_t size) override {
    if (k.find(failing_) != std::string_view::npos) {
      return absl::ResourceExhaustedError(fmt::format("injected failure truncating {}", k));
    }
    return ForwardingStore::Truncate(k, size);
  }
  absl::StatusOr<std::unique_ptr<store::ObjectLock>> TryLock(std::string_view name) override {
    if (!locks_) return ObjectStore::TryLock(name);
    return ForwardingStore::TryLock(name);
  }
  std::string Describe() const override { return "faulty " + ForwardingStore::Describe(); }
  bool locks_ = true;

 private:
  std::string failing_;
};

TEST_F(RecoverTest, ASessionThatFailsDoesNotStopTheOthersAndLosesNothing) {
  std::vector<Record> records = Records(6);
  Crash("bad", records, SmallMembers());
  Crash("good", records, SmallMembers());
  for (const std::string& id : {std::string("bad"), std::string("good")}) {
    std::ofstream out(FileOf(id, RawFiles(id)[0]), std::ios::binary | std::ios::app);
    out << "torn member";
  }
  ASSERT_TRUE(store_->Put("sessions/unreadable/metadata.json", "{").ok());

  FaultyStore faulty(*store_, "sessions/bad/");
  absl::StatusOr<RecoveryReport> report = RecoverInterruptedSessions(faulty);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->sessions.size(), 2u);
  EXPECT_EQ(report->sessions_examined, 3u);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("session unreadable: skipped"), std::string::npos) << report->problems[0];
  const SessionRecovery& bad = report->sessions[0];
  EXPECT_EQ(bad.session_id, "bad");
  EXPECT_EQ(bad.outcome, RecoveryOutcome::kFailed);
  EXPECT_NE(bad.error.find("recovering session bad: injected failure truncating sessions/bad/raw/"), std::string::npos)
      << bad.error;
  EXPECT_EQ(report->sessions[1].outcome, RecoveryOutcome::kRecovered);
  EXPECT_EQ(report->Count(RecoveryOutcome::kFailed), 1u);
  EXPECT_EQ(report->Count(RecoveryOutcome::kRecovered), 1u);
  ExpectVerifies("good");
  // "bad" is still active, its complete members intact, and a later recovery finishes the job.
  EXPECT_EQ(sessions_->Load("bad")->status, SessionStatus::kActive);
  SessionRecovery later = Recover("bad");
  EXPECT_EQ(later.outcome, RecoveryOutcome::kRecovered) << later.error;
  EXPECT_EQ(later.records_kept, 6u);
  ExpectVerifies("bad");
  ExpectRecords(ReadAll("bad"), records, records.size());
}

TEST_F(RecoverTest, AStoreWithoutLocksRecoversNothing) {
  Crash("s", Records(3), SmallMembers());
  FaultyStore nolocks(*store_, "never");
  nolocks.locks_ = false;
  absl::StatusOr<SessionRecovery> r = RecoverSession(nolocks, "s");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("cannot lock session s"), std::string_view::npos) << r.status();
  EXPECT_EQ(sessions_->Load("s")->status, SessionStatus::kActive);
}

TEST_F(RecoverTest, RejectsInvalidIdsAndMissingSessions) {
  EXPECT_EQ(RecoverSession(*store_, "../x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RecoverSession(*store_, "nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(LockSession(*store_, "a/b").status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<RecoveryReport> report = RecoverInterruptedSessions(*store_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->sessions_examined, 0u);
}

TEST_F(RecoverTest, LockFilesDoNotConfuseListVerifyExportOrCreate) {
  Write("a", Records(6), true, SmallMembers());
  absl::StatusOr<std::unique_ptr<SessionLock>> held = LockSession(*store_, "a");
  ASSERT_TRUE(held.ok()) << held.status();
  // The capture service locks a session before creating it: the lock alone does not make it exist.
  absl::StatusOr<std::unique_ptr<SessionLock>> fresh = LockSession(*store_, "new");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_TRUE(fs::exists(FileOf("a", ".otelrr-lock-writer")));
  EXPECT_TRUE(fs::exists(FileOf("new", ".otelrr-lock-writer")));
  EXPECT_FALSE(*sessions_->Exists("new"));

  std::vector<std::string> problems;
  absl::StatusOr<std::vector<SessionMetadata>> all = sessions_->List(&problems);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].session_id, "a");
  EXPECT_TRUE(problems.empty()) << problems[0];
  ExpectVerifies("a");
  std::string exported;
  absl::StatusOr<ExportStats> stats = ExportJsonLines(*sessions_, "a", {}, [&](std::string_view chunk) {
    exported.append(chunk);
    return absl::OkStatus();
  });
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->records, 6u);
  EXPECT_EQ(ReadAll("a").size(), 6u);

  // SessionStore::Create takes the lock itself (refused while someone else holds it) and its writer
  // keeps it until it is destroyed.
  EXPECT_EQ(sessions_->Create({.session_id = "new"}, SmallMembers()).status().code(), absl::StatusCode::kAlreadyExists);
  fresh->reset();
  absl::StatusOr<std::unique_ptr<SessionWriter>> live = sessions_->Create(
      {.session_id = "new", .session_type = SessionType::kCapture, .start_time_unix_nano = kT0}, SmallMembers());
  ASSERT_TRUE(live.ok()) << live.status();
  for (const Record& r : Records(3)) ASSERT_TRUE((*live)->Append(r).ok());
  ASSERT_TRUE((*live)->Flush().ok());
  ASSERT_EQ(sessions_->Load("new")->status, SessionStatus::kActive);
  absl::StatusOr<RecoveryReport> report = RecoverInterruptedSessions(*store_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->sessions.size(), 1u);
  EXPECT_EQ(report->sessions[0].outcome, RecoveryOutcome::kLive);  // its writer is alive (holds the lock)

  live->reset();  // dropped as a crash would: metadata.json stays "active", the lock goes
  held->reset();
  EXPECT_FALSE(fs::exists(FileOf("a", ".otelrr-lock-writer")));
  EXPECT_EQ(RecoverInterruptedSessions(*store_)->Count(RecoveryOutcome::kRecovered), 1u);
  ExpectVerifies("new");
}

}  // namespace
}  // namespace otelrr::session::testing
