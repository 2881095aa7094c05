#include "session/merge.h"

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "otlp/rewrite.h"
#include "otlp/wire.h"
#include "session/testing/fixture.h"

namespace otelrr::session {
namespace {

using testing::kT0;

constexpr uint64_t kSecond = 1'000'000'000ull;

// The trace ids of a record, as hex-free byte strings.
std::vector<std::string> TraceIds(const Record& r) {
  std::vector<std::string> ids;
  EXPECT_TRUE(otlp::ForEachTraceId(r.signal, r.payload, [&](const uint8_t* id) {
                ids.emplace_back(reinterpret_cast<const char*>(id), 16);
              }).ok());
  return ids;
}

// The start time of the first span of a traces record.
uint64_t SpanStart(const Record& r) {
  otlp::FieldLocations where;
  EXPECT_TRUE(otlp::Locate(r.signal, r.payload, &where).ok());
  uint64_t t = 0;
  std::memcpy(&t, r.payload.data() + where.timestamps.front(), 8);
  return t;
}

class MergeTest : public testing::SessionTest {
 protected:
  // A session that starts at `start` with one single-span request per trace in `traces`, one a second
  // from its start, each span starting at its request's arrival; and one phase "p" over its first 2 s.
  void Write(const std::string& id, uint64_t start, const std::vector<uint64_t>& traces,
             SessionType type = SessionType::kSeed) {
    absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions_->Create(
        {.session_id = id, .session_type = type, .start_time_unix_nano = start, .enabled_flags = {id + "-flag"},
         .created_by = "test"},
        SessionTest::Options());
    ASSERT_TRUE(w.ok()) << w.status();
    for (size_t i = 0; i < traces.size(); ++i) {
      const uint64_t t = start + i * kSecond;
      ASSERT_TRUE((*w)->Append(Rec(t, otlp::Signal::kTraces, otlp::testing::SpanRequest(traces[i], t, t + 1000))).ok());
    }
    (*w)->metadata().phases = {{.name = "p", .annotation_key = "test.phase.p", .start_time_unix_nano = start,
                                .end_time_unix_nano = start + 2 * kSecond}};
    (*w)->metadata().end_time_unix_nano = start + traces.size() * kSecond;
    ASSERT_TRUE((*w)->Close().ok());
  }

  MergeOptions Options(std::vector<std::string> ids) {
    return {.source_ids = std::move(ids), .session_id = "merged", .writer = SessionTest::Options()};
  }

  void ExpectIntact(const std::string& id) {
    absl::StatusOr<VerifyReport> v = sessions_->Verify(id);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems.front());
  }
};

TEST_F(MergeTest, AlignStartMovesEachSourceOntoTheFirstOnesStartAndInterleaves) {
  Write("a", kT0, {1, 2, 3});
  Write("b", kT0 + 100 * kSecond + kSecond / 2, {4, 5});
  absl::StatusOr<MergeReport> r = MergeSessions(*sessions_, Options({"a", "b"}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->sources.size(), 2u);
  EXPECT_EQ(r->sources[0].shift_nanos, 0);
  EXPECT_EQ(r->sources[1].shift_nanos, -static_cast<int64_t>(100 * kSecond + kSecond / 2));
  EXPECT_EQ(r->sources[1].remap_key, 0u);  // no shared trace id
  std::vector<Record> records = ReadAll("merged");
  ASSERT_EQ(records.size(), 5u);
  // a at 0, 1, 2 s; b at 0, 1 s: ties go to the source listed first.
  const std::vector<uint64_t> arrivals = {0, 0, 1, 1, 2};
  const std::vector<uint64_t> traces = {1, 4, 2, 5, 3};
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].arrival_unix_nano, kT0 + arrivals[i] * kSecond) << i;
    EXPECT_EQ(SpanStart(records[i]), kT0 + arrivals[i] * kSecond) << i;  // timestamps moved with the arrival
    EXPECT_EQ(TraceIds(records[i]), std::vector<std::string>{testing::TraceId(traces[i])}) << i;
  }
  const SessionMetadata& m = r->metadata;
  EXPECT_EQ(m.counts.spans, 5u);
  EXPECT_EQ(m.counts.traces, 5u);
  EXPECT_EQ(m.start_time_unix_nano, kT0);
  EXPECT_EQ(m.session_type, SessionType::kSeed);
  EXPECT_EQ(m.enabled_flags, (std::vector<std::string>{"a-flag", "b-flag"}));
  ASSERT_EQ(m.phases.size(), 1u);  // both "p" phases land on [kT0, kT0 + 2 s): kept once
  EXPECT_EQ(m.phases[0].start_time_unix_nano, kT0);
  EXPECT_EQ(m.description, "merged from sessions a, b (moved -100.500 s)");
  ExpectIntact("merged");
}

