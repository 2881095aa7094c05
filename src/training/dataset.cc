#include "training/dataset.h"

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "common/status.h"
#include "fmt/format.h"
#include "fmt/ranges.h"
#include "session/time_format.h"
#include "training/items.h"

namespace otelrr::training {
namespace {

// The "flags" array of an annotation's JSON value, when it has one.
std::vector<std::string> FlagsOfValue(std::string_view value) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array flags;
  if (parser.parse(simdjson::padded_string(value)).get(doc) || doc["flags"].get(flags)) return out;
  for (simdjson::dom::element f : flags) {
    std::string_view flag;
    if (!f.get(flag) && !flag.empty()) out.emplace_back(flag);
  }
  return out;
}

void WriteCounts(const otlp::PerSignal<uint64_t>& items, JsonWriter* w) {
  w->BeginObject();
  w->Field("spans", items[otlp::Signal::kTraces]);
  w->Field("dataPoints", items[otlp::Signal::kMetrics]);
  w->Field("logRecords", items[otlp::Signal::kLogs]);
  w->EndObject();
}

void WriteTime(std::string_view key, uint64_t t, JsonWriter* w) {
  w->Field(key, session::FormatRfc3339(t));
  w->Field(fmt::format("{}UnixNano", key), fmt::format_int(t).str());
}

}  // namespace

