#include "compare/item_digest.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "absl/hash/hash.h"
#include "fmt/format.h"
#include "otlp/field_reader.h"
#include "otlp/schema.h"
#include "otlp/wire.h"
#include "training/items.h"

namespace otelrr::compare {
namespace {

using otlp::Field;
using otlp::FieldReader;
using otlp::FieldRole;
using otlp::FieldType;
using otlp::MessageType;
using otlp::RawField;
using otlp::Signal;
using otlp::WireType;

// The three levels of every request: Export*Request{1: Resource*} -> Resource*{1: resource, 2: Scope*,
// 3: schema_url} -> Scope*{1: scope, 2: items, 3: schema_url}.
constexpr uint32_t kLevelField = 1;
constexpr uint32_t kResourceField = 1;
constexpr uint32_t kScopeLevelField = 2;
constexpr uint32_t kScopeField = 1;
constexpr uint32_t kItemsField = 2;
constexpr uint32_t kSchemaUrlField = 3;
// Metric: its data messages, each with data_points = 1.
constexpr uint32_t kMetricName = 1;
constexpr uint32_t kDataPoints = 1;
constexpr std::array<uint32_t, 5> kMetricData = {5, 7, 9, 10, 11};

struct Types {
  const MessageType* resource_level;
  const MessageType* resource;
  const MessageType* scope_level;
  const MessageType* scope;
  const MessageType* item;  // Span, Metric, LogRecord
};

Types TypesOf(Signal signal) {
  const MessageType& req = otlp::RequestType(signal);
  Types t{};
  t.resource_level = otlp::FindField(req, kLevelField)->message;
  t.resource = otlp::FindField(*t.resource_level, kResourceField)->message;
  t.scope_level = otlp::FindField(*t.resource_level, kScopeLevelField)->message;
  t.scope = otlp::FindField(*t.scope_level, kScopeField)->message;
  t.item = otlp::FindField(*t.scope_level, kItemsField)->message;
  return t;
}

const MessageType& PointType(uint8_t point_kind) {
  const MessageType* data = otlp::FindField(otlp::MetricType(), point_kind)->message;
  return *otlp::FindField(*data, kDataPoints)->message;
}

bool IsMetricData(uint32_t number) {
  return std::find(kMetricData.begin(), kMetricData.end(), number) != kMetricData.end();
}

// splitmix64's finaliser: a cheap, well-mixed 64-bit permutation.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
inline uint64_t Mix(uint64_t a, uint64_t b) { return Mix(a * 0x9e3779b97f4a7c15ull + Mix(b)); }
// absl's own string_view: its hash is absl's fast one (std::string_view would fall back to std::hash).
inline uint64_t HashBytes(std::string_view bytes) {
  return absl::Hash<absl::string_view>{}(absl::string_view(bytes.data(), bytes.size()));
}
inline uint64_t TypeSeed(const MessageType& type) { return Mix(reinterpret_cast<uintptr_t>(&type)); }
inline uint64_t BytesHash(std::string_view bytes, WireType wire) { return HashBytes(bytes) + static_cast<uint64_t>(wire); }
// One field's part of its message's hash: its number, its index among the elements of a repeated field,
// and its value's hash, mixed once.
inline uint64_t FieldHash(uint32_t number, uint64_t index, uint64_t value) {
  return Mix(value ^ (((uint64_t{number} << 32) | index) * 0xd6e8feb86659fd93ull));
}

bool IsZero(std::string_view bytes) {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

// A scalar field's value that means the same as the field's absence: zero numbers, empty strings and bytes
// (unless the field is a oneof member or `optional`, where a zero is a value), and ids of all zeros (the
// OTLP specification calls them invalid; the Collector writes them as empty).
bool IsDefault(const Field& field, const RawField& f) {
  if (f.wire == WireType::kLen) {
    if (field.role == FieldRole::kTraceId || field.role == FieldRole::kSpanId) return IsZero(f.value);
    return f.value.empty() && !field.explicit_presence;
  }
  if (f.wire == WireType::kVarint) return f.varint == 0 && !field.explicit_presence;
  if (field.role == FieldRole::kTimestamp) return IsZero(f.value);
  return IsZero(f.value) && !field.explicit_presence;
}

// The hash of a message's meaning (see the header). Fields combine by sum, so their order does not
// matter; a repeated field's elements carry their index (events and buckets keep their order), except
// key-value lists (attributes), which are sets. A message with no set field hashes 0, as if absent.
class MessageHasher {
 public:
  explicit MessageHasher(uint64_t item_time) : item_time_(item_time) {}

  uint64_t Hash(const MessageType& type, std::string_view bytes, int depth = 0) {
    if (depth > otlp::kMaxNestingDepth) return Mix(HashBytes(bytes));
    if (&type == &otlp::KeyValueType()) {
      if (uint64_t h = PlainAttribute(bytes); h != 0) return h;
    }
    uint64_t sum = 0;
    std::array<uint32_t, otlp::kIndexedFieldNumbers> occurrences;  // zeroed when first needed
    bool counting = false;
    FieldReader reader(bytes);
    RawField f;
    while (reader.Next(&f)) {
      const Field* field = otlp::FindField(type, f.number);
      uint64_t value;
      // A field this schema does not know is not compared: a pipeline built on another OTLP version drops
      // it (the Collector does), and a removed field (a point's pre-1.0 labels) means nothing today.
      if (field == nullptr) continue;
      if (!Value(*field, f, depth, &value)) continue;  // a default value: the same as absent
      uint64_t index = 0;
      if (field->repeated && field->message != &otlp::KeyValueType() &&
          f.number < otlp::kIndexedFieldNumbers) {
        if (!counting) {
          occurrences.fill(0);
          counting = true;
        }
        index = occurrences[f.number]++;
      }
      sum += FieldHash(f.number, index, value);
    }
    if (reader.malformed()) sum += Mix(HashBytes(bytes));
    return sum == 0 ? 0 : Mix(sum ^ TypeSeed(type));
  }

  // The hash of the common attribute, a key and a string value written plainly (KeyValue{1: key, 2:
  // AnyValue{1: string}}), without walking it: the same value Hash() gives it. 0 for any other form.
  static uint64_t PlainAttribute(std::string_view kv) {
    const auto* p = reinterpret_cast<const uint8_t*>(kv.data());
    const uint8_t* end = p + kv.size();
    uint64_t len;
    if (p == end || *p++ != 0x0a || !otlp::ReadVarint(p, end, &len) || len == 0 || len > uint64_t(end - p)) return 0;
    std::string_view key(reinterpret_cast<const char*>(p), len);
    p += len;
    if (p == end || *p++ != 0x12 || !otlp::ReadVarint(p, end, &len) || len != uint64_t(end - p)) return 0;
    if (p == end || *p++ != 0x0a || !otlp::ReadVarint(p, end, &len) || len == 0 || len != uint64_t(end - p)) return 0;
    std::string_view value(reinterpret_cast<const char*>(p), len);
    // As Hash(): AnyValue{1: value} inside KeyValue{1: key, 2: that}.
    const uint64_t any = Mix(FieldHash(1, 0, BytesHash(value, WireType::kLen)) ^ TypeSeed(otlp::AnyValueType()));
    const uint64_t sum = FieldHash(1, 0, BytesHash(key, WireType::kLen)) + FieldHash(2, 0, any);
    return Mix(sum ^ TypeSeed(otlp::KeyValueType()));
  }

 private:
  // The hash of one field's value (mixed by FieldHash); false when it is a default that counts as absent.
  bool Value(const Field& field, const RawField& f, int depth, uint64_t* out) {
    if (field.type == FieldType::kMessage && f.wire == WireType::kLen) {
      *out = Hash(*field.message, f.value, depth + 1);
      return *out != 0 || field.explicit_presence;
    }
    if (f.wire == WireType::kVarint) {
      if (f.varint == 0 && !field.explicit_presence) return false;
      *out = f.varint;
      return true;
    }
    if (IsDefault(field, f)) return false;
    if (field.role == FieldRole::kTimestamp && f.wire == WireType::kFixed64) {
      *out = f.fixed64() - item_time_;
      return true;
    }
    *out = BytesHash(f.value, f.wire);
    return true;
  }

  uint64_t item_time_;
};

uint64_t Fixed64Field(std::string_view message, uint32_t number) {
  FieldReader reader(message);
  RawField f;
  uint64_t v = 0;
  while (reader.Next(&f)) {
    if (f.Is(number, WireType::kFixed64)) v = f.fixed64();
  }
  return v;
}

uint64_t ItemTime(Signal signal, std::string_view item) {
  switch (signal) {
    case Signal::kTraces: return Fixed64Field(item, 7);
    case Signal::kMetrics: return Fixed64Field(item, 3);
    case Signal::kLogs: {
      FieldReader reader(item);
      RawField f;
      uint64_t time = 0, observed = 0;
      while (reader.Next(&f)) {
        if (f.Is(1, WireType::kFixed64)) time = f.fixed64();
        if (f.Is(11, WireType::kFixed64)) observed = f.fixed64();
      }
      return time != 0 ? time : observed;
    }
  }
  return 0;
}

// The attributes (a set) of a message, hashed alone.
uint64_t AttributesHash(const MessageType& type, std::string_view message) {
  uint64_t sum = 0;
  MessageHasher hasher(0);
  FieldReader reader(message);
  RawField f;
  while (reader.Next(&f)) {
    const Field* field = otlp::FindField(type, f.number);
    if (field != nullptr && field->message == &otlp::KeyValueType() && f.wire == WireType::kLen) {
      sum += hasher.Hash(otlp::KeyValueType(), f.value);
    }
  }
  return sum;
}

uint64_t SpanId(std::string_view span) {
  std::string_view trace, id;
  FieldReader reader(span);
  RawField f;
  while (reader.Next(&f)) {
    if (f.Is(1, WireType::kLen)) trace = f.value;
    if (f.Is(2, WireType::kLen)) id = f.value;
  }
  if (IsZero(trace) && IsZero(id)) return 0;  // empty or all zeros: no id (IsDefault)
  return Mix(HashBytes(IsZero(trace) ? "" : trace), HashBytes(IsZero(id) ? "" : id)) | 1;
}

uint64_t LogSeries(std::string_view log) {
  std::string_view trace, span;
  uint64_t severity = 0;
  FieldReader reader(log);
  RawField f;
  while (reader.Next(&f)) {
    if (f.Is(9, WireType::kLen)) trace = f.value;
    if (f.Is(10, WireType::kLen)) span = f.value;
    if (f.Is(2, WireType::kVarint)) severity = f.varint;
  }
  return Mix(Mix(HashBytes(IsZero(trace) ? "" : trace), HashBytes(IsZero(span) ? "" : span)), severity);
}

struct Context {
  std::string_view resource;
  uint64_t resource_hash = 0;
  std::string_view scope;
  uint64_t scope_hash = 0;
};

// A resource-level or scope-level message's own part: its resource or scope (field `field`) and its
// schema_url. False when it is malformed.
bool ReadLevel(std::string_view level, uint32_t field, std::string_view* message, std::string_view* schema_url) {
  *message = {};
  FieldReader r(level);
  RawField f;
  while (r.Next(&f)) {
    if (f.Is(field, WireType::kLen)) *message = f.value;
    if (f.Is(kSchemaUrlField, WireType::kLen)) *schema_url = f.value;
  }
  return !r.malformed();
}

absl::Status Malformed(Signal signal) {
  return absl::DataLossError(fmt::format("a {} request is not valid OTLP protobuf", otlp::SignalName(signal)));
}

}  // namespace

absl::Status ItemDigester::Digest(Signal signal, std::string_view request,
                                  const std::function<void(const ItemDigest&)>& fn) {
  const Types types = TypesOf(signal);
  ItemDigest d;
  d.signal = signal;
  FieldReader levels(request);
  RawField level;
  while (levels.Next(&level)) {
    if (!level.Is(kLevelField, WireType::kLen)) continue;
    Context ctx;
    std::string_view resource_url;
    if (!ReadLevel(level.value, kResourceField, &ctx.resource, &resource_url)) return Malformed(signal);
    ctx.resource_hash = Mix(MessageHasher(0).Hash(*types.resource, ctx.resource), HashBytes(resource_url));
    FieldReader scopes(level.value);
    RawField scope_level;
    while (scopes.Next(&scope_level)) {
      if (!scope_level.Is(kScopeLevelField, WireType::kLen)) continue;
      std::string_view scope_url;
      if (!ReadLevel(scope_level.value, kScopeField, &ctx.scope, &scope_url)) return Malformed(signal);
      ctx.scope_hash = Mix(MessageHasher(0).Hash(*types.scope, ctx.scope), HashBytes(scope_url));
      const uint64_t context_hash = Mix(ctx.resource_hash, ctx.scope_hash);
      d.resource = ctx.resource;
      d.scope = ctx.scope;
      FieldReader items(scope_level.value);
      RawField it;
      while (items.Next(&it)) {
        if (!it.Is(kItemsField, WireType::kLen)) continue;
        if (signal != Signal::kMetrics) {
          d.item = it.value;
          d.time = ItemTime(signal, it.value);
          d.content = Mix(context_hash, MessageHasher(d.time).Hash(*types.item, it.value));
          if (signal == Signal::kTraces) {
            d.id = SpanId(it.value);
            d.series = d.id;
          } else {
            d.id = 0;
            d.series = LogSeries(it.value);
          }
          fn(d);
          continue;
        }
        // A metric: its header (every field but the points) is part of each point's content.
        d.metric = it.value;
        d.id = 0;
        std::string_view name;
        uint64_t header = 0;
        {
          FieldReader r(it.value);
          RawField f;
          while (r.Next(&f)) {
            if (f.Is(kMetricName, WireType::kLen)) name = f.value;
          }
          if (r.malformed()) return Malformed(signal);
        }
        header = MessageHasher(0).Hash(otlp::MetricType(), MetricHeader(it.value));
        FieldReader fields(it.value);
        RawField data;
        while (fields.Next(&data)) {
          if (data.wire != WireType::kLen || !IsMetricData(data.number)) continue;
          d.point_kind = static_cast<uint8_t>(data.number);
          const MessageType& point_type = PointType(d.point_kind);
          FieldReader points(data.value);
          RawField p;
          while (points.Next(&p)) {
            if (!p.Is(kDataPoints, WireType::kLen)) continue;
            d.item = p.value;
            d.time = ItemTime(signal, p.value);
            d.content = Mix(Mix(context_hash, header), MessageHasher(d.time).Hash(point_type, p.value));
            d.series = Mix(Mix(HashBytes(name), d.point_kind), AttributesHash(point_type, p.value));
            fn(d);
          }
          if (points.malformed()) return Malformed(signal);
        }
        if (fields.malformed()) return Malformed(signal);
      }
      if (items.malformed()) return Malformed(signal);
    }
    if (scopes.malformed()) return Malformed(signal);
  }
  if (levels.malformed()) return Malformed(signal);
  return absl::OkStatus();
}

std::string MetricHeader(std::string_view metric) {
  std::string out;
  FieldReader reader(metric);
  RawField f;
  while (reader.Next(&f)) {
    if (f.wire != WireType::kLen || !IsMetricData(f.number)) {
      out.append(f.whole);
      continue;
    }
    std::string data;
    FieldReader inner(f.value);
    RawField g;
    while (inner.Next(&g)) {
      if (g.number != kDataPoints) data.append(g.whole);
    }
    otlp::AppendVarint(&out, (uint64_t{f.number} << 3) | 2);
    otlp::AppendVarint(&out, data.size());
    out.append(data);
  }
  return out;
}

// ---- Describe ----

namespace {

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 200;
  std::string out = "\"";
  for (unsigned char c : s.substr(0, kMax)) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (s.size() > kMax) out.append("…");
  out.push_back('"');
  return out;
}

std::string Hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) fmt::format_to(std::back_inserter(out), "{:02x}", c);
  return out;
}

