// The annotations kept with a session: sessions/{id}/annotations.jsonl, one annotation per line
// (docs/FORMAT.md, "Annotations"). This is the embedded default: it needs no service, travels with the
// session (copy, export to S3, delete) and is what `annotations sync` sends to ClickHouse.
//
//   AnnotationLog log(store);
//   absl::StatusOr<std::vector<Annotation>> all = log.List("seed-1");   // [] when there is no file
//   absl::StatusOr<std::vector<Annotation>> added = log.Add("seed-1", {a, b});  // the new ones, appended
//
// Add is a read-modify-write of the whole file, replaced atomically (ObjectStore::Put) while holding the
// lock "sessions/{id}/annotations", so writers from several processes never lose each other's lines and
// readers always see a whole file. An annotation whose id is already in the file is skipped when it is
// the same annotation (so a retried request adds nothing twice), refused (AlreadyExists) when it differs.
//
// Lines written by older versions (a seed's phases without ids) are completed as they are read: the id is
// StableAnnotationId(session, key, start), the session id is the file's, the type comes from the key.
#ifndef OTELRR_ANNOTATE_ANNOTATION_LOG_H_
#define OTELRR_ANNOTATE_ANNOTATION_LOG_H_

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "annotate/annotation.h"
#include "common/clock.h"
#include "store/object_store.h"

namespace otelrr::annotate {

inline constexpr std::string_view kAnnotationsName = "annotations.jsonl";

// "sessions/{id}/annotations.jsonl" (the id is not validated here).
std::string AnnotationsKey(std::string_view session_id);

// Parses a whole annotations.jsonl of `session_id`. InvalidArgument naming the line that is wrong.
absl::StatusOr<std::vector<Annotation>> ParseAnnotationsJsonl(std::string_view session_id, std::string_view text);
// The file's text for `annotations` (each line ends with '\n').
std::string FormatAnnotationsJsonl(std::span<const Annotation> annotations);

// The annotations of a session given a new id (a pack unpacked under another id): each names the new
// session; an id derived from the old session (StableAnnotationId of session, key and start: the seed's
// phases, and lines that had none) is derived again from the new one, so the copy's phases are its own (not
// the original's rows in ClickHouse) and match the phases of its metadata; a phase's value
// {"sessionId": ...} names the new id.
void RenameSession(std::vector<Annotation>* annotations, std::string_view old_id, std::string_view new_id);

// Thread-safe: it holds no state besides the store.
class AnnotationLog {
 public:
  explicit AnnotationLog(store::ObjectStore& store, Clock* clock = nullptr)
      : store_(store), clock_(clock != nullptr ? *clock : RealClock()) {}

  // Every annotation of the session, in the file's order. An empty list when the session has none.
  absl::StatusOr<std::vector<Annotation>> List(std::string_view session_id);
  // Appends the annotations (validated by the caller) and returns those that were new. Waits up to
  // lock_wait for the file's lock (another writer), then fails with FailedPrecondition.
  absl::StatusOr<std::vector<Annotation>> Add(std::string_view session_id, std::span<const Annotation> annotations);

  std::chrono::milliseconds lock_wait = std::chrono::seconds(10);

 private:
  store::ObjectStore& store_;
  Clock& clock_;
};

}  // namespace otelrr::annotate

#endif  // OTELRR_ANNOTATE_ANNOTATION_LOG_H_
