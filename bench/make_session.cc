// otelrr_make_session: writes a synthetic session of a requested size, for the export-memory benchmark
// and any test that needs a big session. Not installed.
//
//   build-bench/bench/otelrr_make_session --store /tmp/bench-store --session big-1g --bytes 1G
//
// The records are the real requests of bench/corpus.h (the highlight backend traces, the OpenTelemetry
// Demo metrics and logs), interleaved so that each signal contributes a fixed share of the bytes
// (--traces-share, --metrics-share, --logs-share). Each record is varied the way a capture differs
// from the next, without decoding anything (otlp::Locate gives the offsets):
// - every non-zero timestamp is shifted so that the request's latest timestamp is the record's arrival
//   time, and arrivals advance by --interval-us;
// - every trace id and span id is XORed with a key drawn from the record number (one key per record,
//   so the spans of one request keep their parent and trace relations, and no two records share ids).
// Output is deterministic for the same arguments. --bytes counts the uncompressed OTLP protobuf
// payloads (the size a capture would have received), not the stored gzip size, which is printed.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/corpus.h"
#include "common/status.h"
#include "otlp/wire.h"
#include "session/session_store.h"
#include "store/object_store.h"

namespace otelrr::bench {
namespace {

struct Template {
  otlp::Signal signal = otlp::Signal::kTraces;
  std::string payload = {};
  otlp::FieldLocations locations = {};
  uint64_t max_time_unix_nano = 0;
};

struct SignalStream {
  std::vector<Template> templates = {};
  double share = 0;  // of the payload bytes
  uint64_t emitted_bytes = 0;
  size_t next = 0;
};

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void XorLE64(uint8_t* p, uint64_t key) { otlp::StoreLE64(p, otlp::LoadLE64(p) ^ key); }

// The record payload: the template with its timestamps shifted and its ids varied, in `*out`.
void Synthesize(const Template& t, uint64_t arrival_unix_nano, uint64_t record_number, std::string* out) {
  out->assign(t.payload);
  auto* bytes = reinterpret_cast<uint8_t*>(out->data());
  uint64_t shift = arrival_unix_nano - t.max_time_unix_nano;  // modular: wraps back when negative
  for (uint32_t offset : t.locations.timestamps) {
    uint64_t v = otlp::LoadLE64(bytes + offset);
    if (v != 0) otlp::StoreLE64(bytes + offset, v + shift);
  }
  uint64_t trace_key = SplitMix64(record_number);
  uint64_t span_key = SplitMix64(trace_key);
  for (uint32_t offset : t.locations.trace_ids) XorLE64(bytes + offset, trace_key);  // first 8 of 16 bytes
  for (uint32_t offset : t.locations.span_ids) XorLE64(bytes + offset, span_key);
}

absl::StatusOr<std::vector<Template>> LoadTemplates(otlp::Signal signal) {
  absl::StatusOr<Corpus> corpus = LoadCorpus(signal);
  if (!corpus.ok()) return corpus.status();
  std::vector<Template> templates;
  for (std::string& request : corpus->requests) {
    Template t{.signal = signal, .payload = std::move(request)};
    absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(signal, t.payload);
    if (!summary.ok()) return summary.status();
    t.max_time_unix_nano = summary->max_time_unix_nano;
    if (absl::Status s = otlp::Locate(signal, t.payload, &t.locations); !s.ok()) return s;
    templates.push_back(std::move(t));
  }
  return templates;
}

// "1073741824", "100M", "1G", "512K" (powers of 1024).
bool ParseBytes(const std::string& text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t multiplier = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'K': case 'k': multiplier = uint64_t{1} << 10; break;
    case 'M': case 'm': multiplier = uint64_t{1} << 20; break;
    case 'G': case 'g': multiplier = uint64_t{1} << 30; break;
    default: break;
  }
  if (multiplier != 1) digits.pop_back();
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 12) {
    return false;
  }
  *out = std::stoull(digits) * multiplier;
  return true;
}

struct Flags {
  std::string store;
  std::string session;
  std::string bytes;
  int compression_level = 1;
  uint64_t first_arrival_unix_nano = 1'750'000'000'000'000'000;  // 2025-06-15T15:06:40Z
  uint64_t interval_us = 1000;
  double traces_share = 0.4;
  double metrics_share = 0.3;
  double logs_share = 0.3;
};

