#include "net/address.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace otelrr::net {
namespace {

TEST(AddressTest, HostPortAcceptsNamesIPv4AndBracketedIPv6) {
  absl::StatusOr<HostPort> a = ParseHostPort("127.0.0.1:4318");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 4318);
  a = ParseHostPort("[::1]:0");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 0);
  EXPECT_TRUE(ParseHostPort("localhost:65535").ok());
}

// An input a parser must refuse, and the whole message it must refuse it with.
struct Refusal {
  std::string_view input;
  std::string_view message;
};

TEST(AddressTest, HostPortErrorsSayWhatIsWrong) {
  constexpr Refusal kRefusals[] = {
      {"127.0.0.1", "address '127.0.0.1' is not host:port (e.g. 127.0.0.1:4318)"},
      {"127.0.0.1:99999", "address '127.0.0.1:99999': port 99999 is out of range (0-65535)"},
      {"127.0.0.1:http", "address '127.0.0.1:http': port 'http' is not a number"},
      {"::1:4317", "address '::1:4317': write an IPv6 host in brackets, e.g. [::1]:4317"},
      {":4317", "address ':4317' has no host"},
      {"[::1", "address '[::1': the IPv6 host has no closing bracket"},
  };
  for (const Refusal& r : kRefusals) {
    EXPECT_EQ(std::string(ParseHostPort(r.input).status().message()), r.message) << r.input;
  }
}

TEST(AddressTest, OtlpUrls) {
  absl::StatusOr<OtlpUrl> u = ParseOtlpUrl("https://collector.example/otlp/");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->address.host, "collector.example");
  EXPECT_EQ(u->address.port, 443);
  EXPECT_EQ(u->authority, "collector.example:443");
  EXPECT_EQ(u->path, "/otlp");
  u = ParseOtlpUrl("grpc://[::1]:4317");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->address.host, "::1");
  EXPECT_EQ(u->authority, "[::1]:4317");
  EXPECT_EQ(u->path, "");
  u = ParseOtlpUrl("http://127.0.0.1:4318/");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->path, "");
}

TEST(AddressTest, OtlpUrlErrorsSayWhatIsWrong) {
  constexpr Refusal kRefusals[] = {
      {"not a url", "'not a url' is not a URL: use http://host:port (OTLP/HTTP) or grpc://host:port (OTLP/gRPC)"},
      {"ftp://x", "'ftp://x': scheme ftp is not supported: use http://, https://, grpc:// or grpcs://"},
      {"http://127.0.0.1:99999", "'http://127.0.0.1:99999': port 99999 is out of range (1-65535)"},
      {"http://127.0.0.1:0", "'http://127.0.0.1:0': port 0 is out of range (1-65535)"},
      {"grpc://collector", "'grpc://collector' has no port: use e.g. grpc://127.0.0.1:4317"},
      {"grpc://c:4317/v1", "'grpc://c:4317/v1': a grpc:// URL has no path"},
      {"http://:4318", "'http://:4318' has no host (e.g. http://127.0.0.1:4318)"},
  };
  for (const Refusal& r : kRefusals) {
    EXPECT_EQ(std::string(ParseOtlpUrl(r.input).status().message()), r.message) << r.input;
  }
}

}  // namespace
}  // namespace otelrr::net
