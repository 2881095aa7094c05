#include "store/s3_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>

#include "common/status.h"
#include "store/internal/xml.h"

namespace otelrr::store {
namespace {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

// Where an answer's body goes. It is reserved once at the answer's Content-Length, so that a ranged GET of
// 8 MiB is one allocation of 8 MiB, not a string doubling its way there in 16 KiB appends (a 16 MiB buffer,
// and 8 MiB of copies on the way).
struct BodySink {
  S3Response* response;
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
    static_cast<S3Response*>(user)->headers.emplace_back(std::move(name), std::string(value));
  }
  return size * n;
}

// The <Code> and <Message> of an S3 error document ("" when the body is not one).
std::pair<std::string, std::string> ErrorCode(const S3Response& r) {
  absl::StatusOr<internal::XmlDocument> doc = internal::XmlDocument::Parse(r.body);
  if (!doc.ok() || doc->root().name() != "Error") return {"", ""};
  return {doc->root().ChildText("Code"), doc->root().ChildText("Message")};
}

bool Retryable(const S3Response& r) {
  if (r.status == 500 || r.status == 502 || r.status == 503 || r.status == 504) return true;
  // A success is an error only when S3 sent an <Error> document with it (CompleteMultipartUpload can); any
  // other success body is not parsed as XML, as a ranged GET's is megabytes of data (libxml2 copied it all).
  const bool success = r.status >= 200 && r.status < 300;
  if (success && std::string_view(r.body).substr(0, 512).find("<Error>") == std::string_view::npos) return false;
  auto [code, message] = ErrorCode(r);
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" || code == "ServiceUnavailable";
}

}  // namespace

std::string S3Encode(std::string_view s, bool keep_slash) {
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

std::string S3Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

struct S3Client::Connection {
  Connection() : curl(curl_easy_init()) {}
  ~Connection() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
  CURL* curl;
};

S3Client::S3Client(S3Config config, S3ClientOptions options)
    : config_(std::move(config)),
      options_(options),
      clock_(options.clock != nullptr ? *options.clock : RealClock()) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

S3Client::~S3Client() = default;

std::unique_ptr<S3Client::Connection> S3Client::TakeConnection() {
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

void S3Client::GiveBack(std::unique_ptr<Connection> connection) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < 32) idle_.push_back(std::move(connection));
}

std::string S3Client::Url(const S3Request& request) const {
  std::string base;
  std::string path = "/" + S3Encode(request.key, /*keep_slash=*/true);
  if (config_.path_style) {
    base = fmt::format("{}/{}", config_.endpoint, config_.bucket);
    if (request.key.empty()) path = "/";
  } else {
    size_t scheme = config_.endpoint.find("://") + 3;
    base = fmt::format("{}{}.{}", config_.endpoint.substr(0, scheme), config_.bucket, config_.endpoint.substr(scheme));
  }
  std::string url = base + path;
  if (!request.query.empty()) {
    // Canonical order (sorted by encoded name, then value), each part percent-encoded.
    std::vector<std::pair<std::string, std::string>> q;
    for (const auto& [k, v] : request.query) q.emplace_back(S3Encode(k, false), S3Encode(v, false));
    std::sort(q.begin(), q.end());
    url.push_back('?');
    for (size_t i = 0; i < q.size(); ++i) {
      if (i > 0) url.push_back('&');
      url += q[i].first;
      url.push_back('=');
      url += q[i].second;
    }
  }
  return url;
}

