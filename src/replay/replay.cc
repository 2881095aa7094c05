#include "replay/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/status.h"
#include "net/otlp_exporter.h"
#include "otlp/cumulative.h"
#include "otlp/rewrite.h"
#include "otlp/wire.h"
#include "session/session_id.h"

namespace otelrr::replay {
namespace {

using Clock = std::chrono::steady_clock;

size_t SlotOf(otlp::Signal signal) { return static_cast<size_t>(signal) - 1; }

uint64_t WallNowUnixNano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Lag histogram: 10 µs buckets up to 100 ms (beyond: the last bucket); the max is kept exactly.
class LagHistogram {
 public:
  void Add(double lag_ms) {
    max_ms_ = std::max(max_ms_, lag_ms);
    size_t bucket = static_cast<size_t>(std::max(0.0, lag_ms) * 100);
    ++buckets_[std::min(bucket, buckets_.size() - 1)];
    ++count_;
  }
  double Quantile(double q) const {
    if (count_ == 0) return 0;
    uint64_t want = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= want) return i + 1 == buckets_.size() ? max_ms_ : static_cast<double>(i + 1) / 100.0;
    }
    return max_ms_;
  }
  double max_ms() const { return max_ms_; }

 private:
  std::array<uint64_t, 10000> buckets_ = {};
  uint64_t count_ = 0;
  double max_ms_ = 0;
};

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

// Sends requests with at most `window` in flight, retrying what is retryable; fills the report.
class Sender {
 public:
  Sender(net::OtlpExporter& exporter, const ReplayConfig& config, ReplayReport& report)
      : exporter_(exporter),
        config_(config),
        http_(config.protocol != Protocol::kGrpc),
        report_(report),
        rng_(0x5eed),
        retry_thread_([this] { RetryLoop(); }) {}

  ~Sender() {
    Drain();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    retry_thread_.join();
  }

  // Blocks while the window is full. Returns when the request is on its way.
  void Send(otlp::Signal signal, std::string body, uint64_t items) {
    const size_t size = body.size();
    auto job = std::make_shared<Job>(
        Job{signal, std::make_shared<const std::string>(std::move(body)), items, 1, Clock::now()});
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return in_flight_ == 0 ||
               (in_flight_ < config_.window && in_flight_bytes_ + size <= config_.window_bytes);
      });
      ++in_flight_;
      in_flight_bytes_ += size;
      ++report_.signals[SlotOf(signal)].sent_requests;
    }
    Attempt(job);
  }

  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
  }

  // Reads the report under the sender's lock.
  template <typename Fn>
  void WithReport(Fn&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    fn(report_);
  }

 private:
  struct Job {
    otlp::Signal signal;
    std::shared_ptr<const std::string> body;  // shared with the exporter, kept for retries
    uint64_t items;
    int attempt;
    Clock::time_point first_attempt;
  };

  void Attempt(const std::shared_ptr<Job>& job) {
    exporter_.Export(job->signal, job->body, [this, job](net::ExportResult r) { OnResult(job, std::move(r)); });
  }

  void OnResult(const std::shared_ptr<Job>& job, net::ExportResult r) {
    std::unique_lock<std::mutex> lock(mu_);
    SignalReport& s = report_.signals[SlotOf(job->signal)];
    if (r.status.ok()) {
      ++s.accepted_requests;
      uint64_t rejected = static_cast<uint64_t>(std::max<int64_t>(0, r.partial_success.rejected));
      s.rejected_items += rejected;
      s.items += job->items - std::min(job->items, rejected);
      Finish(*job);
      return;
    }
    std::chrono::milliseconds delay = r.retry_after;
    if (delay.count() > 0) {
      // At least what the server asked for; up to half as much again, so that requests refused
      // together do not all come back at the same instant.
      std::uniform_real_distribution<double> spread(1.0, 1.5);
      delay = std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(delay.count()) * spread(rng_)));
    }
    bool attempts_left = config_.max_attempts == 0 || job->attempt < config_.max_attempts;
    bool time_left = Clock::now() + delay - job->first_attempt <= config_.max_retry_elapsed;
    if (Retryable(r, http_) && attempts_left && time_left) {
      ++s.retries;
      if (delay.count() <= 0) {
        // Exponential backoff with full jitter, bounded.
        double base = static_cast<double>(config_.initial_backoff.count()) * std::pow(2.0, job->attempt - 1);
        base = std::min(base, static_cast<double>(config_.max_backoff.count()));
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        delay = std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng_)));
      }
      ++job->attempt;
      retries_.emplace(Clock::now() + delay, job);
      cv_.notify_all();
      return;
    }
    ++s.failed_requests;
    if (report_.first_error.empty()) report_.first_error = std::string(r.status.message());
    Finish(*job);
  }

  void Finish(const Job& job) {  // mu_ held
    --in_flight_;
    in_flight_bytes_ -= job.body->size();
    cv_.notify_all();
  }

  void RetryLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      if (retries_.empty()) {
        cv_.wait(lock, [&] { return stop_ || !retries_.empty(); });
        if (retries_.empty()) return;
      }
      auto due = retries_.begin()->first;
      if (Clock::now() < due) {
        cv_.wait_until(lock, due);
        continue;
      }
      std::shared_ptr<Job> job = retries_.begin()->second;
      retries_.erase(retries_.begin());
      lock.unlock();
      Attempt(job);
      lock.lock();
    }
  }

  net::OtlpExporter& exporter_;
  const ReplayConfig& config_;
  const bool http_;
  std::mutex mu_;
  std::condition_variable cv_;
  ReplayReport& report_;
  size_t in_flight_ = 0;
  size_t in_flight_bytes_ = 0;
  std::multimap<Clock::time_point, std::shared_ptr<Job>> retries_;
  std::mt19937_64 rng_;
  bool stop_ = false;
  std::thread retry_thread_;  // last
};

