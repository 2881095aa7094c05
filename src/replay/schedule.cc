#include "replay/schedule.h"

#include <algorithm>
#include <limits>

namespace otelrr::replay {

Schedule::Timeline Schedule::TimelineOf(const session::SessionMetadata& metadata,
                                        const std::vector<otlp::Signal>& signals) {
  uint64_t first = std::numeric_limits<uint64_t>::max(), last = 0, records = 0;
  for (const session::FileEntry& f : metadata.files) {
    if (std::find(signals.begin(), signals.end(), f.signal) == signals.end() || f.records == 0) continue;
    first = std::min(first, f.first_arrival_unix_nano);
    last = std::max(last, f.last_arrival_unix_nano);
    records += f.records;
  }
  if (records == 0) {
    first = metadata.first_arrival_unix_nano.value_or(metadata.start_time_unix_nano);
    last = std::max(metadata.last_arrival_unix_nano.value_or(first), first);
    records = metadata.counts.requests();
  }
  const uint64_t span = last - first;
  // Plus one mean gap, so that the last record of one iteration and the first of the next do not coincide.
  const uint64_t gap = records > 1 ? span / (records - 1) : 1'000'000'000ull;
  return {.origin = first, .length = std::max<uint64_t>(span + gap, 1)};
}

uint64_t Schedule::Offset(uint64_t arrival_unix_nano, uint64_t iteration) const {
  return arrival_unix_nano - std::min(arrival_unix_nano, timeline_.origin) + iteration * timeline_.length;
}

Clock::TimePoint Schedule::Due(uint64_t arrival_unix_nano, uint64_t iteration) const {
  if (speed_ <= 0) return start_;
  const long double ns = static_cast<long double>(Offset(arrival_unix_nano, iteration)) / speed_;
  if (ns >= static_cast<long double>(std::numeric_limits<int64_t>::max() / 2)) return Clock::TimePoint::max();
  return start_ + std::chrono::duration_cast<Clock::Duration>(std::chrono::nanoseconds(static_cast<int64_t>(ns)));
}

otlp::TimeMap Schedule::Timestamps(uint64_t iteration) const {
  // Iteration k: the origin moved k lengths later, on the replay's timeline.
  const double speed = speed_ > 0 ? speed_ : 1;
  const otlp::TimeMap first{.from = timeline_.origin, .to = start_wall_, .speed = speed};
  return {.from = timeline_.origin, .to = first(timeline_.origin + iteration * timeline_.length), .speed = speed};
}

}  // namespace otelrr::replay
