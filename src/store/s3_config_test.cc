#include "store/s3_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "store/s3_client.h"

namespace otelrr::store {
namespace {

// Sets the given variables and clears every other S3 / MinIO / AWS one for the test's duration.
class Environment {
 public:
  explicit Environment(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (const char* name : {"S3_ENDPOINT", "MINIO_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL",
                             "S3_ACCESS_KEY_ID", "MINIO_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY",
                             "MINIO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "S3_SESSION_TOKEN", "AWS_SESSION_TOKEN",
                             "S3_REGION", "MINIO_REGION", "AWS_REGION", "AWS_DEFAULT_REGION", "S3_BUCKET",
                             "MINIO_BUCKET", "S3_FORCE_PATH_STYLE", "S3_CA_FILE", "AWS_CA_BUNDLE"}) {
      if (const char* v = getenv(name)) saved_.emplace_back(name, v);
      unsetenv(name);
    }
    for (auto [name, value] : vars) setenv(name, value, 1);
    set_ = vars;
  }
  ~Environment() {
    for (auto [name, value] : set_) unsetenv(name);
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
  std::vector<std::pair<const char*, const char*>> set_;
};

TEST(S3ConfigTest, OtelrrNamesWinOverMinioNamesOverAws) {
  Environment env({{"MINIO_ENDPOINT", "minio:9000"}, {"MINIO_ACCESS_KEY", "minio-key"},
                   {"MINIO_SECRET_KEY", "minio-secret"}, {"AWS_ACCESS_KEY_ID", "aws-key"},
                   {"AWS_SECRET_ACCESS_KEY", "aws-secret"}, {"S3_REGION", "eu-west-1"}, {"AWS_REGION", "us-west-2"},
                   {"MINIO_BUCKET", "otel-data"}});
  absl::StatusOr<S3Config> c = S3ConfigFromEnvironment("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->endpoint, "http://minio:9000");  // no scheme: http
  EXPECT_EQ(c->access_key, "minio-key");
  EXPECT_EQ(c->secret_key, "minio-secret");
  EXPECT_EQ(c->region, "eu-west-1");
  EXPECT_EQ(c->bucket, "otel-data");
  EXPECT_EQ(c->prefix, "");
  EXPECT_TRUE(c->path_style);  // a custom endpoint
  EXPECT_EQ(c->Describe(), "s3://otel-data");
  EXPECT_EQ(EnvironmentBucket(), "otel-data");
}

TEST(S3ConfigTest, AwsDefaultsAndAPrefix) {
  Environment env({{"AWS_ACCESS_KEY_ID", "k"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_SESSION_TOKEN", "t"},
                   {"AWS_REGION", "eu-central-1"}});
  absl::StatusOr<S3Config> c = S3ConfigFromEnvironment("s3://my-bucket/team-a/prod/");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->endpoint, "https://s3.eu-central-1.amazonaws.com");
  EXPECT_FALSE(c->path_style);
  EXPECT_EQ(c->prefix, "team-a/prod/");
  EXPECT_EQ(c->session_token, "t");
  EXPECT_EQ(c->Describe(), "s3://my-bucket/team-a/prod");
  S3Client client(*c, {});
  EXPECT_EQ(client.Url({.method = "GET", .key = "team-a/prod/sessions/s 1/x+y.json"}),
            "https://my-bucket.s3.eu-central-1.amazonaws.com/team-a/prod/sessions/s%201/x%2By.json");
  EXPECT_EQ(client.Url({.method = "GET", .query = {{"prefix", "a/b c"}, {"list-type", "2"}, {"delimiter", "/"}}}),
            "https://my-bucket.s3.eu-central-1.amazonaws.com/?delimiter=%2F&list-type=2&prefix=a%2Fb%20c");
}

TEST(S3ConfigTest, PathStyleUrls) {
  Environment env({{"S3_ENDPOINT", "http://127.0.0.1:8333/"}, {"S3_ACCESS_KEY_ID", "k"},
                   {"S3_SECRET_ACCESS_KEY", "s"}, {"S3_FORCE_PATH_STYLE", "true"}});
  absl::StatusOr<S3Config> c = S3ConfigFromEnvironment("s3://b-1");
  ASSERT_TRUE(c.ok()) << c.status();
  S3Client client(*c, {});
  EXPECT_EQ(client.Url({.method = "PUT", .key = "sessions/a/metadata.json"}),
            "http://127.0.0.1:8333/b-1/sessions/a/metadata.json");
  EXPECT_EQ(client.Url({.method = "GET", .query = {{"uploads", ""}}}), "http://127.0.0.1:8333/b-1/?uploads=");
}

TEST(S3ConfigTest, MistakesAreNamed) {
  {
    Environment env({{"S3_ACCESS_KEY_ID", "k"}});
    EXPECT_EQ(S3ConfigFromEnvironment("s3://bucket").status().message(),
              "S3_ACCESS_KEY_ID is set but not its secret: set S3_SECRET_ACCESS_KEY (or MINIO_SECRET_KEY, "
              "AWS_SECRET_ACCESS_KEY) too");
  }
  Environment env({{"S3_ACCESS_KEY_ID", "k"}, {"S3_SECRET_ACCESS_KEY", "s"}});
  EXPECT_EQ(S3ConfigFromEnvironment("").status().message(),
            "no S3 bucket: use --store s3://BUCKET[/PREFIX] (or set S3_BUCKET or MINIO_BUCKET)");
  EXPECT_EQ(S3ConfigFromEnvironment("s3://Bad_Bucket").status().message(),
            "bucket name 'Bad_Bucket' (from the store URI) may hold only lower-case letters, digits, '.' and '-'");
  EXPECT_EQ(S3ConfigFromEnvironment("s3://ab").status().message(),
            "bucket name 'ab' (from the store URI) must have 3 to 63 characters");
  EXPECT_EQ(S3ConfigFromEnvironment("s3://bucket/a/../b").status().code(), absl::StatusCode::kInvalidArgument);
  {
    Environment bad({{"S3_ACCESS_KEY_ID", "k"}, {"S3_SECRET_ACCESS_KEY", "s"}, {"S3_ENDPOINT", "ftp://x"}});
    EXPECT_EQ(S3ConfigFromEnvironment("s3://bucket").status().message(),
              "S3_ENDPOINT='ftp://x' is not an http:// or https:// URL of an S3 endpoint");
  }
}

TEST(S3ClientTest, ErrorsMapToTheStoreKindsAndSayWhatToCheck) {
  Environment env({{"S3_ENDPOINT", "http://127.0.0.1:1"}, {"S3_ACCESS_KEY_ID", "k"}, {"S3_SECRET_ACCESS_KEY", "s"}});
  absl::StatusOr<S3Config> c = S3ConfigFromEnvironment("s3://bucket");
  ASSERT_TRUE(c.ok()) << c.status();
  S3Client client(*c, {});
  auto error = [](long status, std::string code) {
    return S3Response{.status = status,
                      .body = "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>m</Message></Error>"};
  };
  EXPECT_EQ(client.ErrorOf(error(404, "NoSuchKey"), "reading x").code(), absl::StatusCode::kNotFound);
  absl::Status bucket = client.ErrorOf(error(404, "NoSuchBucket"), "listing");
  EXPECT_EQ(bucket.code(), absl::StatusCode::kFailedPrecondition);  // permanent, not "not found"
  EXPECT_NE(bucket.message().find("bucket 'bucket' does not exist"), absl::string_view::npos) << bucket;
  EXPECT_EQ(client.ErrorOf(error(403, "SignatureDoesNotMatch"), "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client.ErrorOf(error(403, "InvalidAccessKeyId"), "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client.ErrorOf(error(503, "SlowDown"), "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.ErrorOf(error(400, "RequestTimeout"), "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.ErrorOf(error(412, "PreconditionFailed"), "x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.ErrorOf({.status = 500, .body = "not xml"}, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.ErrorOf(error(400, "InvalidArgument"), "x").code(), absl::StatusCode::kInvalidArgument);
}

TEST(S3ClientTest, EncodingKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(S3Encode("a-b_c.d~e/f g+h=i&j%", true), "a-b_c.d~e/f%20g%2Bh%3Di%26j%25");
  EXPECT_EQ(S3Encode("a/b", false), "a%2Fb");
  EXPECT_EQ(S3Encode("\xc3\xa9", false), "%C3%A9");
}

}  // namespace
}  // namespace otelrr::store
