#include "otlp/wire.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "otlp/proto_writer.h"
#include "otlp/testing/proto_builder.h"
#include "otlp/testing/requests.h"

namespace otelrr::otlp {
namespace {

using Proto = testing::ProtoBuilder;
using testing::Attribute;
using testing::ServiceResource;

std::string Id(int size, char fill) { return std::string(static_cast<size_t>(size), fill); }

// A traces request: two resources (services "a" and "b", and a third "a" again), spans with events and
// links, unknown fields of every wire type sprinkled in.
std::string TracesRequest() {
  Proto span1;
  span1.Bytes(1, Id(16, '\x01'))
      .Bytes(2, Id(8, '\x02'))
      .Bytes(4, Id(8, '\x03'))
      .Bytes(5, "op")
      .Fixed64(7, 1000)
      .Fixed64(8, 2000)
      .Msg(11, Proto().Fixed64(1, 1500).Bytes(2, "event"))
      .Msg(13, Proto().Bytes(1, Id(16, '\x09')).Bytes(2, Id(8, '\x0a')))
      .Varint(99, 7)
      .Fixed32(98, 1)
      .Fixed64(97, 1)
      .Bytes(96, "unknown");
  Proto span2;
  span2.Bytes(1, Id(16, '\x04')).Bytes(2, "").Bytes(4, "").Fixed64(7, 0).Fixed64(8, 3000);
  Proto request;
  request.Msg(1, Proto().Msg(1, ServiceResource("a")).Msg(2, Proto().Msg(2, span1).Msg(2, span2)))
      .Msg(1, Proto().Msg(1, ServiceResource("b").Msg(1, Attribute("host", "h"))).Msg(2, Proto().Msg(2, Proto())))
      .Msg(1, Proto().Msg(1, ServiceResource("a")));
  return request.str();
}

TEST(SummarizeTest, CountsTracesRequest) {
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kTraces, TracesRequest());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->resources, 3u);
  EXPECT_EQ(s->spans, 3u);
  EXPECT_EQ(s->data_points, 0u);
  EXPECT_EQ(s->log_records, 0u);
  EXPECT_EQ(s->items(), 3u);
  EXPECT_EQ(s->service_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s->min_time_unix_nano, 1000u);  // the zero start time is not a time
  EXPECT_EQ(s->max_time_unix_nano, 3000u);
}

TEST(SummarizeTest, CountsEveryKindOfDataPoint) {
  Proto exemplar;
  exemplar.Fixed64(2, 50).Bytes(5, Id(16, '\x07')).Bytes(4, Id(8, '\x08'));
  Proto scope;
  scope.Msg(2, Proto().Msg(5, Proto().Msg(1, Proto().Fixed64(3, 100)).Msg(1, Proto().Fixed64(3, 200))))
      .Msg(2, Proto().Msg(7, Proto().Msg(1, Proto().Fixed64(2, 90).Fixed64(3, 300).Msg(5, exemplar))))
      .Msg(2, Proto().Msg(9, Proto().Msg(1, Proto().Fixed64(3, 400))))
      .Msg(2, Proto().Msg(10, Proto().Msg(1, Proto().Fixed64(3, 500))))
      .Msg(2, Proto().Msg(11, Proto().Msg(1, Proto().Fixed64(3, 600))))
      .Msg(2, Proto().Bytes(1, "no data"));
  std::string request = Proto().Msg(1, Proto().Msg(1, ServiceResource("m")).Msg(2, scope)).str();
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kMetrics, request);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->data_points, 6u);
  EXPECT_EQ(s->items(), 6u);
  EXPECT_EQ(s->min_time_unix_nano, 50u);  // the exemplar's time counts
  EXPECT_EQ(s->max_time_unix_nano, 600u);
  EXPECT_EQ(s->service_names, std::vector<std::string>{"m"});
}

