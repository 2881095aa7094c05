// The shape of one synthetic trace: which spans it has, their parents, times and failures. No bytes yet:
// SpanEncoder (span_encoder.h) turns a GeneratedTrace into OTLP.
//
//   TraceBuilder builder(pattern, {.seed = 42, .start_unix_nano = t0, .duration_ns = 30e9, .traces = 300,
//                                  .error_rate = 0.05});
//   GeneratedTrace trace;
//   for (uint64_t k = 0; k < 300; ++k) builder.Build(k, &trace);   // any order, any thread: same result
//
// Everything about trace k comes from Random::ForStream(seed, k): its start time (slot k of the window,
// jittered), phase, entry point, call tree, latencies, ids and failures.
//
// How the pattern becomes spans:
//   - an application operation reached over http or grpc: a CLIENT span in the caller, and inside it a
//     SERVER span in the callee (starting and ending a little later and earlier: network time);
//   - a database or cache operation: the caller's CLIENT span only (those are not instrumented);
//   - a queue topic: the caller's PRODUCER span; each consumer the topic delivers to gets a CONSUMER span,
//     a child of the PRODUCER span, that starts after it ends (asynchronous, so it is the one kind of
//     child not inside its parent's window);
//   - an internal operation: an INTERNAL span in the same service.
// An operation's own time (log-normal, scaled by the phase's latency multiplier) is split around its
// calls: sequential calls run one after another, a parallel call starts with the call before it.
//
// Failures: a trace picked by --error-rate (unless its phase overrides it) fails one operation, chosen
// among the pattern's error candidates present in the trace, else among its leaves; every operation also
// fails on its own with its phase's (or base) error rate. A failure marks the span that ran the operation
// (error_origin) and every span above it, up to the root or up to the CONSUMER span that started that
// part of the trace (a queue does not carry a failure back to the producer).
#ifndef OTELRR_GENERATE_TRACE_BUILDER_H_
#define OTELRR_GENERATE_TRACE_BUILDER_H_

#include <cstdint>
#include <vector>

#include "generate/pattern.h"
#include "generate/random.h"

namespace otelrr::generate {

// OTLP span kinds, with their wire values.
enum class SpanKind : uint8_t { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

struct GeneratedSpan {
  uint8_t span_id[8] = {};
  int32_t parent = -1;     // index in GeneratedTrace::spans; -1 for the root
  int32_t operation = -1;  // the operation the span runs or calls
  int32_t resource = -1;   // the emitting service instance (TraceBuilder::resource_count())
  SpanKind kind = SpanKind::kInternal;
  bool error = false;
  bool error_origin = false;  // the failure started here: the span carries the exception event
  bool has_children = false;
  uint8_t variant = 0;   // which of an operation's concrete url paths / ids the span uses
  int32_t status = 0;    // http status code or grpc status code (http and grpc spans); 0 otherwise
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
};

struct GeneratedTrace {
  uint64_t index = 0;
  uint8_t trace_id[16] = {};
  uint64_t start_unix_nano = 0;
  int phase = 0;                   // index into TraceBuilder::phases()
  bool picked_to_fail = false;     // chosen by --error-rate
  bool error = false;              // some span failed
  std::vector<GeneratedSpan> spans;  // parents before children
};

struct TraceBuilderOptions {
  uint64_t seed = 0;
  uint64_t start_unix_nano = 0;
  uint64_t duration_ns = 0;
  uint64_t traces = 0;
  double error_rate = 0;
};

// A phase resolved for generation: its window and, per operation, error rate and latency multiplier.
struct ResolvedPhase {
  std::string name;
  std::string annotation_key;
  std::vector<std::string> flags;
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = 0;
  bool overrides_error_rate = false;
  std::vector<double> error_rate;          // by operation
  std::vector<double> latency_multiplier;  // by operation
};

class TraceBuilder {
 public:
  // `pattern` must outlive the builder and be a checked pattern (ParsePattern's guarantees).
  TraceBuilder(const Pattern& pattern, const TraceBuilderOptions& options);

  void Build(uint64_t index, GeneratedTrace* out) const;
  // Trace `index`'s start within the window, in units of the mean gap between traces.
  double ArrivalSlots(uint64_t index) const;

  const std::vector<ResolvedPhase>& phases() const { return phases_; }
  // Service instances: resource r is instance resource_instance(r) of service resource_service(r).
  int resource_count() const { return static_cast<int>(resource_service_.size()); }
  int resource_service(int r) const { return resource_service_[static_cast<size_t>(r)]; }
  int resource_instance(int r) const { return resource_instance_[static_cast<size_t>(r)]; }

 private:
  struct Context;
  uint64_t RunOperation(Context& c, int op, uint64_t start, int32_t parent, SpanKind kind) const;
  uint64_t RunCall(Context& c, int op, uint64_t start, int32_t caller) const;
  int32_t NewSpan(Context& c, int op, int32_t resource, SpanKind kind, int32_t parent, uint64_t start) const;
  int32_t PickResource(Context& c, int op) const;
  void MaybeFail(Context& c, int op, int32_t span) const;
  void MarkFailed(GeneratedTrace& t, int32_t span) const;

  const Pattern& pattern_;
  TraceBuilderOptions options_;
  std::vector<ResolvedPhase> phases_;
  std::vector<int> first_resource_;  // by service
  std::vector<int> resource_service_;
  std::vector<int> resource_instance_;
  std::vector<bool> is_candidate_;  // by operation
  double total_weight_ = 0;
};

}  // namespace otelrr::generate

#endif  // OTELRR_GENERATE_TRACE_BUILDER_H_
