#include "otlp/json.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fmt/format.h"
#include "otlp/proto_writer.h"
#include "otlp/testing/proto_builder.h"
#include "otlp/schema.h"
#include "otlp/wire.h"

namespace otelrr::otlp {
namespace {

// A substring matcher for std::string and absl::string_view alike (the build has no gmock):
//   EXPECT_MATCH(status.message(), HasSubstr("traceId"));
struct HasSubstr {
  std::string_view needle;
  template <typename Text>
  ::testing::AssertionResult operator()(const Text& text) const {
    std::string_view haystack(text.data(), text.size());
    if (haystack.find(needle) != std::string_view::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "\"" << haystack << "\" does not contain \"" << needle << "\"";
  }
};
#define EXPECT_MATCH(value, matcher) EXPECT_TRUE((matcher)(value))

using Proto = testing::ProtoBuilder;

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

const std::string kTraceIdHex = "5b8efff798038103d269b633813fc60c";
const std::string kSpanIdHex = "eee19b7ec3c1b174";

class JsonCodecTest : public ::testing::Test {
 protected:
  std::string ToProto(Signal signal, std::string_view json) {
    std::string out;
    absl::Status s = codec_.JsonToProto(signal, json, &out);
    EXPECT_TRUE(s.ok()) << s << "\n" << json;
    return out;
  }
  std::string ToJson(Signal signal, std::string_view proto) {
    std::string out;
    absl::Status s = codec_.ProtoToJson(signal, proto, &out);
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }
  absl::Status JsonError(Signal signal, std::string_view json) {
    std::string out = "prefix";
    absl::Status s = codec_.JsonToProto(signal, json, &out);
    EXPECT_EQ(out, "prefix") << "a failed conversion must leave the output as it was";
    return s;
  }
  // JSON -> protobuf -> JSON, the canonical (strict) form of a document.
  std::string Canonical(Signal signal, std::string_view json) { return ToJson(signal, ToProto(signal, json)); }

  // Wraps one span (JSON object text) into a traces request.
  static std::string SpanRequest(std::string_view span) {
    return "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" + std::string(span) + "]}]}]}";
  }
  static std::string LogRequest(std::string_view record) {
    return "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[" + std::string(record) + "]}]}]}";
  }
  static std::string MetricRequest(std::string_view metric) {
    return "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[" + std::string(metric) + "]}]}]}";
  }
  // The protobuf of a traces request holding `span` in one resource and scope.
  static std::string SpanRequestProto(const Proto& span) {
    return Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, span))).str();
  }
  static std::string LogRequestProto(const Proto& record) {
    return Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, record))).str();
  }
  static std::string MetricRequestProto(const Proto& metric) {
    return Proto().Msg(1, Proto().Msg(2, Proto().Msg(2, metric))).str();
  }

  JsonCodec codec_;
};

// ---- JSON -> protobuf: exact bytes ----

TEST_F(JsonCodecTest, SpanEncodesToExactProtobufInFieldNumberOrder) {
  std::string json = SpanRequest(R"({"flags":257,"name":"GET /","spanId":")" + kSpanIdHex + R"(","traceId":")" +
                                 kTraceIdHex + R"(","kind":2,"startTimeUnixNano":"1700000000000000000",)"
                                 R"("endTimeUnixNano":"1700000000000000123","droppedAttributesCount":3,)"
                                 R"("status":{"code":2,"message":"boom"}})");
  Proto span;
  span.Bytes(1, Unhex(kTraceIdHex))
      .Bytes(2, Unhex(kSpanIdHex))
      .Bytes(5, "GET /")
      .Varint(6, 2)
      .Fixed64(7, 1700000000000000000ull)
      .Fixed64(8, 1700000000000000123ull)
      .Varint(10, 3)
      .Msg(15, Proto().Bytes(2, "boom").Varint(3, 2))
      .Fixed32(16, 257);
  EXPECT_EQ(Hex(ToProto(Signal::kTraces, json)), Hex(SpanRequestProto(span)));
}

TEST_F(JsonCodecTest, AppendsToOutput) {
  std::string out = "abc";
  ASSERT_TRUE(codec_.JsonToProto(Signal::kTraces, R"({"resourceSpans":[{}]})", &out).ok());
  EXPECT_EQ(Hex(out), Hex("abc" + Proto().Msg(1, Proto()).str()));
  out = "[";
  ASSERT_TRUE(codec_.ProtoToJson(Signal::kTraces, Proto().Msg(1, Proto()).str(), &out).ok());
  EXPECT_EQ(out, R"([{"resourceSpans":[{}]})");
}

TEST_F(JsonCodecTest, SnakeCaseAndLegacyKeysGiveTheSameBytes) {
  std::string camel = R"({"resourceMetrics":[{"schemaUrl":"s","scopeMetrics":[{"scope":{"name":"lib"},)"
                      R"("metrics":[{"name":"m","sum":{"aggregationTemporality":1,"isMonotonic":true,)"
                      R"("dataPoints":[{"timeUnixNano":"5","asInt":"7"}]}}]}]}]})";
  std::string snake = R"({"resource_metrics":[{"schema_url":"s","scope_metrics":[{"scope":{"name":"lib"},)"
                      R"("metrics":[{"name":"m","sum":{"aggregation_temporality":1,"is_monotonic":true,)"
                      R"("data_points":[{"time_unix_nano":"5","as_int":"7"}]}}]}]}]})";
  std::string legacy = R"({"resourceMetrics":[{"schemaUrl":"s","instrumentationLibraryMetrics":[{)"
                       R"("instrumentationLibrary":{"name":"lib"},"metrics":[{"name":"m","sum":{)"
                       R"("aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA","isMonotonic":true,)"
                       R"("dataPoints":[{"timeUnixNano":5,"asInt":7}]}}]}]}]})";
  std::string legacy_snake = R"({"resourceMetrics":[{"schemaUrl":"s","instrumentation_library_metrics":[{)"
                             R"("instrumentation_library":{"name":"lib"},"metrics":[{"name":"m","sum":{)"
                             R"("aggregationTemporality":1,"isMonotonic":true,)"
                             R"("dataPoints":[{"timeUnixNano":"5","asInt":"7"}]}}]}]}]})";
  std::string expected = ToProto(Signal::kMetrics, camel);
  EXPECT_EQ(Hex(ToProto(Signal::kMetrics, snake)), Hex(expected));
  EXPECT_EQ(Hex(ToProto(Signal::kMetrics, legacy)), Hex(expected));
  EXPECT_EQ(Hex(ToProto(Signal::kMetrics, legacy_snake)), Hex(expected));
  EXPECT_EQ(ToJson(Signal::kMetrics, expected),
            R"({"resourceMetrics":[{"scopeMetrics":[{"scope":{"name":"lib"},"metrics":[{"name":"m","sum":{)"
            R"("dataPoints":[{"timeUnixNano":"5","asInt":"7"}],"aggregationTemporality":1,"isMonotonic":true}}]}],)"
            R"("schemaUrl":"s"}]})");
}

TEST_F(JsonCodecTest, UnknownKeysAndNullsAreIgnored) {
  std::string json = SpanRequest(R"({"name":"x","whatever":{"deep":[1,2,{"a":null}]},"traceId":null,)"
                                 R"("kind":null,"attributes":null,"status":null,"spanId":")" +
                                 kSpanIdHex + R"("})");
  EXPECT_EQ(Hex(ToProto(Signal::kTraces, json)),
            Hex(SpanRequestProto(Proto().Bytes(2, Unhex(kSpanIdHex)).Bytes(5, "x"))));
}

TEST_F(JsonCodecTest, RepeatedKeysAndOneofMembersLastOneWins) {
  // A singular field given twice (in two spellings here): only the last value is written.
  std::string proto = ToProto(Signal::kTraces, SpanRequest(R"({"name":"a","status":{"code":1},"name":"b",)"
                                                           R"("status":{"message":"m"},"trace_id":"",)"
                                                           R"("traceId":")" + kTraceIdHex + R"("})"));
  EXPECT_EQ(Hex(proto),
            Hex(SpanRequestProto(Proto().Bytes(1, Unhex(kTraceIdHex)).Bytes(5, "b").Msg(15, Proto().Bytes(2, "m")))));
  // Several oneof members: the last in key order wins, whatever its field number.
  proto = ToProto(Signal::kLogs, LogRequest(R"({"body":{"bytesValue":"AA==","stringValue":"s","intValue":"1",)"
                                            R"("boolValue":true,"stringValue":null}})"));
  EXPECT_EQ(Hex(proto), Hex(LogRequestProto(Proto().Msg(5, Proto().Varint(2, 1)))));
  proto = ToProto(Signal::kMetrics, MetricRequest(R"({"sum":{},"gauge":{"dataPoints":[{"asInt":"1","asDouble":2}]}})"));
  EXPECT_EQ(Hex(proto), Hex(MetricRequestProto(Proto().Msg(5, Proto().Msg(1, Proto().Double(4, 2))))));
  // A repeated field given twice is concatenated.
  proto = ToProto(Signal::kTraces, SpanRequest(R"({"attributes":[{"key":"a"}],"name":"n","attributes":[{"key":"b"}]})"));
  EXPECT_EQ(ToJson(Signal::kTraces, proto),
            R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"n","attributes":[{"key":"a"},{"key":"b"}]}]}]}]})");
  // Each is a fixed point of the round trip.
  EXPECT_EQ(Hex(ToProto(Signal::kTraces, ToJson(Signal::kTraces, proto))), Hex(proto));
}

