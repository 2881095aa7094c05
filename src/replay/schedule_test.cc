// RunReplay on simulated time (common/clock.h) with an exporter that answers as each test says: pacing,
// the duration, the origin of the schedule, retries, cancel, progress and the timestamps are checked
// exactly, to the nanosecond, and instantly.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "net/testing/fake_exporter.h"
#include "otlp/field_reader.h"
#include "otlp/wire.h"
#include "replay/replay.h"
#include "replay/schedule.h"
#include "session/testing/fixture.h"

namespace otelrr::replay {
namespace {

using net::testing::FakeExporter;
using otlp::Signal;
using otlp::testing::CumulativeSumRequest;
using otlp::testing::MetricsRequest;
using otlp::testing::SpanRequest;
using otlp::testing::TraceRequest;
using session::testing::kT0;
using std::chrono::milliseconds;
using std::chrono::seconds;
constexpr uint64_t kSecond = 1'000'000'000;

class ScheduleTest : public session::testing::SessionTest {
 protected:
  // A session whose records arrived at kT0 + offsets (ns): (signal, body) each.
  void Write(const std::string& id, const std::vector<std::tuple<uint64_t, Signal, std::string>>& records,
             uint64_t start_time = kT0) {
    absl::StatusOr<std::unique_ptr<session::SessionWriter>> w = sessions_->Create(
        {.session_id = id, .session_type = session::SessionType::kSeed, .start_time_unix_nano = start_time,
         .created_by = "test"},
        Options());
    ASSERT_TRUE(w.ok()) << w.status();
    for (const auto& [offset, signal, body] : records) {
      ASSERT_TRUE((*w)->Append(Rec(kT0 + offset, signal, body)).ok());
    }
    ASSERT_TRUE((*w)->Close(session::SessionStatus::kCompleted).ok());
  }

  ReplayConfig Config(const std::string& id) {
    return {.session_id = id, .endpoint = "http://fake:4318", .timestamps = TimestampMode::kNone,
            .initial_backoff = milliseconds(100), .max_backoff = milliseconds(100)};
  }

