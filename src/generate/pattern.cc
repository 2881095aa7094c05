#include "generate/pattern.h"

#include "common/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "annotate/annotation.h"
#include "common/status.h"
#include "fmt/format.h"
#include "yaml-cpp/yaml.h"

namespace otelrr::generate {

// Defined in builtin_patterns.cc, which CMake generates from patterns/*.yaml (cmake/EmbedPatterns.cmake).
namespace internal {
extern const std::size_t kBuiltinPatternCount;
extern const std::string_view kBuiltinPatternNames[];
extern const std::string_view kBuiltinPatternTexts[];
}  // namespace internal

namespace {

constexpr uint64_t kNanosPerSecond = 1'000'000'000;
// A latency above an hour or a metrics interval outside [1 s, 1 h] is a typo, not a scenario.
constexpr uint64_t kMaxLatencyNs = 3600 * kNanosPerSecond;
constexpr int kMaxInstances = 1000;
// yaml-cpp shares aliased nodes, so a small file can describe a huge tree; we stop walking after this
// many nodes rather than spend minutes on it.
constexpr int kMaxNodesVisited = 200'000;

constexpr std::string_view kTopKeys[] = {"name",   "description", "metrics_interval", "services",
                                         "entry_points", "phases", "error_candidates"};
constexpr std::string_view kServiceKeys[] = {"name",      "kind",      "version",   "language",
                                             "system",    "instances", "namespace", "operations"};
constexpr std::string_view kOperationKeys[] = {"name", "protocol", "http",       "grpc",  "db",   "messaging",
                                               "latency", "error", "error_rate", "calls"};
constexpr std::string_view kHttpKeys[] = {"method", "route"};
constexpr std::string_view kGrpcKeys[] = {"service", "method"};
constexpr std::string_view kDbKeys[] = {"operation", "collection", "query"};
constexpr std::string_view kMessagingKeys[] = {"destination"};
constexpr std::string_view kLatencyKeys[] = {"median", "p99"};
constexpr std::string_view kErrorKeys[] = {"type", "message", "http_status", "grpc_status"};
constexpr std::string_view kCallKeys[] = {"to", "probability", "repeat", "parallel"};
constexpr std::string_view kEntryKeys[] = {"operation", "weight"};
constexpr std::string_view kPhaseKeys[] = {"name",       "share",   "flags", "annotation_key",
                                           "error_rates", "latency", "overrides_error_rate"};

constexpr std::string_view kKindNames[] = {"application", "database", "cache", "queue"};
constexpr std::string_view kProtocolNames[] = {"http", "grpc", "database", "cache", "messaging", "internal"};
constexpr std::string_view kHttpMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
// telemetry.sdk.language values of the semantic conventions.
constexpr std::string_view kLanguages[] = {"cpp",  "dotnet", "erlang", "go",   "java",  "nodejs",
                                           "php",  "python", "ruby",   "rust", "swift", "webjs"};

std::string Join(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// " (did you mean 'x'?)" for the closest candidate when it is close enough to be a typo, else "".
template <typename Range>
std::string DidYouMean(std::string_view word, const Range& candidates) {
  std::string_view best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& candidate : candidates) {
    std::size_t distance = EditDistance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  std::size_t tolerance = std::max<std::size_t>(2, word.size() / 4);
  if (best.empty() || best_distance == 0 || best_distance > tolerance || best_distance >= word.size()) return "";
  return fmt::format(" (did you mean '{}'?)", best);
}

std::string FormatDuration(uint64_t ns) {
  if (ns % kNanosPerSecond == 0) return fmt::format("{}s", ns / kNanosPerSecond);
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  if (ns % 1'000 == 0) return fmt::format("{}us", ns / 1'000);
  return fmt::format("{}ns", ns);
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

bool IsSimpleName(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsNameChar); }

// The problems found so far, each with its line.
class Problems {
 public:
  explicit Problems(std::string_view source) : source_(source) {}

  void Add(int line, std::string message) { problems_.push_back({line, std::move(message)}); }
  bool empty() const { return problems_.empty(); }
  std::size_t size() const { return problems_.size(); }

  // "source:line: message" lines in file order (problems of one line in the order they were found).
  std::string Render() const {
    std::vector<std::pair<int, std::string>> sorted = problems_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    for (const auto& [line, message] : sorted) {
      if (!out.empty()) out += '\n';
      out += line > 0 ? fmt::format("{}:{}: {}", source_, line, message) : fmt::format("{}: {}", source_, message);
    }
    return out;
  }

 private:
  std::string_view source_;
  std::vector<std::pair<int, std::string>> problems_;
};

int LineOf(const YAML::Node& node, int fallback) {
  if (!node.IsDefined() || node.IsNull() || node.Mark().is_null()) return fallback;
  return node.Mark().line + 1;
}

// A key of a mapping and its value, with the line to report problems of the value at.
struct Field {
  std::string_view key;
  YAML::Node value;
  int key_line = 0;
  int line = 0;  // the value's line, or the key's when the value is empty
};

// Reads one YAML node of the pattern into typed values, reporting what is wrong with it.
class Reader {
 public:
  explicit Reader(Problems& problems) : problems_(problems) {}

  Problems& problems() { return problems_; }

  // Budget for nodes walked; false (reported once) when exhausted.
  bool Visit(int line) {
    if (++visited_ <= kMaxNodesVisited) return true;
    if (visited_ == kMaxNodesVisited + 1) {
      problems_.Add(line, fmt::format("the file describes more than {} YAML nodes (aliases included); a pattern "
                                      "is much smaller than that",
                                      kMaxNodesVisited));
    }
    return false;
  }
  bool exhausted() const { return visited_ > kMaxNodesVisited; }

  // The fields of a mapping, after reporting unknown and duplicate keys. `what` names the mapping in
  // messages ("service", "operation"...).
  std::vector<Field> Fields(const YAML::Node& node, int line, std::string_view what,
                            std::span<const std::string_view> allowed) {
    std::vector<Field> fields;
    if (!node.IsMap()) {
      problems_.Add(LineOf(node, line), fmt::format("{} must be a mapping of keys ({}), got {}", what, Join(allowed),
                                                    Describe(node)));
      return fields;
    }
    std::map<std::string, int, std::less<>> seen;
    for (const auto& kv : node) {
      int key_line = LineOf(kv.first, line);
      if (!Visit(key_line)) break;
      if (!kv.first.IsScalar()) {
        problems_.Add(key_line, fmt::format("keys of a {} are plain words ({}), got {}", what, Join(allowed),
                                            Describe(kv.first)));
        continue;
      }
      const std::string& key = kv.first.Scalar();
      if (std::find(std::begin(allowed), std::end(allowed), key) == std::end(allowed)) {
        std::string hint = DidYouMean(key, allowed);
        problems_.Add(key_line, hint.empty() ? fmt::format("unknown key '{}' in {}; allowed keys: {}", key, what,
                                                           Join(allowed))
                                             : fmt::format("unknown key '{}' in {}{}", key, what, hint));
        continue;
      }
      if (auto it = seen.find(key); it != seen.end()) {
        problems_.Add(key_line, fmt::format("duplicate key '{}' in {} (first on line {})", key, what, it->second));
        continue;
      }
      seen.emplace(key, key_line);
      std::string_view stable_key = *std::find(std::begin(allowed), std::end(allowed), key);
      fields.push_back({stable_key, kv.second, key_line, LineOf(kv.second, key_line)});
    }
    return fields;
  }

  static std::string Describe(const YAML::Node& node) {
    switch (node.Type()) {
      case YAML::NodeType::Null:
        return "nothing";
      case YAML::NodeType::Scalar:
        return fmt::format("'{}'", node.Scalar());
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Undefined:
        break;
    }
    return "nothing";
  }

  bool String(const Field& f, std::string* out) {
    if (!f.value.IsScalar()) {
      problems_.Add(f.line, fmt::format("'{}' must be a string, got {}", f.key, Describe(f.value)));
      return false;
    }
    *out = f.value.Scalar();
    return true;
  }

  // A name without spaces: services, phases.
  bool SimpleName(const Field& f, std::string_view what, std::string* out) {
    if (!String(f, out)) return false;
    if (!IsSimpleName(*out)) {
      problems_.Add(f.line, fmt::format("{} name '{}' may only hold letters, digits, '-', '_' and '.'", what, *out));
      return false;
    }
    return true;
  }

  bool Bool(const Field& f, bool* out) {
    if (f.value.IsScalar() && (f.value.Scalar() == "true" || f.value.Scalar() == "false")) {
      *out = f.value.Scalar() == "true";
      return true;
    }
    problems_.Add(f.line, fmt::format("'{}' must be true or false, got {}", f.key, Describe(f.value)));
    return false;
  }

  bool Int(const Field& f, int64_t lo, int64_t hi, int64_t* out) {
    return IntNode(f.value, f.line, f.key, lo, hi, out);
  }

  bool IntNode(const YAML::Node& node, int line, std::string_view key, int64_t lo, int64_t hi, int64_t* out) {
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size()) {
        if (v < lo || v > hi) {
          problems_.Add(line, fmt::format("'{}' must be between {} and {}, got {}", key, lo, hi, v));
          return false;
        }
        *out = v;
        return true;
      }
    }
    problems_.Add(line, fmt::format("'{}' must be a whole number, got {}", key, Describe(node)));
    return false;
  }

