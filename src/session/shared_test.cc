#include "session/shared.h"

#include <fstream>
#include <set>

#include "gtest/gtest.h"
#include "session/layout.h"
#include "session/recover.h"
#include "session/testing/fixture.h"

namespace otelrr::session::testing {
namespace {

namespace fs = std::filesystem;
using otlp::Signal;

// Instance i's k-th request: traces overlap between instances (trace ids 1..12, every instance sees some of
// the others'), plus metrics and logs.
Record InstanceRecord(int instance, int k) {
  uint64_t arrival = kT0 + static_cast<uint64_t>(k) * 1'000'000 + static_cast<uint64_t>(instance);
  switch (k % 3) {
    case 0:
      return Record{.arrival_unix_nano = arrival,
                    .signal = Signal::kTraces,
                    .payload = TraceRequest(static_cast<uint64_t>((instance * 4 + k) % 12) + 1, 2)};
    case 1:
      return Record{.arrival_unix_nano = arrival, .signal = Signal::kMetrics, .payload = MetricsRequest(3)};
    default:
      return Record{.arrival_unix_nano = arrival, .signal = Signal::kLogs, .payload = LogsRequest(2, 9)};
  }
}

constexpr int kPerInstance = 30;

class SharedSessionTest : public SessionTest {
 protected:
  std::unique_ptr<SessionWriter> Join(const std::string& id, const std::string& instance,
                                      WriterOptions options = {}) {
    options.clock = &clock_;
    options.random_seed = 7 + instance.size();
    options.instance = instance;
    absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions_->Create(
        {.session_id = id, .session_type = SessionType::kCapture, .start_time_unix_nano = kT0, .created_by = "test"},
        options);
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }

  absl::Status JoinStatus(const std::string& id, const std::string& instance) {
    return sessions_->Create({.session_id = id, .session_type = SessionType::kCapture, .created_by = "test"},
                             {.clock = &clock_, .instance = instance})
        .status();
  }

  static void Fill(SessionWriter& w, int instance) {
    for (int k = 0; k < kPerInstance; ++k) ASSERT_TRUE(w.Append(InstanceRecord(instance, k)).ok());
  }

  // The same records written by one plain writer: what the shared session must add up to.
  SessionMetadata Single(const std::string& id, int instances) {
    std::vector<Record> all;
    for (int i = 0; i < instances; ++i) {
      for (int k = 0; k < kPerInstance; ++k) all.push_back(InstanceRecord(i, k));
    }
    std::sort(all.begin(), all.end(),
              [](const Record& a, const Record& b) { return a.arrival_unix_nano < b.arrival_unix_nano; });
    std::unique_ptr<SessionWriter> w = NewWriter(id, Options());
    for (Record& r : all) EXPECT_TRUE(w->Append(std::move(r)).ok());
    EXPECT_TRUE(w->Close().ok());
    return w->metadata();
  }
};

TEST_F(SharedSessionTest, ThreeInstancesSealIntoOneSessionWithTheCountsOfOneWriter) {
  std::unique_ptr<SessionWriter> a = Join("shared", "pod-a");
  std::unique_ptr<SessionWriter> b = Join("shared", "pod-b");
  std::unique_ptr<SessionWriter> c = Join("shared", "pod-c");
  ASSERT_TRUE(a && b && c);
  Fill(*a, 0);
  Fill(*b, 1);
  Fill(*c, 2);
  ASSERT_TRUE(a->Close().ok());
  ASSERT_TRUE(b->Close().ok());

  absl::StatusOr<SealResult> early = SealSession(*store_, "shared");
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(early->outcome, SealOutcome::kWaiting);
  EXPECT_EQ(early->live, std::vector<std::string>{"pod-c"});
  EXPECT_EQ(sessions_->Load("shared")->status, SessionStatus::kActive);
  EXPECT_EQ(DescribeSeal(*early), "session shared not sealed: instance pod-c still recording");
  // While pod-c records, a listing shows the session's counts so far, from the parts (a live instance rewrites
  // its part every few seconds: SaveProgress).
  ASSERT_TRUE(c->SaveProgress().ok());
  absl::StatusOr<std::vector<SessionMetadata>> listed = sessions_->List();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  const SessionMetadata& live = listed->front();
  EXPECT_EQ(live.status, SessionStatus::kActive);
  EXPECT_EQ(live.counts.requests(), 3u * kPerInstance);
  EXPECT_EQ(live.counts.spans, 60u);
  EXPECT_EQ(live.counts.data_points, 90u);
  EXPECT_EQ(live.counts.log_records, 60u);
  ASSERT_EQ(live.instances.size(), 3u);
  EXPECT_EQ(live.instances[2].status, SessionStatus::kActive);
  EXPECT_EQ(sessions_->Load("shared")->counts.requests(), 0u) << "metadata.json itself is left as it is";

  ASSERT_TRUE(c->Close().ok());
  absl::StatusOr<SealResult> sealed = SealSession(*store_, "shared");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  ASSERT_EQ(sealed->outcome, SealOutcome::kSealed);
  SessionMetadata m = *sessions_->Load("shared");
  EXPECT_EQ(m, sealed->metadata);
  EXPECT_EQ(m.status, SessionStatus::kCompleted);
  EXPECT_TRUE(m.shared);
  EXPECT_TRUE(m.instance.empty());
  ASSERT_EQ(m.instances.size(), 3u);
  EXPECT_EQ(m.instances[1].name, "pod-b");
  EXPECT_EQ(m.instances[1].requests, static_cast<uint64_t>(kPerInstance));
  EXPECT_EQ(m.instances[1].status, SessionStatus::kCompleted);

  SessionMetadata single = Single("single", 3);
  EXPECT_EQ(m.counts, single.counts);  // distinct traces across instances included
  EXPECT_EQ(m.counts.traces, 12u);
  EXPECT_EQ(m.first_arrival_unix_nano, single.first_arrival_unix_nano);
  EXPECT_EQ(m.last_arrival_unix_nano, single.last_arrival_unix_nano);
  EXPECT_EQ(m.files.size(), 9u);  // three signals of three instances
  for (const FileEntry& f : m.files) {
    RawFileName name;
    ASSERT_TRUE(ParseRawFilePath(f.path, &name)) << f.path;
    EXPECT_TRUE(name.instance == "pod-a" || name.instance == "pod-b" || name.instance == "pod-c") << f.path;
  }

  absl::StatusOr<VerifyReport> v = sessions_->Verify("shared");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems.front());
  // Read back interleaved by arrival, as one session.
  std::vector<Record> records = ReadAll("shared");
  ASSERT_EQ(records.size(), 3u * kPerInstance);
  for (size_t i = 1; i < records.size(); ++i) EXPECT_LE(records[i - 1].arrival_unix_nano, records[i].arrival_unix_nano);

