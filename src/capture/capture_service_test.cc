#include "capture/capture_service.h"

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "gtest/gtest.h"
#include "session/recover.h"
#include "session/testing/fixture.h"
#include "store/testing/forwarding_store.h"

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

// A store whose disk fails on cue. kFull, as a file system out of space: an append writes part of its data and
// fails with ENOSPC, as does a whole-object write (metadata.json), while opening an empty file, cutting one back
// and deleting one (which free space) still work. kReadOnly, as a file system the kernel remounts read-only
// after an error (ext4 errors=remount-ro): every write fails with EROFS, through files already open too,
// cuts and deletes included.
class FaultyDisk : public store::testing::ForwardingStore {
 public:
  enum class State { kOk, kFull, kReadOnly };
  using ForwardingStore::ForwardingStore;
  std::atomic<State> state{State::kOk};

  absl::Status Put(std::string_view key, std::string_view data) override {
    return state != State::kOk ? Refused(key) : ForwardingStore::Put(key, data);
  }
  absl::StatusOr<std::unique_ptr<store::ObjectWriter>> Create(std::string_view key) override {
    if (state == State::kReadOnly) return Refused(key);
    absl::StatusOr<std::unique_ptr<store::ObjectWriter>> w = ForwardingStore::Create(key);
    if (!w.ok()) return w.status();
    return std::unique_ptr<store::ObjectWriter>(std::make_unique<Writer>(std::move(*w), *this, std::string(key)));
  }
  absl::Status Truncate(std::string_view key, uint64_t size) override {
    return state == State::kReadOnly ? Refused(key) : ForwardingStore::Truncate(key, size);
  }
  absl::Status Delete(std::string_view key) override {
    return state == State::kReadOnly ? Refused(key) : ForwardingStore::Delete(key);
  }

 private:
  absl::Status Refused(std::string_view key) const {
    return absl::InternalError(fmt::format(
        "writing {}: {}", key, state == State::kFull ? "No space left on device" : "Read-only file system"));
  }
  class Writer : public store::ObjectWriter {
   public:
    Writer(std::unique_ptr<store::ObjectWriter> inner, const FaultyDisk& disk, std::string key)
        : inner_(std::move(inner)), disk_(disk), key_(std::move(key)) {}
    absl::Status Append(std::string_view data) override {
      if (disk_.state == State::kOk) return inner_->Append(data);
      // What fitted is written (a short write), then the error.
      if (disk_.state == State::kFull) (void)inner_->Append(data.substr(0, data.size() / 2));
      return disk_.Refused(key_);
    }
    absl::Status Sync() override { return disk_.state == State::kReadOnly ? disk_.Refused(key_) : inner_->Sync(); }
    absl::Status Close() override {
      absl::Status closed = inner_->Close();  // the file as written so far stays
      return disk_.state == State::kReadOnly ? disk_.Refused(key_) : closed;
    }
    uint64_t size() const override { return inner_->size(); }

   private:
    std::unique_ptr<store::ObjectWriter> inner_;
    const FaultyDisk& disk_;
    std::string key_;
  };
};

