// OTLP/JSON <-> protobuf, driven by the schema tables.
//
// JSON -> protobuf parses with simdjson's DOM (one parser, reused) and writes protobuf straight into the
// output. Choices worth knowing:
//  - Fields are written in field-number order (as protobuf's own serializers do) whatever the JSON key
//    order, so the bytes are canonical: JsonToProto(ProtoToJson(p)) == p for anything JsonToProto wrote.
//  - A singular field given twice, or several members of one oneof, keep only the last key (as the
//    Collector's decoder does); a repeated field given twice is concatenated.
//  - Nested lengths: one byte is reserved and widened afterwards (proto_writer.h), which moves each
//    level's bytes at most once; the depth is bounded, so the cost stays linear.
//  - Integral doubles are accepted for integer fields only up to 2^53, where they are exact.
//  - Every NaN is written as the quiet NaN, the one that "NaN" reads back as.
//
// Protobuf -> JSON walks one message level at a time with internal::Walk (which validates tag, wire
// type, length, id length and depth), collecting that level's fields, then prints them in schema
// order: repeated fields grouped even if interleaved on the wire, the last value of a scalar, the
// merge of a singular message given twice (walking all its byte ranges as one message is exactly
// protobuf's merge), and only the last-set member of a oneof (overwritten members are still
// validated). Negative zero prints as -0.0: simdjson reads "-0" as the integer 0.
#include "otlp/json.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "common/json_writer.h"
#include "fmt/format.h"
#include "otlp/proto_writer.h"
#include "otlp/wire.h"

