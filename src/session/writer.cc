#include "session/writer.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "otlp/wire.h"
#include "session/layout.h"
#include "session/session_id.h"
#include "session/session_lock.h"
#include "session/shared.h"
#include "session/time_format.h"

namespace otelrr::session {
namespace {

}  // namespace

int CompressionThreadsPerCore() {
  return static_cast<int>(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, kMaxCompressionThreads));
}

// Compresses members on `threads` threads at once and appends them to their files strictly in
// submission order: a member is compressed by whichever thread takes it, and whichever thread finds
// the oldest member compressed (and nobody writing) writes it and every compressed one after it.
class SessionWriter::CompressionWorker {
 public:
  CompressionWorker(Compression compression, int level, int threads, size_t keep_capacity)
      : compression_(compression), level_(level), max_in_flight_(static_cast<size_t>(threads) + 2), keep_capacity_(keep_capacity) {
    threads_.reserve(static_cast<size_t>(threads));
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }

  ~CompressionWorker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // Queues `data` for `file`, waiting while max_in_flight_ members are in flight. Returns the first
  // error (and drops `data`) once one happened.
  absl::Status Submit(OpenFile* file, std::string data) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return jobs_.size() < max_in_flight_ || !error_.ok(); });
    if (!error_.ok()) return error_;
    auto job = std::make_unique<Job>();
    job->file = file;
    job->data = std::move(data);
    jobs_.push_back(std::move(job));
    lock.unlock();
    work_cv_.notify_one();
    return absl::OkStatus();
  }

  // Waits until every queued member is written (or dropped after an error); returns the first error.
  absl::Status WaitIdle() {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return jobs_.empty(); });
    return error_;
  }

  absl::Status error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

  // Once idle: forgets the error (SessionWriter::Rollback took back what it was about).
  void ClearError() {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = absl::OkStatus();
  }

  // An empty buffer, reusing a written member's allocation when there is one.
  std::string TakeBuffer() {
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_.empty()) return {};
    std::string b = std::move(spare_.back());
    spare_.pop_back();
    return b;
  }

 private:
  enum class State { kQueued, kCompressing, kCompressed };
  struct Job {
    OpenFile* file = nullptr;
    std::string data;
    std::string compressed;
    State state = State::kQueued;
    absl::Status status;
  };

  Job* NextQueued() {
    for (auto& job : jobs_) {
      if (job->state == State::kQueued) return job.get();
    }
    return nullptr;
  }

  void Run() {
    internal::MemberCompressor compressor(compression_, level_);
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      Job* job = nullptr;
      work_cv_.wait(lock, [&] { return (job = NextQueued()) != nullptr || stop_; });
      if (job == nullptr) return;  // stop_, and nothing left to compress
      job->state = State::kCompressing;
      bool failed = !error_.ok();
      lock.unlock();
      if (!failed) job->status = compressor.Compress(job->data, &job->compressed);
      lock.lock();
      job->state = State::kCompressed;
      WriteReady(lock);
    }
  }

  // Writes the compressed members at the front of the queue, in order, unless another thread is.
  void WriteReady(std::unique_lock<std::mutex>& lock) {
    while (!writing_ && !jobs_.empty() && jobs_.front()->state == State::kCompressed) {
      Job* job = jobs_.front().get();  // stays at the front (and so in the queue) while written
      writing_ = true;
      bool failed = !error_.ok();
      lock.unlock();
      absl::Status s = failed ? absl::OkStatus() : job->status;
      if (!failed && s.ok()) s = AppendMember(*job->file, job->compressed);
      lock.lock();
      writing_ = false;
      if (!s.ok() && error_.ok()) error_ = s;
      job->data.clear();
      if (spare_.size() <= max_in_flight_ && job->data.capacity() <= keep_capacity_) {
        spare_.push_back(std::move(job->data));
      }
      jobs_.pop_front();
      done_cv_.notify_all();
    }
  }

  const Compression compression_;
  const int level_;
  const size_t max_in_flight_;
  const size_t keep_capacity_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // a job was queued, or stop
  std::condition_variable done_cv_;  // a job was written
  std::deque<std::unique_ptr<Job>> jobs_;  // in submission order: queued, compressing or compressed
  bool writing_ = false;                   // a thread is appending the front job to its file
  std::vector<std::string> spare_;
  absl::Status error_;
  bool stop_ = false;
  std::vector<std::thread> threads_;  // last: start once everything above exists
};

