// A session's timeline: how many requests, spans (and of them errors), data points and log records
// arrived in each interval of its schedule, and the totals of each service. What the web UI draws for a
// session and under a replay's progress.
//
//   absl::StatusOr<SessionTimeline> t = LoadTimeline(sessions, "seed-1");  // computed once, then cached
//   t->spans[i]   // spans whose request arrived in [start + i * bucket, start + (i + 1) * bucket)
//
// Buckets are by the request's arrival time (the time replay schedules it by), not the items' own times:
// a timeline is the session's schedule. Bucket 0 starts at the first arrival's whole second; a bucket is
// 1 s wide until the session is longer than kMaxTimelineBuckets seconds, then 2, 4, 8... s, so that the
// timeline stays small (at most kMaxTimelineBuckets buckets) whatever the session's length. An error
// span is one whose status code is ERROR. Services are every resource's service.name ("" when it has
// none), by spans, then data points, then log records, most first.
//
// Cache: a closed session's timeline is written to sessions/{id}/timeline.json the first time it is
// computed (reading the whole session once) and read from there afterwards, as long as the session's
// files, records and bytes are those it was computed from (a recovered or rewritten session is computed
// again). An active session (a capture under way) is computed each time and not cached.
#ifndef OTELRR_TRAINING_TIMELINE_H_
#define OTELRR_TRAINING_TIMELINE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancel.h"
#include "common/json_writer.h"
#include "session/session_store.h"

namespace otelrr::training {

inline constexpr size_t kMaxTimelineBuckets = 4096;

struct ServiceTotals {
  std::string name = {};
  uint64_t spans = 0;
  uint64_t error_spans = 0;
  uint64_t data_points = 0;
  uint64_t log_records = 0;
  bool operator==(const ServiceTotals&) const = default;
};

struct SessionTimeline {
  std::string session_id = {};
  uint64_t start_unix_nano = 0;  // the start of bucket 0: a whole second
  uint64_t bucket_seconds = 1;   // a power of two
  // One entry per bucket, all of the same length (0 for a session without records).
  std::vector<uint64_t> requests = {};
  std::vector<uint64_t> spans = {};
  std::vector<uint64_t> error_spans = {};
  std::vector<uint64_t> data_points = {};
  std::vector<uint64_t> log_records = {};
  std::vector<ServiceTotals> services = {};
  // What it was computed from: the cache holds while the session's metadata says the same.
  uint64_t source_files = 0;
  uint64_t source_requests = 0;
  uint64_t source_bytes = 0;  // uncompressed
  bool operator==(const SessionTimeline&) const = default;

  size_t buckets() const { return requests.size(); }
};

// Reads the whole session once and counts it. Cancelled when `cancel` fires; DataLoss for a damaged record.
absl::StatusOr<SessionTimeline> ComputeTimeline(session::SessionStore& sessions, std::string_view session_id,
                                                Cancellation* cancel = nullptr);
// The cached timeline when it is current, else ComputeTimeline (and the cache written, for a closed
// session; a cache that cannot be written is not an error). NotFound for a session that does not exist.
absl::StatusOr<SessionTimeline> LoadTimeline(session::SessionStore& sessions, std::string_view session_id,
                                             Cancellation* cancel = nullptr);

// Writes the timeline's members (sessionId, startUnixNano, bucketSeconds, buckets, requests, spans,
// errorSpans, dataPoints, logRecords, services, source) into the object `w` has open.
void WriteTimelineFields(const SessionTimeline& timeline, JsonWriter* w);
// Parses what WriteTimelineFields wrote, in an object of its own. InvalidArgument when it is not that.
absl::StatusOr<SessionTimeline> ParseTimelineJson(std::string_view json);
// "sessions/{id}/timeline.json"
std::string TimelineKey(std::string_view session_id);

}  // namespace otelrr::training

#endif  // OTELRR_TRAINING_TIMELINE_H_
