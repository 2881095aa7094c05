#include "replay/replay.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/latency_histogram.h"
#include "common/status.h"
#include "net/address.h"
#include "session/slice.h"
#include "session/record_pipe.h"
#include "replay/record_transform.h"
#include "replay/schedule.h"
#include "replay/sender.h"

namespace otelrr::replay {
namespace {

// The URL the exporter gets: the protocol decides the transport, the scheme whether TLS is used.
std::string TransportUrl(const ReplayConfig& config) {
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
  return url;
}

// The session's timeline (schedule.h), narrowed to the phases replayed (replay.h, ReplayConfig::phases).
Schedule::Timeline TimelineOf(const session::SessionMetadata& metadata, const std::vector<otlp::Signal>& signals,
                              const ReplayConfig& config) {
  Schedule::Timeline t = Schedule::TimelineOf(metadata, signals);
  if (config.phases.empty() || config.phase_windows.empty()) return t;
  const uint64_t end = t.origin + t.length;  // the last arrival plus one mean gap
  const uint64_t from = std::max(t.origin, config.phase_windows.front().start);
  const uint64_t to = std::min(end, config.phase_windows.back().end);
  if (from >= to) return t;  // the phases lie outside the arrivals: nothing changes
  return {.origin = from, .length = to - from};
}

// One replay from its first record to its report: the schedule, the transform and the sender driven by
// one loop on the calling thread, which waits on the clock for whatever comes first (the next record,
// a retry, an answer, a progress line, the end of the duration, a cancel).
class ReplayRun {
 public:
  ReplayRun(session::SessionStore* sessions, const ReplayConfig& config, const session::SessionMetadata& metadata,
            std::vector<otlp::Signal> signals, net::OtlpExporter& exporter, Clock& clock, RecordsOpener open_records)
      : sessions_(sessions),
        open_records_(std::move(open_records)),
        config_(config),
        signals_(std::move(signals)),
        clock_(clock),
        schedule_(TimelineOf(metadata, signals_, config), config.speed, config.start ? config.start->at : clock.Now(),
                  config.start ? config.start->wall_unix_nano : clock.WallNowUnixNano()),
        deadline_(schedule_.start() + std::chrono::duration_cast<Clock::Duration>(
                                          std::chrono::duration<double>(config.max_duration_seconds))),
        transform_(config, schedule_, metadata),
        sender_(exporter, clock, config),
        next_log_(config.progress ? schedule_.start() + config.log_interval : Clock::TimePoint::max()) {
    report_.session_id = config.session_id;
    report_.endpoint = exporter.url();
    const Schedule::Timeline timeline = TimelineOf(metadata, signals_, config);
    report_.timeline_start_unix_nano = timeline.origin;
    report_.timeline_end_unix_nano = timeline.origin + timeline.length;
    report_.start_wall_unix_nano = schedule_.start_wall();
    report_.shard = config.shard;
    report_.shards = config.shards;
    report_.shard_session = config.shard_session;
    const session::SessionCounts& counts = metadata.counts;
    report_.records_total = (config.replay_traces ? counts.trace_requests : 0) +
                            (config.replay_metrics ? counts.metric_requests : 0) +
                            (config.replay_logs ? counts.log_requests : 0);
    if (config.cancel != nullptr) wake_on_cancel_ = config.cancel->OnCancel([this] { sender_.Wake(); });
  }

  absl::StatusOr<ReplayReport> Run() {
    absl::Status status = SendSchedule();
    Finish();
    if (!status.ok()) return status;
    return Snapshot();
  }

 private:
  bool Cancelled() const { return config_.cancel != nullptr && config_.cancel->cancelled(); }

  // One iteration's records: the caller's, or the session's, read ahead on a thread.
  absl::StatusOr<std::unique_ptr<RecordStream>> OpenRecords() {
    if (open_records_) return open_records_();
    absl::StatusOr<std::unique_ptr<session::SessionReader>> opened =
        sessions_->OpenReader(config_.session_id, {.signals = signals_});
    if (!opened.ok()) return opened.status();
    // Reading (decompressing the files is its costliest part) goes on a thread of its own.
    return std::unique_ptr<RecordStream>(std::make_unique<session::ReadAhead>(std::move(*opened)));
  }

