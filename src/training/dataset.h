// A session as training data: its phases (from metadata.json and the test.phase.* annotations), the
// labels each phase gives its items, and how many spans, data points and log records each phase holds,
// every item counted by its own time.
//
//   session::SessionStore sessions(store);
//   annotate::AnnotationService annotations(sessions, sink);      // sink: ClickHouse, or null
//   absl::StatusOr<TrainingDataset> d = BuildDataset(sessions, annotations, "seed-1");
//   JsonWriter w(true);
//   WriteJson(*d, &w);                                             // dataset.json, GET .../training
//
// Phases. Every annotation whose key is test.phase.<name> is a phase <name> (AnnotationService::List:
// ClickHouse when configured, else annotations.jsonl, plus the phases of metadata.json that are not
// among them). A phase covers the half-open interval [start, end): an item exactly at a phase's start
// belongs to it, one exactly at its end does not. A phase annotation without an end lasts until the
// next phase starts, the last one for ever. Where phases overlap, an item takes the label of the phase
// that started last (the narrower window inside a wider one); equal starts: the one listed last.
//
// Labels. An item's phase label is its phase's name; its anomaly label is the phase's flags joined by
// "|" in the order given ("inventoryFailure", "a|b"), or "normal" for a phase without flags: the flags a
// phase turns on are exactly its anomaly types (flag paymentServiceFailure -> anomaly type
// paymentServiceFailure). An item before the first phase, after the last or in a gap between phases has
// phase "" and anomaly "unlabelled". A phase's flags are the annotation's flags, else the "flags" array of
// its JSON value (so `otelrr annotate --key test.phase.x --value '{"flags":["cpuSpike"]}'` labels too).
//
// An item's own time (items.h, ItemTime): a span's start, a data point's time, a log record's time (its
// observed time when unset). Never the request's arrival or a file's name: a batch that arrives after a
// phase ended still holds items of that phase.
#ifndef OTELRR_TRAINING_DATASET_H_
#define OTELRR_TRAINING_DATASET_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "annotate/annotation.h"
#include "annotate/annotation_service.h"
#include "common/cancel.h"
#include "common/json_writer.h"
#include "otlp/rewrite.h"
#include "otlp/signal.h"
#include "session/metadata.h"
#include "session/session_store.h"

namespace otelrr::training {

// The end of a phase that runs for ever.
inline constexpr uint64_t kOpenEnd = std::numeric_limits<uint64_t>::max();
inline constexpr std::string_view kNormal = "normal";
inline constexpr std::string_view kUnlabelled = "unlabelled";

struct DatasetPhase {
  std::string name = {};            // "failure" for test.phase.failure
  std::string annotation_key = {};  // "test.phase.failure"
  std::string annotation_id = {};
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = kOpenEnd;  // exclusive; see the header comment for phases without an end
  bool end_given = false;             // the annotation had an end (else it ends at the next phase, or never)
  std::vector<std::string> flags = {};
  std::string anomaly = {};              // the anomaly label: flags joined by "|", or "normal"
  std::vector<std::string> files = {};   // raw files whose arrival range overlaps [start, end), paths in the session
  otlp::PerSignal<uint64_t> items = {};  // items labelled with this phase (spans, data points, log records)
  bool operator==(const DatasetPhase&) const = default;
};

// One anomaly type (a flag) and the phases that carry it.
struct AnomalyType {
  std::string name = {};
  std::vector<std::string> phases = {};
  bool operator==(const AnomalyType&) const = default;
};

struct TrainingDataset {
  std::string session_id = {};
  session::SessionType session_type = session::SessionType::kSeed;
  uint64_t start_time_unix_nano = 0;
  std::optional<uint64_t> end_time_unix_nano = {};
  std::string annotations_from = {};  // "session" (annotations.jsonl and metadata.json) or "clickhouse"
  std::vector<DatasetPhase> phases = {};  // sorted by start (then as listed)
  std::vector<AnomalyType> anomaly_types = {};  // sorted by name
  // The signals whose items were counted (CountItems); the counts of the others are 0.
  std::vector<otlp::Signal> counted_signals = {};
  otlp::PerSignal<uint64_t> unlabelled = {};  // items outside every phase
  otlp::PerSignal<uint64_t> items = {};       // all items counted