  absl::StatusOr<SealResult> again = SealSession(*store_, "shared");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, SealOutcome::kAlreadySealed);
  EXPECT_EQ(JoinStatus("shared", "pod-d").code(), absl::StatusCode::kFailedPrecondition);
}

// The same phase marked on every instance (one API call per pod, milliseconds apart) is one phase of the sealed
// session: earliest start to latest end, every flag; a phase only one instance marked stays as it was, and a
// name marked again later (failure, recovery, failure again) stays two phases.
TEST_F(SharedSessionTest, PhasesOfOneNameOnSeveralInstancesMergeIntoOne) {
  constexpr uint64_t kMs = 1'000'000;
  std::unique_ptr<SessionWriter> a = Join("phased", "pod-a");
  std::unique_ptr<SessionWriter> b = Join("phased", "pod-b");
  ASSERT_TRUE(a && b);
  Fill(*a, 0);
  Fill(*b, 1);
  a->metadata().phases = {{.name = "baseline", .start_time_unix_nano = kT0, .end_time_unix_nano = kT0 + 10 * kMs},
                          {.name = "failure", .start_time_unix_nano = kT0 + 10 * kMs,
                           .end_time_unix_nano = kT0 + 20 * kMs, .flags = {"paymentDown"}},
                          {.name = "failure", .start_time_unix_nano = kT0 + 40 * kMs, .end_time_unix_nano = kT0 + 50 * kMs}};
  b->metadata().phases = {{.name = "baseline", .start_time_unix_nano = kT0 + 1 * kMs, .end_time_unix_nano = kT0 + 11 * kMs},
                          {.name = "failure", .start_time_unix_nano = kT0 + 11 * kMs,
                           .end_time_unix_nano = kT0 + 22 * kMs, .flags = {"paymentDown", "slowDb"}},
                          {.name = "b-only", .start_time_unix_nano = kT0 + 30 * kMs, .end_time_unix_nano = kT0 + 31 * kMs},
                          {.name = "failure", .start_time_unix_nano = kT0 + 41 * kMs}};  // still open
  ASSERT_TRUE(a->Close().ok());
  ASSERT_TRUE(b->Close().ok());
  absl::StatusOr<SealResult> sealed = SealSession(*store_, "phased");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  const std::vector<Phase>& phases = sealed->metadata.phases;
  ASSERT_EQ(phases.size(), 4u);
  EXPECT_EQ(phases[0].name, "baseline");
  EXPECT_EQ(phases[0].start_time_unix_nano, kT0);
  EXPECT_EQ(phases[0].end_time_unix_nano, kT0 + 11 * kMs);
  EXPECT_EQ(phases[1].name, "failure");
  EXPECT_EQ(phases[1].start_time_unix_nano, kT0 + 10 * kMs);
  EXPECT_EQ(phases[1].end_time_unix_nano, kT0 + 22 * kMs);
  EXPECT_EQ(phases[1].flags, (std::vector<std::string>{"paymentDown", "slowDb"}));
  EXPECT_EQ(phases[2].name, "b-only");
  EXPECT_EQ(phases[2].end_time_unix_nano, kT0 + 31 * kMs);
  EXPECT_EQ(phases[3].name, "failure");
  EXPECT_EQ(phases[3].start_time_unix_nano, kT0 + 40 * kMs);
  EXPECT_EQ(phases[3].end_time_unix_nano, std::nullopt);
  EXPECT_TRUE(phases[3].flags.empty());
}

