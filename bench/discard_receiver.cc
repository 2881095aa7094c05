// otelrr_discard_receiver: the cheapest honest OTLP sink, for measuring a sender (bench/replay-bench
// drives it in front of `otelrr replay`). Not installed.
//
//   build-bench/bench/otelrr_discard_receiver --http 127.0.0.1:0 --grpc 127.0.0.1:0
//   stderr: otelrr_discard_receiver: OTLP/HTTP on 127.0.0.1:40123, OTLP/gRPC on 127.0.0.1:40125; pid 4242
//   ... send OTLP to it, then kill -TERM 4242; stdout: {"requests": ..., "bytes": ..., ...}
//
// "Honest": the requests go through the same transports `otelrr capture` uses (net::HttpServer +
// net::OtlpHttpReceiver for OTLP/HTTP, net::GrpcReceiver for OTLP/gRPC), so the sender pays the real
// protocol: HTTP/1.1 or HTTP/2 framing, the body read in full, a real Export*ServiceResponse back.
// "Cheapest": behind them an ExportHandler that answers success at once and never looks at the body;
// it only counts requests and body bytes per signal. The receiver therefore measures nothing about
// validation or storage: what it costs is transport alone, which is what a sender benchmark wants to
// subtract.
//
// --count adds one thing: every protobuf body is walked (otlp::Summarize, the validating walker capture
// uses) to count its spans, data points and log records, so a benchmark can report delivered items
// rather than what a sender claims (bench/run: telemetrygen and the Collector say nothing per item).
// That walk costs the receiver ~1 ms per MB and is off by default. With --expect N as well, the moment
// the count of items reaches N is printed on stderr as
//   otelrr_discard_receiver: 1000000 items at 12345.678901 (CLOCK_MONOTONIC s)
// so a script can time a sender that does not exit by itself (a Collector) to its last delivered item.
// The JSON summary also holds the CLOCK_MONOTONIC times of the first and the last request.
//
// SIGINT or SIGTERM stops it: the receivers are shut down (requests in flight answered first), the
// counts are printed as one JSON object on stdout, and it exits 0.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "CLI/CLI.hpp"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "net/export_handler.h"
#include "net/grpc_receiver.h"
#include "net/http_server.h"
#include "net/otlp_http_receiver.h"
#include "otlp/schema.h"
#include "otlp/wire.h"

namespace otelrr::bench {
namespace {

double MonotonicSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Answers every request with success, at once, on the receiver's thread; counts what it was given.
class DiscardHandler : public net::ExportHandler {
 public:
  DiscardHandler(bool count_items, uint64_t expect_items) : count_items_(count_items), expect_items_(expect_items) {}

  void Export(net::ExportRequest request, net::ExportDone done) override {
    const double now = MonotonicSeconds();
    {
      std::lock_guard<std::mutex> lock(times_mu_);
      if (first_request_ == 0) first_request_ = now;
      last_request_ = now;
    }
    Counts& c = counts_[request.signal];
    c.requests.fetch_add(1, std::memory_order_relaxed);
    c.bytes.fetch_add(request.body.size(), std::memory_order_relaxed);
    if (count_items_) {
      absl::StatusOr<otlp::RequestSummary> summary;
      if (request.encoding == otlp::Encoding::kProtobuf) summary = otlp::Summarize(request.signal, request.body);
      if (request.encoding != otlp::Encoding::kProtobuf || !summary.ok()) {
        c.uncounted.fetch_add(1, std::memory_order_relaxed);
      } else {
        c.items.fetch_add(summary->items(), std::memory_order_relaxed);
        const uint64_t total = items_.fetch_add(summary->items(), std::memory_order_relaxed) + summary->items();
        if (expect_items_ > 0 && total >= expect_items_ && !expect_reported_.exchange(true)) {
          std::fprintf(stderr, "otelrr_discard_receiver: %llu items at %.6f\n", static_cast<unsigned long long>(total),
                       MonotonicSeconds());
          std::fflush(stderr);
        }
      }
    }
    done({});
  }

  uint64_t requests(otlp::Signal s) const { return counts_[s].requests.load(); }
  uint64_t bytes(otlp::Signal s) const { return counts_[s].bytes.load(); }
  uint64_t items(otlp::Signal s) const { return counts_[s].items.load(); }
  uint64_t uncounted(otlp::Signal s) const { return counts_[s].uncounted.load(); }
  bool count_items() const { return count_items_; }
  std::pair<double, double> request_times() {
    std::lock_guard<std::mutex> lock(times_mu_);
    return {first_request_, last_request_};
  }

