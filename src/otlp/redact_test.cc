#include "otlp/redact.h"

#include <fnmatch.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "otlp/testing/proto_builder.h"
#include "otlp/wire.h"

namespace otelrr::otlp {
namespace {

using testing::Attribute;
using testing::ProtoBuilder;

constexpr std::string_view kKey = "0123456789abcdef0123";

std::unique_ptr<Redactor> Make(const std::vector<std::string>& texts, std::string key = std::string(kKey)) {
  std::vector<RedactionRule> rules;
  for (const std::string& t : texts) rules.push_back(ParseRedactionRule(t).value());
  return Redactor::Create(std::move(rules), std::move(key)).value();
}

// A KeyValue holding an int (AnyValue field 3).
ProtoBuilder IntAttribute(std::string_view key, uint64_t v) {
  return ProtoBuilder().Bytes(1, key).Msg(2, ProtoBuilder().Varint(3, v));
}

// Secrets at every attribute level of a span request: resource, scope, span, event, link.
std::string Traces() {
  ProtoBuilder event = ProtoBuilder().Bytes(2, "evt").Msg(3, Attribute("user.email", "e@x.org"));
  ProtoBuilder link = ProtoBuilder().Bytes(1, std::string(16, '\1')).Bytes(2, std::string(8, '\2'))
                          .Msg(4, Attribute("password", "hunter2"));
  ProtoBuilder span = ProtoBuilder()
                          .Bytes(1, std::string(16, '\3'))
                          .Bytes(2, std::string(8, '\4'))
                          .Bytes(5, "GET /cart")
                          .Fixed64(7, 100)
                          .Fixed64(8, 200)
                          .Msg(9, Attribute("http.method", "GET"))
                          .Msg(9, Attribute("user.email", "a@x.org"))
                          .Msg(9, IntAttribute("user.id", 42))
                          .Msg(11, event)
                          .Msg(13, link);
  ProtoBuilder scope = ProtoBuilder().Bytes(1, "lib").Msg(3, Attribute("password", "scope-secret"));
  ProtoBuilder resource = ProtoBuilder().Msg(1, Attribute("service.name", "cart")).Msg(1, Attribute("token", "t0k"));
  return ProtoBuilder()
      .Msg(1, ProtoBuilder().Msg(1, resource).Msg(2, ProtoBuilder().Msg(1, scope).Msg(2, span)))
      .str();
}

TEST(RedactTest, ParsesTheFourFormsAndRefusesOthers) {
  EXPECT_EQ(ParseRedactionRule("drop:user.*")->action, RedactionAction::kDrop);
  EXPECT_EQ(ParseRedactionRule("hash:user.email")->pattern, "user.email");
  absl::StatusOr<RedactionRule> r = ParseRedactionRule("replace:token=<gone>=x");
  EXPECT_EQ(r->pattern, "token");
  EXPECT_EQ(r->replacement, "<gone>=x");
  EXPECT_EQ(ParseRedactionRule("body:\\d+")->action, RedactionAction::kMaskBody);
  for (const char* bad : {"drop", "drop:", "erase:x", "replace:token", "body:"}) {
    absl::StatusOr<RedactionRule> b = ParseRedactionRule(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("use drop:KEY"), std::string_view::npos) << b.status();
  }
  EXPECT_FALSE(Redactor::Create({*ParseRedactionRule("hash:x")}, "").ok());
  EXPECT_FALSE(Redactor::Create({*ParseRedactionRule("hash:x")}, "short").ok());
  absl::StatusOr<std::unique_ptr<Redactor>> re = Redactor::Create({*ParseRedactionRule("body:(")}, "");
  ASSERT_FALSE(re.ok());
  EXPECT_NE(re.status().message().find("does not compile"), std::string_view::npos);
}

TEST(RedactTest, RulesApplyAtEveryAttributeLevelOfSpans) {
  auto r = Make({"drop:password", "hash:user.*", "replace:token=REDACTED"});
  std::string out;
  RedactionCounts n = r->Redact(Signal::kTraces, Traces(), &out).value();
  EXPECT_EQ(n.attributes_dropped, 2u);   // the link's and the scope's password
  EXPECT_EQ(n.attributes_hashed, 3u);    // the span's user.email and user.id, the event's user.email
  EXPECT_EQ(n.attributes_replaced, 1u);  // the resource's token
  for (const char* secret : {"hunter2", "scope-secret", "a@x.org", "e@x.org", "t0k"}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << secret;
  }
  EXPECT_NE(out.find("REDACTED"), std::string::npos);
  EXPECT_NE(out.find("GET /cart"), std::string::npos);
  EXPECT_NE(out.find("http.method"), std::string::npos);
  // Still a valid request with the same span.
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kTraces, out);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->spans, 1u);
  // The hash is the keyed HMAC of the value: the same under the same key, another under another key.
  std::string again;
  ASSERT_TRUE(Make({"drop:password", "hash:user.*", "replace:token=REDACTED"})->Redact(Signal::kTraces, Traces(), &again).ok());
  EXPECT_EQ(again, out);
  std::string other;
  ASSERT_TRUE(Make({"hash:user.*"}, "another key of 16+ bytes")->Redact(Signal::kTraces, Traces(), &other).ok());
  const size_t at = out.find("hmac:");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(out.substr(at, 37).size(), 37u);
  EXPECT_EQ(other.find(out.substr(at, 37)), std::string::npos);
}

