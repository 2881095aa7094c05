#include "otlp/rewrite.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "otlp/otlp_file.h"
#include "otlp/testing/proto_builder.h"
#include "otlp/wire.h"

namespace otelrr::otlp {
namespace {

using Proto = testing::ProtoBuilder;
using testing::Attribute;
using testing::ServiceResource;

constexpr uint64_t kMaxTime = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kT0 = 1'700'000'000'000'000'000;  // a plausible unix-nano time
constexpr int64_t kHour = 3'600'000'000'000;

std::string Id(int size, char fill) { return std::string(static_cast<size_t>(size), fill); }


// Locate's answer for a request it must accept.
FieldLocations Located(Signal signal, std::string_view request) {
  FieldLocations where;
  absl::Status s = Locate(signal, request, &where);
  EXPECT_TRUE(s.ok()) << s;
  return where;
}

// Locate + shift, on a copy.
std::string Shift(Signal signal, std::string request, int64_t delta) {
  ShiftTimestamps(&request, Located(signal, request), delta);
  return request;
}

std::string Remap(Signal signal, std::string request, uint64_t key) {
  RemapIds(&request, Located(signal, request), key);
  return request;
}

// ---- timestamps ----

// Every timestamp of a traces request (span start and end, event time), each non-zero one at t0 + an
// offset; unknown fixed64 fields and other 8-byte values that are not times must never move.
std::string TracesWithTimes(uint64_t t0) {
  Proto span;
  span.Bytes(1, Id(16, 'T'))
      .Bytes(2, Id(8, 'S'))
      .Fixed64(7, t0 + 10)
      .Fixed64(8, t0 + 20)
      .Msg(11, Proto().Fixed64(1, t0 + 15).Bytes(2, "event"))
      .Msg(11, Proto().Fixed64(1, 0).Bytes(2, "event without time"))
      .Fixed64(97, kT0)  // unknown field: not a timestamp
      .Msg(9, Proto().Bytes(1, "k").Msg(2, Proto().Fixed64(4, kT0)));  // a double attribute
  Proto unset;
  unset.Fixed64(7, 0).Fixed64(8, t0 + 30);
  return Proto().Msg(1, Proto().Msg(1, ServiceResource("a")).Msg(2, Proto().Msg(2, span).Msg(2, unset))).str();
}

// Start and time of every kind of data point, exemplar times, and 8-byte values that are not times
// (counts, sums, bounds) that must not move.
std::string MetricsWithTimes(uint64_t t0) {
  auto exemplar = [&](uint64_t t) { return Proto().Fixed64(2, t).Fixed64(3, kT0).Bytes(5, Id(16, 'E')); };
  Proto number;
  number.Fixed64(2, t0 + 1).Fixed64(3, t0 + 2).Fixed64(6, kT0).Msg(5, exemplar(t0 + 3)).Msg(5, exemplar(0));
  Proto histogram;
  histogram.Fixed64(2, t0 + 4).Fixed64(3, t0 + 5).Fixed64(4, kT0).Fixed64(6, kT0).Msg(8, exemplar(t0 + 6));
  Proto exp_histogram;
  exp_histogram.Fixed64(2, 0).Fixed64(3, t0 + 7).Fixed64(7, kT0).Msg(11, exemplar(t0 + 8));
  Proto summary;
  summary.Fixed64(2, t0 + 9).Fixed64(3, t0 + 10).Fixed64(4, kT0).Msg(6, Proto().Fixed64(2, kT0));
  Proto scope;
  scope.Msg(2, Proto().Bytes(1, "gauge").Msg(5, Proto().Msg(1, number)))
      .Msg(2, Proto().Bytes(1, "sum").Msg(7, Proto().Msg(1, number).Varint(2, 1)))
      .Msg(2, Proto().Bytes(1, "histogram").Msg(9, Proto().Msg(1, histogram)))
      .Msg(2, Proto().Bytes(1, "exp").Msg(10, Proto().Msg(1, exp_histogram)))
      .Msg(2, Proto().Bytes(1, "summary").Msg(11, Proto().Msg(1, summary)));
  return Proto().Msg(1, Proto().Msg(1, ServiceResource("m")).Msg(2, scope)).str();
}

std::string LogsWithTimes(uint64_t t0) {
  Proto records;
  records.Msg(2, Proto().Fixed64(1, t0 + 1).Fixed64(11, t0 + 2).Msg(5, Proto().Bytes(1, "body")))
      .Msg(2, Proto().Fixed64(1, 0).Fixed64(11, t0 + 3))
      .Msg(2, Proto().Fixed64(11, 0).Fixed64(1, t0 + 4).Fixed32(8, 1));
  return Proto().Msg(1, Proto().Msg(1, ServiceResource("l")).Msg(2, records)).str();
}

struct TimedCase {
  Signal signal;
  std::string (*build)(uint64_t t0);
  size_t timestamps;  // located, zero ones included
};

const TimedCase kTimedCases[] = {
    {Signal::kTraces, TracesWithTimes, 6},
    {Signal::kMetrics, MetricsWithTimes, 16},
    {Signal::kLogs, LogsWithTimes, 6},
};

TEST(ShiftTimestampsTest, EveryTimestampMovesByExactlyDeltaAndNothingElseChanges) {
  for (const TimedCase& c : kTimedCases) {
    SCOPED_TRACE(SignalName(c.signal));
    std::string original = c.build(kT0);
    FieldLocations where;
    ASSERT_TRUE(Locate(c.signal, original, &where).ok());
    EXPECT_EQ(where.timestamps.size(), c.timestamps);
    for (int64_t delta : {int64_t{1}, kHour, -kHour, int64_t{-1}}) {
      // The same request built with shifted times: byte for byte what the shift must give.
      EXPECT_EQ(Shift(c.signal, original, delta), c.build(kT0 + static_cast<uint64_t>(delta))) << delta;
    }
    EXPECT_EQ(Shift(c.signal, original, 0), original);
  }
}

TEST(ShiftTimestampsTest, SaturatesAndKeepsUnsetTimesUnset) {
  auto logs = [](uint64_t a, uint64_t b) {
    return Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Fixed64(1, a).Fixed64(11, b)))).str();
  };
  constexpr int64_t kMinDelta = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMaxDelta = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Shift(Signal::kLogs, logs(kMaxTime - 5, 0), 10), logs(kMaxTime, 0));
  EXPECT_EQ(Shift(Signal::kLogs, logs(kMaxTime - 5, 0), 5), logs(kMaxTime, 0));
  EXPECT_EQ(Shift(Signal::kLogs, logs(kMaxTime, 7), kMaxDelta), logs(kMaxTime, 7 + uint64_t{kMaxDelta}));
  // Below the epoch: 1, the earliest set time, never 0 (unset).
  EXPECT_EQ(Shift(Signal::kLogs, logs(5, 0), -10), logs(1, 0));
  EXPECT_EQ(Shift(Signal::kLogs, logs(5, 6), -5), logs(1, 1));
  EXPECT_EQ(Shift(Signal::kLogs, logs(kMaxTime, 1), kMinDelta), logs(kMaxTime - (uint64_t{1} << 63), 1));
  EXPECT_EQ(Shift(Signal::kLogs, logs(uint64_t{1} << 63, 0), kMinDelta), logs(1, 0));
  EXPECT_EQ(Shift(Signal::kLogs, logs((uint64_t{1} << 63) + 1, 0), kMinDelta), logs(1, 0));
  EXPECT_EQ(Shift(Signal::kLogs, logs((uint64_t{1} << 63) + 2, 0), kMinDelta), logs(2, 0));
}

