#include "otlp/wire.h"

#include <algorithm>
#include <array>
#include <functional>
#include <unordered_map>
#include <vector>

#include "fmt/format.h"

namespace otelrr::otlp {
namespace internal {

absl::Status WireError(const uint8_t* base, const uint8_t* at, const MessageType& type, std::string_view what) {
  std::string_view name = type.full_name.substr(type.full_name.rfind('.') + 1);
  return absl::InvalidArgumentError(fmt::format("malformed OTLP protobuf at byte {} in {}: {}", at - base, name, what));
}

absl::Status FieldError(const uint8_t* base, const uint8_t* at, const MessageType& type, const Field& field,
                        std::string_view what) {
  std::string_view name = type.full_name.substr(type.full_name.rfind('.') + 1);
  return absl::InvalidArgumentError(fmt::format("malformed OTLP protobuf at byte {}: field {}.{} ({}) {}", at - base,
                                                name, field.name, field.number, what));
}

namespace {
// The slot of a type's address in a table of `slots` (a power of two): the bits above the alignment, mixed.
size_t SlotOf(const MessageType* type, size_t slots) {
  const uint64_t bits = reinterpret_cast<uintptr_t>(type) >> 3;
  return static_cast<size_t>((bits * 0x9e3779b97f4a7c15ull) >> 56) & (slots - 1);
}
}  // namespace

bool MayHoldLocated(const MessageType& type) {
  // Asked for every message a trusted walk meets, so the answer is one probe of a small open-addressed table
  // keyed by the type's address (a std::unordered_map lookup here was 9 % of a merge's CPU).
  struct Slot {
    const MessageType* type = nullptr;
    bool holds = true;
  };
  static constexpr size_t kSlots = 256;  // a power of two, well above the schema's message types
  static const std::array<Slot, kSlots> table = [] {
    std::unordered_map<const MessageType*, bool> result;
    auto* t = &result;
    // Depth-first over the schema; a type on the current path counts as "no" (recursion adds nothing).
    std::function<bool(const MessageType&)> visit = [&](const MessageType& m) -> bool {
      if (auto it = t->find(&m); it != t->end()) return it->second;
      (*t)[&m] = false;
      bool holds = m.item != ItemKind::kNone;
      for (const Field& f : m.fields) {
        if (f.role != FieldRole::kNone) holds = true;
        if (f.type == FieldType::kMessage && visit(*f.message)) holds = true;
      }
      (*t)[&m] = holds;
      return holds;
    };
    for (Signal s : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) visit(RequestType(s));
    std::array<Slot, kSlots> slots{};
    for (const auto& [m, holds] : result) {
      size_t i = SlotOf(m, kSlots);
      while (slots[i].type != nullptr) i = (i + 1) & (kSlots - 1);
      slots[i] = {.type = m, .holds = holds};
    }
    return slots;
  }();
  for (size_t i = SlotOf(&type, kSlots);; i = (i + 1) & (kSlots - 1)) {
    if (table[i].type == &type) return table[i].holds;
    if (table[i].type == nullptr) return true;  // not a type of the schema: enter it
  }
}

}  // namespace internal

namespace {

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

struct NullVisitor {
  bool Enter(const Field&, const MessageType&, const uint8_t*, const uint8_t*) { return true; }
  void Leave(const Field&, const MessageType&) {}
  void Value(const Field&, const uint8_t*, size_t, uint64_t) {}
};

class SummaryVisitor {
 public:
  // With `trace_ids`, also appends every non-empty trace id outside links (as ForEachTraceId gives them).
  explicit SummaryVisitor(RequestSummary* out, std::string* trace_ids = nullptr) : out_(out), trace_ids_(trace_ids) {}

  // Every message of every request passes here, so the visitor keeps a depth and two marks rather than a
  // stack of types: it only needs to know whether it is in a link, and whether a value is a resource
  // attribute's key or string value (Resource > KeyValue > AnyValue, at the resource's depth + 1 and + 2).
  bool Enter(const Field&, const MessageType& type, const uint8_t*, const uint8_t*) {
    ++depth_;
    switch (type.item) {
      case ItemKind::kResource:
        ++out_->resources;
        resource_depth_ = depth_;
        break;
      case ItemKind::kSpan: ++out_->spans; break;
      case ItemKind::kDataPoint: ++out_->data_points; break;
      case ItemKind::kLogRecord: ++out_->log_records; break;
      case ItemKind::kNone:
        if (&type == link_) {
          in_link_ = true;
        } else if (InResourceAttribute(type)) {
          key_ = {};
          string_value_ = {};
          has_string_value_ = false;
        }
        break;
    }
    return true;
  }

  void Leave(const Field&, const MessageType& type) {
    if (InResourceAttribute(type) && has_string_value_ && key_ == "service.name") {
      if (std::find(out_->service_names.begin(), out_->service_names.end(), string_value_) ==
          out_->service_names.end()) {
        out_->service_names.emplace_back(string_value_);
      }
    }
    if (&type == link_) in_link_ = false;
    if (depth_ == resource_depth_) resource_depth_ = 0;
    --depth_;
  }

  void Value(const Field& field, const uint8_t* data, size_t size, uint64_t) {
    if (field.role == FieldRole::kTraceId) {
      // A link's trace id is another trace's: not counted (a link holds no message that holds an id).
      if (trace_ids_ != nullptr && size == 16 && !in_link_) {
        trace_ids_->append(reinterpret_cast<const char*>(data), 16);
      }
      return;
    }
    if (field.role == FieldRole::kTimestamp) {
      uint64_t t = LoadLE64(data);
      if (t != 0) {
        if (out_->min_time_unix_nano == 0 || t < out_->min_time_unix_nano) out_->min_time_unix_nano = t;
        out_->max_time_unix_nano = std::max(out_->max_time_unix_nano, t);
      }
      return;
    }
    if (resource_depth_ == 0) return;
    // Resource > KeyValue: the key. Resource > KeyValue > AnyValue: a string value.
    if (&field == key_field_ && depth_ == resource_depth_ + 1) {
      key_ = std::string_view(reinterpret_cast<const char*>(data), size);
    } else if (&field == string_value_field_ && depth_ == resource_depth_ + 2) {
      string_value_ = std::string_view(reinterpret_cast<const char*>(data), size);
      has_string_value_ = true;
    }
  }

