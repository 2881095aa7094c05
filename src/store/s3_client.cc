#include "store/s3_client.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>

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

S3Client::S3Client(S3Config config, S3ClientOptions options)
    : config_(std::move(config)), client_([&] {
        options.ca_file = config_.ca_file;
        options.trace_env = "OTELRR_S3_TRACE";
        return options;
      }()) {}

S3Client::~S3Client() = default;

std::string S3Client::Url(const S3Request& request) const {
  std::string base;
  // (Built with fmt, not `"/" + string`: g++ 12 -O3 warns falsely about that concatenation, -Wrestrict.)
  const std::string path = fmt::format("/{}", S3Encode(request.key, /*keep_slash=*/true));
  if (config_.path_style) {
    base = fmt::format("{}/{}", config_.endpoint, config_.bucket);
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

absl::StatusOr<S3Response> S3Client::Send(const S3Request& request) {
  // Signed by libcurl (SigV4), with the payload's hash as S3 wants it.
  HttpRequest http{.method = request.method,
                   .url = Url(request),
                   .headers = request.headers,
                   .body = request.body,
                   .user = config_.access_key,
                   .password = config_.secret_key,
                   .aws_sigv4 = fmt::format("aws:amz:{}:s3", config_.region),
                   .answer_buffer = request.answer_buffer};
  http.headers.emplace_back("x-amz-content-sha256", Sha256Hex(request.body));
  if (!config_.session_token.empty()) http.headers.emplace_back("x-amz-security-token", config_.session_token);
  absl::StatusOr<S3Response> r = client_.Send(http, Retryable);
  if (absl::IsFailedPrecondition(r.status())) {
    return absl::FailedPreconditionError(fmt::format(
        "the S3 endpoint {} is not trusted: {} (give its CA certificate in S3_CA_FILE or AWS_CA_BUNDLE)",
        config_.endpoint, r.status().message()));
  }
  if (!r.ok()) {
    return absl::UnavailableError(fmt::format("cannot reach the S3 endpoint {}: {} (check S3_ENDPOINT or "
                                              "MINIO_ENDPOINT, and that the server runs)",
                                              config_.endpoint, r.status().message()));
  }
  return r;
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