TEST(ShiftTimestampsTest, IgnoresOffsetsPastTheEnd) {
  std::string request = LogsWithTimes(kT0);
  FieldLocations where;
  where.timestamps = {static_cast<uint32_t>(request.size() - 7), static_cast<uint32_t>(request.size()),
                      0xffffffffu};
  std::string copy = request;
  ShiftTimestamps(&copy, where, kHour);
  EXPECT_EQ(copy, request);
  EXPECT_EQ(MaxTimestamp(request, where), 0u);
}

TEST(MaxTimestampTest, IsTheLatestTimeOfAnyKind) {
  for (const TimedCase& c : kTimedCases) {
    SCOPED_TRACE(SignalName(c.signal));
    std::string request = c.build(kT0);
    FieldLocations where;
    ASSERT_TRUE(Locate(c.signal, request, &where).ok());
    absl::StatusOr<RequestSummary> summary = Summarize(c.signal, request);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(MaxTimestamp(request, where), summary->max_time_unix_nano);
  }
  FieldLocations where;
  ASSERT_TRUE(Locate(Signal::kTraces, TracesWithTimes(kT0), &where).ok());
  EXPECT_EQ(MaxTimestamp(TracesWithTimes(kT0), where), kT0 + 30);
  // The exp histogram's exemplar (t0 + 8) is not the latest: the summary's time (t0 + 10) is.
  ASSERT_TRUE(Locate(Signal::kMetrics, MetricsWithTimes(kT0), &where).ok());
  EXPECT_EQ(MaxTimestamp(MetricsWithTimes(kT0), where), kT0 + 10);
  // No timestamp, or only unset ones: 0.
  std::string unset = Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Fixed64(1, 0)))).str();
  ASSERT_TRUE(Locate(Signal::kLogs, unset, &where).ok());
  EXPECT_EQ(where.timestamps.size(), 1u);
  EXPECT_EQ(MaxTimestamp(unset, where), 0u);
  ASSERT_TRUE(Locate(Signal::kLogs, "", &where).ok());
  EXPECT_EQ(MaxTimestamp("", where), 0u);
}

