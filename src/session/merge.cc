#include "session/merge.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/str_join.h"
#include "common/status.h"
#include "fmt/format.h"
#include "otlp/rewrite.h"
#include "otlp/wire.h"
#include "session/internal/derived.h"
#include "session/record_pipe.h"
#include "session/session_id.h"
#include "session/trace_id_set.h"

namespace otelrr::session {
namespace {

// `t` moved by `shift`; false when it would leave the uint64 range (or become 0, "unset").
bool Shift(uint64_t t, int64_t shift, uint64_t* out) {
  if (shift < 0) {
    const uint64_t back = static_cast<uint64_t>(-(shift + 1)) + 1;
    if (t <= back) return false;
    *out = t - back;
    return true;
  }
  if (t > UINT64_MAX - static_cast<uint64_t>(shift)) return false;
  *out = t + static_cast<uint64_t>(shift);
  return true;
}

// Trace-id fingerprints (TraceFingerprint) in memory: merge copies and compares sets, and bounds their size by
// MergeOptions::max_checked_traces.
using Fingerprints = absl::flat_hash_set<uint64_t>;

// Reads the trace ids of a session's spans into `sets`.
absl::Status ReadTraceIds(SessionStore& sessions, const SessionMetadata& source, const std::vector<Fingerprints*>& sets,
                          Cancellation* cancel) {
  const std::string& id = source.session_id;
  ReaderOptions options;
  options.signals = {otlp::Signal::kTraces};
  absl::StatusOr<std::unique_ptr<SessionReader>> opened = sessions.OpenReader(id, std::move(options));
  if (!opened.ok()) return opened.status();
  ReadAhead reader(std::move(*opened));
  Record record;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&record);
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    if (cancel != nullptr && cancel->cancelled()) return absl::CancelledError("the merge was stopped");
    // Stored records were validated when written: the trusted walk skips what holds no id.
    absl::Status s = otlp::ForEachTraceId(
        record.signal, record.payload, [&](const uint8_t* trace_id) {
          const uint64_t f = TraceFingerprint(trace_id);
          for (Fingerprints* set : sets) set->insert(f);
        },
        otlp::LocateMode::kTrusted);
    if (!s.ok()) {
      return absl::DataLossError(
          fmt::format("record {} of session {} is not valid OTLP: {}", record.sequence, id, s.message()));
    }
  }
}

// Sets each source's remap_key by the rule in merge.h.
absl::Status ChooseRemaps(SessionStore& sessions, const std::vector<SessionMetadata>& sources, uint64_t max_checked,
                          Cancellation* cancel, MergeReport* report) {
  uint64_t earlier = 0;
  for (size_t i = 0; i + 1 < sources.size(); ++i) earlier += sources[i].counts.traces;
  if (earlier > max_checked) {
    report->ids_checked = false;
    for (size_t i = 1; i < sources.size(); ++i) report->sources[i].remap_key = i;
    return absl::OkStatus();
  }
  Fingerprints seen;  // the trace ids of the earlier sources, as they are written
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].counts.spans == 0) continue;  // no span: no trace of its own to collide
    const bool last = i + 1 == sources.size();
    if (seen.size() == 0) {
      if (!last) {
        if (absl::Status s = ReadTraceIds(sessions, sources[i], {&seen}, cancel); !s.ok()) return s;
      }
      continue;
    }
    // Shared ids show as a union smaller than the two sets together.
    Fingerprints own;
    Fingerprints both = seen;
    if (absl::Status s = ReadTraceIds(sessions, sources[i], {&own, &both}, cancel); !s.ok()) return s;
    if (both.size() < seen.size() + own.size()) {
      report->sources[i].remap_key = i;  // its new ids are unrelated to anyone's: `seen` stays as it is
    } else {
      seen = std::move(both);
    }
  }
  return absl::OkStatus();
}

std::string MergeDescription(const MergeReport& r) {
  std::string text = "merged from sessions ";
  for (size_t i = 0; i < r.sources.size(); ++i) {
    const MergeSource& s = r.sources[i];
    if (i > 0) text += ", ";
    text += s.session_id;
    std::vector<std::string> notes;
    if (s.shift_nanos != 0) notes.push_back(fmt::format("moved {:+.3f} s", s.shift_nanos / 1e9));
    if (s.remap_key != 0) notes.push_back(fmt::format("ids remapped with key {}", s.remap_key));
    if (!notes.empty()) text += " (" + absl::StrJoin(notes, ", ") + ")";
  }
  return text;
}

struct Cursor {
  std::unique_ptr<ReadAhead> reader;  // each source decompressed on a thread of its own
  Record record;
  uint64_t arrival = 0;  // the record's, moved
  bool done = false;
};

// What the merged session is, apart from its records.
struct MergedShape {
  SessionMetadata metadata;
  std::vector<Phase> phases;
  std::optional<uint64_t> end;
};

