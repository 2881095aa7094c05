// otelrr annotate and otelrr annotations: label stretches of a session, list the labels, and keep the
// ClickHouse table in step (src/annotate/).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "annotate/annotation_service.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "cli/otlp_target.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "fmt/format.h"
#include "session/retention.h"
#include "session/session_id.h"
#include "session/time_format.h"

namespace otelrr::cli {
namespace {

using annotate::Annotation;
using annotate::AnnotationService;

struct AnnotateFlags {
  std::string session_id;
  std::string key;
  std::string from;
  std::string to;
  std::string value;
  std::string service;
  std::string trace_id;
  std::string span_id;
  std::string metric;
  std::vector<std::string> labels;
  std::vector<std::string> resources;
  std::string signal;
  std::optional<double> confidence;
  std::string parent;
  std::string expires_in;
  std::string created_by = "otelrr annotate";
  bool json = false;
  // annotations list / sync
  std::string key_prefix;
  std::vector<std::string> session_ids;
  bool all = false;
};

// --from / --to: RFC 3339, "+DURATION" after the session's start, or "now".
absl::StatusOr<uint64_t> ParseWhen(std::string_view flag, std::string_view text, uint64_t session_start) {
  if (text == "now") return RealClock().WallNowUnixNano();
  if (text.starts_with('+')) {
    absl::StatusOr<std::chrono::nanoseconds> offset = session::ParseDuration(text.substr(1));
    if (!offset.ok()) return Prefixed(offset.status(), flag);
    return session_start + static_cast<uint64_t>(offset->count());
  }
  absl::StatusOr<uint64_t> t = session::ParseRfc3339(text);
  if (!t.ok()) {
    return absl::InvalidArgumentError(fmt::format(
        "{} '{}' is not a time: give RFC 3339 (2026-11-26T11:45:54Z), +DURATION after the session's start (+30s, "
        "+90s, +1500ms) or now",
        flag, text));
  }
  return *t;
}

absl::Status ParsePairs(std::string_view flag, const std::vector<std::string>& items, annotate::StringMap* out) {
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(fmt::format("{} '{}' must be KEY=VALUE", flag, item));
    }
    out->emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  std::sort(out->begin(), out->end());
  for (size_t i = 1; i < out->size(); ++i) {
    if ((*out)[i].first == (*out)[i - 1].first) {
      return absl::InvalidArgumentError(fmt::format("{} gives '{}' twice", flag, (*out)[i].first));
    }
  }
  return absl::OkStatus();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The annotation the flags describe; `session_start` anchors +DURATION times. Usage errors are InvalidArgument.
absl::StatusOr<Annotation> FromFlags(const AnnotateFlags& f, uint64_t session_start) {
  Annotation a;
  a.annotation_key = f.key;
  absl::StatusOr<uint64_t> from = ParseWhen("--from", f.from, session_start);
  if (!from.ok()) return from.status();
  a.time_range_start_unix_nano = *from;
  if (!f.to.empty()) {
    absl::StatusOr<uint64_t> to = ParseWhen("--to", f.to, session_start);
    if (!to.ok()) return to.status();
    a.time_range_end_unix_nano = *to;
  }
  if (!f.value.empty()) a.annotation_value = f.value;
  if (!f.service.empty()) a.service_name = f.service;
  a.trace_id = Lower(f.trace_id);
  a.span_id = Lower(f.span_id);
  if (!f.metric.empty()) a.metric_name = f.metric;
  if (absl::Status s = ParsePairs("--label", f.labels, &a.metric_labels); !s.ok()) return s;
  if (absl::Status s = ParsePairs("--resource", f.resources, &a.resource_attributes); !s.ok()) return s;
  a.signal_type = f.signal;
  if (f.confidence) a.confidence = static_cast<float>(*f.confidence);
  if (!f.parent.empty()) a.parent_annotation_id = f.parent;
  if (!f.expires_in.empty()) {
    absl::StatusOr<std::chrono::nanoseconds> in = session::ParseDuration(f.expires_in);
    if (!in.ok()) return Prefixed(in.status(), "--expires-in");
    a.expires_at_unix_nano = RealClock().WallNowUnixNano() + static_cast<uint64_t>(in->count());
  }
  return a;
}

// Opens the store, the optional ClickHouse sink and the annotation service, then runs `fn`.
template <typename Fn>
int WithAnnotations(const StoreFlag& store_flag, const ClickHouseFlag& clickhouse, Fn&& fn) {
  absl::StatusOr<std::unique_ptr<annotate::ClickHouseSink>> sink = clickhouse.Open();
  if (!sink.ok()) return UsageError(sink.status());
  absl::StatusOr<std::unique_ptr<store::ObjectStore>> store = store_flag.Open(StoreFlag::Access::kRead);
  if (!store.ok()) return Fail(store.status());
  session::SessionStore sessions(**store);
  AnnotationService service(sessions, sink->get());
  return fn(sessions, service);
}

int FailAbout(const absl::Status& s, const StoreFlag& store_flag) {
  if (s.code() == absl::StatusCode::kNotFound) return Fail(fmt::format("{} (store: {})", s.message(), store_flag.Resolved()));
  return Fail(s);
}

std::string Range(const Annotation& a) {
  return a.time_range_end_unix_nano ? fmt::format("{} .. {}", session::FormatRfc3339(a.time_range_start_unix_nano),
                                                  session::FormatRfc3339(*a.time_range_end_unix_nano))
                                    : session::FormatRfc3339(a.time_range_start_unix_nano);
}

void PrintJsonArray(const std::vector<Annotation>& annotations) {
  JsonWriter w(true);
  w.BeginArray();
  for (const Annotation& a : annotations) annotate::WriteJson(a, &w);
  w.EndArray();
  Print(w.str());
  Print("\n");
}

int RunAnnotate(const StoreFlag& store_flag, const ClickHouseFlag& clickhouse, const AnnotateFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.session_id); !s.ok()) return UsageError(s);
  if (absl::StatusOr<std::string> type = annotate::TypeOfKey(f.key); !type.ok()) return UsageError(type.status());
  if (f.confidence && !(*f.confidence >= 0 && *f.confidence <= 1)) {
    return UsageError(fmt::format("--confidence {} must be between 0 and 1", *f.confidence));
  }
  return WithAnnotations(store_flag, clickhouse, [&](session::SessionStore& sessions, AnnotationService& service) {
    absl::StatusOr<session::SessionMetadata> m = sessions.Load(f.session_id);
    if (!m.ok()) return FailAbout(m.status(), store_flag);
    absl::StatusOr<Annotation> a = FromFlags(f, m->start_time_unix_nano);
    if (!a.ok()) return UsageError(a.status());
    absl::StatusOr<std::vector<Annotation>> added = service.Add(f.session_id, {*std::move(a)}, f.created_by);
    if (!added.ok()) {
      return added.status().code() == absl::StatusCode::kInvalidArgument ? UsageError(added.status())
                                                                          : FailAbout(added.status(), store_flag);
    }
    const Annotation& stored = added->front();
    if (f.json) {
      JsonWriter w(true);
      annotate::WriteJson(stored, &w);
      Print(w.str());
      Print("\n");
    } else {
      Print(fmt::format("annotated session {}: {} {} (id {}){}\n", f.session_id, stored.annotation_key, Range(stored),
                        stored.annotation_id,
                        service.sink() != nullptr ? fmt::format(", also in ClickHouse {}", service.sink()->Describe())
                                                  : ""));
    }
    return 0;
  });
}

