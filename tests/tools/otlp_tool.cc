// otlp_tool: our OTLP codec on stdin and stdout, for the reference tests in tests/reference/ (which
// compare it with the official Python opentelemetry-proto package) and for making fuzz seeds. Test-only:
// the user-facing conversion command is `otelrr convert`.
//
//   otlp_tool schema                    # the whole schema as JSON
//   otlp_tool summarize traces < req.pb # counts, service names, time range as JSON
//   otlp_tool validate logs < req.pb    # exit 0 when well formed
//   otlp_tool locate metrics < req.pb   # byte offsets of every timestamp and id as JSON
//   otlp_tool json2proto traces < req.json > req.pb
//   otlp_tool proto2json traces < req.pb > req.json
//   otlp_tool rewrite --signal traces [--shift NANOS] [--id-key K] [--services a,b] IN OUT
//                                       # the replay rewrites (otlp/rewrite.h), in replay's order:
//                                       # keep the listed services, shift every timestamp, remap ids
//   otlp_tool serve                     # many requests over one pipe (see RunServe)
//
// A failing operation prints its error on stderr and exits 1; a usage error exits 2; a rewrite whose
// service filter leaves nothing exits 3 without writing OUT.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json_writer.h"
#include "fmt/format.h"
#include "otlp/json.h"
#include "otlp/rewrite.h"
#include "otlp/schema.h"
#include "otlp/wire.h"

namespace otelrr::otlp {
namespace {

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kMessage: return "message";
    case FieldType::kString: return "string";
    case FieldType::kBytes: return "bytes";
    case FieldType::kBool: return "bool";
    case FieldType::kInt32: return "int32";
    case FieldType::kInt64: return "int64";
    case FieldType::kUint32: return "uint32";
    case FieldType::kUint64: return "uint64";
    case FieldType::kSint32: return "sint32";
    case FieldType::kFixed32: return "fixed32";
    case FieldType::kFixed64: return "fixed64";
    case FieldType::kSfixed64: return "sfixed64";
    case FieldType::kDouble: return "double";
    case FieldType::kEnum: return "enum";
  }
  return "unknown";
}

std::string_view RoleName(FieldRole role) {
  switch (role) {
    case FieldRole::kNone: return "none";
    case FieldRole::kTimestamp: return "timestamp";
    case FieldRole::kTraceId: return "trace_id";
    case FieldRole::kSpanId: return "span_id";
  }
  return "unknown";
}

std::string_view ItemName(ItemKind item) {
  switch (item) {
    case ItemKind::kNone: return "none";
    case ItemKind::kResource: return "resource";
    case ItemKind::kSpan: return "span";
    case ItemKind::kDataPoint: return "data_point";
    case ItemKind::kLogRecord: return "log_record";
  }
  return "unknown";
}

