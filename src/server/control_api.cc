#include "server/control_api.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <thread>

#include "common/json_writer.h"
#include "common/status.h"
#include "session/session_id.h"

namespace otelrr::server {
namespace {

constexpr std::string_view kJsonType = "application/json";

net::HttpResponse Json(int status, std::string body) {
  return {.status = status, .content_type = std::string(kJsonType), .body = std::move(body)};
}

net::HttpResponse Error(int status, std::string_view message) {
  JsonWriter w;
  w.BeginObject();
  w.Key("error");
  w.String(message);
  w.EndObject();
  return Json(status, w.Take());
}

int HttpStatusOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    default:
      return 500;
  }
}

net::HttpResponse Error(const absl::Status& s) { return Error(HttpStatusOf(s), std::string(s.message())); }

// {"<key>": [metadata, ...]}
std::string MetadataList(std::string_view key, const std::vector<session::SessionMetadata>& list) {
  std::string out = fmt::format("{{\"{}\":[", key);
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ',';
    out += list[i].ToJson();
  }
  out += "]}";
  return out;
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

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

absl::StatusOr<capture::CaptureConfig> ParseCaptureConfig(std::string_view json) {
  capture::CaptureConfig config;
  std::string_view trimmed = json;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
  if (trimmed.empty()) return config;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err) {
    return absl::InvalidArgumentError(fmt::format("the body is not valid JSON: {}", simdjson::error_message(err)));
  }
  simdjson::dom::object obj;
  if (root.get(obj)) return absl::InvalidArgumentError("the body must be a JSON object (a CaptureConfig)");
  for (auto field : obj) {
    std::string_view key = field.key;
    simdjson::dom::element v = field.value;
    auto want_string = [&](std::string* out) -> absl::Status {
      std::string_view s;
      if (v.get(s)) return absl::InvalidArgumentError(fmt::format("{} must be a string", key));
      *out = std::string(s);
      return absl::OkStatus();
    };
    auto want_bool = [&](bool* out) -> absl::Status {
      if (v.get(*out)) return absl::InvalidArgumentError(fmt::format("{} must be true or false", key));
      return absl::OkStatus();
    };
    auto want_number = [&](std::optional<double>* out) -> absl::Status {
      if (v.is_null()) {
        out->reset();
        return absl::OkStatus();
      }
      double d;
      if (v.get(d)) return absl::InvalidArgumentError(fmt::format("{} must be a number", key));
      *out = d;
      return absl::OkStatus();
    };
    absl::Status s;
    if (key == "sessionId") {
      s = want_string(&config.session_id);
    } else if (key == "diagnosticSessionId") {
      s = want_string(&config.diagnostic_session_id);
    } else if (key == "description") {
      s = want_string(&config.description);
    } else if (key == "enabledFlags") {
      simdjson::dom::array flags;
      if (v.get(flags)) {
        s = absl::InvalidArgumentError("enabledFlags must be an array of strings");
      } else {
        for (simdjson::dom::element flag : flags) {
          std::string_view f;
          if (flag.get(f)) {
            s = absl::InvalidArgumentError("enabledFlags must be an array of strings");
            break;
          }
          config.enabled_flags.emplace_back(f);
        }
      }
    } else if (key == "captureTraces") {
      s = want_bool(&config.capture_traces);
    } else if (key == "captureMetrics") {
      s = want_bool(&config.capture_metrics);
    } else if (key == "captureLogs") {
      s = want_bool(&config.capture_logs);
    } else if (key == "compressionEnabled") {
      s = want_bool(&config.compression_enabled);
    } else if (key == "maxSizeMB") {
      s = want_number(&config.max_size_mb);
    } else if (key == "maxDurationMinutes") {
      s = want_number(&config.max_duration_minutes);
    } else if (key == "fsync") {
      s = want_bool(&config.fsync);
    } else {
      s = absl::InvalidArgumentError(fmt::format(
          "unknown field '{}': a CaptureConfig has sessionId, diagnosticSessionId, description, enabledFlags, "
          "captureTraces, captureMetrics, captureLogs, compressionEnabled, maxSizeMB, maxDurationMinutes, fsync",
          key));
    }
    if (!s.ok()) return s;
  }
  config.created_by = "otelrr serve";
  if (absl::Status s = capture::ValidateCaptureConfig(config); !s.ok()) return s;
  return config;
}

