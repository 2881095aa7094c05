// The training export's throughput on a seeded session: flat rows of the spans (JSON Lines and CSV),
// of every signal, and counting alone (`otelrr training show`), beside reading the session's records
// without looking inside them (the floor any export pays).
//
//   build-bench/bench/otelrr_training_benchmark --benchmark_counters_tabular=true
//   TMPDIR=/dev/shm build-bench/bench/otelrr_training_benchmark ...   # files in memory, not on disk
//
// The session: `otelrr seed --pattern training-phases --duration 60 --rate 1000 --seed 1` (about 400,000
// spans, 170,000 log records and 700 data points in three phases), generated once into a temp-dir store
// before the benchmarks run. Each export writes its files into a fresh temp dir under $TMPDIR.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "annotate/annotation_service.h"
#include "generate/generator.h"
#include "session/session_store.h"
#include "store/local_store.h"
#include "store/testing/temp_dir.h"
#include "training/dataset.h"
#include "training/export.h"

namespace otelrr::training {
namespace {

struct Seeded {
  store::testing::TempDir dir;
  std::unique_ptr<store::LocalStore> store;
  std::unique_ptr<session::SessionStore> sessions;
  session::SessionMetadata metadata;
};
Seeded* seeded = nullptr;

void Seed() {
  seeded = new Seeded();
  auto store = store::LocalStore::Open({.root = seeded->dir.path()});
  if (!store.ok()) std::abort();
  seeded->store = std::move(*store);
  seeded->sessions = std::make_unique<session::SessionStore>(*seeded->store);
  generate::SeedGenerator generator(*seeded->sessions);
  absl::StatusOr<generate::SeedResult> r = generator.GenerateSeed(
      {.pattern_name = "training-phases", .duration_seconds = 60, .traces_per_second = 1000, .error_rate = 0.05,
       .seed = 1, .session_id = "bench", .start_time_unix_nano = 1'767'225'600'000'000'000});
  if (!r.ok()) std::abort();
  seeded->metadata = *seeded->sessions->Load("bench");
}

TrainingDataset Described() {
  annotate::AnnotationService annotations(*seeded->sessions, nullptr);
  absl::StatusOr<TrainingDataset> d = DescribeSession(*seeded->sessions, annotations, "bench");
  if (!d.ok()) std::abort();
  return *d;
}

void Report(benchmark::State& state, uint64_t spans, uint64_t items, uint64_t bytes) {
  state.counters["spans/s"] = benchmark::Counter(static_cast<double>(spans), benchmark::Counter::kIsRate);
  state.counters["items/s"] = benchmark::Counter(static_cast<double>(items), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// `otelrr training export bench --out DIR --format F [--signals traces]`.
void BM_Export(benchmark::State& state, Format format, bool traces_only) {
  const TrainingDataset described = Described();
  uint64_t spans = 0, items = 0, bytes = 0;
  for (auto _ : state) {
    store::testing::TempDir out;
    ExportOptions options{.dir = out.path().string(), .format = format};
    if (traces_only) options.signals = {otlp::Signal::kTraces};
    absl::StatusOr<ExportReport> r = ExportDataset(*seeded->sessions, described, options);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    for (const ExportedFile& f : r->files) {
      if (f.signal == otlp::Signal::kTraces) spans += f.rows;
      items += f.rows;
      bytes += f.bytes;
    }
  }
  Report(state, spans, items, bytes);
}
BENCHMARK_CAPTURE(BM_Export, spans_jsonl, Format::kJsonl, true)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Export, spans_csv, Format::kCsv, true)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Export, all_jsonl, Format::kJsonl, false)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Export, all_csv, Format::kCsv, false)->Unit(benchmark::kMillisecond)->UseRealTime();

// `otelrr training show bench`: every item's time and phase, no rows.
void BM_Count(benchmark::State& state) {
  uint64_t spans = 0, items = 0;
  for (auto _ : state) {
    TrainingDataset d = Described();
    if (absl::Status s = CountItems(*seeded->sessions, &d); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
    spans += d.items[otlp::Signal::kTraces];
    items += d.items.Sum();
  }
  Report(state, spans, items, 0);
}
BENCHMARK(BM_Count)->Unit(benchmark::kMillisecond)->UseRealTime();

// The floor: the session's trace records read (inflated, merged in arrival order), nothing looked at.
void BM_ReadTraceRecords(benchmark::State& state) {
  uint64_t bytes = 0;
  for (auto _ : state) {
    absl::StatusOr<std::unique_ptr<session::SessionReader>> r =
        seeded->sessions->OpenReader("bench", {.signals = {otlp::Signal::kTraces}});
    if (!r.ok()) std::abort();
    session::Record record;
    while (true) {
      absl::StatusOr<bool> more = (*r)->Next(&record);
      if (!more.ok() || !*more) break;
      bytes += record.payload.size();
    }
  }
  const uint64_t spans = seeded->metadata.counts.spans * static_cast<uint64_t>(state.iterations());
  Report(state, spans, spans, bytes);
}
BENCHMARK(BM_ReadTraceRecords)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace otelrr::training

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  otelrr::training::Seed();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  delete otelrr::training::seeded;
  return 0;
}
