// Gzip compression (libdeflate): one complete gzip member per call. Session files are sequences of
// such members, and OTLP senders compress request bodies with it (Content-Encoding / grpc-encoding gzip).
//
//   GzipCompressor c(/*level=*/1);              // 0 = stored blocks (still gzip, still CRC-checked)
//   std::string out;
//   absl::Status s = c.CompressMember(data, &out);   // appends one member to out
//
// Thread-compatible: one compressor per thread.
#ifndef OTELRR_COMMON_GZIP_H_
#define OTELRR_COMMON_GZIP_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

struct libdeflate_compressor;

namespace otelrr {

class GzipCompressor {
 public:
  // `level`: libdeflate's 0 (no compression) to 12.
  explicit GzipCompressor(int level);
  ~GzipCompressor();
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  // Appends `data` as one complete gzip member to `out`.
  absl::Status CompressMember(std::string_view data, std::string* out);

 private:
  libdeflate_compressor* compressor_;
};

}  // namespace otelrr

#endif  // OTELRR_COMMON_GZIP_H_
