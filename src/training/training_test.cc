#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "annotate/annotation_service.h"
#include "fmt/format.h"
#include "otlp/testing/proto_builder.h"
#include "otlp/wire.h"
#include "session/testing/fixture.h"
#include "training/dataset.h"
#include "training/export.h"
#include "training/items.h"
#include "training/rows.h"

namespace otelrr::training {
namespace {

using otlp::Signal;
using otlp::testing::Attribute;
using otlp::testing::ProtoBuilder;
using otlp::testing::ServiceResource;
using session::testing::kT0;
using session::testing::TraceId;

constexpr uint64_t kSecond = 1'000'000'000ull;

DatasetPhase Phase(std::string name, uint64_t start, uint64_t end) {
  return DatasetPhase{.name = std::move(name), .start_unix_nano = start, .end_unix_nano = end, .end_given = true};
}

TEST(PhaseLabelerTest, AnItemAtAPhasesStartBelongsToItAndAtItsEndToTheNext) {
  const std::vector<DatasetPhase> phases = {Phase("baseline", 100, 200), Phase("failure", 200, 300)};
  const PhaseLabeler labeler(phases);
  EXPECT_EQ(labeler.Label(0), -1);
  EXPECT_EQ(labeler.Label(99), -1);
  EXPECT_EQ(labeler.Label(100), 0);
  EXPECT_EQ(labeler.Label(199), 0);
  EXPECT_EQ(labeler.Label(200), 1);
  EXPECT_EQ(labeler.Label(299), 1);
  EXPECT_EQ(labeler.Label(300), -1);  // the end of the last phase: unlabelled
  EXPECT_EQ(labeler.Label(kOpenEnd), -1);
}

TEST(PhaseLabelerTest, GapsAreUnlabelledAndTheNarrowerOfOverlappingPhasesWins) {
  const std::vector<DatasetPhase> phases = {Phase("wide", 0, 1000), Phase("narrow", 400, 600),
                                            Phase("later", 2000, kOpenEnd)};
  const PhaseLabeler labeler(phases);
  EXPECT_EQ(labeler.Label(399), 0);
  EXPECT_EQ(labeler.Label(400), 1);
  EXPECT_EQ(labeler.Label(599), 1);
  EXPECT_EQ(labeler.Label(600), 0);
  EXPECT_EQ(labeler.Label(999), 0);
  EXPECT_EQ(labeler.Label(1000), -1);
  EXPECT_EQ(labeler.Label(1999), -1);
  EXPECT_EQ(labeler.Label(2000), 2);
  EXPECT_EQ(labeler.Label(kOpenEnd - 1), 2);
  using W = PhaseLabeler::Window;
  EXPECT_EQ(labeler.Windows([](int i) { return i == 0; }), (std::vector<W>{{0, 400}, {600, 1000}}));
  EXPECT_EQ(labeler.Windows([](int i) { return i != 2; }), (std::vector<W>{{0, 1000}}));
  EXPECT_EQ(labeler.Windows([](int i) { return i == 2; }), (std::vector<W>{{2000, kOpenEnd}}));
}

TEST(PhaseLabelerTest, EqualStartsGoToThePhaseListedLastAndEmptyPhasesLabelNothing) {
  const std::vector<DatasetPhase> phases = {Phase("a", 10, 20), Phase("b", 10, 30), Phase("empty", 15, 15)};
  const PhaseLabeler labeler(phases);
  EXPECT_EQ(labeler.Label(10), 1);
  EXPECT_EQ(labeler.Label(15), 1);
  EXPECT_EQ(labeler.Label(25), 1);
  EXPECT_EQ(labeler.Label(30), -1);
}

annotate::Annotation PhaseAnnotation(std::string key, uint64_t start, std::optional<uint64_t> end,
                                     std::vector<std::string> flags = {}, std::string value = "{}") {
  annotate::Annotation a;
  a.annotation_key = std::move(key);
  a.annotation_id = a.annotation_key;
  a.time_range_start_unix_nano = start;
  a.time_range_end_unix_nano = end;
  a.flags = std::move(flags);
  a.annotation_value = std::move(value);
  return a;
}

TEST(PhasesFromAnnotationsTest, SortsFillsOpenEndsLabelsAndFindsOverlappingFiles) {
  session::SessionMetadata m;
  m.files = {{.path = "raw/a", .first_arrival_unix_nano = 0, .last_arrival_unix_nano = 99},
             {.path = "raw/b", .first_arrival_unix_nano = 100, .last_arrival_unix_nano = 250},
             {.path = "raw/c", .first_arrival_unix_nano = 300, .last_arrival_unix_nano = 400}};
  const std::vector<annotate::Annotation> annotations = {
      PhaseAnnotation("test.phase.failure", 200, 300, {"inventoryFailure", "paymentServiceFailure"}),
      PhaseAnnotation("human.verdict", 0, 1000),  // not a phase
      PhaseAnnotation("test.phase.baseline", 100, std::nullopt),
      PhaseAnnotation("test.phase.custom", 500, std::nullopt, {}, R"({"flags":["cpuSpike"],"note":"x"})"),
      PhaseAnnotation("test.phase.failure", 200, 300, {"inventoryFailure", "paymentServiceFailure"}),  // again
  };
  const std::vector<DatasetPhase> phases = PhasesFromAnnotations(annotations, m);
  ASSERT_EQ(phases.size(), 3u);
  EXPECT_EQ(phases[0].name, "baseline");
  EXPECT_EQ(phases[0].start_unix_nano, 100u);
  EXPECT_EQ(phases[0].end_unix_nano, 200u);  // until the next phase starts
  EXPECT_FALSE(phases[0].end_given);
  EXPECT_EQ(phases[0].anomaly, "normal");
  EXPECT_EQ(phases[0].files, (std::vector<std::string>{"raw/b"}));
  EXPECT_EQ(phases[1].name, "failure");
  EXPECT_EQ(phases[1].annotation_key, "test.phase.failure");
  EXPECT_EQ(phases[1].end_unix_nano, 300u);
  EXPECT_TRUE(phases[1].end_given);
  EXPECT_EQ(phases[1].anomaly, "inventoryFailure|paymentServiceFailure");
  EXPECT_EQ(phases[1].files, (std::vector<std::string>{"raw/b"}));  // c starts at the phase's end: outside
  EXPECT_EQ(phases[2].name, "custom");
  EXPECT_EQ(phases[2].end_unix_nano, kOpenEnd);  // the last phase without an end runs for ever
  EXPECT_EQ(phases[2].flags, (std::vector<std::string>{"cpuSpike"}));  // from the value
  EXPECT_EQ(phases[2].anomaly, "cpuSpike");
  EXPECT_TRUE(phases[2].files.empty());
}

TEST(CsvTest, QuotesOnlyWhatRfc4180RequiresAndDoublesQuotes) {
  auto csv = [](std::string_view s) {
    std::string out;
    AppendCsvField(s, &out);
    return out;
  };
  EXPECT_EQ(csv(""), "");
  EXPECT_EQ(csv("GET /cart"), "GET /cart");
  EXPECT_EQ(csv("a,b"), "\"a,b\"");
  EXPECT_EQ(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv("\""), "\"\"\"\"");
  EXPECT_EQ(csv("line\nnext"), "\"line\nnext\"");
  EXPECT_EQ(csv("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(csv("caf\xc3\xa9"), "caf\xc3\xa9");  // valid UTF-8 is kept, unquoted
  EXPECT_EQ(csv("bad\xff,x"), "\"bad\xef\xbf\xbd,x\"");  // invalid bytes become U+FFFD
  EXPECT_EQ(csv("cut\xc3"), "cut\xef\xbf\xbd");
}

std::string Id8(uint8_t last) { return std::string(7, '\x02') + static_cast<char>(last); }

ProtoBuilder IntAttribute(std::string_view key, int64_t v) {
  return ProtoBuilder().Bytes(1, key).Msg(2, ProtoBuilder().Varint(3, static_cast<uint64_t>(v)));
}

std::string Request(std::string_view service, std::string_view item) {
  return ProtoBuilder()
      .Msg(1, ProtoBuilder().Msg(1, ServiceResource(service)).Msg(2, ProtoBuilder().Bytes(2, item)))
      .str();
}

constexpr uint64_t kStart = 1795693544123000000ull;

std::string ErrorSpan(uint64_t start) {
  return ProtoBuilder()
      .Bytes(1, TraceId(7))
      .Bytes(2, Id8(1))
      .Bytes(4, Id8(2))
      .Bytes(5, "GET /cart")
      .Varint(6, 2)
      .Fixed64(7, start)
      .Fixed64(8, start + 1500)
      .Msg(9, Attribute("http.method", "OLD"))  // the older name: the newer one below wins its column
      .Msg(9, Attribute("http.request.method", "GET"))
      .Msg(9, IntAttribute("http.response.status_code", 503))
      .Msg(9, Attribute("db.statement", "SELECT a, \"b\"\nFROM t"))
      .Msg(15, ProtoBuilder().Bytes(2, "upstream, \"cart\" down").Varint(3, 2))
      .str();
}

// The one item of a request, through the walker, formatted.
std::string Row(Format format, Signal signal, const std::string& request, const Labels& labels) {
  ItemWalker walker;
  RowFormatter rows(format);
  std::string out;
  absl::Status s = walker.Walk(signal, request, {
      .span = [&](const SpanView& v) { rows.Span(v, labels, &out); },
      .point = [&](const PointView& v) { rows.Point(v, labels, &out); },
      .log = [&](const LogView& v) { rows.Log(v, labels, &out); },
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(RowsTest, SpanRowAsJsonLinesAndCsv) {
  const std::string request = Request("cart", ErrorSpan(kStart));
  const Labels labels{.phase = "failure", .anomaly = "inventoryFailure"};
  EXPECT_EQ(Row(Format::kJsonl, Signal::kTraces, request, labels),
            R"({"trace_id":"01010101010101010000000000000007","span_id":"0202020202020201",)"
            R"("parent_span_id":"0202020202020202","service_name":"cart","span_name":"GET /cart","span_kind":"server",)"
            R"("start_time_unix_nano":1795693544123000000,"end_time_unix_nano":1795693544123001500,"duration_ns":1500,)"
            R"("status_code":"error","status_message":"upstream, \"cart\" down","http_method":"GET",)"
            R"("http_route":null,"http_status_code":503,"rpc_system":null,"rpc_service":null,"rpc_method":null,)"
            R"("rpc_grpc_status_code":null,"db_system":null,"db_statement":"SELECT a, \"b\"\nFROM t","error":true,)"
            R"("attributes":{"http.method":"OLD","http.request.method":"GET","http.response.status_code":503,)"
            R"("db.statement":"SELECT a, \"b\"\nFROM t"},"phase":"failure","anomaly":"inventoryFailure"})"
            "\n");
  EXPECT_EQ(Row(Format::kCsv, Signal::kTraces, request, labels),
            "01010101010101010000000000000007,0202020202020201,0202020202020202,cart,GET /cart,server,"
            "1795693544123000000,1795693544123001500,1500,error,\"upstream, \"\"cart\"\" down\",GET,,503,,,,,,"
            "\"SELECT a, \"\"b\"\"\nFROM t\",true,"
            R"("{""http.method"":""OLD"",""http.request.method"":""GET"",""http.response.status_code"":503,)"
            R"(""db.statement"":""SELECT a, \""b\""\nFROM t""}",failure,inventoryFailure)"
            "\n");
  std::string header;
  RowFormatter(Format::kCsv).Header(Signal::kTraces, &header);
  EXPECT_EQ(header,
            "trace_id,span_id,parent_span_id,service_name,span_name,span_kind,start_time_unix_nano,end_time_unix_nano,"
            "duration_ns,status_code,status_message,http_method,http_route,http_status_code,rpc_system,rpc_service,"
            "rpc_method,rpc_grpc_status_code,db_system,db_statement,error,attributes,phase,anomaly\n");
}

TEST(RowsTest, RpcAndDatabaseColumnsTakeTheNewestNames) {
  const std::string span = ProtoBuilder()
                               .Bytes(1, TraceId(1))
                               .Bytes(2, Id8(3))
                               .Bytes(5, "SELECT stock")
                               .Varint(6, 3)
                               .Fixed64(7, kStart)
                               .Msg(9, Attribute("rpc.system", "grpc"))
                               .Msg(9, Attribute("rpc.service", "shop.Inventory"))
                               .Msg(9, Attribute("rpc.method", "CheckStock"))
                               .Msg(9, IntAttribute("rpc.grpc.status_code", 14))
                               .Msg(9, Attribute("db.system.name", "postgresql"))
                               .Msg(9, Attribute("db.system", "older"))
                               .Msg(9, Attribute("db.query.text", "SELECT 1"))
                               .str();
  EXPECT_EQ(Row(Format::kCsv, Signal::kTraces, Request("inventory", span), {.phase = "", .anomaly = "unlabelled"}),
            "01010101010101010000000000000001,0202020202020203,,inventory,SELECT stock,client,1795693544123000000,0,,"
            "unset,,,,,grpc,shop.Inventory,CheckStock,14,postgresql,SELECT 1,false,"
            R"("{""rpc.system"":""grpc"",""rpc.service"":""shop.Inventory"",""rpc.method"":""CheckStock"",)"
            R"(""rpc.grpc.status_code"":14,""db.system.name"":""postgresql"",""db.system"":""older"",)"
            R"(""db.query.text"":""SELECT 1""}",,unlabelled)"
            "\n");
}