  // Sends every iteration's records on schedule, until the session (or the loop) ends, the duration is
  // up or the replay is cancelled; sets end_. Errors: the session could not be read.
  absl::Status SendSchedule() {
    for (uint64_t iteration = 0;; ++iteration) {
      absl::StatusOr<std::unique_ptr<RecordStream>> opened = OpenRecords();
      if (!opened.ok()) return opened.status();
      RecordStream& reader = **opened;
      bool any = false;
      session::Record record;
      while (true) {
        absl::StatusOr<bool> more = reader.Next(&record);
        if (!more.ok()) return more.status();
        if (!*more) break;
        const Clock::TimePoint due = schedule_.Due(record.arrival_unix_nano, iteration);
        if (!WaitToSend(due, record.payload.size())) return absl::OkStatus();
        if (!any) {
          any = true;  // an iteration counts once it sends (or filters) its first record
          ++report_.iterations;
        }
        if (absl::Status s = Send(std::move(record), iteration, due); !s.ok()) return s;
      }
      if (!config_.loop || !any) return absl::OkStatus();
    }
  }

  // Waits until `due` and until the window has room for `bytes`, serving retries, answers and progress
  // meanwhile. False (and end_ set) when the replay must stop instead.
  bool WaitToSend(Clock::TimePoint due, size_t bytes) {
    if (due >= deadline_) {
      end_ = ReplayEnd::kDuration;
      return false;
    }
    while (true) {
      const Clock::TimePoint next_retry = sender_.Poll();
      if (Cancelled()) {
        end_ = ReplayEnd::kCancelled;
        return false;
      }
      const Clock::TimePoint now = clock_.Now();
      Tick(now);
      if (now >= deadline_) {
        end_ = ReplayEnd::kDuration;
        return false;
      }
      if (now >= due && sender_.HasRoom(bytes)) return true;
      Clock::TimePoint wake = std::min({deadline_, next_retry, next_log_});
      if (now < due) wake = std::min(wake, due);
      // Until the record is due, successes can wait to be accounted for; after, one may make room.
      sender_.Wait(wake, /*for_any_answer=*/now >= due);
    }
  }

  absl::Status Send(session::Record record, uint64_t iteration, Clock::TimePoint due) {
    const otlp::Signal signal = record.signal;
    report_.position_unix_nano = record.arrival_unix_nano;
    absl::StatusOr<RecordTransform::Result> r = transform_.Apply(std::move(record), iteration, clock_.WallNowUnixNano());
    if (!r.ok()) return r.status();
    ++report_.records_processed;
    if (!r->kept) {
      ++filtered_[signal];
      return absl::OkStatus();
    }
    if (config_.speed > 0) lags_.Add(std::chrono::duration<double, std::milli>(clock_.Now() - due).count());
    if (report_.first_send_unix_nano == 0) report_.first_send_unix_nano = clock_.WallNowUnixNano();
    sender_.Send(signal, std::move(r->body), r->items);
    return absl::OkStatus();
  }

  // After the schedule: lets retries and answers finish within the duration, then gives requests still
  // on the wire drain_grace, and abandons what is left. A cancel cuts everything off at once.
  void Finish() {
    if (end_ == ReplayEnd::kDuration) {
      // The duration is wall time: a schedule that goes on past it ends exactly when it is up.
      WaitUntil(deadline_, [] { return false; });
    } else if (end_ == ReplayEnd::kFinished) {
      if (!WaitUntil(deadline_, [&] { return sender_.idle(); }) && !Cancelled()) end_ = ReplayEnd::kDuration;
    }
    if (Cancelled()) end_ = ReplayEnd::kCancelled;
    if (end_ == ReplayEnd::kCancelled) {
      sender_.Abort();
    } else {
      sender_.Stop();
      if (!WaitUntil(clock_.Now() + config_.drain_grace, [&] { return sender_.idle(); })) sender_.Abort();
    }
    // After Abort every answer comes at once.
    while (!sender_.idle()) {
      sender_.Poll();
      if (!sender_.idle()) sender_.Wait(clock_.Now() + std::chrono::milliseconds(50));
    }
  }

  // Serves the sender and progress until `done()` or `until` (true: done); a cancel ends it (false).
  template <typename Done>
  bool WaitUntil(Clock::TimePoint until, Done&& done) {
    while (true) {
      const Clock::TimePoint next_retry = sender_.Poll();
      if (done()) return true;
      if (Cancelled()) return false;
      const Clock::TimePoint now = clock_.Now();
      Tick(now);
      if (now >= until) return false;
      sender_.Wait(std::min({until, next_retry, next_log_}));
    }
  }

  void Tick(Clock::TimePoint now) {
    if (now < next_log_) return;
    while (next_log_ <= now) next_log_ += config_.log_interval;
    config_.progress(Snapshot());
  }