TEST(RedactTest, RequestsNoRuleTouchesAreCopiedByteForByte) {
  auto r = Make({"drop:nothing.here", "body:never-seen"});
  std::string out;
  RedactionCounts n = r->Redact(Signal::kTraces, Traces(), &out).value();
  EXPECT_FALSE(n.any());
  EXPECT_EQ(out, Traces());
}

TEST(RedactTest, DataPointExemplarAndMetadataAttributesOfEveryMetricKind) {
  auto secret = [] { return Attribute("secret", "x-secret-x"); };
  ProtoBuilder exemplar = ProtoBuilder().Msg(7, secret()).Double(3, 1.5);
  ProtoBuilder number = ProtoBuilder().Msg(7, secret()).Fixed64(3, 10).Double(4, 2.0).Msg(5, exemplar);
  ProtoBuilder histogram_point = ProtoBuilder().Msg(9, secret()).Fixed64(3, 10).Fixed64(4, 1).Msg(8, exemplar);
  ProtoBuilder exp_point = ProtoBuilder().Msg(1, secret()).Fixed64(3, 10).Fixed64(4, 1).Msg(11, exemplar);
  ProtoBuilder summary_point = ProtoBuilder().Msg(7, secret()).Fixed64(3, 10).Fixed64(4, 1);
  ProtoBuilder metrics = ProtoBuilder();
  ProtoBuilder scope;
  scope.Msg(2, ProtoBuilder().Bytes(1, "g").Msg(5, ProtoBuilder().Msg(1, number)).Msg(12, secret()));
  scope.Msg(2, ProtoBuilder().Bytes(1, "s").Msg(7, ProtoBuilder().Msg(1, number).Varint(2, 2)));
  scope.Msg(2, ProtoBuilder().Bytes(1, "h").Msg(9, ProtoBuilder().Msg(1, histogram_point).Varint(2, 2)));
  scope.Msg(2, ProtoBuilder().Bytes(1, "e").Msg(10, ProtoBuilder().Msg(1, exp_point).Varint(2, 2)));
  scope.Msg(2, ProtoBuilder().Bytes(1, "q").Msg(11, ProtoBuilder().Msg(1, summary_point)));
  std::string request = ProtoBuilder().Msg(1, ProtoBuilder().Msg(2, scope)).str();
  ASSERT_TRUE(Summarize(Signal::kMetrics, request).ok()) << Summarize(Signal::kMetrics, request).status();
  std::string out;
  RedactionCounts n = Make({"replace:secret=none"})->Redact(Signal::kMetrics, request, &out).value();
  // 5 points, 4 exemplars (summary points have none), 1 metadata.
  EXPECT_EQ(n.attributes_replaced, 10u);
  EXPECT_EQ(out.find("x-secret-x"), std::string::npos);
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kMetrics, out);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->data_points, 5u);
}