TEST_F(SharedSessionTest, DistinctTracesStayExactWhenInstancesSpill) {
  std::unique_ptr<SessionWriter> a = Join("spill", "a", {.trace_ids = {.max_memory_ids = 2}});
  std::unique_ptr<SessionWriter> b = Join("spill", "b", {.trace_ids = {.max_memory_ids = 3}});
  Fill(*a, 0);
  Fill(*b, 1);
  ASSERT_TRUE(a->Close().ok());
  ASSERT_TRUE(b->Close().ok());
  absl::StatusOr<SealResult> sealed = SealSession(*store_, "spill");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->metadata.counts.traces, Single("one", 2).counts.traces);
  // traces.bin: the magic, then each instance's distinct fingerprints.
  EXPECT_EQ(fs::file_size(FileOf("spill", "instances/a/traces.bin")),
            kTraceFingerprintsMagic.size() + 8 * a->metadata().counts.traces);
}

TEST_F(SharedSessionTest, ADeadInstanceIsRecoveredAloneAndTheSessionSealsAsFailed) {
  std::unique_ptr<SessionWriter> a = Join("crash", "a");
  std::unique_ptr<SessionWriter> b = Join("crash", "b");
  Fill(*a, 0);
  Fill(*b, 1);
  ASSERT_TRUE(b->Flush().ok());
  b.reset();  // dies: its part stays "active", its lock goes
  std::string b_part = *store_->ReadAll(InstancePartKey("crash", "b"));
  EXPECT_NE(b_part.find("\"active\""), std::string::npos);

  // Crash recovery on start of another command: recovers b, leaves a (live) alone, does not seal.
  absl::StatusOr<RecoveryReport> report = RecoverInterruptedSessions(*store_);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->sessions.size(), 1u);
  EXPECT_EQ(report->sessions[0].outcome, RecoveryOutcome::kLive);
  EXPECT_EQ(report->sessions[0].instance, "b");
  EXPECT_EQ(report->sessions[0].records_kept, static_cast<uint64_t>(kPerInstance));
  absl::StatusOr<SessionMetadata> b_after = SessionMetadata::FromJson(*store_->ReadAll(InstancePartKey("crash", "b")));
  ASSERT_TRUE(b_after.ok());
  EXPECT_EQ(b_after->status, SessionStatus::kFailed);
  EXPECT_EQ(b_after->status_reason, "interrupted");
  EXPECT_EQ(b_after->counts.requests(), static_cast<uint64_t>(kPerInstance));
  EXPECT_EQ(sessions_->Load("crash")->status, SessionStatus::kActive);

  // a goes on, and stops last: the seal keeps both instances' records.
  ASSERT_TRUE(a->Append(InstanceRecord(0, kPerInstance)).ok());
  ASSERT_TRUE(a->Close().ok());
  absl::StatusOr<SealResult> sealed = SealSession(*store_, "crash");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->outcome, SealOutcome::kSealed);
  EXPECT_EQ(sealed->metadata.status, SessionStatus::kFailed);
  EXPECT_EQ(sealed->metadata.status_reason, "instance b: interrupted");
  EXPECT_EQ(sealed->metadata.counts.requests(), 2u * kPerInstance + 1);
  absl::StatusOr<VerifyReport> v = sessions_->Verify("crash");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems.front());
}

