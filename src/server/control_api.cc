#include "server/control_api.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "common/gzip.h"
#include "common/json_fields.h"
#include "common/json_writer.h"
#include "common/status.h"
#include "common/version.h"
#include "generate/pattern.h"
#include "replay/report_json.h"
#include "session/export.h"
#include "session/verify.h"
#include "session/time_format.h"
#include "training/timeline.h"
#include "session/retention.h"
#include "training/dataset.h"
#include "session/session_id.h"
#include "session/shared.h"

namespace otelrr::server {
namespace {


net::HttpResponse Json(int status, std::string body) {
  return {.status = status, .content_type = "application/json", .body = std::move(body)};
}

net::HttpResponse Error(int status, std::string_view message) {
  JsonWriter w;
  w.BeginObject();
  w.Field("error", message);
  w.EndObject();
  return Json(status, w.Take());
}

net::HttpResponse Error(const absl::Status& s) { return Error(net::HttpStatusOf(s.code()), std::string_view(s.message().data(), s.message().size())); }

// {"<key>": [metadata, ...]}, one line; without each session's file index when `summary`.
net::HttpResponse MetadataList(std::string_view key, const std::vector<session::SessionMetadata>& list,
                               bool summary = false) {
  JsonWriter w;
  w.BeginObject();
  w.Key(key);
  w.BeginArray();
  for (const session::SessionMetadata& m : list) m.WriteJson(&w, /*with_files=*/!summary);
  w.EndArray();
  w.EndObject();
  return Json(200, w.Take());
}

net::HttpResponse Metadata(int status, const absl::StatusOr<session::SessionMetadata>& m) {
  if (!m.ok()) return Error(m.status());
  return Json(status, m->ToJson(/*pretty=*/false));
}

net::HttpResponse ReplayStatus(int status, const absl::StatusOr<replay::ReplayStatus>& r) {
  if (!r.ok()) return Error(r.status());
  return Json(status, ReplayStatusJson(*r));
}

// Splits "/api/captures/abc/stop" into {"api", "captures", "abc", "stop"}.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

// Whether `path` matches `pattern`; the "{id}" segment goes to *id.
bool Matches(std::string_view pattern, const std::vector<std::string_view>& path, std::string_view* id) {
  std::vector<std::string_view> want = Segments(pattern);
  if (want.size() != path.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "{id}") {
      *id = path[i];
    } else if (want[i] != path[i]) {
      return false;
    }
  }
  return true;
}

// The value of `name` in the query string of `target` ("/x?key=test.phase.&a=b"), percent-decoded; "" when absent.
std::string QueryParameter(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return "";
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string value;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%' && i + 2 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
        value.push_back(static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        value.push_back(raw[i] == '+' ? ' ' : raw[i]);
      }
    }
    return value;
  }
  return "";
}

// A whole number of days for a retention (null: none of its own).
FieldReader WholeDaysInto(std::optional<int64_t>* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    if (v.is_null()) {
      out->reset();
      return absl::OkStatus();
    }
    double days = 0;
    if (v.get(days) || days != std::floor(days) || days < 1 || days > session::kMaxRetentionDays) {
      return absl::InvalidArgumentError(
          fmt::format("{} must be a whole number of days from 1 to {}, or null", key, session::kMaxRetentionDays));
    }
    *out = static_cast<int64_t>(days);
    return absl::OkStatus();
  };
}

// "compression": "zstd" | "gzip" | "none".
FieldReader CompressionInto(session::Compression* out) {
  return ParsedString([out](std::string_view text) -> absl::Status {
    if (session::ParseCompression(text, out)) return absl::OkStatus();
    return absl::InvalidArgumentError(fmt::format("'{}' is not one of zstd, gzip, none", text));
  });
}

// "compressionLevel": a whole number (checked against the compression once both are read), or null.
FieldReader LevelInto(std::optional<int>* out) {
  return [out](std::string_view key, simdjson::dom::element v) {
    if (v.is_null()) {
      out->reset();
      return absl::OkStatus();
    }
    double level = 0;
    if (v.get(level) || level != std::floor(level) || std::abs(level) > 100) {
      return absl::InvalidArgumentError(fmt::format("{} must be a whole number (zstd 1 to 19, gzip 0 to 12)", key));
    }
    *out = static_cast<int>(level);
    return absl::OkStatus();
  };
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// "Bearer <token>", the scheme in any case (RFC 9110: auth schemes are case-insensitive).
bool HasToken(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  }
  std::string_view given = authorization.substr(kScheme.size());
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  return ConstantTimeEquals(given, token);
}

}  // namespace

