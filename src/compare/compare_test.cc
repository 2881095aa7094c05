#include <string>
#include <vector>

#include "compare/compare_sessions.h"
#include "compare/comparator.h"
#include "compare/item_digest.h"
#include "compare/report.h"
#include "gtest/gtest.h"
#include "otlp/testing/proto_builder.h"
#include "session/testing/fixture.h"

namespace otelrr::compare {
namespace {

using otlp::Signal;
using otlp::testing::Attribute;
using otlp::testing::ProtoBuilder;
using otlp::testing::ServiceResource;

constexpr uint64_t kT = 1'795'693'544'000'000'000ull;
constexpr uint64_t kSecond = 1'000'000'000ull;

std::string Id(uint64_t n, size_t size) {
  std::string id(size, '\0');
  for (size_t i = 0; i < 8 && i < size; ++i) id[size - 1 - i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return id;
}

struct SpanSpec {
  uint64_t trace = 1;
  uint64_t span = 1;
  std::string name = "GET /cart";
  uint64_t start = kT;
  uint64_t end = kT + 5'000'000;
  std::vector<std::pair<std::string, std::string>> attributes = {{"http.route", "/cart"}};
};

ProtoBuilder Span(const SpanSpec& s) {
  ProtoBuilder b;
  b.Bytes(1, Id(s.trace, 16)).Bytes(2, Id(s.span, 8)).Bytes(5, s.name).Varint(6, 2).Fixed64(7, s.start).Fixed64(8, s.end);
  for (const auto& [k, v] : s.attributes) b.Msg(9, Attribute(k, v));
  return b;
}

std::string Traces(const std::vector<SpanSpec>& spans, std::string_view service = "cart") {
  ProtoBuilder scope;
  scope.Msg(1, ProtoBuilder().Bytes(1, "lib").Bytes(2, "1.0"));
  for (const SpanSpec& s : spans) scope.Msg(2, Span(s));
  return ProtoBuilder().Msg(1, ProtoBuilder().Msg(1, ServiceResource(service)).Msg(2, scope)).str();
}

std::string Logs(const std::vector<std::pair<uint64_t, std::string>>& records, std::string_view level = "info") {
  ProtoBuilder scope;
  for (const auto& [time, body] : records) {
    scope.Msg(2, ProtoBuilder().Fixed64(1, time).Varint(2, 9).Msg(5, ProtoBuilder().Bytes(1, body)).Msg(6, Attribute("level", level)));
  }
  return ProtoBuilder().Msg(1, ProtoBuilder().Msg(1, ServiceResource("pay")).Msg(2, scope)).str();
}

std::string Gauge(const std::vector<std::pair<uint64_t, double>>& points, std::string_view name = "cpu") {
  ProtoBuilder gauge;
  for (const auto& [time, value] : points) gauge.Msg(1, ProtoBuilder().Fixed64(3, time).Double(4, value).Msg(7, Attribute("core", "0")));
  ProtoBuilder metric;
  metric.Bytes(1, name).Bytes(3, "1").Msg(5, gauge);
  return ProtoBuilder().Msg(1, ProtoBuilder().Msg(1, ServiceResource("host")).Msg(2, ProtoBuilder().Msg(2, metric))).str();
}

CompareReport Compare(CompareOptions options, const std::vector<std::pair<Signal, std::string>>& a,
                  const std::vector<std::pair<Signal, std::string>>& b) {
  Comparator cmp(std::move(options));
  for (const auto& [signal, payload] : a) EXPECT_TRUE(cmp.Add(Side::kA, signal, payload).ok());
  for (const auto& [signal, payload] : b) EXPECT_TRUE(cmp.Add(Side::kB, signal, payload).ok());
  auto reread = [&](const std::function<absl::Status(Signal, std::string_view)>& fn) -> absl::Status {
    for (const auto& [signal, payload] : a) {
      absl::Status s = fn(signal, payload);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  };
  absl::StatusOr<CompareReport> r = cmp.Finish(reread);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : CompareReport{};
}

SpanSpec Shifted(SpanSpec s, uint64_t by) {
  s.start += by;
  s.end += by;
  return s;
}

TEST(ItemDigestTest, SameMeaningSameHashWhateverTheEncoding) {
  // Attributes in another order, a default value written out, an empty status message: the same span.
  std::string a = Traces({{.attributes = {{"a", "1"}, {"b", "2"}}}});
  ProtoBuilder span = Span({.attributes = {{"b", "2"}, {"a", "1"}}});
  span.Varint(10, 0).Msg(15, ProtoBuilder());
  ProtoBuilder scope;
  scope.Msg(1, ProtoBuilder().Bytes(1, "lib").Bytes(2, "1.0")).Msg(2, span);
  std::string b = ProtoBuilder().Msg(1, ProtoBuilder().Msg(1, ServiceResource("cart")).Msg(2, scope)).str();
  ItemDigester d;
  uint64_t ha = 0, hb = 0;
  ASSERT_TRUE(d.Digest(Signal::kTraces, a, [&](const ItemDigest& i) { ha = i.content; }).ok());
  ASSERT_TRUE(d.Digest(Signal::kTraces, b, [&](const ItemDigest& i) { hb = i.content; }).ok());
  EXPECT_NE(ha, 0u);
  EXPECT_EQ(ha, hb);
  // A value that differs does not hash the same.
  uint64_t hc = 0;
  ASSERT_TRUE(d.Digest(Signal::kTraces, Traces({{.attributes = {{"a", "1"}, {"b", "3"}}}}),
                       [&](const ItemDigest& i) { hc = i.content; }).ok());
  EXPECT_NE(ha, hc);
}

TEST(ItemDigestTest, AnAttributeWrittenOtherwiseHashesTheSame) {
  // Value before key (the walk) against the usual order (the fast path for plain string attributes).
  ProtoBuilder reversed;
  reversed.Msg(2, ProtoBuilder().Bytes(1, "/cart")).Bytes(1, "http.route");
  ProtoBuilder span = Span({.attributes = {}});
  span.Msg(9, reversed);
  ProtoBuilder scope;
  scope.Msg(1, ProtoBuilder().Bytes(1, "lib").Bytes(2, "1.0")).Msg(2, span);
  std::string b = ProtoBuilder().Msg(1, ProtoBuilder().Msg(1, ServiceResource("cart")).Msg(2, scope)).str();
  ItemDigester d;
  uint64_t ha = 0, hb = 0;
  ASSERT_TRUE(d.Digest(Signal::kTraces, Traces({{}}), [&](const ItemDigest& i) { ha = i.content; }).ok());
  ASSERT_TRUE(d.Digest(Signal::kTraces, b, [&](const ItemDigest& i) { hb = i.content; }).ok());
  EXPECT_EQ(ha, hb);
}

TEST(ItemDigestTest, ZeroIdsAndUnknownFieldsAreNotDifferences) {
  // What the Collector does to a span: an all-zero link id written as empty, an empty parent id written
  // out, an unknown field (a removed or newer one) dropped.
  ProtoBuilder a = Span({});
  a.Msg(13, ProtoBuilder().Bytes(1, std::string(16, '\0')).Bytes(2, std::string(8, '\0'))).Bytes(99, "legacy");
  ProtoBuilder b = Span({});
  b.Msg(13, ProtoBuilder().Bytes(1, "").Bytes(2, "")).Bytes(4, "");
  auto wrap = [](const ProtoBuilder& span) {
    return ProtoBuilder().Msg(1, ProtoBuilder().Msg(1, ServiceResource("cart")).Msg(2, ProtoBuilder().Msg(2, span))).str();
  };
  ItemDigester d;
  uint64_t ha = 0, hb = 0;
  std::vector<FieldText> fa, fb;
  ASSERT_TRUE(d.Digest(Signal::kTraces, wrap(a), [&](const ItemDigest& i) { ha = i.content; fa = Describe(i); }).ok());
  ASSERT_TRUE(d.Digest(Signal::kTraces, wrap(b), [&](const ItemDigest& i) { hb = i.content; fb = Describe(i); }).ok());
  EXPECT_EQ(ha, hb);
  ASSERT_EQ(fa.size(), fb.size());
  for (size_t i = 0; i < fa.size(); ++i) EXPECT_EQ(fa[i].path + "=" + fa[i].value, fb[i].path + "=" + fb[i].value);
}

TEST(ItemDigestTest, ContentIgnoresAMoveInTimeButNotADuration) {
  ItemDigester d;
  std::vector<uint64_t> h;
  for (const SpanSpec& s : {SpanSpec{}, Shifted(SpanSpec{}, 7 * kSecond), SpanSpec{.end = kT + 6'000'000}}) {
    ASSERT_TRUE(d.Digest(Signal::kTraces, Traces({s}), [&](const ItemDigest& i) { h.push_back(i.content); }).ok());
  }
  EXPECT_EQ(h[0], h[1]);
  EXPECT_NE(h[0], h[2]);
}

TEST(ItemDigestTest, MalformedRequestIsDataLoss) {
  ItemDigester d;
  absl::Status s = d.Digest(Signal::kTraces, std::string("\x0a\x05\x01", 3), [](const ItemDigest&) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
}

TEST(ItemDigestTest, DescribeNamesFields) {
  ItemDigester d;
  std::vector<FieldText> fields;
  ASSERT_TRUE(d.Digest(Signal::kTraces, Traces({{}}), [&](const ItemDigest& i) { fields = Describe(i); }).ok());
  auto find = [&](std::string_view path) -> std::string {
    for (const FieldText& f : fields) {
      if (f.path == path) return f.value;
    }
    return "(none)";
  };
  EXPECT_EQ(find("name"), "\"GET /cart\"");
  EXPECT_EQ(find("attributes[http.route]"), "\"/cart\"");
  EXPECT_EQ(find("end_time_unix_nano"), "+5000000ns");
  EXPECT_EQ(find("span_id"), "0x0000000000000001");
  EXPECT_EQ(find("resource.attributes[service.name]"), "\"cart\"");
  EXPECT_EQ(find("scope.name"), "\"lib\"");
}

TEST(ComparatorTest, IdenticalStreamsMatchWithTheShiftInferred) {
  std::vector<std::pair<Signal, std::string>> a, b;
  for (uint64_t i = 1; i <= 50; ++i) {
    SpanSpec s{.trace = i, .span = i, .start = kT + i * kSecond, .end = kT + i * kSecond + 1000};
    a.push_back({Signal::kTraces, Traces({s})});
    b.push_back({Signal::kTraces, Traces({Shifted(s, 3600 * kSecond)})});
    a.push_back({Signal::kLogs, Logs({{kT + i * kSecond, "ok"}})});
    b.push_back({Signal::kLogs, Logs({{kT + i * kSecond + 3600 * kSecond, "ok"}})});
    a.push_back({Signal::kMetrics, Gauge({{kT + i * kSecond, 0.5}})});
    b.push_back({Signal::kMetrics, Gauge({{kT + i * kSecond + 3600 * kSecond, 0.5}})});
  }
  CompareReport r = Compare({}, a, b);
  EXPECT_TRUE(r.identical());
  EXPECT_TRUE(r.shift_inferred);
  EXPECT_EQ(r.shift_nanos, static_cast<int64_t>(3600 * kSecond));
  for (Signal s : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
    EXPECT_EQ(r.signals[s].a, 50u);
    EXPECT_EQ(r.signals[s].b, 50u);
    EXPECT_EQ(r.signals[s].matched, 50u);
  }
  // Per-second buckets of A's time: one item of each signal in each of 50 seconds.
  ASSERT_EQ(r.buckets.size(), 50u);
  EXPECT_EQ(r.buckets[0].a, 3u);
  EXPECT_EQ(r.buckets[0].b, 3u);
  EXPECT_EQ(r.buckets[0].matched, 3u);
}

TEST(ComparatorTest, NamesWhatWasLostAddedDuplicatedAndChanged) {
  std::vector<std::pair<Signal, std::string>> a, b;
  for (uint64_t i = 1; i <= 10; ++i) a.push_back({Signal::kTraces, Traces({{.trace = i, .span = i}})});
  for (uint64_t i = 1; i <= 10; ++i) {
    if (i == 3) continue;  // lost
    SpanSpec s{.trace = i, .span = i};
    if (i == 5) s.attributes = {{"http.route", "/basket"}};  // changed
    b.push_back({Signal::kTraces, Traces({s})});
    if (i == 7) b.push_back({Signal::kTraces, Traces({s})});  // delivered twice
  }
  b.push_back({Signal::kTraces, Traces({{.trace = 99, .span = 99}})});  // never sent
  CompareReport r = Compare({.time = TimeCheck::kExact}, a, b);
  const SignalCounts& t = r.signals[Signal::kTraces];
  EXPECT_EQ(t.a, 10u);
  EXPECT_EQ(t.b, 11u);
  EXPECT_EQ(t.matched, 8u);
  EXPECT_EQ(t.missing, 1u);
  EXPECT_EQ(t.altered, 1u);
  EXPECT_EQ(t.duplicated, 1u);
  EXPECT_EQ(t.extra, 1u);
  EXPECT_EQ(t.a, t.matched + t.altered + t.missing);
  EXPECT_EQ(t.b, t.matched + t.altered + t.extra + t.duplicated);
  bool saw_change = false, saw_missing = false;
  for (const Difference& d : r.differences) {
    if (d.kind == DifferenceKind::kAltered) {
      ASSERT_EQ(d.changes.size(), 1u);
      EXPECT_EQ(d.changes[0].path, "attributes[http.route]");
      EXPECT_EQ(d.changes[0].a, "\"/cart\"");
      EXPECT_EQ(d.changes[0].b, "\"/basket\"");
      EXPECT_NE(d.item.find("trace 00000000000000000000000000000005"), std::string::npos) << d.item;
      saw_change = true;
    }
    if (d.kind == DifferenceKind::kMissing) {
      EXPECT_NE(d.item.find("span 0000000000000003"), std::string::npos) << d.item;
      saw_missing = true;
    }
  }
  EXPECT_TRUE(saw_change);
  EXPECT_TRUE(saw_missing);
  EXPECT_FALSE(r.identical());
}

TEST(ComparatorTest, ChangedLogsAndPointsArePairedAsAltered) {
  std::vector<std::pair<Signal, std::string>> a = {{Signal::kLogs, Logs({{kT, "paid"}, {kT + 1, "shipped"}})},
                                                   {Signal::kMetrics, Gauge({{kT, 0.5}, {kT + kSecond, 0.7}})}};
  std::vector<std::pair<Signal, std::string>> b = {{Signal::kLogs, Logs({{kT, "paid"}}, "info"), },
                                                   {Signal::kLogs, Logs({{kT + 1, "shipped"}}, "debug")},
                                                   {Signal::kMetrics, Gauge({{kT, 0.5}, {kT + kSecond, 0.9}})}};
  CompareReport r = Compare({.time = TimeCheck::kExact}, a, b);
  EXPECT_EQ(r.signals[Signal::kLogs].matched, 1u);
  EXPECT_EQ(r.signals[Signal::kLogs].altered, 1u);
  EXPECT_EQ(r.signals[Signal::kMetrics].matched, 1u);
  EXPECT_EQ(r.signals[Signal::kMetrics].altered, 1u);
  EXPECT_EQ(r.total().missing + r.total().extra, 0u);
  std::vector<std::string> paths;
  for (const Difference& d : r.differences) {
    for (const FieldChange& c : d.changes) paths.push_back(c.path + "=" + c.a + ">" + c.b);
  }
  EXPECT_NE(std::find(paths.begin(), paths.end(), "attributes[level]=\"info\">\"debug\""), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "as_double=0.7>0.9"), paths.end());
}

TEST(ComparatorTest, TimeChecks) {
  std::vector<std::pair<Signal, std::string>> a = {{Signal::kTraces, Traces({{.span = 1}, {.span = 2}})}};
  std::vector<std::pair<Signal, std::string>> b = {
      {Signal::kTraces, Traces({Shifted({.span = 1}, kSecond), Shifted({.span = 2}, kSecond + 5)})}};
  // Exact: both moved. A given shift of 1 s: the second is 5 ns off. Ignore: both match.
  CompareReport exact = Compare({.time = TimeCheck::kExact}, a, b);
  EXPECT_EQ(exact.signals[Signal::kTraces].altered, 2u);
  CompareReport shift = Compare({.time = TimeCheck::kShift, .shift_nanos = static_cast<int64_t>(kSecond)}, a, b);
  EXPECT_EQ(shift.signals[Signal::kTraces].matched, 1u);
  ASSERT_EQ(shift.signals[Signal::kTraces].altered, 1u);
  ASSERT_FALSE(shift.differences.empty());
  EXPECT_EQ(shift.differences[0].changes[0].path, "time (A + shift)");
  EXPECT_NE(shift.differences[0].changes[0].b.find("(+5ns)"), std::string::npos);
  CompareReport ignore = Compare({.time = TimeCheck::kIgnore}, a, b);
  EXPECT_TRUE(ignore.identical());
}

TEST(ComparatorTest, CountsStayExactPastTheDetailBudget) {
  std::vector<std::pair<Signal, std::string>> a, b;
  for (uint64_t i = 1; i <= 200; ++i) a.push_back({Signal::kTraces, Traces({{.trace = i, .span = i}})});
  // B lost everything: all of A is held, past a budget of 1 KiB.
  CompareReport r = Compare({.time = TimeCheck::kExact, .max_differences = 300, .detail_budget_bytes = 1024}, a, b);
  EXPECT_EQ(r.signals[Signal::kTraces].missing, 200u);
  EXPECT_EQ(r.peak_unmatched, 200u);
  size_t labelled = 0, dropped = 0;
  for (const Difference& d : r.differences) (d.details_dropped ? dropped : labelled)++;
  EXPECT_EQ(labelled + dropped, 200u);
  EXPECT_GT(labelled, 0u);
  EXPECT_GT(dropped, 0u);
}

TEST(ComparatorTest, ReportFormats) {
  std::vector<std::pair<Signal, std::string>> a = {{Signal::kTraces, Traces({{.span = 1}, {.span = 2}})}};
  std::vector<std::pair<Signal, std::string>> b = {{Signal::kTraces, Traces({{.span = 1}})}};
  CompareReport r = Compare({.time = TimeCheck::kExact, .phases = {{.name = "payment-failure", .start_unix_nano = kT,
                                                                 .end_unix_nano = kT + kSecond}}}, a, b);
  ReportContext c{.title = "t<1>", .a = "seed-1", .b = "capture-2"};
  std::string text = FormatReportText(r, c);
  EXPECT_NE(text.find("1 differences: 1 missing, 0 extra, 0 duplicated, 0 altered"), std::string::npos) << text;
  EXPECT_NE(text.find("missing    traces"), std::string::npos) << text;
  JsonWriter w;
  w.BeginObject();
  WriteReportJsonFields(r, &w);
  w.EndObject();
  EXPECT_NE(w.str().find("\"missing\":1"), std::string::npos) << w.str();
  std::string html = FormatReportHtml(r, c);
  EXPECT_NE(html.find("<title>t&lt;1&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("payment-failure"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // nothing to fetch or run: it opens offline
  ASSERT_EQ(r.phases.size(), 1u);
  EXPECT_EQ(r.phases[0].a, 2u);
  EXPECT_EQ(r.phases[0].matched, 1u);
}

class CompareSessionsTest : public session::testing::SessionTest {};

TEST_F(CompareSessionsTest, StoredSessionsInStep) {
  auto write = [&](const std::string& id, uint64_t shift, bool lose_one) {
    auto w = NewWriter(id, Options());
    ASSERT_NE(w, nullptr);
    for (uint64_t i = 1; i <= 300; ++i) {
      if (lose_one && i == 150) continue;
      SpanSpec s{.trace = i, .span = i, .start = kT + i * 1'000'000, .end = kT + i * 1'000'000 + 10};
      ASSERT_TRUE(w->Append(Rec(kT + shift + i * 1'000'000, Signal::kTraces, Traces({Shifted(s, shift)}))).ok());
    }
    ASSERT_TRUE(w->Close(session::SessionStatus::kCompleted).ok());
  };
  write("a", 0, false);
  write("b", 42 * kSecond, true);
  absl::StatusOr<CompareReport> r = CompareSessions(*sessions_, "a", "b", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->shift_nanos, static_cast<int64_t>(42 * kSecond));
  EXPECT_EQ(r->signals[Signal::kTraces].matched, 299u);
  EXPECT_EQ(r->signals[Signal::kTraces].missing, 1u);
  // In step: never more than a few items wait for the other side.
  EXPECT_LT(r->peak_unmatched, 20u);
  absl::StatusOr<CompareReport> missing = CompareSessions(*sessions_, "a", "nope", {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace otelrr::compare