TEST(ShiftTimestampsTest, CurrentModeMakesTheLatestTimeTheSendTime) {
  std::string request = MetricsWithTimes(kT0);
  FieldLocations where;
  ASSERT_TRUE(Locate(Signal::kMetrics, request, &where).ok());
  constexpr uint64_t kSendTime = kT0 + 5 * kHour;
  ShiftTimestamps(&request, where, static_cast<int64_t>(kSendTime - MaxTimestamp(request, where)));
  EXPECT_EQ(MaxTimestamp(request, where), kSendTime);
  EXPECT_EQ(request, MetricsWithTimes(kSendTime - 10));  // durations and spacing kept
}

// ---- ids ----

std::string SpanIdAfter(uint64_t key, std::string id) {
  RemapSpanId(key, reinterpret_cast<uint8_t*>(id.data()));
  return id;
}
std::string TraceIdAfter(uint64_t key, std::string id) {
  RemapTraceId(key, reinterpret_cast<uint8_t*>(id.data()));
  return id;
}

struct Ids {
  std::string trace = Id(16, '\x11');
  std::string other_trace = Id(16, '\x22');
  std::string root = Id(8, '\x01');
  std::string child = Id(8, '\x02');
  std::string other = Id(8, '\x03');
  std::string zero_trace = Id(16, '\0');
  std::string zero_span = Id(8, '\0');

  Ids Mapped(uint64_t key) const {
    Ids m;
    m.trace = TraceIdAfter(key, trace);
    m.other_trace = TraceIdAfter(key, other_trace);
    m.root = SpanIdAfter(key, root);
    m.child = SpanIdAfter(key, child);
    m.other = SpanIdAfter(key, other);
    m.zero_trace = TraceIdAfter(key, zero_trace);
    m.zero_span = SpanIdAfter(key, zero_span);
    return m;
  }
};

// A root span, its child, a span of another trace linking to the root, and a span with all-zero and
// empty ids.
std::string TracesWithIds(const Ids& ids) {
  Proto spans;
  spans.Msg(2, Proto().Bytes(1, ids.trace).Bytes(2, ids.root).Bytes(5, "root").Fixed64(7, kT0))
      .Msg(2, Proto().Bytes(1, ids.trace).Bytes(2, ids.child).Bytes(4, ids.root).Bytes(5, "child"))
      .Msg(2, Proto()
                  .Bytes(1, ids.other_trace)
                  .Bytes(2, ids.other)
                  .Msg(13, Proto().Bytes(1, ids.trace).Bytes(2, ids.root).Bytes(3, "k=v")))
      .Msg(2, Proto().Bytes(1, ids.zero_trace).Bytes(2, ids.zero_span).Bytes(4, "").Msg(13, Proto().Bytes(1, "")));
  return Proto().Msg(1, Proto().Msg(1, ServiceResource("a")).Msg(2, spans)).str();
}

std::string LogsWithIds(const Ids& ids) {
  Proto records;
  records.Msg(2, Proto().Bytes(9, ids.trace).Bytes(10, ids.child).Fixed64(1, kT0))
      .Msg(2, Proto().Bytes(9, ids.zero_trace).Bytes(10, ""));
  return Proto().Msg(1, Proto().Msg(2, records)).str();
}

std::string MetricsWithIds(const Ids& ids) {
  Proto point;
  point.Fixed64(3, kT0).Msg(5, Proto().Fixed64(2, kT0).Bytes(4, ids.root).Bytes(5, ids.trace));
  return Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Msg(5, Proto().Msg(1, point))))).str();
}

TEST(RemapIdsTest, SameIdsMapTogetherAcrossSpansLinksLogsAndExemplars) {
  const Ids original;
  for (uint64_t key : {uint64_t{1}, uint64_t{2}, uint64_t{0xdeadbeef}, ~uint64_t{0}}) {
    SCOPED_TRACE(key);
    const Ids mapped = original.Mapped(key);
    // Byte for byte: each id replaced by its image, nothing else touched.
    EXPECT_EQ(Remap(Signal::kTraces, TracesWithIds(original), key), TracesWithIds(mapped));
    EXPECT_EQ(Remap(Signal::kLogs, LogsWithIds(original), key), LogsWithIds(mapped));
    EXPECT_EQ(Remap(Signal::kMetrics, MetricsWithIds(original), key), MetricsWithIds(mapped));
    // The ids did change, distinct ones stay distinct, and the invalid (all-zero) ids stay invalid.
    EXPECT_NE(mapped.trace, original.trace);
    EXPECT_NE(mapped.other_trace, original.other_trace);
    EXPECT_NE(mapped.root, original.root);
    EXPECT_NE(mapped.trace, mapped.other_trace);
    EXPECT_EQ(std::set<std::string>({mapped.root, mapped.child, mapped.other}).size(), 3u);
    EXPECT_EQ(mapped.zero_trace, original.zero_trace);
    EXPECT_EQ(mapped.zero_span, original.zero_span);
  }
}