TEST(SummarizeTest, CountsLogRecords) {
  Proto record;
  record.Fixed64(1, 0).Fixed64(11, 77).Varint(2, 9).Msg(5, Proto().Bytes(1, "hello"));
  std::string request =
      Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, record).Msg(2, Proto()).Msg(2, Proto().Fixed64(1, 88)))).str();
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kLogs, request);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->log_records, 3u);
  EXPECT_EQ(s->resources, 0u);
  EXPECT_TRUE(s->service_names.empty());
  EXPECT_EQ(s->min_time_unix_nano, 77u);
  EXPECT_EQ(s->max_time_unix_nano, 88u);
}

TEST(SummarizeTest, ServiceNameOnlyFromStringResourceAttributes) {
  Proto resource;
  resource.Msg(1, Proto().Bytes(1, "service.name").Msg(2, Proto().Varint(3, 5)))  // not a string
      .Msg(1, Proto().Bytes(1, "other").Msg(2, Proto().Bytes(1, "x")))
      .Msg(1, Proto().Msg(2, Proto().Bytes(1, "y")).Bytes(1, "service.name"));  // value before key
  Proto span;
  span.Msg(9, Attribute("service.name", "not-a-resource"));
  std::string request = Proto().Msg(1, Proto().Msg(1, resource).Msg(2, Proto().Msg(2, span))).str();
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kTraces, request);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->service_names, std::vector<std::string>{"y"});

  // A service.name inside a resource attribute's key-value list is not the resource's; a second resource
  // (another ResourceSpans, after a span's attributes) is read afresh; a name given twice is listed once.
  Proto nested;
  nested.Msg(1, Proto().Bytes(1, "config").Msg(2, Proto().Msg(6, Proto().Msg(1, Attribute("service.name", "inner")))));
  Proto second;
  second.Msg(1, Attribute("service.name", "z")).Msg(1, Attribute("service.name", "y"));
  request = Proto()
                .Msg(1, Proto().Msg(1, nested).Msg(2, Proto().Msg(2, span)))
                .Msg(1, Proto().Msg(1, resource).Msg(2, Proto().Msg(2, span)))
                .Msg(1, Proto().Msg(1, second))
                .str();
  s = Summarize(Signal::kTraces, request);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->service_names, (std::vector<std::string>{"y", "z"}));
  EXPECT_EQ(s->resources, 3u);
  EXPECT_EQ(s->spans, 2u);
}

TEST(SummarizeTest, EmptyRequestIsValid) {
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kLogs, "");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->items(), 0u);
  EXPECT_EQ(s->min_time_unix_nano, 0u);
  EXPECT_TRUE(Validate(Signal::kMetrics, "").ok());
}

TEST(SummarizeTest, SameBytesMeanDifferentThingsPerSignal) {
  // A traces request is not a valid logs request when field types disagree.
  std::string traces = TracesRequest();
  EXPECT_TRUE(Validate(Signal::kTraces, traces).ok());
  EXPECT_FALSE(Validate(Signal::kLogs, traces).ok());
}