// Reads the session on a thread of its own (inflating the files is the costliest part of reading), a
// bounded distance ahead of the sender: at most kMaxRecords records or kMaxBytes of payload.
class Prefetcher {
 public:
  explicit Prefetcher(std::unique_ptr<session::SessionReader> reader)
      : reader_(std::move(reader)), thread_([this] { Run(); }) {}

  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // As SessionReader::Next.
  absl::StatusOr<bool> Next(session::Record* out) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || done_; });
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

 private:
  static constexpr size_t kMaxRecords = 128;
  static constexpr size_t kMaxBytes = 2 << 20;

  void Run() {
    while (true) {
      session::Record rec;
      absl::StatusOr<bool> more = reader_->Next(&rec);
      std::unique_lock<std::mutex> lock(mu_);
      if (!more.ok() || !*more) {
        if (!more.ok()) status_ = more.status();
        done_ = true;
        cv_.notify_all();
        return;
      }
      cv_.wait(lock, [&] { return stop_ || (queue_.size() < kMaxRecords && bytes_ < kMaxBytes); });
      if (stop_) return;
      bytes_ += rec.payload.size();
      queue_.push_back(std::move(rec));
      cv_.notify_all();
    }
  }

  std::unique_ptr<session::SessionReader> reader_;  // used by the thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<session::Record> queue_;
  size_t bytes_ = 0;
  bool done_ = false;
  bool stop_ = false;
  absl::Status status_;
  std::thread thread_;  // last
};

uint64_t IdKey(uint64_t iteration) {
  // Distinct, non-zero keys per iteration (SplitMix64 of iteration + 1).
  uint64_t z = iteration + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return z == 0 ? 1 : z;
}

}  // namespace

absl::StatusOr<TimestampMode> ParseTimestampMode(std::string_view s) {
  if (s == "none") return TimestampMode::kNone;
  if (s == "relative") return TimestampMode::kRelative;
  if (s == "current") return TimestampMode::kCurrent;
  return absl::InvalidArgumentError(fmt::format("timestamps '{}': use none, relative or current", s));
}