// Writes the merged session in one pass over the sources, with the remaps of report.sources. With `watch_ids`
// (no remap chosen yet), each span trace id is checked against the other sources' as it goes by; at the first
// one two sources share, the session written so far is dropped and the result is false (ChooseRemaps must
// decide). True: the session is complete and report.metadata holds it.
absl::StatusOr<bool> WriteMerged(SessionStore& sessions, const MergeOptions& o, const std::vector<SessionMetadata>& sources,
                                 const MergedShape& shape, bool watch_ids, MergeReport& report) {
  absl::StatusOr<std::unique_ptr<SessionWriter>> created = sessions.Create(shape.metadata, o.writer);
  if (!created.ok()) return created.status();
  internal::DerivedSession target(sessions, std::move(*created));
  target.writer().metadata().description = MergeDescription(report);

  std::vector<Fingerprints> ids(watch_ids ? sources.size() : 0);  // each source's span trace ids so far
  bool shared = false;
  size_t current = 0;  // the source of the record being written
  uint64_t last = 0;   // the spans of a trace come together: their id is checked once
  const std::function<void(const uint8_t*)> kNoWatch;
  const std::function<void(const uint8_t*)> watch = [&](const uint8_t* id) {
    const uint64_t f = TraceFingerprint(id);
    if (f == last) return;
    last = f;
    for (size_t j = 0; j < ids.size(); ++j) {
      if (j != current && ids[j].contains(f)) shared = true;
    }
    ids[current].insert(f);
  };

  std::vector<Cursor> cursors(sources.size());
  auto advance = [&](size_t i) -> absl::Status {
    Cursor& c = cursors[i];
    absl::StatusOr<bool> more = c.reader->Next(&c.record);
    if (!more.ok()) return more.status();
    c.done = !*more;
    if (!c.done && !Shift(c.record.arrival_unix_nano, report.sources[i].shift_nanos, &c.arrival)) {
      return absl::InvalidArgumentError(
          fmt::format("record {} of session {} would arrive before 1970", c.record.sequence, sources[i].session_id));
    }
    return absl::OkStatus();
  };
  for (size_t i = 0; i < sources.size(); ++i) {
    absl::StatusOr<std::unique_ptr<SessionReader>> reader = sessions.OpenReader(sources[i].session_id, {});
    if (!reader.ok()) return target.Abandon(reader.status());
    cursors[i].reader = std::make_unique<ReadAhead>(std::move(*reader));
    if (absl::Status s = advance(i); !s.ok()) return target.Abandon(s);
  }
  otlp::FieldLocations where;
  while (true) {
    // A handful of sources: a linear scan for the earliest is as fast as a heap and keeps ties in list order.
    size_t next = cursors.size();
    for (size_t i = 0; i < cursors.size(); ++i) {
      if (!cursors[i].done && (next == cursors.size() || cursors[i].arrival < cursors[next].arrival)) next = i;
    }
    if (next == cursors.size()) break;
    if (o.cancel != nullptr && o.cancel->cancelled()) {
      return target.Abandon(absl::CancelledError("the merge was stopped"));
    }
    Cursor& c = cursors[next];
    MergeSource& source = report.sources[next];
    Record record = std::move(c.record);
    record.arrival_unix_nano = c.arrival;
    // Only spans make a trace a source's own (merge.h): log records and exemplars may point at other sources' traces.
    const bool watched = watch_ids && record.signal == otlp::Signal::kTraces;
    if (current != next) last = 0;
    current = next;
    const std::function<void(const uint8_t*)>& on_id = watched ? watch : kNoWatch;
    // One walk per record: it finds the timestamps and ids to patch, the items, and the trace ids the writer counts.
    if (absl::Status s = otlp::Locate(record.signal, record.payload, &where, otlp::LocateMode::kTrusted); !s.ok()) {
      return target.Abandon(absl::DataLossError(fmt::format("record {} of session {} is not valid OTLP: {}",
                                                            record.sequence, source.session_id, s.message())));
    }
    if (source.shift_nanos != 0) otlp::ShiftTimestamps(&record.payload, where, source.shift_nanos);
    if (source.remap_key != 0) otlp::RemapIds(&record.payload, where, source.remap_key);
    const absl::Status appended = target.AppendLocated(std::move(record), where, on_id);  // the ids as patched
    if (!appended.ok()) return target.Abandon(appended);
    if (shared) {
      (void)target.Abandon(absl::OkStatus());
      return false;
    }
    ++source.records;
    if (absl::Status s = advance(next); !s.ok()) return target.Abandon(s);
  }
  uint64_t records = 0;
  for (const MergeSource& s : report.sources) records += s.records;
  if (records == 0) return target.Abandon(absl::InvalidArgumentError("nothing to merge: the sessions hold no record"));
  target.writer().metadata().phases = shape.phases;
  if (shape.end) target.writer().metadata().end_time_unix_nano = shape.end;
  absl::StatusOr<SessionMetadata> closed = target.Close();
  if (!closed.ok()) return closed.status();
  report.metadata = std::move(*closed);
  return true;
}

}  // namespace

