#include "otlp/rewrite.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <optional>

#include "common/status.h"
#include "fmt/format.h"
#include "otlp/field_reader.h"
#include "otlp/proto_writer.h"

namespace otelrr::otlp {
namespace {

uint8_t* MutableBytes(std::string* s) { return reinterpret_cast<uint8_t*>(s->data()); }
const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

bool Fits(size_t size, uint32_t offset, size_t width) { return offset <= size && size - offset >= width; }

uint64_t Shifted(uint64_t t, int64_t delta) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (delta >= 0) {
    auto d = static_cast<uint64_t>(delta);
    return t > kMax - d ? kMax : t + d;
  }
  // |delta| without negating INT64_MIN.
  uint64_t d = static_cast<uint64_t>(-(delta + 1)) + 1;
  return t <= d ? 1 : t - d;
}

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A keyed permutation of the uint64 values that fixes 0 (see rewrite.h).
class Mixer {
 public:
  Mixer(uint64_t key, uint64_t domain) {
    uint64_t state = key ^ domain;
    for (uint64_t& m : multipliers_) m = SplitMix64(state) | 1;
  }
  uint64_t Mix(uint64_t x) const {
    x *= multipliers_[0];
    x ^= x >> 32;
    x *= multipliers_[1];
    x ^= x >> 29;
    x *= multipliers_[2];
    x ^= x >> 32;
    return x;
  }

 private:
  uint64_t multipliers_[3];
};

// Separate multipliers for the two kinds of id, so a span id equal to half of a trace id does not map
// to the same value.
constexpr uint64_t kSpanDomain = 0x5350414e49447631ull;   // "SPANIDv1"
constexpr uint64_t kTraceDomain = 0x5452414345763120ull;  // "TRACEv1 "

void MixSpanId(const Mixer& m, uint8_t* id) {
  uint64_t x = LoadLE64(id);
  if (x != 0) StoreLE64(id, m.Mix(x));
}

void MixTraceId(const Mixer& m, uint8_t* id) {
  uint64_t a = LoadLE64(id);
  uint64_t b = LoadLE64(id + 8);
  if ((a | b) == 0) return;
  a = m.Mix(a);
  b = m.Mix(b);
  b ^= m.Mix(a);
  a ^= m.Mix(b);
  StoreLE64(id, a);
  StoreLE64(id + 8, b);
}

// Calls fn(const RawField&) for each field of `message`; false when the bytes are malformed.
template <typename Fn>
bool ForEachField(std::string_view message, Fn&& fn) {
  FieldReader fields(message);
  RawField f;
  while (fields.Next(&f)) fn(f);
  return !fields.malformed();
}

bool IsLen(const RawField& f, uint32_t number) { return f.Is(number, WireType::kLen); }

// Field numbers shared by the three signals: Resource{Spans,Metrics,Logs}.resource = 1,
// Resource.attributes = 1, KeyValue.key = 1, KeyValue.value = 2, AnyValue.string_value = 1; every
// AnyValue field (1 to 8) is a member of its `value` oneof.
constexpr uint32_t kResourceField = 1;
constexpr uint32_t kAttributesField = 1;
constexpr uint32_t kKeyField = 1;
constexpr uint32_t kValueField = 2;
constexpr uint32_t kStringValueField = 1;
constexpr uint32_t kLastAnyValueMember = 8;

// Whether a Resource{Spans,Metrics,Logs} message's resource has a string service.name in `services`.
bool HasListedService(const RawField& entry, const std::vector<std::string>& services, bool* ok) {
  bool listed = false;
  auto attribute = [&](const RawField& kv_field) {
    if (!IsLen(kv_field, kAttributesField)) return;
    std::string_view key;
    std::string_view string_value;
    uint32_t last_member = 0;  // the AnyValue oneof member set last, across merged parts
    *ok &= ForEachField(kv_field.value, [&](const RawField& f) {
      if (IsLen(f, kKeyField)) {
        key = f.value;
      } else if (IsLen(f, kValueField)) {
        *ok &= ForEachField(f.value, [&](const RawField& v) {
          if (v.number < 1 || v.number > kLastAnyValueMember) return;
          last_member = v.number;
          if (IsLen(v, kStringValueField)) {
            string_value = v.value;
          }
        });
      }
    });
    if (key == "service.name" && last_member == kStringValueField &&
        std::find(services.begin(), services.end(), string_value) != services.end()) {
      listed = true;
    }
  };
  *ok &= ForEachField(entry.value, [&](const RawField& f) {
    if (IsLen(f, kResourceField)) *ok &= ForEachField(f.value, attribute);
  });
  return listed;
}

// Whether `t` lies in one of the sorted, disjoint half-open windows.
bool InWindows(std::span<const TimeWindow> windows, uint64_t t) {
  auto after = std::upper_bound(windows.begin(), windows.end(), t,
                                [](uint64_t v, const TimeWindow& w) { return v < w.start; });
  return after != windows.begin() && t < std::prev(after)->end;
}

// The time that decides whether an item is kept (rewrite.h). False when the item is malformed.
bool ItemTime(Signal signal, std::string_view item, uint64_t* t) {
  uint64_t time = 0, observed = 0;
  // Span.start_time_unix_nano = 7; *DataPoint.time_unix_nano = 3; LogRecord.time_unix_nano = 1 and
  // observed_time_unix_nano = 11. The last value of a field wins.
  const uint32_t time_field = signal == Signal::kTraces ? 7 : signal == Signal::kMetrics ? 3 : 1;
  bool ok = ForEachField(item, [&](const RawField& f) {
    if (f.wire != WireType::kFixed64) return;
    if (f.number == time_field) time = f.fixed64();
    if (signal == Signal::kLogs && f.number == 11) observed = f.fixed64();
  });
  *t = time != 0 ? time : observed;
  return ok;
}

// Copies the fields of `message` to `out`; each length-delimited field whose number `is_nested` accepts
// is handed to `filter(value, out)`, which appends the kept part and returns how many items it kept:
// the field is written (with its new length) only when that is not 0. Returns the items kept, or -1
// when the bytes are malformed.
template <typename IsNested, typename Filter>
int64_t CopyKeeping(std::string_view message, IsNested&& is_nested, Filter&& filter, std::string* out) {
  int64_t kept = 0;
  FieldReader fields(message);
  RawField f;
  while (fields.Next(&f)) {
    if (f.wire != WireType::kLen || !is_nested(f.number)) {
      out->append(f.whole);
      continue;
    }
    const size_t start = out->size();
    AppendTag(out, f.number, WireType::kLen);
    const size_t length = BeginLengthDelimited(out);
    const int64_t n = filter(f.value, out);
    if (n < 0) return -1;
    if (n == 0) {
      out->resize(start);
    } else {
      EndLengthDelimited(out, length);
      kept += n;
    }
  }
  return fields.malformed() ? -1 : kept;
}

}  // namespace

