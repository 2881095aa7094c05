// Test-only: builds protobuf bytes by hand, field by field, independently of the codecs under test.
//
//   std::string span = ProtoBuilder().Bytes(1, trace_id).Fixed64(7, start).str();
//   std::string req = ProtoBuilder().Msg(1, ProtoBuilder().Msg(2, ProtoBuilder().Bytes(2, span))).str();
//   ProtoBuilder resource = ServiceResource("cart").Msg(1, Attribute("host.name", "h"));
#ifndef OTELRR_OTLP_TESTING_PROTO_BUILDER_H_
#define OTELRR_OTLP_TESTING_PROTO_BUILDER_H_

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

#include "otlp/proto_writer.h"

namespace otelrr::otlp::testing {

class ProtoBuilder {
 public:
  ProtoBuilder& Varint(uint32_t n, uint64_t v) {
    AppendTag(&s_, n, WireType::kVarint);
    AppendVarint(&s_, v);
    return *this;
  }
  ProtoBuilder& Fixed64(uint32_t n, uint64_t v) {
    AppendTag(&s_, n, WireType::kFixed64);
    AppendFixed64(&s_, v);
    return *this;
  }
  ProtoBuilder& Double(uint32_t n, double v) { return Fixed64(n, std::bit_cast<uint64_t>(v)); }
  ProtoBuilder& Fixed32(uint32_t n, uint32_t v) {
    AppendTag(&s_, n, WireType::kFixed32);
    AppendFixed32(&s_, v);
    return *this;
  }
  ProtoBuilder& Bytes(uint32_t n, std::string_view v) {
    AppendTag(&s_, n, WireType::kLen);
    AppendVarint(&s_, v.size());
    s_.append(v);
    return *this;
  }
  ProtoBuilder& Msg(uint32_t n, const ProtoBuilder& m) { return Bytes(n, m.str()); }
  // Bytes appended as they are (malformed input, unknown wire types...).
  ProtoBuilder& Raw(std::string_view bytes) {
    s_.append(bytes);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

// A KeyValue whose value is a string (AnyValue field 1).
inline ProtoBuilder Attribute(std::string_view key, std::string_view value) {
  return ProtoBuilder().Bytes(1, key).Msg(2, ProtoBuilder().Bytes(1, value));
}

// A Resource whose one attribute is service.name = `service`.
inline ProtoBuilder ServiceResource(std::string_view service) {
  return ProtoBuilder().Msg(1, Attribute("service.name", service));
}

}  // namespace otelrr::otlp::testing

#endif  // OTELRR_OTLP_TESTING_PROTO_BUILDER_H_
