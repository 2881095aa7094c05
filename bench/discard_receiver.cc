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
// SIGINT or SIGTERM stops it: the receivers are shut down (requests in flight answered first), the
// counts are printed as one JSON object on stdout, and it exits 0.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
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

namespace otelrr::bench {
namespace {

// Answers every request with success, at once, on the receiver's thread; counts what it was given.
class DiscardHandler : public net::ExportHandler {
 public:
  void Export(net::ExportRequest request, net::ExportDone done) override {
    Counts& c = counts_[static_cast<size_t>(request.signal) - 1];
    c.requests.fetch_add(1, std::memory_order_relaxed);
    c.bytes.fetch_add(request.body.size(), std::memory_order_relaxed);
    done({});
  }

  uint64_t requests(otlp::Signal s) const { return counts_[static_cast<size_t>(s) - 1].requests.load(); }
  uint64_t bytes(otlp::Signal s) const { return counts_[static_cast<size_t>(s) - 1].bytes.load(); }

 private:
  struct Counts {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> bytes{0};
  };
  std::array<Counts, 3> counts_;
};

struct Flags {
  std::string http = "127.0.0.1:0";
  std::string grpc = "127.0.0.1:0";
  int http_threads = 2;
};

double Seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

int Run(const Flags& f) {
  // SIGINT and SIGTERM are taken by sigwait: block them before the receivers start their threads.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  DiscardHandler handler;
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
    w.Key("requests");
    w.Uint(handler.requests(s));
    w.Key("bytes");
    w.Uint(handler.bytes(s));
    w.EndObject();
    requests += handler.requests(s);
    bytes += handler.bytes(s);
  }
  w.EndObject();
  w.Key("requests");
  w.Uint(requests);
  w.Key("bytes");
  w.Uint(bytes);
  if (http) {
    net::HttpServerStats s = http->stats();
    w.Key("http");
    w.BeginObject();
    w.Key("requests");
    w.Uint(s.requests);
    w.Key("rejected");
    w.Uint(otlp_http.rejected() + s.bad_requests);
    w.Key("connectionsAccepted");
    w.Uint(s.connections_accepted);
    w.EndObject();
  }
  if (grpc) {
    net::GrpcReceiverStats s = grpc->stats();
    w.Key("grpc");
    w.BeginObject();
    w.Key("requests");
    w.Uint(s.requests);
    w.Key("ok");
    w.Uint(s.ok);
    w.Key("failed");
    w.Uint(s.failed + s.unimplemented + s.cancelled);
    w.EndObject();
  }
  // The whole process lifetime, idle time included (bench/replay-bench reads /proc for a window).
  w.Key("cpuSeconds");
  w.Double(Seconds(usage.ru_utime) + Seconds(usage.ru_stime));
  w.Key("peakRssKiB");
  w.Int(usage.ru_maxrss);
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
  CLI11_PARSE(app, argc, argv);
  return otelrr::bench::Run(f);
}
