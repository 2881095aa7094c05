// Fuzzes the session raw-file reader (FileReader, over MemberReader) and the record framing
// (DecodeRecordHeader, DecodeRecord, AppendRecord). The input is the content of one raw file: gzip
// members, zstd frames or plain framed records (docs/FORMAT.md), served from an in-memory store in short
// reads. Its first bytes pick the compression, as a file name's suffix would: the zstd magic number means
// zstd, the record magic "OTR1" none, anything else gzip.
//
// Oracles:
// - the default mode and stop_at_damage return the same records; the default mode fails (DataLoss,
//   naming the file) exactly when stop_at_damage reports damage;
// - damage is coherent: valid_bytes + dropped_bytes is the file size, and re-reading only the first
//   valid_bytes bytes gives the same records with no damage;
// - the checksum covers every stored byte; uncompressed_bytes() matches the records' framed sizes;
// - round trip: the records, framed again and compressed as one member, read back identical;
// - framing on the raw bytes: DecodeRecord agrees with DecodeRecordHeader, and AppendRecord of a decoded
//   version-1 record gives back the same bytes (but the reserved byte).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/memory_store.h"
#include "fuzz/oracle.h"
#include "session/file_reader.h"
#include "session/internal/members.h"
#include "session/internal/sha256.h"
#include "session/record.h"

