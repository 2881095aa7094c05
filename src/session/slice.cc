#include "session/slice.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_join.h"
#include "common/status.h"
#include "fmt/format.h"
#include "otlp/rewrite.h"
#include "otlp/wire.h"
#include "session/internal/derived.h"
#include "session/record_pipe.h"
#include "session/session_id.h"
#include "session/time_format.h"

namespace otelrr::session {
namespace {

constexpr uint64_t kForever = std::numeric_limits<uint64_t>::max();
constexpr size_t kMaxServicesNamed = 16;  // in the message about a service that is not in the slice

std::string SliceDescription(const SliceOptions& o, uint64_t from, uint64_t to) {
  std::string text = fmt::format("sliced from session {}: arrivals from {} to {}", o.source_id, FormatRfc3339(from),
                                 to == kForever ? std::string("the end") : FormatRfc3339(to));
  if (!o.phases.empty()) text += fmt::format("; phases {}", absl::StrJoin(o.phases, ","));
  if (!o.services.empty()) text += fmt::format("; services {}", absl::StrJoin(o.services, ","));
  if (!o.signals.empty()) {
    std::vector<std::string> names;
    for (otlp::Signal s : o.signals) names.emplace_back(otlp::SignalName(s));
    text += fmt::format("; signals {}", absl::StrJoin(names, ","));
  }
  return text;
}

// The windows whose items the slice keeps: [from, to) and, with phases, the phases' windows within it.
// Empty with `filter` false: every item is kept.
std::vector<otlp::TimeWindow> ItemWindows(const SliceOptions& o, bool* filter) {
  *filter = !o.phase_windows.empty() || o.from_unix_nano != 0 || o.to_unix_nano != kForever;
  if (o.phase_windows.empty()) return {{.start = o.from_unix_nano, .end = o.to_unix_nano}};
  std::vector<otlp::TimeWindow> out;
  for (const otlp::TimeWindow& w : o.phase_windows) {
    const uint64_t start = std::max(w.start, o.from_unix_nano);
    const uint64_t end = std::min(w.end, o.to_unix_nano);
    if (start < end) out.push_back({.start = start, .end = end});
  }
  return out;
}

}  // namespace

std::vector<Phase> ClipPhases(const std::vector<Phase>& phases, const std::vector<std::string>& names,
                              uint64_t from_unix_nano, uint64_t to_unix_nano) {
  std::vector<Phase> sorted = phases;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Phase& a, const Phase& b) { return a.start_time_unix_nano < b.start_time_unix_nano; });
  std::vector<Phase> out;
  for (size_t i = 0; i < sorted.size(); ++i) {
    Phase p = sorted[i];
    if (!names.empty() && std::find(names.begin(), names.end(), p.name) == names.end()) continue;
    uint64_t end = kForever;
    if (p.end_time_unix_nano) {
      end = *p.end_time_unix_nano;
    } else if (i + 1 < sorted.size()) {
      end = sorted[i + 1].start_time_unix_nano;
    }
    const uint64_t start = std::max(p.start_time_unix_nano, from_unix_nano);
    end = std::min(end, to_unix_nano);
    if (start >= end) continue;
    p.start_time_unix_nano = start;
    p.end_time_unix_nano = end == kForever ? std::nullopt : std::optional<uint64_t>(end);
    out.push_back(std::move(p));
  }
  return out;
}

