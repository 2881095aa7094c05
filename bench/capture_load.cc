// otelrr_capture_load: sends the traces of a seed session to an OTLP receiver (`otelrr capture`) at a
// fixed or maximum rate, and reports what was acknowledged and how fast, as one JSON object. Not
// installed; bench/capture-bench drives it.
//
//   build-bench/otelrr seed --rate 2000 --duration 100 --store /tmp/seed --session-id load --seed 1
//   build-bench/bench/otelrr_capture_load --store /tmp/seed --session load --protocol http
//       --target 127.0.0.1:4318 --connections 4 --rate 100000 --duration 10 --spans-per-request 800
//
// The requests: the session's trace requests, read with the session reader, cut into their ResourceSpans
// and packed into batches of --spans-per-request to --max-spans-per-request spans (an
// ExportTraceServiceRequest is only `repeated ResourceSpans resource_spans = 1`, so one ResourceSpans
// field is a request, and concatenated fields are the request holding all of them).
// The batches are sent in a loop; each pass over them XORs the first 8 bytes of every trace id with a
// key of the pass, so the receiver sees new traces throughout (as it would from a live system), and
// the spans of one trace keep their common id.
//
// Sending: --connections threads, each with its own blocking client (one libcurl easy handle with
// keep-alive for --protocol http; for --protocol grpc one shared GrpcExporter, i.e. one HTTP/2 channel
// that multiplexes the calls, as an OpenTelemetry SDK does). With --rate > 0 the schedule is open-loop:
// request i is due when the spans before it, at --rate spans/s, have been sent. A thread takes the next
// request, waits until it is due, sends it and waits for the answer. `latency_ms` is per request, from
// sending to the acknowledgement; `latency_from_schedule_ms` is from when it was due, so a receiver that
// falls behind (every connection busy, requests late) shows there rather than being hidden by the
// closed loop. With --rate 0 every thread sends back to back (maximum throughput).
//
// Outcomes: acked (HTTP 200 / gRPC OK), refused (HTTP 429 or 503, gRPC UNAVAILABLE or
// RESOURCE_EXHAUSTED: the receiver asked for a retry; not retried here), errors (anything else,
// transport failures included). Only acked spans count towards spans_per_second, less those an acked
// request's partial success says were rejected (a capture that reached its size limit answers 200 and
// rejects every span: counted as `rejectedSpans`, not as acknowledged).
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "net/grpc_client.h"
#include "net/otlp_exporter.h"
#include "otlp/wire.h"
#include "session/reader.h"
#include "session/session_store.h"
#include "store/object_store.h"

namespace otelrr::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string store;
  std::string session;
  std::string protocol = "http";
  std::string target;
  int connections = 4;
  double rate = 0;  // spans per second; 0 = as fast as possible
  double duration = 10;
  uint64_t spans_per_request = 800;
  uint64_t max_spans_per_request = 1000;
  uint64_t max_spans_loaded = 2'000'000;
};

// One request to send: the concatenated seed requests and where their trace ids are.
struct Batch {
  std::string body;
  uint64_t spans = 0;
  std::vector<uint32_t> trace_id_offsets;
};

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The ResourceSpans of a request, each as the bytes of a request holding only it (tag and length
// included). Empty on malformed input (Summarize has checked the request before).
std::vector<std::string_view> SplitResourceSpans(std::string_view request) {
  std::vector<std::string_view> chunks;
  size_t pos = 0;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; pos < request.size() && shift < 64; shift += 7) {
      auto byte = static_cast<uint8_t>(request[pos++]);
      *v |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  };
  while (pos < request.size()) {
    size_t begin = pos;
    uint64_t tag = 0, length = 0;
    if (!varint(&tag) || tag != ((1 << 3) | 2) || !varint(&length) || length > request.size() - pos) return {};
    pos += length;
    chunks.push_back(request.substr(begin, pos - begin));
  }
  return chunks;
}

