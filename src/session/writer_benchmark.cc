// SessionWriter::Append throughput into a LocalStore in a temporary directory, on real requests of each
// signal, with compression off (level 0: stored gzip blocks) and at the default level 1. bytes/s counts
// the protobuf payloads appended; items/s their spans, data points or log records.
//
// What is timed: copying the payload into the Record (a capture owns its request body too), validation
// and counting (Summarize, distinct trace ids), framing, gzip compression of each 1 MiB member and its
// write(2) to the file. Not timed: Close() (its fsync and metadata.json), which runs every
// kSessionBytes to keep the disk use bounded.
//
//   build-bench/bench/otelrr_writer_benchmark --benchmark_filter='traces/level:1'
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/corpus_benchmark.h"
#include "bench/temp_dir.h"
#include "fmt/format.h"
#include "session/session_store.h"
#include "store/local_store.h"

namespace otelrr::session {
namespace {

constexpr uint64_t kSessionBytes = uint64_t{256} << 20;  // a new session after this much
constexpr uint64_t kFirstArrival = 1'750'000'000'000'000'000;  // 2025-06-15T15:06:40Z
constexpr uint64_t kArrivalStep = 1'000'000;                   // 1 ms between records

void Check(benchmark::State& state, const absl::Status& s) {
  if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
}

void BM_SessionWriterAppend(benchmark::State& state, const bench::Corpus& corpus, int level) {
  bench::TempDir dir("otelrr-writer-benchmark");
  absl::StatusOr<std::unique_ptr<store::LocalStore>> store = store::LocalStore::Open({.root = dir.path()});
  if (!store.ok()) return Check(state, store.status());
  SessionStore sessions(**store);
  auto create = [&]() {
    return sessions.Create({.session_id = "bench", .session_type = SessionType::kCapture, .created_by = "benchmark"},
                           {.compression_level = level, .random_seed = 1});
  };
  absl::StatusOr<std::unique_ptr<SessionWriter>> writer = create();
  if (!writer.ok()) return Check(state, writer.status());
  uint64_t arrival = kFirstArrival;
  uint64_t session_bytes = 0;
  uint64_t stored_bytes = 0;
  uint64_t appended_bytes = 0;
  for (auto _ : state) {
    for (const std::string& request : corpus.requests) {
      absl::Status s = (*writer)->Append({.arrival_unix_nano = arrival,
                                          .signal = corpus.signal,
                                          .transport = Transport::kGrpc,
                                          .payload = request});
      if (!s.ok()) return Check(state, s);
      arrival += kArrivalStep;
    }
    session_bytes += corpus.bytes;
    if (session_bytes >= kSessionBytes) {
      state.PauseTiming();
      absl::Status s = (*writer)->Close();
      stored_bytes += (*writer)->metadata().total_size_bytes;
      appended_bytes += session_bytes;
      writer->reset();
      if (s.ok()) s = sessions.Delete("bench");
      if (s.ok()) {
        writer = create();
        s = writer.status();
      }
      if (!s.ok()) return Check(state, s);
      session_bytes = 0;
      arrival = kFirstArrival;
      state.ResumeTiming();
    }
  }
  if (absl::Status s = (*writer)->Close(); !s.ok()) return Check(state, s);
  stored_bytes += (*writer)->metadata().total_size_bytes;
  appended_bytes += session_bytes;
  bench::ReportThroughput(state, corpus);
  // Stored (gzip) bytes per payload byte: framing included, so level 0 is slightly above 1.
  if (appended_bytes > 0) state.counters["stored_ratio"] = static_cast<double>(stored_bytes) / appended_bytes;
}

}  // namespace
}  // namespace otelrr::session

int main(int argc, char** argv) {
  std::vector<otelrr::bench::Corpus> corpora = otelrr::bench::InitializeAndLoadCorpora(&argc, argv);
  for (const otelrr::bench::Corpus& c : corpora) {
    for (int level : {0, 1}) {
      std::string name = fmt::format("SessionWriterAppend/{}/level:{}", otelrr::otlp::SignalName(c.signal), level);
      benchmark::RegisterBenchmark(name.c_str(), otelrr::session::BM_SessionWriterAppend, c, level)
          ->Unit(benchmark::kMillisecond);
    }
  }
  return otelrr::bench::RunBenchmarks();
}
