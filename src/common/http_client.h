// An HTTP/1.1 client for the services otelrr talks to as a client (S3, ClickHouse): libcurl easy
// handles kept alive in a pool, and retries with exponential backoff and full jitter inside a time budget.
//
//   HttpClient client({.ca_file = config.ca_file});
//   absl::StatusOr<HttpResponse> r = client.Send(
//       {.method = "POST", .url = "http://127.0.0.1:8123/?query=...", .body = rows, .user = "default"},
//       [](const HttpResponse& r) { return r.status == 503; });   // which answers are worth sending again
//   if (!r.ok()) return r.status();   // no answer at all, even after retries (Unavailable / FailedPrecondition)
//   if (r->status != 200) ...         // the server's last answer, whatever its status
//
// Retries: a request that fails in transport (refused, reset, timed out), or whose answer `retryable`
// accepts, is sent again after a random wait in [0, min(initial_backoff * 2^(n-1), max_backoff)], until it
// succeeds or retry_budget has passed since the first attempt, or max_unanswered_attempts got no answer
// at all (a server that is down need not be waited for as long as one that says "slow down"). Once a
// request has used up its budget, later requests are sent once each, without retries, until one gets an
// answer that is not retryable: the server has just stayed busy or unreachable for a whole budget, and
// the requests a failing command still makes (cleaning up, marking a session failed) would otherwise wait
// a budget each.
//
// Authentication: basic (user and password), or AWS Signature Version 4 when aws_sigv4 is set
// ("aws:amz:REGION:SERVICE", libcurl's signer, with user = access key and password = secret key).
//
// Thread-safe: requests run on the calling thread, each on a connection taken from the pool.
#ifndef OTELRR_COMMON_HTTP_CLIENT_H_
#define OTELRR_COMMON_HTTP_CLIENT_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"

namespace otelrr {

struct HttpRequest {
  std::string method = "GET";  // GET, PUT, POST, DELETE, HEAD
  std::string url = {};        // already encoded
  std::vector<std::pair<std::string, std::string>> headers = {};  // "Name", "value"
  std::string_view body = {};
  std::string user = {};
  std::string password = {};
  std::string aws_sigv4 = {};  // "aws:amz:us-east-1:s3": sign with SigV4 (user/password are the key pair)
  // When set, this string is taken (moved from) to hold the answer's body: a caller that reads many large
  // answers hands back the buffer of the previous one, and no answer allocates megabytes anew.
  std::string* answer_buffer = nullptr;
};

struct HttpResponse {
  long status = 0;
  std::string body = {};
  std::vector<std::pair<std::string, std::string>> headers = {};  // names lower-cased

  // The value of header `name` (lower case), "" when absent.
  std::string Header(std::string_view name) const;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  std::chrono::milliseconds request_timeout = std::chrono::seconds(120);
  std::chrono::milliseconds retry_budget = std::chrono::seconds(30);
  int max_unanswered_attempts = 5;
  std::chrono::milliseconds initial_backoff = std::chrono::milliseconds(50);
  std::chrono::milliseconds max_backoff = std::chrono::seconds(4);
  std::string ca_file = {};   // PEM bundle trusted for https (default: the system's)
  std::string trace_env = {};  // when this environment variable is set, libcurl logs each exchange to stderr
  Clock* clock = nullptr;      // backoff waits; default RealClock()
};

class HttpClient {
 public:
  using Retryable = std::function<bool(const HttpResponse&)>;

  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request`, retrying as described above, and returns the server's last answer. Errors only
  // when no answer came: Unavailable (cannot connect, reset, timed out; the message is libcurl's),
  // FailedPrecondition (TLS: the server's certificate is not trusted, or the CA file is unusable).
  absl::StatusOr<HttpResponse> Send(const HttpRequest& request, const Retryable& retryable);

  const HttpClientOptions& options() const { return options_; }

 private:
  struct Connection;
  std::unique_ptr<Connection> TakeConnection();
  void GiveBack(std::unique_ptr<Connection> connection);
  absl::StatusOr<HttpResponse> SendOnce(Connection& connection, const HttpRequest& request);

  const HttpClientOptions options_;
  Clock& clock_;
  const bool trace_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  // Set when a request used up its retry budget; cleared by the next answer that is not retryable.
  std::atomic<bool> exhausted_{false};
};

// Percent-encodes `s` for a URL: everything but A-Z a-z 0-9 - _ . ~ (and '/' when `keep_slash`).
std::string UrlEncode(std::string_view s, bool keep_slash = false);

}  // namespace otelrr

#endif  // OTELRR_COMMON_HTTP_CLIENT_H_
