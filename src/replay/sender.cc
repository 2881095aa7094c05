#include "replay/sender.h"

#include <algorithm>
#include <cmath>

namespace otelrr::replay {
namespace {

bool Retryable(const net::ExportResult& r, bool http) {
  switch (r.status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kDataLoss:
      return true;
    case absl::StatusCode::kResourceExhausted:
      // HTTP 429 is retryable; gRPC RESOURCE_EXHAUSTED only when the server says when (RetryInfo).
      return http || r.retry_after.count() > 0;
    default:
      return false;
  }
}

}  // namespace

Sender::Sender(net::OtlpExporter& exporter, Clock& clock, const ReplayConfig& config)
    : exporter_(exporter), clock_(clock), config_(config), http_(config.protocol != Protocol::kGrpc), rng_(0x5eed) {}

Sender::~Sender() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return outstanding_ == 0; });
}

bool Sender::HasRoom(size_t bytes) const {
  return in_flight_ == 0 || (in_flight_ < config_.window && in_flight_bytes_ + bytes <= config_.window_bytes);
}

void Sender::Send(otlp::Signal signal, std::string body, uint64_t items) {
  in_flight_bytes_ += body.size();
  ++in_flight_;
  ++counts_[signal].sent_requests;
  Attempt(std::make_shared<Job>(
      Job{signal, std::make_shared<const std::string>(std::move(body)), items, 1, clock_.Now()}));
}

void Sender::Attempt(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++outstanding_;
  }
  exporter_.Export(job->signal, job->body, [this, job](net::ExportResult r) {
    std::lock_guard<std::mutex> lock(mu_);
    const bool failure = !r.status.ok();
    answers_.push_back({job, std::move(r)});
    --outstanding_;
    failure_queued_ = failure_queued_ || failure;
    // A wake-up costs more than the accounting: only when someone waits for this answer (the destructor
    // waits for the last one).
    if (failure || any_answer_wakes_ || outstanding_ == 0) cv_.notify_all();
  });
}

Clock::TimePoint Sender::Poll() {
  std::vector<Answer> answers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    answers.swap(answers_);
    failure_queued_ = false;
  }
  for (Answer& a : answers) Account(std::move(a));
  const Clock::TimePoint now = clock_.Now();
  while (!stopped_ && !retries_.empty() && retries_.begin()->first <= now) {
    std::shared_ptr<Job> job = std::move(retries_.begin()->second);
    retries_.erase(retries_.begin());
    Attempt(job);
  }
  return retries_.empty() || stopped_ ? Clock::TimePoint::max() : retries_.begin()->first;
}

void Sender::Account(Answer answer) {
  const std::shared_ptr<Job>& job = answer.job;
  net::ExportResult& r = answer.result;
  SignalReport& s = counts_[job->signal];
  if (http_) {
    ++status_codes_[r.http_status != 0 ? std::to_string(r.http_status) : std::string("no answer")];
  } else {
    ++status_codes_[absl::StatusCodeToString(r.status.code())];
  }
  if (r.status.ok()) {
    ++s.accepted_requests;
    uint64_t rejected = static_cast<uint64_t>(std::max<int64_t>(0, r.partial_success.rejected));
    s.rejected_items += rejected;
    s.items += job->items - std::min(job->items, rejected);
    if (rejected > 0 || !r.partial_success.error_message.empty()) {
      last_error_ = r.partial_success.error_message.empty()
                        ? "the target rejected some items (partial success)"
                        : "partial success: " + r.partial_success.error_message;
      if (first_error_.empty()) first_error_ = last_error_;
    }
    --in_flight_;
    in_flight_bytes_ -= job->body->size();
    return;
  }
  std::string message(r.status.message());
  if (config_.on_error) config_.on_error(message);
  last_error_ = message;
  if (stopped_) {
    // The replay stopped: a request that could still have succeeded is abandoned, not failed.
    if (Retryable(r, http_)) {
      ++s.abandoned_requests;
    } else {
      Failed(*job, std::move(message));
      return;
    }
    --in_flight_;
    in_flight_bytes_ -= job->body->size();
    return;
  }
  std::chrono::milliseconds delay = r.retry_after;
  if (delay.count() > 0) {
    // At least what the server asked for; up to half as much again, so that requests refused together
    // do not all come back at the same instant.
    std::uniform_real_distribution<double> spread(1.0, 1.5);
    delay = std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(delay.count()) * spread(rng_)));
  } else {
    // Exponential backoff with full jitter, bounded.
    double base = static_cast<double>(config_.initial_backoff.count()) * std::pow(2.0, job->attempt - 1);
    base = std::min(base, static_cast<double>(config_.max_backoff.count()));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    delay = std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng_)));
  }
  const Clock::TimePoint now = clock_.Now();
  const bool attempts_left = config_.max_attempts == 0 || job->attempt < config_.max_attempts;
  const bool time_left = now + delay - job->first_attempt <= config_.max_retry_elapsed;
  if (Retryable(r, http_) && attempts_left && time_left) {
    ++s.retries;
    ++job->attempt;
    retries_.emplace(now + delay, job);  // still in flight: it holds its place in the window
    return;
  }
  Failed(*job, std::move(message));
}

void Sender::Failed(const Job& job, std::string message) {
  ++counts_[job.signal].failed_requests;
  if (first_error_.empty()) first_error_ = std::move(message);
  --in_flight_;
  in_flight_bytes_ -= job.body->size();
}

void Sender::Wait(Clock::TimePoint until, bool for_any_answer) {
  std::unique_lock<std::mutex> lock(mu_);
  any_answer_wakes_ = for_any_answer;
  clock_.WaitUntil(lock, cv_, until,
                   [&] { return (for_any_answer ? !answers_.empty() : failure_queued_) || woken_; });
  any_answer_wakes_ = true;
  woken_ = false;
}

void Sender::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void Sender::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& [due, job] : retries_) {
    ++counts_[job->signal].abandoned_requests;
    --in_flight_;
    in_flight_bytes_ -= job->body->size();
  }
  retries_.clear();
}

void Sender::Abort() {
  Stop();
  exporter_.Cancel();
}

}  // namespace otelrr::replay