  bool Double(const YAML::Node& node, int line, std::string_view key, double* out) {
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      double v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size() && std::isfinite(v)) {
        *out = v;
        return true;
      }
    }
    problems_.Add(line, fmt::format("'{}' must be a number, got {}", key, Describe(node)));
    return false;
  }

  // A probability or rate: a number in [0, 1].
  bool Fraction(const YAML::Node& node, int line, std::string_view key, double* out) {
    double v = 0;
    if (!Double(node, line, key, &v)) return false;
    if (v < 0 || v > 1) {
      problems_.Add(line, fmt::format("'{}' must be between 0 and 1, got {}", key, node.Scalar()));
      return false;
    }
    *out = v;
    return true;
  }

  // A number greater than zero: weights, shares, multipliers.
  bool Positive(const YAML::Node& node, int line, std::string_view key, double* out) {
    double v = 0;
    if (!Double(node, line, key, &v)) return false;
    if (v <= 0) {
      problems_.Add(line, fmt::format("'{}' must be greater than 0, got {}", key, node.Scalar()));
      return false;
    }
    *out = v;
    return true;
  }

  // "5ms", "1.5s", "250us", "800ns": a non-negative duration with its unit, in nanoseconds.
  bool Duration(const Field& f, uint64_t* out) {
    if (f.value.IsScalar()) {
      std::string_view s = f.value.Scalar();
      double v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      std::string_view unit = ec == std::errc() ? s.substr(static_cast<std::size_t>(end - s.data())) : "";
      while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
      double scale = 0;
      if (unit == "ns") scale = 1;
      if (unit == "us" || unit == "\u00b5s") scale = 1e3;
      if (unit == "ms") scale = 1e6;
      if (unit == "s") scale = 1e9;
      if (ec == std::errc() && std::isfinite(v) && v >= 0 && scale > 0) {
        double ns = v * scale;
        if (ns > static_cast<double>(kMaxLatencyNs)) {
          problems_.Add(f.line, fmt::format("'{}' of '{}' is more than an hour", f.key, s));
          return false;
        }
        *out = static_cast<uint64_t>(std::llround(ns));
        return true;
      }
      if (ec == std::errc() && scale == 0) {
        problems_.Add(f.line, unit.empty() ? fmt::format("'{}' needs a unit (ns, us, ms or s), as in 5ms; got '{}'",
                                                         f.key, s)
                                           : fmt::format("'{}' has an unknown unit '{}' in '{}': use ns, us, ms or s",
                                                         f.key, unit, s));
        return false;
      }
    }
    problems_.Add(f.line, fmt::format("'{}' must be a duration such as 5ms, 1.5s, 250us or 800ns, got {}", f.key,
                                      Describe(f.value)));
    return false;
  }

  // One of `choices`, with a suggestion when it is a near miss.
  bool Choice(const Field& f, std::span<const std::string_view> choices, std::size_t* out) {
    std::string s;
    if (!String(f, &s)) return false;
    for (std::size_t i = 0; i < choices.size(); ++i) {
      if (choices[i] == s) {
        *out = i;
        return true;
      }
    }
    problems_.Add(f.line, fmt::format("'{}' must be one of {}, got '{}'{}", f.key, Join(choices), s,
                                      DidYouMean(s, choices)));
    return false;
  }

  bool List(const Field& f) {
    if (f.value.IsSequence()) return true;
    problems_.Add(f.line, fmt::format("'{}' must be a list, got {}", f.key, Describe(f.value)));
    return false;
  }

 private:
  Problems& problems_;
  int visited_ = 0;
};

// A reference to an operation, resolved once every operation is known.
struct PendingRef {
  std::string text;
  int line = 0;
  int* target = nullptr;
};

// What the parser keeps about an operation beyond the model: where its calls are, for messages.
struct OperationSource {
  int line = 0;
  std::vector<int> call_lines;
  std::string consumer_destination_hint;  // empty: take the destination of the queue that calls it
};

class PatternParser {
 public:
  PatternParser(std::string_view source, Problems& problems) : source_(source), problems_(problems), r_(problems) {}

