// RunReplay against real receivers of our net library on loopback (HTTP and gRPC), with a handler that
// records what arrives and can refuse: delivery, retries, the window and cancellation. The tests without
// "Grpc" in their name also run under TSan (scripts/test): the reader thread, the sender, the HTTP
// exporter's threads and the retry thread. (Debian's gRPC and Abseil are not instrumented, and TSan
// reports their internal locking as races.)
#include "replay/replay.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "fmt/format.h"
#include "net/export_handler.h"
#include "net/grpc_receiver.h"
#include "net/http_server.h"
#include "net/otlp_http_receiver.h"
#include "session/testing/fixture.h"

namespace otelrr::replay {
namespace {

using otlp::Signal;
using session::testing::kT0;
using otlp::testing::LogsRequest;
using otlp::testing::MetricsRequest;
using otlp::testing::TraceRequest;

// Keeps every accepted body; answers `refusal` to the first attempt of every request whose signal is in
// `refuse`, and to every attempt when `always` is set.
class RecordingHandler : public net::ExportHandler {
 public:
  void Export(net::ExportRequest request, net::ExportDone done) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++attempts_[request.body];
    if (refuse_.count(request.signal) != 0 && (always_ || attempts_[request.body] == 1)) {
      lock.unlock();
      done({.status = refusal_});
      return;
    }
    accepted_.push_back(request.body);
    lock.unlock();
    done({});
  }

  void Refuse(Signal signal, absl::Status refusal, bool always) {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_[signal] = true;
    refusal_ = std::move(refusal);
    always_ = always;
  }
  std::vector<std::string> accepted() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out = accepted_;
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> attempts_;
  std::vector<std::string> accepted_;
  std::map<Signal, bool> refuse_;
  absl::Status refusal_;
  bool always_ = false;
};

class ReplayTest : public session::testing::SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    absl::StatusOr<std::unique_ptr<net::HttpServer>> http =
        net::HttpServer::Start({.address = "127.0.0.1:0"}, http_receiver_);
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = std::move(*http);
  }

  int GrpcPort() {
    if (grpc_ == nullptr) {
      absl::StatusOr<std::unique_ptr<net::GrpcReceiver>> grpc =
          net::GrpcReceiver::Start({.address = "127.0.0.1:0"}, handler_);
      EXPECT_TRUE(grpc.ok()) << grpc.status();
      if (!grpc.ok()) return 0;
      grpc_ = std::move(*grpc);
    }
    return grpc_->port();
  }

  // A session of 30 trace, 10 metrics and 10 logs records, 20 ms apart, no two alike; returns their
  // payloads, sorted.
  std::vector<std::string> WriteSession(const std::string& id) {
    auto w = NewWriter(id, Options());
    std::vector<std::string> payloads;
    for (uint64_t i = 0; i < 50; ++i) {
      Signal signal = i % 5 == 3 ? Signal::kMetrics : i % 5 == 4 ? Signal::kLogs : Signal::kTraces;
      std::string body = signal == Signal::kTraces    ? TraceRequest(i + 1, 3)
                         : signal == Signal::kMetrics ? MetricsRequest(static_cast<int>(i) + 1)
                                                      : LogsRequest(static_cast<int>(i % 4) + 1, i + 1);
      payloads.push_back(body);
      EXPECT_TRUE(w->Append(Rec(kT0 + i * 20'000'000, signal, body)).ok());
    }
    EXPECT_TRUE(w->Close(session::SessionStatus::kCompleted).ok());
    std::sort(payloads.begin(), payloads.end());
    return payloads;
  }

  ReplayConfig Config(const std::string& id, bool grpc) {
    ReplayConfig c;
    c.session_id = id;
    c.endpoint = grpc ? fmt::format("grpc://127.0.0.1:{}", GrpcPort()) : fmt::format("http://127.0.0.1:{}", http_->port());
    c.protocol = grpc ? Protocol::kGrpc : Protocol::kHttpProtobuf;
    c.timestamps = TimestampMode::kNone;
    c.speed = 0;
    c.window = 4;
    c.window_bytes = 600;  // smaller than two requests: the byte bound is what limits
    c.initial_backoff = std::chrono::milliseconds(1);
    c.max_backoff = std::chrono::milliseconds(5);
    return c;
  }

  struct CancelledRun {
    absl::StatusOr<ReplayReport> report;
    std::chrono::steady_clock::duration took;  // from the start of RunReplay to its return
  };

  // Runs the replay with `config`, cancelled from another thread `delay` after it started.
  CancelledRun RunCancelledAfter(ReplayConfig config, std::chrono::milliseconds delay) {
    Cancellation cancel;
    config.cancel = &cancel;
    std::thread stopper([&] {
      std::this_thread::sleep_for(delay);
      cancel.Cancel();
    });
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<ReplayReport> r = RunReplay(*sessions_, config);
    auto took = std::chrono::steady_clock::now() - start;
    stopper.join();
    return {std::move(r), took};
  }

  RecordingHandler handler_;
  net::OtlpHttpReceiver http_receiver_{handler_};
  std::unique_ptr<net::HttpServer> http_;
  std::unique_ptr<net::GrpcReceiver> grpc_;
};