absl::StatusOr<Protocol> ParseProtocol(std::string_view s) {
  if (s == "http/protobuf") return Protocol::kHttpProtobuf;
  if (s == "http/json") return Protocol::kHttpJson;
  if (s == "grpc") return Protocol::kGrpc;
  return absl::InvalidArgumentError(fmt::format("protocol '{}': use http/protobuf, http/json or grpc", s));
}

uint64_t ReplayReport::failed_requests() const {
  uint64_t n = 0;
  for (const auto& s : signals) n += s.failed_requests;
  return n;
}
uint64_t ReplayReport::sent_requests() const {
  uint64_t n = 0;
  for (const auto& s : signals) n += s.sent_requests;
  return n;
}
uint64_t ReplayReport::retries() const {
  uint64_t n = 0;
  for (const auto& s : signals) n += s.retries;
  return n;
}
uint64_t ReplayReport::rejected_items() const {
  uint64_t n = 0;
  for (const auto& s : signals) n += s.rejected_items;
  return n;
}

absl::Status ValidateReplayConfig(const ReplayConfig& c) {
  if (!std::isfinite(c.speed) || c.speed < 0) {
    return absl::InvalidArgumentError(
        fmt::format("speed {} is not allowed: use 0 (as fast as possible) or a positive multiplier", c.speed));
  }
  if (!std::isfinite(c.max_duration_seconds) || c.max_duration_seconds <= 0) {
    return absl::InvalidArgumentError(
        fmt::format("duration {} is not allowed: use a positive number of seconds", c.max_duration_seconds));
  }
  if (!c.replay_traces && !c.replay_metrics && !c.replay_logs) {
    return absl::InvalidArgumentError("no signal selected: replay at least one of traces, metrics and logs");
  }
  if (c.window == 0) return absl::InvalidArgumentError("the window of requests in flight must be at least 1");
  if (c.max_attempts < 0) return absl::InvalidArgumentError("max attempts must be 0 (no limit) or more");
  if (c.loop && c.speed == 0) {
    // Fine: loops as fast as possible until the duration ends.
  }
  return absl::OkStatus();
}