std::string Metric(std::string_view name, std::string_view unit, uint32_t data_field, const ProtoBuilder& data) {
  return ProtoBuilder().Bytes(1, name).Bytes(3, unit).Msg(data_field, data).str();
}

TEST(RowsTest, MetricPointRows) {
  const Labels labels{.phase = "baseline", .anomaly = "normal"};
  const std::string gauge = Metric("cpu", "1", 5,
                                   ProtoBuilder().Msg(1, ProtoBuilder()
                                                             .Fixed64(3, kStart)
                                                             .Double(4, 0.25)
                                                             .Msg(7, Attribute("host", "h1"))));
  EXPECT_EQ(Row(Format::kJsonl, Signal::kMetrics, Request("cart", gauge), labels),
            R"({"metric_name":"cpu","metric_type":"gauge","unit":"1","service_name":"cart",)"
            R"("start_time_unix_nano":0,"time_unix_nano":1795693544123000000,"value":0.25,"count":null,"sum":null,)"
            R"("temporality":null,"monotonic":null,"attributes":{"host":"h1"},"phase":"baseline","anomaly":"normal"})"
            "\n");
  // A sum's temporality and monotonicity may follow its points on the wire.
  const std::string sum = Metric("requests", "{request}", 7,
                                 ProtoBuilder()
                                     .Msg(1, ProtoBuilder().Fixed64(2, kStart - 5).Fixed64(3, kStart).Fixed64(6, 42))
                                     .Varint(2, 2)
                                     .Varint(3, 1));
  EXPECT_EQ(Row(Format::kCsv, Signal::kMetrics, Request("cart", sum), labels),
            "requests,sum,{request},cart,1795693544122999995,1795693544123000000,42,,,cumulative,true,{},baseline,"
            "normal\n");
  const std::string histogram =
      Metric("latency", "ms", 9,
             ProtoBuilder()
                 .Msg(1, ProtoBuilder().Fixed64(3, kStart).Fixed64(4, 3).Double(5, 7.5).Msg(9, Attribute("route", "/a")))
                 .Varint(2, 1));
  EXPECT_EQ(Row(Format::kJsonl, Signal::kMetrics, Request("cart", histogram), labels),
            R"({"metric_name":"latency","metric_type":"histogram","unit":"ms","service_name":"cart",)"
            R"("start_time_unix_nano":0,"time_unix_nano":1795693544123000000,"value":null,"count":3,"sum":7.5,)"
            R"("temporality":"delta","monotonic":null,"attributes":{"route":"/a"},"phase":"baseline","anomaly":"normal"})"
            "\n");
}

