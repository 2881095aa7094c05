// The in-place rewrites replay applies to captured requests: shifting timestamps, remapping trace and
// span ids, and keeping only some services. Each works on the protobuf bytes of one Export*ServiceRequest
// and the offsets `Locate` (wire.h) found in it; nothing decodes the request into objects.
//
//   FieldLocations where;
//   if (absl::Status s = Locate(signal, body, &where); !s.ok()) return s;
//   // --timestamps=current: the request's latest time becomes its send time.
//   int64_t delta = static_cast<int64_t>(send_time - MaxTimestamp(body, where));
//   ShiftTimestamps(&body, where, delta);
//   RemapIds(&body, where, /*key=*/iteration + 1);   // a loop: fresh ids per iteration
//
//   std::string kept;
//   absl::StatusOr<bool> any = FilterServices(signal, body, {"checkout", "cart"}, &kept);
//   if (!any.ok()) return any.status();             // malformed request
//   if (!*any) continue;                            // no listed service: drop the request
//   // Locate again: filtering moves bytes, so `where` no longer fits `kept`.
//
// Shifting and remapping only overwrite fixed-width values, so the request keeps its size and stays
// valid, and every byte outside the patched fields is left as it was.
#ifndef OTELRR_OTLP_REWRITE_H_
#define OTELRR_OTLP_REWRITE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "otlp/schema.h"
#include "otlp/wire.h"

namespace otelrr::otlp {

// Adds `delta_nanos` to every timestamp listed in `where.timestamps`, in place. A zero timestamp means
// "unset" in OTLP and stays zero. The result saturates instead of wrapping: a shift past the end of the
// uint64 range gives UINT64_MAX, and a shift below the epoch gives 1 (not 0, which would turn a set time
// into an unset one). `where` must come from Locate on these same bytes; offsets that would run past the
// end of `request` are ignored.
void ShiftTimestamps(std::string* request, const FieldLocations& where, int64_t delta_nanos);

// A timeline moved and played at another speed: t -> to + (t - from) / speed. speed 1 is a shift by
// to - from, exactly; other speeds round to the nearest nanosecond.
struct TimeMap {
  uint64_t from = 0;
  uint64_t to = 0;
  double speed = 1;  // > 0