std::string SchemaJson() {
  JsonWriter w(/*pretty=*/true);
  w.BeginObject();
  w.Key("messages");
  w.BeginArray();
  for (const MessageType* m : AllMessageTypes()) {
    w.BeginObject();
    w.Field("full_name", m->full_name);
    w.Field("item", ItemName(m->item));
    w.Key("fields");
    w.BeginArray();
    for (const Field& f : m->fields) {
      w.BeginObject();
      w.Field("number", f.number);
      w.Field("name", f.name);
      w.Field("json_name", f.json_name);
      w.Field("type", FieldTypeName(f.type));
      w.Field("repeated", f.repeated);
      w.Field("explicit_presence", f.explicit_presence);
      w.Field("role", RoleName(f.role));
      if (f.message != nullptr) {
        w.Field("message", f.message->full_name);
      }
      if (f.enum_type != nullptr) {
        w.Field("enum", f.enum_type->full_name);
      }
      if (!f.legacy_json_name.empty()) {
        w.Field("legacy_json_name", f.legacy_json_name);
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("enums");
  w.BeginArray();
  for (const EnumType* e : AllEnumTypes()) {
    w.BeginObject();
    w.Field("full_name", e->full_name);
    w.Key("values");
    w.BeginArray();
    for (const EnumValue& v : e->values) {
      w.BeginObject();
      w.Field("number", v.number);
      w.Field("name", v.name);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::string out = w.Take();
  out.push_back('\n');
  return out;
}

absl::StatusOr<std::string> SummaryJson(Signal signal, std::string_view request) {
  absl::StatusOr<RequestSummary> s = Summarize(signal, request);
  if (!s.ok()) return s.status();
  JsonWriter w;
  w.BeginObject();
  w.Field("resources", s->resources);
  w.Field("spans", s->spans);
  w.Field("data_points", s->data_points);
  w.Field("log_records", s->log_records);
  w.Key("service_names");
  w.BeginArray();
  for (const std::string& name : s->service_names) w.String(name);
  w.EndArray();
  w.Field("min_time_unix_nano", s->min_time_unix_nano);
  w.Field("max_time_unix_nano", s->max_time_unix_nano);
  w.EndObject();
  return w.Take();
}

absl::StatusOr<std::string> LocationsJson(Signal signal, std::string_view request) {
  FieldLocations loc;
  if (absl::Status s = Locate(signal, request, &loc); !s.ok()) return s;
  JsonWriter w;
  auto list = [&w](std::string_view key, const std::vector<uint32_t>& offsets) {
    w.Key(key);
    w.BeginArray();
    for (uint32_t o : offsets) w.Uint(o);
    w.EndArray();
  };
  w.BeginObject();
  list("timestamps", loc.timestamps);
  list("trace_ids", loc.trace_ids);
  list("span_ids", loc.span_ids);
  w.EndObject();
  return w.Take();
}

struct RewriteOptions {
  int64_t shift_nanos = 0;
  uint64_t id_key = 0;
  std::optional<std::vector<std::string>> services;  // no filter when empty
};

// The rewrites replay applies, in its order. std::nullopt: the service filter left nothing.
absl::StatusOr<std::optional<std::string>> Rewrite(Signal signal, std::string request,
                                                   const RewriteOptions& options) {
  if (options.services) {
    std::string kept;
    absl::StatusOr<bool> any = FilterServices(signal, request, *options.services, &kept);
    if (!any.ok()) return any.status();
    if (!*any) return std::nullopt;
    request = std::move(kept);
  }
  FieldLocations where;
  if (absl::Status s = Locate(signal, request, &where); !s.ok()) return s;
  ShiftTimestamps(&request, where, options.shift_nanos);
  RemapIds(&request, where, options.id_key);
  return request;
}

std::vector<std::string> Split(std::string_view list, char separator) {
  std::vector<std::string> parts;
  while (true) {
    size_t at = list.find(separator);
    parts.emplace_back(list.substr(0, at));
    if (at == std::string_view::npos) return parts;
    list.remove_prefix(at + 1);
  }
}

bool ParseInt(std::string_view text, int64_t* value) {
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0) return false;
  *value = v;
  return true;
}

bool ParseUint(std::string_view text, uint64_t* value) {
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || *end != '\0' || errno != 0) return false;
  *value = v;
  return true;
}

bool ParseHex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (char c : hex.substr(i, 2)) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out->push_back(static_cast<char>(v));
  }
  return true;
}

// The serve form of rewrite: the command "rewrite:SHIFT:KEY:SERVICES", SERVICES being "*" for no filter
// or "-" for an empty list, or a comma-separated list of hex-encoded names (so any name, even an empty
// one, can be listed).
absl::StatusOr<RewriteOptions> ParseServeRewrite(std::string_view command) {
  std::vector<std::string> parts = Split(command, ':');
  RewriteOptions options;
  if (parts.size() != 4 || parts[0] != "rewrite" || !ParseInt(parts[1], &options.shift_nanos) ||
      !ParseUint(parts[2], &options.id_key)) {
    return absl::InvalidArgumentError(fmt::format("bad rewrite command '{}'", command));
  }
  if (parts[3] == "-") {
    options.services.emplace();
  } else if (parts[3] != "*") {
    options.services.emplace();
    for (const std::string& hex : Split(parts[3], ',')) {
      std::string name;
      if (!ParseHex(hex, &name)) return absl::InvalidArgumentError(fmt::format("bad hex service '{}'", hex));
      options.services->push_back(std::move(name));
    }
  }
  return options;
}

// One operation on one input: the output, or the error to report.
absl::StatusOr<std::string> Run(JsonCodec& codec, std::string_view command, std::string_view signal_name,
                                std::string_view input) {
  Signal signal;
  if (!ParseSignal(signal_name, &signal)) {
    return absl::InvalidArgumentError(fmt::format("unknown signal '{}' (traces, metrics or logs)", signal_name));
  }
  if (command == "summarize") return SummaryJson(signal, input);
  if (command == "locate") return LocationsJson(signal, input);
  if (command == "validate") {
    if (absl::Status s = Validate(signal, input); !s.ok()) return s;
    return std::string();
  }
  std::string out;
  if (command == "json2proto") {
    if (absl::Status s = codec.JsonToProto(signal, input, &out); !s.ok()) return s;
    return out;
  }
  if (command == "proto2json") {
    if (absl::Status s = codec.ProtoToJson(signal, input, &out); !s.ok()) return s;
    return out;
  }
  return absl::InvalidArgumentError(fmt::format("unknown command '{}'", command));
}

bool ReadExactly(std::FILE* in, size_t size, std::string* out) {
  out->resize(size);
  return size == 0 || std::fread(out->data(), 1, size, in) == size;
}

std::string ReadAll(std::FILE* in) {
  std::string data;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, in)) > 0) data.append(buf, n);
  return data;
}