absl::StatusOr<std::unique_ptr<SessionWriter>> SessionWriter::Create(store::ObjectStore& store,
                                                                     SessionMetadata metadata, WriterOptions options) {
  if (absl::Status s = ValidateSessionId(metadata.session_id); !s.ok()) return s;
  if (!options.compression_level) options.compression_level = DefaultCompressionLevel(options.compression);
  if (absl::Status s = ValidateCompressionLevel(options.compression, *options.compression_level); !s.ok()) return s;
  if (options.member_bytes == 0 || options.max_file_bytes == 0) {
    return absl::InvalidArgumentError("member_bytes and max_file_bytes must be positive");
  }
  if (options.compression_threads < 0 || options.compression_threads > kMaxCompressionThreads) {
    return absl::InvalidArgumentError(
        fmt::format("compression_threads {} is out of range: use 0 (inline) to {} (worker threads)",
                    options.compression_threads, kMaxCompressionThreads));
  }
  metadata.format_version = kFormatVersion;
  metadata.status = SessionStatus::kActive;
  metadata.s3_prefix = SessionPrefix(metadata.session_id);
  if (metadata.start_time_unix_nano == 0) {
    metadata.start_time_unix_nano = (options.clock != nullptr ? *options.clock : RealClock()).WallNowUnixNano();
  }
  metadata.end_time_unix_nano.reset();
  metadata.counts = {};
  metadata.files.clear();
  metadata.first_arrival_unix_nano.reset();
  metadata.last_arrival_unix_nano.reset();
  metadata.total_size_bytes = 0;
  metadata.SyncCapturedTotals();
  if (!options.instance.empty()) {
    if (absl::Status s = ValidateInstanceName(options.instance); !s.ok()) return s;
    metadata.shared = true;
    metadata.instance = options.instance;
  }
  std::unique_ptr<SessionWriter> writer(new SessionWriter(store, std::move(metadata), std::move(options)));
  if (absl::Status s = store.Put(writer->MetadataObjectKey(), writer->metadata_.ToJson()); !s.ok()) {
    writer->closed_ = true;
    return s;
  }
  return writer;
}

SessionWriter::SessionWriter(store::ObjectStore& store, SessionMetadata metadata, WriterOptions options)
    : store_(store),
      metadata_(std::move(metadata)),
      options_(std::move(options)),
      prefix_(SessionPrefix(metadata_.session_id)),
      compressor_(options_.compression, *options_.compression_level),
      rng_(options_.random_seed != 0 ? options_.random_seed : std::random_device{}()) {
  trace_ids_ = TraceIdSet(options_.trace_ids);
  if (options_.compression_threads > 0) {
    worker_ = std::make_unique<CompressionWorker>(options_.compression, *options_.compression_level,
                                                  options_.compression_threads, 4 * options_.member_bytes);
  }
}

SessionWriter::~SessionWriter() {
  if (closed_) return;
  // Best effort, as after a crash: keep what was appended, leave metadata.json "active".
  for (otlp::Signal signal : otlp::kSignals) {
    if (open_[signal]) (void)FinishFile(signal);
  }
}

absl::Status SessionWriter::SaveProgress() {
  if (closed_) return absl::FailedPreconditionError("session writer is closed");
  return store_.Put(MetadataObjectKey(), metadata_.ToJson());
}

std::string SessionWriter::MetadataObjectKey() const {
  return options_.instance.empty() ? MetadataKey(metadata_.session_id)
                                   : InstancePartKey(metadata_.session_id, options_.instance);
}

void SessionWriter::HoldLock(std::unique_ptr<SessionLock> lock) { lock_ = std::move(lock); }

absl::Status SessionWriter::Fail(absl::Status status) {
  if (error_.ok()) error_ = status;
  return status;
}