  // 0 (unset) stays 0; the result saturates at 1 and UINT64_MAX as ShiftTimestamps does.
  uint64_t operator()(uint64_t t) const;
};

// Replaces every timestamp t listed in `where` by map(t), in place (the same conditions as ShiftTimestamps).
void MapTimestamps(std::string* request, const FieldLocations& where, const TimeMap& map);

// The largest timestamp listed in `where`, or 0 when the request has no non-zero timestamp. Equal to
// RequestSummary::max_time_unix_nano, without a second walk of the request.
uint64_t MaxTimestamp(std::string_view request, const FieldLocations& where);

// Replaces every trace id and span id listed in `where` by its image under a bijection chosen by `key`,
// in place. Key 0 leaves the ids as they are.
//
// The mapping depends only on the key and the original id, never on where the id sits, so a span's id,
// its children's parent_span_id, links to it, and the trace and span ids of log records and exemplars that
// point at it all change together: the request stays as connected as it was, and requests rewritten with
// the same key stay connected to each other. Different keys give unrelated ids, so each loop iteration
// forms its own traces. The all-zero (invalid) id maps to itself and no other id maps to it.
//
// The mapping (RemapSpanId, RemapTraceId below): odd 64-bit multipliers are drawn from the key with
// SplitMix64, three for span ids and three for trace ids. An 8-byte id, read as a little-endian uint64
// x, goes through Mix(x): three rounds of "multiply by an odd multiplier, then xor with itself shifted
// right". Each round is invertible modulo 2^64 and maps 0 to 0, so Mix is a permutation of the uint64
// values that fixes 0. A trace id is two halves (a, b): a' = Mix(a), b' = Mix(b), then two Feistel
// rounds b' ^= Mix(a'), a' ^= Mix(b'), so every output bit depends on all 128 input bits; each round is
// invertible and fixes (0, 0). The mixing spreads ids; it is no secret: anyone with the key can invert it.
void RemapIds(std::string* request, const FieldLocations& where, uint64_t key);

// The mapping RemapIds applies to one id, for callers that need to know an id's new value (and tests).
void RemapSpanId(uint64_t key, uint8_t id[8]);
void RemapTraceId(uint64_t key, uint8_t id[16]);

// Writes to `*out` a copy of `request` that keeps only the top-level ResourceSpans, ResourceMetrics or
// ResourceLogs entries whose resource has a `service.name` attribute with a string value listed in
// `services` (an entry without a resource or without a string service.name is dropped). Kept entries
// keep their order and their bytes; other top-level fields (unknown to the schema) are kept as they are.
// Returns false when no entry is left, so the caller can drop the request; InvalidArgument when `request`
// is not a well-formed request of `signal`.
//
// Protobuf merge rules decide the name: a resource may arrive in several parts and an AnyValue's last
// oneof member wins. A resource with several service.name attributes (invalid OTLP) is kept when any of
// its names is listed. `services` is searched linearly: a replay filter names a handful of services.
absl::StatusOr<bool> FilterServices(Signal signal, std::string_view request, const std::vector<std::string>& services,
                                    std::string* out);

// A half-open interval of unix-nanosecond times, [start, end).
struct TimeWindow {
  uint64_t start = 0;
  uint64_t end = 0;
  bool operator==(const TimeWindow&) const = default;
};

// Writes to `*out` a copy of `request` that keeps only the items whose own time lies in one of
// `windows` (sorted by start, not overlapping): a span's start_time_unix_nano, a data point's
// time_unix_nano, a log record's time_unix_nano or, when that is 0, its observed_time_unix_nano (the
// training reader's rule, training/items.h). Scopes, metrics and resources left without items are
// dropped; every other field is kept as it is, in its place. Returns the number of items kept (0: drop
// the request). InvalidArgument when the bytes are not well-formed protobuf; like the other rewrites
// it is meant for requests that were validated when they were stored.
absl::StatusOr<uint64_t> KeepItemsInWindows(Signal signal, std::string_view request,
                                            std::span<const TimeWindow> windows, std::string* out);

// Whether every span, data point or log record of `request` has its own time (as KeepItemsInWindows reads it)
// in `windows`: their number when so (KeepItemsInWindows would keep the request as it is), nullopt at the first
// that has not. Reads only, so a caller whose requests usually lie wholly inside its windows (a slice of a
// whole session) skips the copy. InvalidArgument when malformed.
absl::StatusOr<std::optional<uint64_t>> AllItemsInWindows(Signal signal, std::string_view request,
                                                         std::span<const TimeWindow> windows);

// Writes to `*out` a copy of `request` that keeps only the items of shard `shard` of `shards` (replay
// --shard K/N): a deterministic partition, the same in every process on every machine, so that N
// replayers of one session send every item exactly once between them. Spans and log records that carry a
// trace id go with their trace (the shard of the trace id), so every trace, its links and the logs that
// name it come whole from one shard; log records without one go by their resource, data points by their
// series (resource, metric name, attributes), so each series' points (a cumulative sum's) stay in order on
// one shard. Exemplars stay inside their point. Scopes, metrics and resources left empty are dropped.
// Returns the items kept (0: nothing of this request is the shard's). InvalidArgument when malformed.
absl::StatusOr<uint64_t> KeepItemsOfShard(Signal signal, std::string_view request, uint32_t shard, uint32_t shards,
                                          std::string* out);
// The shard of a partition key, and of a trace id (what KeepItemsOfShard uses; for tests and tools).
uint32_t ShardOfKey(uint64_t key, uint32_t shards);
uint32_t ShardOfTraceId(std::string_view trace_id, uint32_t shards);

}  // namespace otelrr::otlp

#endif  // OTELRR_OTLP_REWRITE_H_
