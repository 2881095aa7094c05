#include "session/slice.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "otlp/wire.h"
#include "session/testing/fixture.h"

namespace otelrr::session {
namespace {

using testing::kT0;
using testing::LenField;
using testing::Fixed64Field;
using testing::TraceId;

constexpr uint64_t kSecond = 1'000'000'000ull;

// A traces request of `service` holding one span of trace `trace` per start time.
std::string Spans(const std::string& service, uint64_t trace, const std::vector<uint64_t>& starts) {
  std::string resource = LenField(1, LenField(1, LenField(1, "service.name") + LenField(2, LenField(1, service))));
  std::string spans;
  for (size_t i = 0; i < starts.size(); ++i) {
    spans += LenField(2, LenField(1, TraceId(trace)) + LenField(2, std::string(7, '\x02') + static_cast<char>(i + 1)) +
                             LenField(5, "op") + Fixed64Field(7, starts[i]) + Fixed64Field(8, starts[i] + 1000));
  }
  return LenField(1, resource + LenField(2, spans));
}

uint64_t SpansIn(const std::vector<Record>& records) {
  uint64_t n = 0;
  for (const Record& r : records) n += otlp::Summarize(r.signal, r.payload)->spans;
  return n;
}

class SliceTest : public testing::SessionTest {
 protected:
  // "src": one record a second from kT0 to kT0 + 29 s, each one span of its own trace starting at its
  // arrival, services "a" (even seconds) and "b" (odd); phases startup [0, 10), failure [10, 20),
  // rampdown from 20 s with no end; and one metrics request at kT0 + 5 s.
  void SetUp() override {
    SessionTest::SetUp();
    std::unique_ptr<SessionWriter> w = NewWriter("src", SessionTest::Options());
    ASSERT_NE(w, nullptr);
    for (uint64_t s = 0; s < 30; ++s) {
      const uint64_t t = kT0 + s * kSecond;
      ASSERT_TRUE(w->Append(Rec(t, otlp::Signal::kTraces, Spans(s % 2 == 0 ? "a" : "b", s + 1, {t}))).ok());
      if (s == 5) {
        ASSERT_TRUE(w->Append(Rec(t, otlp::Signal::kMetrics, testing::MetricsRequest(2))).ok());
      }
    }
    w->metadata().phases = {
        {.name = "startup", .annotation_key = "test.phase.startup", .start_time_unix_nano = kT0,
         .end_time_unix_nano = kT0 + 10 * kSecond},
        {.name = "failure", .annotation_key = "test.phase.failure", .start_time_unix_nano = kT0 + 10 * kSecond,
         .end_time_unix_nano = kT0 + 20 * kSecond, .flags = {"paymentFailure"}},
        {.name = "rampdown", .annotation_key = "test.phase.rampdown", .start_time_unix_nano = kT0 + 20 * kSecond}};
    w->metadata().enabled_flags = {"paymentFailure"};
    ASSERT_TRUE(w->Close().ok());
  }

  SliceOptions Options(uint64_t from_s, uint64_t to_s) {
    return {.source_id = "src", .session_id = "part", .from_unix_nano = kT0 + from_s * kSecond,
            .to_unix_nano = kT0 + to_s * kSecond, .writer = SessionTest::Options()};
  }