  void Parse(const YAML::Node& root) {
    if (!root.IsMap()) {
      problems_.Add(LineOf(root, 1), fmt::format("a pattern file is a mapping with the keys {}; got {}",
                                                 Join(kTopKeys), Reader::Describe(root)));
      return;
    }
    bool has_services = false;
    bool has_entry_points = false;
    for (const Field& f : r_.Fields(root, 1, "the pattern", kTopKeys)) {
      if (f.key == "name") {
        r_.SimpleName(f, "pattern", &pattern_.name);
      } else if (f.key == "description") {
        r_.String(f, &pattern_.description);
      } else if (f.key == "metrics_interval") {
        uint64_t ns = 0;
        if (r_.Duration(f, &ns)) {
          if (ns < kNanosPerSecond) {
            problems_.Add(f.line, fmt::format("'metrics_interval' must be at least 1s, got {}", f.value.Scalar()));
          } else {
            pattern_.metrics_interval_ns = ns;
          }
        }
      } else if (f.key == "services") {
        has_services = true;
        ParseServices(f);
      } else if (f.key == "entry_points") {
        has_entry_points = true;
        ParseEntryPoints(f);
      } else if (f.key == "phases") {
        ParsePhases(f);
      } else if (f.key == "error_candidates") {
        ParseErrorCandidates(f);
      }
    }
    if (!has_services) problems_.Add(1, "the pattern has no 'services': list the services of the system");
    if (!has_entry_points) {
      problems_.Add(1, "the pattern has no 'entry_points': list the operations where traces start");
    }
    if (r_.exhausted()) return;
    ResolveReferences();
    CheckCalls();
    CheckGraph();
  }

  Pattern Take() { return std::move(pattern_); }

 private:
  void ParseServices(const Field& f) {
    if (!r_.List(f)) return;
    if (f.value.size() == 0) problems_.Add(f.line, "'services' is empty: list the services of the system");
    for (const YAML::Node& item : f.value) {
      int line = LineOf(item, f.line);
      if (!r_.Visit(line)) return;
      ParseService(item, line);
    }
  }

  void ParseService(const YAML::Node& node, int line) {
    Service service;
    std::vector<Field> fields = r_.Fields(node, line, "service", kServiceKeys);
    const Field* operations = nullptr;
    bool system_given = false;
    bool language_given = false;
    bool named = false;
    for (const Field& f : fields) {
      if (f.key == "name") {
        named = r_.SimpleName(f, "service", &service.name);
      } else if (f.key == "kind") {
        std::size_t i = 0;
        if (r_.Choice(f, kKindNames, &i)) service.kind = static_cast<ServiceKind>(i);
      } else if (f.key == "version") {
        r_.String(f, &service.version);
      } else if (f.key == "language") {
        std::size_t i = 0;
        if (r_.Choice(f, kLanguages, &i)) service.language = std::string(kLanguages[i]);
        language_given = true;
      } else if (f.key == "system") {
        system_given = r_.SimpleName(f, "system", &service.system);
      } else if (f.key == "instances") {
        int64_t n = 0;
        if (r_.Int(f, 1, kMaxInstances, &n)) service.instances = static_cast<int>(n);
      } else if (f.key == "namespace") {
        r_.String(f, &service.namespace_name);
      } else if (f.key == "operations") {
        operations = &f;
      }
    }
    if (!node.IsMap()) return;
    if (!named) {
      if (std::none_of(fields.begin(), fields.end(), [](const Field& f) { return f.key == "name"; })) {
        problems_.Add(line, "a service needs a 'name'");
      }
      return;
    }
    if (auto it = service_lines_.find(service.name); it != service_lines_.end()) {
      problems_.Add(line, fmt::format("duplicate service '{}' (first defined on line {})", service.name, it->second));
      return;
    }
    service_lines_.emplace(service.name, line);
    if (!system_given) {
      switch (service.kind) {
        case ServiceKind::kDatabase:
          service.system = "postgresql";
          break;
        case ServiceKind::kCache:
          service.system = "redis";
          break;
        case ServiceKind::kQueue:
          service.system = "kafka";
          break;
        case ServiceKind::kApplication:
          break;
      }
    }
    if (service.kind != ServiceKind::kApplication && language_given) {
      problems_.Add(line, fmt::format("service '{}' is a {}: 'language' is only for applications (their SDK)",
                                      service.name, ServiceKindName(service.kind)));
    }
    if (service.kind == ServiceKind::kApplication && system_given) {
      problems_.Add(line, fmt::format("service '{}' is an application: 'system' is only for databases, caches and "
                                      "queues (postgresql, redis, kafka...)",
                                      service.name));
    }
    int index = static_cast<int>(pattern_.services.size());
    pattern_.services.push_back(std::move(service));
    if (operations == nullptr) {
      problems_.Add(line, fmt::format("service '{}' has no 'operations'", pattern_.services[index].name));
      return;
    }
    if (!r_.List(*operations)) return;
    if (operations->value.size() == 0) {
      problems_.Add(operations->line, fmt::format("service '{}' has no operations", pattern_.services[index].name));
    }
    for (const YAML::Node& item : operations->value) {
      int op_line = LineOf(item, operations->line);
      if (!r_.Visit(op_line)) return;
      ParseOperation(item, op_line, index);
    }
  }