absl::StatusOr<capture::CaptureConfig> ParseCaptureConfig(std::string_view json) {
  capture::CaptureConfig c;
  absl::Status s = ReadJsonObject(json, "a CaptureConfig",
                                            {
                                                {"sessionId", StringInto(&c.session_id)},
                                                {"instance", StringInto(&c.instance)},
                                                {"diagnosticSessionId", StringInto(&c.diagnostic_session_id)},
                                                {"description", StringInto(&c.description)},
                                                {"enabledFlags", StringsInto(&c.enabled_flags)},
                                                {"captureTraces", BoolInto(&c.capture_traces)},
                                                {"captureMetrics", BoolInto(&c.capture_metrics)},
                                                {"captureLogs", BoolInto(&c.capture_logs)},
                                                {"compressionEnabled", BoolInto(&c.compression_enabled)},
                                                {"compression", CompressionInto(&c.compression)},
                                                {"compressionLevel", LevelInto(&c.compression_level)},
                                                {"maxSizeMB", OptionalNumberInto(&c.max_size_mb)},
                                                {"maxDurationMinutes", OptionalNumberInto(&c.max_duration_minutes)},
                                                {"fsync", BoolInto(&c.fsync)},
                                                {"retentionDays", WholeDaysInto(&c.retention_days)},
                                            });
  if (!s.ok()) return s;
  c.created_by = "otelrr serve";
  if (absl::Status v = capture::ValidateCaptureConfig(c); !v.ok()) return v;
  return c;
}

absl::StatusOr<generate::SeedConfig> ParseSeedRequest(std::string_view json) {
  generate::SeedConfig c;
  c.created_by = "otelrr serve";
  std::vector<std::string> signals;
  bool signals_given = false;
  std::optional<uint64_t> seed;
  absl::Status s = ReadJsonObject(
      json, "a seed request",
      {
          {"pattern", StringInto(&c.pattern_name)},
          {"durationSeconds", NumberInto(&c.duration_seconds)},
          {"tracesPerSecond", NumberInto(&c.traces_per_second)},
          {"errorRate", NumberInto(&c.error_rate)},
          {"seed",
           [&](std::string_view key, simdjson::dom::element v) {
             uint64_t n = 0;
             if (absl::Status st = Uint64Into(&n)(key, v); !st.ok()) return st;
             seed = n;
             return absl::OkStatus();
           }},
          {"sessionId", StringInto(&c.session_id)},
          {"description", StringInto(&c.description)},
          {"startTime", ParsedString([&](std::string_view text) -> absl::Status {
             absl::StatusOr<uint64_t> t = session::ParseRfc3339(text);
             if (!t.ok()) return Prefixed(t.status(), "startTime");
             c.start_time_unix_nano = *t;
             return absl::OkStatus();
           })},
          {"signals",
           [&](std::string_view key, simdjson::dom::element v) {
             signals_given = true;
             return StringsInto(&signals)(key, v);
           }},
          {"retentionDays", WholeDaysInto(&c.retention_days)},
          {"compression", CompressionInto(&c.writer.compression)},
          {"compressionLevel", LevelInto(&c.writer.compression_level)},
      });
  if (!s.ok()) return s;
  if (c.writer.compression_level) {
    if (absl::Status v = session::ValidateCompressionLevel(c.writer.compression, *c.writer.compression_level);
        !v.ok()) {
      return v;
    }
  }
  c.seed = seed;
  if (signals_given) {
    c.signals.clear();
    for (const std::string& name : signals) {
      otlp::Signal signal;
      if (!otlp::ParseSignal(name, &signal)) {
        return absl::InvalidArgumentError(fmt::format("signals: '{}' is not a signal: use traces, metrics or logs", name));
      }
      if (std::find(c.signals.begin(), c.signals.end(), signal) == c.signals.end()) c.signals.push_back(signal);
    }
  }
  return c;
}