absl::Status SessionWriter::StartFile(otlp::Signal signal, const Record& record) {
  auto file = std::make_unique<OpenFile>();
  file->path =
      RawFilePath(record.signal, record.arrival_unix_nano, FormatUuidV4(rng_(), rng_()), options_.compression,
                  options_.instance);
  absl::StatusOr<std::unique_ptr<store::ObjectWriter>> w = store_.Create(prefix_ + file->path);
  if (!w.ok()) return Fail(w.status());
  file->writer = std::move(*w);
  file->hour = record.arrival_unix_nano / kNanosPerHour;
  file->entry.path = file->path;
  file->entry.signal = record.signal;
  file->entry.compression = options_.compression;
  file->entry.first_arrival_unix_nano = record.arrival_unix_nano;
  file->entry.last_arrival_unix_nano = record.arrival_unix_nano;
  open_[signal] = std::move(file);
  return absl::OkStatus();
}

absl::Status SessionWriter::AppendMember(OpenFile& file, std::string_view compressed) {
  if (absl::Status s = file.writer->Append(compressed); !s.ok()) return s;
  file.sha.Update(compressed);
  file.written_bytes += compressed.size();
  return absl::OkStatus();
}

absl::Status SessionWriter::FlushMember(OpenFile& file) {
  if (file.member.empty()) return absl::OkStatus();
  file.member_started.reset();
  if (worker_) {
    uint64_t bound = internal::MemberCompressor::Bound(options_.compression, file.member.size());
    absl::Status s = worker_->Submit(&file, std::move(file.member));
    file.member = worker_->TakeBuffer();
    if (!s.ok()) return Fail(s);
    file.pending_bound += bound;
    return absl::OkStatus();
  }
  compressed_.clear();
  absl::Status s = compressor_.Compress(file.member, &compressed_);
  if (s.ok()) s = AppendMember(file, compressed_);
  if (!s.ok()) return Fail(s);
  file.entry.size_bytes = file.written_bytes;
  file.member.clear();
  // A member buffer that grew for one huge record should not pin that memory for the session's life.
  if (file.member.capacity() > 4 * options_.member_bytes) file.member.shrink_to_fit();
  return absl::OkStatus();
}

// Once the worker is idle, the appending thread may read every open file's writer, hash and size.
absl::Status SessionWriter::WaitForWorker() {
  if (!worker_) return absl::OkStatus();
  absl::Status s = worker_->WaitIdle();
  for (auto& file : open_) {
    if (!file) continue;
    file->entry.size_bytes = file->written_bytes;
    file->pending_bound = 0;
  }
  return s.ok() ? s : Fail(s);
}

absl::Status SessionWriter::FinishFile(otlp::Signal signal) {
  absl::Status s = FlushMember(*open_[signal]);
  // Always wait: the worker may hold members of this file, whatever happened above.
  absl::Status waited = WaitForWorker();
  if (s.ok()) s = waited;
  std::unique_ptr<OpenFile> file = std::move(open_[signal]);
  if (s.ok()) s = file->writer->Sync();
  if (!s.ok()) {
    (void)file->writer->Close();
    return Fail(s);
  }
  // Everything is written and synced: closing (an upload, on S3) goes on beside the appends.
  closing_.push_back(std::async(std::launch::async, [writer = std::move(file->writer)] {
    // Below the threads that acknowledge requests: an upload may take a while, an acknowledgement should not.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
    return writer->Close();
  }));
  if (absl::Status reaped = ReapClosing(/*all=*/false); !reaped.ok()) return reaped;
  file->entry.sha256 = file->sha.HexDigest();
  metadata_.total_size_bytes += file->entry.size_bytes;
  metadata_.files.push_back(std::move(file->entry));
  return absl::OkStatus();
}

absl::Status SessionWriter::ReapClosing(bool all) {
  constexpr size_t kMaxClosing = 2;
  absl::Status first = absl::OkStatus();
  while (!closing_.empty() &&
         (all || closing_.size() > kMaxClosing ||
          closing_.front().wait_for(std::chrono::seconds(0)) == std::future_status::ready)) {
    absl::Status s = closing_.front().get();
    closing_.pop_front();
    if (first.ok()) first = s;
  }
  return first.ok() ? first : Fail(first);
}

absl::Status SessionWriter::CheckUsable() {
  if (closed_) return absl::FailedPreconditionError("session writer is closed");
  if (!error_.ok()) return error_;
  if (worker_) {
    if (absl::Status s = worker_->error(); !s.ok()) return Fail(s);
  }
  return absl::OkStatus();
}

