#include "capture/capture_service.h"

#include <fmt/format.h>

#include <cmath>
#include <deque>
#include <future>
#include <thread>

#include "common/status.h"
#include "otlp/json.h"
#include "otlp/wire.h"
#include "session/session_id.h"

namespace otelrr::capture {
namespace {

enum Stat : size_t { kRequests, kRecorded, kNotRecorded, kInvalid, kOverloaded, kFailed, kForwarded, kForwardFailed };

size_t SlotOf(otlp::Signal signal) { return static_cast<size_t>(signal) - 1; }

uint64_t NowUnixNano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

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

 private:
  void Run() {
    const auto start = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (config_.max_duration_minutes) {
      deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double, std::ratio<60>>(*config_.max_duration_minutes));
    }
    const double max_bytes = config_.max_size_mb ? *config_.max_size_mb * 1e6 : 0;
    auto next_save = start + service_.options_.metadata_interval;
    std::deque<Pending> batch;
    while (true) {
      bool stopping;
      {
        std::unique_lock<std::mutex> lock(mu_);
        auto wake = deadline ? std::min(*deadline, next_save) : next_save;
        cv_.wait_until(lock, wake, [&] { return stop_ || !queue_.empty(); });
        batch.swap(queue_);
        stopping = stop_;
      }
      size_t batch_bytes = Record(batch);
      {
        std::lock_guard<std::mutex> lock(mu_);
        queued_bytes_ -= batch_bytes;
      }
      auto now = std::chrono::steady_clock::now();
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
        (void)service_.sessions_.Save(writer_->metadata());  // live counts for `sessions list`; best effort
      }
    }
    session::SessionStatus status;
    std::string reason;
    {
      std::lock_guard<std::mutex> lock(mu_);
      status = stop_status_;
      reason = stop_reason_;
    }
    (void)writer_->Close(status, std::move(reason));  // a write error marks the session failed itself
    {
      std::lock_guard<std::mutex> lock(snapshot_mu_);
      snapshot_ = writer_->metadata();
    }
    if (ended_by_itself_) service_.ActiveEnded(this);
  }

  // Appends the batch, writes it as complete members, then answers every request. Returns its bytes.
  size_t Record(std::deque<Pending>& batch) {
    if (batch.empty()) return 0;
    size_t bytes = 0;
    std::vector<std::pair<net::ExportDone, otlp::Signal>> acks;
    acks.reserve(batch.size());
    for (Pending& p : batch) {
      bytes += p.record.payload.size();
      otlp::Signal signal = p.record.signal;
      // Receivers on several threads stamp arrivals a little out of order; recorded in queue order, a
      // session's arrivals never go back in time (a file holds records in arrival order).
      p.record.arrival_unix_nano = std::max(p.record.arrival_unix_nano, last_arrival_);
      last_arrival_ = p.record.arrival_unix_nano;
      absl::Status s = fault_.ok() ? writer_->AppendWalked(std::move(p.record), p.counts, p.trace_ids) : fault_;
      if (s.ok()) {
        acks.emplace_back(std::move(p.done), signal);
      } else if (s.code() == absl::StatusCode::kInvalidArgument) {
        service_.Count(signal, kInvalid);
        p.done({.status = s});
      } else {
        if (fault_.ok()) fault_ = s;
        service_.Count(signal, kFailed);
        p.done({.status = absl::UnavailableError(fmt::format("could not record the request: {}", s.message())),
                .retry_after = service_.options_.retry_after});
      }
    }
    batch.clear();
    if (!acks.empty()) {
      absl::Status s = writer_->Flush(config_.fsync ? session::SessionWriter::FlushMode::kSynced
                                                    : session::SessionWriter::FlushMode::kWritten);
      if (!s.ok() && fault_.ok()) fault_ = s;
      {
        // Before the acknowledgements: a client that saw its answer then sees its request counted.
        std::lock_guard<std::mutex> lock(snapshot_mu_);
        snapshot_ = writer_->metadata();
      }
      for (auto& [done, signal] : acks) {
        if (s.ok()) {
          service_.Count(signal, kRecorded);
          done({});
        } else {
          service_.Count(signal, kFailed);
          done({.status = absl::UnavailableError(fmt::format("could not record the request: {}", s.message())),
                .retry_after = service_.options_.retry_after});
        }
      }
    }
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    snapshot_ = writer_->metadata();
    return bytes;
  }

  CaptureService& service_;
  const CaptureConfig config_;
  std::string id_;
  std::unique_ptr<session::SessionWriter> writer_;  // only the thread uses it
  absl::Status fault_;                               // the first storage error; the capture then ends
  uint64_t last_arrival_ = 0;                        // of the last record appended

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  size_t queued_bytes_ = 0;  // queued or being recorded
  bool stop_ = false;
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

