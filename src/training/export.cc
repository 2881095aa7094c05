#include "training/export.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "training/items.h"

namespace otelrr::training {
namespace {

namespace fs = std::filesystem;

absl::Status WriteError(std::string_view what, const std::string& path, int err) {
  return absl::UnavailableError(fmt::format("could not {} {}: {}", what, path, std::strerror(err)));
}

// One output file: written through a buffer to "<path>.tmp", renamed over `path` by Commit; removed
// when destroyed uncommitted.
class RowFile {
 public:
  RowFile(std::string path, size_t buffer_bytes)
      : path_(std::move(path)), tmp_(path_ + ".tmp"), buffer_bytes_(buffer_bytes) {
    buffer_.reserve(buffer_bytes_ + (64 << 10));
  }
  ~RowFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) {
      std::error_code ignored;
      fs::remove(tmp_, ignored);
    }
  }
  RowFile(const RowFile&) = delete;
  RowFile& operator=(const RowFile&) = delete;

  absl::Status Open() {
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (file_ == nullptr) return WriteError("create", tmp_, errno);
    return absl::OkStatus();
  }
  std::string* buffer() { return &buffer_; }
  // Writes the buffer out once it holds buffer_bytes.
  absl::Status MaybeFlush() { return buffer_.size() >= buffer_bytes_ ? Flush() : absl::OkStatus(); }
  absl::Status Flush() {
    if (buffer_.empty()) return absl::OkStatus();
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) return WriteError("write", tmp_, errno);
    bytes_ += buffer_.size();
    buffer_.clear();
    return absl::OkStatus();
  }
  // Flushes and closes the temp file.
  absl::Status Close() {
    if (absl::Status s = Flush(); !s.ok()) return s;
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) return WriteError("write", tmp_, errno);
    return absl::OkStatus();
  }
  absl::Status Commit() {
    std::error_code ec;
    fs::rename(tmp_, path_, ec);
    if (ec) return absl::UnavailableError(fmt::format("could not rename {} to {}: {}", tmp_, path_, ec.message()));
    committed_ = true;
    return absl::OkStatus();
  }
  const std::string& path() const { return path_; }
  uint64_t bytes() const { return bytes_; }

 private:
  std::string path_;
  std::string tmp_;
  size_t buffer_bytes_;
  std::string buffer_;
  std::FILE* file_ = nullptr;
  uint64_t bytes_ = 0;
  bool committed_ = false;
};

}  // namespace

absl::Status ValidateExportOptions(const TrainingDataset& dataset, const ExportOptions& options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("no output directory given");
  std::error_code ec;
  const fs::file_status st = fs::status(options.dir, ec);
  if (fs::exists(st) && !fs::is_directory(st)) {
    return absl::InvalidArgumentError(
        fmt::format("{} exists and is not a directory: give a directory (it is created when missing)", options.dir));
  }
  return ValidatePhaseNames(dataset, options.phases);
}

