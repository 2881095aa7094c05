// How a raw session file is compressed (docs/FORMAT.md, "Compression"): one choice per file, named by the
// file's suffix and recorded in its metadata.json entry.
//
//   gzip  ".otlp.gz"   gzip members back to back (RFC 1952), each holding whole records
//   zstd  ".otlp.zst"  zstd frames back to back (RFC 8878), each holding whole records, with content
//                      size and checksum
//   none  ".otlp"      the framed records themselves
//
//   Compression c;
//   if (!ParseCompression("zstd", &c)) ...;
//   RawFileSuffix(c)                  -> ".otlp.zst"
//   ValidateCompressionLevel(c, 25)   -> InvalidArgument: "zstd level 25 is out of range: use 1 to 19"
#ifndef OTELRR_SESSION_COMPRESSION_H_
#define OTELRR_SESSION_COMPRESSION_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace otelrr::session {

enum class Compression : uint8_t { kGzip, kZstd, kNone };

inline constexpr Compression kCompressions[] = {Compression::kGzip, Compression::kZstd, Compression::kNone};
// What new sessions use unless told otherwise: docs/FORMAT.md says why (smaller and cheaper than gzip in
// bench/codec-bench on seeded and recorded data).
inline constexpr Compression kDefaultCompression = Compression::kZstd;

std::string_view CompressionName(Compression c);  // "gzip", "zstd", "none"
bool ParseCompression(std::string_view name, Compression* out);
std::string_view RawFileSuffix(Compression c);    // ".otlp.gz", ".otlp.zst", ".otlp"
// The compression a raw file's name says, or nullopt when it ends in none of the suffixes.
std::optional<Compression> CompressionOfPath(std::string_view path);

// The level used when none is given: gzip 1 (libdeflate), zstd 1, none 0.
int DefaultCompressionLevel(Compression c);
// gzip: 0 (stored blocks) to 12; zstd: -7 to 19, not 0; none: 0 only.
absl::Status ValidateCompressionLevel(Compression c, int level);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_COMPRESSION_H_