TEST_F(JsonCodecTest, DefaultValuesAreOmittedUnlessPresenceIsExplicit) {
  // Plain proto3 scalars at their default are not written ...
  std::string span = SpanRequest(R"({"name":"","kind":0,"droppedAttributesCount":0,"flags":0,)"
                                 R"("startTimeUnixNano":"0","traceState":"","traceId":"","spanId":"",)"
                                 R"("attributes":[],"events":[]})");
  EXPECT_EQ(Hex(ToProto(Signal::kTraces, span)), Hex(SpanRequestProto(Proto())));
  // ... but oneof members and `optional` fields are, even when zero or empty.
  std::string log = LogRequest(R"({"attributes":[{"key":"i","value":{"intValue":"0"}},)"
                               R"({"key":"b","value":{"boolValue":false}},{"key":"s","value":{"stringValue":""}},)"
                               R"({"key":"d","value":{"doubleValue":0}},{"key":"y","value":{"bytesValue":""}},)"
                               R"({"key":"e","value":{}},{"key":"n"}]})");
  Proto record;
  record.Msg(6, Proto().Bytes(1, "i").Msg(2, Proto().Varint(3, 0)))
      .Msg(6, Proto().Bytes(1, "b").Msg(2, Proto().Varint(2, 0)))
      .Msg(6, Proto().Bytes(1, "s").Msg(2, Proto().Bytes(1, "")))
      .Msg(6, Proto().Bytes(1, "d").Msg(2, Proto().Double(4, 0.0)))
      .Msg(6, Proto().Bytes(1, "y").Msg(2, Proto().Bytes(7, "")))
      .Msg(6, Proto().Bytes(1, "e").Msg(2, Proto()))
      .Msg(6, Proto().Bytes(1, "n"));
  std::string proto = ToProto(Signal::kLogs, log);
  EXPECT_EQ(Hex(proto), Hex(LogRequestProto(record)));
  EXPECT_EQ(ToJson(Signal::kLogs, proto),
            R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[)"
            R"({"key":"i","value":{"intValue":"0"}},{"key":"b","value":{"boolValue":false}},)"
            R"({"key":"s","value":{"stringValue":""}},{"key":"d","value":{"doubleValue":0}},)"
            R"({"key":"y","value":{"bytesValue":""}},{"key":"e","value":{}},{"key":"n"}]}]}]}]})");
  // Histogram sum/min/max are `optional`: zero is written; a NumberDataPoint's asDouble 0 too.
  std::string metric = MetricRequest(R"({"histogram":{"dataPoints":[{"sum":0,"min":0,"max":0,"count":"0"}]}},)"
                                     R"({"gauge":{"dataPoints":[{"asDouble":0}]}})");
  Proto hist_point;
  hist_point.Double(5, 0).Double(11, 0).Double(12, 0);
  std::string expected = Proto()
                             .Msg(1, Proto().Msg(2, Proto()
                                                         .Msg(2, Proto().Msg(9, Proto().Msg(1, hist_point)))
                                                         .Msg(2, Proto().Msg(5, Proto().Msg(1, Proto().Double(4, 0))))))
                             .str();
  EXPECT_EQ(Hex(ToProto(Signal::kMetrics, metric)), Hex(expected));
}

TEST_F(JsonCodecTest, IdsAreHexInEitherCase) {
  std::string upper = SpanRequest(R"({"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",)"
                                  R"("parentSpanId":"eee19b7eC3C1B175"})");
  std::string proto = ToProto(Signal::kTraces, upper);
  EXPECT_EQ(Hex(proto), Hex(SpanRequestProto(Proto()
                                                  .Bytes(1, Unhex(kTraceIdHex))
                                                  .Bytes(2, Unhex(kSpanIdHex))
                                                  .Bytes(4, Unhex("eee19b7ec3c1b175")))));
  EXPECT_EQ(ToJson(Signal::kTraces, proto),
            R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",)"
            R"("spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b175"}]}]}]})");
}

// Protobuf's generic JSON mapping writes ids as base64; they give the very bytes the hex ids give.
TEST_F(JsonCodecTest, Base64IdsGiveTheSameBytesAsHex) {
  // Base64 with '+' and '/' (so the URL-safe form differs) and a trailing partial group (so the
  // padding matters).
  const std::string kParentHex = "fbff3f00fe00fffe";
  auto span = [](std::string_view trace_id, std::string_view span_id, std::string_view parent) {
    return SpanRequest(fmt::format(R"({{"traceId":"{0}","spanId":"{1}","parentSpanId":"{2}",)"
                                   R"("links":[{{"traceId":"{0}","spanId":"{2}"}}]}})",
                                   trace_id, span_id, parent));
  };
  auto log = [](std::string_view trace_id, std::string_view span_id) {
    return LogRequest(fmt::format(R"({{"traceId":"{}","spanId":"{}"}})", trace_id, span_id));
  };
  auto exemplar = [](std::string_view trace_id, std::string_view span_id) {
    return MetricRequest(fmt::format(
        R"({{"gauge":{{"dataPoints":[{{"exemplars":[{{"traceId":"{}","spanId":"{}"}}]}}]}}}})", trace_id, span_id));
  };
  std::string span_proto = ToProto(Signal::kTraces, span(kTraceIdHex, kSpanIdHex, kParentHex));
  std::string log_proto = ToProto(Signal::kLogs, log(kTraceIdHex, kSpanIdHex));
  std::string exemplar_proto = ToProto(Signal::kMetrics, exemplar(kTraceIdHex, kSpanIdHex));
  Proto link;
  link.Bytes(1, Unhex(kTraceIdHex)).Bytes(2, Unhex(kParentHex));
  ASSERT_EQ(Hex(span_proto), Hex(SpanRequestProto(Proto()
                                                      .Bytes(1, Unhex(kTraceIdHex))
                                                      .Bytes(2, Unhex(kSpanIdHex))
                                                      .Bytes(4, Unhex(kParentHex))
                                                      .Msg(13, link))));
  struct Case {
    std::string_view name, trace_id, span_id, parent;
  };
  for (const Case& c : {Case{"padded", "W47/95gDgQPSabYzgT/GDA==", "7uGbfsPBsXQ=", "+/8/AP4A//4="},
                        Case{"unpadded", "W47/95gDgQPSabYzgT/GDA", "7uGbfsPBsXQ", "+/8/AP4A//4"},
                        Case{"url-safe", "W47_95gDgQPSabYzgT_GDA==", "7uGbfsPBsXQ=", "-_8_AP4A__4="},
                        Case{"url-safe unpadded", "W47_95gDgQPSabYzgT_GDA", "7uGbfsPBsXQ", "-_8_AP4A__4"}}) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Hex(ToProto(Signal::kTraces, span(c.trace_id, c.span_id, c.parent))), Hex(span_proto));
    EXPECT_EQ(Hex(ToProto(Signal::kLogs, log(c.trace_id, c.span_id))), Hex(log_proto));
    EXPECT_EQ(Hex(ToProto(Signal::kMetrics, exemplar(c.trace_id, c.span_id))), Hex(exemplar_proto));
  }
  // Hex and base64 may be mixed in one document.
  EXPECT_EQ(Hex(ToProto(Signal::kTraces, span("W47/95gDgQPSabYzgT/GDA", kSpanIdHex, "-_8_AP4A__4="))), Hex(span_proto));
}

TEST_F(JsonCodecTest, Base64IdsAreWrittenBackAsHex) {
  std::string proto = ToProto(Signal::kTraces, SpanRequest(R"({"traceId":"W47/95gDgQPSabYzgT/GDA==",)"
                                                           R"("spanId":"7uGbfsPBsXQ","parentSpanId":"-_8_AP4A__4="})"));
  EXPECT_EQ(ToJson(Signal::kTraces, proto),
            R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",)"
            R"("spanId":"eee19b7ec3c1b174","parentSpanId":"fbff3f00fe00fffe"}]}]}]})");
}