TEST(LocateTest, FindsEveryTimestampAndIdOffset) {
  std::string request = TracesRequest();
  FieldLocations loc;
  loc.timestamps.push_back(12345);  // Locate starts afresh
  ASSERT_TRUE(Locate(Signal::kTraces, request, &loc).ok());
  const auto* base = reinterpret_cast<const uint8_t*>(request.data());
  std::vector<uint64_t> times;
  for (uint32_t off : loc.timestamps) times.push_back(LoadLE64(base + off));
  EXPECT_EQ(times, (std::vector<uint64_t>{1000, 2000, 1500, 0, 3000}));
  std::vector<std::string> traces;
  for (uint32_t off : loc.trace_ids) traces.emplace_back(request.substr(off, 16));
  EXPECT_EQ(traces, (std::vector<std::string>{Id(16, '\x01'), Id(16, '\x09'), Id(16, '\x04')}));
  std::vector<std::string> spans;
  for (uint32_t off : loc.span_ids) spans.emplace_back(request.substr(off, 8));
  // Empty span ids (span2's) are not listed.
  EXPECT_EQ(spans, (std::vector<std::string>{Id(8, '\x02'), Id(8, '\x03'), Id(8, '\x0a')}));
  EXPECT_EQ(loc.items, Summarize(Signal::kTraces, request)->items());
  EXPECT_GT(loc.items, 0u);

  // Patching in place: shift every timestamp by one second; the request stays valid.
  for (uint32_t off : loc.timestamps) {
    auto* p = reinterpret_cast<uint8_t*>(request.data()) + off;
    uint64_t t = LoadLE64(p);
    if (t != 0) StoreLE64(p, t + 1'000'000'000);
  }
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kTraces, request);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->min_time_unix_nano, 1'000'001'000u);
  EXPECT_EQ(s->max_time_unix_nano, 1'000'003'000u);
}

// Expects Locate to find `timestamps` timestamps in `request`, and one trace id and one span id, whose
// bytes are `trace_id` and `span_id`.
void ExpectLocated(Signal signal, const std::string& request, size_t timestamps, const std::string& trace_id,
                   const std::string& span_id) {
  SCOPED_TRACE(SignalName(signal));
  FieldLocations loc;
  ASSERT_TRUE(Locate(signal, request, &loc).ok());
  EXPECT_EQ(loc.timestamps.size(), timestamps);
  ASSERT_EQ(loc.trace_ids.size(), 1u);
  EXPECT_EQ(request.substr(loc.trace_ids[0], 16), trace_id);
  ASSERT_EQ(loc.span_ids.size(), 1u);
  EXPECT_EQ(request.substr(loc.span_ids[0], 8), span_id);
}

TEST(LocateTest, FindsLogAndExemplarFields) {
  Proto record;
  record.Fixed64(1, 5).Fixed64(11, 6).Bytes(9, Id(16, 'T')).Bytes(10, Id(8, 'S'));
  std::string logs = Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, record))).str();
  ExpectLocated(Signal::kLogs, logs, 2, Id(16, 'T'), Id(8, 'S'));

  Proto exemplar;
  exemplar.Fixed64(2, 9).Bytes(4, Id(8, 's')).Bytes(5, Id(16, 't'));
  std::string metrics =
      Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Msg(5, Proto().Msg(1, Proto().Fixed64(2, 1).Fixed64(3, 2).Msg(5, exemplar))))))
          .str();
  ExpectLocated(Signal::kMetrics, metrics, 3, Id(16, 't'), Id(8, 's'));
}

// ForEachTraceId, and Summarize's walk that collects the same ids, see the same ids in the same order.
std::vector<std::string> TraceIdsOf(Signal signal, std::string_view request) {
  std::vector<std::string> seen;
  EXPECT_TRUE(ForEachTraceId(signal, request, [&](const uint8_t* id) {
                seen.emplace_back(reinterpret_cast<const char*>(id), 16);
              }).ok());
  std::string fused = "kept";  // Summarize appends
  EXPECT_TRUE(Summarize(signal, request, &fused).ok());
  std::string joined = "kept";
  for (const std::string& id : seen) joined += id;
  EXPECT_EQ(fused, joined);
  return seen;
}