  ReplayReport Snapshot() {
    ReplayReport r = report_;
    r.signals = sender_.counts();
    for (otlp::Signal s : otlp::kSignals) r.signals[s].filtered_requests = filtered_[s];
    // Not negative when it was stopped before a start still to come (--start-at).
    r.elapsed_seconds = std::max(0.0, std::chrono::duration<double>(clock_.Now() - schedule_.start()).count());
    r.p50_lag_ms = lags_.Quantile(0.5);
    r.p99_lag_ms = lags_.Quantile(0.99);
    r.max_lag_ms = lags_.max_ms();
    r.first_error = sender_.first_error();
    r.last_error = sender_.last_error();
    r.in_flight = sender_.in_flight() - sender_.retrying();
    r.retrying = sender_.retrying();
    r.end = end_;
    r.filtered_services.assign(transform_.filtered_services().begin(), transform_.filtered_services().end());
    r.phases = config_.phases;
    r.status_codes = sender_.status_codes();
    return r;
  }

  session::SessionStore* sessions_;  // null when open_records_ is set
  RecordsOpener open_records_;       // unset: the session's reader
  const ReplayConfig& config_;
  const std::vector<otlp::Signal> signals_;
  Clock& clock_;
  const Schedule schedule_;
  const Clock::TimePoint deadline_;
  RecordTransform transform_;
  LatencyHistogram lags_;
  Sender sender_;
  Clock::TimePoint next_log_;
  ReplayReport report_;
  otlp::PerSignal<uint64_t> filtered_;
  ReplayEnd end_ = ReplayEnd::kFinished;
  std::unique_ptr<Cancellation::Registration> wake_on_cancel_;  // last: unregistered first
};

}  // namespace

absl::StatusOr<TimestampMode> ParseTimestampMode(std::string_view s) {
  if (s == "none") return TimestampMode::kNone;
  if (s == "relative") return TimestampMode::kRelative;
  if (s == "current") return TimestampMode::kCurrent;
  return absl::InvalidArgumentError(fmt::format("timestamps '{}': use none, relative or current", s));
}

std::string_view TimestampModeName(TimestampMode mode) {
  switch (mode) {
    case TimestampMode::kNone:
      return "none";
    case TimestampMode::kRelative:
      return "relative";
    case TimestampMode::kCurrent:
      return "current";
  }
  return "unknown";
}

absl::StatusOr<Protocol> ParseProtocol(std::string_view s) {
  if (s == "http/protobuf") return Protocol::kHttpProtobuf;
  if (s == "http/json") return Protocol::kHttpJson;
  if (s == "grpc") return Protocol::kGrpc;
  return absl::InvalidArgumentError(fmt::format("protocol '{}': use http/protobuf, http/json or grpc", s));
}

std::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kHttpProtobuf:
      return "http/protobuf";
    case Protocol::kHttpJson:
      return "http/json";
    case Protocol::kGrpc:
      return "grpc";
  }
  return "unknown";
}

