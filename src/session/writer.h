// Writes one session: records into compressed raw files, then metadata.json.
//
//   SessionStore sessions(store);
//   absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions.Create(
//       {.session_id = "capture-1", .session_type = SessionType::kCapture, .created_by = "otelrr capture"},
//       {.compression = Compression::kZstd});
//   (*w)->Append({.arrival_unix_nano = now, .signal = otlp::Signal::kTraces,
//                 .transport = Transport::kHttp, .payload = std::move(body)});   // validated, sequenced
//   (*w)->AppendTrusted(std::move(generated), {.spans = 512, .new_traces = 100});  // a producer's own bytes
//   (*w)->Flush();                                       // durable up to here
//   (*w)->Close(SessionStatus::kCompleted);              // file index, counts, metadata.json
//
// Each signal has one open file at a time. Records are framed into that file's member buffer; the
// buffer becomes one member (a gzip member or zstd frame, or the records as they are: compression.h),
// appended to the file, when it reaches member_bytes, when Flush() is
// called, or when flush_interval has passed since its first record (checked on every Append and by
// FlushDue(), which a caller with an idle stream calls from a timer). A new file starts when the
// record's UTC hour differs from the file's, when the file's stored size reached max_file_bytes, or when
// the record arrived earlier than the file's last record (so every file is sorted by arrival).
//
// metadata.json is written at creation (status "active", so a crashed session is visible) and at
// Close(). Memory: the member buffers (plus up to compression_threads + 2 members in flight on the
// compression threads), and the distinct trace ids of untrusted appends (TraceIdSet: at most about 17 MB, spilled
// to sorted runs in a temporary directory beyond that; AppendTrusted adds nothing to it). While the session is
// written, counts.traces may count a trace twice once ids have spilled; Close() writes the exact count.
//
// Compression beside the caller: with compression_threads = N > 0, a full member is handed to a pool
// of N threads that compress members concurrently and append them to their files strictly in the order
// they were completed, while the caller keeps appending. Files rotate at exactly the same records as
// inline (when a file may be near max_file_bytes the writer waits for the pool to learn the exact size),
// so the output is byte-identical to compression_threads = 0 for any N. Flush() and Close() wait for
// the pool, so what they promise is unchanged; a storage error there is sticky and returned by the next
// call.
// A writer is not thread-safe: one thread appends (capture serialises its requests into it).
#ifndef OTELRR_SESSION_WRITER_H_
#define OTELRR_SESSION_WRITER_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "session/compression.h"
#include "session/internal/members.h"
#include "session/internal/sha256.h"
#include "session/metadata.h"
#include "session/trace_id_set.h"
#include "session/record.h"
#include "store/object_store.h"

namespace otelrr::session {

class SessionLock;

struct WriterOptions {
  // How raw files are compressed (session/compression.h).
  Compression compression = kDefaultCompression;
  // The compressor's level (ValidateCompressionLevel); unset, DefaultCompressionLevel(compression). gzip 0
  // writes stored blocks, which zcat still reads and gzip CRCs still protect.
  std::optional<int> compression_level = std::nullopt;
  // A member is written once its uncompressed records reach this size.
  size_t member_bytes = 1 << 20;
  // A file is closed once its stored (compressed) size reaches this.
  uint64_t max_file_bytes = 128ull << 20;
  // A member is written at the latest this long after its first record (bounds what a crash loses).
  std::chrono::nanoseconds flush_interval = std::chrono::seconds(1);
  // Monotonic time for flush_interval, wall time for startTime and endTime; default RealClock().
  Clock* clock = nullptr;
  // Seed for the file uuids; 0 draws one from std::random_device.
  uint64_t random_seed = 0;
  // 0 compresses members inline, on the appending thread. N (up to kMaxCompressionThreads) compresses
  // them on N threads beside it (same bytes, same durability points; see above).
  int compression_threads = 0;
  // The distinct-trace counter's memory bound and spill directory (session/trace_id_set.h).
  TraceIdSetOptions trace_ids = {};
  // Set: this writer is one instance of a shared session (shared.h; SessionStore::Join creates it). Its
  // files carry the name, and it writes instances/{name}/part.json (and, at Close, traces.bin: its distinct
  // trace fingerprints) instead of metadata.json.
  std::string instance = {};
};


// What a trusted producer declares about one request (SessionWriter::AppendTrusted).
struct RecordCounts {
  uint64_t spans = 0;
  uint64_t data_points = 0;
  uint64_t log_records = 0;
  // Distinct trace ids that appear in this request and in no earlier record of the session: summed
  // over the session, the number of distinct traces.
  uint64_t new_traces = 0;
};

inline constexpr int kMaxCompressionThreads = 16;

// One compression thread per core (at least 1, at most kMaxCompressionThreads): for producers that
// outrun one compressor, such as the seed generator.
int CompressionThreadsPerCore();

class SessionWriter {
 public:
  // Validates the options and metadata, and writes the initial metadata.json. Does not check whether the
  // session exists: SessionStore::Create does.
  static absl::StatusOr<std::unique_ptr<SessionWriter>> Create(store::ObjectStore& store, SessionMetadata metadata,
                                                               WriterOptions options);
  // Without Close(), pending members are written and files closed, but metadata.json stays "active":
  // the session looks (and is recovered) like a crashed one.
  ~SessionWriter();
  SessionWriter(const SessionWriter&) = delete;
  SessionWriter& operator=(const SessionWriter&) = delete;