TEST_F(JsonCodecTest, BadIdsAreErrorsThatNameTheKey) {
  absl::Status s = JsonError(Signal::kTraces, SpanRequest(R"({"traceId":"abc"})"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits or the base64 of 16 "
                         "bytes, got \"abc\"");
  s = JsonError(Signal::kTraces, SpanRequest(R"({"spanId":"000000000000000G"})"));
  EXPECT_MATCH(s.message(), HasSubstr("spans[0].spanId: expected 16 hex digits or the base64 of 8 bytes, got "
                                      "\"000000000000000G\""));
  s = JsonError(Signal::kTraces, SpanRequest(R"({"links":[{"spanId":"1234"}]})"));
  EXPECT_MATCH(s.message(), HasSubstr("spans[0].links[0].spanId: expected 16 hex digits"));
  s = JsonError(Signal::kTraces, SpanRequest(R"({"parentSpanId":16})"));
  EXPECT_MATCH(s.message(), HasSubstr("parentSpanId: expected a hex or base64 string, got 16"));
  s = JsonError(Signal::kMetrics,
                MetricRequest(R"({"gauge":{"dataPoints":[{"exemplars":[{"traceId":"00"}]}]}})"));
  EXPECT_MATCH(s.message(), HasSubstr("dataPoints[0].exemplars[0].traceId: expected 32 hex digits"));
  // Base64 of the wrong length or with bad characters, and hex lengths that are not all hex digits.
  const std::vector<std::pair<std::string, std::string>> kBadIds = {
      {"traceId", "7uGbfsPBsXQ="},                      // 8 bytes: a span id
      {"traceId", "W47/95gDgQPSabYzgT/G"},              // 15 bytes
      {"traceId", "W47/95gDgQPSabYzgT/GDA="},           // wrong padding
      {"traceId", "W47/95gDgQPSabYzgT/GDA==="},         // too much padding
      {"traceId", "W47/95gDgQPSabYzgT.GDA=="},          // not a base64 digit
      {"traceId", "W47/95gDgQPSabYz T/GDA"},            // whitespace
      {"traceId", "W47/95gDgQPSabYzgT/GDAW47/95gDgQ"},  // 32 characters, not hex
      {"spanId", "W47/95gDgQPSabYzgT/GDA=="},           // 16 bytes: a trace id
      {"spanId", "7uGbfsPBsX"},                         // 7 bytes
      {"spanId", "7uGbfs=BsXQ="},                       // padding inside
      {"spanId", "7uGbfsPBsXQ=="},                      // too much padding
      {"spanId", "7uGbfsPBsX*="},                       // not a base64 digit
  };
  for (const auto& [key, id] : kBadIds) {
    SCOPED_TRACE(id);
    s = JsonError(Signal::kLogs, LogRequest(fmt::format(R"({{"{}":"{}"}})", key, id)));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    size_t size = key == "traceId" ? 16 : 8;
    std::string want = fmt::format("logRecords[0].{}: expected {} hex digits or the base64 of {} bytes", key, 2 * size, size);
    EXPECT_MATCH(s.message(), HasSubstr(want));
  }
}

// 16 bytes are 128 bits and 22 base64 digits carry 132, so the last digit of a trace id has 4 unused low
// bits; 8 bytes are 64 bits in 11 digits (66), so a span id's last digit has 2. Encoders write zeros
// there, and other values are refused: those ids are not the base64 of anything.
TEST_F(JsonCodecTest, Base64IdsMustHaveZeroUnusedBits) {
  std::string want = LogRequestProto(Proto().Bytes(9, Unhex(kTraceIdHex)).Bytes(10, Unhex(kSpanIdHex)));
  auto log = [](std::string_view trace_id, std::string_view span_id) {
    return LogRequest(fmt::format(R"({{"traceId":"{}","spanId":"{}"}})", trace_id, span_id));
  };
  // 'A' (0) and 'Q' (16 = 0b010000) end the canonical ids.
  EXPECT_EQ(Hex(ToProto(Signal::kLogs, log("W47/95gDgQPSabYzgT/GDA", "7uGbfsPBsXQ"))), Hex(want));
  EXPECT_EQ(Hex(ToProto(Signal::kLogs, log("W47_95gDgQPSabYzgT_GDA==", "7uGbfsPBsXQ="))), Hex(want));
  // The same ids with only unused bits set in their last digit.
  for (std::string_view trace_id : {"W47/95gDgQPSabYzgT/GDB", "W47/95gDgQPSabYzgT/GDP==", "W47_95gDgQPSabYzgT_GDI"}) {
    SCOPED_TRACE(trace_id);
    absl::Status s = JsonError(Signal::kLogs, log(trace_id, "7uGbfsPBsXQ"));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), fmt::format("resourceLogs[0].scopeLogs[0].logRecords[0].traceId: expected 32 hex digits or "
                                       "the base64 of 16 bytes, got \"{}\"",
                                       trace_id));
  }
  for (std::string_view span_id : {"7uGbfsPBsXR", "7uGbfsPBsXT=", "7uGbfsPBsXS"}) {
    SCOPED_TRACE(span_id);
    absl::Status s = JsonError(Signal::kLogs, log("W47/95gDgQPSabYzgT/GDA", span_id));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), fmt::format("resourceLogs[0].scopeLogs[0].logRecords[0].spanId: expected 16 hex digits or "
                                       "the base64 of 8 bytes, got \"{}\"",
                                       span_id));
  }
  // fluent-bit's "invalid-hex" span id is 11 URL-safe digits, but its 'x' (49 = 0b110001) sets an unused bit.
  absl::Status s = JsonError(Signal::kLogs, LogRequest(R"({"spanId":"invalid-hex"})"));
  EXPECT_EQ(s.message(),
            R"(resourceLogs[0].scopeLogs[0].logRecords[0].spanId: expected 16 hex digits or the base64 of 8 bytes, )"
            R"(got "invalid-hex")");
}

TEST_F(JsonCodecTest, ErrorMessageNamesThePathAndWhatWasExpected) {
  absl::Status s = JsonError(Signal::kTraces, R"({"resourceSpans":[{"scopeSpans":[{"spans":[{},{},)"
                                              R"({"startTimeUnixNano":"abc"}]}]}]})");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "resourceSpans[0].scopeSpans[0].spans[2].startTimeUnixNano: expected an unsigned 64-bit integer "
            "(string or number), got \"abc\"");
  s = JsonError(Signal::kTraces, R"({"resource_spans":[{"scope_spans":[{"spans":[{"start_time_unix_nano":-1}]}]}]})");
  EXPECT_EQ(s.message(),
            "resource_spans[0].scope_spans[0].spans[0].start_time_unix_nano: expected an unsigned 64-bit integer "
            "(string or number), got -1");
  s = JsonError(Signal::kTraces, R"({"resourceSpans":{}})");
  EXPECT_EQ(s.message(), "resourceSpans: expected an array, got an object");
  s = JsonError(Signal::kTraces, R"({"resourceSpans":[1]})");
  EXPECT_EQ(s.message(), "resourceSpans[0]: expected an object, got 1");
  s = JsonError(Signal::kLogs, LogRequest(R"({"body":[]})"));
  EXPECT_EQ(s.message(), "resourceLogs[0].scopeLogs[0].logRecords[0].body: expected an object, got an array");
  s = JsonError(Signal::kMetrics, MetricRequest(R"({"name":123})"));
  EXPECT_EQ(s.message(), "resourceMetrics[0].scopeMetrics[0].metrics[0].name: expected a string, got 123");
  std::string long_value(200, 'x');
  s = JsonError(Signal::kMetrics, MetricRequest(R"({"description":[")" + long_value + "\"]}"));
  EXPECT_MATCH(s.message(), HasSubstr("description: expected a string, got an array"));
  s = JsonError(Signal::kMetrics, MetricRequest(R"({"gauge":{"dataPoints":[{"asInt":")" + long_value + "\"}]}}"));
  EXPECT_MATCH(s.message(), HasSubstr("got \"" + std::string(48, 'x') + "...\""));
}

TEST_F(JsonCodecTest, TopLevelMustBeAnObjectAndValidJson) {
  EXPECT_EQ(JsonError(Signal::kTraces, "[]").message(), "expected a JSON object at the top level, got an array");
  EXPECT_EQ(JsonError(Signal::kLogs, "\"not_an_object\"").message(),
            "expected a JSON object at the top level, got \"not_an_object\"");
  EXPECT_MATCH(JsonError(Signal::kTraces, "").message(), HasSubstr("invalid JSON"));
  EXPECT_MATCH(JsonError(Signal::kTraces, "{").message(), HasSubstr("invalid JSON"));
  EXPECT_MATCH(JsonError(Signal::kTraces, "{\"resourceSpans\":[]} x").message(), HasSubstr("invalid JSON"));
  EXPECT_MATCH(JsonError(Signal::kTraces, "{\"a\":\"\xff\"}").message(), HasSubstr("invalid JSON"));
  EXPECT_EQ(ToProto(Signal::kTraces, "{}"), "");
}

TEST_F(JsonCodecTest, SixtyFourBitIntegersAsStringsOrNumbers) {
  auto time_of = [&](std::string_view value) {
    std::string proto;
    absl::Status s = codec_.JsonToProto(Signal::kLogs, LogRequest("{\"timeUnixNano\":" + std::string(value) + "}"),
                                        &proto);
    if (!s.ok()) return s.ToString();
    FieldLocations loc;
    EXPECT_TRUE(Locate(Signal::kLogs, proto, &loc).ok());
    if (loc.timestamps.size() != 1) return std::string("absent");
    return std::to_string(LoadLE64(reinterpret_cast<const uint8_t*>(proto.data()) + loc.timestamps[0]));
  };
  // The JSON of timeUnixNano, and the time it becomes ("absent": none, as 0 is unset).
  constexpr std::pair<std::string_view, std::string_view> kTimes[] = {
      {"\"1640995200000000000\"", "1640995200000000000"},
      {"1640995200000000000", "1640995200000000000"},
      {"\"18446744073709551615\"", "18446744073709551615"},
      {"18446744073709551615", "18446744073709551615"},
      {"9223372036854775808", "9223372036854775808"},
      {"1.0e3", "1000"},
      {"1e15", "1000000000000000"},
      {"\"0\"", "absent"},
  };
  for (const auto& [json, time] : kTimes) EXPECT_EQ(time_of(json), time) << json;
  // The JSON of timeUnixNano, and what the error it is refused with says.
  constexpr std::pair<std::string_view, std::string_view> kRefusals[] = {
      {"\"18446744073709551616\"", "expected an unsigned 64-bit integer"},
      {"18446744073709551616", "INVALID_ARGUMENT"},
      {"1.5", "expected an unsigned 64-bit integer"},
      {"\"-1\"", "expected an unsigned 64-bit integer"},
      {"\"1e3\"", "expected an unsigned 64-bit integer"},
      {"\" 1\"", "expected an unsigned 64-bit integer"},
      {"\"\"", "expected an unsigned 64-bit integer"},
      {"true", "got true"},
      {"{}", "got an object"},
  };
  for (const auto& [json, error] : kRefusals) EXPECT_MATCH(time_of(json), HasSubstr(error)) << json;

  // sfixed64 and int64: signed, written as decimal strings.
  std::string metric = MetricRequest(R"({"sum":{"dataPoints":[{"asInt":"-9223372036854775808"},{"asInt":-5},)"
                                     R"({"asInt":9223372036854775807}]}})");
  std::string proto = ToProto(Signal::kMetrics, metric);
  EXPECT_EQ(ToJson(Signal::kMetrics, proto),
            R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"dataPoints":[{"asInt":"-9223372036854775808"},)"
            R"({"asInt":"-5"},{"asInt":"9223372036854775807"}]}}]}]}]})");
  EXPECT_MATCH(JsonError(Signal::kMetrics, MetricRequest(R"({"sum":{"dataPoints":[{"asInt":9223372036854775808}]}})"))
                  .message(),
              HasSubstr("asInt: expected a signed 64-bit integer (string or number), got 9223372036854775808"));
  // Response messages carry int64 counters.
  std::string response;
  ASSERT_TRUE(codec_
                  .JsonToProto(ResponseType(Signal::kTraces),
                               R"({"partialSuccess":{"rejectedSpans":"-2","errorMessage":"no"}})", &response)
                  .ok());
  EXPECT_EQ(Hex(response), Hex(Proto().Msg(1, Proto().Varint(1, static_cast<uint64_t>(-2)).Bytes(2, "no")).str()));
  std::string json;
  ASSERT_TRUE(codec_.ProtoToJson(ResponseType(Signal::kTraces), response, &json).ok());
  EXPECT_EQ(json, R"({"partialSuccess":{"rejectedSpans":"-2","errorMessage":"no"}})");
}

