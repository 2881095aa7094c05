// Streamed answers of the HTTP server (HttpResponse::stream), over real loopback connections: the body
// arrives whole and chunked, a slow client holds the producer back, a failure before the first byte is the
// handler's refusal, one midway cuts the transfer, and a client or a server that goes away stops the
// producer.
#include "net/http_server.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "common/task_group.h"

namespace otelrr::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Answers every request with a body streamed by `produce`, from a thread of its own (as the control API's
// slow routes do).
class StreamingHandler : public HttpHandler {
 public:
  explicit StreamingHandler(std::function<absl::Status(HttpBodyWriter&)> produce) : produce_(std::move(produce)) {}

  void Handle(HttpRequest, HttpResponder respond) override {
    tasks_.Run([this, respond = std::move(respond)] {
      HttpResponse r{.status = 200, .content_type = "application/x-ndjson", .stream = produce_};
      r.headers.emplace_back("X-Answer", "streamed");
      respond(std::move(r));
      finished_.fetch_add(1);
    });
  }

  // The refusal of this handler, to tell it from the server's own.
  HttpResponse Refusal(int status, std::string message) override {
    return {.status = status, .content_type = "text/plain", .body = "refused: " + message};
  }

  int finished() const { return finished_.load(); }

 private:
  std::function<absl::Status(HttpBodyWriter&)> produce_;
  std::atomic<int> finished_{0};
  TaskGroup tasks_;  // last: joined first
};

// The line `i` of a test body: its number, padded to 100 bytes.
std::string Line(int i) {
  std::string s = std::to_string(i);
  s.resize(99, '.');
  s.push_back('\n');
  return s;
}

absl::Status WriteLines(HttpBodyWriter& out, int lines) {
  for (int i = 0; i < lines; ++i) {
    if (absl::Status s = out.Write(Line(i)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

class Client {
 public:
  explicit Client(int port) : socket_(ioc_) { asio::connect(socket_, tcp::resolver(ioc_).resolve("127.0.0.1", std::to_string(port))); }

  void Send(std::string_view target = "/export", unsigned version = 11) {
    http::request<http::empty_body> req{http::verb::get, target, version};
    req.set(http::field::host, "127.0.0.1");
    http::write(socket_, req);
  }

  // The answer, or the error that ended it.
  beast::error_code Read(http::response<http::string_body>* res) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    beast::error_code ec;
    http::read(socket_, buffer_, parser, ec);
    *res = parser.release();
    return ec;
  }

  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::unique_ptr<HttpServer> StartServer(HttpHandler& handler) {
  absl::StatusOr<std::unique_ptr<HttpServer>> s = HttpServer::Start({.address = "127.0.0.1:0"}, handler);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

struct Answer {
  beast::error_code error;  // what ended the read, if not the answer's end
  http::response<http::string_body> response = {};
};

// The answer to one request to a server whose handler streams `produce`.
Answer GetOnce(std::function<absl::Status(HttpBodyWriter&)> produce, unsigned version = 11) {
  StreamingHandler handler(std::move(produce));
  std::unique_ptr<HttpServer> server = StartServer(handler);
  if (server == nullptr) return {.error = asio::error::not_connected};
  Client client(server->port());
  client.Send("/export", version);
  Answer a;
  a.error = client.Read(&a.response);
  return a;
}

TEST(HttpServerStreamTest, ABodyLargerThanTheQueueArrivesWholeAndChunkedOnAKeptAliveConnection) {
  constexpr int kLines = 200'000;  // 20 MB, five times what the server queues
  StreamingHandler handler([](HttpBodyWriter& out) { return WriteLines(out, kLines); });
  std::unique_ptr<HttpServer> server = StartServer(handler);
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  for (int round = 0; round < 2; ++round) {  // the second on the same connection
    client.Send();
    http::response<http::string_body> res;
    ASSERT_FALSE(client.Read(&res)) << "round " << round;
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_TRUE(res.chunked());
    EXPECT_EQ(res[http::field::content_type], "application/x-ndjson");
    EXPECT_EQ(res["X-Answer"], "streamed");
    EXPECT_TRUE(res.keep_alive());
    ASSERT_EQ(res.body().size(), size_t{kLines} * 100);
    EXPECT_EQ(res.body().substr(0, 100), Line(0));
    EXPECT_EQ(res.body().substr(size_t{kLines - 1} * 100), Line(kLines - 1));
  }
}

TEST(HttpServerStreamTest, AnHttp10ClientGetsTheBodyWholeUntilTheConnectionCloses) {
  constexpr int kLines = 50'000;
  Answer a = GetOnce([](HttpBodyWriter& out) { return WriteLines(out, kLines); }, 10);
  ASSERT_FALSE(a.error) << a.error.message();
  EXPECT_EQ(a.response.result_int(), 200u);
  EXPECT_FALSE(a.response.chunked());  // HTTP/1.0 has no chunks
  EXPECT_FALSE(a.response.keep_alive());
  ASSERT_EQ(a.response.body().size(), size_t{kLines} * 100);
  EXPECT_EQ(a.response.body().substr(size_t{kLines - 1} * 100), Line(kLines - 1));
}

TEST(HttpServerStreamTest, AnEmptyBodyIsAnswered) {
  Answer a = GetOnce([](HttpBodyWriter&) { return absl::OkStatus(); });
  ASSERT_FALSE(a.error) << a.error.message();
  EXPECT_EQ(a.response.result_int(), 200u);
  EXPECT_EQ(a.response.body(), "");
}

TEST(HttpServerStreamTest, AFailureBeforeTheFirstByteIsTheHandlersRefusal) {
  Answer a = GetOnce([](HttpBodyWriter& out) {
    (void)out.Write("less than a chunk, never sent");
    return absl::NotFoundError("session x does not exist");
  });
  ASSERT_FALSE(a.error) << a.error.message();
  EXPECT_EQ(a.response.result_int(), 404u);
  EXPECT_EQ(a.response.body(), "refused: session x does not exist");
}

TEST(HttpServerStreamTest, AFailureMidwayCutsTheTransferShort) {
  Answer a = GetOnce([](HttpBodyWriter& out) {
    if (absl::Status s = WriteLines(out, 10'000); !s.ok()) return s;  // 1 MB: sent
    return absl::DataLossError("file 3 is truncated");
  });
  EXPECT_EQ(a.error, http::error::partial_message) << a.error.message();  // the body never ends
}

TEST(HttpServerStreamTest, AClientThatDoesNotReadHoldsTheProducerBackAndOneThatLeavesStopsIt) {
  std::atomic<uint64_t> written{0};
  std::atomic<bool> failed{false};
  StreamingHandler handler([&](HttpBodyWriter& out) {
    const std::string block(64 << 10, 'x');
    for (int i = 0; i < 16 * 1024; ++i) {  // 1 GiB, if nothing held it back
      if (absl::Status s = out.Write(block); !s.ok()) {
        failed = absl::IsUnavailable(s);
        return s;
      }
      written += block.size();
    }
    return absl::OkStatus();
  });
  std::unique_ptr<HttpServer> server = StartServer(handler);
  ASSERT_NE(server, nullptr);
  {
    Client client(server->port());
    client.socket().set_option(asio::socket_base::receive_buffer_size(64 << 10));
    client.Send();
    std::this_thread::sleep_for(1s);
    // The server's queue (4 MiB) and the sockets' buffers, not the gigabyte.
    const uint64_t held = written.load();
    EXPECT_GT(held, 0u);
    EXPECT_LT(held, uint64_t{32} << 20) << held;
    std::this_thread::sleep_for(300ms);
    EXPECT_LT(written.load(), held + (uint64_t{1} << 20));  // and it stays there
  }  // the client closes
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (handler.finished() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(handler.finished(), 1);
  EXPECT_TRUE(failed.load());
}

TEST(HttpServerStreamTest, AServerShutDownDuringAStreamStopsItsProducer) {
  std::atomic<bool> failed{false};
  StreamingHandler handler([&](HttpBodyWriter& out) {
    const std::string block(64 << 10, 'x');
    for (;;) {
      if (absl::Status s = out.Write(block); !s.ok()) {
        failed = absl::IsUnavailable(s);
        return s;
      }
    }
  });
  std::unique_ptr<HttpServer> server = StartServer(handler);
  ASSERT_NE(server, nullptr);
  Client client(server->port());
  client.Send();
  std::this_thread::sleep_for(300ms);  // the producer waits for room now
  const auto start = std::chrono::steady_clock::now();
  server->Shutdown(std::chrono::milliseconds(200));
  server.reset();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (handler.finished() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(handler.finished(), 1);
  EXPECT_TRUE(failed.load());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace otelrr::net
