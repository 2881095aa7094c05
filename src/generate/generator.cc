#include "generate/generator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <random>

#include "annotate/annotation_service.h"
#include "common/clock.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "generate/red_metrics.h"
#include "generate/span_encoder.h"
#include "generate/trace_builder.h"
#include "otlp/wire.h"
#include "session/recover.h"
#include "session/retention.h"
#include "session/session_id.h"
#include "session/time_format.h"

namespace otelrr::generate {
namespace {

// Requests batch what ended in one export interval of simulated time, as an SDK's batch processor does
// (its default schedule delay is 5 s; 1 s keeps arrival times close to the data), and a request closes
// early at the batch processor's default maximum batch size: it then leaves as soon as the last of its
// spans has ended, not at the end of the interval, so a busy second is a stream of full batches rather
// than one burst.
constexpr uint64_t kExportIntervalNs = 1'000'000'000;
constexpr uint32_t kMaxItemsPerRequest = 512;
constexpr double kMaxDurationSeconds = 30.0 * 24 * 3600;

bool Wants(const SeedConfig& config, otlp::Signal signal) {
  return std::find(config.signals.begin(), config.signals.end(), signal) != config.signals.end();
}

// The spans and log records that ended in one export interval, per service instance.
struct Interval {
  struct Buffer {
    std::string spans;
    uint32_t span_count = 0;
    std::string logs;
    uint32_t log_count = 0;
  };
  std::vector<Buffer> buffers;  // by resource; sized on first use
  std::vector<int> touched;     // resources holding spans or logs
  uint32_t spans = 0;
  uint32_t logs = 0;
  uint32_t new_traces = 0;  // traces whose first span (in build order) is in this interval's spans
  uint32_t new_log_traces = 0;  // traces whose first log record is in this interval's logs
  uint64_t max_end = 0;         // the latest end among the spans not yet written
  std::vector<ServerSample> samples;

