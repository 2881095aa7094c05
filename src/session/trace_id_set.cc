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

// Writes distinct fingerprints in ascending order, kIoIds at a time.
class RunWriter {
 public:
  explicit RunWriter(int fd) : fd_(fd) { buffer_.reserve(kIoIds); }
  absl::Status Add(uint64_t id) {
    buffer_.push_back(id);
    return buffer_.size() == kIoIds ? Flush() : absl::OkStatus();
  }
  absl::Status Flush() {
    absl::Status s = WriteAll(fd_, buffer_.data(), buffer_.size());
    buffer_.clear();
    return s;
  }

 private:
  int fd_;
  std::vector<uint64_t> buffer_;
};

// Reads one run (or a sorted vector) in ascending order.
class Cursor {
 public:
  Cursor(int fd, uint64_t ids) : fd_(fd), left_(ids) {}
  explicit Cursor(const std::vector<uint64_t>* ids) : memory_(ids), left_(ids->size()) {}

  // False at the end.
  absl::StatusOr<bool> Next(uint64_t* id) {
    if (left_ == 0) return false;
    if (memory_ != nullptr) {
      *id = (*memory_)[memory_->size() - left_--];
      return true;
    }
    if (pos_ == buffer_.size()) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left_, kIoIds));
      buffer_.resize(n);
      size_t bytes = n * sizeof(uint64_t);
      size_t got = 0;
      while (got < bytes) {
        ssize_t r = pread(fd_, reinterpret_cast<char*>(buffer_.data()) + got, bytes - got,
                          static_cast<off_t>(offset_ + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
          return absl::DataLossError(fmt::format("reading spilled trace ids back: {}",
                                                 r == 0 ? "the file is shorter than written" : std::strerror(errno)));
        }
        got += static_cast<size_t>(r);
      }
      offset_ += bytes;
      pos_ = 0;
    }
    *id = buffer_[pos_++];
    --left_;
    return true;
  }

 private:
  int fd_ = -1;
  const std::vector<uint64_t>* memory_ = nullptr;
  uint64_t left_;
  uint64_t offset_ = 0;
  std::vector<uint64_t> buffer_;
  size_t pos_ = 0;
};

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
  other.runs_.clear();
  other.memory_.clear();
  return *this;
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
  absl::StatusOr<uint64_t> merged = MergeRuns(/*with_memory=*/false, *merged_fd);
  if (!merged.ok()) {
    close(*merged_fd);
    return;
  }
  CloseRuns();
  runs_.push_back({.fd = *merged_fd, .ids = *merged});
  run_ids_ = *merged;
}

absl::StatusOr<uint64_t> TraceIdSet::MergeRuns(bool with_memory, int out_fd) {
  std::vector<uint64_t> memory_sorted;
  std::vector<Cursor> cursors;
  cursors.reserve(runs_.size() + 1);
  for (const Run& r : runs_) cursors.emplace_back(r.fd, r.ids);
  if (with_memory && !memory_.empty()) {
    memory_sorted = SortedFingerprints(memory_);
    cursors.emplace_back(&memory_sorted);
  }
  using Head = std::pair<uint64_t, size_t>;  // fingerprint, cursor
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (size_t i = 0; i < cursors.size(); ++i) {
    uint64_t id;
    absl::StatusOr<bool> more = cursors[i].Next(&id);
    if (!more.ok()) return more.status();
    if (*more) heads.emplace(id, i);
  }
  std::optional<RunWriter> writer;
  if (out_fd >= 0) writer.emplace(out_fd);
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
      if (writer) {
        if (absl::Status s = writer->Add(id); !s.ok()) return s;
      }
    }
    uint64_t next;
    absl::StatusOr<bool> more = cursors[i].Next(&next);
    if (!more.ok()) return more.status();
    if (*more) heads.emplace(next, i);
  }
  if (writer) {
    if (absl::Status s = writer->Flush(); !s.ok()) return s;
  }
  return distinct;
}

absl::StatusOr<uint64_t> TraceIdSet::Count() {
  if (runs_.empty()) return memory_.size();
  if (!exact_) {
    absl::StatusOr<uint64_t> n = MergeRuns(/*with_memory=*/true, -1);
    if (!n.ok()) return n.status();
    count_ = *n;
    exact_ = true;
  }
  return count_;
}

}  // namespace otelrr::session