absl::StatusOr<S3Response> S3Client::SendOnce(Connection& connection, const S3Request& request, const std::string& url,
                                              const std::string& payload_hash) {
  CURL* curl = connection.curl;
  if (curl == nullptr) return absl::InternalError("libcurl could not start");
  curl_easy_reset(curl);
  S3Response response;
  if (request.answer_buffer != nullptr) {
    response.body = std::move(*request.answer_buffer);
    response.body.clear();
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, fmt::format("x-amz-content-sha256: {}", payload_hash).c_str());
  if (!config_.session_token.empty()) {
    headers = curl_slist_append(headers, fmt::format("x-amz-security-token: {}", config_.session_token).c_str());
  }
  // No "Expect:" header to turn off 100-continue: libcurl 7.88 signs an empty header it then does not send.
  bool content_type = false;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, fmt::format("{}: {}", name, value).c_str());
    content_type |= name == "Content-Type";
  }
  if (!content_type && (request.method == "PUT" || request.method == "POST")) {
    headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
  }
  const std::string sigv4 = fmt::format("aws:amz:{}:s3", config_.region);
  const std::string userpwd = config_.access_key + ":" + config_.secret_key;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  BodySink body{.response = &response, .curl = curl};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
  if (std::getenv("OTELRR_S3_TRACE") != nullptr) curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM) {
    return absl::FailedPreconditionError(fmt::format(
        "the S3 endpoint {} is not trusted: {} (give its CA certificate in S3_CA_FILE or AWS_CA_BUNDLE)",
        config_.endpoint, curl_easy_strerror(rc)));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(fmt::format("cannot reach the S3 endpoint {}: {} (check S3_ENDPOINT or "
                                              "MINIO_ENDPOINT, and that the server runs)",
                                              config_.endpoint, curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

absl::StatusOr<S3Response> S3Client::Send(const S3Request& request) {
  const std::string url = Url(request);
  const std::string payload_hash = Sha256Hex(request.body);
  const Clock::TimePoint first = clock_.Now();
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<Connection> connection = TakeConnection();
    absl::StatusOr<S3Response> r = SendOnce(*connection, request, url, payload_hash);
    GiveBack(std::move(connection));
    const bool retry = r.ok() ? Retryable(*r) : r.status().code() == absl::StatusCode::kUnavailable;
    if (!retry) return r;
    double base = static_cast<double>(options_.initial_backoff.count()) * std::pow(2.0, attempt - 1);
    base = std::min(base, static_cast<double>(options_.max_backoff.count()));
    const auto delay = std::chrono::milliseconds(
        static_cast<int64_t>(std::uniform_real_distribution<double>(0, base)(rng)));
    if (clock_.Now() + delay - first > options_.retry_budget) return r;
    clock_.SleepUntil(clock_.Now() + delay);
  }
}

absl::Status S3Client::ErrorOf(const S3Response& r, std::string_view what) const {
  auto [code, message] = ErrorCode(r);
  const std::string detail = code.empty() ? fmt::format("HTTP {}", r.status)
                                          : fmt::format("{}{}{}", code, message.empty() ? "" : ": ", message);
  if (code == "NoSuchBucket") {
    return absl::FailedPreconditionError(fmt::format(
        "{}: bucket '{}' does not exist at {}: create it, or check the bucket name (--store s3://BUCKET, S3_BUCKET "
        "or MINIO_BUCKET)",
        what, config_.bucket, config_.endpoint));
  }
  if (r.status == 404) return absl::NotFoundError(fmt::format("{}: not found ({})", what, detail));
  if (code == "InvalidAccessKeyId") {
    return absl::PermissionDeniedError(fmt::format(
        "{}: the S3 endpoint does not know the access key ({}): check S3_ACCESS_KEY_ID (or MINIO_ACCESS_KEY, "
        "AWS_ACCESS_KEY_ID)",
        what, detail));
  }
  if (code == "SignatureDoesNotMatch") {
    return absl::PermissionDeniedError(fmt::format(
        "{}: the S3 endpoint refused the request's signature ({}): check S3_SECRET_ACCESS_KEY (or "
        "MINIO_SECRET_KEY, AWS_SECRET_ACCESS_KEY) and the region (S3_REGION: {})",
        what, detail, config_.region));
  }
  if (r.status == 403) {
    return absl::PermissionDeniedError(fmt::format(
        "{}: access denied ({}): the credentials may not use bucket '{}'", what, detail, config_.bucket));
  }
  if (r.status == 412) return absl::FailedPreconditionError(fmt::format("{}: {}", what, detail));
  if (Retryable(r)) {
    return absl::UnavailableError(fmt::format("{}: the S3 server stayed busy ({}); try again later", what, detail));
  }
  if (r.status == 400 || r.status == 411 || r.status == 413) {
    return absl::InvalidArgumentError(fmt::format("{}: the S3 server refused the request ({})", what, detail));
  }
  return absl::InternalError(fmt::format("{}: the S3 server answered {}", what, detail));
}

}  // namespace otelrr::store