absl::StatusOr<replay::ReplayRequest> ParseReplayRequest(std::string_view json) {
  replay::ReplayRequest out;
  replay::ReplayConfig& c = out.config;
  // https:// targets: the CA and client certificate of the server's environment (OTEL_EXPORTER_OTLP_*).
  c.tls = net::TlsFilesFromEnvironment();
  c.endpoint.clear();
  std::string filter_type;
  absl::Status s = ReadJsonObject(
      json, "an OrchestratorConfig",
      {
          {"sessionId", StringInto(&out.session_id)},
          {"selectionStrategy", StringInto(&out.strategy)},
          {"sessionFilter",
           [&](std::string_view key, simdjson::dom::element v) {
             return ReadJsonObject(simdjson::minify(v), key, {{"sessionType", StringInto(&filter_type)}});
           }},
          {"maxDuration", NumberInto(&c.max_duration_seconds)},
          {"loopEnabled", BoolInto(&c.loop)},
          {"speedMultiplier", NumberInto(&c.speed)},
          {"targetEndpoint", StringInto(&c.endpoint)},
          {"replayTraces", BoolInto(&c.replay_traces)},
          {"replayMetrics", BoolInto(&c.replay_metrics)},
          {"replayLogs", BoolInto(&c.replay_logs)},
          {"rewriteIds", BoolInto(&c.rewrite_ids)},
          {"timestampAdjustment", ParsedString([&](std::string_view v) {
             absl::StatusOr<replay::TimestampMode> m = replay::ParseTimestampMode(v);
             if (m.ok()) c.timestamps = *m;
             return m.status();
           })},
          {"protocol", ParsedString([&](std::string_view v) {
             absl::StatusOr<replay::Protocol> p = replay::ParseProtocol(v);
             if (p.ok()) c.protocol = *p;
             return p.status();
           })},
          {"compression", ParsedString([&](std::string_view v) {
             if (v != "gzip" && v != "none") return absl::InvalidArgumentError("use gzip or none");
             c.gzip = v == "gzip";
             return absl::OkStatus();
           })},
          {"services", StringsInto(&c.services)},
          {"filterServices", StringsInto(&c.services)},
          {"headers", StringMapInto(&c.headers)},
          {"phases", StringsInto(&c.phases)},
      });
  if (!s.ok()) return s;
  out.session_type = filter_type;
  if (c.endpoint.empty()) return absl::InvalidArgumentError("targetEndpoint is required (e.g. http://collector:4318)");
  if (absl::Status v = replay::ValidateReplayConfig(c); !v.ok()) return v;
  return out;
}

std::string ReplayStatusJson(const replay::ReplayStatus& r) {
  JsonWriter w;
  w.BeginObject();
  w.Field("replayId", r.replay_id);
  w.Field("status", replay::ReplayStateName(r.state));
  if (!r.error.empty()) w.Field("error", r.error);
  w.Field("recordsPerSecond", r.records_per_second);
  w.Field("speed", r.speed);
  w.Field("loop", r.loop);
  w.Field("protocol", replay::ProtocolName(r.protocol));
  w.Field("timestamps", replay::TimestampModeName(r.timestamps));
  w.Field("maxDurationSeconds", r.max_duration_seconds);
  replay::WriteReplayReportFields(r.report, &w);
  w.EndObject();
  return w.Take();
}

absl::StatusOr<std::vector<annotate::Annotation>> ParseAnnotations(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err) {
    return absl::InvalidArgumentError(fmt::format("the body is not valid JSON: {}", simdjson::error_message(err)));
  }
  simdjson::dom::array list;
  simdjson::dom::object object;
  if (!root.get(object) && object.size() == 1 && !object["annotations"].get(list)) {
    // {"annotations": [...]}
  } else if (root.get(list)) {
    std::vector<annotate::Annotation> out;
    absl::StatusOr<annotate::Annotation> a = annotate::FromJsonLine(json);
    if (!a.ok()) return a.status();
    out.push_back(*std::move(a));
    return out;
  }
  if (list.size() > kMaxAnnotationsPerRequest) {
    return absl::InvalidArgumentError(fmt::format("{} annotations in one request: send at most {} at a time",
                                                  list.size(), kMaxAnnotationsPerRequest));
  }
  std::vector<annotate::Annotation> out;
  size_t i = 0;
  for (simdjson::dom::element e : list) {
    absl::StatusOr<annotate::Annotation> a = annotate::FromJsonLine(simdjson::minify(e));
    if (!a.ok()) return Prefixed(a.status(), fmt::format("annotation {}", i));
    out.push_back(*std::move(a));
    ++i;
  }
  if (out.empty()) return absl::InvalidArgumentError("no annotations in the body");
  return out;
}

