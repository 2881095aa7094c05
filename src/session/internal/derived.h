// What slice.h and merge.h share: the sources they read must be finished, and the session they write
// exists whole or not at all.
#ifndef OTELRR_SESSION_INTERNAL_DERIVED_H_
#define OTELRR_SESSION_INTERNAL_DERIVED_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "otlp/wire.h"
#include "session/metadata.h"
#include "session/session_store.h"

namespace otelrr::session::internal {

// The metadata of a session to read from: NotFound when it does not exist, FailedPrecondition while it
// is being written (its index and counts are not final yet).
absl::StatusOr<SessionMetadata> LoadFinishedSource(SessionStore& sessions, std::string_view session_id);

// A session being derived from others: Close() finishes it; Abandon() (or an error of Close) deletes
// everything written, so a failed slice or merge leaves nothing in the store.
class DerivedSession {
 public:
  DerivedSession(SessionStore& sessions, std::unique_ptr<SessionWriter> writer)
      : sessions_(sessions), writer_(std::move(writer)), id_(writer_->metadata().session_id) {}
  // Abandons the session unless it was closed: an early return never leaves half a session.
  ~DerivedSession() {
    if (writer_ != nullptr) (void)Abandon(absl::OkStatus());
  }
  DerivedSession(const DerivedSession&) = delete;
  DerivedSession& operator=(const DerivedSession&) = delete;

  SessionWriter& writer() { return *writer_; }
  // Appends a record taken from a stored session (validated when it was stored, and CRC-checked since):
  // one walk for its trace ids (SessionWriter::AppendWalked) instead of Append's validating walk and its
  // trace-id walk. `items`: its spans, data points or log records when the caller knows them, else
  // counted here (otlp::Locate, trusted). DataLoss when the request does not decode.
  // `on_trace_id`, when set, sees every trace id the walk finds (as otlp::ForEachTraceId gives them), before the
  // record is written: for a caller that checks ids without a walk of its own.
  absl::Status AppendStored(Record record, std::optional<uint64_t> items = std::nullopt,
                            const std::function<void(const uint8_t*)>& on_trace_id = nullptr);
  // The same for a record the caller located (and perhaps patched) already: `where` is otlp::Locate's of its
  // payload, so the trace ids are read at where.item_trace_ids instead of walking the payload again.
  absl::Status AppendLocated(Record record, const otlp::FieldLocations& where,
                             const std::function<void(const uint8_t*)>& on_trace_id = nullptr);
  // Deletes the session and returns `why` (with the delete's failure appended, when it failed too).
  absl::Status Abandon(absl::Status why);
  // Closes the session as completed and returns its final metadata; deletes it when that fails.
  absl::StatusOr<SessionMetadata> Close();

 private:
  SessionStore& sessions_;
  std::unique_ptr<SessionWriter> writer_;
  const std::string id_;
  absl::Status Append(Record record, uint64_t items);  // trace_ids_ filled
  otlp::FieldLocations where_;  // reused
  std::string trace_ids_;       // reused
};

}  // namespace otelrr::session::internal

#endif  // OTELRR_SESSION_INTERNAL_DERIVED_H_
