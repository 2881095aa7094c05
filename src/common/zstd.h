// Zstandard compression: one complete zstd frame per call, with the content size in its header and a
// content checksum at its end. Session files can be sequences of such frames (session/compression.h).
//
//   ZstdCompressor c(/*level=*/1);
//   std::string out;
//   absl::Status s = c.CompressFrame(data, &out);   // appends one frame to out
//
// Thread-compatible: one compressor per thread (it keeps its context, so repeated calls allocate nothing).
#ifndef OTELRR_COMMON_ZSTD_H_
#define OTELRR_COMMON_ZSTD_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

struct ZSTD_CCtx_s;

namespace otelrr {

class ZstdCompressor {
 public:
  // `level`: zstd's levels, 1 to 19 (negative levels, -7 to -1, trade ratio for speed).
  explicit ZstdCompressor(int level);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // Appends `data` as one complete frame (content size and checksum set) to `out`.
  absl::Status CompressFrame(std::string_view data, std::string* out);

  // The most bytes one frame of `n` bytes can take.
  static size_t Bound(size_t n);

 private:
  ZSTD_CCtx_s* context_;
};

}  // namespace otelrr

#endif  // OTELRR_COMMON_ZSTD_H_