TEST(RowsTest, LogRowTakesItsObservedTimeWhenItsTimeIsUnset) {
  const std::string log =
      ProtoBuilder()
          .Fixed64(11, kStart)
          .Varint(2, 17)
          .Bytes(3, "ERROR")
          .Msg(5, ProtoBuilder().Bytes(1, "boom, \"x\""))
          .Msg(6, ProtoBuilder().Bytes(1, "list").Msg(2, ProtoBuilder().Msg(5, ProtoBuilder()
                                                                                    .Msg(1, ProtoBuilder().Varint(3, 1))
                                                                                    .Msg(1, ProtoBuilder().Varint(2, 1))
                                                                                    .Msg(1, ProtoBuilder().Bytes(1, "s")))))
          .Bytes(9, TraceId(7))
          .Bytes(10, Id8(1))
          .str();
  const Labels labels{.phase = "failure", .anomaly = "a|b"};
  EXPECT_EQ(Row(Format::kJsonl, Signal::kLogs, Request("cart", log), labels),
            R"({"label_time_unix_nano":1795693544123000000,"time_unix_nano":0,"observed_time_unix_nano":1795693544123000000,)"
            R"("severity_number":17,"severity_text":"ERROR","body":"boom, \"x\"","service_name":"cart",)"
            R"("trace_id":"01010101010101010000000000000007","span_id":"0202020202020201",)"
            R"("attributes":{"list":[1,true,"s"]},"phase":"failure","anomaly":"a|b"})"
            "\n");
  EXPECT_EQ(Row(Format::kCsv, Signal::kLogs, Request("cart", log), labels),
            "1795693544123000000,0,1795693544123000000,17,ERROR,\"boom, \"\"x\"\"\",cart,"
            "01010101010101010000000000000007,0202020202020201,\"{\"\"list\"\":[1,true,\"\"s\"\"]}\",failure,a|b\n");
}

