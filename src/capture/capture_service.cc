#include "capture/capture_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <deque>
#include <future>
#include <optional>
#include <thread>
#include <utility>

#include "common/memory.h"
#include "common/status.h"
#include "otlp/json.h"
#include "otlp/wire.h"
#include "session/retention.h"
#include "session/session_id.h"
#include "session/layout.h"
#include "session/shared.h"

namespace otelrr::capture {
namespace {

enum Stat : size_t { kRequests, kRecorded, kNotRecorded, kInvalid, kOverloaded, kFailed, kForwarded, kForwardFailed };


// The items of a request of `signal` that the partial_success of its response counts.
uint64_t ItemsOf(otlp::Signal signal, const otlp::RequestSummary& s) {
  switch (signal) {
    case otlp::Signal::kTraces:
      return s.spans;
    case otlp::Signal::kMetrics:
      return s.data_points;
    case otlp::Signal::kLogs:
      return s.log_records;
  }
  return 0;
}

struct Pending {
  session::Record record;
  net::ExportDone done;
  // What the receiver thread's walk found (SessionWriter::AppendWalked).
  session::RecordCounts counts = {};
  std::string trace_ids = {};
  otlp::RedactionCounts redacted = {};
};

}  // namespace

absl::Status ValidateCaptureConfig(const CaptureConfig& config) {
  if (!config.session_id.empty()) {
    if (absl::Status s = session::ValidateSessionId(config.session_id); !s.ok()) return s;
  }
  if (!config.diagnostic_session_id.empty()) {
    if (absl::Status s = session::ValidateSessionId(config.diagnostic_session_id); !s.ok()) {
      return absl::InvalidArgumentError(fmt::format("diagnosticSessionId: {}", s.message()));
    }
  }
  if (config.max_size_mb && (!std::isfinite(*config.max_size_mb) || *config.max_size_mb <= 0)) {
    return absl::InvalidArgumentError(
        fmt::format("max size {} MB is not allowed: use a positive number of megabytes", *config.max_size_mb));
  }
  if (config.max_duration_minutes &&
      (!std::isfinite(*config.max_duration_minutes) || *config.max_duration_minutes <= 0)) {
    return absl::InvalidArgumentError(fmt::format(
        "max duration {} minutes is not allowed: use a positive number of minutes", *config.max_duration_minutes));
  }
  if (config.retention_days) {
    if (absl::Status s = session::ValidateRetentionDays(*config.retention_days); !s.ok()) return s;
  }
  if (!config.instance.empty()) {
    if (absl::Status s = session::ValidateInstanceName(config.instance); !s.ok()) return s;
    if (config.session_id.empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "instance '{}' needs a session id: every instance of a shared session records into the session it names",
          config.instance));
    }
  }
  if (config.compression_level) {
    if (absl::Status s = session::ValidateCompressionLevel(config.compression, *config.compression_level); !s.ok()) {
      return s;
    }
  }
  if (!config.capture_traces && !config.capture_metrics && !config.capture_logs) {
    return absl::InvalidArgumentError("the capture records no signal: enable at least one of traces, metrics and logs");
  }
  return absl::OkStatus();
}

// One capture being recorded: its queue, its writer and the thread that drives the writer.
class CaptureService::Active {
 public:
  // The writer holds the session's lock (SessionStore::Create) until it is destroyed.
  Active(CaptureService& service, std::unique_ptr<session::SessionWriter> writer, CaptureConfig config)
      : service_(service), config_(std::move(config)), writer_(std::move(writer)) {
    id_ = writer_->metadata().session_id;
    snapshot_ = writer_->metadata();
    thread_ = std::thread([this] { Run(); });
  }

