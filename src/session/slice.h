// A new session that holds part of another: a window of its arrivals, some of its phases, services or
// signals. What `otelrr sessions slice` does.
//
//   SessionStore sessions(store);
//   absl::StatusOr<SliceReport> r = SliceSession(sessions, {
//       .source_id = "seed-1", .session_id = "seed-1-failure",
//       .from_unix_nano = start + 10'000'000'000, .to_unix_nano = start + 20'000'000'000,
//       .services = {"payment"}, .signals = {otlp::Signal::kTraces}});
//   if (!r.ok()) return r.status();          // nothing was left in the store
//   r->metadata.counts;                      // what the new session holds
//
// What is kept. A record is kept when it arrived in [from, to) and is of a listed signal; of its items
// (spans, data points, log records) only those whose own time (otlp::KeepItemsInWindows: a span's start,
// a point's time, a log's time) lies in [from, to) and, with phases, in one of `phase_windows` (as
// `replay --phases` keeps them); with services, only the resources of a listed service.name
// (otlp::FilterServices). A record left without items is dropped. Nothing else is rewritten: arrival
// times, timestamps and ids stay as they were, so the new session's schedule and phases keep their
// places relative to each other and to the source.
//
// The new session: the source's type and flags; startTime the later of the source's start and the
// window's (the first phase window's, with phases); endTime the earlier of the source's end and the
// window's; the source's metadata phases (only the named ones, with phases) clipped to the window; its
// description says where it came from ("sliced from seed-1: arrivals ... to ..., phases failure"); its
// files, counts and arrival range are the writer's (writer.h), so `sessions verify` holds.
//
// Errors, each with nothing left in the store (a session that was started is deleted): InvalidArgument
// when the window is empty or lies outside the source's arrivals, when a listed signal has no record in
// the source, when a listed service has no item in the slice, or when nothing is left at all;
// AlreadyExists when session_id is taken (that session is left alone); NotFound when the source does not
// exist; FailedPrecondition while it is being written; Cancelled when `cancel` fired. Memory stays flat: one record at a time (the
// reader's and writer's buffers, and the writer's distinct trace ids).
#ifndef OTELRR_SESSION_SLICE_H_
#define OTELRR_SESSION_SLICE_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cancel.h"
#include "otlp/rewrite.h"
#include "otlp/signal.h"
#include "session/metadata.h"
#include "session/session_store.h"

namespace otelrr::session {

struct SliceOptions {
  std::string source_id = {};
  std::string session_id = {};  // the new session
  // The arrival window [from, to), unix ns; the defaults keep every arrival.
  uint64_t from_unix_nano = 0;
  uint64_t to_unix_nano = std::numeric_limits<uint64_t>::max();
  // The named phases and the windows whose items they label (training::ResolvePhaseWindows resolves
  // them: this module does not read annotations); sorted, disjoint. Empty: no phase filter.
  std::vector<std::string> phases = {};
  std::vector<otlp::TimeWindow> phase_windows = {};
  std::vector<std::string> services = {};  // service.name values to keep; empty keeps all
  std::vector<otlp::Signal> signals = {};   // empty: all three
  std::string created_by = "otelrr sessions slice";
  // Stops the work between two records: Cancelled, and nothing is left in the store. Not owned.
  Cancellation* cancel = nullptr;
  WriterOptions writer = {};
};

struct SliceReport {
  SessionMetadata metadata;      // the new session's, as written
  uint64_t records_read = 0;     // records of the source read
  uint64_t records_written = 0;  // records of the new session
  uint64_t stored_bytes_read = 0;  // the source's stored bytes of the signals read (its files' sizes)
};

absl::StatusOr<SliceReport> SliceSession(SessionStore& sessions, const SliceOptions& options);

// The source's phases as the slice keeps them: those named in `names` (all when empty), each clipped to
// [from, to) (a phase without an end lasts until the next phase starts, the last one for ever, as the
// training reader reads them; a clipped end at `to` is written when `to` is finite), sorted by start;
// phases left empty are dropped.
std::vector<Phase> ClipPhases(const std::vector<Phase>& phases, const std::vector<std::string>& names,
                              uint64_t from_unix_nano, uint64_t to_unix_nano);

// A session split into N sessions, one per shard of the partition `replay --shard K/N` uses
// (otlp::KeepItemsOfShard: spans and traced logs by trace id, untraced logs by resource, points by series):
// what `otelrr sessions split` does. Shard K is the session ShardSessionId(source, K, N), holding of every
// record only shard K's items (a record with none is left out), with arrivals, timestamps and ids unchanged,
// the source's phases, type, flags, start and end, and "shardOf" naming the source. A sharded replay of the
// source finds these and reads only its own (replay.h), on the source's timeline: N replayers then read the
// session once between them instead of N times.
//
// One pass over the source. Errors, each with nothing left in the store: InvalidArgument for shards outside
// 2..kMaxShards or a shard id longer than a session id may be; AlreadyExists when a shard session exists
// (all are left alone); NotFound / FailedPrecondition for the source as SliceSession; Cancelled.
struct SplitOptions {
  std::string source_id = {};
  uint32_t shards = 2;
  std::string created_by = "otelrr sessions split";
  Cancellation* cancel = nullptr;  // not owned
  WriterOptions writer = {};
};

struct SplitReport {
  std::vector<SessionMetadata> shards;  // by shard
  uint64_t records_read = 0;
  uint64_t stored_bytes_read = 0;
};

// "{source}.shard-{K}-of-{N}".
std::string ShardSessionId(std::string_view source_id, uint32_t shard, uint32_t shards);

absl::StatusOr<SplitReport> SplitSession(SessionStore& sessions, const SplitOptions& options);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_SLICE_H_
