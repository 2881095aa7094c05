// Throughput of the wire walker on real requests of each signal: Summarize (validate and count),
// Validate, Locate (offsets of every timestamp and id), and a timestamp shift done the way capture and
// replay do it: Locate, then patch each 8-byte value in place.
//
//   build-bench/bench/otelrr_wire_benchmark --benchmark_filter=Summarize
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/corpus_benchmark.h"
#include "otlp/wire.h"

namespace otelrr::otlp {
namespace {

using bench::ReportThroughput;

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

void BM_CountStoredItems(benchmark::State& state, const bench::Corpus& corpus) {
  for (auto _ : state) {
    for (const std::string& request : corpus.requests) {
      absl::StatusOr<uint64_t> items = CountStoredItems(corpus.signal, request);
      if (!items.ok()) return state.SkipWithError(std::string(items.status().message()).c_str());
      benchmark::DoNotOptimize(*items);
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
  std::vector<otelrr::bench::Corpus> corpora = otelrr::bench::InitializeAndLoadCorpora(&argc, argv);
  otelrr::bench::RegisterPerSignal(corpora, {{"Summarize", otelrr::otlp::BM_Summarize},
                                             {"Validate", otelrr::otlp::BM_Validate},
                                             {"CountStoredItems", otelrr::otlp::BM_CountStoredItems},
                                             {"Locate", otelrr::otlp::BM_Locate},
                                             {"ShiftTimestamps", otelrr::otlp::BM_ShiftTimestamps}});
  return otelrr::bench::RunBenchmarks();
}
