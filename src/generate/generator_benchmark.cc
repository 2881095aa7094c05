// The seed generator's throughput: encoding alone (trace shapes + OTLP bytes, one core), and a whole
// generation into a temp-dir local store with gzip level 1 (what `otelrr seed` does).
//
//   build/bench/otelrr_generator_benchmark --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <string>

#include "generate/generator.h"
#include "generate/span_encoder.h"
#include "generate/trace_builder.h"
#include "session/session_store.h"
#include "store/local_store.h"
#include "store/testing/temp_dir.h"

namespace otelrr::generate {
namespace {

constexpr uint64_t kStart = 1'790'000'000'000'000'000;

Pattern Load(const std::string& name) {
  absl::StatusOr<Pattern> p = BuiltinPattern(name);
  if (!p.ok()) std::abort();
  return *p;
}

// Trace shapes and their span bytes, as the generator makes them, without batching or storage.
void BM_EncodeSpans(benchmark::State& state, const std::string& pattern_name) {
  Pattern pattern = Load(pattern_name);
  uint64_t traces = 1'000'000;
  TraceBuilder builder(pattern, {.seed = 1, .start_unix_nano = kStart, .duration_ns = traces * 1'000'000,
                                 .traces = traces, .error_rate = 0.05});
  SpanEncoder encoder(pattern, builder, 1);
  GeneratedTrace trace;
  std::string out;
  uint64_t k = 0, spans = 0, bytes = 0;
  for (auto _ : state) {
    builder.Build(k++ % traces, &trace);
    for (const GeneratedSpan& s : trace.spans) encoder.AppendSpan(trace, s, &out);
    spans += trace.spans.size();
    if (out.size() > (1 << 20)) {
      bytes += out.size();
      out.clear();
    }
  }
  bytes += out.size();
  state.SetItemsProcessed(static_cast<int64_t>(spans));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["spans/s"] = benchmark::Counter(static_cast<double>(spans), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_EncodeSpans, basic_topology, std::string("basic-topology"));
BENCHMARK_CAPTURE(BM_EncodeSpans, high_load, std::string("high-load"));

// A whole `otelrr seed` into a local store: traces, metrics and logs (or traces only), gzip level 1.
void BM_GenerateIntoStore(benchmark::State& state, const std::string& pattern_name, bool traces_only) {
  uint64_t spans = 0, bytes = 0;
  for (auto _ : state) {
    store::testing::TempDir dir;
    auto store = store::LocalStore::Open({.root = dir.path()});
    session::SessionStore sessions(**store);
    SeedGenerator generator(sessions);
    SeedConfig config{.pattern_name = pattern_name, .duration_seconds = 60, .traces_per_second = 1000,
                      .error_rate = 0.05, .seed = 1, .session_id = "bench", .start_time_unix_nano = kStart};
    if (traces_only) config.signals = {otlp::Signal::kTraces};
    absl::StatusOr<SeedResult> r = generator.GenerateSeed(config);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    spans += r->spans;
    auto m = sessions.Load("bench");
    bytes += m->counts.uncompressed_bytes;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["spans/s"] = benchmark::Counter(static_cast<double>(spans), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_GenerateIntoStore, basic_topology_all, std::string("basic-topology"), false)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_GenerateIntoStore, basic_topology_traces, std::string("basic-topology"), true)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_GenerateIntoStore, high_load_traces, std::string("high-load"), true)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace otelrr::generate

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