TEST_F(JsonCodecTest, ThirtyTwoBitIntegersAreRangeChecked) {
  std::string proto = ToProto(Signal::kTraces, SpanRequest(R"({"droppedAttributesCount":"4294967295",)"
                                                           R"("droppedEventsCount":7.0,"flags":4294967295})"));
  EXPECT_EQ(Hex(proto), Hex(SpanRequestProto(Proto().Varint(10, 4294967295u).Varint(12, 7).Fixed32(16, 4294967295u))));
  EXPECT_EQ(ToJson(Signal::kTraces, proto),
            R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"flags":4294967295,"droppedAttributesCount":4294967295,)"
            R"("droppedEventsCount":7}]}]}]})");
  EXPECT_MATCH(JsonError(Signal::kTraces, SpanRequest(R"({"droppedAttributesCount":4294967296})")).message(),
              HasSubstr("droppedAttributesCount: expected an unsigned 32-bit integer, got 4294967296"));
  EXPECT_MATCH(JsonError(Signal::kTraces, SpanRequest(R"({"droppedLinksCount":-1})")).message(),
              HasSubstr("droppedLinksCount: expected an unsigned 32-bit integer, got -1"));
  EXPECT_MATCH(JsonError(Signal::kTraces, SpanRequest(R"({"flags":1.5})")).message(),
              HasSubstr("flags: expected an unsigned 32-bit integer, got 1.5"));
  // sint32 (exponential histogram scale and bucket offset) uses zigzag encoding.
  std::string metric = MetricRequest(R"({"exponentialHistogram":{"dataPoints":[{"scale":-3,)"
                                     R"("positive":{"offset":"-2147483648","bucketCounts":["1",2,"18446744073709551615"]},)"
                                     R"("negative":{"offset":2147483647}}]}})");
  proto = ToProto(Signal::kMetrics, metric);
  EXPECT_EQ(ToJson(Signal::kMetrics, proto),
            R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"exponentialHistogram":{"dataPoints":[{"scale":-3,)"
            R"("positive":{"offset":-2147483648,"bucketCounts":["1","2","18446744073709551615"]},)"
            R"("negative":{"offset":2147483647}}]}}]}]}]})");
  EXPECT_MATCH(JsonError(Signal::kMetrics,
                        MetricRequest(R"({"exponentialHistogram":{"dataPoints":[{"scale":2147483648}]}})"))
                  .message(),
              HasSubstr("scale: expected a signed 32-bit integer, got 2147483648"));
}

TEST_F(JsonCodecTest, EnumsAsIntegersOrNames) {
  std::string by_name = ToProto(Signal::kTraces, SpanRequest(R"({"kind":"SPAN_KIND_CLIENT","status":{"code":"STATUS_CODE_OK"}})"));
  std::string by_number = ToProto(Signal::kTraces, SpanRequest(R"({"kind":3,"status":{"code":1}})"));
  EXPECT_EQ(Hex(by_name), Hex(SpanRequestProto(Proto().Varint(6, 3).Msg(15, Proto().Varint(3, 1)))));
  EXPECT_EQ(Hex(by_number), Hex(by_name));
  EXPECT_EQ(ToJson(Signal::kTraces, by_name),
            R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":3,"status":{"code":1}}]}]}]})");
  // Unknown numbers are kept (proto3 enums are open); unknown names are errors, and so are numbers in
  // strings (the Collector looks strings up as names only).
  EXPECT_MATCH(JsonError(Signal::kTraces, SpanRequest(R"({"kind":"3"})")).message(),
               HasSubstr("spans[0].kind: unknown SpanKind value \"3\""));
  std::string open = ToProto(Signal::kLogs, LogRequest(R"({"severityNumber":99})"));
  EXPECT_EQ(ToJson(Signal::kLogs, open), R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":99}]}]}]})");
  EXPECT_EQ(JsonError(Signal::kTraces, SpanRequest(R"({"status":{"code":"NOT_A_STATUS"}})")).message(),
            "resourceSpans[0].scopeSpans[0].spans[0].status.code: unknown StatusCode value \"NOT_A_STATUS\"");
  EXPECT_MATCH(JsonError(Signal::kTraces, SpanRequest(R"({"kind":"span_kind_client"})")).message(),
              HasSubstr("unknown SpanKind value"));
  EXPECT_MATCH(JsonError(Signal::kTraces, SpanRequest(R"({"kind":true})")).message(),
              HasSubstr("kind: expected an enum value (integer or name), got true"));
  // A negative enum is sign-extended to ten bytes, as protobuf does.
  std::string negative = ToProto(Signal::kTraces, SpanRequest(R"({"kind":-1})"));
  EXPECT_EQ(Hex(negative), Hex(SpanRequestProto(Proto().Varint(6, static_cast<uint64_t>(-1)))));
  EXPECT_EQ(ToJson(Signal::kTraces, negative), R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":-1}]}]}]})");
}

TEST_F(JsonCodecTest, DoublesIncludingNonFinite) {
  std::string metric = MetricRequest(
      R"({"gauge":{"dataPoints":[{"asDouble":"NaN"},{"asDouble":"Infinity"},{"asDouble":"-Infinity"},)"
      R"({"asDouble":"38.25"},{"asDouble":1e300},{"asDouble":-0.0},{"asDouble":0.1},{"asDouble":5},)"
      R"({"asDouble":1e-7},{"asDouble":18446744073709551615}]}})");
  std::string proto = ToProto(Signal::kMetrics, metric);
  EXPECT_EQ(ToJson(Signal::kMetrics, proto),
            R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asDouble":"NaN"},)"
            R"({"asDouble":"Infinity"},{"asDouble":"-Infinity"},{"asDouble":38.25},{"asDouble":1e+300},)"
            R"({"asDouble":-0.0},{"asDouble":0.1},{"asDouble":5},{"asDouble":1e-07},{"asDouble":1.8446744073709552e+19}]}}]}]}]})");
  EXPECT_MATCH(JsonError(Signal::kMetrics, MetricRequest(R"({"gauge":{"dataPoints":[{"asDouble":"12.0oops"}]}})"))
                  .message(),
              HasSubstr("asDouble: expected a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got \"12.0oops\""));
  // Every NaN spelling becomes the one NaN that "NaN" reads as.
  std::string nans = ToProto(Signal::kMetrics, MetricRequest(R"({"gauge":{"dataPoints":[{"asDouble":"-nan"},{"asDouble":"NaN"}]}})"));
  Proto nan_points;
  nan_points.Msg(1, Proto().Double(4, std::numeric_limits<double>::quiet_NaN()))
      .Msg(1, Proto().Double(4, std::numeric_limits<double>::quiet_NaN()));
  EXPECT_EQ(Hex(nans), Hex(MetricRequestProto(Proto().Msg(5, nan_points))));
  EXPECT_MATCH(JsonError(Signal::kMetrics, MetricRequest(R"({"gauge":{"dataPoints":[{"asDouble":false}]}})"))
                  .message(),
              HasSubstr("got false"));
  // Non-presence doubles: +0 is the default and omitted; -0 is a different value and kept.
  std::string zero = ToProto(Signal::kMetrics, MetricRequest(R"({"summary":{"dataPoints":[{"sum":0},{"sum":-0.0}]}})"));
  EXPECT_EQ(ToJson(Signal::kMetrics, zero),
            R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"summary":{"dataPoints":[{},{"sum":-0.0}]}}]}]}]})");
}

TEST_F(JsonCodecTest, BoolsAndStrings) {
  EXPECT_MATCH(JsonError(Signal::kMetrics, MetricRequest(R"({"sum":{"isMonotonic":"true"}})")).message(),
              HasSubstr("isMonotonic: expected true or false, got \"true\""));
  EXPECT_MATCH(JsonError(Signal::kMetrics, MetricRequest(R"({"sum":{"isMonotonic":1}})")).message(),
              HasSubstr("isMonotonic: expected true or false, got 1"));
  // Escapes are decoded; unicode passes through; output escapes only what JSON requires.
  std::string proto = ToProto(Signal::kTraces, SpanRequest(R"({"name":"a\"b\\c\n\u0026\u00e9\ud83d\ude00\u0001"})"));
  EXPECT_EQ(Hex(proto), Hex(SpanRequestProto(Proto().Bytes(5, "a\"b\\c\n&\xc3\xa9\xf0\x9f\x98\x80\x01"))));
  EXPECT_EQ(ToJson(Signal::kTraces, proto),
            "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"a\\\"b\\\\c\\n&\xc3\xa9\xf0\x9f\x98\x80"
            "\\u0001\"}]}]}]}");
}

TEST_F(JsonCodecTest, InvalidUtf8InProtobufStringsStillGivesValidJson) {
  std::string proto = SpanRequestProto(Proto().Bytes(5, "ok\xff\xc3("));
  std::string json = ToJson(Signal::kTraces, proto);
  EXPECT_EQ(json, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"ok\xef\xbf\xbd\xef\xbf\xbd(\"}]}]}]}");
  std::string back = ToProto(Signal::kTraces, json);  // simdjson validates UTF-8: parsing it proves validity
  EXPECT_EQ(Hex(back), Hex(SpanRequestProto(Proto().Bytes(5, "ok\xef\xbf\xbd\xef\xbf\xbd("))));
}

