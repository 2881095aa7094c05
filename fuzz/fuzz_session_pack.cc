// Fuzzes the session pack reader (session::UnpackSession over libarchive's tar reader). The input is the
// content of a pack file, read in short reads into an in-memory store.
//
// Oracles:
// - a refused pack leaves nothing in the store, and its error is one line (InvalidArgument or DataLoss);
// - an accepted pack gives a session whose metadata.json loads, under the id asked for;
// - round trip: that session, packed again and unpacked under another id, gives the same objects (but the
//   id in metadata.json), and packing is deterministic (the second pack's pack is the same bytes).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "fuzz/memory_store.h"
#include "fuzz/oracle.h"
#include "session/layout.h"
#include "session/pack.h"
#include "session/session_store.h"
#include "store/testing/string_reader.h"

namespace {

using otelrr::fuzz::OracleFailed;
using namespace otelrr::session;

constexpr std::string_view kName = "fuzz_session_pack";

// Small limits, so that a header claiming gigabytes is refused rather than read.
UnpackOptions Options(std::string_view id) {
  return {.session_id = std::string(id), .max_member_bytes = 4 << 20, .max_metadata_bytes = 1 << 20,
          .max_members = 10'000};
}

std::string PackOf(SessionStore& sessions, std::string_view id) {
  std::string out;
  absl::StatusOr<PackReport> r = PackSession(sessions, id, [&](std::string_view chunk) {
    out.append(chunk);
    return absl::OkStatus();
  });
  if (!r.ok()) OracleFailed(kName, "an unpacked session cannot be packed again");
  return out;
}

// The objects of session `id`, by their path in the session, but metadata.json (its id differs) and
// timeline.json (a cache, which packs leave out).
std::map<std::string, std::string> ObjectsOf(otelrr::fuzz::MemoryStore& store, std::string_view id) {
  std::map<std::string, std::string> out;
  const std::string prefix = SessionPrefix(id);
  absl::StatusOr<std::vector<otelrr::store::ObjectInfo>> all = store.List(prefix);
  if (!all.ok()) OracleFailed(kName, "cannot list the store");
  for (const otelrr::store::ObjectInfo& o : *all) {
    std::string path = o.key.substr(prefix.size());
    if (path == kMetadataName || path == "timeline.json") continue;
    absl::StatusOr<std::string> data = store.ReadAll(o.key);
    if (!data.ok()) OracleFailed(kName, "cannot read an object the store lists");
    out[path] = std::move(*data);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string pack(reinterpret_cast<const char*>(data), size);
  static otelrr::fuzz::MemoryStore* store = new otelrr::fuzz::MemoryStore();
  (void)store->DeletePrefix("sessions/");
  SessionStore sessions(*store);

  otelrr::store::testing::StringReader reader(pack, 1 + size % 4093);
  absl::StatusOr<UnpackReport> r = UnpackSession(sessions, reader, Options("a"));
  if (!r.ok()) {
    absl::StatusOr<std::vector<otelrr::store::ObjectInfo>> left = store->List("");
    if (!left.ok() || !left->empty()) OracleFailed(kName, "a refused pack left objects in the store");
    const absl::StatusCode code = r.status().code();
    if (code != absl::StatusCode::kInvalidArgument && code != absl::StatusCode::kDataLoss) {
      OracleFailed(kName, "a bad pack is neither InvalidArgument nor DataLoss");
    }
    if (r.status().message().empty() || r.status().message().find('\n') != absl::string_view::npos) {
      OracleFailed(kName, "the error is not one line");
    }
    return 0;
  }
  if (r->session_id != "a") OracleFailed(kName, "the session was not stored under the id asked for");
  absl::StatusOr<SessionMetadata> m = sessions.Load("a");
  if (!m.ok() || m->session_id != "a") OracleFailed(kName, "the unpacked metadata.json does not load as session a");

  const std::string again = PackOf(sessions, "a");
  otelrr::store::testing::StringReader again_reader(again, 1 + size % 997);
  absl::StatusOr<UnpackReport> back = UnpackSession(sessions, again_reader, Options("b"));
  if (!back.ok()) OracleFailed(kName, "our own pack of an unpacked session is refused");
  if (ObjectsOf(*store, "a") != ObjectsOf(*store, "b")) OracleFailed(kName, "pack -> unpack changed the objects");
  if (PackOf(sessions, "a") != again) OracleFailed(kName, "packing the same session twice gave other bytes");
  return 0;
}