absl::StatusOr<SliceReport> SliceSession(SessionStore& sessions, const SliceOptions& o) {
  if (absl::Status s = ValidateSessionId(o.session_id); !s.ok()) return s;
  if (o.from_unix_nano >= o.to_unix_nano) {
    return absl::InvalidArgumentError(fmt::format("the window is empty: {} is not before {}",
                                                  FormatRfc3339(o.from_unix_nano), FormatRfc3339(o.to_unix_nano)));
  }
  absl::StatusOr<SessionMetadata> source = internal::LoadFinishedSource(sessions, o.source_id);
  if (!source.ok()) return source.status();
  if (!source->first_arrival_unix_nano || !source->last_arrival_unix_nano) {
    return absl::InvalidArgumentError(fmt::format("session {} holds no record to slice", o.source_id));
  }
  const uint64_t first = *source->first_arrival_unix_nano;
  const uint64_t last = *source->last_arrival_unix_nano;
  if (o.to_unix_nano <= first || o.from_unix_nano > last) {
    return absl::InvalidArgumentError(fmt::format(
        "the window from {} to {} lies outside session {}, whose records arrived from {} to {}",
        FormatRfc3339(o.from_unix_nano), o.to_unix_nano == kForever ? "the end" : FormatRfc3339(o.to_unix_nano),
        o.source_id, FormatRfc3339(first), FormatRfc3339(last)));
  }
  for (otlp::Signal s : o.signals) {
    const uint64_t requests = s == otlp::Signal::kTraces    ? source->counts.trace_requests
                              : s == otlp::Signal::kMetrics ? source->counts.metric_requests
                                                            : source->counts.log_requests;
    if (requests == 0) {
      return absl::InvalidArgumentError(fmt::format("session {} holds no {}", o.source_id, otlp::SignalName(s)));
    }
  }
  bool filter_items = false;
  const std::vector<otlp::TimeWindow> item_windows = ItemWindows(o, &filter_items);
  if (item_windows.empty()) {
    return absl::InvalidArgumentError(fmt::format("the phases {} lie outside the window", absl::StrJoin(o.phases, ",")));
  }

  // The new session's bounds: the window's (narrowed to the phases), within the source's.
  const uint64_t window_start = filter_items ? item_windows.front().start : 0;
  const uint64_t window_end = filter_items ? item_windows.back().end : kForever;
  const uint64_t start = std::max(source->start_time_unix_nano, window_start);
  uint64_t end = std::min(source->end_time_unix_nano.value_or(kForever), window_end);

  SessionMetadata m{.session_id = o.session_id,
                    .session_type = source->session_type,
                    .start_time_unix_nano = start,
                    .enabled_flags = source->enabled_flags,
                    .created_by = o.created_by,
                    .description = SliceDescription(o, std::max(o.from_unix_nano, first), o.to_unix_nano),
                    .diagnostic_session_id = source->diagnostic_session_id};
  absl::StatusOr<std::unique_ptr<SessionWriter>> created = sessions.Create(std::move(m), o.writer);
  if (!created.ok()) return created.status();
  internal::DerivedSession target(sessions, std::move(*created));

  absl::StatusOr<std::unique_ptr<SessionReader>> opened = sessions.OpenReader(o.source_id, {.signals = o.signals});
  if (!opened.ok()) return target.Abandon(opened.status());
  // Decompressing goes on beside the filtering and writing.
  ReadAhead reader(std::move(*opened));

  SliceReport report;
  for (const FileEntry& f : source->files) {
    if (o.signals.empty() || std::find(o.signals.begin(), o.signals.end(), f.signal) != o.signals.end()) {
      report.stored_bytes_read += f.size_bytes;
    }
  }
  // Listed services not yet seen in the slice; and the services that are, for the message when one is missing.
  std::set<std::string> unseen(o.services.begin(), o.services.end());
  std::set<std::string> present;
  std::string scratch;
  Record record;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&record);
    if (!more.ok()) return target.Abandon(more.status());
    if (!*more || record.arrival_unix_nano >= o.to_unix_nano) break;
    ++report.records_read;
    if (o.cancel != nullptr && o.cancel->cancelled()) {
      return target.Abandon(absl::CancelledError(fmt::format("the slice of session {} was stopped", o.source_id)));
    }
    if (record.arrival_unix_nano < o.from_unix_nano) continue;
    auto malformed = [&](const absl::Status& s) {
      return target.Abandon(absl::DataLossError(fmt::format("record {} of session {} is not valid OTLP: {}",
                                                            record.sequence, o.source_id, s.message())));
    };
    std::optional<uint64_t> items;  // known when nothing but the window filters
    if (filter_items) {
      // Most records of a window lie wholly inside it: those are kept as they are, without a copy.
      absl::StatusOr<std::optional<uint64_t>> all = otlp::AllItemsInWindows(record.signal, record.payload, item_windows);
      if (!all.ok()) return malformed(all.status());
      if (*all) {
        items = **all;
      } else {
        absl::StatusOr<uint64_t> kept = otlp::KeepItemsInWindows(record.signal, record.payload, item_windows, &scratch);
        if (!kept.ok()) return malformed(kept.status());
        if (*kept == 0) continue;
        record.payload.swap(scratch);
        items = *kept;
      }
    }
    if (!unseen.empty()) {
      absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(record.signal, record.payload);
      if (!summary.ok()) return malformed(summary.status());
      for (std::string& name : summary->service_names) {
        unseen.erase(name);
        if (present.size() < kMaxServicesNamed) present.insert(std::move(name));
      }
    }
    if (!o.services.empty()) {
      absl::StatusOr<bool> kept = otlp::FilterServices(record.signal, record.payload, o.services, &scratch);
      if (!kept.ok()) return malformed(kept.status());
      if (!*kept) continue;
      record.payload.swap(scratch);
      items.reset();
    }
    const uint64_t arrival = record.arrival_unix_nano;
    if (absl::Status s = target.AppendStored(std::move(record), items); !s.ok()) return target.Abandon(s);
    ++report.records_written;
    end = std::max(end, arrival);
  }
  if (!unseen.empty()) {
    return target.Abandon(absl::InvalidArgumentError(fmt::format(
        "no item of service {} is in the slice (its services: {})", absl::StrJoin(unseen, ", "),
        present.empty() ? std::string("none") : absl::StrJoin(present, ", "))));
  }
  if (report.records_written == 0) {
    return target.Abandon(
        absl::InvalidArgumentError(fmt::format("nothing to keep: no item of session {} is in the slice", o.source_id)));
  }
  SessionMetadata& out = target.writer().metadata();
  out.phases = ClipPhases(source->phases, o.phases, window_start, window_end);
  if (end != kForever) out.end_time_unix_nano = end;
  absl::StatusOr<SessionMetadata> closed = target.Close();
  if (!closed.ok()) return closed.status();
  report.metadata = std::move(*closed);
  return report;
}

