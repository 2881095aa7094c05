#include "bench/corpus.h"

#include <cstdio>
#include <cstdlib>

#include "common/status.h"
#include "otlp/otlp_file.h"
#include "otlp/wire.h"

namespace otelrr::bench {

std::string TestDataDir() {
  if (const char* dir = std::getenv("OTELRR_TESTDATA"); dir != nullptr && *dir != '\0') return dir;
  return std::string(OTELRR_SOURCE_DIR) + "/../shared/testdata/otlp";
}

std::string CorpusFile(otlp::Signal signal) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return "traces/highlight_backend-go.json";
    case otlp::Signal::kMetrics:
      return "metrics/otel-demo_elastic-loadgen.jsonl";
    case otlp::Signal::kLogs:
      return "logs/otel-demo_elastic-loadgen.jsonl";
  }
  return "";
}

absl::StatusOr<Corpus> LoadCorpus(otlp::Signal signal) {
  Corpus corpus{.signal = signal, .source = TestDataDir() + "/" + CorpusFile(signal)};
  absl::StatusOr<std::unique_ptr<otlp::OtlpFileReader>> reader =
      otlp::OtlpFileReader::Open(corpus.source, {.signal = signal});
  if (!reader.ok()) return reader.status();
  otlp::OtlpFileMessage message;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&message);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (message.signal != signal) {
      return absl::InvalidArgumentError(fmt::format("{}: message {} is {}, not {}", corpus.source, message.index,
                                                    otlp::SignalName(message.signal), otlp::SignalName(signal)));
    }
    absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(signal, message.payload);
    if (!summary.ok()) return Prefixed(summary.status(), corpus.source);
    corpus.items += summary->items();
    corpus.bytes += message.payload.size();
    corpus.requests.push_back(std::move(message.payload));
  }
  if (corpus.requests.empty()) return absl::NotFoundError(fmt::format("{}: no requests", corpus.source));
  return corpus;
}

Corpus LoadCorpusOrDie(otlp::Signal signal) {
  absl::StatusOr<Corpus> corpus = LoadCorpus(signal);
  if (!corpus.ok()) {
    std::fprintf(stderr, "cannot load the %s corpus: %s (set OTELRR_TESTDATA to the shared testdata/otlp)\n",
                 std::string(otlp::SignalName(signal)).c_str(), std::string(corpus.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(corpus);
}

}  // namespace otelrr::bench