TEST_F(CaptureServiceTest, AFullDiskPausesRecordingWhichResumesOnceThereIsSpaceKeepingExactlyTheAcknowledged) {
  FaultyDisk disk(*store_);
  session::SessionStore sessions(disk);
  CaptureService c(sessions, {.retry_after = std::chrono::milliseconds(50)});
  ASSERT_TRUE(c.StartCapture({.session_id = "full", .fsync = true}).ok());
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(Send(c, Signal::kTraces, TraceRequest(i, 3)).status.ok());
  disk.state = FaultyDisk::State::kFull;
  // The write that fails is refused for a retry later; so is every request while the disk stays full. The
  // capture goes on.
  for (int i = 0; i < 5; ++i) {
    net::ExportResult refused = Send(c, Signal::kTraces, TraceRequest(100 + i, 3));
    EXPECT_EQ(refused.status.code(), absl::StatusCode::kUnavailable) << refused.status;
    EXPECT_EQ(refused.retry_after, std::chrono::milliseconds(50));
    EXPECT_NE(refused.status.message().find("No space left on device"), std::string::npos) << refused.status;
    if (i % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(60));  // some tries reach the disk
  }
  EXPECT_EQ(c.ActiveCapture(), "full");
  absl::StatusOr<session::SessionMetadata> live = c.GetCaptureStatus("full");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->status, session::SessionStatus::kActive);
  EXPECT_NE(live->status_reason.find("recording paused: "), std::string::npos) << live->status_reason;
  EXPECT_EQ(live->counts.trace_requests, 10u);
  // Space again: after at most one retry delay, requests are recorded again.
  disk.state = FaultyDisk::State::kOk;
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  for (int i = 11; i <= 15; ++i) ASSERT_TRUE(Send(c, Signal::kTraces, TraceRequest(i, 3)).status.ok()) << i;
  EXPECT_TRUE(Send(c, Signal::kLogs, LogsRequest(2)).status.ok());
  absl::StatusOr<session::SessionMetadata> done = c.StopCapture("full");
  ASSERT_TRUE(done.ok()) << done.status();
  // Exactly the acknowledged requests, counted exactly; the pause is written down.
  EXPECT_EQ(done->status, session::SessionStatus::kCompleted);
  EXPECT_NE(done->status_reason.find("recording paused 1 time by storage errors"), std::string::npos)
      << done->status_reason;
  EXPECT_NE(done->status_reason.find("No space left on device"), std::string::npos) << done->status_reason;
  EXPECT_NE(done->status_reason.find("5 requests were refused"), std::string::npos) << done->status_reason;
  EXPECT_EQ(done->counts.trace_requests, 15u);
  EXPECT_EQ(done->counts.spans, 45u);
  EXPECT_EQ(done->counts.traces, 15u);
  EXPECT_EQ(done->counts.log_requests, 1u);
  std::vector<session::Record> records = ReadAll("full");
  ASSERT_EQ(records.size(), 16u);
  for (size_t i = 0; i < 15; ++i) {
    EXPECT_EQ(records[i].payload, TraceRequest(static_cast<uint64_t>(i) + 1, 3)) << i;
    EXPECT_EQ(records[i].sequence, i);
  }
  absl::StatusOr<session::VerifyReport> v = sessions_->Verify("full");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->ok);
}

TEST_F(CaptureServiceTest, AStoreTurningReadOnlyIsAnsweredUnavailableAndLosesNothingAcknowledged) {
  FaultyDisk faulty(*store_);
  session::SessionStore sessions(faulty);
  std::promise<session::SessionMetadata> ended;
  CaptureService c(sessions, {.retry_after = std::chrono::milliseconds(2000)});
  c.set_on_capture_ended([&](const session::SessionMetadata& m) { ended.set_value(m); });
  ASSERT_TRUE(c.StartCapture({.session_id = "ro", .fsync = true}).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Send(c, Signal::kTraces, TraceRequest(i + 1, 3)).status.ok());
  faulty.state = FaultyDisk::State::kReadOnly;
  // The first write that fails: refused for a retry later (never acknowledged), and the capture ends itself.
  net::ExportResult refused = Send(c, Signal::kTraces, TraceRequest(99, 3));
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kUnavailable) << refused.status;
  EXPECT_EQ(refused.retry_after, std::chrono::milliseconds(2000));
  EXPECT_NE(refused.status.message().find("Read-only file system"), std::string::npos) << refused.status;
  session::SessionMetadata m = ended.get_future().get();
  EXPECT_EQ(m.status, session::SessionStatus::kFailed);
  EXPECT_NE(m.status_reason.find("Read-only file system"), std::string::npos) << m.status_reason;
  // The service lives on: a request now is answered (not recorded: no capture), and a new capture is refused
  // with the store's error while it stays read-only.
  EXPECT_FALSE(c.ActiveCapture());
  EXPECT_FALSE(c.StartCapture({.session_id = "ro2"}).ok());

  // The disk is writable again (an operator fixed and remounted it): recovery keeps every acknowledged request.
  faulty.state = FaultyDisk::State::kOk;
  absl::StatusOr<session::RecoveryReport> r = session::RecoverInterruptedSessions(*store_);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->sessions.size(), 1u);
  EXPECT_EQ(r->sessions[0].outcome, session::RecoveryOutcome::kRecovered);
  absl::StatusOr<session::SessionMetadata> recovered = sessions_->Load("ro");
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->counts.trace_requests, 20u);
  EXPECT_EQ(recovered->counts.traces, 20u);
  absl::StatusOr<session::VerifyReport> v = sessions_->Verify("ro");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok);
  EXPECT_TRUE(c.StartCapture({.session_id = "ro3"}).ok());
  EXPECT_TRUE(c.StopCapture("ro3").ok());
}

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
