// Item-level comparison of two streams of OTLP requests: a source (A) and what became of it (B): a
// replay's capture, a session after a pipeline, another session.
//
//   Comparator cmp({.time = TimeCheck::kShift});
//   cmp.Add(Side::kA, record_of_a);   // in any interleaving; both sides in their arrival order
//   cmp.Add(Side::kB, record_of_b);
//   ...
//   absl::StatusOr<CompareReport> report = cmp.Finish(reread_a);  // missing, extra, duplicated, altered
//
// Matching. A span is matched by its (trace id, span id); a data point or log record, which have no id,
// by its whole content (resource, scope, metric, every field; ItemDigest) and its time. A matched span
// whose content differs is "altered", with its fields' differences. What is left unmatched at the end is
// paired once more by what a changed item keeps (a point's metric and attributes, a log record's trace,
// span and severity) and its time: such pairs are "altered" too. The rest of A is "missing"; the rest of
// B is "duplicated" when its item is in A (it matched once already: a retry delivered twice) and "extra"
// when it is not, which takes a second pass over A (Finish's `reread_a`), only when B has leftovers.
//
// Time. kExact: B's times equal A's. kShift: B's times are A's moved by one constant delta: the given
// one, or (auto) the delta most common among the first items that match by content (bounded: the first
// kShiftSample items of each side are held until it is known). kIgnore: absolute times are not compared
// (--timestamps current moves each request by its own delta); timestamps relative to each item's own
// time still are, so a span's duration, an event's offset, a point's start all count.
//
// Memory: only items still unmatched are held, as hashes plus their request's bytes (shared by the
// request's items); past detail_budget_bytes of requests held, the earliest items' bytes are copied out
// (so the requests can go), up to a quarter of that budget, and the rest dropped (the counts stay exact;
// those items are reported without fields: the report lists the first differences, the earliest ones).
// Read both sides in step (compare_sessions.h does) and the unmatched set stays what is in flight.
//
// Thread-compatible.
#ifndef OTELRR_COMPARE_COMPARATOR_H_
#define OTELRR_COMPARE_COMPARATOR_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "compare/item_digest.h"
#include "otlp/signal.h"

namespace otelrr::compare {

enum class Side : uint8_t { kA, kB };
enum class TimeCheck : uint8_t { kExact, kShift, kIgnore };
std::string_view TimeCheckName(TimeCheck check);  // "exact", "shift", "ignore"

// A named window of A's item time (a phase), for the per-phase counts.
struct Window {
  std::string name;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;  // exclusive
};

struct CompareOptions {
  TimeCheck time = TimeCheck::kShift;
  std::optional<int64_t> shift_nanos = {};  // kShift: B = A + this; absent: inferred
  size_t max_differences = 20;              // examples kept for the report (counts are always exact)
  size_t detail_budget_bytes = 16u << 20;
  std::vector<Window> phases = {};
  // Per-second counts (for charts) over A's item time, at most this many buckets (coarser beyond).
  size_t max_buckets = 3600;
};

struct SignalCounts {
  uint64_t a = 0;  // items of the source
  uint64_t b = 0;  // items of the other side
  uint64_t matched = 0;
  uint64_t altered = 0;
  uint64_t missing = 0;
  uint64_t extra = 0;
  uint64_t duplicated = 0;
  uint64_t differing() const { return altered + missing + extra + duplicated; }
};

struct FieldChange {
  std::string path;
  std::string a;  // "(absent)" when A has no such field
  std::string b;
};

enum class DifferenceKind : uint8_t { kMissing, kExtra, kDuplicated, kAltered };
std::string_view DifferenceKindName(DifferenceKind kind);  // "missing", "extra", "duplicated", "altered"

struct Difference {
  DifferenceKind kind = DifferenceKind::kMissing;
  otlp::Signal signal = otlp::Signal::kTraces;
  std::string item;           // ItemLabel
  uint64_t time_unix_nano = 0;  // the item's time on A's side (B's for extra items)
  std::vector<FieldChange> changes;  // altered: what differs (time first, when it does)
  bool details_dropped = false;      // altered, but the bytes were past the detail budget
};

struct Bucket {
  uint64_t a = 0, b = 0, matched = 0;
};

struct PhaseCounts {
  std::string name;
  uint64_t start_unix_nano = 0, end_unix_nano = 0;
  uint64_t a = 0, matched = 0, altered = 0;
};

struct CompareReport {
  otlp::PerSignal<SignalCounts> signals = {};
  TimeCheck time = TimeCheck::kShift;
  int64_t shift_nanos = 0;
  bool shift_inferred = false;
  bool shift_found = true;  // false: auto shift, and no item matched to infer it from
  std::vector<Difference> differences;  // at most max_differences of each kind, in the order found
  // Per-second counts over A's item time (B's mapped back by the shift): first bucket's start, width.
  uint64_t buckets_start_unix_nano = 0;
  uint64_t bucket_nanos = 1'000'000'000;
  std::vector<Bucket> buckets;
  std::vector<PhaseCounts> phases;
  size_t peak_unmatched = 0;  // the most items held at once

