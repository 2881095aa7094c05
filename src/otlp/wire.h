// The protobuf wire layer of OTLP: a validating walker over Export*ServiceRequest bytes that builds no
// object graph, and the operations built on it.
//
//   absl::StatusOr<RequestSummary> s = Summarize(Signal::kTraces, body);
//   if (!s.ok()) return s.status();          // malformed: the message says where and why
//   s->spans; s->service_names; s->min_time_unix_nano;
//
//   FieldLocations loc;
//   Locate(Signal::kTraces, body, &loc);     // byte offsets of every timestamp and id, to patch in place
//
// Everything here treats its input as untrusted: lengths are checked against the buffer, nesting is
// bounded, wire types must match the schema, and ids must have their OTLP lengths. Unknown fields are
// skipped (and kept: nothing here rewrites bytes it does not understand).
#ifndef OTELRR_OTLP_WIRE_H_
#define OTELRR_OTLP_WIRE_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "otlp/schema.h"

namespace otelrr::otlp {

// Deepest message nesting accepted (AnyValue can nest without end); protobuf's own default.
inline constexpr int kMaxNestingDepth = 100;

struct RequestSummary {
  uint64_t resources = 0;
  uint64_t spans = 0;
  uint64_t data_points = 0;
  uint64_t log_records = 0;
  // Distinct service.name values of the request's resources, in first-seen order.
  std::vector<std::string> service_names;
  // Smallest and largest non-zero timestamp of any kind in the request; 0 when there is none.
  uint64_t min_time_unix_nano = 0;
  uint64_t max_time_unix_nano = 0;

  // Spans, data points or log records, whichever the signal carries.
  uint64_t items() const { return spans + data_points + log_records; }
};

// Checks that `request` is a well-formed request of `signal` and counts what it holds. With `trace_ids`, the
// same walk also appends the request's trace ids to it, 16 bytes each, exactly as ForEachTraceId visits
// them (capture needs both: one walk instead of two). Nothing is appended when the request is refused.
absl::StatusOr<RequestSummary> Summarize(Signal signal, std::string_view request, std::string* trace_ids = nullptr);

// Checks that `request` is a well-formed request of `signal`, without counting.
absl::Status Validate(Signal signal, std::string_view request);

// Byte offsets, into the request, of the value of every field with a role: each timestamp offset points
// at 8 little-endian bytes, each trace id at 16 bytes, each span id at 8 bytes. Empty ids (length 0)
// are not listed: there is nothing to patch.
struct FieldLocations {
  std::vector<uint32_t> timestamps;
  std::vector<uint32_t> trace_ids;
  std::vector<uint32_t> span_ids;
  // The trace ids of spans, log records and exemplars that hold 16 bytes, in order: those ForEachTraceId visits
  // (trace_ids without the links' and without malformed lengths). Offsets, so they read the ids as patched.
  std::vector<uint32_t> item_trace_ids;
  // Spans, data points and log records seen on the way (what Summarize's items() would say).
  uint64_t items = 0;
  void clear() {
    timestamps.clear();
    trace_ids.clear();
    span_ids.clear();
    item_trace_ids.clear();
    items = 0;
  }
};
// kValidate checks the whole request as Validate does. kTrusted is for bytes that were validated when
// they were stored (a session's records): messages that can hold no timestamp, id or item (attributes,
// resources, scopes and their values) are skipped unread, which makes the walk about twice as fast; the
// rest is still checked, so every offset returned lies inside a well-formed field.
enum class LocateMode { kValidate, kTrusted };
absl::Status Locate(Signal signal, std::string_view request, FieldLocations* out,
                    LocateMode mode = LocateMode::kValidate);

// The spans, data points or log records of a request that was validated when it was stored (a session's
// record), counted without walking into them: several times cheaper than Locate, for a replay that has
// nothing to patch. Bytes that are not well formed may be counted wrong, never read out of bounds.
absl::StatusOr<uint64_t> CountStoredItems(Signal signal, std::string_view request);

// Calls `fn(const uint8_t* id16)` for every non-empty trace id of every span, log record and exemplar
// (links excluded: they point at other traces). Used to count distinct traces. kTrusted, for records
// validated when they were stored, skips the messages that hold no id (attributes, resources, scopes): about
// twice as fast.
template <typename Fn>
absl::Status ForEachTraceId(Signal signal, std::string_view request, Fn&& fn,
                            LocateMode mode = LocateMode::kValidate);

// ---- low-level wire helpers, shared by the codecs ----

// Reads a base-128 varint at *p (advancing it); false when it runs past `end` or exceeds 10 bytes.
inline bool ReadVarint(const uint8_t*& p, const uint8_t* end, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    uint8_t byte = *p++;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

inline void AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Protobuf fixed-width values are little-endian, as is every machine we build for (checked below).
static_assert(std::endian::native == std::endian::little, "otelrr assumes a little-endian machine");
inline uint64_t LoadLE64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t LoadLE32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void StoreLE64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

}  // namespace otelrr::otlp

#include "otlp/internal/walker.h"  // IWYU pragma: keep (template definitions)

#endif  // OTELRR_OTLP_WIRE_H_
