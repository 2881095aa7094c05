// otelrr_dump_corpus DIR: writes the benchmark corpus (bench/corpus.h) so that a peer in another language
// measures the very same bytes:
//   DIR/{traces,metrics,logs}.pb     each request as protobuf, preceded by its size (4 bytes, big-endian),
//                                    the Collector file exporter's framing
//   DIR/{traces,metrics,logs}.jsonl  each request as our OTLP/JSON, one per line (what JsonToProto reads
//                                    in the json benchmark)
#include <cstdio>
#include <fstream>
#include <string>

#include "bench/corpus.h"
#include "otlp/json.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: otelrr_dump_corpus DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  otelrr::otlp::JsonCodec codec;
  for (otelrr::otlp::Signal signal : otelrr::bench::kAllSignals) {
    otelrr::bench::Corpus corpus = otelrr::bench::LoadCorpusOrDie(signal);
    std::string name(otelrr::otlp::SignalName(signal));
    std::ofstream pb(dir + "/" + name + ".pb", std::ios::binary | std::ios::trunc);
    std::ofstream jsonl(dir + "/" + name + ".jsonl", std::ios::binary | std::ios::trunc);
    for (const std::string& request : corpus.requests) {
      uint32_t n = static_cast<uint32_t>(request.size());
      char size[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                      static_cast<char>(n)};
      pb.write(size, 4);
      pb.write(request.data(), static_cast<std::streamsize>(request.size()));
      std::string json;
      if (absl::Status s = codec.ProtoToJson(signal, request, &json); !s.ok()) {
        std::fprintf(stderr, "%s: %s\n", corpus.source.c_str(), std::string(s.message()).c_str());
        return 1;
      }
      json.push_back('\n');
      jsonl.write(json.data(), static_cast<std::streamsize>(json.size()));
    }
    pb.close();
    jsonl.close();
    if (!pb || !jsonl) {
      std::fprintf(stderr, "cannot write %s/%s.{pb,jsonl}\n", dir.c_str(), name.c_str());
      return 1;
    }
    std::printf("%s: %zu requests, %llu protobuf bytes, %llu items (%s)\n", name.c_str(), corpus.requests.size(),
                static_cast<unsigned long long>(corpus.bytes), static_cast<unsigned long long>(corpus.items),
                corpus.source.c_str());
  }
  return 0;
}