// What every Append* checks first: the writer is usable, the signal is one of the three, the payload
// fits a record.
absl::Status SessionWriter::CheckAppend(const Record& record) {
  if (absl::Status s = CheckUsable(); !s.ok()) return s;
  uint8_t signal_value = static_cast<uint8_t>(record.signal);
  if (signal_value < 1 || signal_value > 3) {
    return absl::InvalidArgumentError(fmt::format("unknown signal {}", signal_value));
  }
  if (record.payload.size() > kMaxRecordPayloadSize) {
    return absl::InvalidArgumentError(fmt::format("{} request of {} bytes exceeds the {} byte record limit",
                                                  otlp::SignalName(record.signal), record.payload.size(),
                                                  kMaxRecordPayloadSize));
  }
  return absl::OkStatus();
}

absl::Status SessionWriter::Append(Record record) {
  if (absl::Status s = CheckAppend(record); !s.ok()) return s;
  walked_ids_.clear();
  absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(record.signal, record.payload, &walked_ids_);
  if (!summary.ok()) {
    return absl::InvalidArgumentError(fmt::format("not a valid OTLP {} request: {}", otlp::SignalName(record.signal),
                                                  std::string(summary.status().message())));
  }
  trace_ids_.InsertAll(walked_ids_);
  return Store(record, {.spans = summary->spans, .data_points = summary->data_points,
                        .log_records = summary->log_records});
}

absl::Status SessionWriter::AppendTrusted(Record record, const RecordCounts& counts) {
  if (absl::Status s = CheckAppend(record); !s.ok()) return s;
#ifndef NDEBUG
  absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(record.signal, record.payload);
  if (!summary.ok() || summary->spans != counts.spans || summary->data_points != counts.data_points ||
      summary->log_records != counts.log_records) {
    return absl::InternalError(fmt::format("AppendTrusted: the {} request does not hold the declared counts",
                                           otlp::SignalName(record.signal)));
  }
#endif
  if (!options_.instance.empty() && counts.new_traces > 0) {
    return absl::InvalidArgumentError(
        "AppendTrusted: an instance of a shared session counts distinct traces from their ids: use Append or "
        "AppendWalked");
  }
  trusted_traces_ += counts.new_traces;
  return Store(record, counts);
}

absl::Status SessionWriter::AppendWalked(Record record, const RecordCounts& counts, std::string_view trace_ids) {
  if (absl::Status s = CheckAppend(record); !s.ok()) return s;
  if (trace_ids.size() % 16 != 0) return absl::InvalidArgumentError("trace_ids must be whole 16-byte ids");
#ifndef NDEBUG
  absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(record.signal, record.payload);
  std::string ids;
  (void)otlp::ForEachTraceId(record.signal, record.payload,
                             [&](const uint8_t* id) { ids.append(reinterpret_cast<const char*>(id), 16); });
  if (!summary.ok() || summary->spans != counts.spans || summary->data_points != counts.data_points ||
      summary->log_records != counts.log_records || ids != trace_ids) {
    return absl::InternalError(fmt::format("AppendWalked: the {} request does not hold the declared counts and ids",
                                           otlp::SignalName(record.signal)));
  }
#endif
  trace_ids_.InsertAll(trace_ids);
  return Store(record, {.spans = counts.spans, .data_points = counts.data_points, .log_records = counts.log_records});
}