  // Appends one request. The payload must be a valid Export*ServiceRequest of record.signal
  // (InvalidArgument otherwise, and nothing is written). record.sequence is ignored: the writer assigns
  // the next session-wide sequence number. After a storage error every call returns that error.
  absl::Status Append(Record record);
  // Appends a request that the caller encoded itself and whose content it knows: the payload is not
  // walked (no validation, no counting, no trace-id set), `counts` is added to the session's counts as
  // given. For producers such as the seed generator; anything that came from outside uses Append().
  // Do not mix both for the same traces: an id seen by Append and declared new here counts twice.
  // Debug builds check `counts` (except new_traces) against the payload and return InternalError on a
  // mismatch. Otherwise as Append().
  absl::Status AppendTrusted(Record record, const RecordCounts& counts);
  // Appends a request that the caller validated and walked itself, on its own thread (capture walks on
  // its receiver threads, so the one appending thread does not): `counts` as otlp::Summarize gave them
  // (new_traces ignored) and `trace_ids`, the request's trace ids as ForEachTraceId gives them, 16 bytes
  // each, concatenated; the writer counts distinct traces from them exactly as Append does. Debug
  // builds check both against the payload. Otherwise as Append().
  absl::Status AppendWalked(Record record, const RecordCounts& counts, std::string_view trace_ids);
  // Writes metadata.json (an instance: its part.json) as it stands, "active", with the counts so far: what
  // `sessions list` shows of a long capture. Best effort for callers; nothing depends on it.
  absl::Status SaveProgress();
  // Writes the members whose flush_interval has passed.
  absl::Status FlushDue();
  // Writes every pending member as complete members to the files, then (kSynced) syncs every open
  // file. kWritten survives the process being killed (the bytes are in the OS); kSynced survives the
  // machine losing power too. Either way nothing appended before the call is lost by a later crash.
  enum class FlushMode { kWritten, kSynced };
  absl::Status Flush(FlushMode mode = FlushMode::kSynced);
  // A point to come back to after a storage error: everything appended so far must be written (call it
  // right after a Flush() that succeeded). Capture marks one after each batch it acknowledges.
  void Checkpoint();
  // After a storage error (an append or flush failed: no space, a read-only file system), takes back
  // everything appended since the last Checkpoint(): the records are dropped, each open file is cut back
  // to what it held then and finished (a file started since is removed), the counts, sequence numbers,
  // arrivals and distinct traces are those of the checkpoint, and the error is cleared, so that appends
  // go on, into new files, once the store takes writes again. The error stays, and is returned, when
  // that cannot be done: no checkpoint, a file finished since it (its close may have uploaded it), or
  // the store refusing the cut (a read-only file system). After a refused cut the writer writes nothing
  // more, Close() included: metadata.json stays "active" and recovery rebuilds the session from its files
  // at the next start, as after a crash.
  absl::Status Rollback();
  // Flushes and closes everything, finalises the file index, counts and endTime, and writes
  // metadata.json with `status` (kFailed is forced when an earlier write failed). Call once.
  absl::Status Close(SessionStatus status = SessionStatus::kCompleted, std::string reason = "");

