// Fuzzes OtlpFileReader (Open + Next) over a file holding the input: every format it detects (JSON
// Lines, JSON documents, length-prefixed protobuf or JSON messages, each optionally zstd-compressed, raw
// protobuf) and whole-file gzip and zstd. The first byte picks the signal option: 0 mod 4 detects it,
// 1-3 forces traces, metrics or logs; the rest is the file.
//
// Oracles: no crash, hang or unbounded allocation (max_message_bytes is 1 MiB here, so a bomb must be
// refused, not inflated); every message returned is a valid request of its signal, of the forced signal
// when one is given, no larger than max_message_bytes, numbered in increasing order; every error names
// the file.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "fuzz/oracle.h"
#include "otlp/otlp_file.h"
#include "otlp/wire.h"

namespace {

using otelrr::fuzz::OracleFailed;
using namespace otelrr::otlp;

constexpr std::string_view kName = "fuzz_otlp_file";
constexpr size_t kMaxMessageBytes = size_t{1} << 20;
// Reading stops after this many messages: a compressed input can hold millions of empty ones.
constexpr uint64_t kMaxMessages = 1 << 20;

// One temporary file per process, rewritten for every input and removed at exit.
const std::string& InputPath() {
  static const std::string* path = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "otelrr-fuzz-otlp-file-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) OracleFailed(kName, "cannot create a temporary file");
    ::close(fd);
    auto* p = new std::string(pattern);
    std::atexit([] { std::remove(InputPath().c_str()); });
    return p;
  }();
  return *path;
}

void WriteInput(std::string_view bytes) {
  std::FILE* f = std::fopen(InputPath().c_str(), "wb");
  if (f == nullptr) OracleFailed(kName, "cannot open the temporary file");
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    OracleFailed(kName, "cannot write the temporary file");
  }
  if (std::fclose(f) != 0) OracleFailed(kName, "cannot close the temporary file");
}

void CheckError(const absl::Status& s) {
  if (s.ok()) OracleFailed(kName, "checking an OK status");
  if (std::string(s.message()).find(InputPath()) == std::string::npos) {
    OracleFailed(kName, "an error that does not name the file");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::optional<Signal> forced;
  if (data[0] % 4 != 0) forced = otelrr::fuzz::kSignals[data[0] % 4 - 1];
  WriteInput(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));

  absl::StatusOr<std::unique_ptr<OtlpFileReader>> reader =
      OtlpFileReader::Open(InputPath(), {.signal = forced, .max_message_bytes = kMaxMessageBytes});
  if (!reader.ok()) {
    CheckError(reader.status());
    return 0;
  }
  if ((*reader)->format().empty()) OracleFailed(kName, "a format without a name");
  uint64_t last_index = 0;
  for (uint64_t n = 0; n < kMaxMessages; ++n) {
    OtlpFileMessage m;
    absl::StatusOr<bool> more = (*reader)->Next(&m);
    if (!more.ok()) {
      CheckError(more.status());
      return 0;
    }
    if (!*more) return 0;
    if (m.payload.size() > kMaxMessageBytes) OracleFailed(kName, "a message larger than max_message_bytes");
    if (forced && m.signal != *forced) OracleFailed(kName, "a message of another signal than the forced one");
    if (!Validate(m.signal, m.payload).ok()) OracleFailed(kName, "a message that is not a valid request");
    if (m.index <= last_index) OracleFailed(kName, "message numbers do not increase");
    last_index = m.index;
  }
  return 0;  // enough: a bomb of empty messages is linear work, not a finding
}