  ~Active() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_) {
        stop_ = true;
        stop_status_ = session::SessionStatus::kCompleted;
      }
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  const std::string& id() const { return id_; }
  const CaptureConfig& config() const { return config_; }

  bool Captures(otlp::Signal signal) const {
    switch (signal) {
      case otlp::Signal::kTraces:
        return config_.capture_traces;
      case otlp::Signal::kMetrics:
        return config_.capture_metrics;
      case otlp::Signal::kLogs:
        return config_.capture_logs;
    }
    return false;
  }

  enum class Enqueued { kQueued, kFull, kStopping };

  Enqueued Enqueue(Pending& p, size_t max_queue_bytes) {
    size_t bytes = p.record.payload.size();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return Enqueued::kStopping;
      // One request larger than the whole queue is still taken when the queue is empty.
      if (queued_bytes_ > 0 && queued_bytes_ + bytes > max_queue_bytes) return Enqueued::kFull;
      queued_bytes_ += bytes;
      queue_.push_back(std::move(p));
    }
    cv_.notify_one();
    return Enqueued::kQueued;
  }

  // Asks the thread to record what is queued and close the session; waits for it.
  session::SessionMetadata Stop(session::SessionStatus status, std::string reason) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_) {
        stop_ = true;
        stop_status_ = status;
        stop_reason_ = std::move(reason);
      }
    }
    cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
    return Snapshot();
  }

  session::SessionMetadata Snapshot() {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    return snapshot_;
  }

  size_t queued_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return queued_bytes_;
  }

  bool ended_by_itself() const { return ended_by_itself_; }

  // See CaptureService::MarkPhase. Returns the phases after the mark, and in *ended the one it ended.
  absl::StatusOr<std::vector<session::Phase>> MarkPhase(std::string name, std::vector<std::string> flags,
                                                        uint64_t now, std::optional<session::Phase>* ended) {
    std::vector<session::Phase> phases;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return absl::NotFoundError(fmt::format("capture '{}' is stopping", id_));
      for (const session::Phase& p : phases_) {
        if (!name.empty() && p.name == name) {
          return absl::InvalidArgumentError(fmt::format(
              "capture '{}' already had the phase '{}': give each phase of a capture its own name", id_, name));
        }
      }
      if (!phases_.empty() && !phases_.back().end_time_unix_nano) {
        phases_.back().end_time_unix_nano = std::max(now, phases_.back().start_time_unix_nano);
        *ended = phases_.back();
      }
      if (!name.empty()) {
        std::vector<std::string> all = config_.enabled_flags;
        for (std::string& f : flags) {
          if (std::find(all.begin(), all.end(), f) == all.end()) all.push_back(std::move(f));
        }
        phases_.push_back({.name = name,
                           .annotation_key = fmt::format("{}{}", annotate::kPhaseKeyPrefix, name),
                           .start_time_unix_nano = now,
                           .flags = std::move(all)});
      }
      phases_changed_ = true;
      phases = phases_;
    }
    cv_.notify_all();
    return phases;
  }

 private:
  // Hands the phases marked since the last call to the writer's metadata (the capture's thread only).
  void TakePhases(bool closing) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing && !phases_.empty() && !phases_.back().end_time_unix_nano) {
      // Phase times are whole milliseconds: the last phase ends at the next one, so that it holds every item
      // received before the stop (rounding down lost those of the stop's own millisecond).
      const uint64_t next_milli = (service_.clock().WallNowUnixNano() + 999'999) / 1'000'000 * 1'000'000;
      phases_.back().end_time_unix_nano = std::max(next_milli, phases_.back().start_time_unix_nano);
      phases_changed_ = true;
    }
    if (!phases_changed_) return;
    writer_->metadata().phases = phases_;
    phases_changed_ = false;
  }

  void Run() {
    Clock& clock = service_.clock();
    const Clock::TimePoint start = clock.Now();
    std::optional<Clock::TimePoint> deadline;
    if (config_.max_duration_minutes) {
      deadline = start + std::chrono::duration_cast<Clock::Duration>(
                             std::chrono::duration<double, std::ratio<60>>(*config_.max_duration_minutes));
    }
    const double max_bytes = config_.max_size_mb ? *config_.max_size_mb * 1e6 : 0;
    auto next_save = start + service_.options_.metadata_interval;
    // Freed request buffers go back to the system now and then (common/memory.h), so that a long capture's
    // memory follows what it holds, not the largest burst it ever queued.
    constexpr auto kTrimInterval = std::chrono::minutes(1);
    auto next_trim = start + kTrimInterval;
    writer_->Checkpoint();  // what a storage error rolls back to (Record)
    std::deque<Pending> batch;
    while (true) {
      bool stopping;
      {
        std::unique_lock<std::mutex> lock(mu_);
        auto wake = deadline ? std::min(*deadline, next_save) : next_save;
        clock.WaitUntil(lock, cv_, wake, [&] { return stop_ || !queue_.empty() || phases_changed_; });
        batch.swap(queue_);
        stopping = stop_;
      }
      TakePhases(/*closing=*/false);
      size_t batch_bytes = Record(batch);
      {
        std::lock_guard<std::mutex> lock(mu_);
        queued_bytes_ -= batch_bytes;
      }
      const Clock::TimePoint now = clock.Now();
      if (stopping) {
        std::lock_guard<std::mutex> lock(mu_);
        if (queue_.empty()) break;
        continue;
      }
      std::string end_reason;
      if (!fault_.ok()) {
        end_reason = fmt::format("writing the session failed: {}", fault_.message());
      } else if (max_bytes > 0 && static_cast<double>(writer_->counts().uncompressed_bytes) >= max_bytes) {
        end_reason = fmt::format("max size {} MB reached", *config_.max_size_mb);
      } else if (deadline && now >= *deadline) {
        end_reason = fmt::format("max duration {} minutes reached", *config_.max_duration_minutes);
      }
      if (!end_reason.empty()) {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
        stop_status_ = fault_.ok() ? session::SessionStatus::kCompleted : session::SessionStatus::kFailed;
        stop_reason_ = std::move(end_reason);
        ended_by_itself_ = true;
        continue;  // record what is still queued, then close
      }
      if (now >= next_save) {
        next_save = now + service_.options_.metadata_interval;
        (void)writer_->SaveProgress();  // live counts for `sessions list`; best effort
      }
      if (now >= next_trim) {
        next_trim = now + kTrimInterval;
        ReturnFreeMemoryToSystem();
      }
    }
    session::SessionStatus status;
    std::string reason;
    {
      std::lock_guard<std::mutex> lock(mu_);
      status = stop_status_;
      reason = stop_reason_;
    }
    if (std::string note = PauseNote(); !note.empty()) {
      reason = reason.empty() ? note : fmt::format("{}; {}", reason, note);
      // A tee's clients got the downstream's answer: what it forwarded while paused is missing from the copy.
      if (service_.options_.forward != nullptr && refused_while_paused_ > 0) status = session::SessionStatus::kFailed;
    }
    TakePhases(/*closing=*/true);
    (void)writer_->Close(status, std::move(reason));  // a write error marks the session failed itself
    {
      std::lock_guard<std::mutex> lock(snapshot_mu_);
      snapshot_ = writer_->metadata();
    }
    if (!config_.instance.empty()) {
      // One instance of a shared session: the last one to stop merges the parts into metadata.json.
      absl::StatusOr<session::SealResult> sealed = session::SealSession(service_.sessions_.object_store(), id_);
      if (!sealed.ok()) {
        std::fprintf(stderr, "otelrr: sealing shared session %s: %s (`otelrr sessions seal %s` tries again)\n",
                     id_.c_str(), std::string(sealed.status().message()).c_str(), id_.c_str());
      }
    }
    service_.WritePhaseAnnotations(id_, writer_->metadata().phases);
    if (ended_by_itself_) service_.ActiveEnded(this);
  }

  // Appends the batch, writes it as complete members, then answers every request. Returns its bytes.
  //
  // A storage error (no space, a read-only file system) fails the batch: its requests are answered
  // UNAVAILABLE with the retry delay, and the writer takes back what it appended of them (Rollback), so the
  // session holds exactly the acknowledged requests. Recording is then paused: requests are refused the
  // same way, without touching the store, for one retry delay; the next batch after it tries again, and
  // recording resumes once a write succeeds. When the writer cannot take the batch back, the capture ends
  // (Run), failed, as after any other storage error.
  size_t Record(std::deque<Pending>& batch) {
    if (batch.empty()) return 0;
    const Clock::TimePoint now = service_.clock().Now();
    if (paused_since_ && now < resume_at_) return RefuseWhilePaused(batch);
    size_t bytes = 0;
    std::vector<std::pair<net::ExportDone, otlp::Signal>> appended;
    appended.reserve(batch.size());
    std::vector<std::pair<net::ExportDone, otlp::Signal>> failed;  // answered once the batch is taken back
    for (Pending& p : batch) {
      bytes += p.record.payload.size();
      otlp::Signal signal = p.record.signal;
      // Receivers on several threads stamp arrivals a little out of order; recorded in queue order, a
      // session's arrivals never go back in time (a file holds records in arrival order).
      p.record.arrival_unix_nano = std::max(p.record.arrival_unix_nano, last_arrival_);
      last_arrival_ = p.record.arrival_unix_nano;
      absl::Status s = fault_.ok() ? writer_->AppendWalked(std::move(p.record), p.counts, p.trace_ids) : fault_;
      if (s.ok()) {
        if (p.redacted.any()) {
          session::RedactionSummary& r = *writer_->metadata().redaction;
          r.attributes_dropped += p.redacted.attributes_dropped;
          r.attributes_hashed += p.redacted.attributes_hashed;
          r.attributes_replaced += p.redacted.attributes_replaced;
          r.bodies_masked += p.redacted.bodies_masked;
        }
        appended.emplace_back(std::move(p.done), signal);
      } else if (s.code() == absl::StatusCode::kInvalidArgument) {
        service_.Count(signal, kInvalid);
        p.done({.status = s});
      } else {
        if (fault_.ok()) fault_ = s;
        failed.emplace_back(std::move(p.done), signal);
      }
    }
    batch.clear();
    if (!appended.empty() && fault_.ok()) {
      absl::Status s = writer_->Flush(config_.fsync ? session::SessionWriter::FlushMode::kSynced
                                                    : session::SessionWriter::FlushMode::kWritten);
      if (!s.ok()) fault_ = s;
    }
    const absl::Status fault = fault_;
    if (fault.ok()) {
      writer_->Checkpoint();
      if (!appended.empty()) Resumed(now);  // a write went through
    } else {
      // Nothing of this batch is acknowledged: the writer takes it all back (or the capture ends).
      for (auto& a : appended) failed.push_back(std::move(a));
      appended.clear();
      Pause(now);
    }
    {
      // Before the answers: a client that saw its answer then sees the session as it is.
      std::lock_guard<std::mutex> lock(snapshot_mu_);
      snapshot_ = writer_->metadata();
      // What the API shows of a live capture: why it refuses requests now.
      if (paused_since_) snapshot_.status_reason = fmt::format("recording paused: {}", first_pause_error_);
    }
    for (auto& [done, signal] : appended) {
      service_.Count(signal, kRecorded);
      done({});
    }
    for (auto& [done, signal] : failed) {
      ++refused_while_paused_;
      service_.Count(signal, kFailed);
      done({.status = absl::UnavailableError(fmt::format("could not record the request: {}", fault.message())),
            .retry_after = service_.options_.retry_after});
    }
    return bytes;
  }

  // After a storage error: the writer takes back the failed batch and recording pauses for a retry delay;
  // fault_ stays (and the capture ends) when it cannot.
  void Pause(Clock::TimePoint now) {
    if (fault_.ok()) return;
    if (absl::Status s = writer_->Rollback(); !s.ok()) return;
    const absl::Status error = std::exchange(fault_, absl::OkStatus());
    resume_at_ = now + std::chrono::duration_cast<Clock::Duration>(service_.options_.retry_after);
    if (paused_since_) return;
    paused_since_ = now;
    ++pauses_;
    if (first_pause_error_.empty()) first_pause_error_ = std::string(error.message());
    std::fprintf(stderr,
                 "otelrr: capture %s: recording paused: writing the session failed: %s; %s until the store takes "
                 "writes again (everything recorded so far is kept)\n",
                 id_.c_str(), std::string(error.message()).c_str(),
                 service_.options_.forward != nullptr ? "requests are still forwarded, not recorded,"
                                                      : "requests are refused with a retry delay");
  }

  void Resumed(Clock::TimePoint now) {
    if (!paused_since_) return;
    const Clock::Duration paused = now - *paused_since_;
    paused_total_ += paused;
    paused_since_.reset();
    std::fprintf(stderr, "otelrr: capture %s: recording resumed after %.1f s paused\n", id_.c_str(),
                 std::chrono::duration<double>(paused).count());
  }

  size_t RefuseWhilePaused(std::deque<Pending>& batch) {
    size_t bytes = 0;
    for (Pending& p : batch) {
      bytes += p.record.payload.size();
      ++refused_while_paused_;
      service_.Count(p.record.signal, kFailed);
      p.done({.status = absl::UnavailableError(fmt::format(
                  "could not record the request: recording is paused by a storage error ({}); retry later",
                  first_pause_error_)),
              .retry_after = service_.options_.retry_after});
    }
    batch.clear();
    return bytes;
  }

  // For the session's statusReason: what the pauses cost, if there were any.
  std::string PauseNote() {
    if (pauses_ == 0) return "";
    Clock::Duration total = paused_total_;
    if (paused_since_) total += service_.clock().Now() - *paused_since_;
    const bool tee = service_.options_.forward != nullptr;
    return fmt::format("recording paused {} time{} by storage errors ({:.1f} s in all; first: {}); {} request{} {}",
                       pauses_, pauses_ == 1 ? "" : "s", std::chrono::duration<double>(total).count(),
                       first_pause_error_, refused_while_paused_, refused_while_paused_ == 1 ? " was" : "s were",
                       tee ? "forwarded but not recorded" : "refused with a retry delay meanwhile");
  }

  CaptureService& service_;
  const CaptureConfig config_;
  std::string id_;
  std::unique_ptr<session::SessionWriter> writer_;  // only the thread uses it
  absl::Status fault_;  // a storage error the writer could not take back: the capture then ends
  // Recording paused by a storage error (Record): since when, until when requests are refused outright.
  std::optional<Clock::TimePoint> paused_since_;
  Clock::TimePoint resume_at_{};
  int pauses_ = 0;
  Clock::Duration paused_total_{};
  uint64_t refused_while_paused_ = 0;  // requests answered UNAVAILABLE for a storage error
  std::string first_pause_error_;
  uint64_t last_arrival_ = 0;                        // of the last record appended

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  size_t queued_bytes_ = 0;  // queued or being recorded
  bool stop_ = false;
  std::vector<session::Phase> phases_;  // marked so far (MarkPhase)
  bool phases_changed_ = false;         // since the thread last took them
  session::SessionStatus stop_status_ = session::SessionStatus::kCompleted;
  std::string stop_reason_;
  bool ended_by_itself_ = false;  // written and read by the thread only

  std::mutex snapshot_mu_;
  session::SessionMetadata snapshot_;

  std::thread thread_;  // last
};