  // Runs the replay on its own thread and moves simulated time to whatever it waits for, until it
  // returns. `at` is called with the time elapsed before every move (to cancel at a given moment, say).
  absl::StatusOr<ReplayReport> Run(const ReplayConfig& config,
                                   std::function<void(Clock::Duration)> at = nullptr) {
    std::atomic<bool> done{false};
    absl::StatusOr<ReplayReport> result;
    const Clock::TimePoint start = clock_.Now();
    std::thread replay([&] {
      result = RunReplay(*sessions_, config, {.clock = &clock_, .exporter = &exporter_});
      done.store(true);
    });
    while (!done.load()) {
      // Only the replay's thread waits on the clock: a deadline means it has nothing to do until then.
      std::optional<Clock::TimePoint> next = clock_.NextDeadline();
      if (!next) {
        std::this_thread::sleep_for(milliseconds(1));
        continue;
      }
      if (at) {
        at(*next - start);
        next = clock_.NextDeadline();  // what `at` did may have changed what the replay waits for
        if (!next) continue;
      }
      clock_.AdvanceTo(*next);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    replay.join();
    return result;
  }

  // When each request left, relative to the replay's start.
  std::vector<Clock::Duration> SendTimes(Clock::TimePoint start) {
    std::vector<Clock::Duration> out;
    for (const FakeExporter::Sent& s : exporter_.sent()) out.push_back(s.at - start);
    return out;
  }

  SimulatedClock clock_{kT0 + 3600 * kSecond};
  FakeExporter exporter_{clock_};
};

TEST_F(ScheduleTest, RequestsLeaveExactlyOnTheAcceleratedScheduleFromTheFirstArrival) {
  // The session started 10 s before its first request: the schedule counts from the first request.
  Write("s", {{10 * kSecond, Signal::kTraces, TraceRequest(1, 1)},
              {10 * kSecond + 100'000'000, Signal::kTraces, TraceRequest(2, 1)},
              {10 * kSecond + 250'000'000, Signal::kLogs, otlp::testing::LogsRequest(1)},
              {11 * kSecond, Signal::kMetrics, MetricsRequest(1)}});
  ReplayConfig c = Config("s");
  c.speed = 2;
  const Clock::TimePoint start = clock_.Now();
  absl::StatusOr<ReplayReport> r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(SendTimes(start), (std::vector<Clock::Duration>{milliseconds(0), milliseconds(50), milliseconds(125),
                                                            milliseconds(500)}));
  EXPECT_EQ(r->sent_requests(), 4u);
  EXPECT_EQ(r->end, ReplayEnd::kFinished);
  EXPECT_DOUBLE_EQ(r->elapsed_seconds, 0.5);
  EXPECT_EQ(r->max_lag_ms, 0);
  EXPECT_EQ(r->p99_lag_ms, 0);
  EXPECT_TRUE(DeliveryStatus(*r).ok()) << DeliveryStatus(*r);
}

TEST_F(ScheduleTest, AMetricsOnlySessionThatStartsLateIsReplayedWithinAShortDuration) {
  // A metrics-only seed whose first export comes 10 s after the session's start.
  Write("m", {{10 * kSecond, Signal::kMetrics, MetricsRequest(1)}, {20 * kSecond, Signal::kMetrics, MetricsRequest(2)}});
  ReplayConfig c = Config("m");
  c.max_duration_seconds = 5;
  absl::StatusOr<ReplayReport> r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sent_requests(), 1u);  // the first at once, the second 10 s later: past the duration
  EXPECT_EQ(r->end, ReplayEnd::kDuration);
  EXPECT_DOUBLE_EQ(r->elapsed_seconds, 5.0);
}

TEST_F(ScheduleTest, TheDurationIsWallTimeExactly) {
  std::vector<std::tuple<uint64_t, Signal, std::string>> records;
  for (uint64_t i = 0; i < 10; ++i) records.emplace_back(i * kSecond, Signal::kTraces, TraceRequest(i + 1, 1));
  Write("ten", records);
  ReplayConfig c = Config("ten");
  c.max_duration_seconds = 3;
  const Clock::TimePoint start = clock_.Now();
  absl::StatusOr<ReplayReport> r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(SendTimes(start), (std::vector<Clock::Duration>{seconds(0), seconds(1), seconds(2)}));
  EXPECT_DOUBLE_EQ(r->elapsed_seconds, 3.0);  // not 2.0: the replay runs until its duration is up
  EXPECT_EQ(r->end, ReplayEnd::kDuration);
  EXPECT_EQ(r->iterations, 1u);
  EXPECT_TRUE(DeliveryStatus(*r).ok());
}

TEST_F(ScheduleTest, ALoopEndsExactlyAtItsDurationWithoutAnEmptyIteration) {
  // Four records a second apart: one iteration lasts 4 s (three gaps and one more).
  std::vector<std::tuple<uint64_t, Signal, std::string>> records;
  for (uint64_t i = 0; i < 4; ++i) records.emplace_back(i * kSecond, Signal::kTraces, TraceRequest(i + 1, 1));
  Write("four", records);
  ReplayConfig c = Config("four");
  c.loop = true;
  c.max_duration_seconds = 4;  // the second iteration would begin at 4 s: it never does
  absl::StatusOr<ReplayReport> r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->iterations, 1u);
  EXPECT_EQ(r->sent_requests(), 4u);
  EXPECT_DOUBLE_EQ(r->elapsed_seconds, 4.0);

  c.max_duration_seconds = 5.5;
  const Clock::TimePoint start = clock_.Now();
  r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->iterations, 2u);
  EXPECT_EQ(r->sent_requests(), 6u);  // 0 1 2 3, then 4 5
  EXPECT_DOUBLE_EQ(r->elapsed_seconds, 5.5);
  std::vector<Clock::Duration> times = SendTimes(start);
  EXPECT_EQ(std::vector<Clock::Duration>(times.end() - 2, times.end()),
            (std::vector<Clock::Duration>{seconds(4), seconds(5)}));
}

TEST_F(ScheduleTest, ADeadTargetIsRetriedUntilTheDurationEndsThenAbandoned) {
  std::vector<std::tuple<uint64_t, Signal, std::string>> records;
  for (uint64_t i = 0; i < 4; ++i) records.emplace_back(i * kSecond, Signal::kTraces, TraceRequest(i + 1, 1));
  Write("dead", records);
  exporter_.answer = [](const std::string&) {
    return net::ExportResult{.status = absl::UnavailableError("sending to http://fake:4318 failed: Connection refused")};
  };
  ReplayConfig c = Config("dead");
  c.loop = true;
  c.max_duration_seconds = 4;
  std::vector<std::string> errors;
  c.on_error = [&](const std::string& e) { errors.push_back(e); };
  absl::StatusOr<ReplayReport> r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->elapsed_seconds, 4.0);  // not 7.65 s: retries stop when the duration does
  EXPECT_EQ(r->sent_requests(), 4u);
  EXPECT_EQ(r->accepted_requests(), 0u);
  EXPECT_EQ(r->abandoned_requests() + r->failed_requests(), 4u);
  EXPECT_GT(r->retries(), 10u);
  EXPECT_FALSE(errors.empty());
  EXPECT_EQ(errors.front(), "sending to http://fake:4318 failed: Connection refused");
  absl::Status delivered = DeliveryStatus(*r);
  EXPECT_EQ(delivered.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(delivered.message().find("abandoned"), absl::string_view::npos) << delivered;
}

