// The otelrr subcommands. Each Add*Command registers its flags on the CLI11 app and binds a handler;
// handlers return the process exit code and print a one-line error on failure:
//   0    success
//   1    the command failed (a session that does not exist, data that could not be sent or read...)
//   2    usage: a flag or argument is missing, unknown or has a value that is not allowed
//   130  stopped by SIGINT or SIGTERM before it was done (seed, replay; capture and serve stop with 0)
#ifndef OTELRR_CLI_COMMANDS_H_
#define OTELRR_CLI_COMMANDS_H_

#include <functional>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "annotate/clickhouse.h"
#include "store/object_store.h"

namespace otelrr::cli {

// The handler chosen by parsing; run after CLI11 returns.
using Handler = std::function<int()>;

inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

// Options every command that touches sessions shares.
struct StoreFlag {
  std::string uri;    // --store; else OTELRR_STORE; else the bucket of S3_BUCKET / MINIO_BUCKET; else ./data
  std::string spool;  // --spool (capture, serve): where an S3 store's files are written before upload

  enum class Access {
    kRead,     // a local store that does not exist is not created (NotFound)
    kWrite,    // created when missing
    kCapture,  // kWrite, and what is written must be durable once synced: an S3 store gets a local spool
  };
  // The store the flags and environment select. `recover_as`: when not empty, what crashed writers
  // left is recovered first (an S3 store's spool uploaded, sessions left "active" recovered:
  // session/recover.h), one line each on stderr prefixed "otelrr <recover_as>: ", so that a long command
  // never works on a half-written session.
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> Open(Access access, std::string_view recover_as = "") const;
  // What Open opens: a path, file:// URI or s3:// URI.
  std::string Resolved() const;
  // The spool directory of an S3 store: --spool, else under the user's cache directory.
  std::string SpoolDir() const;
};

// --clickhouse URL (else CLICKHOUSE_URL...): the optional ClickHouse sink of annotations
// (src/annotate/clickhouse.h).
struct ClickHouseFlag {
  std::string url;
  // Adds --clickhouse to a command.
  void AddTo(CLI::App* command);
  // The sink the flag and environment select; nullptr when none is configured.
  absl::StatusOr<std::unique_ptr<annotate::ClickHouseSink>> Open() const;
};

void AddConvertCommand(CLI::App& app, Handler* handler);
void AddSessionsCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr sessions diff A B (src/compare/), registered by AddSessionsCommand.
void AddSessionsDiffCommand(CLI::App* sessions, StoreFlag* store, Handler* handler);
// otelrr validate: replay a session (or a fresh seed) into a target and prove what arrived (src/compare/).
void AddValidateCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr sessions slice | merge: new sessions made from others (src/session/slice.h, merge.h); added to
// the `sessions` command by AddSessionsCommand.
void AddSessionToolCommands(CLI::App* sessions, StoreFlag* store, Handler* handler);
// otelrr seed: generate a deterministic session from a pattern (src/generate/generator.h).
void AddSeedCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr capture: record what the OTLP receivers bring into one session (src/capture/capture_service.h).
void AddCaptureCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr serve: the OTLP receivers plus the control API (src/server/control_api.h).
void AddServeCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr replay: send a session to an OTLP endpoint (src/replay/replay.h).
void AddReplayCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr replay-report merge FILE...: the reports of a sharded replay as one (src/replay/report_json.h).
void AddReplayReportCommand(CLI::App& app, Handler* handler);
// otelrr annotate SESSION --key ... and otelrr annotations init | list | sync (src/annotate/).
void AddAnnotateCommands(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr training show | export: a session as labelled training data (src/training/).
void AddTrainingCommand(CLI::App& app, StoreFlag* store, Handler* handler);
// otelrr patterns [--json] | show NAME | check FILE...: the seed patterns (src/generate/pattern.h).
void AddPatternsCommand(CLI::App& app, Handler* handler);

// Prints "otelrr: <message>" to stderr and returns kExitFailed.
int Fail(const absl::Status& status);
int Fail(const std::string& message);
// Prints "otelrr: <message> (run 'otelrr <command> --help' for usage)" and returns kExitUsage.
int UsageError(const absl::Status& status);
int UsageError(const std::string& message);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_COMMANDS_H_
