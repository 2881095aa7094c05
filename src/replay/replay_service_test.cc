#include "replay/replay_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "net/testing/fake_exporter.h"
#include "session/testing/fixture.h"

namespace otelrr::replay {
namespace {

using session::testing::kT0;
using otlp::testing::MetricsRequest;
using otlp::testing::TraceRequest;

class ReplayServiceTest : public session::testing::SessionTest {};

TEST_F(ReplayServiceTest, DataStreamGivesOneSignalInArrivalOrderAndAvailableListsFinishedSessions) {
  auto w = NewWriter("recorded", Options());
  ASSERT_NE(w, nullptr);
  for (uint64_t i = 0; i < 6; ++i) {
    bool metrics = i % 3 == 2;
    ASSERT_TRUE(w->Append(Rec(kT0 + i, metrics ? otlp::Signal::kMetrics : otlp::Signal::kTraces,
                              metrics ? MetricsRequest(static_cast<int>(i)) : TraceRequest(i, 2)))
                    .ok());
  }
  ReplayService service(*sessions_);
  // Still being written: not available for replay yet.
  absl::StatusOr<std::vector<session::SessionMetadata>> available = service.ListAvailableReplays();
  ASSERT_TRUE(available.ok());
  EXPECT_TRUE(available->empty());
  ASSERT_TRUE(w->Close(session::SessionStatus::kCompleted).ok());
  available = service.ListAvailableReplays();
  ASSERT_TRUE(available.ok());
  ASSERT_EQ(available->size(), 1u);
  EXPECT_EQ((*available)[0].session_id, "recorded");

  absl::StatusOr<std::unique_ptr<session::SessionReader>> stream =
      service.ReplayDataStream("recorded", otlp::Signal::kMetrics);
  ASSERT_TRUE(stream.ok()) << stream.status();
  session::Record rec;
  std::vector<std::string> got;
  while (*(*stream)->Next(&rec)) {
    EXPECT_EQ(rec.signal, otlp::Signal::kMetrics);
    got.push_back(rec.payload);
  }
  EXPECT_EQ(got, (std::vector<std::string>{MetricsRequest(2), MetricsRequest(5)}));
  EXPECT_FALSE(service.ReplayDataStream("missing", otlp::Signal::kTraces).ok());
}

// Many callers at once while replays start, run, finish and are stopped: every call answers, finished
// replays are joined and forgotten past the history bound, and the service stops what still runs when it
// goes away. Runs under TSan (scripts/test).
TEST_F(ReplayServiceTest, ConcurrentCallersSeeConsistentReplaysAndNothingOutlivesTheService) {
  auto w = NewWriter("recorded", Options());
  ASSERT_NE(w, nullptr);
  for (uint64_t i = 0; i < 20; ++i) {
    ASSERT_TRUE(w->Append(Rec(kT0 + i * 1'000'000, otlp::Signal::kTraces, TraceRequest(i + 1, 1))).ok());
  }
  ASSERT_TRUE(w->Close(session::SessionStatus::kCompleted).ok());
  net::testing::FakeExporter exporter(RealClock());
  std::atomic<int> calls{0};
  exporter.answer = [&calls](const std::string&) -> std::optional<net::ExportResult> {
    // Every third request is held until its replay is stopped.
    if (calls.fetch_add(1) % 3 == 0) return std::nullopt;
    return net::ExportResult{};
  };
  auto service = std::make_unique<ReplayService>(
      *sessions_, ReplayServiceOptions{.max_running = 8, .max_finished = 3, .dependencies = {.exporter = &exporter}});
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        for (const ReplayStatus& s : service->ListReplays()) {
          absl::StatusOr<ReplayStatus> one = service->GetReplayStatus(s.replay_id);
          if (one.ok()) {
            EXPECT_EQ(one->session_id, "recorded");
          }
        }
      }
    });
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    ReplayRequest request{.session_id = "recorded"};
    request.config.endpoint = "http://x:1";
    request.config.speed = 0;
    absl::StatusOr<ReplayStatus> r = service->StartReplay(std::move(request));
    EXPECT_TRUE(r.ok()) << r.status();
    ids.push_back(r.ok() ? r->replay_id : "");
    if (i % 2 == 1) {
      absl::StatusOr<ReplayStatus> stopped = service->StopReplay(ids[i - 1]);
      EXPECT_TRUE(stopped.ok()) << stopped.status();
      if (stopped.ok()) {
        EXPECT_NE(stopped->state, ReplayState::kRunning);
      }
      exporter.Reset();
    }
  }
  // The running ones plus the bounded history of finished ones.
  std::vector<ReplayStatus> all = service->ListReplays();
  const size_t running = static_cast<size_t>(
      std::count_if(all.begin(), all.end(), [](const ReplayStatus& s) { return s.state == ReplayState::kRunning; }));
  EXPECT_LE(all.size() - running, 3u);
  done.store(true);
  for (std::thread& t : readers) t.join();
  service.reset();  // stops the ones still running and joins every thread
}

}  // namespace
}  // namespace otelrr::replay
