#include "otlp/schema.h"

#include <array>

namespace otelrr::otlp {
namespace {

using enum FieldType;
constexpr bool kRepeated = true;

// Field rows, in the order the .proto files declare them. Designated initialisers keep the rows readable.
constexpr Field Msg(uint32_t n, std::string_view name, std::string_view json, const MessageType* m,
                    bool repeated = false, bool presence = false) {
  return Field{.number = n, .name = name, .json_name = json, .type = kMessage, .repeated = repeated,
               .explicit_presence = presence, .message = m};
}
constexpr Field Scalar(uint32_t n, std::string_view name, std::string_view json, FieldType t,
                       bool repeated = false, bool presence = false) {
  return Field{.number = n, .name = name, .json_name = json, .type = t, .repeated = repeated,
               .explicit_presence = presence};
}
constexpr Field Enum(uint32_t n, std::string_view name, std::string_view json, const EnumType* e) {
  return Field{.number = n, .name = name, .json_name = json, .type = kEnum, .enum_type = e};
}
constexpr Field Time(uint32_t n, std::string_view name, std::string_view json) {
  return Field{.number = n, .name = name, .json_name = json, .type = kFixed64, .role = FieldRole::kTimestamp};
}
constexpr Field Id(uint32_t n, std::string_view name, std::string_view json, FieldRole role) {
  return Field{.number = n, .name = name, .json_name = json, .type = kBytes, .role = role};
}
constexpr Field Legacy(Field f, std::string_view legacy) {
  f.legacy_json_name = legacy;
  return f;
}

// ---- enums ----
constexpr EnumValue kSpanKindValues[] = {
    {0, "SPAN_KIND_UNSPECIFIED"}, {1, "SPAN_KIND_INTERNAL"}, {2, "SPAN_KIND_SERVER"},
    {3, "SPAN_KIND_CLIENT"},      {4, "SPAN_KIND_PRODUCER"}, {5, "SPAN_KIND_CONSUMER"},
};
constexpr EnumType kSpanKind{"opentelemetry.proto.trace.v1.Span.SpanKind", kSpanKindValues};

constexpr EnumValue kStatusCodeValues[] = {
    {0, "STATUS_CODE_UNSET"}, {1, "STATUS_CODE_OK"}, {2, "STATUS_CODE_ERROR"}};
constexpr EnumType kStatusCode{"opentelemetry.proto.trace.v1.Status.StatusCode", kStatusCodeValues};

constexpr EnumValue kSeverityValues[] = {
    {0, "SEVERITY_NUMBER_UNSPECIFIED"}, {1, "SEVERITY_NUMBER_TRACE"},  {2, "SEVERITY_NUMBER_TRACE2"},
    {3, "SEVERITY_NUMBER_TRACE3"},      {4, "SEVERITY_NUMBER_TRACE4"}, {5, "SEVERITY_NUMBER_DEBUG"},
    {6, "SEVERITY_NUMBER_DEBUG2"},      {7, "SEVERITY_NUMBER_DEBUG3"}, {8, "SEVERITY_NUMBER_DEBUG4"},
    {9, "SEVERITY_NUMBER_INFO"},        {10, "SEVERITY_NUMBER_INFO2"}, {11, "SEVERITY_NUMBER_INFO3"},
    {12, "SEVERITY_NUMBER_INFO4"},      {13, "SEVERITY_NUMBER_WARN"},  {14, "SEVERITY_NUMBER_WARN2"},
    {15, "SEVERITY_NUMBER_WARN3"},      {16, "SEVERITY_NUMBER_WARN4"}, {17, "SEVERITY_NUMBER_ERROR"},
    {18, "SEVERITY_NUMBER_ERROR2"},     {19, "SEVERITY_NUMBER_ERROR3"}, {20, "SEVERITY_NUMBER_ERROR4"},
    {21, "SEVERITY_NUMBER_FATAL"},      {22, "SEVERITY_NUMBER_FATAL2"}, {23, "SEVERITY_NUMBER_FATAL3"},
    {24, "SEVERITY_NUMBER_FATAL4"},
};
constexpr EnumType kSeverityNumber{"opentelemetry.proto.logs.v1.SeverityNumber", kSeverityValues};

constexpr EnumValue kTemporalityValues[] = {{0, "AGGREGATION_TEMPORALITY_UNSPECIFIED"},
                                            {1, "AGGREGATION_TEMPORALITY_DELTA"},
                                            {2, "AGGREGATION_TEMPORALITY_CUMULATIVE"}};
constexpr EnumType kAggregationTemporality{"opentelemetry.proto.metrics.v1.AggregationTemporality",
                                           kTemporalityValues};

// ---- messages (declared first: the tables point at each other, AnyValue recursively) ----
extern const MessageType kAnyValue, kArrayValue, kKeyValueList, kKeyValue, kScope, kEntityRef, kResource;
extern const MessageType kResourceSpans, kScopeSpans, kSpan, kEvent, kLink, kStatus;
extern const MessageType kResourceLogs, kScopeLogs, kLogRecord;
extern const MessageType kResourceMetrics, kScopeMetrics, kMetric, kGauge, kSum, kHistogram, kExpHistogram,
    kSummary, kNumberDataPoint, kHistogramDataPoint, kExpHistogramDataPoint, kBuckets, kSummaryDataPoint,
    kValueAtQuantile, kExemplar;
extern const MessageType kTraceRequest, kMetricsRequest, kLogsRequest;
extern const MessageType kTraceResponse, kMetricsResponse, kLogsResponse, kTracePartial, kMetricsPartial,
    kLogsPartial;

// common.proto
constexpr Field kAnyValueFields[] = {
    Scalar(1, "string_value", "stringValue", kString, false, true),
    Scalar(2, "bool_value", "boolValue", kBool, false, true),
    Scalar(3, "int_value", "intValue", kInt64, false, true),
    Scalar(4, "double_value", "doubleValue", kDouble, false, true),
    Msg(5, "array_value", "arrayValue", &kArrayValue, false, true),
    Msg(6, "kvlist_value", "kvlistValue", &kKeyValueList, false, true),
    Scalar(7, "bytes_value", "bytesValue", kBytes, false, true),
    // An index into a profile's string table: used by the Profiles signal only, but part of the shared
    // message, so we carry it through conversions unchanged.
    Scalar(8, "string_value_strindex", "stringValueStrindex", kInt32, false, true),
};
constexpr Field kArrayValueFields[] = {Msg(1, "values", "values", &kAnyValue, kRepeated)};
constexpr Field kKeyValueListFields[] = {Msg(1, "values", "values", &kKeyValue, kRepeated)};
constexpr Field kKeyValueFields[] = {
    Scalar(1, "key", "key", kString),
    Msg(2, "value", "value", &kAnyValue),
    Scalar(3, "key_strindex", "keyStrindex", kInt32),  // Profiles only, like string_value_strindex
};
constexpr Field kScopeFields[] = {
    Scalar(1, "name", "name", kString),
    Scalar(2, "version", "version", kString),
    Msg(3, "attributes", "attributes", &kKeyValue, kRepeated),
    Scalar(4, "dropped_attributes_count", "droppedAttributesCount", kUint32),
};
constexpr Field kEntityRefFields[] = {
    Scalar(1, "schema_url", "schemaUrl", kString),
    Scalar(2, "type", "type", kString),
    Scalar(3, "id_keys", "idKeys", kString, kRepeated),
    Scalar(4, "description_keys", "descriptionKeys", kString, kRepeated),
};
// resource.proto
constexpr Field kResourceFields[] = {
    Msg(1, "attributes", "attributes", &kKeyValue, kRepeated),
    Scalar(2, "dropped_attributes_count", "droppedAttributesCount", kUint32),
    Msg(3, "entity_refs", "entityRefs", &kEntityRef, kRepeated),
};

// trace.proto
constexpr Field kResourceSpansFields[] = {
    Msg(1, "resource", "resource", &kResource),
    Legacy(Msg(2, "scope_spans", "scopeSpans", &kScopeSpans, kRepeated), "instrumentationLibrarySpans"),
    Scalar(3, "schema_url", "schemaUrl", kString),
};
constexpr Field kScopeSpansFields[] = {
    Legacy(Msg(1, "scope", "scope", &kScope), "instrumentationLibrary"),
    Msg(2, "spans", "spans", &kSpan, kRepeated),
    Scalar(3, "schema_url", "schemaUrl", kString),
};
constexpr Field kSpanFields[] = {
    Id(1, "trace_id", "traceId", FieldRole::kTraceId),
    Id(2, "span_id", "spanId", FieldRole::kSpanId),
    Scalar(3, "trace_state", "traceState", kString),
    Id(4, "parent_span_id", "parentSpanId", FieldRole::kSpanId),
    Scalar(16, "flags", "flags", kFixed32),
    Scalar(5, "name", "name", kString),
    Enum(6, "kind", "kind", &kSpanKind),
    Time(7, "start_time_unix_nano", "startTimeUnixNano"),
    Time(8, "end_time_unix_nano", "endTimeUnixNano"),
    Msg(9, "attributes", "attributes", &kKeyValue, kRepeated),
    Scalar(10, "dropped_attributes_count", "droppedAttributesCount", kUint32),
    Msg(11, "events", "events", &kEvent, kRepeated),
    Scalar(12, "dropped_events_count", "droppedEventsCount", kUint32),
    Msg(13, "links", "links", &kLink, kRepeated),
    Scalar(14, "dropped_links_count", "droppedLinksCount", kUint32),
    Msg(15, "status", "status", &kStatus),
};
constexpr Field kEventFields[] = {
    Time(1, "time_unix_nano", "timeUnixNano"),
    Scalar(2, "name", "name", kString),
    Msg(3, "attributes", "attributes", &kKeyValue, kRepeated),
    Scalar(4, "dropped_attributes_count", "droppedAttributesCount", kUint32),
};
constexpr Field kLinkFields[] = {
    Id(1, "trace_id", "traceId", FieldRole::kTraceId),
    Id(2, "span_id", "spanId", FieldRole::kSpanId),
    Scalar(3, "trace_state", "traceState", kString),
    Msg(4, "attributes", "attributes", &kKeyValue, kRepeated),
    Scalar(5, "dropped_attributes_count", "droppedAttributesCount", kUint32),
    Scalar(6, "flags", "flags", kFixed32),
};
constexpr Field kStatusFields[] = {
    Scalar(2, "message", "message", kString),
    Enum(3, "code", "code", &kStatusCode),
};

// logs.proto
constexpr Field kResourceLogsFields[] = {
    Msg(1, "resource", "resource", &kResource),
    Legacy(Msg(2, "scope_logs", "scopeLogs", &kScopeLogs, kRepeated), "instrumentationLibraryLogs"),
    Scalar(3, "schema_url", "schemaUrl", kString),
};
constexpr Field kScopeLogsFields[] = {
    Legacy(Msg(1, "scope", "scope", &kScope), "instrumentationLibrary"),
    Msg(2, "log_records", "logRecords", &kLogRecord, kRepeated),
    Scalar(3, "schema_url", "schemaUrl", kString),
};
constexpr Field kLogRecordFields[] = {
    Time(1, "time_unix_nano", "timeUnixNano"),
    Time(11, "observed_time_unix_nano", "observedTimeUnixNano"),
    Enum(2, "severity_number", "severityNumber", &kSeverityNumber),
    Scalar(3, "severity_text", "severityText", kString),
    Msg(5, "body", "body", &kAnyValue),
    Msg(6, "attributes", "attributes", &kKeyValue, kRepeated),
    Scalar(7, "dropped_attributes_count", "droppedAttributesCount", kUint32),
    Scalar(8, "flags", "flags", kFixed32),
    Id(9, "trace_id", "traceId", FieldRole::kTraceId),
    Id(10, "span_id", "spanId", FieldRole::kSpanId),
    Scalar(12, "event_name", "eventName", kString),
};

// metrics.proto
constexpr Field kResourceMetricsFields[] = {
    Msg(1, "resource", "resource", &kResource),
    Legacy(Msg(2, "scope_metrics", "scopeMetrics", &kScopeMetrics, kRepeated), "instrumentationLibraryMetrics"),
    Scalar(3, "schema_url", "schemaUrl", kString),
};
constexpr Field kScopeMetricsFields[] = {
    Legacy(Msg(1, "scope", "scope", &kScope), "instrumentationLibrary"),
    Msg(2, "metrics", "metrics", &kMetric, kRepeated),
    Scalar(3, "schema_url", "schemaUrl", kString),
};
constexpr Field kMetricFields[] = {
    Scalar(1, "name", "name", kString),
    Scalar(2, "description", "description", kString),
    Scalar(3, "unit", "unit", kString),
    Msg(5, "gauge", "gauge", &kGauge, false, true),
    Msg(7, "sum", "sum", &kSum, false, true),
    Msg(9, "histogram", "histogram", &kHistogram, false, true),
    Msg(10, "exponential_histogram", "exponentialHistogram", &kExpHistogram, false, true),
    Msg(11, "summary", "summary", &kSummary, false, true),
    Msg(12, "metadata", "metadata", &kKeyValue, kRepeated),
};
constexpr Field kGaugeFields[] = {Msg(1, "data_points", "dataPoints", &kNumberDataPoint, kRepeated)};
constexpr Field kSumFields[] = {
    Msg(1, "data_points", "dataPoints", &kNumberDataPoint, kRepeated),
    Enum(2, "aggregation_temporality", "aggregationTemporality", &kAggregationTemporality),
    Scalar(3, "is_monotonic", "isMonotonic", kBool),
};
constexpr Field kHistogramFields[] = {
    Msg(1, "data_points", "dataPoints", &kHistogramDataPoint, kRepeated),
    Enum(2, "aggregation_temporality", "aggregationTemporality", &kAggregationTemporality),
};
constexpr Field kExpHistogramFields[] = {
    Msg(1, "data_points", "dataPoints", &kExpHistogramDataPoint, kRepeated),
    Enum(2, "aggregation_temporality", "aggregationTemporality", &kAggregationTemporality),
};
constexpr Field kSummaryFields[] = {Msg(1, "data_points", "dataPoints", &kSummaryDataPoint, kRepeated)};
constexpr Field kNumberDataPointFields[] = {
    Msg(7, "attributes", "attributes", &kKeyValue, kRepeated),
    Time(2, "start_time_unix_nano", "startTimeUnixNano"),
    Time(3, "time_unix_nano", "timeUnixNano"),
    Scalar(4, "as_double", "asDouble", kDouble, false, true),
    Scalar(6, "as_int", "asInt", kSfixed64, false, true),
    Msg(5, "exemplars", "exemplars", &kExemplar, kRepeated),
    Scalar(8, "flags", "flags", kUint32),
};
constexpr Field kHistogramDataPointFields[] = {
    Msg(9, "attributes", "attributes", &kKeyValue, kRepeated),
    Time(2, "start_time_unix_nano", "startTimeUnixNano"),
    Time(3, "time_unix_nano", "timeUnixNano"),
    Scalar(4, "count", "count", kFixed64),
    Scalar(5, "sum", "sum", kDouble, false, true),
    Scalar(6, "bucket_counts", "bucketCounts", kFixed64, kRepeated),
    Scalar(7, "explicit_bounds", "explicitBounds", kDouble, kRepeated),
    Msg(8, "exemplars", "exemplars", &kExemplar, kRepeated),
    Scalar(10, "flags", "flags", kUint32),
    Scalar(11, "min", "min", kDouble, false, true),
    Scalar(12, "max", "max", kDouble, false, true),
};
constexpr Field kExpHistogramDataPointFields[] = {
    Msg(1, "attributes", "attributes", &kKeyValue, kRepeated),
    Time(2, "start_time_unix_nano", "startTimeUnixNano"),
    Time(3, "time_unix_nano", "timeUnixNano"),
    Scalar(4, "count", "count", kFixed64),
    Scalar(5, "sum", "sum", kDouble, false, true),
    Scalar(6, "scale", "scale", kSint32),
    Scalar(7, "zero_count", "zeroCount", kFixed64),
    Msg(8, "positive", "positive", &kBuckets),
    Msg(9, "negative", "negative", &kBuckets),
    Scalar(10, "flags", "flags", kUint32),
    Msg(11, "exemplars", "exemplars", &kExemplar, kRepeated),
    Scalar(12, "min", "min", kDouble, false, true),
    Scalar(13, "max", "max", kDouble, false, true),
    Scalar(14, "zero_threshold", "zeroThreshold", kDouble),
};
constexpr Field kBucketsFields[] = {
    Scalar(1, "offset", "offset", kSint32),
    Scalar(2, "bucket_counts", "bucketCounts", kUint64, kRepeated),
};
constexpr Field kSummaryDataPointFields[] = {
    Msg(7, "attributes", "attributes", &kKeyValue, kRepeated),
    Time(2, "start_time_unix_nano", "startTimeUnixNano"),
    Time(3, "time_unix_nano", "timeUnixNano"),
    Scalar(4, "count", "count", kFixed64),
    Scalar(5, "sum", "sum", kDouble),
    Msg(6, "quantile_values", "quantileValues", &kValueAtQuantile, kRepeated),
    Scalar(8, "flags", "flags", kUint32),
};
constexpr Field kValueAtQuantileFields[] = {
    Scalar(1, "quantile", "quantile", kDouble),
    Scalar(2, "value", "value", kDouble),
};
constexpr Field kExemplarFields[] = {
    Msg(7, "filtered_attributes", "filteredAttributes", &kKeyValue, kRepeated),
    Time(2, "time_unix_nano", "timeUnixNano"),
    Scalar(3, "as_double", "asDouble", kDouble, false, true),
    Scalar(6, "as_int", "asInt", kSfixed64, false, true),
    Id(4, "span_id", "spanId", FieldRole::kSpanId),
    Id(5, "trace_id", "traceId", FieldRole::kTraceId),
};

// collector/*/v1/*_service.proto
constexpr Field kTraceRequestFields[] = {Msg(1, "resource_spans", "resourceSpans", &kResourceSpans, kRepeated)};
constexpr Field kMetricsRequestFields[] = {
    Msg(1, "resource_metrics", "resourceMetrics", &kResourceMetrics, kRepeated)};
constexpr Field kLogsRequestFields[] = {Msg(1, "resource_logs", "resourceLogs", &kResourceLogs, kRepeated)};
constexpr Field kTracePartialFields[] = {Scalar(1, "rejected_spans", "rejectedSpans", kInt64),
                                         Scalar(2, "error_message", "errorMessage", kString)};
constexpr Field kMetricsPartialFields[] = {Scalar(1, "rejected_data_points", "rejectedDataPoints", kInt64),
                                           Scalar(2, "error_message", "errorMessage", kString)};
constexpr Field kLogsPartialFields[] = {Scalar(1, "rejected_log_records", "rejectedLogRecords", kInt64),
                                        Scalar(2, "error_message", "errorMessage", kString)};
constexpr Field kTraceResponseFields[] = {Msg(1, "partial_success", "partialSuccess", &kTracePartial)};
constexpr Field kMetricsResponseFields[] = {Msg(1, "partial_success", "partialSuccess", &kMetricsPartial)};
constexpr Field kLogsResponseFields[] = {Msg(1, "partial_success", "partialSuccess", &kLogsPartial)};

}  // namespace

#define OTELRR_MESSAGE(var, name_, fields_, ...) \
  const MessageType var{.full_name = name_, .fields = fields_, __VA_OPT__(.item = __VA_ARGS__, ).by_number = IndexByNumber(fields_)}

namespace {
OTELRR_MESSAGE(kAnyValue, "opentelemetry.proto.common.v1.AnyValue", kAnyValueFields);
OTELRR_MESSAGE(kArrayValue, "opentelemetry.proto.common.v1.ArrayValue", kArrayValueFields);
OTELRR_MESSAGE(kKeyValueList, "opentelemetry.proto.common.v1.KeyValueList", kKeyValueListFields);
OTELRR_MESSAGE(kKeyValue, "opentelemetry.proto.common.v1.KeyValue", kKeyValueFields);
OTELRR_MESSAGE(kScope, "opentelemetry.proto.common.v1.InstrumentationScope", kScopeFields);
OTELRR_MESSAGE(kEntityRef, "opentelemetry.proto.common.v1.EntityRef", kEntityRefFields);
OTELRR_MESSAGE(kResource, "opentelemetry.proto.resource.v1.Resource", kResourceFields, ItemKind::kResource);

OTELRR_MESSAGE(kResourceSpans, "opentelemetry.proto.trace.v1.ResourceSpans", kResourceSpansFields);
OTELRR_MESSAGE(kScopeSpans, "opentelemetry.proto.trace.v1.ScopeSpans", kScopeSpansFields);
OTELRR_MESSAGE(kSpan, "opentelemetry.proto.trace.v1.Span", kSpanFields, ItemKind::kSpan);
OTELRR_MESSAGE(kEvent, "opentelemetry.proto.trace.v1.Span.Event", kEventFields);
OTELRR_MESSAGE(kLink, "opentelemetry.proto.trace.v1.Span.Link", kLinkFields);
OTELRR_MESSAGE(kStatus, "opentelemetry.proto.trace.v1.Status", kStatusFields);

OTELRR_MESSAGE(kResourceLogs, "opentelemetry.proto.logs.v1.ResourceLogs", kResourceLogsFields);
OTELRR_MESSAGE(kScopeLogs, "opentelemetry.proto.logs.v1.ScopeLogs", kScopeLogsFields);
OTELRR_MESSAGE(kLogRecord, "opentelemetry.proto.logs.v1.LogRecord", kLogRecordFields, ItemKind::kLogRecord);

OTELRR_MESSAGE(kResourceMetrics, "opentelemetry.proto.metrics.v1.ResourceMetrics", kResourceMetricsFields);
OTELRR_MESSAGE(kScopeMetrics, "opentelemetry.proto.metrics.v1.ScopeMetrics", kScopeMetricsFields);
OTELRR_MESSAGE(kMetric, "opentelemetry.proto.metrics.v1.Metric", kMetricFields);
OTELRR_MESSAGE(kGauge, "opentelemetry.proto.metrics.v1.Gauge", kGaugeFields);
OTELRR_MESSAGE(kSum, "opentelemetry.proto.metrics.v1.Sum", kSumFields);
OTELRR_MESSAGE(kHistogram, "opentelemetry.proto.metrics.v1.Histogram", kHistogramFields);
OTELRR_MESSAGE(kExpHistogram, "opentelemetry.proto.metrics.v1.ExponentialHistogram", kExpHistogramFields);
OTELRR_MESSAGE(kSummary, "opentelemetry.proto.metrics.v1.Summary", kSummaryFields);
OTELRR_MESSAGE(kNumberDataPoint, "opentelemetry.proto.metrics.v1.NumberDataPoint", kNumberDataPointFields,
               ItemKind::kDataPoint);
OTELRR_MESSAGE(kHistogramDataPoint, "opentelemetry.proto.metrics.v1.HistogramDataPoint",
               kHistogramDataPointFields, ItemKind::kDataPoint);
OTELRR_MESSAGE(kExpHistogramDataPoint, "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint",
               kExpHistogramDataPointFields, ItemKind::kDataPoint);
OTELRR_MESSAGE(kBuckets, "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.Buckets",
               kBucketsFields);
OTELRR_MESSAGE(kSummaryDataPoint, "opentelemetry.proto.metrics.v1.SummaryDataPoint", kSummaryDataPointFields,
               ItemKind::kDataPoint);
OTELRR_MESSAGE(kValueAtQuantile, "opentelemetry.proto.metrics.v1.SummaryDataPoint.ValueAtQuantile",
               kValueAtQuantileFields);
OTELRR_MESSAGE(kExemplar, "opentelemetry.proto.metrics.v1.Exemplar", kExemplarFields);

OTELRR_MESSAGE(kTraceRequest, "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
               kTraceRequestFields);
OTELRR_MESSAGE(kMetricsRequest, "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
               kMetricsRequestFields);
OTELRR_MESSAGE(kLogsRequest, "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
               kLogsRequestFields);
OTELRR_MESSAGE(kTracePartial, "opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess",
               kTracePartialFields);
OTELRR_MESSAGE(kMetricsPartial, "opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess",
               kMetricsPartialFields);
OTELRR_MESSAGE(kLogsPartial, "opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess",
               kLogsPartialFields);
OTELRR_MESSAGE(kTraceResponse, "opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse",
               kTraceResponseFields);
OTELRR_MESSAGE(kMetricsResponse, "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse",
               kMetricsResponseFields);
OTELRR_MESSAGE(kLogsResponse, "opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse",
               kLogsResponseFields);

const MessageType* const kAllMessages[] = {
    &kAnyValue, &kArrayValue, &kKeyValueList, &kKeyValue, &kScope, &kEntityRef, &kResource,
    &kResourceSpans, &kScopeSpans, &kSpan, &kEvent, &kLink, &kStatus,
    &kResourceLogs, &kScopeLogs, &kLogRecord,
    &kResourceMetrics, &kScopeMetrics, &kMetric, &kGauge, &kSum, &kHistogram, &kExpHistogram, &kSummary,
    &kNumberDataPoint, &kHistogramDataPoint, &kExpHistogramDataPoint, &kBuckets, &kSummaryDataPoint,
    &kValueAtQuantile, &kExemplar,
    &kTraceRequest, &kMetricsRequest, &kLogsRequest, &kTracePartial, &kMetricsPartial, &kLogsPartial,
    &kTraceResponse, &kMetricsResponse, &kLogsResponse,
};
const EnumType* const kAllEnums[] = {&kSpanKind, &kStatusCode, &kSeverityNumber, &kAggregationTemporality};

// snake_case and lowerCamelCase spellings of a key are equal when they agree letter for letter with
// each '_x' read as 'X'.
bool SnakeMatchesCamel(std::string_view snake, std::string_view camel) {
  size_t j = 0;
  for (size_t i = 0; i < snake.size(); ++i, ++j) {
    char c = snake[i];
    if (c == '_' && i + 1 < snake.size()) {
      c = snake[++i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    if (j >= camel.size() || camel[j] != c) return false;
  }
  return j == camel.size();
}
}  // namespace

#undef OTELRR_MESSAGE

std::string_view SignalName(Signal signal) {
  switch (signal) {
    case Signal::kTraces: return "traces";
    case Signal::kMetrics: return "metrics";
    case Signal::kLogs: return "logs";
  }
  return "unknown";
}

bool ParseSignal(std::string_view name, Signal* signal) {
  if (name == "traces" || name == "trace") {
    *signal = Signal::kTraces;
  } else if (name == "metrics" || name == "metric") {
    *signal = Signal::kMetrics;
  } else if (name == "logs" || name == "log") {
    *signal = Signal::kLogs;
  } else {
    return false;
  }
  return true;
}

std::string_view TransportName(Transport transport) {
  switch (transport) {
    case Transport::kUnknown:
      return "unknown";
    case Transport::kHttp:
      return "http";
    case Transport::kGrpc:
      return "grpc";
    case Transport::kGenerated:
      return "generated";
    case Transport::kImported:
      return "imported";
  }
  return "unknown";
}

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kProtobuf:
      return "protobuf";
    case Encoding::kJson:
      return "json";
  }
  return "unknown";
}

const Field* FindFieldSlow(const MessageType& type, uint32_t number) {
  for (const Field& f : type.fields) {
    if (f.number == number) return &f;
  }
  return nullptr;
}

const Field* FindFieldByJsonKey(const MessageType& type, std::string_view key) {
  for (const Field& f : type.fields) {
    if (key == f.json_name || key == f.name) return &f;
  }
  for (const Field& f : type.fields) {
    if (!f.legacy_json_name.empty() &&
        (key == f.legacy_json_name || SnakeMatchesCamel(key, f.legacy_json_name))) {
      return &f;
    }
  }
  return nullptr;
}

const MessageType& RequestType(Signal signal) {
  switch (signal) {
    case Signal::kMetrics: return kMetricsRequest;
    case Signal::kLogs: return kLogsRequest;
    case Signal::kTraces: break;
  }
  return kTraceRequest;
}

const MessageType& ResponseType(Signal signal) {
  switch (signal) {
    case Signal::kMetrics: return kMetricsResponse;
    case Signal::kLogs: return kLogsResponse;
    case Signal::kTraces: break;
  }
  return kTraceResponse;
}

const MessageType& AnyValueType() { return kAnyValue; }
const MessageType& KeyValueType() { return kKeyValue; }
const MessageType& ResourceType() { return kResource; }
const MessageType& SpanType() { return kSpan; }
const MessageType& LogRecordType() { return kLogRecord; }
const MessageType& MetricType() { return kMetric; }
const MessageType& ExemplarType() { return kExemplar; }

namespace internal {
const MessageType& LinkType() { return kLink; }
}  // namespace internal

std::span<const MessageType* const> AllMessageTypes() { return kAllMessages; }
std::span<const EnumType* const> AllEnumTypes() { return kAllEnums; }

}  // namespace otelrr::otlp
