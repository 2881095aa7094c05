#include "capture/capture_service.h"

#include <future>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "session/testing/fixture.h"

namespace otelrr::capture {
namespace {

using otlp::Signal;
using otlp::testing::LogsRequest;
using otlp::testing::MetricsRequest;
using otlp::testing::TraceRequest;

class CaptureServiceTest : public session::testing::SessionTest {
 protected:
  // Sends one request through Export and waits for the answer.
  static net::ExportResult Send(CaptureService& c, Signal signal, std::string body,
                                session::Encoding encoding = session::Encoding::kProtobuf) {
    std::promise<net::ExportResult> p;
    c.Export({.signal = signal, .transport = session::Transport::kHttp, .encoding = encoding, .body = std::move(body),
              .arrival_unix_nano = 1'800'000'000'000'000'000ull},
             [&p](net::ExportResult r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
};

TEST_F(CaptureServiceTest, RecordsAcknowledgesAndCountsExactly) {
  CaptureService c(*sessions_);
  absl::StatusOr<session::SessionMetadata> m =
      c.StartCapture({.session_id = "cap", .diagnostic_session_id = "diag", .description = "d", .enabled_flags = {"f1"}});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->status, session::SessionStatus::kActive);
  EXPECT_EQ(c.ActiveCapture(), "cap");
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(Send(c, Signal::kTraces, TraceRequest(i % 4 + 1, 3)).status.ok());
  EXPECT_TRUE(Send(c, Signal::kMetrics, MetricsRequest(5)).status.ok());
  EXPECT_TRUE(Send(c, Signal::kLogs, LogsRequest(2)).status.ok());
  // Live counts, exact once each request was acknowledged.
  absl::StatusOr<session::SessionMetadata> live = c.GetCaptureStatus("cap");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->status, session::SessionStatus::kActive);
  EXPECT_EQ(live->counts.spans, 30u);
  EXPECT_EQ(live->counts.traces, 4u);
  absl::StatusOr<session::SessionMetadata> done = c.StopCapture("cap");
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->status, session::SessionStatus::kCompleted);
  EXPECT_EQ(done->counts.spans, 30u);
  EXPECT_EQ(done->counts.data_points, 5u);
  EXPECT_EQ(done->counts.log_records, 2u);
  EXPECT_EQ(done->counts.trace_requests, 10u);
  EXPECT_EQ(done->diagnostic_session_id, "diag");
  EXPECT_EQ(done->enabled_flags, std::vector<std::string>{"f1"});
  absl::StatusOr<session::SessionMetadata> stored = sessions_->Load("cap");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->ToJson(), done->ToJson());  // in memory, times have nanoseconds; the file milliseconds
  absl::StatusOr<session::VerifyReport> v = sessions_->Verify("cap");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok);
  CaptureStats s = c.stats();
  EXPECT_EQ(s.signals[otlp::Signal::kTraces].recorded, 10u);
  EXPECT_EQ(s.signals[otlp::Signal::kMetrics].recorded, 1u);
}

TEST_F(CaptureServiceTest, UnrecordedRequestsAreValidatedAndAnsweredWithPartialSuccess) {
  CaptureService c(*sessions_);
  net::ExportResult r = Send(c, Signal::kTraces, TraceRequest(1, 4));
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.partial_success.rejected, 4);
  EXPECT_EQ(r.partial_success.error_message, "not recorded: no capture session is active");
  EXPECT_EQ(Send(c, Signal::kTraces, "\x0a\x05garbage").status.code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(c.StartCapture({.session_id = "m", .capture_logs = false}).ok());
  r = Send(c, Signal::kLogs, LogsRequest(3));
  EXPECT_EQ(r.partial_success.rejected, 3);
  EXPECT_EQ(r.partial_success.error_message, "not recorded: capture 'm' does not record logs");
  // JSON is normalised to protobuf before it is recorded.
  r = Send(c, Signal::kMetrics, R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","gauge":{"dataPoints":[{"asInt":"1"}]}}]}]}]})",
           session::Encoding::kJson);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(r.partial_success.empty());
  EXPECT_EQ(Send(c, Signal::kMetrics, "{", session::Encoding::kJson).status.code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<session::SessionMetadata> done = c.StopCapture("m");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->counts.data_points, 1u);
  EXPECT_EQ(done->counts.log_records, 0u);
  EXPECT_EQ(c.stats().signals[otlp::Signal::kLogs].not_recorded, 1u);
  EXPECT_EQ(c.stats().signals[otlp::Signal::kTraces].not_recorded, 1u);
  EXPECT_EQ(c.stats().signals[otlp::Signal::kMetrics].invalid, 1u);
}