CaptureService::CaptureService(session::SessionStore& sessions, CaptureServiceOptions options)
    : sessions_(sessions), options_(options) {}

CaptureService::~CaptureService() {
  std::shared_ptr<Active> active;
  {
    std::lock_guard<std::mutex> lock(mu_);
    active = std::move(active_);
  }
  if (active) active->Stop(session::SessionStatus::kCompleted, "");
  std::vector<std::shared_ptr<Active>> retired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    retired.swap(retired_);
  }
  retired.clear();  // joins their threads
}

void CaptureService::Count(otlp::Signal signal, size_t stat) { stats_[signal][stat].fetch_add(1); }

std::shared_ptr<CaptureService::Active> CaptureService::CurrentActive() {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

void CaptureService::ActiveEnded(Active* active) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (active_.get() == active) {
      retired_.push_back(std::move(active_));  // joined later, never from its own thread
    }
  }
  if (on_ended_) on_ended_(active->Snapshot());
}

absl::StatusOr<std::vector<session::Phase>> CaptureService::MarkPhase(std::string_view session_id, std::string name,
                                                                       std::vector<std::string> flags) {
  if (!name.empty()) {
    annotate::Annotation probe = annotate::PhaseAnnotation(session_id, name, fmt::format("{}{}", annotate::kPhaseKeyPrefix, name),
                                                           1, std::nullopt, flags, "otelrr capture");
    bool simple = std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
    if (!simple || name.size() > 128) {
      return absl::InvalidArgumentError(fmt::format(
          "phase name '{}' must be 1 to 128 letters, digits, '-', '_' and '.' (it becomes the key test.phase.<name>)", name));
    }
    if (absl::Status s = annotate::Validate(probe); !s.ok()) return s;
  }
  std::shared_ptr<Active> a = CurrentActive();
  if (!a || a->id() != session_id) {
    return absl::NotFoundError(a ? fmt::format("'{}' is not being captured (the active capture is '{}')", session_id, a->id())
                                 : fmt::format("'{}' is not being captured: no capture is active", session_id));
  }
  std::optional<session::Phase> ended;
    // Millisecond precision, as metadata.json keeps phase times (the phase's annotation id derives from its start).
  const uint64_t now = clock().WallNowUnixNano() / 1'000'000 * 1'000'000;
  absl::StatusOr<std::vector<session::Phase>> phases = a->MarkPhase(std::move(name), std::move(flags), now, &ended);
  if (phases.ok() && ended) WritePhaseAnnotations(a->id(), {*ended});
  return phases;
}