TEST(ForEachTraceIdTest, VisitsSpansLogsAndExemplarsButNotLinks) {
  // the link's '\x09' is skipped
  EXPECT_EQ(TraceIdsOf(Signal::kTraces, TracesRequest()), (std::vector<std::string>{Id(16, '\x01'), Id(16, '\x04')}));

  Proto records;
  records.Msg(2, Proto().Bytes(9, Id(16, 'L'))).Msg(2, Proto().Bytes(9, ""));
  EXPECT_EQ(TraceIdsOf(Signal::kLogs, Proto().Msg(1, Proto().Msg(2, records)).str()),
            std::vector<std::string>{Id(16, 'L')});

  Proto point;
  point.Msg(5, Proto().Bytes(5, Id(16, 'E'))).Msg(5, Proto().Bytes(5, Id(16, 'F')));
  std::string metrics = Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Msg(5, Proto().Msg(1, point))))).str();
  EXPECT_EQ(TraceIdsOf(Signal::kMetrics, metrics), (std::vector<std::string>{Id(16, 'E'), Id(16, 'F')}));

  EXPECT_FALSE(ForEachTraceId(Signal::kTraces, "\x0a\x05", [](const uint8_t*) {}).ok());
  // A refused request adds nothing, even the ids before the damage.
  std::string ids = "kept";
  std::string damaged = TracesRequest() + "\x0a\x05";
  EXPECT_FALSE(Summarize(Signal::kTraces, damaged, &ids).ok());
  EXPECT_EQ(ids, "kept");
}

TEST(WireTest, CountStoredItemsCountsWhatSummarizeCounts) {
  for (auto [signal, request] : {std::pair{Signal::kTraces, TracesRequest()},
                                 std::pair{Signal::kLogs, otlp::testing::LogsRequest(3, 7)},
                                 std::pair{Signal::kMetrics, otlp::testing::MetricsRequest(5)},
                                 std::pair{Signal::kTraces, otlp::testing::TraceRequest(9, 4)}}) {
    absl::StatusOr<RequestSummary> summary = Summarize(signal, request);
    ASSERT_TRUE(summary.ok()) << summary.status();
    absl::StatusOr<uint64_t> items = CountStoredItems(signal, request);
    ASSERT_TRUE(items.ok()) << items.status();
    EXPECT_EQ(*items, summary->items()) << SignalName(signal);
    EXPECT_GT(*items, 0u);
  }
}

TEST(WireTest, PackedAndUnpackedRepeatedScalarsAreBothAccepted) {
  std::string packed_counts;
  for (uint64_t v : {1, 2, 3}) AppendFixed64(&packed_counts, v);
  std::string packed_bounds;
  for (double v : {0.5, 1.5}) AppendFixed64(&packed_bounds, std::bit_cast<uint64_t>(v));
  std::string packed_varints;
  for (uint64_t v : {1, 300, 70000}) AppendVarint(&packed_varints, v);
  Proto point;
  point.Bytes(6, packed_counts).Fixed64(6, 4).Bytes(7, packed_bounds).Fixed64(7, 0).Bytes(6, "");
  Proto exp_point;
  exp_point.Msg(8, Proto().Bytes(2, packed_varints).Varint(2, 5)).Msg(9, Proto().Varint(2, 1));
  std::string request = Proto()
                            .Msg(1, Proto().Msg(2, Proto()
                                                        .Msg(2, Proto().Msg(9, Proto().Msg(1, point)))
                                                        .Msg(2, Proto().Msg(10, Proto().Msg(1, exp_point)))))
                            .str();
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kMetrics, request);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->data_points, 2u);
}

// Every malformed input is an InvalidArgument error that says where it went wrong.
struct MalformedCase {
  const char* name;
  Signal signal;
  std::string bytes;
  const char* message;  // a part of the expected error message
};