TEST_F(MergeTest, KeepLeavesEveryTimeAsItWas) {
  Write("a", kT0, {1, 2});
  Write("b", kT0 + kSecond / 2, {3, 4}, SessionType::kCapture);
  MergeOptions o = Options({"a", "b"});
  o.align = MergeAlign::kKeep;
  absl::StatusOr<MergeReport> r = MergeSessions(*sessions_, o);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<Record> records = ReadAll("merged");
  ASSERT_EQ(records.size(), 4u);
  const std::vector<uint64_t> arrivals = {kT0, kT0 + kSecond / 2, kT0 + kSecond, kT0 + 3 * kSecond / 2};
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].arrival_unix_nano, arrivals[i]);
    EXPECT_EQ(SpanStart(records[i]), arrivals[i]);
  }
  EXPECT_EQ(r->metadata.session_type, SessionType::kCapture);  // a seed and a capture
  ASSERT_EQ(r->metadata.phases.size(), 2u);
  EXPECT_EQ(r->metadata.phases[1].start_time_unix_nano, kT0 + kSecond / 2);
  EXPECT_EQ(r->metadata.end_time_unix_nano, kT0 + kSecond / 2 + 2 * kSecond);
  ExpectIntact("merged");
}

TEST_F(MergeTest, ASourceThatSharesATraceIdWithAnEarlierOneGetsNewIds) {
  Write("a", kT0, {1, 2});
  Write("b", kT0, {3});     // no shared id: kept
  Write("c", kT0, {9, 2});  // shares trace 2 with a: remapped with key 2 (its position)
  absl::StatusOr<MergeReport> r = MergeSessions(*sessions_, Options({"a", "b", "c"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ids_checked);
  EXPECT_EQ(r->sources[0].remap_key, 0u);
  EXPECT_EQ(r->sources[1].remap_key, 0u);
  EXPECT_EQ(r->sources[2].remap_key, 2u);
  EXPECT_EQ(r->metadata.counts.traces, 5u);  // 1, 2, 3 and c's two, under new ids
  std::string remapped = testing::TraceId(2);
  otlp::RemapTraceId(2, reinterpret_cast<uint8_t*>(remapped.data()));
  std::vector<Record> records = ReadAll("merged");
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(TraceIds(records.back()), std::vector<std::string>{remapped});  // c's second record, at 1 s
  EXPECT_EQ(r->metadata.description, "merged from sessions a, b, c (ids remapped with key 2)");
  ExpectIntact("merged");
}

TEST_F(MergeTest, TheSameSessionTwiceGivesTwiceTheTraces) {
  Write("a", kT0, {1, 2, 3});
  absl::StatusOr<MergeReport> r = MergeSessions(*sessions_, Options({"a", "a"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sources[1].remap_key, 1u);
  EXPECT_EQ(r->metadata.counts.spans, 6u);
  EXPECT_EQ(r->metadata.counts.traces, 6u);
  ExpectIntact("merged");
}

TEST_F(MergeTest, TooManyTracesToCheckRemapsEverySourceAfterTheFirst) {
  Write("a", kT0, {1});
  Write("b", kT0, {2});
  MergeOptions o = Options({"a", "b"});
  o.max_checked_traces = 0;
  absl::StatusOr<MergeReport> r = MergeSessions(*sessions_, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->ids_checked);
  EXPECT_EQ(r->sources[1].remap_key, 1u);
  EXPECT_EQ(r->metadata.counts.traces, 2u);
}

TEST_F(MergeTest, SourcesOfDifferentSignalsMerge) {
  Write("a", kT0, {1});
  std::unique_ptr<SessionWriter> w = NewWriter("m", SessionTest::Options());
  ASSERT_TRUE(w->Append(Rec(kT0, otlp::Signal::kMetrics, testing::MetricsRequest(3))).ok());
  ASSERT_TRUE(w->Append(Rec(kT0 + 1, otlp::Signal::kLogs, testing::LogsRequest(2))).ok());
  ASSERT_TRUE(w->Close().ok());
  absl::StatusOr<MergeReport> r = MergeSessions(*sessions_, Options({"a", "m"}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->metadata.counts.spans, 1u);
  EXPECT_EQ(r->metadata.counts.data_points, 3u);
  EXPECT_EQ(r->metadata.counts.log_records, 2u);
  EXPECT_EQ(r->metadata.counts.requests(), 3u);
  ExpectIntact("merged");
}

TEST_F(MergeTest, LogsThatNameAnotherSourcesTracesKeepTheirIds) {
  // The traces capture and the logs capture of one system: the logs name the traces' ids, which is not a
  // collision (only spans make a trace), so nothing is remapped and the logs still point at their traces.
  Write("traces", kT0, {7});
  std::unique_ptr<SessionWriter> w = NewWriter("logs", SessionTest::Options());
  ASSERT_TRUE(w->Append(Rec(kT0 + 1, otlp::Signal::kLogs, testing::LogsRequest(2, /*trace=*/7))).ok());
  ASSERT_TRUE(w->Close().ok());
  for (const std::vector<std::string>& order : {std::vector<std::string>{"traces", "logs"}, {"logs", "traces"}}) {
    absl::StatusOr<MergeReport> r = MergeSessions(*sessions_, Options(order));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->sources[0].remap_key, 0u);
    EXPECT_EQ(r->sources[1].remap_key, 0u);
    EXPECT_EQ(r->metadata.counts.traces, 1u);  // one trace: the logs' records are in it
    for (const Record& rec : ReadAll("merged")) {
      for (const std::string& id : TraceIds(rec)) EXPECT_EQ(id, testing::TraceId(7));
    }
    ExpectIntact("merged");
    ASSERT_TRUE(sessions_->Delete("merged").ok());
  }
}

TEST_F(MergeTest, AStoppedMergeLeavesNothing) {
  Write("a", kT0, {1});
  Write("b", kT0, {1});
  Cancellation cancel;
  cancel.Cancel();
  MergeOptions o = Options({"a", "b"});
  o.cancel = &cancel;
  EXPECT_TRUE(absl::IsCancelled(MergeSessions(*sessions_, o).status()));
  absl::StatusOr<bool> exists = sessions_->Exists("merged");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TEST_F(MergeTest, ErrorsLeaveNothing) {
  Write("a", kT0, {1});
  EXPECT_TRUE(absl::IsInvalidArgument(MergeSessions(*sessions_, Options({"a"})).status()));
  absl::StatusOr<MergeReport> r = MergeSessions(*sessions_, Options({"a", "absent"}));
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  MergeOptions onto_a = Options({"a", "a"});
  onto_a.session_id = "a";
  EXPECT_TRUE(absl::IsAlreadyExists(MergeSessions(*sessions_, onto_a).status()));
  std::unique_ptr<SessionWriter> open = NewWriter("open", SessionTest::Options());
  EXPECT_TRUE(absl::IsFailedPrecondition(MergeSessions(*sessions_, Options({"a", "open"})).status()));
  absl::StatusOr<bool> exists = sessions_->Exists("merged");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
  ExpectIntact("a");
}

}  // namespace
}  // namespace otelrr::session
