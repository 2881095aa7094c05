#include "session/verify.h"

#include "session/trace_id_set.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <map>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "otlp/wire.h"
#include "session/file_reader.h"
#include "session/layout.h"
#include "session/session_id.h"
#include "session/time_format.h"

namespace otelrr::session {
namespace {

std::string OptionalNano(const std::optional<uint64_t>& v) { return v ? fmt::format("{}", *v) : "absent"; }

// Decodes one indexed file completely and adds what it holds to the report.
void CheckFile(store::ObjectStore& store, const std::string& key, const FileEntry& entry,
               TraceIdSet& trace_ids, VerifyReport& report,
               std::optional<uint64_t>& first, std::optional<uint64_t>& last) {
  auto problem = [&](std::string what) { report.problems.push_back(fmt::format("{}: {}", entry.path, what)); };
  absl::StatusOr<std::unique_ptr<FileReader>> reader = FileReader::Open(store, key, {.compute_sha256 = true});
  if (!reader.ok()) {
    problem(fmt::format("cannot be read: {}", std::string(reader.status().message())));
    return;
  }
  FileReader& r = **reader;
  Record rec;
  std::string walked_ids;  // each record's trace ids
  uint64_t file_first = 0, file_last = 0, index = 0;
  int payload_problems = 0;
  while (true) {
    absl::StatusOr<bool> more = r.Next(&rec);
    if (!more.ok()) {
      // The message already names the file key; keep the relative path only once.
      std::string message(more.status().message());
      if (message.starts_with(key + ": ")) message.erase(0, key.size() + 2);
      problem(fmt::format("does not decode completely: {}", message));
      return;
    }
    if (!*more) break;
    if (index == 0) file_first = rec.arrival_unix_nano;
    if (index > 0 && rec.arrival_unix_nano < file_last) {
      problem(fmt::format("record {} (sequence {}) arrived before the record preceding it: the file is not sorted",
                          index, rec.sequence));
    }
    file_last = index == 0 ? rec.arrival_unix_nano : std::max(file_last, rec.arrival_unix_nano);
    if (rec.signal != entry.signal) {
      problem(fmt::format("record {} (sequence {}) is a {} record in a {} file", index, rec.sequence,
                          otlp::SignalName(rec.signal), otlp::SignalName(entry.signal)));
    }
    walked_ids.clear();
    absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(rec.signal, rec.payload, &walked_ids);
    if (!summary.ok()) {
      if (++payload_problems <= 5) {
        problem(fmt::format("record {} (sequence {}) is not a valid OTLP {} request: {}", index, rec.sequence,
                            otlp::SignalName(rec.signal), std::string(summary.status().message())));
      }
    } else {
      SessionCounts& c = report.counts;
      c.spans += summary->spans;
      c.data_points += summary->data_points;
      c.log_records += summary->log_records;
      trace_ids.InsertAll(walked_ids);
    }
    switch (rec.signal) {
      case otlp::Signal::kTraces:
        ++report.counts.trace_requests;
        break;
      case otlp::Signal::kMetrics:
        ++report.counts.metric_requests;
        break;
      case otlp::Signal::kLogs:
        ++report.counts.log_requests;
        break;
    }
    if (!first || rec.arrival_unix_nano < *first) first = rec.arrival_unix_nano;
    if (!last || rec.arrival_unix_nano > *last) last = rec.arrival_unix_nano;
    ++index;
  }
  if (payload_problems > 5) problem(fmt::format("{} more invalid records", payload_problems - 5));
  ++report.files_checked;
  report.records += r.records();
  report.counts.uncompressed_bytes += r.uncompressed_bytes();
  std::string sha = r.Sha256Hex();
  if (sha != entry.sha256) problem(fmt::format("SHA-256 is {}, the index records {}", sha, entry.sha256));
  if (r.records() != entry.records) {
    problem(fmt::format("holds {} records, the index records {}", r.records(), entry.records));
  }
  if (r.uncompressed_bytes() != entry.uncompressed_bytes) {
    problem(fmt::format("holds {} uncompressed bytes, the index records {}", r.uncompressed_bytes(),
                        entry.uncompressed_bytes));
  }
  if (r.records() > 0 && (file_first != entry.first_arrival_unix_nano || file_last != entry.last_arrival_unix_nano)) {
    problem(fmt::format("arrivals span {}..{}, the index records {}..{}", file_first, file_last,
                        entry.first_arrival_unix_nano, entry.last_arrival_unix_nano));
  }
  RawFileName name;
  if (!ParseRawFilePath(entry.path, &name)) {
    problem("the name does not follow raw/YYYY-MM-DD/HH/{signal}-{timestamp}-{uuid}.otlp.zst (or .otlp.gz, .otlp)");
  } else if (name.signal != entry.signal || name.timestamp_unix_milli != entry.first_arrival_unix_nano / 1'000'000 ||
             name.partition != FormatPartition(entry.first_arrival_unix_nano)) {
    problem(fmt::format("the name does not match the file's signal ({}) and first arrival ({})",
                        otlp::SignalName(entry.signal), FormatRfc3339Nanos(entry.first_arrival_unix_nano)));
  }
}

}  // namespace

absl::StatusOr<VerifyReport> VerifySession(store::ObjectStore& store, std::string_view session_id) {
  if (absl::Status s = ValidateSessionId(session_id); !s.ok()) return s;
  std::string prefix = SessionPrefix(session_id);
  absl::StatusOr<std::vector<store::ObjectInfo>> listing = store.List(prefix);
  if (!listing.ok()) return listing.status();
  if (listing->empty()) {
    return NoSuchSession(session_id);
  }
  VerifyReport report;
  absl::StatusOr<std::string> json = store.ReadAll(MetadataKey(session_id));
  if (!json.ok()) {
    report.problems.push_back(fmt::format("metadata.json: cannot be read: {}", std::string(json.status().message())));
    return report;
  }
  absl::StatusOr<SessionMetadata> parsed = SessionMetadata::FromJson(*json);
  if (!parsed.ok()) {
    report.problems.push_back(std::string(parsed.status().message()));
    return report;
  }
  const SessionMetadata& m = *parsed;
  auto meta_problem = [&](std::string what) { report.problems.push_back(fmt::format("metadata.json: {}", what)); };
  if (m.session_id != session_id) meta_problem(fmt::format("sessionId is \"{}\", not \"{}\"", m.session_id, session_id));
  if (m.status == SessionStatus::kActive) {
    meta_problem("status is \"active\": the session is being written or its writer crashed, so the file index is "
                 "incomplete");
  }

  std::map<std::string, uint64_t> stored;  // relative path -> size
  for (const store::ObjectInfo& o : *listing) {
    std::string path = o.key.substr(prefix.size());
    if (path.starts_with("raw/")) stored[path] = o.size;
  }

  TraceIdSet trace_ids;
  std::optional<uint64_t> first, last;
  std::set<std::string> indexed;
  uint64_t total_size = 0;
  for (const FileEntry& entry : m.files) {
    if (!indexed.insert(entry.path).second) {
      report.problems.push_back(fmt::format("{}: listed twice in the index", entry.path));
      continue;
    }
    auto it = stored.find(entry.path);
    if (it == stored.end()) {
      report.problems.push_back(fmt::format("{}: listed in the index but missing from the store", entry.path));
      continue;
    }
    total_size += it->second;
    report.stored_bytes += it->second;
    if (it->second != entry.size_bytes) {
      report.problems.push_back(
          fmt::format("{}: {} bytes stored, the index records {}", entry.path, it->second, entry.size_bytes));
    }
    CheckFile(store, prefix + entry.path, entry, trace_ids, report, first, last);
  }
  for (const auto& [path, size] : stored) {
    if (!indexed.contains(path)) {
      report.problems.push_back(fmt::format("{}: present under raw/ ({} bytes) but not listed in the index", path, size));
    }
  }

  absl::StatusOr<uint64_t> traces = trace_ids.Count();
  if (!traces.ok()) return traces.status();  // this machine's temporary files, not the session
  report.counts.traces = *traces;
  const SessionCounts& got = report.counts;
  const SessionCounts& want = m.counts;
  auto compare = [&](std::string_view field, uint64_t recomputed, uint64_t recorded) {
    if (recomputed != recorded) {
      meta_problem(fmt::format("{} is {}, the records hold {}", field, recorded, recomputed));
    }
  };
  compare("counts.traces", got.traces, want.traces);
  compare("counts.spans", got.spans, want.spans);
  compare("counts.dataPoints", got.data_points, want.data_points);
  compare("counts.logRecords", got.log_records, want.log_records);
  compare("counts.requests.traces", got.trace_requests, want.trace_requests);
  compare("counts.requests.metrics", got.metric_requests, want.metric_requests);
  compare("counts.requests.logs", got.log_requests, want.log_requests);
  compare("counts.uncompressedBytes", got.uncompressed_bytes, want.uncompressed_bytes);
  compare("capturedTraces", got.traces, m.captured_traces);
  compare("capturedMetrics", got.data_points, m.captured_metrics);
  compare("capturedLogs", got.log_records, m.captured_logs);
  compare("totalSizeBytes", total_size, m.total_size_bytes);
  if (first != m.first_arrival_unix_nano) {
    meta_problem(fmt::format("firstArrivalUnixNano is {}, the records start at {}", OptionalNano(m.first_arrival_unix_nano),
                             OptionalNano(first)));
  }
  if (last != m.last_arrival_unix_nano) {
    meta_problem(fmt::format("lastArrivalUnixNano is {}, the records end at {}", OptionalNano(m.last_arrival_unix_nano),
                             OptionalNano(last)));
  }
  report.ok = report.problems.empty();
  return report;
}

void WriteVerifyReportFields(const VerifyReport& r, JsonWriter* w) {
  w->Field("ok", r.ok);
  w->Field("files", r.files_checked);
  w->Field("records", r.records);
  w->Field("traces", r.counts.traces);
  w->Field("spans", r.counts.spans);
  w->Field("dataPoints", r.counts.data_points);
  w->Field("logRecords", r.counts.log_records);
  w->Field("storedBytes", r.stored_bytes);
  w->StringArray("problems", r.problems);
}

}  // namespace otelrr::session