void CaptureService::WritePhaseAnnotations(const std::string& session_id, const std::vector<session::Phase>& phases) {
  if (options_.annotations == nullptr || phases.empty()) return;
  std::vector<annotate::Annotation> annotations;
  for (const session::Phase& p : phases) {
    if (!p.end_time_unix_nano) continue;
    annotations.push_back(annotate::PhaseAnnotation(session_id, p.name, p.annotation_key, p.start_time_unix_nano,
                                                    p.end_time_unix_nano, p.flags, "otelrr capture"));
  }
  absl::StatusOr<std::vector<annotate::Annotation>> added =
      options_.annotations->Add(session_id, std::move(annotations), "otelrr capture");
  if (!added.ok()) {
    std::fprintf(stderr, "otelrr: the phases of capture %s: %s\n", session_id.c_str(),
                 std::string(added.status().message()).c_str());
  }
}

std::optional<std::string> CaptureService::ActiveCapture() {
  std::shared_ptr<Active> a = CurrentActive();
  if (!a) return std::nullopt;
  return a->id();
}

std::optional<CaptureConfig> CaptureService::ActiveCaptureConfig() {
  std::shared_ptr<Active> a = CurrentActive();
  if (!a) return std::nullopt;
  return a->config();
}

absl::StatusOr<session::SessionMetadata> CaptureService::StartCapture(CaptureConfig config) {
  std::lock_guard<std::mutex> start_lock(start_mu_);
  if (absl::Status s = ValidateCaptureConfig(config); !s.ok()) return s;
  {
    std::vector<std::shared_ptr<Active>> retired;
    std::lock_guard<std::mutex> lock(mu_);
    if (active_) {
      return absl::FailedPreconditionError(
          fmt::format("capture '{}' is active: stop it before starting another", active_->id()));
    }
    retired.swap(retired_);
  }
  uint64_t now = clock().WallNowUnixNano();
  std::string id = config.session_id.empty() ? session::NewSessionId("capture", now) : config.session_id;
  session::SessionMetadata metadata{
      .session_id = id,
      .session_type = session::SessionType::kCapture,
      .start_time_unix_nano = now,
      .expires_at_unix_nano = session::ExpiryAfterDays(now, config.retention_days),
      .enabled_flags = config.enabled_flags,
      .created_by = config.created_by,
      .description = config.description,
      .diagnostic_session_id = config.diagnostic_session_id,
  };
  if (options_.redactor != nullptr) {
    metadata.redaction.emplace();
    for (const otlp::RedactionRule& r : options_.redactor->rules()) metadata.redaction->rules.push_back(r.text);
    metadata.redaction->forward_redacted = options_.forward != nullptr && options_.redact_forward;
  }
  // Filled field by field: g++ 12 -O3 warns (falsely) about a designated initializer here.
  session::WriterOptions writer_options;
  writer_options.compression = config.compression_enabled ? config.compression : session::Compression::kNone;
  writer_options.compression_level = config.compression_enabled ? config.compression_level : std::nullopt;
  // The capture thread writes every batch itself (Flush), so a member never waits for a timer.
  writer_options.flush_interval = std::chrono::hours(24);
  writer_options.compression_threads = options_.compression_threads;
  writer_options.instance = config.instance;
  absl::StatusOr<std::unique_ptr<session::SessionWriter>> writer = sessions_.Create(std::move(metadata), writer_options);
  if (!writer.ok()) return writer.status();
  auto active = std::make_shared<Active>(*this, std::move(*writer), std::move(config));
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = active;
  }
  return active->Snapshot();
}

