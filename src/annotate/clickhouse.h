// The ClickHouse sink of annotations: the otel-ai platform's `annotations` table, over ClickHouse's HTTP
// interface (port 8123).
//
//   absl::StatusOr<std::optional<ClickHouseConfig>> config = ClickHouseConfig::Resolve(flag_value);
//   ClickHouseSink sink(**config);
//   sink.Init();                                   // CREATE TABLE IF NOT EXISTS annotations (...)
//   sink.Insert(annotations);                      // INSERT ... FORMAT JSONEachRow, in batches
//   absl::StatusOr<std::vector<Annotation>> a = sink.Query("seed-1");
//
// No value is ever spliced into SQL text: rows travel as JSONEachRow data in the request body, and the
// values of queries as typed parameters ({sid:String} with param_sid=... in the URL). The database is
// chosen with the `database` URL parameter, the user with basic authentication. The SQL needs ClickHouse
// 22.3 or newer (DateTime64, Map, query parameters in the HTTP interface, JSONEachRow).
//
// Requests are retried (HttpClient) when the server cannot be reached or answers that it is busy or
// timed out (HTTP 502/503/504, or the exception codes of overload and timeouts); any other error comes
// back at once, its kind chosen for the caller: PermissionDenied (authentication), FailedPrecondition
// (no table: run `otelrr annotations init`; no database), InvalidArgument (a row the table refuses),
// Unavailable (not reachable, busy), Internal (anything else, with ClickHouse's own message).
//
// Thread-safe.
#ifndef OTELRR_ANNOTATE_CLICKHOUSE_H_
#define OTELRR_ANNOTATE_CLICKHOUSE_H_

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "annotate/annotation.h"
#include "common/http_client.h"

namespace otelrr::annotate {

struct ClickHouseConfig {
  std::string url = {};  // "http://127.0.0.1:8123" (https too)
  std::string user = "default";
  std::string password = {};
  std::string database = "default";
  std::string table = "annotations";

  // --clickhouse URL, else CLICKHOUSE_URL, else http://CLICKHOUSE_HOST:CLICKHOUSE_PORT (8123) when
  // CLICKHOUSE_HOST is set; nullopt when none is (annotations stay embedded). User, password and
  // database from CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE (or the URL's user:password@).
  // InvalidArgument for a URL that is not http(s)://host[:port] or a name that is not an identifier.
  static absl::StatusOr<std::optional<ClickHouseConfig>> Resolve(std::string_view flag_url);
};

// The CREATE TABLE statement of the platform's annotations table (migration 20250924000001).
std::string AnnotationsTableDdl(std::string_view table);

class ClickHouseSink {
 public:
  static constexpr size_t kBatchRows = 10'000;

  explicit ClickHouseSink(ClickHouseConfig config, HttpClientOptions options = {});

  // Creates the table when it is missing (an existing table is left as it is).
  absl::Status Init();
  // Inserts the annotations, kBatchRows per request.
  absl::Status Insert(std::span<const Annotation> annotations);
  // The annotations of a session (session_id column), ordered by start time and id. `key_prefix`, when
  // given, keeps only keys that start with it.
  absl::StatusOr<std::vector<Annotation>> Query(std::string_view session_id, std::string_view key_prefix = "");
  // The ids the table holds for a session.
  absl::StatusOr<absl::flat_hash_set<std::string>> Ids(std::string_view session_id);
  // Runs a statement with typed parameters ({name:Type} in `sql`, the values in `params`) and returns the
  // response body. For the calls above, and for tests.
  absl::StatusOr<std::string> Execute(std::string_view sql, std::span<const std::pair<std::string, std::string>> params = {},
                                      std::string_view body = {});

  const ClickHouseConfig& config() const { return config_; }
  // "http://host:8123 (database default, table annotations)": for messages.
  std::string Describe() const;

 private:
  absl::Status ErrorOf(const HttpResponse& response) const;

  const ClickHouseConfig config_;
  HttpClient client_;
};

// One row of JSONEachRow for the table (exposed for tests).
std::string ToClickHouseRow(const Annotation& a);

}  // namespace otelrr::annotate

#endif  // OTELRR_ANNOTATE_CLICKHOUSE_H_