TEST_F(JsonCodecTest, BytesAreBase64InAnyAlphabetWithOrWithoutPadding) {
  const std::string raw = "\xfb\xff\xbf\x01";  // uses both alphabet-specific digits
  for (std::string_view text : {"+/+/AQ==", "-_-_AQ==", "+/+/AQ", "-_-_AQ"}) {
    std::string proto = ToProto(Signal::kLogs, LogRequest(R"({"body":{"bytesValue":")" + std::string(text) + "\"}}"));
    EXPECT_EQ(Hex(proto), Hex(LogRequestProto(Proto().Msg(5, Proto().Bytes(7, raw))))) << text;
    EXPECT_EQ(ToJson(Signal::kLogs, proto),
              R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"bytesValue":"+/+/AQ=="}}]}]}]})");
  }
  for (std::string_view good : {"", "QQ==", "QUI=", "QUJD", "QUJDRA"}) {
    std::string out;
    EXPECT_TRUE(
        codec_.JsonToProto(Signal::kLogs, LogRequest(R"({"body":{"bytesValue":")" + std::string(good) + "\"}}"), &out)
            .ok())
        << good;
  }
  for (std::string_view bad : {"Q", "QUJDR", "QU=J", "QQ===", "Q===", "QUJ*", "QQ=", "=", "QUJD\\n"}) {
    absl::Status s = JsonError(Signal::kLogs, LogRequest(R"({"body":{"bytesValue":")" + std::string(bad) + "\"}}"));
    EXPECT_MATCH(s.message(), HasSubstr("body.bytesValue: ")) << bad;
    EXPECT_MATCH(s.message(), HasSubstr("is not valid base64")) << bad;
  }
}

TEST_F(JsonCodecTest, RepeatedNumbersArePacked) {
  std::string metric = MetricRequest(R"({"histogram":{"dataPoints":[{"count":"6","bucketCounts":[1,"3",2],)"
                                     R"("explicitBounds":[1.5,"5",-1]}]}},{"histogram":{"dataPoints":[{"bucketCounts":[],"explicitBounds":[]}]}})");
  std::string packed_counts;
  for (uint64_t v : {1, 3, 2}) AppendFixed64(&packed_counts, v);
  std::string packed_bounds;
  for (double v : {1.5, 5.0, -1.0}) AppendFixed64(&packed_bounds, std::bit_cast<uint64_t>(v));
  Proto point;
  point.Fixed64(4, 6).Bytes(6, packed_counts).Bytes(7, packed_bounds);
  std::string expected = Proto()
                             .Msg(1, Proto().Msg(2, Proto()
                                                         .Msg(2, Proto().Msg(9, Proto().Msg(1, point)))
                                                         .Msg(2, Proto().Msg(9, Proto().Msg(1, Proto())))))
                             .str();
  std::string proto = ToProto(Signal::kMetrics, metric);
  EXPECT_EQ(Hex(proto), Hex(expected));
  EXPECT_EQ(ToJson(Signal::kMetrics, proto),
            R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"count":"6",)"
            R"("bucketCounts":["1","3","2"],"explicitBounds":[1.5,5,-1]}]}},{"histogram":{"dataPoints":[{}]}}]}]}]})");
  EXPECT_MATCH(JsonError(Signal::kMetrics, MetricRequest(R"({"histogram":{"dataPoints":[{"bucketCounts":[1,"x"]}]}})"))
                  .message(),
              HasSubstr("dataPoints[0].bucketCounts[1]: expected an unsigned 64-bit integer (string or number), got \"x\""));
  EXPECT_MATCH(JsonError(Signal::kMetrics, MetricRequest(R"({"histogram":{"dataPoints":[{"bucketCounts":1}]}})"))
                  .message(),
              HasSubstr("bucketCounts: expected an array, got 1"));
  // Repeated strings (EntityRef.idKeys) are one field per element; a null message element is empty.
  std::string resource = ToProto(Signal::kTraces, R"({"resourceSpans":[{"resource":{"entityRefs":[{"idKeys":["a",""]},null]}}]})");
  EXPECT_EQ(Hex(resource),
            Hex(Proto()
                    .Msg(1, Proto().Msg(1, Proto().Msg(3, Proto().Bytes(3, "a").Bytes(3, "")).Msg(3, Proto())))
                    .str()));
  EXPECT_MATCH(JsonError(Signal::kTraces, R"({"resourceSpans":[{"resource":{"entityRefs":[{"idKeys":["a",null]}]}}]})")
                  .message(),
              HasSubstr("entityRefs[0].idKeys[1]: expected a string, got null"));
}

TEST_F(JsonCodecTest, AnyValueKinds) {
  std::string log = LogRequest(
      R"({"body":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"intValue":1},)"
      R"({"doubleValue":"2.5"},{"boolValue":true},{"stringValue":"s"},{"bytesValue":"AAE="},{}]}}}]}}})");
  std::string proto = ToProto(Signal::kLogs, log);
  EXPECT_EQ(ToJson(Signal::kLogs, proto),
            R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"a","value":)"
            R"({"arrayValue":{"values":[{"intValue":"1"},{"doubleValue":2.5},{"boolValue":true},{"stringValue":"s"},)"
            R"({"bytesValue":"AAE="},{}]}}}]}}}]}]}]})");
}

TEST_F(JsonCodecTest, NestingIsBounded) {
  auto nested = [](int levels) {
    std::string body;
    for (int i = 0; i < levels; ++i) body += R"({"arrayValue":{"values":[)";
    body += R"({"intValue":"1"})";
    for (int i = 0; i < levels; ++i) body += "]}}";
    return LogRequest(R"({"body":)" + body + "}");
  };
  // Request > ResourceLogs > ScopeLogs > LogRecord > AnyValue: 4 levels, then 2 per arrayValue.
  int deepest_ok = (kMaxNestingDepth - 4) / 2;
  std::string proto = ToProto(Signal::kLogs, nested(deepest_ok));
  EXPECT_TRUE(Validate(Signal::kLogs, proto).ok());
  std::string json = ToJson(Signal::kLogs, proto);
  EXPECT_EQ(json, nested(deepest_ok));
  absl::Status s = JsonError(Signal::kLogs, nested(deepest_ok + 1));
  EXPECT_MATCH(s.message(), HasSubstr("messages nested more than 100 deep"));
  EXPECT_MATCH(s.message(), HasSubstr("resourceLogs[0].scopeLogs[0].logRecords[0].body.arrayValue.values[0]"));
  // Far deeper than any message nesting allows: simdjson's own depth limit stops it.
  std::string deep_unknown = "{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_MATCH(JsonError(Signal::kLogs, deep_unknown).message(), HasSubstr("nested more than"));
  // The protobuf side refuses the same depth.
  std::string deep_proto = Proto().Varint(3, 1).str();
  for (int i = 0; i < kMaxNestingDepth / 2 + 1; ++i) deep_proto = Proto().Msg(5, Proto().Bytes(1, deep_proto)).str();
  std::string out;
  EXPECT_MATCH(codec_.ProtoToJson(AnyValueType(), deep_proto, &out).message(), HasSubstr("nested too deeply"));
  EXPECT_TRUE(out.empty());
}

// ---- protobuf -> JSON ----

TEST_F(JsonCodecTest, ProtoToJsonGroupsInterleavedRepeatedFieldsAndDropsUnknownFields) {
  Proto span;
  span.Msg(9, Proto().Bytes(1, "a"))
      .Msg(11, Proto().Bytes(2, "e1"))
      .Varint(99, 5)             // unknown varint
      .Bytes(100, "junk")        // unknown length-delimited
      .Msg(9, Proto().Bytes(1, "b"))
      .Fixed32(101, 1)           // unknown fixed32
      .Msg(11, Proto().Bytes(2, "e2"))
      .Fixed64(102, 1)           // unknown fixed64
      .Bytes(5, "name");
  EXPECT_EQ(ToJson(Signal::kTraces, SpanRequestProto(span)),
            R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"name","attributes":[{"key":"a"},{"key":"b"}],)"
            R"("events":[{"name":"e1"},{"name":"e2"}]}]}]}]})");
}

TEST_F(JsonCodecTest, ProtoToJsonReadsPackedAndUnpackedRepeatedScalars) {
  std::string packed;
  AppendFixed64(&packed, 4);
  AppendFixed64(&packed, 5);
  std::string varints;
  AppendVarint(&varints, 300);
  AppendVarint(&varints, 0);
  Proto point;
  point.Fixed64(6, 1).Fixed64(6, 2).Bytes(6, packed).Double(7, 0.5).Bytes(7, "");  // mixed; empty packed run
  Proto exp_point;
  exp_point.Msg(8, Proto().Varint(2, 7).Bytes(2, varints).Varint(1, 3));
  std::string proto = MetricRequestProto(Proto().Msg(9, Proto().Msg(1, point))).append(
      MetricRequestProto(Proto().Msg(10, Proto().Msg(1, exp_point))));
  std::string json = ToJson(Signal::kMetrics, proto);
  EXPECT_EQ(json,
            R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"bucketCounts":["1","2","4","5"],)"
            R"("explicitBounds":[0.5]}]}}]}]},{"scopeMetrics":[{"metrics":[{"exponentialHistogram":{"dataPoints":[{)"
            R"("positive":{"offset":-2,"bucketCounts":["7","300","0"]}}]}}]}]}]})");
  // And back: written packed.
  std::string again = ToProto(Signal::kMetrics, json);
  EXPECT_EQ(ToJson(Signal::kMetrics, again), json);
  EXPECT_LT(again.size(), proto.size());
}

