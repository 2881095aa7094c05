#include "generate/span_encoder.h"

#include <cstring>

#include "common/status.h"
#include "fmt/format.h"
#include "otlp/proto_writer.h"
#include "otlp/wire.h"

namespace otelrr::generate {
namespace {

using otlp::AppendFixed32;
using otlp::AppendFixed64;
using otlp::AppendTag;
using otlp::AppendVarint;
using otlp::BeginLengthDelimited;
using otlp::EndLengthDelimited;
using otlp::VarintSize;
using otlp::WireType;

constexpr int kVariants = 16;
constexpr uint64_t kSeverityInfo = 9;
constexpr uint64_t kSeverityError = 17;

// Span fields.
constexpr uint32_t kSpanName = 5, kSpanKind = 6, kSpanAttributes = 9, kSpanEvents = 11, kSpanStatus = 15;
// LogRecord fields.
constexpr uint32_t kLogSeverityNumber = 2, kLogSeverityText = 3, kLogBody = 5, kLogAttributes = 6;

struct LanguageInfo {
  std::string_view language;
  std::string_view sdk_version;
  std::string_view scope_name;
  std::string_view scope_version;
};

constexpr LanguageInfo kLanguages[] = {
    {"go", "1.32.0", "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "0.57.0"},
    {"java", "1.44.1", "io.opentelemetry.javaagent", "2.10.0"},
    {"python", "1.28.2", "opentelemetry.instrumentation.flask", "0.49b2"},
    {"nodejs", "1.28.0", "@opentelemetry/instrumentation-http", "0.55.0"},
    {"dotnet", "1.10.0", "OpenTelemetry.Instrumentation.AspNetCore", "1.10.1"},
    {"rust", "0.27.1", "opentelemetry-instrumentation-actix-web", "0.14.0"},
    {"ruby", "1.4.1", "OpenTelemetry::Instrumentation::Rack", "0.25.0"},
    {"php", "1.1.2", "io.opentelemetry.contrib.php.laravel", "1.0.0"},
    {"cpp", "1.18.0", "opentelemetry-cpp", "1.18.0"},
};

const LanguageInfo& Language(std::string_view language) {
  for (const LanguageInfo& l : kLanguages) {
    if (l.language == language) return l;
  }
  return kLanguages[0];
}

uint16_t DefaultPort(std::string_view system) {
  if (system == "postgresql") return 5432;
  if (system == "mysql" || system == "mariadb") return 3306;
  if (system == "redis") return 6379;
  if (system == "memcached") return 11211;
  if (system == "mongodb") return 27017;
  if (system == "kafka") return 9092;
  if (system == "rabbitmq") return 5672;
  if (system == "elasticsearch") return 9200;
  return 5432;
}

std::string_view GrpcCodeName(int32_t code) {
  static constexpr std::string_view kNames[] = {
      "OK",        "CANCELLED",          "UNKNOWN",      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",  "UNAVAILABLE",      "DATA_LOSS",         "UNAUTHENTICATED"};
  if (code < 0 || code > 16) return "UNKNOWN";
  return kNames[code];
}

// "/api/cart/{userId}" with its parameters filled in for variant v: "/api/cart/1042".
std::string FillRoute(std::string_view route, int v) {
  std::string out;
  int n = 0;
  for (size_t i = 0; i < route.size(); ++i) {
    if (route[i] == '{') {
      size_t close = route.find('}', i);
      if (close != std::string_view::npos) {
        out += fmt::format("{}", 1000 + v * 37 + n * 7919);
        ++n;
        i = close;
        continue;
      }
    }
    out += route[i];
  }
  return out;
}

std::string CamelCase(std::string_view s) {
  std::string out;
  bool upper = true;
  for (char ch : s) {
    if (ch == ' ' || ch == '-' || ch == '_' || ch == '/' || ch == '.' || ch == '{' || ch == '}') {
      upper = true;
      continue;
    }
    out += upper && ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch;
    upper = false;
  }
  return out.empty() ? "Handler" : out;
}

// A stack trace as the service's language prints it.
std::string StackTrace(const Service& service, const Operation& op, const ErrorSpec& error) {
  std::string fn = CamelCase(op.protocol == Protocol::kHttp ? op.route : op.route.empty() ? op.name : op.route);
  std::string svc = CamelCase(service.name);
  std::string lower = service.name;
  std::string_view lang = service.language;
  if (lang == "java") {
    return fmt::format(
        "{0}: {1}\n\tat com.example.{2}.{3}Service.handle{4}({3}Service.java:118)\n"
        "\tat com.example.{2}.{3}Controller.{5}({3}Controller.java:64)\n"
        "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n",
        error.type, error.message, lower, svc, fn, fn.empty() ? "handle" : fn);
  }
  if (lang == "python") {
    return fmt::format(
        "Traceback (most recent call last):\n  File \"/app/{0}/handlers.py\", line 87, in handle_{1}\n"
        "    result = service.{1}(request)\n  File \"/app/{0}/service.py\", line 142, in {1}\n"
        "    raise {2}(\"{3}\")\n{2}: {3}\n",
        lower, fn, error.type, error.message);
  }
  if (lang == "nodejs") {
    return fmt::format("{0}: {1}\n    at {2} (/usr/src/app/{3}/handlers.js:57:13)\n"
                       "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n",
                       error.type, error.message, fn, lower);
  }
  if (lang == "dotnet") {
    return fmt::format("{0}: {1}\n   at {2}.Services.{2}Service.{3}Async() in /src/{2}/Services/{2}Service.cs:line 73\n"
                       "   at {2}.Controllers.{2}Controller.{3}() in /src/{2}/Controllers/{2}Controller.cs:line 41\n",
                       error.type, error.message, svc, fn);
  }
  if (lang == "ruby") {
    return fmt::format("/app/{0}/lib/{0}/service.rb:54:in `{1}': {2} ({3})\n\tfrom /app/{0}/app.rb:23:in `block in <class:App>'\n",
                       lower, fn, error.message, error.type);
  }
  if (lang == "rust") {
    return fmt::format("{0}: {1}\n   0: {2}::handlers::{3}\n             at ./src/handlers.rs:88:21\n"
                       "   1: {2}::main::{{{{closure}}}}\n             at ./src/main.rs:41:5\n",
                       error.type, error.message, lower, fn);
  }
  if (lang == "php") {
    return fmt::format("{0}: {1} in /var/www/{2}/src/Service.php:96\nStack trace:\n#0 /var/www/{2}/src/Controller.php(37): "
                       "{3}->{4}()\n#1 {{main}}\n",
                       error.type, error.message, lower, svc, fn);
  }
  if (lang == "cpp") {
    return fmt::format("terminate called after throwing an instance of '{0}'\n  what():  {1}\n"
                       "#0 {2}::{3}() at src/{4}/service.cc:112\n#1 {2}::Serve() at src/{4}/server.cc:58\n",
                       error.type, error.message, svc, fn, lower);
  }
  // go
  return fmt::format("{0}: {1}\n\ngoroutine 42 [running]:\nmain.(*{2}Server).{3}(...)\n\t/app/{4}/server.go:131 +0x1a5\n"
                     "main.(*{2}Server).ServeHTTP(...)\n\t/app/{4}/server.go:64 +0x8f\n",
                     error.type, error.message, svc, fn, lower);
}

void AppendKind(std::string* out, SpanKind kind) {
  AppendTag(out, kSpanKind, WireType::kVarint);
  AppendVarint(out, static_cast<uint64_t>(kind));
}

// A hex string of n random-looking characters from a mixer state.
std::string Hex(uint64_t v, int n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < n; ++i) out += kDigits[(v >> (4 * (i % 16))) & 0xf];
  return out;
}

// The queue system (kafka, rabbitmq...) of the topic that delivers to a consumer operation.
std::string_view ConsumerSystem(const Pattern& pattern, int consumer) {
  for (const Operation& op : pattern.operations) {
    const Service& s = pattern.services[static_cast<size_t>(op.service)];
    if (s.kind != ServiceKind::kQueue) continue;
    for (const Call& c : op.calls) {
      if (c.operation == consumer) return s.system.empty() ? std::string_view("kafka") : std::string_view(s.system);
    }
  }
  return "kafka";
}

}  // namespace

void AppendStringField(std::string* out, uint32_t field, std::string_view value) {
  AppendTag(out, field, WireType::kLen);
  AppendVarint(out, value.size());
  out->append(value);
}

void AppendStringAttribute(std::string* out, uint32_t field, std::string_view key, std::string_view value) {
  AppendTag(out, field, WireType::kLen);
  size_t kv = BeginLengthDelimited(out);
  AppendStringField(out, 1, key);
  AppendTag(out, 2, WireType::kLen);
  size_t any = BeginLengthDelimited(out);
  AppendStringField(out, 1, value);
  EndLengthDelimited(out, any);
  EndLengthDelimited(out, kv);
}

void AppendIntAttribute(std::string* out, uint32_t field, std::string_view key, int64_t value) {
  uint64_t v = static_cast<uint64_t>(value);
  size_t any_size = 1 + VarintSize(v);
  AppendTag(out, field, WireType::kLen);
  AppendVarint(out, 1 + VarintSize(key.size()) + key.size() + 2 + any_size);
  AppendStringField(out, 1, key);
  AppendTag(out, 2, WireType::kLen);
  AppendVarint(out, any_size);
  AppendTag(out, 3, WireType::kVarint);
  AppendVarint(out, v);
}

void AppendBoolAttribute(std::string* out, uint32_t field, std::string_view key, bool value) {
  AppendTag(out, field, WireType::kLen);
  AppendVarint(out, 1 + VarintSize(key.size()) + key.size() + 4);
  AppendStringField(out, 1, key);
  AppendTag(out, 2, WireType::kLen);
  AppendVarint(out, 2);
  AppendTag(out, 2, WireType::kVarint);
  AppendVarint(out, value ? 1 : 0);
}

SpanEncoder::SpanEncoder(const Pattern& pattern, const TraceBuilder& builder, uint64_t seed) : pattern_(pattern) {
  // Resources: one per service instance, with stable host names and instance ids derived from the seed.
  uint64_t mix = seed ^ 0x5eedc0ffee123457ull;
  for (int r = 0; r < builder.resource_count(); ++r) {
    const Service& s = pattern.services[static_cast<size_t>(builder.resource_service(r))];
    const LanguageInfo& lang = Language(s.language);
    uint64_t a = SplitMix64(mix), b = SplitMix64(mix);
    ResourceBytes rb;
    std::string& res = rb.resource;
    AppendTag(&res, 1, WireType::kLen);
    size_t body = BeginLengthDelimited(&res);
    AppendStringAttribute(&res, 1, "service.name", s.name);
    AppendStringAttribute(&res, 1, "service.version", s.version);
    if (!s.namespace_name.empty()) AppendStringAttribute(&res, 1, "service.namespace", s.namespace_name);
    AppendStringAttribute(&res, 1, "service.instance.id",
                          fmt::format("{}-{}-4{}-a{}-{}", Hex(a, 8), Hex(a >> 32, 4), Hex(b, 3), Hex(b >> 12, 3), Hex(b >> 24, 12)));
    AppendStringAttribute(&res, 1, "deployment.environment.name", "production");
    AppendStringAttribute(&res, 1, "host.name", fmt::format("{}-{}-{}", s.name, Hex(a >> 20, 10), Hex(b >> 40, 5)));
    AppendStringAttribute(&res, 1, "telemetry.sdk.name", "opentelemetry");
    AppendStringAttribute(&res, 1, "telemetry.sdk.language", lang.language);
    AppendStringAttribute(&res, 1, "telemetry.sdk.version", lang.sdk_version);
    EndLengthDelimited(&res, body);
    AppendTag(&rb.scope, 1, WireType::kLen);
    size_t scope = BeginLengthDelimited(&rb.scope);
    AppendStringField(&rb.scope, 1, lang.scope_name);
    AppendStringField(&rb.scope, 2, lang.scope_version);
    EndLengthDelimited(&rb.scope, scope);
    resources_.push_back(std::move(rb));
  }

  for (size_t i = 0; i < pattern.operations.size(); ++i) {
    const Operation& op = pattern.operations[i];
    const Service& svc = pattern.services[static_cast<size_t>(op.service)];
    OperationBytes ob;
    std::string& callee = ob.callee.fixed;
    std::string& caller = ob.caller.fixed;
    switch (op.protocol) {
      case Protocol::kHttp: {
        ob.http = true;
        ob.status_key = "http.response.status_code";
        AppendStringField(&callee, kSpanName, op.name);
        AppendKind(&callee, SpanKind::kServer);
        AppendStringAttribute(&callee, kSpanAttributes, "http.request.method", op.method);
        AppendStringAttribute(&callee, kSpanAttributes, "http.route", op.route);
        AppendStringAttribute(&callee, kSpanAttributes, "url.scheme", "http");
        AppendStringAttribute(&callee, kSpanAttributes, "server.address", svc.name);
        AppendIntAttribute(&callee, kSpanAttributes, "server.port", 8080);
        AppendStringAttribute(&callee, kSpanAttributes, "network.protocol.version", "1.1");
        AppendStringField(&caller, kSpanName, op.name);
        AppendKind(&caller, SpanKind::kClient);
        AppendStringAttribute(&caller, kSpanAttributes, "http.request.method", op.method);
        AppendStringAttribute(&caller, kSpanAttributes, "server.address", svc.name);
        AppendIntAttribute(&caller, kSpanAttributes, "server.port", 8080);
        for (int v = 0; v < kVariants; ++v) {
          std::string path = FillRoute(op.route, v);
          std::string a, b;
          AppendStringAttribute(&a, kSpanAttributes, "url.path", path);
          AppendStringAttribute(&b, kSpanAttributes, "url.full", fmt::format("http://{}:8080{}", svc.name, path));
          ob.callee.variants.push_back(std::move(a));
          ob.caller.variants.push_back(std::move(b));
          ob.log_targets.push_back(fmt::format("{} {}", op.method, path));
        }
        AppendStringAttribute(&ob.request_log_attributes, kLogAttributes, "http.request.method", op.method);
        AppendStringAttribute(&ob.request_log_attributes, kLogAttributes, "http.route", op.route);
        break;
      }
      case Protocol::kGrpc: {
        ob.grpc = true;
        ob.status_key = "rpc.grpc.status_code";
        std::string name = fmt::format("{}/{}", op.method, op.route);
        for (int side = 0; side < 2; ++side) {
          std::string& out = side == 0 ? callee : caller;
          AppendStringField(&out, kSpanName, name);
          AppendKind(&out, side == 0 ? SpanKind::kServer : SpanKind::kClient);
          AppendStringAttribute(&out, kSpanAttributes, "rpc.system", "grpc");
          AppendStringAttribute(&out, kSpanAttributes, "rpc.service", op.method);
          AppendStringAttribute(&out, kSpanAttributes, "rpc.method", op.route);
          AppendStringAttribute(&out, kSpanAttributes, "server.address", svc.name);
          AppendIntAttribute(&out, kSpanAttributes, "server.port", 50051);
        }
        ob.log_targets.push_back(name);
        AppendStringAttribute(&ob.request_log_attributes, kLogAttributes, "rpc.service", op.method);
        AppendStringAttribute(&ob.request_log_attributes, kLogAttributes, "rpc.method", op.route);
        break;
      }
      case Protocol::kDatabase:
      case Protocol::kCache: {
        std::string system = svc.system.empty() ? (op.protocol == Protocol::kCache ? "redis" : "postgresql") : svc.system;
        AppendStringField(&caller, kSpanName, op.name);
        AppendKind(&caller, SpanKind::kClient);
        AppendStringAttribute(&caller, kSpanAttributes, "db.system.name", system);
        if (!op.method.empty()) AppendStringAttribute(&caller, kSpanAttributes, "db.operation.name", op.method);
        if (!op.collection.empty()) AppendStringAttribute(&caller, kSpanAttributes, "db.collection.name", op.collection);
        if (!op.query.empty()) AppendStringAttribute(&caller, kSpanAttributes, "db.query.text", op.query);
        AppendStringAttribute(&caller, kSpanAttributes, "server.address", svc.name);
        AppendIntAttribute(&caller, kSpanAttributes, "server.port", DefaultPort(system));
        break;
      }
      case Protocol::kMessaging: {
        if (svc.kind == ServiceKind::kQueue) {
          std::string system = svc.system.empty() ? "kafka" : svc.system;
          AppendStringField(&caller, kSpanName, fmt::format("send {}", op.route));
          AppendKind(&caller, SpanKind::kProducer);
          AppendStringAttribute(&caller, kSpanAttributes, "messaging.system", system);
          AppendStringAttribute(&caller, kSpanAttributes, "messaging.destination.name", op.route);
          AppendStringAttribute(&caller, kSpanAttributes, "messaging.operation.type", "send");
          AppendStringAttribute(&caller, kSpanAttributes, "messaging.operation.name", "send");
          AppendStringAttribute(&caller, kSpanAttributes, "server.address", svc.name);
          AppendIntAttribute(&caller, kSpanAttributes, "server.port", DefaultPort(system));
        } else {
          AppendStringField(&callee, kSpanName, op.name);
          AppendKind(&callee, SpanKind::kConsumer);
          AppendStringAttribute(&callee, kSpanAttributes, "messaging.system", ConsumerSystem(pattern, static_cast<int>(i)));
          AppendStringAttribute(&callee, kSpanAttributes, "messaging.destination.name", op.route);
          AppendStringAttribute(&callee, kSpanAttributes, "messaging.operation.type", "process");
          AppendStringAttribute(&callee, kSpanAttributes, "messaging.operation.name", "process");
        }
        break;
      }
      case Protocol::kInternal: {
        AppendStringField(&callee, kSpanName, op.name);
        AppendKind(&callee, SpanKind::kInternal);
        break;
      }
    }

    // The exception event (after its time field) and the error status of the span where a failure starts.
    std::string stack = StackTrace(svc, op, op.error);
    AppendStringField(&ob.exception_event, 2, "exception");
    AppendStringAttribute(&ob.exception_event, 3, "exception.type", op.error.type);
    AppendStringAttribute(&ob.exception_event, 3, "exception.message", op.error.message);
    AppendStringAttribute(&ob.exception_event, 3, "exception.stacktrace", stack);
    AppendTag(&ob.origin_status, kSpanStatus, WireType::kLen);
    size_t st = BeginLengthDelimited(&ob.origin_status);
    AppendStringField(&ob.origin_status, 2, op.error.message);
    AppendTag(&ob.origin_status, 3, WireType::kVarint);
    AppendVarint(&ob.origin_status, 2);
    EndLengthDelimited(&ob.origin_status, st);
    // The error log: everything but times, trace and span ids.
    AppendTag(&ob.error_log, kLogSeverityNumber, WireType::kVarint);
    AppendVarint(&ob.error_log, kSeverityError);
    AppendStringField(&ob.error_log, kLogSeverityText, "ERROR");
    AppendTag(&ob.error_log, kLogBody, WireType::kLen);
    size_t body = BeginLengthDelimited(&ob.error_log);
    AppendStringField(&ob.error_log, 1, fmt::format("{}: {}", op.error.type, op.error.message));
    EndLengthDelimited(&ob.error_log, body);
    AppendStringAttribute(&ob.error_log, kLogAttributes, "exception.type", op.error.type);
    AppendStringAttribute(&ob.error_log, kLogAttributes, "exception.message", op.error.message);
    AppendStringAttribute(&ob.error_log, kLogAttributes, "exception.stacktrace", stack);
    ops_.push_back(std::move(ob));
  }
}

void SpanEncoder::AppendSpan(const GeneratedTrace& trace, const GeneratedSpan& span, std::string* out) const {
  const OperationBytes& ob = ops_[static_cast<size_t>(span.operation)];
  bool caller_side = span.kind == SpanKind::kClient || span.kind == SpanKind::kProducer;
  const Side& side = caller_side ? ob.caller : ob.callee;
  std::string_view variant;
  if (!side.variants.empty()) variant = side.variants[span.variant % side.variants.size()];

  // The variable attribute: the status code.
  char status_attr[64];
  size_t status_len = 0;
  if (!ob.status_key.empty()) {
    uint64_t v = static_cast<uint64_t>(static_cast<int64_t>(span.status));
    size_t key = ob.status_key.size();
    size_t any = 1 + VarintSize(v);
    size_t kv = 2 + key + 2 + any;
    char* p = status_attr;
    *p++ = static_cast<char>((kSpanAttributes << 3) | 2);
    *p++ = static_cast<char>(kv);
    *p++ = 0x0a;
    *p++ = static_cast<char>(key);
    std::memcpy(p, ob.status_key.data(), key);
    p += key;
    *p++ = 0x12;
    *p++ = static_cast<char>(any);
    *p++ = 0x18;
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
    status_len = static_cast<size_t>(p - status_attr);
  }
  static constexpr char kErrorStatus[] = {static_cast<char>((kSpanStatus << 3) | 2), 2, 0x18, 2};
  std::string_view status;
  if (span.error_origin) {
    status = ob.origin_status;
  } else if (span.error) {
    status = std::string_view(kErrorStatus, sizeof kErrorStatus);
  }
  size_t event_body = span.error_origin ? 9 + ob.exception_event.size() : 0;
  size_t event = span.error_origin ? 1 + VarintSize(event_body) + event_body : 0;

  size_t body = 18 + 10 + (span.parent >= 0 ? 10 : 0) + side.fixed.size() + 18 + variant.size() + status_len + event +
                status.size();
  out->push_back(static_cast<char>((2 << 3) | 2));
  AppendVarint(out, body);
  size_t at = out->size();
  out->resize(at + body);
  char* p = out->data() + at;
  auto put = [&p](const void* data, size_t n) {
    if (n == 0) return;  // an empty string_view may hold a null pointer, which memcpy must not get
    std::memcpy(p, data, n);
    p += n;
  };
  auto put_fixed64 = [&p](uint8_t tag, uint64_t v) {
    *p++ = static_cast<char>(tag);
    std::memcpy(p, &v, 8);
    p += 8;
  };
  *p++ = 0x0a;
  *p++ = 16;
  put(trace.trace_id, 16);
  *p++ = 0x12;
  *p++ = 8;
  put(span.span_id, 8);
  if (span.parent >= 0) {
    *p++ = 0x22;
    *p++ = 8;
    put(trace.spans[static_cast<size_t>(span.parent)].span_id, 8);
  }
  put(side.fixed.data(), side.fixed.size());
  put_fixed64(0x39, span.start_unix_nano);
  put_fixed64(0x41, span.end_unix_nano);
  put(variant.data(), variant.size());
  put(status_attr, status_len);
  if (span.error_origin) {
    *p++ = static_cast<char>((kSpanEvents << 3) | 2);
    std::string tmp;
    AppendVarint(&tmp, event_body);
    put(tmp.data(), tmp.size());
    put_fixed64(0x09, span.end_unix_nano);
    put(ob.exception_event.data(), ob.exception_event.size());
  }
  put(status.data(), status.size());
}

int SpanEncoder::AppendLogs(const GeneratedTrace& trace, const GeneratedSpan& span, std::string* out) const {
  const OperationBytes& ob = ops_[static_cast<size_t>(span.operation)];
  int n = 0;
  auto common = [&](std::string* rec) {
    AppendTag(rec, 1, WireType::kFixed64);
    AppendFixed64(rec, span.end_unix_nano);
    AppendTag(rec, 11, WireType::kFixed64);
    AppendFixed64(rec, span.end_unix_nano);
    AppendTag(rec, 8, WireType::kFixed32);
    AppendFixed32(rec, 1);  // sampled
    AppendTag(rec, 9, WireType::kLen);
    AppendVarint(rec, 16);
    rec->append(reinterpret_cast<const char*>(trace.trace_id), 16);
    AppendTag(rec, 10, WireType::kLen);
    AppendVarint(rec, 8);
    rec->append(reinterpret_cast<const char*>(span.span_id), 8);
  };
  if (span.kind == SpanKind::kServer && !ob.log_targets.empty()) {
    std::string rec;
    common(&rec);
    AppendTag(&rec, kLogSeverityNumber, WireType::kVarint);
    AppendVarint(&rec, kSeverityInfo);
    AppendStringField(&rec, kLogSeverityText, "INFO");
    double ms = static_cast<double>(span.end_unix_nano - span.start_unix_nano) / 1e6;
    const std::string& target = ob.log_targets[span.variant % ob.log_targets.size()];
    std::string text = ob.http ? fmt::format("{} {} {:.1f}ms", target, span.status, ms)
                               : fmt::format("{} {} {:.1f}ms", target, GrpcCodeName(span.status), ms);
    AppendTag(&rec, kLogBody, WireType::kLen);
    AppendVarint(&rec, 1 + VarintSize(text.size()) + text.size());
    AppendStringField(&rec, 1, text);
    rec += ob.request_log_attributes;
    AppendIntAttribute(&rec, kLogAttributes, ob.status_key, span.status);
    AppendTag(out, 2, WireType::kLen);
    AppendVarint(out, rec.size());
    out->append(rec);
    ++n;
  }
  if (span.error_origin) {
    std::string rec;
    common(&rec);
    rec += ob.error_log;
    AppendTag(out, 2, WireType::kLen);
    AppendVarint(out, rec.size());
    out->append(rec);
    ++n;
  }
  return n;
}

void SpanEncoder::AppendMetricAttributes(int op, int32_t status, uint32_t field, std::string* out) const {
  const Operation& o = pattern_.operations[static_cast<size_t>(op)];
  if (o.protocol == Protocol::kHttp) {
    AppendStringAttribute(out, field, "http.request.method", o.method);
    AppendStringAttribute(out, field, "http.route", o.route);
    AppendIntAttribute(out, field, "http.response.status_code", status);
  } else {
    AppendStringAttribute(out, field, "rpc.system", "grpc");
    AppendStringAttribute(out, field, "rpc.service", o.method);
    AppendStringAttribute(out, field, "rpc.method", o.route);
    AppendIntAttribute(out, field, "rpc.grpc.status_code", status);
  }
}

}  // namespace otelrr::generate
