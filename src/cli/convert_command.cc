// otelrr convert: one OTLP request body between protobuf and OTLP/JSON.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/io.h"
#include "common/status.h"
#include "fmt/format.h"
#include "otlp/json.h"
#include "otlp/otlp_file.h"
#include "otlp/wire.h"

namespace otelrr::cli {
namespace {

struct ConvertFlags {
  std::string signal;
  std::string from;
  std::string to;
  std::string in = "-";
  std::string out = "-";
};

// The input's own signal, when it is recognisably another than `signal`: converting a traces request as
// metrics would quietly give an empty request.
absl::Status CheckSignal(otlp::Signal signal, const ConvertFlags& f, std::string_view input) {
  absl::StatusOr<otlp::Signal> own =
      f.from == "json" ? otlp::DetectJsonSignal(input) : otlp::DetectProtobufSignal(input);
  if (!own.ok() || *own == signal) return absl::OkStatus();
  if (f.from == "protobuf" && otlp::Validate(signal, input).ok() &&
      otlp::Summarize(signal, input).value_or(otlp::RequestSummary{}).items() > 0) {
    return absl::OkStatus();  // valid as both: take the user's word
  }
  return absl::InvalidArgumentError(fmt::format("the input is a {} request, not {}: use --signal {}",
                                                otlp::SignalName(*own), otlp::SignalName(signal),
                                                otlp::SignalName(*own)));
}

int RunConvert(const ConvertFlags& f) {
  otlp::Signal signal;
  if (!otlp::ParseSignal(f.signal, &signal)) return UsageError("--signal must be traces, metrics or logs");
  absl::StatusOr<std::string> input = ReadInput(f.in);
  if (!input.ok()) return Fail(input.status());
  std::string where = f.in == "-" ? "standard input" : f.in;
  if (absl::Status s = CheckSignal(signal, f, *input); !s.ok()) return Fail(fmt::format("{}: {}", where, s.message()));

  otlp::JsonCodec codec;
  std::string output;
  absl::Status s;
  if (f.from == "json") {
    s = codec.JsonToProto(signal, *input, &output);
    if (s.ok() && f.to == "json") {
      std::string proto = std::move(output);
      output.clear();
      s = codec.ProtoToJson(signal, proto, &output);
    }
  } else {
    if (f.to == "json") {
      s = codec.ProtoToJson(signal, *input, &output);
    } else {
      s = otlp::Validate(signal, *input);
      output = std::move(*input);
    }
  }
  if (!s.ok()) return Fail(fmt::format("{}: {}", where, s.message()));
  if (f.to == "json") output.push_back('\n');
  if (absl::Status w = WriteOutput(f.out, output); !w.ok()) return Fail(w);
  return 0;
}

}  // namespace

void AddConvertCommand(CLI::App& app, Handler* handler) {
  auto flags = std::make_shared<ConvertFlags>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert one OTLP request body between protobuf and OTLP/JSON");
  cmd->add_option("--signal", flags->signal, "traces, metrics or logs")
      ->required()
      ->check(CLI::IsMember({"traces", "metrics", "logs"}));
  cmd->add_option("--from", flags->from, "input encoding")->required()->check(CLI::IsMember({"protobuf", "json"}));
  cmd->add_option("--to", flags->to, "output encoding")->required()->check(CLI::IsMember({"protobuf", "json"}));
  cmd->add_option("IN", flags->in, "input file (default: standard input)");
  cmd->add_option("OUT", flags->out, "output file (default: standard output)");
  cmd->footer(R"(The input is validated fully; JSON input may use any form OTLP receivers accept, JSON output
is the strict OTLP/JSON form on one line.

Examples:
  otelrr convert --signal traces --from json --to protobuf request.json request.pb
  curl -s ... | otelrr convert --signal logs --from protobuf --to json)");
  cmd->callback([flags, handler] { *handler = [flags] { return RunConvert(*flags); }; });
}

}  // namespace otelrr::cli
