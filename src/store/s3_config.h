// Where an S3 store is and how to reach it: the bucket and prefix of an s3:// URI, the endpoint, the
// credentials and the options, from the environment families that S3 users have.
//
//   absl::StatusOr<S3Config> c = S3ConfigFromEnvironment("s3://otel-data/team-a");
//   // c->bucket == "otel-data", c->prefix == "team-a/", endpoint and keys from the environment
//
// Every setting is taken from the first of these that is set (otelrr's S3_* names first, then the
// MINIO_* names of MinIO deployments, then the AWS SDK conventions):
//   endpoint      S3_ENDPOINT, MINIO_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL
//                 (default: https://s3.<region>.amazonaws.com)
//   access key    S3_ACCESS_KEY_ID, MINIO_ACCESS_KEY, AWS_ACCESS_KEY_ID
//   secret key    S3_SECRET_ACCESS_KEY, MINIO_SECRET_KEY, AWS_SECRET_ACCESS_KEY
//   session token S3_SESSION_TOKEN, AWS_SESSION_TOKEN
//   region        S3_REGION, MINIO_REGION, AWS_REGION, AWS_DEFAULT_REGION (default: us-east-1)
//   bucket        the URI's; without a URI: S3_BUCKET, MINIO_BUCKET
//   path style    S3_FORCE_PATH_STYLE (true/false); default: path style for a custom endpoint (MinIO,
//                 SeaweedFS...), virtual-hosted style for AWS
//   CA file       S3_CA_FILE, AWS_CA_BUNDLE (default: the system's roots)
// An endpoint without a scheme gets http:// (MinIO's MINIO_ENDPOINT is often "minio:9000").
#ifndef OTELRR_STORE_S3_CONFIG_H_
#define OTELRR_STORE_S3_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace otelrr::store {

struct S3Config {
  std::string endpoint;  // scheme://host[:port], no trailing slash
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;  // "" or "a/b/": prepended to every key
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  bool path_style = true;
  std::string ca_file;

  // "s3://bucket/prefix" (for messages).
  std::string Describe() const;
};

// The config of `uri` ("s3://BUCKET[/PREFIX]", or "" to take the bucket from S3_BUCKET / MINIO_BUCKET)
// and the environment. InvalidArgument naming what is wrong: a bad URI or bucket name, a missing bucket,
// credentials that are half given (an access key without its secret), an endpoint that is not a URL.
absl::StatusOr<S3Config> S3ConfigFromEnvironment(std::string_view uri);

// The bucket the environment names (S3_BUCKET, else MINIO_BUCKET), or "": without --store or
// OTELRR_STORE, such an environment means the sessions live in that bucket, as MinIO users expect.
std::string EnvironmentBucket();

}  // namespace otelrr::store

#endif  // OTELRR_STORE_S3_CONFIG_H_
