// Appending protobuf wire data to a std::string, for encoders that write requests directly.
//
//   std::string out;
//   AppendTag(&out, 1, WireType::kLen);
//   size_t msg = BeginLengthDelimited(&out);    // reserves the length prefix
//   AppendTag(&out, 7, WireType::kFixed64);
//   AppendFixed64(&out, start_time);
//   EndLengthDelimited(&out, msg);              // writes the length, minimal varint
//
// Nested messages are written in place and their length fixed afterwards: one byte is reserved, and a
// message of 128 bytes or more moves its own contents once to make room for a longer prefix. Each level
// moves only its own bytes, so a tree of depth d costs at most d copies of the data (d is bounded by
// kMaxNestingDepth), and ordinary OTLP (a handful of large levels) costs a few memmoves of the output.
#ifndef OTELRR_OTLP_PROTO_WRITER_H_
#define OTELRR_OTLP_PROTO_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "otlp/schema.h"
#include "otlp/wire.h"

namespace otelrr::otlp {

inline void AppendTag(std::string* out, uint32_t number, WireType wire) {
  AppendVarint(out, (static_cast<uint64_t>(number) << 3) | static_cast<uint64_t>(wire));
}

inline void AppendFixed32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}

inline void AppendFixed64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

// Reserves a one-byte length prefix; returns its position for EndLengthDelimited.
inline size_t BeginLengthDelimited(std::string* out) {
  out->push_back('\0');
  return out->size() - 1;
}

// Writes the length of everything appended since BeginLengthDelimited(out) returned `prefix_pos`.
inline void EndLengthDelimited(std::string* out, size_t prefix_pos) {
  uint64_t len = out->size() - prefix_pos - 1;
  size_t n = VarintSize(len);
  if (n > 1) out->insert(prefix_pos + 1, n - 1, '\0');
  char* p = out->data() + prefix_pos;
  while (len >= 0x80) {
    *p++ = static_cast<char>(len | 0x80);
    len >>= 7;
  }
  *p = static_cast<char>(len);
}

}  // namespace otelrr::otlp

#endif  // OTELRR_OTLP_PROTO_WRITER_H_