namespace {

using otelrr::fuzz::OracleFailed;
using namespace otelrr::session;

constexpr std::string_view kName = "fuzz_session_file";
constexpr std::string_view kKeyStem = "sessions/fuzz/raw/2026-11-26/11/traces-1795693544123-";

Compression Sniff(std::string_view file) {
  if (file.starts_with("\x28\xb5\x2f\xfd")) return Compression::kZstd;
  if (file.starts_with(std::string_view(kRecordMagic, sizeof(kRecordMagic)))) return Compression::kNone;
  return Compression::kGzip;
}

struct ReadResult {
  std::vector<Record> records;
  absl::Status status;
  std::optional<FileDamage> damage;
  uint64_t uncompressed_bytes = 0;
  uint64_t stored_bytes_read = 0;
  std::string sha256;
};

ReadResult ReadEverything(otelrr::store::ObjectStore& store, std::string_view key, FileReaderOptions options) {
  ReadResult out;
  absl::StatusOr<std::unique_ptr<FileReader>> reader = FileReader::Open(store, std::string(key), options);
  if (!reader.ok()) OracleFailed(kName, "cannot open an object that exists");
  while (true) {
    Record rec;
    absl::StatusOr<bool> more = (*reader)->Next(&rec);
    if (!more.ok()) {
      out.status = more.status();
      break;
    }
    if (!*more) break;
    out.records.push_back(std::move(rec));
  }
  // Once finished, a reader stays finished.
  Record extra;
  absl::StatusOr<bool> again = (*reader)->Next(&extra);
  if (!again.ok() || *again) OracleFailed(kName, "Next after the end did not return false");
  if ((*reader)->records() != out.records.size()) OracleFailed(kName, "records() differs from records returned");
  out.damage = (*reader)->damage();
  out.uncompressed_bytes = (*reader)->uncompressed_bytes();
  out.stored_bytes_read = (*reader)->stored_bytes_read();
  if (options.compute_sha256 && out.status.ok()) out.sha256 = (*reader)->Sha256Hex();
  return out;
}

void CheckFraming(std::string_view bytes) {
  std::string_view rest = bytes;
  while (true) {
    absl::StatusOr<RecordHeader> h = DecodeRecordHeader(rest);
    Record rec;
    absl::StatusOr<size_t> used = DecodeRecord(rest, &rec);
    if (!used.ok()) {
      if (used.status().code() != absl::StatusCode::kDataLoss) OracleFailed(kName, "framing error is not DataLoss");
      if (h.ok() && rest.size() >= h->record_size()) OracleFailed(kName, "DecodeRecord refused a whole record");
      return;
    }
    if (!h.ok()) OracleFailed(kName, "DecodeRecord accepted a header DecodeRecordHeader refused");
    if (*used != h->record_size() || *used > rest.size()) OracleFailed(kName, "DecodeRecord used the wrong size");
    if (rec.payload != rest.substr(h->header_size, h->payload_size) || rec.sequence != h->sequence ||
        rec.arrival_unix_nano != h->arrival_unix_nano || rec.signal != h->signal || rec.transport != h->transport ||
        rec.encoding != h->encoding) {
      OracleFailed(kName, "DecodeRecord and DecodeRecordHeader disagree");
    }
    std::string again;
    if (!AppendRecord(rec, &again).ok()) OracleFailed(kName, "AppendRecord refused a decoded record");
    if (again.size() != FramedSize(rec)) OracleFailed(kName, "AppendRecord wrote the wrong size");
    if (h->header_size == kRecordHeaderSize) {
      std::string original(rest.substr(0, *used));
      original[15] = 0;  // reserved: written 0, ignored by readers
      if (again != original) OracleFailed(kName, "AppendRecord(DecodeRecord(x)) != x");
    } else {
      Record back;
      absl::StatusOr<size_t> back_used = DecodeRecord(again, &back);
      if (!back_used.ok() || *back_used != again.size() || !(back == rec)) {
        OracleFailed(kName, "a record with a long header does not survive re-framing");
      }
    }
    rest.remove_prefix(*used);
  }
}

uint64_t FramedBytes(const std::vector<Record>& records) {
  uint64_t n = 0;
  for (const Record& r : records) n += FramedSize(r);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view file(reinterpret_cast<const char*>(data), size);
  CheckFraming(file);

  const Compression compression = Sniff(file);
  const std::string suffix(RawFileSuffix(compression));
  const std::string kKey = std::string(kKeyStem) + "x" + suffix;
  const std::string kPrefixKey = std::string(kKeyStem) + "prefix" + suffix;
  const std::string kRoundTripKey = std::string(kKeyStem) + "rt" + suffix;
  static otelrr::fuzz::MemoryStore* store = new otelrr::fuzz::MemoryStore();
  (void)store->DeletePrefix("sessions/");
  if (!store->Put(kKey, file).ok()) OracleFailed(kName, "cannot store the input");

  // Default mode: big reads, the default buffer.
  store->set_read_chunk(size_t{1} << 20);
  ReadResult strict = ReadEverything(*store, kKey, {});
  // Stop at damage: short reads of a size picked by the input, a small buffer, and the checksum.
  store->set_read_chunk(1 + size % 977);
  ReadResult lenient = ReadEverything(*store, kKey, {.stop_at_damage = true, .read_buffer_bytes = 1 + size % 4099,
                                                     .compute_sha256 = true});

  if (!lenient.status.ok()) OracleFailed(kName, "stop_at_damage failed instead of stopping");
  if (strict.records != lenient.records) OracleFailed(kName, "the two modes returned different records");
  if (strict.status.ok() == lenient.damage.has_value()) {
    OracleFailed(kName, "the default mode fails exactly when stop_at_damage finds damage: it did not");
  }
  if (!strict.status.ok()) {
    if (strict.status.code() != absl::StatusCode::kDataLoss) OracleFailed(kName, "damage is not DataLoss");
    if (std::string(strict.status.message()).find(kKey) == std::string::npos) {
      OracleFailed(kName, "the error does not name the file");
    }
  }
  // Headers may be longer than version 1's (up to kMaxRecordHeaderSize): the payloads are the same.
  uint64_t framed_v1 = FramedBytes(lenient.records);
  if (lenient.uncompressed_bytes < framed_v1 ||
      lenient.uncompressed_bytes - framed_v1 > lenient.records.size() * (kMaxRecordHeaderSize - kRecordHeaderSize)) {
    OracleFailed(kName, "uncompressed_bytes() does not match the records");
  }
  if (lenient.stored_bytes_read != size) OracleFailed(kName, "the reader did not read the whole file");
  otelrr::session::internal::Sha256 sha;
  sha.Update(file);
  if (lenient.sha256 != sha.HexDigest()) OracleFailed(kName, "the checksum does not cover the file");

  if (lenient.damage) {
    const FileDamage& d = *lenient.damage;
    if (d.key != kKey || d.reason.empty()) OracleFailed(kName, "damage without its file or reason");
    if (d.valid_bytes > size || d.valid_bytes + d.dropped_bytes != size) {
      OracleFailed(kName, "valid_bytes + dropped_bytes is not the file size");
    }
    if (!store->Put(kPrefixKey, file.substr(0, d.valid_bytes)).ok()) OracleFailed(kName, "cannot store the prefix");
    ReadResult prefix = ReadEverything(*store, kPrefixKey, {.stop_at_damage = true});
    if (prefix.damage) OracleFailed(kName, "the file cut at valid_bytes is damaged");
    if (prefix.records != lenient.records) OracleFailed(kName, "the file cut at valid_bytes holds other records");
  }

  // Round trip through the writer's framing and compression.
  std::string framed;
  for (const Record& r : lenient.records) {
    if (!AppendRecord(r, &framed).ok()) OracleFailed(kName, "AppendRecord refused a record the reader returned");
  }
  std::string member;
  otelrr::session::internal::MemberCompressor compressor(compression, DefaultCompressionLevel(compression));
  if (!compressor.Compress(framed, &member).ok()) OracleFailed(kName, "cannot compress the records");
  if (!store->Put(kRoundTripKey, member).ok()) OracleFailed(kName, "cannot store the round trip");
  ReadResult round_trip = ReadEverything(*store, kRoundTripKey, {});
  if (!round_trip.status.ok() || round_trip.records != lenient.records) {
    OracleFailed(kName, "records framed and compressed again do not read back identical");
  }
  return 0;
}