  void ParseOperation(const YAML::Node& node, int line, int service_index) {
    const Service& service = pattern_.services[service_index];
    Operation op;
    op.service = service_index;
    OperationSource src;
    src.line = line;
    std::vector<Field> fields = r_.Fields(node, line, "operation", kOperationKeys);
    if (!node.IsMap()) return;
    auto field = [&](std::string_view key) -> const Field* {
      for (const Field& f : fields) {
        if (f.key == key) return &f;
      }
      return nullptr;
    };
    const Field* name = field("name");
    if (name == nullptr) {
      problems_.Add(line, fmt::format("an operation of service '{}' needs a 'name'", service.name));
      return;
    }
    if (!r_.String(*name, &op.name)) return;
    if (op.name.empty() || op.name.front() == ' ' || op.name.back() == ' ' ||
        op.name.find('\n') != std::string::npos) {
      problems_.Add(name->line, fmt::format("operation name '{}' must be non-empty, on one line, without spaces "
                                            "at either end",
                                            op.name));
      return;
    }
    std::string reference = fmt::format("{} {}", service.name, op.name);
    if (auto it = operation_lines_.find(reference); it != operation_lines_.end()) {
      problems_.Add(line, fmt::format("duplicate operation '{}' (first defined on line {})", reference, it->second));
      return;
    }

    // The protocol, which decides which block of names applies.
    switch (service.kind) {
      case ServiceKind::kApplication:
        op.protocol = Protocol::kHttp;
        break;
      case ServiceKind::kDatabase:
        op.protocol = Protocol::kDatabase;
        break;
      case ServiceKind::kCache:
        op.protocol = Protocol::kCache;
        break;
      case ServiceKind::kQueue:
        op.protocol = Protocol::kMessaging;
        break;
    }
    if (const Field* f = field("protocol")) {
      std::size_t i = 0;
      if (r_.Choice(*f, kProtocolNames, &i)) {
        op.protocol = static_cast<Protocol>(i);
        CheckProtocolFitsKind(op.protocol, service, f->line);
      }
    }
    std::string_view block_for_protocol;
    switch (op.protocol) {
      case Protocol::kHttp:
        block_for_protocol = "http";
        break;
      case Protocol::kGrpc:
        block_for_protocol = "grpc";
        break;
      case Protocol::kDatabase:
      case Protocol::kCache:
        block_for_protocol = "db";
        break;
      case Protocol::kMessaging:
        block_for_protocol = "messaging";
        break;
      case Protocol::kInternal:
        break;
    }
    for (std::string_view block : {"http", "grpc", "db", "messaging"}) {
      const Field* f = field(block);
      if (f != nullptr && block != block_for_protocol) {
        problems_.Add(f->key_line, fmt::format("operation '{}' has protocol {}: '{}' does not apply{}", reference,
                                               ProtocolName(op.protocol), block,
                                               block_for_protocol.empty()
                                                   ? std::string()
                                                   : fmt::format(" (its names go under '{}')", block_for_protocol)));
      }
    }
    ParseProtocolNames(op, reference, field(block_for_protocol), service, line, &src);

    op.latency = {.median_ns = 1'000'000, .p99_ns = 3'000'000};
    if (const Field* f = field("latency")) ParseLatency(*f, reference, &op.latency);
    op.error.type = "Error";
    op.error.message = fmt::format("{} failed", op.name);
    if (const Field* f = field("error")) ParseError(*f, &op.error);
    if (const Field* f = field("error_rate")) r_.Fraction(f->value, f->line, "error_rate", &op.base_error_rate);

    int index = static_cast<int>(pattern_.operations.size());
    if (const Field* f = field("calls")) ParseCalls(*f, index, &op, &src);
    operation_lines_.emplace(reference, line);
    operation_refs_.push_back(reference);
    pattern_.operations.push_back(std::move(op));
    sources_.push_back(std::move(src));
  }

  void CheckProtocolFitsKind(Protocol protocol, const Service& service, int line) {
    bool fits = false;
    std::string_view allowed;
    switch (service.kind) {
      case ServiceKind::kApplication:
        fits = protocol == Protocol::kHttp || protocol == Protocol::kGrpc || protocol == Protocol::kInternal ||
               protocol == Protocol::kMessaging;
        allowed = "http, grpc, internal or messaging (a consumer)";
        break;
      case ServiceKind::kDatabase:
        fits = protocol == Protocol::kDatabase;
        allowed = "database";
        break;
      case ServiceKind::kCache:
        fits = protocol == Protocol::kCache;
        allowed = "cache";
        break;
      case ServiceKind::kQueue:
        fits = protocol == Protocol::kMessaging;
        allowed = "messaging";
        break;
    }
    if (!fits) {
      problems_.Add(line, fmt::format("protocol {} does not fit service '{}', a {}: use {}", ProtocolName(protocol),
                                      service.name, ServiceKindName(service.kind), allowed));
    }
  }

  void ParseProtocolNames(Operation& op, std::string_view reference, const Field* block, const Service& service,
                          int line, OperationSource* src) {
    std::vector<Field> fields;
    int block_line = line;
    if (block != nullptr) {
      block_line = block->line;
      switch (op.protocol) {
        case Protocol::kHttp:
          fields = r_.Fields(block->value, block_line, "http", kHttpKeys);
          break;
        case Protocol::kGrpc:
          fields = r_.Fields(block->value, block_line, "grpc", kGrpcKeys);
          break;
        case Protocol::kDatabase:
        case Protocol::kCache:
          fields = r_.Fields(block->value, block_line, "db", kDbKeys);
          break;
        case Protocol::kMessaging:
          fields = r_.Fields(block->value, block_line, "messaging", kMessagingKeys);
          break;
        case Protocol::kInternal:
          break;
      }
    }
    auto get = [&](std::string_view key, std::string* out) {
      for (const Field& f : fields) {
        if (f.key == key) return r_.String(f, out);
      }
      return false;
    };
    auto first_word = [](std::string_view s) { return std::string(s.substr(0, s.find(' '))); };
    switch (op.protocol) {
      case Protocol::kHttp: {
        bool has_method = get("method", &op.method);
        bool has_route = get("route", &op.route);
        // "GET /api/cart" names its method and route.
        std::size_t space = op.name.find(' ');
        std::string name_method = space == std::string::npos ? "" : op.name.substr(0, space);
        std::string name_route = space == std::string::npos ? "" : op.name.substr(space + 1);
        bool name_is_http = std::find(std::begin(kHttpMethods), std::end(kHttpMethods), name_method) !=
                                std::end(kHttpMethods) &&
                            !name_route.empty() && name_route.front() == '/';
        if (!has_method) op.method = name_is_http ? name_method : "GET";
        if (!has_route) {
          if (!name_is_http) {
            problems_.Add(block_line, fmt::format("http operation '{}' needs a route: name it like 'GET /api/cart' or "
                                                  "give http: {{method: GET, route: /api/cart}}",
                                                  reference));
            return;
          }
          op.route = name_route;
        }
        if (std::find(std::begin(kHttpMethods), std::end(kHttpMethods), op.method) == std::end(kHttpMethods)) {
          problems_.Add(block_line, fmt::format("http method '{}' of '{}' must be one of {}{}", op.method, reference,
                                                Join(kHttpMethods), DidYouMean(op.method, kHttpMethods)));
        }
        if (op.route.empty() || op.route.front() != '/') {
          problems_.Add(block_line, fmt::format("http route '{}' of '{}' must start with '/'", op.route, reference));
        }
        break;
      }
      case Protocol::kGrpc:
        if (!get("service", &op.method)) {
          problems_.Add(block_line, fmt::format("grpc operation '{}' needs grpc: {{service: ...}}, the fully "
                                                "qualified gRPC service (e.g. oteldemo.CartService)",
                                                reference));
        }
        if (!get("method", &op.route)) op.route = op.name;
        break;
      case Protocol::kDatabase:
      case Protocol::kCache:
        if (!get("operation", &op.method)) op.method = first_word(op.name);
        get("collection", &op.collection);
        get("query", &op.query);
        break;
      case Protocol::kMessaging:
        get("destination", &op.route);
        if (service.kind == ServiceKind::kQueue) {
          op.method = "publish";
          if (op.route.empty()) op.route = op.name;
        } else {
          op.method = "process";
          src->consumer_destination_hint = op.route;
        }
        break;
      case Protocol::kInternal:
        break;
    }
  }

