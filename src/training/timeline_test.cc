// The session timeline: counts per interval of arrival, wider intervals for long sessions, services and
// error spans, and the cache beside the session (used while current, recomputed when the session changed).
#include "training/timeline.h"

#include <thread>

#include <gtest/gtest.h>

#include "otlp/testing/proto_builder.h"
#include "otlp/testing/requests.h"
#include "session/testing/fixture.h"

namespace otelrr::training {
namespace {

using otlp::Signal;
using otlp::testing::ProtoBuilder;
using otlp::testing::ServiceResource;
using session::testing::kT0;

constexpr uint64_t kSecond = 1'000'000'000ull;

// A request of `service` holding `ok` spans with status unset and `errors` with status ERROR.
std::string Spans(std::string_view service, int ok, int errors) {
  ProtoBuilder scope;
  for (int i = 0; i < ok + errors; ++i) {
    ProtoBuilder span;
    span.Bytes(1, otlp::testing::TraceId(static_cast<uint64_t>(i + 1)))
        .Bytes(2, std::string(7, '\x02') + static_cast<char>(i + 1))
        .Bytes(5, "op")
        .Fixed64(7, kT0)
        .Fixed64(8, kT0 + 1000);
    if (i >= ok) span.Msg(15, ProtoBuilder().Varint(3, 2));
    scope.Msg(2, span);
  }
  return ProtoBuilder().Msg(1, ProtoBuilder().Msg(1, ServiceResource(service)).Msg(2, scope)).str();
}

class TimelineTest : public session::testing::SessionTest {
 protected:
  // Writes session `id` with `records` (arrival, signal, payload) and closes it.
  void Write(const std::string& id, const std::vector<std::tuple<uint64_t, Signal, std::string>>& records) {
    std::unique_ptr<session::SessionWriter> w = NewWriter(id, Options());
    ASSERT_NE(w, nullptr);
    for (const auto& [arrival, signal, payload] : records) ASSERT_TRUE(w->Append(Rec(arrival, signal, payload)).ok());
    ASSERT_TRUE(w->Close().ok());
  }
};

TEST_F(TimelineTest, CountsEachSecondOfArrivalWithErrorSpansAndServices) {
  const uint64_t t0 = kT0 - kT0 % kSecond;
  Write("s", {{t0 + 300'000'000, Signal::kTraces, Spans("cart", 3, 1)},
              {t0 + 900'000'000, Signal::kTraces, Spans("checkout", 1, 2)},
              {t0 + 2 * kSecond, Signal::kMetrics, otlp::testing::MetricsRequest(4)},
              {t0 + 3 * kSecond + 5, Signal::kLogs, otlp::testing::LogsRequest(2)}});
  absl::StatusOr<SessionTimeline> t = ComputeTimeline(*sessions_, "s");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->start_unix_nano, t0);
  EXPECT_EQ(t->bucket_seconds, 1u);
  EXPECT_EQ(t->requests, (std::vector<uint64_t>{2, 0, 1, 1}));
  EXPECT_EQ(t->spans, (std::vector<uint64_t>{7, 0, 0, 0}));
  EXPECT_EQ(t->error_spans, (std::vector<uint64_t>{3, 0, 0, 0}));
  EXPECT_EQ(t->data_points, (std::vector<uint64_t>{0, 0, 4, 0}));
  EXPECT_EQ(t->log_records, (std::vector<uint64_t>{0, 0, 0, 2}));
  // Most spans first; the requests.h resources are service "svc".
  EXPECT_EQ(t->services, (std::vector<ServiceTotals>{
                             {.name = "cart", .spans = 4, .error_spans = 1},
                             {.name = "checkout", .spans = 3, .error_spans = 2},
                             {.name = "svc", .data_points = 4, .log_records = 2},
                         }));
  EXPECT_EQ(t->source_requests, 4u);
  EXPECT_EQ(t->source_files, 3u);
}

TEST_F(TimelineTest, ALongSessionGetsWiderBucketsAndStaysSmall) {
  const uint64_t t0 = kT0 - kT0 % kSecond;
  // 10,000 s: 1 s buckets would be 10,001; 4 s buckets are 2,501 (the first power of two that fits).
  Write("long", {{t0, Signal::kTraces, Spans("a", 1, 0)},
                 {t0 + 5000 * kSecond, Signal::kTraces, Spans("a", 2, 0)},
                 {t0 + 10000 * kSecond, Signal::kTraces, Spans("a", 3, 0)}});
  absl::StatusOr<SessionTimeline> t = ComputeTimeline(*sessions_, "long");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->bucket_seconds, 4u);
  ASSERT_EQ(t->buckets(), 2501u);
  EXPECT_LE(t->buckets(), kMaxTimelineBuckets);
  EXPECT_EQ(t->spans[0], 1u);
  EXPECT_EQ(t->spans[1250], 2u);
  EXPECT_EQ(t->spans[2500], 3u);
  uint64_t total = 0;
  for (uint64_t n : t->spans) total += n;
  EXPECT_EQ(total, 6u);
}