absl::StatusOr<replay::ReplayRequest> ParseReplayRequest(std::string_view json) {
  replay::ReplayRequest out;
  replay::ReplayConfig& c = out.config;
  // https:// targets: the CA and client certificate of the server's environment (OTEL_EXPORTER_OTLP_*).
  c.tls = net::TlsFilesFromEnvironment();
  std::string_view trimmed = json;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
  if (trimmed.empty()) return absl::InvalidArgumentError("the body must be an OrchestratorConfig (needs targetEndpoint)");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err) {
    return absl::InvalidArgumentError(fmt::format("the body is not valid JSON: {}", simdjson::error_message(err)));
  }
  simdjson::dom::object obj;
  if (root.get(obj)) return absl::InvalidArgumentError("the body must be a JSON object (an OrchestratorConfig)");
  bool endpoint_given = false;
  for (auto field : obj) {
    std::string_view key = field.key;
    simdjson::dom::element v = field.value;
    auto str = [&](std::string* o) -> absl::Status {
      std::string_view sv;
      if (v.get(sv)) return absl::InvalidArgumentError(fmt::format("{} must be a string", key));
      *o = std::string(sv);
      return absl::OkStatus();
    };
    auto boolean = [&](bool* o) -> absl::Status {
      if (v.get(*o)) return absl::InvalidArgumentError(fmt::format("{} must be true or false", key));
      return absl::OkStatus();
    };
    auto number = [&](double* o) -> absl::Status {
      if (v.get(*o)) return absl::InvalidArgumentError(fmt::format("{} must be a number", key));
      return absl::OkStatus();
    };
    absl::Status st;
    std::string text;
    if (key == "sessionId") {
      st = str(&out.session_id);
    } else if (key == "selectionStrategy") {
      st = str(&out.strategy);
    } else if (key == "sessionFilter") {
      simdjson::dom::object filter;
      if (v.get(filter)) {
        st = absl::InvalidArgumentError("sessionFilter must be an object {\"sessionType\": ...}");
      } else {
        for (auto ff : filter) {
          std::string_view t;
          if (ff.key != "sessionType" || ff.value.get(t)) {
            st = absl::InvalidArgumentError("sessionFilter holds only sessionType, a string");
            break;
          }
          out.session_type = std::string(t);
        }
      }
    } else if (key == "maxDuration") {
      st = number(&c.max_duration_seconds);
    } else if (key == "loopEnabled") {
      st = boolean(&c.loop);
    } else if (key == "speedMultiplier") {
      st = number(&c.speed);
    } else if (key == "targetEndpoint") {
      st = str(&c.endpoint);
      endpoint_given = true;
    } else if (key == "replayTraces") {
      st = boolean(&c.replay_traces);
    } else if (key == "replayMetrics") {
      st = boolean(&c.replay_metrics);
    } else if (key == "replayLogs") {
      st = boolean(&c.replay_logs);
    } else if (key == "rewriteIds") {
      st = boolean(&c.rewrite_ids);
    } else if (key == "timestampAdjustment") {
      if (st = str(&text); st.ok()) {
        absl::StatusOr<replay::TimestampMode> m = replay::ParseTimestampMode(text);
        if (m.ok()) c.timestamps = *m; else st = m.status();
      }
    } else if (key == "protocol") {
      if (st = str(&text); st.ok()) {
        absl::StatusOr<replay::Protocol> p = replay::ParseProtocol(text);
        if (p.ok()) c.protocol = *p; else st = p.status();
      }
    } else if (key == "compression") {
      if (st = str(&text); st.ok()) {
        if (text == "gzip" || text == "none") c.gzip = text == "gzip";
        else st = absl::InvalidArgumentError("compression must be gzip or none");
      }
    } else if (key == "services" || key == "filterServices") {
      simdjson::dom::array arr;
      if (v.get(arr)) {
        st = absl::InvalidArgumentError(fmt::format("{} must be an array of strings", key));
      } else {
        for (simdjson::dom::element e : arr) {
          std::string_view sv;
          if (e.get(sv)) {
            st = absl::InvalidArgumentError(fmt::format("{} must be an array of strings", key));
            break;
          }
          c.services.emplace_back(sv);
        }
      }
    } else if (key == "headers") {
      simdjson::dom::object h;
      if (v.get(h)) {
        st = absl::InvalidArgumentError("headers must be an object of strings");
      } else {
        for (auto hf : h) {
          std::string_view hv;
          if (hf.value.get(hv)) {
            st = absl::InvalidArgumentError("headers must be an object of strings");
            break;
          }
          c.headers.emplace_back(std::string(hf.key), std::string(hv));
        }
      }
    } else {
      st = absl::InvalidArgumentError(fmt::format(
          "unknown field '{}': an OrchestratorConfig has sessionId, selectionStrategy, sessionFilter, maxDuration, "
          "loopEnabled, speedMultiplier, targetEndpoint, replayTraces, replayMetrics, replayLogs, "
          "timestampAdjustment (and protocol, compression, services, headers, rewriteIds)",
          key));
    }
    if (!st.ok()) return st;
  }
  if (!endpoint_given) return absl::InvalidArgumentError("targetEndpoint is required");
  if (absl::Status st = replay::ValidateReplayConfig(c); !st.ok()) return st;
  return out;
}