  void ExpectNoSession(const std::string& id) {
    absl::StatusOr<bool> exists = sessions_->Exists(id);
    ASSERT_TRUE(exists.ok());
    EXPECT_FALSE(*exists) << id << " was left in the store";
  }
};

TEST_F(SliceTest, KeepsTheRecordsThatArrivedInTheHalfOpenWindow) {
  absl::StatusOr<SliceReport> r = SliceSession(*sessions_, Options(10, 13));
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<Record> records = ReadAll("part");
  ASSERT_EQ(records.size(), 3u);  // 10 s, 11 s, 12 s: the start is in, the end (13 s) out
  EXPECT_EQ(records.front().arrival_unix_nano, kT0 + 10 * kSecond);
  EXPECT_EQ(records.back().arrival_unix_nano, kT0 + 12 * kSecond);
  EXPECT_EQ(r->records_written, 3u);
  EXPECT_EQ(r->metadata.counts.spans, 3u);
  EXPECT_EQ(r->metadata.counts.traces, 3u);
  EXPECT_EQ(r->metadata.counts.metric_requests, 0u);
  EXPECT_EQ(r->metadata.start_time_unix_nano, kT0 + 10 * kSecond);
  EXPECT_EQ(r->metadata.end_time_unix_nano, kT0 + 13 * kSecond);
  EXPECT_EQ(r->metadata.session_type, SessionType::kCapture);
  EXPECT_EQ(r->metadata.enabled_flags, std::vector<std::string>{"paymentFailure"});
  EXPECT_EQ(r->metadata.created_by, "otelrr sessions slice");
  EXPECT_EQ(r->metadata.description,
            "sliced from session src: arrivals from 2026-11-26T11:45:54.123Z to 2026-11-26T11:45:57.123Z");
  absl::StatusOr<VerifyReport> v = sessions_->Verify("part");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems.front());
}

TEST_F(SliceTest, KeepsOnlyTheItemsWhoseOwnTimeIsInTheWindow) {
  // Arrives at 40 s, after the source's last record, with one span from before the window and one in it.
  std::unique_ptr<SessionWriter> w = NewWriter("late", SessionTest::Options());
  ASSERT_TRUE(w->Append(Rec(kT0 + 2 * kSecond, otlp::Signal::kTraces,
                            Spans("a", 1, {kT0 + kSecond / 2, kT0 + 2 * kSecond})))
                  .ok());
  ASSERT_TRUE(w->Close().ok());
  SliceOptions o = Options(1, 3);
  o.source_id = "late";
  absl::StatusOr<SliceReport> r = SliceSession(*sessions_, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->metadata.counts.spans, 1u);
  EXPECT_EQ(SpansIn(ReadAll("part")), 1u);
}

TEST_F(SliceTest, ClipsThePhasesToTheWindowAndKeepsTheirTimes) {
  absl::StatusOr<SliceReport> r = SliceSession(*sessions_, Options(15, 25));
  ASSERT_TRUE(r.ok()) << r.status();
  const std::vector<Phase>& p = r->metadata.phases;
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "failure");
  EXPECT_EQ(p[0].start_time_unix_nano, kT0 + 15 * kSecond);
  EXPECT_EQ(p[0].end_time_unix_nano, kT0 + 20 * kSecond);
  EXPECT_EQ(p[0].flags, std::vector<std::string>{"paymentFailure"});
  EXPECT_EQ(p[1].name, "rampdown");
  EXPECT_EQ(p[1].start_time_unix_nano, kT0 + 20 * kSecond);
  EXPECT_EQ(p[1].end_time_unix_nano, kT0 + 25 * kSecond);
}

TEST(ClipPhasesTest, AnEndlessPhaseEndsWhereTheNextStartsAndTheNamesFilter) {
  const std::vector<Phase> phases = {{.name = "b", .start_time_unix_nano = 20}, {.name = "a", .start_time_unix_nano = 10},
                                     {.name = "c", .start_time_unix_nano = 30, .end_time_unix_nano = 35}};
  std::vector<Phase> all = ClipPhases(phases, {}, 0, UINT64_MAX);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[0].end_time_unix_nano, 20u);  // up to b's start
  EXPECT_EQ(all[1].end_time_unix_nano, 30u);
  EXPECT_EQ(all[2].end_time_unix_nano, 35u);
  std::vector<Phase> named = ClipPhases(phases, {"b"}, 25, 40);
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named[0].start_time_unix_nano, 25u);
  EXPECT_EQ(named[0].end_time_unix_nano, 30u);
  EXPECT_TRUE(ClipPhases(phases, {"a"}, 20, 40).empty());  // a ends where the window starts
  std::vector<Phase> open = ClipPhases({{.name = "x", .start_time_unix_nano = 5}}, {}, 0, UINT64_MAX);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_FALSE(open[0].end_time_unix_nano.has_value());
}