TEST_F(CaptureServiceTest, OneCaptureAtATimeAndClearErrors) {
  CaptureService c(*sessions_);
  ASSERT_TRUE(c.StartCapture({.session_id = "one"}).ok());
  EXPECT_EQ(c.StartCapture({.session_id = "two"}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.StopCapture("two").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(c.StopCapture("one").ok());
  EXPECT_EQ(c.StartCapture({.session_id = "one"}).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(c.StartCapture({.session_id = "../x"}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.StartCapture({.session_id = "y", .max_size_mb = -1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.StartCapture({.session_id = "z", .capture_traces = false, .capture_metrics = false, .capture_logs = false})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<session::SessionMetadata> auto_id = c.StartCapture({});
  ASSERT_TRUE(auto_id.ok());
  EXPECT_EQ(auto_id->session_id.rfind("capture-", 0), 0u) << auto_id->session_id;
  absl::StatusOr<std::vector<session::SessionMetadata>> all = c.ListCaptureSessions();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
}

TEST_F(CaptureServiceTest, AFullQueueAnswersUnavailableWithARetryDelay) {
  // A queue of one byte: while a request is being recorded, the next ones are refused, never buffered.
  CaptureService c(*sessions_, {.max_queue_bytes = 1, .retry_after = std::chrono::milliseconds(1500)});
  ASSERT_TRUE(c.StartCapture({.session_id = "q"}).ok());
  constexpr int kRequests = 400;
  std::vector<std::promise<net::ExportResult>> results(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    c.Export({.signal = Signal::kTraces, .body = TraceRequest(i + 1, 50)},
             [&results, i](net::ExportResult r) { results[i].set_value(std::move(r)); });
  }
  int ok = 0, refused = 0;
  for (auto& p : results) {
    net::ExportResult r = p.get_future().get();
    if (r.status.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(r.status.code(), absl::StatusCode::kUnavailable);
      EXPECT_EQ(r.retry_after, std::chrono::milliseconds(1500));
      ++refused;
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(refused, 0);
  absl::StatusOr<session::SessionMetadata> done = c.StopCapture("q");
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->counts.trace_requests, static_cast<uint64_t>(ok));
  EXPECT_EQ(c.stats().signals[otlp::Signal::kTraces].overloaded, static_cast<uint64_t>(refused));
}

TEST_F(CaptureServiceTest, StopRecordsWhatWasAcceptedAndLimitsEndTheCapture) {
  CaptureService c(*sessions_);
  std::promise<session::SessionMetadata> ended;
  c.set_on_capture_ended([&ended](const session::SessionMetadata& m) { ended.set_value(m); });
  ASSERT_TRUE(c.StartCapture({.session_id = "lim", .max_size_mb = 0.002}).ok());
  EXPECT_TRUE(Send(c, Signal::kTraces, TraceRequest(1, 40)).status.ok());  // over 2000 bytes
  session::SessionMetadata m = ended.get_future().get();
  EXPECT_EQ(m.status, session::SessionStatus::kCompleted);
  EXPECT_EQ(m.status_reason, "max size 0.002 MB reached");
  EXPECT_EQ(m.counts.spans, 40u);
  EXPECT_FALSE(c.ActiveCapture().has_value());
  // Afterwards requests are answered, not recorded.
  EXPECT_EQ(Send(c, Signal::kTraces, TraceRequest(1, 2)).partial_success.rejected, 2);
  // A programmatic capture (captureOTLPData).
  ASSERT_TRUE(c.StartCapture({.session_id = "api"}).ok());
  EXPECT_TRUE(c.CaptureOtlpData("api", TraceRequest(7, 3), Signal::kTraces).ok());
  EXPECT_EQ(c.CaptureOtlpData("api", "\x0a\x02zz", Signal::kTraces).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.CaptureOtlpData("other", TraceRequest(7, 3), Signal::kTraces).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.GetCaptureStatus("api")->counts.spans, 3u);
}

}  // namespace
}  // namespace otelrr::capture
