// The flags that describe a generated session (pattern, duration, rate, error rate, seed, start time,
// signals, preset), shared by `otelrr seed` and `otelrr validate --pattern`.
#ifndef OTELRR_CLI_SEED_FLAGS_H_
#define OTELRR_CLI_SEED_FLAGS_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "generate/generator.h"

namespace otelrr::cli {

struct GeneratorFlags {
  std::string pattern = "basic-topology";
  std::string pattern_file;
  double duration = 60;
  double rate = 10;
  double error_rate = 0.05;
  std::string seed;  // parsed strictly: CLI11 would wrap "-1" around to 2^64 - 1
  std::string start_time;
  std::vector<std::string> signals;
  std::string preset;
  bool has_seed = false;
  bool duration_given = false;
  bool rate_given = false;
  bool pattern_given = false;
};

// Adds the flags to `cmd`; call MarkGiven from the command's callback.
void AddGeneratorFlags(CLI::App* cmd, GeneratorFlags* flags);
void MarkGiven(const CLI::App& cmd, GeneratorFlags* flags);

// The seed the flags describe (without session id, description or retention). InvalidArgument names the
// flag (a usage error); other errors are the pattern file's (not readable, not a pattern).
absl::StatusOr<generate::SeedConfig> GeneratorConfig(const GeneratorFlags& flags);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_SEED_FLAGS_H_
