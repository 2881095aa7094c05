// Checks that a stored session is intact and agrees with its metadata.json.
//
//   absl::StatusOr<VerifyReport> r = VerifySession(store, "capture-1");   // or SessionStore::Verify
//   if (!r.ok()) return r.status();            // invalid id, no such session, or a store error
//   if (!r->ok) for (const std::string& p : r->problems) std::cerr << p << "\n";
//
// What is checked: every file in the index exists with its recorded size and SHA-256; every file
// decodes completely (all gzip members complete, every record header valid, every payload a valid
// OTLP request of the record's signal, the file's signal, arrivals sorted within the file, the recorded
// record count, byte counts and arrival range); the counts recomputed from the records (requests per
// signal, spans, data points, log records, distinct traces, bytes, arrival range, total size) equal the
// metadata's; files under raw/ that the index does not list are reported. Each problem is one line
// naming the file (or the metadata field) and what is wrong.
#ifndef OTELRR_SESSION_VERIFY_H_
#define OTELRR_SESSION_VERIFY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_writer.h"
#include "session/metadata.h"
#include "store/object_store.h"

namespace otelrr::session {

struct VerifyReport {
  bool ok = false;
  std::vector<std::string> problems;
  // Recomputed from the records of the indexed files.
  SessionCounts counts;
  uint64_t files_checked = 0;
  uint64_t records = 0;
  uint64_t stored_bytes = 0;
};

absl::StatusOr<VerifyReport> VerifySession(store::ObjectStore& store, std::string_view session_id);

// The report's members, as `sessions verify --json` and POST /api/sessions/{id}/verify give them: ok, files,
// records, traces, spans, dataPoints, logRecords, storedBytes, problems.
void WriteVerifyReportFields(const VerifyReport& report, JsonWriter* w);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_VERIFY_H_
