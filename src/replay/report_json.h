// The JSON form of a replay's report: one place, so that `otelrr replay --json`, `seed --live --json`
// and the control API's /api/replays say the same thing with the same names.
//
//   JsonWriter w;
//   w.BeginObject();
//   w.Field("replayId", id);              // the caller's own fields first
//   WriteReplayReportFields(report, &w);  // sessionId, endpoint, counts, lag, errors...
//   w.EndObject();
#ifndef OTELRR_REPLAY_REPORT_JSON_H_
#define OTELRR_REPLAY_REPORT_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include <vector>

#include "common/json_writer.h"
#include "replay/replay.h"

namespace otelrr::replay {

// Writes the report's members into the object `w` has open:
//   sessionId, endpoint, end ("finished" | "duration" | "cancelled"), iterations, recordsProcessed,
//   recordsTotal, sentRequests, acceptedRequests, failedRequests, abandonedRequests, retries,
//   filteredRequests, inFlight, retrying, spans, dataPoints, logRecords (accepted items), rejectedItems,
//   elapsedSeconds, p50LagMs, p99LagMs, maxLagMs, statusCodes {"200": n, ...}, positionUnixNano,
//   timelineStartUnixNano, timelineEndUnixNano, and firstError / lastError when there was one.
void WriteReplayReportFields(const ReplayReport& report, JsonWriter* w);

// The members of a total of several replays (SumReports) into the object `w` has open: sessions (the ids,
// an array), endpoint, end, iterations, recordsProcessed, recordsTotal, sentRequests, acceptedRequests,
// failedRequests, abandonedRequests, retries, filteredRequests, spans, dataPoints, logRecords,
// rejectedItems, elapsedSeconds, maxLagMs, statusCodes, and firstError / lastError when there was one.
// No percentiles, position or timeline: they do not add up.
void WriteReplayTotalFields(const ReplayReport& total, const std::vector<std::string>& session_ids, JsonWriter* w);

// A report as `otelrr replay --json` printed it (ok, error, stoppedBy and the members above), for
// `otelrr replay-report merge`. The request counts come back as totals (held in the traces entry of
// `signals`); the items per signal as they were. InvalidArgument naming what is wrong.
absl::StatusOr<ReplayReport> ParseReplayReportJson(std::string_view json);

}  // namespace otelrr::replay

#endif  // OTELRR_REPLAY_REPORT_JSON_H_
