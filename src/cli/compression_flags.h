// --compression and --compression-level: how the raw files of a session a command writes are compressed
// (seed, capture, sessions import, copy, slice and merge). session/compression.h has the choices.
#ifndef OTELRR_CLI_COMPRESSION_FLAGS_H_
#define OTELRR_CLI_COMPRESSION_FLAGS_H_

#include <optional>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "session/compression.h"
#include "session/writer.h"

namespace otelrr::cli {

struct CompressionFlags {
  std::string compression;         // empty: the default (or, for copy, the files as they are)
  std::optional<int> level = {};  // empty: the compression's default level
};

// `what` says what is compressed ("the session's raw files"); `default_text` what happens without the flag.
void AddCompressionFlags(CLI::App* cmd, CompressionFlags* flags,
                         std::string_view default_text = "zstd, docs/FORMAT.md says why");

struct SessionCompression {
  session::Compression compression = session::kDefaultCompression;
  int level = 1;
};
// The choice the flags make (nullopt when neither flag was given); errors name the flag and the choices.
absl::StatusOr<std::optional<SessionCompression>> ParseCompressionFlags(const CompressionFlags& flags);
// The same, applied to a writer's options (unchanged when no flag was given).
absl::Status ApplyCompressionFlags(const CompressionFlags& flags, session::WriterOptions* options);

}  // namespace otelrr::cli

#endif  // OTELRR_CLI_COMPRESSION_FLAGS_H_