int RunList(const StoreFlag& store_flag, const ClickHouseFlag& clickhouse, const AnnotateFlags& f) {
  if (absl::Status s = session::ValidateSessionId(f.session_id); !s.ok()) return UsageError(s);
  return WithAnnotations(store_flag, clickhouse, [&](session::SessionStore&, AnnotationService& service) {
    absl::StatusOr<std::vector<Annotation>> all = service.List(f.session_id);
    if (!all.ok()) return FailAbout(all.status(), store_flag);
    std::vector<Annotation> shown;
    for (Annotation& a : *all) {
      if (a.annotation_key.starts_with(f.key_prefix)) shown.push_back(std::move(a));
    }
    if (f.json) {
      PrintJsonArray(shown);
      return 0;
    }
    if (shown.empty()) {
      Print(fmt::format("session {} has no annotations{}\n", f.session_id,
                        f.key_prefix.empty() ? "" : fmt::format(" with keys starting '{}'", f.key_prefix)));
      return 0;
    }
    size_t key_width = std::string_view("KEY").size();
    for (const Annotation& a : shown) key_width = std::max(key_width, a.annotation_key.size());
    Print(fmt::format("{:<{}}  {:<54}  {}\n", "KEY", key_width, "TIME (UTC)", "VALUE"));
    for (const Annotation& a : shown) {
      std::string value = a.annotation_value.size() > 60 ? a.annotation_value.substr(0, 57) + "..." : a.annotation_value;
      Print(fmt::format("{:<{}}  {:<54}  {}\n", a.annotation_key, key_width, Range(a), value));
    }
    return 0;
  });
}

