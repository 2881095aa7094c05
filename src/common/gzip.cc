#include "common/gzip.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>

#include "fmt/format.h"

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

GzipStream::GzipStream(int level) : z_(std::make_unique<z_stream_s>()) {
  // 16 + 15: a gzip wrapper and the largest window. Only allocation can fail here, which is fatal.
  if (deflateInit2(z_.get(), level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
}

GzipStream::~GzipStream() { deflateEnd(z_.get()); }

absl::Status GzipStream::Write(std::string_view data, std::string* out) { return Deflate(data, Z_NO_FLUSH, out); }

absl::Status GzipStream::Finish(std::string* out) { return Deflate({}, Z_FINISH, out); }

absl::Status GzipStream::Deflate(std::string_view data, int flush, std::string* out) {
  z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z_->avail_in = static_cast<uInt>(data.size());  // callers write chunks of megabytes, far below 4 GiB
  for (;;) {
    const size_t old = out->size();
    const size_t room = std::max<size_t>(deflateBound(z_.get(), z_->avail_in), 64 << 10);
    out->resize(old + room);
    z_->next_out = reinterpret_cast<Bytef*>(out->data() + old);
    z_->avail_out = static_cast<uInt>(room);
    const int r = deflate(z_.get(), flush);
    out->resize(old + room - z_->avail_out);
    if (r == Z_STREAM_END) return absl::OkStatus();
    // Z_BUF_ERROR: nothing left to do, which is fine while writing (no input) and wrong when finishing.
    if (r != Z_OK && (r != Z_BUF_ERROR || flush == Z_FINISH)) {
      return absl::InternalError(fmt::format("gzip compression failed: zlib error {}", r));
    }
    if (flush == Z_NO_FLUSH && z_->avail_in == 0) return absl::OkStatus();
  }
}

}  // namespace otelrr
