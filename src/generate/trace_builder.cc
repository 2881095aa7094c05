#include "generate/trace_builder.h"

#include <algorithm>
#include <array>
#include <cstddef>

namespace otelrr::generate {
namespace {

// Network time between a CLIENT span and its SERVER span, each way.
constexpr uint64_t kNetworkMedianNs = 120'000;
constexpr uint64_t kNetworkP99Ns = 1'500'000;
// Time a message waits in a queue before a consumer picks it up.
constexpr uint64_t kQueueMedianNs = 3'000'000;
constexpr uint64_t kQueueP99Ns = 80'000'000;
// Concrete variants (url paths, ids) of an operation a span picks from.
constexpr int kVariants = 16;

uint64_t Scale(uint64_t ns, double multiplier) {
  if (multiplier == 1.0) return ns;
  return static_cast<uint64_t>(static_cast<double>(ns) * multiplier + 0.5);
}

}  // namespace

struct TraceBuilder::Context {
  Random rng;
  GeneratedTrace& trace;
  const ResolvedPhase& phase;
  std::vector<int32_t> failures;
};

TraceBuilder::TraceBuilder(const Pattern& pattern, const TraceBuilderOptions& options)
    : pattern_(pattern), options_(options) {
  size_t ops = pattern.operations.size();
  std::vector<Phase> source = pattern.phases;
  if (source.empty()) source.emplace_back();
  double total_share = 0;
  for (const Phase& p : source) total_share += p.share;
  double cumulative = 0;
  uint64_t previous_end = options.start_unix_nano;
  for (size_t i = 0; i < source.size(); ++i) {
    const Phase& p = source[i];
    cumulative += p.share;
    ResolvedPhase r;
    r.name = p.name;
    r.annotation_key = p.annotation_key;
    r.flags = p.flags;
    r.start_unix_nano = previous_end;
    r.end_unix_nano = i + 1 == source.size()
                          ? options.start_unix_nano + options.duration_ns
                          : options.start_unix_nano +
                                static_cast<uint64_t>(static_cast<double>(options.duration_ns) * (cumulative / total_share));
    previous_end = r.end_unix_nano;
    r.overrides_error_rate = p.overrides_error_rate;
    r.error_rate.resize(ops);
    r.latency_multiplier.assign(ops, 1.0);
    for (size_t o = 0; o < ops; ++o) r.error_rate[o] = pattern.operations[o].base_error_rate;
    for (const auto& [op, rate] : p.error_rates) r.error_rate[static_cast<size_t>(op)] = rate;
    for (const auto& [op, m] : p.latency_multipliers) r.latency_multiplier[static_cast<size_t>(op)] = m;
    phases_.push_back(std::move(r));
  }
  for (size_t s = 0; s < pattern.services.size(); ++s) {
    first_resource_.push_back(static_cast<int>(resource_service_.size()));
    int instances = std::max(1, pattern.services[s].instances);
    for (int i = 0; i < instances; ++i) {
      resource_service_.push_back(static_cast<int>(s));
      resource_instance_.push_back(i);
    }
  }
  is_candidate_.assign(ops, false);
  for (int op : pattern.error_candidates) is_candidate_[static_cast<size_t>(op)] = true;
  for (const EntryPoint& e : pattern.entry_points) total_weight_ += e.weight;
}

int32_t TraceBuilder::PickResource(Context& c, int op) const {
  int service = pattern_.operations[static_cast<size_t>(op)].service;
  int instances = std::max(1, pattern_.services[static_cast<size_t>(service)].instances);
  int first = first_resource_[static_cast<size_t>(service)];
  if (instances == 1) return first;
  return first + static_cast<int32_t>(c.rng.UniformInt(0, instances - 1));
}

int32_t TraceBuilder::NewSpan(Context& c, int op, int32_t resource, SpanKind kind, int32_t parent,
                              uint64_t start) const {
  std::vector<GeneratedSpan>& spans = c.trace.spans;
  GeneratedSpan s;
  c.rng.Fill(s.span_id, sizeof s.span_id);
  s.parent = parent;
  s.operation = op;
  s.resource = resource;
  s.kind = kind;
  s.start_unix_nano = start;
  s.end_unix_nano = start;
  Protocol protocol = pattern_.operations[static_cast<size_t>(op)].protocol;
  if (protocol == Protocol::kHttp) {
    s.status = 200;
    s.variant = static_cast<uint8_t>(c.rng.UniformInt(0, kVariants - 1));
  } else if (protocol == Protocol::kDatabase || protocol == Protocol::kCache) {
    s.variant = static_cast<uint8_t>(c.rng.UniformInt(0, kVariants - 1));
  }
  if (parent >= 0) spans[static_cast<size_t>(parent)].has_children = true;
  spans.push_back(s);
  return static_cast<int32_t>(spans.size() - 1);
}

void TraceBuilder::MaybeFail(Context& c, int op, int32_t span) const {
  double rate = c.phase.error_rate[static_cast<size_t>(op)];
  if (rate > 0 && c.rng.Bernoulli(rate)) c.failures.push_back(span);
}

uint64_t TraceBuilder::RunOperation(Context& c, int op, uint64_t start, int32_t parent, SpanKind kind) const {
  const Operation& o = pattern_.operations[static_cast<size_t>(op)];
  int32_t self = NewSpan(c, op, PickResource(c, op), kind, parent, start);
  uint64_t own = Scale(c.rng.LogNormal(o.latency.median_ns, o.latency.p99_ns), c.phase.latency_multiplier[static_cast<size_t>(op)]);
  // Some of the operation's own time comes before its first call (parsing, auth), the rest after.
  uint64_t before = static_cast<uint64_t>(static_cast<double>(own) * (0.1 + 0.4 * c.rng.Uniform()));
  uint64_t cursor = start + before;  // when everything started so far has ended
  uint64_t previous_start = cursor;
  for (const Call& call : o.calls) {
    if (call.probability < 1 && !c.rng.Bernoulli(call.probability)) continue;
    int64_t repeat = call.min_repeat == call.max_repeat ? call.min_repeat : c.rng.UniformInt(call.min_repeat, call.max_repeat);
    for (int64_t r = 0; r < repeat; ++r) {
      uint64_t call_start = call.parallel ? previous_start + static_cast<uint64_t>(c.rng.UniformInt(1'000, 40'000))
                                          : cursor + static_cast<uint64_t>(c.rng.UniformInt(5'000, 80'000));
      uint64_t call_end = RunCall(c, call.operation, call_start, self);
      previous_start = call_start;
      cursor = std::max(cursor, call_end);
    }
  }
  uint64_t end = cursor + (own - before);
  if (end <= start) end = start + 1;
  c.trace.spans[static_cast<size_t>(self)].end_unix_nano = end;
  MaybeFail(c, op, self);
  return end;
}

uint64_t TraceBuilder::RunCall(Context& c, int op, uint64_t start, int32_t caller) const {
  const Operation& o = pattern_.operations[static_cast<size_t>(op)];
  const Service& service = pattern_.services[static_cast<size_t>(o.service)];
  int32_t caller_resource = c.trace.spans[static_cast<size_t>(caller)].resource;
  double multiplier = c.phase.latency_multiplier[static_cast<size_t>(op)];
  switch (service.kind) {
    case ServiceKind::kApplication: {
      if (o.protocol == Protocol::kInternal) return RunOperation(c, op, start, caller, SpanKind::kInternal);
      if (o.protocol == Protocol::kMessaging) return RunOperation(c, op, start, caller, SpanKind::kConsumer);
      int32_t client = NewSpan(c, op, caller_resource, SpanKind::kClient, caller, start);
      uint64_t there = std::max<uint64_t>(1'000, c.rng.LogNormal(kNetworkMedianNs, kNetworkP99Ns));
      uint64_t back = std::max<uint64_t>(1'000, c.rng.LogNormal(kNetworkMedianNs, kNetworkP99Ns));
      uint64_t server_end = RunOperation(c, op, start + there, client, SpanKind::kServer);
      c.trace.spans[static_cast<size_t>(client)].end_unix_nano = server_end + back;
      return server_end + back;
    }
    case ServiceKind::kDatabase:
    case ServiceKind::kCache: {
      int32_t client = NewSpan(c, op, caller_resource, SpanKind::kClient, caller, start);
      uint64_t d = std::max<uint64_t>(1'000, Scale(c.rng.LogNormal(o.latency.median_ns, o.latency.p99_ns), multiplier));
      c.trace.spans[static_cast<size_t>(client)].end_unix_nano = start + d;
      MaybeFail(c, op, client);
      return start + d;
    }
    case ServiceKind::kQueue: {
      int32_t producer = NewSpan(c, op, caller_resource, SpanKind::kProducer, caller, start);
      uint64_t d = std::max<uint64_t>(1'000, Scale(c.rng.LogNormal(o.latency.median_ns, o.latency.p99_ns), multiplier));
      uint64_t end = start + d;
      c.trace.spans[static_cast<size_t>(producer)].end_unix_nano = end;
      MaybeFail(c, op, producer);
      for (const Call& call : o.calls) {
        if (call.probability < 1 && !c.rng.Bernoulli(call.probability)) continue;
        int64_t repeat = call.min_repeat == call.max_repeat ? call.min_repeat : c.rng.UniformInt(call.min_repeat, call.max_repeat);
        for (int64_t r = 0; r < repeat; ++r) {
          uint64_t picked_up = end + std::max<uint64_t>(10'000, c.rng.LogNormal(kQueueMedianNs, kQueueP99Ns));
          RunOperation(c, call.operation, picked_up, producer, SpanKind::kConsumer);
        }
      }
      return end;
    }
  }
  return start;
}

void TraceBuilder::MarkFailed(GeneratedTrace& t, int32_t index) const {
  GeneratedSpan& origin = t.spans[static_cast<size_t>(index)];
  const Operation& o = pattern_.operations[static_cast<size_t>(origin.operation)];
  origin.error_origin = true;
  t.error = true;
  int32_t child = -1;
  for (int32_t i = index; i >= 0; child = i, i = t.spans[static_cast<size_t>(i)].parent) {
    GeneratedSpan& s = t.spans[static_cast<size_t>(i)];
    const Operation& so = pattern_.operations[static_cast<size_t>(s.operation)];
    s.error = true;
    if (i == index) {
      if (so.protocol == Protocol::kHttp) s.status = o.error.http_status;
      if (so.protocol == Protocol::kGrpc) s.status = o.error.grpc_status;
    } else if (s.kind == SpanKind::kClient && child >= 0) {
      s.status = t.spans[static_cast<size_t>(child)].status;  // the caller sees the callee's answer
    } else if (so.protocol == Protocol::kHttp && !s.error_origin) {
      s.status = 500;
    } else if (so.protocol == Protocol::kGrpc && !s.error_origin) {
      s.status = 13;  // INTERNAL
    }
    if (s.kind == SpanKind::kConsumer) break;  // the producer does not learn about it
  }
}

namespace {

// Arrivals. The window is cut into blocks of kArrivalBlock traces; within a block the traces arrive at
// the sorted values of kArrivalBlock uniform draws over the block's share of the window: a Poisson process
// conditioned on its count. Gaps are exponential-like and requests bunch up as real load does, while each
// block, and so the session, holds exactly its share of traces. A block's draws come from its own stream,
// so any trace's arrival is computed from (seed, index) alone.
constexpr uint64_t kArrivalBlock = 64;

struct ArrivalBlock {
  uint64_t seed = 0;
  uint64_t traces = 0;
  uint64_t block = UINT64_MAX;
  std::array<double, kArrivalBlock> sorted{};
};

}  // namespace

double TraceBuilder::ArrivalSlots(uint64_t index) const {
  // Traces are built in index order, so one block's draws serve 64 calls: cache them per thread.
  thread_local ArrivalBlock cache;
  uint64_t block = index / kArrivalBlock;
  uint64_t first = block * kArrivalBlock;
  uint64_t count = std::min<uint64_t>(kArrivalBlock, options_.traces - first);
  if (cache.block != block || cache.seed != options_.seed || cache.traces != options_.traces) {
    Random draws = Random::ForStream(options_.seed ^ 0x5be0cd19137e2179ull, block);
    for (uint64_t i = 0; i < count; ++i) cache.sorted[i] = draws.Uniform();
    std::sort(cache.sorted.begin(), cache.sorted.begin() + static_cast<std::ptrdiff_t>(count));
    cache.seed = options_.seed;
    cache.traces = options_.traces;
    cache.block = block;
  }
  return static_cast<double>(first) + cache.sorted[index - first] * static_cast<double>(count);
}

void TraceBuilder::Build(uint64_t index, GeneratedTrace* out) const {
  GeneratedTrace& t = *out;
  t.index = index;
  t.spans.clear();
  t.error = false;
  Random rng = Random::ForStream(options_.seed, index);
  double slot = static_cast<double>(options_.duration_ns) / static_cast<double>(options_.traces);
  uint64_t offset = static_cast<uint64_t>(ArrivalSlots(index) * slot);
  if (offset >= options_.duration_ns) offset = options_.duration_ns - 1;
  t.start_unix_nano = options_.start_unix_nano + offset;
  t.phase = 0;
  while (static_cast<size_t>(t.phase) + 1 < phases_.size() && t.start_unix_nano >= phases_[static_cast<size_t>(t.phase)].end_unix_nano) {
    ++t.phase;
  }
  const ResolvedPhase& phase = phases_[static_cast<size_t>(t.phase)];
  rng.Fill(t.trace_id, sizeof t.trace_id);
  bool fail_draw = rng.Bernoulli(options_.error_rate);
  t.picked_to_fail = fail_draw && !phase.overrides_error_rate;
  double pick = rng.Uniform() * total_weight_;
  int entry = pattern_.entry_points.back().operation;
  for (const EntryPoint& e : pattern_.entry_points) {
    if (pick < e.weight) {
      entry = e.operation;
      break;
    }
    pick -= e.weight;
  }

  Context c{.rng = rng, .trace = t, .phase = phase, .failures = {}};
  Protocol protocol = pattern_.operations[static_cast<size_t>(entry)].protocol;
  SpanKind kind = protocol == Protocol::kHttp || protocol == Protocol::kGrpc ? SpanKind::kServer
                  : protocol == Protocol::kMessaging                          ? SpanKind::kConsumer
                                                                              : SpanKind::kInternal;
  RunOperation(c, entry, t.start_unix_nano, -1, kind);

  if (t.picked_to_fail) {
    // The span that ran a candidate operation; without one in this trace, a leaf.
    std::vector<int32_t> choices;
    for (size_t i = 0; i < t.spans.size(); ++i) {
      const GeneratedSpan& s = t.spans[i];
      bool runs_operation = s.kind != SpanKind::kClient || !s.has_children;
      if (runs_operation && is_candidate_[static_cast<size_t>(s.operation)]) choices.push_back(static_cast<int32_t>(i));
    }
    if (choices.empty()) {
      for (size_t i = 0; i < t.spans.size(); ++i) {
        if (!t.spans[i].has_children) choices.push_back(static_cast<int32_t>(i));
      }
    }
    c.failures.push_back(choices[static_cast<size_t>(c.rng.UniformInt(0, static_cast<int64_t>(choices.size()) - 1))]);
  }
  for (int32_t f : c.failures) MarkFailed(t, f);
}

}  // namespace otelrr::generate
