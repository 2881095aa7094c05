#include "annotate/annotation_log.h"

#include <fmt/format.h>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "session/layout.h"
#include "session/metadata.h"

namespace otelrr::annotate {

std::string AnnotationsKey(std::string_view session_id) {
  return fmt::format("{}{}", session::SessionPrefix(session_id), kAnnotationsName);
}

absl::StatusOr<std::vector<Annotation>> ParseAnnotationsJsonl(std::string_view session_id, std::string_view text) {
  std::vector<Annotation> out;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    absl::StatusOr<Annotation> a = FromJsonLine(line);
    if (!a.ok()) return Prefixed(a.status(), fmt::format("{} line {}", kAnnotationsName, line_number));
    if (!a->session_id) a->session_id = std::string(session_id);
    if (a->annotation_type.empty()) a->annotation_type = TypeOfKey(a->annotation_key).value_or("");
    if (a->signal_type.empty()) a->signal_type = "any";
    if (a->annotation_id.empty()) {
      a->annotation_id =
          StableAnnotationId(fmt::format("{}\n{}\n{}", session_id, a->annotation_key, a->time_range_start_unix_nano));
    }
    out.push_back(*std::move(a));
  }
  return out;
}

void RenameSession(std::vector<Annotation>* annotations, std::string_view old_id, std::string_view new_id) {
  const std::string old_value = fmt::format("\"sessionId\":\"{}\"", old_id);
  const std::string new_value = fmt::format("\"sessionId\":\"{}\"", new_id);
  for (Annotation& a : *annotations) {
    a.session_id = std::string(new_id);
    const std::string derived =
        StableAnnotationId(fmt::format("{}\n{}\n{}", old_id, a.annotation_key, a.time_range_start_unix_nano));
    if (a.annotation_id != derived) continue;  // an id of its own: it stays
    a.annotation_id =
        StableAnnotationId(fmt::format("{}\n{}\n{}", new_id, a.annotation_key, a.time_range_start_unix_nano));
    if (a.annotation_value.starts_with("{" + old_value)) {  // a phase's value, as PhaseAnnotation writes it
      a.annotation_value = "{" + new_value + a.annotation_value.substr(1 + old_value.size());
    }
  }
}

std::string FormatAnnotationsJsonl(std::span<const Annotation> annotations) {
  std::string out;
  for (const Annotation& a : annotations) {
    out += ToJsonLine(a);
    out += '\n';
  }
  return out;
}

absl::StatusOr<std::vector<Annotation>> AnnotationLog::List(std::string_view session_id) {
  absl::StatusOr<std::string> text = store_.ReadAll(AnnotationsKey(session_id));
  if (absl::IsNotFound(text.status())) return std::vector<Annotation>{};
  if (!text.ok()) return text.status();
  return ParseAnnotationsJsonl(session_id, *text);
}

absl::StatusOr<std::vector<Annotation>> AnnotationLog::Add(std::string_view session_id, std::span<const Annotation> annotations) {
  const std::string lock_name = fmt::format("{}annotations", session::SessionPrefix(session_id));
  const Clock::TimePoint give_up = clock_.Now() + lock_wait;
  absl::StatusOr<std::unique_ptr<store::ObjectLock>> lock = store_.TryLock(lock_name);
  while (store::IsLockHeld(lock.status()) && clock_.Now() < give_up) {
    clock_.SleepUntil(clock_.Now() + std::chrono::milliseconds(20));
    lock = store_.TryLock(lock_name);
  }
  if (store::IsLockHeld(lock.status())) {
    return absl::FailedPreconditionError(fmt::format(
        "the annotations of session {} stayed locked by another writer for {} s; try again", session_id,
        std::chrono::duration_cast<std::chrono::seconds>(lock_wait).count()));
  }
  // A store without locks (none today) still gets the atomic replacement.
  if (!lock.ok() && lock.status().code() != absl::StatusCode::kUnimplemented) return lock.status();

  absl::StatusOr<std::vector<Annotation>> existing = List(session_id);
  if (!existing.ok()) return existing.status();
  absl::flat_hash_map<std::string, size_t> by_id;
  for (size_t i = 0; i < existing->size(); ++i) by_id.emplace((*existing)[i].annotation_id, i);
  std::vector<Annotation> added;
  std::string text = FormatAnnotationsJsonl(*existing);
  for (Annotation a : annotations) {
    if (!a.session_id) a.session_id = std::string(session_id);
    if (auto it = by_id.find(a.annotation_id); it != by_id.end()) {
      const Annotation& old = (*existing)[it->second];
      a.created_at_unix_nano = old.created_at_unix_nano;  // a retried request is made again, later
      if (old == a) continue;
      return absl::AlreadyExistsError(fmt::format(
          "session {} already has a different annotation with the id {}", session_id, a.annotation_id));
    }
    text += ToJsonLine(a);
    text += '\n';
    by_id.emplace(a.annotation_id, existing->size());
    existing->push_back(a);
    added.push_back(std::move(a));
  }
  if (added.empty()) return added;
  if (absl::Status s = store_.Put(AnnotationsKey(session_id), text); !s.ok()) return s;
  return added;
}

}  // namespace otelrr::annotate