TEST_F(JsonCodecTest, ProtoToJsonLastScalarWinsAndSingularMessagesMerge) {
  Proto span;
  span.Bytes(5, "first")
      .Msg(15, Proto().Bytes(2, "msg"))
      .Varint(6, 1)
      .Bytes(5, "second")
      .Msg(15, Proto().Varint(3, 2))
      .Varint(6, 0);  // an explicit default that wins: kind is omitted
  EXPECT_EQ(ToJson(Signal::kTraces, SpanRequestProto(span)),
            R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"second","status":{"message":"msg","code":2}}]}]}]})");
}

TEST_F(JsonCodecTest, ProtoToJsonOneofKeepsTheLastMember) {
  // AnyValue: string, then int, then a kvlist, then a second kvlist that merges with it.
  Proto value;
  value.Bytes(1, "s")
      .Varint(3, 5)
      .Msg(6, Proto().Msg(1, Proto().Bytes(1, "k1")))
      .Msg(6, Proto().Msg(1, Proto().Bytes(1, "k2")));
  EXPECT_EQ(ToJson(Signal::kLogs, LogRequestProto(Proto().Msg(5, value))),
            R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"k1"},{"key":"k2"}]}}}]}]}]})");
  // A member set again after another member starts afresh.
  Proto again;
  again.Msg(5, Proto().Msg(1, Proto().Bytes(1, "old"))).Bytes(1, "x").Msg(5, Proto().Msg(1, Proto().Varint(3, 1)));
  EXPECT_EQ(ToJson(Signal::kLogs, LogRequestProto(Proto().Msg(5, again))),
            R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"arrayValue":{"values":[{"intValue":"1"}]}}}]}]}]})");
  // NumberDataPoint value: asDouble then asInt.
  Proto point;
  point.Double(4, 1.5).Fixed64(6, 3);
  EXPECT_EQ(ToJson(Signal::kMetrics, MetricRequestProto(Proto().Msg(5, Proto().Msg(1, point)))),
            R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asInt":"3"}]}}]}]}]})");
  // Histogram sum/min/max are independent optionals, all kept.
  Proto hist;
  hist.Double(5, 1).Double(11, 2).Double(12, 3);
  EXPECT_EQ(ToJson(Signal::kMetrics, MetricRequestProto(Proto().Msg(9, Proto().Msg(1, hist)))),
            R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"sum":1,"min":2,"max":3}]}}]}]}]})");
  // An overwritten oneof member must still be well-formed.
  Proto bad;
  bad.Bytes(5, "\x0a\x05").Bytes(1, "x");
  std::string out;
  EXPECT_FALSE(codec_.ProtoToJson(Signal::kLogs, LogRequestProto(Proto().Msg(5, bad)), &out).ok());
}

TEST_F(JsonCodecTest, ProtoToJsonRejectsMalformedProtobufAndLeavesOutputAlone) {
  const std::string good = SpanRequestProto(Proto().Bytes(1, Unhex(kTraceIdHex)).Bytes(5, "n"));
  std::vector<std::pair<std::string, std::string>> cases = {
      {"truncated", good.substr(0, good.size() - 1)},
      {"bad length", std::string("\x0a\x05\x12\x01", 4)},
      {"wrong wire type", Proto().Varint(1, 1).str()},
      {"short trace id", SpanRequestProto(Proto().Bytes(1, "abc"))},
      {"group", std::string("\x0b", 1)},
      {"field zero", std::string("\x00\x00", 2)},
  };
  for (const auto& [name, proto] : cases) {
    std::string out = "keep";
    absl::Status s = codec_.ProtoToJson(Signal::kTraces, proto, &out);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_MATCH(s.message(), HasSubstr("malformed OTLP protobuf")) << name;
    EXPECT_EQ(out, "keep") << name;
  }
  EXPECT_EQ(ToJson(Signal::kTraces, ""), "{}");
}

TEST_F(JsonCodecTest, EveryFieldOfEverySignalRoundTrips) {
  const std::string traces =
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}],)"
      R"("droppedAttributesCount":1,"entityRefs":[{"schemaUrl":"u","type":"t","idKeys":["a","b"],"descriptionKeys":["c"]}]},)"
      R"("scopeSpans":[{"scope":{"name":"n","version":"v","attributes":[{"key":"k","value":{"boolValue":true}}],)"
      R"("droppedAttributesCount":2},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",)"
      R"("traceState":"ts","parentSpanId":"eee19b7ec3c1b175","flags":769,"name":"op","kind":2,)"
      R"("startTimeUnixNano":"1","endTimeUnixNano":"18446744073709551615",)"
      R"("attributes":[{"key":"d","value":{"doubleValue":1.25}}],"droppedAttributesCount":3,)"
      R"("events":[{"timeUnixNano":"2","name":"ev","attributes":[{"key":"x","value":{"intValue":"-1"}}],"droppedAttributesCount":4}],)"
      R"("droppedEventsCount":5,"links":[{"traceId":"00000000000000000000000000000001","spanId":"0000000000000002",)"
      R"("traceState":"lts","attributes":[{"key":"y","value":{"bytesValue":"AQID"}}],"droppedAttributesCount":6,"flags":1}],)"
      R"("droppedLinksCount":7,"status":{"message":"m","code":2}}],"schemaUrl":"s1"}],"schemaUrl":"s2"}]})";
  const std::string logs =
      R"({"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{"timeUnixNano":"3",)"
      R"("observedTimeUnixNano":"4","severityNumber":9,"severityText":"INFO","body":{"kvlistValue":{"values":[)"
      R"({"key":"a","value":{"arrayValue":{"values":[{"stringValue":"x"},{}]}}}]}},"attributes":[{"key":"k"}],)"
      R"("droppedAttributesCount":1,"flags":1,"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",)"
      R"("eventName":"e"}],"schemaUrl":"s"}],"schemaUrl":"r"}]})";
  const std::string metrics =
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[)"
      R"({"name":"g","description":"d","unit":"1","gauge":{"dataPoints":[{"attributes":[{"key":"k","value":{"stringValue":"v"}}],)"
      R"("startTimeUnixNano":"1","timeUnixNano":"2","asDouble":0.5,"exemplars":[{"filteredAttributes":[{"key":"f"}],)"
      R"("timeUnixNano":"3","asInt":"4","spanId":"eee19b7ec3c1b174","traceId":"5b8efff798038103d269b633813fc60c"}],"flags":1}]},)"
      R"("metadata":[{"key":"meta","value":{"intValue":"1"}}]},)"
      R"({"name":"s","sum":{"dataPoints":[{"asInt":"-7"}],"aggregationTemporality":2,"isMonotonic":true}},)"
      R"({"name":"h","histogram":{"dataPoints":[{"timeUnixNano":"5","count":"3","sum":1.5,"bucketCounts":["1","2"],)"
      R"("explicitBounds":[1],"exemplars":[{"asDouble":2}],"flags":1,"min":0,"max":9}],"aggregationTemporality":1}},)"
      R"({"name":"e","exponentialHistogram":{"dataPoints":[{"count":"4","sum":2,"scale":-2,"zeroCount":"1",)"
      R"("positive":{"offset":-1,"bucketCounts":["1","2"]},"negative":{"offset":3,"bucketCounts":["0"]},"flags":1,)"
      R"("min":-1,"max":1,"zeroThreshold":0.001}],"aggregationTemporality":2}},)"
      R"({"name":"q","summary":{"dataPoints":[{"count":"2","sum":3,"quantileValues":[{"quantile":0.5,"value":1},)"
      R"({"quantile":1,"value":2}],"flags":1}]}},{}]}]}]})";
  // These documents are written in strict canonical form, so the round trip reproduces them exactly.
  EXPECT_EQ(Canonical(Signal::kTraces, traces), traces);
  EXPECT_EQ(Canonical(Signal::kLogs, logs), logs);
  EXPECT_EQ(Canonical(Signal::kMetrics, metrics), metrics);
  absl::StatusOr<RequestSummary> summary = Summarize(Signal::kMetrics, ToProto(Signal::kMetrics, metrics));
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->data_points, 5u);
}

// For any valid protobuf request P, JsonToProto(ProtoToJson(P)) is the same message as P. Checked on
// randomly built requests that use every field of the schema, written in random field order, with
// packed and unpacked repeated scalars.
class RandomRequest {
 public:
  explicit RandomRequest(uint32_t seed) : rng_(seed) {}

  std::string Message(const MessageType& type, int depth) {
    std::string out;
    std::vector<const Field*> fields;
    for (const Field& f : type.fields) fields.push_back(&f);
    std::shuffle(fields.begin(), fields.end(), rng_);
    // At most one member of a oneof, so that the request means what its bytes say field by field.
    bool oneof = type.full_name.ends_with(".AnyValue") || type.full_name.ends_with(".Metric") ||
                 type.full_name.ends_with(".NumberDataPoint") || type.full_name.ends_with(".Exemplar");
    bool oneof_used = false;
    for (const Field* f : fields) {
      if (Pick(3) == 0) continue;
      if (oneof && f->explicit_presence) {
        if (oneof_used) continue;
        oneof_used = true;
      }
      int count = f->repeated ? Pick(4) : 1;
      if (f->type == FieldType::kMessage && depth >= 6) count = 0;
      if (f->repeated && IsPackable(f->type) && count > 0 && Pick(2) == 0) {
        std::string packed;
        for (int i = 0; i < count; ++i) Scalar(*f, &packed);
        AppendTag(&out, f->number, WireType::kLen);
        AppendVarint(&out, packed.size());
        out += packed;
        continue;
      }
      for (int i = 0; i < count; ++i) {
        AppendTag(&out, f->number, f->type == FieldType::kMessage ? WireType::kLen : NaturalWireType(f->type));
        if (f->type == FieldType::kMessage) {
          std::string child = Message(*f->message, depth + 1);
          AppendVarint(&out, child.size());
          out += child;
        } else {
          Scalar(*f, &out);
        }
      }
    }
    return out;
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }

