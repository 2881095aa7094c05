// SessionReader throughput: a time-ordered read of a whole session written beforehand (about 64 MiB of
// real requests of all three signals, interleaved), uncompressed (level 0) and at level 1. bytes/s
// counts the protobuf payloads returned; items/s their spans, data points and log records.
//
// What is timed: opening the session (metadata.json), gunzipping each member, checking its CRC,
// unframing the records and the k-way merge by arrival; the payloads are not parsed.
//
// Both sessions are written once, into a temporary directory, before the benchmarks run.
//
//   build-bench/bench/otelrr_reader_benchmark
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

constexpr uint64_t kTargetBytes = uint64_t{64} << 20;
constexpr uint64_t kFirstArrival = 1'750'000'000'000'000'000;  // 2025-06-15T15:06:40Z
constexpr uint64_t kArrivalStep = 1'000'000;                   // 1 ms between records

struct WrittenSession {
  uint64_t records = 0;
  uint64_t payload_bytes = 0;
  uint64_t items = 0;
  uint64_t stored_bytes = 0;
};

// Writes rounds of (the traces request, the next metrics request, the next logs request) until
// kTargetBytes of payload.
absl::StatusOr<WrittenSession> WriteSession(SessionStore& sessions, const std::string& id,
                                            const std::vector<bench::Corpus>& corpora, int level) {
  absl::StatusOr<std::unique_ptr<SessionWriter>> writer = sessions.Create(
      {.session_id = id, .session_type = SessionType::kCapture, .created_by = "benchmark"},
      {.compression_level = level, .random_seed = 1});
  if (!writer.ok()) return writer.status();
  WrittenSession w;
  uint64_t arrival = kFirstArrival;
  for (size_t round = 0; w.payload_bytes < kTargetBytes; ++round) {
    for (const bench::Corpus& c : corpora) {
      const std::string& request = c.requests[round % c.requests.size()];
      absl::Status s = (*writer)->Append(
          {.arrival_unix_nano = arrival, .signal = c.signal, .transport = Transport::kGrpc, .payload = request});
      if (!s.ok()) return s;
      arrival += kArrivalStep;
      ++w.records;
      w.payload_bytes += request.size();
    }
  }
  if (absl::Status s = (*writer)->Close(); !s.ok()) return s;
  const SessionCounts& counts = (*writer)->counts();
  w.items = counts.spans + counts.data_points + counts.log_records;
  w.stored_bytes = (*writer)->metadata().total_size_bytes;
  return w;
}

void BM_SessionReaderNext(benchmark::State& state, SessionStore* sessions, const std::string& id,
                          const WrittenSession& written) {
  Record record;
  for (auto _ : state) {
    absl::StatusOr<std::unique_ptr<SessionReader>> reader = sessions->OpenReader(id, {});
    if (!reader.ok()) return state.SkipWithError(std::string(reader.status().message()).c_str());
    uint64_t records = 0;
    while (true) {
      absl::StatusOr<bool> more = (*reader)->Next(&record);
      if (!more.ok()) return state.SkipWithError(std::string(more.status().message()).c_str());
      if (!*more) break;
      benchmark::DoNotOptimize(record.payload.data());
      ++records;
    }
    if (records != written.records) return state.SkipWithError("the reader returned a different record count");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * written.payload_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * written.items));
  state.counters["records"] = static_cast<double>(written.records);
  state.counters["stored_MiB"] = static_cast<double>(written.stored_bytes) / (1 << 20);
}

}  // namespace
}  // namespace otelrr::session

int main(int argc, char** argv) {
  std::vector<otelrr::bench::Corpus> corpora = otelrr::bench::InitializeAndLoadCorpora(&argc, argv);
  // Both sessions are written once, before any benchmark runs, and removed with the directory.
  otelrr::bench::TempDir dir("otelrr-reader-benchmark");
  absl::StatusOr<std::unique_ptr<otelrr::store::LocalStore>> store =
      otelrr::store::LocalStore::Open({.root = dir.path()});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  otelrr::session::SessionStore sessions(**store);
  for (int level : {0, 1}) {
    std::string id = fmt::format("level-{}", level);
    absl::StatusOr<otelrr::session::WrittenSession> written =
        otelrr::session::WriteSession(sessions, id, corpora, level);
    if (!written.ok()) {
      std::fprintf(stderr, "cannot write session %s: %s\n", id.c_str(), std::string(written.status().message()).c_str());
      return 1;
    }
    benchmark::RegisterBenchmark(fmt::format("SessionReaderNext/mixed/level:{}", level).c_str(),
                                 otelrr::session::BM_SessionReaderNext, &sessions, id, *written)
        ->Unit(benchmark::kMillisecond);
  }
  return otelrr::bench::RunBenchmarks();
}
