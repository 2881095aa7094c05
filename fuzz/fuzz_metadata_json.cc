// Fuzzes the reader of a session's metadata.json (session::SessionMetadata::FromJson): every command that
// opens a session reads one, and a session may come from anywhere (a pack, another store, a hand edit).
//
// Oracles: a refusal is InvalidArgument (or DataLoss) with a message; an accepted document survives
// ToJson -> FromJson unchanged, pretty and compact, and writing it again gives the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/oracle.h"
#include "session/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using otelrr::fuzz::OracleFailed;
  using otelrr::session::SessionMetadata;
  constexpr std::string_view kName = "fuzz_metadata_json";
  std::string_view json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<SessionMetadata> m = SessionMetadata::FromJson(json);
  if (!m.ok()) {
    if (m.status().message().empty()) OracleFailed(kName, "a refusal without a message");
    return 0;
  }
  for (bool pretty : {true, false}) {
    const std::string text = m->ToJson(pretty);
    absl::StatusOr<SessionMetadata> again = SessionMetadata::FromJson(text);
    if (!again.ok()) OracleFailed(kName, "metadata it accepted, written again, is refused");
    if (!(*again == *m)) OracleFailed(kName, "metadata written and read again differs");
    if (again->ToJson(pretty) != text) OracleFailed(kName, "writing the same metadata twice gives other text");
  }
  return 0;
}