absl::StatusOr<ReplayReport> RunReplay(session::SessionStore& sessions, const ReplayConfig& config) {
  if (absl::Status s = ValidateReplayConfig(config); !s.ok()) return s;
  absl::StatusOr<session::SessionMetadata> metadata = sessions.Load(config.session_id);
  if (!metadata.ok()) return metadata.status();
  net::OtlpExporterOptions exporter_options{.timeout = config.timeout,
                                            .gzip = config.gzip,
                                            .http_connections = static_cast<int>(std::min<size_t>(config.window, 8)),
                                            .json = config.protocol == Protocol::kHttpJson,
                                            .headers = config.headers,
                                            .tls = config.tls};
  // The protocol decides the transport, the scheme whether TLS is used.
  std::string url = config.endpoint;
  auto rescheme = [&](std::string_view from, std::string_view to) {
    if (url.starts_with(from)) url = std::string(to) + url.substr(from.size());
  };
  if (config.protocol == Protocol::kGrpc) {
    rescheme("http://", "grpc://");
    rescheme("https://", "grpcs://");
  } else {
    rescheme("grpc://", "http://");
    rescheme("grpcs://", "https://");
  }
  absl::StatusOr<std::unique_ptr<net::OtlpExporter>> exporter = net::CreateOtlpExporter(url, exporter_options);
  if (!exporter.ok()) return exporter.status();

  std::vector<otlp::Signal> signals;
  if (config.replay_traces) signals.push_back(otlp::Signal::kTraces);
  if (config.replay_metrics) signals.push_back(otlp::Signal::kMetrics);
  if (config.replay_logs) signals.push_back(otlp::Signal::kLogs);

  ReplayReport report;
  report.session_id = config.session_id;
  report.endpoint = url;
  const session::SessionCounts& counts = metadata->counts;
  report.records_total = (config.replay_traces ? counts.trace_requests : 0) +
                         (config.replay_metrics ? counts.metric_requests : 0) +
                         (config.replay_logs ? counts.log_requests : 0);
  // The schedule counts from the session's start (metadata startTime), as the formula says:
  // a capture that waited 30 s for its first request is replayed with that wait. A start time later
  // than the first arrival (an imported session, say) counts from the first arrival instead.
  const uint64_t first_arrival = metadata->first_arrival_unix_nano.value_or(metadata->start_time_unix_nano);
  const uint64_t session_start = metadata->start_time_unix_nano != 0
                                     ? std::min(metadata->start_time_unix_nano, first_arrival)
                                     : first_arrival;
  const uint64_t first = session_start;
  const uint64_t last = std::max(metadata->last_arrival_unix_nano.value_or(first), first);
  const uint64_t requests = counts.trace_requests + counts.metric_requests + counts.log_requests;
  // One iteration's length: from the start to the last arrival plus one mean gap, so iterations do not
  // overlap.
  const uint64_t span = last - first;
  const uint64_t length = span + (requests > 1 ? span / (requests - 1) : 1'000'000'000ull);

  const auto start = Clock::now();
  const uint64_t start_wall = WallNowUnixNano();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(config.max_duration_seconds));
  LagHistogram lags;
  auto next_log = start + config.log_interval;
  bool stopped = false;
  absl::Status read_error;
  {
    Sender sender(**exporter, config, report);
    otlp::FieldLocations where;
    std::string filtered, continued;
    // A loop continues cumulative metric series from one iteration into the next (otlp/cumulative.h).
    std::optional<otlp::CumulativeCarry> carry;
    if (config.loop && config.replay_metrics) carry.emplace();
    for (uint64_t iteration = 0; !stopped; ++iteration) {
      absl::StatusOr<std::unique_ptr<session::SessionReader>> opened =
          sessions.OpenReader(config.session_id, {.signals = signals});
      if (!opened.ok()) {
        read_error = opened.status();
        break;
      }
      auto reader = std::make_unique<Prefetcher>(std::move(*opened));
      const uint64_t key = (config.loop || config.rewrite_ids) ? IdKey(iteration) : 0;
      session::Record rec;
      uint64_t in_iteration = 0;
      while (true) {
        if ((config.cancel != nullptr && config.cancel->load()) || Clock::now() >= deadline) {
          stopped = true;
          break;
        }
        absl::StatusOr<bool> more = reader->Next(&rec);
        if (!more.ok()) {
          read_error = more.status();
          stopped = true;
          break;
        }
        if (!*more) break;
        ++in_iteration;
        uint64_t offset = rec.arrival_unix_nano - std::min(rec.arrival_unix_nano, first) + iteration * length;
        Clock::time_point due = start;
        if (config.speed > 0) {
          due = start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double, std::nano>(static_cast<double>(offset) / config.speed));
          if (due >= deadline) {
            stopped = true;
            break;
          }
          // Sleep in short slices so that cancel takes effect at once even at slow speeds.
          while (Clock::now() < due && !(config.cancel != nullptr && config.cancel->load())) {
            std::this_thread::sleep_until(std::min(due, Clock::now() + std::chrono::milliseconds(20)));
          }
          if (config.cancel != nullptr && config.cancel->load()) {
            stopped = true;
            break;
          }
        }
        std::string body = std::move(rec.payload);
        if (!config.services.empty()) {
          absl::StatusOr<bool> kept = otlp::FilterServices(rec.signal, body, config.services, &filtered);
          if (!kept.ok() || !*kept) {
            sender.WithReport([&](ReplayReport& r) {
              ++r.signals[SlotOf(rec.signal)].filtered_requests;
              ++r.records_processed;
            });
            continue;
          }
          body.swap(filtered);
        }
        // One walk counts the items and finds what to patch. Records were validated when stored (and
        // each gzip member is CRC-checked), so attributes, resources and scopes are not walked again.
        if (absl::Status s = otlp::Locate(rec.signal, body, &where, otlp::LocateMode::kTrusted); !s.ok()) {
          read_error = absl::DataLossError(fmt::format("record {} of session {} is not valid OTLP: {}", rec.sequence,
                                                       config.session_id, s.message()));
          stopped = true;
          break;
        }
        const uint64_t items = where.items;
        int64_t delta = 0;  // what the timestamps moved by
        if (config.timestamps != TimestampMode::kNone || key != 0) {
          if (config.timestamps == TimestampMode::kRelative) {
            delta = static_cast<int64_t>(start_wall - session_start) + static_cast<int64_t>(iteration * length);
            otlp::ShiftTimestamps(&body, where, delta);
          } else if (config.timestamps == TimestampMode::kCurrent) {
            uint64_t max = otlp::MaxTimestamp(body, where);
            if (max != 0) delta = static_cast<int64_t>(WallNowUnixNano() - max);
            otlp::ShiftTimestamps(&body, where, delta);
          }
          if (key != 0) otlp::RemapIds(&body, where, key);
        }
        if (carry.has_value() && rec.signal == otlp::Signal::kMetrics) {
          if (iteration == 0) {
            carry->Observe(body, session_start + static_cast<uint64_t>(delta));
          } else if (carry->Continue(body, iteration, &continued)) {
            body.swap(continued);
          }
        }
        sender.Send(rec.signal, std::move(body), items);
        if (config.speed > 0) {
          lags.Add(std::chrono::duration<double, std::milli>(Clock::now() - due).count());
        }
        sender.WithReport([&](ReplayReport& r) { ++r.records_processed; });
        if (config.progress && Clock::now() >= next_log) {
          next_log = Clock::now() + config.log_interval;
          ReplayReport snapshot;
          sender.WithReport([&](ReplayReport& r) { snapshot = r; });
          snapshot.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
          snapshot.max_lag_ms = lags.max_ms();
          snapshot.p99_lag_ms = lags.Quantile(0.99);
          config.progress(snapshot);
        }
      }
      if (in_iteration > 0 || iteration == 0) {
        sender.WithReport([&](ReplayReport& r) { ++r.iterations; });
      }
      if (!config.loop || in_iteration == 0) break;
    }
    sender.Drain();
  }
  if (!read_error.ok()) return read_error;
  report.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report.max_lag_ms = lags.max_ms();
  report.p99_lag_ms = lags.Quantile(0.99);
  return report;
}