// Reads the session's trace requests (up to about max_spans_loaded spans) and packs their ResourceSpans
// into batches of spans_per_request to max_spans_per_request spans (a ResourceSpans larger than that is
// a batch of its own); a last batch smaller than spans_per_request is dropped.
absl::StatusOr<std::vector<Batch>> LoadBatches(const Flags& f) {
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store::OpenStore(f.store);
  if (!store.ok()) return store.status();
  session::SessionStore sessions(**store);
  absl::StatusOr<std::unique_ptr<session::SessionReader>> reader =
      sessions.OpenReader(f.session, {.signals = {otlp::Signal::kTraces}});
  if (!reader.ok()) return reader.status();
  std::vector<Batch> batches;
  Batch current;
  auto finish = [&]() -> absl::Status {
    otlp::FieldLocations locations;
    if (absl::Status s = otlp::Locate(otlp::Signal::kTraces, current.body, &locations); !s.ok()) return s;
    current.trace_id_offsets = std::move(locations.trace_ids);
    batches.push_back(std::move(current));
    current = Batch{};
    return absl::OkStatus();
  };
  uint64_t loaded = 0;
  session::Record record;
  while (loaded < f.max_spans_loaded) {
    absl::StatusOr<bool> more = (*reader)->Next(&record);
    if (!more.ok()) return more.status();
    if (!*more) break;
    for (std::string_view chunk : SplitResourceSpans(record.payload)) {
      absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(otlp::Signal::kTraces, chunk);
      if (!summary.ok()) return Prefixed(summary.status(), fmt::format("record {}", record.sequence));
      if (current.spans > 0 && current.spans + summary->spans > f.max_spans_per_request) {
        if (absl::Status s = finish(); !s.ok()) return s;
      }
      current.body += chunk;
      current.spans += summary->spans;
      loaded += summary->spans;
      if (current.spans >= f.spans_per_request) {
        if (absl::Status s = finish(); !s.ok()) return s;
      }
    }
  }
  if (batches.empty()) {
    return absl::FailedPreconditionError(fmt::format(
        "session {} holds fewer than --spans-per-request {} spans of traces", f.session, f.spans_per_request));
  }
  return batches;
}

enum class Outcome { kAcked, kRefused, kError };

// A blocking client for one connection thread. `rejected`: the items an acked answer's partial success
// rejected.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual Outcome Send(const std::string& body, std::string* error, uint64_t* rejected) = 0;
};

size_t KeepBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

uint64_t Rejected(std::string_view response) {
  int64_t n = net::DecodePartialSuccess(response).rejected;
  return n > 0 ? static_cast<uint64_t>(n) : 0;
}

class HttpSender : public Sender {
 public:
  explicit HttpSender(const std::string& target) : url_(fmt::format("http://{}/v1/traces", target)) {
    curl_ = curl_easy_init();
    // Without "Expect:" libcurl sends Expect: 100-continue for bodies over 1 KiB and waits for the
    // interim answer: an extra round trip per request that no OTLP exporter makes.
    headers_ = curl_slist_append(headers_, "Content-Type: application/x-protobuf");
    headers_ = curl_slist_append(headers_, "Expect:");
    curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, KeepBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response_);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 10'000L);
  }
  ~HttpSender() override {
    curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }

  Outcome Send(const std::string& body, std::string* error, uint64_t* rejected) override {
    response_.clear();
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    CURLcode rc = curl_easy_perform(curl_);
    if (rc != CURLE_OK) {
      *error = curl_easy_strerror(rc);
      return Outcome::kError;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) {
      *rejected = Rejected(response_);
      return Outcome::kAcked;
    }
    if (status == 429 || status == 503) return Outcome::kRefused;
    *error = fmt::format("HTTP {}", status);
    return Outcome::kError;
  }

 private:
  std::string url_;
  std::string response_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
};

class GrpcSender : public Sender {
 public:
  explicit GrpcSender(net::GrpcExporter& exporter) : exporter_(exporter) {}
  Outcome Send(const std::string& body, std::string* error, uint64_t* rejected) override {
    net::GrpcExportResult r = exporter_.Export(otlp::Signal::kTraces, body);
    if (r.ok()) {
      *rejected = Rejected(r.response);
      return Outcome::kAcked;
    }
    if (r.code == absl::StatusCode::kUnavailable || r.code == absl::StatusCode::kResourceExhausted) {
      return Outcome::kRefused;
    }
    *error = fmt::format("gRPC {}: {}", static_cast<int>(r.code), r.message);
    return Outcome::kError;
  }

 private:
  net::GrpcExporter& exporter_;
};

