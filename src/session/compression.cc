#include "session/compression.h"

#include <fmt/format.h>

namespace otelrr::session {

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kNone:
      return "none";
  }
  return "gzip";
}

bool ParseCompression(std::string_view name, Compression* out) {
  for (Compression c : kCompressions) {
    if (name == CompressionName(c)) {
      *out = c;
      return true;
    }
  }
  return false;
}

std::string_view RawFileSuffix(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return ".otlp.gz";
    case Compression::kZstd:
      return ".otlp.zst";
    case Compression::kNone:
      return ".otlp";
  }
  return ".otlp.gz";
}

std::optional<Compression> CompressionOfPath(std::string_view path) {
  // ".otlp" is a suffix of neither of the others, so the order does not matter.
  for (Compression c : kCompressions) {
    if (path.ends_with(RawFileSuffix(c))) return c;
  }
  return std::nullopt;
}

int DefaultCompressionLevel(Compression c) { return c == Compression::kNone ? 0 : 1; }

absl::Status ValidateCompressionLevel(Compression c, int level) {
  switch (c) {
    case Compression::kGzip:
      if (level >= 0 && level <= 12) return absl::OkStatus();
      return absl::InvalidArgumentError(
          fmt::format("gzip level {} is out of range: use 0 (stored, no compression) to 12", level));
    case Compression::kZstd:
      if (level >= -7 && level <= 19 && level != 0) return absl::OkStatus();
      return absl::InvalidArgumentError(
          fmt::format("zstd level {} is out of range: use 1 to 19 (or -7 to -1, faster and larger)", level));
    case Compression::kNone:
      if (level == 0) return absl::OkStatus();
      return absl::InvalidArgumentError(fmt::format("compression none takes no level (got {})", level));
  }
  return absl::OkStatus();
}

}  // namespace otelrr::session