void CaptureService::Count(otlp::Signal signal, size_t stat) { stats_[SlotOf(signal)][stat].fetch_add(1); }

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

std::optional<std::string> CaptureService::ActiveCapture() {
  std::shared_ptr<Active> a = CurrentActive();
  if (!a) return std::nullopt;
  return a->id();
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
  uint64_t now = NowUnixNano();
  std::string id = config.session_id.empty() ? session::NewSessionId("capture", now) : config.session_id;
  session::SessionMetadata metadata{
      .session_id = id,
      .session_type = session::SessionType::kCapture,
      .start_time_unix_nano = now,
      .enabled_flags = config.enabled_flags,
      .created_by = config.created_by,
      .description = config.description,
      .diagnostic_session_id = config.diagnostic_session_id,
  };
  session::WriterOptions writer_options{
      .compression_level = config.compression_enabled ? 1 : 0,
      // The capture thread writes every batch itself (Flush), so a member never waits for a timer.
      .flush_interval = std::chrono::hours(24),
      .compression_threads = options_.compression_threads,
  };
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

absl::StatusOr<session::SessionMetadata> CaptureService::GetCaptureStatus(std::string_view session_id) {
  if (absl::Status s = session::ValidateSessionId(session_id); !s.ok()) return s;
  if (std::shared_ptr<Active> a = CurrentActive(); a && a->id() == session_id) return a->Snapshot();
  return sessions_.Load(session_id);
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
  net::ExportRequest meta{.signal = signal, .transport = session::Transport::kUnknown, .arrival_unix_nano = NowUnixNano()};
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
  if (options_.forward == nullptr) {
    Record(signal, request, std::move(payload), std::move(done));
    return;
  }
  // Tee: record and forward at once; the client gets the downstream's answer once both are done.
  struct Tee {
    std::mutex mu;
    int pending = 2;
    net::ExportResult downstream;
    net::ExportDone done;
  };
  auto tee = std::make_shared<Tee>();
  tee->done = std::move(done);
  auto finish = [tee] {
    std::unique_lock<std::mutex> lock(tee->mu);
    if (--tee->pending > 0) return;
    lock.unlock();
    tee->done(std::move(tee->downstream));
  };
  auto shared = std::make_shared<const std::string>(payload);
  Record(signal, request, std::move(payload), [finish](net::ExportResult) { finish(); });
  options_.forward->Export(signal, std::move(shared), [this, signal, tee, finish](net::ExportResult r) {
    Count(signal, r.status.ok() ? kForwarded : kForwardFailed);
    {
      std::lock_guard<std::mutex> lock(tee->mu);
      tee->downstream = std::move(r);
    }
    finish();
  });
}

void CaptureService::Record(otlp::Signal signal, net::ExportRequest& request, std::string payload,
                            net::ExportDone done) {
  // Validated and walked here, on the receiver's thread (many at once), not on the capture's one.
  absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(signal, payload);
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
    (void)otlp::ForEachTraceId(signal, p.record.payload, [&p](const uint8_t* id) {
      p.trace_ids.append(reinterpret_cast<const char*>(id), 16);
    });
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
  for (size_t i = 0; i < 3; ++i) {
    SignalStats& s = out.signals[i];
    s.requests = stats_[i][kRequests].load();
    s.recorded = stats_[i][kRecorded].load();
    s.not_recorded = stats_[i][kNotRecorded].load();
    s.invalid = stats_[i][kInvalid].load();
    s.overloaded = stats_[i][kOverloaded].load();
    s.failed = stats_[i][kFailed].load();
    s.forwarded = stats_[i][kForwarded].load();
    s.forward_failed = stats_[i][kForwardFailed].load();
  }
  if (std::shared_ptr<Active> a = CurrentActive()) out.queued_bytes = a->queued_bytes();
  return out;
}

}  // namespace otelrr::capture