absl::StatusOr<session::SessionMetadata> CaptureService::StopCapture(std::string_view session_id,
                                                                     session::SessionStatus status, std::string reason) {
  std::lock_guard<std::mutex> start_lock(start_mu_);
  std::shared_ptr<Active> active;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!active_ || active_->id() != session_id) {
      return absl::NotFoundError(active_ ? fmt::format("'{}' is not being captured (the active capture is '{}')",
                                                       session_id, active_->id())
                                         : fmt::format("'{}' is not being captured: no capture is active", session_id));
    }
    active = std::move(active_);  // from here on, new requests are not recorded
  }
  return active->Stop(status, std::move(reason));
}

absl::Status CaptureService::AbortCapture(std::string_view session_id, std::string reason) {
  absl::StatusOr<session::SessionMetadata> stopped =
      StopCapture(session_id, session::SessionStatus::kFailed, std::move(reason));
  if (!stopped.ok()) return stopped.status();
  return sessions_.Delete(session_id);
}

absl::StatusOr<session::SessionMetadata> CaptureService::GetCaptureStatus(std::string_view session_id) {
  if (absl::Status s = session::ValidateSessionId(session_id); !s.ok()) return s;
  if (std::shared_ptr<Active> a = CurrentActive(); a && a->id() == session_id) return a->Snapshot();
  absl::StatusOr<session::SessionMetadata> m = sessions_.Load(session_id);
  if (m.ok()) (void)session::AddLiveInstances(sessions_.object_store(), &*m);  // other instances recording it
  return m;
}