void ExpectEveryRecordOnce(RecordingHandler& handler, const std::vector<std::string>& payloads,
                           const absl::StatusOr<ReplayReport>& r) {
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sent_requests(), 50u);
  EXPECT_EQ(r->failed_requests(), 0u);
  EXPECT_EQ(r->retries(), 0u);
  EXPECT_EQ(r->records_processed, 50u);
  EXPECT_EQ(r->signals[otlp::Signal::kTraces].items, 30u * 3);
  EXPECT_EQ(handler.accepted(), payloads);
}

TEST_F(ReplayTest, EveryRecordArrivesOnceOverHttp) {
  std::vector<std::string> payloads = WriteSession("s");
  ExpectEveryRecordOnce(handler_, payloads, RunReplay(*sessions_, Config("s", false)));
}

// Records that are no stored session (seed --live-only): fed through a pipe by a producer thread, they
// arrive exactly as the stored session's do.
TEST_F(ReplayTest, RecordsFromAPipeArriveAsTheSessionsDo) {
  std::vector<std::string> payloads = WriteSession("s");
  absl::StatusOr<session::SessionMetadata> metadata = sessions_->Load("s");
  ASSERT_TRUE(metadata.ok());
  session::RecordPipe pipe({.max_records = 2, .max_bytes = 1 << 20});  // the producer waits on the sender
  std::thread producer([&] {
    absl::StatusOr<std::unique_ptr<session::SessionReader>> reader = sessions_->OpenReader("s", {});
    session::Record record;
    while (reader.ok() && *(*reader)->Next(&record)) {
      if (!pipe.Push(std::move(record))) return;
    }
    pipe.Finish();
  });
  ReplayDependencies deps{.metadata = &*metadata,
                          .open_records = [&pipe]() -> absl::StatusOr<std::unique_ptr<RecordStream>> {
                            struct Borrowed : RecordStream {
                              explicit Borrowed(session::RecordPipe& p) : pipe(p) {}
                              absl::StatusOr<bool> Next(session::Record* out) override { return pipe.Next(out); }
                              session::RecordPipe& pipe;
                            };
                            return std::unique_ptr<RecordStream>(std::make_unique<Borrowed>(pipe));
                          }};
  ExpectEveryRecordOnce(handler_, payloads, RunReplayOfRecords(Config("live", false), deps));
  producer.join();
  // Both or neither: RunReplay takes a stored session, RunReplayOfRecords records.
  EXPECT_EQ(RunReplay(*sessions_, Config("s", false), deps).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunReplayOfRecords(Config("s", false), {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RecordPipeTest, AProducerWaitsForRoomStopsWhenClosedAndItsErrorReachesTheConsumer) {
  session::RecordPipe pipe({.max_records = 2, .max_bytes = 100});
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (int i = 0; i < 10; ++i) {
      if (!pipe.Push({.sequence = static_cast<uint64_t>(i), .payload = std::string(10, 'x')})) return;
      ++pushed;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(pushed.load(), 2);  // full: it waits
  session::Record r;
  ASSERT_TRUE(*pipe.Next(&r));
  EXPECT_EQ(r.sequence, 0u);
  pipe.Close();  // the consumer stops: the producer's next Push fails instead of waiting
  producer.join();
  EXPECT_LE(pushed.load(), 3);

  session::RecordPipe failing;
  std::thread p2([&] {
    ASSERT_TRUE(failing.Push({.sequence = 7, .payload = std::string(1 << 22, 'y')}));  // larger than max_bytes: let through
    failing.Finish(absl::DataLossError("file cut short"));
  });
  ASSERT_TRUE(*failing.Next(&r));
  EXPECT_EQ(r.sequence, 7u);
  absl::StatusOr<bool> end = failing.Next(&r);
  EXPECT_EQ(end.status().code(), absl::StatusCode::kDataLoss);
  p2.join();
}

TEST_F(ReplayTest, EveryRecordArrivesOnceOverGrpc) {
  std::vector<std::string> payloads = WriteSession("s");
  ExpectEveryRecordOnce(handler_, payloads, RunReplay(*sessions_, Config("s", true)));
}

TEST_F(ReplayTest, RefusedRequestsAreRetriedAndArriveExactlyOnce) {
  std::vector<std::string> payloads = WriteSession("s");
  for (Signal s : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) handler_.Refuse(s, absl::UnavailableError("busy"), false);
  absl::StatusOr<ReplayReport> r = RunReplay(*sessions_, Config("s", false));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->failed_requests(), 0u);
  EXPECT_EQ(r->retries(), 50u);
  EXPECT_EQ(handler_.accepted(), payloads);
}

TEST_F(ReplayTest, RequestsThatCannotSucceedAreNotRetried) {
  WriteSession("s");
  handler_.Refuse(Signal::kMetrics, absl::InvalidArgumentError("no metrics here"), true);
  absl::StatusOr<ReplayReport> r = RunReplay(*sessions_, Config("s", false));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->signals[otlp::Signal::kMetrics].failed_requests, 10u);
  EXPECT_EQ(r->retries(), 0u);
  EXPECT_EQ(r->signals[otlp::Signal::kTraces].accepted_requests + r->signals[otlp::Signal::kLogs].accepted_requests, 40u);
  EXPECT_NE(r->first_error.find("no metrics here"), std::string::npos) << r->first_error;
}

TEST_F(ReplayTest, CancelStopsASlowReplayAtOnce) {
  WriteSession("s");
  ReplayConfig c = Config("s", false);
  c.speed = 0.01;  // the session's 1 s would take 100 s
  auto [r, took] = RunCancelledAfter(c, std::chrono::milliseconds(300));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_EQ(r->end, ReplayEnd::kCancelled);
  EXPECT_GE(r->sent_requests(), 1u);  // the first record is due at once
  EXPECT_LT(r->sent_requests(), 50u);
  EXPECT_EQ(r->failed_requests(), 0u);
}

// A listener that completes TCP handshakes (the kernel does) but never reads or answers: a stalled target.
class StalledTarget {
 public:
  StalledTarget() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 128), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~StalledTarget() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The defect this guards: a replay to an unreachable target ignored Ctrl-C for a minute (its requests
// waited for connection attempts and retries), and the API's stop blocked as long.
TEST_F(ReplayTest, CancelCutsOffConnectionAttemptsAndRetriesAtOnce) {
  WriteSession("s");
  int dead_port;
  {
    StalledTarget closed;  // a port that was free a moment ago: connections are refused
    dead_port = closed.port();
  }
  StalledTarget stalled;
  for (int port : {dead_port, stalled.port()}) {
    ReplayConfig c = Config("s", false);
    c.endpoint = fmt::format("http://127.0.0.1:{}", port);
    c.initial_backoff = c.max_backoff = std::chrono::milliseconds(200);
    c.timeout = std::chrono::seconds(30);
    auto [r, took] = RunCancelledAfter(c, std::chrono::milliseconds(300));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_LT(took, std::chrono::milliseconds(800)) << "port " << port;
    EXPECT_EQ(r->end, ReplayEnd::kCancelled);
    EXPECT_EQ(r->accepted_requests(), 0u);
    EXPECT_GT(r->abandoned_requests(), 0u);
    EXPECT_EQ(r->abandoned_requests() + r->failed_requests(), r->sent_requests());
  }
}

}  // namespace
}  // namespace otelrr::replay