  void Scalar(const Field& f, std::string* out) {
    auto len_prefixed = [&](const std::string& s) {
      AppendVarint(out, s.size());
      *out += s;
    };
    switch (f.type) {
      case FieldType::kString: {
        static const char* kStrings[] = {"", "a", "service.name", "h\xc3\xa9", "q\"\\\n", "\x01"};
        len_prefixed(kStrings[Pick(6)]);
        break;
      }
      case FieldType::kBytes: {
        size_t n = f.role == FieldRole::kTraceId ? 16 : f.role == FieldRole::kSpanId ? 8 : static_cast<size_t>(Pick(7));
        if (f.role != FieldRole::kNone && Pick(4) == 0) n = 0;
        std::string b;
        for (size_t i = 0; i < n; ++i) b.push_back(static_cast<char>(rng_()));
        len_prefixed(b);
        break;
      }
      case FieldType::kBool: AppendVarint(out, static_cast<uint64_t>(Pick(2))); break;
      case FieldType::kInt32:
      case FieldType::kEnum: AppendVarint(out, static_cast<uint64_t>(static_cast<int64_t>(Pick(20) - 3))); break;
      case FieldType::kSint32: {
        int32_t v = Pick(2) ? Pick(100) - 50 : static_cast<int32_t>(rng_());
        AppendVarint(out, (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
        break;
      }
      case FieldType::kUint32: AppendVarint(out, Pick(2) ? rng_() : static_cast<uint32_t>(Pick(3))); break;
      case FieldType::kInt64:
      case FieldType::kUint64: AppendVarint(out, Wide()); break;
      case FieldType::kFixed32: AppendFixed32(out, Pick(2) ? rng_() : 0); break;
      case FieldType::kFixed64:
      case FieldType::kSfixed64: AppendFixed64(out, Wide()); break;
      case FieldType::kDouble: {
        static const double kDoubles[] = {0.0, -0.0, 1.5, -2.25e-300, 1e300, 0.1, 123456789.123,
                                          std::numeric_limits<double>::infinity(),
                                          -std::numeric_limits<double>::infinity(),
                                          std::numeric_limits<double>::quiet_NaN(),
                                          std::numeric_limits<double>::denorm_min()};
        AppendFixed64(out, std::bit_cast<uint64_t>(kDoubles[Pick(11)]));
        break;
      }
      case FieldType::kMessage: break;
    }
  }

  uint64_t Wide() {
    switch (Pick(4)) {
      case 0: return 0;
      case 1: return static_cast<uint64_t>(Pick(1000));
      case 2: return ~uint64_t{0} - static_cast<uint64_t>(Pick(3));
      default: return (static_cast<uint64_t>(rng_()) << 32) | rng_();
    }
  }

  std::mt19937 rng_;
};

TEST_F(JsonCodecTest, RandomRequestsRoundTripThroughJson) {
  for (Signal signal : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
    for (uint32_t seed = 0; seed < 150; ++seed) {
      RandomRequest gen(seed * 3 + static_cast<uint32_t>(signal));
      std::string p = gen.Message(RequestType(signal), 0);
      ASSERT_TRUE(Validate(signal, p).ok());
      std::string j1 = ToJson(signal, p);
      std::string p2 = ToProto(signal, j1);
      // Same message: same canonical JSON, same counts and timestamps (NaN aside, JSON text compares exactly).
      EXPECT_EQ(ToJson(signal, p2), j1) << "seed " << seed;
      absl::StatusOr<RequestSummary> s1 = Summarize(signal, p);
      absl::StatusOr<RequestSummary> s2 = Summarize(signal, p2);
      ASSERT_TRUE(s1.ok() && s2.ok());
      EXPECT_EQ(s1->items(), s2->items());
      EXPECT_EQ(s1->min_time_unix_nano, s2->min_time_unix_nano);
      EXPECT_EQ(s1->service_names, s2->service_names);
      // And the protobuf we write is a fixed point.
      EXPECT_EQ(Hex(ToProto(signal, ToJson(signal, p2))), Hex(p2)) << "seed " << seed;
    }
  }
}

// No input may crash, hang, or produce protobuf that our own walker rejects.
TEST_F(JsonCodecTest, MutatedInputsNeverCrash) {
  std::mt19937 rng(12345);
  std::vector<std::string> seeds = {
      SpanRequest(R"({"traceId":"5b8efff798038103d269b633813fc60c","name":"x","startTimeUnixNano":"12",)"
                  R"("attributes":[{"key":"a","value":{"arrayValue":{"values":[{"intValue":1},{"bytesValue":"AQ=="}]}}}]})"),
      MetricRequest(R"({"histogram":{"dataPoints":[{"bucketCounts":[1,2],"explicitBounds":[0.5],"sum":"NaN"}]}})"),
      LogRequest(R"({"severityNumber":"SEVERITY_NUMBER_INFO","body":{"kvlistValue":{"values":[]}}})"),
  };
  static constexpr char kInteresting[] = "{}[]\":,0123456789-+.eE\\untrfalsNIy ";
  for (int round = 0; round < 3000; ++round) {
    std::string input = seeds[static_cast<size_t>(round) % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !input.empty(); ++e) {
      size_t pos = rng() % input.size();
      switch (rng() % 3) {
        case 0: input[pos] = kInteresting[rng() % (sizeof kInteresting - 1)]; break;
        case 1: input.erase(pos, 1 + rng() % 8); break;
        default: input.insert(pos, 1, kInteresting[rng() % (sizeof kInteresting - 1)]); break;
      }
    }
    for (Signal signal : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
      std::string proto;
      if (codec_.JsonToProto(signal, input, &proto).ok()) {
        EXPECT_TRUE(Validate(signal, proto).ok()) << input;
        // What we accept round-trips to identical bytes.
        EXPECT_EQ(Hex(ToProto(signal, ToJson(signal, proto))), Hex(proto)) << input;
      }
    }
  }
  // Protobuf mutations: ProtoToJson either fails cleanly or writes JSON that reads back.
  std::vector<std::string> protos;
  for (const std::string& s : seeds) protos.push_back(ToProto(Signal::kTraces, s));
  for (int round = 0; round < 3000; ++round) {
    std::string input = protos[static_cast<size_t>(round) % protos.size()];
    if (input.empty()) continue;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !input.empty(); ++e) {
      size_t pos = rng() % input.size();
      if (rng() % 2) {
        input[pos] = static_cast<char>(rng());
      } else {
        input.erase(pos, 1);
      }
    }
    for (Signal signal : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
      std::string json;
      bool ok = codec_.ProtoToJson(signal, input, &json).ok();
      EXPECT_EQ(ok, Validate(signal, input).ok());
      if (ok) {
        EXPECT_EQ(ToJson(signal, ToProto(signal, json)), json);
      }
    }
  }
}

// ---- real OTLP/JSON written by other projects ----

// The recordings of other projects: $OTELRR_TESTDATA, else testdata/otlp of the shared folder beside the repository.
std::string TestdataDir() {
  if (const char* dir = std::getenv("OTELRR_TESTDATA"); dir != nullptr && *dir != '\0') return dir;
  return std::string(OTELRR_SOURCE_DIR) + "/../shared/testdata/otlp";
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct ExpectedCounts {
  uint64_t spans = 0, data_points = 0, log_records = 0;
  bool known = false;
};

// Item counts per file, from the table in SOURCES.md ("spans=178, resources=1").
std::map<std::string, ExpectedCounts> CountsFromSources() {
  std::map<std::string, ExpectedCounts> counts;
  std::istringstream lines(ReadFile(TestdataDir() + "/SOURCES.md"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> columns;
    std::stringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, '|')) columns.push_back(cell);
    if (columns.size() < 6) continue;
    std::string file = columns[1].substr(columns[1].find('`') + 1);
    file = file.substr(0, file.find('`'));
    ExpectedCounts c;
    auto number_after = [&](const std::string& key, uint64_t* v) {
      size_t at = columns[5].find(" " + key + "=");
      if (at == std::string::npos && columns[5].rfind(key + "=", 1) == 1) at = 0;
      if (at == std::string::npos) return;
      *v = std::stoull(columns[5].substr(columns[5].find('=', at) + 1));
      c.known = true;
    };
    number_after("spans", &c.spans);
    number_after("data_points", &c.data_points);
    number_after("log_records", &c.log_records);
    counts[file] = c;
  }
  return counts;
}

// The documents of a file: the whole file, or each non-empty line of a .jsonl.
std::vector<std::string> Documents(const std::filesystem::path& path) {
  std::string text = ReadFile(path);
  if (path.extension() != ".jsonl") return {text};
  std::vector<std::string> docs;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) docs.push_back(line);
  }
  return docs;
}

