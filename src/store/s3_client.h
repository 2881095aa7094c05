// The S3 REST calls the S3 store makes, signed with AWS Signature Version 4 (libcurl's built-in
// signer), over kept-alive connections, with the retries S3 asks for.
//
//   S3Client client(config, {});
//   absl::StatusOr<S3Response> r = client.Send({.method = "GET", .key = "sessions/s1/metadata.json"});
//   if (!r.ok()) return r.status();                 // the server could not be reached, even after retries
//   if (r->status != 200) return client.ErrorOf(*r, "reading sessions/s1/metadata.json");
//
// Keys are full object keys (the store adds its prefix). Every request carries x-amz-content-sha256
// (the payload's SHA-256) and a query string in canonical order, percent-encoded: Debian's libcurl 7.88
// signs what it is given and S3 servers answer SignatureDoesNotMatch otherwise.
//
// Retries (common/http_client.h): a request that fails in transport (refused, reset, timed out) or is
// answered 500, 502, 503, 504, SlowDown or RequestTimeout is sent again after an exponential backoff
// with full jitter, until it succeeds or retry_budget has passed since the first attempt (or
// max_unanswered_attempts got no answer at all). What is left is the caller's. Once a request has used
// up its budget, the following requests are sent once each until one gets an answer that is not
// retryable: the requests a failing command still makes (aborting its uploads, marking its session
// failed, releasing its lease) would otherwise wait a budget each, turning a 30 s failure into minutes.
//
// Thread-safe: requests run on the calling thread, each on a connection taken from a pool.
#ifndef OTELRR_STORE_S3_CLIENT_H_
#define OTELRR_STORE_S3_CLIENT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http_client.h"
#include "store/s3_config.h"

namespace otelrr::store {

struct S3Request {
  std::string method = "GET";  // GET, PUT, POST, DELETE, HEAD
  std::string key = {};        // "" for the bucket itself
  std::vector<std::pair<std::string, std::string>> query = {};    // not encoded
  std::vector<std::pair<std::string, std::string>> headers = {};  // "Name", "value"
  std::string_view body = {};
  // When set, this string is taken (moved from) to hold the answer's body: a caller that reads many ranges
  // hands back the buffer of the previous one, and no answer allocates megabytes anew.
  std::string* answer_buffer = nullptr;
};

using S3Response = HttpResponse;

// Timeouts and retries (HttpClientOptions); the CA file and the trace switch come from the S3Config.
using S3ClientOptions = HttpClientOptions;

class S3Client {
 public:
  S3Client(S3Config config, S3ClientOptions options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Sends `request` (retrying what is retryable, see above) and returns the server's last answer,
  // whatever its status. Errors only when no answer came: Unavailable (the endpoint cannot be reached,
  // with what to check), FailedPrecondition (TLS: the server's certificate is not trusted).
  absl::StatusOr<S3Response> Send(const S3Request& request);

  // The status of a non-2xx answer, of one of the store's kinds (object_store.h): NotFound (no such
  // key), Unavailable (busy server, retries exhausted), PermissionDenied (credentials or access), or
  // another permanent code; the message starts with `what` and says what to check.
  absl::Status ErrorOf(const S3Response& response, std::string_view what) const;

  const S3Config& config() const { return config_; }
  // The URL of a request: path-style or virtual-hosted, the key percent-encoded, the query canonical.
  std::string Url(const S3Request& request) const;

 private:
  const S3Config config_;
  HttpClient client_;
};

// Percent-encodes `s` as S3's canonical requests want: everything but A-Z a-z 0-9 - _ . ~ (and '/'
// when `keep_slash`, for object keys in paths).
inline std::string S3Encode(std::string_view s, bool keep_slash) { return UrlEncode(s, keep_slash); }

}  // namespace otelrr::store

#endif  // OTELRR_STORE_S3_CLIENT_H_