namespace otelrr::otlp {
namespace {

namespace dom = simdjson::dom;
using ElementType = dom::element_type;

// JSON nesting simdjson accepts. A message in a repeated field costs two JSON levels (array, object), so
// this admits every document whose message nesting is within kMaxNestingDepth; our own depth check then
// gives the precise error. Deeper documents fail in simdjson, before we look at them.
constexpr size_t kJsonMaxDepth = 2 * kMaxNestingDepth + 8;
constexpr size_t kInitialCapacity = 64 * 1024;

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Value of a hex digit, or -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Value of a base64 digit in the standard or the URL-safe alphabet, or -1.
int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Decoded size of base64 text with or without padding; false when no valid encoding has this shape.
bool Base64DecodedSize(std::string_view text, std::string_view* digits, size_t* size) {
  size_t n = text.size();
  size_t pad = 0;
  while (pad < 2 && n > 0 && text[n - 1] == '=') {
    --n;
    ++pad;
  }
  if (n % 4 == 1) return false;
  if (pad != 0 && (n + pad) % 4 != 0) return false;
  *digits = text.substr(0, n);
  *size = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
  return true;
}

// Appends the bytes of unpadded base64 `digits`; false on a character outside both alphabets. With
// `canonical`, also false when the bits of the last digit that no byte uses (4 after 1 byte of a group,
// 2 after 2) are not zero: encoders always write zeros there, so other digits are not base64 of anything.
bool AppendBase64Decoded(std::string_view digits, std::string* out, bool canonical = false) {
  uint32_t acc = 0;
  int bits = 0;
  for (char c : digits) {
    int v = Base64Value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return !canonical || (acc & ((1u << bits) - 1)) == 0;
}

void AppendBase64(std::string_view bytes, std::string* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size();
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = static_cast<uint32_t>(p[i]) << 16 | static_cast<uint32_t>(p[i + 1]) << 8 | p[i + 2];
    char quad[4] = {kBase64Alphabet[v >> 18], kBase64Alphabet[(v >> 12) & 63], kBase64Alphabet[(v >> 6) & 63],
                    kBase64Alphabet[v & 63]};
    out->append(quad, 4);
  }
  if (n - i == 1) {
    uint32_t v = static_cast<uint32_t>(p[i]) << 16;
    char quad[4] = {kBase64Alphabet[v >> 18], kBase64Alphabet[(v >> 12) & 63], '=', '='};
    out->append(quad, 4);
  } else if (n - i == 2) {
    uint32_t v = static_cast<uint32_t>(p[i]) << 16 | static_cast<uint32_t>(p[i + 1]) << 8;
    char quad[4] = {kBase64Alphabet[v >> 18], kBase64Alphabet[(v >> 12) & 63], kBase64Alphabet[(v >> 6) & 63],
                    '='};
    out->append(quad, 4);
  }
}

template <typename T>
bool ParseDecimal(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Integral doubles up to 2^53 are taken as integers: within that range the double is the number written.
constexpr double kLargestExactInteger = 9007199254740992.0;

bool IntegralDouble(double d) { return std::fabs(d) <= kLargestExactInteger && d == std::trunc(d); }

bool ElementToInt64(dom::element v, int64_t* out) {
  switch (v.type()) {
    case ElementType::INT64: *out = v.get_int64().value_unsafe(); return true;
    case ElementType::DOUBLE: {
      double d = v.get_double().value_unsafe();
      if (!IntegralDouble(d)) return false;
      *out = static_cast<int64_t>(d);
      return true;
    }
    case ElementType::STRING: return ParseDecimal(v.get_string().value_unsafe(), out);
    default: return false;  // UINT64 is above INT64_MAX by construction
  }
}

bool ElementToUint64(dom::element v, uint64_t* out) {
  switch (v.type()) {
    case ElementType::UINT64: *out = v.get_uint64().value_unsafe(); return true;
    case ElementType::INT64: {
      int64_t i = v.get_int64().value_unsafe();
      if (i < 0) return false;
      *out = static_cast<uint64_t>(i);
      return true;
    }
    case ElementType::DOUBLE: {
      double d = v.get_double().value_unsafe();
      if (!IntegralDouble(d) || d < 0) return false;
      *out = static_cast<uint64_t>(d);
      return true;
    }
    case ElementType::STRING: return ParseDecimal(v.get_string().value_unsafe(), out);
    default: return false;
  }
}

bool ElementToDouble(dom::element v, double* out) {
  switch (v.type()) {
    case ElementType::DOUBLE: *out = v.get_double().value_unsafe(); return true;
    case ElementType::INT64: *out = static_cast<double>(v.get_int64().value_unsafe()); return true;
    case ElementType::UINT64: *out = static_cast<double>(v.get_uint64().value_unsafe()); return true;
    case ElementType::STRING: {
      std::string_view s = v.get_string().value_unsafe();
      if (s == "NaN") {
        *out = std::numeric_limits<double>::quiet_NaN();
        return true;
      }
      if (s == "Infinity" || s == "-Infinity") {
        *out = s[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
        return true;
      }
      // One NaN: all NaNs print as "NaN", so any other bit pattern would not survive a round trip.
      if (!ParseDecimal(s, out)) return false;
      if (std::isnan(*out)) *out = std::numeric_limits<double>::quiet_NaN();
      return true;
    }
    default: return false;
  }
}

std::string_view ShortName(std::string_view full_name) { return full_name.substr(full_name.rfind('.') + 1); }

// A JSON value as an error message shows it: strings quoted and cut short, containers by kind.
std::string Describe(dom::element v) {
  switch (v.type()) {
    case ElementType::STRING: {
      constexpr size_t kMaxShown = 48;
      std::string_view s = v.get_string().value_unsafe();
      std::string quoted;
      JsonWriter::AppendQuoted(&quoted, s.substr(0, kMaxShown));
      if (s.size() > kMaxShown) quoted.insert(quoted.size() - 1, "...");
      return quoted;
    }
    case ElementType::INT64: return fmt::format("{}", v.get_int64().value_unsafe());
    case ElementType::UINT64: return fmt::format("{}", v.get_uint64().value_unsafe());
    case ElementType::DOUBLE: return fmt::format("{}", v.get_double().value_unsafe());
    case ElementType::BOOL: return v.get_bool().value_unsafe() ? "true" : "false";
    case ElementType::NULL_VALUE: return "null";
    case ElementType::ARRAY: return "an array";
    case ElementType::OBJECT: return "an object";
  }
  return "a value";
}

std::string_view Expected(const Field& field) {
  switch (field.type) {
    case FieldType::kMessage: return "an object";
    case FieldType::kString: return "a string";
    case FieldType::kBytes: return "a base64 string";
    case FieldType::kBool: return "true or false";
    case FieldType::kInt32:
    case FieldType::kSint32: return "a signed 32-bit integer";
    case FieldType::kUint32:
    case FieldType::kFixed32: return "an unsigned 32-bit integer";
    case FieldType::kInt64:
    case FieldType::kSfixed64: return "a signed 64-bit integer (string or number)";
    case FieldType::kUint64:
    case FieldType::kFixed64: return "an unsigned 64-bit integer (string or number)";
    case FieldType::kDouble: return "a number (or \"NaN\", \"Infinity\", \"-Infinity\")";
    case FieldType::kEnum: return "an enum value (integer or name)";
  }
  return "a value";
}

// Messages whose explicit-presence fields are all members of one oneof: AnyValue.value, Metric.data,
// and the value of NumberDataPoint and Exemplar. (The histograms' sum/min/max are independent
// `optional` fields.) The schema does not record oneofs, so this names them.
bool IsOneofMessage(const MessageType& type) {
  static const std::array<const MessageType*, 4> kOneofMessages = [] {
    std::array<const MessageType*, 4> found{};
    size_t n = 0;
    for (const MessageType* m : AllMessageTypes()) {
      if (m->full_name == "opentelemetry.proto.common.v1.AnyValue" ||
          m->full_name == "opentelemetry.proto.metrics.v1.Metric" ||
          m->full_name == "opentelemetry.proto.metrics.v1.NumberDataPoint" ||
          m->full_name == "opentelemetry.proto.metrics.v1.Exemplar") {
        if (n < found.size()) found[n++] = m;
      }
    }
    return found;
  }();
  return std::find(kOneofMessages.begin(), kOneofMessages.end(), &type) != kOneofMessages.end();
}

size_t IdSize(const Field& field) { return field.role == FieldRole::kTraceId ? 16 : 8; }
bool IsId(const Field& field) { return field.role == FieldRole::kTraceId || field.role == FieldRole::kSpanId; }

// ---------------------------------------------------------------------------------------------------
// JSON -> protobuf

class ProtoEncoder {
 public:
  absl::Status Encode(const MessageType& type, dom::element root, std::string* out) {
    out_ = out;
    members_.clear();
    path_.clear();
    if (root.type() != ElementType::OBJECT) {
      return absl::InvalidArgumentError(
          fmt::format("expected a JSON object at the top level, got {}", Describe(root)));
    }
    return Message(type, root.get_object().value_unsafe(), 0);
  }

 private:
  struct Member {
    const Field* field;
    std::string_view key;
    dom::element value;
  };
  struct PathElement {
    std::string_view key;
    int64_t index;
  };

  absl::Status Error(std::string_view what) const {
    std::string path;
    for (const PathElement& e : path_) {
      if (!path.empty()) path.push_back('.');
      path.append(e.key);
      if (e.index >= 0) fmt::format_to(std::back_inserter(path), "[{}]", e.index);
    }
    if (path.empty()) return absl::InvalidArgumentError(std::string(what));
    return absl::InvalidArgumentError(fmt::format("{}: {}", path, what));
  }

  absl::Status TypeError(const Field& field, dom::element v) const {
    return Error(fmt::format("expected {}, got {}", Expected(field), Describe(v)));
  }

  absl::Status Message(const MessageType& type, dom::object object, int depth) {
    if (depth > kMaxNestingDepth) {
      return Error(fmt::format("messages nested more than {} deep", kMaxNestingDepth));
    }
    size_t first = members_.size();
    bool oneof = IsOneofMessage(type);
    const Field* oneof_winner = nullptr;
    for (dom::key_value_pair kv : object) {
      if (kv.value.is_null()) continue;
      const Field* field = FindFieldByJsonKey(type, kv.key);
      if (field == nullptr) continue;
      if (oneof && field->explicit_presence) oneof_winner = field;
      members_.push_back({field, kv.key, kv.value});
    }
    // Fields go out in field-number order, as protobuf's serializers write them, so equal messages give
    // equal bytes whatever the JSON key order. The sort is stable, so a field given twice (as "traceId"
    // and "trace_id", say) keeps its key order, and its entries end up next to each other.
    auto by_number = [](const Member& a, const Member& b) { return a.field->number < b.field->number; };
    auto begin = members_.begin() + static_cast<ptrdiff_t>(first);
    if (!std::is_sorted(begin, members_.end(), by_number)) std::stable_sort(begin, members_.end(), by_number);

    size_t last = members_.size();
    absl::Status status;
    for (size_t i = first; i < last && status.ok(); ++i) {
      Member m = members_[i];  // by value: nested messages push onto members_
      // A singular field given twice, or several members of a oneof: the last key wins, as in the
      // Collector's decoder. Writing only that one keeps the protobuf canonical (JSON -> protobuf ->
      // JSON -> protobuf gives the same bytes). Repeated fields given twice are concatenated.
      if (!m.field->repeated && i + 1 < last && members_[i + 1].field == m.field) continue;
      if (oneof && m.field->explicit_presence && m.field != oneof_winner) continue;
      path_.push_back({m.key, -1});
      status = FieldValue(*m.field, m.value, depth);
      path_.pop_back();
    }
    members_.resize(first);
    return status;
  }

  absl::Status FieldValue(const Field& field, dom::element v, int depth) {
    if (!field.repeated) return Singular(field, v, depth, field.explicit_presence);
    if (v.type() != ElementType::ARRAY) {
      return Error(fmt::format("expected an array, got {}", Describe(v)));
    }
    dom::array array = v.get_array().value_unsafe();
    size_t mark = out_->size();
    int64_t index = 0;
    if (IsPackable(field.type)) {
      AppendTag(out_, field.number, WireType::kLen);
      size_t prefix = BeginLengthDelimited(out_);
      size_t contents = out_->size();
      for (dom::element e : array) {
        path_.back().index = index++;
        uint64_t bits;
        if (absl::Status s = Numeric(field, e, &bits); !s.ok()) return s;
        AppendNumeric(field, bits);
      }
      if (out_->size() == contents) {
        out_->resize(mark);  // an empty array is an absent field
      } else {
        EndLengthDelimited(out_, prefix);
      }
    } else {
      for (dom::element e : array) {
        path_.back().index = index++;
        if (field.type == FieldType::kMessage && e.is_null()) {
          // The Collector's decoder reads a null element as an empty message.
          AppendTag(out_, field.number, WireType::kLen);
          out_->push_back('\0');
          continue;
        }
        if (absl::Status s = Singular(field, e, depth, /*always=*/true); !s.ok()) return s;
      }
    }
    path_.back().index = -1;
    return absl::OkStatus();
  }

  // `always`: write the field even at its default value (explicit presence, or an array element).
  absl::Status Singular(const Field& field, dom::element v, int depth, bool always) {
    switch (field.type) {
      case FieldType::kMessage: {
        if (v.type() != ElementType::OBJECT) return TypeError(field, v);
        AppendTag(out_, field.number, WireType::kLen);
        size_t prefix = BeginLengthDelimited(out_);
        if (absl::Status s = Message(*field.message, v.get_object().value_unsafe(), depth + 1); !s.ok()) return s;
        EndLengthDelimited(out_, prefix);
        return absl::OkStatus();
      }
      case FieldType::kString: {
        if (v.type() != ElementType::STRING) return TypeError(field, v);
        std::string_view s = v.get_string().value_unsafe();
        if (s.empty() && !always) return absl::OkStatus();
        AppendTag(out_, field.number, WireType::kLen);
        AppendVarint(out_, s.size());
        out_->append(s);
        return absl::OkStatus();
      }
      case FieldType::kBytes:
        if (IsId(field)) return Id(field, v);
        return Base64(field, v, always);
      default: {
        uint64_t bits;
        if (absl::Status s = Numeric(field, v, &bits); !s.ok()) return s;
        if (bits == 0 && !always) return absl::OkStatus();
        AppendTag(out_, field.number, NaturalWireType(field.type));
        AppendNumeric(field, bits);
        return absl::OkStatus();
      }
    }
  }

  // OTLP/JSON writes trace and span ids as hex, but protobuf's generic JSON mapping (which real producers
  // use) writes them as base64, so both are read. The hex length (32 or 16) is never a length of the
  // base64 of 16 or 8 bytes (22-24 or 11-12), so the length says which one the text is. Base64 must be
  // canonical: its last digit carries 4 (16 bytes) or 2 (8 bytes) unused bits, which must be zero, so
  // that words that merely fit the alphabet (fluent-bit's "invalid-hex" span id) are refused.
  absl::Status Id(const Field& field, dom::element v) {
    size_t size = IdSize(field);
    if (v.type() != ElementType::STRING) {
      return Error(fmt::format("expected a hex or base64 string, got {}", Describe(v)));
    }
    std::string_view text = v.get_string().value_unsafe();
    if (text.empty()) return absl::OkStatus();  // no id
    // Written before the text is checked: on error the caller drops the whole output.
    AppendTag(out_, field.number, WireType::kLen);
    AppendVarint(out_, size);
    bool ok;
    if (text.size() == 2 * size) {
      ok = true;
      for (size_t i = 0; ok && i < size; ++i) {
        int high = HexValue(text[2 * i]);
        int low = HexValue(text[2 * i + 1]);
        ok = high >= 0 && low >= 0;
        if (ok) out_->push_back(static_cast<char>(high << 4 | low));
      }
    } else {
      std::string_view digits;
      size_t decoded = 0;
      ok = Base64DecodedSize(text, &digits, &decoded) && decoded == size &&
           AppendBase64Decoded(digits, out_, /*canonical=*/true);
    }
    if (!ok) {
      return Error(fmt::format("expected {} hex digits or the base64 of {} bytes, got {}", 2 * size, size, Describe(v)));
    }
    return absl::OkStatus();
  }

  absl::Status Base64(const Field& field, dom::element v, bool always) {
    if (v.type() != ElementType::STRING) return TypeError(field, v);
    std::string_view text = v.get_string().value_unsafe();
    std::string_view digits;
    size_t size;
    if (!Base64DecodedSize(text, &digits, &size)) {
      return Error(fmt::format("{} is not valid base64", Describe(v)));
    }
    if (size == 0 && !always) return absl::OkStatus();
    AppendTag(out_, field.number, WireType::kLen);
    AppendVarint(out_, size);
    if (!AppendBase64Decoded(digits, out_)) return Error(fmt::format("{} is not valid base64", Describe(v)));
    return absl::OkStatus();
  }

  // Parses a numeric, bool or enum value into the 64 bits its wire form carries (sign-extended for
  // int32 and enums, zigzag for sint32, IEEE bits for doubles). Zero bits are the default value.
  absl::Status Numeric(const Field& field, dom::element v, uint64_t* bits) {
    switch (field.type) {
      case FieldType::kBool:
        if (v.type() != ElementType::BOOL) return TypeError(field, v);
        *bits = v.get_bool().value_unsafe() ? 1 : 0;
        return absl::OkStatus();
      case FieldType::kEnum:
        if (v.type() == ElementType::STRING) {
          std::string_view name = v.get_string().value_unsafe();
          for (const EnumValue& e : field.enum_type->values) {
            if (e.name == name) {
              *bits = static_cast<uint64_t>(static_cast<int64_t>(e.number));
              return absl::OkStatus();
            }
          }
          return Error(fmt::format("unknown {} value {}", ShortName(field.enum_type->full_name), Describe(v)));
        }
        [[fallthrough]];
      case FieldType::kInt32:
      case FieldType::kSint32: {
        int64_t i;
        if (!ElementToInt64(v, &i) || i < std::numeric_limits<int32_t>::min() ||
            i > std::numeric_limits<int32_t>::max()) {
          return TypeError(field, v);
        }
        if (field.type == FieldType::kSint32) {
          auto u = static_cast<uint32_t>(i);
          *bits = (u << 1) ^ static_cast<uint32_t>(static_cast<int32_t>(i) >> 31);
        } else {
          *bits = static_cast<uint64_t>(i);
        }
        return absl::OkStatus();
      }
      case FieldType::kUint32:
      case FieldType::kFixed32: {
        uint64_t u;
        if (!ElementToUint64(v, &u) || u > std::numeric_limits<uint32_t>::max()) return TypeError(field, v);
        *bits = u;
        return absl::OkStatus();
      }
      case FieldType::kInt64:
      case FieldType::kSfixed64: {
        int64_t i;
        if (!ElementToInt64(v, &i)) return TypeError(field, v);
        *bits = static_cast<uint64_t>(i);
        return absl::OkStatus();
      }
      case FieldType::kUint64:
      case FieldType::kFixed64:
        if (!ElementToUint64(v, bits)) return TypeError(field, v);
        return absl::OkStatus();
      case FieldType::kDouble: {
        double d;
        if (!ElementToDouble(v, &d)) return TypeError(field, v);
        *bits = std::bit_cast<uint64_t>(d);
        return absl::OkStatus();
      }
      case FieldType::kMessage:
      case FieldType::kString:
      case FieldType::kBytes: break;
    }
    return TypeError(field, v);
  }

  void AppendNumeric(const Field& field, uint64_t bits) {
    switch (NaturalWireType(field.type)) {
      case WireType::kFixed64: AppendFixed64(out_, bits); break;
      case WireType::kFixed32: AppendFixed32(out_, static_cast<uint32_t>(bits)); break;
      default: AppendVarint(out_, bits); break;
    }
  }

  std::string* out_ = nullptr;
  std::vector<Member> members_;  // a stack: each open object's fields above its parent's
  std::vector<PathElement> path_;
};

// ---------------------------------------------------------------------------------------------------
// protobuf -> JSON

// One field occurrence on the wire, as the walker reports it.
struct Occurrence {
  const Field* field;
  const uint8_t* data;
  size_t size;
  uint64_t varint;
};

struct Range {
  const uint8_t* begin;
  const uint8_t* end;
};

// Collects one message level: nested messages are recorded, not entered.
struct ShallowVisitor {
  std::vector<Occurrence>* occurrences;
  bool Enter(const Field& field, const MessageType&, const uint8_t* begin, const uint8_t* end) {
    occurrences->push_back({&field, begin, static_cast<size_t>(end - begin), 0});
    return false;
  }
  void Leave(const Field&, const MessageType&) {}
  void Value(const Field& field, const uint8_t* data, size_t size, uint64_t varint) {
    occurrences->push_back({&field, data, size, varint});
  }
};

struct ValidatingVisitor {
  bool Enter(const Field&, const MessageType&, const uint8_t*, const uint8_t*) { return true; }
  void Leave(const Field&, const MessageType&) {}
  void Value(const Field&, const uint8_t*, size_t, uint64_t) {}
};

bool IsDefault(const Field& field, const Occurrence& o) {
  switch (field.type) {
    case FieldType::kString:
    case FieldType::kBytes:
    case FieldType::kMessage: return o.size == 0;
    case FieldType::kBool:
    case FieldType::kInt64:
    case FieldType::kUint64: return o.varint == 0;
    case FieldType::kInt32:
    case FieldType::kUint32:
    case FieldType::kSint32:
    case FieldType::kEnum: return static_cast<uint32_t>(o.varint) == 0;
    case FieldType::kFixed32: return LoadLE32(o.data) == 0;
    case FieldType::kFixed64:
    case FieldType::kSfixed64:
    case FieldType::kDouble: return LoadLE64(o.data) == 0;  // bits: -0.0 is not the default
  }
  return false;
}

class JsonEncoder {
 public:
  absl::Status Encode(const MessageType& type, std::string_view proto, std::string* out) {
    out_ = out;
    occurrences_.clear();
    base_ = reinterpret_cast<const uint8_t*>(proto.data());
    Range whole{base_, base_ + proto.size()};
    return Message(type, std::span<const Range>(&whole, 1), 0);
  }

 private:
  // Writes the message made of `ranges` (more than one when a singular message field repeats on the
  // wire: protobuf merges them, which is what walking them one after another into one field list does).
  absl::Status Message(const MessageType& type, std::span<const Range> ranges, int depth) {
    size_t first = occurrences_.size();
    for (const Range& r : ranges) {
      ShallowVisitor v{&occurrences_};
      if (absl::Status s = internal::Walk(type, r.begin, r.end, base_, depth, v); !s.ok()) {
        occurrences_.resize(first);
        return s;
      }
    }
    size_t last = occurrences_.size();

    // A oneof keeps the member set last; members seen before it are overwritten (protobuf semantics).
    const Field* winner = nullptr;
    size_t winner_from = first;
    if (IsOneofMessage(type)) {
      for (size_t i = first; i < last; ++i) {
        if (occurrences_[i].field->explicit_presence) winner = occurrences_[i].field;
      }
      for (size_t i = first; i < last; ++i) {
        const Field* f = occurrences_[i].field;
        if (f->explicit_presence && f != winner) winner_from = i + 1;
      }
      // Overwritten message members are not printed but must still be well-formed.
      for (size_t i = first; i < last; ++i) {
        Occurrence o = occurrences_[i];
        if (o.field->explicit_presence && o.field->type == FieldType::kMessage &&
            (o.field != winner || i < winner_from)) {
          ValidatingVisitor v;
          absl::Status s = internal::Walk(*o.field->message, o.data, o.data + o.size, base_, depth + 1, v);
          if (!s.ok()) {
            occurrences_.resize(first);
            return s;
          }
        }
      }
    }

    out_->push_back('{');
    bool first_key = true;
    absl::Status status;
    for (const Field& field : type.fields) {
      size_t from = first;
      if (winner != nullptr && field.explicit_presence) {
        if (&field != winner) continue;
        from = winner_from;
      }
      status = FieldValue(field, from, last, depth, &first_key);
      if (!status.ok()) break;
    }
    out_->push_back('}');
    occurrences_.resize(first);
    return status;
  }

  void Key(const Field& field, bool* first_key) {
    if (!*first_key) out_->push_back(',');
    *first_key = false;
    out_->push_back('"');
    out_->append(field.json_name);
    out_->append("\":");
  }

  absl::Status FieldValue(const Field& field, size_t from, size_t last, int depth, bool* first_key) {
    size_t count = 0;
    size_t last_index = 0;
    for (size_t i = from; i < last; ++i) {
      if (occurrences_[i].field == &field) {
        ++count;
        last_index = i;
      }
    }
    if (count == 0) return absl::OkStatus();

    if (field.repeated) {
      Key(field, first_key);
      out_->push_back('[');
      bool first_element = true;
      for (size_t i = from; i < last; ++i) {
        Occurrence o = occurrences_[i];  // by value: nested messages push onto occurrences_
        if (o.field != &field) continue;
        if (!first_element) out_->push_back(',');
        first_element = false;
        if (field.type == FieldType::kMessage) {
          Range r{o.data, o.data + o.size};
          if (absl::Status s = Message(*field.message, std::span<const Range>(&r, 1), depth + 1); !s.ok()) {
            return s;
          }
        } else {
          Scalar(field, o);
        }
      }
      out_->push_back(']');
      return absl::OkStatus();
    }

    if (field.type == FieldType::kMessage) {
      Key(field, first_key);
      if (count == 1) {
        const Occurrence& o = occurrences_[last_index];
        Range r{o.data, o.data + o.size};
        return Message(*field.message, std::span<const Range>(&r, 1), depth + 1);
      }
      std::vector<Range> ranges;  // rare: a singular message split on the wire
      ranges.reserve(count);
      for (size_t i = from; i < last; ++i) {
        const Occurrence& o = occurrences_[i];
        if (o.field == &field) ranges.push_back({o.data, o.data + o.size});
      }
      return Message(*field.message, ranges, depth + 1);
    }

    // A scalar given more than once: the last value wins, as when protobuf parses it.
    const Occurrence o = occurrences_[last_index];
    if (!field.explicit_presence && IsDefault(field, o)) return absl::OkStatus();
    Key(field, first_key);
    Scalar(field, o);
    return absl::OkStatus();
  }

  void Number(auto value, bool quoted) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, value);
    if (quoted) out_->push_back('"');
    out_->append(buf, r.ptr);
    if (quoted) out_->push_back('"');
  }

  void Scalar(const Field& field, const Occurrence& o) {
    switch (field.type) {
      case FieldType::kString:
        JsonWriter::AppendQuoted(out_, std::string_view(reinterpret_cast<const char*>(o.data), o.size));
        return;
      case FieldType::kBytes:
        out_->push_back('"');
        if (IsId(field)) {
          for (size_t i = 0; i < o.size; ++i) {
            out_->push_back(kHexDigits[o.data[i] >> 4]);
            out_->push_back(kHexDigits[o.data[i] & 15]);
          }
        } else {
          AppendBase64(std::string_view(reinterpret_cast<const char*>(o.data), o.size), out_);
        }
        out_->push_back('"');
        return;
      case FieldType::kBool: out_->append(o.varint != 0 ? "true" : "false"); return;
      case FieldType::kInt32:
      case FieldType::kEnum: Number(static_cast<int32_t>(static_cast<uint32_t>(o.varint)), false); return;
      case FieldType::kSint32: {
        auto u = static_cast<uint32_t>(o.varint);
        Number(static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1)), false);
        return;
      }
      case FieldType::kUint32: Number(static_cast<uint32_t>(o.varint), false); return;
      case FieldType::kFixed32: Number(LoadLE32(o.data), false); return;
      case FieldType::kInt64: Number(static_cast<int64_t>(o.varint), true); return;
      case FieldType::kUint64: Number(o.varint, true); return;
      case FieldType::kFixed64: Number(LoadLE64(o.data), true); return;
      case FieldType::kSfixed64: Number(static_cast<int64_t>(LoadLE64(o.data)), true); return;
      case FieldType::kDouble: {
        JsonWriter::AppendDouble(out_, std::bit_cast<double>(LoadLE64(o.data)));
        return;
      }
      case FieldType::kMessage: return;  // handled by the caller
    }
  }

