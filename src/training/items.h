// The items of one OTLP request (spans, metric data points, log records) as flat views, one call per
// item, with the fields a training row needs. Nothing is copied: every text is a view into the request.
//
//   ItemWalker walker;                                   // reuse: it keeps its scratch space
//   absl::Status s = walker.Walk(Signal::kTraces, record.payload, {
//       .span = [&](const SpanView& span) { rows.Add(span); },
//   });
//   if (!s.ok()) return s;                               // DataLoss: the bytes are not a request
//
// An item's own time (ItemTime, the time that decides its phase): a span's start_time_unix_nano, a
// data point's time_unix_nano, a log record's time_unix_nano, or its observed_time_unix_nano when the
// former is 0 (unset, as the OTLP specification allows). The replay's phase filter uses the same rule
// (otlp/rewrite.h, KeepItemsInWindows).
//
// The request is read with otlp/field_reader.h, field by field at the levels that hold items: lengths
// are checked against the buffer (a damaged request is an error, never a crash), fields of other
// numbers or wire types are skipped, and the protobuf merge rules the rows rely on hold (the last value
// of a scalar wins; a resource given in parts is read whole). Attribute values (AnyValue) nest, to at
// most otlp::kMaxNestingDepth levels; deeper values are written as null.
//
// Thread-compatible.
#ifndef OTELRR_TRAINING_ITEMS_H_
#define OTELRR_TRAINING_ITEMS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "otlp/signal.h"

namespace otelrr::training {

// One attribute (KeyValue): its key and the bytes of its AnyValue.
struct AttributeView {
  std::string_view key = {};
  std::string_view value = {};  // an AnyValue message
};

// A span's attributes that get columns of their own (the latest semantic-convention name first, then the
// older one): the AnyValue bytes, empty when the span has neither.
struct SpanColumns {
  std::string_view http_method = {};       // http.request.method, http.method
  std::string_view http_route = {};        // http.route
  std::string_view http_status_code = {};  // http.response.status_code, http.status_code
  std::string_view rpc_system = {};        // rpc.system
  std::string_view rpc_service = {};       // rpc.service
  std::string_view rpc_method = {};        // rpc.method
  std::string_view rpc_grpc_status_code = {};  // rpc.grpc.status_code
  std::string_view db_system = {};         // db.system.name, db.system
  std::string_view db_statement = {};      // db.query.text, db.statement
};

struct SpanView {
  std::string_view service_name = {};  // the resource's service.name (a string), else empty
  std::string_view trace_id = {};      // 16 bytes, or empty
  std::string_view span_id = {};       // 8 bytes, or empty
  std::string_view parent_span_id = {};
  std::string_view name = {};
  int32_t kind = 0;  // SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  int32_t status_code = 0;  // 0 unset, 1 ok, 2 error
  std::string_view status_message = {};
  SpanColumns columns = {};
  const std::vector<AttributeView>* attributes = nullptr;  // in wire order
};

enum class MetricType : uint8_t { kGauge, kSum, kHistogram, kExponentialHistogram, kSummary };
std::string_view MetricTypeName(MetricType type);  // "gauge", "sum", "histogram", "exponential_histogram", "summary"

struct PointView {
  std::string_view service_name = {};
  std::string_view metric_name = {};
  std::string_view unit = {};
  MetricType type = MetricType::kGauge;
  int32_t temporality = 0;  // AggregationTemporality of sums and histograms: 1 delta, 2 cumulative; 0 unset
  bool monotonic = false;   // sums
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  // Gauges and sums: the value, an integer (as_int) or a double (as_double); neither when the point
  // holds no value.
  bool has_int = false;
  bool has_double = false;
  int64_t as_int = 0;
  double as_double = 0;
  // Histograms and summaries: count, and sum when present.
  uint64_t count = 0;
  bool has_sum = false;
  double sum = 0;
  const std::vector<AttributeView>* attributes = nullptr;
};

struct LogView {
  std::string_view service_name = {};
  uint64_t time_unix_nano = 0;
  uint64_t observed_time_unix_nano = 0;
  int32_t severity_number = 0;
  std::string_view severity_text = {};
  std::string_view body = {};  // an AnyValue message, empty when the record has no body
  std::string_view trace_id = {};
  std::string_view span_id = {};
  const std::vector<AttributeView>* attributes = nullptr;
};

// The time that decides an item's phase (see the header comment).
inline uint64_t ItemTime(const SpanView& s) { return s.start_time_unix_nano; }
inline uint64_t ItemTime(const PointView& p) { return p.time_unix_nano; }
inline uint64_t ItemTime(const LogView& l) { return l.time_unix_nano != 0 ? l.time_unix_nano : l.observed_time_unix_nano; }

struct ItemCallbacks {
  std::function<void(const SpanView&)> span = nullptr;
  std::function<void(const PointView&)> point = nullptr;
  std::function<void(const LogView&)> log = nullptr;
  // Only times are needed (counting): attributes, names and the other texts are not read.
  bool times_only = false;
};

class ItemWalker {
 public:
  // Calls the callback of `signal`'s items for each of them, in the request's order. DataLoss when the
  // bytes are not a well-formed request (the message says where).
  absl::Status Walk(otlp::Signal signal, std::string_view request, const ItemCallbacks& callbacks);

 private:
  absl::Status WalkSpans(std::string_view request, const ItemCallbacks& cb);
  absl::Status WalkMetrics(std::string_view request, const ItemCallbacks& cb);
  absl::Status WalkLogs(std::string_view request, const ItemCallbacks& cb);

  struct MetricData {
    MetricType type;
    std::string_view bytes;  // a Gauge, Sum, Histogram, ExponentialHistogram or Summary message
  };
  std::vector<AttributeView> attributes_ = {};
  std::vector<MetricData> metric_data_ = {};
};

// ---- AnyValue as text, for the rows ----

// Appends an AnyValue as JSON: a string as a JSON string, bool, int and double as JSON values (doubles
// as JsonWriter writes them), bytes as a base64 string, arrays as arrays, key-value lists as objects;
// an empty or unset AnyValue as null.
void AppendAnyValueJson(std::string_view any_value, std::string* out);
// Appends the attributes as one JSON object {"key": value, ...} in wire order.
void AppendAttributesJson(const std::vector<AttributeView>& attributes, std::string* out);
// The string of an AnyValue that holds one; false otherwise (the caller then writes it as JSON).
bool AnyValueString(std::string_view any_value, std::string_view* out);
// Appends ids as lowercase hex (nothing for an empty id).
void AppendHex(std::string_view bytes, std::string* out);

}  // namespace otelrr::training

#endif  // OTELRR_TRAINING_ITEMS_H_