  void ParseLatency(const Field& f, std::string_view reference, Latency* latency) {
    std::vector<Field> fields = r_.Fields(f.value, f.line, "latency", kLatencyKeys);
    if (!f.value.IsMap()) return;
    bool has_median = false;
    bool has_p99 = false;
    bool ok = true;
    Latency l;
    for (const Field& g : fields) {
      if (g.key == "median") {
        has_median = true;
        ok = r_.Duration(g, &l.median_ns) && ok;
      } else {
        has_p99 = true;
        ok = r_.Duration(g, &l.p99_ns) && ok;
      }
    }
    if (!has_median) {
      problems_.Add(f.line,
                    fmt::format("latency of '{}' needs a 'median' (e.g. {{median: 5ms, p99: 40ms}})", reference));
      return;
    }
    if (!ok) return;
    if (l.median_ns == 0) {
      problems_.Add(f.line, fmt::format("latency median of '{}' must be more than 0", reference));
      return;
    }
    if (!has_p99) l.p99_ns = 3 * l.median_ns;
    if (l.p99_ns < l.median_ns) {
      problems_.Add(f.line, fmt::format("latency p99 ({}) of '{}' is below its median ({})", FormatDuration(l.p99_ns),
                                        reference, FormatDuration(l.median_ns)));
      return;
    }
    *latency = l;
  }

  void ParseError(const Field& f, ErrorSpec* error) {
    for (const Field& g : r_.Fields(f.value, f.line, "error", kErrorKeys)) {
      int64_t n = 0;
      if (g.key == "type") {
        r_.String(g, &error->type);
      } else if (g.key == "message") {
        r_.String(g, &error->message);
      } else if (g.key == "http_status") {
        if (r_.Int(g, 400, 599, &n)) error->http_status = static_cast<int>(n);
      } else if (g.key == "grpc_status") {
        if (r_.Int(g, 1, 16, &n)) error->grpc_status = static_cast<int>(n);
      }
    }
  }

  void ParseCalls(const Field& f, int from, Operation* op, OperationSource* src) {
    if (!r_.List(f)) return;
    op->calls.reserve(f.value.size());
    for (const YAML::Node& item : f.value) {
      int line = LineOf(item, f.line);
      if (!r_.Visit(line)) return;
      Call call;
      std::string to;
      if (item.IsScalar()) {
        to = item.Scalar();
      } else {
        bool has_to = false;
        for (const Field& g : r_.Fields(item, line, "call", kCallKeys)) {
          if (g.key == "to") {
            has_to = r_.String(g, &to);
          } else if (g.key == "probability") {
            r_.Fraction(g.value, g.line, "probability", &call.probability);
          } else if (g.key == "repeat") {
            ParseRepeat(g, &call);
          } else if (g.key == "parallel") {
            r_.Bool(g, &call.parallel);
          }
        }
        if (!item.IsMap()) continue;
        if (!has_to) {
          problems_.Add(line, "a call needs 'to': the operation it calls, as \"service operation\"");
          continue;
        }
      }
      op->calls.push_back(call);
      src->call_lines.push_back(line);
      pending_calls_.push_back({.from = from, .call = op->calls.size() - 1, .ref = {to, line, nullptr}});
    }
  }

  void ParseRepeat(const Field& f, Call* call) {
    int64_t lo = 0;
    int64_t hi = 0;
    if (f.value.IsSequence()) {
      if (f.value.size() != 2) {
        problems_.Add(f.line, fmt::format("'repeat' must be a count or [min, max], got a list of {}", f.value.size()));
        return;
      }
      // A range may start at 0: "[0, 4]" is up to four times, maybe not at all.
      if (!r_.IntNode(f.value[0], f.line, "repeat", 0, kMaxRepeat, &lo) ||
          !r_.IntNode(f.value[1], f.line, "repeat", 1, kMaxRepeat, &hi)) {
        return;
      }
      if (lo > hi) {
        problems_.Add(f.line, fmt::format("'repeat' [{}, {}] has its minimum above its maximum", lo, hi));
        return;
      }
    } else {
      if (!r_.Int(f, 1, kMaxRepeat, &lo)) return;
      hi = lo;
    }
    call->min_repeat = static_cast<int>(lo);
    call->max_repeat = static_cast<int>(hi);
  }

  void ParseEntryPoints(const Field& f) {
    if (!r_.List(f)) return;
    if (f.value.size() == 0) {
      problems_.Add(f.line, "'entry_points' is empty: list the operations where traces start");
      return;
    }
    for (const YAML::Node& item : f.value) {
      int line = LineOf(item, f.line);
      if (!r_.Visit(line)) return;
      EntryPoint entry;
      std::string ref;
      if (item.IsScalar()) {
        ref = item.Scalar();
      } else {
        bool has_operation = false;
        for (const Field& g : r_.Fields(item, line, "entry point", kEntryKeys)) {
          if (g.key == "operation") {
            has_operation = r_.String(g, &ref);
          } else {
            r_.Positive(g.value, g.line, "weight", &entry.weight);
          }
        }
        if (!item.IsMap()) continue;
        if (!has_operation) {
          problems_.Add(line, "an entry point needs 'operation': where traces start, as \"service operation\"");
          continue;
        }
      }
      pattern_.entry_points.push_back(entry);
      entry_lines_.push_back(line);
      entry_refs_.push_back({ref, line, nullptr});
    }
  }

  void ParseErrorCandidates(const Field& f) {
    if (!r_.List(f)) return;
    for (const YAML::Node& item : f.value) {
      int line = LineOf(item, f.line);
      if (!r_.Visit(line)) return;
      if (!item.IsScalar()) {
        problems_.Add(line, fmt::format("'error_candidates' holds operations as \"service operation\", got {}",
                                        Reader::Describe(item)));
        continue;
      }
      pattern_.error_candidates.push_back(-1);
      candidate_refs_.push_back({item.Scalar(), line, nullptr});
    }
  }

