// Fuzzes the OTLP/JSON encoder's input side, JsonCodec::ProtoToJson, with untrusted protobuf read as
// each signal's request.
//
// Oracle: ProtoToJson accepts exactly what Validate accepts; and its JSON survives a round trip through
// JsonToProto and ProtoToJson as the identical text.
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
  constexpr std::string_view kName = "fuzz_proto_to_json";
  static JsonCodec codec;
  std::string_view proto(reinterpret_cast<const char*>(data), size);

  for (Signal signal : otelrr::fuzz::kSignals) {
    std::string json;
    absl::Status s = codec.ProtoToJson(signal, proto, &json);
    if (s.ok() != Validate(signal, proto).ok()) {
      OracleFailed(kName, "ProtoToJson and Validate disagree on validity");
    }
    if (!s.ok()) continue;
    std::string proto2;
    if (!codec.JsonToProto(signal, json, &proto2).ok()) {
      OracleFailed(kName, "JsonToProto refused ProtoToJson's output");
    }
    std::string json2;
    if (!codec.ProtoToJson(signal, proto2, &json2).ok()) {
      OracleFailed(kName, "ProtoToJson refused JsonToProto's output");
    }
    if (json2 != json) OracleFailed(kName, "ProtoToJson(JsonToProto(j)) != j");
  }
  return 0;
}