TEST(RowsTest, JsonLinesKeysAreTheCsvColumns) {
  for (Signal signal : otlp::kSignals) {
    const std::string request = signal == Signal::kTraces    ? session::testing::TraceRequest(1, 1)
                                : signal == Signal::kMetrics ? session::testing::MetricsRequest(1)
                                                             : session::testing::LogsRequest(1);
    std::string row = Row(Format::kJsonl, signal, request, {.phase = "", .anomaly = "unlabelled"});
    std::string keys;
    for (std::string_view name : ColumnNames(signal)) {
      const size_t at = row.find(fmt::format("\"{}\":", name));
      EXPECT_NE(at, std::string::npos) << name;
    }
    EXPECT_EQ(static_cast<size_t>(std::count(row.begin(), row.end(), ':')), ColumnNames(signal).size())
        << "one key per column: " << row;
  }
}

TEST(ItemWalkerTest, CountsWhatTheSessionCounts) {
  const std::string requests[] = {session::testing::TraceRequest(3, 5), session::testing::MetricsRequest(4),
                                  session::testing::LogsRequest(6, 2)};
  ItemWalker walker;
  for (size_t i = 0; i < 3; ++i) {
    const Signal signal = otlp::kSignals[i];
    uint64_t items = 0;
    ASSERT_TRUE(walker
                    .Walk(signal, requests[i],
                          {.span = [&](const SpanView&) { ++items; },
                           .point = [&](const PointView&) { ++items; },
                           .log = [&](const LogView&) { ++items; },
                           .times_only = true})
                    .ok());
    absl::StatusOr<otlp::RequestSummary> summary = otlp::Summarize(signal, requests[i]);
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(items, summary->items());
    EXPECT_GT(items, 0u);
  }
  absl::Status bad = walker.Walk(Signal::kTraces, "\x0a\x05\x12\x09", {});
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
}