// What one connection thread saw.
struct ThreadResult {
  uint64_t sent = 0, acked = 0, refused = 0, errors = 0, spans_acked = 0, spans_rejected = 0;
  std::vector<double> latency_ms;                // send -> ack, acked requests only
  std::vector<double> latency_from_schedule_ms;  // due -> ack (open loop only)
  std::string first_error;
  Clock::time_point last_answer{};
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

void WriteLatency(JsonWriter& w, std::string_view key, std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  w.Key(key);
  w.BeginObject();
  for (auto [name, p] : {std::pair{"p50", 50.0}, std::pair{"p90", 90.0}, std::pair{"p99", 99.0}}) {
    w.Field(name, std::round(Percentile(v, p) * 1000) / 1000);
  }
  w.Field("max", v.empty() ? 0 : std::round(v.back() * 1000) / 1000);
  w.EndObject();
}

int Run(const Flags& f) {
  if (f.protocol != "http" && f.protocol != "grpc") {
    std::fprintf(stderr, "otelrr_capture_load: --protocol must be http or grpc\n");
    return 2;
  }
  if (f.connections < 1 || f.duration <= 0 || f.rate < 0 || f.spans_per_request == 0) {
    std::fprintf(stderr, "otelrr_capture_load: --connections, --duration and --spans-per-request must be > 0\n");
    return 2;
  }
  absl::StatusOr<std::vector<Batch>> loaded = LoadBatches(f);
  if (!loaded.ok()) {
    std::fprintf(stderr, "otelrr_capture_load: %s\n", std::string(loaded.status().message()).c_str());
    return 1;
  }
  const std::vector<Batch>& batches = *loaded;
  // Spans before batch i of a pass, to place each request on the open-loop schedule.
  std::vector<uint64_t> spans_before(batches.size() + 1, 0);
  uint64_t body_bytes = 0, min_spans = UINT64_MAX, max_spans = 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    spans_before[i + 1] = spans_before[i] + batches[i].spans;
    body_bytes += batches[i].body.size();
    min_spans = std::min(min_spans, batches[i].spans);
    max_spans = std::max(max_spans, batches[i].spans);
  }
  const uint64_t spans_per_pass = spans_before.back();

  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::unique_ptr<net::GrpcExporter> exporter;
  if (f.protocol == "grpc") {
    absl::StatusOr<std::unique_ptr<net::GrpcExporter>> e = net::GrpcExporter::Create({.target = f.target});
    if (!e.ok()) {
      std::fprintf(stderr, "otelrr_capture_load: %s\n", std::string(e.status().message()).c_str());
      return 1;
    }
    exporter = *std::move(e);
  }

