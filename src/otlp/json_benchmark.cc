// Throughput of the OTLP/JSON codec on real requests of each signal. bytes/s counts the input: JSON for
// JsonToProto, protobuf for ProtoToJson. The JSON is our own strict one-line form of the same requests
// (what export writes and what the Python peer in bench/ parses).
//
//   build-bench/bench/otelrr_json_benchmark --benchmark_filter=JsonToProto
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/corpus_benchmark.h"
#include "otlp/json.h"

namespace otelrr::otlp {
namespace {

struct JsonCorpus {
  bench::Corpus proto;
  std::vector<std::string> json = {};
  uint64_t json_bytes = 0;
};

JsonCorpus MakeJsonCorpus(bench::Corpus proto) {
  JsonCorpus c{.proto = std::move(proto)};
  JsonCodec codec;
  for (const std::string& request : c.proto.requests) {
    std::string json;
    if (absl::Status s = codec.ProtoToJson(c.proto.signal, request, &json); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.proto.source.c_str(), std::string(s.message()).c_str());
      std::exit(1);
    }
    c.json_bytes += json.size();
    c.json.push_back(std::move(json));
  }
  return c;
}

void BM_JsonToProto(benchmark::State& state, const JsonCorpus& c) {
  JsonCodec codec;
  std::string out;
  for (auto _ : state) {
    for (const std::string& json : c.json) {
      out.clear();
      absl::Status s = codec.JsonToProto(c.proto.signal, json, &out);
      if (!s.ok()) return state.SkipWithError(std::string(s.message()).c_str());
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.json_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.proto.items));
}

void BM_ProtoToJson(benchmark::State& state, const JsonCorpus& c) {
  JsonCodec codec;
  std::string out;
  for (auto _ : state) {
    for (const std::string& request : c.proto.requests) {
      out.clear();
      absl::Status s = codec.ProtoToJson(c.proto.signal, request, &out);
      if (!s.ok()) return state.SkipWithError(std::string(s.message()).c_str());
      benchmark::DoNotOptimize(out.data());
    }
  }
  bench::ReportThroughput(state, c.proto);
}

}  // namespace
}  // namespace otelrr::otlp

int main(int argc, char** argv) {
  std::vector<otelrr::otlp::JsonCorpus> corpora;
  for (otelrr::bench::Corpus& c : otelrr::bench::InitializeAndLoadCorpora(&argc, argv)) {
    corpora.push_back(otelrr::otlp::MakeJsonCorpus(std::move(c)));
  }
  for (const otelrr::otlp::JsonCorpus& c : corpora) {
    std::string signal(otelrr::otlp::SignalName(c.proto.signal));
    benchmark::RegisterBenchmark(("JsonToProto/" + signal).c_str(), otelrr::otlp::BM_JsonToProto, c);
    benchmark::RegisterBenchmark(("ProtoToJson/" + signal).c_str(), otelrr::otlp::BM_ProtoToJson, c);
  }
  return otelrr::bench::RunBenchmarks();
}