int RunInit(const ClickHouseFlag& clickhouse) {
  absl::StatusOr<std::unique_ptr<annotate::ClickHouseSink>> sink = clickhouse.Open();
  if (!sink.ok()) return UsageError(sink.status());
  if (*sink == nullptr) {
    return UsageError("no ClickHouse given: use --clickhouse http://HOST:8123 or set CLICKHOUSE_URL");
  }
  if (absl::Status s = (*sink)->Init(); !s.ok()) return Fail(s);
  Print(fmt::format("the annotations table is ready in {}\n", (*sink)->Describe()));
  return 0;
}

int RunSync(const StoreFlag& store_flag, const ClickHouseFlag& clickhouse, const AnnotateFlags& f) {
  if (f.all == !f.session_ids.empty()) return UsageError("give the sessions to sync, or --all");
  for (const std::string& id : f.session_ids) {
    if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return UsageError(s);
  }
  return WithAnnotations(store_flag, clickhouse, [&](session::SessionStore& sessions, AnnotationService& service) {
    if (service.sink() == nullptr) {
      return UsageError("no ClickHouse to sync to: use --clickhouse http://HOST:8123 or set CLICKHOUSE_URL");
    }
    std::vector<std::string> ids = f.session_ids;
    if (f.all) {
      absl::StatusOr<std::vector<session::SessionMetadata>> listed = sessions.List();
      if (!listed.ok()) return Fail(listed.status());
      for (const session::SessionMetadata& m : *listed) ids.push_back(m.session_id);
    }
    JsonWriter w(true);
    w.BeginArray();
    int failed = 0;
    for (const std::string& id : ids) {
      absl::StatusOr<annotate::SyncReport> r = service.Sync(id);
      if (!r.ok()) {
        ++failed;
        std::fprintf(stderr, "otelrr: session %s: %s\n", id.c_str(), std::string(r.status().message()).c_str());
        continue;
      }
      if (f.json) {
        r->WriteJson(&w);
      } else {
        Print(fmt::format("session {}: {} inserted, {} already in ClickHouse\n", id, r->inserted, r->present));
      }
    }
    w.EndArray();
    if (f.json) {
      Print(w.str());
      Print("\n");
    }
    return failed == 0 ? 0 : kExitFailed;
  });
}

}  // namespace

void ClickHouseFlag::AddTo(CLI::App* command) {
  command->add_option("--clickhouse", url,
                      "ClickHouse's HTTP interface for annotations, http(s)://[USER:PASSWORD@]HOST:PORT (default: "
                      "CLICKHOUSE_URL; CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE)");
}