TEST(RemapIdsTest, KeysGiveDifferentIdsAndKeyZeroNone) {
  const Ids original;
  EXPECT_EQ(Remap(Signal::kTraces, TracesWithIds(original), 0), TracesWithIds(original));
  std::set<std::string> traces;
  std::set<std::string> spans;
  for (uint64_t key = 1; key <= 1000; ++key) {
    traces.insert(TraceIdAfter(key, original.trace));
    spans.insert(SpanIdAfter(key, original.root));
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(spans.size(), 1000u);
  // Remapping twice with one key is not the identity (the mapping is no involution), and two keys in
  // turn are not one key.
  std::string twice = Remap(Signal::kTraces, Remap(Signal::kTraces, TracesWithIds(original), 1), 1);
  EXPECT_NE(twice, TracesWithIds(original));
  EXPECT_NE(twice, Remap(Signal::kTraces, TracesWithIds(original), 1));
}

TEST(RemapIdsTest, IsInjectiveAndNeverProducesTheInvalidId) {
  // Sparse ids (one or two bits set, in either half) are where a weak mix collides or zeroes out.
  for (uint64_t key : {uint64_t{1}, uint64_t{0x9e3779b97f4a7c15}}) {
    std::set<std::string> span_images;
    std::set<std::string> trace_images;
    size_t inputs = 0;
    for (int i = 0; i < 64; ++i) {
      for (int j = i; j < 64; ++j) {
        uint64_t x = (uint64_t{1} << i) | (uint64_t{1} << j);
        std::string span(8, '\0');
        StoreLE64(reinterpret_cast<uint8_t*>(span.data()), x);
        span = SpanIdAfter(key, span);
        EXPECT_NE(span, Id(8, '\0'));
        span_images.insert(span);
        for (int half : {0, 8}) {
          std::string trace(16, '\0');
          StoreLE64(reinterpret_cast<uint8_t*>(trace.data()) + half, x);
          trace = TraceIdAfter(key, trace);
          EXPECT_NE(trace, Id(16, '\0'));
          trace_images.insert(trace);
        }
        ++inputs;
      }
    }
    EXPECT_EQ(span_images.size(), inputs);
    EXPECT_EQ(trace_images.size(), 2 * inputs);
  }
}

// ---- services ----

TEST(FilterServicesTest, KeepsExactlyTheListedServicesInOrder) {
  std::string a1 = Proto().Msg(1, ServiceResource("a")).Msg(2, Proto().Msg(2, Proto().Bytes(5, "a1"))).str();
  std::string b = Proto().Msg(1, ServiceResource("b")).Bytes(3, "https://schema").str();
  std::string no_resource = Proto().Msg(2, Proto().Msg(2, Proto().Bytes(5, "orphan"))).str();
  std::string no_name = Proto().Msg(1, Proto().Msg(1, Attribute("host.name", "a"))).str();
  std::string int_name =
      Proto().Msg(1, Proto().Msg(1, Proto().Bytes(1, "service.name").Msg(2, Proto().Varint(3, 7)))).str();
  // The resource in two parts (merged by protobuf), the name in the second.
  std::string c_split = Proto().Msg(1, Proto().Msg(1, Attribute("host.name", "h"))).Msg(1, ServiceResource("c")).str();
  // Two AnyValue parts merge; the oneof's last member wins: a string then an int is no string.
  Proto string_then_int_kv;
  string_then_int_kv.Bytes(1, "service.name").Msg(2, Proto().Bytes(1, "a")).Msg(2, Proto().Varint(3, 1));
  std::string string_then_int = Proto().Msg(1, Proto().Msg(1, string_then_int_kv)).str();
  std::string a2 = Proto().Msg(1, ServiceResource("a")).Varint(99, 5).str();
  std::string unknown_top = Proto().Bytes(15, "kept as is").str();
  std::string request = Proto()
                            .Bytes(1, a1)
                            .Bytes(1, b)
                            .Raw(unknown_top)
                            .Bytes(1, no_resource)
                            .Bytes(1, no_name)
                            .Bytes(1, int_name)
                            .Bytes(1, c_split)
                            .Bytes(1, string_then_int)
                            .Bytes(1, a2)
                            .str();
  std::string out = "stale";
  absl::StatusOr<bool> kept = FilterServices(Signal::kTraces, request, {"c", "a"}, &out);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_TRUE(*kept);
  EXPECT_EQ(out, Proto().Bytes(1, a1).Raw(unknown_top).Bytes(1, c_split).Bytes(1, a2).str());

  ASSERT_TRUE(FilterServices(Signal::kTraces, request, {"b"}, &out).ok());
  EXPECT_EQ(out, Proto().Bytes(1, b).Raw(unknown_top).str());

  // Nothing listed is left: false, and the caller drops the request.
  kept = FilterServices(Signal::kTraces, request, {"zzz", ""}, &out);
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(*kept);
  EXPECT_EQ(out, unknown_top);
  kept = FilterServices(Signal::kTraces, "", {"a"}, &out);
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(*kept);
  EXPECT_EQ(out, "");
}

TEST(FilterServicesTest, WorksForMetricsAndLogs) {
  std::string m = Proto().Msg(1, ServiceResource("m")).Msg(2, Proto().Msg(2, Proto().Bytes(1, "cpu"))).str();
  std::string n = Proto().Msg(1, ServiceResource("n")).Msg(2, Proto().Msg(2, Proto().Bytes(1, "mem"))).str();
  std::string out;
  absl::StatusOr<bool> kept = FilterServices(Signal::kMetrics, Proto().Bytes(1, m).Bytes(1, n).str(), {"n"}, &out);
  ASSERT_TRUE(kept.ok() && *kept);
  EXPECT_EQ(out, Proto().Bytes(1, n).str());

  std::string l = Proto().Msg(1, ServiceResource("")).Msg(2, Proto().Msg(2, Proto().Fixed64(1, kT0))).str();
  std::string k = Proto().Msg(1, ServiceResource("k")).Msg(2, Proto().Msg(2, Proto().Fixed64(1, kT0))).str();
  kept = FilterServices(Signal::kLogs, Proto().Bytes(1, l).Bytes(1, k).str(), {""}, &out);
  ASSERT_TRUE(kept.ok() && *kept);  // the empty name is a name
  EXPECT_EQ(out, Proto().Bytes(1, l).str());
  EXPECT_TRUE(Summarize(Signal::kLogs, out).ok());
}

TEST(FilterServicesTest, MalformedInputIsAnError) {
  std::string out = "untouched";
  const std::string bad_cases[] = {
      std::string("\x0a\x05\x0a", 3),                                                  // length past the end
      Proto().Msg(1, Proto().Msg(1, Proto().Varint(1, 3))).str(),                     // attributes as varint
      Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Bytes(1, Id(3, 'x'))))).str(),  // short trace id
      std::string("\x0b", 1),                                                          // a group
  };
  for (const std::string& bad : bad_cases) {
    absl::StatusOr<bool> kept = FilterServices(Signal::kTraces, bad, {"a"}, &out);
    EXPECT_EQ(kept.status().code(), absl::StatusCode::kInvalidArgument) << kept.status();
  }
  EXPECT_EQ(out, "untouched");
  // Valid traces bytes are not necessarily a valid logs request.
  std::string traces = TracesWithTimes(kT0);
  EXPECT_EQ(FilterServices(Signal::kLogs, traces, {"a"}, &out).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KeepItemsInWindowsTest, KeepsItemsByTheirOwnTimeAndDropsWhatIsLeftEmpty) {
  const std::vector<TimeWindow> windows = {{100, 200}, {300, 400}};
  auto span = [](uint64_t start) { return Proto().Bytes(5, "s").Fixed64(7, start).Fixed64(8, start + 1000).str(); };
  // Scope 1 keeps its spans at 100 (a window's start) and 399; 200 (its end), 99 and 250 go. Scope 2 keeps
  // nothing and goes; its resource keeps the first scope and its unknown field.
  const std::string scope1 = Proto()
                                 .Msg(1, Proto().Bytes(1, "scope"))
                                 .Bytes(2, span(99))
                                 .Bytes(2, span(100))
                                 .Bytes(2, span(200))
                                 .Bytes(2, span(399))
                                 .Bytes(3, "https://schema")
                                 .str();
  const std::string scope2 = Proto().Bytes(2, span(250)).str();
  const std::string request =
      Proto().Msg(1, Proto().Msg(1, ServiceResource("a")).Bytes(2, scope1).Bytes(2, scope2).Varint(99, 1)).str();
  std::string out = "stale";
  absl::StatusOr<uint64_t> kept = KeepItemsInWindows(Signal::kTraces, request, windows, &out);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, 2u);
  const std::string kept_scope = Proto()
                                     .Msg(1, Proto().Bytes(1, "scope"))
                                     .Bytes(2, span(100))
                                     .Bytes(2, span(399))
                                     .Bytes(3, "https://schema")
                                     .str();
  EXPECT_EQ(out, Proto().Msg(1, Proto().Msg(1, ServiceResource("a")).Bytes(2, kept_scope).Varint(99, 1)).str());
  EXPECT_TRUE(Summarize(Signal::kTraces, out).ok());

  // Nothing in the windows: 0 items, and no resource left.
  kept = KeepItemsInWindows(Signal::kTraces, Proto().Msg(1, Proto().Bytes(2, scope2)).str(), windows, &out);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, 0u);
  EXPECT_EQ(out, "");
}

