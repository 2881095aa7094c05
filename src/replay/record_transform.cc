#include "replay/record_transform.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/status.h"
#include "otlp/rewrite.h"

namespace otelrr::replay {
namespace {

// The id remapping key of iteration k (0: ids as recorded): distinct and non-zero per iteration
// (SplitMix64 of the iteration) when the replay loops or rewrites ids.
uint64_t IdKey(const ReplayConfig& config, uint64_t iteration) {
  if (!config.loop && !config.rewrite_ids) return 0;
  uint64_t z = iteration + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return z == 0 ? 1 : z;
}

}  // namespace

RecordTransform::RecordTransform(const ReplayConfig& config, const Schedule& schedule,
                                 const session::SessionMetadata& metadata)
    : config_(config),
      schedule_(schedule),
      session_id_(metadata.session_id),
      recording_start_(std::min(metadata.start_time_unix_nano != 0 ? metadata.start_time_unix_nano
                                                                   : schedule.timeline().origin,
                                schedule.timeline().origin)) {
  // Cumulative series need care when a loop repeats them, and when current timestamps move each
  // request by its own amount.
  if (config.replay_metrics && (config.loop || config.timestamps == TimestampMode::kCurrent)) carry_.emplace();
}

absl::StatusOr<RecordTransform::Result> RecordTransform::Apply(session::Record record, uint64_t iteration,
                                                               uint64_t send_wall_unix_nano) {
  Result out;
  out.body = std::move(record.payload);
  if (!config_.phases.empty()) {
    absl::StatusOr<uint64_t> kept = otlp::KeepItemsInWindows(record.signal, out.body, config_.phase_windows, &scratch_);
    if (!kept.ok()) {
      return absl::DataLossError(
          fmt::format("record {} of session {} is not valid OTLP: {}", record.sequence, session_id_, kept.status().message()));
    }
    if (*kept == 0) return out;  // no item of the phases: not sent
    out.body.swap(scratch_);
  }
  if (config_.shards > 1 && config_.shard_session.empty()) {  // a split's shard session holds only its items
    absl::StatusOr<uint64_t> kept = otlp::KeepItemsOfShard(record.signal, out.body, config_.shard, config_.shards, &scratch_);
    if (!kept.ok()) {
      return absl::DataLossError(
          fmt::format("record {} of session {} is not valid OTLP: {}", record.sequence, session_id_, kept.status().message()));
    }
    if (*kept == 0) return out;  // nothing of this shard: not sent
    out.body.swap(scratch_);
  }
  if (!config_.services.empty()) {
    absl::StatusOr<bool> kept = otlp::FilterServices(record.signal, out.body, config_.services, &scratch_);
    if (!kept.ok() || !*kept) {
      if (kept.ok() && filtered_services_.size() < kMaxFilteredServices) {
        if (absl::StatusOr<otlp::RequestSummary> s = otlp::Summarize(record.signal, out.body); s.ok()) {
          for (std::string& name : s->service_names) {
            if (filtered_services_.size() < kMaxFilteredServices) filtered_services_.insert(std::move(name));
          }
        }
      }
      return out;
    }
    out.body.swap(scratch_);
  }
  // One walk counts the items and finds what to patch. Records were validated when stored (and each
  // member is checksummed), so attributes, resources and scopes are not walked again; with nothing to
  // patch (timestamps as recorded, ids kept), the walk only counts items and does not enter them.
  const uint64_t id_key = IdKey(config_, iteration);
  if (config_.timestamps == TimestampMode::kNone && id_key == 0) {
    absl::StatusOr<uint64_t> items = otlp::CountStoredItems(record.signal, out.body);
    if (!items.ok()) {
      return absl::DataLossError(fmt::format("record {} of session {} is not valid OTLP: {}", record.sequence,
                                             session_id_, items.status().message()));
    }
    out.kept = true;
    out.items = *items;
    return out;  // no carry either: it exists only for loops and current timestamps
  }
  if (absl::Status s = otlp::Locate(record.signal, out.body, &where_, otlp::LocateMode::kTrusted); !s.ok()) {
    return absl::DataLossError(
        fmt::format("record {} of session {} is not valid OTLP: {}", record.sequence, session_id_, s.message()));
  }
  out.kept = true;
  out.items = where_.items;
  int64_t shift = 0;  // current: what this request's timestamps moved by
  uint64_t carry_frame_start = recording_start_;
  switch (config_.timestamps) {
    case TimestampMode::kNone:
      break;
    case TimestampMode::kRelative: {
      const otlp::TimeMap map = schedule_.Timestamps(iteration);
      otlp::MapTimestamps(&out.body, where_, map);
      // Series compare as sent in iteration 0 (one map for every request).
      carry_frame_start = schedule_.Timestamps(0)(recording_start_);
      break;
    }
    case TimestampMode::kCurrent: {
      const uint64_t max = otlp::MaxTimestamp(out.body, where_);
      if (max != 0) shift = static_cast<int64_t>(send_wall_unix_nano - max);
      otlp::ShiftTimestamps(&out.body, where_, shift);
      break;
    }
  }
  if (id_key != 0) otlp::RemapIds(&out.body, where_, id_key);
  if (carry_.has_value() && record.signal == otlp::Signal::kMetrics) {
    bool rewritten = iteration == 0 ? carry_->Observe(out.body, carry_frame_start, shift, &scratch_)
                                    : carry_->Continue(out.body, iteration, &scratch_);
    if (rewritten) out.body.swap(scratch_);
  }
  return out;
}

}  // namespace otelrr::replay
