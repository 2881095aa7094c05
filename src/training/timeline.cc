#include "training/timeline.h"

#include <simdjson.h>

#include <algorithm>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "common/json_fields.h"
#include "common/status.h"
#include "fmt/format.h"
#include "session/layout.h"
#include "training/items.h"

namespace otelrr::training {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

// Counts records into buckets that double in width whenever the session outgrows kMaxTimelineBuckets.
class Buckets {
 public:
  explicit Buckets(SessionTimeline* t) : t_(t) {}

  // The bucket of a request that arrived at `arrival`, made to exist.
  size_t At(uint64_t arrival) {
    if (t_->buckets() == 0) t_->start_unix_nano = arrival - arrival % kSecond;
    // Arrivals are sorted; one that is not (an active session read while written) goes to the first bucket.
    const uint64_t offset = arrival > t_->start_unix_nano ? arrival - t_->start_unix_nano : 0;
    uint64_t index = offset / (t_->bucket_seconds * kSecond);
    while (index >= kMaxTimelineBuckets) {
      Halve();
      index = offset / (t_->bucket_seconds * kSecond);
    }
    if (index >= t_->buckets()) {
      for (std::vector<uint64_t>* v : Series()) v->resize(index + 1, 0);
    }
    return static_cast<size_t>(index);
  }

 private:
  std::vector<std::vector<uint64_t>*> Series() {
    return {&t_->requests, &t_->spans, &t_->error_spans, &t_->data_points, &t_->log_records};
  }

  // Twice as wide buckets: bucket i takes old buckets 2i and 2i + 1.
  void Halve() {
    for (std::vector<uint64_t>* v : Series()) {
      std::vector<uint64_t> merged((v->size() + 1) / 2, 0);
      for (size_t i = 0; i < v->size(); ++i) merged[i / 2] += (*v)[i];
      *v = std::move(merged);
    }
    t_->bucket_seconds *= 2;
  }

  SessionTimeline* t_;
};

FieldReader ServicesInto(std::vector<ServiceTotals>* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    simdjson::dom::array array;
    if (v.get(array)) return absl::InvalidArgumentError(fmt::format("{} must be an array", key));
    for (simdjson::dom::element e : array) {
      ServiceTotals s;
      if (absl::Status st = ReadJsonObject(e, "a service", {{"name", StringInto(&s.name)},
                                                           {"spans", Uint64Into(&s.spans)},
                                                           {"errorSpans", Uint64Into(&s.error_spans)},
                                                           {"dataPoints", Uint64Into(&s.data_points)},
                                                           {"logRecords", Uint64Into(&s.log_records)}});
          !st.ok()) {
        return st;
      }
      out->push_back(std::move(s));
    }
    return absl::OkStatus();
  };
}

void Source(const session::SessionMetadata& m, SessionTimeline* t) {
  t->source_files = m.files.size();
  t->source_requests = m.counts.requests();
  t->source_bytes = m.counts.uncompressed_bytes;
}

}  // namespace

std::string TimelineKey(std::string_view session_id) {
  return fmt::format("{}timeline.json", session::SessionPrefix(session_id));
}

namespace {

absl::StatusOr<SessionTimeline> Compute(session::SessionStore& sessions, std::string_view session_id,
                                        const session::SessionMetadata& metadata, Cancellation* cancel) {
  absl::StatusOr<std::unique_ptr<session::SessionReader>> reader = sessions.OpenReader(session_id);
  if (!reader.ok()) return reader.status();
  SessionTimeline t;
  t.session_id = std::string(session_id);
  Source(metadata, &t);
  Buckets buckets(&t);
  absl::flat_hash_map<std::string, ServiceTotals> services;
  auto service = [&](std::string_view name) -> ServiceTotals& {
    auto it = services.find(absl::string_view(name.data(), name.size()));
    if (it == services.end()) it = services.emplace(std::string(name), ServiceTotals{.name = std::string(name)}).first;
    return it->second;
  };
  size_t bucket = 0;
  const ItemCallbacks callbacks{
      .span =
          [&](const SpanView& s) {
            ServiceTotals& totals = service(s.service_name);
            ++totals.spans;
            ++t.spans[bucket];
            if (s.status_code == 2) {
              ++totals.error_spans;
              ++t.error_spans[bucket];
            }
          },
      .point =
          [&](const PointView& p) {
            ++service(p.service_name).data_points;
            ++t.data_points[bucket];
          },
      .log =
          [&](const LogView& l) {
            ++service(l.service_name).log_records;
            ++t.log_records[bucket];
          },
  };
  ItemWalker walker;
  session::Record record;
  while (true) {
    if (cancel != nullptr && cancel->cancelled()) return absl::CancelledError("stopped before the timeline was counted");
    absl::StatusOr<bool> more = (*reader)->Next(&record);
    if (!more.ok()) return more.status();
    if (!*more) break;
    bucket = buckets.At(record.arrival_unix_nano);
    ++t.requests[bucket];
    if (absl::Status s = walker.Walk(record.signal, record.payload, callbacks); !s.ok()) {
      return Prefixed(s, fmt::format("record {} of session {}", record.sequence, session_id));
    }
  }
  for (auto& [name, totals] : services) t.services.push_back(std::move(totals));
  std::sort(t.services.begin(), t.services.end(), [](const ServiceTotals& a, const ServiceTotals& b) {
    return std::tie(b.spans, b.data_points, b.log_records, a.name) < std::tie(a.spans, a.data_points, a.log_records, b.name);
  });
  return t;
}

}  // namespace

