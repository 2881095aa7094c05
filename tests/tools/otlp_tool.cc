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
//   otlp_tool serve                     # many requests over one pipe (see RunServe)
//
// A failing operation prints its error on stderr and exits 1; a usage error exits 2.
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json_writer.h"
#include "fmt/format.h"
#include "otlp/json.h"
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
    w.Key("full_name");
    w.String(m->full_name);
    w.Key("item");
    w.String(ItemName(m->item));
    w.Key("fields");
    w.BeginArray();
    for (const Field& f : m->fields) {
      w.BeginObject();
      w.Key("number");
      w.Uint(f.number);
      w.Key("name");
      w.String(f.name);
      w.Key("json_name");
      w.String(f.json_name);
      w.Key("type");
      w.String(FieldTypeName(f.type));
      w.Key("repeated");
      w.Bool(f.repeated);
      w.Key("explicit_presence");
      w.Bool(f.explicit_presence);
      w.Key("role");
      w.String(RoleName(f.role));
      if (f.message != nullptr) {
        w.Key("message");
        w.String(f.message->full_name);
      }
      if (f.enum_type != nullptr) {
        w.Key("enum");
        w.String(f.enum_type->full_name);
      }
      if (!f.legacy_json_name.empty()) {
        w.Key("legacy_json_name");
        w.String(f.legacy_json_name);
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
    w.Key("full_name");
    w.String(e->full_name);
    w.Key("values");
    w.BeginArray();
    for (const EnumValue& v : e->values) {
      w.BeginObject();
      w.Key("number");
      w.Int(v.number);
      w.Key("name");
      w.String(v.name);
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
  w.Key("resources");
  w.Uint(s->resources);
  w.Key("spans");
  w.Uint(s->spans);
  w.Key("data_points");
  w.Uint(s->data_points);
  w.Key("log_records");
  w.Uint(s->log_records);
  w.Key("service_names");
  w.BeginArray();
  for (const std::string& name : s->service_names) w.String(name);
  w.EndArray();
  w.Key("min_time_unix_nano");
  w.Uint(s->min_time_unix_nano);
  w.Key("max_time_unix_nano");
  w.Uint(s->max_time_unix_nano);
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

// `serve`: many operations over one pipe, so a test can run thousands without starting a process for
// each. Each request is a line "COMMAND SIGNAL LENGTH\n" followed by LENGTH bytes of input; each reply
// is a line "ok LENGTH\n" or "error LENGTH\n" followed by LENGTH bytes of output or error message.
int RunServe() {
  JsonCodec codec;
  std::string header;
  std::string input;
  while (true) {
    header.clear();
    int c;
    while ((c = std::fgetc(stdin)) != EOF && c != '\n') header.push_back(static_cast<char>(c));
    if (c == EOF) return header.empty() ? 0 : 2;
    char command[32];
    char signal[32];
    size_t size = 0;
    if (std::sscanf(header.c_str(), "%31s %31s %zu", command, signal, &size) != 3) {
      std::fprintf(stderr, "otlp_tool serve: bad request line '%s'\n", header.c_str());
      return 2;
    }
    if (!ReadExactly(stdin, size, &input)) {
      std::fprintf(stderr, "otlp_tool serve: input ended inside a request\n");
      return 2;
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
