// Where a session's annotations go and come from: always kept with the session (annotation_log.h), and
// also written to ClickHouse when a sink is configured (clickhouse.h).
//
//   AnnotationService annotations(sessions, sink.get());   // sink may be null: embedded only
//   absl::StatusOr<std::vector<Annotation>> added = annotations.Add("seed-1", {a}, "otelrr annotate");
//   absl::StatusOr<std::vector<Annotation>> all = annotations.List("seed-1");
//   absl::StatusOr<SyncReport> sync = annotations.Sync("seed-1");   // back-fill ClickHouse
//
// Add validates every annotation before storing any, refuses sessions that do not exist, and writes the
// session's file first: an annotation is never in ClickHouse without being kept with its session. When
// ClickHouse then fails, the annotations stay kept and the error says so (and that `otelrr annotations
// sync ID` sends them once ClickHouse answers).
//
// The phases of a session are its test.phase.* annotations, else (sessions written before annotations
// existed) the phases of its metadata.json.
//
// Thread-safe.
#ifndef OTELRR_ANNOTATE_ANNOTATION_SERVICE_H_
#define OTELRR_ANNOTATE_ANNOTATION_SERVICE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "annotate/annotation.h"
#include "annotate/annotation_log.h"
#include "annotate/clickhouse.h"
#include "common/clock.h"
#include "common/json_writer.h"
#include "session/metadata.h"
#include "session/session_store.h"

namespace otelrr::annotate {

struct SyncReport {
  std::string session_id;
  size_t kept = 0;       // annotations kept with the session (and its metadata phases)
  size_t present = 0;    // of those, already in ClickHouse
  size_t inserted = 0;   // written by this sync
  void WriteJson(JsonWriter* w) const;
};

// The phase annotations of a session's metadata.json (a seed's phases, a capture's marked phases).
std::vector<Annotation> PhasesOf(const session::SessionMetadata& metadata);

class AnnotationService {
 public:
  AnnotationService(session::SessionStore& sessions, ClickHouseSink* sink, Clock* clock = nullptr)
      : sessions_(sessions),
        sink_(sink),
        clock_(clock != nullptr ? *clock : RealClock()),
        log_(sessions.object_store(), &clock_) {}

  // Completes (annotation.h, Complete) and validates each annotation, sets its session id, and stores
  // them. Returns them as stored. NotFound when the session does not exist; InvalidArgument naming the
  // first bad annotation (its index when there are several), and then nothing is stored.
  absl::StatusOr<std::vector<Annotation>> Add(std::string_view session_id, std::vector<Annotation> annotations,
                                              std::string_view created_by);
  // The session's annotations: from ClickHouse when configured, else kept with the session; the phases of
  // its metadata that are not among them are added (as kept sessions always have them).
  absl::StatusOr<std::vector<Annotation>> List(std::string_view session_id);
  // Inserts into ClickHouse every annotation kept with the session (and its metadata phases) whose id
  // the table does not hold yet. FailedPrecondition without a sink.
  absl::StatusOr<SyncReport> Sync(std::string_view session_id);

  ClickHouseSink* sink() const { return sink_; }
  AnnotationLog& log() { return log_; }

 private:
  // The kept annotations plus the metadata phases they lack.
  absl::StatusOr<std::vector<Annotation>> Kept(const session::SessionMetadata& metadata);

  session::SessionStore& sessions_;
  ClickHouseSink* const sink_;
  Clock& clock_;
  AnnotationLog log_;
};

}  // namespace otelrr::annotate

#endif  // OTELRR_ANNOTATE_ANNOTATION_SERVICE_H_
