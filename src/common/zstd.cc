#include "common/zstd.h"

#include <zstd.h>

#include <cstdlib>

#include <fmt/format.h>

namespace otelrr {

ZstdCompressor::ZstdCompressor(int level) : context_(ZSTD_createCCtx()) {
  // Levels are validated by the callers' options; only allocation failure is left, which is fatal.
  if (context_ == nullptr) std::abort();
  ZSTD_CCtx_setParameter(context_, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(context_, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(context_, ZSTD_c_contentSizeFlag, 1);
}

ZstdCompressor::~ZstdCompressor() { ZSTD_freeCCtx(context_); }

size_t ZstdCompressor::Bound(size_t n) { return ZSTD_compressBound(n); }

absl::Status ZstdCompressor::CompressFrame(std::string_view data, std::string* out) {
  size_t bound = ZSTD_compressBound(data.size());
  size_t old = out->size();
  out->resize(old + bound);
  size_t n = ZSTD_compress2(context_, out->data() + old, bound, data.data(), data.size());
  if (ZSTD_isError(n)) {
    out->resize(old);
    return absl::InternalError(fmt::format("zstd compression failed: {}", ZSTD_getErrorName(n)));
  }
  out->resize(old + n);
  return absl::OkStatus();
}

}  // namespace otelrr