absl::StatusOr<std::vector<session::SessionMetadata>> CaptureService::ListCaptureSessions() {
  absl::StatusOr<std::vector<session::SessionMetadata>> all = sessions_.List();
  if (!all.ok()) return all.status();
  std::shared_ptr<Active> a = CurrentActive();
  std::vector<session::SessionMetadata> out;
  for (session::SessionMetadata& m : *all) {
    if (m.session_type != session::SessionType::kCapture) continue;
    if (a && m.session_id == a->id()) {
      out.push_back(a->Snapshot());
    } else {
      out.push_back(std::move(m));
    }
  }
  return out;
}

absl::Status CaptureService::CaptureOtlpData(std::string_view session_id, std::string request, otlp::Signal signal) {
  std::shared_ptr<Active> a = CurrentActive();
  if (!a || a->id() != session_id) {
    return absl::FailedPreconditionError(fmt::format("'{}' is not being captured", session_id));
  }
  if (!a->Captures(signal)) {
    return absl::FailedPreconditionError(
        fmt::format("capture '{}' does not record {}", session_id, otlp::SignalName(signal)));
  }
  std::promise<net::ExportResult> result;
  std::future<net::ExportResult> future = result.get_future();
  Count(signal, kRequests);
  net::ExportRequest meta{.signal = signal, .transport = otlp::Transport::kUnknown, .arrival_unix_nano = clock().WallNowUnixNano()};
  Record(signal, meta, std::move(request), [&result](net::ExportResult r) { result.set_value(std::move(r)); });
  net::ExportResult r = future.get();
  if (r.status.ok() && r.partial_success.rejected > 0) {
    return absl::FailedPreconditionError(r.partial_success.error_message);  // the capture stopped meanwhile
  }
  return r.status;
}

