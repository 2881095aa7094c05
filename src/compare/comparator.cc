#include "compare/comparator.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "fmt/format.h"

namespace otelrr::compare {

std::string_view TimeCheckName(TimeCheck check) {
  switch (check) {
    case TimeCheck::kExact: return "exact";
    case TimeCheck::kShift: return "shift";
    case TimeCheck::kIgnore: return "ignore";
  }
  return "?";
}

std::string_view DifferenceKindName(DifferenceKind kind) {
  switch (kind) {
    case DifferenceKind::kMissing: return "missing";
    case DifferenceKind::kExtra: return "extra";
    case DifferenceKind::kDuplicated: return "duplicated";
    case DifferenceKind::kAltered: return "altered";
  }
  return "?";
}

SignalCounts CompareReport::total() const {
  SignalCounts t;
  for (const SignalCounts& s : signals) {
    t.a += s.a;
    t.b += s.b;
    t.matched += s.matched;
    t.altered += s.altered;
    t.missing += s.missing;
    t.extra += s.extra;
    t.duplicated += s.duplicated;
  }
  return t;
}

// The bytes a held item points into: a whole request (shared by its items), or one item's copy. Its
// size is counted while it lives.
struct Comparator::Payload {
  Payload(std::string b, size_t* c) : bytes(std::move(b)), counter(c) { *counter += bytes.size(); }
  ~Payload() { *counter -= bytes.size(); }
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;
  std::string bytes;
  size_t* counter;
  bool shared = true;
};

namespace {

inline uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9e3779b97f4a7c15ull + b + 0x632be59bd9b4e019ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string TimeText(uint64_t t) { return t == 0 ? "0" : fmt::format("{}", t); }

}  // namespace

Comparator::Comparator(CompareOptions options) : options_(std::move(options)) {
  report_.time = options_.time;
  if (options_.time != TimeCheck::kShift || options_.shift_nanos.has_value()) {
    shift_known_ = true;
    shift_ = options_.time == TimeCheck::kShift ? *options_.shift_nanos : 0;
  }
  for (const Window& w : options_.phases) {
    report_.phases.push_back({.name = w.name, .start_unix_nano = w.start_unix_nano, .end_unix_nano = w.end_unix_nano});
  }
}

Comparator::~Comparator() {
  // Entries hold payloads that count into members: drop them while the counters still exist.
  pending_.clear();
  sample_[0].clear();
  sample_[1].clear();
}

absl::Status Comparator::Add(Side side, otlp::Signal signal, std::string payload) {
  auto held = std::make_shared<Payload>(std::move(payload), &held_payload_bytes_);
  std::vector<Entry>* sample = shift_known_ ? nullptr : &sample_[static_cast<int>(side)];
  absl::Status s = digester_.Digest(signal, held->bytes, [&](const ItemDigest& d) {
    Entry e;
    e.content = d.content;
    e.series = d.series;
    e.time = d.time;
    e.signal = d.signal;
    e.side = side;
    e.point_kind = d.point_kind;
    e.is_span = d.id != 0;
    e.key = d.id;
    e.payload = held;
    e.resource = d.resource;
    e.scope = d.scope;
    e.metric = d.metric;
    e.item = d.item;
    e.seq = seq_++;
    SignalCounts& counts = report_.signals[signal];
    (side == Side::kA ? counts.a : counts.b)++;
    if (sample != nullptr) {
      sample->push_back(std::move(e));
    } else {
      Place(std::move(e));
    }
  });
  if (!s.ok()) return s;
  if (!shift_known_ && sample_[0].size() >= kShiftSample && sample_[1].size() >= kShiftSample) InferShift();
  if (held_payload_bytes_ > options_.detail_budget_bytes) Compact();
  return absl::OkStatus();
}

uint64_t Comparator::KeyOf(const Entry& e) const {
  if (e.is_span) return e.key;
  if (options_.time == TimeCheck::kIgnore) return Mix(e.content, static_cast<uint64_t>(e.signal));
  return Mix(Mix(e.content, static_cast<uint64_t>(e.signal)), e.time);
}

Bucket& Comparator::BucketAt(uint64_t time) { return seconds_[static_cast<int64_t>(time / 1'000'000'000)]; }

PhaseCounts* Comparator::PhaseAt(uint64_t time) {
  for (PhaseCounts& p : report_.phases) {
    if (time >= p.start_unix_nano && time < p.end_unix_nano) return &p;
  }
  return nullptr;
}

void Comparator::Place(Entry e) {
  if (e.side == Side::kB && options_.time != TimeCheck::kIgnore) e.time -= static_cast<uint64_t>(shift_);
  if (e.time != 0 && (e.side == Side::kA || options_.time != TimeCheck::kIgnore)) {
    Bucket& bucket = BucketAt(e.time);
    (e.side == Side::kA ? bucket.a : bucket.b)++;
  }
  if (e.side == Side::kA) {
    if (PhaseCounts* p = PhaseAt(e.time)) p->a++;
  }
  const uint64_t key = KeyOf(e);
  auto it = pending_.find(key);
  if (it != pending_.end() && it->second.front().side != e.side) {
    Entry other = std::move(it->second.front());
    it->second.erase(it->second.begin());
    if (it->second.empty()) pending_.erase(it);
    --unmatched_;
    if (e.side == Side::kA) {
      Match(e, other);
    } else {
      Match(other, e);
    }
    return;
  }
  pending_[key].push_back(std::move(e));
  ++unmatched_;
  report_.peak_unmatched = std::max(report_.peak_unmatched, unmatched_);
}

void Comparator::Match(Entry& a, Entry& b) {
  SignalCounts& counts = report_.signals[a.signal];
  PhaseCounts* phase = PhaseAt(a.time);
  const bool time_differs = options_.time != TimeCheck::kIgnore && a.time != b.time;
  if (a.content == b.content && !time_differs) {
    counts.matched++;
    if (a.time != 0) BucketAt(a.time).matched++;
    if (phase != nullptr) phase->matched++;
    return;
  }
  counts.altered++;
  if (phase != nullptr) phase->altered++;
  if (kept_[static_cast<int>(DifferenceKind::kAltered)] < options_.max_differences) {
    Note(DifferenceKind::kAltered, a, Changes(a, b));
  }
}

ItemDigest Comparator::DigestOf(const Entry& e) const {
  ItemDigest d;
  d.signal = e.signal;
  d.time = e.side == Side::kB && options_.time != TimeCheck::kIgnore ? e.time + static_cast<uint64_t>(shift_) : e.time;
  d.resource = e.resource;
  d.scope = e.scope;
  d.metric = e.metric;
  d.item = e.item;
  d.point_kind = e.point_kind;
  return d;
}

std::vector<FieldChange> Comparator::Changes(const Entry& a, const Entry& b) const {
  std::vector<FieldChange> changes;
  if (options_.time != TimeCheck::kIgnore && a.time != b.time) {
    changes.push_back({.path = "time (A + shift)",
                       .a = TimeText(a.time + static_cast<uint64_t>(shift_)),
                       .b = fmt::format("{} ({:+}ns)", TimeText(b.time + static_cast<uint64_t>(shift_)),
                                        static_cast<int64_t>(b.time - a.time))});
  }
  if (a.content == b.content || a.payload == nullptr || b.payload == nullptr) return changes;
  std::vector<FieldText> fa = Describe(DigestOf(a));
  std::vector<FieldText> fb = Describe(DigestOf(b));
  constexpr size_t kMaxChanges = 12;
  size_t i = 0, j = 0;
  while ((i < fa.size() || j < fb.size()) && changes.size() < kMaxChanges) {
    if (j == fb.size() || (i < fa.size() && fa[i].path < fb[j].path)) {
      changes.push_back({.path = fa[i].path, .a = fa[i].value, .b = "(absent)"});
      ++i;
    } else if (i == fa.size() || fb[j].path < fa[i].path) {
      changes.push_back({.path = fb[j].path, .a = "(absent)", .b = fb[j].value});
      ++j;
    } else {
      if (fa[i].value != fb[j].value) changes.push_back({.path = fa[i].path, .a = fa[i].value, .b = fb[j].value});
      ++i;
      ++j;
    }
  }
  return changes;
}

void Comparator::Note(DifferenceKind kind, const Entry& e, std::vector<FieldChange> changes) {
  size_t& kept = kept_[static_cast<int>(kind)];
  if (kept >= options_.max_differences) return;
  ++kept;
  Difference d;
  d.kind = kind;
  d.signal = e.signal;
  d.time_unix_nano = DigestOf(e).time;  // the item's own time: A's, or B's as it arrived
  if (e.payload != nullptr) {
    d.item = ItemLabel(DigestOf(e));
  } else {
    d.item = fmt::format("a {} item (its bytes were not kept: raise the detail budget)", otlp::SignalName(e.signal));
    d.details_dropped = true;
  }
  d.changes = std::move(changes);
  report_.differences.push_back(std::move(d));
}

void Comparator::InferShift() {
  // Candidates: spans by id, other items by content; the delta most of them agree on wins.
  absl::flat_hash_map<uint64_t, std::vector<uint64_t>> a_times;
  for (const Entry& e : sample_[0]) {
    if (e.time == 0) continue;
    std::vector<uint64_t>& times = a_times[e.is_span ? e.key : e.content];
    if (times.size() < 4) times.push_back(e.time);
  }
  absl::flat_hash_map<int64_t, uint64_t> votes;
  std::vector<int64_t> order;
  for (const Entry& e : sample_[1]) {
    if (e.time == 0) continue;
    auto it = a_times.find(e.is_span ? e.key : e.content);
    if (it == a_times.end()) continue;
    for (uint64_t t : it->second) {
      int64_t delta = static_cast<int64_t>(e.time - t);
      if (votes[delta]++ == 0) order.push_back(delta);
    }
  }
  int64_t best = 0;
  uint64_t best_votes = 0;
  for (int64_t delta : order) {
    if (votes[delta] > best_votes) {
      best = delta;
      best_votes = votes[delta];
    }
  }
  shift_ = best;
  shift_known_ = true;
  report_.shift_inferred = true;
  report_.shift_found = best_votes > 0;
  std::vector<Entry> a = std::move(sample_[0]);
  std::vector<Entry> b = std::move(sample_[1]);
  sample_[0].clear();
  sample_[1].clear();
  // In arrival order across both sides, as they came.
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].seq < b[j].seq)) {
      Place(std::move(a[i++]));
    } else {
      Place(std::move(b[j++]));
    }
  }
}

