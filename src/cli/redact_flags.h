// The redaction flags of `otelrr capture` and `otelrr serve` (otlp/redact.h).
#ifndef OTELRR_CLI_REDACT_FLAGS_H_
#define OTELRR_CLI_REDACT_FLAGS_H_

#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "otlp/redact.h"

namespace otelrr::cli {

struct RedactFlags {
  std::vector<std::string> rules;  // --redact, repeated
  std::string key_file;            // --redact-key-file; else $OTELRR_REDACT_KEY
  bool forward = false;            // --redact-forward
};

void AddRedactFlags(CLI::App* cmd, RedactFlags* flags);

// The redactor the flags describe, null without --redact. InvalidArgument naming the flag: a rule that does
// not parse, a body regex that does not compile, hash rules without a key, --redact-forward without
// --redact or without a `forwarding` target.
absl::StatusOr<std::unique_ptr<otlp::Redactor>> OpenRedactor(const RedactFlags& flags, bool forwarding);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_REDACT_FLAGS_H_