absl::Status SessionWriter::Store(Record& record, const RecordCounts& counts) {
  const otlp::Signal signal = record.signal;
  if (OpenFile* f = open_[signal].get()) {
    bool full = f->entry.size_bytes + f->pending_bound >= options_.max_file_bytes;
    if (full && f->pending_bound > 0) {
      // The file may be full: learn its exact size, so it rotates where it would inline.
      if (absl::Status s = WaitForWorker(); !s.ok()) return s;
      full = f->entry.size_bytes >= options_.max_file_bytes;
    }
    bool rotate = record.arrival_unix_nano / kNanosPerHour != f->hour ||
                  record.arrival_unix_nano < f->entry.last_arrival_unix_nano || full;
    if (rotate) {
      if (absl::Status s = FinishFile(signal); !s.ok()) return s;
    }
  }
  if (!open_[signal]) {
    if (absl::Status s = StartFile(signal, record); !s.ok()) return s;
  }
  OpenFile& file = *open_[signal];

  record.sequence = next_sequence_++;
  size_t before = file.member.size();
  if (absl::Status s = AppendRecord(record, &file.member); !s.ok()) return s;  // checked above: cannot fail
  uint64_t framed = file.member.size() - before;
  if (!file.member_started) file.member_started = clock().Now();
  file.entry.last_arrival_unix_nano = record.arrival_unix_nano;
  file.entry.records += 1;
  file.entry.uncompressed_bytes += framed;

  SessionCounts& c = metadata_.counts;
  c.spans += counts.spans;
  c.data_points += counts.data_points;
  c.log_records += counts.log_records;
  c.uncompressed_bytes += framed;
  switch (record.signal) {
    case otlp::Signal::kTraces:
      ++c.trace_requests;
      break;
    case otlp::Signal::kMetrics:
      ++c.metric_requests;
      break;
    case otlp::Signal::kLogs:
      ++c.log_requests;
      break;
  }
  c.traces = trace_ids_.bound() + trusted_traces_;
  metadata_.SyncCapturedTotals();
  if (!metadata_.first_arrival_unix_nano || record.arrival_unix_nano < *metadata_.first_arrival_unix_nano) {
    metadata_.first_arrival_unix_nano = record.arrival_unix_nano;
  }
  if (!metadata_.last_arrival_unix_nano || record.arrival_unix_nano > *metadata_.last_arrival_unix_nano) {
    metadata_.last_arrival_unix_nano = record.arrival_unix_nano;
  }

  if (file.member.size() >= options_.member_bytes) {
    if (absl::Status s = FlushMember(file); !s.ok()) return s;
  }
  return FlushDue();
}