void Comparator::Compact() {
  // The earliest items first: the report lists the first differences of each kind.
  std::vector<Entry*> held;
  for (auto& [key, entries] : pending_) {
    for (Entry& e : entries) {
      if (e.payload != nullptr && e.payload->shared) held.push_back(&e);
    }
  }
  for (auto& sample : sample_) {
    for (Entry& e : sample) {
      if (e.payload != nullptr && e.payload->shared) held.push_back(&e);
    }
  }
  std::sort(held.begin(), held.end(), [](const Entry* x, const Entry* y) { return x->seq < y->seq; });
  const size_t copy_budget = options_.detail_budget_bytes / 4;
  auto compact = [&](Entry& e) {
    if (copied_bytes_ > copy_budget) {
      e.payload.reset();
      e.resource = e.scope = e.metric = e.item = {};
      return;
    }
    std::string header = e.metric.empty() ? std::string() : MetricHeader(e.metric);
    std::string bytes;
    bytes.reserve(e.resource.size() + e.scope.size() + header.size() + e.item.size());
    bytes.append(e.resource).append(e.scope).append(header).append(e.item);
    auto own = std::make_shared<Payload>(std::move(bytes), &copied_bytes_);
    own->shared = false;
    std::string_view all = own->bytes;
    size_t at = 0;
    auto take = [&](size_t n) {
      std::string_view v = all.substr(at, n);
      at += n;
      return v;
    };
    e.resource = take(e.resource.size());
    e.scope = take(e.scope.size());
    e.metric = take(header.size());
    e.item = take(e.item.size());
    e.payload = std::move(own);
  };
  for (Entry* e : held) compact(*e);
}