  void ParsePhases(const Field& f) {
    if (!r_.List(f)) return;
    std::map<std::string, int, std::less<>> names;
    std::map<std::string, int, std::less<>> keys;
    for (const YAML::Node& item : f.value) {
      int line = LineOf(item, f.line);
      if (!r_.Visit(line)) return;
      Phase phase;
      PhaseRefs refs;
      bool named = false;
      bool has_key = false;
      int key_line = line;
      for (const Field& g : r_.Fields(item, line, "phase", kPhaseKeys)) {
        if (g.key == "name") {
          named = r_.SimpleName(g, "phase", &phase.name);
        } else if (g.key == "share") {
          r_.Positive(g.value, g.line, "share", &phase.share);
        } else if (g.key == "flags") {
          if (!r_.List(g)) continue;
          for (const YAML::Node& flag : g.value) {
            int flag_line = LineOf(flag, g.line);
            if (!flag.IsScalar() || !IsSimpleName(flag.Scalar())) {
              problems_.Add(flag_line, fmt::format("a feature flag is a name of letters, digits, '-', '_' and '.', "
                                                   "got {}",
                                                   Reader::Describe(flag)));
              continue;
            }
            phase.flags.push_back(flag.Scalar());
          }
        } else if (g.key == "annotation_key") {
          has_key = r_.String(g, &phase.annotation_key);
          key_line = g.line;
          if (has_key && phase.annotation_key.empty()) {
            problems_.Add(g.line, "'annotation_key' must not be empty");
          } else if (absl::StatusOr<std::string> type = annotate::TypeOfKey(phase.annotation_key);
                     has_key && !type.ok()) {
            problems_.Add(g.line, std::string(type.status().message()));
          }
        } else if (g.key == "error_rates") {
          ParseOverrides(g, /*rates=*/true, &phase.error_rates, &refs.error_rates);
        } else if (g.key == "latency") {
          ParseOverrides(g, /*rates=*/false, &phase.latency_multipliers, &refs.latency);
        } else if (g.key == "overrides_error_rate") {
          r_.Bool(g, &phase.overrides_error_rate);
        }
      }
      if (!item.IsMap()) continue;
      if (!named) {
        if (phase.name.empty()) problems_.Add(line, "a phase needs a 'name'");
        continue;
      }
      if (auto it = names.find(phase.name); it != names.end()) {
        problems_.Add(line, fmt::format("duplicate phase '{}' (first defined on line {})", phase.name, it->second));
        continue;
      }
      names.emplace(phase.name, line);
      if (!has_key) phase.annotation_key = fmt::format("test.phase.{}", phase.name);
      if (auto it = keys.find(phase.annotation_key); it != keys.end()) {
        problems_.Add(key_line, fmt::format("phase '{}' has the annotation key '{}' of the phase on line {}",
                                            phase.name, phase.annotation_key, it->second));
      }
      keys.emplace(phase.annotation_key, line);
      pattern_.phases.push_back(std::move(phase));
      phase_refs_.push_back(std::move(refs));
    }
  }

  struct PhaseRefs {
    std::vector<std::pair<std::string, int>> error_rates;  // reference, line
    std::vector<std::pair<std::string, int>> latency;
  };

  // {"payment Charge": 0.75}: rates in [0, 1] or multipliers > 0, keyed by operation reference.
  void ParseOverrides(const Field& f, bool rates, std::vector<std::pair<int, double>>* out,
                      std::vector<std::pair<std::string, int>>* refs) {
    if (!f.value.IsMap()) {
      problems_.Add(f.line, fmt::format("'{}' must be a mapping of \"service operation\" to {}, got {}", f.key,
                                        rates ? "an error rate (0..1)" : "a latency multiplier (e.g. 3)",
                                        Reader::Describe(f.value)));
      return;
    }
    std::map<std::string, int, std::less<>> seen;
    for (const auto& kv : f.value) {
      int line = LineOf(kv.first, f.line);
      if (!r_.Visit(line)) return;
      if (!kv.first.IsScalar()) {
        problems_.Add(line, fmt::format("keys of '{}' are operations as \"service operation\"", f.key));
        continue;
      }
      const std::string& ref = kv.first.Scalar();
      if (auto it = seen.find(ref); it != seen.end()) {
        problems_.Add(line, fmt::format("'{}' names '{}' twice (first on line {})", f.key, ref, it->second));
        continue;
      }
      seen.emplace(ref, line);
      double v = 0;
      bool ok = rates ? r_.Fraction(kv.second, line, fmt::format("{}: {}", f.key, ref), &v)
                      : r_.Positive(kv.second, line, fmt::format("{}: {}", f.key, ref), &v);
      if (!ok) continue;
      out->push_back({-1, v});
      refs->push_back({ref, line});
    }
  }

  int Lookup(const std::string& ref, int line) {
    if (auto it = operation_index_.find(ref); it != operation_index_.end()) return it->second;
    std::string hint = DidYouMean(ref, operation_refs_);
    if (hint.empty()) {
      std::string service = ref.substr(0, ref.find(' '));
      if (service_lines_.find(service) == service_lines_.end()) {
        problems_.Add(line, fmt::format("no operation named '{}': operations are written \"service operation\" and "
                                        "there is no service '{}'{}",
                                        ref, service, DidYouMean(service, ServiceNames())));
        return -1;
      }
    }
    if (hint.empty()) {
      // The service exists: say what it offers.
      std::string service = ref.substr(0, ref.find(' '));
      std::string offered;
      for (std::size_t i = 0; i < operation_refs_.size(); ++i) {
        if (pattern_.services[static_cast<std::size_t>(pattern_.operations[i].service)].name != service) continue;
        offered += fmt::format("{}'{}'", offered.empty() ? "" : ", ", operation_refs_[i]);
      }
      if (!offered.empty()) hint = fmt::format("; service '{}' has {}", service, offered);
    }
    problems_.Add(line, fmt::format("no operation named '{}'{}", ref, hint));
    return -1;
  }

  std::vector<std::string> ServiceNames() const {
    std::vector<std::string> names;
    for (const Service& s : pattern_.services) names.push_back(s.name);
    return names;
  }

  void ResolveReferences() {
    for (std::size_t i = 0; i < operation_refs_.size(); ++i) {
      operation_index_.emplace(operation_refs_[i], static_cast<int>(i));
    }
    for (PendingCall& p : pending_calls_) {
      pattern_.operations[static_cast<std::size_t>(p.from)].calls[p.call].operation = Lookup(p.ref.text, p.ref.line);
    }
    for (std::size_t i = 0; i < entry_refs_.size(); ++i) {
      int op = Lookup(entry_refs_[i].text, entry_refs_[i].line);
      pattern_.entry_points[i].operation = op;
      if (op >= 0 && Kind(op) != ServiceKind::kApplication) {
        problems_.Add(entry_refs_[i].line,
                      fmt::format("entry point '{}' is an operation of a {}: traces start in an application",
                                  entry_refs_[i].text, ServiceKindName(Kind(op))));
      }
    }
    std::vector<int> seen_entries;
    for (std::size_t i = 0; i < pattern_.entry_points.size(); ++i) {
      int op = pattern_.entry_points[i].operation;
      if (op < 0) continue;
      if (std::find(seen_entries.begin(), seen_entries.end(), op) != seen_entries.end()) {
        problems_.Add(entry_refs_[i].line, fmt::format("entry point '{}' is listed twice", entry_refs_[i].text));
      }
      seen_entries.push_back(op);
    }
    for (std::size_t i = 0; i < candidate_refs_.size(); ++i) {
      pattern_.error_candidates[i] = Lookup(candidate_refs_[i].text, candidate_refs_[i].line);
    }
    for (std::size_t p = 0; p < pattern_.phases.size(); ++p) {
      Phase& phase = pattern_.phases[p];
      for (std::size_t i = 0; i < phase.error_rates.size(); ++i) {
        const auto& [ref, line] = phase_refs_[p].error_rates[i];
        phase.error_rates[i].first = Lookup(ref, line);
      }
      for (std::size_t i = 0; i < phase.latency_multipliers.size(); ++i) {
        const auto& [ref, line] = phase_refs_[p].latency[i];
        phase.latency_multipliers[i].first = Lookup(ref, line);
      }
    }
  }

