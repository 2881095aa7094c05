// The schema-driven protobuf walker behind wire.h. Not API: include "otlp/wire.h".
//
// A Visitor provides:
//   bool Enter(const Field& field, const MessageType& type, const uint8_t* begin, const uint8_t* end);
//       a nested message is about to be walked; return false to skip its contents.
//   void Leave(const Field& field, const MessageType& type);
//   void Value(const Field& field, const uint8_t* data, size_t size, uint64_t varint);
//       a known non-message field value: for varints `varint` holds it; for fixed32/fixed64 `data`
//       points at the 4 or 8 bytes; for strings and bytes `data`/`size` are the contents. Elements of
//       packed fields arrive one by one as if unpacked.
#ifndef OTELRR_OTLP_INTERNAL_WALKER_H_
#define OTELRR_OTLP_INTERNAL_WALKER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "otlp/schema.h"

namespace otelrr::otlp::internal {

// Builds the error for malformed input at byte `at` (relative to `base`) inside a `type` message.
absl::Status WireError(const uint8_t* base, const uint8_t* at, const MessageType& type, std::string_view what);
absl::Status FieldError(const uint8_t* base, const uint8_t* at, const MessageType& type, const Field& field,
                        std::string_view what);

template <typename Visitor>
absl::Status Walk(const MessageType& type, const uint8_t* p, const uint8_t* end, const uint8_t* base, int depth,
                  Visitor& v) {
  if (depth > kMaxNestingDepth) return WireError(base, p, type, "messages nested too deeply");
  while (p < end) {
    const uint8_t* field_start = p;
    uint64_t tag;
    if (!ReadVarint(p, end, &tag)) return WireError(base, field_start, type, "truncated field tag");
    uint64_t number = tag >> 3;
    auto wire = static_cast<WireType>(tag & 7);
    if (number == 0 || number > 0x1fffffff) return WireError(base, field_start, type, "invalid field number");
    const Field* field = FindField(type, static_cast<uint32_t>(number));

    // Read the value's extent first: unknown fields are skipped with the same checks.
    const uint8_t* value = p;
    size_t size = 0;
    uint64_t varint = 0;
    switch (wire) {
      case WireType::kVarint:
        if (!ReadVarint(p, end, &varint)) return WireError(base, field_start, type, "truncated varint");
        break;
      case WireType::kFixed64:
        if (end - p < 8) return WireError(base, field_start, type, "truncated fixed64 value");
        size = 8;
        p += 8;
        break;
      case WireType::kFixed32:
        if (end - p < 4) return WireError(base, field_start, type, "truncated fixed32 value");
        size = 4;
        p += 4;
        break;
      case WireType::kLen: {
        uint64_t len;
        if (!ReadVarint(p, end, &len)) return WireError(base, field_start, type, "truncated length");
        if (len > static_cast<uint64_t>(end - p)) {
          return WireError(base, field_start, type, "length runs past the end of the message");
        }
        value = p;
        size = static_cast<size_t>(len);
        p += len;
        break;
      }
      default:
        return WireError(base, field_start, type, "unsupported wire type (groups are not used by OTLP)");
    }
    if (field == nullptr) continue;  // unknown field: skipped, bytes left as they are

    WireType natural = NaturalWireType(field->type);
    if (wire != natural) {
      if (!(wire == WireType::kLen && field->repeated && IsPackable(field->type))) {
        return FieldError(base, field_start, type, *field, "has the wrong wire type");
      }
      // Packed repeated scalars: walk the elements.
      const uint8_t* q = value;
      const uint8_t* q_end = value + size;
      while (q < q_end) {
        if (natural == WireType::kVarint) {
          uint64_t element;
          if (!ReadVarint(q, q_end, &element)) {
            return FieldError(base, q, type, *field, "holds a truncated packed varint");
          }
          v.Value(*field, nullptr, 0, element);
        } else {
          size_t width = natural == WireType::kFixed64 ? 8 : 4;
          if (static_cast<size_t>(q_end - q) < width) {
            return FieldError(base, q, type, *field, "holds a truncated packed value");
          }
          v.Value(*field, q, width, 0);
          q += width;
        }
      }
      continue;
    }

    if (field->type == FieldType::kMessage) {
      if (v.Enter(*field, *field->message, value, value + size)) {
        absl::Status s = Walk(*field->message, value, value + size, base, depth + 1, v);
        if (!s.ok()) return s;
      }
      v.Leave(*field, *field->message);
      continue;
    }
    if (field->role == FieldRole::kTraceId && size != 0 && size != 16) {
      return FieldError(base, field_start, type, *field, "is not 16 bytes long (a trace id is 16 bytes)");
    }
    if (field->role == FieldRole::kSpanId && size != 0 && size != 8) {
      return FieldError(base, field_start, type, *field, "is not 8 bytes long (a span id is 8 bytes)");
    }
    v.Value(*field, value, size, varint);
  }
  return absl::OkStatus();
}

// Visits the trace ids of spans, log records and exemplars; links point at other traces and are skipped.
const MessageType& LinkType();

// Whether a message of `type` can hold, at any depth, a field with a role (a timestamp or an id) or an item:
// the messages a walk of trusted bytes must enter.
bool MayHoldLocated(const MessageType& type);

template <typename Fn>
struct TraceIdVisitor {
  Fn& fn;
  bool trusted = false;
  bool in_link = false;
  bool Enter(const Field&, const MessageType& type, const uint8_t*, const uint8_t*) {
    if (&type == &LinkType()) in_link = true;
    if (trusted && !MayHoldLocated(type)) return false;
    return true;
  }
  void Leave(const Field&, const MessageType& type) {
    if (&type == &LinkType()) in_link = false;
  }
  void Value(const Field& field, const uint8_t* data, size_t size, uint64_t) {
    if (field.role == FieldRole::kTraceId && size == 16 && !in_link) fn(data);
  }
};

}  // namespace otelrr::otlp::internal

namespace otelrr::otlp {
template <typename Fn>
absl::Status ForEachTraceId(Signal signal, std::string_view request, Fn&& fn, LocateMode mode) {
  internal::TraceIdVisitor<Fn> v{.fn = fn, .trusted = mode == LocateMode::kTrusted};
  const auto* p = reinterpret_cast<const uint8_t*>(request.data());
  return internal::Walk(RequestType(signal), p, p + request.size(), p, 0, v);
}
}  // namespace otelrr::otlp

#endif  // OTELRR_OTLP_INTERNAL_WALKER_H_
