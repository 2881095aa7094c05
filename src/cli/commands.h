// The otelrr subcommands. Each Add*Command registers its flags on the CLI11 app and binds a handler;
// handlers return the process exit code (0 success, 1 failure) and print a one-line error on failure.
#ifndef OTELRR_CLI_COMMANDS_H_
#define OTELRR_CLI_COMMANDS_H_

#include <functional>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/object_store.h"

namespace otelrr::cli {

// The handler chosen by parsing; run after CLI11 returns.
using Handler = std::function<int()>;

// Options every command that touches sessions shares.
struct StoreFlag {
  std::string uri;  // --store; else OTELRR_STORE; else ./data
  // The store the flags and environment select.
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> Open() const;
  std::string Resolved() const;
};

void AddConvertCommand(CLI::App& app, Handler* handler);
void AddSessionsCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr seed: generate a deterministic session from a pattern (src/generate/generator.h).
void AddSeedCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr capture: record what the OTLP receivers bring into one session (src/capture/capture_service.h).
void AddCaptureCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr serve: the OTLP receivers plus the control API (src/server/control_api.h).
void AddServeCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr replay: send a session to an OTLP endpoint (src/replay/replay.h).
void AddReplayCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr patterns [--json] | show NAME | check FILE...: the seed patterns (src/generate/pattern.h).
void AddPatternsCommand(CLI::App& app, Handler* handler);

// Prints "otelrr: <message>" to stderr and returns 1.
int Fail(const absl::Status& status);
int Fail(const std::string& message);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_COMMANDS_H_