  ServiceKind Kind(int op) const {
    return pattern_.services[static_cast<std::size_t>(pattern_.operations[static_cast<std::size_t>(op)].service)]
        .kind;
  }
  bool IsConsumer(int op) const {
    return Kind(op) == ServiceKind::kApplication &&
           pattern_.operations[static_cast<std::size_t>(op)].protocol == Protocol::kMessaging;
  }

  // Who may call whom: databases and caches call nothing, a queue delivers only to consumers, consumers
  // are reached only through a queue, internal operations only from their own service.
  void CheckCalls() {
    std::vector<bool> has_queue_caller(pattern_.operations.size());
    for (std::size_t from = 0; from < pattern_.operations.size(); ++from) {
      const Operation& op = pattern_.operations[from];
      int f = static_cast<int>(from);
      for (std::size_t c = 0; c < op.calls.size(); ++c) {
        int to = op.calls[c].operation;
        int line = sources_[from].call_lines[c];
        if (Kind(f) == ServiceKind::kDatabase || Kind(f) == ServiceKind::kCache) {
          problems_.Add(line, fmt::format("'{}' belongs to a {}, which is not instrumented and makes no calls",
                                          operation_refs_[from], ServiceKindName(Kind(f))));
          break;
        }
        if (to < 0) continue;
        const Operation& callee = pattern_.operations[static_cast<std::size_t>(to)];
        if (Kind(f) == ServiceKind::kQueue && !IsConsumer(to)) {
          problems_.Add(line, fmt::format("queue topic '{}' can only deliver to consumers (application operations "
                                          "with protocol messaging), not to '{}'",
                                          operation_refs_[from], operation_refs_[static_cast<std::size_t>(to)]));
        } else if (Kind(f) != ServiceKind::kQueue && IsConsumer(to)) {
          problems_.Add(line, fmt::format("'{}' is a consumer, reached through its queue: call the queue's topic "
                                          "instead",
                                          operation_refs_[static_cast<std::size_t>(to)]));
        } else if (callee.protocol == Protocol::kInternal && callee.service != op.service) {
          problems_.Add(line, fmt::format("'{}' is internal to service '{}' and cannot be called from '{}'",
                                          operation_refs_[static_cast<std::size_t>(to)],
                                          pattern_.services[static_cast<std::size_t>(callee.service)].name,
                                          operation_refs_[from]));
        }
        if (Kind(f) == ServiceKind::kQueue && IsConsumer(to)) {
          Operation& consumer = pattern_.operations[static_cast<std::size_t>(to)];
          if (!has_queue_caller[static_cast<std::size_t>(to)] &&
              sources_[static_cast<std::size_t>(to)].consumer_destination_hint.empty()) {
            consumer.route = op.route;  // a consumer takes the destination of the topic it reads
          }
          has_queue_caller[static_cast<std::size_t>(to)] = true;
        }
      }
    }
    for (std::size_t i = 0; i < pattern_.operations.size(); ++i) {
      if (IsConsumer(static_cast<int>(i)) && pattern_.operations[i].route.empty()) {
        problems_.Add(sources_[i].line, fmt::format("consumer '{}' reads no topic: give messaging: {{destination: "
                                                    "...}} or call it from a queue operation",
                                                    operation_refs_[i]));
      }
    }
  }

  // Cycles, depth and size of the call graph, once every reference resolved.
  void CheckGraph() {
    const std::size_t n = pattern_.operations.size();
    // Iterative depth-first search: colours 0 unvisited, 1 on the stack, 2 done.
    std::vector<int> colour(n, 0);
    std::vector<int> depth(n, 1);
    std::vector<uint64_t> spans(n, 1);
    bool cyclic = false;
    for (std::size_t root = 0; root < n && !cyclic; ++root) {
      if (colour[root] != 0) continue;
      std::vector<std::pair<int, std::size_t>> stack = {{static_cast<int>(root), 0}};
      colour[root] = 1;
      while (!stack.empty() && !cyclic) {
        auto& [op, next] = stack.back();
        const Operation& o = pattern_.operations[static_cast<std::size_t>(op)];
        if (next < o.calls.size()) {
          int to = o.calls[next].operation;
          ++next;
          if (to < 0) continue;  // unresolved: reported already
          if (colour[static_cast<std::size_t>(to)] == 1) {
            ReportCycle(stack, to);
            cyclic = true;
          } else if (colour[static_cast<std::size_t>(to)] == 0) {
            colour[static_cast<std::size_t>(to)] = 1;
            stack.push_back({to, 0});
          }
          continue;
        }
        // All callees done: this operation's depth and worst-case span count.
        int d = 1;
        uint64_t s = 1;
        for (const Call& call : o.calls) {
          if (call.operation < 0) continue;
          std::size_t to = static_cast<std::size_t>(call.operation);
          d = std::max(d, depth[to] + 1);
          s += static_cast<uint64_t>(call.max_repeat) * (1 + spans[to]);
          s = std::min<uint64_t>(s, kMaxSpansPerTrace + 1);  // saturate: enough to report
        }
        depth[static_cast<std::size_t>(op)] = d;
        spans[static_cast<std::size_t>(op)] = s;
        colour[static_cast<std::size_t>(op)] = 2;
        stack.pop_back();
      }
    }
    if (cyclic) return;
    for (std::size_t i = 0; i < pattern_.entry_points.size(); ++i) {
      if (pattern_.entry_points[i].operation < 0) continue;
      std::size_t op = static_cast<std::size_t>(pattern_.entry_points[i].operation);
      if (depth[op] > kMaxCallDepth) {
        problems_.Add(entry_lines_[i],
                      fmt::format("calls from entry point '{}' nest {} deep (the limit is {}): {}", operation_refs_[op],
                                  depth[op], kMaxCallDepth, DeepestChain(op, depth)));
      }
      if (spans[op] > kMaxSpansPerTrace) {
        problems_.Add(entry_lines_[i], fmt::format("a trace starting at '{}' can have more than {} spans when every "
                                                   "call repeats its maximum: lower 'repeat' or the fan-out",
                                                   operation_refs_[op], kMaxSpansPerTrace));
      }
      pattern_.max_call_depth = std::max(pattern_.max_call_depth, depth[op]);
      pattern_.max_spans_per_trace = std::max(pattern_.max_spans_per_trace, spans[op]);
    }
  }