TEST_F(SharedSessionTest, RefusesWhatWouldMixSessionsOrInstances) {
  std::unique_ptr<SessionWriter> plain = NewWriter("plain", Options());
  ASSERT_TRUE(plain->Close().ok());
  absl::Status not_shared = JoinStatus("plain", "a");
  EXPECT_EQ(not_shared.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(not_shared.message().find("not shared"), std::string::npos) << not_shared;

  std::unique_ptr<SessionWriter> a = Join("s", "a");
  absl::Status twice = JoinStatus("s", "a");
  EXPECT_EQ(twice.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(twice.message().find("its own --instance name"), std::string::npos) << twice;
  EXPECT_EQ(JoinStatus("s", "-bad").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JoinStatus("s", "a/b").code(), absl::StatusCode::kInvalidArgument);

  absl::Status deleted = sessions_->Delete("s");
  EXPECT_EQ(deleted.code(), absl::StatusCode::kFailedPrecondition) << deleted;
  EXPECT_NE(deleted.message().find("instance 'a'"), std::string::npos) << deleted;

  ASSERT_TRUE(a->Close().ok());
  a.reset();  // a writer holds its lock until it is gone
  absl::Status rejoin = JoinStatus("s", "a");  // recorded already (the session is not sealed yet)
  EXPECT_EQ(rejoin.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(rejoin.message().find("already recorded"), std::string::npos) << rejoin;

  absl::StatusOr<SealResult> plain_seal = SealSession(*store_, "plain");
  EXPECT_EQ(plain_seal.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(SealSession(*store_, "nothing").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(sessions_->Delete("s").ok());
}

TEST_F(SharedSessionTest, DamagedFingerprintsFailTheSealAndLeaveTheSessionActive) {
  std::unique_ptr<SessionWriter> a = Join("dmg", "a");
  Fill(*a, 0);
  ASSERT_TRUE(a->Close().ok());
  fs::path traces = FileOf("dmg", "instances/a/traces.bin");
  fs::resize_file(traces, fs::file_size(traces) - 3);
  absl::StatusOr<SealResult> sealed = SealSession(*store_, "dmg");
  EXPECT_EQ(sealed.status().code(), absl::StatusCode::kDataLoss) << sealed.status();
  EXPECT_NE(sealed.status().message().find("cut short"), std::string::npos) << sealed.status();
  EXPECT_EQ(sessions_->Load("dmg")->status, SessionStatus::kActive);
}

TEST_F(SharedSessionTest, RecoveryDoesNotSealASessionNoInstanceJoinedButSealDoes) {
  std::unique_ptr<SessionWriter> a = Join("empty", "a");
  ASSERT_TRUE(a->Close().ok());
  ASSERT_TRUE(store_->DeletePrefix(InstancePrefix("empty", "a")).ok());  // as if a had never joined
  absl::StatusOr<RecoveryReport> report = RecoverInterruptedSessions(*store_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(sessions_->Load("empty")->status, SessionStatus::kActive);
  absl::StatusOr<SealResult> sealed = SealSession(*store_, "empty");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->outcome, SealOutcome::kSealed);
  EXPECT_EQ(sealed->metadata.counts, SessionCounts{});
  EXPECT_EQ(sealed->metadata.status, SessionStatus::kCompleted);
}

TEST(SharedLayout, InstanceFileNamesParse) {
  std::string path = RawFilePath(Signal::kLogs, kT0, "0b9f7d0e-7c1e-4a53-9a1b-2f1d1c0e9a77", Compression::kZstd,
                                 "otelrr-serve-7d9f-x2");
  EXPECT_EQ(path, "raw/2026-11-26/11/logs-1795693544123-otelrr-serve-7d9f-x2-0b9f7d0e-7c1e-4a53-9a1b-2f1d1c0e9a77.otlp.zst");
  RawFileName name;
  ASSERT_TRUE(ParseRawFilePath(path, &name));
  EXPECT_EQ(name.instance, "otelrr-serve-7d9f-x2");
  EXPECT_EQ(name.uuid, "0b9f7d0e-7c1e-4a53-9a1b-2f1d1c0e9a77");
  ASSERT_TRUE(ParseRawFilePath(RawFilePath(Signal::kLogs, kT0, "0b9f7d0e-7c1e-4a53-9a1b-2f1d1c0e9a77",
                                           Compression::kZstd),
                               &name));
  EXPECT_EQ(name.instance, "");
}

}  // namespace
}  // namespace otelrr::session::testing
