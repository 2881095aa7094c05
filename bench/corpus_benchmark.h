// What the microbenchmarks over the corpus (src/*/*_benchmark.cc) share: the start of their main, which
// loads every signal's corpus before anything is registered, the registration of one benchmark per
// signal, and the throughput counters of a pass over a corpus.
//
//   int main(int argc, char** argv) {
//     std::vector<bench::Corpus> corpora = bench::InitializeAndLoadCorpora(&argc, argv);
//     bench::RegisterPerSignal(corpora, {{"Summarize", BM_Summarize}, {"Validate", BM_Validate}});
//     return bench::RunBenchmarks();
//   }
#ifndef OTELRR_BENCH_CORPUS_BENCHMARK_H_
#define OTELRR_BENCH_CORPUS_BENCHMARK_H_

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "bench/corpus.h"

namespace otelrr::bench {

// Takes Google Benchmark's flags from the command line, then loads the corpus of every signal, in
// kAllSignals order. Exits with 1 on a flag it does not know or when the data is missing: a benchmark
// main cannot run without either.
inline std::vector<Corpus> InitializeAndLoadCorpora(int* argc, char** argv) {
  benchmark::Initialize(argc, argv);
  if (benchmark::ReportUnrecognizedArguments(*argc, argv)) std::exit(1);
  std::vector<Corpus> corpora;
  for (otlp::Signal signal : kAllSignals) corpora.push_back(LoadCorpusOrDie(signal));
  return corpora;
}

// A benchmark over one signal's corpus.
using CorpusBenchmark = void (*)(benchmark::State&, const Corpus&);

// Registers every benchmark as "<name>/<signal>" for each corpus, all of a signal's before the next
// signal's.
inline void RegisterPerSignal(const std::vector<Corpus>& corpora,
                              std::initializer_list<std::pair<const char*, CorpusBenchmark>> benchmarks) {
  for (const Corpus& c : corpora) {
    std::string signal(otlp::SignalName(c.signal));
    for (const auto& [name, function] : benchmarks) {
      benchmark::RegisterBenchmark((std::string(name) + "/" + signal).c_str(), function, c);
    }
  }
}

// Runs the benchmarks the flags select; returns main's exit code.
inline int RunBenchmarks() {
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// bytes/s and items/s of a benchmark whose every iteration goes once over the whole corpus.
inline void ReportThroughput(benchmark::State& state, const Corpus& corpus) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus.bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * corpus.items));
}

}  // namespace otelrr::bench

#endif  // OTELRR_BENCH_CORPUS_BENCHMARK_H_