std::vector<MalformedCase> MalformedCases() {
  std::string valid = TracesRequest();
  std::string span_prefix = Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Bytes(5, "x")))).str();
  auto in_span = [](const Proto& span) { return Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, span))).str(); };
  auto in_point = [](const Proto& point) {
    return Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Msg(9, Proto().Msg(1, point))))).str();
  };
  return {
      {"truncated tag", Signal::kTraces, std::string("\x80", 1), "truncated field tag"},
      {"tag varint too long", Signal::kTraces, std::string(11, '\xff'), "truncated field tag"},
      {"truncated varint", Signal::kTraces, in_span(Proto().Raw(std::string("\x30\x80", 2))), "truncated varint"},
      {"varint longer than ten bytes", Signal::kTraces,
       in_span(Proto().Raw(std::string("\x30", 1) + std::string(10, '\x80') + std::string("\x01", 1))),
       "truncated varint"},
      {"truncated length", Signal::kTraces, std::string("\x0a", 1), "truncated length"},
      {"length past the end", Signal::kTraces, std::string("\x0a\x05\x12\x01", 4),
       "length runs past the end of the message"},
      {"huge length", Signal::kTraces, std::string("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10),
       "length runs past the end"},
      {"cut short", Signal::kTraces, valid.substr(0, valid.size() - 3), "length runs past the end"},
      {"truncated fixed64", Signal::kTraces, in_span(Proto().Raw(std::string("\x39\x01\x02\x03", 4))),
       "truncated fixed64 value"},
      {"truncated fixed32", Signal::kTraces, in_span(Proto().Raw(std::string("\x85\x01\x01", 3))),
       "truncated fixed32 value"},
      {"start group", Signal::kTraces, std::string("\x0b", 1), "unsupported wire type"},
      {"end group", Signal::kTraces, std::string("\x0c", 1), "unsupported wire type"},
      {"wire type 6", Signal::kTraces, std::string("\x0e", 1), "unsupported wire type"},
      {"wire type 7", Signal::kTraces, std::string("\x0f", 1), "unsupported wire type"},
      {"field number zero", Signal::kTraces, std::string("\x02\x00", 2), "invalid field number"},
      {"message as varint", Signal::kTraces, Proto().Varint(1, 1).str(), "has the wrong wire type"},
      {"string as varint", Signal::kTraces, in_span(Proto().Varint(5, 1)), "Span.name (5) has the wrong wire type"},
      {"timestamp as varint", Signal::kTraces, in_span(Proto().Varint(7, 1)),
       "Span.start_time_unix_nano (7) has the wrong wire type"},
      {"timestamp as fixed32", Signal::kTraces, in_span(Proto().Fixed32(7, 1)), "has the wrong wire type"},
      {"enum as fixed64", Signal::kTraces, in_span(Proto().Fixed64(6, 1)), "Span.kind (6) has the wrong wire type"},
      {"singular scalar packed", Signal::kTraces, in_span(Proto().Bytes(6, "\x01")), "has the wrong wire type"},
      {"trace id 15 bytes", Signal::kTraces, in_span(Proto().Bytes(1, Id(15, 'a'))), "is not 16 bytes long"},
      {"trace id 17 bytes", Signal::kTraces, in_span(Proto().Bytes(1, Id(17, 'a'))), "is not 16 bytes long"},
      {"span id 9 bytes", Signal::kTraces, in_span(Proto().Bytes(2, Id(9, 'a'))), "is not 8 bytes long"},
      {"parent span id 16 bytes", Signal::kTraces, in_span(Proto().Bytes(4, Id(16, 'a'))), "is not 8 bytes long"},
      {"link trace id", Signal::kTraces, in_span(Proto().Msg(13, Proto().Bytes(1, Id(8, 'a')))),
       "Link.trace_id (1) is not 16 bytes long"},
      {"log span id", Signal::kLogs,
       Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Bytes(10, Id(16, 'a'))))).str(),
       "LogRecord.span_id (10) is not 8 bytes long"},
      {"packed fixed64 not a multiple of 8", Signal::kMetrics, in_point(Proto().Bytes(6, Id(12, 'a'))),
       "holds a truncated packed value"},
      {"packed varint truncated", Signal::kMetrics,
       Proto()
           .Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Msg(10, Proto().Msg(1, Proto().Msg(8, Proto().Bytes(2, "\x01\x80"))))))).str(),
       "holds a truncated packed varint"},
      {"bad bytes after valid request", Signal::kTraces, valid + std::string("\x0a\x01", 2),
       "length runs past the end"},
      {"malformed inside unknown-free nesting", Signal::kTraces, span_prefix + std::string("\x0a\x02\x12\x05", 4),
       "length runs past the end"},
  };
}