TEST(KeepItemsInWindowsTest, MetricPointsAndLogRecords) {
  const std::vector<TimeWindow> windows = {{100, 200}};
  auto point = [](uint64_t t) { return Proto().Fixed64(3, t).Fixed64(6, 1).str(); };
  // A sum keeps its temporality with its kept point; a gauge whose points all go is dropped with its metric.
  const std::string sum = Proto().Bytes(1, point(150)).Bytes(1, point(250)).Varint(2, 2).str();
  const std::string gauge = Proto().Bytes(1, point(50)).str();
  const std::string m1 = Proto().Bytes(1, "requests").Bytes(7, sum).str();
  const std::string m2 = Proto().Bytes(1, "cpu").Bytes(5, gauge).str();
  const std::string request = Proto().Msg(1, Proto().Msg(2, Proto().Bytes(2, m1).Bytes(2, m2))).str();
  std::string out;
  absl::StatusOr<uint64_t> kept = KeepItemsInWindows(Signal::kMetrics, request, windows, &out);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, 1u);
  const std::string kept_m1 =
      Proto().Bytes(1, "requests").Bytes(7, Proto().Bytes(1, point(150)).Varint(2, 2).str()).str();
  EXPECT_EQ(out, Proto().Msg(1, Proto().Msg(2, Proto().Bytes(2, kept_m1))).str());

  // A log record's time decides; when it is unset, its observed time does.
  auto log = [](uint64_t time, uint64_t observed) { return Proto().Fixed64(1, time).Fixed64(11, observed).str(); };
  const std::string logs = Proto()
                               .Msg(1, Proto().Msg(2, Proto()
                                                          .Bytes(2, log(150, 500))
                                                          .Bytes(2, log(0, 150))
                                                          .Bytes(2, log(500, 150))
                                                          .Bytes(2, log(0, 0))))
                               .str();
  kept = KeepItemsInWindows(Signal::kLogs, logs, windows, &out);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, 2u);
  EXPECT_EQ(out, Proto().Msg(1, Proto().Msg(2, Proto().Bytes(2, log(150, 500)).Bytes(2, log(0, 150)))).str());
}

