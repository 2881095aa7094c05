#include "session/internal/gzip.h"

#include <libdeflate.h>
#include <zlib.h>

#include <cstdlib>

#include <fmt/format.h>

namespace otelrr::session::internal {

GzipCompressor::GzipCompressor(int level) : compressor_(libdeflate_alloc_compressor(level)) {
  // Levels are validated by WriterOptions users; only allocation failure is left, which is fatal.
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

GzipMemberReader::GzipMemberReader(std::unique_ptr<store::ObjectReader> reader, GzipMemberReaderOptions options)
    : reader_(std::move(reader)), options_(options), zs_(std::make_unique<z_stream_s>()) {
  in_.resize(options_.read_buffer_bytes == 0 ? 1 : options_.read_buffer_bytes);
  *zs_ = z_stream_s{};
  // 16 + 15: a gzip wrapper and the largest window. Only allocation can fail here.
  if (inflateInit2(zs_.get(), 16 + MAX_WBITS) != Z_OK) std::abort();
}

GzipMemberReader::~GzipMemberReader() { inflateEnd(zs_.get()); }

absl::StatusOr<bool> GzipMemberReader::Refill() {
  if (eof_) return false;
  absl::StatusOr<size_t> n = reader_->Read(in_.data(), in_.size());
  if (!n.ok()) return n.status();
  if (*n == 0) {
    eof_ = true;
    return false;
  }
  bytes_read_ += *n;
  if (options_.compute_sha256) sha_.Update(std::string_view(in_.data(), *n));
  zs_->next_in = reinterpret_cast<Bytef*>(in_.data());
  zs_->avail_in = static_cast<uInt>(*n);
  return true;
}

absl::StatusOr<MemberStatus> GzipMemberReader::NextMember(std::string* out) {
  constexpr size_t kOutChunk = 64 << 10;
  out->clear();
  bool started = false;
  while (true) {
    if (zs_->avail_in == 0) {
      absl::StatusOr<bool> more = Refill();
      if (!more.ok()) return more.status();
      if (!*more) {
        if (!started) return MemberStatus::kEnd;
        problem_ = fmt::format("the gzip member starting at byte {} is cut short (the file ends inside it)",
                               valid_bytes_);
        return MemberStatus::kTruncated;
      }
    }
    started = true;
    size_t old = out->size();
    out->resize(old + kOutChunk);
    zs_->next_out = reinterpret_cast<Bytef*>(out->data() + old);
    zs_->avail_out = static_cast<uInt>(kOutChunk);
    int rc = inflate(zs_.get(), Z_NO_FLUSH);
    out->resize(old + kOutChunk - zs_->avail_out);
    if (out->size() > options_.max_member_bytes) {
      problem_ = fmt::format("the gzip member starting at byte {} decompresses to more than {} bytes", valid_bytes_,
                             options_.max_member_bytes);
      return MemberStatus::kCorrupt;
    }
    if (rc == Z_STREAM_END) {
      valid_bytes_ = bytes_read_ - zs_->avail_in;
      ++members_;
      inflateReset(zs_.get());
      return MemberStatus::kMember;
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) continue;
    problem_ = fmt::format("the gzip member starting at byte {} is corrupt: {}", valid_bytes_,
                           zs_->msg != nullptr ? zs_->msg : "invalid data");
    return MemberStatus::kCorrupt;
  }
}

absl::Status GzipMemberReader::Drain() {
  zs_->avail_in = 0;
  while (true) {
    absl::StatusOr<bool> more = Refill();
    if (!more.ok()) return more.status();
    if (!*more) return absl::OkStatus();
    zs_->avail_in = 0;
  }
}

}  // namespace otelrr::session::internal