// An AnyValue as JSON (the training rows' form: strings quoted, bytes base64, arrays and key-value lists
// nested), cut to a length a report line can hold.
std::string AnyValueText(std::string_view any) {
  constexpr size_t kMax = 300;
  std::string out;
  training::AppendAnyValueJson(any, &out);
  if (out.size() > kMax) {
    out.resize(kMax);
    out.append("…");
  }
  return out;
}

// A KeyValue's key and the bytes of its AnyValue.
void SplitKeyValue(std::string_view kv, std::string_view* key, std::string_view* value) {
  *key = {};
  *value = {};
  FieldReader r(kv);
  RawField f;
  while (r.Next(&f)) {
    if (f.Is(1, WireType::kLen)) *key = f.value;
    if (f.Is(2, WireType::kLen)) *value = f.value;
  }
}

class Describer {
 public:
  Describer(uint64_t item_time, std::vector<FieldText>* out) : item_time_(item_time), out_(out) {}

  void Message(const MessageType& type, std::string_view bytes, const std::string& prefix, int depth = 0) {
    if (depth > 16) return;
    std::array<uint32_t, otlp::kIndexedFieldNumbers> occurrences{};
    FieldReader reader(bytes);
    RawField f;
    while (reader.Next(&f)) {
      const Field* field = otlp::FindField(type, f.number);
      if (field == nullptr) continue;  // not compared (MessageHasher)
      if (field->type != FieldType::kMessage && IsDefault(*field, f)) continue;
      std::string path = prefix + std::string(field->name);
      if (field->message == &otlp::KeyValueType() && f.wire == WireType::kLen) {
        std::string_view key, value;
        SplitKeyValue(f.value, &key, &value);
        Add(fmt::format("{}[{}]", path, key), AnyValueText(value));
        continue;
      }
      if (field->repeated && f.number < otlp::kIndexedFieldNumbers) {
        path += fmt::format("[{}]", occurrences[f.number]++);
      }
      if (field->type == FieldType::kMessage && f.wire == WireType::kLen) {
        if (field->message == &otlp::AnyValueType()) {
          Add(path, AnyValueText(f.value));
        } else {
          Message(*field->message, f.value, path + ".", depth + 1);
        }
        continue;
      }
      Add(path, Scalar(*field, f));
    }
  }

