#include "session/file_reader.h"

#include <fmt/format.h>

namespace otelrr::session {
namespace {

std::string_view MemberName(Compression c) {
  switch (c) {
    case Compression::kGzip:
      return "gzip member";
    case Compression::kZstd:
      return "zstd frame";
    case Compression::kNone:
      return "run of records";
  }
  return "member";
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileReader>> FileReader::Open(store::ObjectStore& store, std::string key,
                                                             FileReaderOptions options) {
  absl::StatusOr<std::unique_ptr<store::ObjectReader>> reader = store.Get(key);
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<FileReader>(new FileReader(std::move(key), std::move(*reader), options));
}

FileReader::FileReader(std::string key, std::unique_ptr<store::ObjectReader> reader, FileReaderOptions options)
    : key_(std::move(key)),
      // A name with none of the suffixes is read as gzip, the only compression before there was a choice.
      compression_(CompressionOfPath(key_).value_or(Compression::kGzip)),
      options_(options),
      members_(std::move(reader), {.compression = compression_,
                                   .read_buffer_bytes = options.read_buffer_bytes,
                                   .compute_sha256 = options.compute_sha256}) {}

absl::StatusOr<bool> FileReader::Damaged(uint64_t valid_bytes, std::string reason) {
  done_ = true;
  if (!options_.stop_at_damage) {
    return absl::DataLossError(fmt::format("{}: {}", key_, reason));
  }
  // Read to the end so the dropped byte count (and the checksum) cover the whole file.
  if (absl::Status s = members_.Drain(); !s.ok()) return s;
  damage_ = FileDamage{.key = key_,
                       .valid_bytes = valid_bytes,
                       .dropped_bytes = members_.stored_bytes_read() - valid_bytes,
                       .reason = std::move(reason)};
  return false;
}

absl::StatusOr<bool> FileReader::LoadMember() {
  while (true) {
    uint64_t member_start = members_.valid_bytes();
    absl::StatusOr<internal::MemberStatus> st = members_.NextMember(&member_);
    if (!st.ok()) return st.status();
    switch (*st) {
      case internal::MemberStatus::kEnd:
        done_ = true;
        return false;
      case internal::MemberStatus::kTruncated:
      case internal::MemberStatus::kCorrupt:
        return Damaged(member_start, members_.problem());
      case internal::MemberStatus::kMember:
        break;
    }
    // Check the whole member's framing before returning any of it, so a bad member is dropped whole.
    std::string_view rest = member_;
    uint64_t offset = 0;
    while (!rest.empty()) {
      absl::StatusOr<RecordHeader> h = DecodeRecordHeader(rest);
      if (h.ok() && rest.size() < h->record_size()) {
        h = absl::DataLossError(fmt::format("record payload cut short: {} of {} bytes",
                                            rest.size() - h->header_size, h->payload_size));
      }
      if (!h.ok()) {
        return Damaged(member_start,
                       fmt::format("the {} starting at byte {} holds a bad record at offset {}: {}",
                                   MemberName(compression_), member_start, offset, std::string(h.status().message())));
      }
      rest.remove_prefix(h->record_size());
      offset += h->record_size();
    }
    pos_ = 0;
    if (!member_.empty()) return true;
    // An empty member is valid gzip or zstd and holds no record: skip it.
  }
}

absl::StatusOr<bool> FileReader::Next(Record* out) {
  if (done_) return false;
  if (pos_ >= member_.size()) {
    absl::StatusOr<bool> loaded = LoadMember();
    if (!loaded.ok() || !*loaded) return loaded;
  }
  absl::StatusOr<size_t> used = DecodeRecord(std::string_view(member_).substr(pos_), out);
  if (!used.ok()) return used.status();  // cannot happen: LoadMember checked the framing
  pos_ += *used;
  ++records_;
  uncompressed_bytes_ += *used;
  return true;
}

}  // namespace otelrr::session
