#include "replay/replay_service.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace otelrr::replay