// ---- the export, on a session in a temp store ----

std::string SpanAt(uint64_t start) {
  return ProtoBuilder().Bytes(1, TraceId(1)).Bytes(2, Id8(1)).Bytes(5, "op").Fixed64(7, start).Fixed64(8, start + 10).str();
}

std::string Spans(const std::vector<uint64_t>& starts) {
  ProtoBuilder scope;
  for (uint64_t t : starts) scope.Bytes(2, SpanAt(t));
  return ProtoBuilder().Msg(1, ProtoBuilder().Msg(1, ServiceResource("svc")).Msg(2, scope)).str();
}

std::string Points(const std::vector<uint64_t>& times) {
  ProtoBuilder gauge;
  for (uint64_t t : times) gauge.Msg(1, ProtoBuilder().Fixed64(3, t).Fixed64(6, 1));
  return Request("svc", Metric("m", "1", 5, gauge));
}

std::string Logs(const std::vector<std::pair<uint64_t, uint64_t>>& times) {  // (time, observed)
  ProtoBuilder scope;
  for (auto [t, o] : times) scope.Bytes(2, ProtoBuilder().Fixed64(1, t).Fixed64(11, o).str());
  return ProtoBuilder().Msg(1, ProtoBuilder().Msg(1, ServiceResource("svc")).Msg(2, scope)).str();
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The phase column (the one before last) of each row of a CSV file without quoted fields.
std::vector<std::string> PhaseColumn(const std::string& csv) {
  std::vector<std::string> out;
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    const size_t last = line.rfind(',');
    const size_t before = line.rfind(',', last - 1);
    out.push_back(line.substr(before + 1, last - before - 1));
  }
  return out;
}