 private:
  std::string Scalar(const Field& field, const RawField& f) {
    if (field.role == FieldRole::kTimestamp && f.wire == WireType::kFixed64) {
      uint64_t t = f.fixed64();
      if (t == 0) return "0";
      return fmt::format("{:+}ns", static_cast<int64_t>(t - item_time_));
    }
    switch (f.wire) {
      case WireType::kVarint:
        if (field.type == FieldType::kInt64 || field.type == FieldType::kInt32 || field.type == FieldType::kEnum) {
          return fmt::format("{}", static_cast<int64_t>(f.varint));
        }
        if (field.type == FieldType::kBool) return f.varint != 0 ? "true" : "false";
        return fmt::format("{}", f.varint);
      case WireType::kFixed64:
        if (field.type == FieldType::kDouble) return fmt::format("{}", f.as_double());
        return fmt::format("{}", f.fixed64());
      case WireType::kFixed32: {
        uint32_t v;
        std::memcpy(&v, f.value.data(), 4);
        return fmt::format("{}", v);
      }
      case WireType::kLen:
        if (field.type == FieldType::kString) return Quote(f.value);
        return "0x" + Hex(f.value);  // ids, and packed numbers
      default: return "?";
    }
  }

  void Add(std::string path, std::string value) { out_->push_back({std::move(path), std::move(value)}); }

