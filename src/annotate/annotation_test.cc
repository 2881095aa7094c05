#include "annotate/annotation.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "annotate/annotation_log.h"
#include "annotate/annotation_service.h"
#include "annotate/clickhouse.h"
#include "session/testing/fixture.h"

namespace otelrr::annotate {
namespace {

using session::testing::kT0;

Annotation Human(std::string key = "human.verdict") {
  return Annotation{.time_range_start_unix_nano = kT0,
                    .time_range_end_unix_nano = kT0 + 5'000'000'000ull,
                    .annotation_key = std::move(key),
                    .annotation_value = R"({"ok":false})"};
}

Annotation Completed(Annotation a) {
  absl::Status s = Complete(&a, kT0 + 1, "test");
  EXPECT_TRUE(s.ok()) << s;
  return a;
}

TEST(AnnotationTest, CompleteFillsTypeIdSignalAndCreation) {
  Annotation a = Completed(Human());
  EXPECT_EQ(a.annotation_type, "human");
  EXPECT_EQ(a.annotation_id.size(), 36u);
  EXPECT_EQ(a.signal_type, "any");
  EXPECT_EQ(a.created_at_unix_nano, kT0);  // cut to milliseconds, as the table keeps it
  EXPECT_EQ(a.created_by, "test");

  Annotation t = Human("diag.slow");
  t.trace_id = "0af7651916cd43dd8448eb211c80319c";
  EXPECT_EQ(Completed(t).signal_type, "trace");
  Annotation m = Human("train.label");
  m.metric_name = "http.server.duration";
  EXPECT_EQ(Completed(m).signal_type, "metric");
  Annotation l = Human("llm.summary");
  l.log_timestamp_unix_nano = kT0;
  EXPECT_EQ(Completed(l).signal_type, "log");
}

TEST(AnnotationTest, RenameSessionGivesDerivedIdsAndPhaseValuesTheNewId) {
  std::vector<Annotation> list = {PhaseAnnotation("pf", "failure", "test.phase.failure", kT0, kT0 + 5, {"f"}, "seed")};
  Annotation own;
  own.annotation_id = "11111111-2222-4333-8444-555555555555";
  own.annotation_key = "human.note";
  own.session_id = "pf";
  list.push_back(own);
  RenameSession(&list, "pf", "pf-copy");
  const Annotation expected = PhaseAnnotation("pf-copy", "failure", "test.phase.failure", kT0, kT0 + 5, {"f"}, "seed");
  EXPECT_EQ(list[0].annotation_id, expected.annotation_id);
  EXPECT_EQ(list[0].annotation_value, expected.annotation_value);
  EXPECT_EQ(list[0].session_id, "pf-copy");
  EXPECT_EQ(list[1].annotation_id, own.annotation_id);  // an id of its own stays
  EXPECT_EQ(list[1].session_id, "pf-copy");
}

TEST(AnnotationTest, RefusesWhatTheTableCannotHold) {
  struct Case {
    std::function<void(Annotation*)> change;
    std::string message;
  };
  const Case cases[] = {
      {[](Annotation* a) { a->annotation_key = "phase.x"; }, "must start with its type and a name"},
      {[](Annotation* a) { a->annotation_key = "test."; }, "must start with its type and a name"},
      {[](Annotation* a) { a->annotation_key = "human.has space"; }, "holds a space or a control character"},
      {[](Annotation* a) { a->annotation_value = "slow checkout"; }, "annotation value is not JSON"},
      {[](Annotation* a) { a->confidence = 1.5f; }, "confidence 1.5 must be between 0 and 1"},
      {[](Annotation* a) { a->trace_id = "ABC"; }, "trace id 'ABC' must be 32 lowercase hex digits"},
      {[](Annotation* a) { a->span_id = "00f067aa0ba902b7"; }, "a span id needs the trace id of its span"},
      {[](Annotation* a) { a->time_range_end_unix_nano = kT0 - 1; }, "the time range ends"},
      {[](Annotation* a) { a->time_range_start_unix_nano = 0; }, "the start of the time range is missing"},
      {[](Annotation* a) { a->signal_type = "span"; }, "signal type 'span' is not one of trace, metric, log, any"},
      {[](Annotation* a) { a->session_id = "../etc"; }, "session id"},
      {[](Annotation* a) { a->service_name = std::string("\xff\xfe", 2); }, "service name is not valid UTF-8"},
      {[](Annotation* a) { a->parent_annotation_id = "x y"; }, "parent annotation id 'x y' is not an id"},
  };
  for (const Case& c : cases) {
    Annotation a = Human();
    c.change(&a);
    absl::Status s = Complete(&a, kT0, "test");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s;
  }
  Annotation wrong_type = Human();
  wrong_type.annotation_type = "test";
  EXPECT_NE(Complete(&wrong_type, kT0, "t").message().find("does not match the key"), std::string::npos);
}

TEST(AnnotationTest, JsonLineRoundTripsEveryField) {
  Annotation a = Human("diag.checkout");
  a.trace_id = "0af7651916cd43dd8448eb211c80319c";
  a.span_id = "00f067aa0ba902b7";
  a.metric_name = "m";
  a.metric_labels = {{"b", "2"}, {"a", "1"}};
  a.log_timestamp_unix_nano = kT0 + 123;
  a.log_body_hash = "abc";
  a.service_name = "payment";
  a.resource_attributes = {{"host.name", "h1"}};
  a.confidence = 0.9f;
  a.expires_at_unix_nano = kT0 + 86'400'000'000'000ull;
  a.parent_annotation_id = "11111111-2222-4333-8444-555555555555";
  a.session_id = "seed-1";
  a = Completed(a);
  EXPECT_EQ(a.metric_labels, (StringMap{{"a", "1"}, {"b", "2"}}));  // sorted by Complete
  std::string line = ToJsonLine(a);
  absl::StatusOr<Annotation> back = FromJsonLine(line);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << line;
  EXPECT_EQ(*back, a) << line;
  EXPECT_NE(line.find(R"("logTimestamp":"2026-11-26T11:45:44.123000123Z")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("timeRangeStart":"2026-11-26T11:45:44.123Z")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("annotationValue":"{\"ok\":false}")"), std::string::npos) << line;
}

TEST(AnnotationTest, ApiBodiesMayGiveTheValueAsJsonAndUnknownKeysAreNamed) {
  absl::StatusOr<Annotation> a = FromJsonLine(
      R"({"annotationKey":"human.note","annotationValue":{"text":"slow", "n": [1, 2]},"timeRangeStart":"2026-11-26T11:45:44Z"})");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->annotation_value, R"({"text":"slow","n":[1,2]})");
  absl::StatusOr<Annotation> bad = FromJsonLine(R"({"annotationKey":"human.note","colour":"red"})");
  EXPECT_NE(bad.status().message().find("unknown field 'colour': an annotation has annotationId"), std::string::npos)
      << bad.status();
  EXPECT_NE(FromJsonLine(R"({"annotationKey":"human.note","timeRangeStart":"yesterday"})").status().message().find(
                "timeRangeStart"),
            std::string::npos);
}

TEST(AnnotationTest, PhaseAnnotationsHaveStableIdsAndCarryTheirFlagsInTheValue) {
  Annotation p = PhaseAnnotation("seed-1", "failure", "test.phase.failure", kT0, kT0 + 10'000'000'000ull,
                                 {"paymentServiceFailure"}, "otelrr seed");
  EXPECT_EQ(p.annotation_id, PhaseAnnotation("seed-1", "failure", "test.phase.failure", kT0, std::nullopt, {}, "x")
                                 .annotation_id);
  EXPECT_NE(p.annotation_id, PhaseAnnotation("seed-2", "failure", "test.phase.failure", kT0, std::nullopt, {}, "x")
                                 .annotation_id);
  EXPECT_EQ(p.annotation_id[14], '4');  // a version 4 layout
  EXPECT_EQ(p.annotation_value,
            R"({"sessionId":"seed-1","phase":"failure","timestamp":1795693544123,"flags":["paymentServiceFailure"]})");
  EXPECT_TRUE(p.is_phase());
  EXPECT_EQ(p.phase_name(), "failure");
  Annotation completed = p;
  EXPECT_TRUE(Complete(&completed, kT0, "t").ok());
  EXPECT_EQ(completed.annotation_id, p.annotation_id);
}

TEST(AnnotationTest, ClickHouseRowsUseTheTableColumnsAndLeaveNullsOut) {
  Annotation a = Human();
  a.annotation_id = "11111111-2222-4333-8444-555555555555";
  a.session_id = "s1";
  a.annotation_value = R"({"q":"'); DROP TABLE annotations; --"})";
  a = Completed(a);
  EXPECT_EQ(ToClickHouseRow(a),
            R"({"annotation_id":"11111111-2222-4333-8444-555555555555","signal_type":"any","metric_labels":{},)"
            R"("time_range_start":"2026-11-26T11:45:44.123000000Z","time_range_end":"2026-11-26T11:45:49.123000000Z",)"
            R"("resource_attributes":{},"annotation_type":"human","annotation_key":"human.verdict",)"
            R"("annotation_value":"{\"q\":\"'); DROP TABLE annotations; --\"}","created_at":"2026-11-26T11:45:44.123Z",)"
            R"("created_by":"test","session_id":"s1"})");
}

TEST(ClickHouseConfigTest, FlagThenEnvironmentAndUrlsAreChecked) {
  ::unsetenv("CLICKHOUSE_URL");
  ::unsetenv("CLICKHOUSE_HOST");
  absl::StatusOr<std::optional<ClickHouseConfig>> none = ClickHouseConfig::Resolve("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ::setenv("CLICKHOUSE_HOST", "ch.local", 1);
  ::setenv("CLICKHOUSE_DATABASE", "otel", 1);
  absl::StatusOr<std::optional<ClickHouseConfig>> host = ClickHouseConfig::Resolve("");
  ASSERT_TRUE(host.ok() && host->has_value()) << host.status();
  EXPECT_EQ((*host)->url, "http://ch.local:8123");
  EXPECT_EQ((*host)->database, "otel");
  absl::StatusOr<std::optional<ClickHouseConfig>> flag = ClickHouseConfig::Resolve("https://u:p%40ss@ch:8443/");
  ASSERT_TRUE(flag.ok()) << flag.status();
  EXPECT_EQ((*flag)->url, "https://ch:8443");
  EXPECT_EQ((*flag)->user, "u");
  EXPECT_EQ((*flag)->password, "p%40ss");
  EXPECT_NE(ClickHouseConfig::Resolve("ch:8123").status().message().find("is not http://HOST[:PORT]"),
            std::string::npos);
  EXPECT_NE(ClickHouseConfig::Resolve("http://ch:8123/otel").status().message().find("has a path"), std::string::npos);
  ::setenv("CLICKHOUSE_DATABASE", "otel; DROP", 1);
  EXPECT_NE(ClickHouseConfig::Resolve("").status().message().find("is not a name"), std::string::npos);
  ::unsetenv("CLICKHOUSE_HOST");
  ::unsetenv("CLICKHOUSE_DATABASE");
}

class AnnotationLogTest : public session::testing::SessionTest {};

TEST_F(AnnotationLogTest, AddsSkipsRepeatsAndRefusesConflictingIds) {
  AnnotationLog log(*store_);
  Annotation a = Completed(Human());
  Annotation b = Completed(Human("train.label"));
  a.session_id = b.session_id = "s1";
  absl::StatusOr<std::vector<Annotation>> added = log.Add("s1", std::vector<Annotation>{a, b});
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->size(), 2u);
  Annotation retried = a;
  retried.created_at_unix_nano = kT0 + 5'000'000;  // the same request made again later
  EXPECT_TRUE(log.Add("s1", std::vector<Annotation>{retried})->empty());
  Annotation conflicting = a;
  conflicting.annotation_value = "1";
  EXPECT_EQ(log.Add("s1", std::vector<Annotation>{conflicting}).status().code(), absl::StatusCode::kAlreadyExists);
  absl::StatusOr<std::vector<Annotation>> all = log.List("s1");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, (std::vector<Annotation>{a, b}));
  EXPECT_TRUE(log.List("nothing")->empty());
}

TEST_F(AnnotationLogTest, WritersInParallelLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      AnnotationLog log(*store_);
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<std::vector<Annotation>> added = log.Add("s1", std::vector<Annotation>{Completed(Human())});
        EXPECT_TRUE(added.ok() && added->size() == 1) << added.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(AnnotationLog(*store_).List("s1")->size(), static_cast<size_t>(kThreads * kEach));
}

TEST_F(AnnotationLogTest, ReadsLinesOfOlderSeedsAndNamesABadLine) {
  const std::string legacy =
      R"({"annotationType":"test","annotationKey":"test.phase.failure","annotationValue":"{\"sessionId\":\"s1\",\"phase\":\"failure\",\"timestamp\":1795693544123}","timeRangeStart":"2026-11-26T11:45:44.123Z","timeRangeEnd":"2026-11-26T11:45:54.123Z","flags":["paymentServiceFailure"]})"
      "\n";
  ASSERT_TRUE(store_->Put(AnnotationsKey("s1"), legacy).ok());
  absl::StatusOr<std::vector<Annotation>> all = AnnotationLog(*store_).List("s1");
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 1u);
  const Annotation& p = (*all)[0];
  EXPECT_EQ(p.session_id, "s1");
  EXPECT_EQ(p.signal_type, "any");
  EXPECT_EQ(p.annotation_id, PhaseAnnotation("s1", "failure", "test.phase.failure", kT0, {}, {}, "").annotation_id);
  EXPECT_EQ(p.flags, (std::vector<std::string>{"paymentServiceFailure"}));
  EXPECT_TRUE(Validate(p).ok()) << Validate(p);