absl::StatusOr<ExportReport> ExportDataset(session::SessionStore& sessions, TrainingDataset dataset,
                                           const ExportOptions& options) {
  if (absl::Status s = ValidateExportOptions(dataset, options); !s.ok()) return s;
  std::vector<otlp::Signal> signals = options.signals;
  if (signals.empty()) signals.assign(otlp::kSignals.begin(), otlp::kSignals.end());
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return absl::UnavailableError(fmt::format("could not create {}: {}", options.dir, ec.message()));

  absl::StatusOr<std::unique_ptr<session::SessionReader>> reader =
      sessions.OpenReader(dataset.session_id, {.signals = signals});
  if (!reader.ok()) return reader.status();

  // Which phases' items are written: all (unlabelled ones too) without a selection.
  std::vector<bool> keep(dataset.phases.size(), options.phases.empty());
  for (size_t i = 0; i < dataset.phases.size(); ++i) {
    for (const std::string& name : options.phases) keep[i] = keep[i] || dataset.phases[i].name == name;
  }
  const bool keep_unlabelled = options.phases.empty();

  RowFormatter rows(options.format);
  otlp::PerSignal<std::unique_ptr<RowFile>> files;
  otlp::PerSignal<uint64_t> written;
  for (otlp::Signal s : otlp::kSignals) {
    if (std::find(signals.begin(), signals.end(), s) == signals.end()) continue;
    files[s] = std::make_unique<RowFile>(
        (fs::path(options.dir) / fmt::format("{}.{}", RowFileStem(s), FormatName(options.format))).string(),
        options.buffer_bytes);
    if (absl::Status st = files[s]->Open(); !st.ok()) return st;
    rows.Header(s, files[s]->buffer());
  }

  for (DatasetPhase& p : dataset.phases) p.items = {};
  dataset.unlabelled = {};
  dataset.counted_signals = signals;
  const PhaseLabeler labeler(dataset.phases);
  // The labels of an item at `t`, or nullopt when it is not exported; counts it either way.
  otlp::Signal signal = otlp::Signal::kTraces;
  auto label = [&](uint64_t t) -> std::optional<Labels> {
    const int phase = labeler.Label(t);
    if (phase < 0) {
      ++dataset.unlabelled[signal];
      if (!keep_unlabelled) return std::nullopt;
      return Labels{.phase = "", .anomaly = kUnlabelled};
    }
    DatasetPhase& p = dataset.phases[static_cast<size_t>(phase)];
    ++p.items[signal];
    if (!keep[static_cast<size_t>(phase)]) return std::nullopt;
    return Labels{.phase = p.name, .anomaly = p.anomaly};
  };
  std::string* out = nullptr;
  const ItemCallbacks callbacks{
      .span =
          [&](const SpanView& s) {
            if (std::optional<Labels> l = label(ItemTime(s))) {
              rows.Span(s, *l, out);
              ++written[signal];
            }
          },
      .point =
          [&](const PointView& p) {
            if (std::optional<Labels> l = label(ItemTime(p))) {
              rows.Point(p, *l, out);
              ++written[signal];
            }
          },
      .log =
          [&](const LogView& g) {
            if (std::optional<Labels> l = label(ItemTime(g))) {
              rows.Log(g, *l, out);
              ++written[signal];
            }
          },
  };

  ItemWalker walker;
  session::Record record;
  while (true) {
    if (options.cancel != nullptr && options.cancel->cancelled()) {
      return absl::CancelledError("stopped before the export was complete; no file was written");
    }
    absl::StatusOr<bool> more = (*reader)->Next(&record);
    if (!more.ok()) return more.status();
    if (!*more) break;
    signal = record.signal;
    RowFile* file = files[signal].get();
    if (file == nullptr) continue;  // not selected (the reader reads only the selected signals)
    out = file->buffer();
    if (absl::Status s = walker.Walk(record.signal, record.payload, callbacks); !s.ok()) {
      return Prefixed(s, fmt::format("record {} of session {}", record.sequence, dataset.session_id));
    }
    if (absl::Status s = file->MaybeFlush(); !s.ok()) return s;
  }
  for (otlp::Signal s : otlp::kSignals) {
    dataset.items[s] = dataset.unlabelled[s];
    for (const DatasetPhase& p : dataset.phases) dataset.items[s] += p.items[s];
  }

  // Every file complete, then renamed; dataset.json last, so that its presence means a whole export.
  RowFile dataset_file((fs::path(options.dir) / kDatasetFileName).string(), 0);
  if (absl::Status s = dataset_file.Open(); !s.ok()) return s;
  {
    JsonWriter w(dataset_file.buffer(), true);
    WriteJson(dataset, &w);
    dataset_file.buffer()->push_back('\n');
  }
  if (absl::Status s = dataset_file.Close(); !s.ok()) return s;
  for (otlp::Signal s : otlp::kSignals) {
    if (files[s] != nullptr) {
      if (absl::Status st = files[s]->Close(); !st.ok()) return st;
    }
  }
  if (options.cancel != nullptr && options.cancel->cancelled()) {
    return absl::CancelledError("stopped before the export was complete; no file was written");
  }
  ExportReport report;
  for (otlp::Signal s : otlp::kSignals) {
    if (files[s] == nullptr) continue;
    if (absl::Status st = files[s]->Commit(); !st.ok()) return st;
    report.files.push_back({.signal = s, .path = files[s]->path(), .rows = written[s], .bytes = files[s]->bytes()});
  }
  if (absl::Status s = dataset_file.Commit(); !s.ok()) return s;
  report.dataset_path = dataset_file.path();
  report.dataset = std::move(dataset);
  return report;
}

}  // namespace otelrr::training
