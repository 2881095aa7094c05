// One stored OTLP request and its framing inside a session file (format version 1).
//
//   Record r{.arrival_unix_nano = now, .sequence = 7, .signal = otlp::Signal::kTraces,
//            .transport = Transport::kGrpc, .encoding = Encoding::kProtobuf, .payload = body};
//   std::string buf;
//   AppendRecord(r, &buf);                              // 32-byte header + payload
//   absl::StatusOr<size_t> used = DecodeRecord(buf, &r);  // bytes consumed, or why it is corrupt
//
// Framing, little-endian, 32-byte header (docs/FORMAT.md is the normative description):
//   0-3   magic "OTR1"
//   4-7   u32 header size (32 in version 1; readers skip bytes beyond the fields they know, so later
//         versions can grow the header without breaking old readers)
//   8-11  u32 payload size (at most 256 MiB)
//   12    u8 signal (1 traces, 2 metrics, 3 logs)
//   13    u8 transport (0 unknown, 1 http, 2 grpc, 3 generated, 4 imported)
//   14    u8 encoding the sender used (0 protobuf, 1 json)
//   15    u8 reserved, written 0, ignored by readers
//   16-23 u64 arrival time, unix nanoseconds
//   24-31 u64 sequence number, session-wide, strictly increasing in write order
//   then  payload: an Export{Trace,Metrics,Logs}ServiceRequest in protobuf, whatever the encoding byte
#ifndef OTELRR_SESSION_RECORD_H_
#define OTELRR_SESSION_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "otlp/schema.h"

namespace otelrr::session {

// otlp/signal.h defines them; the stored payload is protobuf whatever the encoding.
using otlp::Encoding;
using otlp::EncodingName;
using otlp::Transport;
using otlp::TransportName;

struct Record {
  uint64_t arrival_unix_nano = 0;
  uint64_t sequence = 0;
  otlp::Signal signal = otlp::Signal::kTraces;
  Transport transport = Transport::kUnknown;
  Encoding encoding = Encoding::kProtobuf;
  std::string payload;

  bool operator==(const Record&) const = default;
};

inline constexpr char kRecordMagic[4] = {'O', 'T', 'R', '1'};
inline constexpr uint32_t kRecordHeaderSize = 32;
// Larger header sizes are accepted (future versions) up to this bound, which catches corruption.
inline constexpr uint32_t kMaxRecordHeaderSize = 4096;
inline constexpr uint32_t kMaxRecordPayloadSize = 256u << 20;

// The header fields of a record, without the payload.
struct RecordHeader {
  uint32_t header_size = kRecordHeaderSize;
  uint32_t payload_size = 0;
  otlp::Signal signal = otlp::Signal::kTraces;
  Transport transport = Transport::kUnknown;
  Encoding encoding = Encoding::kProtobuf;
  uint64_t arrival_unix_nano = 0;
  uint64_t sequence = 0;

  uint64_t record_size() const { return uint64_t{header_size} + payload_size; }
};

// Appends the framed record to `out`. InvalidArgument when the payload exceeds kMaxRecordPayloadSize or
// the signal is not one of the three.
absl::Status AppendRecord(const Record& record, std::string* out);
inline uint64_t FramedSize(const Record& record) { return kRecordHeaderSize + record.payload.size(); }

// Decodes the header at the start of `bytes` (which needs at least kRecordHeaderSize bytes, and the
// whole header when it is larger). DataLoss on a bad magic, header size, payload size or signal.
absl::StatusOr<RecordHeader> DecodeRecordHeader(std::string_view bytes);

// Decodes the whole record at the start of `bytes` into `out`; returns the bytes it used. DataLoss when
// the header is bad or `bytes` ends before the record does.
absl::StatusOr<size_t> DecodeRecord(std::string_view bytes, Record* out);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_RECORD_H_