 private:
  struct Counts {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> items{0};
    std::atomic<uint64_t> uncounted{0};  // JSON or malformed bodies, with --count
  };
  const bool count_items_;
  const uint64_t expect_items_;
  otlp::PerSignal<Counts> counts_;
  std::atomic<uint64_t> items_{0};
  std::atomic<bool> expect_reported_{false};
  std::mutex times_mu_;
  double first_request_ = 0;
  double last_request_ = 0;
};

struct Flags {
  std::string http = "127.0.0.1:0";
  std::string grpc = "127.0.0.1:0";
  int http_threads = 2;
  bool count = false;
  uint64_t expect = 0;
};

double Seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

int Run(const Flags& f) {
  // SIGINT and SIGTERM are taken by sigwait: block them before the receivers start their threads.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  DiscardHandler handler(f.count, f.expect);
  net::OtlpHttpReceiver otlp_http(handler);
  std::unique_ptr<net::HttpServer> http;
  std::unique_ptr<net::GrpcReceiver> grpc;
  if (!f.http.empty()) {
    absl::StatusOr<std::unique_ptr<net::HttpServer>> s =
        net::HttpServer::Start({.address = f.http, .threads = f.http_threads}, otlp_http);
    if (!s.ok()) {
      std::fprintf(stderr, "otelrr_discard_receiver: --http: %s\n", std::string(s.status().message()).c_str());
      return 1;
    }
    http = std::move(*s);
  }
  if (!f.grpc.empty()) {
    absl::StatusOr<std::unique_ptr<net::GrpcReceiver>> r = net::GrpcReceiver::Start({.address = f.grpc}, handler);
    if (!r.ok()) {
      std::fprintf(stderr, "otelrr_discard_receiver: --grpc: %s\n", std::string(r.status().message()).c_str());
      return 1;
    }
    grpc = std::move(*r);
  }
  std::fprintf(stderr, "otelrr_discard_receiver: OTLP/HTTP on %s, OTLP/gRPC on %s; pid %d\n",
               http ? http->address().c_str() : "off", grpc ? grpc->address().c_str() : "off",
               static_cast<int>(getpid()));
  std::fflush(stderr);

  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }

  if (http) http->Shutdown(std::chrono::seconds(5));
  if (grpc) grpc->Shutdown(std::chrono::seconds(5));

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  uint64_t requests = 0, bytes = 0;
  JsonWriter w;
  w.BeginObject();
  w.Key("signals");
  w.BeginObject();
  for (otlp::Signal s : {otlp::Signal::kTraces, otlp::Signal::kMetrics, otlp::Signal::kLogs}) {
    w.Key(otlp::SignalName(s));
    w.BeginObject();
    w.Field("requests", handler.requests(s));
    w.Field("bytes", handler.bytes(s));
    if (handler.count_items()) {
      w.Field(s == otlp::Signal::kTraces ? "spans" : s == otlp::Signal::kMetrics ? "dataPoints" : "logRecords", handler.items(s));
      w.Field("uncountedRequests", handler.uncounted(s));
    }
    w.EndObject();
    requests += handler.requests(s);
    bytes += handler.bytes(s);
  }
  w.EndObject();
  w.Field("requests", requests);
  w.Field("bytes", bytes);
  if (handler.count_items()) {
    w.Field("spans", handler.items(otlp::Signal::kTraces));
    w.Field("dataPoints", handler.items(otlp::Signal::kMetrics));
    w.Field("logRecords", handler.items(otlp::Signal::kLogs));
  }
  // CLOCK_MONOTONIC seconds (Python's time.monotonic()); 0 when nothing came.
  auto [first, last] = handler.request_times();
  w.Field("firstRequestMonotonic", first);
  w.Field("lastRequestMonotonic", last);
  if (http) {
    net::HttpServerStats s = http->stats();
    w.Key("http");
    w.BeginObject();
    w.Field("requests", s.requests);
    w.Field("rejected", otlp_http.rejected() + s.bad_requests);
    w.Field("connectionsAccepted", s.connections_accepted);
    w.EndObject();
  }
  if (grpc) {
    net::GrpcReceiverStats s = grpc->stats();
    w.Key("grpc");
    w.BeginObject();
    w.Field("requests", s.requests);
    w.Field("ok", s.ok);
    w.Field("failed", s.failed + s.unimplemented + s.cancelled);
    w.EndObject();
  }
  // The whole process lifetime, idle time included (bench/replay-bench reads /proc for a window).
  w.Field("cpuSeconds", Seconds(usage.ru_utime) + Seconds(usage.ru_stime));
  w.Field("peakRssKiB", usage.ru_maxrss);
  w.EndObject();
  std::printf("%s\n", w.str().c_str());
  return 0;
}

}  // namespace
}  // namespace otelrr::bench

int main(int argc, char** argv) {
  otelrr::bench::Flags f;
  CLI::App app{"An OTLP/HTTP and OTLP/gRPC receiver that answers success at once and discards the body"};
  app.add_option("--http", f.http, "OTLP/HTTP listen address, port 0 picks one, \"\" turns it off (default: 127.0.0.1:0)");
  app.add_option("--grpc", f.grpc, "OTLP/gRPC listen address, port 0 picks one, \"\" turns it off (default: 127.0.0.1:0)");
  app.add_option("--http-threads", f.http_threads, "HTTP server threads (default: 2, as otelrr capture)");
  app.add_flag("--count", f.count, "walk every protobuf body and count its spans, data points and log records");
  app.add_option("--expect", f.expect,
                 "with --count: print \"N items at T\" on stderr when N items have come (T: CLOCK_MONOTONIC s)");
  CLI11_PARSE(app, argc, argv);
  return otelrr::bench::Run(f);
}
