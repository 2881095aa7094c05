// Exports a session as flat training rows: DIR/spans.{jsonl,csv}, DIR/metrics.*, DIR/logs.* (rows.h)
// and DIR/dataset.json (the TrainingDataset, dataset.h), in one streaming pass over the session.
//
//   absl::StatusOr<TrainingDataset> d = DescribeSession(sessions, annotations, "seed-1");
//   ExportOptions options{.dir = "out", .format = Format::kCsv, .phases = {"failure"}};
//   if (absl::Status s = ValidateExportOptions(*d, options); !s.ok()) return s;   // a usage error
//   absl::StatusOr<ExportReport> r = ExportDataset(sessions, *std::move(d), options);
//
// Each row carries its item's labels (phase, anomaly: dataset.h), decided by the item's own time.
// With `phases`, only the items labelled with one of them are written; dataset.json still counts every
// item of the exported signals, per phase, so the rows of phase P in a file equal P's count of that signal.
//
// Streaming: the session is read one record at a time (session/reader.h) and each file is written
// through a buffer of `buffer_bytes`, so memory does not grow with the session. Each file is written to
// "<name>.tmp" in DIR and renamed when every file is complete, dataset.json last: a failed or cancelled
// export removes its temp files and leaves DIR as it was (files of an earlier export there are replaced
// only when this one completes).
#ifndef OTELRR_TRAINING_EXPORT_H_
#define OTELRR_TRAINING_EXPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cancel.h"
#include "otlp/signal.h"
#include "session/session_store.h"
#include "training/dataset.h"
#include "training/rows.h"

namespace otelrr::training {

inline constexpr std::string_view kDatasetFileName = "dataset.json";

struct ExportOptions {
  std::string dir = {};  // created when missing
  Format format = Format::kJsonl;
  std::vector<std::string> phases = {};       // names; empty: every item (unlabelled ones too)
  std::vector<otlp::Signal> signals = {};     // empty: all three
  Cancellation* cancel = nullptr;             // stops the export (Cancelled), leaving no file
  size_t buffer_bytes = size_t{1} << 20;      // per file
};

struct ExportedFile {
  otlp::Signal signal = otlp::Signal::kTraces;
  std::string path = {};   // DIR/spans.csv
  uint64_t rows = 0;
  uint64_t bytes = 0;
};

struct ExportReport {
  TrainingDataset dataset = {};            // counted over the exported signals, every phase
  std::vector<ExportedFile> files = {};    // one per exported signal, in signal order
  std::string dataset_path = {};           // DIR/dataset.json
};

// InvalidArgument when a phase is not one of the dataset's (the message lists them), a phase is given
// twice, or DIR exists and is not a directory. Called by ExportDataset too.
absl::Status ValidateExportOptions(const TrainingDataset& dataset, const ExportOptions& options);

// `dataset` as DescribeSession gives it (its counts are recomputed). Errors: the options (above), the
// session cannot be read (DataLoss for a damaged record), a file cannot be written, Cancelled.
absl::StatusOr<ExportReport> ExportDataset(session::SessionStore& sessions, TrainingDataset dataset,
                                           const ExportOptions& options);

}  // namespace otelrr::training

#endif  // OTELRR_TRAINING_EXPORT_H_
