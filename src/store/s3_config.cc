#include "store/s3_config.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <initializer_list>

#include "common/status.h"
#include "store/object_store.h"

namespace otelrr::store {
namespace {

// The first of `names` that is set and not empty, with the name it came from.
std::pair<std::string, std::string_view> FirstSet(std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    const char* v = std::getenv(std::string(name).c_str());
    if (v != nullptr && *v != '\0') return {v, name};
  }
  return {"", ""};
}

// S3's rules for bucket names, the parts that matter for a URL: 3 to 63 characters of lower-case
// letters, digits, '.' and '-', starting and ending with a letter or digit.
absl::Status ValidateBucket(std::string_view bucket, std::string_view from) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(fmt::format("bucket name '{}' (from {}) {}", bucket, from, why));
  };
  if (bucket.size() < 3 || bucket.size() > 63) return bad("must have 3 to 63 characters");
  for (char c : bucket) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
          c == '-')) {
      return bad("may hold only lower-case letters, digits, '.' and '-'");
    }
  }
  if (!std::isalnum(static_cast<unsigned char>(bucket.front())) ||
      !std::isalnum(static_cast<unsigned char>(bucket.back()))) {
    return bad("must start and end with a letter or a digit");
  }
  return absl::OkStatus();
}

}  // namespace

std::string S3Config::Describe() const {
  return prefix.empty() ? fmt::format("s3://{}", bucket)
                        : fmt::format("s3://{}/{}", bucket, std::string_view(prefix).substr(0, prefix.size() - 1));
}

std::string EnvironmentBucket() { return FirstSet({"S3_BUCKET", "MINIO_BUCKET"}).first; }

absl::StatusOr<S3Config> S3ConfigFromEnvironment(std::string_view uri) {
  S3Config c;
  std::string_view bucket_from = "the store URI";
  if (uri.empty()) {
    auto [bucket, name] = FirstSet({"S3_BUCKET", "MINIO_BUCKET"});
    if (bucket.empty()) {
      return absl::InvalidArgumentError(
          "no S3 bucket: use --store s3://BUCKET[/PREFIX] (or set S3_BUCKET or MINIO_BUCKET)");
    }
    c.bucket = bucket;
    bucket_from = name;
  } else {
    if (!uri.starts_with("s3://")) {
      return absl::InvalidArgumentError(fmt::format("store URI \"{}\" is not s3://BUCKET[/PREFIX]", uri));
    }
    std::string_view rest = uri.substr(5);
    size_t slash = rest.find('/');
    c.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) {
      std::string_view prefix = rest.substr(slash + 1);
      while (prefix.ends_with('/')) prefix.remove_suffix(1);
      if (!prefix.empty()) {
        if (absl::Status s = ValidateKey(prefix); !s.ok()) {
          return absl::InvalidArgumentError(fmt::format("store URI \"{}\": the prefix {}", uri, s.message()));
        }
        c.prefix = std::string(prefix) + "/";
      }
    }
  }
  if (absl::Status s = ValidateBucket(c.bucket, bucket_from); !s.ok()) return s;

  c.region = FirstSet({"S3_REGION", "MINIO_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"}).first;
  if (c.region.empty()) c.region = "us-east-1";
  auto [endpoint, endpoint_from] = FirstSet({"S3_ENDPOINT", "MINIO_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"});
  const bool custom_endpoint = !endpoint.empty();
  if (!custom_endpoint) {
    endpoint = fmt::format("https://s3.{}.amazonaws.com", c.region);
  } else if (endpoint.find("://") == std::string::npos) {
    endpoint = "http://" + endpoint;  // MinIO's MINIO_ENDPOINT is often host:port
  }
  while (endpoint.ends_with('/')) endpoint.pop_back();
  if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://")) {
    return absl::InvalidArgumentError(
        fmt::format("{}='{}' is not an http:// or https:// URL of an S3 endpoint", endpoint_from, endpoint));
  }
  c.endpoint = endpoint;

  auto [key, key_from] = FirstSet({"S3_ACCESS_KEY_ID", "MINIO_ACCESS_KEY", "AWS_ACCESS_KEY_ID"});
  auto [secret, secret_from] = FirstSet({"S3_SECRET_ACCESS_KEY", "MINIO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"});
  if (key.empty() != secret.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "{} is set but not its secret: set S3_SECRET_ACCESS_KEY (or MINIO_SECRET_KEY, AWS_SECRET_ACCESS_KEY) too",
        key.empty() ? secret_from : key_from));
  }
  if (key.empty()) {
    return absl::InvalidArgumentError(
        "no S3 credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or MINIO_ACCESS_KEY and "
        "MINIO_SECRET_KEY, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
  }
  c.access_key = key;
  c.secret_key = secret;
  c.session_token = FirstSet({"S3_SESSION_TOKEN", "AWS_SESSION_TOKEN"}).first;

  auto [path_style, path_style_from] = FirstSet({"S3_FORCE_PATH_STYLE"});
  if (path_style.empty()) {
    c.path_style = custom_endpoint;
  } else if (path_style == "true" || path_style == "1") {
    c.path_style = true;
  } else if (path_style == "false" || path_style == "0") {
    c.path_style = false;
  } else {
    return absl::InvalidArgumentError(fmt::format("S3_FORCE_PATH_STYLE='{}' is not true or false", path_style));
  }
  if (!c.path_style && c.bucket.find('.') != std::string::npos && endpoint.starts_with("https://")) {
    // A dotted bucket as a host name breaks the endpoint's TLS wildcard certificate.
    c.path_style = true;
  }
  c.ca_file = FirstSet({"S3_CA_FILE", "AWS_CA_BUNDLE"}).first;
  return c;
}

}  // namespace otelrr::store
