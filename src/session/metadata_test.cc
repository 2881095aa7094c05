#include "session/metadata.h"

#include "gtest/gtest.h"
#include "session/time_format.h"

namespace otelrr::session {
namespace {

SessionMetadata Full() {
  SessionMetadata m{
      .session_id = "capture-1",
      .session_type = SessionType::kSeed,
      .start_time_unix_nano = 1795693544123000000ull,
      .end_time_unix_nano = 1795697144456000000ull,
      .expires_at_unix_nano = 1798289144456000000ull,
      .status = SessionStatus::kCompleted,
      .status_reason = "done",
      .enabled_flags = {"paymentFailure", "cartLatency"},
      .total_size_bytes = 1234,
      .s3_prefix = "sessions/capture-1/",
      .created_by = "otelrr seed",
      .description = "a \"quoted\" description",
      .counts = {.traces = 3, .spans = 9, .data_points = 4, .log_records = 5, .trace_requests = 2,
                 .metric_requests = 1, .log_requests = 1, .uncompressed_bytes = 999},
      .first_arrival_unix_nano = 1795693544123456789ull,
      .last_arrival_unix_nano = 18446744073709551615ull,
      .phases = {{.name = "baseline", .annotation_key = "phase.baseline", .start_time_unix_nano = 1795693544000000000ull,
                  .end_time_unix_nano = 1795693604000000000ull, .flags = {}},
                 {.name = "incident", .annotation_key = "phase.incident", .start_time_unix_nano = 1795693604000000000ull,
                  .flags = {"paymentFailure"}}},
      .generator_json = R"({"pattern":"ecommerce","tracesPerSecond":10,"seed":42})",
      .files = {{.path = "raw/2026-11-26/11/traces-1795693544123-0b9f7d0e-7c1e-4a53-9a1b-2f1d1c0e9a77.otlp.gz",
                 .signal = otlp::Signal::kTraces,
                 .first_arrival_unix_nano = 1795693544123456789ull,
                 .last_arrival_unix_nano = 1795693544999999999ull,
                 .records = 2,
                 .size_bytes = 1234,
                 .uncompressed_bytes = 999,
                 .sha256 = std::string(64, 'a')}},
  };
  m.SyncCapturedTotals();
  return m;
}

TEST(MetadataTest, JsonRoundTripIsExact) {
  SessionMetadata m = Full();
  std::string json = m.ToJson();
  absl::StatusOr<SessionMetadata> back = SessionMetadata::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << json;
  EXPECT_EQ(*back, m);
  EXPECT_EQ(back->ToJson(), json);
}

TEST(MetadataTest, WritesTheDocumentedFieldsAndForms) {
  std::string json = Full().ToJson();
  for (std::string_view want : {
           R"("formatVersion": 1)", R"("sessionType": "seed")", R"("startTime": "2026-11-26T11:45:44.123Z")",
           R"("expiresAt": "2026-12-26T12:45:44.456Z")", R"("status": "completed")", R"("capturedTraces": 3)",
           R"("capturedMetrics": 4)", R"("capturedLogs": 5)",
           R"("firstArrivalUnixNano": "1795693544123456789")", R"("firstArrivalTime": "2026-11-26T11:45:44.123456789Z")",
           R"("lastArrivalUnixNano": "18446744073709551615")", R"("s3Prefix": "sessions/capture-1/")",
           R"("annotationKey": "phase.incident")", R"("signal": "traces")", R"("sizeBytes": 1234)"}) {
    EXPECT_NE(json.find(want), std::string::npos) << want << "\n" << json;
  }
}

TEST(MetadataTest, MinimalDocumentAndOptionalFieldsAbsent) {
  SessionMetadata m{.session_id = "s", .start_time_unix_nano = 0};
  std::string json = m.ToJson();
  EXPECT_EQ(json.find("endTime"), std::string::npos);
  EXPECT_EQ(json.find("firstArrival"), std::string::npos);
  EXPECT_EQ(json.find("generator"), std::string::npos);
  absl::StatusOr<SessionMetadata> back = SessionMetadata::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

TEST(MetadataTest, IgnoresUnknownKeysAndAcceptsTimeZoneOffsets) {
  absl::StatusOr<SessionMetadata> m = SessionMetadata::FromJson(
      R"({"formatVersion":1,"sessionId":"x","sessionType":"capture","startTime":"2026-11-26T12:45:44.5+01:00",
          "status":"active","futureField":{"a":[1,2]}})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->start_time_unix_nano, 1795693544500000000ull);
}

// Found by fuzz_metadata_json: a session time with nanoseconds was written back with milliseconds, so the
// document read differently once rewritten. Session times are milliseconds: finer fractions are cut on reading.
TEST(MetadataTest, SessionTimesFinerThanMillisecondsAreCutToTheMillisecond) {
  absl::StatusOr<SessionMetadata> m = SessionMetadata::FromJson(
      R"({"formatVersion":1,"sessionId":"x","sessionType":"seed","startTime":"2026-11-26T11:45:44.123456789Z",
          "endTime":"2026-11-26T11:45:46.666666666Z","expiresAt":"2026-12-26T11:45:44.000999Z","status":"completed"})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->start_time_unix_nano, 1795693544123000000ull);
  EXPECT_EQ(*m->end_time_unix_nano, 1795693546666000000ull);
  EXPECT_EQ(*m->expires_at_unix_nano % 1'000'000, 0u);
  absl::StatusOr<SessionMetadata> again = SessionMetadata::FromJson(m->ToJson());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *m);
}