TEST(WireTest, MalformedInputsAreErrorsThatSayWhere) {
  for (const MalformedCase& c : MalformedCases()) {
    SCOPED_TRACE(c.name);
    absl::Status v = Validate(c.signal, c.bytes);
    EXPECT_EQ(v.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(v.message()).find("malformed OTLP protobuf at byte "), std::string::npos) << v;
    EXPECT_NE(std::string(v.message()).find(c.message), std::string::npos) << v;
    // Every entry point agrees.
    EXPECT_FALSE(Summarize(c.signal, c.bytes).ok());
    FieldLocations loc;
    EXPECT_FALSE(Locate(c.signal, c.bytes, &loc).ok());
    EXPECT_FALSE(ForEachTraceId(c.signal, c.bytes, [](const uint8_t*) {}).ok());
  }
}

TEST(LocateTest, TrustedModeFindsTheSameAndSkipsOnlyAttributesResourcesAndScopes) {
  // Attributes everywhere, and every kind of located field.
  Proto span;
  span.Bytes(1, Id(16, '\x01')).Bytes(2, Id(8, '\x02')).Fixed64(7, 1000).Fixed64(8, 2000);
  span.Msg(9, Attribute("http.route", "/a"));
  span.Msg(11, Proto().Fixed64(1, 1500).Msg(3, Attribute("event.attr", "x")));
  span.Msg(13, Proto().Bytes(1, Id(16, '\x09')).Bytes(2, Id(8, '\x0a')).Msg(4, Attribute("link.attr", "y")));
  Proto resource;
  resource.Msg(1, Attribute("service.name", "cart"));
  std::string request =
      Proto().Msg(1, Proto().Msg(1, resource).Msg(2, Proto().Msg(1, Proto().Bytes(1, "scope")).Msg(2, span))).str();
  FieldLocations checked, trusted;
  ASSERT_TRUE(Locate(Signal::kTraces, request, &checked).ok());
  ASSERT_TRUE(Locate(Signal::kTraces, request, &trusted, LocateMode::kTrusted).ok());
  EXPECT_EQ(trusted.timestamps, checked.timestamps);
  EXPECT_EQ(trusted.trace_ids, checked.trace_ids);
  EXPECT_EQ(trusted.span_ids, checked.span_ids);
  EXPECT_EQ(trusted.items, checked.items);
  EXPECT_EQ(checked.timestamps.size(), 3u);

  // A malformed attribute value: refused when checked, skipped unread when trusted.
  Proto bad_span;
  bad_span.Fixed64(7, 1000).Msg(9, Proto().Bytes(1, "k").Bytes(2, std::string("\x0a\x09", 2)));
  std::string bad = Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, bad_span))).str();
  EXPECT_FALSE(Locate(Signal::kTraces, bad, &checked).ok());
  ASSERT_TRUE(Locate(Signal::kTraces, bad, &trusted, LocateMode::kTrusted).ok());
  EXPECT_EQ(trusted.timestamps.size(), 1u);
  // Malformed bytes where located fields live are still errors.
  for (const MalformedCase& c : MalformedCases()) {
    if (c.name == std::string("malformed inside unknown-free nesting")) continue;  // inside an attribute
    SCOPED_TRACE(c.name);
    FieldLocations loc;
    (void)Locate(c.signal, c.bytes, &loc, LocateMode::kTrusted);  // must not crash; offsets stay in range
    for (uint32_t off : loc.timestamps) EXPECT_LE(off + 8, c.bytes.size());
    for (uint32_t off : loc.trace_ids) EXPECT_LE(off + 16, c.bytes.size());
    for (uint32_t off : loc.span_ids) EXPECT_LE(off + 8, c.bytes.size());
  }
}