void WriteAll(std::FILE* out, std::string_view data) { std::fwrite(data.data(), 1, data.size(), out); }

int RunRewrite(int argc, char** argv) {
  RewriteOptions options;
  std::optional<Signal> signal;
  std::vector<std::string_view> paths;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--signal" && has_value) {
      Signal s;
      if (!ParseSignal(argv[++i], &s)) return 2;
      signal = s;
    } else if (arg == "--shift" && has_value) {
      if (!ParseInt(argv[++i], &options.shift_nanos)) return 2;
    } else if (arg == "--id-key" && has_value) {
      if (!ParseUint(argv[++i], &options.id_key)) return 2;
    } else if (arg == "--services" && has_value) {
      options.services = Split(argv[++i], ',');
    } else if (arg.starts_with("--")) {
      return 2;
    } else {
      paths.push_back(arg);
    }
  }
  if (!signal || paths.size() != 2) return 2;
  std::FILE* in = std::fopen(std::string(paths[0]).c_str(), "rb");
  if (in == nullptr) {
    std::fprintf(stderr, "otlp_tool rewrite: cannot open %s\n", std::string(paths[0]).c_str());
    return 1;
  }
  std::string input = ReadAll(in);
  std::fclose(in);
  absl::StatusOr<std::optional<std::string>> out = Rewrite(*signal, std::move(input), options);
  if (!out.ok()) {
    std::fprintf(stderr, "otlp_tool rewrite: %s\n", std::string(out.status().message()).c_str());
    return 1;
  }
  if (!out->has_value()) {
    std::fprintf(stderr, "otlp_tool rewrite: no listed service left: request dropped\n");
    return 3;
  }
  std::FILE* f = std::fopen(std::string(paths[1]).c_str(), "wb");
  if (f == nullptr) {
    std::fprintf(stderr, "otlp_tool rewrite: cannot write %s\n", std::string(paths[1]).c_str());
    return 1;
  }
  WriteAll(f, **out);
  return std::fclose(f) == 0 ? 0 : 1;
}

