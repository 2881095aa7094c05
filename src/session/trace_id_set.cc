#include "session/trace_id_set.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <queue>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "fmt/format.h"

namespace otelrr::session {
namespace {

constexpr size_t kIoIds = 8192;  // fingerprints per read or write (64 KiB)

// An anonymous read-write file in `dir`: gone from the directory from the start.
absl::StatusOr<int> OpenAnonymousFile(const std::string& dir_option) {
  std::string dir = dir_option;
  if (dir.empty()) {
    std::error_code ec;
    dir = std::filesystem::temp_directory_path(ec).string();
    if (ec) return absl::UnavailableError(fmt::format("no temporary directory: {}", ec.message()));
  }
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string name = dir + "/otelrr-trace-ids-XXXXXX";  // file systems without O_TMPFILE
  fd = mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(
        fmt::format("cannot create a file in {} to spill trace ids: {}", dir, std::strerror(errno)));
  }
  unlink(name.c_str());
  return fd;
}

absl::Status WriteAll(int fd, const uint64_t* ids, size_t n) {
  const char* p = reinterpret_cast<const char*>(ids);
  size_t left = n * sizeof(uint64_t);
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return absl::UnavailableError(fmt::format("spilling trace ids: {}", std::strerror(errno)));
    p += w;
    left -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

// Reads a source of ascending fingerprints one at a time, kIoIds per call of the source.
class Cursor {
 public:
  explicit Cursor(FingerprintSource source) : source_(std::move(source)) {}

  // False at the end.
  absl::StatusOr<bool> Next(uint64_t* id) {
    if (pos_ == buffer_.size()) {
      buffer_.resize(kIoIds);
      absl::StatusOr<size_t> n = source_(buffer_.data(), buffer_.size());
      if (!n.ok()) return n.status();
      buffer_.resize(*n);
      pos_ = 0;
      if (*n == 0) return false;
    }
    *id = buffer_[pos_++];
    return true;
  }

 private:
  FingerprintSource source_;
  std::vector<uint64_t> buffer_;
  size_t pos_ = 0;
};

// A spilled run: `ids` fingerprints from the start of `fd`.
FingerprintSource RunSource(int fd, uint64_t ids) {
  return [fd, left = ids, offset = uint64_t{0}](uint64_t* out, size_t max) mutable -> absl::StatusOr<size_t> {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, max));
    size_t bytes = n * sizeof(uint64_t);
    size_t got = 0;
    while (got < bytes) {
      ssize_t r = pread(fd, reinterpret_cast<char*>(out) + got, bytes - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        return absl::DataLossError(fmt::format("reading spilled trace ids back: {}",
                                               r == 0 ? "the file is shorter than written" : std::strerror(errno)));
      }
      got += static_cast<size_t>(r);
    }
    offset += bytes;
    left -= n;
    return n;
  };
}

FingerprintSource VectorSource(const std::vector<uint64_t>* ids) {
  return [ids, pos = size_t{0}](uint64_t* out, size_t max) mutable -> absl::StatusOr<size_t> {
    size_t n = std::min(max, ids->size() - pos);
    std::copy_n(ids->data() + pos, n, out);
    pos += n;
    return n;
  };
}

// The set's fingerprints in ascending order. Fingerprints are uniformly spread, so one pass scatters
// them into 2^16 buckets by their top bits and each small bucket is sorted on its own.
std::vector<uint64_t> SortedFingerprints(const absl::flat_hash_set<uint64_t>& set) {
  constexpr int kBits = 16;
  std::vector<uint32_t> start((size_t{1} << kBits) + 1, 0);
  for (uint64_t id : set) ++start[(id >> (64 - kBits)) + 1];
  for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
  std::vector<uint64_t> out(set.size());
  std::vector<uint32_t> next(start.begin(), start.end() - 1);
  for (uint64_t id : set) out[next[id >> (64 - kBits)]++] = id;
  for (size_t b = 0; b + 1 < start.size(); ++b) std::sort(out.begin() + start[b], out.begin() + start[b + 1]);
  return out;
}

}  // namespace

TraceIdSet::TraceIdSet(TraceIdSetOptions options) : options_(std::move(options)) {
  if (options_.max_memory_ids == 0) options_.max_memory_ids = 1;
}

TraceIdSet::~TraceIdSet() { CloseRuns(); }

TraceIdSet::TraceIdSet(TraceIdSet&& other) noexcept { *this = std::move(other); }

TraceIdSet& TraceIdSet::operator=(TraceIdSet&& other) noexcept {
  if (this == &other) return *this;
  CloseRuns();
  options_ = std::move(other.options_);
  memory_ = std::move(other.memory_);
  runs_ = std::move(other.runs_);
  run_ids_ = std::exchange(other.run_ids_, 0);
  exact_ = std::exchange(other.exact_, true);
  count_ = std::exchange(other.count_, 0);
  spill_failed_ = std::exchange(other.spill_failed_, false);
  spill_error_ = std::exchange(other.spill_error_, absl::OkStatus());
  marked_ = std::exchange(other.marked_, false);
  inserted_since_mark_ = std::move(other.inserted_since_mark_);
  other.runs_.clear();
  other.memory_.clear();
  other.inserted_since_mark_.clear();
  return *this;
}