TEST_F(TimelineTest, IsCachedBesideTheSessionAndRecomputedWhenTheSessionChanged) {
  Write("c", {{kT0, Signal::kTraces, Spans("a", 2, 0)}});
  absl::StatusOr<SessionTimeline> first = LoadTimeline(*sessions_, "c");
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::string> cached = store_->ReadAll(TimelineKey("c"));
  ASSERT_TRUE(cached.ok()) << cached.status();
  absl::StatusOr<SessionTimeline> parsed = ParseTimelineJson(*cached);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, *first);

  // The cache is what is read: a cache that says 99 spans (same source) is believed...
  SessionTimeline doctored = *first;
  doctored.spans[0] = 99;
  JsonWriter w;
  w.BeginObject();
  WriteTimelineFields(doctored, &w);
  w.EndObject();
  ASSERT_TRUE(store_->Put(TimelineKey("c"), w.Take()).ok());
  EXPECT_EQ(LoadTimeline(*sessions_, "c")->spans[0], 99u);

  // ...until the session is no longer the one it was computed from.
  absl::StatusOr<session::SessionMetadata> m = sessions_->Load("c");
  ASSERT_TRUE(m.ok());
  m->counts.uncompressed_bytes += 1;
  ASSERT_TRUE(sessions_->Save(*m).ok());
  EXPECT_EQ(LoadTimeline(*sessions_, "c")->spans[0], 2u);

  // A damaged cache is recomputed, not an error.
  ASSERT_TRUE(store_->Put(TimelineKey("c"), "{\"sessionId\": ").ok());
  EXPECT_EQ(LoadTimeline(*sessions_, "c")->spans[0], 2u);
  EXPECT_EQ(LoadTimeline(*sessions_, "missing").status().code(), absl::StatusCode::kNotFound);
}

// A timeline read while the session is deleted must not leave its cache behind as a folder that makes the
// deleted session exist again (a second delete then "succeeded" and the UI showed no 404).
TEST_F(TimelineTest, ASessionDeletedWhileItsTimelineIsReadStaysDeleted) {
  for (int i = 0; i < 300; ++i) {
    Write("d", {{kT0, Signal::kTraces, Spans("a", 2, 0)}});
    std::thread reader([&] { (void)LoadTimeline(*sessions_, "d"); });
    absl::Status deleted = sessions_->Delete("d");
    reader.join();
    ASSERT_TRUE(deleted.ok()) << "round " << i << ": " << deleted;
    EXPECT_EQ(sessions_->Delete("d").code(), absl::StatusCode::kNotFound) << "round " << i;
    absl::StatusOr<std::vector<store::ObjectInfo>> left = store_->List(session::SessionPrefix("d"));
    ASSERT_TRUE(left.ok()) << left.status();
    ASSERT_TRUE(left->empty()) << "round " << i << ": " << left->front().key << " is left";
  }
}

TEST(TimelineJsonTest, RefusesSeriesOfTheWrongLength) {
  EXPECT_FALSE(ParseTimelineJson(R"({"sessionId":"s","startUnixNano":0,"bucketSeconds":1,"buckets":2,"requests":[1],)"
                                 R"("spans":[1,2],"errorSpans":[0,0],"dataPoints":[0,0],"logRecords":[0,0],"services":[],)"
                                 R"("source":{"files":1,"requests":1,"uncompressedBytes":1}})")
                   .ok());
  EXPECT_FALSE(ParseTimelineJson("[]").ok());
}

}  // namespace
}  // namespace otelrr::training
