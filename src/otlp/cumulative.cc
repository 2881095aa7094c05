#include "otlp/cumulative.h"

#include <algorithm>
#include <bit>
#include <map>
#include <unordered_map>
#include <vector>

#include "otlp/field_reader.h"
#include "otlp/proto_writer.h"

namespace otelrr::otlp {
namespace {

// Metric.{sum = 7, histogram = 9, exponential_histogram = 10, summary = 11}; gauges (5) carry nothing.
enum class Kind : uint8_t { kSum = 7, kHistogram = 9, kExpHistogram = 10, kSummary = 11 };
constexpr uint64_t kCumulative = 2;  // AggregationTemporality
constexpr uint32_t kNoRecordedValue = 1;  // DataPointFlags

// Field numbers that differ between the data point kinds.
struct PointFields {
  uint32_t attributes;
  uint32_t flags;
};
PointFields FieldsOf(Kind kind) {
  switch (kind) {
    case Kind::kSum:
      return {7, 8};
    case Kind::kHistogram:
      return {9, 10};
    case Kind::kExpHistogram:
      return {1, 10};
    case Kind::kSummary:
      return {7, 8};
  }
  return {7, 8};
}

int64_t ZigZagDecode(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
uint64_t ZigZagEncode(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }

// Bucket counts of one side of an exponential histogram, as a sparse map index -> count.
using ExpBuckets = std::map<int64_t, uint64_t>;

// The values of one data point that continuing may change, decoded.
struct Point {
  uint64_t start = 0;
  uint64_t time = 0;
  uint32_t flags = 0;
  bool is_double = false;  // sums: as_double rather than as_int
  int64_t as_int = 0;
  double as_double = 0;
  uint64_t count = 0;
  double sum = 0;
  std::vector<uint64_t> buckets;
  std::vector<double> bounds;
  int32_t scale = 0;
  uint64_t zero_count = 0;
  ExpBuckets positive;
  ExpBuckets negative;
};

void ReadPacked64(const RawField& f, std::vector<uint64_t>* out) {
  if (f.wire == WireType::kFixed64) {
    out->push_back(f.fixed64());
  } else if (f.wire == WireType::kLen) {
    for (size_t i = 0; i + 8 <= f.value.size(); i += 8) {
      out->push_back(LoadLE64(reinterpret_cast<const uint8_t*>(f.value.data() + i)));
    }
  }
}

// ExponentialHistogramDataPoint.Buckets {1 offset sint32, 2 bucket_counts repeated uint64}; parts merge.
bool ReadExpBuckets(std::string_view bytes, int32_t* offset, std::vector<uint64_t>* counts) {
  FieldReader fields(bytes);
  RawField f;
  while (fields.Next(&f)) {
    if (f.Is(1, WireType::kVarint)) *offset = static_cast<int32_t>(ZigZagDecode(f.varint));
    if (f.Is(2, WireType::kVarint)) counts->push_back(f.varint);
    if (f.Is(2, WireType::kLen)) {
      const auto* p = reinterpret_cast<const uint8_t*>(f.value.data());
      const uint8_t* end = p + f.value.size();
      uint64_t v;
      while (p < end) {
        if (!ReadVarint(p, end, &v)) return false;
        counts->push_back(v);
      }
    }
  }
  return !fields.malformed();
}

// Decodes a data point of `kind`; its attributes' bytes go to *attributes. False when malformed.
bool DecodePoint(Kind kind, std::string_view bytes, Point* p, std::vector<std::string_view>* attributes) {
  const PointFields pf = FieldsOf(kind);
  struct Side {
    int32_t offset = 0;
    std::vector<uint64_t> counts;
  } positive, negative;
  std::vector<uint64_t> bounds_bits;
  FieldReader fields(bytes);
  RawField f;
  while (fields.Next(&f)) {
    if (f.Is(pf.attributes, WireType::kLen)) {
      attributes->push_back(f.whole);
    } else if (f.number == pf.flags && f.wire == WireType::kVarint) {
      p->flags = static_cast<uint32_t>(f.varint);
    } else if (f.Is(2, WireType::kFixed64)) {
      p->start = f.fixed64();
    } else if (f.Is(3, WireType::kFixed64)) {
      p->time = f.fixed64();
    } else if (kind == Kind::kSum) {
      if (f.Is(4, WireType::kFixed64)) {
        p->is_double = true;
        p->as_double = f.as_double();
      } else if (f.Is(6, WireType::kFixed64)) {
        p->is_double = false;
        p->as_int = static_cast<int64_t>(f.fixed64());
      }
    } else if (f.Is(4, WireType::kFixed64)) {
      p->count = f.fixed64();
    } else if (f.Is(5, WireType::kFixed64)) {
      p->sum = f.as_double();
    } else if (kind == Kind::kHistogram) {
      if (f.number == 6) ReadPacked64(f, &p->buckets);
      if (f.number == 7) ReadPacked64(f, &bounds_bits);
    } else if (kind == Kind::kExpHistogram) {
      if (f.Is(6, WireType::kVarint)) p->scale = static_cast<int32_t>(ZigZagDecode(f.varint));
      if (f.Is(7, WireType::kFixed64)) p->zero_count = f.fixed64();
      if (f.Is(8, WireType::kLen) && !ReadExpBuckets(f.value, &positive.offset, &positive.counts)) return false;
      if (f.Is(9, WireType::kLen) && !ReadExpBuckets(f.value, &negative.offset, &negative.counts)) return false;
    }
  }
  for (uint64_t b : bounds_bits) p->bounds.push_back(std::bit_cast<double>(b));
  for (size_t i = 0; i < positive.counts.size(); ++i) {
    if (positive.counts[i] != 0) p->positive[positive.offset + static_cast<int64_t>(i)] = positive.counts[i];
  }
  for (size_t i = 0; i < negative.counts.size(); ++i) {
    if (negative.counts[i] != 0) p->negative[negative.offset + static_cast<int64_t>(i)] = negative.counts[i];
  }
  return !fields.malformed();
}

// The same buckets at a coarser scale (`by` steps down): index i becomes i >> by.
ExpBuckets Downscale(const ExpBuckets& b, int32_t by) {
  if (by <= 0) return b;
  ExpBuckets out;
  for (const auto& [index, count] : b) out[index >> std::min(by, 63)] += count;
  return out;
}

// a - b, bucket by bucket; false when some count would go below zero.
bool Subtract(const ExpBuckets& a, const ExpBuckets& b, ExpBuckets* out) {
  *out = a;
  for (const auto& [index, count] : b) {
    uint64_t& c = (*out)[index];
    if (c < count) return false;
    c -= count;
    if (c == 0) out->erase(index);
  }
  return true;
}

void AddScaled(ExpBuckets* a, const ExpBuckets& b, uint64_t k) {
  for (const auto& [index, count] : b) (*a)[index] += k * count;
}

void AppendExpBuckets(std::string* out, uint32_t field, const ExpBuckets& b) {
  AppendTag(out, field, WireType::kLen);
  size_t m = BeginLengthDelimited(out);
  if (!b.empty()) {
    int64_t first = b.begin()->first;
    int64_t last = b.rbegin()->first;
    if (first != 0) {
      AppendTag(out, 1, WireType::kVarint);
      AppendVarint(out, ZigZagEncode(first));
    }
    AppendTag(out, 2, WireType::kLen);
    size_t packed = BeginLengthDelimited(out);
    auto it = b.begin();
    for (int64_t i = first; i <= last; ++i) {
      uint64_t c = 0;
      if (it != b.end() && it->first == i) c = (it++)->second;
      AppendVarint(out, c);
    }
    EndLengthDelimited(out, packed);
  }
  EndLengthDelimited(out, m);
}

struct Series {
  uint64_t pinned_start = 0;  // the start time the series' points are sent with
  Kind kind = Kind::kSum;
  bool monotonic = false;  // sums only; the other kinds count, and counts only grow
  bool from_zero = false;
  bool broken = false;
  Point first;
  Point last;
  // Computed once, when the first later iteration needs it.
  bool finalized = false;
  Point delta;
};

bool CountsGrow(const Series& s) { return s.kind != Kind::kSum || s.monotonic; }

// Whether `next` (later than s.last) continues the series without a reset.
bool Continues(const Series& s, const Point& next) {
  const Point& last = s.last;
  if (next.start != last.start) return false;
  switch (s.kind) {
    case Kind::kSum:
      if (next.is_double != last.is_double) return false;
      if (!s.monotonic) return true;
      return next.is_double ? next.as_double >= last.as_double : next.as_int >= last.as_int;
    case Kind::kHistogram:
      return next.count >= last.count && next.bounds == last.bounds && next.buckets.size() == last.buckets.size();
    case Kind::kExpHistogram:
    case Kind::kSummary:
      return next.count >= last.count;
  }
  return false;
}

// D, as the header says; false when it cannot be formed (the series is then left as recorded).
bool ComputeDelta(const Series& s, Point* d) {
  Point zero;
  zero.is_double = s.last.is_double;
  zero.buckets.assign(s.last.buckets.size(), 0);
  zero.scale = s.last.scale;
  const Point& base = s.from_zero ? zero : s.first;
  const Point& last = s.last;
  d->is_double = last.is_double;
  d->as_int = static_cast<int64_t>(static_cast<uint64_t>(last.as_int) - static_cast<uint64_t>(base.as_int));
  d->as_double = last.as_double - base.as_double;
  d->count = last.count - base.count;
  d->sum = last.sum - base.sum;
  if (s.kind == Kind::kHistogram) {
    if (base.buckets.size() != last.buckets.size()) return false;
    d->buckets.resize(last.buckets.size());
    for (size_t i = 0; i < last.buckets.size(); ++i) {
      if (last.buckets[i] < base.buckets[i]) return false;
      d->buckets[i] = last.buckets[i] - base.buckets[i];
    }
  }
  if (s.kind == Kind::kExpHistogram) {
    if (last.zero_count < base.zero_count) return false;
    d->zero_count = last.zero_count - base.zero_count;
    d->scale = std::min(last.scale, base.scale);
    if (!Subtract(Downscale(last.positive, last.scale - d->scale), Downscale(base.positive, base.scale - d->scale),
                  &d->positive) ||
        !Subtract(Downscale(last.negative, last.scale - d->scale), Downscale(base.negative, base.scale - d->scale),
                  &d->negative)) {
      return false;
    }
  }
  return true;
}

// Re-encodes point `bytes` of series `s` for iteration k: the start time pinned, k × D added.
void ContinuePoint(const Series& s, std::string_view bytes, const Point& p, uint64_t k, std::string* out) {
  const bool add = CountsGrow(s);
  const Point& d = s.delta;
  Point q = p;
  q.start = s.pinned_start;
  if (add) {
    q.as_int = static_cast<int64_t>(static_cast<uint64_t>(p.as_int) + k * static_cast<uint64_t>(d.as_int));
    q.as_double = p.as_double + static_cast<double>(k) * d.as_double;
    q.count = p.count + k * d.count;
    q.sum = p.sum + static_cast<double>(k) * d.sum;
    for (size_t i = 0; i < q.buckets.size() && i < d.buckets.size(); ++i) q.buckets[i] += k * d.buckets[i];
    if (s.kind == Kind::kExpHistogram) {
      q.zero_count = p.zero_count + k * d.zero_count;
      q.scale = std::min(p.scale, d.scale);
      q.positive = Downscale(p.positive, p.scale - q.scale);
      q.negative = Downscale(p.negative, p.scale - q.scale);
      AddScaled(&q.positive, Downscale(d.positive, d.scale - q.scale), k);
      AddScaled(&q.negative, Downscale(d.negative, d.scale - q.scale), k);
    }
  }
  bool wrote_start = false, wrote_buckets = false, wrote_scale = false, wrote_positive = false,
       wrote_negative = false;
  FieldReader fields(bytes);
  RawField f;
  while (fields.Next(&f)) {
    if (f.Is(2, WireType::kFixed64)) {
      AppendTag(out, 2, WireType::kFixed64);
      AppendFixed64(out, q.start);
      wrote_start = true;
      continue;
    }
    if (add) {
      if (s.kind == Kind::kSum && (f.Is(4, WireType::kFixed64) || f.Is(6, WireType::kFixed64))) {
        AppendTag(out, f.number, WireType::kFixed64);
        AppendFixed64(out, f.number == 4 ? std::bit_cast<uint64_t>(q.as_double) : static_cast<uint64_t>(q.as_int));
        continue;
      }
      if (s.kind != Kind::kSum && f.Is(4, WireType::kFixed64)) {
        AppendTag(out, 4, WireType::kFixed64);
        AppendFixed64(out, q.count);
        continue;
      }
      if (s.kind != Kind::kSum && f.Is(5, WireType::kFixed64)) {
        AppendTag(out, 5, WireType::kFixed64);
        AppendFixed64(out, std::bit_cast<uint64_t>(q.sum));
        continue;
      }
      if (s.kind == Kind::kHistogram && f.number == 6) {
        if (!wrote_buckets) {
          AppendTag(out, 6, WireType::kLen);
          AppendVarint(out, 8 * q.buckets.size());
          for (uint64_t c : q.buckets) AppendFixed64(out, c);
          wrote_buckets = true;
        }
        continue;
      }
      if (s.kind == Kind::kExpHistogram) {
        if (f.Is(6, WireType::kVarint)) {
          AppendTag(out, 6, WireType::kVarint);
          AppendVarint(out, ZigZagEncode(q.scale));
          wrote_scale = true;
          continue;
        }
        if (f.Is(7, WireType::kFixed64)) {
          AppendTag(out, 7, WireType::kFixed64);
          AppendFixed64(out, q.zero_count);
          continue;
        }
        if (f.Is(8, WireType::kLen) || f.Is(9, WireType::kLen)) {
          bool& wrote = f.number == 8 ? wrote_positive : wrote_negative;
          if (!wrote) AppendExpBuckets(out, f.number, f.number == 8 ? q.positive : q.negative);
          wrote = true;
          continue;
        }
      }
    }
    out->append(f.whole);
  }
  // Values the point left at their defaults (absent) but that now differ.
  if (!wrote_start && q.start != 0) {
    AppendTag(out, 2, WireType::kFixed64);
    AppendFixed64(out, q.start);
  }
  if (add && s.kind == Kind::kExpHistogram) {
    if (!wrote_scale && q.scale != 0) {
      AppendTag(out, 6, WireType::kVarint);
      AppendVarint(out, ZigZagEncode(q.scale));
    }
    if (!wrote_positive && !q.positive.empty()) AppendExpBuckets(out, 8, q.positive);
    if (!wrote_negative && !q.negative.empty()) AppendExpBuckets(out, 9, q.negative);
  }
  if (add && s.kind == Kind::kHistogram && !wrote_buckets && !q.buckets.empty()) {
    AppendTag(out, 6, WireType::kLen);
    AppendVarint(out, 8 * q.buckets.size());
    for (uint64_t c : q.buckets) AppendFixed64(out, c);
  }
}

// Copies `message` to *out field by field (when out is set), handing the contents of every
// length-delimited field numbered `child` to `fn(contents, out)`, which writes its own replacement
// contents. Returns false when the bytes are malformed.
template <typename Fn>
bool Descend(std::string_view message, uint32_t child, std::string* out, Fn&& fn) {
  FieldReader fields(message);
  RawField f;
  while (fields.Next(&f)) {
    if (!f.Is(child, WireType::kLen)) {
      if (out != nullptr) out->append(f.whole);
      continue;
    }
    if (out == nullptr) {
      if (!fn(f.value, nullptr)) return false;
      continue;
    }
    AppendTag(out, child, WireType::kLen);
    size_t m = BeginLengthDelimited(out);
    if (!fn(f.value, out)) return false;
    EndLengthDelimited(out, m);
  }
  return !fields.malformed();
}

// The contents of every field numbered `number`, concatenated (protobuf merges repeated messages).
std::string Concatenated(std::string_view message, uint32_t number) {
  std::string out;
  FieldReader fields(message);
  RawField f;
  while (fields.Next(&f)) {
    if (f.Is(number, WireType::kLen)) out.append(f.value);
  }
  return out;
}

}  // namespace

struct CumulativeCarry::State {
  std::unordered_map<std::string, uint32_t> interned;  // resource and scope bytes -> small ids
  std::unordered_map<std::string, Series> series;
  // Start times in the comparison frame -> the start time they were first sent with.
  std::unordered_map<uint64_t, uint64_t> pinned;
  std::string key;  // scratch
  std::vector<std::string_view> attributes;