absl::StatusOr<SessionTimeline> ComputeTimeline(session::SessionStore& sessions, std::string_view session_id,
                                                Cancellation* cancel) {
  absl::StatusOr<session::SessionMetadata> metadata = sessions.Load(session_id);
  if (!metadata.ok()) return metadata.status();
  return Compute(sessions, session_id, *metadata, cancel);
}

absl::StatusOr<SessionTimeline> LoadTimeline(session::SessionStore& sessions, std::string_view session_id,
                                             Cancellation* cancel) {
  absl::StatusOr<session::SessionMetadata> metadata = sessions.Load(session_id);
  if (!metadata.ok()) return metadata.status();
  const bool closed = metadata->status != session::SessionStatus::kActive;
  if (closed) {
    absl::StatusOr<std::string> cached = sessions.object_store().ReadAll(TimelineKey(session_id));
    if (cached.ok()) {
      absl::StatusOr<SessionTimeline> t = ParseTimelineJson(*cached);
      SessionTimeline want;
      Source(*metadata, &want);
      if (t.ok() && t->session_id == session_id && t->source_files == want.source_files &&
          t->source_requests == want.source_requests && t->source_bytes == want.source_bytes) {
        return t;
      }
    }
  }
  absl::StatusOr<SessionTimeline> t = Compute(sessions, session_id, *metadata, cancel);
  if (!t.ok() || !closed) return t;
  JsonWriter w;
  w.BeginObject();
  WriteTimelineFields(*t, &w);
  w.EndObject();
  // A cache: reading works without it, so failures to write it are ignored. A session deleted while its
  // timeline was counted must not come back as a folder holding only the cache.
  if (sessions.object_store().Put(TimelineKey(session_id), w.Take()).ok()) {
    (void)sessions.UndoIfDeleted(session_id, TimelineKey(session_id));
  }
  return t;
}

void WriteTimelineFields(const SessionTimeline& t, JsonWriter* w) {
  w->Field("sessionId", t.session_id);
  w->Field("startUnixNano", t.start_unix_nano);
  w->Field("bucketSeconds", t.bucket_seconds);
  w->Field("buckets", t.buckets());
  auto series = [&](std::string_view key, const std::vector<uint64_t>& v) {
    w->Key(key);
    w->BeginArray();
    for (uint64_t n : v) w->Uint(n);
    w->EndArray();
  };
  series("requests", t.requests);
  series("spans", t.spans);
  series("errorSpans", t.error_spans);
  series("dataPoints", t.data_points);
  series("logRecords", t.log_records);
  w->Key("services");
  w->BeginArray();
  for (const ServiceTotals& s : t.services) {
    w->BeginObject();
    w->Field("name", s.name);
    w->Field("spans", s.spans);
    w->Field("errorSpans", s.error_spans);
    w->Field("dataPoints", s.data_points);
    w->Field("logRecords", s.log_records);
    w->EndObject();
  }
  w->EndArray();
  w->Key("source");
  w->BeginObject();
  w->Field("files", t.source_files);
  w->Field("requests", t.source_requests);
  w->Field("uncompressedBytes", t.source_bytes);
  w->EndObject();
}

absl::StatusOr<SessionTimeline> ParseTimelineJson(std::string_view json) {
  SessionTimeline t;
  uint64_t buckets = 0;
  absl::Status s = ReadJsonObject(
      json, "a timeline",
      {{"sessionId", StringInto(&t.session_id)},
       {"startUnixNano", Uint64Into(&t.start_unix_nano)},
       {"bucketSeconds", Uint64Into(&t.bucket_seconds)},
       {"buckets", Uint64Into(&buckets)},
       {"requests", Uint64sInto(&t.requests)},
       {"spans", Uint64sInto(&t.spans)},
       {"errorSpans", Uint64sInto(&t.error_spans)},
       {"dataPoints", Uint64sInto(&t.data_points)},
       {"logRecords", Uint64sInto(&t.log_records)},
       {"services", ServicesInto(&t.services)},
       {"source", [&](std::string_view, simdjson::dom::element v) {
          return ReadJsonObject(v, "the timeline's source", {{"files", Uint64Into(&t.source_files)},
                                                             {"requests", Uint64Into(&t.source_requests)},
                                                             {"uncompressedBytes", Uint64Into(&t.source_bytes)}});
        }}});
  if (!s.ok()) return s;
  for (const std::vector<uint64_t>* v : {&t.spans, &t.error_spans, &t.data_points, &t.log_records, &t.requests}) {
    if (v->size() != buckets) return absl::InvalidArgumentError("a timeline's series must each hold one count per bucket");
  }
  if (t.bucket_seconds == 0 || buckets > kMaxTimelineBuckets) return absl::InvalidArgumentError("a timeline's buckets are out of range");
  return t;
}

}  // namespace otelrr::training