const std::vector<ControlApi::Route>& ControlApi::Routes() {
  static const std::vector<Route> routes = {
      {"GET", "/api/captures", &ControlApi::ListCaptures},
      {"POST", "/api/captures", &ControlApi::StartCapture},
      {"GET", "/api/captures/{id}", &ControlApi::GetCapture},
      {"POST", "/api/captures/{id}/stop", &ControlApi::StopCapture, /*waits=*/true},
      {"GET", "/api/sessions", &ControlApi::ListSessions},
      {"GET", "/api/sessions/{id}", &ControlApi::GetSession},
      {"DELETE", "/api/sessions/{id}", &ControlApi::DeleteSession},
      {"POST", "/api/captures/{id}/phase", &ControlApi::MarkPhase, /*waits=*/true},
      {"GET", "/api/sessions/{id}/annotations", &ControlApi::ListAnnotations, /*waits=*/true},
      {"POST", "/api/sessions/{id}/annotations", &ControlApi::AddAnnotations, /*waits=*/true},
      {"GET", "/api/sessions/{id}/training", &ControlApi::GetTraining, /*waits=*/true},
      {"GET", "/api/replays", &ControlApi::ListReplays},
      {"POST", "/api/replays", &ControlApi::StartReplay},
      {"GET", "/api/replays/available", &ControlApi::ListAvailable},
      {"GET", "/api/replays/{id}", &ControlApi::GetReplay},
      {"POST", "/api/replays/{id}/stop", &ControlApi::StopReplay, /*waits=*/true},
      {"GET", "/api/storage", &ControlApi::GetStorage},
      {"GET", "/api/sessions/{id}/timeline", &ControlApi::GetTimeline, /*waits=*/true},
      {"POST", "/api/sessions/{id}/verify", &ControlApi::VerifySession, /*waits=*/true},
      {"POST", "/api/sessions/{id}/seal", &ControlApi::SealSession, /*waits=*/true},
      {"GET", "/api/sessions/{id}/export", &ControlApi::ExportSession, /*waits=*/true},
      {"GET", "/api/patterns", &ControlApi::ListPatterns},
      {"GET", "/api/seeds", &ControlApi::ListSeeds},
      {"POST", "/api/seeds", &ControlApi::StartSeed},
      {"GET", "/api/seeds/{id}", &ControlApi::GetSeed},
      {"GET", "/api/stats", &ControlApi::GetStats},
      {"GET", "/api/info", &ControlApi::GetInfo},
  };
  return routes;
}

void ControlApi::Handle(net::HttpRequest request, net::HttpResponder respond) {
  if (options_.ui) {
    if (std::optional<net::HttpResponse> page = ui_.Serve(request.method, request.path, request.Header("accept-encoding"))) {
      respond(std::move(*page));
      return;
    }
  }
  const bool open = request.path == "/api/info" && request.method == "GET";  // the UI asks it before the token
  if (!open && !options_.token.empty() && !HasToken(request.Header("authorization"), options_.token)) {
    net::HttpResponse r = Error(401, "missing or wrong API token: send Authorization: Bearer <token>");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    respond(std::move(r));
    return;
  }
  const std::vector<std::string_view> path = Segments(request.path);
  std::vector<std::string_view> allowed;
  for (const Route& route : Routes()) {
    std::string_view id;
    if (!Matches(route.pattern, path, &id)) continue;
    // A literal segment wins over {id} ("/api/replays/available" is not replay "available").
    if (id == "available" && route.pattern.ends_with("{id}")) continue;
    if (route.method != request.method) {
      allowed.push_back(route.method);
      continue;
    }
    auto handle = route.handle;
    if (!route.waits) {
      respond((this->*handle)(request, id));
      return;
    }
    std::string id_copy(id);
    waiting_.Run([this, handle, request = std::move(request), id_copy, respond = std::move(respond)] {
      respond((this->*handle)(request, id_copy));
    });
    return;
  }
  if (!allowed.empty()) {
    std::string allow = fmt::format("{}", fmt::join(allowed, ", "));
    net::HttpResponse r = Error(405, fmt::format("{} is not allowed on {}: use {}", request.method, request.path, allow));
    r.headers.emplace_back("Allow", std::move(allow));
    respond(std::move(r));
    return;
  }
  respond(Error(404, fmt::format("no such path {}", request.path)));
}