void ShiftTimestamps(std::string* request, const FieldLocations& where, int64_t delta_nanos) {
  if (delta_nanos == 0) return;
  uint8_t* bytes = MutableBytes(request);
  for (uint32_t offset : where.timestamps) {
    if (!Fits(request->size(), offset, 8)) continue;
    uint64_t t = LoadLE64(bytes + offset);
    if (t != 0) StoreLE64(bytes + offset, Shifted(t, delta_nanos));
  }
}

uint64_t TimeMap::operator()(uint64_t t) const {
  if (t == 0) return 0;
  if (speed == 1) {
    // An exact shift by to - from, which may not fit an int64: apply it in two steps if need be.
    if (to >= from) {
      uint64_t d = to - from;
      return d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<uint64_t>::max()
                                                                           : Shifted(t, static_cast<int64_t>(d));
    }
    uint64_t d = from - to;
    return d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? 1 : Shifted(t, -static_cast<int64_t>(d));
  }
  // long double keeps 64 bits of mantissa: offsets of any size stay exact to the nanosecond.
  long double mapped = static_cast<long double>(to) +
                       (static_cast<long double>(t) - static_cast<long double>(from)) / static_cast<long double>(speed);
  if (mapped < 1) return 1;
  if (mapped >= 18446744073709551615.0L) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(mapped + 0.5L);  // rounded to the nearest nanosecond
}

void MapTimestamps(std::string* request, const FieldLocations& where, const TimeMap& map) {
  uint8_t* bytes = MutableBytes(request);
  for (uint32_t offset : where.timestamps) {
    if (!Fits(request->size(), offset, 8)) continue;
    uint64_t t = LoadLE64(bytes + offset);
    if (t != 0) StoreLE64(bytes + offset, map(t));
  }
}

uint64_t MaxTimestamp(std::string_view request, const FieldLocations& where) {
  uint64_t max = 0;
  for (uint32_t offset : where.timestamps) {
    if (Fits(request.size(), offset, 8)) max = std::max(max, LoadLE64(Bytes(request) + offset));
  }
  return max;
}

void RemapSpanId(uint64_t key, uint8_t id[8]) {
  if (key != 0) MixSpanId(Mixer(key, kSpanDomain), id);
}

void RemapTraceId(uint64_t key, uint8_t id[16]) {
  if (key != 0) MixTraceId(Mixer(key, kTraceDomain), id);
}