void CaptureService::Export(net::ExportRequest request, net::ExportDone done) {
  const otlp::Signal signal = request.signal;
  Count(signal, kRequests);
  std::string payload;
  if (request.encoding == session::Encoding::kJson) {
    thread_local otlp::JsonCodec codec;
    if (absl::Status s = codec.JsonToProto(signal, request.body, &payload); !s.ok()) {
      Count(signal, kInvalid);
      done({.status = absl::InvalidArgumentError(
                fmt::format("not a valid OTLP/JSON {} request: {}", otlp::SignalName(signal), s.message()))});
      return;
    }
  } else {
    payload = std::move(request.body);
  }
  otlp::RedactionCounts redacted;
  const bool redact_now = options_.redactor != nullptr && (options_.forward == nullptr || options_.redact_forward);
  if (redact_now && !Redact(signal, &payload, &redacted, done)) return;
  if (options_.forward == nullptr) {
    Record(signal, request, std::move(payload), std::move(done), &redacted);
    return;
  }
  // Tee: forward first, and record what the downstream accepted. A request it refused is not recorded:
  // the client gets the refusal and retries, and the retry that gets through is the one recorded, once.
  // The client gets the downstream's answer once the request is also recorded.
  auto shared = std::make_shared<const std::string>(std::move(payload));
  options_.forward->Export(signal, shared, [this, signal, shared, request = std::move(request), done = std::move(done),
                                            redacted, redact_now](net::ExportResult downstream) mutable {
    Count(signal, downstream.status.ok() ? kForwarded : kForwardFailed);
    if (!downstream.status.ok()) {
      done(std::move(downstream));
      return;
    }
    Record(
        signal, request, std::string(*shared),
        [done = std::move(done), downstream = std::move(downstream)](net::ExportResult) mutable {
          done(std::move(downstream));
        },
        redact_now ? &redacted : nullptr);
  });
}