net::HttpResponse ControlApi::Refusal(int status, std::string message) { return Error(status, message); }

net::HttpResponse ControlApi::ListCaptures(const net::HttpRequest&, std::string_view) {
  absl::StatusOr<std::vector<session::SessionMetadata>> list = capture_.ListCaptureSessions();
  if (!list.ok()) return Error(list.status());
  return MetadataList("captures", *list);
}

net::HttpResponse ControlApi::StartCapture(const net::HttpRequest& request, std::string_view) {
  absl::StatusOr<capture::CaptureConfig> config = ParseCaptureConfig(request.body);
  if (!config.ok()) return Error(config.status());
  if (config->instance.empty() && !config->session_id.empty()) config->instance = options_.instance;
  return Metadata(201, capture_.StartCapture(std::move(*config)));
}

net::HttpResponse ControlApi::GetCapture(const net::HttpRequest&, std::string_view id) {
  absl::StatusOr<session::SessionMetadata> m = capture_.GetCaptureStatus(id);
  if (!m.ok()) return Error(m.status());
  // While it runs, the limits it was started with, so that a live view can count them down.
  std::optional<capture::CaptureConfig> config = capture_.ActiveCaptureConfig();
  if (!config || capture_.ActiveCapture() != m->session_id) return Json(200, m->ToJson(/*pretty=*/false));
  JsonWriter w;
  w.BeginObject();
  m->WriteJsonFields(&w);
  w.Key("limits");
  w.BeginObject();
  for (const auto& [key, limit] : {std::pair{"maxSizeMB", config->max_size_mb},
                                   std::pair{"maxDurationMinutes", config->max_duration_minutes}}) {
    w.Key(key);
    if (limit) {
      w.Double(*limit);
    } else {
      w.Null();
    }
  }
  w.EndObject();
  w.EndObject();
  return Json(200, w.Take());
}

net::HttpResponse ControlApi::StopCapture(const net::HttpRequest&, std::string_view id) {
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return Error(s);
  return Metadata(200, capture_.StopCapture(id));
}

net::HttpResponse ControlApi::ListSessions(const net::HttpRequest& request, std::string_view) {
  absl::StatusOr<std::vector<session::SessionMetadata>> list = sessions_.List();
  if (!list.ok()) return Error(list.status());
  if (std::optional<std::string> active = capture_.ActiveCapture()) {
    for (session::SessionMetadata& meta : *list) {
      if (meta.session_id != *active) continue;
      if (auto live = capture_.GetCaptureStatus(*active); live.ok()) meta = std::move(*live);
    }
  }
  return MetadataList("sessions", *list, QueryParameter(request.target, "fields") == "summary");
}

net::HttpResponse ControlApi::GetSession(const net::HttpRequest&, std::string_view id) {
  return Metadata(200, capture_.GetCaptureStatus(id));  // live counts while it is being captured
}

net::HttpResponse ControlApi::DeleteSession(const net::HttpRequest&, std::string_view id) {
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return Error(s);
  if (capture_.ActiveCapture() == id) {
    return Error(409, fmt::format("session {} is being captured: stop the capture first", id));
  }
  if (absl::Status s = sessions_.Delete(id); !s.ok()) return Error(s);
  return {.status = 204};
}

net::HttpResponse AnnotationList(int status, const std::vector<annotate::Annotation>& list, std::string_view prefix = "") {
  JsonWriter w;
  w.BeginObject();
  w.Key("annotations");
  w.BeginArray();
  for (const annotate::Annotation& a : list) {
    if (a.annotation_key.starts_with(prefix)) annotate::WriteJson(a, &w);
  }
  w.EndArray();
  w.EndObject();
  return Json(status, w.Take());
}