  void ReportCycle(const std::vector<std::pair<int, std::size_t>>& stack, int to) {
    std::size_t start = 0;
    while (stack[start].first != to) ++start;
    std::string chain;
    for (std::size_t i = start; i < stack.size(); ++i) {
      chain += fmt::format("'{}' -> ", operation_refs_[static_cast<std::size_t>(stack[i].first)]);
    }
    chain += fmt::format("'{}'", operation_refs_[static_cast<std::size_t>(to)]);
    // Reported at the call that closes the cycle.
    const auto& [from, next] = stack.back();
    int line = sources_[static_cast<std::size_t>(from)].call_lines[next - 1];
    problems_.Add(line, fmt::format("call cycle: {}; an operation cannot reach itself", chain));
  }

  std::string DeepestChain(std::size_t op, const std::vector<int>& depth) const {
    std::string chain = operation_refs_[op];
    for (;;) {
      const Operation& o = pattern_.operations[op];
      std::size_t next = op;
      for (const Call& call : o.calls) {
        if (call.operation < 0) continue;
        std::size_t to = static_cast<std::size_t>(call.operation);
        if (depth[to] + 1 == depth[op]) {
          next = to;
          break;
        }
      }
      if (next == op) break;
      op = next;
      chain += fmt::format(" -> {}", operation_refs_[op]);
    }
    return chain;
  }

  struct PendingCall {
    int from = -1;
    std::size_t call = 0;
    PendingRef ref;
  };

  std::string_view source_;
  Problems& problems_;
  Reader r_;
  Pattern pattern_;
  std::map<std::string, int, std::less<>> service_lines_;
  std::map<std::string, int, std::less<>> operation_lines_;
  std::map<std::string, int, std::less<>> operation_index_;
  std::vector<std::string> operation_refs_;  // "service operation" by operation index
  std::vector<OperationSource> sources_;     // by operation index
  std::vector<PendingCall> pending_calls_;
  std::vector<PendingRef> entry_refs_;
  std::vector<int> entry_lines_;
  std::vector<PendingRef> candidate_refs_;
  std::vector<PhaseRefs> phase_refs_;
};

std::string StemOf(std::string_view source) {
  std::size_t slash = source.find_last_of('/');
  std::string_view base = slash == std::string_view::npos ? source : source.substr(slash + 1);
  for (std::string_view ext : {".yaml", ".yml"}) {
    if (base.size() > ext.size() && base.substr(base.size() - ext.size()) == ext) {
      return std::string(base.substr(0, base.size() - ext.size()));
    }
  }
  return std::string(base);
}

}  // namespace

std::string_view ServiceKindName(ServiceKind kind) { return kKindNames[static_cast<std::size_t>(kind)]; }

std::string_view ProtocolName(Protocol protocol) { return kProtocolNames[static_cast<std::size_t>(protocol)]; }

std::string OperationReference(const Pattern& pattern, int operation) {
  if (operation < 0 || static_cast<std::size_t>(operation) >= pattern.operations.size()) return "?";
  const Operation& op = pattern.operations[static_cast<std::size_t>(operation)];
  if (op.service < 0 || static_cast<std::size_t>(op.service) >= pattern.services.size()) return op.name;
  return fmt::format("{} {}", pattern.services[static_cast<std::size_t>(op.service)].name, op.name);
}

absl::StatusOr<Pattern> ParsePattern(std::string_view yaml, std::string_view source) {
  Problems problems(source);
  Pattern pattern;
  // yaml-cpp reports malformed YAML (and too deep nesting) by throwing; nothing thrown leaves this function.
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsDefined() || root.IsNull()) {
      problems.Add(0, "the file is empty: a pattern needs at least 'services' and 'entry_points'");
    } else {
      PatternParser parser(source, problems);
      parser.Parse(root);
      pattern = parser.Take();
    }
  } catch (const YAML::Exception& e) {
    problems.Add(e.mark.is_null() ? 0 : e.mark.line + 1, fmt::format("not valid YAML: {}", e.msg));
  } catch (const std::exception& e) {
    problems.Add(0, fmt::format("cannot read the pattern: {}", e.what()));
  }
  if (!problems.empty()) return absl::InvalidArgumentError(problems.Render());
  if (pattern.name.empty()) pattern.name = StemOf(source);
  return pattern;
}

std::vector<std::string_view> BuiltinPatternNames() {
  return {internal::kBuiltinPatternNames, internal::kBuiltinPatternNames + internal::kBuiltinPatternCount};
}

absl::StatusOr<std::string_view> BuiltinPatternSource(std::string_view name) {
  for (std::size_t i = 0; i < internal::kBuiltinPatternCount; ++i) {
    if (internal::kBuiltinPatternNames[i] == name) return internal::kBuiltinPatternTexts[i];
  }
  std::vector<std::string_view> names = BuiltinPatternNames();
  return absl::NotFoundError(fmt::format("no pattern named '{}'{}; the patterns are {} (or use a pattern file of "
                                         "your own)",
                                         name, DidYouMean(name, names), Join(names)));
}

absl::StatusOr<Pattern> BuiltinPattern(std::string_view name) {
  absl::StatusOr<std::string_view> text = BuiltinPatternSource(name);
  if (!text.ok()) return text.status();
  absl::StatusOr<Pattern> pattern = ParsePattern(*text, fmt::format("patterns/{}.yaml", name));
  // The shipped patterns are checked by the tests; a failure here means a broken build.
  if (!pattern.ok()) return absl::InternalError(pattern.status().message());
  return pattern;
}

double TotalPhaseShare(const Pattern& p) {
  double total = 0;
  for (const Phase& phase : p.phases) total += phase.share;
  return total;
}

void WritePatternJson(const Pattern& p, JsonWriter* out) {
  JsonWriter& w = *out;
  w.BeginObject();
  w.Field("name", p.name);
  w.Field("description", p.description);
  w.Key("services");
  w.BeginArray();
  for (const Service& s : p.services) {
    w.BeginObject();
    w.Field("name", s.name);
    w.Field("kind", ServiceKindName(s.kind));
    w.EndObject();
  }
  w.EndArray();
  w.Field("operations", p.operations.size());
  w.Key("entryPoints");
  w.BeginArray();
  for (const EntryPoint& e : p.entry_points) w.String(OperationReference(p, e.operation));
  w.EndArray();
  w.Key("phases");
  w.BeginArray();
  double total = TotalPhaseShare(p);
  for (const Phase& phase : p.phases) {
    w.BeginObject();
    w.Field("name", phase.name);
    w.Field("share", phase.share);
    w.Field("fraction", phase.share / total);
    w.Field("annotationKey", phase.annotation_key);
    w.Key("flags");
    w.BeginArray();
    for (const std::string& flag : phase.flags) w.String(flag);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Field("maxCallDepth", p.max_call_depth);
  w.Field("maxSpansPerTrace", p.max_spans_per_trace);
  w.EndObject();
}


}  // namespace otelrr::generate