bool CaptureService::Redact(otlp::Signal signal, std::string* payload, otlp::RedactionCounts* counts,
                            net::ExportDone& done) {
  thread_local std::string redacted;
  absl::StatusOr<otlp::RedactionCounts> n = options_.redactor->Redact(signal, *payload, &redacted);
  if (!n.ok()) {
    Count(signal, kInvalid);
    done({.status = absl::InvalidArgumentError(
              fmt::format("not a valid OTLP {} request: {}", otlp::SignalName(signal), n.status().message()))});
    return false;
  }
  *counts = *n;
  payload->swap(redacted);
  return true;
}

void CaptureService::Record(otlp::Signal signal, net::ExportRequest& request, std::string payload,
                            net::ExportDone done, const otlp::RedactionCounts* redacted) {
  otlp::RedactionCounts own;
  if (options_.redactor != nullptr && redacted == nullptr) {
    if (!Redact(signal, &payload, &own, done)) return;
    redacted = &own;
  }
  // Validated and walked here, on the receiver's thread (many at once), not on the capture's one: one walk
  // checks the request, counts its items and collects its trace ids.
  std::string trace_ids;
  absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(signal, payload, &trace_ids);
  if (!summary.ok()) {
    Count(signal, kInvalid);
    done({.status = absl::InvalidArgumentError(fmt::format("not a valid OTLP {} request: {}",
                                                           otlp::SignalName(signal), summary.status().message()))});
    return;
  }
  std::shared_ptr<Active> active = CurrentActive();
  if (active && active->Captures(signal)) {
    // Filled field by field: g++ 12 -O3 warns (falsely) about a designated initializer here.
    Pending p;
    p.record.arrival_unix_nano = request.arrival_unix_nano;
    p.record.signal = signal;
    p.record.transport = request.transport;
    p.record.encoding = request.encoding;
    p.record.payload = std::move(payload);
    p.done = std::move(done);
    p.counts = {.spans = summary->spans, .data_points = summary->data_points, .log_records = summary->log_records};
    p.trace_ids = std::move(trace_ids);
    if (redacted != nullptr) p.redacted = *redacted;
    switch (active->Enqueue(p, options_.max_queue_bytes)) {
      case Active::Enqueued::kQueued:
        return;
      case Active::Enqueued::kFull:
        Count(signal, kOverloaded);
        p.done({.status = absl::UnavailableError(fmt::format(
                    "capture '{}' is behind: {} bytes are queued; retry later", active->id(), active->queued_bytes())),
                .retry_after = options_.retry_after});
        return;
      case Active::Enqueued::kStopping:
        done = std::move(p.done);
        break;  // answered below as not recorded
    }
  }
  // Not recorded: answered as the specification says, the items counted rejected.
  Count(signal, kNotRecorded);
  net::ExportResult result;
  result.partial_success.rejected = static_cast<int64_t>(ItemsOf(signal, *summary));
  result.partial_success.error_message =
      active && active->Captures(signal) == false
          ? fmt::format("not recorded: capture '{}' does not record {}", active->id(), otlp::SignalName(signal))
          : std::string("not recorded: no capture session is active");
  done(std::move(result));
}

CaptureStats CaptureService::stats() {
  CaptureStats out;
  for (otlp::Signal signal : otlp::kSignals) {
    SignalStats& s = out.signals[signal];
    const auto& counters = stats_[signal];
    s.requests = counters[kRequests].load();
    s.recorded = counters[kRecorded].load();
    s.not_recorded = counters[kNotRecorded].load();
    s.invalid = counters[kInvalid].load();
    s.overloaded = counters[kOverloaded].load();
    s.failed = counters[kFailed].load();
    s.forwarded = counters[kForwarded].load();
    s.forward_failed = counters[kForwardFailed].load();
  }
  if (std::shared_ptr<Active> a = CurrentActive()) out.queued_bytes = a->queued_bytes();
  return out;
}

}  // namespace otelrr::capture