net::HttpResponse ControlApi::MarkPhase(const net::HttpRequest& request, std::string_view id) {
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return Error(s);
  std::string name;
  std::vector<std::string> flags;
  bool end = false;
  absl::Status s = ReadJsonObject(request.body, "a phase mark",
                                  {{"name", StringInto(&name)}, {"flags", StringsInto(&flags)}, {"end", BoolInto(&end)}});
  if (!s.ok()) return Error(s);
  if (end == !name.empty()) {
    return Error(400, "give the phase that starts now ({\"name\": \"failure\"}), or {\"end\": true} to end the current one");
  }
  absl::StatusOr<std::vector<session::Phase>> phases = capture_.MarkPhase(id, name, std::move(flags));
  if (!phases.ok()) return Error(phases.status());
  JsonWriter w;
  w.BeginObject();
  w.Field("sessionId", id);
  w.Key("phases");
  w.BeginArray();
  for (const session::Phase& p : *phases) p.WriteJson(&w);
  w.EndArray();
  w.EndObject();
  return Json(200, w.Take());
}

net::HttpResponse ControlApi::ListAnnotations(const net::HttpRequest& request, std::string_view id) {
  if (options_.annotations == nullptr) return Error(503, "annotations are not available on this server");
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return Error(s);
  absl::StatusOr<std::vector<annotate::Annotation>> list = options_.annotations->List(id);
  if (!list.ok()) return Error(list.status());
  return AnnotationList(200, *list, QueryParameter(request.target, "key"));
}

net::HttpResponse ControlApi::AddAnnotations(const net::HttpRequest& request, std::string_view id) {
  if (options_.annotations == nullptr) return Error(503, "annotations are not available on this server");
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return Error(s);
  absl::StatusOr<std::vector<annotate::Annotation>> parsed = ParseAnnotations(request.body);
  if (!parsed.ok()) return Error(parsed.status());
  absl::StatusOr<std::vector<annotate::Annotation>> added =
      options_.annotations->Add(id, std::move(*parsed), "otelrr serve");
  if (!added.ok()) return Error(added.status());
  return AnnotationList(201, *added);
}

net::HttpResponse ControlApi::GetTraining(const net::HttpRequest&, std::string_view id) {
  if (options_.annotations == nullptr) return Error(503, "training data is not available on this server");
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return Error(s);
  absl::StatusOr<training::TrainingDataset> d = training::BuildDataset(sessions_, *options_.annotations, id);
  if (!d.ok()) return Error(d.status());
  JsonWriter w;
  training::WriteJson(*d, &w);
  return Json(200, w.Take());
}

net::HttpResponse ControlApi::ListReplays(const net::HttpRequest&, std::string_view) {
  JsonWriter w;
  w.BeginObject();
  w.Key("replays");
  w.BeginArray();
  for (const replay::ReplayStatus& r : replays_.ListReplays()) w.Raw(ReplayStatusJson(r));
  w.EndArray();
  w.EndObject();
  return Json(200, w.Take());
}

net::HttpResponse ControlApi::StartReplay(const net::HttpRequest& request, std::string_view) {
  absl::StatusOr<replay::ReplayRequest> parsed = ParseReplayRequest(request.body);
  if (!parsed.ok()) return Error(parsed.status());
  return ReplayStatus(201, replays_.StartReplay(std::move(*parsed)));
}

net::HttpResponse ControlApi::ListAvailable(const net::HttpRequest&, std::string_view) {
  absl::StatusOr<std::vector<session::SessionMetadata>> list = replays_.ListAvailableReplays();
  if (!list.ok()) return Error(list.status());
  return MetadataList("sessions", *list);
}

net::HttpResponse ControlApi::GetReplay(const net::HttpRequest&, std::string_view id) {
  return ReplayStatus(200, replays_.GetReplayStatus(id));
}

net::HttpResponse ControlApi::StopReplay(const net::HttpRequest&, std::string_view id) {
  return ReplayStatus(200, replays_.StopReplay(id));
}

net::HttpResponse ControlApi::GetStorage(const net::HttpRequest&, std::string_view) {
  // The last run is taken before the store is measured, so that the figures show at least what it left
  // (taken after, a run deleting meanwhile could be reported done beside figures that still count its session).
  std::optional<absl::StatusOr<session::RetentionReport>> last;
  if (options_.retention != nullptr) last = options_.retention->last();
  absl::StatusOr<session::StorageMetrics> metrics = session::MeasureStorage(sessions_);
  if (!metrics.ok()) return Error(metrics.status());
  JsonWriter w;
  w.BeginObject();
  metrics->WriteJsonFields(&w);
  w.Key("retention");
  if (options_.retention == nullptr) {
    w.Null();
  } else {
    w.BeginObject();
    w.Field("interval", session::FormatDuration(options_.retention->options().interval));
    w.Key("lastRun");
    if (!last) {
      w.Null();  // the first run has not finished yet
    } else if (!last->ok()) {
      w.BeginObject();
      w.Field("error", last->status().message());
      w.EndObject();
    } else {
      (*last)->WriteJson(&w);
    }
    w.EndObject();
  }
  w.EndObject();
  return Json(200, w.Take());
}

