// Writes a session as OTLP JSON Lines: one TracesData, MetricsData or LogsData object per line, in
// arrival order, the format of the OpenTelemetry file exporter and of the Collector's otlpjsonfile
// receiver. Streams: memory does not grow with the session.
//
//   absl::StatusOr<ExportStats> s = ExportJsonLines(sessions, "capture-1", {},
//       [&](std::string_view chunk) { return out.Append(chunk); });
#ifndef OTELRR_SESSION_EXPORT_H_
#define OTELRR_SESSION_EXPORT_H_

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "otlp/schema.h"
#include "session/session_store.h"

namespace otelrr::session {

struct ExportOptions {
  std::vector<otlp::Signal> signals = {};  // empty: all
  // Output is handed to the sink in chunks of about this size.
  size_t chunk_bytes = size_t{1} << 20;
};

struct ExportStats {
  uint64_t records = 0;
  uint64_t bytes = 0;
};

using ExportSink = std::function<absl::Status(std::string_view)>;

absl::StatusOr<ExportStats> ExportJsonLines(SessionStore& sessions, std::string_view session_id,
                                            const ExportOptions& options, const ExportSink& sink);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_EXPORT_H_