absl::StatusOr<std::unique_ptr<annotate::ClickHouseSink>> ClickHouseFlag::Open() const {
  absl::StatusOr<std::optional<annotate::ClickHouseConfig>> config = annotate::ClickHouseConfig::Resolve(url);
  if (!config.ok()) return config.status();
  if (!config->has_value()) return nullptr;
  return std::make_unique<annotate::ClickHouseSink>(**config);
}

void AddAnnotateCommands(CLI::App& app, StoreFlag* store, Handler* handler) {
  auto f = std::make_shared<AnnotateFlags>();
  auto clickhouse = std::make_shared<ClickHouseFlag>();

  CLI::App* annotate = app.add_subcommand("annotate", "Label a stretch of a session (kept with it; also in ClickHouse when configured)");
  annotate->add_option("session", f->session_id, "the session")->required();
  annotate->add_option("--key", f->key, "test.phase.NAME, diag.*, human.*, llm.*, meta.* or train.*")->required();
  annotate->add_option("--from", f->from, "start: RFC 3339, +DURATION after the session's start (+30s), or now")->required();
  annotate->add_option("--to", f->to, "end (same forms); none for a point in time");
  annotate->add_option("--value", f->value, "the annotation's value, JSON (default {}): '\"slow\"', '{\"cause\":\"db\"}'");
  annotate->add_option("--service", f->service, "the service it is about");
  annotate->add_option("--trace-id", f->trace_id, "the trace it is about (32 hex digits)");
  annotate->add_option("--span-id", f->span_id, "the span it is about (16 hex digits; needs --trace-id)");
  annotate->add_option("--metric", f->metric, "the metric it is about");
  annotate->add_option("--label", f->labels, "a metric label KEY=VALUE (repeat)");
  annotate->add_option("--resource", f->resources, "a resource attribute KEY=VALUE (repeat)");
  annotate->add_option("--signal", f->signal, "trace, metric, log or any (default: from the ids given)")
      ->check(CLI::IsMember({"trace", "metric", "log", "any"}));
  annotate->add_option("--confidence", f->confidence, "how sure, 0 to 1");
  annotate->add_option("--parent", f->parent, "the id of the annotation this one refines");
  annotate->add_option("--expires-in", f->expires_in, "drop it from ClickHouse's point of view after this long (7d)");
  annotate->add_option("--created-by", f->created_by, "who made it (default: otelrr annotate)");
  annotate->add_flag("--json", f->json, "print the stored annotation as JSON");
  clickhouse->AddTo(annotate);
  AddStoreOption(annotate, store);
  annotate->callback([=] { *handler = [=] { return RunAnnotate(*store, *clickhouse, *f); }; });

  CLI::App* annotations = app.add_subcommand("annotations", "List a session's annotations; create and back-fill the ClickHouse table");
  annotations->require_subcommand(1);
  CLI::App* list = annotations->add_subcommand("list", "The annotations of a session (ClickHouse when configured)");
  list->add_option("session", f->session_id, "the session")->required();
  list->add_option("--key", f->key_prefix, "only keys starting with this (test.phase.)");
  list->add_flag("--json", f->json, "a JSON array");
  clickhouse->AddTo(list);
  AddStoreOption(list, store);
  list->callback([=] { *handler = [=] { return RunList(*store, *clickhouse, *f); }; });

  CLI::App* init = annotations->add_subcommand("init", "Create the platform's annotations table in ClickHouse when it is missing");
  clickhouse->AddTo(init);
  init->callback([=] { *handler = [=] { return RunInit(*clickhouse); }; });

  CLI::App* sync = annotations->add_subcommand("sync", "Send the annotations kept with sessions to ClickHouse (what it lacks)");
  sync->add_option("sessions", f->session_ids, "the sessions");
  sync->add_flag("--all", f->all, "every session of the store");
  sync->add_flag("--json", f->json, "one JSON report per session");
  clickhouse->AddTo(sync);
  AddStoreOption(sync, store);
  sync->callback([=] { *handler = [=] { return RunSync(*store, *clickhouse, *f); }; });
}

}  // namespace otelrr::cli