  // The metadata as it stands (counts are updated on every Append; files as they close). Callers may
  // set phases, generator_json, description or flags here before Close().
  SessionMetadata& metadata() { return metadata_; }
  // Keeps the session's lock (session_lock.h) until the writer is destroyed: SessionStore::Create
  // hands it over.
  void HoldLock(std::unique_ptr<SessionLock> lock);
  const SessionCounts& counts() const { return metadata_.counts; }
  uint64_t records() const { return next_sequence_; }

 private:
  struct OpenFile {
    std::string path;  // relative to the session folder
    FileEntry entry;   // entry.size_bytes: the stored size known to the appending thread
    uint64_t hour = 0;
    std::string member;  // framed records not yet compressed
    std::optional<Clock::TimePoint> member_started;
    // An upper bound of the stored size of members handed to the worker since it was last idle.
    uint64_t pending_bound = 0;
    // Written by whoever writes members (the worker while it holds members of this file); the
    // appending thread reads them only once the worker is idle.
    std::unique_ptr<store::ObjectWriter> writer;
    internal::Sha256 sha;
    uint64_t written_bytes = 0;
  };
  class CompressionWorker;

  SessionWriter(store::ObjectStore& store, SessionMetadata metadata, WriterOptions options);
  // metadata.json, or an instance's part.json.
  std::string MetadataObjectKey() const;
  Clock& clock() const { return options_.clock != nullptr ? *options_.clock : RealClock(); }
  absl::Status CheckUsable();
  absl::Status CheckAppend(const Record& record);
  absl::Status Store(Record& record, const RecordCounts& counts);
  absl::Status StartFile(otlp::Signal signal, const Record& record);
  absl::Status FlushMember(OpenFile& file);
  absl::Status WaitForWorker();
  absl::Status FinishFile(otlp::Signal signal);
  // Collects the closes of finished files that are done (all of them when `all`, else at most
  // kMaxClosing stay pending); the first error fails the writer.
  absl::Status ReapClosing(bool all);
  absl::Status Fail(absl::Status status);
  // Appends one compressed member to `file` (on the appending thread or a compression thread).
  static absl::Status AppendMember(OpenFile& file, std::string_view compressed);

  store::ObjectStore& store_;
  SessionMetadata metadata_;
  WriterOptions options_;
  std::string prefix_;  // "sessions/{id}/"
  internal::MemberCompressor compressor_;
  std::mt19937_64 rng_;
  otlp::PerSignal<std::unique_ptr<OpenFile>> open_;
  TraceIdSet trace_ids_;
  std::string walked_ids_;  // Append's scratch: the trace ids of the request being appended
  uint64_t trusted_traces_ = 0;  // new_traces declared by AppendTrusted
  std::string compressed_;  // reused member output buffer
  uint64_t next_sequence_ = 0;
  absl::Status error_;  // sticky storage error
  bool closed_ = false;
  // The state Rollback() returns to.
  struct Mark {
    SessionCounts counts;
    uint64_t next_sequence = 0;
    uint64_t trusted_traces = 0;
    std::optional<uint64_t> first_arrival_unix_nano;
    std::optional<uint64_t> last_arrival_unix_nano;
    size_t files = 0;                         // metadata_.files.size()
    otlp::PerSignal<std::optional<FileEntry>> open;  // each open file's entry (its size: written bytes)
  };
  std::optional<Mark> mark_;
  bool abandoned_ = false;  // Rollback failed half-way: nothing more is written (Close leaves metadata.json)
  std::unique_ptr<SessionLock> lock_;          // released last (declared before the worker)
  // Finished files being closed on threads of their own: on a store that uploads at close (S3 through
  // the spool) a rotation must not hold up the appends behind it. Waited for by Close (and the
  // destructor), before the lock goes.
  std::deque<std::future<absl::Status>> closing_;
  std::unique_ptr<CompressionWorker> worker_;  // last: stopped before the files it writes go away
};

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_WRITER_H_
