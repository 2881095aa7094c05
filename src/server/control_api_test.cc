// The control API over real services (capture, replay, a store in a temp dir), its requests handed to
// Handle directly: routing, errors, the token, body validation, replay bounds and history, and the
// lifetime of the answers it gives from its own threads. Also runs under TSan (scripts/test).
#include "server/control_api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <future>
#include <thread>

#include "fmt/format.h"
#include "net/otlp_http_receiver.h"
#include "net/testing/fake_exporter.h"
#include "session/testing/fixture.h"
#include "session/time_format.h"

namespace otelrr::server {
namespace {

using net::testing::FakeExporter;
using otlp::testing::TraceRequest;
using session::testing::kT0;

class ControlApiTest : public session::testing::SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    capture_ = std::make_unique<capture::CaptureService>(*sessions_);
    replays_ = std::make_unique<replay::ReplayService>(
        *sessions_, replay::ReplayServiceOptions{.max_running = 2,
                                                  .max_finished = 2,
                                                  .dependencies = {.exporter = &exporter_}});
    api_ = std::make_unique<ControlApi>(*capture_, *replays_, *sessions_, ControlApiOptions{.token = token_});
    // A finished session to replay: ten records a second apart.
    auto w = NewWriter("recorded", Options());
    for (uint64_t i = 0; i < 10; ++i) {
      ASSERT_TRUE(w->Append(Rec(kT0 + i * 1'000'000'000, otlp::Signal::kTraces, TraceRequest(i + 1, 2))).ok());
    }
    ASSERT_TRUE(w->Close(session::SessionStatus::kCompleted).ok());
  }

  void TearDown() override {
    api_.reset();  // first: its threads use the services
    replays_.reset();
    capture_.reset();
  }

  net::HttpResponse Call(std::string method, std::string path, std::string body = "",
                         std::string authorization = "Bearer s3cret") {
    net::HttpRequest request;
    request.method = std::move(method);
    request.target = path;
    request.path = path.substr(0, path.find('?'));
    request.body = std::move(body);
    if (!authorization.empty()) request.headers.emplace_back("authorization", std::move(authorization));
    return Send(std::move(request));
  }

  net::HttpResponse Send(net::HttpRequest request) {
    std::promise<net::HttpResponse> answer;
    std::future<net::HttpResponse> got = answer.get_future();
    api_->Handle(std::move(request), [this, &answer](net::HttpResponse r) {
      if (r.stream) r = Collected(std::move(r));  // on the handler's thread, as the server does
      answer.set_value(std::move(r));
    });
    return got.get();
  }

  // A streamed answer as the client receives it: its body, or the refusal when it fails before writing.
  net::HttpResponse Collected(net::HttpResponse r) {
    struct Collector : net::HttpBodyWriter {
      absl::Status Write(std::string_view data) override {
        body.append(data);
        return absl::OkStatus();
      }
      std::string body;
    } collector;
    absl::Status s = r.stream(collector);
    r.stream = nullptr;
    if (!s.ok()) {
      EXPECT_TRUE(collector.body.empty()) << "failed midway: " << s;
      return api_->Refusal(net::HttpStatusOf(s.code()), std::string(s.message()));
    }
    r.body = std::move(collector.body);
    return r;
  }

  // The "error" member of a JSON error body ("" when there is none).
  static std::string ErrorOf(const net::HttpResponse& r) {
    simdjson::dom::parser parser;
    std::string_view message;
    if (r.content_type != "application/json" || parser.parse(r.body).at_key("error").get(message)) return "";
    return std::string(message);
  }

  static std::string StatusOf(const net::HttpResponse& r) {
    simdjson::dom::parser parser;
    std::string_view status;
    if (parser.parse(r.body).at_key("status").get(status)) return "";
    return std::string(status);
  }

  const std::string token_ = "s3cret";
  FakeExporter exporter_{RealClock()};
  std::unique_ptr<capture::CaptureService> capture_;
  std::unique_ptr<replay::ReplayService> replays_;
  std::unique_ptr<ControlApi> api_;
};

TEST_F(ControlApiTest, EveryErrorIsJsonWithTheRightStatus) {
  net::HttpResponse r = Call("GET", "/api/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorOf(r), "no such path /api/nothing");
  r = Call("PUT", "/api/captures");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(ErrorOf(r), "PUT is not allowed on /api/captures: use GET, POST");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "GET, POST"}));
  // The server's own refusals (a body over the limit) answer in the API's form too.
  r = api_->Refusal(413, "request body exceeds the limit of 1048576 bytes");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(ErrorOf(r), "request body exceeds the limit of 1048576 bytes");
  // A missing session is named without the store's path.
  r = Call("GET", "/api/sessions/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorOf(r), "session nope does not exist");
  r = Call("DELETE", "/api/sessions/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorOf(r), "session nope does not exist");
}

TEST_F(ControlApiTest, TheTokenIsRequiredAndItsSchemeIsCaseInsensitive) {
  EXPECT_EQ(Call("GET", "/api/sessions", "", "").status, 401);
  EXPECT_EQ(Call("GET", "/api/sessions", "", "Bearer wrong").status, 401);
  EXPECT_EQ(Call("GET", "/api/sessions", "", "Basic s3cret").status, 401);
  EXPECT_EQ(Call("GET", "/api/sessions", "", "bearer s3cret").status, 200);
  EXPECT_EQ(Call("GET", "/api/sessions", "", "BEARER s3cret").status, 200);
}

TEST_F(ControlApiTest, ListsAreOneLineOfJson) {
  net::HttpResponse r = Call("GET", "/api/sessions");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find('\n'), std::string::npos) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::array sessions;
  ASSERT_FALSE(parser.parse(r.body).at_key("sessions").get(sessions));
  EXPECT_EQ(sessions.size(), 1u);
}

TEST_F(ControlApiTest, ACaptureIsCreatedByServeWithOrWithoutABody) {
  for (std::string body : {"", "{}", "{\"captureLogs\": false}"}) {
    net::HttpResponse r = Call("POST", "/api/captures", body);
    ASSERT_EQ(r.status, 201) << r.body;
    simdjson::dom::parser parser;
    simdjson::dom::element m = parser.parse(r.body);
    EXPECT_EQ(std::string_view(m["createdBy"]), "otelrr serve") << body;
    std::string id{std::string_view(m["sessionId"])};
    // Stopping waits for the last batch: it is answered from a thread of the API's own.
    net::HttpResponse stopped = Call("POST", "/api/captures/" + id + "/stop");
    EXPECT_EQ(stopped.status, 200) << stopped.body;
    EXPECT_EQ(StatusOf(stopped), "completed");
  }
}

TEST_F(ControlApiTest, ACaptureMayCarryItsRetentionInWholeDays) {
  net::HttpResponse r = Call("POST", "/api/captures", R"({"sessionId": "kept", "retentionDays": 30})");
  ASSERT_EQ(r.status, 201) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::element m = parser.parse(r.body);
  absl::StatusOr<uint64_t> start = session::ParseRfc3339(std::string_view(m["startTime"]));
  absl::StatusOr<uint64_t> expires = session::ParseRfc3339(std::string_view(m["expiresAt"]));
  ASSERT_TRUE(start.ok() && expires.ok()) << r.body;
  EXPECT_EQ(*expires - *start, 30 * 24 * 3600 * 1'000'000'000ull);
  ASSERT_EQ(Call("POST", "/api/captures/kept/stop").status, 200);
  EXPECT_EQ(sessions_->Load("kept")->expires_at_unix_nano, *expires);
  for (std::string_view bad : {"1.5", "0", "36501", "\"30\""}) {
    r = Call("POST", "/api/captures", fmt::format(R"({{"retentionDays": {}}})", bad));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(ErrorOf(r), "retentionDays must be a whole number of days from 1 to 36500, or null") << bad;
  }
  capture::CaptureConfig config{.retention_days = 0};
  EXPECT_EQ(capture::ValidateCaptureConfig(config).message(),
            "a retention of 0 days is not allowed: keep a session 1 to 36500 days");
}

TEST_F(ControlApiTest, CapturesAndSeedsChooseTheirCompression) {
  absl::StatusOr<capture::CaptureConfig> c = ParseCaptureConfig(R"({"compression": "gzip", "compressionLevel": 6})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->compression, session::Compression::kGzip);
  EXPECT_EQ(c->compression_level, 6);
  c = ParseCaptureConfig("{}");
  EXPECT_EQ(c->compression, session::kDefaultCompression);
  EXPECT_FALSE(c->compression_level.has_value());
  absl::StatusOr<generate::SeedConfig> seed = ParseSeedRequest(R"({"compression": "none"})");
  ASSERT_TRUE(seed.ok()) << seed.status();
  EXPECT_EQ(seed->writer.compression, session::Compression::kNone);
  for (auto [body, error] : {
           std::pair{R"({"compression": "lz4"})", "compression: 'lz4' is not one of zstd, gzip, none"},
           std::pair{R"({"compression": "zstd", "compressionLevel": 25})",
                     "zstd level 25 is out of range: use 1 to 19 (or -7 to -1, faster and larger)"},
           std::pair{R"({"compressionLevel": 2.5})", "compressionLevel must be a whole number (zstd 1 to 19, gzip 0 to 12)"},
       }) {
    net::HttpResponse r = Call("POST", "/api/captures", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(ErrorOf(r), error) << body;
    seed = ParseSeedRequest(body);
    EXPECT_EQ(seed.status().code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_EQ(std::string(seed.status().message()), error) << body;
  }
}

TEST_F(ControlApiTest, StorageSaysWhatTheStoreHoldsAndWhatRetentionDidLast) {
  net::HttpResponse r = Call("GET", "/api/storage");
  ASSERT_EQ(r.status, 200) << r.body;
  absl::StatusOr<session::StorageMetrics> m = session::MeasureStorage(*sessions_);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(r.body, fmt::format(R"({{"objects":{},"bytes":{},"sessions":1,"sessionBytes":{},"unreadableSessions":0,)"
                                R"("sessionsByStatus":{{"active":0,"completed":1,"failed":0}},)"
                                R"("sessionsByType":{{"seed":0,"capture":1,"training":0}},"retention":null}})",
                                m->objects, m->bytes, m->session_bytes));
  EXPECT_EQ(m->objects, 2u);  // metadata.json and one raw file
  EXPECT_EQ(Call("POST", "/api/storage").status, 405);

  // With a schedule: its interval, and the last run's report once there is one.
  SimulatedClock clock(kT0 + 365 * 24 * 3600 * 1'000'000'000ull);
  std::promise<void> first_run;
  session::RetentionScheduler retention(
      *sessions_, {.policy = {.older_than = std::chrono::hours(24 * 30)},
                   .interval = std::chrono::hours(6),
                   .clock = &clock,
                   .on_run = [&first_run](const absl::StatusOr<session::RetentionReport>&) { first_run.set_value(); }});
  first_run.get_future().wait();
  api_ = std::make_unique<ControlApi>(*capture_, *replays_, *sessions_,
                                      ControlApiOptions{.token = token_, .retention = &retention});
  r = Call("GET", "/api/storage");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("sessions":0,)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(fmt::format(R"("retention":{{"interval":"6h","lastRun":{{"ranAt":"{}","dryRun":false,)"
                                    R"("policy":{{"olderThan":"30d"}},"deleted":1,)",
                                    session::FormatRfc3339Millis(clock.WallNowUnixNano()))),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("sessions":[{"sessionId":"recorded","action":"deleted","reason":"older than 30d"}])"),
            std::string::npos)
      << r.body;
  api_.reset();  // before the scheduler it reads
}

TEST_F(ControlApiTest, ASessionBeingCapturedCannotBeDeleted) {
  ASSERT_EQ(Call("POST", "/api/captures", "{\"sessionId\": \"live\"}").status, 201);
  net::HttpResponse r = Call("DELETE", "/api/sessions/live");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ErrorOf(r), "session live is being captured: stop the capture first");
  ASSERT_EQ(Call("POST", "/api/captures/live/stop").status, 200);
  EXPECT_EQ(Call("DELETE", "/api/sessions/live").status, 204);
}

TEST_F(ControlApiTest, ReplayBodiesAreValidatedBeforeAnythingStarts) {
  struct Case {
    std::string body;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"{}", "targetEndpoint is required (e.g. http://collector:4318)"},
           {R"({"targetEndpoint": "not a url"})",
            "endpoint: 'not a url' is not a URL: use http://host:port (OTLP/HTTP) or grpc://host:port (OTLP/gRPC)"},
           {R"({"targetEndpoint": "ftp://x"})",
            "endpoint: 'ftp://x': scheme ftp is not supported: use http://, https://, grpc:// or grpcs://"},
           {R"({"targetEndpoint": "http://127.0.0.1:99999"})",
            "endpoint: 'http://127.0.0.1:99999': port 99999 is out of range (1-65535)"},
           {R"({"targetEndpoint": "http://x:1", "speedMultiplier": -1})",
            "speed -1 is not allowed: use 0 (as fast as possible) or a positive multiplier"},
           {R"({"targetEndpoint": "http://x:1", "timestampAdjustment": "later"})",
            "timestampAdjustment: timestamps 'later': use none, relative or current"},
           {R"({"targetEndpoint": "http://x:1", "sessionFilter": {"kind": "seed"}})",
            "unknown field 'kind': sessionFilter has sessionType"},
           {R"({"targetEndpoint": "http://x:1", "bogus": 1})",
            "unknown field 'bogus': an OrchestratorConfig has sessionId, selectionStrategy, sessionFilter, "
            "maxDuration, loopEnabled, speedMultiplier, targetEndpoint, replayTraces, replayMetrics, replayLogs, "
            "rewriteIds, timestampAdjustment, protocol, compression, services, filterServices, headers, phases"},
       }) {
    net::HttpResponse r = Call("POST", "/api/replays", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_EQ(ErrorOf(r), c.error) << c.body;
  }
  EXPECT_TRUE(exporter_.sent().empty());
}

TEST_F(ControlApiTest, ReplaysAreBoundedStoppedAtOnceAndRememberedForAWhile) {
  exporter_.answer = [](const std::string&) -> std::optional<net::ExportResult> { return std::nullopt; };  // stalls
  const std::string body = R"({"sessionId": "recorded", "targetEndpoint": "http://x:1", "speedMultiplier": 0})";
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    net::HttpResponse r = Call("POST", "/api/replays", body);
    ASSERT_EQ(r.status, 201) << r.body;
    simdjson::dom::parser parser;
    ids.emplace_back(std::string_view(parser.parse(r.body)["replayId"]));
  }
  net::HttpResponse third = Call("POST", "/api/replays", body);
  EXPECT_EQ(third.status, 429);
  EXPECT_EQ(ErrorOf(third), "2 replays are running, the most this server runs at once: stop one or wait for one to finish");
  // A stalled target does not hold up a stop.
  for (const std::string& id : ids) {
    auto start = std::chrono::steady_clock::now();
    net::HttpResponse stopped = Call("POST", "/api/replays/" + id + "/stop");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    EXPECT_EQ(stopped.status, 200);
    EXPECT_EQ(StatusOf(stopped), "stopped");
    exporter_.Reset();
  }
  // Room again; the oldest finished replay is forgotten once more than two have finished.
  net::HttpResponse r = Call("POST", "/api/replays", body);
  ASSERT_EQ(r.status, 201) << r.body;
  simdjson::dom::parser parser;
  std::string id{std::string_view(parser.parse(r.body)["replayId"])};
  ASSERT_EQ(Call("POST", "/api/replays/" + id + "/stop").status, 200);
  EXPECT_EQ(Call("GET", "/api/replays/" + ids[0]).status, 404);
  EXPECT_EQ(Call("GET", "/api/replays/" + ids[1]).status, 200);
  EXPECT_EQ(Call("GET", "/api/replays/" + id).status, 200);
}

TEST_F(ControlApiTest, AFailedReplaySaysWhy) {
  exporter_.answer = [](const std::string&) {
    return net::ExportResult{.status = absl::InvalidArgumentError("http://x:1 answered HTTP 400: no")};
  };
  net::HttpResponse r =
      Call("POST", "/api/replays", R"({"sessionId": "recorded", "targetEndpoint": "http://x:1", "speedMultiplier": 0})");
  ASSERT_EQ(r.status, 201) << r.body;
  simdjson::dom::parser parser;
  std::string id{std::string_view(parser.parse(r.body)["replayId"])};
  net::HttpResponse status;
  for (int i = 0; i < 500; ++i) {
    status = Call("GET", "/api/replays/" + id);
    if (StatusOf(status) != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(StatusOf(status), "failed");
  EXPECT_EQ(ErrorOf(status), "10 of 10 requests failed (first error: http://x:1 answered HTTP 400: no)");
}

TEST_F(ControlApiTest, AnAnswerGivenFromTheApisOwnThreadNeverOutlivesIt) {
  // The defect this guards: a detached thread answered a stop after serve had destroyed the API and the
  // capture service (use after free on Ctrl-C during a stop). Now the API joins its threads.
  ASSERT_EQ(Call("POST", "/api/captures", "{\"sessionId\": \"c\"}").status, 201);
  std::atomic<bool> answered{false};
  net::HttpRequest stop;
  stop.method = "POST";
  stop.target = stop.path = "/api/captures/c/stop";
  stop.headers = {{"authorization", "Bearer s3cret"}};
  api_->Handle(std::move(stop), [&](net::HttpResponse r) {
                 EXPECT_EQ(r.status, 200);
                 answered.store(true);
               });
  api_.reset();  // joins the thread that answers
  EXPECT_TRUE(answered.load());
}

TEST_F(ControlApiTest, TheWebUiIsServedWithoutATokenAndNothingOutsideItsFiles) {
  net::HttpResponse r = Call("GET", "/", "", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<html"), std::string::npos);
  bool csp = false;
  for (const auto& [k, v] : r.headers) csp |= k == "Content-Security-Policy" && v.find("script-src 'self'") != std::string::npos;
  EXPECT_TRUE(csp);
  EXPECT_EQ(Call("GET", "/app.js", "", "").content_type, "text/javascript; charset=utf-8");
  for (const char* bad : {"/../CMakeLists.txt", "/pages/../../control_api.cc", "//etc/passwd", "/nothing.js", "/a\\b"}) {
    EXPECT_EQ(Call("GET", bad, "", "").status, 404) << bad;
  }
  EXPECT_EQ(Call("POST", "/", "", "").status, 405);
  // Gzipped for a client that takes it, the same bytes once inflated.
  net::HttpRequest gz;
  gz.method = "GET";
  gz.target = gz.path = "/app.js";
  gz.headers = {{"accept-encoding", "gzip, deflate, br"}};
  net::HttpResponse zipped = Send(gz);
  bool gzip = false;
  for (const auto& [k, v] : zipped.headers) gzip |= k == "Content-Encoding" && v == "gzip";
  EXPECT_TRUE(gzip);
  const net::HttpResponse plain = Call("GET", "/app.js", "", "");
  ASSERT_GT(zipped.body.size(), 18u);
  EXPECT_LT(zipped.body.size(), plain.body.size());
  EXPECT_EQ(zipped.body.substr(0, 2), "\x1f\x8b");
  for (const auto& [k, v] : plain.headers) EXPECT_NE(k, "Content-Encoding");
  EXPECT_EQ(Call("HEAD", "/", "", "").body, "");
  // The API still needs the token, but for /api/info, which tells the UI that it does.
  EXPECT_EQ(Call("GET", "/api/sessions", "", "").status, 401);
  r = Call("GET", "/api/info", "", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"tokenRequired\":true"), std::string::npos) << r.body;
}

TEST_F(ControlApiTest, ListsOfSessionsCanLeaveOutTheFileIndexAndLiveCapturesShowTheirLimits) {
  EXPECT_NE(Call("GET", "/api/sessions").body.find("\"files\":["), std::string::npos);
  net::HttpResponse r = Call("GET", "/api/sessions?fields=summary");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("\"files\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"sessionId\":\"recorded\""), std::string::npos);

  ASSERT_EQ(Call("POST", "/api/captures", R"({"sessionId": "limited", "maxSizeMB": 5})").status, 201);
  r = Call("GET", "/api/captures/limited");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"limits\":{\"maxSizeMB\":5,\"maxDurationMinutes\":null}"), std::string::npos) << r.body;
  ASSERT_EQ(Call("POST", "/api/captures/limited/stop").status, 200);
  EXPECT_EQ(Call("GET", "/api/captures/limited").body.find("\"limits\""), std::string::npos);
}

TEST_F(ControlApiTest, ASessionsTimelineVerificationAndExport) {
  net::HttpResponse r = Call("GET", "/api/sessions/recorded/timeline");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::element t = parser.parse(r.body);
  EXPECT_EQ(uint64_t(t["buckets"]), 10u);  // ten records a second apart
  EXPECT_EQ(uint64_t(t["bucketSeconds"]), 1u);
  uint64_t spans = 0;
  for (simdjson::dom::element n : simdjson::dom::array(t["spans"])) spans += uint64_t(n);
  EXPECT_EQ(spans, 20u);
  EXPECT_EQ(std::string_view(t["services"].at(0)["name"]), "svc");
  EXPECT_EQ(Call("GET", "/api/sessions/missing/timeline").status, 404);

  r = Call("POST", "/api/sessions/recorded/verify");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element v = parser.parse(r.body);
  EXPECT_TRUE(bool(v["ok"]));
  EXPECT_EQ(uint64_t(v["records"]), 10u);
  EXPECT_EQ(uint64_t(v["spans"]), 20u);

  r = Call("GET", "/api/sessions/recorded/export");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/x-ndjson");
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 10);
  EXPECT_EQ(Call("GET", "/api/sessions/recorded/export?signals=logs").body, "");
  // Gzipped for a client that takes it: one member holding the same lines.
  net::HttpRequest gz;
  gz.method = "GET";
  gz.target = gz.path = "/api/sessions/recorded/export";
  gz.headers = {{"authorization", "Bearer s3cret"}, {"accept-encoding", "gzip, br"}};
  net::HttpResponse zipped = Send(gz);
  ASSERT_EQ(zipped.status, 200) << zipped.body;
  EXPECT_NE(std::find(zipped.headers.begin(), zipped.headers.end(), std::pair<std::string, std::string>("Content-Encoding", "gzip")),
            zipped.headers.end());
  std::string inflated;
  ASSERT_TRUE(net::GunzipBounded(zipped.body, 1 << 30, &inflated).ok());
  EXPECT_EQ(inflated, r.body);
  EXPECT_LT(zipped.body.size(), r.body.size());
  gz.headers.back().second = "gzip;q=0, identity";
  EXPECT_EQ(Send(gz).body, r.body);
  r = Call("GET", "/api/sessions/recorded/export?signals=traces,bogus");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(ErrorOf(r).find("'bogus' is not a signal"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/api/sessions/missing/export").status, 404);
}

TEST_F(ControlApiTest, SeedsRunInTheBackgroundAndBecomeSessions) {
  EXPECT_EQ(Call("POST", "/api/seeds", "{}").status, 503);  // this API has no seed service
  generate::SeedService seeds(*sessions_);
  ControlApi api(*capture_, *replays_, *sessions_, ControlApiOptions{.seeds = &seeds});
  auto call = [&](std::string method, std::string path, std::string body) {
    net::HttpRequest request;
    request.method = std::move(method);
    request.target = request.path = std::move(path);
    request.body = std::move(body);
    std::promise<net::HttpResponse> answer;
    api.Handle(std::move(request), [&answer](net::HttpResponse r) { answer.set_value(std::move(r)); });
    return answer.get_future().get();
  };
  net::HttpResponse r = call("GET", "/api/patterns", "");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"name\":\"payment-failure\""), std::string::npos);

  for (const char* bad : {R"({"pattern": "nope"})", R"({"tracesPerSecond": -1})", R"({"signals": ["spans"]})",
                          R"({"startTime": "yesterday"})", R"({"colour": "red"})", R"({"sessionId": "recorded"})"}) {
    r = call("POST", "/api/seeds", bad);
    EXPECT_TRUE(r.status == 400 || r.status == 409) << bad << " " << r.status;
    EXPECT_NE(ErrorOf(r), "") << bad;
  }
  r = call("POST", "/api/seeds",
           R"({"pattern": "payment-failure", "durationSeconds": 6, "tracesPerSecond": 5, "seed": 7, "sessionId": "from-api", "signals": ["traces"]})");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(StatusOf(r), "running");
  net::HttpResponse done;
  for (int i = 0; i < 500; ++i) {
    done = call("GET", "/api/seeds/from-api", "");
    if (StatusOf(done) != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(StatusOf(done), "completed") << done.body;
  simdjson::dom::parser parser;
  simdjson::dom::element result = parser.parse(done.body)["result"];
  EXPECT_EQ(uint64_t(result["traces"]), 30u);
  EXPECT_EQ(simdjson::dom::array(result["phases"]).size(), 3u);
  absl::StatusOr<session::SessionMetadata> m = sessions_->Load("from-api");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->counts.spans, uint64_t(result["spans"]));
  EXPECT_EQ(m->counts.log_records, 0u);  // traces only
  EXPECT_EQ(call("POST", "/api/seeds", R"({"sessionId": "from-api"})").status, 409);
  EXPECT_EQ(call("GET", "/api/seeds/other", "").status, 404);
  EXPECT_NE(call("GET", "/api/seeds", "").body.find("from-api"), std::string::npos);
}

}  // namespace
}  // namespace otelrr::server
