// A seed pattern: the declarative description of a system and its load that the generator turns into
// traces, metrics and logs. Patterns are YAML files (docs/PATTERNS.md); the five named patterns ship in
// patterns/ and are compiled into the binary, and users pass their own with --pattern-file.
//
//   absl::StatusOr<Pattern> p = ParsePattern(yaml_text, "my-pattern.yaml");   // errors name the line
//   absl::StatusOr<Pattern> q = BuiltinPattern("payment-failure");
//   std::vector<std::string_view> names = BuiltinPatternNames();
//
// The model is resolved: every call points at an operation index, every phase's overrides at operation
// indices, latencies are in nanoseconds, so the generator never looks anything up by name. A parsed
// pattern is also checked: references resolve, rates are in [0, 1], the call graph has no cycle, calls
// nest at most kMaxCallDepth deep and a trace has at most kMaxSpansPerTrace spans, so the generator can
// rely on all of that without checking again.
#ifndef OTELRR_GENERATE_PATTERN_H_
#define OTELRR_GENERATE_PATTERN_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_writer.h"

namespace otelrr::generate {

// Limits every pattern obeys, so that no pattern makes a trace explode.
inline constexpr int kMaxCallDepth = 32;                 // operations on the longest call chain
inline constexpr uint64_t kMaxSpansPerTrace = 10'000;    // worst case, every optional call made
inline constexpr int kMaxRepeat = 100;                   // a single call repeated at most this often

// What a service is, which decides its resource and span attributes.
enum class ServiceKind : uint8_t {
  kApplication,  // an instrumented service: SERVER spans for incoming calls
  kDatabase,     // not instrumented: only the caller's CLIENT span (db.system.name, db.query.text)
  kCache,        // likewise (db.system.name redis/memcached)
  kQueue,        // a broker: PRODUCER span in the caller, CONSUMER span in the consuming service
};

// How an operation is reached, which decides span names, kinds and attributes.
enum class Protocol : uint8_t {
  kHttp,       // http.request.method, http.route, url.path, http.response.status_code, server.address
  kGrpc,       // rpc.system=grpc, rpc.service, rpc.method, rpc.grpc.status_code
  kDatabase,   // db.system.name, db.query.text, db.operation.name, db.collection.name
  kCache,      // db.system.name=redis, db.operation.name, db.query.text
  kMessaging,  // messaging.system, messaging.destination.name, messaging.operation.type
  kInternal,   // an INTERNAL span inside a service
};

// A latency distribution: log-normal, given by its median and 99th percentile.
struct Latency {
  uint64_t median_ns = 0;
  uint64_t p99_ns = 0;
};

struct Service {
  std::string name;
  ServiceKind kind = ServiceKind::kApplication;
  std::string version = "1.0.0";
  std::string language = "go";     // telemetry.sdk.language
  std::string system;              // databases, caches and queues: postgresql, redis, kafka...
  int instances = 1;               // distinct host.name / service.instance.id values
  std::string namespace_name;      // service.namespace, optional
};

// One call an operation makes while it runs.
struct Call {
  int operation = -1;        // index into Pattern::operations
  double probability = 1.0;  // chance the call is made at all
  int min_repeat = 1;        // made this many times (uniform in [min, max]); min may be 0, max >= 1
  int max_repeat = 1;
  bool parallel = false;     // runs concurrently with the previous call instead of after it
};

struct ErrorSpec {
  std::string type;     // exception.type
  std::string message;  // exception.message
  int http_status = 500;
  int grpc_status = 13;  // INTERNAL
};

struct Operation {
  std::string name;      // span name of the SERVER (or INTERNAL/CONSUMER) span: "GET /api/cart", "PlaceOrder"
  int service = -1;      // index into Pattern::services
  Protocol protocol = Protocol::kHttp;
  // What the protocol names, always filled in by the parser (defaults applied):
  //   kHttp:      method "GET" (http.request.method), route "/api/cart/{userId}" (http.route)
  //   kGrpc:      method "oteldemo.CartService" (rpc.service), route "GetCart" (rpc.method)
  //   kDatabase,
  //   kCache:     method "SELECT" / "HGET" (db.operation.name), collection "products" (db.collection.name,
  //               may be empty), query "SELECT * FROM products WHERE id = $1" (db.query.text, may be empty)
  //   kMessaging: route "orders" (messaging.destination.name); method "publish" for an operation of a
  //               kQueue service (the topic: the caller writes a PRODUCER span) and "process" for an
  //               operation of an application that consumes it (its CONSUMER span)
  //   kInternal:  all empty
  std::string method;
  std::string route;
  std::string query;
  std::string collection;
  Latency latency;        // time spent in the operation itself, beyond its calls
  ErrorSpec error;        // what a failure of this operation looks like
  double base_error_rate = 0;  // chance the operation fails by itself, before phase overrides
  std::vector<Call> calls;
};

struct EntryPoint {
  int operation = -1;
  double weight = 1;
};

// A phase: a share of the session's duration with its own error rates, latencies and feature flags.
struct Phase {
  std::string name;
  std::string annotation_key;  // default "test.phase.<name>"
  double share = 1;            // relative length: phases of equal share split the duration equally
  std::vector<std::string> flags;
  // Per-operation overrides in this phase: operation index -> error rate / latency multiplier.
  std::vector<std::pair<int, double>> error_rates;
  std::vector<std::pair<int, double>> latency_multipliers;
  // When set, the session's --error-rate does not apply in this phase: only error_rates do.
  bool overrides_error_rate = false;
};

struct Pattern {
  std::string name;
  std::string description;
  std::vector<Service> services;
  std::vector<Operation> operations;
  std::vector<EntryPoint> entry_points;
  std::vector<Phase> phases;  // empty: one phase for the whole session
  // The operations that fail when the session's --error-rate picks a trace to fail: empty means the
  // leaf operations of the trace, chosen uniformly.
  std::vector<int> error_candidates;
  // Telemetry settings.
  uint64_t metrics_interval_ns = 10'000'000'000;  // RED metrics export interval

