#include "cli/compression_flags.h"

#include <fmt/format.h>

namespace otelrr::cli {

void AddCompressionFlags(CLI::App* cmd, CompressionFlags* flags, std::string_view default_text) {
  cmd->add_option("--compression", flags->compression,
                  fmt::format("how the session's raw files are compressed: zstd|gzip|none (default: {})",
                              default_text));
  cmd->add_option("--compression-level", flags->level,
                  "the compressor's level: zstd 1 to 19 (or -7 to -1: faster, larger; default 1), gzip 0 to 12 "
                  "(default 1)");
}

absl::StatusOr<std::optional<SessionCompression>> ParseCompressionFlags(const CompressionFlags& flags) {
  if (flags.compression.empty() && !flags.level) return std::optional<SessionCompression>();
  SessionCompression out;
  if (!flags.compression.empty() && !session::ParseCompression(flags.compression, &out.compression)) {
    return absl::InvalidArgumentError(
        fmt::format("--compression '{}': use zstd, gzip or none", flags.compression));
  }
  out.level = flags.level.value_or(session::DefaultCompressionLevel(out.compression));
  if (absl::Status s = session::ValidateCompressionLevel(out.compression, out.level); !s.ok()) {
    return absl::InvalidArgumentError(fmt::format("--compression-level: {}", std::string(s.message())));
  }
  return std::optional<SessionCompression>(out);
}

absl::Status ApplyCompressionFlags(const CompressionFlags& flags, session::WriterOptions* options) {
  absl::StatusOr<std::optional<SessionCompression>> c = ParseCompressionFlags(flags);
  if (!c.ok()) return c.status();
  if (*c) {
    options->compression = (*c)->compression;
    options->compression_level = (*c)->level;
  }
  return absl::OkStatus();
}

}  // namespace otelrr::cli
