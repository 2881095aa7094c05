// Throughput of replay's per-request rewrites on real requests of each signal: Locate, then shift every
// timestamp and remap every trace and span id in place (a loop iteration's work); and the service filter.
//
//   build-bench/bench/otelrr_rewrite_benchmark --benchmark_filter=LocateShiftRemap
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/corpus_benchmark.h"
#include "otlp/rewrite.h"
#include "otlp/wire.h"

namespace otelrr::otlp {
namespace {

using bench::ReportThroughput;

// Each iteration rewrites the same buffers again, with the next key: the cost does not depend on the
// values.
void BM_LocateShiftRemap(benchmark::State& state, const bench::Corpus& corpus) {
  std::vector<std::string> requests = corpus.requests;
  FieldLocations where;  // reused, as replay does
  uint64_t key = 0;
  for (auto _ : state) {
    ++key;
    for (std::string& request : requests) {
      absl::Status s = Locate(corpus.signal, request, &where);
      if (!s.ok()) return state.SkipWithError(std::string(s.message()).c_str());
      ShiftTimestamps(&request, where, 1'000'000'000);
      RemapIds(&request, where, key);
    }
    benchmark::ClobberMemory();
  }
  ReportThroughput(state, corpus);
}

// The patching alone, offsets already known: what Locate costs is the difference to the above.
void BM_ShiftRemapOnly(benchmark::State& state, const bench::Corpus& corpus) {
  std::vector<std::string> requests = corpus.requests;
  std::vector<FieldLocations> where(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    absl::Status s = Locate(corpus.signal, requests[i], &where[i]);
    if (!s.ok()) return state.SkipWithError(std::string(s.message()).c_str());
  }
  uint64_t key = 0;
  for (auto _ : state) {
    ++key;
    for (size_t i = 0; i < requests.size(); ++i) {
      ShiftTimestamps(&requests[i], where[i], 1'000'000'000);
      RemapIds(&requests[i], where[i], key);
    }
    benchmark::ClobberMemory();
  }
  ReportThroughput(state, corpus);
}

// Keeps the first service of each request (validates, then copies the kept entries).
void BM_FilterServices(benchmark::State& state, const bench::Corpus& corpus) {
  std::vector<std::vector<std::string>> keep;
  for (const std::string& request : corpus.requests) {
    absl::StatusOr<RequestSummary> s = Summarize(corpus.signal, request);
    if (!s.ok()) return state.SkipWithError(std::string(s.status().message()).c_str());
    keep.push_back(s->service_names.empty() ? std::vector<std::string>{} : std::vector{s->service_names[0]});
  }
  std::string out;
  for (auto _ : state) {
    for (size_t i = 0; i < corpus.requests.size(); ++i) {
      absl::StatusOr<bool> any = FilterServices(corpus.signal, corpus.requests[i], keep[i], &out);
      if (!any.ok()) return state.SkipWithError(std::string(any.status().message()).c_str());
      benchmark::DoNotOptimize(out.data());
    }
  }
  ReportThroughput(state, corpus);
}

}  // namespace
}  // namespace otelrr::otlp

int main(int argc, char** argv) {
  std::vector<otelrr::bench::Corpus> corpora = otelrr::bench::InitializeAndLoadCorpora(&argc, argv);
  otelrr::bench::RegisterPerSignal(corpora, {{"LocateShiftRemap", otelrr::otlp::BM_LocateShiftRemap},
                                             {"ShiftRemapOnly", otelrr::otlp::BM_ShiftRemapOnly},
                                             {"FilterServices", otelrr::otlp::BM_FilterServices}});
  return otelrr::bench::RunBenchmarks();
}
