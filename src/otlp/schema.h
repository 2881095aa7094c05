// Our own description of the OTLP messages (opentelemetry-proto v1), written from the published field
// numbers. Every codec in this module is driven by these tables: the protobuf wire walker, the OTLP/JSON
// encoder and decoder, item counting and the timestamp and id locators. Adding a field to OTLP means
// adding one row here.
//
//   const MessageType& req = RequestType(Signal::kTraces);
//   for (const Field& f : req.fields) { ... }
//   const Field* f = FindField(SpanType(), 7);  // start_time_unix_nano
//
// tests/reference/test_schema.py checks every row against the official Python opentelemetry-proto
// descriptors, so a wrong number or type here fails the test suite.
#ifndef OTELRR_OTLP_SCHEMA_H_
#define OTELRR_OTLP_SCHEMA_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "otlp/signal.h"

namespace otelrr::otlp {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

enum class FieldType : uint8_t {
  kMessage,
  kString,
  kBytes,
  kBool,
  kInt32,
  kInt64,
  kUint32,
  kUint64,
  kSint32,
  kFixed32,
  kFixed64,
  kSfixed64,
  kDouble,
  kEnum,
};

// What later code needs to find in a request without decoding it.
enum class FieldRole : uint8_t {
  kNone,
  kTimestamp,  // a fixed64 unix-nanosecond time: shifted by replay
  kTraceId,    // 16 bytes (or empty)
  kSpanId,     // 8 bytes (or empty): span ids and parent span ids
};

// What a message counts as when summarising a request.
enum class ItemKind : uint8_t { kNone, kResource, kSpan, kDataPoint, kLogRecord };

struct EnumValue {
  int32_t number;
  std::string_view name;
};

struct EnumType {
  std::string_view full_name;
  std::span<const EnumValue> values;
};

struct MessageType;

struct Field {
  uint32_t number;
  std::string_view name;       // proto name, snake_case
  std::string_view json_name;  // OTLP/JSON name, lowerCamelCase
  FieldType type;
  bool repeated = false;
  // proto3 `optional` fields and oneof members: a zero value is still "set" and is written.
  bool explicit_presence = false;
  const MessageType* message = nullptr;  // for kMessage
  const EnumType* enum_type = nullptr;   // for kEnum
  FieldRole role = FieldRole::kNone;
  // A legacy OTLP/JSON name the decoder still accepts (the pre-1.0 "instrumentationLibrary*" names).
  std::string_view legacy_json_name = {};
};

// Field numbers below this are found through MessageType::by_number without a scan (every OTLP field
// number today is below 32).
inline constexpr uint32_t kIndexedFieldNumbers = 32;

struct MessageType {
  std::string_view full_name;
  std::span<const Field> fields;
  ItemKind item = ItemKind::kNone;
  // by_number[n]: the index in `fields` of field number n, or -1. The walkers look fields up for every
  // field of every message: a scan of the rows cost a third of a walk.
  std::array<int8_t, kIndexedFieldNumbers> by_number = {};
};

// Builds MessageType::by_number for a field table.
constexpr std::array<int8_t, kIndexedFieldNumbers> IndexByNumber(std::span<const Field> fields) {
  std::array<int8_t, kIndexedFieldNumbers> index{};
  for (auto& i : index) i = -1;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].number < kIndexedFieldNumbers) index[fields[i].number] = static_cast<int8_t>(i);
  }
  return index;
}

// The wire type a field's values use when not packed.
constexpr WireType NaturalWireType(FieldType type) {
  switch (type) {
    case FieldType::kMessage:
    case FieldType::kString:
    case FieldType::kBytes: return WireType::kLen;
    case FieldType::kFixed64:
    case FieldType::kSfixed64:
    case FieldType::kDouble: return WireType::kFixed64;
    case FieldType::kFixed32: return WireType::kFixed32;
    default: return WireType::kVarint;
  }
}
// Repeated numeric fields may also arrive packed (length-delimited).
constexpr bool IsPackable(FieldType type) {
  return type != FieldType::kMessage && type != FieldType::kString && type != FieldType::kBytes;
}

// Field lookup by number, or nullptr for a field this schema does not know.
const Field* FindFieldSlow(const MessageType& type, uint32_t number);
inline const Field* FindField(const MessageType& type, uint32_t number) {
  if (number < kIndexedFieldNumbers) {
    int8_t i = type.by_number[number];
    return i < 0 ? nullptr : &type.fields[static_cast<size_t>(i)];
  }
  return FindFieldSlow(type, number);
}
// Field lookup by OTLP/JSON key: lowerCamelCase, snake_case, or a legacy name. nullptr when unknown.
const Field* FindFieldByJsonKey(const MessageType& type, std::string_view key);

// Export{Trace,Metrics,Logs}ServiceRequest. TracesData, MetricsData and LogsData share their layout.
const MessageType& RequestType(Signal signal);
// Export{Trace,Metrics,Logs}ServiceResponse.
const MessageType& ResponseType(Signal signal);

// Individual messages, for tests and specialised walkers.
const MessageType& AnyValueType();
const MessageType& KeyValueType();
const MessageType& ResourceType();
const MessageType& SpanType();
const MessageType& LogRecordType();
const MessageType& MetricType();
const MessageType& ExemplarType();

// Every message and enum in the schema, for the reference check and for tests.
std::span<const MessageType* const> AllMessageTypes();
std::span<const EnumType* const> AllEnumTypes();

}  // namespace otelrr::otlp

#endif  // OTELRR_OTLP_SCHEMA_H_