absl::Status SessionWriter::FlushDue() {
  if (absl::Status s = CheckUsable(); !s.ok()) return s;
  const Clock::TimePoint now = clock().Now();
  for (auto& file : open_) {
    if (file && file->member_started && now - *file->member_started >= options_.flush_interval) {
      if (absl::Status s = FlushMember(*file); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status SessionWriter::Flush(FlushMode mode) {
  if (absl::Status s = CheckUsable(); !s.ok()) return s;
  for (auto& file : open_) {
    if (file) {
      if (absl::Status s = FlushMember(*file); !s.ok()) return s;
    }
  }
  if (absl::Status s = WaitForWorker(); !s.ok()) return s;
  if (mode == FlushMode::kWritten) return absl::OkStatus();
  for (auto& file : open_) {
    if (file) {
      if (absl::Status s = file->writer->Sync(); !s.ok()) return Fail(s);
    }
  }
  return absl::OkStatus();
}

void SessionWriter::Checkpoint() {
  Mark mark{.counts = metadata_.counts,
            .next_sequence = next_sequence_,
            .trusted_traces = trusted_traces_,
            .first_arrival_unix_nano = metadata_.first_arrival_unix_nano,
            .last_arrival_unix_nano = metadata_.last_arrival_unix_nano,
            .files = metadata_.files.size(),
            .open = {}};
  for (otlp::Signal signal : otlp::kSignals) {
    if (const OpenFile* file = open_[signal].get()) {
      mark.open[signal] = file->entry;
      mark.open[signal]->size_bytes = file->written_bytes;
    }
  }
  mark_ = std::move(mark);
  trace_ids_.Mark();
}

absl::Status SessionWriter::Rollback() {
  if (closed_) return absl::FailedPreconditionError("session writer is closed");
  if (error_.ok() && (!worker_ || worker_->error().ok())) return absl::OkStatus();
  const absl::Status error = !error_.ok() ? error_ : worker_->error();
  if (!mark_ || abandoned_) return error;
  if (worker_) (void)worker_->WaitIdle();
  // A file finished since the mark may already be closed (uploaded): what it holds cannot be taken back.
  if (absl::Status s = ReapClosing(/*all=*/true); !s.ok()) return s;
  if (metadata_.files.size() != mark_->files) return error;
  // From here on a failure leaves files this writer can no longer describe: it writes nothing more, and
  // recovery rebuilds the session from its files at the next start (as after a crash).
  auto abandon = [&](absl::Status s) {
    abandoned_ = true;
    return Fail(std::move(s));
  };
  for (otlp::Signal signal : otlp::kSignals) {
    std::unique_ptr<OpenFile> file = std::move(open_[signal]);
    if (!file) continue;
    const std::optional<FileEntry>& kept = mark_->open[signal];
    // Closed first: on S3 the close uploads what was spooled, and the cut applies to the uploaded object.
    (void)file->writer->Close();
    const std::string key = prefix_ + file->path;
    if (!kept || kept->size_bytes == 0) {
      if (absl::Status s = store_.Delete(key); !s.ok() && !absl::IsNotFound(s)) return abandon(s);
      continue;
    }
    if (absl::Status s = store_.Truncate(key, kept->size_bytes); !s.ok()) return abandon(s);
    absl::StatusOr<std::pair<std::string, uint64_t>> hashed = internal::HashObject(store_, key);
    if (!hashed.ok()) return abandon(hashed.status());
    if (hashed->second != kept->size_bytes) {
      return abandon(absl::DataLossError(
          fmt::format("{}: {} bytes after cutting it back to {}", key, hashed->second, kept->size_bytes)));
    }
    FileEntry entry = *kept;
    entry.sha256 = hashed->first;
    metadata_.total_size_bytes += entry.size_bytes;
    metadata_.files.push_back(std::move(entry));
  }
  metadata_.counts = mark_->counts;
  next_sequence_ = mark_->next_sequence;
  trusted_traces_ = mark_->trusted_traces;
  metadata_.first_arrival_unix_nano = mark_->first_arrival_unix_nano;
  metadata_.last_arrival_unix_nano = mark_->last_arrival_unix_nano;
  metadata_.SyncCapturedTotals();
  trace_ids_.UndoToMark();
  error_ = absl::OkStatus();
  if (worker_) worker_->ClearError();
  Checkpoint();
  return absl::OkStatus();
}

absl::Status SessionWriter::Close(SessionStatus status, std::string reason) {
  if (closed_) return absl::FailedPreconditionError("session writer is already closed");
  closed_ = true;
  if (abandoned_) {
    // Rollback could not cut its files back: metadata.json stays "active" and recovery rebuilds the session.
    metadata_.status = SessionStatus::kFailed;
    metadata_.status_reason = reason.empty() ? std::string(error_.message())
                                             : fmt::format("{}; {}", reason, std::string(error_.message()));
    return error_;
  }
  for (otlp::Signal signal : otlp::kSignals) {
    if (open_[signal]) (void)FinishFile(signal);  // the first error is kept in error_
  }
  (void)ReapClosing(/*all=*/true);  // the files are closed (uploaded) before the metadata lists them as done
  if (!error_.ok()) {
    status = SessionStatus::kFailed;
    reason = reason.empty() ? std::string(error_.message()) : fmt::format("{}; {}", reason, std::string(error_.message()));
  }
  std::sort(metadata_.files.begin(), metadata_.files.end(), [](const FileEntry& a, const FileEntry& b) {
    return std::tie(a.first_arrival_unix_nano, a.path) < std::tie(b.first_arrival_unix_nano, b.path);
  });
  absl::StatusOr<uint64_t> traces = options_.instance.empty() ? trace_ids_.Count()
                                                                : WriteTraceFingerprints(store_, metadata_.session_id, options_.instance, trace_ids_);
  if (traces.ok()) {
    metadata_.counts.traces = *traces + trusted_traces_;  // exact; bound() counted across spills
  } else if (status != SessionStatus::kFailed) {
    status = SessionStatus::kFailed;  // counts.traces keeps the upper bound; `sessions verify` recounts and says so
    reason = fmt::format("counting distinct traces: {}", std::string(traces.status().message()));
  }
  metadata_.status = status;
  metadata_.status_reason = std::move(reason);
  if (!metadata_.end_time_unix_nano) metadata_.end_time_unix_nano = clock().WallNowUnixNano();
  metadata_.SyncCapturedTotals();
  absl::Status put = store_.Put(MetadataObjectKey(), metadata_.ToJson());
  // Every file of the session is finished now, and its lock is held: an upload still open under raw/ is an
  // orphan (a start whose answer was lost and was sent again). Best effort: the session is complete anyway.
  // Not for an instance: the other instances' uploads are under raw/ too (sealing does it, shared.h).
  if (options_.instance.empty()) (void)store_.AbortIncompleteWrites(RawPrefix(metadata_.session_id));
  if (!error_.ok()) return error_;
  return put;
}

}  // namespace otelrr::session