class ExportTest : public session::testing::SessionTest {
 protected:
  static constexpr uint64_t kPhase = 10 * kSecond;

  void SetUp() override {
    SessionTest::SetUp();
    std::unique_ptr<session::SessionWriter> w = NewWriter("s", Options());
    ASSERT_NE(w, nullptr);
    w->metadata().phases = {{.name = "baseline", .annotation_key = "test.phase.baseline",
                             .start_time_unix_nano = kT0, .end_time_unix_nano = kT0 + kPhase},
                            {.name = "failure", .annotation_key = "test.phase.failure",
                             .start_time_unix_nano = kT0 + kPhase, .end_time_unix_nano = kT0 + 2 * kPhase,
                             .flags = {"inventoryFailure"}}};
    // Arrival says nothing: every item arrives in the failure phase, and is labelled by its own time.
    const uint64_t arrival = kT0 + kPhase + kSecond;
    ASSERT_TRUE(w->Append(Rec(arrival, Signal::kTraces,
                              Spans({kT0 - 1, kT0, kT0 + kPhase - 1, kT0 + kPhase, kT0 + 2 * kPhase})))
                    .ok());
    ASSERT_TRUE(w->Append(Rec(arrival + 1, Signal::kMetrics, Points({kT0 + 2 * kPhase - 1, kT0 + 5}))).ok());
    ASSERT_TRUE(w->Append(Rec(arrival + 2, Signal::kLogs, Logs({{0, kT0 + kPhase}, {kT0 + 5 * kSecond, 0}}))).ok());
    ASSERT_TRUE(w->Close().ok());
    out_ = dir_.path() / "out";
  }

  absl::StatusOr<TrainingDataset> Describe() {
    annotate::AnnotationService annotations(*sessions_, nullptr);
    return DescribeSession(*sessions_, annotations, "s");
  }

  std::filesystem::path out_;
};

TEST_F(ExportTest, ShowCountsEachItemInThePhaseOfItsOwnTime) {
  annotate::AnnotationService annotations(*sessions_, nullptr);
  absl::StatusOr<TrainingDataset> d = BuildDataset(*sessions_, annotations, "s");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->phases.size(), 2u);
  using C = otlp::PerSignal<uint64_t>;
  auto counts = [](uint64_t spans, uint64_t points, uint64_t logs) {
    C c;
    c[Signal::kTraces] = spans;
    c[Signal::kMetrics] = points;
    c[Signal::kLogs] = logs;
    return c;
  };
  EXPECT_EQ(d->phases[0].items, counts(2, 1, 1));  // kT0, kT0 + phase - 1; kT0 + 5; kT0 + 5 s
  EXPECT_EQ(d->phases[1].items, counts(1, 1, 1));  // kT0 + phase; the point just before the end; observed time
  EXPECT_EQ(d->unlabelled, counts(2, 0, 0));       // before the first phase, at the end of the last
  EXPECT_EQ(d->items, counts(5, 2, 2));
  EXPECT_EQ(d->anomaly_types, (std::vector<AnomalyType>{{.name = "inventoryFailure", .phases = {"failure"}}}));
  EXPECT_EQ(d->annotations_from, "session");
  // Every raw file arrived in the failure phase.
  EXPECT_TRUE(d->phases[0].files.empty());
  EXPECT_EQ(d->phases[1].files.size(), 3u);

  JsonWriter w;
  WriteJson(*d, &w);
  EXPECT_NE(w.str().find(R"("labels":{"phase":"failure","anomaly":"inventoryFailure"})"), std::string::npos) << w.str();
  EXPECT_NE(w.str().find(R"("unlabelled":{"labels":{"phase":"","anomaly":"unlabelled"},)"
                         R"("counts":{"spans":2,"dataPoints":0,"logRecords":0}})"),
            std::string::npos)
      << w.str();
}