  void Clear() {
    for (int r : touched) {
      Buffer& b = buffers[static_cast<size_t>(r)];
      b.spans.clear();
      b.logs.clear();
      b.span_count = 0;
      b.log_count = 0;
    }
    touched.clear();
    spans = 0;
    logs = 0;
    new_traces = 0;
    new_log_traces = 0;
    max_end = 0;
    samples.clear();
  }
};

// One GenerateSeed call: builds the traces in index order and turns them into requests.
class SeedRun {
 public:
  SeedRun(const SeedConfig& config, const Pattern& pattern, uint64_t seed, uint64_t start, uint64_t duration_ns,
          uint64_t traces, RecordSink& sink)
      : config_(config),
        pattern_(pattern),
        start_(start),
        traces_(traces),
        sink_(sink),
        builder_(pattern, {.seed = seed, .start_unix_nano = start, .duration_ns = duration_ns, .traces = traces,
                           .error_rate = config.error_rate}),
        encoder_(pattern, builder_, seed),
        red_(pattern, encoder_, builder_.resource_count(), start),
        want_traces_(Wants(config, otlp::Signal::kTraces)),
        want_metrics_(Wants(config, otlp::Signal::kMetrics)),
        want_logs_(Wants(config, otlp::Signal::kLogs)),
        metrics_interval_ns_(pattern.metrics_interval_ns > 0 ? pattern.metrics_interval_ns : 10'000'000'000),
        next_metrics_(start + metrics_interval_ns_),
        phase_traces_(builder_.phases().size()),
        phase_errors_(builder_.phases().size()) {}

  absl::Status Run() {
    GeneratedTrace trace;
    for (uint64_t k = 0; k < traces_; ++k) {
      if (k % 256 == 0 && config_.cancel != nullptr && config_.cancel->cancelled()) {
        // The traces built so far are written whole, so that the interrupted session's counts hold for what
        // it holds (a trace's log records could otherwise be written without the spans that count it).
        if (absl::Status s = FlushEndingBy(UINT64_MAX); !s.ok()) return s;
        return absl::CancelledError(fmt::format("interrupted after {} of {} traces", k, traces_));
      }
      builder_.Build(k, &trace);
      // No later trace starts before this one, so nothing ends before it starts any more.
      if (absl::Status s = FlushEndingBy(trace.start_unix_nano); !s.ok()) return s;
      if (absl::Status s = Add(trace); !s.ok()) return s;
      ++phase_traces_[static_cast<size_t>(trace.phase)];
      if (trace.error) {
        ++error_traces_;
        ++phase_errors_[static_cast<size_t>(trace.phase)];
      }
      if (config_.progress && (k % 4096 == 4095)) config_.progress(k + 1, traces_);
    }
    if (absl::Status s = FlushEndingBy(UINT64_MAX); !s.ok()) return s;
    if (red_.changed()) {
      if (absl::Status s = EmitMetrics(last_flushed_end_); !s.ok()) return s;
    }
    if (config_.progress) config_.progress(traces_, traces_);
    return absl::OkStatus();
  }

  uint64_t error_traces() const { return error_traces_; }
  uint64_t spans() const { return spans_; }
  uint64_t data_points() const { return data_points_; }
  uint64_t log_records() const { return log_records_; }
  uint64_t last_arrival() const { return last_flushed_end_; }
  const std::vector<ResolvedPhase>& phases() const { return builder_.phases(); }
  uint64_t phase_traces(size_t i) const { return phase_traces_[i]; }
  uint64_t phase_errors(size_t i) const { return phase_errors_[i]; }

 private:
  uint64_t IntervalEnd(uint64_t index) const { return start_ + (index + 1) * kExportIntervalNs; }

  Interval& At(uint64_t index) {
    while (first_ + pending_.size() <= index) {
      if (!spare_.empty()) {
        pending_.push_back(std::move(spare_.back()));
        spare_.pop_back();
      } else {
        pending_.emplace_back();
      }
    }
    Interval& iv = pending_[index - first_];
    if (iv.buffers.empty()) iv.buffers.resize(static_cast<size_t>(builder_.resource_count()));
    return iv;
  }

  absl::Status Add(const GeneratedTrace& trace) {
    bool first = true;
    bool first_log = true;
    for (const GeneratedSpan& span : trace.spans) {
      uint64_t index = (span.end_unix_nano - start_) / kExportIntervalNs;
      Interval& iv = At(index);
      Interval::Buffer& b = iv.buffers[static_cast<size_t>(span.resource)];
      if (b.span_count == 0 && b.log_count == 0) iv.touched.push_back(span.resource);
      if (want_traces_) encoder_.AppendSpan(trace, span, &b.spans);
      ++b.span_count;
      ++iv.spans;
      iv.max_end = std::max(iv.max_end, span.end_unix_nano);
      if (first) ++iv.new_traces;
      first = false;
      if (want_logs_) {
        int n = encoder_.AppendLogs(trace, span, &b.logs);
        b.log_count += static_cast<uint32_t>(n);
        iv.logs += static_cast<uint32_t>(n);
        if (n > 0 && first_log) {
          ++iv.new_log_traces;
          first_log = false;
        }
      }
      Protocol protocol = pattern_.operations[static_cast<size_t>(span.operation)].protocol;
      if (span.kind == SpanKind::kServer && (protocol == Protocol::kHttp || protocol == Protocol::kGrpc)) {
        ServerSample s{.resource = span.resource, .operation = span.operation, .status = span.status,
                       .duration_ns = span.end_unix_nano - span.start_unix_nano, .end_unix_nano = span.end_unix_nano};
        std::copy(std::begin(trace.trace_id), std::end(trace.trace_id), s.trace_id);
        std::copy(std::begin(span.span_id), std::end(span.span_id), s.span_id);
        iv.samples.push_back(s);
      }
      // A full batch of the oldest open interval goes out once all of its spans (and their logs) have
      // ended; never before an earlier request (arrivals stay in order).
      if (index == first_ && (iv.spans >= kMaxItemsPerRequest || iv.logs >= kMaxItemsPerRequest)) {
        if (absl::Status s = EmitBatches(iv, std::max(last_batch_arrival_, iv.max_end)); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status FlushEndingBy(uint64_t time) {
    while (!pending_.empty() && IntervalEnd(first_) <= time) {
      Interval& iv = pending_.front();
      uint64_t end = IntervalEnd(first_);
      // Metric exports due within this interval see the spans that ended before them.
      while (next_metrics_ <= end) {
        auto split = std::partition(iv.samples.begin(), iv.samples.end(),
                                    [&](const ServerSample& s) { return s.end_unix_nano < next_metrics_; });
        for (auto it = iv.samples.begin(); it != split; ++it) red_.Add(*it);
        iv.samples.erase(iv.samples.begin(), split);
        if (!red_.empty()) {
          if (absl::Status s = EmitMetrics(next_metrics_); !s.ok()) return s;
        }
        next_metrics_ += metrics_interval_ns_;
      }
      for (const ServerSample& s : iv.samples) red_.Add(s);
      if (absl::Status s = EmitBatches(iv, end); !s.ok()) return s;
      last_flushed_end_ = end;
      iv.Clear();
      spare_.push_back(std::move(pending_.front()));
      pending_.pop_front();
      ++first_;
    }
    if (pending_.empty() && time != UINT64_MAX) {
      // Skip empty intervals: the next span ends at or after `time`.
      uint64_t index = (time - start_) / kExportIntervalNs;
      if (index > first_) first_ = index;
    }
    return absl::OkStatus();
  }

  // Writes one request per signal with everything the interval holds, one ResourceSpans/ResourceLogs per
  // service instance.
  absl::Status EmitBatches(Interval& iv, uint64_t arrival) {
    last_batch_arrival_ = std::max(last_batch_arrival_, arrival);
    std::sort(iv.touched.begin(), iv.touched.end());
    if (want_traces_ && iv.spans > 0) {
      std::string request;
      for (int r : iv.touched) {
        Interval::Buffer& b = iv.buffers[static_cast<size_t>(r)];
        if (b.span_count == 0) continue;
        AppendResource(r, b.spans, &request);
      }
      if (absl::Status s = Write(otlp::Signal::kTraces, arrival, std::move(request),
                                 {.spans = iv.spans, .new_traces = iv.new_traces});
          !s.ok()) {
        return s;
      }
    }
    if (want_logs_ && iv.logs > 0) {
      std::string request;
      for (int r : iv.touched) {
        Interval::Buffer& b = iv.buffers[static_cast<size_t>(r)];
        if (b.log_count == 0) continue;
        AppendResource(r, b.logs, &request);
      }
      // Without spans, a trace is counted with its first log record.
      if (absl::Status s = Write(otlp::Signal::kLogs, arrival, std::move(request),
                                 {.log_records = iv.logs, .new_traces = want_traces_ ? 0 : iv.new_log_traces});
          !s.ok()) {
        return s;
      }
    }
    for (int r : iv.touched) {
      Interval::Buffer& b = iv.buffers[static_cast<size_t>(r)];
      b.spans.clear();
      b.logs.clear();
      b.span_count = 0;
      b.log_count = 0;
    }
    iv.touched.clear();
    iv.spans = 0;
    iv.logs = 0;
    iv.new_traces = 0;
    iv.new_log_traces = 0;
    iv.max_end = 0;
    return absl::OkStatus();
  }

  // Resource{Spans,Logs} (field 1 of the request) holding one Scope{Spans,Logs} whose items are `items`.
  void AppendResource(int r, const std::string& items, std::string* out) const {
    const std::string& resource = encoder_.resource(r);
    const std::string& scope = encoder_.scope(r);
    size_t scope_body = scope.size() + items.size();
    size_t resource_body = resource.size() + 1 + otlp::VarintSize(scope_body) + scope_body;
    out->push_back(0x0a);
    otlp::AppendVarint(out, resource_body);
    out->append(resource);
    out->push_back(0x12);
    otlp::AppendVarint(out, scope_body);
    out->append(scope);
    out->append(items);
  }

  absl::Status EmitMetrics(uint64_t time) {
    std::string request;
    uint64_t points = red_.Encode(time, &request);
    if (!want_metrics_) return absl::OkStatus();
    return Write(otlp::Signal::kMetrics, time, std::move(request), {.data_points = points});
  }

  // With spans or logs written, the generator knows each request's counts, and every trace id it writes
  // is counted once: with the trace's first span, or without spans with its first log record (exemplars
  // come from HTTP and gRPC server spans, each of which has a request log). The writer need not walk the
  // bytes and keeps no trace-id set. Metrics alone name only the exemplars' traces, so then the writer
  // counts distinct trace ids itself (a set that grows with exemplars, not with traces).
  absl::Status Write(otlp::Signal signal, uint64_t arrival, std::string payload, const session::RecordCounts& counts) {
    session::Record record{.arrival_unix_nano = arrival, .signal = signal,
                           .transport = session::Transport::kGenerated, .payload = std::move(payload)};
    spans_ += counts.spans;
    data_points_ += counts.data_points;
    log_records_ += counts.log_records;
    return sink_.Write(std::move(record), counts, /*counted=*/want_traces_ || want_logs_);
  }

  const SeedConfig& config_;
  const Pattern& pattern_;
  uint64_t start_;
  uint64_t traces_;
  RecordSink& sink_;
  TraceBuilder builder_;
  SpanEncoder encoder_;
  RedMetrics red_;
  bool want_traces_, want_metrics_, want_logs_;
  uint64_t metrics_interval_ns_;
  uint64_t next_metrics_;
  std::deque<Interval> pending_;  // pending_[i] is interval first_ + i
  std::vector<Interval> spare_;
  uint64_t first_ = 0;
  uint64_t last_flushed_end_ = 0;
  uint64_t last_batch_arrival_ = 0;  // of the latest trace or log request written
  uint64_t error_traces_ = 0;
  uint64_t spans_ = 0, data_points_ = 0, log_records_ = 0;
  std::vector<uint64_t> phase_traces_, phase_errors_;
};

// A session's writer as the sink of a seed.
class WriterSink : public RecordSink {
 public:
  explicit WriterSink(session::SessionWriter& writer) : writer_(writer) {}
  absl::Status Write(session::Record record, const session::RecordCounts& counts, bool counted) override {
    if (!counted) return writer_.Append(std::move(record));
    return writer_.AppendTrusted(std::move(record), counts);
  }

 private:
  session::SessionWriter& writer_;
};

// What GenerateSeed and GenerateStream share: the pattern, seed, start and size a config resolves to.
struct SeedPlan {
  Pattern pattern;
  uint64_t now = 0;
  uint64_t seed = 0;
  uint64_t start = 0;
  uint64_t traces = 0;
  uint64_t duration_ns = 0;
};

absl::StatusOr<SeedPlan> PlanSeed(const SeedConfig& config) {
  if (absl::Status s = ValidateSeedConfig(config); !s.ok()) return s;
  SeedPlan plan;
  if (config.pattern) {
    plan.pattern = *config.pattern;
  } else {
    absl::StatusOr<Pattern> p = BuiltinPattern(config.pattern_name);
    if (!p.ok()) return p.status();
    plan.pattern = std::move(*p);
  }
  if (plan.pattern.entry_points.empty()) {
    return absl::InvalidArgumentError(fmt::format("pattern {} has no entry points", plan.pattern.name));
  }
  plan.now = (config.clock != nullptr ? *config.clock : RealClock()).WallNowUnixNano();
  plan.seed = config.seed ? *config.seed
                          : (std::random_device{}() | (uint64_t{std::random_device{}()} << 32)) >> 11;
  // Whole milliseconds by default: metadata.json keeps start times to the millisecond.
  plan.start = config.start_time_unix_nano ? *config.start_time_unix_nano : plan.now / 1'000'000 * 1'000'000;
  plan.traces = static_cast<uint64_t>(std::llround(config.traces_per_second * config.duration_seconds));
  plan.duration_ns = static_cast<uint64_t>(std::llround(config.duration_seconds * 1e9));
  return plan;
}

// The result's counts and phases, from a finished run.
void Summarise(const SeedRun& run, const Pattern& pattern, SeedResult& result) {
  result.error_traces = run.error_traces();
  result.spans = run.spans();
  result.data_points = run.data_points();
  result.log_records = run.log_records();
  if (pattern.phases.empty()) return;  // one implicit phase: not listed
  for (size_t i = 0; i < run.phases().size(); ++i) {
    const ResolvedPhase& p = run.phases()[i];
    result.phases.push_back({.name = p.name, .annotation_key = p.annotation_key, .start_unix_nano = p.start_unix_nano,
                             .end_unix_nano = p.end_unix_nano, .traces = run.phase_traces(i),
                             .error_traces = run.phase_errors(i), .flags = p.flags});
  }
}


std::string GeneratorJson(const SeedConfig& config, const Pattern& pattern, uint64_t seed, uint64_t start,
                          uint64_t traces) {
  JsonWriter w;
  w.BeginObject();
  w.Field("pattern", pattern.name);
  if (config.pattern) {
    w.Field("patternSource", "file");
  }
  w.Field("durationSeconds", config.duration_seconds);
  w.Field("tracesPerSecond", config.traces_per_second);
  w.Field("errorRate", config.error_rate);
  w.Field("seed", seed);
  w.Field("startTime", session::FormatRfc3339Nanos(start));
  w.Field("traces", traces);
  w.Key("signals");
  w.BeginArray();
  for (otlp::Signal s : config.signals) w.String(otlp::SignalName(s));
  w.EndArray();
  w.Field("generator", "otelrr seed 1");
  w.EndObject();
  return w.Take();
}

}  // namespace

absl::Status ValidateSeedConfig(const SeedConfig& config) {
  if (!std::isfinite(config.traces_per_second) || config.traces_per_second <= 0) {
    return absl::InvalidArgumentError(
        fmt::format("rate {} is not allowed: give a positive number of traces per second", config.traces_per_second));
  }
  if (!std::isfinite(config.duration_seconds) || config.duration_seconds <= 0 ||
      config.duration_seconds > kMaxDurationSeconds) {
    return absl::InvalidArgumentError(fmt::format(
        "duration {} is not allowed: give a positive number of seconds, at most {} (30 days)", config.duration_seconds,
        kMaxDurationSeconds));
  }
  if (!(config.error_rate >= 0 && config.error_rate <= 1)) {
    return absl::InvalidArgumentError(
        fmt::format("error rate {} is not allowed: give a fraction of traces between 0 and 1", config.error_rate));
  }
  double n = config.traces_per_second * config.duration_seconds;
  double whole = std::round(n);
  if (std::fabs(n - whole) > 1e-6 * std::max(1.0, n) || whole < 1) {
    return absl::InvalidArgumentError(fmt::format(
        "rate {} × duration {} is {} traces: it must be a whole number of at least 1 (for example a rate of 10 "
        "for 30 seconds: 300 traces)",
        config.traces_per_second, config.duration_seconds, n));
  }
  if (whole > static_cast<double>(kMaxSeedTraces)) {
    return absl::InvalidArgumentError(fmt::format("rate {} × duration {} is {} traces: at most {} are allowed",
                                                  config.traces_per_second, config.duration_seconds, whole,
                                                  kMaxSeedTraces));
  }
  if (config.signals.empty()) return absl::InvalidArgumentError("no signal to generate: give traces, metrics or logs");
  if (config.retention_days) {
    if (absl::Status s = session::ValidateRetentionDays(*config.retention_days); !s.ok()) return s;
  }
  if (!config.session_id.empty()) {
    if (absl::Status s = session::ValidateSessionId(config.session_id); !s.ok()) return s;
  }
  if (!config.pattern) {
    absl::StatusOr<Pattern> p = BuiltinPattern(config.pattern_name);
    if (!p.ok()) return p.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<SeedResult> SeedGenerator::GenerateSeed(const SeedConfig& config) {
  absl::StatusOr<SeedPlan> plan = PlanSeed(config);
  if (!plan.ok()) return plan.status();
  const Pattern& pattern = plan->pattern;
  const uint64_t now = plan->now, seed = plan->seed, start = plan->start, traces = plan->traces;

  session::SessionMetadata metadata{.session_id = config.session_id.empty() ? session::NewSessionId("seed", now) : config.session_id,
                                    .session_type = session::SessionType::kSeed,
                                    .start_time_unix_nano = start,
                                    .expires_at_unix_nano = session::ExpiryAfterDays(now, config.retention_days),
                                    .created_by = config.created_by,
                                    .description = config.description};
  session::WriterOptions options = config.writer;
  // The same seed names the same files, and members close by size only (never by wall-clock time), so
  // the raw files are byte-identical from run to run.
  uint64_t mix = seed ^ 0x0123456789abcdefull;
  options.random_seed = SplitMix64(mix) | 1;
  options.flush_interval = std::chrono::nanoseconds::max();
  absl::StatusOr<std::unique_ptr<session::SessionWriter>> writer = sessions_.Create(std::move(metadata), options);
  if (!writer.ok()) return writer.status();
  session::SessionWriter& w = **writer;

  WriterSink sink(w);
  SeedRun run(config, pattern, seed, start, plan->duration_ns, traces, sink);
  absl::Status status = run.Run();

  SeedResult result{.session_id = w.metadata().session_id,
                    .seed = seed,
                    .traces = traces,
                    .storage = fmt::format("{}/sessions/{}/", sessions_.object_store().Describe(), w.metadata().session_id),
                    .duration_seconds = config.duration_seconds};
  Summarise(run, pattern, result);
  session::SessionMetadata& m = w.metadata();
  m.generator_json = GeneratorJson(config, pattern, seed, start, traces);
  m.end_time_unix_nano = std::max(start + plan->duration_ns, run.last_arrival());
  for (const PhaseSummary& p : result.phases) {
    m.phases.push_back({.name = p.name, .annotation_key = p.annotation_key, .start_time_unix_nano = p.start_unix_nano,
                        .end_time_unix_nano = p.end_unix_nano, .flags = p.flags});
    for (const std::string& f : p.flags) {
      if (std::find(m.enabled_flags.begin(), m.enabled_flags.end(), f) == m.enabled_flags.end()) {
        m.enabled_flags.push_back(f);
      }
    }
  }
  if (!m.phases.empty() && status.ok()) {
    status = sessions_.object_store().Put(annotate::AnnotationsKey(m.session_id),
                                          annotate::FormatAnnotationsJsonl(annotate::PhasesOf(m)));
  }
  if (!status.ok()) {
    // A stopped seed is kept as what it is: complete members, a consistent index, status failed.
    (void)w.Close(session::SessionStatus::kFailed, status.code() == absl::StatusCode::kCancelled
                                                       ? std::string(session::kInterruptedReason)
                                                       : std::string(status.message()));
    return Prefixed(status, fmt::format("session {}", m.session_id));
  }
  if (absl::Status s = w.Close(session::SessionStatus::kCompleted); !s.ok()) return s;
  // The writer's counts are the session's (equal to the run's: the generator declares what it writes).
  const session::SessionCounts& c = w.counts();
  result.spans = c.spans;
  result.data_points = c.data_points;
  result.log_records = c.log_records;
  return result;
}

absl::StatusOr<SeedResult> GenerateStream(const SeedConfig& config, RecordSink& sink) {
  if (!config.start_time_unix_nano) {
    return absl::InvalidArgumentError("a streamed seed needs its start time: the caller schedules by it");
  }
  absl::StatusOr<SeedPlan> plan = PlanSeed(config);
  if (!plan.ok()) return plan.status();
  SeedRun run(config, plan->pattern, plan->seed, plan->start, plan->duration_ns, plan->traces, sink);
  absl::Status status = run.Run();
  if (!status.ok()) return status;
  SeedResult result;
  result.seed = plan->seed;
  result.traces = plan->traces;
  result.duration_seconds = config.duration_seconds;
  Summarise(run, plan->pattern, result);
  return result;
}

void WriteSeedResultFields(const SeedResult& r, JsonWriter* w) {
  w->Field("seed", r.seed);
  w->Field("traces", r.traces);
  w->Field("errorTraces", r.error_traces);
  w->Field("spans", r.spans);
  w->Field("dataPoints", r.data_points);
  w->Field("logRecords", r.log_records);
  w->Field("storage", r.storage);
  w->Field("durationSeconds", r.duration_seconds);
  w->Key("phases");
  w->BeginArray();
  for (const PhaseSummary& p : r.phases) {
    w->BeginObject();
    w->Field("name", p.name);
    w->Field("annotationKey", p.annotation_key);
    w->Field("startTime", session::FormatRfc3339Millis(p.start_unix_nano));
    w->Field("endTime", session::FormatRfc3339Millis(p.end_unix_nano));
    w->Field("durationSeconds", static_cast<double>(p.end_unix_nano - p.start_unix_nano) / 1e9);
    w->Field("traces", p.traces);
    w->Field("errorTraces", p.error_traces);
    w->StringArray("flags", p.flags);
    w->EndObject();
  }
  w->EndArray();
}

}  // namespace otelrr::generate
