#include "session/internal/gzip.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include <fmt/format.h>

namespace otelrr::session::internal {

GzipMemberReader::GzipMemberReader(std::unique_ptr<store::ObjectReader> reader, GzipMemberReaderOptions options)
    : reader_(std::move(reader)),
      options_(options),
      decompressor_(libdeflate_alloc_decompressor()),
      window_bytes_(std::max<size_t>(options.read_buffer_bytes, 512 << 10)) {
  if (decompressor_ == nullptr) std::abort();  // allocation failure only
}

GzipMemberReader::~GzipMemberReader() { libdeflate_free_decompressor(decompressor_); }

absl::StatusOr<bool> GzipMemberReader::Fill(size_t want) {
  if (pos_ > 0) {
    window_.erase(0, pos_);
    pos_ = 0;
  }
  bool any = false;
  while (!eof_ && window_.size() < want) {
    size_t old = window_.size();
    size_t chunk = std::max<size_t>(want - old, 64 << 10);
    window_.resize(old + chunk);
    absl::StatusOr<size_t> n = reader_->Read(window_.data() + old, chunk);
    if (!n.ok()) {
      window_.resize(old);
      return n.status();
    }
    window_.resize(old + *n);
    if (*n == 0) {
      eof_ = true;
      break;
    }
    any = true;
    bytes_read_ += *n;
    if (options_.compute_sha256) sha_.Update(std::string_view(window_.data() + old, *n));
  }
  return any;
}

absl::StatusOr<MemberStatus> GzipMemberReader::NextMember(std::string* out) {
  size_t want = window_bytes_;
  while (true) {
    // Keep at least half a window ahead, so that a member rarely straddles the window's end.
    if (!eof_ && window_.size() - pos_ < want / 2) {
      if (absl::StatusOr<bool> more = Fill(want); !more.ok()) return more.status();
    }
    if (pos_ == window_.size() && eof_) {
      out->clear();
      return MemberStatus::kEnd;
    }
    // Room for the member (libdeflate needs it up front), never more than the limit allows plus one byte.
    out->resize(std::min(std::max(out->size(), out_guess_), options_.max_member_bytes + 1));
    size_t in_used = 0, out_used = 0;
    libdeflate_result r = libdeflate_gzip_decompress_ex(decompressor_, window_.data() + pos_, window_.size() - pos_,
                                                        out->data(), out->size(), &in_used, &out_used);
    if (r == LIBDEFLATE_SUCCESS) {
      out->resize(out_used);
      pos_ += in_used;
      valid_bytes_ += in_used;
      ++members_;
      return MemberStatus::kMember;
    }
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE && out->size() <= options_.max_member_bytes) {
      out_guess_ = std::min(2 * out->size(), options_.max_member_bytes + 1);
      continue;
    }
    if (r == LIBDEFLATE_BAD_DATA && !eof_ && window_.size() - pos_ < 8 * window_bytes_) {
      // The member may go on past the window: widen it and try again.
      want = 2 * std::max(want, window_.size() - pos_);
      if (absl::StatusOr<bool> more = Fill(want); !more.ok()) return more.status();
      continue;
    }
    return InflateStreaming(out);
  }
}

absl::StatusOr<MemberStatus> GzipMemberReader::InflateStreaming(std::string* out) {
  // The member at pos_ is damaged, or larger than the window can reasonably grow to: inflate it as a
  // stream, reading on as needed, to find where and how it goes wrong (or, rarely, that it is fine).
  z_stream zs{};
  // 16 + 15: a gzip wrapper and the largest window. Only allocation can fail here.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) std::abort();
  size_t consumed = 0;  // of the member, from pos_
  auto point_in = [&] {
    zs.next_in = reinterpret_cast<Bytef*>(window_.data() + pos_ + consumed);
    zs.avail_in = static_cast<uInt>(std::min<size_t>(window_.size() - pos_ - consumed, UINT32_MAX));
  };
  point_in();
  constexpr size_t kOutChunk = 64 << 10;
  out->clear();
  MemberStatus status = MemberStatus::kCorrupt;
  absl::Status read_error;
  while (true) {
    if (zs.avail_in == 0 && !eof_) {
      // Fill keeps the member (from pos_, which becomes 0) and appends what follows.
      absl::StatusOr<bool> more = Fill(window_.size() - pos_ + window_bytes_);
      if (!more.ok()) {
        read_error = more.status();
        break;
      }
      point_in();
    }
    size_t old = out->size();
    out->resize(old + kOutChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + old);
    zs.avail_out = static_cast<uInt>(kOutChunk);
    const Bytef* before = zs.next_in;
    int rc = inflate(&zs, Z_NO_FLUSH);
    consumed += static_cast<size_t>(zs.next_in - before);
    out->resize(old + kOutChunk - zs.avail_out);
    if (out->size() > options_.max_member_bytes) {
      problem_ = fmt::format("the gzip member starting at byte {} decompresses to more than {} bytes", valid_bytes_,
                             options_.max_member_bytes);
      break;
    }
    if (rc == Z_STREAM_END) {  // libdeflate refused what zlib accepts: take zlib's word
      pos_ += consumed;
      valid_bytes_ += consumed;
      ++members_;
      status = MemberStatus::kMember;
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && eof_) {
      problem_ = fmt::format("the gzip member starting at byte {} is cut short (the file ends inside it)",
                             valid_bytes_);
      status = MemberStatus::kTruncated;
      break;
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) continue;
    problem_ = fmt::format("the gzip member starting at byte {} is corrupt: {}", valid_bytes_,
                           zs.msg != nullptr ? zs.msg : "invalid data");
    break;
  }
  inflateEnd(&zs);
  if (!read_error.ok()) return read_error;
  return status;
}

absl::Status GzipMemberReader::Drain() {
  window_.clear();
  pos_ = 0;
  while (!eof_) {
    if (absl::StatusOr<bool> more = Fill(window_bytes_); !more.ok()) return more.status();
    window_.clear();
  }
  return absl::OkStatus();
}

}  // namespace otelrr::session::internal