// The answers of a paced replay are accounted for when its next record is due, but a refusal must not
// wait that long: it wakes the replay, which retries it after its backoff.
TEST_F(ScheduleTest, ARefusalThatComesWhileTheReplayWaitsForItsNextRecordIsRetriedAfterItsBackoff) {
  Write("gap", {{0, Signal::kTraces, TraceRequest(1, 1)},
                {kSecond, Signal::kTraces, TraceRequest(2, 1)},
                {100 * kSecond, Signal::kTraces, TraceRequest(3, 1)}});
  int calls = 0;
  exporter_.answer = [&](const std::string&) -> std::optional<net::ExportResult> {
    if (++calls <= 2) return std::nullopt;  // the first two are answered by the test, below
    return net::ExportResult{};
  };
  const Clock::TimePoint start = clock_.Now();
  int step = 0;
  absl::StatusOr<ReplayReport> r = Run(Config("gap"), [&](Clock::Duration next) {
    if (step == 0 && next == seconds(1)) {
      // Waiting for the second record: the first one's success comes, and changes nothing until then.
      ASSERT_TRUE(exporter_.AnswerHeld({}));
      ++step;
    } else if (step == 1 && next == seconds(100)) {
      // Waiting for the third record, 99 s away: the second one is refused.
      ASSERT_TRUE(exporter_.AnswerHeld({.status = absl::UnavailableError("busy")}));
      ++step;
      for (int i = 0; i < 2000; ++i) {  // the replay wakes and waits for the retry instead
        if (std::optional<Clock::TimePoint> d = clock_.NextDeadline(); d && *d < start + seconds(2)) break;
        std::this_thread::sleep_for(milliseconds(1));
      }
    }
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(step, 2);
  std::vector<Clock::Duration> at = SendTimes(start);
  ASSERT_EQ(at.size(), 4u);
  EXPECT_EQ(at[0], Clock::Duration(0));
  EXPECT_EQ(at[1], seconds(1));
  // The retry: 50 to 100 ms after the refusal (a 100 ms backoff with jitter), not when the third is due.
  EXPECT_GE(at[2], seconds(1) + milliseconds(50));
  EXPECT_LE(at[2], seconds(1) + milliseconds(100));
  EXPECT_EQ(at[3], seconds(100));
  EXPECT_EQ(r->accepted_requests(), 3u);
  EXPECT_EQ(r->retries(), 1u);
  EXPECT_EQ(r->failed_requests(), 0u);
}

TEST_F(ScheduleTest, CancelStopsAtOnceWhileWaitingForTheNextRecord) {
  Write("slow", {{0, Signal::kTraces, TraceRequest(1, 1)}, {100 * kSecond, Signal::kTraces, TraceRequest(2, 1)}});
  Cancellation cancel;
  ReplayConfig c = Config("slow");
  c.cancel = &cancel;
  const Clock::TimePoint start = clock_.Now();
  absl::StatusOr<ReplayReport> r;
  std::thread t([&] { r = RunReplay(*sessions_, c, {.clock = &clock_, .exporter = &exporter_}); });
  clock_.WaitForWaiters(1);  // waiting for the record due at 100 s
  cancel.Cancel();
  t.join();  // no time moved
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(clock_.Now(), start);
  EXPECT_EQ(r->end, ReplayEnd::kCancelled);
  EXPECT_EQ(r->sent_requests(), 1u);
  EXPECT_EQ(r->records_processed, 1u);
}

TEST_F(ScheduleTest, CancelCutsOffRetriesAndRequestsOnTheWire) {
  std::vector<std::tuple<uint64_t, Signal, std::string>> records;
  for (uint64_t i = 0; i < 6; ++i) records.emplace_back(i * 1'000'000, Signal::kTraces, TraceRequest(i + 1, 1));
  Write("stuck", records);
  int calls = 0;
  exporter_.answer = [&](const std::string&) -> std::optional<net::ExportResult> {
    // The first three are refused (and wait for a retry), the others never answered.
    if (++calls <= 3) return net::ExportResult{.status = absl::UnavailableError("busy")};
    return std::nullopt;
  };
  Cancellation cancel;
  ReplayConfig c = Config("stuck");
  c.cancel = &cancel;
  c.initial_backoff = c.max_backoff = seconds(30);
  absl::StatusOr<ReplayReport> r = Run(c, [&](Clock::Duration elapsed) {
    if (elapsed > milliseconds(5)) cancel.Cancel();  // once all six are out
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->end, ReplayEnd::kCancelled);
  EXPECT_EQ(r->sent_requests(), 6u);
  EXPECT_EQ(r->abandoned_requests(), 6u);  // 3 waiting for a retry, 3 cut off on the wire
  EXPECT_EQ(r->failed_requests(), 0u);
}

TEST_F(ScheduleTest, ProgressComesEveryIntervalEvenWhenNothingIsAnswered) {
  std::vector<std::tuple<uint64_t, Signal, std::string>> records;
  for (uint64_t i = 0; i < 10; ++i) records.emplace_back(i * 1'000'000, Signal::kTraces, TraceRequest(i + 1, 1));
  Write("silent", records);
  exporter_.answer = [](const std::string&) -> std::optional<net::ExportResult> { return std::nullopt; };
  Cancellation cancel;
  ReplayConfig c = Config("silent");
  c.window = 2;
  c.cancel = &cancel;
  c.log_interval = seconds(1);
  std::vector<double> progress;
  c.progress = [&](const ReplayReport& r) {
    progress.push_back(r.elapsed_seconds);
    EXPECT_EQ(r.in_flight, 2u);
  };
  absl::StatusOr<ReplayReport> r = Run(c, [&](Clock::Duration elapsed) {
    if (elapsed > milliseconds(3500)) cancel.Cancel();
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(progress, (std::vector<double>{1.0, 2.0, 3.0}));
  EXPECT_EQ(r->sent_requests(), 2u);  // the window is full the whole time
}

TEST_F(ScheduleTest, RelativeTimestampsFollowTheAcceleratedSchedule) {
  // Spans that ended before their request arrived; at speed 4 they must still end before it is sent.
  Write("spans", {{0, Signal::kTraces, SpanRequest(1, kT0 - 2 * kSecond, kT0 - kSecond)},
                  {8 * kSecond, Signal::kTraces, SpanRequest(2, kT0 + 7 * kSecond, kT0 + 8 * kSecond)}});
  ReplayConfig c = Config("spans");
  c.speed = 4;
  c.timestamps = TimestampMode::kRelative;
  const uint64_t start_wall = clock_.WallNowUnixNano();
  absl::StatusOr<ReplayReport> r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<FakeExporter::Sent> sent = exporter_.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].body, SpanRequest(1, start_wall - kSecond / 2, start_wall - kSecond / 4));
  EXPECT_EQ(sent[1].body, SpanRequest(2, start_wall + 7 * kSecond / 4, start_wall + 2 * kSecond));
  EXPECT_EQ(sent[1].wall, start_wall + 2 * kSecond);  // sent when its span ended, on the new timeline
}

TEST_F(ScheduleTest, CurrentTimestampsKeepOneStartTimePerCumulativeSeriesAndLoopsContinueIt) {
  // A counter that started with the recording: 6, then 10 in a point taken half a second before its
  // request arrived (so current moves the two requests by different amounts).
  Write("counter", {{0, Signal::kMetrics, CumulativeSumRequest(kT0, kT0, 6)},
                    {10 * kSecond, Signal::kMetrics, CumulativeSumRequest(kT0, kT0 + 9'500'000'000, 10)}});
  ReplayConfig c = Config("counter");
  c.timestamps = TimestampMode::kCurrent;
  c.loop = true;
  c.max_duration_seconds = 40;  // iterations of 20 s: two
  const uint64_t start_wall = clock_.WallNowUnixNano();
  absl::StatusOr<ReplayReport> r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<FakeExporter::Sent> sent = exporter_.sent();
  ASSERT_EQ(sent.size(), 4u);
  // Each point's time is its send time; the start time stays the one the series was first sent with
  // (not start_wall + 0.5 s for the second point); values keep increasing across the loop: 6, 10, 16, 20.
  EXPECT_EQ(sent[0].body, CumulativeSumRequest(start_wall, start_wall, 6));
  EXPECT_EQ(sent[1].body, CumulativeSumRequest(start_wall, start_wall + 10 * kSecond, 10));
  EXPECT_EQ(sent[2].body, CumulativeSumRequest(start_wall, start_wall + 20 * kSecond, 16));
  EXPECT_EQ(sent[3].body, CumulativeSumRequest(start_wall, start_wall + 30 * kSecond, 20));
}

TEST_F(ScheduleTest, AServiceFilterThatMatchesNothingSaysSoAndWhichServicesThereAre) {
  Write("svc", {{0, Signal::kTraces, TraceRequest(1, 1)}, {kSecond, Signal::kLogs, otlp::testing::LogsRequest(1)}});
  ReplayConfig c = Config("svc");
  c.services = {"nope"};
  absl::StatusOr<ReplayReport> r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sent_requests(), 0u);
  EXPECT_EQ(r->filtered_requests(), 2u);
  absl::Status delivered = DeliveryStatus(*r);
  EXPECT_EQ(delivered.message(),
            "nothing was sent: no record is of a listed service (the session's services include: svc)");
}

// A traces request with one span per start time (each lasting 1 ms).
std::string SpansStartingAt(const std::vector<uint64_t>& starts) {
  using otlp::testing::Fixed64Field;
  using otlp::testing::LenField;
  std::string scope;
  for (uint64_t t : starts) {
    scope += LenField(2, LenField(1, otlp::testing::TraceId(1)) + LenField(2, std::string(8, '\x02')) +
                             LenField(5, "op") + Fixed64Field(7, t) + Fixed64Field(8, t + 1'000'000));
  }
  return LenField(1, otlp::testing::Resource() + LenField(2, scope));
}

TEST_F(ScheduleTest, PhasesKeepTheItemsOfTheirWindowsAndTheScheduleStartsAtTheFirstWindow) {
  Write("p", {{1 * kSecond, Signal::kTraces, SpansStartingAt({kT0 + kSecond / 2})},
              {3 * kSecond, Signal::kTraces, SpansStartingAt({kT0 + 3 * kSecond / 2, kT0 + 5 * kSecond / 2})},
              {5 * kSecond, Signal::kTraces, SpansStartingAt({kT0 + 4 * kSecond - 1})},
              {6 * kSecond, Signal::kTraces, SpansStartingAt({kT0 + 4 * kSecond})}});
  ReplayConfig c = Config("p");
  c.phases = {"failure"};
  c.phase_windows = {{.start = kT0 + 2 * kSecond, .end = kT0 + 4 * kSecond}};
  const Clock::TimePoint start = clock_.Now();
  absl::StatusOr<ReplayReport> r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  // Due at the arrival's offset from the window's start (kT0 + 2 s), not from the first arrival.
  EXPECT_EQ(SendTimes(start), (std::vector<Clock::Duration>{seconds(1), seconds(3)}));
  ASSERT_EQ(exporter_.sent().size(), 2u);
  EXPECT_EQ(exporter_.sent()[0].body, SpansStartingAt({kT0 + 5 * kSecond / 2}));  // the span before went
  EXPECT_EQ(exporter_.sent()[1].body, SpansStartingAt({kT0 + 4 * kSecond - 1}));
  EXPECT_EQ(r->signals[Signal::kTraces].items, 2u);
  EXPECT_EQ(r->filtered_requests(), 2u);
  EXPECT_EQ(r->phases, (std::vector<std::string>{"failure"}));
  EXPECT_TRUE(DeliveryStatus(*r).ok()) << DeliveryStatus(*r);

  c.phase_windows = {{.start = kT0 + 10 * kSecond, .end = kT0 + 20 * kSecond}};
  r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sent_requests(), 0u);
  EXPECT_EQ(DeliveryStatus(*r).message(),
            "nothing was sent: no item of the selected signals lies in the phases failure");

  c.phase_windows = {{.start = 5, .end = 5}};
  EXPECT_EQ(ValidateReplayConfig(c).code(), absl::StatusCode::kInvalidArgument);
  c.phase_windows = {{.start = 5, .end = 10}, {.start = 9, .end = 12}};
  EXPECT_EQ(ValidateReplayConfig(c).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ScheduleTimelineTest, TheTimelineOfTheSelectedSignalsComesFromTheFileIndex) {
  session::SessionMetadata m;
  m.start_time_unix_nano = 100;
  m.files = {{.signal = Signal::kTraces, .first_arrival_unix_nano = 1000, .last_arrival_unix_nano = 4000, .records = 4},
             {.signal = Signal::kMetrics, .first_arrival_unix_nano = 5000, .last_arrival_unix_nano = 9000, .records = 3}};
  Schedule::Timeline traces = Schedule::TimelineOf(m, {Signal::kTraces});
  EXPECT_EQ(traces.origin, 1000u);
  EXPECT_EQ(traces.length, 4000u);  // 3000 + one mean gap of 1000
  Schedule::Timeline metrics = Schedule::TimelineOf(m, {Signal::kMetrics});
  EXPECT_EQ(metrics.origin, 5000u);
  EXPECT_EQ(metrics.length, 6000u);
  Schedule::Timeline both = Schedule::TimelineOf(m, {Signal::kTraces, Signal::kMetrics});
  EXPECT_EQ(both.origin, 1000u);
  EXPECT_EQ(both.length, 9333u);  // 8000 + 8000 / 6
}

TEST_F(ScheduleTest, AGivenStartIsWhereTheScheduleAndTheTimestampsStart) {
  // Two replays given one start (replay --session a,b) run on one timeline: the start, not the moment
  // each RunReplay began, is when their first records are due.
  Write("later", {{0, Signal::kTraces, SpanRequest(1, kT0, kT0 + kSecond)},
                  {kSecond, Signal::kTraces, SpanRequest(2, kT0 + kSecond, kT0 + 2 * kSecond)}});
  ReplayConfig c = Config("later");
  c.timestamps = TimestampMode::kRelative;
  const Clock::TimePoint now = clock_.Now();
  const uint64_t start_wall = clock_.WallNowUnixNano() + 3 * kSecond;
  c.start = ReplayConfig::Start{.at = now + seconds(3), .wall_unix_nano = start_wall};
  absl::StatusOr<ReplayReport> r = Run(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(SendTimes(now), (std::vector<Clock::Duration>{seconds(3), seconds(4)}));
  std::vector<FakeExporter::Sent> sent = exporter_.sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].body, SpanRequest(1, start_wall, start_wall + kSecond));
  EXPECT_DOUBLE_EQ(r->elapsed_seconds, 1.0);  // from the start given
}

TEST(SumReportsTest, AddsCountsAndKeepsTheLargestLagAndTheMostAbruptEnd) {
  ReplayReport a;
  a.session_id = "a";
  a.endpoint = "http://x";
  a.iterations = 1;
  a.records_processed = 3;
  a.records_total = 3;
  a.signals[Signal::kTraces] = {.sent_requests = 3, .accepted_requests = 3, .items = 30};
  a.max_lag_ms = 2;
  a.status_codes = {{"200", 3}};
  ReplayReport b = a;
  b.session_id = "b";
  b.records_processed = 2;
  b.records_total = 4;
  b.signals[Signal::kTraces] = {.sent_requests = 1, .accepted_requests = 1, .items = 5};
  b.signals[Signal::kLogs] = {.sent_requests = 1, .failed_requests = 1};
  b.max_lag_ms = 7;
  b.end = ReplayEnd::kDuration;
  b.first_error = "HTTP 400";
  b.status_codes = {{"200", 1}, {"400", 1}};
  ReplayReport sum = SumReports({a, b});
  EXPECT_EQ(sum.session_id, "a,b");
  EXPECT_EQ(sum.iterations, 2u);
  EXPECT_EQ(sum.records_processed, 5u);
  EXPECT_EQ(sum.records_total, 7u);
  EXPECT_EQ(sum.sent_requests(), 5u);
  EXPECT_EQ(sum.accepted_requests(), 4u);
  EXPECT_EQ(sum.failed_requests(), 1u);
  EXPECT_EQ(sum.signals[Signal::kTraces].items, 35u);
  EXPECT_EQ(sum.max_lag_ms, 7);
  EXPECT_EQ(sum.end, ReplayEnd::kDuration);
  EXPECT_EQ(sum.first_error, "HTTP 400");
  EXPECT_EQ(sum.status_codes, (std::map<std::string, uint64_t>{{"200", 4}, {"400", 1}}));
  EXPECT_FALSE(DeliveryStatus(sum).ok());
  EXPECT_TRUE(DeliveryStatus(SumReports({a})).ok());
}

}  // namespace
}  // namespace otelrr::replay