void RemapIds(std::string* request, const FieldLocations& where, uint64_t key) {
  if (key == 0) return;
  const Mixer span_mixer(key, kSpanDomain);
  const Mixer trace_mixer(key, kTraceDomain);
  uint8_t* bytes = MutableBytes(request);
  for (uint32_t offset : where.span_ids) {
    if (Fits(request->size(), offset, 8)) MixSpanId(span_mixer, bytes + offset);
  }
  for (uint32_t offset : where.trace_ids) {
    if (Fits(request->size(), offset, 16)) MixTraceId(trace_mixer, bytes + offset);
  }
}

absl::StatusOr<bool> FilterServices(Signal signal, std::string_view request, const std::vector<std::string>& services,
                                    std::string* out) {
  if (absl::Status s = Validate(signal, request); !s.ok()) return s;
  out->clear();
  out->reserve(request.size());
  bool kept_any = false;
  bool ok = true;
  ok &= ForEachField(request, [&](const RawField& f) {
    if (IsLen(f, 1)) {
      if (!HasListedService(f, services, &ok)) return;
      kept_any = true;
    }
    out->append(f.whole);
  });
  if (!ok) {
    // Validate accepted what the reader refused: a bug here, reported rather than trusted.
    out->clear();
    return absl::InternalError(fmt::format("FilterServices could not read a valid {} request", SignalName(signal)));
  }
  return kept_any;
}