TEST(WireTest, ErrorNamesTheByteOffset) {
  absl::Status s = Validate(Signal::kTraces, Proto().Msg(1, Proto()).str() + std::string("\x08\x01", 2));
  EXPECT_EQ(s.message(),
            "malformed OTLP protobuf at byte 2: field ExportTraceServiceRequest.resource_spans (1) has the wrong "
            "wire type");
}

TEST(WireTest, UnknownFieldsOfEveryWireTypeAreSkipped) {
  Proto unknown;
  unknown.Varint(1000, ~uint64_t{0}).Fixed64(1001, 1).Fixed32(1002, 2).Bytes(1003, "\xff\xff garbage").Bytes(0x1fffffff, "");
  std::string request = Proto().Raw(unknown.str()).Msg(1, Proto().Raw(unknown.str()).Msg(2, Proto().Msg(2, Proto().Raw(unknown.str())))).str();
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kTraces, request);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->spans, 1u);
  // Field numbers above 2^29-1 do not exist.
  std::string too_big;
  AppendVarint(&too_big, (uint64_t{1} << 32) << 3);
  too_big.push_back('\x00');
  EXPECT_FALSE(Validate(Signal::kTraces, too_big).ok());
}

// A log body of AnyValues nested `levels` arrays deep: the innermost AnyValue sits at depth 4 + 2*levels.
std::string NestedBody(int levels) {
  Proto value;
  value.Varint(3, 1);
  for (int i = 0; i < levels; ++i) value = Proto().Msg(5, Proto().Msg(1, value));
  return Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Msg(5, value)))).str();
}

TEST(WireTest, NestingIsBounded) {
  int ok_levels = (kMaxNestingDepth - 4) / 2;
  EXPECT_TRUE(Validate(Signal::kLogs, NestedBody(ok_levels)).ok());
  absl::Status s = Validate(Signal::kLogs, NestedBody(ok_levels + 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("nested too deeply"), std::string::npos) << s;
  // Far deeper (a stack-exhaustion attempt) fails the same way, without recursing past the bound.
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep = Proto().Msg(5, Proto().Bytes(1, deep)).str();
  EXPECT_FALSE(Validate(Signal::kLogs, Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, Proto().Bytes(5, deep)))).str()).ok());
}

TEST(WireTest, VarintHelpers) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{16383}, uint64_t{16384},
                     uint64_t{1} << 35, ~uint64_t{0}}) {
    std::string s;
    AppendVarint(&s, v);
    EXPECT_EQ(s.size(), VarintSize(v));
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    uint64_t back = 0;
    ASSERT_TRUE(ReadVarint(p, p + s.size(), &back));
    EXPECT_EQ(back, v);
    EXPECT_EQ(p, reinterpret_cast<const uint8_t*>(s.data()) + s.size());
    if (s.size() > 1) {
      const auto* q = reinterpret_cast<const uint8_t*>(s.data());
      EXPECT_FALSE(ReadVarint(q, q + s.size() - 1, &back));
    }
  }
  uint8_t le[8];
  StoreLE64(le, 0x0102030405060708ull);
  EXPECT_EQ(le[0], 0x08);
  EXPECT_EQ(LoadLE64(le), 0x0102030405060708ull);
  EXPECT_EQ(LoadLE32(le), 0x05060708u);
}

TEST(ProtoWriterTest, LengthPrefixGrowsAsNeeded) {
  for (size_t n : {size_t{0}, size_t{127}, size_t{128}, size_t{16383}, size_t{16384}, size_t{3000000}}) {
    std::string out = "x";
    size_t prefix = BeginLengthDelimited(&out);
    out.append(n, 'a');
    EndLengthDelimited(&out, prefix);
    std::string expected = "x";
    AppendVarint(&expected, n);
    expected.append(n, 'a');
    EXPECT_EQ(out, expected) << n;
  }
}

}  // namespace
}  // namespace otelrr::otlp
