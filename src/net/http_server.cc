#include "net/http_server.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "common/status.h"
#include "net/address.h"

namespace otelrr::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Lets this process hold as many sockets as the hard limit allows (the soft limit is often 1024).
void RaiseOpenFileLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr uint64_t kMaxReadReserve = 256 << 10;
// A streamed body (HttpResponse::stream) goes out in chunks of at least this much (smaller writes are
// joined), and its producer waits while this much is queued for a slow client.
constexpr size_t kMinStreamChunk = 64 << 10;
constexpr size_t kMaxStreamQueued = 4 << 20;

// A streamed body between its producer's thread and the connection that sends it.
struct BodyQueue {
  enum class End { kNone, kDone, kBroken };
  std::mutex mu;
  std::condition_variable room;
  std::deque<std::string> chunks;  // guarded by mu, as is the rest
  size_t queued = 0;               // bytes in chunks
  End end = End::kNone;
  bool writing = false;  // the connection is sending, or about to: the producer need not wake it
  bool gone = false;     // the client: nothing more will be sent
};

using RequestParser = http::request_parser<http::string_body>;

// The framing every connection applies, and FrameHttpRequests too: a fresh parser for each request, with
// the server's limits.
void ConfigureParser(RequestParser& parser, const HttpFramingLimits& limits) {
  parser.body_limit(limits.max_body_bytes);
  parser.header_limit(static_cast<uint32_t>(std::min<size_t>(limits.max_header_bytes, UINT32_MAX)));
}

// What the handler is given of a parsed request.
HttpRequest ToHttpRequest(http::request<http::string_body>&& req, std::string peer) {
  HttpRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  request.path = request.target.substr(0, request.target.find('?'));
  request.headers.reserve(8);
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  request.body = std::move(req.body());
  request.peer = std::move(peer);
  return request;
}

// The answer to a request that cannot be framed.
HttpFramingRefusal RefusalOf(beast::error_code ec, const HttpFramingLimits& limits) {
  if (ec == http::error::body_limit) {
    return {413, fmt::format("request body exceeds the limit of {} bytes", limits.max_body_bytes)};
  }
  if (ec == http::error::header_limit) {
    return {431, fmt::format("request headers exceed the limit of {} bytes", limits.max_header_bytes)};
  }
  return {400, fmt::format("malformed HTTP request: {}", ec.message())};
}

}  // namespace

