// The compression units of session files: gzip members, zstd frames, or (uncompressed files) runs of
// whole records. Each holds whole records, so a file can be cut after any of them (session/compression.h).
//
//   MemberCompressor c(Compression::kZstd, /*level=*/1);
//   c.Compress(records, &file_bytes);                      // appends one member
//
//   MemberReader r(std::move(object_reader), {.compression = Compression::kZstd});
//   std::string member;
//   absl::StatusOr<MemberStatus> s = r.NextMember(&member);   // kMember, kEnd, kTruncated, kCorrupt
//
// The reader returns one member at a time, and everything it returns has passed the member's checks: for
// gzip the CRC-32 and length; for zstd the frame's content size and checksum; uncompressed files carry
// no checksum, and their "members" are the longest runs of whole records (by their headers) that fit the
// window. It never returns part of a member.
//
// gzip members are inflated whole from a window of the file with libdeflate (several times faster than
// zlib); a member that libdeflate cannot inflate even with the rest of the file in the window is damaged,
// and zlib, which reads a stream, then says how: cut short or corrupt, and where. zstd frames say their
// own compressed and content sizes, so a frame is read whole into the window and decompressed at once.
#ifndef OTELRR_SESSION_INTERNAL_MEMBERS_H_
#define OTELRR_SESSION_INTERNAL_MEMBERS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/gzip.h"
#include "common/zstd.h"
#include "session/compression.h"
#include "session/internal/sha256.h"
#include "store/object_store.h"

struct libdeflate_decompressor;
struct ZSTD_DCtx_s;

namespace otelrr::session::internal {

// Compresses whole members. Thread-compatible: one per thread.
class MemberCompressor {
 public:
  // `level` must be valid for `compression` (ValidateCompressionLevel).
  MemberCompressor(Compression compression, int level);

  // Appends `records` as one member to `out` (for kNone, the records themselves).
  absl::Status Compress(std::string_view records, std::string* out);
  // At least the stored size of `n` bytes as one member.
  static uint64_t Bound(Compression compression, uint64_t n);

 private:
  Compression compression_;
  std::optional<GzipCompressor> gzip_;
  std::optional<ZstdCompressor> zstd_;
};

enum class MemberStatus {
  kMember,     // one complete, verified member was decompressed
  kEnd,        // the object ended cleanly after the previous member
  kTruncated,  // the object ends inside a member
  kCorrupt,    // the bytes are not a valid member (bad header, data, checksum or length)
};

struct MemberReaderOptions {
  Compression compression = Compression::kGzip;
  // The window of stored bytes kept ahead (at least 512 KiB; it grows for a member larger than half of it).
  size_t read_buffer_bytes = 256 << 10;
  // A member that decompresses to more than this is treated as corrupt (bounds memory).
  size_t max_member_bytes = 512u << 20;
  bool compute_sha256 = false;
};

class MemberReader {
 public:
  MemberReader(std::unique_ptr<store::ObjectReader> reader, MemberReaderOptions options);
  ~MemberReader();
  MemberReader(const MemberReader&) = delete;
  MemberReader& operator=(const MemberReader&) = delete;

  // Replaces `out` with the next member's content. Errors are the store's read errors; damage is a status
  // value, explained by problem().
  absl::StatusOr<MemberStatus> NextMember(std::string* out);

  // Reads the rest of the object (after kTruncated or kCorrupt), so stored_bytes_read() is the object's
  // size and the checksum covers all of it.
  absl::Status Drain();

  // Stored bytes that make up the complete members returned so far: where a file could be cut.
  uint64_t valid_bytes() const { return valid_bytes_; }
  uint64_t stored_bytes_read() const { return bytes_read_; }
  uint64_t members() const { return members_; }
  const std::string& problem() const { return problem_; }
  // Of every byte read; call once, after kEnd or Drain().
  std::string Sha256Hex() { return sha_.HexDigest(); }

 private:
  // Reads more of the object onto the end of window_ (after dropping what was consumed) until it holds
  // `want` unconsumed bytes or the object ends. False when nothing more could be read.
  absl::StatusOr<bool> Fill(size_t want);
  // Makes sure the window holds at least `n` unconsumed bytes, unless the object ends first.
  absl::Status Have(size_t n);
  size_t available() const { return window_.size() - pos_; }
  const char* at() const { return window_.data() + pos_; }
  MemberStatus Accept(size_t stored_bytes);
  MemberStatus Damage(MemberStatus status, std::string problem);

  absl::StatusOr<MemberStatus> NextGzip(std::string* out);
  // zlib, from the current position: the exact verdict on a member libdeflate refused.
  absl::StatusOr<MemberStatus> InflateStreaming(std::string* out);
  absl::StatusOr<MemberStatus> NextZstd(std::string* out);
  absl::StatusOr<MemberStatus> NextRecords(std::string* out);

  std::unique_ptr<store::ObjectReader> reader_;
  MemberReaderOptions options_;
  libdeflate_decompressor* inflater_ = nullptr;
  ZSTD_DCtx_s* zstd_ = nullptr;
  std::string window_;  // stored bytes; window_[pos_, size) are not consumed yet
  size_t pos_ = 0;
  size_t window_bytes_;
  size_t out_guess_ = 1 << 20;
  bool eof_ = false;
  uint64_t bytes_read_ = 0;
  uint64_t valid_bytes_ = 0;
  uint64_t members_ = 0;
  std::string problem_;
  Sha256 sha_;
};

}  // namespace otelrr::session::internal

#endif  // OTELRR_SESSION_INTERNAL_MEMBERS_H_
