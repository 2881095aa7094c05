#include "session/internal/members.h"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "otlp/wire.h"
#include "session/record.h"

namespace otelrr::session::internal {

MemberCompressor::MemberCompressor(Compression compression, int level) : compression_(compression) {
  if (compression == Compression::kGzip) gzip_.emplace(level);
  if (compression == Compression::kZstd) zstd_.emplace(level);
}

absl::Status MemberCompressor::Compress(std::string_view records, std::string* out) {
  switch (compression_) {
    case Compression::kGzip:
      return gzip_->CompressMember(records, out);
    case Compression::kZstd:
      return zstd_->CompressFrame(records, out);
    case Compression::kNone:
      out->append(records);
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

uint64_t MemberCompressor::Bound(Compression compression, uint64_t n) {
  switch (compression) {
    case Compression::kGzip:
      // libdeflate's bound is n plus 5 bytes per (at least 5000-byte) block plus the gzip header, trailer
      // and padding; this is generous.
      return n + n / 64 + 1024;
    case Compression::kZstd:
      return ZstdCompressor::Bound(n);
    case Compression::kNone:
      return n;
  }
  return n;
}

MemberReader::MemberReader(std::unique_ptr<store::ObjectReader> reader, MemberReaderOptions options)
    : reader_(std::move(reader)),
      options_(options),
      window_bytes_(std::max<size_t>(options.read_buffer_bytes, 512 << 10)) {
  // Only allocation can fail here, which is fatal.
  if (options_.compression == Compression::kGzip && (inflater_ = libdeflate_alloc_decompressor()) == nullptr) {
    std::abort();
  }
  if (options_.compression == Compression::kZstd && (zstd_ = ZSTD_createDCtx()) == nullptr) std::abort();
}

MemberReader::~MemberReader() {
  if (inflater_ != nullptr) libdeflate_free_decompressor(inflater_);
  if (zstd_ != nullptr) ZSTD_freeDCtx(zstd_);
}

absl::StatusOr<bool> MemberReader::Fill(size_t want) {
  if (pos_ > 0) {
    window_.erase(0, pos_);
    pos_ = 0;
  }
  bool any = false;
  while (!eof_ && window_.size() < want) {
    size_t old = window_.size();
    // Reads grow with what the object turned out to hold (64 KiB first, then up to what was read so far):
    // a small file costs a small buffer, not a zero-filled window of 512 KiB, and a large one reaches the
    // full window after a few reads.
    size_t chunk = std::max<size_t>(std::min<uint64_t>(want - old, std::max<uint64_t>(bytes_read_, 64 << 10)),
                                    64 << 10);
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

absl::Status MemberReader::Have(size_t n) {
  if (eof_ || available() >= n) return absl::OkStatus();
  absl::StatusOr<bool> more = Fill(std::max(n, window_bytes_));
  return more.ok() ? absl::OkStatus() : more.status();
}

MemberStatus MemberReader::Accept(size_t stored_bytes) {
  pos_ += stored_bytes;
  valid_bytes_ += stored_bytes;
  ++members_;
  return MemberStatus::kMember;
}

MemberStatus MemberReader::Damage(MemberStatus status, std::string problem) {
  problem_ = std::move(problem);
  return status;
}

absl::StatusOr<MemberStatus> MemberReader::NextMember(std::string* out) {
  // Keep at least half a window ahead, so that a member rarely straddles the window's end.
  if (absl::Status s = Have(window_bytes_ / 2); !s.ok()) return s;
  if (available() == 0) {
    out->clear();
    return MemberStatus::kEnd;
  }
  switch (options_.compression) {
    case Compression::kGzip:
      return NextGzip(out);
    case Compression::kZstd:
      return NextZstd(out);
    case Compression::kNone:
      return NextRecords(out);
  }
  return MemberStatus::kCorrupt;
}

absl::StatusOr<MemberStatus> MemberReader::NextGzip(std::string* out) {
  size_t want = window_bytes_;
  while (true) {
    // Room for the member (libdeflate needs it up front), never more than the limit allows plus one byte.
    out->resize(std::min(std::max(out->size(), out_guess_), options_.max_member_bytes + 1));
    size_t in_used = 0, out_used = 0;
    libdeflate_result r = libdeflate_gzip_decompress_ex(inflater_, at(), available(), out->data(), out->size(),
                                                        &in_used, &out_used);
    if (r == LIBDEFLATE_SUCCESS) {
      out->resize(out_used);
      return Accept(in_used);
    }
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE && out->size() <= options_.max_member_bytes) {
      out_guess_ = std::min(2 * out->size(), options_.max_member_bytes + 1);
      continue;
    }
    if (r == LIBDEFLATE_BAD_DATA && !eof_ && available() < 8 * window_bytes_) {
      // The member may go on past the window: widen it and try again.
      want = 2 * std::max(want, available());
      if (absl::StatusOr<bool> more = Fill(want); !more.ok()) return more.status();
      continue;
    }
    return InflateStreaming(out);
  }
}

absl::StatusOr<MemberStatus> MemberReader::NextZstd(std::string* out) {
  // The frame's stored size, from its header and block headers; zstd says when it needs more bytes.
  const size_t max_stored = ZSTD_compressBound(options_.max_member_bytes) + 4096;
  size_t stored = 0;
  while (true) {
    stored = ZSTD_findFrameCompressedSize(at(), available());
    if (!ZSTD_isError(stored)) break;
    if (ZSTD_getErrorCode(stored) != ZSTD_error_srcSize_wrong) {
      return Damage(MemberStatus::kCorrupt, fmt::format("the zstd frame starting at byte {} is corrupt: {}",
                                                        valid_bytes_, ZSTD_getErrorName(stored)));
    }
    if (eof_) {
      return Damage(MemberStatus::kTruncated,
                    fmt::format("the zstd frame starting at byte {} is cut short (the file ends inside it)",
                                valid_bytes_));
    }
    if (available() > max_stored) {
      return Damage(MemberStatus::kCorrupt, fmt::format("the zstd frame starting at byte {} decompresses to more "
                                                        "than {} bytes",
                                                        valid_bytes_, options_.max_member_bytes));
    }
    if (absl::StatusOr<bool> more = Fill(2 * std::max(available(), window_bytes_)); !more.ok()) return more.status();
  }
  unsigned long long content = ZSTD_getFrameContentSize(at(), stored);
  if (content == ZSTD_CONTENTSIZE_ERROR) {
    return Damage(MemberStatus::kCorrupt,
                  fmt::format("the zstd frame starting at byte {} has a corrupt header", valid_bytes_));
  }
  if (content != ZSTD_CONTENTSIZE_UNKNOWN && content > options_.max_member_bytes) {
    return Damage(MemberStatus::kCorrupt, fmt::format("the zstd frame starting at byte {} decompresses to more "
                                                      "than {} bytes",
                                                      valid_bytes_, options_.max_member_bytes));
  }
  // A frame written by otelrr says its size; another writer's may not: then grow the room as gzip does.
  size_t room = content != ZSTD_CONTENTSIZE_UNKNOWN ? static_cast<size_t>(content) : out_guess_;
  while (true) {
    out->resize(room);
    size_t n = ZSTD_decompressDCtx(zstd_, out->data(), out->size(), at(), stored);
    if (!ZSTD_isError(n)) {
      if (content != ZSTD_CONTENTSIZE_UNKNOWN && n != content) break;
      out->resize(n);
      return Accept(stored);
    }
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall && content == ZSTD_CONTENTSIZE_UNKNOWN &&
        room <= options_.max_member_bytes) {
      room = out_guess_ = std::min(2 * room, options_.max_member_bytes + 1);
      continue;
    }
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall && content == ZSTD_CONTENTSIZE_UNKNOWN) {
      return Damage(MemberStatus::kCorrupt, fmt::format("the zstd frame starting at byte {} decompresses to "
                                                        "more than {} bytes",
                                                        valid_bytes_, options_.max_member_bytes));
    }
    return Damage(MemberStatus::kCorrupt, fmt::format("the zstd frame starting at byte {} is corrupt: {}",
                                                      valid_bytes_, ZSTD_getErrorName(n)));
  }
  return Damage(MemberStatus::kCorrupt,
                fmt::format("the zstd frame starting at byte {} holds fewer bytes than its header says", valid_bytes_));
}

absl::StatusOr<MemberStatus> MemberReader::NextRecords(std::string* out) {
  // The longest run of whole records in the window, up to half of it (at least one record, however large).
  const size_t target = window_bytes_ / 2;
  size_t n = 0;
  while (n < target) {
    std::string_view rest(at() + n, available() - n);
    if (rest.empty()) break;
    // Bytes this record needs: its header first (the header size field is at bytes 4-7), then all of it.
    uint64_t need = kRecordHeaderSize;
    if (rest.size() >= kRecordHeaderSize) {
      uint32_t header_size = otlp::LoadLE32(reinterpret_cast<const uint8_t*>(rest.data()) + 4);
      bool header_fits = header_size <= rest.size() || header_size > kMaxRecordHeaderSize ||
                         std::memcmp(rest.data(), kRecordMagic, sizeof(kRecordMagic)) != 0;
      need = header_size;
      if (header_fits) {
        absl::StatusOr<RecordHeader> h = DecodeRecordHeader(rest);
        if (!h.ok()) {
          return Damage(MemberStatus::kCorrupt, fmt::format("the record starting at byte {} is corrupt: {}",
                                                            valid_bytes_ + n, std::string(h.status().message())));
        }
        need = h->record_size();
        if (need <= rest.size()) {
          n += need;
          continue;
        }
      }
    }
    // The record goes on past the window.
    if (n > 0) break;
    if (eof_) {
      return Damage(MemberStatus::kTruncated,
                    fmt::format("the record starting at byte {} is cut short (the file ends inside it)", valid_bytes_));
    }
    if (absl::Status s = Have(need); !s.ok()) return s;
  }
  out->assign(at(), n);
  return Accept(n);
}

absl::StatusOr<MemberStatus> MemberReader::InflateStreaming(std::string* out) {
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

absl::Status MemberReader::Drain() {
  window_.clear();
  pos_ = 0;
  while (!eof_) {
    if (absl::StatusOr<bool> more = Fill(window_bytes_); !more.ok()) return more.status();
    window_.clear();
  }
  return absl::OkStatus();
}

}  // namespace otelrr::session::internal
