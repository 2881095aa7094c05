// The number of distinct trace ids seen in a session, for its `traces` count, in bounded memory.
//
//   TraceIdSet ids;                               // or TraceIdSet({.max_memory_ids = 1000})
//   otlp::ForEachTraceId(signal, payload, [&](const uint8_t* id) { ids.Insert(id); });
//   ids.bound();                                  // cheap; exact until the first spill, then an upper bound
//   absl::StatusOr<uint64_t> n = ids.Count();     // exact
//
// It keeps a 64-bit fingerprint of each 16-byte id (TraceFingerprint), not the id: the count stays exact
// unless two of the session's ids share a fingerprint, which for n ids happens with probability about
// n^2 / 2^65 (3 in a million at ten million traces).
//
// Exact distinct counting needs every id, so a session with more traces than fit in memory spills: up to
// max_memory_ids fingerprints are kept in a hash set (about 9.4 MB at the default), and when it is full
// they are sorted and written as one run to an anonymous temporary file in spill_dir (unlinked at once,
// so nothing is left behind, even by a crash), and the set starts again. Count() merges the runs and the
// set, counting each fingerprint once. At kMaxRuns runs they are merged into one. Memory stays at about
// 17 MB whatever the session's size; the disk holds 8 bytes per distinct trace per run it appears in.
// Between spills, bound() is the runs' sizes plus the set's, which counts a trace twice when its ids fall
// on both sides of a spill; Count() is exact.
//
// A writer that may take back appends (SessionWriter::Rollback) marks the set and undoes to the mark.
//
// A spill that fails (no space, spill_dir missing) keeps the fingerprints in memory instead: the count
// stays exact, only the memory bound is lost; spill_error() says why.
#ifndef OTELRR_SESSION_TRACE_ID_SET_H_
#define OTELRR_SESSION_TRACE_ID_SET_H_

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace otelrr::session {

// The 64-bit fingerprint of a 16-byte trace id; mixes both halves, so that structured ids (counters, ids
// that differ in one half) spread too.
inline uint64_t TraceFingerprint(const uint8_t* id16) {
  auto mix = [](uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  uint64_t hi;
  uint64_t lo;
  std::memcpy(&hi, id16, 8);
  std::memcpy(&lo, id16 + 8, 8);
  return mix(hi ^ mix(lo + 0x9e3779b97f4a7c15ull));
}

// A source of ascending fingerprints (a spilled run, an instance's stored set): writes up to `max` of them to
// `out` and returns how many; 0 at the end.
using FingerprintSource = std::function<absl::StatusOr<size_t>(uint64_t* out, size_t max)>;
// Receives ascending, distinct fingerprints, a block at a time.
using FingerprintSink = std::function<absl::Status(const uint64_t* ids, size_t n)>;

// Merges sorted sources, each fingerprint once, into `sink` (may be null: count only); returns how many
// distinct fingerprints there are. Memory: one block of 8192 per source. Sources need not be distinct
// within themselves.
absl::StatusOr<uint64_t> MergeSortedFingerprints(std::vector<FingerprintSource> sources, const FingerprintSink& sink);

struct TraceIdSetOptions {
  // Fingerprints kept in memory before a spill. The default fills a table of 2^20 slots to its load limit.
  size_t max_memory_ids = (size_t{1} << 20) * 7 / 8;
  // Where runs are spilled; empty: the system's temporary directory ($TMPDIR, else /tmp).
  std::string spill_dir = {};
};

class TraceIdSet {
 public:
  static constexpr size_t kMaxRuns = 16;

  TraceIdSet() : TraceIdSet(TraceIdSetOptions{}) {}
  explicit TraceIdSet(TraceIdSetOptions options);
  ~TraceIdSet();
  TraceIdSet(TraceIdSet&& other) noexcept;
  TraceIdSet& operator=(TraceIdSet&& other) noexcept;
  TraceIdSet(const TraceIdSet&) = delete;
  TraceIdSet& operator=(const TraceIdSet&) = delete;

  // Every id of `ids`: whole 16-byte ids back to back (Summarize's trace ids). The spans (or log records) of a
  // trace usually come one after another: an id equal to the one before it is not looked up again.
  void InsertAll(std::string_view ids) {
    for (size_t i = 0; i + 16 <= ids.size(); i += 16) {
      if (i >= 16 && std::memcmp(ids.data() + i, ids.data() + i - 16, 16) == 0) continue;
      Insert(reinterpret_cast<const uint8_t*>(ids.data() + i));
    }
  }
  void Insert(const uint8_t* id16) {
    if (memory_.size() >= options_.max_memory_ids && !spill_failed_ && !marked_) Spill();
    const uint64_t fingerprint = TraceFingerprint(id16);
    if (memory_.insert(fingerprint).second) {
      exact_ = false;
      if (marked_) inserted_since_mark_.push_back(fingerprint);
    }
  }

  // Undo to a mark, for a writer that takes back what a failed write appended. After Mark(), the set
  // remembers what it inserts (and spills only at the next Mark(), so that all of it is in memory: the set
  // may then exceed max_memory_ids by what was inserted between two marks); UndoToMark() forgets it.
  void Mark();
  void UndoToMark();

  // The distinct count while nothing was spilled; after a spill an upper bound (see above). O(1).
  uint64_t bound() const { return run_ids_ + memory_.size(); }
  // The exact distinct count: merges the runs (reading them back) and the set. DataLoss when a run cannot
  // be read back.
  absl::StatusOr<uint64_t> Count();

  // Streams every distinct fingerprint, ascending, into `sink` (what a shared session's instance stores,
  // shared.h); returns the exact count, as Count().
  absl::StatusOr<uint64_t> WriteSorted(const FingerprintSink& sink);

  size_t runs() const { return runs_.size(); }
  const absl::Status& spill_error() const { return spill_error_; }

 private:
  struct Run {
    int fd = -1;
    uint64_t ids = 0;  // sorted, distinct fingerprints in the file
  };
  void Spill();
  // Merges every run and (with_memory) the set's fingerprints; gives the distinct ones to `sink` when it
  // is set. Returns how many there are.
  absl::StatusOr<uint64_t> MergeRuns(bool with_memory, const FingerprintSink& sink);
  void CloseRuns();

  TraceIdSetOptions options_;
  absl::flat_hash_set<uint64_t> memory_;
  std::vector<Run> runs_;
  uint64_t run_ids_ = 0;  // sum of the runs' sizes
  bool exact_ = true;     // count_ is the exact count
  uint64_t count_ = 0;
  bool spill_failed_ = false;
  absl::Status spill_error_;
  bool marked_ = false;                        // Mark() was called
  std::vector<uint64_t> inserted_since_mark_;  // new to memory_ since then
};

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_TRACE_ID_SET_H_