TEST(KeepItemsInWindowsTest, AllItemsInWindowsSaysWhenTheRequestWouldBeKeptAsItIs) {
  auto span = [](uint64_t start) { return Proto().Bytes(5, "s").Fixed64(7, start).str(); };
  const std::string traces =
      Proto()
          .Msg(1, Proto().Msg(1, ServiceResource("a")).Bytes(2, Proto().Bytes(2, span(150)).Bytes(2, span(399)).str()))
          .Msg(1, Proto().Bytes(2, Proto().Bytes(2, span(120)).str()))
          .str();
  const std::vector<TimeWindow> both = {{100, 200}, {300, 400}};
  absl::StatusOr<std::optional<uint64_t>> all = AllItemsInWindows(Signal::kTraces, traces, both);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, 3u);
  std::string out;
  ASSERT_EQ(*KeepItemsInWindows(Signal::kTraces, traces, both, &out), 3u);
  EXPECT_EQ(out, traces);  // what the caller skips copying
  const std::vector<TimeWindow> first = {{100, 200}};
  all = AllItemsInWindows(Signal::kTraces, traces, first);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(*all);

  auto point = [](uint64_t t) { return Proto().Fixed64(3, t).Fixed64(6, 1).str(); };
  const std::string metrics =
      Proto()
          .Msg(1, Proto().Msg(2, Proto().Bytes(2, Proto().Bytes(1, "m").Bytes(9, Proto().Bytes(1, point(150)).Bytes(
                                                                                  1, point(160)).str()).str())))
          .str();
  all = AllItemsInWindows(Signal::kMetrics, metrics, first);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 2u);
  all = AllItemsInWindows(Signal::kMetrics, metrics, std::vector<TimeWindow>{{155, 200}});
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(*all);
  auto log = [](uint64_t time, uint64_t observed) { return Proto().Fixed64(1, time).Fixed64(11, observed).str(); };
  const std::string logs = Proto().Msg(1, Proto().Msg(2, Proto().Bytes(2, log(0, 150)).Bytes(2, log(199, 0)))).str();
  all = AllItemsInWindows(Signal::kLogs, logs, first);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 2u);
  EXPECT_FALSE(AllItemsInWindows(Signal::kTraces, std::string("\x0a\x05\x0a", 3), first).ok());
}

TEST(KeepItemsInWindowsTest, MalformedInputIsAnError) {
  std::string out = "x";
  const std::vector<TimeWindow> windows = {{0, kMaxTime}};
  absl::StatusOr<uint64_t> kept = KeepItemsInWindows(Signal::kTraces, std::string("\x0a\x05\x0a", 3), windows, &out);
  EXPECT_EQ(kept.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out, "");
}

// ---- shards ----

// The spans (by trace id byte 15), log records (trace id or none) and points of `request` kept by shard k.
uint64_t Count(Signal signal, const std::string& request, uint32_t k, uint32_t n, std::string* out) {
  absl::StatusOr<uint64_t> kept = KeepItemsOfShard(signal, request, k, n, out);
  EXPECT_TRUE(kept.ok()) << kept.status();
  return kept.ok() ? *kept : 0;
}