int TrainingDataset::FindPhase(std::string_view name) const {
  for (size_t i = 0; i < phases.size(); ++i) {
    if (phases[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::string> TrainingDataset::PhaseNames() const {
  std::vector<std::string> out;
  for (const DatasetPhase& p : phases) {
    if (std::find(out.begin(), out.end(), p.name) == out.end()) out.push_back(p.name);
  }
  return out;
}

PhaseLabeler::PhaseLabeler(const std::vector<DatasetPhase>& phases) {
  std::vector<uint64_t> points;
  for (const DatasetPhase& p : phases) {
    if (p.end_unix_nano <= p.start_unix_nano) continue;  // empty: labels nothing
    points.push_back(p.start_unix_nano);
    if (p.end_unix_nano != kOpenEnd) points.push_back(p.end_unix_nano);
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  // No phase starts or ends inside a segment [points[i], points[i + 1]), so the phase containing its start
  // contains all of it: the label is the containing phase that started last (listed last on ties).
  for (uint64_t at : points) {
    int label = -1;
    for (size_t i = 0; i < phases.size(); ++i) {
      const DatasetPhase& p = phases[i];
      if (p.start_unix_nano <= at && at < p.end_unix_nano &&
          (label < 0 || p.start_unix_nano >= phases[static_cast<size_t>(label)].start_unix_nano)) {
        label = static_cast<int>(i);
      }
    }
    if (!labels_.empty() && labels_.back() == label) continue;  // the same label goes on
    bounds_.push_back(at);
    labels_.push_back(label);
  }
}

absl::Status ValidatePhaseNames(const TrainingDataset& dataset, const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (dataset.FindPhase(name) < 0) {
      const std::vector<std::string> all = dataset.PhaseNames();
      return absl::InvalidArgumentError(
          all.empty() ? fmt::format("phase '{}': session {} has no phases (no test.phase.* annotation)", name,
                                    dataset.session_id)
                      : fmt::format("phase '{}' is not a phase of session {}: its phases are {}", name,
                                    dataset.session_id, fmt::join(all, ", ")));
    }
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), name) !=
        names.begin() + static_cast<std::ptrdiff_t>(i)) {
      return absl::InvalidArgumentError(fmt::format("phase '{}' is given twice", name));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<otlp::TimeWindow>> ResolvePhaseWindows(session::SessionStore& sessions,
                                                                  annotate::AnnotationService& annotations,
                                                                  std::string_view session_id,
                                                                  const std::vector<std::string>& names) {
  absl::StatusOr<TrainingDataset> d = DescribeSession(sessions, annotations, session_id);
  if (!d.ok()) return d.status();
  if (absl::Status s = ValidatePhaseNames(*d, names); !s.ok()) return s;
  std::vector<otlp::TimeWindow> out;
  for (const PhaseLabeler::Window& w : PhaseWindows(*d, names)) out.push_back({.start = w.start, .end = w.end});
  return out;
}

std::vector<PhaseLabeler::Window> PhaseWindows(const TrainingDataset& dataset, const std::vector<std::string>& names) {
  return PhaseLabeler(dataset.phases).Windows([&](int i) {
    return std::find(names.begin(), names.end(), dataset.phases[static_cast<size_t>(i)].name) != names.end();
  });
}

std::vector<DatasetPhase> PhasesFromAnnotations(const std::vector<annotate::Annotation>& annotations,
                                                const session::SessionMetadata& metadata) {
  std::vector<DatasetPhase> phases;
  std::set<std::tuple<std::string, uint64_t, uint64_t, bool>> seen;  // the same window annotated twice
  for (const annotate::Annotation& a : annotations) {
    if (!a.is_phase() || a.phase_name().empty()) continue;
    DatasetPhase p;
    p.name = std::string(a.phase_name());
    p.annotation_key = a.annotation_key;
    p.annotation_id = a.annotation_id;
    p.start_unix_nano = a.time_range_start_unix_nano;
    p.end_given = a.time_range_end_unix_nano.has_value();
    p.end_unix_nano = a.time_range_end_unix_nano.value_or(kOpenEnd);
    if (!seen.insert({p.annotation_key, p.start_unix_nano, p.end_unix_nano, p.end_given}).second) continue;
    p.flags = !a.flags.empty() ? a.flags : FlagsOfValue(a.annotation_value);
    p.anomaly = p.flags.empty() ? std::string(kNormal) : fmt::format("{}", fmt::join(p.flags, "|"));
    phases.push_back(std::move(p));
  }
  std::stable_sort(phases.begin(), phases.end(),
                   [](const DatasetPhase& a, const DatasetPhase& b) { return a.start_unix_nano < b.start_unix_nano; });
  // A phase without an end lasts until the next phase starts.
  for (size_t i = 0; i < phases.size(); ++i) {
    if (phases[i].end_given) continue;
    for (size_t j = i + 1; j < phases.size(); ++j) {
      if (phases[j].start_unix_nano > phases[i].start_unix_nano) {
        phases[i].end_unix_nano = phases[j].start_unix_nano;
        break;
      }
    }
  }
  for (DatasetPhase& p : phases) {
    for (const session::FileEntry& f : metadata.files) {
      if (f.first_arrival_unix_nano < p.end_unix_nano && f.last_arrival_unix_nano >= p.start_unix_nano) {
        p.files.push_back(f.path);
      }
    }
  }
  return phases;
}

absl::StatusOr<TrainingDataset> DescribeSession(session::SessionStore& sessions,
                                                annotate::AnnotationService& annotations,
                                                std::string_view session_id) {
  absl::StatusOr<session::SessionMetadata> metadata = sessions.Load(session_id);
  if (!metadata.ok()) return metadata.status();
  absl::StatusOr<std::vector<annotate::Annotation>> listed = annotations.List(session_id);
  if (!listed.ok()) return listed.status();
  TrainingDataset d;
  d.session_id = metadata->session_id;
  d.session_type = metadata->session_type;
  d.start_time_unix_nano = metadata->start_time_unix_nano;
  d.end_time_unix_nano = metadata->end_time_unix_nano;
  d.annotations_from = annotations.sink() != nullptr ? "clickhouse" : "session";
  d.phases = PhasesFromAnnotations(*listed, *metadata);
  std::map<std::string, std::vector<std::string>> types;
  for (const DatasetPhase& p : d.phases) {
    for (const std::string& flag : p.flags) {
      std::vector<std::string>& of = types[flag];
      if (std::find(of.begin(), of.end(), p.name) == of.end()) of.push_back(p.name);
    }
  }
  for (auto& [name, phases] : types) d.anomaly_types.push_back({.name = name, .phases = std::move(phases)});
  return d;
}

absl::Status CountItems(session::SessionStore& sessions, TrainingDataset* d, std::vector<otlp::Signal> signals,
                        Cancellation* cancel) {
  if (signals.empty()) signals.assign(otlp::kSignals.begin(), otlp::kSignals.end());
  absl::StatusOr<std::unique_ptr<session::SessionReader>> reader =
      sessions.OpenReader(d->session_id, {.signals = signals});
  if (!reader.ok()) return reader.status();
  for (DatasetPhase& p : d->phases) p.items = {};
  d->unlabelled = {};
  d->items = {};
  d->counted_signals = signals;
  const PhaseLabeler labeler(d->phases);
  otlp::Signal signal = otlp::Signal::kTraces;
  auto count = [&](uint64_t t) {
    const int phase = labeler.Label(t);
    ++(phase < 0 ? d->unlabelled : d->phases[static_cast<size_t>(phase)].items)[signal];
  };
  const ItemCallbacks callbacks{
      .span = [&](const SpanView& s) { count(ItemTime(s)); },
      .point = [&](const PointView& p) { count(ItemTime(p)); },
      .log = [&](const LogView& l) { count(ItemTime(l)); },
      .times_only = true,
  };
  ItemWalker walker;
  session::Record record;
  while (true) {
    if (cancel != nullptr && cancel->cancelled()) return absl::CancelledError("stopped before every item was counted");
    absl::StatusOr<bool> more = (*reader)->Next(&record);
    if (!more.ok()) return more.status();
    if (!*more) break;
    signal = record.signal;
    if (absl::Status s = walker.Walk(record.signal, record.payload, callbacks); !s.ok()) {
      return Prefixed(s, fmt::format("record {} of session {}", record.sequence, d->session_id));
    }
  }
  for (otlp::Signal s : otlp::kSignals) {
    d->items[s] = d->unlabelled[s];
    for (const DatasetPhase& p : d->phases) d->items[s] += p.items[s];
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainingDataset> BuildDataset(session::SessionStore& sessions, annotate::AnnotationService& annotations,
                                             std::string_view session_id, Cancellation* cancel) {
  absl::StatusOr<TrainingDataset> d = DescribeSession(sessions, annotations, session_id);
  if (!d.ok()) return d.status();
  if (absl::Status s = CountItems(sessions, &*d, {}, cancel); !s.ok()) return s;
  return d;
}

void WriteJson(const TrainingDataset& d, JsonWriter* w) {
  w->BeginObject();
  w->Field("sessionId", d.session_id);
  w->Field("sessionType", session::SessionTypeName(d.session_type));
  WriteTime("startTime", d.start_time_unix_nano, w);
  if (d.end_time_unix_nano) {
    WriteTime("endTime", *d.end_time_unix_nano, w);
  } else {
    w->Key("endTime");
    w->Null();
  }
  w->Field("annotationsFrom", d.annotations_from);
  w->Key("countedSignals");
  w->BeginArray();
  for (otlp::Signal s : d.counted_signals) w->String(otlp::SignalName(s));
  w->EndArray();
  w->Key("phases");
  w->BeginArray();
  for (const DatasetPhase& p : d.phases) {
    w->BeginObject();
    w->Field("name", p.name);
    w->Field("annotationKey", p.annotation_key);
    w->Field("annotationId", p.annotation_id);
    WriteTime("start", p.start_unix_nano, w);
    if (p.end_unix_nano != kOpenEnd) {
      WriteTime("end", p.end_unix_nano, w);
    } else {
      w->Key("end");
      w->Null();
      w->Key("endUnixNano");
      w->Null();
    }
    w->Field("endGiven", p.end_given);
    w->StringArray("flags", p.flags);
    w->Key("labels");
    w->BeginObject();
    w->Field("phase", p.name);
    w->Field("anomaly", p.anomaly);
    w->EndObject();
    w->StringArray("anomalyTypes", p.flags);
    w->StringArray("files", p.files);
    w->Key("counts");
    WriteCounts(p.items, w);
    w->EndObject();
  }
  w->EndArray();
  w->Key("unlabelled");
  w->BeginObject();
  w->Key("labels");
  w->BeginObject();
  w->Field("phase", "");
  w->Field("anomaly", kUnlabelled);
  w->EndObject();
  w->Key("counts");
  WriteCounts(d.unlabelled, w);
  w->EndObject();
  w->Key("anomalyTypes");
  w->BeginArray();
  for (const AnomalyType& t : d.anomaly_types) {
    w->BeginObject();
    w->Field("name", t.name);
    w->StringArray("phases", t.phases);
    w->EndObject();
  }
  w->EndArray();
  w->Key("counts");
  WriteCounts(d.items, w);
  w->EndObject();
}

}  // namespace otelrr::training