TEST_F(ExportTest, WritesEveryRowWithItsLabelsAndTheDataset) {
  absl::StatusOr<TrainingDataset> d = Describe();
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<ExportReport> r =
      ExportDataset(*sessions_, *d, {.dir = out_.string(), .format = Format::kCsv, .buffer_bytes = 16});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->files.size(), 3u);
  EXPECT_EQ(r->files[0].rows, 5u);
  EXPECT_EQ(r->files[1].rows, 2u);
  EXPECT_EQ(r->files[2].rows, 2u);
  EXPECT_EQ(PhaseColumn(ReadFile(out_ / "spans.csv")),
            (std::vector<std::string>{"", "baseline", "baseline", "failure", ""}));
  EXPECT_EQ(PhaseColumn(ReadFile(out_ / "metrics.csv")), (std::vector<std::string>{"failure", "baseline"}));
  EXPECT_EQ(PhaseColumn(ReadFile(out_ / "logs.csv")), (std::vector<std::string>{"failure", "baseline"}));
  const std::string spans = ReadFile(out_ / "spans.csv");
  EXPECT_NE(spans.find(",failure,inventoryFailure\n"), std::string::npos);
  EXPECT_NE(spans.find(",,unlabelled\n"), std::string::npos);
  EXPECT_EQ(r->files[0].bytes, spans.size());
  const std::string dataset = ReadFile(out_ / "dataset.json");
  EXPECT_NE(dataset.find("\"sessionId\": \"s\""), std::string::npos) << dataset;
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(out_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"dataset.json", "logs.csv", "metrics.csv", "spans.csv"}));
}

TEST_F(ExportTest, ThePhasesOptionKeepsTheirRowsAndStillCountsEveryPhase) {
  absl::StatusOr<TrainingDataset> d = Describe();
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<ExportReport> r = ExportDataset(
      *sessions_, *d, {.dir = out_.string(), .format = Format::kJsonl, .phases = {"failure"}, .signals = {Signal::kTraces}});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->files.size(), 1u);
  EXPECT_EQ(r->files[0].rows, 1u);
  const std::string spans = ReadFile(out_ / "spans.jsonl");
  EXPECT_EQ(std::count(spans.begin(), spans.end(), '\n'), 1);
  EXPECT_NE(spans.find(fmt::format("\"start_time_unix_nano\":{},", kT0 + kPhase)), std::string::npos) << spans;
  EXPECT_EQ(r->dataset.phases[0].items[Signal::kTraces], 2u);
  EXPECT_EQ(r->dataset.phases[1].items[Signal::kTraces], 1u);
  EXPECT_EQ(r->dataset.phases[1].items[Signal::kLogs], 0u);  // not exported, not counted
  EXPECT_EQ(r->dataset.counted_signals, (std::vector<Signal>{Signal::kTraces}));
  EXPECT_FALSE(std::filesystem::exists(out_ / "metrics.jsonl"));
}

TEST_F(ExportTest, RefusesUnknownPhasesAndADirectoryThatIsAFile) {
  absl::StatusOr<TrainingDataset> d = Describe();
  ASSERT_TRUE(d.ok()) << d.status();
  absl::Status s = ValidateExportOptions(*d, {.dir = out_.string(), .phases = {"failur"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "phase 'failur' is not a phase of session s: its phases are baseline, failure");
  s = ValidateExportOptions(*d, {.dir = out_.string(), .phases = {"failure", "failure"}});
  EXPECT_EQ(s.message(), "phase 'failure' is given twice");
  std::ofstream(dir_.path() / "file") << "x";
  s = ValidateExportOptions(*d, {.dir = (dir_.path() / "file").string()});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("exists and is not a directory"), std::string::npos) << s;
}

TEST_F(ExportTest, ACancelledExportLeavesNoFile) {
  absl::StatusOr<TrainingDataset> d = Describe();
  ASSERT_TRUE(d.ok()) << d.status();
  Cancellation cancel;
  cancel.Cancel();
  absl::StatusOr<ExportReport> r = ExportDataset(*sessions_, *d, {.dir = out_.string(), .cancel = &cancel});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(std::filesystem::is_empty(out_));
}

}  // namespace
}  // namespace otelrr::training
