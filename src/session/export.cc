#include "session/export.h"

#include "common/status.h"
#include "fmt/format.h"
#include "otlp/json.h"

namespace otelrr::session {

absl::StatusOr<ExportStats> ExportJsonLines(SessionStore& sessions, std::string_view session_id,
                                            const ExportOptions& options, const ExportSink& sink) {
  absl::StatusOr<std::unique_ptr<SessionReader>> reader =
      sessions.OpenReader(session_id, ReaderOptions{.signals = options.signals});
  if (!reader.ok()) return reader.status();
  otlp::JsonCodec codec;
  ExportStats stats;
  std::string chunk;
  Record record;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&record);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (absl::Status s = codec.ProtoToJson(record.signal, record.payload, &chunk); !s.ok()) {
      return absl::DataLossError(
          fmt::format("session {} record {}: {}", session_id, record.sequence, s.message()));
    }
    chunk.push_back('\n');
    ++stats.records;
    if (chunk.size() >= options.chunk_bytes) {
      stats.bytes += chunk.size();
      if (absl::Status s = sink(chunk); !s.ok()) return s;
      chunk.clear();
    }
  }
  if (!chunk.empty()) {
    stats.bytes += chunk.size();
    if (absl::Status s = sink(chunk); !s.ok()) return s;
  }
  return stats;
}

}  // namespace otelrr::session