  std::atomic<uint64_t> next_request{0};
  std::vector<ThreadResult> results(static_cast<size_t>(f.connections));
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(50);  // every thread is ready
  const Clock::time_point end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(f.duration));
  auto due = [&](uint64_t i) {
    uint64_t spans = (i / batches.size()) * spans_per_pass + spans_before[i % batches.size()];
    return start + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(static_cast<double>(spans) / f.rate));
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < f.connections; ++t) {
    threads.emplace_back([&, t] {
      ThreadResult& r = results[static_cast<size_t>(t)];
      std::unique_ptr<Sender> sender;
      if (exporter != nullptr) {
        sender = std::make_unique<GrpcSender>(*exporter);
      } else {
        sender = std::make_unique<HttpSender>(f.target);
      }
      std::string body;
      std::this_thread::sleep_until(start);
      while (true) {
        uint64_t i = next_request.fetch_add(1);
        Clock::time_point scheduled = f.rate > 0 ? due(i) : Clock::now();
        if (scheduled >= end || Clock::now() >= end) break;
        if (f.rate > 0) std::this_thread::sleep_until(scheduled);
        const Batch& b = batches[i % batches.size()];
        body.assign(b.body);
        const uint64_t key = SplitMix64(i / batches.size());
        for (uint32_t offset : b.trace_id_offsets) {
          auto* p = reinterpret_cast<uint8_t*>(body.data()) + offset;
          otlp::StoreLE64(p, otlp::LoadLE64(p) ^ key);
        }
        Clock::time_point sent = Clock::now();
        std::string error;
        uint64_t rejected = 0;
        Outcome outcome = sender->Send(body, &error, &rejected);
        Clock::time_point answered = Clock::now();
        r.last_answer = answered;
        ++r.sent;
        switch (outcome) {
          case Outcome::kAcked:
            ++r.acked;
            rejected = std::min<uint64_t>(rejected, b.spans);
            r.spans_acked += b.spans - rejected;
            r.spans_rejected += rejected;
            r.latency_ms.push_back(std::chrono::duration<double, std::milli>(answered - sent).count());
            if (f.rate > 0) {
              r.latency_from_schedule_ms.push_back(
                  std::chrono::duration<double, std::milli>(answered - scheduled).count());
            }
            break;
          case Outcome::kRefused:
            ++r.refused;
            break;
          case Outcome::kError:
            ++r.errors;
            if (r.first_error.empty()) r.first_error = error;
            break;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  exporter.reset();
  curl_global_cleanup();

  ThreadResult total;
  Clock::time_point last = start;
  for (ThreadResult& r : results) {
    total.sent += r.sent;
    total.acked += r.acked;
    total.refused += r.refused;
    total.errors += r.errors;
    total.spans_acked += r.spans_acked;
    total.spans_rejected += r.spans_rejected;
    total.latency_ms.insert(total.latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
    total.latency_from_schedule_ms.insert(total.latency_from_schedule_ms.end(), r.latency_from_schedule_ms.begin(),
                                          r.latency_from_schedule_ms.end());
    if (total.first_error.empty()) total.first_error = r.first_error;
    last = std::max(last, r.last_answer);
  }
  // From the first send to the last answer: a receiver that answers late does not get the time free.
  const double elapsed = std::chrono::duration<double>(last - start).count();

  JsonWriter w;
  w.BeginObject();
  w.Field("protocol", f.protocol);
  w.Field("target", f.target);
  w.Field("connections", f.connections);
  w.Field("targetSpansPerSecond", f.rate);
  w.Field("durationSeconds", f.duration);
  w.Field("elapsedSeconds", std::round(elapsed * 1000) / 1000);
  w.Key("batches");
  w.BeginObject();
  w.Field("count", batches.size());
  w.Field("spansMin", min_spans);
  w.Field("spansMean", std::round(static_cast<double>(spans_per_pass) / static_cast<double>(batches.size()) * 10) / 10);
  w.Field("spansMax", max_spans);
  w.Field("bytesMean", body_bytes / batches.size());
  w.EndObject();
  w.Field("sent", total.sent);
  w.Field("acked", total.acked);
  w.Field("refused", total.refused);
  w.Field("errors", total.errors);
  if (!total.first_error.empty()) {
    w.Field("firstError", total.first_error);
  }
  w.Field("spansAcked", total.spans_acked);
  w.Field("rejectedSpans", total.spans_rejected);
  w.Field("spansPerSecond", elapsed > 0 ? std::round(static_cast<double>(total.spans_acked) / elapsed) : 0);
  w.Key("bytesPerSecond");
  w.Double(elapsed > 0 && total.acked > 0
               ? std::round(static_cast<double>(total.spans_acked) / elapsed *
                            (static_cast<double>(body_bytes) / static_cast<double>(spans_per_pass)))
               : 0);
  WriteLatency(w, "latencyMs", total.latency_ms);
  if (f.rate > 0) WriteLatency(w, "latencyFromScheduleMs", total.latency_from_schedule_ms);
  w.EndObject();
  std::printf("%s\n", w.str().c_str());
  return total.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace otelrr::bench

int main(int argc, char** argv) {
  otelrr::bench::Flags f;
  CLI::App app{"Sends the traces of a seed session to an OTLP receiver and reports throughput and latency"};
  app.add_option("--store", f.store, "store holding the seed session")->required();
  app.add_option("--session", f.session, "the seed session (its trace requests are sent)")->required();
  app.add_option("--protocol", f.protocol, "http (OTLP/HTTP protobuf) or grpc (default: http)");
  app.add_option("--target", f.target, "host:port of the receiver")->required();
  app.add_option("--connections", f.connections, "concurrent requests in flight (default: 4)");
  app.add_option("--rate", f.rate, "spans per second, open loop; 0 = as fast as possible (default: 0)");
  app.add_option("--duration", f.duration, "seconds of sending (default: 10)");
  app.add_option("--spans-per-request", f.spans_per_request,
                 "ResourceSpans are packed until a request holds at least this many spans (default: 800)");
  app.add_option("--max-spans-per-request", f.max_spans_per_request,
                 "a request holds at most this many spans, unless one ResourceSpans has more (default: 1000)");
  app.add_option("--max-spans-loaded", f.max_spans_loaded, "read at most about this many spans (default: 2000000)");
  CLI11_PARSE(app, argc, argv);
  return otelrr::bench::Run(f);
}