  ASSERT_TRUE(store_->Put(AnnotationsKey("s2"), legacy + "{\"annotationKey\": 3}\n").ok());
  absl::Status bad = AnnotationLog(*store_).List("s2").status();
  EXPECT_NE(bad.message().find("annotations.jsonl line 2: annotationKey must be a string"), std::string::npos) << bad;
}

TEST_F(AnnotationLogTest, ServiceRefusesMissingSessionsAndBadBatchesWholly) {
  AnnotationService service(*sessions_, nullptr, &clock_);
  EXPECT_EQ(service.Add("nope", {Human()}, "t").status().code(), absl::StatusCode::kNotFound);
  std::unique_ptr<session::SessionWriter> w = NewWriter("s1", Options());
  ASSERT_TRUE(w->Close().ok());
  Annotation bad = Human();
  bad.confidence = -1;
  absl::Status s = service.Add("s1", {Human(), bad}, "t").status();
  EXPECT_NE(s.message().find("annotation 1: confidence -1"), std::string::npos) << s;
  EXPECT_TRUE(service.List("s1")->empty());
  absl::StatusOr<std::vector<Annotation>> added = service.Add("s1", {Human()}, "otelrr annotate");
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ((*added)[0].session_id, "s1");
  EXPECT_EQ((*added)[0].created_by, "otelrr annotate");
  EXPECT_EQ(*service.List("s1"), *added);
  EXPECT_EQ(service.Sync("s1").status().code(), absl::StatusCode::kFailedPrecondition);
}

