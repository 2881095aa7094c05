#include "annotate/annotation_service.h"

#include <fmt/format.h>

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "common/status.h"
#include "session/session_id.h"

namespace otelrr::annotate {
namespace {

// Adds to `annotations` the phases of `metadata` whose ids it does not hold.
void AddMissingPhases(const session::SessionMetadata& metadata, std::vector<Annotation>* annotations) {
  absl::flat_hash_set<std::string> ids;
  for (const Annotation& a : *annotations) ids.insert(a.annotation_id);
  for (Annotation& p : PhasesOf(metadata)) {
    if (!ids.contains(p.annotation_id)) annotations->push_back(std::move(p));
  }
  std::stable_sort(annotations->begin(), annotations->end(), [](const Annotation& a, const Annotation& b) {
    return a.time_range_start_unix_nano < b.time_range_start_unix_nano;
  });
}

}  // namespace

void SyncReport::WriteJson(JsonWriter* w) const {
  w->BeginObject();
  w->Field("sessionId", session_id);
  w->Field("kept", kept);
  w->Field("alreadyInClickHouse", present);
  w->Field("inserted", inserted);
  w->EndObject();
}

std::vector<Annotation> PhasesOf(const session::SessionMetadata& metadata) {
  std::vector<Annotation> out;
  for (const session::Phase& p : metadata.phases) {
    std::string key = p.annotation_key;
    if (!TypeOfKey(key).ok()) key = fmt::format("{}{}", kPhaseKeyPrefix, p.name);
    Annotation a = PhaseAnnotation(metadata.session_id, p.name, key, p.start_time_unix_nano, p.end_time_unix_nano,
                                   p.flags, metadata.created_by);
    a.created_at_unix_nano = metadata.start_time_unix_nano;
    out.push_back(std::move(a));
  }
  return out;
}

absl::StatusOr<std::vector<Annotation>> AnnotationService::Add(std::string_view session_id,
                                                               std::vector<Annotation> annotations,
                                                               std::string_view created_by) {
  if (absl::Status s = session::ValidateSessionId(session_id); !s.ok()) return s;
  const uint64_t now = clock_.WallNowUnixNano();
  for (size_t i = 0; i < annotations.size(); ++i) {
    Annotation& a = annotations[i];
    if (a.session_id && *a.session_id != session_id) {
      return absl::InvalidArgumentError(fmt::format("annotation {} is of session {}, not {}", i, *a.session_id, session_id));
    }
    a.session_id = std::string(session_id);
    if (absl::Status s = Complete(&a, now, created_by); !s.ok()) {
      return annotations.size() == 1 ? s : Prefixed(s, fmt::format("annotation {}", i));
    }
  }
  // A whole session (one without metadata.json is refused by Load with the reason), and still one after the
  // write: a session deleted meanwhile does not come back as a folder holding only its annotations.
  if (absl::Status s = sessions_.Load(session_id).status(); !s.ok()) return s;
  absl::StatusOr<std::vector<Annotation>> added = log_.Add(session_id, annotations);
  if (!added.ok()) return added.status();
  if (!added->empty()) {
    if (absl::Status s = sessions_.UndoIfDeleted(session_id, AnnotationsKey(session_id)); !s.ok()) return s;
  }
  // Only what is new: an annotation already kept (a retried request, a phase written again) is already sent.
  if (sink_ != nullptr && !added->empty()) {
    if (absl::Status s = sink_->Insert(*added); !s.ok()) {
      return absl::Status(s.code(), fmt::format("{} (the annotations are kept with session {}: `otelrr annotations "
                                                "sync {}` sends them once ClickHouse answers)",
                                                s.message(), session_id, session_id));
    }
  }
  return annotations;
}

absl::StatusOr<std::vector<Annotation>> AnnotationService::Kept(const session::SessionMetadata& metadata) {
  absl::StatusOr<std::vector<Annotation>> kept = log_.List(metadata.session_id);
  if (!kept.ok()) return kept.status();
  AddMissingPhases(metadata, &*kept);
  return kept;
}

absl::StatusOr<std::vector<Annotation>> AnnotationService::List(std::string_view session_id) {
  absl::StatusOr<session::SessionMetadata> metadata = sessions_.Load(session_id);
  if (!metadata.ok()) return metadata.status();
  if (sink_ == nullptr) return Kept(*metadata);
  absl::StatusOr<std::vector<Annotation>> stored = sink_->Query(session_id);
  if (!stored.ok()) return stored.status();
  AddMissingPhases(*metadata, &*stored);
  return stored;
}

absl::StatusOr<SyncReport> AnnotationService::Sync(std::string_view session_id) {
  if (sink_ == nullptr) {
    return absl::FailedPreconditionError("no ClickHouse to sync to: give --clickhouse URL or set CLICKHOUSE_URL");
  }
  absl::StatusOr<session::SessionMetadata> metadata = sessions_.Load(session_id);
  if (!metadata.ok()) return metadata.status();
  absl::StatusOr<std::vector<Annotation>> kept = Kept(*metadata);
  if (!kept.ok()) return kept.status();
  absl::StatusOr<absl::flat_hash_set<std::string>> present = sink_->Ids(session_id);
  if (!present.ok()) return present.status();
  SyncReport report{.session_id = std::string(session_id), .kept = kept->size()};
  std::vector<Annotation> missing;
  for (Annotation& a : *kept) {
    if (present->contains(a.annotation_id)) {
      ++report.present;
    } else {
      missing.push_back(std::move(a));
    }
  }
  if (absl::Status s = sink_->Insert(missing); !s.ok()) return s;
  report.inserted = missing.size();
  return report;
}

}  // namespace otelrr::annotate