std::string ReplayStatusJson(const replay::ReplayStatus& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("replayId");
  w.String(r.replay_id);
  w.Key("sessionId");
  w.String(r.session_id);
  w.Key("status");
  w.String(replay::ReplayStateName(r.state));
  if (!r.error.empty()) {
    w.Key("error");
    w.String(r.error);
  }
  w.Key("endpoint");
  w.String(r.report.endpoint);
  w.Key("iterations");
  w.Uint(r.report.iterations);
  w.Key("recordsProcessed");
  w.Uint(r.report.records_processed);
  w.Key("recordsTotal");
  w.Uint(r.report.records_total);
  w.Key("recordsPerSecond");
  w.Double(r.records_per_second);
  w.Key("sentRequests");
  w.Uint(r.report.sent_requests());
  w.Key("failedRequests");
  w.Uint(r.report.failed_requests());
  w.Key("retries");
  w.Uint(r.report.retries());
  w.Key("spans");
  w.Uint(r.report.signals[0].items);
  w.Key("dataPoints");
  w.Uint(r.report.signals[1].items);
  w.Key("logRecords");
  w.Uint(r.report.signals[2].items);
  w.Key("rejectedItems");
  w.Uint(r.report.rejected_items());
  w.Key("elapsedSeconds");
  w.Double(r.report.elapsed_seconds);
  w.Key("maxLagMs");
  w.Double(r.report.max_lag_ms);
  w.Key("p99LagMs");
  w.Double(r.report.p99_lag_ms);
  w.EndObject();
  return w.Take();
}

net::HttpResponse ControlApi::RouteReplays(const net::HttpRequest& request, const std::vector<std::string_view>& seg) {
  const std::string& m = request.method;
  auto method_not_allowed = [&](std::string_view allow) {
    net::HttpResponse r = Error(405, fmt::format("{} is not allowed on {}: use {}", m, request.path, allow));
    r.headers.emplace_back("Allow", std::string(allow));
    return r;
  };
  if (seg.size() == 2) {
    if (m == "GET") {
      std::string out = "{\"replays\":[";
      std::vector<replay::ReplayStatus> all = replays_.ListReplays();
      for (size_t i = 0; i < all.size(); ++i) {
        if (i > 0) out += ',';
        out += ReplayStatusJson(all[i]);
      }
      out += "]}";
      return Json(200, std::move(out));
    }
    if (m == "POST") {
      absl::StatusOr<replay::ReplayRequest> req = ParseReplayRequest(request.body);
      if (!req.ok()) return Error(req.status());
      absl::StatusOr<replay::ReplayStatus> started = replays_.StartReplay(std::move(*req));
      if (!started.ok()) return Error(started.status());
      return Json(201, ReplayStatusJson(*started));
    }
    return method_not_allowed("GET, POST");
  }
  if (seg.size() == 3 && seg[2] == "available") {  // listAvailableReplays
    if (m != "GET") return method_not_allowed("GET");
    absl::StatusOr<std::vector<session::SessionMetadata>> list = replays_.ListAvailableReplays();
    if (!list.ok()) return Error(list.status());
    return Json(200, MetadataList("sessions", *list));
  }
  if (seg.size() == 3) {
    if (m != "GET") return method_not_allowed("GET");
    absl::StatusOr<replay::ReplayStatus> st = replays_.GetReplayStatus(seg[2]);
    if (!st.ok()) return Error(st.status());
    return Json(200, ReplayStatusJson(*st));
  }
  if (seg.size() == 4 && seg[3] == "stop") {
    if (m != "POST") return method_not_allowed("POST");
    absl::StatusOr<replay::ReplayStatus> st = replays_.StopReplay(seg[2]);
    if (!st.ok()) return Error(st.status());
    return Json(200, ReplayStatusJson(*st));
  }
  return Error(404, fmt::format("no such path {}", request.path));
}

