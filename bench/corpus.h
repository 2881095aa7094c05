// Real OTLP requests for the benchmarks and bench tools, loaded from the shared test data (read in place,
// never copied into the repo) and converted to protobuf with our own OtlpFileReader.
//
//   absl::StatusOr<Corpus> c = LoadCorpus(otlp::Signal::kTraces);
//   for (const std::string& request : c->requests) Use(request);   // Export*ServiceRequest bytes
//   state.SetBytesProcessed(state.iterations() * c->bytes);
//
// The files are the largest real captures of each signal (see ../shared/testdata/otlp/SOURCES.md):
//   traces   traces/highlight_backend-go.json       1 request, 512 spans (620 KB of JSON)
//   metrics  metrics/otel-demo_elastic-loadgen.jsonl 82 requests (OpenTelemetry Demo)
//   logs     logs/otel-demo_elastic-loadgen.jsonl    617 requests (OpenTelemetry Demo)
// The directory is $OTELRR_TESTDATA when set, otherwise ../shared/testdata/otlp beside the repository.
#ifndef OTELRR_BENCH_CORPUS_H_
#define OTELRR_BENCH_CORPUS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/schema.h"

namespace otelrr::bench {

struct Corpus {
  otlp::Signal signal = otlp::Signal::kTraces;
  std::string source = {};                 // the file it came from
  std::vector<std::string> requests = {};  // Export*ServiceRequest protobuf, in file order
  uint64_t bytes = 0;                 // sum of the request sizes
  uint64_t items = 0;                 // spans, data points or log records in all requests
};

std::string TestDataDir();
// The file LoadCorpus reads for `signal`, relative to TestDataDir().
std::string CorpusFile(otlp::Signal signal);
absl::StatusOr<Corpus> LoadCorpus(otlp::Signal signal);
// LoadCorpus, or a message on stderr and exit(1): for benchmark mains, which cannot run without data.
Corpus LoadCorpusOrDie(otlp::Signal signal);

inline constexpr otlp::Signal kAllSignals[] = {otlp::Signal::kTraces, otlp::Signal::kMetrics, otlp::Signal::kLogs};

}  // namespace otelrr::bench

#endif  // OTELRR_BENCH_CORPUS_H_