net::HttpResponse ControlApi::GetTimeline(const net::HttpRequest&, std::string_view id) {
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return Error(s);
  absl::StatusOr<training::SessionTimeline> t = training::LoadTimeline(sessions_, id);
  if (!t.ok()) return Error(t.status());
  std::vector<training::DatasetPhase> phases;
  if (options_.annotations != nullptr) {
    absl::StatusOr<training::TrainingDataset> d = training::DescribeSession(sessions_, *options_.annotations, id);
    if (!d.ok()) return Error(d.status());
    phases = std::move(d->phases);
  }
  JsonWriter w;
  w.BeginObject();
  training::WriteTimelineFields(*t, &w);
  w.Key("phases");
  w.BeginArray();
  for (const training::DatasetPhase& p : phases) {
    w.BeginObject();
    w.Field("name", p.name);
    w.Field("annotationKey", p.annotation_key);
    w.Field("startUnixNano", p.start_unix_nano);
    if (p.end_unix_nano == training::kOpenEnd) {
      w.Key("endUnixNano");
      w.Null();
    } else {
      w.Field("endUnixNano", p.end_unix_nano);
    }
    w.StringArray("flags", p.flags);
    w.Field("anomaly", p.anomaly);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Json(200, w.Take());
}

net::HttpResponse ControlApi::VerifySession(const net::HttpRequest&, std::string_view id) {
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return Error(s);
  absl::StatusOr<session::VerifyReport> r = sessions_.Verify(id);
  if (!r.ok()) return Error(r.status());
  JsonWriter w;
  w.BeginObject();
  w.Field("sessionId", id);
  session::WriteVerifyReportFields(*r, &w);
  w.EndObject();
  return Json(200, w.Take());
}

net::HttpResponse ControlApi::SealSession(const net::HttpRequest&, std::string_view id) {
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return Error(s);
  absl::StatusOr<session::SealResult> r = session::SealSession(sessions_.object_store(), id);
  if (!r.ok()) return Error(r.status());
  JsonWriter w;
  w.BeginObject();
  session::WriteSealResultFields(*r, &w);
  w.EndObject();
  // 409 while an instance still records: nothing was sealed.
  return Json(r->outcome == session::SealOutcome::kWaiting ? 409 : 200, w.Take());
}

net::HttpResponse ControlApi::ExportSession(const net::HttpRequest& request, std::string_view id) {
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) return Error(s);
  session::ExportOptions options;
  const std::string signals = QueryParameter(request.target, "signals");
  for (std::string_view rest = signals; !rest.empty();) {
    const size_t comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    otlp::Signal signal;
    if (!otlp::ParseSignal(name, &signal)) {
      return Error(400, fmt::format("signals: '{}' is not a signal: use traces, metrics or logs", name));
    }
    options.signals.push_back(signal);
  }
  // Streamed as it is read (the handler runs on a thread of waiting_): memory does not grow with the
  // session. A session that cannot be read answers its error; one that breaks midway cuts the transfer.
  // Gzipped for a client that takes it (browsers do), at zlib's fastest level: a seeded session's JSON to a ninth.
  const bool gzip = net::AcceptsGzip(request.Header("accept-encoding"));
  net::HttpResponse r{.status = 200, .content_type = "application/x-ndjson"};
  r.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"{}.jsonl\"", id));
  r.headers.emplace_back("Vary", "Accept-Encoding");
  if (gzip) r.headers.emplace_back("Content-Encoding", "gzip");
  r.stream = [this, id = std::string(id), options, gzip](net::HttpBodyWriter& out) -> absl::Status {
    if (!gzip) {
      return session::ExportJsonLines(sessions_, id, options, [&out](std::string_view chunk) { return out.Write(chunk); })
          .status();
    }
    GzipStream z(1);
    std::string packed;
    auto write = [&](std::string_view chunk) {
      packed.clear();
      if (absl::Status s = z.Write(chunk, &packed); !s.ok()) return s;
      return packed.empty() ? absl::OkStatus() : out.Write(packed);
    };
    if (absl::Status s = session::ExportJsonLines(sessions_, id, options, write).status(); !s.ok()) return s;
    packed.clear();
    if (absl::Status s = z.Finish(&packed); !s.ok()) return s;
    return out.Write(packed);
  };
  return r;
}

