// A session as one file, a "pack" (docs/FORMAT.md, "Session packs"): a POSIX tar holding a manifest,
// metadata.json and the session's files byte for byte, so that a test dataset can live in Git LFS and be
// unpacked into any store in CI.
//
//   SessionStore sessions(store);
//   absl::StatusOr<PackReport> p = PackSession(sessions, "seed-1", [&](std::string_view chunk) {
//     return out.Write(chunk);                   // streamed: a few MiB of memory whatever the session's size
//   });
//
//   absl::StatusOr<std::unique_ptr<store::ObjectReader>> in = OpenPackFile("seed-1.otelrr");
//   absl::StatusOr<UnpackReport> u = UnpackSession(sessions, **in, {.session_id = "seed-1-copy"});
//
// Packing is deterministic: the same session gives the same bytes (fixed times, owners and modes, members in
// a fixed order). It takes the session's lock, so a session being written (or still "active") is refused,
// and every file is checked against its checksum in metadata.json as it is read.
//
// Unpacking trusts nothing in the pack: every member is checked against the manifest (name, order, size,
// SHA-256) and the manifest against metadata.json's file index; a member that is not in the manifest, a
// path that is absolute or has a ".." segment, a duplicate, a member larger than its manifest entry or than
// the limits, a truncated or foreign file: each is an error that names it. The new session's metadata.json
// is written last, and on any failure everything written is removed, so the store never holds half a
// session. The target id must be free (AlreadyExists otherwise).
#ifndef OTELRR_SESSION_PACK_H_
#define OTELRR_SESSION_PACK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "session/session_store.h"
#include "store/object_store.h"

namespace otelrr::session {

inline constexpr int kPackFormatVersion = 1;
// The first member of every pack.
inline constexpr std::string_view kPackManifestName = "otelrr-pack.json";
// What `sessions pack` names its files: "{id}.otelrr".
inline constexpr std::string_view kPackFileSuffix = ".otelrr";

// Receives the pack's bytes in order; an error stops the pack.
using PackSink = std::function<absl::Status(std::string_view chunk)>;

struct PackReport {
  std::string session_id;
  uint64_t files = 0;         // raw files
  uint64_t members = 0;       // every tar member, the manifest and metadata.json included
  uint64_t stored_bytes = 0;  // the session's bytes packed (the members' sizes but the manifest's)
  uint64_t pack_bytes = 0;    // bytes handed to the sink
};

// Packs session `session_id`. FailedPrecondition while it is being written or still active; DataLoss when
// a file does not match its checksum in metadata.json, or the session holds a raw file its index lacks.
absl::StatusOr<PackReport> PackSession(SessionStore& sessions, std::string_view session_id, const PackSink& sink);

struct UnpackOptions {
  std::string session_id = {};  // the new session's id; empty: the id the pack was made from
  // Limits that keep a hostile pack from filling memory or disk.
  uint64_t max_member_bytes = uint64_t{64} << 30;   // any one file
  uint64_t max_metadata_bytes = uint64_t{256} << 20;  // the manifest and metadata.json, read whole
  uint64_t max_members = 1'000'000;
  // When the session is renamed: each member other than metadata.json and the raw files (annotations.jsonl,
  // which this module does not read) is read whole (within max_metadata_bytes), checked against the
  // manifest, and stored as this returns it, given the member's path, its bytes, the packed id and the new
  // one (the CLI rewrites the annotations with annotate::RenameSession). Null: stored as packed.
  std::function<absl::StatusOr<std::string>(std::string_view path, std::string bytes, std::string_view old_id,
                                            std::string_view new_id)>
      rename_member = nullptr;
};

struct UnpackReport {
  std::string session_id;         // as stored
  std::string packed_session_id;  // as packed (differs when renamed)
  uint64_t files = 0;             // raw files
  uint64_t members = 0;           // every member, the manifest included
  uint64_t stored_bytes = 0;      // bytes written into the store
};

// Unpacks the pack read from `pack` into `sessions`. InvalidArgument for anything wrong with the pack (the
// message says what and where), DataLoss for a member whose bytes do not match their checksum, AlreadyExists
// when the target id is taken; store errors as the store reports them.
absl::StatusOr<UnpackReport> UnpackSession(SessionStore& sessions, store::ObjectReader& pack,
                                           const UnpackOptions& options);

// A local file as a stream, for UnpackSession. NotFound / PermissionDenied naming the path.
absl::StatusOr<std::unique_ptr<store::ObjectReader>> OpenPackFile(const std::string& path);

// Whether `head` (the first 512 bytes of a file, or all of it when shorter) is the start of a pack: a tar
// header whose member is otelrr-pack.json. Detection by content, whatever the file's name.
bool LooksLikePack(std::string_view head);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_PACK_H_
