#include "session/record_pipe.h"

namespace otelrr::session {

bool RecordPipe::Push(Record record) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] {
    return closed_ || queue_.empty() || (queue_.size() < options_.max_records && bytes_ < options_.max_bytes);
  });
  if (closed_) return false;
  bytes_ += record.payload.size();
  queue_.push_back(std::move(record));
  cv_.notify_all();
  return true;
}

void RecordPipe::Finish(absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  status_ = std::move(status);
  cv_.notify_all();
}

absl::StatusOr<bool> RecordPipe::Next(Record* out) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !queue_.empty() || finished_ || closed_; });
  if (queue_.empty()) {
    if (!status_.ok()) return status_;
    return false;
  }
  *out = std::move(queue_.front());
  queue_.pop_front();
  bytes_ -= out->payload.size();
  cv_.notify_all();
  return true;
}

void RecordPipe::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  queue_.clear();
  bytes_ = 0;
  cv_.notify_all();
}

ReadAhead::ReadAhead(std::unique_ptr<SessionReader> reader, RecordPipeOptions options)
    : reader_(std::move(reader)), pipe_(options), thread_([this] { Run(); }) {}

ReadAhead::~ReadAhead() {
  pipe_.Close();
  thread_.join();
}

void ReadAhead::Run() {
  while (true) {
    Record rec;
    absl::StatusOr<bool> more = reader_->Next(&rec);
    if (!more.ok() || !*more) {
      pipe_.Finish(more.ok() ? absl::OkStatus() : more.status());
      return;
    }
    if (!pipe_.Push(std::move(rec))) return;
  }
}

}  // namespace otelrr::session