void TraceIdSet::Mark() {
  marked_ = true;
  inserted_since_mark_.clear();
  if (memory_.size() >= options_.max_memory_ids && !spill_failed_) Spill();
}

void TraceIdSet::UndoToMark() {
  for (uint64_t fingerprint : inserted_since_mark_) memory_.erase(fingerprint);
  inserted_since_mark_.clear();
  exact_ = false;
}

void TraceIdSet::CloseRuns() {
  for (Run& r : runs_) close(r.fd);
  runs_.clear();
  run_ids_ = 0;
}

void TraceIdSet::Spill() {
  auto fail = [&](absl::Status s, int fd) {
    if (fd >= 0) close(fd);
    spill_failed_ = true;
    spill_error_ = std::move(s);
  };
  absl::StatusOr<int> fd = OpenAnonymousFile(options_.spill_dir);
  if (!fd.ok()) return fail(fd.status(), -1);
  std::vector<uint64_t> sorted = SortedFingerprints(memory_);
  if (absl::Status s = WriteAll(*fd, sorted.data(), sorted.size()); !s.ok()) return fail(s, *fd);
  runs_.push_back({.fd = *fd, .ids = sorted.size()});
  run_ids_ += sorted.size();
  memory_.clear();
  memory_.reserve(options_.max_memory_ids);
  if (runs_.size() < kMaxRuns) return;
  // Too many runs: merge them into one, each fingerprint once.
  absl::StatusOr<int> merged_fd = OpenAnonymousFile(options_.spill_dir);
  if (!merged_fd.ok()) return;  // the runs stay as they are; the next spill tries again
  const int out_fd = *merged_fd;
  absl::StatusOr<uint64_t> merged =
      MergeRuns(/*with_memory=*/false, [out_fd](const uint64_t* ids, size_t n) { return WriteAll(out_fd, ids, n); });
  if (!merged.ok()) {
    close(*merged_fd);
    return;
  }
  CloseRuns();
  runs_.push_back({.fd = *merged_fd, .ids = *merged});
  run_ids_ = *merged;
}

absl::StatusOr<uint64_t> MergeSortedFingerprints(std::vector<FingerprintSource> sources, const FingerprintSink& sink) {
  std::vector<Cursor> cursors;
  cursors.reserve(sources.size());
  for (FingerprintSource& source : sources) cursors.emplace_back(std::move(source));
  using Head = std::pair<uint64_t, size_t>;  // fingerprint, cursor
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (size_t i = 0; i < cursors.size(); ++i) {
    uint64_t id;
    absl::StatusOr<bool> more = cursors[i].Next(&id);
    if (!more.ok()) return more.status();
    if (*more) heads.emplace(id, i);
  }
  std::vector<uint64_t> out;
  if (sink) out.reserve(kIoIds);
  uint64_t distinct = 0;
  bool any = false;
  uint64_t last = 0;
  while (!heads.empty()) {
    auto [id, i] = heads.top();
    heads.pop();
    if (!any || id != last) {
      ++distinct;
      any = true;
      last = id;
      if (sink) {
        out.push_back(id);
        if (out.size() == kIoIds) {
          if (absl::Status s = sink(out.data(), out.size()); !s.ok()) return s;
          out.clear();
        }
      }
    }
    uint64_t next;
    absl::StatusOr<bool> more = cursors[i].Next(&next);
    if (!more.ok()) return more.status();
    if (*more) heads.emplace(next, i);
  }
  if (sink && !out.empty()) {
    if (absl::Status s = sink(out.data(), out.size()); !s.ok()) return s;
  }
  return distinct;
}

absl::StatusOr<uint64_t> TraceIdSet::MergeRuns(bool with_memory, const FingerprintSink& sink) {
  std::vector<uint64_t> memory_sorted;
  std::vector<FingerprintSource> sources;
  sources.reserve(runs_.size() + 1);
  for (const Run& r : runs_) sources.push_back(RunSource(r.fd, r.ids));
  if (with_memory && !memory_.empty()) {
    memory_sorted = SortedFingerprints(memory_);
    sources.push_back(VectorSource(&memory_sorted));
  }
  return MergeSortedFingerprints(std::move(sources), sink);
}

absl::StatusOr<uint64_t> TraceIdSet::WriteSorted(const FingerprintSink& sink) {
  absl::StatusOr<uint64_t> n = MergeRuns(/*with_memory=*/true, sink);
  if (n.ok()) {
    count_ = *n;
    exact_ = true;
  }
  return n;
}

absl::StatusOr<uint64_t> TraceIdSet::Count() {
  if (runs_.empty()) return memory_.size();
  if (!exact_) {
    absl::StatusOr<uint64_t> n = MergeRuns(/*with_memory=*/true, nullptr);
    if (!n.ok()) return n.status();
    count_ = *n;
    exact_ = true;
  }
  return count_;
}

}  // namespace otelrr::session
