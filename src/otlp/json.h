// OTLP/JSON, as the OTLP specification defines it, to and from protobuf bytes.
//
//   JsonCodec codec;                                   // reuse: it keeps its parser buffers
//   std::string proto;
//   absl::Status s = codec.JsonToProto(Signal::kTraces, json_text, &proto);
//   std::string json;
//   s = codec.ProtoToJson(Signal::kTraces, proto, &json);
//
// Writing is strict: lowerCamelCase keys, trace and span ids as hex, 64-bit integers as decimal
// strings, enums as integers, bytes as base64, fields at their default value omitted (except fields with
// explicit presence), one line without insignificant whitespace.
//
// Reading is as lenient as the Collector's decoder: lowerCamelCase or snake_case keys (and the pre-1.0
// instrumentationLibrary* names), enums as integers or names, 64-bit integers as strings or numbers,
// doubles as numbers or "NaN"/"Infinity"/"-Infinity", unknown keys ignored, null as absent; and, beyond
// the Collector, trace and span ids as hex or base64 (standard or URL-safe, padded or not), since
// protobuf's generic JSON mapping writes them as base64 and real producers use it.
// Anything else is an error that names the offending key and what was expected. Input is untrusted:
// nesting is bounded and no input makes it crash, hang, or allocate without bound.
#ifndef OTELRR_OTLP_JSON_H_
#define OTELRR_OTLP_JSON_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "otlp/schema.h"

namespace otelrr::otlp {

class JsonCodec {
 public:
  JsonCodec();
  ~JsonCodec();
  JsonCodec(const JsonCodec&) = delete;
  JsonCodec& operator=(const JsonCodec&) = delete;

  // Request (or TracesData/MetricsData/LogsData) JSON object -> Export*ServiceRequest protobuf,
  // appended to *out.
  absl::Status JsonToProto(Signal signal, std::string_view json, std::string* out);
  // Any message of the schema (responses, for example).
  absl::Status JsonToProto(const MessageType& type, std::string_view json, std::string* out);

  // Export*ServiceRequest protobuf -> OTLP/JSON, appended to *out. Fails on malformed protobuf.
  absl::Status ProtoToJson(Signal signal, std::string_view proto, std::string* out);
  absl::Status ProtoToJson(const MessageType& type, std::string_view proto, std::string* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otelrr::otlp

#endif  // OTELRR_OTLP_JSON_H_
