// Gzip members, the compression unit of session files.
//
//   GzipCompressor c(/*level=*/1);              // 0 = stored blocks (still gzip, still CRC-checked)
//   c.CompressMember(records, &out);            // appends one complete gzip member
//
//   GzipMemberReader r(std::move(object_reader), {.read_buffer_bytes = 256 << 10});
//   std::string member;
//   absl::StatusOr<MemberStatus> s = r.NextMember(&member);   // kMember, kEnd, kTruncated, kCorrupt
//
// The reader inflates one member at a time (zlib, gzip wrapper), so everything it returns has passed the
// member's CRC-32 and length check. It never returns part of a member.
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
#include "session/internal/sha256.h"
#include "store/object_store.h"

struct libdeflate_compressor;
struct z_stream_s;

namespace otelrr::session::internal {

class GzipCompressor {
 public:
  explicit GzipCompressor(int level);
  ~GzipCompressor();
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  // Appends `data` as one complete gzip member to `out`.
  absl::Status CompressMember(std::string_view data, std::string* out);

 private:
  libdeflate_compressor* compressor_;
};

enum class MemberStatus {
  kMember,     // one complete, verified member was decompressed
  kEnd,        // the object ended cleanly after the previous member
  kTruncated,  // the object ends inside a member
  kCorrupt,    // the bytes are not a valid gzip member (bad header, data, CRC or length)
};

struct GzipMemberReaderOptions {
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
  absl::StatusOr<bool> Refill();

  std::unique_ptr<store::ObjectReader> reader_;
  GzipMemberReaderOptions options_;
  std::unique_ptr<z_stream_s> zs_;
  std::vector<char> in_;
  bool eof_ = false;
  uint64_t bytes_read_ = 0;
  uint64_t valid_bytes_ = 0;
  uint64_t members_ = 0;
  std::string problem_;
  Sha256 sha_;
};

}  // namespace otelrr::session::internal

#endif  // OTELRR_SESSION_INTERNAL_GZIP_H_