  SignalCounts total() const;
  bool identical() const { return total().differing() == 0; }
};

class Comparator {
 public:
  explicit Comparator(CompareOptions options = {});
  ~Comparator();
  Comparator(const Comparator&) = delete;
  Comparator& operator=(const Comparator&) = delete;

  // Adds a request of side A or B. DataLoss when it is not valid OTLP.
  absl::Status Add(Side side, otlp::Signal signal, std::string payload);

  // A function that calls `fn` with each request of A again, in the same order (for the duplicate check).
  using Reread = std::function<absl::Status(const std::function<absl::Status(otlp::Signal, std::string_view)>& fn)>;
  // Ends the comparison. Call once.
  absl::StatusOr<CompareReport> Finish(const Reread& reread_a);

  size_t unmatched() const { return unmatched_; }

 private:
  struct Payload;
  struct Entry {
    uint64_t key = 0;
    uint64_t content = 0;
    uint64_t series = 0;
    uint64_t time = 0;  // B: moved to A's time by the shift
    otlp::Signal signal = otlp::Signal::kTraces;
    Side side = Side::kA;
    uint8_t point_kind = 0;
    bool is_span = false;
    std::shared_ptr<Payload> payload;  // bytes of the item and its context (null: dropped)
    std::string_view resource, scope, metric, item;
    uint64_t seq = 0;  // order of arrival, for stable reports
  };

  void Place(Entry e);
  void Match(Entry& a, Entry& b);
  uint64_t KeyOf(const Entry& e) const;
  void InferShift();
  void Compact();
  void Count(const Entry& e, bool matched_pair);
  Bucket& BucketAt(uint64_t time);
  PhaseCounts* PhaseAt(uint64_t time);
  void Note(DifferenceKind kind, const Entry& e, std::vector<FieldChange> changes);
  ItemDigest DigestOf(const Entry& e) const;
  std::vector<FieldChange> Changes(const Entry& a, const Entry& b) const;

  CompareOptions options_;
  ItemDigester digester_;
  CompareReport report_;
  bool shift_known_ = false;
  int64_t shift_ = 0;
  std::vector<Entry> sample_[2];  // held until the shift is known
  absl::flat_hash_map<uint64_t, absl::InlinedVector<Entry, 1>> pending_;
  size_t unmatched_ = 0;
  uint64_t seq_ = 0;
  size_t held_payload_bytes_ = 0;
  size_t copied_bytes_ = 0;
  std::map<int64_t, Bucket> seconds_;
  size_t kept_[4] = {0, 0, 0, 0};
};

// How many items of each side an automatic shift is inferred from.
inline constexpr size_t kShiftSample = 20000;

}  // namespace otelrr::compare

#endif  // OTELRR_COMPARE_COMPARATOR_H_
