#include "net/address.h"

#include <gtest/gtest.h>

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

TEST(AddressTest, HostPortErrorsSayWhatIsWrong) {
  auto message = [](std::string_view address) { return std::string(ParseHostPort(address).status().message()); };
  EXPECT_EQ(message("127.0.0.1"), "address '127.0.0.1' is not host:port (e.g. 127.0.0.1:4318)");
  EXPECT_EQ(message("127.0.0.1:99999"), "address '127.0.0.1:99999': port 99999 is out of range (0-65535)");
  EXPECT_EQ(message("127.0.0.1:http"), "address '127.0.0.1:http': port 'http' is not a number");
  EXPECT_EQ(message("::1:4317"), "address '::1:4317': write an IPv6 host in brackets, e.g. [::1]:4317");
  EXPECT_EQ(message(":4317"), "address ':4317' has no host");
  EXPECT_EQ(message("[::1"), "address '[::1': the IPv6 host has no closing bracket");
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
  auto message = [](std::string_view url) { return std::string(ParseOtlpUrl(url).status().message()); };
  EXPECT_EQ(message("not a url"),
            "'not a url' is not a URL: use http://host:port (OTLP/HTTP) or grpc://host:port (OTLP/gRPC)");
  EXPECT_EQ(message("ftp://x"), "'ftp://x': scheme ftp is not supported: use http://, https://, grpc:// or grpcs://");
  EXPECT_EQ(message("http://127.0.0.1:99999"), "'http://127.0.0.1:99999': port 99999 is out of range (1-65535)");
  EXPECT_EQ(message("http://127.0.0.1:0"), "'http://127.0.0.1:0': port 0 is out of range (1-65535)");
  EXPECT_EQ(message("grpc://collector"), "'grpc://collector' has no port: use e.g. grpc://127.0.0.1:4317");
  EXPECT_EQ(message("grpc://c:4317/v1"), "'grpc://c:4317/v1': a grpc:// URL has no path");
  EXPECT_EQ(message("http://:4318"), "'http://:4318' has no host (e.g. http://127.0.0.1:4318)");
}

}  // namespace
}  // namespace otelrr::net