std::string Tid(uint8_t b) {
  std::string id(16, '\x11');
  id[15] = static_cast<char>(b);
  return id;
}

TEST(KeepItemsOfShardTest, EveryItemGoesToExactlyOneShardAndTracesStayWhole) {
  // 64 traces of 3 spans each, spread over two resources, and logs with and without trace ids.
  Proto scope_a, scope_b, logs_scope;
  for (int t = 0; t < 64; ++t) {
    for (int s = 0; s < 3; ++s) {
      Proto span = Proto().Bytes(1, Tid(static_cast<uint8_t>(t))).Bytes(2, std::string(8, static_cast<char>(s + 1)));
      ((t + s) % 2 == 0 ? scope_a : scope_b).Msg(2, span);
    }
    logs_scope.Msg(2, Proto().Fixed64(1, 5).Bytes(9, Tid(static_cast<uint8_t>(t))));
    logs_scope.Msg(2, Proto().Fixed64(1, 6));  // no trace: goes by its resource
  }
  const std::string traces = Proto()
                                 .Msg(1, Proto().Msg(1, ServiceResource("a")).Msg(2, scope_a))
                                 .Msg(1, Proto().Msg(1, ServiceResource("b")).Msg(2, scope_b))
                                 .str();
  const std::string logs = Proto().Msg(1, Proto().Msg(1, ServiceResource("a")).Msg(2, logs_scope)).str();
  for (uint32_t n : {1u, 2u, 4u, 7u}) {
    uint64_t spans = 0, records = 0;
    std::set<uint32_t> shards_with_untraced_logs;
    for (uint32_t k = 0; k < n; ++k) {
      std::string out;
      spans += Count(Signal::kTraces, traces, k, n, &out);
      // Every span kept is of a trace of this shard, so each trace's spans all come from one shard.
      ASSERT_TRUE(ForEachTraceId(Signal::kTraces, out, [&](const uint8_t* id) {
                    EXPECT_EQ(ShardOfTraceId(std::string_view(reinterpret_cast<const char*>(id), 16), n), k);
                  }).ok());
      ASSERT_TRUE(Validate(Signal::kTraces, out).ok() || out.empty());
      const uint64_t r = Count(Signal::kLogs, logs, k, n, &out);
      records += r;
      ASSERT_TRUE(Summarize(Signal::kLogs, out).ok() || out.empty());
      absl::StatusOr<RequestSummary> summary = Summarize(Signal::kLogs, out);
      if (r > 0 && summary.ok() && summary->items() > 0) {
        // The 64 untraced records share a resource: all in one shard.
        uint64_t traced = 0;
        ASSERT_TRUE(ForEachTraceId(Signal::kLogs, out, [&](const uint8_t*) { ++traced; }).ok());
        if (r > traced) shards_with_untraced_logs.insert(k);
        if (r > traced) {
          EXPECT_EQ(r - traced, 64u);
        }
      }
    }
    EXPECT_EQ(spans, 64u * 3) << n;
    EXPECT_EQ(records, 128u) << n;
    EXPECT_EQ(shards_with_untraced_logs.size(), 1u) << n;
  }
}

TEST(KeepItemsOfShardTest, APointSeriesStaysOnOneShard) {
  // Two series of a sum (attributes core=0 and core=1), 20 points each, in two requests.
  auto point = [](uint64_t t, std::string_view core) {
    return Proto().Fixed64(3, t).Fixed64(6, 1).Msg(7, Attribute("core", core)).str();
  };
  std::set<uint32_t> shard_of_series[2];
  for (int req = 0; req < 2; ++req) {
    Proto sum;
    for (uint64_t t = 0; t < 10; ++t) {
      sum.Bytes(1, point(req * 10 + t, "0")).Bytes(1, point(req * 10 + t, "1"));
    }
    const std::string m = Proto().Bytes(1, "cpu.time").Bytes(7, sum.Varint(2, 2).str()).str();
    const std::string request = Proto().Msg(1, Proto().Msg(1, ServiceResource("host")).Msg(2, Proto().Bytes(2, m))).str();
    uint64_t total = 0;
    for (uint32_t k = 0; k < 5; ++k) {
      std::string out;
      const uint64_t kept = Count(Signal::kMetrics, request, k, 5, &out);
      total += kept;
      if (kept == 0) continue;
      if (out.find(std::string("\x0a\x01") + "0") != std::string::npos) shard_of_series[0].insert(k);
      if (out.find(std::string("\x0a\x01") + "1") != std::string::npos) shard_of_series[1].insert(k);
      EXPECT_EQ(kept % 10, 0u);  // whole series only
    }
    EXPECT_EQ(total, 20u);
  }
  EXPECT_EQ(shard_of_series[0].size(), 1u);
  EXPECT_EQ(shard_of_series[1].size(), 1u);
}

