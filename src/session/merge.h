// One session from several: what `otelrr sessions merge` does.
//
//   SessionStore sessions(store);
//   absl::StatusOr<MergeReport> r = MergeSessions(sessions, {.source_ids = {"seed-a", "seed-b"},
//                                                            .session_id = "a-and-b"});
//   if (!r.ok()) return r.status();   // nothing was left in the store
//   r->sources[1].remap_key;          // non-zero: seed-b's trace and span ids were given new values
//
// Order. The records of all sources are interleaved by their (moved) arrival time: a k-way merge of the
// sources' readers, ties broken by the order the sources are listed, then by each source's own order.
//
// Time. With MergeAlign::kStart (the default) every source is moved so that it starts when the first
// listed source starts (their startTime values): each record's arrival and every timestamp in it
// (otlp::ShiftTimestamps) move by the same delta, so each source keeps its own schedule and its items
// keep their places relative to their arrivals. MergeAlign::kKeep leaves every time as it is.
//
// Ids. Trace ids must stay unique: two sources whose spans both belong to trace X would turn two traces
// into one. The rule: the sources are taken in the order listed; a source whose spans share a trace id
// with the spans of an earlier source (as it is written: an earlier source that was remapped no longer
// holds its old ids) gets all its trace and span ids remapped (otlp::RemapIds, key = its position in
// the list, 1 for the second), which keeps its traces, parents, links and the trace ids of its logs and
// exemplars connected. Log records and exemplars only name traces: a source without spans is never
// remapped, so a logs-only capture merged with the traces-only capture of the same system keeps its logs
// pointing at those traces. The merge first runs as if no id were shared, keeping a 64-bit fingerprint of each
// source's span trace ids in memory as they go by (TraceFingerprint: about 17 MB per million traces); at the
// first id two sources share it drops what it wrote, reads each source's span trace ids once to choose the
// remaps, and merges again. So sessions whose traces are their own are read once; a rare fingerprint
// collision only remaps a source that did not need it. When the sources before the
// last hold more than `max_checked_traces` trace ids together (their metadata's counts), nothing is
// read: every source after the first is remapped. Span ids only need to be unique within a trace, so
// they follow their traces. The same session listed twice is allowed: its second copy collides with the
// first and gets new ids (twice the load, as distinct traces).
//
// Sources of different signals merge fine (a traces-only capture and a metrics-only one). Phases: those
// of every source's metadata, moved with their source (identical ones once). Flags: the union. Type:
// the one all sources share, else capture. Description: the sources, their shifts and remaps. Files,
// counts and arrival range: the writer's, so `sessions verify` holds.
//
// Errors, with nothing left in the store: InvalidArgument for fewer than two sources or a shift that
// would move a time before 1970; NotFound for a source that does not exist; FailedPrecondition for one
// being written; AlreadyExists when session_id is taken (that session is left alone); Cancelled when
// `cancel` fired. Memory: one record
// per source, the readers' and writer's buffers, the fingerprints above, the writer's distinct trace ids.
#ifndef OTELRR_SESSION_MERGE_H_
#define OTELRR_SESSION_MERGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancel.h"
#include "session/metadata.h"
#include "session/session_store.h"

namespace otelrr::session {

enum class MergeAlign { kStart, kKeep };

struct MergeOptions {
  std::vector<std::string> source_ids = {};  // at least two
  std::string session_id = {};               // the new session
  MergeAlign align = MergeAlign::kStart;
  uint64_t max_checked_traces = 16'000'000;
  std::string created_by = "otelrr sessions merge";
  // Stops the work between two records: Cancelled, and nothing is left in the store. Not owned.
  Cancellation* cancel = nullptr;
  WriterOptions writer = {};
};

struct MergeSource {
  std::string session_id;
  int64_t shift_nanos = 0;  // added to its arrivals and timestamps
  uint64_t remap_key = 0;   // its ids' otlp::RemapIds key; 0: kept as they were
  uint64_t records = 0;     // records written from it
};

struct MergeReport {
  SessionMetadata metadata;  // the new session's, as written
  std::vector<MergeSource> sources;
  bool ids_checked = true;  // false: too many traces to check, every source after the first was remapped
  uint64_t stored_bytes_read = 0;  // the sources' stored bytes (the merge reads them; the id check reads them again)
};

absl::StatusOr<MergeReport> MergeSessions(SessionStore& sessions, const MergeOptions& options);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_MERGE_H_
