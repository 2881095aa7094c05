// The gRPC receiver and client against each other: a real server and a real client over loopback.
#include "net/grpc_receiver.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fmt/format.h"
#include "gtest/gtest.h"
#include "net/grpc_client.h"
#include "otlp/testing/requests.h"

namespace otelrr::net {
namespace {

using namespace std::chrono_literals;
using otlp::Signal;
using otlp::testing::LogsRequest;
using otlp::testing::MetricsRequest;
using otlp::testing::TraceRequest;

uint64_t NowUnixNano() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

PartialSuccess Partial(int64_t rejected, std::string message) {
  PartialSuccess p;
  p.rejected = rejected;
  p.error_message = std::move(message);
  return p;
}

ExportResult Accepted(PartialSuccess partial) {
  ExportResult r;
  r.partial_success = std::move(partial);
  return r;
}

ExportResult Refused(absl::Status status, std::chrono::milliseconds retry_after = 0ms) {
  ExportResult r;
  r.status = std::move(status);
  r.retry_after = retry_after;
  return r;
}

// Records every request and answers as `answer` says (by default: OK at once).
class TestHandler : public ExportHandler {
 public:
  std::function<void(const ExportRequest&, ExportDone)> answer = [](const ExportRequest&, ExportDone done) {
    done({});
  };

  void Export(ExportRequest request, ExportDone done) override {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      arrived_.notify_all();
    }
    answer(request, std::move(done));
  }