TEST_F(JsonCodecTest, RealFilesConvertCountAndRoundTrip) {
  std::map<std::string, ExpectedCounts> expected = CountsFromSources();
  ASSERT_FALSE(expected.empty()) << "cannot read " << TestdataDir() << "/SOURCES.md";
  int files = 0;
  for (auto [dir, signal] : {std::pair{"traces", Signal::kTraces}, std::pair{"metrics", Signal::kMetrics},
                             std::pair{"logs", Signal::kLogs}}) {
    for (const auto& entry : std::filesystem::directory_iterator(TestdataDir() + "/" + dir)) {
      std::string name = std::string(dir) + "/" + entry.path().filename().string();
      std::string ext = entry.path().extension().string();
      SCOPED_TRACE(name);
      RequestSummary total;
      if (ext == ".pb") {
        // Real protobuf: to JSON and back gives the same message.
        std::string proto = ReadFile(entry.path());
        std::string json = ToJson(signal, proto);
        std::string back = ToProto(signal, json);
        EXPECT_EQ(ToJson(signal, back), json);
        absl::StatusOr<RequestSummary> a = Summarize(signal, proto);
        absl::StatusOr<RequestSummary> b = Summarize(signal, back);
        ASSERT_TRUE(a.ok() && b.ok());
        EXPECT_EQ(a->items(), b->items());
        EXPECT_EQ(a->resources, b->resources);
        total = *a;
      } else if (ext == ".json" || ext == ".jsonl") {
        for (const std::string& doc : Documents(entry.path())) {
          std::string proto;
          absl::Status s = codec_.JsonToProto(signal, doc, &proto);
          ASSERT_TRUE(s.ok()) << s;
          absl::StatusOr<RequestSummary> summary = Summarize(signal, proto);
          ASSERT_TRUE(summary.ok()) << summary.status();
          total.spans += summary->spans;
          total.data_points += summary->data_points;
          total.log_records += summary->log_records;
          // JSON we write reads back to identical bytes.
          std::string json = ToJson(signal, proto);
          EXPECT_EQ(json.find('\n'), std::string::npos);
          EXPECT_EQ(Hex(ToProto(signal, json)), Hex(proto));
        }
      } else {
        continue;
      }
      ++files;
      auto it = expected.find(name);
      ASSERT_NE(it, expected.end()) << "not listed in SOURCES.md";
      ASSERT_TRUE(it->second.known);
      EXPECT_EQ(total.spans, it->second.spans);
      EXPECT_EQ(total.data_points, it->second.data_points);
      EXPECT_EQ(total.log_records, it->second.log_records);
    }
  }
  EXPECT_GE(files, 50);
}

TEST_F(JsonCodecTest, RealFilesKeepWhatTheyHold) {
  // A u64 timestamp above INT64_MAX.
  std::string proto = ToProto(Signal::kLogs, ReadFile(TestdataDir() + "/logs/duckdb-otlp_ts_overflow.jsonl"));
  absl::StatusOr<RequestSummary> summary = Summarize(Signal::kLogs, proto);
  ASSERT_TRUE(summary.ok());
  EXPECT_GT(summary->max_time_unix_nano, static_cast<uint64_t>(INT64_MAX));
  // Legacy instrumentationLibrary* names.
  proto = ToProto(Signal::kMetrics, ReadFile(TestdataDir() + "/metrics/contrib-testbed_k8s-metrics_legacy.json"));
  std::string json = ToJson(Signal::kMetrics, proto);
  EXPECT_MATCH(json, HasSubstr("\"scopeMetrics\":[{\"scope\":{},\"metrics\":[{\"name\":"));
  EXPECT_EQ(json.find("instrumentationLibrary"), std::string::npos);
  // Snake case and string enums.
  proto = ToProto(Signal::kTraces, ReadFile(TestdataDir() + "/traces/grafana-tns-demo_snake-mixed.json"));
  summary = Summarize(Signal::kTraces, proto);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->resources, 6u);
  EXPECT_FALSE(summary->service_names.empty());
}

// fluent-bit's accept/reject cases. Our bar is the Collector's decoder, which is more lenient than
// fluent-bit in places: the cases below are rejected by fluent-bit but are valid OTLP/JSON (the
// Collector accepts them, and so do we). Every other expected_error case is rejected by us too.
const std::map<std::string, std::string>& AcceptedDespiteFluentBit() {
  static const auto* kCases = new std::map<std::string, std::string>{
      // Absent repeated fields are empty, not errors, in proto3 JSON.
      {"traces/resourceSpans_missing", "an empty request is valid"},
      {"traces/scopeSpans_missing", "a ResourceSpans without scopeSpans is valid"},
      {"traces/spans_missing", "a ScopeSpans without spans is valid"},
      {"logs/scopeLogs_missing", "a ResourceLogs without scopeLogs is valid"},
      {"logs/resource_valid_scope_missing", "a ResourceLogs without scopeLogs is valid"},
      {"logs/resourceLogs_missing", "an empty request is valid"},
      {"metrics/invalid_resource_metrics_missing", "an empty request is valid"},
      {"metrics/invalid_scope_metrics_missing", "a ResourceMetrics without scopeMetrics is valid"},
      {"metrics/invalid_metrics_missing", "a ScopeMetrics without metrics is valid"},
      {"metrics/invalid_gauge_datapoints_missing", "a Gauge without data points is valid"},
      {"metrics/invalid_sum_datapoints_missing", "a Sum without data points is valid"},
      {"metrics/invalid_histogram_datapoints_missing", "a Histogram without data points is valid"},
      {"metrics/invalid_summary_datapoints_missing", "a Summary without data points is valid"},
      {"metrics/invalid_exponential_histogram_datapoints_missing", "an ExponentialHistogram without points is valid"},
      // Proto3 has no required fields: a missing name is the empty string, a missing id is empty.
      {"traces/span_name_missing", "span name is optional on the wire"},
      {"traces/event_missing_name", "event name is optional on the wire"},
      {"traces/link_missing_trace_id", "an empty link is decodable"},
      {"metrics/invalid_metric_name_missing", "metric name is optional on the wire"},
      {"metrics/missing_metric_type", "a Metric with no data is decodable (the SDKs emit them)"},
      // The Collector reads "" as an absent id (OTLP/JSON: empty ids are allowed).
      {"traces/trace_id_zero_length", "empty trace id = absent"},
      {"traces/span_id_zero_length", "empty span id = absent"},
      {"traces/link_trace_id_zero_length", "empty trace id = absent"},
      {"traces/link_span_id_zero_length", "empty span id = absent"},
      // Base64 ids, as protobuf's generic JSON mapping writes them: we read them (the Collector does not).
      {"logs/base64_encoded_trace_span", "base64 trace and span ids"},
      {"logs/mixed_encoding_formats", "a hex trace id and a base64 span id"},
  };
  return *kCases;
}

// Cases fluent-bit accepts that we refuse, as the Collector does.
const std::map<std::string, std::string>& RejectedDespiteFluentBit() {
  static const auto* kCases = new std::map<std::string, std::string>{
      // fluent-bit drops the data point; the Collector's decoder fails on a non-numeric string.
      {"metrics/valid_invalid_numeric_skips_points", "asDouble \"12.0oops\" is not a number"},
      // fluent-bit reads "OK" as STATUS_CODE_OK; the Collector looks enum strings up by their full
      // proto name only, and refuses the request.
      {"traces/valid_with_event_and_link", "status code \"OK\" is not a StatusCode name"},
  };
  return *kCases;
}

TEST_F(JsonCodecTest, FluentBitEdgeCases) {
  int checked = 0;
  for (auto [file, signal] :
       {std::pair{"traces", Signal::kTraces}, std::pair{"logs", Signal::kLogs}, std::pair{"metrics", Signal::kMetrics}}) {
    std::string path = TestdataDir() + "/edge-cases/fluent-bit_" + file + "_cases.json";
    std::string text = ReadFile(path);
    simdjson::dom::parser parser;
    simdjson::dom::object cases;
    ASSERT_EQ(parser.parse(text).get(cases), simdjson::SUCCESS) << path;
    for (simdjson::dom::key_value_pair c : cases) {
      std::string name = std::string(file) + "/" + std::string(c.key);
      SCOPED_TRACE(name);
      simdjson::dom::element input;
      ASSERT_EQ(c.value["input"].get(input), simdjson::SUCCESS);
      std::string input_json = simdjson::minify(input);
      bool fluent_bit_rejects = c.value["expected_error"].error() == simdjson::SUCCESS;
      bool expect_reject = fluent_bit_rejects;
      if (AcceptedDespiteFluentBit().count(name)) {
        ASSERT_TRUE(fluent_bit_rejects) << "stale entry";
        expect_reject = false;
      }
      if (RejectedDespiteFluentBit().count(name)) {
        ASSERT_FALSE(fluent_bit_rejects) << "stale entry";
        expect_reject = true;
      }
      std::string proto;
      absl::Status s = codec_.JsonToProto(signal, input_json, &proto);
      if (expect_reject) {
        EXPECT_FALSE(s.ok()) << input_json;
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      } else {
        ASSERT_TRUE(s.ok()) << s << "\n" << input_json;
        EXPECT_TRUE(Validate(signal, proto).ok());
        std::string json = ToJson(signal, proto);
        EXPECT_EQ(Hex(ToProto(signal, json)), Hex(proto));
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 38 + 61 + 40);
}

}  // namespace
}  // namespace otelrr::otlp

namespace otelrr::otlp {
namespace {

// Doubles of 1e15 and more are written in exponent form, and integers wider than 64 bits, as
// JavaScript writes large doubles, are read as doubles.
TEST(JsonCodecLargeNumbersTest, LargeDoublesRoundTripInBothDirections) {
  JsonCodec codec;
  std::string proto;
  ASSERT_TRUE(codec
                  .JsonToProto(Signal::kMetrics,
                               R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[)"
                               R"({"asDouble":18446744073709551616},{"asDouble":-267814008251094900000}]}}]}]}]})",
                               &proto)
                  .ok());
  std::string json;
  ASSERT_TRUE(codec.ProtoToJson(Signal::kMetrics, proto, &json).ok());
  EXPECT_EQ(json,
            R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[)"
            R"({"asDouble":1.8446744073709552e+19},{"asDouble":-2.678140082510949e+20}]}}]}]}]})");
  std::string again;
  ASSERT_TRUE(codec.JsonToProto(Signal::kMetrics, json, &again).ok());
  EXPECT_EQ(again, proto);
  // A 20-digit integer where an integer is expected is out of range, and says so.
  absl::Status s = codec.JsonToProto(
      Signal::kTraces, R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":184467440737095516160}]}]}]})",
      &again);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("startTimeUnixNano"), std::string::npos) << s.message();
  EXPECT_EQ(codec.JsonToProto(Signal::kTraces, "", &again).message(), "invalid JSON: the input is empty");
}

}  // namespace
}  // namespace otelrr::otlp
