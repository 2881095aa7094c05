#include "session/import.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>

#include "common/status.h"
#include "fmt/format.h"
#include "otlp/otlp_file.h"
#include "otlp/wire.h"
#include "session/retention.h"
#include "session/session_id.h"

namespace otelrr::session {
namespace {

// Appends the buffered records in arrival order (stable: equal arrivals keep file order).
absl::Status Drain(std::vector<Record>& buffer, SessionWriter& writer) {
  std::stable_sort(buffer.begin(), buffer.end(),
                   [](const Record& a, const Record& b) { return a.arrival_unix_nano < b.arrival_unix_nano; });
  for (Record& r : buffer) {
    if (absl::Status s = writer.Append(std::move(r)); !s.ok()) return s;
  }
  buffer.clear();
  return absl::OkStatus();
}

absl::Status ImportInto(SessionWriter& writer, const std::vector<std::string>& paths, const ImportOptions& options,
                        std::vector<ImportedFile>* files) {
  std::vector<Record> buffer;
  size_t buffered = 0;
  uint64_t previous_arrival = 0;
  Clock& clock = options.writer.clock != nullptr ? *options.writer.clock : RealClock();
  otlp::OtlpFileOptions file_options{.signal = options.signal};
  for (const std::string& path : paths) {
    absl::StatusOr<std::unique_ptr<otlp::OtlpFileReader>> reader = otlp::OtlpFileReader::Open(path, file_options);
    if (!reader.ok()) return reader.status();
    ImportedFile imported{.path = path, .format = std::string((*reader)->format())};
    otlp::OtlpFileMessage message;
    while (true) {
      absl::StatusOr<bool> more = (*reader)->Next(&message);
      if (!more.ok()) return more.status();
      if (!*more) break;
      absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(message.signal, message.payload);
      if (!summary.ok()) {
        return absl::InvalidArgumentError(fmt::format("{} message {}: {}", path, message.index,
                                                      summary.status().message()));
      }
      uint64_t arrival = summary->min_time_unix_nano;
      if (arrival == 0) arrival = previous_arrival != 0 ? previous_arrival : clock.WallNowUnixNano();
      previous_arrival = arrival;
      buffered += message.payload.size();
      buffer.push_back(Record{.arrival_unix_nano = arrival,
                              .signal = message.signal,
                              .transport = Transport::kImported,
                              .encoding = message.was_json ? Encoding::kJson : Encoding::kProtobuf,
                              .payload = std::move(message.payload)});
      ++imported.messages;
      if (buffered >= options.sort_buffer_bytes) {
        if (absl::Status s = Drain(buffer, writer); !s.ok()) return s;
        buffered = 0;
      }
    }
    if (imported.messages == 0) {
      return absl::InvalidArgumentError(fmt::format("{}: holds no OTLP message", path));
    }
    files->push_back(std::move(imported));
  }
  return Drain(buffer, writer);
}

}  // namespace

absl::StatusOr<ImportResult> ImportFiles(SessionStore& sessions, const std::vector<std::string>& paths,
                                         const ImportOptions& options) {
  if (paths.empty()) return absl::InvalidArgumentError("no file to import");
  if (options.retention_days) {
    if (absl::Status s = ValidateRetentionDays(*options.retention_days); !s.ok()) return s;
  }
  Clock& clock = options.writer.clock != nullptr ? *options.writer.clock : RealClock();
  const uint64_t now = clock.WallNowUnixNano();
  SessionMetadata metadata{
      .session_id = options.session_id.empty() ? NewSessionId("import", now) : options.session_id,
      .session_type = options.session_type,
      .start_time_unix_nano = now,
      .expires_at_unix_nano = ExpiryAfterDays(now, options.retention_days),
      .created_by = options.created_by,
      .description = options.description,
  };
  std::string id = metadata.session_id;
  absl::StatusOr<std::unique_ptr<SessionWriter>> writer = sessions.Create(std::move(metadata), options.writer);
  if (!writer.ok()) return writer.status();

  ImportResult result;
  absl::Status s = ImportInto(**writer, paths, options, &result.files);
  if (s.ok()) s = (*writer)->Close(SessionStatus::kCompleted);
  if (!s.ok()) {
    writer->reset();
    // All or nothing: a failed import leaves no session behind. The error is what the user needs.
    (void)sessions.Delete(id);
    return s;
  }
  result.metadata = (*writer)->metadata();
  return result;
}

}  // namespace otelrr::session