int Run(const Flags& f) {
  uint64_t target = 0;
  if (!ParseBytes(f.bytes, &target) || target == 0) {
    std::fprintf(stderr, "otelrr_make_session: --bytes %s is not a size (examples: 104857600, 100M, 1G)\n",
                 f.bytes.c_str());
    return 2;
  }
  std::vector<SignalStream> streams;
  for (auto [signal, share] : {std::pair{otlp::Signal::kTraces, f.traces_share},
                               std::pair{otlp::Signal::kMetrics, f.metrics_share},
                               std::pair{otlp::Signal::kLogs, f.logs_share}}) {
    if (share <= 0) continue;
    absl::StatusOr<std::vector<Template>> templates = LoadTemplates(signal);
    if (!templates.ok()) {
      std::fprintf(stderr, "otelrr_make_session: %s\n", std::string(templates.status().message()).c_str());
      return 1;
    }
    streams.push_back({.templates = *std::move(templates), .share = share});
  }
  if (streams.empty()) {
    std::fprintf(stderr, "otelrr_make_session: every signal share is 0\n");
    return 2;
  }

  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store::OpenStore(f.store);
  if (!store.ok()) {
    std::fprintf(stderr, "otelrr_make_session: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  session::SessionStore sessions(**store);
  absl::StatusOr<std::unique_ptr<session::SessionWriter>> writer = sessions.Create(
      {.session_id = f.session,
       .session_type = session::SessionType::kCapture,
       .created_by = "otelrr_make_session",
       .description = fmt::format("synthetic: {} bytes of real OTLP requests from the shared test data, "
                                  "timestamps shifted and ids varied per record",
                                  target)},
      {.compression_level = f.compression_level, .random_seed = 1});
  if (!writer.ok()) {
    std::fprintf(stderr, "otelrr_make_session: %s\n", std::string(writer.status().message()).c_str());
    return 1;
  }

  auto started = std::chrono::steady_clock::now();
  uint64_t payload_bytes = 0;
  uint64_t records = 0;
  uint64_t arrival = f.first_arrival_unix_nano;
  std::string payload;
  while (payload_bytes < target) {
    // The stream furthest below its share of the bytes goes next.
    SignalStream* next = &streams[0];
    for (SignalStream& s : streams) {
      if (s.emitted_bytes / s.share < next->emitted_bytes / next->share) next = &s;
    }
    const Template& t = next->templates[next->next++ % next->templates.size()];
    Synthesize(t, arrival, records, &payload);
    next->emitted_bytes += payload.size();
    payload_bytes += payload.size();
    absl::Status s = (*writer)->Append({.arrival_unix_nano = arrival,
                                        .signal = t.signal,
                                        .transport = session::Transport::kGenerated,
                                        .payload = std::move(payload)});
    if (!s.ok()) {
      std::fprintf(stderr, "otelrr_make_session: record %llu: %s\n", static_cast<unsigned long long>(records),
                   std::string(s.message()).c_str());
      return 1;
    }
    payload.clear();
    ++records;
    arrival += f.interval_us * 1000;
  }
  if (absl::Status s = (*writer)->Close(); !s.ok()) {
    std::fprintf(stderr, "otelrr_make_session: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const session::SessionMetadata& m = (*writer)->metadata();
  // key: value lines, so that scripts can pick what they need with awk.
  std::printf("session: %s\nrecords: %llu\notlp_bytes: %llu\nframed_bytes: %llu\nstored_bytes: %llu\nfiles: %zu\n"
              "spans: %llu\ndata_points: %llu\nlog_records: %llu\ntraces: %llu\nseconds: %.2f\n",
              f.session.c_str(), static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(payload_bytes),
              static_cast<unsigned long long>(m.counts.uncompressed_bytes),
              static_cast<unsigned long long>(m.total_size_bytes), m.files.size(),
              static_cast<unsigned long long>(m.counts.spans), static_cast<unsigned long long>(m.counts.data_points),
              static_cast<unsigned long long>(m.counts.log_records), static_cast<unsigned long long>(m.counts.traces),
              seconds);
  return 0;
}

}  // namespace
}  // namespace otelrr::bench

int main(int argc, char** argv) {
  otelrr::bench::Flags f;
  CLI::App app{"Writes a synthetic session of real OTLP requests (varied per record) of about --bytes bytes"};
  app.add_option("--store", f.store, "session store: a path or file:// URI")->required();
  app.add_option("--session", f.session, "id of the session to create (must not exist)")->required();
  app.add_option("--bytes", f.bytes, "uncompressed OTLP protobuf bytes to write: 104857600, 100M, 1G")->required();
  app.add_option("--compression-level", f.compression_level, "gzip level, 0 (off) to 12")->capture_default_str();
  app.add_option("--first-arrival", f.first_arrival_unix_nano, "arrival of the first record, unix nanoseconds")
      ->capture_default_str();
  app.add_option("--interval-us", f.interval_us, "arrival step between records, microseconds")->capture_default_str();
  app.add_option("--traces-share", f.traces_share, "share of the bytes that are traces")->capture_default_str();
  app.add_option("--metrics-share", f.metrics_share, "share of the bytes that are metrics")->capture_default_str();
  app.add_option("--logs-share", f.logs_share, "share of the bytes that are logs")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return otelrr::bench::Run(f);
}
