#include "replay/report_json.h"

namespace otelrr::replay {

void WriteReplayReportFields(const ReplayReport& r, JsonWriter* w) {
  w->Field("sessionId", r.session_id);
  w->Field("endpoint", r.endpoint);
  w->Field("end", ReplayEndName(r.end));
  w->Field("iterations", r.iterations);
  w->Field("recordsProcessed", r.records_processed);
  w->Field("recordsTotal", r.records_total);
  w->Field("sentRequests", r.sent_requests());
  w->Field("acceptedRequests", r.accepted_requests());
  w->Field("failedRequests", r.failed_requests());
  w->Field("abandonedRequests", r.abandoned_requests());
  w->Field("retries", r.retries());
  w->Field("filteredRequests", r.filtered_requests());
  if (!r.phases.empty()) w->StringArray("phases", r.phases);
  w->Field("inFlight", r.in_flight);
  w->Field("retrying", r.retrying);
  w->Field("spans", r.signals[otlp::Signal::kTraces].items);
  w->Field("dataPoints", r.signals[otlp::Signal::kMetrics].items);
  w->Field("logRecords", r.signals[otlp::Signal::kLogs].items);
  w->Field("rejectedItems", r.rejected_items());
  w->Field("elapsedSeconds", r.elapsed_seconds);
  w->Field("p50LagMs", r.p50_lag_ms);
  w->Field("p99LagMs", r.p99_lag_ms);
  w->Field("maxLagMs", r.max_lag_ms);
  w->Key("statusCodes");
  w->BeginObject();
  for (const auto& [code, count] : r.status_codes) w->Field(code, count);
  w->EndObject();
  w->Field("positionUnixNano", r.position_unix_nano);
  w->Field("timelineStartUnixNano", r.timeline_start_unix_nano);
  w->Field("timelineEndUnixNano", r.timeline_end_unix_nano);
  w->Field("startWallUnixNano", r.start_wall_unix_nano);
  if (!r.first_error.empty()) w->Field("firstError", r.first_error);
  if (!r.last_error.empty()) w->Field("lastError", r.last_error);
}

void WriteReplayTotalFields(const ReplayReport& r, const std::vector<std::string>& session_ids, JsonWriter* w) {
  w->StringArray("sessions", session_ids);
  w->Field("endpoint", r.endpoint);
  w->Field("end", ReplayEndName(r.end));
  w->Field("iterations", r.iterations);
  w->Field("recordsProcessed", r.records_processed);
  w->Field("recordsTotal", r.records_total);
  w->Field("sentRequests", r.sent_requests());
  w->Field("acceptedRequests", r.accepted_requests());
  w->Field("failedRequests", r.failed_requests());
  w->Field("abandonedRequests", r.abandoned_requests());
  w->Field("retries", r.retries());
  w->Field("filteredRequests", r.filtered_requests());
  w->Field("spans", r.signals[otlp::Signal::kTraces].items);
  w->Field("dataPoints", r.signals[otlp::Signal::kMetrics].items);
  w->Field("logRecords", r.signals[otlp::Signal::kLogs].items);
  w->Field("rejectedItems", r.rejected_items());
  w->Field("elapsedSeconds", r.elapsed_seconds);
  w->Field("maxLagMs", r.max_lag_ms);
  w->Key("statusCodes");
  w->BeginObject();
  for (const auto& [code, count] : r.status_codes) w->Field(code, count);
  w->EndObject();
  if (!r.first_error.empty()) w->Field("firstError", r.first_error);
  if (!r.last_error.empty()) w->Field("lastError", r.last_error);
}

}  // namespace otelrr::replay