TEST_F(SliceTest, APhaseKeepsItsItemsAndOnlyItsPhase) {
  SliceOptions o{.source_id = "src", .session_id = "part", .phases = {"failure"},
                 .phase_windows = {{.start = kT0 + 10 * kSecond, .end = kT0 + 20 * kSecond}},
                 .writer = SessionTest::Options()};
  absl::StatusOr<SliceReport> r = SliceSession(*sessions_, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->metadata.counts.spans, 10u);
  EXPECT_EQ(r->metadata.counts.data_points, 0u);  // the metrics request's points lie at 1 s and 2 s after 1970
  ASSERT_EQ(r->metadata.phases.size(), 1u);
  EXPECT_EQ(r->metadata.phases[0].name, "failure");
  EXPECT_EQ(r->metadata.start_time_unix_nano, kT0 + 10 * kSecond);
  EXPECT_EQ(r->metadata.end_time_unix_nano, kT0 + 20 * kSecond);
  EXPECT_NE(r->metadata.description.find("; phases failure"), std::string::npos) << r->metadata.description;
}

TEST_F(SliceTest, ServicesAndSignalsFilter) {
  SliceOptions o = Options(0, 10);
  o.services = {"b"};
  o.signals = {otlp::Signal::kTraces};
  absl::StatusOr<SliceReport> r = SliceSession(*sessions_, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->metadata.counts.spans, 5u);  // 1, 3, 5, 7, 9 s
  EXPECT_EQ(r->metadata.counts.metric_requests, 0u);
  EXPECT_NE(r->metadata.description.find("; services b; signals traces"), std::string::npos);
  absl::StatusOr<VerifyReport> v = sessions_->Verify("part");  // counts from the trusted walk, as verify counts
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok) << (v->problems.empty() ? "" : v->problems.front());
  EXPECT_EQ(v->counts.spans, 5u);
}

TEST_F(SliceTest, RefusesWhatCannotBeSlicedAndLeavesNothing) {
  absl::StatusOr<SliceReport> r = SliceSession(*sessions_, Options(100, 200));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("lies outside session src"), std::string::npos) << r.status();
  ExpectNoSession("part");

  r = SliceSession(*sessions_, Options(5, 5));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();

  SliceOptions unknown = Options(0, 10);
  unknown.services = {"a", "nope"};
  r = SliceSession(*sessions_, unknown);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "no item of service nope is in the slice (its services: a, b)");
  ExpectNoSession("part");

  SliceOptions nothing = Options(0, 10);
  nothing.signals = {otlp::Signal::kMetrics};  // the points' own times lie outside the window
  r = SliceSession(*sessions_, nothing);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("nothing to keep"), std::string::npos) << r.status();
  ExpectNoSession("part");

  SliceOptions no_logs = Options(0, 10);
  no_logs.signals = {otlp::Signal::kLogs};
  r = SliceSession(*sessions_, no_logs);
  EXPECT_EQ(r.status().message(), "session src holds no logs");

  SliceOptions missing = Options(0, 10);
  missing.source_id = "absent";
  EXPECT_TRUE(absl::IsNotFound(SliceSession(*sessions_, missing).status()));
  ExpectNoSession("part");
}

TEST_F(SliceTest, AnExistingTargetIsRefusedAndLeftAlone) {
  SliceOptions o = Options(0, 10);
  o.session_id = "src";
  absl::StatusOr<SliceReport> r = SliceSession(*sessions_, o);
  EXPECT_TRUE(absl::IsAlreadyExists(r.status())) << r.status();
  absl::StatusOr<VerifyReport> v = sessions_->Verify("src");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok);
  EXPECT_EQ(v->records, 31u);
}

TEST_F(SliceTest, AStoppedSliceLeavesNothing) {
  Cancellation cancel;
  cancel.Cancel();
  SliceOptions o = Options(0, 30);
  o.cancel = &cancel;
  EXPECT_TRUE(absl::IsCancelled(SliceSession(*sessions_, o).status()));
  ExpectNoSession("part");
}

TEST_F(SliceTest, ASessionBeingWrittenIsRefused) {
  std::unique_ptr<SessionWriter> w = NewWriter("open", SessionTest::Options());
  SliceOptions o = Options(0, 10);
  o.source_id = "open";
  EXPECT_TRUE(absl::IsFailedPrecondition(SliceSession(*sessions_, o).status()));
}

}  // namespace
}  // namespace otelrr::session
