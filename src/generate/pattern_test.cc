#include "generate/pattern.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fmt/format.h"
#include "gtest/gtest.h"

namespace otelrr::generate {
namespace {

using Lines = std::vector<std::string>;

::testing::AssertionResult Contains(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

std::string Dump(const Lines& lines) {
  std::string out;
  for (const std::string& l : lines) out += "\n  " + l;
  return out;
}

// Whether one of `lines` contains `part`.
::testing::AssertionResult AnyContains(const Lines& lines, std::string_view part) {
  for (const std::string& l : lines) {
    if (l.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no line containing '" << part << "' in:" << Dump(lines);
}

// The problems ParsePattern reports, one per element, or {"ok"}.
std::vector<std::string> Problems(std::string_view yaml) {
  absl::StatusOr<Pattern> p = ParsePattern(yaml, "t.yaml");
  if (p.ok()) return {"ok"};
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<std::string> lines;
  std::istringstream in{std::string(p.status().message())};
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

Pattern MustParse(std::string_view yaml) {
  absl::StatusOr<Pattern> p = ParsePattern(yaml, "t.yaml");
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *std::move(p) : Pattern{};
}

int FindOperation(const Pattern& p, std::string_view reference) {
  for (int i = 0; i < static_cast<int>(p.operations.size()); ++i) {
    if (OperationReference(p, i) == reference) return i;
  }
  ADD_FAILURE() << "no operation " << reference;
  return -1;
}

// The longest chain of calls below `op`, counting operations.
int Depth(const Pattern& p, int op) {
  int d = 0;
  for (const Call& c : p.operations[static_cast<std::size_t>(op)].calls) d = std::max(d, Depth(p, c.operation));
  return d + 1;
}

// ---------------------------------------------------------------------------------------------------
// The shipped patterns

TEST(BuiltinPatternTest, AllFiveParseAndAreNamedAfterTheirFile) {
  EXPECT_EQ(BuiltinPatternNames(), (std::vector<std::string_view>{"basic-topology", "payment-failure", "high-load",
                                                                    "complex-topology", "training-phases"}));
  for (std::string_view name : BuiltinPatternNames()) {
    absl::StatusOr<Pattern> p = BuiltinPattern(name);
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_EQ(p->name, name);
    EXPECT_FALSE(p->description.empty()) << name;
    EXPECT_FALSE(p->entry_points.empty()) << name;
    EXPECT_GE(p->max_call_depth, 3) << name;
    EXPECT_LE(p->max_call_depth, kMaxCallDepth) << name;
    EXPECT_LE(p->max_spans_per_trace, kMaxSpansPerTrace) << name;
  }
}

TEST(BuiltinPatternTest, EmbeddedTextIsTheFileInPatternsDirectory) {
  for (std::string_view name : BuiltinPatternNames()) {
    std::ifstream in(std::string(OTELRR_SOURCE_DIR) + "/patterns/" + std::string(name) + ".yaml", std::ios::binary);
    ASSERT_TRUE(in) << name;
    std::stringstream file;
    file << in.rdbuf();
    absl::StatusOr<std::string_view> text = BuiltinPatternSource(name);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, file.str()) << name << ": rebuild to embed the edited file";
  }
}

TEST(BuiltinPatternTest, UnknownNameSuggestsTheClosest) {
  absl::StatusOr<Pattern> p = BuiltinPattern("payment-failur");
  std::string message(p.status().message());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(message, "no pattern named 'payment-failur' (did you mean 'payment-failure'?)"));
  EXPECT_TRUE(Contains(message, "basic-topology, payment-failure, high-load"));
}

TEST(BuiltinPatternTest, BasicTopologyIsFrontendBackendDatabaseWithCacheAndQueue) {
  Pattern p = *BuiltinPattern("basic-topology");
  std::set<ServiceKind> kinds;
  for (const Service& s : p.services) kinds.insert(s.kind);
  EXPECT_EQ(kinds, (std::set<ServiceKind>{ServiceKind::kApplication, ServiceKind::kDatabase, ServiceKind::kCache,
                                          ServiceKind::kQueue}));
  int list = FindOperation(p, "frontend GET /api/products");
  int backend = FindOperation(p, "backend ListProducts");
  ASSERT_EQ(p.operations[static_cast<std::size_t>(list)].calls.size(), 1u);
  EXPECT_EQ(p.operations[static_cast<std::size_t>(list)].calls[0].operation, backend);
  const Operation& select = p.operations[static_cast<std::size_t>(FindOperation(p, "postgres SELECT products"))];
  EXPECT_EQ(select.protocol, Protocol::kDatabase);
  EXPECT_EQ(select.method, "SELECT");
  EXPECT_EQ(select.collection, "products");
  // The worker consumes the topic the backend publishes to.
  const Operation& consume = p.operations[static_cast<std::size_t>(FindOperation(p, "worker process orders"))];
  EXPECT_EQ(consume.protocol, Protocol::kMessaging);
  EXPECT_EQ(consume.method, "process");
  EXPECT_EQ(consume.route, "orders");
  EXPECT_TRUE(p.phases.empty());
}

TEST(BuiltinPatternTest, PaymentFailureHasThreeEqualPhasesAndTheFlag) {
  Pattern p = *BuiltinPattern("payment-failure");
  std::set<std::string> services;
  for (const Service& s : p.services) services.insert(s.name);
  for (const char* s :
       {"frontend", "checkout", "cart", "payment", "shipping", "currency", "email", "product-catalog"}) {
    EXPECT_TRUE(services.count(s)) << s;
  }
  int charge = FindOperation(p, "payment Charge");
  ASSERT_EQ(p.phases.size(), 3u);
  const double expected_rates[] = {0, 0.75, 0};
  const char* names[] = {"startup", "failure", "rampdown"};
  for (std::size_t i = 0; i < 3; ++i) {
    const Phase& phase = p.phases[i];
    EXPECT_EQ(phase.name, names[i]);
    EXPECT_EQ(phase.share, 1.0);
    EXPECT_EQ(phase.annotation_key, std::string("test.phase.") + names[i]);
    EXPECT_TRUE(phase.overrides_error_rate);
    ASSERT_EQ(phase.error_rates.size(), 1u);
    EXPECT_EQ(phase.error_rates[0].first, charge);
    EXPECT_EQ(phase.error_rates[0].second, expected_rates[i]);
  }
  EXPECT_TRUE(p.phases[0].flags.empty());
  EXPECT_EQ(p.phases[1].flags, (std::vector<std::string>{"paymentServiceFailure"}));
  EXPECT_TRUE(p.phases[2].flags.empty());
  // A failing charge has a path to the root: frontend POST /api/checkout -> checkout PlaceOrder -> payment Charge.
  int place = FindOperation(p, "checkout PlaceOrder");
  const Operation& checkout = p.operations[static_cast<std::size_t>(FindOperation(p, "frontend POST /api/checkout"))];
  EXPECT_EQ(checkout.calls[0].operation, place);
  const auto& calls = p.operations[static_cast<std::size_t>(place)].calls;
  EXPECT_TRUE(std::any_of(calls.begin(), calls.end(), [&](const Call& c) { return c.operation == charge; }));
  const Operation& op = p.operations[static_cast<std::size_t>(charge)];
  EXPECT_EQ(op.protocol, Protocol::kGrpc);
  EXPECT_EQ(op.method, "oteldemo.PaymentService");  // rpc.service
  EXPECT_EQ(op.route, "Charge");                    // rpc.method
}

TEST(BuiltinPatternTest, HighLoadFansOutInParallel) {
  Pattern p = *BuiltinPattern("high-load");
  int parallel = 0;
  int widest = 0;
  for (const Operation& op : p.operations) {
    widest = std::max(widest, static_cast<int>(op.calls.size()));
    for (const Call& c : op.calls) parallel += c.parallel ? 1 : 0;
  }
  EXPECT_GE(parallel, 8);
  EXPECT_GE(widest, 6);
  EXPECT_GE(p.max_spans_per_trace, 100u);
  // Long tails: every operation's p99 is at least five times its median.
  for (const Operation& op : p.operations) EXPECT_GE(op.latency.p99_ns, 5 * op.latency.median_ns) << op.name;
}

TEST(BuiltinPatternTest, ComplexTopologyHasTenServicesDepthFiveOptionalAndRepeatedCalls) {
  Pattern p = *BuiltinPattern("complex-topology");
  EXPECT_GE(p.services.size(), 10u);
  int deepest = 0;
  for (const EntryPoint& e : p.entry_points) deepest = std::max(deepest, Depth(p, e.operation));
  EXPECT_GE(deepest, 5);
  EXPECT_EQ(deepest, p.max_call_depth);
  int optional = 0;
  int repeated = 0;
  int branching = 0;
  for (const Operation& op : p.operations) {
    branching += op.calls.size() >= 2 ? 1 : 0;
    for (const Call& c : op.calls) {
      optional += c.probability < 1 ? 1 : 0;
      repeated += c.max_repeat > 1 ? 1 : 0;
    }
  }
  EXPECT_GE(optional, 3);
  EXPECT_GE(repeated, 3);
  EXPECT_GE(branching, 5);
  EXPECT_FALSE(p.error_candidates.empty());
}

TEST(BuiltinPatternTest, TrainingPhasesDegradeThenFailOneService) {
  Pattern p = *BuiltinPattern("training-phases");
  ASSERT_EQ(p.phases.size(), 3u);
  EXPECT_EQ(p.phases[0].annotation_key, "test.phase.baseline");
  EXPECT_EQ(p.phases[1].annotation_key, "test.phase.degraded");
  EXPECT_EQ(p.phases[2].annotation_key, "test.phase.failure");
  EXPECT_TRUE(p.phases[0].error_rates.empty());
  EXPECT_TRUE(p.phases[0].latency_multipliers.empty());
  // Degraded slows and failure breaks the operations of one and the same service.
  std::set<int> services;
  ASSERT_FALSE(p.phases[1].latency_multipliers.empty());
  for (const auto& [op, multiplier] : p.phases[1].latency_multipliers) {
    EXPECT_GT(multiplier, 1);
    services.insert(p.operations[static_cast<std::size_t>(op)].service);
  }
  ASSERT_FALSE(p.phases[2].error_rates.empty());
  for (const auto& [op, rate] : p.phases[2].error_rates) {
    EXPECT_GT(rate, 0);
    services.insert(p.operations[static_cast<std::size_t>(op)].service);
  }
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(p.services[static_cast<std::size_t>(*services.begin())].name, "inventory");
}

// ---------------------------------------------------------------------------------------------------
// The format: defaults and resolution

constexpr std::string_view kSmall = R"(name: small
services:
  - name: web
    operations:
      - name: GET /a
        calls:
          - api Get
          - to: api List
            probability: 0.5
            repeat: [2, 3]
            parallel: true
  - name: api
    kind: application
    language: java
    instances: 3
    operations:
      - name: Get
        protocol: grpc
        grpc: {service: x.v1.Api}
        latency: {median: 2ms, p99: 1.5s}
        error: {type: E, message: boom, grpc_status: 14}
        error_rate: 0.01
        calls: [db SELECT t]
      - name: List
        protocol: http
        http: {method: POST, route: /list}
        latency: {median: 250us}
  - name: db
    kind: database
    operations:
      - name: SELECT t
        latency: {median: 800ns, p99: 3us}
entry_points:
  - web GET /a
phases:
  - name: one
    flags: [f1, f2]
  - name: two
    share: 2
    annotation_key: train.custom.key
    error_rates: {api Get: 0.5}
    latency: {db SELECT t: 4}
    overrides_error_rate: true
error_candidates: [api Get]
metrics_interval: 30s
)";

TEST(ParsePatternTest, ResolvesReferencesUnitsAndDefaults) {
  Pattern p = MustParse(kSmall);
  EXPECT_EQ(p.name, "small");
  ASSERT_EQ(p.services.size(), 3u);
  EXPECT_EQ(p.services[0].language, "go");
  EXPECT_EQ(p.services[0].version, "1.0.0");
  EXPECT_EQ(p.services[1].instances, 3);
  EXPECT_EQ(p.services[2].system, "postgresql");
  ASSERT_EQ(p.operations.size(), 4u);
  const Operation& web = p.operations[0];
  EXPECT_EQ(web.method, "GET");
  EXPECT_EQ(web.route, "/a");
  EXPECT_EQ(web.latency.median_ns, 1'000'000u);  // default 1ms, p99 3ms
  EXPECT_EQ(web.latency.p99_ns, 3'000'000u);
  EXPECT_EQ(web.error.http_status, 500);
  EXPECT_EQ(web.error.message, "GET /a failed");
  ASSERT_EQ(web.calls.size(), 2u);
  EXPECT_EQ(web.calls[0].operation, 1);
  EXPECT_EQ(web.calls[0].probability, 1.0);
  EXPECT_EQ(web.calls[0].min_repeat, 1);
  EXPECT_FALSE(web.calls[0].parallel);
  EXPECT_EQ(web.calls[1].operation, 2);
  EXPECT_EQ(web.calls[1].probability, 0.5);
  EXPECT_EQ(web.calls[1].min_repeat, 2);
  EXPECT_EQ(web.calls[1].max_repeat, 3);
  EXPECT_TRUE(web.calls[1].parallel);
  const Operation& get = p.operations[1];
  EXPECT_EQ(get.latency.median_ns, 2'000'000u);
  EXPECT_EQ(get.latency.p99_ns, 1'500'000'000u);
  EXPECT_EQ(get.error.grpc_status, 14);
  EXPECT_EQ(get.error.type, "E");
  EXPECT_EQ(get.base_error_rate, 0.01);
  EXPECT_EQ(get.route, "Get");  // rpc.method defaults to the operation name
  EXPECT_EQ(p.operations[2].method, "POST");
  EXPECT_EQ(p.operations[2].latency.p99_ns, 750'000u);  // p99 defaults to 3 x median
  EXPECT_EQ(p.operations[3].latency.median_ns, 800u);
  EXPECT_EQ(p.operations[3].latency.p99_ns, 3'000u);
  EXPECT_EQ(p.operations[3].method, "SELECT");
  ASSERT_EQ(p.entry_points.size(), 1u);
  EXPECT_EQ(p.entry_points[0].operation, 0);
  EXPECT_EQ(p.entry_points[0].weight, 1.0);
  ASSERT_EQ(p.phases.size(), 2u);
  EXPECT_EQ(p.phases[0].annotation_key, "test.phase.one");
  EXPECT_EQ(p.phases[0].share, 1.0);
  EXPECT_EQ(p.phases[0].flags, (std::vector<std::string>{"f1", "f2"}));
  EXPECT_FALSE(p.phases[0].overrides_error_rate);
  EXPECT_EQ(p.phases[1].annotation_key, "train.custom.key");
  EXPECT_EQ(p.phases[1].share, 2.0);
  EXPECT_EQ(p.phases[1].error_rates, (std::vector<std::pair<int, double>>{{1, 0.5}}));
  EXPECT_EQ(p.phases[1].latency_multipliers, (std::vector<std::pair<int, double>>{{3, 4.0}}));
  EXPECT_TRUE(p.phases[1].overrides_error_rate);
  EXPECT_EQ(p.error_candidates, (std::vector<int>{1}));
  EXPECT_EQ(p.metrics_interval_ns, 30'000'000'000u);
  EXPECT_EQ(p.max_call_depth, 3);
  // web: 1 + 1 x (1 + get) + 3 x (1 + list); get = 1 + (1 + 1) = 3; list = 1.
  EXPECT_EQ(p.max_spans_per_trace, 1u + 4u + 6u);
}

TEST(ParsePatternTest, NameDefaultsToTheFileName) {
  std::string yaml(kSmall.substr(kSmall.find('\n') + 1));
  absl::StatusOr<Pattern> p = ParsePattern(yaml, "dir/my-scenario.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->name, "my-scenario");
}

// ---------------------------------------------------------------------------------------------------
// The format: every mistake reported with its line

// kSmall with some lines (1-based) replaced, each by one or more lines.
std::string Edit(const std::vector<std::pair<int, std::string_view>>& edits) {
  std::istringstream in{std::string(kSmall)};
  std::string out;
  int n = 0;
  for (std::string l; std::getline(in, l);) {
    ++n;
    auto it = std::find_if(edits.begin(), edits.end(), [n](const auto& e) { return e.first == n; });
    out += it != edits.end() ? std::string(it->second) : l;
    out += '\n';
  }
  return out;
}

// One mistake made in kSmall: the lines replaced, and exactly the problems reported.
struct ErrorCase {
  std::vector<std::pair<int, std::string_view>> edits;
  Lines expected;
};

void ExpectProblems(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.edits.front().second);
    EXPECT_EQ(Problems(Edit(c.edits)), c.expected);
  }
}

TEST(PatternErrorsTest, UnknownKeySuggestsTheClosestOrListsAllowed) {
  ExpectProblems({
      {{{13, "    knd: application"}}, {"t.yaml:13: unknown key 'knd' in service (did you mean 'kind'?)"}},
      {{{13, "    colour: blue"}},
       {"t.yaml:13: unknown key 'colour' in service; allowed keys: name, kind, version, language, system, "
        "instances, namespace, operations"}},
      {{{20, "        lattency: {median: 2ms, p99: 1.5s}"}},
       {"t.yaml:20: unknown key 'lattency' in operation (did you mean 'latency'?)"}},
  });
}

TEST(PatternErrorsTest, WrongTypes) {
  ExpectProblems({
      {{{15, "    instances: three"}}, {"t.yaml:15: 'instances' must be a whole number, got 'three'"}},
      {{{15, "    instances: 0"}}, {"t.yaml:15: 'instances' must be between 1 and 1000, got 0"}},
      {{{11, "            parallel: yes"}}, {"t.yaml:11: 'parallel' must be true or false, got 'yes'"}},
      {{{23, "        calls: db SELECT t"}}, {"t.yaml:23: 'calls' must be a list, got 'db SELECT t'"}},
      {{{20, "        latency: 5ms"}}, {"t.yaml:20: latency must be a mapping of keys (median, p99), got '5ms'"}},
      {{{10, "            repeat: [2, 3, 4]"}}, {"t.yaml:10: 'repeat' must be a count or [min, max], got a list of 3"}},
      {{{10, "            repeat: [3, 2]"}}, {"t.yaml:10: 'repeat' [3, 2] has its minimum above its maximum"}},
      {{{10, "            repeat: 101"}}, {"t.yaml:10: 'repeat' must be between 1 and 100, got 101"}},
  });
}

TEST(PatternErrorsTest, UnknownReferencesSuggestTheClosest) {
  ExpectProblems({
      {{{7, "          - api Gte"}}, {"t.yaml:7: no operation named 'api Gte' (did you mean 'api Get'?)"}},
      {{{7, "          - api Delete"}},
       {"t.yaml:7: no operation named 'api Delete'; service 'api' has 'api Get', 'api List'"}},
      {{{7, "          - apx Remove"}},
       {"t.yaml:7: no operation named 'apx Remove': operations are written \"service operation\" and there is no "
        "service 'apx' (did you mean 'api'?)"}},
      {{{34, "  - web GET /b"}}, {"t.yaml:34: no operation named 'web GET /b' (did you mean 'web GET /a'?)"}},
      {{{41, "    error_rates: {api Got: 0.5}"}},
       {"t.yaml:41: no operation named 'api Got' (did you mean 'api Get'?)"}},
      {{{44, "error_candidates: [api Gets]"}},
       {"t.yaml:44: no operation named 'api Gets' (did you mean 'api Get'?)"}},
  });
}

TEST(PatternErrorsTest, ProbabilitiesAndRatesOutsideZeroToOne) {
  ExpectProblems({
      {{{9, "            probability: 1.5"}}, {"t.yaml:9: 'probability' must be between 0 and 1, got 1.5"}},
      {{{9, "            probability: -0.5"}}, {"t.yaml:9: 'probability' must be between 0 and 1, got -0.5"}},
      {{{22, "        error_rate: -0.01"}}, {"t.yaml:22: 'error_rate' must be between 0 and 1, got -0.01"}},
      {{{41, "    error_rates: {api Get: 2}"}},
       {"t.yaml:41: 'error_rates: api Get' must be between 0 and 1, got 2"}},
      {{{42, "    latency: {db SELECT t: 0}"}},
       {"t.yaml:42: 'latency: db SELECT t' must be greater than 0, got 0"}},
  });
}

TEST(PatternErrorsTest, LatencyUnitsAndOrder) {
  ExpectProblems({
      {{{20, "        latency: {median: 2ms, p99: 1ms}"}},
       {"t.yaml:20: latency p99 (1ms) of 'api Get' is below its median (2ms)"}},
      {{{20, "        latency: {median: 2 min}"}},
       {"t.yaml:20: 'median' has an unknown unit 'min' in '2 min': use ns, us, ms or s"}},
      {{{20, "        latency: {median: 2}"}},
       {"t.yaml:20: 'median' needs a unit (ns, us, ms or s), as in 5ms; got '2'"}},
      {{{20, "        latency: {p99: 2ms}"}},
       {"t.yaml:20: latency of 'api Get' needs a 'median' (e.g. {median: 5ms, p99: 40ms})"}},
      {{{45, "metrics_interval: 10ms"}}, {"t.yaml:45: 'metrics_interval' must be at least 1s, got 10ms"}},
  });
}

TEST(PatternErrorsTest, Duplicates) {
  ExpectProblems({
      {{{12, "  - name: web\n    operations: [{name: GET /b}]\n  - name: api"}},
       {"t.yaml:12: duplicate service 'web' (first defined on line 3)"}},
      {{{24, "      - name: Get"}},
       {"t.yaml:8: no operation named 'api List'; service 'api' has 'api Get'",
        "t.yaml:24: duplicate operation 'api Get' (first defined on line 17)"}},
      {{{15, "    kind: database"}}, {"t.yaml:15: duplicate key 'kind' in service (first on line 13)"}},
      {{{38, "  - name: one"}}, {"t.yaml:38: duplicate phase 'one' (first defined on line 36)"}},
      {{{40, "    annotation_key: test.phase.one"}},
       {"t.yaml:40: phase 'two' has the annotation key 'test.phase.one' of the phase on line 36"}},
      {{{40, "    annotation_key: phase.two"}},
       {"t.yaml:40: annotation key 'phase.two' must start with its type and a name: test.*, diag.*, human.*, llm.*, "
        "meta.* or train.* (e.g. test.phase.failure, human.verdict)"}},
  });
}

TEST(PatternErrorsTest, EntryPointsAndPhases) {
  ExpectProblems({
      {{{33, "entry_points: []"}, {34, "#"}},
       {"t.yaml:33: 'entry_points' is empty: list the operations where traces start"}},
      {{{33, "#"}, {34, "#"}},
       {"t.yaml:1: the pattern has no 'entry_points': list the operations where traces start"}},
      {{{34, "  - db SELECT t"}},
       {"t.yaml:34: entry point 'db SELECT t' is an operation of a database: traces start in an application"}},
      {{{34, "  - {operation: web GET /a, weight: 0}"}}, {"t.yaml:34: 'weight' must be greater than 0, got 0"}},
      {{{39, "    share: 0"}}, {"t.yaml:39: 'share' must be greater than 0, got 0"}},
      {{{39, "    share: -1"}}, {"t.yaml:39: 'share' must be greater than 0, got -1"}},
  });
}

TEST(PatternErrorsTest, CallRulesOfKindsAndProtocols) {
  ExpectProblems({
      {{{32, "        latency: {median: 800ns, p99: 3us}\n        calls: [api List]"}},
       {"t.yaml:33: 'db SELECT t' belongs to a database, which is not instrumented and makes no calls"}},
      {{{18, "        protocol: database"}},
       {"t.yaml:18: protocol database does not fit service 'api', a application: use http, grpc, internal or "
        "messaging (a consumer)",
        "t.yaml:19: operation 'api Get' has protocol database: 'grpc' does not apply (its names go under 'db')"}},
      {{{19, "        http: {route: /x}"}},
       {"t.yaml:17: grpc operation 'api Get' needs grpc: {service: ...}, the fully qualified gRPC service (e.g. "
        "oteldemo.CartService)",
        "t.yaml:19: operation 'api Get' has protocol grpc: 'http' does not apply (its names go under 'grpc')"}},
      {{{5, "      - name: Home"}},
       {"t.yaml:5: http operation 'web Home' needs a route: name it like 'GET /api/cart' or give http: {method: "
        "GET, route: /api/cart}",
        "t.yaml:34: no operation named 'web GET /a'; service 'web' has 'web Home'"}},
      {{{25, "        protocol: internal"}},
       {"t.yaml:8: 'api List' is internal to service 'api' and cannot be called from 'web GET /a'",
        "t.yaml:26: operation 'api List' has protocol internal: 'http' does not apply"}},
  });
}

TEST(PatternErrorsTest, CycleIsReportedWithItsPath) {
  ExpectProblems({
      {{{26, "        http: {method: POST, route: /list}\n        calls: [web GET /a]"}},
       {"t.yaml:27: call cycle: 'web GET /a' -> 'api List' -> 'web GET /a'; an operation cannot reach itself"}},
      {{{26, "        http: {method: POST, route: /list}\n        calls: [api List]"}},
       {"t.yaml:27: call cycle: 'api List' -> 'api List'; an operation cannot reach itself"}},
  });
}

TEST(PatternErrorsTest, DepthLimit) {
  std::string yaml = "services:\n  - name: s\n    operations:\n";
  for (int i = 0; i < 40; ++i) {
    yaml += fmt::format("      - name: GET /op{}\n", i);
    if (i + 1 < 40) yaml += fmt::format("        calls: [s GET /op{}]\n", i + 1);
  }
  yaml += "entry_points: [s GET /op0]\n";
  std::vector<std::string> problems = Problems(yaml);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(Contains(problems[0], "t.yaml:83: calls from entry point 's GET /op0' nest 40 deep (the limit is 32): "
                                    "s GET /op0 -> s GET /op1 -> "));
  EXPECT_TRUE(Contains(problems[0], "-> s GET /op39"));
}

TEST(PatternErrorsTest, SpanBoundStopsRepeatExplosion) {
  std::string yaml = "services:\n  - name: s\n    operations:\n";
  for (int i = 0; i < 4; ++i) {
    yaml += fmt::format("      - name: GET /op{}\n", i);
    if (i + 1 < 4) yaml += fmt::format("        calls: [{{to: s GET /op{}, repeat: [1, 30]}}]\n", i + 1);
  }
  yaml += "entry_points: [s GET /op0]\n";
  EXPECT_EQ(Problems(yaml), (Lines{"t.yaml:11: a trace starting at 's GET /op0' can have more than 10000 spans "
                                   "when every call repeats its maximum: lower 'repeat' or the fan-out"}));
}

TEST(PatternErrorsTest, AllProblemsAreCollectedInLineOrder) {
  std::string yaml = Edit({{34, "  - web GET /z"},
                           {9, "            probability: 7"},
                           {22, "        error_rate: 3"},
                           {15, "    instances: many"},
                           {39, "    share: 0"}});
  EXPECT_EQ(Problems(yaml), (Lines{"t.yaml:9: 'probability' must be between 0 and 1, got 7",
                                   "t.yaml:15: 'instances' must be a whole number, got 'many'",
                                   "t.yaml:22: 'error_rate' must be between 0 and 1, got 3",
                                   "t.yaml:34: no operation named 'web GET /z' (did you mean 'web GET /a'?)",
                                   "t.yaml:39: 'share' must be greater than 0, got 0"}));
}

TEST(PatternErrorsTest, MalformedYamlAndWrongShapes) {
  Lines malformed = Problems("services: [\n  - a\n");
  ASSERT_EQ(malformed.size(), 1u);
  EXPECT_TRUE(Contains(malformed[0], "t.yaml:"));
  EXPECT_TRUE(Contains(malformed[0], ": not valid YAML: "));
  EXPECT_EQ(Problems(""), (Lines{"t.yaml: the file is empty: a pattern needs at least 'services' and 'entry_points'"}));
  EXPECT_EQ(Problems("- a\n- b\n"),
            (Lines{"t.yaml:1: a pattern file is a mapping with the keys name, description, metrics_interval, "
                   "services, entry_points, phases, error_candidates; got a list"}));
  EXPECT_EQ(Problems("name: x\n"),
            (Lines{"t.yaml:1: the pattern has no 'services': list the services of the system",
                   "t.yaml:1: the pattern has no 'entry_points': list the operations where traces start"}));
  // Deep nesting is refused by yaml-cpp, not a stack overflow.
  std::string deep = "services: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  EXPECT_EQ(Problems(deep).size(), 1u);
}

// Aliases share nodes in yaml-cpp: a billion-laughs file is read quickly and refused for its shape.
TEST(PatternErrorsTest, AliasBombIsRefusedQuickly) {
  std::string yaml = "x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    yaml += fmt::format("x{0}: &a{0} [*a{1}, *a{1}, *a{1}, *a{1}, *a{1}, *a{1}, *a{1}, *a{1}, *a{1}, *a{1}]\n", i,
                        i - 1);
  }
  yaml += "services: [{name: s, operations: [{name: GET /, calls: *a8}]}]\nentry_points: [s GET /]\n";
  std::vector<std::string> problems = Problems(yaml);
  EXPECT_TRUE(AnyContains(problems, "call must be a mapping of keys (to, probability, repeat, parallel), got a list"));
}

TEST(PatternErrorsTest, HugeFilesStopAtTheNodeBudget) {
  std::string yaml = "services:\n  - name: s\n    operations:\n      - name: GET /\n        calls:\n";
  for (int i = 0; i < 210'000; ++i) yaml += "          - s GET /x\n";
  std::vector<std::string> problems = Problems(yaml);
  EXPECT_TRUE(AnyContains(problems, "the file describes more than 200000 YAML nodes"));
  EXPECT_LT(problems.size(), 10u);
}

}  // namespace
}  // namespace otelrr::generate
