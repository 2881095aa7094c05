// Reading one protobuf message field by field, without a schema: for code that looks at a few fields
// of bytes that are already validated (rewrites of OTLP requests) or small (responses, google.rpc.Status).
// Validating whole OTLP requests is wire.h's job.
//
//   FieldReader fields(message);
//   RawField f;
//   while (fields.Next(&f)) {
//     if (f.Is(2, WireType::kLen)) name = f.value;
//     out.append(f.whole);                 // copy a field as it stands
//   }
//   if (fields.malformed()) return error;
#ifndef OTELRR_OTLP_FIELD_READER_H_
#define OTELRR_OTLP_FIELD_READER_H_

#include <bit>
#include <cstdint>
#include <string_view>

#include "otlp/schema.h"
#include "otlp/wire.h"

namespace otelrr::otlp {

struct RawField {
  uint32_t number = 0;
  WireType wire = WireType::kVarint;
  uint64_t varint = 0;     // kVarint: the value
  std::string_view value;  // kLen: the contents; kFixed64 / kFixed32: the 8 / 4 bytes; kVarint: its bytes
  std::string_view whole;  // the whole field, tag included

  bool Is(uint32_t n, WireType w) const { return number == n && wire == w; }
  uint64_t fixed64() const { return LoadLE64(reinterpret_cast<const uint8_t*>(value.data())); }
  double as_double() const { return std::bit_cast<double>(fixed64()); }
};

class FieldReader {
 public:
  explicit FieldReader(std::string_view message)
      : p_(reinterpret_cast<const uint8_t*>(message.data())), end_(p_ + message.size()) {}

  // The next field; false at the end of the message, or at malformed bytes (then malformed() is true).
  bool Next(RawField* f) {
    if (p_ >= end_) return false;
    const uint8_t* begin = p_;
    uint64_t tag;
    if (!ReadVarint(p_, end_, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return Fail();
    f->number = static_cast<uint32_t>(tag >> 3);
    f->wire = static_cast<WireType>(tag & 7);
    const uint8_t* value = p_;
    size_t size = 0;
    switch (f->wire) {
      case WireType::kVarint:
        if (!ReadVarint(p_, end_, &f->varint)) return Fail();
        size = static_cast<size_t>(p_ - value);
        break;
      case WireType::kFixed64:
      case WireType::kFixed32:
        size = f->wire == WireType::kFixed64 ? 8 : 4;
        if (static_cast<size_t>(end_ - p_) < size) return Fail();
        p_ += size;
        break;
      case WireType::kLen: {
        uint64_t n;
        if (!ReadVarint(p_, end_, &n) || n > static_cast<uint64_t>(end_ - p_)) return Fail();
        value = p_;
        size = static_cast<size_t>(n);
        p_ += n;
        break;
      }
      default:
        return Fail();
    }
    f->value = std::string_view(reinterpret_cast<const char*>(value), size);
    f->whole = std::string_view(reinterpret_cast<const char*>(begin), static_cast<size_t>(p_ - begin));
    return true;
  }

  bool malformed() const { return malformed_; }

 private:
  bool Fail() {
    malformed_ = true;
    p_ = end_;
    return false;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  bool malformed_ = false;
};

}  // namespace otelrr::otlp

#endif  // OTELRR_OTLP_FIELD_READER_H_