std::string_view ReplayEndName(ReplayEnd end) {
  switch (end) {
    case ReplayEnd::kFinished:
      return "finished";
    case ReplayEnd::kDuration:
      return "duration";
    case ReplayEnd::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

uint64_t ReplayReport::sent_requests() const {
  return signals.Sum([](const SignalReport& s) { return s.sent_requests; });
}
uint64_t ReplayReport::accepted_requests() const {
  return signals.Sum([](const SignalReport& s) { return s.accepted_requests; });
}
uint64_t ReplayReport::failed_requests() const {
  return signals.Sum([](const SignalReport& s) { return s.failed_requests; });
}
uint64_t ReplayReport::abandoned_requests() const {
  return signals.Sum([](const SignalReport& s) { return s.abandoned_requests; });
}
uint64_t ReplayReport::retries() const {
  return signals.Sum([](const SignalReport& s) { return s.retries; });
}
uint64_t ReplayReport::rejected_items() const {
  return signals.Sum([](const SignalReport& s) { return s.rejected_items; });
}
uint64_t ReplayReport::filtered_requests() const {
  return signals.Sum([](const SignalReport& s) { return s.filtered_requests; });
}

absl::Status DeliveryStatus(const ReplayReport& r) {
  std::vector<std::string> problems;
  absl::StatusCode code = absl::StatusCode::kFailedPrecondition;
  if (r.failed_requests() > 0) {
    problems.push_back(fmt::format("{} of {} requests failed (first error: {})", r.failed_requests(),
                                   r.sent_requests(), r.first_error));
    code = absl::StatusCode::kUnavailable;
  }
  if (r.abandoned_requests() > 0) {
    problems.push_back(fmt::format("{} {} abandoned unanswered when the replay stopped{}", r.abandoned_requests(),
                                   r.abandoned_requests() == 1 ? "request was" : "requests were",
                                   r.last_error.empty() ? "" : fmt::format(" (last error: {})", r.last_error)));
    code = absl::StatusCode::kUnavailable;
  }
  if (r.rejected_items() > 0) {
    problems.push_back(fmt::format("the target rejected {} {} ({})", r.rejected_items(),
                                   r.rejected_items() == 1 ? "item" : "items", r.first_error));
  }
  if (r.sent_requests() == 0) {
    if (r.filtered_requests() > 0 && !r.phases.empty() && r.filtered_services.empty()) {
      problems.push_back(fmt::format("nothing was sent: no item of the selected signals lies in the phases {}",
                                     fmt::join(r.phases, ", ")));
    } else if (r.filtered_requests() > 0) {
      problems.push_back(fmt::format("nothing was sent: no record is of a listed service (the session's services "
                                     "include: {})",
                                     fmt::join(r.filtered_services, ", ")));
    } else if (r.records_processed == 0 && r.end != ReplayEnd::kCancelled) {
      problems.push_back("nothing was sent: the session holds no record of the selected signals");
    } else if (r.records_processed == 0) {
      problems.push_back("nothing was sent");
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::Status(code, fmt::format("{}", fmt::join(problems, "; ")));
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
  if (absl::StatusOr<net::OtlpUrl> url = net::ParseOtlpUrl(c.endpoint); !url.ok()) {
    return Prefixed(url.status(), "endpoint");
  }
  if (c.window == 0) return absl::InvalidArgumentError("the window of requests in flight must be at least 1");
  if (c.max_attempts < 0) return absl::InvalidArgumentError("max attempts must be 0 (no limit) or more");
  if (c.shards == 0 || c.shard >= c.shards) {
    return absl::InvalidArgumentError(
        fmt::format("shard {} of {} does not exist: shards count from 0 to N - 1 (N >= 1)", c.shard, c.shards));
  }
  for (size_t i = 0; i < c.phase_windows.size(); ++i) {
    const otlp::TimeWindow& w = c.phase_windows[i];
    if (w.start >= w.end || (i > 0 && w.start < c.phase_windows[i - 1].end)) {
      return absl::InvalidArgumentError(
          fmt::format("phase window {} [{}, {}) is empty or not after the one before: give windows sorted by start, "
                      "disjoint, each ending after it starts",
                      i, w.start, w.end));
    }
  }
  return absl::OkStatus();
}

namespace {

// `sessions` is null for the caller's records (RunReplayOfRecords).
absl::StatusOr<ReplayReport> RunReplayOf(session::SessionStore* sessions, const ReplayConfig& config,
                                         const ReplayDependencies& dependencies) {
  if (absl::Status s = ValidateReplayConfig(config); !s.ok()) return s;
  absl::StatusOr<session::SessionMetadata> metadata =
      dependencies.metadata != nullptr ? *dependencies.metadata : sessions->Load(config.session_id);
  if (!metadata.ok()) return metadata.status();
  std::unique_ptr<net::OtlpExporter> owned;
  net::OtlpExporter* exporter = dependencies.exporter;
  if (exporter == nullptr) {
    absl::StatusOr<std::unique_ptr<net::OtlpExporter>> made = net::CreateOtlpExporter(
        TransportUrl(config), {.timeout = config.timeout,
                               .gzip = config.gzip,
                               .http_connections = static_cast<int>(std::min<size_t>(config.window, 8)),
                               .json = config.protocol == Protocol::kHttpJson,
                               .headers = config.headers,
                               .tls = config.tls});
    if (!made.ok()) return made.status();
    owned = std::move(*made);
    exporter = owned.get();
  }
  std::vector<otlp::Signal> signals;
  if (config.replay_traces) signals.push_back(otlp::Signal::kTraces);
  if (config.replay_metrics) signals.push_back(otlp::Signal::kMetrics);
  if (config.replay_logs) signals.push_back(otlp::Signal::kLogs);
  Clock& clock = dependencies.clock != nullptr ? *dependencies.clock : RealClock();
  RecordsOpener open_records = dependencies.open_records;
  // A split session (sessions split): this shard's own session holds exactly its items, so the whole session
  // is neither read nor filtered. The schedule stays the whole session's (metadata).
  ReplayConfig effective = config;
  if (sessions != nullptr && config.shards > 1 && config.use_split) {
    const std::string shard_id = session::ShardSessionId(config.session_id, config.shard, config.shards);
    absl::StatusOr<session::SessionMetadata> shard = sessions->Load(shard_id);
    // A split of this very session: the shard says so, and has its bounds (a session deleted and made again
    // under the same id would leave shards of the old one, which must not be sent in its place).
    const bool ours = shard.ok() && shard->status == session::SessionStatus::kCompleted && shard->shard_of &&
                      *shard->shard_of == session::ShardOf{config.session_id, config.shard, config.shards} &&
                      shard->start_time_unix_nano == metadata->start_time_unix_nano &&
                      shard->end_time_unix_nano == metadata->end_time_unix_nano;
    if (shard.ok() && !ours) {
      return absl::FailedPreconditionError(fmt::format(
          "session {} is not shard {}/{} of session {} as it is now (a split of an earlier session of that id, or "
          "another session): delete the shard sessions and run 'otelrr sessions split {} --shards {}' again, or "
          "replay with --whole-session",
          shard_id, config.shard, config.shards, config.session_id, config.session_id, config.shards));
    }
    if (ours) {
      effective.shard_session = shard_id;
      open_records = [sessions, shard_id, signals]() -> absl::StatusOr<std::unique_ptr<RecordStream>> {
        absl::StatusOr<std::unique_ptr<session::SessionReader>> opened =
            sessions->OpenReader(shard_id, {.signals = signals});
        if (!opened.ok()) return opened.status();
        return std::unique_ptr<RecordStream>(std::make_unique<session::ReadAhead>(std::move(*opened)));
      };
    } else if (!absl::IsNotFound(shard.status())) {
      return shard.status();
    }
  }
  return ReplayRun(sessions, effective, *metadata, std::move(signals), *exporter, clock, std::move(open_records)).Run();
}

}  // namespace

absl::StatusOr<ReplayReport> RunReplay(session::SessionStore& sessions, const ReplayConfig& config,
                                       const ReplayDependencies& dependencies) {
  if (dependencies.metadata != nullptr || dependencies.open_records != nullptr) {
    return absl::InvalidArgumentError("RunReplay replays a stored session: RunReplayOfRecords takes records");
  }
  return RunReplayOf(&sessions, config, dependencies);
}

absl::StatusOr<ReplayReport> RunReplayOfRecords(const ReplayConfig& config, const ReplayDependencies& dependencies) {
  if (dependencies.metadata == nullptr || dependencies.open_records == nullptr) {
    return absl::InvalidArgumentError("a replay of the caller's records needs both their metadata and their opener");
  }
  return RunReplayOf(nullptr, config, dependencies);
}

ReplayReport SumReports(const std::vector<ReplayReport>& reports) {
  ReplayReport sum;
  auto rank = [](ReplayEnd e) { return e == ReplayEnd::kCancelled ? 2 : e == ReplayEnd::kDuration ? 1 : 0; };
  for (const ReplayReport& r : reports) {
    sum.session_id += (sum.session_id.empty() ? "" : ",") + r.session_id;
    if (sum.endpoint.empty()) sum.endpoint = r.endpoint;
    sum.iterations += r.iterations;
    sum.records_processed += r.records_processed;
    sum.records_total += r.records_total;
    for (otlp::Signal s : otlp::kSignals) {
      SignalReport& to = sum.signals[s];
      const SignalReport& from = r.signals[s];
      to.sent_requests += from.sent_requests;
      to.accepted_requests += from.accepted_requests;
      to.failed_requests += from.failed_requests;
      to.abandoned_requests += from.abandoned_requests;
      to.retries += from.retries;
      to.items += from.items;
      to.rejected_items += from.rejected_items;
      to.filtered_requests += from.filtered_requests;
    }
    sum.elapsed_seconds = std::max(sum.elapsed_seconds, r.elapsed_seconds);
    sum.max_lag_ms = std::max(sum.max_lag_ms, r.max_lag_ms);
    if (sum.first_error.empty()) sum.first_error = r.first_error;
    if (!r.last_error.empty()) sum.last_error = r.last_error;
    sum.in_flight += r.in_flight;
    sum.retrying += r.retrying;
    if (rank(r.end) > rank(sum.end)) sum.end = r.end;
    for (const std::string& name : r.filtered_services) {
      if (std::find(sum.filtered_services.begin(), sum.filtered_services.end(), name) == sum.filtered_services.end()) {
        sum.filtered_services.push_back(name);
      }
    }
    for (const std::string& name : r.phases) {
      if (std::find(sum.phases.begin(), sum.phases.end(), name) == sum.phases.end()) sum.phases.push_back(name);
    }
    for (const auto& [code, n] : r.status_codes) sum.status_codes[code] += n;
  }
  return sum;
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
    if (m.shard_of) continue;  // a part of another session (sessions split), replayed with --shard
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