// ---- real data from other projects ----

// The recordings of other projects: $OTELRR_TESTDATA, else testdata/otlp of the shared folder beside the repository.
std::string TestdataDir() {
  if (const char* dir = std::getenv("OTELRR_TESTDATA"); dir != nullptr && *dir != '\0') return dir;
  return std::string(OTELRR_SOURCE_DIR) + "/../shared/testdata/otlp";
}

TEST(RewriteRealDataTest, ShiftRoundTripsAndEveryRewriteStaysValid) {
  int messages = 0;
  std::set<std::string> refused;
  for (const char* dir : {"traces", "metrics", "logs"}) {
    for (const auto& entry : std::filesystem::directory_iterator(TestdataDir() + "/" + dir)) {
      std::string name = std::string(dir) + "/" + entry.path().filename().string();
      SCOPED_TRACE(name);
      absl::StatusOr<std::unique_ptr<OtlpFileReader>> reader = OtlpFileReader::Open(entry.path().string(), {});
      ASSERT_TRUE(reader.ok()) << reader.status();
      OtlpFileMessage m;
      while (true) {
        absl::StatusOr<bool> more = (*reader)->Next(&m);
        if (!more.ok()) {
          refused.insert(name);
          break;
        }
        if (!*more) break;
        ++messages;
        const std::string& original = m.payload;
        absl::StatusOr<RequestSummary> before = Summarize(m.signal, original);
        ASSERT_TRUE(before.ok()) << before.status();
        FieldLocations where;
        ASSERT_TRUE(Locate(m.signal, original, &where).ok());
        EXPECT_EQ(MaxTimestamp(original, where), before->max_time_unix_nano);

        // +d then -d (or -d then +d where +d would saturate) gives the original bytes back.
        std::string shifted = original;
        int64_t first = before->max_time_unix_nano <= kMaxTime - kHour ? kHour : -kHour;
        ShiftTimestamps(&shifted, where, first);
        absl::StatusOr<RequestSummary> after = Summarize(m.signal, shifted);
        ASSERT_TRUE(after.ok()) << after.status();
        if (before->min_time_unix_nano != 0) {
          EXPECT_EQ(after->min_time_unix_nano, before->min_time_unix_nano + static_cast<uint64_t>(first));
          EXPECT_EQ(after->max_time_unix_nano, before->max_time_unix_nano + static_cast<uint64_t>(first));
        }
        ShiftTimestamps(&shifted, where, -first);
        EXPECT_EQ(shifted, original);

        // Ids: the same counts, the same number of distinct traces, and no id left in place.
        std::string remapped = original;
        RemapIds(&remapped, where, 42);
        after = Summarize(m.signal, remapped);
        ASSERT_TRUE(after.ok()) << after.status();
        EXPECT_EQ(after->items(), before->items());
        std::set<std::string> traces_before, traces_after;
        auto collect = [](std::set<std::string>* into) {
          return [into](const uint8_t* id) { into->emplace(reinterpret_cast<const char*>(id), 16); };
        };
        ASSERT_TRUE(ForEachTraceId(m.signal, original, collect(&traces_before)).ok());
        ASSERT_TRUE(ForEachTraceId(m.signal, remapped, collect(&traces_after)).ok());
        EXPECT_EQ(traces_before.size(), traces_after.size());
        for (uint32_t offset : where.trace_ids) {
          if (original.substr(offset, 16) != Id(16, '\0')) {
            EXPECT_NE(remapped.substr(offset, 16), original.substr(offset, 16)) << offset;
          }
        }

        // Services: keeping each one in turn keeps exactly its resources; all of them together keep
        // every resource that has a name.
        for (const std::string& service : before->service_names) {
          std::string kept;
          absl::StatusOr<bool> any = FilterServices(m.signal, original, {service}, &kept);
          ASSERT_TRUE(any.ok()) << any.status();
          EXPECT_TRUE(*any);
          absl::StatusOr<RequestSummary> only = Summarize(m.signal, kept);
          ASSERT_TRUE(only.ok()) << only.status();
          EXPECT_EQ(only->service_names, std::vector<std::string>{service});
        }
        std::string kept;
        absl::StatusOr<bool> any = FilterServices(m.signal, original, before->service_names, &kept);
        ASSERT_TRUE(any.ok()) << any.status();
        EXPECT_EQ(*any, !before->service_names.empty());
        if (before->resources != 0 && any.ok()) {
          absl::StatusOr<RequestSummary> all = Summarize(m.signal, kept);
          ASSERT_TRUE(all.ok());
          EXPECT_EQ(all->service_names, before->service_names);
          EXPECT_LE(all->items(), before->items());
        }
      }
    }
  }
  EXPECT_EQ(refused, std::set<std::string>{});  // every file is read, the base64 ids too
  EXPECT_GT(messages, 700);
}

}  // namespace
}  // namespace otelrr::otlp
