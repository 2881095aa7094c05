#include "session/record_pipe.h"

namespace otelrr::session {

bool RecordPipe::Full() const {
  return !queue_.empty() && (queue_.size() >= options_.max_records || bytes_ >= options_.max_bytes);
}

bool RecordPipe::Drained() const {
  return queue_.empty() || (queue_.size() <= options_.max_records / 2 && bytes_ <= options_.max_bytes / 2);
}

bool RecordPipe::Push(Record record) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!closed_ && Full()) {
    producer_waits_ = true;
    room_.wait(lock, [&] { return closed_ || Drained(); });
    producer_waits_ = false;
  }
  if (closed_) return false;
  bytes_ += record.payload.size();
  queue_.push_back(std::move(record));
  if (consumer_waits_) records_.notify_one();
  return true;
}

void RecordPipe::Finish(absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  status_ = std::move(status);
  records_.notify_one();
}

absl::StatusOr<bool> RecordPipe::Next(Record* out) {
  std::unique_lock<std::mutex> lock(mu_);
  if (queue_.empty() && !finished_ && !closed_) {
    consumer_waits_ = true;
    records_.wait(lock, [&] { return !queue_.empty() || finished_ || closed_; });
    consumer_waits_ = false;
  }
  if (queue_.empty()) {
    if (!status_.ok()) return status_;
    return false;
  }
  *out = std::move(queue_.front());
  queue_.pop_front();
  bytes_ -= out->payload.size();
  if (producer_waits_ && Drained()) room_.notify_one();
  return true;
}

void RecordPipe::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  queue_.clear();
  bytes_ = 0;
  room_.notify_one();
  records_.notify_one();
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
