#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "net/http_server.h"

namespace otelrr::net {
namespace {

std::string Post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

struct Framed {
  std::vector<HttpRequest> requests;
  std::optional<HttpFramingRefusal> refusal;
};

Framed Frame(const std::string& bytes, HttpFramingLimits limits = {}) {
  Framed out;
  out.refusal = FrameHttpRequests(bytes, limits, [&](HttpRequest r) { out.requests.push_back(std::move(r)); });
  return out;
}

TEST(HttpFramingTest, PipelinedRequestsComeOutOneByOneAsTheServerHandsThemOver) {
  Framed f = Frame(Post("/v1/traces?a=b", "abc", "X-Mixed-Case: V\r\n") + Post("/v1/logs", "") +
                   Post("/v1/metrics", "xyz", "Connection: close\r\n") + Post("/v1/never", "read"));
  ASSERT_FALSE(f.refusal);
  ASSERT_EQ(f.requests.size(), 3u) << "nothing after Connection: close";
  EXPECT_EQ(f.requests[0].method, "POST");
  EXPECT_EQ(f.requests[0].target, "/v1/traces?a=b");
  EXPECT_EQ(f.requests[0].path, "/v1/traces");
  EXPECT_EQ(f.requests[0].body, "abc");
  EXPECT_EQ(f.requests[0].Header("x-mixed-case"), "V");
  EXPECT_EQ(f.requests[1].body, "");
  EXPECT_EQ(f.requests[2].path, "/v1/metrics");
}

TEST(HttpFramingTest, ChunkedBodiesAreJoined) {
  Framed f = Frame(
      "POST /v1/traces HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_FALSE(f.refusal);
  ASSERT_EQ(f.requests.size(), 1u);
  EXPECT_EQ(f.requests[0].body, "abcde");
}

TEST(HttpFramingTest, WhatCannotBeFramedGetsTheServersRefusal) {
  Framed big = Frame(Post("/v1/traces", std::string(2000, 'x')), {.max_body_bytes = 1000, .max_header_bytes = 4096});
  ASSERT_TRUE(big.refusal);
  EXPECT_EQ(big.refusal->status, 413);
  EXPECT_EQ(big.refusal->message, "request body exceeds the limit of 1000 bytes");
  Framed headers = Frame(Post("/v1/traces", "", "X-Pad: " + std::string(5000, 'a') + "\r\n"),
                         {.max_body_bytes = 1000, .max_header_bytes = 4096});
  ASSERT_TRUE(headers.refusal);
  EXPECT_EQ(headers.refusal->status, 431);
  Framed bad = Frame("POST /v1/traces HTTP/1.1\r\nContent-Length: 12x\r\n\r\n");
  ASSERT_TRUE(bad.refusal);
  EXPECT_EQ(bad.refusal->status, 400);
  EXPECT_NE(bad.refusal->message.find("malformed HTTP request: "), std::string::npos) << bad.refusal->message;
  EXPECT_TRUE(bad.requests.empty());
}

TEST(HttpFramingTest, AStreamThatEndsMidRequestYieldsNothingAndNoAnswer) {
  const std::string whole = Post("/v1/traces", "abcdef");
  Framed f = Frame(whole + whole.substr(0, whole.size() - 2));
  EXPECT_FALSE(f.refusal);
  EXPECT_EQ(f.requests.size(), 1u);
}

}  // namespace
}  // namespace otelrr::net
