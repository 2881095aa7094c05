#include "replay/report_json.h"

#include "common/json_fields.h"
#include "fmt/format.h"

namespace otelrr::replay {

namespace {

// The members a single report and a total share: how it ended, what was read, sent and accepted.
void WriteCountFields(const ReplayReport& r, JsonWriter* w) {
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

}  // namespace

void WriteReplayReportFields(const ReplayReport& r, JsonWriter* w) {
  w->Field("sessionId", r.session_id);
  WriteCountFields(r, w);
  if (!r.phases.empty()) w->StringArray("phases", r.phases);
  w->Field("inFlight", r.in_flight);
  w->Field("retrying", r.retrying);
  w->Field("p50LagMs", r.p50_lag_ms);
  w->Field("p99LagMs", r.p99_lag_ms);
  w->Field("positionUnixNano", r.position_unix_nano);
  w->Field("timelineStartUnixNano", r.timeline_start_unix_nano);
  w->Field("timelineEndUnixNano", r.timeline_end_unix_nano);
  w->Field("startWallUnixNano", r.start_wall_unix_nano);
  w->Field("firstSendUnixNano", r.first_send_unix_nano);
  if (r.shards > 1) {
    w->Field("shard", static_cast<uint64_t>(r.shard));
    w->Field("shards", static_cast<uint64_t>(r.shards));
    if (!r.shard_session.empty()) w->Field("shardSession", r.shard_session);
  }
}

void WriteReplayTotalFields(const ReplayReport& r, const std::vector<std::string>& session_ids, JsonWriter* w) {
  w->StringArray("sessions", session_ids);
  WriteCountFields(r, w);
}

absl::StatusOr<ReplayReport> ParseReplayReportJson(std::string_view json) {
  ReplayReport r;
  SignalReport& totals = r.signals[otlp::Signal::kTraces];  // the request counts are totals: kept in one bucket
  std::string end, ignored_text;
  bool ok = true;
  uint64_t ignored = 0, shard = 0, shards = 1;
  std::vector<std::string> ignored_list;
  std::vector<std::pair<std::string, std::string>> ignored_map;
  double ignored_number = 0;
  auto status_codes = [&](std::string_view key, simdjson::dom::element value) -> absl::Status {
    simdjson::dom::object object;
    if (value.get(object) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(fmt::format("{} must be an object of counts", key));
    }
    for (auto [code, count] : object) {
      uint64_t n = 0;
      if (count.get(n) != simdjson::SUCCESS) return absl::InvalidArgumentError(fmt::format("{} must hold counts", key));
      r.status_codes[std::string(code)] += n;
    }
    return absl::OkStatus();
  };
  absl::Status s = ReadJsonObject(
      json, "a replay report (otelrr replay --json)",
      {{"ok", BoolInto(&ok)},
       {"error", StringInto(&ignored_text)},
       {"stoppedBy", StringInto(&ignored_text)},
       {"sessionId", StringInto(&r.session_id)},
       {"endpoint", StringInto(&r.endpoint)},
       {"end", StringInto(&end)},
       {"iterations", Uint64Into(&r.iterations)},
       {"recordsProcessed", Uint64Into(&r.records_processed)},
       {"recordsTotal", Uint64Into(&r.records_total)},
       {"sentRequests", Uint64Into(&totals.sent_requests)},
       {"acceptedRequests", Uint64Into(&totals.accepted_requests)},
       {"failedRequests", Uint64Into(&totals.failed_requests)},
       {"abandonedRequests", Uint64Into(&totals.abandoned_requests)},
       {"retries", Uint64Into(&totals.retries)},
       {"filteredRequests", Uint64Into(&totals.filtered_requests)},
       {"phases", StringsInto(&r.phases)},
       {"inFlight", Uint64Into(&ignored)},
       {"retrying", Uint64Into(&ignored)},
       {"spans", Uint64Into(&r.signals[otlp::Signal::kTraces].items)},
       {"dataPoints", Uint64Into(&r.signals[otlp::Signal::kMetrics].items)},
       {"logRecords", Uint64Into(&r.signals[otlp::Signal::kLogs].items)},
       {"rejectedItems", Uint64Into(&totals.rejected_items)},
       {"elapsedSeconds", NumberInto(&r.elapsed_seconds)},
       {"p50LagMs", NumberInto(&ignored_number)},
       {"p99LagMs", NumberInto(&ignored_number)},
       {"maxLagMs", NumberInto(&r.max_lag_ms)},
       {"statusCodes", status_codes},
       {"positionUnixNano", Uint64Into(&r.position_unix_nano)},
       {"timelineStartUnixNano", Uint64Into(&r.timeline_start_unix_nano)},
       {"timelineEndUnixNano", Uint64Into(&r.timeline_end_unix_nano)},
       {"startWallUnixNano", Uint64Into(&r.start_wall_unix_nano)},
       {"firstSendUnixNano", Uint64Into(&r.first_send_unix_nano)},
       {"shard", Uint64Into(&shard)},
       {"shards", Uint64Into(&shards)},
       {"shardSession", StringInto(&r.shard_session)},
       {"firstError", StringInto(&r.first_error)},
       {"lastError", StringInto(&r.last_error)}});
  if (!s.ok()) return s;
  if (r.session_id.empty() || end.empty()) {
    return absl::InvalidArgumentError(
        "this is not a replay report: it has no sessionId or end (give what `otelrr replay --json` printed)");
  }
  if (end == "finished") {
    r.end = ReplayEnd::kFinished;
  } else if (end == "duration") {
    r.end = ReplayEnd::kDuration;
  } else if (end == "cancelled") {
    r.end = ReplayEnd::kCancelled;
  } else {
    return absl::InvalidArgumentError(fmt::format("end '{}' is not finished, duration or cancelled", end));
  }
  if (shards == 0 || shard >= shards || shards > UINT32_MAX) {
    return absl::InvalidArgumentError(fmt::format("shard {} of {} does not exist", shard, shards));
  }
  r.shard = static_cast<uint32_t>(shard);
  r.shards = static_cast<uint32_t>(shards);
  return r;
}

}  // namespace otelrr::replay