std::optional<HttpFramingRefusal> FrameHttpRequests(std::string_view bytes, const HttpFramingLimits& limits,
                                                    const std::function<void(HttpRequest)>& on_request) {
  while (!bytes.empty()) {
    RequestParser parser;
    ConfigureParser(parser, limits);
    while (!parser.is_done()) {
      beast::error_code ec;
      const size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      bytes.remove_prefix(used);
      if (ec == http::error::need_more) return std::nullopt;  // the client closed mid-request: nothing to answer
      if (ec) return RefusalOf(ec, limits);
      if (used == 0 && !parser.is_done()) return std::nullopt;
    }
    http::request<http::string_body> req = parser.release();
    const bool keep_alive = req.keep_alive();
    on_request(ToHttpRequest(std::move(req), ""));
    if (!keep_alive) break;  // the server closes after answering: what follows is never read
  }
  return std::nullopt;
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpResponse HttpHandler::Refusal(int status, std::string message) {
  message.push_back('\n');
  return {.status = status, .content_type = "text/plain; charset=utf-8", .body = std::move(message)};
}

bool AcceptsGzip(std::string_view accept_encoding) {
  for (std::string_view rest = accept_encoding; !rest.empty();) {
    const size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip" && coding != "*") continue;
    const size_t q = semi == std::string_view::npos ? std::string_view::npos : item.find("q=", semi);
    if (q != std::string_view::npos && std::strtod(std::string(item.substr(q + 2)).c_str(), nullptr) <= 0) continue;
    return true;
  }
  return false;
}

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

// What the server and its connections share. The server owns it; connections point at it (their
// handlers run inside its io_context, so it outlives them). A pending responder owns it too, so a
// late answer still has an io_context to post to, and releases its connection before it. Connections
// must not own it: a handler left in the io_context would keep its own io_context alive (a leak).
struct HttpCore {
  HttpCore(HttpServerOptions o, HttpHandler& h) : options(std::move(o)), handler(h), ioc(options.threads) {}
  HttpServerOptions options;
  HttpHandler& handler;
  std::unique_ptr<ssl::context> tls;  // set: every connection speaks TLS
  std::atomic<uint64_t> accepted{0}, open{0}, refused{0}, requests{0}, timeouts{0}, bad{0}, tls_failures{0};
  std::atomic<int64_t> in_handler{0};  // requests handed to the handler and not yet answered
  std::atomic<bool> stopping{false};
  asio::io_context ioc;  // last: destroyed first, with the handlers (and connections) it still holds
};

namespace {

// What the server keeps of a connection, whatever its stream.
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void Cancel() = 0;
};

// One client connection over Stream: beast::tcp_stream (plain HTTP) or TlsStream (HTTPS).
template <class Stream>
class Connection : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using std::enable_shared_from_this<Connection<Stream>>::shared_from_this;

 public:
  Connection(const std::shared_ptr<HttpCore>& core, tcp::socket socket) requires(!kTls)
      : core_(core.get()), weak_core_(core), stream_(std::move(socket)) {
    Init();
  }
  Connection(const std::shared_ptr<HttpCore>& core, tcp::socket socket) requires(kTls)
      : core_(core.get()), weak_core_(core), stream_(std::move(socket), *core->tls) {
    Init();
  }
  ~Connection() override {
    if (body_ != nullptr) EndBody({});
    core_->open.fetch_sub(1);
  }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if constexpr (kTls) {
        self->Lowest().expires_after(self->core_->options.request_timeout);
        self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
          if (ec) {
            // Not TLS, an untrusted or missing client certificate, no common version: nothing to answer.
            self->core_->tls_failures.fetch_add(1);
            return self->Close();
          }
          self->ReadHeader();
        });
      } else {
        self->ReadHeader();
      }
    });
  }

  // Closes the socket from the connection's own executor.
  void Cancel() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Lowest().close(); });
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Init() {
    beast::error_code ec;
    tcp::endpoint ep = Lowest().socket().remote_endpoint(ec);
    if (!ec) {
      peer_ = ep.address().is_v6() ? fmt::format("[{}]:{}", ep.address().to_string(), ep.port())
                                   : fmt::format("{}:{}", ep.address().to_string(), ep.port());
    }
    core_->open.fetch_add(1);
  }

  void ReadHeader() {
    parser_.emplace();
    ConfigureParser(*parser_, {.max_body_bytes = core_->options.max_body_bytes,
                               .max_header_bytes = core_->options.max_header_bytes});
    // Idle until the first byte of a request; the whole header must then arrive within the idle
    // timeout too (bytes already buffered mean a request is under way: the request timeout applies).
    Lowest().expires_after(buffer_.size() > 0 ? core_->options.request_timeout : core_->options.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Connection::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    Lowest().expires_after(core_->options.request_timeout);
    // Beast reads at most the buffer's free capacity (512 bytes at first): room for the body up to
    // 256 KiB makes a 228 KB request a handful of reads instead of ~450.
    if (auto length = parser_->content_length(); length && *length > buffer_.capacity() - buffer_.size()) {
      buffer_.reserve(buffer_.size() + static_cast<size_t>(std::min<uint64_t>(*length, kMaxReadReserve)));
    }
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue") && !parser_->is_done()) {
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code wec, size_t) {
                          if (wec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Connection::OnBody, shared_from_this()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == ssl::error::stream_truncated) {
      return Close();
    }
    if (ec.category() == asio::error::get_ssl_category()) return Close();  // a broken TLS record: nothing to answer
    if (ec == beast::error::timeout) {
      core_->timeouts.fetch_add(1);
      return Close();
    }
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) return Close();
    core_->bad.fetch_add(1);
    keep_alive_ = false;
    linger_ = true;  // the client may still be sending what we refuse
    HttpFramingRefusal refusal =
        RefusalOf(ec, {.max_body_bytes = core_->options.max_body_bytes, .max_header_bytes = core_->options.max_header_bytes});
    Write(core_->handler.Refusal(refusal.status, std::move(refusal.message)));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    core_->requests.fetch_add(1);
    http::request<http::string_body> req = parser_->release();
    keep_alive_ = req.keep_alive() && !core_->stopping.load();
    http11_ = req.version() >= 11;
    HttpRequest request = ToHttpRequest(std::move(req), peer_);
    Lowest().expires_never();  // the handler may take its time; the client waits for the answer
    core_->in_handler.fetch_add(1);
    // Members are destroyed in reverse order: the connection (and its socket) before the io_context.
    struct Held {
      std::shared_ptr<HttpCore> core;
      std::shared_ptr<Connection> self;
    };
    Held held{weak_core_.lock(), shared_from_this()};
    core_->handler.Handle(std::move(request), [held = std::move(held)](HttpResponse response) {
      if (response.stream) {
        held.self->SendStreamed(std::move(response));  // counted in the handler until the body is out
        held.core->in_handler.fetch_sub(1);
        return;
      }
      held.core->in_handler.fetch_sub(1);
      held.self->Post(std::move(response));
    });
  }

  void Post(HttpResponse response) {
    asio::post(stream_.get_executor(), [self = shared_from_this(), response = std::move(response)]() mutable {
      self->Write(std::move(response));
    });
  }

  // The producer's side of a streamed body: joins small writes, waits for room, wakes the connection.
  class BodyWriter final : public HttpBodyWriter {
   public:
    BodyWriter(std::shared_ptr<Connection> connection, HttpResponse head)
        : connection_(std::move(connection)), head_(std::move(head)), queue_(std::make_shared<BodyQueue>()) {}

    absl::Status Write(std::string_view data) override {
      pending_.append(data);
      return pending_.size() < kMinStreamChunk ? absl::OkStatus() : Send(BodyQueue::End::kNone);
    }

    // Hands what is pending to the connection, with the body's end unless `end` is kNone. The first call
    // sends the status line and headers.
    absl::Status Send(BodyQueue::End end) {
      std::unique_lock<std::mutex> lock(queue_->mu);
      while (end != BodyQueue::End::kBroken && queue_->queued >= kMaxStreamQueued && !queue_->gone) {
        queue_->room.wait_for(lock, std::chrono::milliseconds(100));
        if (connection_->core_->ioc.stopped()) queue_->gone = true;  // nothing will be sent any more
      }
      if (queue_->gone) return absl::UnavailableError("the client is gone before the whole answer was sent");
      if (!pending_.empty()) {
        queue_->queued += pending_.size();
        queue_->chunks.push_back(std::move(pending_));
        pending_.clear();
      }
      queue_->end = end;
      if (queue_->writing) return absl::OkStatus();
      queue_->writing = true;
      if (started_) {
        asio::post(connection_->stream_.get_executor(), [c = connection_] { c->Pump(); });
      } else {
        started_ = true;
        asio::post(connection_->stream_.get_executor(),
                   [c = connection_, head = std::move(head_), q = queue_]() mutable { c->BeginBody(std::move(head), q); });
      }
      return absl::OkStatus();
    }

    bool started() const { return started_; }

   private:
    std::shared_ptr<Connection> connection_;
    HttpResponse head_;  // until started
    std::shared_ptr<BodyQueue> queue_;
    std::string pending_;
    bool started_ = false;
  };

  // Runs a streamed answer's producer on the calling thread (HttpResponse::stream).
  void SendStreamed(HttpResponse response) {
    auto produce = std::move(response.stream);
    response.stream = nullptr;
    response.body.clear();
    BodyWriter writer(shared_from_this(), std::move(response));
    absl::Status s = produce(writer);
    if (s.ok()) s = writer.Send(BodyQueue::End::kDone);
    if (s.ok()) return;
    if (!writer.started()) return Post(core_->handler.Refusal(HttpStatusOf(s.code()), std::string(s.message())));
    (void)writer.Send(BodyQueue::End::kBroken);
  }

  // On the connection's executor from here: the status line and headers of a streamed body, then its chunks.
  void BeginBody(HttpResponse head, std::shared_ptr<BodyQueue> queue) {
    body_ = std::move(queue);
    body_head_ = {};
    body_head_.version(11);
    body_head_.result(static_cast<unsigned>(head.status));
    if (!head.content_type.empty()) body_head_.set(http::field::content_type, head.content_type);
    for (auto& [k, v] : head.headers) body_head_.set(k, v);
    // HTTP/1.0 has no chunks: the body then ends when the connection closes.
    if (!http11_) keep_alive_ = false;
    body_head_.keep_alive(keep_alive_);
    body_head_.chunked(http11_);
    body_head_writer_.emplace(body_head_);
    Lowest().expires_after(core_->options.request_timeout);
    http::async_write_header(stream_, *body_head_writer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->EndBody(ec);
      self->Pump();
    });
  }

  void Pump() {
    std::unique_lock<std::mutex> lock(body_->mu);
    if (!body_->chunks.empty()) {
      chunk_ = std::move(body_->chunks.front());
      body_->chunks.pop_front();
      body_->queued -= chunk_.size();
      lock.unlock();
      body_->room.notify_one();
      Lowest().expires_after(core_->options.request_timeout);
      auto next = [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) return self->EndBody(ec);
        self->Pump();
      };
      if (http11_) {
        asio::async_write(stream_, http::make_chunk(asio::buffer(chunk_)), std::move(next));
      } else {
        asio::async_write(stream_, asio::buffer(chunk_), std::move(next));
      }
      return;
    }
    const BodyQueue::End end = body_->end;
    if (end == BodyQueue::End::kNone) {
      body_->writing = false;  // the producer wakes us with its next chunk
      return;
    }
    lock.unlock();
    body_.reset();
    chunk_ = std::string();
    if (end == BodyQueue::End::kBroken || !http11_) return Close();
    Lowest().expires_after(core_->options.request_timeout);
    asio::async_write(stream_, http::make_chunk_last(),
                      beast::bind_front_handler(&Connection::OnWrite, shared_from_this()));
  }

  // A streamed body that cannot be sent: its producer stops at its next write.
  void EndBody(beast::error_code ec) {
    if (ec == beast::error::timeout) core_->timeouts.fetch_add(1);
    if (body_ != nullptr) {
      {
        std::lock_guard<std::mutex> lock(body_->mu);
        body_->gone = true;
      }
      body_->room.notify_all();
      body_.reset();
    }
    Close();
  }

  void Write(HttpResponse response) {
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(response.status));
    if (!response.content_type.empty()) res_.set(http::field::content_type, response.content_type);
    for (auto& [k, v] : response.headers) res_.set(k, v);
    res_.body() = std::move(response.body);
    res_.keep_alive(keep_alive_);
    res_.prepare_payload();
    Lowest().expires_after(core_->options.request_timeout);
    http::async_write(stream_, res_, beast::bind_front_handler(&Connection::OnWrite, shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (ec) {
      if (ec == beast::error::timeout) core_->timeouts.fetch_add(1);
      return Close();
    }
    if (!keep_alive_) return linger_ ? Linger() : Close();
    // An idle kept-alive connection should not pin a large buffer.
    if (buffer_.capacity() > kMaxReadReserve && buffer_.size() == 0) buffer_.shrink_to_fit();
    ReadHeader();
  }

  void Close() {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    Lowest().close();  // also cancels the stream's timer
  }

  // After refusing a request whose body is still coming: closing with unread bytes would reset the
  // connection, and a reset can destroy the answer before the client reads it. So the sending side is
  // shut, and what still comes is read and dropped until the client closes, kMaxLingerBytes have come or
  // a second has passed (nginx's lingering close).
  void Linger() {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    Lowest().expires_after(std::chrono::seconds(1));
    Drain(0);
  }

  void Drain(size_t drained) {
    if (drained >= kMaxLingerBytes) return Close();
    if (!drain_) drain_ = std::make_unique<std::array<char, 16384>>();  // only a lingering connection needs it
    // The raw bytes, TLS or not: they are dropped unread.
    Lowest().async_read_some(asio::buffer(*drain_), [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
      if (ec) return self->Close();
      self->Drain(drained + n);
    });
  }

  HttpCore* core_;
  std::weak_ptr<HttpCore> weak_core_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::shared_ptr<BodyQueue> body_;  // while a streamed body is sent
  http::response<http::empty_body> body_head_;
  std::optional<http::response_serializer<http::empty_body>> body_head_writer_;
  std::string chunk_;  // the chunk being sent
  std::string peer_;
  bool keep_alive_ = true;
  bool http11_ = true;  // the request's version: 1.0 gets no chunked body
  bool linger_ = false;
  static constexpr size_t kMaxLingerBytes = 8 << 20;
  std::unique_ptr<std::array<char, 16384>> drain_;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler& handler)
      : core_(std::make_shared<HttpCore>(std::move(options), handler)), acceptor_(asio::make_strand(core_->ioc)) {}

  absl::Status Listen() {
    if (absl::Status s = SetUpTls(); !s.ok()) return s;
    absl::StatusOr<HostPort> parsed = ParseHostPort(core_->options.address);
    if (!parsed.ok()) return parsed.status();
    const std::string& host = parsed->host;
    const uint16_t port = parsed->port;
    beast::error_code ec;
    asio::ip::address ip = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          fmt::format("address '{}': '{}' is not an IP address ({})", core_->options.address, host, ec.message()));
    }
    tcp::endpoint endpoint(ip, port);
    auto fail = [&](std::string_view what) {
      return absl::UnavailableError(
          fmt::format("cannot listen on {}: {} failed: {}", core_->options.address, what, ec.message()));
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return fail("open");
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    acceptor_.bind(endpoint, ec);
    if (ec) return fail("bind");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    bound_ = acceptor_.local_endpoint(ec);
    return absl::OkStatus();
  }

  absl::Status SetUpTls() {
    const TlsServerFiles& files = core_->options.tls;
    if (!files.enabled()) return absl::OkStatus();
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    auto fail = [&](std::string_view what) {
      return absl::InvalidArgumentError(fmt::format("TLS for {}: {}: {}", core_->options.address, what, ec.message()));
    };
    ctx->use_certificate_chain(asio::buffer(files.cert_chain_pem), ec);
    if (ec) return fail("the certificate");
    ctx->use_private_key(asio::buffer(files.key_pem), ssl::context::pem, ec);
    if (ec) return fail("the private key");
    if (!files.client_ca_pem.empty()) {
      ctx->add_certificate_authority(asio::buffer(files.client_ca_pem), ec);
      if (ec) return fail("the client CA");
      ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    core_->tls = std::move(ctx);
    return absl::OkStatus();
  }

  void Run() {
    RaiseOpenFileLimit();
    Accept();
    int n = std::max(1, core_->options.threads);
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { core_->ioc.run(); });
  }

  void Accept() {
    acceptor_.async_accept(asio::make_strand(core_->ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        core_->accepted.fetch_add(1);
        if (core_->open.load() >= core_->options.max_connections) {
          core_->refused.fetch_add(1);
          static constexpr std::string_view kBusy =
              "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
          beast::error_code wec;
          socket.non_blocking(true, wec);
          if (!core_->tls) socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), wec);  // TLS: no words to spare
          socket.close(wec);
        } else {
          // Not make_shared: the server's weak_ptrs would keep a closed connection's memory (and its buffers)
          // allocated until they are pruned; apart, only the small control block waits for that.
          if (core_->tls) {
            Start(std::shared_ptr<Connection<TlsStream>>(new Connection<TlsStream>(core_, std::move(socket))));
          } else {
            Start(std::shared_ptr<Connection<beast::tcp_stream>>(
                new Connection<beast::tcp_stream>(core_, std::move(socket))));
          }
        }
      }
      Accept();
    });
  }

  template <class C>
  void Start(std::shared_ptr<C> c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (connections_.size() > 1024 && connections_.size() > 2 * core_->open.load()) {
        std::erase_if(connections_, [](const std::weak_ptr<ConnectionBase>& w) { return w.expired(); });
      }
      connections_.push_back(c);
    }
    c->Start();
  }

  void Shutdown(std::chrono::milliseconds grace) {
    std::call_once(shutdown_once_, [&] {
      core_->stopping.store(true);
      asio::post(acceptor_.get_executor(), [this] {
        beast::error_code ec;
        acceptor_.close(ec);
      });
      auto deadline = std::chrono::steady_clock::now() + grace;
      while (core_->in_handler.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      // Let the last answers go out, then close what is left.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& w : connections_) {
          if (auto c = w.lock()) c->Cancel();
        }
        connections_.clear();
      }
      core_->ioc.stop();
      for (std::thread& t : threads_) t.join();
    });
  }

  std::shared_ptr<HttpCore> core_;
  tcp::acceptor acceptor_;
  tcp::endpoint bound_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::vector<std::weak_ptr<ConnectionBase>> connections_;
  std::once_flag shutdown_once_;
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options, HttpHandler& handler) {
  if (options.threads < 1 || options.max_body_bytes == 0 || options.max_connections == 0) {
    return absl::InvalidArgumentError("HTTP server options: threads, max_body_bytes and max_connections must be positive");
  }
  auto impl = std::make_unique<Impl>(std::move(options), handler);
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  impl->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Shutdown(std::chrono::milliseconds(0)); }

void HttpServer::Shutdown(std::chrono::milliseconds grace) { impl_->Shutdown(grace); }

int HttpServer::port() const { return impl_->bound_.port(); }

std::string HttpServer::address() const {
  const auto& a = impl_->bound_.address();
  return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), impl_->bound_.port())
                   : fmt::format("{}:{}", a.to_string(), impl_->bound_.port());
}

HttpServerStats HttpServer::stats() const {
  const HttpCore& c = *impl_->core_;
  return {.connections_accepted = c.accepted.load(),
          .connections_open = c.open.load(),
          .connections_refused = c.refused.load(),
          .requests = c.requests.load(),
          .timeouts = c.timeouts.load(),
          .bad_requests = c.bad.load(),
          .tls_handshake_failures = c.tls_failures.load()};
}

}  // namespace otelrr::net
