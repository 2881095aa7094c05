// Fuzz target: the seed pattern parser (generate::ParsePattern), which reads user YAML files.
// Oracle: never crash or hang; an accepted pattern is resolved and within the limits the generator
// relies on (every index in range, depth and spans per trace bounded).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "generate/pattern.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace otelrr::generate;
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Pattern> p = ParsePattern(yaml, "fuzz.yaml");
  if (!p.ok()) {
    Check(!p.status().message().empty());
    return 0;
  }
  const int services = static_cast<int>(p->services.size());
  const int operations = static_cast<int>(p->operations.size());
  Check(!p->entry_points.empty());
  for (const EntryPoint& e : p->entry_points) Check(e.operation >= 0 && e.operation < operations && e.weight > 0);
  for (const Operation& op : p->operations) {
    Check(op.service >= 0 && op.service < services);
    Check(op.latency.p99_ns >= op.latency.median_ns);
    Check(op.base_error_rate >= 0 && op.base_error_rate <= 1);
    for (const Call& c : op.calls) {
      Check(c.operation >= 0 && c.operation < operations);
      Check(c.probability >= 0 && c.probability <= 1);
      Check(c.min_repeat >= 0 && c.min_repeat <= c.max_repeat);
    }
  }
  for (const Phase& ph : p->phases) {
    Check(ph.share > 0);
    for (const auto& [op, rate] : ph.error_rates) Check(op >= 0 && op < operations && rate >= 0 && rate <= 1);
    for (const auto& [op, mult] : ph.latency_multipliers) Check(op >= 0 && op < operations && mult >= 0);
  }
  for (int op : p->error_candidates) Check(op >= 0 && op < operations);
  Check(p->max_call_depth <= kMaxCallDepth);
  Check(p->max_spans_per_trace <= kMaxSpansPerTrace);
  return 0;
}
