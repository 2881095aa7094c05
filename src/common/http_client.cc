#include "common/http_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <random>

namespace otelrr {
namespace {

// Where an answer's body goes. It is reserved once at the answer's Content-Length, so that a ranged GET of
// 8 MiB is one allocation of 8 MiB, not a string doubling its way there in 16 KiB appends (a 16 MiB buffer,
// and 8 MiB of copies on the way).
struct BodySink {
  HttpResponse* response;
  CURL* curl;
  bool sized = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  if (!sink->sized) {
    sink->sized = true;
    curl_off_t length = -1;
    constexpr curl_off_t kMaxReserve = 256 << 20;  // a larger or bogus Content-Length just grows as it comes
    if (curl_easy_getinfo(sink->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK && length > 0 &&
        length <= kMaxReserve) {
      sink->response->body.reserve(static_cast<size_t>(length));
    }
  }
  sink->response->body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    static_cast<HttpResponse*>(user)->headers.emplace_back(std::move(name), std::string(value));
  }
  return size * n;
}

}  // namespace

std::string UrlEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

struct HttpClient::Connection {
  Connection() : curl(curl_easy_init()) {}
  ~Connection() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
  CURL* curl;
};

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock()),
      trace_(!options_.trace_env.empty() && std::getenv(options_.trace_env.c_str()) != nullptr) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Connection> HttpClient::TakeConnection() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  return std::make_unique<Connection>();
}

void HttpClient::GiveBack(std::unique_ptr<Connection> connection) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < 32) idle_.push_back(std::move(connection));
}

absl::StatusOr<HttpResponse> HttpClient::SendOnce(Connection& connection, const HttpRequest& request) {
  CURL* curl = connection.curl;
  if (curl == nullptr) return absl::InternalError("libcurl could not start");
  curl_easy_reset(curl);
  HttpResponse response;
  if (request.answer_buffer != nullptr) {
    response.body = std::move(*request.answer_buffer);
    response.body.clear();
  }
  curl_slist* headers = nullptr;
  // No "Expect:" header to turn off 100-continue: libcurl 7.88 signs an empty header it then does not send.
  bool content_type = false;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, fmt::format("{}: {}", name, value).c_str());
    content_type |= name == "Content-Type";
  }
  const bool has_body = request.method == "PUT" || request.method == "POST";
  if (!content_type && has_body) headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!request.aws_sigv4.empty()) curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, request.aws_sigv4.c_str());
  if (!request.user.empty() || !request.password.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  BodySink body{.response = &response, .curl = curl};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (trace_) curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM) {
    return absl::FailedPreconditionError(curl_easy_strerror(rc));
  }
  if (rc != CURLE_OK) return absl::UnavailableError(curl_easy_strerror(rc));
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

absl::StatusOr<HttpResponse> HttpClient::Send(const HttpRequest& request, const Retryable& retryable) {
  const Clock::TimePoint first = clock_.Now();
  thread_local std::mt19937_64 rng{std::random_device{}()};
  int unanswered = 0;
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<Connection> connection = TakeConnection();
    absl::StatusOr<HttpResponse> r = SendOnce(*connection, request);
    GiveBack(std::move(connection));
    const bool retry = r.ok() ? retryable(*r) : r.status().code() == absl::StatusCode::kUnavailable;
    if (!retry) {
      exhausted_.store(false);
      return r;
    }
    if (exhausted_.load()) return r;
    if (!r.ok() && ++unanswered >= options_.max_unanswered_attempts) {
      exhausted_.store(true);
      return r;
    }
    double base = static_cast<double>(options_.initial_backoff.count()) * std::pow(2.0, attempt - 1);
    base = std::min(base, static_cast<double>(options_.max_backoff.count()));
    const auto delay =
        std::chrono::milliseconds(static_cast<int64_t>(std::uniform_real_distribution<double>(0, base)(rng)));
    if (clock_.Now() + delay - first > options_.retry_budget) {
      exhausted_.store(true);
      return r;
    }
    clock_.SleepUntil(clock_.Now() + delay);
  }
}

}  // namespace otelrr