  uint32_t Intern(char kind, std::string bytes) {
    bytes.insert(bytes.begin(), kind);
    auto [it, added] = interned.try_emplace(std::move(bytes), static_cast<uint32_t>(interned.size()));
    return it->second;
  }

  // Builds the series key of a point whose attributes are in `attributes`.
  void MakeKey(uint32_t resource, uint32_t scope, Kind kind, std::string_view name) {
    key.clear();
    AppendFixed32(&key, resource);
    AppendFixed32(&key, scope);
    key.push_back(static_cast<char>(kind));
    AppendVarint(&key, name.size());
    key.append(name);
    std::sort(attributes.begin(), attributes.end());
    for (std::string_view a : attributes) {
      AppendVarint(&key, a.size());
      key.append(a);
    }
  }

  // Walks every data point of a cumulative sum, histogram, exponential histogram or summary; rebuilds
  // the request into *out when it is set. fn(resource, scope, kind, monotonic, name, point, out) -> bool:
  // with out set, fn writes the point's (possibly new) contents.
  template <typename Fn>
  bool ForEachPoint(std::string_view request, std::string* out, Fn&& fn) {
    return Descend(request, 1, out, [&](std::string_view rm, std::string* o1) {
      uint32_t resource = Intern('r', Concatenated(rm, 1));
      return Descend(rm, 2, o1, [&](std::string_view sm, std::string* o2) {
        uint32_t scope = Intern('s', Concatenated(sm, 1));
        return Descend(sm, 2, o2, [&](std::string_view metric, std::string* o3) {
          std::string_view name;
          FieldReader fields(metric);
          RawField f;
          while (fields.Next(&f)) {
            if (f.Is(1, WireType::kLen)) name = f.value;
          }
          FieldReader members(metric);
          std::string* o = o3;
          bool ok = true;
          while (members.Next(&f)) {
            uint32_t n = f.number;
            bool data = f.wire == WireType::kLen && (n == 7 || n == 9 || n == 10 || n == 11);
            if (!data) {
              if (o != nullptr) o->append(f.whole);
              continue;
            }
            Kind kind = static_cast<Kind>(n);
            uint64_t temporality = kind == Kind::kSummary ? kCumulative : 0;
            bool monotonic = false;
            FieldReader props(f.value);
            RawField g;
            while (props.Next(&g)) {
              if (g.Is(2, WireType::kVarint) && kind != Kind::kSummary) temporality = g.varint;
              if (g.Is(3, WireType::kVarint) && kind == Kind::kSum) monotonic = g.varint != 0;
            }
            if (temporality != kCumulative) {
              if (o != nullptr) o->append(f.whole);
              continue;
            }
            // Two calls rather than one with a maybe-null `o`: with one, g++ 12 warns (-Wnonnull) that the
            // rewriting callback might append to a null string.
            if (o != nullptr) {
              AppendTag(o, n, WireType::kLen);
              size_t m = BeginLengthDelimited(o);
              ok &= Descend(f.value, 1, o, [&](std::string_view point, std::string* o4) {
                return fn(resource, scope, kind, monotonic, name, point, o4);
              });
              EndLengthDelimited(o, m);
            } else {
              ok &= Descend(f.value, 1, nullptr, [&](std::string_view point, std::string*) {
                return fn(resource, scope, kind, monotonic, name, point, nullptr);
              });
            }
          }
          return ok && !members.malformed() && !fields.malformed();
        });
      });
    });
  }
};

CumulativeCarry::CumulativeCarry() : state_(std::make_unique<State>()) {}
CumulativeCarry::~CumulativeCarry() = default;

namespace {

// `t` moved back by `shift` (saturating at 0 and at the top of the range), 0 staying 0.
uint64_t Unshifted(uint64_t t, int64_t shift) {
  if (t == 0 || shift == 0) return t;
  if (shift > 0) return t > static_cast<uint64_t>(shift) ? t - static_cast<uint64_t>(shift) : 0;
  uint64_t up = static_cast<uint64_t>(-(shift + 1)) + 1;
  return t > ~uint64_t{0} - up ? ~uint64_t{0} : t + up;
}

}  // namespace

bool CumulativeCarry::Observe(std::string_view request, uint64_t recording_start, int64_t shift, std::string* out) {
  State& st = *state_;
  bool pin = false;
  st.ForEachPoint(request, nullptr,
                  [&](uint32_t resource, uint32_t scope, Kind kind, bool monotonic, std::string_view name,
                      std::string_view bytes, std::string*) {
                    Point p;
                    st.attributes.clear();
                    if (!DecodePoint(kind, bytes, &p, &st.attributes)) return true;  // skipped
                    const uint64_t sent_start = p.start;
                    p.start = Unshifted(p.start, shift);
                    p.time = Unshifted(p.time, shift);
                    const uint64_t pinned = st.pinned.try_emplace(p.start, sent_start).first->second;
                    pin |= pinned != sent_start;
                    if ((p.flags & kNoRecordedValue) != 0) return true;
                    st.MakeKey(resource, scope, kind, name);
                    auto [it, added] = st.series.try_emplace(st.key);
                    Series& s = it->second;
                    if (added) {
                      s.kind = kind;
                      s.monotonic = monotonic;
                      s.from_zero = p.start != 0 && p.start >= recording_start;
                      s.pinned_start = pinned;
                      s.first = p;
                      s.last = std::move(p);
                      return true;
                    }
                    if (s.broken) return true;
                    if (p.time < s.last.time || !Continues(s, p)) {
                      s.broken = true;  // out of order or reset: left as recorded
                      return true;
                    }
                    s.last = std::move(p);
                    return true;
                  });
  if (!pin || out == nullptr) return false;
  // Second walk, rare: only requests shifted unlike the first get their start times replaced.
  std::string rebuilt;
  rebuilt.reserve(request.size());
  bool ok = st.ForEachPoint(request, &rebuilt,
                            [&](uint32_t, uint32_t, Kind, bool, std::string_view, std::string_view bytes,
                                std::string* o) {
                              if (o == nullptr) return false;  // never: these rewrite; tells g++ -O3 (-Wnonnull) so
                              FieldReader fields(bytes);
                              RawField f;
                              while (fields.Next(&f)) {
                                if (f.Is(2, WireType::kFixed64) && f.fixed64() != 0) {
                                  auto it = st.pinned.find(Unshifted(f.fixed64(), shift));
                                  AppendTag(o, 2, WireType::kFixed64);
                                  AppendFixed64(o, it != st.pinned.end() ? it->second : f.fixed64());
                                  continue;
                                }
                                o->append(f.whole);
                              }
                              return !fields.malformed();
                            });
  if (!ok) return false;
  out->swap(rebuilt);
  return true;
}

bool CumulativeCarry::Continue(std::string_view request, uint64_t iteration, std::string* out) {
  State& st = *state_;
  if (iteration == 0 || st.series.empty()) return false;
  std::string rebuilt;
  rebuilt.reserve(request.size() + request.size() / 8);
  bool changed = false;
  bool ok = st.ForEachPoint(request, &rebuilt,
                            [&](uint32_t resource, uint32_t scope, Kind kind, bool, std::string_view name,
                                std::string_view bytes, std::string* o) {
                              if (o == nullptr) return false;  // never: these rewrite; tells g++ -O3 (-Wnonnull) so
                              Point p;
                              st.attributes.clear();
                              if (!DecodePoint(kind, bytes, &p, &st.attributes) ||
                                  (p.flags & kNoRecordedValue) != 0) {
                                o->append(bytes);
                                return true;
                              }
                              st.MakeKey(resource, scope, kind, name);
                              auto it = st.series.find(st.key);
                              if (it == st.series.end() || it->second.broken) {
                                o->append(bytes);
                                return true;
                              }
                              Series& s = it->second;
                              if (!s.finalized) {
                                s.finalized = true;
                                if (!ComputeDelta(s, &s.delta)) {
                                  s.broken = true;
                                  o->append(bytes);
                                  return true;
                                }
                              }
                              ContinuePoint(s, bytes, p, iteration, o);
                              changed = true;
                              return true;
                            });
  if (!ok || !changed) return false;
  out->swap(rebuilt);
  return true;
}

size_t CumulativeCarry::series() const { return state_->series.size(); }

size_t CumulativeCarry::continued_series() const {
  size_t n = 0;
  for (const auto& [key, s] : state_->series) n += s.broken ? 0 : 1;
  return n;
}

}  // namespace otelrr::otlp
