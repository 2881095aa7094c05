#include "common/gzip.h"

#include <libdeflate.h>

#include <cstdlib>

namespace otelrr {

GzipCompressor::GzipCompressor(int level) : compressor_(libdeflate_alloc_compressor(level)) {
  // Levels are validated by the callers' options; only allocation failure is left, which is fatal.
  if (compressor_ == nullptr) std::abort();
}

GzipCompressor::~GzipCompressor() { libdeflate_free_compressor(compressor_); }

absl::Status GzipCompressor::CompressMember(std::string_view data, std::string* out) {
  size_t bound = libdeflate_gzip_compress_bound(compressor_, data.size());
  size_t old = out->size();
  out->resize(old + bound);
  size_t n = libdeflate_gzip_compress(compressor_, data.data(), data.size(), out->data() + old, bound);
  if (n == 0) {
    out->resize(old);
    return absl::InternalError("gzip compression failed (output larger than its bound)");
  }
  out->resize(old + n);
  return absl::OkStatus();
}

}  // namespace otelrr
