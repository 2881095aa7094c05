// Throughput of the wire walker on real requests of each signal: Summarize (validate and count),
// Validate, Locate (offsets of every timestamp and id), and a timestamp shift done the way capture and
// replay do it: Locate, then patch each 8-byte value in place.
//
//   build-bench/bench/otelrr_wire_benchmark --benchmark_filter=Summarize
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/corpus.h"
#include "otlp/wire.h"

namespace otelrr::otlp {
namespace {

void ReportThroughput(benchmark::State& state, const bench::Corpus& corpus) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus.bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * corpus.items));
}

void BM_Summarize(benchmark::State& state, const bench::Corpus& corpus) {
  for (auto _ : state) {
    for (const std::string& request : corpus.requests) {
      absl::StatusOr<RequestSummary> summary = Summarize(corpus.signal, request);
      if (!summary.ok()) return state.SkipWithError(std::string(summary.status().message()).c_str());
      benchmark::DoNotOptimize(summary->spans);
    }
  }
  ReportThroughput(state, corpus);
}

void BM_Validate(benchmark::State& state, const bench::Corpus& corpus) {
  for (auto _ : state) {
    for (const std::string& request : corpus.requests) {
      absl::Status s = Validate(corpus.signal, request);
      if (!s.ok()) return state.SkipWithError(std::string(s.message()).c_str());
    }
  }
  ReportThroughput(state, corpus);
}

void BM_Locate(benchmark::State& state, const bench::Corpus& corpus) {
  FieldLocations locations;  // reused, as a caller on the hot path does
  for (auto _ : state) {
    for (const std::string& request : corpus.requests) {
      locations.clear();
      absl::Status s = Locate(corpus.signal, request, &locations);
      if (!s.ok()) return state.SkipWithError(std::string(s.message()).c_str());
      benchmark::DoNotOptimize(locations.timestamps.data());
    }
  }
  ReportThroughput(state, corpus);
}

// Locate + add one second to every non-zero timestamp, in place. Each iteration shifts the same buffers
// again: the cost does not depend on the values.
void BM_ShiftTimestamps(benchmark::State& state, const bench::Corpus& corpus) {
  std::vector<std::string> requests = corpus.requests;
  FieldLocations locations;
  constexpr uint64_t kShift = 1'000'000'000;
  for (auto _ : state) {
    for (std::string& request : requests) {
      locations.clear();
      absl::Status s = Locate(corpus.signal, request, &locations);
      if (!s.ok()) return state.SkipWithError(std::string(s.message()).c_str());
      auto* bytes = reinterpret_cast<uint8_t*>(request.data());
      for (uint32_t offset : locations.timestamps) {
        uint64_t t = LoadLE64(bytes + offset);
        if (t != 0) StoreLE64(bytes + offset, t + kShift);
      }
    }
    benchmark::ClobberMemory();
  }
  ReportThroughput(state, corpus);
}

}  // namespace
}  // namespace otelrr::otlp

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  using otelrr::bench::Corpus;
  std::vector<Corpus> corpora;
  for (otelrr::otlp::Signal signal : otelrr::bench::kAllSignals) {
    corpora.push_back(otelrr::bench::LoadCorpusOrDie(signal));
  }
  for (const Corpus& c : corpora) {
    std::string signal(otelrr::otlp::SignalName(c.signal));
    benchmark::RegisterBenchmark(("Summarize/" + signal).c_str(), otelrr::otlp::BM_Summarize, c);
    benchmark::RegisterBenchmark(("Validate/" + signal).c_str(), otelrr::otlp::BM_Validate, c);
    benchmark::RegisterBenchmark(("Locate/" + signal).c_str(), otelrr::otlp::BM_Locate, c);
    benchmark::RegisterBenchmark(("ShiftTimestamps/" + signal).c_str(), otelrr::otlp::BM_ShiftTimestamps, c);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
