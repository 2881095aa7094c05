// Reads files of OTLP data, whatever program wrote them, as a sequence of protobuf requests.
//
//   absl::StatusOr<std::unique_ptr<OtlpFileReader>> r = OtlpFileReader::Open("traces.jsonl", {});
//   OtlpFileMessage m;
//   while (true) {
//     absl::StatusOr<bool> more = (*r)->Next(&m);
//     if (!more.ok()) return more.status();   // names the file and the line or message
//     if (!*more) break;
//     Use(m.signal, m.payload);                // an Export*ServiceRequest in protobuf
//   }
//
// Formats, detected from the content (after undoing a whole-file gzip or zstd compression):
// - OTLP JSON Lines: one TracesData/MetricsData/LogsData object per line (the OpenTelemetry file
//   exporter format; also what `otelrr sessions export` writes).
// - A single OTLP/JSON document, pretty-printed or not (several concatenated documents are accepted).
// - The Collector file exporter's length-prefixed format: each message preceded by its size as a 4-byte
//   big-endian integer; each message protobuf or JSON, each optionally zstd-compressed (`compression:
//   zstd`).
// - One raw protobuf Export*ServiceRequest (the whole file).
// A compressed file must be whole: one cut short (even by just the gzip trailer), failing its gzip CRC32
// or size check, or with bytes after its last gzip member that are not another member, is a DataLoss
// error naming the file, never a shorter read. Concatenated gzip members and zstd frames are read in turn.
// The signal of a JSON document comes from its top-level key. The signal of protobuf data is
// OtlpFileOptions::signal when given; otherwise it is detected by validating the bytes against each
// signal's schema, and an ambiguous file is refused with a message asking for --signal.
#ifndef OTELRR_OTLP_OTLP_FILE_H_
#define OTELRR_OTLP_OTLP_FILE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/schema.h"

namespace otelrr::otlp {

struct OtlpFileOptions {
  std::optional<Signal> signal;
  // Largest single message (after decompression) accepted; larger is refused, never allocated.
  size_t max_message_bytes = size_t{256} << 20;
};

struct OtlpFileMessage {
  Signal signal = Signal::kTraces;
  std::string payload;   // Export*ServiceRequest, protobuf
  bool was_json = false;  // the file held it as OTLP/JSON
  uint64_t index = 0;    // 1-based line (JSON Lines) or message number, for messages
};

class OtlpFileReader {
 public:
  static absl::StatusOr<std::unique_ptr<OtlpFileReader>> Open(const std::string& path,
                                                              const OtlpFileOptions& options);
  virtual ~OtlpFileReader() = default;

  // The next message: true when `*message` holds one, false at the end of the file.
  virtual absl::StatusOr<bool> Next(OtlpFileMessage* message) = 0;
  // A short name of the detected format, e.g. "OTLP JSON Lines".
  virtual std::string_view format() const = 0;
};

// Detects the signal of a protobuf message by validating it against each signal's schema.
absl::StatusOr<Signal> DetectProtobufSignal(std::string_view payload);
// Detects the signal of an OTLP/JSON document from its top-level key (resourceSpans, resource_spans, ...).
absl::StatusOr<Signal> DetectJsonSignal(std::string_view json);

}  // namespace otelrr::otlp

#endif  // OTELRR_OTLP_OTLP_FILE_H_
