// Gzip compression (libdeflate): one complete gzip member per call. Session files are sequences of
// such members, and OTLP senders compress request bodies with it (Content-Encoding / grpc-encoding gzip).
//
//   GzipCompressor c(/*level=*/1);              // 0 = stored blocks (still gzip, still CRC-checked)
//   std::string out;
//   absl::Status s = c.CompressMember(data, &out);   // appends one member to out
//
// GzipStream (zlib) makes one member of data that comes in pieces, for a body compressed as it is sent
// (an HTTP answer with Content-Encoding: gzip, which clients expect to be a single member):
//
//   GzipStream z(/*level=*/1);
//   z.Write(piece, &out);  ...  z.Finish(&out);    // each appends what is ready
//
// Thread-compatible: one compressor per thread.
#ifndef OTELRR_COMMON_GZIP_H_
#define OTELRR_COMMON_GZIP_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

struct libdeflate_compressor;
struct z_stream_s;

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

class GzipStream {
 public:
  // `level`: zlib's 1 (fastest) to 9.
  explicit GzipStream(int level);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Compresses `data`, appending to `out` what is ready of the member.
  absl::Status Write(std::string_view data, std::string* out);
  // Ends the member: appends the rest of it and its trailer. Nothing may be written after.
  absl::Status Finish(std::string* out);

 private:
  absl::Status Deflate(std::string_view data, int flush, std::string* out);
  std::unique_ptr<z_stream_s> z_;
};

}  // namespace otelrr

#endif  // OTELRR_COMMON_GZIP_H_
