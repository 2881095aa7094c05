// Reading small protobuf messages field by field (responses, google.rpc.Status and its details), for
// the clients in net/. Not for OTLP requests: those go through otlp/wire.h's validating walker.
#ifndef OTELRR_NET_INTERNAL_WIRE_FIELDS_H_
#define OTELRR_NET_INTERNAL_WIRE_FIELDS_H_

#include <cstdint>
#include <string_view>

#include "otlp/wire.h"

namespace otelrr::net::internal {

struct WireField {
  uint32_t number = 0;
  uint32_t wire_type = 0;
  uint64_t varint = 0;
  std::string_view bytes;
};

inline const uint8_t* Begin(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }
inline const uint8_t* End(std::string_view s) { return Begin(s) + s.size(); }

// Reads one field at p: its number, wire type and, for varints the value, for length-delimited fields
// the bytes. False when malformed or at the end.
inline bool NextField(const uint8_t*& p, const uint8_t* end, WireField* f) {
  uint64_t tag;
  if (p >= end || !otlp::ReadVarint(p, end, &tag)) return false;
  f->number = static_cast<uint32_t>(tag >> 3);
  f->wire_type = static_cast<uint32_t>(tag & 7);
  switch (f->wire_type) {
    case 0:
      return otlp::ReadVarint(p, end, &f->varint);
    case 1:
      if (end - p < 8) return false;
      p += 8;
      return true;
    case 2: {
      uint64_t len;
      if (!otlp::ReadVarint(p, end, &len) || len > static_cast<uint64_t>(end - p)) return false;
      f->bytes = std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
      p += len;
      return true;
    }
    case 5:
      if (end - p < 4) return false;
      p += 4;
      return true;
    default:
      return false;
  }
}

}  // namespace otelrr::net::internal

#endif  // OTELRR_NET_INTERNAL_WIRE_FIELDS_H_