absl::StatusOr<MergeReport> MergeSessions(SessionStore& sessions, const MergeOptions& o) {
  if (absl::Status s = ValidateSessionId(o.session_id); !s.ok()) return s;
  if (o.source_ids.size() < 2) return absl::InvalidArgumentError("a merge needs at least two sessions");
  std::vector<SessionMetadata> sources;
  for (const std::string& id : o.source_ids) {
    absl::StatusOr<SessionMetadata> m = internal::LoadFinishedSource(sessions, id);
    if (!m.ok()) return m.status();
    sources.push_back(*std::move(m));
  }
  MergeReport report;
  const uint64_t origin = sources.front().start_time_unix_nano;
  for (const SessionMetadata& m : sources) {
    MergeSource s{.session_id = m.session_id};
    if (o.align == MergeAlign::kStart) {
      s.shift_nanos = static_cast<int64_t>(origin - m.start_time_unix_nano);  // two's complement: the signed gap
    }
    uint64_t moved = 0;
    if (m.first_arrival_unix_nano && !Shift(*m.first_arrival_unix_nano, s.shift_nanos, &moved)) {
      return absl::InvalidArgumentError(
          fmt::format("aligning session {} on the start of {} would move it before 1970", m.session_id, origin));
    }
    for (const FileEntry& f : m.files) report.stored_bytes_read += f.size_bytes;
    report.sources.push_back(std::move(s));
  }

  // The new session: its type, flags, bounds and phases from the sources, moved.
  SessionMetadata m{.session_id = o.session_id, .session_type = sources.front().session_type, .created_by = o.created_by};
  uint64_t start = UINT64_MAX;
  std::optional<uint64_t> end;
  std::vector<Phase> phases;
  for (size_t i = 0; i < sources.size(); ++i) {
    const SessionMetadata& src = sources[i];
    const int64_t shift = report.sources[i].shift_nanos;
    if (src.session_type != m.session_type) m.session_type = SessionType::kCapture;
    for (const std::string& flag : src.enabled_flags) {
      if (std::find(m.enabled_flags.begin(), m.enabled_flags.end(), flag) == m.enabled_flags.end()) {
        m.enabled_flags.push_back(flag);
      }
    }
    uint64_t t = 0;
    if (Shift(src.start_time_unix_nano, shift, &t)) start = std::min(start, t);
    if (src.end_time_unix_nano && Shift(*src.end_time_unix_nano, shift, &t)) end = std::max(end.value_or(0), t);
    for (Phase p : src.phases) {
      if (!Shift(p.start_time_unix_nano, shift, &p.start_time_unix_nano)) continue;
      if (p.end_time_unix_nano && !Shift(*p.end_time_unix_nano, shift, &*p.end_time_unix_nano)) continue;
      if (std::find(phases.begin(), phases.end(), p) == phases.end()) phases.push_back(std::move(p));
    }
  }
  std::stable_sort(phases.begin(), phases.end(),
                   [](const Phase& a, const Phase& b) { return a.start_time_unix_nano < b.start_time_unix_nano; });
  m.start_time_unix_nano = start == UINT64_MAX ? 0 : start;

  const MergedShape shape{.metadata = std::move(m), .phases = std::move(phases), .end = end};

  // The usual case, sources whose traces are their own, takes one pass: merge without remapping, watching the
  // span trace ids go by, and start again the careful way (read the ids first, ChooseRemaps) only if two
  // sources turn out to share one. Beyond max_checked_traces nothing is checked: every later source is remapped.
  uint64_t earlier = 0;
  for (size_t i = 0; i + 1 < sources.size(); ++i) earlier += sources[i].counts.traces;
  if (earlier <= o.max_checked_traces) {
    absl::StatusOr<bool> done = WriteMerged(sessions, o, sources, shape, /*watch_ids=*/true, report);
    if (!done.ok()) return done.status();
    if (*done) return report;
    for (MergeSource& s : report.sources) s.records = 0;
  }
  // Created (and dropped again) before the ids are read: the id check must not run for a session id that
  // cannot be used.
  {
    absl::StatusOr<std::unique_ptr<SessionWriter>> probe = sessions.Create(shape.metadata, o.writer);
    if (!probe.ok()) return probe.status();
    internal::DerivedSession dropped(sessions, std::move(*probe));
    if (absl::Status s = ChooseRemaps(sessions, sources, o.max_checked_traces, o.cancel, &report); !s.ok()) {
      return dropped.Abandon(s);
    }
  }
  absl::StatusOr<bool> done = WriteMerged(sessions, o, sources, shape, /*watch_ids=*/false, report);
  if (!done.ok()) return done.status();
  return report;
}

}  // namespace otelrr::session