  uint64_t item_time_;
  std::vector<FieldText>* out_;
};

const MessageType& ItemType(const ItemDigest& item) {
  if (item.signal == Signal::kMetrics) return PointType(item.point_kind);
  return *TypesOf(item.signal).item;
}

std::string ResourceService(std::string_view resource) {
  FieldReader r(resource);
  RawField f;
  while (r.Next(&f)) {
    if (!f.Is(1, WireType::kLen)) continue;
    std::string_view key, value, name;
    SplitKeyValue(f.value, &key, &value);
    if (key == "service.name" && training::AnyValueString(value, &name)) return std::string(name);
  }
  return "";
}

std::string_view StringField(std::string_view message, uint32_t number) {
  std::string_view v;
  FieldReader r(message);
  RawField f;
  while (r.Next(&f)) {
    if (f.Is(number, WireType::kLen)) v = f.value;
  }
  return v;
}

}  // namespace

std::vector<FieldText> Describe(const ItemDigest& item) {
  std::vector<FieldText> out;
  Describer describer(item.time, &out);
  const Types types = TypesOf(item.signal);
  describer.Message(ItemType(item), item.item, "");
  if (item.signal == Signal::kMetrics) describer.Message(otlp::MetricType(), MetricHeader(item.metric), "metric.");
  describer.Message(*types.scope, item.scope, "scope.");
  describer.Message(*types.resource, item.resource, "resource.");
  std::stable_sort(out.begin(), out.end(), [](const FieldText& a, const FieldText& b) { return a.path < b.path; });
  return out;
}

std::string ItemLabel(const ItemDigest& item) {
  std::string service = ResourceService(item.resource);
  std::string where = service.empty() ? "" : fmt::format(" (service {})", service);
  switch (item.signal) {
    case Signal::kTraces: {
      std::string_view name = StringField(item.item, 5);
      return fmt::format("span {}{} trace {} span {}", Quote(name), where, Hex(StringField(item.item, 1)),
                         Hex(StringField(item.item, 2)));
    }
    case Signal::kMetrics:
      return fmt::format("point of {}{}", std::string(StringField(item.metric, kMetricName)), where);
    case Signal::kLogs: {
      std::string_view body = StringField(item.item, 5);
      return fmt::format("log record {}{}", AnyValueText(body), where);
    }
  }
  return "item";
}

}  // namespace otelrr::compare
