// Fuzzes the OTLP/JSON decoder, JsonCodec::JsonToProto, with the input read as each signal's request.
//
// Oracle: whenever the decoder accepts the input, its protobuf is a well-formed request (Validate) that
// converts back to JSON; from there on the conversion is lossless: that JSON decodes to bytes that
// convert to the identical JSON text, and decode again to the identical bytes. And the round trip keeps
// every span, data point and log record.
//
// Why not "JsonToProto(ProtoToJson(p)) == p" from the first step: JSON with a key given twice becomes
// protobuf with the field twice (as the Collector's decoder does: the last scalar wins, repeated fields
// add up), which protobuf reads the same as the single field that ProtoToJson writes back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/oracle.h"
#include "otlp/json.h"
#include "otlp/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace otelrr::otlp;
  using otelrr::fuzz::OracleFailed;
  constexpr std::string_view kName = "fuzz_json_to_proto";
  static JsonCodec codec;  // reused, as production code reuses it
  std::string_view json(reinterpret_cast<const char*>(data), size);

  for (Signal signal : otelrr::fuzz::kSignals) {
    std::string proto;
    absl::Status s = codec.JsonToProto(signal, json, &proto);
    if (!s.ok()) {
      if (s.message().empty()) OracleFailed(kName, "an error without a message");
      continue;
    }
    absl::StatusOr<RequestSummary> summary = Summarize(signal, proto);
    if (!summary.ok()) OracleFailed(kName, "JsonToProto wrote a malformed request");
    std::string json1;
    if (!codec.ProtoToJson(signal, proto, &json1).ok()) {
      OracleFailed(kName, "ProtoToJson refused JsonToProto's output");
    }
    std::string proto2;
    if (!codec.JsonToProto(signal, json1, &proto2).ok()) {
      OracleFailed(kName, "JsonToProto refused ProtoToJson's output");
    }
    std::string json2;
    if (!codec.ProtoToJson(signal, proto2, &json2).ok()) OracleFailed(kName, "ProtoToJson refused its own round trip");
    if (json2 != json1) OracleFailed(kName, "ProtoToJson(JsonToProto(j)) != j for our own JSON j");
    std::string proto3;
    if (!codec.JsonToProto(signal, json2, &proto3).ok() || proto3 != proto2) {
      OracleFailed(kName, "JsonToProto(ProtoToJson(p)) != p for a p we wrote from our own JSON");
    }
    absl::StatusOr<RequestSummary> summary2 = Summarize(signal, proto2);
    if (!summary2.ok() || summary2->items() != summary->items()) {
      OracleFailed(kName, "the JSON round trip lost or added spans, data points or log records");
    }
  }
  return 0;
}