// `serve`: many operations over one pipe, so a test can run thousands without starting a process for
// each. Each request is a line "COMMAND SIGNAL LENGTH\n" followed by LENGTH bytes of input; each reply
// is a line "ok LENGTH\n" or "error LENGTH\n" followed by LENGTH bytes of output or error message.
// A rewrite (COMMAND "rewrite:SHIFT:KEY:SERVICES", see ParseServeRewrite) whose filter leaves nothing
// replies "dropped 0".
int RunServe() {
  JsonCodec codec;
  std::string header;
  std::string input;
  while (true) {
    header.clear();
    int c;
    while ((c = std::fgetc(stdin)) != EOF && c != '\n') header.push_back(static_cast<char>(c));
    if (c == EOF) return header.empty() ? 0 : 2;
    char command[4096];
    char signal[32];
    size_t size = 0;
    if (std::sscanf(header.c_str(), "%4095s %31s %zu", command, signal, &size) != 3) {
      std::fprintf(stderr, "otlp_tool serve: bad request line '%s'\n", header.c_str());
      return 2;
    }
    if (!ReadExactly(stdin, size, &input)) {
      std::fprintf(stderr, "otlp_tool serve: input ended inside a request\n");
      return 2;
    }
    if (std::string_view(command).starts_with("rewrite:")) {
      absl::StatusOr<RewriteOptions> options = ParseServeRewrite(command);
      Signal s;
      absl::StatusOr<std::optional<std::string>> out =
          !options.ok() ? absl::StatusOr<std::optional<std::string>>(options.status())
          : !ParseSignal(signal, &s) ? absl::InvalidArgumentError(fmt::format("unknown signal '{}'", signal))
                                     : Rewrite(s, input, *options);
      if (out.ok() && !out->has_value()) {
        WriteAll(stdout, "dropped 0\n");
      } else {
        std::string body = out.ok() ? std::move(**out) : std::string(out.status().message());
        WriteAll(stdout, fmt::format("{} {}\n", out.ok() ? "ok" : "error", body.size()));
        WriteAll(stdout, body);
      }
      std::fflush(stdout);
      continue;
    }
    absl::StatusOr<std::string> result = Run(codec, command, signal, input);
    // absl::Status::message() is Debian abseil's own string_view type: convert through a std::string.
    std::string body = result.ok() ? std::move(*result) : std::string(result.status().message());
    WriteAll(stdout, fmt::format("{} {}\n", result.ok() ? "ok" : "error", body.size()));
    WriteAll(stdout, body);
    std::fflush(stdout);
  }
}

int Usage() {
  std::fputs(
      "usage: otlp_tool schema\n"
      "       otlp_tool summarize|validate|locate|json2proto|proto2json traces|metrics|logs < IN > OUT\n"
      "       otlp_tool rewrite --signal S [--shift NANOS] [--id-key K] [--services a,b] IN OUT\n"
      "       otlp_tool serve\n",
      stderr);
  return 2;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string_view command = argv[1];
  if (command == "schema" && argc == 2) {
    WriteAll(stdout, SchemaJson());
    return 0;
  }
  if (command == "serve" && argc == 2) return RunServe();
  if (command == "rewrite") {
    int rc = RunRewrite(argc, argv);
    return rc == 2 ? Usage() : rc;
  }
  if (argc != 3) return Usage();
  std::string input = ReadAll(stdin);
  JsonCodec codec;
  absl::StatusOr<std::string> result = Run(codec, command, argv[2], input);
  if (!result.ok()) {
    std::fprintf(stderr, "otlp_tool %s: %s\n", argv[1], std::string(result.status().message()).c_str());
    return 1;
  }
  WriteAll(stdout, *result);
  return 0;
}

}  // namespace
}  // namespace otelrr::otlp

int main(int argc, char** argv) { return otelrr::otlp::Main(argc, argv); }
