// What a replay does to each record before sending it: keep only the items of the listed phases and
// the listed services, move the timestamps, remap trace and span ids, continue cumulative series (replay.h says which and when).
//
//   RecordTransform transform(config, schedule, metadata);
//   absl::StatusOr<RecordTransform::Result> r = transform.Apply(std::move(record), iteration, send_wall);
//   if (r->kept) sender.Send(record.signal, std::move(r->body), r->items);
//
// Timestamps: none leaves them; relative maps them with the schedule (schedule.h); current moves each
// request so that its latest timestamp is its send time, and pins the start time of cumulative series
// (otlp/cumulative.h), which would otherwise change with every request. Ids: a loop (and rewrite_ids)
// gives every iteration its own trace and span ids, the same in every request of that iteration.
//
// Thread-compatible: one replay's thread uses it.
#ifndef OTELRR_REPLAY_RECORD_TRANSFORM_H_
#define OTELRR_REPLAY_RECORD_TRANSFORM_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "otlp/cumulative.h"
#include "otlp/wire.h"
#include "replay/replay.h"
#include "replay/schedule.h"
#include "session/metadata.h"
#include "session/record.h"

namespace otelrr::replay {

class RecordTransform {
 public:
  RecordTransform(const ReplayConfig& config, const Schedule& schedule, const session::SessionMetadata& metadata);

  struct Result {
    bool kept = false;  // false: the phase or service filter left nothing
    std::string body;   // the request to send
    uint64_t items = 0;
  };
  // DataLoss when the record is not valid OTLP (a damaged session).
  absl::StatusOr<Result> Apply(session::Record record, uint64_t iteration, uint64_t send_wall_unix_nano);

  // Distinct service.name values of the requests the filter dropped (at most kMaxFilteredServices).
  const std::set<std::string>& filtered_services() const { return filtered_services_; }
  static constexpr size_t kMaxFilteredServices = 16;

 private:
  const ReplayConfig& config_;
  const Schedule& schedule_;
  const std::string session_id_;
  const uint64_t recording_start_;  // the session's start, unix ns
  std::optional<otlp::CumulativeCarry> carry_;
  otlp::FieldLocations where_;
  std::string scratch_;
  std::set<std::string> filtered_services_;
};

}  // namespace otelrr::replay

#endif  // OTELRR_REPLAY_RECORD_TRANSFORM_H_
