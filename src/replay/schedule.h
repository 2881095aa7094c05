// When each record of a replay is due, and where its timestamps go.
//
//   Schedule s = Schedule::ForSession(metadata, {Signal::kTraces}, {.speed = 2}, clock.Now(), clock.WallNowUnixNano());
//   Clock::TimePoint due = s.Due(record.arrival_unix_nano, /*iteration=*/0);
//   otlp::TimeMap map = s.Timestamps(0);   // --timestamps relative
//
// The session's timeline starts at `origin`, the first arrival among the replayed signals, and one
// iteration lasts `length`: from the origin to the last arrival plus one mean gap between requests, so
// that the iterations of a loop never overlap. Iteration k of the record that arrived at a is due at
//     start + (a - origin + k × length) / speed                 (speed 0: at once)
// and --timestamps relative maps its timestamps t to
//     start_wall + (t - origin + k × length) / speed            (speed 0: as at speed 1)
// One map for every timestamp keeps every item in its place on the replay's timeline: a span that ended
// before its request arrived ends before the replayed request is sent, whatever the speed, and spans,
// points and logs keep their order and their relations. Durations scale with the speed (a 100 ms span
// replayed at speed 2 lasts 50 ms), as everything else does.
//
// Thread-compatible (immutable once made).
#ifndef OTELRR_REPLAY_SCHEDULE_H_
#define OTELRR_REPLAY_SCHEDULE_H_

#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "otlp/rewrite.h"
#include "otlp/signal.h"
#include "session/metadata.h"

namespace otelrr::replay {

class Schedule {
 public:
  struct Timeline {
    uint64_t origin = 0;  // first arrival, unix ns
    uint64_t length = 0;  // of one iteration, ns (> 0)
  };

  // The timeline of `signals` in the session: from the file index (per signal), else (a session whose
  // index is empty) the session's arrival range.
  static Timeline TimelineOf(const session::SessionMetadata& metadata, const std::vector<otlp::Signal>& signals);

  Schedule(Timeline timeline, double speed, Clock::TimePoint start, uint64_t start_wall_unix_nano)
      : timeline_(timeline), speed_(speed), start_(start), start_wall_(start_wall_unix_nano) {}

  Clock::TimePoint Due(uint64_t arrival_unix_nano, uint64_t iteration) const;
  // --timestamps relative for iteration k.
  otlp::TimeMap Timestamps(uint64_t iteration) const;
  // Where the timeline's origin lands on the wall clock in iteration 0.
  uint64_t start_wall() const { return start_wall_; }
  Clock::TimePoint start() const { return start_; }
  const Timeline& timeline() const { return timeline_; }

 private:
  uint64_t Offset(uint64_t arrival_unix_nano, uint64_t iteration) const;

  Timeline timeline_;
  double speed_;
  Clock::TimePoint start_;
  uint64_t start_wall_;
};

}  // namespace otelrr::replay

#endif  // OTELRR_REPLAY_SCHEDULE_H_
