#include "otlp/rewrite.h"

#include <algorithm>
#include <limits>

#include "common/status.h"
#include "fmt/format.h"
#include "otlp/field_reader.h"

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

}  // namespace otelrr::otlp
