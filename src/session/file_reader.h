// Reads the records of one raw session file, streaming: one member (gzip member, zstd frame or run of
// records, by the file name's suffix: session/compression.h) in memory at a time.
//
//   absl::StatusOr<std::unique_ptr<FileReader>> r = FileReader::Open(store, key, {});
//   Record rec;
//   while (true) {
//     absl::StatusOr<bool> more = (*r)->Next(&rec);
//     if (!more.ok()) return more.status();      // damaged file (DataLoss), or a store error
//     if (!*more) break;
//     Use(rec);
//   }
//
// Every record returned comes from a complete member whose checks passed (gzip CRC-32 and length, zstd
// content size and checksum), and whose records all decode: a member is checked whole before any of its
// records is returned.
//
// With `stop_at_damage`, a damaged member (the file ends inside it, it fails to decompress, or its
// records do not frame exactly) ends the file cleanly instead of failing: Next returns false and
// damage() says where the intact prefix ends and how many stored bytes follow it. This is the crash
// recovery mode: a writer that died mid-member leaves exactly that, and cutting the file at
// damage()->valid_bytes gives a file whose every member is complete.
#ifndef OTELRR_SESSION_FILE_READER_H_
#define OTELRR_SESSION_FILE_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "session/compression.h"
#include "session/internal/members.h"
#include "session/record.h"
#include "store/object_store.h"

namespace otelrr::session {

struct FileReaderOptions {
  bool stop_at_damage = false;
  size_t read_buffer_bytes = 256 << 10;
  // Compute the SHA-256 of the stored bytes (Verify uses it); see FileReader::Sha256Hex.
  bool compute_sha256 = false;
};

struct FileDamage {
  std::string key;
  uint64_t valid_bytes = 0;    // stored bytes of the complete members before the damage
  uint64_t dropped_bytes = 0;  // stored bytes from there to the end of the file
  std::string reason;
};

class FileReader {
 public:
  static absl::StatusOr<std::unique_ptr<FileReader>> Open(store::ObjectStore& store, std::string key,
                                                          FileReaderOptions options);

  // Reads the next record into `out`: true, or false at the end of the file (or at the damage, when
  // stopping at damage). DataLoss describes damage otherwise; other codes come from the store.
  absl::StatusOr<bool> Next(Record* out);

  const std::string& key() const { return key_; }
  Compression compression() const { return compression_; }
  // Set once Next stopped at damage.
  const std::optional<FileDamage>& damage() const { return damage_; }
  uint64_t records() const { return records_; }
  // Framed bytes (headers and payloads) of the records returned.
  uint64_t uncompressed_bytes() const { return uncompressed_bytes_; }
  uint64_t stored_bytes_read() const { return members_.stored_bytes_read(); }
  uint64_t members() const { return members_.members(); }
  // SHA-256 of all stored bytes; valid once Next returned false, with compute_sha256 set. Call once.
  std::string Sha256Hex() { return members_.Sha256Hex(); }

 private:
  FileReader(std::string key, std::unique_ptr<store::ObjectReader> reader, FileReaderOptions options);
  // Loads the next member and checks its framing; false at the end or when stopped at damage.
  absl::StatusOr<bool> LoadMember();
  absl::StatusOr<bool> Damaged(uint64_t valid_bytes, std::string reason);

  std::string key_;
  Compression compression_;
  FileReaderOptions options_;
  internal::MemberReader members_;
  std::string member_;
  size_t pos_ = 0;
  bool done_ = false;
  std::optional<FileDamage> damage_;
  uint64_t records_ = 0;
  uint64_t uncompressed_bytes_ = 0;
};

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_FILE_READER_H_
