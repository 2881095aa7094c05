// otelrr: generate, capture and replay OpenTelemetry (OTLP) telemetry.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "common/status.h"
#include "common/version.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "net/grpc_runtime.h"

namespace otelrr::cli {

int Fail(const absl::Status& status) { return Fail(std::string(status.message())); }

int Fail(const std::string& message) {
  std::fprintf(stderr, "otelrr: %s\n", message.c_str());
  return kExitFailed;
}

int UsageError(const absl::Status& status) { return UsageError(std::string(status.message())); }

int UsageError(const std::string& message) {
  std::fprintf(stderr, "otelrr: %s (run with --help for usage)\n", message.c_str());
  return kExitUsage;
}

}  // namespace otelrr::cli

int main(int argc, char** argv) {
  using namespace otelrr::cli;
  CLI::App app{"otelrr: generate, capture and replay OpenTelemetry (OTLP) telemetry", "otelrr"};
  app.set_version_flag("--version", fmt::format("otelrr {}", otelrr::kVersion));
  app.require_subcommand(1);
  app.footer(R"(Sessions live in a store: --store PATH (or OTELRR_STORE), default ./data.

Examples:
  otelrr seed --preset quick                   generate a 10 s session (basic-topology, 10 traces/s)
  otelrr sessions import traces.jsonl          record an OTLP file as a session
  otelrr sessions list                         what the store holds
  otelrr sessions verify SESSION_ID            check a session end to end
  otelrr sessions export SESSION_ID --out x.jsonl
  otelrr convert --signal traces --from json --to protobuf in.json out.pb
  otelrr annotate SESSION_ID --key human.verdict --from +10s --to +20s --value '"slow"'
  otelrr training export SESSION_ID --out dataset --format csv
  otelrr patterns                              the seed patterns; 'patterns check FILE' checks yours
Run 'otelrr COMMAND --help' for a command's flags.)");

  StoreFlag store;
  Handler handler;
  AddSessionsCommand(app, &store, &handler);
  AddSeedCommand(app, &store, &handler);
  AddCaptureCommand(app, &store, &handler);
  AddServeCommand(app, &store, &handler);
  AddReplayCommand(app, &store, &handler);
  AddReplayReportCommand(app, &handler);
  AddValidateCommand(app, &store, &handler);
  AddAnnotateCommands(app, &store, &handler);
  AddTrainingCommand(app, &store, &handler);
  AddConvertCommand(app, &handler);
  AddPatternsCommand(app, &handler);

  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      return UsageError(fmt::format("unknown command '{}': the commands are {}", argv[1], fmt::join(names, ", ")));
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that succeed; real usage errors are one line and exit 2.
    if (e.get_exit_code() == 0) return app.exit(e);
    return UsageError(std::string(e.what()));
  }
  if (!handler) return UsageError(std::string("no command given"));
  const int code = handler();
  // gRPC may still be shutting down on its own threads (net/grpc_runtime.h): let it finish first.
  otelrr::net::AwaitGrpcShutdown(std::chrono::seconds(2));
  return code;
}