net::HttpResponse ControlApi::ListPatterns(const net::HttpRequest&, std::string_view) {
  JsonWriter w;
  w.BeginObject();
  w.Key("patterns");
  w.BeginArray();
  for (std::string_view name : generate::BuiltinPatternNames()) {
    absl::StatusOr<generate::Pattern> p = generate::BuiltinPattern(name);
    if (!p.ok()) return Error(p.status());
    generate::WritePatternJson(*p, &w);
  }
  w.EndArray();
  w.EndObject();
  return Json(200, w.Take());
}

net::HttpResponse SeedStatusJson(int status, const absl::StatusOr<generate::SeedStatus>& s) {
  if (!s.ok()) return Error(s.status());
  JsonWriter w;
  generate::WriteJson(*s, &w);
  return Json(status, w.Take());
}

net::HttpResponse ControlApi::StartSeed(const net::HttpRequest& request, std::string_view) {
  if (options_.seeds == nullptr) return Error(503, "seeds are not available on this server");
  absl::StatusOr<generate::SeedConfig> config = ParseSeedRequest(request.body);
  if (!config.ok()) return Error(config.status());
  absl::StatusOr<generate::SeedStatus> started = options_.seeds->Start(std::move(*config));
  // An unknown pattern is a mistake in the request, not a missing resource.
  if (absl::IsNotFound(started.status())) return Error(400, std::string(started.status().message()));
  return SeedStatusJson(202, started);
}

net::HttpResponse ControlApi::ListSeeds(const net::HttpRequest&, std::string_view) {
  if (options_.seeds == nullptr) return Error(503, "seeds are not available on this server");
  JsonWriter w;
  w.BeginObject();
  w.Key("seeds");
  w.BeginArray();
  for (const generate::SeedStatus& s : options_.seeds->List()) generate::WriteJson(s, &w);
  w.EndArray();
  w.EndObject();
  return Json(200, w.Take());
}

net::HttpResponse ControlApi::GetSeed(const net::HttpRequest&, std::string_view id) {
  if (options_.seeds == nullptr) return Error(503, "seeds are not available on this server");
  return SeedStatusJson(200, options_.seeds->Get(id));
}

net::HttpResponse ControlApi::GetStats(const net::HttpRequest&, std::string_view) {
  const capture::CaptureStats stats = capture_.stats();
  JsonWriter w;
  w.BeginObject();
  w.Key("receiver");
  w.BeginObject();
  for (otlp::Signal signal : otlp::kSignals) {
    const capture::SignalStats& s = stats.signals[signal];
    w.Key(otlp::SignalName(signal));
    w.BeginObject();
    w.Field("requests", s.requests);
    w.Field("recorded", s.recorded);
    w.Field("notRecorded", s.not_recorded);
    w.Field("invalid", s.invalid);
    w.Field("overloaded", s.overloaded);
    w.Field("failed", s.failed);
    w.Field("forwarded", s.forwarded);
    w.Field("forwardFailed", s.forward_failed);
    w.EndObject();
  }
  w.Field("queuedBytes", stats.queued_bytes);
  w.EndObject();
  w.Field("activeCapture", capture_.ActiveCapture().value_or(""));
  w.EndObject();
  return Json(200, w.Take());
}

net::HttpResponse ControlApi::GetInfo(const net::HttpRequest&, std::string_view) {
  JsonWriter w;
  w.BeginObject();
  w.Field("version", kVersion);
  w.Field("tokenRequired", !options_.token.empty());
  w.Field("store", options_.store);
  w.Field("annotations", options_.annotations != nullptr);
  w.Field("seeds", options_.seeds != nullptr);
  w.Key("receivers");
  w.BeginObject();
  w.Field("http", options_.otlp_http);
  w.Field("grpc", options_.otlp_grpc);
  w.EndObject();
  w.EndObject();
  return Json(200, w.Take());
}

}  // namespace otelrr::server