  // Computed by the parser from the call graph (worst case: every optional call made, every repeat at
  // its maximum), for sizing buffers: the most operations on one call chain from an entry point, and
  // the most spans one trace can have (a CLIENT and a SERVER span per call, one span per entry point).
  int max_call_depth = 0;
  uint64_t max_spans_per_trace = 0;
};

std::string_view ServiceKindName(ServiceKind kind);  // "application", "database", "cache", "queue"
std::string_view ProtocolName(Protocol protocol);    // "http", "grpc", "database", "cache", "messaging", "internal"
// How a pattern file refers to an operation: "<service> <operation>", e.g. "payment Charge".
std::string OperationReference(const Pattern& pattern, int operation);

// Parses, checks and resolves a pattern file. `source` names the file in errors. On failure the status is
// InvalidArgument and its message holds every problem found, one per line, in file order:
//   payment.yaml:12: no operation named 'paymnet Charge' (did you mean 'payment Charge'?)
//   payment.yaml:30: 'probability' must be between 0 and 1, got 1.5
// A pattern without a `name` takes the file name of `source` without directory and extension.
absl::StatusOr<Pattern> ParsePattern(std::string_view yaml, std::string_view source);

// The patterns shipped in patterns/: basic-topology, payment-failure, high-load, complex-topology,
// training-phases.
// The pattern as `otelrr patterns --json` and GET /api/patterns give it: name, description, services
// [{name, kind}], operations, entryPoints, phases [{name, share, fraction, annotationKey, flags}],
// maxCallDepth, maxSpansPerTrace.
void WritePatternJson(const Pattern& pattern, JsonWriter* w);
// The sum of the phases' shares (a phase's fraction of the session is its share / this).
double TotalPhaseShare(const Pattern& pattern);

std::vector<std::string_view> BuiltinPatternNames();
absl::StatusOr<Pattern> BuiltinPattern(std::string_view name);
// The YAML text of a shipped pattern (for `otelrr patterns show NAME` and as examples).
absl::StatusOr<std::string_view> BuiltinPatternSource(std::string_view name);

}  // namespace otelrr::generate

#endif  // OTELRR_GENERATE_PATTERN_H_