std::string ShardSessionId(std::string_view source_id, uint32_t shard, uint32_t shards) {
  return fmt::format("{}.shard-{}-of-{}", source_id, shard, shards);
}

absl::StatusOr<SplitReport> SplitSession(SessionStore& sessions, const SplitOptions& o) {
  if (o.shards < 2 || o.shards > kMaxShards) {
    return absl::InvalidArgumentError(
        fmt::format("{} shards: split a session into 2 to {} shards", o.shards, kMaxShards));
  }
  if (absl::Status s = ValidateSessionId(o.source_id); !s.ok()) return s;
  for (uint32_t k = 0; k < o.shards; ++k) {
    const std::string id = ShardSessionId(o.source_id, k, o.shards);
    if (absl::Status s = ValidateSessionId(id); !s.ok()) {
      return absl::InvalidArgumentError(fmt::format("the shard sessions' ids would not be valid: {}", s.message()));
    }
    absl::StatusOr<bool> exists = sessions.Exists(id);
    if (!exists.ok()) return exists.status();
    if (*exists) {
      return absl::AlreadyExistsError(fmt::format(
          "session {} exists already: session {} was split into {} shards before (delete the shards to split again)",
          id, o.source_id, o.shards));
    }
  }
  absl::StatusOr<SessionMetadata> source = internal::LoadFinishedSource(sessions, o.source_id);
  if (!source.ok()) return source.status();
  if (source->shard_of) {
    return absl::InvalidArgumentError(fmt::format("session {} is a shard of {} already: split {} instead",
                                                  o.source_id, source->shard_of->session_id,
                                                  source->shard_of->session_id));
  }

  std::vector<std::unique_ptr<internal::DerivedSession>> targets;
  auto abandon = [&](absl::Status why) {
    for (auto& t : targets) {
      if (t) why = t->Abandon(why);
    }
    targets.clear();
    return why;
  };
  for (uint32_t k = 0; k < o.shards; ++k) {
    SessionMetadata m{.session_id = ShardSessionId(o.source_id, k, o.shards),
                      .session_type = source->session_type,
                      .start_time_unix_nano = source->start_time_unix_nano,
                      .enabled_flags = source->enabled_flags,
                      .created_by = o.created_by,
                      .description = fmt::format("shard {} of {} of session {} (otelrr sessions split)", k, o.shards,
                                                 o.source_id),
                      .diagnostic_session_id = source->diagnostic_session_id,
                      .generator_json = source->generator_json};
    absl::StatusOr<std::unique_ptr<SessionWriter>> created = sessions.Create(std::move(m), o.writer);
    if (!created.ok()) return abandon(created.status());
    targets.push_back(std::make_unique<internal::DerivedSession>(sessions, std::move(*created)));
  }

  absl::StatusOr<std::unique_ptr<SessionReader>> opened = sessions.OpenReader(o.source_id);
  if (!opened.ok()) return abandon(opened.status());
  ReadAhead reader(std::move(*opened));
  SplitReport report;
  for (const FileEntry& f : source->files) report.stored_bytes_read += f.size_bytes;
  Record record;
  std::string part;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&record);
    if (!more.ok()) return abandon(more.status());
    if (!*more) break;
    ++report.records_read;
    if (o.cancel != nullptr && o.cancel->cancelled()) {
      return abandon(absl::CancelledError(fmt::format("the split of session {} was stopped", o.source_id)));
    }
    for (uint32_t k = 0; k < o.shards; ++k) {
      absl::StatusOr<uint64_t> kept = otlp::KeepItemsOfShard(record.signal, record.payload, k, o.shards, &part);
      if (!kept.ok()) {
        return abandon(absl::DataLossError(fmt::format("record {} of session {} is not valid OTLP: {}",
                                                       record.sequence, o.source_id, kept.status().message())));
      }
      if (*kept == 0) continue;
      Record shard_record{.arrival_unix_nano = record.arrival_unix_nano,
                          .sequence = record.sequence,
                          .signal = record.signal,
                          .transport = record.transport,
                          .encoding = record.encoding,
                          .payload = std::move(part)};
      part = std::string();
      if (absl::Status s = targets[k]->AppendStored(std::move(shard_record), *kept); !s.ok()) return abandon(s);
    }
  }
  for (auto& t : targets) {
    SessionMetadata& out = t->writer().metadata();
    out.phases = source->phases;
    out.end_time_unix_nano = source->end_time_unix_nano;
    out.shard_of = ShardOf{.session_id = o.source_id,
                           .shard = static_cast<uint32_t>(report.shards.size()),
                           .shards = o.shards};
    absl::StatusOr<SessionMetadata> closed = t->Close();
    if (!closed.ok()) {
      t.reset();
      return abandon(closed.status());
    }
    report.shards.push_back(std::move(*closed));
  }
  targets.clear();
  return report;
}

}  // namespace otelrr::session
