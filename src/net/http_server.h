// A small HTTP/1.1 server (Boost.Beast on Asio) for the OTLP/HTTP receiver and the control API.
//
//   class Hello : public net::HttpHandler {
//     void Handle(net::HttpRequest request, net::HttpResponder respond) override {
//       respond({.status = 200, .content_type = "text/plain", .body = "hello"});
//     }
//   };
//   absl::StatusOr<std::unique_ptr<net::HttpServer>> s = net::HttpServer::Start({.address = "127.0.0.1:0"}, hello);
//   (*s)->port();   // the bound port
//
// Connections are kept alive (HTTP/1.1 keep-alive, HTTP/1.0 Connection: keep-alive) and serve one
// request at a time. The handler may answer later and from any thread: the responder posts the answer
// back to the connection. A body too large to hold is streamed (HttpResponse::stream). What the server enforces itself, before a handler sees anything:
//   - a body larger than max_body_bytes: 413, the connection closed (nothing beyond the limit is read);
//   - headers larger than max_header_bytes: 431;
//   - a malformed request line or header: 400, closed;
//   - a client that does not send a whole request within request_timeout, or sits idle on a kept-alive
//     connection for idle_timeout: the connection is closed (slow and stalled clients hold no thread);
//   - more than max_connections open connections: new ones are accepted and closed at once with 503.
#ifndef OTELRR_NET_HTTP_SERVER_H_
#define OTELRR_NET_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "net/tls.h"

namespace otelrr::net {

struct HttpRequest {
  std::string method;   // "POST"
  std::string target;   // "/v1/traces?x=y", as sent
  std::string path;     // "/v1/traces"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;     // as received (no Content-Encoding applied)
  std::string peer;     // "127.0.0.1:51234"

  // The value of the first header `name` (lower case), or "" when absent.
  std::string_view Header(std::string_view name) const;
};

// Where a streamed answer's body goes (HttpResponse::stream).
class HttpBodyWriter {
 public:
  virtual ~HttpBodyWriter() = default;
  // Appends to the body. Blocks while the client reads slower than the body is made (a few MiB wait in
  // the server at most); Unavailable once the client is gone (closed, timed out, the server stopped).
  virtual absl::Status Write(std::string_view data) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = {};  // omitted when empty
  std::string body = {};
  std::vector<std::pair<std::string, std::string>> headers = {};  // extra headers, e.g. Retry-After
  // Set: the body is what this writes, sent as it comes (chunked transfer encoding), not `body`; for
  // answers too large to hold, such as an export. It runs on the thread that calls the responder, which
  // returns once the body is sent or the client is gone: respond from a thread of the handler's own, never
  // from Handle's. When it fails before it wrote anything, the answer is the handler's Refusal for the
  // status; once a part of the body is sent, the connection is closed without the body's end, which
  // clients see as a transfer cut short.
  std::function<absl::Status(HttpBodyWriter&)> stream = {};
};

using HttpResponder = std::function<void(HttpResponse)>;

// Whether an Accept-Encoding header accepts gzip ("gzip", "gzip, deflate, br", "*"; not "gzip;q=0").
bool AcceptsGzip(std::string_view accept_encoding);

// The HTTP status of a status code, one mapping for every server of ours: OK 200; InvalidArgument and
// OutOfRange 400; NotFound 404; AlreadyExists, FailedPrecondition and Aborted 409; ResourceExhausted
// 429; Unavailable 503; anything else 500.
int HttpStatusOf(absl::StatusCode code);

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Called on a server thread. Call `respond` exactly once, on any thread, now or later.
  virtual void Handle(HttpRequest request, HttpResponder respond) = 0;
  // The answer to a request the server refuses itself (413, 431, 400; see HttpServer), in the form the
  // handler's clients expect. `message` is one line without a newline. Default: the message as text/plain.
  virtual HttpResponse Refusal(int status, std::string message);
};

struct HttpServerOptions {
  std::string address = "127.0.0.1:4318";  // host:port; port 0 picks a free one; [::1]:port for IPv6
  int threads = 2;
  size_t max_body_bytes = 64u << 20;
  size_t max_header_bytes = 64u << 10;
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(120);
  size_t max_connections = 16384;
  // Set (LoadTlsServerFiles): HTTPS only, every connection begins with a TLS handshake within
  // request_timeout; one that fails (plain HTTP, an untrusted or missing client certificate) is closed.
  TlsServerFiles tls = {};
};

struct HttpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_open = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t requests = 0;
  uint64_t timeouts = 0;             // connections closed for a slow or stalled client
  uint64_t bad_requests = 0;         // malformed, or over a size limit
  uint64_t tls_handshake_failures = 0;
};

// Thread-safe: Shutdown, stats and the accessors may be called from any thread.
class HttpServer {
 public:
  // Binds and starts serving. InvalidArgument for an address that does not parse, Unavailable when it
  // cannot be bound (in use, not local), each naming the address.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, HttpHandler& handler);
  // Stops: closes the listener and every connection, then joins the threads.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  std::string address() const;  // "127.0.0.1:4318", with the bound port
  HttpServerStats stats() const;
  // Stops accepting; waits up to `grace` for open requests to be answered, then closes everything.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5));

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How the servers cut a connection's bytes into requests (Boost.Beast's parser with their limits), without a
// socket: the receivers' HTTP framing, for the fuzz target that feeds it hostile bytes.
struct HttpFramingLimits {
  size_t max_body_bytes = 64u << 20;
  size_t max_header_bytes = 64u << 10;
};
struct HttpFramingRefusal {
  int status = 400;  // 400 malformed, 413 body over the limit, 431 headers over the limit
  std::string message;
};
// Frames `bytes` as one connection's stream carries them: each whole request goes to `on_request` as a server
// hands it to its handler (peer empty), until the bytes end, a request asks to close the connection, or one
// cannot be framed: then the refusal a server answers before it closes the connection.
std::optional<HttpFramingRefusal> FrameHttpRequests(std::string_view bytes, const HttpFramingLimits& limits,
                                                    const std::function<void(HttpRequest)>& on_request);

}  // namespace otelrr::net

#endif  // OTELRR_NET_HTTP_SERVER_H_