  // The index of the phase named `name`, or -1. Names may repeat (a phase annotated twice): the first.
  int FindPhase(std::string_view name) const;
  // The distinct phase names, in phase order.
  std::vector<std::string> PhaseNames() const;
};

// Says which phase labels each time (the rules in the header comment), in O(log phases).
class PhaseLabeler {
 public:
  explicit PhaseLabeler(const std::vector<DatasetPhase>& phases);
  // The index of the phase that labels an item at `t`, or -1 when none does (unlabelled).
  int Label(uint64_t t) const {
    // bounds_[i] starts segment i; segment i runs to bounds_[i + 1] (or for ever).
    size_t lo = 0, hi = bounds_.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (bounds_[mid] <= t) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo == 0 ? -1 : labels_[lo - 1];
  }
  // The half-open windows [start, end) whose items are labelled with a phase for which keep(index) is
  // true, in time order, adjacent windows merged. The end of an endless window is kOpenEnd.
  struct Window {
    uint64_t start;
    uint64_t end;
    bool operator==(const Window&) const = default;
  };
  template <typename Keep>
  std::vector<Window> Windows(Keep&& keep) const {
    std::vector<Window> out = {};
    for (size_t i = 0; i < bounds_.size(); ++i) {
      if (labels_[i] < 0 || !keep(labels_[i])) continue;
      const uint64_t end = i + 1 < bounds_.size() ? bounds_[i + 1] : kOpenEnd;
      if (!out.empty() && out.back().end == bounds_[i]) {
        out.back().end = end;
      } else {
        out.push_back({bounds_[i], end});
      }
    }
    return out;
  }

 private:
  std::vector<uint64_t> bounds_ = {};
  std::vector<int> labels_ = {};
};

// InvalidArgument when a name is not one of the dataset's phases (the message lists them) or is given twice.
absl::Status ValidatePhaseNames(const TrainingDataset& dataset, const std::vector<std::string>& names);
// The windows whose items are labelled with one of the named phases (PhaseLabeler::Windows): what
// `replay --phases` replays.
std::vector<PhaseLabeler::Window> PhaseWindows(const TrainingDataset& dataset, const std::vector<std::string>& names);

// The windows of the named phases of a session (DescribeSession, ValidatePhaseNames, PhaseWindows): what
// `replay --phases` and the API's replays with "phases" replay. InvalidArgument naming the session's phases
// for an unknown name.
absl::StatusOr<std::vector<otlp::TimeWindow>> ResolvePhaseWindows(session::SessionStore& sessions,
                                                                  annotate::AnnotationService& annotations,
                                                                  std::string_view session_id,
                                                                  const std::vector<std::string>& names);

// The phases of a session from its annotations (as AnnotationService::List gives them): only
// test.phase.* keys; sorted, ends filled in, labels and files set, items not counted.
std::vector<DatasetPhase> PhasesFromAnnotations(const std::vector<annotate::Annotation>& annotations,
                                                const session::SessionMetadata& metadata);

// The dataset without counts: metadata.json and the annotations. NotFound when the session does not exist.
absl::StatusOr<TrainingDataset> DescribeSession(session::SessionStore& sessions,
                                                annotate::AnnotationService& annotations, std::string_view session_id);

// Reads the session's items of `signals` (all when empty) once, in arrival order with bounded memory,
// and counts them per phase. Cancelled when `cancel` fires; DataLoss when a record is damaged.
absl::Status CountItems(session::SessionStore& sessions, TrainingDataset* dataset,
                        std::vector<otlp::Signal> signals = {}, Cancellation* cancel = nullptr);

// DescribeSession, then CountItems over every signal: what `otelrr training show` and the API give.
absl::StatusOr<TrainingDataset> BuildDataset(session::SessionStore& sessions, annotate::AnnotationService& annotations,
                                             std::string_view session_id, Cancellation* cancel = nullptr);

// The dataset as JSON (docs/TRAINING.md, "dataset.json"): camelCase keys, times as RFC 3339 and as
// unix-nanosecond decimal strings (as metadata.json writes them).
void WriteJson(const TrainingDataset& dataset, JsonWriter* w);

}  // namespace otelrr::training

#endif  // OTELRR_TRAINING_DATASET_H_
