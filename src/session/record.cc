#include "session/record.h"

#include <fmt/format.h>

#include <cstring>

#include "otlp/wire.h"

namespace otelrr::session {
namespace {

void AppendLE32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void AppendLE64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

bool IsKnownSignal(uint8_t v) { return v >= 1 && v <= 3; }

}  // namespace

absl::Status AppendRecord(const Record& record, std::string* out) {
  if (record.payload.size() > kMaxRecordPayloadSize) {
    return absl::InvalidArgumentError(fmt::format("request of {} bytes is larger than the {} bytes a record can hold",
                                                  record.payload.size(), kMaxRecordPayloadSize));
  }
  if (!IsKnownSignal(static_cast<uint8_t>(record.signal))) {
    return absl::InvalidArgumentError(fmt::format("unknown signal {}", static_cast<int>(record.signal)));
  }
  out->reserve(out->size() + FramedSize(record));
  out->append(kRecordMagic, sizeof(kRecordMagic));
  AppendLE32(out, kRecordHeaderSize);
  AppendLE32(out, static_cast<uint32_t>(record.payload.size()));
  out->push_back(static_cast<char>(record.signal));
  out->push_back(static_cast<char>(record.transport));
  out->push_back(static_cast<char>(record.encoding));
  out->push_back(0);
  AppendLE64(out, record.arrival_unix_nano);
  AppendLE64(out, record.sequence);
  out->append(record.payload);
  return absl::OkStatus();
}

absl::StatusOr<RecordHeader> DecodeRecordHeader(std::string_view bytes) {
  if (bytes.size() < kRecordHeaderSize) {
    return absl::DataLossError(fmt::format("record header cut short: {} of {} bytes", bytes.size(), kRecordHeaderSize));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (std::memcmp(p, kRecordMagic, sizeof(kRecordMagic)) != 0) {
    return absl::DataLossError(fmt::format("bad record magic {:02x} {:02x} {:02x} {:02x} (expected \"OTR1\")", p[0],
                                           p[1], p[2], p[3]));
  }
  RecordHeader h;
  h.header_size = otlp::LoadLE32(p + 4);
  h.payload_size = otlp::LoadLE32(p + 8);
  if (h.header_size < kRecordHeaderSize || h.header_size > kMaxRecordHeaderSize) {
    return absl::DataLossError(fmt::format("bad record header size {}", h.header_size));
  }
  if (h.payload_size > kMaxRecordPayloadSize) {
    return absl::DataLossError(fmt::format("record payload size {} exceeds the {} byte limit", h.payload_size,
                                           kMaxRecordPayloadSize));
  }
  if (!IsKnownSignal(p[12])) return absl::DataLossError(fmt::format("bad record signal {}", p[12]));
  if (bytes.size() < h.header_size) {
    return absl::DataLossError(fmt::format("record header cut short: {} of {} bytes", bytes.size(), h.header_size));
  }
  h.signal = static_cast<otlp::Signal>(p[12]);
  h.transport = static_cast<Transport>(p[13]);
  h.encoding = static_cast<Encoding>(p[14]);
  h.arrival_unix_nano = otlp::LoadLE64(p + 16);
  h.sequence = otlp::LoadLE64(p + 24);
  return h;
}

absl::StatusOr<size_t> DecodeRecord(std::string_view bytes, Record* out) {
  absl::StatusOr<RecordHeader> h = DecodeRecordHeader(bytes);
  if (!h.ok()) return h.status();
  if (bytes.size() < h->record_size()) {
    return absl::DataLossError(
        fmt::format("record payload cut short: {} of {} bytes", bytes.size() - h->header_size, h->payload_size));
  }
  out->arrival_unix_nano = h->arrival_unix_nano;
  out->sequence = h->sequence;
  out->signal = h->signal;
  out->transport = h->transport;
  out->encoding = h->encoding;
  out->payload.assign(bytes.data() + h->header_size, h->payload_size);
  return static_cast<size_t>(h->record_size());
}

}  // namespace otelrr::session
