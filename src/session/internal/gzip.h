// Reading gzip members, the compression unit of session files (common/gzip.h writes them).
//
//   GzipMemberReader r(std::move(object_reader), {.read_buffer_bytes = 256 << 10});
//   std::string member;
//   absl::StatusOr<MemberStatus> s = r.NextMember(&member);   // kMember, kEnd, kTruncated, kCorrupt
//
// The reader inflates one member at a time, so everything it returns has passed the member's CRC-32 and
// length check. It never returns part of a member. Members are inflated whole from a window of the
// file with libdeflate (several times faster than zlib); a member that libdeflate cannot inflate even
// with the rest of the file in the window is damaged, and zlib, which reads a stream, then says how:
// cut short or corrupt, and where.
#ifndef OTELRR_SESSION_INTERNAL_GZIP_H_
#define OTELRR_SESSION_INTERNAL_GZIP_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/gzip.h"
#include "session/internal/sha256.h"
#include "store/object_store.h"

struct libdeflate_decompressor;
struct z_stream_s;

namespace otelrr::session::internal {

using otelrr::GzipCompressor;  // common/gzip.h

enum class MemberStatus {
  kMember,     // one complete, verified member was decompressed
  kEnd,        // the object ended cleanly after the previous member
  kTruncated,  // the object ends inside a member
  kCorrupt,    // the bytes are not a valid gzip member (bad header, data, CRC or length)
};

struct GzipMemberReaderOptions {
  // The window of stored bytes kept ahead (at least 1 MiB; it grows for a member larger than half of it).
  size_t read_buffer_bytes = 256 << 10;
  // A member that decompresses to more than this is treated as corrupt (bounds memory).
  size_t max_member_bytes = 512u << 20;
  bool compute_sha256 = false;
};

class GzipMemberReader {
 public:
  GzipMemberReader(std::unique_ptr<store::ObjectReader> reader, GzipMemberReaderOptions options);
  ~GzipMemberReader();
  GzipMemberReader(const GzipMemberReader&) = delete;
  GzipMemberReader& operator=(const GzipMemberReader&) = delete;

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
  // zlib, from the current position: the exact verdict on a member libdeflate refused.
  absl::StatusOr<MemberStatus> InflateStreaming(std::string* out);

  std::unique_ptr<store::ObjectReader> reader_;
  GzipMemberReaderOptions options_;
  libdeflate_decompressor* decompressor_;
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

#endif  // OTELRR_SESSION_INTERNAL_GZIP_H_