TEST(MetadataTest, ASessionKeptForeverExpiresNever) {
  SessionMetadata m{.session_id = "s", .expires_at_unix_nano = kNeverExpires};
  std::string json = m.ToJson();
  EXPECT_NE(json.find(R"("expiresAt": "never")"), std::string::npos) << json;
  absl::StatusOr<SessionMetadata> back = SessionMetadata::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->expires_at_unix_nano, kNeverExpires);
  // Without the field, no expiry of its own: the store's policy decides.
  EXPECT_EQ(SessionMetadata::FromJson(SessionMetadata{.session_id = "s"}.ToJson())->expires_at_unix_nano, std::nullopt);
}

TEST(MetadataTest, RejectsBadJsonAndWrongTypesWithClearMessages) {
  const std::string base = R"("formatVersion":1,"sessionId":"x","sessionType":"capture","status":"active")";
  struct Case {
    std::string json;
    std::string_view message;
  } cases[] = {
      {"{not json", "not valid JSON"},
      {"[1]", "expected a JSON object"},
      {R"({"formatVersion":1})", "\"sessionId\": is required"},
      {R"({"formatVersion":2,"sessionId":"x"})", "version 2 is not supported"},
      {"{" + base + R"(,"startTime":"yesterday"})", "\"startTime\": \"yesterday\" is not an RFC 3339 time"},
      {"{" + base + R"(,"startTime":"2026-02-30T00:00:00Z"})", "day out of range"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","capturedTraces":"3"})",
       "\"capturedTraces\": expected a non-negative integer, found a string"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","capturedTraces":-1})", "non-negative integer"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","capturedTraces":1.5})", "non-negative integer"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","counts":{"requests":{"logs":true}}})",
       "\"counts.requests.logs\": expected a non-negative integer, found a boolean"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","firstArrivalUnixNano":5})",
       "\"firstArrivalUnixNano\": expected a decimal string"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","firstArrivalUnixNano":"5x"})", "not a decimal count"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","enabledFlags":["a",2]})",
       "\"enabledFlags[1]\": expected a string, found an integer"},
      {R"({"formatVersion":1,"sessionId":"x","sessionType":"other"})", "\"other\" is not one of seed"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","expiresAt":"soon"})",
       "\"expiresAt\": \"soon\" is not an RFC 3339 time like 2026-11-26T11:45:44.123Z: "},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","expiresAt":"soon"})", "(or \"never\")"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","expiresAt":30})", "\"expiresAt\": expected a string"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","generator":[1]})", "\"generator\": expected an object"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","files":[{"path":"p","signal":"spans"}]})",
       "\"files[0].signal\": \"spans\" is not one of"},
      {"{" + base + R"(,"startTime":"2026-11-26T11:45:44Z","files":[{"path":"p","signal":"logs",
          "firstArrivalUnixNano":"1","lastArrivalUnixNano":"2","records":1,"sizeBytes":1,"sha256":"xyz"}]})",
       "\"files[0].sha256\": expected 64 lowercase hex digits"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<SessionMetadata> m = SessionMetadata::FromJson(c.json);
    ASSERT_FALSE(m.ok()) << c.json;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(m.status().message()).find(c.message), std::string_view::npos)
        << "got: " << m.status().message() << "\nwant: " << c.message;
  }
}

TEST(TimeFormatTest, FormatsAndParsesRfc3339) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Nanos(1795693544123456789ull), "2026-11-26T11:45:44.123456789Z");
  EXPECT_EQ(FormatPartition(1795693544123456789ull), "2026-11-26/11");
  EXPECT_EQ(FormatPartition(951782400ull * kNanosPerSecond), "2000-02-29/00");
  EXPECT_EQ(*ParseRfc3339("2026-11-26T11:45:44.123456789Z"), 1795693544123456789ull);
  EXPECT_EQ(*ParseRfc3339("2000-02-29T00:00:00Z"), 951782400ull * kNanosPerSecond);
  EXPECT_FALSE(ParseRfc3339("1969-12-31T23:59:59Z").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-26T11:45:44").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-26T11:45:44.Z").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-26T11:45:44.1234567890Z").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-26 11:45:44Z").ok());
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59Z").ok());  // beyond uint64 nanoseconds
}

}  // namespace
}  // namespace otelrr::session