  std::vector<ExportRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // Waits until `n` requests have arrived; false after 5 s.
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return arrived_.wait_for(lock, 5s, [&] { return requests_.size() >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable arrived_;
  std::vector<ExportRequest> requests_;
};

// Answers stored for a test to give later, from its own thread.
class HeldAnswers {
 public:
  void Hold(ExportDone done) {
    std::lock_guard lock(mu_);
    held_.push_back(std::move(done));
  }
  std::vector<ExportDone> Take() {
    std::lock_guard lock(mu_);
    return std::move(held_);
  }

 private:
  std::mutex mu_;
  std::vector<ExportDone> held_;
};

class GrpcReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override { StartReceiver({.address = "127.0.0.1:0"}); }

  void StartReceiver(GrpcReceiverOptions options) {
    receiver_.reset();
    absl::StatusOr<std::unique_ptr<GrpcReceiver>> r = GrpcReceiver::Start(std::move(options), handler_);
    ASSERT_TRUE(r.ok()) << r.status();
    receiver_ = std::move(*r);
    ASSERT_GT(receiver_->port(), 0);
  }

  std::unique_ptr<GrpcExporter> Exporter(bool gzip = false) {
    absl::StatusOr<std::unique_ptr<GrpcExporter>> e =
        GrpcExporter::Create({.target = receiver_->address(), .gzip = gzip, .timeout = 5s});
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? std::move(*e) : nullptr;
  }

  // The handler is declared first so that it outlives the receiver.
  TestHandler handler_;
  std::unique_ptr<GrpcReceiver> receiver_;
};

TEST_F(GrpcReceiverTest, EachSignalReachesTheHandlerWithItsExactBytes) {
  auto exporter = Exporter();
  const std::vector<std::pair<Signal, std::string>> sent = {
      {Signal::kTraces, TraceRequest(7, 3)},
      {Signal::kMetrics, MetricsRequest(2)},
      {Signal::kLogs, LogsRequest(4, 9)},
  };
  uint64_t before = NowUnixNano();
  for (const auto& [signal, body] : sent) {
    GrpcExportResult r = exporter->Export(signal, body);
    EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;
    EXPECT_EQ(r.response, "");  // full success: an empty Export*ServiceResponse
    EXPECT_EQ(r.retry_after, 0ms);
  }
  uint64_t after = NowUnixNano();

  std::vector<ExportRequest> got = handler_.requests();
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].signal, sent[i].first);
    EXPECT_EQ(got[i].body, sent[i].second);
    EXPECT_EQ(got[i].transport, otlp::Transport::kGrpc);
    EXPECT_EQ(got[i].encoding, otlp::Encoding::kProtobuf);
    EXPECT_GE(got[i].arrival_unix_nano, before);
    EXPECT_LE(got[i].arrival_unix_nano, after);
    EXPECT_TRUE(got[i].peer.starts_with("127.0.0.1:")) << got[i].peer;
  }
  GrpcReceiverStats stats = receiver_->stats();
  EXPECT_EQ(stats.requests, 3u);
  EXPECT_EQ(stats.ok, 3u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST_F(GrpcReceiverTest, AnEmptyRequestMessageIsStillARequest) {
  auto exporter = Exporter();
  GrpcExportResult r = exporter->Export(Signal::kTraces, "");
  EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;
  ASSERT_EQ(handler_.requests().size(), 1u);
  EXPECT_EQ(handler_.requests()[0].body, "");
}

TEST_F(GrpcReceiverTest, OkCarriesThePartialSuccessResponse) {
  handler_.answer = [](const ExportRequest&, ExportDone done) {
    done(Accepted(Partial(2, "2 spans too old")));
  };
  auto exporter = Exporter();
  for (Signal signal : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
    GrpcExportResult r = exporter->Export(signal, TraceRequest(1, 1));
    EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;
    // ExportTraceServiceResponse {1: ExportTracePartialSuccess {1: 2, 2: "2 spans too old"}}
    EXPECT_EQ(r.response, std::string("\x0a\x13\x08\x02\x12\x0f" "2 spans too old", 21));
    EXPECT_EQ(r.response, EncodeExportResponse(signal, Partial(2, "2 spans too old")));
  }
}

TEST_F(GrpcReceiverTest, InvalidArgumentArrivesWithItsMessage) {
  handler_.answer = [](const ExportRequest&, ExportDone done) {
    done(Refused(absl::InvalidArgumentError("span 3: trace id is 15 bytes")));
  };
  GrpcExportResult r = Exporter()->Export(Signal::kTraces, TraceRequest(1, 1));
  EXPECT_EQ(r.code, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.message, "span 3: trace id is 15 bytes");
  EXPECT_EQ(r.retry_after, 0ms);
  EXPECT_EQ(r.status(), absl::InvalidArgumentError("span 3: trace id is 15 bytes"));
  EXPECT_EQ(receiver_->stats().failed, 1u);
}

TEST_F(GrpcReceiverTest, UnavailableAndResourceExhaustedCarryRetryInfo) {
  handler_.answer = [](const ExportRequest& request, ExportDone done) {
    if (request.signal == Signal::kTraces) {
      done(Refused(absl::UnavailableError("disk full, try later"), 1500ms));
    } else if (request.signal == Signal::kMetrics) {
      done(Refused(absl::ResourceExhaustedError("queue full"), 3s));
    } else {
      done(Refused(absl::UnavailableError("no retry hint")));
    }
  };
  auto exporter = Exporter();
  GrpcExportResult traces = exporter->Export(Signal::kTraces, TraceRequest(1, 1));
  EXPECT_EQ(traces.code, absl::StatusCode::kUnavailable);
  EXPECT_EQ(traces.message, "disk full, try later");
  EXPECT_EQ(traces.retry_after, 1500ms);

  GrpcExportResult metrics = exporter->Export(Signal::kMetrics, MetricsRequest(1));
  EXPECT_EQ(metrics.code, absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(metrics.retry_after, 3s);

  GrpcExportResult logs = exporter->Export(Signal::kLogs, LogsRequest(1));
  EXPECT_EQ(logs.code, absl::StatusCode::kUnavailable);
  EXPECT_EQ(logs.retry_after, 0ms);
}

TEST_F(GrpcReceiverTest, OtherErrorsKeepTheirCode) {
  handler_.answer = [](const ExportRequest&, ExportDone done) {
    done(Refused(absl::InternalError("store broke"), 1s));
  };
  GrpcExportResult r = Exporter()->Export(Signal::kLogs, LogsRequest(1));
  EXPECT_EQ(r.code, absl::StatusCode::kInternal);
  EXPECT_EQ(r.message, "store broke");
  EXPECT_EQ(r.retry_after, 0ms);  // RetryInfo only with UNAVAILABLE and RESOURCE_EXHAUSTED
}

TEST_F(GrpcReceiverTest, GzipRequestsArriveDecompressed) {
  std::string body;
  while (body.size() < (1u << 20)) body += TraceRequest(body.size() + 1, 5);
  GrpcExportResult r = Exporter(/*gzip=*/true)->Export(Signal::kTraces, body);
  EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;
  ASSERT_EQ(handler_.requests().size(), 1u);
  EXPECT_TRUE(handler_.requests()[0].body == body);
}

TEST_F(GrpcReceiverTest, MessagesOverTheLimitAreRejectedByGrpc) {
  StartReceiver({.address = "127.0.0.1:0", .max_receive_message_bytes = 4096});
  auto exporter = Exporter();
  EXPECT_EQ(exporter->Export(Signal::kLogs, std::string(4000, 'x')).code, absl::StatusCode::kOk);
  GrpcExportResult r = exporter->Export(Signal::kLogs, std::string(5000, 'x'));
  EXPECT_EQ(r.code, absl::StatusCode::kResourceExhausted) << r.message;
  EXPECT_EQ(handler_.requests().size(), 1u);

  // The limit holds for the decompressed size: 1 MiB of one byte gzips to about 1 KiB.
  GrpcExportResult bomb = Exporter(/*gzip=*/true)->Export(Signal::kLogs, std::string(1u << 20, 'x'));
  EXPECT_EQ(bomb.code, absl::StatusCode::kResourceExhausted) << bomb.message;
  EXPECT_EQ(handler_.requests().size(), 1u);
}

TEST_F(GrpcReceiverTest, UnknownMethodsAreUnimplemented) {
  auto exporter = Exporter();
  std::promise<GrpcExportResult> answer;
  exporter->CallAsync("/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export", "x",
                      [&](GrpcExportResult r) { answer.set_value(std::move(r)); });
  GrpcExportResult r = answer.get_future().get();
  EXPECT_EQ(r.code, absl::StatusCode::kUnimplemented);
  EXPECT_NE(r.message.find("ProfilesService"), std::string::npos) << r.message;
  EXPECT_TRUE(handler_.requests().empty());
  EXPECT_EQ(receiver_->stats().unimplemented, 1u);
}

TEST_F(GrpcReceiverTest, TheHandlerMayAnswerLaterFromAnotherThread) {
  HeldAnswers held;
  handler_.answer = [&](const ExportRequest&, ExportDone done) { held.Hold(std::move(done)); };
  std::thread answerer([&] {
    ASSERT_TRUE(handler_.WaitFor(1));
    std::this_thread::sleep_for(50ms);
    for (ExportDone& done : held.Take()) done(Accepted(Partial(1, "")));
  });
  GrpcExportResult r = Exporter()->Export(Signal::kMetrics, MetricsRequest(3));
  answerer.join();
  EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;
  EXPECT_EQ(r.response, EncodeExportResponse(Signal::kMetrics, Partial(1, "")));
}

TEST_F(GrpcReceiverTest, ManyConcurrentCallsAreAllAnswered) {
  // Half the answers come at once, half later from a separate thread.
  HeldAnswers held;
  std::atomic<bool> stop{false};
  handler_.answer = [&](const ExportRequest& request, ExportDone done) {
    if (request.body.size() % 2 == 0) {
      done({});
    } else {
      held.Hold(std::move(done));
    }
  };
  std::thread answerer([&] {
    while (!stop) {
      for (ExportDone& done : held.Take()) done({});
      std::this_thread::sleep_for(1ms);
    }
  });
  auto exporter = Exporter();
  constexpr int kThreads = 4, kCallsPerThread = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      std::vector<std::future<GrpcExportResult>> pending;
      for (int i = 0; i < kCallsPerThread; ++i) {
        auto answer = std::make_shared<std::promise<GrpcExportResult>>();
        pending.push_back(answer->get_future());
        // Bodies differ in content and length: "t-i" padded by i.
        exporter->ExportAsync(Signal::kLogs, fmt::format("{}-{}{}", t, i, std::string(static_cast<size_t>(i), '.')),
                              [answer](GrpcExportResult r) { answer->set_value(std::move(r)); });
      }
      for (auto& f : pending) {
        if (f.get().ok()) ++ok;
      }
    });
  }
  for (std::thread& s : senders) s.join();
  stop = true;
  answerer.join();
  EXPECT_EQ(ok.load(), kThreads * kCallsPerThread);
  std::set<std::string> bodies;
  for (const ExportRequest& r : handler_.requests()) bodies.insert(r.body);
  EXPECT_EQ(bodies.size(), static_cast<size_t>(kThreads * kCallsPerThread));
  EXPECT_EQ(receiver_->stats().ok, static_cast<uint64_t>(kThreads * kCallsPerThread));
}