namespace {

// Where an item sits: what the shard partition needs besides the item itself.
struct ItemPlace {
  std::string_view resource;     // the Resource message of its resource-level entry
  std::string_view metric_name;  // points: their metric's name
  uint32_t point_attributes = 0;  // points: the field number of their attributes (by the metric's data kind)
};

// Writes to `*out` a copy of `request` that keeps the items for which `keep(place, item)` returns 1 (0
// drops it, -1 means malformed); scopes, metrics and resources left without items are dropped, every
// other field kept as it is. Returns the items kept; InvalidArgument (naming `what`) when malformed.
template <typename Keep>
absl::StatusOr<uint64_t> KeepItems(Signal signal, std::string_view request, Keep&& keep, std::string* out,
                                   std::string_view what) {
  out->clear();
  out->reserve(request.size());
  ItemPlace place;
  auto only = [](uint32_t number) { return [number](uint32_t n) { return n == number; }; };
  // The items of a scope (field 2 of ScopeSpans, ScopeLogs, and of a metric's data), kept or dropped whole.
  auto items = [&](std::string_view container, std::string* o) -> int64_t {
    const uint32_t items_field = signal == Signal::kMetrics ? 1 : 2;
    int64_t kept = 0;
    FieldReader fields(container);
    RawField f;
    while (fields.Next(&f)) {
      if (!f.Is(items_field, WireType::kLen)) {
        o->append(f.whole);
        continue;
      }
      const int k = keep(place, f.value);
      if (k < 0) return -1;
      if (k > 0) {
        o->append(f.whole);
        ++kept;
      }
    }
    return fields.malformed() ? -1 : kept;
  };
  // Metric data: gauge 5, sum 7, histogram 9, exponential histogram 10, summary 11.
  auto metric = [&](std::string_view m, std::string* o) -> int64_t {
    place.metric_name = {};
    place.point_attributes = 0;
    if (!ForEachField(m, [&](const RawField& f) {
          if (f.Is(1, WireType::kLen)) place.metric_name = f.value;
          // Gauge 5, Sum 7, Summary 11: NumberDataPoint / SummaryDataPoint attributes = 7; Histogram 9: 9;
          // ExponentialHistogram 10: 1.
          if (f.wire == WireType::kLen && (f.number == 5 || f.number == 7 || f.number == 11)) place.point_attributes = 7;
          if (f.Is(9, WireType::kLen)) place.point_attributes = 9;
          if (f.Is(10, WireType::kLen)) place.point_attributes = 1;
        })) {
      return -1;
    }
    return CopyKeeping(
        m, [](uint32_t n) { return n == 5 || n == 7 || n == 9 || n == 10 || n == 11; }, items, o);
  };
  auto scope = [&](std::string_view s, std::string* o) -> int64_t {
    return signal == Signal::kMetrics ? CopyKeeping(s, only(2), metric, o) : items(s, o);
  };
  auto resource = [&](std::string_view r, std::string* o) -> int64_t {
    place.resource = {};
    if (!ForEachField(r, [&](const RawField& f) {
          if (f.Is(1, WireType::kLen)) place.resource = f.value;
        })) {
      return -1;
    }
    return CopyKeeping(r, only(2), scope, o);
  };
  const int64_t kept = CopyKeeping(request, only(1), resource, out);
  if (kept < 0) {
    out->clear();
    return absl::InvalidArgumentError(
        fmt::format("the {} request is not well-formed protobuf: its items cannot be {}", SignalName(signal), what));
  }
  return static_cast<uint64_t>(kept);
}

// FNV-1a, 64-bit: a hash every process on every machine computes the same (the shards must agree).
uint64_t StableHash(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

// The key that decides an item's shard (rewrite.h, KeepItemsOfShard); false when the item is malformed.
bool ShardKey(Signal signal, const ItemPlace& place, std::string_view item, uint64_t* key) {
  std::string_view trace_id;
  uint64_t attributes = 0;
  // Span.trace_id = 1; LogRecord.trace_id = 9; a point's attributes (ItemPlace), summed so that their
  // order does not matter.
  bool ok = ForEachField(item, [&](const RawField& f) {
    if (f.wire != WireType::kLen) return;
    if (signal == Signal::kTraces && f.number == 1) trace_id = f.value;
    if (signal == Signal::kLogs && f.number == 9) trace_id = f.value;
    if (signal == Signal::kMetrics && f.number == place.point_attributes) attributes += StableHash(f.value);
  });
  if (!ok) return false;
  if (!trace_id.empty() && !AllZero(trace_id)) {
    *key = StableHash(trace_id);
    return true;
  }
  // Without a trace: a log record by its resource, a point by its series (resource, metric, attributes),
  // so that one resource's logs and one series' points stay in order on one shard.
  uint64_t h = StableHash(place.resource);
  if (signal == Signal::kMetrics) h = StableHash(place.metric_name, h) ^ (attributes * 0x9e3779b97f4a7c15ull);
  *key = h;
  return true;
}

}  // namespace

uint32_t ShardOfKey(uint64_t key, uint32_t shards) {
  // Mixed first: FNV's low bits are weak for a modulus.
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdull;
  key ^= key >> 33;
  return shards <= 1 ? 0 : static_cast<uint32_t>(key % shards);
}

uint32_t ShardOfTraceId(std::string_view trace_id, uint32_t shards) { return ShardOfKey(StableHash(trace_id), shards); }

absl::StatusOr<uint64_t> KeepItemsInWindows(Signal signal, std::string_view request,
                                            std::span<const TimeWindow> windows, std::string* out) {
  return KeepItems(
      signal, request,
      [&](const ItemPlace&, std::string_view item) -> int {
        uint64_t t = 0;
        if (!ItemTime(signal, item, &t)) return -1;
        return InWindows(windows, t) ? 1 : 0;
      },
      out, "filtered by time");
}

absl::StatusOr<std::optional<uint64_t>> AllItemsInWindows(Signal signal, std::string_view request,
                                                         std::span<const TimeWindow> windows) {
  // The same path through the request as KeepItems, reading only: resources (1), their scopes (2), for metrics
  // each metric (2) and its data (5, 7, 9, 10, 11), and the items (2; a metric's data points: 1).
  uint64_t count = 0;
  bool all = true;
  bool ok = true;
  const uint32_t items_field = signal == Signal::kMetrics ? 1 : 2;
  auto items = [&](std::string_view container) {
    ok = ok && ForEachField(container, [&](const RawField& f) {
      if (!all || !f.Is(items_field, WireType::kLen)) return;
      uint64_t t = 0;
      if (!ItemTime(signal, f.value, &t)) {
        ok = false;
      } else if (!InWindows(windows, t)) {
        all = false;
      }
      ++count;
    });
  };
  auto metric = [&](std::string_view m) {
    ok = ok && ForEachField(m, [&](const RawField& f) {
      if (all && f.wire == WireType::kLen &&
          (f.number == 5 || f.number == 7 || f.number == 9 || f.number == 10 || f.number == 11)) {
        items(f.value);
      }
    });
  };
  auto scope = [&](std::string_view sc) {
    if (signal != Signal::kMetrics) return items(sc);
    ok = ok && ForEachField(sc, [&](const RawField& f) {
      if (all && f.Is(2, WireType::kLen)) metric(f.value);
    });
  };
  ok = ok && ForEachField(request, [&](const RawField& r) {
    if (!all || !r.Is(1, WireType::kLen)) return;
    ok = ok && ForEachField(r.value, [&](const RawField& f) {
      if (all && f.Is(2, WireType::kLen)) scope(f.value);
    });
  });
  if (!ok) {
    return absl::InvalidArgumentError(
        fmt::format("the {} request is not well-formed protobuf: its items cannot be filtered by time", SignalName(signal)));
  }
  if (!all) return std::optional<uint64_t>();
  return std::optional<uint64_t>(count);
}

absl::StatusOr<uint64_t> KeepItemsOfShard(Signal signal, std::string_view request, uint32_t shard, uint32_t shards,
                                          std::string* out) {
  return KeepItems(
      signal, request,
      [&](const ItemPlace& place, std::string_view item) -> int {
        uint64_t key = 0;
        if (!ShardKey(signal, place, item, &key)) return -1;
        return ShardOfKey(key, shards) == shard ? 1 : 0;
      },
      out, "split into shards");
}

}  // namespace otelrr::otlp