absl::StatusOr<std::string> SelectSession(session::SessionStore& sessions, std::string_view strategy,
                                          std::string_view type) {
  session::SessionType want = session::SessionType::kSeed;
  if (!type.empty() && !session::ParseSessionType(type, &want)) {
    return absl::InvalidArgumentError(fmt::format("session type '{}': use seed, capture or training", type));
  }
  if (strategy != "latest" && strategy != "random" && strategy != "largest" && strategy != "smallest") {
    return absl::InvalidArgumentError(
        fmt::format("strategy '{}': use latest, random, largest or smallest", strategy));
  }
  absl::StatusOr<std::vector<session::SessionMetadata>> all = sessions.List();
  if (!all.ok()) return all.status();
  std::vector<const session::SessionMetadata*> candidates;
  for (const session::SessionMetadata& m : *all) {
    if (m.status == session::SessionStatus::kActive) continue;  // still being written
    if (!type.empty() && m.session_type != want) continue;
    candidates.push_back(&m);
  }
  if (candidates.empty()) {
    return absl::NotFoundError(type.empty() ? std::string("no finished session to replay in the store")
                                            : fmt::format("no finished {} session to replay in the store", type));
  }
  auto size_of = [](const session::SessionMetadata* m) {
    return m->counts.spans + m->counts.data_points + m->counts.log_records;
  };
  const session::SessionMetadata* pick = candidates.front();
  if (strategy == "random") {
    std::random_device rd;
    pick = candidates[std::uniform_int_distribution<size_t>(0, candidates.size() - 1)(rd)];
  } else {
    for (const session::SessionMetadata* m : candidates) {
      if (strategy == "latest" ? m->start_time_unix_nano > pick->start_time_unix_nano
          : strategy == "largest" ? size_of(m) > size_of(pick)
                                  : size_of(m) < size_of(pick)) {
        pick = m;
      }
    }
  }
  return pick->session_id;
}

}  // namespace otelrr::replay