void ControlApi::Handle(net::HttpRequest request, net::HttpResponder respond) {
  if (!token_.empty()) {
    std::string_view auth = request.Header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() < kBearer.size() || !ConstantTimeEquals(auth.substr(kBearer.size()), token_) ||
        auth.substr(0, kBearer.size()) != kBearer) {
      net::HttpResponse r = Error(401, "missing or wrong API token: send Authorization: Bearer <token>");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      respond(std::move(r));
      return;
    }
  }
  // Stopping a capture waits for its last batch: answer from a thread of its own, not the server's.
  if (request.method == "POST" && request.path.ends_with("/stop")) {
    std::thread([this, request = std::move(request), respond = std::move(respond)] { respond(Route(request)); })
        .detach();
    return;
  }
  respond(Route(request));
}

net::HttpResponse ControlApi::Route(const net::HttpRequest& request) {
  std::vector<std::string_view> seg = Segments(request.path);
  const std::string& m = request.method;
  auto method_not_allowed = [&](std::string_view allow) {
    net::HttpResponse r = Error(405, fmt::format("{} is not allowed on {}: use {}", m, request.path, allow));
    r.headers.emplace_back("Allow", std::string(allow));
    return r;
  };
  if (seg.size() < 2 || seg[0] != "api") return Error(404, fmt::format("no such path {}", request.path));
  if (seg[1] == "captures") {
    if (seg.size() == 2) {
      if (m == "GET") {
        absl::StatusOr<std::vector<session::SessionMetadata>> list = capture_.ListCaptureSessions();
        if (!list.ok()) return Error(list.status());
        return Json(200, MetadataList("captures", *list));
      }
      if (m == "POST") {
        absl::StatusOr<capture::CaptureConfig> config = ParseCaptureConfig(request.body);
        if (!config.ok()) return Error(config.status());
        absl::StatusOr<session::SessionMetadata> started = capture_.StartCapture(std::move(*config));
        if (!started.ok()) return Error(started.status());
        return Json(201, started->ToJson());
      }
      return method_not_allowed("GET, POST");
    }
    if (absl::Status s = session::ValidateSessionId(seg[2]); !s.ok()) return Error(s);
    if (seg.size() == 3) {
      if (m != "GET") return method_not_allowed("GET");
      absl::StatusOr<session::SessionMetadata> status = capture_.GetCaptureStatus(seg[2]);
      if (!status.ok()) return Error(status.status());
      return Json(200, status->ToJson());
    }
    if (seg.size() == 4 && seg[3] == "stop") {
      if (m != "POST") return method_not_allowed("POST");
      absl::StatusOr<session::SessionMetadata> stopped = capture_.StopCapture(seg[2]);
      if (!stopped.ok()) return Error(stopped.status());
      return Json(200, stopped->ToJson());
    }
    return Error(404, fmt::format("no such path {}", request.path));
  }
  if (seg[1] == "replays") return RouteReplays(request, seg);
  if (seg[1] == "sessions") {
    if (seg.size() == 2) {
      if (m != "GET") return method_not_allowed("GET");
      absl::StatusOr<std::vector<session::SessionMetadata>> list = sessions_.List();
      if (!list.ok()) return Error(list.status());
      std::optional<std::string> active = capture_.ActiveCapture();
      for (session::SessionMetadata& meta : *list) {
        if (active && meta.session_id == *active) {
          if (auto live = capture_.GetCaptureStatus(*active); live.ok()) meta = std::move(*live);
        }
      }
      return Json(200, MetadataList("sessions", *list));
    }
    if (seg.size() != 3) return Error(404, fmt::format("no such path {}", request.path));
    if (absl::Status s = session::ValidateSessionId(seg[2]); !s.ok()) return Error(s);
    std::string id(seg[2]);
    if (m == "GET") {
      absl::StatusOr<session::SessionMetadata> meta = capture_.GetCaptureStatus(id);
      if (!meta.ok()) return Error(meta.status());
      return Json(200, meta->ToJson());
    }
    if (m == "DELETE") {
      if (capture_.ActiveCapture() == id) {
        return Error(409, fmt::format("session '{}' is being captured: stop the capture first", id));
      }
      if (absl::Status s = sessions_.Delete(id); !s.ok()) return Error(s);
      return {.status = 204};
    }
    return method_not_allowed("GET, DELETE");
  }
  return Error(404, fmt::format("no such path {}", request.path));
}

}  // namespace otelrr::server
