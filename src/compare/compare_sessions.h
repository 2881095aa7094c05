// Compares two stored sessions item by item (comparator.h), reading both in step.
//
//   absl::StatusOr<CompareReport> r = CompareSessions(sessions, "seed-1", "capture-7", {});
//
// Both sessions are read in arrival order, side by side: the reader that is behind, as a fraction of its
// session's arrival range (or of its records, with by_records), reads next. A replay's capture lies on
// its source's timeline moved and scaled, so both readers stay at the same place in the data and only
// what is in flight (or lost) is held. The session's metadata (arrival range, record counts) sets the
// pace; a session without it (active, crashed) is read first.
#ifndef OTELRR_COMPARE_COMPARE_SESSIONS_H_
#define OTELRR_COMPARE_COMPARE_SESSIONS_H_

#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "compare/comparator.h"
#include "session/record.h"
#include "session/session_store.h"

namespace otelrr::compare {

struct SessionCompareOptions {
  CompareOptions compare = {};
  std::vector<otlp::Signal> signals = {};  // empty: all three
  // Applied to each record of A before it is compared: what the target should have received of it (a
  // replay's time map, its service filter). False drops the record.
  std::function<absl::StatusOr<bool>(session::Record&)> transform_a = nullptr;
  // Keep the readers in step by records read rather than by arrival time (a replay at --speed 0 sends as
  // fast as it can: its arrivals are not its source's, scaled).
  bool by_records = false;
  // Called now and then with the items compared so far.
  std::function<void(uint64_t items)> progress = nullptr;
};

absl::StatusOr<CompareReport> CompareSessions(session::SessionStore& sessions, std::string_view a,
                                              std::string_view b, const SessionCompareOptions& options);

}  // namespace otelrr::compare

#endif  // OTELRR_COMPARE_COMPARE_SESSIONS_H_