  std::string* out_ = nullptr;
  const uint8_t* base_ = nullptr;
  std::vector<Occurrence> occurrences_;  // a stack: each open message's fields above its parent's
};

}  // namespace

struct JsonCodec::Impl {
  dom::parser parser;
  ProtoEncoder proto_encoder;
  JsonEncoder json_encoder;
  simdjson::error_code allocate_error = simdjson::SUCCESS;

  Impl() { allocate_error = parser.allocate(kInitialCapacity, kJsonMaxDepth); }
};

namespace {

// Copies `json` with ".0" after every integer literal of 20 or more digits, outside strings, so that the
// parser reads it as a double. False when there is none.
bool WidenBigIntegers(std::string_view json, std::string* out) {
  bool changed = false;
  bool in_string = false;
  out->clear();
  out->reserve(json.size() + 16);
  size_t i = 0;
  while (i < json.size()) {
    char c = json[i];
    if (in_string) {
      out->push_back(c);
      if (c == '\\' && i + 1 < json.size()) {
        out->push_back(json[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out->push_back(c);
      ++i;
      continue;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = i;
      if (c == '-') ++i;
      size_t digits_start = i;
      while (i < json.size() && json[i] >= '0' && json[i] <= '9') ++i;
      size_t digits = i - digits_start;
      bool plain_integer = i >= json.size() || (json[i] != '.' && json[i] != 'e' && json[i] != 'E');
      out->append(json.substr(start, i - start));
      if (plain_integer && digits >= 20) {
        out->append(".0");
        changed = true;
      }
      continue;
    }
    out->push_back(c);
    ++i;
  }
  return changed;
}

}  // namespace

JsonCodec::JsonCodec() : impl_(std::make_unique<Impl>()) {}
JsonCodec::~JsonCodec() = default;

absl::Status JsonCodec::JsonToProto(Signal signal, std::string_view json, std::string* out) {
  return JsonToProto(RequestType(signal), json, out);
}

absl::Status JsonCodec::JsonToProto(const MessageType& type, std::string_view json, std::string* out) {
  if (impl_->allocate_error != simdjson::SUCCESS) {
    return absl::ResourceExhaustedError(
        fmt::format("cannot allocate the JSON parser: {}", simdjson::error_message(impl_->allocate_error)));
  }
  if (json.empty()) return absl::InvalidArgumentError("invalid JSON: the input is empty");
  dom::element root;
  simdjson::error_code e = impl_->parser.parse(json.data(), json.size()).get(root);
  std::string widened;
  if (e == simdjson::NUMBER_ERROR && WidenBigIntegers(json, &widened)) {
    // Integers wider than 64 bits (JavaScript writes large doubles that way) are read as doubles.
    e = impl_->parser.parse(widened.data(), widened.size()).get(root);
  }
  if (e != simdjson::SUCCESS) {
    if (e == simdjson::DEPTH_ERROR) {
      return absl::InvalidArgumentError(fmt::format("invalid OTLP/JSON: nested more than {} levels deep", kJsonMaxDepth));
    }
    return absl::InvalidArgumentError(fmt::format("invalid JSON: {}", simdjson::error_message(e)));
  }
  size_t start = out->size();
  absl::Status s = impl_->proto_encoder.Encode(type, root, out);
  if (!s.ok()) out->resize(start);
  return s;
}

absl::Status JsonCodec::ProtoToJson(Signal signal, std::string_view proto, std::string* out) {
  return ProtoToJson(RequestType(signal), proto, out);
}

absl::Status JsonCodec::ProtoToJson(const MessageType& type, std::string_view proto, std::string* out) {
  size_t start = out->size();
  absl::Status s = impl_->json_encoder.Encode(type, proto, out);
  if (!s.ok()) out->resize(start);
  return s;
}

}  // namespace otelrr::otlp