TEST_F(GrpcReceiverTest, ShutdownWaitsForTheAnswerOfACallInFlight) {
  HeldAnswers held;
  handler_.answer = [&](const ExportRequest&, ExportDone done) { held.Hold(std::move(done)); };
  auto exporter = Exporter();
  std::promise<GrpcExportResult> answer;
  exporter->ExportAsync(Signal::kTraces, TraceRequest(1, 1),
                        [&](GrpcExportResult r) { answer.set_value(std::move(r)); });
  ASSERT_TRUE(handler_.WaitFor(1));

  std::atomic<bool> shut{false};
  std::thread shutdown([&] {
    receiver_->Shutdown(5s);
    shut = true;
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(shut.load()) << "Shutdown returned with a call unanswered";
  for (ExportDone& done : held.Take()) done(Accepted(Partial(0, "late")));
  shutdown.join();
  EXPECT_TRUE(shut.load());
  GrpcExportResult r = answer.get_future().get();
  EXPECT_EQ(r.code, absl::StatusCode::kOk) << r.message;
  EXPECT_EQ(r.response, EncodeExportResponse(Signal::kTraces, Partial(0, "late")));

  // No longer listening.
  EXPECT_NE(exporter->Export(Signal::kTraces, TraceRequest(1, 1)).code, absl::StatusCode::kOk);
}

TEST_F(GrpcReceiverTest, ShutdownCancelsCallsStillUnansweredAfterTheGrace) {
  HeldAnswers held;
  handler_.answer = [&](const ExportRequest&, ExportDone done) { held.Hold(std::move(done)); };
  auto exporter = Exporter();
  std::promise<GrpcExportResult> answer;
  exporter->ExportAsync(Signal::kLogs, LogsRequest(1),
                        [&](GrpcExportResult r) { answer.set_value(std::move(r)); });
  ASSERT_TRUE(handler_.WaitFor(1));
  auto start = std::chrono::steady_clock::now();
  receiver_->Shutdown(100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // gRPC resets the stream or closes the connection: the client sees one of two codes, both of which
  // OTLP clients retry.
  absl::StatusCode code = answer.get_future().get().code;
  EXPECT_TRUE(code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kCancelled) << code;
  EXPECT_EQ(receiver_->stats().cancelled, 1u);
  // The handler answering after the call ended is harmless, even once the receiver is gone.
  receiver_.reset();
  for (ExportDone& done : held.Take()) done({});
}

TEST_F(GrpcReceiverTest, AnAddressInUseIsAClearError) {
  std::string address = receiver_->address();
  TestHandler other;
  absl::StatusOr<std::unique_ptr<GrpcReceiver>> second = GrpcReceiver::Start({.address = address}, other);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(address), std::string::npos) << second.status();
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status();
  // The first receiver still serves.
  EXPECT_EQ(Exporter()->Export(Signal::kTraces, TraceRequest(1, 1)).code, absl::StatusCode::kOk);
}

TEST_F(GrpcReceiverTest, AMalformedAddressIsInvalidArgument) {
  TestHandler other;
  for (std::string address : {"127.0.0.1", "127.0.0.1:70000", ":4317", "::1:4317", "127.0.0.1:x"}) {
    absl::StatusOr<std::unique_ptr<GrpcReceiver>> r = GrpcReceiver::Start({.address = address}, other);
    ASSERT_FALSE(r.ok()) << address;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    EXPECT_NE(r.status().message().find(address), std::string::npos) << r.status();
  }
}

TEST_F(GrpcReceiverTest, ANonLocalAddressIsUnavailable) {
  TestHandler other;
  // TEST-NET-1 (RFC 5737): never assigned to this machine.
  absl::StatusOr<std::unique_ptr<GrpcReceiver>> r = GrpcReceiver::Start({.address = "192.0.2.1:0"}, other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("192.0.2.1:0"), std::string::npos) << r.status();
}

TEST_F(GrpcReceiverTest, NoServerMeansUnavailable) {
  receiver_->Shutdown(0ms);
  GrpcExportResult r = Exporter()->Export(Signal::kTraces, TraceRequest(1, 1));
  EXPECT_EQ(r.code, absl::StatusCode::kUnavailable) << r.message;
}

TEST(RetryDelayFromStatusDetailsTest, ReadsWhatEncodeRpcStatusWrites) {
  EXPECT_EQ(RetryDelayFromStatusDetails(EncodeRpcStatus(14, "busy", 1500ms)), 1500ms);
  EXPECT_EQ(RetryDelayFromStatusDetails(EncodeRpcStatus(8, "", 42s)), 42s);
  EXPECT_EQ(RetryDelayFromStatusDetails(EncodeRpcStatus(14, "busy", 0ms)), 0ms);
  EXPECT_EQ(RetryDelayFromStatusDetails(""), 0ms);
  // Truncated bytes are not a delay.
  std::string full = EncodeRpcStatus(14, "busy", 1500ms);
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(RetryDelayFromStatusDetails(std::string_view(full).substr(0, n)), 0ms) << n;
  }
}

}  // namespace
}  // namespace otelrr::net
