#include "session/internal/derived.h"

#include "common/status.h"
#include "fmt/format.h"

namespace otelrr::session::internal {

absl::StatusOr<SessionMetadata> LoadFinishedSource(SessionStore& sessions, std::string_view session_id) {
  absl::StatusOr<SessionMetadata> m = sessions.Load(session_id);
  if (!m.ok()) return m.status();
  if (m->status == SessionStatus::kActive) {
    return absl::FailedPreconditionError(
        fmt::format("session {} is still being written (or its writer crashed: any otelrr command that opens the "
                    "store for writing recovers it)",
                    session_id));
  }
  return m;
}

absl::Status DerivedSession::Abandon(absl::Status why) {
  // The writer holds the session's lock until it is destroyed, and Delete takes that lock.
  writer_.reset();
  absl::Status deleted = sessions_.Delete(id_);
  if (deleted.ok() || absl::IsNotFound(deleted)) return why;
  if (why.ok()) return deleted;
  return absl::Status(why.code(), fmt::format("{} (and removing the unfinished session {} failed: {})", why.message(),
                                              id_, deleted.message()));
}

absl::Status DerivedSession::AppendStored(Record record, std::optional<uint64_t> items,
                                          const std::function<void(const uint8_t*)>& on_trace_id) {
  auto malformed = [&](const absl::Status& s) {
    return absl::DataLossError(fmt::format("a {} request is not valid OTLP: {}", otlp::SignalName(record.signal),
                                           s.message()));
  };
  if (!items) {
    if (absl::Status s = otlp::Locate(record.signal, record.payload, &where_, otlp::LocateMode::kTrusted); !s.ok()) {
      return malformed(s);
    }
    items = where_.items;
  }
  trace_ids_.clear();
  absl::Status walked = otlp::ForEachTraceId(
      record.signal, record.payload,
      [&](const uint8_t* id) {
        trace_ids_.append(reinterpret_cast<const char*>(id), 16);
        if (on_trace_id) on_trace_id(id);
      },
      otlp::LocateMode::kTrusted);
  if (!walked.ok()) return malformed(walked);
  return Append(std::move(record), *items);
}

absl::Status DerivedSession::AppendLocated(Record record, const otlp::FieldLocations& where,
                                           const std::function<void(const uint8_t*)>& on_trace_id) {
  trace_ids_.clear();
  for (uint32_t offset : where.item_trace_ids) {
    const char* id = record.payload.data() + offset;
    trace_ids_.append(id, 16);
    if (on_trace_id) on_trace_id(reinterpret_cast<const uint8_t*>(id));
  }
  return Append(std::move(record), where.items);
}

absl::Status DerivedSession::Append(Record record, uint64_t items) {
  RecordCounts counts;
  switch (record.signal) {
    case otlp::Signal::kTraces:
      counts.spans = items;
      break;
    case otlp::Signal::kMetrics:
      counts.data_points = items;
      break;
    case otlp::Signal::kLogs:
      counts.log_records = items;
      break;
  }
  return writer_->AppendWalked(std::move(record), counts, trace_ids_);
}

absl::StatusOr<SessionMetadata> DerivedSession::Close() {
  if (absl::Status s = writer_->Close(SessionStatus::kCompleted); !s.ok()) return Abandon(s);
  SessionMetadata m = writer_->metadata();
  writer_.reset();  // releases the lock
  return m;
}

}  // namespace otelrr::session::internal
