#include "cli/redact_flags.h"

#include <cstdlib>
#include <utility>

#include "cli/io.h"
#include "common/status.h"
#include "fmt/format.h"

namespace otelrr::cli {

void AddRedactFlags(CLI::App* cmd, RedactFlags* f) {
  cmd->add_option("--redact", f->rules,
                  "redact what is stored (repeatable): drop:KEY, hash:KEY (keyed HMAC-SHA256), replace:KEY=VALUE for "
                  "attributes whose key matches the glob KEY, at every level (resource, scope, span, event, link, "
                  "data point, exemplar, log record); body:REGEX masks matches in log bodies with ****");
  cmd->add_option("--redact-key-file", f->key_file,
                  "the secret key of hash: rules, read from this file (default: $OTELRR_REDACT_KEY); 16 bytes or more");
  cmd->add_flag("--redact-forward", f->forward, "with --forward: send the redacted copy downstream too");
}

absl::StatusOr<std::unique_ptr<otlp::Redactor>> OpenRedactor(const RedactFlags& f, bool forwarding) {
  if (f.rules.empty()) {
    if (f.forward) return absl::InvalidArgumentError("--redact-forward needs --redact rules");
    if (!f.key_file.empty()) return absl::InvalidArgumentError("--redact-key-file needs --redact hash: rules");
    return nullptr;
  }
  if (f.forward && !forwarding) return absl::InvalidArgumentError("--redact-forward needs --forward");
  std::vector<otlp::RedactionRule> rules;
  for (const std::string& text : f.rules) {
    absl::StatusOr<otlp::RedactionRule> r = otlp::ParseRedactionRule(text);
    if (!r.ok()) return Prefixed(r.status(), "--redact");
    rules.push_back(std::move(*r));
  }
  std::string key;
  if (!f.key_file.empty()) {
    absl::StatusOr<std::string> read = ReadInput(f.key_file);  // a directory or unreadable file: an error
    if (!read.ok()) return absl::InvalidArgumentError(fmt::format("--redact-key-file {}", read.status().message()));
    key = *std::move(read);
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();  // `echo key > file`
  } else if (const char* env = std::getenv("OTELRR_REDACT_KEY"); env != nullptr) {
    key = env;
  }
  absl::StatusOr<std::unique_ptr<otlp::Redactor>> r = otlp::Redactor::Create(std::move(rules), std::move(key));
  if (!r.ok()) return Prefixed(r.status(), "--redact");
  return r;
}

}  // namespace otelrr::cli