TEST(RedactTest, BodiesAreMaskedInStringsArraysAndLists) {
  ProtoBuilder list = ProtoBuilder().Msg(1, ProtoBuilder().Bytes(1, "card").Msg(2, ProtoBuilder().Bytes(1, "4111-1111")));
  ProtoBuilder array = ProtoBuilder().Msg(1, ProtoBuilder().Bytes(1, "pin 1234-5678 ok")).Msg(1, ProtoBuilder().Varint(3, 7));
  ProtoBuilder scope;
  scope.Msg(2, ProtoBuilder().Fixed64(1, 5).Msg(5, ProtoBuilder().Bytes(1, "card 4111-1111 declined")).Msg(6, Attribute("a", "b")));
  scope.Msg(2, ProtoBuilder().Fixed64(1, 6).Msg(5, ProtoBuilder().Msg(6, list)));
  scope.Msg(2, ProtoBuilder().Fixed64(1, 7).Msg(5, ProtoBuilder().Msg(5, array)));
  scope.Msg(2, ProtoBuilder().Fixed64(1, 8).Msg(5, ProtoBuilder().Bytes(1, "nothing here")));
  std::string request = ProtoBuilder().Msg(1, ProtoBuilder().Msg(2, scope)).str();
  ASSERT_TRUE(Summarize(Signal::kLogs, request).ok());
  std::string out;
  RedactionCounts n = Make({"body:\\d{4}-\\d{4}"})->Redact(Signal::kLogs, request, &out).value();
  EXPECT_EQ(n.bodies_masked, 3u);
  EXPECT_EQ(out.find("4111"), std::string::npos);
  EXPECT_EQ(out.find("1234"), std::string::npos);
  EXPECT_NE(out.find("card **** declined"), std::string::npos);
  EXPECT_NE(out.find("pin **** ok"), std::string::npos);
  EXPECT_NE(out.find("nothing here"), std::string::npos);
  absl::StatusOr<RequestSummary> s = Summarize(Signal::kLogs, out);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->log_records, 4u);
}

// Plain keys and "prefix*" are matched without fnmatch: every kind of pattern matches exactly the keys fnmatch does.
TEST(RedactTest, KeyGlobsMatchAsFnmatchDoes) {
  const std::vector<std::string> keys = {"user.email", "user.id", "user", "users.x", ".hidden", "a/b", "user.*",
                                         "", "xuser.id", "user.email.x"};
  for (const std::string pattern : {"user.email", "user.*", "user*", "*", "u?er.*", "[a-z]ser.id", "*.id", "a/*",
                                    ".*", "user.\\*", "user.email.x"}) {
    ProtoBuilder span = ProtoBuilder().Bytes(1, std::string(16, '\1')).Bytes(2, std::string(8, '\2'));
    uint64_t expected = 0;
    for (const std::string& k : keys) {
      span.Msg(9, Attribute(k, "v"));
      expected += fnmatch(pattern.c_str(), k.c_str(), 0) == 0;
    }
    std::string request = ProtoBuilder().Msg(1, ProtoBuilder().Msg(2, ProtoBuilder().Msg(2, span))).str();
    std::string out;
    RedactionCounts n = Make({"drop:" + pattern})->Redact(Signal::kTraces, request, &out).value();
    EXPECT_EQ(n.attributes_dropped, expected) << pattern;
  }
}

TEST(RedactTest, MalformedRequestsAreRefused) {
  std::string out = "left over";
  std::string bad = Traces();
  bad.resize(bad.size() - 3);
  EXPECT_EQ(Make({"drop:x"})->Redact(Signal::kTraces, bad, &out).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace otelrr::otlp