// An annotation added while its session is deleted is either refused (NotFound) or deleted with it: the
// session never comes back as a folder holding only annotations.jsonl.
TEST_F(AnnotationLogTest, ASessionDeletedWhileItIsAnnotatedStaysDeleted) {
  AnnotationService service(*sessions_, nullptr, &clock_);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(NewWriter("d", Options())->Close().ok());  // and its lock released
    absl::Status annotated;
    std::thread annotator([&] { annotated = service.Add("d", {Human()}, "t").status(); });
    std::this_thread::sleep_for(std::chrono::microseconds(i % 40 * 25));  // across the annotator's steps
    absl::Status deleted = sessions_->Delete("d");
    annotator.join();
    ASSERT_TRUE(deleted.ok()) << "round " << i << ": " << deleted;
    EXPECT_TRUE(annotated.ok() || absl::IsNotFound(annotated)) << "round " << i << ": " << annotated;
    EXPECT_EQ(sessions_->Delete("d").code(), absl::StatusCode::kNotFound) << "round " << i;
    absl::StatusOr<std::vector<store::ObjectInfo>> left = store_->List(session::SessionPrefix("d"));
    ASSERT_TRUE(left.ok()) << left.status();
    ASSERT_TRUE(left->empty()) << "round " << i << ": " << left->front().key << " is left";
  }
}

TEST_F(AnnotationLogTest, MetadataPhasesAreListedWhenNotKept) {
  std::unique_ptr<session::SessionWriter> w = NewWriter("s1", Options());
  w->metadata().phases = {{.name = "baseline", .start_time_unix_nano = kT0, .end_time_unix_nano = kT0 + 1},
                                    {.name = "failure", .annotation_key = "test.phase.failure",
                                     .start_time_unix_nano = kT0 + 1, .flags = {"f"}}};
  ASSERT_TRUE(w->Close().ok());
  AnnotationService service(*sessions_, nullptr, &clock_);
  absl::StatusOr<std::vector<Annotation>> all = service.List("s1");
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].annotation_key, "test.phase.baseline");
  EXPECT_EQ((*all)[1].flags, (std::vector<std::string>{"f"}));
}

}  // namespace
}  // namespace otelrr::annotate
