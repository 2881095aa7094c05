#include "session/writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "otlp/wire.h"
#include "session/layout.h"
#include "session/session_id.h"
#include "session/time_format.h"

namespace otelrr::session {
namespace {

size_t SlotOf(otlp::Signal signal) { return static_cast<size_t>(signal) - 1; }

uint64_t SystemNowUnixNano() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

absl::StatusOr<std::unique_ptr<SessionWriter>> SessionWriter::Create(store::ObjectStore& store,
                                                                     SessionMetadata metadata, WriterOptions options) {
  if (absl::Status s = ValidateSessionId(metadata.session_id); !s.ok()) return s;
  if (options.compression_level < 0 || options.compression_level > 12) {
    return absl::InvalidArgumentError(
        fmt::format("compression level {} is out of range: use 0 (off) to 12", options.compression_level));
  }
  if (options.member_bytes == 0 || options.max_file_bytes == 0) {
    return absl::InvalidArgumentError("member_bytes and max_file_bytes must be positive");
  }
  if (!options.wall_now_unix_nano) options.wall_now_unix_nano = SystemNowUnixNano;
  metadata.format_version = kFormatVersion;
  metadata.status = SessionStatus::kActive;
  metadata.s3_prefix = SessionPrefix(metadata.session_id);
  if (metadata.start_time_unix_nano == 0) metadata.start_time_unix_nano = options.wall_now_unix_nano();
  metadata.end_time_unix_nano.reset();
  metadata.counts = {};
  metadata.files.clear();
  metadata.first_arrival_unix_nano.reset();
  metadata.last_arrival_unix_nano.reset();
  metadata.total_size_bytes = 0;
  metadata.SyncCapturedTotals();
  std::unique_ptr<SessionWriter> writer(new SessionWriter(store, std::move(metadata), std::move(options)));
  if (absl::Status s = store.Put(MetadataKey(writer->metadata_.session_id), writer->metadata_.ToJson()); !s.ok()) {
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
      compressor_(options_.compression_level),
      rng_(options_.random_seed != 0 ? options_.random_seed : std::random_device{}()) {}

SessionWriter::~SessionWriter() {
  if (closed_) return;
  // Best effort, as after a crash: keep what was appended, leave metadata.json "active".
  for (size_t slot = 0; slot < open_.size(); ++slot) {
    if (open_[slot]) (void)FinishFile(slot);
  }
}

std::chrono::steady_clock::time_point SessionWriter::SteadyNow() const {
  return options_.steady_now ? options_.steady_now() : std::chrono::steady_clock::now();
}

absl::Status SessionWriter::Fail(absl::Status status) {
  if (error_.ok()) error_ = status;
  return status;
}

absl::Status SessionWriter::StartFile(size_t slot, const Record& record) {
  auto file = std::make_unique<OpenFile>();
  file->path = RawFilePath(record.signal, record.arrival_unix_nano, FormatUuidV4(rng_(), rng_()));
  absl::StatusOr<std::unique_ptr<store::ObjectWriter>> w = store_.Create(prefix_ + file->path);
  if (!w.ok()) return Fail(w.status());
  file->writer = std::move(*w);
  file->hour = record.arrival_unix_nano / kNanosPerHour;
  file->entry.path = file->path;
  file->entry.signal = record.signal;
  file->entry.first_arrival_unix_nano = record.arrival_unix_nano;
  file->entry.last_arrival_unix_nano = record.arrival_unix_nano;
  open_[slot] = std::move(file);
  return absl::OkStatus();
}

absl::Status SessionWriter::FlushMember(OpenFile& file) {
  if (file.member.empty()) return absl::OkStatus();
  compressed_.clear();
  if (absl::Status s = compressor_.CompressMember(file.member, &compressed_); !s.ok()) return Fail(s);
  if (absl::Status s = file.writer->Append(compressed_); !s.ok()) return Fail(s);
  file.sha.Update(compressed_);
  file.entry.size_bytes += compressed_.size();
  file.member.clear();
  file.member_started.reset();
  // A member buffer that grew for one huge record should not pin that memory for the session's life.
  if (file.member.capacity() > 4 * options_.member_bytes) file.member.shrink_to_fit();
  return absl::OkStatus();
}

absl::Status SessionWriter::FinishFile(size_t slot) {
  std::unique_ptr<OpenFile> file = std::move(open_[slot]);
  absl::Status s = FlushMember(*file);
  if (s.ok()) s = file->writer->Sync();
  absl::Status closed = file->writer->Close();
  if (s.ok()) s = closed;
  if (!s.ok()) return Fail(s);
  file->entry.sha256 = file->sha.HexDigest();
  metadata_.total_size_bytes += file->entry.size_bytes;
  metadata_.files.push_back(std::move(file->entry));
  return absl::OkStatus();
}

absl::Status SessionWriter::Append(Record record) {
  if (closed_) return absl::FailedPreconditionError("session writer is closed");
  if (!error_.ok()) return error_;
  uint8_t signal_value = static_cast<uint8_t>(record.signal);
  if (signal_value < 1 || signal_value > 3) {
    return absl::InvalidArgumentError(fmt::format("unknown signal {}", signal_value));
  }
  if (record.payload.size() > kMaxRecordPayloadSize) {
    return absl::InvalidArgumentError(fmt::format("{} request of {} bytes exceeds the {} byte record limit",
                                                  otlp::SignalName(record.signal), record.payload.size(),
                                                  kMaxRecordPayloadSize));
  }
  absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(record.signal, record.payload);
  if (!summary.ok()) {
    return absl::InvalidArgumentError(fmt::format("not a valid OTLP {} request: {}", otlp::SignalName(record.signal),
                                                  std::string(summary.status().message())));
  }

  size_t slot = SlotOf(record.signal);
  if (OpenFile* f = open_[slot].get()) {
    bool rotate = record.arrival_unix_nano / kNanosPerHour != f->hour ||
                  record.arrival_unix_nano < f->entry.last_arrival_unix_nano ||
                  f->entry.size_bytes >= options_.max_file_bytes;
    if (rotate) {
      if (absl::Status s = FinishFile(slot); !s.ok()) return s;
    }
  }
  if (!open_[slot]) {
    if (absl::Status s = StartFile(slot, record); !s.ok()) return s;
  }
  OpenFile& file = *open_[slot];

  record.sequence = next_sequence_++;
  size_t before = file.member.size();
  if (absl::Status s = AppendRecord(record, &file.member); !s.ok()) return s;  // checked above: cannot fail
  uint64_t framed = file.member.size() - before;
  if (!file.member_started) file.member_started = SteadyNow();
  file.entry.last_arrival_unix_nano = record.arrival_unix_nano;
  file.entry.records += 1;
  file.entry.uncompressed_bytes += framed;

  SessionCounts& c = metadata_.counts;
  c.spans += summary->spans;
  c.data_points += summary->data_points;
  c.log_records += summary->log_records;
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
  (void)otlp::ForEachTraceId(record.signal, record.payload, [&](const uint8_t* id) { trace_ids_.Insert(id); });
  c.traces = trace_ids_.size();
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
  if (closed_) return absl::FailedPreconditionError("session writer is closed");
  if (!error_.ok()) return error_;
  auto now = SteadyNow();
  for (auto& file : open_) {
    if (file && file->member_started && now - *file->member_started >= options_.flush_interval) {
      if (absl::Status s = FlushMember(*file); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status SessionWriter::Flush() {
  if (closed_) return absl::FailedPreconditionError("session writer is closed");
  if (!error_.ok()) return error_;
  for (auto& file : open_) {
    if (!file) continue;
    if (absl::Status s = FlushMember(*file); !s.ok()) return s;
    if (absl::Status s = file->writer->Sync(); !s.ok()) return Fail(s);
  }
  return absl::OkStatus();
}

absl::Status SessionWriter::Close(SessionStatus status, std::string reason) {
  if (closed_) return absl::FailedPreconditionError("session writer is already closed");
  closed_ = true;
  for (size_t slot = 0; slot < open_.size(); ++slot) {
    if (open_[slot]) (void)FinishFile(slot);  // the first error is kept in error_
  }
  if (!error_.ok()) {
    status = SessionStatus::kFailed;
    reason = reason.empty() ? std::string(error_.message()) : fmt::format("{}; {}", reason, std::string(error_.message()));
  }
  std::sort(metadata_.files.begin(), metadata_.files.end(), [](const FileEntry& a, const FileEntry& b) {
    return std::tie(a.first_arrival_unix_nano, a.path) < std::tie(b.first_arrival_unix_nano, b.path);
  });
  metadata_.status = status;
  metadata_.status_reason = std::move(reason);
  if (!metadata_.end_time_unix_nano) metadata_.end_time_unix_nano = options_.wall_now_unix_nano();
  metadata_.SyncCapturedTotals();
  absl::Status put = store_.Put(MetadataKey(metadata_.session_id), metadata_.ToJson());
  if (!error_.ok()) return error_;
  return put;
}

}  // namespace otelrr::session
