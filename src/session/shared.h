// Shared sessions: one session recorded by several instances (capture or serve processes, pods behind a
// load balancer) on one store.
//
//   WriterOptions options{.instance = "pod-a"};
//   absl::StatusOr<std::unique_ptr<SessionWriter>> w = sessions.Create(metadata, options);  // starts or joins
//   ... (*w)->Append(...) ...; (*w)->Close();     // instances/pod-a/part.json and traces.bin
//   absl::StatusOr<SealResult> sealed = SealSession(store, "capture-1");   // metadata.json, once none is live
//
// Layout (docs/FORMAT.md, "Shared sessions"): metadata.json says "shared": true. Each instance holds the lock
// "sessions/{id}/instances/{name}/writer" while it writes, names its raw files
// raw/.../{signal}-{ms}-{name}-{uuid}.otlp.zst, and writes its own part of the metadata,
// instances/{name}/part.json (a metadata.json of its files and counts, with "instance": name), at start
// ("active") and at Close, together with instances/{name}/traces.bin: its distinct trace fingerprints
// (TraceFingerprint), ascending. No instance ever writes another's objects, and none writes metadata.json
// after the one that started the session, until the seal.
//
// Sealing merges the parts into metadata.json: the file index (sorted by first arrival), the sums of the
// counts, the arrival range, and the distinct traces, by merging the instances' sorted fingerprint lists
// (memory: one 64 KiB block per instance; time: the fingerprints stored). The rest is O(files). It is done
// by whichever instance stops last (the capture service seals after every stop) or by `otelrr sessions
// seal ID`, and never while an instance is live (its lock held). An instance that died (part "active", lock
// free) is recovered first, alone, as crash recovery does a session: its files are cut after their last
// complete member and its part says "failed" / "interrupted"; the session is then "failed" too, naming it.
//
// Races: a joining instance writes its part, then reads metadata.json again and withdraws if the session
// was sealed meanwhile; a seal writes metadata.json, then lists the instances again and reopens the
// session if one joined meanwhile. Each looks after its own write, so one of the two always sees the other.
#ifndef OTELRR_SESSION_SHARED_H_
#define OTELRR_SESSION_SHARED_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/json_writer.h"
#include "session/metadata.h"
#include "session/recover.h"
#include "session/trace_id_set.h"
#include "session/writer.h"
#include "store/object_store.h"

namespace otelrr::session {

// The first 8 bytes of traces.bin; the fingerprints follow, u64 little-endian.
inline constexpr std::string_view kTraceFingerprintsMagic = "OTRFP01\n";

// Starts or joins the shared session `metadata.session_id` as instance `options.instance` (SessionStore::Create
// calls it when the instance is set). AlreadyExists when the session exists and is not shared, or when the
// instance is live elsewhere or already recorded into it; FailedPrecondition when the session is sealed.
absl::StatusOr<std::unique_ptr<SessionWriter>> JoinSharedSession(store::ObjectStore& store, SessionMetadata metadata,
                                                                 WriterOptions options);

// Writes instances/{instance}/traces.bin from `ids`; returns the number of distinct fingerprints.
absl::StatusOr<uint64_t> WriteTraceFingerprints(store::ObjectStore& store, std::string_view session_id,
                                                std::string_view instance, TraceIdSet& ids);

enum class SealOutcome : uint8_t {
  kSealed,         // metadata.json now holds the merge
  kAlreadySealed,  // it did already: left alone
  kWaiting,        // an instance is live (or none has joined yet): left active
};

struct SealResult {
  SealOutcome outcome = SealOutcome::kWaiting;
  // The session's metadata.json as it stands afterwards.
  SessionMetadata metadata = {};
  std::vector<std::string> live = {};              // kWaiting: the instances still recording
  std::vector<SessionRecovery> recovered = {};     // instances that had died, recovered on the way
};

struct SealOptions {
  // Seal a session that no instance has joined (an empty, completed session). Crash recovery does not.
  bool seal_empty = true;
};

// Seals the shared session `session_id` (see above). NotFound when it does not exist; FailedPrecondition when
// it is not shared; DataLoss when an instance's part or fingerprints are damaged (nothing is written then).
absl::StatusOr<SealResult> SealSession(store::ObjectStore& store, std::string_view session_id, SealOptions options = {});

// RecoverSession's work on a shared session: SealSession without sealing an empty one; kRecovered when it was
// sealed, kLive when an instance still records (its crashed instances are recovered all the same).
absl::StatusOr<SessionRecovery> RecoverSharedSession(store::ObjectStore& store, std::string_view session_id);

// A shared session still being recorded (metadata.json "active") as its instances' parts have it now (each
// writes its part at start, every few seconds and at stop): the sums of their counts, sizes, files and arrival
// ranges, and `instances`; distinct traces are the sum of the instances' (an upper bound until the seal merges
// them). What `sessions list`/`show` and the API show. Leaves any other session as it is.
absl::Status AddLiveInstances(store::ObjectStore& store, SessionMetadata* metadata);

// FailedPrecondition naming the instance when an instance of `session_id` holds its lock (a live writer).
absl::Status CheckNoLiveInstance(store::ObjectStore& store, std::string_view session_id);

// The result's members, as `sessions seal --json` and POST /api/sessions/{id}/seal give them: sessionId, sealed,
// outcome ("sealed", "already sealed", "waiting"), liveInstances, recoveredInstances, metadata (without files).
void WriteSealResultFields(const SealResult& result, JsonWriter* writer);

// One line for a person: "sealed: 3 instances (a, b, c), 1200 requests" / "waiting for instances b, c".
std::string DescribeSeal(const SealResult& result);

}  // namespace otelrr::session

#endif  // OTELRR_SESSION_SHARED_H_