 private:
  // `type`, entered or about to be left at depth_, is one of the resource's attributes.
  bool InResourceAttribute(const MessageType& type) const {
    return resource_depth_ != 0 && depth_ == resource_depth_ + 1 && &type == key_value_;
  }

  RequestSummary* out_;
  std::string* trace_ids_;
  const MessageType* const link_ = &internal::LinkType();
  const MessageType* const key_value_ = &KeyValueType();
  const Field* const key_field_ = FindField(KeyValueType(), 1);            // KeyValue.key
  const Field* const string_value_field_ = FindField(AnyValueType(), 1);   // AnyValue.string_value
  int depth_ = 0;           // messages entered and not left
  int resource_depth_ = 0;  // the Resource's depth while in one, else 0
  bool in_link_ = false;
  std::string_view key_;
  std::string_view string_value_;
  bool has_string_value_ = false;
};


class LocateVisitor {
 public:
  LocateVisitor(const uint8_t* base, FieldLocations* out, LocateMode mode)
      : base_(base), out_(out), trusted_(mode == LocateMode::kTrusted) {}
  bool Enter(const Field&, const MessageType& type, const uint8_t*, const uint8_t*) {
    if (type.item == ItemKind::kSpan || type.item == ItemKind::kDataPoint || type.item == ItemKind::kLogRecord) {
      ++out_->items;
    }
    if (&type == link_) in_link_ = true;
    return !trusted_ || internal::MayHoldLocated(type);
  }
  void Leave(const Field&, const MessageType& type) {
    if (&type == link_) in_link_ = false;
  }
  void Value(const Field& field, const uint8_t* data, size_t size, uint64_t) {
    switch (field.role) {
      case FieldRole::kTimestamp: out_->timestamps.push_back(Offset(data)); break;
      case FieldRole::kTraceId:
        if (size != 0) out_->trace_ids.push_back(Offset(data));
        if (size == 16 && !in_link_) out_->item_trace_ids.push_back(Offset(data));
        break;
      case FieldRole::kSpanId:
        if (size != 0) out_->span_ids.push_back(Offset(data));
        break;
      case FieldRole::kNone: break;
    }
  }

 private:
  uint32_t Offset(const uint8_t* p) const { return static_cast<uint32_t>(p - base_); }
  const uint8_t* base_;
  FieldLocations* out_;
  const bool trusted_;
  const MessageType* const link_ = &internal::LinkType();
  bool in_link_ = false;
};

// Offsets are 32-bit: a request larger than 4 GiB cannot be located (nor accepted anywhere else).
absl::Status CheckSize(std::string_view request) {
  if (request.size() > 0xffffffffu) return absl::InvalidArgumentError("OTLP request larger than 4 GiB");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RequestSummary> Summarize(Signal signal, std::string_view request, std::string* trace_ids) {
  if (absl::Status s = CheckSize(request); !s.ok()) return s;
  RequestSummary summary;
  SummaryVisitor v(&summary, trace_ids);
  const size_t had = trace_ids != nullptr ? trace_ids->size() : 0;
  const uint8_t* p = Bytes(request);
  absl::Status s = internal::Walk(RequestType(signal), p, p + request.size(), p, 0, v);
  if (!s.ok()) {
    if (trace_ids != nullptr) trace_ids->resize(had);
    return s;
  }
  return summary;
}

namespace {

// Counts items and skips their contents, and every message that cannot hold one.
struct ItemCounter {
  uint64_t items = 0;
  bool Enter(const Field&, const MessageType& type, const uint8_t*, const uint8_t*) {
    switch (type.item) {
      case ItemKind::kSpan:
      case ItemKind::kDataPoint:
      case ItemKind::kLogRecord:
        ++items;
        return false;
      case ItemKind::kResource:
        return false;
      case ItemKind::kNone:
        return internal::MayHoldLocated(type);
    }
    return false;
  }
  void Leave(const Field&, const MessageType&) {}
  void Value(const Field&, const uint8_t*, size_t, uint64_t) {}
};

}  // namespace

absl::StatusOr<uint64_t> CountStoredItems(Signal signal, std::string_view request) {
  if (absl::Status s = CheckSize(request); !s.ok()) return s;
  ItemCounter v;
  const uint8_t* p = Bytes(request);
  if (absl::Status s = internal::Walk(RequestType(signal), p, p + request.size(), p, 0, v); !s.ok()) return s;
  return v.items;
}

absl::Status Validate(Signal signal, std::string_view request) {
  if (absl::Status s = CheckSize(request); !s.ok()) return s;
  NullVisitor v;
  const uint8_t* p = Bytes(request);
  return internal::Walk(RequestType(signal), p, p + request.size(), p, 0, v);
}

absl::Status Locate(Signal signal, std::string_view request, FieldLocations* out, LocateMode mode) {
  if (absl::Status s = CheckSize(request); !s.ok()) return s;
  out->clear();
  const uint8_t* p = Bytes(request);
  LocateVisitor v(p, out, mode);
  return internal::Walk(RequestType(signal), p, p + request.size(), p, 0, v);
}

}  // namespace otelrr::otlp