absl::StatusOr<CompareReport> Comparator::Finish(const Reread& reread_a) {
  if (!shift_known_) InferShift();
  report_.shift_nanos = shift_;

  // What is left, in the order it came.
  std::vector<Entry> left_a, left_b;
  for (auto& [key, entries] : pending_) {
    for (Entry& e : entries) (e.side == Side::kA ? left_a : left_b).push_back(std::move(e));
  }
  decltype(pending_)().swap(pending_);  // its memory too
  unmatched_ = 0;
  auto by_seq = [](const Entry& x, const Entry& y) { return x.seq < y.seq; };
  std::sort(left_a.begin(), left_a.end(), by_seq);
  std::sort(left_b.begin(), left_b.end(), by_seq);

  // Pair a lost item with a new one that kept its series and time: a change, not a loss and a gain.
  auto loose = [&](const Entry& e) {
    uint64_t k = Mix(e.series, static_cast<uint64_t>(e.signal));
    return options_.time == TimeCheck::kIgnore ? k : Mix(k, e.time);
  };
  // A's leftovers sorted by (loose key, arrival); `next` is the first not yet paired of each key.
  std::vector<std::pair<uint64_t, size_t>> by_loose(left_a.size());
  for (size_t i = 0; i < left_a.size(); ++i) by_loose[i] = {loose(left_a[i]), i};
  std::sort(by_loose.begin(), by_loose.end());
  absl::flat_hash_map<uint64_t, size_t> next;
  for (size_t k = by_loose.size(); k-- > 0;) next[by_loose[k].first] = k;
  std::vector<bool> a_paired(left_a.size(), false);
  std::vector<Entry> unpaired_b;
  for (Entry& b : left_b) {
    const uint64_t key = loose(b);
    auto it = next.find(key);
    if (it == next.end() || it->second == by_loose.size() || by_loose[it->second].first != key) {
      unpaired_b.push_back(std::move(b));
      continue;
    }
    const size_t i = by_loose[it->second++].second;
    a_paired[i] = true;
    Entry& a = left_a[i];
    report_.signals[a.signal].altered++;
    if (PhaseCounts* p = PhaseAt(a.time)) p->altered++;
    Note(DifferenceKind::kAltered, a, Changes(a, b));
  }
  for (size_t i = 0; i < left_a.size(); ++i) {
    if (a_paired[i]) continue;
    report_.signals[left_a[i].signal].missing++;
    Note(DifferenceKind::kMissing, left_a[i], {});
  }

  // The rest of B: in A (duplicated) or not (extra).
  if (!unpaired_b.empty()) {
    absl::flat_hash_set<uint64_t> wanted;
    for (const Entry& b : unpaired_b) wanted.insert(KeyOf(b));
    absl::flat_hash_set<uint64_t> found;
    if (reread_a) {
      ItemDigester digester;
      absl::Status s = reread_a([&](otlp::Signal signal, std::string_view payload) {
        return digester.Digest(signal, payload, [&](const ItemDigest& d) {
          Entry e;
          e.content = d.content;
          e.time = d.time;
          e.signal = d.signal;
          e.is_span = d.id != 0;
          e.key = d.id;
          uint64_t k = KeyOf(e);
          if (wanted.contains(k)) found.insert(k);
        });
      });
      if (!s.ok()) return s;
    }
    for (const Entry& b : unpaired_b) {
      const bool dup = found.contains(KeyOf(b));
      SignalCounts& counts = report_.signals[b.signal];
      (dup ? counts.duplicated : counts.extra)++;
      Note(dup ? DifferenceKind::kDuplicated : DifferenceKind::kExtra, b, {});
    }
  }

  // Per-second buckets, coarser when the span is long.
  if (!seconds_.empty()) {
    const int64_t first = seconds_.begin()->first;
    const int64_t last = seconds_.rbegin()->first;
    const uint64_t span = static_cast<uint64_t>(last - first) + 1;
    const uint64_t width = (span + options_.max_buckets - 1) / std::max<size_t>(options_.max_buckets, 1);
    report_.buckets_start_unix_nano = static_cast<uint64_t>(first) * 1'000'000'000;
    report_.bucket_nanos = width * 1'000'000'000;
    report_.buckets.assign((span + width - 1) / width, Bucket{});
    for (const auto& [second, bucket] : seconds_) {
      Bucket& into = report_.buckets[static_cast<uint64_t>(second - first) / width];
      into.a += bucket.a;
      into.b += bucket.b;
      into.matched += bucket.matched;
    }
  }
  return std::move(report_);
}

}  // namespace otelrr::compare
